/* Attestation evidence appraisal: SGX/TDX DCAP quotes, AMD SEV-SNP reports, Arm PSA
 * tokens and RA-TLS certificates carrying any of the quotes.
 *
 * The verdict follows the spirit of IETF RATS EAR (draft-ietf-rats-ear): affirming,
 * warning (verified, but the TCB is not up to date, or the policy accepts something
 * it flags, such as a debug enclave or simulated evidence), or contraindicated (any
 * check failed; `failures` lists each failed step and why).
 *
 * Core rules: no files, no clocks. The verification time, the evidence, the
 * collateral and any extra root arrive as bytes; the pinned vendor roots are data
 * compiled in (attest/roots.c). OpenSSL does the X.509, CRL and signature work;
 * jansson reads collateral and policy JSON; the CBOR reader is ours (attest/cbor.h).
 *
 * Trust anchors and simulation (the exact rule):
 *  - SGX/TDX: the PCK chain carried in the quote must end in a certificate that is
 *    byte-identical to a trust anchor. The anchors are the pinned Intel SGX Root CA
 *    and, if given (`extra_root`, the CLI's --root), one more certificate.
 *  - The extra root is accepted only if its subject common name is exactly
 *    AL_ATT_SIM_ROOT_CN ("alight simulation root CA — NOT INTEL", UTF-8) or if it
 *    is byte-identical to the Intel root; any other extra root is refused (step
 *    "trust_anchor").
 *  - Evidence whose chain ends at the simulation root is *simulated*: every chain
 *    of the verification (PCK, PCK CRL issuer, TCB Info, QE Identity) must then end
 *    at that same root. Simulated evidence is contraindicated (step "simulated")
 *    unless simulation is allowed (the input flag or the policy), in which case it
 *    is verified in full, labelled simulated = true, and at best a warning.
 *  - A chain that ends at any other certificate is contraindicated ("pck_chain"). */
#ifndef ALIGHT_ATTEST_ATTEST_H
#define ALIGHT_ATTEST_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/err.h"

#define AL_ATT_SIM_ROOT_CN "alight simulation root CA \xe2\x80\x94 NOT INTEL"

#define AL_ATT_MAX_FAILURES   16
#define AL_ATT_MAX_ADVISORIES 64
#define AL_ATT_ADVISORY_LEN   32
#define AL_ATT_MAX_COMPONENTS 8
#define AL_ATT_POLICY_MAX     16

/* Scratch space al_att_verify needs in its arena (decoded certificates, collateral). */
#define AL_ATT_SCRATCH_SIZE (256 * 1024)

typedef enum al_att_type {
	AL_ATT_UNKNOWN = 0,
	AL_ATT_SGX, /* SGX DCAP ECDSA quote (v3) */
	AL_ATT_TDX, /* TDX DCAP quote (v4, v5) */
	AL_ATT_SNP, /* AMD SEV-SNP attestation report */
	AL_ATT_PSA, /* Arm PSA token (COSE_Sign1 / COSE_Mac0) */
} al_att_type;

/* Which RA-TLS convention carried the evidence (AL_RATLS_NONE: bare evidence). */
typedef enum al_att_container {
	AL_RATLS_NONE = 0,
	AL_RATLS_DICE,        /* TCG DICE tagged evidence, OID 2.23.133.5.4.9 */
	AL_RATLS_GRAMINE,     /* Gramine legacy extension (raw OID bytes 06 09 2A..06) */
	AL_RATLS_INTEL,       /* Intel sgx_ttls 1.2.840.113741.1.13.1 */
	AL_RATLS_OPENENCLAVE, /* Open Enclave 1.3.6.1.4.1.311.105.1 */
} al_att_container;

typedef enum al_att_status {
	AL_ATT_AFFIRMING = 0,
	AL_ATT_WARNING,
	AL_ATT_CONTRAINDICATED,
} al_att_status;

/* Intel TCB statuses, best first (the order policies compare with). */
typedef enum al_att_tcb {
	AL_TCB_NONE = 0, /* not applicable / not evaluated */
	AL_TCB_UP_TO_DATE,
	AL_TCB_SW_HARDENING_NEEDED,
	AL_TCB_CONFIGURATION_NEEDED,
	AL_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	AL_TCB_OUT_OF_DATE,
	AL_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	AL_TCB_REVOKED,
} al_att_tcb;

/* Appraisal policy (the CLI's --policy file; see al_att_policy_parse). */
typedef struct al_att_policy {
	bool allow_debug;
	bool allow_simulated;
	size_t n_measurements; /* 0: any */
	uint8_t measurements[AL_ATT_POLICY_MAX][48];
	size_t measurement_len[AL_ATT_POLICY_MAX];
	size_t n_signers; /* 0: any */
	uint8_t signers[AL_ATT_POLICY_MAX][48];
	size_t signer_len[AL_ATT_POLICY_MAX];
	al_att_tcb min_tcb; /* worst accepted status; AL_TCB_NONE: all but Revoked */
	bool have_min_isvsvn;
	uint16_t min_isvsvn;
	bool have_min_snp_tcb;
	uint8_t min_snp_tcb[4]; /* bl, tee, snp, ucode */
	size_t report_data_len; /* 0: not checked; else a required prefix */
	uint8_t report_data[64];
} al_att_policy;

