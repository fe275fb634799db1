/* Payments this node makes (LND's shapes), over its own channels: straight to a payee
 * that is a channel peer, or through one of the invoice's route hints that starts at
 * one (graph-wide routing comes with gossip).
 *
 *   POST /v1/channels/transactions  user: {"payment_request", "amt"? | "amt_msat"?,
 *                                   "allow_self_payment"? (a circle back to us through
 *                                   one of our invoice's route hints)}
 *                                   -> LND's SendResponse once the payment succeeded
 *                                   or failed for good (SendPaymentSync)
 *   GET  /v1/payments               user: {"payments":[...]} oldest first (LND's Payment,
 *                                   plus "failure": the BOLT #4 code, its name and the
 *                                   hop that gave it)
 *
 * A payment hash is paid at most once. The payment's record ("pay"/"book", sealed and
 * replicated like every record) says IN_FLIGHT, with the HTLC it sent and the onion's
 * shared secrets, in a write no later than the channel record that lets the HTLC leave;
 * a second request for the hash is refused while it is in flight or once it succeeded.
 * The channel tells every result again after a restart; a payment whose HTLC the channel
 * does not know after a restart never left (its write was lost with the crash) and
 * failed. The answer waits for the record that holds the result.
 *
 * Keysend (no invoice: "dest", "amt", "payment_hash", dest_custom_records[5482373484] =
 * the preimage, LND's shape) goes straight to a channel peer.
 *
 * Retries: a failure that is not the payee's final word (PERM from the last hop) moves
 * the payment to the next channel that can carry it, while the request is waiting; after
 * a restart an attempt that fails is final. When no one channel carries the amount, an
 * invoice with basic_mpp is paid in parts over several (all or none sent); a multi-part
 * payment is not retried. */
#include <string.h>

#include "crypto/hash.h"
#include "ln/invoice.h"
#include "ln/onion.h"
#include "ln/payload.h"
#include "ln/route.h"
#include "node/api_parse.h"
#include "node/node_int.h"
#include "util/cursor.h"
#include "util/mem.h"

/* Format 2 keeps the parts of a multi-part payment; 1 (one HTLC) still loads. */
#define PAY_FORMAT    2
#define PAY_MAX_HOPS  8
#define PAY_MAX_PARTS 4
/* Keysend's final CLTV delta (LND's default), and its TLV record type as a JSON key. */
#define KEYSEND_CLTV_DELTA 40
#define KEYSEND_RECORD     "5482373484"
/* The hop a failure came from when it is ours (the channel refused, no route). */
#define HOP_LOCAL 0xff

enum { PAY_FREE = 0, PAY_IN_FLIGHT = 1, PAY_SUCCEEDED = 2, PAY_FAILED = 3 };
/* LND's PaymentFailureReason. */
enum {
	WHY_NONE = 0,
	WHY_TIMEOUT,
	WHY_NO_ROUTE,
	WHY_ERROR,
	WHY_INCORRECT_DETAILS,
	WHY_INSUFFICIENT_BALANCE
};
static const char *const why_names[] = {"FAILURE_REASON_NONE",
                                        "FAILURE_REASON_TIMEOUT",
                                        "FAILURE_REASON_NO_ROUTE",
                                        "FAILURE_REASON_ERROR",
                                        "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS",
                                        "FAILURE_REASON_INSUFFICIENT_BALANCE"};

/* One HTLC of a payment (one part of a multi-part one). */
enum { PART_NONE = 0, PART_IN_FLIGHT = 1, PART_FULFILLED = 2, PART_FAILED = 3 };
typedef struct pay_part {
	uint8_t state;
	uint8_t slot; /* the channel's */
	uint64_t htlc_id;
	uint64_t sent_msat;   /* the HTLC's amount: the part plus the route's fees */
	uint64_t amount_msat; /* what it brings the payee */
	uint32_t cltv_expiry;
	uint8_t n_hops;
	uint8_t secrets[PAY_MAX_HOPS][32];
} pay_part;

typedef struct node_payment {
	uint8_t state;
	uint8_t why; /* FAILED: LND's failure reason */
	uint8_t hash[32];
	uint8_t preimage[32]; /* SUCCEEDED */
	uint8_t payee[AL_PUBKEY_LEN];
	uint64_t amount_msat; /* what the payee gets */
	uint64_t creation_date;
	uint64_t payment_index;
	uint32_t attempts;
	/* The HTLCs of the last attempt: one, or the parts of a multi-part payment. */
	uint8_t n_parts;
	pay_part part[PAY_MAX_PARTS];
	/* FAILED: the BOLT #4 failure and the hop that sent it (HOP_LOCAL: ours). */
	uint16_t code;
	uint8_t hop;
	/* Memory only: the request waiting, and the invoice (or keysend preimage) to retry
	 * with. */
	uint64_t token;
	al_invoice *inv;
	bool ks;
	uint8_t ks_preimage[32];
	uint8_t tried; /* channel slots tried, one bit each */
} node_payment;

