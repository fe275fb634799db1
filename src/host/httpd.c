/* HTTP/1.1 server: accept thread plus one thread per connection (host/httpd.h). */
#include "host/httpd.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/netconn.h"

#define MAX_RES_FIELDS 32

struct al_httpd {
	al_httpd_config cfg;
	al_http_limits lim;
	int lfd;
	char addr[AL_NET_ADDR_MAX];
	uint16_t port;
	al_tls_ctx own_tls;
	const al_tls_ctx *tls;
	pthread_t acceptor;
	pthread_mutex_t mu; /* guards active */
	pthread_cond_t cv;
	unsigned active;
	pthread_mutex_t handler_mu;
	atomic_bool stop;
};

struct al_httpd_res {
	int status;
	al_http_field fields[MAX_RES_FIELDS];
	size_t n_fields;
	uint8_t *body;
	size_t len, cap, max;
	bool close;
	bool too_large;
};

/* --- response building ------------------------------------------------------------------ */

void al_httpd_res_status(al_httpd_res *r, int status)
{
	r->status = status;
}

static bool reserved_name(const char *name)
{
	static const char *const names[] = {"content-length", "transfer-encoding", "connection"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(name) == strlen(names[i]) && al_http_ieq(name, names[i], strlen(name)))
			return true;
	return false;
}

al_err al_httpd_res_header(al_httpd_res *r, const char *name, const char *value)
{
	uint8_t probe[8];
	al_wb w;
	al_http_field f = {name, value};
	al_err e;

	if (!name || !value || reserved_name(name))
		return AL_E_ARG;
	if (r->n_fields >= MAX_RES_FIELDS)
		return AL_E_TOO_LARGE;
	/* Validate through the writer (dry run into a tiny buffer). */
	al_wb_init(&w, probe, sizeof(probe));
	e = al_http_write_response_head(&w, 200, NULL, &f, 1, 0, false);
	if (e != AL_OK && e != AL_E_BUFSIZE)
		return e;
	f.name = strdup(name);
	f.value = strdup(value);
	if (!f.name || !f.value) {
		free((char *)f.name);
		free((char *)f.value);
		return AL_E_NOMEM;
	}
	r->fields[r->n_fields++] = f;
	return AL_OK;
}

al_err al_httpd_res_body(al_httpd_res *r, const void *data, size_t len)
{
	if (r->len + len > r->max || r->len + len < r->len) {
		r->too_large = true;
		return AL_E_TOO_LARGE;
	}
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		uint8_t *p;
		while (cap < r->len + len)
			cap *= 2;
		p = realloc(r->body, cap);
		if (!p)
			return AL_E_NOMEM;
		r->body = p;
		r->cap = cap;
	}
	if (len)
		memcpy(r->body + r->len, data, len);
	r->len += len;
	return AL_OK;
}

