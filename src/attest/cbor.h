/* A strict, bounded CBOR reader (RFC 8949) for COSE (RFC 9052) and the TCG DICE
 * tagged-evidence extension, plus the few encoders COSE's Sig_structure needs.
 *
 * Accepted: well-formed items with definite lengths. Rejected: indefinite lengths,
 * reserved additional-information values (28..30), nesting deeper than 16, lengths
 * past the end of the input. Failure is sticky: after the first error every read
 * fails and al_cbor_err() names it (AL_E_ATT_CBOR, or AL_E_TRUNCATED). */
#ifndef ALIGHT_ATTEST_CBOR_H
#define ALIGHT_ATTEST_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/der.h"
#include "util/err.h"

enum {
	AL_CBOR_UINT = 0,
	AL_CBOR_NEGINT = 1,
	AL_CBOR_BSTR = 2,
	AL_CBOR_TSTR = 3,
	AL_CBOR_ARRAY = 4,
	AL_CBOR_MAP = 5,
	AL_CBOR_TAG = 6,
	AL_CBOR_SIMPLE = 7,
};

typedef struct al_cbor {
	const uint8_t *p;
	const uint8_t *end;
	al_err err;
} al_cbor;

void al_cbor_init(al_cbor *c, const uint8_t *data, size_t len);
al_err al_cbor_err(const al_cbor *c);
bool al_cbor_at_end(const al_cbor *c);
/* The major type of the next item without consuming it (-1 at the end or on error). */
int al_cbor_peek(const al_cbor *c);
/* Read an item head: its major type and argument (a length, count, tag or value). */
bool al_cbor_head(al_cbor *c, uint8_t *major, uint64_t *arg);
/* Read a head that must have major type `major`: its argument. */
bool al_cbor_expect(al_cbor *c, uint8_t major, uint64_t *arg);
bool al_cbor_bstr(al_cbor *c, al_att_blob *out);
bool al_cbor_tstr(al_cbor *c, al_att_blob *out);
/* An integer (major 0 or 1) that fits an int64_t. */
bool al_cbor_int(al_cbor *c, int64_t *out);
/* Skip one complete item, however nested (up to the depth bound). */
bool al_cbor_skip(al_cbor *c);
/* Equal to the text string `s`? */
bool al_cbor_tstr_is(al_att_blob t, const char *s);

/* Encode an item head into out[0..9); returns its length. */
size_t al_cbor_put_head(uint8_t *out, uint8_t major, uint64_t arg);

#endif
