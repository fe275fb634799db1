/* BOLT #2 Normal Operation, the updates: update_add_htlc, update_fulfill_htlc,
 * update_fail_htlc, update_fail_malformed_htlc, update_fee, sent and received, with
 * the limits, reserves, dust exposure and fee spike buffer; and the views of a
 * commitment they all rest on. */
#include "ln/channel_int.h"

#include <string.h>

#include "crypto/hash.h"
#include "util/mem.h"

/* --- views --------------------------------------------------------------------------- */

bool al_chan__in_commit(const struct chan_htlc *h, int side, uint64_t n)
{
	return h->used && !h->zombie && h->add[side] <= n && !(h->rem[side] <= n);
}

uint32_t al_chan__feerate(const al_chan *ch, int side, uint64_t n)
{
	uint32_t rate = ch->base_feerate;
	size_t i;

	for (i = 0; i < ch->n_fees; i++)
		if (ch->fees[i].at[side] <= n)
			rate = ch->fees[i].rate;
	return rate;
}

static uint32_t latest_feerate(const al_chan *ch)
{
	return ch->n_fees ? ch->fees[ch->n_fees - 1].rate : ch->base_feerate;
}

/* Move `amt` from one balance to the other, or subtract it (to == NULL). */
static bool take(al_msat *from, al_msat *to, al_msat amt)
{
	if (!al_msat_sub(from, *from, amt))
		return false;
	return !to || al_msat_add(to, *to, amt);
}

al_err al_chan__view(const al_chan *ch, int side, uint64_t n, struct chan_view *v)
{
	al_msat ours = ch->base_local, theirs = ch->base_remote;
	al_msat *offered = side == SIDE_L ? &v->offered : &v->received;
	al_msat *received = side == SIDE_L ? &v->received : &v->offered;
	size_t *n_off = side == SIDE_L ? &v->n_offered : &v->n_received;
	size_t *n_rec = side == SIDE_L ? &v->n_received : &v->n_offered;
	size_t i;
	bool ok = true;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (o->used && !o->zombie && o->add[side] <= n) {
			if (o->rem[side] <= n)
				ok &= o->removal != RM_FULFILL || take(&ours, &theirs, o->amount);
			else {
				ok &= take(&ours, NULL, o->amount) &&
				      al_msat_add(offered, *offered, o->amount);
				(*n_off)++;
			}
		}
		if (in->used && !in->zombie && in->add[side] <= n) {
			if (in->rem[side] <= n)
				ok &= in->removal != RM_FULFILL || take(&theirs, &ours, in->amount);
			else {
				ok &= take(&theirs, NULL, in->amount) &&
				      al_msat_add(received, *received, in->amount);
				(*n_rec)++;
			}
		}
	}
	v->owner = side == SIDE_L ? ours : theirs;
	v->other = side == SIDE_L ? theirs : ours;
	v->feerate = al_chan__feerate(ch, side, n);
	return ok ? AL_OK : AL_E_CHANNEL_BALANCE;
}

/* --- projections: every known update applied ----------------------------------------- */

/* A removal in both sides' latest commitments. */
static bool removal_signed(const struct chan_htlc *h)
{
	return h->rem[SIDE_L] != NEVER && h->rem[SIDE_R] != NEVER;
}

/* How a projection counts updates in flight. PROJ_OURS (our own proposals) counts a
 * removal that would give us money only once both sides signed it; PROJ_PEER (a
 * peer's proposals) applies every removal; PROJ_SEEN is PROJ_PEER without the HTLCs
 * we offered that the peer may not have seen when it sent its update. BOLT #2
 * update_fee: "There is a possibility of a race, as the recipient can add new HTLCs
 * before it receives the `update_fee`"; an honest sender judged its update_fee (or
 * its HTLC, as the funder) without them, and BOLT #3 lowers the fee when it cannot
 * be paid. */
enum proj_mode { PROJ_PEER, PROJ_OURS, PROJ_SEEN };

/* Our offered HTLC is one the peer had seen before its next message: it signed a
 * commitment of ours holding it, or revoked its last commitment without it. */
static bool seen_by_peer(const al_chan *ch, const struct chan_htlc *h)
{
	return h->add[SIDE_L] != NEVER ||
	       (h->add[SIDE_R] != NEVER && h->add[SIDE_R] <= ch->remote_revoked);
}

/* Is the HTLC still to be counted after every update known (see proj_mode)? */
static bool proj_present(const al_chan *ch, const struct chan_htlc *h, bool out,
                         enum proj_mode mode)
{
	bool strict = mode == PROJ_OURS;

	if (!h->used || h->zombie)
		return false;
	if (mode == PROJ_SEEN && out && !seen_by_peer(ch, h))
		return false;
	if (h->removal == RM_NONE)
		return true;
	if (out && h->removal == RM_FULFILL)
		return false; /* money we lose: always counted as gone */
	return strict && !removal_signed(h);
}

struct proj {
	al_msat ours, theirs;
	size_t n_out, n_in;
	al_msat out_sum, in_sum;
	uint32_t feerate;
};

