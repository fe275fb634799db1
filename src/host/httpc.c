/* Blocking HTTP/1.1 client over the core codec and TLS engine (host/httpc.h). */
#include "host/httpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/netconn.h"

struct al_httpc {
	al_httpc_config cfg;
	al_http_limits lim;
	uint8_t *ca_pem; /* from ca_file / the system bundle */
	size_t ca_len;
	uint8_t *cert_pem, *key_pem;
	size_t cert_len, key_len;
	al_tls_ctx tls;
	bool tls_ready;
	al_conn conn;
	bool connected;
	bool https;
	char host[AL_URL_MAX_HOST + 1];
	uint16_t port;
	const char *detail;
	char detail_buf[160];
};

al_err al_httpc_new(al_httpc **out, const al_httpc_config *cfg)
{
	static const al_httpc_config none = {0};
	al_httpc *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return AL_E_NOMEM;
	c->cfg = cfg ? *cfg : none;
	c->conn.fd = -1;
	c->detail = "";
	if (!c->cfg.connect_timeout_ms)
		c->cfg.connect_timeout_ms = 10000;
	if (!c->cfg.io_timeout_ms)
		c->cfg.io_timeout_ms = 30000;
	c->lim.max_head = c->cfg.max_head ? c->cfg.max_head : AL_HTTP_DEFAULT_MAX_HEAD;
	c->lim.max_body = c->cfg.max_body ? c->cfg.max_body : 16u * 1024 * 1024;
	if (c->cfg.ca_file && !(c->ca_pem = al_net_read_file(c->cfg.ca_file, &c->ca_len)))
		goto bad_file;
	if (c->cfg.client_cert_file || c->cfg.client_key_file) {
		if (!c->cfg.client_cert_file || !c->cfg.client_key_file) {
			al_httpc_free(c);
			return AL_E_ARG;
		}
		c->cert_pem = al_net_read_file(c->cfg.client_cert_file, &c->cert_len);
		c->key_pem = al_net_read_file(c->cfg.client_key_file, &c->key_len);
		if (!c->cert_pem || !c->key_pem)
			goto bad_file;
	}
	/* Paths need not outlive the call. */
	c->cfg.ca_file = c->cfg.client_cert_file = c->cfg.client_key_file = NULL;
	*out = c;
	return AL_OK;
bad_file:
	al_httpc_free(c);
	return AL_E_NET_FILE;
}

void al_httpc_disconnect(al_httpc *c)
{
	if (c->connected)
		al_conn_close(&c->conn);
	c->connected = false;
}

void al_httpc_free(al_httpc *c)
{
	if (!c)
		return;
	al_httpc_disconnect(c);
	if (c->tls_ready)
		al_tls_ctx_clear(&c->tls);
	free(c->ca_pem);
	free(c->cert_pem);
	al_net_free_file(c->key_pem, c->key_len);
	free(c);
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
	if (!c->ca_pem && !c->cfg.ca_pem && !c->cfg.n_pins &&
	    !(c->ca_pem = al_net_read_file(AL_HTTPC_SYSTEM_CA, &c->ca_len)))
		return AL_E_NET_FILE;
	tc.ca_pem = c->cfg.ca_pem ? c->cfg.ca_pem : c->ca_pem;
	tc.ca_pem_len = c->cfg.ca_pem ? c->cfg.ca_pem_len : c->ca_len;
	tc.pins = c->cfg.pins;
	tc.n_pins = c->cfg.n_pins;
	tc.allow_tls12 = c->cfg.allow_tls12;
	tc.cert_pem = c->cert_pem;
	tc.cert_pem_len = c->cert_len;
	tc.key_pem = c->key_pem;
	tc.key_pem_len = c->key_len;
	e = al_tls_ctx_init(&c->tls, false, &tc);
	c->tls_ready = e == AL_OK;
	return e;
}

