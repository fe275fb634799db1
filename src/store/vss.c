/* VSS protocol codec and signature authorization (see vss.h). */
#include "store/vss.h"

#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "crypto/hash.h"
#include "proto/vss.pb-c.h"
#include "util/hex.h"

_Static_assert(sizeof(AL_VSS_SIGNING_SALT) - 1 == 64, "the VSS signing constant is 64 bytes");

/* ---- protobuf-c over an arena ---- */

static void *arena_alloc(void *data, size_t size)
{
	void *p = NULL;

	if (al_arena_alloc(data, size ? size : 1, 16, &p) != AL_OK)
		return NULL;
	return p;
}

static void arena_free(void *data, void *p)
{
	/* Released with the arena. */
	(void)data;
	(void)p;
}

static al_err unpack(al_arena *a, const ProtobufCMessageDescriptor *d, const uint8_t *body,
                     size_t len, ProtobufCMessage **out)
{
	static const uint8_t empty[1];
	ProtobufCAllocator pa = {arena_alloc, arena_free, a};
	size_t failed = a->failed;

	*out = protobuf_c_message_unpack(d, &pa, len, body ? body : empty);
	if (!*out)
		return a->failed != failed ? AL_E_NOMEM : AL_E_VSS_DECODE;
	return AL_OK;
}

static al_err pack(const ProtobufCMessage *m, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	*outlen = n;
	if (n > cap)
		return AL_E_BUFSIZE;
	if (n)
		protobuf_c_message_pack(m, out);
	return AL_OK;
}

size_t al_vss_decode_arena_size(size_t len)
{
	/* protobuf-c copies every bytes field (len) and we copy keys once more (len);
	 * each KeyValue costs its struct, pointers, scan slots and our view (< 320). */
	return 2 * len + (AL_VSS_MAX_ITEMS + 16) * 320 + 4096;
}

/* ---- strings ---- */

/* proto3 strings are UTF-8 (RFC 3629: no overlongs, surrogates or code points above
 * U+10FFFF); NUL is refused as well, so a decoded string is a C string. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k, j;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = s[i];

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* A string field (absent: NULL) of at most `max` bytes. */
static al_err check_str(const char *s, size_t max, al_err toolong)
{
	size_t n;

	if (!s)
		return AL_OK;
	n = strlen(s);
	if (n > max)
		return toolong;
	return utf8_valid((const uint8_t *)s, n) ? AL_OK : AL_E_VSS_STRING;
}

static al_err check_key(const char *key, bool writing)
{
	if (!key || !key[0])
		return AL_E_VSS_KEY;
	AL_TRY(check_str(key, AL_VSS_KEY_MAX, AL_E_VSS_KEY));
	/* The server keeps the global version under this name (vss-server GLOBAL_VERSION_KEY). */
	if (writing && strcmp(key, AL_VSS_GLOBAL_VERSION_KEY) == 0)
		return AL_E_VSS_KEY;
	return AL_OK;
}

static al_err check_kv(const al_vss_kv *kv, bool writing)
{
	AL_TRY(check_key(kv->key, writing));
	if (kv->version < AL_VSS_NO_CHECK)
		return AL_E_VSS_VERSION;
	if (kv->len && !kv->value)
		return AL_E_ARG;
	return AL_OK;
}

/* Copy a bytes field into a NUL-terminated arena string ("" when absent). */
static al_err take_str(al_arena *a, const char **out, size_t *outlen, protobuf_c_boolean has,
                       const ProtobufCBinaryData *b, size_t max, al_err toolong)
{
	size_t n = has ? b->len : 0;
	char *s;

	*out = NULL;
	if (n > max)
		return toolong;
	if (!utf8_valid(b->data, n))
		return AL_E_VSS_STRING;
	AL_TRY(al_arena_alloc(a, n + 1, 1, (void **)&s));
	if (n)
		memcpy(s, b->data, n);
	s[n] = 0;
	*out = s;
	if (outlen)
		*outlen = n;
	return AL_OK;
}

/* As take_str, but an absent field stays NULL (proto3 `optional string`). */
static al_err take_opt_str(al_arena *a, const char **out, protobuf_c_boolean has,
                           const ProtobufCBinaryData *b, size_t max, al_err toolong)
{
	*out = NULL;
	return has ? take_str(a, out, NULL, has, b, max, toolong) : AL_OK;
}

