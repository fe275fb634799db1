#include "store/replica.h"

#include <string.h>

#include "util/mem.h"

/* Errors that say the request itself cannot be carried out (the caller's to fix),
 * as opposed to a replica misbehaving. */
static bool caller_err(al_err e)
{
	return e == AL_E_ARG || e == AL_E_NOMEM || e == AL_E_TOO_LARGE || e == AL_E_OVERFLOW ||
	       e == AL_E_BUFSIZE;
}

static size_t in_set(const al_kvr *r)
{
	size_t i, k = 0;

	for (i = 0; i < r->n; i++)
		k += r->state[i] == AL_OK;
	return k;
}

static al_err usable(const al_kvr *r)
{
	return in_set(r) >= r->quorum ? AL_OK : AL_E_STORE_REPLICAS;
}

static void drop(al_kvr *r, size_t i, al_err why)
{
	r->state[i] = why;
	al_kv_clear(&r->kv[i]);
}

static void note_proven(al_kvr *r, size_t i)
{
	if (r->kv[i].global_version > r->proven)
		r->proven = r->kv[i].global_version;
}

/* A replica that has not got as far as another one proved is behind: rolled back. */
static void drop_behind(al_kvr *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->state[i] == AL_OK && r->kv[i].global_version < r->proven)
			drop(r, i, AL_E_STORE_ROLLBACK);
}

al_err al_kvr_init(al_kvr *r, const al_kvr_replica *replicas, size_t n, size_t quorum,
                   al_arena *scratch, const al_rng *rng, const uint8_t *seed, size_t seedlen,
                   int64_t last_seen)
{
	al_err err;
	size_t i;

	if (!r || !replicas || n == 0 || n > AL_KVR_MAX || quorum == 0 || quorum > n ||
	    last_seen < 0)
		return AL_E_ARG;
	memset(r, 0, sizeof(*r));
	r->n = n;
	r->quorum = quorum;
	r->scratch = scratch;
	r->proven = last_seen;
	for (i = 0; i < n; i++) {
		err = al_kv_init(&r->kv[i], replicas[i].be, replicas[i].ctx, scratch, rng, seed,
		                 seedlen, last_seen);
		if (caller_err(err)) {
			al_kvr_clear(r);
			return err;
		}
		r->state[i] = err;
		if (err == AL_OK)
			note_proven(r, i);
	}
	drop_behind(r);
	return usable(r);
}

void al_kvr_clear(al_kvr *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		al_kv_clear(&r->kv[i]);
}

al_err al_kvr_state(const al_kvr *r, size_t i)
{
	if (!r || i >= r->n)
		return AL_E_ARG;
	return r->state[i];
}

int64_t al_kvr_global_version(const al_kvr *r)
{
	return r->proven;
}

/* One replica's answer to a get. */
struct answer {
	al_err err;
	int64_t version;
};

/* Ask every replica, keeping the newest value in out; replicas that are behind the
 * newest, or whose answer does not hold up, drop out. */
