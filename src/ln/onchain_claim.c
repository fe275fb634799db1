/* Claims: which outputs can be spent now, gathered into transactions (one justice
 * transaction for every revoked output, one transaction for each other output), the
 * fee of each version and its replacement every block until it confirms, and the
 * transaction itself, rebuilt and signed when it is delivered. */
#include <string.h>

#include "btc/script.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/htlc_tx.h"
#include "ln/onchain_int.h"
#include "ln/scripts.h"

/* A DER signature with its sighash byte is at most 73 bytes: the size fees are
 * computed for (BOLT #5 Appendix A: "revocation_sig: 73 bytes"). */
static const uint8_t dummy_sig[73];
static const uint8_t dummy_key[33];
static const uint8_t one = 1;
/* A P2WPKH input: 41 bytes outside the witness, a 109-byte witness (LDK
 * BASE_INPUT_WEIGHT + P2WPKH_WITNESS_WEIGHT): what a FUND request adds per input. */
#define WALLET_INPUT_WEIGHT (4 * 41 + 109)

al_sat al_onchain__dust(const uint8_t *script, size_t len)
{
	int version;
	const uint8_t *prog;
	size_t plen;

	/* Bitcoin Core GetDustThreshold at DUST_RELAY_TX_FEE 3000 sat/kvB: (output size
	 * + spend size) * 3, the spend 67 vbytes for witness programs (32 + 4 + 1 + 107/4
	 * + 4), else 148. */
	if (al_script_is_witness_program(script, len, &version, &prog, &plen))
		return al_sat_of((8 + 1 + len + 67) * 3);
	return al_sat_of((8 + 1 + len + 148) * 3);
}

static uint64_t fee_at(uint64_t feerate, uint64_t weight)
{
	return (feerate * weight + 999) / 1000;
}

static uint32_t clamp_rate(const al_onchain *o, uint64_t r)
{
	if (r < o->cfg.min_feerate)
		r = o->cfg.min_feerate;
	if (r > o->cfg.max_feerate)
		r = o->cfg.max_feerate;
	return (uint32_t)r;
}

void al_onchain__free_claim(al_onchain *o, uint32_t k)
{
	size_t i;

	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].claim == k)
			o->outs[i].claim = OC_NONE;
	/* Its wallet inputs stay known (orphans, reusable) so that a transaction of it
	 * confirming later is still accounted for. */
	for (i = 0; i < o->win_cap; i++)
		if (o->win[i].used && o->win[i].claim == k)
			o->win[i].claim = OC_NONE;
	memset(&o->claims[k], 0, sizeof(o->claims[k]));
	o->dirty = true;
}

/* --- what can be spent now ---------------------------------------------------------- */

static bool anchors(const al_onchain *o)
{
	return o->type == AL_LN_CHAN_ANCHORS;
}

/* The relative delay (BIP 68 blocks) and nSequence of a row's spend. */
static uint32_t row_csv(const al_onchain *o, const struct oc_out *r)
{
	switch (r->kind) {
	case AL_ONCHAIN_OUT_TO_LOCAL:
	case AL_ONCHAIN_OUT_SECOND:
		/* BOLT #5: "MUST wait until the `OP_CHECKSEQUENCEVERIFY` delay has passed
		 * (as specified by the remote node's `to_self_delay` field)". */
		return o->cdelay;
	case AL_ONCHAIN_OUT_TO_REMOTE:
	case AL_ONCHAIN_OUT_CP_TIMEOUT:
	case AL_ONCHAIN_OUT_CP_SUCCESS:
	case AL_ONCHAIN_OUT_HTLC_TIMEOUT:
	case AL_ONCHAIN_OUT_HTLC_SUCCESS:
		/* BOLT #3 option_anchors: "1 OP_CHECKSEQUENCEVERIFY" on to_remote and on the
		 * HTLC outputs' non-revocation branches. */
		return anchors(o) ? 1 : 0;
	default:
		return 0;
	}
}

static uint32_t row_sequence(const al_onchain *o, const struct oc_out *r)
{
	uint32_t csv = row_csv(o, r);

	/* BIP 125: below 0xfffffffe signals replaceability (and enables nLockTime). */
	return csv ? csv : 0xFFFFFFFDu;
}

static const al_ln_htlc *row_htlc(const al_onchain *o, const struct oc_out *r)
{
	return r->htlc < o->sp.n_htlcs ? &o->sp_htlcs[r->htlc] : NULL;
}

