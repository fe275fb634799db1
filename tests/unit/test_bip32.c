/* BIP 32 (btc/bip32.h) beyond the published vectors: path syntax, seed bounds,
 * derivation limits, aliasing, networks, and truncated / oversized serializations. */
#include <string.h>

#include "btc/base58.h"
#include "btc/bip32.h"
#include "test.h"

/* BIP 32 test vector 1. */
static const char *seed1 = "000102030405060708090a0b0c0d0e0f";
static const char xprv_m[] = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvv"
                             "NKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
static const char xpub_0h[] = "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhw"
                              "BZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw";

static void test_path(void)
{
	uint32_t p[300];
	size_t n = 99;
	char deep[2 + 2 * 256 + 1];
	size_t i;
	static const char *bad[] = {"",
	                            "M",
	                            "m/",
	                            "m//1",
	                            "m/01",
	                            "m/00",
	                            "m/2147483648",
	                            "m/4294967296",
	                            "m/99999999999999999999",
	                            "m/1''",
	                            "m/1/",
	                            "m/x",
	                            "/1",
	                            "m1",
	                            "m/1h'",
	                            "m/-1",
	                            "m/ 1",
	                            "mm",
	                            "m/1H/"};

	CHECK_OK(al_bip32_path_parse(p, 300, &n, "m", 1));
	CHECK(n == 0);
	CHECK_OK(al_bip32_path_parse(p, 300, &n, "m/0'/1/2h/3H/0", 14));
	CHECK(n == 5 && p[0] == AL_BIP32_HARDENED && p[1] == 1 && p[2] == (2 | AL_BIP32_HARDENED) &&
	      p[3] == (3 | AL_BIP32_HARDENED) && p[4] == 0);
	CHECK_OK(al_bip32_path_parse(p, 300, &n, "m/2147483647H", 13));
	CHECK(n == 1 && p[0] == 0xffffffffu);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_ERR(al_bip32_path_parse(p, 300, &n, bad[i], strlen(bad[i])), AL_E_BIP32_PATH);
		CHECK(n == 0);
	}
	/* The length is honoured: "m/1" cut to "m/". */
	CHECK_ERR(al_bip32_path_parse(p, 300, &n, "m/1", 2), AL_E_BIP32_PATH);
	CHECK_ERR(al_bip32_path_parse(p, 2, &n, "m/1/2/3", 7), AL_E_BUFSIZE);
	/* 255 levels is the deepest a key can be; 256 is refused. */
	deep[0] = 'm';
	for (i = 0; i < 256; i++)
		memcpy(deep + 1 + 2 * i, "/7", 2);
	CHECK_OK(al_bip32_path_parse(p, 300, &n, deep, 1 + 2 * 255));
	CHECK(n == 255);
	CHECK_ERR(al_bip32_path_parse(p, 300, &n, deep, 1 + 2 * 256), AL_E_BIP32_PATH);
}

