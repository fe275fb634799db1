/* Sealed store records (store/seal.h) from an untrusted operator.
 *
 * Any bytes are opened as the record of object ("ns", "key") at versions 1 and 2.
 * Opening must never crash and must fail with a store error, unless the input is,
 * byte for byte, one of the two records this target sealed itself (the corpus
 * seeds): then it must succeed and yield exactly what was sealed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rng.h"
#include "store/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REC 512

struct authentic {
	uint8_t rec[MAX_REC];
	size_t len;
	int64_t version;
	const char *value;
};

static al_seal_keys keys;
static uint8_t name[AL_SEAL_NAME_LEN];
static struct authentic good[2] = {{.version = 1, .value = "hello, store"},
                                   {.version = 2, .value = ""}};

static void setup(void)
{
	static const uint8_t seed[32] = {0x5e, 0xed};
	static const uint8_t rng_seed[32] = {0xf0, 0x22};
	static bool done;
	al_rng_chacha chacha;
	al_rng rng;
	int i;

	if (done)
		return;
	done = true;
	al_rng_chacha_init(&chacha, &rng, rng_seed);
	if (al_seal_keys_derive(&keys, seed, sizeof(seed)) != AL_OK ||
	    al_seal_name(&keys, name, "ns", "key") != AL_OK)
		abort();
	for (i = 0; i < 2; i++)
		if (al_seal_record(&keys, &rng, good[i].rec, MAX_REC, &good[i].len, "ns", "key",
		                   good[i].version, 7, (const uint8_t *)good[i].value,
		                   strlen(good[i].value)) != AL_OK)
			abort();
}

static bool is_store_error(al_err e)
{
	return e >= AL_E_STORE_TAMPERED && e <= AL_E_STORE_BACKEND;
}

static void try_open(const uint8_t *data, size_t size, const struct authentic *g)
{
	uint8_t *rec = malloc(size ? size : 1);
	al_seal_view v;
	al_err e;

	if (!rec)
		abort();
	memcpy(rec, data, size);
	e = al_seal_open(&keys, &v, rec, size, "ns", name, g->version);
	if (e == AL_OK) {
		/* Only the authentic record may open, and to exactly what was sealed. */
		if (size != g->len || memcmp(data, g->rec, size) != 0)
			abort();
		if (v.len != strlen(g->value) || memcmp(v.value, g->value, v.len) != 0 ||
		    v.keylen != 3 || memcmp(v.key, "key", 3) != 0 || v.global_version != 7)
			abort();
	} else if (!is_store_error(e)) {
		abort();
	}
	free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	try_open(data, size, &good[0]);
	try_open(data, size, &good[1]);
	return 0;
}
