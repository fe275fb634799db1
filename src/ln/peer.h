/* BOLT #1 peer manager: many connections, sans-I/O.
 *
 * In the shape of LDK's PeerManager and BearSSL's engine. The host owns the sockets,
 * the clock and the randomness; the manager owns the protocol. The host names each
 * connection with an opaque id (al_peer_conn, e.g. a file descriptor or a counter,
 * unique among live connections) and moves bytes and time in:
 *
 *   accept()      -> al_peer_new_inbound(conn, ephemeral key, now)
 *   connect()     -> al_peer_new_outbound(conn, their node id, ephemeral key, now)
 *   readable      -> al_peer_read(conn, bytes, len, &used, now), only while
 *                    al_peer_wants_read(conn); the host keeps bytes[used..len) for later
 *   EOF           -> al_peer_read_eof(conn, now), once every received byte was taken
 *   writable      -> al_peer_send_buf(conn, &len), write(), al_peer_send_ack(conn, n, now)
 *   clock tick    -> al_peer_timer(now), at the latest by al_peer_next_timer()
 *   after each    -> al_peer_next_event() until it returns false; then offer the bytes
 *                    kept back to every connection that wants to read again (releasing
 *                    a delivered message lets its connection read, without any new
 *                    bytes arriving on the socket)
 *   socket gone   -> al_peer_closed(&ev, conn, now): the connection's final event
 *
 * Each connection runs the BOLT #8 handshake (ln/noise.h, as responder or initiator),
 * then the BOLT #1 init exchange, then carries messages. The manager answers pings,
 * sends its own pings on a timer and enforces every BOLT #1 rule; messages for higher
 * layers come out as events, and higher layers send with al_peer_send.
 *
 * Time is an input: `now` is a monotonic clock in milliseconds, never decreasing.
 * Randomness is an input: every connection takes its BOLT #8 ephemeral key from the
 * host ("For each session, a node MUST generate a new ephemeral key with strong
 * cryptographic randomness"); the manager copies it and wipes its copy.
 *
 * Back-pressure, both ways:
 *   - Out: each established connection has a bounded queue (config.out_queue_bytes) of
 *     plaintext messages waiting for the BOLT #8 engine, which holds one encrypted frame
 *     at a time. al_peer_send returns AL_E_PEER_QUEUE_FULL when a message does not fit.
 *   - In: the manager stops taking a connection's bytes (al_peer_wants_read false,
 *     al_peer_read takes less than offered) while its queue holds more than half of
 *     out_queue_bytes, while it owes a pong it could not send yet, and while a message
 *     it delivered as an event has not been released (see al_peer_next_event).
 *
 * Closing. When a connection must end (a BOLT #1 violation, a timeout, a bad
 * handshake, al_peer_fail or al_peer_disconnect), the manager stops reading it, sends a
 * `warning` or `error` first where it can (see below), and emits AL_PEER_EV_CLOSE once
 * those bytes have been handed to the host (or config.pong_timeout_ms after deciding,
 * if the host cannot flush them). The host then closes the socket and calls
 * al_peer_closed, which returns AL_PEER_EV_DISCONNECTED with the precise reason. The
 * first reason wins. What is sent before closing:
 *   - an `error` (all-zero channel_id) when the peer's init shares no chain with ours;
 *   - a `warning` (all-zero channel_id) for every other BOLT #1 violation after the
 *     handshake (unknown even message, malformed message or extension, bad init
 *     features, missing required feature, second init, first message not init, pong
 *     matching no ping, ping flood) and for init, pong and idle timeouts;
 *   - nothing during or after a failed BOLT #8 handshake (there is no key to encrypt
 *     with) nor when the engine is closed.
 * The data of the warning or error is the ASCII text of al_err_str(reason).
 *
 * Memory is fixed: al_peer_mgr_init takes everything from the caller's arena, sized by
 * al_peer_arena_size(config). The manager has max_peers + max_pending_handshakes
 * connection slots, each embedding one BOLT #8 engine (al_noise, ~128 KiB, which holds
 * two maximum-size frames), and max_peers out-queues of out_queue_bytes, attached when
 * a handshake completes. al_peer_slot_size() and al_peer_queue_size() give the figures.
 * A connection in its BOLT #8 handshake counts against max_pending_handshakes; when
 * that is reached al_peer_new_inbound refuses at once (AL_E_PEER_HANDSHAKES_FULL) and
 * the host closes the socket, so any number of half-open TCP connections costs no
 * more than max_pending_handshakes slots. A handshake completing while max_peers
 * connections are established is closed (AL_E_PEER_TOO_MANY).
 *
 * Secrets: the node key and ephemeral keys are copied into the manager; every copy is
 * wiped when no longer needed and by al_peer_mgr_clear. */
