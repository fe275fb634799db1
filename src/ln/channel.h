/* BOLT #2 channel state machine, sans-I/O: one channel with one peer, from
 * open_channel to the closing transaction.
 *
 * In the shape of src/ln/noise.c and src/ln/peer.h: caller-owned memory, a state
 * bitmask, a sticky channel error, and one input changing the state in one place:
 * everything is checked first, the signer is asked last (its policy refusal is a
 * check too), then the change is applied and its effects queued; the one tentative
 * step (which updates a new commitment takes) is taken back if its signature fails.
 * Outputs are an ordered queue of effects the node performs. Split by message
 * family: channel.c (engine, effect queue, failure, connection, chain),
 * channel_fx.c (effects made into bytes), channel_open.c (establishment),
 * channel_update.c (updates and their checks), channel_commit.c (commitment_signed /
 * revoke_and_ack), channel_reest.c (reestablish), channel_close.c (shutdown,
 * closing_signed, force close), channel_rec.c (the record); the update model is in
 * channel_int.h.
 *
 * Channel types: option_static_remotekey and option_anchors_zero_fee_htlc_tx, by
 * option_channel_type (required of the peer). Not run here (their messages are in
 * the wire schema; received, they fail the channel as unexpected): dual funding,
 * splicing, quiescence, option_simple_close, zero-conf and scid aliases, gossip
 * (announcement_signatures): channels are private.
 *
 * Inputs (functions):
 *   commands      al_chan_open, al_chan_funding_tx, al_chan_add_htlc, al_chan_fulfill_htlc,
 *                 al_chan_fail_htlc, al_chan_fail_malformed_htlc, al_chan_commit,
 *                 al_chan_update_fee, al_chan_shutdown, al_chan_force_close
 *   peer          al_chan_recv (every BOLT #2 message for this channel, and error /
 *                 warning), al_chan_peer_connected, al_chan_peer_disconnected
 *   storage       al_chan_persisted
 *   chain         al_chan_funding_depth, al_chan_funding_spent, al_chan_block_height
 * Block height is the engine's clock; nothing here reads a clock or draws randomness
 * (the temporary_channel_id comes from the node, keys from the signer).
 *
 * Outputs: al_chan_next_effect, in order:
 *   PERSIST    make the channel record (al_chan_save, written when the effect is
 *              delivered) or a monitor entry (fx.data) durable, then report
 *              al_chan_persisted(fx.id). "Persist before you speak": every effect
 *              queued after a PERSIST is held until that PERSIST is reported, so a
 *              funding_signed, commitment_signed, revoke_and_ack or preimage never
 *              leaves before the record that makes it recoverable is durable.
 *              Completions may arrive as late as the node likes.
 *   SEND       a message for the peer (fx.data, type first).
 *   BROADCAST  a transaction (fx.data): the funding transaction after funding_signed,
 *              the closing transaction, or our commitment on a force close.
 *   WATCH      an outpoint and script the chain sync must watch (the funding output).
 *   EVENT      al_chan_event_kind: funding needed, channel pending/ready/closed,
 *              HTLC received/fulfilled/failed, channel failed, peer warning.
 * Pointers in an effect stay valid until the next call into any channel of the same
 * al_chan_env (they live in its scratch arena or in the channel).
 *
 * Errors. A refused command returns its reason and changes nothing. A peer's protocol
 * violation is a sticky channel error: the channel sends an `error`, broadcasts its
 * latest commitment if the funding may be on-chain (never when the peer proved our
 * state old: AL_E_CHAN_DATA_LOSS), reports AL_CHAN_EV_FAILED, and from then on
 * ignores the peer's messages (BOLT #2: "if a channel is in an error state: SHOULD
 * retransmit the error packet and ignore any other packets for that channel"). On
 * each reconnection a failed channel sends its channel_reestablish and then the
 * error again (as Core Lightning does): a peer restored from old storage learns from
 * our numbers that it is behind before the error would make it broadcast.
 * AL_E_CHAN_BUSY (not sticky) means the effect queue lacks room for the worst case
 * of that input: deliver effects and call again.
 *
 * HTLC events are delivered at least once: after a reload (al_chan_load) the channel
 * announces again every incoming HTLC that is irrevocably committed and not yet
 * resolved, every outgoing HTLC whose preimage it knows and every outgoing failure
 * whose event may not have been delivered; the node de-duplicates by (channel,
 * direction, id). The channel signs our own updates when the node calls
 * al_chan_commit; with config.auto_commit it answers the peer's commitments and
 * revocations by itself.
 *
 * Persistence: the record (al_chan_save, al_chan_load) holds the whole channel: the
 * key index (al_chan_record_key_index) from which the signer derives every secret
 * again, both sides' parameters and basepoints, both commitments with the peer's
 * signatures, every per-commitment secret the peer revealed (shachain), the HTLCs,
 * the close, the signer's policy state. Monitor entries (AL_CHAN_PERSIST_MONITOR)
 * keep each of the peer's commitments as we signed it: what a later on-chain module
 * needs for justice and sweeps once they are revoked.
 *
 * Memory: al_chan_size(cfg) bytes per channel, fixed by cfg->max_htlcs (HTLC slots
 * per direction, each holding its 1366-byte onion or failure reason): about 119 KB at
 * the default 30, 1.7 MB at 483 (tests/unit/test_channel_limits.c prints them);
 * plus one scratch arena per node (al_chan_scratch_size) shared by its channels, one
 * call at a time. The record is at most al_chan_record_max(cfg) bytes (112 KB at 30
 * slots; 948 KB measured with 483 HTLCs each way). */
