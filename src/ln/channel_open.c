/* BOLT #2 Channel Establishment v1: open_channel, accept_channel, funding_created,
 * funding_signed, channel_ready. */
#include "ln/channel_int.h"

#include <string.h>

#include "btc/script.h"
#include "btc/tx.h"
#include "util/mem.h"
#include "ln/scripts.h"

/* --- shared pieces ------------------------------------------------------------------ */

void al_chan__funding_script(const al_chan *ch, al_wb *w)
{
	al_ln_funding_script(w, ch->env->secp, &ch->local.funding, &ch->remote.funding);
}

void al_chan__funding_spk(const al_chan *ch, al_wb *w)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb sw;

	/* BOLT #3 Funding Transaction Output: "a P2WSH to" the 2-of-2 funding script. */
	al_wb_init(&sw, ws, sizeof(ws));
	al_chan__funding_script(ch, &sw);
	if (!al_wb_ok(&sw)) {
		al_wb_fail(w, sw.err);
		return;
	}
	al_script_p2wsh(w, ws, sw.len);
}

void al_chan__type_bits(al_ln_chan_type type, al_features *f)
{
	/* BOLT #2 "Defined Channel Types": `option_static_remotekey` (bit 12), and
	 * `option_anchors` and `option_static_remotekey` (bits 22 and 12). */
	al_features_clear(f);
	if (al_features_set(f, AL_FEATURE_STATIC_REMOTEKEY) != AL_OK ||
	    (type == AL_LN_CHAN_ANCHORS &&
	     al_features_set(f, AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX) != AL_OK))
		al_features_clear(f); /* bits below 256 are always set */
}

/* The channel_type a peer sent, if it is one we run. */
static al_err parse_type(const al_chan *ch, bool present, const uint8_t *v, size_t len,
                         al_ln_chan_type *type)
{
	al_features got, want;

	/* BOLT #2: "if the message doesn't include a `channel_type`: fail the channel." */
	if (!present)
		return AL_E_CHAN_TYPE;
	al_features_clear(&got);
	if (al_features_merge_wire(&got, NULL, v, len) != AL_OK)
		return AL_E_CHAN_TYPE;
	al_chan__type_bits(AL_LN_CHAN_STATIC_REMOTEKEY, &want);
	if (memcmp(&got, &want, sizeof(got)) == 0) {
		*type = AL_LN_CHAN_STATIC_REMOTEKEY;
		return AL_OK;
	}
	al_chan__type_bits(AL_LN_CHAN_ANCHORS, &want);
	if (memcmp(&got, &want, sizeof(got)) == 0 && ch->cfg.allow_anchors &&
	    al_features_offered(&ch->peer_features, AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX)) {
		*type = AL_LN_CHAN_ANCHORS;
		return AL_OK;
	}
	/* "the `channel_type` is not suitable": zero-conf, scid-alias, unknown bits. */
	return AL_E_CHAN_TYPE;
}

static al_err parse_point(const al_chan *ch, al_pubkey *p, const uint8_t b[33])
{
	/* BOLT #2: "are not valid secp256k1 pubkeys in compressed format". */
	if (b[0] != 2 && b[0] != 3)
		return AL_E_PUBKEY;
	return al_pubkey_parse(ch->env->secp, p, b, 33);
}

/* The peer's keys and first point from open_channel / accept_channel. */
static al_err parse_keys(const al_chan *ch, struct chan_side *s, al_pubkey *first,
                         const uint8_t *funding, const uint8_t *rev, const uint8_t *pay,
                         const uint8_t *delayed, const uint8_t *htlc, const uint8_t *point)
{
	AL_TRY(parse_point(ch, &s->funding, funding));
	AL_TRY(parse_point(ch, &s->bp.revocation, rev));
	AL_TRY(parse_point(ch, &s->bp.payment, pay));
	AL_TRY(parse_point(ch, &s->bp.delayed_payment, delayed));
	AL_TRY(parse_point(ch, &s->bp.htlc, htlc));
	return parse_point(ch, first, point);
}

/* The terms of an opening, checked before any of them is kept. */
struct terms {
	al_ln_chan_type type;
	al_sat funding;
	al_msat push;
	uint32_t feerate;
	bool outbound;
	struct chan_side local, remote;
};

static uint64_t permille(al_sat v, uint32_t pm)
{
	return v.sat / 1000 * pm + v.sat % 1000 * pm / 1000;
}

