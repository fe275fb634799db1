/* BOLT #1 peer manager: the protocol. init both ways, ping/pong, the message rules,
 * warnings and errors before closing, and the timers. */
#include <string.h>

#include "ln/peer_int.h"
#include "ln/wire.h"

/* --- sending ----------------------------------------------------------------- */

/* BOLT #1: "MUST send `init` as the first Lightning message for any connection",
 * "SHOULD set `networks` to all chains it will gossip or open channels for." */
static void write_init(const al_peer_mgr *mgr, al_wb *w)
{
	uint8_t fbuf[AL_FEATURES_MAX_BITS / 8];
	struct al_wire_init m;

	memset(&m, 0, sizeof(m));
	if (al_wire_init_set_features(&m, fbuf, sizeof(fbuf), &mgr->cfg.features) != AL_OK) {
		al_wb_fail(w, AL_E_BUFSIZE);
		return;
	}
	m.tlvs.has_networks = true;
	m.tlvs.networks.chains = &mgr->cfg.chains[0][0];
	m.tlvs.networks.num_chains = mgr->cfg.n_chains;
	al_wire_init_write(w, &m);
}

/* BOLT #1: "when sending `warning`: MAY set `channel_id` to all zero if the warning
 * is not related to a specific channel"; an `error` with all-zero channel_id refers
 * to all channels. The data is our reason's text, printable ASCII. */
static void write_final(const struct al_peer_slot *s, al_wb *w)
{
	const char *text = al_err_str(s->reason);
	size_t n = strlen(text);

	if (n > AL_PEER_MAX_ERROR_TEXT)
		n = AL_PEER_MAX_ERROR_TEXT;
	if (s->final == FINAL_ERROR) {
		struct al_wire_error m;

		memset(&m, 0, sizeof(m));
		m.len = (uint16_t)n;
		m.data = (const uint8_t *)text;
		al_wire_error_write(w, &m);
	} else {
		struct al_wire_warning m;

		memset(&m, 0, sizeof(m));
		m.len = (uint16_t)n;
		m.data = (const uint8_t *)text;
		al_wire_warning_write(w, &m);
	}
}

/* BOLT #1, a node sending a `ping`: "SHOULD set `ignored` to 0s." (it is empty) */
static void write_ping(al_peer_mgr *mgr, struct al_peer_slot *s, al_wb *w, uint64_t now)
{
	struct al_wire_ping m;

	memset(&m, 0, sizeof(m));
	m.num_pong_bytes = mgr->cfg.ping_pong_bytes;
	al_wire_ping_write(w, &m);
	s->ping_due = false;
	s->ping_outstanding = true;
	s->ping_expect = m.num_pong_bytes;
	s->ping_sent_at = s->last_ping = now;
}

static void write_pong(struct al_peer_slot *s, al_wb *w)
{
	struct al_wire_ping ping;
	bool reply;

	memset(&ping, 0, sizeof(ping));
	ping.num_pong_bytes = s->pong_len;
	s->pong_owed = false;
	/* A failure stays in w. */
	if (al_wire_ping_reply(w, &reply, &ping) != AL_OK || !reply)
		al_wb_fail(w, AL_E_BUFSIZE);
}

static void q_get(struct al_peer_slot *s, size_t cap, uint8_t *out, size_t n)
{
	size_t first = cap - s->qhead < n ? cap - s->qhead : n;

	memcpy(out, s->q + s->qhead, first);
	memcpy(out + first, s->q, n - first);
	s->qhead = (s->qhead + n) % cap;
	s->qlen -= n;
}

static void write_queued(const al_peer_mgr *mgr, struct al_peer_slot *s, al_wb *w)
{
	size_t cap = mgr->cfg.out_queue_bytes, n;
	uint8_t hdr[2];

	q_get(s, cap, hdr, 2);
	n = (size_t)hdr[0] << 8 | hdr[1];
	if (n > w->cap) {
		al_wb_fail(w, AL_E_BUFSIZE);
		return;
	}
	q_get(s, cap, w->p, n);
	w->len = n;
}

