/* BOLT #1 peer manager: two managers over byte pumps, and one manager against a
 * hand-driven BOLT #8 peer (a bare al_noise engine) that sends exactly the bytes a
 * test wants and reads back exactly what the manager sent: handshake and init both
 * ways, ping/pong, key rotation, back-pressure, timeouts on a fake clock, unknown
 * messages, wrong network, features, garbage, truncation, bad MACs, limits. Every
 * failure checks the warning or error bytes sent and the precise reason. */
#include <stdlib.h>
#include <string.h>

#include "ln/noise.h"
#include "ln/peer.h"
#include "ln/wire.h"
#include "test.h"

#define CA 7 /* a's connection to b */
#define CB 9 /* b's connection to a */
#define RC 5 /* the manager's connection to the raw peer */

static const char *REGTEST = "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f";
static const char *TESTNET = "43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000";
/* Our default init on regtest: features 1, 7, 9, 13, 15, 17, 19, 23, 27, 45 in 6
 * bytes, no globalfeatures, networks = [regtest]. */
static const char *OUR_INIT = "0010"
                              "0000"
                              "0006"
                              "2000088aa282"
                              "0120"
                              "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f";

static uint64_t now = 1000000;
static al_peer_event ev;

struct node {
	al_peer_mgr *m;
	al_arena arena;
	uint8_t *mem;
	al_peer_config cfg;
	uint8_t id[AL_PUBKEY_LEN];
};

static bool handles_custom(void *arg, uint16_t type)
{
	(void)arg;
	return type == 0x8001 || type == 0x8002;
}

static void base_cfg(al_peer_config *c, uint8_t key)
{
	al_peer_config_default(c);
	memset(c->node_key.k, key, 32);
	memcpy(c->chains[0], al_t_unhex(REGTEST, NULL), 32);
	c->n_chains = 1;
	c->max_peers = 4;
	c->max_pending_handshakes = 4;
}

static void node_start(struct node *n, const al_peer_config *c)
{
	size_t size = al_peer_arena_size(c);

	n->cfg = *c;
	n->mem = malloc(size);
	al_arena_init(&n->arena, n->mem, size);
	CHECK_OK(al_peer_mgr_init(&n->m, &n->arena, al_t_secp(), c, now));
	al_peer_node_id(n->m, n->id);
}

static void node_default(struct node *n, uint8_t key)
{
	al_peer_config c;

	base_cfg(&c, key);
	node_start(n, &c);
}

static void node_free(struct node *n)
{
	al_peer_mgr_clear(n->m);
	free(n->mem);
	memset(n, 0, sizeof(*n));
}

static bool next(struct node *n)
{
	return al_peer_next_event(n->m, &ev);
}

static al_err feed(struct node *n, size_t chunk);
static size_t wlen, woff;

/* For the raw peer: the next event, reading what waited behind a released message. */
static bool next_ev(struct node *n)
{
	int k;

	for (k = 0; k < 3; k++) {
		if (next(n))
			return true;
		if (woff == wlen)
			return false;
		(void)feed(n, SIZE_MAX);
	}
	return false;
}

/* The next event is CLOSE for reason; the host closes: DISCONNECTED, same reason. */
static void expect_close(struct node *n, al_peer_conn c, al_err reason, bool was_connected)
{
	CHECK(next(n) && ev.kind == AL_PEER_EV_CLOSE && ev.conn == c);
	CHECK_ERR(ev.reason, reason);
	CHECK_OK(al_peer_closed(n->m, &ev, c, now));
	CHECK(ev.kind == AL_PEER_EV_DISCONNECTED && ev.conn == c);
	CHECK_ERR(ev.reason, reason);
	CHECK(ev.was_connected == was_connected);
}

/* --- two managers ------------------------------------------------------------- */

/* What a has for ca, into b's cb as far as b takes it. */
static bool xfer(struct node *a, al_peer_conn ca, struct node *b, al_peer_conn cb)
{
	size_t n, used;
	const uint8_t *p = al_peer_send_buf(a->m, ca, &n);
	al_err e;

	if (p == NULL)
		return false;
	e = al_peer_read(b->m, cb, p, n, &used, now);
	(void)e;
	if (used == 0)
		return false;
	CHECK_OK(al_peer_send_ack(a->m, ca, used, now));
	return true;
}

static void pump2(struct node *a, struct node *b)
{
	int i;

	for (i = 0; i < 100000; i++) {
		bool ab = xfer(a, CA, b, CB);
		bool ba = xfer(b, CB, a, CA);

		if (!ab && !ba)
			return;
	}
	CHECK(!"pump2 does not settle");
}

/* r's next event, pumping once more if releasing the last message let input in. */
static bool next2(struct node *r, struct node *a, struct node *b)
{
	if (next(r))
		return true;
	pump2(a, b);
	return next(r);
}

static void connect2(struct node *a, struct node *b)
{
	al_privkey ea, eb;

	memset(ea.k, 0x31, 32);
	memset(eb.k, 0x32, 32);
	CHECK_OK(al_peer_new_inbound(a->m, CA, &ea, now));
	CHECK_OK(al_peer_new_outbound(b->m, CB, a->id, &eb, now));
	pump2(a, b);
	CHECK(next(a) && ev.kind == AL_PEER_EV_CONNECTED && ev.conn == CA && !ev.outbound);
	CHECK(ev.has_node_id && memcmp(ev.node_id, b->id, 33) == 0);
	CHECK(next(b) && ev.kind == AL_PEER_EV_CONNECTED && ev.conn == CB && ev.outbound);
	CHECK(ev.has_node_id && memcmp(ev.node_id, a->id, 33) == 0);
	CHECK(!next(a) && !next(b));
}

