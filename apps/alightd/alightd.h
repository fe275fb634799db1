/* alightd: the host daemon. One thread, one poll loop, one arena allocated at start.
 *
 * The pieces: main.c (arguments, data directory, seed, start-up), peers.c (TCP
 * sockets in and out, driving the sans-I/O peer manager ln/peer.h), rpc.c (the
 * control socket: HTTP/1.1 over a Unix socket, util/http.h), api.c (the REST handler,
 * which knows nothing of sockets), netparams.c (networks and chain hashes). */
#ifndef ALIGHTD_H
#define ALIGHTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "crypto/rng.h"
#include "crypto/tls.h"
#include "host/loop.h"
#include "ln/features.h"
#include "ln/peer.h"
#include "sock.h"
#include "util/arena.h"
#include "util/cursor.h"

/* Bytes of socket input a connection keeps when the peer manager takes only part. */
#define CONN_RBUF 4096
/* Concurrent control-socket clients; more wait in the listen backlog. */
#define RPC_CLIENTS 8
#define RPC_IN_MAX  (16 * 1024)
/* The response buffer: the fixed part plus this much per peer listed. */
#define RPC_OUT_BASE     4096
#define RPC_OUT_PER_PEER 1024
/* Room for the wallet's largest answer (listfunds). */
#define RPC_OUT_WALLET (256 * 1024)
/* jansson's allocations while one request is handled come from this scratch (the
 * wallet's Esplora answers are parsed inside a request). */
#define RPC_SCRATCH (8 * 1024 * 1024)

typedef struct netparams {
	const char *name; /* "mainnet", "testnet", "signet", "regtest" */
	al_net net;
	uint32_t coin;          /* BIP 44 coin type for LND's key paths */
	uint8_t chain_hash[32]; /* BOLT #1 chain_hash: the genesis block hash, internal order */
} netparams;

/* By name; NULL if unknown. */
const netparams *netparams_find(const char *name);
/* "mainnet|testnet|signet|regtest" for messages. */
const char *netparams_names(void);

/* A token naming one pending RPC request (client slot and generation); 0 is none. */
typedef uint64_t rpc_token;

typedef struct alightd alightd;

/* One TCP connection to a peer: a fixed host struct from the preallocated table. */
typedef struct conn {
	alightd *owner;
	bool used;
	bool inbound;
	bool connected; /* AL_PEER_EV_CONNECTED delivered */
	bool eof_seen;  /* the socket returned EOF; reported once the buffer drains */
	bool eof_done;
	bool closed; /* socket closed, awaiting al_peer_closed */
	uint32_t gen;
	int fd;
	int slot;       /* in the loop */
	int sock_errno; /* a socket error that ended it, for messages */
	al_peer_conn id;
	char addr[SOCK_ADDR_STRLEN];
	bool has_node_id;
	uint8_t node_id[33];
	al_features remote_features;
	rpc_token waiter;  /* a `connect` request waiting for this connection */
	size_t roff, rlen; /* unread bytes rbuf[roff, roff + rlen) */
	uint8_t rbuf[CONN_RBUF];
} conn;

struct rpc_client;
struct rpc_ratls;

struct alightd {
	const netparams *np;
	const char *datadir;
	char rpc_path[4096];
	al_arena arena;
	void *arena_mem;
	size_t arena_len;
	const al_secp *secp;
	al_rng rng;
	al_loop *loop;
	al_peer_mgr *mgr;
	uint8_t node_id[33];
	uint32_t max_peers, max_pending;
	/* Listening sockets. */
	int listen_fd, listen_slot;
	char listen_addr[SOCK_ADDR_STRLEN];
	int rpc_fd, rpc_slot;
	int reserve_fd; /* spare descriptor: lets accept() shed load on EMFILE */
	/* Connection table. */
	conn *conns;
	size_t n_conns;
	/* Control socket. */
	struct rpc_client *rpc;
	size_t rpc_out_cap;
	uint8_t *rpc_body; /* scratch for rendering a response body */
	al_arena scratch;  /* jansson's memory while one request is parsed */
	uint64_t started_ms;
	al_features features;         /* what our init offers */
	struct al_wallet_svc *wallet; /* with --esplora only */
	/* The control API over RA-TLS on TCP (--rpc-listen; rpc.c, ratls.c). */
	int rpc_tls_fd, rpc_tls_slot;
	char rpc_tls_addr[SOCK_ADDR_STRLEN];
	struct rpc_ratls *ratls;
};

