/* The node's invoices (LND's shapes), made inside the node: the preimage and payment
 * secret come from the node's randomness and leave only to the user (and the preimage,
 * later, to the payer who pays). One record, "inv"/"book", holds them all, sealed and
 * replicated like every record; an invoice is answered only once the book that holds
 * it is durable.
 *
 *   POST /v1/invoices              user: {"memo","value" | "value_msat","expiry",
 *                                  "cltv_expiry","private"} -> {r_hash, payment_request,
 *                                  add_index, payment_addr}
 *   GET  /v1/invoice/<r_hash hex>  user: LND's Invoice
 *   GET  /v1/invoices              user: {"invoices":[...]} oldest first
 *   POST /v2/invoices/hodl         user: LND's AddHoldInvoice {"hash", ...as above}: the
 *                                  node knows the hash, the user keeps the preimage
 *   POST /v2/invoices/settle       user: {"preimage"}: its held HTLCs fulfilled
 *   POST /v2/invoices/cancel       user: {"payment_hash"}: its held HTLCs failed
 *
 * A hold invoice's HTLCs, once the whole amount is there (BOLT #4's checks as for any
 * invoice), are held and recorded with it: LND's state ACCEPTED. They wait for the user's
 * settle or cancel; nothing here fails them near their expiry (the payer's side goes
 * on-chain then, as BOLT #2 says it must).
 *
 * The book keeps NODE_MAX_INVOICES. When it is full, the oldest invoice that can no
 * longer be paid (settled, or open past its expiry) makes room; if every one is open
 * and unexpired, a new one is refused (503). The payment request is not stored: the
 * invoice's fields sign to the same string every time (RFC 6979). */
#include <string.h>

#include "crypto/hash.h"
#include "ln/invoice.h"
#include "node/api_parse.h"
#include "node/node_int.h"
#include "util/cursor.h"
#include "util/hex.h"
#include "util/mem.h"

/* Format 2 added hold and keysend entries and the HTLCs that paid each; 1 still loads. */
/* Format 3 adds route hints (private invoices); 1 and 2 still load. */
#define BOOK_FORMAT 3
/* Route hints a private invoice carries at most: one per channel. */
#define INV_MAX_HINTS 3
#define HINT_LEN      (AL_PUBKEY_LEN + 8 + 4 + 4 + 2)
/* LND's defaults: a day to pay, 40 blocks for the final hop (BOLT 11's defaults are
 * an hour and 18, which LND and we write explicitly instead). */
#define DEFAULT_EXPIRY 86400
#define DEFAULT_CLTV   40

enum { INV_FREE = 0, INV_OPEN = 1, INV_SETTLED = 2, INV_CANCELED = 3 };

/* An HTLC that paid an invoice: after a restart the channel tells it again, and it is
 * fulfilled again rather than refused as a second payment. */
typedef struct node_paid_part {
	uint8_t slot; /* the channel's */
	uint64_t htlc_id;
} node_paid_part;

typedef struct node_invoice {
	uint8_t state;
	bool hold;    /* made with a hash only: the caller settles it (LND's hold invoices) */
	bool keysend; /* no invoice: a spontaneous payment, recorded as it settled */
	uint8_t preimage[32]; /* zero for a hold invoice until it settles */
	uint8_t payment_secret[32];
	uint8_t hash[32];
	uint64_t value_msat; /* 0: any amount */
	uint64_t creation_date;
	uint32_t expiry;
	uint32_t cltv_expiry;
	uint64_t add_index;
	uint64_t settle_date;
	uint64_t amt_paid_msat;
	uint16_t memo_len;
	uint8_t memo[AL_INVOICE_FIELD_MAX];
	uint8_t n_parts;
	node_paid_part parts[AL_RECV_MAX_PARTS];
	/* LND's "private": a route hint (BOLT #11 `r`) through each channel peer that told
	 * us its policy, fixed when the invoice is made */
	uint8_t n_hints;
	al_invoice_hop hints[INV_MAX_HINTS];
} node_invoice;

struct node_book {
	uint64_t next_index; /* the next add_index, from 1 */
	node_invoice inv[NODE_MAX_INVOICES];
};

