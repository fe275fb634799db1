/* Base58 and Base58Check, as Bitcoin uses them for extended keys (BIP 32), WIF and
 * legacy addresses. Inputs are bounded (AL_B58_MAX_DATA bytes of data) so every
 * operation runs in fixed scratch space on the stack. An xprv is a secret, so no
 * branch or memory access depends on its digits: the big-number loops run over the
 * whole scratch buffer and characters are mapped by visiting the whole alphabet.
 * Only lengths, leading zero bytes and validity are public. */
#ifndef ALIGHT_BTC_BASE58_H
#define ALIGHT_BTC_BASE58_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Largest byte string handled (checksum included). */
#define AL_B58_MAX_DATA 128
/* Characters needed for AL_B58_MAX_DATA bytes: ceil(128 * log(256) / log(58)). */
#define AL_B58_MAX_STR 175

/* Encode `len` bytes plus NUL into `out` (`outcap` bytes). AL_E_TOO_LARGE above
 * AL_B58_MAX_DATA bytes, AL_E_BUFSIZE if the string does not fit. */
AL_WARN_UNUSED al_err al_b58_encode(char *out, size_t outcap, const uint8_t *data, size_t len);
/* Decode `len` characters (a NUL or any byte outside the alphabet is
 * AL_E_B58_CHAR). AL_E_TOO_LARGE for more than AL_B58_MAX_STR characters or a value
 * above AL_B58_MAX_DATA bytes, AL_E_BUFSIZE if the result exceeds `outcap`. */
AL_WARN_UNUSED al_err al_b58_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *str,
                                    size_t len);

/* Base58Check: the payload followed by the first 4 bytes of SHA256d(payload). The
 * payload is at most AL_B58_MAX_DATA - 4 bytes. */
AL_WARN_UNUSED al_err al_b58check_encode(char *out, size_t outcap, const uint8_t *payload,
                                         size_t len);
/* AL_E_B58_CHECKSUM on a mismatch (the 4 bytes are compared in constant time);
 * AL_E_TRUNCATED when fewer than 4 bytes decode. */
AL_WARN_UNUSED al_err al_b58check_decode(uint8_t *out, size_t outcap, size_t *outlen,
                                         const char *str, size_t len);

#endif
