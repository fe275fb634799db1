/* BOLT #3 vectors (lightning/bolts a3772650, 03-transactions.md): key derivation
 * (Appendix E), per-commitment secrets (Appendix D), commitment and HTLC
 * transactions (Appendix C, static_remotekey) and their anchors counterpart
 * (option_anchors_zero_fee_htlc_tx). Every signature, ours and the peer's, is made
 * here with the keys the appendix lists and must match byte for byte. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "ln/commit.h"
#include "ln/htlc_tx.h"
#include "ln/keys.h"
#include "ln/scripts.h"
#include "ln/shachain.h"
#include "test.h"
#include "vectors.h"

/* ---- small helpers ------------------------------------------------------------- */

static bool unhex_exact(uint8_t *out, size_t len, const char *hex)
{
	size_t got;
	const uint8_t *p = al_t_unhex(hex, &got);

	if (got != len)
		return false;
	memcpy(out, p, len);
	return true;
}

static uint64_t parse_u64(const char *s)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return strtoull(s + 2, NULL, 16);
	return strtoull(s, NULL, 10);
}

static bool parse_pubkey(al_pubkey *pk, const char *hex)
{
	uint8_t b[33];

	return unhex_exact(b, 33, hex) && al_pubkey_parse(al_t_secp(), pk, b, 33) == AL_OK;
}

/* Private keys appear either as 32 bytes or, Bitcoin-style, with a trailing 01. */
static bool parse_privkey(al_privkey *k, const char *hex)
{
	size_t len;
	const uint8_t *p = al_t_unhex(hex, &len);

	if (len != 32 && !(len == 33 && p[32] == 0x01))
		return false;
	memcpy(k->k, p, 32);
	return al_privkey_valid(al_t_secp(), k);
}

static bool pubkey_is(const al_pubkey *pk, const char *hex)
{
	uint8_t ser[33], want[33];

	al_pubkey_serialize(al_t_secp(), ser, pk);
	return unhex_exact(want, 33, hex) && memcmp(ser, want, 33) == 0;
}

static bool privkey_matches(const al_privkey *k, const al_pubkey *pk)
{
	al_pubkey got;

	return al_pubkey_from_privkey(al_t_secp(), &got, k) == AL_OK &&
	       al_pubkey_eq(al_t_secp(), &got, pk);
}

/* Bytes of a DER signature equal a hex string. */
static bool der_is(const al_ecdsa_sig *sig, const char *hex)
{
	uint8_t der[AL_DER_SIG_MAXLEN];
	size_t len = sizeof(der), wlen;
	const uint8_t *want = al_t_unhex(hex, &wlen);

	return al_ecdsa_sig_serialize_der(al_t_secp(), der, &len, sig) == AL_OK && len == wlen &&
	       memcmp(der, want, len) == 0;
}

static bool parse_der(al_ecdsa_sig *sig, const char *hex)
{
	size_t len;
	const uint8_t *p = al_t_unhex(hex, &len);

	return al_ecdsa_sig_parse_der(al_t_secp(), sig, p, len) == AL_OK;
}

static bool tx_is(const al_tx *tx, const char *hex)
{
	static uint8_t buf[8192];
	size_t wlen;
	const uint8_t *want = al_t_unhex(hex, &wlen);
	al_wb w;

	al_wb_init(&w, buf, sizeof(buf));
	al_tx_write(&w, tx, true);
	if (!al_wb_ok(&w) || w.len != wlen || memcmp(buf, want, wlen) != 0) {
		al_t_dump("  tx got ", buf, w.len);
		al_t_dump("  tx want", want, wlen);
		return false;
	}
	return true;
}

/* ---- Appendix E: key derivation ------------------------------------------------ */

