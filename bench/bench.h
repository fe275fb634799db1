/* alight-bench's shared harness: timing, and one JSON object that every group adds to.
 *
 * Each group (bench_core.c's table) measures one area and records its figures with
 * bench_put; main prints them all as one JSON object. A benchmark asserts nothing
 * about speed: it fails (exit 1, with the reason on stderr) only when an operation
 * returns an error or a service it measures is unreachable. */
#ifndef ALIGHT_BENCH_H
#define ALIGHT_BENCH_H

#include <stddef.h>

#include "crypto/secp.h"

#define BENCH_MIN_SECONDS 0.3
#define BENCH_ROUNDS      3

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* Run `op` in batches until BENCH_MIN_SECONDS pass; operations per second, best of
 * BENCH_ROUNDS. `op` returns 0 on success; a failure ends the program. */
double bench_rate(int (*op)(void *arg), void *arg, long batch);
typedef double (*bench_rate_fn)(int (*op)(void *arg), void *arg, long batch);

/* Record a figure (key is a JSON member name, e.g. "store_dir_1k_writes_per_s"). */
void bench_put(const char *key, double value);
void bench_put_str(const char *key, const char *value);
/* Report a failure on stderr and exit 1. */
_Noreturn void bench_fail(const char *what, const char *detail);

/* The p-th percentile (0..100) of n samples, which it sorts in place. */
double bench_percentile(double *samples, size_t n, double p);

/* A secp256k1 context for the whole run. */
const al_secp *bench_secp(void);

#endif
