/* Private to the channel engine (src/ln/channel*.c): the channel, its HTLC slots, its
 * effect queue, and the functions the message families share.
 *
 * The update model. Every update (an HTLC's addition, its removal, a fee change)
 * records, for each side, the number of that side's commitment in which it first
 * takes effect (NEVER while it is in none). An HTLC is in commitment n of side s when
 * add[s] <= n < rem[s]. BOLT #2's five stages of an update become:
 *   - the proposer signs the receiver's commitment M: its pending updates get [R] = M
 *     (our side of the table: updates we sent get rem/add[REMOTE] = M);
 *   - the receiver revokes its previous commitment: the updates become "acked";
 *   - the receiver signs the proposer's commitment N: every acked update gets
 *     [proposer] = N;
 *   - the proposer revokes N - 1: the update is irrevocably committed once both
 *     sides revoked every commitment without it (add[L] <= local_revoked and
 *     add[R] <= remote_revoked).
 * Commitment numbers: ours 0..local_next-1 exist, 0..local_revoked-1 are revoked
 * (we revoke as soon as the next one arrives, so local_revoked == local_next - 1 after
 * funding); the peer's 0..remote_next-1 were signed by us, 0..remote_revoked-1 are
 * revoked, and our commitment_signed is unanswered while remote_revoked + 2 ==
 * remote_next. */
#ifndef ALIGHT_LN_CHANNEL_INT_H
#define ALIGHT_LN_CHANNEL_INT_H

#include "ln/channel.h"
#include "ln/shachain.h"
#include "ln/wire.h"

#define SIDE_L 0 /* our commitment */
#define SIDE_R 1 /* the peer's */
#define NEVER  UINT64_MAX

/* How an HTLC was removed. */
enum { RM_NONE = 0, RM_FULFILL = 1, RM_FAIL = 2, RM_MALFORMED = 3 };

/* The peer's or our fee updates in flight (BOLT #2: "Unlike an HTLC, update_fee is
 * never closed but simply replaced"): at most one unsigned, one in each side's
 * unrevoked commitments, and one more proposed. */
#define MAX_FEE_UPDATES 4

/* Where an opening stands (before AL_CHAN_ST_FUNDED). */
enum {
	OPEN_NONE = 0,
	OPEN_WAIT_OPEN = 1,       /* inbound: waiting for open_channel */
	OPEN_SENT = 2,            /* outbound: open_channel sent */
	OPEN_ACCEPT_SENT = 3,     /* inbound: accept_channel sent */
	OPEN_WAIT_FUNDING_TX = 4, /* outbound: FUNDING_NEEDED reported */
	OPEN_CREATED_SENT = 5,    /* outbound: funding_created sent */
	OPEN_DONE = 6,
};

struct chan_htlc {
	uint64_t id;
	al_msat amount;
	uint32_t cltv;
	uint8_t hash[32];
	uint64_t add[2], rem[2];   /* commitment numbers, per side (SIDE_L, SIDE_R) */
	uint64_t seq_add, seq_rem; /* our updates: the order we sent them in */
	bool used;
	uint8_t removal;     /* RM_* */
	bool preimage_known; /* outgoing: the peer's fulfill was seen (kept on revert) */
	bool announced;      /* incoming: HTLC_RECEIVED queued; outgoing: FULFILLED queued */
	/* Outgoing, in no commitment any more (its removal irrevocable) but named by a
	 * queued effect (its HTLC_FAILED or HTLC_FULFILLED event): freed once pins is 0. */
	bool zombie;
	uint16_t pins;  /* queued effects that name it (not persisted) */
	bool must_fail; /* incoming: over the dust exposure limit */
	uint8_t preimage[32];
	uint16_t failure_code;
	uint8_t sha_onion[32];
	uint16_t blob_len;
	/* The onion while it may be needed (outgoing: until the add is acked; incoming:
	 * until the node resolves it), then the failure reason. */
	uint8_t blob[AL_CHAN_ONION_LEN];
};

struct chan_fee {
	uint32_t rate;
	bool ours;
	uint64_t at[2];
	uint64_t seq;
};

/* What one side announced in open_channel / accept_channel. */
struct chan_side {
	al_sat dust_limit;      /* applies to this side's commitment */
	al_msat max_in_flight;  /* of HTLCs the other side offers it */
	al_sat reserve;         /* the other side must keep this much */
	al_msat htlc_minimum;   /* smallest HTLC it accepts */
	uint16_t to_self_delay; /* imposed on the other side's outputs */
	uint16_t max_accepted;  /* HTLCs the other side may offer it */
	al_pubkey funding;
	al_ln_basepoints bp;
};

