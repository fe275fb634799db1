/* The signer's on-chain spends (see "on-chain spends" in ln/signer.h): BOLT #5
 * resolutions, each signature made only with keys and scripts the signer derives
 * itself, and only for a transaction that pays nothing but the destination. */
#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/scripts.h"
#include "ln/signer.h"
#include "ln/signer_int.h"

al_err al_signer_set_destination(al_signer *s, const uint8_t *script, size_t len)
{
	if (!script || len == 0 || len > AL_SIGNER_DEST_MAX)
		return AL_E_ONCHAIN_SIGN_DEST;
	if (s->dest_len)
		return s->dest_len == len && memcmp(s->dest, script, len) == 0
		           ? AL_OK
		           : AL_E_ONCHAIN_SIGN_DEST;
	memcpy(s->dest, script, len);
	s->dest_len = len;
	return AL_OK;
}

/* Every output pays the destination, but output `except` (SIZE_MAX: none). */
static al_err check_outputs(const al_signer *s, const al_tx *tx, size_t except)
{
	size_t i;

	if (!s->dest_len || tx->n_out == 0)
		return AL_E_ONCHAIN_SIGN_DEST;
	for (i = 0; i < tx->n_out; i++) {
		const al_bytes *o = &tx->out[i].script;

		if (i == except)
			continue;
		if (o->len != s->dest_len || memcmp(o->p, s->dest, s->dest_len) != 0)
			return AL_E_ONCHAIN_SIGN_DEST;
	}
	return AL_OK;
}

/* Our commitment `n` is the latest one, signed for broadcast, never revoked. */
static al_err check_holder(const al_signer *s, uint64_t n)
{
	if (!s->holder_accepted || !s->holder_broadcast || n != s->holder_latest ||
	    n < s->holder_revoked)
		return AL_E_ONCHAIN_SIGN_REVOKED;
	return AL_OK;
}

/* Sign with `key` over `wscript` (the BIP 143 scriptCode), SIGHASH_ALL. */
static al_err sign_input(const al_signer *s, const al_tx *tx, const al_signer_spend *d,
                         const uint8_t *wscript, size_t wlen, const al_privkey *key,
                         al_ecdsa_sig *sig)
{
	uint8_t h[32];

	AL_TRY(al_sighash_segwit_v0(h, tx, d->input, wscript, wlen, d->amount, AL_SIGHASH_ALL));
	return al_ecdsa_sign(s->ctx, sig, h, key);
}

static al_err holder_delayed(al_signer *s, const al_tx *tx, const al_signer_spend *d,
                             al_ecdsa_sig *sig)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_pubkey point;
	al_ln_keyset k;
	al_privkey key;
	al_wb w;
	al_err e;

	AL_TRY(check_holder(s, d->commitment_number));
	AL_TRY(check_outputs(s, tx, SIZE_MAX));
	AL_TRY(al_signer_holder_point(s, d->commitment_number, &point));
	AL_TRY(al_ln_keyset_derive(s->ctx, &k, &s->bp, &s->ch.counterparty, &point));
	/* BOLT #3 to_local (and the output of HTLC-timeout/-success): "spent by a
	 * transaction with `nSequence` field set to `to_self_delay` ... with witness:
	 * <local_delayedsig> <>" -- the delay the counterparty imposed on us. */
	al_wb_init(&w, ws, sizeof(ws));
	al_ln_to_local_script(&w, s->ctx, &k.revocation, s->ch.counterparty_selected_delay,
	                      &k.local_delayed);
	if (!al_wb_ok(&w))
		return w.err;
	e = al_ln_derive_privkey(s->ctx, &key, &s->delayed, &point);
	if (e == AL_OK)
		e = sign_input(s, tx, d, ws, w.len, &key, sig);
	al_privkey_clear(&key);
	return e;
}

static bool same_output(const al_tx_out *a, const al_tx_out *b)
{
	return a->amount.sat == b->amount.sat && a->script.len == b->script.len &&
	       memcmp(a->script.p, b->script.p, a->script.len) == 0;
}

