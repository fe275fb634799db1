/* Signature hashes: legacy (pre-segwit) inputs, segwit v0 inputs (BIP 143) and
 * taproot inputs (BIP 341 / 342), every sighash type. */
#ifndef ALIGHT_BTC_SIGHASH_H
#define ALIGHT_BTC_SIGHASH_H

#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "crypto/hash.h"
#include "util/amount.h"
#include "util/err.h"

#define AL_SIGHASH_ALL          0x01
#define AL_SIGHASH_NONE         0x02
#define AL_SIGHASH_SINGLE       0x03
#define AL_SIGHASH_ANYONECANPAY 0x80
/* BIP 341: the implicit type of a 64-byte taproot signature (commits like ALL). */
#define AL_SIGHASH_DEFAULT 0x00

/* Legacy signature hash (Bitcoin Core's SignatureHash for SigVersion::BASE) for input
 * `index` with scriptCode `script_code` (the script from the last executed
 * OP_CODESEPARATOR on, with the signature already removed by the interpreter's
 * FindAndDelete). Any OP_CODESEPARATOR left in it is dropped when it is serialized,
 * as Core does. Every 32-bit `sighash_type` is hashed: its low 5 bits select NONE (2)
 * and SINGLE (3), anything else means ALL; 0x80 is ANYONECANPAY. SINGLE for an input
 * with no output of the same index gives the historic digest 1 (0x01 then 31 zero
 * bytes), not an error. An out-of-range index: AL_E_SIGHASH_INPUT. */
AL_WARN_UNUSED al_err al_sighash_legacy(uint8_t out[32], const al_tx *tx, size_t index,
                                        const uint8_t *script_code, size_t script_code_len,
                                        uint32_t sighash_type);

/* BIP 143 digest for input `index` spending an output of `amount` whose scriptCode
 * is `script_code` (for P2WSH: the witness script, from the last executed
 * OP_CODESEPARATOR on, as the caller determines). `sighash_type` is the full 32-bit
 * value that is committed to; its base type must be ALL, NONE or SINGLE (with or
 * without ANYONECANPAY), else AL_E_SIGHASH_TYPE. An out-of-range index:
 * AL_E_SIGHASH_INPUT. SINGLE with no matching output hashes zero for hashOutputs, as
 * BIP 143 specifies. */
AL_WARN_UNUSED al_err al_sighash_segwit_v0(uint8_t out[32], const al_tx *tx, size_t index,
                                           const uint8_t *script_code, size_t script_code_len,
                                           al_sat amount, uint32_t sighash_type);

/* The BIP 143 preimage itself (whose double SHA-256 is the digest above), for
 * inspection and tests; same arguments and errors. Nothing is written on error. */
AL_WARN_UNUSED al_err al_sighash_segwit_v0_preimage(al_wb *w, const al_tx *tx, size_t index,
                                                    const uint8_t *script_code,
                                                    size_t script_code_len, al_sat amount,
                                                    uint32_t sighash_type);

/* BIP 341: the single-SHA256 hashes of the whole transaction a taproot signature may
 * commit to, computed once per transaction. `spent` (tx->n_in outputs, in input order)
 * is borrowed and must outlive the structure. */
typedef struct al_taproot_txdata {
	uint8_t prevouts[32];       /* sha_prevouts */
	uint8_t amounts[32];        /* sha_amounts */
	uint8_t script_pubkeys[32]; /* sha_scriptpubkeys */
	uint8_t sequences[32];      /* sha_sequences */
	uint8_t outputs[32];        /* sha_outputs */
	const al_tx_out *spent;
} al_taproot_txdata;

void al_taproot_txdata_init(al_taproot_txdata *d, const al_tx *tx, const al_tx_out *spent);

/* What a taproot signature commits to beyond the transaction. */
typedef struct al_taproot_sigmsg {
	uint8_t hash_type;     /* 0x00-0x03 or 0x81-0x83 */
	const al_bytes *annex; /* the annex (starting 0x50), or NULL */
	const uint8_t
	    *leaf_hash;       /* script path (BIP 342, ext_flag 1): tapleaf hash; key path: NULL */
	uint32_t codesep_pos; /* script path: last executed OP_CODESEPARATOR, or 0xffffffff */
} al_taproot_sigmsg;

/* BIP 341 signature message SigMsg(hash_type, ext_flag) for input `index`, preceded by
 * the epoch byte 0x00 and followed, for a script path, by the BIP 342 extension; its
 * tagged hash "TapSighash" is the digest below. Errors: AL_E_SIGHASH_TYPE for a type
 * BIP 341 does not define, AL_E_SIGHASH_INPUT for an index out of range or SINGLE
 * without an output at `index` ("the signature is invalid" in both cases). Nothing is
 * written on error. */
AL_WARN_UNUSED al_err al_sighash_taproot_msg(al_wb *w, const al_taproot_txdata *d, const al_tx *tx,
                                             size_t index, const al_taproot_sigmsg *m);
AL_WARN_UNUSED al_err al_sighash_taproot(uint8_t out[32], const al_taproot_txdata *d,
                                         const al_tx *tx, size_t index, const al_taproot_sigmsg *m);

/* BIP 340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg). */
void al_tagged_hash(uint8_t out[32], const char *tag, const uint8_t *msg, size_t len);
/* Start a tagged hash whose message the caller streams in. */
void al_tagged_hash_init(al_sha256_ctx *h, const char *tag);

#endif
