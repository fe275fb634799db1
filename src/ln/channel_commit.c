/* BOLT #2 Normal Operation, the commitment dance: commitment_signed and
 * revoke_and_ack, sent and received; building either side's commitment from the
 * update log; the monitor entry of each commitment we sign. */
#include "ln/channel_int.h"

#include <string.h>

#include "util/mem.h"

/* --- points ------------------------------------------------------------------------ */

al_err al_chan__remote_point(const al_chan *ch, uint64_t n, al_pubkey *p)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (ch->rpoint[i].valid && ch->rpoint[i].n == n) {
			*p = ch->rpoint[i].p;
			return AL_OK;
		}
	return AL_E_CHAN_STATE;
}

void al_chan__set_remote_point(al_chan *ch, uint64_t n, const al_pubkey *p)
{
	size_t i, k = 0;

	/* Keep the points of the peer's unrevoked commitments and the next one: replace
	 * the same number, else a free entry, else the oldest. */
	for (i = 0; i < 3; i++) {
		if (ch->rpoint[i].valid && ch->rpoint[i].n == n) {
			k = i;
			break;
		}
		if (!ch->rpoint[i].valid ||
		    (ch->rpoint[k].valid && ch->rpoint[i].n < ch->rpoint[k].n))
			k = i;
	}
	ch->rpoint[k].valid = true;
	ch->rpoint[k].n = n;
	ch->rpoint[k].p = *p;
}

/* --- building a commitment ------------------------------------------------------------ */

al_err al_chan__build(const al_chan *ch, al_arena *a, int side, uint64_t n, al_ln_commit *c)
{
	bool local = side == SIDE_L, outbound = ch->state & AL_CHAN_ST_OUTBOUND;
	const struct chan_side *owner = local ? &ch->local : &ch->remote;
	const struct chan_side *other = local ? &ch->remote : &ch->local;
	size_t mark = al_arena_mark(a), i, k = 0;
	al_ln_commit_params p;
	struct chan_view v;
	al_ln_htlc *h = NULL;
	al_pubkey point;
	al_err e;

	memset(&p, 0, sizeof(p));
	AL_TRY(al_chan__view(ch, side, n, &v));
	if (local)
		AL_TRY(al_signer_holder_point(ch->signer, n, &point));
	else
		AL_TRY(al_chan__remote_point(ch, n, &point));
	if (v.n_offered + v.n_received)
		AL_TRY(al_arena_alloc(a, (v.n_offered + v.n_received) * sizeof(*h),
		                      _Alignof(al_ln_htlc), (void **)&h));
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (al_chan__in_commit(o, side, n)) {
			h[k].offered = local;
			h[k].amount = o->amount;
			memcpy(h[k].payment_hash, o->hash, 32);
			h[k++].cltv_expiry = o->cltv;
		}
		if (al_chan__in_commit(in, side, n)) {
			h[k].offered = !local;
			h[k].amount = in->amount;
			memcpy(h[k].payment_hash, in->hash, 32);
			h[k++].cltv_expiry = in->cltv;
		}
	}
	p.type = ch->type;
	memcpy(p.funding_txid, ch->funding_txid, 32);
	p.funding_vout = ch->funding_vout;
	p.funding_amount = ch->funding;
	p.local_funding = owner->funding;
	p.remote_funding = other->funding;
	p.commitment_number = n;
	/* BOLT #3: "SHA256(payment_basepoint from open_channel || payment_basepoint from
	 * accept_channel)" */
	p.obscurer = al_ln_commitment_obscurer(
	    ch->env->secp, outbound ? &ch->local.bp.payment : &ch->remote.bp.payment,
	    outbound ? &ch->remote.bp.payment : &ch->local.bp.payment);
	p.local_is_funder = local == outbound;
	p.to_local = v.owner;
	p.to_remote = v.other;
	p.feerate_per_kw = v.feerate;
	/* The owner's dust limit; the delay the other side imposed on the owner. */
	p.dust_limit = owner->dust_limit;
	p.to_self_delay = other->to_self_delay;
	p.htlcs = h;
	p.n_htlcs = k;
	e = al_ln_keyset_derive(ch->env->secp, &p.keys, &owner->bp, &other->bp, &point);
	if (e == AL_OK)
		e = al_ln_commit_build(ch->env->secp, c, a, &p);
	if (e != AL_OK)
		al_arena_release(a, mark);
	return e;
}

