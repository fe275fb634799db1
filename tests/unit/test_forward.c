/* BOLT #7 channel_update (ln/gossip.h) and BOLT #4 forwarding checks (ln/forward.h):
 * an update signed here verifies with the signer's node id and no other, every byte of
 * it is covered (a flip anywhere fails), bytes after htlc_maximum_msat are signed over;
 * the fee formula at its edges; every failure a forwarding node gives, in BOLT #4's
 * order, with its message byte for byte against the spec's layouts. */
#include <string.h>

#include "crypto/hash.h"
#include "ln/forward.h"
#include "test.h"

static const al_privkey key_b = {{0xb2}}, key_c = {{0xc3}};

static void pub(uint8_t out[33], const al_privkey *k)
{
	al_pubkey pk;

	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pk, k));
	al_pubkey_serialize(al_t_secp(), out, &pk);
}

static al_chan_update update(void)
{
	al_chan_update u;

	memset(&u, 0, sizeof(u));
	memset(u.chain_hash, 0x06, 32);
	u.scid = (uint64_t)800000 << 40 | (uint64_t)7 << 16 | 1;
	u.timestamp = 1765000000;
	u.message_flags = AL_CHAN_UPDATE_DONT_FORWARD;
	u.channel_flags = AL_CHAN_UPDATE_DIRECTION;
	u.policy.cltv_expiry_delta = 80;
	u.policy.htlc_minimum_msat = 1000;
	u.policy.fee_base_msat = 1000;
	u.policy.fee_proportional_millionths = 1;
	u.policy.htlc_maximum_msat = 300000000;
	return u;
}

static void test_channel_update(void)
{
	uint8_t msg[AL_CHAN_UPDATE_LEN + 3], id_b[33], id_c[33], h[32];
	al_chan_update u = update(), got;
	al_ecdsa_sig sig;
	al_pubkey pk;

	pub(id_b, &key_b);
	pub(id_c, &key_c);
	CHECK_OK(al_chan_update_sign(msg, al_t_secp(), &key_b, &u));
	/* The layout of BOLT #7, field by field. */
	CHECK(msg[0] == 0x01 && msg[1] == 0x02);
	CHECK_MEM(msg + 66, u.chain_hash, 32);
	CHECK(msg[98] == 0x0c && msg[99] == 0x35 && msg[100] == 0x00); /* block 800000 */
	CHECK(msg[110] == (AL_CHAN_UPDATE_MUST_BE_ONE | AL_CHAN_UPDATE_DONT_FORWARD));
	CHECK(msg[111] == AL_CHAN_UPDATE_DIRECTION);
	CHECK(msg[112] == 0 && msg[113] == 80);
	/* The signature is over the double SHA-256 of everything after it. */
	al_sha256d(h, msg + 66, AL_CHAN_UPDATE_LEN - 66);
	CHECK_OK(al_ecdsa_sig_parse_compact(al_t_secp(), &sig, msg + 2));
	CHECK_OK(al_pubkey_parse(al_t_secp(), &pk, id_b, 33));
	CHECK_OK(al_ecdsa_verify(al_t_secp(), &sig, h, &pk));

	CHECK_OK(al_chan_update_verify(&got, al_t_secp(), id_b, msg, AL_CHAN_UPDATE_LEN));
	CHECK(got.scid == u.scid && got.timestamp == u.timestamp);
	CHECK(got.policy.fee_base_msat == 1000 && got.policy.fee_proportional_millionths == 1);
	CHECK(got.policy.cltv_expiry_delta == 80 && got.policy.htlc_minimum_msat == 1000);
	CHECK(got.policy.htlc_maximum_msat == 300000000);
	CHECK(got.message_flags == (AL_CHAN_UPDATE_MUST_BE_ONE | AL_CHAN_UPDATE_DONT_FORWARD));
	/* Another node's key: refused. */
	CHECK_ERR(al_chan_update_verify(&got, al_t_secp(), id_c, msg, AL_CHAN_UPDATE_LEN),
	          AL_E_GOSSIP_SIGNATURE);
	CHECK(got.scid == 0);
	/* Any byte changed after the type: refused (the signature or what it covers). */
	for (size_t i = 2; i < AL_CHAN_UPDATE_LEN; i++) {
		msg[i] ^= 0x01;
		CHECK(al_chan_update_verify(&got, al_t_secp(), id_b, msg, AL_CHAN_UPDATE_LEN) !=
		      AL_OK);
		msg[i] ^= 0x01;
	}
	CHECK_ERR(al_chan_update_verify(&got, al_t_secp(), id_b, msg, AL_CHAN_UPDATE_LEN - 1),
	          AL_E_TRUNCATED);
	/* Bytes after htlc_maximum_msat are the signer's too: appended, they break it. */
	memcpy(msg + AL_CHAN_UPDATE_LEN, "\x01\x02\x03", 3);
	CHECK_ERR(al_chan_update_verify(&got, al_t_secp(), id_b, msg, sizeof(msg)),
	          AL_E_GOSSIP_SIGNATURE);
	msg[0] = 0x01, msg[1] = 0x01;
	CHECK_ERR(al_chan_update_verify(&got, al_t_secp(), id_b, msg, AL_CHAN_UPDATE_LEN),
	          AL_E_GOSSIP_TYPE);
	/* The origin node's MUSTs. */
	u.timestamp = 0;
	CHECK_ERR(al_chan_update_sign(msg, al_t_secp(), &key_b, &u), AL_E_ARG);
	u = update();
	u.policy.htlc_minimum_msat = u.policy.htlc_maximum_msat + 1;
	CHECK_ERR(al_chan_update_sign(msg, al_t_secp(), &key_b, &u), AL_E_ARG);
	/* Unassigned flag bits are sent as zero. */
	u = update();
	u.message_flags = 0xfc;
	u.channel_flags = 0xfc;
	CHECK_OK(al_chan_update_sign(msg, al_t_secp(), &key_b, &u));
	CHECK(msg[110] == AL_CHAN_UPDATE_MUST_BE_ONE && msg[111] == 0);
	/* direction: 0 for node_id_1, the lesser key. */
	CHECK(al_chan_update_direction(id_b, id_c) ==
	      (memcmp(id_b, id_c, 33) < 0 ? 0 : AL_CHAN_UPDATE_DIRECTION));
	CHECK(al_chan_update_direction(id_b, id_c) != al_chan_update_direction(id_c, id_b));
}