/* Both inits are exchanged: the peer is usable. */
static void maybe_connected(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now)
{
	if (!s->init_sent || !s->init_received || s->state != SLOT_INIT || s->closing)
		return;
	s->state = SLOT_READY;
	s->last_ping = now;
	al_peer__event(mgr, s, EVF_CONNECTED);
}

/* The next message due, written into w; false if none. Order: our init, then when
 * closing the warning or error (or, when graceful, the queue), else an owed pong, our
 * ping, the queue. */
static bool next_message(al_peer_mgr *mgr, struct al_peer_slot *s, al_wb *w, uint64_t now)
{
	if (!s->init_sent && (!s->closing || s->final != FINAL_NONE)) {
		write_init(mgr, w);
		s->init_sent = true;
		maybe_connected(mgr, s, now);
	} else if (s->closing) {
		if (s->final != FINAL_NONE) {
			write_final(s, w);
			s->final = FINAL_NONE;
		} else if (s->graceful && s->qlen != 0) {
			write_queued(mgr, s, w);
		} else {
			return false;
		}
	} else if (s->pong_owed) {
		write_pong(s, w);
	} else if (s->ping_due) {
		write_ping(mgr, s, w, now);
	} else if (s->qlen != 0) {
		write_queued(mgr, s, w);
	} else {
		return false;
	}
	return true;
}

void al_peer__pump(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now)
{
	uint8_t *p;
	size_t cap;
	al_wb w;
	al_err e;

	while (s->state >= SLOT_INIT && (p = al_noise_sendapp_buf(&s->noise, &cap)) != NULL) {
		al_wb_init(&w, p, cap);
		if (!next_message(mgr, s, &w, now))
			break;
		e = al_wb_ok(&w) ? al_noise_sendapp_ack(&s->noise, w.len) : w.err;
		if (e != AL_OK) {
			al_peer__fail(mgr, s, e, FINAL_NONE, now);
			break;
		}
		s->sent_msgs++;
	}
	al_peer__check_close(mgr, s);
}

/* --- receiving --------------------------------------------------------------- */

void al_peer__release(al_peer_mgr *mgr, struct al_peer_slot *s)
{
	al_err e = al_noise_recvapp_ack(&s->noise);

	if (e != AL_OK)
		al_peer__fail(mgr, s, e, FINAL_NONE, s->last_rx);
}

/* BOLT #1, the receiving node: "upon receiving unknown _even_ feature bits that are
 * non-zero: MUST close the connection" and "if the feature vector does not set all
 * known, transitive dependencies: MUST close the connection" (al_wire_init_accept);
 * "upon receiving `networks` containing no common chains: MAY close the connection":
 * we do, with an `error`. A feature we require (even bit) that the peer does not
 * offer cannot be negotiated either. */
static al_err check_init(const al_peer_mgr *mgr, al_features *neg, al_features *remote,
                         const struct al_wire_init *m)
{
	const al_peer_config *cfg = &mgr->cfg;
	unsigned bit;
	size_t i;
	al_err e;

	e = al_wire_init_accept(neg, NULL, &cfg->features, cfg->chains[0], m);
	for (i = 1; e == AL_E_WIRE_CHAIN && i < cfg->n_chains; i++)
		e = al_wire_init_check_chain(m, cfg->chains[i]);
	if (e != AL_OK)
		return e;
	AL_TRY(al_wire_init_features(remote, NULL, m));
	for (bit = 0; bit < AL_FEATURES_MAX_BITS; bit += 2)
		if (al_features_has(&cfg->features, bit) && !al_features_offered(remote, bit))
			return AL_E_PEER_MISSING_FEATURE;
	return AL_OK;
}

static void on_init(al_peer_mgr *mgr, struct al_peer_slot *s, const struct al_wire_init *m,
                    uint64_t now)
{
	const struct al_wire_init_tlvs_networks *nw = &m->tlvs.networks;
	al_err e = check_init(mgr, &s->negotiated, &s->remote, m);

	if (e != AL_OK) {
		al_peer__fail(mgr, s, e, e == AL_E_WIRE_CHAIN ? FINAL_ERROR : FINAL_WARNING, now);
		return;
	}
	s->has_networks = m->tlvs.has_networks;
	s->num_networks = s->has_networks ? nw->num_chains : 0;
	s->n_networks = s->num_networks < AL_PEER_MAX_CHAINS ? s->num_networks : AL_PEER_MAX_CHAINS;
	if (s->n_networks != 0)
		memcpy(s->networks, nw->chains, 32 * s->n_networks);
	s->init_received = true;
	maybe_connected(mgr, s, now);
}

