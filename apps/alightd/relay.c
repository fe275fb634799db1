/* Sockets relayed to and from the enclave (relay.h).
 *
 * Every node inside the enclave gets its own peer listener; accepted sockets become
 * net_accept ecalls for that node, readable bytes net_recv, end of stream net_eof, a
 * drained socket net_writable, a closed one net_closed (with the socket's error). The
 * user channels (--rpc-listen) are relayed the same way through the ctl_* ecalls: the
 * enclave decides which node a channel opens, from the client's credential. The
 * enclave's ocalls come back here: net_send writes straight to the socket (what does not
 * fit stays in the enclave until net_writable), net_close and net_read_ctl set flags
 * acted on after the ecall (ecalls never nest), timer_arm sets the loop's timer,
 * net_dial starts an outbound connect, node_event opens a ready node's listener.
 *
 * Every connection lives in a fixed slot of d->conns (peer slots, then CTL_CLIENTS
 * user-channel slots), so the host never allocates per connection. Its id for the
 * enclave is the slot index with a generation counter in the high half. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"

/* Accepts per readiness callback: a flood must not starve established peers. */
#define ACCEPT_BUDGET 64
/* Socket reads per readiness callback, for the same reason. */
#define READ_BUDGET 16

size_t relay_table_size(size_t n, uint32_t max_nodes)
{
	return (n + CTL_CLIENTS) * sizeof(conn) + max_nodes * sizeof(listener) + 64;
}

static size_t conn_total(const alightd *d)
{
	return d->n_conns + CTL_CLIENTS;
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

/* The socket is gone: tell the enclave (the connection's last ecall), with the
 * socket's error if there was one. */
static void conn_finish(alightd *d, conn *c)
{
	const al_ecalls *ec = d->enc->ec;
	al_enc_conn id = c->id;
	const char *why = c->failed && c->sock_errno ? strerror(c->sock_errno) : "";
	bool ctl = c->ctl;

	if (c->slot >= 0)
		al_loop_remove(d->loop, c->slot);
	if (c->fd >= 0)
		close(c->fd);
	conn_release(c);
	if (ctl)
		(void)ec->ctl_closed(id);
	else
		(void)ec->net_closed(id, why, strlen(why));
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

void relay_settle(alightd *d)
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
		for (uint32_t i = 0; i < d->max_nodes; i++) {
			listener *li = &d->listeners[i];
			if (!li->wanted)
				continue;
			li->wanted = false;
			if (relay_listen_node(d, i) != AL_OK)
				logf_("node %u: cannot listen for peers: %s", i, strerror(errno));
			again = true;
		}
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
	relay_settle(d);
}

/* --- the enclave's network, timer and node ocalls (no ecalls from here) ------------- */

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
	relay_settle(d);
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
	c->node = node;
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
	logf_("node %u dialing conn=%llu addr=%s", node, (unsigned long long)(c->id & 0xffffffffu),
	      name);
	return AL_OK;
}

static void oc_api_done(void *arg, uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	alightd *d = arg;

	if (d->answer)
		d->answer(d, token, status, body, len);
}

static void oc_node_event(void *arg, uint32_t node, int32_t event, int32_t status)
{
	alightd *d = arg;

	if (event == AL_ENC_NODE_READY || event == AL_ENC_NODE_PROVISIONED) {
		logf_("node %u %s", node, event == AL_ENC_NODE_READY ? "ready" : "provisioned");
		/* Its listener opens in relay_settle: telling the node is an ecall, and
		 * ecalls never nest. */
		if (d->listening && node < d->max_nodes)
			d->listeners[node].wanted = true;
	} else if (event == AL_ENC_NODE_FAILED) {
		logf_("node %u failed: %s", node, al_err_str((al_err)status));
	}
}

void relay_enclave_net(alightd *d, al_enclave_net *net)
{
	*net = (al_enclave_net){
	    .arg = d,
	    .send = oc_send,
	    .close = oc_close,
	    .read_ctl = oc_read_ctl,
	    .timer_arm = oc_timer_arm,
	    .dial = oc_dial,
	    .api_done = oc_api_done,
	    .node_event = oc_node_event,
	};
}

/* --- accepting ------------------------------------------------------------------------ */

/* Out of descriptors: accept and drop one connection with the spare descriptor, so
 * the listen queue does not keep the loop spinning. */