static void test_fee(void)
{
	al_chan_policy p = {.fee_base_msat = 1000, .fee_proportional_millionths = 1};

	CHECK(al_chan_policy_fee(&p, 0) == 1000);
	CHECK(al_chan_policy_fee(&p, 999999) == 1000);
	CHECK(al_chan_policy_fee(&p, 1000000) == 1001);
	CHECK(al_chan_policy_fee(&p, 20000000) == 1020);
	p.fee_proportional_millionths = 2500;
	CHECK(al_chan_policy_fee(&p, 1234567) == 1000 + 3086);
	p.fee_proportional_millionths = UINT32_MAX;
	CHECK(al_chan_policy_fee(&p, UINT64_MAX) == UINT64_MAX);
	CHECK(al_chan_policy_fee(&p, 1000000) == 1000 + (uint64_t)UINT32_MAX);
}

static const uint32_t tip = 800000;

static al_fwd_in in_ok(void)
{
	al_fwd_in in = {.amount_msat = 20001020,
	                .cltv_expiry = tip + 120,
	                .amt_to_forward = 20000000,
	                .outgoing_cltv_value = tip + 40};
	return in;
}

static al_fwd_out out_ok(void)
{
	al_fwd_out o;

	memset(&o, 0, sizeof(o));
	o.known = o.usable = true;
	o.policy = update().policy;
	return o;
}

