/* Forwarding policies, and the channel_updates that tell them to channel peers.
 *
 *   POST /v1/chanpolicy  user: LND's PolicyUpdateRequest {"global": true | "chan_point":
 *                        {"funding_txid_str", "output_index"}, "base_fee_msat",
 *                        "fee_rate_ppm", "time_lock_delta", "min_htlc_msat"?,
 *                        "max_htlc_msat"?} -> {"failed_updates": []}
 *   GET  /v1/fees        user: LND's FeeReportResponse {"channel_fees": [{"chan_id",
 *                        "channel_point", "base_fee_msat", "fee_per_mil", "fee_rate"}],
 *                        "day_fee_sum", "week_fee_sum", "month_fee_sum"} (sat)
 *
 * Each channel has our policy for relaying over it (fee and CLTV delta: what
 * node_fwd.c checks an incoming HTLC against), kept in the channel's record. Its peer
 * hears it in a channel_update (BOLT #7: "MAY create a channel_update to communicate
 * the channel parameters to the channel peer, even though the channel has not yet been
 * announced"), once per connection and again after every change: the peer puts it into
 * the route hints of its invoices, which is how a payer reaches it through us. The
 * peer's own channel_update, verified with its node id, is kept the same way and goes
 * into our invoices' route hints. */
#include <string.h>

#include "btc/tx.h"
#include "ln/peer.h"
#include "node/api_parse.h"
#include "node/node_int.h"

/* LND's defaults: base fee 1 sat, 1 millionth, a CLTV delta of 80 blocks, HTLCs of
 * 1 sat at least; at most the channel's capacity (0). */
#define DEFAULT_BASE_MSAT  1000
#define DEFAULT_PPM        1
#define DEFAULT_CLTV_DELTA 80
#define DEFAULT_HTLC_MIN   1000
/* BOLT #2 update_add_htlc: a CLTV delta must leave room to go on-chain, and a relay
 * may not lock funds for more than the route bound. */
#define MIN_CLTV_DELTA 18
#define MAX_CLTV_DELTA 2016

void node_policy_init(node_chan *c)
{
	memset(&c->policy, 0, sizeof(c->policy));
	c->policy.fee_base_msat = DEFAULT_BASE_MSAT;
	c->policy.fee_proportional_millionths = DEFAULT_PPM;
	c->policy.cltv_expiry_delta = DEFAULT_CLTV_DELTA;
	c->policy.htlc_minimum_msat = DEFAULT_HTLC_MIN;
	c->policy.htlc_maximum_msat = 0;
}

al_chan_policy node_policy_of(const node_chan *c)
{
	al_chan_policy p = c->policy;
	al_chan_info info;

	if (!c->ch)
		return p;
	al_chan_get_info(c->ch, &info);
	/* BOLT #7: htlc_maximum_msat "MUST set this to less than or equal to the channel
	 * capacity", and at least htlc_minimum_msat. */
	if (p.htlc_maximum_msat == 0 || p.htlc_maximum_msat > info.funding.sat * 1000)
		p.htlc_maximum_msat = info.funding.sat * 1000;
	if (p.htlc_minimum_msat > p.htlc_maximum_msat)
		p.htlc_minimum_msat = p.htlc_maximum_msat;
	return p;
}

