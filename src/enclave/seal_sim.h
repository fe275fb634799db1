/* Sealing on the simulated platform: data only this enclave image on this platform
 * can read back.
 *
 * ARCHITECTURE.md, "The enclave boundary": "Sealing: keys derived from the
 * measurement and a platform secret; AEAD over sealed blobs." As SGX's EGETKEY with
 * the MRENCLAVE policy, the key depends on the measurement of the image that seals:
 *
 *   key  = HKDF-SHA256(salt = "alight/sim-seal/v1", ikm = platform secret,
 *                      info = measurement || label)
 *   blob = "ASL1" || measurement (32) || nonce (12) || ChaCha20-Poly1305(key, nonce,
 *          ad = "ASL1" || measurement || nonce, plaintext)
 *
 * The measurement travels in the clear so that a blob from another image is refused
 * for that precise reason (AL_E_SEAL_MEASUREMENT) instead of as a bad tag; rewriting
 * it does not help, since the key is always derived from the unsealing enclave's own
 * measurement. The label separates purposes (a node key, a counter, ...). */
#ifndef ALIGHT_ENCLAVE_SEAL_SIM_H
#define ALIGHT_ENCLAVE_SEAL_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define AL_SEALSIM_MAGIC_LEN  4
#define AL_SEALSIM_NONCE_LEN  12
#define AL_SEALSIM_HEADER_LEN (AL_SEALSIM_MAGIC_LEN + 32 + AL_SEALSIM_NONCE_LEN)
/* Bytes a blob adds to its plaintext. */
#define AL_SEALSIM_OVERHEAD (AL_SEALSIM_HEADER_LEN + 16)

typedef struct al_sealsim {
	uint8_t platform_secret[32]; /* secret: wiped by al_sealsim_clear */
	uint8_t measurement[32];
} al_sealsim;

void al_sealsim_init(al_sealsim *s, const uint8_t platform_secret[32],
                     const uint8_t measurement[32]);
void al_sealsim_clear(al_sealsim *s);

/* Seal `len` bytes into out (cap >= len + AL_SEALSIM_OVERHEAD, else AL_E_BUFSIZE);
 * `nonce` must be fresh randomness (12 bytes). */
AL_WARN_UNUSED al_err al_sealsim_seal(const al_sealsim *s, uint8_t *out, size_t cap, size_t *outlen,
                                      const char *label, const uint8_t nonce[12], const uint8_t *pt,
                                      size_t len);
/* Open a blob into out (cap >= len - AL_SEALSIM_OVERHEAD). Errors: AL_E_SEAL_FORMAT
 * (too short or not a sealed blob), AL_E_SEAL_MEASUREMENT (sealed by another image),
 * AL_E_SEAL_AUTH (modified, another platform secret or another label; out wiped). */
AL_WARN_UNUSED al_err al_sealsim_unseal(const al_sealsim *s, uint8_t *out, size_t cap,
                                        size_t *outlen, const char *label, const uint8_t *blob,
                                        size_t len);

#endif
