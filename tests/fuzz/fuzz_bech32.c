/* Fuzz Bech32/Bech32m strings and segwit addresses: decoding arbitrary bytes must
 * never crash, and whatever decodes must encode back to the input in lower case. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btc/address.h"
#include "btc/bech32.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LONG_MAX_LEN 1024

static void lower(char *out, const uint8_t *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i]);
	out[len] = '\0';
}

static void check_string(const char *s, const char *low, size_t size, size_t maxlen)
{
	static char hrp[LONG_MAX_LEN + 1], enc[LONG_MAX_LEN + 1];
	static uint8_t d[LONG_MAX_LEN], bytes[LONG_MAX_LEN], back[LONG_MAX_LEN];
	al_b32_variant v;
	size_t n, nb, n5;

	if (al_b32_decode_long(hrp, sizeof(hrp), d, sizeof(d), &n, &v, s, size, maxlen) != AL_OK)
		return;
	if (al_b32_encode_long(enc, sizeof(enc), hrp, d, n, v, maxlen) != AL_OK ||
	    strcmp(enc, low) != 0)
		abort();
	/* 5 -> 8 -> 5 is the identity whenever the padding is valid. */
	if (al_b32_convert_bits(bytes, sizeof(bytes), &nb, 8, d, n, 5, false) == AL_OK) {
		if (al_b32_convert_bits(back, sizeof(back), &n5, 5, bytes, nb, 8, true) != AL_OK ||
		    n5 != n || memcmp(back, d, n) != 0)
			abort();
	}
}

static void check_address(const char *s, const char *low, size_t size)
{
	uint8_t prog[AL_WITPROG_MAX], script[AL_SEGWIT_SCRIPT_MAXLEN];
	char enc[AL_SEGWIT_ADDR_BUFLEN];
	size_t n, slen;
	unsigned ver;
	int net;

	for (net = AL_NET_MAINNET; net <= AL_NET_REGTEST; net++) {
		if (al_segwit_addr_decode(&ver, prog, &n, (al_net)net, s, size) != AL_OK)
			continue;
		if (al_segwit_addr_encode(enc, sizeof(enc), (al_net)net, ver, prog, n) != AL_OK ||
		    strcmp(enc, low) != 0)
			abort();
		if (al_segwit_script(script, sizeof(script), &slen, ver, prog, n) != AL_OK ||
		    slen != n + 2)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char low[LONG_MAX_LEN + 1];
	const char *s = (const char *)data;

	if (size > LONG_MAX_LEN)
		size = LONG_MAX_LEN;
	lower(low, data, size);
	check_string(s, low, size, AL_B32_MAXLEN);
	check_string(s, low, size, LONG_MAX_LEN);
	check_address(s, low, size);
	return 0;
}
