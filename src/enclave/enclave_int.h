/* State shared by the enclave's ecall handlers (enclave.c: entry, life cycle,
 * requests; node.c: user nodes, connections, storage completions). Private to
 * src/enclave. */
#ifndef ALIGHT_ENCLAVE_INT_H
#define ALIGHT_ENCLAVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "enclave/abi.h"
#include "enclave/heap.h"
#include "enclave/seal_sim.h"
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
} al_enode;

typedef struct al_econn {
	bool used;
	bool closing;    /* net_close asked of the host */
	int32_t reading; /* last read interest told to the host (-1: not yet) */
	uint32_t node;
	al_enc_conn conn;
} al_econn;

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

#endif
