#include "crypto/rng.h"

#include <string.h>

#include <openssl/evp.h>

#include "util/cursor.h"

al_err al_rng_fill(const al_rng *rng, void *out, size_t len)
{
	if (!rng || !rng->fill)
		return AL_E_ARG;
	return rng->fill(rng->state, out, len);
}

static al_err chacha_fill(void *state, uint8_t *out, size_t len)
{
	al_rng_chacha *st = state;
	EVP_CIPHER_CTX *c;
	uint8_t iv[16];
	al_err err = AL_E_CRYPTO;
	int got;

	if (len > INT32_MAX)
		return AL_E_ARG;
	/* OpenSSL's ChaCha20 IV is a 32-bit little-endian block counter followed by a
	 * 96-bit nonce; we keep the nonce zero and advance the counter. */
	memset(iv, 0, sizeof(iv));
	al_write_le32(iv, (uint32_t)st->block);
	al_write_le32(iv + 4, (uint32_t)(st->block >> 32));
	memset(out, 0, len);
	c = EVP_CIPHER_CTX_new();
	if (c && EVP_EncryptInit_ex(c, EVP_chacha20(), NULL, st->key, iv) == 1 &&
	    EVP_EncryptUpdate(c, out, &got, out, (int)len) == 1 && (size_t)got == len) {
		st->block += (len + 63) / 64;
		err = AL_OK;
	}
	EVP_CIPHER_CTX_free(c);
	return err;
}

void al_rng_chacha_init(al_rng_chacha *st, al_rng *rng, const uint8_t seed[32])
{
	memcpy(st->key, seed, 32);
	st->block = 0;
	rng->fill = chacha_fill;
	rng->state = st;
}
