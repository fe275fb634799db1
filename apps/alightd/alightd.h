/* alightd: the host daemon. One thread, one poll loop, one arena allocated at start,
 * and the enclave (libalight_enclave.so, host/enclave_host.h) with its own fixed heap.
 *
 * The node runs inside the enclave: its key (derived there from the seed), its BOLT #8
 * and BOLT #1 peer manager and its control API. The host keeps sockets, files and
 * timers. The pieces: main.c (arguments, data directory, seed, start-up, the enclave),
 * peers.c (TCP sockets in and out, relaying socket events and bytes to and from the
 * enclave's ecalls and ocalls, and the control API's RA-TLS clients, whose TLS ends
 * inside the enclave), rpc.c (the control socket: HTTP/1.1 over a Unix socket,
 * util/http.h), api.c (relays control requests to the enclave, the on-chain
 * wallet's too: it runs inside, over the stream and kv ocalls), netparams.c (networks
 * and chain hashes). */
#ifndef ALIGHTD_H
#define ALIGHTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "crypto/rng.h"
#include "crypto/secp.h"
#include "host/enclave_host.h"
#include "host/loop.h"
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
/* jansson's allocations while one request is handled come from this scratch. */
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

/* One TCP connection to a peer: a fixed host struct from the preallocated table. The
 * peer behind it lives in the enclave; the host only moves its bytes. */
typedef struct conn {
	alightd *owner;
	bool used;
	bool inbound;
	bool ctl;        /* a control client over RA-TLS (the enclave's ctl_* ecalls) */
	bool connecting; /* an outbound connect() still in progress */
	bool want_read;  /* the enclave takes bytes (net_read_ctl) */
	bool want_write; /* the socket did not take all the enclave offered */
	bool eof_seen;   /* the socket returned EOF; reported once the buffer drains */
	bool eof_done;
	bool close_req; /* the enclave asked to close (net_close) */
	bool failed;    /* a socket error ended it (sock_errno) */
	uint32_t gen;
	int fd;
	int slot;       /* in the loop */
	int sock_errno; /* a socket error that ended it, for messages */
	al_enc_conn id;
	char addr[SOCK_ADDR_STRLEN];
	size_t roff, rlen; /* unread bytes rbuf[roff, roff + rlen) */
	uint8_t rbuf[CONN_RBUF];
} conn;

struct rpc_client;

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
	al_enclave_host *enc; /* the enclave holding the node */
	uint32_t node;        /* the node's index in it */
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
	/* The control API over RA-TLS on TCP (--rpc-listen; peers.c relays its ciphertext
	 * to the TLS server inside the enclave). */
	int rpc_tls_fd, rpc_tls_slot;
	char rpc_tls_addr[SOCK_ADDR_STRLEN];
};

/* --- logging (stderr, one line per event, never secrets) ---------------------- */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void logf_(const char *fmt, ...);

/* --- peers.c ----------------------------------------------------------------- */
/* Bytes of the connection table for n peer connections (and the control slots). */
size_t peers_table_size(size_t n);
/* Set up the table (memory from d->arena). */
al_err peers_init(alightd *d);
al_err peers_listen(alightd *d, const sock_addr *a);
/* Serve the control API over RA-TLS on `a`: TCP clients whose ciphertext goes to the
 * enclave (after its ctl_setup ecall). */
al_err peers_listen_ctl(alightd *d, const sock_addr *a);
/* The network and timer ocalls of the enclave (host/enclave_host.h), answered here. */
void peers_enclave_net(alightd *d, al_enclave_net *net);
/* After every ecall: act on what the enclave asked for (closes, read and write
 * interest) and on socket failures, until nothing is left. */
void peers_settle(alightd *d);
/* Close every connection (at shutdown). */
void peers_shutdown(alightd *d);

/* --- rpc.c: transport -------------------------------------------------------- */
size_t rpc_table_size(size_t out_cap);
al_err rpc_init(alightd *d);
/* Finish a pending request with `status` and the JSON `body`; a token whose client
 * went away is ignored. */
void rpc_complete(alightd *d, rpc_token t, int status, const uint8_t *body, size_t len);
void rpc_shutdown(alightd *d);

/* --- api.c: control requests to the enclave ------------------------------------ */

/* What api_handle decided. */
typedef enum api_result {
	API_DONE,    /* *status and the body in w */
	API_PENDING, /* the answer comes later via rpc_complete(token) */
} api_result;

api_result api_handle(alightd *d, const char *method, const char *target, const uint8_t *body,
                      size_t body_len, rpc_token token, int *status, al_wb *w);
/* {"error":{"message":...}} into w. */
void api_error_body(al_wb *w, const char *msg);

#endif
