/* The channel engine: configuration, memory, the effect queue and its persist
 * barriers, failing a channel, and the inputs that are not one message family's. */
#include "ln/channel_int.h"

#include <string.h>

#include "util/mem.h"

/* --- configuration and memory ---------------------------------------------------- */

void al_chan_config_default(al_chan_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_htlcs = 30;
	/* Electrum 4.3.4 checks ours: dust 354..1000, to_self_delay <= 2016, reserve <=
	 * 1% of the funding, htlc_minimum_msat <= 1000, max_accepted_htlcs 5..483. */
	cfg->dust_limit = al_sat_of(546);
	cfg->to_self_delay = 144;
	cfg->htlc_minimum = al_msat_of(1);
	cfg->reserve_permille = 10;
	cfg->minimum_depth = 3;
	cfg->max_dust_exposure = al_msat_of(50000000);
	cfg->min_funding = al_sat_of(20000);
	cfg->max_funding = al_sat_of(AL_MAX_MONEY_SAT);
	cfg->max_to_self_delay = 2016;
	cfg->max_dust_limit = al_sat_of(2000);
	cfg->max_reserve_permille = 20;
	cfg->max_htlc_minimum = al_msat_of(1000000);
	cfg->min_max_accepted = 5;
	cfg->max_minimum_depth = 144;
	/* BOLT #2 leaves "too small for timely processing or unreasonably large" to the
	 * node; Electrum on regtest uses 45000 and raises it to 45001 right after
	 * opening. */
	cfg->min_feerate = 253;
	cfg->max_feerate = 200000;
	cfg->allow_anchors = true;
	cfg->auto_commit = true;
	cfg->htlc_grace_blocks = 3;
	cfg->closing_feerate = 1000;
}

