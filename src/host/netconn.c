/* Sockets and plain/TLS connections (host/netconn.h). Every socket is made, bound and
 * named by host/sock.h, the host's one socket layer; this file adds name resolution,
 * waiting with timeouts and TLS. */
#include "host/netconn.h"

#include "host/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Slice of a wait after which the abort flag is looked at again. */
#define WAIT_SLICE_MS 100

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd for at most timeout_ms (in slices, to notice an abort). */
static al_err wait_fd(const al_conn *c, int fd, short events, unsigned timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int r;
		if (c && c->abort && c->abort_waits && atomic_load(c->abort))
			return AL_E_NET_CLOSED;
		if (left <= 0)
			return AL_E_NET_TIMEOUT;
		r = poll(&p, 1, (int)(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS));
		if (r > 0)
			return AL_OK;
		if (r < 0 && errno != EINTR)
			return AL_E_NET_IO;
	}
}

static bool to_sock_addr(sock_addr *a, const struct addrinfo *ai)
{
	if (ai->ai_addrlen > sizeof(a->ss))
		return false;
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
	a->len = ai->ai_addrlen;
	return true;
}

static al_err connect_one(int *out, const struct addrinfo *ai, unsigned timeout_ms)
{
	sock_addr a;
	int fd = to_sock_addr(&a, ai) ? sock_dial_tcp(&a) : -1;
	al_err e;

	if (fd < 0)
		return AL_E_NET_CONNECT;
	e = wait_fd(NULL, fd, POLLOUT, timeout_ms);
	if (e == AL_OK && sock_error(fd) != 0)
		e = AL_E_NET_CONNECT;
	if (e != AL_OK) {
		close(fd);
		return e;
	}
	*out = fd;
	return AL_OK;
}

al_err al_net_connect(int *fd, const char *host, uint16_t port, unsigned connect_timeout_ms)
{
	struct addrinfo hints = {0}, *res = NULL;
	char ps[8];
	al_err e = AL_E_NET_CONNECT;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%u", (unsigned)port);
	if (getaddrinfo(host, ps, &hints, &res) != 0 || !res)
		return AL_E_NET_RESOLVE;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		e = connect_one(fd, ai, connect_timeout_ms);
		if (e == AL_OK)
			break;
	}
	freeaddrinfo(res);
	return e;
}

void al_net_peer_name(int fd, char out[AL_NET_ADDR_MAX])
{
	sock_addr a;
	char text[SOCK_ADDR_STRLEN];

	a.len = sizeof(a.ss);
	if (getpeername(fd, (struct sockaddr *)&a.ss, &a.len) != 0) {
		snprintf(out, AL_NET_ADDR_MAX, "unknown");
		return;
	}
	sock_format(text, (const struct sockaddr *)&a.ss);
	snprintf(out, AL_NET_ADDR_MAX, "%s", text);
}

static al_err listen_unix(int *fd, char addr[AL_NET_ADDR_MAX], const char *path)
{
	int s = strlen(path) == 0 ? -1 : sock_listen_unix(path);

	if (s < 0)
		return AL_E_NET_LISTEN;
	snprintf(addr, AL_NET_ADDR_MAX, "unix:%s", path);
	*fd = s;
	return AL_OK;
}

/* Split "host:port" / "[v6]:port" into host and port strings. */
static al_err split_hostport(const char *spec, char host[AL_NET_ADDR_MAX], char port[8])
{
	const char *colon;
	size_t hl;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return AL_E_ARG;
		hl = (size_t)(close - spec - 1);
		spec++;
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return AL_E_ARG;
		hl = (size_t)(colon - spec);
	}
	if (hl == 0 || hl >= AL_NET_ADDR_MAX || strlen(colon + 1) == 0 || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535)
		return AL_E_ARG;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	snprintf(port, 8, "%s", colon + 1);
	return AL_OK;
}

static al_err listen_tcp(int *fd, sock_addr *bound, const struct addrinfo *ai)
{
	sock_addr a;
	int s = to_sock_addr(&a, ai) ? sock_listen_tcp(&a, bound) : -1;

	if (s < 0)
		return AL_E_NET_LISTEN;
	*fd = s;
	return AL_OK;
}

