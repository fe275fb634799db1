/* Private to src/enclave: the enclave's one state and the services its files share.
 *
 *   enclave.c  the entry point, the ecall table, init and shutdown, stats
 *   entropy.c  the enclave's randomness: the CPU's, the host's only mixed in
 *   nodes.c    the node slots: anchors (sealed seeds), provisioning, and the loop that
 *              turns node effects into ocalls
 *   ctl.c      the user channels (node/ctl.h), bound to nodes by credential
 *   fetch.c    a node's chain requests over the stream ocalls (TLS inside)
 *   chain.c    what the nodes share (the header chain, kept sealed), made at init
 *   heap.c, rt.c, tlibc.c, seal_sim.c: memory, the libraries' runtime, sealing
 *
 * Calls go one way between them: enclave.c -> ctl.c -> nodes.c -> fetch.c, and every
 * file may use the services declared here (implemented in enclave.c, entropy.c). Answers
 * for user channels travel back through a mailbox in enclave.c (al_enc_post_answer),
 * which ctl.c empties after every ecall (al_enc_ctl_deliver). */
#ifndef ALIGHT_ENCLAVE_INT_H
#define ALIGHT_ENCLAVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/ratls_server.h"
#include "crypto/rng.h"
#include "crypto/secp.h"
#include "crypto/tls.h"
#include "enclave/abi.h"
#include "enclave/heap.h"
#include "enclave/seal_sim.h"
#include "ln/peer.h"
#include "net/httpc.h"
#include "node/ctl.h"
#include "node/node.h"
#include "util/alloc.h"
#include "util/arena.h"

/* Tokens of answers for user channels carry this bit (the host's never may). */
#define AL_ENC_CTL_TOKEN ((uint64_t)1 << 63)
/* Request ids of the state store (anchors): the top 16 bits all set. */
#define AL_ENC_STATE_REQ ((uint64_t)0xffff << 48)
#define AL_ENC_RXBUF     16384

enum al_eslot { ES_FREE = 0, ES_ANCHOR, ES_RUN, ES_FAILED };

/* A node slot. */
typedef struct al_enode {
	enum al_eslot slot;
	al_err status; /* why FAILED */
	al_node *node; /* in `mem` */
	void *mem;
	size_t mem_len;
	al_arena arena;
	int64_t last_seen;
	uint8_t entropy[32]; /* the seed's entropy, for resealing the anchor; wiped */
	size_t entropy_len;
	bool anchor_busy, anchor_dirty;
	uint16_t anchor_seq;
	uint64_t provision_token; /* a user channel waiting for the anchor, 0 if none */
	bool created;             /* provisioned from the enclave's own entropy */
	bool ready_told, failed_told;
	char listen[64];
	/* the chain server client (fetch.c) */
	al_httpc *http;
	uint64_t http_gen;
	uint64_t http_used; /* when it last fetched (al_enc.fetches) */
} al_enode;

/* A connection: a peer of a node, or a user channel. */
typedef struct al_econn {
	bool used;
	bool ctl;
	bool closing;
	uint32_t node; /* peers */
	al_enc_conn conn;
} al_econn;

/* A user channel (ctl.c). */
typedef struct al_ectl {
	bool used;
	bool closing;
	bool pending; /* a node (or provisioning) answers later */
	uint32_t gen;
	al_enc_conn conn;
	al_ctl ctl; /* must not move */
	uint8_t out[17408];
	size_t out_off, out_len;
} al_ectl;

typedef struct al_enclave {
	bool inited;
	bool down;
	al_ocalls oc;
	al_enclave_config cfg;
	al_heap *heap;
	al_alloc mem; /* the heap as an al_alloc */
	al_secp *secp;
	al_rng rng; /* entropy.c */
	al_sealsim seal;
	uint64_t now_ms, wall_s;
	uint64_t timer_armed;
	al_node_config node_cfg;
	size_t node_bytes;
	/* what the nodes share (chain.c) */
	al_node_shared *shared;
	void *shared_mem;
	size_t shared_len;
	bool chain_busy, chain_writing, chain_loaded;
	uint16_t chain_seq;
	uint64_t chain_saved_gen, chain_writing_gen, chain_saved_ms;
	al_peer_pool *pool;
	void *pool_mem;
	al_enode *nodes;
	al_econn *conns;
	size_t n_conns; /* table size: max_conns + AL_ENCLAVE_CTL_MAX */
	uint8_t *rxbuf;
	uint64_t stale;
	uint64_t fetches; /* FETCH effects performed */
	/* answers for user channels, waiting for ctl.c */
	struct {
		uint64_t token;
		int32_t status;
		uint8_t *body;
		size_t len;
	} mail[AL_ENCLAVE_CTL_MAX];
	size_t n_mail;
	/* the user channels */
	al_ectl *ctl;
	al_ratls_identity ctl_id;
	al_tls_ctx ctl_ctx;
	bool ctl_ready;
} al_enclave;