struct node_paybook {
	uint64_t next_index;
	node_payment p[NODE_MAX_PAYMENTS];
};
_Static_assert(NODE_MAX_CHANNELS <= 8, "node_payment.tried has a bit per channel slot");

static node_paybook *book(al_node *n)
{
	if (!n->pays && (n->pays = node_alloc(n, sizeof(*n->pays))) != NULL) {
		memset(n->pays, 0, sizeof(*n->pays));
		n->pays->next_index = 1;
	}
	return n->pays;
}

static void drop_invoice(al_node *n, node_payment *p)
{
	node_free(n, p->inv, sizeof(*p->inv));
	p->inv = NULL;
	p->ks = false;
	al_memzero(p->ks_preimage, 32);
}

void node_send_free(al_node *n)
{
	if (!n->pays)
		return;
	for (size_t i = 0; i < NODE_MAX_PAYMENTS; i++)
		drop_invoice(n, &n->pays->p[i]);
	node_free(n, n->pays, sizeof(*n->pays));
	n->pays = NULL;
}

static uint64_t persist(al_node *n)
{
	n->pay_dirty = true;
	return n->batch_next;
}

/* --- the record -------------------------------------------------------------------- */

#define PAY_REC_LEN  (1 + 1 + 32 + 32 + AL_PUBKEY_LEN + 8 + 8 + 8 + 4 + 2 + 1 + 1)
#define PART_REC_LEN (1 + 1 + 8 + 8 + 8 + 4 + 1)

al_err node_send_save(const al_node *n, uint8_t **out, size_t *len)
{
	const node_paybook *b = n->pays;
	size_t cap = 1 + 8 + 2, count = 0;
	al_wb w;

	*out = NULL;
	*len = 0;
	if (!b)
		return AL_OK;
	for (size_t i = 0; i < NODE_MAX_PAYMENTS; i++) {
		if (b->p[i].state == PAY_FREE)
			continue;
		cap += PAY_REC_LEN;
		for (size_t k = 0; k < b->p[i].n_parts; k++)
			cap += PART_REC_LEN + 32 * (size_t)b->p[i].part[k].n_hops;
		count++;
	}
	if (!(*out = node_alloc((al_node *)n, cap)))
		return AL_E_NOMEM;
	al_wb_init(&w, *out, cap);
	al_wb_u8(&w, PAY_FORMAT);
	al_wb_be64(&w, b->next_index);
	al_wb_be16(&w, (uint16_t)count);
	for (size_t i = 0; i < NODE_MAX_PAYMENTS; i++) {
		const node_payment *p = &b->p[i];

		if (p->state == PAY_FREE)
			continue;
		al_wb_u8(&w, p->state);
		al_wb_u8(&w, p->why);
		al_wb_bytes(&w, p->hash, 32);
		al_wb_bytes(&w, p->preimage, 32);
		al_wb_bytes(&w, p->payee, AL_PUBKEY_LEN);
		al_wb_be64(&w, p->amount_msat);
		al_wb_be64(&w, p->creation_date);
		al_wb_be64(&w, p->payment_index);
		al_wb_be32(&w, p->attempts);
		al_wb_be16(&w, p->code);
		al_wb_u8(&w, p->hop);
		al_wb_u8(&w, p->n_parts);
		for (size_t k = 0; k < p->n_parts; k++) {
			const pay_part *t = &p->part[k];
			al_wb_u8(&w, t->state);
			al_wb_u8(&w, t->slot);
			al_wb_be64(&w, t->htlc_id);
			al_wb_be64(&w, t->sent_msat);
			al_wb_be64(&w, t->amount_msat);
			al_wb_be32(&w, t->cltv_expiry);
			al_wb_u8(&w, t->n_hops);
			al_wb_bytes(&w, (const uint8_t *)t->secrets, 32 * (size_t)t->n_hops);
		}
	}
	*len = cap;
	return al_wb_ok(&w) && w.len == cap ? AL_OK : AL_E_BUFSIZE;
}

static bool part_ok(const pay_part *t)
{
	return t->state >= PART_IN_FLIGHT && t->state <= PART_FAILED && t->n_hops >= 1 &&
	       t->n_hops <= PAY_MAX_HOPS && t->slot < NODE_MAX_CHANNELS;
}

static void load_part(al_cur *c, pay_part *t)
{
	t->state = al_cur_u8(c);
	t->slot = al_cur_u8(c);
	t->htlc_id = al_cur_be64(c);
	t->sent_msat = al_cur_be64(c);
	t->amount_msat = al_cur_be64(c);
	t->cltv_expiry = al_cur_be32(c);
	t->n_hops = al_cur_u8(c);
}

