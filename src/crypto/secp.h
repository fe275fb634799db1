/* secp256k1 through libsecp256k1: keys, ECDSA, ECDH, BIP340 Schnorr and tweaks.
 *
 * Following libsecp256k1's own rules: the context comes first, then outputs, then
 * inputs; the context lives in caller memory (preallocated API, no allocation);
 * outputs are zeroed on failure. Private keys are wiped by whoever owns them
 * (al_privkey_clear). Signing uses RFC 6979 nonces and always yields low-S. */
#ifndef ALIGHT_CRYPTO_SECP_H
#define ALIGHT_CRYPTO_SECP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

#include "util/err.h"

#define AL_PUBKEY_LEN     33
#define AL_DER_SIG_MAXLEN 72

typedef struct al_secp al_secp;

typedef struct al_privkey {
	uint8_t k[32];
} al_privkey;

/* A public key that has been validated (never the point at infinity). */
typedef struct al_pubkey {
	secp256k1_pubkey pk;
} al_pubkey;

typedef struct al_xonly {
	secp256k1_xonly_pubkey pk;
} al_xonly;

typedef struct al_ecdsa_sig {
	secp256k1_ecdsa_signature s;
} al_ecdsa_sig;

/* Bytes of memory al_secp_create needs. */
size_t al_secp_size(void);
/* Build a context inside `mem` (at least al_secp_size() bytes, 16-byte aligned).
 * `seed` (32 bytes of fresh randomness, an input like all randomness in the core)
 * blinds the signing computations against side channels; NULL skips blinding. */
AL_WARN_UNUSED al_err al_secp_create(al_secp **out, void *mem, size_t len, const uint8_t *seed);
/* Wipe the context; the memory is the caller's again. */
void al_secp_destroy(al_secp *ctx);
/* API misuse detected by libsecp256k1 (its "illegal argument" callback); a correct
 * program keeps this at zero. */
unsigned long al_secp_illegal_count(const al_secp *ctx);

void al_privkey_clear(al_privkey *k);
bool al_privkey_valid(const al_secp *ctx, const al_privkey *k);
AL_WARN_UNUSED al_err al_pubkey_from_privkey(const al_secp *ctx, al_pubkey *out,
                                             const al_privkey *k);
/* 33-byte compressed or 65-byte uncompressed SEC1 encoding. */
AL_WARN_UNUSED al_err al_pubkey_parse(const al_secp *ctx, al_pubkey *out, const uint8_t *in,
                                      size_t len);
void al_pubkey_serialize(const al_secp *ctx, uint8_t out[AL_PUBKEY_LEN], const al_pubkey *pk);
/* Compare the compressed encodings lexicographically (<0, 0, >0). */
int al_pubkey_cmp(const al_secp *ctx, const al_pubkey *a, const al_pubkey *b);
bool al_pubkey_eq(const al_secp *ctx, const al_pubkey *a, const al_pubkey *b);

AL_WARN_UNUSED al_err al_ecdsa_sign(const al_secp *ctx, al_ecdsa_sig *sig, const uint8_t msg32[32],
                                    const al_privkey *k);
/* Bitcoin Core's low-R grinding (CKey::Sign with grind): RFC 6979, then again with the
 * extra data 1, 2, ... (a 32-byte little-endian counter) until r < 2^255, so that r's DER
 * encoding needs no 0x00 pad: a signature of at most 70 DER bytes. The same signature
 * Core's and Electrum's wallets make. For on-chain wallet spends; BOLT 3 signatures stay
 * plain RFC 6979 (al_ecdsa_sign), as its test vectors require. */
AL_WARN_UNUSED al_err al_ecdsa_sign_low_r(const al_secp *ctx, al_ecdsa_sig *sig,
                                          const uint8_t msg32[32], const al_privkey *k);
/* AL_E_SIG_HIGH_S for a high-S signature (BIP 62/146: never valid here),
 * AL_E_SIG_INVALID for a wrong one. */
AL_WARN_UNUSED al_err al_ecdsa_verify(const al_secp *ctx, const al_ecdsa_sig *sig,
                                      const uint8_t msg32[32], const al_pubkey *pk);