static bool key_test(const json_t *in, const json_t *t)
{
	const al_secp *ctx = al_t_secp();
	const char *name = al_v_str(t, "output_name"), *want = al_v_str(t, "output");
	al_privkey base_secret, out_k;
	al_pubkey base_point, pcp, out_pk, pcp_from_secret, bp_from_secret;
	uint8_t pcs[32];
	bool ok;

	if (!parse_privkey(&base_secret, al_v_str(in, "base_secret")) ||
	    !unhex_exact(pcs, 32, al_v_str(in, "per_commitment_secret")) ||
	    !parse_pubkey(&base_point, al_v_str(in, "base_point")) ||
	    !parse_pubkey(&pcp, al_v_str(in, "per_commitment_point")))
		return false;
	/* The stated points are the stated secrets times G. */
	ok = al_ln_per_commitment_point(ctx, &pcp_from_secret, pcs) == AL_OK &&
	     al_pubkey_eq(ctx, &pcp_from_secret, &pcp) &&
	     al_pubkey_from_privkey(ctx, &bp_from_secret, &base_secret) == AL_OK &&
	     al_pubkey_eq(ctx, &bp_from_secret, &base_point);
	if (!strcmp(name, "localpubkey")) {
		ok &= al_ln_derive_pubkey(ctx, &out_pk, &base_point, &pcp) == AL_OK &&
		      pubkey_is(&out_pk, want);
	} else if (!strcmp(name, "localprivkey")) {
		al_privkey w;

		ok &= al_ln_derive_privkey(ctx, &out_k, &base_secret, &pcp) == AL_OK &&
		      parse_privkey(&w, want) && !memcmp(w.k, out_k.k, 32);
	} else if (!strcmp(name, "revocationpubkey")) {
		ok &= al_ln_revocation_pubkey(ctx, &out_pk, &base_point, &pcp) == AL_OK &&
		      pubkey_is(&out_pk, want);
	} else if (!strcmp(name, "revocationprivkey")) {
		al_privkey w;

		ok &= al_ln_revocation_privkey(ctx, &out_k, &base_secret, pcs) == AL_OK &&
		      parse_privkey(&w, want) && !memcmp(w.k, out_k.k, 32);
	} else {
		ok = false;
	}
	return ok;
}

static void run_keys(void)
{
	json_t *root = al_v_load_json("bolts/bolt03/key-derivation.json");
	const json_t *in = json_object_get(root, "inputs"), *tests = json_object_get(root, "tests");
	al_v_suite s;
	size_t i;

	al_v_begin(&s, "bolt03-keys");
	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);

		al_v_result(&s, key_test(in, t), "%s", al_v_str(t, "name"));
	}
	al_v_end(&s);
	json_decref(root);
}

/* ---- Appendix D: per-commitment secrets ---------------------------------------- */

static bool gen_test(const json_t *t)
{
	uint8_t seed[32], want[32], got[32];

	return unhex_exact(seed, 32, al_v_str(t, "seed")) &&
	       unhex_exact(want, 32, al_v_str(t, "output")) &&
	       al_shachain_from_seed(got, seed, parse_u64(al_v_str(t, "I"))) == AL_OK &&
	       !memcmp(got, want, 32);
}

/* Insert each step in order; OK must succeed and ERROR must fail as the spec says
 * ("The secret for I is incorrect"). After the last step every accepted secret must
 * be derivable again from the store. */
static bool storage_test(const json_t *t)
{
	const json_t *steps = json_object_get(t, "steps");
	al_shachain sc;
	uint8_t secrets[64][32], got[32];
	uint64_t idx[64];
	size_t i, n_ok = 0;
	bool ok = json_array_size(steps) > 0 && json_array_size(steps) <= 64;

	al_shachain_init(&sc);
	for (i = 0; ok && i < json_array_size(steps); i++) {
		const json_t *st = json_array_get(steps, i);
		bool want_ok = !strcmp(al_v_str(st, "output"), "OK");
		uint64_t index = parse_u64(al_v_str(st, "I"));
		al_err e;

		ok = unhex_exact(secrets[n_ok], 32, al_v_str(st, "secret"));
		e = al_shachain_insert(&sc, index, secrets[n_ok]);
		if (want_ok && e == AL_OK)
			idx[n_ok++] = index;
		else if (want_ok || e != AL_E_SHACHAIN_MISMATCH)
			ok = false;
		if (!ok)
			fprintf(stderr, "  step %zu: got %s\n", i, al_err_name(e));
	}
	for (i = 0; ok && i < n_ok; i++)
		ok = al_shachain_get(&sc, idx[i], got) == AL_OK && !memcmp(got, secrets[i], 32);
	al_shachain_clear(&sc);
	return ok;
}

