#include "host/store_vss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/mem.h"
#include "host/os_rng.h"
#include "store/vss.h"
#include "util/hex.h"

#define KEY_HEX (2 * AL_KV_NAME_LEN)
#define URL_MAX 2048
/* Scratch for one request or response beyond the bytes themselves. */
#define ARENA_SLACK (64u << 10)

struct al_store_vss {
	char base[URL_MAX];
	char store_id[AL_VSS_STORE_ID_MAX + 1];
	al_privkey key;
	al_secp *secp;
	void *secp_mem;
	al_httpc *http;
	al_err cause;
	char detail[256];
};

/* One call's arena, sized for the bytes it carries. */
struct scratch {
	al_arena a;
	void *mem;
	size_t len;
};

static al_err scratch_open(struct scratch *s, size_t bytes)
{
	s->len = 2 * bytes + al_vss_decode_arena_size(bytes) + ARENA_SLACK;
	s->mem = malloc(s->len);
	if (!s->mem)
		return AL_E_NOMEM;
	al_arena_init(&s->a, s->mem, s->len);
	return AL_OK;
}

static void scratch_close(struct scratch *s)
{
	if (s->mem)
		al_memzero(s->mem, s->len);
	free(s->mem);
	s->mem = NULL;
}

al_err al_store_vss_open(al_store_vss **out, const al_store_vss_config *cfg)
{
	uint8_t seed[32];
	al_store_vss *s;
	al_rng rng;
	al_err err;

	if (!out || !cfg || !cfg->url || !cfg->store_id || !cfg->auth_key || !cfg->store_id[0] ||
	    strlen(cfg->url) >= URL_MAX - 32 || strlen(cfg->store_id) > AL_VSS_STORE_ID_MAX)
		return AL_E_ARG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return AL_E_NOMEM;
	strcpy(s->base, cfg->url);
	strcpy(s->store_id, cfg->store_id);
	s->key = *cfg->auth_key;
	s->secp_mem = malloc(al_secp_size());
	al_os_rng(&rng);
	err = s->secp_mem ? al_rng_fill(&rng, seed, sizeof(seed)) : AL_E_NOMEM;
	if (err == AL_OK)
		err = al_secp_create(&s->secp, s->secp_mem, al_secp_size(), seed);
	if (err == AL_OK && !al_privkey_valid(s->secp, &s->key))
		err = AL_E_PRIVKEY;
	if (err == AL_OK) {
		al_httpc_config http = cfg->http;
		http.retry_unanswered = true;
		err = al_httpc_new(&s->http, &http);
	}
	al_memzero(seed, sizeof(seed));
	if (err != AL_OK) {
		al_store_vss_close(s);
		return err;
	}
	*out = s;
	return AL_OK;
}

void al_store_vss_close(al_store_vss *s)
{
	if (!s)
		return;
	al_httpc_free(s->http);
	if (s->secp)
		al_secp_destroy(s->secp);
	free(s->secp_mem);
	al_privkey_clear(&s->key);
	free(s);
}

const char *al_store_vss_detail(const al_store_vss *s)
{
	return s ? s->detail : "";
}

al_err al_store_vss_cause(const al_store_vss *s)
{
	return s ? s->cause : AL_E_ARG;
}

al_err al_store_vss_set_store_id(al_store_vss *s, const char *store_id)
{
	if (!s || !store_id || !store_id[0] || strlen(store_id) > AL_VSS_STORE_ID_MAX)
		return AL_E_ARG;
	strcpy(s->store_id, store_id);
	return AL_OK;
}

/* What the al_kv needs to know of a VSS failure; the rest is in s->detail. */
static al_err store_err(al_store_vss *s, al_err e)
{
	s->cause = e;
	if (e == AL_OK)
		return AL_OK;
	if (!s->detail[0])
		snprintf(s->detail, sizeof(s->detail), "%s", al_err_str(e));
	if (e == AL_E_VSS_CONFLICT)
		return AL_E_STORE_VERSION;
	if (e == AL_E_VSS_NO_SUCH_KEY)
		return AL_E_STORE_NOT_FOUND;
	if (e == AL_E_NOMEM)
		return e;
	return AL_E_STORE_BACKEND;
}