#ifndef ALIGHT_LN_PEER_H
#define ALIGHT_LN_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "ln/features.h"
#include "util/arena.h"
#include "util/err.h"

/* Chains a manager serves (sent in the init `networks` TLV) and remote chains kept
 * from a peer's init. */
#define AL_PEER_MAX_CHAINS 4
/* The data of a warning or error we send is at most this long. */
#define AL_PEER_MAX_ERROR_TEXT 128
/* The smallest out_queue_bytes a config may set. A message larger than the free part
 * of the queue is still accepted when the queue is empty and the engine idle. */
#define AL_PEER_MIN_QUEUE 1024

/* The features al_peer_default_features sets, each optional (odd):
 * data_loss_protect (1), gossip_queries (7), var_onion_optin (9),
 * static_remotekey (13), payment_secret (15), basic_mpp (17),
 * option_support_large_channel (19), option_anchors_zero_fee_htlc_tx (23),
 * option_shutdown_anysegwit (27), option_channel_type (45).
 * Electrum 4.3.4 requires data_loss_protect, gossip_queries and static_remotekey to
 * be offered; the set satisfies BOLT #9's dependencies. */
void al_peer_default_features(al_features *f);

/* A connection id chosen by the host. */
typedef uint64_t al_peer_conn;

/* Connection slots (each embeds a BOLT #8 engine, al_peer_slot_size() bytes) and
 * out-queues, from one arena, shared by any number of managers: the enclave's nodes
 * draw from one pool, so an idle node holds none. A manager without a pool makes its
 * own (max_peers + max_pending_handshakes slots, max_peers queues). Not thread-safe,
 * like the managers. */
typedef struct al_peer_pool al_peer_pool;

/* Arena bytes of a pool; 0 if the counts overflow. */
size_t al_peer_pool_size(uint32_t n_slots, uint32_t n_queues, size_t queue_bytes);
/* AL_E_ARG for zero counts or queue_bytes below AL_PEER_MIN_QUEUE, AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_peer_pool_init(al_peer_pool **out, al_arena *a, uint32_t n_slots,
                                        uint32_t n_queues, size_t queue_bytes);
/* Slots and queues in use now. */
void al_peer_pool_usage(const al_peer_pool *p, uint32_t *slots, uint32_t *queues);

typedef struct al_peer_config {
	al_privkey node_key;  /* our node's identity key (secret; copied, then wipe yours) */
	al_features features; /* what our init offers (al_peer_default_features) */
	/* Our chains, n_chains in 1..AL_PEER_MAX_CHAINS. BOLT #1: "SHOULD set `networks`
	 * to all chains it will gossip or open channels for." */
	uint8_t chains[AL_PEER_MAX_CHAINS][32];
	size_t n_chains;
	uint32_t max_peers;              /* established connections, >= 1 */
	uint32_t max_pending_handshakes; /* connections in the BOLT #8 handshake, >= 1 */
	/* Timers in milliseconds; 0 disables one. */
	uint64_t ping_interval_ms;     /* we ping a connected peer this often */
	uint64_t handshake_timeout_ms; /* from new_* until both inits are exchanged */
	uint64_t pong_timeout_ms;      /* a ping unanswered this long fails; also flush time */
	uint64_t idle_timeout_ms;      /* nothing received this long fails */
	size_t out_queue_bytes;        /* per established connection, >= AL_PEER_MIN_QUEUE */
	uint16_t ping_pong_bytes;      /* num_pong_bytes in our pings, < 65532 */
	/* More pings received than this within one ping_interval_ms fails the
	 * connection (BOLT #1: "Limited precautions are recommended against `ping`
	 * flooding"); 0 disables the check. */
	uint32_t max_pings_per_interval;
	/* Message types the higher layers handle, beyond the BOLT #1 ones the manager
	 * decodes (init, error, warning, ping, pong). NULL: none. Any other type is
	 * unknown to the node: odd ones are dropped, even ones fail the connection. */
	bool (*handles_type)(void *arg, uint16_t type);
	void *handles_arg;
	/* Where connection slots come from (NULL: the manager's own, in its arena). A
	 * pool's queue_bytes must equal out_queue_bytes. When the pool has no free slot,
	 * new connections are refused with AL_E_PEER_POOL_FULL. */
	al_peer_pool *pool;
} al_peer_config;