static void put_str(ProtobufCBinaryData *b, protobuf_c_boolean *has, const char *s, bool presence)
{
	size_t n = s ? strlen(s) : 0;

	b->data = (uint8_t *)s;
	b->len = n;
	/* proto3 leaves out a plain field at its default; an `optional` one when absent. */
	*has = presence ? s != NULL : n > 0;
}

/* ---- KeyValue ---- */

static al_err take_kv(al_arena *a, al_vss_kv *kv, const Vss__KeyValue *m)
{
	AL_TRY(
	    take_str(a, &kv->key, &kv->keylen, m->has_key, &m->key, AL_VSS_KEY_MAX, AL_E_VSS_KEY));
	kv->version = m->has_version ? m->version : 0;
	kv->value = m->has_value ? m->value.data : NULL;
	kv->len = m->has_value ? m->value.len : 0;
	return AL_OK;
}

static al_err take_kvs(al_arena *a, const al_vss_kv **out, Vss__KeyValue *const *m, size_t n)
{
	al_vss_kv *kv = NULL;
	size_t i;

	*out = NULL;
	if (!n)
		return AL_OK;
	AL_TRY(al_arena_alloc(a, n * sizeof(*kv), _Alignof(al_vss_kv), (void **)&kv));
	for (i = 0; i < n; i++)
		AL_TRY(take_kv(a, &kv[i], m[i]));
	*out = kv;
	return AL_OK;
}

static void put_kv(Vss__KeyValue *m, const al_vss_kv *kv, bool with_value)
{
	Vss__KeyValue init = VSS__KEY_VALUE__INIT;

	*m = init;
	put_str(&m->key, &m->has_key, kv->key, false);
	m->version = kv->version;
	m->has_version = kv->version != 0;
	if (with_value && kv->len) {
		m->value.data = (uint8_t *)kv->value;
		m->value.len = kv->len;
		m->has_value = 1;
	}
}

static al_err put_kvs(al_arena *a, Vss__KeyValue ***out, const al_vss_kv *kv, size_t n,
                      bool with_value)
{
	Vss__KeyValue **ptrs, *msgs;
	size_t i;

	*out = NULL;
	if (!n)
		return AL_OK;
	AL_TRY(al_arena_alloc(a, n * sizeof(*ptrs), _Alignof(Vss__KeyValue *), (void **)&ptrs));
	AL_TRY(al_arena_alloc(a, n * sizeof(*msgs), _Alignof(Vss__KeyValue), (void **)&msgs));
	for (i = 0; i < n; i++) {
		put_kv(&msgs[i], &kv[i], with_value);
		ptrs[i] = &msgs[i];
	}
	*out = ptrs;
	return AL_OK;
}

/* ---- GetObject ---- */

static al_err check_get(const al_vss_get_req *r)
{
	AL_TRY(check_str(r->store_id, AL_VSS_STORE_ID_MAX, AL_E_VSS_INVALID));
	return check_key(r->key, false);
}

al_err al_vss_encode_get_req(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                             const al_vss_get_req *r)
{
	Vss__GetObjectRequest m = VSS__GET_OBJECT_REQUEST__INIT;

	(void)a;
	*outlen = 0;
	AL_TRY(check_get(r));
	put_str(&m.store_id, &m.has_store_id, r->store_id, false);
	put_str(&m.key, &m.has_key, r->key, false);
	return pack(&m.base, out, cap, outlen);
}

/* Decode with `fn` into `out` (`size` bytes): on failure `out` is zeroed and the arena
 * given back, so that no half-decoded message reaches the caller. */
typedef al_err (*decode_fn)(al_arena *a, void *out, const uint8_t *body, size_t len,
                            const char *key);

static al_err all_or_nothing(al_arena *a, void *out, size_t size, decode_fn fn, const uint8_t *body,
                             size_t len, const char *key)
{
	size_t mark = al_arena_mark(a);
	al_err e;

	memset(out, 0, size);
	e = fn(a, out, body, len, key);
	if (e != AL_OK) {
		memset(out, 0, size);
		al_arena_release(a, mark);
	}
	return e;
}

