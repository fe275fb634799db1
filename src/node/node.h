/* One user's node, sans-I/O: what alight runs for a user inside the enclave.
 *
 * ARCHITECTURE.md, "node/: one user node: composes everything below; an event queue;
 * the node's API". An al_node owns the node's secrets (all derived from its BIP 39
 * seed in one place, node/keys.h), its BOLT #1 peer manager, its on-chain wallet, its
 * records on several stores (store/rstore.h) and its REST routes. It does no I/O and
 * keeps no clock: whoever drives it (the enclave's loop, or a unit test) hands in
 *
 *   peer bytes and socket events   al_node_net_*
 *   storage completions            al_node_store_done
 *   chain server responses         al_node_fetch_done
 *   authenticated requests         al_node_request (with the caller's authority)
 *   time                           `now` (monotonic ms) and `wall` (Unix s) on each call
 *   randomness                     the al_rng given at init
 *
 * and performs, in order, what al_node_next_fx returns: bytes to send, sockets to
 * close or dial, records to get or put on replica i, chain requests to make, answers
 * to give, events for the enclave (sealed state to update).
 *
 * Persist before you speak. Every effect that makes a state change visible (a message
 * to a peer, a transaction broadcast, the answer to a state-changing request) is
 * queued behind the persist that makes the change recoverable: al_node_next_fx does not
 * release it until every replica in quorum has reported that persist durable
 * (al_node_store_done). Effects that depend on nothing (a status answer) are not held.
 *
 * Authority. Requests carry who asked: AL_NODE_OPERATOR (the host's own socket:
 * status, peers, connect/disconnect) or AL_NODE_USER (the user's channel, which
 * terminates inside the enclave and was authenticated with a credential derived from
 * the user's seed: node/ctl.h). Spending, the wallet, trust anchors and everything that
 * reveals or moves funds is the user's only; the operator is answered 403.
 *
 * Memory: the node's fixed part comes from an arena (al_node_mem_size); connection
 * slots come from a pool shared by every node of the enclave (ln/peer.h), and so do the
 * header chain, scratch and fee estimates (al_node_shared, below); the wallet, records
 * in flight and answers come from the al_alloc while they exist. An idle node (no
 * peers, no wallet open) costs al_node_mem_size() bytes; a wallet grows with what it
 * watches (its transaction table and their bytes double when full). */
#ifndef ALIGHT_NODE_NODE_H
#define ALIGHT_NODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "chain/headers.h"
#include "crypto/rng.h"
#include "crypto/secp.h"
#include "ln/peer.h"
#include "store/rstore.h"
#include "util/alloc.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/err.h"

typedef struct al_node al_node;
typedef struct al_node_shared al_node_shared;

/* Who a request comes from. */
typedef enum al_node_auth {
	AL_NODE_OPERATOR = 1, /* the host: operator operations only */
	AL_NODE_USER = 2,     /* the user, authenticated inside the enclave */
} al_node_auth;

typedef struct al_node_config {
	al_net net;
	char network[16];       /* its name: "regtest", "signet", ... (public) */
	uint32_t coin;          /* BIP 44 coin type (LND's key paths) */
	uint8_t chain_hash[32]; /* BOLT #0 chain_hash */
	uint32_t max_peers, max_handshakes;
	/* Peer manager timers in ms; UINT64_MAX keeps the manager's default, 0 disables. */
	uint64_t handshake_timeout_ms, ping_interval_ms, pong_timeout_ms, idle_timeout_ms;
	char listen[64];      /* the peers' address (public), "" if none */
	char platform[16];    /* "sim", "sgx", ... (public) */
	size_t n_stores;      /* replicas of the node's records, 1..AL_RS_MAX_REPLICAS */
	size_t quorum;        /* 0: every replica */
	int64_t last_seen;    /* the global version last made durable (from sealed state) */
	uint64_t fee_cap_sat; /* 0: the wallet's default absolute fee cap */
	/* While the node has channels, a sync with the chain server this often (ms; 0:
	 * only when asked). */
	uint64_t chain_poll_ms;
	/* Roots the image carries for https chain servers named without a CA or pin (what
	 * they are, for the user to see), NULL when it carries none: such a server is then
	 * refused. */
	const char *image_roots;
} al_node_config;

/* Defaults: regtest, 64 peers, 16 handshakes, default timers, one store. */
void al_node_config_default(al_node_config *cfg);

typedef struct al_node_env {
	const al_secp *secp;
	const al_rng *rng;
	const al_alloc *mem;
	al_peer_pool *pool;     /* connection slots shared by the enclave's nodes */
	al_node_shared *shared; /* what the enclave's nodes share (below); NULL: no wallet */
} al_node_env;

