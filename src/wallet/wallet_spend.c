/* Spending: coin selection, building, signing, the interpreter's self-check, and BIP 125
 * fee bumps (see wallet.h). */
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "chain/txcheck.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "wallet/coinsel.h"
#include "wallet/wallet_int.h"

/* ---- fee caps ------------------------------------------------------------------------ */

void al_wallet_fee_caps_default(al_wallet_fee_caps *caps)
{
	caps->max_feerate = AL_WALLET_MAX_FEERATE;
	caps->max_fee = al_sat_of(AL_WALLET_MAX_FEE);
	caps->max_fee_permille = AL_WALLET_MAX_FEE_PERMILLE;
	caps->max_estimate = AL_WALLET_MAX_ESTIMATE;
}

al_err al_wallet_set_fee_caps(al_wallet *w, const al_wallet_fee_caps *caps)
{
	if (caps->max_estimate < AL_WALLET_MIN_FEERATE || caps->max_estimate > caps->max_feerate ||
	    caps->max_fee.sat == 0 || caps->max_fee.sat > AL_MAX_MONEY_SAT ||
	    caps->max_fee_permille == 0 || caps->max_fee_permille > 1000)
		return AL_E_ARG;
	w->caps = *caps;
	return AL_OK;
}

uint64_t al_wallet_fee_clamp(const al_wallet_fee_caps *caps, uint64_t estimate)
{
	if (estimate < AL_WALLET_MIN_FEERATE)
		return AL_WALLET_MIN_FEERATE;
	return estimate > caps->max_estimate ? caps->max_estimate : estimate;
}

static bool overridden(const al_wallet_send_opts *opts)
{
	return opts && opts->fee_override.sat;
}

/* A requested rate above the cap is refused before anything is built. */
static al_err check_rate(const al_wallet *w, const al_wallet_send_opts *opts, uint64_t rate)
{
	return overridden(opts) || rate <= w->caps.max_feerate ? AL_OK : AL_E_WALLET_FEE_RATE_CAP;
}

/* The caps on a signed transaction of `vsize` paying `fee` and sending `sent` to others.
 * fee and sent are at most MAX_MONEY (inputs we hold), so the products fit 64 bits. */
static al_err check_caps(const al_wallet *w, const al_wallet_send_opts *opts, uint64_t fee,
                         size_t vsize, uint64_t sent)
{
	const al_wallet_fee_caps *c = &w->caps;

	if (overridden(opts))
		return fee <= opts->fee_override.sat ? AL_OK : AL_E_WALLET_FEE_ABS_CAP;
	if (fee > AL_MAX_MONEY_SAT || sent > AL_MAX_MONEY_SAT)
		return AL_E_OVERFLOW;
	/* fee / vsize > max_feerate / 1000, without rounding */
	if (c->max_feerate <= UINT64_MAX / (vsize ? vsize : 1) &&
	    fee * 1000 > c->max_feerate * vsize)
		return AL_E_WALLET_FEE_RATE_CAP;
	if (fee > c->max_fee.sat)
		return AL_E_WALLET_FEE_ABS_CAP;
	if (fee * 1000 > sent * c->max_fee_permille)
		return AL_E_WALLET_FEE_SHARE_CAP;
	return AL_OK;
}

/* Nothing a refused transaction wrote may be broadcast. */
static void unwrite(uint8_t *out, size_t *out_len, uint8_t txid[32])
{
	al_memzero(out, *out_len);
	*out_len = 0;
	al_memzero(txid, 32);
}

/* ---- building ------------------------------------------------------------------------ */

/* ceil(vbytes * rate / 1000): the fee for `vbytes` at `rate` sat per 1000 vB. */
static uint64_t fee_for(uint64_t vbytes, uint64_t rate)
{
	return (vbytes * rate + 999) / 1000;
}

/* The bytes an output adds: amount, script length, script. */
static uint64_t out_vbytes(size_t script_len)
{
	return 8 + 1 + script_len;
}

static uint64_t dust_of(const uint8_t *script, size_t len)
{
	al_tx_out o = {.amount = {0}, .script = {script, len}};

	return al_tx_dust_threshold(&o);
}

