/* Chain sync against an Esplora server, sans-I/O, in the shape of LDK's Confirm model
 * (lightning-transaction-sync's EsploraSyncClient): the node registers transactions,
 * outputs and scripts to watch; a sync step asks for exactly the answers it needs and
 * checks every one against a header chain it keeps from a trusted checkpoint.
 *
 * A step:
 *
 *   al_sync_begin(s);
 *   for (;;) {
 *       const al_sync_request *rq;
 *       e = al_sync_next(s, &rq);          // AL_OK; rq == NULL: step done, committed
 *       if (e != AL_OK || !rq) break;
 *       ...perform rq->method rq->path over HTTP...
 *       e = al_sync_on_response(s, status, body, len);
 *       if (e != AL_OK) break;              // precise error; the step is abandoned
 *   }
 *
 * What a step asks, in order:
 *  1. GET /blocks/tip/hash. Unchanged: skip to 3.
 *  2. GET /blocks/tip/height, then GET /block/:hash/header from the tip backwards until
 *     a header's parent is one we keep. Each header must hash to the hash asked for
 *     (AL_E_SYNC_HEADER_HASH), meet its target (AL_E_CHAIN_POW, AL_E_CHAIN_BITS), use
 *     the network's target (AL_E_SYNC_TARGET: regtest never retargets; mainnet changes
 *     only every 2016 blocks, by at most a factor of 4), connect at the height the
 *     server reported (AL_E_SYNC_HEIGHT) within the kept headers
 *     (AL_E_SYNC_NOT_CONNECTED), and a branch replacing any kept block must carry more
 *     cumulative work than the chain it replaces (AL_E_SYNC_LESS_WORK). Blocks above
 *     the fork point are disconnected: transactions confirmed in them are unconfirmed
 *     and checked again.
 *  3. GET /scripthash/:h/txs for every watched script (following the confirmed pages):
 *     transactions not yet watched are added (their bytes wanted).
 *  4. GET /tx/:txid/outspend/:vout for watched outputs (new ones, and all when the
 *     tip moved, except those spent by a transaction confirmed in the chain): a
 *     spender is watched too, and its bytes must spend that output (AL_E_SYNC_SPEND);
 *     404 (a transaction the server does not know yet) means unspent.
 *  5. For watched transactions (new ones, unconfirmed and disconnected ones when the
 *     tip moved): GET /tx/:txid/hex when the bytes are wanted (they must hash to the
 *     txid: AL_E_SYNC_TXID), GET /tx/:txid/status, and when confirmed GET /block/:hash
 *     (once per block and step: its id, height and merkle root must be the header
 *     chain's, AL_E_SYNC_BLOCK_INFO; its tx_count fixes the tree's depth) and GET
 *     /tx/:txid/merkle-proof: the block must be in the header chain at the height
 *     the status and the proof both give (AL_E_SYNC_HEIGHT, AL_E_SYNC_UNKNOWN_BLOCK)
 *     and the branch must fit the block's transaction count and lead to that header's
 *     merkle root (al_merkle_branch_verify: AL_E_CHAIN_MERKLE_DEPTH, _POS, _PADDING,
 *     _INNER_TX, AL_E_CHAIN_MERKLE); a confirmed transaction whose bytes are known must
 *     not be 64 bytes without witness (AL_E_CHAIN_TX64). A transaction the server
 *     listed or confirmed and then cannot produce is AL_E_SYNC_TX_MISSING; an
 *     unconfirmed one it forgot (evicted, replaced) is marked dropped.
 *  6. Commit: headers, confirmations, spends and new transactions all change together
 *     here, and only here. A step that fails changes nothing the caller can see.
 *
 * Memory: everything comes from the arena given to al_sync_init, sized by the config
 * (al_sync_mem_size); watch lists are bounded (AL_E_SYNC_FULL). */
#ifndef ALIGHT_CHAIN_SYNC_H
#define ALIGHT_CHAIN_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "chain/block.h"
#include "chain/esplora.h"
#include "util/arena.h"
#include "util/cursor.h"
#include "util/err.h"

