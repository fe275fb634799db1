/* The on-chain wallet as a host service: a wallet (wallet/wallet.h) and its chain sync
 * persisted through the encrypted key-value store (store/kv.h over host/store_dir.h),
 * synced against an Esplora server (host/chain_client.h), answering the commands
 * alight-cli exposes with JSON:
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
#ifndef ALIGHT_HOST_WALLET_SVC_H
#define ALIGHT_HOST_WALLET_SVC_H

#include <jansson.h>
#include <stddef.h>

#include "btc/network.h"
#include "crypto/secp.h"
#include "host/httpc.h"
#include "util/err.h"

typedef struct al_wallet_svc al_wallet_svc;

/* Open the wallet of `mnemonic` (BIP 39, empty passphrase) whose state lives in
 * `dir` (created if needed), syncing from `esplora_url`. Only regtest is supported
 * (its checkpoint is the genesis block): AL_E_ARG for another network. */
AL_WARN_UNUSED al_err al_wallet_svc_open(al_wallet_svc **out, const al_secp *secp, al_net net,
                                         const char *dir, const char *mnemonic,
                                         const char *esplora_url, const al_httpc_config *cfg);
void al_wallet_svc_close(al_wallet_svc *s);

/* Run one command; returns a new JSON object (the result or {"error":...}) and sets
 * *err (AL_OK for a result). Unknown command or wrong arguments: AL_E_ARG. */
json_t *al_wallet_svc_call(al_wallet_svc *s, const char *cmd, const char *const *args,
                           size_t n_args, al_err *err);

#endif
