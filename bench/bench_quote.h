#ifndef ALIGHT_BENCH_QUOTE_H
#define ALIGHT_BENCH_QUOTE_H

/* Group "quote": platform `sim` attestation with the simulation platform in
 * $ALIGHT_SIM_DIR (default: the build's sim/, made by scripts/sim-root):
 * simulated SGX DCAP v3 quotes generated per second (host/sim_quote.h), RA-TLS
 * identities made per second (P-256 key, quote, certificate; attest/ratls_server.h), and
 * RA-TLS handshakes per second: a client and a server TLS 1.3 engine in memory, the
 * client verifying the server's evidence in full during every handshake (PCK chain
 * and CRLs, QE report, quote, TCB Info, QE Identity, binding, measurement pin). */
void bench_quote(void);

#endif