static void run_secrets(void)
{
	json_t *root = al_v_load_json("bolts/bolt03/per-commitment-secrets.json");
	const json_t *gen = json_object_get(root, "generation");
	const json_t *sto = json_object_get(root, "storage");
	al_v_suite s;
	size_t i;

	al_v_begin(&s, "bolt03-secrets");
	for (i = 0; i < json_array_size(gen); i++) {
		const json_t *t = json_array_get(gen, i);

		al_v_result(&s, gen_test(t), "%s", al_v_str(t, "name"));
	}
	for (i = 0; i < json_array_size(sto); i++) {
		const json_t *t = json_array_get(sto, i);

		al_v_result(&s, storage_test(t), "%s", al_v_str(t, "name"));
	}
	al_v_end(&s);
	json_decref(root);
}

/* ---- Appendix C setup ------------------------------------------------------------ */

#define N_TEST_HTLCS 7

typedef struct setup {
	uint8_t funding_txid[32];
	uint32_t funding_vout;
	al_sat funding_amount;
	uint64_t commitment_number;
	uint16_t to_self_delay;
	al_sat dust_limit;
	uint64_t obscurer;
	al_ln_htlc htlcs[N_TEST_HTLCS];
	uint8_t preimages[N_TEST_HTLCS][32];
	al_pubkey local_funding, remote_funding;
	al_privkey local_funding_key, remote_funding_key;
	al_privkey local_htlc_key, remote_htlc_key;
	al_ln_keyset keys;
} setup;

/* A "key: value" entry of a list of {key, value} objects. */
static const char *find_kv(const json_t *list, const char *key)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++) {
		const json_t *e = json_array_get(list, i);
		const json_t *k = json_object_get(e, "key");

		if (json_is_string(k) && !strcmp(json_string_value(k), key))
			return al_v_str(e, "value");
	}
	fprintf(stderr, "FAIL: no '%s' in the vector file\n", key);
	exit(1);
}

/* The internal block lists "INTERNAL: name: hex" entries. */
static const char *find_internal(const json_t *list, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < json_array_size(list); i++) {
		const json_t *v = json_object_get(json_array_get(list, i), "value");
		const char *s = json_is_string(v) ? json_string_value(v) : "";

		if (!strncmp(s, name, n) && s[n] == ':')
			return s + n + 2;
	}
	fprintf(stderr, "FAIL: no internal '%s'\n", name);
	exit(1);
}

static void load_htlcs(setup *su, const json_t *common)
{
	char key[64];
	int i;

	for (i = 0; i < N_TEST_HTLCS; i++) {
		al_ln_htlc *h = &su->htlcs[i];

		snprintf(key, sizeof(key), "htlc %d direction", i);
		/* "local->remote" is offered by the commitment's owner. */
		h->offered = !strcmp(find_kv(common, key), "local->remote");
		snprintf(key, sizeof(key), "htlc %d amount_msat", i);
		h->amount = al_msat_of(parse_u64(find_kv(common, key)));
		snprintf(key, sizeof(key), "htlc %d expiry", i);
		h->cltv_expiry = (uint32_t)parse_u64(find_kv(common, key));
		snprintf(key, sizeof(key), "htlc %d payment_preimage", i);
		CHECK(unhex_exact(su->preimages[i], 32, find_kv(common, key)));
		al_sha256(h->payment_hash, su->preimages[i], 32);
	}
}

