/* Payments to this node: BOLT #4 at the final hop, over the node's channels.
 *
 * An incoming HTLC that a channel has committed irrevocably (AL_CHAN_EV_HTLC_RECEIVED,
 * told again after every restart until it is resolved) is peeled with the node key,
 * its payload decoded as the final hop's, and handed to ln/receive with what the
 * invoice book knows of its payment hash. ln/receive decides: fulfil a whole set, or
 * fail a part with the failure message BOLT #4 names, which goes back wrapped in the
 * onion's shared secret (the sender attributes it to us), or as
 * update_fail_malformed_htlc when the onion itself is unusable.
 *
 * Persist before you speak: the book says SETTLED, with the HTLCs that paid, in a write
 * no later than the channel record that holds the preimage, and the channel releases
 * update_fulfill_htlc only once that record is durable. After a crash in between, the
 * channel tells the HTLC again, the book names it as one that paid, and it is fulfilled
 * again rather than refused as a second payment.
 *
 * A packet for another hop goes to node_fwd.c, with its payload decoded. */
#include <string.h>

#include "crypto/hash.h"
#include "ln/onion.h"
#include "ln/payload.h"
#include "node/node_int.h"
#include "util/bigsize.h"
#include "util/cursor.h"
#include "util/mem.h"

/* ln/receive's handle for an HTLC: the channel slot and the HTLC id. */
#define RECV_SLOT_SHIFT 56
#define RECV_ID_MASK    ((1ULL << RECV_SLOT_SHIFT) - 1)

/* BOLT #4 failure codes given here besides ln/receive's. */
#define TEMPORARY_CHANNEL_FAILURE (AL_ONION_UPDATE | 7)
/* The least a keysend HTLC may leave us before its expiry (BOLT #2's minimum final
 * cltv_expiry_delta, the most a sender without an invoice can know). */
#define KEYSEND_MIN_CLTV 18

static al_recv *engine(al_node *n)
{
	if (!n->recv && (n->recv = node_alloc(n, sizeof(*n->recv))) != NULL)
		al_recv_init(n->recv);
	return n->recv;
}

void node_recv_free(al_node *n)
{
	if (!n->recv)
		return;
	al_recv_clear(n->recv);
	node_free(n, n->recv, sizeof(*n->recv));
	n->recv = NULL;
}

static size_t slot_of(const al_node *n, const node_chan *c)
{
	return (size_t)(c - n->chans);
}

/* Peel the onion of incoming HTLC `id` (kept by the channel until it is resolved). */
static al_err peel(al_node *n, node_chan *c, uint64_t id, al_onion_peeled *p, al_chan_htlc_in *in)
{
	AL_TRY(al_chan_incoming(c->ch, id, in));
	return al_onion_peel(p, n->env.secp, &n->keys.node_key, in->onion, in->hash, 32);
}

/* BOLT #4: "update_fail_malformed_htlc ... sha256_of_onion, failure_code" for an onion
 * this node cannot even read. */
static al_err fail_malformed(al_node *n, node_chan *c, uint64_t id, const al_chan_htlc_in *in,
                             uint16_t code)
{
	uint8_t sha[32];

	al_sha256(sha, in->onion, AL_CHAN_ONION_LEN);
	return al_chan_fail_malformed_htlc(c->ch, id, sha, code);
}

