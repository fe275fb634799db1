#include "store/rstore.h"

#include <string.h>

#include "util/mem.h"
#include "util/cursor.h"

/* The store's own record (as store/kv.c writes it): the global version, in the
 * reserved empty namespace, rewritten by every batch. */
static const char meta_ns[] = "";
static const char meta_key[] = "global_version";

/* A record larger than this is refused before it is copied. */
#define RECORD_MAX (AL_SEAL_OVERHEAD + AL_SEAL_NAME_MAX + AL_SEAL_VALUE_MAX)
#define ID_SLOTS   (1u << 24)

struct al_rs_obj {
	char ns[AL_SEAL_NAME_MAX + 1];
	char key[AL_SEAL_NAME_MAX + 1];
	uint8_t name[AL_SEAL_NAME_LEN];
	int64_t version; /* durable object version, 0: absent */
	/* loading: the best record so far and what each replica holds */
	uint8_t *best; /* the opened record (al_alloc), its value at best + best_off */
	size_t best_off, best_len;
	int64_t best_version;
	int64_t held[AL_RS_MAX_REPLICAS];   /* version each replica holds, 0: none */
	int64_t held_g[AL_RS_MAX_REPLICAS]; /* the global version of its batch */
};

/* One request: a GET of object `obj` (SIZE_MAX: the global-version record), or a PUT. */
struct al_rs_pend {
	al_rs_req_kind kind;
	uint32_t replica;
	size_t obj;
	bool answered;
};

static bool name_ok(const char *s)
{
	return s && s[0] && strlen(s) <= AL_SEAL_NAME_MAX;
}

size_t al_rs_mem_size(const al_rs_config *c)
{
	size_t slots;

	if (!c || c->n_replicas < 1 || c->n_replicas > AL_RS_MAX_REPLICAS || c->quorum < 1 ||
	    c->quorum > c->n_replicas || c->max_objects < 1 || c->max_objects > 65535 ||
	    c->last_seen < 0)
		return 0;
	slots = c->n_replicas * (c->max_objects + 1);
	return c->max_objects * sizeof(struct al_rs_obj) + slots * sizeof(struct al_rs_pend) +
	       (AL_RS_BATCH_MAX + 1) * sizeof(al_kv_bitem) + 64;
}

al_err al_rs_init(al_rs *rs, al_arena *a, const al_rs_config *cfg, const al_alloc *mem,
                  const al_rng *rng, const uint8_t *seed, size_t seedlen)
{
	size_t mark = al_arena_mark(a), slots;
	al_err e;

	memset(rs, 0, sizeof(*rs));
	if (!al_rs_mem_size(cfg) || !mem || !rng)
		return AL_E_ARG;
	rs->cfg = *cfg;
	rs->mem = mem;
	rs->rng = rng;
	rs->global_version = cfg->last_seen;
	slots = cfg->n_replicas * (cfg->max_objects + 1);
	e = al_arena_alloc(a, cfg->max_objects * sizeof(struct al_rs_obj),
	                   _Alignof(struct al_rs_obj), (void **)&rs->objs);
	if (e == AL_OK)
		e = al_arena_alloc(a, slots * sizeof(struct al_rs_pend),
		                   _Alignof(struct al_rs_pend), (void **)&rs->pend);
	if (e == AL_OK)
		e = al_arena_alloc(a, (AL_RS_BATCH_MAX + 1) * sizeof(al_kv_bitem),
		                   _Alignof(al_kv_bitem), (void **)&rs->batch);
	if (e == AL_OK)
		e = al_seal_keys_derive(&rs->keys, seed, seedlen);
	if (e == AL_OK)
		e = al_seal_name(&rs->keys, rs->meta_name, meta_ns, meta_key);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		memset(rs, 0, sizeof(*rs));
	}
	return e;
}

static void drop_best(al_rs *rs, struct al_rs_obj *o)
{
	if (o->best) {
		al_memzero(o->best, o->best_len + o->best_off);
		al_alloc_put(rs->mem, o->best);
	}
	o->best = NULL;
	o->best_off = o->best_len = 0;
	o->best_version = 0;
}

static void batch_free(al_rs *rs)
{
	for (size_t i = 0; i < rs->batch_n; i++)
		al_alloc_put(rs->mem, (void *)rs->batch[i].value);
	rs->batch_n = 0;
}

