/* A channel between two nodes (chan_harness) with HTLCs both ways, dust and not,
 * and an on-chain engine per node on one toy chain (onchain_harness): the setting of
 * the on-chain tests. Every transaction either engine broadcasts is checked by the
 * chain (the script interpreter on every input, locktimes, BIP 68, BIP 125), and what
 * each node's wallet got is measured on the chain, independently of the engines. */
#ifndef ALIGHT_TESTS_ONCHAIN_WORLD_H
#define ALIGHT_TESTS_ONCHAIN_WORLD_H

#include "chan_harness.h"
#include "onchain_harness.h"

#define OW_START    500
#define OW_MAX_HTLC 16

typedef struct ow_htlc {
	uint8_t hash[32], preimage[32];
	uint64_t msat;
	uint32_t cltv;
	bool by_a; /* offered by A */
} ow_htlc;

typedef struct world {
	hpair p;
	oh_chain chain;
	oh_node na, nb;
	oh_node *nodes[2];
	bool a_on, b_on;
	al_ln_chan_type type;
	ow_htlc h[OW_MAX_HTLC];
	size_t n;
	uint8_t arena_mem[1 << 20];
	/* ow_fixture: B's revoked and current commitments (with their HTLC transactions)
	 * and A's commitment, and the setup of A's engine. */
	oh_commit old, cur;
	uint8_t *a_raw;
	size_t a_len;
	al_onchain_setup a_setup;
	uint8_t *a_signer; /* A's signer before any engine touched it */
} world;

/* A channel of `type` (A funds 1,000,000 sat and pushes 400,000 to B, feerate 2500,
 * A imposes to_self_delay 15 on B, B imposes 25 on A), with HTLCs: A offers 20,000 sat
 * (cltv 600), 15,000 (650) and 400 (dust, 610); B offers 18,000 (620), 12,000 (640)
 * and 300 (dust, 630); all committed both ways. The chain is at OW_START with the
 * funding output. */
world *ow_open(al_ln_chan_type type, uint64_t seed);
/* The same channel without any HTLC. */
world *ow_open_plain(al_ln_chan_type type, uint64_t seed);
void ow_free(world *w);
/* The world of ow_open, then: B's commitment captured, the channel moved on (B fails
 * A's dust HTLC: the capture is revoked), B's current commitment captured, A
 * disconnected and forced closed (its commitment kept), A's setup made and its signer
 * kept as it was (for the fuzz targets and their corpus tool: every input starts from
 * the same state). Max 12 HTLCs per commitment. */
world *ow_fixture(al_ln_chan_type type, uint64_t seed);
/* A fresh chain at OW_START holding the funding output of `s` (else of A's channel). */
void ow_chain_reset(world *w, const al_onchain_setup *s);
/* A's engine config of the fixture (small, so records stay small). */
void ow_fixture_config(al_onchain_config *cfg);

/* Add an HTLC from `a` (A) or B, committed both ways. */
void ow_add(world *w, bool a, uint64_t msat, uint32_t cltv);
/* Start A's / B's engine from its channel now. */
void ow_engine(world *w, bool a, const al_onchain_config *cfg);
/* Both engines started, two 100,000 sat coins in each wallet, and the preimages the
 * tests of a unilateral close reveal: B's 18,000 sat HTLC to A, A's 20,000 to B. */
void ow_both_engines(world *w);
/* Mine `blocks` one at a time, syncing both engines after each. */
void ow_mine(world *w, size_t blocks);
/* Mine until both running engines are done (at most `max` blocks). */
bool ow_until_done(world *w, size_t max);
/* What a node's wallet got from the channel, measured on the chain: outputs to its
 * wallet script, plus the fees of its transactions (but the funding spend), less the
 * wallet coins they spent. */
int64_t ow_net(const world *w, const oh_node *n);
/* The same from the engine's EV_CLAIMED events (to_wallet + fee - wallet_in, the
 * commitment excluded). */
int64_t ow_claimed(const oh_node *n);
/* A's or B's balance in a commitment's output: the owner's to_local or the other
 * side's to_remote in sat, the funder's share less the fee and anchors. */
uint64_t ow_main_output(const world *w, bool owner_a, bool of_owner, uint64_t owner_msat,
                        uint64_t other_msat, uint32_t feerate, size_t untrimmed);
/* Untrimmed HTLCs in a commitment of the owner at feerate (dust limit 546). */
size_t ow_untrimmed(const world *w, bool owner_a, uint32_t feerate);
/* The preimage of HTLC i to a node's engine. */
void ow_reveal(world *w, bool to_a, size_t i);

#endif