static node_book *book(al_node *n)
{
	if (!n->book && (n->book = node_alloc(n, sizeof(*n->book))) != NULL) {
		memset(n->book, 0, sizeof(*n->book));
		n->book->next_index = 1;
	}
	return n->book;
}

void node_inv_free(al_node *n)
{
	node_free(n, n->book, sizeof(*n->book));
	n->book = NULL;
}

uint64_t node_persist_invoices(al_node *n)
{
	n->inv_dirty = true;
	return n->batch_next;
}

/* --- the record -------------------------------------------------------------------- */

al_err node_inv_save(const al_node *n, uint8_t **out, size_t *len)
{
	const node_book *b = n->book;
	size_t cap = 1 + 8 + 2, count = 0;
	al_wb w;

	*out = NULL;
	*len = 0;
	if (!b)
		return AL_OK;
	for (size_t i = 0; i < NODE_MAX_INVOICES; i++) {
		if (b->inv[i].state == INV_FREE)
			continue;
		cap += 1 + 1 + 32 + 32 + 32 + 8 + 8 + 4 + 4 + 8 + 8 + 8 + 2 + b->inv[i].memo_len +
		       1 + 9 * (size_t)b->inv[i].n_parts + 1 + HINT_LEN * (size_t)b->inv[i].n_hints;
		count++;
	}
	if (!(*out = node_alloc((al_node *)n, cap)))
		return AL_E_NOMEM;
	al_wb_init(&w, *out, cap);
	al_wb_u8(&w, BOOK_FORMAT);
	al_wb_be64(&w, b->next_index);
	al_wb_be16(&w, (uint16_t)count);
	for (size_t i = 0; i < NODE_MAX_INVOICES; i++) {
		const node_invoice *v = &b->inv[i];

		if (v->state == INV_FREE)
			continue;
		al_wb_u8(&w, v->state);
		al_wb_u8(&w, (uint8_t)(v->hold | v->keysend << 1));
		al_wb_bytes(&w, v->preimage, 32);
		al_wb_bytes(&w, v->hash, 32);
		al_wb_bytes(&w, v->payment_secret, 32);
		al_wb_be64(&w, v->value_msat);
		al_wb_be64(&w, v->creation_date);
		al_wb_be32(&w, v->expiry);
		al_wb_be32(&w, v->cltv_expiry);
		al_wb_be64(&w, v->add_index);
		al_wb_be64(&w, v->settle_date);
		al_wb_be64(&w, v->amt_paid_msat);
		al_wb_be16(&w, v->memo_len);
		al_wb_bytes(&w, v->memo, v->memo_len);
		al_wb_u8(&w, v->n_parts);
		for (size_t k = 0; k < v->n_parts; k++) {
			al_wb_u8(&w, v->parts[k].slot);
			al_wb_be64(&w, v->parts[k].htlc_id);
		}
		al_wb_u8(&w, v->n_hints);
		for (size_t k = 0; k < v->n_hints; k++) {
			const al_invoice_hop *h = &v->hints[k];
			al_wb_bytes(&w, h->pubkey, AL_PUBKEY_LEN);
			al_wb_be64(&w, h->scid);
			al_wb_be32(&w, h->fee_base_msat);
			al_wb_be32(&w, h->fee_proportional_millionths);
			al_wb_be16(&w, h->cltv_expiry_delta);
		}
	}
	*len = cap;
	return al_wb_ok(&w) && w.len == cap ? AL_OK : AL_E_BUFSIZE;
}

