/* The Esplora REST API (Blockstream's esplora / electrs HTTP API): the request paths
 * chain sync needs, and strict parsers for their responses.
 *
 * Everything an Esplora server says is untrusted. These parsers check form only
 * (types, ranges, hex lengths, no unknown shapes); chain/sync.h checks meaning
 * (hashes, merkle proofs, header chain). Hashes are returned in internal byte order
 * (Esplora prints them reversed, as Core does).
 *
 * JSON bodies are decoded with jansson (the one JSON library the project uses). This is
 * core code: jansson allocates through the allocator json_set_alloc_funcs installs,
 * which the enclave routes to its heap; every parse frees what it allocated before
 * returning. */
#ifndef ALIGHT_CHAIN_ESPLORA_H
#define ALIGHT_CHAIN_ESPLORA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "chain/block.h"
#include "util/arena.h"
#include "util/err.h"

/* Longest path built here ("/scripthash/<64>/txs/chain/<64>") plus NUL. */
#define AL_ESPLORA_PATH_MAX 176
/* A merkle branch longer than this cannot belong to a block of AL_BLOCK_MAX_TX. */
#define AL_ESPLORA_MAX_BRANCH 16
/* Esplora pages /scripthash/:hash/txs: up to 50 mempool then 25 confirmed
 * transactions; the next confirmed page is /txs/chain/:last_seen_txid. */
#define AL_ESPLORA_CHAIN_PAGE 25
/* Fee rates above this (sat/vB) are refused as nonsense. */
#define AL_ESPLORA_MAX_FEERATE 1000000

typedef enum al_esplora_method {
	AL_ESPLORA_GET = 0,
	AL_ESPLORA_POST = 1,
} al_esplora_method;

/* ---- paths (out: AL_ESPLORA_PATH_MAX bytes, NUL-terminated) ---------------------- */

void al_esplora_path_tip_hash(char *out);                       /* /blocks/tip/hash */
void al_esplora_path_tip_height(char *out);                     /* /blocks/tip/height */
void al_esplora_path_block_height(char *out, uint32_t height);  /* /block-height/:h */
void al_esplora_path_header(char *out, const uint8_t hash[32]); /* /block/:hash/header */
void al_esplora_path_block(char *out, const uint8_t hash[32]);  /* /block/:hash */
/* /tx/:txid followed by `suffix` ("/status", "/merkle-proof", "/hex", "/raw",
 * "/outspends"); suffix must be shorter than 16 bytes. */
void al_esplora_path_tx(char *out, const uint8_t txid[32], const char *suffix);
void al_esplora_path_outspend(char *out, const uint8_t txid[32], uint32_t vout);
/* /scripthash/:sha256(script)/txs, or with last_seen (not NULL) the next confirmed page
 * /scripthash/:h/txs/chain/:last_seen. The script hash is SHA-256 of the scriptPubKey
 * in natural byte order. */
void al_esplora_path_script_txs(char *out, const uint8_t *script, size_t len,
                                const uint8_t *last_seen);
void al_esplora_path_fee_estimates(char *out); /* /fee-estimates */
void al_esplora_path_broadcast(char *out);     /* POST /tx, body: the hex */

/* ---- text responses -------------------------------------------------------------- */

/* A decimal height: digits only (one optional trailing newline), no leading zero,
 * at most AL_BLOCK_MAX_HEIGHT. AL_E_ESPLORA_TEXT otherwise. */
AL_WARN_UNUSED al_err al_esplora_parse_height(uint32_t *height, const uint8_t *body, size_t len);
/* A display-order hash: exactly 64 hex digits (one optional trailing newline), into
 * internal order. AL_E_ESPLORA_TEXT otherwise. Also the POST /tx answer. */
AL_WARN_UNUSED al_err al_esplora_parse_hash(uint8_t hash[32], const uint8_t *body, size_t len);
/* /block/:hash/header: exactly 160 hex digits. AL_E_ESPLORA_TEXT otherwise. */
AL_WARN_UNUSED al_err al_esplora_parse_header(al_block_header *h, const uint8_t *body, size_t len);
/* /tx/:txid/hex: the hex of a transaction, decoded into the arena (kept there: the
 * transaction borrows it) and parsed. AL_E_ESPLORA_TEXT for bad hex, al_tx_parse's
 * errors, AL_E_SYNC_TXID when it does not hash to `txid`. *raw and *raw_len give the
 * decoded bytes. */
