/* The script interpreter against signed transactions, suite `script-bolt03`.
 *
 * Counted, one verification per (transaction, input):
 *  - BOLT #3 Appendix C and F (anchors): every commitment transaction spends the
 *    funding output, P2WSH of the 2-of-2 funding script of the appendix's
 *    funding pubkeys, holding funding_amount_satoshi; every HTLC transaction spends
 *    the output of its commitment transaction its input names (script and amount
 *    read from the parsed commitment transaction). Standard flags.
 *  - BIP 143 examples: every segwit input of every signed transaction (the swapped
 *    one of "Native P2WSH #2" included), against the scriptPubKey and value the
 *    example states; "No FindAndDelete #2" states neither, so its output is P2WSH
 *    of the scriptCode in its preimage, with the amount in that preimage. Consensus
 *    flags: the FindAndDelete examples carry high-S signatures made up for the BIP
 *    (low S is BIP 146 policy); the others must pass standard flags too.
 * Not counted: damaged copies must fail with the precise error. */
#include <stdlib.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "ln/scripts.h"
#include "test.h"
#include "vectors.h"

typedef struct funding {
	uint8_t spk[34];
	al_sat amount;
} funding;

static uint8_t g_scratch[1 << 17];

static al_err verify(const al_tx *tx, size_t index, const uint8_t *spk, size_t spk_len,
                     al_sat amount, uint32_t flags)
{
	al_arena a;
	al_interp_fail why;
	al_err err;

	al_arena_init(&a, g_scratch, sizeof(g_scratch));
	err = al_interp_verify_input(al_t_secp(), tx, index, spk, spk_len, amount, flags, &a, &why);
	CHECK(why.err == err);
	CHECK(al_arena_used(&a) == 0);
	if (err != AL_OK)
		fprintf(stderr, "  interp: %s (opcode %d at %zu)\n", al_err_name(err), why.opcode,
		        why.offset);
	return err;
}

/* Parse hex into a transaction whose bytes (and arrays) live until exit. */
static bool parse_tx(al_tx *tx, const char *hex, uint8_t **raw_out, size_t *len_out)
{
	static _Alignas(16) uint8_t pool[1 << 20];
	static al_arena a;
	size_t len;
	uint8_t *raw = al_t_unhex(hex, &len);

	if (!a.base)
		al_arena_init(&a, pool, sizeof(pool));
	if (raw_out)
		*raw_out = raw;
	if (len_out)
		*len_out = len;
	return al_tx_parse(tx, &a, raw, len) == AL_OK;
}

static const char *common_value(const json_t *common, const char *key)
{
	size_t i;
	json_t *e;

	json_array_foreach(common, i, e)
	{
		json_t *k = json_object_get(e, "key");
		if (k && strcmp(json_string_value(k), key) == 0)
			return al_v_str(e, "value");
	}
	return NULL;
}

static bool load_funding(funding *f, const json_t *common)
{
	const char *lk = common_value(common, "local_funding_pubkey");
	const char *rk = common_value(common, "remote_funding_pubkey");
	const char *amt = common_value(common, "funding_amount_satoshi");
	uint8_t script[80];
	al_pubkey l, r;
	size_t len;
	uint8_t *p;
	al_wb w;

	if (!lk || !rk || !amt)
		return false;
	p = al_t_unhex(lk, &len);
	if (al_pubkey_parse(al_t_secp(), &l, p, len) != AL_OK)
		return false;
	p = al_t_unhex(rk, &len);
	if (al_pubkey_parse(al_t_secp(), &r, p, len) != AL_OK)
		return false;
	al_wb_init(&w, script, sizeof(script));
	al_ln_funding_script(&w, al_t_secp(), &l, &r);
	if (!al_wb_ok(&w))
		return false;
	len = w.len;
	al_wb_init(&w, f->spk, sizeof(f->spk));
	al_script_p2wsh(&w, script, len);
	f->amount = al_sat_of(strtoull(amt, NULL, 10));
	return al_wb_ok(&w);
}

