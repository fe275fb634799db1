#include "ln/commit.h"

#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "ln/scripts.h"

/* BOLT #3 Appendix A expected weights. */
#define COMMIT_WEIGHT         724
#define COMMIT_WEIGHT_ANCHORS 1124
#define HTLC_OUTPUT_WEIGHT    172
#define HTLC_TIMEOUT_WEIGHT   663
#define HTLC_SUCCESS_WEIGHT   703

#define P2WSH_LEN  34
#define P2WPKH_LEN 22

uint64_t al_ln_commitment_obscurer(const al_secp *ctx, const al_pubkey *opener_payment_basepoint,
                                   const al_pubkey *accepter_payment_basepoint)
{
	uint8_t h[32];

	/* BOLT #3: "The 48-bit commitment number is obscured by `XOR` with the lower 48
	 * bits of: SHA256(payment_basepoint from open_channel || payment_basepoint from
	 * accept_channel)" */
	al_ln_sha256_points(ctx, h, opener_payment_basepoint, accepter_payment_basepoint);
	return al_read_be64(h + 24) & 0xFFFFFFFFFFFFULL;
}

al_sat al_ln_htlc_tx_fee(al_ln_chan_type type, uint32_t feerate_per_kw, bool offered)
{
	/* BOLT #3: "If `option_anchors_zero_fee_htlc_tx` applies: MUST be 0. Otherwise,
	 * MUST be calculated to match: Multiply `feerate_per_kw` by 663 [703 for
	 * HTLC-success] and divide by 1000 (rounding down)." A u32 feerate times 703
	 * cannot overflow 64 bits. */
	if (type == AL_LN_CHAN_ANCHORS)
		return al_sat_of(0);
	return al_sat_of((uint64_t)feerate_per_kw *
	                 (offered ? HTLC_TIMEOUT_WEIGHT : HTLC_SUCCESS_WEIGHT) / 1000);
}

al_err al_ln_commit_base_fee(al_sat *out, al_ln_chan_type type, uint32_t feerate_per_kw,
                             size_t n_untrimmed)
{
	uint64_t weight = type == AL_LN_CHAN_ANCHORS ? COMMIT_WEIGHT_ANCHORS : COMMIT_WEIGHT;
	al_sat w;

	/* BOLT #3: "1. Start with `weight` = 724 (1124 if `option_anchors` applies).
	 * 2. For each committed HTLC, if that output is not trimmed [...] add 172 to
	 * `weight`. 3. Multiply `feerate_per_kw` by `weight`, divide by 1000 (rounding
	 * down)." */
	if (n_untrimmed > AL_LN_MAX_HTLCS)
		return AL_E_RANGE;
	weight += (uint64_t)HTLC_OUTPUT_WEIGHT * n_untrimmed;
	if (!al_sat_mul(&w, al_sat_of(weight), feerate_per_kw))
		return AL_E_OVERFLOW;
	*out = al_sat_of(w.sat / 1000);
	return AL_OK;
}

bool al_ln_htlc_is_trimmed(al_ln_chan_type type, uint32_t feerate_per_kw, al_sat dust_limit,
                           const al_ln_htlc *h)
{
	al_sat amount = al_msat_to_sat_floor(h->amount), left;

	/* BOLT #3: "if the HTLC amount minus the HTLC-timeout [HTLC-success] fee would be
	 * less than `dust_limit_satoshis` set by the transaction owner: MUST NOT contain
	 * that output." */
	if (!al_sat_sub(&left, amount, al_ln_htlc_tx_fee(type, feerate_per_kw, h->offered)))
		return true;
	return al_sat_less(left, dust_limit);
}

static al_err check_params(const al_ln_commit_params *p)
{
	size_t i;

	if (p->type != AL_LN_CHAN_STATIC_REMOTEKEY && p->type != AL_LN_CHAN_ANCHORS)
		return AL_E_ARG;
	if (p->n_htlcs && !p->htlcs)
		return AL_E_ARG;
	if (p->commitment_number > 0xFFFFFFFFFFFFULL || p->obscurer > 0xFFFFFFFFFFFFULL)
		return AL_E_RANGE;
	if (p->n_htlcs > AL_LN_MAX_HTLCS || p->to_self_delay == 0)
		return AL_E_RANGE;
	if (p->dust_limit.sat < AL_LN_MIN_DUST_LIMIT || !al_sat_is_valid_money(p->funding_amount))
		return AL_E_RANGE;
	for (i = 0; i < p->n_htlcs; i++)
		if (p->htlcs[i].cltv_expiry >= AL_LN_LOCKTIME_THRESHOLD)
			return AL_E_RANGE;
	return AL_OK;
}

