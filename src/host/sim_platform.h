/* The simulated SGX platform of platform `sim`, read from the directory
 * scripts/sim-root made (the build's sim/, or $ALIGHT_SIM_DIR): the simulated quoting
 * enclave (host/sim_quote.h) ready to quote, and the verifier's side of it, the
 * collateral and the simulation root CA (attest/ratls_client.h takes both).
 *
 * Files read: attest_key.pem, pck.key, pck_chain.pem, collateral.json, root.pem and
 * enclave_signer.pem (the simulated enclave vendor's public key: MRSIGNER). The two
 * private keys are wiped from memory once the QE has parsed them. */
#ifndef ALIGHT_HOST_SIM_PLATFORM_H
#define ALIGHT_HOST_SIM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "host/sim_quote.h"
#include "util/err.h"

typedef struct al_sim_platform {
	al_sim_qe qe;
	uint8_t *chain; /* the QE borrows it */
	size_t chain_len;
	uint8_t *collateral; /* dcap-qvl QuoteCollateralV3 JSON */
	size_t collateral_len;
	uint8_t *root; /* the simulation root CA, PEM */
	size_t root_len;
	uint8_t mrsigner[32]; /* of enclave_signer.pem (al_sim_mrsigner) */
} al_sim_platform;

/* The directory to use: `dir` if given, else $ALIGHT_SIM_DIR, else NULL. */
const char *al_sim_platform_dir(const char *dir);

/* Load the platform from `dir` (see al_sim_platform_dir). AL_E_ARG without a
 * directory, AL_E_HOST_IO when a file cannot be read, else al_sim_qe_init's errors.
 * On error nothing needs freeing. */
AL_WARN_UNUSED al_err al_sim_platform_load(al_sim_platform *p, const char *dir);
void al_sim_platform_free(al_sim_platform *p);

/* The enclave a quote describes on this platform: `measurement` (SHA-256 of the
 * image, e.g. al_enclave_measure_file), the platform's MRSIGNER and the build's
 * product id and security version (AL_SIM_ENCLAVE_PRODID, AL_SIM_ENCLAVE_SVN). */
void al_sim_platform_enclave(const al_sim_platform *p, al_sim_enclave *enc,
                             const uint8_t measurement[32]);

#endif