/* Defaults for everything but node_key and chains (which stay zero): default
 * features, max_peers 64, max_pending_handshakes 16, ping every 30 s, handshake
 * timeout 10 s, pong timeout 20 s, idle timeout 90 s, 64 KiB out-queues, pings asking
 * for 8 bytes, at most 20 pings per interval, no extra message types. */
void al_peer_config_default(al_peer_config *cfg);

/* Arena bytes al_peer_mgr_init needs for cfg (alignment included; with cfg->pool the
 * manager's tables only); 0 if the counts overflow size_t. */
size_t al_peer_arena_size(const al_peer_config *cfg);
/* Bytes of one connection slot (engine + state): the cost of a pending handshake. */
size_t al_peer_slot_size(void);
/* Bytes of one out-queue for cfg: an established connection costs one slot plus this. */
size_t al_peer_queue_size(const al_peer_config *cfg);

typedef struct al_peer_mgr al_peer_mgr;

/* Build a manager in `arena` (al_peer_arena_size(cfg) bytes available). Errors:
 * AL_E_ARG for a config out of range, AL_E_PRIVKEY for an invalid node key, the
 * errors of al_features_check_deps on cfg->features, AL_E_NOMEM. `secp` must outlive
 * the manager. */
AL_WARN_UNUSED al_err al_peer_mgr_init(al_peer_mgr **out, al_arena *arena, const al_secp *secp,
                                       const al_peer_config *cfg, uint64_t now);
/* Wipe every secret and buffer; all connections are gone (no events). */
void al_peer_mgr_clear(al_peer_mgr *mgr);
/* Our node id (33-byte compressed public key). */
void al_peer_node_id(const al_peer_mgr *mgr, uint8_t out[AL_PUBKEY_LEN]);

/* --- events --------------------------------------------------------------- */

typedef enum al_peer_event_kind {
	AL_PEER_EV_NONE = 0,
	/* Both inits were exchanged and accepted: the peer is usable. node_id,
	 * features (negotiated), remote_features and networks are set. */
	AL_PEER_EV_CONNECTED = 1,
	/* A message for higher layers: any type but init, ping and pong (error and
	 * warning included, BOLT #1: "upon receiving `error` ... MUST fail all channels
	 * with the sending node" is theirs to do). msg/len hold it, type first. */
	AL_PEER_EV_MESSAGE = 2,
	/* The host must close the socket now (its final bytes were handed out), then call
	 * al_peer_closed. reason says why. */
	AL_PEER_EV_CLOSE = 3,
	/* Returned by al_peer_closed only: the connection is gone. reason says why;
	 * was_connected tells whether AL_PEER_EV_CONNECTED was delivered for it. */
	AL_PEER_EV_DISCONNECTED = 4,
} al_peer_event_kind;

