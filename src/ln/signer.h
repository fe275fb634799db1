/* The channel signer: every secret of one channel, and signatures on request with
 * policy checks, in the spirit of Core Lightning's hsmd (libhsmd has no I/O either)
 * and the Validating Lightning Signer. The channel engine (ln/channel.h) holds a
 * pointer to its signer and never sees a private key: it asks for points and
 * signatures, and reports what the counterparty revealed.
 *
 * Key derivation. LND's key families over BIP 32, from the node's account key
 * m/1017'/coin' (al_signer_root, made once from the node's BIP 39 seed; the node key
 * is family 6 at index 0 of the same tree). A channel's key index `i` (a node-level
 * counter, stored in the channel record) gives
 *     funding key              m/1017'/coin'/0'/0/i   (KeyFamilyMultiSig)
 *     revocation_basepoint     m/1017'/coin'/1'/0/i   (KeyFamilyRevocationBase)
 *     htlc_basepoint           m/1017'/coin'/2'/0/i   (KeyFamilyHtlcBase)
 *     payment_basepoint        m/1017'/coin'/3'/0/i   (KeyFamilyPaymentBase)
 *     delayed_payment_basept   m/1017'/coin'/4'/0/i   (KeyFamilyDelayBase)
 *     per-commitment seed      SHA256("alight/ln/per-commitment-seed/v1" || k5), where
 *                              k5 is the private key at m/1017'/coin'/5'/0/i
 *                              (KeyFamilyRevocationRoot)
 * so that every channel secret can be rebuilt from the seed and the index alone.
 * BOLT #3: per-commitment secret n is generate_from_seed(seed, 2^48 - 1 - n).
 *
 * Policy (each refusal is an error, nothing changes):
 *   - A counterparty commitment is signed only in sequence: number n once the
 *     counterparty revoked n - 2 (it never holds more than two valid commitments),
 *     again only as the identical transaction (a retransmission), never an older one
 *     (AL_E_SIGNER_SEQUENCE, AL_E_SIGNER_UNREVOKED, AL_E_SIGNER_CONFLICT). Its keys,
 *     funding input, delays and the to_remote output must be this channel's
 *     (AL_E_SIGNER_TX): the signer derives them itself.
 *   - Our own commitment n is accepted (al_signer_validate_holder) only after the
 *     counterparty's signatures verify, for n = the last accepted + 1.
 *   - Per-commitment secret n is released only when commitment n + 1 was accepted
 *     (AL_E_SIGNER_NOT_SIGNED), in order, and never for a commitment signed for
 *     broadcast (AL_E_SIGNER_BROADCAST).
 *   - Our commitment is signed for broadcast only if it is the latest accepted one
 *     and not revoked (AL_E_SIGNER_REVOKED).
 *   - After a closing transaction was signed, no new counterparty commitment is
 *     (AL_E_SIGNER_CLOSED); a closing transaction must spend exactly the funding
 *     output (AL_E_SIGNER_TX).
 * The policy state (counters, the last transactions signed and accepted, the
 * counterparty's points) is saved with al_signer_save into the channel record and
 * restored with al_signer_load; the secrets never are, they are derived again.
 *
 * Memory: an al_signer lives in caller memory (al_signer_size() bytes); secrets are
 * wiped by al_signer_clear and al_signer_root_clear. */
#ifndef ALIGHT_LN_SIGNER_H
#define ALIGHT_LN_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/bip32.h"
#include "btc/tx.h"
#include "crypto/secp.h"
#include "ln/commit.h"
#include "ln/htlc_tx.h"
#include "ln/keys.h"
#include "util/arena.h"
#include "util/cursor.h"
#include "util/err.h"

