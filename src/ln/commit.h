/* BOLT #3 commitment transactions for option_static_remotekey and option_anchors
 * (option_anchors_zero_fee_htlc_tx) channels: outputs, fees, trimming, BIP 69+CLTV
 * ordering, signing of the funding input and its witness.
 *
 * "Local" always means the owner of the commitment transaction being built (to sign
 * the peer's commitment, pass the peer's view: its balances, its dust limit, the
 * delay we impose on it, and the keys derived for its per_commitment_point).
 * Everything is allocated from the caller's arena. */
#ifndef ALIGHT_LN_COMMIT_H
#define ALIGHT_LN_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "crypto/secp.h"
#include "ln/keys.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/err.h"

typedef enum al_ln_chan_type {
	AL_LN_CHAN_STATIC_REMOTEKEY, /* option_static_remotekey */
	AL_LN_CHAN_ANCHORS,          /* option_anchors (zero-fee HTLC transactions) */
} al_ln_chan_type;

/* BOLT #2: max_accepted_htlcs is at most 483 in each direction. */
#define AL_LN_MAX_HTLCS (2 * 483)
/* BOLT #2: "MUST set `dust_limit_satoshis` greater than or equal to 354 satoshis". */
#define AL_LN_MIN_DUST_LIMIT 354
/* BOLT #3: "The amount of the output is fixed at 330 sats". */
#define AL_LN_ANCHOR_SAT 330
/* Bitcoin locktimes at or above this are timestamps; cltv_expiry is a block height. */
#define AL_LN_LOCKTIME_THRESHOLD 500000000u

typedef struct al_ln_htlc {
	bool offered; /* offered by the commitment's owner (else received by it) */
	al_msat amount;
	uint8_t payment_hash[32];
	uint32_t cltv_expiry; /* block height, < AL_LN_LOCKTIME_THRESHOLD */
} al_ln_htlc;

typedef struct al_ln_commit_params {
	al_ln_chan_type type;
	uint8_t funding_txid[32]; /* internal byte order */
	uint32_t funding_vout;
	al_sat funding_amount;
	al_pubkey local_funding, remote_funding;
	uint64_t commitment_number; /* < 2^48 */
	uint64_t obscurer;          /* al_ln_commitment_obscurer() */
	bool local_is_funder;
	/* Balances after in-flight HTLCs, before the fee and the anchors: with every HTLC
	 * they must add up to the funding amount. */
	al_msat to_local, to_remote;
	uint32_t feerate_per_kw;
	al_sat dust_limit;      /* the owner's dust_limit_satoshis, >= 354 */
	uint16_t to_self_delay; /* the delay on the owner's outputs, > 0 */
	al_ln_keyset keys;
	const al_ln_htlc *htlcs; /* borrowed; must outlive the commitment */
	size_t n_htlcs;
} al_ln_commit_params;

typedef enum al_ln_out_kind {
	AL_LN_OUT_TO_LOCAL,
	AL_LN_OUT_TO_REMOTE,
	AL_LN_OUT_LOCAL_ANCHOR,
	AL_LN_OUT_REMOTE_ANCHOR,
	AL_LN_OUT_HTLC,
} al_ln_out_kind;

typedef struct al_ln_commit_out {
	al_ln_out_kind kind;
	size_t htlc;      /* index into params.htlcs, for AL_LN_OUT_HTLC */
	al_bytes wscript; /* witness script; empty for a P2WPKH to_remote */
} al_ln_commit_out;

typedef struct al_ln_commit {
	al_tx tx;
	al_ln_commit_out *outs; /* tx.n_out entries, in output order */
	size_t n_untrimmed_htlcs;
	al_sat base_fee;   /* BOLT #3 base fee (anchors not included) */
	al_sat fee;        /* actual fee: the funding amount minus every output */
	bool funder_short; /* the funder's balance did not cover base fee and anchors */
	al_bytes funding_wscript;
	al_ln_commit_params p; /* a copy; p.htlcs is still borrowed */
} al_ln_commit;

