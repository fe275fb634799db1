/* Fuzz BOLT #7 channel_update (ln/gossip.h) and the forwarding failure builder
 * (ln/forward.h). The input is read as a channel_update from a fixed node: decoding and
 * the signature check must never crash, and (no signature being forgeable) never accept.
 * Then its bytes, taken as the fields of an update, are signed and must verify to the
 * same fields; taken as an incoming HTLC, every forwarding failure is built within
 * AL_FWD_FAILURE_MAX. Seeds: updates signed by alight and by hand-made fields. */
#include <stdlib.h>
#include <string.h>

#include "crypto/secp.h"
#include "ln/forward.h"
#include "util/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const al_secp *secp(void)
{
	static uint8_t mem[1 << 20];
	static al_secp *ctx;

	if (!ctx && al_secp_create(&ctx, mem, sizeof(mem), NULL) != AL_OK)
		abort();
	return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const al_privkey key = {{0x42}};
	static const uint16_t codes[] = {AL_FWD_TEMPORARY_CHANNEL_FAILURE,
	                                 AL_FWD_PERMANENT_CHANNEL_FAILURE,
	                                 AL_FWD_UNKNOWN_NEXT_PEER,
	                                 AL_FWD_AMOUNT_BELOW_MINIMUM,
	                                 AL_FWD_FEE_INSUFFICIENT,
	                                 AL_FWD_INCORRECT_CLTV_EXPIRY,
	                                 AL_FWD_EXPIRY_TOO_SOON,
	                                 AL_FWD_CHANNEL_DISABLED,
	                                 AL_FWD_EXPIRY_TOO_FAR};
	uint8_t id[AL_PUBKEY_LEN], msg[AL_CHAN_UPDATE_LEN], fail[AL_FWD_FAILURE_MAX];
	al_chan_update u, got;
	al_fwd_in in;
	al_fwd_out out;
	al_pubkey pk;
	al_cur c;

	if (al_pubkey_from_privkey(secp(), &pk, &key) != AL_OK)
		abort();
	al_pubkey_serialize(secp(), id, &pk);
	if (al_chan_update_verify(&got, secp(), id, data, size) == AL_OK)
		abort(); /* a forged signature */

	memset(&u, 0, sizeof(u));
	al_cur_init(&c, data, size);
	al_cur_bytes(&c, u.chain_hash, 32);
	u.scid = al_cur_be64(&c);
	u.timestamp = al_cur_be32(&c) | 1;
	u.message_flags = al_cur_u8(&c);
	u.channel_flags = al_cur_u8(&c);
	u.policy.cltv_expiry_delta = al_cur_be16(&c);
	u.policy.htlc_minimum_msat = al_cur_be64(&c);
	u.policy.fee_base_msat = al_cur_be32(&c);
	u.policy.fee_proportional_millionths = al_cur_be32(&c);
	u.policy.htlc_maximum_msat = al_cur_be64(&c);
	if (al_chan_update_sign(msg, secp(), &key, &u) == AL_OK) {
		if (al_chan_update_verify(&got, secp(), id, msg, sizeof(msg)) != AL_OK ||
		    got.scid != u.scid || got.timestamp != u.timestamp ||
		    memcmp(&got.policy, &u.policy, sizeof(u.policy)) != 0)
			abort();
	}
	memset(&in, 0, sizeof(in));
	in.amount_msat = al_cur_be64(&c);
	in.cltv_expiry = al_cur_be32(&c);
	in.amt_to_forward = al_cur_be64(&c);
	in.outgoing_cltv_value = al_cur_be32(&c);
	memset(&out, 0, sizeof(out));
	out.known = out.usable = true;
	out.policy = u.policy;
	(void)al_fwd_check(&in, &out, u.timestamp);
	(void)al_chan_policy_fee(&u.policy, in.amt_to_forward);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (al_fwd_failure(fail, codes[i], &in, msg, sizeof(msg)) > sizeof(fail))
			abort();
	return 0;
}
