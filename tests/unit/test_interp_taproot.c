/* Script interpreter, taproot and legacy spends: key path and script path signed
 * here with libsecp256k1, tapscript rules (BIP 342), legacy P2PK / P2PKH / bare and
 * P2SH multisig with the legacy sighash, and every error code these add. */
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "test.h"

#define STD  AL_INTERP_STANDARD
#define CONS AL_INTERP_CONSENSUS

static _Alignas(16) uint8_t g_scratch[1 << 17];
static _Alignas(16) uint8_t g_txmem[1 << 16];
static al_tx g_tx;
static al_tx_out g_spent[2];
static uint8_t g_spk[2][200];

typedef struct key {
	al_privkey k;
	al_pubkey pub;
	uint8_t pub33[33];
	uint8_t x[32];
} key;

static void make_key(key *out, uint8_t seed)
{
	al_xonly xo;

	memset(out->k.k, seed, 32);
	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &out->pub, &out->k));
	al_pubkey_serialize(al_t_secp(), out->pub33, &out->pub);
	CHECK_OK(al_xonly_from_privkey(al_t_secp(), &xo, &out->k));
	al_xonly_serialize(al_t_secp(), out->x, &xo);
}

/* Two inputs spending g_spent[0] and g_spent[1], two outputs. */
static void make_tx(const uint8_t *spk0, size_t len0)
{
	static const uint8_t prev[32] = {0x33};
	al_arena a;

	al_arena_init(&a, g_txmem, sizeof(g_txmem));
	CHECK_OK(al_tx_init(&g_tx, &a, 2, 0, 2, 2));
	CHECK_OK(al_tx_add_input(&g_tx, prev, 0, 0xfffffffe));
	CHECK_OK(al_tx_add_input(&g_tx, prev, 1, 0xfffffffe));
	CHECK_OK(al_tx_add_output(&g_tx, al_sat_of(1000), (const uint8_t *)"\x51", 1));
	CHECK_OK(al_tx_add_output(&g_tx, al_sat_of(2000), (const uint8_t *)"\x52", 1));
	memcpy(g_spk[0], spk0, len0);
	g_spent[0] = (al_tx_out){al_sat_of(50000), {g_spk[0], len0}};
	g_spk[1][0] = AL_OP_1;
	g_spent[1] = (al_tx_out){al_sat_of(60000), {g_spk[1], 1}};
}

static void set_witness(const al_bytes *items, size_t n)
{
	static uint8_t mem[8192];
	al_arena a;

	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_tx_set_witness(&g_tx, &a, 0, items, n));
}

static al_err verify(uint32_t flags)
{
	al_interp_fail why;
	al_arena a;
	al_err err;

	al_arena_init(&a, g_scratch, sizeof(g_scratch));
	err = al_interp_verify_tx_input(al_t_secp(), &g_tx, 0, g_spent, flags, &a, &why);
	CHECK(why.err == err && al_arena_used(&a) == 0);
	return err;
}

static void schnorr_sign(uint8_t *sig, const key *k, const uint8_t *leaf, uint32_t codesep,
                         uint8_t type, const al_bytes *annex)
{
	al_taproot_sigmsg m = {type, annex, leaf, codesep};
	al_taproot_txdata d;
	uint8_t digest[32];

	al_taproot_txdata_init(&d, &g_tx, g_spent);
	CHECK_OK(al_sighash_taproot(digest, &d, &g_tx, 0, &m));
	CHECK_OK(al_schnorr_sign(al_t_secp(), sig, digest, 32, &k->k, NULL));
	if (type != AL_SIGHASH_DEFAULT)
		sig[64] = type;
}