/* Format 1: one HTLC, its fields among the payment's. */
static void load_v1(al_cur *c, node_payment *p)
{
	pay_part *t = &p->part[0];

	t->sent_msat = al_cur_be64(c);
	p->creation_date = al_cur_be64(c);
	p->payment_index = al_cur_be64(c);
	p->attempts = al_cur_be32(c);
	t->slot = al_cur_u8(c);
	t->htlc_id = al_cur_be64(c);
	t->cltv_expiry = al_cur_be32(c);
	t->n_hops = al_cur_u8(c);
	p->code = al_cur_be16(c);
	p->hop = al_cur_u8(c);
	t->amount_msat = p->amount_msat;
	t->state = p->state == PAY_IN_FLIGHT   ? PART_IN_FLIGHT
	           : p->state == PAY_SUCCEEDED ? PART_FULFILLED
	                                       : PART_FAILED;
	p->n_parts = t->n_hops ? 1 : 0;
}

al_err node_send_load(al_node *n, const uint8_t *data, size_t len)
{
	node_paybook *b = book(n);
	uint8_t format;
	size_t count;
	al_cur c;

	if (!b)
		return AL_E_NOMEM;
	al_cur_init(&c, data, len);
	format = al_cur_u8(&c);
	if (format != 1 && format != PAY_FORMAT)
		return AL_E_NODE_RECORD;
	b->next_index = al_cur_be64(&c);
	count = al_cur_be16(&c);
	if (count > NODE_MAX_PAYMENTS)
		return AL_E_NODE_RECORD;
	for (size_t i = 0; i < count && al_cur_ok(&c); i++) {
		node_payment *p = &b->p[i];

		p->state = al_cur_u8(&c);
		p->why = al_cur_u8(&c);
		al_cur_bytes(&c, p->hash, 32);
		al_cur_bytes(&c, p->preimage, 32);
		al_cur_bytes(&c, p->payee, AL_PUBKEY_LEN);
		p->amount_msat = al_cur_be64(&c);
		if (format == 1) {
			load_v1(&c, p);
		} else {
			p->creation_date = al_cur_be64(&c);
			p->payment_index = al_cur_be64(&c);
			p->attempts = al_cur_be32(&c);
			p->code = al_cur_be16(&c);
			p->hop = al_cur_u8(&c);
			p->n_parts = al_cur_u8(&c);
		}
		if (p->state < PAY_IN_FLIGHT || p->state > PAY_FAILED ||
		    p->why > WHY_INSUFFICIENT_BALANCE || p->n_parts > PAY_MAX_PARTS ||
		    p->payment_index == 0 || p->payment_index >= b->next_index)
			return AL_E_NODE_RECORD;
		for (size_t k = 0; k < p->n_parts && al_cur_ok(&c); k++) {
			pay_part *t = &p->part[k];
			if (format > 1)
				load_part(&c, t);
			if (!part_ok(t))
				return AL_E_NODE_RECORD;
			al_cur_bytes(&c, (uint8_t *)t->secrets, 32 * (size_t)t->n_hops);
		}
	}
	return al_cur_done(&c) == AL_OK ? AL_OK : AL_E_NODE_RECORD;
}

/* --- answers ------------------------------------------------------------------------ */

static const char *code_name(uint16_t code)
{
	const char *s = al_onion_failure_name(code);
	return s ? s : "unknown_failure";
}

static json_t *failure_json(const node_payment *p)
{
	if (p->state != PAY_FAILED)
		return json_null();
	return json_pack("{s:i,s:s,s:o}", "code", (int)p->code, "name",
	                 p->hop == HOP_LOCAL ? "" : code_name(p->code), "hop",
	                 p->hop == HOP_LOCAL ? json_string("local") : json_integer(p->hop));
}

/* What went wrong, in words: SendResponse's payment_error. */
static json_t *error_text(const node_payment *p)
{
	node_line l = {.n = 0};

	if (p->state != PAY_FAILED)
		return json_string("");
	if (p->hop == HOP_LOCAL)
		return json_string(
		    p->why == WHY_NO_ROUTE               ? "no route to the payee over our channels"
		    : p->why == WHY_INSUFFICIENT_BALANCE ? "no channel can carry the amount"
		                                         : "the payment failed at this node");
	node_line_s(&l, code_name(p->code));
	node_line_s(&l, " at hop ");
	node_line_u(&l, p->hop);
	return json_stringn(l.b, l.n);
}

