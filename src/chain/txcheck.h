/* Transaction validation as Bitcoin Core's mempool does it (validation.cpp PreChecks,
 * consensus/tx_check.cpp, consensus/tx_verify.cpp, policy/policy.cpp), against a view
 * of unspent outputs the caller provides. A regtest chain uses it to accept or reject
 * what tests and nodes broadcast; a node can use it to check its own transactions.
 *
 * Every rejection is an AL_E_TXV_* value whose al_err_str is Core's reject reason
 * ("bad-txns-inputs-missingorspent", "non-BIP68-final", ...). The numbers Core adds
 * to some reasons (coinbase depth, fees, the script error) come back in
 * al_txcheck_result so that the caller can word the full message. */
#ifndef ALIGHT_CHAIN_TXCHECK_H
#define ALIGHT_CHAIN_TXCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/tx.h"
#include "crypto/secp.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/err.h"

/* Core's COINBASE_MATURITY. */
#define AL_COINBASE_MATURITY 100
/* nLockTime below this is a height, else a Unix time (Core's LOCKTIME_THRESHOLD). */
#define AL_LOCKTIME_THRESHOLD 500000000u
/* Policy defaults (sat per 1000 virtual bytes): minrelaytxfee and dustrelayfee. */
#define AL_MIN_RELAY_FEERATE  1000
#define AL_DUST_RELAY_FEERATE 3000
/* Policy: MAX_STANDARD_TX_WEIGHT, MIN_STANDARD_TX_NONWITNESS_SIZE, TX_MAX_STANDARD_VERSION,
 * MAX_STANDARD_SCRIPTSIG_SIZE, MAX_OP_RETURN_RELAY. */
#define AL_MAX_STANDARD_TX_WEIGHT      400000
#define AL_MIN_STANDARD_TX_NONWIT_SIZE 65
#define AL_MAX_STANDARD_TX_VERSION     3
#define AL_MAX_STANDARD_SCRIPTSIG_SIZE 1650
#define AL_MAX_OP_RETURN_RELAY         83

/* An unspent output as the view knows it. */
typedef struct al_coin {
	al_tx_out out;   /* amount and scriptPubKey (borrowed from the view) */
	uint32_t height; /* height of the block that created it; for an unconfirmed
	                  * (mempool) output, the height of the next block */
	bool coinbase;
} al_coin;

/* The chain state a transaction is checked against: it is validated for inclusion in
 * the block after `tip_height`. */
typedef struct al_txcheck_view {
	/* Find an unspent output (chain or mempool, as the caller decides); false when it
	 * does not exist or is spent. */
	bool (*coin)(void *arg, const uint8_t txid[32], uint32_t vout, al_coin *out);
	/* Median time past (BIP 113) of the block at `height` <= tip_height. */
	uint32_t (*mtp)(void *arg, uint32_t height);
	void *arg;
	uint32_t tip_height;
} al_txcheck_view;

/* Details for the caller's message. */
typedef struct al_txcheck_result {
	al_sat fee;      /* inputs minus outputs, when known */
	al_sat in_total; /* for bad-txns-in-belowout */
	al_sat out_total;
	uint64_t min_fee;        /* for "min relay fee not met, <fee> < <min_fee>" */
	size_t vsize;            /* BIP 141 virtual size */
	size_t input;            /* the input at fault */
	uint32_t coinbase_depth; /* for "tried to spend coinbase at depth N" */
	al_err script_err;       /* AL_E_SCRIPT_* behind a script-verify-flag rejection */
} al_txcheck_result;

/* Core's CheckTransaction: the context-free rules. AL_E_TXV_VIN_EMPTY, _VOUT_EMPTY,
 * _OVERSIZE, _TXOUTTOTAL_TOOLARGE, _INPUTS_DUPLICATE, _CB_LENGTH, _PREVOUT_NULL.
 * (Output amounts above MAX_MONEY never parse; see al_tx_bad_amount.) */
AL_WARN_UNUSED al_err al_tx_check_sanity(const al_tx *tx);

/* For a serialized transaction al_tx_parse refused with AL_E_TX_AMOUNT: Core's reason,
 * AL_E_TXV_VOUT_NEGATIVE (the amount read as a signed 64-bit value is negative) or
 * AL_E_TXV_VOUT_TOOLARGE. AL_OK when no output amount is out of range. */
al_err al_tx_bad_amount(const uint8_t *raw, size_t len);

/* Core's IsStandardTx plus the size floor of PreChecks: AL_E_TXV_VERSION, _SIZE,
 * _SCRIPTSIG_SIZE, _SCRIPTSIG_PUSHONLY, _SCRIPTPUBKEY, _MULTI_OP_RETURN, _DUST,
 * _SIZE_SMALL. */
AL_WARN_UNUSED al_err al_tx_check_standard(const al_tx *tx);

/* The dust threshold of an output (Core's GetDustThreshold at dustrelayfee); 0 for
 * an unspendable (OP_RETURN) output. */
uint64_t al_tx_dust_threshold(const al_tx_out *out);

/* Core's IsFinalTx: is nLockTime satisfied in a block at `height` whose locktime
 * cutoff (median time past of its parent) is `time`? */
bool al_tx_is_final(const al_tx *tx, uint32_t height, uint32_t time);

/* Everything that needs the view, in Core's order: non-final (nLockTime),
 * missing inputs (AL_E_TXV_MISSING_INPUTS, res->input), BIP 68 sequence locks
 * (AL_E_TXV_NON_BIP68_FINAL), coinbase maturity (AL_E_TXV_PREMATURE_COINBASE,
 * res->coinbase_depth), input values (AL_E_TXV_INPUTVALUES), inputs below outputs
 * (AL_E_TXV_IN_BELOWOUT), the minimum relay fee (AL_E_TXV_MIN_RELAY_FEE,
 * res->min_fee), then every input script with the standard flags; a failure is
 * re-checked with the consensus flags alone, as Core does, giving
 * AL_E_TXV_SCRIPT_POLICY (passes consensus; res->script_err is the policy error) or
 * AL_E_TXV_SCRIPT_CONSENSUS (res->script_err the consensus error). `scratch` needs
 * al_interp_scratch_size() plus 32 bytes per input. */
AL_WARN_UNUSED al_err al_tx_check_inputs(const al_secp *ctx, const al_tx *tx,
                                         const al_txcheck_view *view, al_arena *scratch,
                                         al_txcheck_result *res);

/* al_tx_check_inputs in two steps, as Core's mempool runs them with its replacement
 * checks in between: everything up to and including the minimum relay fee (res->fee and
 * res->vsize are set on success), then the input scripts (with the coins the view gives
 * again; res->input and res->script_err on failure). */
AL_WARN_UNUSED al_err al_tx_check_prevouts(const al_tx *tx, const al_txcheck_view *view,
                                           al_arena *scratch, al_txcheck_result *res);
AL_WARN_UNUSED al_err al_tx_check_scripts(const al_secp *ctx, const al_tx *tx,
                                          const al_txcheck_view *view, al_arena *scratch,
                                          al_txcheck_result *res);

/* What a mempool checks before its own conflicts: sanity, no coinbase
 * (AL_E_TXV_COINBASE), standardness, then al_tx_check_inputs. */
AL_WARN_UNUSED al_err al_tx_check_mempool(const al_secp *ctx, const al_tx *tx,
                                          const al_txcheck_view *view, al_arena *scratch,
                                          al_txcheck_result *res);

#endif