static bool cpfp_wanted(const al_onchain *o)
{
	uint64_t rate = o->hold.weight ? o->hold.fee.sat * 1000 / o->hold.weight : 0;

	/* BOLT #5: "MUST spend any `to_local_anchor` output, providing sufficient fees as
	 * incentive to include the commitment transaction in a block" -- when its own
	 * fee falls short of the target (Core Lightning anchorspend.c: "If the feerate
	 * for the commitment tx is already sufficient"). */
	return anchors(o) && o->hold.broadcast && o->sp.kind == AL_ONCHAIN_SPEND_HOLDER &&
	       o->sp.height == 0 && rate < clamp_rate(o, o->feerate);
}

static bool claimable(const al_onchain *o, const struct oc_out *r)
{
	const al_ln_htlc *h = row_htlc(o, r);
	uint32_t csv;

	if (r->how != AL_ONCHAIN_HOW_OPEN || r->dust)
		return false;
	/* Spent by the counterparty, or by a confirmed transaction: done. */
	if (r->spent && (!r->spent_ours || r->spend_height))
		return false;
	if (r->kind == AL_ONCHAIN_OUT_ANCHOR)
		return cpfp_wanted(o);
	/* Claimed only once the chain was asked who spends it: a sync step ran after its
	 * WATCH (a claim conflicting with a spend already in the chain helps nobody). */
	if (!r->checked || r->height == 0 || r->height > o->height)
		return false;
	/* Valid in the next block (BIP 68: its height - the parent's >= csv). */
	csv = row_csv(o, r);
	if (csv && (uint64_t)o->height + 1 < (uint64_t)r->height + csv)
		return false;
	switch (r->kind) {
	case AL_ONCHAIN_OUT_HTLC_TIMEOUT:
	case AL_ONCHAIN_OUT_CP_TIMEOUT:
		/* BOLT #5: "The HTLC output has *timed out* once the height of the latest
		 * block is equal to or greater than the HTLC `cltv_expiry`". */
		return h && o->height >= h->cltv_expiry;
	case AL_ONCHAIN_OUT_HTLC_SUCCESS:
	case AL_ONCHAIN_OUT_CP_SUCCESS:
		return h && al_onchain__find_pre(o, h->payment_hash);
	default:
		return true;
	}
}

static al_onchain_claim_kind claim_kind_of(uint8_t row_kind)
{
	switch (row_kind) {
	case AL_ONCHAIN_OUT_REVOKED_TO_LOCAL:
	case AL_ONCHAIN_OUT_REVOKED_HTLC:
	case AL_ONCHAIN_OUT_REVOKED_SECOND:
		return AL_ONCHAIN_CLAIM_JUSTICE;
	case AL_ONCHAIN_OUT_HTLC_TIMEOUT:
	case AL_ONCHAIN_OUT_HTLC_SUCCESS:
		return AL_ONCHAIN_CLAIM_HTLC;
	case AL_ONCHAIN_OUT_ANCHOR:
		return AL_ONCHAIN_CLAIM_CPFP;
	default:
		return AL_ONCHAIN_CLAIM_SWEEP;
	}
}

/* Inputs one justice transaction takes at most: BOLT #5 "max_num_htlcs = (400000 -
 * 324 - 272 - (4 * 53) - 2) / 413 = 966" holds without anchors; their HTLC scripts
 * are 3 bytes longer (LDK weight_revoked_received_htlc: + OP_1 OP_CSV OP_DROP), so
 * 967 revoked outputs no longer fit 400,000 weight units: split, with room. */
#define JUSTICE_MAX_INPUTS 800

static size_t members(const al_onchain *o, uint32_t k, uint32_t *idx, size_t cap);

static uint32_t new_claim(al_onchain *o, al_onchain_claim_kind kind)
{
	size_t i, free_slot = 0;

	if (kind == AL_ONCHAIN_CLAIM_CPFP) {
		i = OC_CLAIM_CPFP;
		if (!o->claims[i].used) {
			memset(&o->claims[i], 0, sizeof(o->claims[i]));
			o->claims[i].used = true;
			o->claims[i].kind = (uint8_t)kind;
		}
		return (uint32_t)i;
	}
	for (i = 2; i < o->claims_cap; i++) {
		if (!o->claims[i].used) {
			if (!free_slot)
				free_slot = i;
			continue;
		}
		/* BOLT #5 "MAY use a single transaction to *resolve* all the outputs". */
		if (kind == AL_ONCHAIN_CLAIM_JUSTICE && o->claims[i].kind == kind &&
		    members(o, (uint32_t)i, NULL, 0) < JUSTICE_MAX_INPUTS)
			return (uint32_t)i;
	}
	if (!free_slot)
		return OC_NONE;
	memset(&o->claims[free_slot], 0, sizeof(o->claims[free_slot]));
	o->claims[free_slot].used = true;
	o->claims[free_slot].kind = (uint8_t)kind;
	return (uint32_t)free_slot;
}

/* --- building ---------------------------------------------------------------------------- */