static void test_connect_two(void)
{
	struct node a, b;
	size_t pend, est;
	al_peer_info info;
	uint8_t msg[] = {0x80, 0x01, 'h', 'i'};

	al_peer_config c;

	base_cfg(&c, 0x11);
	c.handles_type = handles_custom;
	node_start(&a, &c);
	memset(c.node_key.k, 0x22, 32);
	node_start(&b, &c);
	CHECK_OK(al_peer_new_inbound(a.m, CA, &(al_privkey){{0x31}}, now));
	al_peer_counts(a.m, &pend, &est);
	CHECK(pend == 1 && est == 0);
	CHECK_OK(al_peer_get_info(a.m, &info, CA));
	CHECK(info.state == AL_PEER_HANDSHAKE && !info.has_node_id);
	CHECK(!al_peer_wants_write(a.m, CA) && al_peer_wants_read(a.m, CA));
	CHECK_OK(al_peer_new_outbound(b.m, CB, a.id, &(al_privkey){{0x32}}, now));
	CHECK(al_peer_wants_write(b.m, CB) && !al_peer_wants_read(b.m, CB));
	/* Act Two comes out as one 50-byte chunk. */
	CHECK(xfer(&b, CB, &a, CA));
	{
		size_t n;
		CHECK(al_peer_send_buf(a.m, CA, &n) != NULL && n == AL_NOISE_ACT2_LEN);
	}
	pump2(&a, &b);
	CHECK(next(&a) && ev.kind == AL_PEER_EV_CONNECTED && memcmp(ev.node_id, b.id, 33) == 0);
	CHECK(al_features_offered(&ev.features, AL_FEATURE_STATIC_REMOTEKEY));
	CHECK(al_features_has(&ev.features, AL_FEATURE_OPT(AL_FEATURE_STATIC_REMOTEKEY)));
	CHECK(!al_features_offered(&ev.features, AL_FEATURE_ANCHOR_OUTPUTS));
	CHECK(al_features_has(&ev.remote_features, AL_FEATURE_OPT(AL_FEATURE_CHANNEL_TYPE)));
	CHECK(ev.has_networks && ev.num_networks == 1 && ev.n_networks == 1);
	CHECK_MEM(ev.networks[0], al_t_unhex(REGTEST, NULL), 32);
	CHECK(next(&b) && ev.kind == AL_PEER_EV_CONNECTED && memcmp(ev.node_id, a.id, 33) == 0);
	al_peer_counts(a.m, &pend, &est);
	CHECK(pend == 0 && est == 1);
	CHECK_OK(al_peer_get_info(a.m, &info, CA));
	CHECK(info.state == AL_PEER_READY && info.sent_msgs == 1 && info.recv_msgs == 1);

	/* A message each way, by connection and by node id. */
	CHECK_OK(al_peer_send(b.m, CB, msg, sizeof(msg), now));
	pump2(&a, &b);
	CHECK(next(&a) && ev.kind == AL_PEER_EV_MESSAGE && ev.type == 0x8001 &&
	      ev.len == sizeof(msg) && memcmp(ev.msg, msg, sizeof(msg)) == 0);
	CHECK(!next(&a));
	CHECK_OK(al_peer_send_to(a.m, b.id, msg, sizeof(msg), now));
	CHECK_ERR(al_peer_send_to(a.m, a.id, msg, sizeof(msg), now), AL_E_PEER_NOT_CONNECTED);
	CHECK(next2(&b, &a, &b) && ev.kind == AL_PEER_EV_MESSAGE && ev.type == 0x8001);
	CHECK(!next(&b));
	/* The same node cannot be connected twice. */
	CHECK_ERR(al_peer_new_outbound(b.m, 99, a.id, &(al_privkey){{0x33}}, now),
	          AL_E_PEER_ALREADY_CONNECTED);
	node_free(&a);
	node_free(&b);
}

/* Pings on the timer, answered; 1,500 messages one way and 1,100 the other cross
 * several BOLT #8 key rotations (every 1000 nonces, two per message). */
static void test_ping_rotation(void)
{
	struct node a, b;
	al_peer_config c;
	al_peer_info info;
	static uint8_t msg[2000];
	size_t i, k;

	base_cfg(&c, 0x11);
	c.handles_type = handles_custom;
	node_start(&a, &c);
	base_cfg(&c, 0x22);
	c.handles_type = handles_custom;
	node_start(&b, &c);
	connect2(&a, &b);
	CHECK(al_peer_next_timer(b.m) == now + 30000);
	now += 30000;
	CHECK(al_peer_next_timer(b.m) == now);
	al_peer_timer(b.m, now);
	CHECK_OK(al_peer_get_info(b.m, &info, CB));
	CHECK(info.ping_outstanding);
	CHECK(al_peer_next_timer(b.m) == now + 20000);
	pump2(&a, &b);
	CHECK_OK(al_peer_get_info(b.m, &info, CB));
	CHECK(!info.ping_outstanding);
	CHECK(!next(&a) && !next(&b)); /* ping and pong stay inside */

	for (k = 0; k < 2; k++) {
		struct node *s = k ? &a : &b, *r = k ? &b : &a;
		al_peer_conn sc = k ? CA : CB;
		size_t count = k ? 1100 : 1500;

		for (i = 0; i < count; i++) {
			size_t len = 2 + (i * 7) % 1900;

			msg[0] = 0x80;
			msg[1] = 0x01;
			memset(msg + 2, (int)(i & 0xff), len - 2);
			CHECK_OK(al_peer_send(s->m, sc, msg, len, now));
			pump2(&a, &b);
			if (!next2(r, &a, &b) || ev.kind != AL_PEER_EV_MESSAGE || ev.len != len ||
			    memcmp(ev.msg, msg, len) != 0) {
				CHECK(!"message lost or corrupted");
				break;
			}
		}
		CHECK(!next2(r, &a, &b)); /* releases the last message */
		if (k == 0) {
			now += 30000;
			al_peer_timer(a.m, now);
			al_peer_timer(b.m, now);
			pump2(&a, &b);
		}
	}
	CHECK_OK(al_peer_get_info(a.m, &info, CA));
	CHECK(info.recv_msgs == 1 + 1 + 1500 + 2 && info.sent_msgs == 1 + 1 + 1 + 1100 + 1);
	CHECK(!info.ping_outstanding);
	node_free(&a);
	node_free(&b);
}

