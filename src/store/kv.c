#include "store/kv.h"

#include <string.h>

#include "util/cursor.h"

/* The store's own record: the global version, in the reserved empty namespace. */
static const char meta_ns[] = "";
static const char meta_key[] = "global_version";

/* First guess at a record's size; larger ones take a second backend call. */
#define FETCH_GUESS 1024
#define RECORD_MAX  (AL_SEAL_OVERHEAD + AL_SEAL_NAME_MAX + AL_SEAL_VALUE_MAX)

/* Keep a backend's store-specific answers (err.h lists the store codes together, from
 * AL_E_STORE_TAMPERED to AL_E_STORE_BACKEND); anything else is a backend failure. */
static al_err be_err(al_err e)
{
	if (e == AL_OK || e == AL_E_BUFSIZE ||
	    (e >= AL_E_STORE_TAMPERED && e <= AL_E_STORE_BACKEND))
		return e;
	return AL_E_STORE_BACKEND;
}

static bool user_name_ok(const char *s)
{
	return s && s[0] && strlen(s) <= AL_SEAL_NAME_MAX;
}

int64_t al_kv_version_after(int64_t expected)
{
	/* VSS: a non-conditional write resets the version to 1. */
	return expected == AL_KV_ANY ? 1 : expected + 1;
}

int64_t al_kv_global_version(const al_kv *kv)
{
	return kv->global_version;
}

/* Read object `name` into scratch memory. */
static al_err fetch(al_kv *kv, const uint8_t *name, uint8_t **rec, size_t *len, int64_t *version)
{
	size_t cap = FETCH_GUESS, need = 0;
	uint8_t *buf;
	al_err err;

	AL_TRY(al_arena_alloc(kv->scratch, cap, 8, (void **)&buf));
	err = be_err(kv->be->get(kv->be_ctx, name, buf, cap, &need, version));
	if (err == AL_E_BUFSIZE) {
		if (need <= cap)
			return AL_E_STORE_BACKEND;
		if (need > RECORD_MAX)
			return AL_E_TOO_LARGE;
		cap = need;
		AL_TRY(al_arena_alloc(kv->scratch, cap, 8, (void **)&buf));
		err = be_err(kv->be->get(kv->be_ctx, name, buf, cap, &need, version));
		if (err == AL_E_BUFSIZE)
			return AL_E_STORE_BACKEND;
	}
	if (err != AL_OK)
		return err;
	if (need > cap)
		return AL_E_STORE_BACKEND;
	*rec = buf;
	*len = need;
	return AL_OK;
}

/* Refuse a record older than what this node has seen. */
static al_err check_fresh(const al_kv *kv, const al_seal_view *v, int64_t min_version)
{
	if (v->global_version > kv->global_version || v->version < min_version)
		return AL_E_STORE_ROLLBACK;
	return AL_OK;
}

/* The store's global-version record must match the global version it reports. */
static al_err check_meta(al_kv *kv, int64_t g)
{
	uint8_t name[AL_KV_NAME_LEN], *rec;
	size_t len, mark = al_arena_mark(kv->scratch);
	al_seal_view v;
	int64_t version;
	al_err err;

	AL_TRY(al_seal_name(&kv->keys, name, meta_ns, meta_key));
	err = fetch(kv, name, &rec, &len, &version);
	if (err == AL_E_STORE_NOT_FOUND) {
		/* Batches write it, so only a store never written may lack it. */
		err = g == 0 ? AL_OK : AL_E_STORE_ROLLBACK;
		goto out;
	}
	if (err == AL_OK)
		err = al_seal_open(&kv->keys, &v, rec, len, meta_ns, name, version);
	if (err != AL_OK)
		goto out;
	if (v.len != 8 || (int64_t)al_read_be64(v.value) != v.global_version)
		err = AL_E_STORE_TAMPERED;
	else if (v.global_version != g)
		err = AL_E_STORE_ROLLBACK;
out:
	al_arena_release(kv->scratch, mark);
	return err;
}

al_err al_kv_init(al_kv *kv, const al_kv_backend *be, void *be_ctx, al_arena *scratch,
                  const al_rng *rng, const uint8_t *seed, size_t seedlen, int64_t last_seen)
{
	int64_t g = 0;
	al_err err;

	if (!kv || !be || !be->get || !be->put_batch || !be->del || !be->list ||
	    !be->global_version || !scratch || !rng || last_seen < 0)
		return AL_E_ARG;
	memset(kv, 0, sizeof(*kv));
	AL_TRY(al_seal_keys_derive(&kv->keys, seed, seedlen));
	kv->be = be;
	kv->be_ctx = be_ctx;
	kv->rng = rng;
	kv->scratch = scratch;
	err = be_err(be->global_version(be_ctx, &g));
	if (err == AL_OK && g < 0)
		err = AL_E_STORE_BACKEND;
	if (err == AL_OK && g < last_seen)
		err = AL_E_STORE_ROLLBACK;
	if (err == AL_OK) {
		kv->global_version = g;
		err = check_meta(kv, g);
	}
	if (err != AL_OK)
		al_kv_clear(kv);
	return err;
}