/* LND key families (keychain/derivation.go). */
enum al_signer_family {
	AL_SIGNER_FAMILY_MULTISIG = 0,
	AL_SIGNER_FAMILY_REVOCATION_BASE = 1,
	AL_SIGNER_FAMILY_HTLC_BASE = 2,
	AL_SIGNER_FAMILY_PAYMENT_BASE = 3,
	AL_SIGNER_FAMILY_DELAY_BASE = 4,
	AL_SIGNER_FAMILY_REVOCATION_ROOT = 5,
	AL_SIGNER_FAMILY_NODE_KEY = 6,
};

/* Bytes al_signer_save writes. */
#define AL_SIGNER_STATE_LEN 256

/* The node's account key m/1017'/coin' (a secret). */
typedef struct al_signer_root {
	al_xkey account;
} al_signer_root;

/* From a BIP 39 seed (16..64 bytes) and the BIP 44 coin type (0 mainnet, 1 test
 * networks). Errors of al_bip32_master / al_bip32_derive. */
AL_WARN_UNUSED al_err al_signer_root_init(al_signer_root *r, const al_secp *ctx,
                                          const uint8_t *seed, size_t seed_len, uint32_t coin);
void al_signer_root_clear(al_signer_root *r);
/* The private key at m/1017'/coin'/family'/0/index: what the signer derives, for
 * callers that must recompute a key (tests, a later sweeper). Wipe it after use. */
AL_WARN_UNUSED al_err al_signer_root_key(const al_signer_root *r, const al_secp *ctx,
                                         al_privkey *out, uint32_t family, uint32_t index);

typedef struct al_signer al_signer;

size_t al_signer_size(void);
/* Derive every secret of channel key index `index` into `mem` (al_signer_size()
 * bytes, 8-byte aligned). `ctx` must outlive the signer. */
AL_WARN_UNUSED al_err al_signer_init(al_signer **out, void *mem, size_t len, const al_secp *ctx,
                                     const al_signer_root *root, uint32_t index);
/* Wipe every secret and the policy state. */
void al_signer_clear(al_signer *s);
uint32_t al_signer_index(const al_signer *s);

/* Our basepoints and funding public key (BOLT #2 open_channel / accept_channel). */
void al_signer_basepoints(const al_signer *s, al_ln_basepoints *bp, al_pubkey *funding);
/* BOLT #3 per_commitment_point of our commitment n (public). AL_E_RANGE for
 * n >= 2^48. */
AL_WARN_UNUSED al_err al_signer_holder_point(const al_signer *s, uint64_t n, al_pubkey *out);

/* What the signer checks transactions against, known once the funding outpoint is. */
typedef struct al_signer_channel {
	al_ln_chan_type type;
	bool holder_is_funder;
	uint8_t funding_txid[32];
	uint32_t funding_vout;
	al_sat funding_amount;
	al_pubkey counterparty_funding;
	al_ln_basepoints counterparty;
	/* to_self_delay we imposed (on the counterparty's commitments) and the one the
	 * counterparty imposed (on ours). */
	uint16_t holder_selected_delay;
	uint16_t counterparty_selected_delay;
} al_signer_channel;

/* Set the channel (once, or again with identical values after a reload).
 * AL_E_SIGNER_TX if it was set to something else. */
AL_WARN_UNUSED al_err al_signer_ready(al_signer *s, const al_signer_channel *ch);

/* --- the counterparty's commitments -------------------------------------- */

/* Sign the counterparty's commitment `c` (built for its per_commitment_point
 * `point`): the funding input's signature and, in output order, one signature per
 * HTLC output (c->n_untrimmed_htlcs into htlc_sigs), with BOLT #3's sighash type.
 * Scratch memory for the HTLC transactions comes from `a` (given back). Policy as
 * described above. */
AL_WARN_UNUSED al_err al_signer_sign_counterparty(al_signer *s, const al_ln_commit *c,
                                                  const al_pubkey *point, al_arena *a,
                                                  al_ecdsa_sig *sig, al_ecdsa_sig *htlc_sigs);
/* The counterparty revoked its commitment n with `secret` (n must be the oldest
 * unrevoked one, with n + 1 signed by us). AL_E_SIGNER_SECRET if the secret is not
 * the one behind the point we signed n for, AL_E_SIGNER_SEQUENCE out of order. */