/* POST one encoded request; on AL_OK *res holds a 2xx answer. */
static al_err call(al_store_vss *s, struct scratch *sc, al_vss_op op, const uint8_t *body,
                   size_t len, al_httpc_response *res)
{
	char url[URL_MAX], auth[AL_VSS_AUTH_MAX + 1];
	al_http_field fields[2];
	size_t alen;
	al_err err;

	s->detail[0] = 0;
	snprintf(url, sizeof(url), "%s%s", s->base, al_vss_op_path(op));
	AL_TRY(al_vss_auth_sign(s->secp, auth, sizeof(auth), &alen, &s->key, (uint64_t)time(NULL)));
	fields[0] = (al_http_field){"Authorization", auth};
	fields[1] = (al_http_field){"Content-Type", AL_VSS_CONTENT_TYPE};
	err = al_httpc_request(s->http, res, "POST", url, fields, 2, body, len);
	if (err != AL_OK) {
		const char *why = al_httpc_error_detail(s->http);
		snprintf(s->detail, sizeof(s->detail), "%s%s%s", al_err_str(err),
		         why[0] ? ": " : "", why);
		return err;
	}
	err = al_vss_response_status(&sc->a, res->status, res->body, res->body_len, s->detail,
	                             sizeof(s->detail));
	if (err != AL_OK)
		al_httpc_response_free(res);
	return err;
}

/* The four request encoders, under one signature. */
typedef al_err (*encode_fn)(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *r);

static al_err enc_get(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *r)
{
	return al_vss_encode_get_req(a, out, cap, outlen, r);
}

static al_err enc_put(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *r)
{
	return al_vss_encode_put_req(a, out, cap, outlen, r);
}

static al_err enc_del(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *r)
{
	return al_vss_encode_delete_req(a, out, cap, outlen, r);
}

static al_err enc_list(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *r)
{
	return al_vss_encode_list_req(a, out, cap, outlen, r);
}

/* Encode a request into the scratch arena, then send it. */
static al_err send_req(al_store_vss *s, struct scratch *sc, al_vss_op op, encode_fn enc,
                       const void *req, al_httpc_response *res)
{
	size_t need = 0;
	uint8_t *body;
	al_err err = enc(&sc->a, NULL, 0, &need, req);

	if (err == AL_E_BUFSIZE)
		err = al_arena_alloc(&sc->a, need ? need : 1, 1, (void **)&body);
	if (err == AL_OK)
		err = enc(&sc->a, body, need, &need, req);
	if (err == AL_OK)
		err = call(s, sc, op, body, need, res);
	return err;
}

/* Hex of up to 32 bytes into a buffer that always fits it. */
static void name_hex(char out[KEY_HEX + 1], const uint8_t *name, size_t len)
{
	if (al_hex_encode(out, KEY_HEX + 1, name, len) != AL_OK)
		out[0] = 0;
}

/* getObject of one key: its value (in the response) and version. */
static al_err get_object(al_store_vss *s, struct scratch *sc, const char *key, al_vss_kv *kv,
                         al_httpc_response *res)
{
	al_vss_get_req req = {s->store_id, key, strlen(key)};
	al_err err = send_req(s, sc, AL_VSS_GET, enc_get, &req, res);

	if (err != AL_OK)
		return err;
	err = al_vss_decode_get_resp(&sc->a, kv, res->body, res->body_len, key);
	if (err != AL_OK)
		al_httpc_response_free(res);
	return err;
}