/* --- what the nodes of an enclave share ------------------------------------------------
 * Public, non-secret state held once and handed to every node (al_node_env.shared):
 *  - the network's header chain (chain/headers.h) from its compiled-in checkpoint
 *    (chain/checkpoint.h; none: wallets do not open, AL_E_SYNC_NO_CHECKPOINT). Every
 *    node's wallet syncs against it and any node's sync may extend or reorganise it;
 *  - scratch memory for work that ends within one call (parsing, building and checking
 *    transactions). Nodes are called one at a time and none keeps scratch across a
 *    call (al_node_shared_scratch_used is 0 between calls);
 *  - chain servers' fee estimates, one per server URL and trust (CA bytes and pins),
 *    each used for AL_NODE_FEE_MAX_AGE seconds of the asking node's trusted clock
 *    (al_node_trusted_wall); every node still applies its own fee caps.
 * The enclave makes one, saves its header chain (al_headers_save, sealed) and loads it
 * at start (al_headers_load checks every header again). */
#define AL_NODE_FEE_MAX_AGE 600
#define AL_NODE_FEE_CACHE   32

typedef struct al_node_shared_config {
	al_net net;
	size_t max_headers; /* kept headers; 0: 20,000 (about 4.6 months of mainnet) */
	size_t max_stage;   /* the most headers one step may bring: a first sync from the
	                     * checkpoint; 0: 20,000, and 131,072 on mainnet (from 840,000) */
} al_node_shared_config;

size_t al_node_shared_mem_size(const al_node_shared_config *cfg);
/* AL_E_NOMEM; a network without a checkpoint gets no header chain (not an error). */
AL_WARN_UNUSED al_err al_node_shared_init(al_node_shared **out, al_arena *a,
                                          const al_node_shared_config *cfg);
/* The header chain (NULL without a checkpoint). */
al_headers *al_node_shared_headers(al_node_shared *s);
/* Scratch bytes held now: 0 between calls into nodes. */
size_t al_node_shared_scratch_used(const al_node_shared *s);

typedef struct al_node_shared_stats {
	uint64_t fee_hits, fee_misses;
	size_t scratch_high; /* the most scratch any call held */
} al_node_shared_stats;
void al_node_shared_get_stats(const al_node_shared *s, al_node_shared_stats *out);

/* Arena bytes al_node_init takes for cfg (0 if cfg is out of range). */
size_t al_node_mem_size(const al_node_config *cfg);

/* A node from its seed entropy (BIP 39: 16, 20, 24, 28 or 32 bytes): it derives its
 * keys and starts loading its records from every store (store effects follow). It
 * serves once loading succeeded (al_node_ready); if the stores prove it was rolled back
 * it fails instead (al_node_status). The entropy is copied and wiped by the node.
 * Errors: AL_E_ARG (config, entropy length), AL_E_NOMEM, key derivation errors. */
AL_WARN_UNUSED al_err al_node_init(al_node **out, al_arena *a, const al_node_config *cfg,
                                   const al_node_env *env, const uint8_t *entropy, size_t entlen,
                                   uint64_t now, uint64_t wall);
/* Wipe every secret, give back every block; connections are forgotten (the caller
 * closes their sockets). */
void al_node_clear(al_node *n);

/* --- state ------------------------------------------------------------------------ */

typedef enum al_node_state {
	AL_NODE_LOADING = 1, /* reading its records */
	AL_NODE_READY = 2,   /* serving */
	AL_NODE_FAILED = 3,  /* al_node_status says why (e.g. AL_E_STORE_ROLLBACK) */
} al_node_state;

al_node_state al_node_get_state(const al_node *n);
al_err al_node_status(const al_node *n);
void al_node_id(const al_node *n, uint8_t out[AL_PUBKEY_LEN]);
/* SHA-256 of the DER SubjectPublicKeyInfo of the user's credential (node/keys.h): the
 * client certificate key the user's channel must present. */
void al_node_credential(const al_node *n, uint8_t out[32]);
/* The mnemonic of the seed, for its one export at creation (cap >= 300). */
AL_WARN_UNUSED al_err al_node_mnemonic(const al_node *n, char *out, size_t cap);
/* The address the host serves this node's peers on (public, for getinfo). */
void al_node_set_listen(al_node *n, const char *addr);
/* Bytes the node holds now: its arena part, plus what it took from the al_alloc. */
size_t al_node_memory(const al_node *n);

/* --- inputs ----------------------------------------------------------------------- */

/* Connections (ids chosen by the driver, unique among the node's live connections).
 * Errors as ln/peer.h's; AL_E_NODE_STATE while the node is not READY. */
AL_WARN_UNUSED al_err al_node_net_accept(al_node *n, uint64_t conn, const char *addr, uint64_t now);
/* Bytes received: *used of them taken (the driver keeps the rest for later). */
AL_WARN_UNUSED al_err al_node_net_recv(al_node *n, uint64_t conn, const uint8_t *buf, size_t len,
                                       size_t *used, uint64_t now);
