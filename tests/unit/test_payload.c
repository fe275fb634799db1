/* BOLT #4 hop payloads: round trips through the writer, and every refusal of the
 * reader with the TLV type it names (invalid_onion_payload's data). Payloads are
 * written out byte by byte here, so the reader is checked against the spec's
 * encoding rather than against the writer. */
#include <string.h>

#include "ln/payload.h"
#include "test.h"

static al_hop_payload p;

#define DECODE(final, ...)                                                                         \
	al_hop_payload_decode(&p, (const uint8_t[]){__VA_ARGS__},                                  \
	                      sizeof((const uint8_t[]){__VA_ARGS__}), final)

static void test_reader(void)
{
	/* A forward: amt 15000, cltv 1500, scid 1 (onion-test's first hop). */
	CHECK_OK(DECODE(false, 2, 2, 0x3a, 0x98, 4, 2, 0x05, 0xdc, 6, 8, 0, 0, 0, 0, 0, 0, 0, 1));
	CHECK(p.amt_to_forward == 15000 && p.outgoing_cltv_value == 1500 && p.has_scid &&
	      p.short_channel_id == 1);
	/* The same at the final node: short_channel_id is the writer's error. */
	CHECK_ERR(DECODE(true, 2, 2, 0x3a, 0x98, 4, 2, 0x05, 0xdc, 6, 8, 0, 0, 0, 0, 0, 0, 0, 1),
	          AL_E_PAYLOAD_FIELD);
	CHECK(p.bad_type == 6 && p.amt_to_forward == 0);
	/* Missing amount, cltv, channel. */
	CHECK_ERR(DECODE(true, 4, 1, 9), AL_E_PAYLOAD_MISSING);
	CHECK(p.bad_type == 2);
	CHECK_ERR(DECODE(true, 2, 1, 9), AL_E_PAYLOAD_MISSING);
	CHECK(p.bad_type == 4);
	CHECK_ERR(DECODE(false, 2, 1, 9, 4, 1, 9), AL_E_PAYLOAD_MISSING);
	CHECK(p.bad_type == 6);
	/* A final payload with payment_data (secret 0x11.., total 0x0100) and an unknown
	 * odd record; the same payment_data on a forward is refused. */
	CHECK_OK(DECODE(true, 2, 1, 9, 4, 1, 9, 8, 34, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	                0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	                0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	                0x11, 1, 0, 0x21, 1, 0xff));
	CHECK(p.has_payment_data && p.total_msat == 256 && p.payment_secret[31] == 0x11);
	CHECK_ERR(DECODE(false, 2, 1, 9, 4, 1, 9, 6, 8, 0, 0, 0, 0, 0, 0, 0, 1, 8, 32, 0x11, 0x11,
	                 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	                 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	                 0x11, 0x11, 0x11, 0x11, 0x11, 0x11),
	          AL_E_PAYLOAD_FIELD);
	CHECK(p.bad_type == 8);
	/* Blinded-route records. */
	CHECK_ERR(DECODE(true, 2, 1, 9, 4, 1, 9, 10, 1, 0), AL_E_PAYLOAD_BLINDED);
	CHECK(p.bad_type == 10);
	CHECK_ERR(DECODE(true, 2, 1, 9, 4, 1, 9, 18, 1, 5), AL_E_PAYLOAD_BLINDED);
	CHECK(p.bad_type == 18);
	/* Unknown even; value lengths; non-minimal truncated integers; order. */
	CHECK_ERR(DECODE(true, 2, 1, 9, 4, 1, 9, 20, 0), AL_E_TLV_UNKNOWN_EVEN);
	CHECK(p.bad_type == 20);
	CHECK_ERR(DECODE(false, 2, 1, 9, 4, 1, 9, 6, 7, 0, 0, 0, 0, 0, 0, 1),
	          AL_E_TLV_VALUE_LENGTH);
	CHECK(p.bad_type == 6);
	CHECK_ERR(DECODE(true, 2, 2, 0, 9, 4, 1, 9), AL_E_TLV_NONMINIMAL);
	CHECK(p.bad_type == 2);
	CHECK_ERR(DECODE(true, 2, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 1, 9), AL_E_TLV_VALUE_LENGTH);
	CHECK_ERR(DECODE(true, 4, 1, 9, 2, 1, 9), AL_E_TLV_ORDER);
	CHECK_ERR(DECODE(true, 2, 1, 9, 4, 5, 9), AL_E_TLV_LENGTH);
	CHECK(p.bad_type == 0);
	CHECK_ERR(DECODE(true, 2, 1, 9, 8, 31, 1), AL_E_TLV_LENGTH);
	/* Keysend's preimage record, even, known here. */
	{
		uint8_t b[3 + 3 + 9 + 1 + 32] = {2, 1, 9, 4, 1, 9};

		/* 5482373484 = 0x146c6616c needs the 9-byte bigsize form. */
		memcpy(b + 6, (const uint8_t[]){0xff, 0, 0, 0, 1, 0x46, 0xc6, 0x61, 0x6c, 32}, 10);
		memset(b + 16, 0xab, 32);
		CHECK_OK(al_hop_payload_decode(&p, b, 48, true));
		CHECK(p.has_keysend && p.keysend_preimage[0] == 0xab &&
		      p.keysend_preimage[31] == 0xab);
	}
}

static void test_writer(void)
{
	static const uint8_t meta[3] = {1, 0xfa, 0xf0};
	al_hop_payload in = {0}, out;
	uint8_t buf[200];
	size_t len;

	in.amt_to_forward = 1000000;
	in.outgoing_cltv_value = 800144;
	in.has_payment_data = true;
	memset(in.payment_secret, 0x22, 32);
	in.total_msat = 3000000;
	in.metadata = meta;
	in.metadata_len = sizeof(meta);
	in.has_keysend = true;
	memset(in.keysend_preimage, 0x33, 32);
	CHECK_OK(al_hop_payload_encode(buf, sizeof(buf), &len, &in));
	CHECK_OK(al_hop_payload_decode(&out, buf, len, true));
	CHECK(out.amt_to_forward == in.amt_to_forward &&
	      out.outgoing_cltv_value == in.outgoing_cltv_value &&
	      out.total_msat == in.total_msat && out.metadata_len == 3 &&
	      memcmp(out.metadata, meta, 3) == 0 && out.has_keysend &&
	      memcmp(out.payment_secret, in.payment_secret, 32) == 0);
	/* amt 1000000 = 0x0f4240 (3 bytes), cltv 800144 = 0x0c3590 (3 bytes). */
	CHECK_MEM(buf, ((const uint8_t[]){2, 3, 0x0f, 0x42, 0x40, 4, 3, 0x0c, 0x35, 0x90}), 10);
	CHECK_ERR(al_hop_payload_encode(buf, 20, &len, &in), AL_E_BUFSIZE);
	CHECK(len > 20);
	/* A forward: zero amounts are written as empty values. */
	memset(&in, 0, sizeof(in));
	in.has_scid = true;
	in.short_channel_id = 0x0102030405060708;
	CHECK_OK(al_hop_payload_encode(buf, sizeof(buf), &len, &in));
	CHECK(len == 2 + 2 + 10);
	CHECK_OK(al_hop_payload_decode(&out, buf, len, false));
	CHECK(out.short_channel_id == in.short_channel_id);
}

int main(void)
{
	test_reader();
	test_writer();
	return al_t_finish();
}