al_err node_inv_load(al_node *n, const uint8_t *data, size_t len)
{
	node_book *b = book(n);
	size_t count;
	uint8_t format;
	al_cur c;

	if (!b)
		return AL_E_NOMEM;
	al_cur_init(&c, data, len);
	format = al_cur_u8(&c);
	if (format < 1 || format > BOOK_FORMAT)
		return AL_E_NODE_RECORD;
	b->next_index = al_cur_be64(&c);
	count = al_cur_be16(&c);
	if (count > NODE_MAX_INVOICES)
		return AL_E_NODE_RECORD;
	for (size_t i = 0; i < count && al_cur_ok(&c); i++) {
		node_invoice *v = &b->inv[i];

		uint8_t flags = 0;
		static const uint8_t zero[32];

		v->state = al_cur_u8(&c);
		if (format > 1)
			flags = al_cur_u8(&c);
		al_cur_bytes(&c, v->preimage, 32);
		if (format > 1)
			al_cur_bytes(&c, v->hash, 32);
		else
			al_sha256(v->hash, v->preimage, 32);
		al_cur_bytes(&c, v->payment_secret, 32);
		v->value_msat = al_cur_be64(&c);
		v->creation_date = al_cur_be64(&c);
		v->expiry = al_cur_be32(&c);
		v->cltv_expiry = al_cur_be32(&c);
		v->add_index = al_cur_be64(&c);
		v->settle_date = al_cur_be64(&c);
		v->amt_paid_msat = al_cur_be64(&c);
		v->memo_len = al_cur_be16(&c);
		if (v->state < INV_OPEN || v->state > INV_CANCELED ||
		    v->memo_len > AL_INVOICE_FIELD_MAX || v->add_index == 0 ||
		    v->add_index >= b->next_index)
			return AL_E_NODE_RECORD;
		al_cur_bytes(&c, v->memo, v->memo_len);
		v->n_parts = format > 1 ? al_cur_u8(&c) : 0;
		/* A keysend entry is recorded settled, never held. */
		if (flags > 2 || v->n_parts > AL_RECV_MAX_PARTS ||
		    (flags == 2 && v->state != INV_SETTLED))
			return AL_E_NODE_RECORD;
		v->hold = flags & 1;
		v->keysend = flags >> 1;
		for (size_t k = 0; k < v->n_parts; k++) {
			v->parts[k].slot = al_cur_u8(&c);
			v->parts[k].htlc_id = al_cur_be64(&c);
		}
		v->n_hints = format > 2 ? al_cur_u8(&c) : 0;
		if (v->n_hints > INV_MAX_HINTS)
			return AL_E_NODE_RECORD;
		for (size_t k = 0; k < v->n_hints; k++) {
			al_invoice_hop *h = &v->hints[k];
			al_cur_bytes(&c, h->pubkey, AL_PUBKEY_LEN);
			h->scid = al_cur_be64(&c);
			h->fee_base_msat = al_cur_be32(&c);
			h->fee_proportional_millionths = al_cur_be32(&c);
			h->cltv_expiry_delta = al_cur_be16(&c);
		}
		/* A preimage is the hash's, or (a hold invoice not settled) not known yet. */
		if (al_cur_ok(&c) && format > 1) {
			uint8_t h[32];
			al_sha256(h, v->preimage, 32);
			if (v->hold && v->state != INV_SETTLED ? memcmp(v->preimage, zero, 32) != 0
			                                       : memcmp(h, v->hash, 32) != 0)
				return AL_E_NODE_RECORD;
		}
	}
	return al_cur_done(&c) == AL_OK ? AL_OK : AL_E_NODE_RECORD;
}

/* --- invoices ---------------------------------------------------------------------- */

/* The BOLT 11 string of an invoice of ours, signed with the node key. */
static al_err payment_request(al_node *n, const node_invoice *v, char *out, size_t cap, size_t *len)
{
	al_invoice *inv = node_alloc(n, sizeof(*inv));
	al_err e;

	if (!inv)
		return AL_E_NOMEM;
	memset(inv, 0, sizeof(*inv));
	inv->currency = node_invoice_currency(n);
	inv->has_amount = v->value_msat != 0;
	inv->amount_msat = v->value_msat;
	inv->timestamp = v->creation_date;
	memcpy(inv->payment_hash, v->hash, 32);
	memcpy(inv->payment_secret, v->payment_secret, 32);
	inv->has_description = true;
	inv->description_len = v->memo_len;
	memcpy(inv->description, v->memo, v->memo_len);
	inv->has_expiry = true;
	inv->expiry = v->expiry;
	inv->has_min_final_cltv = true;
	inv->min_final_cltv_expiry_delta = v->cltv_expiry;
	/* One `r` field of one hop per channel. */
	for (size_t k = 0; k < v->n_hints; k++) {
		inv->hops[k] = v->hints[k];
		inv->routes[k].first = (uint8_t)k;
		inv->routes[k].count = 1;
	}
	inv->n_hops = inv->n_routes = v->n_hints;
	/* var_onion_optin and payment_secret required, basic_mpp offered: what ln/receive
	 * takes. */
	e = al_features_set(&inv->features, AL_FEATURE_REQ(AL_FEATURE_VAR_ONION_OPTIN));
	if (e == AL_OK)
		e = al_features_set(&inv->features, AL_FEATURE_REQ(AL_FEATURE_PAYMENT_SECRET));
	if (e == AL_OK)
		e = al_features_set(&inv->features, AL_FEATURE_OPT(AL_FEATURE_BASIC_MPP));
	if (e == AL_OK)
		e = al_invoice_encode(out, cap, len, n->env.secp, inv, &n->keys.node_key);
	node_free(n, inv, sizeof(*inv));
	return e;
}