static size_t members(const al_onchain *o, uint32_t k, uint32_t *idx, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].claim == k) {
			if (idx && n < cap)
				idx[n] = (uint32_t)i;
			n++;
		}
	return n;
}

static size_t wallet_inputs(const al_onchain *o, uint32_t k, al_sat *total)
{
	size_t i, n = 0;

	*total = al_sat_of(0);
	for (i = 0; i < o->win_cap; i++)
		if (o->win[i].used && o->win[i].claim == k) {
			oc_add(total, o->win[i].amount);
			n++;
		}
	return n;
}

static al_err dup(al_arena *a, al_bytes *out, const uint8_t *p, size_t len)
{
	return al_bytes_dup(out, a, p, len);
}

/* The witness of a row spent by our claim: BOLT #3/#5 per output kind. */
static al_err row_witness(al_onchain *o, al_arena *a, al_tx *tx, size_t in, const struct oc_out *r,
                          bool sign)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT], ser[AL_PUBKEY_LEN];
	const al_ln_htlc *h = row_htlc(o, r);
	const struct oc_pre *pre;
	al_signer_spend d;
	al_bytes it[3], script;
	al_ecdsa_sig sig;
	size_t n = 0;
	al_wb w;
	al_err e;

	al_wb_init(&w, ws, sizeof(ws));
	AL_TRY(al_onchain__row_script(o, r, &w));
	AL_TRY(dup(a, &script, ws, w.len));
	memset(&d, 0, sizeof(d));
	d.input = in;
	d.amount = r->amount;
	d.commitment_number = o->sp.number;
	d.point = o->sp.point;
	switch (r->kind) {
	case AL_ONCHAIN_OUT_TO_LOCAL:
	case AL_ONCHAIN_OUT_SECOND:
		d.kind = AL_SIGNER_SPEND_HOLDER_DELAYED;
		break;
	case AL_ONCHAIN_OUT_ANCHOR:
		d.kind = AL_SIGNER_SPEND_ANCHOR;
		break;
	case AL_ONCHAIN_OUT_TO_REMOTE:
		d.kind = AL_SIGNER_SPEND_TO_REMOTE;
		break;
	case AL_ONCHAIN_OUT_CP_TIMEOUT:
	case AL_ONCHAIN_OUT_CP_SUCCESS:
		d.kind = AL_SIGNER_SPEND_CP_HTLC;
		d.htlc = h;
		break;
	default:
		d.kind = AL_SIGNER_SPEND_REVOKED;
		d.htlc = r->kind == AL_ONCHAIN_OUT_REVOKED_HTLC ? h : NULL;
		break;
	}
	it[0] = (al_bytes){dummy_sig, sizeof(dummy_sig)};
	if (sign) {
		if (d.kind == AL_SIGNER_SPEND_REVOKED)
			AL_TRY(al_shachain_get(&o->secrets, al_shachain_index_of(o->sp.number),
			                       d.secret));
		e = al_signer_sign_spend(o->signer, a, tx, &d, &sig);
		al_memzero(d.secret, sizeof(d.secret));
		AL_TRY(e);
		AL_TRY(al_ln_witness_sig(o->env->secp, &it[0], a, &sig, 0x01));
	}
	n = 1;
	switch (r->kind) {
	case AL_ONCHAIN_OUT_TO_LOCAL:
	case AL_ONCHAIN_OUT_SECOND:
	case AL_ONCHAIN_OUT_CP_TIMEOUT:
		/* "<local_delayedsig> <>" / "<remotehtlcsig> <>" (after cltv_expiry). */
		it[n++] = (al_bytes){NULL, 0};
		break;
	case AL_ONCHAIN_OUT_CP_SUCCESS:
		/* "<remotehtlcsig> <payment_preimage>" */
		pre = h ? al_onchain__find_pre(o, h->payment_hash) : NULL;
		if (!pre)
			return AL_E_ARG;
		it[n++] = (al_bytes){pre->preimage, 32};
		break;
	case AL_ONCHAIN_OUT_REVOKED_TO_LOCAL:
	case AL_ONCHAIN_OUT_REVOKED_SECOND:
		/* BOLT #3: "<revocation_sig> 1" */
		it[n++] = (al_bytes){&one, 1};
		break;
	case AL_ONCHAIN_OUT_REVOKED_HTLC:
		/* "<revocation_sig> <revocationpubkey>" */
		al_pubkey_serialize(o->env->secp, ser, &o->sp.keys.revocation);
		AL_TRY(dup(a, &it[n++], ser, sizeof(ser)));
		break;
	case AL_ONCHAIN_OUT_TO_REMOTE:
		if (!anchors(o)) {
			/* P2WPKH: "<remote_sig> <remotepubkey>" */
			al_pubkey_serialize(o->env->secp, ser, &o->hbp.payment);
			AL_TRY(dup(a, &it[n++], ser, sizeof(ser)));
			return al_tx_set_witness(tx, a, in, it, n);
		}
		break;
	default:
		break;
	}
	it[n++] = script;
	return al_tx_set_witness(tx, a, in, it, n);
}

