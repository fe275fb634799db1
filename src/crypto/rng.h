/* Randomness as an input.
 *
 * The core never asks the operating system for randomness. Whoever drives it hands
 * in an al_rng: the host's wraps getrandom (src/host/os_rng.h), tests use the
 * deterministic al_rng_chacha below so that every run can be replayed. */
#ifndef ALIGHT_CRYPTO_RNG_H
#define ALIGHT_CRYPTO_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct al_rng {
	/* Fill `len` bytes; any failure is reported, never papered over. */
	al_err (*fill)(void *state, uint8_t *out, size_t len);
	void *state;
} al_rng;

AL_WARN_UNUSED al_err al_rng_fill(const al_rng *rng, void *out, size_t len);

/* Deterministic generator: the ChaCha20 keystream under a 32-byte seed. For tests,
 * benchmarks and reproducible simulations only, never for keys. */
typedef struct al_rng_chacha {
	uint8_t key[32];
	uint64_t block;
} al_rng_chacha;

void al_rng_chacha_init(al_rng_chacha *st, al_rng *rng, const uint8_t seed[32]);

#endif