/* The peer's parameters against our policy, open_channel and accept_channel alike
 * (BOLT #2: "Other fields have the same requirements as their counterparts in
 * `open_channel`"). */
static al_err check_side(const al_chan *ch, const struct terms *t)
{
	const al_chan_config *cfg = &ch->cfg;
	const struct chan_side *s = &t->remote;

	/* "`to_self_delay` is unreasonably large" */
	if (s->to_self_delay == 0 || s->to_self_delay > cfg->max_to_self_delay)
		return AL_E_CHAN_TO_SELF_DELAY;
	/* "`max_accepted_htlcs` is greater than 483"; MAY: "too small" */
	if (s->max_accepted > AL_CHAN_MAX_HTLCS || s->max_accepted < cfg->min_max_accepted ||
	    s->max_accepted == 0)
		return AL_E_CHAN_MAX_HTLCS;
	/* "`dust_limit_satoshis` is smaller than `354 satoshis`"; MAY: "too large" */
	if (s->dust_limit.sat < AL_LN_MIN_DUST_LIMIT || s->dust_limit.sat > cfg->max_dust_limit.sat)
		return AL_E_CHAN_DUST_LIMIT;
	/* "`dust_limit_satoshis` is greater than `channel_reserve_satoshis`" */
	if (s->dust_limit.sat > s->reserve.sat)
		return AL_E_CHAN_RESERVE_PARAM;
	/* MAY: "it considers `channel_reserve_satoshis` too large" (what we must keep) */
	if (s->reserve.sat > permille(t->funding, cfg->max_reserve_permille) &&
	    s->reserve.sat > s->dust_limit.sat)
		return AL_E_CHAN_RESERVE_PARAM;
	/* The reserves against the other side's dust limit: "if
	 * `channel_reserve_satoshis` is less than `dust_limit_satoshis` within the
	 * `open_channel` message", and the converse. */
	if (s->reserve.sat < t->local.dust_limit.sat || t->local.reserve.sat < s->dust_limit.sat)
		return AL_E_CHAN_RESERVE_PARAM;
	/* MAY: "it considers `htlc_minimum_msat` too large" */
	if (s->htlc_minimum.msat > cfg->max_htlc_minimum.msat)
		return AL_E_CHAN_HTLC_MINIMUM;
	/* MAY: "it considers `max_htlc_value_in_flight_msat` too small" */
	if (s->max_in_flight.msat == 0)
		return AL_E_CHAN_IN_FLIGHT_PARAM;
	return AL_OK;
}

/* The initial commitment: "the funder's amount for the initial commitment transaction
 * is not sufficient for full fee payment", "both `to_local` and `to_remote` amounts
 * for the initial commitment transaction are less than or equal to
 * `channel_reserve_satoshis`". */
static al_err check_initial(const struct terms *t)
{
	al_msat funding, funder, fee_msat;
	al_sat fee, funder_reserve, fundee_reserve;

	if (!al_sat_to_msat(&funding, t->funding))
		return AL_E_CHAN_FUNDING_AMOUNT;
	if (!al_msat_sub(&funder, funding, t->push))
		return AL_E_CHAN_PUSH;
	AL_TRY(al_ln_commit_base_fee(&fee, t->type, t->feerate, 0));
	if (t->type == AL_LN_CHAN_ANCHORS &&
	    !al_sat_add(&fee, fee, al_sat_of(2 * AL_LN_ANCHOR_SAT)))
		return AL_E_OVERFLOW;
	if (!al_sat_to_msat(&fee_msat, fee) || !al_msat_sub(&funder, funder, fee_msat))
		return AL_E_CHAN_INITIAL_BALANCE;
	/* The reserve each side must keep is the other side's demand. */
	funder_reserve = t->outbound ? t->remote.reserve : t->local.reserve;
	fundee_reserve = t->outbound ? t->local.reserve : t->remote.reserve;
	if (funder.msat / 1000 <= funder_reserve.sat && t->push.msat / 1000 <= fundee_reserve.sat)
		return AL_E_CHAN_INITIAL_BALANCE;
	return AL_OK;
}

