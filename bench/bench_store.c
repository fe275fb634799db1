#include "bench_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "host/os_rng.h"
#include "host/store_dir.h"
#include "host/store_sqlite.h"
#include "host/store_vss.h"
#include "store/kv.h"

/* Enough writes for a stable p99, bounded in time for the slow backends. */
#define WRITES_MAX   400
#define WRITES_MIN   50
#define SECONDS_EACH 2.0

struct target {
	const char *name;
	const al_kv_backend *be;
	void *ctx;
};

static uint8_t value[64 << 10];
static _Alignas(16) uint8_t scratch_mem[512 << 10];

static void run_size(const struct target *t, const al_rng *rng, size_t len, const char *size_name)
{
	static const uint8_t seed[32] = {0xbe, 0x4c};
	double lat[WRITES_MAX], start, t0, t1;
	char key[32], name[96];
	al_arena scratch;
	al_kv kv;
	size_t n = 0;
	al_err err;

	al_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
	err = al_kv_init(&kv, t->be, t->ctx, &scratch, rng, seed, sizeof(seed), 0);
	if (err != AL_OK)
		bench_fail(t->name, al_err_str(err));
	start = bench_now();
	while (n < WRITES_MAX && (n < WRITES_MIN || bench_now() - start < SECONDS_EACH)) {
		snprintf(key, sizeof(key), "%s-%zu", size_name, n % 64);
		value[0] = (uint8_t)n;
		t0 = bench_now();
		err = al_kv_put(&kv, "bench", key, value, len, AL_KV_ANY);
		t1 = bench_now();
		if (err != AL_OK)
			bench_fail(t->name, al_err_str(err));
		lat[n++] = (t1 - t0) * 1e3;
	}
	snprintf(name, sizeof(name), "store_%s_%s_writes_per_s", t->name, size_name);
	bench_put(name, (double)n / (bench_now() - start));
	snprintf(name, sizeof(name), "store_%s_%s_p50_ms", t->name, size_name);
	bench_put(name, bench_percentile(lat, n, 50));
	snprintf(name, sizeof(name), "store_%s_%s_p99_ms", t->name, size_name);
	bench_put(name, bench_percentile(lat, n, 99));
	al_kv_clear(&kv);
}

static void run_target(const struct target *t, const al_rng *rng)
{
	run_size(t, rng, 1 << 10, "1k");
	run_size(t, rng, 64 << 10, "64k");
}

/* alight-store at the URL in `env`, if set; otherwise the figure says why it is absent. */
static void run_vss(const char *name, const char *env, const al_rng *rng)
{
	const char *url = getenv(env);
	al_store_vss_config cfg = {0};
	al_privkey key;
	al_store_vss *s;
	char label[96];
	al_err err;

	if (!url || !url[0]) {
		snprintf(label, sizeof(label), "store_%s", name);
		bench_put_str(label, "not measured: run scripts/bench to start alight-store");
		return;
	}
	if (al_rng_fill(rng, key.k, sizeof(key.k)) != AL_OK)
		bench_fail("randomness", NULL);
	cfg.url = url;
	cfg.store_id = name;
	cfg.auth_key = &key;
	err = al_store_vss_open(&s, &cfg);
	al_privkey_clear(&key);
	if (err != AL_OK)
		bench_fail(name, al_err_str(err));
	run_target(&(struct target){name, &al_store_vss_backend, s}, rng);
	al_store_vss_close(s);
}

void bench_store(void)
{
	char base[] = "/tmp/alight-bench-store-XXXXXX", path[96], cmd[128];
	al_store_sqlite *sql;
	al_store_dir *dir;
	al_rng rng;

	al_os_rng(&rng);
	memset(value, 0xa5, sizeof(value));
	if (!mkdtemp(base))
		bench_fail("mkdtemp", NULL);
	snprintf(path, sizeof(path), "%s/dir", base);
	if (al_store_dir_open(&dir, path) != AL_OK)
		bench_fail("cannot open the directory store", path);
	run_target(&(struct target){"dir", &al_store_dir_backend, dir}, &rng);
	al_store_dir_close(dir);
	snprintf(path, sizeof(path), "%s/store.db", base);
	if (al_store_sqlite_open(&sql, path) != AL_OK)
		bench_fail("cannot open the SQLite store", path);
	run_target(&(struct target){"sqlite", &al_store_sqlite_backend, sql}, &rng);
	al_store_sqlite_close(sql);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "alight-bench: could not remove %s\n", base);
	run_vss("alight_store_sqlite", "ALIGHT_BENCH_VSS_SQLITE", &rng);
	run_vss("alight_store_postgres", "ALIGHT_BENCH_VSS_PG", &rng);
}