static al_err project(const al_chan *ch, enum proj_mode mode, struct proj *p)
{
	size_t i;
	bool ok = true;

	memset(p, 0, sizeof(*p));
	p->ours = ch->base_local;
	p->theirs = ch->base_remote;
	p->feerate = latest_feerate(ch);
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (o->used && !o->zombie) {
			if (proj_present(ch, o, true, mode)) {
				ok &= take(&p->ours, NULL, o->amount) &&
				      al_msat_add(&p->out_sum, p->out_sum, o->amount);
				p->n_out++;
			} else if (o->removal == RM_FULFILL) {
				ok &= take(&p->ours, &p->theirs, o->amount);
			}
		}
		if (in->used && !in->zombie) {
			if (proj_present(ch, in, false, mode)) {
				ok &= take(&p->theirs, NULL, in->amount) &&
				      al_msat_add(&p->in_sum, p->in_sum, in->amount);
				p->n_in++;
			} else if (in->removal == RM_FULFILL) {
				ok &= take(&p->theirs, &p->ours, in->amount);
			}
		}
	}
	return ok ? AL_OK : AL_E_CHANNEL_BALANCE;
}

/* The HTLC as the owner of side's commitment sees it. */
static al_ln_htlc as_seen(const struct chan_htlc *h, bool out, int side)
{
	al_ln_htlc l;

	memset(&l, 0, sizeof(l));
	l.offered = out == (side == SIDE_L);
	l.amount = h->amount;
	l.cltv_expiry = h->cltv;
	return l;
}

static al_sat dust_limit_of(const al_chan *ch, int side)
{
	return side == SIDE_L ? ch->local.dust_limit : ch->remote.dust_limit;
}

/* Untrimmed HTLCs and the trimmed (dust) total on side's commitment, over the
 * projection (plus `extra`, an HTLC not yet in a slot). */
static void dust_of(const al_chan *ch, int side, enum proj_mode mode, uint32_t feerate,
                    const struct chan_htlc *extra, bool extra_out, size_t *untrimmed, al_msat *dust)
{
	al_sat limit = dust_limit_of(ch, side);
	size_t i, k;

	*untrimmed = 0;
	*dust = al_msat_of(0);
	for (i = 0; i <= ch->cfg.max_htlcs; i++) {
		for (k = 0; k < 2; k++) {
			const struct chan_htlc *h;
			bool out = k == 0;
			al_ln_htlc l;

			if (i == ch->cfg.max_htlcs) {
				if (k == 1 || !extra)
					continue;
				h = extra;
				out = extra_out;
			} else {
				h = out ? &ch->out[i] : &ch->in[i];
				if (!proj_present(ch, h, out, mode))
					continue;
			}
			l = as_seen(h, out, side);
			if (al_ln_htlc_is_trimmed(ch->type, feerate, limit, &l)) {
				if (!al_msat_add(dust, *dust, h->amount))
					*dust = al_msat_of(UINT64_MAX);
			} else {
				(*untrimmed)++;
			}
		}
	}
}

al_err al_chan__fee(const al_chan *ch, int side, const struct chan_view *v, uint32_t feerate,
                    size_t extra, al_msat *fee)
{
	al_sat f;

	(void)v;
	AL_TRY(al_ln_commit_base_fee(&f, ch->type, feerate, extra));
	/* BOLT #3: the funder also pays the two anchors. */
	if (ch->type == AL_LN_CHAN_ANCHORS && !al_sat_add(&f, f, al_sat_of(2 * AL_LN_ANCHOR_SAT)))
		return AL_E_OVERFLOW;
	return al_sat_to_msat(fee, f) ? AL_OK : AL_E_OVERFLOW;
}

/* What the funder pays on side's projected commitment at `feerate`, with `extra`
 * (may be NULL) added and `more` untrimmed HTLCs on top. */
static al_err proj_fee(const al_chan *ch, int side, enum proj_mode mode, uint32_t feerate,
                       const struct chan_htlc *extra, bool extra_out, size_t more, al_msat *fee)
{
	size_t untrimmed;
	al_msat dust;

	dust_of(ch, side, mode, feerate, extra, extra_out, &untrimmed, &dust);
	return al_chan__fee(ch, side, NULL, feerate, untrimmed + more, fee);
}

/* Is `bal` at least `fee` plus `reserve` sat? */
static bool covers(al_msat bal, al_msat fee, al_sat reserve)
{
	al_msat need, r;

	return al_sat_to_msat(&r, reserve) && al_msat_add(&need, fee, r) &&
	       !al_msat_less(bal, need);
}

/* --- our proposals -------------------------------------------------------------------- */

