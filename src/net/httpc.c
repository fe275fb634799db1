/* Blocking HTTP/1.1 client over the core codec and TLS engine (net/httpc.h). */
#include "net/httpc.h"

#include <string.h>

#include "util/mem.h"

struct al_httpc {
	al_httpc_config cfg;
	al_http_limits lim;
	al_httpc_transport tp;
	const al_alloc *mem;
	/* our copies of the PEM bytes of cfg */
	uint8_t *ca_pem, *cert_pem, *key_pem;
	size_t ca_len, cert_len, key_len;
	al_tls_ctx tls;
	bool tls_ready;
	uint64_t stream;
	bool connected;
	bool https;
	bool use_tls;
	al_tls conn_tls; /* when use_tls; must not move (see crypto/tls.h) */
	char host[AL_URL_MAX_HOST + 1];
	uint16_t port;
	const char *detail;
	char detail_buf[160];
	uint8_t scratch[16384]; /* ciphertext staging */
};

static void set_detail(al_httpc *c, const char *d)
{
	size_t n = strlen(d);
	if (n >= sizeof(c->detail_buf))
		n = sizeof(c->detail_buf) - 1;
	memcpy(c->detail_buf, d, n);
	c->detail_buf[n] = 0;
	c->detail = c->detail_buf;
}

/* An owned copy of n bytes (NUL-terminated for PEM parsing), or NULL for none. */
static al_err copy(const al_alloc *mem, uint8_t **out, size_t *outlen, const uint8_t *p, size_t n)
{
	*out = NULL;
	*outlen = 0;
	if (!p || !n)
		return AL_OK;
	AL_TRY(al_alloc_get(mem, n + 1, (void **)out));
	memcpy(*out, p, n);
	*outlen = n;
	return AL_OK;
}

al_err al_httpc_new_over(al_httpc **out, const al_httpc_config *cfg, const al_httpc_transport *t,
                         const al_alloc *mem)
{
	static const al_httpc_config none = {0};
	al_httpc *c = NULL;
	al_err e;

	*out = NULL;
	if (!t || !mem || (cfg && (cfg->ca_file || cfg->client_cert_file || cfg->client_key_file)))
		return AL_E_ARG;
	AL_TRY(al_alloc_get(mem, sizeof(*c), (void **)&c));
	c->cfg = cfg ? *cfg : none;
	c->mem = mem;
	c->tp = *t;
	c->detail = "";
	if (!c->cfg.connect_timeout_ms)
		c->cfg.connect_timeout_ms = 10000;
	if (!c->cfg.io_timeout_ms)
		c->cfg.io_timeout_ms = 30000;
	c->lim.max_head = c->cfg.max_head ? c->cfg.max_head : AL_HTTP_DEFAULT_MAX_HEAD;
	c->lim.max_body = c->cfg.max_body ? c->cfg.max_body : 16u * 1024 * 1024;
	e = copy(mem, &c->ca_pem, &c->ca_len, c->cfg.ca_pem, c->cfg.ca_pem_len);
	if (e == AL_OK)
		e = copy(mem, &c->cert_pem, &c->cert_len, c->cfg.client_cert_pem,
		         c->cfg.client_cert_len);
	if (e == AL_OK)
		e = copy(mem, &c->key_pem, &c->key_len, c->cfg.client_key_pem,
		         c->cfg.client_key_len);
	/* Only our copies are used from here on. */
	c->cfg.ca_pem = c->cfg.client_cert_pem = c->cfg.client_key_pem = NULL;
	if (e != AL_OK) {
		c->tp.drop = NULL; /* a refused transport stays the caller's */
		al_httpc_free(c);
		return e;
	}
	*out = c;
	return AL_OK;
}

/* --- TLS over the transport ---------------------------------------------------------- */

