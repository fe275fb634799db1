/* A byte sink for Bitcoin serializations: it either appends to an al_wb or feeds a
 * SHA-256, so that one piece of code produces a transaction's bytes, its txid and its
 * BIP 143 preimage, and hashing needs no buffer the size of the transaction. */
#ifndef ALIGHT_BTC_SINK_H
#define ALIGHT_BTC_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "util/cursor.h"

typedef struct al_sink {
	al_wb *w;         /* append here, or */
	al_sha256_ctx *h; /* hash here (exactly one is set) */
} al_sink;

void al_sink_bytes(al_sink *s, const void *p, size_t n);
void al_sink_le32(al_sink *s, uint32_t v);
void al_sink_le64(al_sink *s, uint64_t v);
void al_sink_compactsize(al_sink *s, uint64_t v);
/* CompactSize length, then the bytes (a script or a witness item). */
void al_sink_varbytes(al_sink *s, const uint8_t *p, size_t n);

#endif
