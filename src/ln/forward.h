/* BOLT #4 at an intermediate node: whether an incoming HTLC may go on over the channel
 * its onion names, and the failure message that goes back when it may not.
 *
 * Pure: the caller (the node) peels the onion, finds the outgoing channel by the
 * payload's short_channel_id and says what it knows of it; these answer with the
 * failure code BOLT #4 names, in the order its list gives ("SHOULD select the first
 * error it encounters from the list above"), and build its message. That the
 * outgoing channel itself takes the HTLC (capacity, reserve, HTLC limits) is the
 * channel's own check, made by offering it; a refusal there is
 * temporary_channel_failure ("channel capacity reached, too many in-flight HTLCs"). */
#ifndef ALIGHT_LN_FORWARD_H
#define ALIGHT_LN_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ln/gossip.h"

/* BOLT #4 failure codes of a forwarding node. */
#define AL_FWD_TEMPORARY_CHANNEL_FAILURE 0x1007 /* UPDATE|7 */
#define AL_FWD_PERMANENT_CHANNEL_FAILURE 0x4008 /* PERM|8 */
#define AL_FWD_UNKNOWN_NEXT_PEER         0x400a /* PERM|10 */
#define AL_FWD_AMOUNT_BELOW_MINIMUM      0x100b /* UPDATE|11 */
#define AL_FWD_FEE_INSUFFICIENT          0x100c /* UPDATE|12 */
#define AL_FWD_INCORRECT_CLTV_EXPIRY     0x100d /* UPDATE|13 */
#define AL_FWD_EXPIRY_TOO_SOON           0x100e /* UPDATE|14 */
#define AL_FWD_CHANNEL_DISABLED          0x1014 /* UPDATE|20 */
#define AL_FWD_EXPIRY_TOO_FAR            21

/* "if the cltv_expiry is more than max_htlc_cltv in the future": two weeks of blocks
 * (LDK's and the route builder's bound). */
#define AL_FWD_MAX_HTLC_CLTV 2016
/* "if the cltv_expiry is unreasonably near the present": the outgoing HTLC must leave
 * at least this many blocks to go on-chain before it expires (LDK's latency grace). */
#define AL_FWD_MIN_BLOCKS_LEFT 3
/* The longest message built here: code, htlc_msat, len and a channel_update. */
#define AL_FWD_FAILURE_MAX (2 + 8 + 2 + AL_CHAN_UPDATE_LEN)

/* The incoming HTLC and what its (non-final) payload asks. */
typedef struct al_fwd_in {
	uint64_t amount_msat;
	uint32_t cltv_expiry;
	uint64_t amt_to_forward;
	uint32_t outgoing_cltv_value;
} al_fwd_in;

/* The outgoing channel the payload's short_channel_id names, as the node sees it. */
typedef struct al_fwd_out {
	bool known;            /* a channel of this node with that short_channel_id */
	bool closed;           /* closing or closed: it takes no HTLC any more */
	bool usable;           /* normal operation, its peer connected and reestablished */
	al_chan_policy policy; /* ours for that direction */
} al_fwd_out;

/* 0 when the HTLC may be offered over the channel at chain height `tip`, else the
 * failure code. */
uint16_t al_fwd_check(const al_fwd_in *in, const al_fwd_out *out, uint32_t tip);

/* The failure message for `code` (al_fwd_check's, or AL_FWD_TEMPORARY_CHANNEL_FAILURE
 * when the channel refused the HTLC) into msg[AL_FWD_FAILURE_MAX]: its length, 0 for a
 * code not of this module. `update` (with its type) is the outgoing channel's
 * channel_update, or NULL: "Nodes which do not provide a channel_update are expected
 * to set the channel_update len field to zero". */
size_t al_fwd_failure(uint8_t msg[AL_FWD_FAILURE_MAX], uint16_t code, const al_fwd_in *in,
                      const uint8_t *update, size_t update_len);

#endif