/* The checks on an HTLC we would offer (BOLT #2 update_add_htlc, "A sending node"). */
static al_err check_our_add(const al_chan *ch, const struct chan_htlc *h)
{
	bool funder = ch->state & AL_CHAN_ST_OUTBOUND;
	al_msat fee_l, fee_r, spike_l, spike_r, max_fee, dust, left;
	struct proj p;
	size_t untrimmed;
	uint32_t rate, spike;

	/* "MUST offer `amount_msat` greater than 0"; "MUST NOT offer `amount_msat` below
	 * the receiving node's `htlc_minimum_msat`" */
	if (h->amount.msat == 0 || al_msat_less(h->amount, ch->remote.htlc_minimum))
		return AL_E_CHAN_HTLC_AMOUNT;
	/* "MUST set `cltv_expiry` less than 500000000" */
	if (h->cltv >= AL_LN_LOCKTIME_THRESHOLD)
		return AL_E_CHAN_HTLC_CLTV;
	AL_TRY(project(ch, PROJ_OURS, &p));
	/* "if result would be offering more than the remote's `max_accepted_htlcs` HTLCs,
	 * in the remote commitment transaction: MUST NOT add an HTLC." */
	if (p.n_out + 1 > ch->remote.max_accepted || !al_chan__free_slot((al_chan *)ch, true))
		return AL_E_CHAN_HTLC_COUNT;
	/* "if the total value of offered HTLCs would exceed the remote's
	 * `max_htlc_value_in_flight_msat`: MUST NOT add an HTLC." */
	if (!al_msat_add(&p.out_sum, p.out_sum, h->amount) ||
	    al_msat_less(ch->remote.max_in_flight, p.out_sum))
		return AL_E_CHAN_HTLC_IN_FLIGHT;
	if (!al_msat_sub(&left, p.ours, h->amount) ||
	    !covers(left, al_msat_of(0), ch->remote.reserve))
		return AL_E_CHAN_RESERVE;
	rate = p.feerate;
	AL_TRY(proj_fee(ch, SIDE_L, PROJ_OURS, rate, h, true, 0, &fee_l));
	AL_TRY(proj_fee(ch, SIDE_R, PROJ_OURS, rate, h, true, 0, &fee_r));
	max_fee = al_msat_less(fee_l, fee_r) ? fee_r : fee_l;
	if (funder) {
		/* "MUST NOT offer `amount_msat` if, after adding that HTLC to its
		 * commitment transaction, it cannot pay the fee for either the local or
		 * remote commitment transaction at the current `feerate_per_kw` while
		 * maintaining its channel reserve" (anchors included in the fee). */
		if (!covers(left, max_fee, ch->remote.reserve))
			return AL_E_CHAN_RESERVE;
		/* "SHOULD NOT offer... if... its remaining balance doesn't allow it to pay
		 * the commitment transaction fee when receiving or sending a future
		 * additional non-dust HTLC while maintaining its channel reserve. It is
		 * recommended that this "fee spike buffer" can handle twice the current
		 * `feerate_per_kw`" */
		spike = rate > UINT32_MAX / 2 ? UINT32_MAX : rate * 2;
		AL_TRY(proj_fee(ch, SIDE_L, PROJ_OURS, spike, h, true, 1, &spike_l));
		AL_TRY(proj_fee(ch, SIDE_R, PROJ_OURS, spike, h, true, 1, &spike_r));
		max_fee = al_msat_less(spike_l, spike_r) ? spike_r : spike_l;
		if (!covers(left, max_fee, ch->remote.reserve))
			return AL_E_CHAN_FEE_SPIKE;
	} else if (!covers(p.theirs, max_fee, ch->local.reserve)) {
		/* "SHOULD NOT offer `amount_msat` if, once the remote node adds that HTLC to
		 * its commitment transaction, it cannot pay the fee for the updated local
		 * or remote transaction at the current `feerate_per_kw` while maintaining
		 * its channel reserve." */
		return AL_E_CHAN_RESERVE;
	}
	/* max_dust_htlc_exposure_msat: "if the HTLC's `amount_msat` is smaller than the
	 * remote `dust_limit_satoshis` plus the HTLC-success fee... if the `amount_msat`
	 * plus the dust balance of the remote transaction is greater than
	 * `max_dust_htlc_exposure_msat`: SHOULD NOT send this HTLC", and the same with
	 * the holder's dust limit and the HTLC-timeout fee. */
	dust_of(ch, SIDE_R, PROJ_OURS, rate, h, true, &untrimmed, &dust);
	if (al_msat_less(ch->cfg.max_dust_exposure, dust))
		return AL_E_CHAN_DUST_EXPOSURE;
	dust_of(ch, SIDE_L, PROJ_OURS, rate, h, true, &untrimmed, &dust);
	if (al_msat_less(ch->cfg.max_dust_exposure, dust))
		return AL_E_CHAN_DUST_EXPOSURE;
	return AL_OK;
}

/* Every check al_chan_add_htlc makes before it changes anything. */
static al_err can_add(const al_chan *ch, struct chan_htlc *h)
{
	if (ch->state & AL_CHAN_ST_FAILED)
		return AL_E_CHAN_FAILED;
	if (!al_chan__ready_for_updates(ch))
		return (ch->state & AL_CHAN_ST_NORMAL) ? AL_E_CHAN_NOT_CONNECTED : AL_E_CHAN_STATE;
	/* BOLT #2: "MUST NOT send an `update_add_htlc` after a `shutdown`." */
	if (ch->state & (AL_CHAN_ST_SHUTDOWN_SENT | AL_CHAN_ST_SHUTDOWN_RECV) ||
	    ch->shutdown_wanted)
		return AL_E_CHAN_SHUTDOWN;
	return check_our_add(ch, h);
}