#ifndef ALIGHT_LN_CHANNEL_H
#define ALIGHT_LN_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "ln/commit.h"
#include "ln/features.h"
#include "ln/signer.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/err.h"

/* BOLT #2: "`max_accepted_htlcs` is limited to 483". */
#define AL_CHAN_MAX_HTLCS 483
/* BOLT #2 update_add_htlc `onion_routing_packet`: "1366*byte". */
#define AL_CHAN_ONION_LEN 1366
/* The longest update_fail_htlc `reason` kept (an onion's worth). */
#define AL_CHAN_MAX_REASON AL_CHAN_ONION_LEN
/* The longest shutdown scriptpubkey: a 40-byte witness program and its 2 opcodes. */
#define AL_CHAN_MAX_SCRIPT 42
/* The largest funding transaction the channel keeps until it is broadcast. */
#define AL_CHAN_MAX_FUNDING_TX 8192
/* BOLT #2 "(i.e. `option_support_large_channel`)": below 2^24 sat without it. */
#define AL_CHAN_LARGE_CHANNEL_SAT (1ULL << 24)
/* BOLT #2 update_fail_malformed_htlc: "if the `BADONION` bit in `failure_code` is not
 * set"; BOLT #4 BADONION = 0x8000. */
#define AL_CHAN_BADONION 0x8000

/* The node's policy for one channel: our parameters and the range of the peer's we
 * accept. al_chan_config_default gives values Electrum 4.3.4 accepts. */
