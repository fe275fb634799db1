/* The Bitcoin networks the code base knows, for address prefixes (BIP 173) and
 * extended key versions (BIP 32). */
#ifndef ALIGHT_BTC_NETWORK_H
#define ALIGHT_BTC_NETWORK_H

typedef enum al_net {
	AL_NET_MAINNET, /* bech32 "bc", xprv/xpub */
	AL_NET_TESTNET, /* testnet and signet: "tb", tprv/tpub */
	AL_NET_REGTEST, /* "bcrt", tprv/tpub */
} al_net;

#endif