/* A queued effect; its bytes are made when it is delivered. */
struct chan_fx {
	uint8_t kind;   /* AL_CHAN_FX_* */
	uint8_t sub;    /* SEND: FXM_*; EVENT: event kind; PERSIST: persist kind; tx kind */
	bool delivered; /* PERSIST: handed to the node, waiting for al_chan_persisted */
	uint64_t id;    /* PERSIST */
	uint64_t arg;   /* HTLC id, commitment number, feerate, fee */
	al_err err;
};

/* Messages a SEND effect makes. */
enum {
	FXM_OPEN = 1,
	FXM_ACCEPT,
	FXM_FUNDING_CREATED,
	FXM_FUNDING_SIGNED,
	FXM_CHANNEL_READY,
	FXM_ADD,
	FXM_FULFILL,
	FXM_FAIL,
	FXM_FAIL_MALFORMED,
	FXM_FEE,
	FXM_COMMIT,
	FXM_REVOKE,
	FXM_REESTABLISH,
	FXM_SHUTDOWN,
	FXM_CLOSING_SIGNED,
	FXM_ERROR,
	FXM_WARNING,
};

/* The closing_signed negotiation. */
struct chan_close {
	uint32_t feerate; /* ours, for the fee we propose */
	bool sent, received, done;
	uint64_t our_fee, their_fee;
	al_sat our_min, our_max;
	bool their_range;
	al_sat their_min, their_max;
	al_ecdsa_sig our_sig, their_sig;
	uint8_t variant;   /* which closing transaction their signature covers (CLOSE_V_*) */
	bool final_resent; /* done, and the final closing_signed went again (this connection) */
};

/* The closing transaction's variants (BOLT #3: each signer drops outputs below its
 * own dust limit, and "MAY eliminate its own output"). */
enum { CLOSE_V_OURS = 0, CLOSE_V_THEIRS = 1, CLOSE_V_NO_THEIRS = 2 };

struct al_chan {
	al_chan_env *env;
	al_chan_config cfg;
	al_signer *signer;
	uint32_t state;
	al_err err; /* sticky */
	uint8_t open_step;
	al_features peer_features;
	al_ln_chan_type type;
	bool announce;
	uint8_t temp_id[32];
	uint8_t channel_id[32];
	al_sat funding;
	al_msat push;
	uint8_t funding_txid[32];
	uint16_t funding_vout;
	uint32_t minimum_depth;
	uint32_t depth;
	uint64_t scid;
	uint32_t height;
	size_t funding_tx_len; /* 0 once broadcast or when inbound */
	uint8_t funding_tx[AL_CHAN_MAX_FUNDING_TX];
	struct chan_side local, remote;
	/* Commitments. */
	uint64_t local_next, local_revoked, remote_next, remote_revoked;
	struct {
		bool valid;
		uint64_t n;
		al_pubkey p;
	} rpoint[3];                     /* the peer's per-commitment points we know */
	al_msat base_local, base_remote; /* balances without the HTLCs in slots */
	uint32_t base_feerate;
	struct chan_fee fees[MAX_FEE_UPDATES];
	size_t n_fees;
	uint64_t next_out_id, next_in_id;
	uint64_t seq;             /* our messages, in sending order */
	uint64_t cs_seq, raa_seq; /* when the last commitment_signed / revoke_and_ack went */
	al_ecdsa_sig local_sig;   /* the peer's signature on our latest commitment */
	al_ecdsa_sig *local_htlc_sigs;
	size_t n_local_htlc_sigs;
	al_ecdsa_sig cs_sig; /* our last commitment_signed (or funding_created/signed) */
	al_ecdsa_sig *cs_htlc_sigs;
	size_t n_cs_htlc_sigs;
	uint8_t raa_secret[32]; /* the last per_commitment_secret we revealed */
	al_shachain secrets;    /* every one the peer revealed */
	/* Closing. */
	uint8_t shut_local[AL_CHAN_MAX_SCRIPT], shut_remote[AL_CHAN_MAX_SCRIPT];
	size_t shut_local_len, shut_remote_len;
	bool shutdown_wanted;
	struct chan_close close;
	al_ecdsa_sig force_sig; /* ours on our commitment, when it was broadcast */
	uint8_t closing_txid[32];
	uint8_t spent_txid[32];
	/* Reestablish we sent. */
	uint64_t rs_next_commitment, rs_next_revocation;
	/* HTLC slots. */
	struct chan_htlc *out, *in; /* cfg.max_htlcs each */
	/* Effects: a FIFO; the current input's effects start at stage. */
	struct chan_fx *fx;
	size_t fx_cap, fx_head, fx_n, stage;
	bool dirty; /* the current input changed the record */
	uint64_t persist_id;
};

