#ifndef ALIGHT_BENCH_NOISE_H
#define ALIGHT_BENCH_NOISE_H

#include <stddef.h>

#include "crypto/secp.h"

/* BOLT #8 handshakes per second: two engines (initiator and responder) from init to
 * the transport phase, all three acts moved between them. Negative if one failed. */
double bench_noise_handshakes(const al_secp *secp, double (*rate)(int (*op)(void *), void *, long));

/* Encrypted transport throughput in MB (10^6 bytes) of plaintext per second for
 * messages of `msglen` bytes (at most 65535): each one sealed through
 * al_noise_sendapp_ack (length prefix and body, in place, key rotation included) and
 * taken from sendrec. Best of a few timed rounds. 0 on success, -1 on failure. */
int bench_noise_throughput(const al_secp *secp, size_t msglen, double *mb_per_s);

#endif