static al_err holder_htlc(al_signer *s, al_arena *a, const al_tx *tx, const al_signer_spend *d,
                          al_ecdsa_sig *sig)
{
	const al_tx_in *in = &tx->in[d->input];
	size_t mark = al_arena_mark(a);
	uint8_t txid[32];
	al_pubkey point;
	al_privkey key;
	al_ln_htlc_tx h;
	al_err e;

	if (!d->holder)
		return AL_E_ARG;
	/* Our latest commitment, signed for broadcast: the very transaction accepted. */
	AL_TRY(check_holder(s, d->holder->p.commitment_number));
	al_tx_txid(&d->holder->tx, txid);
	if (memcmp(txid, s->holder_txid, 32) != 0)
		return AL_E_ONCHAIN_SIGN_REVOKED;
	if (d->input >= tx->n_out)
		return AL_E_ONCHAIN_SIGN_TX;
	AL_TRY(check_outputs(s, tx, d->input));
	/* BOLT #3: the HTLC transaction as the counterparty signed it: its output at the
	 * same index (SIGHASH_SINGLE|SIGHASH_ANYONECANPAY lets option_anchors add fee
	 * inputs and a change output), its locktime and nSequence. */
	e = al_ln_htlc_tx_build(s->ctx, &h, a, d->holder, d->commit_out);
	if (e == AL_OK &&
	    (memcmp(in->txid, h.tx.in[0].txid, 32) != 0 || in->vout != h.tx.in[0].vout ||
	     in->sequence != h.tx.in[0].sequence || tx->locktime != h.tx.locktime ||
	     tx->version != h.tx.version || d->amount.sat != h.input_amount.sat ||
	     !same_output(&tx->out[d->input], &h.tx.out[0]) ||
	     (!h.anchors && (tx->n_in != 1 || tx->n_out != 1))))
		e = AL_E_ONCHAIN_SIGN_TX;
	if (e == AL_OK)
		e = al_signer_holder_point(s, d->holder->p.commitment_number, &point);
	if (e == AL_OK)
		e = al_ln_derive_privkey(s->ctx, &key, &s->htlc, &point);
	if (e == AL_OK) {
		/* "The local signature MUST use `SIGHASH_ALL`, otherwise anyone can attach
		 * additional inputs and outputs to the tx." */
		e = sign_input(s, tx, d, h.wscript.p, h.wscript.len, &key, sig);
		al_privkey_clear(&key);
	}
	al_arena_release(a, mark);
	return e;
}

static al_err anchor(al_signer *s, const al_tx *tx, const al_signer_spend *d, al_ecdsa_sig *sig)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb w;

	AL_TRY(check_outputs(s, tx, SIZE_MAX));
	/* BOLT #3: "<local_funding_pubkey/remote_funding_pubkey> OP_CHECKSIG OP_IFDUP
	 * OP_NOTIF OP_16 OP_CHECKSEQUENCEVERIFY OP_ENDIF", spent by "<local_sig>". */
	al_wb_init(&w, ws, sizeof(ws));
	al_ln_anchor_script(&w, s->ctx, &s->funding_pub);
	if (!al_wb_ok(&w))
		return w.err;
	return sign_input(s, tx, d, ws, w.len, &s->funding, sig);
}

static al_err to_remote(al_signer *s, const al_tx *tx, const al_signer_spend *d, al_ecdsa_sig *sig)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT], ser[AL_PUBKEY_LEN], h160[20];
	al_wb w;

	AL_TRY(check_outputs(s, tx, SIZE_MAX));
	al_wb_init(&w, ws, sizeof(ws));
	if (s->ch.type == AL_LN_CHAN_ANCHORS) {
		/* BOLT #3: "<remotepubkey> OP_CHECKSIGVERIFY 1 OP_CHECKSEQUENCEVERIFY" */
		al_ln_to_remote_anchors_script(&w, s->ctx, &s->bp.payment);
	} else {
		/* P2WPKH to remotepubkey = our payment_basepoint (option_static_remotekey):
		 * BIP 143's scriptCode is the P2PKH script of the key hash. */
		al_pubkey_serialize(s->ctx, ser, &s->bp.payment);
		al_hash160(h160, ser, sizeof(ser));
		al_script_p2wpkh_scriptcode(&w, h160);
	}
	if (!al_wb_ok(&w))
		return w.err;
	return sign_input(s, tx, d, ws, w.len, &s->payment, sig);
}

/* The witness script of HTLC `h` in the counterparty's commitment with keys `k`. */
static al_err cp_htlc_script(const al_signer *s, const al_ln_keyset *k, const al_ln_htlc *h,
                             al_wb *w)
{
	bool anchors = s->ch.type == AL_LN_CHAN_ANCHORS;

	if (h->offered)
		al_ln_offered_htlc_script(w, s->ctx, k, h->payment_hash, anchors);
	else
		al_ln_received_htlc_script(w, s->ctx, k, h->payment_hash, h->cltv_expiry, anchors);
	return al_wb_ok(w) ? AL_OK : w->err;
}