static al_err decode_get_req(al_arena *a, void *out, const uint8_t *body, size_t len,
                             const char *key)
{
	al_vss_get_req *r = out;
	Vss__GetObjectRequest *m;

	(void)key;
	AL_TRY(unpack(a, &vss__get_object_request__descriptor, body, len, (ProtobufCMessage **)&m));
	AL_TRY(take_str(a, &r->store_id, NULL, m->has_store_id, &m->store_id, AL_VSS_STORE_ID_MAX,
	                AL_E_VSS_INVALID));
	AL_TRY(take_str(a, &r->key, &r->keylen, m->has_key, &m->key, AL_VSS_KEY_MAX, AL_E_VSS_KEY));
	return check_get(r);
}

al_err al_vss_decode_get_req(al_arena *a, al_vss_get_req *r, const uint8_t *body, size_t len)
{
	return all_or_nothing(a, r, sizeof(*r), decode_get_req, body, len, NULL);
}

/* ---- PutObjects ---- */

static int cmp_kv(const void *pa, const void *pb)
{
	const al_vss_kv *x = *(const al_vss_kv *const *)pa, *y = *(const al_vss_kv *const *)pb;
	size_t nx = strlen(x->key), ny = strlen(y->key);
	int c = memcmp(x->key, y->key, nx < ny ? nx : ny);

	if (c)
		return c;
	return nx < ny ? -1 : nx > ny;
}

/* VSS: "All items within a single `PutObjectRequest` must have distinct keys." */
static al_err check_distinct(al_arena *a, const al_vss_put_req *r)
{
	size_t n = r->nputs + r->ndels, i, mark = al_arena_mark(a);
	const al_vss_kv **v;
	al_err e = AL_OK;

	if (n < 2)
		return AL_OK;
	AL_TRY(al_arena_alloc(a, n * sizeof(*v), _Alignof(al_vss_kv *), (void **)&v));
	for (i = 0; i < r->nputs; i++)
		v[i] = &r->puts[i];
	for (i = 0; i < r->ndels; i++)
		v[r->nputs + i] = &r->dels[i];
	qsort(v, n, sizeof(*v), cmp_kv);
	for (i = 1; i < n && e == AL_OK; i++)
		if (cmp_kv(&v[i - 1], &v[i]) == 0)
			e = AL_E_VSS_DUPLICATE;
	al_arena_release(a, mark);
	return e;
}

static al_err check_put(al_arena *a, const al_vss_put_req *r)
{
	size_t i;

	AL_TRY(check_str(r->store_id, AL_VSS_STORE_ID_MAX, AL_E_VSS_INVALID));
	if (r->nputs > AL_VSS_MAX_ITEMS || r->ndels > AL_VSS_MAX_ITEMS - r->nputs)
		return AL_E_VSS_ITEMS;
	if ((r->nputs && !r->puts) || (r->ndels && !r->dels))
		return AL_E_ARG;
	if (r->has_global_version && r->global_version < AL_VSS_NO_CHECK)
		return AL_E_VSS_VERSION;
	for (i = 0; i < r->nputs; i++)
		AL_TRY(check_kv(&r->puts[i], true));
	for (i = 0; i < r->ndels; i++)
		AL_TRY(check_kv(&r->dels[i], true));
	return check_distinct(a, r);
}

al_err al_vss_encode_put_req(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                             const al_vss_put_req *r)
{
	Vss__PutObjectRequest m = VSS__PUT_OBJECT_REQUEST__INIT;
	size_t mark = al_arena_mark(a);
	al_err e;

	*outlen = 0;
	e = check_put(a, r);
	put_str(&m.store_id, &m.has_store_id, r->store_id, false);
	m.has_global_version = r->has_global_version;
	m.global_version = r->global_version;
	m.n_transaction_items = r->nputs;
	m.n_delete_items = r->ndels;
	if (e == AL_OK)
		e = put_kvs(a, &m.transaction_items, r->puts, r->nputs, true);
	if (e == AL_OK)
		e = put_kvs(a, &m.delete_items, r->dels, r->ndels, false);
	if (e == AL_OK)
		e = pack(&m.base, out, cap, outlen);
	al_arena_release(a, mark);
	return e;
}