/* Out-queues are bounded; a full one refuses and stops its connection's input. */
static void test_backpressure_two(void)
{
	struct node a, b;
	al_peer_config c;
	al_peer_info info;
	static uint8_t msg[1000];
	size_t i, used;

	base_cfg(&c, 0x11);
	c.handles_type = handles_custom;
	node_start(&a, &c);
	c.out_queue_bytes = 4096;
	memset(c.node_key.k, 0x22, 32);
	node_start(&b, &c);
	connect2(&a, &b);
	msg[0] = 0x80;
	msg[1] = 0x01;
	/* One goes into the idle engine, four queue (4 x 1002 <= 4096), the sixth does
	 * not fit and changes nothing. */
	for (i = 0; i < 5; i++) {
		msg[2] = (uint8_t)i;
		CHECK_OK(al_peer_send(b.m, CB, msg, sizeof(msg), now));
	}
	msg[2] = 5;
	CHECK_ERR(al_peer_send(b.m, CB, msg, sizeof(msg), now), AL_E_PEER_QUEUE_FULL);
	CHECK_OK(al_peer_get_info(b.m, &info, CB));
	CHECK(info.queued_bytes == 4 * 1002);
	/* Over half full: b does not read a's bytes. */
	CHECK(!al_peer_wants_read(b.m, CB));
	CHECK_OK(al_peer_send(a.m, CA, msg, 10, now));
	{
		size_t n;
		const uint8_t *p = al_peer_send_buf(a.m, CA, &n);

		CHECK(p != NULL && n == 18 + 10 + 16);
		CHECK_OK(al_peer_read(b.m, CB, p, n, &used, now));
		CHECK(used == 0);
	}
	for (i = 0; i < 5; i++) {
		pump2(&a, &b);
		CHECK(next2(&a, &a, &b) && ev.kind == AL_PEER_EV_MESSAGE && ev.len == 1000 &&
		      ev.msg[2] == i);
	}
	CHECK(!next(&a));
	CHECK(next2(&b, &a, &b) && ev.kind == AL_PEER_EV_MESSAGE && ev.len == 10);
	CHECK_OK(al_peer_send(b.m, CB, msg, sizeof(msg), now));
	/* Bad sends change nothing. */
	CHECK_ERR(al_peer_send(b.m, CB, msg, 1, now), AL_E_WIRE_TOO_SHORT);
	CHECK_ERR(al_peer_send(b.m, CB, (const uint8_t *)"\x00\x12\x00\x00\x00\x00", 6, now),
	          AL_E_PEER_RESERVED_TYPE);
	CHECK_ERR(al_peer_send(b.m, CB, (const uint8_t *)"\x00\x10\x00\x00\x00\x00", 6, now),
	          AL_E_PEER_RESERVED_TYPE);
	CHECK_ERR(al_peer_send(b.m, 1234, msg, 10, now), AL_E_PEER_UNKNOWN_CONN);
	{
		static uint8_t big[AL_NOISE_MAX_MSG + 1];

		big[0] = 0x80;
		big[1] = 0x01;
		CHECK_ERR(al_peer_send(b.m, CB, big, sizeof(big), now), AL_E_NOISE_LENGTH);
		/* The largest message goes through once the queue is empty and the
		 * engine idle, even with a queue smaller than it. */
		pump2(&a, &b);
		CHECK(next2(&a, &a, &b) && ev.kind == AL_PEER_EV_MESSAGE && ev.len == 1000);
		CHECK_OK(al_peer_send(b.m, CB, big, AL_NOISE_MAX_MSG, now));
		CHECK_ERR(al_peer_send(b.m, CB, big, 5000, now), AL_E_PEER_QUEUE_FULL);
		pump2(&a, &b);
		CHECK(next2(&a, &a, &b) && ev.kind == AL_PEER_EV_MESSAGE &&
		      ev.len == AL_NOISE_MAX_MSG);
	}
	/* Graceful disconnect sends what is queued first. */
	CHECK_OK(al_peer_send(b.m, CB, msg, 1000, now));
	CHECK_OK(al_peer_send(b.m, CB, msg, 500, now));
	CHECK_OK(al_peer_disconnect(b.m, CB, now));
	CHECK_ERR(al_peer_send(b.m, CB, msg, 10, now), AL_E_PEER_CLOSING);
	CHECK(!next(&b));
	pump2(&a, &b);
	CHECK(next2(&a, &a, &b) && ev.kind == AL_PEER_EV_MESSAGE && ev.len == 1000);
	CHECK(!next(&b)); /* a's input paused until a's message is released */
	CHECK(next2(&a, &a, &b) && ev.kind == AL_PEER_EV_MESSAGE && ev.len == 500);
	CHECK(!next(&a));
	pump2(&a, &b);
	expect_close(&b, CB, AL_E_PEER_LOCAL_CLOSE, true);
	CHECK_ERR(al_peer_read_eof(a.m, CA, now), AL_E_PEER_REMOTE_CLOSED);
	CHECK(next(&a) && ev.kind == AL_PEER_EV_CLOSE);
	CHECK_OK(al_peer_closed(a.m, &ev, CA, now));
	CHECK_ERR(ev.reason, AL_E_PEER_REMOTE_CLOSED);
	node_free(&a);
	node_free(&b);
}

/* --- one manager against a hand-driven peer ------------------------------------ */

static al_noise raw, raw2;
static uint8_t wire[300000];

/* Whatever the raw engine has for the wire, appended to `wire`. */
static void take_raw(void)
{
	size_t n;
	const uint8_t *p = al_noise_sendrec_buf(&raw, &n);

	if (p == NULL)
		return;
	memcpy(wire + wlen, p, n);
	wlen += n;
	CHECK_OK(al_noise_sendrec_ack(&raw, n));
}

static void raw_seal(const uint8_t *m, size_t len)
{
	size_t room;
	uint8_t *p = al_noise_sendapp_buf(&raw, &room);

	CHECK(p != NULL);
	if (p == NULL)
		return;
	memcpy(p, m, len);
	CHECK_OK(al_noise_sendapp_ack(&raw, len));
	take_raw();
}

/* Feed `wire` to the manager `chunk` bytes per read, while it takes them. */
static al_err feed(struct node *n, size_t chunk)
{
	al_err e = AL_OK;

	while (woff < wlen) {
		size_t k = wlen - woff < chunk ? wlen - woff : chunk, used;

		e = al_peer_read(n->m, RC, wire + woff, k, &used, now);
		woff += used;
		if (used == 0)
			break;
	}
	if (woff == wlen)
		woff = wlen = 0;
	return e;
}

static bool mgr_to_raw(struct node *n)
{
	size_t len, room, k;
	const uint8_t *p = al_peer_send_buf(n->m, RC, &len);
	uint8_t *d = al_noise_recvrec_buf(&raw, &room);

	if (p == NULL || d == NULL)
		return false;
	k = len < room ? len : room;
	memcpy(d, p, k);
	CHECK_OK(al_noise_recvrec_ack(&raw, k));
	CHECK_OK(al_peer_send_ack(n->m, RC, k, now));
	return true;
}

/* The next message the manager sent, into out (65535 bytes); false if none. */
static bool raw_recv(struct node *n, uint8_t *out, size_t *len)
{
	for (;;) {
		const uint8_t *p = al_noise_recvapp_buf(&raw, len);

		if (p != NULL) {
			memcpy(out, p, *len);
			CHECK_OK(al_noise_recvapp_ack(&raw));
			return true;
		}
		if (!mgr_to_raw(n))
			return false;
	}
}

static uint8_t rbuf[AL_NOISE_MAX_MSG];
static size_t rlen;

/* The next message the manager sent is exactly this hex. */
static void expect_hex(struct node *n, const char *hex)
{
	size_t len;
	const uint8_t *want = al_t_unhex(hex, &len);

	CHECK(raw_recv(n, rbuf, &rlen));
	CHECK(rlen == len);
	if (rlen == len)
		CHECK_MEM(rbuf, want, len);
	else
		al_t_dump(hex, rbuf, rlen);
}

/* The next message is a warning (type 1) or error (type 17) with all-zero
 * channel_id and reason's text. */
static void expect_final(struct node *n, uint16_t type, al_err reason)
{
	const char *text = al_err_str(reason);
	size_t tl = strlen(text);
	uint8_t want[2 + 32 + 2 + AL_PEER_MAX_ERROR_TEXT];

	memset(want, 0, sizeof(want));
	want[1] = (uint8_t)type;
	want[35] = (uint8_t)tl;
	memcpy(want + 36, text, tl);
	CHECK(raw_recv(n, rbuf, &rlen));
	CHECK(rlen == 36 + tl);
	if (rlen == 36 + tl)
		CHECK_MEM(rbuf, want, rlen);
}