/* Effects one input may queue, at most (retransmission of every slot, with room for
 * failing the channel on top). */
#define FX_RESERVE(ch) (2 * (size_t)(ch)->cfg.max_htlcs + 24)

/* --- channel.c ---------------------------------------------------------------- */

/* Give back the scratch memory of the last effect delivered. */
void al_chan__release_out(al_chan *ch);
/* Start an input: AL_E_CHAN_BUSY unless the queue has room for FX_RESERVE. */
al_err al_chan__begin(al_chan *ch);
/* End an input: a PERSIST of the record goes in front of its effects if it changed
 * the record. */
void al_chan__commit(al_chan *ch);
/* Drop the current input's effects (a refusal). */
void al_chan__abort(al_chan *ch);
void al_chan__push(al_chan *ch, uint8_t kind, uint8_t sub, uint64_t arg);
void al_chan__send(al_chan *ch, uint8_t msg, uint64_t arg);
/* A PERSIST effect of its own (a monitor entry). */
void al_chan__push_persist(al_chan *ch, uint8_t kind, uint64_t arg);
void al_chan__event(al_chan *ch, al_chan_event_kind ev, uint64_t arg);
/* A `warning` saying `why` (the channel goes on). */
void al_chan__send_warning(al_chan *ch, al_err why);
/* The peer violated the protocol (or we must go on-chain): sticky error, `error` to
 * the peer, our commitment broadcast if funded (unless data loss), event. */
void al_chan__fail(al_chan *ch, al_err reason);
/* Broadcast our latest commitment (the signer signs it for good). */
void al_chan__go_onchain(al_chan *ch);
bool al_chan__ready_for_updates(const al_chan *ch);
struct chan_htlc *al_chan__find(al_chan *ch, bool out, uint64_t id);
struct chan_htlc *al_chan__free_slot(al_chan *ch, bool out);
size_t al_chan__used_slots(const al_chan *ch, bool out);

/* --- channel_fx.c ---------------------------------------------------------------- */

/* Make the effect's bytes (in the env's scratch arena). A failure to make them (an
 * arena too small) fails the channel and delivers AL_CHAN_EV_FAILED instead. False
 * for an effect that has become moot (an incoming HTLC's event after the HTLC was
 * resolved): nothing to deliver. */
bool al_chan__materialize(al_chan *ch, const struct chan_fx *e, al_chan_fx *fx);
/* An HTLC slot by id, zombies included. */
struct chan_htlc *al_chan__slot(al_chan *ch, bool out, uint64_t id);
/* The outgoing slot an effect names, if any (update_add_htlc, an outgoing HTLC's
 * event). */
struct chan_htlc *al_chan__pinned_slot(al_chan *ch, const struct chan_fx *e);
/* One effect naming a slot is gone: a zombie with no effect left is freed. */
void al_chan__unpin(al_chan *ch, const struct chan_fx *e);

/* --- channel_update.c: views and checks ----------------------------------------- */

/* A commitment's content from its owner's point of view. */
struct chan_view {
	al_msat owner, other;         /* balances before fees */
	size_t n_offered, n_received; /* by the owner */
	al_msat offered, received;
	uint32_t feerate;
};

bool al_chan__in_commit(const struct chan_htlc *h, int side, uint64_t n);
/* Side `side`'s commitment n. AL_E_CHANNEL_BALANCE if the books do not add up. */
AL_WARN_UNUSED al_err al_chan__view(const al_chan *ch, int side, uint64_t n, struct chan_view *v);
/* The feerate of side's commitment n. */
uint32_t al_chan__feerate(const al_chan *ch, int side, uint64_t n);
/* The funder's fee (with anchors) for a commitment of side at feerate with `view`'s
 * HTLCs plus `extra` more untrimmed ones. */
AL_WARN_UNUSED al_err al_chan__fee(const al_chan *ch, int side, const struct chan_view *v,
                                   uint32_t feerate, size_t extra, al_msat *fee);
/* Does a pending update of ours await the peer's commitment (a commitment_signed
 * has something to sign)? */