static void shed(alightd *d, int lfd)
{
	int fd;

	if (d->reserve_fd < 0)
		return;
	close(d->reserve_fd);
	fd = accept(lfd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	logf_("refused inbound reason=\"out of file descriptors\"");
}

static void accept_one(alightd *d, uint32_t node, int fd, const struct sockaddr *sa)
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
	c->node = node;
	if (al_loop_add(d->loop, &c->slot, fd, 0, on_conn, c) != AL_OK) {
		logf_("refused inbound addr=%s reason=\"%s\"", addr, strerror(EMFILE));
		close(fd);
		conn_release(c);
		return;
	}
	e = (al_err)d->enc->ec->net_accept(node, c->id, addr, strlen(addr));
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
	listener *li = arg;
	alightd *d = li->owner;

	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd =
		    accept4(li->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				shed(d, li->fd);
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				logf_("accept failed: %s", strerror(errno));
			break;
		}
		accept_one(d, li->node, fd, (struct sockaddr *)&ss);
	}
	relay_settle(d);
}

al_err relay_listen_node(alightd *d, uint32_t node)
{
	listener *li;
	sock_addr a = d->listen_base, bound;
	unsigned port = sock_port(&a);

	if (node >= d->max_nodes)
		return AL_E_ARG;
	li = &d->listeners[node];
	if (li->open)
		return AL_OK;
	if (port != 0 && !sock_set_port(&a, port + node))
		return AL_E_ARG;
	li->fd = sock_listen_tcp(&a, &bound);
	if (li->fd < 0)
		return AL_E_HOST_IO;
	if (al_loop_add(d->loop, &li->slot, li->fd, AL_LOOP_READ, on_listen, li) != AL_OK) {
		close(li->fd);
		errno = EMFILE;
		return AL_E_HOST_IO;
	}
	li->open = true;
	li->node = node;
	li->owner = d;
	sock_format(li->addr, (const struct sockaddr *)&bound.ss);
	(void)d->enc->ec->node_listen(node, li->addr, strlen(li->addr));
	logf_("node %u listening for peers on %s", node, li->addr);
	return AL_OK;
}

/* --- the user channels -------------------------------------------------------------- */

static void ctl_accept_one(alightd *d, int fd)
{
	conn *c = conn_alloc(d, fd, true, "rpc", true);
	al_err e;

	if (c == NULL) {
		logf_("user channel refused: %d busy", CTL_CLIENTS);
		close(fd);
		return;
	}
	if (al_loop_add(d->loop, &c->slot, fd, 0, on_conn, c) != AL_OK) {
		close(fd);
		conn_release(c);
		return;
	}
	e = (al_err)d->enc->ec->ctl_accept(c->id);
	if (e != AL_OK) {
		logf_("user channel refused: %s", al_err_str(e));
		al_loop_remove(d->loop, c->slot);
		close(fd);
		conn_release(c);
	}
}

static void on_ctl_listen(al_loop *l, void *arg, int slot, unsigned events)
{
	alightd *d = arg;

	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		int fd = accept4(d->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			break;
		ctl_accept_one(d, fd);
	}
	relay_settle(d);
}

al_err relay_listen_ctl(alightd *d, const sock_addr *a)
{
	sock_addr bound;

	d->ctl_fd = sock_listen_tcp(a, &bound);
	if (d->ctl_fd < 0)
		return AL_E_HOST_IO;
	sock_format(d->ctl_addr, (const struct sockaddr *)&bound.ss);
	if (al_loop_add(d->loop, &d->ctl_slot, d->ctl_fd, AL_LOOP_READ, on_ctl_listen, d) !=
	    AL_OK) {
		errno = EMFILE;
		return AL_E_HOST_IO;
	}
	return AL_OK;
}

al_err relay_init(alightd *d)
{
	void *mem;

	AL_TRY(al_arena_alloc(&d->arena, conn_total(d) * sizeof(conn), _Alignof(conn), &mem));
	d->conns = mem;
	for (size_t i = 0; i < conn_total(d); i++) {
		d->conns[i].fd = -1;
		d->conns[i].slot = -1;
	}
	AL_TRY(
	    al_arena_alloc(&d->arena, d->max_nodes * sizeof(listener), _Alignof(listener), &mem));
	d->listeners = mem;
	for (uint32_t i = 0; i < d->max_nodes; i++)
		d->listeners[i].fd = d->listeners[i].slot = -1;
	d->ctl_fd = -1;
	d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return AL_OK;
}

void relay_shutdown(alightd *d)
{
	for (size_t i = 0; d->conns != NULL && i < conn_total(d); i++) {
		conn *c = &d->conns[i];

		if (c->used && c->fd >= 0)
			close(c->fd);
		conn_release(c);
	}
	for (uint32_t i = 0; d->listeners != NULL && i < d->max_nodes; i++)
		if (d->listeners[i].open)
			close(d->listeners[i].fd);
	if (d->ctl_fd >= 0)
		close(d->ctl_fd);
	if (d->reserve_fd >= 0)
		close(d->reserve_fd);
	d->ctl_fd = d->reserve_fd = -1;
}