al_err node_recv_fail(al_node *n, node_chan *c, uint64_t id, const uint8_t *msg, size_t len)
{
	al_onion_peeled *p = node_alloc(n, sizeof(*p));
	uint8_t *pkt = node_alloc(n, AL_ONION_FAILURE_MAX);
	al_chan_htlc_in in;
	size_t plen = 0;
	uint16_t code;
	al_err e = p && pkt ? AL_OK : AL_E_NOMEM;

	if (e == AL_OK)
		e = peel(n, c, id, p, &in);
	if ((code = al_onion_malformed_code(e)) != 0) {
		e = fail_malformed(n, c, id, &in, code);
	} else if (e == AL_OK || e == AL_E_ONION_PAYLOAD) {
		/* The shared secret is known even when the payload was not usable. */
		e = al_onion_failure_create(pkt, AL_ONION_FAILURE_MAX, &plen, p->shared_secret, msg,
		                            len);
		if (e == AL_OK)
			e = al_chan_fail_htlc(c->ch, id, pkt, plen);
	}
	/* Signed by the channel pump (this runs inside it, as a channel's event). */
	if (e == AL_OK)
		node_chan_touch(n, c);
	if (p)
		al_onion_peeled_clear(p);
	node_free(n, p, sizeof(*p));
	node_free(n, pkt, AL_ONION_FAILURE_MAX);
	return e;
}

al_err node_recv_fail_wrapped(al_node *n, node_chan *c, uint64_t id, const uint8_t *pkt, size_t len)
{
	al_onion_peeled *p = node_alloc(n, sizeof(*p));
	uint8_t *buf = node_alloc(n, AL_ONION_FAILURE_MAX);
	al_chan_htlc_in in;
	al_err e = p && buf ? AL_OK : AL_E_NOMEM;

	if (e == AL_OK && len > AL_ONION_FAILURE_MAX)
		e = AL_E_ONION_FAILURE_LEN;
	/* The onion was peeled once when the HTLC came: its shared secret again. */
	if (e == AL_OK)
		e = peel(n, c, id, p, &in);
	if (e == AL_OK) {
		memcpy(buf, pkt, len);
		/* BOLT #4 at each hop on the way back: "obfuscate the packet using its ammag
		 * key". */
		e = al_onion_failure_wrap(buf, len, p->shared_secret);
	}
	if (e == AL_OK)
		e = al_chan_fail_htlc(c->ch, id, buf, len);
	if (e == AL_OK)
		node_chan_touch(n, c);
	if (p)
		al_onion_peeled_clear(p);
	node_free(n, p, sizeof(*p));
	node_free(n, buf, AL_ONION_FAILURE_MAX);
	return e;
}

/* A failure with BOLT #4's data (al_recv_failure). */
static void fail_with(al_node *n, node_chan *c, uint64_t id, uint16_t code, uint64_t htlc_msat,
                      uint32_t value)
{
	uint8_t msg[AL_RECV_FAILURE_MAX];

	if (node_recv_fail(n, c, id, msg, al_recv_failure(msg, code, htlc_msat, value)) != AL_OK)
		node_chan_log(n, c, "an HTLC could not be failed now", NULL);
}

/* BOLT #4 invalid_onion_payload: "type (bigsize), offset (u16)" naming the TLV at fault. */
static void fail_payload(al_node *n, node_chan *c, uint64_t id, uint64_t type)
{
	uint8_t msg[2 + 9 + 2];
	al_wb w;

	al_wb_init(&w, msg, sizeof(msg));
	al_wb_be16(&w, AL_ONION_INVALID_ONION_PAYLOAD);
	al_wb_bigsize(&w, type);
	al_wb_be16(&w, 0);
	if (node_recv_fail(n, c, id, msg, w.len) != AL_OK)
		node_chan_log(n, c, "an HTLC could not be failed now", NULL);
}

void node_recv_fulfill(al_node *n, node_chan *c, uint64_t id, const uint8_t preimage[32])
{
	if (c->oc) {
		/* BOLT #5: the channel went on-chain meanwhile; "if it receives (or already
		 * possesses) a payment preimage for an unresolved HTLC output ... MUST resolve
		 * the output by spending it": its engine claims it (persisted first). */
		if (al_onchain_preimage(c->oc, preimage) != AL_OK)
			node_chan_log(n, c, "a preimage the on-chain engine did not take", NULL);
		node_onc_pump(n, c);
		if (node_wallet_internal(n, "chansync") != AL_OK)
			node_chan_log(n, c, "the chain poll waits: the job queue is full", NULL);
		return;
	}
	if (al_chan_fulfill_htlc(c->ch, id, preimage) != AL_OK)
		node_chan_log(n, c, "an HTLC could not be fulfilled now", NULL);
	else
		node_chan_touch(n, c);
}