static void expect_nothing_sent(struct node *n)
{
	size_t len;

	CHECK(al_peer_send_buf(n->m, RC, &len) == NULL && len == 0);
}

static void raw_begin(struct node *n, uint8_t key)
{
	al_privkey ls, e, me;
	al_pubkey rs;

	memset(ls.k, key, 32);
	memset(e.k, 0x44, 32);
	memset(me.k, 0x55, 32);
	wlen = woff = 0;
	CHECK_OK(al_pubkey_parse(al_t_secp(), &rs, n->id, 33));
	CHECK_OK(al_noise_init_initiator(&raw, al_t_secp(), &ls, &rs, &e));
	CHECK_OK(al_peer_new_inbound(n->m, RC, &me, now));
	take_raw(); /* Act One */
}

/* Handshake, then the manager's init (checked) arrives. */
static void raw_handshake(struct node *n, uint8_t key)
{
	raw_begin(n, key);
	CHECK_OK(feed(n, SIZE_MAX));
	CHECK(mgr_to_raw(n)); /* Act Two */
	take_raw();           /* Act Three */
	CHECK_OK(feed(n, SIZE_MAX));
	expect_hex(n, OUR_INIT);
}

/* An init with the given feature bits (a list ending in -1) and networks. */
static size_t mk_init(uint8_t *out, const int *bits, const char *const *chains)
{
	al_features f;
	uint8_t fb[AL_FEATURES_MAX_BITS / 8], cb[AL_PEER_MAX_CHAINS * 32];
	struct al_wire_init m;
	al_wb w;
	size_t i;

	al_features_clear(&f);
	for (i = 0; bits[i] >= 0; i++)
		CHECK_OK(al_features_set(&f, (unsigned)bits[i]));
	memset(&m, 0, sizeof(m));
	CHECK_OK(al_wire_init_set_features(&m, fb, sizeof(fb), &f));
	if (chains != NULL) {
		m.tlvs.has_networks = true;
		for (i = 0; chains[i] != NULL; i++)
			memcpy(cb + 32 * i, al_t_unhex(chains[i], NULL), 32);
		m.tlvs.networks.chains = cb;
		m.tlvs.networks.num_chains = i;
	}
	al_wb_init(&w, out, AL_NOISE_MAX_MSG);
	al_wire_init_write(&w, &m);
	CHECK(al_wb_ok(&w));
	return w.len;
}

static const int PLAIN_BITS[] = {1, 7, 13, -1};
static const char *const REG_ONLY[] = {
    "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f", NULL};

static void raw_send_msg(struct node *n, const uint8_t *m, size_t len)
{
	raw_seal(m, len);
	(void)feed(n, SIZE_MAX);
}

static void raw_send_hex(struct node *n, const char *hex)
{
	size_t len;
	const uint8_t *m = al_t_unhex(hex, &len);

	raw_seal(m, len);
	(void)feed(n, SIZE_MAX);
}

/* Handshake and init both ways: CONNECTED. */
static void raw_connect(struct node *n, uint8_t key)
{
	uint8_t m[512];
	size_t len = mk_init(m, PLAIN_BITS, REG_ONLY);

	raw_handshake(n, key);
	raw_send_msg(n, m, len);
	CHECK(next(n) && ev.kind == AL_PEER_EV_CONNECTED && ev.conn == RC);
	CHECK(!next(n));
}

static void test_ping_pong_bytes(void)
{
	struct node n;
	static uint8_t big[AL_NOISE_MAX_MSG];
	al_peer_info info;

	node_default(&n, 0x11);
	raw_connect(&n, 0x66);
	/* BOLT #1: num_pong_bytes < 65532 answered with that many zero bytes. */
	raw_send_hex(&n, "0012000500030a0b0c");
	expect_hex(&n, "001300050000000000");
	/* 65532 and above: no reply. The next pong answers the ping after it. */
	raw_send_hex(&n, "0012fffc0000");
	raw_send_hex(&n, "0012ffff0000");
	raw_send_hex(&n, "001200010000");
	expect_hex(&n, "0013000100");
	/* 65531: the largest pong, 65535 bytes. */
	raw_send_hex(&n, "0012fffb0000");
	CHECK(raw_recv(&n, big, &rlen) && rlen == AL_NOISE_MAX_MSG);
	CHECK(big[0] == 0 && big[1] == 0x13 && big[2] == 0xff && big[3] == 0xfb);
	/* Our ping after ping_interval_ms: num_pong_bytes 8, no ignored bytes. */
	now += 30000;
	al_peer_timer(n.m, now);
	expect_hex(&n, "001200080000");
	CHECK_OK(al_peer_get_info(n.m, &info, RC));
	CHECK(info.ping_outstanding);
	raw_send_hex(&n, "00130008"
	                 "0000000000000000");
	CHECK_OK(al_peer_get_info(n.m, &info, RC));
	CHECK(!info.ping_outstanding && info.state == AL_PEER_READY);
	/* A pong when no ping is outstanding: warning, close. */
	raw_send_hex(&n, "0013000100");
	expect_final(&n, 1, AL_E_PEER_PONG_UNEXPECTED);
	expect_close(&n, RC, AL_E_PEER_PONG_UNEXPECTED, true);
	node_free(&n);

	/* A pong of the wrong length. */
	node_default(&n, 0x11);
	raw_connect(&n, 0x66);
	now += 30000;
	al_peer_timer(n.m, now);
	expect_hex(&n, "001200080000");
	raw_send_hex(&n, "0013000100");
	expect_final(&n, 1, AL_E_PEER_PONG_UNEXPECTED);
	expect_close(&n, RC, AL_E_PEER_PONG_UNEXPECTED, true);
	node_free(&n);
}

/* A peer's pings are answered one at a time: while a pong cannot be sent, the
 * manager takes no more input. Too many pings fail the connection. */
static void test_ping_backpressure_flood(void)
{
	struct node n;
	al_peer_config c;
	size_t one, used, i;

	node_default(&n, 0x11);
	raw_connect(&n, 0x66);
	raw_seal(al_t_unhex("001200020000", NULL), 6);
	one = wlen;
	raw_seal(al_t_unhex("001200030000", NULL), 6);
	raw_seal(al_t_unhex("001200040000", NULL), 6);
	CHECK_OK(al_peer_read(n.m, RC, wire, wlen, &used, now));
	/* The first pong went to the engine, the second is owed: input stops there. */
	CHECK(used == 2 * one);
	CHECK(!al_peer_wants_read(n.m, RC) && al_peer_wants_write(n.m, RC));
	woff = used;
	expect_hex(&n, "001300020000"); /* its sending makes room for the owed pong */
	CHECK(al_peer_wants_read(n.m, RC));
	CHECK_OK(feed(&n, SIZE_MAX));
	expect_hex(&n, "00130003000000");
	expect_hex(&n, "00130004"
	               "00000000");
	node_free(&n);

	base_cfg(&c, 0x11);
	c.max_pings_per_interval = 3;
	node_start(&n, &c);
	raw_connect(&n, 0x66);
	for (i = 0; i < 3; i++) {
		raw_send_hex(&n, "001200000000");
		expect_hex(&n, "00130000");
	}
	/* A new window after ping_interval_ms. */
	now += 30000;
	for (i = 0; i < 3; i++) {
		raw_send_hex(&n, "001200000000");
		expect_hex(&n, "00130000");
	}
	raw_send_hex(&n, "001200000000");
	expect_final(&n, 1, AL_E_PEER_PING_FLOOD);
	expect_close(&n, RC, AL_E_PEER_PING_FLOOD, true);
	node_free(&n);
}

