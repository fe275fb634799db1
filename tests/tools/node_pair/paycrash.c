/* node_pair's "paycrash" and "paysigkill" scenarios: payments as the user makes them,
 * each through a node killed at one of its persistence points. B makes an invoice of 1,000 sat
 * (POST /v1/invoices, no kill armed); A's user pays it (POST /v1/channels/transactions) while a
 * kill is armed: A and B in turn, every write of the payment's cycle in turn (counted in
 * the first two payments), before the write or once it is durable but unacknowledged.
 * A killed node loses its memory (and the user's request with it) and starts again
 * from its store.
 *
 * Checked at the end, for every invoice: A's payment of it is SUCCEEDED exactly when B's
 * invoice is SETTLED; otherwise A's payment FAILED or never became durable (A died
 * before); none is left IN_FLIGHT; each payment hash is in A's book at most once; and
 * the balances moved by exactly the payments that succeeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "ln/invoice.h"
#include "node_pair/pair.h"
#include "util/hex.h"

#define PAY_SAT 1000
/* Requests of this scenario's whose answers nobody waits for (a kill may lose them). */
#define PAY_TOKEN (1ull << 41)

typedef struct paycrash_pay {
	char pr[1024];
	char hash_hex[65];
	pnode *victim;
} paycrash_pay;

const char *payment_status(json_t *payments, const char *hash_hex, int *count)
{
	const char *st = "";
	size_t i;
	json_t *p;

	*count = 0;
	json_array_foreach(payments, i, p)
	{
		if (!strcmp(json_string_value(json_object_get(p, "payment_hash")), hash_hex)) {
			st = json_string_value(json_object_get(p, "status"));
			(*count)++;
		}
	}
	return st;
}

void until_quiet(const char *what, bool disarm)
{
	json_t *ca = NULL, *cb = NULL;

	for (int round = 0;; round++) {
		if (round == 100)
			fail(what, A.body);
		settle();
		/* Idle with the kill still armed: the cycle wrote fewer times than that. */
		if (disarm)
			crash_arm(NULL, 0, 0);
		if (crash_quiet(&ca, &cb))
			break;
		json_decref(ca);
		json_decref(cb);
		tick();
	}
	json_decref(ca);
	json_decref(cb);
}

void paycrash(int n)
{
	paycrash_pay *pays = calloc((size_t)n, sizeof(*pays));
	uint64_t span[2] = {0, 0}, kills0 = crash_kills();
	al_invoice *inv = calloc(1, sizeof(*inv));
	int succeeded = 0, failed = 0, absent = 0;
	json_t *ca = NULL, *cb = NULL, *r, *payments;
	int64_t a0, b0;

	if (!pays || !inv)
		fail("paycrash: memory", NULL);
	if (!crash_quiet(&ca, &cb))
		fail("paycrash: not quiet at the start", NULL);
	a0 = (int64_t)jint(ca, "local_balance");
	b0 = (int64_t)jint(cb, "local_balance");
	json_decref(ca);
	json_decref(cb);
	ca = cb = NULL;
	for (int i = 0; i < n; i++) {
		paycrash_pay *y = &pays[i];
		uint64_t pa = A.puts, pb = B.puts;
		char body[1200];
		const char *pr;

		r = req_ok(&B, "POST", "/v1/invoices", "{\"value\":1000,\"memo\":\"paycrash\"}");
		pr = json_string_value(json_object_get(r, "payment_request"));
		if (!pr || strlen(pr) >= sizeof(y->pr) ||
		    al_invoice_decode(inv, secp, pr, strlen(pr)) != AL_OK)
			fail("paycrash: B's invoice", NULL);
		snprintf(y->pr, sizeof(y->pr), "%s", pr);
		json_decref(r);
		if (al_hex_encode(y->hash_hex, sizeof(y->hash_hex), inv->payment_hash, 32) != AL_OK)
			fail("paycrash: hex", NULL);
		if (i >= 2) {
			int k = i - 2;
			y->victim = k & 1 ? &B : &A;
			crash_arm(y->victim, 1 + (uint64_t)(k >> 2) % (span[k & 1] + 1),
			          (k >> 1) & 1);
		}
		snprintf(body, sizeof(body), "{\"payment_request\":\"%s\"}", y->pr);
		al_node_request(A.n, AL_NODE_USER, PAY_TOKEN + (uint64_t)i, "POST",
		                "/v1/channels/transactions", (const uint8_t *)body, strlen(body),
		                now_ms, wall());
		until_quiet("paycrash: the channel did not come back", true);
		if (i < 2) {
			span[0] = A.puts - pa > span[0] ? A.puts - pa : span[0];
			span[1] = B.puts - pb > span[1] ? B.puts - pb : span[1];
		}
	}
	r = req_ok(&A, "GET", "/v1/payments", NULL);
	payments = json_object_get(r, "payments");
	for (int i = 0; i < n; i++) {
		char target[96];
		int count;
		const char *st = payment_status(payments, pays[i].hash_hex, &count);
		json_t *iv;
		bool settled;

		snprintf(target, sizeof(target), "/v1/invoice/%s", pays[i].hash_hex);
		iv = req_ok(&B, "GET", target, NULL);
		settled = !strcmp(json_string_value(json_object_get(iv, "state")), "SETTLED");
		json_decref(iv);
		if (count > 1)
			fail("paycrash: a payment hash twice in A's book", pays[i].hash_hex);
		if (!strcmp(st, "IN_FLIGHT"))
			fail("paycrash: a payment left in flight", pays[i].hash_hex);
		if (settled != !strcmp(st, "SUCCEEDED"))
			fail("paycrash: A's payment and B's invoice disagree", pays[i].hash_hex);
		/* Only a kill of A can lose the payment before its record is durable. */
		if (!count && pays[i].victim != &A)
			fail("paycrash: a payment vanished without A dying", pays[i].hash_hex);
		succeeded += settled;
		failed += !strcmp(st, "FAILED");
		absent += !count;
	}
	json_decref(r);
	if (!crash_quiet(&ca, &cb))
		fail("paycrash: not quiet at the end", NULL);
	if ((int64_t)jint(ca, "local_balance") != a0 - (int64_t)succeeded * PAY_SAT ||
	    (int64_t)jint(cb, "local_balance") != b0 + (int64_t)succeeded * PAY_SAT)
		fail("paycrash: the balances do not match the payments", NULL);
	print_json("paycrash",
	           json_pack("{s:i,s:i,s:i,s:i,s:I,s:o,s:o}", "payments", n, "succeeded", succeeded,
	                     "failed", failed, "absent", absent, "kills",
	                     (json_int_t)(crash_kills() - kills0), "a", ca, "b", cb));
	free(pays);
	free(inv);
}

