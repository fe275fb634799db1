/* The node's connections: socket events into its BOLT #1 peer manager (ln/peer.h),
 * the manager's events into the node's view (what the API reports, connect requests
 * answered once init is exchanged), and the manager's bytes, read interest and closes
 * out as effects. */
#include <string.h>

#include "util/mem.h"
#include "node/api_parse.h"
#include "node/node_int.h"
#include "util/hex.h"

/* --- the connection table ------------------------------------------------------------ */

node_conn *node_conn_find(al_node *n, uint64_t conn)
{
	for (size_t i = 0; i < n->max_conns; i++)
		if (n->conns[i].used && n->conns[i].conn == conn)
			return &n->conns[i];
	return NULL;
}

node_conn *node_conn_of_peer(al_node *n, const uint8_t id[AL_PUBKEY_LEN])
{
	for (size_t i = 0; i < n->max_conns; i++) {
		node_conn *c = &n->conns[i];
		if (c->used && c->connected && !c->closing &&
		    !memcmp(c->node_id, id, AL_PUBKEY_LEN))
			return c;
	}
	return NULL;
}

size_t node_connected_count(const al_node *n)
{
	size_t k = 0;
	for (size_t i = 0; i < n->max_conns; i++)
		k += n->conns[i].used && n->conns[i].connected && !n->conns[i].closing;
	return k;
}

static const node_conn *find_connected(const al_node *n, const uint8_t id[AL_PUBKEY_LEN])
{
	for (size_t i = 0; i < n->max_conns; i++) {
		const node_conn *c = &n->conns[i];
		if (c->used && c->connected && !c->closing &&
		    !memcmp(c->node_id, id, AL_PUBKEY_LEN))
			return c;
	}
	return NULL;
}

/* Text from outside (a peer's error, the host's reason): printable ASCII only, so it
 * cannot forge a log line or break out of JSON. */
static void printable(char *out, size_t cap, const char *in, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < len && k + 1 < cap && in; i++) {
		unsigned char b = (unsigned char)in[i];
		if (!b)
			break;
		out[k++] = (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') ? (char)b : '?';
	}
	out[k] = 0;
}

static al_err new_conn(al_node *n, uint64_t conn, const uint8_t *their_id, const char *addr,
                       uint64_t waiter)
{
	al_privkey eph;
	node_conn *c = NULL;
	al_err e;

	if (n->state != AL_NODE_READY)
		return AL_E_NODE_STATE;
	if (node_conn_find(n, conn))
		return AL_E_PEER_CONN_EXISTS;
	for (size_t i = 0; i < n->max_conns && !c; i++)
		if (!n->conns[i].used)
			c = &n->conns[i];
	if (!c)
		return AL_E_PEER_HANDSHAKES_FULL;
	/* BOLT #8: "a node MUST generate a new ephemeral key with strong cryptographic
	 * randomness". */
	do {
		e = al_rng_fill(n->env.rng, eph.k, sizeof(eph.k));
	} while (e == AL_OK && !al_privkey_valid(n->env.secp, &eph));
	if (e == AL_OK)
		e = their_id ? al_peer_new_outbound(n->mgr, conn, their_id, &eph, n->now)
		             : al_peer_new_inbound(n->mgr, conn, &eph, n->now);
	al_privkey_clear(&eph);
	if (e != AL_OK)
		return e;
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->conn = conn;
	c->reading = -1;
	c->inbound = their_id == NULL;
	c->waiter = waiter;
	printable(c->addr, sizeof(c->addr), addr, addr ? strlen(addr) : 0);
	if (c->inbound) {
		node_line l = {.n = 0};
		node_line_s(&l, "accepted conn=");
		node_line_u(&l, conn & 0xffffffffu);
		node_line_s(&l, " addr=");
		node_line_s(&l, c->addr);
		node_line_log(n, &l, 2);
	}
	return AL_OK;
}

al_err al_node_net_accept(al_node *n, uint64_t conn, const char *addr, uint64_t now)
{
	n->now = now > n->now ? now : n->now;
	AL_TRY(new_conn(n, conn, NULL, addr, 0));
	node_peers_pump(n);
	return AL_OK;
}

al_err al_node_net_recv(al_node *n, uint64_t conn, const uint8_t *buf, size_t len, size_t *used,
                        uint64_t now)
{
	node_conn *c = node_conn_find(n, conn);
	al_err e;

	n->now = now > n->now ? now : n->now;
	*used = 0;
	if (!c)
		return AL_E_PEER_UNKNOWN_CONN;
	if (c->closing || n->state != AL_NODE_READY) {
		*used = len; /* nobody listens any more: drop */
		return AL_OK;
	}
	e = al_peer_read(n->mgr, conn, buf, len, used, n->now);
	node_peers_pump(n);
	return e == AL_E_PEER_UNKNOWN_CONN ? e : AL_OK;
}

