/* BOLT #1 and #2 messages: every generated decoder (wire/bolt.csv and the
 * generator's test schema wire/test.csv) and al_wire_read.
 *
 * The first input byte picks a message type (see kind(): every type of both schemas;
 * anything past them sends the rest through al_wire_read as is); the rest is that
 * message's body after its type.
 * Decoding must not crash and must fail with a wire, TLV or truncation error.
 *
 * What a successful decode must reproduce: the canonical form of the input, which
 * is the input minus every TLV record in its extension that the message does not
 * define (unknown odd records are skipped; all of a stream-less message's extension
 * goes). So the re-encoding is the input's known fields byte for byte, followed by
 * the input's known records in order; decoding the re-encoding gives it again. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ln/wire.h"
#include "ln/wire_test_gen.h"
#include "util/tlv.h"

/* The test schema is not part of the core library: compile it here. */
#include "ln/wire_test_gen.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 70000

union any {
	union al_wire_any bolt;
	union al_wtest_any test;
};

/* Index i of every message type: the BOLT #1 five of wire/bolt.csv, the test
 * schema's first two (the corpus's original seven kinds keep their numbers), then
 * the rest of bolt.csv, then the rest of test.csv. False past the end. */
static bool kind(size_t i, uint16_t *type)
{
	if (i < 5) {
		*type = al_wire_msgtypes[i];
		return true;
	}
	if (i < 7) {
		*type = al_wtest_msgtypes[i - 5];
		return true;
	}
	i -= 2;
	if (i < al_wire_n_msgtypes) {
		*type = al_wire_msgtypes[i];
		return true;
	}
	i -= al_wire_n_msgtypes - 2;
	if (i < al_wtest_n_msgtypes) {
		*type = al_wtest_msgtypes[i];
		return true;
	}
	return false;
}

static bool expected_err(al_err e)
{
	switch (e) {
	case AL_E_TRUNCATED:
	case AL_E_BIGSIZE_NONCANONICAL:
	case AL_E_TLV_ORDER:
	case AL_E_TLV_LENGTH:
	case AL_E_TLV_UNKNOWN_EVEN:
	case AL_E_TLV_VALUE_LENGTH:
	case AL_E_TLV_NONMINIMAL:
	case AL_E_WIRE_TOO_SHORT:
	case AL_E_WIRE_UNKNOWN_EVEN:
		return true;
	default:
		return false;
	}
}

static al_err decode(union any *u, uint16_t type, const uint8_t *msg, size_t len)
{
	if (type >= 0x8000)
		return al_wtest_decode_any(&u->test, msg, len);
	return al_wire_decode_any(&u->bolt, msg, len);
}

static void encode(al_wb *w, uint16_t type, const union any *u)
{
	if (type >= 0x8000)
		al_wtest_write_any(w, type, &u->test);
	else
		al_wire_write_any(w, type, &u->bolt);
}

static bool known_record(uint16_t type, uint64_t rec)
{
	if (type >= 0x8000)
		return al_wtest_tlv_known(type, rec);
	return al_wire_tlv_known(type, rec);
}

/* Where the extension starts: the known fields' length. */
static size_t fixed_len(uint16_t type, const union any *u)
{
	if (type >= 0x8000)
		return al_wtest_fields_len(type, &u->test);
	return al_wire_fields_len(type, &u->bolt);
}

/* The canonical form of msg (see the top comment) into out; its length. */
static size_t canonical(uint8_t *out, uint16_t type, const uint8_t *msg, size_t len, size_t fixed)
{
	al_tlv_iter it;
	al_tlv_rec r;
	al_wb w;

	al_wb_init(&w, out, MAX);
	al_wb_bytes(&w, msg, fixed);
	al_tlv_iter_init(&it, msg + fixed, len - fixed);
	while (al_tlv_next(&it, &r))
		if (known_record(type, r.type))
			al_tlv_write(&w, r.type, r.value, r.len);
	if (al_tlv_iter_err(&it) != AL_OK || !al_wb_ok(&w))
		abort();
	return w.len;
}

static void check_roundtrip(uint16_t type, const union any *u, const uint8_t *msg, size_t len)
{
	static uint8_t out[MAX], again[MAX], canon[MAX];
	union any u2;
	size_t fixed, n;
	al_wb w;

	al_wb_init(&w, out, sizeof(out));
	encode(&w, type, u);
	if (!al_wb_ok(&w))
		abort();
	fixed = fixed_len(type, u);
	if (fixed > len || fixed > w.len)
		abort();
	n = canonical(canon, type, msg, len, fixed);
	if (n != w.len || memcmp(canon, out, n) != 0)
		abort();
	/* The canonical form is a fixed point. */
	if (decode(&u2, type, out, w.len) != AL_OK)
		abort();
	al_wb_init(&w, again, sizeof(again));
	encode(&w, type, &u2);
	if (!al_wb_ok(&w) || w.len != n || memcmp(again, out, n) != 0)
		abort();
}

/* Protocol logic on what decoded: a ping's reply, an init's acceptance. */
static void exercise(uint16_t type, const union any *u)
{
	static uint8_t pong[MAX];
	static const uint8_t chain[32];
	al_features local, neg;
	unsigned bad;
	bool reply;
	al_wb w;

	if (type == AL_WIRE_PING) {
		al_wb_init(&w, pong, sizeof(pong));
		if (al_wire_ping_reply(&w, &reply, &u->bolt.ping) != AL_OK ||
		    reply != (u->bolt.ping.num_pong_bytes < AL_WIRE_PONG_NO_REPLY))
			abort();
	} else if (type == AL_WIRE_INIT) {
		al_features_clear(&local);
		for (bad = 1; bad < 64; bad += 2)
			if (al_features_set(&local, bad) != AL_OK)
				abort();
		switch (al_wire_init_accept(&neg, &bad, &local, chain, &u->bolt.init)) {
		case AL_OK:
		case AL_E_WIRE_FEATURES:
		case AL_E_WIRE_FEATURE_DEPS:
		case AL_E_WIRE_CHAIN:
			break;
		default:
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[MAX];
	static union any u;
	static al_wire_msg m;
	uint16_t type;
	al_err e;

	if (size < 1 || size + 1 > AL_WIRE_MAX_MSG)
		return 0;
	if (!kind(data[0], &type)) {
		e = al_wire_read(&m, data + 1, size - 1);
		if (e != AL_OK && !expected_err(e))
			abort();
		return 0;
	}
	msg[0] = (uint8_t)(type >> 8);
	msg[1] = (uint8_t)type;
	memcpy(msg + 2, data + 1, size - 1);
	e = decode(&u, type, msg, size + 1);
	if (e != AL_OK) {
		if (!expected_err(e))
			abort();
		return 0;
	}
	check_roundtrip(type, &u, msg, size + 1);
	exercise(type, &u);
	return 0;
}