/* Sign input i (P2WPKH of chain/index holding `amount`), BIP 143 with SIGHASH_ALL, with a
 * low R as Core's wallet signs (so AL_WALLET_VIN_VB bounds the input). */
static al_err sign_input(al_wallet *w, al_tx *tx, size_t i, uint8_t chain, uint32_t index,
                         al_sat amount)
{
	uint8_t code[25], digest[32], *sig, *pub;
	al_bytes items[2];
	al_ecdsa_sig es;
	al_xkey k;
	size_t der_len = AL_DER_SIG_MAXLEN;
	al_wb wb;
	al_err e;

	AL_TRY(al_arena_alloc(w->scratch, AL_DER_SIG_MAXLEN + 1, 1, (void **)&sig));
	AL_TRY(al_arena_alloc(w->scratch, AL_PUBKEY_LEN, 1, (void **)&pub));
	/* BIP 143: "For P2WPKH witness program, the scriptCode is
	 * 0x1976a914{20-byte-pubkey-hash}88ac." */
	al_wb_init(&wb, code, sizeof(code));
	al_script_p2wpkh_scriptcode(&wb, w->h160[chain][index]);
	AL_TRY(al_sighash_segwit_v0(digest, tx, i, code, wb.len, amount, AL_SIGHASH_ALL));
	e = al_bip32_ckd(w->secp, &k, &w->chain_key[chain], index);
	if (e == AL_OK)
		e = al_ecdsa_sign_low_r(w->secp, &es, digest, &k.priv);
	if (e == AL_OK)
		e = al_ecdsa_sig_serialize_der(w->secp, sig, &der_len, &es);
	if (e == AL_OK)
		al_pubkey_serialize(w->secp, pub, &k.pub);
	al_xkey_clear(&k);
	AL_TRY(e);
	sig[der_len] = AL_SIGHASH_ALL;
	items[0] = (al_bytes){sig, der_len + 1};
	items[1] = (al_bytes){pub, AL_PUBKEY_LEN};
	return al_tx_set_witness(tx, w->scratch, i, items, 2);
}

/* What input i spends, for signing and the self-check. */
typedef struct prevout {
	al_tx_out out;
	uint8_t script[22];
	uint8_t chain;
	uint32_t index;
} prevout;

/* Sign every input, verify each with the interpreter (standard flags), serialize. */
static al_err finish(al_wallet *w, al_tx *tx, prevout *pv, uint8_t *out, size_t cap,
                     size_t *out_len, uint8_t txid[32])
{
	al_tx_out *spent;
	al_wb wb;

	AL_TRY(al_arena_alloc(w->scratch, tx->n_in * sizeof(al_tx_out), 8, (void **)&spent));
	for (size_t i = 0; i < tx->n_in; i++) {
		pv[i].out.script = (al_bytes){pv[i].script, sizeof(pv[i].script)};
		spent[i] = pv[i].out;
		AL_TRY(sign_input(w, tx, i, pv[i].chain, pv[i].index, pv[i].out.amount));
	}
	for (size_t i = 0; i < tx->n_in; i++)
		AL_TRY(al_interp_verify_tx_input(w->secp, tx, i, spent, AL_INTERP_STANDARD,
		                                 w->scratch, NULL));
	al_wb_init(&wb, out, cap);
	al_tx_write(&wb, tx, true);
	if (!al_wb_ok(&wb))
		return AL_E_BUFSIZE;
	*out_len = wb.len;
	al_tx_txid(tx, txid);
	return AL_OK;
}

static bool spendable(const al_wallet_utxo *u)
{
	if (u->coinbase)
		return u->confirmations >= AL_WALLET_MATURITY;
	return u->confirmations > 0 || u->ours_unconfirmed;
}

static void prevout_of(const al_wallet *w, prevout *p, const al_wallet_utxo *u)
{
	memset(p, 0, sizeof(*p));
	p->out.amount = u->value;
	p->chain = u->chain;
	p->index = u->index;
	al_wallet_p2wpkh(p->script, w->h160[u->chain][u->index]);
}

typedef struct selection {
	size_t idx[AL_COINSEL_MAX]; /* utxo indices */
	uint64_t eff[AL_COINSEL_MAX];
	bool sel[AL_COINSEL_MAX];
	size_t n;
	uint64_t total; /* effective */
	bool change;
} selection;

