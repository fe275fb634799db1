/* BOLT #1 peer manager: configuration, memory, connections, bytes in and out, events.
 * The protocol itself (init, ping/pong, dispatch, timers) is in peer_proto.c. */
#include "ln/peer.h"

#include <string.h>

#include "util/mem.h"
#include "ln/peer_int.h"
#include "ln/wire.h"

void al_peer_default_features(al_features *f)
{
	static const unsigned bits[] = {
	    AL_FEATURE_OPT(AL_FEATURE_DATA_LOSS_PROTECT),
	    AL_FEATURE_OPT(AL_FEATURE_GOSSIP_QUERIES),
	    AL_FEATURE_OPT(AL_FEATURE_VAR_ONION_OPTIN),
	    AL_FEATURE_OPT(AL_FEATURE_STATIC_REMOTEKEY),
	    AL_FEATURE_OPT(AL_FEATURE_PAYMENT_SECRET),
	    AL_FEATURE_OPT(AL_FEATURE_BASIC_MPP),
	    AL_FEATURE_OPT(AL_FEATURE_CHANNEL_TYPE),
	    /* What the channel engine (ln/channel.h) runs: large channels, the anchors
	     * channel type, any segwit version in shutdown. */
	    AL_FEATURE_OPT(AL_FEATURE_LARGE_CHANNEL),
	    AL_FEATURE_OPT(AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX),
	    AL_FEATURE_OPT(AL_FEATURE_SHUTDOWN_ANYSEGWIT),
	};
	size_t i;

	al_features_clear(f);
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		f->bits[bits[i] / 8] |= (uint8_t)(1u << (bits[i] % 8));
}

void al_peer_config_default(al_peer_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	al_peer_default_features(&cfg->features);
	cfg->max_peers = 64;
	cfg->max_pending_handshakes = 16;
	cfg->ping_interval_ms = 30000;
	cfg->handshake_timeout_ms = 10000;
	cfg->pong_timeout_ms = 20000;
	cfg->idle_timeout_ms = 90000;
	cfg->out_queue_bytes = 65536;
	cfg->ping_pong_bytes = 8;
	cfg->max_pings_per_interval = 20;
}

/* --- memory ---------------------------------------------------------------- */

size_t al_peer_slot_size(void)
{
	return sizeof(struct al_peer_slot);
}

size_t al_peer_queue_size(const al_peer_config *cfg)
{
	return cfg->out_queue_bytes + sizeof(uint32_t);
}

