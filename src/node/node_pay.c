/* Payments in the node. So far: decoding a payment request for the user.
 *
 *   GET /v1/payreq/<pay_req>   user: LND's PayReq for a BOLT 11 invoice of this
 *                              node's network, its signature checked */
#include <string.h>

#include "attest/der.h"
#include "btc/address.h"
#include "btc/base58.h"
#include "ln/invoice.h"
#include "node/node_int.h"
#include "util/hex.h"

static json_t *hex_str(const uint8_t *p, size_t len)
{
	char buf[2 * AL_PUBKEY_LEN + 1];

	if (2 * len + 1 > sizeof(buf) || al_hex_encode(buf, sizeof(buf), p, len) != AL_OK)
		return json_string("");
	return json_string(buf);
}

/* Decimal digits of v plus NUL into buf (at least 21 bytes; the image has no printf). */
static const char *decimal(char buf[24], uint64_t v)
{
	char *p = buf + 23;

	*p = 0;
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return p;
}

/* LND's REST encoding of 64-bit integers: decimal strings. */
static json_t *u64_str(uint64_t v)
{
	char buf[24];

	return json_string(decimal(buf, v));
}

/* The invoice currency each network's node pays. */
static bool same_network(const al_node *n, al_invoice_currency c)
{
	const char *net = n->cfg.network;

	switch (c) {
	case AL_INVOICE_BC:
		return !strcmp(net, "mainnet");
	case AL_INVOICE_TB:
		return !strcmp(net, "testnet");
	case AL_INVOICE_BCRT:
		return !strcmp(net, "regtest");
	case AL_INVOICE_TBS:
		return !strcmp(net, "signet");
	default:
		return false;
	}
}

/* The first fallback address in its usual form ("" when none or unprintable). */
static json_t *fallback_json(const al_node *n, const al_invoice *inv)
{
	char addr[AL_SEGWIT_ADDR_BUFLEN + 40];
	const al_invoice_fallback *f = &inv->fallbacks[0];
	uint8_t payload[21];
	bool main = n->cfg.net == AL_NET_MAINNET;

	if (inv->n_fallbacks == 0)
		return json_string("");
	if (f->version <= 16 && al_segwit_addr_encode(addr, sizeof(addr), n->cfg.net, f->version,
	                                              f->program, f->len) == AL_OK)
		return json_string(addr);
	/* Base58Check version bytes: P2PKH 0x00 / 0x6f, P2SH 0x05 / 0xc4. */
	if (f->version == 17 || f->version == 18) {
		payload[0] = f->version == 17 ? (main ? 0x00 : 0x6f) : (main ? 0x05 : 0xc4);
		memcpy(payload + 1, f->program, 20);
		if (al_b58check_encode(addr, sizeof(addr), payload, sizeof(payload)) == AL_OK)
			return json_string(addr);
	}
	return json_string("");
}

static json_t *route_hints_json(const al_invoice *inv)
{
	json_t *routes = json_array();

	for (size_t r = 0; r < inv->n_routes; r++) {
		json_t *hops = json_array();

		for (size_t k = 0; k < inv->routes[r].count; k++) {
			const al_invoice_hop *h = &inv->hops[inv->routes[r].first + k];

			json_array_append_new(
			    hops,
			    json_pack("{s:o,s:o,s:I,s:I,s:i}", "node_id",
			              hex_str(h->pubkey, AL_PUBKEY_LEN), "chan_id",
			              u64_str(h->scid), "fee_base_msat",
			              (json_int_t)h->fee_base_msat, "fee_proportional_millionths",
			              (json_int_t)h->fee_proportional_millionths,
			              "cltv_expiry_delta", (int)h->cltv_expiry_delta));
		}
		json_array_append_new(routes, json_pack("{s:o}", "hop_hints", hops));
	}
	return routes;
}

/* LND's features map: bit number to {name, is_required, is_known}. */
static json_t *features_json(const al_invoice *inv)
{
	json_t *o = json_object();

	for (unsigned bit = 0; bit < AL_FEATURES_MAX_BITS; bit++) {
		char key[24];
		const char *name = al_feature_name(bit);

		if (!al_features_has(&inv->features, bit))
			continue;
		json_object_set_new(o, decimal(key, bit),
		                    json_pack("{s:s,s:b,s:b}", "name", name ? name : "",
		                              "is_required", bit % 2 == 0, "is_known", 1));
	}
	return o;
}

static json_t *payreq_json(const al_node *n, const al_invoice *inv)
{
	char secret64[48];
	json_t *o = json_object();

	json_object_set_new(o, "destination", hex_str(inv->payee, AL_PUBKEY_LEN));
	json_object_set_new(o, "payment_hash", hex_str(inv->payment_hash, 32));
	json_object_set_new(o, "num_satoshis", u64_str(inv->amount_msat / 1000));
	json_object_set_new(o, "timestamp", u64_str(inv->timestamp));
	json_object_set_new(o, "expiry", u64_str(inv->expiry));
	json_object_set_new(o, "description",
	                    json_stringn((const char *)inv->description, inv->description_len));
	json_object_set_new(o, "description_hash",
	                    inv->has_description_hash ? hex_str(inv->description_hash, 32)
	                                              : json_string(""));
	json_object_set_new(o, "fallback_addr", fallback_json(n, inv));
	json_object_set_new(o, "cltv_expiry", u64_str(inv->min_final_cltv_expiry_delta));
	json_object_set_new(o, "route_hints", route_hints_json(inv));
	/* bytes fields are base64 in LND's REST JSON */
	secret64[al_att_base64_encode(secret64, sizeof(secret64) - 1, inv->payment_secret, 32)] = 0;
	json_object_set_new(o, "payment_addr", json_string(secret64));
	json_object_set_new(o, "num_msat", u64_str(inv->amount_msat));
	json_object_set_new(o, "features", features_json(inv));
	json_object_set_new(o, "blinded_paths", json_array());
	return o;
}

void node_payreq(al_node *n, uint64_t token, const char *pay_req, size_t len)
{
	al_invoice *inv = node_alloc(n, sizeof(*inv));
	al_err e;

	if (!inv) {
		node_answer(n, token, 503, node_error_json(al_err_str(AL_E_NOMEM)), 0);
		return;
	}
	e = al_invoice_decode(inv, n->env.secp, pay_req, len);
	if (e == AL_OK && !same_network(n, inv->currency))
		e = AL_E_INV_PREFIX;
	if (e == AL_OK)
		node_answer(n, token, 200, payreq_json(n, inv), 0);
	else
		node_answer(n, token, 400,
		            json_pack("{s:o}", "error",
		                      node_err_obj(e, e == AL_E_INV_PREFIX
		                                          ? "not an invoice of this node's network"
		                                          : "not a valid BOLT 11 invoice")),
		            0);
	node_free(n, inv, sizeof(*inv));
}