al_err al_httpd_res_printf(al_httpd_res *r, const char *fmt, ...)
{
	va_list ap;
	char small[512], *p = small;
	int n;
	al_err e;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return AL_E_ARG;
	if ((size_t)n >= sizeof(small)) {
		p = malloc((size_t)n + 1);
		if (!p)
			return AL_E_NOMEM;
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	e = al_httpd_res_body(r, p, (size_t)n);
	if (p != small)
		free(p);
	return e;
}

static void drop_field(al_httpd_res *r, const char *name)
{
	for (size_t i = 0; i < r->n_fields; i++) {
		if (strlen(r->fields[i].name) == strlen(name) &&
		    al_http_ieq(r->fields[i].name, name, strlen(name))) {
			free((char *)r->fields[i].name);
			free((char *)r->fields[i].value);
			r->fields[i--] = r->fields[--r->n_fields];
		}
	}
}

void al_httpd_res_text(al_httpd_res *r, int status, const char *text)
{
	r->status = status;
	r->len = 0;
	r->too_large = false;
	drop_field(r, "content-type");
	if (al_httpd_res_header(r, "Content-Type", "text/plain; charset=utf-8") != AL_OK)
		return; /* out of memory: the status alone goes out */
	if (al_httpd_res_body(r, text, strlen(text)) == AL_OK) {
		al_err e = al_httpd_res_body(r, "\n", 1);
		(void)e; /* without room for it, the text goes out without its newline */
	}
}

void al_httpd_res_close(al_httpd_res *r)
{
	r->close = true;
}

static void res_reset(al_httpd_res *r, size_t max)
{
	for (size_t i = 0; i < r->n_fields; i++) {
		free((char *)r->fields[i].name);
		free((char *)r->fields[i].value);
	}
	r->n_fields = 0;
	r->status = 200;
	r->len = 0;
	r->max = max;
	r->close = false;
	r->too_large = false;
}

/* --- one connection ------------------------------------------------------------------------ */

typedef struct hconn {
	al_httpd *s;
	al_conn c;
	char peer[AL_NET_ADDR_MAX];
	uint8_t *buf;
	size_t len, cap;
	al_http_request req;
	al_httpd_res res;
	bool sent_continue;
} hconn;

/* Send the response in h->res; head_only for HEAD requests. */
static al_err send_response(hconn *h, bool head_only, bool close)
{
	al_httpd_res *r = &h->res;
	uint8_t head[8192];
	al_wb w;
	bool no_body = r->status < 200 || r->status == 204 || r->status == 304;

	al_wb_init(&w, head, sizeof(head));
	if (al_http_write_response_head(&w, r->status, NULL, r->fields, r->n_fields,
	                                no_body ? 0 : r->len, close) != AL_OK) {
		al_wb_init(&w, head, sizeof(head));
		AL_TRY(al_http_write_response_head(&w, 500, NULL, NULL, 0, 0, true));
		return al_conn_write(&h->c, head, w.len);
	}
	AL_TRY(al_conn_write(&h->c, head, w.len));
	if (head_only || no_body || r->len == 0)
		return AL_OK;
	return al_conn_write(&h->c, r->body, r->len);
}

static int status_for(al_err e)
{
	switch (e) {
	case AL_E_HTTP_HEAD_TOO_LARGE:
	case AL_E_HTTP_TOO_MANY_HEADERS:
		return 431;
	case AL_E_HTTP_BODY_TOO_LARGE:
		return 413;
	case AL_E_HTTP_TRANSFER_ENCODING:
		return 501;
	case AL_E_HTTP_VERSION:
		return 505;
	default:
		return 400;
	}
}

static void send_error(hconn *h, int status, const char *why)
{
	char text[256];
	res_reset(&h->res, h->s->cfg.max_response);
	snprintf(text, sizeof(text), "%d %s: %s", status, al_http_reason(status), why);
	al_httpd_res_text(&h->res, status, text);
	(void)send_response(h, false, true);
}

static void call_handler(hconn *h)
{
	al_httpd *s = h->s;
	const char *target = h->req.target;
	char *q = strchr(target, '?');
	al_httpd_req hr = {0};

	if (q)
		*q = '\0'; /* the target is ours to edit: split path and query */
	hr.http = &h->req;
	hr.method = h->req.method;
	hr.path = target;
	hr.query = q ? q + 1 : "";
	hr.body = h->req.body ? h->req.body : (const uint8_t *)"";
	hr.body_len = h->req.body_len;
	hr.peer = h->peer;
	hr.tls = h->c.use_tls ? &h->c.tls : NULL;
	res_reset(&h->res, s->cfg.max_response);
	if (s->cfg.serialize)
		pthread_mutex_lock(&s->handler_mu);
	s->cfg.handler(s->cfg.handler_arg, &hr, &h->res);
	if (s->cfg.serialize)
		pthread_mutex_unlock(&s->handler_mu);
	if (q)
		*q = '?';
	if (h->res.too_large) {
		res_reset(&h->res, s->cfg.max_response);
		al_httpd_res_text(&h->res, 500, "500 Internal Server Error: response too large");
	}
}

/* Grow the receive buffer and read more. */
static al_err fill(hconn *h, unsigned timeout_ms)
{
	size_t n, max = al_http_max_message(&h->s->lim);
	if (h->len == h->cap) {
		size_t cap = h->cap * 2 > max ? max : h->cap * 2;
		uint8_t *p;
		if (cap <= h->cap)
			return AL_E_HTTP_HEAD_TOO_LARGE; /* limits make this unreachable */
		p = realloc(h->buf, cap);
		if (!p)
			return AL_E_NOMEM;
		h->buf = p;
		h->cap = cap;
	}
	AL_TRY(al_conn_read(&h->c, h->buf + h->len, h->cap - h->len, &n, timeout_ms));
	h->len += n;
	return AL_OK;
}

/* Serve requests until the connection ends. */
static void serve(hconn *h)
{
	al_httpd *s = h->s;
	for (;;) {
		al_err e = h->len ? al_http_parse_request(&h->req, &s->lim, h->buf, h->len)
		                  : AL_E_HTTP_INCOMPLETE;
		if (e == AL_OK) {
			bool head = strcmp(h->req.method, "HEAD") == 0;
			bool close;
			call_handler(h);
			close = !h->req.keep_alive || h->res.close || atomic_load(&s->stop);
			if (send_response(h, head, close) != AL_OK || close)
				return;
			memmove(h->buf, h->buf + h->req.msg_len, h->len - h->req.msg_len);
			h->len -= h->req.msg_len;
			h->sent_continue = false;
			continue;
		}
		if (e != AL_E_HTTP_INCOMPLETE) {
			send_error(h, status_for(e), al_err_str(e));
			return;
		}
		if (h->req.head_len && h->req.expect_continue && !h->sent_continue) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
			h->sent_continue = true;
			if (al_conn_write(&h->c, cont, sizeof(cont) - 1) != AL_OK)
				return;
		}
		/* Between requests a stop or the idle timeout ends the connection quietly;
		 * inside one, the client gets io_timeout_ms per read and then 408. */
		h->c.abort_waits = h->len == 0;
		e = fill(h, h->len ? s->cfg.io_timeout_ms : s->cfg.idle_timeout_ms);
		if (e == AL_E_NET_TIMEOUT && h->len > 0)
			send_error(h, 408, "request incomplete after the read timeout");
		if (e != AL_OK)
			return;
	}
}

