/* RA-TLS, client side: a verify hook for the TLS engine (crypto/tls.h) that appraises
 * the evidence in the server's certificate during the handshake and refuses the
 * handshake unless it passes.
 *
 * The hook runs the whole verifier (attest.h, al_att_verify) on the server's leaf
 * certificate: the certificate must be signed by its own key, carry a DCAP quote in
 * an RA-TLS extension (TCG DICE 2.23.133.5.4.9 is what alight's enclave sends), the
 * quote must verify with the collateral given here up to the pinned Intel root (or
 * the given simulation root, when simulation is allowed), its report data must bind
 * the certificate's public key (step "ratls_binding"), and the policy must accept
 * it (allowed measurements, signers, debug, TCB, simulation). The handshake itself
 * proves the server holds that key, so a passing handshake is a channel to the
 * attested enclave. Any failure aborts the handshake: al_tls_handshake returns
 * AL_E_TLS_PEER_REJECTED and al_tls_hook_error the first failure's error; the
 * client keeps the whole appraisal (al_ratls_client_result) and the first failed
 * step's name (al_ratls_client_step), e.g. "policy_measurement", "simulated".
 *
 * One al_ratls_client serves one handshake at a time (it holds the last result);
 * use one per concurrent connection. Core rules: time, collateral and roots are
 * inputs; scratch memory is the caller's. */
#ifndef ALIGHT_ATTEST_RATLS_CLIENT_H
#define ALIGHT_ATTEST_RATLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "crypto/tls.h"
#include "util/err.h"

typedef struct al_ratls_client {
	al_att_policy policy;
	const uint8_t *collateral; /* dcap-qvl QuoteCollateralV3 JSON (borrowed) */
	size_t collateral_len;
	const uint8_t *root; /* extra trust anchor (the simulation root), or NULL */
	size_t root_len;
	int64_t now;
	void *scratch;
	size_t scratch_len;
	bool checked; /* a certificate was appraised */
	al_att_result result;
} al_ratls_client;

/* Set up a client. `policy` NULL means al_att_policy_default (which refuses
 * simulated evidence). `scratch` needs AL_ATT_SCRATCH_SIZE bytes and, like the
 * collateral and the root, is borrowed. AL_E_ARG on bad arguments. */
AL_WARN_UNUSED al_err al_ratls_client_init(al_ratls_client *c, void *scratch, size_t scratch_len,
                                           const al_att_policy *policy, const uint8_t *collateral,
                                           size_t collateral_len, const uint8_t *root,
                                           size_t root_len, int64_t now);
/* The verification time for the next handshake. */
void al_ratls_client_set_time(al_ratls_client *c, int64_t now);

/* Install the hook in a TLS client configuration (verify, verify_arg). */
void al_ratls_client_tls_config(al_tls_config *cfg, al_ratls_client *c);

/* The hook itself (al_tls_verify_fn, arg = the al_ratls_client): AL_OK when the
 * appraisal is affirming or warning with no failure and the key is bound; else the
 * first failure's error (AL_E_ATT_POLICY, AL_E_ATT_SIMULATED, AL_E_ATT_BINDING...). */
AL_WARN_UNUSED al_err al_ratls_client_verify(void *arg, struct x509_st *leaf, const uint8_t *der,
                                             size_t der_len);

/* The last appraisal (NULL before any), and the first failed step (NULL if none). */
const al_att_result *al_ratls_client_result(const al_ratls_client *c);
const char *al_ratls_client_step(const al_ratls_client *c);

#endif