void al_node_net_eof(al_node *n, uint64_t conn, uint64_t now)
{
	n->now = now > n->now ? now : n->now;
	/* The close event says why the stream ended. */
	if (node_conn_find(n, conn) && n->state == AL_NODE_READY &&
	    al_peer_read_eof(n->mgr, conn, n->now) != AL_OK)
		n->stats.peer_eofs++;
	node_peers_pump(n);
}

void al_node_net_sent(al_node *n, uint64_t conn, size_t sent, uint64_t now)
{
	node_conn *c = node_conn_find(n, conn);

	n->now = now > n->now ? now : n->now;
	if (!c || !c->offered)
		return;
	c->offered = false;
	if (sent == 0) {
		c->blocked = true;
		return;
	}
	size_t avail = 0;
	(void)al_peer_send_buf(n->mgr, conn, &avail);
	if (sent > avail || al_peer_send_ack(n->mgr, conn, sent, n->now) != AL_OK)
		return;
	c->blocked = sent < avail;
	node_peers_pump(n);
}

void al_node_net_writable(al_node *n, uint64_t conn, uint64_t now)
{
	node_conn *c = node_conn_find(n, conn);

	n->now = now > n->now ? now : n->now;
	if (c)
		c->blocked = false;
}

/* The connect request waiting for this connection failed. */
static void connect_failed(al_node *n, node_conn *c, const al_peer_event *ev)
{
	char msg[256];
	size_t k;
	/* An initiator with the wrong node id sees only the responder hang up: its Act One
	 * cannot be decrypted there (BOLT #8 has no error to send). */
	bool hung_up = !c->why[0] && !ev->was_connected &&
	               (ev->reason == AL_E_TRUNCATED || ev->reason == AL_E_PEER_REMOTE_CLOSED);

	k = (size_t)0;
	msg[0] = 0;
	const char *parts[] = {"connection to ", c->addr,
	                       " failed: ", c->why[0] ? c->why : al_err_str(ev->reason),
	                       hung_up ? " (the peer hung up before init: wrong node id?)" : ""};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *p = parts[i]; *p && k + 1 < sizeof(msg); p++)
			msg[k++] = *p;
	msg[k] = 0;
	node_answer(n, c->waiter, 502, node_error_json(msg), 0);
	c->waiter = 0;
}

void al_node_net_closed(al_node *n, uint64_t conn, const char *why, uint64_t now)
{
	node_conn *c = node_conn_find(n, conn);
	al_peer_event ev;

	n->now = now > n->now ? now : n->now;
	if (!c)
		return;
	if (why && *why && !c->why[0])
		printable(c->why, sizeof(c->why), why, strlen(why));
	memset(&ev, 0, sizeof(ev));
	if (n->state != AL_NODE_READY || al_peer_closed(n->mgr, &ev, conn, n->now) != AL_OK)
		ev.reason = AL_E_PEER_REMOTE_CLOSED;
	node_line l = {.n = 0};
	node_line_s(&l, "disconnected conn=");
	node_line_u(&l, conn & 0xffffffffu);
	node_line_s(&l, " addr=");
	node_line_s(&l, c->addr);
	node_line_s(&l, c->inbound ? " in node_id=" : " out node_id=");
	if (ev.has_node_id)
		node_line_hex(&l, ev.node_id, sizeof(ev.node_id));
	else
		node_line_s(&l, "-");
	node_line_s(&l,
	            ev.was_connected ? " was_connected=1 reason=\"" : " was_connected=0 reason=\"");
	node_line_s(&l, al_err_str(ev.reason));
	if (c->why[0]) {
		node_line_s(&l, " (socket: ");
		node_line_s(&l, c->why);
		node_line_s(&l, ")");
	}
	node_line_s(&l, "\"");
	node_line_log(n, &l, 2);
	if (c->waiter)
		connect_failed(n, c, &ev);
	bool had_peer = c->connected;
	uint8_t peer[AL_PUBKEY_LEN];
	memcpy(peer, c->node_id, sizeof(peer));
	memset(c, 0, sizeof(*c));
	if (had_peer)
		node_chan_peer_gone(n, peer);
	node_peers_pump(n);
}

/* --- dialing ------------------------------------------------------------------------ */