typedef struct al_chan_config {
	uint8_t chain_hash[32];
	/* HTLC slots per direction (1..483): our max_accepted_htlcs, and the most we
	 * offer. */
	uint16_t max_htlcs;
	/* What we announce (and so demand of the peer's commitments and HTLCs). */
	al_sat dust_limit;         /* >= 354 */
	uint16_t to_self_delay;    /* imposed on the peer's outputs */
	al_msat htlc_minimum;      /* smallest HTLC we accept */
	uint32_t reserve_permille; /* reserve we demand: funding * this / 1000 */
	uint32_t minimum_depth;    /* confirmations we wait for as the fundee */
	al_msat max_dust_exposure; /* BOLT #2 max_dust_htlc_exposure_msat */
	/* What we accept of the peer. */
	al_sat min_funding, max_funding;   /* of a channel the peer opens */
	uint16_t max_to_self_delay;        /* the delay the peer may impose on us */
	al_sat max_dust_limit;             /* the peer's dust_limit_satoshis */
	uint32_t max_reserve_permille;     /* the reserve the peer may demand of us */
	al_msat max_htlc_minimum;          /* the peer's htlc_minimum_msat */
	uint16_t min_max_accepted;         /* the peer's max_accepted_htlcs, at least */
	uint32_t max_minimum_depth;        /* the peer's minimum_depth, at most */
	uint32_t min_feerate, max_feerate; /* per kw, the peer's feerates */
	bool allow_anchors;                /* option_anchors_zero_fee_htlc_tx channels */
	/* Send commitment_signed on our own whenever the peer's updates or a revocation
	 * leave something to sign (as every implementation does); our own updates are
	 * signed when the node calls al_chan_commit. */
	bool auto_commit;
	/* Blocks after an outgoing HTLC's expiry before the channel goes on-chain. */
	uint32_t htlc_grace_blocks;
	/* Feerate (per kw) of the closing transaction we propose when the peer starts
	 * the close. */
	uint32_t closing_feerate;
} al_chan_config;

void al_chan_config_default(al_chan_config *cfg);
/* AL_E_ARG for a config out of range (max_htlcs, dust limit below 354, ...). */
AL_WARN_UNUSED al_err al_chan_config_check(const al_chan_config *cfg);

/* What the channels of one node share: the curve context and the scratch arena
 * (al_chan_scratch_size bytes at least). One call at a time. */
typedef struct al_chan_env {
	const al_secp *secp;
	al_arena *scratch;
	/* private: the output of the last al_chan_next_effect */
	size_t out_mark;
	bool out_held;
} al_chan_env;

size_t al_chan_size(const al_chan_config *cfg);
size_t al_chan_scratch_size(const al_chan_config *cfg);
size_t al_chan_record_max(const al_chan_config *cfg);

typedef struct al_chan al_chan;

/* --- opening ------------------------------------------------------------------ */

typedef struct al_chan_open_params {
	uint8_t temporary_channel_id[32]; /* random, from the node */
	al_sat funding;
	al_msat push;
	uint32_t feerate_per_kw;
	al_ln_chan_type type;
	bool announce;
	al_features peer_features; /* negotiated with the peer in init */
	/* Where a cooperative close pays us, unless al_chan_shutdown says otherwise (a
	 * wallet address's scriptpubkey; not announced as upfront_shutdown_script). */
	uint8_t shutdown_script[AL_CHAN_MAX_SCRIPT];
	size_t shutdown_script_len;
} al_chan_open_params;

typedef struct al_chan_accept_params {
	al_features peer_features;
	uint8_t shutdown_script[AL_CHAN_MAX_SCRIPT];
	size_t shutdown_script_len;
} al_chan_accept_params;

/* Open a channel to a connected peer: queues open_channel. Errors: AL_E_ARG (config,
 * memory), AL_E_CHAN_TYPE (anchors not negotiated or not allowed),
 * AL_E_CHAN_FUNDING_AMOUNT (>= 2^24 sat without option_support_large_channel, or
 * too small for the reserve and fees), AL_E_CHAN_PUSH, AL_E_CHAN_FEERATE,
 * AL_E_CHAN_SCRIPT (the shutdown script). */
AL_WARN_UNUSED al_err al_chan_open(al_chan **out, void *mem, size_t len, al_chan_env *env,
                                   const al_chan_config *cfg, al_signer *signer,
                                   const al_chan_open_params *p);
/* A channel that waits for the peer's open_channel (al_chan_recv), accepting it within
 * the config's policy. AL_E_CHAN_SCRIPT for a shutdown script of no accepted form. */
AL_WARN_UNUSED al_err al_chan_init_inbound(al_chan **out, void *mem, size_t len, al_chan_env *env,
                                           const al_chan_config *cfg, al_signer *signer,
                                           const al_chan_accept_params *p);