al_err al_chan_config_check(const al_chan_config *cfg)
{
	if (cfg->max_htlcs == 0 || cfg->max_htlcs > AL_CHAN_MAX_HTLCS)
		return AL_E_ARG;
	if (cfg->dust_limit.sat < AL_LN_MIN_DUST_LIMIT || cfg->to_self_delay == 0)
		return AL_E_ARG;
	if (cfg->reserve_permille > 1000 || cfg->max_reserve_permille > 1000 ||
	    cfg->min_feerate > cfg->max_feerate || cfg->min_feerate < 253 ||
	    cfg->closing_feerate < 253)
		return AL_E_ARG;
	if (cfg->min_funding.sat > cfg->max_funding.sat ||
	    cfg->min_max_accepted > AL_CHAN_MAX_HTLCS)
		return AL_E_ARG;
	return AL_OK;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t fx_cap(const al_chan_config *cfg)
{
	return 4 * (size_t)cfg->max_htlcs + 64;
}

size_t al_chan__mem_size(const al_chan_config *cfg)
{
	size_t n = cfg->max_htlcs;

	return align8(sizeof(struct al_chan)) + align8(fx_cap(cfg) * sizeof(struct chan_fx)) +
	       2 * n * sizeof(struct chan_htlc) + 2 * 2 * n * sizeof(al_ecdsa_sig);
}

size_t al_chan_size(const al_chan_config *cfg)
{
	if (al_chan_config_check(cfg) != AL_OK)
		return 0;
	return al_chan__mem_size(cfg);
}

size_t al_chan_scratch_size(const al_chan_config *cfg)
{
	/* Measured by tests/unit/test_channel_limits.c: 736 KiB at the high-water mark
	 * with 483 HTLCs each way (a commitment with 966 HTLC outputs built, signed and
	 * its HTLC transactions checked, the largest message delivered), about 760
	 * bytes per HTLC; twice that per HTLC plus a base, for margin. */
	return 192 * 1024 + 2 * (size_t)cfg->max_htlcs * 1536 + 2 * AL_WIRE_MAX_MSG;
}

void al_chan__layout(al_chan *ch, void *mem, size_t len)
{
	uint8_t *p = mem;
	size_t n = ch->cfg.max_htlcs;

	(void)len;
	p += align8(sizeof(struct al_chan));
	ch->fx = (struct chan_fx *)p;
	ch->fx_cap = fx_cap(&ch->cfg);
	p += align8(ch->fx_cap * sizeof(struct chan_fx));
	ch->out = (struct chan_htlc *)p;
	p += n * sizeof(struct chan_htlc);
	ch->in = (struct chan_htlc *)p;
	p += n * sizeof(struct chan_htlc);
	ch->local_htlc_sigs = (al_ecdsa_sig *)p;
	p += 2 * n * sizeof(al_ecdsa_sig);
	ch->cs_htlc_sigs = (al_ecdsa_sig *)p;
}

void al_chan_clear(al_chan *ch)
{
	al_memzero(ch, al_chan__mem_size(&ch->cfg));
}

/* --- the effect queue ------------------------------------------------------------- */

static struct chan_fx *fx_at(al_chan *ch, size_t i)
{
	return &ch->fx[(ch->fx_head + i) % ch->fx_cap];
}

void al_chan__release_out(al_chan *ch)
{
	if (ch->env->out_held) {
		al_arena_release(ch->env->scratch, ch->env->out_mark);
		ch->env->out_held = false;
	}
}

al_err al_chan__begin(al_chan *ch)
{
	al_chan__release_out(ch);
	/* Room for the worst case of one input, and a little more for the inputs that
	 * cannot refuse (a disconnection). */
	if (ch->fx_cap - ch->fx_n < FX_RESERVE(ch) + 8)
		return AL_E_CHAN_BUSY;
	ch->stage = ch->fx_n;
	ch->dirty = false;
	return AL_OK;
}

void al_chan__push(al_chan *ch, uint8_t kind, uint8_t sub, uint64_t arg)
{
	struct chan_htlc *h;
	struct chan_fx *e;

	if (ch->fx_n == ch->fx_cap)
		return; /* cannot happen: al_chan__begin made room */
	e = fx_at(ch, ch->fx_n++);
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->sub = sub;
	e->arg = arg;
	/* The slot it names lives until the effect is out. */
	h = al_chan__pinned_slot(ch, e);
	if (h)
		h->pins++;
}

/* Forget queued effects [from, fx_n). */
static void truncate_fx(al_chan *ch, size_t from)
{
	while (ch->fx_n > from)
		al_chan__unpin(ch, fx_at(ch, --ch->fx_n));
}

void al_chan__push_persist(al_chan *ch, uint8_t kind, uint64_t arg)
{
	al_chan__push(ch, AL_CHAN_FX_PERSIST, kind, arg);
	if (ch->fx_n)
		fx_at(ch, ch->fx_n - 1)->id = ++ch->persist_id;
}

void al_chan__send(al_chan *ch, uint8_t msg, uint64_t arg)
{
	al_chan__push(ch, AL_CHAN_FX_SEND, msg, arg);
}

void al_chan__send_warning(al_chan *ch, al_err why)
{
	al_chan__send(ch, FXM_WARNING, 0);
	if (ch->fx_n)
		fx_at(ch, ch->fx_n - 1)->err = why;
}

void al_chan__event(al_chan *ch, al_chan_event_kind ev, uint64_t arg)
{
	al_chan__push(ch, AL_CHAN_FX_EVENT, (uint8_t)ev, arg);
}

/* Insert a PERSIST of the record at position `at` of the queue. */
static void insert_persist(al_chan *ch, size_t at)
{
	size_t i;

	if (ch->fx_n == ch->fx_cap)
		return;
	for (i = ch->fx_n; i > at; i--)
		*fx_at(ch, i) = *fx_at(ch, i - 1);
	ch->fx_n++;
	memset(fx_at(ch, at), 0, sizeof(struct chan_fx));
	fx_at(ch, at)->kind = AL_CHAN_FX_PERSIST;
	fx_at(ch, at)->sub = AL_CHAN_PERSIST_RECORD;
	fx_at(ch, at)->id = ++ch->persist_id;
}

void al_chan__commit(al_chan *ch)
{
	/* Persist before you speak: the record this input changed goes first. Before
	 * funding there is nothing the peer could rely on, and no record. */
	if (ch->dirty && (ch->state & AL_CHAN_ST_FUNDED))
		insert_persist(ch, ch->stage);
	ch->dirty = false;
	ch->stage = ch->fx_n;
}

void al_chan__abort(al_chan *ch)
{
	truncate_fx(ch, ch->stage);
	ch->dirty = false;
}

/* Drop every SEND not yet delivered (the connection is gone, or the channel failed).
 * A failing channel keeps its channel_reestablish (held behind a persist): a peer that
 * is behind learns it from that message alone (BOLT #2 data_loss_protect: "MUST NOT
 * broadcast its commitment transaction"); our error must not overtake it, or the
 * peer fails the channel with a commitment we hold the revocation of. */
static void drop_sends(al_chan *ch, bool keep_reestablish)
{
	size_t i, j = 0;

	for (i = 0; i < ch->fx_n; i++) {
		struct chan_fx e = *fx_at(ch, i);

		if (e.kind == AL_CHAN_FX_SEND && !(keep_reestablish && e.sub == FXM_REESTABLISH)) {
			if (i < ch->stage)
				ch->stage--;
			al_chan__unpin(ch, &e);
			continue;
		}
		*fx_at(ch, j++) = e;
	}
	ch->fx_n = j;
	if (ch->stage > ch->fx_n)
		ch->stage = ch->fx_n;
}

bool al_chan_next_effect(al_chan *ch, al_chan_fx *fx)
{
	struct chan_fx e;
	al_arena *a = ch->env->scratch;
	bool deliver;

	al_chan__release_out(ch);
	do {
		memset(fx, 0, sizeof(*fx));
		if (ch->fx_n == 0)
			return false;
		e = *fx_at(ch, 0);
		if (e.kind == AL_CHAN_FX_PERSIST) {
			/* A barrier: delivered once, removed by al_chan_persisted. */
			if (e.delivered)
				return false;
			fx_at(ch, 0)->delivered = true;
		} else {
			ch->fx_head = (ch->fx_head + 1) % ch->fx_cap;
			ch->fx_n--;
		}
		ch->stage = ch->fx_n;
		al_chan__release_out(ch);
		ch->env->out_mark = al_arena_mark(a);
		ch->env->out_held = true;
		deliver = al_chan__materialize(ch, &e, fx);
		/* Its bytes are made (from the slot): the slot may go now. */
		al_chan__unpin(ch, &e);
	} while (!deliver);
	return true;
}

al_err al_chan_persisted(al_chan *ch, uint64_t id)
{
	struct chan_fx *e;

	al_chan__release_out(ch);
	if (ch->fx_n == 0)
		return AL_E_ARG;
	e = fx_at(ch, 0);
	if (e->kind != AL_CHAN_FX_PERSIST || !e->delivered || e->id != id)
		return AL_E_ARG;
	ch->fx_head = (ch->fx_head + 1) % ch->fx_cap;
	ch->fx_n--;
	ch->stage = ch->fx_n;
	return AL_OK;
}

/* --- failing ------------------------------------------------------------------------ */

void al_chan__go_onchain(al_chan *ch)
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a);
	al_ln_commit c;
	al_err e;

	/* BOLT #2: "MUST NOT broadcast old (revoked) commitment transactions": the
	 * signer signs only our latest, unrevoked one. */
	e = al_chan__build(ch, a, SIDE_L, ch->local_next - 1, &c);
	if (e == AL_OK)
		e = al_signer_sign_holder(ch->signer, &c, &ch->force_sig);
	al_arena_release(a, mark);
	if (e != AL_OK)
		return;
	ch->state |= AL_CHAN_ST_FORCE_CLOSED;
	al_chan__push(ch, AL_CHAN_FX_BROADCAST, AL_CHAN_TX_COMMITMENT, 0);
	ch->dirty = true;
}