AL_WARN_UNUSED al_err al_signer_counterparty_revoked(al_signer *s, uint64_t n,
                                                     const uint8_t secret[32]);

/* --- our commitments -------------------------------------------------------- */

/* Accept our commitment `c` (number n = c's commitment number, built for our point n)
 * with the counterparty's signatures: AL_E_CHAN_COMMIT_SIG / AL_E_CHAN_HTLC_SIG for a
 * signature that does not verify (n_htlc_sigs must be c->n_untrimmed_htlcs, else
 * AL_E_CHAN_HTLC_SIG_COUNT), AL_E_SIGNER_TX for a transaction that is not this
 * channel's, AL_E_SIGNER_SEQUENCE unless n is the last accepted + 1 (or 0 first). */
AL_WARN_UNUSED al_err al_signer_validate_holder(al_signer *s, const al_ln_commit *c, al_arena *a,
                                                const al_ecdsa_sig *sig,
                                                const al_ecdsa_sig *htlc_sigs, size_t n_htlc_sigs);
/* Release per-commitment secret n (revoking our commitment n). */
AL_WARN_UNUSED al_err al_signer_revoke_holder(al_signer *s, uint64_t n, uint8_t secret[32]);
/* Whether `secret` is our per-commitment secret n (constant time; for BOLT #2
 * data_loss_protect: the peer proving we revoked a commitment we do not remember). */
bool al_signer_check_holder_secret(const al_signer *s, uint64_t n, const uint8_t secret[32]);
/* Sign our latest accepted commitment for broadcast (force close); it can no longer
 * be revoked. AL_E_SIGNER_REVOKED / AL_E_SIGNER_CONFLICT otherwise. */
AL_WARN_UNUSED al_err al_signer_sign_holder(al_signer *s, const al_ln_commit *c, al_ecdsa_sig *sig);
/* Our SIGHASH_ALL signature on an HTLC transaction of the commitment signed for
 * broadcast (AL_E_SIGNER_SEQUENCE otherwise). */
AL_WARN_UNUSED al_err al_signer_sign_holder_htlc(al_signer *s, const al_ln_commit *c,
                                                 const al_ln_htlc_tx *h, al_ecdsa_sig *sig);

/* --- closing ------------------------------------------------------------------ */

/* SIGHASH_ALL signature on a closing transaction: one input, the funding output.
 * After it, no new counterparty commitment is signed. */
AL_WARN_UNUSED al_err al_signer_sign_closing(al_signer *s, const al_tx *tx, al_ecdsa_sig *sig);

/* --- state ------------------------------------------------------------------- */

typedef struct al_signer_status {
	uint64_t holder_revoked;       /* our commitments 0..holder_revoked-1 are revoked */
	bool holder_accepted;          /* some commitment of ours was accepted */
	uint64_t holder_latest;        /* the latest accepted one */
	bool holder_broadcast;         /* holder_latest was signed for broadcast */
	uint64_t counterparty_next;    /* the next counterparty commitment to sign */
	uint64_t counterparty_revoked; /* its commitments 0..this-1 are revoked */
	bool closing;
} al_signer_status;

void al_signer_get_status(const al_signer *s, al_signer_status *st);

/* Write the policy state (AL_SIGNER_STATE_LEN bytes) / read it back into a signer
 * made with al_signer_init for the same index. AL_E_CHAN_RECORD for a malformed or
 * inconsistent state (the signer is then unchanged). */
void al_signer_save(const al_signer *s, al_wb *w);
AL_WARN_UNUSED al_err al_signer_load(al_signer *s, al_cur *c);

