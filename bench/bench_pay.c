/* Group "pay" (bench_pay.h). */
#include <string.h>

#include "bench_pay.h"
#include "ln/invoice.h"
#include "ln/onion.h"

#define HOPS 5

static struct {
	const al_secp *secp;
	al_privkey key, session, hop_keys[HOPS];
	al_invoice inv, out;
	char str[AL_INVOICE_MAX_CHARS + 1];
	size_t len;
	al_onion_hop hops[HOPS];
	uint8_t payload[HOPS][40];
	uint8_t packet[AL_ONION_LEN];
	uint8_t secrets[HOPS][32];
	al_onion_peeled peeled;
	uint8_t failure[AL_ONION_FAILURE_MAX];
	size_t failure_len;
} b;

static int op_decode(void *arg)
{
	(void)arg;
	return al_invoice_decode(&b.out, b.secp, b.str, b.len) != AL_OK;
}

static int op_encode(void *arg)
{
	char s[AL_INVOICE_MAX_CHARS + 1];
	size_t len;

	(void)arg;
	return al_invoice_encode(s, sizeof(s), &len, b.secp, &b.inv, &b.key) != AL_OK;
}

static int op_build(void *arg)
{
	(void)arg;
	return al_onion_create(b.packet, b.secrets, b.secp, &b.session, b.hops, HOPS, b.payload[0],
	                       32) != AL_OK;
}

static int op_peel(void *arg)
{
	(void)arg;
	return al_onion_peel(&b.peeled, b.secp, &b.hop_keys[0], b.packet, b.payload[0], 32) !=
	       AL_OK;
}

static int op_attribute(void *arg)
{
	uint8_t msg[AL_ONION_FAILURE_MAX];
	size_t origin, len;

	(void)arg;
	return al_onion_failure_decode(&origin, msg, sizeof(msg), &len,
	                               (const uint8_t(*)[32])b.secrets, HOPS, b.failure,
	                               b.failure_len) != AL_OK ||
	       origin != HOPS - 1;
}

void bench_pay(void)
{
	static const uint8_t code[2] = {0x40, 0x0f};
	size_t i;

	memset(&b, 0, sizeof(b));
	b.secp = bench_secp();
	memset(b.key.k, 0x42, 32);
	memset(b.session.k, 0x41, 32);
	/* A typical invoice: amount, description, expiry, a one-hop route hint, features. */
	b.inv.currency = AL_INVOICE_BC;
	b.inv.has_amount = true;
	b.inv.amount_msat = 2500000;
	b.inv.timestamp = 1700000000;
	memset(b.inv.payment_hash, 1, 32);
	memset(b.inv.payment_secret, 2, 32);
	b.inv.has_description = true;
	b.inv.description_len = 20;
	memcpy(b.inv.description, "a cup of good coffee", 20);
	b.inv.has_expiry = true;
	b.inv.expiry = 3600;
	if (al_features_set(&b.inv.features, 8) != AL_OK ||
	    al_features_set(&b.inv.features, 14) != AL_OK ||
	    al_features_set(&b.inv.features, 17) != AL_OK)
		bench_fail("payments set-up failed", NULL);
	for (i = 0; i < HOPS; i++) {
		memset(b.hop_keys[i].k, (int)(0x10 + i), 32);
		if (al_pubkey_from_privkey(b.secp, &b.hops[i].node, &b.hop_keys[i]) != AL_OK)
			bench_fail("onion set-up failed", NULL);
		memset(b.payload[i], (int)i, sizeof(b.payload[i]));
		b.hops[i].payload = b.payload[i];
		b.hops[i].payload_len = 20; /* a forward: amount, cltv, channel */
	}
	b.inv.n_routes = 1;
	b.inv.routes[0].count = 1;
	b.inv.n_hops = 1;
	al_pubkey_serialize(b.secp, b.inv.hops[0].pubkey, &b.hops[0].node);
	b.inv.hops[0].scid = 12345;
	if (al_invoice_encode(b.str, sizeof(b.str), &b.len, b.secp, &b.inv, &b.key) != AL_OK ||
	    op_build(NULL) || op_peel(NULL) ||
	    al_onion_failure_create(b.failure, sizeof(b.failure), &b.failure_len,
	                            b.secrets[HOPS - 1], code, 2) != AL_OK)
		bench_fail("payments set-up failed", NULL);
	for (i = HOPS - 1; i-- > 0;)
		if (al_onion_failure_wrap(b.failure, b.failure_len, b.secrets[i]) != AL_OK)
			bench_fail("payments set-up failed", NULL);
	bench_put("bolt11_decode_per_s", bench_rate(op_decode, NULL, 64));
	bench_put("bolt11_sign_encode_per_s", bench_rate(op_encode, NULL, 64));
	bench_put("bolt04_onion_5_hops_build_per_s", bench_rate(op_build, NULL, 16));
	bench_put("bolt04_onion_peel_per_s", bench_rate(op_peel, NULL, 64));
	bench_put("bolt04_failure_attribute_5_hops_per_s", bench_rate(op_attribute, NULL, 64));
	al_onion_peeled_clear(&b.peeled);
}
