/* TLV streams (src/util/tlv.h): the iterator's rules, the table decoder's error
 * mapping, the encoder's ordering and sizing, every truncation of a valid stream and
 * oversized lengths. */
#include <string.h>

#include "bolt01_ns.h"
#include "test.h"
#include "util/bigsize.h"
#include "util/tlv.h"

static void test_iter(void)
{
	/* 01 00 | 03 02 aabb | fd0101 01 cc */
	static const uint8_t s[] = {0x01, 0x00, 0x03, 0x02, 0xaa, 0xbb,
	                            0xfd, 0x01, 0x01, 0x01, 0xcc};
	al_tlv_iter it;
	al_tlv_rec r;

	al_tlv_iter_init(&it, s, sizeof(s));
	CHECK(al_tlv_next(&it, &r) && r.type == 1 && r.len == 0);
	CHECK(al_tlv_next(&it, &r) && r.type == 3 && r.len == 2 && r.value == s + 4);
	CHECK(al_tlv_next(&it, &r) && r.type == 0x101 && r.len == 1 && r.value[0] == 0xcc);
	CHECK(!al_tlv_next(&it, &r));
	CHECK_OK(al_tlv_iter_err(&it));
	/* The end is sticky too. */
	CHECK(!al_tlv_next(&it, &r));
	CHECK_OK(al_tlv_iter_err(&it));

	/* An empty stream is valid and has no records. */
	al_tlv_iter_init(&it, NULL, 0);
	CHECK(!al_tlv_next(&it, &r));
	CHECK_OK(al_tlv_iter_err(&it));
}

static al_err iter_error(const uint8_t *s, size_t len)
{
	al_tlv_iter it;
	al_tlv_rec r;

	al_tlv_iter_init(&it, s, len);
	while (al_tlv_next(&it, &r))
		;
	CHECK(r.type == 0 && r.value == NULL && r.len == 0);
	return al_tlv_iter_err(&it);
}

static void test_iter_errors(void)
{
	static const uint8_t order[] = {0x03, 0x00, 0x01, 0x00};
	static const uint8_t dup[] = {0x03, 0x00, 0x03, 0x00};
	static const uint8_t zero_then_zero[] = {0x00, 0x00, 0x00, 0x00};
	static const uint8_t max_then_zero[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                        0xff, 0xff, 0xff, 0x00, 0x00, 0x00};
	/* Length 2^64 - 1: must not wrap when compared with what remains. */
	static const uint8_t huge[] = {0x01, 0xff, 0xff, 0xff, 0xff, 0xff,
	                               0xff, 0xff, 0xff, 0xff, 0x00};
	static const uint8_t over_by_one[] = {0x01, 0x03, 0xaa, 0xbb};
	static const uint8_t nonmin_len[] = {0x01, 0xfe, 0x00, 0x00, 0x00, 0x01, 0xaa};

	CHECK_ERR(iter_error(order, sizeof(order)), AL_E_TLV_ORDER);
	CHECK_ERR(iter_error(dup, sizeof(dup)), AL_E_TLV_ORDER);
	/* Type 0 is a valid first type, but a second type 0 is a duplicate. */
	CHECK_ERR(iter_error(zero_then_zero, 2), AL_OK);
	CHECK_ERR(iter_error(zero_then_zero, sizeof(zero_then_zero)), AL_E_TLV_ORDER);
	CHECK_ERR(iter_error(max_then_zero, 10), AL_OK);
	CHECK_ERR(iter_error(max_then_zero, sizeof(max_then_zero)), AL_E_TLV_ORDER);
	CHECK_ERR(iter_error(huge, sizeof(huge)), AL_E_TLV_LENGTH);
	CHECK_ERR(iter_error(over_by_one, sizeof(over_by_one)), AL_E_TLV_LENGTH);
	CHECK_ERR(iter_error(nonmin_len, sizeof(nonmin_len)), AL_E_BIGSIZE_NONCANONICAL);
}

/* Every prefix of a valid stream either ends on a record boundary (valid) or fails
 * with a truncation error. */
