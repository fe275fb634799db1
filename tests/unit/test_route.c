/* Routes: BOLT 7's worked example ("Recommendations for Routing": A pays C 4,999,999
 * msat via B or via D), the limits, an invoice's route hint, and the whole payments core
 * in one pass: an invoice, its route over our channel and the hint, the onion, each
 * hop peeling its layer and checking what a forwarder checks, the payee's decision, and
 * a failure travelling back to be attributed. */
#include <string.h>

#include "crypto/hash.h"
#include "ln/payload.h"
#include "ln/receive.h"
#include "ln/route.h"
#include "test.h"

static const uint32_t H = 800000;

static void test_bolt7_example(void)
{
	al_route_hop hops[2];
	al_route r;
	uint64_t fee;

	memset(hops, 0, sizeof(hops));
	/* "200 + ( 4999999 * 2000 / 1000000 ) = 10199" */
	CHECK_OK(al_route_fee(&fee, 4999999, 200, 2000));
	CHECK(fee == 10199);
	/* A->B->C: B charges for B->C (200 base, 2000 millionths, delta 20); C wants 18
	 * and A adds a shadow route of 42. "amount_msat: 5010198, cltv_expiry:
	 * current-block-height + 20 + 18 + 42". Our own channel A->B costs nothing. */
	hops[0].scid = 1;
	hops[0].fee_base_msat = 100; /* A's own: ignored */
	hops[0].fee_proportional_millionths = 1000;
	hops[0].cltv_expiry_delta = 10;
	hops[1].scid = 2;
	hops[1].fee_base_msat = 200;
	hops[1].fee_proportional_millionths = 2000;
	hops[1].cltv_expiry_delta = 20;
	CHECK_OK(al_route_compute(&r, hops, 2, 4999999, H + 18 + 42, H));
	CHECK(r.amount_msat[0] == 5010198 && r.cltv_expiry[0] == H + 20 + 18 + 42);
	CHECK(r.amount_msat[1] == 4999999 && r.cltv_expiry[1] == H + 18 + 42);
	CHECK(r.fee_msat == 10199 && r.n == 2);
	/* A->D->C: "amount_msat: 5020398, cltv_expiry: current-block-height + 40 + 18 + 42" */
	hops[1].fee_base_msat = 400;
	hops[1].fee_proportional_millionths = 4000;
	hops[1].cltv_expiry_delta = 40;
	CHECK_OK(al_route_compute(&r, hops, 2, 4999999, H + 18 + 42, H));
	CHECK(r.amount_msat[0] == 5020398 && r.cltv_expiry[0] == H + 40 + 18 + 42);
	/* B->C directly: no fee, C's delta only. */
	CHECK_OK(al_route_compute(&r, hops + 1, 1, 4999999, H + 18 + 42, H));
	CHECK(r.amount_msat[0] == 4999999 && r.cltv_expiry[0] == H + 60 && r.fee_msat == 0);
	/* Limits: 2016 blocks over the tip at most; overflow; hop counts. */
	CHECK_OK(al_route_compute(&r, hops, 2, 1000, H + 2016 - 40, H));
	CHECK_ERR(al_route_compute(&r, hops, 2, 1000, H + 2016 - 39, H), AL_E_ROUTE_CLTV);
	CHECK(r.n == 0);
	CHECK_ERR(al_route_compute(&r, hops, 2, UINT64_MAX / 2, H + 18, H), AL_E_RANGE);
	CHECK_ERR(al_route_compute(&r, hops, 0, 1000, H + 18, H), AL_E_ONION_HOPS);
	CHECK_ERR(al_route_fee(&fee, UINT64_MAX / 1000, 0, 1001), AL_E_RANGE);
}

/* Nodes: A (us), B (our peer, start of the hint), C (the payee). */
static al_privkey key_a = {{0xa1}}, key_b = {{0xb2}}, key_c = {{0xc3}};
static uint8_t pub_b[33], pub_c[33];

static void pub(uint8_t out[33], const al_privkey *k)
{
	al_pubkey pk;

	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pk, k));
	al_pubkey_serialize(al_t_secp(), out, &pk);
}

