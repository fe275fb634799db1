/* The node's key-value store: (namespace, key) -> (value, version), encrypted.
 *
 * ARCHITECTURE.md, "Persistence". The node talks to an al_kv; the al_kv seals every
 * value (store/seal.h) and hands opaque names and ciphertext to a backend, a table of
 * function pointers the host implements, as SQLite's sqlite3_vfs does for files. The
 * al_kv itself does no I/O: everything crosses the al_kv_backend table.
 *
 * Versions follow the VSS protocol (lightningdevkit/vss-server, proto/vss.proto):
 *   - key-level: "For the first write of any `key`, the `version` should be '0'" and
 *     each successful write increments it; a write "will succeed if the current DB
 *     version against the `key` is the same as in the request", else it fails with a
 *     conflict (AL_E_STORE_VERSION). Version -1 (AL_KV_ANY) is a non-conditional
 *     write "after which the `version` against the `key` is reset to '1'".
 *   - global: a sequence number of the whole store; "The server increments
 *     `global_version` (server-side) for every successful write". Every write batch
 *     carries the global version the al_kv last saw, so writes stay linear.
 *   - a batch is "written in a database-transaction in an all-or-nothing fashion"
 *     and its items "must have distinct keys".
 *
 * Rollback. The al_kv tracks the highest global version it has seen and refuses any
 * backend answer older than that (AL_E_STORE_ROLLBACK): a global version below it, or
 * a record written by a batch newer than the store claims to be. It persists the
 * number twice: in the store itself (a sealed record in the reserved empty namespace,
 * rewritten by every batch, which exposes a rolled-back global counter), and through
 * al_kv_global_version(), which the enclave keeps in its own sealed state and passes
 * back as `last_seen` on the next al_kv_init (which exposes a whole-store rollback).
 * A single object served at an older version is caught when the caller states the
 * version it last wrote (al_kv_get's min_version), and always by a conditional write.
 *
 * Threading: an al_kv and its backend are used from one thread at a time. */
#ifndef ALIGHT_STORE_KV_H
#define ALIGHT_STORE_KV_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/rng.h"
#include "store/seal.h"
#include "util/arena.h"
#include "util/err.h"

/* VSS: "set the `version` against the `key` to '-1'" to skip the version check. */
#define AL_KV_ANY ((int64_t)-1)
/* Items per write batch (the al_kv adds its own global-version record). */
#define AL_KV_BATCH_MAX 64
#define AL_KV_NAME_LEN  AL_SEAL_NAME_LEN

/* ---- the backend: implemented by the host ----
 *
 * A backend stores opaque objects: a 32-byte name, a value (a sealed record it never
 * interprets) and a key-level version >= 1, plus one store-wide global version
 * (0 for an empty store). Every function returns AL_E_STORE_BACKEND when its I/O
 * fails and never changes anything in that case unless stated. Results are not
 * trusted: the al_kv checks everything a backend says. */

typedef struct al_kv_bitem {
	uint8_t name[AL_KV_NAME_LEN];
	const uint8_t *value; /* the new record; NULL deletes the object */
	size_t len;
	int64_t version; /* expected current version: 0 absent, v > 0 equal, AL_KV_ANY */
} al_kv_bitem;

/* List callback: one object. A non-OK return stops the listing and is returned. It
 * must not call back into the backend. */
typedef al_err (*al_kv_list_fn)(void *arg, const uint8_t name[AL_KV_NAME_LEN], int64_t version);