static al_err connect_to(al_httpc *c, const al_url *u)
{
	int fd;
	al_err e;

	if (u->https)
		AL_TRY(tls_ready(c));
	AL_TRY(al_net_connect(&fd, u->host, u->port, c->cfg.connect_timeout_ms));
	al_conn_init(&c->conn, fd, c->cfg.io_timeout_ms);
	c->connected = true;
	c->https = u->https;
	c->port = u->port;
	memcpy(c->host, u->host, sizeof(c->host));
	if (!u->https)
		return AL_OK;
	e = al_tls_client_init(&c->conn.tls, &c->tls, u->host, (int64_t)time(NULL));
	if (e == AL_OK) {
		c->conn.use_tls = true;
		e = al_conn_tls_handshake(&c->conn);
	}
	if (e != AL_OK) {
		const char *d = c->conn.use_tls ? al_tls_error_detail(&c->conn.tls) : "";
		snprintf(c->detail_buf, sizeof(c->detail_buf), "%s", d);
		c->detail = c->detail_buf;
		al_httpc_disconnect(c);
	}
	return e;
}

/* Read until a final (non-1xx) response is complete in res->buf_. */
static al_err read_response(al_httpc *c, al_httpc_response *res, bool head, size_t *got)
{
	size_t cap = 4096, len = 0, max = al_http_max_message(&c->lim);
	uint8_t *buf = malloc(cap + 1);
	bool eof = false;

	*got = 0;
	if (!buf)
		return AL_E_NOMEM;
	for (;;) {
		unsigned flags = (head ? AL_HTTP_RES_HEAD : 0) | (eof ? AL_HTTP_RES_EOF : 0);
		al_err e = len || eof ? al_http_parse_response(&res->http, &c->lim, buf, len, flags)
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
			return AL_OK;
		}
		if (e != AL_E_HTTP_INCOMPLETE)
			goto fail_e;
		if (len == cap) {
			uint8_t *p;
			cap = cap * 2 > max ? max : cap * 2;
			p = realloc(buf, cap + 1);
			if (!p) {
				e = AL_E_NOMEM;
				goto fail_e;
			}
			buf = p;
		}
		e = al_conn_read(&c->conn, buf + len, cap - len, &n, c->cfg.io_timeout_ms);
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
		free(buf);
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
	char *target = malloc(u->path_len + 1);
	uint8_t *req = NULL;
	al_wb w;
	al_err e;

	if (!target)
		return AL_E_NOMEM;
	memcpy(target, u->path, u->path_len);
	target[u->path_len] = '\0';
	al_wb_init(&w, NULL, 0); /* dry run: measure */
	e = al_http_write_request(&w, method, target, u->authority, fields, n_fields, body,
	                          body_len);
	if (e == AL_E_BUFSIZE) {
		size_t need = w.len;
		req = malloc(need);
		al_wb_init(&w, req, need);
		e = req ? al_http_write_request(&w, method, target, u->authority, fields, n_fields,
		                                body, body_len)
		        : AL_E_NOMEM;
	}
	if (e == AL_OK)
		e = al_conn_write(&c->conn, req, w.len);
	free(req);
	free(target);
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
	if (e != AL_OK && reused && got == 0 && idempotent(method) &&
	    (e == AL_E_NET_CLOSED || e == AL_E_TRUNCATED || e == AL_E_NET_IO ||
	     e == AL_E_TLS_TRUNCATED)) {
		al_httpc_disconnect(c);
		e = attempt(c, res, method, &u, fields, n_fields, body, body_len, &got);
	}
	if (e != AL_OK) {
		if (c->connected && c->conn.use_tls && *c->detail == '\0') {
			snprintf(c->detail_buf, sizeof(c->detail_buf), "%s",
			         al_tls_error_detail(&c->conn.tls));
			c->detail = c->detail_buf;
		}
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
	free(res->buf_);
	memset(res, 0, sizeof(*res));
}

const char *al_httpc_header(const al_httpc_response *res, const char *name)
{
	return al_http_response_header(&res->http, name);
}
