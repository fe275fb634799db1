/* Pinned vendor roots, compiled in as DER (public certificates).
 *
 * SHA-256 fingerprints of the DER, checked by tests/unit/test_attest.c against the
 * published values (ATTESTATION.md, go-sev-guest verify/trust, Intel PCS):
 *   Intel SGX Root CA 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3
 *   ARK-Milan 69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd
 *   ARK-Genoa 4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1
 *   ARK-Turin 1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a */
#ifndef ALIGHT_ATTEST_ROOTS_H
#define ALIGHT_ATTEST_ROOTS_H

#include <stddef.h>
#include <stdint.h>

enum { AL_ROOT_INTEL_SGX, AL_ROOT_AMD_ARK };

typedef struct al_att_root {
	const char *name;
	int kind;
	const uint8_t *der;
	size_t len;
} al_att_root;

#define AL_ATT_N_ROOTS 4
/* Index 0 is the Intel SGX Root CA; 1..3 the AMD ARKs. */
extern const al_att_root al_att_roots[AL_ATT_N_ROOTS];

#endif
