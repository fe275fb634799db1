/* BOLT #5 on-chain enforcement for one channel, sans-I/O: from the moment the channel
 * goes on-chain (our commitment broadcast, or any transaction seen spending the
 * funding output) until every output is resolved to the wallet or irrevocably lost
 * to the counterparty.
 *
 * In the shape of src/ln/noise.c and src/chain/sync.c: caller-owned memory of a fixed
 * size (al_onchain_size), a state bitmask, a sticky error, and every input staged
 * (parsed, classified, checked) before it is applied in one place. Outputs are
 * effects, taken in order with al_onchain_next_effect. They are derived from the
 * state, not queued: whatever the engine wants done (watch an outpoint, broadcast a
 * claim, fund it, report an event) comes out until it is done, so nothing is lost
 * across a restart and no queue can overflow.
 *
 * Inputs:
 *   setup      al_onchain_init from the channel's data (ln/channel_onchain.h makes it
 *              from an al_chan): its static parameters, our latest commitment with
 *              the counterparty's signatures, the per-commitment secrets the
 *              counterparty revealed, the preimages known, the wallet's script.
 *   chain      al_onchain_tx: a transaction spending an outpoint the engine watches
 *              (or one of its own broadcasts), with its confirmation height (0:
 *              unconfirmed, also when a reorganisation removed its confirmation). A
 *              transaction spending the funding output comes with the channel's
 *              monitor entry of its commitment number (al_onchain_commitment_number
 *              decodes it) when there is one. al_onchain_tx_gone: a transaction the
 *              chain no longer has (dropped or replaced, unconfirmed).
 *              al_onchain_block: the tip height and the feerate to aim for, after
 *              every sync step (an output is claimed only once a sync step ran after
 *              its WATCH: its spends in the chain are known).
 *   node       al_onchain_preimage (learned off-chain), al_onchain_wallet_inputs and
 *              al_onchain_wallet_signed (fees from the wallet, anchor channels),
 *              al_onchain_persisted.
 *
 * Outputs (al_onchain_next_effect), each only once the state that asks for it is
 * durable:
 *   PERSIST    write al_onchain_save's record, then al_onchain_persisted(fx.id);
 *              nothing else comes out meanwhile ("persist before broadcast": a
 *              restart knows every transaction the engine ever released).
 *   WATCH      report every transaction spending outpoint (fx.txid, fx.vout).
 *   BROADCAST  a transaction (fx.data) for claim fx.claim, replacing fx.prev_txid
 *              if fx.replaces (BIP 125); the node also watches fx.txid. Repeated every
 *              block until confirmed, at a higher feerate when the engine bumps it.
 *   FUND       claim fx.claim needs wallet inputs worth at least fx.amount (fees of
 *              an anchor CPFP or of a zero-fee HTLC transaction at fx.feerate):
 *              answer al_onchain_wallet_inputs (none: it asks again next block).
 *   SIGN       the wallet must sign its inputs of fx.data (ours are signed) and hand
 *              the transaction back with al_onchain_wallet_signed; it is then
 *              broadcast.
 *   EVENT      al_onchain_event_kind.
 * Pointers in an effect stay valid until the next call into the engine or another
 * engine of the same al_onchain_env.
 *
 * Fee policy (numbers from LDK, lightning/src/chain/package.rs and
 * chaininterface.rs, and Core Lightning, lightningd/anchorspend.c):
 *   - a claim paid from what it sweeps starts at the block's feerate, and while
 *     unconfirmed is replaced every block at max(feerate, previous * 1.25) (LDK
 *     feerate_bump, FeerateStrategy::ForceBump), each replacement paying at least
 *     the previous fee plus 253 sat per 1000 weight units (BIP 125 rules 3 and 4;
 *     LDK INCREMENTAL_RELAY_FEE_SAT_PER_1000_WEIGHT); its fee never exceeds
 *     max_fee_permille of what it sweeps (500: LDK compute_fee_from_spent_amounts
 *     "sweep half of the input amounts") nor max_feerate, and its output stays above
 *     the destination's dust threshold; an output that cannot be swept so is left
 *     (resolved as dust);
 *   - under option_anchors our commitment is pushed by a child spending our anchor and
 *     wallet inputs when its own feerate is below the target (BOLT #5 "MUST spend any
 *     `to_local_anchor` output, providing sufficient fees"), and zero-fee HTLC
 *     transactions carry wallet inputs ("MUST combine it with inputs contributing
 *     sufficient fee"); the wallet pays at most the value at stake (Core Lightning:
 *     "Is it even worth spending this fee") and max_feerate.
 *
 * Depth: a resolution is final at cfg.final_depth confirmations (6: LDK
 * ANTI_REORG_DELAY; BOLT #5's "irrevocably resolved" takes 100, a node may set that);
 * before, a reorganisation puts it back and the engine acts again.
 *
 * Memory: al_onchain_size(cfg) bytes per engine, fixed by cfg.max_htlcs and
 * cfg.max_wallet_inputs; one scratch arena (al_onchain_scratch_size) per node, shared
 * by its engines one call at a time; the record is at most al_onchain_record_max. */