al_err al_chan_can_add(const al_chan *ch, al_msat amount, uint32_t cltv_expiry)
{
	struct chan_htlc h;

	memset(&h, 0, sizeof(h));
	h.amount = amount;
	h.cltv = cltv_expiry;
	return can_add(ch, &h);
}

al_err al_chan_add_htlc(al_chan *ch, al_msat amount, const uint8_t hash[32], uint32_t cltv_expiry,
                        const uint8_t onion[AL_CHAN_ONION_LEN], uint64_t *id)
{
	struct chan_htlc h, *s;
	al_err e;

	*id = 0;
	memset(&h, 0, sizeof(h));
	h.amount = amount;
	h.cltv = cltv_expiry;
	memcpy(h.hash, hash, 32);
	AL_TRY(can_add(ch, &h));
	AL_TRY(al_chan__begin(ch));
	s = al_chan__free_slot(ch, true);
	e = s ? AL_OK : AL_E_CHAN_HTLC_COUNT;
	if (e != AL_OK) {
		al_chan__abort(ch);
		return e;
	}
	memset(s, 0, sizeof(*s));
	s->used = true;
	/* "for the first HTLC it offers: MUST set `id` to 0. MUST increase the value of
	 * `id` by 1 for each successive offer." */
	s->id = ch->next_out_id++;
	s->amount = amount;
	s->cltv = cltv_expiry;
	memcpy(s->hash, hash, 32);
	s->add[SIDE_L] = s->add[SIDE_R] = NEVER;
	s->rem[SIDE_L] = s->rem[SIDE_R] = NEVER;
	s->seq_add = ++ch->seq;
	memcpy(s->blob, onion, AL_CHAN_ONION_LEN);
	s->blob_len = AL_CHAN_ONION_LEN;
	al_chan__send(ch, FXM_ADD, s->id);
	al_chan__commit(ch);
	*id = s->id;
	return AL_OK;
}

/* An incoming HTLC the node may resolve: irrevocably committed, not removed. BOLT #2:
 * "until the corresponding HTLC is irrevocably committed in both sides' commitment
 * transactions: MUST NOT send an `update_fulfill_htlc`, `update_fail_htlc`, or
 * `update_fail_malformed_htlc`." */
static al_err resolvable(al_chan *ch, uint64_t id, struct chan_htlc **out)
{
	struct chan_htlc *h;

	if (ch->state & AL_CHAN_ST_FAILED)
		return AL_E_CHAN_FAILED;
	if (!(ch->state & AL_CHAN_ST_NORMAL) || (ch->state & AL_CHAN_ST_CLOSED))
		return AL_E_CHAN_STATE;
	h = al_chan__find(ch, false, id);
	if (!h)
		return AL_E_CHAN_UNKNOWN_HTLC;
	if (h->removal != RM_NONE || h->add[SIDE_L] > ch->local_revoked ||
	    h->add[SIDE_R] > ch->remote_revoked)
		return AL_E_CHAN_HTLC_STATE;
	*out = h;
	return AL_OK;
}

/* Our removal goes out now if the peer is there; otherwise with the updates resent
 * after channel_reestablish. */
static void send_if_connected(al_chan *ch, uint8_t msg, uint64_t id)
{
	if ((ch->state & AL_CHAN_ST_CONNECTED) && (ch->state & AL_CHAN_ST_REESTABLISHED))
		al_chan__send(ch, msg, id);
}

al_err al_chan_fulfill_htlc(al_chan *ch, uint64_t id, const uint8_t preimage[32])
{
	struct chan_htlc *h;
	uint8_t hash[32];

	AL_TRY(resolvable(ch, id, &h));
	al_sha256(hash, preimage, 32);
	if (memcmp(hash, h->hash, 32) != 0)
		return AL_E_CHAN_PREIMAGE;
	AL_TRY(al_chan__begin(ch));
	h->removal = RM_FULFILL;
	memcpy(h->preimage, preimage, 32);
	h->blob_len = 0; /* the onion is no longer needed */
	h->seq_rem = ++ch->seq;
	/* The preimage is money: durable before it leaves. */
	ch->dirty = true;
	send_if_connected(ch, FXM_FULFILL, id);
	al_chan__commit(ch);
	return AL_OK;
}

/* What the node may see of an HTLC slot (h NULL: none). */
static al_err view(const struct chan_htlc *h, al_chan_htlc_in *out)
{
	memset(out, 0, sizeof(*out));
	if (!h)
		return AL_E_CHAN_UNKNOWN_HTLC;
	out->amount = h->amount;
	memcpy(out->hash, h->hash, 32);
	out->cltv_expiry = h->cltv;
	return AL_OK;
}

