/* Fuzz the BOLT #1 peer manager with one inbound connection.
 *
 * Input byte 0 picks a mode:
 *  - even: raw mode. Byte 1 sets the chunk size; the rest is the wire from a peer
 *    that has not done the handshake, fed in chunks with the clock moving 100 ms per
 *    chunk; the stream then ends.
 *  - odd: session mode. A real initiator (a bare BOLT #8 engine) completes the
 *    handshake; the rest is operations, each one byte then its operands:
 *      op % 4 == 0: a message (2-byte length, then the bytes), sealed and fed;
 *      op % 4 == 1: n raw bytes (1-byte n) injected into the stream;
 *      op % 4 == 2: the clock moves by (1 byte) x 1000 ms, and the timers run;
 *      op % 4 == 3: the host sends a message (1-byte length, then the bytes).
 * After every step the host drains the manager: its bytes go to the initiator, which
 * must always decrypt them (the manager never sends a bad frame), and every event is
 * taken; a CLOSE is followed by al_peer_closed. A connection may only ever close for
 * a reason a peer or the clock can cause, and the manager must end with no
 * connection and never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secp.h"
#include "ln/noise.h"
#include "ln/peer.h"

#define CONN 42

static al_secp *secp;
static uint8_t *arena_mem;
static size_t arena_len;
static al_peer_config cfg;
static al_noise ini;
static uint8_t node_id[AL_PUBKEY_LEN];
static uint64_t now;
static bool closed;

static bool odd_custom(void *arg, uint16_t type)
{
	(void)arg;
	return type >= 32 && type < 256;
}

static void setup(void)
{
	static _Alignas(16) uint8_t mem[1 << 12];
	static const uint8_t seed[32] = {2};
	static const uint8_t regtest[32] = {0x06, 0x22, 0x6e, 0x46, 0x11, 0x1a, 0x0b, 0x59,
	                                    0xca, 0xaf, 0x12, 0x60, 0x43, 0xeb, 0x5b, 0xbf,
	                                    0x28, 0xc3, 0x4f, 0x3a, 0x5e, 0x33, 0x2a, 0x1f,
	                                    0xc7, 0xb2, 0xb7, 0x3c, 0xf1, 0x88, 0x91, 0x0f};

	if (secp)
		return;
	if (al_secp_size() > sizeof(mem) || al_secp_create(&secp, mem, sizeof(mem), seed) != AL_OK)
		abort();
	al_peer_config_default(&cfg);
	memset(cfg.node_key.k, 0x21, 32);
	memcpy(cfg.chains[0], regtest, 32);
	cfg.n_chains = 1;
	cfg.max_peers = 1;
	cfg.max_pending_handshakes = 1;
	cfg.out_queue_bytes = 4096;
	cfg.max_pings_per_interval = 5;
	cfg.handles_type = odd_custom;
	arena_len = al_peer_arena_size(&cfg);
	arena_mem = malloc(arena_len);
	if (arena_mem == NULL)
		abort();
}

/* Reasons a peer's bytes or the clock may cause. */
static void check_reason(al_err e)
{
	switch (e) {
	case AL_OK:
	case AL_E_ARG:
	case AL_E_NOMEM:
	case AL_E_BUFSIZE:
	case AL_E_CRYPTO:
	case AL_E_NOISE_STATE:
	case AL_E_NOISE_LENGTH:
	case AL_E_PEER_LOCAL_CLOSE:
	case AL_E_PEER_UNKNOWN_CONN:
	case AL_E_PEER_TOO_MANY:
	case AL_E_PEER_ALREADY_CONNECTED:
		abort();
	default:
		break;
	}
}

static void drain(al_peer_mgr *m, bool session)
{
	al_peer_event ev;
	size_t len, room, k;
	const uint8_t *p;
	uint8_t *d;

	while (!closed && (p = al_peer_send_buf(m, CONN, &len)) != NULL) {
		k = len;
		if (session) {
			d = al_noise_recvrec_buf(&ini, &room);
			if (d == NULL) {
				/* The initiator holds a message: read and drop it. */
				if (al_noise_recvapp_buf(&ini, &room) == NULL ||
				    al_noise_recvapp_ack(&ini) != AL_OK)
					abort();
				continue;
			}
			k = len < room ? len : room;
			memcpy(d, p, k);
			if (al_noise_recvrec_ack(&ini, k) != AL_OK)
				abort(); /* the manager sent a bad frame */
		}
		if (al_peer_send_ack(m, CONN, k, now) != AL_OK)
			abort();
	}
	while (!closed && al_peer_next_event(m, &ev)) {
		if (ev.conn != CONN)
			abort();
		if (ev.kind == AL_PEER_EV_CLOSE) {
			check_reason(ev.reason);
			if (al_peer_closed(m, &ev, CONN, now) != AL_OK ||
			    ev.kind != AL_PEER_EV_DISCONNECTED)
				abort();
			check_reason(ev.reason);
			closed = true;
		}
	}
}

