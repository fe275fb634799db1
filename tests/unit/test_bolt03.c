/* BOLT #3 (src/ln): bad inputs to the commitment builder and its fee check, arena
 * exhaustion at every size, HTLC transaction misuse, shachain misuse, the key
 * derivations' algebra, script sizes and the spec's fee-calculation example. */
#include <string.h>

#include "btc/sighash.h"
#include "crypto/hash.h"
#include "ln/commit.h"
#include "ln/htlc_tx.h"
#include "ln/keys.h"
#include "ln/scripts.h"
#include "ln/shachain.h"
#include "test.h"

static _Alignas(16) uint8_t mem[1 << 17];

static al_privkey key_of(uint8_t v)
{
	al_privkey k;

	memset(k.k, 0, 32);
	k.k[31] = v;
	k.k[0] = 0x11;
	return k;
}

static al_pubkey pub_of(uint8_t v)
{
	al_privkey k = key_of(v);
	al_pubkey p;

	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &p, &k));
	return p;
}

/* The fee-calculation example of BOLT #3: "suppose there is a `feerate_per_kw` of
 * 5000, a `dust_limit_satoshis` of 546 satoshis, and a commitment transaction with:
 * two offered HTLCs of 5000000 and 1000000 millisatoshis (5000 and 1000 satoshis),
 * two received HTLCs of 7000000 and 800000 millisatoshis (7000 and 800 satoshis)". */
static al_ln_htlc htlcs[4];

static void base_params(al_ln_commit_params *p, al_ln_chan_type type)
{
	static const uint64_t amounts[4] = {5000000, 1000000, 7000000, 800000};
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 4; i++) {
		htlcs[i].offered = i < 2;
		htlcs[i].amount = al_msat_of(amounts[i]);
		memset(htlcs[i].payment_hash, (int)i + 1, 32);
		htlcs[i].cltv_expiry = 600000 + (uint32_t)i;
	}
	p->type = type;
	memset(p->funding_txid, 0xab, 32);
	p->funding_amount = al_sat_of(1000000);
	p->local_funding = pub_of(1);
	p->remote_funding = pub_of(2);
	p->commitment_number = 7;
	p->obscurer = al_ln_commitment_obscurer(al_t_secp(), &p->local_funding, &p->remote_funding);
	p->local_is_funder = true;
	/* 1,000,000 sat less 13,800 sat of HTLCs. */
	p->to_local = al_msat_of(486200000);
	p->to_remote = al_msat_of(500000000);
	p->feerate_per_kw = 5000;
	p->dust_limit = al_sat_of(546);
	p->to_self_delay = 144;
	p->keys.revocation = pub_of(3);
	p->keys.local_delayed = pub_of(4);
	p->keys.local_htlc = pub_of(5);
	p->keys.remote_htlc = pub_of(6);
	p->keys.remote = pub_of(7);
	p->htlcs = htlcs;
	p->n_htlcs = 4;
}

static void test_fee_example(void)
{
	al_ln_commit_params p;
	al_ln_commit c;
	al_arena a;

	base_params(&p, AL_LN_CHAN_STATIC_REMOTEKEY);
	/* "The HTLC-timeout transaction `weight` is 663, and thus the fee is 3315
	 * satoshis. The HTLC-success transaction `weight` is 703, and thus the fee is 3515
	 * satoshis" */
	CHECK(al_ln_htlc_tx_fee(p.type, 5000, true).sat == 3315);
	CHECK(al_ln_htlc_tx_fee(p.type, 5000, false).sat == 3515);
	CHECK(al_ln_htlc_tx_fee(AL_LN_CHAN_ANCHORS, 5000, false).sat == 0);
	CHECK(!al_ln_htlc_is_trimmed(p.type, 5000, p.dust_limit, &htlcs[0]));
	CHECK(al_ln_htlc_is_trimmed(p.type, 5000, p.dust_limit, &htlcs[1]));
	CHECK(!al_ln_htlc_is_trimmed(p.type, 5000, p.dust_limit, &htlcs[2]));
	CHECK(al_ln_htlc_is_trimmed(p.type, 5000, p.dust_limit, &htlcs[3]));
	/* "The base commitment transaction fee is 5340 satoshi; the actual fee (which adds
	 * the 1000 and 800 satoshi HTLCs that would make dust outputs) is 7140 satoshi." */
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(al_t_secp(), &c, &a, &p));
	CHECK(c.base_fee.sat == 5340);
	CHECK(c.fee.sat == 7140);
	CHECK(c.n_untrimmed_htlcs == 2 && c.tx.n_out == 4 && !c.funder_short);
	CHECK(c.tx.version == 2 && c.tx.n_in == 1);
	CHECK((c.tx.locktime >> 24) == 0x20 && (c.tx.in[0].sequence >> 24) == 0x80);
	CHECK_OK(al_ln_commit_check_fee(&p));

	/* With anchors the HTLC transactions are free, so nothing here is trimmed, and the
	 * weight starts at 1124: 5000 * (1124 + 4 * 172) / 1000 = 9060. */
	base_params(&p, AL_LN_CHAN_ANCHORS);
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(al_t_secp(), &c, &a, &p));
	CHECK(c.base_fee.sat == 9060 && c.n_untrimmed_htlcs == 4 && c.tx.n_out == 8);
	CHECK(c.fee.sat == 9060);
}

