/* BIP 341 wallet test vectors (tests/data/bip341_wallet_vectors.json, Bitcoin Core's
 * copy of bips/bip-0341/wallet-test-vectors.json), suite `bip341`.
 *
 * Counted:
 *  - each scriptPubKey entry (7): the output script is P2TR of tweakedPubkey, and
 *    every control block with its leaf script passes the BIP 341 commitment check in
 *    the interpreter (a leaf `<key> OP_CHECKSIG` given an empty signature ends in
 *    EVAL_FALSE, not WITNESS_MISMATCH; the other leaves succeed), while the same
 *    control block with its parity bit flipped gives WITNESS_MISMATCH;
 *  - each keyPathSpending inputSpending entry (7): sigMsg and sigHash are
 *    reproduced byte for byte, and the expected witness verifies as input txinIndex of
 *    the unsigned transaction;
 *  - the keyPathSpending group (1): the five intermediary hashes, and every input of
 *    fullySignedTx (taproot key paths, a P2PKH and a P2WPKH input) verifies with the
 *    standard flags.
 * Not counted: damaged copies must fail with the precise error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "test.h"
#include "vectors.h"

#define MAX_IN 16

static _Alignas(16) uint8_t g_scratch[1 << 17];
static _Alignas(16) uint8_t g_txmem[1 << 16];

static uint8_t *hexval(const json_t *v, size_t *len)
{
	const char *s = json_string_value(v);

	if (!s) {
		fprintf(stderr, "FAIL: expected a hex string\n");
		exit(1);
	}
	return al_t_unhex(s, len);
}

static al_err verify(const al_tx *tx, size_t index, const al_tx_out *spent, uint32_t flags)
{
	al_interp_fail why;
	al_arena a;
	al_err err;

	al_arena_init(&a, g_scratch, sizeof(g_scratch));
	err = al_interp_verify_tx_input(al_t_secp(), tx, index, spent, flags, &a, &why);
	CHECK(why.err == err && al_arena_used(&a) == 0);
	return err;
}

/* A one-input transaction spending `spk` with the witness `items`. */
static al_err spend_with(const uint8_t *spk, size_t spk_len, const al_bytes *items, size_t n,
                         uint32_t flags)
{
	static const uint8_t prev[32] = {7};
	al_tx_out spent = {al_sat_of(10000), {spk, spk_len}};
	al_arena a;
	al_tx tx;

	al_arena_init(&a, g_txmem, sizeof(g_txmem));
	CHECK_OK(al_tx_init(&tx, &a, 2, 0, 1, 1));
	CHECK_OK(al_tx_add_input(&tx, prev, 0, 0xffffffff));
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(9000), spk, spk_len));
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, items, n));
	return verify(&tx, 0, &spent, flags);
}

/* The leaves of a scriptTree (a leaf object or a nested array), by id. */
static void collect_leaves(const json_t *t, const json_t **leaves, size_t max)
{
	size_t i;

	if (json_is_array(t)) {
		for (i = 0; i < json_array_size(t); i++)
			collect_leaves(json_array_get(t, i), leaves, max);
		return;
	}
	if (json_is_object(t)) {
		i = (size_t)al_v_int(t, "id");
		if (i < max)
			leaves[i] = t;
	}
}