/* An HTLC transaction spends output `vout` of its commitment transaction. */
static bool verify_htlc(const al_tx *commit, const char *hex)
{
	uint8_t txid[32];
	const al_tx_out *o;
	al_tx tx;

	if (!parse_tx(&tx, hex, NULL, NULL) || tx.n_in != 1)
		return false;
	al_tx_txid(commit, txid);
	if (memcmp(txid, tx.in[0].txid, 32) != 0 || tx.in[0].vout >= commit->n_out)
		return false;
	o = &commit->out[tx.in[0].vout];
	return verify(&tx, 0, o->script.p, o->script.len, o->amount, AL_INTERP_STANDARD) == AL_OK;
}

static bool verify_commit(al_tx *tx, const funding *f, const char *hex)
{
	if (!parse_tx(tx, hex, NULL, NULL) || tx->n_in != 1)
		return false;
	return verify(tx, 0, f->spk, sizeof(f->spk), f->amount, AL_INTERP_STANDARD) == AL_OK;
}

static void run_appendix_c(al_v_suite *s, const json_t *doc, const funding *f)
{
	const json_t *vecs = json_object_get(doc, "vectors");
	json_t *v, *h;
	size_t i, j;
	al_tx commit;
	bool ok;

	json_array_foreach(vecs, i, v)
	{
		const char *name = al_v_str(v, "name");

		ok = verify_commit(&commit, f, al_v_str(v, "output_commit_tx"));
		al_v_result(s, ok, "C: %s: commitment tx", name);
		json_array_foreach(json_object_get(v, "htlc_txs"), j, h)
		    al_v_result(s, ok && verify_htlc(&commit, al_v_str(h, "tx")),
		                "C: %s: htlc tx %zu", name, j);
	}
}

static void run_appendix_f(al_v_suite *s, const json_t *doc, const funding *f)
{
	json_t *v, *h;
	size_t i, j;
	al_tx commit;
	bool ok;

	json_array_foreach(json_object_get(doc, "tests"), i, v)
	{
		const char *name = al_v_str(v, "Name");

		ok = verify_commit(&commit, f, al_v_str(v, "ExpectedCommitmentTxHex"));
		al_v_result(s, ok, "F: %s: commitment tx", name);
		json_array_foreach(json_object_get(v, "HtlcDescs"), j, h)
		    al_v_result(s, ok && verify_htlc(&commit, al_v_str(h, "ResolutionTxHex")),
		                "F: %s: htlc tx %zu", name, j);
	}
}

/* ---- BIP 143 --------------------------------------------------------------------- */

/* "6.25" BTC -> 625000000 sat. */
static al_sat btc_to_sat(const char *s)
{
	uint64_t whole = strtoull(s, NULL, 10), frac = 0;
	const char *dot = strchr(s, '.');
	int digits = 0;

	if (dot)
		for (dot++; *dot && digits < 8; dot++, digits++)
			frac = frac * 10 + (uint64_t)(*dot - '0');
	for (; digits < 8; digits++)
		frac *= 10;
	return al_sat_of(whole * 100000000u + frac);
}

typedef struct spent {
	uint8_t txid[32];
	uint32_t vout;
	const uint8_t *spk;
	size_t spk_len;
	al_sat amount;
	bool segwit;
} spent;

/* The outputs an example's inputs spend, in the order of its unsigned transaction. */
static size_t example_spent(spent *out, size_t cap, const json_t *ex)
{
	const json_t *inputs = json_object_get(ex, "inputs");
	const json_t *utx = json_object_get(ex, "unsigned_tx");
	json_t *in;
	size_t i, n = 0;
	al_tx tx;

	if (!json_is_string(utx) || !parse_tx(&tx, json_string_value(utx), NULL, NULL))
		return 0;
	json_array_foreach(inputs, i, in)
	{
		if (n == cap || i >= tx.n_in)
			return 0;
		memcpy(out[n].txid, tx.in[i].txid, 32);
		out[n].vout = tx.in[i].vout;
		out[n].spk = al_t_unhex(al_v_str(in, "scriptPubKey"), &out[n].spk_len);
		out[n].amount = btc_to_sat(al_v_str(in, "value_btc"));
		/* Segwit: a witness program, or P2SH with a witness-program redeemScript. */
		out[n].segwit =
		    al_script_is_witness_program(out[n].spk, out[n].spk_len, NULL, NULL, NULL) ||
		    json_object_get(in, "redeemScript") != NULL;
		n++;
	}
	return n;
}

