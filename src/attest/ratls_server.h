/* RA-TLS, server side: the enclave's TLS identity is a key made inside the enclave
 * and a self-signed certificate carrying a quote that binds that key (ATTESTATION.md
 * 4.1, 4.2; checked by attest/ratls.h and attest/ratls_client.h).
 *
 * The certificate (X.509 v3, ECDSA P-256 with SHA-256, subject = issuer =
 * CN=alight RA-TLS, O=alight) carries one non-critical extension, the TCG DICE
 * tagged evidence:
 *
 *   OID 2.23.133.5.4.9 (DER 06 06 67 81 05 05 04 09), value (the OCTET STRING's
 *   content) = CBOR #6.60000([bstr quote, bstr claims])      ; D9 EA 60 82 ...
 *   claims   = CBOR {"pubkey-hash": [1, bstr SHA-256(DER SubjectPublicKeyInfo)]}
 *            = A1 6B "pubkey-hash" 82 01 58 20 <32 bytes>     (49 bytes)
 *   quote REPORTDATA (64 bytes) = SHA-256(claims) || 32 zero bytes
 *
 * hash-alg-id 1 is SHA-256 in the IANA named-information registry. The pubkey-hash
 * array is written directly in the map (Intel sgx_ttls); the verifier also reads
 * the bstr-wrapped form.
 *
 * Quotes come through a callback: in platform `sim`, al_sim_quote (the simulated
 * quoting enclave); on SGX hardware, the QE behind an ocall. Core rules: no I/O,
 * time is an input (the certificate's validity starts at `now`), keys and the
 * certificate are OpenSSL objects (OpenSSL's allocator, routed to the enclave heap),
 * fixed scratch comes from an arena. */
#ifndef ALIGHT_ATTEST_RATLS_SERVER_H
#define ALIGHT_ATTEST_RATLS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/tls.h"
#include "util/arena.h"
#include "util/err.h"

struct x509_st;
struct evp_pkey_st;

#define AL_RATLS_CLAIMS_LEN 49
/* Validity of the certificate: from `now` for this many seconds. */
#define AL_RATLS_CERT_LIFETIME (30 * 24 * 3600)
/* Largest quote al_ratls_identity_make asks for (the scratch it needs is about
 * twice this). */
#define AL_RATLS_QUOTE_MAX (16 * 1024)

/* Produce a quote for `report_data`: at most cap bytes into quote, *len set. */
typedef al_err (*al_ratls_quote_fn)(void *arg, uint8_t *quote, size_t cap, size_t *len,
                                    const uint8_t report_data[64]);

/* The enclave's TLS identity. */
typedef struct al_ratls_identity {
	struct evp_pkey_st *key;
	struct x509_st *cert;
	uint8_t report_data[64]; /* what the quote in the certificate binds */
} al_ratls_identity;

/* The claims for a key: {"pubkey-hash": [1, SHA-256(spki)]}; AL_RATLS_CLAIMS_LEN. */
void al_ratls_claims(uint8_t out[AL_RATLS_CLAIMS_LEN], const uint8_t *spki, size_t spki_len);
/* REPORTDATA for claims: SHA-256(claims) || 32 zeros. */
void al_ratls_report_data(uint8_t out[64], const uint8_t *claims, size_t len);
/* The extension value #6.60000([quote, claims]) into out[0..cap). AL_E_BUFSIZE. */
AL_WARN_UNUSED al_err al_ratls_evidence(uint8_t *out, size_t cap, size_t *len, const uint8_t *quote,
                                        size_t quote_len, const uint8_t *claims, size_t claims_len);
/* The subject of the enclave's certificate. */
#define AL_RATLS_CN "alight RA-TLS"
/* A self-signed certificate for `key` with subject CN=cn, O=alight, carrying `evidence`
 * in the DICE extension (none when evidence is NULL: a plain self-signed certificate,
 * e.g. the user's credential for mutual TLS), valid from `now`. (Exposed so tests can
 * pair a key with someone else's evidence.) */
AL_WARN_UNUSED al_err al_ratls_cert_build(struct x509_st **out, struct evp_pkey_st *key,
                                          const char *cn, const uint8_t *evidence, size_t len,
                                          int64_t now);

/* Make the identity: a fresh P-256 key (OpenSSL's DRBG), its claims, a quote of
 * them from `quote`, and the certificate. `scratch` needs 2 * AL_RATLS_QUOTE_MAX
 * bytes; it is released. Errors: the quote callback's, AL_E_NOMEM, AL_E_CRYPTO. */
AL_WARN_UNUSED al_err al_ratls_identity_make(al_ratls_identity *id, al_arena *scratch,
                                             al_ratls_quote_fn quote, void *quote_arg, int64_t now);
void al_ratls_identity_clear(al_ratls_identity *id);

/* Point a TLS server configuration at the identity (borrowed by the context). */
void al_ratls_server_config(al_tls_config *cfg, const al_ratls_identity *id);

#endif