/* Derive the keyset from the basepoints and check it against the listed keys, so the
 * vectors exercise al_ln_keyset_derive as well. */
static void check_derivation(const setup *su, const json_t *common, const json_t *internal)
{
	const al_secp *ctx = al_t_secp();
	al_ln_basepoints local, remote;
	al_pubkey pcp;
	al_ln_keyset ks;
	al_privkey k, base;

	memset(&local, 0, sizeof(local));
	memset(&remote, 0, sizeof(remote));
	CHECK(parse_pubkey(&local.payment, find_kv(common, "local_payment_basepoint")));
	CHECK(parse_pubkey(&local.htlc, find_kv(common, "local_htlc_basepoint")));
	CHECK(parse_pubkey(&local.delayed_payment,
	                   find_internal(internal, "local_delayed_payment_basepoint")));
	CHECK(parse_pubkey(&remote.payment, find_kv(common, "remote_payment_basepoint")));
	CHECK(parse_pubkey(&remote.htlc, find_kv(common, "remote_htlc_basepoint")));
	CHECK(parse_pubkey(&remote.revocation,
	                   find_internal(internal, "remote_revocation_basepoint")));
	CHECK(parse_pubkey(&pcp, find_internal(internal, "local_per_commitment_point")));
	CHECK(parse_privkey(&k, find_kv(internal, "x_local_per_commitment_secret")));
	CHECK(privkey_matches(&k, &pcp));
	CHECK_OK(al_ln_keyset_derive(ctx, &ks, &local, &remote, &pcp));
	CHECK(al_pubkey_eq(ctx, &ks.revocation, &su->keys.revocation));
	CHECK(al_pubkey_eq(ctx, &ks.local_delayed, &su->keys.local_delayed));
	CHECK(al_pubkey_eq(ctx, &ks.local_htlc, &su->keys.local_htlc));
	CHECK(al_pubkey_eq(ctx, &ks.remote_htlc, &su->keys.remote_htlc));
	CHECK(al_pubkey_eq(ctx, &ks.remote, &su->keys.remote));
	/* local_privkey and remote_privkey come from the payment basepoint secrets. */
	CHECK(parse_privkey(&base, find_internal(internal, "local_payment_basepoint_secret")));
	CHECK_OK(al_ln_derive_privkey(ctx, &k, &base, &pcp));
	CHECK(!memcmp(k.k, su->local_htlc_key.k, 32));
	CHECK(parse_privkey(&base, find_internal(internal, "remote_payment_basepoint_secret")));
	CHECK_OK(al_ln_derive_privkey(ctx, &k, &base, &pcp));
	CHECK(!memcmp(k.k, su->remote_htlc_key.k, 32));
	CHECK(parse_privkey(&base,
	                    find_internal(internal, "local_delayed_payment_basepoint_secret")));
	CHECK_OK(al_ln_derive_privkey(ctx, &k, &base, &pcp));
	CHECK(privkey_matches(&k, &su->keys.local_delayed));
}