typedef struct al_peer_event {
	al_peer_event_kind kind;
	al_peer_conn conn;
	bool outbound;
	bool has_node_id; /* always for connected peers; for an inbound one, after Act Three */
	uint8_t node_id[AL_PUBKEY_LEN];
	al_err reason;      /* CLOSE, DISCONNECTED */
	bool was_connected; /* DISCONNECTED */
	/* CONNECTED: features negotiated (al_features_negotiate) and the peer's merged
	 * init features; the peer's networks TLV (has_networks, its first n_networks
	 * chains; num_networks counts them all). */
	al_features features;
	al_features remote_features;
	bool has_networks;
	size_t num_networks;
	size_t n_networks;
	uint8_t networks[AL_PEER_MAX_CHAINS][32];
	/* MESSAGE: the decrypted message (type included), valid until the next call of
	 * al_peer_next_event or al_peer_closed for this connection. */
	uint16_t type;
	const uint8_t *msg;
	size_t len;
} al_peer_event;

/* --- connections --------------------------------------------------------- */

/* A peer connected to us: we are the BOLT #8 responder and wait for Act One.
 * Errors (the host closes the socket at once; nothing changed):
 * AL_E_PEER_HANDSHAKES_FULL, AL_E_PEER_CONN_EXISTS, AL_E_PRIVKEY (ephemeral). */
AL_WARN_UNUSED al_err al_peer_new_inbound(al_peer_mgr *mgr, al_peer_conn conn,
                                          const al_privkey *ephemeral, uint64_t now);
/* We connected to `their_id`: we are the initiator and Act One is ready to send.
 * Errors as al_peer_new_inbound, plus AL_E_PUBKEY (their_id) and
 * AL_E_PEER_ALREADY_CONNECTED (BOLT #1: "Implementations MUST use a single connection
 * per peer"). */
AL_WARN_UNUSED al_err al_peer_new_outbound(al_peer_mgr *mgr, al_peer_conn conn,
                                           const uint8_t their_id[AL_PUBKEY_LEN],
                                           const al_privkey *ephemeral, uint64_t now);

/* Received bytes from the wire. *used (<= len) says how many were taken; the host
 * keeps the rest and offers them again once al_peer_wants_read is true. Returns AL_OK
 * while the connection lives; once it is closing (before or because of these bytes),
 * the reason it closes, as its AL_PEER_EV_CLOSE event will say. AL_E_PEER_UNKNOWN_CONN
 * for an id the manager does not know. */
AL_WARN_UNUSED al_err al_peer_read(al_peer_mgr *mgr, al_peer_conn conn, const uint8_t *bytes,
                                   size_t len, size_t *used, uint64_t now);
/* The peer ended its stream (after every received byte was taken by al_peer_read).
 * The connection closes with AL_E_PEER_REMOTE_CLOSED, or AL_E_TRUNCATED if the
 * stream ended inside a handshake act or a frame; events already pending (a message)
 * come first. Returns that reason, or AL_E_PEER_UNKNOWN_CONN. */
AL_WARN_UNUSED al_err al_peer_read_eof(al_peer_mgr *mgr, al_peer_conn conn, uint64_t now);
/* Whether al_peer_read would take bytes now (false for an unknown connection). */
bool al_peer_wants_read(const al_peer_mgr *mgr, al_peer_conn conn);

/* Bytes to write to the connection's socket, *len of them, or NULL (*len 0) when
 * there are none. Act Two is offered as one 50-byte chunk: write it in one send
 * (Electrum reads it with a single read). Valid until the next call on this
 * connection. */
const uint8_t *al_peer_send_buf(al_peer_mgr *mgr, al_peer_conn conn, size_t *len);
/* n bytes of al_peer_send_buf went to the wire; the next queued message is then
 * encrypted. AL_E_PEER_UNKNOWN_CONN, or AL_E_ARG if n exceeds what was offered. */
AL_WARN_UNUSED al_err al_peer_send_ack(al_peer_mgr *mgr, al_peer_conn conn, size_t n, uint64_t now);
/* Whether al_peer_send_buf has bytes (false for an unknown connection). */
bool al_peer_wants_write(const al_peer_mgr *mgr, al_peer_conn conn);

/* The socket is closed (by the host after AL_PEER_EV_CLOSE, or by a socket error).
 * Fills *ev with the connection's AL_PEER_EV_DISCONNECTED event and frees its slot:
 * any event still pending for it is dropped, and a message event it returned is no
 * longer valid. AL_E_PEER_UNKNOWN_CONN if unknown (*ev zeroed). */
