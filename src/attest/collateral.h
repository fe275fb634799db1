/* DCAP collateral: dcap-qvl's QuoteCollateralV3 JSON, Intel PCS TCB Info (v2/v3)
 * and QE Identity (v2), read with jansson into arena-backed structures.
 *
 * QuoteCollateralV3 (dcap-qvl src/collateral.rs) is one JSON object with string
 * members: pck_crl_issuer_chain, tcb_info_issuer_chain, qe_identity_issuer_chain
 * (PEM), root_ca_crl and pck_crl (hex DER), tcb_info and qe_identity (the signed
 * JSON text, verbatim), tcb_info_signature and qe_identity_signature (hex r||s).
 * All nine are required; any other member is an error (strictness: every byte of
 * the collateral is either meaningful or rejected).
 *
 * The signatures cover the exact bytes of the signed JSON value. dcap-qvl stores
 * that value as the decoded string. A PCS response body ({"tcbInfo":<VALUE>,
 * "signature":"<hex>"}) is accepted too: then the value's byte range is located
 * in the raw text (al_att_signed_json_split) and the signature member must be
 * absent from the outer object or equal. */
#ifndef ALIGHT_ATTEST_COLLATERAL_H
#define ALIGHT_ATTEST_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/der.h"
#include "util/arena.h"
#include "util/err.h"

#define AL_ATT_MAX_TCB_LEVELS 64
#define AL_ATT_MAX_MODULE_IDS 8
#define AL_ATT_MAX_LEVEL_ADV  64

typedef struct al_att_collateral {
	al_att_blob pck_crl_issuer_chain; /* PEM text */
	al_att_blob tcb_info_issuer_chain;
	al_att_blob qe_identity_issuer_chain;
	al_att_blob root_ca_crl; /* DER */
	al_att_blob pck_crl;
	al_att_blob tcb_info; /* the signed bytes */
	uint8_t tcb_info_sig[64];
	al_att_blob qe_identity;
	uint8_t qe_identity_sig[64];
} al_att_collateral;

typedef struct al_att_tcb_level {
	uint8_t sgx_svn[16];
	uint16_t pcesvn;
	bool has_tdx;
	uint8_t tdx_svn[16];
	uint16_t isvsvn; /* QE Identity / module identity levels */
	al_att_tcb status;
	size_t n_adv;
	const char *adv[AL_ATT_MAX_LEVEL_ADV]; /* NUL-terminated, in the arena */
} al_att_tcb_level;

typedef struct al_att_tdx_module {
	char id[16]; /* "TDX_01" */
	uint8_t mrsigner[48];
	uint64_t attributes, attributes_mask;
	size_t n_levels;
	al_att_tcb_level *levels;
} al_att_tdx_module;

typedef struct al_att_tcb_info {
	bool tdx; /* id "TDX" (else "SGX") */
	int version;
	int64_t issue_date, next_update;
	uint8_t fmspc[6];
	uint8_t pce_id[2];
	bool has_module;
	uint8_t module_mrsigner[48];
	uint64_t module_attributes, module_attributes_mask;
	size_t n_modules;
	al_att_tdx_module modules[AL_ATT_MAX_MODULE_IDS];
	size_t n_levels;
	al_att_tcb_level *levels;
} al_att_tcb_info;

typedef struct al_att_qe_identity {
	bool td_qe; /* id "TD_QE" (else "QE") */
	int version;
	int64_t issue_date, next_update;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	size_t n_levels;
	al_att_tcb_level *levels;
} al_att_qe_identity;

/* Parse QuoteCollateralV3 JSON; decoded members are copied into `a`.
 * AL_E_ATT_JSON on malformed or incomplete input, AL_E_HEX on bad hex. */
AL_WARN_UNUSED al_err al_att_collateral_parse(al_arena *a, al_att_collateral *c,
                                              const uint8_t *json, size_t len);
/* Parse the signed TCB Info / QE Identity JSON (the bytes the signature covers). */
AL_WARN_UNUSED al_err al_att_tcb_info_parse(al_arena *a, al_att_tcb_info *t, const uint8_t *json,
                                            size_t len);
AL_WARN_UNUSED al_err al_att_qe_identity_parse(al_arena *a, al_att_qe_identity *q,
                                               const uint8_t *json, size_t len);
/* Split a PCS body {"<member>":<VALUE>,"signature":"<hex>"} into the exact bytes of
 * VALUE and the decoded signature. AL_E_ATT_JSON if the text has another shape. */
AL_WARN_UNUSED al_err al_att_signed_json_split(al_att_blob *value, uint8_t sig[64],
                                               const uint8_t *text, size_t len, const char *member);

#endif