static json_t *payment_json(const node_payment *p)
{
	static const char *const states[] = {"", "IN_FLIGHT", "SUCCEEDED", "FAILED"};
	uint64_t fee = 0;
	json_t *o = json_object();

	for (size_t k = 0; p->state == PAY_SUCCEEDED && k < p->n_parts; k++)
		fee += p->part[k].sent_msat - p->part[k].amount_msat;
	json_object_set_new(o, "payment_hash", node_hex_json(p->hash, 32));
	json_object_set_new(o, "value", node_u64_json(p->amount_msat / 1000));
	json_object_set_new(o, "creation_date", node_u64_json(p->creation_date));
	json_object_set_new(o, "fee", node_u64_json(fee / 1000));
	json_object_set_new(o, "payment_preimage",
	                    p->state == PAY_SUCCEEDED ? node_hex_json(p->preimage, 32)
	                                              : json_string(""));
	json_object_set_new(o, "value_sat", node_u64_json(p->amount_msat / 1000));
	json_object_set_new(o, "value_msat", node_u64_json(p->amount_msat));
	json_object_set_new(o, "status", json_string(states[p->state]));
	json_object_set_new(o, "fee_sat", node_u64_json(fee / 1000));
	json_object_set_new(o, "fee_msat", node_u64_json(fee));
	json_object_set_new(o, "payment_index", node_u64_json(p->payment_index));
	json_object_set_new(o, "failure_reason", json_string(why_names[p->why]));
	json_object_set_new(o, "destination", node_hex_json(p->payee, AL_PUBKEY_LEN));
	json_object_set_new(o, "attempts", json_integer(p->attempts));
	json_object_set_new(o, "parts", json_integer(p->n_parts));
	json_object_set_new(o, "failure", failure_json(p));
	return o;
}

/* The request waiting for this payment gets its answer once the record is durable. */
static void answer(al_node *n, node_payment *p)
{
	json_t *o;

	drop_invoice(n, p);
	if (!p->token)
		return;
	o = json_pack("{s:o,s:o,s:o,s:o}", "payment_error", error_text(p), "payment_preimage",
	              p->state == PAY_SUCCEEDED ? node_b64_json(p->preimage, 32) : json_string(""),
	              "payment_hash", node_b64_json(p->hash, 32), "payment", payment_json(p));
	node_answer(n, p->token, 200, o, persist(n));
	p->token = 0;
}

static void failed(al_node *n, node_payment *p, int why, uint16_t code, uint8_t hop)
{
	p->state = PAY_FAILED;
	p->why = (uint8_t)why;
	p->code = code;
	p->hop = hop;
	persist(n);
	answer(n, p);
}

/* --- attempts ----------------------------------------------------------------------- */

/* The route over channel c (to its peer) for the payment, or an error. */
static al_err route_over(al_node *n, node_chan *c, const al_invoice *inv, uint64_t amount,
                         al_route *r)
{
	al_route_hop hops[AL_ONION_MAX_HOPS];
	al_chan_info info;
	uint32_t tip = node_tip_height(n);
	al_err e = AL_E_ROUTE_NO_PATH;

	al_chan_get_info(c->ch, &info);
	/* Straight to the payee, else through each route hint in turn. */
	for (size_t h = 0; h < (inv->n_routes ? inv->n_routes : 1); h++) {
		size_t nh = 0;
		e = al_route_from_invoice(hops, &nh, inv, h, info.scid, c->peer_id);
		if (e == AL_OK && nh > PAY_MAX_HOPS)
			e = AL_E_ONION_HOPS;
		if (e == AL_OK)
			e = al_route_compute(r, hops, nh, amount,
			                     tip + (uint32_t)inv->min_final_cltv_expiry_delta, tip);
		if (e == AL_OK)
			return AL_OK;
	}
	return e;
}

/* Keysend goes straight to a channel peer (there is no invoice to name a route): the
 * payee's final payload carries the preimage, and LND's default final CLTV delta. */
static bool keysend_route(al_node *n, const node_chan *c, const node_payment *p, al_route *r)
{
	uint32_t tip = node_tip_height(n);

	if (memcmp(c->peer_id, p->payee, AL_PUBKEY_LEN) != 0)
		return false;
	memset(r, 0, sizeof(*r));
	r->n = 1;
	memcpy(r->hops[0].node_id, p->payee, AL_PUBKEY_LEN);
	r->amount_msat[0] = p->amount_msat;
	r->cltv_expiry[0] = tip + KEYSEND_CLTV_DELTA;
	return true;
}

static al_err keysend_onion(al_node *n, const node_payment *p, const al_route *r,
                            const al_privkey *session, uint8_t onion[AL_ONION_LEN],
                            uint8_t (*secrets)[32])
{
	uint8_t payload[64];
	al_hop_payload pl;
	al_onion_hop hop;
	al_err e;

	memset(&pl, 0, sizeof(pl));
	pl.amt_to_forward = r->amount_msat[0];
	pl.outgoing_cltv_value = r->cltv_expiry[0];
	pl.has_keysend = true;
	memcpy(pl.keysend_preimage, p->ks_preimage, 32);
	memset(&hop, 0, sizeof(hop));
	e = al_hop_payload_encode(payload, sizeof(payload), &hop.payload_len, &pl);
	if (e == AL_OK)
		e = al_pubkey_parse(n->env.secp, &hop.node, p->payee, AL_PUBKEY_LEN);
	hop.payload = payload;
	if (e == AL_OK)
		e = al_onion_create(onion, secrets, n->env.secp, session, &hop, 1, p->hash, 32);
	al_memzero(&pl, sizeof(pl));
	al_memzero(payload, sizeof(payload));
	return e;
}

