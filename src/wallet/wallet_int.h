/* Shared between the wallet's source files; not part of its interface. */
#ifndef ALIGHT_WALLET_WALLET_INT_H
#define ALIGHT_WALLET_WALLET_INT_H

#include "wallet/wallet.h"

/* OP_0 <20 bytes>. */
void al_wallet_p2wpkh(uint8_t script[22], const uint8_t h160[20]);
/* Is this one of our derived scripts? Its chain and index. */
bool al_wallet_find_script(const al_wallet *w, const uint8_t *script, size_t len, uint8_t *chain,
                           uint32_t *index);
/* Parse a sync transaction's bytes into the wallet's scratch arena. */
AL_WARN_UNUSED al_err al_wallet_parse_tx(const al_wallet *w, const al_sync_tx *t, al_tx *tx);

#endif