static al_err be_get(void *ctx, const uint8_t name[AL_KV_NAME_LEN], uint8_t *buf, size_t cap,
                     size_t *len, int64_t *version)
{
	al_store_vss *s = ctx;
	char key[KEY_HEX + 1];
	al_httpc_response res;
	struct scratch sc;
	al_vss_kv kv;
	al_err err;

	name_hex(key, name, AL_KV_NAME_LEN);
	AL_TRY(scratch_open(&sc, cap));
	err = get_object(s, &sc, key, &kv, &res);
	if (err == AL_OK) {
		if (kv.version < 1) {
			err = AL_E_VSS_RESPONSE;
		} else {
			*len = kv.len;
			*version = kv.version;
			if (kv.len > cap)
				err = AL_E_BUFSIZE;
			else if (kv.len)
				memcpy(buf, kv.value, kv.len);
		}
		al_httpc_response_free(&res);
	}
	scratch_close(&sc);
	if (err == AL_E_BUFSIZE) {
		s->cause = err;
		return err;
	}
	return store_err(s, err);
}

static al_err be_put_batch(void *ctx, const al_kv_bitem *items, size_t n, int64_t global_version)
{
	al_store_vss *s = ctx;
	char(*keys)[KEY_HEX + 1] = NULL;
	al_vss_kv *kvs = NULL;
	al_vss_put_req req = {0};
	al_httpc_response res;
	struct scratch sc = {0};
	size_t i, bytes = 0, np = 0, nd = 0;
	al_err err;

	for (i = 0; i < n; i++)
		bytes += items[i].len + KEY_HEX + 32;
	err = scratch_open(&sc, bytes);
	if (err == AL_OK)
		err = al_arena_alloc(&sc.a, n * sizeof(*keys), 1, (void **)&keys);
	if (err == AL_OK)
		err = al_arena_alloc(&sc.a, n * sizeof(*kvs), _Alignof(al_vss_kv), (void **)&kvs);
	if (err != AL_OK)
		goto out;
	/* Puts first, deletions from the end, so both lists share one array. */
	for (i = 0; i < n; i++) {
		al_vss_kv *kv = items[i].value ? &kvs[np++] : &kvs[n - ++nd];

		name_hex(keys[i], items[i].name, AL_KV_NAME_LEN);
		*kv = (al_vss_kv){keys[i], KEY_HEX, items[i].version, items[i].value, items[i].len};
	}
	req = (al_vss_put_req){s->store_id, true, global_version, kvs, np, kvs + n - nd, nd};
	err = send_req(s, &sc, AL_VSS_PUT, enc_put, &req, &res);
	if (err == AL_OK) {
		err = al_vss_decode_empty_resp(&sc.a, res.body, res.body_len);
		al_httpc_response_free(&res);
	}
out:
	scratch_close(&sc);
	return store_err(s, err);
}

/* The al_kv's delete is conditional and idempotent: a putObjects holding one delete item
 * checks the version, and a conflict is a mismatch only if the object is there. */
static al_err be_del(void *ctx, const uint8_t name[AL_KV_NAME_LEN], int64_t version)
{
	al_store_vss *s = ctx;
	char key[KEY_HEX + 1];
	al_vss_kv item, kv;
	al_vss_delete_req dreq;
	al_vss_put_req preq;
	al_httpc_response res;
	struct scratch sc;
	al_err err;

	name_hex(key, name, AL_KV_NAME_LEN);
	item = (al_vss_kv){key, KEY_HEX, version, NULL, 0};
	AL_TRY(scratch_open(&sc, KEY_HEX));
	if (version == AL_KV_ANY) {
		dreq = (al_vss_delete_req){s->store_id, item};
		err = send_req(s, &sc, AL_VSS_DELETE, enc_del, &dreq, &res);
	} else {
		preq = (al_vss_put_req){s->store_id, false, 0, NULL, 0, &item, 1};
		err = send_req(s, &sc, AL_VSS_PUT, enc_put, &preq, &res);
	}
	if (err == AL_OK) {
		err = al_vss_decode_empty_resp(&sc.a, res.body, res.body_len);
		al_httpc_response_free(&res);
	} else if (err == AL_E_VSS_CONFLICT) {
		err = get_object(s, &sc, key, &kv, &res);
		if (err == AL_OK) {
			al_httpc_response_free(&res);
			err = AL_E_VSS_CONFLICT;
		} else if (err == AL_E_VSS_NO_SUCH_KEY) {
			err = AL_OK;
		}
	}
	scratch_close(&sc);
	return store_err(s, err);
}