/* The control block for leaf i is scriptPathControlBlocks[i]. */
static bool check_control_block(const json_t *leaf, const json_t *cb_hex, const uint8_t *spk,
                                size_t spk_len)
{
	size_t script_len, cb_len;
	uint8_t *script = hexval(json_object_get(leaf, "script"), &script_len);
	uint8_t *cb = hexval(cb_hex, &cb_len);
	bool checksig = script_len == 34 && script[0] == 32 && script[33] == AL_OP_CHECKSIG;
	al_bytes items[3] = {{NULL, 0}, {script, script_len}, {cb, cb_len}};
	bool ok = true;
	al_err want = checksig ? AL_E_SCRIPT_EVAL_FALSE : AL_OK, got;

	/* `<key> OP_CHECKSIG` takes an (empty) signature; the others take nothing. */
	size_t first = checksig ? 0 : 1;

	got = spend_with(spk, spk_len, items + first, 3 - first, AL_INTERP_CONSENSUS);
	if (got != want) {
		fprintf(stderr, "  control block: %s, want %s\n", al_err_name(got),
		        al_err_name(want));
		ok = false;
	}
	if (al_v_int(leaf, "leafVersion") != 0xc0)
		ok &= spend_with(spk, spk_len, items + first, 3 - first, AL_INTERP_STANDARD) ==
		      AL_E_SCRIPT_UPGRADABLE_TAPVER;
	cb[0] ^= 1; /* the wrong parity for the output key */
	ok &= spend_with(spk, spk_len, items + first, 3 - first, AL_INTERP_CONSENSUS) ==
	      AL_E_SCRIPT_WITNESS_MISMATCH;
	cb[0] ^= 1;
	return ok;
}

static bool run_spk_entry(const json_t *e)
{
	const json_t *given = json_object_get(e, "given"), *exp = json_object_get(e, "expected");
	const json_t *cbs = json_object_get(exp, "scriptPathControlBlocks");
	const json_t *leaves[8] = {NULL};
	uint8_t p2tr[34], *tweaked, *spk;
	size_t len, spk_len, i;
	bool ok = true;
	al_wb w;

	tweaked =
	    hexval(json_object_get(json_object_get(e, "intermediary"), "tweakedPubkey"), &len);
	spk = hexval(json_object_get(exp, "scriptPubKey"), &spk_len);
	al_wb_init(&w, p2tr, sizeof(p2tr));
	al_script_p2tr(&w, tweaked);
	ok &= len == 32 && spk_len == w.len && memcmp(spk, p2tr, w.len) == 0;
	collect_leaves(json_object_get(given, "scriptTree"), leaves, 8);
	for (i = 0; i < json_array_size(cbs); i++) {
		if (i >= 8 || !leaves[i]) {
			ok = false;
			continue;
		}
		ok &= check_control_block(leaves[i], json_array_get(cbs, i), spk, spk_len);
	}
	return ok;
}

typedef struct group {
	al_tx tx;
	al_tx_out spent[MAX_IN];
	al_taproot_txdata txdata;
} group;

static bool load_group(group *g, al_arena *a, const json_t *kp)
{
	const json_t *given = json_object_get(kp, "given");
	const json_t *utxos = json_object_get(given, "utxosSpent");
	uint8_t *raw;
	size_t len, i;

	raw = hexval(json_object_get(given, "rawUnsignedTx"), &len);
	if (al_tx_parse(&g->tx, a, raw, len) != AL_OK || g->tx.n_in != json_array_size(utxos) ||
	    g->tx.n_in > MAX_IN)
		return false;
	for (i = 0; i < g->tx.n_in; i++) {
		const json_t *u = json_array_get(utxos, i);

		g->spent[i].amount = al_sat_of((uint64_t)al_v_int(u, "amountSats"));
		g->spent[i].script.p = hexval(json_object_get(u, "scriptPubKey"), &len);
		g->spent[i].script.len = len;
	}
	al_taproot_txdata_init(&g->txdata, &g->tx, g->spent);
	return true;
}

static bool hex_eq(const uint8_t *got, size_t len, const json_t *want)
{
	size_t wlen;
	uint8_t *w = hexval(want, &wlen);

	return wlen == len && memcmp(got, w, len) == 0;
}

