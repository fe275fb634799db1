#include "host/store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

enum stmt_id { S_GET, S_VER, S_PUT, S_DEL, S_LIST, S_GGET, S_GSET, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
    [S_GET] = "SELECT version, value FROM objects WHERE name = ?1",
    [S_VER] = "SELECT version FROM objects WHERE name = ?1",
    [S_PUT] = "INSERT OR REPLACE INTO objects(name, version, value) VALUES (?1, ?2, ?3)",
    [S_DEL] = "DELETE FROM objects WHERE name = ?1",
    [S_LIST] = "SELECT name, version FROM objects WHERE substr(name, 1, ?2) = ?1",
    [S_GGET] = "SELECT global_version FROM store WHERE id = 0",
    [S_GSET] = "UPDATE store SET global_version = ?1 WHERE id = 0",
};

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = FULL;"
    "CREATE TABLE IF NOT EXISTS objects("
    "  name BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS store("
    "  id INTEGER PRIMARY KEY CHECK (id = 0), global_version INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO store(id, global_version) VALUES (0, 0);";

struct al_store_sqlite {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
};

static al_err exec(al_store_sqlite *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? AL_OK : AL_E_STORE_BACKEND;
}

static al_err get_global(al_store_sqlite *s, int64_t *out)
{
	sqlite3_stmt *st = s->st[S_GGET];
	al_err err = AL_E_STORE_BACKEND;

	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		err = AL_OK;
	}
	sqlite3_reset(st);
	return err;
}

static al_err sq_global_version(void *ctx, int64_t *out)
{
	return get_global(ctx, out);
}

