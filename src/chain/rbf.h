/* BIP 125 replace-by-fee as Bitcoin Core's mempool applies it (v25: policy/rbf.cpp,
 * MemPoolAccept::ReplacementChecks in validation.cpp, doc/policy/mempool-replacements.md),
 * before full-RBF became the default.
 *
 * The caller owns the mempool graph: it finds the transactions a replacement conflicts
 * with directly, counts their descendants and sums the fees of everything that would be
 * evicted; these functions apply the rules in Core's order and say which one failed.
 * A wallet can use them to check a fee bump before it broadcasts one.
 *
 * Two things Core does differently from the BIP text, and so do we:
 *  - signalling is not inherited: an original whose own inputs all have
 *    nSequence > 0xfffffffd is not replaceable even when an unconfirmed ancestor signals
 *    (CVE-2021-31876; Core answers "txn-mempool-conflict");
 *  - the replacement's feerate must beat each directly conflicting transaction's feerate
 *    (Core's rule 6), checked first. */
#ifndef ALIGHT_CHAIN_RBF_H
#define ALIGHT_CHAIN_RBF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "util/amount.h"
#include "util/err.h"

/* BIP 125: an input signals replaceability with nSequence at most this
 * (Core's MAX_BIP125_RBF_SEQUENCE). */
#define AL_RBF_MAX_SEQUENCE 0xfffffffdu
/* BIP 125 rule 5: at most this many transactions evicted (MAX_BIP125_REPLACEMENT_CANDIDATES). */
#define AL_RBF_MAX_REPLACEMENTS 100
/* BIP 125 rule 4: Core's DEFAULT_INCREMENTAL_RELAY_FEE, sat per 1000 virtual bytes. */
#define AL_INCREMENTAL_RELAY_FEERATE 1000

/* A transaction the replacement conflicts with directly (spends one of its inputs). */
typedef struct al_rbf_conflict {
	const al_tx *tx;
	al_sat fee;
	size_t vsize;
	size_t count_with_descendants; /* itself included, as Core's GetCountWithDescendants */
} al_rbf_conflict;

/* Is `txid` an unconfirmed (mempool) transaction? */
typedef bool (*al_rbf_in_mempool)(void *arg, const uint8_t txid[32]);

/* The numbers behind a rejection, for Core's message. */
typedef struct al_rbf_result {
	size_t conflict;      /* AL_E_TXV_RBF_FEERATE: index of the direct conflict */
	uint64_t new_feerate; /* sat per 1000 vB, truncated as CFeeRate(fee, vsize) */
	uint64_t old_feerate;
	uint64_t count;        /* AL_E_TXV_RBF_TOO_MANY: the running count that went over */
	size_t input;          /* AL_E_TXV_RBF_UNCONFIRMED: the new unconfirmed input */
	al_sat fee;            /* rules 3 and 4: the replacement's fee */
	al_sat replaced_fee;   /* fees of everything evicted */
	al_sat additional;     /* replacement fee minus replaced_fee */
	al_sat min_additional; /* rule 4: incremental relay fee for the replacement's vsize */
} al_rbf_result;

/* BIP 125: does the transaction itself signal (any input nSequence <= 0xfffffffd)? */
bool al_rbf_signals(const al_tx *tx);

/* Core's CFeeRate(fee, vsize): sat per 1000 vB, rounded down; 0 for vsize 0. */
uint64_t al_feerate_of(al_sat fee, size_t vsize);

/* Core's CFeeRate::GetFee: the fee at `feerate` (sat per 1000 vB) for `vsize`, rounded
 * up, and at least 1 sat for a positive rate and size. */
uint64_t al_feerate_fee(uint64_t feerate, size_t vsize);

/* Core's ReplacementChecks, in its order, for a replacement paying `fee` over `vsize`:
 *  - rule 6: its feerate above every direct conflict's (AL_E_TXV_RBF_FEERATE,
 *    res->conflict, res->new_feerate, res->old_feerate);
 *  - rule 5: the direct conflicts' counts with descendants, summed, at most 100
 *    (AL_E_TXV_RBF_TOO_MANY, res->count);
 *  - rule 2: no input from a mempool transaction that is not a parent of a direct
 *    conflict (AL_E_TXV_RBF_UNCONFIRMED, res->input);
 *  - rule 3: fee at least `replaced_fee`, the fees of the direct conflicts and all their
 *    descendants (AL_E_TXV_RBF_LESS_FEES);
 *  - rule 4: the additional fee pays the incremental relay feerate over `vsize`
 *    (AL_E_TXV_RBF_RELAY_FEE, res->additional, res->min_additional).
 * AL_E_ARG when there are no conflicts. */
AL_WARN_UNUSED al_err al_rbf_check(const al_tx *tx, al_sat fee, size_t vsize,
                                   const al_rbf_conflict *direct, size_t n_direct,
                                   al_sat replaced_fee, al_rbf_in_mempool in_mempool, void *arg,
                                   al_rbf_result *res);

#endif