static void load_setup(setup *su, const json_t *root)
{
	const json_t *common = json_object_get(root, "common");
	const json_t *internal = json_object_get(root, "internal_comment_block");
	const al_secp *ctx = al_t_secp();
	al_pubkey lpb, rpb;

	memset(su, 0, sizeof(*su));
	CHECK_OK(al_txid_from_hex(su->funding_txid, find_kv(common, "funding_tx_id")));
	su->funding_vout = (uint32_t)parse_u64(find_kv(common, "funding_output_index"));
	su->funding_amount = al_sat_of(parse_u64(find_kv(common, "funding_amount_satoshi")));
	su->commitment_number = parse_u64(find_kv(common, "commitment_number"));
	su->to_self_delay = (uint16_t)parse_u64(find_kv(common, "local_delay"));
	su->dust_limit = al_sat_of(parse_u64(find_kv(common, "local_dust_limit_satoshi")));
	load_htlcs(su, common);
	/* Local is the funder and so sent open_channel. */
	CHECK(parse_pubkey(&lpb, find_kv(common, "local_payment_basepoint")));
	CHECK(parse_pubkey(&rpb, find_kv(common, "remote_payment_basepoint")));
	su->obscurer = al_ln_commitment_obscurer(ctx, &lpb, &rpb);
	/* "obscured commitment number = 0x2bb038521914 ^ 42" */
	CHECK(su->obscurer == 0x2bb038521914ULL);
	CHECK(parse_pubkey(&su->local_funding, find_kv(common, "local_funding_pubkey")));
	CHECK(parse_pubkey(&su->remote_funding, find_kv(common, "remote_funding_pubkey")));
	CHECK(parse_privkey(&su->local_funding_key, find_kv(common, "local_funding_privkey")));
	CHECK(parse_privkey(&su->remote_funding_key,
	                    find_internal(internal, "remote_funding_privkey")));
	CHECK(privkey_matches(&su->local_funding_key, &su->local_funding));
	CHECK(privkey_matches(&su->remote_funding_key, &su->remote_funding));
	CHECK(parse_pubkey(&su->keys.local_htlc, find_kv(common, "local_htlcpubkey")));
	CHECK(parse_pubkey(&su->keys.remote_htlc, find_kv(common, "remote_htlcpubkey")));
	CHECK(parse_pubkey(&su->keys.local_delayed, find_kv(common, "local_delayedpubkey")));
	CHECK(parse_pubkey(&su->keys.revocation, find_kv(common, "local_revocation_pubkey")));
	/* static_remotekey: remotepubkey is the remote payment_basepoint. */
	su->keys.remote = rpb;
	CHECK(parse_privkey(&su->local_htlc_key, find_kv(common, "local_privkey")));
	CHECK(parse_privkey(&su->remote_htlc_key, find_internal(internal, "remote_privkey")));
	CHECK(privkey_matches(&su->local_htlc_key, &su->keys.local_htlc));
	CHECK(privkey_matches(&su->remote_htlc_key, &su->keys.remote_htlc));
	check_derivation(su, common, internal);
}

/* Appendix B: the funding output is P2WSH of the 2-of-2 script. */
static void check_funding(const setup *su)
{
	json_t *root = al_v_load_json("bolts/bolt03/funding-tx.json");
	const json_t *f = json_object_get(root, "fields");
	static uint8_t mem[16384];
	uint8_t ws[AL_LN_MAX_WSCRIPT], spk[34], txid[32], want_txid[32];
	size_t len, wslen;
	const uint8_t *raw = al_t_unhex(al_v_str(f, "funding tx"), &len);
	const uint8_t *want_ws = al_t_unhex(al_v_str(f, "comment:funding witness script"), &wslen);
	al_arena a;
	al_tx tx;
	al_wb w;

	al_wb_init(&w, ws, sizeof(ws));
	al_ln_funding_script(&w, al_t_secp(), &su->remote_funding, &su->local_funding);
	CHECK(al_wb_ok(&w) && w.len == wslen && !memcmp(ws, want_ws, wslen));
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_tx_parse(&tx, &a, raw, len));
	al_tx_txid(&tx, txid);
	CHECK_OK(al_txid_from_hex(want_txid, al_v_str(f, "comment:txid")));
	CHECK(!memcmp(txid, want_txid, 32) && !memcmp(txid, su->funding_txid, 32));
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, ws, wslen);
	CHECK(tx.n_out == 2 && tx.out[0].script.len == w.len &&
	      !memcmp(tx.out[0].script.p, spk, w.len) &&
	      tx.out[0].amount.sat == parse_u64(al_v_str(f, "funding satoshis")) &&
	      tx.out[0].amount.sat == su->funding_amount.sat);
	json_decref(root);
}

