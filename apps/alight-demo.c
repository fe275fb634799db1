/* alight-demo: the end-to-end story so far, on embedded defaults.
 *
 * Two nodes, Alice and Bob, each get a fresh BIP 39 seed from the operating system.
 * Each derives its node key and its channel keys with BIP 32 along LND's key
 * families (m/1017'/coin'/family'/0/0), so the derivation paths are ones existing
 * Lightning tooling recognises. Alice then opens (on paper: there is no chain yet) a
 * 1,000,000 sat option_anchors channel to Bob with two HTLCs in flight; both build
 * Alice's first commitment transaction and its two HTLC transactions (BOLT #3), sign
 * them, check each other's signatures, and Alice assembles the fully signed
 * transactions, parses them back and prints them.
 *
 * No secret is printed: not the mnemonics, not the keys. */
#include <stdio.h>
#include <string.h>

#include "btc/bip32.h"
#include "btc/bip39.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "crypto/secp.h"
#include "host/os_rng.h"
#include "ln/commit.h"
#include "ln/htlc_tx.h"
#include "ln/keys.h"
#include "ln/shachain.h"
#include "util/hex.h"

/* LND's key families (keychain/derivation.go), coin type 1 for test networks. */
enum {
	FAM_MULTISIG = 0,
	FAM_REVOCATION_BASE = 1,
	FAM_HTLC_BASE = 2,
	FAM_PAYMENT_BASE = 3,
	FAM_DELAY_BASE = 4,
	FAM_REVOCATION_ROOT = 5,
	FAM_NODE_KEY = 6
};
#define COIN_TYPE_TEST 1

struct node {
	const char *name;
	al_xkey master;
	al_privkey node_key, funding_key, htlc_key;
	al_pubkey node_id, funding;
	al_ln_basepoints base;
	uint8_t shachain_seed[32];
};

static const al_secp *secp;

static int fail(const char *what, al_err e)
{
	fprintf(stderr, "alight-demo: %s: %s\n", what, al_err_str(e));
	return 1;
}

static void print_hex(const char *label, const uint8_t *p, size_t len)
{
	char hex[2 * 4096 + 1];

	if (al_hex_encode(hex, sizeof(hex), p, len) != AL_OK)
		snprintf(hex, sizeof(hex), "(%zu bytes)", len);
	printf("  %-22s %s\n", label, hex);
}

static al_err family_key(struct node *n, uint32_t family, al_xkey *out)
{
	const uint32_t path[] = {1017 | AL_BIP32_HARDENED, COIN_TYPE_TEST | AL_BIP32_HARDENED,
	                         family | AL_BIP32_HARDENED, 0, 0};

	return al_bip32_derive(secp, out, &n->master, path, 5);
}

static al_err family_priv(struct node *n, uint32_t family, al_privkey *priv, al_pubkey *pub)
{
	al_xkey k;

	AL_TRY(family_key(n, family, &k));
	*priv = k.priv;
	*pub = k.pub;
	al_xkey_clear(&k);
	return AL_OK;
}

static al_err node_init(struct node *n, const char *name, const al_rng *rng)
{
	uint8_t entropy[32], seed[AL_BIP39_SEED_LEN], fpr[4];
	char mnemonic[AL_BIP39_MNEMONIC_BUFLEN];
	al_privkey scratch;
	al_pubkey unused;
	al_err e;

	n->name = name;
	AL_TRY(al_rng_fill(rng, entropy, sizeof(entropy)));
	e = al_bip39_from_entropy(mnemonic, sizeof(mnemonic), entropy, sizeof(entropy));
	if (e == AL_OK)
		e = al_bip39_to_seed(seed, mnemonic, strlen(mnemonic), "", 0);
	if (e == AL_OK)
		e = al_bip32_master(secp, &n->master, seed, sizeof(seed));
	al_memzero(entropy, sizeof(entropy));
	al_memzero(mnemonic, sizeof(mnemonic));
	al_memzero(seed, sizeof(seed));
	AL_TRY(e);

	AL_TRY(family_priv(n, FAM_NODE_KEY, &n->node_key, &n->node_id));
	AL_TRY(family_priv(n, FAM_MULTISIG, &n->funding_key, &n->funding));
	AL_TRY(family_priv(n, FAM_HTLC_BASE, &n->htlc_key, &n->base.htlc));
	AL_TRY(family_priv(n, FAM_REVOCATION_BASE, &scratch, &n->base.revocation));
	AL_TRY(family_priv(n, FAM_PAYMENT_BASE, &scratch, &n->base.payment));
	AL_TRY(family_priv(n, FAM_DELAY_BASE, &scratch, &n->base.delayed_payment));
	/* The per-commitment secret seed is the private key of the revocation root. */
	AL_TRY(family_priv(n, FAM_REVOCATION_ROOT, &scratch, &unused));
	memcpy(n->shachain_seed, scratch.k, 32);
	al_privkey_clear(&scratch);

	al_bip32_fingerprint(secp, fpr, &n->master);
	printf("%s: fresh 24-word BIP39 seed (not shown); master fingerprint %02x%02x%02x%02x\n",
	       name, fpr[0], fpr[1], fpr[2], fpr[3]);
	{
		uint8_t id[AL_PUBKEY_LEN];
		al_pubkey_serialize(secp, id, &n->node_id);
		print_hex("node_id m/1017'/1'/6'/0/0", id, sizeof(id));
	}
	return AL_OK;
}

