/* The user's routes for channels (node/node_chan.c has the engines), and the HTLC calls
 * that stand in for payments until BOLT #4 and #11:
 *   GET    /v1/channels                 active channels (LND's field names)
 *   GET    /v1/channels/pending         opening, funded and not yet ready
 *   GET    /v1/channels/closed          closed, with how, what it settled and whether
 *                                       it is resolved on-chain
 *   POST   /v1/channels                 {"node_pubkey","local_funding_amount","push_sat"?,
 *                                        "channel_type"?: "anchors"|"static_remote_key"}
 *                                       answered once funding_signed is durable:
 *                                        {"funding_txid_str","output_index"}
 *   DELETE /v1/channels/<txid>/<vout>[?force=true]   cooperative (or force) close:
 *                                        {"closing_txid"} */
#include <string.h>

#include "btc/tx.h"
#include "crypto/hash.h"
#include "node/api_parse.h"
#include "node/node_int.h"
#include "util/hex.h"

json_t *node_chan_point_json(const node_chan *c)
{
	char hex[65], buf[80];
	size_t k;

	al_txid_to_hex(hex, c->funding_txid);
	k = strlen(hex);
	memcpy(buf, hex, k);
	buf[k++] = ':';
	node_line l = {.n = 0};
	node_line_u(&l, c->funding_vout);
	memcpy(buf + k, l.b, l.n + 1);
	return json_string(buf);
}

/* --- requests ------------------------------------------------------------------------- */

static void fail_req(al_node *n, uint64_t token, int status, al_err e, const char *why)
{
	node_answer(n, token, status, json_pack("{s:o}", "error", node_err_obj(e, why)), 0);
}

/* POST /v1/channels: checked here, opened once a fee estimate is in (a wallet job). */
static void open_request(al_node *n, uint64_t token, const uint8_t *body, size_t len)
{
	json_t *req = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *pk = json_string_value(json_object_get(req, "node_pubkey"));
	const char *type = json_string_value(json_object_get(req, "channel_type"));
	uint64_t amount = 0, push = 0;
	uint8_t peer[AL_PUBKEY_LEN];
	const node_conn *pc;
	node_chan *c;

	if (!json_is_object(req) || !pk || strlen(pk) != 66 ||
	    al_hex_decode_exact(peer, sizeof(peer), pk) != AL_OK ||
	    !al_node_json_u64(json_object_get(req, "local_funding_amount"), &amount) ||
	    (json_object_get(req, "push_sat") &&
	     !al_node_json_u64(json_object_get(req, "push_sat"), &push)) ||
	    (type && strcmp(type, "anchors") && strcmp(type, "static_remote_key"))) {
		json_decref(req);
		fail_req(n, token, 400, AL_E_ARG,
		         "body must be {\"node_pubkey\":hex, \"local_funding_amount\":sat, "
		         "\"push_sat\"?:sat, \"channel_type\"?:\"anchors\"|\"static_remote_key\"}");
		return;
	}
	int want = type ? (!strcmp(type, "anchors") ? 2 : 1) : 0;
	json_decref(req); /* type pointed into it */
	if (!n->wallet) {
		fail_req(n, token, 503, AL_E_NODE_CHAIN, NULL);
		return;
	}
	if (!(pc = node_conn_of_peer(n, peer))) {
		fail_req(n, token, 409, AL_E_NODE_PEER, NULL);
		return;
	}
	if (push > amount) {
		fail_req(n, token, 400, AL_E_CHAN_PUSH, NULL);
		return;
	}
	if (!(c = node_chan_slot_new(n))) {
		fail_req(n, token, 503, AL_E_NODE_CHAN_FULL, NULL);
		return;
	}
	c->used = true;
	c->pending_open = true;
	c->flags = CF_OUTBOUND;
	memcpy(c->peer_id, peer, AL_PUBKEY_LEN);
	c->open_token = token;
	c->funding_sat = amount;
	c->push_msat = push * 1000;
	c->want_type = want;
	if (node_wallet_internal(n, "chanopen") != AL_OK) {
		memset(c, 0, sizeof(*c));
		fail_req(n, token, 503, AL_E_NODE_BUSY, NULL);
	}
}

