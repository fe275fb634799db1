/* The Electrum server's sockets: a listener and its connections on one poll(2) loop
 * (host/loop.h) in a thread of their own, with the limits of electrum.h. Every use of
 * the chain holds the chain's lock; notifications go out when the HTTP side reports a
 * change (el_server_wake) and after requests that changed the chain (a broadcast).
 *
 * A connection is cut in one of two ways. A client that broke the protocol (a line that
 * is not JSON, a line over max_line) gets its error, then the server stops sending
 * (shutdown) and reads and discards what still comes for at most LINGER_MS before
 * closing, so that the error is delivered rather than lost to a reset. A client that
 * does not read (its notifications would pass max_queue) is reset at once. A client that
 * sends no complete request for idle_ms (a slow one, or one that went quiet; Electrum
 * pings every 300 s) is cut off as one that broke the protocol. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "electrum.h"
#include "host/loop.h"
#include "host/netconn.h"

#define READ_CHUNK 65536
/* The kernel's send buffer per connection: bounded, so that what a client leaves
 * unread piles up in the server's queue where max_queue sees it. */
#define SNDBUF    65536
#define LINGER_MS 2000

typedef enum conn_state { C_OPEN, C_EOF, C_DRAIN } conn_state;

typedef struct el_conn {
	el_server *srv;
	int fd, slot;
	conn_state state;
	bool shut;         /* shutdown(SHUT_WR) done (C_DRAIN) */
	bool backlog;      /* complete lines wait for room in the output queue */
	uint64_t deadline; /* C_DRAIN: the end of the linger; else: of the idle time */
	el_buf in;
	size_t scanned; /* bytes from in.off known to hold no newline */
	el_session sess;
	char peer[AL_NET_ADDR_MAX];
	struct el_conn *prev, *next;
} el_conn;

struct el_server {
	dc_chain *c;
	pthread_mutex_t *lock;
	el_limits lim;
	int lfd, lslot, wake[2];
	uint16_t port;
	al_loop *loop;
	void *loop_mem;
	pthread_t thread;
	atomic_bool stop;
	el_conn *conns;
	size_t n_conns;
	uint64_t gen_seen;
};