static void test_bad_params(void)
{
	const al_secp *ctx = al_t_secp();
	al_ln_commit_params p;
	al_ln_commit c;
	al_arena a;

#define BUILD_ERR(mutation, want)                                                                  \
	do {                                                                                       \
		base_params(&p, AL_LN_CHAN_STATIC_REMOTEKEY);                                      \
		mutation;                                                                          \
		al_arena_init(&a, mem, sizeof(mem));                                               \
		CHECK_ERR(al_ln_commit_build(ctx, &c, &a, &p), want);                              \
		CHECK(al_arena_used(&a) == 0);                                                     \
		CHECK_ERR(al_ln_commit_check_fee(&p), want);                                       \
	} while (0)

	BUILD_ERR(p.type = (al_ln_chan_type)7, AL_E_ARG);
	BUILD_ERR(p.htlcs = NULL, AL_E_ARG);
	BUILD_ERR(p.commitment_number = 1ULL << 48, AL_E_RANGE);
	BUILD_ERR(p.obscurer = 1ULL << 48, AL_E_RANGE);
	BUILD_ERR(p.to_self_delay = 0, AL_E_RANGE);
	BUILD_ERR(p.dust_limit = al_sat_of(353), AL_E_RANGE);
	BUILD_ERR(p.funding_amount = al_sat_of(AL_MAX_MONEY_SAT + 1), AL_E_RANGE);
	BUILD_ERR(p.n_htlcs = AL_LN_MAX_HTLCS + 1, AL_E_RANGE);
	BUILD_ERR(htlcs[2].cltv_expiry = AL_LN_LOCKTIME_THRESHOLD, AL_E_RANGE);
	/* Balances that do not add up to the funding amount, or overflow. */
	BUILD_ERR(p.to_remote.msat += 1, AL_E_CHANNEL_BALANCE);
	BUILD_ERR(p.to_remote.msat -= 1, AL_E_CHANNEL_BALANCE);
	BUILD_ERR(p.to_remote.msat = UINT64_MAX, AL_E_CHANNEL_BALANCE);
	BUILD_ERR(p.n_htlcs = 3, AL_E_CHANNEL_BALANCE);
#undef BUILD_ERR

	/* The largest legal values are accepted. */
	base_params(&p, AL_LN_CHAN_STATIC_REMOTEKEY);
	p.commitment_number = (1ULL << 48) - 1;
	p.to_self_delay = UINT16_MAX;
	p.feerate_per_kw = 1000;
	htlcs[0].cltv_expiry = AL_LN_LOCKTIME_THRESHOLD - 1;
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(ctx, &c, &a, &p));
}

/* BOLT #2 forbids a fee the funder cannot pay; BOLT #3 still defines the transaction
 * (the funder's output vanishes), so the builder succeeds and flags it while the
 * check refuses it. */
