/* The control API's request bodies, parsed without touching any node state, so that the
 * node's handlers (node_api.c, node_wallet.c) and the fuzz targets share one parser
 * (tests/fuzz/fuzz_alightd_api.c, fuzz_alightd_addr.c). */
#ifndef ALIGHT_NODE_API_PARSE_H
#define ALIGHT_NODE_API_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"

/* The most "args" a wallet command takes. */
#define AL_NODE_WALLET_MAX_ARGS 4

/* POST /v1/peers, LND's body {"addr":{"pubkey":"<66 hex digits>","host":"<host>:<port>"}}
 * already parsed into `req` (NULL if it was not JSON). The node id must be a valid
 * compressed public key; *host points into req, 1..63 bytes, not yet parsed as an
 * address. NULL on success, else the message for the 400 answer. */
const char *al_node_connect_args(const al_secp *secp, json_t *req, uint8_t id[33],
                                 const char **host);

/* A non-negative 64-bit integer given as a JSON integer or, as LND's REST writes them, a
 * string of decimal digits (no sign, no overflow). */
bool al_node_json_u64(const json_t *v, uint64_t *out);

/* POST /v1/wallet/<command>: an empty body, or {"args":[...]} with at most
 * AL_NODE_WALLET_MAX_ARGS strings without NUL (an object without "args" has none). *root
 * receives the parsed body (NULL if empty, or unparsable); the caller json_decrefs it
 * either way, and args point into it. */
bool al_node_wallet_args(json_t **root, const char *args[AL_NODE_WALLET_MAX_ARGS], size_t *n,
                         const uint8_t *body, size_t len);

#endif