void al_chan__fail(al_chan *ch, al_err reason)
{
	if (ch->state & AL_CHAN_ST_FAILED)
		return;
	al_chan__abort(ch);
	drop_sends(ch, true);
	ch->state |= AL_CHAN_ST_FAILED;
	ch->err = reason;
	if (reason == AL_E_CHAN_DATA_LOSS)
		ch->state |= AL_CHAN_ST_DATA_LOSS;
	/* BOLT #5 "Failing a channel": broadcast our latest commitment, unless the
	 * funding never existed, a mutual close is signed, or we are behind (BOLT #2:
	 * "MUST NOT broadcast its commitment transaction"). */
	if ((ch->state & AL_CHAN_ST_FUNDED) &&
	    !(ch->state & (AL_CHAN_ST_DATA_LOSS | AL_CHAN_ST_CLOSED | AL_CHAN_ST_FORCE_CLOSED)))
		al_chan__go_onchain(ch);
	/* An `error` for the peer, unless the peer sent one: BOLT #1 "if a channel is in
	 * an error state... SHOULD retransmit the error packet". With data loss it asks
	 * the peer to close ("SHOULD send an `error` to request the peer to fail"). */
	if ((ch->state & AL_CHAN_ST_CONNECTED) && reason != AL_E_CHAN_PEER_ERROR)
		al_chan__send(ch, FXM_ERROR, 0);
	al_chan__event(ch, AL_CHAN_EV_FAILED, 0);
	ch->dirty = true;
}

