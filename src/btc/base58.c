#include "btc/base58.h"

#include <stdbool.h>
#include <string.h>

#include "crypto/hash.h"
#include "util/mem.h"

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

#define CHECKSUM_LEN 4
/* Scratch sizes: log(256)/log(58) < 1.38 and log(58)/log(256) < 0.733. */
#define ENC_DIGITS(n) ((n)*138 / 100 + 1)
#define DEC_BYTES(n)  ((n)*733 / 1000 + 1)

/* Constant-time helpers (an xprv is a secret): all-ones when the condition holds,
 * else zero. Operands stay below 2^31. */
static uint32_t ct_eq(uint32_t a, uint32_t b)
{
	uint32_t x = a ^ b;

	return ((x | (0u - x)) >> 31) - 1;
}

/* The character for digit `d`, visiting the whole alphabet. */
static char ct_char(uint32_t d)
{
	uint32_t c = 0, i;

	for (i = 0; i < 58; i++)
		c |= ct_eq(i, d) & (uint8_t)alphabet[i];
	return (char)c;
}

/* The digit for character `c`, visiting the whole alphabet; *ok all-ones if valid. */
static uint32_t ct_digit(char c, uint32_t *ok)
{
	uint32_t d = 0, f = 0, i, m;

	for (i = 0; i < 58; i++) {
		m = ct_eq((uint8_t)alphabet[i], (uint8_t)c);
		d |= m & i;
		f |= m;
	}
	*ok = f;
	return d;
}

/* Number of leading entries equal to `v`. */
static size_t ct_leading(const uint8_t *p, size_t len, uint32_t v)
{
	uint32_t still = ~0u, n = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		still &= ct_eq(p[i], v);
		n += still & 1;
	}
	return n;
}

/* Index one past the most significant non-zero entry of a little-endian number. */
static size_t ct_top(const uint8_t *p, size_t len)
{
	uint32_t top = 0, m;
	size_t i;

	for (i = 0; i < len; i++) {
		m = ~ct_eq(p[i], 0);
		top = (m & (uint32_t)(i + 1)) | (~m & top);
	}
	return top;
}

al_err al_b58_encode(char *out, size_t outcap, const uint8_t *data, size_t len)
{
	uint8_t digits[ENC_DIGITS(AL_B58_MAX_DATA)];
	size_t zeros, size, i, j, top, n;
	al_err err = AL_OK;

	if (outcap)
		out[0] = '\0';
	if (len > AL_B58_MAX_DATA)
		return AL_E_TOO_LARGE;
	size = ENC_DIGITS(len);
	memset(digits, 0, sizeof(digits));
	/* digits (little-endian base 58) := digits * 256 + byte, over every digit. */
	for (i = 0; i < len; i++) {
		uint32_t carry = data[i];
		for (j = 0; j < size; j++) {
			carry += (uint32_t)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	/* Each leading zero byte is written as a leading '1'. The string's length and
	 * its leading '1's are public by design. */
	zeros = ct_leading(data, len, 0);
	top = ct_top(digits, size);
	al_declassify(&zeros, sizeof(zeros));
	al_declassify(&top, sizeof(top));
	n = zeros + top;
	if (outcap < n + 1) {
		err = AL_E_BUFSIZE;
		goto out;
	}
	memset(out, '1', zeros);
	for (i = 0; i < top; i++)
		out[zeros + i] = ct_char(digits[top - 1 - i]);
	out[n] = '\0';
out:
	al_memzero(digits, sizeof(digits));
	return err;
}

al_err al_b58_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *str, size_t len)
{
	uint8_t bytes[DEC_BYTES(AL_B58_MAX_STR)];
	uint32_t valid = ~0u, ok;
	size_t zeros, size, i, j, top;
	al_err err = AL_OK;

	*outlen = 0;
	if (len > AL_B58_MAX_STR)
		return AL_E_TOO_LARGE;
	size = DEC_BYTES(len);
	memset(bytes, 0, sizeof(bytes));
	/* bytes (little-endian base 256) := bytes * 58 + digit, over every byte. */
	for (i = 0; i < len; i++) {
		uint32_t carry = ct_digit(str[i], &ok);
		valid &= ok;
		for (j = 0; j < size; j++) {
			carry += (uint32_t)bytes[j] * 58;
			bytes[j] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	/* Validity, length and leading zeros are public by design. */
	zeros = ct_leading((const uint8_t *)str, len, '1');
	top = ct_top(bytes, size);
	al_declassify(&valid, sizeof(valid));
	al_declassify(&zeros, sizeof(zeros));
	al_declassify(&top, sizeof(top));
	if (!valid) {
		err = AL_E_B58_CHAR;
		goto out;
	}
	if (zeros + top > AL_B58_MAX_DATA) {
		err = AL_E_TOO_LARGE;
		goto out;
	}
	if (zeros + top > outcap) {
		err = AL_E_BUFSIZE;
		goto out;
	}
	memset(out, 0, zeros);
	for (i = 0; i < top; i++)
		out[zeros + i] = bytes[top - 1 - i];
	*outlen = zeros + top;
out:
	al_memzero(bytes, sizeof(bytes));
	return err;
}

al_err al_b58check_encode(char *out, size_t outcap, const uint8_t *payload, size_t len)
{
	uint8_t buf[AL_B58_MAX_DATA], hash[32];
	al_err err;

	if (outcap)
		out[0] = '\0';
	if (len > AL_B58_MAX_DATA - CHECKSUM_LEN)
		return AL_E_TOO_LARGE;
	memcpy(buf, payload, len);
	al_sha256d(hash, payload, len);
	memcpy(buf + len, hash, CHECKSUM_LEN);
	err = al_b58_encode(out, outcap, buf, len + CHECKSUM_LEN);
	al_memzero(buf, sizeof(buf));
	return err;
}

al_err al_b58check_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *str, size_t len)
{
	uint8_t buf[AL_B58_MAX_DATA], hash[32];
	size_t n = 0;
	bool ok;
	al_err err;

	*outlen = 0;
	err = al_b58_decode(buf, sizeof(buf), &n, str, len);
	if (err != AL_OK)
		goto out;
	if (n < CHECKSUM_LEN) {
		err = AL_E_TRUNCATED;
		goto out;
	}
	n -= CHECKSUM_LEN;
	al_sha256d(hash, buf, n);
	ok = al_memeq_ct(hash, buf + n, CHECKSUM_LEN);
	al_declassify(&ok, sizeof(ok));
	if (!ok) {
		err = AL_E_B58_CHECKSUM;
		goto out;
	}
	if (n > outcap) {
		err = AL_E_BUFSIZE;
		goto out;
	}
	memcpy(out, buf, n);
	*outlen = n;
out:
	al_memzero(buf, sizeof(buf));
	return err;
}
