/* Bitcoin script interpreter: every standard spend a regtest chain accepts and the
 * node broadcasts or watches.
 *
 * Supported spends: bare scripts (P2PK, P2PKH, bare multisig and any other script,
 * legacy sighash), P2SH (BIP 16) around legacy scripts and around witness programs,
 * native P2WPKH and P2WSH (BIP 141, BIP 143), and taproot (BIP 341): key path and
 * script path with tapscript (BIP 342). Taproot needs every output the transaction
 * spends (BIP 341 signs all their amounts and scriptPubKeys), so only
 * al_interp_verify_tx_input validates it; al_interp_verify_input answers
 * AL_E_SCRIPT_UNSUPPORTED for a v1 32-byte program when AL_INTERP_TAPROOT is set
 * (without the flag such outputs are anyone-can-spend, as BIP 341 was soft-forked).
 * Other witness versions follow BIP 141 (valid unless
 * AL_INTERP_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM).
 *
 * Each failure returns the precise AL_E_SCRIPT_* code Bitcoin Core would report
 * (its ScriptErrorString text is al_err_str's). The stacks live in the caller's
 * arena, bounded by the consensus limits: al_interp_scratch_size() bytes always
 * suffice, and the arena is given back before returning. */
#ifndef ALIGHT_BTC_INTERP_H
#define ALIGHT_BTC_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "crypto/secp.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/err.h"

/* Verification flags, named after Bitcoin Core's SCRIPT_VERIFY_* flags. BIP 66 strict
 * DER is always enforced (consensus for every script since 2015). In a segwit v0
 * script a signature with an undefined sighash type never verifies, since
 * al_sighash_segwit_v0 refuses to hash it (Core would, without STRICTENC); legacy
 * scripts hash any type, as Core does. With AL_INTERP_STRICTENC an undefined type is
 * AL_E_SCRIPT_SIG_HASHTYPE. */
#define AL_INTERP_P2SH                                  (1u << 0)
#define AL_INTERP_STRICTENC                             (1u << 1)
#define AL_INTERP_LOW_S                                 (1u << 2)
#define AL_INTERP_NULLDUMMY                             (1u << 3)
#define AL_INTERP_MINIMALDATA                           (1u << 4)
#define AL_INTERP_DISCOURAGE_UPGRADABLE_NOPS            (1u << 5)
#define AL_INTERP_CHECKLOCKTIMEVERIFY                   (1u << 6)
#define AL_INTERP_CHECKSEQUENCEVERIFY                   (1u << 7)
#define AL_INTERP_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM (1u << 8)
#define AL_INTERP_MINIMALIF                             (1u << 9)
#define AL_INTERP_NULLFAIL                              (1u << 10)
#define AL_INTERP_WITNESS_PUBKEYTYPE                    (1u << 11)
/* BIP 141: witness programs are validated (without it they are run as the legacy
 * scripts they look like, as before the soft fork). */
#define AL_INTERP_WITNESS (1u << 12)
/* BIP 341 / 342: witness v1 32-byte programs are taproot outputs. Needs
 * AL_INTERP_WITNESS. */
#define AL_INTERP_TAPROOT (1u << 13)
/* Policy: after a legacy or P2SH spend exactly one element must be left (witness
 * scripts always require it). Core requires P2SH and WITNESS along with it. */
#define AL_INTERP_CLEANSTACK (1u << 14)
/* Policy (BIP 62 rule 2): a scriptSig holds only pushes, also outside P2SH. */
#define AL_INTERP_SIGPUSHONLY (1u << 15)
/* Policy: no OP_CODESEPARATOR and no signature found inside a legacy scriptCode. */
#define AL_INTERP_CONST_SCRIPTCODE (1u << 16)
/* Policy for taproot: unknown leaf versions, OP_SUCCESSx and unknown public key
 * types fail instead of succeeding. */
#define AL_INTERP_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION (1u << 17)
#define AL_INTERP_DISCOURAGE_OP_SUCCESS                 (1u << 18)
#define AL_INTERP_DISCOURAGE_UPGRADABLE_PUBKEYTYPE      (1u << 19)