al_err al_chan_incoming(al_chan *ch, uint64_t id, al_chan_htlc_in *out)
{
	struct chan_htlc *h = al_chan__find(ch, false, id);

	AL_TRY(view(h, out));
	if (h->removal != RM_NONE || h->blob_len != AL_CHAN_ONION_LEN) {
		memset(out, 0, sizeof(*out));
		return AL_E_CHAN_HTLC_STATE;
	}
	out->onion = h->blob;
	return AL_OK;
}

al_err al_chan_outgoing(al_chan *ch, uint64_t id, al_chan_htlc_in *out)
{
	/* Also one removed for good whose result is still to be told. */
	return view(al_chan__slot(ch, true, id), out);
}

al_err al_chan_fail_htlc(al_chan *ch, uint64_t id, const uint8_t *reason, size_t len)
{
	struct chan_htlc *h;

	if (len > AL_CHAN_MAX_REASON || (len && !reason))
		return AL_E_CHAN_REASON_SIZE;
	AL_TRY(resolvable(ch, id, &h));
	AL_TRY(al_chan__begin(ch));
	h->removal = RM_FAIL;
	memcpy(h->blob, reason, len);
	h->blob_len = (uint16_t)len;
	h->seq_rem = ++ch->seq;
	send_if_connected(ch, FXM_FAIL, id);
	al_chan__commit(ch);
	return AL_OK;
}

al_err al_chan_fail_malformed_htlc(al_chan *ch, uint64_t id, const uint8_t sha256_of_onion[32],
                                   uint16_t failure_code)
{
	struct chan_htlc *h;

	if (!(failure_code & AL_CHAN_BADONION))
		return AL_E_CHAN_BADONION;
	AL_TRY(resolvable(ch, id, &h));
	AL_TRY(al_chan__begin(ch));
	h->removal = RM_MALFORMED;
	h->failure_code = failure_code;
	memcpy(h->sha_onion, sha256_of_onion, 32);
	h->blob_len = 0;
	h->seq_rem = ++ch->seq;
	send_if_connected(ch, FXM_FAIL_MALFORMED, id);
	al_chan__commit(ch);
	return AL_OK;
}

/* Add or replace a fee update: BOLT #2 "Unlike an HTLC, `update_fee` is never
 * closed but simply replaced" (an unsigned one is replaced; signed ones stay until
 * both sides revoked everything before them). */
static al_err put_fee(al_chan *ch, uint32_t rate, bool ours, uint64_t seq)
{
	int unsigned_side = ours ? SIDE_R : SIDE_L;
	struct chan_fee *f;

	if (ch->n_fees && ch->fees[ch->n_fees - 1].ours == ours &&
	    ch->fees[ch->n_fees - 1].at[unsigned_side] == NEVER) {
		f = &ch->fees[ch->n_fees - 1];
		f->rate = rate;
		f->seq = seq;
		return AL_OK;
	}
	if (ch->n_fees == MAX_FEE_UPDATES)
		return AL_E_CHAN_FEERATE;
	f = &ch->fees[ch->n_fees++];
	f->rate = rate;
	f->ours = ours;
	f->at[SIDE_L] = f->at[SIDE_R] = NEVER;
	f->seq = seq;
	return AL_OK;
}

/* Can the funder pay `rate` on both commitments (projected) and keep its reserve? */
static al_err check_fee(const al_chan *ch, uint32_t rate, enum proj_mode mode)
{
	bool funder_us = ch->state & AL_CHAN_ST_OUTBOUND;
	al_msat fee_l, fee_r, max_fee;
	struct proj p;

	AL_TRY(project(ch, mode, &p));
	AL_TRY(proj_fee(ch, SIDE_L, mode, rate, NULL, false, 0, &fee_l));
	AL_TRY(proj_fee(ch, SIDE_R, mode, rate, NULL, false, 0, &fee_r));
	max_fee = al_msat_less(fee_l, fee_r) ? fee_r : fee_l;
	if (funder_us ? !covers(p.ours, max_fee, ch->remote.reserve)
	              : !covers(p.theirs, max_fee, ch->local.reserve))
		return AL_E_CHAN_RESERVE;
	return AL_OK;
}

/* Any HTLC in a slot (in a commitment, or on its way into or out of one). */
static bool htlcs_remain(const al_chan *ch)
{
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++)
		if ((ch->out[i].used && !ch->out[i].zombie) || ch->in[i].used)
			return true;
	return false;
}

