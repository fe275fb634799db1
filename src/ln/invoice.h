/* BOLT #11 invoices: decode (with the signature checked) and encode (signed).
 *
 * BOLT #11: "The human-readable part of a Lightning invoice consists of two sections:
 * `prefix`: `ln` + BIP-0173 currency prefix ... `amount`: optional number in that
 * currency, followed by an optional `multiplier` letter." The data part is a 35-bit
 * timestamp, tagged fields, and a 520-bit recoverable signature, all in Bech32.
 *
 * An al_invoice is plain data of a fixed size (no pointers): every field a reader
 * needs, with the defaults BOLT #11 gives for absent ones applied. A decoded invoice
 * has passed every reader requirement below; al_invoice_encode refuses to produce a
 * string al_invoice_decode would refuse. Neither allocates; both need a secp context
 * (signature recovery and signing). */
#ifndef ALIGHT_LN_INVOICE_H
#define ALIGHT_LN_INVOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "ln/features.h"
#include "util/err.h"

/* The longest invoice read or written: the most characters a QR code holds (version
 * 40), so every longer string is one no wallet could have scanned. */
#define AL_INVOICE_MAX_CHARS 7089
/* BOLT #11: "the maximum length of a Tagged Field's `data` is constricted by the
 * maximum value of `data_length`. This is 1023 x 5 bits, or 639 bytes." */
#define AL_INVOICE_FIELD_MAX 639
/* What one invoice may carry of the repeatable fields. A node keeps this much; an
 * invoice with more is refused (AL_E_INV_TOO_MANY), never truncated. */
#define AL_INVOICE_MAX_FALLBACKS 4
#define AL_INVOICE_MAX_ROUTES    8
#define AL_INVOICE_MAX_HOPS      48 /* over all routes */
/* BOLT #11 defaults: "Default is 3600 (1 hour) if not specified"; "MUST use an
 * expiry delta of at least 18 when making the payment". */
#define AL_INVOICE_DEFAULT_EXPIRY 3600
#define AL_INVOICE_DEFAULT_CLTV   18

typedef enum al_invoice_currency {
	AL_INVOICE_BC = 1,   /* lnbc: mainnet */
	AL_INVOICE_TB = 2,   /* lntb: testnet */
	AL_INVOICE_BCRT = 3, /* lnbcrt: regtest */
	AL_INVOICE_TBS = 4,  /* lntbs: signet */
} al_invoice_currency;

/* One `r` entry. BOLT #11: "`pubkey` is the node ID of the start of the channel;
 * `short_channel_id` is the short channel ID field to identify the channel; and
 * `fee_base_msat`, `fee_proportional_millionths`, and `cltv_expiry_delta` are as
 * specified in BOLT #7". */
typedef struct al_invoice_hop {
	uint8_t pubkey[AL_PUBKEY_LEN]; /* a valid point */
	uint64_t scid;
	uint32_t fee_base_msat;
	uint32_t fee_proportional_millionths;
	uint16_t cltv_expiry_delta;
} al_invoice_hop;

/* One `r` field: hops[first .. first + count) of the invoice's hop list. */
typedef struct al_invoice_route {
	uint8_t first;
	uint8_t count;
} al_invoice_route;

/* One `f` field: witness version 0..16 and its program, or 17 (P2PKH) / 18 (P2SH)
 * and a 20-byte hash. */
typedef struct al_invoice_fallback {
	uint8_t version;
	uint8_t len;
	uint8_t program[40];
} al_invoice_fallback;

typedef struct al_invoice {
	al_invoice_currency currency;
	bool has_amount; /* BOLT #11: "if the `amount` is empty: SHOULD indicate to the payer
	                    that amount is unspecified" */
	uint64_t amount_msat;
	uint64_t timestamp; /* seconds since 1970, 35 bits */

	uint8_t payment_hash[32];   /* p: the first one of the right length */
	uint8_t payment_secret[32]; /* s: required of every invoice */
	/* Exactly one of d (UTF-8, not NUL-terminated: it may contain NUL) and h. */
	bool has_description;
	uint16_t description_len;
	uint8_t description[AL_INVOICE_FIELD_MAX];
	bool has_description_hash;
	uint8_t description_hash[32];
	/* The payee: the n field when present (payee_explicit), else recovered from the
	 * signature. */
	bool payee_explicit;
	uint8_t payee[AL_PUBKEY_LEN];
	bool has_expiry; /* x present; expiry holds the default otherwise */
	uint64_t expiry;
	bool has_min_final_cltv; /* c present */
	uint64_t min_final_cltv_expiry_delta;
	bool has_metadata; /* m: payment_metadata, sent back in the onion */
	uint16_t metadata_len;
	uint8_t metadata[AL_INVOICE_FIELD_MAX];
	al_features features; /* 9: only bits this node knows for invoices are kept */

	size_t n_fallbacks;
	al_invoice_fallback fallbacks[AL_INVOICE_MAX_FALLBACKS];
	size_t n_routes;
	al_invoice_route routes[AL_INVOICE_MAX_ROUTES];
	size_t n_hops;
	al_invoice_hop hops[AL_INVOICE_MAX_HOPS];

	/* What the signature covers and the signature itself, as read. */
	uint8_t sighash[32];
	uint8_t signature[64]; /* r || s */
	int recid;

	/* Set with AL_E_INV_FEATURES: BOLT #11 "SHOULD indicate the unknown bit to the user". */
	unsigned unknown_feature;
} al_invoice;

