/* The header chain, held once and shared: every node's chain sync (chain/sync.h) in an
 * enclave checks its server's answers against one al_headers per network. Headers are
 * public and proven by work, so one copy serves every node; what a node proves with
 * them (its confirmations) stays in its own sync.
 *
 * The chain is a window of the most-work chain seen so far, grown from a trusted
 * checkpoint: headers at heights base..tip, each with the work of the chain up to it.
 * It changes in one place, al_headers_commit, and only to a branch a step staged:
 *
 *   al_headers_branch_begin(h, &b, server_tip_hash, server_tip_height);
 *   while (!b.connected)                        // headers from the tip backwards
 *       e = al_headers_branch_add(h, &b, &hdr);  // GET /block/<b.want>/header
 *   ...the step checks its transactions against al_headers_branch_at...
 *   e = al_headers_commit(h, &b, &change);       // or al_headers_branch_drop
 *
 * Each header must hash to the hash asked for (AL_E_SYNC_HEADER_HASH), meet its target
 * (AL_E_CHAIN_POW, AL_E_CHAIN_BITS), use the network's target (AL_E_SYNC_TARGET:
 * regtest never retargets; mainnet changes only every 2016 blocks, by at most a factor
 * of 4), and the branch must connect to a kept header (AL_E_SYNC_NOT_CONNECTED) at the
 * height the server reported (AL_E_SYNC_HEIGHT). A branch that replaces kept blocks
 * must carry more work than the chain it replaces (AL_E_SYNC_LESS_WORK).
 *
 * Interleaving. Steps of different nodes run at the same time, request by request, and
 * any of them may commit first. So a branch is checked twice: when it connects (to fail
 * early) and again by al_headers_commit against the chain as it is at that moment. The
 * part another step already committed is dropped, the rest must still grow from the
 * same block (else AL_E_SYNC_CHAIN_MOVED: nothing changes, the step runs again) and
 * still carry more work than the chain it would replace (else AL_E_SYNC_LESS_WORK).
 * al_headers_commit cannot fail half way: it checks everything, then changes the chain
 * and bumps its generation (al_headers_gen), by which a sync sees that the chain moved.
 *
 * Memory. A branch stages into the caller's buffer (a few headers: the usual step);
 * when that is full it borrows the chain's own stage (max_stage headers: a first sync
 * from the checkpoint, or a chain left behind). There is one stage: a step that needs
 * it takes it, and a step that lost it fails with AL_E_SYNC_BUSY at its next use (so a
 * step the host stalls forever cannot hold it).
 *
 * Persistence: al_headers_save writes the kept headers; al_headers_load checks every
 * one again (links, proof of work, targets, the checkpoint when in the window) before
 * it replaces a chain that has not moved yet. */
#ifndef ALIGHT_CHAIN_HEADERS_H
#define ALIGHT_CHAIN_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "chain/block.h"
#include "util/arena.h"
#include "util/cursor.h"
#include "util/err.h"

/* A header and the work of the chain up to it (counted from an origin fixed when the
 * chain was made or loaded: only differences are meaningful). */
typedef struct al_hdr {
	uint8_t hash[32];
	al_block_header h;
	al_u256 work;
} al_hdr;

typedef struct al_headers_config {
	al_net net;
	al_block_header checkpoint; /* trusted: genesis, or a compiled-in checkpoint */
	uint32_t checkpoint_height;
	size_t max_headers; /* kept: the deepest reorganisation handled (at least 2) */
	size_t max_stage;   /* the shared stage: the most headers one step may bring */
} al_headers_config;

typedef struct al_headers_stats {
	uint64_t commits;  /* commits that changed the chain */
	uint64_t reorgs;   /* of which replaced kept blocks */
	uint64_t moved;    /* commits refused because the chain moved under the branch */
	uint64_t borrowed; /* the shared stage lent */
	uint64_t taken;    /* ... taken from a step that held it */
} al_headers_stats;

typedef struct al_headers {
	al_headers_config cfg;
	al_hdr *hdrs;
	size_t n;
	uint32_t base; /* height of hdrs[0] */
	uint64_t gen;  /* bumped by every change */
	al_hdr *stage; /* max_stage entries */
	uint64_t lease, next_lease;
	al_headers_stats stats;
} al_headers;

/* A step's staged branch (private to the step; see the top of this file). */
typedef struct al_headers_branch {
	al_hdr *nh; /* newest first: own, or the shared stage */
	size_t n, cap;
	al_hdr *own;
	size_t own_cap;
	uint64_t lease;      /* not 0: nh is the shared stage under this lease */
	uint32_t tip_height; /* the server's tip height */
	uint32_t fork;       /* once connected: the kept block the branch grows from */
	bool connected;
	uint8_t want[32]; /* the header to fetch next */
} al_headers_branch;

