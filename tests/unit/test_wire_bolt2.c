/* BOLT #2 messages of wire/bolt.csv against an independent codec: Electrum 4.3.4's
 * (tests/data/bolt2_electrum.json, made by tests/data/electrum_bolt2.py with
 * electrum.lnmsg over its own lnwire/peer_wire.csv). Each message decodes with our
 * generated decoder into the field values the script set, and writes back to the
 * same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ln/wire.h"
#include "test.h"
#include "vectors.h"

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* A compressed point written by the script: 0x02 then 32 bytes of v. */
static bool pt(const uint8_t *p, uint8_t v)
{
	return p[0] == 2 && all(p + 1, 32, v);
}

static void check_open(const union al_wire_any *u)
{
	const struct al_wire_open_channel *m = &u->open_channel;

	CHECK(m->chain_hash[0] == 0x06 && all(m->temporary_channel_id, 32, 0x11));
	CHECK(m->funding_satoshis == 1000000 && m->push_msat == 2000);
	CHECK(m->dust_limit_satoshis == 546 && m->max_htlc_value_in_flight_msat == 990000000);
	CHECK(m->channel_reserve_satoshis == 10000 && m->htlc_minimum_msat == 1);
	CHECK(m->feerate_per_kw == 2500 && m->to_self_delay == 144 && m->max_accepted_htlcs == 30);
	CHECK(pt(m->funding_pubkey, 0x21) && pt(m->revocation_basepoint, 0x22));
	CHECK(pt(m->payment_basepoint, 0x23) && pt(m->delayed_payment_basepoint, 0x24));
	CHECK(pt(m->htlc_basepoint, 0x25) && pt(m->first_per_commitment_point, 0x26));
	CHECK(m->channel_flags == 1);
	CHECK(m->tlvs.has_upfront_shutdown_script &&
	      m->tlvs.upfront_shutdown_script.shutdown_scriptpubkey_len == 0);
	CHECK(m->tlvs.has_channel_type && m->tlvs.channel_type.type_len == 2 &&
	      m->tlvs.channel_type.type[0] == 0x10 && m->tlvs.channel_type.type[1] == 0);
}

static void check_accept(const union al_wire_any *u)
{
	const struct al_wire_accept_channel *m = &u->accept_channel;

	CHECK(all(m->temporary_channel_id, 32, 0x11) && m->dust_limit_satoshis == 546);
	CHECK(m->max_htlc_value_in_flight_msat == 990000000 &&
	      m->channel_reserve_satoshis == 10000);
	CHECK(m->htlc_minimum_msat == 1 && m->minimum_depth == 3 && m->to_self_delay == 1008);
	CHECK(m->max_accepted_htlcs == 483 && pt(m->funding_pubkey, 0x31));
	CHECK(pt(m->revocation_basepoint, 0x32) && pt(m->payment_basepoint, 0x33));
	CHECK(pt(m->delayed_payment_basepoint, 0x34) && pt(m->htlc_basepoint, 0x35));
	CHECK(pt(m->first_per_commitment_point, 0x36));
	CHECK(m->tlvs.has_upfront_shutdown_script && m->tlvs.has_channel_type);
}

