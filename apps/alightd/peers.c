/* Peer connections: TCP sockets in and out, each driving one connection of the
 * sans-I/O peer manager (ln/peer.h).
 *
 * Every connection lives in a fixed slot of d->conns (max_peers + max_pending, the
 * manager's own slot count), so the host never allocates per connection. Its id for
 * the manager is the slot index with a generation counter in the high half, unique
 * among live connections. The core's effects are performed in the order it emits
 * them: bytes it offers are written before any later event is acted on. */
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
#include "crypto/mem.h"
#include "util/hex.h"

/* Accepts per readiness callback: a flood must not starve established peers. */
#define ACCEPT_BUDGET 64
/* Socket reads per readiness callback, for the same reason. */
#define READ_BUDGET 16

static void drain_events(alightd *d);
static void service(alightd *d, conn *c);

size_t peers_table_size(size_t n)
{
	return n * sizeof(conn);
}

static conn *conn_of(alightd *d, al_peer_conn id)
{
	size_t i = (size_t)(id & 0xffffffffu);
	conn *c;

	if (i >= d->n_conns)
		return NULL;
	c = &d->conns[i];
	return c->used && c->id == id ? c : NULL;
}

static conn *conn_alloc(alightd *d, int fd, bool inbound, const char *addr)
{
	for (size_t i = 0; i < d->n_conns; i++) {
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

static void node_hex(char out[67], const uint8_t id[33])
{
	if (al_hex_encode(out, 67, id, 33) != AL_OK)
		out[0] = '\0';
}

/* BOLT #8: "a node MUST generate a new ephemeral key with strong cryptographic
 * randomness" (the manager copies and wipes it; so does this function). */
static al_err ephemeral(alightd *d, al_privkey *k)
{
	for (int tries = 0; tries < 8; tries++) {
		AL_TRY(al_rng_fill(&d->rng, k->k, sizeof(k->k)));
		if (al_privkey_valid(d->secp, k))
			return AL_OK;
	}
	al_privkey_clear(k);
	return AL_E_PRIVKEY;
}

/* The connection is over: close the socket, let the manager free its slot, report. */
static void conn_gone(alightd *d, conn *c)
{
	al_peer_event ev;
	char id[67] = "";
	char msg[192];

	if (c->slot >= 0)
		al_loop_remove(d->loop, c->slot);
	if (c->fd >= 0)
		close(c->fd);
	c->slot = -1;
	c->fd = -1;
	if (al_peer_closed(d->mgr, &ev, c->id, al_loop_now_ms()) != AL_OK)
		memset(&ev, 0, sizeof(ev));
	if (ev.has_node_id)
		node_hex(id, ev.node_id);
	if (c->sock_errno != 0)
		snprintf(msg, sizeof(msg), "%s (socket: %s)", al_err_str(ev.reason),
		         strerror(c->sock_errno));
	else
		snprintf(msg, sizeof(msg), "%s", al_err_str(ev.reason));
	logf_("disconnected conn=%llu addr=%s %s node_id=%s was_connected=%d reason=\"%s\"",
	      (unsigned long long)(c->id & 0xffffffffu), c->addr, c->inbound ? "in" : "out",
	      id[0] ? id : "-", ev.was_connected ? 1 : 0, msg);
	if (c->waiter != 0) {
		char text[256];

		/* An initiator with the wrong node id sees only the responder hang up: its
		 * Act One cannot be decrypted there (BOLT #8 has no error to send). */
		bool hung_up =
		    c->sock_errno == 0 && !ev.was_connected &&
		    (ev.reason == AL_E_TRUNCATED || ev.reason == AL_E_PEER_REMOTE_CLOSED);

		snprintf(text, sizeof(text), "connection to %s failed: %s%s", c->addr,
		         c->sock_errno != 0 ? strerror(c->sock_errno) : al_err_str(ev.reason),
		         hung_up ? " (the peer hung up before init: wrong node id?)" : "");
		api_connect_failed(d, c->waiter, text);
	}
	conn_release(c);
}

static void socket_failed(alightd *d, conn *c, int err)
{
	if (c->sock_errno == 0)
		c->sock_errno = err;
	conn_gone(d, c);
}

/* Hand buffered input to the manager while it takes bytes. */
static void pump(alightd *d, conn *c)
{
	while (c->rlen > 0 && al_peer_wants_read(d->mgr, c->id)) {
		size_t used = 0;
		al_err e = al_peer_read(d->mgr, c->id, c->rbuf + c->roff, c->rlen, &used,
		                        al_loop_now_ms());

		c->roff += used;
		c->rlen -= used;
		if (e != AL_OK || used == 0)
			break;
	}
	if (c->rlen == 0)
		c->roff = 0;
}

/* Write what the manager offers until the socket would block. false if the
 * connection ended. */
static bool flush(alightd *d, conn *c)
{
	const uint8_t *p;
	size_t len;

	while ((p = al_peer_send_buf(d->mgr, c->id, &len)) != NULL && len > 0) {
		/* One send per chunk: Act Two is offered whole and leaves in one segment. */
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0) {
			socket_failed(d, c, errno);
			return false;
		}
		if (al_peer_send_ack(d->mgr, c->id, (size_t)n, al_loop_now_ms()) != AL_OK)
			return true;
	}
	return true;
}

/* Read the socket while the manager wants bytes. false if the connection ended. */
static bool read_socket(alightd *d, conn *c)
{
	for (int i = 0; i < READ_BUDGET; i++) {
		ssize_t n;

		pump(d, c);
		if (c->rlen > 0 || c->eof_seen || !al_peer_wants_read(d->mgr, c->id))
			return true;
		n = read(c->fd, c->rbuf, sizeof(c->rbuf));
		if (n > 0) {
			c->roff = 0;
			c->rlen = (size_t)n;
		} else if (n == 0) {
			c->eof_seen = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return true;
		} else if (errno != EINTR) {
			socket_failed(d, c, errno);
			return false;
		}
	}
	pump(d, c);
	return true;
}

/* Bring one connection up to date: input, output, end of stream, interest. */
static void service(alightd *d, conn *c)
{
	unsigned ev = 0;

	if (!c->used || c->fd < 0)
		return;
	pump(d, c);
	if (!flush(d, c))
		return;
	if (c->eof_seen && c->rlen == 0 && !c->eof_done) {
		al_err why = al_peer_read_eof(d->mgr, c->id, al_loop_now_ms());

		c->eof_done = true;
		if (why == AL_E_PEER_UNKNOWN_CONN)
			return;
	}
	if (!c->eof_seen && al_peer_wants_read(d->mgr, c->id))
		ev |= AL_LOOP_READ;
	if (al_peer_wants_write(d->mgr, c->id))
		ev |= AL_LOOP_WRITE;
	if (c->slot >= 0)
		al_loop_set_events(d->loop, c->slot, ev);
}

static void arm_timer(alightd *d);

static void on_timer(al_loop *l, void *arg, uint64_t now)
{
	alightd *d = arg;

	al_peer_timer(d->mgr, now);
	drain_events(d);
	for (size_t i = 0; i < d->n_conns; i++)
		service(d, &d->conns[i]);
	drain_events(d);
	arm_timer(d);
}

static void arm_timer(alightd *d)
{
	uint64_t t = al_peer_next_timer(d->mgr);

	al_loop_set_timer(d->loop, t, t == UINT64_MAX ? NULL : on_timer, d);
}

/* Events, then the connections they touched, until the manager is quiet. */
static void settle(alightd *d, conn *c, al_peer_conn id)
{
	drain_events(d);
	if (conn_of(d, id) == c) {
		service(d, c);
		drain_events(d);
	}
	arm_timer(d);
}

static void on_conn(al_loop *l, void *arg, int slot, unsigned events)
{
	conn *c = arg;
	alightd *d = c->owner;
	al_peer_conn id = c->id;

	if (events & AL_LOOP_ERROR) {
		int err = sock_error(c->fd);

		if (err != 0) {
			socket_failed(d, c, err);
			settle(d, c, id);
			return;
		}
	}
	if ((events & (AL_LOOP_READ | AL_LOOP_ERROR)) && !read_socket(d, c)) {
		settle(d, c, id);
		return;
	}
	if (events & AL_LOOP_WRITE)
		(void)flush(d, c);
	settle(d, c, id);
}

static void message_event(alightd *d, conn *c, const al_peer_event *ev)
{
	char text[AL_PEER_MAX_ERROR_TEXT + 1];
	size_t n = 0;

	/* BOLT #1 error (17) and warning (1): type, channel_id, len, data. The text is
	 * the peer's: keep printable ASCII only, never let it forge a log line. */
	if ((ev->type == 1 || ev->type == 17) && ev->len >= 36) {
		size_t dlen = ((size_t)ev->msg[34] << 8) | ev->msg[35];

		for (size_t i = 0; i < dlen && 36 + i < ev->len && n < sizeof(text) - 1; i++) {
			uint8_t b = ev->msg[36 + i];

			text[n++] =
			    (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') ? (char)b : '?';
		}
	}
	text[n] = '\0';
	logf_("message conn=%llu type=%u len=%zu%s%s%s", (unsigned long long)(c->id & 0xffffffffu),
	      (unsigned)ev->type, ev->len, n ? " text=\"" : "", text, n ? "\"" : "");
}

static void connected_event(alightd *d, conn *c, const al_peer_event *ev)
{
	char id[67];
	uint8_t fb[AL_FEATURES_MAX_BITS / 8];
	char fhex[2 * sizeof(fb) + 1] = "";
	size_t flen = al_features_wire_len(&ev->remote_features);

	c->connected = true;
	c->has_node_id = true;
	memcpy(c->node_id, ev->node_id, 33);
	c->remote_features = ev->remote_features;
	node_hex(id, c->node_id);
	if (al_features_to_wire(fb, flen, &ev->remote_features) != AL_OK ||
	    al_hex_encode(fhex, sizeof(fhex), fb, flen) != AL_OK)
		fhex[0] = '\0';
	logf_("connected conn=%llu addr=%s %s node_id=%s features=%s",
	      (unsigned long long)(c->id & 0xffffffffu), c->addr, c->inbound ? "in" : "out", id,
	      fhex[0] ? fhex : "-");
	if (c->waiter != 0) {
		rpc_token t = c->waiter;

		c->waiter = 0;
		api_connect_ok(d, t, c);
	}
}

static void drain_events(alightd *d)
{
	al_peer_event ev;

	while (al_peer_next_event(d->mgr, &ev)) {
		conn *c = conn_of(d, ev.conn);

		if (c == NULL)
			continue;
		switch (ev.kind) {
		case AL_PEER_EV_CONNECTED:
			connected_event(d, c, &ev);
			break;
		case AL_PEER_EV_MESSAGE:
			message_event(d, c, &ev);
			break;
		case AL_PEER_EV_CLOSE:
			conn_gone(d, c);
			break;
		default:
			break;
		}
	}
}

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
	al_privkey eph;
	conn *c;
	al_err e;
	int one = 1;

	sock_format(addr, sa);
	c = conn_alloc(d, fd, true, addr);
	if (c == NULL) {
		logf_("refused inbound addr=%s reason=\"%s\"", addr, al_err_str(AL_E_HOST_FULL));
		close(fd);
		return;
	}
	e = ephemeral(d, &eph);
	if (e == AL_OK)
		e = al_peer_new_inbound(d->mgr, c->id, &eph, al_loop_now_ms());
	al_privkey_clear(&eph);
	if (e != AL_OK) {
		/* Pending-handshake or peer cap: the socket goes at once, costing nothing. */
		logf_("refused inbound addr=%s reason=\"%s\"", addr, al_err_str(e));
		close(fd);
		conn_release(c);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (al_loop_add(d->loop, &c->slot, fd, AL_LOOP_READ, on_conn, c) != AL_OK) {
		c->sock_errno = EMFILE;
		conn_gone(d, c);
		return;
	}
	logf_("accepted conn=%llu addr=%s", (unsigned long long)(c->id & 0xffffffffu), addr);
	service(d, c);
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
	drain_events(d);
	arm_timer(d);
}

al_err peers_init(alightd *d)
{
	void *mem;

	d->n_conns = (size_t)d->max_peers + d->max_pending;
	AL_TRY(al_arena_alloc(&d->arena, peers_table_size(d->n_conns), _Alignof(conn), &mem));
	d->conns = mem;
	for (size_t i = 0; i < d->n_conns; i++) {
		d->conns[i].fd = -1;
		d->conns[i].slot = -1;
	}
	d->listen_fd = -1;
	d->listen_slot = -1;
	d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	arm_timer(d);
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

al_err peers_connect(alightd *d, const uint8_t node_id[33], const char *addr, rpc_token waiter,
                     char *msg, size_t msgcap)
{
	char name[SOCK_ADDR_STRLEN];
	sock_addr a;
	al_privkey eph;
	al_err e;
	conn *c;
	int fd;

	if (!sock_parse(&a, addr)) {
		snprintf(msg, msgcap, "invalid address \"%s\": want IPv4:port or [IPv6]:port",
		         addr);
		return AL_E_ARG;
	}
	sock_format(name, (const struct sockaddr *)&a.ss);
	if (sock_port(&a) == 0) {
		snprintf(msg, msgcap, "invalid address %s: port 0", name);
		return AL_E_ARG;
	}
	c = conn_alloc(d, -1, false, name);
	if (c == NULL) {
		snprintf(msg, msgcap, "%s", al_err_str(AL_E_HOST_FULL));
		return AL_E_HOST_FULL;
	}
	e = ephemeral(d, &eph);
	if (e == AL_OK)
		e = al_peer_new_outbound(d->mgr, c->id, node_id, &eph, al_loop_now_ms());
	al_privkey_clear(&eph);
	if (e != AL_OK) {
		snprintf(msg, msgcap, "%s", al_err_str(e));
		conn_release(c);
		return e;
	}
	fd = sock_dial_tcp(&a);
	if (fd >= 0) {
		c->fd = fd;
		if (al_loop_add(d->loop, &c->slot, fd, AL_LOOP_WRITE, on_conn, c) != AL_OK)
			errno = EMFILE;
	}
	if (fd < 0 || c->slot < 0) {
		int err = errno;

		snprintf(msg, msgcap, "connection to %s failed: %s", name, strerror(err));
		c->sock_errno = err;
		conn_gone(d, c);
		arm_timer(d);
		return AL_E_HOST_IO;
	}
	logf_("dialing conn=%llu addr=%s", (unsigned long long)(c->id & 0xffffffffu), name);
	c->waiter = waiter;
	settle(d, c, c->id);
	return AL_OK;
}

const conn *peers_find_connected(const alightd *d, const uint8_t node_id[33])
{
	for (size_t i = 0; i < d->n_conns; i++) {
		const conn *c = &d->conns[i];

		if (c->used && c->connected && memcmp(c->node_id, node_id, 33) == 0)
			return c;
	}
	return NULL;
}

size_t peers_connected_count(const alightd *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_conns; i++)
		n += d->conns[i].used && d->conns[i].connected;
	return n;
}

void peers_shutdown(alightd *d)
{
	for (size_t i = 0; d->conns != NULL && i < d->n_conns; i++) {
		conn *c = &d->conns[i];

		if (c->used && c->fd >= 0)
			close(c->fd);
		conn_release(c);
	}
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	if (d->reserve_fd >= 0)
		close(d->reserve_fd);
	d->listen_fd = d->reserve_fd = -1;
}
