/* node_pair's "refusals" scenario: B's node as the final hop of BOLT #4, against a
 * sender (this tool, as A's caller) that builds every onion itself and gets some of
 * them wrong on purpose. B made an invoice of 10,000 sat (POST /v1/invoices); each
 * attempt is an HTLC A -> B with its own onion, and A's caller decodes what comes back
 * with the onion's shared secrets: the failure code, the hop that gave it (always B,
 * hop 0) and its data, which must be exactly what BOLT #4 says the final node returns.
 * Then B as a forwarding node (BOLT #4 at an intermediate hop), onions telling it to
 * forward over its channel back to A: each of its refusals with its data and B's
 * channel_update, whose signature A checks with B's node id and whose policy must be
 * B's. Then the invoice is paid in two parts (basic_mpp), and a payment of it once more is
 * refused; a forward B makes back to A is refused by A (no invoice of A's), and that
 * failure reaches A's caller through B's wrapping, attributed to hop 1; a keysend (LND's
 * REST shape) of 2,000 sat is taken, and sent again refused by A itself. The balances
 * move by the 12,000 sat and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/der.h"
#include "crypto/hash.h"
#include "ln/forward.h"
#include "ln/invoice.h"
#include "ln/onion.h"
#include "ln/payload.h"
#include "node_pair/pair.h"
#include "util/cursor.h"

#define INV_MSAT 10000000ull

typedef struct attempt {
	const char *name;
	uint64_t htlc_msat, amt_msat, total_msat; /* the HTLC's; the payload's two */
	int cltv, payload_cltv;                   /* over the tip */
	bool bad_hash, bad_secret, bad_hmac, forward;
	bool via;      /* forward over the channel itself (back to A), not an unknown one */
	bool keysend;  /* the payload carries a keysend preimage (not the hash's) instead */
	uint16_t want; /* the failure A must read (0: fulfilled) */
	int hop;       /* the hop it must come from */
} attempt;

static al_invoice inv;
static uint32_t tip;
static uint64_t chan_scid;
static uint8_t secrets[2][32];
static size_t n_hops;

/* The onion for one attempt: B's final payload (or, `forward`, a payload telling B to
 * forward to A over some channel). */
static void onion_for(const attempt *t, const uint8_t hash[32], uint8_t onion[AL_ONION_LEN])
{
	uint8_t buf[2][128];
	al_onion_hop hops[2];
	al_hop_payload p;
	al_privkey session;
	uint8_t node_id[AL_PUBKEY_LEN];

	memset(&p, 0, sizeof(p));
	memset(hops, 0, sizeof(hops));
	p.amt_to_forward = t->amt_msat;
	p.outgoing_cltv_value = tip + (uint32_t)t->payload_cltv;
	if (t->forward) {
		p.has_scid = true;
		p.short_channel_id = t->via ? chan_scid : 0x123456000001ull;
	} else if (t->keysend) {
		p.has_keysend = true;
		memset(p.keysend_preimage, 0x4b, 32);
	} else {
		p.has_payment_data = true;
		memcpy(p.payment_secret, inv.payment_secret, 32);
		p.payment_secret[0] ^= t->bad_secret;
		p.total_msat = t->total_msat;
	}
	n_hops = t->forward ? 2 : 1;
	al_node_id(B.n, node_id);
	if (al_pubkey_parse(secp, &hops[0].node, node_id, AL_PUBKEY_LEN) != AL_OK ||
	    al_hop_payload_encode(buf[0], sizeof(buf[0]), &hops[0].payload_len, &p) != AL_OK)
		fail("refusals: payload", t->name);
	hops[0].payload = buf[0];
	if (t->forward) {
		al_node_id(A.n, node_id);
		memset(&p, 0, sizeof(p));
		p.amt_to_forward = t->amt_msat;
		p.outgoing_cltv_value = tip + (uint32_t)t->payload_cltv;
		p.has_payment_data = true;
		memcpy(p.payment_secret, inv.payment_secret, 32);
		p.total_msat = t->amt_msat;
		if (al_pubkey_parse(secp, &hops[1].node, node_id, AL_PUBKEY_LEN) != AL_OK ||
		    al_hop_payload_encode(buf[1], sizeof(buf[1]), &hops[1].payload_len, &p) !=
		        AL_OK)
			fail("refusals: payload 2", t->name);
		hops[1].payload = buf[1];
	}
	do {
		if (al_rng_fill(&rng, session.k, 32) != AL_OK)
			fail("rng", NULL);
	} while (!al_privkey_valid(secp, &session));
	if (al_onion_create(onion, secrets, secp, &session, hops, n_hops, hash, 32) != AL_OK)
		fail("refusals: onion", t->name);
	al_privkey_clear(&session);
	/* "if the onion HMAC is incorrect": the last byte of the packet is the HMAC's. */
	onion[AL_ONION_LEN - 1] ^= t->bad_hmac;
}

