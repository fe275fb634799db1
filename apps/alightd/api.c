/* The REST handler: LND's paths and field names where LND has them.
 *
 *   GET  /v1/getinfo   identity_pubkey (LND) = node_id, num_peers (LND) = peers, network
 *   GET  /v1/peers     {"peers":[{pub_key, node_id, address, inbound, connected,
 *                      features (hex), feature_names}]}
 *   POST /v1/peers     {"addr":{"pubkey":"<hex>","host":"<host>:<port>"}}: connect and
 *                      answer once init is exchanged (or with the reason it failed)
 *
 * Errors are {"error":{"message":...}} with a 4xx or 5xx status. The handler knows no
 * sockets; it is called with a request and writes a response body. */
#include <stdio.h>
#include <string.h>

#include "alightd.h"
#include "api_parse.h"
#include "jsonw.h"
#include "util/hex.h"

#define ALIGHTD_VERSION "alightd 0.1.0"

void api_error_body(al_wb *w, const char *msg)
{
	jw_raw(w, "{\"error\":{\"message\":");
	jw_str(w, msg);
	jw_raw(w, "}}");
}

static void features_json(al_wb *w, const al_features *f)
{
	uint8_t wire[AL_FEATURES_MAX_BITS / 8];
	size_t len = al_features_wire_len(f);
	bool first = true;

	jw_key(w, "features", 0);
	if (al_features_to_wire(wire, len, f) == AL_OK)
		jw_hex(w, wire, len);
	else
		jw_str(w, "");
	jw_key(w, "feature_names", 0);
	jw_raw(w, "[");
	for (unsigned bit = 0; bit < AL_FEATURES_MAX_BITS; bit++) {
		const char *name;
		char unknown[32];

		if (!al_features_has(f, bit))
			continue;
		name = al_feature_name(bit);
		if (name == NULL) {
			snprintf(unknown, sizeof(unknown), "unknown_%u", bit);
			name = unknown;
		}
		if (!first)
			jw_raw(w, ",");
		first = false;
		jw_str(w, name);
	}
	jw_raw(w, "]");
}

static void getinfo(alightd *d, al_wb *w)
{
	size_t pending = 0, established = 0, peers = peers_connected_count(d);
	char uri[67 + 1 + SOCK_ADDR_STRLEN];

	al_peer_counts(d->mgr, &pending, &established);
	jw_raw(w, "{");
	jw_key(w, "identity_pubkey", 1);
	jw_hex(w, d->node_id, 33);
	jw_key(w, "node_id", 0);
	jw_hex(w, d->node_id, 33);
	jw_key(w, "alias", 0);
	jw_str(w, "");
	jw_key(w, "version", 0);
	jw_str(w, ALIGHTD_VERSION);
	jw_key(w, "network", 0);
	jw_str(w, d->np->name);
	jw_key(w, "chains", 0);
	jw_raw(w, "[{\"chain\":\"bitcoin\",\"network\":");
	jw_str(w, d->np->name);
	jw_raw(w, "}]");
	jw_key(w, "chain_hash", 0);
	jw_hex(w, d->np->chain_hash, 32);
	jw_key(w, "num_peers", 0);
	jw_u64(w, peers);
	jw_key(w, "peers", 0);
	jw_u64(w, peers);
	jw_key(w, "num_pending_handshakes", 0);
	jw_u64(w, pending);
	jw_key(w, "max_peers", 0);
	jw_u64(w, d->max_peers);
	jw_key(w, "listen", 0);
	if (d->listen_addr[0])
		jw_str(w, d->listen_addr);
	else
		jw_raw(w, "null");
	jw_key(w, "uris", 0);
	jw_raw(w, "[");
	if (d->listen_addr[0]) {
		if (al_hex_encode(uri, 67, d->node_id, 33) == AL_OK) {
			strcat(uri, "@");
			strcat(uri, d->listen_addr);
			jw_str(w, uri);
		}
	}
	jw_raw(w, "]");
	features_json(w, &d->features);
	jw_key(w, "uptime_s", 0);
	jw_u64(w, (al_loop_now_ms() - d->started_ms) / 1000);
	jw_raw(w, "}");
}

