/* Private to the on-chain engine (src/ln/onchain*.c).
 *
 * The model. The engine follows one funding spend (`sp`): our commitment (also
 * before it is seen, once we broadcast it), a counterparty commitment, or a closing
 * transaction. Every output that may still matter is a row of `outs`: the
 * commitment's outputs we can claim or must watch, and the outputs of second-stage
 * transactions (ours after to_self_delay, the cheater's by revocation). A row knows
 * its parent's confirmation height and its spender (ours or theirs, with height).
 *
 * Claims (`claims`) are the transactions we make: each output we can claim belongs to
 * at most one claim (outs[i].claim); a justice claim gathers every revoked output,
 * the others take one. A claim keeps only the parameters of its current version
 * (fee, feerate, txid): its transaction is rebuilt from the rows and re-signed
 * (RFC 6979 makes that deterministic) whenever it is delivered. Claims funded by
 * the wallet keep their wallet inputs in `win`, with the wallet's witnesses for the
 * current version.
 *
 * Transactions of ours seen on-chain are rows of `txs` (for the accounting reported
 * at final depth). Nothing else of a transaction is kept.
 *
 * Effects are derived: the scan in al_onchain_next_effect looks for the first thing
 * to do (persist a changed state, watch a row, fund/sign/broadcast a claim, report an
 * event); delivered-flags are volatile or saved with the next record. */
#ifndef ALIGHT_LN_ONCHAIN_INT_H
#define ALIGHT_LN_ONCHAIN_INT_H

#include "btc/tx.h"
#include "ln/onchain.h"

#define OC_NONE 0xFFFFFFFFu

/* Claim slots reserved: our commitment, and the child pushing it. */
#define OC_CLAIM_COMMIT 0
#define OC_CLAIM_CPFP   1

/* sp_hflags / hold_hflags bits. */
#define HF_OUTPUT   0x01u /* the HTLC has an output in the commitment */
#define HF_PRE_REP  0x02u /* EV_PREIMAGE delivered */
#define HF_FAIL_REP 0x04u /* EV_HTLC_FAILED delivered */

struct oc_out {
	bool used;
	uint8_t kind;  /* al_onchain_out_kind */
	uint8_t how;   /* al_onchain_how: OPEN until final */
	bool reported; /* EV_RESOLVED delivered */
	bool watched;  /* WATCH delivered (volatile) */
	bool checked;  /* watched before a sync step (al_onchain_block) ran */
	bool dust;     /* not worth claiming */
	uint8_t txid[32];
	uint32_t vout;
	al_sat amount;
	uint32_t height; /* of txid, 0: unconfirmed */
	uint32_t htlc;   /* index into sp_htlcs, OC_NONE */
	uint32_t claim;  /* OC_NONE: in no claim */
	bool spent, spent_ours;
	uint8_t spender[32];
	uint32_t spend_height;
};

struct oc_claim {
	bool used;
	uint8_t kind;   /* al_onchain_claim_kind */
	bool built;     /* a version exists */
	bool stale;     /* its members changed: a new version is due */
	bool need_fund; /* the wallet inputs do not cover the version wanted */
	bool need_sign; /* the current version awaits the wallet's witnesses */
	bool has_prev;
	/* volatile */
	bool fund_asked, sign_asked, bcast;
	uint8_t prev_txid[32];
	uint8_t txid[32];
	uint32_t feerate;
	al_sat fee;
	al_sat want; /* FUND: at least this much more from the wallet */
	uint32_t want_feerate;
	uint32_t made_at;
	uint32_t weight;
};

struct oc_win {
	bool used;
	uint32_t claim;
	uint8_t txid[32];
	uint32_t vout;
	al_sat amount;
	uint8_t script[22];
	bool has_wit;
	uint8_t sig_len;
	uint8_t sig[73];
	uint8_t pk[33];
};

