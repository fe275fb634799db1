#include "ln/scripts.h"

#include "btc/script.h"
#include "crypto/hash.h"

void al_ln_funding_script(al_wb *w, const al_secp *ctx, const al_pubkey *a, const al_pubkey *b)
{
	const al_pubkey *lo = a, *hi = b;

	if (al_pubkey_cmp(ctx, a, b) > 0) {
		lo = b;
		hi = a;
	}
	al_script_op(w, AL_OP_2);
	al_script_push_pubkey(w, ctx, lo);
	al_script_push_pubkey(w, ctx, hi);
	al_script_op(w, AL_OP_2);
	al_script_op(w, AL_OP_CHECKMULTISIG);
}

void al_ln_to_local_script(al_wb *w, const al_secp *ctx, const al_pubkey *revocation,
                           uint16_t to_self_delay, const al_pubkey *local_delayed)
{
	al_script_op(w, AL_OP_IF);
	al_script_push_pubkey(w, ctx, revocation);
	al_script_op(w, AL_OP_ELSE);
	al_script_push_num(w, to_self_delay);
	al_script_op(w, AL_OP_CHECKSEQUENCEVERIFY);
	al_script_op(w, AL_OP_DROP);
	al_script_push_pubkey(w, ctx, local_delayed);
	al_script_op(w, AL_OP_ENDIF);
	al_script_op(w, AL_OP_CHECKSIG);
}

void al_ln_to_remote_anchors_script(al_wb *w, const al_secp *ctx, const al_pubkey *remote)
{
	al_script_push_pubkey(w, ctx, remote);
	al_script_op(w, AL_OP_CHECKSIGVERIFY);
	al_script_op(w, AL_OP_1);
	al_script_op(w, AL_OP_CHECKSEQUENCEVERIFY);
}

void al_ln_anchor_script(al_wb *w, const al_secp *ctx, const al_pubkey *funding)
{
	al_script_push_pubkey(w, ctx, funding);
	al_script_op(w, AL_OP_CHECKSIG);
	al_script_op(w, AL_OP_IFDUP);
	al_script_op(w, AL_OP_NOTIF);
	al_script_op(w, AL_OP_16);
	al_script_op(w, AL_OP_CHECKSEQUENCEVERIFY);
	al_script_op(w, AL_OP_ENDIF);
}

/* Common head of both HTLC scripts:
 *     # To remote node with revocation key
 *     OP_DUP OP_HASH160 <RIPEMD160(SHA256(revocationpubkey))> OP_EQUAL
 *     OP_IF
 *         OP_CHECKSIG
 *     OP_ELSE
 *         <remote_htlcpubkey> OP_SWAP OP_SIZE 32 OP_EQUAL */
static void htlc_head(al_wb *w, const al_secp *ctx, const al_ln_keyset *k)
{
	uint8_t ser[AL_PUBKEY_LEN], h[20];

	al_pubkey_serialize(ctx, ser, &k->revocation);
	al_hash160(h, ser, sizeof(ser));
	al_script_op(w, AL_OP_DUP);
	al_script_op(w, AL_OP_HASH160);
	al_script_push(w, h, sizeof(h));
	al_script_op(w, AL_OP_EQUAL);
	al_script_op(w, AL_OP_IF);
	al_script_op(w, AL_OP_CHECKSIG);
	al_script_op(w, AL_OP_ELSE);
	al_script_push_pubkey(w, ctx, &k->remote_htlc);
	al_script_op(w, AL_OP_SWAP);
	al_script_op(w, AL_OP_SIZE);
	al_script_push_num(w, 32);
	al_script_op(w, AL_OP_EQUAL);
}

/* `... OP_ENDIF [1 OP_CHECKSEQUENCEVERIFY OP_DROP] OP_ENDIF`: with option_anchors the
 * remote node's branches wait one block, so that no HTLC output can be spent by an
 * unconfirmed child (the CPFP carve-out leaves only the anchors for that). */
static void htlc_tail(al_wb *w, bool anchors)
{
	al_script_op(w, AL_OP_ENDIF);
	if (anchors) {
		al_script_op(w, AL_OP_1);
		al_script_op(w, AL_OP_CHECKSEQUENCEVERIFY);
		al_script_op(w, AL_OP_DROP);
	}
	al_script_op(w, AL_OP_ENDIF);
}

/* OP_HASH160 <RIPEMD160(payment_hash)> OP_EQUALVERIFY */
static void payment_hash_check(al_wb *w, const uint8_t payment_hash[32])
{
	uint8_t h[20];

	al_ripemd160(h, payment_hash, 32);
	al_script_op(w, AL_OP_HASH160);
	al_script_push(w, h, sizeof(h));
	al_script_op(w, AL_OP_EQUALVERIFY);
}

/* 2 OP_SWAP <local_htlcpubkey> 2 OP_CHECKMULTISIG */
static void htlc_multisig(al_wb *w, const al_secp *ctx, const al_ln_keyset *k)
{
	al_script_op(w, AL_OP_2);
	al_script_op(w, AL_OP_SWAP);
	al_script_push_pubkey(w, ctx, &k->local_htlc);
	al_script_op(w, AL_OP_2);
	al_script_op(w, AL_OP_CHECKMULTISIG);
}

void al_ln_offered_htlc_script(al_wb *w, const al_secp *ctx, const al_ln_keyset *k,
                               const uint8_t payment_hash[32], bool anchors)
{
	htlc_head(w, ctx, k);
	/* BOLT #3:
	 *     OP_NOTIF
	 *         # To local node via HTLC-timeout transaction (timelocked).
	 *         OP_DROP 2 OP_SWAP <local_htlcpubkey> 2 OP_CHECKMULTISIG
	 *     OP_ELSE
	 *         # To remote node with preimage.
	 *         OP_HASH160 <RIPEMD160(payment_hash)> OP_EQUALVERIFY
	 *         OP_CHECKSIG
	 *     OP_ENDIF */
	al_script_op(w, AL_OP_NOTIF);
	al_script_op(w, AL_OP_DROP);
	htlc_multisig(w, ctx, k);
	al_script_op(w, AL_OP_ELSE);
	payment_hash_check(w, payment_hash);
	al_script_op(w, AL_OP_CHECKSIG);
	htlc_tail(w, anchors);
}

void al_ln_received_htlc_script(al_wb *w, const al_secp *ctx, const al_ln_keyset *k,
                                const uint8_t payment_hash[32], uint32_t cltv_expiry, bool anchors)
{
	htlc_head(w, ctx, k);
	/* BOLT #3:
	 *     OP_IF
	 *         # To local node via HTLC-success transaction.
	 *         OP_HASH160 <RIPEMD160(payment_hash)> OP_EQUALVERIFY
	 *         2 OP_SWAP <local_htlcpubkey> 2 OP_CHECKMULTISIG
	 *     OP_ELSE
	 *         # To remote node after timeout.
	 *         OP_DROP <cltv_expiry> OP_CHECKLOCKTIMEVERIFY OP_DROP
	 *         OP_CHECKSIG
	 *     OP_ENDIF */
	al_script_op(w, AL_OP_IF);
	payment_hash_check(w, payment_hash);
	htlc_multisig(w, ctx, k);
	al_script_op(w, AL_OP_ELSE);
	al_script_op(w, AL_OP_DROP);
	al_script_push_num(w, cltv_expiry);
	al_script_op(w, AL_OP_CHECKLOCKTIMEVERIFY);
	al_script_op(w, AL_OP_DROP);
	al_script_op(w, AL_OP_CHECKSIG);
	htlc_tail(w, anchors);
}
