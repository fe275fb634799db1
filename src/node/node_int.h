/* Private to src/node: the node's state, shared by node.c (life cycle, records, the
 * effect queue), node_peers.c (connections), node_api.c (the REST routes) and
 * node_wallet.c (the on-chain wallet and its chain requests). */
#ifndef ALIGHT_NODE_INT_H
#define ALIGHT_NODE_INT_H

#include <jansson.h>

#include "chain/sync.h"
#include "ln/channel.h"
#include "ln/features.h"
#include "ln/gossip.h"
#include "ln/invoice.h"
#include "ln/onchain.h"
#include "ln/receive.h"
#include "node/keys.h"
#include "node/node.h"

#define ALIGHTD_VERSION "alightd 0.2.0"
/* Effects waiting at most; a request that would not fit is refused (503). */
#define NODE_FXQ 64
/* Requests queued behind the wallet job in progress. */
#define NODE_JOBQ 8
/* Channels a node keeps (open, opening, closing, or closed until the slot is needed). */
#define NODE_MAX_CHANNELS 8
/* Objects the node keeps: its configuration, its wallet, its invoices, payments and
 * forwards, each channel's record, monitor entries and on-chain engine's record. */
#define NODE_MAX_OBJECTS (5 + 3 * NODE_MAX_CHANNELS)
/* Invoices a node keeps (node_inv.c). */
#define NODE_MAX_INVOICES 64
/* Payments a node remembers (node_send.c). */
#define NODE_MAX_PAYMENTS 64
/* PERSISTs of one channel waiting for a durable batch; broadcasts waiting for the wallet. */
#define NODE_CHAN_WAITS  8
#define NODE_CHAN_OUTBOX 4
/* HTLC events kept for the caller (al_node_next_htlc_event). */
#define NODE_HTLC_EVENTS 32
#define NODE_URL_MAX     512
#define NODE_CA_MAX      (512u * 1024u)
#define NODE_PINS_MAX    8

/* One queued effect; data and text are al_alloc blocks owned by the queue. */
typedef struct node_fx {
	al_node_fx fx;
	uint64_t gate; /* the persist batch it waits for (0: none) */
	uint8_t *data; /* owned copy behind fx.data */
	char *text;    /* owned copy behind fx.text */
} node_fx;

/* A connection as the API reports it (public facts only). */
typedef struct node_conn {
	bool used;
	bool inbound;
	bool connected;
	bool closing;   /* NET_CLOSE emitted */
	bool offered;   /* a NET_SEND is out, not yet answered with al_node_net_sent */
	bool blocked;   /* the socket took less than offered: wait for writable */
	int8_t reading; /* read interest last told (-1: not yet) */
	uint64_t conn;
	uint64_t waiter; /* the token of a connect request answered when init is done */
	uint8_t node_id[AL_PUBKEY_LEN];
	al_features features; /* negotiated in init */
	al_features remote_features;
	char addr[64];
	char why[96];
} node_conn;

/* A connect request's DIAL, until the driver names the connection. */
typedef struct node_dial {
	bool used;
	uint64_t req, token;
	uint8_t peer_id[AL_PUBKEY_LEN];
	char addr[64];
} node_dial;

/* The chain server the user chose: URL and trust (a CA bundle and/or SPKI pins). */
typedef struct node_chain {
	char url[NODE_URL_MAX];
	uint8_t *ca; /* al_alloc, NUL-terminated PEM; NULL if none */
	size_t ca_len;
	uint8_t pins[NODE_PINS_MAX][32];
	size_t n_pins;
	uint64_t generation; /* changes whenever the trust changes */
} node_chain;

struct node_wallet;

