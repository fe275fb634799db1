/* BOLT #3 per-commitment secrets: generation from a seed, and the receiver's compact
 * storage of every secret revealed so far (49 slots).
 *
 * BOLT #3: "Up to (2^48 - 1) per-commitment secrets can be generated. The first
 * secret used: MUST be index 281474976710655, and from there, the index is
 * decremented." */
#ifndef ALIGHT_LN_SHACHAIN_H
#define ALIGHT_LN_SHACHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* The first (highest) index, 2^48 - 1. */
#define AL_SHACHAIN_FIRST_INDEX 0xFFFFFFFFFFFFULL
#define AL_SHACHAIN_SLOTS       49

/* BOLT #3 generate_from_seed(seed, I). AL_E_RANGE if index >= 2^48 (*out is then
 * zeroed). */
AL_WARN_UNUSED al_err al_shachain_from_seed(uint8_t out[32], const uint8_t seed[32],
                                            uint64_t index);

/* BOLT #3 per-commitment secrets are indexed downwards from 2^48 - 1; commitment
 * number n uses index 2^48 - 1 - n. */
static inline uint64_t al_shachain_index_of(uint64_t commitment_number)
{
	return AL_SHACHAIN_FIRST_INDEX - commitment_number;
}

/* The receiver's store. Plain data (it may be persisted as is); wipe it with
 * al_shachain_clear. */
typedef struct al_shachain {
	struct {
		uint64_t index;
		uint8_t secret[32];
	} known[AL_SHACHAIN_SLOTS];
	/* Bit b set: known[b] holds a secret. */
	uint64_t valid;
	/* The index the next insertion must have; AL_SHACHAIN_FIRST_INDEX when empty. */
	uint64_t next_index;
	/* Number of secrets inserted (the store is full after 2^48). */
	uint64_t count;
} al_shachain;

void al_shachain_init(al_shachain *s);
/* Wipe every secret (the store is then empty). */
void al_shachain_clear(al_shachain *s);

/* BOLT #3 insert_secret(secret, I). Secrets must arrive in order: the first at index
 * 2^48 - 1, each next one at the index one lower, else AL_E_SHACHAIN_INDEX (and
 * AL_E_RANGE for an index >= 2^48). If the secret does not derive every stored
 * secret it should ("the secrets were not generated from the same seed"):
 * AL_E_SHACHAIN_MISMATCH. On any error the store is unchanged. */
AL_WARN_UNUSED al_err al_shachain_insert(al_shachain *s, uint64_t index, const uint8_t secret[32]);

/* BOLT #3 derive_old_secret(I): the secret at `index`, derived from the store.
 * AL_E_SHACHAIN_UNKNOWN if it has not been received yet (*out zeroed). */
AL_WARN_UNUSED al_err al_shachain_get(const al_shachain *s, uint64_t index, uint8_t out[32]);

/* The lowest index received so far; false if the store is empty. */
bool al_shachain_min_index(const al_shachain *s, uint64_t *index);

/* Whether `s` (read back from storage, say) is a store al_shachain_insert could have
 * built: its counters agree, every bucket holds the latest index with that many
 * trailing zeros, and every stored secret derives the stored secrets it covers. */
bool al_shachain_valid(const al_shachain *s);

#endif
