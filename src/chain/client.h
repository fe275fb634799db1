/* Chain sync over HTTP, synchronously: runs chain/sync.h steps against an Esplora
 * server through a blocking HTTP client (net/httpc.h, plain HTTP or TLS with CA roots or
 * pins, over whatever transport its maker chose) and broadcasts transactions. It does no I/O
 * itself. (A node drives its sync with effects instead, node/node.h; this driver serves tools and
 * benchmarks.)
 *
 * The server is untrusted: everything it answers goes through the sync's checks; this
 * file only moves bytes. Byte counts include response bodies only. */
#ifndef ALIGHT_CHAIN_CLIENT_H
#define ALIGHT_CHAIN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "chain/sync.h"
#include "net/httpc.h"
#include "util/alloc.h"
#include "util/err.h"

typedef struct al_chain_client al_chain_client;

/* `url` is the API root, e.g. "https://blockstream.info/api" or "http://127.0.0.1:3002"
 * (a trailing slash is ignored), reached through `http`, which the client then owns
 * (freed by al_chain_client_free, also when this fails). Errors: AL_E_HTTP_URL,
 * AL_E_HTTP_URL_SCHEME, AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_chain_client_new(al_chain_client **out, const char *url, al_httpc *http,
                                          const al_alloc *mem);
void al_chain_client_free(al_chain_client *c);

/* One sync step, to its end: AL_OK when it committed, else the first error (network,
 * HTTP, or the sync's check that failed; the sync is then unchanged). */
AL_WARN_UNUSED al_err al_chain_client_sync(al_chain_client *c, al_sync *s);

/* POST /tx. AL_OK with the txid the server returned (checked to be the transaction's);
 * AL_E_ESPLORA_STATUS when it refused, with its message (NUL-terminated, truncated
 * to cap) in msg. */
AL_WARN_UNUSED al_err al_chain_client_broadcast(al_chain_client *c, const uint8_t *raw, size_t len,
                                                char *msg, size_t cap);

/* Requests made and response bytes received so far. */
void al_chain_client_counters(const al_chain_client *c, uint64_t *requests, uint64_t *bytes);
/* The last network/TLS error's detail (al_httpc_error_detail), "" if none. */
const char *al_chain_client_detail(const al_chain_client *c);

#endif
