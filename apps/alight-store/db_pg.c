/* alight-store storage in PostgreSQL (libpq), for deployments beyond one SQLite file.
 *
 * A put is one READ COMMITTED transaction of conditional statements, each of which
 * must touch exactly one row. Row locks make concurrent conflicting puts safe: a second
 * UPDATE ... WHERE version = v waits for the first and then finds the new version, an
 * INSERT ... ON CONFLICT DO NOTHING waits for the first insert and then inserts
 * nothing, so the loser sees zero rows and rolls back (CONFLICT_EXCEPTION). Rows are
 * locked in one order (global version first, then keys sorted), so puts cannot
 * deadlock; a serialization failure or deadlock reported anyway is a conflict too.
 *
 * Parameters and results travel in binary (bytea raw, int8 big-endian): no quoting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "util/cursor.h"

#define OID_BYTEA 17
#define OID_INT8  20

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS vss_objects("
    "  id BIGSERIAL PRIMARY KEY,"
    "  user_key BYTEA NOT NULL, store_id BYTEA NOT NULL, key BYTEA NOT NULL,"
    "  version BIGINT NOT NULL, value BYTEA NOT NULL,"
    "  UNIQUE (user_key, store_id, key));"
    "CREATE INDEX IF NOT EXISTS vss_objects_list ON vss_objects(user_key, store_id, id);"
    "CREATE TABLE IF NOT EXISTS vss_globals("
    "  user_key BYTEA NOT NULL, store_id BYTEA NOT NULL, version BIGINT NOT NULL,"
    "  PRIMARY KEY (user_key, store_id));";

/* $1 user, $2 store_id, $3 key, $4 version, $5 value. */
#define Q_GET                                                                                      \
	"SELECT version, value FROM vss_objects WHERE user_key = $1 AND store_id = $2 AND "        \
	"key = $3"
#define Q_GLOBAL "SELECT version FROM vss_globals WHERE user_key = $1 AND store_id = $2"
#define Q_G_INSERT                                                                                 \
	"INSERT INTO vss_globals(user_key, store_id, version) VALUES ($1, $2, 1) "                 \
	"ON CONFLICT DO NOTHING"
#define Q_G_UPDATE                                                                                 \
	"UPDATE vss_globals SET version = version + 1 WHERE user_key = $1 AND store_id = $2 "      \
	"AND version = $3"
#define Q_G_UPSERT                                                                                 \
	"INSERT INTO vss_globals(user_key, store_id, version) VALUES ($1, $2, 1) "                 \
	"ON CONFLICT (user_key, store_id) DO UPDATE SET version = 1"
#define Q_INSERT                                                                                   \
	"INSERT INTO vss_objects(user_key, store_id, key, version, value) "                        \
	"VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING"
#define Q_UPDATE                                                                                   \
	"UPDATE vss_objects SET version = version + 1, value = $4 WHERE user_key = $1 AND "        \
	"store_id = $2 AND key = $3 AND version = $5"
#define Q_UPSERT                                                                                   \
	"INSERT INTO vss_objects(user_key, store_id, key, version, value) "                        \
	"VALUES ($1, $2, $3, 1, $4) ON CONFLICT (user_key, store_id, key) "                        \
	"DO UPDATE SET version = 1, value = EXCLUDED.value"
#define Q_DELETE    "DELETE FROM vss_objects WHERE user_key = $1 AND store_id = $2 AND key = $3"
#define Q_DELETE_AT Q_DELETE " AND version = $4"
#define Q_LIST                                                                                     \
	"SELECT id, key, version FROM vss_objects WHERE user_key = $1 AND store_id = $2 AND "      \
	"id < $4 AND ($5 = 0 OR substring(key from 1 for $5::int) = $3) ORDER BY id DESC "         \
	"LIMIT $6"

typedef struct pg {
	PGconn *conn;
} pg;

/* Up to six binary parameters. */
typedef struct params {
	const char *v[6];
	int len[6], fmt[6];
	Oid type[6];
	uint8_t i8[6][8];
	int n;
} params;

static void p_bytes(params *p, const void *data, size_t len)
{
	p->v[p->n] = len ? data : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->type[p->n++] = OID_BYTEA;
}

static void p_int(params *p, int64_t v)
{
	al_write_be64(p->i8[p->n], (uint64_t)v);
	p->v[p->n] = (const char *)p->i8[p->n];
	p->len[p->n] = 8;
	p->fmt[p->n] = 1;
	p->type[p->n++] = OID_INT8;
}

