/* The channel signer (ln/signer.h): LND key families, per-commitment points, the
 * signatures on both sides' commitments (checked by the script interpreter on a real
 * 2-of-2 spend) and every policy refusal. */
#include <string.h>

#include "btc/bip32.h"
#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/commit.h"
#include "ln/htlc_tx.h"
#include "ln/scripts.h"
#include "ln/shachain.h"
#include "ln/signer.h"
#include "test.h"

static uint8_t arena_mem[4 << 20];
static al_arena arena;
static _Alignas(16) uint8_t mem_a[2048], mem_b[2048];

typedef struct side {
	al_signer *s;
	al_ln_basepoints bp;
	al_pubkey funding;
} side;

static const uint8_t funding_txid[32] = {0xf0, 0x0d, 1, 2, 3};
#define FUNDING_SAT 1000000

static void make_root(al_signer_root *r, uint8_t byte)
{
	uint8_t seed[32];

	memset(seed, byte, sizeof(seed));
	CHECK_OK(al_signer_root_init(r, al_t_secp(), seed, sizeof(seed), 1));
}

static void make_side(side *x, void *mem, uint8_t seed_byte, uint32_t index)
{
	al_signer_root r;

	make_root(&r, seed_byte);
	CHECK_OK(al_signer_init(&x->s, mem, 2048, al_t_secp(), &r, index));
	al_signer_root_clear(&r);
	al_signer_basepoints(x->s, &x->bp, &x->funding);
}

static al_signer_channel chan_of(const side *me, const side *them, bool funder,
                                 al_ln_chan_type type)
{
	al_signer_channel c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.holder_is_funder = funder;
	memcpy(c.funding_txid, funding_txid, 32);
	c.funding_vout = 1;
	c.funding_amount = al_sat_of(FUNDING_SAT);
	c.counterparty_funding = them->funding;
	c.counterparty = them->bp;
	/* A imposes 144 on B, B imposes 720 on A. */
	c.holder_selected_delay = funder ? 144 : 720;
	c.counterparty_selected_delay = funder ? 720 : 144;
	return c;
}

static const al_ln_htlc htlcs[2] = {
    {.offered = true, .amount = {5000000}, .payment_hash = {1}, .cltv_expiry = 500},
    {.offered = false, .amount = {7000000}, .payment_hash = {2}, .cltv_expiry = 501},
};

/* Commitment n of `owner` (A is the funder), owner_msat to its owner, with both HTLCs. */
static al_err build(al_ln_commit *c, const side *owner, const side *other, bool owner_funder,
                    uint64_t n, uint64_t owner_msat, al_ln_chan_type type)
{
	al_ln_commit_params p;
	al_pubkey point;
	const side *opener = owner_funder ? owner : other, *acc = owner_funder ? other : owner;

	memset(&p, 0, sizeof(p));
	p.type = type;
	memcpy(p.funding_txid, funding_txid, 32);
	p.funding_vout = 1;
	p.funding_amount = al_sat_of(FUNDING_SAT);
	p.local_funding = owner->funding;
	p.remote_funding = other->funding;
	p.commitment_number = n;
	p.obscurer = al_ln_commitment_obscurer(al_t_secp(), &opener->bp.payment, &acc->bp.payment);
	p.local_is_funder = owner_funder;
	p.to_local = al_msat_of(owner_msat);
	p.to_remote = al_msat_of(FUNDING_SAT * 1000ULL - owner_msat - 12000000);
	p.feerate_per_kw = 253;
	p.dust_limit = al_sat_of(546);
	p.to_self_delay = owner_funder ? 720 : 144;
	p.htlcs = htlcs;
	p.n_htlcs = 2;
	AL_TRY(al_signer_holder_point(owner->s, n, &point));
	AL_TRY(al_ln_keyset_derive(al_t_secp(), &p.keys, &owner->bp, &other->bp, &point));
	return al_ln_commit_build(al_t_secp(), c, &arena, &p);
}