static al_err wallet_witness(al_arena *a, al_tx *tx, size_t in, const struct oc_win *wi, bool sign)
{
	al_bytes it[2];

	if (!sign) {
		it[0] = (al_bytes){dummy_sig, sizeof(dummy_sig)};
		it[1] = (al_bytes){dummy_key, sizeof(dummy_key)};
		return al_tx_set_witness(tx, a, in, it, 2);
	}
	if (!wi->has_wit)
		return AL_OK; /* left for the wallet */
	it[0] = (al_bytes){wi->sig, wi->sig_len};
	it[1] = (al_bytes){wi->pk, sizeof(wi->pk)};
	return al_tx_set_witness(tx, a, in, it, 2);
}

static al_err add_wallet_inputs(al_onchain *o, al_arena *a, uint32_t k, al_tx *tx, bool sign)
{
	size_t i;

	for (i = 0; i < o->win_cap; i++) {
		const struct oc_win *wi = &o->win[i];

		if (!wi->used || wi->claim != k)
			continue;
		AL_TRY(al_tx_add_input(tx, wi->txid, wi->vout, 0xFFFFFFFDu));
		AL_TRY(wallet_witness(a, tx, tx->n_in - 1, wi, sign));
	}
	return AL_OK;
}

/* Sum of rows, the output after `fee`. */
static al_err sweep_tx(al_onchain *o, uint32_t k, al_arena *a, bool sign, al_tx *tx)
{
	const struct oc_claim *c = &o->claims[k];
	size_t n = members(o, k, NULL, 0), i;
	al_sat total = al_sat_of(0), out;
	uint32_t locktime = 0, *idx;

	if (n == 0)
		return AL_E_ARG;
	AL_TRY(al_arena_alloc(a, n * sizeof(uint32_t), 4, (void **)&idx));
	members(o, k, idx, n);
	for (i = 0; i < n; i++) {
		const struct oc_out *r = &o->outs[idx[i]];
		const al_ln_htlc *h = row_htlc(o, r);

		if (!al_sat_add(&total, total, r->amount))
			return AL_E_OVERFLOW;
		/* BOLT #3 received HTLC (the owner's view): "OP_CHECKLOCKTIMEVERIFY" on
		 * cltv_expiry for our timeout branch. */
		if (r->kind == AL_ONCHAIN_OUT_CP_TIMEOUT && h && h->cltv_expiry > locktime)
			locktime = h->cltv_expiry;
	}
	if (!al_sat_sub(&out, total, c->fee))
		return AL_E_FEE;
	AL_TRY(al_tx_init(tx, a, 2, locktime, n, 1));
	for (i = 0; i < n; i++) {
		const struct oc_out *r = &o->outs[idx[i]];

		AL_TRY(al_tx_add_input(tx, r->txid, r->vout, row_sequence(o, r)));
	}
	AL_TRY(al_tx_add_output(tx, out, o->dest, o->dest_len));
	for (i = 0; i < n; i++)
		AL_TRY(row_witness(o, a, tx, i, &o->outs[idx[i]], sign));
	return AL_OK;
}

/* The index of HTLC output `vout` among the commitment's HTLC outputs (the order of
 * the counterparty's htlc_signatures). */
static size_t htlc_sig_index(const al_ln_commit *c, size_t vout)
{
	size_t i, n = 0;

	for (i = 0; i < vout; i++)
		n += c->outs[i].kind == AL_LN_OUT_HTLC;
	return n;
}