/* --- small helpers for the message families ------------------------------------------- */

bool al_chan__ready_for_updates(const al_chan *ch)
{
	uint32_t need = AL_CHAN_ST_NORMAL | AL_CHAN_ST_CONNECTED | AL_CHAN_ST_REESTABLISHED;
	uint32_t bad = AL_CHAN_ST_FAILED | AL_CHAN_ST_CLOSED | AL_CHAN_ST_NEGOTIATING;

	return (ch->state & need) == need && !(ch->state & bad);
}

struct chan_htlc *al_chan__find(al_chan *ch, bool out, uint64_t id)
{
	struct chan_htlc *s = out ? ch->out : ch->in;
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++)
		if (s[i].used && !s[i].zombie && s[i].id == id)
			return &s[i];
	return NULL;
}

struct chan_htlc *al_chan__free_slot(al_chan *ch, bool out)
{
	struct chan_htlc *s = out ? ch->out : ch->in;
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++)
		if (!s[i].used)
			return &s[i];
	return NULL;
}

size_t al_chan__used_slots(const al_chan *ch, bool out)
{
	const struct chan_htlc *s = out ? ch->out : ch->in;
	size_t i, n = 0;

	for (i = 0; i < ch->cfg.max_htlcs; i++)
		n += s[i].used;
	return n;
}

/* --- messages --------------------------------------------------------------------- */

static bool zero32(const uint8_t *p)
{
	static const uint8_t z[32];

	return memcmp(p, z, 32) == 0;
}

/* Which id a message names: the temporary one before funding_signed. */
static bool for_us(const al_chan *ch, uint16_t type, const uint8_t *msg, size_t len)
{
	const uint8_t *id;

	if (type == AL_WIRE_OPEN_CHANNEL)
		return len >= 2 + 32 + 32 && ch->open_step == OPEN_WAIT_OPEN;
	if (len < 2 + 32)
		return false;
	id = msg + 2;
	/* BOLT #1: an error or warning "with all-zero channel_id" is for every channel. */
	if ((type == AL_WIRE_ERROR || type == AL_WIRE_WARNING) && zero32(id))
		return true;
	if (ch->state & AL_CHAN_ST_FUNDED)
		return memcmp(id, ch->channel_id, 32) == 0;
	if (memcmp(id, ch->temp_id, 32) == 0)
		return true;
	/* funding_signed introduces the channel_id. */
	return ch->open_step == OPEN_CREATED_SENT && memcmp(id, ch->channel_id, 32) == 0 &&
	       (type == AL_WIRE_FUNDING_SIGNED || type == AL_WIRE_ERROR || type == AL_WIRE_WARNING);
}