static void test_derivation(void)
{
	uint8_t seed[32], want_seed[32], secret[32];
	const uint32_t path[] = {1017 | AL_BIP32_HARDENED, 1 | AL_BIP32_HARDENED,
	                         2 | AL_BIP32_HARDENED, 0, 7};
	const uint32_t path5[] = {1017 | AL_BIP32_HARDENED, 1 | AL_BIP32_HARDENED,
	                          5 | AL_BIP32_HARDENED, 0, 7};
	al_xkey master, k;
	al_sha256_ctx h;
	al_pubkey p1;
	side x;

	/* The htlc basepoint is m/1017'/1'/2'/0/7, computed here with BIP 32 directly. */
	make_side(&x, mem_a, 0x42, 7);
	CHECK(al_signer_index(x.s) == 7);
	memset(seed, 0x42, sizeof(seed));
	CHECK_OK(al_bip32_master(al_t_secp(), &master, seed, sizeof(seed)));
	CHECK_OK(al_bip32_derive(al_t_secp(), &k, &master, path, 5));
	CHECK(al_pubkey_eq(al_t_secp(), &k.pub, &x.bp.htlc));
	/* The per-commitment seed: SHA256(tag || family-5 key); point n from secret
	 * 2^48 - 1 - n of BOLT #3's generator. */
	CHECK_OK(al_bip32_derive(al_t_secp(), &k, &master, path5, 5));
	al_sha256_init(&h);
	al_sha256_update(&h, "alight/ln/per-commitment-seed/v1", 32);
	al_sha256_update(&h, k.priv.k, 32);
	al_sha256_final(&h, want_seed);
	CHECK_OK(al_shachain_from_seed(secret, want_seed, AL_SHACHAIN_FIRST_INDEX - 3));
	CHECK_OK(al_ln_per_commitment_point(al_t_secp(), &k.pub, secret));
	CHECK_OK(al_signer_holder_point(x.s, 3, &p1));
	CHECK(al_pubkey_eq(al_t_secp(), &k.pub, &p1));
	CHECK(al_signer_check_holder_secret(x.s, 3, secret));
	secret[5] ^= 1;
	CHECK(!al_signer_check_holder_secret(x.s, 3, secret));
	CHECK_ERR(al_signer_holder_point(x.s, 1ULL << 48, &p1), AL_E_RANGE);
	/* Distinct families give distinct keys. */
	CHECK(!al_pubkey_eq(al_t_secp(), &x.bp.payment, &x.bp.htlc));
	CHECK(!al_pubkey_eq(al_t_secp(), &x.funding, &x.bp.revocation));
	al_xkey_clear(&master);
	al_xkey_clear(&k);
	al_signer_clear(x.s);
}

/* Spend the funding output with `c` signed by both and run the interpreter. */
static al_err spend_funding(al_ln_commit *c, const al_ecdsa_sig *local, const al_ecdsa_sig *remote)
{
	uint8_t spk[34];
	al_interp_fail why;
	al_wb w;

	AL_TRY(al_ln_commit_finalize(al_t_secp(), c, &arena, local, remote));
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, c->funding_wscript.p, c->funding_wscript.len);
	return al_interp_verify_input(al_t_secp(), &c->tx, 0, spk, w.len, c->p.funding_amount,
	                              AL_INTERP_STANDARD, &arena, &why);
}