static bool expired(const al_node *n, const node_invoice *v)
{
	return n->wall > v->creation_date + v->expiry;
}

static json_t *invoice_json(al_node *n, const node_invoice *v)
{
	static const char *const states[] = {"", "OPEN", "SETTLED", "CANCELED"};
	char *req = node_alloc(n, AL_INVOICE_MAX_CHARS + 1);
	size_t len = 0;
	json_t *o = json_object();

	if (!req || v->keysend ||
	    payment_request(n, v, req, AL_INVOICE_MAX_CHARS + 1, &len) != AL_OK)
		len = 0;
	json_object_set_new(o, "memo", json_stringn((const char *)v->memo, v->memo_len));
	json_object_set_new(o, "r_preimage", node_b64_json(v->preimage, 32));
	json_object_set_new(o, "r_hash", node_b64_json(v->hash, 32));
	json_object_set_new(o, "value", node_u64_json(v->value_msat / 1000));
	json_object_set_new(o, "value_msat", node_u64_json(v->value_msat));
	json_object_set_new(o, "settled", json_boolean(v->state == INV_SETTLED));
	json_object_set_new(o, "creation_date", node_u64_json(v->creation_date));
	json_object_set_new(o, "settle_date", node_u64_json(v->settle_date));
	json_object_set_new(o, "payment_request", json_stringn(req ? req : "", len));
	json_object_set_new(o, "expiry", node_u64_json(v->expiry));
	json_object_set_new(o, "cltv_expiry", node_u64_json(v->cltv_expiry));
	json_object_set_new(o, "add_index", node_u64_json(v->add_index));
	json_object_set_new(o, "amt_paid_sat", node_u64_json(v->amt_paid_msat / 1000));
	json_object_set_new(o, "amt_paid_msat", node_u64_json(v->amt_paid_msat));
	json_object_set_new(o, "state",
	                    json_string(v->hold && v->state == INV_OPEN && v->n_parts
	                                    ? "ACCEPTED"
	                                    : states[v->state]));
	json_object_set_new(o, "payment_addr", node_b64_json(v->payment_secret, 32));
	json_object_set_new(o, "is_keysend", json_boolean(v->keysend));
	json_object_set_new(o, "expired", json_boolean(v->state == INV_OPEN && expired(n, v)));
	node_free(n, req, AL_INVOICE_MAX_CHARS + 1);
	return o;
}

static node_invoice *by_hash(al_node *n, const uint8_t hash[32])
{
	for (size_t i = 0; n->book && i < NODE_MAX_INVOICES; i++) {
		node_invoice *v = &n->book->inv[i];

		if (v->state != INV_FREE && memcmp(v->hash, hash, 32) == 0)
			return v;
	}
	return NULL;
}

/* A slot for a new invoice: a free one, else the oldest that can no longer be paid. */
static node_invoice *slot(al_node *n, node_book *b)
{
	node_invoice *best = NULL;

	for (size_t i = 0; i < NODE_MAX_INVOICES; i++) {
		node_invoice *v = &b->inv[i];

		if (v->state == INV_FREE)
			return v;
		if ((v->state != INV_OPEN || expired(n, v)) &&
		    (!best || v->add_index < best->add_index))
			best = v;
	}
	return best;
}

