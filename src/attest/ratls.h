/* RA-TLS certificates: X.509 certificates that carry a DCAP quote bound to their
 * own public key (ATTESTATION.md section 4). Conventions, in the order the
 * verifier prefers them when several are present (only the first found is used):
 *
 *  1. TCG DICE tagged evidence, OID 2.23.133.5.4.9 (Gramine >= 1.8, Intel
 *     sgx_ttls): CBOR #6.60000([bstr quote, bstr claims]), claims a CBOR map with
 *     "pubkey-hash": [hash-alg-id, bstr hash(DER SPKI)] (the array may also come
 *     wrapped in a bstr); hash-alg-id per IANA named information: 1 SHA-256,
 *     7 SHA-384, 8 SHA-512. Binding: SGX REPORTDATA = SHA-256(claims) || 32 zeros;
 *     TDX REPORTDATA = SHA-384(claims) || 16 zeros.
 *  2. Gramine legacy: the extension whose on-wire OID content is the 11 bytes
 *     06 09 2A 86 48 86 F8 4D 8A 39 06 (Gramine's historical mistake, matched
 *     raw); the value is the raw quote; REPORTDATA = SHA-256(DER SPKI) || zeros.
 *  3. Intel 1.2.840.113741.1.13.1 without the DICE extension: the raw quote,
 *     bound like Gramine legacy.
 *  4. Open Enclave 1.3.6.1.4.1.311.105.1: a 16-byte oe_report_header_t (version
 *     u32 = 1, report_type u32, report_size u64 = the rest, little-endian) and the
 *     quote. Binding as in OE's legacy attestation-certificate verifier:
 *     REPORTDATA[0:32] = SHA-256(PEM public key including its NUL terminator).
 *     (Not checked against a certificate from a real OE enclave: none is in the
 *     samples.)
 *
 * Steps reported: cert_format, cert_signature (the certificate must verify under
 * its own key), cert_extension, ratls_binding, then the DCAP steps for the quote. */
#ifndef ALIGHT_ATTEST_RATLS_H
#define ALIGHT_ATTEST_RATLS_H

#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/der.h"
#include "util/arena.h"
#include "util/err.h"

/* The DICE tagged-evidence value: the quote and the serialized claims. */
AL_WARN_UNUSED al_err al_dice_evidence_parse(al_att_blob *quote, al_att_blob *claims,
                                             const uint8_t *value, size_t len);
/* The "pubkey-hash" claim: its algorithm id and hash. */
AL_WARN_UNUSED al_err al_dice_pubkey_hash(int64_t *alg, al_att_blob *hash, const uint8_t *claims,
                                          size_t len);
/* The Open Enclave header: the quote after it. */
AL_WARN_UNUSED al_err al_oe_evidence_parse(al_att_blob *quote, const uint8_t *value, size_t len);
/* Verify a certificate in in->evidence (PEM or DER), adding to `res`, which the caller
 * has zeroed (al_att_verify does) so that failures accumulate from an empty list. */
AL_WARN_UNUSED al_err al_ratls_verify(al_arena *a, al_att_result *res, const al_att_input *in);

#endif