static void test_commitments(al_ln_chan_type type)
{
	al_ecdsa_sig sig, sig2, hs[2], hs2[2], mine;
	al_signer_channel ca, cb;
	al_signer_status st;
	uint8_t secret[32];
	al_ln_commit c, c2;
	al_pubkey point;
	side a, b;

	al_arena_init(&arena, arena_mem, sizeof(arena_mem));
	make_side(&a, mem_a, 1, 0);
	make_side(&b, mem_b, 2, 0);
	ca = chan_of(&a, &b, true, type);
	cb = chan_of(&b, &a, false, type);
	/* Nothing is signed before the channel is known. */
	CHECK_OK(build(&c, &b, &a, false, 0, 300000000, type));
	CHECK_OK(al_signer_holder_point(b.s, 0, &point));
	CHECK_ERR(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs),
	          AL_E_SIGNER_NOT_READY);
	CHECK_OK(al_signer_ready(a.s, &ca));
	CHECK_OK(al_signer_ready(b.s, &cb));
	CHECK_OK(al_signer_ready(a.s, &ca)); /* again, identical */
	ca.funding_vout = 2;
	CHECK_ERR(al_signer_ready(a.s, &ca), AL_E_SIGNER_TX);
	ca.funding_vout = 1;

	/* A signs B's commitment 0; B accepts it, signs it for broadcast, and the 2-of-2
	 * witness verifies. */
	CHECK_OK(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs));
	CHECK_ERR(al_signer_validate_holder(b.s, &c, &arena, &sig, hs, 1),
	          AL_E_CHAN_HTLC_SIG_COUNT);
	CHECK_ERR(al_signer_validate_holder(b.s, &c, &arena, &hs[0], hs, 2), AL_E_CHAN_COMMIT_SIG);
	CHECK_ERR(al_signer_validate_holder(b.s, &c, &arena, &sig, hs + 1, 1),
	          AL_E_CHAN_HTLC_SIG_COUNT);
	sig2 = hs[1];
	hs[1] = hs[0];
	CHECK_ERR(al_signer_validate_holder(b.s, &c, &arena, &sig, hs, 2), AL_E_CHAN_HTLC_SIG);
	hs[1] = sig2;
	CHECK_OK(al_signer_validate_holder(b.s, &c, &arena, &sig, hs, 2));
	CHECK_ERR(al_signer_validate_holder(b.s, &c, &arena, &sig, hs, 2), AL_E_SIGNER_SEQUENCE);

	/* A's commitment built for the wrong point, or paying B's to_remote elsewhere,
	 * is not signed. */
	CHECK_OK(build(&c2, &a, &b, true, 0, 600000000, type));
	CHECK_ERR(al_signer_sign_counterparty(b.s, &c2, &point, &arena, &sig2, hs2),
	          AL_E_SIGNER_TX);
	CHECK_OK(al_signer_holder_point(a.s, 0, &point));
	c2.p.keys.remote = a.bp.payment;
	CHECK_ERR(al_signer_sign_counterparty(b.s, &c2, &point, &arena, &sig2, hs2),
	          AL_E_SIGNER_TX);
	CHECK_OK(build(&c2, &a, &b, true, 0, 600000000, type));
	/* A transaction that does not match its own parameters (the signer rebuilds). */
	c2.tx.locktime ^= 1;
	CHECK_ERR(al_signer_sign_counterparty(b.s, &c2, &point, &arena, &sig2, hs2),
	          AL_E_SIGNER_TX);
	c2.tx.locktime ^= 1;
	CHECK_OK(al_signer_sign_counterparty(b.s, &c2, &point, &arena, &sig2, hs2));
	CHECK_OK(al_signer_validate_holder(a.s, &c2, &arena, &sig2, hs2, 2));

	/* Force close of A's commitment 0: a valid spend of the funding output. */
	CHECK_OK(al_signer_sign_holder(a.s, &c2, &mine));
	CHECK_OK(spend_funding(&c2, &mine, &sig2));
	al_signer_get_status(a.s, &st);
	CHECK(st.holder_broadcast && st.holder_latest == 0 && st.counterparty_next == 1);

	/* B: release of secret 0 needs commitment 1. */
	CHECK_ERR(al_signer_revoke_holder(b.s, 0, secret), AL_E_SIGNER_NOT_SIGNED);
	CHECK_OK(build(&c, &b, &a, false, 1, 310000000, type));
	CHECK_OK(al_signer_holder_point(b.s, 1, &point));
	/* A broadcast its commitment: it signs nothing that would revoke it... but a
	 * counterparty commitment is still signed (A cannot revoke its own, though). */
	CHECK_OK(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs));
	CHECK_OK(al_signer_validate_holder(b.s, &c, &arena, &sig, hs, 2));
	CHECK_ERR(al_signer_revoke_holder(b.s, 1, secret), AL_E_SIGNER_NOT_SIGNED);
	CHECK_OK(al_signer_revoke_holder(b.s, 0, secret));
	CHECK(al_signer_check_holder_secret(b.s, 0, secret));
	CHECK_OK(al_signer_revoke_holder(b.s, 0, secret)); /* retransmission */
	/* B's revoked commitment 0 is never signed for broadcast. */
	CHECK_OK(build(&c, &b, &a, false, 0, 300000000, type));
	CHECK_ERR(al_signer_sign_holder(b.s, &c, &mine), AL_E_SIGNER_SEQUENCE);

	/* A learns B's secret 0: wrong ones are refused; then commitment 2 may be signed. */
	CHECK_OK(build(&c, &b, &a, false, 2, 320000000, type));
	CHECK_OK(al_signer_holder_point(b.s, 2, &point));
	CHECK_ERR(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs),
	          AL_E_SIGNER_UNREVOKED);
	secret[0] ^= 1;
	CHECK_ERR(al_signer_counterparty_revoked(a.s, 0, secret), AL_E_SIGNER_SECRET);
	secret[0] ^= 1;
	CHECK_ERR(al_signer_counterparty_revoked(a.s, 1, secret), AL_E_SIGNER_SEQUENCE);
	CHECK_OK(al_signer_counterparty_revoked(a.s, 0, secret));
	CHECK_ERR(al_signer_counterparty_revoked(a.s, 0, secret), AL_E_SIGNER_SEQUENCE);
	CHECK_OK(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs));
	/* The same commitment again gives the same signature; another transaction for
	 * number 2, or an older number, is refused. */
	CHECK_OK(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig2, hs2));
	CHECK(memcmp(&sig, &sig2, sizeof(sig)) == 0);
	CHECK_OK(build(&c2, &b, &a, false, 2, 330000000, type));
	CHECK_ERR(al_signer_sign_counterparty(a.s, &c2, &point, &arena, &sig2, hs2),
	          AL_E_SIGNER_CONFLICT);
	CHECK_OK(build(&c2, &b, &a, false, 1, 310000000, type));
	CHECK_OK(al_signer_holder_point(b.s, 1, &point));
	CHECK_ERR(al_signer_sign_counterparty(a.s, &c2, &point, &arena, &sig2, hs2),
	          AL_E_SIGNER_SEQUENCE);
	CHECK_OK(build(&c2, &b, &a, false, 4, 330000000, type));
	CHECK_ERR(al_signer_sign_counterparty(a.s, &c2, &point, &arena, &sig2, hs2),
	          AL_E_SIGNER_SEQUENCE);
	/* After the broadcast, A accepts no newer commitment of its own. */
	CHECK_OK(build(&c2, &a, &b, true, 1, 590000000, type));
	CHECK_ERR(al_signer_validate_holder(a.s, &c2, &arena, &sig2, hs2, 2),
	          AL_E_SIGNER_BROADCAST);
	al_signer_clear(a.s);
	al_signer_clear(b.s);
}