/* A new entry into the book (its add_index given here; *out, unless NULL, where it is
 * kept), durable with the next batch. AL_E_NODE_INVOICE_EXISTS (its hash is there),
 * AL_E_NODE_INVOICES (full), AL_E_NOMEM. *fresh is wiped. */
static al_err enter(al_node *n, node_invoice *fresh, node_invoice **out)
{
	node_book *b = book(n);
	node_invoice *v;
	al_err e = AL_OK;

	if (!b)
		e = AL_E_NOMEM;
	else if (by_hash(n, fresh->hash))
		e = AL_E_NODE_INVOICE_EXISTS;
	else if (!(v = slot(n, b)))
		e = AL_E_NODE_INVOICES;
	if (e == AL_OK) {
		fresh->add_index = b->next_index++;
		*v = *fresh;
		node_persist_invoices(n);
		if (out)
			*out = v;
	}
	al_memzero(fresh, sizeof(*fresh));
	return e;
}

/* An optional integer member: absent leaves the default. */
static bool opt_u64(const json_t *req, const char *key, uint64_t *out)
{
	const json_t *j = json_object_get(req, key);

	return !j || al_node_json_u64(j, out);
}

/* LND's "private": a hint through each open channel whose peer told us its policy
 * (BOLT #11 `r`: "pubkey ... short_channel_id ... fee_base_msat,
 * fee_proportional_millionths, cltv_expiry_delta" of the channel toward us). */
static void route_hints(al_node *n, node_invoice *v)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS && v->n_hints < INV_MAX_HINTS; i++) {
		const node_chan *c = &n->chans[i];
		al_invoice_hop *h = &v->hints[v->n_hints];
		al_chan_info info;

		if (!c->ch || !c->peer_policy_known || !(c->flags & CF_READY) ||
		    (c->flags & (CF_CLOSED | CF_FAILED)) || c->oc)
			continue;
		al_chan_get_info(c->ch, &info);
		memcpy(h->pubkey, c->peer_id, AL_PUBKEY_LEN);
		h->scid = info.scid;
		h->fee_base_msat = c->peer_policy.fee_base_msat;
		h->fee_proportional_millionths = c->peer_policy.fee_proportional_millionths;
		h->cltv_expiry_delta = c->peer_policy.cltv_expiry_delta;
		v->n_hints++;
	}
}

