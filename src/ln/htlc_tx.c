#include "ln/htlc_tx.h"

#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/scripts.h"

#define P2WSH_LEN 34

/* BOLT #3: "The witness script for the output is: OP_IF # Penalty transaction
 * <revocationpubkey> OP_ELSE `to_self_delay` OP_CHECKSEQUENCEVERIFY OP_DROP
 * <local_delayedpubkey> OP_ENDIF OP_CHECKSIG" (the to_local form: the owner's funds
 * are delayed, the revocation key punishes a revoked state). */
static al_err add_output(const al_secp *ctx, al_ln_htlc_tx *h, al_arena *a, const al_ln_commit *c,
                         al_sat amount)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT], spk[P2WSH_LEN];
	al_bytes script;
	al_wb w, sw;

	al_wb_init(&w, ws, sizeof(ws));
	al_ln_to_local_script(&w, ctx, &c->p.keys.revocation, c->p.to_self_delay,
	                      &c->p.keys.local_delayed);
	if (!al_wb_ok(&w))
		return w.err;
	al_wb_init(&sw, spk, sizeof(spk));
	al_script_p2wsh(&sw, ws, w.len);
	if (!al_wb_ok(&sw))
		return sw.err;
	AL_TRY(al_bytes_dup(&h->out_wscript, a, ws, w.len));
	AL_TRY(al_bytes_dup(&script, a, spk, sw.len));
	return al_tx_add_output(&h->tx, amount, script.p, script.len);
}

static al_err build(const al_secp *ctx, al_ln_htlc_tx *h, al_arena *a, const al_ln_commit *c,
                    size_t commit_out)
{
	const al_ln_commit_out *o;
	uint8_t txid[32];
	al_sat amount, fee;

	if (commit_out >= c->tx.n_out || c->outs[commit_out].kind != AL_LN_OUT_HTLC)
		return AL_E_ARG;
	o = &c->outs[commit_out];
	h->htlc = &c->p.htlcs[o->htlc];
	h->success = !h->htlc->offered;
	h->commit_out = commit_out;
	h->input_amount = c->tx.out[commit_out].amount;
	h->wscript = o->wscript;
	h->anchors = c->p.type == AL_LN_CHAN_ANCHORS;
	/* BOLT #3: "`txout[0]` amount: the HTLC `amount_msat` divided by 1000 (rounding
	 * down) minus fees in satoshis". An untrimmed HTLC always covers its fee. */
	fee = al_ln_htlc_tx_fee(c->p.type, c->p.feerate_per_kw, h->htlc->offered);
	if (!al_sat_sub(&amount, h->input_amount, fee))
		return AL_E_FEE;
	/* BOLT #3: "version: 2"; "locktime: `0` for HTLC-success, `cltv_expiry` for
	 * HTLC-timeout"; "`txin[0]` sequence: `0` (set to `1` for `option_anchors`)"
	 * (the anchors HTLC scripts demand a one-block CSV). */
	AL_TRY(al_tx_init(&h->tx, a, 2, h->success ? 0 : h->htlc->cltv_expiry, 1, 1));
	al_tx_txid(&c->tx, txid);
	AL_TRY(al_tx_add_input(&h->tx, txid, (uint32_t)commit_out, h->anchors ? 1 : 0));
	return add_output(ctx, h, a, c, amount);
}

al_err al_ln_htlc_tx_build(const al_secp *ctx, al_ln_htlc_tx *h, al_arena *a, const al_ln_commit *c,
                           size_t commit_out)
{
	size_t mark = al_arena_mark(a);
	al_err e;

	memset(h, 0, sizeof(*h));
	e = build(ctx, h, a, c, commit_out);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		memset(h, 0, sizeof(*h));
	}
	return e;
}