static void on_ping(al_peer_mgr *mgr, struct al_peer_slot *s, const struct al_wire_ping *m,
                    uint64_t now)
{
	const al_peer_config *cfg = &mgr->cfg;

	/* BOLT #1: "Limited precautions are recommended against `ping` flooding". */
	if (cfg->max_pings_per_interval != 0 && cfg->ping_interval_ms != 0) {
		if (now - s->window_start >= cfg->ping_interval_ms) {
			s->window_start = now;
			s->pings_in_window = 0;
		}
		if (++s->pings_in_window > cfg->max_pings_per_interval) {
			al_peer__fail(mgr, s, AL_E_PEER_PING_FLOOD, FINAL_WARNING, now);
			return;
		}
	}
	/* BOLT #1: "if `num_pong_bytes` is less than 65532: MUST respond by sending a
	 * `pong` message, with `byteslen` equal to `num_pong_bytes`. otherwise
	 * (`num_pong_bytes` is **not** less than 65532): MUST ignore the `ping`." The
	 * pong is written when the engine has room; until then the peer is not read. */
	if (m->num_pong_bytes < AL_WIRE_PONG_NO_REPLY) {
		s->pong_owed = true;
		s->pong_len = m->num_pong_bytes;
	}
	al_peer__release(mgr, s);
}

/* BOLT #1: "if `byteslen` does not correspond to any `ping`'s `num_pong_bytes` value
 * it has sent: MAY close the connection." We have at most one ping outstanding. */
static void on_pong(al_peer_mgr *mgr, struct al_peer_slot *s, const struct al_wire_pong *m,
                    uint64_t now)
{
	if (!s->ping_outstanding || !al_wire_pong_answers(m, s->ping_expect)) {
		al_peer__fail(mgr, s, AL_E_PEER_PONG_UNEXPECTED, FINAL_WARNING, now);
		return;
	}
	s->ping_outstanding = false;
	al_peer__release(mgr, s);
}

static bool own_type(uint16_t type)
{
	return type == AL_WIRE_INIT || type == AL_WIRE_PING || type == AL_WIRE_PONG ||
	       type == AL_WIRE_ERROR || type == AL_WIRE_WARNING;
}

/* The first message: BOLT #1 "MUST send `init` as the first Lightning message for
 * any connection"; the receiving node "MUST wait to receive `init` before sending any
 * other messages" (we send only our init until then). */
static void on_first(al_peer_mgr *mgr, struct al_peer_slot *s, const uint8_t *msg, size_t len,
                     uint16_t type, uint64_t now)
{
	al_wire_msg m;
	al_err e;

	if (type != AL_WIRE_INIT) {
		al_peer__fail(mgr, s, AL_E_PEER_FIRST_NOT_INIT, FINAL_WARNING, now);
		return;
	}
	e = al_wire_read(&m, msg, len);
	if (e != AL_OK) {
		al_peer__fail(mgr, s, e, FINAL_WARNING, now);
		return;
	}
	on_init(mgr, s, &m.u.init, now);
	if (!s->closing)
		al_peer__release(mgr, s);
}

