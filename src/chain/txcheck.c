/* Mempool acceptance rules after Bitcoin Core (see txcheck.h). */
#include "chain/txcheck.h"

#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "chain/block.h"

#define SEQ_FINAL        0xffffffffu
#define SEQ_DISABLE_FLAG (1u << 31)
#define SEQ_TYPE_FLAG    (1u << 22)
#define SEQ_MASK         0x0000ffffu
/* BIP 68: time-based relative locks count in units of 512 seconds. */
#define SEQ_GRANULARITY 9

al_err al_tx_check_sanity(const al_tx *tx)
{
	static const uint8_t zero[32];
	al_sat total;

	if (tx->n_in == 0)
		return AL_E_TXV_VIN_EMPTY;
	if (tx->n_out == 0)
		return AL_E_TXV_VOUT_EMPTY;
	/* Core: the stripped size times 4 may not exceed the block weight limit. */
	if (al_tx_len(tx, false) * 4 > AL_BLOCK_MAX_WEIGHT)
		return AL_E_TXV_OVERSIZE;
	if (al_tx_output_total(tx, &total) != AL_OK)
		return AL_E_TXV_TXOUTTOTAL_TOOLARGE;
	for (size_t i = 0; i < tx->n_in; i++) {
		for (size_t j = 0; j < i; j++) {
			if (tx->in[i].vout == tx->in[j].vout &&
			    memcmp(tx->in[i].txid, tx->in[j].txid, 32) == 0)
				return AL_E_TXV_INPUTS_DUPLICATE;
		}
	}
	if (al_tx_is_coinbase(tx)) {
		size_t n = tx->in[0].script_sig.len;

		if (n < AL_COINBASE_SCRIPT_MIN || n > AL_COINBASE_SCRIPT_MAX)
			return AL_E_TXV_CB_LENGTH;
		return AL_OK;
	}
	for (size_t i = 0; i < tx->n_in; i++) {
		if (tx->in[i].vout == 0xffffffff && memcmp(tx->in[i].txid, zero, 32) == 0)
			return AL_E_TXV_PREVOUT_NULL;
	}
	return AL_OK;
}

al_err al_tx_bad_amount(const uint8_t *raw, size_t len)
{
	int64_t bad;

	(void)al_tx_span(raw, len, &bad);
	if (bad < 0)
		return AL_E_TXV_VOUT_NEGATIVE;
	return bad > 0 ? AL_E_TXV_VOUT_TOOLARGE : AL_OK;
}

/* ---- policy ------------------------------------------------------------------------ */

/* Walk a script's opcodes; false on a truncated push. *push_only tells whether every
 * opcode is a push (OP_0..OP_16 and OP_1NEGATE count, as in Core's IsPushOnly). */
static bool script_walk(const uint8_t *s, size_t len, bool *push_only)
{
	size_t i = 0;

	*push_only = true;
	while (i < len) {
		uint8_t op = s[i++];
		size_t n = 0;

		if (op > AL_OP_16)
			*push_only = false;
		if (op >= 1 && op < AL_OP_PUSHDATA1) {
			n = op;
		} else if (op == AL_OP_PUSHDATA1) {
			if (len - i < 1)
				return false;
			n = s[i];
			i += 1;
		} else if (op == AL_OP_PUSHDATA2) {
			if (len - i < 2)
				return false;
			n = (size_t)s[i] | (size_t)s[i + 1] << 8;
			i += 2;
		} else if (op == AL_OP_PUSHDATA4) {
			if (len - i < 4)
				return false;
			n = (size_t)s[i] | (size_t)s[i + 1] << 8 | (size_t)s[i + 2] << 16 |
			    (size_t)s[i + 3] << 24;
			i += 4;
		}
		if (len - i < n)
			return false;
		i += n;
	}
	return true;
}

static bool is_op_return(const al_bytes *s)
{
	return s->len >= 1 && s->p[0] == AL_OP_RETURN;
}

/* Core's Solver + IsStandard for the output types we relay: P2PK, P2PKH, P2SH,
 * witness programs (v0 of 20 or 32 bytes, any other version of 2 to 40), and
 * OP_RETURN data of at most 83 bytes that is push-only after the OP_RETURN. */
