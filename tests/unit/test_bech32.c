/* Bech32/Bech32m (btc/bech32.h) and segwit addresses (btc/address.h): encoding
 * rules, every error path, truncated and oversized input, and single-character
 * errors in an address always being caught. */
#include <string.h>

#include "btc/address.h"
#include "btc/bech32.h"
#include "test.h"

/* BIP 350's P2TR example (program: the x coordinate of G). */
static const char p2tr[] = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0";
static const char *p2tr_prog = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
static const char p2wpkh[] = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";

static void test_convert_bits(void)
{
	uint8_t in[40], five[64], back[40];
	size_t len, n5, n8, i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (len = 0; len <= sizeof(in); len++) {
		CHECK_OK(al_b32_convert_bits(five, sizeof(five), &n5, 5, in, len, 8, true));
		CHECK(n5 == (len * 8 + 4) / 5);
		CHECK_OK(al_b32_convert_bits(back, sizeof(back), &n8, 8, five, n5, 5, false));
		CHECK(n8 == len && memcmp(back, in, len) == 0);
	}
	/* Five 5-bit values are 25 bits: one spare bit beyond 3 bytes is fine if zero. */
	{
		const uint8_t ok[2] = {0x1f, 0x1c}, nonzero[2] = {0x1f, 0x1d};
		const uint8_t toolong[3] = {0, 0, 0}; /* 15 bits: 7 bits of padding */
		CHECK_OK(al_b32_convert_bits(back, sizeof(back), &n8, 8, ok, 2, 5, false));
		CHECK(n8 == 1 && back[0] == 0xff);
		CHECK_ERR(al_b32_convert_bits(back, sizeof(back), &n8, 8, nonzero, 2, 5, false),
		          AL_E_B32_PADDING);
		CHECK_ERR(al_b32_convert_bits(back, sizeof(back), &n8, 8, toolong, 3, 5, false),
		          AL_E_B32_PADDING);
	}
	{
		const uint8_t big = 32;
		CHECK_ERR(al_b32_convert_bits(back, sizeof(back), &n8, 8, &big, 1, 5, false),
		          AL_E_ARG);
		CHECK_ERR(al_b32_convert_bits(back, sizeof(back), &n8, 9, in, 1, 8, true),
		          AL_E_ARG);
	}
	CHECK_ERR(al_b32_convert_bits(five, 7, &n5, 5, in, 5, 8, true), AL_E_BUFSIZE);
	CHECK_OK(al_b32_convert_bits(five, 8, &n5, 5, in, 5, 8, true));
	CHECK_ERR(al_b32_convert_bits(five, 1, &n5, 5, in, 1, 8, true), AL_E_BUFSIZE);
}

static void test_encode(void)
{
	uint8_t data[90] = {0};
	char out[AL_B32_MAXLEN + 1], hrp84[85];

	CHECK_OK(al_b32_encode(out, sizeof(out), "a", NULL, 0, AL_B32_BECH32));
	CHECK(strcmp(out, "a12uel5l") == 0);
	CHECK_OK(al_b32_encode(out, sizeof(out), "a", NULL, 0, AL_B32_BECH32M));
	CHECK(strcmp(out, "a1lqfn3a") == 0);
	/* Exactly enough room, then one byte short. */
	CHECK_OK(al_b32_encode(out, 9, "a", NULL, 0, AL_B32_BECH32));
	CHECK_ERR(al_b32_encode(out, 8, "a", NULL, 0, AL_B32_BECH32), AL_E_BUFSIZE);
	CHECK(out[0] == '\0');
	CHECK_ERR(al_b32_encode(out, sizeof(out), "", NULL, 0, AL_B32_BECH32), AL_E_B32_HRP);
	CHECK_ERR(al_b32_encode(out, sizeof(out), "A", NULL, 0, AL_B32_BECH32), AL_E_B32_CASE);
	CHECK_ERR(al_b32_encode(out, sizeof(out), "a b", NULL, 0, AL_B32_BECH32), AL_E_B32_HRP);
	CHECK_ERR(al_b32_encode(out, sizeof(out), "\x7f", NULL, 0, AL_B32_BECH32), AL_E_B32_HRP);
	CHECK_ERR(al_b32_encode(out, sizeof(out), "a", data, 1, (al_b32_variant)3), AL_E_ARG);
	data[0] = 32;
	CHECK_ERR(al_b32_encode(out, sizeof(out), "a", data, 1, AL_B32_BECH32), AL_E_ARG);
	data[0] = 0;
	/* 90 characters is the limit: hrp 1 + '1' + 82 + 6. */
	CHECK_OK(al_b32_encode(out, sizeof(out), "a", data, 82, AL_B32_BECH32));
	CHECK(strlen(out) == 90);
	CHECK_ERR(al_b32_encode(out, sizeof(out), "a", data, 83, AL_B32_BECH32), AL_E_B32_LENGTH);
	memset(hrp84, 'a', 84);
	hrp84[84] = '\0';
	CHECK_ERR(al_b32_encode(out, sizeof(out), hrp84, NULL, 0, AL_B32_BECH32), AL_E_B32_HRP);
	hrp84[83] = '\0';
	CHECK_OK(al_b32_encode(out, sizeof(out), hrp84, NULL, 0, AL_B32_BECH32));
}