static al_err cp_htlc(al_signer *s, const al_tx *tx, const al_signer_spend *d, al_ecdsa_sig *sig)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	uint64_t n = d->commitment_number;
	al_ln_keyset k;
	al_privkey key;
	al_wb w;
	al_err e;
	int i;

	if (!d->htlc)
		return AL_E_ARG;
	/* An unrevoked counterparty commitment the signer signed: number cp_next - 1 or
	 * cp_next - 2, for the point it was signed for. */
	for (i = 0; i < 2; i++)
		if (s->cp_has_point[i] && s->cp_next >= (uint64_t)i + 1 &&
		    n == s->cp_next - 1 - (uint64_t)i && n >= s->cp_revoked &&
		    al_pubkey_eq(s->ctx, &d->point, &s->cp_point[i]))
			break;
	if (i == 2)
		return AL_E_ONCHAIN_SIGN_COMMITMENT;
	AL_TRY(check_outputs(s, tx, SIZE_MAX));
	AL_TRY(al_ln_keyset_derive(s->ctx, &k, &s->ch.counterparty, &s->bp, &d->point));
	al_wb_init(&w, ws, sizeof(ws));
	AL_TRY(cp_htlc_script(s, &k, d->htlc, &w));
	/* BOLT #3: the remote node (us) spends with remote_htlcpubkey: "<remotehtlcsig>
	 * <payment_preimage>" (offered by the owner) or "<remotehtlcsig> <>" after
	 * cltv_expiry (received by the owner). */
	e = al_ln_derive_privkey(s->ctx, &key, &s->htlc, &d->point);
	if (e == AL_OK)
		e = sign_input(s, tx, d, ws, w.len, &key, sig);
	al_privkey_clear(&key);
	return e;
}

static al_err revoked(al_signer *s, const al_tx *tx, const al_signer_spend *d, al_ecdsa_sig *sig)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_pubkey point;
	al_ln_keyset k;
	al_privkey key;
	al_wb w;
	al_err e;

	if (d->commitment_number >= s->cp_revoked)
		return AL_E_ONCHAIN_SIGN_UNREVOKED;
	AL_TRY(check_outputs(s, tx, SIZE_MAX));
	AL_TRY(al_ln_per_commitment_point(s->ctx, &point, d->secret));
	AL_TRY(al_ln_keyset_derive(s->ctx, &k, &s->ch.counterparty, &s->bp, &point));
	al_wb_init(&w, ws, sizeof(ws));
	if (d->htlc)
		AL_TRY(cp_htlc_script(s, &k, d->htlc, &w));
	else
		al_ln_to_local_script(&w, s->ctx, &k.revocation, s->ch.holder_selected_delay,
		                      &k.local_delayed);
	if (!al_wb_ok(&w))
		return w.err;
	/* BOLT #3: "revocationprivkey = revocation_basepoint_secret *
	 * SHA256(revocation_basepoint || per_commitment_point) + per_commitment_secret *
	 * SHA256(per_commitment_point || revocation_basepoint)" */
	e = al_ln_revocation_privkey(s->ctx, &key, &s->revocation, d->secret);
	if (e == AL_OK)
		e = sign_input(s, tx, d, ws, w.len, &key, sig);
	al_privkey_clear(&key);
	return e;
}

al_err al_signer_sign_spend(al_signer *s, al_arena *a, const al_tx *tx, const al_signer_spend *d,
                            al_ecdsa_sig *sig)
{
	al_err e;

	memset(sig, 0, sizeof(*sig));
	if (!s->ready)
		return AL_E_SIGNER_NOT_READY;
	if (d->input >= tx->n_in)
		return AL_E_RANGE;
	switch (d->kind) {
	case AL_SIGNER_SPEND_HOLDER_DELAYED:
		e = holder_delayed(s, tx, d, sig);
		break;
	case AL_SIGNER_SPEND_HOLDER_HTLC:
		e = holder_htlc(s, a, tx, d, sig);
		break;
	case AL_SIGNER_SPEND_ANCHOR:
		e = anchor(s, tx, d, sig);
		break;
	case AL_SIGNER_SPEND_TO_REMOTE:
		e = to_remote(s, tx, d, sig);
		break;
	case AL_SIGNER_SPEND_CP_HTLC:
		e = cp_htlc(s, tx, d, sig);
		break;
	case AL_SIGNER_SPEND_REVOKED:
		e = revoked(s, tx, d, sig);
		break;
	default:
		e = AL_E_ARG;
	}
	if (e != AL_OK)
		memset(sig, 0, sizeof(*sig));
	return e;
}
