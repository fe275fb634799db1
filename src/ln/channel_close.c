/* BOLT #2 Channel Close: shutdown and the legacy closing_signed negotiation with
 * fee_range; force close. */
#include "ln/channel_int.h"

#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "ln/scripts.h"

/* The closing transaction's witness: "`0 <signature_for_pubkey1>
 * <signature_for_pubkey2>`" and the funding script, about 224 weight units. */
#define CLOSING_WITNESS_WEIGHT 224

bool al_chan__script_ok(const al_chan *ch, const uint8_t *s, size_t len)
{
	/* BOLT #2 shutdown `scriptpubkey`: "1. `OP_0` `20` 20-bytes (version 0 pay to
	 * witness pubkey hash), OR 2. `OP_0` `32` 32-bytes (version 0 pay to witness
	 * script hash), OR 3. if (and only if) `option_shutdown_anysegwit` is
	 * negotiated: `OP_1` through `OP_16` inclusive, followed by a single push of 2
	 * to 40 bytes (witness program versions 1 through 16)" */
	if (len == 22 && s[0] == 0x00 && s[1] == 20)
		return true;
	if (len == 34 && s[0] == 0x00 && s[1] == 32)
		return true;
	return al_features_offered(&ch->peer_features, AL_FEATURE_SHUTDOWN_ANYSEGWIT) && len >= 4 &&
	       len <= 42 && s[0] >= 0x51 && s[0] <= 0x60 && s[1] >= 2 && s[1] <= 40 &&
	       (size_t)s[1] + 2 == len;
}

/* --- the closing transaction --------------------------------------------------------- */

struct out {
	al_sat amount;
	const uint8_t *script;
	size_t len;
};

static bool out_less(const struct out *a, const struct out *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int r;

	/* BOLT #3 Transaction Output Ordering (BIP 69): amount, then scriptpubkey. */
	if (a->amount.sat != b->amount.sat)
		return a->amount.sat < b->amount.sat;
	r = memcmp(a->script, b->script, n);
	return r < 0 || (r == 0 && a->len < b->len);
}

/* Our and the peer's final amounts, the fee taken from the funder's. */
static al_err final_amounts(const al_chan *ch, uint64_t fee, al_sat *ours, al_sat *theirs)
{
	al_sat *funder;

	*ours = al_msat_to_sat_floor(ch->base_local);
	*theirs = al_msat_to_sat_floor(ch->base_remote);
	/* BOLT #3: "MUST round each output down to whole satoshis. MUST subtract the fee
	 * given by `fee_satoshis` from the output to the funder." */
	funder = (ch->state & AL_CHAN_ST_OUTBOUND) ? ours : theirs;
	return al_sat_sub(funder, *funder, al_sat_of(fee)) ? AL_OK : AL_E_CHAN_CLOSING_FEE;
}

al_err al_chan__closing_tx(const al_chan *ch, al_arena *a, uint64_t fee, uint8_t variant, al_tx *tx)
{
	al_sat ours, theirs, limit;
	struct out o[2], t;
	size_t n = 0, i;

	AL_TRY(final_amounts(ch, fee, &ours, &theirs));
	/* "MUST remove any output below its own `dust_limit_satoshis`" (the signer's),
	 * "MAY eliminate its own output". */
	limit = variant == CLOSE_V_OURS ? ch->local.dust_limit : ch->remote.dust_limit;
	if (!al_sat_less(ours, limit))
		o[n++] = (struct out){ours, ch->shut_local, ch->shut_local_len};
	if (!al_sat_less(theirs, limit) && variant != CLOSE_V_NO_THEIRS)
		o[n++] = (struct out){theirs, ch->shut_remote, ch->shut_remote_len};
	if (n == 0)
		return AL_E_CHAN_CLOSING_FEE;
	if (n == 2 && out_less(&o[1], &o[0])) {
		t = o[0];
		o[0] = o[1];
		o[1] = t;
	}
	/* BOLT #3 Legacy Closing Transaction: "version: 2", "locktime: 0", "`txin[0]`
	 * sequence: 0xFFFFFFFF". */
	AL_TRY(al_tx_init(tx, a, 2, 0, 1, n));
	AL_TRY(al_tx_add_input(tx, ch->funding_txid, ch->funding_vout, 0xFFFFFFFFu));
	for (i = 0; i < n; i++)
		AL_TRY(al_tx_add_output(tx, o[i].amount, o[i].script, o[i].len));
	return AL_OK;
}