static bool held(const al_wallet_send_opts *opts, const al_wallet_utxo *u)
{
	return opts && opts->held && opts->held(opts->held_arg, u->txid, u->vout);
}

static al_err select_coins(const al_wallet *w, selection *s, uint64_t target, uint64_t rate,
                           const al_wallet_send_opts *opts)
{
	uint64_t in_fee = fee_for(AL_WALLET_VIN_VB, rate);
	uint64_t change_fee = fee_for(AL_WALLET_VOUT_VB, rate);
	al_err e;

	s->n = 0;
	for (size_t i = 0; i < w->n_utxos && s->n < AL_COINSEL_MAX; i++) {
		const al_wallet_utxo *u = &w->utxos[i];

		if (!spendable(u) || u->value.sat <= in_fee || held(opts, u))
			continue;
		s->idx[s->n] = i;
		s->eff[s->n++] = u->value.sat - in_fee;
	}
	/* Core: cost_of_change = change output now + spending it later. */
	e = al_coinsel_bnb(s->sel, &s->total, s->eff, s->n, target, change_fee + in_fee);
	s->change = e != AL_OK;
	if (e == AL_E_WALLET_FUNDS)
		e = al_coinsel_largest_first(s->sel, &s->total, s->eff, s->n, target + change_fee);
	return e;
}

al_err al_wallet_send(al_wallet *w, uint8_t *out, size_t cap, size_t *out_len, uint8_t txid[32],
                      al_sat *fee, const uint8_t *script, size_t script_len, al_sat amount,
                      uint64_t feerate, const al_wallet_send_opts *opts)
{
	selection s;
	size_t mark = al_arena_mark(w->scratch), n_in = 0;
	uint64_t rate = feerate < AL_WALLET_MIN_FEERATE ? AL_WALLET_MIN_FEERATE : feerate;
	uint64_t target, in_total = 0, change = 0;
	uint8_t change_script[22];
	prevout *pv = NULL;
	al_tx tx;
	al_err e;

	*out_len = 0;
	AL_TRY(check_rate(w, opts, rate));
	if (amount.sat < dust_of(script, script_len) || amount.sat > AL_MAX_MONEY_SAT)
		return AL_E_WALLET_DUST;
	target = amount.sat + fee_for(AL_WALLET_TX_VB + out_vbytes(script_len), rate);
	e = select_coins(w, &s, target, rate, opts);
	if (e != AL_OK)
		return e;
	for (size_t i = 0; i < s.n; i++)
		n_in += s.sel[i];
	if (s.change) {
		change = s.total - target - fee_for(AL_WALLET_VOUT_VB, rate);
		al_wallet_p2wpkh(change_script, w->h160[AL_WALLET_CHANGE][w->next[1]]);
		if (change < dust_of(change_script, sizeof(change_script)))
			change = 0; /* to the fee, as Core drops change below dust */
	}
	/* nLockTime: the height the server's mempool is at (it may be behind the chain). */
	e = al_tx_init(&tx, w->scratch, 2, al_sync_server_height(w->sync), n_in, 2);
	if (e == AL_OK)
		e = al_arena_alloc(w->scratch, n_in * sizeof(prevout), 8, (void **)&pv);
	for (size_t i = 0, k = 0; e == AL_OK && i < s.n; i++) {
		const al_wallet_utxo *u = &w->utxos[s.idx[i]];

		if (!s.sel[i])
			continue;
		prevout_of(w, &pv[k++], u);
		in_total += u->value.sat;
		e = al_tx_add_input(&tx, u->txid, u->vout, AL_WALLET_SEQUENCE_RBF);
	}
	if (e == AL_OK)
		e = al_tx_add_output(&tx, amount, script, script_len);
	if (e == AL_OK && change)
		e = al_tx_add_output(&tx, al_sat_of(change), change_script, sizeof(change_script));
	if (e == AL_OK)
		e = finish(w, &tx, pv, out, cap, out_len, txid);
	if (e == AL_OK)
		fee->sat = in_total - amount.sat - change;
	if (e == AL_OK)
		e = check_caps(w, opts, fee->sat, al_tx_vsize(&tx), amount.sat);
	if (e != AL_OK)
		unwrite(out, out_len, txid);
	al_arena_release(w->scratch, mark);
	return e;
}