static al_err varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	unsigned shift;

	*v = 0;
	for (shift = 0; shift < 64; shift += 7) {
		if (*i >= len)
			return AL_E_VSS_DECODE;
		*v |= (uint64_t)(p[*i] & 0x7f) << shift;
		if (!(p[(*i)++] & 0x80))
			return AL_OK;
	}
	return AL_E_VSS_DECODE;
}

/* Count the items of a PutObjectRequest on the wire before unpacking it, so that an
 * oversized batch is refused for what it is, and before it costs memory. */
static al_err count_items(const uint8_t *p, size_t len)
{
	size_t i = 0, n = 0;
	uint64_t tag, v;

	while (i < len) {
		AL_TRY(varint(p, len, &i, &tag));
		switch (tag & 7) {
		case 0:
			AL_TRY(varint(p, len, &i, &v));
			break;
		case 1:
		case 5:
			v = (tag & 7) == 1 ? 8 : 4;
			if (len - i < v)
				return AL_E_VSS_DECODE;
			i += v;
			break;
		case 2:
			AL_TRY(varint(p, len, &i, &v));
			if (v > len - i)
				return AL_E_VSS_DECODE;
			i += v;
			break;
		default:
			return AL_E_VSS_DECODE;
		}
		if ((tag >> 3 == 3 || tag >> 3 == 4) && ++n > AL_VSS_MAX_ITEMS)
			return AL_E_VSS_ITEMS;
	}
	return AL_OK;
}

static al_err decode_put_req(al_arena *a, void *out, const uint8_t *body, size_t len,
                             const char *key)
{
	al_vss_put_req *r = out;
	Vss__PutObjectRequest *m;

	(void)key;
	AL_TRY(count_items(body, len));
	AL_TRY(unpack(a, &vss__put_object_request__descriptor, body, len, (ProtobufCMessage **)&m));
	AL_TRY(take_str(a, &r->store_id, NULL, m->has_store_id, &m->store_id, AL_VSS_STORE_ID_MAX,
	                AL_E_VSS_INVALID));
	r->has_global_version = m->has_global_version;
	r->global_version = m->has_global_version ? m->global_version : 0;
	AL_TRY(take_kvs(a, &r->puts, m->transaction_items, m->n_transaction_items));
	r->nputs = m->n_transaction_items;
	AL_TRY(take_kvs(a, &r->dels, m->delete_items, m->n_delete_items));
	r->ndels = m->n_delete_items;
	return check_put(a, r);
}

al_err al_vss_decode_put_req(al_arena *a, al_vss_put_req *r, const uint8_t *body, size_t len)
{
	return all_or_nothing(a, r, sizeof(*r), decode_put_req, body, len, NULL);
}

/* ---- DeleteObject ---- */

static al_err check_delete(const al_vss_delete_req *r)
{
	AL_TRY(check_str(r->store_id, AL_VSS_STORE_ID_MAX, AL_E_VSS_INVALID));
	return check_kv(&r->item, true);
}

al_err al_vss_encode_delete_req(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                                const al_vss_delete_req *r)
{
	Vss__DeleteObjectRequest m = VSS__DELETE_OBJECT_REQUEST__INIT;
	Vss__KeyValue kv;

	(void)a;
	*outlen = 0;
	AL_TRY(check_delete(r));
	put_str(&m.store_id, &m.has_store_id, r->store_id, false);
	put_kv(&kv, &r->item, false);
	m.key_value = &kv;
	return pack(&m.base, out, cap, outlen);
}

static al_err decode_delete_req(al_arena *a, void *out, const uint8_t *body, size_t len,
                                const char *key)
{
	al_vss_delete_req *r = out;
	Vss__DeleteObjectRequest *m;

	(void)key;
	AL_TRY(
	    unpack(a, &vss__delete_object_request__descriptor, body, len, (ProtobufCMessage **)&m));
	AL_TRY(take_str(a, &r->store_id, NULL, m->has_store_id, &m->store_id, AL_VSS_STORE_ID_MAX,
	                AL_E_VSS_INVALID));
	/* vss-server: "key_value missing in DeleteObjectRequest". */
	if (!m->key_value)
		return AL_E_VSS_INVALID;
	AL_TRY(take_kv(a, &r->item, m->key_value));
	return check_delete(r);
}

