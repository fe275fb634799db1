/* HTLCs this node forwards: BOLT #4 at an intermediate node, over its own channels.
 *
 *   POST /v1/switch  user: LND's ForwardingHistory {"start_time"?, "end_time"?,
 *                    "index_offset"?, "num_max_events"?} -> {"forwarding_events": [{"timestamp",
 *                    "timestamp_ns", "chan_id_in", "chan_id_out", "amt_in", "amt_out",
 *                    "amt_in_msat", "amt_out_msat", "fee", "fee_msat"}],
 *                    "last_offset_index"}: the forwards that settled, oldest first
 *
 * An incoming HTLC whose onion names a next hop (node_recv.c peels it) is checked
 * against the outgoing channel it names and our policy there (ln/forward.h: fee, CLTV
 * delta, expiry, amount limits, the channel's state) and offered over it with the
 * peeled onion; a refusal goes back as BOLT #4's failure, with our channel_update.
 *
 * The link between the two HTLCs is durable before the outgoing one can leave: the
 * forward's record ("fwd"/"book") says OFFERED in a write no later than the outgoing
 * channel's record that holds the add (the node writes its own records first in every
 * batch). The outgoing HTLC's result resolves the incoming one: its preimage fulfils it
 * at once (the incoming channel releases update_fulfill_htlc once its own record holds
 * the preimage), its failure goes back wrapped in the incoming onion's shared secret
 * ("obfuscate the packet using its ammag key"), update_fail_malformed_htlc becomes our
 * own failure with its code and sha256_of_onion. On-chain, BOLT #5: a preimage learned
 * from the outgoing channel's spends claims the incoming HTLC, off-chain or through its
 * channel's on-chain engine; an outgoing HTLC timed out at final depth fails the
 * incoming one, which the CLTV delta leaves in time to do.
 *
 * After a restart every channel tells its unresolved HTLCs again: an incoming one whose
 * forward is settled is fulfilled again; one whose outgoing HTLC is still out waits for
 * its result; one whose outgoing HTLC its channel does not know (the add's write was
 * lost with the crash, so it never left) fails back. */
#include <string.h>

#include "crypto/hash.h"
#include "ln/forward.h"
#include "ln/onion.h"
#include "node/api_parse.h"
#include "node/node_int.h"
#include "util/cursor.h"
#include "util/mem.h"

#define FWD_FORMAT 1
/* Forwards remembered: those in flight always, settled ones until the room is needed. */
#define NODE_MAX_FORWARDS 32

enum { FWD_FREE = 0, FWD_OFFERED = 1, FWD_SETTLED = 2, FWD_FAILED = 3 };

typedef struct node_forward {
	uint8_t state;
	uint8_t in_slot, out_slot;
	uint64_t in_id, out_id;
	uint64_t in_scid, out_scid;
	uint8_t hash[32];
	uint8_t preimage[32]; /* SETTLED */
	uint64_t in_msat, out_msat;
	uint32_t in_cltv, out_cltv;
	uint64_t created, resolved; /* wall seconds */
	uint64_t index;
} node_forward;

struct node_fwdbook {
	uint64_t next_index;
	node_forward f[NODE_MAX_FORWARDS];
};

#define FWD_REC_LEN (1 + 1 + 1 + 8 + 8 + 8 + 8 + 32 + 32 + 8 + 8 + 4 + 4 + 8 + 8 + 8)

static node_fwdbook *book(al_node *n)
{
	if (!n->fwds && (n->fwds = node_alloc(n, sizeof(*n->fwds))) != NULL) {
		memset(n->fwds, 0, sizeof(*n->fwds));
		n->fwds->next_index = 1;
	}
	return n->fwds;
}

void node_fwd_free(al_node *n)
{
	if (!n->fwds)
		return;
	al_memzero(n->fwds, sizeof(*n->fwds));
	node_free(n, n->fwds, sizeof(*n->fwds));
	n->fwds = NULL;
}

static void persist(al_node *n)
{
	n->fwd_dirty = true;
}

/* --- the record ------------------------------------------------------------------------ */

