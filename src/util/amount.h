/* Typed, checked amounts (after Core Lightning's common/amount.h).
 *
 * Millisatoshi and satoshi are distinct struct types so that they cannot be mixed
 * by accident; all arithmetic is checked and returns false on overflow, underflow
 * or an inexact conversion, leaving the output untouched. */
#ifndef ALIGHT_UTIL_AMOUNT_H
#define ALIGHT_UTIL_AMOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

typedef struct al_msat {
	uint64_t msat;
} al_msat;

typedef struct al_sat {
	uint64_t sat;
} al_sat;

/* 21 million BTC: no valid on-chain amount exceeds it. */
#define AL_MAX_MONEY_SAT 2100000000000000ULL

static inline al_msat al_msat_of(uint64_t v)
{
	return (al_msat){v};
}

static inline al_sat al_sat_of(uint64_t v)
{
	return (al_sat){v};
}

AL_WARN_UNUSED bool al_msat_add(al_msat *out, al_msat a, al_msat b);
AL_WARN_UNUSED bool al_msat_sub(al_msat *out, al_msat a, al_msat b);
AL_WARN_UNUSED bool al_sat_add(al_sat *out, al_sat a, al_sat b);
AL_WARN_UNUSED bool al_sat_sub(al_sat *out, al_sat a, al_sat b);
/* a * b, checked. */
AL_WARN_UNUSED bool al_sat_mul(al_sat *out, al_sat a, uint64_t b);
AL_WARN_UNUSED bool al_sat_to_msat(al_msat *out, al_sat s);
/* Exact conversion: fails if msat is not a whole number of satoshi. */
AL_WARN_UNUSED bool al_msat_to_sat_exact(al_sat *out, al_msat m);
/* Rounds down, as BOLT 3 does when it converts balances to outputs. */
al_sat al_msat_to_sat_floor(al_msat m);
bool al_sat_is_valid_money(al_sat s);
bool al_msat_less(al_msat a, al_msat b);
bool al_sat_less(al_sat a, al_sat b);

#endif