static void add_invoice(al_node *n, uint64_t token, const uint8_t *body, size_t len, bool hold)
{
	json_t *req = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *memo = json_object_get(req, "memo");
	json_t *priv = json_object_get(req, "private");
	uint64_t value = 0, value_msat = 0, expiry = DEFAULT_EXPIRY, cltv = DEFAULT_CLTV;
	const char *why = NULL;
	node_invoice fresh, *v = NULL;
	char *pr = NULL;
	size_t prlen = 0;
	al_err e = AL_OK;

	memset(&fresh, 0, sizeof(fresh));
	if ((len && !json_is_object(req)) || (memo && !json_is_string(memo)) ||
	    (priv && !json_is_boolean(priv)) || !opt_u64(req, "value", &value) ||
	    !opt_u64(req, "value_msat", &value_msat) || !opt_u64(req, "expiry", &expiry) ||
	    !opt_u64(req, "cltv_expiry", &cltv))
		why = "body: {\"memo\"?, \"value\"? | \"value_msat\"?, \"expiry\"?, "
		      "\"cltv_expiry\"?, \"private\"?}";
	else if (value > 21000000ULL * 100000000ULL || value_msat > 21000000ULL * 100000000000ULL)
		why = "value above 21 million bitcoin";
	else if (value && value_msat && value_msat != value * 1000)
		why = "value and value_msat disagree";
	else if (memo && json_string_length(memo) > AL_INVOICE_FIELD_MAX)
		why = "memo: at most 639 bytes (BOLT 11's d field)";
	else if (expiry == 0 || expiry > 365ULL * 86400)
		why = "expiry: 1 second to a year";
	else if (cltv < 18 || cltv > 2016)
		why = "cltv_expiry: 18 to 2016 blocks";
	else if (hold && !node_b64_member(req, "hash", fresh.hash, 32))
		why = "hash: the payment hash, 32 bytes in base64";
	if (why) {
		json_decref(req);
		node_answer(n, token, 400, json_pack("{s:o}", "error", node_err_obj(AL_E_ARG, why)),
		            0);
		return;
	}
	fresh.state = INV_OPEN;
	fresh.value_msat = value_msat ? value_msat : value * 1000;
	fresh.creation_date = n->wall;
	fresh.expiry = (uint32_t)expiry;
	fresh.cltv_expiry = (uint32_t)cltv;
	if (memo) {
		fresh.memo_len = (uint16_t)json_string_length(memo);
		memcpy(fresh.memo, json_string_value(memo), fresh.memo_len);
	}
	if (json_is_true(priv))
		route_hints(n, &fresh);
	json_decref(req);
	if (!(pr = node_alloc(n, AL_INVOICE_MAX_CHARS + 1)))
		e = AL_E_NOMEM;
	/* The preimage (but for a hold invoice's: the user's) and payment secret: the
	 * node's randomness, never the host's. */
	fresh.hold = hold;
	if (e == AL_OK && !hold)
		e = al_rng_fill(n->env.rng, fresh.preimage, 32);
	if (e == AL_OK)
		e = al_rng_fill(n->env.rng, fresh.payment_secret, 32);
	if (e == AL_OK) {
		if (!hold)
			al_sha256(fresh.hash, fresh.preimage, 32);
		e = payment_request(n, &fresh, pr, AL_INVOICE_MAX_CHARS + 1, &prlen);
	}
	if (e == AL_OK)
		e = enter(n, &fresh, &v);
	if (e != AL_OK) {
		node_free(n, pr, AL_INVOICE_MAX_CHARS + 1);
		al_memzero(&fresh, sizeof(fresh));
		node_answer(n, token, e == AL_E_NODE_INVOICES || e == AL_E_NOMEM ? 503 : 500,
		            json_pack("{s:o}", "error", node_err_obj(e, NULL)), 0);
		return;
	}
	/* Answered once the book holding it is durable: an invoice the user hands out is
	 * one the node can still settle after any crash. */
	node_answer(n, token, 200,
	            json_pack("{s:o,s:s%,s:o,s:o}", "r_hash", node_b64_json(v->hash, 32),
	                      "payment_request", pr, prlen, "add_index",
	                      node_u64_json(v->add_index), "payment_addr",
	                      node_b64_json(v->payment_secret, 32)),
	            node_persist_invoices(n));
	node_free(n, pr, AL_INVOICE_MAX_CHARS + 1);
}

/* --- what receiving asks of the book (node_recv.c) ---------------------------------- */

bool node_inv_find(al_node *n, const uint8_t hash[32], al_recv_invoice *out, bool *hold)
{
	const node_invoice *v = by_hash(n, hash);

	memset(out, 0, sizeof(*out));
	*hold = v && v->hold;
	if (!v)
		return false;
	out->known = v->state == INV_OPEN;
	memcpy(out->preimage, v->preimage, 32);
	memcpy(out->payment_secret, v->payment_secret, 32);
	out->has_amount = v->value_msat != 0;
	out->amount_msat = v->value_msat;
	out->min_final_cltv_expiry_delta = v->cltv_expiry;
	out->expires_at = v->creation_date + v->expiry;
	return true;
}

bool node_inv_paid_by(al_node *n, const uint8_t hash[32], size_t slot, uint64_t htlc_id,
                      uint8_t preimage[32])
{
	const node_invoice *v = by_hash(n, hash);

	for (size_t k = 0; v && v->state == INV_SETTLED && k < v->n_parts; k++) {
		if (v->parts[k].slot == slot && v->parts[k].htlc_id == htlc_id) {
			memcpy(preimage, v->preimage, 32);
			return true;
		}
	}
	return false;
}

/* Record HTLC (slot, id) with the invoice, once: true when it is new. */
static bool add_part(node_invoice *v, size_t slot, uint64_t htlc_id)
{
	for (size_t k = 0; k < v->n_parts; k++)
		if (v->parts[k].slot == slot && v->parts[k].htlc_id == htlc_id)
			return false;
	if (v->n_parts == AL_RECV_MAX_PARTS)
		return false;
	v->parts[v->n_parts].slot = (uint8_t)slot;
	v->parts[v->n_parts++].htlc_id = htlc_id;
	return true;
}

