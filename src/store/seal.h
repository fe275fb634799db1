/* Sealed records: how one key-value object looks to the untrusted storage operator.
 *
 * ARCHITECTURE.md, "Persistence": "Values are encrypted and authenticated inside the
 * enclave (ChaCha20-Poly1305; keys derived from the node seed; key names obfuscated;
 * associated data binds name and version)."
 *
 * Keys. Two 32-byte keys per node, from the node seed with HKDF-SHA256 (RFC 5869)
 * under distinct info labels: one encrypts values, the other keys the HMAC that
 * turns (namespace, key) into the opaque object name the operator sees.
 *
 * Object names (AL_SEAL_NAME_LEN = 32 bytes):
 *   name[0..16)  = HMAC-SHA256(k_name, "N" || len(ns) || ns)[0..16)
 *   name[16..32) = HMAC-SHA256(k_name, "K" || len(ns) || ns || len(key) || key)[0..16)
 * The first half is the namespace tag that lets a backend list one namespace by
 * prefix. The operator therefore learns which objects share a namespace and how many
 * there are, nothing of the names themselves.
 *
 * Record format 1 (all integers big-endian):
 *   [0]       format byte 0x01
 *   [1..5)    length of the whole record (lets truncation be told from tampering)
 *   [5..13)   object version this record was written as (VSS key-level version, >= 1)
 *   [13..21)  store-wide global version after the write batch that wrote it (>= 1)
 *   [21..53)  the object name (lets a swapped record be told from a modified one)
 *   [53..65)  ChaCha20-Poly1305 nonce, 12 random bytes from the caller's al_rng
 *   [65..)    ciphertext of (len(key) || key || value), then the 16-byte tag
 * The associated data is bytes [0..53) followed by len(ns) || ns: it binds the name
 * (and through the HMAC the plaintext namespace and key), the object version and the
 * global version, so a record moved to another key or served as another version
 * fails to open. The plaintext key lets a namespace be listed without a name index.
 *
 * Opening checks, in order: format byte (AL_E_STORE_FORMAT), length (shorter than
 * stated: AL_E_STORE_TRUNCATED; longer: AL_E_STORE_TAMPERED), name (another name:
 * AL_E_STORE_SWAPPED if the record is authentic for that name in the same namespace,
 * else AL_E_STORE_TAMPERED), the version the backend reports
 * against the version in the record (older record: AL_E_STORE_ROLLBACK, otherwise
 * AL_E_STORE_TAMPERED), then the tag (AL_E_STORE_TAMPERED). The header checks only
 * classify a failure; only an authentic record ever succeeds. */
#ifndef ALIGHT_STORE_SEAL_H
#define ALIGHT_STORE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/rng.h"
#include "util/err.h"

#define AL_SEAL_FORMAT_V1  0x01
#define AL_SEAL_NAME_LEN   32
#define AL_SEAL_NS_TAG_LEN 16
#define AL_SEAL_HEADER_LEN 65
/* Bytes a record adds to its value, besides the key name: header, key length, tag. */
#define AL_SEAL_OVERHEAD (AL_SEAL_HEADER_LEN + 1 + 16)
/* Namespace and key names are 1..255 bytes (the empty namespace is the store's own). */
#define AL_SEAL_NAME_MAX 255
/* Largest value a record may carry (a channel monitor fits comfortably). */
#define AL_SEAL_VALUE_MAX (16u << 20)
#define AL_SEAL_MIN_SEED  16

typedef struct al_seal_keys {
	uint8_t enc[32];  /* ChaCha20-Poly1305 key for values */
	uint8_t name[32]; /* HMAC-SHA256 key for object names */
} al_seal_keys;

/* An opened record; pointers into the caller's record buffer. */
typedef struct al_seal_view {
	const uint8_t *key; /* not NUL-terminated */
	size_t keylen;
	const uint8_t *value;
	size_t len;
	int64_t version;        /* object version the record was written as */
	int64_t global_version; /* global version of the batch that wrote it */
} al_seal_view;

/* Derive the storage keys from a node seed of at least AL_SEAL_MIN_SEED bytes. */
AL_WARN_UNUSED al_err al_seal_keys_derive(al_seal_keys *k, const uint8_t *seed, size_t seedlen);
void al_seal_keys_clear(al_seal_keys *k);

/* The opaque object name of (ns, key); ns may be empty, key may not. */
AL_WARN_UNUSED al_err al_seal_name(const al_seal_keys *k, uint8_t out[AL_SEAL_NAME_LEN],
                                   const char *ns, const char *key);
/* The namespace tag: the first AL_SEAL_NS_TAG_LEN bytes of every name in ns. */
AL_WARN_UNUSED al_err al_seal_ns_tag(const al_seal_keys *k, uint8_t out[AL_SEAL_NS_TAG_LEN],
                                     const char *ns);

/* Size of the record for a key of `keylen` bytes and a value of `len` bytes. */
size_t al_seal_record_len(size_t keylen, size_t len);

/* Seal `value` as object (ns, key) written at `version` by the batch that brings the
 * store to `global_version`. `out` receives al_seal_record_len() bytes. */
AL_WARN_UNUSED al_err al_seal_record(const al_seal_keys *k, const al_rng *rng, uint8_t *out,
                                     size_t cap, size_t *outlen, const char *ns, const char *key,
                                     int64_t version, int64_t global_version, const uint8_t *value,
                                     size_t len);

/* Open `rec` (decrypted in place) found under object `name` in namespace `ns`, which
 * the backend says has `version`. On success `view` points into `rec`; on failure
 * `view` is zeroed and the plaintext area of `rec` wiped. */
AL_WARN_UNUSED al_err al_seal_open(const al_seal_keys *k, al_seal_view *view, uint8_t *rec,
                                   size_t len, const char *ns, const uint8_t name[AL_SEAL_NAME_LEN],
                                   int64_t version);

#endif
