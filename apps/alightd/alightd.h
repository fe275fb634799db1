/* alightd: the host daemon. One thread, one poll loop, one arena allocated at start,
 * and the enclave (libalight_enclave.so, host/enclave_host.h) with its own fixed heap.
 *
 * The nodes run inside the enclave: their keys, their peers' BOLT #8 sessions, their
 * wallets, their storage keys, the user's channel. The host keeps sockets, files and
 * timers and relays bytes; it holds no seed, no key, no token. The pieces, each with
 * its header, depending one way (main -> api -> relay, main -> rpc):
 *   relay.c   sockets relayed to and from the enclave: every node's peers (one listener
 *             per node), the dials the enclave asks for, and the user channels
 *             (RA-TLS, --rpc-listen), whose TLS ends inside
 *   rpc.c     the operator's control socket: HTTP/1.1 over DIR/rpc.sock
 *   api.c     the operator's requests: the enclave's api ecall (operator authority),
 *             plus the host's own status route
 *   netparams.c  networks and chain hashes
 *   main.c    arguments, the data directory, start-up, the loop */
#ifndef ALIGHTD_H
#define ALIGHTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "host/enclave_host.h"
#include "host/loop.h"
#include "host/sock.h"
#include "util/arena.h"

/* Bytes of socket input a connection keeps when the enclave takes only part. */
#define CONN_RBUF 4096
/* Concurrent control-socket clients, and user channels; more wait in the backlog. */
#define RPC_CLIENTS 8
#define CTL_CLIENTS AL_ENCLAVE_CTL_MAX
#define MAX_NODES   1024

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

typedef struct alightd alightd;

/* One TCP connection relayed to the enclave: a node's peer or a user channel. */
typedef struct conn {
	alightd *owner;
	bool used;
	bool inbound;
	bool ctl;        /* a user channel (the enclave's ctl_* ecalls) */
	bool connecting; /* an outbound connect() still in progress */
	bool want_read;  /* the enclave takes bytes (net_read_ctl) */
	bool want_write; /* the socket did not take all the enclave offered */
	bool eof_seen;   /* the socket returned EOF; reported once the buffer drains */
	bool eof_done;
	bool close_req; /* the enclave asked to close (net_close) */
	bool failed;    /* a socket error ended it (sock_errno) */
	uint32_t gen;
	uint32_t node;
	int fd;
	int slot;       /* in the loop */
	int sock_errno; /* a socket error that ended it, for messages */
	al_enc_conn id;
	char addr[SOCK_ADDR_STRLEN];
	size_t roff, rlen; /* unread bytes rbuf[roff, roff + rlen) */
	uint8_t rbuf[CONN_RBUF];
} conn;

/* A node's peer listener. */
typedef struct listener {
	bool open;
	bool wanted; /* the node became ready: open at the next settle */
	int fd, slot;
	uint32_t node;
	char addr[SOCK_ADDR_STRLEN];
	alightd *owner;
} listener;

struct rpc_client;

struct alightd {
	const netparams *np;
	const char *datadir;
	char rpc_path[4096];
	al_arena arena;
	void *arena_mem;
	size_t arena_len;
	al_loop *loop;
	al_enclave_host *enc;
	uint32_t max_nodes;
	uint32_t max_peers, max_pending;
	/* Where nodes' peers connect: port 0 gives each node its own free port, port P
	 * gives node i port P + i. */
	sock_addr listen_base;
	bool listening;
	listener *listeners; /* max_nodes */
	int reserve_fd;      /* spare descriptor: lets accept() shed load on EMFILE */
	/* Connection table: peers of every node, then the user channels. */
	conn *conns;
	size_t n_conns; /* peer slots */
	/* The user channel (--rpc-listen) */
	int ctl_fd, ctl_slot;
	char ctl_addr[SOCK_ADDR_STRLEN];
	/* The operator's control socket. */
	int rpc_fd, rpc_slot;
	struct rpc_client *rpc;
	size_t rpc_out_cap;
	uint64_t started_ms;
	/* Answers of the enclave's api ecall go here (main sets rpc_complete). */
	void (*answer)(alightd *d, uint64_t token, int status, const uint8_t *body, size_t len);
};

/* --- logging (stderr, one line per event, never secrets) ---------------------- */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void logf_(const char *fmt, ...);

#endif
