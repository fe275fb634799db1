/* The trust roots compiled into the image: the Mozilla roots of Debian's ca-certificates
 * at build time (scripts/gen-roots), so a user may name a public https chain server
 * without a CA or pin of their own. Being in the image, they are in its measurement: the
 * host can neither add a root nor swap the set. Parsed once, on first use, and shared by
 * every node's TLS contexts. */
#ifndef ALIGHT_ENCLAVE_ROOTS_H
#define ALIGHT_ENCLAVE_ROOTS_H

#include <stddef.h>

#include "crypto/tls.h"

/* The generated data. */
extern const char al_enc_roots_pem[];
extern const size_t al_enc_roots_pem_len;
extern const unsigned al_enc_roots_count;
/* How many, the package and directory they came from, SHA-256 of the PEM bytes. */
extern const char al_enc_roots_desc[];

/* The parsed set, or NULL when it cannot be built (out of memory). */
const al_tls_roots *al_enc_roots(void);

#endif