AL_WARN_UNUSED al_err al_esplora_parse_tx_hex(al_tx *tx, const uint8_t **raw, size_t *raw_len,
                                              al_arena *a, const uint8_t txid[32],
                                              const uint8_t *body, size_t len);

/* ---- JSON responses -------------------------------------------------------------- */

/* /tx/:txid/status (also the "status" member of other answers). */
typedef struct al_esplora_status {
	bool confirmed;
	uint32_t height;        /* when confirmed */
	uint8_t block_hash[32]; /* when confirmed, internal order */
} al_esplora_status;

/* {"confirmed":false} or {"confirmed":true,"block_height":N,"block_hash":"..",
 * "block_time":N}. AL_E_ESPLORA_JSON, AL_E_ESPLORA_FIELD. */
AL_WARN_UNUSED al_err al_esplora_parse_status(al_esplora_status *st, const uint8_t *body,
                                              size_t len);

/* /tx/:txid/merkle-proof: {"block_height":N,"merkle":["..", ...],"pos":N}. The branch
 * hashes are display order on the wire and internal order here. */
typedef struct al_esplora_proof {
	uint32_t height;
	uint32_t pos;
	size_t n_branch;
	uint8_t branch[AL_ESPLORA_MAX_BRANCH][32];
} al_esplora_proof;

AL_WARN_UNUSED al_err al_esplora_parse_proof(al_esplora_proof *p, const uint8_t *body, size_t len);

/* /block/:hash: the block's summary; only what checks a merkle proof is taken (the id,
 * height and merkle root the caller compares with its header chain, and the
 * transaction count that fixes the tree's depth). */
typedef struct al_esplora_block {
	uint8_t hash[32]; /* "id", internal order */
	uint32_t height;
	uint8_t merkle_root[32]; /* internal order */
	uint32_t tx_count;       /* 1..AL_BLOCK_MAX_TX */
} al_esplora_block;

/* {"id":"..","height":N,"tx_count":N,"merkle_root":"..", ...}; other members are
 * ignored. AL_E_ESPLORA_JSON, AL_E_ESPLORA_FIELD (a count of 0 or over AL_BLOCK_MAX_TX
 * among them). */
AL_WARN_UNUSED al_err al_esplora_parse_block(al_esplora_block *b, const uint8_t *body, size_t len);

/* /tx/:txid/outspend/:vout: {"spent":false} or {"spent":true,"txid":"..","vin":N,
 * "status":{...}}. */
typedef struct al_esplora_outspend {
	bool spent;
	uint8_t txid[32];
	uint32_t vin;
	al_esplora_status status;
} al_esplora_outspend;

AL_WARN_UNUSED al_err al_esplora_parse_outspend(al_esplora_outspend *o, const uint8_t *body,
                                                size_t len);

/* /scripthash/:hash/txs: an array of transaction objects; only each "txid" (and its
 * "status", as a hint) is taken: the transactions themselves are fetched as hex and
 * checked against their txid. Up to `cap` entries (AL_E_ESPLORA_FIELD beyond);
 * *n_confirmed counts the entries whose status says confirmed (a full page of
 * AL_ESPLORA_CHAIN_PAGE of them means another page may follow). */
AL_WARN_UNUSED al_err al_esplora_parse_txids(uint8_t (*txids)[32], size_t cap, size_t *n,
                                             size_t *n_confirmed, const uint8_t *body, size_t len);

/* /fee-estimates: {"<target blocks>": <sat/vB>, ...}. The rate for the largest target
 * not above `target` (the smallest target present when none is), in sat per 1000
 * vbytes rounded up. AL_E_ESPLORA_FIELD for a non-numeric, negative or absurd rate or
 * a key that is not a target 1..1008; AL_E_RANGE for an empty object. The rate is the
 * server's word, up to AL_ESPLORA_MAX_FEERATE: what the wallet pays goes through
 * al_wallet_fee_clamp and the wallet's fee caps (wallet/wallet.h). */
AL_WARN_UNUSED al_err al_esplora_parse_fee(uint64_t *sat_per_kvb, unsigned target,
                                           const uint8_t *body, size_t len);

#endif
