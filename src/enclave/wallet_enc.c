/* The on-chain wallet inside the enclave (ABI v4): enclave/wallet_svc.h over two sets of
 * synchronous ocalls, and its route in the control API.
 *
 *   - its Esplora client (host/httpc.h) runs over the stream ocalls: for https the TLS
 *     session terminates here, checked against the CA bytes or pins handed in at
 *     wallet_open; the host relays ciphertext;
 *   - its state goes through al_kv (store/kv.h), whose backend is the kv ocalls: the
 *     host stores opaque names and records sealed here under keys derived from the
 *     seed;
 *   - its keys derive from the seed node_seed took (node.c keeps it until here).
 *
 *   POST /v1/wallet/<command>   {"args":["...", ...]}   (body optional without args)
 *
 * answers wallet_svc's JSON: 200, 400 for wrong arguments, 502 when the command
 * failed. A command blocks the host's loop while it runs (its ocalls are synchronous). */
#include <jansson.h>
#include <string.h>

#include "crypto/mem.h"
#include "enclave/api_parse.h"
#include "enclave/enclave_int.h"
#include "enclave/wallet_svc.h"

#define WALLET_PREFIX   "/v1/wallet/"
#define WALLET_URL_MAX  1024
#define WALLET_PINS_MAX 16
#define WALLET_CA_MAX   (4u << 20)

/* --- the kv ocalls as an al_kv_backend --------------------------------------------- */

static al_err kv_get(void *ctx, const uint8_t name[AL_KV_NAME_LEN], uint8_t *buf, size_t cap,
                     size_t *len, int64_t *version)
{
	return (al_err)al_enc.oc.kv_get(al_enc.oc.host, name, buf, cap, len, version);
}

static al_err kv_put_batch(void *ctx, const al_kv_bitem *items, size_t n, int64_t global_version)
{
	al_enc_kv_item it[AL_KV_BATCH_MAX + 1];

	if (n > sizeof(it) / sizeof(it[0]))
		return AL_E_ARG;
	for (size_t i = 0; i < n; i++) {
		memcpy(it[i].name, items[i].name, sizeof(it[i].name));
		it[i].value = items[i].value;
		it[i].len = items[i].len;
		it[i].version = items[i].version;
	}
	return (al_err)al_enc.oc.kv_put_batch(al_enc.oc.host, it, n, global_version);
}

static al_err kv_del(void *ctx, const uint8_t name[AL_KV_NAME_LEN], int64_t version)
{
	return (al_err)al_enc.oc.kv_del(al_enc.oc.host, name, version);
}

static al_err kv_list(void *ctx, const uint8_t *prefix, size_t prefixlen, al_kv_list_fn fn,
                      void *arg, int64_t *global_version)
{
	size_t cap = 64, count = 0;
	al_enc_kv_entry *out = NULL;
	al_err e;

	for (;;) {
		al_heap_free(al_enc.heap, out);
		AL_TRY(al_heap_calloc(al_enc.heap, cap, sizeof(*out), (void **)&out));
		e = (al_err)al_enc.oc.kv_list(al_enc.oc.host, prefix, prefixlen, out, cap, &count,
		                              global_version);
		if (e != AL_E_BUFSIZE || count <= cap || count > (1u << 20))
			break;
		cap = count;
	}
	for (size_t i = 0; e == AL_OK && i < count && i < cap; i++)
		e = fn(arg, out[i].name, out[i].version);
	al_heap_free(al_enc.heap, out);
	return e;
}

static al_err kv_global_version(void *ctx, int64_t *out)
{
	return (al_err)al_enc.oc.kv_global_version(al_enc.oc.host, out);
}

static const al_kv_backend kv_ocalls = {
    .get = kv_get,
    .put_batch = kv_put_batch,
    .del = kv_del,
    .list = kv_list,
    .global_version = kv_global_version,
};

/* --- the stream ocalls as an HTTP transport -------------------------------------------- */

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
	al_enc_tick();
	return (int64_t)al_enc.wall_s;
}

static const al_httpc_transport stream_ocalls = {NULL, st_open, st_send, st_recv, st_close, st_now};

/* --- entropy: the random ocall ------------------------------------------------------ */

static al_err rng_fill(void *state, uint8_t *out, size_t len)
{
	return al_enc_random(out, len);
}

static const al_rng rng_ocall = {rng_fill, NULL};

/* --- life cycle ----------------------------------------------------------------------- */