void node_inv_settle(al_node *n, const uint8_t hash[32], const uint8_t preimage[32], size_t slot,
                     uint64_t htlc_id, uint64_t amount_msat)
{
	node_invoice *v = by_hash(n, hash);
	uint8_t ignored[32];

	if (!v || v->state == INV_CANCELED || node_inv_paid_by(n, hash, slot, htlc_id, ignored))
		return;
	if (v->state == INV_OPEN) {
		v->state = INV_SETTLED;
		v->settle_date = n->wall;
		memcpy(v->preimage, preimage, 32);
	}
	add_part(v, slot, htlc_id);
	v->amt_paid_msat += amount_msat;
	node_persist_invoices(n);
}

void node_inv_hold_part(al_node *n, const uint8_t hash[32], size_t slot, uint64_t htlc_id)
{
	node_invoice *v = by_hash(n, hash);

	if (v && v->hold && v->state == INV_OPEN && add_part(v, slot, htlc_id))
		node_persist_invoices(n);
}

al_err node_inv_keysend(al_node *n, const uint8_t preimage[32], uint64_t amount_msat,
                        size_t chan_slot, uint64_t htlc_id)
{
	node_invoice fresh;

	memset(&fresh, 0, sizeof(fresh));
	al_sha256(fresh.hash, preimage, 32);
	fresh.state = INV_SETTLED;
	fresh.keysend = true;
	memcpy(fresh.preimage, preimage, 32);
	fresh.value_msat = amount_msat;
	fresh.amt_paid_msat = amount_msat;
	fresh.creation_date = fresh.settle_date = n->wall;
	fresh.expiry = 1;
	fresh.n_parts = 1;
	fresh.parts[0].slot = (uint8_t)chan_slot;
	fresh.parts[0].htlc_id = htlc_id;
	return enter(n, &fresh, NULL);
}

void node_inv_cancel(al_node *n, const uint8_t hash[32])
{
	node_invoice *v = by_hash(n, hash);

	if (v && v->hold && v->state == INV_OPEN) {
		v->state = INV_CANCELED;
		node_persist_invoices(n);
	}
}

al_err al_node_hold_invoice(al_node *n, const uint8_t hash[32], al_msat amount, uint32_t cltv_delta,
                            uint32_t expiry, const uint8_t secret[32])
{
	node_invoice fresh;

	if (n->state != AL_NODE_READY)
		return AL_E_NODE_STATE;
	if (cltv_delta < 18 || cltv_delta > 2016 || expiry == 0)
		return AL_E_ARG;
	memset(&fresh, 0, sizeof(fresh));
	fresh.state = INV_OPEN;
	fresh.hold = true;
	memcpy(fresh.hash, hash, 32);
	fresh.value_msat = amount.msat;
	fresh.creation_date = n->wall;
	fresh.expiry = expiry;
	fresh.cltv_expiry = cltv_delta;
	memcpy(fresh.payment_secret, secret, 32);
	return enter(n, &fresh, NULL);
}

static void lookup(al_node *n, uint64_t token, const char *hex)
{
	uint8_t hash[32];

	if (strlen(hex) != 64 || al_hex_decode_exact(hash, 32, hex) != AL_OK) {
		node_answer(
		    n, token, 400,
		    json_pack("{s:o}", "error", node_err_obj(AL_E_ARG, "r_hash: 64 hex digits")),
		    0);
		return;
	}
	const node_invoice *v = by_hash(n, hash);

	if (v)
		node_answer(n, token, 200, invoice_json(n, v), 0);
	else
		node_answer(n, token, 404, node_error_json("there is no invoice with that r_hash"),
		            0);
}

static void list(al_node *n, uint64_t token)
{
	json_t *arr = json_array();
	uint64_t after = 0;

	/* Oldest first, as LND lists them. */
	for (;;) {
		const node_invoice *next = NULL;

		for (size_t i = 0; n->book && i < NODE_MAX_INVOICES; i++) {
			const node_invoice *v = &n->book->inv[i];

			if (v->state != INV_FREE && v->add_index > after &&
			    (!next || v->add_index < next->add_index))
				next = v;
		}
		if (!next)
			break;
		json_array_append_new(arr, invoice_json(n, next));
		after = next->add_index;
	}
	node_answer(n, token, 200,
	            json_pack("{s:o,s:o,s:o}", "invoices", arr, "first_index_offset",
	                      node_u64_json(json_array_size(arr) ? 1 : 0), "last_index_offset",
	                      node_u64_json(after)),
	            0);
}

