/* The user channels, terminated inside the enclave (node/ctl.h).
 *
 * ctl_setup makes the RA-TLS identity here: a P-256 key from the enclave's entropy and
 * a self-signed certificate carrying a quote that binds it (attest/ratls_server.h; the
 * quote comes through the quote ocall). The key never leaves the enclave. Every
 * connection runs an al_ctl engine over the ciphertext the host relays: the TLS
 * handshake (a client certificate required), one HTTP request, and the answer. The
 * request goes to the node whose credential the client key is, with the user's
 * authority; POST /v1/provision makes a new node. The host sees ciphertext only. */
#include <string.h>

#include "util/mem.h"
#include "enclave/enclave_int.h"

/* The quote ocall. The host writes into a staging copy; the quote is copied from
 * there once, so what the certificate carries is what was checked for length. */
static al_err quote_ocall(void *arg, uint8_t *quote, size_t cap, size_t *len,
                          const uint8_t report_data[64])
{
	uint8_t *stage = arg;
	size_t n = 0;
	int32_t e = al_enc.oc.quote(al_enc.oc.host, report_data, stage, cap, &n);
	*len = 0;
	if (e != AL_OK)
		return (al_err)e;
	if (n == 0 || n > cap)
		return AL_E_ARG;
	memcpy(quote, stage, n);
	*len = n;
	return AL_OK;
}

static al_err make_identity(void)
{
	size_t scratch_len = 2 * AL_RATLS_QUOTE_MAX + 4096;
	uint8_t *scratch = NULL, *stage = NULL;
	al_tls_config cfg;
	al_arena a;
	al_err e = al_heap_alloc(al_enc.heap, scratch_len, (void **)&scratch);

	if (e == AL_OK)
		e = al_heap_alloc(al_enc.heap, AL_RATLS_QUOTE_MAX, (void **)&stage);
	if (e == AL_OK) {
		al_arena_init(&a, scratch, scratch_len);
		e = al_ratls_identity_make(&al_enc.ctl_id, &a, quote_ocall, stage,
		                           (int64_t)al_enc.wall_s);
	}
	al_heap_free(al_enc.heap, scratch);
	al_heap_free(al_enc.heap, stage);
	if (e != AL_OK)
		return e;
	al_ctl_tls_config(&cfg, al_enc.ctl_id.cert, al_enc.ctl_id.key);
	e = al_tls_ctx_init(&al_enc.ctl_ctx, true, &cfg);
	al_enc.ctl_ready = e == AL_OK;
	return e;
}

void al_enc_ctl_clear(void)
{
	for (uint32_t i = 0; al_enc.ctl && i < AL_ENCLAVE_CTL_MAX; i++)
		if (al_enc.ctl[i].used)
			al_ctl_clear(&al_enc.ctl[i].ctl);
	if (al_enc.ctl)
		al_memzero(al_enc.ctl, AL_ENCLAVE_CTL_MAX * sizeof(al_ectl));
	al_heap_free(al_enc.heap, al_enc.ctl);
	al_enc.ctl = NULL;
	if (al_enc.ctl_ready)
		al_tls_ctx_clear(&al_enc.ctl_ctx);
	al_enc.ctl_ready = false;
	al_ratls_identity_clear(&al_enc.ctl_id);
}

int32_t al_enc_ctl_setup(void)
{
	void *p;
	al_err e;

	al_enc_tick();
	if (al_enc.ctl || al_enc.ctl_ready)
		return AL_E_ENC_STATE;
	e = make_identity();
	if (e == AL_OK)
		e = al_heap_calloc(al_enc.heap, AL_ENCLAVE_CTL_MAX, sizeof(al_ectl), &p);
	if (e != AL_OK) {
		al_enc_ctl_clear();
		return e;
	}
	al_enc.ctl = p;
	al_enc_log(AL_ENC_LOG_INFO,
	           "enclave: user channel ready (RA-TLS key and quote made inside; client "
	           "certificates required)",
	           NULL, NULL);
	return AL_OK;
}

/* --- connections ------------------------------------------------------------------ */