/* Our HTLC-timeout/-success transaction for row r (claim k). */
static al_err htlc_tx(al_onchain *o, uint32_t k, al_arena *a, bool sign, al_tx *tx)
{
	const struct oc_claim *cl = &o->claims[k];
	uint32_t ri;
	const struct oc_out *r;
	const struct oc_pre *pre = NULL;
	al_ecdsa_sig mine;
	al_signer_spend d;
	al_ln_htlc_tx h;
	al_ln_commit c;
	al_bytes it[5];
	al_sat wtotal, change;
	size_t si;

	if (members(o, k, &ri, 1) != 1)
		return AL_E_ARG;
	r = &o->outs[ri];
	AL_TRY(al_onchain__holder_commit(o, a, &c));
	if (r->vout >= c.tx.n_out || c.outs[r->vout].kind != AL_LN_OUT_HTLC)
		return AL_E_ARG;
	si = htlc_sig_index(&c, r->vout);
	if (si >= o->hold.n_sigs)
		return AL_E_ARG;
	AL_TRY(al_ln_htlc_tx_build(o->env->secp, &h, a, &c, r->vout));
	if (h.success) {
		pre = al_onchain__find_pre(o, h.htlc->payment_hash);
		if (!pre)
			return AL_E_ARG;
	}
	if (!anchors(o)) {
		/* BOLT #5: "HTLC-timeout and HTLC-success transactions are complete
		 * transactions with (hopefully!) reasonable fees and must be used
		 * directly." */
		*tx = h.tx;
	} else {
		/* "MUST combine it with inputs contributing sufficient fee": input and
		 * output 0 as signed (SIGHASH_SINGLE|SIGHASH_ANYONECANPAY), then the
		 * wallet's inputs and our change. */
		(void)wallet_inputs(o, k, &wtotal);
		if (!al_sat_sub(&change, wtotal, cl->fee))
			return AL_E_FEE;
		AL_TRY(al_tx_init(tx, a, 2, h.tx.locktime, 1 + AL_ONCHAIN_MAX_CLAIM_INPUTS, 2));
		AL_TRY(al_tx_add_input(tx, h.tx.in[0].txid, h.tx.in[0].vout, h.tx.in[0].sequence));
		AL_TRY(al_tx_add_output(tx, h.tx.out[0].amount, h.tx.out[0].script.p,
		                        h.tx.out[0].script.len));
		AL_TRY(al_tx_add_output(tx, change, o->dest, o->dest_len));
		AL_TRY(add_wallet_inputs(o, a, k, tx, sign));
	}
	/* "`txin[0]` witness stack: `0 <remotehtlcsig> <localhtlcsig> <payment_preimage>`
	 * for HTLC-success, `0 <remotehtlcsig> <localhtlcsig> <>` for HTLC-timeout". */
	it[0] = (al_bytes){NULL, 0};
	it[1] = (al_bytes){dummy_sig, sizeof(dummy_sig)};
	it[2] = (al_bytes){dummy_sig, sizeof(dummy_sig)};
	it[3] = pre ? (al_bytes){pre->preimage, 32} : (al_bytes){NULL, 0};
	it[4] = h.wscript;
	if (sign) {
		memset(&d, 0, sizeof(d));
		d.kind = AL_SIGNER_SPEND_HOLDER_HTLC;
		d.input = 0;
		d.amount = h.input_amount;
		d.holder = &c;
		d.commit_out = r->vout;
		AL_TRY(al_signer_sign_spend(o->signer, a, tx, &d, &mine));
		AL_TRY(al_ln_witness_sig(o->env->secp, &it[1], a, &o->hold_sigs[si],
		                         (uint8_t)al_ln_htlc_tx_remote_sighash_type(&h)));
		AL_TRY(al_ln_witness_sig(o->env->secp, &it[2], a, &mine, 0x01));
	}
	return al_tx_set_witness(tx, a, 0, it, 5);
}

/* The child of our commitment: anchor and wallet inputs, change. */
static al_err cpfp_tx(al_onchain *o, uint32_t k, al_arena *a, bool sign, al_tx *tx)
{
	const struct oc_claim *cl = &o->claims[k];
	uint32_t ri;
	const struct oc_out *r;
	al_sat wtotal, total, change;

	if (members(o, k, &ri, 1) != 1)
		return AL_E_ARG;
	r = &o->outs[ri];
	(void)wallet_inputs(o, k, &wtotal);
	if (!al_sat_add(&total, wtotal, r->amount) || !al_sat_sub(&change, total, cl->fee))
		return AL_E_FEE;
	AL_TRY(al_tx_init(tx, a, 2, 0, 1 + AL_ONCHAIN_MAX_CLAIM_INPUTS, 1));
	AL_TRY(al_tx_add_input(tx, r->txid, r->vout, row_sequence(o, r)));
	AL_TRY(al_tx_add_output(tx, change, o->dest, o->dest_len));
	AL_TRY(add_wallet_inputs(o, a, k, tx, sign));
	return row_witness(o, a, tx, 0, r, sign);
}

static al_err commit_tx(al_onchain *o, al_arena *a, bool sign, al_tx *tx)
{
	al_ecdsa_sig mine;
	al_ln_commit c;

	AL_TRY(al_onchain__holder_commit(o, a, &c));
	if (sign) {
		/* The signer signs only our latest, unrevoked commitment (BOLT #2 "MUST NOT
		 * broadcast old (revoked) commitment transactions"). */
		AL_TRY(al_signer_sign_holder(o->signer, &c, &mine));
		AL_TRY(al_ln_commit_finalize(o->env->secp, &c, a, &mine, &o->hold.sig));
	}
	*tx = c.tx;
	return AL_OK;
}

