/* alight-devchain: a regtest chain with the Esplora REST API, for development and
 * tests. Real consensus data (regtest proof of work, merkle roots, BIP 34 heights,
 * witness commitments) and real validation (src/chain/txcheck.h) of every submitted
 * transaction, with BIP 125 replacement as Bitcoin Core v25 does it (src/chain/rbf.h);
 * state in SQLite (the blocks and the mempool; indexes are rebuilt on start).
 *
 * Host program: it may allocate. All calls into the chain run under one lock (the
 * HTTP server serializes handler calls). */
#ifndef ALIGHT_DEVCHAIN_H
#define ALIGHT_DEVCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "btc/tx.h"
#include "chain/block.h"
#include "chain/txcheck.h"
#include "crypto/secp.h"
#include "util/arena.h"

/* Regtest consensus: halving every 150 blocks (Core's regtest
 * nSubsidyHalvingInterval), coinbase maturity 100. */
#define DC_HALVING_INTERVAL 150
#define DC_REGTEST_BITS     0x207fffff

typedef struct dc_block dc_block;
typedef struct dc_sh dc_sh;

/* A transaction known to the chain: confirmed (block != NULL) or in the mempool. */
typedef struct dc_tx {
	uint8_t txid[32];
	uint8_t *raw;
	size_t len;
	al_tx tx;        /* parsed; borrows raw, arrays in `mem` */
	uint8_t *mem;    /* the arena memory behind tx */
	dc_block *block; /* NULL in the mempool */
	uint32_t pos;    /* index in the block */
	uint64_t fee;    /* 0 for a coinbase */
	uint64_t seq;    /* mempool arrival order */
	bool coinbase;
	struct dc_tx *next; /* mempool list / hash chain helpers */
	dc_sh **shs;        /* the script hashes it is indexed under (index.c) */
	uint32_t n_shs;
} dc_tx;

struct dc_block {
	uint8_t hash[32];
	al_block_header hdr;
	uint32_t height;
	uint32_t mtp; /* median time past of this block (BIP 113) */
	uint8_t *raw;
	size_t len;
	size_t weight;
	size_t n_tx;
	dc_tx **txs;
	bool active;
};

/* Hash table from a 36-byte key (txid, or outpoint txid||vout) to a pointer. */
typedef struct dc_map_node {
	uint8_t key[36];
	void *val;
	struct dc_map_node *next;
} dc_map_node;

typedef struct dc_map {
	dc_map_node **b;
	size_t nb;
	size_t count;
} dc_map;

/* The Electrum script-hash index (index.c): for every output script ever seen, the
 * transactions touching it (paying it, or spending an output that paid it), confirmed
 * and in the mempool. Entries are never freed, so pointers to them stay valid. */
struct dc_sh {
	uint8_t sh[32]; /* SHA-256 of the script, natural byte order */
	dc_tx **txs;    /* unordered; ordered on the way out */
	uint32_t n, cap;
	bool dirty;       /* changed since the last dc_index_take_dirty */
	bool have_status; /* status cached */
	bool empty;       /* cached status: no history (the protocol's null) */
	uint8_t status[32];
};

typedef struct dc_index {
	dc_map map;    /* script hash -> dc_sh */
	dc_sh **dirty; /* entries whose history or status may have changed */
	size_t n_dirty, cap_dirty;
} dc_index;

/* What spends an output. */
typedef struct dc_spend {
	dc_tx *tx;
	uint32_t vin;
} dc_spend;

typedef struct dc_chain {
	sqlite3 *db;
	al_secp *secp;
	dc_block **blocks; /* active chain, by height */
	size_t n_blocks, cap_blocks;
	dc_block **stale; /* blocks reorganised away */
	size_t n_stale, cap_stale;
	dc_map txs;    /* txid -> dc_tx (confirmed and mempool) */
	dc_map spends; /* outpoint -> dc_spend */
	dc_map bhash;  /* block hash -> dc_block (active and stale) */
	dc_tx **mempool;
	size_t n_mempool, cap_mempool;
	uint64_t next_seq;
	uint32_t extranonce;
	al_privkey faucet_key;
	uint8_t faucet_script[22];
	char faucet_addr[80];
	uint8_t *scratch_mem;
	al_arena scratch;
	dc_index index;
	uint64_t gen; /* bumped by every change to the chain or the mempool */
} dc_chain;

/* Why a submission failed: Core's reason and message, and the RPC error code
 * bitcoind's sendrawtransaction would give (-22 decode, -25 missing inputs,
 * -26 rejected, -27 already in chain). */
typedef struct dc_reject {
	int code;
	char msg[256];
} dc_reject;

/* chain.c */
int dc_open(dc_chain *c, const char *datadir);
void dc_close(dc_chain *c);
dc_block *dc_tip(const dc_chain *c);
dc_block *dc_block_by_hash(const dc_chain *c, const uint8_t hash[32]);
dc_tx *dc_tx_by_id(const dc_chain *c, const uint8_t txid[32]);
dc_spend *dc_spender(const dc_chain *c, const uint8_t txid[32], uint32_t vout);
/* Validate and add to the mempool; on success writes the txid. */
bool dc_submit(dc_chain *c, const uint8_t *raw, size_t len, uint8_t txid[32], dc_reject *rej);
/* Mine n blocks paying `script`; hashes of the new blocks into out (room for n). */
bool dc_mine(dc_chain *c, unsigned n, const uint8_t *script, size_t script_len, uint8_t (*out)[32]);
/* Replace the last `depth` blocks with an empty branch one block longer. */
bool dc_reorg(dc_chain *c, unsigned depth);
/* Pay `amount` sat to `script` from the devchain's own coins. */
bool dc_faucet(dc_chain *c, const uint8_t *script, size_t script_len, uint64_t amount,
               uint8_t txid[32], dc_reject *rej);