#ifndef ALIGHT_LN_ONCHAIN_H
#define ALIGHT_LN_ONCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "ln/commit.h"
#include "ln/shachain.h"
#include "ln/signer.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/err.h"

/* LDK ANTI_REORG_DELAY. */
#define AL_ONCHAIN_FINAL_DEPTH 6
/* LDK FEERATE_FLOOR_SATS_PER_KW and INCREMENTAL_RELAY_FEE_SAT_PER_1000_WEIGHT. */
#define AL_ONCHAIN_MIN_FEERATE     253
#define AL_ONCHAIN_INCREMENTAL_FEE 253
/* Wallet inputs one claim may hold. */
#define AL_ONCHAIN_MAX_CLAIM_INPUTS 4

typedef struct al_onchain_config {
	uint16_t max_htlcs;         /* HTLC outputs of one commitment, both directions */
	uint16_t max_wallet_inputs; /* wallet UTXOs held at once for anchor fees */
	uint32_t final_depth;       /* >= 1 */
	uint32_t min_feerate;       /* per kw, >= 253 */
	uint32_t max_feerate;       /* per kw, the most any claim is made at */
	uint32_t max_fee_permille;  /* the most of a sweep's value paid in fees, 1..1000 */
} al_onchain_config;

/* max_htlcs 2 * 483, 16 wallet inputs, depth 6, feerates 253 .. 250,000 per kw
 * (1,000 sat/vB), 500 permille. */
void al_onchain_config_default(al_onchain_config *cfg);
AL_WARN_UNUSED al_err al_onchain_config_check(const al_onchain_config *cfg);

/* What the channels of one node share: the curve context and the scratch arena. */
typedef struct al_onchain_env {
	const al_secp *secp;
	al_arena *scratch;
} al_onchain_env;

size_t al_onchain_size(const al_onchain_config *cfg);
size_t al_onchain_scratch_size(const al_onchain_config *cfg);
size_t al_onchain_record_max(const al_onchain_config *cfg);

/* A preimage the node knows. */
typedef struct al_onchain_preimage_entry {
	uint8_t preimage[32];
} al_onchain_preimage_entry;

