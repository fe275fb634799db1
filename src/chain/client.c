/* Chain sync over HTTP (see chain/client.h). */
#include "chain/client.h"

#include <string.h>

#include "btc/tx.h"
#include "chain/esplora.h"
#include "util/hex.h"

struct al_chain_client {
	al_httpc *http;
	const al_alloc *mem;
	char base[1024];
	uint64_t requests, bytes;
};

al_err al_chain_client_new(al_chain_client **out, const char *url, al_httpc *http,
                           const al_alloc *mem)
{
	al_chain_client *c = NULL;
	size_t n = strlen(url);
	al_url u;
	al_err e;

	*out = NULL;
	while (n > 0 && url[n - 1] == '/')
		n--;
	e = n >= sizeof(c->base) - AL_ESPLORA_PATH_MAX ? AL_E_HTTP_URL : al_url_parse(&u, url, n);
	if (e == AL_OK)
		e = al_alloc_get(mem, sizeof(*c), (void **)&c);
	if (e != AL_OK) {
		al_httpc_free(http);
		return e;
	}
	memcpy(c->base, url, n);
	c->base[n] = 0;
	c->http = http;
	c->mem = mem;
	*out = c;
	return AL_OK;
}

void al_chain_client_free(al_chain_client *c)
{
	if (!c)
		return;
	al_httpc_free(c->http);
	al_alloc_put(c->mem, c);
}

/* base + path; both are bounded (base by al_chain_client_new, the path by
 * AL_ESPLORA_PATH_MAX) and url has room for both. */
static void url_of(const al_chain_client *c, char *url, size_t cap, const char *path)
{
	size_t b = strlen(c->base), p = strlen(path);
	if (b + p >= cap)
		p = b = 0;
	memcpy(url, c->base, b);
	memcpy(url + b, path, p);
	url[b + p] = 0;
}

al_err al_chain_client_sync(al_chain_client *c, al_sync *s)
{
	char url[sizeof(c->base) + AL_ESPLORA_PATH_MAX];

	al_sync_begin(s);
	for (;;) {
		const al_sync_request *rq;
		al_httpc_response res;
		al_err e = al_sync_next(s, &rq);

		if (e != AL_OK || !rq)
			return e;
		url_of(c, url, sizeof(url), rq->path);
		e = al_httpc_get(c->http, &res, url);
		if (e != AL_OK) {
			al_sync_abort(s);
			return e;
		}
		c->requests++;
		c->bytes += res.body_len;
		e = al_sync_on_response(s, res.status, res.body, res.body_len);
		al_httpc_response_free(&res);
		if (e != AL_OK)
			return e;
	}
}

al_err al_chain_client_broadcast(al_chain_client *c, const uint8_t *raw, size_t len, char *msg,
                                 size_t cap)
{
	char url[sizeof(c->base) + AL_ESPLORA_PATH_MAX], path[AL_ESPLORA_PATH_MAX];
	char *hex = NULL;
	uint8_t got[32], want[32], *mem = NULL;
	al_httpc_response res;
	al_arena a;
	al_tx tx;
	al_err e;

	if (cap)
		msg[0] = 0;
	e = al_alloc_get(c->mem, 2 * len + 1, (void **)&hex);
	if (e == AL_OK)
		e = al_alloc_get(c->mem, len * 4 + 4096, (void **)&mem);
	if (e != AL_OK) {
		al_alloc_put(c->mem, hex);
		return e;
	}
	al_arena_init(&a, mem, len * 4 + 4096);
	e = al_tx_parse(&tx, &a, raw, len);
	if (e == AL_OK) {
		al_tx_txid(&tx, want);
		e = al_hex_encode(hex, 2 * len + 1, raw, len);
	}
	al_alloc_put(c->mem, mem);
	if (e == AL_OK) {
		al_esplora_path_broadcast(path);
		url_of(c, url, sizeof(url), path);
		e = al_httpc_post(c->http, &res, url, "text/plain", (const uint8_t *)hex, 2 * len);
	}
	al_alloc_put(c->mem, hex);
	AL_TRY(e);
	c->requests++;
	c->bytes += res.body_len;
	if (res.status != 200) {
		if (cap) {
			size_t n = res.body_len < cap - 1 ? res.body_len : cap - 1;
			memcpy(msg, res.body, n);
			msg[n] = 0;
		}
		e = AL_E_ESPLORA_STATUS;
	} else {
		e = al_esplora_parse_hash(got, res.body, res.body_len);
		if (e == AL_OK && memcmp(got, want, 32))
			e = AL_E_SYNC_TXID;
	}
	al_httpc_response_free(&res);
	return e;
}

void al_chain_client_counters(const al_chain_client *c, uint64_t *requests, uint64_t *bytes)
{
	*requests = c->requests;
	*bytes = c->bytes;
}

const char *al_chain_client_detail(const al_chain_client *c)
{
	return al_httpc_error_detail(c->http);
}