/* "No FindAndDelete #2": the preimage holds the scriptCode (here the whole witness
 * script) and the amount. */
static size_t preimage_spent(spent *out, const json_t *ex, const al_tx *tx)
{
	const json_t *sg = json_array_get(json_object_get(ex, "signing"), 0);
	static uint8_t spk[34];
	size_t len, code_len, off = 4 + 32 + 32 + 36;
	const uint8_t *pre;
	al_wb w;

	if (!sg || tx->n_in != 1)
		return 0;
	pre = al_t_unhex(al_v_str(sg, "preimage"), &len);
	if (len < off + 3 || pre[off] >= 0xfd)
		return 0;
	code_len = pre[off];
	if (len < off + 1 + code_len + 8)
		return 0;
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, pre + off + 1, code_len);
	memcpy(out->txid, tx->in[0].txid, 32);
	out->vout = tx->in[0].vout;
	out->spk = spk;
	out->spk_len = sizeof(spk);
	out->amount = al_sat_of(al_read_le64(pre + off + 1 + code_len));
	out->segwit = true;
	return 1;
}

static void run_bip143_tx(al_v_suite *s, const char *name, const char *hex, const spent *sp,
                          size_t n_sp, uint32_t flags)
{
	size_t i, j;
	al_tx tx;
	bool parsed = parse_tx(&tx, hex, NULL, NULL);

	for (j = 0; j < n_sp; j++) {
		if (!sp[j].segwit)
			continue;
		for (i = 0; parsed && i < tx.n_in; i++)
			if (memcmp(tx.in[i].txid, sp[j].txid, 32) == 0 &&
			    tx.in[i].vout == sp[j].vout)
				break;
		al_v_result(s,
		            parsed && i < tx.n_in &&
		                verify(&tx, i, sp[j].spk, sp[j].spk_len, sp[j].amount, flags) ==
		                    AL_OK,
		            "bip143: %s: input %zu", name, j);
	}
}

static void run_bip143(al_v_suite *s, const json_t *doc)
{
	static const char *const keys[] = {"signed_tx", "signed_tx_swapped"};
	json_t *ex;
	spent sp[4];
	size_t i, k, n;
	al_tx tx;

	json_array_foreach(json_object_get(doc, "examples"), i, ex)
	{
		const char *name = al_v_str(ex, "name");
		/* Low S is policy; the FindAndDelete examples are consensus-only. */
		uint32_t flags =
		    strstr(name, "FindAndDelete") ? AL_INTERP_CONSENSUS : AL_INTERP_STANDARD;

		n = example_spent(sp, 4, ex);
		if (n == 0 && parse_tx(&tx, al_v_str(ex, "signed_tx"), NULL, NULL))
			n = preimage_spent(sp, ex, &tx);
		if (n == 0)
			al_v_result(s, false, "bip143: %s: no spent outputs", name);
		for (k = 0; k < 2; k++)
			if (json_is_string(json_object_get(ex, keys[k])))
				run_bip143_tx(s, name, al_v_str(ex, keys[k]), sp, n, flags);
	}
}

/* ---- damaged copies (not counted) ------------------------------------------------ */

