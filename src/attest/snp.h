/* AMD SEV-SNP attestation reports (SEV-SNP ABI spec 56860, ATTESTATION_REPORT;
 * offsets as in go-sev-guest abi/abi.go) and their VCEK chain.
 *
 * Steps reported: report_format, vcek_chain (VCEK <- ASK <- ARK, RSA-PSS SHA-384,
 * validity at `now`, the ARK byte-identical to a pinned ARK, product names agree),
 * report_signature (ECDSA P-384 / SHA-384 over bytes 0x000-0x29F, r and s stored
 * little-endian in 72-byte fields), chip_id (CHIP_ID == VCEK hwID), tcb_version
 * (REPORTED_TCB >= the VCEK's SPLs). The TCB_VERSION layout is Milan/Genoa's (byte
 * 0 BL, 1 TEE, 6 SNP, 7 microcode); Turin's differs and is refused. VLEK-signed
 * reports are refused (no ASVK chain support). */
#ifndef ALIGHT_ATTEST_SNP_H
#define ALIGHT_ATTEST_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "util/arena.h"
#include "util/err.h"

#define AL_SNP_REPORT_LEN 0x4a0
#define AL_SNP_SIGNED_LEN 0x2a0

typedef struct al_snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy; /* bit 19: DEBUG */
	uint32_t vmpl;
	uint32_t sig_algo;
	uint32_t signer_info; /* bits 2-4: SIGNING_KEY (0 VCEK, 1 VLEK); bit 1 MASK_CHIP_KEY */
	uint8_t current_tcb[8];
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t reported_tcb[8];
	uint8_t chip_id[64];
	uint8_t sig_r[48]; /* big-endian */
	uint8_t sig_s[48];
} al_snp_report;

/* The VCEK's AMD extensions (1.3.6.1.4.1.3704.1.*, go-sev-guest kds/kds.go). */
typedef struct al_snp_vcek_ext {
	char product[16]; /* "Milan-B0" */
	uint8_t bl, tee, snp, ucode;
	uint8_t hwid[64];
} al_snp_vcek_ext;

/* Parse a report of exactly AL_SNP_REPORT_LEN bytes: AL_E_TRUNCATED/AL_E_TRAILING,
 * AL_E_ATT_UNSUPPORTED (version, signature algorithm), AL_E_ATT_FORMAT (non-zero
 * bytes in the signature field beyond the P-384 r and s). */
AL_WARN_UNUSED al_err al_snp_report_parse(al_snp_report *r, const uint8_t *data, size_t len);
/* The extensions of a DER VCEK certificate. */
AL_WARN_UNUSED al_err al_snp_vcek_ext_parse(al_snp_vcek_ext *e, const uint8_t *der, size_t len);
/* Verify in->evidence with in->vcek and in->ask_ark; AL_E_ATT_MISSING without them. */
AL_WARN_UNUSED al_err al_snp_verify(al_arena *a, al_att_result *res, const al_att_input *in);

#endif