/* What a commit did. */
typedef struct al_headers_change {
	bool changed;
	uint32_t fork;       /* the last block both chains share */
	size_t disconnected; /* kept blocks replaced */
	size_t connected;    /* blocks added */
} al_headers_change;

size_t al_headers_mem_size(const al_headers_config *cfg);
/* AL_E_ARG for max_headers < 2, max_stage 0 or a checkpoint above AL_BLOCK_MAX_HEIGHT;
 * AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_headers_init(al_headers *h, al_arena *a, const al_headers_config *cfg);

uint64_t al_headers_gen(const al_headers *h);
uint32_t al_headers_tip_height(const al_headers *h);
uint32_t al_headers_base_height(const al_headers *h);
const al_hdr *al_headers_tip(const al_headers *h);
/* The kept header at `height`, NULL outside the window. */
const al_hdr *al_headers_at(const al_headers *h, uint32_t height);
/* Is this block kept? Its height into *height. */
bool al_headers_find(const al_headers *h, const uint8_t hash[32], uint32_t *height);
const al_headers_stats *al_headers_get_stats(const al_headers *h);

/* ---- branches ---- */

/* A branch staging into `own` (own_cap >= 1 headers). */
void al_headers_branch_init(al_headers_branch *b, al_hdr *own, size_t own_cap);
/* Start from the server's tip (after al_headers_find said it is not kept): the next
 * header to add is b->want. AL_E_SYNC_NOT_CONNECTED for a tip below the window. */
AL_WARN_UNUSED al_err al_headers_branch_begin(al_headers *h, al_headers_branch *b,
                                              const uint8_t tip[32], uint32_t tip_height);
/* The header b->want names (the errors above; AL_E_SYNC_FULL past max_stage). Sets
 * b->connected once the branch reaches a kept block; else b->want is its parent. */
AL_WARN_UNUSED al_err al_headers_branch_add(al_headers *h, al_headers_branch *b,
                                            const al_block_header *hdr);
/* AL_OK while the branch may be used; AL_E_SYNC_BUSY once its shared stage was taken. */
AL_WARN_UNUSED al_err al_headers_branch_check(const al_headers *h, const al_headers_branch *b);
/* The header at `height` in the chain as the connected branch sees it (the kept chain
 * below its fork, the branch above), NULL if none. */
const al_hdr *al_headers_branch_at(const al_headers *h, const al_headers_branch *b,
                                   uint32_t height);
/* Is this hash one of the branch's headers? */
bool al_headers_branch_has(const al_headers_branch *b, const uint8_t hash[32]);
/* Forget the branch (gives the shared stage back). */
void al_headers_branch_drop(al_headers *h, al_headers_branch *b);

/* Fit the connected branch to the chain as it is now (see the top of this file):
 * AL_E_SYNC_CHAIN_MOVED, AL_E_SYNC_LESS_WORK, AL_E_SYNC_BUSY, the target errors.
 * Changes the branch only; afterwards al_headers_branch_at is the chain a commit
 * would make. */
AL_WARN_UNUSED al_err al_headers_branch_fit(al_headers *h, al_headers_branch *b);
/* Fit, then make the branch the chain (and drop it). On error nothing changed. */
AL_WARN_UNUSED al_err al_headers_commit(al_headers *h, al_headers_branch *b,
                                        al_headers_change *out);

/* ---- persistence ---- */

/* The newest `max` kept headers (0: all). */
void al_headers_save(const al_headers *h, al_wb *w, size_t max);
/* Replace a chain that has not moved since al_headers_init with saved headers, all
 * checked again: AL_E_SYNC_STATE (the chain moved, or a branch holds the stage),
 * AL_E_TRUNCATED, AL_E_TRAILING, AL_E_RANGE (version, network or checkpoint height),
 * AL_E_SYNC_FULL (more than max_headers), AL_E_SYNC_HEIGHT (a tip above
 * AL_BLOCK_MAX_HEIGHT), AL_E_SYNC_NOT_CONNECTED (a broken link, or a window that misses the
 * checkpoint), AL_E_CHAIN_POW, AL_E_CHAIN_BITS,
 * AL_E_SYNC_TARGET. On error nothing changed. */
AL_WARN_UNUSED al_err al_headers_load(al_headers *h, const uint8_t *data, size_t len);

#endif