/* Wipe the channel's memory (the revealed secrets and signatures it holds). */
void al_chan_clear(al_chan *ch);
/* The funding transaction the node built for AL_CHAN_EV_FUNDING_NEEDED: output `vout`
 * of `raw` must pay exactly the funding amount to the funding script
 * (AL_E_CHAN_FUNDING_TX). Queues funding_created; the transaction is broadcast after
 * funding_signed. AL_E_TOO_LARGE over AL_CHAN_MAX_FUNDING_TX bytes. */
AL_WARN_UNUSED al_err al_chan_funding_tx(al_chan *ch, const uint8_t *raw, size_t len,
                                         uint16_t vout);

/* --- normal operation -------------------------------------------------------- */

/* Offer an HTLC (update_add_htlc); *id is its id. Refused: AL_E_CHAN_STATE,
 * AL_E_CHAN_NOT_CONNECTED, AL_E_CHAN_SHUTDOWN, AL_E_CHAN_HTLC_AMOUNT,
 * AL_E_CHAN_HTLC_CLTV, AL_E_CHAN_HTLC_COUNT, AL_E_CHAN_HTLC_IN_FLIGHT, AL_E_CHAN_RESERVE,
 * AL_E_CHAN_FEE_SPIKE, AL_E_CHAN_DUST_EXPOSURE. */
AL_WARN_UNUSED al_err al_chan_add_htlc(al_chan *ch, al_msat amount, const uint8_t hash[32],
                                       uint32_t cltv_expiry, const uint8_t onion[AL_CHAN_ONION_LEN],
                                       uint64_t *id);
/* Whether al_chan_add_htlc would take an HTLC of `amount` now (its refusals, nothing
 * changed): a sender sizes the parts of a multi-part payment with it. */
AL_WARN_UNUSED al_err al_chan_can_add(const al_chan *ch, al_msat amount, uint32_t cltv_expiry);
/* Resolve an incoming HTLC (irrevocably committed, else AL_E_CHAN_HTLC_STATE).
 * Fulfilling persists the preimage before update_fulfill_htlc leaves. */
AL_WARN_UNUSED al_err al_chan_fulfill_htlc(al_chan *ch, uint64_t id, const uint8_t preimage[32]);
AL_WARN_UNUSED al_err al_chan_fail_htlc(al_chan *ch, uint64_t id, const uint8_t *reason,
                                        size_t len);
AL_WARN_UNUSED al_err al_chan_fail_malformed_htlc(al_chan *ch, uint64_t id,
                                                  const uint8_t sha256_of_onion[32],
                                                  uint16_t failure_code);
/* An incoming HTLC not yet resolved, as it was added. The onion stays valid until
 * the next call into the channel: the node peels it again when it fails the HTLC, to
 * wrap its failure for the sender. AL_E_CHAN_UNKNOWN_HTLC, AL_E_CHAN_HTLC_STATE
 * (resolved, or no onion kept). */
typedef struct al_chan_htlc_in {
	al_msat amount;
	uint8_t hash[32];
	uint32_t cltv_expiry;
	const uint8_t *onion; /* AL_CHAN_ONION_LEN bytes */
} al_chan_htlc_in;
AL_WARN_UNUSED al_err al_chan_incoming(al_chan *ch, uint64_t id, al_chan_htlc_in *out);
/* An outgoing HTLC the channel still holds (in any state; onion NULL): whether one
 * this node offered is known to the channel at all. AL_E_CHAN_UNKNOWN_HTLC. */
AL_WARN_UNUSED al_err al_chan_outgoing(al_chan *ch, uint64_t id, al_chan_htlc_in *out);
/* Sign the peer's commitment with every pending update (commitment_signed).
 * AL_E_CHAN_AWAIT_REVOKE while the last one is unanswered, AL_E_CHAN_NOTHING_TO_SIGN. */
AL_WARN_UNUSED al_err al_chan_commit(al_chan *ch);
/* As the funder: update_fee (AL_E_CHAN_NOT_FUNDER otherwise, AL_E_CHAN_RESERVE if we
 * could not pay it). */
