/* A node's chain requests (FETCH effects), performed inside the enclave: an HTTP client
 * (net/httpc.h) over the stream ocalls, with the trust the user gave the node (its CA
 * bytes and pins). For https the TLS session ends here; the host carries ciphertext.
 * Certificates are checked against the node's trusted time (the host's wall clock, never
 * below the verified chain's median time past). The stream ocalls are synchronous: the
 * host's loop waits while a request runs.
 *
 * A node keeps its client (and its connection) for its next requests, but the enclave
 * keeps at most CLIENTS_MAX of them across its nodes: the one that fetched least
 * recently goes when another is made. A thousand idle wallets hold no sockets. */
#include <string.h>

#include "enclave/enclave_int.h"
#include "enclave/roots.h"

#define CLIENTS_MAX 16

static al_err st_open(void *ctx, uint64_t *h, const char *host, uint16_t port, unsigned timeout_ms)
{
	return (al_err)al_enc.oc.stream_open(al_enc.oc.host, host, strlen(host), port, timeout_ms,
	                                     h);
}

static al_err st_send(void *ctx, uint64_t h, const uint8_t *p, size_t n)
{
	return (al_err)al_enc.oc.stream_send(al_enc.oc.host, h, p, n);
}

/* Received bytes land in a staging buffer first and are copied once, checked for
 * length: what the host wrote past *n is never looked at. */
static al_err st_recv(void *ctx, uint64_t h, uint8_t *p, size_t cap, size_t *n, unsigned timeout_ms)
{
	size_t got = 0;
	al_err e;

	*n = 0;
	if (cap > AL_ENC_RXBUF)
		cap = AL_ENC_RXBUF;
	e = (al_err)al_enc.oc.stream_recv(al_enc.oc.host, h, al_enc.rxbuf, cap, &got, timeout_ms);
	if (e != AL_OK)
		return e;
	if (got == 0)
		return AL_E_NET_CLOSED;
	if (got > cap)
		return AL_E_NET_IO;
	memcpy(p, al_enc.rxbuf, got);
	*n = got;
	return AL_OK;
}

static void st_close(void *ctx, uint64_t h)
{
	al_enc.oc.stream_close(al_enc.oc.host, h);
}

static int64_t st_now(void *ctx)
{
	const al_enode *e = ctx;
	al_enc_tick();
	return (int64_t)(e->node ? al_node_trusted_wall(e->node) : al_enc.wall_s);
}

void al_enc_fetch_clear(al_enode *e)
{
	al_httpc_free(e->http);
	e->http = NULL;
	e->http_gen = 0;
}

/* A new client is about to be made for `keep`: at most CLIENTS_MAX stay. */
static void prune(const al_enode *keep)
{
	al_enode *oldest = NULL;
	size_t open = 0;

	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_enode *e = &al_enc.nodes[i];

		if (!e->http || e == keep)
			continue;
		open++;
		if (!oldest || e->http_used < oldest->http_used)
			oldest = e;
	}
	if (open >= CLIENTS_MAX && oldest)
		al_enc_fetch_clear(oldest);
}

/* The client for the node's current trust (a new one when the user changed it). */
static al_err client(al_enode *e, const al_node_fx *fx)
{
	al_httpc_transport t = {e, st_open, st_send, st_recv, st_close, st_now, NULL};
	al_httpc_config cfg;

	e->http_used = ++al_enc.fetches;
	if (e->http && e->http_gen == fx->trust_gen)
		return AL_OK;
	al_enc_fetch_clear(e);
	prune(e);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ca_pem = fx->ca;
	cfg.ca_pem_len = fx->ca_len;
	if (fx->image_roots && !(cfg.roots = al_enc_roots()))
		return AL_E_NOMEM;
	cfg.pins = fx->pins;
	cfg.n_pins = fx->n_pins;
	cfg.max_body = 8u << 20;
	AL_TRY(al_httpc_new_over(&e->http, &cfg, &t, &al_enc.mem));
	e->http_gen = fx->trust_gen;
	return AL_OK;
}

void al_enc_fetch(al_enode *e, const al_node_fx *fx)
{
	static const al_http_field text = {"Content-Type", "text/plain"};
	al_httpc_response res;
	bool post = fx->method && !strcmp(fx->method, "POST");
	al_err err = client(e, fx);

	memset(&res, 0, sizeof(res));
	if (err == AL_OK)
		err = al_httpc_request(e->http, &res, post ? "POST" : "GET", fx->text,
		                       post ? &text : NULL, post ? 1 : 0, fx->data, fx->len);
	al_enc_tick();
	al_node_fetch_done(e->node, fx->req, err, err == AL_OK ? res.status : 0, res.body,
	                   res.body_len, al_enc.now_ms, al_enc.wall_s);
	al_httpc_response_free(&res);
}