/* Every millisatoshi of the funding output is someone's balance or an HTLC. */
static al_err check_balance(const al_ln_commit_params *p)
{
	al_msat sum, funding;
	size_t i;

	if (!al_msat_add(&sum, p->to_local, p->to_remote))
		return AL_E_CHANNEL_BALANCE;
	for (i = 0; i < p->n_htlcs; i++)
		if (!al_msat_add(&sum, sum, p->htlcs[i].amount))
			return AL_E_CHANNEL_BALANCE;
	if (!al_sat_to_msat(&funding, p->funding_amount) || sum.msat != funding.msat)
		return AL_E_CHANNEL_BALANCE;
	return AL_OK;
}

static size_t count_untrimmed(const al_ln_commit_params *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_htlcs; i++)
		if (!al_ln_htlc_is_trimmed(p->type, p->feerate_per_kw, p->dust_limit, &p->htlcs[i]))
			n++;
	return n;
}

/* What the funder pays before the outputs are determined: the base fee and, with
 * anchors, 2 * 330 sat. */
static al_err funder_charge(const al_ln_commit_params *p, size_t n_untrimmed, al_sat *base_fee,
                            al_sat *charge)
{
	AL_TRY(al_ln_commit_base_fee(base_fee, p->type, p->feerate_per_kw, n_untrimmed));
	*charge = *base_fee;
	/* BOLT #3: "If `option_anchors` applies to the commitment transaction, also
	 * subtract two times the fixed anchor size of 330 sats from the funder". */
	if (p->type == AL_LN_CHAN_ANCHORS &&
	    !al_sat_add(charge, *charge, al_sat_of(2 * AL_LN_ANCHOR_SAT)))
		return AL_E_OVERFLOW;
	return AL_OK;
}

al_err al_ln_commit_check_fee(const al_ln_commit_params *p)
{
	al_sat base, charge, funder;

	AL_TRY(check_params(p));
	AL_TRY(check_balance(p));
	AL_TRY(funder_charge(p, count_untrimmed(p), &base, &charge));
	funder = al_msat_to_sat_floor(p->local_is_funder ? p->to_local : p->to_remote);
	return al_sat_less(funder, charge) ? AL_E_FEE : AL_OK;
}

/* An output before ordering. */
typedef struct cand {
	al_sat amount;
	al_bytes script; /* scriptPubKey */
	uint32_t cltv;   /* HTLC outputs only, for the tiebreak */
	al_ln_commit_out out;
} cand;

typedef struct builder {
	const al_secp *ctx;
	al_arena *a;
	const al_ln_commit_params *p;
	cand *cands;
	size_t n;
} builder;

/* Add a P2WSH output for the witness script in `w` (written by the caller). */
static al_err add_p2wsh(builder *b, const al_wb *w, al_sat amount, al_ln_out_kind kind, size_t htlc,
                        uint32_t cltv)
{
	uint8_t spk[P2WSH_LEN];
	al_wb sw;
	cand *c = &b->cands[b->n];

	if (!al_wb_ok(w))
		return w->err;
	al_wb_init(&sw, spk, sizeof(spk));
	al_script_p2wsh(&sw, w->p, w->len);
	if (!al_wb_ok(&sw))
		return sw.err;
	AL_TRY(al_bytes_dup(&c->out.wscript, b->a, w->p, w->len));
	AL_TRY(al_bytes_dup(&c->script, b->a, spk, sw.len));
	c->amount = amount;
	c->cltv = cltv;
	c->out.kind = kind;
	c->out.htlc = htlc;
	b->n++;
	return AL_OK;
}