AL_WARN_UNUSED al_err al_chan_update_fee(al_chan *ch, uint32_t feerate_per_kw);

/* --- closing -------------------------------------------------------------------- */

/* Start a cooperative close paying us to `script` (P2WPKH, P2WSH, or with
 * option_shutdown_anysegwit a witness v1..16 program: AL_E_CHAN_SCRIPT), at
 * `feerate_per_kw` for the closing transaction. The shutdown leaves once our
 * pending updates are signed. */
AL_WARN_UNUSED al_err al_chan_shutdown(al_chan *ch, const uint8_t *script, size_t len,
                                       uint32_t feerate_per_kw);
/* Force close: broadcast our latest commitment and send an `error`. */
AL_WARN_UNUSED al_err al_chan_force_close(al_chan *ch);

/* --- the peer, storage, the chain ---------------------------------------------- */

/* A message for this channel (any BOLT #2 type, error, warning), type first.
 * AL_OK also when the message was a violation that failed the channel (see
 * al_chan_state); refusals that change nothing: AL_E_CHAN_BUSY, and a message of a
 * type the channel does not handle (AL_E_WIRE_TYPE). */
AL_WARN_UNUSED al_err al_chan_recv(al_chan *ch, const uint8_t *msg, size_t len);
/* The peer (re)connected: queues channel_reestablish (a failed channel: that and its
 * error; before funding: abandons an unfinished open, AL_CHAN_EV_CLOSED). */
AL_WARN_UNUSED al_err al_chan_peer_connected(al_chan *ch);
/* The connection is gone: messages not yet delivered are dropped, the peer's
 * uncommitted updates are reversed (BOLT #2). */
void al_chan_peer_disconnected(al_chan *ch);
/* The PERSIST effect `id` is durable. AL_E_ARG if no such PERSIST is outstanding. */
AL_WARN_UNUSED al_err al_chan_persisted(al_chan *ch, uint64_t id);
/* Confirmations of the funding transaction and its short_channel_id (0 when
 * unconfirmed): channel_ready leaves at minimum_depth. The node reports a depth only
 * for a transaction whose output fx.vout pays fx.amount_sat to fx.data, as the WATCH
 * effect names it (BOLT #2: "MUST NOT send `channel_ready` unless outpoint ... pays
 * exactly `funding_satoshis` to the scriptpubkey"): a fundee never saw the funding
 * transaction itself. */
AL_WARN_UNUSED al_err al_chan_funding_depth(al_chan *ch, uint32_t depth, uint64_t scid);
/* The funding output was spent by `txid` (the closing transaction, our commitment, or
 * the peer's): the channel is closed (AL_CHAN_EV_CLOSED). Resolving the outputs of a
 * commitment on-chain (BOLT #5: sweeps, HTLC transactions, justice) is a later
 * module's, from the record and the monitor entries. */
AL_WARN_UNUSED al_err al_chan_funding_spent(al_chan *ch, const uint8_t txid[32]);
/* The chain tip: an outgoing HTLC past its expiry (+ htlc_grace_blocks) fails the
 * channel with AL_E_CHAN_HTLC_TIMEOUT (BOLT #5: it must be resolved on-chain). */
AL_WARN_UNUSED al_err al_chan_block_height(al_chan *ch, uint32_t height);

/* --- effects --------------------------------------------------------------------- */

typedef enum al_chan_fx_kind {
	AL_CHAN_FX_NONE = 0,
	AL_CHAN_FX_PERSIST = 1,
	AL_CHAN_FX_SEND = 2,
	AL_CHAN_FX_BROADCAST = 3,
	AL_CHAN_FX_WATCH = 4,
	AL_CHAN_FX_EVENT = 5,
} al_chan_fx_kind;

typedef enum al_chan_persist_kind {
	/* The channel record: call al_chan_save now; a later record replaces it. */
	AL_CHAN_PERSIST_RECORD = 1,
	/* A monitor entry (fx.data), kept under (channel_id, fx.number) forever: the
	 * counterparty's commitment fx.number as we signed it (for a later on-chain
	 * module: its HTLCs for justice and sweeps). */
	AL_CHAN_PERSIST_MONITOR = 2,
} al_chan_persist_kind;

