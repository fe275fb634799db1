/* Base58 and Base58Check (btc/base58.h): known encodings, invalid characters,
 * checksums, truncated and oversized input, buffer bounds. */
#include <string.h>

#include "btc/base58.h"
#include "test.h"

/* Pairs recomputed with an independent big-integer implementation. */
static const struct {
	const char *hex, *b58;
} known[] = {
    {"", ""},
    {"00", "1"},
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
};

static void test_known(void)
{
	char out[AL_B58_MAX_STR + 1];
	uint8_t bin[AL_B58_MAX_DATA];
	size_t i, len, n;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const uint8_t *data = al_t_unhex(known[i].hex, &len);
		CHECK_OK(al_b58_encode(out, sizeof(out), data, len));
		CHECK(strcmp(out, known[i].b58) == 0);
		CHECK_OK(al_b58_decode(bin, sizeof(bin), &n, known[i].b58, strlen(known[i].b58)));
		CHECK(n == len && memcmp(bin, data, len) == 0);
	}
}

static void test_roundtrip(void)
{
	uint8_t data[AL_B58_MAX_DATA], back[AL_B58_MAX_DATA];
	char out[AL_B58_MAX_STR + 1];
	size_t len, n, i;

	for (len = 0; len <= AL_B58_MAX_DATA; len++) {
		for (i = 0; i < len; i++)
			data[i] = (uint8_t)(i < len / 8 ? 0 : 0xff - i * 7);
		CHECK_OK(al_b58_encode(out, sizeof(out), data, len));
		CHECK_OK(al_b58_decode(back, sizeof(back), &n, out, strlen(out)));
		CHECK(n == len && memcmp(back, data, len) == 0);
	}
	/* The largest input needs exactly AL_B58_MAX_STR characters. */
	memset(data, 0xff, sizeof(data));
	CHECK_OK(al_b58_encode(out, sizeof(out), data, sizeof(data)));
	CHECK(strlen(out) == AL_B58_MAX_STR);
	CHECK_ERR(al_b58_encode(out, AL_B58_MAX_STR, data, sizeof(data)), AL_E_BUFSIZE);
	CHECK(out[0] == '\0');
}

static void test_errors(void)
{
	uint8_t bin[AL_B58_MAX_DATA + 8], big[AL_B58_MAX_DATA + 1] = {1};
	char out[AL_B58_MAX_STR + 2], s[AL_B58_MAX_STR + 1];
	size_t n;

	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, "0", 1), AL_E_B58_CHAR);
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, "abO", 3), AL_E_B58_CHAR);
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, "I", 1), AL_E_B58_CHAR);
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, "l", 1), AL_E_B58_CHAR);
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, "2g ", 3), AL_E_B58_CHAR);
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, "2g\0", 3), AL_E_B58_CHAR);
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, "2g\xff", 3), AL_E_B58_CHAR);

	/* Oversized: more bytes than AL_B58_MAX_DATA, more characters than
	 * AL_B58_MAX_STR, or a value above 128 bytes in 175 characters. */
	CHECK_ERR(al_b58_encode(out, sizeof(out), big, sizeof(big)), AL_E_TOO_LARGE);
	memset(s, 'z', sizeof(s));
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, s, sizeof(s)), AL_E_TOO_LARGE);
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, s, AL_B58_MAX_STR), AL_E_TOO_LARGE);
	memset(s, '1', sizeof(s));
	CHECK_ERR(al_b58_decode(bin, sizeof(bin), &n, s, AL_B58_MAX_STR), AL_E_TOO_LARGE);
	CHECK_OK(al_b58_decode(bin, sizeof(bin), &n, s, AL_B58_MAX_DATA));
	CHECK(n == AL_B58_MAX_DATA);
	/* Output buffer one short. */
	CHECK_ERR(al_b58_decode(bin, 2, &n, "a3gV", 4), AL_E_BUFSIZE);
	CHECK(n == 0);
	CHECK_OK(al_b58_decode(bin, 3, &n, "a3gV", 4));
}

static void test_check(void)
{
	const uint8_t payload[] = {0x00, 0x01, 0x02, 0x03, 0xfe};
	uint8_t out[AL_B58_MAX_DATA], big[AL_B58_MAX_DATA] = {0};
	char s[AL_B58_MAX_STR + 1], t[AL_B58_MAX_STR + 1];
	size_t n, len, i;

	CHECK_OK(al_b58check_encode(s, sizeof(s), payload, sizeof(payload)));
	CHECK_OK(al_b58check_decode(out, sizeof(out), &n, s, strlen(s)));
	CHECK(n == sizeof(payload) && memcmp(out, payload, n) == 0);
	CHECK_ERR(al_b58check_decode(out, sizeof(payload) - 1, &n, s, strlen(s)), AL_E_BUFSIZE);
	/* Any changed character breaks the checksum (or the leading zero). */
	len = strlen(s);
	for (i = 0; i < len; i++) {
		memcpy(t, s, len + 1);
		t[i] = t[i] == 'z' ? 'y' : 'z';
		CHECK(al_b58check_decode(out, sizeof(out), &n, t, len) != AL_OK);
	}
	/* Truncated: every prefix fails; fewer than 4 bytes is AL_E_TRUNCATED. */
	for (i = 0; i < len; i++)
		CHECK(al_b58check_decode(out, sizeof(out), &n, s, i) != AL_OK);
	CHECK_ERR(al_b58check_decode(out, sizeof(out), &n, "", 0), AL_E_TRUNCATED);
	CHECK_ERR(al_b58check_decode(out, sizeof(out), &n, "2g", 2), AL_E_TRUNCATED);
	/* An empty payload is just the checksum. */
	CHECK_OK(al_b58check_encode(s, sizeof(s), payload, 0));
	CHECK_OK(al_b58check_decode(out, sizeof(out), &n, s, strlen(s)));
	CHECK(n == 0);
	/* Oversized payload. */
	CHECK_ERR(al_b58check_encode(s, sizeof(s), big, AL_B58_MAX_DATA - 3), AL_E_TOO_LARGE);
	CHECK_OK(al_b58check_encode(s, sizeof(s), big, AL_B58_MAX_DATA - 4));
}

int main(void)
{
	test_known();
	test_roundtrip();
	test_errors();
	test_check();
	return al_t_finish();
}
