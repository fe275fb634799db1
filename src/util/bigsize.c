#include "util/bigsize.h"

/* BOLT #1 Appendix A:
 *         uint8(x)                if x < 0xfd
 *         0xfd + be16(uint16(x))  if x < 0x10000
 *         0xfe + be32(uint32(x))  if x < 0x100000000
 *         0xff + be64(x)          otherwise. */
uint64_t al_cur_bigsize(al_cur *c)
{
	uint8_t first = al_cur_u8(c);
	uint64_t v, min;

	switch (first) {
	case 0xfd:
		v = al_cur_be16(c);
		min = 0xfd;
		break;
	case 0xfe:
		v = al_cur_be32(c);
		min = 0x10000;
		break;
	case 0xff:
		v = al_cur_be64(c);
		min = 0x100000000ULL;
		break;
	default:
		return first;
	}
	if (!al_cur_ok(c))
		return 0;
	/* "A value is said to be minimally encoded if it could not be encoded using
	 * fewer bytes." */
	if (v < min) {
		al_cur_fail(c, AL_E_BIGSIZE_NONCANONICAL);
		return 0;
	}
	return v;
}

size_t al_bigsize_len(uint64_t v)
{
	if (v < 0xfd)
		return 1;
	if (v < 0x10000)
		return 3;
	if (v < 0x100000000ULL)
		return 5;
	return 9;
}

void al_wb_bigsize(al_wb *w, uint64_t v)
{
	if (v < 0xfd) {
		al_wb_u8(w, (uint8_t)v);
	} else if (v < 0x10000) {
		al_wb_u8(w, 0xfd);
		al_wb_be16(w, (uint16_t)v);
	} else if (v < 0x100000000ULL) {
		al_wb_u8(w, 0xfe);
		al_wb_be32(w, (uint32_t)v);
	} else {
		al_wb_u8(w, 0xff);
		al_wb_be64(w, v);
	}
}

/* Read the rest of the cursor as a truncated integer of at most `max` bytes. */
static uint64_t cur_tu(al_cur *c, size_t max)
{
	size_t n = al_cur_remaining(c), i;
	const uint8_t *p;
	uint64_t v = 0;

	if (!al_cur_ok(c))
		return 0;
	if (n > max) {
		al_cur_fail(c, AL_E_TLV_VALUE_LENGTH);
		return 0;
	}
	if (n == 0)
		return 0;
	p = al_cur_ptr(c, n);
	/* BOLT #1: "Leading zeros in truncated integers MUST be omitted". */
	if (p[0] == 0) {
		al_cur_fail(c, AL_E_TLV_NONMINIMAL);
		return 0;
	}
	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

uint16_t al_cur_tu16(al_cur *c)
{
	return (uint16_t)cur_tu(c, 2);
}

uint32_t al_cur_tu32(al_cur *c)
{
	return (uint32_t)cur_tu(c, 4);
}

uint64_t al_cur_tu64(al_cur *c)
{
	return cur_tu(c, 8);
}

size_t al_tu64_len(uint64_t v)
{
	size_t n = 0;

	while (v) {
		n++;
		v >>= 8;
	}
	return n;
}

void al_wb_tu64(al_wb *w, uint64_t v)
{
	size_t n = al_tu64_len(v), i;
	uint8_t b[8];

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	al_wb_bytes(w, b, n);
}

void al_wb_tu16(al_wb *w, uint16_t v)
{
	al_wb_tu64(w, v);
}

void al_wb_tu32(al_wb *w, uint32_t v)
{
	al_wb_tu64(w, v);
}
