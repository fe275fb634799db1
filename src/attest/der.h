/* Encodings under attestation evidence: strict PEM (RFC 7468) with canonical base64
 * (RFC 4648), a DER TLV walker (X.690) and ISO 8601 UTC times.
 *
 * Strictness is the point: the verifier must notice any change to the bytes it was
 * given. A lax PEM reader would accept a flipped padding bit or a stray character
 * and decode the same certificate, so here every byte of a PEM block is either
 * meaningful or rejected: base64 must be canonical (RFC 4648 section 3.5: pad bits
 * zero), lines are at most 64 characters and end in LF or CRLF, and nothing but
 * blank lines may sit between or after the blocks. */
#ifndef ALIGHT_ATTEST_DER_H
#define ALIGHT_ATTEST_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/err.h"

/* A byte range owned by someone else (the input, the arena or a parsed object). */
typedef struct al_att_blob {
	const uint8_t *p;
	size_t len;
} al_att_blob;

/* Longest certificate chain accepted anywhere (leaf, intermediates, root). */
#define AL_ATT_MAX_CHAIN 6

/* Decode every PEM block labelled `label` ("CERTIFICATE") in `text` into DER copies
 * carved from `a`. At least one block; at most `max` (AL_E_TOO_LARGE beyond).
 * Anything other than the blocks and blank lines: AL_E_ATT_PEM. */
AL_WARN_UNUSED al_err al_att_pem_decode(al_arena *a, al_att_blob *out, size_t max, size_t *n,
                                        const char *label, const uint8_t *text, size_t len);

/* Canonical base64 (no whitespace): AL_E_ATT_PEM on any non-canonical input. */
AL_WARN_UNUSED al_err al_att_base64_decode(uint8_t *out, size_t cap, size_t *outlen,
                                           const uint8_t *b64, size_t len);

/* Base64-encode `len` bytes into `out` (no line breaks, no NUL); returns the
 * length written, or 0 if `cap` is too small. */
size_t al_att_base64_encode(char *out, size_t cap, const uint8_t *data, size_t len);

/* Read one DER TLV from the front of *in (single-byte tags, definite minimal
 * lengths), advancing *in past it. */
AL_WARN_UNUSED al_err al_der_next(al_att_blob *in, uint8_t *tag, al_att_blob *val);
/* A non-negative DER INTEGER value of at most 8 significant bytes. */
AL_WARN_UNUSED al_err al_der_uint(al_att_blob val, uint64_t *out);
bool al_att_blob_eq(al_att_blob a, const uint8_t *p, size_t len);

/* "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC, optional fraction ignored) to seconds since
 * 1970. AL_E_ARG on anything else. */
AL_WARN_UNUSED al_err al_att_parse_time(int64_t *out, const char *s, size_t len);

#endif