static al_err closing_sighash(const al_chan *ch, const al_tx *tx, uint8_t h[32])
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb w;

	al_wb_init(&w, ws, sizeof(ws));
	al_chan__funding_script(ch, &w);
	if (!al_wb_ok(&w))
		return w.err;
	return al_sighash_segwit_v0(h, tx, 0, ws, w.len, ch->funding, AL_SIGHASH_ALL);
}

al_err al_chan__closing_signed_tx(const al_chan *ch, al_arena *a, al_tx *tx)
{
	const al_secp *ctx = ch->env->secp;
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	bool local_first;
	al_bytes items[4];
	al_wb w;

	AL_TRY(al_chan__closing_tx(ch, a, ch->close.our_fee, ch->close.variant, tx));
	al_wb_init(&w, ws, sizeof(ws));
	al_chan__funding_script(ch, &w);
	if (!al_wb_ok(&w))
		return w.err;
	/* "`txin[0]` witness: `0 <signature_for_pubkey1> <signature_for_pubkey2>`", in
	 * the funding script's key order. */
	local_first = al_pubkey_cmp(ctx, &ch->local.funding, &ch->remote.funding) < 0;
	items[0].p = NULL;
	items[0].len = 0;
	AL_TRY(al_ln_witness_sig(ctx, &items[local_first ? 1 : 2], a, &ch->close.our_sig,
	                         AL_SIGHASH_ALL));
	AL_TRY(al_ln_witness_sig(ctx, &items[local_first ? 2 : 1], a, &ch->close.their_sig,
	                         AL_SIGHASH_ALL));
	AL_TRY(al_bytes_dup(&items[3], a, ws, w.len));
	return al_tx_set_witness(tx, a, 0, items, 4);
}

/* Our signature on the closing transaction at `fee` in `variant`. */
static al_err sign_closing(al_chan *ch, uint64_t fee, uint8_t variant)
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a);
	al_tx tx;
	al_err e;

	e = al_chan__closing_tx(ch, a, fee, variant, &tx);
	if (e == AL_OK)
		e = al_signer_sign_closing(ch->signer, &tx, &ch->close.our_sig);
	al_arena_release(a, mark);
	return e;
}

/* The variant of the closing transaction at `fee` the peer's signature covers. */
static al_err their_variant(al_chan *ch, uint64_t fee, const al_ecdsa_sig *sig, uint8_t *variant)
{
	static const uint8_t order[] = {CLOSE_V_THEIRS, CLOSE_V_NO_THEIRS, CLOSE_V_OURS};
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a), i;
	uint8_t h[32];
	al_tx tx;
	al_err e;

	/* BOLT #2: "if the `signature` is not valid for either variant of closing
	 * transaction specified in BOLT #3 OR non-compliant with LOW-S-standard rule:
	 * MUST send a `warning` and close the connection, or send an `error` and fail
	 * the channel." */
	for (i = 0; i < sizeof(order); i++) {
		e = al_chan__closing_tx(ch, a, fee, order[i], &tx);
		if (e == AL_OK)
			e = closing_sighash(ch, &tx, h);
		al_arena_release(a, mark);
		if (e == AL_OK &&
		    al_ecdsa_verify(ch->env->secp, sig, h, &ch->remote.funding) == AL_OK) {
			*variant = order[i];
			return AL_OK;
		}
	}
	return AL_E_CHAN_CLOSING_SIG;
}

/* The fee (and range) we start from: the closing transaction's weight at our
 * feerate, never above the final commitment's fee. */