typedef enum al_chan_broadcast_kind {
	AL_CHAN_TX_FUNDING = 1,
	AL_CHAN_TX_CLOSING = 2,
	AL_CHAN_TX_COMMITMENT = 3,
} al_chan_broadcast_kind;

typedef enum al_chan_event_kind {
	/* Outbound: build a transaction paying fx.amount_sat to fx.data (a P2WSH
	 * script) and call al_chan_funding_tx. */
	AL_CHAN_EV_FUNDING_NEEDED = 1,
	/* funding_signed exchanged and durable: the channel exists (fx.txid). */
	AL_CHAN_EV_PENDING = 2,
	/* Both channel_ready exchanged: normal operation (fx.scid). */
	AL_CHAN_EV_READY = 3,
	/* An incoming HTLC is irrevocably committed: fx.htlc_id, amount_msat, hash,
	 * cltv_expiry, data = the onion (1366 bytes). fx.must_fail: accepting it would
	 * exceed max_dust_exposure (BOLT #2 "SHOULD fail this HTLC once it's committed").
	 * Resolve it with al_chan_fulfill_htlc / al_chan_fail_htlc. */
	AL_CHAN_EV_HTLC_RECEIVED = 4,
	/* An outgoing HTLC was fulfilled: fx.htlc_id, fx.preimage (delivered as soon as
	 * the preimage is durable). */
	AL_CHAN_EV_HTLC_FULFILLED = 5,
	/* An outgoing HTLC's failure is irrevocably committed: fx.htlc_id and data =
	 * the reason, or (data NULL) fx.failure_code and fx.hash = sha256_of_onion. */
	AL_CHAN_EV_HTLC_FAILED = 6,
	/* The peer sent shutdown (or we did and it answered): no new HTLCs. */
	AL_CHAN_EV_SHUTDOWN = 7,
	/* The channel is closed: fx.txid spends the funding output (closing or
	 * commitment transaction), or the channel never got funded (zero txid). */
	AL_CHAN_EV_CLOSED = 8,
	/* The channel failed (fx.err): BOLT #2 "fail the channel". */
	AL_CHAN_EV_FAILED = 9,
	/* The peer sent a warning (data = its text). */
	AL_CHAN_EV_WARNING = 10,
} al_chan_event_kind;

typedef struct al_chan_fx {
	al_chan_fx_kind kind;
	uint64_t id; /* PERSIST: report it to al_chan_persisted */
	al_chan_persist_kind persist;
	al_chan_broadcast_kind tx;
	al_chan_event_kind event;
	const uint8_t *data; /* SEND message, BROADCAST tx, WATCH script, event data */
	size_t len;
	uint8_t txid[32];  /* BROADCAST, WATCH (funding outpoint), PENDING, CLOSED */
	uint32_t vout;     /* WATCH */
	uint64_t number;   /* MONITOR: the counterparty commitment number */
	al_sat amount_sat; /* FUNDING_NEEDED, WATCH */
	uint64_t scid;     /* READY */
	uint64_t htlc_id;
	al_msat amount_msat;
	uint8_t hash[32];
	uint8_t preimage[32];
	uint32_t cltv_expiry;
	uint16_t failure_code;
	bool must_fail;
	al_err err; /* FAILED */
} al_chan_fx;

/* The next effect, false when none is deliverable (the queue is empty, or holds
 * behind a PERSIST not yet reported). */
bool al_chan_next_effect(al_chan *ch, al_chan_fx *fx);
/* Write the channel record (at most al_chan_record_max bytes). AL_E_BUFSIZE with *len
 * the size needed. AL_E_CHAN_STATE before there is anything to persist. */
