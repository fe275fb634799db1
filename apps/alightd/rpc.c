/* The operator's control socket (rpc.h): HTTP/1.1 over a Unix socket (mode 0600) in the
 * data directory, one request per connection, answered by api.c. (The user's channel is
 * not here: relay.c carries its ciphertext to the enclave.)
 *
 * This file is only the transport: bytes in, util/http.h parsing, bytes out. The
 * handler sees a method, a target and a body. Buffers are fixed (RPC_CLIENTS clients,
 * each with an input and an output buffer from the arena). */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "rpc.h"
#include "util/http.h"

typedef enum rpc_state {
	RPC_FREE = 0,
	RPC_READ,
	RPC_PENDING, /* the handler answers later (rpc_complete) */
	RPC_WRITE,
} rpc_state;

/* The body being rendered (one request is handled at a time). */
static uint8_t *body_buf;

struct rpc_client {
	alightd *d;
	rpc_state st;
	uint32_t gen;
	int fd;
	int slot;
	size_t in_len;
	size_t out_len, out_off;
	uint8_t *in;
	uint8_t *out;
};

size_t rpc_table_size(void)
{
	return RPC_CLIENTS * (sizeof(struct rpc_client) + RPC_IN_MAX + RPC_OUT_CAP + 64) +
	       RPC_OUT_CAP + 64;
}

static uint64_t token_of(const alightd *d, const struct rpc_client *c)
{
	return ((uint64_t)c->gen << 32) | (uint64_t)(c - d->rpc + 1);
}

static void client_close(struct rpc_client *c)
{
	if (c->slot >= 0)
		al_loop_remove(c->d->loop, c->slot);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->slot = -1;
	c->st = RPC_FREE;
	c->gen++;
}

static void client_write(struct rpc_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			al_loop_set_events(c->d->loop, c->slot, AL_LOOP_WRITE);
			return;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_close(c);
}

static void respond(struct rpc_client *c, int status, const uint8_t *body, size_t len)
{
	static const al_http_field fields[] = {{"Content-Type", "application/json"}};
	al_wb w;

	al_wb_init(&w, c->out, RPC_OUT_CAP);
	if (al_http_write_response(&w, status, fields, 1, body, len, true) != AL_OK) {
		static const char too_big[] = "{\"error\":{\"message\":\"response too large\"}}";

		al_wb_init(&w, c->out, RPC_OUT_CAP);
		if (al_http_write_response(&w, 500, fields, 1, (const uint8_t *)too_big,
		                           sizeof(too_big) - 1, true) != AL_OK)
			w.len = 0;
	}
	c->out_len = w.len <= RPC_OUT_CAP ? w.len : 0;
	c->out_off = 0;
	c->st = RPC_WRITE;
	client_write(c);
}

static void respond_error(struct rpc_client *c, int status, const char *msg)
{
	al_wb w;

	al_wb_init(&w, body_buf, RPC_OUT_CAP);
	api_error_body(&w, msg);
	respond(c, status, body_buf, al_wb_ok(&w) ? w.len : 0);
}

static void dispatch(struct rpc_client *c, al_http_request *req)
{
	alightd *d = c->d;
	int status = 500;
	bool now;
	al_wb w;

	al_wb_init(&w, body_buf, RPC_OUT_CAP);
	/* Pending from here: a request the handler starts may also finish before it
	 * returns (a dial refused at once), through rpc_complete. */
	c->st = RPC_PENDING;
	now = api_handle(d, req->method, req->target, req->body, req->body_len, token_of(d, c),
	                 &status, &w);
	if (!now)
		return;
	if (!al_wb_ok(&w)) {
		respond_error(c, 500, "response too large");
		return;
	}
	respond(c, status, body_buf, w.len);
}

static const al_http_limits rpc_limits = {
    .max_head = 8192, .max_headers = 32, .max_body = RPC_IN_MAX - 8192};