static void check_msg(uint16_t type, const union al_wire_any *u)
{
	switch (type) {
	case AL_WIRE_OPEN_CHANNEL:
		check_open(u);
		break;
	case AL_WIRE_ACCEPT_CHANNEL:
		check_accept(u);
		break;
	case AL_WIRE_FUNDING_CREATED:
		CHECK(all(u->funding_created.funding_txid, 32, 0x41));
		CHECK(u->funding_created.funding_output_index == 1);
		CHECK(all(u->funding_created.signature, 64, 0x42));
		break;
	case AL_WIRE_FUNDING_SIGNED:
		CHECK(all(u->funding_signed.channel_id, 32, 0x51));
		CHECK(all(u->funding_signed.signature, 64, 0x52));
		break;
	case AL_WIRE_CHANNEL_READY:
		/* Electrum's funding_locked: no TLVs */
		CHECK(pt(u->channel_ready.second_per_commitment_point, 0x53));
		CHECK(!u->channel_ready.tlvs.has_short_channel_id);
		break;
	case AL_WIRE_SHUTDOWN:
		CHECK(u->shutdown.len == 22 && u->shutdown.scriptpubkey[1] == 0x14);
		break;
	case AL_WIRE_CLOSING_SIGNED:
		CHECK(u->closing_signed.fee_satoshis == 1234);
		CHECK(u->closing_signed.tlvs.has_fee_range);
		CHECK(u->closing_signed.tlvs.fee_range.min_fee_satoshis == 617);
		CHECK(u->closing_signed.tlvs.fee_range.max_fee_satoshis == 2468);
		break;
	case AL_WIRE_UPDATE_ADD_HTLC:
		CHECK(u->update_add_htlc.id == 7 && u->update_add_htlc.amount_msat == 100000);
		CHECK(u->update_add_htlc.cltv_expiry == 500144);
		CHECK(u->update_add_htlc.onion_routing_packet[255] == 255);
		CHECK(u->update_add_htlc.onion_routing_packet[1365] == 0x62);
		break;
	case AL_WIRE_UPDATE_FULFILL_HTLC:
		CHECK(u->update_fulfill_htlc.id == 7);
		CHECK(all(u->update_fulfill_htlc.payment_preimage, 32, 0x63));
		break;
	case AL_WIRE_UPDATE_FAIL_HTLC:
		CHECK(u->update_fail_htlc.id == 8 && u->update_fail_htlc.len == 3);
		CHECK(memcmp(u->update_fail_htlc.reason, "\x01\x02\x03", 3) == 0);
		break;
	case AL_WIRE_UPDATE_FAIL_MALFORMED_HTLC:
		CHECK(u->update_fail_malformed_htlc.failure_code == 0x8005);
		break;
	case AL_WIRE_COMMITMENT_SIGNED:
		CHECK(u->commitment_signed.num_htlcs == 2);
		CHECK(all(u->commitment_signed.htlc_signature + 64, 64, 0x73));
		break;
	case AL_WIRE_REVOKE_AND_ACK:
		CHECK(all(u->revoke_and_ack.per_commitment_secret, 32, 0x74));
		CHECK(pt(u->revoke_and_ack.next_per_commitment_point, 0x75));
		break;
	case AL_WIRE_UPDATE_FEE:
		CHECK(u->update_fee.feerate_per_kw == 45001);
		break;
	case AL_WIRE_CHANNEL_REESTABLISH:
		CHECK(u->channel_reestablish.next_commitment_number == 5);
		CHECK(u->channel_reestablish.next_revocation_number == 4);
		CHECK(all(u->channel_reestablish.your_last_per_commitment_secret, 32, 0x76));
		CHECK(pt(u->channel_reestablish.my_current_per_commitment_point, 0x77));
		break;
	default:
		CHECK(!"unexpected message");
	}
}

int main(void)
{
	static union al_wire_any u;
	static uint8_t out[AL_WIRE_MAX_MSG];
	json_t *root = al_v_load_data("bolt2_electrum.json");
	const json_t *msgs = json_object_get(root, "messages");
	size_t i, len, seen = 0;
	const uint8_t *msg;
	uint16_t type;
	al_wb w;

	for (i = 0; i < json_array_size(msgs); i++) {
		const json_t *m = json_array_get(msgs, i);
		const char *name = json_string_value(json_object_get(m, "name"));

		msg = al_t_unhex(json_string_value(json_object_get(m, "hex")), &len);
		CHECK_OK(al_wire_peek_type(&type, msg, len));
		/* Electrum still calls type 36 funding_locked. */
		CHECK(strcmp(name, "funding_locked") == 0
		          ? type == AL_WIRE_CHANNEL_READY
		          : strcmp(al_wire_msgtype_name(type), name) == 0);
		CHECK_OK(al_wire_decode_any(&u, msg, len));
		check_msg(type, &u);
		al_wb_init(&w, out, sizeof(out));
		al_wire_write_any(&w, type, &u);
		CHECK(al_wb_ok(&w) && w.len == len && memcmp(out, msg, len) == 0);
		CHECK(al_wire_fields_len(type, &u) <= len);
		seen++;
	}
	CHECK(seen == 15);
	json_decref(root);
	return al_t_finish();
}