/* --- which updates a new commitment takes --------------------------------------------- */

static bool acked(uint64_t at, uint64_t revoked)
{
	return at != NEVER && at <= revoked;
}

/* The peer's commitment M takes our unsigned updates and the peer's updates we acked;
 * `undo` takes them back (the signer refused). */
static void mark_remote(al_chan *ch, uint64_t m, bool undo)
{
	size_t i;

#define MARK(field, cond)                                                                          \
	do {                                                                                       \
		if (undo ? (field) == m : ((field) == NEVER && (cond)))                            \
			(field) = undo ? NEVER : m;                                                \
	} while (0)
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (o->used && !o->zombie) {
			MARK(o->add[SIDE_R], true);
			if (o->removal != RM_NONE)
				MARK(o->rem[SIDE_R], acked(o->rem[SIDE_L], ch->local_revoked));
		}
		if (in->used) {
			MARK(in->add[SIDE_R], acked(in->add[SIDE_L], ch->local_revoked));
			if (in->removal != RM_NONE)
				MARK(in->rem[SIDE_R], true);
		}
	}
	for (i = 0; i < ch->n_fees; i++)
		MARK(ch->fees[i].at[SIDE_R],
		     ch->fees[i].ours || acked(ch->fees[i].at[SIDE_L], ch->local_revoked));
}

/* Our commitment N takes the peer's updates and ours the peer acked (BOLT #2: the
 * signature must be valid "once all pending updates are applied"). */
static void mark_local(al_chan *ch, uint64_t n, bool undo)
{
	size_t i;
	uint64_t m = n;

	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (o->used && !o->zombie) {
			MARK(o->add[SIDE_L], acked(o->add[SIDE_R], ch->remote_revoked));
			if (o->removal != RM_NONE)
				MARK(o->rem[SIDE_L], true);
		}
		if (in->used) {
			MARK(in->add[SIDE_L], true);
			if (in->removal != RM_NONE)
				MARK(in->rem[SIDE_L], acked(in->rem[SIDE_R], ch->remote_revoked));
		}
	}
	for (i = 0; i < ch->n_fees; i++)
		MARK(ch->fees[i].at[SIDE_L],
		     !ch->fees[i].ours || acked(ch->fees[i].at[SIDE_R], ch->remote_revoked));
#undef MARK
}

/* --- commitment_signed, sent ------------------------------------------------------------ */

bool al_chan__can_sign(const al_chan *ch)
{
	al_pubkey p;

	/* BOLT #2: the next point comes with the revoke_and_ack of the previous
	 * commitment; until then our commitment_signed is unanswered. */
	return al_chan__ready_for_updates(ch) && ch->remote_revoked + 1 == ch->remote_next &&
	       al_chan__remote_point(ch, ch->remote_next, &p) == AL_OK;
}

al_err al_chan__send_commit(al_chan *ch)
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a);
	uint64_t m = ch->remote_next;
	al_pubkey point;
	al_ln_commit c;
	al_err e;

	if (!al_chan__can_sign(ch))
		return ch->remote_revoked + 1 != ch->remote_next ? AL_E_CHAN_AWAIT_REVOKE
		                                                 : AL_E_CHAN_NOT_CONNECTED;
	/* "MUST NOT send a `commitment_signed` message that does not include any
	 * updates." */
	if (!al_chan__pending_for_remote(ch))
		return AL_E_CHAN_NOTHING_TO_SIGN;
	mark_remote(ch, m, false);
	e = al_chan__remote_point(ch, m, &point);
	if (e == AL_OK)
		e = al_chan__build(ch, a, SIDE_R, m, &c);
	/* "MUST include one `htlc_signature` for every HTLC transaction corresponding
	 * to the ordering of the commitment transaction" */
	if (e == AL_OK)
		e = al_signer_sign_counterparty(ch->signer, &c, &point, a, &ch->cs_sig,
		                                ch->cs_htlc_sigs);
	if (e == AL_OK)
		ch->n_cs_htlc_sigs = c.n_untrimmed_htlcs;
	al_arena_release(a, mark);
	if (e != AL_OK) {
		mark_remote(ch, m, true);
		return e;
	}
	ch->remote_next = m + 1;
	ch->cs_seq = ++ch->seq;
	ch->state |= AL_CHAN_ST_AWAIT_REVOKE;
	/* Persist the record and the monitor entry, then speak. */
	ch->dirty = true;
	al_chan__push_persist(ch, AL_CHAN_PERSIST_MONITOR, m);
	al_chan__send(ch, FXM_COMMIT, m);
	return AL_OK;
}

