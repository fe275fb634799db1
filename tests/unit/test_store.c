/* The encrypted key-value store over both host backends (directory and SQLite):
 * round trips, VSS version semantics, batch atomicity, listing, and an operator who
 * flips bytes, swaps records, truncates them and serves old ones. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>
#include <sqlite3.h>

#include "host/os_rng.h"
#include "host/store_dir.h"
#include "host/store_sqlite.h"
#include "store/kv.h"
#include "test.h"
#include "util/cursor.h"
#include "util/hex.h"

enum kind { K_DIR, K_SQL };

struct fx {
	enum kind kind;
	char base[64];
	char path[128];
	al_store_dir *dir;
	al_store_sqlite *sql;
	const al_kv_backend *be;
	void *ctx;
	al_kv kv;
	al_arena arena;
	uint8_t mem[1 << 16];
};

static const uint8_t node_seed[32] = {0xa1, 0x1c, 0x47};
static al_rng rng;
static struct fx F;

#define V(s) ((const uint8_t *)(s))

/* ---- fixture ---- */

static al_err fx_backend_open(struct fx *f)
{
	if (f->kind == K_DIR) {
		f->be = &al_store_dir_backend;
		AL_TRY(al_store_dir_open(&f->dir, f->path));
		f->ctx = f->dir;
	} else {
		f->be = &al_store_sqlite_backend;
		AL_TRY(al_store_sqlite_open(&f->sql, f->path));
		f->ctx = f->sql;
	}
	return AL_OK;
}

static void fx_close(struct fx *f)
{
	al_kv_clear(&f->kv);
	al_store_dir_close(f->dir);
	al_store_sqlite_close(f->sql);
	f->dir = NULL;
	f->sql = NULL;
}

static al_err fx_open(struct fx *f, int64_t last_seen)
{
	al_err err = fx_backend_open(f);

	al_arena_init(&f->arena, f->mem, sizeof(f->mem));
	if (err == AL_OK)
		err = al_kv_init(&f->kv, f->be, f->ctx, &f->arena, &rng, node_seed,
		                 sizeof(node_seed), last_seen);
	return err;
}

static al_err fx_reopen(struct fx *f, int64_t last_seen)
{
	fx_close(f);
	return fx_open(f, last_seen);
}

static struct fx *fx_new(enum kind kind)
{
	struct fx *f = &F;

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	strcpy(f->base, "/tmp/alight-test-store-XXXXXX");
	if (!mkdtemp(f->base)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(f->path, sizeof(f->path), "%s/%s", f->base, kind == K_DIR ? "store" : "store.db");
	CHECK_OK(fx_open(f, 0));
	return f;
}

static void fx_done(struct fx *f)
{
	char cmd[128];

	fx_close(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->base);
}

/* ---- the operator's view: raw objects ---- */

static void name_of(struct fx *f, uint8_t name[32], const char *ns, const char *key)
{
	CHECK_OK(al_seal_name(&f->kv.keys, name, ns, key));
}

static void obj_path(struct fx *f, char *out, size_t cap, const uint8_t name[32])
{
	char hex[65];

	CHECK_OK(al_hex_encode(hex, sizeof(hex), name, 32));
	snprintf(out, cap, "%s/objects/%s", f->path, hex);
}

static sqlite3 *raw_db(struct fx *f)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(f->path, &db) != SQLITE_OK) {
		fprintf(stderr, "raw sqlite open failed\n");
		exit(1);
	}
	return db;
}

static bool read_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *fp = fopen(path, "rb");

	if (!fp)
		return false;
	*len = fread(buf, 1, cap, fp);
	fclose(fp);
	return true;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	CHECK(fp != NULL);
	if (!fp)
		return;
	CHECK(fwrite(buf, 1, len, fp) == len);
	fclose(fp);
}