al_err al_vss_decode_delete_req(al_arena *a, al_vss_delete_req *r, const uint8_t *body, size_t len)
{
	return all_or_nothing(a, r, sizeof(*r), decode_delete_req, body, len, NULL);
}

/* ---- ListKeyVersions ---- */

static al_err check_list(const al_vss_list_req *r)
{
	AL_TRY(check_str(r->store_id, AL_VSS_STORE_ID_MAX, AL_E_VSS_INVALID));
	AL_TRY(check_str(r->key_prefix, AL_VSS_KEY_MAX, AL_E_VSS_KEY));
	AL_TRY(check_str(r->page_token, AL_VSS_TOKEN_MAX, AL_E_VSS_PAGE));
	return r->page_size < 0 ? AL_E_VSS_PAGE : AL_OK;
}

al_err al_vss_encode_list_req(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                              const al_vss_list_req *r)
{
	Vss__ListKeyVersionsRequest m = VSS__LIST_KEY_VERSIONS_REQUEST__INIT;

	(void)a;
	*outlen = 0;
	AL_TRY(check_list(r));
	put_str(&m.store_id, &m.has_store_id, r->store_id, false);
	put_str(&m.key_prefix, &m.has_key_prefix, r->key_prefix, true);
	put_str(&m.page_token, &m.has_page_token, r->page_token, true);
	m.has_page_size = r->page_size != 0;
	m.page_size = r->page_size;
	return pack(&m.base, out, cap, outlen);
}

static al_err decode_list_req(al_arena *a, void *out, const uint8_t *body, size_t len,
                              const char *key)
{
	al_vss_list_req *r = out;
	Vss__ListKeyVersionsRequest *m;

	(void)key;
	AL_TRY(unpack(a, &vss__list_key_versions_request__descriptor, body, len,
	              (ProtobufCMessage **)&m));
	AL_TRY(take_str(a, &r->store_id, NULL, m->has_store_id, &m->store_id, AL_VSS_STORE_ID_MAX,
	                AL_E_VSS_INVALID));
	AL_TRY(take_opt_str(a, &r->key_prefix, m->has_key_prefix, &m->key_prefix, AL_VSS_KEY_MAX,
	                    AL_E_VSS_KEY));
	AL_TRY(take_opt_str(a, &r->page_token, m->has_page_token, &m->page_token, AL_VSS_TOKEN_MAX,
	                    AL_E_VSS_PAGE));
	r->page_size = m->has_page_size ? m->page_size : 0;
	return check_list(r);
}

al_err al_vss_decode_list_req(al_arena *a, al_vss_list_req *r, const uint8_t *body, size_t len)
{
	return all_or_nothing(a, r, sizeof(*r), decode_list_req, body, len, NULL);
}

/* ---- responses ---- */

al_err al_vss_encode_get_resp(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                              const al_vss_kv *kv)
{
	Vss__GetObjectResponse m = VSS__GET_OBJECT_RESPONSE__INIT;
	Vss__KeyValue v;

	(void)a;
	*outlen = 0;
	AL_TRY(check_kv(kv, false));
	put_kv(&v, kv, true);
	m.value = &v;
	return pack(&m.base, out, cap, outlen);
}

static al_err decode_get_resp(al_arena *a, void *out, const uint8_t *body, size_t len,
                              const char *key)
{
	al_vss_kv *kv = out;
	Vss__GetObjectResponse *m;

	AL_TRY(
	    unpack(a, &vss__get_object_response__descriptor, body, len, (ProtobufCMessage **)&m));
	if (!m->value)
		return AL_E_VSS_RESPONSE;
	AL_TRY(take_kv(a, kv, m->value));
	if (kv->version < 0 || (key && strcmp(key, kv->key) != 0))
		return AL_E_VSS_RESPONSE;
	return AL_OK;
}

al_err al_vss_decode_get_resp(al_arena *a, al_vss_kv *kv, const uint8_t *body, size_t len,
                              const char *key)
{
	return all_or_nothing(a, kv, sizeof(*kv), decode_get_resp, body, len, key);
}