static void test_decode(void)
{
	char hrp[AL_B32_HRP_MAXLEN + 1], big[200], enc[201];
	uint8_t data[200];
	al_b32_variant v;
	size_t n, len = strlen(p2wpkh), i;

	CHECK_OK(al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &v, p2wpkh, len));
	CHECK(strcmp(hrp, "bc") == 0 && n == 33 && v == AL_B32_BECH32);
	/* Every proper prefix fails (and none reads past its length). */
	for (i = 0; i < len; i++)
		CHECK(al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &v, p2wpkh, i) !=
		      AL_OK);
	CHECK_ERR(al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &v, "", 0),
	          AL_E_B32_NO_SEP);
	/* A NUL byte is a character like any other, not a terminator. */
	CHECK_ERR(al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &v, "a12uel5l\0", 9),
	          AL_E_B32_CHAR);
	/* Output buffers one short. */
	CHECK_ERR(al_b32_decode(hrp, 2, data, sizeof(data), &n, &v, p2wpkh, len), AL_E_BUFSIZE);
	CHECK_ERR(al_b32_decode(hrp, 3, data, 32, &n, &v, p2wpkh, len), AL_E_BUFSIZE);
	CHECK_OK(al_b32_decode(hrp, 3, data, 33, &n, &v, p2wpkh, len));

	/* Oversized: 91 characters fails; the long variant accepts it. */
	memset(data, 0, sizeof(data));
	CHECK_OK(al_b32_encode_long(enc, sizeof(enc), "a", data, 83, AL_B32_BECH32, 200));
	CHECK(strlen(enc) == 91);
	CHECK_ERR(al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &v, enc, 91),
	          AL_E_B32_LENGTH);
	CHECK_OK(al_b32_decode_long(hrp, sizeof(hrp), data, sizeof(data), &n, &v, enc, 91, 200));
	CHECK(n == 83);
	memset(big, 'q', sizeof(big));
	CHECK_ERR(al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &v, big, sizeof(big)),
	          AL_E_B32_LENGTH);
	CHECK_ERR(al_b32_decode_long(hrp, sizeof(hrp), data, sizeof(data), &n, &v, big, sizeof(big),
	                             sizeof(big)),
	          AL_E_B32_NO_SEP);
}

/* Bech32 detects any error affecting up to 4 characters: every substitution of one
 * data character in an address must fail. */
static void test_single_errors(void)
{
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	char s[sizeof(p2tr)];
	uint8_t prog[AL_WITPROG_MAX];
	size_t i, j, n, undetected = 0;
	unsigned ver;

	for (i = 3; i < sizeof(p2tr) - 1; i++) {
		for (j = 0; j < 32; j++) {
			if (cs[j] == p2tr[i])
				continue;
			memcpy(s, p2tr, sizeof(p2tr));
			s[i] = cs[j];
			undetected += al_segwit_addr_decode(&ver, prog, &n, AL_NET_MAINNET, s,
			                                    strlen(s)) == AL_OK;
		}
	}
	CHECK(undetected == 0);
}

