/* BIP 125 replacement rules (see rbf.h). */
#include "chain/rbf.h"

#include <string.h>

bool al_rbf_signals(const al_tx *tx)
{
	/* Core's SignalsOptInRBF: "any of its inputs have an nSequence number less than
	 * (0xffffffff - 1)". */
	for (size_t i = 0; i < tx->n_in; i++) {
		if (tx->in[i].sequence <= AL_RBF_MAX_SEQUENCE)
			return true;
	}
	return false;
}

uint64_t al_feerate_of(al_sat fee, size_t vsize)
{
	/* Amounts are at most MAX_MONEY (< 2^51), so fee * 1000 cannot overflow. */
	return vsize ? fee.sat * 1000 / vsize : 0;
}

uint64_t al_feerate_fee(uint64_t feerate, size_t vsize)
{
	uint64_t fee;

	if (vsize && feerate > (UINT64_MAX - 999) / vsize)
		return UINT64_MAX;
	fee = (feerate * vsize + 999) / 1000;
	if (fee == 0 && vsize && feerate)
		fee = 1;
	return fee;
}

/* Rule 6 (Core's PaysMoreThanConflicts): "the replacement transaction must have a higher
 * feerate than its direct conflicts". */
static al_err pays_more_than_conflicts(const al_rbf_conflict *direct, size_t n, uint64_t rate,
                                       al_rbf_result *res)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t old = al_feerate_of(direct[i].fee, direct[i].vsize);

		if (rate <= old) {
			res->conflict = i;
			res->old_feerate = old;
			return AL_E_TXV_RBF_FEERATE;
		}
	}
	return AL_OK;
}

/* Rule 5 (Core's GetEntriesForConflicts): shared descendants count once per direct
 * conflict, overestimating as Core does. */
static al_err few_enough(const al_rbf_conflict *direct, size_t n, al_rbf_result *res)
{
	uint64_t count = 0;

	for (size_t i = 0; i < n; i++) {
		count += direct[i].count_with_descendants;
		if (count > AL_RBF_MAX_REPLACEMENTS) {
			res->count = count;
			return AL_E_TXV_RBF_TOO_MANY;
		}
	}
	return AL_OK;
}

static bool parent_of_conflict(const al_rbf_conflict *direct, size_t n, const uint8_t txid[32])
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < direct[i].tx->n_in; k++) {
			if (memcmp(direct[i].tx->in[k].txid, txid, 32) == 0)
				return true;
		}
	}
	return false;
}

/* Rule 2 (Core's HasNoNewUnconfirmed): "The replacement transaction may only include an
 * unconfirmed input if that input was included in one of the original transactions." */
static al_err no_new_unconfirmed(const al_tx *tx, const al_rbf_conflict *direct, size_t n,
                                 al_rbf_in_mempool in_mempool, void *arg, al_rbf_result *res)
{
	for (size_t j = 0; j < tx->n_in; j++) {
		const uint8_t *prev = tx->in[j].txid;

		if (!parent_of_conflict(direct, n, prev) && in_mempool(arg, prev)) {
			res->input = j;
			return AL_E_TXV_RBF_UNCONFIRMED;
		}
	}
	return AL_OK;
}

/* Rules 3 and 4 (Core's PaysForRBF). */
static al_err pays_for_rbf(al_sat fee, size_t vsize, al_rbf_result *res)
{
	/* Rule 3: "an absolute fee of at least the sum paid by the original transactions". */
	if (!al_sat_sub(&res->additional, fee, res->replaced_fee))
		return AL_E_TXV_RBF_LESS_FEES;
	/* Rule 4: "The additional fees (difference between absolute fee paid by the
	 * replacement transaction and the sum paid by the original transactions) pays for
	 * the replacement transaction's bandwidth at or above the rate set by the node's
	 * incremental relay feerate." */
	res->min_additional = al_sat_of(al_feerate_fee(AL_INCREMENTAL_RELAY_FEERATE, vsize));
	if (res->additional.sat < res->min_additional.sat)
		return AL_E_TXV_RBF_RELAY_FEE;
	return AL_OK;
}

al_err al_rbf_check(const al_tx *tx, al_sat fee, size_t vsize, const al_rbf_conflict *direct,
                    size_t n_direct, al_sat replaced_fee, al_rbf_in_mempool in_mempool, void *arg,
                    al_rbf_result *res)
{
	if (!tx || !direct || !n_direct || !in_mempool || !res)
		return AL_E_ARG;
	memset(res, 0, sizeof(*res));
	res->new_feerate = al_feerate_of(fee, vsize);
	res->fee = fee;
	res->replaced_fee = replaced_fee;
	AL_TRY(pays_more_than_conflicts(direct, n_direct, res->new_feerate, res));
	AL_TRY(few_enough(direct, n_direct, res));
	AL_TRY(no_new_unconfirmed(tx, direct, n_direct, in_mempool, arg, res));
	return pays_for_rbf(fee, vsize, res);
}
