/* A remote replica of the nodes' records: one alight-store (or any VSS server), served
 * by a worker thread of its own so that the event loop never waits on the network.
 *
 * ARCHITECTURE.md, "Persistence": records are written to several stores, one of which
 * may be run by the user. The enclave's store ocalls (enclave/abi.h) must return at
 * once and complete later; a blocking HTTP request inside one would freeze every node
 * and every peer of the host. So the ocall only enqueues (al_store_remote_get/put copy
 * what they need), and the worker performs the requests one at a time, in the order
 * they were queued, through host/store_vss.h, handing each result to the `done`
 * callback ON THE WORKER THREAD: the owner queues it for the loop thread, which
 * delivers it to the enclave (host/enclave_host.h).
 *
 * Ordering. One worker per replica and a FIFO queue: requests to this replica run and
 * complete in the order they were made. That is what store/rstore.h relies on besides
 * its own bookkeeping (one batch in flight per node, every answer awaited): an answer
 * meant for a node's earlier incarnation always arrives before any answer to its next
 * one on the same replica, and is ignored as stale.
 *
 * Objects. Node k's records live under VSS store_id "node-<k>" of the user the auth key
 * names: the operator's own account with that server (the records are sealed and
 * versioned inside the enclave; the account only scopes the operator's storage). Give
 * every alightd its own key, or two would share store ids.
 *
 * Errors reach the enclave as they happened, for the node's storage status to name:
 * AL_E_STORE_NOT_FOUND (absent), AL_E_STORE_VERSION (a conflict), otherwise the cause
 * (al_store_vss_cause): AL_E_NET_CONNECT or AL_E_NET_RESOLVE (unreachable),
 * AL_E_NET_TIMEOUT, AL_E_TLS_* (trust), AL_E_VSS_SERVER and other AL_E_VSS_* (the
 * server's answer), AL_E_HTTP_*; AL_E_HOST_STORE_BUSY when the queue is full and
 * AL_E_HOST_STORE_CLOSED for requests still queued at shutdown. When the server is
 * unreachable or silent (AL_E_NET_CONNECT, AL_E_NET_RESOLVE, AL_E_NET_TIMEOUT), the
 * requests queued by then fail at once with the same cause instead of each waiting out
 * its timeouts (later ones try again). Each failure is logged (stderr) with the
 * replica's index and URL. */
#ifndef ALIGHT_HOST_STORE_REMOTE_H
#define ALIGHT_HOST_STORE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "host/httpc.h"
#include "store/kv.h"
#include "util/err.h"

/* Requests a replica queues per node slot by default (a node's load asks for each of
 * its objects at once; rstore's object table is at most 16 plus its own record). */
#define AL_STORE_REMOTE_QUEUE_PER_NODE 20

/* A result, on the worker thread: status AL_OK or an error as above; for a get, the
 * record and its version (valid during the call only). */
typedef void al_store_remote_done_fn(void *arg, uint64_t req, al_err status, const uint8_t *blob,
                                     size_t len, int64_t version);

typedef struct al_store_remote_config {
	const char *url; /* http(s)://.../vss, checked with al_store_remote_url */
	uint32_t index;  /* the replica's number, for logs */
	const al_privkey *auth_key;
	al_httpc_config http; /* trust and timeouts (net/httpc.h defaults when 0) */
	size_t queue_max;     /* requests waiting at most; >= 1 */
	al_store_remote_done_fn *done;
	void *arg;
} al_store_remote_config;

typedef struct al_store_remote al_store_remote;

/* Whether a --store argument names a remote store ("http://" or "https://") rather
 * than a directory. */
bool al_store_is_url(const char *s);
/* Check a remote store's URL: http or https, a host, and a path ending in "/vss" with
 * neither query nor fragment. AL_E_HTTP_URL_SCHEME or AL_E_HTTP_URL, with the reason
 * in why. */
AL_WARN_UNUSED al_err al_store_remote_url(const char *url, char *why, size_t cap);

/* The host's account key with its remote stores: a file holding 64 hex digits. With
 * `create` and no file there, a new key from the OS RNG is written (mode 0600, never
 * overwritten). A key file that others may read is refused. AL_E_HOST_IO (unreadable,
 * uncreatable, readable by others), AL_E_HEX or AL_E_PRIVKEY (not a key); why says
 * which. */
AL_WARN_UNUSED al_err al_store_remote_key(al_privkey *out, const char *path, bool create, char *why,
                                          size_t cap);

/* The key file's contents: 64 hex digits and an optional newline. AL_E_HEX, or
 * AL_E_PRIVKEY for a number that is not a valid secp256k1 key; *out is wiped then. */
AL_WARN_UNUSED al_err al_store_remote_key_parse(al_privkey *out, const uint8_t *buf, size_t len);

/* Start the worker. Nothing is sent before the first request. AL_E_ARG, AL_E_NOMEM,
 * AL_E_HOST_IO (no thread), al_store_vss_open's errors. */
AL_WARN_UNUSED al_err al_store_remote_open(al_store_remote **out,
                                           const al_store_remote_config *cfg);
/* Stop: requests still queued complete with AL_E_HOST_STORE_CLOSED, the one running
 * finishes (bounded by the HTTP timeouts), the thread is joined. Every request ever
 * accepted has had its `done` call when this returns. */
void al_store_remote_close(al_store_remote *r);

/* Queue a get of object `name` of node `node`, or a put_batch (store/kv.h semantics;
 * items and values are copied). AL_OK: `done` follows, on the worker thread. Else no
 * `done` follows: AL_E_HOST_STORE_BUSY (queue full), AL_E_HOST_STORE_CLOSED,
 * AL_E_NOMEM, AL_E_ARG. */
AL_WARN_UNUSED al_err al_store_remote_get(al_store_remote *r, uint64_t req, uint32_t node,
                                          const uint8_t name[AL_KV_NAME_LEN]);
AL_WARN_UNUSED al_err al_store_remote_put(al_store_remote *r, uint64_t req, uint32_t node,
                                          const al_kv_bitem *items, size_t n,
                                          int64_t global_version);

#endif