void al_kv_clear(al_kv *kv)
{
	if (kv)
		al_seal_keys_clear(&kv->keys);
}

al_err al_kv_get(al_kv *kv, uint8_t *out, size_t cap, size_t *len, int64_t *version, const char *ns,
                 const char *key, int64_t min_version)
{
	uint8_t name[AL_KV_NAME_LEN], *rec;
	size_t rlen, mark;
	al_seal_view v;
	int64_t bver;
	al_err err;

	if (!kv || (!out && cap) || !len || !version || !user_name_ok(ns) || !user_name_ok(key))
		return AL_E_ARG;
	AL_TRY(al_seal_name(&kv->keys, name, ns, key));
	mark = al_arena_mark(kv->scratch);
	err = fetch(kv, name, &rec, &rlen, &bver);
	if (err == AL_OK)
		err = al_seal_open(&kv->keys, &v, rec, rlen, ns, name, bver);
	if (err == AL_OK)
		err = check_fresh(kv, &v, min_version);
	if (err == AL_OK) {
		*len = v.len;
		*version = v.version;
		if (v.len > cap)
			err = AL_E_BUFSIZE;
		else if (v.len)
			memcpy(out, v.value, v.len);
	}
	al_arena_release(kv->scratch, mark);
	return err;
}

static al_err check_write(const al_kv_write *w)
{
	if (!user_name_ok(w->ns) || !user_name_ok(w->key) || w->version < AL_KV_ANY ||
	    (!w->value && w->len))
		return AL_E_ARG;
	if (w->len > AL_SEAL_VALUE_MAX)
		return AL_E_TOO_LARGE;
	return AL_OK;
}

/* Seal one item (or name a deletion) into bi. */
static al_err seal_item(al_kv *kv, al_kv_bitem *bi, const char *ns, const char *key,
                        const uint8_t *value, size_t len, int64_t version, int64_t gnext)
{
	size_t cap = al_seal_record_len(strlen(key), len);
	uint8_t *rec;

	bi->version = version;
	AL_TRY(al_seal_name(&kv->keys, bi->name, ns, key));
	if (!value)
		return AL_OK;
	AL_TRY(al_arena_alloc(kv->scratch, cap, 8, (void **)&rec));
	AL_TRY(al_seal_record(&kv->keys, kv->rng, rec, cap, &bi->len, ns, key,
	                      al_kv_version_after(version), gnext, value, len));
	bi->value = rec;
	return AL_OK;
}

static al_err seal_batch(al_kv *kv, al_kv_bitem *bi, const al_kv_write *items, size_t n,
                         int64_t gnext)
{
	uint8_t gbuf[8];
	size_t i, j;

	for (i = 0; i < n; i++) {
		AL_TRY(seal_item(kv, &bi[i], items[i].ns, items[i].key, items[i].value,
		                 items[i].len, items[i].version, gnext));
		for (j = 0; j < i; j++)
			if (memcmp(bi[i].name, bi[j].name, AL_KV_NAME_LEN) == 0)
				return AL_E_ARG;
	}
	/* Every batch rewrites the store's own record of its global version. */
	al_write_be64(gbuf, (uint64_t)gnext);
	return seal_item(kv, &bi[n], meta_ns, meta_key, gbuf, sizeof(gbuf), AL_KV_ANY, gnext);
}

/* A conflict on the global version is a rollback if the store went backwards. */
static al_err classify_conflict(al_kv *kv)
{
	int64_t g;

	if (be_err(kv->be->global_version(kv->be_ctx, &g)) == AL_OK && g < kv->global_version)
		return AL_E_STORE_ROLLBACK;
	return AL_E_STORE_VERSION;
}