static al_err dispatch(al_chan *ch, uint16_t type, const union al_wire_any *u)
{
	switch (type) {
	case AL_WIRE_ERROR:
		/* BOLT #1: "upon receiving `error`... MUST fail the channel". */
		al_chan__fail(ch, AL_E_CHAN_PEER_ERROR);
		return AL_OK;
	case AL_WIRE_WARNING:
		al_chan__event(ch, AL_CHAN_EV_WARNING, 0);
		return AL_OK;
	case AL_WIRE_OPEN_CHANNEL:
	case AL_WIRE_ACCEPT_CHANNEL:
	case AL_WIRE_FUNDING_CREATED:
	case AL_WIRE_FUNDING_SIGNED:
	case AL_WIRE_CHANNEL_READY:
		return al_chan__recv_open(ch, type, u);
	case AL_WIRE_CHANNEL_REESTABLISH:
		return al_chan__recv_reestablish(ch, &u->channel_reestablish);
	default:
		break;
	}
	/* BOLT #2: "MUST wait to receive the other node's `channel_reestablish` message
	 * before sending any other messages for that channel." */
	if (!(ch->state & AL_CHAN_ST_REESTABLISHED))
		return AL_E_CHAN_UNEXPECTED;
	switch (type) {
	case AL_WIRE_UPDATE_ADD_HTLC:
	case AL_WIRE_UPDATE_FULFILL_HTLC:
	case AL_WIRE_UPDATE_FAIL_HTLC:
	case AL_WIRE_UPDATE_FAIL_MALFORMED_HTLC:
	case AL_WIRE_UPDATE_FEE:
		return al_chan__recv_update(ch, type, u);
	case AL_WIRE_COMMITMENT_SIGNED:
		return al_chan__recv_commit(ch, &u->commitment_signed);
	case AL_WIRE_REVOKE_AND_ACK:
		return al_chan__recv_revoke(ch, &u->revoke_and_ack);
	case AL_WIRE_SHUTDOWN:
		return al_chan__recv_shutdown(ch, &u->shutdown);
	case AL_WIRE_CLOSING_SIGNED:
		return al_chan__recv_closing(ch, &u->closing_signed);
	default:
		/* Dual funding, splicing, quiescence, simple close: not negotiated. */
		return AL_E_CHAN_UNEXPECTED;
	}
}

static bool handled(uint16_t type)
{
	switch (type) {
	case AL_WIRE_ERROR:
	case AL_WIRE_WARNING:
	case AL_WIRE_OPEN_CHANNEL:
	case AL_WIRE_ACCEPT_CHANNEL:
	case AL_WIRE_FUNDING_CREATED:
	case AL_WIRE_FUNDING_SIGNED:
	case AL_WIRE_CHANNEL_READY:
	case AL_WIRE_CHANNEL_REESTABLISH:
	case AL_WIRE_UPDATE_ADD_HTLC:
	case AL_WIRE_UPDATE_FULFILL_HTLC:
	case AL_WIRE_UPDATE_FAIL_HTLC:
	case AL_WIRE_UPDATE_FAIL_MALFORMED_HTLC:
	case AL_WIRE_UPDATE_FEE:
	case AL_WIRE_COMMITMENT_SIGNED:
	case AL_WIRE_REVOKE_AND_ACK:
	case AL_WIRE_SHUTDOWN:
	case AL_WIRE_CLOSING_SIGNED:
		return true;
	default:
		return false;
	}
}

al_err al_chan_recv(al_chan *ch, const uint8_t *msg, size_t len)
{
	al_wire_msg m;
	al_err e;

	al_chan__release_out(ch);
	AL_TRY(al_wire_read(&m, msg, len));
	if (m.ignored || !handled(m.type))
		return AL_E_WIRE_TYPE;
	if (!for_us(ch, m.type, msg, len))
		return AL_E_CHAN_CHANNEL_ID;
	/* BOLT #2: "if a channel is in an error state: ... ignore any other packets". */
	if (ch->state & (AL_CHAN_ST_FAILED | AL_CHAN_ST_ABANDONED))
		return AL_OK;
	if ((ch->state & AL_CHAN_ST_CLOSED) && m.type != AL_WIRE_ERROR &&
	    m.type != AL_WIRE_WARNING && m.type != AL_WIRE_CLOSING_SIGNED &&
	    m.type != AL_WIRE_CHANNEL_REESTABLISH && m.type != AL_WIRE_SHUTDOWN)
		return AL_OK;
	AL_TRY(al_chan__begin(ch));
	e = dispatch(ch, m.type, &m.u);
	if (e != AL_OK)
		al_chan__fail(ch, e);
	else
		al_chan__progress(ch);
	al_chan__commit(ch);
	return AL_OK;
}

/* --- connection ---------------------------------------------------------------------- */