struct oc_tx {
	bool used;
	bool reported;
	uint8_t txid[32];
	uint32_t height;
	al_sat value_in, wallet_in, to_wallet, carried, fee;
};

struct oc_pre {
	uint8_t hash[32];
	uint8_t preimage[32];
	bool from_chain;
};

struct oc_holder {
	uint64_t number;
	al_msat to_local, to_remote;
	uint32_t feerate;
	size_t n_htlcs, n_sigs;
	al_ecdsa_sig sig;
	bool broadcast;
	/* Derived at init/load: */
	uint8_t txid[32];
	al_sat fee;
	uint32_t weight;
	al_sat stake; /* what is ours in it: to_local and every HTLC */
};

struct oc_spend {
	uint8_t kind; /* al_onchain_spend_kind */
	bool reported, fee_reported;
	uint8_t txid[32];
	uint32_t height;
	uint64_t number;
	/* The commitment's own view: its owner's balances and feerate, and HTLCs. */
	al_msat to_local, to_remote;
	uint32_t feerate;
	size_t n_htlcs;
	bool has_point;
	al_pubkey point;   /* the owner's per_commitment_point */
	al_ln_keyset keys; /* derived for it */
	al_sat ours;       /* MUTUAL: what paid our shutdown script */
};

struct al_onchain {
	al_onchain_env *env;
	al_onchain_config cfg;
	al_signer *signer;
	uint32_t state;
	al_err err;
	bool err_reported;
	/* The channel. */
	uint8_t channel_id[32];
	al_ln_chan_type type;
	bool holder_is_funder;
	uint8_t funding_txid[32];
	uint32_t funding_vout;
	al_sat funding;
	al_pubkey holder_funding, cp_funding;
	al_ln_basepoints hbp, cbp;
	uint16_t hdelay; /* holder_selected: on the counterparty's outputs */
	uint16_t cdelay; /* counterparty_selected: on ours */
	al_sat hdust, cdust;
	uint64_t obscurer;
	uint8_t dest[AL_SIGNER_DEST_MAX], shut[AL_SIGNER_DEST_MAX];
	size_t dest_len, shut_len;
	struct oc_holder hold;
	al_ln_htlc *hold_htlcs;  /* cfg.max_htlcs */
	al_ecdsa_sig *hold_sigs; /* cfg.max_htlcs */
	uint8_t *hold_hflags;    /* cfg.max_htlcs */
	uint64_t cp_revoked, cp_next;
	al_shachain secrets;
	struct oc_pre *pre; /* cfg.max_htlcs */
	size_t n_pre;
	/* The funding spend and its outputs. */
	struct oc_spend sp;
	al_ln_htlc *sp_htlcs; /* cfg.max_htlcs */
	uint8_t *sp_hflags;
	struct oc_out *outs;
	size_t outs_cap;
	struct oc_claim *claims;
	size_t claims_cap;
	struct oc_win *win;
	size_t win_cap;
	struct oc_tx *txs;
	size_t txs_cap;
	/* The chain. */
	uint32_t height, feerate;
	bool funding_watched;
	bool warn_pending;
	al_err warn_err;
	bool done_reported;
	/* Effects. */
	bool dirty, persisting;
	uint64_t persist_id;
	uint8_t *sbuf; /* the last wallet-signed transaction */
	size_t sbuf_len, sbuf_cap;
	uint32_t sbuf_claim;
	size_t out_mark;
	bool out_held;
};

/* acc += v, saturating (amounts of valid transactions never come near it). */
static inline void oc_add(al_sat *acc, al_sat v)
{
	if (!al_sat_add(acc, *acc, v))
		*acc = al_sat_of(UINT64_MAX);
}

/* --- onchain.c ---------------------------------------------------------------------- */