void node_peers_connect(al_node *n, uint64_t token, const uint8_t *body, size_t len)
{
	json_t *req = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *host = NULL, *msg;
	uint8_t id[AL_PUBKEY_LEN];
	const node_conn *c;
	node_dial *d = NULL;

	if ((msg = al_node_connect_args(n->env.secp, req, id, &host)) != NULL) {
		node_answer(n, token, 400, node_error_json(msg), 0);
	} else if (!memcmp(id, n->keys.node_id, AL_PUBKEY_LEN)) {
		node_answer(n, token, 400, node_error_json("cannot connect to ourselves"), 0);
	} else if ((c = find_connected(n, id)) != NULL) {
		node_answer(n, token, 200,
		            json_pack("{s:s,s:o}", "status", "already connected", "peer",
		                      node_peer_json(c)),
		            0);
	} else {
		for (size_t i = 0; i < sizeof(n->dials) / sizeof(n->dials[0]) && !d; i++)
			if (!n->dials[i].used)
				d = &n->dials[i];
		if (!d) {
			node_answer(n, token, 503, node_error_json("too many connects in progress"),
			            0);
		} else {
			al_node_fx fx = {.kind = AL_NODE_FX_DIAL, .req = node_new_req(n)};
			memset(d, 0, sizeof(*d));
			memcpy(fx.peer_id, id, sizeof(id));
			if (node_fx_push(n, &fx, NULL, 0, host, 0) != AL_OK) {
				node_answer(n, token, 503, node_error_json("busy"), 0);
			} else {
				d->used = true;
				d->req = fx.req;
				d->token = token;
				memcpy(d->peer_id, id, sizeof(id));
				memcpy(d->addr, host, strlen(host) + 1);
			}
		}
	}
	json_decref(req);
}

void al_node_dialed(al_node *n, uint64_t req, al_err status, uint64_t conn, const char *why,
                    uint64_t now)
{
	char text[128];
	node_dial *d = NULL;
	al_err e = status;

	n->now = now > n->now ? now : n->now;
	for (size_t i = 0; i < sizeof(n->dials) / sizeof(n->dials[0]) && !d; i++)
		if (n->dials[i].used && n->dials[i].req == req)
			d = &n->dials[i];
	if (!d)
		return; /* not ours (any more): the driver must close what it opened */
	d->used = false;
	if (e == AL_OK)
		e = new_conn(n, conn, d->peer_id, d->addr, d->token);
	if (e == AL_OK) {
		node_peers_pump(n);
		return;
	}
	printable(text, sizeof(text), why && *why ? why : al_err_str(e),
	          strlen(why && *why ? why : al_err_str(e)));
	node_answer(n, d->token, e == AL_E_ARG ? 400 : 502, node_error_json(text), 0);
	if (status == AL_OK) {
		al_node_fx fx = {.kind = AL_NODE_FX_NET_CLOSE, .conn = conn};
		(void)node_fx_push(n, &fx, NULL, 0, NULL, 0);
	}
}

void node_peers_disconnect(al_node *n, uint64_t token, const char *id_hex)
{
	uint8_t id[AL_PUBKEY_LEN];
	const node_conn *c;

	if (strlen(id_hex) != 66 || al_hex_decode_exact(id, sizeof(id), id_hex) != AL_OK) {
		node_answer(n, token, 400, node_error_json("invalid node id"), 0);
		return;
	}
	if (!(c = find_connected(n, id))) {
		node_answer(n, token, 404, node_error_json("not connected"), 0);
		return;
	}
	if (al_peer_disconnect(n->mgr, c->conn, n->now) != AL_OK) {
		node_answer(n, token, 404, node_error_json("not connected"), 0);
		return;
	}
	node_peers_pump(n);
	node_answer(n, token, 200, json_pack("{s:s}", "status", "disconnecting"), 0);
}

/* --- JSON ----------------------------------------------------------------------------- */

json_t *node_features_json(json_t *o, const al_features *f)
{
	uint8_t wire[AL_FEATURES_MAX_BITS / 8];
	size_t len = al_features_wire_len(f);
	json_t *names = json_array();

	json_object_set_new(o, "features",
	                    al_features_to_wire(wire, len, f) == AL_OK ? node_hex_json(wire, len)
	                                                               : json_string(""));
	for (unsigned bit = 0; bit < AL_FEATURES_MAX_BITS; bit++) {
		char unknown[24] = "unknown_";
		if (!al_features_has(f, bit))
			continue;
		const char *name = al_feature_name(bit);
		if (!name) {
			size_t k = 8;
			unsigned d = bit >= 100 ? 100 : bit >= 10 ? 10 : 1;
			for (; d; d /= 10)
				unknown[k++] = (char)('0' + bit / d % 10);
			unknown[k] = 0;
		}
		json_array_append_new(names, json_string(name ? name : unknown));
	}
	json_object_set_new(o, "feature_names", names);
	return o;
}