/* One channel: its engine and signer, the node's copy of its record, what waits. */
typedef struct node_chan {
	bool used;
	uint8_t peer_id[AL_PUBKEY_LEN];
	uint32_t key_index;
	uint8_t flags;      /* node_chan.c CF_* */
	uint8_t close_type; /* node_chan.c CLOSE_* */
	uint8_t closing_txid[32];
	/* what the close paid the wallet; a force close's sum, modulo 2^64, may be below
	 * zero while a wallet-funded claim is counted before the sweeps */
	uint64_t settled_sat;
	uint8_t commit_txid[32], closing_sent[32]; /* what this node broadcast */
	uint8_t shutdown[AL_CHAN_MAX_SCRIPT];      /* where a cooperative close pays us */
	size_t shutdown_len;
	uint8_t temp_id[32];
	bool funding_known;
	uint8_t funding_txid[32];
	uint32_t funding_vout;
	al_err err;
	/* an open being prepared (POST /v1/channels until the fee estimate is in) */
	bool pending_open;
	uint64_t funding_sat, push_msat;
	int want_type;     /* 0: the best both offer, 1: static_remotekey, 2: anchors */
	uint64_t fee_rate; /* sat per 1000 vB, the estimate the channel opened with */
	/* engine */
	uint8_t *mem, *smem;
	size_t mem_len;
	al_signer *signer;
	al_chan *ch;
	bool has_record;  /* the engine asked to persist at least once */
	bool want_commit; /* our updates wait for a commitment_signed */
	/* records */
	uint8_t *rec;
	size_t rec_len, rec_used;
	bool rec_dirty;
	uint8_t *mon;
	size_t mon_len, mon_cap;
	bool mon_dirty;
	struct {
		uint64_t id, batch;
	} waits[NODE_CHAN_WAITS];
	size_t n_waits;
	struct {
		uint8_t *p;
		size_t len;
	} out[NODE_CHAN_OUTBOX];
	size_t n_out;
	/* requests answered later */
	uint64_t open_token, close_token;
	/* the on-chain engine once a commitment spent the funding output (node_onchain.c),
	 * its record ("onc", slot) and the PERSIST waiting for a durable batch */
	uint8_t *omem;
	size_t omem_len;
	al_onchain *oc;
	uint8_t *orec;
	size_t orec_cap, orec_used;
	bool orec_dirty;
	bool owaiting;
	uint64_t owait_id, owait_batch;
	/* forwarding (node_policy.c): our policy over this channel, the channel_update
	 * the peer sent us for its direction (for our invoices' route hints), the
	 * timestamp of ours last made, and whether the peer has it on this connection */
	al_chan_policy policy;
	al_chan_policy peer_policy;
	bool peer_policy_known;
	uint32_t peer_update_ts, update_ts;
	bool update_told;
	bool update_stale; /* our policy changed since update_ts: a new timestamp */
} node_chan;

/* A fee estimate a chain server gave (node_shared.c). */
typedef struct node_fee {
	bool used;
	uint8_t key[32]; /* SHA-256 of the server's URL and trust */
	uint64_t at;     /* the asking node's trusted time (Unix s) */
	uint64_t rate;   /* sat per 1000 vB, as the server said (each node clamps it) */
} node_fee;

struct al_node_shared {
	bool has_headers;
	al_headers headers;
	al_arena scratch;
	node_fee fees[AL_NODE_FEE_CACHE];
	al_node_shared_stats stats;
};

/* A request waiting for the wallet. */
typedef struct node_job {
	uint64_t token;
	char cmd[32];
	char args[4][128];
	size_t nargs;
} node_job;