bool al_chan__pending_for_remote(const al_chan *ch);
bool al_chan__our_updates_unsigned(const al_chan *ch);
/* Any HTLC in any commitment, or an update in flight? (closing waits for none) */
bool al_chan__quiet(const al_chan *ch);
/* Messages from the peer: update_add_htlc, update_fulfill_htlc, update_fail_htlc,
 * update_fail_malformed_htlc, update_fee. AL_OK or the violation. */
AL_WARN_UNUSED al_err al_chan__recv_update(al_chan *ch, uint16_t type, const union al_wire_any *u);
/* Irrevocably committed HTLCs: events, and slots freed. */
void al_chan__settle(al_chan *ch);

/* --- channel_commit.c ---------------------------------------------------------------- */

/* Build side's commitment n (with the point of that commitment). */
AL_WARN_UNUSED al_err al_chan__build(const al_chan *ch, al_arena *a, int side, uint64_t n,
                                     al_ln_commit *c);
AL_WARN_UNUSED al_err al_chan__remote_point(const al_chan *ch, uint64_t n, al_pubkey *p);
void al_chan__set_remote_point(al_chan *ch, uint64_t n, const al_pubkey *p);
/* Sign the peer's next commitment and queue commitment_signed. */
AL_WARN_UNUSED al_err al_chan__send_commit(al_chan *ch);
bool al_chan__can_sign(const al_chan *ch);
/* If the config says so and something is pending, sign it; then the shutdown and
 * closing steps that wait for a quiet channel. */
void al_chan__progress(al_chan *ch);
AL_WARN_UNUSED al_err al_chan__recv_commit(al_chan *ch, const struct al_wire_commitment_signed *m);
AL_WARN_UNUSED al_err al_chan__recv_revoke(al_chan *ch, const struct al_wire_revoke_and_ack *m);
/* Write the monitor entry of the peer's commitment n. */
AL_WARN_UNUSED al_err al_chan__monitor(const al_chan *ch, al_arena *a, uint64_t n, al_wb *w);

/* --- channel_open.c ------------------------------------------------------------------ */

AL_WARN_UNUSED al_err al_chan__recv_open(al_chan *ch, uint16_t type, const union al_wire_any *u);
void al_chan__write_open(const al_chan *ch, al_wb *w, uint8_t msg);
/* The funding output's witness script and P2WSH. */
void al_chan__funding_script(const al_chan *ch, al_wb *w);
void al_chan__funding_spk(const al_chan *ch, al_wb *w);
/* Tell the signer what it checks transactions against (the funding and the peer). */
AL_WARN_UNUSED al_err al_chan__signer_ready(al_chan *ch);
/* Send channel_ready once the funding is deep enough. */
void al_chan__maybe_ready(al_chan *ch);
/* BOLT #2 channel_type bits of our type. */
void al_chan__type_bits(al_ln_chan_type type, al_features *f);

/* --- channel_reest.c ----------------------------------------------------------------- */

/* Queue channel_reestablish (its numbers kept for the checks). */
void al_chan__send_reestablish(al_chan *ch);
AL_WARN_UNUSED al_err al_chan__recv_reestablish(al_chan *ch,
                                                const struct al_wire_channel_reestablish *m);
/* Reverse the peer's uncommitted updates (BOLT #2, upon disconnection). */
void al_chan__revert_remote_unsigned(al_chan *ch);

/* --- channel_close.c ------------------------------------------------------------------ */

bool al_chan__script_ok(const al_chan *ch, const uint8_t *s, size_t len);
AL_WARN_UNUSED al_err al_chan__recv_shutdown(al_chan *ch, const struct al_wire_shutdown *m);
AL_WARN_UNUSED al_err al_chan__recv_closing(al_chan *ch, const struct al_wire_closing_signed *m);
/* Send shutdown once our updates are signed; open the negotiation once quiet. */
void al_chan__close_progress(al_chan *ch);
/* The closing transaction at `fee` in `variant`, unsigned or (sigs given) signed. */
AL_WARN_UNUSED al_err al_chan__closing_tx(const al_chan *ch, al_arena *a, uint64_t fee,
                                          uint8_t variant, al_tx *tx);
AL_WARN_UNUSED al_err al_chan__closing_signed_tx(const al_chan *ch, al_arena *a, al_tx *tx);

/* --- channel_rec.c -------------------------------------------------------------------- */

void al_chan__layout(al_chan *ch, void *mem, size_t len);
size_t al_chan__mem_size(const al_chan_config *cfg);

#endif