uint64_t dc_subsidy(uint32_t height);

/* The fee rate (sat/vB) to confirm within `target` blocks, from the mempool: the median
 * rate of what waits for targets up to 6, the relay floor of 1 sat/vB beyond and when the
 * mempool is empty. */
double dc_fee_rate(const dc_chain *c, unsigned target);

/* Core's FormatMoney: BTC with at least two decimals, trailing zeros trimmed. */
void dc_fmt_btc(char *out, size_t cap, uint64_t sat);

/* rbf.c: BIP 125 replacement (see src/chain/rbf.h). What a new transaction replaces:
 * its direct conflicts (ordered by txid, as Core's sets) and, once dc_rbf_check
 * passed, everything evicted (the direct conflicts and all their descendants). */
typedef struct dc_replace {
	dc_tx **direct;
	size_t n_direct, cap_direct;
	dc_tx **all;
	size_t n_all, cap_all;
} dc_replace;

/* The conflict loop of Core's PreChecks: collect t's direct mempool conflicts; false
 * with "txn-mempool-conflict" when one of them does not signal replaceability. */
bool dc_rbf_conflicts(dc_chain *c, const dc_tx *t, dc_replace *rp, dc_reject *rej);
/* With t's fee and vsize known: bad-txns-spends-conflicting-tx, then Core's
 * ReplacementChecks (rules 6, 5, 2, 3, 4); on success rp->all lists what to evict. */
bool dc_rbf_check(dc_chain *c, const dc_tx *t, uint64_t fee, size_t vsize, dc_replace *rp,
                  dc_reject *rej);
void dc_replace_free(dc_replace *rp);

/* map.c */
/* The table doubles its buckets as it fills, so nb is only a starting size. */
void dc_map_init(dc_map *m, size_t nb);
void dc_map_free(dc_map *m);
void *dc_map_get(const dc_map *m, const uint8_t key[36]);
void dc_map_put(dc_map *m, const uint8_t key[36], void *val);
void dc_map_del(dc_map *m, const uint8_t key[36]);
void dc_key_txid(uint8_t key[36], const uint8_t txid[32]);
void dc_key_outpoint(uint8_t key[36], const uint8_t txid[32], uint32_t vout);

/* index.c: the script-hash index, kept by chain.c as transactions come and go. */
void dc_index_init(dc_index *ix);
/* t became known (mempool or block) / is forgotten / moved between mempool and block. */
void dc_index_add(dc_chain *c, dc_tx *t);
void dc_index_del(dc_chain *c, dc_tx *t);
void dc_index_touch(dc_chain *c, dc_tx *t);
/* Every mempool transaction: its parents' confirmation decides its height (0 or -1). */
void dc_index_touch_mempool(dc_chain *c);
/* The entry for a script hash (natural order), NULL if no transaction ever touched it. */
dc_sh *dc_index_get(const dc_chain *c, const uint8_t sh[32]);
/* Entries changed since the last call (each once), handed over; the list is reset. */
dc_sh **dc_index_take_dirty(dc_chain *c, size_t *n);

/* One history entry: the protocol's height (the block's, or 0 / -1 in the mempool). */
typedef struct dc_hist {
	dc_tx *tx;
	int64_t height;
} dc_hist;
/* The history in the protocol's order: confirmed by height and position, then the
 * mempool with height 0 before -1, each by txid (internal byte order). Caller frees. */
size_t dc_index_history(const dc_chain *c, const dc_sh *e, dc_hist **out);
/* The protocol 1.4 status: SHA-256 over "txid:height:" of the history; false when the
 * history is empty (the protocol's null). Cached until the entry changes. */
bool dc_index_status(const dc_chain *c, dc_sh *e, uint8_t status[32]);
/* The mempool height of t: -1 when one of its inputs is unconfirmed, else 0. */
int64_t dc_mempool_height(const dc_chain *c, const dc_tx *t);

/* esplora.c */
/* The regtest address of an output script (segwit, P2PKH, P2SH); false for none. */
bool dc_script_address(char *out, size_t cap, const uint8_t *s, size_t n);
/* What an output script is, for the names Esplora and Core give it. */
typedef enum dc_spk {
	DC_SPK_P2PKH,
	DC_SPK_P2SH,
	DC_SPK_P2WPKH,
	DC_SPK_P2WSH,
	DC_SPK_P2TR,
	DC_SPK_WITNESS_V0_OTHER, /* version 0, neither 20 nor 32 bytes */
	DC_SPK_WITNESS_FUTURE,   /* versions 1-16 but P2TR */
	DC_SPK_P2PK,
	DC_SPK_OP_RETURN,
	DC_SPK_EMPTY,
	DC_SPK_OTHER,
	DC_SPK_N
} dc_spk;
dc_spk dc_script_kind(const uint8_t *s, size_t n);
/* The HTTP handler (arg is the dc_chain). */
struct al_httpd_req;
struct al_httpd_res;
void dc_http_handler(void *arg, const struct al_httpd_req *req, struct al_httpd_res *res);

#endif
