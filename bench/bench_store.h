#ifndef ALIGHT_BENCH_STORE_H
#define ALIGHT_BENCH_STORE_H

/* Group "store": encrypted writes (al_kv_put, sealed, durable when it returns) of 1 KiB
 * and 64 KiB values against the local directory, SQLite, and alight-store over SQLite
 * and over PostgreSQL (URLs in ALIGHT_BENCH_VSS_SQLITE and ALIGHT_BENCH_VSS_PG, which
 * scripts/bench sets): writes per second and p50/p99 latency. */
void bench_store(void);

#endif