al_err al_kvr_get(al_kvr *r, uint8_t *out, size_t cap, size_t *len, int64_t *version,
                  const char *ns, const char *key, int64_t min_version)
{
	struct answer a[AL_KVR_MAX];
	size_t i, best = AL_KVR_MAX, blen = 0, mark;
	al_err err, first_drop = AL_OK;
	uint8_t *tmp = NULL;

	if (!r || !len || !version || (!out && cap))
		return AL_E_ARG;
	AL_TRY(usable(r));
	mark = al_arena_mark(r->scratch);
	if (cap)
		AL_TRY(al_arena_alloc(r->scratch, cap, 8, (void **)&tmp));
	for (i = 0; i < r->n; i++) {
		a[i].err = AL_E_STORE_NOT_FOUND;
		if (r->state[i] != AL_OK)
			continue;
		a[i].err =
		    al_kv_get(&r->kv[i], tmp, cap, &blen, &a[i].version, ns, key, min_version);
		if (caller_err(a[i].err) && a[i].err != AL_E_BUFSIZE) {
			err = a[i].err;
			goto out;
		}
		if (a[i].err != AL_OK && a[i].err != AL_E_STORE_NOT_FOUND &&
		    a[i].err != AL_E_BUFSIZE) {
			if (first_drop == AL_OK)
				first_drop = a[i].err;
			drop(r, i, a[i].err);
			continue;
		}
		if (a[i].err == AL_E_STORE_NOT_FOUND)
			continue;
		if (best == AL_KVR_MAX || a[i].version > a[best].version) {
			best = i;
			*len = blen;
			if (a[i].err == AL_OK && blen)
				memcpy(out, tmp, blen);
		}
	}
	/* Whoever lacks the newest version is behind. */
	for (i = 0; best != AL_KVR_MAX && i < r->n; i++)
		if (r->state[i] == AL_OK &&
		    (a[i].err == AL_E_STORE_NOT_FOUND || a[i].version < a[best].version))
			drop(r, i, AL_E_STORE_ROLLBACK);
	err = usable(r);
	/* With no answer left, the reason a replica gave is more precise than "too few". */
	if (best == AL_KVR_MAX && first_drop != AL_OK)
		err = first_drop;
	else if (err == AL_OK && best == AL_KVR_MAX)
		err = AL_E_STORE_NOT_FOUND;
	if (err == AL_OK) {
		*version = a[best].version;
		err = a[best].err;
	}
out:
	if (tmp)
		al_memzero(tmp, cap);
	al_arena_release(r->scratch, mark);
	return err;
}

/* Apply one write to every replica in the set. Until one replica has taken it, a
 * refusal (a version conflict included) is the answer and nothing was written; after
 * that, a replica refusing what another took has diverged and drops out. */
static al_err write_all(al_kvr *r, const al_kv_write *items, size_t n, const char *ns,
                        const char *key, int64_t del_version)
{
	al_err err, first_drop = AL_OK;
	size_t i, acks = 0;

	AL_TRY(usable(r));
	for (i = 0; i < r->n; i++) {
		if (r->state[i] != AL_OK)
			continue;
		err = items ? al_kv_write_batch(&r->kv[i], items, n)
		            : al_kv_delete(&r->kv[i], ns, key, del_version);
		if (err == AL_OK) {
			acks++;
			note_proven(r, i);
			continue;
		}
		if (acks == 0 && (caller_err(err) || err == AL_E_STORE_VERSION))
			return err;
		err = err == AL_E_STORE_VERSION ? AL_E_STORE_ROLLBACK : err;
		if (first_drop == AL_OK)
			first_drop = err;
		drop(r, i, err);
	}
	drop_behind(r);
	if (acks == 0 && first_drop != AL_OK)
		return first_drop;
	return acks >= r->quorum ? AL_OK : AL_E_STORE_REPLICAS;
}

al_err al_kvr_write_batch(al_kvr *r, const al_kv_write *items, size_t n)
{
	if (!r || !items)
		return AL_E_ARG;
	return write_all(r, items, n, NULL, NULL, 0);
}

al_err al_kvr_put(al_kvr *r, const char *ns, const char *key, const uint8_t *value, size_t len,
                  int64_t version)
{
	al_kv_write w = {ns, key, value, len, version};

	if (!value)
		return AL_E_ARG;
	return al_kvr_write_batch(r, &w, 1);
}

al_err al_kvr_delete(al_kvr *r, const char *ns, const char *key, int64_t version)
{
	if (!r)
		return AL_E_ARG;
	return write_all(r, NULL, 0, ns, key, version);
}

al_err al_kvr_list(al_kvr *r, const char *ns, const char *prefix, al_kv_visit_fn fn, void *arg)
{
	al_err err;
	size_t i;

	if (!r)
		return AL_E_ARG;
	AL_TRY(usable(r));
	for (i = 0; r->state[i] != AL_OK; i++)
		;
	err = al_kv_list(&r->kv[i], ns, prefix, fn, arg);
	/* A store error drops the replica; the visitor may have seen part of the listing,
	 * so the error is returned and a retry is answered by the next replica. */
	if (err >= AL_E_STORE_TAMPERED && err <= AL_E_STORE_BACKEND && err != AL_E_STORE_NOT_FOUND)
		drop(r, i, err);
	return err;
}