static bool run_input(group *g, const json_t *in)
{
	const json_t *given = json_object_get(in, "given"),
	             *im = json_object_get(in, "intermediary");
	const json_t *wit = json_object_get(json_object_get(in, "expected"), "witness");
	size_t index = (size_t)al_v_int(given, "txinIndex");
	al_taproot_sigmsg m = {(uint8_t)al_v_int(given, "hashType"), NULL, NULL, 0xffffffffu};
	uint8_t msg[400], digest[32];
	al_bytes item;
	al_arena a;
	al_tx tx;
	bool ok = true;
	al_wb w;

	al_wb_init(&w, msg, sizeof(msg));
	ok &= al_sighash_taproot_msg(&w, &g->txdata, &g->tx, index, &m) == AL_OK &&
	      hex_eq(msg, w.len, json_object_get(im, "sigMsg"));
	ok &= al_sighash_taproot(digest, &g->txdata, &g->tx, index, &m) == AL_OK &&
	      hex_eq(digest, 32, json_object_get(im, "sigHash"));
	/* The signature in the expected witness verifies as this input. */
	if (json_array_size(wit) != 1)
		return false;
	item.p = hexval(json_array_get(wit, 0), &item.len);
	tx = g->tx;
	al_arena_init(&a, g_txmem, sizeof(g_txmem));
	tx.in = NULL;
	if (al_arena_alloc(&a, g->tx.n_in * sizeof(al_tx_in), _Alignof(al_tx_in),
	                   (void **)&tx.in) != AL_OK)
		return false;
	memcpy(tx.in, g->tx.in, g->tx.n_in * sizeof(al_tx_in));
	ok &= al_tx_set_witness(&tx, &a, index, &item, 1) == AL_OK;
	ok &= verify(&tx, index, g->spent, AL_INTERP_STANDARD) == AL_OK;
	return ok;
}

/* The fully signed transaction: every input, whatever its type. */
static bool run_signed(group *g, const json_t *kp, al_arena *a)
{
	const json_t *aux = json_object_get(kp, "auxiliary");
	uint8_t *raw;
	size_t len, i;
	al_tx tx;
	bool ok = true;

	raw = hexval(json_object_get(aux, "fullySignedTx"), &len);
	if (al_tx_parse(&tx, a, raw, len) != AL_OK || tx.n_in != g->tx.n_in)
		return false;
	for (i = 0; i < tx.n_in; i++) {
		al_err err = verify(&tx, i, g->spent, AL_INTERP_STANDARD);

		if (err != AL_OK) {
			fprintf(stderr, "  fullySignedTx input %zu: %s\n", i, al_err_name(err));
			ok = false;
		}
	}
	return ok;
}

static bool check_intermediary(const group *g, const json_t *im)
{
	return hex_eq(g->txdata.prevouts, 32, json_object_get(im, "hashPrevouts")) &&
	       hex_eq(g->txdata.amounts, 32, json_object_get(im, "hashAmounts")) &&
	       hex_eq(g->txdata.script_pubkeys, 32, json_object_get(im, "hashScriptPubkeys")) &&
	       hex_eq(g->txdata.sequences, 32, json_object_get(im, "hashSequences")) &&
	       hex_eq(g->txdata.outputs, 32, json_object_get(im, "hashOutputs"));
}