typedef struct al_att_input {
	const uint8_t *evidence; /* quote, report, token, or certificate (PEM or DER) */
	size_t evidence_len;
	const uint8_t *collateral; /* SGX/TDX: dcap-qvl QuoteCollateralV3 JSON */
	size_t collateral_len;
	int64_t now;               /* verification time, seconds since 1970 UTC */
	const uint8_t *extra_root; /* PEM or DER; see the trust-anchor rule above */
	size_t extra_root_len;
	const uint8_t *vcek; /* SNP: VCEK certificate, DER (or PEM) */
	size_t vcek_len;
	const uint8_t *ask_ark; /* SNP: PEM, ASK then ARK (AMD KDS cert_chain) */
	size_t ask_ark_len;
	const uint8_t *key; /* PSA: the attestation public key, PEM or DER SPKI */
	size_t key_len;
	const al_att_policy *policy; /* NULL: al_att_policy_default() */
	bool allow_simulated;
} al_att_input;

typedef struct al_att_failure {
	const char *step;   /* stable identifier, e.g. "quote_signature" */
	const char *reason; /* static text */
	al_err err;
} al_att_failure;

typedef struct al_att_psa_component {
	char type[24]; /* measurement-type (may be empty) */
	char version[24];
	uint8_t measurement[64];
	size_t measurement_len;
	uint8_t signer[64];
	size_t signer_len;
} al_att_psa_component;

typedef struct al_att_result {
	al_att_status status;
	al_att_type type;
	al_att_container container;
	uint16_t version; /* quote/report version */
	al_att_tcb tcb_status;
	al_att_tcb platform_tcb_status; /* SGX/TDX: from TCB Info */
	al_att_tcb qe_tcb_status;       /* SGX/TDX: from QE Identity */
	al_att_tcb module_tcb_status;   /* TDX: from the TDX module identity */
	size_t n_advisories;
	char advisories[AL_ATT_MAX_ADVISORIES][AL_ATT_ADVISORY_LEN];
	uint8_t measurement[64]; /* MRENCLAVE, MRTD, SNP MEASUREMENT, PSA 1st component */
	size_t measurement_len;
	uint8_t signer[64]; /* MRSIGNER, SNP ID_KEY_DIGEST, PSA 1st component signer */
	size_t signer_len;
	uint8_t report_data[64]; /* REPORTDATA / REPORT_DATA / PSA nonce */
	size_t report_data_len;
	bool debug;
	bool simulated;
	bool bound; /* certificate: the report data binds its public key */
	/* SGX */
	uint16_t isvprodid, isvsvn;
	uint8_t attributes[16];
	uint8_t fmspc[6];
	/* TDX */
	uint8_t tee_tcb_svn[16];
	uint8_t rtmr[4][48];
	/* SNP */
	uint64_t snp_policy;
	uint8_t snp_tcb[4]; /* reported TCB: bl, tee, snp, ucode */
	uint8_t chip_id[64];
	char snp_product[16];
	/* PSA */
	char psa_profile[48];
	int64_t psa_lifecycle;
	uint8_t psa_implementation_id[32];
	size_t psa_implementation_id_len;
	uint8_t psa_instance_id[33];
	size_t psa_instance_id_len;
	size_t psa_n_components;
	al_att_psa_component psa_components[AL_ATT_MAX_COMPONENTS];
	size_t n_failures;
	al_att_failure failures[AL_ATT_MAX_FAILURES];
} al_att_result;

/* The default policy: no debug, no simulation, any measurement and signer, every
 * TCB status but Revoked (statuses other than UpToDate give a warning). */
void al_att_policy_default(al_att_policy *p);

/* Parse a policy JSON object (unknown keys are errors):
 *   {"allow_debug": bool, "allow_simulated": bool,
 *    "allowed_measurements": [hex, ...], "allowed_signers": [hex, ...],
 *    "min_tcb_status": "UpToDate" | "SWHardeningNeeded" | ... (worst accepted),
 *    "min_isvsvn": n, "min_snp_tcb": {"bl": n, "tee": n, "snp": n, "ucode": n},
 *    "report_data": hex (required prefix of the report data)}
 * AL_E_ATT_JSON on malformed input. */
AL_WARN_UNUSED al_err al_att_policy_parse(al_att_policy *p, const uint8_t *json, size_t len);

/* Detect the kind of evidence in `data` (AL_ATT_UNKNOWN for certificates and
 * anything unrecognised; see al_att_is_certificate). */
al_att_type al_att_detect(const uint8_t *data, size_t len);
bool al_att_is_certificate(const uint8_t *data, size_t len);

/* Appraise `in->evidence`. Always fills `res` with a verdict; returns AL_OK then.
 * Returns AL_E_ATT_MISSING (and a contraindicated verdict) when an input the
 * evidence type needs was not given (a usage error for a CLI), AL_E_ARG on bad
 * arguments. `scratch` needs AL_ATT_SCRATCH_SIZE free bytes; it is released. */
AL_WARN_UNUSED al_err al_att_verify(al_arena *scratch, al_att_result *res, const al_att_input *in);

/* Record a failed step (the verdict becomes contraindicated). */
void al_att_fail(al_att_result *res, const char *step, al_err err, const char *reason);
/* Apply the policy's debug, measurement, signer, TCB and report-data rules and set
 * res->status from the failures and flags. */
void al_att_appraise(al_att_result *res, const al_att_policy *p, bool allow_simulated);

const char *al_att_type_name(al_att_type t, uint16_t version);
const char *al_att_container_name(al_att_container c);
const char *al_att_status_name(al_att_status s);
/* Intel's spelling ("UpToDate", ...); NULL for AL_TCB_NONE. */
const char *al_att_tcb_name(al_att_tcb t);
al_att_tcb al_att_tcb_from_name(const char *s);

#endif