/* a + b, or SIZE_MAX on overflow (sticky). */
static size_t add_sz(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t mul_sz(size_t a, size_t b)
{
	return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

size_t al_peer_pool_size(uint32_t n_slots, uint32_t n_queues, size_t queue_bytes)
{
	size_t n = sizeof(al_peer_pool) + _Alignof(al_peer_pool);

	n = add_sz(
	    n, add_sz(mul_sz(n_slots, sizeof(struct al_peer_slot)), _Alignof(struct al_peer_slot)));
	n = add_sz(n, mul_sz(n_queues, queue_bytes));
	n = add_sz(n, add_sz(mul_sz(n_queues, sizeof(uint32_t)), _Alignof(uint32_t)));
	return n == SIZE_MAX ? 0 : n;
}

al_err al_peer_pool_init(al_peer_pool **out, al_arena *a, uint32_t n_slots, uint32_t n_queues,
                         size_t queue_bytes)
{
	size_t mark = al_arena_mark(a);
	al_peer_pool *p;
	al_err e;

	*out = NULL;
	if (n_slots == 0 || n_queues == 0 || n_slots >= SLOT_NONE ||
	    queue_bytes < AL_PEER_MIN_QUEUE || !al_peer_pool_size(n_slots, n_queues, queue_bytes))
		return AL_E_ARG;
	e = AL_ARENA_NEW(a, al_peer_pool, &p);
	if (e == AL_OK)
		e = al_arena_alloc(a, n_slots * sizeof(struct al_peer_slot),
		                   _Alignof(struct al_peer_slot), (void **)&p->slots);
	if (e == AL_OK)
		e = al_arena_alloc(a, n_queues * queue_bytes, 1, (void **)&p->qmem);
	if (e == AL_OK)
		e = al_arena_alloc(a, n_queues * sizeof(uint32_t), _Alignof(uint32_t),
		                   (void **)&p->qfree);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		return e;
	}
	p->n_slots = n_slots;
	p->queue_bytes = queue_bytes;
	p->n_queues = p->nqfree = n_queues;
	p->slot_free = 0;
	for (uint32_t i = 0; i < n_slots; i++)
		p->slots[i].pool_next = i + 1 < n_slots ? i + 1 : SLOT_NONE;
	for (uint32_t i = 0; i < n_queues; i++)
		p->qfree[i] = n_queues - 1 - i;
	*out = p;
	return AL_OK;
}

void al_peer_pool_usage(const al_peer_pool *p, uint32_t *slots, uint32_t *queues)
{
	*slots = p->slots_used;
	*queues = p->n_queues - p->nqfree;
}

/* The manager's own part: itself, its table and the FIFO links. */
static size_t mgr_size(uint32_t nslots)
{
	size_t n = sizeof(al_peer_mgr) + _Alignof(al_peer_mgr);

	n = add_sz(n, add_sz(mul_sz(nslots, sizeof(struct al_peer_slot *)), _Alignof(void *)));
	n = add_sz(n, add_sz(mul_sz(nslots, sizeof(uint32_t)), _Alignof(uint32_t)));
	return add_sz(n, nslots);
}

size_t al_peer_arena_size(const al_peer_config *cfg)
{
	size_t nslots = add_sz(cfg->max_peers, cfg->max_pending_handshakes), n;

	if (nslots >= SLOT_NONE)
		return 0;
	n = mgr_size((uint32_t)nslots);
	if (cfg->pool == NULL)
		n = add_sz(
		    n, al_peer_pool_size((uint32_t)nslots, cfg->max_peers, cfg->out_queue_bytes));
	return n >= SIZE_MAX / 2 ? 0 : n;
}

static al_err check_config(const al_secp *secp, const al_peer_config *cfg)
{
	if (cfg->n_chains < 1 || cfg->n_chains > AL_PEER_MAX_CHAINS || cfg->max_peers < 1 ||
	    cfg->max_pending_handshakes < 1 || cfg->out_queue_bytes < AL_PEER_MIN_QUEUE ||
	    cfg->ping_pong_bytes >= AL_WIRE_PONG_NO_REPLY ||
	    (uint64_t)cfg->max_peers + cfg->max_pending_handshakes >= SLOT_NONE ||
	    (cfg->pool && cfg->pool->queue_bytes != cfg->out_queue_bytes))
		return AL_E_ARG;
	if (al_peer_arena_size(cfg) == 0)
		return AL_E_OVERFLOW;
	if (!al_privkey_valid(secp, &cfg->node_key))
		return AL_E_PRIVKEY;
	return al_features_check_deps(NULL, NULL, &cfg->features);
}

static al_err alloc_all(al_peer_mgr *m, al_arena *arena)
{
	uint32_t i;

	AL_TRY(al_arena_alloc(arena, m->nslots * sizeof(struct al_peer_slot *), _Alignof(void *),
	                      (void **)&m->tab));
	AL_TRY(al_arena_alloc(arena, m->nslots * sizeof(uint32_t), _Alignof(uint32_t),
	                      (void **)&m->ev_link));
	AL_TRY(al_arena_alloc(arena, m->nslots, 1, (void **)&m->in_evq));
	for (i = 0; i < m->nslots; i++)
		m->ev_link[i] = SLOT_NONE;
	if (m->cfg.pool == NULL)
		AL_TRY(al_peer_pool_init(&m->cfg.pool, arena, m->nslots, m->cfg.max_peers,
		                         m->cfg.out_queue_bytes));
	m->pool = m->cfg.pool;
	return AL_OK;
}

al_err al_peer_mgr_init(al_peer_mgr **out, al_arena *arena, const al_secp *secp,
                        const al_peer_config *cfg, uint64_t now)
{
	size_t mark = al_arena_mark(arena);
	al_peer_mgr *m = NULL;
	al_pubkey pub;
	al_err err;

	(void)now;
	*out = NULL;
	AL_TRY(check_config(secp, cfg));
	err = AL_ARENA_NEW(arena, al_peer_mgr, &m);
	if (err != AL_OK)
		return err;
	m->secp = secp;
	m->cfg = *cfg;
	m->nslots = cfg->max_peers + cfg->max_pending_handshakes;
	m->ev_head = m->ev_tail = SLOT_NONE;
	err = alloc_all(m, arena);
	if (err == AL_OK)
		err = al_pubkey_from_privkey(secp, &pub, &m->cfg.node_key);
	if (err != AL_OK) {
		al_arena_release(arena, mark); /* wipes the key copy */
		return err;
	}
	al_pubkey_serialize(secp, m->node_id, &pub);
	*out = m;
	return AL_OK;
}

static void release_slot(al_peer_mgr *mgr, struct al_peer_slot *s);

void al_peer_mgr_clear(al_peer_mgr *mgr)
{
	uint32_t i;

	for (i = 0; i < mgr->nslots; i++)
		if (mgr->tab[i] != NULL)
			release_slot(mgr, mgr->tab[i]);
	al_privkey_clear(&mgr->cfg.node_key);
	mgr->nslots = 0;
	mgr->n_pending = mgr->n_established = 0;
	mgr->ev_head = mgr->ev_tail = SLOT_NONE;
	mgr->held = NULL;
}

void al_peer_node_id(const al_peer_mgr *mgr, uint8_t out[AL_PUBKEY_LEN])
{
	memcpy(out, mgr->node_id, AL_PUBKEY_LEN);
}

/* --- slots ------------------------------------------------------------------ */

static struct al_peer_slot *find(const al_peer_mgr *mgr, al_peer_conn conn)
{
	uint32_t i;

	for (i = 0; i < mgr->nslots; i++)
		if (mgr->tab[i] != NULL && mgr->tab[i]->conn == conn)
			return mgr->tab[i];
	return NULL;
}

static struct al_peer_slot *find_node(const al_peer_mgr *mgr, const uint8_t id[AL_PUBKEY_LEN],
                                      const struct al_peer_slot *except)
{
	uint32_t i;

	for (i = 0; i < mgr->nslots; i++) {
		const struct al_peer_slot *s = mgr->tab[i];

		if (s != NULL && s != except && !s->closing && s->has_node_id &&
		    memcmp(s->node_id, id, AL_PUBKEY_LEN) == 0)
			return (struct al_peer_slot *)s;
	}
	return NULL;
}

/* A free table entry and a slot from the pool for it. */
static al_err take_slot(al_peer_mgr *mgr, struct al_peer_slot **out)
{
	al_peer_pool *p = mgr->pool;
	struct al_peer_slot *s;
	uint32_t i;

	for (i = 0; i < mgr->nslots && mgr->tab[i] != NULL; i++)
		;
	if (i == mgr->nslots)
		return AL_E_PEER_HANDSHAKES_FULL;
	if (p->slot_free == SLOT_NONE)
		return AL_E_PEER_POOL_FULL;
	s = &p->slots[p->slot_free];
	p->slot_free = s->pool_next;
	p->slots_used++;
	memset(s, 0, sizeof(*s));
	s->state = SLOT_FREE;
	s->idx = i;
	mgr->tab[i] = s;
	*out = s;
	return AL_OK;
}

static uint32_t slot_index(const al_peer_mgr *mgr, const struct al_peer_slot *s)
{
	(void)mgr;
	return s->idx;
}

/* Give the slot back to the pool: wipe the engine (keys, frames) and the queue. A FIFO
 * entry of its table index stays and is skipped when it comes up. */
static void release_slot(al_peer_mgr *mgr, struct al_peer_slot *s)
{
	al_peer_pool *p = mgr->pool;

	if (mgr->held == s)
		mgr->held = NULL;
	if (s->established) {
		al_memzero(s->q, p->queue_bytes);
		p->qfree[p->nqfree++] = s->qidx;
		mgr->n_established--;
	} else {
		mgr->n_pending--;
	}
	mgr->tab[s->idx] = NULL;
	al_noise_clear(&s->noise);
	al_memzero(s, sizeof(*s));
	s->pool_next = p->slot_free;
	p->slot_free = (uint32_t)(s - p->slots);
	p->slots_used--;
}

static al_err new_conn(al_peer_mgr *mgr, struct al_peer_slot **out, al_peer_conn conn, uint64_t now)
{
	struct al_peer_slot *s;

	*out = NULL;
	if (find(mgr, conn) != NULL)
		return AL_E_PEER_CONN_EXISTS;
	if (mgr->n_pending >= mgr->cfg.max_pending_handshakes)
		return AL_E_PEER_HANDSHAKES_FULL;
	/* Table entries = max_peers + max_pending_handshakes and neither count is
	 * exceeded, so one is free; the pool may still be empty. */
	AL_TRY(take_slot(mgr, &s));
	s->conn = conn;
	s->reason = AL_OK;
	s->started = s->last_rx = s->window_start = now;
	*out = s;
	return AL_OK;
}

/* A slot whose engine could not start goes back unused. */
static al_err start_failed(al_peer_mgr *mgr, struct al_peer_slot *s, al_err err)
{
	mgr->n_pending++;
	release_slot(mgr, s);
	return err;
}

al_err al_peer_new_inbound(al_peer_mgr *mgr, al_peer_conn conn, const al_privkey *ephemeral,
                           uint64_t now)
{
	struct al_peer_slot *s;
	al_err err;

	AL_TRY(new_conn(mgr, &s, conn, now));
	err = al_noise_init_responder(&s->noise, mgr->secp, &mgr->cfg.node_key, ephemeral);
	if (err != AL_OK)
		return start_failed(mgr, s, err);
	s->state = SLOT_HANDSHAKE;
	mgr->n_pending++;
	return AL_OK;
}

al_err al_peer_new_outbound(al_peer_mgr *mgr, al_peer_conn conn,
                            const uint8_t their_id[AL_PUBKEY_LEN], const al_privkey *ephemeral,
                            uint64_t now)
{
	struct al_peer_slot *s;
	al_pubkey rs;
	al_err err;

	AL_TRY(al_pubkey_parse(mgr->secp, &rs, their_id, AL_PUBKEY_LEN));
	if (find_node(mgr, their_id, NULL) != NULL)
		return AL_E_PEER_ALREADY_CONNECTED;
	AL_TRY(new_conn(mgr, &s, conn, now));
	err = al_noise_init_initiator(&s->noise, mgr->secp, &mgr->cfg.node_key, &rs, ephemeral);
	if (err != AL_OK)
		return start_failed(mgr, s, err);
	s->state = SLOT_HANDSHAKE;
	s->outbound = true;
	s->has_node_id = true;
	memcpy(s->node_id, their_id, AL_PUBKEY_LEN);
	mgr->n_pending++;
	return AL_OK;
}

/* --- closing ---------------------------------------------------------------- */

bool al_peer__send_open(const struct al_peer_slot *s)
{
	size_t n;

	return al_noise_sendrec_buf(&s->noise, &n) != NULL;
}

void al_peer__check_close(al_peer_mgr *mgr, struct al_peer_slot *s)
{
	if (!s->closing || s->close_emitted)
		return;
	/* With nothing to say, close at once; else once the warning or error (or, when
	 * graceful, the queue) is out, unless the engine can no longer send at all. */
	if (s->flush && !(al_noise_state(&s->noise) & AL_NOISE_CLOSED) &&
	    (al_peer__send_open(s) || s->final != FINAL_NONE || (s->graceful && s->qlen != 0)))
		return;
	s->close_emitted = true;
	al_peer__event(mgr, s, EVF_CLOSE);
}

void al_peer__fail(al_peer_mgr *mgr, struct al_peer_slot *s, al_err reason, int final, uint64_t now)
{
	if (s->closing)
		return;
	s->closing = true;
	s->reason = reason;
	s->graceful = false;
	s->final = (uint8_t)(s->state >= SLOT_INIT ? final : FINAL_NONE);
	s->flush = s->final != FINAL_NONE;
	s->qhead = s->qlen = 0;
	s->pong_owed = s->ping_due = false;
	s->close_deadline = mgr->cfg.pong_timeout_ms ? now + mgr->cfg.pong_timeout_ms : 0;
	al_peer__check_close(mgr, s);
}

/* The stream ended: cleanly between frames, or inside an act or frame. */
static al_err eof_reason(struct al_peer_slot *s)
{
	al_err e = al_noise_recvrec_eof(&s->noise);

	return e == AL_OK ? AL_E_PEER_REMOTE_CLOSED : e;
}

al_err al_peer_read_eof(al_peer_mgr *mgr, al_peer_conn conn, uint64_t now)
{
	struct al_peer_slot *s = find(mgr, conn);

	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	if (!s->closing)
		al_peer__fail(mgr, s, eof_reason(s), FINAL_NONE, now);
	return s->reason;
}

static void fill_ids(al_peer_event *ev, const struct al_peer_slot *s)
{
	ev->conn = s->conn;
	ev->outbound = s->outbound;
	ev->has_node_id = s->has_node_id;
	memcpy(ev->node_id, s->node_id, AL_PUBKEY_LEN);
}

al_err al_peer_closed(al_peer_mgr *mgr, al_peer_event *ev, al_peer_conn conn, uint64_t now)
{
	struct al_peer_slot *s = find(mgr, conn);

	(void)now;
	memset(ev, 0, sizeof(*ev));
	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	ev->kind = AL_PEER_EV_DISCONNECTED;
	fill_ids(ev, s);
	ev->reason = s->closing ? s->reason : eof_reason(s);
	ev->was_connected = s->connected_delivered;
	release_slot(mgr, s);
	return AL_OK;
}

al_err al_peer_disconnect(al_peer_mgr *mgr, al_peer_conn conn, uint64_t now)
{
	struct al_peer_slot *s = find(mgr, conn);

	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	if (s->closing)
		return AL_OK;
	s->closing = true;
	s->graceful = true;
	s->flush = true;
	s->reason = AL_E_PEER_LOCAL_CLOSE;
	s->pong_owed = s->ping_due = false;
	s->close_deadline = mgr->cfg.pong_timeout_ms ? now + mgr->cfg.pong_timeout_ms : 0;
	al_peer__pump(mgr, s, now);
	return AL_OK;
}

al_err al_peer_fail(al_peer_mgr *mgr, al_peer_conn conn, al_err reason, bool send_error,
                    uint64_t now)
{
	struct al_peer_slot *s = find(mgr, conn);

	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	if (reason == AL_OK)
		return AL_E_ARG;
	al_peer__fail(mgr, s, reason, send_error ? FINAL_ERROR : FINAL_WARNING, now);
	al_peer__pump(mgr, s, now);
	return AL_OK;
}

/* --- bytes in --------------------------------------------------------------- */

static bool can_read(const al_peer_mgr *mgr, const struct al_peer_slot *s)
{
	if (s->closing || (s->evflags & EVF_MESSAGE) || mgr->held == s || s->pong_owed)
		return false;
	/* Back-pressure: a peer whose replies pile up is not read. */
	if (s->established && s->qlen > mgr->cfg.out_queue_bytes / 2)
		return false;
	return (al_noise_state(&s->noise) & AL_NOISE_RECVREC) != 0;
}

/* BOLT #8 is done: learn who the peer is and give it a queue, or refuse it. */
static void on_handshake(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now)
{
	al_pubkey pk;

	if (!s->has_node_id && al_noise_remote_pubkey(&s->noise, &pk) == AL_OK) {
		al_pubkey_serialize(mgr->secp, s->node_id, &pk);
		s->has_node_id = true;
	}
	s->state = SLOT_INIT;
	/* BOLT #1: "Implementations MUST use a single connection per peer". */
	if (find_node(mgr, s->node_id, s) != NULL) {
		al_peer__fail(mgr, s, AL_E_PEER_ALREADY_CONNECTED, FINAL_NONE, now);
		return;
	}
	if (mgr->n_established >= mgr->cfg.max_peers || mgr->pool->nqfree == 0) {
		al_peer__fail(mgr, s,
		              mgr->n_established >= mgr->cfg.max_peers ? AL_E_PEER_TOO_MANY
		                                                       : AL_E_PEER_POOL_FULL,
		              FINAL_NONE, now);
		return;
	}
	mgr->n_pending--;
	mgr->n_established++;
	s->established = true;
	s->qidx = mgr->pool->qfree[--mgr->pool->nqfree];
	s->q = mgr->pool->qmem + (size_t)s->qidx * mgr->cfg.out_queue_bytes;
	s->qhead = s->qlen = 0;
}

/* One chunk of received bytes into the engine, and what it completes. */
static void feed(al_peer_mgr *mgr, struct al_peer_slot *s, const uint8_t *in, size_t n,
                 uint64_t now)
{
	size_t room;
	uint8_t *p = al_noise_recvrec_buf(&s->noise, &room);
	al_err e;

	memcpy(p, in, n);
	s->last_rx = now;
	e = al_noise_recvrec_ack(&s->noise, n);
	if (e != AL_OK) {
		/* A bad act, MAC or length: the engine is closed, nothing can be sent. */
		al_peer__fail(mgr, s, e, FINAL_NONE, now);
		return;
	}
	if (s->state == SLOT_HANDSHAKE && al_noise_current_phase(&s->noise) == AL_NOISE_TRANSPORT)
		on_handshake(mgr, s, now);
	if (!s->closing && (al_noise_state(&s->noise) & AL_NOISE_RECVAPP))
		al_peer__on_message(mgr, s, now);
}

al_err al_peer_read(al_peer_mgr *mgr, al_peer_conn conn, const uint8_t *bytes, size_t len,
                    size_t *used, uint64_t now)
{
	struct al_peer_slot *s = find(mgr, conn);

	*used = 0;
	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	while (*used < len && can_read(mgr, s)) {
		size_t room, n;

		(void)al_noise_recvrec_buf(&s->noise, &room);
		n = len - *used < room ? len - *used : room;
		feed(mgr, s, bytes + *used, n, now);
		*used += n;
		al_peer__pump(mgr, s, now);
	}
	return s->closing ? s->reason : AL_OK;
}

bool al_peer_wants_read(const al_peer_mgr *mgr, al_peer_conn conn)
{
	const struct al_peer_slot *s = find(mgr, conn);

	return s != NULL && can_read(mgr, s);
}

/* --- bytes out -------------------------------------------------------------- */

const uint8_t *al_peer_send_buf(al_peer_mgr *mgr, al_peer_conn conn, size_t *len)
{
	const struct al_peer_slot *s = find(mgr, conn);

	*len = 0;
	return s == NULL ? NULL : al_noise_sendrec_buf(&s->noise, len);
}

al_err al_peer_send_ack(al_peer_mgr *mgr, al_peer_conn conn, size_t n, uint64_t now)
{
	struct al_peer_slot *s = find(mgr, conn);
	size_t avail;
	al_err e;

	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	(void)al_noise_sendrec_buf(&s->noise, &avail);
	if (n > avail)
		return AL_E_ARG;
	e = al_noise_sendrec_ack(&s->noise, n);
	if (e != AL_OK)
		al_peer__fail(mgr, s, e, FINAL_NONE, now);
	al_peer__pump(mgr, s, now);
	return AL_OK;
}

bool al_peer_wants_write(const al_peer_mgr *mgr, al_peer_conn conn)
{
	const struct al_peer_slot *s = find(mgr, conn);

	return s != NULL && al_peer__send_open(s);
}

/* --- messages from higher layers -------------------------------------------- */

static void q_put(struct al_peer_slot *s, size_t cap, const uint8_t *p, size_t n)
{
	size_t tail = (s->qhead + s->qlen) % cap;
	size_t first = cap - tail < n ? cap - tail : n;

	memcpy(s->q + tail, p, first);
	memcpy(s->q, p + first, n - first);
	s->qlen += n;
}

static al_err check_send(const struct al_peer_slot *s, const uint8_t *msg, size_t len)
{
	uint16_t type;

	if (s->closing)
		return AL_E_PEER_CLOSING;
	if (s->state != SLOT_READY)
		return AL_E_PEER_NOT_READY;
	if (len > AL_WIRE_MAX_MSG)
		return AL_E_NOISE_LENGTH;
	AL_TRY(al_wire_peek_type(&type, msg, len));
	if (type == AL_WIRE_INIT || type == AL_WIRE_PING || type == AL_WIRE_PONG)
		return AL_E_PEER_RESERVED_TYPE;
	return AL_OK;
}

al_err al_peer_send(al_peer_mgr *mgr, al_peer_conn conn, const uint8_t *msg, size_t len,
                    uint64_t now)
{
	struct al_peer_slot *s = find(mgr, conn);
	size_t cap = mgr->cfg.out_queue_bytes;
	uint8_t hdr[2];

	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	AL_TRY(check_send(s, msg, len));
	if (s->qlen == 0 && !s->pong_owed && !s->ping_due &&
	    (al_noise_state(&s->noise) & AL_NOISE_SENDAPP)) {
		size_t room;
		uint8_t *p = al_noise_sendapp_buf(&s->noise, &room);
		al_err e;

		memcpy(p, msg, len);
		e = al_noise_sendapp_ack(&s->noise, len);
		if (e != AL_OK) {
			al_peer__fail(mgr, s, e, FINAL_NONE, now);
			return e;
		}
		s->sent_msgs++;
		return AL_OK;
	}
	if (len + 2 > cap - s->qlen)
		return AL_E_PEER_QUEUE_FULL;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	q_put(s, cap, hdr, 2);
	q_put(s, cap, msg, len);
	al_peer__pump(mgr, s, now);
	return AL_OK;
}

al_err al_peer_send_to(al_peer_mgr *mgr, const uint8_t node_id[AL_PUBKEY_LEN], const uint8_t *msg,
                       size_t len, uint64_t now)
{
	struct al_peer_slot *s = find_node(mgr, node_id, NULL);

	if (s == NULL || s->state != SLOT_READY)
		return AL_E_PEER_NOT_CONNECTED;
	return al_peer_send(mgr, s->conn, msg, len, now);
}

/* --- events ------------------------------------------------------------------ */

void al_peer__event(al_peer_mgr *mgr, struct al_peer_slot *s, unsigned flag)
{
	uint32_t i = slot_index(mgr, s);

	s->evflags |= (uint8_t)flag;
	if (mgr->in_evq[i])
		return;
	mgr->in_evq[i] = 1;
	mgr->ev_link[i] = SLOT_NONE;
	if (mgr->ev_tail == SLOT_NONE)
		mgr->ev_head = i;
	else
		mgr->ev_link[mgr->ev_tail] = i;
	mgr->ev_tail = i;
}

/* The next FIFO entry: a slot (NULL for an entry whose slot was given back). */
static bool ev_pop(al_peer_mgr *mgr, struct al_peer_slot **out)
{
	uint32_t i = mgr->ev_head;

	if (i == SLOT_NONE)
		return false;
	mgr->ev_head = mgr->ev_link[i];
	if (mgr->ev_head == SLOT_NONE)
		mgr->ev_tail = SLOT_NONE;
	mgr->in_evq[i] = 0;
	mgr->ev_link[i] = SLOT_NONE;
	*out = mgr->tab[i];
	return true;
}

static void fill_connected(al_peer_event *ev, const struct al_peer_slot *s)
{
	ev->kind = AL_PEER_EV_CONNECTED;
	ev->features = s->negotiated;
	ev->remote_features = s->remote;
	ev->has_networks = s->has_networks;
	ev->num_networks = s->num_networks;
	ev->n_networks = s->n_networks;
	memcpy(ev->networks, s->networks, sizeof(ev->networks));
}

/* Deliver the slot's first pending event. */
static void take_event(al_peer_mgr *mgr, struct al_peer_slot *s, al_peer_event *ev)
{
	fill_ids(ev, s);
	if (s->evflags & EVF_CONNECTED) {
		s->evflags &= (uint8_t)~EVF_CONNECTED;
		s->connected_delivered = true;
		fill_connected(ev, s);
	} else if (s->evflags & EVF_MESSAGE) {
		s->evflags &= (uint8_t)~EVF_MESSAGE;
		ev->kind = AL_PEER_EV_MESSAGE;
		ev->msg = al_noise_recvapp_buf(&s->noise, &ev->len);
		ev->type = (uint16_t)(ev->msg[0] << 8 | ev->msg[1]);
		mgr->held = s;
	} else {
		s->evflags &= (uint8_t)~EVF_CLOSE;
		ev->kind = AL_PEER_EV_CLOSE;
		ev->reason = s->reason;
	}
}

bool al_peer_next_event(al_peer_mgr *mgr, al_peer_event *ev)
{
	struct al_peer_slot *s;

	memset(ev, 0, sizeof(*ev));
	if (mgr->held != NULL) {
		s = mgr->held;
		mgr->held = NULL;
		al_peer__release(mgr, s);
	}
	while (ev_pop(mgr, &s)) {
		if (s == NULL || s->evflags == 0 || s->state == SLOT_FREE)
			continue;
		take_event(mgr, s, ev);
		if (s->evflags != 0)
			al_peer__event(mgr, s, 0);
		return true;
	}
	return false;
}

/* --- timers and inspection -------------------------------------------------- */

void al_peer_timer(al_peer_mgr *mgr, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < mgr->nslots; i++)
		if (mgr->tab[i] != NULL && mgr->tab[i]->state != SLOT_FREE)
			al_peer__timer_slot(mgr, mgr->tab[i], now);
}

