/* Payment requests in the node: reading them for the user (and for node_send.c).
 *
 *   GET /v1/payreq/<pay_req>   user: LND's PayReq for a BOLT 11 invoice of this
 *                              node's network, its signature checked */
#include <string.h>

#include "btc/address.h"
#include "btc/base58.h"
#include "ln/invoice.h"
#include "node/node_int.h"

al_invoice_currency node_invoice_currency(const al_node *n)
{
	const char *net = n->cfg.network;

	return !strcmp(net, "mainnet")   ? AL_INVOICE_BC
	       : !strcmp(net, "testnet") ? AL_INVOICE_TB
	       : !strcmp(net, "regtest") ? AL_INVOICE_BCRT
	       : !strcmp(net, "signet")  ? AL_INVOICE_TBS
	                                 : (al_invoice_currency)0;
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
			              node_hex_json(h->pubkey, AL_PUBKEY_LEN), "chan_id",
			              node_u64_json(h->scid), "fee_base_msat",
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
		const char *name = al_feature_name(bit);
		node_line key = {.n = 0};

		if (!al_features_has(&inv->features, bit))
			continue;
		node_line_u(&key, bit);
		json_object_set_new(o, key.b,
		                    json_pack("{s:s,s:b,s:b}", "name", name ? name : "",
		                              "is_required", bit % 2 == 0, "is_known", 1));
	}
	return o;
}

static json_t *payreq_json(const al_node *n, const al_invoice *inv)
{
	json_t *o = json_object();

	json_object_set_new(o, "destination", node_hex_json(inv->payee, AL_PUBKEY_LEN));
	json_object_set_new(o, "payment_hash", node_hex_json(inv->payment_hash, 32));
	json_object_set_new(o, "num_satoshis", node_u64_json(inv->amount_msat / 1000));
	json_object_set_new(o, "timestamp", node_u64_json(inv->timestamp));
	json_object_set_new(o, "expiry", node_u64_json(inv->expiry));
	json_object_set_new(o, "description",
	                    json_stringn((const char *)inv->description, inv->description_len));
	json_object_set_new(o, "description_hash",
	                    inv->has_description_hash ? node_hex_json(inv->description_hash, 32)
	                                              : json_string(""));
	json_object_set_new(o, "fallback_addr", fallback_json(n, inv));
	json_object_set_new(o, "cltv_expiry", node_u64_json(inv->min_final_cltv_expiry_delta));
	json_object_set_new(o, "route_hints", route_hints_json(inv));
	/* bytes fields are base64 in LND's REST JSON */
	json_object_set_new(o, "payment_addr", node_b64_json(inv->payment_secret, 32));
	json_object_set_new(o, "num_msat", node_u64_json(inv->amount_msat));
	json_object_set_new(o, "features", features_json(inv));
	json_object_set_new(o, "blinded_paths", json_array());
	return o;
}

al_err node_invoice_decode(const al_node *n, al_invoice *inv, const char *s, size_t len)
{
	al_err e = al_invoice_decode(inv, n->env.secp, s, len);

	return e == AL_OK && inv->currency != node_invoice_currency(n) ? AL_E_INV_PREFIX : e;
}

void node_payreq(al_node *n, uint64_t token, const char *pay_req, size_t len)
{
	al_invoice *inv = node_alloc(n, sizeof(*inv));
	al_err e;

	if (!inv) {
		node_answer(n, token, 503, node_error_json(al_err_str(AL_E_NOMEM)), 0);
		return;
	}
	e = node_invoice_decode(n, inv, pay_req, len);
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