static void node_clear(struct node *n)
{
	al_xkey_clear(&n->master);
	al_privkey_clear(&n->node_key);
	al_privkey_clear(&n->funding_key);
	al_privkey_clear(&n->htlc_key);
	al_memzero(n->shachain_seed, sizeof(n->shachain_seed));
}

static const char *out_kind(al_ln_out_kind k)
{
	switch (k) {
	case AL_LN_OUT_TO_LOCAL:
		return "to_local";
	case AL_LN_OUT_TO_REMOTE:
		return "to_remote";
	case AL_LN_OUT_LOCAL_ANCHOR:
		return "local_anchor";
	case AL_LN_OUT_REMOTE_ANCHOR:
		return "remote_anchor";
	default:
		return "htlc";
	}
}

/* Serialize, parse back and compare: what leaves must be what we built. */
static al_err print_tx(const char *label, const al_tx *tx, al_arena *a)
{
	static uint8_t raw[8192];
	al_wb w;
	al_tx back;
	uint8_t txid[32], txid_back[32];
	char hex[65];
	size_t mark = al_arena_mark(a);

	al_wb_init(&w, raw, sizeof(raw));
	al_tx_write(&w, tx, true);
	AL_TRY(w.err);
	AL_TRY(al_tx_parse(&back, a, raw, w.len));
	al_tx_txid(tx, txid);
	al_tx_txid(&back, txid_back);
	al_arena_release(a, mark);
	if (memcmp(txid, txid_back, 32) != 0)
		return AL_E_ARG;
	al_txid_to_hex(hex, txid);
	printf("%s: txid %s, %zu bytes, weight %zu\n", label, hex, w.len, al_tx_weight(tx));
	print_hex("raw", raw, w.len);
	return AL_OK;
}

