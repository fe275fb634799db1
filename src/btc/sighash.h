/* Signature hashes for segwit v0 inputs (BIP 143), every sighash type. */
#ifndef ALIGHT_BTC_SIGHASH_H
#define ALIGHT_BTC_SIGHASH_H

#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "util/amount.h"
#include "util/err.h"

#define AL_SIGHASH_ALL          0x01
#define AL_SIGHASH_NONE         0x02
#define AL_SIGHASH_SINGLE       0x03
#define AL_SIGHASH_ANYONECANPAY 0x80

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

#endif