static const char *type_name(const al_chan *ch)
{
	al_chan_info info;
	al_chan_get_info(ch, &info);
	return info.type == AL_LN_CHAN_ANCHORS ? "ANCHORS" : "STATIC_REMOTE_KEY";
}

static json_t *chan_json(const al_node *n, const node_chan *c)
{
	char peer[2 * AL_PUBKEY_LEN + 1], scid[24];
	al_chan_info info;
	json_t *o;

	al_chan_get_info(c->ch, &info);
	if (al_hex_encode(peer, sizeof(peer), c->peer_id, AL_PUBKEY_LEN) != AL_OK)
		peer[0] = 0;
	node_line l = {.n = 0};
	node_line_u(&l, info.scid);
	memcpy(scid, l.b, l.n + 1);
	o = json_pack("{s:b,s:s,s:o,s:s,s:I,s:I,s:I,s:b,s:s,s:I,s:I,s:i}", "active",
	              node_conn_of_peer((al_node *)n, c->peer_id) != NULL &&
	                  (al_chan_state(c->ch) & AL_CHAN_ST_REESTABLISHED) != 0,
	              "remote_pubkey", peer, "channel_point", node_chan_point_json(c), "chan_id",
	              scid, "capacity", (json_int_t)info.funding.sat, "local_balance",
	              (json_int_t)(info.local_to_local.msat / 1000), "remote_balance",
	              (json_int_t)(info.local_to_remote.msat / 1000), "initiator",
	              (c->flags & CF_OUTBOUND) != 0, "channel_type", type_name(c->ch),
	              "num_updates", (json_int_t)info.local_number, "unsettled_balance",
	              (json_int_t)(info.local_htlcs.msat / 1000), "pending_htlcs",
	              (int)(info.htlcs_in + info.htlcs_out));
	json_object_set_new(o, "fee_per_kw", json_integer((json_int_t)info.local_feerate));
	return o;
}

/* Nothing of the channel is left to do on-chain: a cooperative close confirmed, a
 * force close's outputs resolved at final depth (settled_balance is then what reached
 * the wallet), or a channel that never had funds on-chain. */
static int resolved(const node_chan *c)
{
	if (c->close_type == CLOSE_COOPERATIVE)
		return (c->flags & CF_SETTLED) != 0;
	if (c->close_type == CLOSE_LOCAL_FORCE || c->close_type == CLOSE_REMOTE_FORCE)
		return (c->flags & CF_RESOLVED) != 0;
	return 1;
}

static void list(al_node *n, uint64_t token, int which)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		bool is_closed = (c->flags & (CF_CLOSED | CF_FAILED)) != 0;
		bool active = c->ch && (c->flags & CF_READY) && !is_closed;
		if (!c->used)
			continue;
		if (which == 0 && active) {
			json_array_append_new(arr, chan_json(n, c));
		} else if (which == 1 && c->ch && !active && !is_closed) {
			json_t *o = chan_json(n, c);
			json_object_set_new(
			    o, "state", json_string(c->funding_known ? "PENDING_OPEN" : "OPENING"));
			json_array_append_new(arr, o);
		} else if (which == 2 && is_closed) {
			char hex[65], peer[2 * AL_PUBKEY_LEN + 1];
			al_txid_to_hex(hex, c->closing_txid);
			if (al_hex_encode(peer, sizeof(peer), c->peer_id, AL_PUBKEY_LEN) != AL_OK)
				peer[0] = 0;
			json_array_append_new(
			    arr,
			    json_pack(
			        "{s:o,s:s,s:s,s:s,s:I,s:b,s:s}", "channel_point",
			        node_chan_point_json(c), "remote_pubkey", peer, "closing_tx_hash",
			        hex, "close_type",
			        node_close_names[c->close_type ? c->close_type : CLOSE_ABANDONED],
			        "settled_balance",
			        (json_int_t)(c->settled_sat > INT64_MAX ? 0 : c->settled_sat),
			        "resolved", resolved(c), "error",
			        c->err ? al_err_name(c->err) : ""));
		}
	}
	node_answer(n, token, 200,
	            json_pack("{s:o}",
	                      which == 0   ? "channels"
	                      : which == 1 ? "pending_open_channels"
	                                   : "channels",
	                      arr),
	            0);
}

