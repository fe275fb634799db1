/* The node's REST API: LND's paths and field names where LND has them.
 *
 *   GET    /v1/getinfo            anyone: identity, peers, storage, chain, wallet state
 *   GET    /v1/peers              anyone: {"peers":[{pub_key, address, inbound, ...}]}
 *   POST   /v1/peers              anyone: {"addr":{"pubkey","host"}}, answered at init
 *   DELETE /v1/peers/<pubkey>     anyone: disconnect
 *   GET    /v1/chain              anyone: the chain server the user chose (no secrets)
 *   POST   /v1/chain              user:   {"url", "ca_pem"?, "pins"?: [hex]}
 *   POST   /v1/wallet/<command>   user:   the on-chain wallet (node_wallet.c)
 *   POST   /v1/seed/export        user:   {"mnemonic"}
 *   GET    /v1/payreq/<pay_req>   user:   a BOLT 11 invoice decoded (node_pay.c)
 *   POST   /v1/invoices           user:   a new invoice (node_inv.c)
 *   GET    /v1/invoices, /v1/invoice/<r_hash>  user: the node's invoices
 *   POST   /v2/invoices/hodl|settle|cancel     user: hold invoices (node_inv.c)
 *   GET    /v1/balance/channels   user:   LND's ChannelBalance (node_chan_api.c)
 *   POST   /v1/chanpolicy, GET /v1/fees  user: forwarding policies (node_policy.c)
 *   POST   /v1/switch             user:   LND's ForwardingHistory (node_fwd.c)
 *
 * "anyone" is the operator (the host's socket) or the user; "user" is the user's
 * channel only (node/node.h, al_node_auth): the operator is answered 403. Errors are
 * {"error":{"message":...}} (wallet errors also carry a code). */
#include <string.h>

#include "util/mem.h"
#include "node/node_int.h"
#include "util/cursor.h"
#include "util/hex.h"
#include "util/http.h"

/* 1: chain server; 2: and the next channel key index. */
#define CONFIG_FORMAT 2

/* --- the configuration record ---------------------------------------------------------- */

al_err node_config_save(const al_node *n, uint8_t **out, size_t *len)
{
	const node_chain *ch = &n->chain;
	size_t ulen = n->chain_set ? strlen(ch->url) : 0, cap;
	al_wb w;

	cap = 1 + 2 + ulen + 4 + ch->ca_len + 1 + 32 * ch->n_pins + 4;
	*out = node_alloc((al_node *)n, cap);
	*len = cap;
	if (!*out)
		return AL_E_NOMEM;
	al_wb_init(&w, *out, cap);
	al_wb_u8(&w, CONFIG_FORMAT);
	al_wb_be16(&w, (uint16_t)ulen);
	al_wb_bytes(&w, ch->url, ulen);
	al_wb_be32(&w, (uint32_t)ch->ca_len);
	al_wb_bytes(&w, ch->ca, ch->ca_len);
	al_wb_u8(&w, (uint8_t)ch->n_pins);
	al_wb_bytes(&w, ch->pins, 32 * ch->n_pins);
	al_wb_be32(&w, n->next_key_index);
	return al_wb_ok(&w) && w.len == cap ? AL_OK : AL_E_BUFSIZE;
}

/* Check and take a chain server: url (NUL-terminated), CA PEM bytes, pins. */
static al_err chain_set(al_node *n, const char *url, const uint8_t *ca, size_t ca_len,
                        const uint8_t (*pins)[32], size_t n_pins, const char **why)
{
	size_t ulen = strlen(url);
	uint8_t *copy = NULL;
	al_url u;

	*why = "";
	if (ulen == 0 || ulen >= NODE_URL_MAX || al_url_parse(&u, url, ulen) != AL_OK) {
		*why = "url: want http(s)://host[:port][/path], at most 511 bytes";
		return AL_E_HTTP_URL;
	}
	if (ca_len > NODE_CA_MAX || n_pins > NODE_PINS_MAX || (ca_len && memchr(ca, 0, ca_len))) {
		*why = "ca_pem at most 512 KiB of PEM, at most 8 pins";
		return AL_E_ARG;
	}
	if (u.https && !ca_len && !n_pins && !n->cfg.image_roots) {
		*why = "an https server needs ca_pem or pins (this image carries no roots)";
		return AL_E_TLS_CONFIG;
	}
	if (ca_len && !(copy = node_alloc(n, ca_len + 1)))
		return AL_E_NOMEM;
	if (ca_len)
		memcpy(copy, ca, ca_len);
	if (n->chain.ca)
		node_free(n, n->chain.ca, n->chain.ca_len + 1);
	memset(n->chain.url, 0, sizeof(n->chain.url));
	memcpy(n->chain.url, url, ulen);
	n->chain.ca = copy;
	n->chain.ca_len = ca_len;
	memcpy(n->chain.pins, pins, 32 * n_pins);
	n->chain.n_pins = n_pins;
	n->chain.generation++;
	n->chain_set = true;
	return AL_OK;
}