static void test_master(const al_secp *ctx)
{
	uint8_t seed[65] = {0}, fpr[4];
	const uint8_t *s1 = al_t_unhex(seed1, NULL);
	char buf[AL_BIP32_STR_BUFLEN];
	al_xkey m, c;
	al_net net;

	CHECK_ERR(al_bip32_master(ctx, &m, seed, 15), AL_E_RANGE);
	CHECK_ERR(al_bip32_master(ctx, &m, seed, 65), AL_E_RANGE);
	CHECK(!m.has_priv);
	CHECK_OK(al_bip32_master(ctx, &m, seed, 16));
	CHECK_OK(al_bip32_master(ctx, &m, seed, 64));
	CHECK_OK(al_bip32_master(ctx, &m, s1, 16));
	CHECK_OK(al_bip32_to_base58(ctx, buf, sizeof(buf), &m, AL_NET_MAINNET));
	CHECK(strcmp(buf, xprv_m) == 0);
	CHECK_ERR(al_bip32_to_base58(ctx, buf, strlen(xprv_m), &m, AL_NET_MAINNET), AL_E_BUFSIZE);
	CHECK_ERR(al_bip32_to_base58(ctx, buf, sizeof(buf), &m, (al_net)9), AL_E_ARG);

	/* The child's parent fingerprint is the master's. */
	CHECK_OK(al_bip32_from_base58(ctx, &c, &net, xpub_0h, strlen(xpub_0h)));
	al_bip32_fingerprint(ctx, fpr, &m);
	CHECK_MEM(c.parent_fpr, fpr, 4);
	CHECK(fpr[0] == 0x34 && fpr[1] == 0x42 && fpr[2] == 0x19 && fpr[3] == 0x3e);

	/* Derivation in place, and N(m/0H) through neuter in place. */
	CHECK_OK(al_bip32_ckd(ctx, &m, &m, AL_BIP32_HARDENED));
	al_bip32_neuter(&m, &m);
	CHECK(!m.has_priv);
	CHECK_OK(al_bip32_to_base58(ctx, buf, sizeof(buf), &m, AL_NET_MAINNET));
	CHECK(strcmp(buf, xpub_0h) == 0);
	/* CKDpub: "If so (hardened child): return failure". */
	CHECK_ERR(al_bip32_ckd(ctx, &c, &m, AL_BIP32_HARDENED | 5), AL_E_BIP32_HARDENED);
	CHECK_OK(al_bip32_ckd(ctx, &c, &m, 5));
	/* The depth is one byte. */
	m.depth = 255;
	CHECK_ERR(al_bip32_ckd(ctx, &c, &m, 1), AL_E_BIP32_DEPTH);
	al_xkey_clear(&m);
	al_xkey_clear(&c);
}

static void test_derive(const al_secp *ctx)
{
	const uint8_t *s1 = al_t_unhex(seed1, NULL);
	uint32_t path[4];
	size_t n;
	al_xkey m, a, b;

	CHECK_OK(al_bip32_master(ctx, &m, s1, 16));
	CHECK_OK(al_bip32_path_parse(path, 4, &n, "m/0h/1/2h/2", 11));
	CHECK_OK(al_bip32_derive(ctx, &a, &m, path, n));
	CHECK(a.depth == 4 && a.child == 2);
	/* Step by step gives the same key. */
	CHECK_OK(al_bip32_derive(ctx, &b, &m, path, 2));
	CHECK_OK(al_bip32_derive(ctx, &b, &b, path + 2, 2));
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	/* A public root stops at the first hardened step and leaves `out` alone. */
	al_bip32_neuter(&m, &m);
	memset(&b, 0xaa, sizeof(b));
	CHECK_ERR(al_bip32_derive(ctx, &b, &m, path, n), AL_E_BIP32_HARDENED);
	CHECK(b.depth == 0xaa);
	CHECK_OK(al_bip32_derive(ctx, &b, &m, path, 0));
	CHECK(memcmp(&b, &m, sizeof(b)) == 0);
	al_xkey_clear(&m);
	al_xkey_clear(&a);
	al_xkey_clear(&b);
}

