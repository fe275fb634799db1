/* alight-devchain's Electrum server: the Electrum protocol 1.4 (spesmilo/electrumx
 * docs/protocol-basics.rst and protocol-methods.rst), newline-delimited JSON-RPC 2.0 over
 * TCP, answering from the same chain and mempool as the Esplora API.
 *
 * Three layers:
 *   electrum_parse.c  bytes -> requests (pure: no chain, no I/O; fuzzed)
 *   electrum.c        a session: requests in, response and notification bytes out, with
 *                     its subscriptions (needs the chain, under the chain's lock; no I/O)
 *   electrum_net.c    the listener, connections, limits and the event-loop thread
 *
 * Limits (per connection): a request line of at most max_line bytes (beyond: an error
 * and the connection is cut); requests are read only while fewer than max_queue/4 bytes
 * wait to be sent (a client that does not read is simply not served further); a
 * notification that would make more than max_queue bytes wait cuts the connection (the
 * client does not read what it subscribed to); at most max_subs script hashes
 * subscribed (beyond: an error); no more than idle_ms without a complete request. At
 * most max_conns connections. */
#ifndef ALIGHT_DEVCHAIN_ELECTRUM_H
#define ALIGHT_DEVCHAIN_ELECTRUM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "devchain.h"

#define EL_PROTOCOL    "1.4"
#define EL_SERVER_NAME "alight-devchain 0.1"
/* "max: The maximum number of headers the server will return in a single request.
 * (Recommended to be at least one difficulty retarget period, i.e. 2016)" */
#define EL_MAX_HEADERS 2016

/* JSON-RPC 2.0 error codes, and ElectrumX's application codes. */
#define EL_ERR_PARSE       (-32700)
#define EL_ERR_INVALID     (-32600)
#define EL_ERR_METHOD      (-32601)
#define EL_ERR_PARAMS      (-32602)
#define EL_ERR_BAD_REQUEST 1
#define EL_ERR_DAEMON      2
#define EL_ERR_RESOURCE    (-101) /* aiorpcx's EXCESSIVE_RESOURCE_USAGE */

/* Requests in one batch, at most. */
#define EL_MAX_BATCH 100

/* ---- electrum_parse.c ---------------------------------------------------------------- */

typedef enum el_method {
	EL_SERVER_VERSION,
	EL_SERVER_BANNER,
	EL_SERVER_DONATION_ADDRESS,
	EL_SERVER_PEERS_SUBSCRIBE,
	EL_SERVER_PING,
	EL_SERVER_FEATURES,
	EL_HEADERS_SUBSCRIBE,
	EL_BLOCK_HEADER,
	EL_BLOCK_HEADERS,
	EL_ESTIMATEFEE,
	EL_RELAYFEE,
	EL_FEE_HISTOGRAM,
	EL_SH_SUBSCRIBE,
	EL_SH_UNSUBSCRIBE,
	EL_SH_GET_HISTORY,
	EL_SH_GET_MEMPOOL,
	EL_SH_LISTUNSPENT,
	EL_SH_GET_BALANCE,
	EL_TX_GET,
	EL_TX_GET_MERKLE,
	EL_TX_BROADCAST,
	EL_TX_ID_FROM_POS,
	EL_N_METHODS
} el_method;

/* At most this many parameters per method. */
#define EL_MAX_PARAMS 3

/* A parameter as decoded. Present or not; then by the method's declared type. */
typedef struct el_param {
	bool present;
	uint64_t u;    /* EL_P_UINT: a non-negative integer below 2^32 */
	bool b;        /* EL_P_BOOL */
	uint8_t h[32]; /* EL_P_HASH: 64 hex digits, reversed (display order -> internal) */
	const char *s; /* EL_P_STR: borrowed from the parsed document */
	size_t s_len;
	char pmin[16]; /* EL_P_PROTO: a version string or [min, max] */
	char pmax[16];
} el_param;

typedef struct el_req {
	json_t *id; /* borrowed; NULL for a notification (no "id": no reply) */
	el_method method;
	el_param p[EL_MAX_PARAMS];
} el_req;