/* Our side of the parameters, once the funding amount is known. */
static void set_local(const al_chan *ch, struct terms *t, al_sat other_dust)
{
	const al_chan_config *cfg = &ch->cfg;
	uint64_t reserve = permille(t->funding, cfg->reserve_permille);

	t->local.dust_limit = cfg->dust_limit;
	/* BOLT #2: channel_reserve_satoshis "greater than or equal to" the dust limits
	 * (ours as opener, the opener's as accepter). */
	if (reserve < cfg->dust_limit.sat)
		reserve = cfg->dust_limit.sat;
	if (reserve < other_dust.sat)
		reserve = other_dust.sat;
	t->local.reserve = al_sat_of(reserve);
	t->local.htlc_minimum = cfg->htlc_minimum;
	t->local.to_self_delay = cfg->to_self_delay;
	t->local.max_accepted = cfg->max_htlcs;
	/* Every millisatoshi of the channel may be in flight towards us. */
	if (!al_sat_to_msat(&t->local.max_in_flight, t->funding))
		t->local.max_in_flight = al_msat_of(UINT64_MAX);
	al_signer_basepoints(ch->signer, &t->local.bp, &t->local.funding);
}

static void keep_terms(al_chan *ch, const struct terms *t)
{
	al_msat funder, fundee = t->push;

	ch->type = t->type;
	ch->funding = t->funding;
	ch->push = t->push;
	ch->base_feerate = t->feerate;
	ch->local = t->local;
	ch->remote = t->remote;
	/* The funder's balance is the funding minus push_msat (checked to fit). */
	if (!al_sat_to_msat(&funder, t->funding) || !al_msat_sub(&funder, funder, t->push))
		funder = fundee = al_msat_of(0);
	ch->base_local = t->outbound ? funder : fundee;
	ch->base_remote = t->outbound ? fundee : funder;
}

static al_err init_common(al_chan **out, void *mem, size_t len, al_chan_env *env,
                          const al_chan_config *cfg, al_signer *signer, const al_features *peer,
                          const uint8_t *script, size_t script_len)
{
	al_chan *ch = mem;

	*out = NULL;
	AL_TRY(al_chan_config_check(cfg));
	if (script_len > AL_CHAN_MAX_SCRIPT)
		return AL_E_CHAN_SCRIPT;
	if (!mem || len < al_chan__mem_size(cfg) || ((uintptr_t)mem % 8) != 0 || !env ||
	    !env->secp || !env->scratch || !signer)
		return AL_E_ARG;
	memset(mem, 0, al_chan__mem_size(cfg));
	ch->env = env;
	ch->cfg = *cfg;
	ch->signer = signer;
	ch->peer_features = *peer;
	al_chan__layout(ch, mem, len);
	/* No script yet is allowed: al_chan_shutdown gives one. */
	if (script_len && !al_chan__script_ok(ch, script, script_len)) {
		al_memzero(mem, al_chan__mem_size(cfg));
		return AL_E_CHAN_SCRIPT;
	}
	memcpy(ch->shut_local, script, script_len);
	ch->shut_local_len = script_len;
	ch->close.feerate = cfg->closing_feerate;
	al_shachain_init(&ch->secrets);
	ch->minimum_depth = cfg->minimum_depth;
	/* The connection that carries the opening needs no reestablish. */
	ch->state = AL_CHAN_ST_CONNECTED | AL_CHAN_ST_REESTABLISHED;
	*out = ch;
	return AL_OK;
}

/* --- outbound ----------------------------------------------------------------------- */

