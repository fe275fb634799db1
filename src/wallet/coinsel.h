/* Coin selection: branch-and-bound for a changeless transaction (Murch, "An Evaluation
 * of Coin Selection Strategies", as Bitcoin Core's SelectCoinsBnB implements it) and a
 * largest-first fallback that leaves change.
 *
 * Values are effective values: an output's amount minus the fee its input costs at the
 * target fee rate (the caller drops outputs whose effective value is not positive). */
#ifndef ALIGHT_WALLET_COINSEL_H
#define ALIGHT_WALLET_COINSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Candidates one selection considers. */
#define AL_COINSEL_MAX 1024
/* Core's TOTAL_TRIES: the search gives up after this many steps. */
#define AL_COINSEL_BNB_TRIES 100000

/* Branch and bound: a subset whose total lies in [target, target + cost_of_change],
 * minimising the excess (Core's waste metric when the fee rate equals the long-term
 * fee rate). selected[i] marks the chosen candidates, *total their sum.
 * AL_E_WALLET_FUNDS when no such subset exists (or none was found within
 * AL_COINSEL_BNB_TRIES); AL_E_RANGE for more than AL_COINSEL_MAX candidates. */
AL_WARN_UNUSED al_err al_coinsel_bnb(bool *selected, uint64_t *total, const uint64_t *values,
                                     size_t n, uint64_t target, uint64_t cost_of_change);

/* Largest first: the fewest biggest candidates reaching target. AL_E_WALLET_FUNDS
 * when they all do not. */
AL_WARN_UNUSED al_err al_coinsel_largest_first(bool *selected, uint64_t *total,
                                               const uint64_t *values, size_t n, uint64_t target);

#endif
