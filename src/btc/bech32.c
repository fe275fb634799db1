#include "btc/bech32.h"

#include <string.h>

/* BIP 173: the data part "only consists of alphanumeric characters excluding "1",
 * "b", "i", and "o"", in this order of values. */
static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* BIP 350: "M = 0x2BC830A3"; Bech32's constant is 1. */
#define BECH32_CONST  1u
#define BECH32M_CONST 0x2bc830a3u

static uint32_t checksum_const(al_b32_variant v)
{
	return v == AL_B32_BECH32M ? BECH32M_CONST : BECH32_CONST;
}

/* BIP 173 bech32_polymod, one value at a time. */
static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
	uint32_t b = chk >> 25;
	int i;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (i = 0; i < 5; i++)
		chk ^= (0u - ((b >> i) & 1)) & gen[i];
	return chk;
}

static char to_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* BIP 173 bech32_hrp_expand: "[high hrp] 0 [low hrp]", over the lower-case form
 * ("The lowercase form is used when determining a character's value for checksum
 * purposes"). */
static uint32_t polymod_hrp(const char *hrp, size_t len)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < len; i++)
		chk = polymod_step(chk, (uint8_t)((uint8_t)to_lower(hrp[i]) >> 5));
	chk = polymod_step(chk, 0);
	for (i = 0; i < len; i++)
		chk = polymod_step(chk, (uint8_t)((uint8_t)to_lower(hrp[i]) & 31));
	return chk;
}

/* Value of a data character in either case, or -1. */
static int charval(char c)
{
	const char *p;

	c = to_lower(c);
	if (c == '\0')
		return -1;
	p = strchr(charset, c);
	return p ? (int)(p - charset) : -1;
}

static al_err check_hrp(const char *hrp, size_t *hrplen)
{
	size_t i, n = strlen(hrp);

	/* BIP 173: "1 to 83 US-ASCII characters, with each character having a value in
	 * the range [33-126]". */
	if (n == 0 || n > AL_B32_HRP_MAXLEN)
		return AL_E_B32_HRP;
	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)hrp[i];
		if (c < 33 || c > 126)
			return AL_E_B32_HRP;
		/* "Encoders MUST always output an all lowercase Bech32 string." */
		if (c >= 'A' && c <= 'Z')
			return AL_E_B32_CASE;
	}
	*hrplen = n;
	return AL_OK;
}

al_err al_b32_encode_long(char *out, size_t outcap, const char *hrp, const uint8_t *data,
                          size_t datalen, al_b32_variant variant, size_t maxlen)
{
	size_t hrplen = 0, total, i, p;
	uint32_t chk;

	if (outcap)
		out[0] = '\0';
	if (variant != AL_B32_BECH32 && variant != AL_B32_BECH32M)
		return AL_E_ARG;
	AL_TRY(check_hrp(hrp, &hrplen));
	if (datalen > maxlen)
		return AL_E_B32_LENGTH;
	total = hrplen + 1 + datalen + AL_B32_CHECKSUM_LEN;
	if (total > maxlen)
		return AL_E_B32_LENGTH;
	for (i = 0; i < datalen; i++)
		if (data[i] > 31)
			return AL_E_ARG;
	if (outcap < total + 1)
		return AL_E_BUFSIZE;

	chk = polymod_hrp(hrp, hrplen);
	memcpy(out, hrp, hrplen);
	p = hrplen;
	out[p++] = '1';
	for (i = 0; i < datalen; i++) {
		chk = polymod_step(chk, data[i]);
		out[p++] = charset[data[i]];
	}
	/* BIP 173 bech32_create_checksum: polymod(values + [0]*6) ^ const. */
	for (i = 0; i < AL_B32_CHECKSUM_LEN; i++)
		chk = polymod_step(chk, 0);
	chk ^= checksum_const(variant);
	for (i = 0; i < AL_B32_CHECKSUM_LEN; i++)
		out[p++] = charset[(chk >> (5 * (5 - i))) & 31];
	out[p] = '\0';
	return AL_OK;
}

al_err al_b32_encode(char *out, size_t outcap, const char *hrp, const uint8_t *data, size_t datalen,
                     al_b32_variant variant)
{
	return al_b32_encode_long(out, outcap, hrp, data, datalen, variant, AL_B32_MAXLEN);
}

/* Everything about the string's shape that needs no output buffer; *sep gets the
 * position of the separator. */