static void p_scope(params *p, const st_scope *s)
{
	p->n = 0;
	p_bytes(p, s->user, AL_PUBKEY_LEN);
	p_bytes(p, s->store_id, strlen(s->store_id));
}

static PGresult *run(pg *q, const char *sql, const params *p)
{
	if (PQstatus(q->conn) != CONNECTION_OK)
		PQreset(q->conn);
	return PQexecParams(q->conn, sql, p ? p->n : 0, p ? p->type : NULL, p ? p->v : NULL,
	                    p ? p->len : NULL, p ? p->fmt : NULL, 1);
}

static al_err exec(pg *q, const char *sql)
{
	PGresult *r = run(q, sql, NULL);
	al_err e = PQresultStatus(r) == PGRES_COMMAND_OK ? AL_OK : AL_E_STORE_BACKEND;

	PQclear(r);
	return e;
}

static int64_t col_int(const PGresult *r, int row, int col)
{
	return PQgetlength(r, row, col) == 8
	           ? (int64_t)al_read_be64((const uint8_t *)PQgetvalue(r, row, col))
	           : 0;
}

/* A write statement: *changed when it touched exactly one row. A serialization
 * failure (40001) or deadlock (40P01) is a lost race: AL_E_VSS_CONFLICT. */
static al_err pg_write(pg *q, const char *sql, const params *p, bool *changed)
{
	PGresult *r = run(q, sql, p);
	const char *state;
	al_err e = AL_OK;

	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		*changed = strcmp(PQcmdTuples(r), "1") == 0;
	} else {
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		e = state && (!strcmp(state, "40001") || !strcmp(state, "40P01"))
		        ? AL_E_VSS_CONFLICT
		        : AL_E_STORE_BACKEND;
		if (e == AL_E_STORE_BACKEND)
			fprintf(stderr, "alight-store: postgres: %s", PQerrorMessage(q->conn));
	}
	PQclear(r);
	return e;
}

static al_err pg_get(void *db, const st_scope *s, const char *key, uint8_t **value, size_t *len,
                     int64_t *version)
{
	params p;
	PGresult *r;
	al_err e = AL_OK;

	*value = NULL;
	p_scope(&p, s);
	p_bytes(&p, key, strlen(key));
	r = run(db, Q_GET, &p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		e = AL_E_STORE_BACKEND;
	} else if (PQntuples(r) == 0) {
		e = AL_E_VSS_NO_SUCH_KEY;
	} else {
		*version = col_int(r, 0, 0);
		*len = (size_t)PQgetlength(r, 0, 1);
		*value = malloc(*len ? *len : 1);
		if (!*value)
			e = AL_E_NOMEM;
		else if (*len)
			memcpy(*value, PQgetvalue(r, 0, 1), *len);
	}
	PQclear(r);
	return e;
}