al_err node_fwd_save(const al_node *n, uint8_t **out, size_t *len)
{
	const node_fwdbook *b = n->fwds;
	size_t cap = 1 + 8 + 1, count = 0;
	al_wb w;

	*out = NULL;
	*len = 0;
	if (!b)
		return AL_OK;
	for (size_t i = 0; i < NODE_MAX_FORWARDS; i++)
		count += b->f[i].state != FWD_FREE;
	cap += count * FWD_REC_LEN;
	if (!(*out = node_alloc((al_node *)n, cap)))
		return AL_E_NOMEM;
	al_wb_init(&w, *out, cap);
	al_wb_u8(&w, FWD_FORMAT);
	al_wb_be64(&w, b->next_index);
	al_wb_u8(&w, (uint8_t)count);
	for (size_t i = 0; i < NODE_MAX_FORWARDS; i++) {
		const node_forward *f = &b->f[i];

		if (f->state == FWD_FREE)
			continue;
		al_wb_u8(&w, f->state);
		al_wb_u8(&w, f->in_slot);
		al_wb_u8(&w, f->out_slot);
		al_wb_be64(&w, f->in_id);
		al_wb_be64(&w, f->out_id);
		al_wb_be64(&w, f->in_scid);
		al_wb_be64(&w, f->out_scid);
		al_wb_bytes(&w, f->hash, 32);
		al_wb_bytes(&w, f->preimage, 32);
		al_wb_be64(&w, f->in_msat);
		al_wb_be64(&w, f->out_msat);
		al_wb_be32(&w, f->in_cltv);
		al_wb_be32(&w, f->out_cltv);
		al_wb_be64(&w, f->created);
		al_wb_be64(&w, f->resolved);
		al_wb_be64(&w, f->index);
	}
	*len = cap;
	return al_wb_ok(&w) && w.len == cap ? AL_OK : AL_E_BUFSIZE;
}

al_err node_fwd_load(al_node *n, const uint8_t *data, size_t len)
{
	node_fwdbook *b = book(n);
	size_t count;
	al_cur c;

	if (!b)
		return AL_E_NOMEM;
	al_cur_init(&c, data, len);
	if (al_cur_u8(&c) != FWD_FORMAT)
		return AL_E_NODE_RECORD;
	b->next_index = al_cur_be64(&c);
	count = al_cur_u8(&c);
	if (count > NODE_MAX_FORWARDS)
		return AL_E_NODE_RECORD;
	for (size_t i = 0; i < count && al_cur_ok(&c); i++) {
		node_forward *f = &b->f[i];

		f->state = al_cur_u8(&c);
		f->in_slot = al_cur_u8(&c);
		f->out_slot = al_cur_u8(&c);
		f->in_id = al_cur_be64(&c);
		f->out_id = al_cur_be64(&c);
		f->in_scid = al_cur_be64(&c);
		f->out_scid = al_cur_be64(&c);
		al_cur_bytes(&c, f->hash, 32);
		al_cur_bytes(&c, f->preimage, 32);
		f->in_msat = al_cur_be64(&c);
		f->out_msat = al_cur_be64(&c);
		f->in_cltv = al_cur_be32(&c);
		f->out_cltv = al_cur_be32(&c);
		f->created = al_cur_be64(&c);
		f->resolved = al_cur_be64(&c);
		f->index = al_cur_be64(&c);
		if (f->state < FWD_OFFERED || f->state > FWD_FAILED ||
		    f->in_slot >= NODE_MAX_CHANNELS || f->out_slot >= NODE_MAX_CHANNELS ||
		    f->in_msat < f->out_msat || f->index == 0 || f->index >= b->next_index)
			return AL_E_NODE_RECORD;
	}
	return al_cur_done(&c) == AL_OK ? AL_OK : AL_E_NODE_RECORD;
}

/* --- forwarding --------------------------------------------------------------------------- */

static size_t slot_of(const al_node *n, const node_chan *c)
{
	return (size_t)(c - n->chans);
}

static uint64_t scid_of(const node_chan *c)
{
	al_chan_info info;

	if (!c->ch)
		return 0;
	al_chan_get_info(c->ch, &info);
	return info.scid;
}

/* The forward of incoming HTLC (slot, id) with this hash. */
static node_forward *by_in(al_node *n, size_t slot, uint64_t id, const uint8_t hash[32])
{
	for (size_t i = 0; n->fwds && i < NODE_MAX_FORWARDS; i++) {
		node_forward *f = &n->fwds->f[i];
		if (f->state != FWD_FREE && f->in_slot == slot && f->in_id == id &&
		    !memcmp(f->hash, hash, 32))
			return f;
	}
	return NULL;
}

