#ifndef ALIGHT_BENCH_PAY_H
#define ALIGHT_BENCH_PAY_H

#include "bench.h"

/* Group "pay": the payments core per operation: a BOLT 11 invoice decoded (signature
 * recovered) and signed, a 5-hop onion built, one layer peeled, and a failure
 * attributed over 5 hops. */
void bench_pay(void);

#endif