static void test_payment_core(void)
{
	static al_invoice inv, dec;
	static al_onion_peeled pb, pc;
	static al_recv recv;
	static uint8_t packet[AL_ONION_LEN], secrets[AL_ONION_MAX_HOPS][32];
	static char str[AL_INVOICE_MAX_CHARS + 1];
	const al_privkey session = {{0x5e}};
	uint8_t preimage[32], hash[32], err[AL_ONION_FAILURE_MAX], msg[64];
	al_route_hop hops[AL_ONION_MAX_HOPS];
	al_hop_payload fb, fc;
	al_recv_invoice ri;
	al_recv_htlc h;
	al_recv_decision d;
	al_route r;
	size_t n, len, origin, mlen;
	uint64_t fee;

	pub(pub_b, &key_b);
	pub(pub_c, &key_c);
	(void)key_a;
	/* C's invoice: 50,000 msat, a hint B -> C over channel 0x0b0c (1000 msat + 100
	 * millionths, delta 40), min_final_cltv 18 (the default). */
	memset(preimage, 0x77, 32);
	al_sha256(hash, preimage, 32);
	memset(&inv, 0, sizeof(inv));
	inv.currency = AL_INVOICE_BCRT;
	inv.has_amount = true;
	inv.amount_msat = 50000;
	inv.timestamp = 1700000000;
	memcpy(inv.payment_hash, hash, 32);
	memset(inv.payment_secret, 0x99, 32);
	inv.has_description = true;
	inv.description_len = 3;
	memcpy(inv.description, "tea", 3);
	inv.n_routes = 1;
	inv.routes[0].count = 1;
	inv.n_hops = 1;
	memcpy(inv.hops[0].pubkey, pub_b, 33);
	inv.hops[0].scid = 0x0b0c;
	inv.hops[0].fee_base_msat = 1000;
	inv.hops[0].fee_proportional_millionths = 100;
	inv.hops[0].cltv_expiry_delta = 40;
	CHECK_OK(al_features_set(&inv.features, 8));
	CHECK_OK(al_features_set(&inv.features, 14));
	CHECK_OK(al_invoice_encode(str, sizeof(str), &len, al_t_secp(), &inv, &key_c));
	/* A reads it and routes over its channel 0x0a0b to B, then the hint. */
	CHECK_OK(al_invoice_decode(&dec, al_t_secp(), str, len));
	CHECK_MEM(dec.payee, pub_c, 33);
	CHECK_OK(al_route_from_invoice(hops, &n, &dec, 0, 0x0a0b, pub_b));
	CHECK(n == 2 && hops[1].scid == 0x0b0c && memcmp(hops[1].node_id, pub_c, 33) == 0);
	CHECK_OK(al_route_compute(&r, hops, n, dec.amount_msat,
	                          H + (uint32_t)dec.min_final_cltv_expiry_delta, H));
	CHECK(r.amount_msat[0] == 50000 + 1000 + 5 && r.cltv_expiry[0] == H + 18 + 40);
	CHECK_OK(al_route_onion(packet, secrets, al_t_secp(), &session, &r, dec.payment_hash,
	                        dec.payment_secret, dec.amount_msat, NULL, 0));

	/* B: a forward; what BOLT 4 makes a forwarder check holds. */
	CHECK_OK(al_onion_peel(&pb, al_t_secp(), &key_b, packet, hash, 32));
	CHECK(!pb.final);
	CHECK_OK(al_hop_payload_decode(&fb, pb.payload, pb.payload_len, false));
	CHECK(fb.short_channel_id == 0x0b0c && fb.amt_to_forward == 50000 &&
	      fb.outgoing_cltv_value == H + 18);
	CHECK_OK(al_route_fee(&fee, fb.amt_to_forward, 1000, 100));
	CHECK(r.amount_msat[0] - fee >= fb.amt_to_forward);
	CHECK(r.cltv_expiry[0] - 40 >= fb.outgoing_cltv_value);
	/* C: the final hop; its decision fulfils with the preimage of the hash. */
	CHECK_OK(al_onion_peel(&pc, al_t_secp(), &key_c, pb.next, hash, 32));
	CHECK(pc.final);
	CHECK_OK(al_hop_payload_decode(&fc, pc.payload, pc.payload_len, true));
	memset(&ri, 0, sizeof(ri));
	ri.known = true;
	memcpy(ri.preimage, preimage, 32);
	memcpy(ri.payment_secret, inv.payment_secret, 32);
	ri.has_amount = true;
	ri.amount_msat = 50000;
	ri.min_final_cltv_expiry_delta = 18;
	ri.expires_at = inv.timestamp + 3600;
	memset(&h, 0, sizeof(h));
	h.id = 1;
	memcpy(h.payment_hash, hash, 32);
	h.amount_msat = fb.amt_to_forward;
	h.cltv_expiry = fb.outgoing_cltv_value;
	h.payload = fc;
	al_recv_init(&recv);
	CHECK_OK(al_recv_offer(&recv, &h, &ri, H, 0, inv.timestamp + 10));
	CHECK(al_recv_next(&recv, &d) && d.kind == AL_RECV_FULFILL && d.total_msat == 50000);
	CHECK_MEM(d.preimage, preimage, 32);

	/* The same HTLC one block later at C is too near the present: C fails it, B
	 * obfuscates the failure on its way back, A attributes it to C and reads
	 * incorrect_or_unknown_payment_details with the amount and C's height. */
	h.id = 2;
	CHECK_OK(al_recv_offer(&recv, &h, &ri, H + 1, 0, inv.timestamp + 10));
	CHECK(al_recv_next(&recv, &d) && d.kind == AL_RECV_FAIL);
	CHECK_OK(al_onion_failure_create(err, sizeof(err), &len, pc.shared_secret, d.failure,
	                                 d.failure_len));
	CHECK_OK(al_onion_failure_wrap(err, len, pb.shared_secret));
	CHECK_OK(al_onion_failure_decode(&origin, msg, sizeof(msg), &mlen,
	                                 (const uint8_t(*)[32])secrets, r.n, err, len));
	CHECK(origin == 1 && mlen == 14);
	CHECK_MEM(
	    msg, ((const uint8_t[]){0x40, 0x0f, 0, 0, 0, 0, 0, 0, 0xc3, 0x50, 0, 0x0c, 0x35, 0x01}),
	    14);

	/* No path: a peer that is neither the payee nor the hint's start; no such hint. */
	CHECK_OK(al_route_from_invoice(hops, &n, &dec, 0, 0x0a0b, pub_c));
	CHECK(n == 1);
	{
		uint8_t other[33];

		pub(other, &key_a);
		CHECK_ERR(al_route_from_invoice(hops, &n, &dec, 0, 0x0a0b, other),
		          AL_E_ROUTE_NO_PATH);
		CHECK_ERR(al_route_from_invoice(hops, &n, &dec, 1, 0x0a0b, pub_b),
		          AL_E_ROUTE_NO_PATH);
	}
	al_onion_peeled_clear(&pb);
	al_onion_peeled_clear(&pc);
	al_recv_clear(&recv);
}

int main(void)
{
	test_bolt7_example();
	test_payment_core();
	return al_t_finish();
}
