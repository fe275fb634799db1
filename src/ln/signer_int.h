/* Private to the signer (src/ln/signer.c, src/ln/signer_onchain.c): the signer's
 * secrets and policy state. */
#ifndef ALIGHT_LN_SIGNER_INT_H
#define ALIGHT_LN_SIGNER_INT_H

#include "ln/signer.h"

struct al_signer {
	const al_secp *ctx;
	uint32_t index;
	al_privkey funding, revocation, htlc, payment, delayed;
	uint8_t seed[32]; /* BOLT #3 per-commitment seed */
	al_ln_basepoints bp;
	al_pubkey funding_pub;
	bool ready;
	al_signer_channel ch;
	uint64_t obscurer;
	/* Policy state (al_signer_save). */
	uint64_t holder_revoked;
	bool holder_accepted;
	uint64_t holder_latest;
	uint8_t holder_txid[32];
	bool holder_broadcast;
	uint64_t cp_next;      /* counterparty commitments 0..cp_next-1 were signed */
	uint8_t cp_txid[32];   /* the transaction signed as cp_next - 1 */
	uint64_t cp_revoked;   /* counterparty commitments 0..cp_revoked-1 are revoked */
	bool cp_has_point[2];  /* [0]: number cp_next - 1, [1]: cp_next - 2 */
	al_pubkey cp_point[2]; /* the points those were signed for */
	bool closing;
	/* On-chain spends (signer_onchain.c): the only script they may pay, set once
	 * (not part of the saved policy state: the on-chain engine sets it again). */
	uint8_t dest[AL_SIGNER_DEST_MAX];
	size_t dest_len;
};

#endif