static bool output_standard(const al_bytes *s)
{
	int ver;
	const uint8_t *prog;
	size_t plen;
	bool push_only;

	if (al_script_is_p2pkh(s->p, s->len, NULL) || al_script_is_p2sh(s->p, s->len, NULL))
		return true;
	if (al_script_is_witness_program(s->p, s->len, &ver, &prog, &plen))
		return ver != 0 || plen == 20 || plen == 32;
	if ((s->len == 35 && s->p[0] == 33 && s->p[34] == AL_OP_CHECKSIG) ||
	    (s->len == 67 && s->p[0] == 65 && s->p[66] == AL_OP_CHECKSIG))
		return true;
	if (is_op_return(s))
		return s->len <= AL_MAX_OP_RETURN_RELAY &&
		       script_walk(s->p + 1, s->len - 1, &push_only) && push_only;
	return false;
}

uint64_t al_tx_dust_threshold(const al_tx_out *out)
{
	int ver;
	const uint8_t *prog;
	size_t plen, size;

	if (is_op_return(&out->script))
		return 0;
	/* Core's GetDustThreshold: the output plus the input that would spend it, 148
	 * bytes, or for a witness program 32 + 4 + 1 + 107 / 4 + 4 = 67. */
	size = 8 + al_compactsize_len(out->script.len) + out->script.len;
	if (al_script_is_witness_program(out->script.p, out->script.len, &ver, &prog, &plen))
		size += 32 + 4 + 1 + 107 / 4 + 4;
	else
		size += 32 + 4 + 1 + 107 + 4;
	return (uint64_t)size * AL_DUST_RELAY_FEERATE / 1000;
}

al_err al_tx_check_standard(const al_tx *tx)
{
	size_t n_op_return = 0;
	bool push_only;

	if (tx->version < 1 || tx->version > AL_MAX_STANDARD_TX_VERSION)
		return AL_E_TXV_VERSION;
	if (al_tx_weight(tx) > AL_MAX_STANDARD_TX_WEIGHT)
		return AL_E_TXV_SIZE;
	for (size_t i = 0; i < tx->n_in; i++) {
		const al_bytes *ss = &tx->in[i].script_sig;

		if (ss->len > AL_MAX_STANDARD_SCRIPTSIG_SIZE)
			return AL_E_TXV_SCRIPTSIG_SIZE;
		if (!script_walk(ss->p, ss->len, &push_only) || !push_only)
			return AL_E_TXV_SCRIPTSIG_PUSHONLY;
	}
	for (size_t i = 0; i < tx->n_out; i++) {
		if (!output_standard(&tx->out[i].script))
			return AL_E_TXV_SCRIPTPUBKEY;
		if (is_op_return(&tx->out[i].script))
			n_op_return++;
	}
	if (n_op_return > 1)
		return AL_E_TXV_MULTI_OP_RETURN;
	for (size_t i = 0; i < tx->n_out; i++) {
		if (tx->out[i].amount.sat < al_tx_dust_threshold(&tx->out[i]))
			return AL_E_TXV_DUST;
	}
	/* PreChecks: "tx-size-small" guards against 64-byte transactions. */
	if (al_tx_len(tx, false) < AL_MIN_STANDARD_TX_NONWIT_SIZE)
		return AL_E_TXV_SIZE_SMALL;
	return AL_OK;
}

/* ---- time locks -------------------------------------------------------------------- */

bool al_tx_is_final(const al_tx *tx, uint32_t height, uint32_t time)
{
	uint32_t lt = tx->locktime;

	if (lt == 0)
		return true;
	if (lt < (lt < AL_LOCKTIME_THRESHOLD ? height : time))
		return true;
	/* A lock in force is ignored when every input's sequence is final. */
	for (size_t i = 0; i < tx->n_in; i++) {
		if (tx->in[i].sequence != SEQ_FINAL)
			return false;
	}
	return true;
}

/* BIP 68 (Core's CalculateSequenceLocks and EvaluateSequenceLocks) for the block
 * after the tip. */