/* --- on-chain spends (ln/signer_onchain.c) -------------------------------------
 * BOLT #5 resolutions of the channel's outputs once a commitment is on-chain: one
 * signature for one input of a transaction the on-chain engine (ln/onchain.h) built,
 * always SIGHASH_ALL. The signer derives every key and witness script from the
 * descriptor and its own secrets and signs only with those, and refuses (nothing
 * signed):
 *   - an output other than the sweep destination (al_signer_set_destination), except
 *     the BOLT #3 output of our own HTLC-timeout/-success transaction
 *     (AL_E_ONCHAIN_SIGN_DEST);
 *   - a spend of our commitment unless it is the latest one, signed for broadcast and
 *     never revoked (AL_E_ONCHAIN_SIGN_REVOKED): a revoked commitment of ours belongs
 *     to the counterparty (BOLT #5: "MUST NOT broadcast a commitment transaction for
 *     which *it* has exposed the `per_commitment_secret`");
 *   - a direct HTLC spend of a counterparty commitment other than the (at most two)
 *     unrevoked ones it signed (AL_E_ONCHAIN_SIGN_COMMITMENT);
 *   - a revocation spend of a counterparty commitment not revoked
 *     (AL_E_ONCHAIN_SIGN_UNREVOKED);
 *   - a transaction whose input or output is not the one the descriptor names
 *     (AL_E_ONCHAIN_SIGN_TX). */

/* The longest destination script: a 40-byte witness program and its 2 opcodes. */
#define AL_SIGNER_DEST_MAX 42

/* The one script on-chain spends may pay (the wallet's, given at channel creation):
 * set once; again only with the same script (AL_E_ONCHAIN_SIGN_DEST otherwise, and
 * for an empty or over-long script). */
AL_WARN_UNUSED al_err al_signer_set_destination(al_signer *s, const uint8_t *script, size_t len);

typedef enum al_signer_spend_kind {
	/* Our commitment's to_local, or the output of one of its HTLC transactions:
	 * local_delayedpubkey after to_self_delay. */
	AL_SIGNER_SPEND_HOLDER_DELAYED = 1,
	/* An HTLC output of our commitment by its HTLC-timeout/-success transaction: input
	 * `input` spends output `commit_out` of `holder` and output `input` is the BOLT #3
	 * one (other inputs and outputs may be added under option_anchors). */
	AL_SIGNER_SPEND_HOLDER_HTLC = 2,
	/* Our anchor (to_local_anchor on ours, to_remote_anchor on theirs): funding key. */
	AL_SIGNER_SPEND_ANCHOR = 3,
	/* Our to_remote on a counterparty commitment: payment_basepoint. */
	AL_SIGNER_SPEND_TO_REMOTE = 4,
	/* An HTLC output of an unrevoked counterparty commitment at `point`: its timeout
	 * branch (an HTLC we offered) or its preimage branch (one it offered). */
	AL_SIGNER_SPEND_CP_HTLC = 5,
	/* An output of revoked counterparty commitment `commitment_number`, by the
	 * revocation key: its to_local or an HTLC-timeout/-success output
	 * (`htlc` NULL), or an HTLC output (`htlc`). */
	AL_SIGNER_SPEND_REVOKED = 6,
} al_signer_spend_kind;

typedef struct al_signer_spend {
	al_signer_spend_kind kind;
	size_t input;  /* the input of the transaction to sign */
	al_sat amount; /* of the output it spends */
	uint64_t commitment_number;
	al_pubkey point;            /* CP_HTLC: the counterparty's per_commitment_point */
	uint8_t secret[32];         /* REVOKED: its per_commitment_secret */
	const al_ln_htlc *htlc;     /* CP_HTLC, REVOKED: offered/received as the owner sees it */
	const al_ln_commit *holder; /* HOLDER_HTLC */
	size_t commit_out;          /* HOLDER_HTLC */
} al_signer_spend;

/* Sign input d->input of `tx` (scratch memory from `a`, given back). Errors as above,
 * AL_E_SIGNER_NOT_READY, AL_E_RANGE for an input out of range. */
AL_WARN_UNUSED al_err al_signer_sign_spend(al_signer *s, al_arena *a, const al_tx *tx,
                                           const al_signer_spend *d, al_ecdsa_sig *sig);

#endif
