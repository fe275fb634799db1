/* P-256 keys from bytes, for TLS identities that must be derived rather than drawn:
 * the user's credential, which the user's device and the enclave both derive from the
 * user's seed (node/keys.h) and compare by its public key's pin.
 *
 * OpenSSL 3 holds the key (its allocator, routed to the enclave heap inside the
 * image); the scalar never appears outside the key object and the caller's buffer,
 * which the caller wipes. */
#ifndef ALIGHT_CRYPTO_P256_H
#define ALIGHT_CRYPTO_P256_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct evp_pkey_st;

/* The key with private scalar d (big-endian): AL_E_PRIVKEY unless 0 < d < n. */
AL_WARN_UNUSED al_err al_p256_from_scalar(struct evp_pkey_st **out, const uint8_t d[32]);
/* A key derived from secret input keying material: the first scalar in range of
 * HKDF-SHA256(salt = label, ikm, info = "p256" || counter) for counter = 0, 1, ...
 * (a retry happens with probability below 2^-32). */
AL_WARN_UNUSED al_err al_p256_derive(struct evp_pkey_st **out, const uint8_t *ikm, size_t len,
                                     const char *label);
/* SHA-256 of the key's DER SubjectPublicKeyInfo: the pin crypto/tls.h compares. */
AL_WARN_UNUSED al_err al_pkey_pin(uint8_t out[32], struct evp_pkey_st *key);

#endif
