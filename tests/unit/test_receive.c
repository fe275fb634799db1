/* BOLT #4 at the final node (ln/receive.h): every failure a final node gives, with the
 * data the spec puts in it; multi-part sets fulfilled whole when they add up, failed
 * whole on a changed total or after 60 seconds; capacity refusals. Failure messages
 * are checked byte by byte against the spec's layouts. */
#include <string.h>

#include "crypto/hash.h"
#include "ln/receive.h"
#include "test.h"

static al_recv r;
static al_recv_invoice inv;
static const uint32_t height = 800000;
static const uint64_t unix_now = 1700000000;

static void invoice(uint64_t amount_msat)
{
	memset(&inv, 0, sizeof(inv));
	inv.known = true;
	memset(inv.preimage, 0x5a, 32);
	memset(inv.payment_secret, 0x33, 32);
	inv.has_amount = amount_msat != 0;
	inv.amount_msat = amount_msat;
	inv.min_final_cltv_expiry_delta = 18;
	inv.expires_at = unix_now + 3600;
}

static al_recv_htlc htlc(uint64_t id, uint64_t amt, uint64_t total)
{
	al_recv_htlc h;

	memset(&h, 0, sizeof(h));
	h.id = id;
	al_sha256(h.payment_hash, inv.preimage, 32);
	h.amount_msat = amt;
	h.cltv_expiry = height + 40;
	h.payload.amt_to_forward = amt;
	h.payload.outgoing_cltv_value = height + 40;
	h.payload.has_payment_data = true;
	memcpy(h.payload.payment_secret, inv.payment_secret, 32);
	h.payload.total_msat = total;
	return h;
}

/* The next decision must be this failure, byte for byte. */
static void want_fail(uint64_t id, const uint8_t *msg, size_t len)
{
	al_recv_decision d;

	CHECK(al_recv_next(&r, &d));
	CHECK(d.kind == AL_RECV_FAIL && d.id == id && d.failure_len == len);
	CHECK_MEM(d.failure, msg, len);
}

static void want_fulfill(uint64_t id, uint64_t total)
{
	al_recv_decision d;

	CHECK(al_recv_next(&r, &d));
	CHECK(d.kind == AL_RECV_FULFILL && d.id == id && d.total_msat == total);
	CHECK_MEM(d.preimage, inv.preimage, 32);
}

static void want_none(void)
{
	al_recv_decision d;

	CHECK(!al_recv_next(&r, &d));
}

/* incorrect_or_unknown_payment_details: PERM|15, htlc_msat u64, height u32 (800000). */
#define UNKNOWN(msat)                                                                              \
	(const uint8_t[]){0x40,                                                                    \
	                  0x0f,                                                                    \
	                  0,                                                                       \
	                  0,                                                                       \
	                  0,                                                                       \
	                  0,                                                                       \
	                  (uint8_t)((msat) >> 24),                                                 \
	                  (uint8_t)((msat) >> 16),                                                 \
	                  (uint8_t)((msat) >> 8),                                                  \
	                  (uint8_t)(msat),                                                         \
	                  0x00,                                                                    \
	                  0x0c,                                                                    \
	                  0x35,                                                                    \
	                  0x00},                                                                   \
	    14

static void test_single(void)
{
	al_recv_htlc h;

	al_recv_init(&r);
	invoice(100000);
	h = htlc(1, 100000, 100000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fulfill(1, 100000);
	want_none();
	/* Up to twice the amount is taken; more is not. */
	h = htlc(2, 200000, 200000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fulfill(2, 200000);
	h = htlc(3, 200001, 200001);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(3, UNKNOWN(200001));
	/* Too little; an HTLC carrying more than its payload says is fine. */
	h = htlc(4, 99999, 99999);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(4, UNKNOWN(99999));
	h = htlc(5, 100000, 100000);
	h.amount_msat = 100500;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fulfill(5, 100000);
	/* final_incorrect_htlc_amount: 19, incoming_htlc_amt u64 (99000 = 0x182b8). */
	h = htlc(6, 100000, 100000);
	h.amount_msat = 99000;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(6, (const uint8_t[]){0, 19, 0, 0, 0, 0, 0, 0x01, 0x82, 0xb8}, 10);
	/* final_incorrect_cltv_expiry: 18, cltv_expiry u32 (800039 = 0xc3527). */
	h = htlc(7, 100000, 100000);
	h.cltv_expiry = height + 39;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(7, (const uint8_t[]){0, 18, 0, 0x0c, 0x35, 0x27}, 6);
	/* Too near the present: 17 blocks where the invoice wants 18. */
	h = htlc(8, 100000, 100000);
	h.cltv_expiry = h.payload.outgoing_cltv_value = height + 17;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(8, UNKNOWN(100000));
	h.cltv_expiry = h.payload.outgoing_cltv_value = height + 18;
	h.id = 9;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fulfill(9, 100000);
	/* A wrong or missing secret, an unknown hash, an expired invoice. */
	h = htlc(10, 100000, 100000);
	h.payload.payment_secret[31] ^= 1;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(10, UNKNOWN(100000));
	h = htlc(11, 100000, 100000);
	h.payload.has_payment_data = false;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(11, UNKNOWN(100000));
	h = htlc(12, 100000, 100000);
	CHECK_OK(al_recv_offer(&r, &h, NULL, height, 0, unix_now));
	want_fail(12, UNKNOWN(100000));
	inv.known = false;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(12, UNKNOWN(100000));
	inv.known = true;
	h.id = 13;
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now + 3601));
	want_fail(13, UNKNOWN(100000));
	/* An invoice without an amount takes what the sender says it pays. */
	invoice(0);
	h = htlc(14, 1, 1);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fulfill(14, 1);
	want_none();
	CHECK(r.fulfilled == 5 && r.failed == 10);
	al_recv_clear(&r);
}

