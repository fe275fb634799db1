/* Fuzz the BOLT #3 per-commitment secret store.
 *
 * Input byte 0 picks a mode:
 *  - even: seed mode. Bytes 1..32 are a seed; each further byte is an operation on
 *    the secrets generated from it: insert the right secret at the next index,
 *    insert a corrupted one, or insert at a wrong index. Until a corrupted secret
 *    is accepted (possible only where BOLT #3's check cannot see it, at an odd
 *    index), every outcome is predicted exactly and every lookup must equal
 *    generate_from_seed.
 *  - odd: raw mode. Each operation is a selector byte and a 32-byte secret at an
 *    arbitrary or the expected index.
 * In both modes the store must never hold two secrets where one, by its prefix,
 * should derive the other but does not, and lookups must never misbehave. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ln/shachain.h"

#define MAX_OPS 256

/* BOLT #3 derive_secret(base, bits, I) is generate_from_seed(base, I) restricted to
 * the low `bits` bits of I; the store's own prefix logic is not used. */
static void derive(uint8_t out[32], const uint8_t base[32], unsigned bits, uint64_t index)
{
	uint64_t mask = bits >= 48 ? AL_SHACHAIN_FIRST_INDEX : ((1ULL << bits) - 1);

	if (al_shachain_from_seed(out, base, index & mask) != AL_OK)
		abort();
}

static unsigned ctz48(uint64_t i)
{
	unsigned b;

	for (b = 0; b < 48; b++)
		if ((i >> b) & 1)
			return b;
	return 48;
}

/* Every stored pair (b, c < b) whose indices share b's prefix must be consistent. */
static void check_store(const al_shachain *s)
{
	uint8_t d[32];
	unsigned b, c;

	for (b = 0; b < AL_SHACHAIN_SLOTS; b++) {
		uint64_t bi = s->known[b].index, mask = ~((1ULL << b) - 1);

		if (!((s->valid >> b) & 1))
			continue;
		if (ctz48(bi) != b || bi > AL_SHACHAIN_FIRST_INDEX)
			abort();
		for (c = 0; c < b; c++) {
			if (!((s->valid >> c) & 1) || (s->known[c].index & mask) != bi)
				continue;
			derive(d, s->known[b].secret, b, s->known[c].index);
			if (memcmp(d, s->known[c].secret, 32))
				abort();
		}
	}
}

static void check_lookup(const al_shachain *s, uint64_t index, const uint8_t *seed)
{
	uint8_t got[32], want[32];
	uint64_t min;
	al_err e = al_shachain_get(s, index, got);
	bool have =
	    al_shachain_min_index(s, &min) && index >= min && index <= AL_SHACHAIN_FIRST_INDEX;

	if (have != (e == AL_OK))
		abort();
	if (e == AL_OK && seed) {
		if (al_shachain_from_seed(want, seed, index) != AL_OK || memcmp(got, want, 32))
			abort();
	}
}

static void seed_mode(const uint8_t *data, size_t len)
{
	uint8_t seed[32] = {0}, secret[32];
	al_shachain s;
	bool tainted = false;
	size_t i, ops = 0;

	memcpy(seed, data, len < 32 ? len : 32);
	data += len < 32 ? len : 32;
	len -= len < 32 ? len : 32;
	al_shachain_init(&s);
	for (i = 0; i < len && ops < MAX_OPS; i++, ops++) {
		uint64_t next = s.next_index, idx = next;
		unsigned op = data[i] & 3, arg = data[i] >> 2;
		al_err e, want = AL_OK;

		if (al_shachain_from_seed(secret, seed, next) != AL_OK)
			abort();
		if (op == 2) {
			/* Corrupt: detectable iff some stored secret should derive from it. */
			secret[arg % 32] ^= (uint8_t)(1u << (arg % 8));
			if (ctz48(next) > 0 && s.count > 0)
				want = AL_E_SHACHAIN_MISMATCH;
		} else if (op == 3) {
			idx = arg & 1 ? next + 1 + (arg >> 1) : next - 1 - (arg >> 1);
			want = idx > AL_SHACHAIN_FIRST_INDEX ? AL_E_RANGE : AL_E_SHACHAIN_INDEX;
		}
		e = al_shachain_insert(&s, idx, secret);
		if (!tainted && e != want)
			abort();
		if (e == AL_OK && op == 2)
			tainted = true;
		check_store(&s);
		if (!tainted) {
			check_lookup(&s, next, seed);
			check_lookup(&s, next + 1 + arg, seed);
			check_lookup(&s, next - 1, seed);
		}
	}
	al_shachain_clear(&s);
}

static void raw_mode(const uint8_t *data, size_t len)
{
	uint8_t got[32];
	al_shachain s;
	size_t ops = 0;
	al_err e;

	al_shachain_init(&s);
	while (len >= 33 && ops++ < MAX_OPS) {
		uint8_t sel = data[0];
		uint64_t idx = s.next_index;

		if (sel & 1)
			idx = (sel & 2) ? AL_SHACHAIN_FIRST_INDEX - (sel >> 2)
			                : AL_SHACHAIN_FIRST_INDEX + (sel >> 2);
		e = al_shachain_insert(&s, idx, data + 1);
		if (e != AL_OK && e != AL_E_RANGE && e != AL_E_SHACHAIN_INDEX &&
		    e != AL_E_SHACHAIN_MISMATCH)
			abort();
		check_store(&s);
		check_lookup(&s, idx, NULL);
		e = al_shachain_get(&s, AL_SHACHAIN_FIRST_INDEX - sel, got);
		if (e != AL_OK && e != AL_E_SHACHAIN_UNKNOWN)
			abort();
		data += 33;
		len -= 33;
	}
	al_shachain_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		raw_mode(data + 1, size - 1);
	else
		seed_mode(data + 1, size - 1);
	return 0;
}