static uint64_t add(const uint8_t cid[32], const attempt *t, const uint8_t hash[32])
{
	uint8_t onion[AL_ONION_LEN];
	uint64_t id;
	al_err e;

	onion_for(t, hash, onion);
	e = al_node_htlc_add(A.n, cid, al_msat_of(t->htlc_msat), hash, tip + (uint32_t)t->cltv,
	                     onion, &id);
	if (e != AL_OK)
		fail("refusals: htlc add", al_err_str(e));
	return id;
}

/* An UPDATE failure's [u16 len][channel_update]: B's, signed by B's node key, for the
 * channel the onion named, with B's default policy. */
static void channel_update(al_cur *c, const attempt *t)
{
	uint8_t id[AL_PUBKEY_LEN];
	uint16_t len = al_cur_be16(c);
	const uint8_t *upd = al_cur_ptr(c, len);
	al_chan_update u;

	al_node_id(B.n, id);
	if (!upd || al_chan_update_verify(&u, secp, id, upd, len) != AL_OK || u.scid != chan_scid ||
	    u.policy.fee_base_msat != 1000 || u.policy.fee_proportional_millionths != 1 ||
	    u.policy.cltv_expiry_delta != 80 || !(u.message_flags & AL_CHAN_UPDATE_DONT_FORWARD))
		fail("refusals: B's channel_update", t->name);
}

/* What came back for one HTLC, as JSON; checked against t. */
static json_t *result(const attempt *t, const al_node_htlc_event *ev)
{
	uint8_t msg[AL_ONION_FAILURE_MAX];
	size_t origin = 0, mlen = 0;
	uint16_t code;
	al_cur c;
	json_t *o = json_pack("{s:s}", "name", t->name);

	if (ev->kind == AL_NODE_HTLC_FULFILLED) {
		if (t->want)
			fail("refusals: fulfilled", t->name);
		json_object_set_new(o, "fulfilled", json_true());
		return o;
	}
	if (ev->reason_len == 0) {
		/* update_fail_malformed_htlc: B's own code, no packet. */
		if (ev->failure_code != t->want)
			fail("refusals: malformed code", t->name);
		json_object_set_new(o, "malformed", json_integer(ev->failure_code));
		return o;
	}
	if (ev->reason_len > sizeof(ev->reason) ||
	    al_onion_failure_decode(&origin, msg, sizeof(msg), &mlen, (const uint8_t(*)[32])secrets,
	                            n_hops, ev->reason, ev->reason_len) != AL_OK)
		fail("refusals: the failure does not decode", t->name);
	code = (uint16_t)(msg[0] << 8 | msg[1]);
	if (origin != (size_t)t->hop || code != t->want)
		fail("refusals: wrong failure", t->name);
	al_cur_init(&c, msg + 2, mlen - 2);
	/* BOLT #4's data for each. */
	switch (code) {
	case AL_FWD_FEE_INSUFFICIENT:     /* htlc_msat: the incoming HTLC's */
	case AL_FWD_AMOUNT_BELOW_MINIMUM: /* htlc_msat: the outgoing amount */
		if (al_cur_be64(&c) !=
		    (code == AL_FWD_FEE_INSUFFICIENT ? t->htlc_msat : t->amt_msat))
			fail("refusals: htlc_msat", t->name);
		channel_update(&c, t);
		break;
	case AL_FWD_INCORRECT_CLTV_EXPIRY: /* cltv_expiry: the outgoing one */
		if (al_cur_be32(&c) != tip + (uint32_t)t->payload_cltv)
			fail("refusals: cltv_expiry", t->name);
		channel_update(&c, t);
		break;
	case AL_FWD_EXPIRY_TOO_SOON:
	case AL_FWD_TEMPORARY_CHANNEL_FAILURE:
		channel_update(&c, t);
		break;
	case 0x400f: /* incorrect_or_unknown_payment_details: htlc_msat, height (the HTLC
	              * that reached the node that refused it) */
		if (al_cur_be64(&c) != (t->hop ? t->amt_msat : t->htlc_msat) ||
		    al_cur_be32(&c) != tip)
			fail("refusals: PERM|15 data", t->name);
		break;
	case 18: /* final_incorrect_cltv_expiry: cltv_expiry */
		if (al_cur_be32(&c) != tip + (uint32_t)t->cltv)
			fail("refusals: 18 data", t->name);
		break;
	case 19: /* final_incorrect_htlc_amount: incoming_htlc_amt */
		if (al_cur_be64(&c) != t->htlc_msat)
			fail("refusals: 19 data", t->name);
		break;
	default: /* unknown_next_peer, mpp_timeout: none */
		break;
	}
	if (al_cur_done(&c) != AL_OK)
		fail("refusals: failure data length", t->name);
	json_object_set_new(o, "code", json_integer(code));
	json_object_set_new(o, "hop", json_integer((json_int_t)origin));
	return o;
}

