/* State shared by the enclave's ecall handlers (enclave.c: entry, life cycle,
 * requests; node.c: user nodes, connections, storage completions). Private to
 * src/enclave. */
#ifndef ALIGHT_ENCLAVE_INT_H
#define ALIGHT_ENCLAVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "crypto/tls.h"
#include "enclave/abi.h"
#include "enclave/heap.h"
#include "enclave/ratls.h"
#include "enclave/seal_sim.h"
#include "ln/features.h"
#include "ln/peer.h"
#include "util/arena.h"

enum al_enode_state { AL_ENODE_FREE = 0, AL_ENODE_LOADING, AL_ENODE_READY, AL_ENODE_FAILED };

typedef struct al_enode {
	enum al_enode_state state;
	al_err status; /* why FAILED */
	bool creating; /* node_create: the put of its new key is in flight */
	uint64_t store_req;
	al_privkey key; /* held until the peer manager copies it (then wiped) */
	void *mem;      /* the node's arena memory, carved from the heap */
	al_arena arena;
	al_peer_mgr *mgr;
	uint8_t node_id[AL_PUBKEY_LEN];
	size_t arena_len;
	/* node_seed: its parameters (public) and when it started */
	bool seeded;
	al_enclave_node_params params;
	al_features features;
	uint64_t started_ms;
	/* The on-chain wallet (wallet_enc.c): the BIP 39 seed from node_seed, kept until
	 * wallet_open takes it; then the wallet and the trust it syncs with. */
	bool has_seed;
	uint8_t wallet_seed[64];
	struct al_wallet_svc *wallet;
	uint8_t *wallet_ca;
	uint8_t (*wallet_pins)[32];
} al_enode;

typedef struct al_econn {
	bool used;
	bool closing;    /* net_close asked of the host */
	int32_t reading; /* last read interest told to the host (-1: not yet) */
	uint32_t node;
	al_enc_conn conn;
	/* What the control API reports (public). */
	bool inbound;
	bool connected;
	uint8_t node_id[AL_PUBKEY_LEN];
	al_features remote_features;
	char addr[64];
	char why[96];    /* a socket error the host reported (net_error) */
	uint64_t waiter; /* a pending connect request's token, 0 if none */
} al_econn;

/* A control connection (ctl.c): TLS 1.3 terminated here, one HTTP request. */
typedef struct al_ectl {
	bool used;
	bool closing;  /* net_close asked of the host */
	bool pending;  /* the api answers later (al_enc_ctl_done) */
	bool answered; /* the response and close_notify are in the engine */
	uint32_t node;
	uint32_t gen;
	al_enc_conn conn;
	al_tls tls;  /* must not move: the table is allocated once */
	uint8_t *in; /* plaintext request so far */
	size_t in_len;
	uint8_t *out; /* ciphertext taken from the engine, out[out_off, out_len) unsent */
	size_t out_off, out_len;
} al_ectl;

typedef struct al_enclave {
	bool inited;
	bool down;
	al_ocalls oc;
	al_enclave_config cfg;
	al_heap *heap;
	al_secp *secp;
	al_sealsim seal;
	uint64_t now_ms;
	uint64_t wall_s;
	uint64_t timer_armed;
	uint64_t next_req;
	al_enode *nodes; /* cfg.max_nodes */
	al_econn *conns; /* cfg.max_conns */
	uint8_t *rxbuf;  /* staging for net_recv: host bytes are copied before use */
	size_t node_arena;
	uint64_t handshakes;
	uint64_t messages_in;
	/* The control API over RA-TLS (ctl.c), after ctl_setup. */
	al_ectl *ctl; /* AL_ENCLAVE_CTL_MAX */
	al_ratls_identity ctl_id;
	al_tls_ctx ctl_ctx;
	bool ctl_ctx_ready;
	char ctl_token[AL_ENCLAVE_CTL_TOKEN_LEN];
} al_enclave;

#define AL_ENC_RXBUF 16384

extern al_enclave al_enc;

/* Refresh the time from the host (never going back). */
void al_enc_tick(void);
void al_enc_log(int32_t level, const char *fmt_literal, const char *a, const char *b);
AL_WARN_UNUSED al_err al_enc_random(void *out, size_t len);
/* Deliver events, flush bytes, update read interest and the timer: after each ecall. */
void al_enc_pump(void);
void al_enc_nodes_clear(void);

