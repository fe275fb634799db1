/* BigSize and truncated integers (src/util/bigsize.h): every encoding boundary,
 * canonical and non-canonical forms, every truncation, sticky failure, and oversized
 * truncated integers. The BOLT #1 vectors themselves run in vec_bolt01. */
#include <string.h>

#include "test.h"
#include "util/bigsize.h"

static const uint64_t boundaries[] = {
    0,
    1,
    0xfc,
    0xfd,
    0xfe,
    0xff,
    0x100,
    0xfffe,
    0xffff,
    0x10000,
    0x10001,
    0xfffffffeULL,
    0xffffffffULL,
    0x100000000ULL,
    0x100000001ULL,
    0x7fffffffffffffffULL,
    UINT64_MAX - 1,
    UINT64_MAX,
};

static void test_roundtrip(void)
{
	size_t i, k;

	for (i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
		uint64_t v = boundaries[i];
		uint8_t buf[9];
		size_t want = v < 0xfd ? 1 : v < 0x10000 ? 3 : v < 0x100000000ULL ? 5 : 9;
		al_wb w;
		al_cur c;

		al_wb_init(&w, buf, sizeof(buf));
		al_wb_bigsize(&w, v);
		CHECK(al_wb_ok(&w));
		CHECK(w.len == want);
		CHECK(al_bigsize_len(v) == want);
		al_cur_init(&c, buf, w.len);
		CHECK(al_cur_bigsize(&c) == v);
		CHECK_OK(al_cur_done(&c));
		/* Every shorter prefix is a truncation. */
		for (k = 0; k < w.len; k++) {
			al_cur_init(&c, buf, k);
			CHECK(al_cur_bigsize(&c) == 0);
			CHECK_ERR(al_cur_done(&c), AL_E_TRUNCATED);
		}
		/* A writer one byte short fails but still counts. */
		al_wb_init(&w, buf, want - 1);
		al_wb_bigsize(&w, v);
		CHECK_ERR(w.err, AL_E_BUFSIZE);
		CHECK(w.len == want);
	}
}

