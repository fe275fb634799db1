/* OpenSSL 3 underneath the attestation verifiers: X.509 parsing, chain building with
 * CRLs at a given time, ECDSA over raw r||s, certificate extensions by raw OID bytes.
 *
 * The time is always an input (seconds since 1970, UTC); nothing here reads a clock.
 * Objects returned are OpenSSL-owned: the caller frees them (X509_free, ...). */
#ifndef ALIGHT_ATTEST_X509_H
#define ALIGHT_ATTEST_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/der.h"
#include "util/err.h"

/* Parse one DER certificate that must span all `len` bytes: AL_E_ATT_CERT. */
AL_WARN_UNUSED al_err al_att_x509_parse(X509 **out, const uint8_t *der, size_t len);
/* Parse one DER CRL spanning all `len` bytes: AL_E_ATT_CERT. */
AL_WARN_UNUSED al_err al_att_crl_parse(X509_CRL **out, const uint8_t *der, size_t len);

/* Verify `leaf` through `inter` to the single trust anchor `anchor` (self-signed) at
 * `now`: signatures, validity windows, CA constraints, and, when `n_crls` > 0,
 * revocation of every certificate below the anchor against the CRLs (which must be
 * current at `now` too). AL_E_ATT_CHAIN; *detail gets OpenSSL's static reason text. */
AL_WARN_UNUSED al_err al_att_chain_verify(X509 *leaf, X509 *const *inter, size_t n_inter,
                                          X509 *anchor, X509_CRL *const *crls, size_t n_crls,
                                          int64_t now, const char **detail);

/* ECDSA over `msg` with SHA-256 (`n` = 32, P-256) or SHA-384 (`n` = 48, P-384), the
 * signature given as big-endian r and s of `n` bytes each: AL_E_SIG_INVALID. */
AL_WARN_UNUSED al_err al_att_ecdsa_verify(EVP_PKEY *key, const uint8_t *r, const uint8_t *s,
                                          size_t n, const uint8_t *msg, size_t len);
/* A P-256 (`n` = 32) or P-384 (`n` = 48) public key from raw big-endian X||Y. */
AL_WARN_UNUSED al_err al_att_ec_pubkey(EVP_PKEY **out, const uint8_t *xy, size_t n);

/* The value (contents of the extnValue OCTET STRING) of the extension whose OID
 * content octets are `oid`; the range lives as long as `x`. AL_E_ATT_EXTENSION if
 * absent, AL_E_ATT_CERT if present twice. */
AL_WARN_UNUSED al_err al_att_x509_ext(X509 *x, const uint8_t *oid, size_t oidlen, al_att_blob *val);
/* True if the subject's (last) common name equals `cn` (or contains it). */
bool al_att_x509_cn_is(X509 *x, const char *cn, bool substring);
/* One certificate given as PEM (strict, exactly one block) or DER: its DER bytes
 * (PEM decoded into the arena, DER returned as is). */
AL_WARN_UNUSED al_err al_att_cert_der(al_arena *a, al_att_blob *der, const uint8_t *data,
                                      size_t len);
/* DER SubjectPublicKeyInfo of `x`, written into the arena. */
AL_WARN_UNUSED al_err al_att_x509_spki(al_arena *a, al_att_blob *out, X509 *x);

#endif