/* Read an object's record and version as stored. */
static void raw_get(struct fx *f, const uint8_t name[32], uint8_t *rec, size_t *len, int64_t *ver)
{
	uint8_t buf[4096];
	char p[256];
	size_t n = 0;

	if (f->kind == K_DIR) {
		obj_path(f, p, sizeof(p), name);
		CHECK(read_file(p, buf, sizeof(buf), &n) && n >= 12);
		*ver = (int64_t)al_read_be64(buf + 4);
		*len = n - 12;
		memcpy(rec, buf + 12, *len);
	} else {
		sqlite3 *db = raw_db(f);
		sqlite3_stmt *st;
		CHECK(sqlite3_prepare_v2(db, "SELECT version, value FROM objects WHERE name = ?1",
		                         -1, &st, NULL) == SQLITE_OK);
		sqlite3_bind_blob(st, 1, name, 32, SQLITE_STATIC);
		CHECK(sqlite3_step(st) == SQLITE_ROW);
		*ver = sqlite3_column_int64(st, 0);
		*len = (size_t)sqlite3_column_bytes(st, 1);
		memcpy(rec, sqlite3_column_blob(st, 1), *len);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

/* Store a record and version as the operator likes. */
static void raw_set(struct fx *f, const uint8_t name[32], const uint8_t *rec, size_t len,
                    int64_t ver)
{
	uint8_t buf[4096];
	char p[256];

	if (f->kind == K_DIR) {
		memcpy(buf, "ALO1", 4);
		al_write_be64(buf + 4, (uint64_t)ver);
		memcpy(buf + 12, rec, len);
		obj_path(f, p, sizeof(p), name);
		write_file(p, buf, len + 12);
	} else {
		sqlite3 *db = raw_db(f);
		sqlite3_stmt *st;
		CHECK(sqlite3_prepare_v2(db,
		                         "INSERT OR REPLACE INTO objects(name, version, value) "
		                         "VALUES (?1, ?2, ?3)",
		                         -1, &st, NULL) == SQLITE_OK);
		sqlite3_bind_blob(st, 1, name, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, ver);
		if (len)
			sqlite3_bind_blob(st, 3, rec, (int)len, SQLITE_STATIC);
		else
			sqlite3_bind_zeroblob(st, 3, 0);
		CHECK(sqlite3_step(st) == SQLITE_DONE);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

static void raw_del(struct fx *f, const uint8_t name[32])
{
	char p[256];

	if (f->kind == K_DIR) {
		obj_path(f, p, sizeof(p), name);
		CHECK(unlink(p) == 0);
	} else {
		sqlite3 *db = raw_db(f);
		sqlite3_stmt *st;
		CHECK(sqlite3_prepare_v2(db, "DELETE FROM objects WHERE name = ?1", -1, &st,
		                         NULL) == SQLITE_OK);
		sqlite3_bind_blob(st, 1, name, 32, SQLITE_STATIC);
		CHECK(sqlite3_step(st) == SQLITE_DONE);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

static void raw_set_global(struct fx *f, int64_t g)
{
	uint8_t buf[12];
	char p[256], sql[128];

	if (f->kind == K_DIR) {
		memcpy(buf, "ALG1", 4);
		al_write_be64(buf + 4, (uint64_t)g);
		snprintf(p, sizeof(p), "%s/global", f->path);
		write_file(p, buf, sizeof(buf));
	} else {
		sqlite3 *db = raw_db(f);
		snprintf(sql, sizeof(sql), "UPDATE store SET global_version = %lld WHERE id = 0",
		         (long long)g);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(db);
	}
}

/* ---- helpers over the node's interface ---- */

static al_err put(struct fx *f, const char *ns, const char *key, const char *val, int64_t ver)
{
	return al_kv_put(&f->kv, ns, key, V(val), strlen(val), ver);
}

/* Get and compare with an expected string value and version. */
static void expect(struct fx *f, const char *ns, const char *key, const char *val, int64_t ver)
{
	uint8_t buf[256];
	size_t len = 0;
	int64_t got = 0;

	CHECK_OK(al_kv_get(&f->kv, buf, sizeof(buf), &len, &got, ns, key, 0));
	CHECK(len == strlen(val) && memcmp(buf, val, len) == 0);
	CHECK(got == ver);
}

static al_err get_err(struct fx *f, const char *ns, const char *key, int64_t min_version)
{
	uint8_t buf[256];
	size_t len;
	int64_t ver;

	return al_kv_get(&f->kv, buf, sizeof(buf), &len, &ver, ns, key, min_version);
}

/* ---- behaviour ---- */

static void test_versions(enum kind kind)
{
	struct fx *f = fx_new(kind);
	uint8_t big[5000], out[5000];
	size_t len = 0, i;
	int64_t ver = 0;

	CHECK(al_kv_global_version(&f->kv) == 0);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_NOT_FOUND);
	/* VSS: "For the first write of any `key`, the `version` should be '0'". */
	CHECK_ERR(put(f, "chan", "a", "one", 1), AL_E_STORE_VERSION);
	CHECK_OK(put(f, "chan", "a", "one", 0));
	expect(f, "chan", "a", "one", 1);
	CHECK_ERR(put(f, "chan", "a", "again", 0), AL_E_STORE_VERSION);
	CHECK_ERR(put(f, "chan", "a", "stale", 2), AL_E_STORE_VERSION);
	CHECK_OK(put(f, "chan", "a", "two", 1));
	expect(f, "chan", "a", "two", 2);
	/* Non-conditional write: the version is "reset to '1'". */
	CHECK_OK(put(f, "chan", "a", "three", AL_KV_ANY));
	expect(f, "chan", "a", "three", 1);
	CHECK(al_kv_version_after(AL_KV_ANY) == 1 && al_kv_version_after(4) == 5);
	/* Global version: one per successful batch; failures do not count. */
	CHECK(al_kv_global_version(&f->kv) == 3);
	/* Same key in another namespace is another object. */
	CHECK_OK(put(f, "peer", "a", "peer-a", 0));
	expect(f, "chan", "a", "three", 1);
	expect(f, "peer", "a", "peer-a", 1);
	/* Empty value, large value, too-small output buffer. */
	CHECK_OK(al_kv_put(&f->kv, "chan", "empty", V(""), 0, 0));
	expect(f, "chan", "empty", "", 1);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	CHECK_OK(al_kv_put(&f->kv, "chan", "big", big, sizeof(big), 0));
	CHECK_OK(al_kv_get(&f->kv, out, sizeof(out), &len, &ver, "chan", "big", 0));
	CHECK(len == sizeof(big) && memcmp(out, big, len) == 0 && ver == 1);
	CHECK_ERR(al_kv_get(&f->kv, out, 10, &len, &ver, "chan", "big", 0), AL_E_BUFSIZE);
	CHECK(len == sizeof(big));
	if (kind == K_SQL) {
		/* The database runs in WAL mode (a property of the file). */
		sqlite3 *db = raw_db(f);
		sqlite3_stmt *st;
		CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(st) == SQLITE_ROW);
		CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	/* Arguments. */
	CHECK_ERR(put(f, "", "a", "x", 0), AL_E_ARG);
	CHECK_ERR(put(f, "chan", "", "x", 0), AL_E_ARG);
	CHECK_ERR(put(f, "chan", "a", "x", -2), AL_E_ARG);
	fx_done(f);
}

static void test_batch(enum kind kind)
{
	struct fx *f = fx_new(kind);
	int64_t g;

	CHECK_OK(put(f, "chan", "a", "a1", 0));
	g = al_kv_global_version(&f->kv);
	{
		/* The last item conflicts: nothing of the batch is written. */
		al_kv_write w[3] = {{"chan", "x", V("x1"), 2, 0},
		                    {"chan", "y", V("y1"), 2, 0},
		                    {"chan", "a", V("a9"), 2, 7}};
		CHECK_ERR(al_kv_write_batch(&f->kv, w, 3), AL_E_STORE_VERSION);
		CHECK_ERR(get_err(f, "chan", "x", 0), AL_E_STORE_NOT_FOUND);
		CHECK_ERR(get_err(f, "chan", "y", 0), AL_E_STORE_NOT_FOUND);
		expect(f, "chan", "a", "a1", 1);
		CHECK(al_kv_global_version(&f->kv) == g);
		w[2].version = 1;
		CHECK_OK(al_kv_write_batch(&f->kv, w, 3));
		expect(f, "chan", "x", "x1", 1);
		expect(f, "chan", "y", "y1", 1);
		expect(f, "chan", "a", "a9", 2);
		CHECK(al_kv_global_version(&f->kv) == g + 1);
	}
	{
		/* Deletes in a batch: the object must exist (VSS), versions checked. */
		al_kv_write w[2] = {{"chan", "x", NULL, 0, 1}, {"chan", "z", V("z1"), 2, 0}};
		al_kv_write missing[2] = {{"chan", "nope", NULL, 0, AL_KV_ANY},
		                          {"chan", "q", V("q1"), 2, 0}};
		al_kv_write dup[2] = {{"chan", "d", V("1"), 1, 0}, {"chan", "d", V("2"), 1, 0}};
		CHECK_ERR(al_kv_write_batch(&f->kv, missing, 2), AL_E_STORE_VERSION);
		CHECK_ERR(get_err(f, "chan", "q", 0), AL_E_STORE_NOT_FOUND);
		CHECK_OK(al_kv_write_batch(&f->kv, w, 2));
		CHECK_ERR(get_err(f, "chan", "x", 0), AL_E_STORE_NOT_FOUND);
		expect(f, "chan", "z", "z1", 1);
		CHECK_ERR(al_kv_write_batch(&f->kv, dup, 2), AL_E_ARG);
		CHECK_ERR(al_kv_write_batch(&f->kv, dup, 0), AL_E_ARG);
	}
	fx_done(f);
}

struct seen {
	int count;
	char keys[8][16];
};

static al_err visit(void *arg, const char *key, int64_t version, const uint8_t *value, size_t len)
{
	struct seen *s = arg;

	if (s->count < 8 && strlen(key) < 16)
		strcpy(s->keys[s->count], key);
	s->count++;
	/* Every value in these tests is "<key>-value". */
	if (len != strlen(key) + 6 || memcmp(value, key, strlen(key)) != 0 || version != 1)
		return AL_E_ARG;
	return AL_OK;
}

static bool has(const struct seen *s, const char *key)
{
	int i;

	for (i = 0; i < s->count && i < 8; i++)
		if (strcmp(s->keys[i], key) == 0)
			return true;
	return false;
}

static void test_list(enum kind kind)
{
	struct fx *f = fx_new(kind);
	struct seen s;

	CHECK_OK(put(f, "chan", "a", "a-value", 0));
	CHECK_OK(put(f, "chan", "ab", "ab-value", 0));
	CHECK_OK(put(f, "chan", "b", "b-value", 0));
	CHECK_OK(put(f, "peer", "a", "a-value", 0));
	CHECK_OK(put(f, "chanx", "c", "c-value", 0));
	memset(&s, 0, sizeof(s));
	CHECK_OK(al_kv_list(&f->kv, "chan", "", visit, &s));
	CHECK(s.count == 3 && has(&s, "a") && has(&s, "ab") && has(&s, "b"));
	memset(&s, 0, sizeof(s));
	CHECK_OK(al_kv_list(&f->kv, "chan", "a", visit, &s));
	CHECK(s.count == 2 && has(&s, "a") && has(&s, "ab"));
	memset(&s, 0, sizeof(s));
	CHECK_OK(al_kv_list(&f->kv, "peer", "", visit, &s));
	CHECK(s.count == 1 && has(&s, "a"));
	memset(&s, 0, sizeof(s));
	CHECK_OK(al_kv_list(&f->kv, "none", "", visit, &s));
	CHECK(s.count == 0);
	fx_done(f);
}

static void test_delete_and_reopen(enum kind kind)
{
	struct fx *f = fx_new(kind);
	int64_t g;

	CHECK_OK(put(f, "chan", "a", "one", 0));
	CHECK_OK(put(f, "chan", "a", "two", 1));
	CHECK_OK(put(f, "chan", "b", "bee", 0));
	CHECK_ERR(al_kv_delete(&f->kv, "chan", "a", 1), AL_E_STORE_VERSION);
	CHECK_OK(al_kv_delete(&f->kv, "chan", "a", 2));
	CHECK_OK(al_kv_delete(&f->kv, "chan", "a", 2)); /* idempotent */
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_NOT_FOUND);
	g = al_kv_global_version(&f->kv);
	CHECK(g == 3);

	/* Everything survives a reopen; the node's persisted global version is checked. */
	CHECK_OK(fx_reopen(f, g));
	expect(f, "chan", "b", "bee", 1);
	CHECK(al_kv_global_version(&f->kv) == g);
	CHECK_ERR(fx_reopen(f, g + 1), AL_E_STORE_ROLLBACK);
	/* Another seed finds no global-version record under its names: refused. */
	fx_close(f);
	CHECK_OK(fx_backend_open(f));
	{
		static const uint8_t other[32] = {7};
		CHECK_ERR(
		    al_kv_init(&f->kv, f->be, f->ctx, &f->arena, &rng, other, sizeof(other), 0),
		    AL_E_STORE_ROLLBACK);
	}
	fx_done(f);
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static bool file_contains(const char *path, const char *needle)
{
	static uint8_t buf[1 << 20];
	size_t n = 0;

	return read_file(path, buf, sizeof(buf), &n) && contains(buf, n, needle);
}

/* The operator sees no plaintext: not in names, not in contents. */
static void test_opaque(enum kind kind)
{
	static const char *const plain[] = {"channelmonitors", "deadbeefchannel", "TOPSECRETVALUE"};
	struct fx *f = fx_new(kind);
	char p[256];
	size_t i;

	CHECK_OK(put(f, plain[0], plain[1], plain[2], 0));
	if (kind == K_DIR) {
		DIR *d;
		struct dirent *e;
		int objects = 0;
		snprintf(p, sizeof(p), "%s/objects", f->path);
		d = opendir(p);
		CHECK(d != NULL);
		while (d && (e = readdir(d)) != NULL) {
			uint8_t name[32];
			char fp[512];
			if (e->d_name[0] == '.')
				continue;
			objects++;
			CHECK(strlen(e->d_name) == 64);
			CHECK_OK(al_hex_decode_exact(name, 32, e->d_name));
			snprintf(fp, sizeof(fp), "%s/%s", p, e->d_name);
			for (i = 0; i < 3; i++) {
				CHECK(strstr(e->d_name, plain[i]) == NULL);
				CHECK(!file_contains(fp, plain[i]));
			}
		}
		if (d)
			closedir(d);
		CHECK(objects == 2); /* the object and the store's global-version record */
	} else {
		fx_close(f); /* checkpoint the WAL into the main file */
		for (i = 0; i < 3; i++)
			CHECK(!file_contains(f->path, plain[i]));
		CHECK_OK(fx_open(f, 0));
	}
	fx_done(f);
}

/* ---- the operator attacks ---- */

static void test_tamper(enum kind kind)
{
	struct fx *f = fx_new(kind);
	uint8_t name[32], rec[1024], copy[1024];
	size_t len = 0;
	int64_t ver = 0;

	CHECK_OK(put(f, "chan", "a", "alpha", 0));
	name_of(f, name, "chan", "a");
	raw_get(f, name, rec, &len, &ver);
	CHECK(ver == 1 && len == al_seal_record_len(1, 5));

	memcpy(copy, rec, len);
	copy[AL_SEAL_HEADER_LEN + 2] ^= 0x04; /* ciphertext */
	raw_set(f, name, copy, len, ver);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TAMPERED);
	memcpy(copy, rec, len);
	copy[len - 1] ^= 0x01; /* tag */
	raw_set(f, name, copy, len, ver);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TAMPERED);
	memcpy(copy, rec, len);
	copy[60] ^= 0x01; /* nonce */
	raw_set(f, name, copy, len, ver);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TAMPERED);
	memcpy(copy, rec, len);
	copy[0] = 0x7f; /* format */
	raw_set(f, name, copy, len, ver);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_FORMAT);
	/* Truncated records. */
	raw_set(f, name, rec, len - 1, ver);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TRUNCATED);
	raw_set(f, name, rec, 30, ver);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TRUNCATED);
	raw_set(f, name, rec, 0, ver);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TRUNCATED);
	if (kind == K_DIR) {
		/* A file cut inside the backend's own header. */
		char p[256];
		obj_path(f, p, sizeof(p), name);
		CHECK(truncate(p, 5) == 0);
		CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TRUNCATED);
	}
	/* Repaired, it opens again: the failures above changed nothing else. */
	raw_set(f, name, rec, len, ver);
	expect(f, "chan", "a", "alpha", 1);
	fx_done(f);
}

