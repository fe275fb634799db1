/* Script building and recognition for the output and witness scripts Lightning and
 * the wallet use. Scripts are written through an al_wb into caller buffers. */
#ifndef ALIGHT_BTC_SCRIPT_H
#define ALIGHT_BTC_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "util/cursor.h"
#include "util/err.h"

/* Opcodes used in this code base (values from Bitcoin Core's script.h). */
enum al_opcode {
	AL_OP_0 = 0x00,
	AL_OP_PUSHDATA1 = 0x4c,
	AL_OP_PUSHDATA2 = 0x4d,
	AL_OP_PUSHDATA4 = 0x4e,
	AL_OP_1NEGATE = 0x4f,
	AL_OP_1 = 0x51,
	AL_OP_2 = 0x52,
	AL_OP_16 = 0x60,
	AL_OP_NOP = 0x61,
	AL_OP_IF = 0x63,
	AL_OP_NOTIF = 0x64,
	AL_OP_ELSE = 0x67,
	AL_OP_ENDIF = 0x68,
	AL_OP_VERIFY = 0x69,
	AL_OP_RETURN = 0x6a,
	AL_OP_IFDUP = 0x73,
	AL_OP_DROP = 0x75,
	AL_OP_DUP = 0x76,
	AL_OP_SWAP = 0x7c,
	AL_OP_SIZE = 0x82,
	AL_OP_EQUAL = 0x87,
	AL_OP_EQUALVERIFY = 0x88,
	AL_OP_ADD = 0x93,
	AL_OP_HASH160 = 0xa9,
	AL_OP_SHA256 = 0xa8,
	AL_OP_CODESEPARATOR = 0xab,
	AL_OP_CHECKSIG = 0xac,
	AL_OP_CHECKSIGVERIFY = 0xad,
	AL_OP_CHECKMULTISIG = 0xae,
	AL_OP_CHECKLOCKTIMEVERIFY = 0xb1,
	AL_OP_CHECKSEQUENCEVERIFY = 0xb2,
};

/* Append an opcode. */
void al_script_op(al_wb *w, uint8_t op);
/* Append a minimal push of `len` bytes (BIP 62: OP_0 for empty, OP_1..OP_16 and
 * OP_1NEGATE for the single bytes 0x01..0x10 and 0x81, else direct push, PUSHDATA1/2/4). */
void al_script_push(al_wb *w, const void *data, size_t len);
/* Append a minimal push of a script number (BIP 62 minimal encoding; OP_0, OP_1..16,
 * OP_1NEGATE for the small values). */
void al_script_push_num(al_wb *w, int64_t n);
/* Append a push of a 33-byte compressed public key. */
void al_script_push_pubkey(al_wb *w, const al_secp *ctx, const al_pubkey *pk);

/* Output scripts. */
void al_script_p2wpkh(al_wb *w, const uint8_t hash160[20]);
void al_script_p2wpkh_pubkey(al_wb *w, const al_secp *ctx, const al_pubkey *pk);
/* OP_0 <SHA256(witness_script)>. */
void al_script_p2wsh(al_wb *w, const uint8_t *witness_script, size_t len);
void al_script_p2pkh(al_wb *w, const uint8_t hash160[20]);
void al_script_p2sh(al_wb *w, const uint8_t hash160[20]);
void al_script_p2tr(al_wb *w, const uint8_t xonly[32]);
/* The scriptCode BIP 143 prescribes for spending a P2WPKH output:
 * OP_DUP OP_HASH160 <hash160> OP_EQUALVERIFY OP_CHECKSIG. */
void al_script_p2wpkh_scriptcode(al_wb *w, const uint8_t hash160[20]);

/* Recognizers (exact templates). `out` receives the hash/program when non-NULL. */
bool al_script_is_p2wpkh(const uint8_t *s, size_t len, uint8_t out[20]);
bool al_script_is_p2wsh(const uint8_t *s, size_t len, uint8_t out[32]);
bool al_script_is_p2pkh(const uint8_t *s, size_t len, uint8_t out[20]);
bool al_script_is_p2sh(const uint8_t *s, size_t len, uint8_t out[20]);
bool al_script_is_p2tr(const uint8_t *s, size_t len, uint8_t out[32]);
/* Any segwit output: OP_n followed by one push of 2..40 bytes (BIP 141). */
bool al_script_is_witness_program(const uint8_t *s, size_t len, int *version, const uint8_t **prog,
                                  size_t *prog_len);

#endif