static void test_fee_exceeds_funder(void)
{
	al_ln_commit_params p;
	al_ln_commit c;
	al_arena a;
	size_t i;

	base_params(&p, AL_LN_CHAN_STATIC_REMOTEKEY);
	/* Every HTLC is trimmed at this rate: the base fee is 724,000 sat. */
	p.feerate_per_kw = 1000000;
	p.funding_amount = al_sat_of(1100000);
	p.to_remote = al_msat_of(600000000);
	CHECK_ERR(al_ln_commit_check_fee(&p), AL_E_FEE);
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(al_t_secp(), &c, &a, &p));
	CHECK(c.funder_short);
	for (i = 0; i < c.tx.n_out; i++)
		CHECK(c.outs[i].kind != AL_LN_OUT_TO_LOCAL);

	/* The remote as funder pays instead. */
	base_params(&p, AL_LN_CHAN_STATIC_REMOTEKEY);
	p.local_is_funder = false;
	p.to_local = al_msat_of(500000000);
	p.to_remote = al_msat_of(486200000);
	p.feerate_per_kw = 700000; /* all trimmed: 506,800 sat > 486,200 */
	CHECK_ERR(al_ln_commit_check_fee(&p), AL_E_FEE);
	p.feerate_per_kw = 5000;
	CHECK_OK(al_ln_commit_check_fee(&p));

	/* With anchors the funder must also cover the two 330 sat anchors. */
	base_params(&p, AL_LN_CHAN_ANCHORS);
	p.feerate_per_kw = 1000;
	/* base fee: 1000 * (1124 + 4 * 172) / 1000 = 1812 sat; plus 660 = 2472. */
	p.to_local = al_msat_of(2472000);
	p.to_remote = al_msat_of(1000000000 - 13800000 - 2472000);
	CHECK_OK(al_ln_commit_check_fee(&p));
	p.to_local.msat -= 1000;
	p.to_remote.msat += 1000;
	CHECK_ERR(al_ln_commit_check_fee(&p), AL_E_FEE);
}

/* Every arena too small fails with AL_E_NOMEM and leaves the arena as it was. */
static void test_arena_exhaustion(void)
{
	const al_secp *ctx = al_t_secp();
	al_ln_commit_params p;
	al_ln_commit c;
	al_ln_htlc_tx *txs;
	al_ecdsa_sig sig;
	al_privkey k = key_of(9);
	uint8_t pre[32];
	al_arena a;
	size_t need, cap;

	base_params(&p, AL_LN_CHAN_ANCHORS);
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(ctx, &c, &a, &p));
	need = al_arena_used(&a);
	for (cap = 0; cap < need; cap++) {
		al_arena_init(&a, mem, cap);
		CHECK_ERR(al_ln_commit_build(ctx, &c, &a, &p), AL_E_NOMEM);
		CHECK(al_arena_used(&a) == 0);
	}

	/* HTLC transactions and finalization, with whatever the commitment left. */
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(ctx, &c, &a, &p));
	need = al_arena_used(&a);
	CHECK_OK(al_ln_htlc_txs_build(ctx, &txs, &a, &c));
	cap = al_arena_used(&a);
	for (a.cap = need; a.cap < cap; a.cap++) {
		a.used = need;
		CHECK_ERR(al_ln_htlc_txs_build(ctx, &txs, &a, &c), AL_E_NOMEM);
		CHECK(al_arena_used(&a) == need && txs == NULL);
	}
	a.cap = sizeof(mem);
	a.used = need;
	CHECK_OK(al_ln_htlc_txs_build(ctx, &txs, &a, &c));
	CHECK_OK(al_ln_commit_sign(ctx, &sig, &c, &k));
	need = al_arena_used(&a);
	a.cap = need + 8;
	CHECK_ERR(al_ln_commit_finalize(ctx, &c, &a, &sig, &sig), AL_E_NOMEM);
	CHECK(al_arena_used(&a) == need);
	memset(pre, 0, sizeof(pre));
	CHECK_ERR(al_ln_htlc_tx_finalize(ctx, &txs[0], &a, &sig, &sig, pre),
	          txs[0].success ? AL_E_ARG : AL_E_NOMEM);
	CHECK(al_arena_used(&a) == need);
}