/* The broadcast commitment's HTLC transactions, signed by both, spend its outputs. */
static void test_htlc_txs(void)
{
	al_ecdsa_sig sig, hs[2], mine, local;
	al_ln_htlc_tx *txs;
	al_interp_fail why;
	al_pubkey point;
	al_ln_commit c;
	uint8_t pre[32];
	size_t i;
	side a, b;
	al_signer_channel ca, cb;

	al_arena_init(&arena, arena_mem, sizeof(arena_mem));
	make_side(&a, mem_a, 3, 1);
	make_side(&b, mem_b, 4, 2);
	ca = chan_of(&a, &b, true, AL_LN_CHAN_ANCHORS);
	cb = chan_of(&b, &a, false, AL_LN_CHAN_ANCHORS);
	CHECK_OK(al_signer_ready(a.s, &ca));
	CHECK_OK(al_signer_ready(b.s, &cb));
	CHECK_OK(build(&c, &b, &a, false, 0, 300000000, AL_LN_CHAN_ANCHORS));
	CHECK_OK(al_signer_holder_point(b.s, 0, &point));
	CHECK_OK(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs));
	CHECK_OK(al_signer_validate_holder(b.s, &c, &arena, &sig, hs, 2));
	CHECK_OK(al_ln_htlc_txs_build(al_t_secp(), &txs, &arena, &c));
	CHECK_ERR(al_signer_sign_holder_htlc(b.s, &c, &txs[0], &local), AL_E_SIGNER_SEQUENCE);
	CHECK_OK(al_signer_sign_holder(b.s, &c, &mine));
	CHECK_OK(al_ln_commit_finalize(al_t_secp(), &c, &arena, &mine, &sig));
	for (i = 0; i < c.n_untrimmed_htlcs; i++) {
		al_ln_htlc_tx *h = &txs[i];
		const al_tx_out *spent = &c.tx.out[h->commit_out];

		CHECK_OK(al_signer_sign_holder_htlc(b.s, &c, h, &local));
		/* The test's preimages are not those of the payment hashes: only the
		 * HTLC-timeout (no preimage) is finalized and run. */
		if (h->success)
			continue;
		memset(pre, 0, sizeof(pre));
		CHECK_OK(al_ln_htlc_tx_finalize(al_t_secp(), h, &arena, &hs[i], &local, pre));
		/* The anchors HTLC scripts need `1 OP_CHECKSEQUENCEVERIFY` (sequence 1). */
		CHECK_OK(al_interp_verify_input(al_t_secp(), &h->tx, 0, spent->script.p,
		                                spent->script.len, spent->amount,
		                                AL_INTERP_STANDARD, &arena, &why));
	}
	al_signer_clear(a.s);
	al_signer_clear(b.s);
}