struct al_node {
	al_node_config cfg;
	al_node_env env;
	al_node_state state;
	al_err status;
	al_node_keys keys;
	al_peer_mgr *mgr;
	al_features features;
	uint64_t now, wall, started;
	size_t arena_bytes; /* what al_node_mem_size promised */
	size_t alloc_bytes; /* held from the al_alloc now */
	/* connections */
	node_conn *conns;
	size_t max_conns;
	node_dial dials[4];
	/* records */
	al_rs rs;
	bool cfg_dirty, wallet_dirty;
	uint64_t batch_next; /* the number the next batch will have (from 1) */
	uint64_t batch_flying, batch_durable;
	/* effects */
	node_fx q[NODE_FXQ];
	size_t nq;
	node_fx cur; /* the one handed out last: freed on the next call */
	uint64_t next_req;
	uint64_t logs_dropped;
	/* the user's chain server, and the wallet synced from it */
	node_chain chain;
	bool chain_set;
	struct node_wallet *wallet;
	node_job jobs[NODE_JOBQ];
	size_t njobs;
	bool job_running;
	/* channels */
	node_chan chans[NODE_MAX_CHANNELS];
	uint32_t next_key_index; /* the next channel's signer index (never reused) */
	uint64_t last_poll;      /* when the channels last had the chain looked at */
	al_chan_env chan_env;
	al_arena chan_arena;
	uint8_t *chan_scratch;
	size_t chan_scratch_len;
	/* what the on-chain engines share (node_onchain.c) */
	al_onchain_env onc_env;
	al_arena onc_arena;
	uint8_t *onc_scratch;
	size_t onc_scratch_len;
	/* invoices (node_inv.c), allocated with the first */
	struct node_book *book;
	bool inv_dirty;
	/* payments to this node being decided (node_recv.c), allocated with the first */
	al_recv *recv;
	/* payments this node makes (node_send.c), allocated with the first */
	struct node_paybook *pays;
	bool pay_dirty;
	/* HTLCs this node forwards (node_fwd.c), allocated with the first */
	struct node_fwdbook *fwds;
	bool fwd_dirty;
	/* a channel was given an update outside its own turn of the pump (node_chan_touch) */
	bool chan_again;
	al_node_htlc_event htlc_ev[NODE_HTLC_EVENTS];
	size_t htlc_head, htlc_n;
	uint64_t htlc_dropped;
	al_node_stats stats;
};

/* --- node.c: memory, records, effects ---------------------------------------------- */
void *node_alloc(al_node *n, size_t len);
void node_free(al_node *n, void *p, size_t len);
/* Queue an effect. copy: bytes to own (data) and text to own; gate: 0 or a batch.
 * AL_E_NODE_BUSY when the queue is full (nothing queued). */
al_err node_fx_push(al_node *n, const al_node_fx *fx, const void *data, size_t len,
                    const char *text, uint64_t gate);
/* The batch that will make the current state durable: changes made before this call
 * are in it (marks the record dirty). */
uint64_t node_persist_config(al_node *n);
uint64_t node_persist_wallet(al_node *n);
void node_log(al_node *n, int level, const char *a, const char *b);
/* A log line assembled from parts (no formatting library in the core). */
typedef struct node_line {
	char b[400];
	size_t n;
} node_line;
void node_line_s(node_line *l, const char *s);
void node_line_u(node_line *l, uint64_t v);
void node_line_hex(node_line *l, const uint8_t *p, size_t n);
void node_line_log(al_node *n, node_line *l, int level);
uint64_t node_new_req(al_node *n);
/* Room for one more effect (and a few to spare for what it starts). */
bool node_fx_room(const al_node *n);

/* An ANSWER with a JSON body (consumes ans; NULL means out of memory: a 500). */
void node_answer(al_node *n, uint64_t token, int status, json_t *ans, uint64_t gate);
json_t *node_error_json(const char *msg);
/* JSON strings of bytes as hex (at most 64 bytes; "" beyond), of a 64-bit integer in
 * decimal (LND's REST encoding), of bytes in base64 (LND's "bytes" fields, at most 64). */
json_t *node_hex_json(const uint8_t *p, size_t len);
json_t *node_u64_json(uint64_t v);
json_t *node_b64_json(const uint8_t *p, size_t len);
/* A member in base64 of exactly `len` bytes (LND's "bytes" fields): false otherwise. */
bool node_b64_member(const json_t *req, const char *key, uint8_t *out, size_t len);
json_t *node_err_obj(al_err e, const char *detail);

/* --- node_peers.c ---------------------------------------------------------------- */
node_conn *node_conn_find(al_node *n, uint64_t conn);
/* The connection of a peer whose init is done (not closing), or NULL. */
node_conn *node_conn_of_peer(al_node *n, const uint8_t id[AL_PUBKEY_LEN]);
size_t node_connected_count(const al_node *n);
json_t *node_peer_json(const node_conn *c);
json_t *node_features_json(json_t *o, const al_features *f);
/* Process the peer manager's events (after every input). */
void node_peers_pump(al_node *n);
/* Connection effects (read interest, closes, bytes) into *fx; false if none. */
bool node_peers_fx(al_node *n, al_node_fx *fx);
/* POST /v1/peers and DELETE /v1/peers/<id>. */
void node_peers_connect(al_node *n, uint64_t token, const uint8_t *body, size_t len);
void node_peers_disconnect(al_node *n, uint64_t token, const char *id_hex);