static bool sequence_locks_ok(const al_tx *tx, const al_coin *coins, const al_txcheck_view *v)
{
	int64_t min_height = -1, min_time = -1;
	uint32_t next = v->tip_height + 1;

	if (tx->version < 2)
		return true;
	for (size_t i = 0; i < tx->n_in; i++) {
		uint32_t seq = tx->in[i].sequence, h = coins[i].height;

		if (seq & SEQ_DISABLE_FLAG)
			continue;
		if (seq & SEQ_TYPE_FLAG) {
			/* Relative to the median time past of the block before the coin's. */
			int64_t t = v->mtp(
			    v->arg, h > 0 ? (h - 1 > v->tip_height ? v->tip_height : h - 1) : 0);
			t += (int64_t)((seq & SEQ_MASK) << SEQ_GRANULARITY) - 1;
			if (t > min_time)
				min_time = t;
		} else {
			int64_t hh = (int64_t)h + (seq & SEQ_MASK) - 1;

			if (hh > min_height)
				min_height = hh;
		}
	}
	return min_height < (int64_t)next && min_time < (int64_t)v->mtp(v->arg, v->tip_height);
}

/* ---- inputs ------------------------------------------------------------------------ */

static al_err load_coins(const al_tx *tx, const al_txcheck_view *v, al_coin *coins,
                         al_txcheck_result *res)
{
	for (size_t i = 0; i < tx->n_in; i++) {
		if (!v->coin(v->arg, tx->in[i].txid, tx->in[i].vout, &coins[i])) {
			res->input = i;
			return AL_E_TXV_MISSING_INPUTS;
		}
	}
	return AL_OK;
}

/* Core's Consensus::CheckTxInputs. */
static al_err check_amounts(const al_tx *tx, const al_coin *coins, const al_txcheck_view *v,
                            al_txcheck_result *res)
{
	al_sat in = al_sat_of(0), out;
	uint32_t spend_height = v->tip_height + 1;

	for (size_t i = 0; i < tx->n_in; i++) {
		if (coins[i].coinbase && spend_height - coins[i].height < AL_COINBASE_MATURITY) {
			res->input = i;
			res->coinbase_depth = spend_height - coins[i].height;
			return AL_E_TXV_PREMATURE_COINBASE;
		}
		if (!al_sat_is_valid_money(coins[i].out.amount) ||
		    !al_sat_add(&in, in, coins[i].out.amount) || !al_sat_is_valid_money(in))
			return AL_E_TXV_INPUTVALUES;
	}
	if (al_tx_output_total(tx, &out) != AL_OK)
		return AL_E_TXV_TXOUTTOTAL_TOOLARGE;
	res->in_total = in;
	res->out_total = out;
	if (!al_sat_sub(&res->fee, in, out))
		return AL_E_TXV_IN_BELOWOUT;
	return AL_OK;
}

static al_err check_scripts(const al_secp *ctx, const al_tx *tx, const al_tx_out *spent,
                            al_arena *scratch, al_txcheck_result *res)
{
	for (size_t i = 0; i < tx->n_in; i++) {
		al_err e =
		    al_interp_verify_tx_input(ctx, tx, i, spent, AL_INTERP_STANDARD, scratch, NULL);

		if (e == AL_OK)
			continue;
		if (e == AL_E_NOMEM || e == AL_E_ARG || e == AL_E_RANGE)
			return e;
		res->input = i;
		/* Core's CheckInputScripts: a policy failure is re-run with the consensus
		 * flags only, to tell "non-mandatory" from "mandatory" failures. */
		res->script_err = e;
		e = al_interp_verify_tx_input(ctx, tx, i, spent, AL_INTERP_CONSENSUS, scratch,
		                              NULL);
		if (e == AL_OK)
			return AL_E_TXV_SCRIPT_POLICY;
		res->script_err = e;
		return AL_E_TXV_SCRIPT_CONSENSUS;
	}
	return AL_OK;
}