static void test_swap(enum kind kind)
{
	struct fx *f = fx_new(kind);
	uint8_t na[32], nb[32], ra[1024], rb[1024];
	size_t la, lb;
	int64_t va, vb;

	CHECK_OK(put(f, "chan", "a", "a-value", 0));
	CHECK_OK(put(f, "chan", "b", "b-value", 0));
	name_of(f, na, "chan", "a");
	name_of(f, nb, "chan", "b");
	raw_get(f, na, ra, &la, &va);
	raw_get(f, nb, rb, &lb, &vb);
	raw_set(f, na, rb, lb, vb);
	raw_set(f, nb, ra, la, va);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_SWAPPED);
	CHECK_ERR(get_err(f, "chan", "b", 0), AL_E_STORE_SWAPPED);
	/* A swap that also rewrites the name in the header fails authentication. */
	memcpy(rb + 21, na, 32);
	raw_set(f, na, rb, lb, vb);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TAMPERED);
	/* Listing the namespace refuses too. */
	raw_set(f, na, ra, la, va);
	{
		struct seen s;
		memset(&s, 0, sizeof(s));
		CHECK_ERR(al_kv_list(&f->kv, "chan", "", visit, &s), AL_E_STORE_SWAPPED);
	}
	fx_done(f);
}

static void test_old_version(enum kind kind)
{
	struct fx *f = fx_new(kind);
	uint8_t name[32], old[1024], cur[1024];
	size_t lo, lc;
	int64_t vo, vc;

	CHECK_OK(put(f, "chan", "a", "version one", 0));
	name_of(f, name, "chan", "a");
	raw_get(f, name, old, &lo, &vo);
	CHECK_OK(put(f, "chan", "a", "version two", 1));
	raw_get(f, name, cur, &lc, &vc);
	CHECK(vo == 1 && vc == 2);

	/* The old record under the current version number. */
	raw_set(f, name, old, lo, vc);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_ROLLBACK);
	/* The old record with its old version: the node knows it wrote version 2. */
	raw_set(f, name, old, lo, vo);
	CHECK_ERR(get_err(f, "chan", "a", 2), AL_E_STORE_ROLLBACK);
	/* and a conditional write against it conflicts. */
	CHECK_ERR(put(f, "chan", "a", "version three", 2), AL_E_STORE_VERSION);
	/* The current record with a lowered version number does not authenticate. */
	raw_set(f, name, cur, lc, 1);
	CHECK_ERR(get_err(f, "chan", "a", 0), AL_E_STORE_TAMPERED);
	raw_set(f, name, cur, lc, vc);
	expect(f, "chan", "a", "version two", 2);
	fx_done(f);
}