static void test_htlc_tx_misuse(void)
{
	const al_secp *ctx = al_t_secp();
	al_ln_commit_params p;
	al_ln_commit c;
	al_ln_htlc_tx h;
	al_ecdsa_sig sig;
	al_privkey k = key_of(5);
	uint8_t pre[32];
	al_arena a;
	size_t i, htlc_out = SIZE_MAX, other = SIZE_MAX;

	base_params(&p, AL_LN_CHAN_STATIC_REMOTEKEY);
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(ctx, &c, &a, &p));
	for (i = 0; i < c.tx.n_out; i++) {
		if (c.outs[i].kind == AL_LN_OUT_HTLC && !p.htlcs[c.outs[i].htlc].offered)
			htlc_out = i;
		else if (c.outs[i].kind != AL_LN_OUT_HTLC)
			other = i;
	}
	CHECK(htlc_out != SIZE_MAX && other != SIZE_MAX);
	CHECK_ERR(al_ln_htlc_tx_build(ctx, &h, &a, &c, other), AL_E_ARG);
	CHECK_ERR(al_ln_htlc_tx_build(ctx, &h, &a, &c, c.tx.n_out), AL_E_ARG);
	CHECK_OK(al_ln_htlc_tx_build(ctx, &h, &a, &c, htlc_out));
	CHECK(h.success && h.tx.locktime == 0 && h.tx.in[0].sequence == 0);
	/* 7000 sat less the 3515 sat HTLC-success fee. */
	CHECK(h.tx.out[0].amount.sat == 7000 - 3515);
	CHECK(al_ln_htlc_tx_remote_sighash_type(&h) == AL_SIGHASH_ALL);
	CHECK_OK(al_ln_htlc_tx_sign(ctx, &sig, &h, &k, AL_SIGHASH_ALL));
	CHECK_OK(al_ln_htlc_tx_verify(ctx, &sig, &h, &p.keys.local_htlc, AL_SIGHASH_ALL));
	CHECK_ERR(al_ln_htlc_tx_verify(ctx, &sig, &h, &p.keys.local_htlc,
	                               AL_SIGHASH_SINGLE | AL_SIGHASH_ANYONECANPAY),
	          AL_E_SIG_INVALID);
	CHECK_ERR(al_ln_htlc_tx_sign(ctx, &sig, &h, &k, 0x04), AL_E_SIGHASH_TYPE);
	/* HTLC-success needs the preimage of the payment hash. */
	memset(pre, 3, sizeof(pre));
	CHECK_ERR(al_ln_htlc_tx_finalize(ctx, &h, &a, &sig, &sig, NULL), AL_E_ARG);
	CHECK_ERR(al_ln_htlc_tx_finalize(ctx, &h, &a, &sig, &sig, pre), AL_E_ARG);
	CHECK(!al_tx_has_witness(&h.tx));
	/* Make the HTLC's hash match that preimage. */
	al_sha256(htlcs[c.outs[htlc_out].htlc].payment_hash, pre, 32);
	CHECK_OK(al_ln_htlc_tx_finalize(ctx, &h, &a, &sig, &sig, pre));
	CHECK(al_tx_has_witness(&h.tx) && h.tx.in[0].n_witness == 5);

	/* Anchors: sequence 1, zero fee, SINGLE|ANYONECANPAY from the peer. */
	base_params(&p, AL_LN_CHAN_ANCHORS);
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_ln_commit_build(ctx, &c, &a, &p));
	for (i = 0; i < c.tx.n_out; i++)
		if (c.outs[i].kind == AL_LN_OUT_HTLC && p.htlcs[c.outs[i].htlc].offered)
			htlc_out = i;
	CHECK_OK(al_ln_htlc_tx_build(ctx, &h, &a, &c, htlc_out));
	CHECK(!h.success && h.tx.in[0].sequence == 1);
	CHECK(h.tx.locktime == h.htlc->cltv_expiry);
	CHECK(h.tx.out[0].amount.sat == h.input_amount.sat);
	CHECK(al_ln_htlc_tx_remote_sighash_type(&h) ==
	      (AL_SIGHASH_SINGLE | AL_SIGHASH_ANYONECANPAY));
	CHECK_OK(al_ln_htlc_tx_finalize(ctx, &h, &a, &sig, &sig, NULL));
	CHECK(h.tx.in[0].n_witness == 5 && h.tx.in[0].witness[3].len == 0);
	CHECK(h.tx.in[0].witness[1].p[h.tx.in[0].witness[1].len - 1] == 0x83);
}

