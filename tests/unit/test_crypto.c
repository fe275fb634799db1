/* Known-answer tests for the crypto wrappers, from the published standards (each
 * vector cites its source), plus property tests for the EC operations. */
#include <stdio.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "crypto/rng.h"
#include "crypto/secp.h"
#include "test.h"

#define HEX(s) al_t_unhex(s, NULL)

static void fill(uint8_t *p, uint8_t v, size_t n)
{
	memset(p, v, n);
}

static void seq(uint8_t *p, uint8_t start, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

/* ---- hashes ---- */

static void test_sha256(void)
{
	/* FIPS 180-2 Appendix B.1, B.2 (and the well-known empty-string digest). */
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t out[32];
	al_sha256_ctx ctx;
	size_t i;

	al_sha256(out, "abc", 3);
	CHECK_MEM(out, HEX("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), 32);
	al_sha256(out, "", 0);
	CHECK_MEM(out, HEX("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 32);
	al_sha256(out, m448, strlen(m448));
	CHECK_MEM(out, HEX("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), 32);
	/* Streaming, one byte at a time, gives the same digest and wipes the context. */
	al_sha256_init(&ctx);
	for (i = 0; i < strlen(m448); i++)
		al_sha256_update(&ctx, m448 + i, 1);
	al_sha256_final(&ctx, out);
	CHECK_MEM(out, HEX("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), 32);
	{
		static const al_sha256_ctx zero;
		CHECK(memcmp(&ctx, &zero, sizeof(ctx)) == 0);
	}
	/* sha256d("abc") = SHA-256 of the digest above. */
	{
		uint8_t once[32], twice[32];
		al_sha256(once, "abc", 3);
		al_sha256(twice, once, 32);
		al_sha256d(out, "abc", 3);
		CHECK_MEM(out, twice, 32);
	}
}

static void test_sha512_ripemd(void)
{
	uint8_t out[64], sha[32], r[20];

	/* FIPS 180-2 Appendix C.1. */
	al_sha512(out, "abc", 3);
	CHECK_MEM(out,
	          HEX("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
	          64);
	/* RIPEMD-160 paper (Dobbertin, Bosselaers, Preneel), test vectors. */
	al_ripemd160(out, "", 0);
	CHECK_MEM(out, HEX("9c1185a5c5e9fc54612808977ee8f548b2258d31"), 20);
	al_ripemd160(out, "abc", 3);
	CHECK_MEM(out, HEX("8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"), 20);
	/* hash160 is RIPEMD-160 of SHA-256. */
	al_sha256(sha, "abc", 3);
	al_ripemd160(r, sha, 32);
	al_hash160(out, "abc", 3);
	CHECK_MEM(out, r, 20);
}

static void test_hmac(void)
{
	uint8_t key[131], data[152], out[64];
	static const char t6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char t7[] = "This is a test using a larger than block-size key and a larger "
	                         "than block-size data. The key needs to be hashed before being "
	                         "used by the HMAC algorithm.";

	/* RFC 4231 4.2, test case 1. */
	fill(key, 0x0b, 20);
	CHECK_OK(al_hmac_sha256(out, key, 20, "Hi There", 8));
	CHECK_MEM(out, HEX("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"), 32);
	CHECK_OK(al_hmac_sha512(out, key, 20, "Hi There", 8));
	CHECK_MEM(out,
	          HEX("87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	              "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
	          64);
	/* RFC 4231 4.3, test case 2. */
	CHECK_OK(al_hmac_sha256(out, "Jefe", 4, "what do ya want for nothing?", 28));
	CHECK_MEM(out, HEX("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), 32);
	CHECK_OK(al_hmac_sha512(out, "Jefe", 4, "what do ya want for nothing?", 28));
	CHECK_MEM(out,
	          HEX("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
	          64);
	/* RFC 4231 4.4, test case 3. */
	fill(key, 0xaa, 20);
	fill(data, 0xdd, 50);
	CHECK_OK(al_hmac_sha256(out, key, 20, data, 50));
	CHECK_MEM(out, HEX("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"), 32);
	/* RFC 4231 4.5, test case 4. */
	seq(key, 0x01, 25);
	fill(data, 0xcd, 50);
	CHECK_OK(al_hmac_sha256(out, key, 25, data, 50));
	CHECK_MEM(out, HEX("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"), 32);
	/* RFC 4231 4.7 and 4.8, test cases 6 and 7 (key longer than a block). */
	fill(key, 0xaa, 131);
	CHECK_OK(al_hmac_sha256(out, key, 131, t6, strlen(t6)));
	CHECK_MEM(out, HEX("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"), 32);
	CHECK_OK(al_hmac_sha256(out, key, 131, t7, strlen(t7)));
	CHECK_MEM(out, HEX("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"), 32);
	/* Empty key and data are accepted (NULL pointers included). */
	CHECK_OK(al_hmac_sha256(out, NULL, 0, NULL, 0));
	CHECK_OK(al_hmac_sha256(data, "", 0, "", 0));
	CHECK_MEM(out, data, 32);
}

static void test_hkdf(void)
{
	uint8_t ikm[80], salt[80], info[80], out[82];

	/* RFC 5869 A.1, test case 1. */
	fill(ikm, 0x0b, 22);
	seq(salt, 0x00, 13);
	seq(info, 0xf0, 10);
	CHECK_OK(al_hkdf_sha256(out, 42, salt, 13, ikm, 22, info, 10));
	CHECK_MEM(out,
	          HEX("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	              "34007208d5b887185865"),
	          42);
	/* RFC 5869 A.2, test case 2 (longer inputs and outputs). */
	seq(ikm, 0x00, 80);
	seq(salt, 0x60, 80);
	seq(info, 0xb0, 80);
	CHECK_OK(al_hkdf_sha256(out, 82, salt, 80, ikm, 80, info, 80));
	CHECK_MEM(out,
	          HEX("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	              "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	              "cc30c58179ec3e87c14c01d5c1f3434f1d87"),
	          82);
	/* RFC 5869 A.3, test case 3 (zero-length salt and info). */
	fill(ikm, 0x0b, 22);
	CHECK_OK(al_hkdf_sha256(out, 42, NULL, 0, ikm, 22, NULL, 0));
	CHECK_MEM(out,
	          HEX("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	              "9d201395faa4b61a96c8"),
	          42);
	/* BOLT #8 Appendix A, Act One: ck,temp_k1 = HKDF(ck, ss) with empty info. */
	CHECK_OK(al_hkdf_sha256(
	    out, 64, HEX("2640f52eebcd9e882958951c794250eedb28002c05d7dc2ea0f195406042caf1"), 32,
	    HEX("1e2fb3c8fe8fb9f262f649f64d26ecf0f2c0a805a767cf02dc2d77a6ef1fdcc3"), 32, NULL, 0));
	CHECK_MEM(out,
	          HEX("b61ec1191326fa240decc9564369dbb3ae2b34341d1e11ad64ed89f89180582f"
	              "e68f69b7f096d7917245f5e5cf8ae1595febe4d4644333c99f9c4a1282031c9f"),
	          64);
}

static void test_pbkdf2(void)
{
	uint8_t out[64];
	static const char mnemonic[] = "abandon abandon abandon abandon abandon abandon "
	                               "abandon abandon abandon abandon abandon about";

	/* BIP 39 reference vectors (trezor/python-mnemonic vectors.json, first English
	 * entry): seed = PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" || "TREZOR", 2048). */
	CHECK_OK(al_pbkdf2_sha512(out, 64, mnemonic, strlen(mnemonic), "mnemonicTREZOR", 14, 2048));
	CHECK_MEM(out,
	          HEX("c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e5349553"
	              "1f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"),
	          64);
	/* PBKDF2-HMAC-SHA512(P = "password", S = "salt", c = 1, dkLen = 64), the
	 * community test vector published alongside RFC 6070's SHA-1 ones. */
	CHECK_OK(al_pbkdf2_sha512(out, 64, "password", 8, "salt", 4, 1));
	CHECK_MEM(out,
	          HEX("867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
	              "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"),
	          64);
	CHECK_ERR(al_pbkdf2_sha512(out, 64, "p", 1, "s", 1, 0), AL_E_ARG);
}

/* ---- AEAD ---- */

/* RFC 8439 section 2.8.2. */
static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                                "only one tip for the future, sunscreen would be it.";
static const char rfc8439_ct[] = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                                 "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                                 "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                                 "3ff4def08e4b7a9de576d26586cec64b6116"
                                 "1ae10b594f09e26a7e902ecbd0600691";

static void test_aead_kat(void)
{
	uint8_t key[32], nonce[12], ct[114 + 16], pt[114 + 16];
	const uint8_t *ad = HEX("50515253c0c1c2c3c4c5c6c7");
	size_t len = strlen(sunscreen);

	CHECK(len == 114);
	seq(key, 0x80, 32);
	memcpy(nonce, HEX("070000004041424344454647"), 12);
	CHECK_OK(al_aead_seal(ct, key, nonce, ad, 12, sunscreen, len));
	CHECK_MEM(ct, HEX(rfc8439_ct), len + 16);
	CHECK_OK(al_aead_open(pt, key, nonce, ad, 12, ct, len + 16));
	CHECK_MEM(pt, sunscreen, len);
	/* In place, both ways. */
	memcpy(pt, sunscreen, len);
	CHECK_OK(al_aead_seal(pt, key, nonce, ad, 12, pt, len));
	CHECK_MEM(pt, ct, len + 16);
	CHECK_OK(al_aead_open(pt, key, nonce, ad, 12, pt, len + 16));
	CHECK_MEM(pt, sunscreen, len);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t acc = 0;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void test_aead_tamper(void)
{
	uint8_t key[32], nonce[12], ct[130], bad[130], pt[130], ad[12];
	size_t len = strlen(sunscreen), bit;
	int wrong = 0, unwiped = 0;

	seq(key, 0x80, 32);
	memcpy(nonce, HEX("070000004041424344454647"), 12);
	memcpy(ad, HEX("50515253c0c1c2c3c4c5c6c7"), 12);
	CHECK_OK(al_aead_seal(ct, key, nonce, ad, 12, sunscreen, len));
	/* Every single-bit flip of ciphertext or tag. */
	for (bit = 0; bit < 8 * (len + 16); bit++) {
		memcpy(bad, ct, len + 16);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(pt, 0x55, sizeof(pt));
		wrong += al_aead_open(pt, key, nonce, ad, 12, bad, len + 16) != AL_E_AEAD_AUTH;
		unwiped += !all_zero(pt, len);
	}
	/* Every single-bit flip of the associated data. */
	for (bit = 0; bit < 8 * 12; bit++) {
		uint8_t ad2[12];
		memcpy(ad2, ad, 12);
		ad2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(pt, 0x55, sizeof(pt));
		wrong += al_aead_open(pt, key, nonce, ad2, 12, ct, len + 16) != AL_E_AEAD_AUTH;
		unwiped += !all_zero(pt, len);
	}
	CHECK(wrong == 0);
	CHECK(unwiped == 0);
	/* Wrong nonce, missing AD. */
	nonce[11] ^= 1;
	CHECK_ERR(al_aead_open(pt, key, nonce, ad, 12, ct, len + 16), AL_E_AEAD_AUTH);
	nonce[11] ^= 1;
	CHECK_ERR(al_aead_open(pt, key, nonce, NULL, 0, ct, len + 16), AL_E_AEAD_AUTH);
	/* Shorter than a tag. */
	for (bit = 0; bit < 16; bit++)
		CHECK_ERR(al_aead_open(pt, key, nonce, ad, 12, ct, bit), AL_E_TRUNCATED);
	/* A tag alone is an empty message, valid only if it is the right tag. */
	CHECK_OK(al_aead_seal(bad, key, nonce, NULL, 0, NULL, 0));
	CHECK_OK(al_aead_open(pt, key, nonce, NULL, 0, bad, 16));
	bad[0] ^= 0x80;
	CHECK_ERR(al_aead_open(pt, key, nonce, NULL, 0, bad, 16), AL_E_AEAD_AUTH);
}

static void test_bolt8_nonce(void)
{
	uint8_t n[12], c[16];

	/* BOLT #8: "32 zero bits, followed by a little-endian 64-bit value". */
	al_aead_bolt8_nonce(n, 1);
	CHECK_MEM(n, HEX("000000000100000000000000"), 12);
	al_aead_bolt8_nonce(n, 0x0102030405060708ULL);
	CHECK_MEM(n, HEX("000000000807060504030201"), 12);
	al_aead_bolt8_nonce(n, UINT64_MAX);
	CHECK_MEM(n, HEX("00000000ffffffffffffffff"), 12);
	/* BOLT #8 Appendix A, Act One: encryptWithAD(temp_k1, 0, h, <empty>). */
	al_aead_bolt8_nonce(n, 0);
	CHECK_OK(al_aead_seal(
	    c, HEX("e68f69b7f096d7917245f5e5cf8ae1595febe4d4644333c99f9c4a1282031c9f"), n,
	    HEX("9e0e7de8bb75554f21db034633de04be41a2b8a18da7a319a03c803bf02b396c"), 32, NULL, 0));
	CHECK_MEM(c, HEX("0df6086551151f58b8afe6c195782c6a"), 16);
}

/* ---- secp256k1 ---- */

static void key_of(al_privkey *k, uint8_t b)
{
	memset(k->k, b, 32);
}

/* n - s over 32-byte big-endian numbers (s < n). */
static void negate_scalar(uint8_t out[32], const uint8_t s[32])
{
	const uint8_t *n = HEX("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
	int i, borrow = 0;

	for (i = 31; i >= 0; i--) {
		int d = n[i] - s[i] - borrow;
		borrow = d < 0;
		out[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

static void test_ecdsa(void)
{
	const al_secp *ctx = al_t_secp();
	al_privkey k;
	al_pubkey pk, pk2;
	al_ecdsa_sig sig, sig2, norm;
	uint8_t msg[32], compact[64], high[64], der[AL_DER_SIG_MAXLEN], ser[33];
	size_t derlen = sizeof(der);

	memset(msg, 0, sizeof(msg));
	/* Private key 1 gives the generator. */
	memset(&k, 0, sizeof(k));
	k.k[31] = 1;
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk, &k));
	al_pubkey_serialize(ctx, ser, &pk);
	CHECK_MEM(ser, HEX("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
	          33);
	/* Invalid private keys: zero and n. */
	memset(&k, 0, sizeof(k));
	CHECK(!al_privkey_valid(ctx, &k));
	CHECK_ERR(al_pubkey_from_privkey(ctx, &pk2, &k), AL_E_PRIVKEY);
	memcpy(k.k, HEX("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"), 32);
	CHECK(!al_privkey_valid(ctx, &k));
	CHECK_ERR(al_ecdsa_sign(ctx, &sig, msg, &k), AL_E_PRIVKEY);

	key_of(&k, 0x42);
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk, &k));
	al_sha256(msg, "alight", 6);
	CHECK_OK(al_ecdsa_sign(ctx, &sig, msg, &k));
	CHECK_OK(al_ecdsa_verify(ctx, &sig, msg, &pk));
	/* RFC 6979: deterministic. */
	CHECK_OK(al_ecdsa_sign(ctx, &sig2, msg, &k));
	CHECK(memcmp(&sig, &sig2, sizeof(sig)) == 0);
	/* Wrong message, wrong key. */
	msg[0] ^= 1;
	CHECK_ERR(al_ecdsa_verify(ctx, &sig, msg, &pk), AL_E_SIG_INVALID);
	msg[0] ^= 1;
	key_of(&k, 0x43);
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk2, &k));
	CHECK_ERR(al_ecdsa_verify(ctx, &sig, msg, &pk2), AL_E_SIG_INVALID);

	/* Low-S: signing never yields high S; n - s is the same signature with high S,
	 * which verify refuses as such (BIP 62/146). */
	al_ecdsa_sig_serialize_compact(ctx, compact, &sig);
	CHECK(compact[32] < 0x80);
	memcpy(high, compact, 32);
	negate_scalar(high + 32, compact + 32);
	CHECK_OK(al_ecdsa_sig_parse_compact(ctx, &sig2, high));
	CHECK_ERR(al_ecdsa_verify(ctx, &sig2, msg, &pk), AL_E_SIG_HIGH_S);
	CHECK(al_ecdsa_sig_normalize(ctx, &norm, &sig2));
	CHECK_OK(al_ecdsa_verify(ctx, &norm, msg, &pk));
	CHECK(!al_ecdsa_sig_normalize(ctx, &norm, &sig));
	/* s = n is out of range: unparsable. */
	memcpy(high + 32, HEX("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"),
	       32);
	CHECK_ERR(al_ecdsa_sig_parse_compact(ctx, &sig2, high), AL_E_SIG_ENCODING);

	/* DER round trip. */
	CHECK_OK(al_ecdsa_sig_serialize_der(ctx, der, &derlen, &sig));
	CHECK(derlen >= 8 && derlen <= AL_DER_SIG_MAXLEN && der[0] == 0x30);
	CHECK_OK(al_ecdsa_sig_parse_der(ctx, &sig2, der, derlen));
	al_ecdsa_sig_serialize_compact(ctx, high, &sig2);
	CHECK_MEM(high, compact, 64);
	/* Too small an output buffer. */
	{
		size_t small = 8;
		CHECK_ERR(al_ecdsa_sig_serialize_der(ctx, der, &small, &sig), AL_E_BUFSIZE);
	}
	/* Bad DER: every truncation, a wrong tag, a wrong length, trailing bytes. */
	{
		uint8_t bad[AL_DER_SIG_MAXLEN + 1];
		size_t i;
		int accepted = 0;
		for (i = 0; i < derlen; i++)
			accepted += al_ecdsa_sig_parse_der(ctx, &sig2, der, i) != AL_E_SIG_ENCODING;
		CHECK(accepted == 0);
		memcpy(bad, der, derlen);
		bad[0] = 0x31;
		CHECK_ERR(al_ecdsa_sig_parse_der(ctx, &sig2, bad, derlen), AL_E_SIG_ENCODING);
		memcpy(bad, der, derlen);
		bad[1]++;
		CHECK_ERR(al_ecdsa_sig_parse_der(ctx, &sig2, bad, derlen), AL_E_SIG_ENCODING);
		memcpy(bad, der, derlen);
		bad[derlen] = 0;
		CHECK_ERR(al_ecdsa_sig_parse_der(ctx, &sig2, bad, derlen + 1), AL_E_SIG_ENCODING);
		memcpy(bad, der, derlen);
		bad[2] = 0x03; /* r must be an INTEGER */
		CHECK_ERR(al_ecdsa_sig_parse_der(ctx, &sig2, bad, derlen), AL_E_SIG_ENCODING);
	}
}

/* Low-R grinding as Bitcoin Core's CKey::Sign(grind=true) and Electrum's ECPrivkey.sign. */
static void test_ecdsa_low_r(void)
{
	const al_secp *ctx = al_t_secp();
	al_privkey k;
	al_pubkey pk;
	al_ecdsa_sig sig, plain;
	uint8_t msg[32], c_sig[64], c_plain[64], der[AL_DER_SIG_MAXLEN];
	size_t derlen = sizeof(der), ground = 0;
	char text[32];

	key_of(&k, 0x42);
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk, &k));
	/* Made by Electrum 4.3.4 (ecc.ECPrivkey(b"\x42" * 32).sign_transaction) over
	 * sha256("alight low-R 12"): plain RFC 6979 and the extra data 1 and 2 give r >= 2^255,
	 * the counter 3 (little-endian in 32 bytes) the first low r. */
	al_sha256(msg, "alight low-R 12", 15);
	CHECK_OK(al_ecdsa_sign_low_r(ctx, &sig, msg, &k));
	CHECK_OK(al_ecdsa_sig_serialize_der(ctx, der, &derlen, &sig));
	CHECK(derlen == 70);
	CHECK_MEM(der,
	          HEX("304402203bc5b34346869633af132cc7e340489f48065398f1959e1b9b68e21521317eb80220"
	              "5cd55b237b9d639069ecdd29bdc68cbe9a922695b27cabaa166deaeeaeb11253"),
	          70);
	CHECK_OK(al_ecdsa_sign(ctx, &plain, msg, &k));
	al_ecdsa_sig_serialize_compact(ctx, c_plain, &plain);
	CHECK(c_plain[0] >= 0x80);
	/* Over many messages: r < 2^255 always, at most 70 DER bytes, valid; the plain
	 * signature itself whenever its r is already low, another one otherwise. */
	for (int i = 0; i < 200; i++) {
		int n = snprintf(text, sizeof(text), "alight low-R %d", i);

		al_sha256(msg, text, (size_t)n);
		CHECK_OK(al_ecdsa_sign_low_r(ctx, &sig, msg, &k));
		CHECK_OK(al_ecdsa_verify(ctx, &sig, msg, &pk));
		CHECK_OK(al_ecdsa_sign(ctx, &plain, msg, &k));
		al_ecdsa_sig_serialize_compact(ctx, c_sig, &sig);
		al_ecdsa_sig_serialize_compact(ctx, c_plain, &plain);
		CHECK(c_sig[0] < 0x80);
		derlen = sizeof(der);
		CHECK_OK(al_ecdsa_sig_serialize_der(ctx, der, &derlen, &sig));
		CHECK(derlen <= 70 && der[3] <= 32);
		if (c_plain[0] < 0x80) {
			CHECK_MEM(c_sig, c_plain, 64);
		} else {
			CHECK(memcmp(c_sig, c_plain, 64) != 0);
			ground++;
		}
	}
	/* About half need grinding (RFC 6979's r is uniform). */
	CHECK(ground > 50 && ground < 150);
	/* An invalid key is refused as by plain signing. */
	memset(&k, 0, sizeof(k));
	CHECK_ERR(al_ecdsa_sign_low_r(ctx, &sig, msg, &k), AL_E_PRIVKEY);
}

static void test_pubkey_parse(void)
{
	const al_secp *ctx = al_t_secp();
	al_pubkey pk;
	uint8_t b[65];

	memcpy(b, HEX("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"), 33);
	CHECK_OK(al_pubkey_parse(ctx, &pk, b, 33));
	CHECK_ERR(al_pubkey_parse(ctx, &pk, b, 32), AL_E_PUBKEY);
	CHECK_ERR(al_pubkey_parse(ctx, &pk, b, 34), AL_E_PUBKEY);
	b[0] = 0x04;
	CHECK_ERR(al_pubkey_parse(ctx, &pk, b, 33), AL_E_PUBKEY);
	b[0] = 0x02;
	memset(b + 1, 0, 32); /* x = 0 is not on the curve */
	CHECK_ERR(al_pubkey_parse(ctx, &pk, b, 33), AL_E_PUBKEY);
	CHECK(all_zero((const uint8_t *)&pk, sizeof(pk)));
	/* Uncompressed G. */
	memcpy(b,
	       HEX("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	           "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"),
	       65);
	CHECK_OK(al_pubkey_parse(ctx, &pk, b, 65));
	b[64] ^= 1;
	CHECK_ERR(al_pubkey_parse(ctx, &pk, b, 65), AL_E_PUBKEY);
}

static void test_ecdh(void)
{
	const al_secp *ctx = al_t_secp();
	al_privkey a, b;
	al_pubkey pa, pb, shared;
	uint8_t ab[32], ba[32], point[33], want[32];

	key_of(&a, 0x21);
	key_of(&b, 0x37);
	CHECK_OK(al_pubkey_from_privkey(ctx, &pa, &a));
	CHECK_OK(al_pubkey_from_privkey(ctx, &pb, &b));
	CHECK_OK(al_ecdh(ctx, ab, &pb, &a));
	CHECK_OK(al_ecdh(ctx, ba, &pa, &b));
	CHECK_MEM(ab, ba, 32);
	/* BOLT #8: SHA-256 of the compressed a*B. */
	shared = pb;
	CHECK_OK(al_pubkey_tweak_mul(ctx, &shared, a.k));
	al_pubkey_serialize(ctx, point, &shared);
	al_sha256(want, point, 33);
	CHECK_MEM(ab, want, 32);
	/* BOLT #8 Appendix A, Act One: ss = ECDH(rs.pub, e.priv). */
	key_of(&a, 0x12);
	CHECK_OK(al_pubkey_parse(
	    ctx, &pb, HEX("028d7500dd4c12685d1f568b4c2b5048e8534b873319f3a8daa612b469132ec7f7"),
	    33));
	CHECK_OK(al_ecdh(ctx, ab, &pb, &a));
	CHECK_MEM(ab, HEX("1e2fb3c8fe8fb9f262f649f64d26ecf0f2c0a805a767cf02dc2d77a6ef1fdcc3"), 32);
	/* An invalid private key is refused. */
	memset(&a, 0, sizeof(a));
	CHECK_ERR(al_ecdh(ctx, ab, &pb, &a), AL_E_PRIVKEY);
	CHECK(all_zero(ab, 32));
}

static void test_tweaks(void)
{
	const al_secp *ctx = al_t_secp();
	al_privkey k, k2;
	al_pubkey pk, pk2, pt, sum;
	uint8_t t[32], neg[32];

	key_of(&k, 0x05);
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk, &k));
	memset(t, 0, 32);
	t[31] = 0x77;
	t[0] = 0x10;
	/* (k + t)*G == k*G + t*G */
	k2 = k;
	CHECK_OK(al_privkey_tweak_add(ctx, &k2, t));
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk2, &k2));
	pt = pk;
	CHECK_OK(al_pubkey_tweak_add(ctx, &pt, t));
	CHECK(al_pubkey_eq(ctx, &pk2, &pt));
	/* ... and == k*G + T via combine, where T = t*G. */
	{
		al_privkey tk;
		al_pubkey tp;
		memcpy(tk.k, t, 32);
		CHECK_OK(al_pubkey_from_privkey(ctx, &tp, &tk));
		CHECK_OK(al_pubkey_combine(ctx, &sum, &pk, &tp));
		CHECK(al_pubkey_eq(ctx, &sum, &pk2));
		CHECK(al_pubkey_cmp(ctx, &sum, &pk) != 0);
	}
	/* (k * t)*G == t*(k*G) */
	k2 = k;
	CHECK_OK(al_privkey_tweak_mul(ctx, &k2, t));
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk2, &k2));
	pt = pk;
	CHECK_OK(al_pubkey_tweak_mul(ctx, &pt, t));
	CHECK(al_pubkey_eq(ctx, &pk2, &pt));
	/* Out of range tweaks (t >= n) and zero results. */
	memcpy(t, HEX("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"), 32);
	/* libsecp256k1 zeroes a key whose tweak failed, so each try starts afresh (a
	 * zeroed al_pubkey is invalid: using it trips the illegal-argument callback). */
	k2 = k;
	CHECK_ERR(al_privkey_tweak_add(ctx, &k2, t), AL_E_TWEAK);
	CHECK(all_zero(k2.k, 32));
	k2 = k;
	CHECK_ERR(al_privkey_tweak_mul(ctx, &k2, t), AL_E_TWEAK);
	pt = pk;
	CHECK_ERR(al_pubkey_tweak_add(ctx, &pt, t), AL_E_TWEAK);
	pt = pk;
	CHECK_ERR(al_pubkey_tweak_mul(ctx, &pt, t), AL_E_TWEAK);
	memset(t, 0, 32);
	k2 = k;
	CHECK_ERR(al_privkey_tweak_mul(ctx, &k2, t), AL_E_TWEAK);
	pt = pk;
	CHECK_ERR(al_pubkey_tweak_mul(ctx, &pt, t), AL_E_TWEAK);
	negate_scalar(neg, k.k); /* k + (n - k) = 0 */
	k2 = k;
	CHECK_ERR(al_privkey_tweak_add(ctx, &k2, neg), AL_E_TWEAK);
	pt = pk;
	CHECK_ERR(al_pubkey_tweak_add(ctx, &pt, neg), AL_E_TWEAK);
	/* P + (-P) is infinity. */
	{
		al_privkey nk;
		al_pubkey np;
		memcpy(nk.k, neg, 32);
		CHECK_OK(al_pubkey_from_privkey(ctx, &np, &nk));
		CHECK_ERR(al_pubkey_combine(ctx, &sum, &pk, &np), AL_E_TWEAK);
	}
	al_privkey_clear(&k);
	CHECK(all_zero(k.k, 32));
}

static void test_schnorr(void)
{
	const al_secp *ctx = al_t_secp();
	al_privkey k;
	al_xonly x, x2;
	uint8_t sig[64], ser[32];
	static const uint8_t aux[32] = {9};

	key_of(&k, 0x33);
	CHECK_OK(al_xonly_from_privkey(ctx, &x, &k));
	CHECK_OK(al_schnorr_sign(ctx, sig, (const uint8_t *)"msg", 3, &k, aux));
	CHECK_OK(al_schnorr_verify(ctx, sig, (const uint8_t *)"msg", 3, &x));
	CHECK_ERR(al_schnorr_verify(ctx, sig, (const uint8_t *)"msh", 3, &x), AL_E_SIG_INVALID);
	sig[63] ^= 1;
	CHECK_ERR(al_schnorr_verify(ctx, sig, (const uint8_t *)"msg", 3, &x), AL_E_SIG_INVALID);
	al_xonly_serialize(ctx, ser, &x);
	CHECK_OK(al_xonly_parse(ctx, &x2, ser));
	CHECK(memcmp(&x, &x2, sizeof(x)) == 0);
	memset(ser, 0, 32);
	CHECK_ERR(al_xonly_parse(ctx, &x2, ser), AL_E_PUBKEY);
}

/* ---- randomness and memory ---- */

static void test_rng_chacha(void)
{
	uint8_t seed[32], a[128], b[128], c[64];
	al_rng_chacha s1, s2;
	al_rng r1, r2;

	/* RFC 8439 A.1 test vector #1: the ChaCha20 block for an all-zero key, nonce
	 * and counter. */
	memset(seed, 0, 32);
	al_rng_chacha_init(&s1, &r1, seed);
	CHECK_OK(al_rng_fill(&r1, c, 64));
	CHECK_MEM(c,
	          HEX("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
	              "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
	          64);
	/* Same seed, same stream; whole blocks are consumed per call, so two 64-byte
	 * draws equal one 128-byte draw. */
	seed[0] = 7;
	al_rng_chacha_init(&s1, &r1, seed);
	al_rng_chacha_init(&s2, &r2, seed);
	CHECK_OK(al_rng_fill(&r1, a, 128));
	CHECK_OK(al_rng_fill(&r2, b, 64));
	CHECK_OK(al_rng_fill(&r2, b + 64, 64));
	CHECK_MEM(a, b, 128);
	/* Successive draws differ; another seed gives another stream. */
	CHECK_OK(al_rng_fill(&r1, c, 64));
	CHECK(memcmp(c, a, 64) != 0 && memcmp(c, a + 64, 64) != 0);
	seed[0] = 8;
	al_rng_chacha_init(&s2, &r2, seed);
	CHECK_OK(al_rng_fill(&r2, b, 128));
	CHECK(memcmp(a, b, 128) != 0);
	/* A missing generator is an error, not a crash. */
	CHECK_ERR(al_rng_fill(NULL, a, 1), AL_E_ARG);
}

static void test_mem(void)
{
	uint8_t a[33], b[33];

	memset(a, 0xa5, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK(al_memeq_ct(a, b, sizeof(a)));
	b[32] ^= 0x01;
	CHECK(!al_memeq_ct(a, b, sizeof(a)));
	CHECK(al_memeq_ct(a, b, 32));
	al_memzero(a, sizeof(a));
	CHECK(all_zero(a, sizeof(a)));
	al_memzero(NULL, 10); /* harmless */
}

int main(void)
{
	test_sha256();
	test_sha512_ripemd();
	test_hmac();
	test_hkdf();
	test_pbkdf2();
	test_aead_kat();
	test_aead_tamper();
	test_bolt8_nonce();
	test_ecdsa();
	test_ecdsa_low_r();
	test_pubkey_parse();
	test_ecdh();
	test_tweaks();
	test_schnorr();
	test_rng_chacha();
	test_mem();
	return al_t_finish();
}
