/* alight-audit: the auditor's command line. `attest verify` appraises attestation
 * evidence (src/attest) and prints an EAR-style JSON result on stdout. */
#ifndef ALIGHT_AUDIT_H
#define ALIGHT_AUDIT_H

#include <stdint.h>

#include "attest/attest.h"

/* Exit codes of `attest verify`. */
enum {
	AUDIT_AFFIRMING = 0,
	AUDIT_WARNING = 1,
	AUDIT_CONTRAINDICATED = 2,
	AUDIT_USAGE = 3,
};

/* Print `res`, appraised at `now`, as one JSON object on stdout. */
void audit_print_result(const al_att_result *res, int64_t now);

#endif
