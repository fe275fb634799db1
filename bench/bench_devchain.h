#ifndef ALIGHT_BENCH_DEVCHAIN_H
#define ALIGHT_BENCH_DEVCHAIN_H

#include "bench.h"

/* alight-devchain's mempool acceptance of a P2WPKH spend (one input, two outputs):
 * parse, txid, Core's sanity and standardness rules, the input lookup, BIP 68, fees
 * and the BIP 143 signature check (src/chain/txcheck.h), in transactions per second;
 * negative if an operation failed. */
double bench_devchain_validation_rate(const al_secp *secp, bench_rate_fn rate);

#endif
