#include "crypto/aead.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/mem.h"
#include "util/cursor.h"

void al_aead_bolt8_nonce(uint8_t nonce[AL_AEAD_NONCE_LEN], uint64_t n)
{
	memset(nonce, 0, 4);
	al_write_le64(nonce + 4, n);
}

/* EVP takes int lengths: feed long inputs in pieces. */
static int update(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t len)
{
	while (len) {
		int chunk = len > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)len, got;
		if (EVP_CipherUpdate(c, out, &got, in, chunk) != 1 || got != chunk)
			return 0;
		if (out)
			out += chunk;
		in += chunk;
		len -= (size_t)chunk;
	}
	return 1;
}

static EVP_CIPHER_CTX *begin(int enc, const uint8_t *key, const uint8_t *nonce, const void *ad,
                             size_t adlen)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (!c)
		return NULL;
	if (EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, AL_AEAD_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1 ||
	    (adlen && !update(c, NULL, ad, adlen))) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

al_err al_aead_seal(uint8_t *out, const uint8_t key[AL_AEAD_KEY_LEN],
                    const uint8_t nonce[AL_AEAD_NONCE_LEN], const void *ad, size_t adlen,
                    const void *pt, size_t ptlen)
{
	EVP_CIPHER_CTX *c = begin(1, key, nonce, ad, adlen);
	int got;
	al_err err = AL_E_CRYPTO;

	if (!c)
		return AL_E_CRYPTO;
	if (update(c, out, pt, ptlen) && EVP_CipherFinal_ex(c, out + ptlen, &got) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AL_AEAD_TAG_LEN, out + ptlen) == 1)
		err = AL_OK;
	EVP_CIPHER_CTX_free(c);
	return err;
}

al_err al_aead_open(uint8_t *out, const uint8_t key[AL_AEAD_KEY_LEN],
                    const uint8_t nonce[AL_AEAD_NONCE_LEN], const void *ad, size_t adlen,
                    const void *ct, size_t ctlen)
{
	EVP_CIPHER_CTX *c;
	uint8_t tag[AL_AEAD_TAG_LEN];
	size_t len;
	int got;
	al_err err = AL_E_CRYPTO;

	if (ctlen < AL_AEAD_TAG_LEN)
		return AL_E_TRUNCATED;
	len = ctlen - AL_AEAD_TAG_LEN;
	/* Copy the tag first: out may alias ct. */
	memcpy(tag, (const uint8_t *)ct + len, AL_AEAD_TAG_LEN);
	c = begin(0, key, nonce, ad, adlen);
	if (!c)
		return AL_E_CRYPTO;
	if (update(c, out, ct, len) &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AL_AEAD_TAG_LEN, tag) == 1) {
		if (EVP_CipherFinal_ex(c, out + len, &got) == 1) {
			err = AL_OK;
		} else {
			al_memzero(out, len);
			err = AL_E_AEAD_AUTH;
		}
	}
	EVP_CIPHER_CTX_free(c);
	return err;
}

al_err al_chacha20_xor(uint8_t *buf, size_t len, const uint8_t key[AL_AEAD_KEY_LEN])
{
	/* OpenSSL's IV for ChaCha20 is the 32-bit little-endian counter then the nonce. */
	static const uint8_t iv[16] = {0};
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	al_err err = AL_E_CRYPTO;

	if (!c)
		return AL_E_CRYPTO;
	if (EVP_CipherInit_ex(c, EVP_chacha20(), NULL, key, iv, 1) == 1 && update(c, buf, buf, len))
		err = AL_OK;
	EVP_CIPHER_CTX_free(c);
	return err;
}