/* POST /v2/invoices/settle and /v2/invoices/cancel: a hold invoice whose HTLCs are all
 * there (ACCEPTED). Settled: the book says so (with what each HTLC brings) in a write no
 * later than the channels' records holding the preimage, then each is fulfilled (its
 * channel's on-chain engine claims it when the channel went on-chain). Canceled: each
 * fails with incorrect_or_unknown_payment_details, what LND's payer hears. */
static void resolve_hold(al_node *n, uint64_t token, bool settle, const uint8_t *body, size_t len)
{
	json_t *req = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	uint8_t key[32], hash[32];
	node_invoice *v = NULL;
	const char *why = NULL;
	int status = 400;

	if (!node_b64_member(req, settle ? "preimage" : "payment_hash", key, 32))
		why = settle ? "body: {\"preimage\"}, 32 bytes in base64"
		             : "body: {\"payment_hash\"}, 32 bytes in base64";
	json_decref(req);
	if (!why) {
		memcpy(hash, key, 32);
		if (settle)
			al_sha256(hash, key, 32);
		v = by_hash(n, hash);
		status = v && v->hold ? 409 : 404;
		if (!v || !v->hold)
			why = "no hold invoice with that payment hash";
		else if (v->state != INV_OPEN || !v->n_parts)
			why = "the invoice is not ACCEPTED (its HTLCs are not all there, or it is "
			      "over)";
	}
	if (why) {
		al_memzero(key, sizeof(key));
		node_answer(n, token, status,
		            json_pack("{s:o}", "error", node_err_obj(AL_E_ARG, why)), 0);
		return;
	}
	v->state = settle ? INV_SETTLED : INV_CANCELED;
	if (settle) {
		memcpy(v->preimage, key, 32);
		v->settle_date = n->wall;
	}
	for (size_t k = 0; k < v->n_parts; k++) {
		node_chan *c = &n->chans[v->parts[k].slot];
		uint64_t id = v->parts[k].htlc_id;
		uint8_t msg[AL_RECV_FAILURE_MAX];
		al_chan_htlc_in in;

		if (!c->ch)
			continue;
		if (!settle) {
			size_t ml = 0;
			if (al_chan_incoming(c->ch, id, &in) == AL_OK)
				ml = al_recv_failure(msg, AL_RECV_UNKNOWN_PAYMENT, in.amount.msat,
				                     node_tip_height(n));
			if (!ml || node_recv_fail(n, c, id, msg, ml) != AL_OK)
				node_chan_log(n, c, "a held HTLC could not be failed now", NULL);
			continue;
		}
		if (al_chan_incoming(c->ch, id, &in) == AL_OK)
			v->amt_paid_msat += in.amount.msat;
		node_recv_fulfill(n, c, id, key);
	}
	al_memzero(key, sizeof(key));
	node_answer(n, token, 200, json_object(), node_persist_invoices(n));
}

void node_inv_request(al_node *n, uint64_t token, const char *method, const char *path,
                      const uint8_t *body, size_t len)
{
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");

	if (!strcmp(path, "/v1/invoices") && post)
		add_invoice(n, token, body, len, false);
	else if (!strcmp(path, "/v2/invoices/hodl") && post)
		add_invoice(n, token, body, len, true);
	else if (!strcmp(path, "/v2/invoices/settle") && post)
		resolve_hold(n, token, true, body, len);
	else if (!strcmp(path, "/v2/invoices/cancel") && post)
		resolve_hold(n, token, false, body, len);
	else if (!strcmp(path, "/v1/invoices") && get)
		list(n, token);
	else if (!strncmp(path, "/v1/invoice/", 12) && get)
		lookup(n, token, path + 12);
	else
		node_answer(n, token, 405, node_error_json("method not allowed"), 0);
}