/* ---- BIP 125 fee bump ------------------------------------------------------------------ */

/* The outputs the original spends, all ours, with their total. */
static al_err bump_prevouts(al_wallet *w, const al_tx *orig, prevout *pv, uint64_t *in_total)
{
	*in_total = 0;
	for (size_t i = 0; i < orig->n_in; i++) {
		const al_sync_tx *p = al_sync_find_tx(w->sync, orig->in[i].txid);
		size_t mark = al_arena_mark(w->scratch);
		uint32_t v = orig->in[i].vout;
		bool mine = false;
		al_tx ptx;

		memset(&pv[i], 0, sizeof(pv[i]));
		if (p && al_wallet_parse_tx(w, p, &ptx) == AL_OK && v < ptx.n_out) {
			mine = al_wallet_find_script(w, ptx.out[v].script.p, ptx.out[v].script.len,
			                             &pv[i].chain, &pv[i].index);
			pv[i].out.amount = ptx.out[v].amount;
		}
		al_arena_release(w->scratch, mark);
		if (!mine)
			return AL_E_WALLET_UNKNOWN_TX;
		al_wallet_p2wpkh(pv[i].script, w->h160[pv[i].chain][pv[i].index]);
		*in_total += pv[i].out.amount.sat;
	}
	return AL_OK;
}

/* The replacement's outputs: the original's with `delta` more fee taken from the
 * change output. */
static al_err bump_outputs(al_wallet *w, al_tx *nt, const al_tx *orig, uint64_t delta)
{
	bool taken = false;

	for (size_t k = 0; k < orig->n_out; k++) {
		const al_tx_out *o = &orig->out[k];
		uint64_t v = o->amount.sat;
		uint8_t c;
		uint32_t idx;

		if (!taken && al_wallet_find_script(w, o->script.p, o->script.len, &c, &idx) &&
		    c == AL_WALLET_CHANGE) {
			if (v < delta || v - delta < dust_of(o->script.p, o->script.len))
				return AL_E_WALLET_FUNDS;
			v -= delta;
			taken = true;
		}
		AL_TRY(al_tx_add_output(nt, al_sat_of(v), o->script.p, o->script.len));
	}
	return taken ? AL_OK : AL_E_WALLET_FUNDS;
}

static al_err bump_check(const al_wallet *w, const al_sync_tx *t, const al_tx *orig)
{
	bool rbf = false;

	if (!t || !t->raw_len || t->st.dropped)
		return AL_E_WALLET_UNKNOWN_TX;
	if (al_sync_confirmations(w->sync, t) > 0)
		return AL_E_WALLET_CONFIRMED;
	/* BIP 125: "explicitly signals replaceability if any of its inputs have an
	 * nSequence number less than (0xffffffff - 1)". */
	for (size_t i = 0; i < orig->n_in; i++)
		rbf |= orig->in[i].sequence < 0xfffffffeu;
	return rbf ? AL_OK : AL_E_WALLET_NOT_RBF;
}

/* What a transaction of ours sends to others: its outputs not on our change chain. */
static uint64_t sent_by(const al_wallet *w, const al_tx *tx)
{
	uint64_t sent = 0;

	for (size_t k = 0; k < tx->n_out; k++) {
		uint8_t c;
		uint32_t idx;

		if (!al_wallet_find_script(w, tx->out[k].script.p, tx->out[k].script.len, &c,
		                           &idx) ||
		    c != AL_WALLET_CHANGE)
			sent += tx->out[k].amount.sat;
	}
	return sent;
}