/* The channel, as the engine needs it. "holder" is us, "counterparty" the peer. */
typedef struct al_onchain_setup {
	uint8_t channel_id[32];
	al_ln_chan_type type;
	bool holder_is_funder;
	uint8_t funding_txid[32];
	uint32_t funding_vout;
	al_sat funding;
	al_pubkey holder_funding, counterparty_funding;
	al_ln_basepoints holder_bp, counterparty_bp;
	/* to_self_delay we imposed (on the counterparty's outputs) and the one imposed on
	 * ours; each side's dust_limit_satoshis. */
	uint16_t holder_selected_delay, counterparty_selected_delay;
	al_sat holder_dust, counterparty_dust;
	/* Our latest commitment: its number, balances (our view, before fees), feerate,
	 * HTLCs (offered = by us), the counterparty's signatures (one per untrimmed HTLC
	 * in output order), and whether we broadcast it (force close). */
	uint64_t holder_number;
	al_msat holder_to_local, holder_to_remote;
	uint32_t holder_feerate;
	const al_ln_htlc *holder_htlcs;
	size_t n_holder_htlcs;
	al_ecdsa_sig holder_sig;
	const al_ecdsa_sig *holder_htlc_sigs;
	size_t n_holder_htlc_sigs;
	bool holder_broadcast;
	/* The counterparty's commitments below counterparty_revoked are revoked (their
	 * secrets in `secrets`); those below counterparty_next were signed by us. */
	uint64_t counterparty_revoked, counterparty_next;
	const al_shachain *secrets;
	const al_onchain_preimage_entry *preimages;
	size_t n_preimages;
	/* Where every claim pays: the wallet's script (the channel's shutdown script). */
	const uint8_t *dest;
	size_t dest_len;
	/* Our cooperative-close script, to count what a mutual close paid us (may be
	 * empty). */
	const uint8_t *shutdown;
	size_t shutdown_len;
} al_onchain_setup;

typedef struct al_onchain al_onchain;

/* An engine for the channel at chain height `height`: watches the funding output,
 * and if setup->holder_broadcast rebroadcasts our commitment (and fee-bumps it with
 * anchors) until a commitment confirms. The signer is the channel's (its policy
 * state loaded); it is given setup->dest as its sweep destination. Errors: AL_E_ARG
 * (config, memory, setup), AL_E_ONCHAIN_FULL (more HTLCs or preimages than
 * cfg.max_htlcs), AL_E_ONCHAIN_SIGN_DEST (the signer has another destination), the
 * errors of building our commitment. */
AL_WARN_UNUSED al_err al_onchain_init(al_onchain **out, void *mem, size_t len, al_onchain_env *env,
                                      const al_onchain_config *cfg, al_signer *signer,
                                      const al_onchain_setup *setup, uint32_t height);
/* Wipe the engine's memory (the secrets it holds). */
void al_onchain_clear(al_onchain *o);

/* --- the chain -------------------------------------------------------------------- */

/* If `raw` is a transaction spending the funding output shaped as a BOLT #3
 * commitment, its commitment number (either side's: the obscurer is shared). */
bool al_onchain_commitment_number(const al_onchain *o, const uint8_t *raw, size_t len,
                                  uint64_t *number);
/* A transaction spending an outpoint the engine watches (or a transaction of its own),
 * at `height` (0: unconfirmed). Reported again whenever its height changes. For a
 * spend of the funding output, `monitor` is the channel's monitor entry for its
 * commitment number (NULL when there is none). Refusals (nothing changes):
 * AL_E_ONCHAIN_UNRELATED, AL_E_ONCHAIN_MONITOR (a malformed entry, or one naming this
 * transaction that does not rebuild it; an entry of another transaction of the same
 * number, our own commitment's, is ignored), AL_E_ONCHAIN_CONFLICT (an unconfirmed
 * spend of an outpoint a confirmed transaction spends), al_tx_parse's errors,
 * AL_E_ONCHAIN_FAILED. */
AL_WARN_UNUSED al_err al_onchain_tx(al_onchain *o, const uint8_t *raw, size_t len, uint32_t height,
                                    const uint8_t *monitor, size_t monitor_len);
/* An unconfirmed transaction the chain dropped (evicted or replaced): what it spent
 * is unspent again, what it created is gone. AL_E_ONCHAIN_UNRELATED if unknown,
 * AL_E_ONCHAIN_STATE if it is confirmed (report its height 0 first). */
AL_WARN_UNUSED al_err al_onchain_tx_gone(al_onchain *o, const uint8_t txid[32]);
/* The tip is at `height` (any direction) and claims should aim for `feerate_per_kw`
 * (raised to cfg.min_feerate, capped at cfg.max_feerate). Timelocks are checked,
 * unconfirmed claims rebroadcast or replaced at a higher feerate, final depths
 * reached. */