static al_ectl *ctl_find(al_enc_conn conn)
{
	for (uint32_t i = 0; al_enc.ctl && i < AL_ENCLAVE_CTL_MAX; i++)
		if (al_enc.ctl[i].used && al_enc.ctl[i].conn == conn)
			return &al_enc.ctl[i];
	return NULL;
}

static uint64_t ctl_token(const al_ectl *c)
{
	return AL_ENC_CTL_TOKEN | ((uint64_t)c->gen << 8) | (uint64_t)(c - al_enc.ctl);
}

static void ctl_close(al_ectl *c)
{
	if (c->closing)
		return;
	c->closing = true;
	al_enc.oc.net_read_ctl(al_enc.oc.host, c->conn, 0);
	(void)al_enc.oc.net_close(al_enc.oc.host, c->conn);
}

/* Hand the engine's ciphertext to the host until it takes no more (ctl_writable
 * follows); once answered and all out, close. */
static void ctl_flush(al_ectl *c)
{
	while (!c->closing) {
		size_t taken = 0;
		if (c->out_off == c->out_len) {
			c->out_off = 0;
			c->out_len = al_ctl_take(&c->ctl, c->out, sizeof(c->out));
			if (c->out_len == 0)
				break;
		}
		if (al_enc.oc.net_send(al_enc.oc.host, c->conn, c->out + c->out_off,
		                       c->out_len - c->out_off, &taken) != AL_OK) {
			ctl_close(c);
			return;
		}
		if (taken == 0)
			return;
		c->out_off += taken < c->out_len - c->out_off ? taken : c->out_len - c->out_off;
	}
	al_ctl_state s = c->ctl.state;
	if ((s == AL_CTL_DONE || s == AL_CTL_FAILED) && c->out_off == c->out_len)
		ctl_close(c);
}

static void answer_now(al_ectl *c, int status, const char *json)
{
	if (al_ctl_answer(&c->ctl, status, (const uint8_t *)json, strlen(json)) != AL_OK)
		ctl_close(c);
}

static bool path_is(const al_http_request *r, const char *p)
{
	size_t n = strlen(p);
	return r->target_len >= n && !memcmp(r->target, p, n) &&
	       (r->target_len == n || r->target[n] == '?');
}

/* A whole request: provisioning, or the node of the client's credential. */
static void dispatch(al_ectl *c, const al_http_request *req, const uint8_t *pin)
{
	char method[8], target[AL_NODE_TARGET_MAX];

	if (req->method_len >= sizeof(method) || req->target_len >= sizeof(target)) {
		answer_now(c, 400, "{\"error\":{\"message\":\"bad request line\"}}");
		return;
	}
	memcpy(method, req->method, req->method_len);
	method[req->method_len] = 0;
	memcpy(target, req->target, req->target_len);
	target[req->target_len] = 0;
	c->pending = true;
	if (path_is(req, "/v1/provision")) {
		if (strcmp(method, "POST")) {
			c->pending = false;
			answer_now(c, 405, "{\"error\":{\"message\":\"method not allowed\"}}");
			return;
		}
		al_enc_provision(ctl_token(c), pin, req->body, req->body_len);
	} else if (!al_enc_user_request(ctl_token(c), pin, method, target, req->body,
	                                req->body_len)) {
		c->pending = false;
		answer_now(c, 401,
		           "{\"error\":{\"message\":\"no node here has this credential (provision "
		           "one: POST /v1/provision)\"}}");
		return;
	}
	al_enc_pump(); /* the node's answer, if it has one already */
	al_enc_ctl_deliver();
}

static void ctl_progress(al_ectl *c)
{
	const al_http_request *req;
	const uint8_t *pin;
	al_ctl_state s = al_ctl_poll(&c->ctl, &req, &pin);

	if (s == AL_CTL_REQUEST && !c->pending)
		dispatch(c, req, pin);
	else if (s == AL_CTL_FAILED)
		al_enc_log(AL_ENC_LOG_INFO,
		           "user channel failed: ", al_err_str(al_ctl_error(&c->ctl)), NULL);
	if (c->used)
		ctl_flush(c);
}