static void feed(al_peer_mgr *m, const uint8_t *p, size_t n, bool session)
{
	size_t used;
	int stall = 0;

	while (!closed && n > 0 && stall < 4) {
		al_err e = al_peer_read(m, CONN, p, n, &used, now);

		if (e != AL_OK)
			check_reason(e);
		p += used;
		n -= used;
		stall = used == 0 ? stall + 1 : 0;
		drain(m, session);
	}
}

static void raw_mode(al_peer_mgr *m, const uint8_t *data, size_t size)
{
	size_t chunk = size > 1 && data[1] ? data[1] : 1, off = 2, n;

	while (!closed && off < size) {
		n = size - off < chunk ? size - off : chunk;
		feed(m, data + off, n, false);
		off += n;
		now += 100;
		al_peer_timer(m, now);
		drain(m, false);
	}
}

/* The initiator's pending bytes, taken off it and fed to the manager. */
static void flush_ini(al_peer_mgr *m)
{
	static uint8_t frame[AL_NOISE_MAX_FRAME];
	const uint8_t *p;
	size_t n;

	p = al_noise_sendrec_buf(&ini, &n);
	if (p == NULL)
		abort();
	memcpy(frame, p, n);
	if (al_noise_sendrec_ack(&ini, n) != AL_OK)
		abort();
	feed(m, frame, n, true);
}

static void seal(al_peer_mgr *m, const uint8_t *msg, size_t len)
{
	size_t room;
	uint8_t *p = al_noise_sendapp_buf(&ini, &room);

	if (p == NULL)
		abort();
	memcpy(p, msg, len);
	if (al_noise_sendapp_ack(&ini, len) != AL_OK)
		abort();
	flush_ini(m);
}

static bool handshake(al_peer_mgr *m)
{
	al_privkey ls, e;
	al_pubkey rs;

	memset(ls.k, 0x11, 32);
	memset(e.k, 0x12, 32);
	if (al_pubkey_parse(secp, &rs, node_id, AL_PUBKEY_LEN) != AL_OK ||
	    al_noise_init_initiator(&ini, secp, &ls, &rs, &e) != AL_OK)
		abort();
	flush_ini(m); /* Act One; Act Two comes back */
	flush_ini(m); /* Act Three */
	return !closed;
}

static void session_mode(al_peer_mgr *m, const uint8_t *data, size_t size)
{
	static uint8_t msg[AL_NOISE_MAX_MSG];
	size_t off = 1, n;

	if (!handshake(m))
		abort();
	while (!closed && off < size) {
		uint8_t op = data[off++];

		switch (op % 4) {
		case 0:
			if (size - off < 2)
				return;
			n = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			n = n < size - off ? n : size - off;
			memcpy(msg, data + off, n);
			off += n;
			seal(m, msg, n);
			break;
		case 1:
			n = off < size ? data[off++] : 0;
			n = n < size - off ? n : size - off;
			feed(m, data + off, n, true);
			off += n;
			break;
		case 2:
			now += off < size ? (uint64_t)data[off++] * 1000 : 0;
			al_peer_timer(m, now);
			break;
		default:
			n = off < size ? data[off++] : 0;
			n = n < size - off ? n : size - off;
			(void)!al_peer_send(m, CONN, data + off, n, now);
			off += n;
			break;
		}
		drain(m, true);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	al_arena arena;
	al_peer_mgr *m;
	al_privkey e;
	size_t pend, est;

	setup();
	if (size < 1)
		return 0;
	al_arena_init(&arena, arena_mem, arena_len);
	now = 1000;
	closed = false;
	if (al_peer_mgr_init(&m, &arena, secp, &cfg, now) != AL_OK)
		abort();
	al_peer_node_id(m, node_id);
	memset(e.k, 0x22, 32);
	if (al_peer_new_inbound(m, CONN, &e, now) != AL_OK)
		abort();
	if (data[0] % 2 == 0)
		raw_mode(m, data, size);
	else
		session_mode(m, data, size);
	if (!closed) {
		check_reason(al_peer_read_eof(m, CONN, now));
		drain(m, data[0] % 2 == 1);
	}
	if (!closed) {
		/* Only a pending message event could hold the CLOSE back: none left. */
		abort();
	}
	al_peer_counts(m, &pend, &est);
	if (pend != 0 || est != 0 || al_peer_next_timer(m) != UINT64_MAX)
		abort();
	al_peer_mgr_clear(m);
	al_noise_clear(&ini);
	return 0;
}