static void test_timeouts(void)
{
	struct node n;
	al_peer_config c;
	size_t i, used;
	al_err e;

	/* Nothing after accept: the handshake times out, nothing is sent. */
	node_default(&n, 0x11);
	CHECK_OK(al_peer_new_inbound(n.m, RC, &(al_privkey){{0x55}}, now));
	CHECK(al_peer_next_timer(n.m) == now + 10000);
	now += 9999;
	al_peer_timer(n.m, now);
	CHECK(!next(&n));
	now += 1;
	al_peer_timer(n.m, now);
	expect_nothing_sent(&n);
	expect_close(&n, RC, AL_E_PEER_HANDSHAKE_TIMEOUT, false);
	CHECK(al_peer_next_timer(n.m) == UINT64_MAX);

	/* Act One one byte at a time, 300 ms apart: the slow peer times out all the same. */
	raw_begin(&n, 0x66);
	for (i = 0; i < AL_NOISE_ACT1_LEN; i++) {
		al_peer_timer(n.m, now);
		e = al_peer_read(n.m, RC, wire + i, 1, &used, now);
		if (e != AL_OK)
			break;
		CHECK(used == 1);
		now += 300;
	}
	CHECK(i == 34); /* 34 x 300 ms >= 10 s */
	CHECK_ERR(e, AL_E_PEER_HANDSHAKE_TIMEOUT);
	CHECK(used == 0);
	expect_nothing_sent(&n);
	expect_close(&n, RC, AL_E_PEER_HANDSHAKE_TIMEOUT, false);

	/* Act Two never written by the host: the timeout closes at once all the same. */
	raw_begin(&n, 0x66);
	CHECK_OK(feed(&n, SIZE_MAX));
	CHECK(al_peer_wants_write(n.m, RC));
	now += 10000;
	al_peer_timer(n.m, now);
	expect_close(&n, RC, AL_E_PEER_HANDSHAKE_TIMEOUT, false);

	/* Handshake done, no init from the peer: warning, close. */
	raw_handshake(&n, 0x66);
	now += 10000;
	al_peer_timer(n.m, now);
	expect_final(&n, 1, AL_E_PEER_INIT_TIMEOUT);
	expect_close(&n, RC, AL_E_PEER_INIT_TIMEOUT, false);

	/* Our ping unanswered for pong_timeout_ms. */
	raw_connect(&n, 0x66);
	now += 30000;
	al_peer_timer(n.m, now);
	expect_hex(&n, "001200080000");
	now += 19999;
	al_peer_timer(n.m, now);
	CHECK(!next(&n));
	now += 1;
	al_peer_timer(n.m, now);
	expect_final(&n, 1, AL_E_PEER_PONG_TIMEOUT);
	expect_close(&n, RC, AL_E_PEER_PONG_TIMEOUT, true);

	/* A peer that fails while the host never writes: closed after the flush time. */
	raw_connect(&n, 0x66);
	raw_send_hex(&n, "8000");
	CHECK(al_peer_wants_write(n.m, RC));
	CHECK(!next(&n));
	CHECK(al_peer_next_timer(n.m) == now + 20000);
	now += 20000;
	al_peer_timer(n.m, now);
	expect_close(&n, RC, AL_E_WIRE_UNKNOWN_EVEN, true);
	node_free(&n);

	/* Silence: idle timeout (pings off). */
	base_cfg(&c, 0x11);
	c.ping_interval_ms = 0;
	c.idle_timeout_ms = 5000;
	node_start(&n, &c);
	raw_connect(&n, 0x66);
	CHECK(al_peer_next_timer(n.m) == now + 5000);
	now += 5000;
	al_peer_timer(n.m, now);
	expect_final(&n, 1, AL_E_PEER_IDLE_TIMEOUT);
	expect_close(&n, RC, AL_E_PEER_IDLE_TIMEOUT, true);
	node_free(&n);
}

static void test_messages(void)
{
	struct node n;
	al_peer_config c;
	size_t pend, est;

	base_cfg(&c, 0x11);
	c.handles_type = handles_custom;
	node_start(&n, &c);
	raw_connect(&n, 0x66);
	/* Unknown odd: ignored, nothing happens. */
	raw_send_hex(&n, "8003aabbcc");
	raw_send_hex(&n, "0021");
	CHECK(!next(&n));
	/* Handled types, error and warning go up. */
	raw_send_hex(&n, "8002aa");
	CHECK(next_ev(&n) && ev.kind == AL_PEER_EV_MESSAGE && ev.type == 0x8002 && ev.len == 3);
	raw_send_hex(&n, "0011"
	                 "0000000000000000000000000000000000000000000000000000000000000000"
	                 "00026869");
	CHECK(next_ev(&n) && ev.kind == AL_PEER_EV_MESSAGE && ev.type == 17 && ev.len == 38);
	raw_send_hex(&n, "0001"
	                 "0101010101010101010101010101010101010101010101010101010101010101"
	                 "0000");
	CHECK(next_ev(&n) && ev.kind == AL_PEER_EV_MESSAGE && ev.type == 1 && ev.len == 36);
	CHECK(!next_ev(&n));
	/* Still alive. */
	raw_send_hex(&n, "001200010000");
	expect_hex(&n, "0013000100");
	/* Unknown even: BOLT #1 "MUST close the connection"; a warning first. */
	raw_send_hex(&n, "8004");
	expect_final(&n, 1, AL_E_WIRE_UNKNOWN_EVEN);
	expect_close(&n, RC, AL_E_WIRE_UNKNOWN_EVEN, true);

	/* A known message too short for its contents. */
	raw_connect(&n, 0x66);
	raw_send_hex(&n, "00120001000a0000");
	expect_final(&n, 1, AL_E_TRUNCATED);
	expect_close(&n, RC, AL_E_TRUNCATED, true);
	/* An invalid extension (unknown even TLV record after a ping). */
	raw_connect(&n, 0x66);
	raw_send_hex(&n, "0012000100000200");
	expect_final(&n, 1, AL_E_TLV_UNKNOWN_EVEN);
	expect_close(&n, RC, AL_E_TLV_UNKNOWN_EVEN, true);
	/* A one-byte message has no type. */
	raw_connect(&n, 0x66);
	raw_send_hex(&n, "00");
	expect_final(&n, 1, AL_E_WIRE_TOO_SHORT);
	expect_close(&n, RC, AL_E_WIRE_TOO_SHORT, true);
	/* A second init. */
	raw_connect(&n, 0x66);
	{
		uint8_t m[512];
		size_t len = mk_init(m, PLAIN_BITS, REG_ONLY);

		raw_send_msg(&n, m, len);
	}
	expect_final(&n, 1, AL_E_PEER_DUP_INIT);
	expect_close(&n, RC, AL_E_PEER_DUP_INIT, true);
	/* The first message is not init: our init, then a warning. */
	raw_handshake(&n, 0x66);
	raw_send_hex(&n, "001200010000");
	expect_final(&n, 1, AL_E_PEER_FIRST_NOT_INIT);
	expect_close(&n, RC, AL_E_PEER_FIRST_NOT_INIT, false);
	/* al_peer_fail with an error; sends refused while closing. */
	raw_connect(&n, 0x66);
	CHECK_OK(al_peer_fail(n.m, RC, AL_E_CHANNEL_BALANCE, true, now));
	CHECK_ERR(al_peer_send(n.m, RC, (const uint8_t *)"\x80\x01", 2, now), AL_E_PEER_CLOSING);
	expect_final(&n, 17, AL_E_CHANNEL_BALANCE);
	expect_close(&n, RC, AL_E_CHANNEL_BALANCE, true);
	al_peer_counts(n.m, &pend, &est);
	CHECK(pend == 0 && est == 0);
	node_free(&n);
}