bool node_policy_update(al_node *n, node_chan *c, uint8_t out[AL_CHAN_UPDATE_LEN])
{
	al_chan_update u;
	al_chan_info info;
	al_err e;

	if (!c->ch)
		return false;
	al_chan_get_info(c->ch, &info);
	if (!info.scid)
		return false;
	memset(&u, 0, sizeof(u));
	memcpy(u.chain_hash, n->cfg.chain_hash, 32);
	u.scid = info.scid;
	/* "MUST set timestamp to greater than 0, AND to greater than any previously-sent
	 * channel_update for this short_channel_id"; "SHOULD base timestamp on a UNIX
	 * timestamp"; "SHOULD NOT create redundant channel_updates": the same one (RFC 6979
	 * signs it to the same bytes) until the policy changes. */
	u.timestamp = c->update_ts;
	if (c->update_ts == 0 || c->update_stale)
		u.timestamp = n->wall > c->update_ts && n->wall <= UINT32_MAX ? (uint32_t)n->wall
		                                                              : c->update_ts + 1;
	/* Not announced: "MUST set dont_forward to 1 in message_flags". */
	u.message_flags = AL_CHAN_UPDATE_DONT_FORWARD;
	u.channel_flags = al_chan_update_direction(n->keys.node_id, c->peer_id);
	if (al_chan_state(c->ch) & (AL_CHAN_ST_CLOSED | AL_CHAN_ST_FAILED))
		u.channel_flags |= AL_CHAN_UPDATE_DISABLE;
	u.policy = node_policy_of(c);
	e = al_chan_update_sign(out, n->env.secp, &n->keys.node_key, &u);
	if (e == AL_OK && u.timestamp != c->update_ts) {
		c->update_ts = u.timestamp;
		c->update_stale = false;
		if (node_chan_rec_build(n, c) != AL_OK)
			node_chan_log(n, c, "its record could not be rebuilt", NULL);
	}
	return e == AL_OK;
}

void node_policy_tell(al_node *n)
{
	const uint32_t live = AL_CHAN_ST_NORMAL | AL_CHAN_ST_CONNECTED | AL_CHAN_ST_REESTABLISHED;
	uint8_t msg[AL_CHAN_UPDATE_LEN];

	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];

		if (c->update_told || !c->ch || (al_chan_state(c->ch) & live) != live ||
		    (c->flags & (CF_CLOSED | CF_FAILED)))
			continue;
		/* BOLT #7: "MUST NOT send a created channel_update before channel_ready has
		 * been received" (NORMAL: both were). */
		if (!node_policy_update(n, c, msg))
			continue;
		if (al_peer_send_to(n->mgr, c->peer_id, msg, sizeof(msg), n->now) == AL_OK)
			c->update_told = true;
	}
}

/* Our channel with this peer whose short_channel_id the update names (bytes 98..105:
 * after the type, signature and chain_hash), or NULL. */
static node_chan *update_chan(al_node *n, const node_conn *pc, const uint8_t *msg, size_t len)
{
	uint64_t scid = 0;

	if (len < AL_CHAN_UPDATE_LEN)
		return NULL;
	for (size_t k = 0; k < 8; k++)
		scid = scid << 8 | msg[2 + 64 + 32 + k];
	for (size_t i = 0; scid && i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		al_chan_info info;

		if (!c->ch || memcmp(c->peer_id, pc->node_id, AL_PUBKEY_LEN) != 0)
			continue;
		al_chan_get_info(c->ch, &info);
		if (info.scid == scid)
			return c;
	}
	return NULL;
}

bool node_policy_message(al_node *n, const node_conn *pc, const uint8_t *msg, size_t len)
{
	uint16_t type = len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
	node_chan *c;
	al_chan_update u;
	al_err e;

	if (type == 256 || type == 257)
		return true; /* channel_announcement, node_announcement: the gossip issue's */
	if (type != AL_WIRE_CHANNEL_UPDATE)
		return false;
	/* "MUST ignore channel_updates that do NOT correspond to one of its own channels"
	 * (other nodes' gossip is the gossip issue's): only ours with this peer are read,
	 * and then the peer is the signer. */
	if (!(c = update_chan(n, pc, msg, len)))
		return true;
	/* "if signature is not a valid signature, using node_id ...: MUST NOT process the
	 * message further" (its SHOULD, a warning and a hang-up, is not done: logged). */
	e = al_chan_update_verify(&u, n->env.secp, pc->node_id, msg, len);
	if (e != AL_OK) {
		node_chan_log(n, c, "the peer's channel_update refused:", al_err_str(e));
		return true;
	}
	/* "if the specified chain_hash value is unknown ...: MUST ignore"; the direction must
	 * be the peer's; "if timestamp is lower than that of the last-received ...: SHOULD
	 * ignore the message". */
	if (memcmp(u.chain_hash, n->cfg.chain_hash, 32) != 0 ||
	    (u.channel_flags & AL_CHAN_UPDATE_DIRECTION) !=
	        al_chan_update_direction(c->peer_id, n->keys.node_id) ||
	    (c->peer_policy_known && u.timestamp <= c->peer_update_ts))
		return true;
	c->peer_policy = u.policy;
	c->peer_policy_known = true;
	c->peer_update_ts = u.timestamp;
	node_chan_log(n, c, "the peer's channel_update taken", NULL);
	if (node_chan_rec_build(n, c) != AL_OK)
		node_chan_log(n, c, "its record could not be rebuilt", NULL);
	return true;
}

