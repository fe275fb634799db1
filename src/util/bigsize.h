/* BOLT #1 variable-length integers: BigSize and the truncated integers tu16/tu32/tu64.
 *
 * Readers work on an al_cur and share its sticky failure: a failed cursor yields 0
 * and keeps its first error. Writers append to an al_wb. */
#ifndef ALIGHT_UTIL_BIGSIZE_H
#define ALIGHT_UTIL_BIGSIZE_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

/* BOLT #1 Appendix A: "All values decoded with BigSize should be checked to ensure
 * they are minimally encoded." A non-minimal encoding fails the cursor with
 * AL_E_BIGSIZE_NONCANONICAL, a short one with AL_E_TRUNCATED. */
uint64_t al_cur_bigsize(al_cur *c);
void al_wb_bigsize(al_wb *w, uint64_t v);
/* Encoded length: 1, 3, 5 or 9. */
size_t al_bigsize_len(uint64_t v);

/* Truncated integers are only ever the final field of a TLV value, so a reader takes
 * every byte left in the cursor (0 to 2, 4 or 8 of them, big-endian).
 * BOLT #1: "Leading zeros in truncated integers MUST be omitted": a leading zero
 * byte fails the cursor with AL_E_TLV_NONMINIMAL; more bytes than the type holds
 * fail it with AL_E_TLV_VALUE_LENGTH. */
uint16_t al_cur_tu16(al_cur *c);
uint32_t al_cur_tu32(al_cur *c);
uint64_t al_cur_tu64(al_cur *c);
/* Write the minimal encoding (no bytes at all for 0). */
void al_wb_tu16(al_wb *w, uint16_t v);
void al_wb_tu32(al_wb *w, uint32_t v);
void al_wb_tu64(al_wb *w, uint64_t v);
/* Length of the minimal encoding: 0 to 8. */
size_t al_tu64_len(uint64_t v);

#endif