void al_rs_clear(al_rs *rs)
{
	if (!rs || !rs->objs)
		return;
	for (size_t i = 0; i < rs->n_objs; i++)
		drop_best(rs, &rs->objs[i]);
	batch_free(rs);
	al_seal_keys_clear(&rs->keys);
	rs->state = AL_RS_FAILED;
	rs->err = AL_E_STORE_STATE;
}

al_rs_state al_rs_get_state(const al_rs *rs)
{
	return rs->state;
}

al_err al_rs_error(const al_rs *rs)
{
	return rs->err;
}

al_err al_rs_replica(const al_rs *rs, size_t i)
{
	return i < rs->cfg.n_replicas ? rs->replica_err[i] : AL_E_ARG;
}

size_t al_rs_replicas_in_set(const al_rs *rs)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->cfg.n_replicas; i++)
		n += rs->replica_err[i] == AL_OK;
	return n;
}

int64_t al_rs_global_version(const al_rs *rs)
{
	return rs->global_version;
}

uint64_t al_rs_stale_answers(const al_rs *rs)
{
	return rs->stale;
}

static void fail(al_rs *rs, al_err e)
{
	rs->state = AL_RS_FAILED;
	rs->err = e;
}

static void drop(al_rs *rs, uint32_t r, al_err why)
{
	if (rs->replica_err[r] == AL_OK)
		rs->replica_err[r] = why;
}

/* --- requests --------------------------------------------------------------------- */

static uint64_t id_of(const al_rs *rs, size_t slot)
{
	return (rs->gen << 24) | (uint64_t)slot;
}

/* The pending slot an answer names, or NULL (stale, unknown, answered twice). */
static struct al_rs_pend *slot_of(al_rs *rs, uint64_t id, al_rs_req_kind kind)
{
	size_t slot = (size_t)(id & (ID_SLOTS - 1));
	if ((id >> 24) != rs->gen || slot >= rs->n_pend || rs->pend[slot].kind != kind ||
	    rs->pend[slot].answered || slot >= rs->next_out) {
		rs->stale++;
		return NULL;
	}
	return &rs->pend[slot];
}

bool al_rs_next(al_rs *rs, al_rs_req *out)
{
	memset(out, 0, sizeof(*out));
	if ((rs->state != AL_RS_LOADING && rs->state != AL_RS_WRITING) ||
	    rs->next_out >= rs->n_pend)
		return false;
	size_t slot = rs->next_out++;
	const struct al_rs_pend *p = &rs->pend[slot];
	out->kind = p->kind;
	out->replica = p->replica;
	out->id = id_of(rs, slot);
	if (p->kind == AL_RS_GET) {
		if (p->obj == SIZE_MAX)
			memcpy(out->name, rs->meta_name, AL_SEAL_NAME_LEN);
		else
			memcpy(out->name, rs->objs[p->obj].name, AL_SEAL_NAME_LEN);
	} else {
		out->items = rs->batch;
		out->n_items = rs->batch_n;
		out->global_version = rs->batch_g;
	}
	return true;
}

/* A new round of requests: ids of the last round become stale. */
static void round_begin(al_rs *rs)
{
	rs->gen = (rs->gen + 1) & 0xffffffu; /* ids stay below 2^48 */
	rs->n_pend = rs->next_out = rs->outstanding = 0;
}

static void round_add(al_rs *rs, al_rs_req_kind kind, uint32_t replica, size_t obj)
{
	struct al_rs_pend *p = &rs->pend[rs->n_pend++];
	p->kind = kind;
	p->replica = replica;
	p->obj = obj;
	p->answered = false;
	rs->outstanding++;
}

/* --- loading ---------------------------------------------------------------------- */

static struct al_rs_obj *obj_find(const al_rs *rs, const char *ns, const char *key)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		if (!strcmp(rs->objs[i].ns, ns) && !strcmp(rs->objs[i].key, key))
			return &rs->objs[i];
	return NULL;
}