typedef struct al_kv_backend {
	/* Copy the object's value into buf. AL_OK with *len and *version;
	 * AL_E_STORE_NOT_FOUND when absent; AL_E_BUFSIZE when cap is too small, with
	 * *len set to the size needed. */
	al_err (*get)(void *ctx, const uint8_t name[AL_KV_NAME_LEN], uint8_t *buf, size_t cap,
	              size_t *len, int64_t *version);
	/* Apply n items atomically and durably (persist before you speak: everything is
	 * on stable storage when AL_OK returns), if and only if the store's global
	 * version equals global_version and every item's expectation holds:
	 *   put:    version 0: the object is absent; v > 0: its version is v;
	 *           AL_KV_ANY: no check. The new version is v + 1, or 1 for AL_KV_ANY.
	 *   delete: the object exists, and its version is v unless v is AL_KV_ANY.
	 * On success the global version becomes global_version + 1. Any failed
	 * expectation: AL_E_STORE_VERSION and nothing changes. Names are distinct. */
	al_err (*put_batch)(void *ctx, const al_kv_bitem *items, size_t n, int64_t global_version);
	/* VSS DeleteObject: remove one object if its version is `version` (or any, for
	 * AL_KV_ANY), durably. Absent: AL_OK (idempotent). Mismatch: AL_E_STORE_VERSION.
	 * The global version does not change. */
	al_err (*del)(void *ctx, const uint8_t name[AL_KV_NAME_LEN], int64_t version);
	/* Call fn for every object whose name starts with prefix (prefixlen <= 32), in
	 * any order; *global_version receives the global version, read before the
	 * names. */
	al_err (*list)(void *ctx, const uint8_t *prefix, size_t prefixlen, al_kv_list_fn fn,
	               void *arg, int64_t *global_version);
	/* The current global version. */
	al_err (*global_version)(void *ctx, int64_t *out);
} al_kv_backend;

/* ---- the node's interface ---- */

typedef struct al_kv {
	al_seal_keys keys;
	const al_kv_backend *be;
	void *be_ctx;
	const al_rng *rng;
	al_arena *scratch; /* records in flight; released (wiped) after every call */
	int64_t global_version;
} al_kv;

/* One item of a write batch. ns and key are NUL-terminated, 1..255 bytes. */
typedef struct al_kv_write {
	const char *ns;
	const char *key;
	const uint8_t *value; /* NULL deletes the object */
	size_t len;
	int64_t version; /* VSS expectation, as in al_kv_bitem */
} al_kv_write;

/* List visitor: one object of the namespace; value points into scratch memory valid
 * during the call only. A non-OK return stops the listing and is returned. */
typedef al_err (*al_kv_visit_fn)(void *arg, const char *key, int64_t version, const uint8_t *value,
                                 size_t len);

/* Derive the storage keys from the node seed and attach a backend. `scratch` holds
 * records in flight (the largest record plus a few hundred bytes; listings need 48
 * bytes per object more). `last_seen` is the global version the node last persisted
 * (0 for a new node): a store older than it is refused with AL_E_STORE_ROLLBACK, as
 * is a store whose own global-version record disagrees with its global version. */
AL_WARN_UNUSED al_err al_kv_init(al_kv *kv, const al_kv_backend *be, void *be_ctx,
                                 al_arena *scratch, const al_rng *rng, const uint8_t *seed,
                                 size_t seedlen, int64_t last_seen);
/* Wipe the keys. */
void al_kv_clear(al_kv *kv);

/* The highest global version seen: persist it, and pass it back to al_kv_init. */
int64_t al_kv_global_version(const al_kv *kv);
/* VSS: the version an object has after a successful write expecting `expected`. */
int64_t al_kv_version_after(int64_t expected);

/* Fetch (ns, key) into out. min_version is the version the caller last wrote or
 * read (0 if unknown): an object older than that is AL_E_STORE_ROLLBACK. Absent:
 * AL_E_STORE_NOT_FOUND. out too small: AL_E_BUFSIZE with *len the value's size. */
AL_WARN_UNUSED al_err al_kv_get(al_kv *kv, uint8_t *out, size_t cap, size_t *len, int64_t *version,
                                const char *ns, const char *key, int64_t min_version);
/* Write one value (a batch of one). */
AL_WARN_UNUSED al_err al_kv_put(al_kv *kv, const char *ns, const char *key, const uint8_t *value,
                                size_t len, int64_t version);
/* Write up to AL_KV_BATCH_MAX items, all or nothing; a conflict in any item is
 * AL_E_STORE_VERSION with nothing written. Duplicate (ns, key) pairs: AL_E_ARG. */
AL_WARN_UNUSED al_err al_kv_write_batch(al_kv *kv, const al_kv_write *items, size_t n);
/* VSS DeleteObject: idempotent; a version mismatch is AL_E_STORE_VERSION. */
AL_WARN_UNUSED al_err al_kv_delete(al_kv *kv, const char *ns, const char *key, int64_t version);
/* Visit every object of namespace ns whose key starts with prefix ("" for all). */
AL_WARN_UNUSED al_err al_kv_list(al_kv *kv, const char *ns, const char *prefix, al_kv_visit_fn fn,
                                 void *arg);

#endif
