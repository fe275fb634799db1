/* A small JSON writer over an al_wb: no allocation, output bounded by the buffer. The
 * writer's sticky error (AL_E_BUFSIZE) tells whether everything fitted. */
#ifndef ALIGHTD_JSONW_H
#define ALIGHTD_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

/* Raw text, written as is (punctuation, literals). */
void jw_raw(al_wb *w, const char *s);
/* A JSON string: quoted, with '"', '\\' and control characters escaped. */
void jw_str(al_wb *w, const char *s);
void jw_strn(al_wb *w, const char *s, size_t n);
/* Bytes as a quoted lower-case hex string. */
void jw_hex(al_wb *w, const uint8_t *p, size_t n);
void jw_u64(al_wb *w, uint64_t v);
/* "key": (with a leading comma unless `first`). */
void jw_key(al_wb *w, const char *key, int first);

#endif
