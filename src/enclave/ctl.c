/* The control API over RA-TLS, terminated inside the enclave (ABI v3 ctl_* ecalls).
 *
 * ctl_setup makes the TLS identity here: a P-256 key from OpenSSL's DRBG (fed by the
 * random ocall) and a self-signed certificate carrying a quote of this enclave that
 * binds the key (enclave/ratls.h; the quote comes through the quote ocall, see
 * abi.h for what a simulated quote does and does not prove). The key never leaves
 * the enclave. Each control connection runs crypto/tls.h as a TLS 1.3 server over
 * the ciphertext the host relays (ctl_recv in, net_send out), parses one HTTP/1.1
 * request with util/http.h, checks the bearer token handed in at ctl_setup (constant
 * time) and answers through the control API's handler (api.c), then sends
 * close_notify and asks the host to close. The host sees ciphertext only: neither
 * the request, the token nor the answer. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mem.h"
#include "enclave/enclave_int.h"
#include "util/http.h"

#define CTL_IN_MAX  (16 * 1024)
#define CTL_OUT_BUF 17408 /* a TLS record and then some */
#define CTL_ANSWER  (64 * 1024)

static const al_http_limits ctl_limits = {
    .max_head = 8192, .max_headers = 32, .max_body = CTL_IN_MAX - 8192};

/* --- the identity --------------------------------------------------------------- */

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