AL_WARN_UNUSED al_err al_chan_save(const al_chan *ch, uint8_t *buf, size_t cap, size_t *len);
/* A channel from its record: disconnected, resumes with channel_reestablish. `signer`
 * must be made for the record's key index (al_chan_record_key_index). Errors:
 * AL_E_CHAN_RECORD_VERSION, AL_E_CHAN_RECORD (anything malformed or inconsistent),
 * AL_E_TRUNCATED, AL_E_ARG. */
AL_WARN_UNUSED al_err al_chan_load(al_chan **out, void *mem, size_t len, al_chan_env *env,
                                   const al_chan_config *cfg, al_signer *signer, const uint8_t *rec,
                                   size_t rec_len);
AL_WARN_UNUSED al_err al_chan_record_key_index(const uint8_t *rec, size_t len, uint32_t *index);

/* --- inspection ---------------------------------------------------------------- */

/* al_chan_state bits. */
#define AL_CHAN_ST_OUTBOUND      0x0001u /* we are the funder */
#define AL_CHAN_ST_CONNECTED     0x0002u
#define AL_CHAN_ST_REESTABLISHED 0x0004u /* the peer's channel_reestablish arrived */
#define AL_CHAN_ST_FUNDED        0x0008u /* funding_signed exchanged */
#define AL_CHAN_ST_READY_SENT    0x0010u
#define AL_CHAN_ST_READY_RECV    0x0020u
#define AL_CHAN_ST_NORMAL        0x0040u /* both channel_ready */
#define AL_CHAN_ST_SHUTDOWN_SENT 0x0080u
#define AL_CHAN_ST_SHUTDOWN_RECV 0x0100u
#define AL_CHAN_ST_NEGOTIATING   0x0200u /* closing_signed exchange */
#define AL_CHAN_ST_CLOSED        0x0400u /* closing tx signed, or funding spent */
#define AL_CHAN_ST_FAILED        0x0800u /* sticky channel error */
#define AL_CHAN_ST_DATA_LOSS     0x1000u /* the peer proved our state old */
#define AL_CHAN_ST_FORCE_CLOSED  0x2000u /* our commitment was broadcast */
#define AL_CHAN_ST_AWAIT_REVOKE  0x4000u /* our commitment_signed is unanswered */
#define AL_CHAN_ST_ABANDONED     0x8000u /* never funded, forgotten */

uint32_t al_chan_state(const al_chan *ch);
/* The sticky error (AL_OK when none). */
al_err al_chan_error(const al_chan *ch);

typedef struct al_chan_info {
	uint8_t channel_id[32];
	al_ln_chan_type type;
	al_sat funding;
	uint64_t scid;
	/* Our latest commitment (the one we could broadcast) and the peer's latest. */
	uint64_t local_number, remote_number;
	al_msat local_to_local, local_to_remote, local_htlcs; /* in our commitment */
	al_msat local_offered, local_received;                /* its HTLCs: ours, and the peer's */
	al_msat remote_to_local, remote_to_remote, remote_htlcs; /* in the peer's (its view) */
	uint32_t local_feerate, remote_feerate;
	size_t htlcs_out, htlcs_in; /* slots in use */
} al_chan_info;

void al_chan_get_info(const al_chan *ch, al_chan_info *info);
void al_chan_channel_id(const al_chan *ch, uint8_t out[32]);
/* BOLT #2 channel_id: funding_txid XOR funding_output_index in the last 2 bytes. */
void al_chan_derive_channel_id(uint8_t out[32], const uint8_t funding_txid[32], uint16_t vout);

/* Our latest commitment as the peer signed it (unsigned by us: the signer signs only
 * to broadcast), its params' HTLC array and the peer's signatures, from `a`: for
 * tests and a later on-chain module. AL_E_CHAN_STATE before funding. */
AL_WARN_UNUSED al_err al_chan_holder_commitment(const al_chan *ch, al_arena *a, al_ln_commit *c,
                                                al_ecdsa_sig *sig, const al_ecdsa_sig **htlc_sigs);
/* The peer's latest commitment as we signed it. */
AL_WARN_UNUSED al_err al_chan_counterparty_commitment(const al_chan *ch, al_arena *a,
                                                      al_ln_commit *c);

#endif
