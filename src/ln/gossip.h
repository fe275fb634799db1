/* BOLT #7 channel_update: a node's forwarding policy for one direction of a channel,
 * signed with its node key.
 *
 * Until the gossip issue brings channel_announcement and the network graph, the only
 * updates made and read here are those of BOLT #7's private case: "MAY create a
 * channel_update to communicate the channel parameters to the channel peer, even
 * though the channel has not yet been announced", which the peer turns into the route
 * hints of its invoices (BOLT #11 `r`), and the one a forwarding node returns in a
 * failure message. Pure functions; the caller owns every byte. */
#ifndef ALIGHT_LN_GOSSIP_H
#define ALIGHT_LN_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "util/err.h"

#define AL_WIRE_CHANNEL_UPDATE 258
/* type, signature, chain_hash, short_channel_id, timestamp, message_flags,
 * channel_flags, cltv_expiry_delta, htlc_minimum_msat, fee_base_msat,
 * fee_proportional_millionths, htlc_maximum_msat. */
#define AL_CHAN_UPDATE_LEN (2 + 64 + 32 + 8 + 4 + 1 + 1 + 2 + 8 + 4 + 4 + 8) /* 138 */

/* message_flags and channel_flags bits. */
#define AL_CHAN_UPDATE_MUST_BE_ONE  0x01 /* message_flags: htlc_maximum_msat present */
#define AL_CHAN_UPDATE_DONT_FORWARD 0x02 /* message_flags: not to be gossiped */
#define AL_CHAN_UPDATE_DIRECTION    0x01 /* channel_flags: from node_id_2 */
#define AL_CHAN_UPDATE_DISABLE      0x02 /* channel_flags */

/* What a node asks to relay an HTLC over one direction of a channel. */
typedef struct al_chan_policy {
	uint32_t fee_base_msat;
	uint32_t fee_proportional_millionths;
	uint16_t cltv_expiry_delta;
	uint64_t htlc_minimum_msat;
	uint64_t htlc_maximum_msat;
} al_chan_policy;

typedef struct al_chan_update {
	uint8_t chain_hash[32];
	uint64_t scid;
	uint32_t timestamp;
	uint8_t message_flags;
	uint8_t channel_flags;
	al_chan_policy policy;
} al_chan_update;

/* The fee the policy asks for forwarding `amount_msat`: fee_base_msat +
 * amount_msat * fee_proportional_millionths / 1,000,000 (BOLT #7), saturating. */
uint64_t al_chan_policy_fee(const al_chan_policy *p, uint64_t amount_msat);

/* BOLT #7 direction: 0 when `self` is node_id_1 ("the lesser of the two
 * compressed keys sorted in ascending lexicographic order"), else 1. */
uint8_t al_chan_update_direction(const uint8_t self[AL_PUBKEY_LEN],
                                 const uint8_t peer[AL_PUBKEY_LEN]);

/* The message (type included) in out[AL_CHAN_UPDATE_LEN], signed with `node_key`:
 * "the signature of the double-SHA256 of the entire remaining packet after
 * `signature`". AL_E_ARG for htlc_minimum_msat above htlc_maximum_msat or a zero
 * timestamp (both "MUST" of the origin node). */
AL_WARN_UNUSED al_err al_chan_update_sign(uint8_t out[AL_CHAN_UPDATE_LEN], const al_secp *secp,
                                          const al_privkey *node_key, const al_chan_update *u);

/* Decode `msg` (type included; bytes after htlc_maximum_msat are allowed and signed
 * over) and check its signature against `node_id`. Errors: AL_E_TRUNCATED,
 * AL_E_GOSSIP_TYPE (not a channel_update), AL_E_GOSSIP_FLAGS (must_be_one clear:
 * without htlc_maximum_msat), AL_E_GOSSIP_SIGNATURE. On error *u is zeroed. */
AL_WARN_UNUSED al_err al_chan_update_verify(al_chan_update *u, const al_secp *secp,
                                            const uint8_t node_id[AL_PUBKEY_LEN],
                                            const uint8_t *msg, size_t len);

#endif