static void test_serial(const al_secp *ctx)
{
	const uint8_t *s1 = al_t_unhex(seed1, NULL);
	uint8_t ser[AL_BIP32_SERIAL_LEN + 1];
	char buf[AL_B58_MAX_STR + 1], big[400];
	al_xkey m, k;
	al_net net;
	size_t i;

	CHECK_OK(al_bip32_master(ctx, &m, s1, 16));
	/* Testnet and regtest both serialize as tprv / tpub and parse as testnet. */
	CHECK_OK(al_bip32_to_base58(ctx, buf, sizeof(buf), &m, AL_NET_REGTEST));
	CHECK(strncmp(buf, "tprv", 4) == 0);
	CHECK_OK(al_bip32_from_base58(ctx, &k, &net, buf, strlen(buf)));
	CHECK(net == AL_NET_TESTNET && k.has_priv && memcmp(&k, &m, sizeof(k)) == 0);
	al_bip32_neuter(&k, &m);
	CHECK_OK(al_bip32_to_base58(ctx, buf, sizeof(buf), &k, AL_NET_TESTNET));
	CHECK(strncmp(buf, "tpub", 4) == 0);
	CHECK_OK(al_bip32_from_base58(ctx, &k, &net, buf, strlen(buf)));
	CHECK(net == AL_NET_TESTNET && !k.has_priv);

	/* Raw form: 77 and 79 bytes are the wrong length. */
	CHECK_OK(al_bip32_serialize(ctx, ser, &m, AL_NET_MAINNET));
	CHECK_OK(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN));
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN - 1), AL_E_BIP32_LENGTH);
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN + 1), AL_E_BIP32_LENGTH);
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, 0), AL_E_BIP32_LENGTH);
	CHECK(!k.has_priv && k.depth == 0);

	/* The same in Base58Check: a valid checksum around 77 or 79 bytes. */
	CHECK_OK(al_b58check_encode(buf, sizeof(buf), ser, AL_BIP32_SERIAL_LEN - 1));
	CHECK_ERR(al_bip32_from_base58(ctx, &k, &net, buf, strlen(buf)), AL_E_BIP32_LENGTH);
	ser[AL_BIP32_SERIAL_LEN] = 0;
	CHECK_OK(al_b58check_encode(buf, sizeof(buf), ser, AL_BIP32_SERIAL_LEN + 1));
	CHECK_ERR(al_bip32_from_base58(ctx, &k, &net, buf, strlen(buf)), AL_E_BIP32_LENGTH);
	CHECK_ERR(al_bip32_from_base58(ctx, &k, &net, "", 0), AL_E_BIP32_LENGTH);
	CHECK_ERR(al_bip32_from_base58(ctx, &k, &net, "2g", 2), AL_E_BIP32_LENGTH);
	/* Truncated strings: every prefix of a valid key fails. */
	for (i = 0; i < strlen(xprv_m); i++)
		CHECK(al_bip32_from_base58(ctx, &k, &net, xprv_m, i) != AL_OK);
	/* Oversized strings. */
	memset(big, 'z', sizeof(big));
	CHECK_ERR(al_bip32_from_base58(ctx, &k, &net, big, sizeof(big)), AL_E_BIP32_LENGTH);
	memcpy(big, xprv_m, strlen(xprv_m));
	CHECK(al_bip32_from_base58(ctx, &k, &net, big, strlen(xprv_m) + 1) != AL_OK);
	CHECK_ERR(al_bip32_from_base58(ctx, &k, &net, "xprv0", 5), AL_E_B58_CHAR);

	/* Field checks on the raw form. */
	CHECK_OK(al_bip32_serialize(ctx, ser, &m, AL_NET_MAINNET));
	ser[3] ^= 1;
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN), AL_E_BIP32_VERSION);
	ser[3] ^= 1;
	ser[45] = 0x02;
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN), AL_E_BIP32_MISMATCH);
	ser[45] = 0x05;
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN), AL_E_BIP32_KEY);
	ser[45] = 0x00;
	ser[4] = 1; /* depth 1 with a zero fingerprint is allowed */
	CHECK_OK(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN));
	ser[4] = 0;
	ser[12] = 1;
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN), AL_E_BIP32_DEPTH);
	ser[12] = 0;
	memset(ser + 46, 0xff, 32);
	CHECK_ERR(al_bip32_parse(ctx, &k, &net, ser, AL_BIP32_SERIAL_LEN), AL_E_PRIVKEY);
	al_xkey_clear(&m);
	al_xkey_clear(&k);
}

int main(void)
{
	const al_secp *ctx = al_t_secp();

	test_path();
	test_master(ctx);
	test_derive(ctx);
	test_serial(ctx);
	return al_t_finish();
}
