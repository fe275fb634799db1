/* Replication: one node's key-value store kept on several untrusted stores at once.
 *
 * ARCHITECTURE.md, "Persistence": "Replication to several stores defeats a single
 * operator rolling state back". Each replica is an ordinary al_kv over its own
 * backend (directory, SQLite, alight-store, another operator's VSS server); every
 * write goes to all of them, and every answer is compared across them.
 *
 * A replica drops out, with the reason kept in al_kvr_state(), when it:
 *   - answers with an older global version than another replica proved (its own
 *     sealed global-version record, which no operator can forge, says how far each
 *     store has got): AL_E_STORE_ROLLBACK;
 *   - serves an object older than another replica holds, or lacks one that another
 *     replica holds: AL_E_STORE_ROLLBACK;
 *   - fails a write the others took (it would be behind from then on), or hands back
 *     a record that does not authenticate: the error it gave.
 * Reads return the highest valid version; a replica out of the set is not consulted
 * again (bringing it back needs a resynchronisation this module does not do). Writes
 * succeed only when `quorum` replicas took them, so a quorum equal to the number of
 * replicas means no write is acknowledged that any store could lose alone; with a
 * smaller quorum the node keeps working on the newest state while the rolled-back
 * store is reported. Below quorum every call fails with AL_E_STORE_REPLICAS: the node
 * refuses to act rather than act on state that may be stale. When no replica at all
 * answered a call, its error is the reason the first one gave (so that over a single
 * replica an al_kvr answers exactly as an al_kv).
 *
 * All replicas start together (the same writes from the first one on): a store added
 * later has a lower global version and is, rightly, indistinguishable from one that
 * was rolled back. */
#ifndef ALIGHT_STORE_REPLICA_H
#define ALIGHT_STORE_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "store/kv.h"

#define AL_KVR_MAX 4

typedef struct al_kvr_replica {
	const al_kv_backend *be;
	void *ctx;
} al_kvr_replica;

typedef struct al_kvr {
	al_kv kv[AL_KVR_MAX];
	al_err state[AL_KVR_MAX]; /* AL_OK while the replica is in the set */
	size_t n, quorum;
	al_arena *scratch;
	int64_t proven; /* the highest global version any replica proved */
} al_kvr;

/* Open every replica (al_kv_init with the same seed, scratch and rng). `last_seen` is
 * the global version the node last persisted, as for al_kv_init. Fails with
 * AL_E_STORE_REPLICAS when fewer than `quorum` replicas are sound, AL_E_ARG for n or
 * quorum outside 1..AL_KVR_MAX or quorum > n. */
AL_WARN_UNUSED al_err al_kvr_init(al_kvr *r, const al_kvr_replica *replicas, size_t n,
                                  size_t quorum, al_arena *scratch, const al_rng *rng,
                                  const uint8_t *seed, size_t seedlen, int64_t last_seen);
void al_kvr_clear(al_kvr *r);

/* AL_OK while replica i is in the set, else why it dropped out. */
al_err al_kvr_state(const al_kvr *r, size_t i);
/* The highest global version proved: persist it, and pass it back to al_kvr_init. */
int64_t al_kvr_global_version(const al_kvr *r);

/* As al_kv_get, over every replica in the set: the highest version wins. */
AL_WARN_UNUSED al_err al_kvr_get(al_kvr *r, uint8_t *out, size_t cap, size_t *len, int64_t *version,
                                 const char *ns, const char *key, int64_t min_version);
/* As al_kv_write_batch: a conflict at the first replica changes nothing anywhere. */
AL_WARN_UNUSED al_err al_kvr_write_batch(al_kvr *r, const al_kv_write *items, size_t n);
AL_WARN_UNUSED al_err al_kvr_put(al_kvr *r, const char *ns, const char *key, const uint8_t *value,
                                 size_t len, int64_t version);
AL_WARN_UNUSED al_err al_kvr_delete(al_kvr *r, const char *ns, const char *key, int64_t version);
/* As al_kv_list, answered by the first replica in the set. A store error drops that
 * replica and is returned (the visitor may have seen part of the listing); calling
 * again asks the next one. */
AL_WARN_UNUSED al_err al_kvr_list(al_kvr *r, const char *ns, const char *prefix, al_kv_visit_fn fn,
                                  void *arg);

#endif