static void test_key_path(void)
{
	uint8_t spk[34], sig[65], annex[3] = {0x50, 1, 2};
	al_bytes items[2], an = {annex, 3};
	key k;
	al_wb w;

	make_key(&k, 0x11);
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2tr(&w, k.x);
	make_tx(spk, w.len);
	schnorr_sign(sig, &k, NULL, 0, AL_SIGHASH_DEFAULT, NULL);
	items[0] = (al_bytes){sig, 64};
	set_witness(items, 1);
	CHECK_OK(verify(STD));
	/* With an annex, signed. */
	schnorr_sign(sig, &k, NULL, 0, AL_SIGHASH_DEFAULT, &an);
	items[1] = an;
	set_witness(items, 2);
	CHECK_OK(verify(STD));
	/* Every explicit type. */
	{
		static const uint8_t types[] = {0x01, 0x02, 0x03, 0x81, 0x82, 0x83};
		size_t i;

		for (i = 0; i < sizeof(types); i++) {
			schnorr_sign(sig, &k, NULL, 0, types[i], NULL);
			items[0] = (al_bytes){sig, 65};
			set_witness(items, 1);
			CHECK_OK(verify(STD));
			/* A signature by another key for the same message. */
			sig[5] ^= 0x40;
			CHECK_ERR(verify(STD), AL_E_SCRIPT_SCHNORR_SIG);
		}
	}
	items[0] = (al_bytes){sig, 0};
	set_witness(items, 1);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_SCHNORR_SIG_SIZE);
	/* The old entry point cannot see the other spent output. */
	{
		al_interp_fail why;
		al_arena a;

		al_arena_init(&a, g_scratch, sizeof(g_scratch));
		CHECK_ERR(al_interp_verify_input(al_t_secp(), &g_tx, 0, spk, 34, g_spent[0].amount,
		                                 STD, &a, &why),
		          AL_E_SCRIPT_UNSUPPORTED);
		CHECK_ERR(al_interp_verify_tx_input(al_t_secp(), &g_tx, 2, g_spent, STD, &a, &why),
		          AL_E_RANGE);
		CHECK_ERR(al_interp_verify_tx_input(al_t_secp(), &g_tx, 0, NULL, STD, &a, &why),
		          AL_E_ARG);
	}
	set_witness(NULL, 0);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_WITNESS_EMPTY);
	/* SINGLE for an input without its output. */
	{
		al_taproot_sigmsg m = {0x03, NULL, NULL, 0};
		al_taproot_txdata d;
		uint8_t digest[32];

		al_taproot_txdata_init(&d, &g_tx, g_spent);
		g_tx.n_out = 0;
		CHECK_ERR(al_sighash_taproot(digest, &d, &g_tx, 0, &m), AL_E_SIGHASH_INPUT);
		m.hash_type = 0x84;
		CHECK_ERR(al_sighash_taproot(digest, &d, &g_tx, 0, &m), AL_E_SIGHASH_TYPE);
		g_tx.n_out = 2;
	}
}

/* A taproot output with the single leaf `script` under internal key `in`:
 * writes the output script and the control block. */
static void tap_commit(uint8_t spk[34], uint8_t control[33], uint8_t leaf[32], const key *in,
                       const uint8_t *script, size_t len, uint8_t leaf_ver)
{
	uint8_t pre[4], buf[64], tweak[32], q[33];
	al_sha256_ctx h;
	al_pubkey p;
	al_wb w;

	al_wb_init(&w, pre, sizeof(pre));
	al_wb_u8(&w, leaf_ver);
	al_wb_compactsize(&w, len);
	al_tagged_hash_init(&h, "TapLeaf");
	al_sha256_update(&h, pre, w.len);
	al_sha256_update(&h, script, len);
	al_sha256_final(&h, leaf);
	memcpy(buf, in->x, 32);
	memcpy(buf + 32, leaf, 32);
	al_tagged_hash(tweak, "TapTweak", buf, 64);
	q[0] = 2;
	memcpy(q + 1, in->x, 32);
	CHECK_OK(al_pubkey_parse(al_t_secp(), &p, q, 33));
	CHECK_OK(al_pubkey_tweak_add(al_t_secp(), &p, tweak));
	al_pubkey_serialize(al_t_secp(), q, &p);
	al_wb_init(&w, spk, 34);
	al_script_p2tr(&w, q + 1);
	control[0] = (uint8_t)(leaf_ver | (q[0] & 1));
	memcpy(control + 1, in->x, 32);
}