/* The soft-forked consensus rules (BIP 16, 65, 112, 141, 147, 341). */
#define AL_INTERP_CONSENSUS                                                                        \
	(AL_INTERP_P2SH | AL_INTERP_NULLDUMMY | AL_INTERP_CHECKLOCKTIMEVERIFY |                    \
	 AL_INTERP_CHECKSEQUENCEVERIFY | AL_INTERP_WITNESS | AL_INTERP_TAPROOT)
/* Consensus plus relay policy: what the node requires of anything it signs or relays. */
#define AL_INTERP_STANDARD                                                                         \
	(AL_INTERP_CONSENSUS | AL_INTERP_STRICTENC | AL_INTERP_LOW_S | AL_INTERP_MINIMALDATA |     \
	 AL_INTERP_DISCOURAGE_UPGRADABLE_NOPS | AL_INTERP_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM |  \
	 AL_INTERP_MINIMALIF | AL_INTERP_NULLFAIL | AL_INTERP_WITNESS_PUBKEYTYPE |                 \
	 AL_INTERP_CLEANSTACK | AL_INTERP_SIGPUSHONLY | AL_INTERP_CONST_SCRIPTCODE |               \
	 AL_INTERP_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION | AL_INTERP_DISCOURAGE_OP_SUCCESS |       \
	 AL_INTERP_DISCOURAGE_UPGRADABLE_PUBKEYTYPE)

/* Consensus limits (Bitcoin Core's script.h). */
#define AL_INTERP_MAX_STACK         1000
#define AL_INTERP_MAX_ELEMENT       520
#define AL_INTERP_MAX_OPS           201
#define AL_INTERP_MAX_SCRIPT        10000
#define AL_INTERP_MAX_MULTISIG_KEYS 20

/* Where a verification failed. */
typedef struct al_interp_fail {
	al_err err;    /* the value returned */
	int opcode;    /* the opcode being executed, or -1 for a rule outside execution */
	size_t offset; /* its byte offset in the script that was running */
} al_interp_fail;

/* Arena bytes one verification may take (stacks, condition stack, computed values). */
size_t al_interp_scratch_size(void);

/* Verify input `index` of `tx` (its scriptSig and witness) against the output it
 * spends, `spent[index]`. `spent` holds the outputs spent by ALL inputs of `tx`, in
 * input order (tx->n_in entries): BIP 341 signatures commit to every amount and
 * scriptPubKey. This is the entry point for every spend type, taproot included.
 * `why` (may be NULL) says where it failed. Errors: AL_E_SCRIPT_* as described
 * above, AL_E_SCRIPT_SIZE for a scriptPubKey or witness script over 10,000 bytes
 * (tapscripts have no such limit), AL_E_RANGE for an index out of range, AL_E_ARG
 * for a NULL argument, AL_E_NOMEM when the arena has less than
 * al_interp_scratch_size() available. */
AL_WARN_UNUSED al_err al_interp_verify_tx_input(const al_secp *ctx, const al_tx *tx, size_t index,
                                                const al_tx_out *spent, uint32_t flags,
                                                al_arena *scratch, al_interp_fail *why);

/* The same for callers that know only the output input `index` spends:
 * `spent_script` holding `amount`. Every spend but taproot verifies exactly as with
 * al_interp_verify_tx_input; a taproot output (with AL_INTERP_TAPROOT) gives
 * AL_E_SCRIPT_UNSUPPORTED, as its signatures cannot be checked without the other
 * inputs' outputs. Same errors otherwise. */
AL_WARN_UNUSED al_err al_interp_verify_input(const al_secp *ctx, const al_tx *tx, size_t index,
                                             const uint8_t *spent_script, size_t spent_len,
                                             al_sat amount, uint32_t flags, al_arena *scratch,
                                             al_interp_fail *why);

/* Run `script` as the witness script of input `index` (BIP 141 P2WSH execution:
 * elements of at most 520 bytes, exactly one true element left), starting from the
 * stack `items` (bottom first). Signatures are checked against `tx`, `index` and
 * `amount`, as BIP 143 prescribes. The witness program itself is not consulted. */
AL_WARN_UNUSED al_err al_interp_exec_witness_script(const al_secp *ctx, const al_tx *tx,
                                                    size_t index, const uint8_t *script, size_t len,
                                                    const al_bytes *items, size_t n_items,
                                                    al_sat amount, uint32_t flags,
                                                    al_arena *scratch, al_interp_fail *why);

#endif
