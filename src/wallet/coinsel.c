/* Coin selection (see coinsel.h). */
#include "wallet/coinsel.h"

#include <string.h>

/* Indices sorted by value, largest first (insertion sort: n is small and this keeps
 * equal values in their original order). */
static void sort_desc(size_t *idx, const uint64_t *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 1; i < n; i++) {
		size_t v = idx[i], k = i;

		for (; k > 0 && values[idx[k - 1]] < values[v]; k--)
			idx[k] = idx[k - 1];
		idx[k] = v;
	}
}

typedef struct bnb {
	size_t idx[AL_COINSEL_MAX];
	size_t sel[AL_COINSEL_MAX]; /* positions in idx, increasing */
	size_t best[AL_COINSEL_MAX];
	size_t n_sel, n_best;
	uint64_t value, available, best_excess;
} bnb;

static void bnb_backtrack(bnb *b, const uint64_t *values, size_t *pos)
{
	/* Give back the candidates skipped after the last included one, then try the
	 * branch without that one. */
	for (--*pos; *pos > b->sel[b->n_sel - 1]; --*pos)
		b->available += values[b->idx[*pos]];
	b->value -= values[b->idx[*pos]];
	b->n_sel--;
}

static void bnb_forward(bnb *b, const uint64_t *values, size_t pos)
{
	uint64_t v = values[b->idx[pos]];

	b->available -= v;
	/* Core: skip a candidate equal to the previous one when that one was excluded:
	 * the same subsets were already explored. */
	if (b->n_sel == 0 || pos - 1 == b->sel[b->n_sel - 1] || v != values[b->idx[pos - 1]]) {
		b->sel[b->n_sel++] = pos;
		b->value += v;
	}
}

al_err al_coinsel_bnb(bool *selected, uint64_t *total, const uint64_t *values, size_t n,
                      uint64_t target, uint64_t cost_of_change)
{
	bnb b; /* 24 KiB of stack */
	size_t pos = 0;

	if (n > AL_COINSEL_MAX)
		return AL_E_RANGE;
	memset(&b, 0, sizeof(b));
	sort_desc(b.idx, values, n);
	for (size_t i = 0; i < n; i++)
		b.available += values[i];
	b.best_excess = UINT64_MAX;
	for (size_t tries = 0; tries < AL_COINSEL_BNB_TRIES; tries++, pos++) {
		bool back = false;

		if (b.value + b.available < target || b.value > target + cost_of_change) {
			back = true;
		} else if (b.value >= target) {
			if (b.value - target <= b.best_excess) {
				b.best_excess = b.value - target;
				memcpy(b.best, b.sel, b.n_sel * sizeof(size_t));
				b.n_best = b.n_sel;
			}
			back = true;
		}
		if (back) {
			if (b.n_sel == 0)
				break;
			bnb_backtrack(&b, values, &pos);
		} else {
			bnb_forward(&b, values, pos);
		}
	}
	if (b.best_excess == UINT64_MAX)
		return AL_E_WALLET_FUNDS;
	memset(selected, 0, n * sizeof(bool));
	*total = 0;
	for (size_t i = 0; i < b.n_best; i++) {
		selected[b.idx[b.best[i]]] = true;
		*total += values[b.idx[b.best[i]]];
	}
	return AL_OK;
}

al_err al_coinsel_largest_first(bool *selected, uint64_t *total, const uint64_t *values, size_t n,
                                uint64_t target)
{
	size_t idx[AL_COINSEL_MAX];
	uint64_t sum = 0;

	if (n > AL_COINSEL_MAX)
		return AL_E_RANGE;
	sort_desc(idx, values, n);
	memset(selected, 0, n * sizeof(bool));
	for (size_t i = 0; i < n && sum < target; i++) {
		selected[idx[i]] = true;
		sum += values[idx[i]];
	}
	if (sum < target)
		return AL_E_WALLET_FUNDS;
	*total = sum;
	return AL_OK;
}