/* --- logging (stderr, one line per event, never secrets) ---------------------- */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void logf_(const char *fmt, ...);

/* --- peers.c ----------------------------------------------------------------- */
/* Bytes of the connection table for n connections. */
size_t peers_table_size(size_t n);
/* Set up the table (memory from d->arena) and the listener if `listen` is set. */
al_err peers_init(alightd *d);
al_err peers_listen(alightd *d, const sock_addr *a);
/* Dial `addr` and start the handshake with `node_id`; the result reaches `waiter`
 * later through rpc_complete (connected, or failed with the reason). Immediate
 * failures return an error and a message in msg. */
al_err peers_connect(alightd *d, const uint8_t node_id[33], const char *addr, rpc_token waiter,
                     char *msg, size_t msgcap);
/* The live connection of a connected node, or NULL. */
const conn *peers_find_connected(const alightd *d, const uint8_t node_id[33]);
size_t peers_connected_count(const alightd *d);
/* Close every connection (at shutdown). */
void peers_shutdown(alightd *d);

/* --- rpc.c: transport -------------------------------------------------------- */
size_t rpc_table_size(size_t out_cap);
al_err rpc_init(alightd *d);
/* Finish a pending request with `status` and the JSON `body`; a token whose client
 * went away is ignored. */
void rpc_complete(alightd *d, rpc_token t, int status, const uint8_t *body, size_t len);
void rpc_shutdown(alightd *d);
/* Serve the control API over RA-TLS on `a` too (after rpc_init and ratls_init). */
al_err rpc_listen_tls(alightd *d, const sock_addr *a);

/* --- ratls.c: the control API's RA-TLS identity ------------------------------- */
/* Load the simulated platform from `sim_dir` (NULL: $ALIGHT_SIM_DIR), measure this
 * program, make the TLS key and its quote-carrying certificate. On failure msg says
 * why. */
al_err ratls_init(alightd *d, const char *sim_dir, char *msg, size_t cap);
/* The TLS server context (NULL without ratls_init) and the measurement quoted. */
const al_tls_ctx *ratls_ctx(const alightd *d);
const uint8_t *ratls_measurement(const alightd *d);
/* Whether an Authorization field value is "Bearer <DIR/rpc.token>" (constant time). */
bool ratls_authorized(const alightd *d, const char *authorization);
void ratls_shutdown(alightd *d);

/* --- api.c: the REST handler ------------------------------------------------- */
/* --- wallet.c ---------------------------------------------------------------- */
/* Open the on-chain wallet of the seed `words` against `esplora` (NULL: no wallet),
 * trusting a CA file or a pinned public key (both optional) for https. */
al_err wallet_open(alightd *d, const char *esplora, const char *ca_file, const char *pin_hex,
                   const char *words);
void wallet_close(alightd *d);
/* Answer POST /v1/wallet/<command>; false if target is not a wallet path. */
bool wallet_route(alightd *d, const char *method, const char *target, const uint8_t *body,
                  size_t body_len, int *status, al_wb *w);

/* What api_handle decided. */
typedef enum api_result {
	API_DONE,    /* *status and the body in w */
	API_PENDING, /* the answer comes later via rpc_complete(token) */
} api_result;

api_result api_handle(alightd *d, const char *method, const char *target, const uint8_t *body,
                      size_t body_len, rpc_token token, int *status, al_wb *w);
/* {"error":{"message":...}} into w. */
void api_error_body(al_wb *w, const char *msg);
/* Helpers for the connect request's completion. */
void api_connect_ok(alightd *d, rpc_token t, const conn *c);
void api_connect_failed(alightd *d, rpc_token t, const char *msg);

#endif
