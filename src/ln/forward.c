/* BOLT #4 at an intermediate node (ln/forward.h). */
#include <string.h>

#include "ln/forward.h"
#include "util/cursor.h"

uint16_t al_fwd_check(const al_fwd_in *in, const al_fwd_out *out, uint32_t tip)
{
	const al_chan_policy *p = &out->policy;
	uint64_t fee;

	/* "if the receiving peer specified by the onion is NOT known". */
	if (!out->known)
		return AL_FWD_UNKNOWN_NEXT_PEER;
	/* "if an otherwise unspecified, permanent error occurs during forwarding to its
	 * receiving peer (e.g. channel recently closed)". */
	if (out->closed)
		return AL_FWD_PERMANENT_CHANNEL_FAILURE;
	/* A peer away or a channel not yet (or no longer) in normal operation: "an
	 * otherwise unspecified, transient error ... in the outgoing channel". */
	if (!out->usable)
		return AL_FWD_TEMPORARY_CHANNEL_FAILURE;
	/* "if the HTLC amount is less than the currently specified minimum amount". */
	if (in->amt_to_forward < p->htlc_minimum_msat)
		return AL_FWD_AMOUNT_BELOW_MINIMUM;
	/* Above our channel_update's htlc_maximum_msat: more than we said we relay. */
	if (in->amt_to_forward > p->htlc_maximum_msat)
		return AL_FWD_TEMPORARY_CHANNEL_FAILURE;
	/* "if the HTLC does NOT pay a sufficient fee" (BOLT #7: fee_base_msat +
	 * amount_to_forward * fee_proportional_millionths / 1000000). */
	fee = al_chan_policy_fee(p, in->amt_to_forward);
	if (in->amount_msat < in->amt_to_forward || in->amount_msat - in->amt_to_forward < fee)
		return AL_FWD_FEE_INSUFFICIENT;
	/* "cltv_expiry - cltv_expiry_delta >= outgoing_cltv_value". */
	if ((uint64_t)in->outgoing_cltv_value + p->cltv_expiry_delta > in->cltv_expiry)
		return AL_FWD_INCORRECT_CLTV_EXPIRY;
	/* "if the cltv_expiry is unreasonably near the present". */
	if ((uint64_t)in->outgoing_cltv_value <= (uint64_t)tip + AL_FWD_MIN_BLOCKS_LEFT)
		return AL_FWD_EXPIRY_TOO_SOON;
	/* "if the cltv_expiry is more than max_htlc_cltv in the future". */
	if ((uint64_t)in->cltv_expiry > (uint64_t)tip + AL_FWD_MAX_HTLC_CLTV)
		return AL_FWD_EXPIRY_TOO_FAR;
	return 0;
}

size_t al_fwd_failure(uint8_t msg[AL_FWD_FAILURE_MAX], uint16_t code, const al_fwd_in *in,
                      const uint8_t *update, size_t update_len)
{
	al_wb w;

	if (!update || update_len > AL_CHAN_UPDATE_LEN)
		update_len = 0;
	al_wb_init(&w, msg, AL_FWD_FAILURE_MAX);
	al_wb_be16(&w, code);
	switch (code) {
	case AL_FWD_UNKNOWN_NEXT_PEER:
	case AL_FWD_PERMANENT_CHANNEL_FAILURE:
	case AL_FWD_EXPIRY_TOO_FAR:
		return w.len;
	case AL_FWD_AMOUNT_BELOW_MINIMUM:
		/* "report the amount of the outgoing HTLC". */
		al_wb_be64(&w, in->amt_to_forward);
		break;
	case AL_FWD_FEE_INSUFFICIENT:
		/* "report the amount of the incoming HTLC". */
		al_wb_be64(&w, in->amount_msat);
		break;
	case AL_FWD_INCORRECT_CLTV_EXPIRY:
		/* "report the cltv_expiry of the outgoing HTLC". */
		al_wb_be32(&w, in->outgoing_cltv_value);
		break;
	case AL_FWD_CHANNEL_DISABLED:
		al_wb_be16(&w, 0); /* disabled_flags: "currently always two zero bytes" */
		break;
	case AL_FWD_TEMPORARY_CHANNEL_FAILURE:
	case AL_FWD_EXPIRY_TOO_SOON:
		break;
	default:
		return 0;
	}
	al_wb_be16(&w, (uint16_t)update_len);
	if (update_len)
		al_wb_bytes(&w, update, update_len);
	return al_wb_ok(&w) ? w.len : 0;
}