al_err al_chan_commit(al_chan *ch)
{
	al_err e;

	if (ch->state & AL_CHAN_ST_FAILED)
		return AL_E_CHAN_FAILED;
	if (!(ch->state & AL_CHAN_ST_NORMAL))
		return AL_E_CHAN_STATE;
	AL_TRY(al_chan__begin(ch));
	e = al_chan__send_commit(ch);
	if (e != AL_OK) {
		al_chan__abort(ch);
		return e;
	}
	al_chan__close_progress(ch);
	al_chan__commit(ch);
	return AL_OK;
}

void al_chan__progress(al_chan *ch)
{
	al_err e;

	if (ch->state & (AL_CHAN_ST_FAILED | AL_CHAN_ST_CLOSED))
		return;
	al_chan__maybe_ready(ch);
	if (ch->cfg.auto_commit && al_chan__can_sign(ch) && al_chan__pending_for_remote(ch)) {
		e = al_chan__send_commit(ch);
		if (e != AL_OK) {
			al_chan__fail(ch, e);
			return;
		}
	}
	al_chan__close_progress(ch);
}

/* --- commitment_signed, received --------------------------------------------------------- */

al_err al_chan__recv_commit(al_chan *ch, const struct al_wire_commitment_signed *m)
{
	const al_secp *ctx = ch->env->secp;
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a), i;
	uint64_t n = ch->local_next;
	al_ecdsa_sig sig, *hs = NULL;
	al_ln_commit c;
	uint8_t secret[32];
	al_err e = AL_OK;

	if (!(ch->state & AL_CHAN_ST_NORMAL) || (ch->state & AL_CHAN_ST_NEGOTIATING))
		return AL_E_CHAN_UNEXPECTED;
	/* "if `signature` is not valid for its local commitment transaction OR
	 * non-compliant with LOW-S-standard rule" (a high-S fails verification). */
	if (al_ecdsa_sig_parse_compact(ctx, &sig, m->signature) != AL_OK)
		return AL_E_CHAN_COMMIT_SIG;
	if (m->num_htlcs > 2 * (size_t)ch->cfg.max_htlcs)
		return AL_E_CHAN_HTLC_SIG_COUNT;
	if (m->num_htlcs)
		AL_TRY(al_arena_alloc(a, m->num_htlcs * sizeof(*hs), _Alignof(al_ecdsa_sig),
		                      (void **)&hs));
	for (i = 0; e == AL_OK && i < m->num_htlcs; i++)
		if (al_ecdsa_sig_parse_compact(ctx, &hs[i], m->htlc_signature + 64 * i) != AL_OK)
			e = AL_E_CHAN_HTLC_SIG;
	if (e == AL_OK) {
		mark_local(ch, n, false);
		e = al_chan__build(ch, a, SIDE_L, n, &c);
		if (e == AL_OK)
			e = al_signer_validate_holder(ch->signer, &c, a, &sig, hs, m->num_htlcs);
		/* Revoke the previous commitment: "MUST respond with a `revoke_and_ack`". */
		if (e == AL_OK)
			e = al_signer_revoke_holder(ch->signer, n - 1, secret);
		if (e != AL_OK)
			mark_local(ch, n, true);
	}
	if (e == AL_OK) {
		ch->local_sig = sig;
		for (i = 0; i < m->num_htlcs; i++)
			ch->local_htlc_sigs[i] = hs[i];
		ch->n_local_htlc_sigs = m->num_htlcs;
		memcpy(ch->raa_secret, secret, 32);
		ch->local_next = n + 1;
		ch->local_revoked = n;
		ch->raa_seq = ++ch->seq;
		ch->dirty = true;
		/* Persist (our commitment n, our revocation of n - 1), then speak. */
		al_chan__send(ch, FXM_REVOKE, n - 1);
		al_chan__settle(ch);
	}
	al_memzero(secret, sizeof(secret));
	al_arena_release(a, mark);
	return e;
}

/* --- revoke_and_ack, received ------------------------------------------------------------- */