static al_err pg_global(void *db, const st_scope *s, int64_t *version)
{
	params p;
	PGresult *r;
	al_err e = AL_OK;

	p_scope(&p, s);
	r = run(db, Q_GLOBAL, &p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		e = AL_E_STORE_BACKEND;
	*version = e == AL_OK && PQntuples(r) ? col_int(r, 0, 0) : 0;
	PQclear(r);
	return e;
}

static al_err apply_global(pg *q, const st_scope *s, int64_t g, bool *ok)
{
	params p;

	p_scope(&p, s);
	if (g == AL_VSS_NO_CHECK)
		return pg_write(q, Q_G_UPSERT, &p, ok);
	if (g == 0)
		return pg_write(q, Q_G_INSERT, &p, ok);
	p_int(&p, g);
	return pg_write(q, Q_G_UPDATE, &p, ok);
}

static al_err apply_item(pg *q, const st_scope *s, const al_vss_kv *kv, bool del, bool *ok)
{
	params p;

	p_scope(&p, s);
	p_bytes(&p, kv->key, strlen(kv->key));
	if (del) {
		if (kv->version == AL_VSS_NO_CHECK)
			return pg_write(q, Q_DELETE, &p, ok);
		p_int(&p, kv->version);
		return pg_write(q, Q_DELETE_AT, &p, ok);
	}
	p_bytes(&p, kv->value, kv->len);
	if (kv->version == AL_VSS_NO_CHECK)
		return pg_write(q, Q_UPSERT, &p, ok);
	if (kv->version == 0)
		return pg_write(q, Q_INSERT, &p, ok);
	p_int(&p, kv->version);
	return pg_write(q, Q_UPDATE, &p, ok);
}

static al_err pg_put(void *db, const st_scope *s, const al_vss_put_req *r)
{
	pg *q = db;
	const al_vss_kv **kv = NULL;
	bool *del = NULL, ok = true;
	size_t i, n = r->nputs + r->ndels;
	al_err e = st_put_order(r, &kv, &del);

	if (e != AL_OK)
		return e;
	e = exec(q, "BEGIN");
	if (e == AL_OK && r->has_global_version)
		e = apply_global(q, s, r->global_version, &ok);
	for (i = 0; i < n && e == AL_OK && ok; i++)
		e = apply_item(q, s, kv[i], del[i], &ok);
	if (e == AL_OK && !ok)
		e = AL_E_VSS_CONFLICT;
	if (e == AL_OK)
		e = exec(q, "COMMIT");
	if (e != AL_OK && PQtransactionStatus(q->conn) != PQTRANS_IDLE)
		(void)exec(q, "ROLLBACK");
	free(kv);
	free(del);
	return e;
}

static al_err pg_del(void *db, const st_scope *s, const al_vss_kv *item)
{
	params p;
	bool changed;

	p_scope(&p, s);
	p_bytes(&p, item->key, strlen(item->key));
	if (item->version != AL_VSS_NO_CHECK)
		p_int(&p, item->version);
	/* Idempotent: no row, or another version, is not an error. */
	return pg_write(db, item->version == AL_VSS_NO_CHECK ? Q_DELETE : Q_DELETE_AT, &p,
	                &changed);
}

static al_err list_rows(pg *q, const st_scope *s, const char *prefix, size_t prefixlen,
                        int64_t before, size_t limit, st_list_fn fn, void *arg)
{
	params p;
	PGresult *r;
	al_err e = AL_OK;
	int i;

	p_scope(&p, s);
	p_bytes(&p, prefix ? prefix : "", prefixlen);
	p_int(&p, before);
	p_int(&p, (int64_t)prefixlen);
	p_int(&p, (int64_t)limit);
	r = run(q, Q_LIST, &p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		e = AL_E_STORE_BACKEND;
	for (i = 0; e == AL_OK && i < PQntuples(r); i++)
		e = fn(arg, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), col_int(r, i, 2),
		       col_int(r, i, 0));
	PQclear(r);
	return e;
}

static al_err pg_list(void *db, const st_scope *s, const char *prefix, size_t prefixlen,
                      int64_t before, size_t limit, int64_t *global, st_list_fn fn, void *arg)
{
	pg *q = db;
	/* One snapshot for the global version and the keys, read in that order. */
	al_err e = exec(q, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");

	if (e == AL_OK && global)
		e = pg_global(q, s, global);
	if (e == AL_OK)
		e = list_rows(q, s, prefix, prefixlen, before, limit, fn, arg);
	if (PQtransactionStatus(q->conn) != PQTRANS_IDLE && exec(q, "COMMIT") != AL_OK)
		e = e == AL_OK ? AL_E_STORE_BACKEND : e;
	return e;
}

static void pg_close(void *db)
{
	pg *q = db;

	if (!q)
		return;
	PQfinish(q->conn);
	free(q);
}

static const st_db_ops pg_ops = {pg_get, pg_global, pg_put, pg_del, pg_list, pg_close};

al_err st_db_open_pg(st_db *db, const char *conninfo, char *why, size_t whycap)
{
	pg *q = calloc(1, sizeof(*q));
	PGresult *r;

	if (!q)
		return AL_E_NOMEM;
	q->conn = PQconnectdb(conninfo);
	if (PQstatus(q->conn) != CONNECTION_OK)
		goto fail;
	/* Quiet the NOTICEs of CREATE ... IF NOT EXISTS. */
	r = PQexec(q->conn, "SET client_min_messages = warning");
	PQclear(r);
	r = PQexec(q->conn, schema);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	*db = (st_db){&pg_ops, q, "postgres"};
	return AL_OK;
fail:
	snprintf(why, whycap, "postgres: %s", q->conn ? PQerrorMessage(q->conn) : "no memory");
	pg_close(q);
	return AL_E_STORE_BACKEND;
}