/* Spend the single-leaf output of `script` with `stack` (bottom first). */
static al_err run_leaf(const uint8_t *script, size_t len, const al_bytes *stack, size_t n,
                       uint8_t leaf_ver, uint32_t flags)
{
	static uint8_t cb[33 + 32];
	uint8_t spk[34], leaf[32];
	al_bytes items[8];
	key in;

	make_key(&in, 0x77);
	tap_commit(spk, cb, leaf, &in, script, len, leaf_ver);
	make_tx(spk, 34);
	if (n)
		memcpy(items, stack, n * sizeof(al_bytes));
	items[n] = (al_bytes){script, len};
	items[n + 1] = (al_bytes){cb, 33};
	set_witness(items, n + 2);
	return verify(flags);
}

static void test_script_path(void)
{
	uint8_t script[80], spk[34], cb[33 + 32 + 1], leaf[32], sig[2][64];
	al_bytes items[5];
	key in, a, b;
	size_t len;
	al_wb w;

	make_key(&in, 0x21);
	make_key(&a, 0x22);
	make_key(&b, 0x23);
	/* <a> CHECKSIG <b> CHECKSIGADD 2 NUMEQUAL */
	al_wb_init(&w, script, sizeof(script));
	al_script_push(&w, a.x, 32);
	al_script_op(&w, AL_OP_CHECKSIG);
	al_script_push(&w, b.x, 32);
	al_script_op(&w, 0xba);
	al_script_op(&w, AL_OP_2);
	al_script_op(&w, 0x9c);
	len = w.len;
	tap_commit(spk, cb, leaf, &in, script, len, 0xc0);
	make_tx(spk, 34);
	schnorr_sign(sig[0], &a, leaf, 0xffffffffu, AL_SIGHASH_DEFAULT, NULL);
	schnorr_sign(sig[1], &b, leaf, 0xffffffffu, AL_SIGHASH_DEFAULT, NULL);
	items[0] = (al_bytes){sig[1], 64};
	items[1] = (al_bytes){sig[0], 64};
	items[2] = (al_bytes){script, len};
	items[3] = (al_bytes){cb, 33};
	set_witness(items, 4);
	CHECK_OK(verify(STD));
	/* One empty signature: 1 != 2. */
	items[0].len = 0;
	set_witness(items, 4);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_EVAL_FALSE);
	/* A key-path signature is not a script-path one. */
	schnorr_sign(sig[1], &b, NULL, 0, AL_SIGHASH_DEFAULT, NULL);
	items[0].len = 64;
	set_witness(items, 4);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_SCHNORR_SIG);
	/* Control blocks. */
	items[3].len = 32;
	set_witness(items, 4);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_TAPROOT_CONTROL_SIZE);
	items[3].len = 34;
	set_witness(items, 4);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_TAPROOT_CONTROL_SIZE);
	cb[1] ^= 1; /* another internal key */
	items[3].len = 33;
	set_witness(items, 4);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_WITNESS_MISMATCH);
	cb[1] ^= 1;
	/* The leaf must be the committed one. */
	items[2].len = len - 1;
	set_witness(items, 4);
	CHECK_ERR(verify(STD), AL_E_SCRIPT_WITNESS_MISMATCH);
}

