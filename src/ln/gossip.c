/* BOLT #7 channel_update, the private case (ln/gossip.h). */
#include <string.h>

#include "crypto/hash.h"
#include "ln/gossip.h"
#include "util/cursor.h"
#include "util/mem.h"

/* Where the signed part starts: after the type and the signature. */
#define SIGNED_FROM (2 + 64)

uint64_t al_chan_policy_fee(const al_chan_policy *p, uint64_t amount_msat)
{
	/* amount * rate / 10^6 in two halves, so that no product wraps. */
	uint64_t rate = p->fee_proportional_millionths;
	uint64_t whole = amount_msat / 1000000u, rest = amount_msat % 1000000u;
	uint64_t fee = rest * rate / 1000000u;

	if (whole && rate > (UINT64_MAX - fee - p->fee_base_msat) / whole)
		return UINT64_MAX;
	return p->fee_base_msat + fee + whole * rate;
}

uint8_t al_chan_update_direction(const uint8_t self[AL_PUBKEY_LEN],
                                 const uint8_t peer[AL_PUBKEY_LEN])
{
	return memcmp(self, peer, AL_PUBKEY_LEN) < 0 ? 0 : AL_CHAN_UPDATE_DIRECTION;
}

al_err al_chan_update_sign(uint8_t out[AL_CHAN_UPDATE_LEN], const al_secp *secp,
                           const al_privkey *node_key, const al_chan_update *u)
{
	const al_chan_policy *p = &u->policy;
	uint8_t h[32];
	al_ecdsa_sig sig;
	al_wb w;

	/* BOLT #7: "MUST set `htlc_minimum_msat` to less than or equal to
	 * `htlc_maximum_msat`", "MUST set `timestamp` to greater than 0". */
	if (p->htlc_minimum_msat > p->htlc_maximum_msat || u->timestamp == 0)
		return AL_E_ARG;
	al_wb_init(&w, out, AL_CHAN_UPDATE_LEN);
	al_wb_be16(&w, AL_WIRE_CHANNEL_UPDATE);
	al_wb_bytes(&w, (const uint8_t[64]){0}, 64);
	al_wb_bytes(&w, u->chain_hash, 32);
	al_wb_be64(&w, u->scid);
	al_wb_be32(&w, u->timestamp);
	/* "MUST set `must_be_one` in `message_flags` to 1"; "MUST set bits ... that are
	 * not assigned a meaning to 0". */
	al_wb_u8(&w, (uint8_t)((u->message_flags & AL_CHAN_UPDATE_DONT_FORWARD) |
	                       AL_CHAN_UPDATE_MUST_BE_ONE));
	al_wb_u8(&w, u->channel_flags & (AL_CHAN_UPDATE_DIRECTION | AL_CHAN_UPDATE_DISABLE));
	al_wb_be16(&w, p->cltv_expiry_delta);
	al_wb_be64(&w, p->htlc_minimum_msat);
	al_wb_be32(&w, p->fee_base_msat);
	al_wb_be32(&w, p->fee_proportional_millionths);
	al_wb_be64(&w, p->htlc_maximum_msat);
	if (!al_wb_ok(&w) || w.len != AL_CHAN_UPDATE_LEN)
		return AL_E_BUFSIZE;
	al_sha256d(h, out + SIGNED_FROM, AL_CHAN_UPDATE_LEN - SIGNED_FROM);
	AL_TRY(al_ecdsa_sign(secp, &sig, h, node_key));
	al_ecdsa_sig_serialize_compact(secp, out + 2, &sig);
	return AL_OK;
}

static al_err verify(al_chan_update *u, const al_secp *secp, const uint8_t node_id[AL_PUBKEY_LEN],
                     const uint8_t *msg, size_t len)
{
	al_chan_policy *p = &u->policy;
	al_ecdsa_sig sig;
	al_pubkey pk;
	uint8_t h[32];
	al_cur c;

	if (len < AL_CHAN_UPDATE_LEN)
		return AL_E_TRUNCATED;
	al_cur_init(&c, msg, len);
	if (al_cur_be16(&c) != AL_WIRE_CHANNEL_UPDATE)
		return AL_E_GOSSIP_TYPE;
	al_cur_skip(&c, 64);
	al_cur_bytes(&c, u->chain_hash, 32);
	u->scid = al_cur_be64(&c);
	u->timestamp = al_cur_be32(&c);
	u->message_flags = al_cur_u8(&c);
	u->channel_flags = al_cur_u8(&c);
	p->cltv_expiry_delta = al_cur_be16(&c);
	p->htlc_minimum_msat = al_cur_be64(&c);
	p->fee_base_msat = al_cur_be32(&c);
	p->fee_proportional_millionths = al_cur_be32(&c);
	p->htlc_maximum_msat = al_cur_be64(&c);
	if (!al_cur_ok(&c))
		return c.err;
	if (!(u->message_flags & AL_CHAN_UPDATE_MUST_BE_ONE))
		return AL_E_GOSSIP_FLAGS;
	/* "the double-SHA256 of the entire message following the `signature` field
	 * (including unknown fields following `fee_proportional_millionths`)". */
	if (al_ecdsa_sig_parse_compact(secp, &sig, msg + 2) != AL_OK ||
	    al_pubkey_parse(secp, &pk, node_id, AL_PUBKEY_LEN) != AL_OK)
		return AL_E_GOSSIP_SIGNATURE;
	al_sha256d(h, msg + SIGNED_FROM, len - SIGNED_FROM);
	if (al_ecdsa_verify(secp, &sig, h, &pk) != AL_OK)
		return AL_E_GOSSIP_SIGNATURE;
	return AL_OK;
}

al_err al_chan_update_verify(al_chan_update *u, const al_secp *secp,
                             const uint8_t node_id[AL_PUBKEY_LEN], const uint8_t *msg, size_t len)
{
	al_err e;

	memset(u, 0, sizeof(*u));
	e = verify(u, secp, node_id, msg, len);
	if (e != AL_OK)
		memset(u, 0, sizeof(*u));
	return e;
}
