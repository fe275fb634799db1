/* The control API's request bodies, parsed without touching the daemon's state (so
 * they can be fuzzed on their own, tests/fuzz/fuzz_alightd_api.c). */
#ifndef ALIGHTD_API_PARSE_H
#define ALIGHTD_API_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"

/* The most "args" a wallet command takes. */
#define API_WALLET_MAX_ARGS 4

/* POST /v1/peers: {"addr":{"pubkey":"<66 hex digits>","host":"<host>:<port>"}} (LND's
 * body). The node id must be a valid compressed public key; the host is copied
 * NUL-terminated (shorter than hostcap), not yet parsed. false with a message in msg. */
bool api_connect_args(const al_secp *secp, uint8_t id[33], char *host, size_t hostcap,
                      const uint8_t *body, size_t len, char *msg, size_t msgcap);

/* POST /v1/wallet/<command>: an empty body, or {"args":[...]} with at most
 * API_WALLET_MAX_ARGS strings (an object without "args" has none). On success *root
 * holds the parsed body (NULL if empty; the caller json_decrefs it) and args point
 * into it; on failure *root is NULL. */
bool api_wallet_args(json_t **root, const char *args[API_WALLET_MAX_ARGS], size_t *n,
                     const uint8_t *body, size_t len);

#endif