/* Damaged copies of the signed transaction, each failing for its own reason. */
static void negative_checks(group *g, const json_t *kp)
{
	static _Alignas(16) uint8_t mem[1 << 16];
	const json_t *aux = json_object_get(kp, "auxiliary");
	uint8_t *raw, sig65[65], annex[2] = {0x50, 0x00};
	al_bytes items[2];
	size_t len;
	al_arena a;
	al_tx tx;

	al_arena_init(&a, mem, sizeof(mem));
	raw = hexval(json_object_get(aux, "fullySignedTx"), &len);
	CHECK_OK(al_tx_parse(&tx, &a, raw, len));
	/* Input 0: a 65-byte SINGLE signature. */
	CHECK(tx.in[0].n_witness == 1 && tx.in[0].witness[0].len == 65);
	memcpy(sig65, tx.in[0].witness[0].p, 65);
	items[0] = (al_bytes){sig65, 65};
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, items, 1));
	sig65[10] ^= 1;
	CHECK_ERR(verify(&tx, 0, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_SCHNORR_SIG);
	sig65[10] ^= 1;
	sig65[64] = AL_SIGHASH_ALL; /* another type: another message */
	CHECK_ERR(verify(&tx, 0, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_SCHNORR_SIG);
	sig65[64] = 0x00; /* DEFAULT must be implicit */
	CHECK_ERR(verify(&tx, 0, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_SCHNORR_SIG_HASHTYPE);
	sig65[64] = 0x04;
	CHECK_ERR(verify(&tx, 0, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_SCHNORR_SIG_HASHTYPE);
	sig65[64] = 0x03;
	items[0].len = 63;
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, items, 1));
	CHECK_ERR(verify(&tx, 0, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_SCHNORR_SIG_SIZE);
	items[0].len = 65;
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, items, 1));
	CHECK_OK(verify(&tx, 0, g->spent, AL_INTERP_STANDARD));
	/* An annex is signed: adding one breaks the signature. */
	items[1] = (al_bytes){annex, 2};
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, items, 2));
	CHECK_ERR(verify(&tx, 0, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_SCHNORR_SIG);
	/* Another amount spent by any input changes every non-ANYONECANPAY message. */
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, items, 1));
	g->spent[5].amount = al_sat_of(g->spent[5].amount.sat + 1);
	CHECK_ERR(verify(&tx, 0, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_SCHNORR_SIG);
	/* Input 1 signs with ANYONECANPAY: the other inputs' amounts are not covered. */
	CHECK_OK(verify(&tx, 1, g->spent, AL_INTERP_STANDARD));
	/* P2WPKH input 5 signed the true amount. */
	CHECK_ERR(verify(&tx, 5, g->spent, AL_INTERP_STANDARD), AL_E_SCRIPT_NULLFAIL);
	CHECK_ERR(verify(&tx, 5, g->spent, AL_INTERP_CONSENSUS), AL_E_SCRIPT_EVAL_FALSE);
	g->spent[5].amount = al_sat_of(g->spent[5].amount.sat - 1);
	/* Without the other spent outputs taproot cannot be checked. */
	{
		al_interp_fail why;
		al_arena s;

		al_arena_init(&s, g_scratch, sizeof(g_scratch));
		CHECK_ERR(al_interp_verify_input(al_t_secp(), &tx, 0, g->spent[0].script.p,
		                                 g->spent[0].script.len, g->spent[0].amount,
		                                 AL_INTERP_STANDARD, &s, &why),
		          AL_E_SCRIPT_UNSUPPORTED);
		/* ... but the P2PKH one can. */
		CHECK_OK(al_interp_verify_input(al_t_secp(), &tx, 2, g->spent[2].script.p,
		                                g->spent[2].script.len, g->spent[2].amount,
		                                AL_INTERP_STANDARD, &s, &why));
	}
	/* Before the soft fork a taproot output is anyone-can-spend. */
	CHECK_OK(verify(&tx, 0, g->spent, AL_INTERP_CONSENSUS & ~AL_INTERP_TAPROOT));
}

int main(void)
{
	static _Alignas(16) uint8_t mem[1 << 16];
	json_t *root = al_v_load_data("bip341_wallet_vectors.json");
	const json_t *spks = json_object_get(root, "scriptPubKey");
	const json_t *kps = json_object_get(root, "keyPathSpending");
	al_v_suite s;
	size_t i, j;
	al_arena a;
	group g;

	al_v_begin(&s, "bip341");
	for (i = 0; i < json_array_size(spks); i++)
		al_v_result(&s, run_spk_entry(json_array_get(spks, i)), "scriptPubKey[%zu]", i);
	for (i = 0; i < json_array_size(kps); i++) {
		const json_t *kp = json_array_get(kps, i);
		const json_t *ins = json_object_get(kp, "inputSpending");
		bool loaded;

		al_arena_init(&a, mem, sizeof(mem));
		loaded = load_group(&g, &a, kp);
		for (j = 0; j < json_array_size(ins); j++)
			al_v_result(&s, loaded && run_input(&g, json_array_get(ins, j)),
			            "keyPathSpending[%zu].inputSpending[%zu]", i, j);
		al_v_result(&s,
		            loaded && check_intermediary(&g, json_object_get(kp, "intermediary")) &&
		                run_signed(&g, kp, &a),
		            "keyPathSpending[%zu] (intermediary, fullySignedTx)", i);
		if (loaded)
			negative_checks(&g, kp);
	}
	CHECK(al_v_end(&s));
	json_decref(root);
	return al_t_finish();
}