static al_err our_fee(al_chan *ch)
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a);
	al_sat base, ours, theirs;
	uint64_t weight, fee;
	al_tx tx;
	al_err e;

	e = al_chan__closing_tx(ch, a, 0, CLOSE_V_OURS, &tx);
	weight = e == AL_OK ? al_tx_weight(&tx) + CLOSING_WITNESS_WEIGHT : 0;
	al_arena_release(a, mark);
	AL_TRY(e);
	AL_TRY(al_ln_commit_base_fee(&base, ch->type,
	                             al_chan__feerate(ch, SIDE_L, ch->local_next - 1), 0));
	fee = weight * ch->close.feerate / 1000;
	if (fee > base.sat)
		fee = base.sat;
	AL_TRY(final_amounts(ch, 0, &ours, &theirs));
	if (ch->state & AL_CHAN_ST_OUTBOUND) {
		/* "SHOULD set `fee_range` according to the minimum and maximum fees it is
		 * prepared to pay for a close transaction." */
		if (fee > ours.sat)
			fee = ours.sat;
		ch->close.our_min = al_sat_of(fee / 2);
		ch->close.our_max = al_sat_of(fee * 2 < ours.sat ? fee * 2 : ours.sat);
	} else {
		/* "if it is not the funder: SHOULD set `max_fee_satoshis` to at least the
		 * `max_fee_satoshis` received; SHOULD set `min_fee_satoshis` to a fairly low
		 * value" (we do not pay it). */
		ch->close.our_min = al_sat_of(weight * ch->cfg.min_feerate / 1000);
		ch->close.our_max = theirs;
		if (fee < ch->close.our_min.sat)
			fee = ch->close.our_min.sat;
	}
	ch->close.our_fee = fee;
	return AL_OK;
}

static void done(al_chan *ch, bool reply)
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a);
	al_tx tx;

	ch->close.done = true;
	ch->state |= AL_CHAN_ST_CLOSED;
	if (reply)
		al_chan__send(ch, FXM_CLOSING_SIGNED, ch->close.our_fee);
	if (al_chan__closing_tx(ch, a, ch->close.our_fee, ch->close.variant, &tx) == AL_OK)
		al_tx_txid(&tx, ch->closing_txid);
	al_arena_release(a, mark);
	/* "SHOULD sign and broadcast the final closing transaction." */
	al_chan__push(ch, AL_CHAN_FX_BROADCAST, AL_CHAN_TX_CLOSING, 0);
	al_chan__event(ch, AL_CHAN_EV_CLOSED, 2);
	ch->dirty = true;
}

/* Propose `fee` (a new closing_signed). */
static al_err propose(al_chan *ch, uint64_t fee)
{
	AL_TRY(sign_closing(ch, fee, CLOSE_V_OURS));
	ch->close.our_fee = fee;
	ch->close.sent = true;
	al_chan__send(ch, FXM_CLOSING_SIGNED, fee);
	return AL_OK;
}