static void test_init_rules(void)
{
	struct node n;
	al_peer_config c;
	uint8_t m[512];
	size_t len;
	static const char *const TEST_ONLY[] = {
	    "43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000", NULL};
	static const char *const BOTH[] = {
	    "43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000",
	    "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f", NULL};
	static const int ELECTRUM[] = {0, 1, 5, 6, 9, 12, 13, 15, 17, 27, 45, 151, -1};
	static const int NO_SRK[] = {1, 7, -1};
	static const int UNKNOWN_EVEN[] = {1, 7, 13, 50, -1};
	static const int NO_DEPS[] = {1, 7, 13, 17, -1}; /* basic_mpp without payment_secret */

	node_default(&n, 0x11);
	/* No common chain: an error, then close. */
	raw_handshake(&n, 0x66);
	len = mk_init(m, PLAIN_BITS, TEST_ONLY);
	raw_send_msg(&n, m, len);
	expect_final(&n, 17, AL_E_WIRE_CHAIN);
	expect_close(&n, RC, AL_E_WIRE_CHAIN, false);
	/* Several chains including ours; and no networks at all. */
	raw_handshake(&n, 0x66);
	len = mk_init(m, PLAIN_BITS, BOTH);
	raw_send_msg(&n, m, len);
	CHECK(next(&n) && ev.kind == AL_PEER_EV_CONNECTED && ev.num_networks == 2);
	CHECK_MEM(ev.networks[1], al_t_unhex(REGTEST, NULL), 32);
	CHECK_OK(al_peer_closed(n.m, &ev, RC, now));
	CHECK_ERR(ev.reason, AL_E_PEER_REMOTE_CLOSED);
	CHECK(ev.was_connected);
	raw_handshake(&n, 0x66);
	len = mk_init(m, PLAIN_BITS, NULL);
	raw_send_msg(&n, m, len);
	CHECK(next(&n) && ev.kind == AL_PEER_EV_CONNECTED && !ev.has_networks);
	CHECK_OK(al_peer_closed(n.m, &ev, RC, now));
	/* Electrum 4.3.4's init. */
	raw_handshake(&n, 0x66);
	len = mk_init(m, ELECTRUM, REG_ONLY);
	raw_send_msg(&n, m, len);
	CHECK(next(&n) && ev.kind == AL_PEER_EV_CONNECTED);
	CHECK(al_features_required(&ev.features, AL_FEATURE_DATA_LOSS_PROTECT));
	CHECK(al_features_required(&ev.features, AL_FEATURE_GOSSIP_QUERIES));
	CHECK(al_features_required(&ev.features, AL_FEATURE_STATIC_REMOTEKEY));
	CHECK(al_features_offered(&ev.features, AL_FEATURE_CHANNEL_TYPE));
	CHECK(!al_features_offered(&ev.features, AL_FEATURE_UPFRONT_SHUTDOWN_SCRIPT));
	CHECK(al_features_has(&ev.remote_features, 151));
	CHECK_OK(al_peer_closed(n.m, &ev, RC, now));
	/* An unknown even feature bit. */
	raw_handshake(&n, 0x66);
	len = mk_init(m, UNKNOWN_EVEN, REG_ONLY);
	raw_send_msg(&n, m, len);
	expect_final(&n, 1, AL_E_WIRE_FEATURES);
	expect_close(&n, RC, AL_E_WIRE_FEATURES, false);
	/* A missing dependency. */
	raw_handshake(&n, 0x66);
	len = mk_init(m, NO_DEPS, REG_ONLY);
	raw_send_msg(&n, m, len);
	expect_final(&n, 1, AL_E_WIRE_FEATURE_DEPS);
	expect_close(&n, RC, AL_E_WIRE_FEATURE_DEPS, false);
	node_free(&n);

	/* We require static_remotekey (bit 12); a peer that does not offer it fails. */
	base_cfg(&c, 0x11);
	CHECK_OK(al_features_set(&c.features, 12));
	node_start(&n, &c);
	raw_begin(&n, 0x66);
	CHECK_OK(feed(&n, SIZE_MAX));
	CHECK(mgr_to_raw(&n));
	take_raw();
	CHECK_OK(feed(&n, SIZE_MAX));
	CHECK(raw_recv(&n, rbuf, &rlen));
	CHECK(rlen == 46 && rbuf[5] == 6 && rbuf[10] == 0xb2); /* bit 12 too */
	len = mk_init(m, NO_SRK, REG_ONLY);
	raw_send_msg(&n, m, len);
	expect_final(&n, 1, AL_E_PEER_MISSING_FEATURE);
	expect_close(&n, RC, AL_E_PEER_MISSING_FEATURE, false);
	node_free(&n);
}

/* Bytes a BOLT #8 engine rejects: nothing can be sent back; the reason is the
 * engine's. */