static al_err sq_get(void *ctx, const uint8_t name[AL_KV_NAME_LEN], uint8_t *buf, size_t cap,
                     size_t *len, int64_t *version)
{
	al_store_sqlite *s = ctx;
	sqlite3_stmt *st = s->st[S_GET];
	al_err err;
	int rc;

	sqlite3_bind_blob(st, 1, name, AL_KV_NAME_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 1);
		*version = sqlite3_column_int64(st, 0);
		*len = (size_t)sqlite3_column_bytes(st, 1);
		err = *len > cap ? AL_E_BUFSIZE : AL_OK;
		if (err == AL_OK && *len)
			memcpy(buf, p, *len);
	} else {
		err = rc == SQLITE_DONE ? AL_E_STORE_NOT_FOUND : AL_E_STORE_BACKEND;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

/* The object's current version, 0 if absent. */
static al_err current_version(al_store_sqlite *s, const uint8_t *name, int64_t *cur)
{
	sqlite3_stmt *st = s->st[S_VER];
	al_err err = AL_OK;
	int rc;

	sqlite3_bind_blob(st, 1, name, AL_KV_NAME_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*cur = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*cur = 0;
	else
		err = AL_E_STORE_BACKEND;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static al_err run_write(sqlite3_stmt *st)
{
	al_err err = sqlite3_step(st) == SQLITE_DONE ? AL_OK : AL_E_STORE_BACKEND;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static al_err apply_item(al_store_sqlite *s, const al_kv_bitem *it)
{
	sqlite3_stmt *st;
	int64_t cur;

	AL_TRY(current_version(s, it->name, &cur));
	if (!it->value && cur == 0)
		return AL_E_STORE_VERSION;
	if (it->version != AL_KV_ANY && it->version != cur)
		return AL_E_STORE_VERSION;
	if (!it->value) {
		st = s->st[S_DEL];
		sqlite3_bind_blob(st, 1, it->name, AL_KV_NAME_LEN, SQLITE_STATIC);
		return run_write(st);
	}
	if (it->len > INT32_MAX)
		return AL_E_TOO_LARGE;
	st = s->st[S_PUT];
	sqlite3_bind_blob(st, 1, it->name, AL_KV_NAME_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, it->version == AL_KV_ANY ? 1 : cur + 1);
	/* A zero-length blob must still be a blob, not NULL: use zeroblob for it. */
	if (it->len)
		sqlite3_bind_blob(st, 3, it->value, (int)it->len, SQLITE_STATIC);
	else
		sqlite3_bind_zeroblob(st, 3, 0);
	return run_write(st);
}

static al_err batch_body(al_store_sqlite *s, const al_kv_bitem *items, size_t n,
                         int64_t global_version)
{
	sqlite3_stmt *st = s->st[S_GSET];
	int64_t g;
	size_t i;

	AL_TRY(get_global(s, &g));
	if (g != global_version)
		return AL_E_STORE_VERSION;
	for (i = 0; i < n; i++)
		AL_TRY(apply_item(s, &items[i]));
	sqlite3_bind_int64(st, 1, global_version + 1);
	return run_write(st);
}

static al_err sq_put_batch(void *ctx, const al_kv_bitem *items, size_t n, int64_t global_version)
{
	al_store_sqlite *s = ctx;
	al_err err;

	if (!items || n == 0 || global_version < 0 || global_version == INT64_MAX)
		return AL_E_ARG;
	AL_TRY(exec(s, "BEGIN IMMEDIATE"));
	err = batch_body(s, items, n, global_version);
	if (err == AL_OK)
		err = exec(s, "COMMIT");
	if (err != AL_OK)
		(void)exec(s, "ROLLBACK");
	return err;
}

static al_err del_body(al_store_sqlite *s, const uint8_t *name, int64_t version)
{
	sqlite3_stmt *st = s->st[S_DEL];
	int64_t cur;

	AL_TRY(current_version(s, name, &cur));
	if (cur == 0)
		return AL_OK;
	if (version != AL_KV_ANY && version != cur)
		return AL_E_STORE_VERSION;
	sqlite3_bind_blob(st, 1, name, AL_KV_NAME_LEN, SQLITE_STATIC);
	return run_write(st);
}

static al_err sq_del(void *ctx, const uint8_t name[AL_KV_NAME_LEN], int64_t version)
{
	al_store_sqlite *s = ctx;
	al_err err;

	AL_TRY(exec(s, "BEGIN IMMEDIATE"));
	err = del_body(s, name, version);
	if (err == AL_OK)
		err = exec(s, "COMMIT");
	if (err != AL_OK)
		(void)exec(s, "ROLLBACK");
	return err;
}

static al_err list_body(al_store_sqlite *s, const uint8_t *prefix, size_t prefixlen,
                        al_kv_list_fn fn, void *arg, int64_t *global_version)
{
	sqlite3_stmt *st = s->st[S_LIST];
	int rc = SQLITE_DONE;
	al_err err;

	AL_TRY(get_global(s, global_version));
	sqlite3_bind_blob(st, 1, prefix, (int)prefixlen, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)prefixlen);
	err = AL_OK;
	while (err == AL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != AL_KV_NAME_LEN)
			continue;
		err = fn(arg, sqlite3_column_blob(st, 0), sqlite3_column_int64(st, 1));
	}
	if (err == AL_OK && rc != SQLITE_DONE)
		err = AL_E_STORE_BACKEND;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static al_err sq_list(void *ctx, const uint8_t *prefix, size_t prefixlen, al_kv_list_fn fn,
                      void *arg, int64_t *global_version)
{
	static const uint8_t empty[1];
	al_store_sqlite *s = ctx;
	al_err err;

	if ((!prefix && prefixlen) || prefixlen > AL_KV_NAME_LEN || !fn)
		return AL_E_ARG;
	/* One read transaction: the global version is read before the names. */
	AL_TRY(exec(s, "BEGIN"));
	err = list_body(s, prefixlen ? prefix : empty, prefixlen, fn, arg, global_version);
	(void)exec(s, err == AL_OK ? "COMMIT" : "ROLLBACK");
	return err;
}

const al_kv_backend al_store_sqlite_backend = {
    .get = sq_get,
    .put_batch = sq_put_batch,
    .del = sq_del,
    .list = sq_list,
    .global_version = sq_global_version,
};

al_err al_store_sqlite_open(al_store_sqlite **out, const char *path)
{
	al_store_sqlite *s;
	al_err err = AL_OK;
	int i;

	if (!out || !path)
		return AL_E_ARG;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return AL_E_NOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		err = AL_E_STORE_BACKEND;
	if (err == AL_OK && sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK)
		err = AL_E_STORE_BACKEND;
	if (err == AL_OK)
		err = exec(s, schema);
	for (i = 0; err == AL_OK && i < S_COUNT; i++)
		if (sqlite3_prepare_v2(s->db, stmt_sql[i], -1, &s->st[i], NULL) != SQLITE_OK)
			err = AL_E_STORE_BACKEND;
	if (err != AL_OK) {
		al_store_sqlite_close(s);
		return err;
	}
	*out = s;
	return AL_OK;
}

void al_store_sqlite_close(al_store_sqlite *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}
