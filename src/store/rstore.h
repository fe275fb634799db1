/* A node's records on several untrusted stores at once, asynchronously: the sans-I/O
 * engine behind "persist before you speak".
 *
 * ARCHITECTURE.md, "Persistence" and "The trust boundary": "Rollback: state is written
 * to several stores (one may be run by the user) and read as the highest authenticated
 * version; with a single store the node says that rollback protection is off."
 *
 * The engine seals every value (store/seal.h, keys from the node seed) and never does
 * I/O: it hands out requests (al_rs_next) that its driver performs against replica
 * `replica` (a directory, SQLite, an alight-store/VSS server: anything with the
 * semantics of store/kv.h's al_kv_backend get and put_batch) and reports back
 * (al_rs_get_done, al_rs_put_done), in any order and at any later time. Objects are
 * named by (namespace, key) as in al_kv, and the records are al_kv's: the same stores
 * serve both.
 *
 * Loading (once, al_rs_load): every replica is asked for its global-version record and
 * for every object the node names. Then, with every answer in:
 *   - a replica whose answer does not authenticate drops out with that reason;
 *   - the proven global version is the highest any replica proved (its sealed
 *     global-version record, which no operator can forge) or the caller's `last_seen`
 *     (the global version the node last made durable, kept in its own sealed state);
 *     a replica below it drops out with AL_E_STORE_ROLLBACK (an old copy, or a store
 *     deleted and started afresh);
 *   - each object's value is the highest version any replica holds; a replica that
 *     holds an older version, or lacks an object another holds, drops out with
 *     AL_E_STORE_ROLLBACK;
 *   - fewer than `quorum` replicas left: the engine fails (AL_E_STORE_REPLICAS, or the
 *     reason itself when every replica gave the same one) and refuses to act on state
 *     that may be stale.
 * Writing (al_rs_write, one batch at a time): the batch goes to every replica still in
 * the set as one all-or-nothing put_batch with the expected versions (VSS semantics);
 * a replica that refuses or fails drops out. The batch is durable when every replica
 * answered and at least `quorum` took it; only then may what depends on it be spoken.
 * Fewer: the engine fails for good (a sticky error).
 *
 * Memory: the object table comes from the arena given to al_rs_init; sealed records
 * in flight and loaded values from the al_alloc (released as soon as they are done
 * with). The driver's answers are copied before use and never trusted. */
#ifndef ALIGHT_STORE_RSTORE_H
#define ALIGHT_STORE_RSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/rng.h"
#include "store/kv.h"
#include "store/seal.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/err.h"

#define AL_RS_MAX_REPLICAS 4
/* Items per write batch (the engine adds its global-version record). */
#define AL_RS_BATCH_MAX 16

typedef struct al_rs_config {
	size_t n_replicas;  /* 1..AL_RS_MAX_REPLICAS */
	size_t quorum;      /* 1..n_replicas */
	size_t max_objects; /* objects the node may name, >= 1 */
	int64_t last_seen;  /* the global version last made durable (0: a new node) */
} al_rs_config;

/* An object's name. Both are NUL-terminated, 1..AL_SEAL_NAME_MAX bytes. */
typedef struct al_rs_key {
	const char *ns;
	const char *key;
} al_rs_key;

/* One item of a write: value NULL deletes the object. */
typedef struct al_rs_item {
	const char *ns;
	const char *key;
	const uint8_t *value;
	size_t len;
} al_rs_item;

typedef enum al_rs_req_kind { AL_RS_GET = 1, AL_RS_PUT = 2 } al_rs_req_kind;

/* A request for the driver. GET: object `name` of replica `replica`; answer with
 * al_rs_get_done(id, ...). PUT: put_batch(items, n_items, global_version) on that
 * replica; answer with al_rs_put_done(id, ...). Items stay valid until answered. */
typedef struct al_rs_req {
	al_rs_req_kind kind;
	uint32_t replica;
	uint64_t id;
	uint8_t name[AL_SEAL_NAME_LEN];
	const al_kv_bitem *items;
	size_t n_items;
	int64_t global_version;
} al_rs_req;

typedef enum al_rs_state {
	AL_RS_IDLE = 0,    /* initialised, al_rs_load not called */
	AL_RS_LOADING = 1, /* answers outstanding */
	AL_RS_READY = 2,   /* loaded, no write in flight */
	AL_RS_WRITING = 3, /* a batch in flight */
	AL_RS_FAILED = 4,  /* sticky: al_rs_error says why */
} al_rs_state;