static al_err obj_add(al_rs *rs, const char *ns, const char *key, struct al_rs_obj **out)
{
	struct al_rs_obj *o;

	if (!name_ok(ns) || !name_ok(key))
		return AL_E_ARG;
	if ((o = obj_find(rs, ns, key)) != NULL) {
		*out = o;
		return AL_OK;
	}
	if (rs->n_objs == rs->cfg.max_objects)
		return AL_E_STORE_FULL;
	o = &rs->objs[rs->n_objs];
	memset(o, 0, sizeof(*o));
	memcpy(o->ns, ns, strlen(ns) + 1);
	memcpy(o->key, key, strlen(key) + 1);
	AL_TRY(al_seal_name(&rs->keys, o->name, ns, key));
	rs->n_objs++;
	*out = o;
	return AL_OK;
}

al_err al_rs_load(al_rs *rs, const al_rs_key *objs, size_t n)
{
	struct al_rs_obj *o;

	if (rs->state != AL_RS_IDLE)
		return AL_E_STORE_STATE;
	if (n > rs->cfg.max_objects || (n && !objs))
		return AL_E_ARG;
	for (size_t i = 0; i < n; i++) {
		if (obj_find(rs, objs[i].ns, objs[i].key)) {
			rs->n_objs = 0;
			return AL_E_ARG;
		}
		al_err e = obj_add(rs, objs[i].ns, objs[i].key, &o);
		if (e != AL_OK) {
			rs->n_objs = 0;
			return e;
		}
	}
	round_begin(rs);
	for (uint32_t r = 0; r < rs->cfg.n_replicas; r++) {
		round_add(rs, AL_RS_GET, r, SIZE_MAX);
		for (size_t i = 0; i < rs->n_objs; i++)
			round_add(rs, AL_RS_GET, r, i);
	}
	rs->state = AL_RS_LOADING;
	return AL_OK;
}

/* A copy of the answer, opened. On success *rec is an al_alloc block the caller owns. */
static al_err open_answer(al_rs *rs, uint8_t **rec, al_seal_view *v, const char *ns,
                          const uint8_t name[AL_SEAL_NAME_LEN], const uint8_t *blob, size_t len,
                          int64_t version)
{
	*rec = NULL;
	if (!blob || len == 0)
		return AL_E_STORE_TRUNCATED;
	if (len > RECORD_MAX)
		return AL_E_TOO_LARGE;
	AL_TRY(al_alloc_get(rs->mem, len, (void **)rec));
	memcpy(*rec, blob, len); /* copy first: the driver's buffer may change */
	al_err e = al_seal_open(&rs->keys, v, *rec, len, ns, name, version);
	if (e != AL_OK) {
		al_memzero(*rec, len);
		al_alloc_put(rs->mem, *rec);
		*rec = NULL;
	}
	return e;
}

static void got_meta(al_rs *rs, uint32_t r, al_err status, const uint8_t *blob, size_t len,
                     int64_t version)
{
	uint8_t *rec = NULL;
	al_seal_view v;
	al_err e;

	if (status == AL_E_STORE_NOT_FOUND) {
		rs->replica_g[r] = 0; /* a store never written */
		return;
	}
	if (status != AL_OK) {
		drop(rs, r, status);
		return;
	}
	e = open_answer(rs, &rec, &v, meta_ns, rs->meta_name, blob, len, version);
	if (e == AL_OK && (v.len != 8 || (int64_t)al_read_be64(v.value) != v.global_version))
		e = AL_E_STORE_TAMPERED;
	if (e == AL_OK)
		rs->replica_g[r] = v.global_version;
	else
		drop(rs, r, e);
	if (rec) {
		al_memzero(rec, len);
		al_alloc_put(rs->mem, rec);
	}
}

static void got_obj(al_rs *rs, uint32_t r, struct al_rs_obj *o, al_err status, const uint8_t *blob,
                    size_t len, int64_t version)
{
	uint8_t *rec = NULL;
	al_seal_view v;
	al_err e;

	if (status == AL_E_STORE_NOT_FOUND)
		return; /* held[r] stays 0 */
	if (status != AL_OK) {
		drop(rs, r, status);
		return;
	}
	e = open_answer(rs, &rec, &v, o->ns, o->name, blob, len, version);
	if (e != AL_OK) {
		drop(rs, r, e);
		return;
	}
	/* Whether the record's batch is newer than its store claims to be is decided
	 * once every global version is in (finish_load): answers come in any order. */
	o->held[r] = v.version;
	o->held_g[r] = v.global_version;
	if (o->best && v.version <= o->best_version) {
		al_memzero(rec, len);
		al_alloc_put(rs->mem, rec);
		return;
	}
	drop_best(rs, o);
	o->best = rec;
	o->best_off = (size_t)(v.value - rec);
	o->best_len = v.len;
	o->best_version = v.version;
}