/* The forward whose outgoing HTLC this result is: by id, or by hash for results on-chain
 * (the on-chain engine knows no HTLC ids). */
static node_forward *by_out(al_node *n, size_t slot, const al_chan_fx *fx)
{
	for (size_t i = 0; n->fwds && i < NODE_MAX_FORWARDS; i++) {
		node_forward *f = &n->fwds->f[i];
		if (f->state != FWD_FREE && f->out_slot == slot && !memcmp(f->hash, fx->hash, 32) &&
		    (fx->htlc_id == UINT64_MAX ? f->state == FWD_OFFERED
		                               : f->out_id == fx->htlc_id))
			return f;
	}
	return NULL;
}

/* A forward over for good: settled or failed, and its incoming HTLC gone from its
 * channel. One whose incoming HTLC is still there (its fulfilment or failure not yet
 * acknowledged) must stay: told again after a restart, it would be forwarded anew. */
static bool over(al_node *n, const node_forward *f)
{
	node_chan *c = &n->chans[f->in_slot];
	al_chan_htlc_in in;

	return f->state != FWD_OFFERED &&
	       (!c->ch || c->oc ||
	        al_chan_incoming(c->ch, f->in_id, &in) == AL_E_CHAN_UNKNOWN_HTLC);
}

/* A place for a new forward: free, else the oldest that is over. */
static node_forward *slot_new(al_node *n)
{
	node_fwdbook *b = book(n);
	node_forward *old = NULL;

	for (size_t i = 0; b && i < NODE_MAX_FORWARDS; i++) {
		node_forward *f = &b->f[i];
		if (f->state == FWD_FREE)
			return f;
		if (over(n, f) && (!old || f->index < old->index))
			old = f;
	}
	return old;
}

/* The channel the payload names: its short_channel_id. */
static node_chan *out_chan(al_node *n, uint64_t scid)
{
	for (size_t i = 0; scid && i < NODE_MAX_CHANNELS; i++)
		if (n->chans[i].ch && scid_of(&n->chans[i]) == scid)
			return &n->chans[i];
	return NULL;
}

static void describe(al_node *n, const node_chan *o, al_fwd_out *out)
{
	const uint32_t live = AL_CHAN_ST_NORMAL | AL_CHAN_ST_CONNECTED | AL_CHAN_ST_REESTABLISHED;
	uint32_t st;

	memset(out, 0, sizeof(*out));
	if (!o)
		return;
	st = al_chan_state(o->ch);
	out->known = true;
	out->closed = o->oc || (o->flags & (CF_CLOSED | CF_FAILED)) ||
	              (st & (AL_CHAN_ST_CLOSED | AL_CHAN_ST_FAILED | AL_CHAN_ST_SHUTDOWN_SENT |
	                     AL_CHAN_ST_SHUTDOWN_RECV));
	out->usable = (st & live) == live && (o->flags & CF_READY);
	out->policy = node_policy_of(o);
}

/* Fail incoming HTLC `id` of c with our own failure `code` over channel o. */
static void refuse(al_node *n, node_chan *c, uint64_t id, uint16_t code, const al_fwd_in *in,
                   node_chan *o)
{
	uint8_t msg[AL_FWD_FAILURE_MAX], upd[AL_CHAN_UPDATE_LEN];
	bool has_upd = o && (code & AL_ONION_UPDATE) && node_policy_update(n, o, upd);
	size_t len = al_fwd_failure(msg, code, in, has_upd ? upd : NULL, has_upd ? sizeof(upd) : 0);

	node_chan_log(n, c, "a forward refused:", al_onion_failure_name(code));
	if (!len || node_recv_fail(n, c, id, msg, len) != AL_OK)
		node_chan_log(n, c, "an HTLC could not be failed now", NULL);
}

