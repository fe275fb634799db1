/* A toy chain and a node around one on-chain engine, for tests.
 *
 * The chain (oh_chain) is an independent oracle: it accepts a transaction only if
 * every input spends an output it knows (a base output such as the funding output or
 * a wallet coin, or an output of a transaction it holds) that nothing confirmed
 * spends, every input verifies under the script interpreter (standard flags) against
 * that output's script and amount, nLockTime is final for the next block and BIP 68
 * relative locks are met; a transaction conflicting with unconfirmed ones replaces
 * them only under BIP 125 rules 3 and 4. It computes every fee from the outputs
 * spent. A block takes every final transaction at or above the miner's feerate
 * (a parent also for its child's package, one level: CPFP). Blocks can be undone
 * (reorganisations) and unconfirmed transactions dropped.
 *
 * The node (oh_node) owns the engine's memory and "disk": it performs effects
 * (PERSIST is written and checked to load and save back byte for byte; BROADCAST goes
 * to the chain and must be accepted; FUND and SIGN are answered by a one-key P2WPKH
 * wallet), reports to the engine every transaction spending an outpoint it watches or
 * broadcast by it (with the funding spend's monitor entry), and can be restarted from
 * its disk at any point (restart_each_step: after every sync step). */
#ifndef ALIGHT_TESTS_ONCHAIN_HARNESS_H
#define ALIGHT_TESTS_ONCHAIN_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "chan_harness.h"
#include "ln/onchain.h"

#define OH_MAX_TX    1024
#define OH_MAX_BASE  64
#define OH_MAX_WATCH 4096
#define OH_MAX_EV    4096
#define OH_MAX_MON   512

typedef struct oh_tx {
	uint8_t *raw;
	size_t len;
	uint8_t txid[32];
	al_tx tx;
	uint8_t *mem;
	uint32_t height; /* 0: mempool */
	bool in_chain;   /* false: dropped or replaced */
	al_sat fee;
	size_t weight;
} oh_tx;

typedef struct oh_base {
	uint8_t txid[32];
	uint32_t vout;
	al_sat amount;
	uint8_t spk[34];
	size_t spk_len;
	uint32_t height;
} oh_base;

typedef struct oh_chain {
	oh_tx tx[OH_MAX_TX];
	size_t n;
	oh_base base[OH_MAX_BASE];
	size_t n_base;
	uint32_t height;
	uint64_t min_feerate; /* per kw, what the miner takes */
	size_t verified;      /* inputs run by the interpreter */
	size_t rejected;
	const char *why; /* the last rejection */
} oh_chain;

void oh_chain_init(oh_chain *c, uint32_t height);
void oh_chain_free(oh_chain *c);
void oh_chain_base(oh_chain *c, const uint8_t txid[32], uint32_t vout, al_sat amount,
                   const uint8_t *spk, size_t spk_len, uint32_t height);
/* Submit to the mempool: the index, or -1 (c->why says why). */
int oh_submit(oh_chain *c, const uint8_t *raw, size_t len);
void oh_mine(oh_chain *c, size_t blocks);
/* Undo the last `blocks` blocks: their transactions are unconfirmed. */
void oh_reorg(oh_chain *c, size_t blocks);
/* Drop an unconfirmed transaction (and what spends it). */
void oh_drop(oh_chain *c, int idx);
int oh_find(const oh_chain *c, const uint8_t txid[32]);
/* The chain transaction spending an outpoint (in the chain), or -1. */
int oh_spender(const oh_chain *c, const uint8_t txid[32], uint32_t vout);
/* The amount and script of an outpoint the chain knows. */
bool oh_prevout(const oh_chain *c, const uint8_t txid[32], uint32_t vout, al_sat *amount,
                const uint8_t **spk, size_t *spk_len, uint32_t *height);

typedef struct oh_node {
	al_onchain_config cfg;
	al_onchain_env env;
	al_arena scratch;
	uint8_t *scratch_mem;
	size_t scratch_len;
	uint8_t *mem, *mem2;
	size_t mem_len;
	al_onchain *o;
	al_signer *signer;
	uint8_t *disk, *disk2;
	size_t disk_len, disk_cap;
	bool pending;
	uint64_t pending_id;
	bool restart_each_step;
	size_t restarts;
	/* Effects seen. */
	struct {
		uint8_t txid[32];
		uint32_t vout;
	} watch[OH_MAX_WATCH];
	size_t n_watch;
	uint8_t bcast[OH_MAX_TX][32]; /* txids broadcast */
	struct {
		uint32_t claim, feerate, height;
		al_onchain_claim_kind kind;
		al_sat fee;
		bool replaces;
	} bc[OH_MAX_TX]; /* every BROADCAST delivered */
	size_t n_bc;
	size_t n_bcast, broadcasts, funds, signs, persists;
	al_onchain_fx ev[OH_MAX_EV]; /* deduplicated */
	size_t n_ev;
	int32_t rep[OH_MAX_TX]; /* per chain tx: height reported, -1 none, -2 gone */
	uint32_t feerate;       /* for al_onchain_block */
	/* Monitor entries by number. */
	uint8_t *mon[OH_MAX_MON];
	size_t mon_len[OH_MAX_MON];
	/* The wallet: one key, coins are base outputs to wspk. */
	al_privkey wkey;
	uint8_t wspk[22];
	bool wallet_dry;
	uint8_t given[OH_MAX_BASE]; /* coins handed to a FUND */
	size_t bcast_rejected;
	const char *reject_why; /* the chain's reason, for the last one */
} oh_node;

/* A node for `setup` (its dest is replaced by the node's wallet script, a key made
 * from `wallet`) at the chain's height. `signer` is the channel's. */
void oh_node_init(oh_node *n, oh_chain *c, al_signer *signer, al_onchain_setup *setup,
                  const al_onchain_config *cfg, uint8_t wallet);
void oh_node_free(oh_node *n);
/* Give the wallet a coin (a base output confirmed at the chain's height). */
void oh_wallet_coin(oh_node *n, oh_chain *c, uint64_t sat, uint8_t tag);
/* Deliver effects until none is left. */
void oh_drain(oh_node *n, oh_chain *c);
/* Report what changed in the chain (until nothing new is watched), the tip, drain. */
void oh_sync(oh_node *n, oh_chain *c);
/* Crash and reload from disk. */
void oh_restart(oh_node *n);
/* Events of a kind, the nth of a kind, and whether one names payment hash `hash`
 * (NULL: any). */
size_t oh_count(const oh_node *n, al_onchain_event_kind k);
const al_onchain_fx *oh_event(const oh_node *n, al_onchain_event_kind k, size_t nth);
bool oh_has_event(const oh_node *n, al_onchain_event_kind k, const uint8_t hash[32]);
/* The on_monitor callback for chan_harness (arg: oh_node *[2], for nodes "A" and
 * "B"). */
void oh_keep_monitor(void *arg, const hnode *from, uint64_t number, const uint8_t *e, size_t len);

/* A node's latest commitment signed by both (keys from its seed, as h_verify does) and
 * its HTLC transactions (HTLC-success ones with their preimages), serialized. */
typedef struct oh_commit {
	uint8_t *raw;
	size_t len;
	uint8_t txid[32];
	size_t n_htlc;
	uint8_t *htlc_raw[2 * 483];
	size_t htlc_len[2 * 483];
	bool htlc_success[2 * 483];
	uint32_t htlc_vout[2 * 483];
	al_sat htlc_amount[2 * 483];
} oh_commit;

void oh_capture(hpair *p, hnode *n, oh_commit *out);
void oh_commit_free(oh_commit *c);

#endif