al_err al_chan_open(al_chan **out, void *mem, size_t len, al_chan_env *env,
                    const al_chan_config *cfg, al_signer *signer, const al_chan_open_params *p)
{
	struct terms t;
	al_chan *ch;
	al_err e = AL_OK;

	AL_TRY(init_common(&ch, mem, len, env, cfg, signer, &p->peer_features, p->shutdown_script,
	                   p->shutdown_script_len));
	memset(&t, 0, sizeof(t));
	t.type = p->type;
	t.funding = p->funding;
	t.push = p->push;
	t.feerate = p->feerate_per_kw;
	t.outbound = true;
	if ((p->type != AL_LN_CHAN_STATIC_REMOTEKEY && p->type != AL_LN_CHAN_ANCHORS) ||
	    (p->type == AL_LN_CHAN_ANCHORS &&
	     (!cfg->allow_anchors ||
	      !al_features_offered(&p->peer_features, AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX))))
		e = AL_E_CHAN_TYPE;
	/* BOLT #2: "if both nodes advertised `option_support_large_channel`: MAY set
	 * `funding_satoshis` greater than or equal to 2^24 satoshi. otherwise: MUST set
	 * `funding_satoshis` to less than 2^24 satoshi." */
	else if (!al_sat_is_valid_money(p->funding) || p->funding.sat == 0 ||
	         (p->funding.sat >= AL_CHAN_LARGE_CHANNEL_SAT &&
	          !al_features_offered(&p->peer_features, AL_FEATURE_LARGE_CHANNEL)))
		e = AL_E_CHAN_FUNDING_AMOUNT;
	/* "MUST set `push_msat` to equal or less than 1000 * `funding_satoshis`." */
	else if (p->push.msat / 1000 > p->funding.sat ||
	         (p->push.msat / 1000 == p->funding.sat && p->push.msat % 1000))
		e = AL_E_CHAN_PUSH;
	else if (p->feerate_per_kw < cfg->min_feerate || p->feerate_per_kw > cfg->max_feerate)
		e = AL_E_CHAN_FEERATE;
	if (e == AL_OK) {
		/* Until accept_channel, against our own reserve demand only. */
		set_local(ch, &t, al_sat_of(0));
		e = check_initial(&t);
	}
	if (e == AL_OK)
		e = al_chan__begin(ch);
	if (e != AL_OK) {
		al_memzero(mem, al_chan__mem_size(cfg));
		return e;
	}
	ch->state |= AL_CHAN_ST_OUTBOUND;
	keep_terms(ch, &t);
	ch->announce = p->announce;
	memcpy(ch->temp_id, p->temporary_channel_id, 32);
	ch->open_step = OPEN_SENT;
	al_chan__send(ch, FXM_OPEN, 0);
	al_chan__commit(ch);
	*out = ch;
	return AL_OK;
}

al_err al_chan_init_inbound(al_chan **out, void *mem, size_t len, al_chan_env *env,
                            const al_chan_config *cfg, al_signer *signer,
                            const al_chan_accept_params *p)
{
	al_chan *ch;

	AL_TRY(init_common(&ch, mem, len, env, cfg, signer, &p->peer_features, p->shutdown_script,
	                   p->shutdown_script_len));
	ch->open_step = OPEN_WAIT_OPEN;
	*out = ch;
	return AL_OK;
}

/* The fields open_channel and accept_channel share, one side's, both ways (the two
 * message structs have them under the same names). */
#define PUT_SIDE(m, s, pts)                                                                        \
	do {                                                                                       \
		(m)->dust_limit_satoshis = (s)->dust_limit.sat;                                    \
		(m)->max_htlc_value_in_flight_msat = (s)->max_in_flight.msat;                      \
		(m)->channel_reserve_satoshis = (s)->reserve.sat;                                  \
		(m)->htlc_minimum_msat = (s)->htlc_minimum.msat;                                   \
		(m)->to_self_delay = (s)->to_self_delay;                                           \
		(m)->max_accepted_htlcs = (s)->max_accepted;                                       \
		memcpy((m)->funding_pubkey, (pts)[0], 33);                                         \
		memcpy((m)->revocation_basepoint, (pts)[1], 33);                                   \
		memcpy((m)->payment_basepoint, (pts)[2], 33);                                      \
		memcpy((m)->delayed_payment_basepoint, (pts)[3], 33);                              \
		memcpy((m)->htlc_basepoint, (pts)[4], 33);                                         \
		memcpy((m)->first_per_commitment_point, (pts)[5], 33);                             \
	} while (0)
#define GET_SIDE(m, s)                                                                             \
	do {                                                                                       \
		(s)->dust_limit = al_sat_of((m)->dust_limit_satoshis);                             \
		(s)->max_in_flight = al_msat_of((m)->max_htlc_value_in_flight_msat);               \
		(s)->reserve = al_sat_of((m)->channel_reserve_satoshis);                           \
		(s)->htlc_minimum = al_msat_of((m)->htlc_minimum_msat);                            \
		(s)->to_self_delay = (m)->to_self_delay;                                           \
		(s)->max_accepted = (m)->max_accepted_htlcs;                                       \
	} while (0)
#define GET_KEYS(ch, m, s, first)                                                                  \
	parse_keys((ch), (s), (first), (m)->funding_pubkey, (m)->revocation_basepoint,             \
	           (m)->payment_basepoint, (m)->delayed_payment_basepoint, (m)->htlc_basepoint,    \
	           (m)->first_per_commitment_point)