/* paysigkill: one life. B's invoice (printed once it is durable), A's user pays it, the
 * nodes settle; a SIGKILL at the armed write ends the life anywhere in this (the user's
 * request with it), and the next life starts both nodes from their stores: a payment in
 * flight then ends by the nodes alone. The life that gets through prints both books and
 * channels: tests/py/test_node_crash.py judges them against every invoice printed. */
void paysigkill_life(int n, int start, bool resumed)
{
	al_invoice *inv = calloc(1, sizeof(*inv));
	json_t *ca = NULL, *cb = NULL, *pa, *ib;

	if (!inv)
		fail("paysigkill: memory", NULL);
	if (resumed)
		sync_both();
	reconnect();
	for (int round = 0; !crash_quiet(&ca, &cb); round++) {
		if (round == 100)
			fail("paysigkill: the channel did not come back", NULL);
		json_decref(ca);
		json_decref(cb);
		settle();
		tick();
	}
	json_decref(ca);
	json_decref(cb);
	for (int i = start; i < n; i++) {
		char body[1200], hex[65];
		json_t *r =
		    req_ok(&B, "POST", "/v1/invoices", "{\"value\":1000,\"memo\":\"sigkill\"}");
		const char *pr = json_string_value(json_object_get(r, "payment_request"));

		if (!pr || strlen(pr) > 1100 ||
		    al_invoice_decode(inv, secp, pr, strlen(pr)) != AL_OK ||
		    al_hex_encode(hex, sizeof(hex), inv->payment_hash, 32) != AL_OK)
			fail("paysigkill: B's invoice", NULL);
		print_json("invoice", json_pack("{s:i,s:s}", "i", i, "hash", hex));
		fflush(stdout);
		snprintf(body, sizeof(body), "{\"payment_request\":\"%s\"}", pr);
		json_decref(r);
		al_node_request(A.n, AL_NODE_USER, PAY_TOKEN + (uint64_t)i, "POST",
		                "/v1/channels/transactions", (const uint8_t *)body, strlen(body),
		                now_ms, wall());
		until_quiet("paysigkill: the payment did not settle", false);
	}
	crash_disarm();
	pa = req_ok(&A, "GET", "/v1/payments", NULL);
	ib = req_ok(&B, "GET", "/v1/invoices", NULL);
	if (!crash_quiet(&ca, &cb))
		fail("paysigkill: not quiet at the end", NULL);
	print_json("books",
	           json_pack("{s:O,s:O,s:o,s:o}", "payments", json_object_get(pa, "payments"),
	                     "invoices", json_object_get(ib, "invoices"), "a", ca, "b", cb));
	json_decref(pa);
	json_decref(ib);
	printf("{\"event\":\"done\"}\n");
	free(inv);
}