static void test_checks(void)
{
	al_fwd_in in = in_ok();
	al_fwd_out o = out_ok();

	CHECK(al_fwd_check(&in, &o, tip) == 0);
	/* The fee exactly, and one msat short. */
	in.amount_msat = 20001020 - 1;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_FEE_INSUFFICIENT);
	in.amount_msat = 19000000; /* below what it forwards */
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_FEE_INSUFFICIENT);
	/* The CLTV delta exactly, and one block short. */
	in = in_ok();
	in.cltv_expiry = tip + 40 + 80;
	CHECK(al_fwd_check(&in, &o, tip) == 0);
	in.cltv_expiry--;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_INCORRECT_CLTV_EXPIRY);
	/* Too near the tip, and too far. */
	in = in_ok();
	in.outgoing_cltv_value = tip + AL_FWD_MIN_BLOCKS_LEFT;
	in.cltv_expiry = in.outgoing_cltv_value + 80;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_EXPIRY_TOO_SOON);
	in.outgoing_cltv_value++;
	in.cltv_expiry++;
	CHECK(al_fwd_check(&in, &o, tip) == 0);
	in = in_ok();
	in.cltv_expiry = tip + AL_FWD_MAX_HTLC_CLTV + 1;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_EXPIRY_TOO_FAR);
	/* The amount against the channel's minimum and maximum. */
	in = in_ok();
	in.amt_to_forward = 999;
	in.amount_msat = 999 + 1000;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_AMOUNT_BELOW_MINIMUM);
	in.amt_to_forward = 300000001;
	in.amount_msat = 400000000;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_TEMPORARY_CHANNEL_FAILURE);
	/* The channel: unknown, closed, not usable; the first error in BOLT #4's list. */
	in = in_ok();
	in.amount_msat = 1; /* fee too: the channel's state is told first */
	o.usable = false;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_TEMPORARY_CHANNEL_FAILURE);
	o.closed = true;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_PERMANENT_CHANNEL_FAILURE);
	o.known = false;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_UNKNOWN_NEXT_PEER);
	/* Fee before CLTV, CLTV before expiry. */
	o = out_ok();
	in = in_ok();
	in.amount_msat--;
	in.cltv_expiry = tip + 2;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_FEE_INSUFFICIENT);
	in.amount_msat++;
	CHECK(al_fwd_check(&in, &o, tip) == AL_FWD_INCORRECT_CLTV_EXPIRY);
}

static void test_failures(void)
{
	uint8_t msg[AL_FWD_FAILURE_MAX], upd[AL_CHAN_UPDATE_LEN];
	al_chan_update u = update();
	al_fwd_in in = in_ok();

	CHECK_OK(al_chan_update_sign(upd, al_t_secp(), &key_b, &u));
	/* UPDATE|12 fee_insufficient: htlc_msat (the incoming HTLC's), len, channel_update. */
	CHECK(al_fwd_failure(msg, AL_FWD_FEE_INSUFFICIENT, &in, upd, sizeof(upd)) ==
	      2 + 8 + 2 + 138);
	CHECK_MEM(msg, "\x10\x0c\x00\x00\x00\x00\x01\x31\x30\xfc\x00\x8a", 12);
	CHECK_MEM(msg + 12, upd, sizeof(upd));
	/* UPDATE|11 amount_below_minimum: the outgoing amount. */
	CHECK(al_fwd_failure(msg, AL_FWD_AMOUNT_BELOW_MINIMUM, &in, NULL, 0) == 12);
	CHECK_MEM(msg, "\x10\x0b\x00\x00\x00\x00\x01\x31\x2d\x00\x00\x00", 12);
	/* UPDATE|13 incorrect_cltv_expiry: the outgoing HTLC's cltv_expiry. */
	CHECK(al_fwd_failure(msg, AL_FWD_INCORRECT_CLTV_EXPIRY, &in, NULL, 0) == 8);
	CHECK_MEM(msg, "\x10\x0d\x00\x0c\x35\x28\x00\x00", 8);
	/* UPDATE|7 and UPDATE|14: len and channel_update only. */
	CHECK(al_fwd_failure(msg, AL_FWD_TEMPORARY_CHANNEL_FAILURE, &in, upd, sizeof(upd)) == 142);
	CHECK_MEM(msg, "\x10\x07\x00\x8a\x01\x02", 6);
	CHECK(al_fwd_failure(msg, AL_FWD_EXPIRY_TOO_SOON, &in, NULL, 0) == 4);
	CHECK_MEM(msg, "\x10\x0e\x00\x00", 4);
	/* UPDATE|20 channel_disabled: disabled_flags first. */
	CHECK(al_fwd_failure(msg, AL_FWD_CHANNEL_DISABLED, &in, NULL, 0) == 6);
	CHECK_MEM(msg, "\x10\x14\x00\x00\x00\x00", 6);
	/* No data. */
	CHECK(al_fwd_failure(msg, AL_FWD_UNKNOWN_NEXT_PEER, &in, upd, sizeof(upd)) == 2);
	CHECK_MEM(msg, "\x40\x0a", 2);
	CHECK(al_fwd_failure(msg, AL_FWD_PERMANENT_CHANNEL_FAILURE, &in, NULL, 0) == 2);
	CHECK(al_fwd_failure(msg, AL_FWD_EXPIRY_TOO_FAR, &in, NULL, 0) == 2);
	CHECK_MEM(msg, "\x00\x15", 2);
	/* Not a forwarding node's code. */
	CHECK(al_fwd_failure(msg, 0x400f, &in, NULL, 0) == 0);
}

int main(void)
{
	test_channel_update();
	test_fee();
	test_checks();
	test_failures();
	return al_t_finish();
}