al_err al_net_listen(int *fd, char addr[AL_NET_ADDR_MAX], uint16_t *port, const char *spec)
{
	struct addrinfo hints = {0}, *res = NULL;
	char host[AL_NET_ADDR_MAX], ps[8], text[SOCK_ADDR_STRLEN];
	al_err e = AL_E_NET_LISTEN;
	sock_addr bound;

	*port = 0;
	if (!spec)
		return AL_E_ARG;
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(fd, addr, spec + 5);
	AL_TRY(split_hostport(spec, host, ps));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, ps, &hints, &res) != 0 || !res)
		return AL_E_NET_RESOLVE;
	for (struct addrinfo *ai = res; ai && e != AL_OK; ai = ai->ai_next)
		e = listen_tcp(fd, &bound, ai);
	freeaddrinfo(res);
	AL_TRY(e);
	sock_format(text, (const struct sockaddr *)&bound.ss);
	snprintf(addr, AL_NET_ADDR_MAX, "%s", text);
	*port = (uint16_t)sock_port(&bound);
	return AL_OK;
}

/* --- connections -------------------------------------------------------------------------- */

void al_conn_init(al_conn *c, int fd, unsigned io_timeout_ms)
{
	memset(c, 0, offsetof(al_conn, scratch));
	c->fd = fd;
	c->io_timeout_ms = io_timeout_ms;
	(void)sock_nonblock(fd); /* failure shows as the first send or recv error */
}

static al_err send_all(al_conn *c, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->abort_waits = false; /* a response in flight is finished */
			AL_TRY(wait_fd(c, c->fd, POLLOUT, c->io_timeout_ms));
			continue;
		}
		return errno == EPIPE || errno == ECONNRESET ? AL_E_NET_CLOSED : AL_E_NET_IO;
	}
	return AL_OK;
}

/* Send every pending TLS byte. */
static al_err flush_tls(al_conn *c)
{
	size_t n;
	while ((n = al_tls_take(&c->tls, c->scratch, sizeof(c->scratch))) > 0)
		AL_TRY(send_all(c, c->scratch, n));
	return AL_OK;
}

/* Receive raw bytes: AL_OK with *n > 0, or AL_E_NET_CLOSED at end of stream. */
static al_err recv_some(al_conn *c, void *out, size_t cap, size_t *n, unsigned timeout_ms)
{
	for (;;) {
		ssize_t r = recv(c->fd, out, cap, 0);
		if (r > 0) {
			*n = (size_t)r;
			return AL_OK;
		}
		if (r == 0)
			return AL_E_NET_CLOSED;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == ECONNRESET ? AL_E_NET_CLOSED : AL_E_NET_IO;
		AL_TRY(wait_fd(c, c->fd, POLLIN, timeout_ms));
	}
}

/* Feed the TLS engine from the socket once. */
static al_err tls_pull(al_conn *c, unsigned timeout_ms)
{
	size_t n;
	al_err e = recv_some(c, c->scratch, sizeof(c->scratch), &n, timeout_ms);
	if (e == AL_E_NET_CLOSED) {
		al_tls_feed_eof(&c->tls);
		return AL_OK;
	}
	AL_TRY(e);
	return al_tls_feed(&c->tls, c->scratch, n);
}

al_err al_conn_tls_handshake(al_conn *c)
{
	c->use_tls = true;
	for (;;) {
		al_err e = al_tls_handshake(&c->tls);
		AL_TRY(flush_tls(c));
		if (e != AL_E_TLS_WANT)
			return e;
		AL_TRY(tls_pull(c, c->io_timeout_ms));
	}
}

al_err al_conn_write(al_conn *c, const void *data, size_t len)
{
	if (!c->use_tls)
		return send_all(c, data, len);
	AL_TRY(al_tls_write(&c->tls, data, len));
	return flush_tls(c);
}

al_err al_conn_read(al_conn *c, void *out, size_t cap, size_t *n, unsigned timeout_ms)
{
	*n = 0;
	if (!c->use_tls)
		return recv_some(c, out, cap, n, timeout_ms);
	for (;;) {
		al_err e = al_tls_read(&c->tls, out, cap, n);
		AL_TRY(flush_tls(c));
		if (e == AL_E_TLS_CLOSED)
			return AL_E_NET_CLOSED;
		if (e != AL_E_TLS_WANT)
			return e;
		AL_TRY(tls_pull(c, timeout_ms));
	}
}

void al_conn_close(al_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->use_tls) {
		if (al_tls_established(&c->tls) && al_tls_close(&c->tls) == AL_OK) {
			unsigned t = c->io_timeout_ms;
			c->io_timeout_ms = t < 1000 ? t : 1000;
			(void)flush_tls(c);
			c->io_timeout_ms = t;
		}
		al_tls_clear(&c->tls);
	}
	close(c->fd);
	c->fd = -1;
}

uint8_t *al_net_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (64L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf)
			buf[n] = 0;
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

void al_net_free_file(uint8_t *p, size_t len)
{
	if (p)
		memset(p, 0, len);
	free(p);
}
