/* The node's control API inside the enclave: LND's REST paths and field names.
 *
 *   GET  /v1/getinfo   identity_pubkey (LND) = node_id, num_peers (LND) = peers, network
 *   GET  /v1/peers     {"peers":[{pub_key, node_id, address, inbound, connected,
 *                      features (hex), feature_names}]}
 *   POST /v1/peers     {"addr":{"pubkey":"<hex>","host":"<host>:<port>"}}: connect and
 *                      answer once init is exchanged (or with the reason it failed)
 *   POST /v1/wallet/<command>  the on-chain wallet (wallet_enc.c)
 *
 * Errors are {"error":{"message":...}} with a 4xx or 5xx status. The host hands in a
 * method, a target and a body (copied here before use) from the Unix socket it serves,
 * and ctl.c from the RA-TLS connections terminated in here; a connect is answered later
 * through the api_done ocall (or, for ctl.c's requests, inside: al_enc_ctl_done). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mem.h"
#include "enclave/api_parse.h"
#include "enclave/enclave_int.h"
#include "util/hex.h"

#define ALIGHTD_VERSION "alightd 0.1.0"
#define TARGET_MAX      256
#define BODY_MAX        (16 * 1024)

/* --- log lines ------------------------------------------------------------------------ */

void al_enc_line_s(al_enc_line *l, const char *s)
{
	while (s && *s && l->n < sizeof(l->b))
		l->b[l->n++] = *s++;
}

void al_enc_line_u(al_enc_line *l, uint64_t v)
{
	char d[21];
	size_t i = sizeof(d) - 1;
	d[i] = 0;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	al_enc_line_s(l, d + i);
}

void al_enc_line_hex(al_enc_line *l, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n && l->n + 2 <= sizeof(l->b); i++) {
		l->b[l->n++] = digits[p[i] >> 4];
		l->b[l->n++] = digits[p[i] & 15];
	}
}

void al_enc_line_log(al_enc_line *l, int32_t level)
{
	al_enc.oc.log(al_enc.oc.host, level, l->b, l->n);
}

/* --- JSON pieces ------------------------------------------------------------------------ */

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	if (2 * n + 1 > sizeof(buf) || al_hex_encode(buf, sizeof(buf), p, n) != AL_OK)
		return json_string("");
	return json_string(buf);
}

static void add_features(json_t *o, const al_features *f)
{
	uint8_t wire[AL_FEATURES_MAX_BITS / 8];
	size_t len = al_features_wire_len(f);
	json_t *names = json_array();
	json_object_set_new(o, "features",
	                    al_features_to_wire(wire, len, f) == AL_OK ? hex_json(wire, len)
	                                                               : json_string(""));
	for (unsigned bit = 0; bit < AL_FEATURES_MAX_BITS; bit++) {
		if (!al_features_has(f, bit))
			continue;
		const char *name = al_feature_name(bit);
		if (name) {
			json_array_append_new(names, json_string(name));
		} else {
			al_enc_line l = {.n = 0};
			al_enc_line_s(&l, "unknown_");
			al_enc_line_u(&l, bit);
			json_array_append_new(names, json_stringn(l.b, l.n));
		}
	}
	json_object_set_new(o, "feature_names", names);
}

static json_t *peer_json(const al_econn *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "pub_key", hex_json(c->node_id, sizeof(c->node_id)));
	json_object_set_new(o, "node_id", hex_json(c->node_id, sizeof(c->node_id)));
	json_object_set_new(o, "address", json_string(c->addr));
	json_object_set_new(o, "inbound", json_boolean(c->inbound));
	json_object_set_new(o, "connected", json_boolean(c->connected));
	add_features(o, &c->remote_features);
	return o;
}

static json_t *error_json(const char *msg)
{
	return json_pack("{s:{s:s}}", "error", "message", msg);
}

static size_t connected_count(uint32_t node)
{
	size_t n = 0;
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++)
		n += al_enc.conns[i].used && al_enc.conns[i].node == node &&
		     al_enc.conns[i].connected;
	return n;
}

static const al_econn *find_connected(uint32_t node, const uint8_t id[33])
{
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++) {
		const al_econn *c = &al_enc.conns[i];
		if (c->used && c->node == node && c->connected && !c->closing &&
		    memcmp(c->node_id, id, 33) == 0)
			return c;
	}
	return NULL;
}