/* DELETE /v1/channels/<txid>/<vout>[?force=true] */
static void close_request(al_node *n, uint64_t token, const char *rest, bool force)
{
	char txhex[65];
	uint8_t txid[32];
	const char *slash = strchr(rest, '/');
	uint64_t vout = 0;
	node_chan *c;
	al_err e;

	if (!slash || slash - rest != 64) {
		fail_req(n, token, 400, AL_E_ARG,
		         "want /v1/channels/<funding txid>/<output index>");
		return;
	}
	memcpy(txhex, rest, 64);
	txhex[64] = 0;
	json_t *v = json_string(slash + 1);
	bool ok = al_node_json_u64(v, &vout) && vout < UINT32_MAX;
	json_decref(v);
	if (!ok || al_txid_from_hex(txid, txhex) != AL_OK) {
		fail_req(n, token, 400, AL_E_ARG,
		         "want /v1/channels/<funding txid>/<output index>");
		return;
	}
	c = node_chan_find_point(n, txid, (uint32_t)vout);
	if (!c || !c->ch || (c->flags & CF_CLOSED)) {
		fail_req(n, token, 404, AL_E_NODE_CHAN_UNKNOWN, NULL);
		return;
	}
	if (c->close_token) {
		fail_req(n, token, 409, AL_E_NODE_BUSY, "a close is already under way");
		return;
	}
	if (force) {
		e = al_chan_force_close(c->ch);
	} else {
		uint8_t script[AL_CHAN_MAX_SCRIPT];
		size_t slen = 0;
		e = node_wallet_script(n, script, &slen);
		if (e == AL_OK) {
			memcpy(c->shutdown, script, slen);
			c->shutdown_len = slen;
		}
		if (e == AL_OK)
			e = al_chan_shutdown(
			    c->ch, script, slen,
			    (uint32_t)(c->fee_rate / 4 > 253 ? c->fee_rate / 4 : 253));
	}
	if (e != AL_OK) {
		fail_req(n, token, 409, e, NULL);
		return;
	}
	c->close_token = token;
	node_chan_log(n, c, force ? "force close" : "cooperative close", NULL);
	node_chan_pump(n);
}

void node_chan_request(al_node *n, uint64_t token, const char *method, const char *path,
                       const char *query, const uint8_t *body, size_t len)
{
	bool get = !strcmp(method, "GET");

	if (!strcmp(path, "") && get) {
		list(n, token, 0);
	} else if (!strcmp(path, "/pending") && get) {
		list(n, token, 1);
	} else if (!strcmp(path, "/closed") && get) {
		list(n, token, 2);
	} else if (!strcmp(path, "") && !strcmp(method, "POST")) {
		open_request(n, token, body, len);
	} else if (path[0] == '/' && !strcmp(method, "DELETE")) {
		close_request(n, token, path + 1, query && strstr(query, "force=true") != NULL);
	} else {
		node_answer(n, token, 405, node_error_json("method not allowed"), 0);
	}
}

/* LND's Amount: {"sat", "msat"} as decimal strings. */
static json_t *amount_json(uint64_t msat)
{
	return json_pack("{s:o,s:o}", "sat", node_u64_json(msat / 1000), "msat",
	                 node_u64_json(msat));
}

/* GET /v1/balance/channels: exactly LND's ChannelBalance. Open channels (ready, not
 * closing or closed) give local and remote balances from our latest commitment and its
 * HTLCs offered (unsettled local) and received (unsettled remote); channels still opening
 * give the pending-open balances. */
