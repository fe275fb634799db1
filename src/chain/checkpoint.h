/* The trusted start of the header chain (chain/headers.h) for each network, compiled
 * in: a block's height and its whole header. The header's hash is what Bitcoin Core's
 * chainparams name at that height; tests/unit/test_headers.c recomputes it.
 *
 *   regtest  genesis (height 0)
 *   mainnet  block 840,000: Core's m_assumeutxo_data (src/kernel/chainparams.cpp)
 *            names 0000000000000000000320283a032748cef8227873ff4872689bf23f1cda83a5
 *
 * Testnet and signet have none. Both share AL_NET_TESTNET here (one address prefix),
 * so the network alone cannot name a chain; signet's proof-of-work limit is not the one
 * al_block_header_check_pow applies; and testnet3's 20-minute rule lets a server forge
 * long minimum-difficulty chains that headers alone cannot refute. */
#ifndef ALIGHT_CHAIN_CHECKPOINT_H
#define ALIGHT_CHAIN_CHECKPOINT_H

#include <stdint.h>

#include "btc/network.h"
#include "chain/block.h"
#include "util/err.h"

/* AL_E_SYNC_NO_CHECKPOINT for a network without one. */
AL_WARN_UNUSED al_err al_checkpoint(al_net net, al_block_header *out, uint32_t *height);

#endif