static void deliver(uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	uint64_t i = token & 0xff;
	al_ectl *c;

	if (!al_enc.ctl || !(token & AL_ENC_CTL_TOKEN) || i >= AL_ENCLAVE_CTL_MAX)
		return;
	c = &al_enc.ctl[i];
	/* A token whose connection went away (or was reused) is dropped. */
	if (!c->used || c->closing || !c->pending || ctl_token(c) != token)
		return;
	c->pending = false;
	if (al_ctl_answer(&c->ctl, status, body, len) != AL_OK)
		ctl_close(c);
	ctl_flush(c);
}

void al_enc_ctl_deliver(void)
{
	uint64_t token;
	int32_t status;
	uint8_t *body;
	size_t len;

	while (al_enc_take_answer(&token, &status, &body, &len)) {
		deliver(token, status, body, len);
		if (body) {
			al_memzero(body, len); /* it may carry a mnemonic */
			al_heap_free(al_enc.heap, body);
		}
	}
}

int32_t al_enc_ctl_accept(al_enc_conn conn)
{
	al_ectl *c = NULL;
	al_econn *ec;
	al_err e;

	al_enc_tick();
	if (!al_enc.ctl)
		return AL_E_ENC_STATE;
	if (al_enc_conn_find(conn))
		return AL_E_PEER_CONN_EXISTS;
	for (uint32_t i = 0; i < AL_ENCLAVE_CTL_MAX && !c; i++)
		if (!al_enc.ctl[i].used)
			c = &al_enc.ctl[i];
	if (!c || !(ec = al_enc_conn_new(conn)))
		return AL_E_ENC_FULL;
	e = al_ctl_init(&c->ctl, &al_enc.ctl_ctx, (int64_t)al_enc.wall_s);
	if (e != AL_OK) {
		ec->used = false;
		return e;
	}
	ec->ctl = true;
	c->used = true;
	c->closing = c->pending = false;
	c->conn = conn;
	c->out_off = c->out_len = 0;
	al_enc.oc.net_read_ctl(al_enc.oc.host, conn, 1);
	return AL_OK;
}

int32_t al_enc_ctl_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed)
{
	al_ectl *c = ctl_find(conn);
	size_t n = len < AL_ENC_RXBUF ? len : AL_ENC_RXBUF;

	al_enc_tick();
	*consumed = 0;
	if (!c)
		return AL_E_ENC_UNKNOWN;
	*consumed = n;
	if (c->closing)
		return AL_OK;         /* nobody listens any more: drop */
	memcpy(al_enc.rxbuf, buf, n); /* copy first: the host may change its buffer */
	al_ctl_feed(&c->ctl, al_enc.rxbuf, n);
	ctl_progress(c);
	return AL_OK;
}

int32_t al_enc_ctl_eof(al_enc_conn conn)
{
	al_ectl *c = ctl_find(conn);

	al_enc_tick();
	if (!c)
		return AL_E_ENC_UNKNOWN;
	al_ctl_feed_eof(&c->ctl);
	if (!c->closing)
		ctl_progress(c);
	if (!c->pending && c->ctl.state != AL_CTL_DONE)
		ctl_close(c);
	return AL_OK;
}

int32_t al_enc_ctl_writable(al_enc_conn conn)
{
	al_ectl *c = ctl_find(conn);

	al_enc_tick();
	if (!c)
		return AL_E_ENC_UNKNOWN;
	ctl_flush(c);
	return AL_OK;
}

int32_t al_enc_ctl_closed(al_enc_conn conn)
{
	al_ectl *c = ctl_find(conn);
	al_econn *ec = al_enc_conn_find(conn);

	if (!c)
		return AL_E_ENC_UNKNOWN;
	al_ctl_clear(&c->ctl);
	c->used = c->closing = c->pending = false;
	c->out_off = c->out_len = 0;
	c->gen = (c->gen + 1) & 0xffffffu;
	if (ec)
		memset(ec, 0, sizeof(*ec));
	return AL_OK;
}