/* A channel that may carry it: ready, reestablished with its peer, not tried yet. */
static bool usable(const al_node *n, const node_payment *p, size_t slot)
{
	const node_chan *c = &n->chans[slot];

	return c->ch && !c->oc && (c->flags & CF_READY) && !(c->flags & (CF_CLOSED | CF_FAILED)) &&
	       !(p->tried & (1u << slot)) && (al_chan_state(c->ch) & AL_CHAN_ST_REESTABLISHED);
}

/* One HTLC of `amount` (of the payment's total) over channel `slot` into part t: its
 * route, onion and add. The record says so first: the same write as the channel's, or an
 * earlier one. */
static al_err send_part(al_node *n, node_payment *p, size_t slot, uint64_t amount, pay_part *t)
{
	uint8_t onion[AL_ONION_LEN], secrets[AL_ONION_MAX_HOPS][32];
	node_chan *c = &n->chans[slot];
	al_privkey session;
	al_route r;
	uint64_t id;
	al_err e;

	if (p->inv)
		AL_TRY(route_over(n, c, p->inv, amount, &r));
	else if (!keysend_route(n, c, p, &r))
		return AL_E_ROUTE_NO_PATH;
	/* The session key: the node's randomness ("MUST use a fresh session key"). */
	do {
		e = al_rng_fill(n->env.rng, session.k, 32);
	} while (e == AL_OK && !al_privkey_valid(n->env.secp, &session));
	if (e == AL_OK && p->inv)
		e = al_route_onion(onion, secrets, n->env.secp, &session, &r, p->hash,
		                   p->inv->payment_secret, p->amount_msat,
		                   p->inv->has_metadata ? p->inv->metadata : NULL,
		                   p->inv->metadata_len);
	else if (e == AL_OK)
		e = keysend_onion(n, p, &r, &session, onion, secrets);
	al_privkey_clear(&session);
	if (e == AL_OK)
		e = al_chan_add_htlc(c->ch, al_msat_of(r.amount_msat[0]), p->hash, r.cltv_expiry[0],
		                     onion, &id);
	if (e == AL_OK) {
		memset(t, 0, sizeof(*t));
		t->state = PART_IN_FLIGHT;
		t->slot = (uint8_t)slot;
		t->htlc_id = id;
		t->sent_msat = r.amount_msat[0];
		t->amount_msat = amount;
		t->cltv_expiry = r.cltv_expiry[0];
		t->n_hops = (uint8_t)r.n;
		memcpy(t->secrets, secrets, 32 * r.n);
		p->state = PAY_IN_FLIGHT;
		persist(n);
		node_chan_log(n, c, "a payment sent", NULL);
		node_chan_touch(n, c); /* signed by the channel pump */
	}
	al_memzero(secrets, sizeof(secrets));
	return e;
}

/* The most of the payment channel `slot` takes in one HTLC, up to `most` (0: none), by
 * the channel's own checks (al_chan_can_add: reserve, fees, limits, dust). */