void al_node_net_eof(al_node *n, uint64_t conn, uint64_t now);
/* `n` bytes of the last NET_SEND effect for conn were taken by the socket. */
void al_node_net_sent(al_node *n, uint64_t conn, size_t sent, uint64_t now);
/* The socket drained: more bytes may be offered. */
void al_node_net_writable(al_node *n, uint64_t conn, uint64_t now);
/* The socket is gone (why: the host's text, may be NULL). */
void al_node_net_closed(al_node *n, uint64_t conn, const char *why, uint64_t now);
/* A DIAL effect's outcome: the driver's connection id, or a failure with a reason. */
void al_node_dialed(al_node *n, uint64_t req, al_err status, uint64_t conn, const char *why,
                    uint64_t now);

/* Timers: the earliest `now` at which al_node_timer has work (UINT64_MAX: none). */
uint64_t al_node_next_timer(const al_node *n);
void al_node_timer(al_node *n, uint64_t now, uint64_t wall);

/* A STORE_GET or STORE_PUT effect's outcome (blob, len and version for a get). */
void al_node_store_done(al_node *n, uint64_t req, al_err status, const uint8_t *blob, size_t len,
                        int64_t version, uint64_t now);
/* A FETCH effect's outcome: status AL_OK with the HTTP status and body, or the
 * transport's error. */
void al_node_fetch_done(al_node *n, uint64_t req, al_err status, int http_status,
                        const uint8_t *body, size_t len, uint64_t now, uint64_t wall);

/* A REST request (LND's paths; see node/api.c) from `auth`. The answer comes as an
 * ANSWER effect carrying `token`. Bodies over AL_NODE_BODY_MAX are refused (413). */
#define AL_NODE_BODY_MAX (64 * 1024)
/* The longest request target taken: GET /v1/payreq/<pay_req> with the longest invoice
 * (ln/invoice.h: 7,089 characters). */
#define AL_NODE_TARGET_MAX 8192
void al_node_request(al_node *n, al_node_auth auth, uint64_t token, const char *method,
                     const char *target, const uint8_t *body, size_t len, uint64_t now,
                     uint64_t wall);

/* --- effects ---------------------------------------------------------------------- */

typedef enum al_node_fx_kind {
	AL_NODE_FX_NONE = 0,
	AL_NODE_FX_NET_SEND,  /* conn, data/len: answer with al_node_net_sent */
	AL_NODE_FX_NET_READ,  /* conn, want: whether bytes are taken now */
	AL_NODE_FX_NET_CLOSE, /* conn: close the socket (al_node_net_closed follows) */
	AL_NODE_FX_DIAL,      /* req, text (HOST:PORT), peer_id: answer with al_node_dialed */
	AL_NODE_FX_STORE_GET, /* req, replica, name: answer with al_node_store_done */
	AL_NODE_FX_STORE_PUT, /* req, replica, items/n_items, global_version: the same */
	AL_NODE_FX_FETCH,     /* req, method, text (URL), data/len (body), trust: the chain
	                       * server's CA bytes and pins as the user set them, or
	                       * image_roots when they set neither, and their generation (a
	                       * new one: build a new client); answer with al_node_fetch_done */
	AL_NODE_FX_ANSWER,    /* token, status, data/len (JSON) */
	AL_NODE_FX_DURABLE,   /* global_version: keep it in sealed state (last_seen) */
	AL_NODE_FX_LOG,       /* level (0 error .. 3 debug), text; never a secret */
} al_node_fx_kind;

typedef struct al_node_fx {
	al_node_fx_kind kind;
	uint64_t conn, req, token;
	uint32_t replica;
	int32_t status, level;
	bool want;
	const uint8_t *data;
	size_t len;
	const char *text;
	const char *method;
	uint8_t peer_id[AL_PUBKEY_LEN];
	uint8_t name[32];
	const al_kv_bitem *items; /* STORE_PUT: valid until that request is answered */
	size_t n_items;
	int64_t global_version;
	const uint8_t *ca; /* FETCH */
	size_t ca_len;
	const uint8_t (*pins)[32];
	size_t n_pins;
	bool image_roots;
	uint64_t trust_gen;
} al_node_fx;

/* The next effect to perform, oldest first; false when none is released. Pointers in
 * *fx stay valid until the next call into the node. */
bool al_node_next_fx(al_node *n, al_node_fx *fx, uint64_t now);

/* The time to check certificates against: the host's wall clock, never below the
 * median time past of the chain the node verified (BIP 113): a host cannot move the
 * node's clock back before what proof of work already shows. */
uint64_t al_node_trusted_wall(const al_node *n);

/* --- HTLCs for the in-process C interface (hold invoices, tests, benchmarks) ---------- */