/* The commitment tx with all five HTLCs and its first HTLC-success transaction. */
static void negative_checks(const json_t *doc, const funding *f)
{
	const json_t *v = json_array_get(json_object_get(doc, "vectors"), 1);
	const json_t *h = json_array_get(json_object_get(v, "htlc_txs"), 0);
	uint8_t *raw, *p, bad_spk[34];
	al_tx commit, htlc;
	size_t len;
	const al_tx_out *o;

	CHECK(strcmp(al_v_str(h, "kind"), "htlc-success") == 0);
	CHECK(parse_tx(&commit, al_v_str(v, "output_commit_tx"), &raw, &len));
	CHECK(commit.in[0].n_witness == 4);
	/* A flipped bit inside R of the first signature: still DER, but wrong. */
	p = raw + (commit.in[0].witness[1].p - raw);
	p[10] ^= 0x01;
	CHECK_ERR(verify(&commit, 0, f->spk, sizeof(f->spk), f->amount, AL_INTERP_STANDARD),
	          AL_E_SCRIPT_NULLFAIL);
	/* Without NULLFAIL the multisig just fails, so the script ends false. */
	CHECK_ERR(verify(&commit, 0, f->spk, sizeof(f->spk), f->amount, AL_INTERP_CONSENSUS),
	          AL_E_SCRIPT_EVAL_FALSE);
	p[10] ^= 0x01;
	/* The DER header byte. */
	p[0] ^= 0x01;
	CHECK_ERR(verify(&commit, 0, f->spk, sizeof(f->spk), f->amount, AL_INTERP_STANDARD),
	          AL_E_SCRIPT_SIG_DER);
	p[0] ^= 0x01;
	CHECK_OK(verify(&commit, 0, f->spk, sizeof(f->spk), f->amount, AL_INTERP_STANDARD));
	/* Wrong amount: the BIP 143 digest changes, both signatures fail. */
	CHECK_ERR(verify(&commit, 0, f->spk, sizeof(f->spk), al_sat_of(f->amount.sat + 1),
	                 AL_INTERP_STANDARD),
	          AL_E_SCRIPT_NULLFAIL);
	/* Another witness script than the funding output commits to. */
	memcpy(bad_spk, f->spk, sizeof(bad_spk));
	bad_spk[33] ^= 0x01;
	CHECK_ERR(verify(&commit, 0, bad_spk, sizeof(bad_spk), f->amount, AL_INTERP_STANDARD),
	          AL_E_SCRIPT_WITNESS_MISMATCH);

	/* HTLC-success with a preimage that does not hash to the payment hash. */
	CHECK(parse_tx(&htlc, al_v_str(h, "tx"), &raw, &len));
	CHECK(htlc.in[0].n_witness == 5 && htlc.in[0].witness[3].len == 32);
	o = &commit.out[htlc.in[0].vout];
	CHECK_OK(verify(&htlc, 0, o->script.p, o->script.len, o->amount, AL_INTERP_STANDARD));
	p = raw + (htlc.in[0].witness[3].p - raw);
	p[0] ^= 0x01;
	CHECK_ERR(verify(&htlc, 0, o->script.p, o->script.len, o->amount, AL_INTERP_STANDARD),
	          AL_E_SCRIPT_EQUALVERIFY);
}

/* The FindAndDelete example under standard flags: its high S is what fails. */
static void negative_bip143(const json_t *doc)
{
	json_t *ex = json_array_get(json_object_get(doc, "examples"), 5);
	spent sp[4];
	al_tx tx;

	CHECK(strcmp(al_v_str(ex, "name"), "No FindAndDelete #1") == 0);
	CHECK(example_spent(sp, 4, ex) == 1);
	CHECK(parse_tx(&tx, al_v_str(ex, "signed_tx"), NULL, NULL));
	CHECK_ERR(verify(&tx, 0, sp[0].spk, sp[0].spk_len, sp[0].amount, AL_INTERP_STANDARD),
	          AL_E_SCRIPT_SIG_HIGH_S);
	CHECK_OK(verify(&tx, 0, sp[0].spk, sp[0].spk_len, sp[0].amount, AL_INTERP_CONSENSUS));
}

int main(void)
{
	json_t *c = al_v_load_json("bolts/bolt03/commitment-and-htlc-txs.json");
	json_t *f = al_v_load_json("bolts/bolt03/anchors-commitment-and-htlc-txs.json");
	json_t *b = al_v_load_json("bips/bip143-vectors.json");
	funding fund;
	al_v_suite s;
	bool ok;

	al_v_begin(&s, "script-bolt03");
	memset(&fund, 0, sizeof(fund));
	ok = load_funding(&fund, json_object_get(c, "common"));
	CHECK(ok);
	run_appendix_c(&s, c, &fund);
	/* Appendix F uses Appendix C's keys, funding outpoint and amount. */
	run_appendix_f(&s, f, &fund);
	run_bip143(&s, b);
	CHECK(al_v_end(&s));
	if (ok)
		negative_checks(c, &fund);
	negative_bip143(b);
	json_decref(c);
	json_decref(f);
	json_decref(b);
	return al_t_finish();
}
