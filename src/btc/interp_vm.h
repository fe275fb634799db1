/* Internal to the script interpreter (interp.c, interp_sig.c, interp_spend.c): the
 * machine state they share. Not part of the public API; use btc/interp.h. */
#ifndef ALIGHT_BTC_INTERP_VM_H
#define ALIGHT_BTC_INTERP_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/interp.h"
#include "btc/sighash.h"

/* Opcodes not named in btc/script.h (values from Bitcoin Core's script.h). */
enum {
	OP_RESERVED = 0x50,
	OP_VER = 0x62,
	OP_VERIF = 0x65,
	OP_VERNOTIF = 0x66,
	OP_TOALTSTACK = 0x6b,
	OP_FROMALTSTACK = 0x6c,
	OP_2DROP = 0x6d,
	OP_2DUP = 0x6e,
	OP_3DUP = 0x6f,
	OP_2OVER = 0x70,
	OP_2ROT = 0x71,
	OP_2SWAP = 0x72,
	OP_DEPTH = 0x74,
	OP_NIP = 0x77,
	OP_OVER = 0x78,
	OP_PICK = 0x79,
	OP_ROLL = 0x7a,
	OP_ROT = 0x7b,
	OP_TUCK = 0x7d,
	OP_CAT = 0x7e,
	OP_RIGHT = 0x81,
	OP_INVERT = 0x83,
	OP_XOR = 0x86,
	OP_1ADD = 0x8b,
	OP_1SUB = 0x8c,
	OP_2MUL = 0x8d,
	OP_2DIV = 0x8e,
	OP_NEGATE = 0x8f,
	OP_ABS = 0x90,
	OP_NOT = 0x91,
	OP_0NOTEQUAL = 0x92,
	OP_SUB = 0x94,
	OP_MUL = 0x95,
	OP_RSHIFT = 0x99,
	OP_BOOLAND = 0x9a,
	OP_BOOLOR = 0x9b,
	OP_NUMEQUAL = 0x9c,
	OP_NUMEQUALVERIFY = 0x9d,
	OP_NUMNOTEQUAL = 0x9e,
	OP_LESSTHAN = 0x9f,
	OP_GREATERTHAN = 0xa0,
	OP_LESSTHANOREQUAL = 0xa1,
	OP_GREATERTHANOREQUAL = 0xa2,
	OP_MIN = 0xa3,
	OP_MAX = 0xa4,
	OP_WITHIN = 0xa5,
	OP_RIPEMD160 = 0xa6,
	OP_SHA1 = 0xa7,
	OP_HASH256 = 0xaa,
	OP_CHECKMULTISIGVERIFY = 0xaf,
	OP_NOP1 = 0xb0,
	OP_NOP4 = 0xb3,
	OP_NOP10 = 0xb9,
	OP_CHECKSIGADD = 0xba,
};

/* Which rules a script runs under (Bitcoin Core's SigVersion). */
typedef enum vm_sigversion {
	VM_BASE,       /* scriptSig, scriptPubKey, P2SH redeemScript */
	VM_WITNESS_V0, /* BIP 141/143 witness script */
	VM_TAPSCRIPT,  /* BIP 342 leaf version 0xc0 */
} vm_sigversion;

/* Computed stack values (hashes, numbers: at most 32 bytes each) live in one half of
 * a two-half pool; when it fills, the live ones are copied to the other half. At most
 * AL_INTERP_MAX_STACK values are alive, so a half always has room after a copy. */
#define VM_VALUE_MAX 32
#define VM_POOL_HALF (AL_INTERP_MAX_STACK * VM_VALUE_MAX + 2 * VM_VALUE_MAX)

typedef struct vm {
	const al_secp *ctx;
	const al_tx *tx;
	size_t index;
	al_sat amount;
	uint32_t flags;
	vm_sigversion sigversion;
	/* The script running and the position of the opcode being executed. */
	const uint8_t *script;
	size_t len, pc;
	int op;
	size_t codesep;       /* legacy / BIP 143 scriptCode starts at this byte offset */
	uint32_t op_pos;      /* BIP 342 opcode position of the opcode being executed */
	uint32_t codesep_pos; /* BIP 342 position of the last executed OP_CODESEPARATOR */
	int n_ops;
	al_bytes *slot; /* AL_INTERP_MAX_STACK: main stack bottom up, alt stack top down */
	size_t n, n_alt;
	/* OP_IF conditions, as Core's ConditionStack: only the depth and the position of
	 * the first false entry matter. */
	size_t n_cond, first_false;
	uint8_t *pool; /* 2 * VM_POOL_HALF */
	size_t pool_half, pool_used;
	uint8_t *code; /* AL_INTERP_MAX_SCRIPT bytes for a legacy scriptCode */
	/* Taproot. */
	const al_taproot_txdata *txdata; /* NULL when the spent outputs are unknown */
	const al_bytes *annex;
	uint8_t leaf_hash[32];
	int64_t weight_left; /* BIP 342 validation weight budget */
} vm;

#define VM_NO_FALSE ((size_t)-1)

al_err vm_push(vm *v, al_bytes b);
al_err vm_push_bool(vm *v, bool b);
al_err vm_push_num(vm *v, int64_t n);
al_err vm_need(const vm *v, size_t count);
al_bytes *vm_top(vm *v, size_t i);
void vm_pop(vm *v, size_t count);
al_err vm_num_decode(const vm *v, al_bytes b, size_t max, int64_t *out);
bool vm_cast_to_bool(al_bytes b);
al_bytes vm_bytes_of(const uint8_t *p, size_t len);
bool vm_get_op(const uint8_t *s, size_t len, size_t *pc, uint8_t *op, const uint8_t **data,
               size_t *dlen);
/* Run `script` from the stack as it is (Core's EvalScript). */
al_err vm_run(vm *v, const uint8_t *script, size_t len);

/* interp_sig.c */
al_err vm_op_checksig(vm *v);
al_err vm_op_checkmultisig(vm *v);
al_err vm_op_checksigadd(vm *v);
/* BIP 340 signature `sig` (64 or 65 bytes) by the x-only key `key32` over this input;
 * the key path uses it with no leaf hash. */
al_err vm_check_schnorr(vm *v, al_bytes sig, const uint8_t key32[32], bool script_path);

#endif