al_err al_ln_htlc_txs_build(const al_secp *ctx, al_ln_htlc_tx **out, al_arena *a,
                            const al_ln_commit *c)
{
	size_t mark = al_arena_mark(a), i, n = 0;
	al_ln_htlc_tx *arr;
	al_err e;

	*out = NULL;
	e = al_arena_alloc(a, (c->n_untrimmed_htlcs ? c->n_untrimmed_htlcs : 1) * sizeof(*arr),
	                   _Alignof(al_ln_htlc_tx), (void **)&arr);
	for (i = 0; e == AL_OK && i < c->tx.n_out; i++) {
		if (c->outs[i].kind != AL_LN_OUT_HTLC)
			continue;
		if (n == c->n_untrimmed_htlcs) {
			e = AL_E_ARG;
			break;
		}
		e = al_ln_htlc_tx_build(ctx, &arr[n++], a, c, i);
	}
	if (e != AL_OK) {
		al_arena_release(a, mark);
		return e;
	}
	*out = arr;
	return AL_OK;
}

uint32_t al_ln_htlc_tx_remote_sighash_type(const al_ln_htlc_tx *h)
{
	return h->anchors ? (AL_SIGHASH_SINGLE | AL_SIGHASH_ANYONECANPAY) : AL_SIGHASH_ALL;
}

al_err al_ln_htlc_tx_sighash(uint8_t out[32], const al_ln_htlc_tx *h, uint32_t sighash_type)
{
	return al_sighash_segwit_v0(out, &h->tx, 0, h->wscript.p, h->wscript.len, h->input_amount,
	                            sighash_type);
}

al_err al_ln_htlc_tx_sign(const al_secp *ctx, al_ecdsa_sig *sig, const al_ln_htlc_tx *h,
                          const al_privkey *htlc_key, uint32_t sighash_type)
{
	uint8_t d[32];

	AL_TRY(al_ln_htlc_tx_sighash(d, h, sighash_type));
	return al_ecdsa_sign(ctx, sig, d, htlc_key);
}

al_err al_ln_htlc_tx_verify(const al_secp *ctx, const al_ecdsa_sig *sig, const al_ln_htlc_tx *h,
                            const al_pubkey *htlc_pubkey, uint32_t sighash_type)
{
	uint8_t d[32];

	AL_TRY(al_ln_htlc_tx_sighash(d, h, sighash_type));
	return al_ecdsa_verify(ctx, sig, d, htlc_pubkey);
}

static al_err set_witness(const al_secp *ctx, al_ln_htlc_tx *h, al_arena *a,
                          const al_ecdsa_sig *remote_sig, const al_ecdsa_sig *local_sig,
                          const uint8_t preimage[32])
{
	al_bytes items[5];

	/* BOLT #3: "`txin[0]` witness stack: `0 <remotehtlcsig> <localhtlcsig>
	 * <payment_preimage>` for HTLC-success, `0 <remotehtlcsig> <localhtlcsig> <>` for
	 * HTLC-timeout", then the witness script (Use of Segwit). */
	items[0].p = NULL;
	items[0].len = 0;
	AL_TRY(al_ln_witness_sig(ctx, &items[1], a, remote_sig,
	                         (uint8_t)al_ln_htlc_tx_remote_sighash_type(h)));
	AL_TRY(al_ln_witness_sig(ctx, &items[2], a, local_sig, AL_SIGHASH_ALL));
	items[3].p = NULL;
	items[3].len = 0;
	if (h->success)
		AL_TRY(al_bytes_dup(&items[3], a, preimage, 32));
	items[4] = h->wscript;
	return al_tx_set_witness(&h->tx, a, 0, items, 5);
}

al_err al_ln_htlc_tx_finalize(const al_secp *ctx, al_ln_htlc_tx *h, al_arena *a,
                              const al_ecdsa_sig *remote_sig, const al_ecdsa_sig *local_sig,
                              const uint8_t preimage[32])
{
	size_t mark = al_arena_mark(a);
	uint8_t hash[32];
	al_err e;

	if (h->success) {
		if (!preimage)
			return AL_E_ARG;
		al_sha256(hash, preimage, 32);
		if (!al_memeq_ct(hash, h->htlc->payment_hash, 32))
			return AL_E_ARG;
	}
	e = set_witness(ctx, h, a, remote_sig, local_sig, preimage);
	if (e != AL_OK)
		al_arena_release(a, mark);
	return e;
}