al_err al_chan_update_fee(al_chan *ch, uint32_t feerate_per_kw)
{
	uint64_t seq;
	al_err e;

	if (ch->state & AL_CHAN_ST_FAILED)
		return AL_E_CHAN_FAILED;
	/* BOLT #2: "The node _not responsible_ for paying the Bitcoin fee: MUST NOT send
	 * `update_fee`." */
	if (!(ch->state & AL_CHAN_ST_OUTBOUND))
		return AL_E_CHAN_NOT_FUNDER;
	if (!al_chan__ready_for_updates(ch))
		return (ch->state & AL_CHAN_ST_NORMAL) ? AL_E_CHAN_NOT_CONNECTED : AL_E_CHAN_STATE;
	if (feerate_per_kw < 253)
		return AL_E_CHAN_FEERATE;
	/* BOLT #2 shutdown: "if no HTLCs remain in either commitment transaction
	 * (including dust HTLCs) and neither side has a pending `revoke_and_ack` to
	 * send: MUST NOT send any `update` message after that point." */
	if ((ch->shutdown_wanted ||
	     (ch->state & (AL_CHAN_ST_SHUTDOWN_SENT | AL_CHAN_ST_SHUTDOWN_RECV))) &&
	    !htlcs_remain(ch))
		return AL_E_CHAN_SHUTDOWN;
	AL_TRY(check_fee(ch, feerate_per_kw, PROJ_OURS));
	AL_TRY(al_chan__begin(ch));
	seq = ch->seq + 1;
	e = put_fee(ch, feerate_per_kw, true, seq);
	if (e != AL_OK) {
		al_chan__abort(ch);
		return e;
	}
	ch->seq = seq;
	al_chan__send(ch, FXM_FEE, feerate_per_kw);
	al_chan__commit(ch);
	return AL_OK;
}

/* --- the peer's updates ------------------------------------------------------------------ */

static bool same_add(const struct chan_htlc *h, const struct al_wire_update_add_htlc *m)
{
	return h->amount.msat == m->amount_msat && h->cltv == m->cltv_expiry &&
	       memcmp(h->hash, m->payment_hash, 32) == 0;
}

static al_err recv_add(al_chan *ch, const struct al_wire_update_add_htlc *m)
{
	bool funder_them = !(ch->state & AL_CHAN_ST_OUTBOUND);
	struct chan_htlc h, *s;
	al_msat left, fee, dust;
	size_t untrimmed;
	struct proj p;

	if (!(ch->state & AL_CHAN_ST_NORMAL) || (ch->state & AL_CHAN_ST_NEGOTIATING))
		return AL_E_CHAN_UNEXPECTED;
	/* "MUST NOT send an `update_add_htlc` after a `shutdown`" */
	if (ch->state & AL_CHAN_ST_SHUTDOWN_RECV)
		return AL_E_CHAN_SHUTDOWN;
	if (m->id != ch->next_in_id) {
		/* "if the sender did not previously acknowledge the commitment of that
		 * HTLC: MUST ignore a repeated `id` value after a reconnection." */
		s = al_chan__find(ch, false, m->id);
		if (m->id < ch->next_in_id && s && same_add(s, m))
			return AL_OK;
		return AL_E_CHAN_HTLC_ID;
	}
	memset(&h, 0, sizeof(h));
	h.amount = al_msat_of(m->amount_msat);
	h.cltv = m->cltv_expiry;
	/* "receiving an `amount_msat` equal to 0, OR less than its own
	 * `htlc_minimum_msat`" */
	if (m->amount_msat == 0 || al_msat_less(h.amount, ch->local.htlc_minimum))
		return AL_E_CHAN_HTLC_AMOUNT;
	/* "if sending node sets `cltv_expiry` to greater or equal to 500000000" */
	if (m->cltv_expiry >= AL_LN_LOCKTIME_THRESHOLD)
		return AL_E_CHAN_HTLC_CLTV;
	AL_TRY(project(ch, PROJ_SEEN, &p));
	/* "adds more than receiver `max_accepted_htlcs` HTLCs to its local commitment
	 * transaction, OR adds more than receiver `max_htlc_value_in_flight_msat` worth
	 * of offered HTLCs" */
	if (p.n_in + 1 > ch->local.max_accepted || !al_chan__free_slot(ch, false))
		return AL_E_CHAN_HTLC_COUNT;
	if (!al_msat_add(&p.in_sum, p.in_sum, h.amount) ||
	    al_msat_less(ch->local.max_in_flight, p.in_sum))
		return AL_E_CHAN_HTLC_IN_FLIGHT;
	/* "receiving an `amount_msat` that the sending node cannot afford at the current
	 * `feerate_per_kw` (while maintaining its channel reserve and any
	 * `to_local_anchor` and `to_remote_anchor` costs)" */
	if (!al_msat_sub(&left, p.theirs, h.amount) ||
	    !covers(left, al_msat_of(0), ch->local.reserve))
		return AL_E_CHAN_RESERVE;
	if (funder_them) {
		AL_TRY(proj_fee(ch, SIDE_L, PROJ_SEEN, p.feerate, &h, false, 0, &fee));
		if (!covers(left, fee, ch->local.reserve))
			return AL_E_CHAN_RESERVE;
	}
	s = al_chan__free_slot(ch, false);
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->id = m->id;
	s->amount = h.amount;
	s->cltv = h.cltv;
	memcpy(s->hash, m->payment_hash, 32);
	s->add[SIDE_L] = s->add[SIDE_R] = NEVER;
	s->rem[SIDE_L] = s->rem[SIDE_R] = NEVER;
	memcpy(s->blob, m->onion_routing_packet, AL_CHAN_ONION_LEN);
	s->blob_len = AL_CHAN_ONION_LEN;
	/* max_dust_htlc_exposure_msat, "when receiving an HTLC": "SHOULD fail this HTLC
	 * once it's committed", which the node does when told must_fail. */
	dust_of(ch, SIDE_R, PROJ_PEER, p.feerate, NULL, false, &untrimmed, &dust);
	s->must_fail = al_msat_less(ch->cfg.max_dust_exposure, dust);
	dust_of(ch, SIDE_L, PROJ_PEER, p.feerate, NULL, false, &untrimmed, &dust);
	s->must_fail |= al_msat_less(ch->cfg.max_dust_exposure, dust);
	ch->next_in_id++;
	return AL_OK;
}

