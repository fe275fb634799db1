#ifndef ALIGHT_BENCH_ONCHAIN_H
#define ALIGHT_BENCH_ONCHAIN_H

#include "bench.h"

/* Group "onchain": memory per resolving channel (the engine's fixed size, its scratch
 * and its record) for 30 and 483 HTLCs each way. */
void bench_onchain(void);

#endif
