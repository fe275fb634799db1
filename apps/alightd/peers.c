/* Peer connections: TCP sockets in and out, relayed to the node inside the enclave;
 * and the control API's RA-TLS connections (--rpc-listen), relayed the same way to the
 * TLS server inside the enclave (the ctl_* ecalls): the host moves their ciphertext
 * only, the TLS key, the token check and the requests are the enclave's.
 *
 * The peer manager (BOLT #8 handshakes, BOLT #1 messages, pings, timeouts) runs in the
 * enclave (src/enclave/node.c); this file moves socket events and bytes across the
 * boundary: accepted sockets become net_accept_from ecalls, readable bytes net_recv,
 * end of stream net_eof, a drained socket net_writable, a closed one net_closed. The
 * enclave's ocalls come back here: net_send writes straight to the socket (what does
 * not fit stays in the enclave until net_writable), net_close and net_read_ctl set flags
 * acted on after the ecall (ecalls never nest), timer_arm sets the loop's timer, and
 * net_dial starts an outbound connect the control API asked for.
 *
 * Every connection lives in a fixed slot of d->conns (max_peers + max_pending, the
 * enclave's connection count, then RPC_CLIENTS control slots), so the host never
 * allocates per connection. Its id for
 * the enclave is the slot index with a generation counter in the high half, unique
 * among live connections. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alightd.h"

/* Accepts per readiness callback: a flood must not starve established peers. */
#define ACCEPT_BUDGET 64
/* Socket reads per readiness callback, for the same reason. */
#define READ_BUDGET 16

size_t peers_table_size(size_t n)
{
	return (n + RPC_CLIENTS) * sizeof(conn);
}

/* Peer slots, then control slots. */
static size_t conn_total(const alightd *d)
{
	return d->n_conns + RPC_CLIENTS;
}

static conn *conn_of(alightd *d, al_enc_conn id)
{
	size_t i = (size_t)(id & 0xffffffffu);
	conn *c;

	if (i >= conn_total(d))
		return NULL;
	c = &d->conns[i];
	return c->used && c->id == id ? c : NULL;
}

static conn *conn_alloc(alightd *d, int fd, bool inbound, const char *addr, bool ctl)
{
	for (size_t i = ctl ? d->n_conns : 0; i < (ctl ? conn_total(d) : d->n_conns); i++) {
		conn *c = &d->conns[i];
		uint32_t gen;

		if (c->used)
			continue;
		gen = c->gen + 1;
		memset(c, 0, offsetof(conn, rbuf));
		c->used = true;
		c->owner = d;
		c->gen = gen;
		c->fd = fd;
		c->slot = -1;
		c->inbound = inbound;
		c->ctl = ctl;
		c->id = ((uint64_t)gen << 32) | i;
		strncpy(c->addr, addr, sizeof(c->addr) - 1);
		return c;
	}
	return NULL;
}

static void conn_release(conn *c)
{
	c->used = false;
	c->fd = -1;
	c->slot = -1;
	c->roff = c->rlen = 0;
}

/* The socket is gone: tell the enclave why (if the socket failed), then that it is
 * closed (the connection's last ecall; the enclave logs the disconnect and answers a
 * connect request waiting for it). */
static void conn_finish(alightd *d, conn *c)
{
	const al_ecalls *ec = d->enc->ec;
	al_enc_conn id = c->id;

	if (c->slot >= 0)
		al_loop_remove(d->loop, c->slot);
	if (c->fd >= 0)
		close(c->fd);
	c->slot = c->fd = -1;
	if (c->ctl) {
		conn_release(c);
		(void)ec->ctl_closed(id);
		return;
	}
	if (c->failed && c->sock_errno != 0) {
		const char *why = strerror(c->sock_errno);

		(void)ec->net_error(id, why, strlen(why));
	}
	conn_release(c);
	(void)ec->net_closed(id);
}

static void set_events(alightd *d, conn *c)
{
	unsigned ev = 0;

	if (c->slot < 0)
		return;
	if (c->want_read && !c->eof_seen && c->rlen == 0)
		ev |= AL_LOOP_READ;
	if (c->want_write || c->connecting)
		ev |= AL_LOOP_WRITE;
	al_loop_set_events(d->loop, c->slot, ev);
}

static bool drain(alightd *d, conn *c);

