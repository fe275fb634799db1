/* Replication over two real stores, a directory and an SQLite database: the operator
 * of one rolls it back (the whole store, or a single object), corrupts it, or loses a
 * write; the node reports that replica and keeps the newer state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crypto/rng.h"
#include "host/os_rng.h"
#include "host/store_dir.h"
#include "host/store_sqlite.h"
#include "store/replica.h"
#include "test.h"
#include "util/hex.h"

#define A    0 /* the directory replica */
#define B    1 /* the SQLite replica */
#define V(s) ((const uint8_t *)(s))

/* A backend that forwards to a real one, and can be told to lose its writes: the
 * operator's outage, not the thing under test. */
struct flaky {
	const al_kv_backend *be;
	void *ctx;
	bool down;
};

static al_err f_get(void *c, const uint8_t n[32], uint8_t *b, size_t cap, size_t *len, int64_t *v)
{
	struct flaky *f = c;
	return f->be->get(f->ctx, n, b, cap, len, v);
}
static al_err f_put(void *c, const al_kv_bitem *it, size_t n, int64_t g)
{
	struct flaky *f = c;
	return f->down ? AL_E_STORE_BACKEND : f->be->put_batch(f->ctx, it, n, g);
}
static al_err f_del(void *c, const uint8_t n[32], int64_t v)
{
	struct flaky *f = c;
	return f->down ? AL_E_STORE_BACKEND : f->be->del(f->ctx, n, v);
}
static al_err f_list(void *c, const uint8_t *p, size_t pl, al_kv_list_fn fn, void *arg, int64_t *g)
{
	struct flaky *f = c;
	return f->be->list(f->ctx, p, pl, fn, arg, g);
}
static al_err f_gv(void *c, int64_t *g)
{
	struct flaky *f = c;
	return f->be->global_version(f->ctx, g);
}
static const al_kv_backend flaky_backend = {f_get, f_put, f_del, f_list, f_gv};

static const uint8_t seed[32] = {0x5e, 0xed};
static al_rng rng;
static char base[64], dir_path[128], db_path[128];
static al_store_dir *dir;
static al_store_sqlite *sql;
static struct flaky flaky_b;
static al_kvr R;
static al_arena arena;
static uint8_t mem[1 << 17];

static al_err open_nodes(size_t quorum, int64_t last_seen)
{
	al_kvr_replica reps[2];

	CHECK_OK(al_store_dir_open(&dir, dir_path));
	CHECK_OK(al_store_sqlite_open(&sql, db_path));
	flaky_b = (struct flaky){&al_store_sqlite_backend, sql, false};
	reps[A] = (al_kvr_replica){&al_store_dir_backend, dir};
	reps[B] = (al_kvr_replica){&flaky_backend, &flaky_b};
	al_arena_init(&arena, mem, sizeof(mem));
	return al_kvr_init(&R, reps, 2, quorum, &arena, &rng, seed, sizeof(seed), last_seen);
}

static void close_nodes(void)
{
	al_kvr_clear(&R);
	al_store_dir_close(dir);
	al_store_sqlite_close(sql);
	dir = NULL;
	sql = NULL;
}

/* cp, mv or rm -rf on test paths, as the operator would. */
static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(1);
	}
}

/* "cp a a.old" (suffix), "mv a.old a" (no suffix, mv), "rm -rf a" (no b). */
static void sh2(const char *verb, const char *a, const char *b, const char *suffix)
{
	char cmd[600];

	if (!b)
		snprintf(cmd, sizeof(cmd), "%s '%s'", verb, a);
	else if (suffix)
		snprintf(cmd, sizeof(cmd), "%s '%s' '%s%s'", verb, a, b, suffix);
	else
		snprintf(cmd, sizeof(cmd), "%s '%s.old' '%s'", verb, a, b);
	sh(cmd);
}

static void expect(const char *key, const char *val, int64_t ver)
{
	uint8_t out[64];
	size_t len = 0;
	int64_t v = 0;

	CHECK_OK(al_kvr_get(&R, out, sizeof(out), &len, &v, "chan", key, 0));
	CHECK(len == strlen(val) && memcmp(out, val, len) == 0);
	CHECK(v == ver);
}

static void put(const char *key, const char *val, int64_t ver)
{
	CHECK_OK(al_kvr_put(&R, "chan", key, V(val), strlen(val), ver));
}