/* Hand every ciphertext byte the engine has to the stream. */
static al_err tls_push(al_httpc *c)
{
	size_t n;
	while ((n = al_tls_take(&c->conn_tls, c->scratch, sizeof(c->scratch))) > 0)
		AL_TRY(c->tp.stream_send(c->tp.ctx, c->stream, c->scratch, n));
	return AL_OK;
}

/* Give the engine one read of the stream (or its end). */
static al_err tls_fill(al_httpc *c, unsigned timeout_ms)
{
	size_t n = 0;
	al_err e =
	    c->tp.stream_recv(c->tp.ctx, c->stream, c->scratch, sizeof(c->scratch), &n, timeout_ms);
	if (e == AL_E_NET_CLOSED) {
		al_tls_feed_eof(&c->conn_tls);
		return AL_OK;
	}
	return e == AL_OK ? al_tls_feed(&c->conn_tls, c->scratch, n) : e;
}

/* One step of the engine (handshake or read), then move its bytes; AL_E_TLS_WANT
 * after the stream was read once more. */
static al_err tls_step(al_httpc *c, al_err step, unsigned timeout_ms)
{
	AL_TRY(tls_push(c));
	if (step != AL_E_TLS_WANT)
		return step;
	AL_TRY(tls_fill(c, timeout_ms));
	return AL_E_TLS_WANT;
}

static al_err stream_write(al_httpc *c, const uint8_t *p, size_t n)
{
	if (!c->use_tls)
		return c->tp.stream_send(c->tp.ctx, c->stream, p, n);
	AL_TRY(al_tls_write(&c->conn_tls, p, n));
	return tls_push(c);
}

static al_err stream_read(al_httpc *c, uint8_t *out, size_t cap, size_t *n)
{
	al_err e;

	*n = 0;
	if (!c->use_tls)
		return c->tp.stream_recv(c->tp.ctx, c->stream, out, cap, n, c->cfg.io_timeout_ms);
	do
		e = tls_step(c, al_tls_read(&c->conn_tls, out, cap, n), c->cfg.io_timeout_ms);
	while (e == AL_E_TLS_WANT);
	return e == AL_E_TLS_CLOSED ? AL_E_NET_CLOSED : e;
}

void al_httpc_disconnect(al_httpc *c)
{
	if (!c->connected)
		return;
	if (c->use_tls) {
		/* close_notify, best effort */
		if (al_tls_established(&c->conn_tls) && al_tls_close(&c->conn_tls) == AL_OK)
			(void)tls_push(c);
		al_tls_clear(&c->conn_tls);
	}
	c->tp.stream_close(c->tp.ctx, c->stream);
	c->use_tls = false;
	c->connected = false;
}

void al_httpc_free(al_httpc *c)
{
	if (!c)
		return;
	al_httpc_disconnect(c);
	if (c->tls_ready)
		al_tls_ctx_clear(&c->tls);
	al_alloc_put(c->mem, c->ca_pem);
	al_alloc_put(c->mem, c->cert_pem);
	if (c->key_pem)
		al_memzero(c->key_pem, c->key_len);
	al_alloc_put(c->mem, c->key_pem);
	if (c->tp.drop)
		c->tp.drop(c->tp.ctx);
	al_alloc_put(c->mem, c);
}

const char *al_httpc_error_detail(const al_httpc *c)
{
	return c->detail;
}

/* The TLS context, made on first use (the system roots are read only if needed). */
static al_err tls_ready(al_httpc *c)
{
	al_tls_config tc = {0};
	al_err e;

	if (c->tls_ready)
		return AL_OK;
	if (!c->ca_pem && !c->cfg.roots && !c->cfg.n_pins)
		return AL_E_TLS_CONFIG;
	tc.ca_pem = c->ca_pem;
	tc.ca_pem_len = c->ca_len;
	tc.roots = c->cfg.roots;
	tc.pins = c->cfg.pins;
	tc.n_pins = c->cfg.n_pins;
	tc.allow_tls12 = c->cfg.allow_tls12;
	tc.cert_pem = c->cert_pem;
	tc.cert_pem_len = c->cert_len;
	tc.key_pem = c->key_pem;
	tc.key_pem_len = c->key_len;
	tc.cert = c->cfg.client_cert;
	tc.key = c->cfg.client_key;
	e = al_tls_ctx_init(&c->tls, false, &tc);
	c->tls_ready = e == AL_OK;
	return e;
}

