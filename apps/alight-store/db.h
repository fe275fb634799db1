/* alight-store's storage: VSS objects behind a small table of operations, with two
 * implementations (SQLite, the embedded default, and PostgreSQL for scale).
 *
 * Every object is filed under (user, store_id, key): the user is the 33-byte public
 * key that signed the request (store/vss.h, "Authorization"), so no query can reach
 * another user's rows. Each (user, store_id) also has a global version (absent: 0).
 * Objects carry a creation sequence number, unique and increasing in the database,
 * kept across updates and renewed when a key is deleted and written again: listings
 * go newest first by it, and a page token is the last number of the page before.
 *
 * The semantics of put and del are VSS's (store/vss.h); an implementation applies a
 * put in one transaction, so that concurrent conflicting puts, even from several
 * alight-store processes on one PostgreSQL, cannot both succeed. */
#ifndef ALIGHT_STORE_APP_DB_H
#define ALIGHT_STORE_APP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "store/vss.h"
#include "util/err.h"

typedef struct st_scope {
	uint8_t user[AL_PUBKEY_LEN];
	const char *store_id; /* NUL-terminated, no NUL inside (vss.h) */
} st_scope;

/* One listed object; key points into memory valid during the call. */
typedef al_err (*st_list_fn)(void *arg, const char *key, size_t keylen, int64_t version,
                             int64_t seq);

typedef struct st_db_ops {
	/* AL_OK with *value (malloc'd, the caller frees; non-NULL even when *len is 0),
	 * AL_E_VSS_NO_SUCH_KEY, or AL_E_STORE_BACKEND. */
	al_err (*get)(void *db, const st_scope *s, const char *key, uint8_t **value, size_t *len,
	              int64_t *version);
	/* The global version (0 if never set). */
	al_err (*global)(void *db, const st_scope *s, int64_t *version);
	/* putObjects, all or nothing: AL_OK, AL_E_VSS_CONFLICT (nothing changed), or
	 * AL_E_STORE_BACKEND (nothing changed). */
	al_err (*put)(void *db, const st_scope *s, const al_vss_put_req *r);
	/* deleteObject: removes the key if present and, unless AL_VSS_NO_CHECK, at that
	 * version; otherwise nothing, still AL_OK. */
	al_err (*del)(void *db, const st_scope *s, const al_vss_kv *item);
	/* Up to `limit` objects whose key starts with prefix (prefixlen bytes) and whose
	 * sequence number is below `before`, newest first; with `global` non-NULL, the
	 * global version read first in the same snapshot. */
	al_err (*list)(void *db, const st_scope *s, const char *prefix, size_t prefixlen,
	               int64_t before, size_t limit, int64_t *global, st_list_fn fn, void *arg);
	void (*close)(void *db);
} st_db_ops;

typedef struct st_db {
	const st_db_ops *ops;
	void *ctx;
	const char *name; /* "sqlite" or "postgres" */
} st_db;

/* Open (creating if needed) DIR/vss.sqlite3. */
al_err st_db_open_sqlite(st_db *db, const char *dir, char *why, size_t whycap);
/* Connect with a libpq connection string and create the tables if needed. */
al_err st_db_open_pg(st_db *db, const char *conninfo, char *why, size_t whycap);

/* Put items in the order implementations apply them: sorted by key, puts and deletes
 * together (a fixed order makes concurrent row locking deadlock-free). *out is malloc'd
 * (the caller frees); flags[i] is true for a delete. */
al_err st_put_order(const al_vss_put_req *r, const al_vss_kv ***out, bool **is_del);

#endif