/* The test HTLC set a case uses: none, HTLCs 0-4, or HTLCs 1, 5 and 6 (the "same
 * amount and preimage" case); the one whose amounts complete the balances. */
static size_t pick_htlcs(const setup *su, al_msat to_local, al_msat to_remote, bool use_htlcs,
                         al_ln_htlc *out, uint8_t (*pre)[32])
{
	static const int sets[2][5] = {{0, 1, 2, 3, 4}, {1, 5, 6, -1, -1}};
	uint64_t want = su->funding_amount.sat * 1000 - to_local.msat - to_remote.msat, sum;
	size_t s, i, n;

	if (!use_htlcs)
		return 0;
	for (s = 0; s < 2; s++) {
		for (i = 0, sum = 0; i < 5 && sets[s][i] >= 0; i++)
			sum += su->htlcs[sets[s][i]].amount.msat;
		if (sum != want)
			continue;
		for (n = 0; n < 5 && sets[s][n] >= 0; n++) {
			out[n] = su->htlcs[sets[s][n]];
			memcpy(pre[n], su->preimages[sets[s][n]], 32);
		}
		return n;
	}
	return 0;
}

static void fill_params(al_ln_commit_params *p, const setup *su, al_ln_chan_type type)
{
	memset(p, 0, sizeof(*p));
	p->type = type;
	memcpy(p->funding_txid, su->funding_txid, 32);
	p->funding_vout = su->funding_vout;
	p->funding_amount = su->funding_amount;
	p->local_funding = su->local_funding;
	p->remote_funding = su->remote_funding;
	p->commitment_number = su->commitment_number;
	p->obscurer = su->obscurer;
	p->local_is_funder = true;
	p->dust_limit = su->dust_limit;
	p->to_self_delay = su->to_self_delay;
	p->keys = su->keys;
}

/* The expected outcome of one case: the commitment, our signature (if listed), the
 * peer's, and per HTLC output the peer's signature, ours (if listed) and the tx. */
typedef struct expect {
	const char *commit_tx, *local_sig, *remote_sig;
	size_t n_htlc_txs;
	const char *htlc_remote_sig[8], *htlc_local_sig[8], *htlc_tx[8];
	long long htlc_output[8]; /* commitment output index, -1 if not listed */
} expect;

static bool check_htlc_txs(const setup *su, const al_ln_commit *c, al_arena *a,
                           const uint8_t (*pre)[32], const expect *x)
{
	const al_secp *ctx = al_t_secp();
	al_ln_htlc_tx *txs;
	al_ecdsa_sig rs, ls, given;
	size_t i;
	bool ok = true;

	if (al_ln_htlc_txs_build(ctx, &txs, a, c) != AL_OK || x->n_htlc_txs != c->n_untrimmed_htlcs)
		return false;
	for (i = 0; ok && i < x->n_htlc_txs; i++) {
		al_ln_htlc_tx *h = &txs[i];
		uint32_t rtype = al_ln_htlc_tx_remote_sighash_type(h);
		size_t hi = (size_t)(h->htlc - c->p.htlcs);

		ok = x->htlc_output[i] < 0 || (size_t)x->htlc_output[i] == h->commit_out;
		ok = ok && al_ln_htlc_tx_sign(ctx, &rs, h, &su->remote_htlc_key, rtype) == AL_OK &&
		     der_is(&rs, x->htlc_remote_sig[i]);
		ok = ok && parse_der(&given, x->htlc_remote_sig[i]) &&
		     al_ln_htlc_tx_verify(ctx, &given, h, &su->keys.remote_htlc, rtype) == AL_OK;
		ok =
		    ok &&
		    al_ln_htlc_tx_sign(ctx, &ls, h, &su->local_htlc_key, AL_SIGHASH_ALL) == AL_OK &&
		    (!x->htlc_local_sig[i] || der_is(&ls, x->htlc_local_sig[i]));
		ok = ok && al_ln_htlc_tx_finalize(ctx, h, a, &rs, &ls, pre[hi]) == AL_OK &&
		     tx_is(&h->tx, x->htlc_tx[i]);
		if (!ok)
			fprintf(stderr, "  HTLC tx %zu differs\n", i);
	}
	return ok;
}