/* Agree to the peer's `fee` in the variant its signature covers. */
static al_err agree(al_chan *ch, uint64_t fee, bool reply)
{
	AL_TRY(sign_closing(ch, fee, ch->close.variant));
	ch->close.our_fee = fee;
	done(ch, reply);
	return AL_OK;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

al_err al_chan__recv_closing(al_chan *ch, const struct al_wire_closing_signed *m)
{
	bool funder = ch->state & AL_CHAN_ST_OUTBOUND, range = m->tlvs.has_fee_range;
	uint64_t fee = m->fee_satoshis, lo, hi;
	al_ecdsa_sig sig;

	/* Our side is done: the peer may have missed our last closing_signed (BOLT #2
	 * "`closing_signed` also has no acknowledgment so must be retransmitted upon
	 * reconnection"): it gets the final one again. */
	if (ch->close.done) {
		if (!ch->close.final_resent)
			al_chan__send(ch, FXM_CLOSING_SIGNED, ch->close.our_fee);
		ch->close.final_resent = true;
		return AL_OK;
	}
	if (!(ch->state & AL_CHAN_ST_NEGOTIATING))
		return AL_E_CHAN_UNEXPECTED;
	if (al_ecdsa_sig_parse_compact(ch->env->secp, &sig, m->signature) != AL_OK)
		return AL_E_CHAN_CLOSING_SIG;
	AL_TRY(their_variant(ch, fee, &sig, &ch->close.variant));
	ch->close.their_sig = sig;
	ch->close.their_fee = fee;
	ch->close.received = true;
	if (range) {
		ch->close.their_range = true;
		ch->close.their_min = al_sat_of(m->tlvs.fee_range.min_fee_satoshis);
		ch->close.their_max = al_sat_of(m->tlvs.fee_range.max_fee_satoshis);
		if (ch->close.their_min.sat > ch->close.their_max.sat)
			return AL_E_CHAN_CLOSING_FEE;
	}
	if (!ch->close.sent)
		AL_TRY(our_fee(ch));
	/* "if `fee_satoshis` is equal to its previously sent `fee_satoshis`: SHOULD sign
	 * and broadcast the final closing transaction." */
	if (ch->close.sent && fee == ch->close.our_fee)
		return agree(ch, fee, false);
	if (!range) {
		/* Without fee_range: agree if acceptable, else "MUST propose a value
		 * strictly between the received `fee_satoshis` and its previously-sent
		 * `fee_satoshis`". */
		if (fee >= ch->close.our_min.sat && fee <= ch->close.our_max.sat)
			return agree(ch, fee, true);
		lo = fee < ch->close.our_fee ? fee : ch->close.our_fee;
		hi = fee < ch->close.our_fee ? ch->close.our_fee : fee;
		if (hi - lo < 2)
			return AL_E_CHAN_CLOSING_FEE;
		return propose(ch, lo + (hi - lo) / 2);
	}
	if (!funder && ch->close.our_max.sat < ch->close.their_max.sat)
		ch->close.our_max = ch->close.their_max;
	lo = ch->close.our_min.sat > ch->close.their_min.sat ? ch->close.our_min.sat
	                                                     : ch->close.their_min.sat;
	hi = ch->close.our_max.sat < ch->close.their_max.sat ? ch->close.our_max.sat
	                                                     : ch->close.their_max.sat;
	/* "if there is no overlap between that and its own `fee_range`: SHOULD send a
	 * warning; MUST fail the channel if it doesn't receive a satisfying
	 * `fee_range` after a reasonable amount of time" (at once here). */
	if (lo > hi)
		return AL_E_CHAN_CLOSING_FEE;
	if (funder) {
		/* "if `fee_satoshis` is not in the overlap between the sent and received
		 * `fee_range`: MUST fail the channel; otherwise: MUST reply with the same
		 * `fee_satoshis`." */
		if (fee < lo || fee > hi)
			return AL_E_CHAN_CLOSING_FEE;
		return agree(ch, fee, true);
	}
	/* Not the funder: "if it has already sent a `closing_signed`: if `fee_satoshis`
	 * is not the same as the value it sent: MUST fail the channel"; "otherwise: MUST
	 * propose a `fee_satoshis` in the overlap". */
	if (ch->close.sent)
		return AL_E_CHAN_CLOSING_FEE;
	if (fee >= lo && fee <= hi)
		return agree(ch, fee, true);
	return propose(ch, clamp(fee, lo, hi));
}

/* --- shutdown ---------------------------------------------------------------------------- */

al_err al_chan__recv_shutdown(al_chan *ch, const struct al_wire_shutdown *m)
{
	/* "if it hasn't received a `funding_signed` (if it is a funder) or a
	 * `funding_created` (if it is a fundee): SHOULD send an `error` and fail the
	 * channel." */
	if (!(ch->state & AL_CHAN_ST_FUNDED))
		return AL_E_CHAN_UNEXPECTED;
	/* "if the `scriptpubkey` is not in one of the above forms: SHOULD send a
	 * `warning`." (and the shutdown is not taken) */
	if (!al_chan__script_ok(ch, m->scriptpubkey, m->len)) {
		al_chan__send_warning(ch, AL_E_CHAN_SCRIPT);
		return AL_OK;
	}
	if (ch->state & AL_CHAN_ST_SHUTDOWN_RECV) {
		/* A retransmission after a reconnection must say the same (a peer that
		 * names another script has lost the shutdown it sent: its storage was
		 * rolled back, or it lies). */
		if (m->len != ch->shut_remote_len ||
		    memcmp(m->scriptpubkey, ch->shut_remote, m->len))
			return AL_E_CHAN_SHUTDOWN_CHANGED;
		return AL_OK;
	}
	memcpy(ch->shut_remote, m->scriptpubkey, m->len);
	ch->shut_remote_len = m->len;
	ch->state |= AL_CHAN_ST_SHUTDOWN_RECV;
	ch->dirty = true;
	al_chan__event(ch, AL_CHAN_EV_SHUTDOWN, 0);
	return AL_OK;
}

void al_chan__close_progress(al_chan *ch)
{
	uint32_t live = AL_CHAN_ST_CONNECTED | AL_CHAN_ST_REESTABLISHED;
	al_err e;

	if (ch->state & (AL_CHAN_ST_FAILED | AL_CHAN_ST_CLOSED) || !(ch->state & AL_CHAN_ST_FUNDED))
		return;
	/* Our shutdown: "if there are updates pending on the receiving node's commitment
	 * transaction: MUST NOT send a `shutdown`"; "once there are no outstanding
	 * updates on the peer, UNLESS it has already sent a `shutdown`: MUST reply to a
	 * `shutdown` message with a `shutdown`". */
	if ((ch->shutdown_wanted || (ch->state & AL_CHAN_ST_SHUTDOWN_RECV)) &&
	    !(ch->state & AL_CHAN_ST_SHUTDOWN_SENT) && (ch->state & live) == live &&
	    ch->shut_local_len && !al_chan__our_updates_unsigned(ch)) {
		ch->state |= AL_CHAN_ST_SHUTDOWN_SENT;
		al_chan__send(ch, FXM_SHUTDOWN, 0);
		ch->dirty = true;
	}
	/* "Once shutdown is complete, the channel is empty of HTLCs, there are no
	 * commitments for which a revocation is owed, and all updates are included on
	 * both commitments": the negotiation. */
	if ((ch->state & AL_CHAN_ST_SHUTDOWN_SENT) && (ch->state & AL_CHAN_ST_SHUTDOWN_RECV) &&
	    al_chan__quiet(ch) && !(ch->state & AL_CHAN_ST_NEGOTIATING)) {
		ch->state |= AL_CHAN_ST_NEGOTIATING;
		ch->dirty = true;
	}
	/* "The funding node: after `shutdown` has been received, AND no HTLCs remain in
	 * either commitment transaction: SHOULD send a `closing_signed` message." */
	if ((ch->state & AL_CHAN_ST_NEGOTIATING) && (ch->state & AL_CHAN_ST_OUTBOUND) &&
	    !ch->close.sent && !ch->close.done && (ch->state & live) == live) {
		e = our_fee(ch);
		if (e == AL_OK)
			e = propose(ch, ch->close.our_fee);
		if (e != AL_OK)
			al_chan__fail(ch, e);
	}
}

al_err al_chan_shutdown(al_chan *ch, const uint8_t *script, size_t len, uint32_t feerate_per_kw)
{
	al_err e;

	if (ch->state & AL_CHAN_ST_FAILED)
		return AL_E_CHAN_FAILED;
	if (!(ch->state & AL_CHAN_ST_FUNDED) || (ch->state & AL_CHAN_ST_CLOSED) ||
	    (ch->state & AL_CHAN_ST_SHUTDOWN_SENT) || ch->shutdown_wanted)
		return AL_E_CHAN_STATE;
	if (!al_chan__script_ok(ch, script, len))
		return AL_E_CHAN_SCRIPT;
	if (feerate_per_kw < 253)
		return AL_E_CHAN_FEERATE;
	AL_TRY(al_chan__begin(ch));
	memcpy(ch->shut_local, script, len);
	ch->shut_local_len = len;
	ch->close.feerate = feerate_per_kw;
	ch->shutdown_wanted = true;
	ch->dirty = true;
	/* Our pending updates are signed first (a shutdown waits for them). */
	if (al_chan__our_updates_unsigned(ch) && al_chan__can_sign(ch)) {
		e = al_chan__send_commit(ch);
		if (e != AL_OK) {
			al_chan__abort(ch);
			ch->shutdown_wanted = false;
			return e;
		}
	}
	al_chan__close_progress(ch);
	al_chan__commit(ch);
	return AL_OK;
}

al_err al_chan_force_close(al_chan *ch)
{
	if (!(ch->state & AL_CHAN_ST_FUNDED) ||
	    (ch->state & (AL_CHAN_ST_CLOSED | AL_CHAN_ST_FORCE_CLOSED)))
		return AL_E_CHAN_STATE;
	/* Never with a state the peer proved old. */
	if (ch->state & AL_CHAN_ST_DATA_LOSS)
		return AL_E_CHAN_DATA_LOSS;
	AL_TRY(al_chan__begin(ch));
	if (ch->state & AL_CHAN_ST_FAILED)
		al_chan__go_onchain(ch);
	else
		al_chan__fail(ch, AL_E_CHAN_FORCE_CLOSE);
	al_chan__commit(ch);
	return AL_OK;
}