static void conn_close(el_conn *k, bool reset)
{
	el_server *s = k->srv;

	if (reset) {
		struct linger lg = {1, 0};

		setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	al_loop_remove(s->loop, k->slot);
	close(k->fd);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	s->n_conns--;
	el_session_free(&k->sess);
	el_buf_free(&k->in);
	free(k);
}

static void cut(el_conn *k, const char *why)
{
	fprintf(stderr, "alight-devchain: electrum: %s cut off: %s\n", k->peer, why);
	k->state = C_DRAIN;
	k->deadline = al_loop_now_ms() + LINGER_MS;
	/* Nothing of what it sent is answered any more. */
	el_buf_consume(&k->in, el_buf_pending(&k->in));
	k->scanned = 0;
}

/* Send what waits. False when the connection is gone. */
static bool flush_out(el_conn *k)
{
	el_buf *o = &k->sess.out;

	while (el_buf_pending(o) > 0) {
		ssize_t n = send(k->fd, o->p + o->off, el_buf_pending(o), MSG_NOSIGNAL);

		if (n > 0) {
			el_buf_consume(o, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		conn_close(k, true);
		return false;
	}
	return true;
}

/* Poll interest from the state; closes a connection that has nothing left to do. */
static void update(el_conn *k)
{
	size_t out = el_buf_pending(&k->sess.out), in = el_buf_pending(&k->in);
	unsigned ev = 0;

	switch (k->state) {
	case C_OPEN:
		if (out <= k->srv->lim.max_queue / 4 && in <= k->srv->lim.max_line)
			ev |= AL_LOOP_READ;
		break;
	case C_EOF:
		if (out == 0 && !k->backlog && k->scanned == in) {
			conn_close(k, false);
			return;
		}
		break;
	case C_DRAIN:
		if (out == 0 && !k->shut) {
			shutdown(k->fd, SHUT_WR);
			k->shut = true;
		}
		ev |= AL_LOOP_READ;
		break;
	}
	/* Waiting lines are taken up again on the next round: as soon as the queue has
	 * room, the socket's writability is the event that brings us back. */
	if (out > 0 || (k->backlog && k->state != C_DRAIN))
		ev |= AL_LOOP_WRITE;
	al_loop_set_events(k->srv->loop, k->slot, ev);
}

/* Answer the complete lines waiting, while the output queue has room (k->backlog says
 * when it had none left). Holds the lock. */
static void process_lines(el_conn *k)
{
	el_server *s = k->srv;
	el_buf *in = &k->in;

	k->backlog = false;
	while (k->state != C_DRAIN) {
		char *start = (char *)in->p + in->off;
		size_t avail = el_buf_pending(in);
		char *nl = memchr(start + k->scanned, '\n', avail - k->scanned);
		size_t len;

		if (!nl) {
			k->scanned = avail;
			if (avail > s->lim.max_line) {
				el_reply_error(&k->sess, NULL, EL_ERR_INVALID,
				               "request line too long");
				cut(k, "request line too long");
			}
			return;
		}
		if (el_buf_pending(&k->sess.out) > s->lim.max_queue / 4) {
			k->backlog = true;
			return;
		}
		len = (size_t)(nl - start);
		el_buf_consume(in, len + 1);
		k->scanned = 0;
		k->deadline = al_loop_now_ms() + s->lim.idle_ms;
		if (len > s->lim.max_line) {
			el_reply_error(&k->sess, NULL, EL_ERR_INVALID, "request line too long");
			cut(k, "request line too long");
			return;
		}
		while (len > 0 && (start[len - 1] == '\r' || start[len - 1] == ' '))
			len--;
		if (len == 0)
			continue;
		el_session_line(&k->sess, s->c, start, len);
		if (k->sess.cut)
			cut(k, k->sess.why);
	}
}

/* Push notifications to every session if the chain changed. Holds the lock. */
static void notify_all(el_server *s)
{
	size_t n;

	if (s->c->gen == s->gen_seen)
		return;
	for (el_conn *k = s->conns; k; k = k->next) {
		if (k->state != C_DRAIN)
			el_session_notify(&k->sess, s->c, s->c->index.dirty, s->c->index.n_dirty);
	}
	(void)dc_index_take_dirty(s->c, &n);
	s->gen_seen = s->c->gen;
}

/* After notify_all, outside the lock: send, or reset those who do not read. */
static void send_all(el_server *s)
{
	el_conn *k = s->conns, *next;

	for (; k; k = next) {
		next = k->next;
		if (k->sess.overflow) {
			fprintf(stderr, "alight-devchain: electrum: %s cut off: %s\n", k->peer,
			        k->sess.why);
			conn_close(k, true);
		} else if (flush_out(k)) {
			update(k);
		}
	}
}

static void on_conn(al_loop *l, void *arg, int slot, unsigned events)
{
	el_conn *k = arg;
	el_server *s = k->srv;
	uint8_t buf[READ_CHUNK];
	bool eof = false;

	(void)l;
	(void)slot;
	if ((events & AL_LOOP_WRITE) && !flush_out(k))
		return;
	if (events & (AL_LOOP_READ | AL_LOOP_ERROR)) {
		for (int i = 0; i < 16 && !eof; i++) {
			ssize_t n;

			if (k->state == C_OPEN && el_buf_pending(&k->in) > s->lim.max_line)
				break;
			n = recv(k->fd, buf, sizeof(buf), 0);
			if (n > 0 && k->state != C_DRAIN)
				el_buf_put(&k->in, buf, (size_t)n);
			else if (n == 0)
				eof = true;
			else if (n < 0 && errno == EINTR)
				continue;
			else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			else if (n < 0) {
				conn_close(k, true);
				return;
			}
		}
	}
	if (eof && k->state == C_DRAIN) {
		conn_close(k, false);
		return;
	}
	if (eof)
		k->state = C_EOF;
	if (k->state != C_DRAIN) {
		pthread_mutex_lock(s->lock);
		process_lines(k);
		notify_all(s); /* a broadcast changes the mempool */
		pthread_mutex_unlock(s->lock);
	}
	send_all(s);
}

static void on_accept(al_loop *l, void *arg, int slot, unsigned events)
{
	el_server *s = arg;
	int one = 1, sndbuf = SNDBUF;

	(void)slot;
	(void)events;
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		el_conn *k;

		if (fd < 0)
			return;
		if (s->n_conns >= s->lim.max_conns) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		k = calloc(1, sizeof(*k));
		if (!k) {
			close(fd);
			continue;
		}
		k->srv = s;
		k->fd = fd;
		k->deadline = al_loop_now_ms() + s->lim.idle_ms;
		al_net_peer_name(fd, k->peer);
		if (al_loop_add(l, &k->slot, fd, AL_LOOP_READ, on_conn, k) != AL_OK) {
			close(fd);
			free(k);
			continue;
		}
		el_session_init(&k->sess, &s->lim, s->port);
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		s->conns = k;
		s->n_conns++;
	}
}

static void on_wake(al_loop *l, void *arg, int slot, unsigned events)
{
	el_server *s = arg;
	uint8_t buf[256];

	(void)l;
	(void)slot;
	(void)events;
	while (read(s->wake[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(s->lock);
	notify_all(s);
	pthread_mutex_unlock(s->lock);
	send_all(s);
}

/* Idle connections are cut; those cut get LINGER_MS to take their error. */
static uint64_t expire(el_server *s)
{
	uint64_t now = al_loop_now_ms(), next = AL_LOOP_NO_TIMER;
	el_conn *k = s->conns, *nx;

	for (; k; k = nx) {
		nx = k->next;
		if (k->deadline <= now && k->state == C_DRAIN) {
			conn_close(k, true);
			continue;
		}
		if (k->deadline <= now) {
			el_reply_error(&k->sess, NULL, EL_ERR_INVALID, "idle too long");
			cut(k, "idle too long");
			if (flush_out(k))
				update(k);
			continue;
		}
		if (k->deadline < next)
			next = k->deadline;
	}
	return next;
}

static void *run(void *arg)
{
	el_server *s = arg;

	while (!atomic_load(&s->stop)) {
		uint64_t next = expire(s), now = al_loop_now_ms();
		/* At least once a minute: idle deadlines may lie beyond an int's milliseconds. */
		int wait = next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);

		if (al_loop_run_once(s->loop, wait) != AL_OK)
			break;
	}
	return NULL;
}

int el_server_start(el_server **out, dc_chain *c, pthread_mutex_t *lock, const char *listen,
                    const el_limits *lim, char *addr, size_t addr_cap)
{
	el_server *s = calloc(1, sizeof(*s));
	char bound[AL_NET_ADDR_MAX];
	size_t slots = lim->max_conns + 2, n;
	int wake_slot;

	if (!s)
		return -1;
	s->c = c;
	s->lock = lock;
	s->lim = *lim;
	s->lfd = s->wake[0] = s->wake[1] = -1;
	s->loop_mem = malloc(al_loop_size(slots));
	if (!s->loop_mem ||
	    al_loop_init(&s->loop, s->loop_mem, al_loop_size(slots), slots) != AL_OK ||
	    al_net_listen(&s->lfd, bound, &s->port, listen) != AL_OK ||
	    pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) != 0 ||
	    al_loop_add(s->loop, &s->lslot, s->lfd, AL_LOOP_READ, on_accept, s) != AL_OK ||
	    al_loop_add(s->loop, &wake_slot, s->wake[0], AL_LOOP_READ, on_wake, s) != AL_OK)
		goto fail;
	pthread_mutex_lock(lock);
	s->gen_seen = c->gen;
	(void)dc_index_take_dirty(c, &n);
	pthread_mutex_unlock(lock);
	snprintf(addr, addr_cap, "%s", bound);
	if (pthread_create(&s->thread, NULL, run, s) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	free(s->loop_mem);
	free(s);
	return -1;
}

void el_server_wake(el_server *s)
{
	ssize_t n = write(s->wake[1], "", 1);

	(void)n; /* a full pipe already holds a wake-up */
}

void el_server_stop(el_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	el_server_wake(s);
	pthread_join(s->thread, NULL);
	while (s->conns)
		conn_close(s->conns, false);
	close(s->lfd);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s->loop_mem);
	free(s);
}