static void test_shachain_misuse(void)
{
	al_shachain s, before;
	uint8_t seed[32], sec[32], got[32];
	uint64_t i, min;

	memset(seed, 0x5a, sizeof(seed));
	al_shachain_init(&s);
	CHECK(!al_shachain_min_index(&s, &min));
	CHECK_ERR(al_shachain_get(&s, AL_SHACHAIN_FIRST_INDEX, got), AL_E_SHACHAIN_UNKNOWN);
	CHECK_ERR(al_shachain_from_seed(sec, seed, AL_SHACHAIN_FIRST_INDEX + 1), AL_E_RANGE);
	/* The first secret must be index 2^48 - 1. */
	CHECK_OK(al_shachain_from_seed(sec, seed, AL_SHACHAIN_FIRST_INDEX - 1));
	CHECK_ERR(al_shachain_insert(&s, AL_SHACHAIN_FIRST_INDEX - 1, sec), AL_E_SHACHAIN_INDEX);
	CHECK_ERR(al_shachain_insert(&s, AL_SHACHAIN_FIRST_INDEX + 1, sec), AL_E_RANGE);
	CHECK_ERR(al_shachain_insert(&s, UINT64_MAX, sec), AL_E_RANGE);

	/* A long run from one seed; every secret can be looked up again. */
	for (i = 0; i < 3001; i++) {
		uint64_t idx = al_shachain_index_of(i);

		CHECK_OK(al_shachain_from_seed(sec, seed, idx));
		CHECK_OK(al_shachain_insert(&s, idx, sec));
	}
	CHECK(al_shachain_min_index(&s, &min) && min == al_shachain_index_of(3000));
	for (i = 0; i < 3001; i += 7) {
		uint64_t idx = al_shachain_index_of(i);
		uint8_t want[32];

		CHECK_OK(al_shachain_from_seed(want, seed, idx));
		CHECK_OK(al_shachain_get(&s, idx, got));
		CHECK_MEM(got, want, 32);
	}
	CHECK_ERR(al_shachain_get(&s, min - 1, got), AL_E_SHACHAIN_UNKNOWN);
	CHECK_ERR(al_shachain_get(&s, AL_SHACHAIN_FIRST_INDEX + 1, got), AL_E_RANGE);

	/* Repeats, gaps and wrong secrets leave the store untouched. */
	before = s;
	CHECK_OK(al_shachain_from_seed(sec, seed, min));
	CHECK_ERR(al_shachain_insert(&s, min, sec), AL_E_SHACHAIN_INDEX);
	CHECK_OK(al_shachain_from_seed(sec, seed, min - 2));
	CHECK_ERR(al_shachain_insert(&s, min - 2, sec), AL_E_SHACHAIN_INDEX);
	/* min - 1 is even here (3001 secrets from 2^48 - 1 end at an odd index), so a
	 * wrong secret there must derive the one at min and is caught. */
	CHECK(((min - 1) & 1) == 0);
	memset(sec, 0, sizeof(sec));
	CHECK_ERR(al_shachain_insert(&s, min - 1, sec), AL_E_SHACHAIN_MISMATCH);
	CHECK(!memcmp(&s, &before, sizeof(s)));

	/* clear wipes every secret. */
	al_shachain_clear(&s);
	for (i = 0; i < AL_SHACHAIN_SLOTS; i++) {
		static const uint8_t zero[32];

		CHECK(!memcmp(s.known[i].secret, zero, 32));
	}
	CHECK(!al_shachain_min_index(&s, &min));
}