static void test_bad_transport(void)
{
	struct node n;
	uint8_t junk[64];
	size_t used;

	node_default(&n, 0x11);
	/* Garbage instead of Act One: a bad version byte. */
	CHECK_OK(al_peer_new_inbound(n.m, RC, &(al_privkey){{0x55}}, now));
	memset(junk, 0xa5, sizeof(junk));
	CHECK_ERR(al_peer_read(n.m, RC, junk, sizeof(junk), &used, now), AL_E_NOISE_VERSION);
	CHECK(used == AL_NOISE_ACT1_LEN);
	CHECK(!al_peer_wants_read(n.m, RC));
	expect_nothing_sent(&n);
	expect_close(&n, RC, AL_E_NOISE_VERSION, false);
	/* Version 0 but no valid point. */
	CHECK_OK(al_peer_new_inbound(n.m, RC, &(al_privkey){{0x55}}, now));
	junk[0] = 0;
	CHECK_ERR(al_peer_read(n.m, RC, junk, AL_NOISE_ACT1_LEN, &used, now), AL_E_NOISE_PUBKEY);
	expect_close(&n, RC, AL_E_NOISE_PUBKEY, false);
	/* Act One with a flipped MAC byte. */
	raw_begin(&n, 0x66);
	wire[AL_NOISE_ACT1_LEN - 1] ^= 1;
	CHECK_ERR(feed(&n, SIZE_MAX), AL_E_NOISE_MAC);
	expect_nothing_sent(&n);
	expect_close(&n, RC, AL_E_NOISE_MAC, false);
	/* Act One cut short, then the stream ends. */
	raw_begin(&n, 0x66);
	CHECK_OK(al_peer_read(n.m, RC, wire, 30, &used, now));
	CHECK(used == 30);
	CHECK_ERR(al_peer_read_eof(n.m, RC, now), AL_E_TRUNCATED);
	expect_close(&n, RC, AL_E_TRUNCATED, false);
	/* Act Three cut short, the socket just drops. */
	raw_begin(&n, 0x66);
	CHECK_OK(feed(&n, SIZE_MAX));
	CHECK(mgr_to_raw(&n));
	take_raw();
	CHECK_OK(al_peer_read(n.m, RC, wire, 40, &used, now));
	CHECK_OK(al_peer_closed(n.m, &ev, RC, now));
	CHECK_ERR(ev.reason, AL_E_TRUNCATED);
	CHECK(!next(&n));
	/* Garbage after the handshake: the length's MAC fails. */
	raw_connect(&n, 0x66);
	memset(junk, 0x5a, sizeof(junk));
	CHECK_ERR(al_peer_read(n.m, RC, junk, sizeof(junk), &used, now), AL_E_NOISE_MAC);
	CHECK(used == AL_NOISE_HDR_LEN);
	expect_nothing_sent(&n);
	expect_close(&n, RC, AL_E_NOISE_MAC, true);
	/* A frame body with a flipped byte. */
	raw_connect(&n, 0x66);
	raw_seal(al_t_unhex("001200010000", NULL), 6);
	wire[wlen - 3] ^= 0x80;
	CHECK_ERR(feed(&n, SIZE_MAX), AL_E_NOISE_MAC);
	expect_close(&n, RC, AL_E_NOISE_MAC, true);
	/* A length announcing 65535 bytes, then the stream ends. */
	raw_connect(&n, 0x66);
	{
		static uint8_t big[AL_NOISE_MAX_MSG];

		big[0] = 0x80;
		big[1] = 0x03;
		raw_seal(big, sizeof(big));
	}
	CHECK_OK(al_peer_read(n.m, RC, wire, 1000, &used, now));
	CHECK(used == 1000);
	CHECK_ERR(al_peer_read_eof(n.m, RC, now), AL_E_TRUNCATED);
	expect_close(&n, RC, AL_E_TRUNCATED, true);
	/* The same frame whole is a valid (ignored) message; a clean end after it. */
	raw_connect(&n, 0x66);
	{
		static uint8_t big[AL_NOISE_MAX_MSG];

		big[0] = 0x80;
		big[1] = 0x03;
		raw_seal(big, sizeof(big));
	}
	CHECK_OK(feed(&n, 777));
	CHECK(!next(&n));
	CHECK_ERR(al_peer_read_eof(n.m, RC, now), AL_E_PEER_REMOTE_CLOSED);
	expect_close(&n, RC, AL_E_PEER_REMOTE_CLOSED, true);
	node_free(&n);
}

/* Handshakes in progress are bounded; so are established peers. Refused connections
 * cost nothing. */