/* --- the routes ------------------------------------------------------------------------- */

static json_t *getinfo(uint32_t node, const al_enode *n)
{
	size_t pending = 0, established = 0, peers = connected_count(node);
	const al_enclave_node_params *p = &n->params;
	json_t *o = json_object(), *uris = json_array();
	al_peer_counts(n->mgr, &pending, &established);
	json_object_set_new(o, "identity_pubkey", hex_json(n->node_id, 33));
	json_object_set_new(o, "node_id", hex_json(n->node_id, 33));
	json_object_set_new(o, "alias", json_string(""));
	json_object_set_new(o, "version", json_string(ALIGHTD_VERSION));
	json_object_set_new(o, "network", json_string(p->network));
	json_object_set_new(o, "chains",
	                    json_pack("[{s:s,s:s}]", "chain", "bitcoin", "network", p->network));
	json_object_set_new(o, "chain_hash", hex_json(al_enc.cfg.chain_hash, 32));
	json_object_set_new(o, "num_peers", json_integer((json_int_t)peers));
	json_object_set_new(o, "peers", json_integer((json_int_t)peers));
	json_object_set_new(o, "num_pending_handshakes", json_integer((json_int_t)pending));
	json_object_set_new(o, "max_peers", json_integer((json_int_t)p->max_peers));
	json_object_set_new(o, "listen", p->listen[0] ? json_string(p->listen) : json_null());
	if (p->listen[0]) {
		al_enc_line l = {.n = 0};
		al_enc_line_hex(&l, n->node_id, 33);
		al_enc_line_s(&l, "@");
		al_enc_line_s(&l, p->listen);
		json_array_append_new(uris, json_stringn(l.b, l.n));
	}
	json_object_set_new(o, "uris", uris);
	add_features(o, &n->features);
	json_object_set_new(o, "uptime_s",
	                    json_integer((json_int_t)((al_enc.now_ms - n->started_ms) / 1000)));
	json_object_set_new(o, "platform", json_string("sim"));
	return o;
}

static json_t *listpeers(uint32_t node)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++) {
		const al_econn *c = &al_enc.conns[i];
		if (c->used && c->node == node && c->connected)
			json_array_append_new(arr, peer_json(c));
	}
	return json_pack("{s:o}", "peers", arr);
}

static json_t *connect_req(uint32_t node, const al_enode *n, uint64_t token, const uint8_t *body,
                           size_t blen, int32_t *status, al_err *e)
{
	uint8_t id[33];
	const char *host = NULL, *msg;
	char why[160] = "";
	al_enc_conn conn = 0;
	json_t *req = json_loadb((const char *)body, blen, JSON_REJECT_DUPLICATES, NULL);
	json_t *ans = NULL;
	const al_econn *c;

	*status = 400;
	if ((msg = al_enc_connect_args(al_enc.secp, req, id, &host)) != NULL) {
		ans = error_json(msg);
	} else if (memcmp(id, n->node_id, 33) == 0) {
		ans = error_json("cannot connect to ourselves");
	} else if ((c = find_connected(node, id)) != NULL) {
		*status = 200;
		ans = json_pack("{s:s,s:o}", "status", "already connected", "peer", peer_json(c));
	} else {
		char addr[64];
		size_t alen = strlen(host);
		memcpy(addr, host, alen + 1);
		int32_t r =
		    al_enc.oc.net_dial(al_enc.oc.host, node, addr, alen, &conn, why, sizeof(why));
		why[sizeof(why) - 1] = 0;
		if (r == AL_OK) {
			r = al_enc_net_dialed(node, conn, id, addr, token);
			if (r != AL_OK) {
				(void)al_enc.oc.net_close(al_enc.oc.host, conn);
				memcpy(why, al_err_str((al_err)r),
				       strlen(al_err_str((al_err)r)) + 1);
			}
		}
		if (r == AL_OK) {
			*e = AL_E_ENC_PENDING;
		} else {
			*status = r == AL_E_ARG ? 400 : 502;
			ans = error_json(why[0] ? why : al_err_str((al_err)r));
		}
	}
	json_decref(req);
	return ans;
}

