/* The host's HTTP(S) client (host/httpc.h): sockets, files, malloc. */
#include "host/httpc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/mem.h"
#include "host/netconn.h"

static void *h_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return calloc(1, n);
}

static void h_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

const al_alloc al_host_alloc = {h_alloc, h_free, NULL};

/* One socket per client: the transport's state. */
typedef struct sock_tp {
	al_conn conn;
	unsigned io_timeout_ms;
} sock_tp;

static al_err sock_open(void *ctx, uint64_t *h, const char *host, uint16_t port,
                        unsigned timeout_ms)
{
	sock_tp *s = ctx;
	int fd;

	AL_TRY(al_net_connect(&fd, host, port, timeout_ms));
	al_conn_init(&s->conn, fd, s->io_timeout_ms);
	*h = 1;
	return AL_OK;
}

static al_err sock_send(void *ctx, uint64_t h, const uint8_t *p, size_t n)
{
	sock_tp *s = ctx;
	return al_conn_write(&s->conn, p, n);
}

static al_err sock_recv(void *ctx, uint64_t h, uint8_t *p, size_t cap, size_t *n,
                        unsigned timeout_ms)
{
	sock_tp *s = ctx;
	return al_conn_read(&s->conn, p, cap, n, timeout_ms);
}

static void sock_close(void *ctx, uint64_t h)
{
	sock_tp *s = ctx;
	al_conn_close(&s->conn);
}

static int64_t sock_now(void *ctx)
{
	return (int64_t)time(NULL);
}

static void sock_drop(void *ctx)
{
	free(ctx);
}

al_err al_httpc_new(al_httpc **out, const al_httpc_config *cfg)
{
	static const al_httpc_config none = {0};
	al_httpc_config c = cfg ? *cfg : none;
	uint8_t *ca = NULL, *cert = NULL, *key = NULL;
	size_t ca_len = 0, cert_len = 0, key_len = 0;
	sock_tp *tp;
	al_err e = AL_OK;

	*out = NULL;
	if (!c.client_cert_file != !c.client_key_file)
		return AL_E_ARG;
	/* Without any trust given, the system roots. */
	const char *ca_file = c.ca_file                            ? c.ca_file
	                      : !c.ca_pem && !c.roots && !c.n_pins ? AL_HTTPC_SYSTEM_CA
	                                                           : NULL;
	if (ca_file && !(ca = al_net_read_file(ca_file, &ca_len)) && c.ca_file)
		e = AL_E_NET_FILE; /* the system bundle may be absent: then plain http only */
	if (e == AL_OK && c.client_cert_file &&
	    (!(cert = al_net_read_file(c.client_cert_file, &cert_len)) ||
	     !(key = al_net_read_file(c.client_key_file, &key_len))))
		e = AL_E_NET_FILE;
	if (e == AL_OK && ca) {
		c.ca_pem = ca;
		c.ca_pem_len = ca_len;
	}
	if (e == AL_OK && cert) {
		c.client_cert_pem = cert;
		c.client_cert_len = cert_len;
		c.client_key_pem = key;
		c.client_key_len = key_len;
	}
	c.ca_file = c.client_cert_file = c.client_key_file = NULL;
	tp = e == AL_OK ? calloc(1, sizeof(*tp)) : NULL;
	if (e == AL_OK && !tp)
		e = AL_E_NOMEM;
	if (e == AL_OK) {
		al_httpc_transport t = {tp,         sock_open, sock_send, sock_recv,
		                        sock_close, sock_now,  sock_drop};
		tp->conn.fd = -1;
		tp->io_timeout_ms = c.io_timeout_ms ? c.io_timeout_ms : 30000;
		e = al_httpc_new_over(out, &c, &t, &al_host_alloc);
	}
	free(ca);
	free(cert);
	if (key)
		al_memzero(key, key_len);
	free(key);
	if (e != AL_OK && !*out)
		free(tp);
	return e;
}