al_err node_config_load(al_node *n, const uint8_t *data, size_t len)
{
	char url[NODE_URL_MAX];
	uint8_t pins[NODE_PINS_MAX][32];
	const uint8_t *ca;
	const char *why;
	size_t ulen, ca_len, n_pins;
	al_cur c;

	uint8_t format;

	al_cur_init(&c, data, len);
	format = al_cur_u8(&c);
	if (format != 1 && format != CONFIG_FORMAT)
		return AL_E_NODE_RECORD;
	ulen = al_cur_be16(&c);
	if (ulen >= sizeof(url))
		return AL_E_NODE_RECORD;
	al_cur_bytes(&c, url, ulen);
	url[ulen] = 0;
	ca_len = al_cur_be32(&c);
	ca = al_cur_ptr(&c, ca_len);
	n_pins = al_cur_u8(&c);
	if (n_pins > NODE_PINS_MAX)
		return AL_E_NODE_RECORD;
	al_cur_bytes(&c, pins, 32 * n_pins);
	if (format >= 2)
		n->next_key_index = al_cur_be32(&c);
	if (al_cur_done(&c) != AL_OK)
		return AL_E_NODE_RECORD;
	if (ulen == 0)
		return AL_OK; /* no chain server chosen yet */
	return chain_set(n, url, ca, ca_len, (const uint8_t(*)[32])pins, n_pins, &why) == AL_OK
	           ? AL_OK
	           : AL_E_NODE_RECORD;
}

/* --- routes ----------------------------------------------------------------------------- */

static json_t *storage_json(const al_node *n)
{
	json_t *reps = json_array();
	size_t in_set = al_rs_replicas_in_set(&n->rs);

	for (size_t i = 0; i < n->cfg.n_stores; i++) {
		al_err e = al_rs_replica(&n->rs, i);
		json_array_append_new(reps, json_pack("{s:i,s:s,s:s}", "index", (int)i, "status",
		                                      e == AL_OK ? "in_set" : "dropped", "reason",
		                                      e == AL_OK ? "" : al_err_name(e)));
	}
	/* With one store, an operator who puts back an older copy of it (and of the sealed
	 * state) is not caught: say so plainly. */
	return json_pack("{s:s,s:i,s:i,s:I,s:o}", "rollback_protection",
	                 n->cfg.n_stores > 1 && in_set > 1 ? "on" : "off", "stores",
	                 (int)n->cfg.n_stores, "in_set", (int)in_set, "global_version",
	                 (json_int_t)al_rs_global_version(&n->rs), "replicas", reps);
}

static json_t *chain_json(const al_node *n)
{
	if (!n->chain_set)
		return json_pack("{s:b}", "set", 0);
	const char *roots = !n->chain.ca_len && !n->chain.n_pins ? n->cfg.image_roots : NULL;

	return json_pack("{s:b,s:s,s:b,s:i,s:s?}", "set", 1, "url", n->chain.url, "ca_pem",
	                 n->chain.ca_len > 0, "pins", (int)n->chain.n_pins, "image_roots", roots);
}

static json_t *getinfo(al_node *n)
{
	size_t pending = 0, established = 0, peers = node_connected_count(n);
	const char *net = n->cfg.network;
	json_t *o = json_object(), *uris = json_array();

	al_peer_counts(n->mgr, &pending, &established);
	json_object_set_new(o, "identity_pubkey", node_hex_json(n->keys.node_id, AL_PUBKEY_LEN));
	json_object_set_new(o, "node_id", node_hex_json(n->keys.node_id, AL_PUBKEY_LEN));
	json_object_set_new(o, "alias", json_string(""));
	json_object_set_new(o, "version", json_string(ALIGHTD_VERSION));
	json_object_set_new(o, "network", json_string(net));
	json_object_set_new(o, "chains",
	                    json_pack("[{s:s,s:s}]", "chain", "bitcoin", "network", net));
	json_object_set_new(o, "chain_hash", node_hex_json(n->cfg.chain_hash, 32));
	json_object_set_new(o, "num_peers", json_integer((json_int_t)peers));
	json_object_set_new(o, "peers", json_integer((json_int_t)peers));
	json_object_set_new(o, "num_pending_handshakes", json_integer((json_int_t)pending));
	json_object_set_new(o, "max_peers", json_integer((json_int_t)n->cfg.max_peers));
	json_object_set_new(o, "listen",
	                    n->cfg.listen[0] ? json_string(n->cfg.listen) : json_null());
	if (n->cfg.listen[0]) {
		char uri[2 * AL_PUBKEY_LEN + 1 + sizeof(n->cfg.listen)];
		if (al_hex_encode(uri, sizeof(uri), n->keys.node_id, AL_PUBKEY_LEN) == AL_OK) {
			uri[2 * AL_PUBKEY_LEN] = '@';
			memcpy(uri + 2 * AL_PUBKEY_LEN + 1, n->cfg.listen,
			       strlen(n->cfg.listen) + 1);
			json_array_append_new(uris, json_string(uri));
		}
	}
	json_object_set_new(o, "uris", uris);
	node_features_json(o, &n->features);
	json_object_set_new(o, "uptime_s",
	                    json_integer((json_int_t)((n->now - n->started) / 1000)));
	json_object_set_new(o, "platform", json_string(n->cfg.platform));
	json_object_set_new(o, "storage", storage_json(n));
	json_object_set_new(o, "chain", chain_json(n));
	json_object_set_new(o, "wallet", node_wallet_info(n));
	json_t *chans = node_chan_info(n);
	json_object_update(o, chans);
	json_decref(chans);
	return o;
}

