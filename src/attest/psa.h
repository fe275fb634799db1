/* Arm PSA attestation tokens (RFC 9783; PSA profile 1 keys -75000..-75010 too):
 * COSE_Sign1 (RFC 9052 section 4.2) with ES256, checked against a given public key.
 *
 * Steps reported: cose_format (structure, protected header, algorithm), key (the
 * given key is not a P-256 public key), cose_signature (ES256 over the
 * Sig_structure ["Signature1", protected, h'', payload]), psa_claims (claim set),
 * psa_lifecycle (not "secured" or a debug state). COSE_Mac0 tokens are recognised
 * and refused: they need the symmetric key, which this verifier does not take. */
#ifndef ALIGHT_ATTEST_PSA_H
#define ALIGHT_ATTEST_PSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/der.h"
#include "util/arena.h"
#include "util/err.h"

typedef struct al_cose_sign1 {
	bool mac0;             /* tag 17 */
	al_att_blob protected; /* the bstr's content, as signed */
	int64_t alg;
	al_att_blob payload;
	al_att_blob signature;
} al_cose_sign1;

/* Split a COSE_Sign1/COSE_Mac0 (tagged or not) and read the protected alg. */
AL_WARN_UNUSED al_err al_cose_parse(al_cose_sign1 *c, const uint8_t *data, size_t len);
/* Read the PSA claims into res (profile, nonce, lifecycle, IDs, components). */
AL_WARN_UNUSED al_err al_psa_claims_parse(al_att_result *res, const uint8_t *claims, size_t len);
/* Verify in->evidence with in->key; AL_E_ATT_MISSING without a key. */
AL_WARN_UNUSED al_err al_psa_verify(al_arena *a, al_att_result *res, const al_att_input *in);

#endif
