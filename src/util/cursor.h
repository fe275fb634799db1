/* Byte cursors with sticky failure, after Core Lightning's fromwire/towire.
 *
 * Reading: every al_cur_* call on a failed cursor does nothing and yields zeroes, so
 * a whole structure is decoded and the error checked once at the end. The first
 * failure is kept (AL_E_TRUNCATED for an overrun, or whatever a caller passed to
 * al_cur_fail).
 *
 * Writing: an al_wb writes into a caller buffer; overflowing it makes the writer
 * fail with AL_E_BUFSIZE while still counting the bytes that would have been
 * written, so a caller can size a buffer with a dry run (buf == NULL, cap == 0). */
#ifndef ALIGHT_UTIL_CURSOR_H
#define ALIGHT_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct al_cur {
	const uint8_t *p;
	size_t len;
	al_err err;
} al_cur;

void al_cur_init(al_cur *c, const void *data, size_t len);
/* Fail the cursor with `e` unless it has failed already; it then reads as empty. */
void al_cur_fail(al_cur *c, al_err e);
bool al_cur_ok(const al_cur *c);
size_t al_cur_remaining(const al_cur *c);
/* AL_OK if the cursor is intact and fully consumed, AL_E_TRAILING if bytes remain,
 * otherwise the cursor's error. */
al_err al_cur_done(const al_cur *c);

uint8_t al_cur_u8(al_cur *c);
uint16_t al_cur_be16(al_cur *c);
uint32_t al_cur_be32(al_cur *c);
uint64_t al_cur_be64(al_cur *c);
uint16_t al_cur_le16(al_cur *c);
uint32_t al_cur_le32(al_cur *c);
uint64_t al_cur_le64(al_cur *c);
/* Copy n bytes out (zero-filled on failure). */
void al_cur_bytes(al_cur *c, void *out, size_t n);
/* Borrow n bytes without copying; NULL on failure. */
const uint8_t *al_cur_ptr(al_cur *c, size_t n);
void al_cur_skip(al_cur *c, size_t n);
/* Bitcoin CompactSize; non-minimal encodings fail with AL_E_TX_NONCANONICAL. */
uint64_t al_cur_compactsize(al_cur *c);

typedef struct al_wb {
	uint8_t *p;
	size_t cap;
	size_t len; /* bytes written, or that would have been */
	al_err err;
} al_wb;

void al_wb_init(al_wb *w, void *buf, size_t cap);
void al_wb_fail(al_wb *w, al_err e);
bool al_wb_ok(const al_wb *w);
void al_wb_u8(al_wb *w, uint8_t v);
void al_wb_be16(al_wb *w, uint16_t v);
void al_wb_be32(al_wb *w, uint32_t v);
void al_wb_be64(al_wb *w, uint64_t v);
void al_wb_le16(al_wb *w, uint16_t v);
void al_wb_le32(al_wb *w, uint32_t v);
void al_wb_le64(al_wb *w, uint64_t v);
void al_wb_bytes(al_wb *w, const void *data, size_t n);
void al_wb_compactsize(al_wb *w, uint64_t v);
size_t al_compactsize_len(uint64_t v);

/* Plain big/little-endian loads and stores for fixed buffers. */
uint32_t al_read_be32(const uint8_t *p);
uint64_t al_read_be64(const uint8_t *p);
uint32_t al_read_le32(const uint8_t *p);
uint64_t al_read_le64(const uint8_t *p);
void al_write_be32(uint8_t *p, uint32_t v);
void al_write_be64(uint8_t *p, uint64_t v);
void al_write_le32(uint8_t *p, uint32_t v);
void al_write_le64(uint8_t *p, uint64_t v);

#endif
