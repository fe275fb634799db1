#ifndef ALIGHT_BENCH_ATTEST_H
#define ALIGHT_BENCH_ATTEST_H

/* Group "attest": full verifications per second of the real samples in
 * ../shared/attest (or $ALIGHT_ATTEST): DCAP quotes with their collateral (PCK
 * chain with CRLs, QE report, quote signature, TCB Info and QE Identity chains and
 * signatures, TCB level), the SEV-SNP report with its VCEK chain, and a PSA token. */
void bench_attest(void);

#endif