/* BOLT #3: the lower 48 bits of SHA256(payment_basepoint from open_channel ||
 * payment_basepoint from accept_channel). */
uint64_t al_ln_commitment_obscurer(const al_secp *ctx, const al_pubkey *opener_payment_basepoint,
                                   const al_pubkey *accepter_payment_basepoint);

/* BOLT #3 fee of an HTLC-timeout (offered) or HTLC-success (received) transaction:
 * zero under option_anchors_zero_fee_htlc_tx. */
al_sat al_ln_htlc_tx_fee(al_ln_chan_type type, uint32_t feerate_per_kw, bool offered);
/* BOLT #3 base fee: feerate_per_kw * (724, or 1124 with anchors, + 172 per untrimmed
 * HTLC) / 1000, rounded down. */
AL_WARN_UNUSED al_err al_ln_commit_base_fee(al_sat *out, al_ln_chan_type type,
                                            uint32_t feerate_per_kw, size_t n_untrimmed);
/* BOLT #3 Trimmed Outputs: the HTLC amount minus its second-stage fee is below the
 * dust limit. */
bool al_ln_htlc_is_trimmed(al_ln_chan_type type, uint32_t feerate_per_kw, al_sat dust_limit,
                           const al_ln_htlc *h);

/* AL_E_FEE if the funder cannot pay the base fee (and, with anchors, the two anchors)
 * from its balance: BOLT #2 forbids proposing such a state, though BOLT #3 defines
 * the transaction for it (the funder's output vanishes and the fee takes the rest).
 * Other parameter errors as al_ln_commit_build. */
AL_WARN_UNUSED al_err al_ln_commit_check_fee(const al_ln_commit_params *p);

/* Build the unsigned commitment transaction. Errors: AL_E_ARG (unknown type),
 * AL_E_RANGE (commitment number >= 2^48, more than AL_LN_MAX_HTLCS, to_self_delay 0,
 * dust limit below 354, funding amount beyond 21M BTC, cltv_expiry not a height),
 * AL_E_CHANNEL_BALANCE (balances and HTLCs do not add up to the funding amount),
 * AL_E_NOMEM. On error the arena is restored. */
AL_WARN_UNUSED al_err al_ln_commit_build(const al_secp *ctx, al_ln_commit *c, al_arena *a,
                                         const al_ln_commit_params *p);

/* BIP 143 SIGHASH_ALL digest of the funding input. */
AL_WARN_UNUSED al_err al_ln_commit_sighash(uint8_t out[32], const al_ln_commit *c);
AL_WARN_UNUSED al_err al_ln_commit_sign(const al_secp *ctx, al_ecdsa_sig *sig,
                                        const al_ln_commit *c, const al_privkey *funding_key);
/* AL_E_SIG_INVALID / AL_E_SIG_HIGH_S as al_ecdsa_verify. */
AL_WARN_UNUSED al_err al_ln_commit_verify(const al_secp *ctx, const al_ecdsa_sig *sig,
                                          const al_ln_commit *c, const al_pubkey *funding_pubkey);
/* Set the funding input's witness: `0 <signature_for_pubkey1> <signature_for_pubkey2>
 * <funding witness script>` (signatures with SIGHASH_ALL). */
AL_WARN_UNUSED al_err al_ln_commit_finalize(const al_secp *ctx, al_ln_commit *c, al_arena *a,
                                            const al_ecdsa_sig *local_sig,
                                            const al_ecdsa_sig *remote_sig);

/* A DER signature followed by its sighash byte, as a witness carries it, into
 * arena memory. */
AL_WARN_UNUSED al_err al_ln_witness_sig(const al_secp *ctx, al_bytes *out, al_arena *a,
                                        const al_ecdsa_sig *sig, uint8_t sighash_type);

#endif
