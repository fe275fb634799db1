/* A scripted Esplora server for unit tests of chain sync (chain/sync.h) and what sits on
 * it (the wallet): real regtest headers with proof of work over real merkle trees of the
 * leaves each block is given, answered the way Esplora answers, with one configured lie
 * at a time and forged proofs on demand.
 *
 * A block's leaves are 32-byte txids; leaves that are real transactions (esim_mine_txs)
 * also have their bytes served (/tx/:txid/hex) and are listed for every output script
 * they pay (/scripthash/:h/txs). */
#ifndef ALIGHT_TESTS_ESPLORA_SIM_H
#define ALIGHT_TESTS_ESPLORA_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/headers.h"
#include "chain/sync.h"

#define ESIM_MAXB 16
#define ESIM_MAXL 8

/* A proof the server serves for one txid instead of the honest one. */
typedef struct esim_forge {
	uint8_t txid[32];
	size_t height;
	uint32_t pos;
	uint8_t branch[4][32];
	size_t n_branch;
	const uint8_t *raw; /* served as /tx/:txid/hex when not NULL */
	size_t raw_len;
} esim_forge;

enum {
	ESIM_LIE_NONE,
	ESIM_LIE_MERKLE,        /* the first branch hash altered */
	ESIM_LIE_TIP_HEIGHT,    /* the tip height one too high */
	ESIM_LIE_HEADER_HASH,   /* the tip's header altered */
	ESIM_LIE_MISSING,       /* no merkle proof */
	ESIM_LIE_STATUS_HEIGHT, /* the status one block too low */
	ESIM_LIE_TX_COUNT,      /* /block/:hash claims one transaction more */
	ESIM_LIE_POS,           /* the proof's position is the block's transaction count */
	ESIM_LIE_BLOCK_ID,      /* /block/:hash gives the parent's id */
	ESIM_LIE_BLOCK_ROOT,    /* /block/:hash gives another merkle root */
	ESIM_LIE_BLOCK_HEIGHT,  /* /block/:hash gives another height */
};

typedef struct esim {
	al_block_header h[ESIM_MAXB];
	uint8_t hash[ESIM_MAXB][32];
	uint8_t leaf[ESIM_MAXB][ESIM_MAXL][32];
	size_t n_leaf[ESIM_MAXB];
	const uint8_t *raw[ESIM_MAXB][ESIM_MAXL]; /* borrowed; NULL: a bare txid */
	size_t raw_len[ESIM_MAXB][ESIM_MAXL];
	size_t n; /* blocks, genesis included */
	int lie;
	uint32_t tx_count; /* not 0: the tx_count every /block/:hash claims */
	const esim_forge *fg;
	unsigned block_requests; /* GET /block/:hash answered */
	unsigned fee_sat_vb;     /* not 0: GET /fee-estimates answers this for every target */
	unsigned fee_requests;   /* GET /fee-estimates answered */
	char body[16384];
} esim;

/* The regtest genesis block and `blocks` blocks of two bare leaves on it. */
void esim_init(esim *s, size_t blocks);
/* (Re)mine block `height` over the n given leaves (n <= ESIM_MAXL), on block height - 1;
 * the chain ends there. */
void esim_mine_leaves(esim *s, size_t height, const uint8_t (*leaves)[32], size_t n, uint32_t bits);
/* ... over a coinbase stand-in and the leaf (tag, height). */
void esim_mine(esim *s, size_t height, uint8_t tag, uint32_t bits);
/* ... over a coinbase stand-in and these n transactions (borrowed: keep them alive). */
void esim_mine_txs(esim *s, size_t height, const uint8_t *const *raw, const size_t *len, size_t n);
/* The answer to GET `path`: its HTTP status; the body is s->body, *len bytes. */
int esim_answer(esim *s, const char *path, size_t *len);
/* A regtest header chain from genesis in `a`: max_headers kept, as many staged. */
al_err esim_headers(al_headers *h, al_arena *a, size_t max_headers);
/* The sync's committed state (al_sync_save) into buf: compared after a failed step. */
size_t esim_snapshot(const al_sync *sy, uint8_t *buf, size_t cap);
/* A transaction from somebody else paying `sat` to a P2WPKH `script` (its one input is
 * made up from `tag`; nobody spends it), serialized into out. */
size_t esim_payment(uint8_t *out, size_t cap, const uint8_t script[22], uint64_t sat, uint32_t tag);
/* One sync step against the server, to its commit or its first error. */
al_err esim_step(al_sync *sy, esim *s);

#endif