/* --- the record ------------------------------------------------------------------------ */

static void put_policy(al_wb *w, const al_chan_policy *p)
{
	al_wb_be32(w, p->fee_base_msat);
	al_wb_be32(w, p->fee_proportional_millionths);
	al_wb_be16(w, p->cltv_expiry_delta);
	al_wb_be64(w, p->htlc_minimum_msat);
	al_wb_be64(w, p->htlc_maximum_msat);
}

static void get_policy(al_cur *c, al_chan_policy *p)
{
	p->fee_base_msat = al_cur_be32(c);
	p->fee_proportional_millionths = al_cur_be32(c);
	p->cltv_expiry_delta = al_cur_be16(c);
	p->htlc_minimum_msat = al_cur_be64(c);
	p->htlc_maximum_msat = al_cur_be64(c);
}

void node_policy_save(const node_chan *c, uint8_t out[NODE_POLICY_REC_LEN])
{
	al_wb w;

	al_wb_init(&w, out, NODE_POLICY_REC_LEN);
	put_policy(&w, &c->policy);
	al_wb_u8(&w, c->peer_policy_known);
	al_wb_be32(&w, c->peer_update_ts);
	put_policy(&w, &c->peer_policy);
	al_wb_be32(&w, c->update_ts);
}

void node_policy_load(node_chan *c, const uint8_t in[NODE_POLICY_REC_LEN])
{
	al_cur cur;

	al_cur_init(&cur, in, NODE_POLICY_REC_LEN);
	get_policy(&cur, &c->policy);
	c->peer_policy_known = al_cur_u8(&cur) != 0;
	c->peer_update_ts = al_cur_be32(&cur);
	get_policy(&cur, &c->peer_policy);
	c->update_ts = al_cur_be32(&cur);
	/* A delta outside what this node would set is no policy of ours. */
	if (c->policy.cltv_expiry_delta < MIN_CLTV_DELTA ||
	    c->policy.cltv_expiry_delta > MAX_CLTV_DELTA)
		node_policy_init(c);
}

/* --- requests ------------------------------------------------------------------------- */

static json_t *fee_json(const node_chan *c)
{
	al_chan_info info;

	al_chan_get_info(c->ch, &info);
	return json_pack("{s:o,s:o,s:o,s:o,s:f}", "chan_id", node_u64_json(info.scid),
	                 "channel_point", node_chan_point_json(c), "base_fee_msat",
	                 node_u64_json(c->policy.fee_base_msat), "fee_per_mil",
	                 node_u64_json(c->policy.fee_proportional_millionths), "fee_rate",
	                 c->policy.fee_proportional_millionths / 1e6);
}

/* LND's fee sums: what forwards settled in the last `days` days earned, in sat. */
static json_t *fees_json(const al_node *n, uint64_t days)
{
	uint64_t span = days * 86400;

	return node_u64_json(node_fwd_fees_since(n, n->wall > span ? n->wall - span : 0) / 1000);
}

static json_t *fee_report(al_node *n)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < NODE_MAX_CHANNELS; i++) {
		const node_chan *c = &n->chans[i];
		if (c->ch && c->funding_known && !(c->flags & (CF_CLOSED | CF_FAILED)))
			json_array_append_new(list, fee_json(c));
	}
	return json_pack("{s:o,s:o,s:o,s:o}", "channel_fees", list, "day_fee_sum", fees_json(n, 1),
	                 "week_fee_sum", fees_json(n, 7), "month_fee_sum", fees_json(n, 30));
}