/* node.c: the ecalls it implements. */
int32_t al_enc_node_create(uint32_t *node);
int32_t al_enc_node_open(uint32_t index);
int32_t al_enc_node_unload(uint32_t node);
int32_t al_enc_node_info(uint32_t node, al_enclave_node_info *out);
int32_t al_enc_net_accept(uint32_t node, al_enc_conn conn);
int32_t al_enc_net_connect(uint32_t node, al_enc_conn conn, const uint8_t their_id[33]);
int32_t al_enc_net_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
int32_t al_enc_net_eof(al_enc_conn conn);
int32_t al_enc_net_writable(al_enc_conn conn);
int32_t al_enc_net_closed(al_enc_conn conn);
void al_enc_timer(void);
void al_enc_store_done(uint64_t req, int32_t status, const uint8_t *blob, size_t len);
void al_enc_count_nodes(uint32_t *loaded, uint32_t *ready, uint32_t *conns);
int32_t al_enc_node_seed(const al_enclave_node_params *p, const char *words, size_t len,
                         uint32_t *node);
int32_t al_enc_net_accept_from(uint32_t node, al_enc_conn conn, const char *addr, size_t len);
int32_t al_enc_net_error(al_enc_conn conn, const char *why, size_t len);
/* An outbound connection the control API asked for (the host dialed it). */
al_err al_enc_net_dialed(uint32_t node, al_enc_conn conn, const uint8_t their_id[33],
                         const char *addr, uint64_t waiter);
al_enode *al_enc_node_at(uint32_t i);

/* --- wallet_enc.c: the on-chain wallet of a node --------------------------------- */
int32_t al_enc_wallet_open(uint32_t node, const char *url, size_t urllen, const uint8_t *ca_pem,
                           size_t ca_len, const uint8_t *pins, size_t n_pins);
/* Close a node's wallet and wipe its seed (node_release). */
void al_enc_wallet_release(al_enode *n);
/* POST /v1/wallet/<command> of `node`: NULL if target is not a wallet path, else the
 * answer with *status. The body was copied by the caller. */
struct json_t *al_enc_wallet_route(al_enode *n, const char *method, const char *target,
                                   const uint8_t *body, size_t blen, int32_t *status);

/* api.c: the control API. */
int32_t al_enc_api(uint32_t node, uint64_t token, const char *method, size_t mlen,
                   const char *target, size_t tlen, const uint8_t *body, size_t blen, uint8_t *out,
                   size_t cap, size_t *outlen, int32_t *status);
/* A pending connect finished: connected, or failed with a reason. */
void al_enc_api_connected(const al_econn *c);
void al_enc_api_failed(const al_econn *c, const char *msg);

/* ctl.c: the control API over RA-TLS. Tokens of its pending requests carry this bit
 * (the host's api tokens never do): their answers stay inside. */
#define AL_ENC_CTL_TOKEN ((uint64_t)1 << 63)
int32_t al_enc_ctl_setup(const char *token, size_t len);
int32_t al_enc_ctl_accept(uint32_t node, al_enc_conn conn);
int32_t al_enc_ctl_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
int32_t al_enc_ctl_eof(al_enc_conn conn);
int32_t al_enc_ctl_writable(al_enc_conn conn);
int32_t al_enc_ctl_closed(al_enc_conn conn);
/* A pending request of a control connection is answered (from api.c). */
void al_enc_ctl_done(uint64_t token, int32_t status, const uint8_t *body, size_t len);
/* Wipe the identity and the token, end every control connection's TLS (shutdown). */
void al_enc_ctl_clear(void);

/* One log line assembled from parts (no formatting library in the enclave). */
typedef struct al_enc_line {
	char b[512];
	size_t n;
} al_enc_line;
void al_enc_line_s(al_enc_line *l, const char *s);
void al_enc_line_u(al_enc_line *l, uint64_t v);
void al_enc_line_hex(al_enc_line *l, const uint8_t *p, size_t n);
void al_enc_line_log(al_enc_line *l, int32_t level);

#endif