void al_chan__write_open(const al_chan *ch, al_wb *w, uint8_t msg)
{
	uint8_t type[8], pts[6][33];
	const al_secp *ctx = ch->env->secp;
	al_features f;
	al_pubkey point;
	size_t tlen;
	union al_wire_any u;

	al_chan__type_bits(ch->type, &f);
	tlen = al_features_wire_len(&f);
	if (al_features_to_wire(type, tlen, &f) != AL_OK ||
	    al_signer_holder_point(ch->signer, 0, &point) != AL_OK) {
		al_wb_fail(w, AL_E_ARG);
		return;
	}
	al_pubkey_serialize(ctx, pts[0], &ch->local.funding);
	al_pubkey_serialize(ctx, pts[1], &ch->local.bp.revocation);
	al_pubkey_serialize(ctx, pts[2], &ch->local.bp.payment);
	al_pubkey_serialize(ctx, pts[3], &ch->local.bp.delayed_payment);
	al_pubkey_serialize(ctx, pts[4], &ch->local.bp.htlc);
	al_pubkey_serialize(ctx, pts[5], &point);
	memset(&u, 0, sizeof(u));
	if (msg == FXM_OPEN) {
		struct al_wire_open_channel *m = &u.open_channel;

		memcpy(m->chain_hash, ch->cfg.chain_hash, 32);
		memcpy(m->temporary_channel_id, ch->temp_id, 32);
		m->funding_satoshis = ch->funding.sat;
		m->push_msat = ch->push.msat;
		m->feerate_per_kw = ch->base_feerate;
		PUT_SIDE(m, &ch->local, pts);
		/* "MUST set undefined bits in `channel_flags` to 0." */
		m->channel_flags = ch->announce ? 1 : 0;
		/* "if it includes `open_channel_tlvs`: MUST include
		 * `upfront_shutdown_script`" (empty: we commit to none, as Electrum). */
		m->tlvs.has_upfront_shutdown_script = true;
		m->tlvs.has_channel_type = true;
		m->tlvs.channel_type.type = type;
		m->tlvs.channel_type.type_len = tlen;
		al_wire_open_channel_write(w, m);
	} else {
		struct al_wire_accept_channel *m = &u.accept_channel;

		memcpy(m->temporary_channel_id, ch->temp_id, 32);
		m->minimum_depth = ch->minimum_depth;
		PUT_SIDE(m, &ch->local, pts);
		/* "MUST set `channel_type` to the `channel_type` from `open_channel`". */
		m->tlvs.has_upfront_shutdown_script = true;
		m->tlvs.has_channel_type = true;
		m->tlvs.channel_type.type = type;
		m->tlvs.channel_type.type_len = tlen;
		al_wire_accept_channel_write(w, m);
	}
}

/* --- the peer's open_channel ------------------------------------------------------- */

static al_err recv_open_channel(al_chan *ch, const struct al_wire_open_channel *m)
{
	const al_chan_config *cfg = &ch->cfg;
	struct terms t;
	al_pubkey first;

	if (ch->open_step != OPEN_WAIT_OPEN)
		return AL_E_CHAN_UNEXPECTED;
	/* "the `chain_hash` value is set to a hash of a chain that is unknown" */
	if (memcmp(m->chain_hash, cfg->chain_hash, 32) != 0)
		return AL_E_CHAN_CHAIN;
	memset(&t, 0, sizeof(t));
	AL_TRY(parse_type(ch, m->tlvs.has_channel_type, m->tlvs.channel_type.type,
	                  m->tlvs.channel_type.type_len, &t.type));
	t.funding = al_sat_of(m->funding_satoshis);
	t.push = al_msat_of(m->push_msat);
	t.feerate = m->feerate_per_kw;
	/* "`funding_satoshis` is greater than or equal to 2^24 and the receiver does not
	 * support `option_support_large_channel`"; MAY: "`funding_satoshis` is too
	 * small" */
	if (!al_sat_is_valid_money(t.funding) || t.funding.sat < cfg->min_funding.sat ||
	    t.funding.sat > cfg->max_funding.sat ||
	    (t.funding.sat >= AL_CHAN_LARGE_CHANNEL_SAT &&
	     !al_features_offered(&ch->peer_features, AL_FEATURE_LARGE_CHANNEL)))
		return AL_E_CHAN_FUNDING_AMOUNT;
	/* "`push_msat` is greater than `funding_satoshis` * 1000" */
	if (m->push_msat / 1000 > m->funding_satoshis ||
	    (m->push_msat / 1000 == m->funding_satoshis && m->push_msat % 1000))
		return AL_E_CHAN_PUSH;
	/* "it considers `feerate_per_kw` too small for timely processing or
	 * unreasonably large" */
	if (m->feerate_per_kw < cfg->min_feerate || m->feerate_per_kw > cfg->max_feerate)
		return AL_E_CHAN_FEERATE;
	GET_SIDE(m, &t.remote);
	AL_TRY(GET_KEYS(ch, m, &t.remote, &first));
	set_local(ch, &t, t.remote.dust_limit);
	AL_TRY(check_side(ch, &t));
	AL_TRY(check_initial(&t));
	keep_terms(ch, &t);
	/* "Only the least-significant bit of `channel_flags` is currently defined" */
	ch->announce = m->channel_flags & 1;
	memcpy(ch->temp_id, m->temporary_channel_id, 32);
	al_chan__set_remote_point(ch, 0, &first);
	ch->open_step = OPEN_ACCEPT_SENT;
	al_chan__send(ch, FXM_ACCEPT, 0);
	return AL_OK;
}

