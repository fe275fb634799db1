/* Build + sign of a BOLT #3 commitment transaction: the work a node does for every
 * commitment_signed it sends (key derivation for the new per-commitment point, the
 * transaction with its outputs sorted, the BIP 143 sighash and one ECDSA signature). */
#include "bench_commit.h"

#include <string.h>

#include "crypto/hash.h"
#include "ln/commit.h"
#include "ln/keys.h"
#include "ln/shachain.h"

struct commit_ctx {
	const al_secp *secp;
	al_arena arena;
	al_ln_commit_params p;
	al_ln_basepoints local, remote;
	al_privkey funding_key;
	uint8_t shachain_seed[32];
	al_ln_htlc htlcs[5];
	uint64_t n;
};

static _Alignas(16) uint8_t heap[1 << 16];

static int op_commit(void *arg)
{
	struct commit_ctx *c = arg;
	al_ln_commit commit;
	al_ecdsa_sig sig;
	al_pubkey point;
	uint8_t secret[32];
	size_t mark = al_arena_mark(&c->arena);
	int rc = 1;

	c->p.commitment_number = c->n++ % 1000;
	if (al_shachain_from_seed(secret, c->shachain_seed,
	                          al_shachain_index_of(c->p.commitment_number)) == AL_OK &&
	    al_ln_per_commitment_point(c->secp, &point, secret) == AL_OK &&
	    al_ln_keyset_derive(c->secp, &c->p.keys, &c->local, &c->remote, &point) == AL_OK &&
	    al_ln_commit_build(c->secp, &commit, &c->arena, &c->p) == AL_OK &&
	    al_ln_commit_sign(c->secp, &sig, &commit, &c->funding_key) == AL_OK)
		rc = 0;
	al_arena_release(&c->arena, mark);
	return rc;
}

static al_err point_of(const al_secp *secp, al_pubkey *out, uint8_t tag)
{
	al_privkey k;

	memset(k.k, tag, sizeof(k.k));
	return al_pubkey_from_privkey(secp, out, &k);
}

double bench_commitment_rate(const al_secp *secp, bench_rate_fn rate)
{
	static struct commit_ctx c;
	al_pubkey remote_funding;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.secp = secp;
	al_arena_init(&c.arena, heap, sizeof(heap));
	memset(c.funding_key.k, 0x30, 32);
	memset(c.shachain_seed, 0x31, 32);
	if (al_pubkey_from_privkey(secp, &c.p.local_funding, &c.funding_key) != AL_OK ||
	    point_of(secp, &remote_funding, 0x32) != AL_OK ||
	    point_of(secp, &c.local.revocation, 0x33) != AL_OK ||
	    point_of(secp, &c.local.payment, 0x34) != AL_OK ||
	    point_of(secp, &c.local.delayed_payment, 0x35) != AL_OK ||
	    point_of(secp, &c.local.htlc, 0x36) != AL_OK ||
	    point_of(secp, &c.remote.revocation, 0x37) != AL_OK ||
	    point_of(secp, &c.remote.payment, 0x38) != AL_OK ||
	    point_of(secp, &c.remote.delayed_payment, 0x39) != AL_OK ||
	    point_of(secp, &c.remote.htlc, 0x3a) != AL_OK)
		return -1;
	c.p.type = AL_LN_CHAN_ANCHORS;
	al_sha256(c.p.funding_txid, "bench", 5);
	c.p.funding_amount = al_sat_of(10000000);
	c.p.remote_funding = remote_funding;
	c.p.obscurer = al_ln_commitment_obscurer(secp, &c.local.payment, &c.remote.payment);
	c.p.local_is_funder = true;
	c.p.to_local = al_msat_of(6000000000);
	c.p.to_remote = al_msat_of(3000000000);
	c.p.feerate_per_kw = 2500;
	c.p.dust_limit = al_sat_of(546);
	c.p.to_self_delay = 144;
	for (i = 0; i < 5; i++) {
		c.htlcs[i].offered = i % 2;
		c.htlcs[i].amount = al_msat_of(200000000);
		memset(c.htlcs[i].payment_hash, (int)i + 1, 32);
		c.htlcs[i].cltv_expiry = 500 + (uint32_t)i;
	}
	c.p.htlcs = c.htlcs;
	c.p.n_htlcs = 5;
	return rate(op_commit, &c, 64);
}
