/* alight-store storage in SQLite: one file DIR/vss.sqlite3, WAL with synchronous=FULL
 * (a put answered 200 survives power loss), one IMMEDIATE transaction per put. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"

enum {
	Q_GET,
	Q_GLOBAL,
	Q_G_INSERT,
	Q_G_UPDATE,
	Q_G_UPSERT,
	Q_INSERT,
	Q_UPDATE,
	Q_UPSERT,
	Q_DELETE,
	Q_DELETE_AT,
	Q_LIST,
	Q_COUNT
};

/* ?1 user, ?2 store_id, ?3 key, ?4 version, ?5 value. */
static const char *const sql[Q_COUNT] = {
    [Q_GET] = "SELECT version, value FROM vss_objects WHERE user = ?1 AND store_id = ?2 AND "
              "key = ?3",
    [Q_GLOBAL] = "SELECT version FROM vss_globals WHERE user = ?1 AND store_id = ?2",
    [Q_G_INSERT] = "INSERT INTO vss_globals(user, store_id, version) VALUES (?1, ?2, 1) "
                   "ON CONFLICT DO NOTHING",
    [Q_G_UPDATE] = "UPDATE vss_globals SET version = version + 1 WHERE user = ?1 AND "
                   "store_id = ?2 AND version = ?4",
    [Q_G_UPSERT] = "INSERT INTO vss_globals(user, store_id, version) VALUES (?1, ?2, 1) "
                   "ON CONFLICT (user, store_id) DO UPDATE SET version = 1",
    [Q_INSERT] = "INSERT INTO vss_objects(user, store_id, key, version, value) "
                 "VALUES (?1, ?2, ?3, 1, ?5) ON CONFLICT DO NOTHING",
    [Q_UPDATE] = "UPDATE vss_objects SET version = version + 1, value = ?5 WHERE user = ?1 AND "
                 "store_id = ?2 AND key = ?3 AND version = ?4",
    [Q_UPSERT] = "INSERT INTO vss_objects(user, store_id, key, version, value) "
                 "VALUES (?1, ?2, ?3, 1, ?5) ON CONFLICT (user, store_id, key) "
                 "DO UPDATE SET version = 1, value = excluded.value",
    [Q_DELETE] = "DELETE FROM vss_objects WHERE user = ?1 AND store_id = ?2 AND key = ?3",
    [Q_DELETE_AT] = "DELETE FROM vss_objects WHERE user = ?1 AND store_id = ?2 AND key = ?3 "
                    "AND version = ?4",
    /* ?3 prefix, ?4 its length, ?5 before, ?6 limit */
    [Q_LIST] = "SELECT id, key, version FROM vss_objects WHERE user = ?1 AND store_id = ?2 "
               "AND id < ?5 AND (?4 = 0 OR substr(key, 1, ?4) = ?3) ORDER BY id DESC LIMIT ?6",
};

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = FULL;"
    "CREATE TABLE IF NOT EXISTS vss_objects("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user BLOB NOT NULL, store_id BLOB NOT NULL, key BLOB NOT NULL,"
    "  version INTEGER NOT NULL, value BLOB NOT NULL,"
    "  UNIQUE (user, store_id, key));"
    "CREATE INDEX IF NOT EXISTS vss_objects_list ON vss_objects(user, store_id, id);"
    "CREATE TABLE IF NOT EXISTS vss_globals("
    "  user BLOB NOT NULL, store_id BLOB NOT NULL, version INTEGER NOT NULL,"
    "  PRIMARY KEY (user, store_id));";

typedef struct sq {
	sqlite3 *db;
	sqlite3_stmt *st[Q_COUNT];
} sq;

static const uint8_t empty_blob[1];

/* Bind the scope and, when given, key / version / value; NULL-free zero-length blobs. */
static sqlite3_stmt *prep(sq *q, int id, const st_scope *s, const char *key, int64_t version,
                          const uint8_t *value, size_t len)
{
	sqlite3_stmt *st = q->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_blob(st, 1, s->user, AL_PUBKEY_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s->store_id, (int)strlen(s->store_id), SQLITE_STATIC);
	if (key)
		sqlite3_bind_blob(st, 3, key, (int)strlen(key), SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, version);
	sqlite3_bind_blob64(st, 5, value ? value : empty_blob, len, SQLITE_STATIC);
	return st;
}

/* Run a write statement; *changed is whether it touched exactly one row. */
static al_err step_write(sq *q, sqlite3_stmt *st, bool *changed)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return AL_E_STORE_BACKEND;
	*changed = sqlite3_changes(q->db) == 1;
	return AL_OK;
}

static al_err exec(sq *q, const char *s)
{
	return sqlite3_exec(q->db, s, NULL, NULL, NULL) == SQLITE_OK ? AL_OK : AL_E_STORE_BACKEND;
}

static al_err sq_get(void *db, const st_scope *s, const char *key, uint8_t **value, size_t *len,
                     int64_t *version)
{
	sq *q = db;
	sqlite3_stmt *st = prep(q, Q_GET, s, key, 0, NULL, 0);
	int rc = sqlite3_step(st);
	al_err e = AL_OK;

	*value = NULL;
	if (rc == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 1);
		*version = sqlite3_column_int64(st, 0);
		*value = malloc(*len ? *len : 1);
		if (!*value)
			e = AL_E_NOMEM;
		else if (*len)
			memcpy(*value, sqlite3_column_blob(st, 1), *len);
	} else {
		e = rc == SQLITE_DONE ? AL_E_VSS_NO_SUCH_KEY : AL_E_STORE_BACKEND;
	}
	sqlite3_reset(st);
	return e;
}