static al_err add_htlcs(builder *b)
{
	const al_ln_commit_params *p = b->p;
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	bool anchors = p->type == AL_LN_CHAN_ANCHORS;
	size_t i;
	al_wb w;

	/* BOLT #3: "4. For every offered HTLC, if it is not trimmed, add an offered HTLC
	 * output. 5. For every received HTLC, if it is not trimmed, add an received HTLC
	 * output." */
	for (i = 0; i < p->n_htlcs; i++) {
		const al_ln_htlc *h = &p->htlcs[i];

		if (al_ln_htlc_is_trimmed(p->type, p->feerate_per_kw, p->dust_limit, h))
			continue;
		al_wb_init(&w, ws, sizeof(ws));
		if (h->offered)
			al_ln_offered_htlc_script(&w, b->ctx, &p->keys, h->payment_hash, anchors);
		else
			al_ln_received_htlc_script(&w, b->ctx, &p->keys, h->payment_hash,
			                           h->cltv_expiry, anchors);
		/* BOLT #3: "The amounts for each output MUST be rounded down to whole
		 * satoshis." */
		AL_TRY(add_p2wsh(b, &w, al_msat_to_sat_floor(h->amount), AL_LN_OUT_HTLC, i,
		                 h->cltv_expiry));
	}
	return AL_OK;
}

static al_err add_to_local(builder *b, al_sat amount)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb w;

	al_wb_init(&w, ws, sizeof(ws));
	al_ln_to_local_script(&w, b->ctx, &b->p->keys.revocation, b->p->to_self_delay,
	                      &b->p->keys.local_delayed);
	return add_p2wsh(b, &w, amount, AL_LN_OUT_TO_LOCAL, 0, 0);
}

static al_err add_to_remote(builder *b, al_sat amount)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT], spk[P2WPKH_LEN];
	cand *c = &b->cands[b->n];
	al_wb w;

	if (b->p->type == AL_LN_CHAN_ANCHORS) {
		al_wb_init(&w, ws, sizeof(ws));
		al_ln_to_remote_anchors_script(&w, b->ctx, &b->p->keys.remote);
		return add_p2wsh(b, &w, amount, AL_LN_OUT_TO_REMOTE, 0, 0);
	}
	/* BOLT #3: "Otherwise, this output is a simple P2WPKH to `remotepubkey`." */
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wpkh_pubkey(&w, b->ctx, &b->p->keys.remote);
	if (!al_wb_ok(&w))
		return w.err;
	AL_TRY(al_bytes_dup(&c->script, b->a, spk, w.len));
	c->amount = amount;
	c->cltv = 0;
	c->out.kind = AL_LN_OUT_TO_REMOTE;
	c->out.htlc = 0;
	c->out.wscript.p = NULL;
	c->out.wscript.len = 0;
	b->n++;
	return AL_OK;
}

static al_err add_anchor(builder *b, bool local)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb w;

	al_wb_init(&w, ws, sizeof(ws));
	al_ln_anchor_script(&w, b->ctx, local ? &b->p->local_funding : &b->p->remote_funding);
	return add_p2wsh(b, &w, al_sat_of(AL_LN_ANCHOR_SAT),
	                 local ? AL_LN_OUT_LOCAL_ANCHOR : AL_LN_OUT_REMOTE_ANCHOR, 0, 0);
}

/* BOLT #3 Transaction Output Ordering: "first according to their value, smallest
 * first [...] followed by `scriptpubkey`, comparing the common-length prefix
 * lexicographically as if by `memcmp`, then selecting the shorter script (if they
 * differ in length), finally, for HTLC outputs, in increasing `cltv_expiry` order." */
static int cand_cmp(const cand *x, const cand *y)
{
	size_t n = x->script.len < y->script.len ? x->script.len : y->script.len;
	int r;

	if (x->amount.sat != y->amount.sat)
		return x->amount.sat < y->amount.sat ? -1 : 1;
	r = memcmp(x->script.p, y->script.p, n);
	if (r)
		return r;
	if (x->script.len != y->script.len)
		return x->script.len < y->script.len ? -1 : 1;
	if (x->cltv != y->cltv)
		return x->cltv < y->cltv ? -1 : 1;
	return 0;
}