/* --- node_shared.c --------------------------------------------------------------- */
/* The estimate for this server, if one is fresh at `now`. */
bool node_fee_get(al_node_shared *s, const uint8_t key[32], uint64_t now, uint64_t *rate);
void node_fee_put(al_node_shared *s, const uint8_t key[32], uint64_t now, uint64_t rate);
/* Forget it: a payment at that rate broke a fee cap (ask the server again next time). */
void node_fee_drop(al_node_shared *s, const uint8_t key[32]);

/* --- node_api.c ------------------------------------------------------------------ */
/* The node's configuration record (chain server) and back. */
al_err node_config_save(const al_node *n, uint8_t **out, size_t *len);
al_err node_config_load(al_node *n, const uint8_t *data, size_t len);

/* --- node_wallet.c --------------------------------------------------------------- */
/* Open the wallet (from the loaded record, or new): when a chain server is set. */
al_err node_wallet_open(al_node *n, const uint8_t *state, size_t len);
void node_wallet_close(al_node *n);
/* The wallet's record, serialized (al_alloc block). */
al_err node_wallet_save(const al_node *n, uint8_t **out, size_t *len);
/* POST /v1/wallet/<cmd> (queued as a job). */
void node_wallet_request(al_node *n, uint64_t token, const char *cmd, const uint8_t *body,
                         size_t len);
/* Start the next job if none runs. */
void node_wallet_run(al_node *n);
void node_wallet_fetch_done(al_node *n, uint64_t req, al_err status, int http_status,
                            const uint8_t *body, size_t len);
/* The chain's median time past, when the wallet knows the chain (else 0). */
uint64_t node_wallet_mtp(const al_node *n);
/* The wallet's state for getinfo. */
json_t *node_wallet_info(const al_node *n);
/* Queue a job of the node's own: "chanopen" (sync, fee estimate, then
 * node_chan_open_fee), "chanbcast" (sync, then broadcast node_chan_next_tx) or
 * "chansync" (sync; then a fee estimate when an on-chain engine runs and none is
 * fresh). At most one of each waits. AL_E_NODE_BUSY when the queue is full. */
al_err node_wallet_internal(al_node *n, const char *cmd);
/* A signed transaction paying `amount` to `script` at `rate` (sat per 1000 vB), under
 * the wallet's fee caps; not broadcast, not recorded. */
al_err node_wallet_build(al_node *n, uint8_t *out, size_t cap, size_t *len, uint8_t txid[32],
                         al_sat *fee, const uint8_t *script, size_t slen, al_sat amount,
                         uint64_t rate);
/* A fresh wallet script for a channel's close (the index persisted with the wallet). */
al_err node_wallet_script(al_node *n, uint8_t *script, size_t *len);
/* The feerate (per 1000 weight units) on-chain claims aim for: the server's fresh
 * estimate under the wallet's caps, 0 when there is none (the engine's floor then). */
uint32_t node_wallet_feerate_kw(al_node *n);
/* The wallet itself (NULL without a chain server): its UTXOs and signatures for the
 * on-chain engines' wallet inputs. */
struct al_wallet *node_wallet_of(al_node *n);

/* --- node_chan.c ------------------------------------------------------------------ */
/* node_chan.flags */
/* CF_SETTLED: a cooperative close's confirmed transaction was read (settle_from).
 * CF_RESOLVED: a force close's on-chain engine resolved every output at final depth. */
