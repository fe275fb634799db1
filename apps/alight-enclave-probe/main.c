/* alight-enclave-probe: load the enclave image and run real node work inside it.
 *
 * The probe loads libalight_enclave.so with its heap (--enclave-heap), creates a user
 * node (or reopens node --open N from its sealed key in --state), then connects
 * --peers remote peers to it over socketpairs. The host relays bytes only: each
 * socketpair's enclave end is read and written here and handed across the ecall/ocall
 * table, where the node's BOLT #8 handshakes and BOLT #1 init exchanges run. The
 * remote peers are an independent peer manager from the core running in the host
 * process. When every peer is connected on both sides, the peers hang up and the
 * probe waits until the enclave has closed every connection. It prints one JSON
 * object (measurement, node id, handshakes, heap figures) and exits 0 on success. */
#define _DEFAULT_SOURCE 1
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/rng.h"
#include "crypto/secp.h"
#include "host/enclave_host.h"
#include "host/os_rng.h"
#include "ln/peer.h"
#include "util/hex.h"

#define MAX_PEERS 256
#define BUF       (128 * 1024)

typedef struct side {
	int fd;
	bool want_read; /* enclave end: the enclave's read interest */
	bool close_req; /* enclave end: net_close asked */
	bool eof;       /* the socket reached end of stream */
	bool connected; /* remote end: CONNECTED seen */
	bool done;      /* closed and reported */
	size_t inlen, outlen;
	uint8_t in[BUF], out[BUF];
} side;

static side enc[MAX_PEERS], rem[MAX_PEERS];
static unsigned npeers = 8;
static uint64_t enc_deadline = UINT64_MAX;
static al_enclave_host *host;