/* Stable insertion sort: equal outputs keep the caller's HTLC order. */
static void sort_cands(cand *c, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		cand t = c[i];

		for (j = i; j > 0 && cand_cmp(&c[j - 1], &t) > 0; j--)
			c[j] = c[j - 1];
		c[j] = t;
	}
}

/* Steps 3 and 6-8 of BOLT #3 Commitment Transaction Construction. */
static al_err add_balances(builder *b, al_ln_commit *c, size_t n_untrimmed)
{
	const al_ln_commit_params *p = b->p;
	al_sat local = al_msat_to_sat_floor(p->to_local);
	al_sat remote = al_msat_to_sat_floor(p->to_remote);
	al_sat *funder = p->local_is_funder ? &local : &remote, charge;
	bool has_local, has_remote;

	AL_TRY(funder_charge(p, n_untrimmed, &c->base_fee, &charge));
	/* BOLT #3: "Note that after the fee amount is subtracted from the to-funder
	 * output, that output may be below `dust_limit_satoshis`, and thus will also
	 * contribute to fees." A funder that cannot pay it all pays what it has (the
	 * "fee greater than funder amount" test vector). */
	if (!al_sat_sub(funder, *funder, charge)) {
		*funder = al_sat_of(0);
		c->funder_short = true;
	}
	/* BOLT #3: "6. If the `to_local` amount is greater or equal to
	 * `dust_limit_satoshis`, add a `to_local` output. 7. If the `to_remote` amount is
	 * greater or equal to `dust_limit_satoshis`, add a `to_remote` output." */
	has_local = !al_sat_less(local, p->dust_limit);
	has_remote = !al_sat_less(remote, p->dust_limit);
	if (has_local)
		AL_TRY(add_to_local(b, local));
	if (has_remote)
		AL_TRY(add_to_remote(b, remote));
	if (p->type != AL_LN_CHAN_ANCHORS)
		return AL_OK;
	/* BOLT #3: "8. If `option_anchors` applies to the commitment transaction: if
	 * `to_local` exists or there are untrimmed HTLCs, add a `to_local_anchor` output;
	 * if `to_remote` exists or there are untrimmed HTLCs, add a `to_remote_anchor`
	 * output" */
	if (has_local || n_untrimmed)
		AL_TRY(add_anchor(b, true));
	if (has_remote || n_untrimmed)
		AL_TRY(add_anchor(b, false));
	return AL_OK;
}

static al_err make_funding_wscript(builder *b, al_ln_commit *c)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb w;

	al_wb_init(&w, ws, sizeof(ws));
	al_ln_funding_script(&w, b->ctx, &b->p->local_funding, &b->p->remote_funding);
	if (!al_wb_ok(&w))
		return w.err;
	return al_bytes_dup(&c->funding_wscript, b->a, ws, w.len);
}

/* BOLT #3 Commitment Transaction: "locktime: upper 8 bits are 0x20, lower 24 bits are
 * the lower 24 bits of the obscured commitment number"; "`txin[0]` sequence: upper 8
 * bits are 0x80, lower 24 bits are upper 24 bits of the obscured commitment number". */
static al_err assemble(builder *b, al_ln_commit *c)
{
	const al_ln_commit_params *p = b->p;
	uint64_t obscured = p->commitment_number ^ p->obscurer;
	uint32_t locktime = 0x20000000u | (uint32_t)(obscured & 0xFFFFFF);
	uint32_t sequence = 0x80000000u | (uint32_t)((obscured >> 24) & 0xFFFFFF);
	al_sat total = al_sat_of(0);
	size_t i;

	sort_cands(b->cands, b->n);
	AL_TRY(al_tx_init(&c->tx, b->a, 2, locktime, 1, b->n));
	AL_TRY(al_tx_add_input(&c->tx, p->funding_txid, p->funding_vout, sequence));
	AL_TRY(al_arena_alloc(b->a, (b->n ? b->n : 1) * sizeof(*c->outs),
	                      _Alignof(al_ln_commit_out), (void **)&c->outs));
	for (i = 0; i < b->n; i++) {
		const cand *k = &b->cands[i];

		AL_TRY(al_tx_add_output(&c->tx, k->amount, k->script.p, k->script.len));
		c->outs[i] = k->out;
		if (!al_sat_add(&total, total, k->amount))
			return AL_E_OVERFLOW;
	}
	/* The outputs never exceed the funding amount: balances were checked to add up to
	 * it and the fee only ever lowers them. */
	if (!al_sat_sub(&c->fee, p->funding_amount, total))
		return AL_E_CHANNEL_BALANCE;
	return AL_OK;
}