static json_t *listpeers(al_node *n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n->max_conns; i++) {
		const node_conn *c = &n->conns[i];
		if (c->used && c->connected && !c->closing)
			json_array_append_new(arr, node_peer_json(c));
	}
	return json_pack("{s:o}", "peers", arr);
}

/* POST /v1/chain: the user's choice of chain server and whom to trust for it. */
static void set_chain(al_node *n, uint64_t token, const uint8_t *body, size_t len)
{
	json_t *req = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *jp = json_object_get(req, "pins");
	const char *url = json_string_value(json_object_get(req, "url"));
	const char *ca = json_string_value(json_object_get(req, "ca_pem"));
	uint8_t pins[NODE_PINS_MAX][32];
	size_t n_pins = json_array_size(jp);
	const char *why = "";
	al_err e = AL_OK;

	if (!json_is_object(req) || !url || (json_object_get(req, "ca_pem") && !ca) ||
	    (jp && !json_is_array(jp)) || n_pins > NODE_PINS_MAX)
		e = AL_E_ARG, why = "body must be {\"url\":..., \"ca_pem\"?:..., \"pins\"?:[hex]}";
	for (size_t i = 0; e == AL_OK && i < n_pins; i++) {
		const char *h = json_string_value(json_array_get(jp, i));
		if (!h || strlen(h) != 64 || al_hex_decode_exact(pins[i], 32, h) != AL_OK)
			e = AL_E_ARG,
			why = "a pin is the SHA-256 of the server's SPKI, 64 hex digits";
	}
	if (e == AL_OK)
		e = chain_set(n, url, (const uint8_t *)ca, ca ? strlen(ca) : 0,
		              (const uint8_t(*)[32])pins, n_pins, &why);
	if (e == AL_OK && !n->wallet)
		e = node_wallet_open(n, NULL, 0);
	json_decref(req);
	if (e != AL_OK) {
		node_answer(n, token, e == AL_E_NOMEM ? 503 : 400,
		            json_pack("{s:o}", "error", node_err_obj(e, why)), 0);
		return;
	}
	/* Answered once the choice (and the wallet it opened) is durable. */
	node_persist_wallet(n);
	node_answer(n, token, 200, chain_json(n), node_persist_config(n));
}

static void export_seed(al_node *n, uint64_t token)
{
	char words[AL_BIP39_MNEMONIC_BUFLEN];

	if (al_node_mnemonic(n, words, sizeof(words)) != AL_OK) {
		node_answer(n, token, 500, node_error_json("cannot encode the seed"), 0);
		return;
	}
	node_answer(n, token, 200, json_pack("{s:s}", "mnemonic", words), 0);
	al_memzero(words, sizeof(words));
}

static bool path_is(const char *target, size_t plen, const char *want)
{
	return plen == strlen(want) && memcmp(target, want, plen) == 0;
}

static bool path_under(const char *target, size_t plen, const char *prefix)
{
	size_t k = strlen(prefix);
	return plen > k && memcmp(target, prefix, k) == 0;
}