al_err al_vss_encode_list_resp(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                               const al_vss_list_resp *r)
{
	Vss__ListKeyVersionsResponse m = VSS__LIST_KEY_VERSIONS_RESPONSE__INIT;
	size_t mark = al_arena_mark(a), i;
	al_err e = AL_OK;

	*outlen = 0;
	for (i = 0; i < r->n && e == AL_OK; i++)
		e = check_kv(&r->items[i], false);
	if (e == AL_OK)
		e = check_str(r->next_page_token, AL_VSS_TOKEN_MAX, AL_E_VSS_PAGE);
	if (e == AL_OK)
		e = put_kvs(a, &m.key_versions, r->items, r->n, false);
	m.n_key_versions = r->n;
	put_str(&m.next_page_token, &m.has_next_page_token, r->next_page_token, true);
	m.has_global_version = r->has_global_version;
	m.global_version = r->global_version;
	if (e == AL_OK)
		e = pack(&m.base, out, cap, outlen);
	al_arena_release(a, mark);
	return e;
}

static al_err decode_list_resp(al_arena *a, void *out, const uint8_t *body, size_t len,
                               const char *key)
{
	al_vss_list_resp *r = out;
	Vss__ListKeyVersionsResponse *m;
	size_t i;

	(void)key;
	AL_TRY(unpack(a, &vss__list_key_versions_response__descriptor, body, len,
	              (ProtobufCMessage **)&m));
	AL_TRY(take_kvs(a, &r->items, m->key_versions, m->n_key_versions));
	r->n = m->n_key_versions;
	for (i = 0; i < r->n; i++)
		AL_TRY(check_kv(&r->items[i], false));
	AL_TRY(take_str(a, &r->next_page_token, NULL, m->has_next_page_token, &m->next_page_token,
	                AL_VSS_TOKEN_MAX, AL_E_VSS_PAGE));
	r->has_global_version = m->has_global_version;
	r->global_version = m->has_global_version ? m->global_version : 0;
	return AL_OK;
}

al_err al_vss_decode_list_resp(al_arena *a, al_vss_list_resp *r, const uint8_t *body, size_t len)
{
	return all_or_nothing(a, r, sizeof(*r), decode_list_resp, body, len, NULL);
}

al_err al_vss_decode_empty_resp(al_arena *a, const uint8_t *body, size_t len)
{
	size_t mark = al_arena_mark(a);
	ProtobufCMessage *m;
	/* PutObjectResponse and DeleteObjectResponse are both empty messages. */
	al_err e = unpack(a, &vss__put_object_response__descriptor, body, len, &m);

	al_arena_release(a, mark);
	return e;
}

al_err al_vss_encode_error(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, al_vss_code code,
                           const char *message)
{
	Vss__ErrorResponse m = VSS__ERROR_RESPONSE__INIT;

	(void)a;
	*outlen = 0;
	m.error_code = (Vss__ErrorCode)code;
	m.has_error_code = code != AL_VSS_UNKNOWN;
	put_str(&m.message, &m.has_message, message, false);
	return pack(&m.base, out, cap, outlen);
}

static al_err status_error(int status)
{
	switch (status) {
	case 400:
		return AL_E_VSS_INVALID;
	case 401:
	case 403:
		return AL_E_VSS_AUTH;
	case 404:
		return AL_E_VSS_NO_SUCH_KEY;
	case 409:
		return AL_E_VSS_CONFLICT;
	case 413:
		return AL_E_VSS_TOO_LARGE;
	default:
		return status >= 500 && status <= 599 ? AL_E_VSS_SERVER : AL_E_VSS_HTTP;
	}
}

static al_err code_error(int code)
{
	switch (code) {
	case AL_VSS_CONFLICT:
		return AL_E_VSS_CONFLICT;
	case AL_VSS_INVALID_REQUEST:
		return AL_E_VSS_INVALID;
	case AL_VSS_INTERNAL_SERVER:
		return AL_E_VSS_SERVER;
	case AL_VSS_NO_SUCH_KEY:
		return AL_E_VSS_NO_SUCH_KEY;
	case AL_VSS_AUTH_EXCEPTION:
		return AL_E_VSS_AUTH;
	default:
		return AL_OK;
	}
}