/* Decode `len` bytes at `str` (any bytes; a NUL is an invalid character). On failure
 * *out is zeroed (but for unknown_feature) and the error names the first rule broken:
 *   the Bech32 errors of btc/bech32.h (checksum, case, separator, characters), and
 *   AL_E_INV_LENGTH beyond AL_INVOICE_MAX_CHARS, AL_E_INV_VARIANT for a Bech32m
 *   checksum; AL_E_INV_PREFIX (not ln + bc/tb/bcrt/tbs); AL_E_INV_AMOUNT (not a
 *   positive decimal without leading zeros followed by at most one of m u n p, or
 *   more than 21 million bitcoin); AL_E_INV_PRECISION ("if multiplier is `p` and the
 *   last decimal of `amount` is not 0: MUST fail"); AL_E_INV_TOO_SHORT (no room for
 *   the timestamp and signature); AL_E_INV_FIELD (a field runs into the signature);
 *   AL_E_INV_PADDING (a field's bytes end in set or more than 4 padding bits);
 *   AL_E_INV_NONMINIMAL (x, c or 9 starting with a zero value: "SHOULD treat the
 *   invoice as invalid"); AL_E_INV_TOO_MANY; AL_E_INV_FALLBACK (a known version with a
 *   program of the wrong size); AL_E_INV_HINT (an r field of no or partial hops, or a
 *   hop key that is not a point); AL_E_INV_PAYEE (an n field that is not a point);
 *   AL_E_INV_UTF8; AL_E_INV_NO_HASH; AL_E_INV_NO_SECRET ("if a valid `s` field is not
 *   provided: MUST fail the payment"); AL_E_INV_DESCRIPTION (neither or both of d
 *   and h); AL_E_INV_FEATURES (a required bit this node does not know:
 *   out->unknown_feature); AL_E_INV_FEATURE_DEPS; AL_E_INV_HIGH_S (n present and the
 *   signature is high-S); AL_E_INV_SIGNATURE (it does not verify, or nothing
 *   recovers). Fields of unknown type, f fields of versions 19..31 and p, h, s, n
 *   fields of other lengths are skipped, as BOLT #11 says.
 *
 * Without n, the payee is the key libsecp256k1 recovers from (r, s, recid) as
 * transmitted, high-S included ("MUST perform ECDSA public-key recovery and accept
 * both high-S and low-S signatures"); the signature is not normalised first, because
 * negating s names the other nonce point and so a different key. */
AL_WARN_UNUSED al_err al_invoice_decode(al_invoice *out, const al_secp *secp, const char *str,
                                        size_t len);

/* Sign and encode `inv` with the payee's `key` as a lower-case NUL-terminated string
 * in `out` (`cap` bytes; *outlen gets its length without the NUL). Fields are written
 * in the order s p d h n x c f r m 9 (n when payee_explicit; x, c and m when present;
 * amount in the shortest form). inv's payee, sighash, signature and recid are ignored.
 * Refused: whatever al_invoice_decode would refuse of the result (the error it would
 * give), a description over AL_INVOICE_FIELD_MAX bytes or a timestamp of 2^35 or more
 * (AL_E_RANGE), AL_E_BUFSIZE when `cap` is short. */
AL_WARN_UNUSED al_err al_invoice_encode(char *out, size_t cap, size_t *outlen, const al_secp *secp,
                                        const al_invoice *inv, const al_privkey *key);

/* The prefix of a currency ("lnbc"...), NULL for none. */
const char *al_invoice_prefix(al_invoice_currency c);

#endif