void peers_settle(alightd *d)
{
	bool again = true;

	/* Closing one connection is an ecall, which may ask to close another. */
	for (int round = 0; again && round < 64; round++) {
		again = false;
		for (size_t i = 0; i < conn_total(d); i++) {
			conn *c = &d->conns[i];

			if (c->used && (c->close_req || c->failed)) {
				conn_finish(d, c);
				again = true;
			} else if (c->used && drain(d, c)) {
				again = true; /* input kept while the enclave did not read */
			}
		}
		if (al_enclave_host_complete(d->enc) > 0)
			again = true;
	}
	for (size_t i = 0; i < conn_total(d); i++) {
		if (d->conns[i].used)
			set_events(d, &d->conns[i]);
	}
}

static void socket_failed(conn *c, int err)
{
	if (!c->failed) {
		c->failed = true;
		c->sock_errno = err;
	}
}

/* Hand buffered input to the enclave while it takes bytes; true if it took any. */
static bool offer(alightd *d, conn *c)
{
	bool took = false;

	while (c->rlen > 0 && c->want_read && !c->failed && !c->close_req) {
		size_t used = 0;
		const al_ecalls *ec = d->enc->ec;
		al_err e = (al_err)(c->ctl ? ec->ctl_recv : ec->net_recv)(c->id, c->rbuf + c->roff,
		                                                          c->rlen, &used);

		if (used > c->rlen)
			used = c->rlen;
		c->roff += used;
		c->rlen -= used;
		took = took || used > 0;
		if (e != AL_OK || used == 0)
			break;
	}
	if (c->rlen == 0)
		c->roff = 0;
	return took;
}

/* Buffered input, then the end of stream once every byte before it was taken. */
static bool drain(alightd *d, conn *c)
{
	bool progress = offer(d, c);

	if (c->used && c->eof_seen && c->rlen == 0 && !c->eof_done && !c->failed && !c->close_req) {
		c->eof_done = true;
		(void)(c->ctl ? d->enc->ec->ctl_eof : d->enc->ec->net_eof)(c->id);
		progress = true;
	}
	return progress;
}