/* The outgoing HTLC a removal names: BOLT #2 "if the `id` does not correspond to an
 * HTLC in its current commitment transaction: MUST send a `warning` and close the
 * connection, or send an `error` and fail the channel." */
static al_err removable(al_chan *ch, uint64_t id, struct chan_htlc **out)
{
	struct chan_htlc *h;

	if (!(ch->state & AL_CHAN_ST_NORMAL))
		return AL_E_CHAN_UNEXPECTED;
	h = al_chan__find(ch, true, id);
	if (!h || h->removal != RM_NONE || !al_chan__in_commit(h, SIDE_L, ch->local_next - 1))
		return AL_E_CHAN_UNKNOWN_HTLC;
	*out = h;
	return AL_OK;
}

static al_err recv_fulfill(al_chan *ch, const struct al_wire_update_fulfill_htlc *m)
{
	struct chan_htlc *h;
	uint8_t hash[32];

	AL_TRY(removable(ch, m->id, &h));
	/* "if the `payment_preimage` value in `update_fulfill_htlc` doesn't SHA256 hash
	 * to the corresponding HTLC `payment_hash`" */
	al_sha256(hash, m->payment_preimage, 32);
	if (memcmp(hash, h->hash, 32) != 0)
		return AL_E_CHAN_PREIMAGE;
	h->removal = RM_FULFILL;
	memcpy(h->preimage, m->payment_preimage, 32);
	h->preimage_known = true;
	/* BOLT #2: "upon receiving an `update_fulfill_htlc` for an outgoing HTLC...
	 * MUST fulfill the incoming HTLC that corresponds": the node learns it now,
	 * once the preimage is durable here. */
	if (!h->announced) {
		h->announced = true;
		al_chan__event(ch, AL_CHAN_EV_HTLC_FULFILLED, h->id);
		ch->dirty = true;
	}
	return AL_OK;
}

static al_err recv_fail(al_chan *ch, const struct al_wire_update_fail_htlc *m)
{
	struct chan_htlc *h;

	AL_TRY(removable(ch, m->id, &h));
	if (m->len > AL_CHAN_MAX_REASON)
		return AL_E_CHAN_REASON_SIZE;
	h->removal = RM_FAIL;
	memcpy(h->blob, m->reason, m->len);
	h->blob_len = m->len;
	return AL_OK;
}

static al_err recv_malformed(al_chan *ch, const struct al_wire_update_fail_malformed_htlc *m)
{
	struct chan_htlc *h;

	AL_TRY(removable(ch, m->id, &h));
	/* "if the `BADONION` bit in `failure_code` is not set for
	 * `update_fail_malformed_htlc`" */
	if (!(m->failure_code & AL_CHAN_BADONION))
		return AL_E_CHAN_BADONION;
	h->removal = RM_MALFORMED;
	h->failure_code = m->failure_code;
	memcpy(h->sha_onion, m->sha256_of_onion, 32);
	h->blob_len = 0;
	return AL_OK;
}

static al_err recv_fee(al_chan *ch, const struct al_wire_update_fee *m)
{
	if (!(ch->state & AL_CHAN_ST_NORMAL) || (ch->state & AL_CHAN_ST_NEGOTIATING))
		return AL_E_CHAN_UNEXPECTED;
	/* "if the sender is not responsible for paying the Bitcoin fee" */
	if (ch->state & AL_CHAN_ST_OUTBOUND)
		return AL_E_CHAN_NOT_FUNDER;
	/* "if the `update_fee` is too low for timely processing, OR is unreasonably
	 * large" */
	if (m->feerate_per_kw < ch->cfg.min_feerate || m->feerate_per_kw > ch->cfg.max_feerate)
		return AL_E_CHAN_FEERATE;
	/* "if the sender cannot afford the new fee rate on the receiving node's current
	 * commitment transaction" (with its reserve, as LDK and Core Lightning check). */
	AL_TRY(check_fee(ch, m->feerate_per_kw, PROJ_SEEN));
	return put_fee(ch, m->feerate_per_kw, false, 0);
}