extern al_enclave al_enc;

/* --- enclave.c --------------------------------------------------------------------- */
/* Refresh the time from the host (never going back). */
void al_enc_tick(void);
void al_enc_log(int32_t level, const char *a, const char *b, const char *c);
al_econn *al_enc_conn_find(al_enc_conn conn);
al_econn *al_enc_conn_new(al_enc_conn conn);
/* An answer for a user channel (token with AL_ENC_CTL_TOKEN): copied into the mailbox. */
void al_enc_post_answer(uint64_t token, int32_t status, const uint8_t *body, size_t len);
/* The oldest answer waiting: the caller owns *body (al_heap_free). */
bool al_enc_take_answer(uint64_t *token, int32_t *status, uint8_t **body, size_t *len);

/* --- entropy.c ----------------------------------------------------------------------- */
/* Seed the generator from the CPU and the host (AL_E_ENC_ENTROPY without CPU entropy)
 * and make it the randomness of OpenSSL and of every node. */
AL_WARN_UNUSED al_err al_enc_entropy_init(const uint8_t measurement[32]);
void al_enc_entropy_clear(void);
uint64_t al_enc_entropy_cpu_bytes(void);

/* --- nodes.c --------------------------------------------------------------------------- */
al_err al_enc_nodes_init(void);
void al_enc_nodes_clear(void);
int32_t al_enc_node_load(uint32_t i);
int32_t al_enc_node_unload(uint32_t i);
int32_t al_enc_node_info(uint32_t i, al_enclave_node_info *out);
int32_t al_enc_node_listen(uint32_t i, const char *addr, size_t len);
int32_t al_enc_net_accept(uint32_t i, al_enc_conn conn, const char *addr, size_t len);
int32_t al_enc_net_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
int32_t al_enc_net_eof(al_enc_conn conn);
int32_t al_enc_net_writable(al_enc_conn conn);
int32_t al_enc_net_closed(al_enc_conn conn, const char *why, size_t len);
void al_enc_timer(void);
void al_enc_store_done(uint64_t req, int32_t status, const uint8_t *blob, size_t len,
                       int64_t version);
int32_t al_enc_api(uint32_t i, uint64_t token, const char *method, size_t mlen, const char *target,
                   size_t tlen, const uint8_t *body, size_t blen);
/* A user channel's request for the node whose credential `pin` is (false if none). */
bool al_enc_user_request(uint64_t token, const uint8_t pin[32], const char *method,
                         const char *target, const uint8_t *body, size_t blen);
/* POST /v1/provision from a user channel. */
void al_enc_provision(uint64_t token, const uint8_t pin[32], const uint8_t *body, size_t blen);
/* Perform every node's effects, then read interest and the timer: after each ecall. */
void al_enc_pump(void);
void al_enc_count(uint32_t *nodes, uint32_t *ready, uint32_t *conns);

/* --- ctl.c ----------------------------------------------------------------------------- */
int32_t al_enc_ctl_setup(void);
void al_enc_ctl_clear(void);
int32_t al_enc_ctl_accept(al_enc_conn conn);
int32_t al_enc_ctl_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
int32_t al_enc_ctl_eof(al_enc_conn conn);
int32_t al_enc_ctl_writable(al_enc_conn conn);
int32_t al_enc_ctl_closed(al_enc_conn conn);
/* Hand the mailbox's answers to their channels: after every ecall. */
void al_enc_ctl_deliver(void);

/* --- chain.c --------------------------------------------------------------------------- */
/* Make the shared part (after node_cfg is set), then ask for the saved chain (once
 * sealing works). */
al_err al_enc_chain_init(void);
void al_enc_chain_start(void);
void al_enc_chain_clear(void);
/* Is this state-store request the chain's? Its completion. */
bool al_enc_chain_req(uint64_t req);
void al_enc_chain_done(uint64_t req, al_err status, const uint8_t *blob, size_t len);
/* After every ecall: save the chain when it is due; when that will be (UINT64_MAX:
 * nothing to save). */
void al_enc_chain_tick(void);
uint64_t al_enc_chain_next(void);

/* --- fetch.c --------------------------------------------------------------------------- */
/* Perform a node's FETCH effect now (synchronous stream ocalls) and report it. */
void al_enc_fetch(al_enode *e, const al_node_fx *fx);
void al_enc_fetch_clear(al_enode *e);

#endif