static bool opt_u64(const json_t *req, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(req, key);
	return !v || al_node_json_u64(v, out);
}

/* The request's policy over `base`: NULL, or what is wrong with it. */
static const char *parse_policy(const json_t *req, al_chan_policy *p)
{
	uint64_t base = p->fee_base_msat, ppm = p->fee_proportional_millionths;
	uint64_t delta = p->cltv_expiry_delta, min = p->htlc_minimum_msat;
	uint64_t max = p->htlc_maximum_msat;

	if (!opt_u64(req, "base_fee_msat", &base) || base > UINT32_MAX)
		return "base_fee_msat: an integer of 32 bits";
	if (!opt_u64(req, "fee_rate_ppm", &ppm) || ppm > UINT32_MAX)
		return "fee_rate_ppm: an integer of 32 bits";
	if (!opt_u64(req, "time_lock_delta", &delta) || delta < MIN_CLTV_DELTA ||
	    delta > MAX_CLTV_DELTA)
		return "time_lock_delta: 18 to 2016 blocks";
	if (!opt_u64(req, "min_htlc_msat", &min) || !opt_u64(req, "max_htlc_msat", &max) ||
	    (max && min > max))
		return "min_htlc_msat and max_htlc_msat: integers, the minimum not above the "
		       "maximum";
	p->fee_base_msat = (uint32_t)base;
	p->fee_proportional_millionths = (uint32_t)ppm;
	p->cltv_expiry_delta = (uint16_t)delta;
	p->htlc_minimum_msat = min;
	p->htlc_maximum_msat = max;
	return NULL;
}

/* The request's policy on channel `only`, or every channel: checked, or set (kept with
 * the channel, whose peer hears it again; *batch: the write that holds it). */
static const char *set_policy(al_node *n, const json_t *req, const node_chan *only, bool set,
                              uint64_t *batch)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		al_chan_policy p = c->policy;
		const char *why;

		if (!c->used || (only && c != only))
			continue;
		if ((why = parse_policy(req, &p)) != NULL)
			return why;
		if (!set)
			continue;
		c->policy = p;
		c->update_told = false;
		c->update_stale = true;
		if (c->ch && node_chan_rec_build(n, c) == AL_OK)
			*batch = n->batch_next;
	}
	return NULL;
}

static void update_policy(al_node *n, uint64_t token, const uint8_t *body, size_t len)
{
	json_t *req = json_loadb((const char *)body, len, 0, NULL);
	const json_t *point = json_object_get(req, "chan_point");
	const char *txhex = json_string_value(json_object_get(point, "funding_txid_str"));
	const json_t *vout = json_object_get(point, "output_index");
	bool global = json_is_true(json_object_get(req, "global"));
	const char *why = NULL;
	node_chan *only = NULL;
	uint8_t txid[32];
	uint64_t batch = 0;

	if (!json_is_object(req) || global == (point != NULL)) {
		why = "want {\"global\": true} or {\"chan_point\": {\"funding_txid_str\", "
		      "\"output_index\"}} and the policy";
	} else if (point &&
	           (!txhex || al_txid_from_hex(txid, txhex) != AL_OK || !json_is_integer(vout) ||
	            json_integer_value(vout) < 0 ||
	            !(only = node_chan_find_point(n, txid, (uint32_t)json_integer_value(vout))))) {
		why = "chan_point: no channel of this node";
	}
	/* Checked against every channel first: a refused request changes nothing. */
	if (!why && (why = set_policy(n, req, only, false, &batch)) == NULL)
		why = set_policy(n, req, only, true, &batch);
	json_decref(req);
	if (why) {
		node_answer(n, token, 400, node_error_json(why), 0);
		return;
	}
	node_policy_tell(n);
	node_answer(n, token, 200, json_pack("{s:[]}", "failed_updates"), batch);
}

void node_policy_request(al_node *n, uint64_t token, bool fees, const uint8_t *body, size_t len)
{
	if (fees)
		node_answer(n, token, 200, fee_report(n), 0);
	else
		update_policy(n, token, body, len);
}
