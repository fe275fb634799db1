#ifndef ALIGHT_BENCH_COMMIT_H
#define ALIGHT_BENCH_COMMIT_H

#include "crypto/secp.h"

typedef double (*bench_rate_fn)(int (*op)(void *arg), void *arg, long batch);

/* BOLT #3 commitment transactions built and signed per second (option_anchors, five
 * HTLCs), or a negative value if an operation failed. */
double bench_commitment_rate(const al_secp *secp, bench_rate_fn rate);

#endif
