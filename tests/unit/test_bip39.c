/* BIP 39 (btc/bip39.h): the embedded word list against the shared copy of
 * bip-0039/english.txt, word lookup, and every error path with truncated and
 * oversized input. */
#include <stdlib.h>
#include <string.h>

#include "btc/bip39.h"
#include "crypto/hash.h"
#include "test.h"
#include "vectors.h"

static const char abandon12[] = "abandon abandon abandon abandon abandon abandon abandon abandon "
                                "abandon abandon abandon about";

/* The generated list, joined with "\n" (the file ends with one too), is the shared
 * file byte for byte, and hashes to the digest PROVENANCE.md records. */
static void test_wordlist(void)
{
	static const char want_sha[] =
	    "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda";
	size_t len, pos = 0, i;
	char *file = al_v_load_text("bips/bip39-english.txt", &len);
	char *joined = malloc(len + 1);
	uint8_t digest[32];
	const uint8_t *want = al_t_unhex(want_sha, NULL);
	bool fits = true;

	CHECK(joined != NULL);
	for (i = 0; i < AL_BIP39_WORDCOUNT && joined; i++) {
		size_t wl = strlen(al_bip39_english[i]);
		CHECK(wl >= 3 && wl <= AL_BIP39_WORD_MAXLEN);
		if (pos + wl + 1 > len) {
			fits = false;
			break;
		}
		memcpy(joined + pos, al_bip39_english[i], wl);
		pos += wl;
		joined[pos++] = '\n';
		/* Sorted, as the binary search needs. */
		if (i > 0)
			CHECK(strcmp(al_bip39_english[i - 1], al_bip39_english[i]) < 0);
	}
	CHECK(fits && pos == len);
	if (fits && joined) {
		CHECK(memcmp(joined, file, len) == 0);
		al_sha256(digest, joined, pos);
		CHECK_MEM(digest, want, 32);
	}
	free(joined);
	free(file);
}

static void test_lookup(void)
{
	uint16_t idx = 7;
	size_t i;

	CHECK_OK(al_bip39_word_index(&idx, "abandon", 7));
	CHECK(idx == 0);
	CHECK_OK(al_bip39_word_index(&idx, "zoo", 3));
	CHECK(idx == 2047);
	CHECK_OK(al_bip39_word_index(&idx, "abandonment", 7));
	CHECK(idx == 0);
	for (i = 0; i < AL_BIP39_WORDCOUNT; i++) {
		const char *w = al_bip39_english[i];
		CHECK(al_bip39_word_index(&idx, w, strlen(w)) == AL_OK && idx == i);
	}
	CHECK_ERR(al_bip39_word_index(&idx, "", 0), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_word_index(&idx, "zo", 2), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_word_index(&idx, "zooo", 4), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_word_index(&idx, "aaaa", 4), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_word_index(&idx, "Abandon", 7), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_word_index(&idx, "abandons", 8), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_word_index(&idx, "abandonab", 9), AL_E_BIP39_WORD);
}

