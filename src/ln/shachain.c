#include "ln/shachain.h"

#include <string.h>

#include "crypto/hash.h"
#include "util/mem.h"

/* Marks a store that has received index 0 and so can take no more. */
#define NEXT_NONE UINT64_MAX

/* BOLT #3: "Where "flip(B)" alternates the (B mod 8) bit of the (B div 8) byte of the
 * value."
 *
 *     derive_secret(base, bits, I):
 *         P = base
 *         for B in bits - 1 down to 0:
 *             if B set in I:
 *                 flip(B) in P
 *                 P = SHA256(P)
 *         return P
 *
 * The index is public; only the secret bytes need care. */
static void derive_secret(uint8_t out[32], const uint8_t base[32], unsigned bits, uint64_t index)
{
	unsigned b;

	memcpy(out, base, 32);
	for (b = bits; b-- > 0;) {
		if (!((index >> b) & 1))
			continue;
		out[b / 8] ^= (uint8_t)(1u << (b % 8));
		al_sha256(out, out, 32);
	}
}

/* BOLT #3 where_to_put_secret(I): the number of trailing zeros, 48 for I = 0. */
static unsigned where_to_put(uint64_t index)
{
	unsigned b;

	for (b = 0; b < 48; b++)
		if ((index >> b) & 1)
			return b;
	return 48;
}

al_err al_shachain_from_seed(uint8_t out[32], const uint8_t seed[32], uint64_t index)
{
	if (index > AL_SHACHAIN_FIRST_INDEX) {
		memset(out, 0, 32);
		return AL_E_RANGE;
	}
	/* BOLT #3: generate_from_seed(seed, I) runs B from 47 down to 0. */
	derive_secret(out, seed, 48, index);
	return AL_OK;
}

void al_shachain_init(al_shachain *s)
{
	memset(s, 0, sizeof(*s));
	s->next_index = AL_SHACHAIN_FIRST_INDEX;
}

void al_shachain_clear(al_shachain *s)
{
	al_memzero(s, sizeof(*s));
	s->next_index = AL_SHACHAIN_FIRST_INDEX;
}

/* BOLT #3: "A double-check, that all previous secrets derive correctly, is needed; if
 * this check fails, the secrets were not generated from the same seed". Every stored
 * secret in a lower bucket has an index sharing the new index's prefix. */
static bool derives_known(const al_shachain *s, unsigned bucket, const uint8_t secret[32])
{
	uint8_t d[32];
	bool ok = true;
	unsigned b;

	for (b = 0; b < bucket; b++) {
		if (!((s->valid >> b) & 1))
			continue;
		derive_secret(d, secret, bucket, s->known[b].index);
		ok &= al_memeq_ct(d, s->known[b].secret, 32);
	}
	al_memzero(d, sizeof(d));
	return ok;
}

al_err al_shachain_insert(al_shachain *s, uint64_t index, const uint8_t secret[32])
{
	unsigned bucket;

	if (index > AL_SHACHAIN_FIRST_INDEX)
		return AL_E_RANGE;
	/* BOLT #3: "secrets are always received in descending order starting at
	 * `0xFFFFFFFFFFFF`", one per revoked commitment. */
	if (index != s->next_index)
		return AL_E_SHACHAIN_INDEX;
	bucket = where_to_put(index);
	if (!derives_known(s, bucket, secret))
		return AL_E_SHACHAIN_MISMATCH;
	s->known[bucket].index = index;
	memcpy(s->known[bucket].secret, secret, 32);
	s->valid |= 1ULL << bucket;
	s->next_index = index == 0 ? NEXT_NONE : index - 1;
	s->count++;
	return AL_OK;
}

bool al_shachain_min_index(const al_shachain *s, uint64_t *index)
{
	if (s->count == 0)
		return false;
	*index = s->next_index + 1; /* wraps to 0 for a full store */
	return true;
}

al_err al_shachain_get(const al_shachain *s, uint64_t index, uint8_t out[32])
{
	uint64_t min, mask;
	unsigned b;

	memset(out, 0, 32);
	if (index > AL_SHACHAIN_FIRST_INDEX)
		return AL_E_RANGE;
	if (!al_shachain_min_index(s, &min) || index < min)
		return AL_E_SHACHAIN_UNKNOWN;
	/* BOLT #3 derive_old_secret(I): "the index in entry `b` has `b` trailing 0s; the
	 * mask and compare simply checks if the index at each bucket is a prefix of the
	 * desired index." */
	for (b = 0; b < AL_SHACHAIN_SLOTS; b++) {
		if (!((s->valid >> b) & 1))
			continue;
		mask = ~((1ULL << b) - 1);
		if ((index & mask) == s->known[b].index) {
			derive_secret(out, s->known[b].secret, b, index);
			return AL_OK;
		}
	}
	return AL_E_SHACHAIN_UNKNOWN;
}

/* The smallest index in [min, AL_SHACHAIN_FIRST_INDEX] with exactly b trailing
 * zeros (bucket b's latest entry once min was inserted); false if there is none. */
static bool bucket_index(uint64_t min, unsigned b, uint64_t *out)
{
	uint64_t step, x;

	if (b == 48) {
		*out = 0;
		return min == 0;
	}
	step = 1ULL << (b + 1);
	x = min <= (1ULL << b) ? (1ULL << b)
	                       : ((min - (1ULL << b) + step - 1) / step) * step + (1ULL << b);
	*out = x;
	return x <= AL_SHACHAIN_FIRST_INDEX;
}

bool al_shachain_valid(const al_shachain *s)
{
	uint64_t min, want, mask;
	uint8_t d[32];
	unsigned b, c;
	bool ok = true, has;

	if (s->valid >> AL_SHACHAIN_SLOTS)
		return false;
	if (s->count == 0)
		return s->valid == 0 && s->next_index == AL_SHACHAIN_FIRST_INDEX;
	if (s->count > AL_SHACHAIN_FIRST_INDEX + 1)
		return false;
	min = AL_SHACHAIN_FIRST_INDEX + 1 - s->count;
	if (s->next_index != (min == 0 ? NEXT_NONE : min - 1))
		return false;
	for (b = 0; b < AL_SHACHAIN_SLOTS; b++) {
		has = bucket_index(min, b, &want);
		if (has != (bool)((s->valid >> b) & 1) || (has && s->known[b].index != want))
			return false;
	}
	/* A bucket's secret derives every lower bucket's whose index it is a prefix of
	 * (BOLT #3 derive_old_secret's "mask and compare"). */
	for (b = 1; b < AL_SHACHAIN_SLOTS; b++) {
		if (!((s->valid >> b) & 1))
			continue;
		mask = ~((1ULL << b) - 1);
		for (c = 0; c < b; c++) {
			if (!((s->valid >> c) & 1) ||
			    (s->known[c].index & mask) != s->known[b].index)
				continue;
			derive_secret(d, s->known[b].secret, b, s->known[c].index);
			ok &= al_memeq_ct(d, s->known[c].secret, 32);
		}
	}
	al_memzero(d, sizeof(d));
	return ok;
}