void al_node_request(al_node *n, al_node_auth auth, uint64_t token, const char *method,
                     const char *target, const uint8_t *body, size_t len, uint64_t now,
                     uint64_t wall)
{
	size_t plen = strcspn(target, "?");
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	bool del = !strcmp(method, "DELETE"), user = auth == AL_NODE_USER;
	char rest[80];

	n->now = now > n->now ? now : n->now;
	n->wall = wall > n->wall ? wall : n->wall;
	n->stats.requests++;
	if (auth != AL_NODE_USER && auth != AL_NODE_OPERATOR) {
		node_answer(n, token, 403, node_error_json(al_err_str(AL_E_NODE_FORBIDDEN)), 0);
		return;
	}
	if (n->state != AL_NODE_READY) {
		node_answer(n, token, 503,
		            json_pack("{s:o}", "error",
		                      node_err_obj(al_node_status(n), "the node is not serving")),
		            0);
		return;
	}
	if (!node_fx_room(n)) {
		n->stats.requests_refused++;
		node_answer(n, token, 503, node_error_json(al_err_str(AL_E_NODE_BUSY)), 0);
		return;
	}
	if (len > AL_NODE_BODY_MAX) {
		node_answer(n, token, 413, node_error_json("body too large"), 0);
		return;
	}
	/* The user's routes first: the operator learns no more than that they exist. */
	bool chans =
	    path_is(target, plen, "/v1/channels") || path_under(target, plen, "/v1/channels/");
	bool payreq = path_under(target, plen, "/v1/payreq/");
	bool invoices = path_is(target, plen, "/v1/invoices") ||
	                path_under(target, plen, "/v1/invoice/") ||
	                path_under(target, plen, "/v2/invoices/");
	bool balance = path_is(target, plen, "/v1/balance/channels");
	bool sendpay = path_is(target, plen, "/v1/channels/transactions");
	bool payments = path_is(target, plen, "/v1/payments");
	bool policy = path_is(target, plen, "/v1/chanpolicy") && post;
	bool fees = path_is(target, plen, "/v1/fees") && get;
	bool history = path_is(target, plen, "/v1/switch") && post;
	bool user_route = payreq || invoices || balance || payments || policy || fees || history ||
	                  path_is(target, plen, "/v1/seed/export") ||
	                  path_under(target, plen, "/v1/wallet/") || chans ||
	                  (path_is(target, plen, "/v1/chain") && !get);
	if (user_route && !user) {
		n->stats.requests_refused++;
		node_answer(n, token, 403, node_error_json(al_err_str(AL_E_NODE_FORBIDDEN)), 0);
		return;
	}
	if (path_is(target, plen, "/v1/getinfo") && get) {
		node_answer(n, token, 200, getinfo(n), 0);
	} else if (path_is(target, plen, "/v1/peers") && get) {
		node_answer(n, token, 200, listpeers(n), 0);
	} else if (path_is(target, plen, "/v1/peers") && post) {
		node_peers_connect(n, token, body, len);
	} else if (path_under(target, plen, "/v1/peers/") && del && plen - 10 < sizeof(rest)) {
		memcpy(rest, target + 10, plen - 10);
		rest[plen - 10] = 0;
		node_peers_disconnect(n, token, rest);
	} else if (path_is(target, plen, "/v1/chain") && get) {
		node_answer(n, token, 200, chain_json(n), 0);
	} else if (path_is(target, plen, "/v1/chain") && post) {
		set_chain(n, token, body, len);
	} else if (path_is(target, plen, "/v1/seed/export") && post) {
		export_seed(n, token);
	} else if (balance && get) {
		node_answer(n, token, 200, node_chan_balance(n), 0);
	} else if (payreq && get) {
		node_payreq(n, token, target + 11, plen - 11);
	} else if (policy || fees) {
		node_policy_request(n, token, fees, body, len);
	} else if (history) {
		node_fwd_request(n, token, body, len);
	} else if (sendpay || payments) {
		node_send_request(n, token, post, payments, body, len);
	} else if (invoices && plen < sizeof(rest)) {
		memcpy(rest, target, plen);
		rest[plen] = 0;
		node_inv_request(n, token, method, rest, body, len);
	} else if (chans && plen - 12 < sizeof(rest)) {
		memcpy(rest, target + 12, plen - 12);
		rest[plen - 12] = 0;
		node_chan_request(n, token, method, rest, target[plen] ? target + plen + 1 : NULL,
		                  body, len);
	} else if (path_under(target, plen, "/v1/wallet/") && post && plen - 11 < sizeof(rest)) {
		memcpy(rest, target + 11, plen - 11);
		rest[plen - 11] = 0;
		node_wallet_request(n, token, rest, body, len);
	} else if (path_is(target, plen, "/v1/getinfo") || path_is(target, plen, "/v1/peers") ||
	           path_is(target, plen, "/v1/chain") || path_is(target, plen, "/v1/seed/export") ||
	           path_under(target, plen, "/v1/wallet/") || payreq || balance) {
		node_answer(n, token, 405, node_error_json("method not allowed"), 0);
	} else {
		node_answer(n, token, 404, node_error_json("no such endpoint"), 0);
	}
	node_wallet_run(n);
}
