/* Intel DCAP ECDSA quotes: SGX v3, TDX v4 and v5 (Intel DCAP sgx_quote_3.h,
 * sgx_quote_4.h, sgx_quote_5.h). Little-endian integers; ECDSA r||s and the
 * attestation key X||Y big-endian. Parsing only: see attest/dcap.h to verify.
 *
 * Layout rules enforced (ATTESTATION.md section 1):
 *  - header: version 3, 4 or 5; att_key_type 2 (ECDSA-256-with-P-256); tee_type 0
 *    (SGX) or 0x81 (TDX); v3 is SGX only; qe_vendor_id is Intel's QE;
 *  - the signed region is header + body (432, 632 or 702 bytes);
 *  - every length field must agree exactly with the next one's position, so that
 *    signature_data_len ends exactly where the certification data ends;
 *  - bytes after the signature data (real TDX buffers carry zero padding) must be
 *    zero: non-zero trailing bytes are AL_E_TRAILING. */
#ifndef ALIGHT_ATTEST_SGX_QUOTE_H
#define ALIGHT_ATTEST_SGX_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/der.h"
#include "util/err.h"

#define AL_SGX_HEADER_LEN     48
#define AL_SGX_REPORT_LEN     384
#define AL_TDX_REPORT10_LEN   584
#define AL_TDX_REPORT15_LEN   648
#define AL_SGX_TEE_SGX        0x00000000u
#define AL_SGX_TEE_TDX        0x00000081u
#define AL_SGX_CERT_PCK_CHAIN 5
#define AL_SGX_CERT_QE_REPORT 6

/* The SGX REPORT body (384 bytes): the enclave's or the QE's. */
typedef struct al_sgx_report {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint8_t attributes[16]; /* flags u64 LE (bit 1 DEBUG) || XFRM u64 LE */
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint8_t report_data[64];
} al_sgx_report;

/* The TD report body (584 bytes, TDX 1.0; 648 for TDX 1.5). */
typedef struct al_tdx_report {
	uint8_t tee_tcb_svn[16];
	uint8_t mrseam[48];
	uint8_t mrsignerseam[48];
	uint64_t seam_attributes;
	uint64_t td_attributes; /* bit 0 DEBUG, bit 28 SEPT_VE_DISABLE */
	uint64_t xfam;
	uint8_t mrtd[48];
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
} al_tdx_report;

typedef struct al_sgx_quote {
	uint16_t version;
	uint32_t tee_type;
	al_att_blob signed_region; /* header || body */
	al_att_blob body;          /* 384 (SGX) or 584/648 (TDX) bytes */
	const uint8_t *signature;  /* 64: r || s */
	const uint8_t *att_key;    /* 64: X || Y */
	const uint8_t *qe_report;  /* 384 */
	const uint8_t *qe_report_sig;
	al_att_blob qe_auth;
	uint16_t cert_type; /* of the certification data below (5 = PCK chain) */
	al_att_blob cert;   /* certification data */
	size_t len;         /* the quote proper, without trailing padding */
} al_sgx_quote;

/* Parse a quote spanning `len` bytes (plus zero padding). AL_E_TRUNCATED,
 * AL_E_TRAILING, AL_E_ATT_FORMAT (inconsistent lengths, wrong nested type),
 * AL_E_ATT_UNSUPPORTED (version, key type, TEE type, vendor). */
AL_WARN_UNUSED al_err al_sgx_quote_parse(al_sgx_quote *q, const uint8_t *data, size_t len);
void al_sgx_report_parse(al_sgx_report *r, const uint8_t body[AL_SGX_REPORT_LEN]);
void al_tdx_report_parse(al_tdx_report *r, const uint8_t *body);
/* Quick check used by detection: does `data` start like a DCAP quote header? */
bool al_sgx_quote_sniff(const uint8_t *data, size_t len);

#endif