enum {
	CF_OUTBOUND = 1,
	CF_CLOSED = 2,
	CF_FAILED = 4,
	CF_READY = 8,
	CF_SETTLED = 16,
	CF_RESOLVED = 32
};
/* How a channel closed, as the user is told (LND's close_type names: node_close_names). */
enum { CLOSE_NONE = 0, CLOSE_COOPERATIVE, CLOSE_LOCAL_FORCE, CLOSE_REMOTE_FORCE, CLOSE_ABANDONED };
extern const char *const node_close_names[];
void node_chan_config(const al_node *n, al_chan_config *c);
/* Memory for an engine and its signer (key index `index`), and back. */
al_err node_chan_alloc(al_node *n, node_chan *c, uint32_t index);
void node_chan_release(al_node *n, node_chan *c);
/* A slot for a new channel: a free one, else the oldest closed one (NULL: none). */
node_chan *node_chan_slot_new(al_node *n);
node_chan *node_chan_find_point(al_node *n, const uint8_t txid[32], uint32_t vout);
void node_chan_log(al_node *n, const node_chan *c, const char *what, const char *detail);
void node_chan_clear(al_node *n);
/* Load slot's record (and monitor entries) after the node's records loaded. */
al_err node_chan_load(al_node *n, size_t slot, const uint8_t *rec, size_t len, const uint8_t *mon,
                      size_t mon_len);
/* Dirty records into items (at most room), PERSISTs tagged with `batch`. */
size_t node_chan_items(al_node *n, al_rs_item *items, size_t room, uint64_t batch);
bool node_chan_dirty(const al_node *n);
/* Some channel is open, opening or closing (the chain must be watched). */
bool node_chan_live(const al_node *n);
/* Batch `batch` is durable: the channels hear al_chan_persisted. */
void node_chan_durable(al_node *n, uint64_t batch);
/* Take every channel's effects. */
void node_chan_pump(al_node *n);
/* Channel c has updates of ours to sign (an HTLC added, fulfilled or failed): the pump
 * signs them, on another round if c's turn has passed (a forward touches two channels). */
void node_chan_touch(al_node *n, node_chan *c);
void node_chan_fund(al_node *n, node_chan *c, const uint8_t *script, size_t slen, al_sat amount);
void node_chan_open_fee(al_node *n, al_err fee_err, uint64_t rate);
bool node_chan_next_tx(al_node *n, const uint8_t **tx, size_t *len);
/* Queue a transaction of the channel for the wallet to broadcast. */
void node_chan_outbox(al_node *n, node_chan *c, const uint8_t *tx, size_t len);
/* Rebuild the channel's record (marked dirty). */
al_err node_chan_rec_build(al_node *n, node_chan *c);
void node_chan_tx_done(al_node *n, al_err e, const char *why);
/* Before a sync step: register what the channels need watched; after one: tell them. */
void node_chan_watch(al_node *n, al_sync *s);
void node_chan_chain(al_node *n, const al_sync *s);
void node_chan_peer_connected(al_node *n, const uint8_t peer[AL_PUBKEY_LEN]);
void node_chan_peer_gone(al_node *n, const uint8_t peer[AL_PUBKEY_LEN]);
/* A peer's message: true when a channel took it (errors and warnings: false, so that
 * they are logged as well). */
bool node_chan_message(al_node *n, const node_conn *pc, uint16_t type, const uint8_t *msg,
                       size_t len);
/* --- node_onchain.c ---------------------------------------------------------------- */
/* A force close's outputs resolved on-chain (ln/onchain.h), one engine per channel. */
/* Start the channel's engine: a commitment spent its funding output. */
al_err node_onc_start(al_node *n, node_chan *c, uint32_t height);
/* Its record ("onc", slot), after the channel's own loaded. */
al_err node_onc_load(al_node *n, node_chan *c, const uint8_t *rec, size_t len);
void node_onc_release(al_node *n, node_chan *c);
void node_onc_clear(al_node *n);
/* Take the engine's effects. */
void node_onc_pump(al_node *n, node_chan *c);
/* The engine is running and not done: the chain must be watched. */
bool node_onc_live(const node_chan *c);
bool node_onc_any(const al_node *n);
/* al_wallet_send_opts.held (arg: the al_node): a wallet UTXO one of the node's engines
 * holds as a claim's fee input. */