/* Told again after a restart: settled, waiting, or never sent. */
static void again(al_node *n, node_chan *c, uint64_t id, node_forward *f, const al_fwd_in *in)
{
	node_chan *o = &n->chans[f->out_slot];
	al_chan_htlc_in h;

	if (f->state == FWD_SETTLED) {
		node_recv_fulfill(n, c, id, f->preimage);
		return;
	}
	if (o->ch && (o->oc || (al_chan_outgoing(o->ch, f->out_id, &h) == AL_OK &&
	                        !memcmp(h.hash, f->hash, 32))))
		return; /* out still (or on-chain): its result comes */
	/* The add never left (its write was lost), or its failure was. */
	if (f->state == FWD_OFFERED) {
		f->state = FWD_FAILED;
		f->resolved = n->wall;
		persist(n);
	}
	refuse(n, c, id, AL_FWD_TEMPORARY_CHANNEL_FAILURE, in, NULL);
}

void node_fwd_htlc(al_node *n, node_chan *c, uint64_t id, const al_chan_htlc_in *hin,
                   const al_hop_payload *pl, const uint8_t next[AL_CHAN_ONION_LEN])
{
	size_t slot = slot_of(n, c);
	node_chan *o = out_chan(n, pl->short_channel_id);
	node_forward *f = by_in(n, slot, id, hin->hash);
	al_fwd_in in = {.amount_msat = hin->amount.msat,
	                .cltv_expiry = hin->cltv_expiry,
	                .amt_to_forward = pl->amt_to_forward,
	                .outgoing_cltv_value = pl->outgoing_cltv_value};
	al_fwd_out out;
	uint64_t out_id;
	uint16_t code;

	if (f) {
		again(n, c, id, f, &in);
		return;
	}
	describe(n, o, &out);
	code = al_fwd_check(&in, &out, node_tip_height(n));
	if (code) {
		refuse(n, c, id, code, &in, o);
		return;
	}
	if (!(f = slot_new(n))) {
		refuse(n, c, id, AL_FWD_TEMPORARY_CHANNEL_FAILURE, &in, o);
		return;
	}
	/* "if during forwarding to its receiving peer, an otherwise unspecified, transient
	 * error occurs in the outgoing channel (e.g. channel capacity reached, too many
	 * in-flight HTLCs, etc.): return a temporary_channel_failure error". */
	if (al_chan_add_htlc(o->ch, al_msat_of(in.amt_to_forward), hin->hash,
	                     in.outgoing_cltv_value, next, &out_id) != AL_OK) {
		refuse(n, c, id, AL_FWD_TEMPORARY_CHANNEL_FAILURE, &in, o);
		return;
	}
	memset(f, 0, sizeof(*f));
	f->state = FWD_OFFERED;
	f->in_slot = (uint8_t)slot;
	f->out_slot = (uint8_t)slot_of(n, o);
	f->in_id = id;
	f->out_id = out_id;
	f->in_scid = scid_of(c);
	f->out_scid = scid_of(o);
	memcpy(f->hash, hin->hash, 32);
	f->in_msat = in.amount_msat;
	f->out_msat = in.amt_to_forward;
	f->in_cltv = in.cltv_expiry;
	f->out_cltv = in.outgoing_cltv_value;
	f->created = n->wall;
	f->index = n->fwds->next_index++;
	persist(n);
	node_chan_log(n, o, "an HTLC forwarded", NULL);
	node_chan_touch(n, o);
}

bool node_fwd_result(al_node *n, const node_chan *oc, const al_chan_fx *fx)
{
	node_forward *f = by_out(n, slot_of(n, oc), fx);
	node_chan *c;
	al_err e = AL_OK;

	if (!f)
		return false;
	c = &n->chans[f->in_slot];
	if (fx->event == AL_CHAN_EV_HTLC_FULFILLED) {
		if (f->state != FWD_SETTLED) {
			f->state = FWD_SETTLED;
			memcpy(f->preimage, fx->preimage, 32);
			f->resolved = n->wall;
			persist(n);
			node_chan_log(n, c, "a forward settled", NULL);
		}
		if (c->ch)
			node_recv_fulfill(n, c, f->in_id, fx->preimage);
		return true;
	}
	if (f->state == FWD_SETTLED)
		return true; /* a failure after the preimage: nothing to give back */
	f->state = FWD_FAILED;
	f->resolved = n->wall;
	persist(n);
	if (!c->ch || c->oc)
		return true; /* the incoming HTLC times out on-chain upstream */
	if (fx->data && fx->len <= AL_ONION_FAILURE_MAX) {
		e = node_recv_fail_wrapped(n, c, f->in_id, fx->data, fx->len);
	} else if (!fx->data && fx->failure_code) {
		/* BOLT #4: update_fail_malformed_htlc from the next hop becomes our failure:
		 * "failure_code ... sha256_of_onion" as the data of our own message. */
		uint8_t msg[2 + 32];
		msg[0] = (uint8_t)(fx->failure_code >> 8);
		msg[1] = (uint8_t)fx->failure_code;
		memcpy(msg + 2, fx->hash, 32);
		e = node_recv_fail(n, c, f->in_id, msg, sizeof(msg));
	} else {
		/* Timed out on-chain: the outgoing channel is gone for good. */
		uint8_t msg[AL_FWD_FAILURE_MAX];
		al_fwd_in in = {.amount_msat = f->in_msat};
		size_t len = al_fwd_failure(msg, AL_FWD_PERMANENT_CHANNEL_FAILURE, &in, NULL, 0);
		e = node_recv_fail(n, c, f->in_id, msg, len);
	}
	node_chan_log(
	    n, c, e == AL_OK ? "a forward failed back" : "a forward could not be failed now", NULL);
	return true;
}