static void test_global_rollback(enum kind kind)
{
	struct fx *f = fx_new(kind);
	uint8_t meta[32];
	int64_t g;

	CHECK_OK(put(f, "chan", "a", "one", 0));
	CHECK_OK(put(f, "chan", "b", "two", 0));
	g = al_kv_global_version(&f->kv);
	CHECK(g == 2);

	/* The operator lowers the global counter: the store's own record disagrees. */
	raw_set_global(f, g - 1);
	CHECK_ERR(put(f, "chan", "c", "three", 0), AL_E_STORE_ROLLBACK);
	CHECK_ERR(fx_reopen(f, 0), AL_E_STORE_ROLLBACK);
	/* and the node's own record of it catches the lowered counter as well. */
	CHECK_ERR(fx_reopen(f, g), AL_E_STORE_ROLLBACK);
	raw_set_global(f, g);
	CHECK_OK(fx_reopen(f, g));

	/* Raising it instead leaves the store's record behind: refused too. */
	raw_set_global(f, g + 1);
	CHECK_ERR(fx_reopen(f, g), AL_E_STORE_ROLLBACK);
	raw_set_global(f, g);
	CHECK_OK(fx_reopen(f, g));

	/* Deleting the store's record. */
	name_of(f, meta, "", "global_version");
	raw_del(f, meta);
	CHECK_ERR(fx_reopen(f, g), AL_E_STORE_ROLLBACK);
	fx_done(f);
}

