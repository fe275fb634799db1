/* Hash functions, HMAC, HKDF and PBKDF2: thin wrappers over OpenSSL 3.
 *
 * SHA-256 and RIPEMD-160 use OpenSSL's fixed-size context structures rather than
 * EVP: they live on the caller's stack, never allocate, and are cheap enough for the
 * thousands of small hashes that BIP143, BIP32 and shachain do. HMAC, HKDF and
 * PBKDF2 go through OpenSSL's one-shot EVP interfaces, which allocate internally
 * through OpenSSL's allocator (routed to the enclave heap by the enclave runtime);
 * those can therefore fail and return al_err. */
#ifndef ALIGHT_CRYPTO_HASH_H
#define ALIGHT_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "util/err.h"

typedef struct al_sha256_ctx {
	SHA256_CTX c;
} al_sha256_ctx;

void al_sha256_init(al_sha256_ctx *ctx);
void al_sha256_update(al_sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void al_sha256_final(al_sha256_ctx *ctx, uint8_t out[32]);

void al_sha256(uint8_t out[32], const void *data, size_t len);
/* SHA-256(SHA-256(data)), Bitcoin's hash for txids and checksums. */
void al_sha256d(uint8_t out[32], const void *data, size_t len);
void al_sha512(uint8_t out[64], const void *data, size_t len);
void al_ripemd160(uint8_t out[20], const void *data, size_t len);
/* RIPEMD-160(SHA-256(data)). */
void al_hash160(uint8_t out[20], const void *data, size_t len);

AL_WARN_UNUSED al_err al_hmac_sha256(uint8_t out[32], const void *key, size_t keylen,
                                     const void *data, size_t len);
AL_WARN_UNUSED al_err al_hmac_sha512(uint8_t out[64], const void *key, size_t keylen,
                                     const void *data, size_t len);

/* RFC 5869 HKDF-SHA256 (extract then expand) into `outlen` bytes. BOLT 8 calls it
 * as HKDF(salt=ck, ikm) with empty info and a 64-byte output. */
AL_WARN_UNUSED al_err al_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
                                     const void *ikm, size_t ikmlen, const void *info,
                                     size_t infolen);

/* PBKDF2-HMAC-SHA512, as BIP39 uses it for the seed. */
AL_WARN_UNUSED al_err al_pbkdf2_sha512(uint8_t *out, size_t outlen, const void *pass,
                                       size_t passlen, const void *salt, size_t saltlen,
                                       uint32_t iterations);

#endif