static al_err check_shape(const char *str, size_t len, size_t maxlen, size_t *sep)
{
	bool lower = false, upper = false;
	size_t i;

	if (len > maxlen)
		return AL_E_B32_LENGTH;
	for (i = 0; i < len; i++) {
		uint8_t c = (uint8_t)str[i];
		if (c < 33 || c > 126)
			return AL_E_B32_CHAR;
		lower |= (c >= 'a' && c <= 'z');
		upper |= (c >= 'A' && c <= 'Z');
	}
	/* "Decoders MUST NOT accept strings where some characters are uppercase and
	 * some are lowercase". */
	if (lower && upper)
		return AL_E_B32_CASE;
	/* "the last one in the string is the separator". */
	for (i = len; i > 0 && str[i - 1] != '1'; i--)
		;
	if (i == 0)
		return AL_E_B32_NO_SEP;
	*sep = i - 1;
	if (*sep == 0 || *sep > AL_B32_HRP_MAXLEN)
		return AL_E_B32_HRP;
	/* "The data part, which is at least 6 characters long". */
	if (len - *sep - 1 < AL_B32_CHECKSUM_LEN)
		return AL_E_B32_LENGTH;
	return AL_OK;
}

al_err al_b32_decode_long(char *hrp, size_t hrpcap, uint8_t *data, size_t datacap, size_t *datalen,
                          al_b32_variant *variant, const char *str, size_t len, size_t maxlen)
{
	size_t sep = 0, i, ndata;
	uint32_t chk;

	*datalen = 0;
	if (hrpcap)
		hrp[0] = '\0';
	AL_TRY(check_shape(str, len, maxlen, &sep));
	chk = polymod_hrp(str, sep);
	for (i = sep + 1; i < len; i++) {
		int v = charval(str[i]);
		if (v < 0)
			return AL_E_B32_CHAR;
		chk = polymod_step(chk, (uint8_t)v);
	}
	if (chk == BECH32_CONST)
		*variant = AL_B32_BECH32;
	else if (chk == BECH32M_CONST)
		*variant = AL_B32_BECH32M;
	else
		return AL_E_B32_CHECKSUM;

	ndata = len - sep - 1 - AL_B32_CHECKSUM_LEN;
	if (hrpcap < sep + 1 || datacap < ndata)
		return AL_E_BUFSIZE;
	for (i = 0; i < sep; i++)
		hrp[i] = to_lower(str[i]);
	hrp[sep] = '\0';
	for (i = 0; i < ndata; i++)
		data[i] = (uint8_t)charval(str[sep + 1 + i]);
	*datalen = ndata;
	return AL_OK;
}

al_err al_b32_decode(char *hrp, size_t hrpcap, uint8_t *data, size_t datacap, size_t *datalen,
                     al_b32_variant *variant, const char *str, size_t len)
{
	return al_b32_decode_long(hrp, hrpcap, data, datacap, datalen, variant, str, len,
	                          AL_B32_MAXLEN);
}

al_err al_b32_convert_bits(uint8_t *out, size_t outcap, size_t *outlen, unsigned tobits,
                           const uint8_t *in, size_t inlen, unsigned frombits, bool pad)
{
	uint32_t acc = 0, maxv, maxacc;
	unsigned bits = 0;
	size_t i, n = 0;

	*outlen = 0;
	if (tobits < 1 || tobits > 8 || frombits < 1 || frombits > 8)
		return AL_E_ARG;
	maxv = (1u << tobits) - 1;
	maxacc = (1u << (frombits + tobits - 1)) - 1;
	for (i = 0; i < inlen; i++) {
		if (in[i] >> frombits)
			return AL_E_ARG;
		acc = ((acc << frombits) | in[i]) & maxacc;
		bits += frombits;
		while (bits >= tobits) {
			bits -= tobits;
			if (n >= outcap)
				return AL_E_BUFSIZE;
			out[n++] = (uint8_t)((acc >> bits) & maxv);
		}
	}
	if (pad) {
		if (bits) {
			if (n >= outcap)
				return AL_E_BUFSIZE;
			out[n++] = (uint8_t)((acc << (tobits - bits)) & maxv);
		}
	} else if (bits >= frombits || ((acc << (tobits - bits)) & maxv)) {
		/* BIP 173: the incomplete group "MUST be 4 bits or less, MUST be all
		 * zeroes". */
		return AL_E_B32_PADDING;
	}
	*outlen = n;
	return AL_OK;
}
