/* Private to the peer manager (peer.c, peer_proto.c): the manager and its slots. */
#ifndef ALIGHT_LN_PEER_INT_H
#define ALIGHT_LN_PEER_INT_H

#include "ln/noise.h"
#include "ln/peer.h"

/* Slot states; a closing connection keeps its state and sets `closing`. */
enum { SLOT_FREE = 0, SLOT_HANDSHAKE = 1, SLOT_INIT = 2, SLOT_READY = 3 };
/* What a failing connection sends before it closes. */
enum { FINAL_NONE = 0, FINAL_WARNING = 1, FINAL_ERROR = 2 };
/* Pending events of a slot, delivered in this order. */
#define EVF_CONNECTED 0x1u
#define EVF_MESSAGE   0x2u
#define EVF_CLOSE     0x4u
#define SLOT_NONE     UINT32_MAX

struct al_peer_slot {
	al_noise noise;
	al_peer_conn conn;
	uint8_t state;
	uint8_t final; /* FINAL_*, still to send */
	bool outbound;
	bool established; /* counted in n_established (else in n_pending) and owns a queue */
	bool closing;
	bool graceful; /* closing after the queue drains */
	bool flush;    /* closing after a warning, error or the queue went out */
	bool close_emitted;
	bool connected_delivered;
	bool init_sent;
	bool init_received;
	bool has_node_id;
	bool ping_due;
	bool ping_outstanding;
	bool pong_owed;
	uint8_t evflags;
	uint32_t idx; /* in the manager's table */
	al_err reason;
	uint8_t node_id[AL_PUBKEY_LEN];
	uint16_t ping_expect; /* num_pong_bytes of the outstanding ping */
	uint16_t pong_len;    /* num_pong_bytes of the ping we owe a pong */
	uint32_t pings_in_window;
	uint64_t started;
	uint64_t last_rx;
	uint64_t last_ping;
	uint64_t ping_sent_at;
	uint64_t window_start;
	uint64_t close_deadline; /* 0: none */
	uint64_t sent_msgs;
	uint64_t recv_msgs;
	/* The peer's init. */
	al_features remote;
	al_features negotiated;
	bool has_networks;
	size_t num_networks;
	size_t n_networks;
	uint8_t networks[AL_PEER_MAX_CHAINS][32];
	/* Out-queue: a ring of [u16 length][message] records. */
	uint8_t *q;
	uint32_t qidx;
	size_t qhead;
	size_t qlen;
	uint32_t pool_next; /* the pool's free list */
};

/* Connection slots and out-queues, shared by every manager that uses the pool. */
struct al_peer_pool {
	struct al_peer_slot *slots;
	uint32_t n_slots, slot_free; /* slot_free: head of the free list, SLOT_NONE */
	uint32_t slots_used;
	size_t queue_bytes;
	uint8_t *qmem;
	uint32_t *qfree;
	uint32_t n_queues, nqfree;
};

struct al_peer_mgr {
	const al_secp *secp;
	al_peer_config cfg; /* holds the node key */
	uint8_t node_id[AL_PUBKEY_LEN];
	al_peer_pool *pool;
	/* The manager's connections: tab[i] is a slot taken from the pool, or NULL. The
	 * event FIFO links table indices (a slot given back leaves a stale entry, which is
	 * skipped when it comes up). */
	struct al_peer_slot **tab;
	uint32_t *ev_link;
	uint8_t *in_evq;
	uint32_t nslots;
	size_t n_pending;
	size_t n_established;
	uint32_t ev_head;
	uint32_t ev_tail;
	struct al_peer_slot *held; /* its message was returned by al_peer_next_event */
};

/* peer.c */
void al_peer__event(al_peer_mgr *mgr, struct al_peer_slot *s, unsigned flag);
void al_peer__fail(al_peer_mgr *mgr, struct al_peer_slot *s, al_err reason, int final,
                   uint64_t now);
void al_peer__check_close(al_peer_mgr *mgr, struct al_peer_slot *s);
bool al_peer__send_open(const struct al_peer_slot *s);

/* peer_proto.c */
/* Hand every message that is due to the engine while it has room. */
void al_peer__pump(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now);
/* A decrypted message is waiting in s->noise. */
void al_peer__on_message(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now);
/* Let the engine read again after a message. */
void al_peer__release(al_peer_mgr *mgr, struct al_peer_slot *s);
void al_peer__timer_slot(al_peer_mgr *mgr, struct al_peer_slot *s, uint64_t now);
uint64_t al_peer__deadline(const al_peer_mgr *mgr, const struct al_peer_slot *s);

#endif