static al_err common_reason(const al_rs *rs)
{
	al_err first = rs->replica_err[0];
	for (size_t r = 1; r < rs->cfg.n_replicas; r++)
		if (rs->replica_err[r] != first)
			return AL_E_STORE_REPLICAS;
	return first;
}

static void finish_load(al_rs *rs)
{
	int64_t proven = rs->cfg.last_seen;
	size_t r, i, n = rs->cfg.n_replicas;

	for (r = 0; r < n; r++)
		if (rs->replica_err[r] == AL_OK && rs->replica_g[r] > proven)
			proven = rs->replica_g[r];
	for (r = 0; r < n; r++)
		if (rs->replica_err[r] == AL_OK && rs->replica_g[r] < proven)
			drop(rs, (uint32_t)r, AL_E_STORE_ROLLBACK);
	for (i = 0; i < rs->n_objs; i++) {
		struct al_rs_obj *o = &rs->objs[i];
		for (r = 0; r < n; r++) {
			/* An older object, a missing one, or one written by a batch newer
			 * than the store's own global version (its counter went back). */
			if (o->held[r] < o->best_version || o->held_g[r] > rs->replica_g[r])
				drop(rs, (uint32_t)r, AL_E_STORE_ROLLBACK);
		}
		o->version = o->best_version;
	}
	rs->global_version = proven;
	if (al_rs_replicas_in_set(rs) < rs->cfg.quorum) {
		for (i = 0; i < rs->n_objs; i++)
			drop_best(rs, &rs->objs[i]);
		fail(rs, al_rs_replicas_in_set(rs) == 0 ? common_reason(rs) : AL_E_STORE_REPLICAS);
		return;
	}
	rs->state = AL_RS_READY;
}

al_rs_done al_rs_get_done(al_rs *rs, uint64_t id, al_err status, const uint8_t *blob, size_t len,
                          int64_t version)
{
	struct al_rs_pend *p;

	if (rs->state != AL_RS_LOADING) {
		rs->stale++;
		return AL_RS_MORE;
	}
	if (!(p = slot_of(rs, id, AL_RS_GET)))
		return AL_RS_MORE;
	p->answered = true;
	rs->outstanding--;
	if (rs->replica_err[p->replica] == AL_OK) {
		if (status == AL_OK && version < 1)
			status = AL_E_STORE_BACKEND; /* a present object has a version >= 1 */
		if (p->obj == SIZE_MAX)
			got_meta(rs, p->replica, status, blob, len, version);
		else
			got_obj(rs, p->replica, &rs->objs[p->obj], status, blob, len, version);
	}
	if (rs->outstanding > 0)
		return AL_RS_MORE;
	finish_load(rs);
	return AL_RS_LOADED;
}

al_err al_rs_value(const al_rs *rs, const char *ns, const char *key, const uint8_t **value,
                   size_t *len, int64_t *version)
{
	const struct al_rs_obj *o = obj_find(rs, ns, key);

	*value = NULL;
	*len = 0;
	*version = 0;
	if (!o)
		return AL_E_ARG;
	if (o->best) {
		*value = o->best + o->best_off;
		*len = o->best_len;
	}
	*version = o->version;
	return AL_OK;
}

/* --- writing ---------------------------------------------------------------------- */

static al_err seal_into(al_rs *rs, al_kv_bitem *bi, const struct al_rs_obj *o, const uint8_t *value,
                        size_t len, int64_t gnext)
{
	size_t cap = al_seal_record_len(strlen(o->key), len);
	uint8_t *rec;

	memcpy(bi->name, o->name, AL_SEAL_NAME_LEN);
	bi->version = o->version;
	bi->value = NULL;
	bi->len = 0;
	if (!value)
		return AL_OK;
	AL_TRY(al_alloc_get(rs->mem, cap, (void **)&rec));
	bi->value = rec;
	return al_seal_record(&rs->keys, rs->rng, rec, cap, &bi->len, o->ns, o->key, o->version + 1,
	                      gnext, value, len);
}