static al_err build(builder *b, al_ln_commit *c)
{
	size_t n_untrimmed;

	AL_TRY(check_params(b->p));
	AL_TRY(check_balance(b->p));
	n_untrimmed = count_untrimmed(b->p);
	/* HTLCs, to_local, to_remote and two anchors at most. */
	AL_TRY(al_arena_alloc(b->a, (b->p->n_htlcs + 4) * sizeof(cand), _Alignof(cand),
	                      (void **)&b->cands));
	c->n_untrimmed_htlcs = n_untrimmed;
	AL_TRY(add_htlcs(b));
	AL_TRY(add_balances(b, c, n_untrimmed));
	AL_TRY(make_funding_wscript(b, c));
	return assemble(b, c);
}

al_err al_ln_commit_build(const al_secp *ctx, al_ln_commit *c, al_arena *a,
                          const al_ln_commit_params *p)
{
	builder b = {.ctx = ctx, .a = a, .p = p, .cands = NULL, .n = 0};
	size_t mark = al_arena_mark(a);
	al_err e;

	memset(c, 0, sizeof(*c));
	c->p = *p;
	e = build(&b, c);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		memset(c, 0, sizeof(*c));
	}
	return e;
}

al_err al_ln_commit_sighash(uint8_t out[32], const al_ln_commit *c)
{
	return al_sighash_segwit_v0(out, &c->tx, 0, c->funding_wscript.p, c->funding_wscript.len,
	                            c->p.funding_amount, AL_SIGHASH_ALL);
}

al_err al_ln_commit_sign(const al_secp *ctx, al_ecdsa_sig *sig, const al_ln_commit *c,
                         const al_privkey *funding_key)
{
	uint8_t h[32];

	AL_TRY(al_ln_commit_sighash(h, c));
	return al_ecdsa_sign(ctx, sig, h, funding_key);
}

al_err al_ln_commit_verify(const al_secp *ctx, const al_ecdsa_sig *sig, const al_ln_commit *c,
                           const al_pubkey *funding_pubkey)
{
	uint8_t h[32];

	AL_TRY(al_ln_commit_sighash(h, c));
	return al_ecdsa_verify(ctx, sig, h, funding_pubkey);
}

al_err al_ln_witness_sig(const al_secp *ctx, al_bytes *out, al_arena *a, const al_ecdsa_sig *sig,
                         uint8_t sighash_type)
{
	uint8_t der[AL_DER_SIG_MAXLEN + 1];
	size_t len = AL_DER_SIG_MAXLEN;

	AL_TRY(al_ecdsa_sig_serialize_der(ctx, der, &len, sig));
	der[len++] = sighash_type;
	return al_bytes_dup(out, a, der, len);
}

al_err al_ln_commit_finalize(const al_secp *ctx, al_ln_commit *c, al_arena *a,
                             const al_ecdsa_sig *local_sig, const al_ecdsa_sig *remote_sig)
{
	al_bytes items[4];
	size_t mark = al_arena_mark(a);
	bool local_first = al_pubkey_cmp(ctx, &c->p.local_funding, &c->p.remote_funding) <= 0;
	al_err e;

	/* BOLT #3: "`txin[0]` witness: `0 <signature_for_pubkey1> <signature_for_pubkey2>`"
	 * in the order of the keys in the funding script. */
	items[0].p = NULL;
	items[0].len = 0;
	e = al_ln_witness_sig(ctx, &items[local_first ? 1 : 2], a, local_sig, AL_SIGHASH_ALL);
	if (e == AL_OK)
		e = al_ln_witness_sig(ctx, &items[local_first ? 2 : 1], a, remote_sig,
		                      AL_SIGHASH_ALL);
	items[3] = c->funding_wscript;
	if (e == AL_OK)
		e = al_tx_set_witness(&c->tx, a, 0, items, 4);
	if (e != AL_OK)
		al_arena_release(a, mark);
	return e;
}
