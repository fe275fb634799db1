/* Fuzz BIP 32 extended key parsing: Base58Check strings and raw 78-byte
 * serializations. Whatever parses must serialize back to the same input, and
 * derivation from it must not crash. Paths are fuzzed too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btc/base58.h"
#include "btc/bip32.h"
#include "crypto/secp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const al_secp *ctx(void)
{
	static al_secp *s;
	static void *mem;

	if (!s) {
		size_t len = (al_secp_size() + 15) & ~(size_t)15;
		mem = aligned_alloc(16, len);
		if (!mem || al_secp_create(&s, mem, len, NULL) != AL_OK)
			abort();
	}
	return s;
}

static void exercise(const al_xkey *k)
{
	al_xkey c;

	if (al_bip32_ckd(ctx(), &c, k, 0) == AL_OK && c.depth != k->depth + 1)
		abort();
	if (al_bip32_ckd(ctx(), &c, k, AL_BIP32_HARDENED) == AL_OK && !k->has_priv)
		abort();
	al_xkey_clear(&c);
}

static void check_base58(const char *s, size_t size)
{
	char out[AL_BIP32_STR_BUFLEN];
	al_xkey k;
	al_net net;

	if (al_bip32_from_base58(ctx(), &k, &net, s, size) != AL_OK)
		return;
	if (al_bip32_to_base58(ctx(), out, sizeof(out), &k, net) != AL_OK || strlen(out) != size ||
	    memcmp(out, s, size) != 0)
		abort();
	exercise(&k);
	al_xkey_clear(&k);
}

static void check_raw(const uint8_t *data, size_t size)
{
	uint8_t out[AL_BIP32_SERIAL_LEN];
	al_xkey k;
	al_net net;

	if (al_bip32_parse(ctx(), &k, &net, data, size) != AL_OK)
		return;
	if (al_bip32_serialize(ctx(), out, &k, net) != AL_OK || memcmp(out, data, size) != 0)
		abort();
	exercise(&k);
	al_xkey_clear(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t path[8];
	size_t n;

	check_base58((const char *)data, size);
	check_raw(data, size);
	/* Whatever parses is canonical, so it cannot be longer than its indices need. */
	if (al_bip32_path_parse(path, 8, &n, (const char *)data, size) == AL_OK &&
	    size > 1 + n * 12)
		abort();
	return 0;
}
