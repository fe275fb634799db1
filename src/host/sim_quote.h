/* Platform `sim`: SGX DCAP ECDSA quotes (version 3) made by a simulated quoting
 * enclave, in the exact byte layout of Intel's sgx_quote_3.h (ATTESTATION.md 1.2,
 * 1.3), so that the verifier (attest/dcap.h) runs every DCAP step on them.
 *
 * What is simulated, and how it stays distinguishable from Intel's evidence:
 *  - the attestation key (attest_key.pem) and the PCK key and chain come from the
 *    simulation root made at build time by scripts/sim-root (<build>/sim/); the
 *    chain ends at "alight simulation root CA — NOT INTEL", which the verifier
 *    accepts only as an explicit --root and labels `simulated`;
 *  - the QE report is made here and signed by the simulated PCK key; its MRSIGNER
 *    is SHA-256 of AL_SIM_QE_SIGNER_TEXT (not Intel's QE signer), and the header's
 *    user data starts with AL_SIM_QE_ID ("alight-sim-qe");
 *  - the QE vendor id stays Intel's (939A7233...): DCAP verifiers, ours included,
 *    refuse any other, and the root CA is what separates simulation from Intel.
 *
 * Layout decisions (offsets absolute, integers little-endian):
 *  - header: version 3, att_key_type 2 (ECDSA P-256), tee_type 0 (SGX), qe_svn =
 *    AL_SIM_QE_ISVSVN, pce_svn = the PCESVN of the PCK certificate;
 *  - report body (0x30): CPUSVN = the PCK certificate's CPUSVN, MISCSELECT 0,
 *    ATTRIBUTES flags INIT|MODE64BIT (|DEBUG when asked) and XFRM 0x3 (x87, SSE),
 *    MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN and REPORTDATA from the caller, every
 *    reserved byte zero;
 *  - signature data: quote signature over bytes 0..0x1AF, attestation key X||Y, QE
 *    report (REPORTDATA = SHA-256(attestation key || QE auth data) || 32 zeros), its
 *    signature by the PCK key, QE auth data = bytes 00 01 .. 1F (32, as in every
 *    real quote), certification data type 5 = the PEM chain NUL-terminated.
 *
 * Core rules: no files, no clocks, no allocation of ours. Keys and certificates are
 * handed in as bytes; OpenSSL holds the parsed keys (its allocator, which the
 * enclave routes to its heap). ECDSA nonces come from OpenSSL's DRBG. */
#ifndef ALIGHT_HOST_SIM_QUOTE_H
#define ALIGHT_HOST_SIM_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct evp_pkey_st;

/* The simulated QE; scripts/sim-root writes the QE Identity with the same values. */
#define AL_SIM_QE_SIGNER_TEXT "alight simulated quoting enclave \xe2\x80\x94 NOT INTEL"
#define AL_SIM_QE_ID          "alight-sim-qe"
#define AL_SIM_QE_ISVPRODID   1
#define AL_SIM_QE_ISVSVN      8

/* Build metadata of alight's enclave: product id and security version (ISVSVN is
 * raised when a release fixes a security flaw, so policies can set a minimum). */
#define AL_SIM_ENCLAVE_PRODID 1
#define AL_SIM_ENCLAVE_SVN    1

#define AL_SIM_QUOTE_FIXED_LEN 1052 /* everything before the certification data */
#define AL_SIM_AUTH_LEN        32

/* The enclave a quote describes (SGX REPORT body fields). */
typedef struct al_sim_enclave {
	uint8_t mrenclave[32]; /* MRENCLAVE-equivalent: SHA-256 over the enclave image */
	uint8_t mrsigner[32];  /* MRSIGNER-equivalent: hash of the signing key */
	uint16_t isvprodid;    /* product id (build metadata) */
	uint16_t isvsvn;       /* security version (build metadata) */
	bool debug;            /* ATTRIBUTES.DEBUG; verifiers refuse it by default */
} al_sim_enclave;

/* The simulated quoting enclave: its key and the parts of a quote that do not
 * depend on the enclave (QE report and signature, certification data). Fields are
 * private. Must not be copied; clear with al_sim_qe_clear. */
typedef struct al_sim_qe {
	struct evp_pkey_st *att_key;
	uint8_t att_pub[64];
	uint8_t qe_report[384];
	uint8_t qe_report_sig[64];
	uint8_t cpusvn[16];
	uint16_t pcesvn;
	const uint8_t *chain; /* borrowed PEM chain, without a trailing NUL */
	size_t chain_len;
} al_sim_qe;

/* Set up the QE from the simulation platform's files (PEM bytes): the attestation
 * key, the PCK leaf key and the PCK chain (leaf, CA, root). The chain is borrowed
 * and must outlive the QE. The QE report is made and signed by the PCK key here.
 * AL_E_PRIVKEY (a key is not a P-256 private key), AL_E_ATT_CERT (the chain's first
 * certificate cannot be read, or does not belong to the PCK key), AL_E_ATT_EXTENSION
 * (its SGX extension is missing), AL_E_CRYPTO. */
AL_WARN_UNUSED al_err al_sim_qe_init(al_sim_qe *qe, const uint8_t *att_key_pem, size_t att_key_len,
                                     const uint8_t *pck_key_pem, size_t pck_key_len,
                                     const uint8_t *chain_pem, size_t chain_len);
/* Free the keys (OpenSSL wipes them) and wipe the QE. */
void al_sim_qe_clear(al_sim_qe *qe);

/* The size of every quote this QE makes. */
size_t al_sim_quote_len(const al_sim_qe *qe);

/* Quote `enc` with `report_data`: al_sim_quote_len(qe) bytes into out[0..cap).
 * AL_E_BUFSIZE if cap is too small, AL_E_CRYPTO if signing fails. */
AL_WARN_UNUSED al_err al_sim_quote(const al_sim_qe *qe, uint8_t *out, size_t cap, size_t *len,
                                   const al_sim_enclave *enc, const uint8_t report_data[64]);

/* MRSIGNER-equivalent of the enclave signing key whose public key is `pub_pem`
 * (PEM SubjectPublicKeyInfo): SHA-256 of its DER SubjectPublicKeyInfo (SGX hashes
 * the signer's RSA modulus; the simulation signs with P-256). AL_E_PUBKEY. */
AL_WARN_UNUSED al_err al_sim_mrsigner(uint8_t out[32], const uint8_t *pub_pem, size_t len);

/* Sign `msg` with a P-256 key: ECDSA/SHA-256 as raw r || s, 32 bytes each,
 * big-endian (the DCAP signature format). */
AL_WARN_UNUSED al_err al_sim_sign(uint8_t sig[64], struct evp_pkey_st *key, const uint8_t *msg,
                                  size_t len);

#endif