static bool check_case(const setup *su, al_ln_chan_type type, al_msat to_local, al_msat to_remote,
                       uint32_t feerate, bool use_htlcs, const expect *x, long long num_htlcs)
{
	static uint8_t mem[1 << 18];
	const al_secp *ctx = al_t_secp();
	al_ln_htlc htlcs[5];
	uint8_t pre[5][32];
	al_ln_commit_params p;
	al_ln_commit c;
	al_ecdsa_sig ls, rs, given;
	al_arena a;
	bool ok;

	al_arena_init(&a, mem, sizeof(mem));
	fill_params(&p, su, type);
	p.to_local = to_local;
	p.to_remote = to_remote;
	p.feerate_per_kw = feerate;
	p.htlcs = htlcs;
	p.n_htlcs = pick_htlcs(su, to_local, to_remote, use_htlcs, htlcs, pre);
	if (al_ln_commit_build(ctx, &c, &a, &p) != AL_OK)
		return false;
	ok = num_htlcs < 0 || (size_t)num_htlcs == c.n_untrimmed_htlcs;
	ok = ok && al_ln_commit_sign(ctx, &ls, &c, &su->local_funding_key) == AL_OK &&
	     al_ln_commit_sign(ctx, &rs, &c, &su->remote_funding_key) == AL_OK &&
	     (!x->local_sig || der_is(&ls, x->local_sig)) && der_is(&rs, x->remote_sig);
	ok = ok && parse_der(&given, x->remote_sig) &&
	     al_ln_commit_verify(ctx, &given, &c, &su->remote_funding) == AL_OK;
	ok = ok && al_ln_commit_finalize(ctx, &c, &a, &ls, &rs) == AL_OK &&
	     tx_is(&c.tx, x->commit_tx);
	return ok && check_htlc_txs(su, &c, &a, (const uint8_t(*)[32])pre, x);
}

/* ---- Appendix C: static_remotekey ---------------------------------------------- */

static bool commitment_case(const setup *su, const json_t *v)
{
	const json_t *txs = json_object_get(v, "htlc_txs");
	const json_t *fee = json_object_get(v, "base_commitment_fee_sat");
	expect x;
	size_t i;

	memset(&x, 0, sizeof(x));
	x.commit_tx = al_v_str(v, "output_commit_tx");
	x.local_sig = al_v_str(v, "local_signature");
	x.remote_sig = al_v_str(v, "remote_signature");
	x.n_htlc_txs = json_array_size(txs);
	if (x.n_htlc_txs > 8)
		return false;
	for (i = 0; i < x.n_htlc_txs; i++) {
		const json_t *t = json_array_get(txs, i);

		x.htlc_remote_sig[i] = al_v_str(t, "remote_htlc_signature");
		x.htlc_local_sig[i] = al_v_str(t, "local_htlc_signature");
		x.htlc_tx[i] = al_v_str(t, "tx");
		x.htlc_output[i] = al_v_int(t, "output");
	}
	/* The listed base fee is a comment; check it when present. */
	if (json_is_integer(fee)) {
		al_msat tl = al_msat_of(parse_u64(al_v_str(v, "to_local_msat")));
		al_msat tr = al_msat_of(parse_u64(al_v_str(v, "to_remote_msat")));
		al_ln_htlc h[5];
		uint8_t pre[5][32];
		size_t n = pick_htlcs(su, tl, tr, true, h, pre), k, untrimmed = 0;
		uint32_t rate = (uint32_t)parse_u64(al_v_str(v, "local_feerate_per_kw"));
		al_sat base;

		for (k = 0; k < n; k++)
			untrimmed += !al_ln_htlc_is_trimmed(AL_LN_CHAN_STATIC_REMOTEKEY, rate,
			                                    su->dust_limit, &h[k]);
		if (al_ln_commit_base_fee(&base, AL_LN_CHAN_STATIC_REMOTEKEY, rate, untrimmed) !=
		        AL_OK ||
		    base.sat != (uint64_t)json_integer_value(fee))
			return false;
	}
	return check_case(su, AL_LN_CHAN_STATIC_REMOTEKEY,
	                  al_msat_of(parse_u64(al_v_str(v, "to_local_msat"))),
	                  al_msat_of(parse_u64(al_v_str(v, "to_remote_msat"))),
	                  (uint32_t)parse_u64(al_v_str(v, "local_feerate_per_kw")), true, &x,
	                  (long long)parse_u64(al_v_str(v, "num_htlcs")));
}