AL_WARN_UNUSED al_err al_onchain_block(al_onchain *o, uint32_t height, uint32_t feerate_per_kw);
/* A preimage learned off-chain: HTLCs it unlocks are claimed. AL_E_ONCHAIN_FULL when
 * cfg.max_htlcs preimages are held. */
AL_WARN_UNUSED al_err al_onchain_preimage(al_onchain *o, const uint8_t preimage[32]);

/* --- effects ------------------------------------------------------------------------ */

typedef enum al_onchain_fx_kind {
	AL_ONCHAIN_FX_NONE = 0,
	AL_ONCHAIN_FX_PERSIST = 1,
	AL_ONCHAIN_FX_WATCH = 2,
	AL_ONCHAIN_FX_BROADCAST = 3,
	AL_ONCHAIN_FX_FUND = 4,
	AL_ONCHAIN_FX_SIGN = 5,
	AL_ONCHAIN_FX_EVENT = 6,
} al_onchain_fx_kind;

/* How the funding output was spent. */
typedef enum al_onchain_spend_kind {
	AL_ONCHAIN_SPEND_NONE = 0,
	AL_ONCHAIN_SPEND_HOLDER = 1,        /* our latest commitment */
	AL_ONCHAIN_SPEND_COUNTERPARTY = 2,  /* an unrevoked counterparty commitment */
	AL_ONCHAIN_SPEND_REVOKED = 3,       /* a revoked counterparty commitment */
	AL_ONCHAIN_SPEND_MUTUAL = 4,        /* a closing transaction */
	AL_ONCHAIN_SPEND_UNKNOWN_CP = 5,    /* a counterparty commitment we hold no data of */
	AL_ONCHAIN_SPEND_HOLDER_REVOKED = 6 /* a revoked commitment of ours: lost to them */
} al_onchain_spend_kind;

/* What an output is, and how the engine resolves it. */
typedef enum al_onchain_out_kind {
	AL_ONCHAIN_OUT_TO_LOCAL = 1,     /* our commitment: after to_self_delay */
	AL_ONCHAIN_OUT_HTLC_TIMEOUT = 2, /* our commitment, offered: HTLC-timeout */
	AL_ONCHAIN_OUT_HTLC_SUCCESS = 3, /* our commitment, received: HTLC-success */
	AL_ONCHAIN_OUT_SECOND = 4,       /* of our HTLC-timeout/-success: after the delay */
	AL_ONCHAIN_OUT_ANCHOR = 5,       /* our anchor on our commitment: CPFP */
	AL_ONCHAIN_OUT_TO_REMOTE = 6,    /* ours on their commitment */
	AL_ONCHAIN_OUT_CP_TIMEOUT = 7,   /* their commitment, offered by us: after expiry */
	AL_ONCHAIN_OUT_CP_SUCCESS = 8,   /* their commitment, offered by them: preimage */
	AL_ONCHAIN_OUT_REVOKED_TO_LOCAL = 9,
	AL_ONCHAIN_OUT_REVOKED_HTLC = 10,
	AL_ONCHAIN_OUT_REVOKED_SECOND = 11, /* of their HTLC transaction on a revoked one */
} al_onchain_out_kind;

/* How an output ended. */
typedef enum al_onchain_how {
	AL_ONCHAIN_HOW_OPEN = 0,    /* not resolved yet */
	AL_ONCHAIN_HOW_OURS = 1,    /* spent by a claim of ours */
	AL_ONCHAIN_HOW_THEIRS = 2,  /* spent by the counterparty */
	AL_ONCHAIN_HOW_DUST = 3,    /* not worth a claim at the fee policy */
	AL_ONCHAIN_HOW_EXPIRED = 4, /* an HTLC whose preimage never came: theirs after expiry */
} al_onchain_how;