/* Longest watched script (a 40-byte witness program and its two opcodes). */
#define AL_SYNC_SCRIPT_MAX 42
/* Bytes of scratch used to parse one transaction's bytes. */
#define AL_SYNC_SCRATCH (512u * 1024u)
/* Entries one /scripthash/:h/txs page may hold (50 mempool + 25 confirmed). */
#define AL_SYNC_PAGE_MAX 75

typedef struct al_sync_config {
	al_net net;
	al_block_header checkpoint; /* trusted (genesis, or a header known at wallet birth) */
	uint32_t checkpoint_height;
	size_t max_headers;     /* headers kept: the deepest reorganisation handled */
	size_t max_new_headers; /* headers one step may fetch */
	size_t max_txs;
	size_t max_outputs;
	size_t max_scripts;
	size_t raw_cap; /* bytes kept for transactions */
} al_sync_config;

/* A kept header and the work of the chain up to it (counted from the oldest kept). */
typedef struct al_sync_hdr {
	uint8_t hash[32];
	al_block_header h;
	al_u256 work;
} al_sync_hdr;

/* A transaction's place in the chain. */
typedef struct al_sync_txstate {
	bool confirmed;
	bool dropped; /* unconfirmed, and the server no longer knows it */
	uint32_t height;
	uint32_t pos;
	uint8_t block_hash[32];
} al_sync_txstate;

typedef struct al_sync_tx {
	uint8_t txid[32];
	al_sync_txstate st;      /* committed */
	size_t raw_off, raw_len; /* committed bytes (raw_len 0: none) */
	bool want_raw;
	bool fresh; /* not checked by a committed step yet */
	/* step-private */
	bool listed; /* the server listed it in this step (script, outspend): it must exist */
	bool touched, check;
	al_sync_txstate next;
	size_t n_raw_off, n_raw_len;
} al_sync_tx;

typedef struct al_sync_out {
	uint8_t txid[32];
	uint32_t vout;
	bool spent; /* committed */
	uint8_t spender[32];
	uint32_t vin;
	bool fresh;
	/* step-private */
	bool touched, check, n_spent;
	uint8_t n_spender[32];
	uint32_t n_vin;
} al_sync_out;

typedef struct al_sync_script {
	uint8_t script[AL_SYNC_SCRIPT_MAX];
	size_t len;
	uint32_t n_listed; /* transactions the server listed for it at the last step */
	uint32_t n_next;
} al_sync_script;

/* A block whose transaction count this step fetched (step-private). */
typedef struct al_sync_blk {
	uint8_t hash[32];
	uint32_t tx_count;
} al_sync_blk;

typedef struct al_sync_request {
	al_esplora_method method;
	char path[AL_ESPLORA_PATH_MAX];
} al_sync_request;

/* Counters (never reset by a failed step). */
typedef struct al_sync_stats {
	uint64_t requests;
	uint64_t bytes; /* response bodies */
	uint64_t steps_ok;
	uint64_t steps_failed;
} al_sync_stats;

/* What the last committed step changed. */
typedef struct al_sync_result {
	bool tip_changed;
	uint32_t fork_height; /* last common block when the tip changed */
	size_t disconnected;  /* blocks disconnected (0 when the tip only grew) */
	size_t connected;     /* blocks connected */
	size_t new_txs;       /* transactions discovered */
	size_t confirmed;     /* transactions newly confirmed */
	size_t unconfirmed;   /* transactions unconfirmed (reorganised out or dropped) */
} al_sync_result;

/* Private state; fields are documented in sync.c. */
typedef struct al_sync {
	al_sync_config cfg;
	al_sync_hdr *hdrs;
	size_t n_hdrs;
	uint32_t base_height;
	al_sync_hdr *nh; /* staged headers, newest first */
	size_t n_nh;
	al_sync_tx *txs;
	size_t n_txs, n_new;
	al_sync_out *outs;
	size_t n_outs;
	al_sync_script *scripts;
	size_t n_scripts;
	uint8_t *raw;
	size_t raw_used, raw_stage;
	al_arena scratch;
	uint8_t (*ids)[32];
	al_sync_blk *blks; /* max_txs: at most one block per checked transaction */
	size_t n_blks;
	/* the step */
	int phase;
	size_t idx;
	int sub;
	bool active, pending, tip_same, page;
	uint8_t want[32];
	uint8_t page_last[32];
	uint32_t srv_height, fork_height;
	al_esplora_status pst; /* status awaiting its merkle proof */
	al_sync_request req;
	al_sync_result res;
	al_sync_stats stats;
	al_err last_err;
} al_sync;

