/* ChaCha20-Poly1305 (RFC 8439, the IETF variant with a 96-bit nonce) over OpenSSL. */
#ifndef ALIGHT_CRYPTO_AEAD_H
#define ALIGHT_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define AL_AEAD_KEY_LEN   32
#define AL_AEAD_NONCE_LEN 12
#define AL_AEAD_TAG_LEN   16

/* BOLT #8: "the 96-bit nonce ... is encoded as 32 zero bits, followed by a
 * little-endian 64-bit value". */
void al_aead_bolt8_nonce(uint8_t nonce[AL_AEAD_NONCE_LEN], uint64_t n);

/* Encrypt `ptlen` bytes into `out`, which receives ptlen + 16 bytes (ciphertext then
 * tag). `out` may equal `pt`. */
AL_WARN_UNUSED al_err al_aead_seal(uint8_t *out, const uint8_t key[AL_AEAD_KEY_LEN],
                                   const uint8_t nonce[AL_AEAD_NONCE_LEN], const void *ad,
                                   size_t adlen, const void *pt, size_t ptlen);

/* Decrypt and authenticate `ctlen` bytes (ciphertext then tag) into `out`, which
 * receives ctlen - 16 bytes. AL_E_AEAD_AUTH on a bad tag, in which case `out` is
 * wiped; AL_E_TRUNCATED if ctlen < 16. `out` may equal `ct`. */
AL_WARN_UNUSED al_err al_aead_open(uint8_t *out, const uint8_t key[AL_AEAD_KEY_LEN],
                                   const uint8_t nonce[AL_AEAD_NONCE_LEN], const void *ad,
                                   size_t adlen, const void *ct, size_t ctlen);

/* XOR `len` bytes of ChaCha20 keystream (RFC 8439 block function, 96-bit zero nonce,
 * block counter 0) into `buf`: BOLT #4's generate_cipher_stream, "ChaCha20 ... with
 * a 96-bit zero nonce", used for onion routing information and failure messages. */
AL_WARN_UNUSED al_err al_chacha20_xor(uint8_t *buf, size_t len, const uint8_t key[AL_AEAD_KEY_LEN]);

#endif