typedef enum al_onchain_claim_kind {
	AL_ONCHAIN_CLAIM_COMMIT = 1,  /* our commitment */
	AL_ONCHAIN_CLAIM_CPFP = 2,    /* our anchor and wallet inputs */
	AL_ONCHAIN_CLAIM_SWEEP = 3,   /* outputs of ours, fee from their value */
	AL_ONCHAIN_CLAIM_JUSTICE = 4, /* revoked outputs, fee from their value */
	AL_ONCHAIN_CLAIM_HTLC = 5,    /* our HTLC-timeout/-success transaction */
} al_onchain_claim_kind;

typedef enum al_onchain_event_kind {
	/* The funding output's spender is classified: fx.spend, fx.txid, fx.number. */
	AL_ONCHAIN_EV_SPEND = 1,
	/* A transaction of ours reached final depth: fx.txid, fx.amount (channel outputs
	 * it spent), fx.wallet_in, fx.to_wallet, fx.fee (fx.amount + fx.wallet_in =
	 * fx.to_wallet + fx.fee + what it passed on to a second-stage output). For our
	 * commitment, fx.fee is its fee and fx.amount is 0. */
	AL_ONCHAIN_EV_CLAIMED = 2,
	/* An output is resolved for good: fx.txid/fx.vout, fx.out, fx.how, fx.amount. */
	AL_ONCHAIN_EV_RESOLVED = 3,
	/* An HTLC we offered was fulfilled on-chain (fx.hash, fx.preimage, fx.amount_msat):
	 * as soon as the preimage is seen. */
	AL_ONCHAIN_EV_PREIMAGE = 4,
	/* An HTLC we offered is failed for good (fx.hash, fx.amount_msat,
	 * fx.cltv_expiry): timed out at final depth, or absent from (trimmed in) the
	 * commitment at final depth (BOLT #5 "MUST fail the corresponding incoming
	 * HTLC"). */
	AL_ONCHAIN_EV_HTLC_FAILED = 5,
	/* Everything is resolved at final depth: the engine may be forgotten. */
	AL_ONCHAIN_EV_DONE = 6,
	/* Funds may be lost (BOLT #5 "MUST warn the user"): a spend the engine cannot
	 * resolve (fx.spend UNKNOWN_CP without HTLC data, HOLDER_REVOKED, or an HTLC
	 * output it cannot identify). fx.err names it. */
	AL_ONCHAIN_EV_WARNING = 7,
	/* The sticky error (fx.err). */
	AL_ONCHAIN_EV_FAILED = 8,
} al_onchain_event_kind;

typedef struct al_onchain_fx {
	al_onchain_fx_kind kind;
	uint64_t id;    /* PERSIST */
	uint32_t claim; /* BROADCAST, FUND, SIGN */
	al_onchain_claim_kind claim_kind;
	const uint8_t *data; /* BROADCAST, SIGN: the transaction */
	size_t len;
	uint8_t txid[32]; /* WATCH outpoint, BROADCAST, events */
	uint32_t vout;
	bool replaces;
	uint8_t prev_txid[32];
	al_onchain_event_kind event;
	al_onchain_spend_kind spend;
	al_onchain_out_kind out;
	al_onchain_how how;
	uint64_t number;
	uint32_t feerate; /* BROADCAST, FUND: per kw */
	al_sat amount, wallet_in, to_wallet, fee;
	al_msat amount_msat;
	uint8_t hash[32], preimage[32];
	uint32_t cltv_expiry;
	al_err err;
} al_onchain_fx;

/* The next effect, false when there is none (or a PERSIST is outstanding). */
bool al_onchain_next_effect(al_onchain *o, al_onchain_fx *fx);
/* The PERSIST `id` is durable. AL_E_ARG if it is not the outstanding one. */
AL_WARN_UNUSED al_err al_onchain_persisted(al_onchain *o, uint64_t id);

/* A wallet UTXO for a FUND request: P2WPKH only (the wallet is BIP 84). */
typedef struct al_onchain_utxo {
	uint8_t txid[32];
	uint32_t vout;
	al_sat amount;
	uint8_t script[22];
} al_onchain_utxo;

/* Answer FUND for claim `claim` with n UTXOs (n 0: none now). AL_E_ONCHAIN_CLAIM if
 * the claim asked for nothing, AL_E_ONCHAIN_INPUT (not P2WPKH, used already, more
 * than AL_ONCHAIN_MAX_CLAIM_INPUTS or cfg.max_wallet_inputs). */