json_t *node_chan_balance(const al_node *n)
{
	uint64_t sum[6] = {0}; /* local, remote, unsettled local/remote, pending local/remote */

	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		const node_chan *c = &n->chans[i];
		al_chan_info info;

		if (!c->used || !c->ch || (c->flags & (CF_CLOSED | CF_FAILED)))
			continue;
		al_chan_get_info(c->ch, &info);
		if (c->flags & CF_READY) {
			sum[0] += info.local_to_local.msat;
			sum[1] += info.local_to_remote.msat;
			sum[2] += info.local_offered.msat;
			sum[3] += info.local_received.msat;
		} else {
			sum[4] += info.local_to_local.msat;
			sum[5] += info.local_to_remote.msat;
		}
	}
	json_t *o = json_object();

	/* LND's deprecated totals, in sat. */
	json_object_set_new(o, "balance", node_u64_json(sum[0] / 1000));
	json_object_set_new(o, "pending_open_balance", node_u64_json(sum[4] / 1000));
	json_object_set_new(o, "local_balance", amount_json(sum[0]));
	json_object_set_new(o, "remote_balance", amount_json(sum[1]));
	json_object_set_new(o, "unsettled_local_balance", amount_json(sum[2]));
	json_object_set_new(o, "unsettled_remote_balance", amount_json(sum[3]));
	json_object_set_new(o, "pending_open_local_balance", amount_json(sum[4]));
	json_object_set_new(o, "pending_open_remote_balance", amount_json(sum[5]));
	return o;
}

json_t *node_chan_info(const al_node *n)
{
	size_t active = 0, pending = 0, closed_n = 0;

	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		const node_chan *c = &n->chans[i];
		bool is_closed = (c->flags & (CF_CLOSED | CF_FAILED)) != 0;
		if (!c->used)
			continue;
		if (is_closed)
			closed_n++;
		else if (c->flags & CF_READY)
			active++;
		else
			pending++;
	}
	return json_pack("{s:i,s:i,s:i,s:i}", "num_active_channels", (int)active,
	                 "num_pending_channels", (int)pending, "num_closed_channels", (int)closed_n,
	                 "max_channels", NODE_MAX_CHANNELS);
}

/* --- HTLCs for the in-process C interface (hold invoices, tests, benchmarks) ---------- */

void node_htlc_event(al_node *n, const node_chan *c, const al_chan_fx *fx)
{
	al_node_htlc_event *ev;

	if (fx->event != AL_CHAN_EV_HTLC_RECEIVED && !node_fwd_result(n, c, fx))
		node_send_result(n, c, fx);
	if (n->htlc_n == NODE_HTLC_EVENTS) {
		n->htlc_head = (n->htlc_head + 1) % NODE_HTLC_EVENTS;
		n->htlc_n--;
		n->htlc_dropped++;
	}
	ev = &n->htlc_ev[(n->htlc_head + n->htlc_n++) % NODE_HTLC_EVENTS];
	memset(ev, 0, sizeof(*ev));
	ev->kind = fx->event == AL_CHAN_EV_HTLC_RECEIVED    ? AL_NODE_HTLC_RECEIVED
	           : fx->event == AL_CHAN_EV_HTLC_FULFILLED ? AL_NODE_HTLC_FULFILLED
	                                                    : AL_NODE_HTLC_FAILED;
	al_chan_channel_id(c->ch, ev->channel_id);
	ev->htlc_id = fx->htlc_id;
	ev->amount = fx->amount_msat;
	memcpy(ev->hash, fx->hash, 32);
	memcpy(ev->preimage, fx->preimage, 32);
	ev->cltv_expiry = fx->cltv_expiry;
	if (fx->event == AL_CHAN_EV_HTLC_FAILED) {
		ev->failure_code = fx->data ? 0 : fx->failure_code;
		ev->reason_len = fx->data ? fx->len : 0;
		if (fx->data)
			memcpy(ev->reason, fx->data,
			       fx->len < sizeof(ev->reason) ? fx->len : sizeof(ev->reason));
	}
}