static void test_tapscript_rules(void)
{
	static uint8_t big[600];
	al_bytes st[3];
	uint8_t sig[64] = {1};
	size_t i;

	/* OP_SUCCESSx succeeds unless discouraged, even after a failing opcode. */
	CHECK_OK(run_leaf((const uint8_t *)"\x6a\x50", 2, NULL, 0, 0xc0, CONS));
	CHECK_ERR(run_leaf((const uint8_t *)"\x6a\x50", 2, NULL, 0, 0xc0, STD),
	          AL_E_SCRIPT_UPGRADABLE_OP_SUCCESS);
	CHECK_OK(run_leaf((const uint8_t *)"\x7e", 1, NULL, 0, 0xc0, CONS)); /* OP_CAT */
	/* ... but a script that does not decode fails first. */
	CHECK_ERR(run_leaf((const uint8_t *)"\x4c", 1, NULL, 0, 0xc0, CONS),
	          AL_E_SCRIPT_BAD_OPCODE);
	/* Unknown leaf versions. */
	CHECK_OK(run_leaf((const uint8_t *)"\x00", 1, NULL, 0, 0xc2, CONS));
	CHECK_ERR(run_leaf((const uint8_t *)"\x00", 1, NULL, 0, 0xc2, STD),
	          AL_E_SCRIPT_UPGRADABLE_TAPVER);
	/* MINIMALIF is consensus. */
	st[0] = (al_bytes){(const uint8_t *)"\x02", 1};
	CHECK_ERR(run_leaf((const uint8_t *)"\x63\x51\x68", 3, st, 1, 0xc0, CONS),
	          AL_E_SCRIPT_TAP_MINIMALIF);
	st[0] = (al_bytes){(const uint8_t *)"\x01", 1};
	CHECK_OK(run_leaf((const uint8_t *)"\x63\x51\x68", 3, st, 1, 0xc0, CONS));
	/* No CHECKMULTISIG. */
	CHECK_ERR(run_leaf((const uint8_t *)"\x00\x00\x00\xae", 4, NULL, 0, 0xc0, CONS),
	          AL_E_SCRIPT_TAP_MULTISIG);
	/* Keys: empty fails, unknown sizes succeed unless discouraged. */
	st[0] = (al_bytes){sig, 64};
	CHECK_ERR(run_leaf((const uint8_t *)"\x00\xac", 2, st, 1, 0xc0, CONS),
	          AL_E_SCRIPT_TAP_EMPTY_PUBKEY);
	CHECK_OK(run_leaf((const uint8_t *)"\x02\x05\x05\xac", 4, st, 1, 0xc0, CONS));
	CHECK_ERR(run_leaf((const uint8_t *)"\x02\x05\x05\xac", 4, st, 1, 0xc0, STD),
	          AL_E_SCRIPT_UPGRADABLE_KEYTYPE);
	/* The signature budget: 50 per non-empty signature beyond the witness size. Ten
	 * checks against an unknown key type need more weight than this witness has. */
	{
		uint8_t s[64];
		size_t n = 0;

		for (i = 0; i < 10; i++) {
			s[n++] = AL_OP_DUP;
			s[n++] = 0x01;
			s[n++] = 0x05;
			s[n++] = AL_OP_CHECKSIGVERIFY;
		}
		s[n++] = AL_OP_DROP;
		s[n++] = AL_OP_1;
		CHECK_ERR(run_leaf(s, n, st, 1, 0xc0, CONS), AL_E_SCRIPT_TAP_WEIGHT);
		/* A larger witness buys the budget. */
		st[1] = (al_bytes){big, 520};
		/* Drop the filler, then the ten checks on the signature. */
		memmove(s + 1, s, n);
		s[0] = AL_OP_DROP;
		st[0] = (al_bytes){sig, 64};
		CHECK_OK(run_leaf(s, n + 1, st, 2, 0xc0, CONS));
	}
	/* Initial stack: elements of at most 520 bytes, at most 1000 of them. */
	st[0] = (al_bytes){big, 521};
	CHECK_ERR(run_leaf((const uint8_t *)"\x51", 1, st, 1, 0xc0, CONS), AL_E_SCRIPT_PUSH_SIZE);
	/* Tapscripts are not limited to 201 opcodes or 10,000 bytes. */
	{
		static uint8_t s[10100];

		memset(s, AL_OP_NOP, sizeof(s));
		s[sizeof(s) - 1] = AL_OP_1;
		CHECK_OK(run_leaf(s, sizeof(s), NULL, 0, 0xc0, CONS));
	}
	/* Many computed values: the pool is compacted, results stay right. */
	{
		static uint8_t s[4600];
		size_t n = 0;

		s[n++] = AL_OP_1;
		for (i = 0; i < 1500; i++) {
			s[n++] = AL_OP_SHA256;
			s[n++] = AL_OP_DUP;
			s[n++] = AL_OP_DROP;
		}
		s[n++] = AL_OP_SIZE;
		s[n++] = 0x01;
		s[n++] = 32;
		s[n++] = AL_OP_EQUALVERIFY;
		CHECK_OK(run_leaf(s, n, NULL, 0, 0xc0, CONS));
	}
}

