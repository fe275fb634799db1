/* BOLT #3 witness scripts: funding, to_local, to_remote (anchors), anchors and the
 * offered/received HTLC outputs. Each is written through an al_wb into a caller
 * buffer (a dry run with a NULL buffer gives the length; AL_LN_MAX_WSCRIPT always
 * suffices). The P2WSH output script is al_script_p2wsh over the result. */
#ifndef ALIGHT_LN_SCRIPTS_H
#define ALIGHT_LN_SCRIPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "ln/keys.h"
#include "util/cursor.h"

/* The largest script here is the received HTLC script with option_anchors (143 bytes). */
#define AL_LN_MAX_WSCRIPT 160

/* BOLT #3: `2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG`, "Where `pubkey1` is the
 * lexicographically lesser of the two `funding_pubkey` in compressed format". */
void al_ln_funding_script(al_wb *w, const al_secp *ctx, const al_pubkey *a, const al_pubkey *b);

/* BOLT #3 `to_local` output, also the output of HTLC-success/HTLC-timeout
 * transactions:
 *     OP_IF <revocationpubkey> OP_ELSE `to_self_delay` OP_CHECKSEQUENCEVERIFY OP_DROP
 *     <local_delayedpubkey> OP_ENDIF OP_CHECKSIG */
void al_ln_to_local_script(al_wb *w, const al_secp *ctx, const al_pubkey *revocation,
                           uint16_t to_self_delay, const al_pubkey *local_delayed);

/* BOLT #3 `to_remote` with option_anchors:
 *     <remotepubkey> OP_CHECKSIGVERIFY 1 OP_CHECKSEQUENCEVERIFY */
void al_ln_to_remote_anchors_script(al_wb *w, const al_secp *ctx, const al_pubkey *remote);

/* BOLT #3 `to_local_anchor` / `to_remote_anchor`:
 *     <local_funding_pubkey/remote_funding_pubkey> OP_CHECKSIG OP_IFDUP
 *     OP_NOTIF OP_16 OP_CHECKSEQUENCEVERIFY OP_ENDIF */
void al_ln_anchor_script(al_wb *w, const al_secp *ctx, const al_pubkey *funding);

/* BOLT #3 offered HTLC output; `anchors` adds `1 OP_CHECKSEQUENCEVERIFY OP_DROP`
 * before the final OP_ENDIF. */
void al_ln_offered_htlc_script(al_wb *w, const al_secp *ctx, const al_ln_keyset *k,
                               const uint8_t payment_hash[32], bool anchors);

/* BOLT #3 received HTLC output (the same `anchors` addition). */
void al_ln_received_htlc_script(al_wb *w, const al_secp *ctx, const al_ln_keyset *k,
                                const uint8_t payment_hash[32], uint32_t cltv_expiry, bool anchors);

#endif