AL_WARN_UNUSED al_err al_onchain_wallet_inputs(al_onchain *o, uint32_t claim,
                                               const al_onchain_utxo *u, size_t n);
/* True while a claim holds wallet UTXO txid:vout as an input (given by
 * al_onchain_wallet_inputs): the wallet must not spend it elsewhere, nor give it to
 * another engine. */
bool al_onchain_holds_input(const al_onchain *o, const uint8_t txid[32], uint32_t vout);
/* Answer SIGN: the transaction of the SIGN effect with the wallet's witnesses. Its txid
 * must be the one asked and every wallet input must verify under the script
 * interpreter (AL_E_ONCHAIN_WITNESS); AL_E_ONCHAIN_CLAIM if no SIGN is outstanding
 * for the claim. */
AL_WARN_UNUSED al_err al_onchain_wallet_signed(al_onchain *o, uint32_t claim, const uint8_t *raw,
                                               size_t len);

/* --- record -------------------------------------------------------------------------- */

/* Write the record (at most al_onchain_record_max bytes; AL_E_BUFSIZE with *len the
 * size needed). */
AL_WARN_UNUSED al_err al_onchain_save(const al_onchain *o, uint8_t *buf, size_t cap, size_t *len);
/* An engine from its record, with the channel's signer (its policy state loaded).
 * Claims are rebroadcast, outpoints watched again. AL_E_ONCHAIN_RECORD,
 * AL_E_ONCHAIN_RECORD_VERSION, AL_E_TRUNCATED, AL_E_ARG. */
AL_WARN_UNUSED al_err al_onchain_load(al_onchain **out, void *mem, size_t len, al_onchain_env *env,
                                      const al_onchain_config *cfg, al_signer *signer,
                                      const uint8_t *rec, size_t rec_len);

/* --- inspection ------------------------------------------------------------------------ */

#define AL_ONCHAIN_ST_SPENT      0x01u /* a spender of the funding output is known */
#define AL_ONCHAIN_ST_CONFIRMED  0x02u /* ... and confirmed */
#define AL_ONCHAIN_ST_DONE       0x04u /* everything resolved at final depth */
#define AL_ONCHAIN_ST_FAILED     0x08u /* sticky error */
#define AL_ONCHAIN_ST_PERSISTING 0x10u /* a PERSIST is outstanding */

uint32_t al_onchain_state(const al_onchain *o);
al_err al_onchain_error(const al_onchain *o);

typedef struct al_onchain_info {
	al_onchain_spend_kind spend;
	uint8_t spend_txid[32];
	uint32_t spend_height;
	uint64_t number;
	uint32_t height, feerate;
	size_t outputs, claims, wallet_inputs;
} al_onchain_info;

void al_onchain_get_info(const al_onchain *o, al_onchain_info *info);

typedef struct al_onchain_output {
	uint8_t txid[32];
	uint32_t vout;
	al_sat amount;
	al_onchain_out_kind kind;
	al_onchain_how how; /* OPEN until final */
	bool spent;
	uint8_t spender[32];
	uint32_t spend_height;
	bool in_claim;
	uint32_t claim;
	const al_ln_htlc *htlc; /* HTLC kinds (of the commitment's owner) */
} al_onchain_output;

size_t al_onchain_output_count(const al_onchain *o);
/* Output slot i (false for a free slot). */
bool al_onchain_output_at(const al_onchain *o, size_t i, al_onchain_output *out);

typedef struct al_onchain_claim {
	al_onchain_claim_kind kind;
	uint32_t feerate;
	al_sat fee;
	uint8_t txid[32]; /* the current version (zero when none made) */
	uint32_t made_at;
	size_t wallet_inputs;
} al_onchain_claim;

size_t al_onchain_claim_count(const al_onchain *o);
bool al_onchain_claim_at(const al_onchain *o, size_t i, al_onchain_claim *out);

#endif