static json_t *one(const uint8_t cid[32], const attempt *t)
{
	uint8_t hash[32];
	al_node_htlc_event ev;

	memcpy(hash, inv.payment_hash, 32);
	hash[0] ^= t->bad_hash;
	add(cid, t, hash);
	settle();
	if (!await_htlc(&A, t->want ? AL_NODE_HTLC_FAILED : AL_NODE_HTLC_FULFILLED, &ev))
		fail("refusals: no result", t->name);
	return result(t, &ev);
}

/* A keysend of 2,000 sat over REST (LND's shape), the preimage the tool's; the second
 * call sends the same one again, which A refuses itself (one payment per hash). */
static json_t *keysend_pay(void)
{
	static uint8_t pre[32];
	static bool made;
	char dest[64], hash_b64[64], pre_b64[64], body[400];
	uint8_t id[AL_PUBKEY_LEN], hash[32];
	json_t *r;

	if (!made && al_rng_fill(&rng, pre, 32) != AL_OK)
		fail("rng", NULL);
	al_node_id(B.n, id);
	al_sha256(hash, pre, 32);
	dest[al_att_base64_encode(dest, sizeof(dest) - 1, id, sizeof(id))] = 0;
	hash_b64[al_att_base64_encode(hash_b64, sizeof(hash_b64) - 1, hash, 32)] = 0;
	pre_b64[al_att_base64_encode(pre_b64, sizeof(pre_b64) - 1, pre, 32)] = 0;
	snprintf(body, sizeof(body),
	         "{\"dest\":\"%s\",\"amt\":\"2000\",\"payment_hash\":\"%s\","
	         "\"dest_custom_records\":{\"5482373484\":\"%s\"}}",
	         dest, hash_b64, pre_b64);
	r = req(&A, "POST", "/v1/channels/transactions", body);
	if (made) {
		/* "invoice is already paid", before anything leaves */
		if (A.status != 409)
			fail("refusals: a second keysend of one hash was not refused", A.body);
		json_decref(r);
		return json_pack("{s:s,s:i}", "name", "keysend again", "refused", 409);
	}
	made = true;
	if (A.status != 200 || !r ||
	    strcmp(json_string_value(json_object_get(r, "payment_error")), "") != 0)
		fail("refusals: keysend", A.body);
	json_decref(r);
	settle();
	return json_pack("{s:s,s:b}", "name", "keysend", "fulfilled", 1);
}

static void make_invoice(const char *body)
{
	json_t *r = req_ok(&B, "POST", "/v1/invoices", body);
	const char *pr = json_string_value(json_object_get(r, "payment_request"));

	if (!pr || al_invoice_decode(&inv, secp, pr, strlen(pr)) != AL_OK)
		fail("refusals: B's invoice", body);
	json_decref(r);
}