static json_t *route(uint32_t node, uint64_t token, const char *method, const char *target,
                     const uint8_t *body, size_t blen, int32_t *status, al_err *e)
{
	al_enode *n = al_enc_node_at(node);
	size_t plen = strcspn(target, "?");
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	bool info = plen == 11 && memcmp(target, "/v1/getinfo", 11) == 0;
	bool peers = plen == 9 && memcmp(target, "/v1/peers", 9) == 0;

	*status = 200;
	if (!n || n->state != AL_ENODE_READY || !n->seeded) {
		*status = 503;
		return error_json("the node is not ready");
	}
	json_t *w = al_enc_wallet_route(n, method, target, body, blen, status);
	if (w)
		return w;
	if (info && get)
		return getinfo(node, n);
	if (peers && get)
		return listpeers(node);
	if (peers && post)
		return connect_req(node, n, token, body, blen, status, e);
	if (info || peers) {
		*status = 405;
		return error_json("method not allowed");
	}
	*status = 404;
	return error_json("no such endpoint");
}

/* The answer as compact JSON into out; AL_E_BUFSIZE with the size needed. */
static al_err dump(json_t *ans, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t need = json_dumpb(ans, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	*outlen = need;
	if (need == 0)
		return AL_E_NOMEM;
	if (need > cap)
		return AL_E_BUFSIZE;
	json_dumpb(ans, (char *)out, cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return AL_OK;
}

int32_t al_enc_api(uint32_t node, uint64_t token, const char *method, size_t mlen,
                   const char *target, size_t tlen, const uint8_t *body, size_t blen, uint8_t *out,
                   size_t cap, size_t *outlen, int32_t *status)
{
	char m[8], t[TARGET_MAX];
	uint8_t *b = NULL;
	al_err e = AL_OK;

	*outlen = 0;
	*status = 500;
	al_enc_tick();
	/* Copies first: the host could change its buffers while we look at them. */
	if (mlen >= sizeof(m))
		mlen = 0; /* no method of ours is that long: "" is answered 404/405 */
	memcpy(m, method, mlen);
	m[mlen] = 0;
	if (tlen >= sizeof(t))
		tlen = 0;
	memcpy(t, target, tlen);
	t[tlen] = 0;
	if (strlen(m) != mlen || strlen(t) != tlen)
		m[0] = t[0] = 0;
	if (blen > BODY_MAX)
		blen = BODY_MAX + 1; /* refused as a malformed body below */
	if (al_heap_alloc(al_enc.heap, blen ? blen : 1, (void **)&b) != AL_OK)
		return AL_E_NOMEM;
	if (blen && blen <= BODY_MAX)
		memcpy(b, body, blen);
	json_t *ans = route(node, token, m, t, b, blen <= BODY_MAX ? blen : 0, status, &e);
	al_heap_free(al_enc.heap, b);
	if (e == AL_E_ENC_PENDING) {
		al_enc_pump();
		return e;
	}
	if (!ans)
		return AL_E_NOMEM;
	e = dump(ans, out, cap, outlen);
	json_decref(ans);
	al_enc_pump();
	return e;
}

/* --- completions of a pending connect ---------------------------------------------------- */

static void done(uint64_t token, int32_t status, json_t *ans)
{
	char *s = ans ? json_dumps(ans, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	static const char nomem[] = "{\"error\":{\"message\":\"out of memory\"}}";
	const uint8_t *body = s ? (const uint8_t *)s : (const uint8_t *)nomem;
	size_t len = s ? strlen(s) : sizeof(nomem) - 1;
	if (!s)
		status = 500;
	/* A request that came over RA-TLS is answered inside; the host's go out. */
	if (token & AL_ENC_CTL_TOKEN)
		al_enc_ctl_done(token, status, body, len);
	else
		al_enc.oc.api_done(al_enc.oc.host, token, status, body, len);
	json_decref(ans);
	free(s);
}

void al_enc_api_connected(const al_econn *c)
{
	done(c->waiter, 200, json_pack("{s:s,s:o}", "status", "connected", "peer", peer_json(c)));
}

void al_enc_api_failed(const al_econn *c, const char *msg)
{
	done(c->waiter, 502, error_json(msg));
}