static al_err read_global(sq *q, const st_scope *s, int64_t *version)
{
	sqlite3_stmt *st = prep(q, Q_GLOBAL, s, NULL, 0, NULL, 0);
	int rc = sqlite3_step(st);

	*version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AL_OK : AL_E_STORE_BACKEND;
}

static al_err sq_global(void *db, const st_scope *s, int64_t *version)
{
	return read_global(db, s, version);
}

/* VSS global_version: 0 creates it at 1, v > 0 bumps it from v, -1 resets it to 1. */
static al_err apply_global(sq *q, const st_scope *s, int64_t g, bool *ok)
{
	int id = g == AL_VSS_NO_CHECK ? Q_G_UPSERT : g == 0 ? Q_G_INSERT : Q_G_UPDATE;

	return step_write(q, prep(q, id, s, NULL, g, NULL, 0), ok);
}

static al_err apply_item(sq *q, const st_scope *s, const al_vss_kv *kv, bool del, bool *ok)
{
	int id;

	if (del)
		id = kv->version == AL_VSS_NO_CHECK ? Q_DELETE : Q_DELETE_AT;
	else
		id = kv->version == AL_VSS_NO_CHECK ? Q_UPSERT
		     : kv->version == 0             ? Q_INSERT
		                                    : Q_UPDATE;
	return step_write(q, prep(q, id, s, kv->key, kv->version, kv->value, kv->len), ok);
}

static al_err sq_put(void *db, const st_scope *s, const al_vss_put_req *r)
{
	sq *q = db;
	const al_vss_kv **kv = NULL;
	bool *del = NULL, ok = true;
	size_t i, n = r->nputs + r->ndels;
	al_err e = st_put_order(r, &kv, &del);

	if (e != AL_OK)
		return e;
	e = exec(q, "BEGIN IMMEDIATE");
	if (e == AL_OK && r->has_global_version)
		e = apply_global(q, s, r->global_version, &ok);
	for (i = 0; i < n && e == AL_OK && ok; i++)
		e = apply_item(q, s, kv[i], del[i], &ok);
	if (e == AL_OK && !ok)
		e = AL_E_VSS_CONFLICT;
	if (e == AL_OK)
		e = exec(q, "COMMIT");
	if (e != AL_OK && !sqlite3_get_autocommit(q->db))
		(void)exec(q, "ROLLBACK");
	free(kv);
	free(del);
	return e;
}

static al_err sq_del(void *db, const st_scope *s, const al_vss_kv *item)
{
	sq *q = db;
	int id = item->version == AL_VSS_NO_CHECK ? Q_DELETE : Q_DELETE_AT;
	bool changed;

	/* deleteObject is idempotent: no row, or another version, is not an error. */
	return step_write(q, prep(q, id, s, item->key, item->version, NULL, 0), &changed);
}

static al_err list_rows(sq *q, const st_scope *s, const char *prefix, size_t prefixlen,
                        int64_t before, size_t limit, st_list_fn fn, void *arg)
{
	sqlite3_stmt *st = prep(q, Q_LIST, s, NULL, 0, NULL, 0);
	al_err e = AL_OK;
	int rc;

	sqlite3_bind_blob(st, 3, prefix ? prefix : "", (int)prefixlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)prefixlen);
	sqlite3_bind_int64(st, 5, before);
	sqlite3_bind_int64(st, 6, (int64_t)limit);
	while (e == AL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		e = fn(arg, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
		       sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0));
	if (e == AL_OK && rc != SQLITE_DONE)
		e = AL_E_STORE_BACKEND;
	sqlite3_reset(st);
	return e;
}

static al_err sq_list(void *db, const st_scope *s, const char *prefix, size_t prefixlen,
                      int64_t before, size_t limit, int64_t *global, st_list_fn fn, void *arg)
{
	sq *q = db;
	/* One read transaction: the global version is read before the keys, in the same
	 * snapshot (vss.proto: "guaranteed to be read before reading any key-versions"). */
	al_err e = exec(q, "BEGIN");

	if (e == AL_OK && global)
		e = read_global(q, s, global);
	if (e == AL_OK)
		e = list_rows(q, s, prefix, prefixlen, before, limit, fn, arg);
	if (!sqlite3_get_autocommit(q->db) && exec(q, "COMMIT") != AL_OK && e == AL_OK)
		e = AL_E_STORE_BACKEND;
	return e;
}

static void sq_close(void *db)
{
	sq *q = db;
	int i;

	if (!q)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	free(q);
}

static const st_db_ops sqlite_ops = {sq_get, sq_global, sq_put, sq_del, sq_list, sq_close};

al_err st_db_open_sqlite(st_db *db, const char *dir, char *why, size_t whycap)
{
	char path[4096];
	sq *q = calloc(1, sizeof(*q));
	int i;

	if (!q)
		return AL_E_NOMEM;
	snprintf(path, sizeof(path), "%s/vss.sqlite3", dir);
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	        SQLITE_OK ||
	    sqlite3_busy_timeout(q->db, 5000) != SQLITE_OK || exec(q, schema) != AL_OK)
		goto fail;
	for (i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v2(q->db, sql[i], -1, &q->st[i], NULL) != SQLITE_OK)
			goto fail;
	*db = (st_db){&sqlite_ops, q, "sqlite"};
	return AL_OK;
fail:
	snprintf(why, whycap, "%s: %s", path, q->db ? sqlite3_errmsg(q->db) : "cannot open");
	sq_close(q);
	return AL_E_STORE_BACKEND;
}
