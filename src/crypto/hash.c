/* The low-level SHA256/SHA512/RIPEMD160 functions are deprecated in OpenSSL 3 in
 * favour of EVP, but EVP digests need a heap-allocated context; see hash.h. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/ripemd.h>

#include "util/mem.h"

void al_sha256_init(al_sha256_ctx *ctx)
{
	SHA256_Init(&ctx->c);
}

void al_sha256_update(al_sha256_ctx *ctx, const void *data, size_t len)
{
	SHA256_Update(&ctx->c, data, len);
}

void al_sha256_final(al_sha256_ctx *ctx, uint8_t out[32])
{
	SHA256_Final(out, &ctx->c);
	al_memzero(ctx, sizeof(*ctx));
}

void al_sha256(uint8_t out[32], const void *data, size_t len)
{
	al_sha256_ctx ctx;

	al_sha256_init(&ctx);
	al_sha256_update(&ctx, data, len);
	al_sha256_final(&ctx, out);
}

void al_sha256d(uint8_t out[32], const void *data, size_t len)
{
	uint8_t once[32];

	al_sha256(once, data, len);
	al_sha256(out, once, sizeof(once));
}

void al_sha512(uint8_t out[64], const void *data, size_t len)
{
	SHA512_CTX c;

	SHA512_Init(&c);
	SHA512_Update(&c, data, len);
	SHA512_Final(out, &c);
	al_memzero(&c, sizeof(c));
}

void al_ripemd160(uint8_t out[20], const void *data, size_t len)
{
	RIPEMD160_CTX c;

	RIPEMD160_Init(&c);
	RIPEMD160_Update(&c, data, len);
	RIPEMD160_Final(out, &c);
	al_memzero(&c, sizeof(c));
}

void al_hash160(uint8_t out[20], const void *data, size_t len)
{
	uint8_t sha[32];

	al_sha256(sha, data, len);
	al_ripemd160(out, sha, sizeof(sha));
}

static al_err hmac(const EVP_MD *md, uint8_t *out, unsigned int outlen, const void *key,
                   size_t keylen, const void *data, size_t len)
{
	unsigned int got = 0;
	static const uint8_t empty;

	if (keylen > INT32_MAX)
		return AL_E_ARG;
	/* OpenSSL rejects a NULL key even when its length is zero. */
	if (!key)
		key = &empty;
	if (!data)
		data = &empty;
	if (!HMAC(md, key, (int)keylen, data, len, out, &got) || got != outlen)
		return AL_E_CRYPTO;
	return AL_OK;
}

al_err al_hmac_sha256(uint8_t out[32], const void *key, size_t keylen, const void *data, size_t len)
{
	return hmac(EVP_sha256(), out, 32, key, keylen, data, len);
}

al_err al_hmac_sha512(uint8_t out[64], const void *key, size_t keylen, const void *data, size_t len)
{
	return hmac(EVP_sha512(), out, 64, key, keylen, data, len);
}

al_err al_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
                      const void *ikm, size_t ikmlen, const void *info, size_t infolen)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5], *p = params;
	static const uint8_t empty;
	int ok;

	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	if (!kdf)
		return AL_E_CRYPTO;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!kctx)
		return AL_E_CRYPTO;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikm ? ikm : &empty),
	                                         ikmlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	                                         (void *)(salt ? salt : &empty), saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	                                         (void *)(info ? info : &empty), infolen);
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params);
	EVP_KDF_CTX_free(kctx);
	return ok == 1 ? AL_OK : AL_E_CRYPTO;
}

al_err al_pbkdf2_sha512(uint8_t *out, size_t outlen, const void *pass, size_t passlen,
                        const void *salt, size_t saltlen, uint32_t iterations)
{
	static const uint8_t empty;

	if (passlen > INT32_MAX || saltlen > INT32_MAX || outlen > INT32_MAX || iterations == 0 ||
	    iterations > INT32_MAX)
		return AL_E_ARG;
	if (PKCS5_PBKDF2_HMAC(pass ? pass : (const void *)&empty, (int)passlen,
	                      salt ? salt : &empty, (int)saltlen, (int)iterations, EVP_sha512(),
	                      (int)outlen, out) != 1)
		return AL_E_CRYPTO;
	return AL_OK;
}