void al_peer__on_message(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now)
{
	const al_peer_config *cfg = &mgr->cfg;
	size_t len;
	const uint8_t *msg = al_noise_recvapp_buf(&s->noise, &len);
	uint16_t type;
	al_wire_msg m;
	al_err e;

	memset(&m, 0, sizeof(m));
	s->recv_msgs++;
	e = al_wire_peek_type(&type, msg, len);
	if (e != AL_OK) {
		al_peer__fail(mgr, s, e, FINAL_WARNING, now);
		return;
	}
	if (!s->init_received) {
		on_first(mgr, s, msg, len, type, now);
		return;
	}
	if (!own_type(type) &&
	    (cfg->handles_type == NULL || !cfg->handles_type(cfg->handles_arg, type))) {
		/* BOLT #1: "upon receiving a message of _odd_, unknown type: MUST ignore
		 * the received message." "upon receiving a message of _even_, unknown
		 * type: MUST close the connection." */
		if (type % 2 == 1)
			al_peer__release(mgr, s);
		else
			al_peer__fail(mgr, s, AL_E_WIRE_UNKNOWN_EVEN, FINAL_WARNING, now);
		return;
	}
	/* BOLT #1: "upon receiving a known message with insufficient length for the
	 * contents: MUST close the connection"; an invalid `extension`: "MUST close the
	 * connection". Checked here for every type the schema defines. */
	if (al_wire_msgtype_name(type) != NULL) {
		e = al_wire_read(&m, msg, len);
		if (e != AL_OK) {
			al_peer__fail(mgr, s, e, FINAL_WARNING, now);
			return;
		}
	}
	switch (type) {
	case AL_WIRE_INIT:
		al_peer__fail(mgr, s, AL_E_PEER_DUP_INIT, FINAL_WARNING, now);
		return;
	case AL_WIRE_PING:
		on_ping(mgr, s, &m.u.ping, now);
		return;
	case AL_WIRE_PONG:
		on_pong(mgr, s, &m.u.pong, now);
		return;
	default:
		al_peer__event(mgr, s, EVF_MESSAGE);
		return;
	}
}

/* --- timers ------------------------------------------------------------------- */

static bool due(uint64_t since, uint64_t period, uint64_t now)
{
	return period != 0 && now - since >= period;
}

void al_peer__timer_slot(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now)
{
	const al_peer_config *cfg = &mgr->cfg;

	if (s->closing) {
		/* The host could not flush the final bytes in time: close anyway. */
		if (!s->close_emitted && s->close_deadline != 0 && now >= s->close_deadline) {
			s->close_emitted = true;
			al_peer__event(mgr, s, EVF_CLOSE);
		}
		return;
	}
	if (s->state == SLOT_HANDSHAKE) {
		if (due(s->started, cfg->handshake_timeout_ms, now))
			al_peer__fail(mgr, s, AL_E_PEER_HANDSHAKE_TIMEOUT, FINAL_NONE, now);
	} else if (s->state == SLOT_INIT) {
		if (due(s->started, cfg->handshake_timeout_ms, now))
			al_peer__fail(mgr, s, AL_E_PEER_INIT_TIMEOUT, FINAL_WARNING, now);
	} else if (s->ping_outstanding && due(s->ping_sent_at, cfg->pong_timeout_ms, now)) {
		/* BOLT #1: "if it doesn't receive a corresponding `pong`: MAY close the
		 * network connection, and MUST NOT fail the channels in this case." */
		al_peer__fail(mgr, s, AL_E_PEER_PONG_TIMEOUT, FINAL_WARNING, now);
	} else if (due(s->last_rx, cfg->idle_timeout_ms, now)) {
		al_peer__fail(mgr, s, AL_E_PEER_IDLE_TIMEOUT, FINAL_WARNING, now);
	} else if (!s->ping_outstanding && due(s->last_ping, cfg->ping_interval_ms, now)) {
		s->ping_due = true;
	}
	al_peer__pump(mgr, s, now);
}

static uint64_t at(uint64_t since, uint64_t period)
{
	if (period == 0)
		return UINT64_MAX;
	return since > UINT64_MAX - period ? UINT64_MAX : since + period;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t al_peer__deadline(const al_peer_mgr *mgr, const struct al_peer_slot *s)
{
	const al_peer_config *cfg = &mgr->cfg;
	uint64_t t = UINT64_MAX;

	if (s->closing)
		return !s->close_emitted && s->close_deadline != 0 ? s->close_deadline : UINT64_MAX;
	if (s->state != SLOT_READY)
		return at(s->started, cfg->handshake_timeout_ms);
	if (s->ping_outstanding)
		t = at(s->ping_sent_at, cfg->pong_timeout_ms);
	else if (!s->ping_due)
		t = at(s->last_ping, cfg->ping_interval_ms);
	return min_u64(t, at(s->last_rx, cfg->idle_timeout_ms));
}