/* The whole store restored from an old copy: only the node's own record exposes it. */
static void test_whole_store_rollback(enum kind kind)
{
	struct fx *f = fx_new(kind);
	char cmd[512];
	int64_t g;

	CHECK_OK(put(f, "chan", "a", "one", 0));
	fx_close(f);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s.old'", f->path, f->path);
	CHECK(system(cmd) == 0);
	CHECK_OK(fx_open(f, 1));
	CHECK_OK(put(f, "chan", "a", "two", 1));
	g = al_kv_global_version(&f->kv);
	fx_close(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mv '%s.old' '%s'", f->path, f->path, f->path);
	CHECK(system(cmd) == 0);
	CHECK_ERR(fx_open(f, g), AL_E_STORE_ROLLBACK);
	CHECK_OK(fx_reopen(f, 0)); /* a node that forgot cannot tell */
	expect(f, "chan", "a", "one", 1);
	fx_done(f);
}

static void run(enum kind kind)
{
	test_versions(kind);
	test_batch(kind);
	test_list(kind);
	test_delete_and_reopen(kind);
	test_opaque(kind);
	test_tamper(kind);
	test_swap(kind);
	test_old_version(kind);
	test_global_rollback(kind);
	test_whole_store_rollback(kind);
}

int main(void)
{
	al_os_rng(&rng);
	run(K_DIR);
	run(K_SQL);
	return al_t_finish();
}