/* Errors the next event reports anyway (a closing connection says why). */
static void ignore(al_err e)
{
	(void)e;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- the application's ocalls: buffer, never call back in ------------------------- */

static side *enc_side(al_enc_conn c)
{
	return c >= 1 && c <= npeers ? &enc[c - 1] : NULL;
}

static int32_t net_send(void *arg, al_enc_conn c, const uint8_t *buf, size_t len, size_t *taken)
{
	side *s = enc_side(c);
	if (!s || s->done)
		return AL_E_HOST_IO;
	*taken = len < BUF - s->outlen ? len : BUF - s->outlen;
	memcpy(s->out + s->outlen, buf, *taken);
	s->outlen += *taken;
	return AL_OK;
}

static int32_t net_close(void *arg, al_enc_conn c)
{
	side *s = enc_side(c);
	if (!s)
		return AL_E_HOST_IO;
	s->close_req = true;
	return AL_OK;
}

static void net_read_ctl(void *arg, al_enc_conn c, int32_t want)
{
	side *s = enc_side(c);
	if (s)
		s->want_read = want != 0;
}

static void timer_arm(void *arg, uint64_t deadline)
{
	enc_deadline = deadline;
}

/* --- the enclave's ends ------------------------------------------------------------- */

static void enc_flush(unsigned i)
{
	side *s = &enc[i];
	while (s->outlen && !s->done) {
		ssize_t n = write(s->fd, s->out, s->outlen);
		if (n <= 0)
			return;
		memmove(s->out, s->out + n, s->outlen - (size_t)n);
		s->outlen -= (size_t)n;
		if (host->ec->net_writable(i + 1) != AL_OK)
			return;
	}
}

static void enc_offer(unsigned i)
{
	side *s = &enc[i];
	size_t used = 1;
	while (s->want_read && s->inlen && used && !s->done) {
		used = 0;
		if (host->ec->net_recv(i + 1, s->in, s->inlen, &used) != AL_OK)
			return;
		memmove(s->in, s->in + used, s->inlen - used);
		s->inlen -= used;
	}
	if (s->eof && !s->inlen && s->want_read && !s->done)
		(void)host->ec->net_eof(i + 1);
}

static void enc_read(unsigned i)
{
	side *s = &enc[i];
	ssize_t n = read(s->fd, s->in + s->inlen, BUF - s->inlen);
	if (n == 0)
		s->eof = true;
	else if (n > 0)
		s->inlen += (size_t)n;
	enc_offer(i);
}

/* Closes the enclave asked for: the socket goes, then its last ecall. */
static void enc_closes(void)
{
	for (unsigned i = 0; i < npeers; i++) {
		side *s = &enc[i];
		if (s->close_req && !s->done) {
			enc_flush(i);
			close(s->fd);
			s->done = true;
			(void)host->ec->net_closed(i + 1);
		}
	}
}

/* --- the remote peers: the core's peer manager in the host ---------------------------- */

/* The remote peers: one node each (BOLT #1 allows one connection per pair of nodes),
 * each a peer manager of the core with its own key. */
typedef struct remote {
	al_peer_mgr *mgr[MAX_PEERS];
	al_secp *secp;
	al_rng rng;
	unsigned connected, closed;
} remote;

static void rem_events(remote *r, unsigned i)
{
	al_peer_event ev;
	while (al_peer_next_event(r->mgr[i], &ev)) {
		side *s = &rem[i];
		if (ev.kind == AL_PEER_EV_CONNECTED) {
			s->connected = true;
			r->connected++;
		} else if (ev.kind == AL_PEER_EV_CLOSE && !s->done) {
			close(s->fd);
			s->done = true;
			r->closed++;
			ignore(al_peer_closed(r->mgr[i], &ev, ev.conn, now_ms()));
		}
	}
}

static void rem_io(remote *r, unsigned i, short revents)
{
	side *s = &rem[i];
	size_t len, used;
	const uint8_t *b;
	if (revents & POLLIN) {
		ssize_t n = read(s->fd, s->in + s->inlen, BUF - s->inlen);
		if (n > 0)
			s->inlen += (size_t)n;
		else if (n == 0)
			s->eof = true;
	}
	while (s->inlen && al_peer_wants_read(r->mgr[i], i + 1)) {
		if (al_peer_read(r->mgr[i], i + 1, s->in, s->inlen, &used, now_ms()) != AL_OK ||
		    !used)
			break;
		memmove(s->in, s->in + used, s->inlen - used);
		s->inlen -= used;
	}
	if (s->eof && !s->inlen)
		ignore(al_peer_read_eof(r->mgr[i], i + 1, now_ms()));
	while ((b = al_peer_send_buf(r->mgr[i], i + 1, &len)) != NULL && len) {
		ssize_t n = write(s->fd, b, len);
		if (n <= 0 || al_peer_send_ack(r->mgr[i], i + 1, (size_t)n, now_ms()) != AL_OK)
			break;
	}
	rem_events(r, i);
}

static al_err remote_init(remote *r, unsigned i, const uint8_t chain[32])
{
	static _Alignas(16) uint8_t secp_mem[1 << 16];
	static al_arena arenas[MAX_PEERS];
	al_peer_config cfg;
	uint8_t seed[32];

	if (!r->secp) {
		al_os_rng(&r->rng);
		AL_TRY(al_rng_fill(&r->rng, seed, sizeof(seed)));
		if (al_secp_size() > sizeof(secp_mem))
			return AL_E_NOMEM;
		AL_TRY(al_secp_create(&r->secp, secp_mem, sizeof(secp_mem), seed));
	}
	al_peer_config_default(&cfg);
	do
		AL_TRY(al_rng_fill(&r->rng, cfg.node_key.k, 32));
	while (!al_privkey_valid(r->secp, &cfg.node_key));
	memcpy(cfg.chains[0], chain, 32);
	cfg.n_chains = 1;
	cfg.max_peers = 1;
	cfg.max_pending_handshakes = 1;
	size_t sz = al_peer_arena_size(&cfg);
	void *mem = aligned_alloc(64, (sz + 63) / 64 * 64);
	if (!mem)
		return AL_E_NOMEM;
	al_arena_init(&arenas[i], mem, sz);
	al_err e = al_peer_mgr_init(&r->mgr[i], &arenas[i], r->secp, &cfg, now_ms());
	al_privkey_clear(&cfg.node_key);
	return e;
}

/* --- the run ------------------------------------------------------------------------ */

static al_err connect_all(remote *r, uint32_t node, const uint8_t id[33])
{
	uint8_t chain[32] = {0};
	for (unsigned i = 0; i < npeers; i++) {
		int sv[2];
		al_privkey eph;
		AL_TRY(remote_init(r, i, chain));
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
			return AL_E_HOST_IO;
		enc[i].fd = sv[0];
		rem[i].fd = sv[1];
		AL_TRY(host->ec->net_accept(node, i + 1));
		do
			AL_TRY(al_rng_fill(&r->rng, eph.k, 32));
		while (al_peer_new_outbound(r->mgr[i], i + 1, id, &eph, now_ms()) == AL_E_PRIVKEY);
		al_privkey_clear(&eph);
	}
	return AL_OK;
}

/* One poll round over both ends of every socketpair. */
static void round_once(remote *r)
{
	struct pollfd p[2 * MAX_PEERS];
	for (unsigned i = 0; i < npeers; i++) {
		p[2 * i] = (struct pollfd){.fd = enc[i].done ? -1 : enc[i].fd};
		p[2 * i].events = (short)((enc[i].want_read && !enc[i].eof ? POLLIN : 0) |
		                          (enc[i].outlen ? POLLOUT : 0));
		p[2 * i + 1] = (struct pollfd){.fd = rem[i].done ? -1 : rem[i].fd};
		p[2 * i + 1].events =
		    (short)(POLLIN | (al_peer_wants_write(r->mgr[i], i + 1) ? POLLOUT : 0));
	}
	uint64_t t = now_ms();
	int wait = enc_deadline <= t ? 0 : enc_deadline - t > 50 ? 50 : (int)(enc_deadline - t);
	if (poll(p, 2 * npeers, wait) < 0 && errno != EINTR)
		return;
	if (now_ms() >= enc_deadline)
		host->ec->timer();
	for (unsigned i = 0; i < npeers; i++) {
		if (!enc[i].done && (p[2 * i].revents & POLLIN))
			enc_read(i);
		if (!enc[i].done)
			enc_offer(i);
		if (!enc[i].done)
			enc_flush(i);
		if (!rem[i].done)
			rem_io(r, i, p[2 * i + 1].revents);
	}
	enc_closes();
	for (unsigned i = 0; i < npeers; i++) {
		al_peer_timer(r->mgr[i], now_ms());
		rem_events(r, i);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: alight-enclave-probe --state DIR [--enclave PATH] "
	                "[--enclave-heap SIZE] [--peers N] [--open INDEX]\n");
	return 2;
}

static void print_result(uint32_t node, const uint8_t id[33], const remote *r, uint64_t ms)
{
	al_enclave_stats st;
	char m[65], nid[67];
	host->ec->stats(&st);
	if (al_hex_encode(m, sizeof(m), host->measurement, 32) != AL_OK ||
	    al_hex_encode(nid, sizeof(nid), id, 33) != AL_OK)
		return;
	printf("{\"measurement\":\"%s\",\"node\":%u,\"node_id\":\"%s\",\"peers\":%u,"
	       "\"remote_connected\":%u,\"enclave_handshakes\":%llu,\"conns_after\":%u,"
	       "\"heap_size\":%llu,\"heap_used\":%llu,\"heap_high\":%llu,\"heap_failed\":%llu,"
	       "\"node_arena\":%llu,\"crypto_routed\":%s,\"ms\":%llu}\n",
	       m, node, nid, npeers, r->connected, (unsigned long long)st.handshakes, st.conns,
	       (unsigned long long)st.heap_size, (unsigned long long)st.heap_used,
	       (unsigned long long)st.heap_high, (unsigned long long)st.heap_failed,
	       (unsigned long long)st.node_arena, st.crypto_routed ? "true" : "false",
	       (unsigned long long)ms);
}

static al_err run(uint32_t node, bool open)
{
	static remote r;
	al_enclave_node_info ni;
	uint64_t t0 = now_ms();

	AL_TRY(open ? host->ec->node_open(node) : host->ec->node_create(&node));
	al_enclave_host_complete(host);
	AL_TRY(host->ec->node_info(node, &ni));
	if (ni.status != AL_OK) {
		fprintf(stderr, "alight-enclave-probe: node %u: %s\n", node,
		        al_err_name((al_err)ni.status));
		return (al_err)ni.status;
	}
	AL_TRY(connect_all(&r, node, ni.node_id));
	while (r.connected < npeers && now_ms() - t0 < 20000)
		round_once(&r);
	for (unsigned i = 0; i < npeers; i++)
		if (rem[i].connected)
			ignore(al_peer_disconnect(r.mgr[i], i + 1, now_ms()));
	al_enclave_stats st;
	do {
		round_once(&r);
		host->ec->stats(&st);
	} while ((st.conns || r.closed < npeers) && now_ms() - t0 < 30000);
	print_result(node, ni.node_id, &r, now_ms() - t0);
	return r.connected == npeers && st.handshakes >= npeers && st.conns == 0
	           ? AL_OK
	           : AL_E_PEER_NOT_READY;
}

int main(int argc, char **argv)
{
	al_enclave_host_config cfg = {.quiet = true};
	long open_index = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage();
		i++;
		if (strcmp(a, "--state") == 0)
			cfg.state = v;
		else if (strcmp(a, "--enclave") == 0)
			cfg.image = v;
		else if (strcmp(a, "--enclave-heap") == 0 &&
		         al_enclave_parse_size(&cfg.heap_size, v) == AL_OK)
			;
		else if (strcmp(a, "--peers") == 0 && atoi(v) > 0 && atoi(v) <= MAX_PEERS)
			npeers = (unsigned)atoi(v);
		else if (strcmp(a, "--open") == 0 && atol(v) >= 0)
			open_index = atol(v);
		else
			return usage();
	}
	if (!cfg.state)
		return usage();
#ifdef ALIGHT_ENCLAVE_SO
	if (!cfg.image && access(ALIGHT_ENCLAVE_SO, R_OK) == 0)
		cfg.image = ALIGHT_ENCLAVE_SO;
#endif
	cfg.max_conns = npeers;
	cfg.node_max_peers = npeers;
	cfg.node_max_handshakes = npeers;
	cfg.net = (al_enclave_net){
	    .send = net_send, .close = net_close, .read_ctl = net_read_ctl, .timer_arm = timer_arm};
	al_err e = al_enclave_host_open(&host, &cfg);
	if (e == AL_OK)
		e = run(open_index >= 0 ? (uint32_t)open_index : 0, open_index >= 0);
	if (e != AL_OK)
		fprintf(stderr, "alight-enclave-probe: %s\n", al_err_str(e));
	if (host)
		al_enclave_host_close(host);
	return e == AL_OK ? 0 : 1;
}
