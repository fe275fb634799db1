/* Hexadecimal encoding into caller buffers. */
#ifndef ALIGHT_UTIL_HEX_H
#define ALIGHT_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Decode `hexlen` characters (either case) into exactly hexlen/2 bytes at `out`
 * (`outcap` bytes available). *outlen gets the decoded length. Odd length or a
 * non-hex character: AL_E_HEX. */
AL_WARN_UNUSED al_err al_hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *hex,
                                    size_t hexlen);
/* Decode a NUL-terminated string that must yield exactly `len` bytes. */
AL_WARN_UNUSED al_err al_hex_decode_exact(uint8_t *out, size_t len, const char *hex);
/* Encode `len` bytes as lower-case hex plus NUL; `outcap` must be >= 2*len+1. */
AL_WARN_UNUSED al_err al_hex_encode(char *out, size_t outcap, const uint8_t *data, size_t len);

#endif