static al_err connect_to(al_httpc *c, const al_url *u)
{
	al_err e;

	if (u->https)
		AL_TRY(tls_ready(c));
	AL_TRY(
	    c->tp.stream_open(c->tp.ctx, &c->stream, u->host, u->port, c->cfg.connect_timeout_ms));
	c->connected = true;
	c->https = u->https;
	c->port = u->port;
	memcpy(c->host, u->host, sizeof(c->host));
	if (!u->https)
		return AL_OK;
	e = al_tls_client_init(&c->conn_tls, &c->tls, u->host, c->tp.now(c->tp.ctx));
	if (e == AL_OK) {
		c->use_tls = true;
		do
			e = tls_step(c, al_tls_handshake(&c->conn_tls), c->cfg.io_timeout_ms);
		while (e == AL_E_TLS_WANT);
	}
	if (e != AL_OK) {
		set_detail(c, c->use_tls ? al_tls_error_detail(&c->conn_tls) : "");
		al_httpc_disconnect(c);
	}
	return e;
}

/* Read until a final (non-1xx) response is complete in res->buf_. */
static al_err read_response(al_httpc *c, al_httpc_response *res, bool head, size_t *got)
{
	size_t cap = 4096, len = 0, max = al_http_max_message(&c->lim);
	uint8_t *buf = NULL;
	bool eof = false;

	*got = 0;
	AL_TRY(al_alloc_get(c->mem, cap + 1, (void **)&buf));
	for (;;) {
		unsigned flags = (head ? AL_HTTP_RES_HEAD : 0) | (eof ? AL_HTTP_RES_EOF : 0);
		/* Closed before a byte of an answer: the server hung up, nothing was cut short. */
		al_err e = eof && !len ? AL_E_NET_CLOSED
		           : len || eof
		               ? al_http_parse_response(&res->http, &c->lim, buf, len, flags)
		               : AL_E_HTTP_INCOMPLETE;
		size_t n;
		if (e == AL_OK && res->http.status < 200 && res->http.status != 101) {
			memmove(buf, buf + res->http.msg_len, len - res->http.msg_len);
			len -= res->http.msg_len;
			continue; /* interim response */
		}
		if (e == AL_OK) {
			if (len > res->http.msg_len)
				res->http.keep_alive = false; /* bytes we did not ask for */
			res->buf_ = buf;
			res->mem_ = c->mem;
			return AL_OK;
		}
		if (e != AL_E_HTTP_INCOMPLETE)
			goto fail_e;
		if (len == cap) {
			uint8_t *p;
			cap = cap * 2 > max ? max : cap * 2;
			if ((e = al_alloc_get(c->mem, cap + 1, (void **)&p)) != AL_OK)
				goto fail_e;
			memcpy(p, buf, len);
			al_alloc_put(c->mem, buf);
			buf = p;
		}
		e = stream_read(c, buf + len, cap - len, &n);
		if (e == AL_E_NET_CLOSED) {
			eof = true;
			continue;
		}
		if (e != AL_OK)
			goto fail_e;
		len += n;
		*got += n;
		continue;
	fail_e:
		al_alloc_put(c->mem, buf);
		return e;
	}
}