/* --- the peer's accept_channel ------------------------------------------------------ */

static al_err recv_accept(al_chan *ch, const struct al_wire_accept_channel *m)
{
	struct terms t;
	al_ln_chan_type type;
	al_pubkey first;

	if (ch->open_step != OPEN_SENT)
		return AL_E_CHAN_UNEXPECTED;
	/* "if `channel_type` does not match the `channel_type` from `open_channel`" */
	AL_TRY(parse_type(ch, m->tlvs.has_channel_type, m->tlvs.channel_type.type,
	                  m->tlvs.channel_type.type_len, &type));
	if (type != ch->type)
		return AL_E_CHAN_TYPE;
	/* MAY: "if `minimum_depth` is unreasonably large" */
	if (m->minimum_depth > ch->cfg.max_minimum_depth)
		return AL_E_CHAN_MIN_DEPTH;
	memset(&t, 0, sizeof(t));
	t.type = ch->type;
	t.funding = ch->funding;
	t.push = ch->push;
	t.feerate = ch->base_feerate;
	t.outbound = true;
	t.local = ch->local;
	GET_SIDE(m, &t.remote);
	AL_TRY(GET_KEYS(ch, m, &t.remote, &first));
	AL_TRY(check_side(ch, &t));
	AL_TRY(check_initial(&t));
	ch->remote = t.remote;
	/* Zero-conf is not offered: a minimum_depth of 0 waits for one block. */
	ch->minimum_depth = m->minimum_depth ? m->minimum_depth : 1;
	al_chan__set_remote_point(ch, 0, &first);
	ch->open_step = OPEN_WAIT_FUNDING_TX;
	al_chan__event(ch, AL_CHAN_EV_FUNDING_NEEDED, 0);
	return AL_OK;
}

al_err al_chan__signer_ready(al_chan *ch)
{
	al_signer_channel s;

	memset(&s, 0, sizeof(s));
	s.type = ch->type;
	s.holder_is_funder = ch->state & AL_CHAN_ST_OUTBOUND;
	memcpy(s.funding_txid, ch->funding_txid, 32);
	s.funding_vout = ch->funding_vout;
	s.funding_amount = ch->funding;
	s.counterparty_funding = ch->remote.funding;
	s.counterparty = ch->remote.bp;
	s.holder_selected_delay = ch->local.to_self_delay;
	s.counterparty_selected_delay = ch->remote.to_self_delay;
	return al_signer_ready(ch->signer, &s);
}

/* Sign the peer's commitment 0 into cs_sig (funding_created / funding_signed). */
static al_err sign_remote_initial(al_chan *ch)
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a);
	al_ln_commit c;
	al_pubkey point;
	al_err e;

	e = al_chan__remote_point(ch, 0, &point);
	if (e == AL_OK)
		e = al_chan__build(ch, a, SIDE_R, 0, &c);
	/* No HTLCs in commitment 0: no HTLC signatures. */
	if (e == AL_OK)
		e = al_signer_sign_counterparty(ch->signer, &c, &point, a, &ch->cs_sig, NULL);
	al_arena_release(a, mark);
	return e;
}