al_err al_chan__recv_revoke(al_chan *ch, const struct al_wire_revoke_and_ack *m)
{
	const al_secp *ctx = ch->env->secp;
	uint64_t n = ch->remote_revoked;
	al_pubkey expect, got, next;
	al_shachain s;
	al_err e;

	if (!(ch->state & AL_CHAN_ST_FUNDED) || ch->remote_revoked + 2 != ch->remote_next)
		return AL_E_CHAN_UNEXPECTED;
	/* "if `per_commitment_secret` is not a valid secret key or does not generate the
	 * previous `per_commitment_point`: MUST send an `error` and fail the channel." */
	if (al_chan__remote_point(ch, n, &expect) != AL_OK ||
	    al_ln_per_commitment_point(ctx, &got, m->per_commitment_secret) != AL_OK ||
	    !al_pubkey_eq(ctx, &got, &expect))
		return AL_E_CHAN_REVOCATION;
	if (m->next_per_commitment_point[0] != 2 && m->next_per_commitment_point[0] != 3)
		return AL_E_PUBKEY;
	AL_TRY(al_pubkey_parse(ctx, &next, m->next_per_commitment_point, 33));
	/* "if the `per_commitment_secret` was not generated by the protocol in BOLT #3:
	 * MAY ... send an `error` and fail the channel": the shachain store refuses a
	 * secret that does not derive the earlier ones. Staged on a copy. */
	s = ch->secrets;
	e = al_shachain_insert(&s, al_shachain_index_of(n), m->per_commitment_secret);
	if (e == AL_OK)
		e = al_signer_counterparty_revoked(ch->signer, n, m->per_commitment_secret);
	if (e != AL_OK) {
		al_shachain_clear(&s);
		return AL_E_CHAN_REVOCATION;
	}
	ch->secrets = s;
	al_shachain_clear(&s);
	ch->remote_revoked = n + 1;
	al_chan__set_remote_point(ch, ch->remote_next, &next);
	ch->state &= ~AL_CHAN_ST_AWAIT_REVOKE;
	ch->dirty = true;
	al_chan__settle(ch);
	return AL_OK;
}

/* --- the monitor entry ----------------------------------------------------------------------- */

/* Version 1: "ALMN" 01, channel_id, commitment number, the peer's per-commitment
 * point, its txid, feerate, to_local and to_remote (the peer's view) in msat, then
 * u16 n and per HTLC: offered-by-the-peer byte, amount_msat, payment_hash,
 * cltv_expiry. With the per-commitment secret (the record's shachain) and the
 * basepoints (the record), a later module rebuilds every script of it. */
al_err al_chan__monitor(const al_chan *ch, al_arena *a, uint64_t n, al_wb *w)
{
	uint8_t pk[33], txid[32];
	size_t mark = al_arena_mark(a), i;
	struct chan_view v;
	al_ln_commit c;
	al_pubkey point;

	AL_TRY(al_chan__view(ch, SIDE_R, n, &v));
	AL_TRY(al_chan__remote_point(ch, n, &point));
	AL_TRY(al_chan__build(ch, a, SIDE_R, n, &c));
	al_tx_txid(&c.tx, txid);
	al_arena_release(a, mark);
	al_wb_bytes(w, "ALMN", 4);
	al_wb_u8(w, 1);
	al_wb_bytes(w, ch->channel_id, 32);
	al_wb_be64(w, n);
	al_pubkey_serialize(ch->env->secp, pk, &point);
	al_wb_bytes(w, pk, 33);
	al_wb_bytes(w, txid, 32);
	al_wb_be32(w, v.feerate);
	al_wb_be64(w, v.owner.msat);
	al_wb_be64(w, v.other.msat);
	al_wb_be16(w, (uint16_t)(v.n_offered + v.n_received));
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *hs[2] = {&ch->in[i], &ch->out[i]};
		size_t k;

		for (k = 0; k < 2; k++) {
			if (!al_chan__in_commit(hs[k], SIDE_R, n))
				continue;
			al_wb_u8(w, k == 0); /* the peer offered its incoming-to-us HTLCs */
			al_wb_be64(w, hs[k]->amount.msat);
			al_wb_bytes(w, hs[k]->hash, 32);
			al_wb_be32(w, hs[k]->cltv);
		}
	}
	return AL_OK;
}