al_err al_chan_peer_connected(al_chan *ch)
{
	al_chan__release_out(ch);
	if (ch->state & (AL_CHAN_ST_ABANDONED | AL_CHAN_ST_CONNECTED))
		return AL_E_CHAN_STATE;
	AL_TRY(al_chan__begin(ch));
	ch->state |= AL_CHAN_ST_CONNECTED;
	ch->state &= ~AL_CHAN_ST_REESTABLISHED;
	if (ch->state & AL_CHAN_ST_FAILED) {
		/* BOLT #2: "if a channel is in an error state: SHOULD retransmit the error
		 * packet". A channel_reestablish first (as Core Lightning does), unless we
		 * are the one behind: a peer that lost its data learns it from our numbers
		 * and the secret it revoked, before the error would make it broadcast a
		 * revoked commitment. Not once the funding output is spent: the chain says
		 * it all, and a peer that hangs up on errors (Electrum does) would lose its
		 * other channels with us at every reconnection. */
		bool spent = (ch->state & AL_CHAN_ST_CLOSED) != 0;
		if ((ch->state & AL_CHAN_ST_FUNDED) && !(ch->state & AL_CHAN_ST_DATA_LOSS) &&
		    !spent)
			al_chan__send_reestablish(ch);
		if (!spent)
			al_chan__send(ch, FXM_ERROR, 0);
	} else if (ch->state & AL_CHAN_ST_FUNDED) {
		/* A channel loaded from its record may hold the peer's uncommitted updates
		 * of the last connection (persisted with a preimage): reversed now, as on a
		 * disconnection. */
		al_chan__revert_remote_unsigned(ch);
		al_chan__send_reestablish(ch);
	}
	al_chan__commit(ch);
	return AL_OK;
}

void al_chan_peer_disconnected(al_chan *ch)
{
	al_chan__release_out(ch);
	if (!(ch->state & AL_CHAN_ST_CONNECTED))
		return;
	ch->stage = ch->fx_n;
	drop_sends(ch, false);
	ch->state &= ~(AL_CHAN_ST_CONNECTED | AL_CHAN_ST_REESTABLISHED);
	ch->dirty = false;
	if (!(ch->state & AL_CHAN_ST_FUNDED)) {
		/* BOLT #2: before funding_signed "SHOULD NOT remember the channel". */
		if (!(ch->state & (AL_CHAN_ST_ABANDONED | AL_CHAN_ST_FAILED))) {
			ch->state |= AL_CHAN_ST_ABANDONED;
			al_chan__event(ch, AL_CHAN_EV_CLOSED, 0);
		}
	} else if (!(ch->state & AL_CHAN_ST_FAILED)) {
		al_chan__revert_remote_unsigned(ch);
		/* BOLT #2: closing negotiation "restarts on reconnection". */
		ch->close.final_resent = false;
		if (!ch->close.done) {
			ch->close.sent = ch->close.received = false;
			ch->close.their_range = false;
		}
	}
	ch->stage = ch->fx_n;
}

/* --- the chain ------------------------------------------------------------------------ */

al_err al_chan_funding_depth(al_chan *ch, uint32_t depth, uint64_t scid)
{
	AL_TRY(al_chan__begin(ch));
	if (!(ch->state & AL_CHAN_ST_FUNDED)) {
		al_chan__abort(ch);
		return AL_E_CHAN_STATE;
	}
	if (scid && scid != ch->scid) {
		ch->scid = scid;
		ch->dirty = true;
	}
	ch->depth = depth;
	al_chan__progress(ch);
	al_chan__commit(ch);
	return AL_OK;
}

al_err al_chan_funding_spent(al_chan *ch, const uint8_t txid[32])
{
	AL_TRY(al_chan__begin(ch));
	if (!(ch->state & AL_CHAN_ST_FUNDED)) {
		al_chan__abort(ch);
		return AL_E_CHAN_STATE;
	}
	if (!(ch->state & AL_CHAN_ST_CLOSED) || memcmp(ch->spent_txid, txid, 32) != 0) {
		memcpy(ch->spent_txid, txid, 32);
		ch->state |= AL_CHAN_ST_CLOSED;
		al_chan__event(ch, AL_CHAN_EV_CLOSED, 1);
		ch->dirty = true;
	}
	al_chan__commit(ch);
	return AL_OK;
}

/* An HTLC that must be resolved on-chain now: an outgoing one past its expiry, or an
 * incoming one we know the preimage of whose expiry is near (BOLT #2 "SHOULD fail an
 * HTLC which has timed out"; BOLT #5). */