uint64_t al_peer_next_timer(const al_peer_mgr *mgr)
{
	uint64_t t = UINT64_MAX, d;
	uint32_t i;

	for (i = 0; i < mgr->nslots; i++) {
		if (mgr->tab[i] == NULL || mgr->tab[i]->state == SLOT_FREE)
			continue;
		d = al_peer__deadline(mgr, mgr->tab[i]);
		if (d < t)
			t = d;
	}
	return t;
}

al_err al_peer_get_info(const al_peer_mgr *mgr, al_peer_info *info, al_peer_conn conn)
{
	const struct al_peer_slot *s = find(mgr, conn);

	memset(info, 0, sizeof(*info));
	if (s == NULL)
		return AL_E_PEER_UNKNOWN_CONN;
	info->state = s->closing ? AL_PEER_CLOSING : (al_peer_state)s->state;
	info->outbound = s->outbound;
	info->has_node_id = s->has_node_id;
	memcpy(info->node_id, s->node_id, AL_PUBKEY_LEN);
	info->reason = s->reason;
	info->queued_bytes = s->qlen;
	info->sent_msgs = s->sent_msgs;
	info->recv_msgs = s->recv_msgs;
	info->ping_outstanding = s->ping_outstanding;
	return AL_OK;
}

void al_peer_counts(const al_peer_mgr *mgr, size_t *pending, size_t *established)
{
	*pending = mgr->n_pending;
	*established = mgr->n_established;
}