/* Keysend: a payment with no invoice whose preimage comes in the final payload (type
 * 5482373484). The final node's checks of BOLT #4 that need no invoice, then the preimage
 * must be the payment hash's and the hash new to the book; it is recorded as a settled
 * entry (durable before the preimage goes back, like any payment). One part only. */
static void keysend(al_node *n, node_chan *c, uint64_t id, const al_recv_htlc *h)
{
	const al_hop_payload *p = &h->payload;
	uint32_t tip = node_tip_height(n);
	uint16_t code = al_recv_check_htlc(h);
	uint8_t hash[32];
	al_err e;

	if (code) {
		fail_with(n, c, id, code, h->amount_msat, h->cltv_expiry);
		return;
	}
	al_sha256(hash, p->keysend_preimage, 32);
	if (memcmp(hash, h->payment_hash, 32) != 0 ||
	    (uint64_t)h->cltv_expiry < (uint64_t)tip + KEYSEND_MIN_CLTV ||
	    (p->has_payment_data && p->total_msat != p->amt_to_forward)) {
		fail_with(n, c, id, AL_RECV_UNKNOWN_PAYMENT, h->amount_msat, tip);
		return;
	}
	e = node_inv_keysend(n, p->keysend_preimage, h->amount_msat, slot_of(n, c), id);
	if (e != AL_OK) {
		fail_with(n, c, id,
		          e == AL_E_NODE_INVOICES ? AL_RECV_TEMPORARY_NODE_FAILURE
		                                  : AL_RECV_UNKNOWN_PAYMENT,
		          h->amount_msat, tip);
		return;
	}
	node_chan_log(n, c, "a keysend payment to us settled", NULL);
	node_recv_fulfill(n, c, id, p->keysend_preimage);
}

/* Carry out ln/receive's decisions. */
static void decide(al_node *n)
{
	al_recv_decision d;

	while (n->recv && al_recv_next(n->recv, &d)) {
		size_t slot = (size_t)(d.id >> RECV_SLOT_SHIFT);
		uint64_t id = d.id & RECV_ID_MASK;
		node_chan *c = slot < NODE_MAX_CHANNELS ? &n->chans[slot] : NULL;
		al_chan_htlc_in in;
		al_recv_invoice inv;
		bool hold;

		if (!c || !c->ch || al_chan_incoming(c->ch, id, &in) != AL_OK) {
			al_memzero(&d, sizeof(d));
			continue; /* resolved meanwhile (the channel closed) */
		}
		if (d.kind == AL_RECV_FAIL) {
			node_chan_log(n, c, "a payment to us refused", NULL);
			if (node_recv_fail(n, c, id, d.failure, d.failure_len) != AL_OK)
				node_chan_log(n, c, "an HTLC could not be failed now", NULL);
			continue;
		}
		node_inv_find(n, d.payment_hash, &inv, &hold);
		al_memzero(&inv, sizeof(inv));
		if (hold) {
			/* The whole amount is there: the user (or the C caller) settles or
			 * fails it. */
			node_inv_hold_part(n, d.payment_hash, slot, id);
			al_chan_fx fx;
			memset(&fx, 0, sizeof(fx));
			fx.event = AL_CHAN_EV_HTLC_RECEIVED;
			fx.htlc_id = id;
			fx.amount_msat = in.amount;
			memcpy(fx.hash, in.hash, 32);
			fx.cltv_expiry = in.cltv_expiry;
			node_htlc_event(n, c, &fx);
			continue;
		}
		/* BOLT #4: "SHOULD fulfill all HTLCs in the HTLC set" - the book first. */
		node_inv_settle(n, d.payment_hash, d.preimage, slot, id, in.amount.msat);
		node_chan_log(n, c, "a payment to us settled", NULL);
		node_recv_fulfill(n, c, id, d.preimage);
		al_memzero(&d, sizeof(d));
	}
}