static bool htlc_due(const al_chan *ch, uint32_t height)
{
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];
		bool o_live = o->used && !o->zombie && o->add[SIDE_R] != NEVER &&
		              !(o->removal != RM_NONE && o->rem[SIDE_L] <= ch->local_revoked &&
		                o->rem[SIDE_R] <= ch->remote_revoked);
		bool in_live = in->used && in->removal == RM_FULFILL &&
		               !(in->rem[SIDE_L] <= ch->local_revoked &&
		                 in->rem[SIDE_R] <= ch->remote_revoked);

		if (o_live && (uint64_t)height >= (uint64_t)o->cltv + ch->cfg.htlc_grace_blocks)
			return true;
		if (in_live && (uint64_t)height + ch->cfg.htlc_grace_blocks >= in->cltv)
			return true;
	}
	return false;
}

al_err al_chan_block_height(al_chan *ch, uint32_t height)
{
	AL_TRY(al_chan__begin(ch));
	ch->height = height;
	if ((ch->state & AL_CHAN_ST_FUNDED) &&
	    !(ch->state & (AL_CHAN_ST_FAILED | AL_CHAN_ST_CLOSED)) && htlc_due(ch, height))
		al_chan__fail(ch, AL_E_CHAN_HTLC_TIMEOUT);
	al_chan__commit(ch);
	return AL_OK;
}

/* --- inspection ------------------------------------------------------------------------- */

uint32_t al_chan_state(const al_chan *ch)
{
	return ch->state;
}

al_err al_chan_error(const al_chan *ch)
{
	return ch->err;
}

void al_chan_channel_id(const al_chan *ch, uint8_t out[32])
{
	memcpy(out, (ch->state & AL_CHAN_ST_FUNDED) ? ch->channel_id : ch->temp_id, 32);
}

void al_chan_derive_channel_id(uint8_t out[32], const uint8_t funding_txid[32], uint16_t vout)
{
	size_t i;

	/* BOLT #2: "combining the `funding_txid` and the `funding_output_index`, using
	 * big-endian exclusive-OR (i.e. `funding_output_index` alters the last 2
	 * bytes)". The txid as it appears on the wire: internal byte order. */
	for (i = 0; i < 32; i++)
		out[i] = funding_txid[i];
	out[30] ^= (uint8_t)(vout >> 8);
	out[31] ^= (uint8_t)vout;
}

void al_chan_get_info(const al_chan *ch, al_chan_info *info)
{
	struct chan_view v;

	memset(info, 0, sizeof(*info));
	al_chan_channel_id(ch, info->channel_id);
	info->type = ch->type;
	info->funding = ch->funding;
	info->scid = ch->scid;
	info->htlcs_out = al_chan__used_slots(ch, true);
	info->htlcs_in = al_chan__used_slots(ch, false);
	if (!(ch->state & AL_CHAN_ST_FUNDED))
		return;
	info->local_number = ch->local_next - 1;
	info->remote_number = ch->remote_next - 1;
	if (al_chan__view(ch, SIDE_L, info->local_number, &v) == AL_OK) {
		info->local_to_local = v.owner;
		info->local_to_remote = v.other;
		info->local_offered = v.offered;
		info->local_received = v.received;
		if (!al_msat_add(&info->local_htlcs, v.offered, v.received))
			info->local_htlcs = al_msat_of(0);
		info->local_feerate = v.feerate;
	}
	if (al_chan__view(ch, SIDE_R, info->remote_number, &v) == AL_OK) {
		info->remote_to_local = v.owner;
		info->remote_to_remote = v.other;
		if (!al_msat_add(&info->remote_htlcs, v.offered, v.received))
			info->remote_htlcs = al_msat_of(0);
		info->remote_feerate = v.feerate;
	}
}

al_err al_chan_holder_commitment(const al_chan *ch, al_arena *a, al_ln_commit *c, al_ecdsa_sig *sig,
                                 const al_ecdsa_sig **htlc_sigs)
{
	if (!(ch->state & AL_CHAN_ST_FUNDED))
		return AL_E_CHAN_STATE;
	AL_TRY(al_chan__build(ch, a, SIDE_L, ch->local_next - 1, c));
	*sig = ch->local_sig;
	*htlc_sigs = ch->local_htlc_sigs;
	return AL_OK;
}

al_err al_chan_counterparty_commitment(const al_chan *ch, al_arena *a, al_ln_commit *c)
{
	if (!(ch->state & AL_CHAN_ST_FUNDED) && ch->open_step != OPEN_CREATED_SENT)
		return AL_E_CHAN_STATE;
	return al_chan__build(ch, a, SIDE_R, ch->remote_next - 1, c);
}