static void test_closing_and_state(void)
{
	uint8_t buf[2 * AL_SIGNER_STATE_LEN], buf2[AL_SIGNER_STATE_LEN], spk[22];
	al_ecdsa_sig sig, hs[2];
	al_signer_channel ca, cb;
	al_pubkey point;
	al_ln_commit c;
	al_tx tx;
	al_cur cur;
	al_wb w;
	side a, b;

	al_arena_init(&arena, arena_mem, sizeof(arena_mem));
	make_side(&a, mem_a, 5, 3);
	make_side(&b, mem_b, 6, 3);
	ca = chan_of(&a, &b, true, AL_LN_CHAN_STATIC_REMOTEKEY);
	cb = chan_of(&b, &a, false, AL_LN_CHAN_STATIC_REMOTEKEY);
	CHECK_OK(al_signer_ready(a.s, &ca));
	CHECK_OK(al_signer_ready(b.s, &cb));
	CHECK_OK(build(&c, &b, &a, false, 0, 300000000, AL_LN_CHAN_STATIC_REMOTEKEY));
	CHECK_OK(al_signer_holder_point(b.s, 0, &point));
	CHECK_OK(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs));

	/* The state round-trips byte for byte into a fresh signer of the same index. */
	al_wb_init(&w, buf, sizeof(buf));
	al_signer_save(a.s, &w);
	CHECK(al_wb_ok(&w) && w.len == AL_SIGNER_STATE_LEN);
	make_side(&b, mem_b, 5, 3);
	al_cur_init(&cur, buf, w.len);
	CHECK_OK(al_signer_load(b.s, &cur));
	CHECK(al_cur_done(&cur) == AL_OK);
	al_wb_init(&w, buf2, sizeof(buf2));
	al_signer_save(b.s, &w);
	CHECK(memcmp(buf, buf2, AL_SIGNER_STATE_LEN) == 0);
	/* Malformed states change nothing. */
	buf[0] ^= 1;
	al_cur_init(&cur, buf, AL_SIGNER_STATE_LEN);
	CHECK_ERR(al_signer_load(b.s, &cur), AL_E_CHAN_RECORD);
	buf[0] ^= 1;
	buf[AL_SIGNER_STATE_LEN - 1] = 1;
	al_cur_init(&cur, buf, AL_SIGNER_STATE_LEN);
	CHECK_ERR(al_signer_load(b.s, &cur), AL_E_CHAN_RECORD);
	buf[AL_SIGNER_STATE_LEN - 1] = 0;
	buf[2 + 7] = 5; /* holder_revoked 5 with nothing accepted */
	al_cur_init(&cur, buf, AL_SIGNER_STATE_LEN);
	CHECK_ERR(al_signer_load(b.s, &cur), AL_E_CHAN_RECORD);
	al_cur_init(&cur, buf, 100);
	CHECK_ERR(al_signer_load(b.s, &cur), AL_E_TRUNCATED);
	al_wb_init(&w, buf, sizeof(buf));
	al_signer_save(b.s, &w);
	CHECK(memcmp(buf, buf2, AL_SIGNER_STATE_LEN) == 0);

	/* Closing: only a spend of the funding output; then no new commitment. */
	memset(spk, 0, sizeof(spk));
	spk[1] = 20;
	CHECK_OK(al_tx_init(&tx, &arena, 2, 0, 1, 1));
	CHECK_OK(al_tx_add_input(&tx, funding_txid, 0, 0xffffffff));
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(990000), spk, sizeof(spk)));
	CHECK_ERR(al_signer_sign_closing(a.s, &tx, &sig), AL_E_SIGNER_TX);
	tx.in[0].vout = 1;
	CHECK_OK(al_signer_sign_closing(a.s, &tx, &sig));
	CHECK_OK(build(&c, &b, &a, false, 1, 300000000, AL_LN_CHAN_STATIC_REMOTEKEY));
	CHECK_ERR(al_signer_sign_counterparty(a.s, &c, &point, &arena, &sig, hs),
	          AL_E_SIGNER_CLOSED);
	al_signer_clear(a.s);
	al_signer_clear(b.s);
}

int main(void)
{
	test_derivation();
	test_commitments(AL_LN_CHAN_STATIC_REMOTEKEY);
	test_commitments(AL_LN_CHAN_ANCHORS);
	test_htlc_txs();
	test_closing_and_state();
	return al_t_finish();
}