static void *conn_main(void *arg)
{
	hconn *h = arg;
	al_httpd *s = h->s;

	h->cap = 4096;
	h->buf = malloc(h->cap);
	if (h->buf && s->tls) {
		if (al_tls_server_init(&h->c.tls, s->tls, (int64_t)time(NULL)) != AL_OK ||
		    al_conn_tls_handshake(&h->c) != AL_OK) {
			free(h->buf);
			h->buf = NULL;
		}
	}
	if (h->buf)
		serve(h);
	res_reset(&h->res, 0);
	free(h->res.body);
	free(h->buf);
	al_conn_close(&h->c);
	free(h);
	pthread_mutex_lock(&s->mu);
	s->active--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* --- accepting ---------------------------------------------------------------------------- */

static void refuse_busy(al_httpd *s, int fd)
{
	static const char busy[] =
	    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 12\r\nConnection: close\r\n\r\nserver busy\n";
	if (!s->tls)
		(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void start_conn(al_httpd *s, int fd)
{
	pthread_attr_t attr;
	pthread_t t;
	hconn *h;

	pthread_mutex_lock(&s->mu);
	if (s->active >= s->cfg.max_conns) {
		pthread_mutex_unlock(&s->mu);
		refuse_busy(s, fd);
		return;
	}
	s->active++;
	pthread_mutex_unlock(&s->mu);
	h = calloc(1, sizeof(*h));
	if (h) {
		h->s = s;
		al_net_peer_name(fd, h->peer);
		al_conn_init(&h->c, fd, s->cfg.io_timeout_ms);
		h->c.abort = &s->stop;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, conn_main, h) == 0) {
			pthread_attr_destroy(&attr);
			return;
		}
		pthread_attr_destroy(&attr);
		free(h);
	}
	close(fd);
	pthread_mutex_lock(&s->mu);
	s->active--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *accept_main(void *arg)
{
	al_httpd *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		int fd;
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd >= 0) {
			/* A response goes out as head then body: without this, Nagle's
			 * algorithm and the client's delayed ACK hold the body ~40 ms. */
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			start_conn(s, fd);
		} else if (errno == EMFILE || errno == ENFILE) {
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL); /* out of descriptors: back off */
		}
	}
	return NULL;
}