/* c->in holds what arrived so far: wait for more, refuse, or dispatch. */
static void client_parse(struct rpc_client *c)
{
	al_http_request req;
	al_err e;

	e = al_http_parse_request(&req, &rpc_limits, c->in, c->in_len);
	if (e == AL_E_HTTP_INCOMPLETE && c->in_len < RPC_IN_MAX)
		return;
	if (e == AL_E_HTTP_INCOMPLETE)
		e = AL_E_HTTP_BODY_TOO_LARGE;
	if (e != AL_OK) {
		logf_("rpc bad request: %s", al_err_str(e));
		respond_error(
		    c, (e == AL_E_HTTP_BODY_TOO_LARGE || e == AL_E_HTTP_HEAD_TOO_LARGE) ? 413 : 400,
		    al_err_str(e));
		return;
	}
	dispatch(c, &req);
}

static void client_read(struct rpc_client *c)
{
	ssize_t n;

	if (c->st != RPC_READ) {
		/* Waiting for the handler: watch only for the client going away; bytes
		 * after its one request are not for us. */
		uint8_t discard[256];

		n = read(c->fd, discard, sizeof(discard));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			client_close(c);
		return;
	}
	n = read(c->fd, c->in + c->in_len, RPC_IN_MAX - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->in_len += (size_t)n;
	client_parse(c);
}

static void on_client(al_loop *l, void *arg, int slot, unsigned events)
{
	struct rpc_client *c = arg;

	if (c->st == RPC_WRITE) {
		client_write(c);
		return;
	}
	client_read(c);
}

static void accept_clients(alightd *d, int lfd)
{
	for (;;) {
		struct rpc_client *c = NULL;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (size_t i = 0; i < RPC_CLIENTS && c == NULL; i++) {
			if (d->rpc[i].st == RPC_FREE)
				c = &d->rpc[i];
		}
		if (c == NULL) {
			logf_("rpc refused: %d clients busy", RPC_CLIENTS);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->st = RPC_READ;
		if (al_loop_add(d->loop, &c->slot, fd, AL_LOOP_READ, on_client, c) != AL_OK)
			client_close(c);
	}
}

static void on_rpc_listen(al_loop *l, void *arg, int slot, unsigned events)
{
	alightd *d = arg;

	accept_clients(d, d->rpc_fd);
}

al_err rpc_init(alightd *d)
{
	void *mem;

	AL_TRY(al_arena_alloc(&d->arena, RPC_CLIENTS * sizeof(struct rpc_client),
	                      _Alignof(struct rpc_client), &mem));
	d->rpc = mem;
	for (size_t i = 0; i < RPC_CLIENTS; i++) {
		struct rpc_client *c = &d->rpc[i];

		c->d = d;
		c->fd = -1;
		c->slot = -1;
		AL_TRY(al_arena_alloc(&d->arena, RPC_IN_MAX, 16, &mem));
		c->in = mem;
		AL_TRY(al_arena_alloc(&d->arena, RPC_OUT_CAP, 16, &mem));
		c->out = mem;
	}
	AL_TRY(al_arena_alloc(&d->arena, RPC_OUT_CAP, 16, &mem));
	body_buf = mem;

	d->rpc_fd = sock_listen_unix(d->rpc_path);
	if (d->rpc_fd < 0)
		return AL_E_HOST_IO;
	if (al_loop_add(d->loop, &d->rpc_slot, d->rpc_fd, AL_LOOP_READ, on_rpc_listen, d) != AL_OK)
		return AL_E_HOST_FULL;
	return AL_OK;
}

void rpc_complete(alightd *d, uint64_t t, int status, const uint8_t *body, size_t len)
{
	size_t i = (size_t)(t & 0xffffffffu);
	struct rpc_client *c;

	if (i == 0 || i > RPC_CLIENTS)
		return;
	c = &d->rpc[i - 1];
	if (c->st != RPC_PENDING || c->gen != (uint32_t)(t >> 32))
		return;
	respond(c, status, body, len);
}

void rpc_shutdown(alightd *d)
{
	for (size_t i = 0; d->rpc != NULL && i < RPC_CLIENTS; i++) {
		if (d->rpc[i].st != RPC_FREE)
			client_close(&d->rpc[i]);
	}
	if (d->rpc_fd >= 0) {
		close(d->rpc_fd);
		unlink(d->rpc_path);
	}
	d->rpc_fd = -1;
}
