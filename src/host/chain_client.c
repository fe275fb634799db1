/* Chain sync over HTTP (see chain_client.h). */
#include "host/chain_client.h"

#include <stdlib.h>
#include <string.h>

#include "btc/tx.h"
#include "chain/esplora.h"
#include "util/hex.h"

struct al_chain_client {
	al_httpc *http;
	char base[1024];
	uint64_t requests, bytes;
};

/* t NULL: a socket (host only). */
static al_err client_new(al_chain_client **out, const char *url, const al_httpc_config *cfg,
                         const al_httpc_transport *t)
{
	al_chain_client *c;
	size_t n = strlen(url);
	al_url u;
	al_err e;

	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= sizeof(c->base) - AL_ESPLORA_PATH_MAX)
		return AL_E_HTTP_URL;
	AL_TRY(al_url_parse(&u, url, n));
	c = calloc(1, sizeof(*c));
	if (!c)
		return AL_E_NOMEM;
	memcpy(c->base, url, n);
	c->base[n] = 0;
#ifndef ALIGHT_ENCLAVE
	if (!t)
		e = al_httpc_new(&c->http, cfg);
	else
#endif
		e = al_httpc_new_over(&c->http, cfg, t);
	if (e != AL_OK) {
		free(c);
		return e;
	}
	*out = c;
	return AL_OK;
}

#ifndef ALIGHT_ENCLAVE
al_err al_chain_client_new(al_chain_client **out, const char *url, const al_httpc_config *cfg)
{
	return client_new(out, url, cfg, NULL);
}
#endif

al_err al_chain_client_new_over(al_chain_client **out, const char *url, const al_httpc_config *cfg,
                                const al_httpc_transport *t)
{
	return t ? client_new(out, url, cfg, t) : AL_E_ARG;
}

void al_chain_client_free(al_chain_client *c)
{
	if (!c)
		return;
	al_httpc_free(c->http);
	free(c);
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

al_err al_chain_client_sync_wallet(al_chain_client *c, al_wallet *w)
{
	for (int round = 0; round < 16; round++) {
		bool more;

		AL_TRY(al_chain_client_sync(c, w->sync));
		AL_TRY(al_wallet_update(w, &more));
		if (!more)
			return AL_OK;
	}
	return AL_OK;
}

al_err al_chain_client_fee(al_chain_client *c, unsigned target, uint64_t *rate)
{
	char url[sizeof(c->base) + AL_ESPLORA_PATH_MAX], path[AL_ESPLORA_PATH_MAX];
	al_httpc_response res;
	al_err e;

	al_esplora_path_fee_estimates(path);
	url_of(c, url, sizeof(url), path);
	AL_TRY(al_httpc_get(c->http, &res, url));
	c->requests++;
	c->bytes += res.body_len;
	e = res.status == 200 ? al_esplora_parse_fee(rate, target, res.body, res.body_len)
	                      : AL_E_ESPLORA_STATUS;
	al_httpc_response_free(&res);
	return e;
}

al_err al_chain_client_broadcast(al_chain_client *c, const uint8_t *raw, size_t len, char *msg,
                                 size_t cap)
{
	char url[sizeof(c->base) + AL_ESPLORA_PATH_MAX], path[AL_ESPLORA_PATH_MAX];
	char *hex = malloc(2 * len + 1);
	uint8_t got[32], want[32];
	al_httpc_response res;
	al_arena a;
	uint8_t *mem;
	al_tx tx;
	al_err e;

	if (cap)
		msg[0] = 0;
	mem = malloc(len * 4 + 4096);
	if (!hex || !mem) {
		free(hex);
		free(mem);
		return AL_E_NOMEM;
	}
	al_arena_init(&a, mem, len * 4 + 4096);
	e = al_tx_parse(&tx, &a, raw, len);
	if (e == AL_OK) {
		al_tx_txid(&tx, want);
		e = al_hex_encode(hex, 2 * len + 1, raw, len);
	}
	free(mem);
	if (e == AL_OK) {
		al_esplora_path_broadcast(path);
		url_of(c, url, sizeof(url), path);
		e = al_httpc_post(c->http, &res, url, "text/plain", (const uint8_t *)hex, 2 * len);
	}
	free(hex);
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
