#ifndef ALIGHT_BENCH_COMMIT_H
#define ALIGHT_BENCH_COMMIT_H

#include "bench.h"

/* BOLT #3 commitment transactions built and signed per second (option_anchors, five
 * HTLCs), or a negative value if an operation failed. */
double bench_commitment_rate(const al_secp *secp, bench_rate_fn rate);

#endif