al_err al_vss_response_status(al_arena *a, int http_status, const uint8_t *body, size_t len,
                              char *message, size_t msgcap)
{
	size_t mark = al_arena_mark(a), n = 0;
	Vss__ErrorResponse *m = NULL;
	al_err e = AL_OK;

	if (message && msgcap)
		message[0] = 0;
	if (http_status >= 200 && http_status <= 299)
		return AL_OK;
	if (unpack(a, &vss__error_response__descriptor, body, len, (ProtobufCMessage **)&m) ==
	    AL_OK) {
		if (m->has_error_code)
			e = code_error(m->error_code);
		if (e != AL_OK && message && msgcap && m->has_message) {
			while (n < m->message.len && n + 1 < msgcap && m->message.data[n])
				n++;
			memcpy(message, m->message.data, n);
			message[n] = 0;
		}
	}
	if (e == AL_OK)
		e = status_error(http_status);
	al_arena_release(a, mark);
	return e;
}

bool al_vss_is_auth_error(al_err e)
{
	return e == AL_E_VSS_AUTH || e == AL_E_VSS_AUTH_MISSING || e == AL_E_VSS_AUTH_FORMAT ||
	       e == AL_E_VSS_AUTH_KEY || e == AL_E_VSS_AUTH_SIG || e == AL_E_VSS_AUTH_TIME;
}

void al_vss_error_status(al_err e, int *http_status, al_vss_code *code)
{
	*code = AL_VSS_INVALID_REQUEST;
	*http_status = 400;
	if (e == AL_E_VSS_CONFLICT) {
		*http_status = 409, *code = AL_VSS_CONFLICT;
	} else if (e == AL_E_VSS_NO_SUCH_KEY) {
		*http_status = 404, *code = AL_VSS_NO_SUCH_KEY;
	} else if (al_vss_is_auth_error(e)) {
		*http_status = 401, *code = AL_VSS_AUTH_EXCEPTION;
	} else if (e == AL_E_VSS_TOO_LARGE || e == AL_E_NOMEM) {
		*http_status = 413;
	} else if (e == AL_E_VSS_INVALID || e == AL_E_VSS_DECODE || e == AL_E_VSS_STRING ||
	           e == AL_E_VSS_KEY || e == AL_E_VSS_VERSION || e == AL_E_VSS_ITEMS ||
	           e == AL_E_VSS_DUPLICATE || e == AL_E_VSS_PAGE) {
		*http_status = 400;
	} else {
		*http_status = 500, *code = AL_VSS_INTERNAL_SERVER;
	}
}

/* ---- paths ---- */

static const char *const op_paths[] = {
    [AL_VSS_GET] = "/getObject",
    [AL_VSS_PUT] = "/putObjects",
    [AL_VSS_DELETE] = "/deleteObject",
    [AL_VSS_LIST] = "/listKeyVersions",
};

const char *al_vss_op_path(al_vss_op op)
{
	return (unsigned)op < sizeof(op_paths) / sizeof(op_paths[0]) ? op_paths[op] : "";
}

bool al_vss_op_from_path(al_vss_op *op, const char *path, size_t len)
{
	static const char base[] = "/vss";
	size_t i, n;

	/* The query string is not part of the path. */
	for (n = 0; n < len && path[n] != '?'; n++)
		;
	if (n < sizeof(base) - 1 || memcmp(path, base, sizeof(base) - 1) != 0)
		return false;
	path += sizeof(base) - 1, n -= sizeof(base) - 1;
	for (i = 0; i < sizeof(op_paths) / sizeof(op_paths[0]); i++)
		if (strlen(op_paths[i]) == n && memcmp(op_paths[i], path, n) == 0) {
			*op = (al_vss_op)i;
			return true;
		}
	return false;
}

/* ---- authorization ---- */