al_err al_kv_write_batch(al_kv *kv, const al_kv_write *items, size_t n)
{
	al_kv_bitem *bi;
	size_t i, mark;
	int64_t gnext;
	al_err err;

	if (!kv || !items || n == 0 || n > AL_KV_BATCH_MAX)
		return AL_E_ARG;
	for (i = 0; i < n; i++)
		AL_TRY(check_write(&items[i]));
	if (kv->global_version == INT64_MAX)
		return AL_E_OVERFLOW;
	gnext = kv->global_version + 1;
	mark = al_arena_mark(kv->scratch);
	err =
	    al_arena_alloc(kv->scratch, (n + 1) * sizeof(*bi), _Alignof(al_kv_bitem), (void **)&bi);
	if (err == AL_OK)
		err = seal_batch(kv, bi, items, n, gnext);
	if (err == AL_OK)
		err = be_err(kv->be->put_batch(kv->be_ctx, bi, n + 1, kv->global_version));
	if (err == AL_OK)
		kv->global_version = gnext;
	else if (err == AL_E_STORE_VERSION)
		err = classify_conflict(kv);
	al_arena_release(kv->scratch, mark);
	return err;
}

al_err al_kv_put(al_kv *kv, const char *ns, const char *key, const uint8_t *value, size_t len,
                 int64_t version)
{
	al_kv_write w = {ns, key, value, len, version};

	if (!value)
		return AL_E_ARG;
	return al_kv_write_batch(kv, &w, 1);
}

al_err al_kv_delete(al_kv *kv, const char *ns, const char *key, int64_t version)
{
	uint8_t name[AL_KV_NAME_LEN];

	if (!kv || !user_name_ok(ns) || !user_name_ok(key) || version < AL_KV_ANY)
		return AL_E_ARG;
	AL_TRY(al_seal_name(&kv->keys, name, ns, key));
	return be_err(kv->be->del(kv->be_ctx, name, version));
}

/* ---- listing ---- */

struct list_node {
	struct list_node *next;
	uint8_t name[AL_KV_NAME_LEN];
	int64_t version;
};

struct collector {
	al_arena *arena;
	struct list_node *head;
};

static al_err collect(void *arg, const uint8_t name[AL_KV_NAME_LEN], int64_t version)
{
	struct collector *c = arg;
	struct list_node *node;

	AL_TRY(AL_ARENA_NEW(c->arena, struct list_node, &node));
	memcpy(node->name, name, AL_KV_NAME_LEN);
	node->version = version;
	node->next = c->head;
	c->head = node;
	return AL_OK;
}

/* Open one listed object and show it to the visitor if its key matches. */
static al_err visit_one(al_kv *kv, const struct list_node *node, const char *ns, const char *prefix,
                        al_kv_visit_fn fn, void *arg)
{
	char key[AL_SEAL_NAME_MAX + 1];
	size_t rlen, plen = strlen(prefix);
	al_seal_view v;
	int64_t bver;
	uint8_t *rec;

	AL_TRY(fetch(kv, node->name, &rec, &rlen, &bver));
	AL_TRY(al_seal_open(&kv->keys, &v, rec, rlen, ns, node->name, bver));
	/* The listing promised this version: an older object is a rollback. */
	AL_TRY(check_fresh(kv, &v, node->version));
	if (v.keylen < plen || memcmp(v.key, prefix, plen) != 0)
		return AL_OK;
	memcpy(key, v.key, v.keylen);
	key[v.keylen] = 0;
	return fn(arg, key, v.version, v.value, v.len);
}

al_err al_kv_list(al_kv *kv, const char *ns, const char *prefix, al_kv_visit_fn fn, void *arg)
{
	uint8_t tag[AL_SEAL_NS_TAG_LEN];
	struct collector c;
	struct list_node *node;
	size_t mark, inner;
	int64_t g = 0;
	al_err err;

	if (!kv || !user_name_ok(ns) || !prefix || strlen(prefix) > AL_SEAL_NAME_MAX || !fn)
		return AL_E_ARG;
	AL_TRY(al_seal_ns_tag(&kv->keys, tag, ns));
	mark = al_arena_mark(kv->scratch);
	c.arena = kv->scratch;
	c.head = NULL;
	err = be_err(kv->be->list(kv->be_ctx, tag, sizeof(tag), collect, &c, &g));
	if (err == AL_OK && g < kv->global_version)
		err = AL_E_STORE_ROLLBACK;
	if (err == AL_OK)
		kv->global_version = g;
	for (node = c.head; err == AL_OK && node; node = node->next) {
		if (memcmp(node->name, tag, sizeof(tag)) != 0) {
			err = AL_E_STORE_BACKEND;
			break;
		}
		inner = al_arena_mark(kv->scratch);
		err = visit_one(kv, node, ns, prefix, fn, arg);
		al_arena_release(kv->scratch, inner);
	}
	al_arena_release(kv->scratch, mark);
	return err;
}