/* The operator of B restores an old copy of its database while the node is down. */
static void test_whole_store_rollback(void)
{
	int64_t proven;

	CHECK_OK(open_nodes(2, 0));
	put("state", "v1", 0);
	put("other", "o1", 0);
	close_nodes();
	sh2("cp", db_path, db_path, ".old");

	CHECK_OK(open_nodes(2, 0));
	put("state", "v2", 1);
	put("state", "v3", 2);
	proven = al_kvr_global_version(&R);
	CHECK(proven == 4);
	close_nodes();
	sh2("mv", db_path, db_path, NULL);

	/* Even a node that lost its own counter (last_seen 0) sees B is behind A. */
	CHECK_OK(open_nodes(1, 0));
	CHECK_ERR(al_kvr_state(&R, B), AL_E_STORE_ROLLBACK);
	CHECK_OK(al_kvr_state(&R, A));
	expect("state", "v3", 3);
	expect("other", "o1", 1);
	put("state", "v4", 3);
	close_nodes();

	/* With a quorum of both, the node refuses to act at all. */
	CHECK_ERR(open_nodes(2, 0), AL_E_STORE_REPLICAS);
	CHECK_ERR(al_kvr_put(&R, "chan", "state", V("x"), 1, AL_KV_ANY), AL_E_STORE_REPLICAS);
	CHECK_ERR(al_kvr_state(&R, B), AL_E_STORE_ROLLBACK);
	close_nodes();
}

/* The operator of A serves one object at an older version, while the node runs. */
static void test_object_rollback(void)
{
	uint8_t name[32];
	char hex[65], obj[256];

	CHECK_OK(open_nodes(1, 0));
	put("htlc", "h1", 0);
	CHECK_OK(al_seal_name(&R.kv[A].keys, name, "chan", "htlc"));
	CHECK_OK(al_hex_encode(hex, sizeof(hex), name, 32));
	snprintf(obj, sizeof(obj), "%s/objects/%s", dir_path, hex);
	sh2("cp", obj, obj, ".old");
	put("htlc", "h2", 1);
	sh2("mv", obj, obj, NULL);

	expect("htlc", "h2", 2);
	CHECK_ERR(al_kvr_state(&R, A), AL_E_STORE_ROLLBACK);
	CHECK_OK(al_kvr_state(&R, B));
	close_nodes();
}

/* The operator of B flips a byte of a record in its database. */
static void test_tamper(void)
{
	uint8_t name[32];
	sqlite3 *db;
	sqlite3_stmt *st;

	CHECK_OK(open_nodes(1, 0));
	put("pre", "preimage", 0);
	CHECK_OK(al_seal_name(&R.kv[B].keys, name, "chan", "pre"));
	CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db,
	                         "UPDATE objects SET value = substr(value, 1, 10) || "
	                         "x'ff' || substr(value, 12) WHERE name = ?",
	                         -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_blob(st, 1, name, 32, SQLITE_STATIC);
	CHECK(sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1);
	sqlite3_finalize(st);
	sqlite3_close(db);

	expect("pre", "preimage", 1);
	CHECK_ERR(al_kvr_state(&R, B), AL_E_STORE_TAMPERED);
	close_nodes();
}

/* B loses a write: it drops out, and with a quorum of two the write is not acked. */
static void test_lost_write_and_conflict(void)
{
	CHECK_OK(open_nodes(2, 0));
	put("k", "a", 0);
	/* A conflict at the first replica: nothing written anywhere, nobody dropped. */
	CHECK_ERR(al_kvr_put(&R, "chan", "k", V("b"), 1, 0), AL_E_STORE_VERSION);
	CHECK_OK(al_kvr_state(&R, A));
	CHECK_OK(al_kvr_state(&R, B));
	expect("k", "a", 1);
	flaky_b.down = true;
	CHECK_ERR(al_kvr_put(&R, "chan", "k", V("b"), 1, 1), AL_E_STORE_REPLICAS);
	CHECK_ERR(al_kvr_state(&R, B), AL_E_STORE_BACKEND);
	CHECK_ERR(al_kvr_get(&R, NULL, 0, &(size_t){0}, &(int64_t){0}, "chan", "k", 0),
	          AL_E_STORE_REPLICAS);
	close_nodes();
	/* Back up, B has missed the write: it is behind, which is a rollback. */
	CHECK_OK(open_nodes(1, 0));
	CHECK_ERR(al_kvr_state(&R, B), AL_E_STORE_ROLLBACK);
	expect("k", "b", 2);
	close_nodes();
}

static void fresh(void)
{
	if (base[0])
		sh2("rm -rf", base, NULL, NULL);
	strcpy(base, "/tmp/alight-test-replica-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(dir_path, sizeof(dir_path), "%s/a", base);
	snprintf(db_path, sizeof(db_path), "%s/b.db", base);
}

int main(void)
{
	al_os_rng(&rng);
	fresh();
	test_whole_store_rollback();
	fresh();
	test_object_rollback();
	fresh();
	test_tamper();
	fresh();
	test_lost_write_and_conflict();
	sh2("rm -rf", base, NULL, NULL);
	CHECK_ERR(al_kvr_init(&R, NULL, 0, 1, &arena, &rng, seed, 32, 0), AL_E_ARG);
	return al_t_finish();
}