/* --- start and stop ----------------------------------------------------------------------- */

static void apply_defaults(al_httpd *s, const al_httpd_config *cfg)
{
	s->cfg = *cfg;
	if (!s->cfg.max_conns)
		s->cfg.max_conns = 64;
	if (!s->cfg.max_response)
		s->cfg.max_response = 64u * 1024 * 1024;
	if (!s->cfg.io_timeout_ms)
		s->cfg.io_timeout_ms = 10000;
	if (!s->cfg.idle_timeout_ms)
		s->cfg.idle_timeout_ms = 60000;
	s->lim.max_head = cfg->max_head ? cfg->max_head : AL_HTTP_DEFAULT_MAX_HEAD;
	s->lim.max_headers = cfg->max_headers;
	s->lim.max_body = cfg->max_body ? cfg->max_body : AL_HTTP_DEFAULT_MAX_BODY;
}

static al_err setup_tls(al_httpd *s)
{
	al_tls_config tc = {0};
	uint8_t *cert = NULL, *key = NULL, *ca = NULL;
	size_t cert_len = 0, key_len = 0, ca_len = 0;
	al_err e = AL_E_NET_FILE;

	if (s->cfg.tls_ctx) {
		s->tls = s->cfg.tls_ctx;
		return AL_OK;
	}
	if (!s->cfg.tls_cert_file && !s->cfg.tls_key_file)
		return AL_OK;
	if (!s->cfg.tls_cert_file || !s->cfg.tls_key_file)
		return AL_E_ARG;
	cert = al_net_read_file(s->cfg.tls_cert_file, &cert_len);
	key = al_net_read_file(s->cfg.tls_key_file, &key_len);
	if (s->cfg.tls_client_ca_file)
		ca = al_net_read_file(s->cfg.tls_client_ca_file, &ca_len);
	if (cert && key && (ca || !s->cfg.tls_client_ca_file)) {
		tc.cert_pem = cert;
		tc.cert_pem_len = cert_len;
		tc.key_pem = key;
		tc.key_pem_len = key_len;
		tc.ca_pem = ca;
		tc.ca_pem_len = ca_len;
		tc.verify_peer = ca != NULL;
		e = al_tls_ctx_init(&s->own_tls, true, &tc);
		if (e == AL_OK)
			s->tls = &s->own_tls;
	}
	al_net_free_file(key, key_len);
	free(cert);
	free(ca);
	return e;
}

al_err al_httpd_start(al_httpd **out, const al_httpd_config *cfg)
{
	al_httpd *s;
	al_err e;

	*out = NULL;
	if (!cfg || !cfg->handler || !cfg->listen)
		return AL_E_ARG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return AL_E_NOMEM;
	s->lfd = -1;
	apply_defaults(s, cfg);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->handler_mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	atomic_init(&s->stop, false);
	e = setup_tls(s);
	if (e == AL_OK)
		e = al_net_listen(&s->lfd, s->addr, &s->port, cfg->listen);
	if (e == AL_OK && pthread_create(&s->acceptor, NULL, accept_main, s) != 0)
		e = AL_E_NOMEM;
	if (e != AL_OK) {
		if (s->lfd >= 0)
			close(s->lfd);
		al_tls_ctx_clear(&s->own_tls);
		pthread_mutex_destroy(&s->mu);
		pthread_mutex_destroy(&s->handler_mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return e;
	}
	/* The configuration's pointers (listen, files) need not outlive the call. */
	s->cfg.listen = NULL;
	s->cfg.tls_cert_file = s->cfg.tls_key_file = s->cfg.tls_client_ca_file = NULL;
	*out = s;
	return AL_OK;
}

uint16_t al_httpd_port(const al_httpd *s)
{
	return s->port;
}

const char *al_httpd_address(const al_httpd *s)
{
	return s->addr;
}

void al_httpd_stop(al_httpd *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
	if (strncmp(s->addr, "unix:", 5) == 0)
		unlink(s->addr + 5);
	pthread_mutex_lock(&s->mu);
	while (s->active > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	al_tls_ctx_clear(&s->own_tls);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->handler_mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

void al_httpd_wait_for_signal(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!got_signal) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}