static void test_limits(void)
{
	struct node n;
	al_peer_config c;
	size_t used_before, pend, est;
	uint64_t i;
	al_err e = AL_OK;
	uint8_t other[33];

	base_cfg(&c, 0x11);
	c.max_pending_handshakes = 2;
	c.max_peers = 1;
	node_start(&n, &c);
	used_before = al_arena_used(&n.arena);
	CHECK_OK(al_peer_new_inbound(n.m, 100, &(al_privkey){{0x55}}, now));
	CHECK_ERR(al_peer_new_inbound(n.m, 100, &(al_privkey){{0x55}}, now), AL_E_PEER_CONN_EXISTS);
	memset(other, 0, sizeof(other));
	other[0] = 2;
	other[32] = 7; /* not a point */
	CHECK_ERR(al_peer_new_outbound(n.m, 101, other, &(al_privkey){{0x55}}, now), AL_E_PUBKEY);
	CHECK_ERR(al_peer_new_inbound(n.m, 101, &(al_privkey){{0}}, now), AL_E_PRIVKEY);
	CHECK_OK(al_peer_new_outbound(n.m, 101,
	                              al_t_unhex("02"
	                                         "79be667ef9dcbbac55a06295ce870b07"
	                                         "029bfcdb2dce28d959f2815b16f81798",
	                                         NULL),
	                              &(al_privkey){{0x56}}, now));
	/* 10,000 more half-open connections: all refused at once. */
	for (i = 0; i < 10000; i++) {
		e = al_peer_new_inbound(n.m, 1000 + i, &(al_privkey){{0x57}}, now);
		if (e != AL_E_PEER_HANDSHAKES_FULL)
			break;
	}
	CHECK(i == 10000);
	CHECK_ERR(e, AL_E_PEER_HANDSHAKES_FULL);
	CHECK(al_arena_used(&n.arena) == used_before);
	al_peer_counts(n.m, &pend, &est);
	CHECK(pend == 2 && est == 0);
	/* One closes: room for the raw peer, which completes. */
	CHECK_OK(al_peer_closed(n.m, &ev, 100, now));
	CHECK_ERR(ev.reason, AL_E_TRUNCATED); /* ended before Act One */
	CHECK_ERR(al_peer_closed(n.m, &ev, 100, now), AL_E_PEER_UNKNOWN_CONN);
	raw_connect(&n, 0x66);
	al_peer_counts(n.m, &pend, &est);
	CHECK(pend == 1 && est == 1);
	/* A second peer finishing its handshake over max_peers is closed, silently. */
	CHECK_OK(al_peer_closed(n.m, &ev, 101, now));
	{
		al_privkey ls, e2, me;
		al_pubkey rs;
		size_t len;

		memset(ls.k, 0x67, 32);
		memset(e2.k, 0x45, 32);
		memset(me.k, 0x56, 32);
		CHECK_OK(al_pubkey_parse(al_t_secp(), &rs, n.id, 33));
		CHECK_OK(al_noise_init_initiator(&raw, al_t_secp(), &ls, &rs, &e2));
		CHECK_OK(al_peer_new_inbound(n.m, 200, &me, now));
		{
			const uint8_t *p = al_noise_sendrec_buf(&raw, &len);
			size_t used;

			CHECK_OK(al_peer_read(n.m, 200, p, len, &used, now));
			CHECK_OK(al_noise_sendrec_ack(&raw, used));
			p = al_peer_send_buf(n.m, 200, &len);
			memcpy(al_noise_recvrec_buf(&raw, &used), p, len);
			CHECK_OK(al_noise_recvrec_ack(&raw, len));
			CHECK_OK(al_peer_send_ack(n.m, 200, len, now));
			p = al_noise_sendrec_buf(&raw, &len);
			CHECK_ERR(al_peer_read(n.m, 200, p, len, &used, now), AL_E_PEER_TOO_MANY);
		}
		CHECK(al_peer_send_buf(n.m, 200, &len) == NULL);
		CHECK(next(&n) && ev.kind == AL_PEER_EV_CLOSE && ev.conn == 200);
		CHECK_ERR(ev.reason, AL_E_PEER_TOO_MANY);
		CHECK_OK(al_peer_closed(n.m, &ev, 200, now));
	}
	CHECK_ERR(al_peer_read_eof(n.m, RC, now), AL_E_PEER_REMOTE_CLOSED);
	CHECK(next(&n) && ev.kind == AL_PEER_EV_CLOSE);
	CHECK_OK(al_peer_closed(n.m, &ev, RC, now));
	node_free(&n);

	/* Duplicate node id, inbound. */
	node_default(&n, 0x11);
	raw_connect(&n, 0x66);
	{
		al_privkey ls, e2, me;
		al_pubkey rs;
		size_t len, used;
		const uint8_t *p;

		memset(ls.k, 0x66, 32);
		memset(e2.k, 0x45, 32);
		memset(me.k, 0x56, 32);
		CHECK_OK(al_pubkey_parse(al_t_secp(), &rs, n.id, 33));
		CHECK_OK(al_noise_init_initiator(&raw2, al_t_secp(), &ls, &rs, &e2));
		CHECK_OK(al_peer_new_inbound(n.m, 300, &me, now));
		p = al_noise_sendrec_buf(&raw2, &len);
		CHECK_OK(al_peer_read(n.m, 300, p, len, &used, now));
		CHECK_OK(al_noise_sendrec_ack(&raw2, used));
		p = al_peer_send_buf(n.m, 300, &len);
		memcpy(al_noise_recvrec_buf(&raw2, &used), p, len);
		CHECK_OK(al_noise_recvrec_ack(&raw2, len));
		CHECK_OK(al_peer_send_ack(n.m, 300, len, now));
		p = al_noise_sendrec_buf(&raw2, &len);
		CHECK_ERR(al_peer_read(n.m, 300, p, len, &used, now), AL_E_PEER_ALREADY_CONNECTED);
		CHECK(next(&n) && ev.kind == AL_PEER_EV_CLOSE && ev.conn == 300);
		CHECK_OK(al_peer_closed(n.m, &ev, 300, now));
		CHECK_ERR(ev.reason, AL_E_PEER_ALREADY_CONNECTED);
	}
	/* Sends before init are refused. */
	node_free(&n);
	node_default(&n, 0x11);
	raw_handshake(&n, 0x66);
	CHECK_ERR(al_peer_send(n.m, RC, (const uint8_t *)"\x80\x01", 2, now), AL_E_PEER_NOT_READY);
	CHECK_ERR(al_peer_fail(n.m, RC, AL_OK, false, now), AL_E_ARG);
	CHECK_ERR(al_peer_send_ack(n.m, RC, 1, now), AL_E_ARG);
	node_free(&n);
}

static void test_config_memory(void)
{
	al_peer_config c;
	al_peer_mgr *m;
	al_arena a;
	size_t size;
	uint8_t *mem;
	al_features f;

	/* Electrum requires these offered. */
	al_peer_default_features(&f);
	CHECK(al_features_offered(&f, AL_FEATURE_DATA_LOSS_PROTECT));
	CHECK(al_features_offered(&f, AL_FEATURE_GOSSIP_QUERIES));
	CHECK(al_features_offered(&f, AL_FEATURE_STATIC_REMOTEKEY));
	CHECK_OK(al_features_check_deps(NULL, NULL, &f));

	base_cfg(&c, 0x11);
	c.max_peers = 64;
	c.max_pending_handshakes = 16;
	size = al_peer_arena_size(&c);
	CHECK(size >= 80 * al_peer_slot_size() + 64 * c.out_queue_bytes);
	fprintf(stderr,
	        "peer memory: slot (pending handshake) %zu B, established %zu B, arena for "
	        "64 peers + 16 handshakes %zu B\n",
	        al_peer_slot_size(), al_peer_slot_size() + al_peer_queue_size(&c), size);
	mem = malloc(size);
	al_arena_init(&a, mem, size);
	CHECK_OK(al_peer_mgr_init(&m, &a, al_t_secp(), &c, now));
	CHECK(al_arena_used(&a) <= size);
	al_peer_mgr_clear(m);
	al_arena_init(&a, mem, size - al_peer_slot_size());
	CHECK_ERR(al_peer_mgr_init(&m, &a, al_t_secp(), &c, now), AL_E_NOMEM);
	CHECK(m == NULL);
	al_arena_init(&a, mem, size);
	c.n_chains = 0;
	CHECK_ERR(al_peer_mgr_init(&m, &a, al_t_secp(), &c, now), AL_E_ARG);
	c.n_chains = 1;
	c.out_queue_bytes = 100;
	CHECK_ERR(al_peer_mgr_init(&m, &a, al_t_secp(), &c, now), AL_E_ARG);
	c.out_queue_bytes = 4096;
	c.ping_pong_bytes = 65532;
	CHECK_ERR(al_peer_mgr_init(&m, &a, al_t_secp(), &c, now), AL_E_ARG);
	c.ping_pong_bytes = 8;
	memset(c.node_key.k, 0, 32);
	CHECK_ERR(al_peer_mgr_init(&m, &a, al_t_secp(), &c, now), AL_E_PRIVKEY);
	memset(c.node_key.k, 0x11, 32);
	al_features_clear(&c.features);
	CHECK_OK(al_features_set(&c.features, 17)); /* basic_mpp alone */
	CHECK_ERR(al_peer_mgr_init(&m, &a, al_t_secp(), &c, now), AL_E_WIRE_FEATURE_DEPS);
	c.max_peers = UINT32_MAX;
	c.out_queue_bytes = SIZE_MAX / 2;
	CHECK(al_peer_arena_size(&c) == 0);
	free(mem);
}

int main(void)
{
	test_config_memory();
	test_connect_two();
	test_ping_rotation();
	test_backpressure_two();
	test_ping_pong_bytes();
	test_ping_backpressure_flood();
	test_timeouts();
	test_messages();
	test_init_rules();
	test_bad_transport();
	test_limits();
	(void)TESTNET;
	return al_t_finish();
}
