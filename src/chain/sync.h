/* Chain sync against an Esplora server, sans-I/O, in the shape of LDK's Confirm model
 * (lightning-transaction-sync's EsploraSyncClient): the node registers transactions,
 * outputs and scripts to watch; a sync step asks for exactly the answers it needs and
 * checks every one against a header chain kept from a trusted checkpoint. The header
 * chain is not the sync's own: it is an al_headers (chain/headers.h) that every node of
 * the enclave shares, and any node's step may extend or reorganise it.
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
 *  1. GET /blocks/tip/hash. A block the shared chain keeps (its tip, or behind it: a
 *     server that is late is not wrong): skip to 3, the view is the shared chain. The
 *     step is "tip unchanged" only when the server's tip is the one the last committed
 *     step saw and the shared chain has not moved since (its generation).
 *  2. GET /blocks/tip/height, then GET /block/:hash/header from the tip backwards until
 *     a header's parent is one the shared chain keeps: the branch, checked as
 *     chain/headers.h says (hash, proof of work, the network's target, the height the
 *     server reported, and more work than the blocks it replaces: else
 *     AL_E_SYNC_LESS_WORK, and the shared chain is untouched). The view is the shared
 *     chain below the fork and the branch above it. Transactions confirmed in blocks
 *     the view no longer has are unconfirmed and checked again.
 *  3. GET /scripthash/:h/txs for every watched script (following the confirmed pages):
 *     transactions not yet watched are added (their bytes wanted).
 *  4. GET /tx/:txid/outspend/:vout for watched outputs (new ones, and all when the
 *     tip moved, except those spent by a transaction confirmed in the view): a
 *     spender is watched too, and its bytes must spend that output (AL_E_SYNC_SPEND);
 *     404 (a transaction the server does not know yet) means unspent.
 *  5. For watched transactions (new ones, unconfirmed and disconnected ones when the
 *     tip moved): GET /tx/:txid/hex when the bytes are wanted (they must hash to the
 *     txid: AL_E_SYNC_TXID), GET /tx/:txid/status, and when confirmed GET /block/:hash
 *     (once per block and step: its id, height and merkle root must be the view's,
 *     AL_E_SYNC_BLOCK_INFO; its tx_count fixes the tree's depth) and GET
 *     /tx/:txid/merkle-proof: the block must be in the view at the height the status
 *     and the proof both give (AL_E_SYNC_HEIGHT, AL_E_SYNC_UNKNOWN_BLOCK) and the
 *     branch must fit the block's transaction count and lead to that header's merkle
 *     root (al_merkle_branch_verify: AL_E_CHAIN_MERKLE_DEPTH, _POS, _PADDING,
 *     _INNER_TX, AL_E_CHAIN_MERKLE); a confirmed transaction whose bytes are known must
 *     not be 64 bytes without witness (AL_E_CHAIN_TX64). A transaction the server
 *     listed or confirmed and then cannot produce is AL_E_SYNC_TX_MISSING; an
 *     unconfirmed one it forgot (evicted, replaced) is marked dropped.
 *  6. Commit: the branch joins the shared chain (al_headers_commit), and
 *     confirmations, spends and new transactions change together, here and only here.
 *     A step that fails changes nothing the caller can see, in this sync or in the
 *     shared chain.
 *
 * Other nodes' steps run between this step's requests and may commit first. Once the
 * server's tip is placed (1 or 2) the step's view is fixed: the shared chain up to the
 * block the view grows from (the branch's fork, or the shared tip then), and the
 * branch or nothing above it. Before every later answer is checked, and at the commit,
 * that block must still be kept at its height; if another step's commit replaced it
 * the step fails with AL_E_SYNC_CHAIN_MOVED (no answer is judged against a chain the
 * server never saw) and changes nothing. Blocks others added above the view change
 * nothing the step checked. At the commit the branch is fitted to the shared chain as
 * it is then (chain/headers.h): AL_E_SYNC_LESS_WORK when the chain now has more work
 * than the server's branch, AL_E_SYNC_BUSY when another step took the shared stage.
 * Between steps the shared chain may move too: a committed confirmation counts
 * (al_sync_confirmations) only while the shared chain holds its block at its height,
 * and the next step checks again what the move may have changed. A confirmation deeper
 * than the kept window stays.
 *
 * Memory: everything but the header chain comes from the arena given to al_sync_init,
 * sized by the config (al_sync_mem_size); watch lists are bounded (AL_E_SYNC_FULL).
 * Scratch for parsing transactions is used within one call only, so one scratch arena
 * may serve every sync of a process. */