/* vss-server signature.rs: SHA-256(SIGNING_CONSTANT || pubkey || time as a string). */
static void auth_digest(uint8_t out[32], const uint8_t pub[AL_PUBKEY_LEN], const char *t,
                        size_t tlen)
{
	al_sha256_ctx c;

	al_sha256_init(&c);
	al_sha256_update(&c, AL_VSS_SIGNING_SALT, sizeof(AL_VSS_SIGNING_SALT) - 1);
	al_sha256_update(&c, pub, AL_PUBKEY_LEN);
	al_sha256_update(&c, t, tlen);
	al_sha256_final(&c, out);
}

static size_t u64_decimal(char out[21], uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}

al_err al_vss_auth_sign(const al_secp *ctx, char *out, size_t cap, size_t *outlen,
                        const al_privkey *k, uint64_t now)
{
	uint8_t pub[AL_PUBKEY_LEN], digest[32], compact[64];
	al_ecdsa_sig sig;
	al_pubkey pk;
	char t[21];
	size_t tlen = u64_decimal(t, now);

	*outlen = AL_VSS_AUTH_PREFIX + tlen;
	if (cap < *outlen + 1)
		return AL_E_BUFSIZE;
	AL_TRY(al_pubkey_from_privkey(ctx, &pk, k));
	al_pubkey_serialize(ctx, pub, &pk);
	auth_digest(digest, pub, t, tlen);
	AL_TRY(al_ecdsa_sign(ctx, &sig, digest, k));
	al_ecdsa_sig_serialize_compact(ctx, compact, &sig);
	/* The public key and the signature are what the header publishes. */
	al_declassify(pub, sizeof(pub));
	al_declassify(compact, sizeof(compact));
	AL_TRY(al_hex_encode(out, cap, pub, sizeof(pub)));
	AL_TRY(al_hex_encode(out + 66, cap - 66, compact, sizeof(compact)));
	memcpy(out + AL_VSS_AUTH_PREFIX, t, tlen + 1);
	return AL_OK;
}

/* The signing time: decimal digits only (at most 20) that fit in 64 bits. */
static al_err parse_time(uint64_t *t, const char *s, size_t n)
{
	size_t i;

	*t = 0;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d > 9 || *t > (UINT64_MAX - d) / 10)
			return AL_E_VSS_AUTH_FORMAT;
		*t = *t * 10 + d;
	}
	return AL_OK;
}

al_err al_vss_auth_verify(const al_secp *ctx, uint8_t user[AL_PUBKEY_LEN], const char *hdr,
                          size_t len, uint64_t now)
{
	uint8_t pub[AL_PUBKEY_LEN], compact[64], digest[32];
	al_ecdsa_sig sig;
	al_pubkey pk;
	size_t n;
	uint64_t t;

	memset(user, 0, AL_PUBKEY_LEN);
	if (!hdr)
		return AL_E_VSS_AUTH_MISSING;
	if (len <= AL_VSS_AUTH_PREFIX || len > AL_VSS_AUTH_MAX)
		return AL_E_VSS_AUTH_FORMAT;
	if (al_hex_decode(pub, sizeof(pub), &n, hdr, 66) != AL_OK ||
	    al_hex_decode(compact, sizeof(compact), &n, hdr + 66, 128) != AL_OK)
		return AL_E_VSS_AUTH_FORMAT;
	AL_TRY(parse_time(&t, hdr + AL_VSS_AUTH_PREFIX, len - AL_VSS_AUTH_PREFIX));
	/* signature.rs: "The proof will not be valid if the provided time is more than 24
	 * hours from now." */
	if ((now > t && now - t > AL_VSS_AUTH_WINDOW) || (t > now && t - now > AL_VSS_AUTH_WINDOW))
		return AL_E_VSS_AUTH_TIME;
	if (al_pubkey_parse(ctx, &pk, pub, sizeof(pub)) != AL_OK)
		return AL_E_VSS_AUTH_KEY;
	if (al_ecdsa_sig_parse_compact(ctx, &sig, compact) != AL_OK)
		return AL_E_VSS_AUTH_SIG;
	auth_digest(digest, pub, hdr + AL_VSS_AUTH_PREFIX, len - AL_VSS_AUTH_PREFIX);
	if (al_ecdsa_verify(ctx, &sig, digest, &pk) != AL_OK)
		return AL_E_VSS_AUTH_SIG;
	memcpy(user, pub, AL_PUBKEY_LEN);
	return AL_OK;
}
