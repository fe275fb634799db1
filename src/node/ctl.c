/* The user's channel (node/ctl.h). */
#include "node/ctl.h"

#include <string.h>

#include "util/mem.h"

static const al_http_limits limits = {
    .max_head = 8192, .max_headers = 32, .max_body = AL_CTL_IN_MAX - 8192};

/* Any client key is let through the handshake: which node it opens, if any, is decided
 * by its pin once the request is in. */
static al_err any_client(void *arg, struct x509_st *leaf, const uint8_t *der, size_t len)
{
	(void)arg;
	(void)leaf;
	(void)der;
	(void)len;
	return AL_OK;
}

void al_ctl_tls_config(al_tls_config *cfg, struct x509_st *cert, struct evp_pkey_st *key)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cert = cert;
	cfg->key = key;
	cfg->verify = any_client;
	cfg->verify_peer = true;
}

al_err al_ctl_init(al_ctl *c, const al_tls_ctx *ctx, int64_t now)
{
	memset(c, 0, sizeof(*c));
	c->state = AL_CTL_WANT;
	return al_tls_server_init(&c->tls, ctx, now);
}

void al_ctl_clear(al_ctl *c)
{
	al_tls_clear(&c->tls);
	al_memzero(c->in, sizeof(c->in));
	memset(&c->req, 0, sizeof(c->req));
	c->in_len = 0;
	c->state = AL_CTL_FAILED;
	c->err = AL_E_ARG;
}

static void failed(al_ctl *c, al_err e)
{
	if (c->state == AL_CTL_FAILED)
		return;
	c->state = AL_CTL_FAILED;
	c->err = e;
}

void al_ctl_feed(al_ctl *c, const uint8_t *p, size_t n)
{
	if (c->state != AL_CTL_FAILED && al_tls_feed(&c->tls, p, n) != AL_OK)
		failed(c, al_tls_error(&c->tls));
}

void al_ctl_feed_eof(al_ctl *c)
{
	c->eof = true;
	al_tls_feed_eof(&c->tls);
}

size_t al_ctl_take(al_ctl *c, uint8_t *out, size_t cap)
{
	return al_tls_take(&c->tls, out, cap);
}

al_err al_ctl_error(const al_ctl *c)
{
	return c->state == AL_CTL_FAILED ? c->err : AL_OK;
}

const char *al_ctl_detail(const al_ctl *c)
{
	return al_tls_error_detail(&c->tls);
}

static void answer_error(al_ctl *c, int status, const char *msg)
{
	char body[160];
	size_t n = 0;
	const char *parts[] = {"{\"error\":{\"message\":\"", msg, "\"}}"};

	for (size_t i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p && n + 1 < sizeof(body); p++)
			body[n++] = *p;
	c->state = AL_CTL_REQUEST;
	if (al_ctl_answer(c, status, (const uint8_t *)body, n) != AL_OK)
		failed(c, AL_E_TLS_STATE);
}

/* Bytes after the one request are read and dropped. */
static void drain(al_ctl *c)
{
	uint8_t discard[512];
	size_t n;
	while (al_tls_read(&c->tls, discard, sizeof(discard), &n) == AL_OK)
		;
}

al_ctl_state al_ctl_poll(al_ctl *c, const al_http_request **req, const uint8_t **pin)
{
	al_err e;

	*req = NULL;
	*pin = NULL;
	if (c->state == AL_CTL_FAILED)
		return c->state;
	if (c->state != AL_CTL_WANT) {
		drain(c);
		return c->state;
	}
	if (!al_tls_established(&c->tls)) {
		e = al_tls_handshake(&c->tls);
		if (e == AL_E_TLS_WANT)
			return c->eof ? (failed(c, AL_E_TLS_TRUNCATED), c->state) : c->state;
		if (e != AL_OK) {
			failed(c, e);
			return c->state;
		}
		if (al_tls_peer_pin(&c->tls, c->pin) != AL_OK) {
			failed(c, AL_E_TLS_NO_PEER_CERT);
			return c->state;
		}
	}
	for (;;) {
		size_t n = 0;
		if (c->in_len == sizeof(c->in))
			break;
		e = al_tls_read(&c->tls, c->in + c->in_len, sizeof(c->in) - c->in_len, &n);
		if (e == AL_E_TLS_WANT)
			break;
		if (e != AL_OK) {
			failed(c, e); /* ended (or broke) before a whole request */
			return c->state;
		}
		c->in_len += n;
	}
	e = al_http_parse_request(&c->req, &limits, c->in, c->in_len);
	if (e == AL_E_HTTP_INCOMPLETE && c->in_len < sizeof(c->in) && !c->eof)
		return c->state;
	if (e == AL_E_HTTP_INCOMPLETE)
		e = c->in_len == sizeof(c->in) ? AL_E_HTTP_BODY_TOO_LARGE : AL_E_TRUNCATED;
	if (e != AL_OK) {
		answer_error(
		    c, e == AL_E_HTTP_BODY_TOO_LARGE || e == AL_E_HTTP_HEAD_TOO_LARGE ? 413 : 400,
		    al_err_str(e));
		return c->state;
	}
	c->state = AL_CTL_REQUEST;
	*req = &c->req;
	*pin = c->pin;
	return c->state;
}

al_err al_ctl_answer(al_ctl *c, int status, const uint8_t *body, size_t len)
{
	static const al_http_field fields[] = {{"Content-Type", "application/json"}};
	uint8_t head[256];
	al_wb w;

	if (c->state != AL_CTL_REQUEST)
		return AL_E_ARG;
	c->state = AL_CTL_DONE;
	/* The request may have carried a seed: gone before anything else happens. */
	al_memzero(c->in, c->in_len);
	memset(&c->req, 0, sizeof(c->req));
	al_wb_init(&w, head, sizeof(head));
	AL_TRY(al_http_write_response_head(&w, status, NULL, fields, 1, len, true));
	AL_TRY(al_tls_write(&c->tls, head, w.len));
	if (len)
		AL_TRY(al_tls_write(&c->tls, body, len));
	return al_tls_close(&c->tls);
}