/* What an answer completed. */
typedef enum al_rs_done {
	AL_RS_MORE = 0,    /* nothing yet (or the answer was stale and ignored) */
	AL_RS_LOADED = 1,  /* loading finished: READY, or FAILED */
	AL_RS_DURABLE = 2, /* the batch in flight is durable: READY */
	AL_RS_LOST = 3,    /* the batch in flight failed: FAILED */
} al_rs_done;

struct al_rs_obj;
struct al_rs_pend;

typedef struct al_rs {
	al_rs_config cfg;
	al_seal_keys keys;
	uint8_t meta_name[AL_SEAL_NAME_LEN]; /* of the global-version record */
	const al_alloc *mem;
	const al_rng *rng;
	al_rs_state state;
	al_err err;
	al_err replica_err[AL_RS_MAX_REPLICAS]; /* AL_OK while in the set */
	int64_t replica_g[AL_RS_MAX_REPLICAS];  /* global version each proved on load */
	int64_t global_version;                 /* durable, proven */
	struct al_rs_obj *objs;
	size_t n_objs;
	uint64_t gen; /* ids: gen << 24 | slot, below 2^48 */
	/* requests not yet handed out, and answers still owed */
	struct al_rs_pend *pend;
	size_t n_pend, next_out, outstanding;
	/* the batch in flight */
	al_kv_bitem *batch;
	size_t batch_n;
	int64_t batch_g;
	size_t acks;
	uint64_t stale; /* answers that matched no request (counted, ignored) */
} al_rs;

/* Arena bytes al_rs_init takes; 0 for a config out of range. */
size_t al_rs_mem_size(const al_rs_config *cfg);
/* Derive the storage keys from the node seed (store/seal.h) and take the object table
 * from the arena. AL_E_ARG for a config out of range. `mem`, `rng` and the arena must
 * outlive the engine. */
AL_WARN_UNUSED al_err al_rs_init(al_rs *rs, al_arena *a, const al_rs_config *cfg,
                                 const al_alloc *mem, const al_rng *rng, const uint8_t *seed,
                                 size_t seedlen);
/* Wipe the keys and give back every block (requests in flight are forgotten). */
void al_rs_clear(al_rs *rs);

/* Start loading the named objects (at most max_objects, distinct). AL_E_STORE_STATE
 * unless IDLE. */
AL_WARN_UNUSED al_err al_rs_load(al_rs *rs, const al_rs_key *objs, size_t n);
/* The next request to perform, in order; false when none is waiting. */
bool al_rs_next(al_rs *rs, al_rs_req *out);
/* Answers. GET: status AL_OK with the record (blob, len) and the backend's version of
 * it, AL_E_STORE_NOT_FOUND when absent, or the backend's error. PUT: AL_OK once the
 * batch is durable on that replica, or its error. An id no request has (any longer) is
 * ignored: the answer is AL_RS_MORE. */
al_rs_done al_rs_get_done(al_rs *rs, uint64_t id, al_err status, const uint8_t *blob, size_t len,
                          int64_t version);
al_rs_done al_rs_put_done(al_rs *rs, uint64_t id, al_err status);

/* After loading: the value of a named object (NULL and 0 if no replica had it) and its
 * version. Valid until the first write (values are given back then); copy what you
 * keep. AL_E_ARG for an object not named to al_rs_load. */
AL_WARN_UNUSED al_err al_rs_value(const al_rs *rs, const char *ns, const char *key,
                                  const uint8_t **value, size_t *len, int64_t *version);

/* Write a batch (1..AL_RS_BATCH_MAX items, distinct objects). AL_E_STORE_STATE unless
 * READY (one batch at a time: the caller queues), AL_E_STORE_FULL beyond max_objects,
 * AL_E_TOO_LARGE for a value over AL_SEAL_VALUE_MAX. A refused write changes nothing. */
AL_WARN_UNUSED al_err al_rs_write(al_rs *rs, const al_rs_item *items, size_t n);

al_rs_state al_rs_get_state(const al_rs *rs);
/* Why the engine failed (AL_OK while it has not). */
al_err al_rs_error(const al_rs *rs);
/* AL_OK while replica i is in the set, else why it dropped out. */
al_err al_rs_replica(const al_rs *rs, size_t i);
size_t al_rs_replicas_in_set(const al_rs *rs);
/* The durable global version: persist it in sealed state, give it back as last_seen. */
int64_t al_rs_global_version(const al_rs *rs);
/* Answers that matched no request. */
uint64_t al_rs_stale_answers(const al_rs *rs);

#endif
