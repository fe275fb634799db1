#include "util/tlv.h"

#include <string.h>

#include "util/bigsize.h"

void al_tlv_iter_init(al_tlv_iter *it, const void *stream, size_t len)
{
	al_cur_init(&it->cur, stream, len);
	it->prev = 0;
	it->started = false;
}

al_err al_tlv_iter_err(const al_tlv_iter *it)
{
	return it->cur.err;
}

static bool iter_fail(al_tlv_iter *it, al_tlv_rec *rec, al_err e)
{
	al_cur_fail(&it->cur, e);
	memset(rec, 0, sizeof(*rec));
	return false;
}

bool al_tlv_next(al_tlv_iter *it, al_tlv_rec *rec)
{
	uint64_t type, len;

	memset(rec, 0, sizeof(*rec));
	/* BOLT #1: "if zero bytes remain before parsing a `type`: MUST stop parsing the
	 * `tlv_stream`." */
	if (!al_cur_ok(&it->cur) || al_cur_remaining(&it->cur) == 0)
		return false;
	/* "if a `type` or `length` is not minimally encoded: MUST fail to parse the
	 * `tlv_stream`." (al_cur_bigsize checks both, and truncation.) */
	type = al_cur_bigsize(&it->cur);
	if (!al_cur_ok(&it->cur))
		return iter_fail(it, rec, it->cur.err);
	/* "if decoded `type`s are not strictly-increasing (including situations when two
	 * or more occurrences of the same `type` are met): MUST fail to parse the
	 * `tlv_stream`." */
	if (it->started && type <= it->prev)
		return iter_fail(it, rec, AL_E_TLV_ORDER);
	len = al_cur_bigsize(&it->cur);
	if (!al_cur_ok(&it->cur))
		return iter_fail(it, rec, it->cur.err);
	/* "if `length` exceeds the number of bytes remaining in the message: MUST fail to
	 * parse the `tlv_stream`." */
	if (len > al_cur_remaining(&it->cur))
		return iter_fail(it, rec, AL_E_TLV_LENGTH);
	rec->type = type;
	rec->len = (size_t)len;
	rec->value = al_cur_ptr(&it->cur, rec->len);
	it->prev = type;
	it->started = true;
	return true;
}

static const al_tlv_type *find_type(const al_tlv_type *types, size_t n, uint64_t type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

static al_err decode_known(const al_tlv_type *t, void *ctx, const al_tlv_rec *rec)
{
	al_cur value;
	al_err err;

	/* "MUST decode the next `length` bytes using the known encoding for `type`." */
	al_cur_init(&value, rec->value, rec->len);
	err = t->decode(ctx, &value);
	if (err == AL_OK)
		err = al_cur_done(&value);
	/* "if `length` is not exactly equal to that required for the known encoding for
	 * `type`: MUST fail to parse the `tlv_stream`." The value cursor ends exactly at
	 * the record's end, so running past it or stopping short of it is this case. */
	if (err == AL_E_TRUNCATED || err == AL_E_TRAILING)
		err = AL_E_TLV_VALUE_LENGTH;
	return err;
}

al_err al_tlv_decode(const al_tlv_type *types, size_t n, void *ctx, const void *stream, size_t len)
{
	al_tlv_iter it;
	al_tlv_rec rec;
	const al_tlv_type *t;
	al_err err;

	al_tlv_iter_init(&it, stream, len);
	while (al_tlv_next(&it, &rec)) {
		t = find_type(types, n, rec.type);
		if (t && t->decode) {
			err = decode_known(t, ctx, &rec);
			if (err != AL_OK)
				return err;
		} else if (rec.type % 2 == 0) {
			/* "otherwise, if `type` is unknown: if `type` is even: MUST fail to
			 * parse the `tlv_stream`. otherwise, if `type` is odd: MUST discard
			 * the next `length` bytes." */
			return AL_E_TLV_UNKNOWN_EVEN;
		}
	}
	return al_tlv_iter_err(&it);
}

void al_tlv_write(al_wb *w, uint64_t type, const void *value, size_t len)
{
	/* BOLT #1: "MUST minimally encode `type` and `length`." */
	al_wb_bigsize(w, type);
	al_wb_bigsize(w, len);
	al_wb_bytes(w, value, len);
}

static void encode_one(al_wb *w, const al_tlv_type *t, const void *ctx)
{
	al_wb dry;
	size_t start;

	/* A dry run gives the value's length, which precedes it on the wire. */
	al_wb_init(&dry, NULL, 0);
	if (!t->encode(ctx, &dry))
		return;
	if (dry.err != AL_OK && dry.err != AL_E_BUFSIZE) {
		al_wb_fail(w, dry.err);
		return;
	}
	al_wb_bigsize(w, t->type);
	al_wb_bigsize(w, dry.len);
	start = w->len;
	(void)t->encode(ctx, w);
	if (w->len - start != dry.len)
		al_wb_fail(w, AL_E_ARG);
}

void al_tlv_encode(al_wb *w, const al_tlv_type *types, size_t n, const void *ctx)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* BOLT #1: "MUST order `tlv_record`s in a `tlv_stream` by
		 * strictly-increasing `type`". */
		if (i > 0 && types[i].type <= types[i - 1].type) {
			al_wb_fail(w, AL_E_TLV_ORDER);
			return;
		}
		if (types[i].encode)
			encode_one(w, &types[i], ctx);
	}
}