bool node_onc_holds(void *arg, const uint8_t txid[32], uint32_t vout);
/* Batch `batch` is durable: the engine hears al_onchain_persisted. */
void node_onc_durable(al_node *n, node_chan *c, uint64_t batch);
/* Before a sync step: what the engine watches; after one: what the chain did. */
void node_onc_watch(al_node *n, node_chan *c, al_sync *s);
void node_onc_chain(al_node *n, node_chan *c, const al_sync *s);
/* --- node_chan_api.c -------------------------------------------------------------- */
/* /v1/channels<path>[?query] */
void node_chan_request(al_node *n, uint64_t token, const char *method, const char *path,
                       const char *query, const uint8_t *body, size_t len);
json_t *node_chan_info(const al_node *n);
/* LND's "channel_point": "<funding txid>:<output index>". */
json_t *node_chan_point_json(const node_chan *c);
/* GET /v1/balance/channels (LND's ChannelBalance). */
json_t *node_chan_balance(const al_node *n);

/* node_inv.c: the invoice book, its record, and its routes (`path` without the query). */
typedef struct node_book node_book;
uint64_t node_persist_invoices(al_node *n);
al_err node_inv_save(const al_node *n, uint8_t **out, size_t *len);
al_err node_inv_load(al_node *n, const uint8_t *data, size_t len);
void node_inv_free(al_node *n);
void node_inv_request(al_node *n, uint64_t token, const char *method, const char *path,
                      const uint8_t *body, size_t len);
/* What the book knows of `hash` (false: nothing); *hold for a hold invoice. */
bool node_inv_find(al_node *n, const uint8_t hash[32], al_recv_invoice *out, bool *hold);
/* The HTLC (channel slot, id) already paid the settled invoice `hash`: its preimage. */
bool node_inv_paid_by(al_node *n, const uint8_t hash[32], size_t slot, uint64_t htlc_id,
                      uint8_t preimage[32]);
/* The HTLC (slot, id) of amount_msat pays invoice `hash`: SETTLED, in the next batch
 * (before the channel's record with the preimage: that batch or a later one). */
void node_inv_settle(al_node *n, const uint8_t hash[32], const uint8_t preimage[32], size_t slot,
                     uint64_t htlc_id, uint64_t amount_msat);

/* A keysend payment of amount_msat by HTLC (slot, id), its preimage from the onion: a
 * SETTLED entry, in the next batch. AL_E_NODE_INVOICE_EXISTS (the hash is an invoice's or
 * was paid), AL_E_NODE_INVOICES (the book is full). */
al_err node_inv_keysend(al_node *n, const uint8_t preimage[32], uint64_t amount_msat, size_t slot,
                        uint64_t htlc_id);
/* A hold invoice's HTLC (slot, id), held with the rest of its set (LND's ACCEPTED). */
void node_inv_hold_part(al_node *n, const uint8_t hash[32], size_t slot, uint64_t htlc_id);
/* A hold invoice whose payment the caller refused: CANCELED. */
void node_inv_cancel(al_node *n, const uint8_t hash[32]);

/* node_recv.c: payments to this node (BOLT #4 at the final hop). */
/* An incoming HTLC a channel committed irrevocably (fx: AL_CHAN_EV_HTLC_RECEIVED). */
void node_recv_htlc(al_node *n, node_chan *c, const al_chan_fx *fx);
/* Fail incoming HTLC `id` with a failure message (code and data) for its sender
 * (c->want_commit set: the channel pump signs it). */
al_err node_recv_fail(al_node *n, node_chan *c, uint64_t id, const uint8_t *msg, size_t len);
/* Payments waiting for their other parts: when the first times out (UINT64_MAX: none). */
uint64_t node_recv_next_timer(const al_node *n);
void node_recv_timer(al_node *n);
void node_recv_free(al_node *n);
/* node_send.c: payments this node makes, their record ("pay", "book") and routes. */
typedef struct node_paybook node_paybook;
al_err node_send_save(const al_node *n, uint8_t **out, size_t *len);
al_err node_send_load(al_node *n, const uint8_t *data, size_t len);
/* After every record loaded: a payment in flight whose HTLC its channel does not know
 * never left. */
void node_send_loaded(al_node *n);
void node_send_free(al_node *n);
/* An outgoing HTLC's result (AL_CHAN_EV_HTLC_FULFILLED / _FAILED; by hash when its
 * htlc_id is UINT64_MAX: resolved on-chain). */
