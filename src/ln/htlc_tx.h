/* BOLT #3 second-stage HTLC transactions: HTLC-timeout for an HTLC the commitment's
 * owner offered, HTLC-success for one it received. They spend the HTLC outputs of
 * an al_ln_commit (whose txid does not depend on its witness, so they can be built
 * and signed before the commitment is). */
#ifndef ALIGHT_LN_HTLC_TX_H
#define ALIGHT_LN_HTLC_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "ln/commit.h"

typedef struct al_ln_htlc_tx {
	al_tx tx;
	bool success;           /* HTLC-success (received HTLC), else HTLC-timeout */
	const al_ln_htlc *htlc; /* borrowed from the commitment's parameters */
	size_t commit_out;      /* the output of the commitment transaction it spends */
	al_sat input_amount;    /* that output's amount */
	al_bytes wscript;       /* that output's witness script (the BIP 143 scriptCode) */
	al_bytes out_wscript;   /* the witness script of this transaction's output */
	bool anchors;
} al_ln_htlc_tx;

/* Build the HTLC transaction spending output `commit_out` of `c` (an HTLC output,
 * else AL_E_ARG). AL_E_NOMEM if the arena is exhausted (then restored). */
AL_WARN_UNUSED al_err al_ln_htlc_tx_build(const al_secp *ctx, al_ln_htlc_tx *h, al_arena *a,
                                          const al_ln_commit *c, size_t commit_out);

/* Build the HTLC transactions of every HTLC output of `c`, in output order (the order
 * of BOLT #2 `htlc_signatures`), into an arena array of c->n_untrimmed_htlcs. */
AL_WARN_UNUSED al_err al_ln_htlc_txs_build(const al_secp *ctx, al_ln_htlc_tx **out, al_arena *a,
                                           const al_ln_commit *c);

/* The sighash type of the peer's signature: BOLT #3 "if `option_anchors` applies to
 * this commitment transaction, `SIGHASH_SINGLE|SIGHASH_ANYONECANPAY` is used",
 * otherwise SIGHASH_ALL. The owner's own signature is always SIGHASH_ALL. */
uint32_t al_ln_htlc_tx_remote_sighash_type(const al_ln_htlc_tx *h);

AL_WARN_UNUSED al_err al_ln_htlc_tx_sighash(uint8_t out[32], const al_ln_htlc_tx *h,
                                            uint32_t sighash_type);
AL_WARN_UNUSED al_err al_ln_htlc_tx_sign(const al_secp *ctx, al_ecdsa_sig *sig,
                                         const al_ln_htlc_tx *h, const al_privkey *htlc_key,
                                         uint32_t sighash_type);
AL_WARN_UNUSED al_err al_ln_htlc_tx_verify(const al_secp *ctx, const al_ecdsa_sig *sig,
                                           const al_ln_htlc_tx *h, const al_pubkey *htlc_pubkey,
                                           uint32_t sighash_type);

/* Set the witness: `0 <remotehtlcsig> <localhtlcsig> <payment_preimage>` for
 * HTLC-success, `0 <remotehtlcsig> <localhtlcsig> <>` for HTLC-timeout, then the
 * witness script. `preimage` is required for HTLC-success (AL_E_ARG if missing or if
 * it does not hash to the payment hash) and ignored for HTLC-timeout. */
AL_WARN_UNUSED al_err al_ln_htlc_tx_finalize(const al_secp *ctx, al_ln_htlc_tx *h, al_arena *a,
                                             const al_ecdsa_sig *remote_sig,
                                             const al_ecdsa_sig *local_sig,
                                             const uint8_t preimage[32]);

#endif