/* Check the peer's signature on our commitment 0 (and accept it in the signer). */
static al_err accept_local_initial(al_chan *ch, const uint8_t sig64[64])
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a);
	al_ecdsa_sig sig;
	al_ln_commit c;
	al_err e;

	/* BOLT #2: "if `signature` is incorrect OR non-compliant with LOW-S-standard
	 * rule: MUST send a `warning` and close the connection, or send an `error` and
	 * fail the channel" (we fail it). */
	if (al_ecdsa_sig_parse_compact(ch->env->secp, &sig, sig64) != AL_OK)
		return AL_E_CHAN_COMMIT_SIG;
	e = al_chan__build(ch, a, SIDE_L, 0, &c);
	if (e == AL_OK)
		e = al_signer_validate_holder(ch->signer, &c, a, &sig, NULL, 0);
	al_arena_release(a, mark);
	if (e == AL_OK)
		ch->local_sig = sig;
	return e;
}

/* Both commitments 0 exist: the channel is funded. */
static void funded(al_chan *ch)
{
	ch->state |= AL_CHAN_ST_FUNDED;
	ch->open_step = OPEN_DONE;
	ch->local_next = 1;
	ch->remote_next = 1;
	ch->n_local_htlc_sigs = 0;
	ch->n_cs_htlc_sigs = 0;
	ch->dirty = true;
}

al_err al_chan_funding_tx(al_chan *ch, const uint8_t *raw, size_t len, uint16_t vout)
{
	al_arena *a = ch->env->scratch;
	uint8_t spk[34], txid[32];
	size_t mark, i;
	al_wb w;
	al_tx tx;
	al_err e;

	if (ch->open_step != OPEN_WAIT_FUNDING_TX || (ch->state & AL_CHAN_ST_FAILED))
		return AL_E_CHAN_STATE;
	if (len > AL_CHAN_MAX_FUNDING_TX)
		return AL_E_TOO_LARGE;
	AL_TRY(al_chan__begin(ch));
	mark = al_arena_mark(a);
	e = al_tx_parse(&tx, a, raw, len);
	al_wb_init(&w, spk, sizeof(spk));
	al_chan__funding_spk(ch, &w);
	/* BOLT #2: "`funding_output_index` to the output number of that transaction
	 * that corresponds the funding transaction output"; "SHOULD use only BIP141
	 * (Segregated Witness) inputs" (a non-malleable txid). */
	if (e == AL_OK &&
	    (vout >= tx.n_out || tx.out[vout].amount.sat != ch->funding.sat ||
	     tx.out[vout].script.len != w.len || memcmp(tx.out[vout].script.p, spk, w.len) != 0))
		e = AL_E_CHAN_FUNDING_TX;
	for (i = 0; e == AL_OK && i < tx.n_in; i++)
		if (tx.in[i].n_witness == 0 || tx.in[i].script_sig.len != 0)
			e = AL_E_CHAN_FUNDING_TX;
	if (e == AL_OK)
		al_tx_txid(&tx, txid);
	al_arena_release(a, mark);
	if (e == AL_OK) {
		memcpy(ch->funding_txid, txid, 32);
		ch->funding_vout = vout;
		al_chan_derive_channel_id(ch->channel_id, txid, vout);
		e = al_chan__signer_ready(ch);
	}
	if (e == AL_OK)
		e = sign_remote_initial(ch);
	if (e != AL_OK) {
		al_chan__abort(ch);
		memset(ch->funding_txid, 0, 32);
		memset(ch->channel_id, 0, 32);
		return e;
	}
	memcpy(ch->funding_tx, raw, len);
	ch->funding_tx_len = len;
	ch->open_step = OPEN_CREATED_SENT;
	al_chan__send(ch, FXM_FUNDING_CREATED, 0);
	al_chan__commit(ch);
	return AL_OK;
}

static al_err recv_funding_created(al_chan *ch, const struct al_wire_funding_created *m)
{
	if (ch->open_step != OPEN_ACCEPT_SENT)
		return AL_E_CHAN_UNEXPECTED;
	memcpy(ch->funding_txid, m->funding_txid, 32);
	ch->funding_vout = m->funding_output_index;
	al_chan_derive_channel_id(ch->channel_id, m->funding_txid, m->funding_output_index);
	AL_TRY(al_chan__signer_ready(ch));
	AL_TRY(accept_local_initial(ch, m->signature));
	AL_TRY(sign_remote_initial(ch));
	funded(ch);
	/* Persist (the record goes first, then the monitor entry of the peer's commitment
	 * 0, which it can broadcast once it has our signature), then speak: funding_signed. */
	al_chan__push_persist(ch, AL_CHAN_PERSIST_MONITOR, 0);
	al_chan__send(ch, FXM_FUNDING_SIGNED, 0);
	al_chan__push(ch, AL_CHAN_FX_WATCH, 0, 0);
	al_chan__event(ch, AL_CHAN_EV_PENDING, 0);
	return AL_OK;
}

