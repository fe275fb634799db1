#include "ln/payload.h"

#include <string.h>

#include "util/bigsize.h"
#include "util/cursor.h"
#include "util/tlv.h"

/* Which records were seen. */
enum {
	SEEN_AMT = 1,
	SEEN_CLTV = 2,
};

/* One known record's value: BOLT #1 "if `length` is not exactly equal to that required
 * for the known encoding for `type`: MUST fail to parse". */
static al_err record(al_hop_payload *p, unsigned *seen, const al_tlv_rec *r)
{
	al_cur c;
	al_err err;

	al_cur_init(&c, r->value, r->len);
	switch (r->type) {
	case AL_PAYLOAD_AMT_TO_FORWARD:
		p->amt_to_forward = al_cur_tu64(&c);
		*seen |= SEEN_AMT;
		break;
	case AL_PAYLOAD_OUTGOING_CLTV:
		p->outgoing_cltv_value = al_cur_tu32(&c);
		*seen |= SEEN_CLTV;
		break;
	case AL_PAYLOAD_SHORT_CHANNEL_ID:
		p->short_channel_id = al_cur_be64(&c);
		p->has_scid = true;
		break;
	case AL_PAYLOAD_PAYMENT_DATA:
		al_cur_bytes(&c, p->payment_secret, 32);
		p->total_msat = al_cur_tu64(&c);
		p->has_payment_data = true;
		break;
	case AL_PAYLOAD_PAYMENT_METADATA:
		p->metadata = r->value;
		p->metadata_len = r->len;
		al_cur_skip(&c, r->len);
		break;
	case AL_PAYLOAD_KEYSEND_PREIMAGE:
		al_cur_bytes(&c, p->keysend_preimage, 32);
		p->has_keysend = true;
		break;
	case AL_PAYLOAD_ENCRYPTED_DATA:
	case AL_PAYLOAD_CURRENT_PATH_KEY:
	case AL_PAYLOAD_TOTAL_AMOUNT_MSAT:
		/* Route blinding is not offered (no option_route_blinding in our features),
		 * so no honest sender builds a blinded route through this node. */
		return AL_E_PAYLOAD_BLINDED;
	default:
		/* "if `type` is even: MUST fail to parse the `tlv_stream`. otherwise, if
		 * `type` is odd: MUST discard the next `length` bytes." */
		return r->type % 2 == 0 ? AL_E_TLV_UNKNOWN_EVEN : AL_OK;
	}
	err = al_cur_done(&c);
	if (err == AL_E_TRUNCATED || err == AL_E_TRAILING)
		err = AL_E_TLV_VALUE_LENGTH;
	return err;
}

static al_err decode(al_hop_payload *p, const uint8_t *payload, size_t len, bool final)
{
	al_tlv_iter it;
	al_tlv_rec r;
	unsigned seen = 0;

	al_tlv_iter_init(&it, payload, len);
	while (al_tlv_next(&it, &r)) {
		p->bad_type = r.type;
		AL_TRY(record(p, &seen, &r));
	}
	p->bad_type = 0;
	AL_TRY(al_tlv_iter_err(&it));
	/* "MUST return an error if `amt_to_forward` or `outgoing_cltv_value` are not
	 * present." */
	if (!(seen & SEEN_AMT)) {
		p->bad_type = AL_PAYLOAD_AMT_TO_FORWARD;
		return AL_E_PAYLOAD_MISSING;
	}
	if (!(seen & SEEN_CLTV)) {
		p->bad_type = AL_PAYLOAD_OUTGOING_CLTV;
		return AL_E_PAYLOAD_MISSING;
	}
	/* The writer's rules, checked by the reader: a non-final hop "MUST include
	 * `short_channel_id`; MUST NOT include `payment_data`", the final node "MUST NOT
	 * include `short_channel_id`". */
	if (!final && !p->has_scid) {
		p->bad_type = AL_PAYLOAD_SHORT_CHANNEL_ID;
		return AL_E_PAYLOAD_MISSING;
	}
	if (final && p->has_scid) {
		p->bad_type = AL_PAYLOAD_SHORT_CHANNEL_ID;
		return AL_E_PAYLOAD_FIELD;
	}
	if (!final && p->has_payment_data) {
		p->bad_type = AL_PAYLOAD_PAYMENT_DATA;
		return AL_E_PAYLOAD_FIELD;
	}
	return AL_OK;
}

al_err al_hop_payload_decode(al_hop_payload *out, const uint8_t *payload, size_t len, bool final)
{
	al_err err;
	uint64_t bad;

	memset(out, 0, sizeof(*out));
	err = decode(out, payload, len, final);
	if (err != AL_OK) {
		bad = out->bad_type;
		memset(out, 0, sizeof(*out));
		out->bad_type = bad;
	}
	return err;
}

al_err al_hop_payload_encode(uint8_t *out, size_t cap, size_t *outlen, const al_hop_payload *p)
{
	uint8_t v[8 + 32 + 8];
	al_wb w, vw;

	al_wb_init(&w, out, cap);
	al_wb_init(&vw, v, sizeof(v));
	al_wb_tu64(&vw, p->amt_to_forward);
	al_tlv_write(&w, AL_PAYLOAD_AMT_TO_FORWARD, v, vw.len);
	al_wb_init(&vw, v, sizeof(v));
	al_wb_tu32(&vw, p->outgoing_cltv_value);
	al_tlv_write(&w, AL_PAYLOAD_OUTGOING_CLTV, v, vw.len);
	if (p->has_scid) {
		al_wb_init(&vw, v, sizeof(v));
		al_wb_be64(&vw, p->short_channel_id);
		al_tlv_write(&w, AL_PAYLOAD_SHORT_CHANNEL_ID, v, vw.len);
	}
	if (p->has_payment_data) {
		al_wb_init(&vw, v, sizeof(v));
		al_wb_bytes(&vw, p->payment_secret, 32);
		al_wb_tu64(&vw, p->total_msat);
		al_tlv_write(&w, AL_PAYLOAD_PAYMENT_DATA, v, vw.len);
	}
	if (p->metadata_len)
		al_tlv_write(&w, AL_PAYLOAD_PAYMENT_METADATA, p->metadata, p->metadata_len);
	if (p->has_keysend)
		al_tlv_write(&w, AL_PAYLOAD_KEYSEND_PREIMAGE, p->keysend_preimage, 32);
	*outlen = w.len;
	return w.err;
}
