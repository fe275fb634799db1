/* DCAP quote verification (Intel QVL QuoteVerifier::verify, dcap-qvl verify.rs),
 * step by step with the step names reported in al_att_result.failures:
 *
 *   quote_format         header, lengths, certification data layout
 *   collateral_format    QuoteCollateralV3 JSON, CRL DER, TCB Info / QE Identity JSON
 *   trust_anchor         the --root certificate is not acceptable (see attest.h)
 *   pck_chain            PCK leaf -> PCK CA -> pinned root at `now`, CRLs, leaf CN
 *   simulated            chain ends at the alight simulation root, not allowed
 *   pck_crl_chain        the PCK CRL issuer chain and the CRL's issuer
 *   pck_extension        the SGX extension (1.2.840.113741.1.13.1) of the PCK leaf
 *   qe_report_signature  QE report signed by the PCK leaf key (ECDSA P-256)
 *   qe_report_data       QE REPORTDATA = SHA-256(attestation key || QE auth data) || 0
 *   quote_signature      header || body signed by the attestation key
 *   tcb_info_chain / tcb_info_signature / tcb_info_window / tcb_info_match
 *   qe_identity_chain / qe_identity_signature / qe_identity_window / qe_identity_match
 *   tcb_level            no TCB level matches (TCB_NOT_SUPPORTED) or Revoked
 *   tdx_module           TDX module signer, attributes and module identity
 *
 * The TCB Info and QE Identity signing certificates must have a common name
 * containing "TCB Signing" (Intel's "Intel SGX TCB Signing"; simulation roots must
 * follow the same naming). TDX levels compare TEE_TCB_SVN from index 2 when a TDX
 * module identity (TDX_<svn[1]>) is used, as the module identity covers the module
 * SVNs (bytes 0 and 1); otherwise all 16 components. */
#ifndef ALIGHT_ATTEST_DCAP_H
#define ALIGHT_ATTEST_DCAP_H

#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "util/arena.h"
#include "util/err.h"

/* The PCK certificate's SGX extension (Intel PCK Certificate and CRL Profile). */
typedef struct al_sgx_pck_ext {
	uint8_t ppid[16];
	uint8_t comp_svn[16];
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pce_id[2];
	uint8_t fmspc[6];
	uint64_t sgx_type;
} al_sgx_pck_ext;

/* Parse the extension value (DER SEQUENCE). AL_E_ATT_DER / AL_E_ATT_EXTENSION. */
AL_WARN_UNUSED al_err al_sgx_pck_ext_parse(al_sgx_pck_ext *e, const uint8_t *der, size_t len);

/* Verify the quote in `quote` (not necessarily in->evidence: RA-TLS certificates
 * pass the quote they carry) with in->collateral. Fills res; returns AL_OK, or
 * AL_E_ATT_MISSING when there is no collateral. */
AL_WARN_UNUSED al_err al_dcap_verify(al_arena *a, al_att_result *res, const al_att_input *in,
                                     const uint8_t *quote, size_t len);

/* Intel QVL convergeTcbStatusWithQeTcbStatus. */
al_att_tcb al_dcap_converge(al_att_tcb platform, al_att_tcb qe);

#endif