/* Read the socket while the enclave wants bytes. */
static void read_socket(alightd *d, conn *c)
{
	for (int i = 0; i < READ_BUDGET && c->used && !c->failed && !c->close_req; i++) {
		ssize_t n;

		offer(d, c);
		if (c->rlen > 0 || c->eof_seen || !c->want_read)
			break;
		n = read(c->fd, c->rbuf, sizeof(c->rbuf));
		if (n > 0) {
			c->roff = 0;
			c->rlen = (size_t)n;
		} else if (n == 0) {
			c->eof_seen = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else if (errno != EINTR) {
			socket_failed(c, errno);
		}
	}
	(void)drain(d, c);
}

static void on_conn(al_loop *l, void *arg, int slot, unsigned events)
{
	conn *c = arg;
	alightd *d = c->owner;
	int err;

	if ((events & AL_LOOP_ERROR) || (c->connecting && (events & AL_LOOP_WRITE))) {
		err = sock_error(c->fd);
		if (err != 0)
			socket_failed(c, err);
		else if (c->connecting && (events & AL_LOOP_WRITE))
			c->connecting = false;
	}
	if (!c->failed && (events & (AL_LOOP_READ | AL_LOOP_ERROR)))
		read_socket(d, c);
	if (c->used && !c->failed && !c->connecting && (events & AL_LOOP_WRITE)) {
		c->want_write = false;
		(void)(c->ctl ? d->enc->ec->ctl_writable : d->enc->ec->net_writable)(c->id);
	}
	peers_settle(d);
}

/* --- the enclave's network and timer ocalls (no ecalls from here) ------------------ */

static int32_t oc_send(void *arg, al_enc_conn id, const uint8_t *buf, size_t len, size_t *taken)
{
	conn *c = conn_of(arg, id);
	ssize_t n;

	*taken = 0;
	if (c == NULL || c->fd < 0 || c->failed || c->close_req)
		return AL_E_HOST_IO;
	if (c->connecting) {
		c->want_write = true;
		return AL_OK;
	}
	do {
		/* One send per chunk: Act Two is offered whole and leaves in one segment. */
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->want_write = true;
		return AL_OK;
	}
	if (n < 0) {
		socket_failed(c, errno);
		return AL_E_HOST_IO;
	}
	*taken = (size_t)n;
	if ((size_t)n < len)
		c->want_write = true;
	return AL_OK;
}

static int32_t oc_close(void *arg, al_enc_conn id)
{
	conn *c = conn_of(arg, id);

	if (c == NULL)
		return AL_E_HOST_IO;
	c->close_req = true;
	return AL_OK;
}

static void oc_read_ctl(void *arg, al_enc_conn id, int32_t want)
{
	conn *c = conn_of(arg, id);

	if (c != NULL)
		c->want_read = want != 0;
}

static void on_timer(al_loop *l, void *arg, uint64_t now)
{
	alightd *d = arg;

	d->enc->ec->timer();
	peers_settle(d);
}

static void oc_timer_arm(void *arg, uint64_t deadline)
{
	alightd *d = arg;

	al_loop_set_timer(d->loop, deadline, deadline == UINT64_MAX ? NULL : on_timer, d);
}

static int32_t oc_dial(void *arg, uint32_t node, const char *addr, size_t addrlen, al_enc_conn *id,
                       char *why, size_t whycap)
{
	alightd *d = arg;
	char text[SOCK_ADDR_STRLEN + 64], name[SOCK_ADDR_STRLEN];
	sock_addr a;
	conn *c;
	int fd;

	(void)node;
	if (addrlen >= sizeof(text)) {
		snprintf(why, whycap, "invalid address: too long");
		return AL_E_ARG;
	}
	memcpy(text, addr, addrlen);
	text[addrlen] = '\0';
	if (!sock_parse(&a, text)) {
		snprintf(why, whycap, "invalid address \"%s\": want IPv4:port or [IPv6]:port",
		         text);
		return AL_E_ARG;
	}
	sock_format(name, (const struct sockaddr *)&a.ss);
	if (sock_port(&a) == 0) {
		snprintf(why, whycap, "invalid address %s: port 0", name);
		return AL_E_ARG;
	}
	c = conn_alloc(d, -1, false, name, false);
	if (c == NULL) {
		snprintf(why, whycap, "%s", al_err_str(AL_E_HOST_FULL));
		return AL_E_HOST_FULL;
	}
	fd = sock_dial_tcp(&a);
	if (fd >= 0) {
		c->fd = fd;
		if (al_loop_add(d->loop, &c->slot, fd, AL_LOOP_WRITE, on_conn, c) != AL_OK)
			errno = EMFILE;
	}
	if (fd < 0 || c->slot < 0) {
		snprintf(why, whycap, "connection to %s failed: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		conn_release(c);
		return AL_E_HOST_IO;
	}
	c->connecting = true;
	*id = c->id;
	logf_("dialing conn=%llu addr=%s", (unsigned long long)(c->id & 0xffffffffu), name);
	return AL_OK;
}

static void oc_api_done(void *arg, uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	rpc_complete(arg, token, status, body, len);
}

void peers_enclave_net(alightd *d, al_enclave_net *net)
{
	*net = (al_enclave_net){
	    .arg = d,
	    .send = oc_send,
	    .close = oc_close,
	    .read_ctl = oc_read_ctl,
	    .timer_arm = oc_timer_arm,
	    .dial = oc_dial,
	    .api_done = oc_api_done,
	};
}

/* --- accepting ------------------------------------------------------------------------ */

/* Out of descriptors: accept and drop one connection with the spare descriptor, so
 * the listen queue does not keep the loop spinning. */
static void shed(alightd *d)
{
	int fd;

	if (d->reserve_fd < 0)
		return;
	close(d->reserve_fd);
	fd = accept(d->listen_fd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	logf_("refused inbound reason=\"out of file descriptors\"");
}

static void accept_one(alightd *d, int fd, const struct sockaddr *sa)
{
	char addr[SOCK_ADDR_STRLEN];
	conn *c;
	al_err e;
	int one = 1;

	sock_format(addr, sa);
	c = conn_alloc(d, fd, true, addr, false);
	if (c == NULL) {
		logf_("refused inbound addr=%s reason=\"%s\"", addr, al_err_str(AL_E_HOST_FULL));
		close(fd);
		return;
	}
	if (al_loop_add(d->loop, &c->slot, fd, 0, on_conn, c) != AL_OK) {
		logf_("refused inbound addr=%s reason=\"%s\"", addr, strerror(EMFILE));
		close(fd);
		conn_release(c);
		return;
	}
	e = (al_err)d->enc->ec->net_accept_from(d->node, c->id, addr, strlen(addr));
	if (e != AL_OK) {
		/* Pending-handshake or peer cap: the socket goes at once, costing nothing. */
		logf_("refused inbound addr=%s reason=\"%s\"", addr, al_err_str(e));
		al_loop_remove(d->loop, c->slot);
		close(fd);
		conn_release(c);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void on_listen(al_loop *l, void *arg, int slot, unsigned events)
{
	alightd *d = arg;

	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(d->listen_fd, (struct sockaddr *)&ss, &len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				shed(d);
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				logf_("accept failed: %s", strerror(errno));
			break;
		}
		accept_one(d, fd, (struct sockaddr *)&ss);
	}
	peers_settle(d);
}

/* --- the control API's RA-TLS connections ------------------------------------------ */

static void ctl_accept_one(alightd *d, int fd)
{
	conn *c = conn_alloc(d, fd, true, "rpc", true);
	al_err e;

	if (c == NULL) {
		logf_("rpc refused: %d RA-TLS clients busy", RPC_CLIENTS);
		close(fd);
		return;
	}
	if (al_loop_add(d->loop, &c->slot, fd, 0, on_conn, c) != AL_OK) {
		close(fd);
		conn_release(c);
		return;
	}
	e = (al_err)d->enc->ec->ctl_accept(d->node, c->id);
	if (e != AL_OK) {
		logf_("rpc refused: %s", al_err_str(e));
		al_loop_remove(d->loop, c->slot);
		close(fd);
		conn_release(c);
	}
}

static void on_ctl_listen(al_loop *l, void *arg, int slot, unsigned events)
{
	alightd *d = arg;

	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		int fd = accept4(d->rpc_tls_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			break;
		ctl_accept_one(d, fd);
	}
	peers_settle(d);
}

al_err peers_listen_ctl(alightd *d, const sock_addr *a)
{
	sock_addr bound;

	d->rpc_tls_fd = sock_listen_tcp(a, &bound);
	if (d->rpc_tls_fd < 0)
		return AL_E_HOST_IO;
	sock_format(d->rpc_tls_addr, (const struct sockaddr *)&bound.ss);
	if (al_loop_add(d->loop, &d->rpc_tls_slot, d->rpc_tls_fd, AL_LOOP_READ, on_ctl_listen, d) !=
	    AL_OK) {
		errno = EMFILE;
		return AL_E_HOST_IO;
	}
	return AL_OK;
}

al_err peers_init(alightd *d)
{
	void *mem;

	AL_TRY(al_arena_alloc(&d->arena, peers_table_size(d->n_conns), _Alignof(conn), &mem));
	d->conns = mem;
	for (size_t i = 0; i < conn_total(d); i++) {
		d->conns[i].fd = -1;
		d->conns[i].slot = -1;
	}
	d->listen_fd = -1;
	d->listen_slot = -1;
	d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return AL_OK;
}

al_err peers_listen(alightd *d, const sock_addr *a)
{
	sock_addr bound;
	int fd = sock_listen_tcp(a, &bound);

	if (fd < 0)
		return AL_E_HOST_IO;
	if (al_loop_add(d->loop, &d->listen_slot, fd, AL_LOOP_READ, on_listen, d) != AL_OK) {
		close(fd);
		errno = EMFILE;
		return AL_E_HOST_IO;
	}
	d->listen_fd = fd;
	sock_format(d->listen_addr, (const struct sockaddr *)&bound.ss);
	return AL_OK;
}

void peers_shutdown(alightd *d)
{
	for (size_t i = 0; d->conns != NULL && i < conn_total(d); i++) {
		conn *c = &d->conns[i];

		if (c->used && c->fd >= 0)
			close(c->fd);
		conn_release(c);
	}
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	if (d->rpc_tls_fd >= 0)
		close(d->rpc_tls_fd);
	d->rpc_tls_fd = -1;
	if (d->reserve_fd >= 0)
		close(d->reserve_fd);
	d->listen_fd = d->reserve_fd = -1;
}