/* Encode v with an explicit prefix and width, bypassing the minimal writer. */
static size_t force(uint8_t *buf, uint8_t prefix, int width, uint64_t v)
{
	int i;

	buf[0] = prefix;
	for (i = 0; i < width; i++)
		buf[1 + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	return 1 + (size_t)width;
}

static void check_noncanonical(uint8_t prefix, int width, uint64_t v)
{
	uint8_t buf[9];
	size_t n = force(buf, prefix, width, v);
	al_cur c;

	al_cur_init(&c, buf, n);
	CHECK(al_cur_bigsize(&c) == 0);
	CHECK_ERR(al_cur_done(&c), AL_E_BIGSIZE_NONCANONICAL);
}

static void check_canonical(uint8_t prefix, int width, uint64_t v)
{
	uint8_t buf[9];
	size_t n = force(buf, prefix, width, v);
	al_cur c;

	al_cur_init(&c, buf, n);
	CHECK(al_cur_bigsize(&c) == v);
	CHECK_OK(al_cur_done(&c));
}

static void test_canonical_boundaries(void)
{
	/* 0xfd form: values below 0xfd are not minimal. */
	check_noncanonical(0xfd, 2, 0);
	check_noncanonical(0xfd, 2, 0xfc);
	check_canonical(0xfd, 2, 0xfd);
	check_canonical(0xfd, 2, 0xffff);
	/* 0xfe form: values below 0x10000. */
	check_noncanonical(0xfe, 4, 0);
	check_noncanonical(0xfe, 4, 0xfc);
	check_noncanonical(0xfe, 4, 0xfd);
	check_noncanonical(0xfe, 4, 0xffff);
	check_canonical(0xfe, 4, 0x10000);
	check_canonical(0xfe, 4, 0xffffffffULL);
	/* 0xff form: values below 2^32. */
	check_noncanonical(0xff, 8, 0);
	check_noncanonical(0xff, 8, 0xfc);
	check_noncanonical(0xff, 8, 0xffff);
	check_noncanonical(0xff, 8, 0xffffffffULL);
	check_canonical(0xff, 8, 0x100000000ULL);
	check_canonical(0xff, 8, UINT64_MAX);
}

static void test_big_endian_not_compactsize(void)
{
	/* BigSize is big-endian: fd 01 00 is 256 (CompactSize would read 1). */
	static const uint8_t b[] = {0xfd, 0x01, 0x00};
	al_cur c;

	al_cur_init(&c, b, sizeof(b));
	CHECK(al_cur_bigsize(&c) == 256);
	CHECK_OK(al_cur_done(&c));
}

static void test_sticky(void)
{
	static const uint8_t b[] = {0xfd, 0x00, 0x01, 0x05, 0x06};
	al_cur c;

	al_cur_init(&c, b, sizeof(b));
	CHECK(al_cur_bigsize(&c) == 0);
	/* The failed cursor reads nothing more and keeps its first error. */
	CHECK(al_cur_bigsize(&c) == 0);
	CHECK(al_cur_u8(&c) == 0);
	CHECK_ERR(al_cur_done(&c), AL_E_BIGSIZE_NONCANONICAL);
	/* A cursor failed earlier yields zero without reading. */
	al_cur_init(&c, b + 3, 2);
	al_cur_fail(&c, AL_E_RANGE);
	CHECK(al_cur_bigsize(&c) == 0);
	CHECK_ERR(al_cur_done(&c), AL_E_RANGE);
}

static void test_tu_roundtrip(void)
{
	size_t i, n;

	for (i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
		uint64_t v = boundaries[i];
		uint8_t buf[8];
		al_wb w;
		al_cur c;

		al_wb_init(&w, buf, sizeof(buf));
		al_wb_tu64(&w, v);
		n = al_tu64_len(v);
		CHECK(al_wb_ok(&w) && w.len == n);
		CHECK(n == 0 || buf[0] != 0);
		al_cur_init(&c, buf, w.len);
		CHECK(al_cur_tu64(&c) == v);
		CHECK_OK(al_cur_done(&c));
		if (v <= UINT32_MAX) {
			al_cur_init(&c, buf, w.len);
			CHECK(al_cur_tu32(&c) == v);
			CHECK_OK(al_cur_done(&c));
			al_wb_init(&w, buf, sizeof(buf));
			al_wb_tu32(&w, (uint32_t)v);
			CHECK(w.len == n);
		}
		if (v <= UINT16_MAX) {
			al_cur_init(&c, buf, w.len);
			CHECK(al_cur_tu16(&c) == v);
			CHECK_OK(al_cur_done(&c));
			al_wb_init(&w, buf, sizeof(buf));
			al_wb_tu16(&w, (uint16_t)v);
			CHECK(w.len == n);
		}
	}
	CHECK(al_tu64_len(0) == 0);
	CHECK(al_tu64_len(0xff) == 1);
	CHECK(al_tu64_len(0x100) == 2);
	CHECK(al_tu64_len(UINT64_MAX) == 8);
}

static void test_tu_invalid(void)
{
	static const uint8_t zeros[9] = {0};
	static const uint8_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	size_t n;
	al_cur c;

	/* A leading zero is never minimal, whatever the length (including "00"). */
	for (n = 1; n <= 8; n++) {
		al_cur_init(&c, zeros, n);
		CHECK(al_cur_tu64(&c) == 0);
		CHECK_ERR(al_cur_done(&c), AL_E_TLV_NONMINIMAL);
	}
	/* More bytes than the type holds: the value's length is wrong. */
	al_cur_init(&c, ones, 9);
	CHECK(al_cur_tu64(&c) == 0);
	CHECK_ERR(al_cur_done(&c), AL_E_TLV_VALUE_LENGTH);
	al_cur_init(&c, ones, 5);
	CHECK(al_cur_tu32(&c) == 0);
	CHECK_ERR(al_cur_done(&c), AL_E_TLV_VALUE_LENGTH);
	al_cur_init(&c, ones, 3);
	CHECK(al_cur_tu16(&c) == 0);
	CHECK_ERR(al_cur_done(&c), AL_E_TLV_VALUE_LENGTH);
	/* Largest accepted of each. */
	al_cur_init(&c, ones, 2);
	CHECK(al_cur_tu16(&c) == 0x0101);
	CHECK_OK(al_cur_done(&c));
	al_cur_init(&c, ones, 4);
	CHECK(al_cur_tu32(&c) == 0x01010101);
	CHECK_OK(al_cur_done(&c));
	/* Empty is zero. */
	al_cur_init(&c, NULL, 0);
	CHECK(al_cur_tu64(&c) == 0);
	CHECK_OK(al_cur_done(&c));
	/* A failed cursor stays failed. */
	al_cur_init(&c, ones, 1);
	al_cur_fail(&c, AL_E_RANGE);
	CHECK(al_cur_tu64(&c) == 0);
	CHECK_ERR(al_cur_done(&c), AL_E_RANGE);
}

int main(void)
{
	test_roundtrip();
	test_canonical_boundaries();
	test_big_endian_not_compactsize();
	test_sticky();
	test_tu_roundtrip();
	test_tu_invalid();
	return al_t_finish();
}