size_t al_onchain__mem_size(const al_onchain_config *cfg);
void al_onchain__layout(al_onchain *o, void *mem, size_t len, const al_onchain_config *cfg);
/* The sticky error: every later input is refused, EV_FAILED is reported. */
void al_onchain__fail(al_onchain *o, al_err e);
/* Confirmations of something at `height` (0: none). */
uint32_t al_onchain__depth(const al_onchain *o, uint32_t height);
bool al_onchain__final(const al_onchain *o, uint32_t height);
const struct oc_pre *al_onchain__find_pre(const al_onchain *o, const uint8_t hash[32]);
/* Add a preimage (from the node or the chain). AL_E_ONCHAIN_FULL. */
al_err al_onchain__add_pre(al_onchain *o, const uint8_t preimage[32], bool from_chain);
bool al_onchain__is_dest(const al_onchain *o, const al_bytes *script);

/* --- onchain_classify.c --------------------------------------------------------------- */

/* The parameters of a commitment owned by us (holder) or the counterparty, at `point`,
 * with the given balances (the owner's view), feerate and HTLCs. */
AL_WARN_UNUSED al_err al_onchain__params(const al_onchain *o, bool holder, uint64_t n,
                                         const al_pubkey *point, al_msat to_local,
                                         al_msat to_remote, uint32_t feerate, const al_ln_htlc *h,
                                         size_t nh, al_ln_commit_params *p);
/* Our commitment, rebuilt (in `a`). */
AL_WARN_UNUSED al_err al_onchain__holder_commit(const al_onchain *o, al_arena *a, al_ln_commit *c);
/* Derive hold.txid, fee, weight, stake. */
AL_WARN_UNUSED al_err al_onchain__holder_derive(al_onchain *o);
/* sp = our commitment, not yet seen (we broadcast it): its rows made. */
AL_WARN_UNUSED al_err al_onchain__set_holder_pending(al_onchain *o);
/* A transaction spending the funding output (parsed, with its txid). */
AL_WARN_UNUSED al_err al_onchain__funding_spend(al_onchain *o, const al_tx *tx,
                                                const uint8_t txid[32], uint32_t height,
                                                const uint8_t *monitor, size_t mlen);
/* A transaction spending rows. AL_E_ONCHAIN_UNRELATED when it spends none. */
AL_WARN_UNUSED al_err al_onchain__row_spend(al_onchain *o, const al_tx *tx, const uint8_t txid[32],
                                            uint32_t height);
/* Forget an unconfirmed transaction: its spends undone, its outputs' rows gone. */
void al_onchain__forget(al_onchain *o, const uint8_t txid[32]);
/* Forget the funding spend and everything built on it. */
void al_onchain__clear_spend(al_onchain *o);
/* The witness script of row `r` (the sp keys). */
AL_WARN_UNUSED al_err al_onchain__row_script(const al_onchain *o, const struct oc_out *r, al_wb *w);

/* --- onchain_claim.c ------------------------------------------------------------------ */

/* After every input: rows assigned to claims, versions made, final depths settled. */
void al_onchain__plan(al_onchain *o);
/* A new block: claims replaced at higher feerates, rebroadcasts asked. */
void al_onchain__bump(al_onchain *o);
/* The transaction of claim k: unsigned (dummy witnesses of the largest size) or
 * signed (our inputs; wallet inputs with their stored witnesses, else empty). */
AL_WARN_UNUSED al_err al_onchain__claim_tx(al_onchain *o, uint32_t k, al_arena *a, bool sign,
                                           al_tx *tx);
void al_onchain__free_claim(al_onchain *o, uint32_t k);
/* The spk of the second-stage output of our HTLC transactions (P2WSH of to_local at
 * our keys). */
AL_WARN_UNUSED al_err al_onchain__second_spk(const al_onchain *o, bool holder, uint8_t spk[34]);
/* Dust threshold of an output paying `script` (Bitcoin Core's GetDustThreshold at
 * 3 sat/vB). */
al_sat al_onchain__dust(const uint8_t *script, size_t len);

/* --- onchain_rec.c ------------------------------------------------------------------ */

size_t al_onchain__record_max(const al_onchain_config *cfg);

#endif
