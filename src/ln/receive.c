#include "ln/receive.h"

#include <string.h>

#include "util/cursor.h"
#include "util/mem.h"

void al_recv_init(al_recv *r)
{
	memset(r, 0, sizeof(*r));
}

void al_recv_clear(al_recv *r)
{
	al_memzero(r, sizeof(*r));
}

static size_t room(const al_recv *r)
{
	return AL_RECV_MAX_DECISIONS - r->q_len;
}

static al_recv_decision *push(al_recv *r, al_recv_kind kind, uint64_t id, const uint8_t hash[32])
{
	al_recv_decision *d = &r->q[(r->q_head + r->q_len++) % AL_RECV_MAX_DECISIONS];

	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->id = id;
	memcpy(d->payment_hash, hash, 32);
	return d;
}

size_t al_recv_failure(uint8_t out[AL_RECV_FAILURE_MAX], uint16_t code, uint64_t htlc_msat,
                       uint32_t value)
{
	al_wb w;

	al_wb_init(&w, out, AL_RECV_FAILURE_MAX);
	al_wb_be16(&w, code);
	switch (code) {
	case AL_RECV_UNKNOWN_PAYMENT:
		/* "htlc_msat (u64), height (u32)" */
		al_wb_be64(&w, htlc_msat);
		al_wb_be32(&w, value);
		break;
	case AL_RECV_FINAL_INCORRECT_CLTV:
		al_wb_be32(&w, value); /* cltv_expiry */
		break;
	case AL_RECV_FINAL_INCORRECT_AMOUNT:
		al_wb_be64(&w, htlc_msat); /* incoming_htlc_amt */
		break;
	default:
		break;
	}
	return w.len;
}

static void fail(al_recv *r, uint64_t id, const uint8_t hash[32], uint16_t code, uint64_t htlc_msat,
                 uint32_t value)
{
	al_recv_decision *d = push(r, AL_RECV_FAIL, id, hash);

	d->failure_len = al_recv_failure(d->failure, code, htlc_msat, value);
	r->failed++;
}

static void fail_set(al_recv *r, al_recv_set *s, uint16_t code, uint32_t height)
{
	for (size_t i = 0; i < s->n_parts; i++)
		fail(r, s->parts[i].id, s->payment_hash, code, s->parts[i].amount_msat, height);
	al_memzero(s, sizeof(*s));
}

static void fulfill_set(al_recv *r, al_recv_set *s)
{
	for (size_t i = 0; i < s->n_parts; i++) {
		al_recv_decision *d = push(r, AL_RECV_FULFILL, s->parts[i].id, s->payment_hash);

		memcpy(d->preimage, s->preimage, 32);
		d->total_msat = s->sum_msat;
		r->fulfilled++;
	}
	al_memzero(s, sizeof(*s));
}

static al_recv_set *find_set(al_recv *r, const uint8_t hash[32])
{
	for (size_t i = 0; i < AL_RECV_MAX_SETS; i++)
		if (r->sets[i].used && memcmp(r->sets[i].payment_hash, hash, 32) == 0)
			return &r->sets[i];
	return NULL;
}

static al_recv_set *free_set(al_recv *r)
{
	for (size_t i = 0; i < AL_RECV_MAX_SETS; i++)
		if (!r->sets[i].used)
			return &r->sets[i];
	return NULL;
}

uint16_t al_recv_check_htlc(const al_recv_htlc *h)
{
	/* "if the `cltv_expiry` from the final node's HTLC is below `outgoing_cltv_value`:
	 * MUST return `final_incorrect_cltv_expiry` error." */
	if (h->cltv_expiry < h->payload.outgoing_cltv_value)
		return AL_RECV_FINAL_INCORRECT_CLTV;
	/* "if `amount_msat` from the final node's HTLC is below `amt_to_forward`: MUST
	 * return a `final_incorrect_htlc_amount` error." */
	if (h->amount_msat < h->payload.amt_to_forward)
		return AL_RECV_FINAL_INCORRECT_AMOUNT;
	return 0;
}

/* The final node's checks of BOLT #4 "Failure Messages", before the HTLC joins a set.
 * Returns the failure code, 0 to go on. */
