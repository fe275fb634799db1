/* The seed file's contents (host/seed.h, al_seed_parse: what al_seed_read does with the
 * bytes it read).
 *
 * Whatever the file holds, the result is AL_OK with the canonical mnemonic (the words
 * joined by single spaces, exactly what BIP 39 gives back for its entropy, and a fixed
 * point of al_seed_parse) made of every non-blank byte of the file, or a size or BIP 39
 * error with the output wiped. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/seed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes that are not blanks (seed.h: spaces, tabs, CR, LF, VT, FF). */
static size_t non_blank(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += strchr(" \t\r\n\v\f", p[i]) == NULL || p[i] == '\0';
	return k;
}

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[AL_BIP39_MNEMONIC_BUFLEN], again[AL_BIP39_MNEMONIC_BUFLEN];
	char canon[AL_BIP39_MNEMONIC_BUFLEN];
	uint8_t entropy[AL_BIP39_ENTROPY_MAX];
	size_t n, len;
	al_err e;

	memset(out, 0x55, sizeof(out));
	e = al_seed_parse(out, (const char *)data, size);
	if (e != AL_OK) {
		if (e != AL_E_TOO_LARGE && e != AL_E_BIP39_WORDS && e != AL_E_BIP39_WORD &&
		    e != AL_E_BIP39_CHECKSUM && e != AL_E_BIP39_ASCII)
			abort();
		if (!all_zero(out, sizeof(out)))
			abort();
		return 0;
	}
	if (size > AL_SEED_FILE_MAX || memchr(out, 0, sizeof(out)) == NULL)
		abort();
	len = strlen(out);
	if (non_blank(out, len) != non_blank((const char *)data, size))
		abort();
	if (al_bip39_to_entropy(entropy, sizeof(entropy), &n, out, len) != AL_OK ||
	    al_bip39_from_entropy(canon, sizeof(canon), entropy, n) != AL_OK ||
	    strcmp(canon, out) != 0)
		abort();
	if (al_seed_parse(again, out, len) != AL_OK || strcmp(again, out) != 0)
		abort();
	return 0;
}