void node_recv_htlc(al_node *n, node_chan *c, const al_chan_fx *fx)
{
	al_onion_peeled *p = node_alloc(n, sizeof(*p));
	al_recv *r = engine(n);
	size_t slot = slot_of(n, c);
	uint64_t id = fx->htlc_id;
	al_recv_htlc h;
	al_recv_invoice inv;
	al_chan_htlc_in in;
	uint8_t preimage[32];
	bool hold;
	al_err e;

	memset(&h, 0, sizeof(h));
	if (!p || !r) {
		fail_with(n, c, id, AL_ONION_TEMPORARY_NODE_FAILURE, 0, 0);
		goto out;
	}
	e = peel(n, c, id, p, &in);
	if (al_onion_malformed_code(e)) {
		if (fail_malformed(n, c, id, &in, al_onion_malformed_code(e)) != AL_OK)
			node_chan_log(n, c, "an HTLC could not be failed now", NULL);
		else
			node_chan_touch(n, c);
		goto out;
	}
	if (e != AL_OK) {
		fail_payload(n, c, id, 0);
		goto out;
	}
	/* BOLT #2 max_dust_htlc_exposure_msat: "SHOULD fail this HTLC once it's committed". */
	if (fx->must_fail) {
		fail_with(n, c, id, TEMPORARY_CHANNEL_FAILURE, 0, 0);
		goto out;
	}
	if (al_hop_payload_decode(&h.payload, p->payload, p->payload_len, p->final) != AL_OK) {
		fail_payload(n, c, id, h.payload.bad_type);
		goto out;
	}
	if (!p->final) {
		node_fwd_htlc(n, c, id, &in, &h.payload, p->next);
		goto out;
	}
	/* An HTLC that already paid (told again after a restart): fulfilled again. */
	if (node_inv_paid_by(n, in.hash, slot, id, preimage)) {
		node_recv_fulfill(n, c, id, preimage);
		al_memzero(preimage, sizeof(preimage));
		goto out;
	}
	memcpy(h.payment_hash, in.hash, 32);
	h.amount_msat = in.amount.msat;
	h.cltv_expiry = in.cltv_expiry;
	if (h.payload.has_keysend) {
		keysend(n, c, id, &h);
		goto out;
	}
	if (id > RECV_ID_MASK) {
		fail_with(n, c, id, AL_ONION_TEMPORARY_NODE_FAILURE, 0, 0);
		goto out;
	}
	h.id = (uint64_t)slot << RECV_SLOT_SHIFT | id;
	node_inv_find(n, in.hash, &inv, &hold);
	e = al_recv_offer(r, &h, &inv, node_tip_height(n), n->now, n->wall);
	if (e == AL_E_RECV_FULL) {
		decide(n);
		e = al_recv_offer(r, &h, &inv, node_tip_height(n), n->now, n->wall);
	}
	al_memzero(&inv, sizeof(inv));
	if (e != AL_OK)
		fail_with(n, c, id, AL_ONION_TEMPORARY_NODE_FAILURE, 0, 0);
	decide(n);
out:
	if (p)
		al_onion_peeled_clear(p);
	node_free(n, p, sizeof(*p));
	al_memzero(&h, sizeof(h));
}

uint64_t node_recv_next_timer(const al_node *n)
{
	uint64_t t = UINT64_MAX;

	for (size_t i = 0; n->recv && i < AL_RECV_MAX_SETS; i++) {
		const al_recv_set *s = &n->recv->sets[i];
		if (s->used && s->started_ms + AL_RECV_MPP_TIMEOUT_MS < t)
			t = s->started_ms + AL_RECV_MPP_TIMEOUT_MS;
	}
	return t;
}

void node_recv_timer(al_node *n)
{
	if (!n->recv)
		return;
	/* BOLT #4: "MUST fail all HTLCs in the HTLC set after some reasonable timeout". */
	al_recv_tick(n->recv, n->now);
	decide(n);
}