AL_WARN_UNUSED al_err al_peer_closed(al_peer_mgr *mgr, al_peer_event *ev, al_peer_conn conn,
                                     uint64_t now);

/* Drive the timers: handshake and init timeouts, pings, pong and idle timeouts,
 * and the flush time of closing connections. */
void al_peer_timer(al_peer_mgr *mgr, uint64_t now);
/* The earliest time al_peer_timer has something to do (UINT64_MAX: nothing). */
uint64_t al_peer_next_timer(const al_peer_mgr *mgr);

/* The next event, oldest connection first (each connection's own events come in the
 * order CONNECTED, MESSAGE, CLOSE). Returns false when there is none. Calling it
 * releases the message of the previous MESSAGE event, which lets that connection
 * read again. */
bool al_peer_next_event(al_peer_mgr *mgr, al_peer_event *ev);

/* --- for higher layers ---------------------------------------------------- */

/* Queue a message (type included, at most 65535 bytes) for a connected peer.
 * Errors: AL_E_PEER_UNKNOWN_CONN; AL_E_PEER_NOT_READY before AL_PEER_EV_CONNECTED
 * (BOLT #1: "MUST wait to receive `init` before sending any other messages");
 * AL_E_PEER_CLOSING; AL_E_PEER_RESERVED_TYPE for init, ping and pong (the manager's
 * own); AL_E_WIRE_TOO_SHORT / AL_E_NOISE_LENGTH for a bad length; AL_E_PEER_QUEUE_FULL
 * when it does not fit in the out-queue now (retry after the host wrote some bytes).
 * A refused message changes nothing. */
AL_WARN_UNUSED al_err al_peer_send(al_peer_mgr *mgr, al_peer_conn conn, const uint8_t *msg,
                                   size_t len, uint64_t now);
/* al_peer_send to the connection of node `node_id`; AL_E_PEER_NOT_CONNECTED if none
 * is connected (AL_PEER_EV_CONNECTED delivered and not closing). */
AL_WARN_UNUSED al_err al_peer_send_to(al_peer_mgr *mgr, const uint8_t node_id[AL_PUBKEY_LEN],
                                      const uint8_t *msg, size_t len, uint64_t now);
/* Close gracefully: stop reading, send everything queued, then AL_PEER_EV_CLOSE with
 * AL_E_PEER_LOCAL_CLOSE. */
AL_WARN_UNUSED al_err al_peer_disconnect(al_peer_mgr *mgr, al_peer_conn conn, uint64_t now);
/* Fail the connection for `reason` (not AL_OK): drop the queue, send a warning (or an
 * `error` if send_error) with all-zero channel_id and the text of reason, then close. */
AL_WARN_UNUSED al_err al_peer_fail(al_peer_mgr *mgr, al_peer_conn conn, al_err reason,
                                   bool send_error, uint64_t now);

/* --- inspection ----------------------------------------------------------- */

typedef enum al_peer_state {
	AL_PEER_HANDSHAKE = 1, /* BOLT #8 acts */
	AL_PEER_INIT = 2,      /* handshake done, inits not both exchanged */
	AL_PEER_READY = 3,     /* AL_PEER_EV_CONNECTED emitted (or pending) */
	AL_PEER_CLOSING = 4,
} al_peer_state;

typedef struct al_peer_info {
	al_peer_state state;
	bool outbound;
	bool has_node_id;
	uint8_t node_id[AL_PUBKEY_LEN];
	al_err reason;       /* when closing */
	size_t queued_bytes; /* in the out-queue (2 bytes of length per message) */
	uint64_t sent_msgs;  /* messages handed to the engine */
	uint64_t recv_msgs;  /* messages decrypted */
	bool ping_outstanding;
} al_peer_info;

/* AL_E_PEER_UNKNOWN_CONN if unknown. */
AL_WARN_UNUSED al_err al_peer_get_info(const al_peer_mgr *mgr, al_peer_info *info,
                                       al_peer_conn conn);
/* Connections in the BOLT #8 handshake and established (past it), closing included. */
void al_peer_counts(const al_peer_mgr *mgr, size_t *pending, size_t *established);

#endif