al_err al_onchain__claim_tx(al_onchain *o, uint32_t k, al_arena *a, bool sign, al_tx *tx)
{
	size_t mark = al_arena_mark(a);
	al_err e;

	switch (o->claims[k].kind) {
	case AL_ONCHAIN_CLAIM_COMMIT:
		e = commit_tx(o, a, sign, tx);
		break;
	case AL_ONCHAIN_CLAIM_CPFP:
		e = cpfp_tx(o, k, a, sign, tx);
		break;
	case AL_ONCHAIN_CLAIM_HTLC:
		e = htlc_tx(o, k, a, sign, tx);
		break;
	default:
		e = sweep_tx(o, k, a, sign, tx);
		break;
	}
	if (e != AL_OK)
		al_arena_release(a, mark);
	return e;
}

/* --- versions and their fees ------------------------------------------------------------- */

/* The least fee a new version must pay to replace what of ours spends its rows now
 * (BIP 125 rules 3 and 4, LDK feerate_bump). */
static uint64_t replace_floor(const al_onchain *o, uint32_t k, uint64_t weight)
{
	const struct oc_claim *c = &o->claims[k];
	uint64_t floor = 0, incr = fee_at(AL_ONCHAIN_INCREMENTAL_FEE, weight);
	size_t i, j;

	if (c->built)
		floor = c->fee.sat + incr;
	for (i = 0; i < o->outs_cap; i++) {
		const struct oc_out *r = &o->outs[i];

		if (!r->used || r->claim != k || !r->spent || !r->spent_ours || r->spend_height)
			continue;
		for (j = 0; j < o->txs_cap; j++)
			if (o->txs[j].used && memcmp(o->txs[j].txid, r->spender, 32) == 0 &&
			    o->txs[j].fee.sat + incr > floor)
				floor = o->txs[j].fee.sat + incr;
	}
	return floor;
}

static void mark_dust(al_onchain *o, uint32_t k)
{
	size_t i;

	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].claim == k) {
			o->outs[i].dust = true;
			o->outs[i].claim = OC_NONE;
		}
	al_onchain__free_claim(o, k);
}

/* Ask the wallet for `want` more. */
static void want_funds(al_onchain *o, uint32_t k, uint64_t want, uint32_t feerate)
{
	struct oc_claim *c = &o->claims[k];

	if (!c->need_fund || c->want.sat != want || c->want_feerate != feerate)
		o->dirty = true;
	c->need_fund = true;
	c->want = al_sat_of(want);
	c->want_feerate = feerate;
}

/* Make claim k's next version at `rate` (per kw), if it can be better than the
 * current one. */