json_t *node_peer_json(const node_conn *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "pub_key", node_hex_json(c->node_id, sizeof(c->node_id)));
	json_object_set_new(o, "node_id", node_hex_json(c->node_id, sizeof(c->node_id)));
	json_object_set_new(o, "address", json_string(c->addr));
	json_object_set_new(o, "inbound", json_boolean(c->inbound));
	json_object_set_new(o, "connected", json_boolean(c->connected));
	return node_features_json(o, &c->remote_features);
}

/* --- the manager's events ------------------------------------------------------------ */

static void on_connected(al_node *n, node_conn *c, const al_peer_event *ev)
{
	char id[2 * AL_PUBKEY_LEN + 1];

	c->connected = true;
	memcpy(c->node_id, ev->node_id, sizeof(c->node_id));
	c->features = ev->features;
	c->remote_features = ev->remote_features;
	if (al_hex_encode(id, sizeof(id), c->node_id, sizeof(c->node_id)) != AL_OK)
		id[0] = 0;
	node_line l = {.n = 0};
	uint8_t fb[AL_FEATURES_MAX_BITS / 8];
	size_t flen = al_features_wire_len(&ev->remote_features);
	node_line_s(&l, "connected conn=");
	node_line_u(&l, c->conn & 0xffffffffu);
	node_line_s(&l, " addr=");
	node_line_s(&l, c->addr);
	node_line_s(&l, c->inbound ? " in node_id=" : " out node_id=");
	node_line_s(&l, id);
	node_line_s(&l, " features=");
	if (flen && al_features_to_wire(fb, flen, &ev->remote_features) == AL_OK)
		node_line_hex(&l, fb, flen);
	else
		node_line_s(&l, "-");
	node_line_log(n, &l, 2);
	if (c->waiter) {
		node_answer(
		    n, c->waiter, 200,
		    json_pack("{s:s,s:o}", "status", "connected", "peer", node_peer_json(c)), 0);
		c->waiter = 0;
	}
	node_chan_peer_connected(n, c->node_id);
}

/* BOLT #1 error (17) and warning (1): type, channel_id, len, data. */
static void on_message(al_node *n, const al_peer_event *ev)
{
	char text[AL_PEER_MAX_ERROR_TEXT + 1];

	if ((ev->type == 1 || ev->type == 17) && ev->len >= 36) {
		size_t dlen = ((size_t)ev->msg[34] << 8) | ev->msg[35];
		if (dlen > ev->len - 36)
			dlen = ev->len - 36;
		printable(text, sizeof(text), (const char *)ev->msg + 36, dlen);
		node_log(n, 2, ev->type == 1 ? "peer warning: " : "peer error: ", text);
	}
}

void node_peers_pump(al_node *n)
{
	al_peer_event ev;
	node_conn *c;

	if (n->state != AL_NODE_READY)
		return;
	while (al_peer_next_event(n->mgr, &ev)) {
		c = node_conn_find(n, ev.conn);
		if (!c)
			continue;
		if (ev.kind == AL_PEER_EV_CONNECTED) {
			on_connected(n, c, &ev);
		} else if (ev.kind == AL_PEER_EV_MESSAGE) {
			if (!node_policy_message(n, c, ev.msg, ev.len) &&
			    !node_chan_message(n, c, ev.type, ev.msg, ev.len))
				on_message(n, &ev);
		} else if (ev.kind == AL_PEER_EV_CLOSE && !c->closing) {
			c->closing = true;
			al_node_fx fx = {.kind = AL_NODE_FX_NET_CLOSE, .conn = c->conn};
			if (node_fx_push(n, &fx, NULL, 0, NULL, 0) != AL_OK)
				c->closing = false; /* asked again at the next pump */
		}
	}
}

bool node_peers_fx(al_node *n, al_node_fx *fx)
{
	if (n->state != AL_NODE_READY)
		return false;
	for (size_t i = 0; i < n->max_conns; i++) {
		node_conn *c = &n->conns[i];
		if (!c->used || c->closing)
			continue;
		int8_t want = al_peer_wants_read(n->mgr, c->conn) ? 1 : 0;
		if (want != c->reading) {
			c->reading = want;
			fx->kind = AL_NODE_FX_NET_READ;
			fx->conn = c->conn;
			fx->want = want;
			return true;
		}
		if (c->offered || c->blocked)
			continue;
		size_t len = 0;
		const uint8_t *buf = al_peer_send_buf(n->mgr, c->conn, &len);
		if (buf && len) {
			c->offered = true;
			fx->kind = AL_NODE_FX_NET_SEND;
			fx->conn = c->conn;
			fx->data = buf;
			fx->len = len;
			return true;
		}
	}
	return false;
}