void node_send_result(al_node *n, const node_chan *c, const al_chan_fx *fx);
/* POST /v1/channels/transactions (payments false), GET /v1/payments (true). */
void node_send_request(al_node *n, uint64_t token, bool post, bool payments, const uint8_t *body,
                       size_t len);
/* Our own updates on the channel are signed now, or after what the engine waits for. */
al_err node_chan_commit(al_node *n, node_chan *c);
/* The tip of the chain the node's wallet verified (0 before the first sync). */
uint32_t node_tip_height(const al_node *n);

/* node_pay.c: GET /v1/payreq/<pay_req> (`len` bytes); the invoice currency of the node's
 * network (0 for none). */
al_invoice_currency node_invoice_currency(const al_node *n);
/* A BOLT 11 invoice of this node's network (AL_E_INV_PREFIX for another's). */
al_err node_invoice_decode(const al_node *n, al_invoice *inv, const char *s, size_t len);
void node_payreq(al_node *n, uint64_t token, const char *pay_req, size_t len);
/* An HTLC event of a channel, for al_node_next_htlc_event. */
void node_htlc_event(al_node *n, const node_chan *c, const al_chan_fx *fx);

/* node_policy.c: forwarding policies, the channel_updates that tell them to channel
 * peers (BOLT #7's private case), POST /v1/chanpolicy and GET /v1/fees. */
/* A new channel's policy: the node's defaults. */
void node_policy_init(node_chan *c);
/* The policy in force over c (htlc_maximum_msat resolved against its capacity). */
al_chan_policy node_policy_of(const node_chan *c);
/* Our channel_update for c in out[AL_CHAN_UPDATE_LEN] (false when c has no scid). */
bool node_policy_update(al_node *n, node_chan *c, uint8_t out[AL_CHAN_UPDATE_LEN]);
/* Tell every ready channel's peer our channel_update once per connection. */
void node_policy_tell(al_node *n);
/* A channel_update from a peer (true: taken, or refused with a log line). */
bool node_policy_message(al_node *n, const node_conn *pc, const uint8_t *msg, size_t len);
/* The policy part of a channel's record, and back (AL_E_NODE_RECORD when malformed). */
#define NODE_POLICY_REC_LEN (2 * (4 + 4 + 2 + 8 + 8) + 1 + 4 + 4)
void node_policy_save(const node_chan *c, uint8_t out[NODE_POLICY_REC_LEN]);
void node_policy_load(node_chan *c, const uint8_t in[NODE_POLICY_REC_LEN]);
void node_policy_request(al_node *n, uint64_t token, bool fees, const uint8_t *body, size_t len);

/* node_fwd.c: HTLCs forwarded (BOLT #4 at an intermediate node), their record ("fwd")
 * and POST /v1/switch (LND's ForwardingHistory). */
typedef struct node_fwdbook node_fwdbook;
al_err node_fwd_save(const al_node *n, uint8_t **out, size_t *len);
al_err node_fwd_load(al_node *n, const uint8_t *data, size_t len);
void node_fwd_free(al_node *n);
/* An incoming HTLC whose onion names a next hop: forward it or fail it back. */
void node_fwd_htlc(al_node *n, node_chan *c, uint64_t id, const al_chan_htlc_in *in,
                   const al_hop_payload *pl, const uint8_t next[AL_CHAN_ONION_LEN]);
/* An outgoing HTLC's result (as node_send_result): true when it was a forward's. */
bool node_fwd_result(al_node *n, const node_chan *c, const al_chan_fx *fx);
/* Fees earned since `since` (wall seconds), in msat. */
uint64_t node_fwd_fees_since(const al_node *n, uint64_t since);
void node_fwd_request(al_node *n, uint64_t token, const uint8_t *body, size_t len);
/* node_recv.c, for forwards: fulfil incoming HTLC `id` (on-chain too), and fail it with
 * a downstream's failure packet wrapped in our shared secret. */
void node_recv_fulfill(al_node *n, node_chan *c, uint64_t id, const uint8_t preimage[32]);
al_err node_recv_fail_wrapped(al_node *n, node_chan *c, uint64_t id, const uint8_t *pkt,
                              size_t len);

#endif