static int run(al_arena *a, const al_rng *rng)
{
	struct node alice, bob;
	al_ln_commit_params p;
	al_ln_commit c;
	al_ln_htlc_tx *htlc_txs;
	al_ln_htlc htlcs[2];
	uint8_t secret[32], preimage[32];
	al_pubkey point;
	al_ecdsa_sig alice_sig, bob_sig;
	al_err e;
	size_t i;

	if ((e = node_init(&alice, "alice", rng)) || (e = node_init(&bob, "bob", rng)))
		return fail("node keys", e);

	/* Commitment number 0 uses Alice's first per-commitment secret. */
	if ((e = al_shachain_from_seed(secret, alice.shachain_seed, al_shachain_index_of(0))) ||
	    (e = al_ln_per_commitment_point(secp, &point, secret)))
		return fail("per-commitment point", e);
	al_memzero(secret, sizeof(secret));

	memset(&p, 0, sizeof(p));
	p.type = AL_LN_CHAN_ANCHORS;
	/* No chain yet (issue: the chain): a placeholder funding outpoint, labelled as such. */
	al_sha256(p.funding_txid, "alight-demo placeholder funding tx", 34);
	p.funding_vout = 0;
	p.funding_amount = al_sat_of(1000000);
	p.local_funding = alice.funding;
	p.remote_funding = bob.funding;
	p.commitment_number = 0;
	p.obscurer = al_ln_commitment_obscurer(secp, &alice.base.payment, &bob.base.payment);
	p.local_is_funder = true;
	p.to_local = al_msat_of(700000000);
	p.to_remote = al_msat_of(200000000);
	p.feerate_per_kw = 2500;
	p.dust_limit = al_sat_of(546);
	p.to_self_delay = 144;
	memset(htlcs, 0, sizeof(htlcs));
	al_sha256(preimage, "bob's invoice preimage", 22);
	htlcs[0].offered = false; /* Bob pays Alice: received by Alice */
	htlcs[0].amount = al_msat_of(50000000);
	al_sha256(htlcs[0].payment_hash, preimage, 32);
	htlcs[0].cltv_expiry = 500;
	htlcs[1].offered = true; /* Alice pays someone via Bob */
	htlcs[1].amount = al_msat_of(50000000);
	memset(htlcs[1].payment_hash, 0xab, 32);
	htlcs[1].cltv_expiry = 510;
	p.htlcs = htlcs;
	p.n_htlcs = 2;
	if ((e = al_ln_keyset_derive(secp, &p.keys, &alice.base, &bob.base, &point)))
		return fail("commitment keys", e);

	printf("channel: alice -> bob, option_anchors_zero_fee_htlc_tx, 1000000 sat, "
	       "feerate 2500 sat/kw, to_self_delay 144, 2 HTLCs of 50000 sat\n");
	if ((e = al_ln_commit_check_fee(&p)) || (e = al_ln_commit_build(secp, &c, a, &p)))
		return fail("commitment build", e);
	printf("alice's commitment #0: %zu outputs, %zu untrimmed HTLCs, fee %llu sat\n",
	       c.tx.n_out, c.n_untrimmed_htlcs, (unsigned long long)c.fee.sat);
	for (i = 0; i < c.tx.n_out; i++)
		printf("  output %zu: %-13s %8llu sat\n", i, out_kind(c.outs[i].kind),
		       (unsigned long long)c.tx.out[i].amount.sat);

	/* BOLT #2 commitment_signed: Bob signs Alice's commitment and HTLC transactions;
	 * Alice checks every signature before relying on them. */
	if ((e = al_ln_commit_sign(secp, &bob_sig, &c, &bob.funding_key)) ||
	    (e = al_ln_commit_verify(secp, &bob_sig, &c, &bob.funding)) ||
	    (e = al_ln_commit_sign(secp, &alice_sig, &c, &alice.funding_key)) ||
	    (e = al_ln_commit_finalize(secp, &c, a, &alice_sig, &bob_sig)))
		return fail("commitment signatures", e);
	printf("bob signed alice's commitment; alice verified it and added her signature\n");
	if ((e = print_tx("commitment", &c.tx, a)))
		return fail("commitment round trip", e);

	if ((e = al_ln_htlc_txs_build(secp, &htlc_txs, a, &c)))
		return fail("HTLC transactions", e);
	for (i = 0; i < c.n_untrimmed_htlcs; i++) {
		al_ln_htlc_tx *h = &htlc_txs[i];
		uint32_t bob_type = al_ln_htlc_tx_remote_sighash_type(h);
		al_privkey bob_htlc, alice_htlc;

		if ((e = al_ln_derive_privkey(secp, &bob_htlc, &bob.htlc_key, &point)) ||
		    (e = al_ln_derive_privkey(secp, &alice_htlc, &alice.htlc_key, &point)) ||
		    (e = al_ln_htlc_tx_sign(secp, &bob_sig, h, &bob_htlc, bob_type)) ||
		    (e = al_ln_htlc_tx_verify(secp, &bob_sig, h, &p.keys.remote_htlc, bob_type)) ||
		    (e = al_ln_htlc_tx_sign(secp, &alice_sig, h, &alice_htlc, AL_SIGHASH_ALL)) ||
		    (e = al_ln_htlc_tx_finalize(secp, h, a, &bob_sig, &alice_sig,
		                                h->success ? preimage : NULL)))
			return fail("HTLC signatures", e);
		al_privkey_clear(&bob_htlc);
		al_privkey_clear(&alice_htlc);
		printf("%s for output %zu: bob signed with SIGHASH_SINGLE|ANYONECANPAY, "
		       "alice with SIGHASH_ALL\n",
		       h->success ? "HTLC-success" : "HTLC-timeout", h->commit_out);
		if ((e = print_tx(h->success ? "htlc-success" : "htlc-timeout", &h->tx, a)))
			return fail("HTLC round trip", e);
	}
	printf("arena: %zu of %zu bytes used at the high-water mark\n", al_arena_high_water(a),
	       a->cap);
	node_clear(&alice);
	node_clear(&bob);
	return 0;
}

int main(void)
{
	static _Alignas(16) uint8_t secp_mem[1 << 12];
	static _Alignas(16) uint8_t heap[1 << 18];
	uint8_t seed[32];
	al_secp *ctx;
	al_arena arena;
	al_rng rng;
	int rc;

	al_os_rng(&rng);
	if (al_rng_fill(&rng, seed, sizeof(seed)) != AL_OK || al_secp_size() > sizeof(secp_mem) ||
	    al_secp_create(&ctx, secp_mem, sizeof(secp_mem), seed) != AL_OK)
		return fail("secp256k1 context", AL_E_CRYPTO);
	al_memzero(seed, sizeof(seed));
	secp = ctx;
	al_arena_init(&arena, heap, sizeof(heap));
	rc = run(&arena, &rng);
	al_arena_release(&arena, 0);
	al_secp_destroy(ctx);
	if (rc == 0)
		printf("alight-demo: ok\n");
	return rc;
}