static void peer_json(al_wb *w, const conn *c)
{
	jw_raw(w, "{");
	jw_key(w, "pub_key", 1);
	jw_hex(w, c->node_id, 33);
	jw_key(w, "node_id", 0);
	jw_hex(w, c->node_id, 33);
	jw_key(w, "address", 0);
	jw_str(w, c->addr);
	jw_key(w, "inbound", 0);
	jw_raw(w, c->inbound ? "true" : "false");
	jw_key(w, "connected", 0);
	jw_raw(w, c->connected ? "true" : "false");
	features_json(w, &c->remote_features);
	jw_raw(w, "}");
}

static void listpeers(alightd *d, al_wb *w)
{
	bool first = true;

	jw_raw(w, "{\"peers\":[");
	for (size_t i = 0; i < d->n_conns; i++) {
		const conn *c = &d->conns[i];

		if (!c->used || !c->connected)
			continue;
		if (!first)
			jw_raw(w, ",");
		first = false;
		peer_json(w, c);
	}
	jw_raw(w, "]}");
}

void api_connect_ok(alightd *d, rpc_token t, const conn *c)
{
	al_wb w;

	al_wb_init(&w, d->rpc_body, d->rpc_out_cap);
	jw_raw(&w, "{\"status\":\"connected\",\"peer\":");
	peer_json(&w, c);
	jw_raw(&w, "}");
	rpc_complete(d, t, 200, d->rpc_body, al_wb_ok(&w) ? w.len : 0);
}

void api_connect_failed(alightd *d, rpc_token t, const char *msg)
{
	al_wb w;

	al_wb_init(&w, d->rpc_body, d->rpc_out_cap);
	api_error_body(&w, msg);
	rpc_complete(d, t, 502, d->rpc_body, al_wb_ok(&w) ? w.len : 0);
}

static api_result connect_req(alightd *d, const uint8_t *body, size_t len, rpc_token token,
                              int *status, al_wb *w)
{
	char msg[256], host[SOCK_ADDR_STRLEN + 64];
	uint8_t id[33];
	const conn *c;
	al_err e;

	if (!api_connect_args(d->secp, id, host, sizeof(host), body, len, msg, sizeof(msg))) {
		*status = 400;
		api_error_body(w, msg);
		return API_DONE;
	}
	if (memcmp(id, d->node_id, 33) == 0) {
		*status = 400;
		api_error_body(w, "cannot connect to ourselves");
		return API_DONE;
	}
	c = peers_find_connected(d, id);
	if (c != NULL) {
		*status = 200;
		jw_raw(w, "{\"status\":\"already connected\",\"peer\":");
		peer_json(w, c);
		jw_raw(w, "}");
		return API_DONE;
	}
	e = peers_connect(d, id, host, token, msg, sizeof(msg));
	if (e == AL_OK)
		return API_PENDING;
	*status = e == AL_E_ARG ? 400 : 502;
	api_error_body(w, msg);
	return API_DONE;
}

api_result api_handle(alightd *d, const char *method, const char *target, const uint8_t *body,
                      size_t body_len, rpc_token token, int *status, al_wb *w)
{
	size_t plen = strcspn(target, "?");
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

	*status = 200;
	if (wallet_route(d, method, target, body, body_len, status, w))
		return API_DONE;
	if (plen == 11 && memcmp(target, "/v1/getinfo", 11) == 0 && get) {
		getinfo(d, w);
		return API_DONE;
	}
	if (plen == 9 && memcmp(target, "/v1/peers", 9) == 0) {
		if (get) {
			listpeers(d, w);
			return API_DONE;
		}
		if (post)
			return connect_req(d, body, body_len, token, status, w);
	}
	if ((plen == 11 && memcmp(target, "/v1/getinfo", 11) == 0) ||
	    (plen == 9 && memcmp(target, "/v1/peers", 9) == 0)) {
		*status = 405;
		api_error_body(w, "method not allowed");
		return API_DONE;
	}
	*status = 404;
	api_error_body(w, "no such endpoint");
	return API_DONE;
}
