/* node_pair's "fwdcrash" scenario: B forwarding, through kills. A's user pays A's own
 * private invoice (allow_self_payment, as LND's): its route hint names B and their channel,
 * so the payment goes A -> B -> A over the one channel, and B's node forwards it (BOLT 4
 * at an intermediate node) for its fee, 1,001 msat on 1,000 sat (B's balance to forward
 * with: A pays B 200,000 sat first). B and A in turn are
 * killed at every write of the cycle (counted in the first two payments), before the
 * write or once it is durable but unacknowledged; the killed node starts again from its
 * store. B's link between the two HTLCs ("fwd") must survive every kill: an incoming HTLC
 * told again is fulfilled again, waits for its outgoing one, or fails back when that one
 * never left.
 *
 * Checked at the end, for every invoice: A's payment SUCCEEDED exactly when A's invoice
 * SETTLED, otherwise FAILED or never durable (A died before); never IN_FLIGHT, never
 * twice; nothing in flight on either side; and the balances, to the msat, moved by
 * exactly B's fee for each success (A paid itself the rest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ln/invoice.h"
#include "node_pair/pair.h"
#include "util/hex.h"

#define FWD_SAT   1000
#define FWD_FEE   1001 /* LND's default policy: 1,000 msat + 1 ppm */
#define FWD_TOKEN (1ull << 42)

static int64_t local_msat(pnode *p)
{
	json_t *r = req_ok(p, "GET", "/v1/balance/channels", NULL);
	const char *s =
	    json_string_value(json_object_get(json_object_get(r, "local_balance"), "msat"));
	int64_t v = s ? strtoll(s, NULL, 10) : -1;

	json_decref(r);
	return v;
}

void fwdcrash(int n)
{
	char(*hashes)[65] = calloc((size_t)n, 65);
	uint64_t span[2] = {0, 0}, kills0 = crash_kills();
	al_invoice *inv = calloc(1, sizeof(*inv));
	int succeeded = 0, failed = 0, absent = 0;
	json_t *ca = NULL, *cb = NULL, *r, *payments;
	int64_t a0, b0;

	if (!hashes || !inv)
		fail("fwdcrash: memory", NULL);
	/* B needs a balance to forward back to A: A pays B's invoice of 200,000 sat first. */
	r = req_ok(&B, "POST", "/v1/invoices", "{\"value\":200000}");
	{
		char body[1200];
		json_t *paid;
		snprintf(body, sizeof(body), "{\"payment_request\":\"%s\"}",
		         json_string_value(json_object_get(r, "payment_request")));
		paid = req_ok(&A, "POST", "/v1/channels/transactions", body);
		if (strcmp(json_string_value(json_object_get(paid, "payment_error")), "") != 0)
			fail("fwdcrash: B's balance", A.body);
		json_decref(paid);
	}
	json_decref(r);
	until_quiet("fwdcrash: not quiet at the start", false);
	a0 = local_msat(&A);
	b0 = local_msat(&B);
	for (int i = 0; i < n; i++) {
		uint64_t pa = A.puts, pb = B.puts;
		char body[1300];
		const char *pr;

		r = req_ok(&A, "POST", "/v1/invoices",
		           "{\"value\":1000,\"memo\":\"fwdcrash\",\"private\":true}");
		pr = json_string_value(json_object_get(r, "payment_request"));
		if (!pr || strlen(pr) > 1200 ||
		    al_invoice_decode(inv, secp, pr, strlen(pr)) != AL_OK || inv->n_routes != 1 ||
		    al_hex_encode(hashes[i], 65, inv->payment_hash, 32) != AL_OK)
			fail("fwdcrash: A's private invoice (a hint through B)", NULL);
		snprintf(body, sizeof(body),
		         "{\"payment_request\":\"%s\",\"allow_self_payment\":true}", pr);
		json_decref(r);
		if (i >= 2) {
			int k = i - 2;
			crash_arm(k & 1 ? &A : &B, 1 + (uint64_t)(k >> 2) % (span[k & 1] + 1),
			          (k >> 1) & 1);
		}
		al_node_request(A.n, AL_NODE_USER, FWD_TOKEN + (uint64_t)i, "POST",
		                "/v1/channels/transactions", (const uint8_t *)body, strlen(body),
		                now_ms, wall());
		until_quiet("fwdcrash: the channel did not come back", true);
		if (i < 2) {
			span[0] = B.puts - pb > span[0] ? B.puts - pb : span[0];
			span[1] = A.puts - pa > span[1] ? A.puts - pa : span[1];
		}
	}
	r = req_ok(&A, "GET", "/v1/payments", NULL);
	payments = json_object_get(r, "payments");
	for (int i = 0; i < n; i++) {
		char target[96];
		int count;
		const char *st = payment_status(payments, hashes[i], &count);
		json_t *iv;
		bool settled;

		snprintf(target, sizeof(target), "/v1/invoice/%s", hashes[i]);
		iv = req_ok(&A, "GET", target, NULL);
		settled = !strcmp(json_string_value(json_object_get(iv, "state")), "SETTLED");
		json_decref(iv);
		if (count > 1)
			fail("fwdcrash: a payment hash twice in A's book", hashes[i]);
		if (!strcmp(st, "IN_FLIGHT"))
			fail("fwdcrash: a payment left in flight", hashes[i]);
		if (settled != !strcmp(st, "SUCCEEDED"))
			fail("fwdcrash: A's payment and A's invoice disagree", hashes[i]);
		succeeded += settled;
		failed += !strcmp(st, "FAILED");
		absent += !count;
	}
	json_decref(r);
	if (!crash_quiet(&ca, &cb))
		fail("fwdcrash: not quiet at the end", NULL);
	if (local_msat(&A) != a0 - (int64_t)succeeded * FWD_FEE ||
	    local_msat(&B) != b0 + (int64_t)succeeded * FWD_FEE)
		fail("fwdcrash: the balances do not match B's fees", NULL);
	r = req_ok(&B, "POST", "/v1/switch", "{}");
	print_json("fwdcrash",
	           json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:O}", "payments", n,
	                     "succeeded", succeeded, "failed", failed, "absent", absent, "kills",
	                     (json_int_t)(crash_kills() - kills0), "a_msat",
	                     (json_int_t)local_msat(&A), "b_msat", (json_int_t)local_msat(&B),
	                     "a0_msat", (json_int_t)a0, "b0_msat", (json_int_t)b0, "history",
	                     json_object_get(r, "forwarding_events")));
	json_decref(r);
	json_decref(ca);
	json_decref(cb);
	free(hashes);
	free(inv);
}