void al_enc_wallet_release(al_enode *n)
{
	if (n->wallet)
		al_wallet_svc_close(n->wallet);
	n->wallet = NULL;
	al_heap_free(al_enc.heap, n->wallet_ca);
	al_heap_free(al_enc.heap, n->wallet_pins);
	n->wallet_ca = NULL;
	n->wallet_pins = NULL;
	al_memzero(n->wallet_seed, sizeof(n->wallet_seed));
	n->has_seed = false;
}

/* Copies of the host's buffers, made before anything looks at them. */
static al_err copy_in(al_enode *n, char *url, const char *u, size_t ulen, const uint8_t *ca,
                      size_t ca_len, const uint8_t *pins, size_t n_pins)
{
	if (ulen == 0 || ulen >= WALLET_URL_MAX || ca_len > WALLET_CA_MAX ||
	    n_pins > WALLET_PINS_MAX)
		return AL_E_ARG;
	memcpy(url, u, ulen);
	url[ulen] = 0;
	if (strlen(url) != ulen)
		return AL_E_ARG;
	if (ca_len) {
		AL_TRY(al_heap_alloc(al_enc.heap, ca_len + 1, (void **)&n->wallet_ca));
		memcpy(n->wallet_ca, ca, ca_len);
		n->wallet_ca[ca_len] = 0;
	}
	if (n_pins) {
		AL_TRY(al_heap_alloc(al_enc.heap, 32 * n_pins, (void **)&n->wallet_pins));
		memcpy(n->wallet_pins, pins, 32 * n_pins);
	}
	return AL_OK;
}

int32_t al_enc_wallet_open(uint32_t node, const char *u, size_t ulen, const uint8_t *ca,
                           size_t ca_len, const uint8_t *pins, size_t n_pins)
{
	al_enode *n = al_enc_node_at(node);
	char url[WALLET_URL_MAX];
	al_httpc_config http = {0};
	al_wallet_svc_env env = {&kv_ocalls, NULL, &rng_ocall, &stream_ocalls, &http};
	al_err e;

	al_enc_tick();
	if (!n || !n->has_seed || n->wallet || strcmp(n->params.network, "regtest"))
		return n && n->has_seed && !n->wallet ? AL_E_ARG : AL_E_ENC_STATE;
	e = copy_in(n, url, u, ulen, ca, ca_len, pins, n_pins);
	http.ca_pem = n->wallet_ca;
	http.ca_pem_len = n->wallet_ca ? ca_len : 0;
	http.pins = (const uint8_t(*)[AL_TLS_PIN_LEN])n->wallet_pins;
	http.n_pins = n_pins;
	if (e == AL_OK)
		e = al_wallet_svc_open(&n->wallet, al_enc.secp, AL_NET_REGTEST, n->wallet_seed, url,
		                       &env);
	/* The seed's one use: from now on it lives only in the wallet's keys. */
	al_memzero(n->wallet_seed, sizeof(n->wallet_seed));
	n->has_seed = false;
	if (e != AL_OK) {
		al_enc_wallet_release(n);
		return e;
	}
	al_enc_log(AL_ENC_LOG_INFO, "wallet: open, syncing from ", url, "");
	return AL_OK;
}

/* --- the route ------------------------------------------------------------------------- */

static json_t *error_json(const char *msg)
{
	return json_pack("{s:{s:s}}", "error", "message", msg);
}

json_t *al_enc_wallet_route(al_enode *n, const char *method, const char *target,
                            const uint8_t *body, size_t blen, int32_t *status)
{
	size_t plen = strcspn(target, "?"), pre = strlen(WALLET_PREFIX), nargs;
	const char *args[AL_ENC_WALLET_MAX_ARGS] = {0};
	char cmd[32];
	json_t *root, *res;
	al_err e;

	if (plen <= pre || strncmp(target, WALLET_PREFIX, pre))
		return NULL;
	if (plen - pre >= sizeof(cmd)) {
		*status = 404;
		return error_json("no such wallet command");
	}
	memcpy(cmd, target + pre, plen - pre);
	cmd[plen - pre] = 0;
	if (strcmp(method, "POST")) {
		*status = 405;
		return error_json("method not allowed (wallet commands are POST)");
	}
	if (!n->wallet) {
		*status = 503;
		return error_json("no wallet: start alightd with --esplora URL");
	}
	if (!al_enc_wallet_args(&root, args, &nargs, body, blen)) {
		json_decref(root);
		*status = 400;
		return error_json("body must be {\"args\":[\"...\", ...]} (at most 4 strings)");
	}
	res = al_wallet_svc_call(n->wallet, cmd, args, nargs, &e);
	json_decref(root);
	*status = e == AL_OK ? 200 : e == AL_E_ARG ? 400 : 502;
	return res;
}