static void run_commitments(const setup *su, const json_t *root)
{
	const json_t *vecs = json_object_get(root, "vectors");
	al_v_suite s;
	size_t i;

	al_v_begin(&s, "bolt03-commitments");
	for (i = 0; i < json_array_size(vecs); i++) {
		const json_t *v = json_array_get(vecs, i);

		al_v_result(&s, commitment_case(su, v), "%s", al_v_str(v, "name"));
	}
	al_v_end(&s);
}

/* ---- anchors (option_anchors_zero_fee_htlc_tx) --------------------------------- */

static bool anchors_case(const setup *base, const json_t *v)
{
	const json_t *descs = json_object_get(v, "HtlcDescs");
	setup su = *base;
	expect x;
	size_t i;

	memset(&x, 0, sizeof(x));
	x.commit_tx = al_v_str(v, "ExpectedCommitmentTxHex");
	x.remote_sig = al_v_str(v, "RemoteSigHex");
	x.n_htlc_txs = json_array_size(descs);
	if (x.n_htlc_txs > 8)
		return false;
	for (i = 0; i < x.n_htlc_txs; i++) {
		const json_t *d = json_array_get(descs, i);

		x.htlc_remote_sig[i] = al_v_str(d, "RemoteSigHex");
		x.htlc_tx[i] = al_v_str(d, "ResolutionTxHex");
		x.htlc_output[i] = -1;
	}
	su.dust_limit = al_sat_of((uint64_t)al_v_int(v, "DustLimitSatoshis"));
	/* option_anchors: to_remote is the P2WSH to the same remotepubkey. */
	return check_case(
	    &su, AL_LN_CHAN_ANCHORS, al_msat_of((uint64_t)al_v_int(v, "LocalBalance")),
	    al_msat_of((uint64_t)al_v_int(v, "RemoteBalance")), (uint32_t)al_v_int(v, "FeePerKw"),
	    json_is_true(json_object_get(v, "UseTestHtlcs")), &x, -1);
}

static void run_anchors(const setup *su)
{
	json_t *root = al_v_load_json("bolts/bolt03/anchors-commitment-and-htlc-txs.json");
	const json_t *tests = json_object_get(root, "tests");
	al_v_suite s;
	size_t i;

	al_v_begin(&s, "bolt03-anchors");
	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *v = json_array_get(tests, i);

		al_v_result(&s, anchors_case(su, v), "%s", al_v_str(v, "Name"));
	}
	al_v_end(&s);
	json_decref(root);
}

int main(void)
{
	json_t *root;
	setup su;

	run_keys();
	run_secrets();
	root = al_v_load_json("bolts/bolt03/commitment-and-htlc-txs.json");
	load_setup(&su, root);
	check_funding(&su);
	run_commitments(&su, root);
	json_decref(root);
	run_anchors(&su);
	return al_t_finish();
}