static bool idempotent(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

static al_err send_request(al_httpc *c, const char *method, const al_url *u,
                           const al_http_field *fields, size_t n_fields, const uint8_t *body,
                           size_t body_len)
{
	char *target = NULL;
	uint8_t *req = NULL;
	al_wb w;
	al_err e;

	AL_TRY(al_alloc_get(c->mem, u->path_len + 1, (void **)&target));
	memcpy(target, u->path, u->path_len);
	target[u->path_len] = '\0';
	al_wb_init(&w, NULL, 0); /* dry run: measure */
	e = al_http_write_request(&w, method, target, u->authority, fields, n_fields, body,
	                          body_len);
	if (e == AL_E_BUFSIZE) {
		size_t need = w.len;
		e = al_alloc_get(c->mem, need, (void **)&req);
		al_wb_init(&w, req, need);
		if (e == AL_OK)
			e = al_http_write_request(&w, method, target, u->authority, fields,
			                          n_fields, body, body_len);
	}
	if (e == AL_OK)
		e = stream_write(c, req, w.len);
	al_alloc_put(c->mem, req);
	al_alloc_put(c->mem, target);
	return e;
}

static al_err attempt(al_httpc *c, al_httpc_response *res, const char *method, const al_url *u,
                      const al_http_field *fields, size_t n_fields, const uint8_t *body,
                      size_t body_len, size_t *got)
{
	*got = 0;
	if (!c->connected)
		AL_TRY(connect_to(c, u));
	AL_TRY(send_request(c, method, u, fields, n_fields, body, body_len));
	return read_response(c, res, !strcmp(method, "HEAD"), got);
}

al_err al_httpc_request(al_httpc *c, al_httpc_response *res, const char *method, const char *url,
                        const al_http_field *fields, size_t n_fields, const uint8_t *body,
                        size_t body_len)
{
	al_url u;
	size_t got;
	bool reused;
	al_err e;

	memset(res, 0, sizeof(*res));
	c->detail = "";
	if (!url || !method)
		return AL_E_ARG;
	AL_TRY(al_url_parse(&u, url, strlen(url)));
	if (c->connected && (c->https != u.https || c->port != u.port || strcmp(c->host, u.host)))
		al_httpc_disconnect(c);
	reused = c->connected;
	e = attempt(c, res, method, &u, fields, n_fields, body, body_len, &got);
	/* RFC 9112 9.3.1: a client MAY retry an idempotent request on a new connection when
	 * the kept-alive one was closed before any response arrived. */
	if (e != AL_OK && reused && got == 0 && (idempotent(method) || c->cfg.retry_unanswered) &&
	    (e == AL_E_NET_CLOSED || e == AL_E_TRUNCATED || e == AL_E_NET_IO ||
	     e == AL_E_TLS_TRUNCATED)) {
		al_httpc_disconnect(c);
		e = attempt(c, res, method, &u, fields, n_fields, body, body_len, &got);
	}
	if (e != AL_OK) {
		if (c->connected && c->use_tls && *c->detail == '\0')
			set_detail(c, al_tls_error_detail(&c->conn_tls));
		al_httpc_disconnect(c);
		memset(res, 0, sizeof(*res));
		return e;
	}
	res->status = res->http.status;
	res->body = res->http.body ? res->http.body : res->buf_ + res->http.head_len;
	res->body_len = res->http.body_len;
	((uint8_t *)res->body)[res->body_len] = '\0';
	if (!res->http.keep_alive)
		al_httpc_disconnect(c);
	return AL_OK;
}

al_err al_httpc_get(al_httpc *c, al_httpc_response *res, const char *url)
{
	return al_httpc_request(c, res, "GET", url, NULL, 0, NULL, 0);
}

al_err al_httpc_post(al_httpc *c, al_httpc_response *res, const char *url, const char *content_type,
                     const uint8_t *body, size_t body_len)
{
	al_http_field f = {"Content-Type", content_type};
	return al_httpc_request(c, res, "POST", url, &f, content_type ? 1 : 0, body, body_len);
}

void al_httpc_response_free(al_httpc_response *res)
{
	if (res->buf_)
		al_alloc_put(res->mem_, res->buf_);
	memset(res, 0, sizeof(*res));
}

const char *al_httpc_header(const al_httpc_response *res, const char *name)
{
	return al_http_response_header(&res->http, name);
}
