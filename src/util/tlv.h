/* BOLT #1 TLV streams: a zero-copy record iterator, a table-driven decoder and encoder.
 *
 * Nothing is allocated: records borrow the input, and a stream is described by a
 * caller's table of known types, each with a decoder (and optionally an encoder)
 * working on a caller's context, typically the struct of one message or payload:
 *
 *	static const al_tlv_type init_tlvs[] = {
 *		{1, networks_decode, networks_encode},
 *		{3, remote_addr_decode, remote_addr_encode},
 *	};
 *	err = al_tlv_decode(init_tlvs, 2, &msg, stream, len);
 *
 * Code that needs every record, unknown ones included (BOLT 12 copies and signs
 * them), walks the stream with al_tlv_next, which enforces all the rules that do not
 * depend on knowing the types. */
#ifndef ALIGHT_UTIL_TLV_H
#define ALIGHT_UTIL_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

/* One record, its value borrowed from the stream. */
typedef struct al_tlv_rec {
	uint64_t type;
	const uint8_t *value;
	size_t len;
} al_tlv_rec;

typedef struct al_tlv_iter {
	al_cur cur;
	uint64_t prev; /* type of the previous record, if any */
	bool started;
} al_tlv_iter;

void al_tlv_iter_init(al_tlv_iter *it, const void *stream, size_t len);
/* The next record: true with *rec filled in; false at the end of the stream or on
 * failure (then *rec is zeroed, and al_tlv_iter_err tells which). Failures:
 * AL_E_TRUNCATED (type or length cut short), AL_E_BIGSIZE_NONCANONICAL,
 * AL_E_TLV_ORDER (types not strictly increasing), AL_E_TLV_LENGTH (length exceeds
 * the rest of the stream). */
bool al_tlv_next(al_tlv_iter *it, al_tlv_rec *rec);
/* AL_OK while the stream is intact, including after its end. */
al_err al_tlv_iter_err(const al_tlv_iter *it);

/* A known type. `decode` reads the value from a cursor over exactly the record's
 * bytes into `ctx`; it may fail the cursor or return an error. `encode` (NULL for a
 * decode-only table) writes the value held in `ctx` and returns true, or returns
 * false, writing nothing, when `ctx` has no such record. It is called twice per
 * record (once to size it) and must write the same bytes both times. */
typedef struct al_tlv_type {
	uint64_t type;
	al_err (*decode)(void *ctx, al_cur *value);
	bool (*encode)(const void *ctx, al_wb *w);
} al_tlv_type;

/* Decode a whole stream against `types` (n entries). Besides the iterator's errors:
 * AL_E_TLV_UNKNOWN_EVEN for an unknown even type, AL_E_TLV_VALUE_LENGTH when a known
 * value is shorter or longer than its encoding, or the decoder's own error. Unknown
 * odd records are skipped. On failure `ctx` may hold partial results. */
AL_WARN_UNUSED al_err al_tlv_decode(const al_tlv_type *types, size_t n, void *ctx,
                                    const void *stream, size_t len);

/* Write one record as is (type, length, value); the caller keeps the order. */
void al_tlv_write(al_wb *w, uint64_t type, const void *value, size_t len);
/* Write every record `ctx` holds, in table order. The table must be sorted by
 * strictly increasing type (otherwise w fails with AL_E_TLV_ORDER), which makes the
 * output canonical. */
void al_tlv_encode(al_wb *w, const al_tlv_type *types, size_t n, const void *ctx);

#endif