/* Arena bytes al_sync_init takes for this configuration. */
size_t al_sync_mem_size(const al_sync_config *cfg);
/* AL_E_ARG for a config with a zero bound (max_headers needs at least 2); AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_sync_init(al_sync *s, al_arena *a, const al_sync_config *cfg);

/* Registration (between steps; AL_E_SYNC_STATE during one). Registering twice is a
 * no-op, except that want_raw is or-ed: a known transaction whose bytes are not held is
 * fetched again at the next step. AL_E_SYNC_FULL when the list is full. */
AL_WARN_UNUSED al_err al_sync_watch_tx(al_sync *s, const uint8_t txid[32], bool want_raw);
/* A transaction of our own (about to be broadcast): watched, its bytes kept. al_tx_parse
 * errors for bad bytes. */
AL_WARN_UNUSED al_err al_sync_add_tx(al_sync *s, const uint8_t *raw, size_t len);
AL_WARN_UNUSED al_err al_sync_watch_output(al_sync *s, const uint8_t txid[32], uint32_t vout);
/* AL_E_RANGE for an empty script or one over AL_SYNC_SCRIPT_MAX bytes. */
AL_WARN_UNUSED al_err al_sync_watch_script(al_sync *s, const uint8_t *script, size_t len);

/* The step API (see the top of this file). al_sync_begin abandons a step in progress.
 * al_sync_on_response without a pending request: AL_E_SYNC_STATE. Any error from
 * al_sync_on_response ends the step with nothing changed (al_sync_last_error keeps
 * it); HTTP statuses other than those expected are AL_E_ESPLORA_STATUS. */
void al_sync_begin(al_sync *s);
AL_WARN_UNUSED al_err al_sync_next(al_sync *s, const al_sync_request **req);
AL_WARN_UNUSED al_err al_sync_on_response(al_sync *s, int status, const uint8_t *body, size_t len);
void al_sync_abort(al_sync *s);
bool al_sync_active(const al_sync *s);
al_err al_sync_last_error(const al_sync *s);
const al_sync_result *al_sync_last_result(const al_sync *s);
const al_sync_stats *al_sync_get_stats(const al_sync *s);

/* ---- the committed view ---- */

uint32_t al_sync_tip_height(const al_sync *s);
void al_sync_tip_hash(const al_sync *s, uint8_t hash[32]);
/* The kept header at `height`, NULL outside the kept range. */
const al_sync_hdr *al_sync_header_at(const al_sync *s, uint32_t height);
const al_sync_tx *al_sync_find_tx(const al_sync *s, const uint8_t txid[32]);
size_t al_sync_tx_count(const al_sync *s);
const al_sync_tx *al_sync_tx_at(const al_sync *s, size_t i);
/* Its bytes (NULL if not fetched). */
const uint8_t *al_sync_tx_raw(const al_sync *s, const al_sync_tx *t, size_t *len);
/* tip - height + 1 for a confirmed transaction, else 0. */
uint32_t al_sync_confirmations(const al_sync *s, const al_sync_tx *t);
const al_sync_out *al_sync_find_output(const al_sync *s, const uint8_t txid[32], uint32_t vout);

/* ---- persistence ---- */

/* Serialize the committed state (headers, watch lists, transactions). */
void al_sync_save(const al_sync *s, al_wb *w);
/* Restore into a freshly initialised al_sync with the same limits. AL_E_TRUNCATED,
 * AL_E_TRAILING, AL_E_SYNC_FULL, AL_E_SYNC_NOT_CONNECTED for a header list that does
 * not chain, AL_E_RANGE for a bad field. */
AL_WARN_UNUSED al_err al_sync_load(al_sync *s, const uint8_t *data, size_t len);

#endif