typedef struct el_error {
	int code;
	char msg[160];
} el_error;

/* Set an error (printf-style message); returns false. */
bool el_error_set(el_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The JSON-RPC name of a method. */
const char *el_method_name(el_method m);
/* Parse one line (without its newline) into a JSON document: a request object or a
 * batch (an array). NULL with err set (EL_ERR_PARSE, or EL_ERR_INVALID for anything
 * but an object or a non-empty array). The caller json_decref's the result. */
json_t *el_parse_line(const char *line, size_t len, el_error *err);
/* Check one request object and decode its parameters (positional or named, as the
 * protocol names them). On failure req->id is still set when the object had one, so
 * the error can be answered; the codes are EL_ERR_INVALID, EL_ERR_METHOD,
 * EL_ERR_PARAMS. */
bool el_parse_request(json_t *obj, el_req *req, el_error *err);

/* ---- electrum.c ------------------------------------------------------------------------ */

typedef struct el_limits {
	size_t max_line;  /* bytes in one request line */
	size_t max_queue; /* bytes waiting to be sent */
	size_t max_subs;  /* script hashes subscribed */
	unsigned max_conns;
	uint64_t idle_ms; /* without a complete request: cut off */
} el_limits;

void el_limits_default(el_limits *l);

/* A growable byte queue: bytes [off, len) wait. */
typedef struct el_buf {
	uint8_t *p;
	size_t off, len, cap;
} el_buf;

void el_buf_put(el_buf *b, const void *data, size_t n);
size_t el_buf_pending(const el_buf *b);
void el_buf_consume(el_buf *b, size_t n);
void el_buf_free(el_buf *b);

typedef struct el_session {
	const el_limits *lim;
	uint16_t tcp_port; /* for server.features */
	el_buf out;
	dc_map subs; /* script hash -> el_sub */
	bool headers;
	uint8_t tip_sent[32];
	bool cut;      /* the connection must end once `out` is flushed */
	bool overflow; /* a notification did not fit: end it now */
	char why[128]; /* why it ends, for the log */
} el_session;

void el_session_init(el_session *s, const el_limits *lim, uint16_t tcp_port);
void el_session_free(el_session *s);
/* Handle one request line (without its newline): the answers are appended to s->out,
 * together at most about max_queue bytes (a response that would pass that is an error
 * instead). Sets s->cut when the line was not JSON (the client does not speak the
 * protocol). */
void el_session_line(el_session *s, dc_chain *c, const char *line, size_t len);
/* After a change: queue this session's notifications for the tip and the entries in
 * `dirty` (the index's dirty list, their flags still set). Sets s->overflow when they do
 * not fit under max_queue. */
void el_session_notify(el_session *s, dc_chain *c, dc_sh *const *dirty, size_t n_dirty);
/* Append one error response (id may be NULL: JSON null). */
void el_reply_error(el_session *s, json_t *id, int code, const char *msg);

/* esplora.c: bytes as lower-case hex; a hash (txid, block) in display order. */
json_t *dc_json_hex(const uint8_t *p, size_t n);
json_t *dc_json_hash(const uint8_t h[32]);

/* electrum_tx.c: blockchain.transaction.get with verbose=true, "whatever the coin daemon
 * returns when asked for a verbose form of the raw transaction" (Core's
 * getrawtransaction), without the script disassembly and descriptors. */
json_t *el_tx_verbose(const dc_chain *c, const dc_tx *t);

/* ---- electrum_net.c ------------------------------------------------------------------- */

typedef struct el_server el_server;

/* Listen on `listen` ("127.0.0.1:0") and serve from a thread of its own; every access
 * to `c` is made holding `lock`. addr receives the bound address ("127.0.0.1:50001"). */
int el_server_start(el_server **out, dc_chain *c, pthread_mutex_t *lock, const char *listen,
                    const el_limits *lim, char *addr, size_t addr_cap);
/* The chain changed (call after releasing the lock): notifications go out. */
void el_server_wake(el_server *s);
void el_server_stop(el_server *s);

#endif