static al_err recv_funding_signed(al_chan *ch, const struct al_wire_funding_signed *m)
{
	if (ch->open_step != OPEN_CREATED_SENT)
		return AL_E_CHAN_UNEXPECTED;
	AL_TRY(accept_local_initial(ch, m->signature));
	funded(ch);
	/* The peer holds our signature of its commitment 0: its monitor entry is kept
	 * (after the record) before the funding transaction can confirm. */
	al_chan__push_persist(ch, AL_CHAN_PERSIST_MONITOR, 0);
	/* BOLT #2: "MUST NOT broadcast the funding transaction before receipt of a valid
	 * `funding_signed`"; "on receipt of a valid `funding_signed`: SHOULD broadcast
	 * the funding transaction" (after the record is durable). */
	al_chan__push(ch, AL_CHAN_FX_BROADCAST, AL_CHAN_TX_FUNDING, 0);
	al_chan__push(ch, AL_CHAN_FX_WATCH, 0, 0);
	al_chan__event(ch, AL_CHAN_EV_PENDING, 0);
	return AL_OK;
}

static void become_normal(al_chan *ch)
{
	if ((ch->state & AL_CHAN_ST_READY_SENT) && (ch->state & AL_CHAN_ST_READY_RECV) &&
	    !(ch->state & AL_CHAN_ST_NORMAL)) {
		ch->state |= AL_CHAN_ST_NORMAL;
		/* The funding transaction is buried: no need to keep it. */
		ch->funding_tx_len = 0;
		al_chan__event(ch, AL_CHAN_EV_READY, 0);
	}
}

static al_err recv_ready(al_chan *ch, const struct al_wire_channel_ready *m)
{
	al_pubkey p, known;

	if (!(ch->state & AL_CHAN_ST_FUNDED))
		return AL_E_CHAN_UNEXPECTED;
	AL_TRY(parse_point(ch, &p, m->second_per_commitment_point));
	/* "upon reconnection: MUST ignore any redundant `channel_ready` it receives" */
	if (ch->state & AL_CHAN_ST_READY_RECV) {
		if (al_chan__remote_point(ch, 1, &known) == AL_OK &&
		    !al_pubkey_eq(ch->env->secp, &known, &p))
			return AL_E_CHAN_UNEXPECTED;
		return AL_OK;
	}
	/* Commitment 1 cannot be signed before channel_ready: its point is in it. */
	if (ch->remote_next != 1)
		return AL_E_CHAN_UNEXPECTED;
	al_chan__set_remote_point(ch, 1, &p);
	ch->state |= AL_CHAN_ST_READY_RECV;
	ch->dirty = true;
	become_normal(ch);
	return AL_OK;
}

al_err al_chan__recv_open(al_chan *ch, uint16_t type, const union al_wire_any *u)
{
	switch (type) {
	case AL_WIRE_OPEN_CHANNEL:
		return recv_open_channel(ch, &u->open_channel);
	case AL_WIRE_ACCEPT_CHANNEL:
		return recv_accept(ch, &u->accept_channel);
	case AL_WIRE_FUNDING_CREATED:
		return recv_funding_created(ch, &u->funding_created);
	case AL_WIRE_FUNDING_SIGNED:
		return recv_funding_signed(ch, &u->funding_signed);
	default:
		return recv_ready(ch, &u->channel_ready);
	}
}

/* channel_ready once the funding is deep enough (BOLT #2: "MUST wait until the
 * funding transaction has reached `minimum_depth` before sending this message"). */
void al_chan__maybe_ready(al_chan *ch)
{
	uint32_t need = AL_CHAN_ST_FUNDED | AL_CHAN_ST_CONNECTED | AL_CHAN_ST_REESTABLISHED;

	if ((ch->state & need) != need || (ch->state & AL_CHAN_ST_READY_SENT) ||
	    (ch->state & (AL_CHAN_ST_FAILED | AL_CHAN_ST_CLOSED)) ||
	    ch->depth < ch->minimum_depth || ch->minimum_depth == 0)
		return;
	ch->state |= AL_CHAN_ST_READY_SENT;
	al_chan__send(ch, FXM_CHANNEL_READY, 0);
	ch->dirty = true;
	become_normal(ch);
}