al_err al_chan__recv_update(al_chan *ch, uint16_t type, const union al_wire_any *u)
{
	switch (type) {
	case AL_WIRE_UPDATE_ADD_HTLC:
		return recv_add(ch, &u->update_add_htlc);
	case AL_WIRE_UPDATE_FULFILL_HTLC:
		return recv_fulfill(ch, &u->update_fulfill_htlc);
	case AL_WIRE_UPDATE_FAIL_HTLC:
		return recv_fail(ch, &u->update_fail_htlc);
	case AL_WIRE_UPDATE_FAIL_MALFORMED_HTLC:
		return recv_malformed(ch, &u->update_fail_malformed_htlc);
	default:
		return recv_fee(ch, &u->update_fee);
	}
}

/* --- what is pending, what is settled -------------------------------------------------- */

static bool acked_by_us(const al_chan *ch, uint64_t at_local)
{
	return at_local != NEVER && at_local <= ch->local_revoked;
}

bool al_chan__our_updates_unsigned(const al_chan *ch)
{
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (o->used && !o->zombie && o->add[SIDE_R] == NEVER)
			return true;
		if (in->used && in->removal != RM_NONE && in->rem[SIDE_R] == NEVER)
			return true;
	}
	for (i = 0; i < ch->n_fees; i++)
		if (ch->fees[i].ours && ch->fees[i].at[SIDE_R] == NEVER)
			return true;
	return false;
}

bool al_chan__pending_for_remote(const al_chan *ch)
{
	size_t i;

	if (al_chan__our_updates_unsigned(ch))
		return true;
	/* The peer's updates we acked (revoked our commitment without them) go into its
	 * next commitment. */
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (in->used && in->add[SIDE_R] == NEVER && acked_by_us(ch, in->add[SIDE_L]))
			return true;
		if (o->used && !o->zombie && o->removal != RM_NONE && o->rem[SIDE_R] == NEVER &&
		    acked_by_us(ch, o->rem[SIDE_L]))
			return true;
	}
	for (i = 0; i < ch->n_fees; i++)
		if (!ch->fees[i].ours && ch->fees[i].at[SIDE_R] == NEVER &&
		    acked_by_us(ch, ch->fees[i].at[SIDE_L]))
			return true;
	return false;
}

bool al_chan__quiet(const al_chan *ch)
{
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++)
		if ((ch->out[i].used && !ch->out[i].zombie) || ch->in[i].used)
			return false;
	return ch->n_fees == 0 && ch->remote_revoked + 1 == ch->remote_next &&
	       ch->local_revoked + 1 == ch->local_next;
}

/* Is the update in every unrevoked commitment of both sides? */
static bool irrevocable(const al_chan *ch, const uint64_t at[2])
{
	return at[SIDE_L] <= ch->local_revoked && at[SIDE_R] <= ch->remote_revoked;
}

void al_chan__settle(al_chan *ch)
{
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		struct chan_htlc *in = &ch->in[i], *o = &ch->out[i];

		if (in->used) {
			/* BOLT #2: "until an incoming HTLC has been irrevocably committed:
			 * MUST NOT offer the corresponding outgoing HTLC": the node hears of it
			 * now. */
			if (in->removal == RM_NONE && !in->announced && irrevocable(ch, in->add)) {
				in->announced = true;
				al_chan__event(ch, AL_CHAN_EV_HTLC_RECEIVED, in->id);
				ch->dirty = true;
			}
			if (in->removal != RM_NONE && irrevocable(ch, in->rem)) {
				if (in->removal == RM_FULFILL)
					(void)take(&ch->base_remote, &ch->base_local, in->amount);
				al_memzero(in, sizeof(*in));
				ch->dirty = true;
			}
		}
		/* An outgoing add both sides hold for good is never sent again: its onion
		 * can go. */
		if (o->used && !o->zombie && o->removal == RM_NONE && o->blob_len &&
		    irrevocable(ch, o->add)) {
			o->blob_len = 0;
			ch->dirty = true;
		}
		if (o->used && !o->zombie && o->removal != RM_NONE && irrevocable(ch, o->rem)) {
			ch->dirty = true;
			/* In no commitment any more: out of the books (a fulfilled HTLC's
			 * amount moves to the peer), kept only while an effect names it. */
			o->zombie = true;
			if (o->removal == RM_FULFILL)
				(void)take(&ch->base_local, &ch->base_remote, o->amount);
			else
				/* "until the removal of an outgoing HTLC is irrevocably
				 * committed... MUST NOT fail the incoming HTLC": now the node
				 * may. */
				al_chan__event(ch, AL_CHAN_EV_HTLC_FAILED, o->id);
			if (o->pins == 0)
				al_memzero(o, sizeof(*o));
		}
	}
	/* A fee update in every unrevoked commitment becomes the base. */
	while (ch->n_fees && irrevocable(ch, ch->fees[0].at)) {
		ch->base_feerate = ch->fees[0].rate;
		memmove(&ch->fees[0], &ch->fees[1], (ch->n_fees - 1) * sizeof(ch->fees[0]));
		ch->n_fees--;
		ch->dirty = true;
	}
}