static void test_entropy(void)
{
	uint8_t ent[33] = {0}, back[32];
	char m[AL_BIP39_MNEMONIC_BUFLEN];
	size_t len, n, i;

	for (len = 0; len <= sizeof(ent); len++) {
		al_err e = al_bip39_from_entropy(m, sizeof(m), ent, len);
		if (len >= 16 && len <= 32 && len % 4 == 0) {
			CHECK_OK(e);
			CHECK_OK(al_bip39_to_entropy(back, sizeof(back), &n, m, strlen(m)));
			CHECK(n == len);
		} else {
			CHECK_ERR(e, AL_E_BIP39_ENTROPY);
		}
	}
	CHECK_OK(al_bip39_from_entropy(m, sizeof(m), ent, 16));
	CHECK(strcmp(m, abandon12) == 0);
	/* The longest mnemonic fits AL_BIP39_MNEMONIC_BUFLEN; one byte less does not. */
	{
		char w8[] = "abstract"; /* an 8-letter word: index 7 */
		uint16_t idx;
		CHECK_OK(al_bip39_word_index(&idx, w8, 8));
		/* Entropy whose every 11-bit group is 7 (checksum aside). */
		memset(ent, 0, sizeof(ent));
		for (i = 0; i < 24 * 11; i++)
			if ((7 >> (10 - i % 11)) & 1)
				ent[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		CHECK_OK(al_bip39_from_entropy(m, sizeof(m), ent, 32));
		CHECK(strncmp(m, "abstract abstract ", 18) == 0);
	}
	memset(ent, 0xff, sizeof(ent));
	CHECK_OK(al_bip39_from_entropy(m, sizeof(m), ent, 32));
	len = strlen(m);
	CHECK_ERR(al_bip39_from_entropy(m, len, ent, 32), AL_E_BUFSIZE);
	CHECK(m[0] == '\0');
	CHECK_OK(al_bip39_from_entropy(m, len + 1, ent, 32));
}

static void test_mnemonic_errors(void)
{
	uint8_t ent[32];
	char m[600];
	size_t n, len = strlen(abandon12), i;

	CHECK_OK(al_bip39_to_entropy(ent, sizeof(ent), &n, abandon12, len));
	CHECK(n == 16);
	CHECK_ERR(al_bip39_to_entropy(ent, 15, &n, abandon12, len), AL_E_BUFSIZE);
	/* Truncated: the last word cut short, or dropped. */
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, abandon12, len - 1), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, abandon12, len - 5), AL_E_BIP39_WORD);
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, abandon12, len - 6), AL_E_BIP39_WORDS);
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, "", 0), AL_E_BIP39_WORDS);
	for (i = 0; i < len; i++)
		CHECK(al_bip39_to_entropy(ent, sizeof(ent), &n, abandon12, i) != AL_OK);
	/* A trailing space makes a 13th (empty) word. */
	memcpy(m, abandon12, len);
	m[len] = ' ';
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, m, len + 1), AL_E_BIP39_WORDS);
	/* Doubled space inside an 11-word sentence: 12 words, one of them empty. */
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n,
	                              "abandon  abandon abandon abandon abandon abandon abandon "
	                              "abandon abandon abandon about",
	                              85),
	          AL_E_BIP39_WORD);
	/* Valid words, wrong checksum. */
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n,
	                              "abandon abandon abandon abandon abandon abandon abandon "
	                              "abandon abandon abandon abandon abandon",
	                              95),
	          AL_E_BIP39_CHECKSUM);
	/* Upper case and non-ASCII are not in the list. */
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n,
	                              "Abandon abandon abandon abandon abandon abandon abandon "
	                              "abandon abandon abandon abandon about",
	                              93),
	          AL_E_BIP39_WORD);
	memcpy(m, abandon12, len);
	m[0] = (char)0xc3;
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, m, len), AL_E_BIP39_WORD);
	/* Oversized: 25 words, and a long input. */
	m[0] = '\0';
	for (i = 0; i < 25; i++)
		strcat(m, i ? " zoo" : "zoo");
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, m, strlen(m)), AL_E_BIP39_WORDS);
	memset(m, 'a', sizeof(m));
	CHECK_ERR(al_bip39_to_entropy(ent, sizeof(ent), &n, m, sizeof(m)), AL_E_BIP39_WORDS);
}

static void test_seed(void)
{
	/* PBKDF2 recomputed independently, empty passphrase. */
	static const char want_hex[] =
	    "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc1"
	    "9a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4";
	const uint8_t *want = al_t_unhex(want_hex, NULL);
	static char pass[AL_BIP39_PASSPHRASE_MAX + 1];
	uint8_t seed[AL_BIP39_SEED_LEN];
	size_t len = strlen(abandon12);

	CHECK_OK(al_bip39_to_seed(seed, abandon12, len, "", 0));
	CHECK_MEM(seed, want, 64);
	CHECK_ERR(al_bip39_to_seed(seed, abandon12, len, "caf\xc3\xa9", 5), AL_E_BIP39_ASCII);
	CHECK(seed[0] == 0 && seed[63] == 0);
	CHECK_ERR(al_bip39_to_seed(seed, abandon12, len - 1, "", 0), AL_E_BIP39_WORD);
	memset(pass, 'p', sizeof(pass));
	CHECK_OK(al_bip39_to_seed(seed, abandon12, len, pass, AL_BIP39_PASSPHRASE_MAX));
	CHECK_ERR(al_bip39_to_seed(seed, abandon12, len, pass, AL_BIP39_PASSPHRASE_MAX + 1),
	          AL_E_TOO_LARGE);
}

int main(void)
{
	test_wordlist();
	test_lookup();
	test_entropy();
	test_mnemonic_errors();
	test_seed();
	return al_t_finish();
}
