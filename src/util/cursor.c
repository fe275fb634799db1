#include "util/cursor.h"

#include <string.h>

void al_cur_init(al_cur *c, const void *data, size_t len)
{
	c->p = data;
	c->len = data ? len : 0;
	c->err = AL_OK;
}

void al_cur_fail(al_cur *c, al_err e)
{
	if (c->err == AL_OK)
		c->err = (e == AL_OK) ? AL_E_ARG : e;
	c->p = NULL;
	c->len = 0;
}

bool al_cur_ok(const al_cur *c)
{
	return c->err == AL_OK;
}

size_t al_cur_remaining(const al_cur *c)
{
	return c->len;
}

al_err al_cur_done(const al_cur *c)
{
	if (c->err != AL_OK)
		return c->err;
	return c->len ? AL_E_TRAILING : AL_OK;
}

const uint8_t *al_cur_ptr(al_cur *c, size_t n)
{
	const uint8_t *p;

	if (c->err != AL_OK)
		return NULL;
	if (n > c->len) {
		al_cur_fail(c, AL_E_TRUNCATED);
		return NULL;
	}
	p = c->p;
	/* Never offset a NULL pointer, even by zero (undefined behaviour in C). */
	if (n) {
		c->p += n;
		c->len -= n;
	}
	return p;
}

void al_cur_bytes(al_cur *c, void *out, size_t n)
{
	const uint8_t *p = al_cur_ptr(c, n);

	if (p)
		memcpy(out, p, n);
	else if (n)
		memset(out, 0, n);
}

void al_cur_skip(al_cur *c, size_t n)
{
	(void)al_cur_ptr(c, n);
}

uint8_t al_cur_u8(al_cur *c)
{
	const uint8_t *p = al_cur_ptr(c, 1);
	return p ? p[0] : 0;
}

uint16_t al_cur_be16(al_cur *c)
{
	const uint8_t *p = al_cur_ptr(c, 2);
	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t al_cur_be32(al_cur *c)
{
	const uint8_t *p = al_cur_ptr(c, 4);
	return p ? al_read_be32(p) : 0;
}

uint64_t al_cur_be64(al_cur *c)
{
	const uint8_t *p = al_cur_ptr(c, 8);
	return p ? al_read_be64(p) : 0;
}

uint16_t al_cur_le16(al_cur *c)
{
	const uint8_t *p = al_cur_ptr(c, 2);
	return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

uint32_t al_cur_le32(al_cur *c)
{
	const uint8_t *p = al_cur_ptr(c, 4);
	return p ? al_read_le32(p) : 0;
}

uint64_t al_cur_le64(al_cur *c)
{
	const uint8_t *p = al_cur_ptr(c, 8);
	return p ? al_read_le64(p) : 0;
}

uint64_t al_cur_compactsize(al_cur *c)
{
	uint8_t first = al_cur_u8(c);
	uint64_t v;

	switch (first) {
	case 0xfd:
		v = al_cur_le16(c);
		if (v < 0xfd)
			goto noncanonical;
		return v;
	case 0xfe:
		v = al_cur_le32(c);
		if (v < 0x10000)
			goto noncanonical;
		return v;
	case 0xff:
		v = al_cur_le64(c);
		if (v < 0x100000000ULL)
			goto noncanonical;
		return v;
	default:
		return first;
	}
noncanonical:
	al_cur_fail(c, AL_E_TX_NONCANONICAL);
	return 0;
}

void al_wb_init(al_wb *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->err = AL_OK;
}

void al_wb_fail(al_wb *w, al_err e)
{
	if (w->err == AL_OK)
		w->err = (e == AL_OK) ? AL_E_ARG : e;
}

bool al_wb_ok(const al_wb *w)
{
	return w->err == AL_OK;
}

void al_wb_bytes(al_wb *w, const void *data, size_t n)
{
	if (n > SIZE_MAX - w->len) {
		al_wb_fail(w, AL_E_OVERFLOW);
		return;
	}
	if (w->err == AL_OK && n <= w->cap - w->len) {
		if (n)
			memcpy(w->p + w->len, data, n);
	} else {
		al_wb_fail(w, AL_E_BUFSIZE);
	}
	w->len += n;
}

void al_wb_u8(al_wb *w, uint8_t v)
{
	al_wb_bytes(w, &v, 1);
}

void al_wb_be16(al_wb *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	al_wb_bytes(w, b, 2);
}

void al_wb_be32(al_wb *w, uint32_t v)
{
	uint8_t b[4];
	al_write_be32(b, v);
	al_wb_bytes(w, b, 4);
}

void al_wb_be64(al_wb *w, uint64_t v)
{
	uint8_t b[8];
	al_write_be64(b, v);
	al_wb_bytes(w, b, 8);
}

void al_wb_le16(al_wb *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	al_wb_bytes(w, b, 2);
}

void al_wb_le32(al_wb *w, uint32_t v)
{
	uint8_t b[4];
	al_write_le32(b, v);
	al_wb_bytes(w, b, 4);
}

void al_wb_le64(al_wb *w, uint64_t v)
{
	uint8_t b[8];
	al_write_le64(b, v);
	al_wb_bytes(w, b, 8);
}

size_t al_compactsize_len(uint64_t v)
{
	if (v < 0xfd)
		return 1;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffffffULL)
		return 5;
	return 9;
}

void al_wb_compactsize(al_wb *w, uint64_t v)
{
	if (v < 0xfd) {
		al_wb_u8(w, (uint8_t)v);
	} else if (v <= 0xffff) {
		al_wb_u8(w, 0xfd);
		al_wb_le16(w, (uint16_t)v);
	} else if (v <= 0xffffffffULL) {
		al_wb_u8(w, 0xfe);
		al_wb_le32(w, (uint32_t)v);
	} else {
		al_wb_u8(w, 0xff);
		al_wb_le64(w, v);
	}
}

uint32_t al_read_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint64_t al_read_be64(const uint8_t *p)
{
	return ((uint64_t)al_read_be32(p) << 32) | al_read_be32(p + 4);
}

uint32_t al_read_le32(const uint8_t *p)
{
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

uint64_t al_read_le64(const uint8_t *p)
{
	return ((uint64_t)al_read_le32(p + 4) << 32) | al_read_le32(p);
}

void al_write_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void al_write_be64(uint8_t *p, uint64_t v)
{
	al_write_be32(p, (uint32_t)(v >> 32));
	al_write_be32(p + 4, (uint32_t)v);
}

void al_write_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void al_write_le64(uint8_t *p, uint64_t v)
{
	al_write_le32(p, (uint32_t)v);
	al_write_le32(p + 4, (uint32_t)(v >> 32));
}
