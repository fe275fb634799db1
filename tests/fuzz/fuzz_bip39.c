/* Fuzz BIP 39 mnemonic parsing: arbitrary bytes as a mnemonic must never crash, and
 * whatever parses must be exactly the mnemonic its entropy encodes to (the format is
 * strict: lower-case list words, single spaces). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btc/bip39.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint8_t ent[AL_BIP39_ENTROPY_MAX];
	char m[AL_BIP39_MNEMONIC_BUFLEN];
	uint16_t idx;
	size_t n;

	if (al_bip39_to_entropy(ent, sizeof(ent), &n, s, size) == AL_OK) {
		if (al_bip39_from_entropy(m, sizeof(m), ent, n) != AL_OK || strlen(m) != size ||
		    memcmp(m, s, size) != 0)
			abort();
	}
	if (al_bip39_word_index(&idx, s, size) == AL_OK &&
	    (idx >= AL_BIP39_WORDCOUNT || strlen(al_bip39_english[idx]) != size))
		abort();
	/* Raw bytes as entropy: every valid length round-trips. */
	if (al_bip39_from_entropy(m, sizeof(m), data, size) == AL_OK) {
		if (al_bip39_to_entropy(ent, sizeof(ent), &n, m, strlen(m)) != AL_OK || n != size ||
		    memcmp(ent, data, size) != 0)
			abort();
	}
	return 0;
}