uint64_t node_fwd_fees_since(const al_node *n, uint64_t since)
{
	uint64_t sum = 0;

	for (size_t i = 0; n->fwds && i < NODE_MAX_FORWARDS; i++) {
		const node_forward *f = &n->fwds->f[i];
		if (f->state == FWD_SETTLED && f->resolved >= since)
			sum += f->in_msat - f->out_msat;
	}
	return sum;
}

/* --- POST /v1/switch ------------------------------------------------------------------ */

static json_t *event_json(const node_forward *f)
{
	uint64_t fee = f->in_msat - f->out_msat;

	return json_pack(
	    "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "timestamp", node_u64_json(f->resolved),
	    "timestamp_ns", node_u64_json(f->resolved * 1000000000u), "chan_id_in",
	    node_u64_json(f->in_scid), "chan_id_out", node_u64_json(f->out_scid), "amt_in",
	    node_u64_json(f->in_msat / 1000), "amt_out", node_u64_json(f->out_msat / 1000),
	    "amt_in_msat", node_u64_json(f->in_msat), "amt_out_msat", node_u64_json(f->out_msat),
	    "fee", node_u64_json(fee / 1000), "fee_msat", node_u64_json(fee));
}

/* An optional integer member (absent: the default). */
static bool opt_u64(const json_t *req, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(req, key);
	return !v || al_node_json_u64(v, out);
}

void node_fwd_request(al_node *n, uint64_t token, const uint8_t *body, size_t len)
{
	json_t *req =
	    len ? json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	uint64_t start = 0, end = UINT64_MAX, offset = 0, most = 100, done = 0, last = 0;
	json_t *list = json_array();

	/* LND's ForwardingHistoryRequest: start_time, end_time (Unix s), index_offset,
	 * num_max_events (default 100, at most 50,000). */
	if ((len && !json_is_object(req)) || !opt_u64(req, "start_time", &start) ||
	    !opt_u64(req, "end_time", &end) || !opt_u64(req, "index_offset", &offset) ||
	    !opt_u64(req, "num_max_events", &most) || most > 50000) {
		json_decref(req);
		json_decref(list);
		node_answer(
		    n, token, 400,
		    node_error_json("body: {\"start_time\"?, \"end_time\"?, "
		                    "\"index_offset\"?, \"num_max_events\"? (at most 50000)}"),
		    0);
		return;
	}
	json_decref(req);
	if (end == 0)
		end = UINT64_MAX; /* LND: 0 is "now" */
	/* Settled forwards in the order they were made (the index); the offset counts them. */
	while (list && n->fwds && json_array_size(list) < most) {
		const node_forward *next = NULL;
		for (size_t i = 0; i < NODE_MAX_FORWARDS; i++) {
			const node_forward *f = &n->fwds->f[i];
			if (f->state == FWD_SETTLED && f->index > done && f->resolved >= start &&
			    f->resolved <= end && (!next || f->index < next->index))
				next = f;
		}
		if (!next)
			break;
		done = next->index;
		if (++last > offset)
			json_array_append_new(list, event_json(next));
	}
	node_answer(n, token, 200,
	            json_pack("{s:o,s:I}", "forwarding_events", list ? list : json_array(),
	                      "last_offset_index", (json_int_t)last),
	            0);
}