/* Strict DER (BIP 66). */
AL_WARN_UNUSED al_err al_ecdsa_sig_parse_der(const al_secp *ctx, al_ecdsa_sig *sig,
                                             const uint8_t *der, size_t len);
/* *outlen: capacity in, length out (at most AL_DER_SIG_MAXLEN). */
AL_WARN_UNUSED al_err al_ecdsa_sig_serialize_der(const al_secp *ctx, uint8_t *out, size_t *outlen,
                                                 const al_ecdsa_sig *sig);
/* 64-byte r || s, as BOLT messages carry signatures. */
AL_WARN_UNUSED al_err al_ecdsa_sig_parse_compact(const al_secp *ctx, al_ecdsa_sig *sig,
                                                 const uint8_t in[64]);
void al_ecdsa_sig_serialize_compact(const al_secp *ctx, uint8_t out[64], const al_ecdsa_sig *sig);
/* Lower S if needed; returns true if the input was high-S. */
bool al_ecdsa_sig_normalize(const al_secp *ctx, al_ecdsa_sig *out, const al_ecdsa_sig *in);

/* Compact recoverable signatures, as BOLT 11 invoices carry them: 64 bytes r || s
 * and a recovery id 0..3 naming which of the candidate points R the nonce was. The
 * signature is RFC 6979 and low-S, like al_ecdsa_sign. */
AL_WARN_UNUSED al_err al_ecdsa_sign_recoverable(const al_secp *ctx, uint8_t sig64[64], int *recid,
                                                const uint8_t msg32[32], const al_privkey *k);
/* The public key for which (sig64, recid) signs msg32. High-S is accepted (recovery
 * is defined for either S; BOLT 11 requires accepting both). AL_E_SIG_ENCODING for r
 * or s out of range or a recovery id above 3, AL_E_SIG_INVALID when no key results. */
AL_WARN_UNUSED al_err al_ecdsa_recover(const al_secp *ctx, al_pubkey *out, const uint8_t sig64[64],
                                       int recid, const uint8_t msg32[32]);

/* BOLT #8 ECDH: SHA-256 of the compressed shared point. */
AL_WARN_UNUSED al_err al_ecdh(const al_secp *ctx, uint8_t out[32], const al_pubkey *pk,
                              const al_privkey *k);

/* BIP 340. */
AL_WARN_UNUSED al_err al_xonly_from_privkey(const al_secp *ctx, al_xonly *out, const al_privkey *k);
AL_WARN_UNUSED al_err al_xonly_parse(const al_secp *ctx, al_xonly *out, const uint8_t in[32]);
void al_xonly_serialize(const al_secp *ctx, uint8_t out[32], const al_xonly *pk);
/* Sign a message of any length; `aux32` is 32 bytes of auxiliary randomness (NULL
 * for none, as BIP 340 permits). */
AL_WARN_UNUSED al_err al_schnorr_sign(const al_secp *ctx, uint8_t sig[64], const uint8_t *msg,
                                      size_t msglen, const al_privkey *k, const uint8_t *aux32);
AL_WARN_UNUSED al_err al_schnorr_verify(const al_secp *ctx, const uint8_t sig[64],
                                        const uint8_t *msg, size_t msglen, const al_xonly *pk);

/* Tweaks (scalars as 32-byte big-endian). k := k + t, k := k * t, P := P + t*G,
 * P := t*P. AL_E_TWEAK if the tweak is out of range or the result is invalid. */
AL_WARN_UNUSED al_err al_privkey_tweak_add(const al_secp *ctx, al_privkey *k,
                                           const uint8_t tweak[32]);
AL_WARN_UNUSED al_err al_privkey_tweak_mul(const al_secp *ctx, al_privkey *k,
                                           const uint8_t tweak[32]);
AL_WARN_UNUSED al_err al_pubkey_tweak_add(const al_secp *ctx, al_pubkey *pk,
                                          const uint8_t tweak[32]);
AL_WARN_UNUSED al_err al_pubkey_tweak_mul(const al_secp *ctx, al_pubkey *pk,
                                          const uint8_t tweak[32]);
/* out := a + b. */
AL_WARN_UNUSED al_err al_pubkey_combine(const al_secp *ctx, al_pubkey *out, const al_pubkey *a,
                                        const al_pubkey *b);

#endif