static uint64_t room_on(al_node *n, const node_payment *p, size_t slot, uint64_t most)
{
	node_chan *c = &n->chans[slot];
	uint64_t lo = 0, hi = most;
	al_route r;

	while (lo < hi) {
		uint64_t mid = hi - (hi - lo) / 2;
		if (route_over(n, c, p->inv, mid, &r) == AL_OK &&
		    al_chan_can_add(c->ch, al_msat_of(r.amount_msat[0]), r.cltv_expiry[0]) == AL_OK)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* BOLT #4 basic_mpp when no one channel carries it: parts over several channels, each
 * as much as its channel takes, all or none sent. */
static bool split(al_node *n, node_payment *p, int *why)
{
	uint64_t take[NODE_MAX_CHANNELS] = {0}, left = p->amount_msat;
	size_t parts = 0;

	if (!p->inv || !(al_features_has(&p->inv->features, AL_FEATURE_BASIC_MPP) ||
	                 al_features_has(&p->inv->features, AL_FEATURE_BASIC_MPP + 1)))
		return false;
	for (size_t slot = 0; slot < NODE_MAX_CHANNELS && left && parts < PAY_MAX_PARTS; slot++) {
		if (!usable(n, p, slot))
			continue;
		take[slot] = room_on(n, p, slot, left);
		left -= take[slot];
		parts += take[slot] != 0;
	}
	if (left || parts < 2)
		return false;
	p->n_parts = 0;
	for (size_t slot = 0; slot < NODE_MAX_CHANNELS; slot++) {
		if (!take[slot])
			continue;
		if (send_part(n, p, slot, take[slot], &p->part[p->n_parts]) != AL_OK) {
			/* The channel said it would take it: a broken promise, the rest fails. */
			*why = WHY_ERROR;
			break;
		}
		p->tried |= (uint8_t)(1u << slot);
		p->n_parts++;
	}
	p->attempts++;
	return p->n_parts != 0;
}

/* Send the payment over the first usable channel that takes it whole, else in parts;
 * false when nothing went (*why says whether there was no route or no room). */
static bool attempt(al_node *n, node_payment *p, int *why)
{
	*why = WHY_NO_ROUTE;
	for (size_t slot = 0; slot < NODE_MAX_CHANNELS; slot++) {
		al_err e;

		if (!usable(n, p, slot))
			continue;
		e = send_part(n, p, slot, p->amount_msat, &p->part[0]);
		if (e == AL_OK) {
			p->tried |= (uint8_t)(1u << slot);
			p->n_parts = 1;
			p->attempts++;
			return true;
		}
		if (e != AL_E_ROUTE_NO_PATH && e != AL_E_ONION_HOPS && e != AL_E_ROUTE_CLTV)
			*why = WHY_INSUFFICIENT_BALANCE; /* a route, but this channel refused */
	}
	return *why == WHY_INSUFFICIENT_BALANCE && split(n, p, why);
}

/* --- results ------------------------------------------------------------------------- */

/* The payment in flight and its part that HTLC (slot, fx->htlc_id) is; on-chain results
 * come by hash (the on-chain engine knows no HTLC ids) and name the first part on that
 * channel still out. */
static node_payment *by_htlc(al_node *n, size_t slot, const al_chan_fx *fx, pay_part **part)
{
	for (size_t i = 0; n->pays && i < NODE_MAX_PAYMENTS; i++) {
		node_payment *p = &n->pays->p[i];

		if (p->state == PAY_FREE || memcmp(p->hash, fx->hash, 32) != 0)
			continue;
		for (size_t k = 0; k < p->n_parts; k++) {
			pay_part *t = &p->part[k];
			if (t->state == PART_IN_FLIGHT && t->slot == slot &&
			    (fx->htlc_id == UINT64_MAX || t->htlc_id == fx->htlc_id)) {
				*part = t;
				return p;
			}
		}
	}
	return NULL;
}

static bool parts_out(const node_payment *p)
{
	for (size_t k = 0; k < p->n_parts; k++)
		if (p->part[k].state == PART_IN_FLIGHT)
			return true;
	return false;
}

void node_send_result(al_node *n, const node_chan *c, const al_chan_fx *fx)
{
	size_t slot = (size_t)(c - n->chans);
	pay_part *t = NULL;
	node_payment *p = by_htlc(n, slot, fx, &t);
	uint8_t msg[AL_ONION_FAILURE_MAX];
	size_t origin = 0, mlen = 0;
	uint16_t code = 0;
	int why;

	if (!p)
		return;
	persist(n);
	if (fx->event == AL_CHAN_EV_HTLC_FULFILLED) {
		t->state = PART_FULFILLED;
		/* One part's preimage is the payment's: it is paid (the others follow). */
		if (p->state == PAY_IN_FLIGHT) {
			p->state = PAY_SUCCEEDED;
			memcpy(p->preimage, fx->preimage, 32);
			node_chan_log(n, c, "a payment succeeded", NULL);
			answer(n, p);
		}
		return;
	}
	t->state = PART_FAILED;
	/* BOLT #4: the origin node "attempts to decrypt the packet" hop by hop. */
	if (fx->data && al_onion_failure_decode(&origin, msg, sizeof(msg), &mlen,
	                                        (const uint8_t(*)[32])t->secrets, t->n_hops,
	                                        fx->data, fx->len) == AL_OK) {
		code = (uint16_t)(msg[0] << 8 | msg[1]);
	} else if (!fx->data && fx->failure_code) {
		code = fx->failure_code; /* update_fail_malformed_htlc: our peer's */
	} else {
		origin = HOP_LOCAL; /* unreadable, or timed out on-chain */
	}
	node_chan_log(n, c, "a payment attempt failed:", code_name(code));
	if (p->state != PAY_IN_FLIGHT)
		return;
	if (!p->code && !p->hop) {
		p->code = code;
		p->hop = (uint8_t)(origin > HOP_LOCAL ? HOP_LOCAL : origin);
	}
	if (parts_out(p))
		return; /* the payee fails the rest of the set too */
	/* The payee's final word ends it; anything else may pass over another channel. */
	if ((p->inv || p->ks) && p->n_parts == 1 &&
	    !(origin == (size_t)t->n_hops - 1 && (code & AL_ONION_PERM))) {
		uint16_t was_code = p->code;
		uint8_t was_hop = p->hop;
		p->code = 0;
		p->hop = 0;
		if (attempt(n, p, &why))
			return;
		/* Nowhere else to go: the failure that ended it is the one it had. */
		p->code = was_code;
		p->hop = was_hop;
	}
	code = p->code;
	why = code == (AL_ONION_PERM | 15) || code == 18 || code == 19 ? WHY_INCORRECT_DETAILS
	      : code == 23 || (p->hop == HOP_LOCAL && fx->htlc_id == UINT64_MAX) ? WHY_TIMEOUT
	                                                                         : WHY_ERROR;
	failed(n, p, why, code, p->hop);
}

void node_send_loaded(al_node *n)
{
	for (size_t i = 0; n->pays && i < NODE_MAX_PAYMENTS; i++) {
		node_payment *p = &n->pays->p[i];

		if (p->state != PAY_IN_FLIGHT)
			continue;
		for (size_t k = 0; k < p->n_parts; k++) {
			pay_part *t = &p->part[k];
			node_chan *c = &n->chans[t->slot];
			al_chan_htlc_in h;

			if (t->state != PART_IN_FLIGHT || !c->ch || c->oc ||
			    (c->flags & (CF_CLOSED | CF_FAILED)))
				continue; /* a channel gone on-chain tells the result by hash */
			if (al_chan_outgoing(c->ch, t->htlc_id, &h) == AL_OK &&
			    !memcmp(h.hash, p->hash, 32))
				continue;
			/* The write that let it leave was lost with a crash: it never left. */
			t->state = PART_FAILED;
			persist(n);
		}
		if (!parts_out(p))
			failed(n, p, WHY_ERROR, 0, HOP_LOCAL);
	}
}

/* --- requests ------------------------------------------------------------------------ */

static node_payment *find(al_node *n, const uint8_t hash[32])
{
	for (size_t i = 0; n->pays && i < NODE_MAX_PAYMENTS; i++)
		if (n->pays->p[i].state != PAY_FREE && !memcmp(n->pays->p[i].hash, hash, 32))
			return &n->pays->p[i];
	return NULL;
}

/* A place for a new payment: free, else the oldest that is over. */
static node_payment *slot_new(al_node *n, node_paybook *b)
{
	node_payment *best = NULL;

	for (size_t i = 0; i < NODE_MAX_PAYMENTS; i++) {
		node_payment *p = &b->p[i];
		if (p->state == PAY_FREE)
			return p;
		if (p->state != PAY_IN_FLIGHT && !p->token &&
		    (!best || p->payment_index < best->payment_index))
			best = p;
	}
	return best;
}

static void refuse(al_node *n, uint64_t token, int status, al_err e, const char *why)
{
	node_answer(n, token, status, json_pack("{s:o}", "error", node_err_obj(e, why)), 0);
}

/* What a request asks to pay: an invoice, or (keysend) a peer and a preimage. */
typedef struct pay_ask {
	uint8_t hash[32];
	uint8_t payee[AL_PUBKEY_LEN];
	uint64_t amount_msat;
	al_invoice *inv; /* NULL for keysend */
	uint8_t ks_preimage[32];
	bool self_ok; /* LND's allow_self_payment: a circle through a hint back to us */
} pay_ask;

/* What the invoice asks to pay into *a; NULL, or why the request is refused. */
static const char *ask_invoice(al_node *n, const json_t *req, uint64_t amount, pay_ask *a)
{
	const json_t *pr = json_object_get(req, "payment_request");
	al_invoice *inv = a->inv;

	if (!json_is_string(pr) ||
	    node_invoice_decode(n, inv, json_string_value(pr), json_string_length(pr)) != AL_OK)
		return "not a valid BOLT 11 invoice of this node's network";
	if (inv->has_amount && amount && amount != inv->amount_msat)
		return "the invoice names its amount: give none";
	if (!inv->has_amount && !amount)
		return "the invoice names no amount: give amt";
	/* BOLT #11: "after the timestamp plus expiry has passed: SHOULD NOT attempt a
	 * payment". */
	if (n->wall > inv->timestamp + inv->expiry)
		return "the invoice has expired";
	memcpy(a->hash, inv->payment_hash, 32);
	memcpy(a->payee, inv->payee, AL_PUBKEY_LEN);
	a->amount_msat = inv->has_amount ? inv->amount_msat : amount;
	return NULL;
}

/* LND's keysend shape: "dest", "amt", "payment_hash" and the preimage as
 * dest_custom_records["5482373484"], all bytes in base64. */
static const char *ask_keysend(const json_t *req, uint64_t amount, pay_ask *a)
{
	const json_t *rec = json_object_get(req, "dest_custom_records");
	uint8_t h[32];

	if (!node_b64_member(req, "dest", a->payee, AL_PUBKEY_LEN) ||
	    !node_b64_member(req, "payment_hash", a->hash, 32) || !json_is_object(rec) ||
	    json_object_size(rec) != 1 || !node_b64_member(rec, KEYSEND_RECORD, a->ks_preimage, 32))
		return "keysend: {\"dest\", \"amt\", \"payment_hash\", \"dest_custom_records\": "
		       "{\"5482373484\": preimage}}, bytes in base64";
	al_sha256(h, a->ks_preimage, 32);
	if (memcmp(h, a->hash, 32) != 0)
		return "keysend: the preimage is not the payment hash's";
	if (!amount)
		return "keysend: give amt";
	a->amount_msat = amount;
	return NULL;
}

/* Start (or retry) the payment asked for; the answer comes when it ends. */
static void start(al_node *n, uint64_t token, pay_ask *a)
{
	node_paybook *b = book(n);
	uint8_t me[AL_PUBKEY_LEN];
	node_payment *p;
	int why;

	al_node_id(n, me);
	if (!b) {
		refuse(n, token, 503, AL_E_NOMEM, NULL);
	} else if (!memcmp(a->payee, me, AL_PUBKEY_LEN) && !(a->self_ok && a->inv)) {
		refuse(n, token, 400, AL_E_ARG, "the payee is this node");
	} else if ((p = find(n, a->hash)) != NULL && p->state != PAY_FAILED) {
		/* One payment per payment hash, ever (as far as the book remembers). */
		refuse(n, token, 409, AL_E_ARG,
		       p->state == PAY_SUCCEEDED ? "invoice is already paid"
		                                 : "payment is in transition");
	} else if (!p && !(p = slot_new(n, b))) {
		refuse(n, token, 503, AL_E_NODE_BUSY, "every payment slot is in flight");
	} else {
		if (p->state == PAY_FREE || memcmp(p->hash, a->hash, 32) != 0) {
			memset(p, 0, sizeof(*p));
			memcpy(p->hash, a->hash, 32);
			p->payment_index = b->next_index++;
		}
		p->creation_date = n->wall;
		p->amount_msat = a->amount_msat;
		memcpy(p->payee, a->payee, AL_PUBKEY_LEN);
		p->token = token;
		p->inv = a->inv;
		p->ks = !a->inv;
		memcpy(p->ks_preimage, a->ks_preimage, 32);
		p->tried = 0;
		p->code = 0;
		p->hop = 0;
		p->why = WHY_NONE;
		a->inv = NULL;
		if (!attempt(n, p, &why))
			failed(n, p, why, 0, HOP_LOCAL);
	}
}

static void send_payment(al_node *n, uint64_t token, const uint8_t *body, size_t len)
{
	json_t *req = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *amt = json_object_get(req, "amt"), *amt_msat = json_object_get(req, "amt_msat");
	json_t *self = json_object_get(req, "allow_self_payment");
	uint64_t sat = 0, msat = 0;
	const char *why = NULL;
	pay_ask a;

	memset(&a, 0, sizeof(a));
	if (!json_is_object(req) || (amt && !al_node_json_u64(amt, &sat)) ||
	    (amt_msat && !al_node_json_u64(amt_msat, &msat)) || sat > UINT64_MAX / 1000 ||
	    (self && !json_is_boolean(self)))
		why = "body: {\"payment_request\", \"amt\"? | \"amt_msat\"?, "
		      "\"allow_self_payment\"?} or keysend's {\"dest\", ...}";
	else if (sat && msat && msat != sat * 1000)
		why = "amt and amt_msat disagree";
	else if (json_object_get(req, "payment_request") &&
	         !(a.inv = node_alloc(n, sizeof(*a.inv)))) {
		json_decref(req);
		refuse(n, token, 503, AL_E_NOMEM, NULL);
		return;
	} else if (a.inv)
		why = ask_invoice(n, req, msat ? msat : sat * 1000, &a);
	else
		why = ask_keysend(req, msat ? msat : sat * 1000, &a);
	a.self_ok = json_is_true(self);
	if (why)
		refuse(n, token, 400, AL_E_ARG, why);
	else
		start(n, token, &a);
	json_decref(req);
	node_free(n, a.inv, sizeof(*a.inv));
	al_memzero(&a, sizeof(a));
}

static void list(al_node *n, uint64_t token)
{
	json_t *arr = json_array();
	uint64_t after = 0;

	for (;;) {
		const node_payment *next = NULL;

		for (size_t i = 0; n->pays && i < NODE_MAX_PAYMENTS; i++) {
			const node_payment *p = &n->pays->p[i];
			if (p->state != PAY_FREE && p->payment_index > after &&
			    (!next || p->payment_index < next->payment_index))
				next = p;
		}
		if (!next)
			break;
		json_array_append_new(arr, payment_json(next));
		after = next->payment_index;
	}
	node_answer(n, token, 200,
	            json_pack("{s:o,s:o,s:o,s:o}", "payments", arr, "first_index_offset",
	                      node_u64_json(json_array_size(arr) ? 1 : 0), "last_index_offset",
	                      node_u64_json(after), "total_num_payments",
	                      node_u64_json(json_array_size(arr))),
	            0);
}

void node_send_request(al_node *n, uint64_t token, bool post, bool payments, const uint8_t *body,
                       size_t len)
{
	if (payments && !post)
		list(n, token);
	else if (!payments && post)
		send_payment(n, token, body, len);
	else
		node_answer(n, token, 405, node_error_json("method not allowed"), 0);
}