void refusals(const uint8_t cid[32])
{
	const uint64_t m = INV_MSAT;
	const attempt bad[] = {
	    {"unknown payment hash", m, m, m, 50, 50, .bad_hash = true, .want = 0x400f},
	    {"wrong payment secret", m, m, m, 50, 50, .bad_secret = true, .want = 0x400f},
	    {"total below the invoice", m - 1000, m - 1000, m - 1000, 50, 50, .want = 0x400f},
	    {"total over twice the invoice", 2 * m + 1, 2 * m + 1, 2 * m + 1, 50, 50,
	     .want = 0x400f},
	    {"htlc below amt_to_forward", m, m + 1, m + 1, 50, 50, .want = 19},
	    {"htlc expiry below outgoing_cltv_value", m, m, m, 50, 51, .want = 18},
	    {"expiry too close (c=40)", m, m, m, 39, 39, .want = 0x400f},
	    {"onion HMAC", m, m, m, 50, 50, .bad_hmac = true, .want = 0xc005},
	    {"a packet to forward", m, m, m, 50, 50, .forward = true, .want = 0x400a},
	    /* B forwarding back to A over their channel: its checks in BOLT #4's order. */
	    {"forward without the fee", m, m, m, 150, 50, .forward = true, .via = true,
	     .want = AL_FWD_FEE_INSUFFICIENT},
	    {"forward below the minimum", 1999, 999, 999, 150, 50, .forward = true, .via = true,
	     .want = AL_FWD_AMOUNT_BELOW_MINIMUM},
	    {"forward with a short CLTV delta", m + 1010, m, m, 150, 71, .forward = true,
	     .via = true, .want = AL_FWD_INCORRECT_CLTV_EXPIRY},
	    {"forward expiring at once", m + 1010, m, m, 90, 3, .forward = true, .via = true,
	     .want = AL_FWD_EXPIRY_TOO_SOON},
	    {"forward beyond B's balance", m + 1010, m, m, 150, 50, .forward = true, .via = true,
	     .want = AL_FWD_TEMPORARY_CHANNEL_FAILURE},
	    {"keysend, not the hash's preimage", m, m, m, 50, 50, .keysend = true, .want = 0x400f},
	};
	const attempt half = {"one part of two", m / 2, m / 2, m, 50, 50, .want = 23};
	const attempt part = {"part", m / 2, m / 2, m, 50, 50, .want = 0};
	const attempt again = {"paid again", m, m, m, 50, 50, .want = 0x400f};
	const attempt late = {"after the invoice's expiry", m, m, m, 50, 50, .want = 0x400f};
	/* B has 10,000 sat now: it forwards 1,000 back to A, which has no invoice for it. */
	const attempt back = {"forwarded back, refused by A",
	                      1001001,
	                      1000000,
	                      1000000,
	                      150,
	                      50,
	                      .forward = true,
	                      .via = true,
	                      .want = 0x400f,
	                      .hop = 1};
	json_t *out = json_array(), *r, *ca, *cb;
	al_node_htlc_event ev;

	r = req_ok(&A, "POST", "/v1/wallet/sync", NULL);
	tip = (uint32_t)jint(r, "tip_height");
	json_decref(r);
	r = req_ok(&A, "GET", "/v1/channels", NULL);
	chan_scid = strtoull(json_string_value(json_object_get(
	                         json_array_get(json_object_get(r, "channels"), 0), "chan_id")),
	                     NULL, 10);
	json_decref(r);
	json_decref(req_ok(&B, "POST", "/v1/wallet/sync", NULL));

	/* An invoice that expires: paid after its expiry, refused. */
	make_invoice("{\"value\":10000,\"memo\":\"late\",\"expiry\":60}");
	wall_offset = 120;
	json_array_append_new(out, one(cid, &late));
	wall_offset = 0;

	make_invoice("{\"value\":10000,\"memo\":\"refusals\"}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		json_array_append_new(out, one(cid, &bad[i]));

	/* BOLT #4 basic_mpp: a part alone waits, then fails with mpp_timeout after 60 s. */
	add(cid, &half, inv.payment_hash);
	settle();
	if (al_node_next_htlc_event(A.n, &ev))
		fail("refusals: a lone part was answered at once", NULL);
	now_ms += 61000;
	al_node_timer(B.n, now_ms, wall());
	settle();
	if (!await_htlc(&A, AL_NODE_HTLC_FAILED, &ev))
		fail("refusals: the lone part never failed", NULL);
	json_array_append_new(out, result(&half, &ev));

	/* Two parts: both fulfilled, with the invoice's preimage. */
	add(cid, &part, inv.payment_hash);
	settle();
	add(cid, &part, inv.payment_hash);
	settle();
	for (int k = 0; k < 2; k++) {
		uint8_t h[32];
		if (!await_htlc(&A, AL_NODE_HTLC_FULFILLED, &ev))
			fail("refusals: a part was not fulfilled", NULL);
		al_sha256(h, ev.preimage, 32);
		if (memcmp(h, inv.payment_hash, 32) != 0)
			fail("refusals: not the invoice's preimage", NULL);
	}
	json_array_append_new(out, json_pack("{s:s,s:b}", "name", "two parts", "fulfilled", 1));
	json_array_append_new(out, one(cid, &again));
	settle();
	json_array_append_new(out, one(cid, &back));
	settle();
	json_array_append_new(out, keysend_pay());
	json_array_append_new(out, keysend_pay());

	r = req_ok(&B, "GET", "/v1/invoices", NULL);
	ca = json_object_get(r, "invoices");
	print_json("refusals",
	           json_pack("{s:o,s:O}", "attempts", out, "invoices", ca ? ca : json_null()));
	json_decref(r);
	r = req_ok(&A, "GET", "/v1/channels", NULL);
	ca = json_incref(json_array_get(json_object_get(r, "channels"), 0));
	json_decref(r);
	r = req_ok(&B, "GET", "/v1/channels", NULL);
	cb = json_incref(json_array_get(json_object_get(r, "channels"), 0));
	json_decref(r);
	if (!ca || !cb || jint(ca, "pending_htlcs") || jint(cb, "pending_htlcs") ||
	    jint(cb, "local_balance") != INV_MSAT / 1000 + 2000)
		fail("refusals: balances", NULL);
	print_json("paid", json_pack("{s:o,s:o}", "a", ca, "b", cb));
}