static al_err version(al_onchain *o, uint32_t k, uint32_t rate)
{
	al_arena *a = o->env->scratch;
	struct oc_claim *c = &o->claims[k];
	size_t mark = al_arena_mark(a);
	uint64_t weight, fee, floor, cap, value = 0, have = 0;
	al_sat dust = al_onchain__dust(o->dest, o->dest_len), wtotal, old_fee;
	uint8_t txid[32];
	size_t i;
	al_tx tx;
	al_err e;

	/* The fee does not change the weight: measure at zero. */
	old_fee = c->built ? c->fee : al_sat_of(0);
	c->fee = al_sat_of(0);
	e = al_onchain__claim_tx(o, k, a, false, &tx);
	c->fee = old_fee;
	if (e != AL_OK) {
		al_arena_release(a, mark);
		return e;
	}
	weight = al_tx_weight(&tx);
	al_arena_release(a, mark);
	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].claim == k)
			value += o->outs[i].amount.sat;
	have = wallet_inputs(o, k, &wtotal) ? wtotal.sat : 0;
	floor = replace_floor(o, k, weight);
	switch (c->kind) {
	case AL_ONCHAIN_CLAIM_HTLC:
		if (!anchors(o)) {
			/* The fee the counterparty signed for. */
			if (c->built)
				return AL_OK;
			fee = 0;
			break;
		}
		fee = fee_at(rate, weight);
		/* Worth at most the HTLC (Core Lightning: "Is it even worth spending this
		 * fee"), and the rate cap. */
		cap = fee_at(o->cfg.max_feerate, weight);
		if (cap > value)
			cap = value;
		if (fee < floor)
			fee = floor;
		if (fee > cap)
			fee = cap;
		if (fee < floor)
			return AL_OK; /* the cap allows no replacement: rebroadcast */
		if (have < fee + dust.sat) {
			want_funds(o, k,
			           fee_at(rate, weight + WALLET_INPUT_WEIGHT) + dust.sat - have,
			           rate);
			return AL_OK;
		}
		break;
	case AL_ONCHAIN_CLAIM_CPFP: {
		/* Package feerate: (parent fee + child fee) / (parent + child weight). */
		uint64_t pw = o->hold.weight, pf = o->hold.fee.sat, all = pw + weight;

		fee = fee_at(rate, all) > pf ? fee_at(rate, all) - pf : 0;
		if (fee < fee_at(o->cfg.min_feerate, weight))
			fee = fee_at(o->cfg.min_feerate, weight);
		if (fee < floor)
			fee = floor;
		cap =
		    fee_at(o->cfg.max_feerate, all) > pf ? fee_at(o->cfg.max_feerate, all) - pf : 0;
		if (cap > o->hold.stake.sat)
			cap = o->hold.stake.sat;
		if (fee > cap)
			fee = cap;
		if (fee < floor || fee < fee_at(o->cfg.min_feerate, weight))
			return AL_OK;
		/* The anchor's 330 sat count for the child. */
		if (have + value < fee + dust.sat) {
			uint64_t more = fee_at(rate, all + WALLET_INPUT_WEIGHT);

			more = more > pf ? more - pf : 0;

			if (more < fee)
				more = fee;
			want_funds(o, k, more + dust.sat - have - value, rate);
			return AL_OK;
		}
		break;
	}
	default:
		/* Paid from what it sweeps: at most max_fee_permille of it (LDK: "sweep half
		 * of the input amounts"), the rate cap, and a change above dust. */
		fee = fee_at(rate, weight);
		if (fee < floor)
			fee = floor;
		cap = value * o->cfg.max_fee_permille / 1000;
		if (cap > fee_at(o->cfg.max_feerate, weight))
			cap = fee_at(o->cfg.max_feerate, weight);
		if (value < dust.sat)
			cap = 0;
		else if (cap > value - dust.sat)
			cap = value - dust.sat;
		if (fee > cap)
			fee = cap;
		if (fee < floor || fee < fee_at(o->cfg.min_feerate, weight)) {
			/* No version worth making: keep rebroadcasting the current one, or
			 * leave the output (not worth its spend). */
			if (!c->built)
				mark_dust(o, k);
			return AL_OK;
		}
		break;
	}
	c->need_fund = false;
	if (c->built) {
		c->has_prev = true;
		memcpy(c->prev_txid, c->txid, 32);
	}
	c->fee = al_sat_of(fee);
	e = al_onchain__claim_tx(o, k, a, false, &tx);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		return e;
	}
	al_tx_txid(&tx, txid);
	if (c->kind == AL_ONCHAIN_CLAIM_HTLC && !anchors(o)) {
		/* Its actual fee: the HTLC amount less the output. */
		fee = value - tx.out[0].amount.sat;
		c->fee = al_sat_of(fee);
	}
	al_arena_release(a, mark);
	memcpy(c->txid, txid, 32);
	c->weight = (uint32_t)weight;
	c->feerate = c->kind == AL_ONCHAIN_CLAIM_CPFP
	                 ? (uint32_t)((fee + o->hold.fee.sat) * 1000 / (weight + o->hold.weight))
	                 : (uint32_t)(fee * 1000 / weight);
	c->made_at = o->height;
	c->built = true;
	c->stale = false;
	c->bcast = true;
	c->need_sign = have > 0;
	c->sign_asked = false;
	/* The wallet signs each version anew. */
	for (i = 0; i < o->win_cap; i++)
		if (o->win[i].used && o->win[i].claim == k) {
			o->win[i].has_wit = false;
			o->win[i].sig_len = 0;
			memset(o->win[i].sig, 0, sizeof(o->win[i].sig));
			memset(o->win[i].pk, 0, sizeof(o->win[i].pk));
		}
	o->dirty = true;
	return AL_OK;
}

static uint32_t target_rate(const al_onchain *o)
{
	return clamp_rate(o, o->feerate);
}

/* --- planning -------------------------------------------------------------------------- */

static void settle(al_onchain *o);