static void test_every_truncation(void)
{
	static const uint8_t s[] = {0x01, 0x02, 0x01, 0x00, 0xfd, 0x01, 0x01, 0xfd, 0x01,
	                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	size_t k;
	uint8_t big[0x10 + 0x100 + 7];

	for (k = 0; k <= sizeof(s); k++) {
		al_err e = iter_error(s, k);
		/* Records: [0, 4) then type [4, 7), length [7, 10), value from 10. */
		if (k == 0 || k == 4)
			CHECK_OK(e);
		else if (k == 1 || (k >= 5 && k <= 9))
			CHECK_ERR(e, AL_E_TRUNCATED);
		else
			CHECK_ERR(e, AL_E_TLV_LENGTH);
	}
	/* With the full 0x100-byte value it is valid; one byte less is not. */
	memset(big, 0, sizeof(big));
	memcpy(big, s, 10);
	CHECK_OK(iter_error(big, 10 + 0x100));
	CHECK_ERR(iter_error(big, 10 + 0xff), AL_E_TLV_LENGTH);
}

/* A small namespace: 2 (u32 "a"), 5 (tu64 "b"), 8 (bytes, decoder fails on 0xee). */
struct ns {
	bool has_a, has_b, has_c;
	uint32_t a;
	uint64_t b;
	uint8_t c[4];
	size_t clen;
	int calls; /* encoder calls, to catch a nondeterministic one */
	bool flaky;
};

static al_err a_dec(void *ctx, al_cur *c)
{
	struct ns *m = ctx;
	m->a = al_cur_be32(c);
	m->has_a = true;
	return AL_OK;
}

static bool a_enc(const void *ctx, al_wb *w)
{
	const struct ns *m = ctx;
	if (!m->has_a)
		return false;
	al_wb_be32(w, m->a);
	return true;
}

static al_err b_dec(void *ctx, al_cur *c)
{
	struct ns *m = ctx;
	m->b = al_cur_tu64(c);
	m->has_b = true;
	return AL_OK;
}

static bool b_enc(const void *ctx, al_wb *w)
{
	struct ns *m = (struct ns *)ctx;
	if (!m->has_b)
		return false;
	/* A deliberately broken encoder writes a different length the second time. */
	if (m->flaky && m->calls++ == 1)
		al_wb_u8(w, 0xff);
	al_wb_tu64(w, m->b);
	return true;
}

static al_err c_dec(void *ctx, al_cur *c)
{
	struct ns *m = ctx;
	m->clen = al_cur_remaining(c);
	if (m->clen > sizeof(m->c))
		return AL_E_TLV_VALUE_LENGTH;
	al_cur_bytes(c, m->c, m->clen);
	if (m->clen && m->c[0] == 0xee)
		return AL_E_TLV_VALUE;
	m->has_c = true;
	return AL_OK;
}

static bool c_enc(const void *ctx, al_wb *w)
{
	const struct ns *m = ctx;
	if (!m->has_c)
		return false;
	al_wb_bytes(w, m->c, m->clen);
	return true;
}

static const al_tlv_type ns_types[] = {
    {2, a_dec, a_enc},
    {5, b_dec, b_enc},
    {8, c_dec, c_enc},
};
#define NS_N (sizeof(ns_types) / sizeof(ns_types[0]))

static al_err ns_decode(struct ns *m, const uint8_t *s, size_t len)
{
	memset(m, 0, sizeof(*m));
	return al_tlv_decode(ns_types, NS_N, m, s, len);
}

static void test_decode(void)
{
	static const uint8_t ok[] = {0x01, 0x01, 0x99, 0x02, 0x04, 0xde, 0xad,
	                             0xbe, 0xef, 0x05, 0x02, 0x01, 0x00, 0x07,
	                             0x00, 0x08, 0x02, 0x12, 0x34, 0x09, 0x00};
	static const uint8_t a_short[] = {0x02, 0x03, 0x00, 0x00, 0x01};
	static const uint8_t a_long[] = {0x02, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00};
	static const uint8_t b_nonmin[] = {0x05, 0x02, 0x00, 0x01};
	static const uint8_t c_bad[] = {0x08, 0x01, 0xee};
	static const uint8_t c_long[] = {0x08, 0x05, 1, 2, 3, 4, 5};
	static const uint8_t even[] = {0x04, 0x00};
	static const uint8_t even_big[] = {0xfe, 0x00, 0x01, 0x00, 0x00, 0x00};
	static const uint8_t odd_big[] = {0xfe, 0x00, 0x01, 0x00, 0x01, 0x01, 0x00};
	struct ns m;

	CHECK_OK(ns_decode(&m, ok, sizeof(ok)));
	CHECK(m.has_a && m.a == 0xdeadbeef);
	CHECK(m.has_b && m.b == 0x100);
	CHECK(m.has_c && m.clen == 2 && m.c[0] == 0x12 && m.c[1] == 0x34);
	CHECK_ERR(ns_decode(&m, a_short, sizeof(a_short)), AL_E_TLV_VALUE_LENGTH);
	CHECK_ERR(ns_decode(&m, a_long, sizeof(a_long)), AL_E_TLV_VALUE_LENGTH);
	CHECK_ERR(ns_decode(&m, b_nonmin, sizeof(b_nonmin)), AL_E_TLV_NONMINIMAL);
	CHECK_ERR(ns_decode(&m, c_bad, sizeof(c_bad)), AL_E_TLV_VALUE);
	CHECK_ERR(ns_decode(&m, c_long, sizeof(c_long)), AL_E_TLV_VALUE_LENGTH);
	CHECK_ERR(ns_decode(&m, even, sizeof(even)), AL_E_TLV_UNKNOWN_EVEN);
	CHECK_ERR(ns_decode(&m, even_big, sizeof(even_big)), AL_E_TLV_UNKNOWN_EVEN);
	CHECK_OK(ns_decode(&m, odd_big, sizeof(odd_big)));
	CHECK(!m.has_a && !m.has_b && !m.has_c);
	/* An empty table knows nothing: odd types pass, even ones fail. */
	CHECK_OK(al_tlv_decode(NULL, 0, NULL, odd_big, sizeof(odd_big)));
	CHECK_ERR(al_tlv_decode(NULL, 0, NULL, even, sizeof(even)), AL_E_TLV_UNKNOWN_EVEN);
	/* Truncating the valid stream anywhere inside a record fails. */
	{
		size_t k;
		int fails = 0;
		for (k = 0; k < sizeof(ok); k++)
			fails += ns_decode(&m, ok, k) != AL_OK;
		/* Boundaries at 0, 3, 9, 13, 15, 19: six prefixes decode. */
		CHECK(fails == (int)sizeof(ok) - 6);
	}
}

static void test_encode(void)
{
	struct ns m;
	uint8_t buf[64];
	static const uint8_t want[] = {0x02, 0x04, 0x00, 0x00, 0x00, 0x07,
	                               0x05, 0x00, 0x08, 0x01, 0xab};
	static const al_tlv_type unsorted[] = {{5, b_dec, b_enc}, {2, a_dec, a_enc}};
	static const al_tlv_type dup[] = {{2, a_dec, a_enc}, {2, a_dec, a_enc}};
	al_wb w;
	size_t k;

	memset(&m, 0, sizeof(m));
	m.has_a = true;
	m.a = 7;
	m.has_b = true;
	m.b = 0; /* tu64 zero: an empty value */
	m.has_c = true;
	m.c[0] = 0xab;
	m.clen = 1;
	al_wb_init(&w, buf, sizeof(buf));
	al_tlv_encode(&w, ns_types, NS_N, &m);
	CHECK_OK(w.err);
	CHECK(w.len == sizeof(want));
	CHECK_MEM(buf, want, sizeof(want));
	/* Dry run sizing, and every too-small buffer fails with the right size. */
	al_wb_init(&w, NULL, 0);
	al_tlv_encode(&w, ns_types, NS_N, &m);
	CHECK(w.len == sizeof(want));
	for (k = 0; k < sizeof(want); k++) {
		al_wb_init(&w, buf, k);
		al_tlv_encode(&w, ns_types, NS_N, &m);
		CHECK_ERR(w.err, AL_E_BUFSIZE);
		CHECK(w.len == sizeof(want));
	}
	/* The encoding decodes back to the same values. */
	{
		struct ns back;
		CHECK_OK(ns_decode(&back, want, sizeof(want)));
		CHECK(back.has_a && back.a == 7 && back.has_b && back.b == 0 && back.has_c &&
		      back.clen == 1 && back.c[0] == 0xab);
	}
	/* Unsorted or duplicate tables are refused. */
	al_wb_init(&w, buf, sizeof(buf));
	al_tlv_encode(&w, unsorted, 2, &m);
	CHECK_ERR(w.err, AL_E_TLV_ORDER);
	al_wb_init(&w, buf, sizeof(buf));
	al_tlv_encode(&w, dup, 2, &m);
	CHECK_ERR(w.err, AL_E_TLV_ORDER);
	/* An encoder that writes different bytes when sizing and writing is caught. */
	m.flaky = true;
	m.calls = 0;
	al_wb_init(&w, buf, sizeof(buf));
	al_tlv_encode(&w, ns_types, NS_N, &m);
	CHECK_ERR(w.err, AL_E_ARG);
	/* Nothing present: nothing written. */
	memset(&m, 0, sizeof(m));
	al_wb_init(&w, buf, sizeof(buf));
	al_tlv_encode(&w, ns_types, NS_N, &m);
	CHECK(al_wb_ok(&w) && w.len == 0);
}

static void test_write_raw(void)
{
	uint8_t buf[16], val[300];
	al_wb w;
	al_cur c;

	memset(val, 0x5a, sizeof(val));
	al_wb_init(&w, buf, sizeof(buf));
	al_tlv_write(&w, 0x10000, "x", 1);
	CHECK(al_wb_ok(&w) && w.len == 5 + 1 + 1);
	al_cur_init(&c, buf, w.len);
	CHECK(al_cur_bigsize(&c) == 0x10000);
	CHECK(al_cur_bigsize(&c) == 1);
	CHECK(al_cur_u8(&c) == 'x');
	CHECK_OK(al_cur_done(&c));
	/* A 300-byte value needs a 3-byte length. */
	al_wb_init(&w, NULL, 0);
	al_tlv_write(&w, 1, val, sizeof(val));
	CHECK(w.len == 1 + 3 + 300);
}

/* n1 with a valid point and an invalid one, outside the vector file. */
static void test_n1_point(void)
{
	struct al_t_n1 m;
	uint8_t s[2 + 49];
	al_privkey k;
	al_wb w;
	uint8_t out[64];

	memset(&k, 0, sizeof(k));
	k.k[31] = 1;
	memset(&m, 0, sizeof(m));
	m.secp = al_t_secp();
	m.has_tlv3 = true;
	CHECK_OK(al_pubkey_from_privkey(m.secp, &m.node_id, &k));
	m.amount_msat_1 = 1;
	m.amount_msat_2 = UINT64_MAX;
	al_wb_init(&w, s, sizeof(s));
	al_t_n1_encode(&w, &m);
	CHECK(al_wb_ok(&w) && w.len == sizeof(s));
	CHECK_OK(al_t_n1_decode(&m, al_t_secp(), s, sizeof(s)));
	CHECK(m.has_tlv3 && m.amount_msat_2 == UINT64_MAX);
	al_wb_init(&w, out, sizeof(out));
	al_t_n1_encode(&w, &m);
	CHECK(w.len == sizeof(s) && memcmp(out, s, sizeof(s)) == 0);
	/* x = 0 is not on the curve. */
	memset(s + 3, 0, 32);
	CHECK_ERR(al_t_n1_decode(&m, al_t_secp(), s, sizeof(s)), AL_E_PUBKEY);
}

int main(void)
{
	test_iter();
	test_iter_errors();
	test_every_truncation();
	test_decode();
	test_encode();
	test_write_raw();
	test_n1_point();
	return al_t_finish();
}