static void test_keys(void)
{
	const al_secp *ctx = al_t_secp();
	al_privkey base = key_of(21), rev_base = key_of(22), k, zero;
	al_pubkey pcp, base_pt, rev_pt, pk, from_k;
	uint8_t pcs[32];

	memset(pcs, 0x42, sizeof(pcs));
	CHECK_OK(al_ln_per_commitment_point(ctx, &pcp, pcs));
	CHECK_OK(al_pubkey_from_privkey(ctx, &base_pt, &base));
	CHECK_OK(al_pubkey_from_privkey(ctx, &rev_pt, &rev_base));
	/* privkey * G == pubkey for both derivations. */
	CHECK_OK(al_ln_derive_pubkey(ctx, &pk, &base_pt, &pcp));
	CHECK_OK(al_ln_derive_privkey(ctx, &k, &base, &pcp));
	CHECK_OK(al_pubkey_from_privkey(ctx, &from_k, &k));
	CHECK(al_pubkey_eq(ctx, &pk, &from_k));
	CHECK_OK(al_ln_revocation_pubkey(ctx, &pk, &rev_pt, &pcp));
	CHECK_OK(al_ln_revocation_privkey(ctx, &k, &rev_base, pcs));
	CHECK_OK(al_pubkey_from_privkey(ctx, &from_k, &k));
	CHECK(al_pubkey_eq(ctx, &pk, &from_k));
	/* Invalid secrets are refused and the output wiped. */
	memset(zero.k, 0, 32);
	memset(pcs, 0, sizeof(pcs));
	CHECK_ERR(al_ln_per_commitment_point(ctx, &pcp, pcs), AL_E_PRIVKEY);
	memset(k.k, 0x77, 32);
	CHECK(al_ln_derive_privkey(ctx, &k, &zero, &pk) != AL_OK);
	CHECK(!memcmp(k.k, zero.k, 32));
	memset(k.k, 0x77, 32);
	CHECK(al_ln_revocation_privkey(ctx, &k, &rev_base, pcs) != AL_OK);
	CHECK(!memcmp(k.k, zero.k, 32));
}

static void test_scripts(void)
{
	const al_secp *ctx = al_t_secp();
	al_ln_keyset ks;
	al_pubkey a = pub_of(1), b = pub_of(2);
	uint8_t s1[AL_LN_MAX_WSCRIPT], s2[AL_LN_MAX_WSCRIPT], h[32];
	al_wb w1, w2;

	/* The funding script sorts its keys. */
	al_wb_init(&w1, s1, sizeof(s1));
	al_wb_init(&w2, s2, sizeof(s2));
	al_ln_funding_script(&w1, ctx, &a, &b);
	al_ln_funding_script(&w2, ctx, &b, &a);
	CHECK(al_wb_ok(&w1) && w1.len == 71 && w1.len == w2.len && !memcmp(s1, s2, w1.len));

	/* BOLT #3 Appendix A sizes: offered 133 (136 with anchors) bytes; accepted 140
	 * (143) with a 4-byte cltv_expiry. */
	memset(&ks, 0, sizeof(ks));
	ks.revocation = pub_of(3);
	ks.local_htlc = pub_of(4);
	ks.remote_htlc = pub_of(5);
	memset(h, 9, sizeof(h));
#define LEN_IS(call, want)                                                                         \
	do {                                                                                       \
		al_wb_init(&w1, s1, sizeof(s1));                                                   \
		call;                                                                              \
		CHECK(al_wb_ok(&w1) && w1.len == (want));                                          \
	} while (0)
	LEN_IS(al_ln_offered_htlc_script(&w1, ctx, &ks, h, false), 133);
	LEN_IS(al_ln_offered_htlc_script(&w1, ctx, &ks, h, true), 136);
	LEN_IS(al_ln_received_htlc_script(&w1, ctx, &ks, h, AL_LN_LOCKTIME_THRESHOLD - 1, false),
	       140);
	LEN_IS(al_ln_received_htlc_script(&w1, ctx, &ks, h, AL_LN_LOCKTIME_THRESHOLD - 1, true),
	       143);
	LEN_IS(al_ln_anchor_script(&w1, ctx, &a), 40);
	LEN_IS(al_ln_to_remote_anchors_script(&w1, ctx, &a), 37);
#undef LEN_IS
	/* A buffer too small fails the writer instead of overflowing. */
	al_wb_init(&w1, s1, 100);
	al_ln_offered_htlc_script(&w1, ctx, &ks, h, true);
	CHECK(!al_wb_ok(&w1) && w1.err == AL_E_BUFSIZE);
}

int main(void)
{
	test_fee_example();
	test_bad_params();
	test_fee_exceeds_funder();
	test_arena_exhaustion();
	test_htlc_tx_misuse();
	test_shachain_misuse();
	test_keys();
	test_scripts();
	return al_t_finish();
}