bool al_node_next_htlc_event(al_node *n, al_node_htlc_event *ev)
{
	if (!n->htlc_n)
		return false;
	*ev = n->htlc_ev[n->htlc_head];
	n->htlc_head = (n->htlc_head + 1) % NODE_HTLC_EVENTS;
	n->htlc_n--;
	return true;
}

static node_chan *by_channel_id(al_node *n, const uint8_t id[32])
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		uint8_t cid[32];
		if (!c->ch)
			continue;
		al_chan_channel_id(c->ch, cid);
		if (!memcmp(cid, id, 32))
			return c;
	}
	return NULL;
}

al_err node_chan_commit(al_node *n, node_chan *c)
{
	al_err e = al_chan_commit(c->ch);

	/* The update is in (durable before it leaves): its signature follows the revocation
	 * we wait for, or the channel_reestablish of a peer not connected now. */
	if (e == AL_E_CHAN_AWAIT_REVOKE || e == AL_E_CHAN_NOTHING_TO_SIGN ||
	    e == AL_E_CHAN_NOT_CONNECTED)
		e = AL_OK;
	c->want_commit = true;
	node_chan_pump(n);
	return e;
}

al_err al_node_htlc_add(al_node *n, const uint8_t channel_id[32], al_msat amount,
                        const uint8_t hash[32], uint32_t cltv_expiry,
                        const uint8_t onion[AL_CHAN_ONION_LEN], uint64_t *id)
{
	node_chan *c = n->state == AL_NODE_READY ? by_channel_id(n, channel_id) : NULL;

	if (!c)
		return AL_E_NODE_CHAN_UNKNOWN;
	AL_TRY(al_chan_add_htlc(c->ch, amount, hash, cltv_expiry, onion, id));
	return node_chan_commit(n, c);
}

al_err al_node_htlc_fulfill(al_node *n, const uint8_t channel_id[32], uint64_t id,
                            const uint8_t preimage[32])
{
	node_chan *c = n->state == AL_NODE_READY ? by_channel_id(n, channel_id) : NULL;
	al_chan_htlc_in in;
	uint8_t hash[32];

	if (!c)
		return AL_E_NODE_CHAN_UNKNOWN;
	if (c->oc) {
		/* BOLT #5: the channel is on-chain; "if it receives (or already possesses) a
		 * payment preimage for an unresolved HTLC output ... MUST resolve the output by
		 * spending it" - the engine claims it (persisted first, like every claim). */
		AL_TRY(al_onchain_preimage(c->oc, preimage));
		node_onc_pump(n, c);
		return node_wallet_internal(n, "chansync");
	}
	/* A hold invoice's: the book says SETTLED before the preimage leaves. */
	AL_TRY(al_chan_incoming(c->ch, id, &in));
	al_sha256(hash, preimage, 32);
	if (memcmp(hash, in.hash, 32) != 0)
		return AL_E_CHAN_PREIMAGE;
	node_inv_settle(n, in.hash, preimage, (size_t)(c - n->chans), id, in.amount.msat);
	AL_TRY(al_chan_fulfill_htlc(c->ch, id, preimage));
	return node_chan_commit(n, c);
}

al_err al_node_htlc_fail(al_node *n, const uint8_t channel_id[32], uint64_t id)
{
	node_chan *c = n->state == AL_NODE_READY ? by_channel_id(n, channel_id) : NULL;
	al_chan_htlc_in in;
	uint8_t msg[AL_RECV_FAILURE_MAX];
	size_t len;

	if (!c)
		return AL_E_NODE_CHAN_UNKNOWN;
	AL_TRY(al_chan_incoming(c->ch, id, &in));
	/* BOLT #4 incorrect_or_unknown_payment_details, what LND's CancelInvoice answers a
	 * hold invoice's payer. */
	len = al_recv_failure(msg, AL_RECV_UNKNOWN_PAYMENT, in.amount.msat, node_tip_height(n));
	AL_TRY(node_recv_fail(n, c, id, msg, len));
	node_inv_cancel(n, in.hash);
	return node_chan_commit(n, c);
}