#ifndef ALIGHT_CHAIN_SYNC_H
#define ALIGHT_CHAIN_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "chain/block.h"
#include "chain/esplora.h"
#include "chain/headers.h"
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
	al_headers *headers;    /* the header chain, shared (chain/headers.h) */
	al_arena *scratch;      /* for one call at a time, may be shared; NULL: AL_SYNC_SCRATCH
	                         * bytes of the sync's own arena */
	size_t max_new_headers; /* headers a step stages itself (beyond: the chain's stage) */
	size_t max_txs;
	size_t max_outputs;
	size_t max_scripts;
	size_t raw_cap; /* bytes kept for transactions */
} al_sync_config;

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
	bool tip_changed;     /* the view moved since the step before (its server's tip, or
	                       * the shared chain) */
	uint32_t fork_height; /* what this step's commit did to the shared chain: the last */
	size_t disconnected;  /* common block, the blocks it replaced (0 when the chain only */
	size_t connected;     /* grew) and the blocks it added; all 0 when it did nothing */
	size_t new_txs;       /* transactions discovered */
	size_t confirmed;     /* transactions newly confirmed */
	size_t unconfirmed;   /* transactions unconfirmed (reorganised out or dropped) */
} al_sync_result;

/* Private state; fields are documented in sync.c. */
typedef struct al_sync {
	al_sync_config cfg;
	al_headers *hc;
	al_headers_branch br;
	al_sync_tx *txs;
	size_t n_txs, n_new;
	al_sync_out *outs;
	size_t n_outs;
	al_sync_script *scripts;
	size_t n_scripts;
	uint8_t *raw;
	size_t raw_used, raw_stage;
	al_arena own_scratch, *scratch;
	uint8_t (*ids)[32];
	al_sync_blk *blks; /* max_txs: at most one block per checked transaction */
	size_t n_blks;
	/* what the last committed step saw */
	bool seen;
	uint64_t seen_gen;
	uint8_t seen_tip[32];
	uint32_t seen_height;
	/* the step */
	int phase;
	size_t idx;
	int sub;
	bool active, pending, tip_same, page, short_room;
	uint64_t view_gen;
	uint32_t anchor, view_top;
	uint8_t anchor_hash[32];
	uint8_t srv_tip[32];
	uint8_t page_last[32];
	uint32_t srv_height;
	al_esplora_status pst; /* status awaiting its merkle proof */
	al_sync_request req;
	al_sync_result res;
	al_sync_stats stats;
	al_err last_err;
} al_sync;

/* Arena bytes al_sync_init takes for this configuration. */
size_t al_sync_mem_size(const al_sync_config *cfg);
/* AL_E_ARG for a config without a header chain or with a zero bound; AL_E_NOMEM. */
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
/* Did the last failure (a step, al_sync_add_tx, al_sync_load) find max_txs or raw_cap
 * too small? A sync made with more room would have taken it. */
bool al_sync_short_of_room(const al_sync *s);

/* ---- the committed view ---- */

/* The shared chain's tip (it may move between steps). */
uint32_t al_sync_tip_height(const al_sync *s);
void al_sync_tip_hash(const al_sync *s, uint8_t hash[32]);
/* The height of the tip the server showed at the last committed step, as the shared
 * chain places it (never above the shared tip; the shared tip before any step): what
 * the server's mempool takes as the current height. */
uint32_t al_sync_server_height(const al_sync *s);
/* The shared chain's header at `height`, NULL outside its window. */
const al_hdr *al_sync_header_at(const al_sync *s, uint32_t height);
const al_sync_tx *al_sync_find_tx(const al_sync *s, const uint8_t txid[32]);
size_t al_sync_tx_count(const al_sync *s);
const al_sync_tx *al_sync_tx_at(const al_sync *s, size_t i);
/* Its bytes (NULL if not fetched). */
const uint8_t *al_sync_tx_raw(const al_sync *s, const al_sync_tx *t, size_t *len);
/* tip - height + 1 for a confirmed transaction whose block the shared chain holds at
 * its height now (or one deeper than its window), else 0. */
uint32_t al_sync_confirmations(const al_sync *s, const al_sync_tx *t);
const al_sync_out *al_sync_find_output(const al_sync *s, const uint8_t txid[32], uint32_t vout);

/* ---- persistence ---- */

/* Serialize the committed state (watch lists, transactions; not the shared headers). */
void al_sync_save(const al_sync *s, al_wb *w);
/* Restore into a freshly initialised al_sync with the same limits (format 1, which
 * carried the sync's own headers, loads too: they are skipped). Nothing loaded is
 * trusted beyond what the shared chain shows: the next step checks again.
 * AL_E_TRUNCATED, AL_E_TRAILING, AL_E_SYNC_FULL, AL_E_RANGE for a bad field. */
AL_WARN_UNUSED al_err al_sync_load(al_sync *s, const uint8_t *data, size_t len);

#endif