static void test_address(void)
{
	uint8_t prog[AL_WITPROG_MAX], script[AL_SEGWIT_SCRIPT_MAXLEN], zeros[41] = {0};
	char out[AL_SEGWIT_ADDR_BUFLEN];
	size_t n = 0, slen;
	unsigned ver = 99;
	const uint8_t *want = al_t_unhex(p2tr_prog, NULL);

	CHECK_OK(al_segwit_addr_decode(&ver, prog, &n, AL_NET_MAINNET, p2tr, strlen(p2tr)));
	CHECK(ver == 1 && n == 32);
	CHECK_MEM(prog, want, 32);
	CHECK_OK(al_segwit_addr_encode(out, sizeof(out), AL_NET_MAINNET, 1, want, 32));
	CHECK(strcmp(out, p2tr) == 0);
	CHECK_OK(al_segwit_script(script, sizeof(script), &slen, 1, want, 32));
	CHECK(slen == 34 && script[0] == 0x51 && script[1] == 32);
	CHECK_ERR(al_segwit_script(script, 33, &slen, 1, want, 32), AL_E_BUFSIZE);
	CHECK_OK(al_segwit_script(script, sizeof(script), &slen, 16, want, 2));
	CHECK(slen == 4 && script[0] == 0x60);

	/* The same address for another network is wrong. */
	CHECK_ERR(al_segwit_addr_decode(&ver, prog, &n, AL_NET_TESTNET, p2tr, strlen(p2tr)),
	          AL_E_ADDR_HRP);
	CHECK_ERR(al_segwit_addr_decode(&ver, prog, &n, AL_NET_REGTEST, p2tr, strlen(p2tr)),
	          AL_E_ADDR_HRP);
	CHECK_ERR(al_segwit_addr_decode(&ver, prog, &n, (al_net)9, p2tr, strlen(p2tr)), AL_E_ARG);
	CHECK(al_net_hrp((al_net)9) == NULL);

	/* Regtest round trip, and the longest address fits AL_SEGWIT_ADDR_BUFLEN. */
	CHECK_OK(al_segwit_addr_encode(out, sizeof(out), AL_NET_REGTEST, 16, zeros, 40));
	CHECK(strlen(out) == AL_SEGWIT_ADDR_BUFLEN - 1 && strncmp(out, "bcrt1s", 6) == 0);
	CHECK_OK(al_segwit_addr_decode(&ver, prog, &n, AL_NET_REGTEST, out, strlen(out)));
	CHECK(ver == 16 && n == 40);
	CHECK_ERR(
	    al_segwit_addr_encode(out, AL_SEGWIT_ADDR_BUFLEN - 1, AL_NET_REGTEST, 16, zeros, 40),
	    AL_E_BUFSIZE);

	/* Encoding refuses what decoding would refuse. */
	CHECK_ERR(al_segwit_addr_encode(out, sizeof(out), AL_NET_MAINNET, 17, zeros, 20),
	          AL_E_ADDR_WITVER);
	CHECK_ERR(al_segwit_addr_encode(out, sizeof(out), AL_NET_MAINNET, 1, zeros, 1),
	          AL_E_ADDR_PROGLEN);
	CHECK_ERR(al_segwit_addr_encode(out, sizeof(out), AL_NET_MAINNET, 1, zeros, 41),
	          AL_E_ADDR_PROGLEN);
	CHECK_ERR(al_segwit_addr_encode(out, sizeof(out), AL_NET_MAINNET, 0, zeros, 21),
	          AL_E_ADDR_PROGLEN);
	CHECK_ERR(al_segwit_addr_encode(out, sizeof(out), (al_net)9, 0, zeros, 20), AL_E_ARG);
	CHECK_OK(al_segwit_addr_encode(out, sizeof(out), AL_NET_TESTNET, 0, zeros, 32));
	CHECK(strncmp(out, "tb1q", 4) == 0);

	/* Truncated and oversized addresses. */
	CHECK(al_segwit_addr_decode(&ver, prog, &n, AL_NET_MAINNET, p2tr, strlen(p2tr) - 1) !=
	      AL_OK);
	CHECK(n == 0 && ver == 0);
	CHECK_ERR(al_segwit_addr_decode(&ver, prog, &n, AL_NET_MAINNET, p2tr, 0), AL_E_B32_NO_SEP);
	{
		char big[300];
		memset(big, 'q', sizeof(big));
		memcpy(big, "bc1", 3);
		CHECK_ERR(al_segwit_addr_decode(&ver, prog, &n, AL_NET_MAINNET, big, sizeof(big)),
		          AL_E_B32_LENGTH);
	}
}

int main(void)
{
	test_convert_bits();
	test_encode();
	test_decode();
	test_single_errors();
	test_address();
	return al_t_finish();
}