static bool token_ok(const char *t, size_t len)
{
	if (len != AL_ENCLAVE_CTL_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = t[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
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
	memset(&cfg, 0, sizeof(cfg));
	al_ratls_server_config(&cfg, &al_enc.ctl_id);
	e = al_tls_ctx_init(&al_enc.ctl_ctx, true, &cfg);
	al_enc.ctl_ctx_ready = e == AL_OK;
	return e;
}

static al_err make_table(void)
{
	void *p;
	AL_TRY(al_heap_calloc(al_enc.heap, AL_ENCLAVE_CTL_MAX, sizeof(al_ectl), &p));
	al_enc.ctl = p;
	for (uint32_t i = 0; i < AL_ENCLAVE_CTL_MAX; i++) {
		AL_TRY(al_heap_alloc(al_enc.heap, CTL_IN_MAX, &p));
		al_enc.ctl[i].in = p;
		AL_TRY(al_heap_alloc(al_enc.heap, CTL_OUT_BUF, &p));
		al_enc.ctl[i].out = p;
	}
	return AL_OK;
}

void al_enc_ctl_clear(void)
{
	for (uint32_t i = 0; al_enc.ctl && i < AL_ENCLAVE_CTL_MAX; i++) {
		if (al_enc.ctl[i].used)
			al_tls_clear(&al_enc.ctl[i].tls);
		if (al_enc.ctl[i].in) /* requests carried the token */
			al_memzero(al_enc.ctl[i].in, CTL_IN_MAX);
		al_heap_free(al_enc.heap, al_enc.ctl[i].in);
		al_heap_free(al_enc.heap, al_enc.ctl[i].out);
	}
	al_heap_free(al_enc.heap, al_enc.ctl);
	al_enc.ctl = NULL;
	if (al_enc.ctl_ctx_ready)
		al_tls_ctx_clear(&al_enc.ctl_ctx);
	al_enc.ctl_ctx_ready = false;
	al_ratls_identity_clear(&al_enc.ctl_id);
	al_memzero(al_enc.ctl_token, sizeof(al_enc.ctl_token));
}

int32_t al_enc_ctl_setup(const char *token, size_t len)
{
	char copy[AL_ENCLAVE_CTL_TOKEN_LEN];
	al_err e;

	al_enc_tick();
	if (al_enc.ctl)
		return AL_E_ENC_STATE;
	if (len != sizeof(copy))
		return AL_E_ARG;
	memcpy(copy, token, sizeof(copy)); /* copy first: the host may change its buffer */
	if (!token_ok(copy, sizeof(copy))) {
		al_memzero(copy, sizeof(copy));
		return AL_E_ARG;
	}
	memcpy(al_enc.ctl_token, copy, sizeof(copy));
	al_memzero(copy, sizeof(copy));
	e = make_identity();
	if (e == AL_OK)
		e = make_table();
	if (e != AL_OK) {
		al_enc_ctl_clear();
		return e;
	}
	al_enc_log(AL_ENC_LOG_INFO, "enclave: RA-TLS identity ready (key and quote made inside)",
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

/* Hand the engine's ciphertext to the host until it takes no more (it then sends
 * ctl_writable); once the answer and close_notify are all out, close. */
static void ctl_flush(al_ectl *c)
{
	while (!c->closing) {
		size_t taken = 0;
		if (c->out_off == c->out_len) {
			c->out_off = 0;
			c->out_len = al_tls_take(&c->tls, c->out, CTL_OUT_BUF);
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
	if (c->answered && c->out_off == c->out_len)
		ctl_close(c);
}

/* The HTTP response (Connection: close) into the engine, then close_notify. */
static void ctl_answer(al_ectl *c, int32_t status, const uint8_t *body, size_t len)
{
	static const al_http_field fields[] = {{"Content-Type", "application/json"}};
	uint8_t head[256];
	al_wb w;

	c->pending = false;
	c->answered = true;
	al_wb_init(&w, head, sizeof(head));
	if (al_http_write_response_head(&w, status, NULL, fields, 1, len, true) != AL_OK ||
	    al_tls_write(&c->tls, head, w.len) != AL_OK ||
	    (len && al_tls_write(&c->tls, body, len) != AL_OK) || al_tls_close(&c->tls) != AL_OK)
		ctl_close(c);
	ctl_flush(c);
}

static void ctl_error(al_ectl *c, int32_t status, const char *msg)
{
	json_t *o = json_pack("{s:{s:s}}", "error", "message", msg);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s)
		ctl_answer(c, status, (const uint8_t *)s, strlen(s));
	else
		ctl_close(c);
	free(s);
	json_decref(o);
}

/* "Bearer <token>", compared in constant time. */
static bool authorized(const char *v)
{
	static const char bearer[] = "Bearer ";
	size_t blen = sizeof(bearer) - 1;
	return v && strlen(v) == blen + AL_ENCLAVE_CTL_TOKEN_LEN && memcmp(v, bearer, blen) == 0 &&
	       al_memeq_ct(v + blen, al_enc.ctl_token, AL_ENCLAVE_CTL_TOKEN_LEN);
}

/* The request through the control API's handler (api.c). */
static void ctl_dispatch(al_ectl *c, const al_http_request *req)
{
	size_t cap = CTL_ANSWER, outlen = 0;
	int32_t status = 500;
	uint8_t *out = NULL;
	int32_t e = AL_E_NOMEM;

	c->pending = true;
	for (int tries = 0; tries < 2; tries++) {
		if (al_heap_alloc(al_enc.heap, cap, (void **)&out) != AL_OK) {
			ctl_error(c, 500, "out of memory");
			return;
		}
		e = al_enc_api(c->node, ctl_token(c), req->method, req->method_len, req->target,
		               req->target_len, req->body, req->body_len, out, cap, &outlen,
		               &status);
		if (e != AL_E_BUFSIZE || outlen <= cap)
			break;
		al_heap_free(al_enc.heap, out);
		out = NULL;
		cap = outlen;
	}
	if (e == AL_OK && c->pending)
		ctl_answer(c, status, out, outlen);
	else if (e != AL_E_ENC_PENDING && c->pending)
		ctl_error(c, 500, e == AL_E_BUFSIZE ? "response too large" : al_err_str((al_err)e));
	al_heap_free(al_enc.heap, out);
}

/* c->in holds the plaintext so far: wait for more, refuse, or dispatch. */
static void ctl_parse(al_ectl *c)
{
	al_http_request req;
	al_err e = al_http_parse_request(&req, &ctl_limits, c->in, c->in_len);
	if (e == AL_E_HTTP_INCOMPLETE && c->in_len < CTL_IN_MAX)
		return;
	if (e == AL_E_HTTP_INCOMPLETE)
		e = AL_E_HTTP_BODY_TOO_LARGE;
	if (e != AL_OK) {
		al_enc_log(AL_ENC_LOG_INFO, "rpc RA-TLS bad request: ", al_err_str(e), NULL);
		ctl_error(
		    c, (e == AL_E_HTTP_BODY_TOO_LARGE || e == AL_E_HTTP_HEAD_TOO_LARGE) ? 413 : 400,
		    al_err_str(e));
	} else if (!authorized(al_http_request_header(&req, "Authorization"))) {
		ctl_error(c, 401, "missing or wrong RPC token (Authorization: Bearer <rpc.token>)");
	} else {
		ctl_dispatch(c, &req);
	}
	al_memzero(c->in, c->in_len); /* it carried the token */
}

/* Drive the engine after input: the handshake, then the request's bytes (any after
 * the one request are read and dropped). */
static void ctl_progress(al_ectl *c)
{
	uint8_t discard[512];
	al_err e;

	if (!al_tls_established(&c->tls)) {
		e = al_tls_handshake(&c->tls);
		if (e != AL_OK && e != AL_E_TLS_WANT) {
			al_enc_log(AL_ENC_LOG_INFO, "rpc RA-TLS handshake failed: ", al_err_str(e),
			           NULL);
			ctl_flush(c); /* the alert */
			ctl_close(c);
			return;
		}
		if (e == AL_E_TLS_WANT) {
			ctl_flush(c);
			return;
		}
	}
	for (;;) {
		bool reading = !c->pending && !c->answered;
		size_t n = 0, cap = reading ? CTL_IN_MAX - c->in_len : sizeof(discard);
		if (cap == 0)
			break;
		e = al_tls_read(&c->tls, reading ? c->in + c->in_len : discard, cap, &n);
		if (e == AL_E_TLS_WANT)
			break;
		if (e != AL_OK) {
			if (!c->pending && !c->answered)
				ctl_close(c); /* ended (or broke) before a whole request */
			break;
		}
		if (reading)
			c->in_len += n;
	}
	if (!c->closing && !c->pending && !c->answered)
		ctl_parse(c);
	if (!c->closing)
		ctl_flush(c);
}

int32_t al_enc_ctl_accept(uint32_t node, al_enc_conn conn)
{
	al_ectl *c = NULL;

	al_enc_tick();
	if (!al_enc.ctl)
		return AL_E_ENC_STATE;
	if (ctl_find(conn))
		return AL_E_PEER_CONN_EXISTS;
	for (uint32_t i = 0; i < AL_ENCLAVE_CTL_MAX && !c; i++)
		if (!al_enc.ctl[i].used)
			c = &al_enc.ctl[i];
	if (!c)
		return AL_E_ENC_FULL;
	AL_TRY(al_tls_server_init(&c->tls, &al_enc.ctl_ctx, (int64_t)al_enc.wall_s));
	c->used = true;
	c->closing = c->pending = c->answered = false;
	c->node = node;
	c->conn = conn;
	c->in_len = c->out_off = c->out_len = 0;
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
	if (al_tls_feed(&c->tls, al_enc.rxbuf, n) != AL_OK)
		ctl_close(c);
	else
		ctl_progress(c);
	return AL_OK;
}

int32_t al_enc_ctl_eof(al_enc_conn conn)
{
	al_ectl *c = ctl_find(conn);

	al_enc_tick();
	if (!c)
		return AL_E_ENC_UNKNOWN;
	al_tls_feed_eof(&c->tls);
	if (!c->closing)
		ctl_progress(c);
	if (!c->pending && !c->answered)
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

	if (!c)
		return AL_E_ENC_UNKNOWN;
	al_tls_clear(&c->tls);
	al_memzero(c->in, CTL_IN_MAX);
	c->used = c->closing = c->pending = c->answered = false;
	c->in_len = c->out_off = c->out_len = 0;
	c->gen = (c->gen + 1) & 0xffffffu;
	return AL_OK;
}

void al_enc_ctl_done(uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	uint64_t i = token & 0xff;
	al_ectl *c;

	if (!al_enc.ctl || i >= AL_ENCLAVE_CTL_MAX)
		return;
	c = &al_enc.ctl[i];
	/* A token whose connection went away (or was reused) is ignored. */
	if (!c->used || c->closing || !c->pending || ctl_token(c) != token)
		return;
	ctl_answer(c, status, body, len);
}
