#include "util/hex.h"

#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

al_err al_hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *hex, size_t hexlen)
{
	size_t i;

	*outlen = 0;
	if (hexlen % 2)
		return AL_E_HEX;
	if (hexlen / 2 > outcap)
		return AL_E_BUFSIZE;
	for (i = 0; i < hexlen / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return AL_E_HEX;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	*outlen = hexlen / 2;
	return AL_OK;
}

al_err al_hex_decode_exact(uint8_t *out, size_t len, const char *hex)
{
	size_t got;
	size_t hexlen = strlen(hex);

	if (hexlen != 2 * len)
		return AL_E_HEX;
	return al_hex_decode(out, len, &got, hex, hexlen);
}

al_err al_hex_encode(char *out, size_t outcap, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (len > (SIZE_MAX - 1) / 2 || outcap < 2 * len + 1)
		return AL_E_BUFSIZE;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
	return AL_OK;
}