static void test_sets(void)
{
	al_recv_htlc h;
	size_t i;

	al_recv_init(&r);
	invoice(300000);
	/* Three parts: nothing is decided until the last arrives, then all at once. */
	for (i = 0; i < 3; i++) {
		h = htlc(100 + i, 100000, 300000);
		CHECK_OK(al_recv_offer(&r, &h, &inv, height, 1000 * i, unix_now));
		if (i < 2) {
			want_none();
			CHECK(al_recv_waiting(&r) == i + 1);
		}
	}
	for (i = 0; i < 3; i++)
		want_fulfill(100 + i, 300000);
	want_none();
	CHECK(al_recv_waiting(&r) == 0);
	/* Overshoot by a last part larger than needed: still one set. */
	h = htlc(110, 250000, 300000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	h = htlc(111, 100000, 300000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fulfill(110, 350000);
	want_fulfill(111, 350000);
	/* A part with another total fails the whole set and itself. */
	h = htlc(120, 100000, 300000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	h = htlc(121, 100000, 400000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 0, unix_now));
	want_fail(120, UNKNOWN(100000));
	want_fail(121, UNKNOWN(100000));
	/* The same HTLC twice is the caller's bug (whatever hash it claims the second time):
	 * refused, nothing decided. */
	h = htlc(130, 100000, 300000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 5000, unix_now));
	CHECK_ERR(al_recv_offer(&r, &h, &inv, height, 5000, unix_now), AL_E_ARG);
	h.payment_hash[5] ^= 1;
	CHECK_ERR(al_recv_offer(&r, &h, &inv, height, 5000, unix_now), AL_E_ARG);
	want_none();
	/* mpp_timeout (23, no data) 60 s after the first part, not before. */
	h = htlc(131, 100000, 300000);
	CHECK_OK(al_recv_offer(&r, &h, &inv, height, 30000, unix_now));
	al_recv_tick(&r, 64999);
	want_none();
	al_recv_tick(&r, 65000);
	want_fail(130, (const uint8_t[]){0, 23}, 2);
	want_fail(131, (const uint8_t[]){0, 23}, 2);
	want_none();
	/* Capacity: 16 sets of one part each; the 17th payment is a temporary failure. */
	for (i = 0; i < AL_RECV_MAX_SETS + 1; i++) {
		h = htlc(200 + i, 1000, 300000);
		h.payment_hash[0] = (uint8_t)i;
		CHECK_OK(al_recv_offer(&r, &h, &inv, height, 100000, unix_now));
	}
	want_fail(200 + AL_RECV_MAX_SETS, (const uint8_t[]){0x20, 0x02}, 2);
	want_none();
	CHECK(al_recv_waiting(&r) == AL_RECV_MAX_SETS);
	al_recv_tick(&r, 160000);
	for (i = 0; i < AL_RECV_MAX_SETS; i++)
		want_fail(200 + i, (const uint8_t[]){0, 23}, 2);
	/* 16 parts in one set; the 17th part is a temporary failure. */
	for (i = 0; i < AL_RECV_MAX_PARTS + 1; i++) {
		h = htlc(300 + i, 1000, 300000);
		CHECK_OK(al_recv_offer(&r, &h, &inv, height, 200000, unix_now));
	}
	want_fail(300 + AL_RECV_MAX_PARTS, (const uint8_t[]){0x20, 0x02}, 2);
	/* A full decision queue refuses the offer without deciding anything. */
	al_recv_init(&r);
	for (i = 0; r.q_len + AL_RECV_MAX_PARTS + 1 <= AL_RECV_MAX_DECISIONS; i++) {
		h = htlc(400 + i, 100000, 100000);
		h.payment_hash[1] = (uint8_t)i;
		CHECK_OK(al_recv_offer(&r, &h, NULL, height, 0, unix_now));
	}
	h = htlc(999, 100000, 100000);
	CHECK_ERR(al_recv_offer(&r, &h, &inv, height, 0, unix_now), AL_E_RECV_FULL);
	CHECK(al_recv_waiting(&r) == 0);
	al_recv_clear(&r);
}

int main(void)
{
	test_single();
	test_sets();
	return al_t_finish();
}