al_err al_wallet_bump_fee(al_wallet *w, uint8_t *out, size_t cap, size_t *out_len,
                          uint8_t new_txid[32], al_sat *fee, const uint8_t txid[32],
                          uint64_t feerate, const al_wallet_send_opts *opts)
{
	const al_sync_tx *t = al_sync_find_tx(w->sync, txid);
	size_t mark = al_arena_mark(w->scratch);
	uint64_t in_total, out_total = 0, old_fee, new_fee, vb;
	prevout *pv = NULL;
	al_tx orig, nt;
	al_err e;

	*out_len = 0;
	if (!t || !t->raw_len)
		return AL_E_WALLET_UNKNOWN_TX;
	e = al_wallet_parse_tx(w, t, &orig);
	if (e == AL_OK)
		e = bump_check(w, t, &orig);
	if (e == AL_OK)
		e = al_arena_alloc(w->scratch, orig.n_in * sizeof(prevout), 8, (void **)&pv);
	if (e == AL_OK)
		e = bump_prevouts(w, &orig, pv, &in_total);
	for (size_t k = 0; e == AL_OK && k < orig.n_out; k++)
		out_total += orig.out[k].amount.sat;
	if (e != AL_OK)
		goto out;
	old_fee = in_total - out_total;
	/* The replacement has the same shape; estimate its size as a wallet tx. */
	vb = AL_WALLET_TX_VB + AL_WALLET_VIN_VB * orig.n_in;
	for (size_t k = 0; k < orig.n_out; k++)
		vb += out_vbytes(orig.out[k].script.len);
	if (feerate * al_tx_vsize(&orig) <= old_fee * 1000) {
		e = AL_E_WALLET_FEERATE;
		goto out;
	}
	e = check_rate(w, opts, feerate);
	if (e != AL_OK)
		goto out;
	/* BIP 125 rule 3: "pays an absolute fee of at least the sum paid by the original
	 * transactions"; rule 4: "must also pay for its own bandwidth at or above the rate
	 * set by the node's minimum relay fee setting". */
	new_fee = fee_for(vb, feerate);
	if (new_fee < old_fee + fee_for(vb, AL_WALLET_MIN_FEERATE))
		new_fee = old_fee + fee_for(vb, AL_WALLET_MIN_FEERATE);
	e = al_tx_init(&nt, w->scratch, orig.version, orig.locktime, orig.n_in, orig.n_out);
	for (size_t i = 0; e == AL_OK && i < orig.n_in; i++)
		e = al_tx_add_input(&nt, orig.in[i].txid, orig.in[i].vout, orig.in[i].sequence);
	if (e == AL_OK)
		e = bump_outputs(w, &nt, &orig, new_fee - old_fee);
	if (e == AL_OK)
		e = finish(w, &nt, pv, out, cap, out_len, new_txid);
	if (e == AL_OK)
		fee->sat = new_fee;
	if (e == AL_OK)
		e = check_caps(w, opts, new_fee, al_tx_vsize(&nt), sent_by(w, &nt));
	if (e != AL_OK)
		unwrite(out, out_len, new_txid);
out:
	al_arena_release(w->scratch, mark);
	return e;
}

/* ---- inputs of another's transaction ------------------------------------------------- */

al_err al_wallet_sign_inputs(al_wallet *w, const uint8_t *raw, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len)
{
	size_t mark = al_arena_mark(w->scratch), ours = 0;
	prevout pv;
	al_tx tx;
	al_err e;

	*out_len = 0;
	e = al_tx_parse(&tx, w->scratch, raw, len);
	for (size_t i = 0; e == AL_OK && i < tx.n_in; i++) {
		const al_wallet_utxo *u = NULL;
		for (size_t k = 0; k < w->n_utxos && !u; k++)
			if (w->utxos[k].vout == tx.in[i].vout &&
			    !memcmp(w->utxos[k].txid, tx.in[i].txid, 32))
				u = &w->utxos[k];
		if (!u)
			continue; /* not ours: signed by whoever made the transaction */
		prevout_of(w, &pv, u);
		e = sign_input(w, &tx, i, pv.chain, pv.index, pv.out.amount);
		if (e == AL_OK)
			e = al_interp_verify_input(w->secp, &tx, i, pv.script, sizeof(pv.script),
			                           pv.out.amount, AL_INTERP_STANDARD, w->scratch,
			                           NULL);
		ours++;
	}
	if (e == AL_OK && !ours)
		e = AL_E_WALLET_UNKNOWN_TX;
	if (e == AL_OK) {
		al_wb wb;
		al_wb_init(&wb, out, cap);
		al_tx_write(&wb, &tx, true);
		e = al_wb_ok(&wb) ? AL_OK : AL_E_BUFSIZE;
		if (e == AL_OK)
			*out_len = wb.len;
		else
			al_memzero(out, cap); /* nothing half-written is left to broadcast */
	}
	al_arena_release(w->scratch, mark);
	return e;
}