/* ---- legacy ---------------------------------------------------------------------- */

static void legacy_sig(uint8_t *out, size_t *len, const key *k, const uint8_t *code,
                       size_t code_len, uint32_t type)
{
	uint8_t digest[32];
	al_ecdsa_sig s;

	CHECK_OK(al_sighash_legacy(digest, &g_tx, 0, code, code_len, type));
	CHECK_OK(al_ecdsa_sign(al_t_secp(), &s, digest, &k->k));
	*len = AL_DER_SIG_MAXLEN;
	CHECK_OK(al_ecdsa_sig_serialize_der(al_t_secp(), out, len, &s));
	out[(*len)++] = (uint8_t)type;
}

static void set_script_sig(const uint8_t *p, size_t len)
{
	g_tx.in[0].script_sig = (al_bytes){p, len};
}

static void test_legacy(void)
{
	static uint8_t ss[300];
	uint8_t spk[80], sig[80], sig2[80], h[20];
	size_t slen, slen2;
	key a, b;
	al_wb w;

	make_key(&a, 0x31);
	make_key(&b, 0x32);
	/* P2PKH. */
	al_hash160(h, a.pub33, 33);
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2pkh(&w, h);
	make_tx(spk, w.len);
	legacy_sig(sig, &slen, &a, spk, w.len, AL_SIGHASH_ALL);
	al_wb_init(&w, ss, sizeof(ss));
	al_script_push(&w, sig, slen);
	al_script_push(&w, a.pub33, 33);
	set_script_sig(ss, w.len);
	CHECK_OK(verify(STD));
	ss[11] ^= 1; /* inside R */
	CHECK_ERR(verify(STD), AL_E_SCRIPT_NULLFAIL);
	CHECK_ERR(verify(CONS), AL_E_SCRIPT_EVAL_FALSE);
	/* P2PK with ANYONECANPAY|NONE, and a SINGLE signature without its output. */
	al_wb_init(&w, spk, sizeof(spk));
	al_script_push(&w, a.pub33, 33);
	al_script_op(&w, AL_OP_CHECKSIG);
	make_tx(spk, w.len);
	legacy_sig(sig, &slen, &a, spk, w.len, AL_SIGHASH_NONE | AL_SIGHASH_ANYONECANPAY);
	al_wb_init(&w, ss, sizeof(ss));
	al_script_push(&w, sig, slen);
	set_script_sig(ss, w.len);
	CHECK_OK(verify(STD));
	g_tx.n_out = 0;
	legacy_sig(sig, &slen, &a, spk, 35, AL_SIGHASH_SINGLE);
	{
		uint8_t one[32] = {1}, d[32];

		CHECK_OK(al_sighash_legacy(d, &g_tx, 0, spk, 35, AL_SIGHASH_SINGLE));
		CHECK_MEM(d, one, 32);
		CHECK_ERR(al_sighash_legacy(d, &g_tx, 2, spk, 35, AL_SIGHASH_ALL),
		          AL_E_SIGHASH_INPUT);
	}
	al_wb_init(&w, ss, sizeof(ss));
	al_script_push(&w, sig, slen);
	set_script_sig(ss, w.len);
	CHECK_OK(verify(STD));
	g_tx.n_out = 2;
	/* Bare 1-of-2 multisig. */
	al_wb_init(&w, spk, sizeof(spk));
	al_script_op(&w, AL_OP_1);
	al_script_push(&w, a.pub33, 33);
	al_script_push(&w, b.pub33, 33);
	al_script_op(&w, AL_OP_2);
	al_script_op(&w, AL_OP_CHECKMULTISIG);
	make_tx(spk, w.len);
	legacy_sig(sig, &slen, &b, spk, w.len, AL_SIGHASH_ALL);
	al_wb_init(&w, ss, sizeof(ss));
	al_script_op(&w, AL_OP_0);
	al_script_push(&w, sig, slen);
	set_script_sig(ss, w.len);
	CHECK_OK(verify(STD));
	/* P2SH around it: the scriptCode is the redeemScript. */
	{
		uint8_t redeem[80], p2sh[23];
		size_t rlen = g_spent[0].script.len;

		memcpy(redeem, spk, rlen);
		al_hash160(h, redeem, rlen);
		al_wb_init(&w, p2sh, sizeof(p2sh));
		al_script_p2sh(&w, h);
		make_tx(p2sh, w.len);
		legacy_sig(sig, &slen, &a, redeem, rlen, AL_SIGHASH_ALL);
		al_wb_init(&w, ss, sizeof(ss));
		al_script_op(&w, AL_OP_0);
		al_script_push(&w, sig, slen);
		al_script_push(&w, redeem, rlen);
		set_script_sig(ss, w.len);
		CHECK_OK(verify(STD));
		/* A scriptSig with a non-push fails P2SH. */
		ss[0] = AL_OP_NOP;
		CHECK_ERR(verify(CONS), AL_E_SCRIPT_SIG_PUSHONLY);
		ss[0] = AL_OP_0;
		/* A witness on a non-witness spend. */
		{
			al_bytes it = {sig, 1};

			set_witness(&it, 1);
			CHECK_ERR(verify(STD), AL_E_SCRIPT_WITNESS_UNEXPECTED);
			set_witness(NULL, 0);
		}
	}
	/* FindAndDelete: a signature inside its own scriptCode is removed before
	 * hashing; CONST_SCRIPTCODE forbids it, and OP_CODESEPARATOR. */
	{
		uint8_t s2[160];
		size_t n;

		/* <sig> DROP <a> CHECKSIG, signed over the script without the <sig> push. */
		al_wb_init(&w, spk, sizeof(spk));
		al_script_op(&w, AL_OP_DROP);
		al_script_push(&w, a.pub33, 33);
		al_script_op(&w, AL_OP_CHECKSIG);
		make_tx(spk, w.len);
		legacy_sig(sig, &slen, &a, spk, w.len, AL_SIGHASH_ALL);
		al_wb_init(&w, s2, sizeof(s2));
		al_script_push(&w, sig, slen);
		memcpy(s2 + w.len, spk, g_spent[0].script.len);
		n = w.len + g_spent[0].script.len;
		make_tx(s2, n);
		al_wb_init(&w, ss, sizeof(ss));
		al_script_push(&w, sig, slen);
		set_script_sig(ss, w.len);
		CHECK_OK(verify(CONS));
		CHECK_ERR(verify(CONS | AL_INTERP_CONST_SCRIPTCODE), AL_E_SCRIPT_SIG_FINDANDDELETE);
		/* OP_CODESEPARATOR: the scriptCode starts after it. */
		al_wb_init(&w, spk, sizeof(spk));
		al_script_op(&w, AL_OP_CODESEPARATOR);
		al_script_push(&w, b.pub33, 33);
		al_script_op(&w, AL_OP_CHECKSIG);
		make_tx(spk, w.len);
		legacy_sig(sig2, &slen2, &b, spk + 1, w.len - 1, AL_SIGHASH_ALL);
		al_wb_init(&w, ss, sizeof(ss));
		al_script_push(&w, sig2, slen2);
		set_script_sig(ss, w.len);
		CHECK_OK(verify(CONS));
		CHECK_ERR(verify(CONS | AL_INTERP_CONST_SCRIPTCODE), AL_E_SCRIPT_OP_CODESEPARATOR);
	}
}

int main(void)
{
	CHECK(al_interp_scratch_size() <= sizeof(g_scratch));
	test_key_path();
	test_script_path();
	test_tapscript_rules();
	test_legacy();
	return al_t_finish();
}