static al_err check_prevouts(const al_tx *tx, const al_txcheck_view *v, al_coin *coins,
                             al_txcheck_result *res)
{
	AL_TRY(load_coins(tx, v, coins, res));
	if (!sequence_locks_ok(tx, coins, v))
		return AL_E_TXV_NON_BIP68_FINAL;
	AL_TRY(check_amounts(tx, coins, v, res));
	/* Policy: minrelaytxfee over the virtual size. */
	res->min_fee = (uint64_t)res->vsize * AL_MIN_RELAY_FEERATE / 1000;
	if (res->fee.sat < res->min_fee)
		return AL_E_TXV_MIN_RELAY_FEE;
	return AL_OK;
}

static bool view_ok(const al_tx *tx, const al_txcheck_view *view, const al_arena *scratch,
                    const al_txcheck_result *res)
{
	return tx && view && view->coin && view->mtp && scratch && res;
}

/* The view's coins for every input, in scratch; NULL with *e set on failure. */
static al_coin *alloc_coins(const al_tx *tx, al_arena *scratch, al_err *e)
{
	al_coin *coins = NULL;

	*e =
	    al_arena_alloc(scratch, tx->n_in * sizeof(al_coin), _Alignof(al_coin), (void **)&coins);
	return *e == AL_OK ? coins : NULL;
}

al_err al_tx_check_prevouts(const al_tx *tx, const al_txcheck_view *view, al_arena *scratch,
                            al_txcheck_result *res)
{
	size_t mark;
	al_coin *coins;
	al_err e;

	if (!view_ok(tx, view, scratch, res))
		return AL_E_ARG;
	memset(res, 0, sizeof(*res));
	res->vsize = al_tx_vsize(tx);
	/* Core's CheckFinalTxAtTip: nLockTime against the next block's height and the
	 * tip's median time past (BIP 113). */
	if (!al_tx_is_final(tx, view->tip_height + 1, view->mtp(view->arg, view->tip_height)))
		return AL_E_TXV_NON_FINAL;
	mark = al_arena_mark(scratch);
	coins = alloc_coins(tx, scratch, &e);
	if (coins)
		e = check_prevouts(tx, view, coins, res);
	al_arena_release(scratch, mark);
	return e;
}

al_err al_tx_check_scripts(const al_secp *ctx, const al_tx *tx, const al_txcheck_view *view,
                           al_arena *scratch, al_txcheck_result *res)
{
	size_t mark;
	al_coin *coins;
	al_tx_out *spent = NULL;
	al_err e;

	if (!ctx || !view_ok(tx, view, scratch, res))
		return AL_E_ARG;
	mark = al_arena_mark(scratch);
	coins = alloc_coins(tx, scratch, &e);
	if (coins)
		e = al_arena_alloc(scratch, tx->n_in * sizeof(al_tx_out), _Alignof(al_tx_out),
		                   (void **)&spent);
	if (e == AL_OK)
		e = load_coins(tx, view, coins, res);
	if (e == AL_OK) {
		for (size_t i = 0; i < tx->n_in; i++)
			spent[i] = coins[i].out;
		e = check_scripts(ctx, tx, spent, scratch, res);
	}
	al_arena_release(scratch, mark);
	return e;
}

al_err al_tx_check_inputs(const al_secp *ctx, const al_tx *tx, const al_txcheck_view *view,
                          al_arena *scratch, al_txcheck_result *res)
{
	if (!ctx)
		return AL_E_ARG;
	AL_TRY(al_tx_check_prevouts(tx, view, scratch, res));
	return al_tx_check_scripts(ctx, tx, view, scratch, res);
}

al_err al_tx_check_mempool(const al_secp *ctx, const al_tx *tx, const al_txcheck_view *view,
                           al_arena *scratch, al_txcheck_result *res)
{
	if (!tx || !res)
		return AL_E_ARG;
	memset(res, 0, sizeof(*res));
	AL_TRY(al_tx_check_sanity(tx));
	if (al_tx_is_coinbase(tx))
		return AL_E_TXV_COINBASE;
	AL_TRY(al_tx_check_standard(tx));
	return al_tx_check_inputs(ctx, tx, view, scratch, res);
}