/* One page of listKeyVersions, handed to fn; *token receives the next page's token. */
static al_err list_page(al_store_vss *s, const char *prefix, char *token, al_kv_list_fn fn,
                        void *arg, int64_t *global_version)
{
	uint8_t name[AL_KV_NAME_LEN];
	al_vss_list_req req = {s->store_id, prefix, 0, token[0] ? token : NULL};
	al_vss_list_resp resp;
	al_httpc_response res;
	struct scratch sc;
	bool first = !token[0];
	size_t i;
	al_err err;

	AL_TRY(scratch_open(&sc, AL_VSS_PAGE_MAX * (KEY_HEX + 32)));
	err = send_req(s, &sc, AL_VSS_LIST, enc_list, &req, &res);
	if (err != AL_OK)
		goto out;
	err = al_vss_decode_list_resp(&sc.a, &resp, res.body, res.body_len);
	al_httpc_response_free(&res);
	if (err == AL_OK && first != resp.has_global_version)
		err = AL_E_VSS_RESPONSE;
	if (err == AL_OK && first)
		*global_version = resp.global_version;
	if (err == AL_OK && resp.next_page_token && strlen(resp.next_page_token) > AL_VSS_TOKEN_MAX)
		err = AL_E_VSS_RESPONSE;
	for (i = 0; err == AL_OK && i < resp.n; i++) {
		/* Every key the al_kv writes is a name in hex under the asked prefix. */
		if (resp.items[i].keylen != KEY_HEX ||
		    strncmp(resp.items[i].key, prefix, strlen(prefix)) != 0 ||
		    al_hex_decode_exact(name, sizeof(name), resp.items[i].key) != AL_OK ||
		    resp.items[i].version < 1) {
			err = AL_E_VSS_RESPONSE;
			break;
		}
		err = fn(arg, name, resp.items[i].version);
		if (err != AL_OK)
			goto out_fn;
	}
	if (err == AL_OK)
		strcpy(token, resp.next_page_token ? resp.next_page_token : "");
	if (err == AL_OK && first && resp.n == 0 && token[0])
		err = AL_E_VSS_RESPONSE; /* an empty page that is not the last */
out:
	err = store_err(s, err);
out_fn:
	scratch_close(&sc);
	return err;
}

static al_err be_list(void *ctx, const uint8_t *prefix, size_t prefixlen, al_kv_list_fn fn,
                      void *arg, int64_t *global_version)
{
	al_store_vss *s = ctx;
	char hex[KEY_HEX + 1], token[AL_VSS_TOKEN_MAX + 1] = "";
	unsigned pages = 0;

	if (prefixlen > AL_KV_NAME_LEN)
		return AL_E_ARG;
	name_hex(hex, prefix, prefixlen);
	do {
		/* A server that never ends its listing is broken, not patient. */
		if (++pages > (1u << 20))
			return store_err(s, AL_E_VSS_RESPONSE);
		AL_TRY(list_page(s, hex, token, fn, arg, global_version));
	} while (token[0]);
	return AL_OK;
}

static al_err be_global_version(void *ctx, int64_t *out)
{
	al_store_vss *s = ctx;
	al_httpc_response res;
	struct scratch sc;
	al_vss_kv kv;
	al_err err;

	AL_TRY(scratch_open(&sc, 0));
	err = get_object(s, &sc, AL_VSS_GLOBAL_VERSION_KEY, &kv, &res);
	if (err == AL_OK) {
		if (kv.version < 0)
			err = AL_E_VSS_RESPONSE;
		*out = kv.version;
		al_httpc_response_free(&res);
	}
	scratch_close(&sc);
	return store_err(s, err);
}

const al_kv_backend al_store_vss_backend = {
    be_get, be_put_batch, be_del, be_list, be_global_version,
};
