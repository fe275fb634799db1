/* The on-chain wallet, inside the enclave: a wallet (wallet/wallet.h) and its chain
 * sync persisted through the encrypted key-value store (store/kv.h; the backend is the
 * host's, through the kv ocalls, and sees sealed records only), synced against an
 * Esplora server (enclave/chain_client.h over the stream ocalls), answering the
 * commands alight-cli exposes with JSON:
 *
 *   sync                              {"tip_height","tip_hash","requests","bytes"}
 *   newaddress                        {"address"}
 *   walletbalance                     {"total_balance","confirmed_balance",
 *                                      "unconfirmed_balance","immature_balance",
 *                                      "tip_height"} (LND's names, satoshis)
 *   listfunds                         {"outputs":[{"txid","output","amount_sat",
 *                                      "address","status","confirmations",
 *                                      "blockheight"?}]} (Core Lightning's shape)
 *   sendtoaddress <address> <sat>     {"txid","fee_sat"}
 *   bumpfee <txid> <sat_per_vbyte>    {"txid","replaces","fee_sat"}
 *
 * Every command syncs first. When that fails, walletbalance and listfunds still answer
 * from the last committed state and add "sync_error":{"code","message"}; the other
 * commands fail with that error. Errors are {"error":{"code":"AL_E_...","message"}}. */
#ifndef ALIGHT_ENCLAVE_WALLET_SVC_H
#define ALIGHT_ENCLAVE_WALLET_SVC_H

#include <jansson.h>
#include <stddef.h>

#include "btc/network.h"
#include "btc/bip39.h"
#include "crypto/rng.h"
#include "crypto/secp.h"
#include "host/httpc.h"
#include "store/kv.h"
#include "util/err.h"

typedef struct al_wallet_svc al_wallet_svc;

/* Where a wallet lives: its key-value backend, entropy, and the transport and trust
 * for its Esplora server. */
typedef struct al_wallet_svc_env {
	const al_kv_backend *be;
	void *be_ctx;
	const al_rng *rng;
	const al_httpc_transport *transport;
	const al_httpc_config *http;
} al_wallet_svc_env;

/* Open the wallet of the BIP 39 `seed` (of the mnemonic, empty passphrase) whose state
 * lives in env's backend, syncing from `esplora_url`. Only regtest is supported (its
 * checkpoint is the genesis block): AL_E_ARG for another network. */
AL_WARN_UNUSED al_err al_wallet_svc_open(al_wallet_svc **out, const al_secp *secp, al_net net,
                                         const uint8_t seed[AL_BIP39_SEED_LEN],
                                         const char *esplora_url, const al_wallet_svc_env *env);
void al_wallet_svc_close(al_wallet_svc *s);

/* Run one command; returns a new JSON object (the result or {"error":...}) and sets
 * *err (AL_OK for a result). Unknown command or wrong arguments: AL_E_ARG. */
json_t *al_wallet_svc_call(al_wallet_svc *s, const char *cmd, const char *const *args,
                           size_t n_args, al_err *err);

#endif