/* The C interface a caller in the same process (tests, benchmarks) uses to move money
 * over the node's channels; nothing reaches it from outside the enclave. Payments to
 * the node's own invoices (POST /v1/invoices) settle by themselves (node_recv.c); only
 * hold invoices' HTLCs and what the node offered come as events. */
typedef enum al_node_htlc_kind {
	AL_NODE_HTLC_RECEIVED = 1,  /* irrevocably committed: settle or fail it */
	AL_NODE_HTLC_FULFILLED = 2, /* an HTLC we offered: the peer gave the preimage */
	AL_NODE_HTLC_FAILED = 3,    /* an HTLC we offered: failed */
} al_node_htlc_kind;

/* A failure reason as BOLT #4 senders pad it: "failure_len plus pad_len is equal to
 * 256", behind a 32-byte HMAC. Longer ones are cut (reason_len keeps their length). */
#define AL_NODE_HTLC_REASON_MAX (32 + 2 + 256 + 2)

typedef struct al_node_htlc_event {
	al_node_htlc_kind kind;
	uint8_t channel_id[32];
	uint64_t htlc_id;
	al_msat amount;
	uint8_t hash[32];
	uint8_t preimage[32];
	uint32_t cltv_expiry;
	/* FAILED: the update_fail_htlc reason (for the onion's sender to decode), or the
	 * update_fail_malformed_htlc failure_code (reason_len 0). */
	uint16_t failure_code;
	size_t reason_len;
	uint8_t reason[AL_NODE_HTLC_REASON_MAX];
} al_node_htlc_event;

/* The oldest HTLC event not yet taken (at most 32 are kept; older ones are dropped and
 * counted). Events live in memory only: a result is told before any write that lets the
 * channel forget it, and what is still unresolved is told again after a restart, so a
 * consumer that takes each as it comes and persists it misses none. An HTLC of a force-closed
 * channel resolved on-chain (BOLT #5: fulfilled by the preimage seen on-chain, or failed for good)
 * comes as FULFILLED or FAILED with htlc_id UINT64_MAX: the on-chain engine knows it by hash,
 * amount and expiry. */
bool al_node_next_htlc_event(al_node *n, al_node_htlc_event *ev);
/* Offer an HTLC on a channel with the caller's onion (ln/route.h al_route_onion),
 * signed at once. The channel's refusals (ln/channel.h al_chan_add_htlc),
 * AL_E_NODE_CHAN_UNKNOWN. */
AL_WARN_UNUSED al_err al_node_htlc_add(al_node *n, const uint8_t channel_id[32], al_msat amount,
                                       const uint8_t hash[32], uint32_t cltv_expiry,
                                       const uint8_t onion[1366], uint64_t *id);
/* A hold invoice (LND's AddHoldInvoice): the node knows the payment hash, not the
 * preimage. Payments to it are checked as any invoice's (BOLT #4 final node: secret,
 * amount, expiry, CLTV, every part of a multi-part payment there); then each HTLC comes
 * as AL_NODE_HTLC_RECEIVED and waits for the caller: al_node_htlc_fulfill settles the
 * invoice (the book says so before the preimage leaves), al_node_htlc_fail refuses it
 * with incorrect_or_unknown_payment_details (and cancels the invoice). `secret`: the
 * payment secret the sender must put in its onion (the caller's randomness). Durable
 * with the node's next write. AL_E_NODE_INVOICE_EXISTS, AL_E_NODE_INVOICES, AL_E_ARG
 * (cltv_delta outside 18..2016, expiry 0). */
AL_WARN_UNUSED al_err al_node_hold_invoice(al_node *n, const uint8_t hash[32], al_msat amount,
                                           uint32_t cltv_delta, uint32_t expiry,
                                           const uint8_t secret[32]);
/* Settle an HTLC we received with its preimage (while the peer is away too: it is durable
 * before it leaves, and goes out after channel_reestablish). On a channel gone on-chain the
 * preimage goes to its BOLT 5 engine, which claims every HTLC output it unlocks (id
 * unused). */
AL_WARN_UNUSED al_err al_node_htlc_fulfill(al_node *n, const uint8_t channel_id[32], uint64_t id,
                                           const uint8_t preimage[32]);
AL_WARN_UNUSED al_err al_node_htlc_fail(al_node *n, const uint8_t channel_id[32], uint64_t id);

/* --- for tests and the enclave's accounting ---------------------------------------- */

typedef struct al_node_stats {
	size_t peers_pending, peers_connected;
	size_t fx_queued, fx_held; /* effects waiting, of which held behind a persist */
	uint64_t persists, persists_durable;
	uint64_t requests, requests_refused;
	uint64_t peer_eofs; /* streams the peers ended */
	bool wallet_open;
	size_t stores, stores_in_set;
	int64_t global_version;
} al_node_stats;

void al_node_get_stats(const al_node *n, al_node_stats *out);

#endif