static uint16_t check(const al_recv_htlc *h, const al_recv_invoice *inv, uint32_t height,
                      uint64_t now_unix)
{
	const al_hop_payload *p = &h->payload;
	uint16_t code = al_recv_check_htlc(h);

	if (code)
		return code;
	/* Each of these "MUST return an `incorrect_or_unknown_payment_details` error",
	 * one code for all so that a probing forwarder learns nothing: "if the payment
	 * hash is unknown"; "if the payment_secret doesn't match the expected value for
	 * that payment_hash, or the payment_secret is required and is not present"; a
	 * payee "after the timestamp plus expiry has passed: SHOULD NOT accept a
	 * payment"; "if the cltv_expiry value is unreasonably near the present" (closer
	 * than the invoice's min_final_cltv_expiry_delta); "if the amount paid is less
	 * than the amount expected", "more than twice the amount expected" (the amount
	 * paid being total_msat). A total below this part's own amount is no payment a
	 * sender following BOLT #4 makes. */
	if (!inv || !inv->known || !p->has_payment_data ||
	    !al_memeq_ct(p->payment_secret, inv->payment_secret, 32) ||
	    now_unix > inv->expires_at ||
	    (uint64_t)h->cltv_expiry < (uint64_t)height + inv->min_final_cltv_expiry_delta ||
	    p->total_msat == 0 || p->total_msat < p->amt_to_forward ||
	    (inv->has_amount && (p->total_msat < inv->amount_msat ||
	                         p->total_msat - inv->amount_msat > inv->amount_msat)))
		return AL_RECV_UNKNOWN_PAYMENT;
	return 0;
}

al_err al_recv_offer(al_recv *r, const al_recv_htlc *h, const al_recv_invoice *inv, uint32_t height,
                     uint64_t now_ms, uint64_t now_unix)
{
	const al_hop_payload *p = &h->payload;
	al_recv_set *s;
	uint16_t code;

	/* The most one offer decides: a whole set and this part. */
	if (room(r) < AL_RECV_MAX_PARTS + 1)
		return AL_E_RECV_FULL;
	/* An HTLC already waiting, offered again: the caller's bug, nothing changes. */
	for (size_t k = 0; k < AL_RECV_MAX_SETS; k++)
		for (size_t i = 0; r->sets[k].used && i < r->sets[k].n_parts; i++)
			if (r->sets[k].parts[i].id == h->id)
				return AL_E_ARG;
	s = find_set(r, h->payment_hash);
	code = check(h, inv, height, now_unix);
	if (code == AL_RECV_FINAL_INCORRECT_CLTV) {
		fail(r, h->id, h->payment_hash, code, 0, h->cltv_expiry);
		return AL_OK;
	}
	if (code) {
		fail(r, h->id, h->payment_hash, code, h->amount_msat, height);
		return AL_OK;
	}
	/* "SHOULD fail the entire HTLC set if `total_msat` is not the same for all HTLCs
	 * in the set." */
	if (s && s->total_msat != p->total_msat) {
		fail_set(r, s, AL_RECV_UNKNOWN_PAYMENT, height);
		fail(r, h->id, h->payment_hash, AL_RECV_UNKNOWN_PAYMENT, h->amount_msat, height);
		return AL_OK;
	}
	if (!s && (s = free_set(r)) != NULL) {
		s->used = true;
		memcpy(s->payment_hash, h->payment_hash, 32);
		memcpy(s->preimage, inv->preimage, 32);
		s->total_msat = p->total_msat;
		s->started_ms = now_ms;
	}
	/* No room to collect it: a temporary failure the sender may retry. */
	if (!s || s->n_parts == AL_RECV_MAX_PARTS) {
		fail(r, h->id, h->payment_hash, AL_RECV_TEMPORARY_NODE_FAILURE, 0, 0);
		return AL_OK;
	}
	s->parts[s->n_parts].id = h->id;
	s->parts[s->n_parts].amount_msat = h->amount_msat;
	s->n_parts++;
	s->sum_msat += p->amt_to_forward;
	/* "if the total `amt_to_forward` of this HTLC set is equal to or greater than
	 * `total_msat`: SHOULD fulfill all HTLCs in the HTLC set"; otherwise "MUST NOT
	 * fulfill any HTLCs in the HTLC set". */
	if (s->sum_msat >= s->total_msat)
		fulfill_set(r, s);
	return AL_OK;
}

void al_recv_tick(al_recv *r, uint64_t now_ms)
{
	for (size_t i = 0; i < AL_RECV_MAX_SETS; i++) {
		al_recv_set *s = &r->sets[i];

		/* "MUST fail all HTLCs in the HTLC set after some reasonable timeout ...
		 * SHOULD use `mpp_timeout` for the failure message." */
		if (s->used && now_ms - s->started_ms >= AL_RECV_MPP_TIMEOUT_MS &&
		    now_ms >= s->started_ms && room(r) >= s->n_parts)
			fail_set(r, s, AL_RECV_MPP_TIMEOUT, 0);
	}
}

bool al_recv_next(al_recv *r, al_recv_decision *out)
{
	if (r->q_len == 0)
		return false;
	*out = r->q[r->q_head];
	al_memzero(&r->q[r->q_head], sizeof(r->q[0]));
	r->q_head = (r->q_head + 1) % AL_RECV_MAX_DECISIONS;
	r->q_len--;
	return true;
}

size_t al_recv_waiting(const al_recv *r)
{
	size_t n = 0;

	for (size_t i = 0; i < AL_RECV_MAX_SETS; i++)
		n += r->sets[i].used ? r->sets[i].n_parts : 0;
	return n;
}