al_err al_rs_write(al_rs *rs, const al_rs_item *items, size_t n)
{
	struct al_rs_obj *objs[AL_RS_BATCH_MAX + 1], meta;
	size_t n_objs = rs->n_objs, i, j;
	uint8_t gbuf[8];
	int64_t gnext;
	al_err e = AL_OK;

	if (rs->state != AL_RS_READY)
		return AL_E_STORE_STATE;
	if (!items || n == 0 || n > AL_RS_BATCH_MAX)
		return AL_E_ARG;
	if (rs->global_version == INT64_MAX)
		return AL_E_OVERFLOW;
	for (i = 0; i < n && e == AL_OK; i++) {
		if (items[i].len > AL_SEAL_VALUE_MAX || (!items[i].value && items[i].len))
			e = items[i].len > AL_SEAL_VALUE_MAX ? AL_E_TOO_LARGE : AL_E_ARG;
		if (e == AL_OK)
			e = obj_add(rs, items[i].ns, items[i].key, &objs[i]);
		for (j = 0; e == AL_OK && j < i; j++)
			if (objs[j] == objs[i])
				e = AL_E_ARG;
		if (e == AL_OK && !items[i].value && objs[i]->version == 0)
			e = AL_E_STORE_NOT_FOUND; /* nothing to delete */
	}
	if (e != AL_OK) {
		rs->n_objs = n_objs; /* objects added by this call are forgotten */
		return e;
	}
	gnext = rs->global_version + 1;
	for (i = 0; i < n && e == AL_OK; i++) {
		e = seal_into(rs, &rs->batch[i], objs[i], items[i].value, items[i].len, gnext);
		rs->batch_n = i + 1;
	}
	/* Every batch rewrites the store's own record of its global version. */
	memset(&meta, 0, sizeof(meta));
	memcpy(meta.ns, meta_ns, sizeof(meta_ns));
	memcpy(meta.key, meta_key, sizeof(meta_key));
	memcpy(meta.name, rs->meta_name, AL_SEAL_NAME_LEN);
	al_write_be64(gbuf, (uint64_t)gnext);
	if (e == AL_OK) {
		/* Written unconditionally (AL_KV_ANY), which VSS turns into version 1. */
		e = seal_into(rs, &rs->batch[n], &meta, gbuf, sizeof(gbuf), gnext);
		rs->batch[n].version = AL_KV_ANY;
		rs->batch_n = n + 1;
	}
	if (e != AL_OK) {
		batch_free(rs);
		rs->n_objs = n_objs;
		return e;
	}
	for (i = 0; i < rs->n_objs; i++)
		drop_best(rs, &rs->objs[i]); /* loaded values are given back by the first write */
	rs->batch_g = rs->global_version;
	rs->acks = 0;
	round_begin(rs);
	for (uint32_t r = 0; r < rs->cfg.n_replicas; r++)
		if (rs->replica_err[r] == AL_OK)
			round_add(rs, AL_RS_PUT, r, 0);
	rs->state = AL_RS_WRITING;
	return AL_OK;
}

al_rs_done al_rs_put_done(al_rs *rs, uint64_t id, al_err status)
{
	struct al_rs_pend *p;

	if (rs->state != AL_RS_WRITING) {
		rs->stale++;
		return AL_RS_MORE;
	}
	if (!(p = slot_of(rs, id, AL_RS_PUT)))
		return AL_RS_MORE;
	p->answered = true;
	rs->outstanding--;
	if (status == AL_OK)
		rs->acks++;
	else
		drop(rs, p->replica, status);
	if (rs->outstanding > 0)
		return AL_RS_MORE;
	if (rs->acks < rs->cfg.quorum) {
		batch_free(rs);
		fail(rs, al_rs_replicas_in_set(rs) == 0 ? common_reason(rs) : AL_E_STORE_REPLICAS);
		return AL_RS_LOST;
	}
	/* Durable: every object of the batch is at its next version. */
	for (size_t i = 0; i + 1 < rs->batch_n; i++) {
		for (size_t k = 0; k < rs->n_objs; k++) {
			struct al_rs_obj *o = &rs->objs[k];
			if (memcmp(o->name, rs->batch[i].name, AL_SEAL_NAME_LEN) == 0)
				o->version = rs->batch[i].value ? o->version + 1 : 0;
		}
	}
	rs->global_version = rs->batch_g + 1;
	batch_free(rs);
	rs->state = AL_RS_READY;
	return AL_RS_DURABLE;
}