void al_onchain__plan(al_onchain *o)
{
	size_t i;
	al_err e;

	if (o->state & AL_ONCHAIN_ST_FAILED)
		return;
	/* Our commitment is rebroadcast while it is the pending spend. */
	if (o->hold.broadcast && !o->claims[OC_CLAIM_COMMIT].used) {
		o->claims[OC_CLAIM_COMMIT].used = true;
		o->claims[OC_CLAIM_COMMIT].kind = AL_ONCHAIN_CLAIM_COMMIT;
		o->claims[OC_CLAIM_COMMIT].bcast = true;
		o->dirty = true;
	}
	/* Rows leave claims they can no longer be part of. */
	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];

		if (!r->used || r->claim == OC_NONE || claimable(o, r))
			continue;
		o->claims[r->claim].stale = true;
		r->claim = OC_NONE;
		o->dirty = true;
	}
	for (i = 1; i < o->claims_cap; i++)
		if (o->claims[i].used && members(o, (uint32_t)i, NULL, 0) == 0)
			al_onchain__free_claim(o, (uint32_t)i);
	/* Rows that can be claimed join one. */
	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];
		uint32_t k;

		if (!r->used || r->claim != OC_NONE || !claimable(o, r))
			continue;
		k = new_claim(o, claim_kind_of(r->kind));
		if (k == OC_NONE) {
			al_onchain__fail(o, AL_E_ONCHAIN_FULL);
			return;
		}
		r->claim = k;
		o->claims[k].stale = true;
		o->dirty = true;
	}
	for (i = 1; i < o->claims_cap; i++) {
		if (!o->claims[i].used || !o->claims[i].stale)
			continue;
		e = version(o, (uint32_t)i, target_rate(o));
		if (e != AL_OK) {
			al_onchain__fail(o, e);
			return;
		}
		o->claims[i].stale = false;
	}
	settle(o);
}

void al_onchain__bump(al_onchain *o)
{
	size_t i;
	al_err e;

	if (o->state & AL_ONCHAIN_ST_FAILED)
		return;
	o->claims[OC_CLAIM_COMMIT].bcast = o->claims[OC_CLAIM_COMMIT].used;
	for (i = 1; i < o->claims_cap; i++) {
		struct oc_claim *c = &o->claims[i];
		uint64_t r;

		if (!c->used)
			continue;
		c->fund_asked = false;
		c->bcast = c->built;
		if (!c->built || c->made_at >= o->height) {
			if (c->need_fund)
				c->stale = true;
			continue;
		}
		/* LDK FeerateStrategy::ForceBump: the estimate if higher, else the previous
		 * feerate + 25%. */
		r = (uint64_t)c->feerate + c->feerate / 4;
		if (r < target_rate(o))
			r = target_rate(o);
		e = version(o, (uint32_t)i, clamp_rate(o, r));
		if (e != AL_OK) {
			al_onchain__fail(o, e);
			return;
		}
	}
	al_onchain__plan(o);
}

/* --- final depth ------------------------------------------------------------------------- */

static void settle(al_onchain *o)
{
	bool open = false;
	size_t i;

	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];
		const al_ln_htlc *h = row_htlc(o, r);
		uint8_t how = AL_ONCHAIN_HOW_OPEN;

		if (!r->used || r->how != AL_ONCHAIN_HOW_OPEN)
			continue;
		if (r->spent && al_onchain__final(o, r->spend_height))
			how = r->spent_ours ? AL_ONCHAIN_HOW_OURS : AL_ONCHAIN_HOW_THEIRS;
		else if (!r->spent && al_onchain__final(o, r->height) &&
		         al_onchain__final(o, o->sp.height)) {
			if (r->dust)
				how = AL_ONCHAIN_HOW_DUST;
			else if (r->kind == AL_ONCHAIN_OUT_ANCHOR)
				how = AL_ONCHAIN_HOW_DUST; /* anyone's after 16 blocks */
			/* BOLT #5: "If not otherwise resolved, once the HTLC output has expired,
			 * it is considered *irrevocably resolved*." -- after final_depth more
			 * blocks, in which the counterparty's timeout usually confirms (then it
			 * is resolved as theirs). */
			else if ((r->kind == AL_ONCHAIN_OUT_HTLC_SUCCESS ||
			          r->kind == AL_ONCHAIN_OUT_CP_SUCCESS) &&
			         h && !al_onchain__find_pre(o, h->payment_hash) &&
			         (uint64_t)o->height >=
			             (uint64_t)h->cltv_expiry + o->cfg.final_depth)
				how = AL_ONCHAIN_HOW_EXPIRED;
		}
		if (how != AL_ONCHAIN_HOW_OPEN) {
			r->how = how;
			if (r->claim != OC_NONE) {
				o->claims[r->claim].stale = true;
				r->claim = OC_NONE;
			}
			o->dirty = true;
		}
		open |= r->how == AL_ONCHAIN_HOW_OPEN;
	}
	if (!open && o->sp.kind != AL_ONCHAIN_SPEND_NONE && al_onchain__final(o, o->sp.height)) {
		if (!(o->state & AL_ONCHAIN_ST_DONE))
			o->dirty = true;
		o->state |= AL_ONCHAIN_ST_DONE;
	} else {
		if (o->state & AL_ONCHAIN_ST_DONE)
			o->dirty = true;
		o->state &= ~AL_ONCHAIN_ST_DONE;
	}
}
