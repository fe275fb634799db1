/* alight-devchain: BIP 125 replacement in the mempool, as Bitcoin Core v25's MemPoolAccept
 * does it (the conflict loop of PreChecks, EntriesAndTxidsDisjoint, ReplacementChecks).
 * The rules themselves are in src/chain/rbf.h; this file walks the mempool graph and
 * words the rejections as Core's TxValidationState::ToString() does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rbf.h"
#include "devchain.h"

static void list_push(dc_tx ***arr, size_t *n, size_t *cap, dc_tx *t)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*arr = realloc(*arr, *cap * sizeof(**arr));
		if (!*arr) {
			fprintf(stderr, "alight-devchain: out of memory\n");
			exit(1);
		}
	}
	(*arr)[(*n)++] = t;
}

static bool in_mempool(const dc_tx *t)
{
	return t && !t->block;
}

static bool pool_has(void *arg, const uint8_t txid[32])
{
	return in_mempool(dc_tx_by_id(arg, txid));
}

/* Core keeps conflicts in sets ordered by txid (uint256 operator<, a memcmp of the
 * internal bytes); the first rule violation it reports follows that order. */
static int cmp_txid(const void *a, const void *b)
{
	return memcmp((*(dc_tx *const *)a)->txid, (*(dc_tx *const *)b)->txid, 32);
}

void dc_replace_free(dc_replace *rp)
{
	free(rp->direct);
	free(rp->all);
	memset(rp, 0, sizeof(*rp));
}

static void word(dc_reject *rej, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void word(dc_reject *rej, const char *fmt, ...)
{
	va_list ap;

	rej->code = -26;
	va_start(ap, fmt);
	vsnprintf(rej->msg, sizeof(rej->msg), fmt, ap);
	va_end(ap);
}

bool dc_rbf_conflicts(dc_chain *c, const dc_tx *t, dc_replace *rp, dc_reject *rej)
{
	memset(rp, 0, sizeof(*rp));
	for (size_t i = 0; i < t->tx.n_in; i++) {
		dc_spend *s = dc_spender(c, t->tx.in[i].txid, t->tx.in[i].vout);
		bool seen = false;

		if (!s || !in_mempool(s->tx))
			continue;
		for (size_t k = 0; k < rp->n_direct; k++)
			seen = seen || rp->direct[k] == s->tx;
		if (seen)
			continue;
		/* Core v25 PreChecks: "Transactions that don't explicitly signal
		 * replaceability are *not* replaceable with the current logic, even if one
		 * of their unconfirmed ancestors signals replaceability." */
		if (!al_rbf_signals(&s->tx->tx)) {
			word(rej, "%s", al_err_str(AL_E_TXV_MEMPOOL_CONFLICT));
			dc_replace_free(rp);
			return false;
		}
		list_push(&rp->direct, &rp->n_direct, &rp->cap_direct, s->tx);
	}
	if (rp->n_direct > 1)
		qsort(rp->direct, rp->n_direct, sizeof(dc_tx *), cmp_txid);
	return true;
}

/* Add root and its in-mempool descendants to `set` (dedup through `seen`). */
static void add_descendants(const dc_chain *c, dc_tx *root, dc_map *seen, dc_tx ***set, size_t *n,
                            size_t *cap)
{
	uint8_t k[36];
	size_t head = *n;

	dc_key_txid(k, root->txid);
	if (dc_map_get(seen, k))
		return;
	dc_map_put(seen, k, root);
	list_push(set, n, cap, root);
	for (; head < *n; head++) {
		dc_tx *t = (*set)[head];

		for (uint32_t v = 0; v < t->tx.n_out; v++) {
			dc_spend *s = dc_spender(c, t->txid, v);

			if (!s || !in_mempool(s->tx))
				continue;
			dc_key_txid(k, s->tx->txid);
			if (dc_map_get(seen, k))
				continue;
			dc_map_put(seen, k, s->tx);
			list_push(set, n, cap, s->tx);
		}
	}
}

/* Core's GetCountWithDescendants: the transaction and its descendants, each once. */
static size_t count_with_descendants(const dc_chain *c, dc_tx *root)
{
	dc_tx **set = NULL;
	size_t n = 0, cap = 0;
	dc_map seen;

	dc_map_init(&seen, 256);
	add_descendants(c, root, &seen, &set, &n, &cap);
	dc_map_free(&seen);
	free(set);
	return n;
}

/* Core's EntriesAndTxidsDisjoint over the in-mempool ancestors of t: the smallest
 * (by txid) ancestor that is also a direct conflict, or NULL. */
static dc_tx *spends_conflicting(const dc_chain *c, const dc_tx *t, const dc_replace *rp)
{
	dc_tx **anc = NULL, *found = NULL;
	size_t n = 0, cap = 0;
	dc_map seen;
	uint8_t k[36];

	dc_map_init(&seen, 256);
	/* Breadth first: t itself, then each ancestor found. */
	for (size_t head = 0; head <= n; head++) {
		const dc_tx *cur = head == 0 ? t : anc[head - 1];

		for (size_t i = 0; i < cur->tx.n_in; i++) {
			dc_tx *p = dc_tx_by_id(c, cur->tx.in[i].txid);

			if (!in_mempool(p))
				continue;
			dc_key_txid(k, p->txid);
			if (dc_map_get(&seen, k))
				continue;
			dc_map_put(&seen, k, p);
			list_push(&anc, &n, &cap, p);
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t d = 0; d < rp->n_direct; d++) {
			if (anc[i] == rp->direct[d] &&
			    (!found || memcmp(anc[i]->txid, found->txid, 32) < 0))
				found = anc[i];
		}
	}
	dc_map_free(&seen);
	free(anc);
	return found;
}

/* Everything evicted: the direct conflicts and all their descendants; their fees. */
static uint64_t collect_all(const dc_chain *c, dc_replace *rp)
{
	dc_map seen;
	uint64_t fees = 0;

	dc_map_init(&seen, 1024);
	for (size_t i = 0; i < rp->n_direct; i++)
		add_descendants(c, rp->direct[i], &seen, &rp->all, &rp->n_all, &rp->cap_all);
	dc_map_free(&seen);
	for (size_t i = 0; i < rp->n_all; i++)
		fees += rp->all[i]->fee;
	return fees;
}

static void fmt_feerate(char *out, size_t cap, uint64_t per_kvb)
{
	/* Core's CFeeRate::ToString(): "%d.%08d BTC/kvB". */
	snprintf(out, cap, "%llu.%08llu BTC/kvB", (unsigned long long)(per_kvb / 100000000),
	         (unsigned long long)(per_kvb % 100000000));
}

/* Core's ReplacementChecks messages ("<reason>, <debug message>"). */
static void word_rbf(dc_reject *rej, al_err e, const char *id, const al_rbf_result *r)
{
	const char *reason = al_err_str(e);
	char a[48], b[48];

	switch (e) {
	case AL_E_TXV_RBF_FEERATE:
		fmt_feerate(a, sizeof(a), r->new_feerate);
		fmt_feerate(b, sizeof(b), r->old_feerate);
		word(rej, "%s, rejecting replacement %s; new feerate %s <= old feerate %s", reason,
		     id, a, b);
		break;
	case AL_E_TXV_RBF_TOO_MANY:
		/* v25 still ends this debug message with a newline. */
		word(rej,
		     "%s, rejecting replacement %s; too many potential replacements (%llu > %d)\n",
		     reason, id, (unsigned long long)r->count, AL_RBF_MAX_REPLACEMENTS);
		break;
	case AL_E_TXV_RBF_UNCONFIRMED:
		word(rej, "%s, replacement %s adds unconfirmed input, idx %zu", reason, id,
		     r->input);
		break;
	case AL_E_TXV_RBF_LESS_FEES:
		dc_fmt_btc(b, sizeof(b), r->replaced_fee.sat);
		dc_fmt_btc(a, sizeof(a), r->fee.sat);
		word(rej, "%s, rejecting replacement %s, less fees than conflicting txs; %s < %s",
		     reason, id, a, b);
		break;
	case AL_E_TXV_RBF_RELAY_FEE:
		dc_fmt_btc(a, sizeof(a), r->additional.sat);
		dc_fmt_btc(b, sizeof(b), r->min_additional.sat);
		word(rej,
		     "%s, rejecting replacement %s, not enough additional fees to relay; %s < %s",
		     reason, id, a, b);
		break;
	default:
		word(rej, "%s", reason);
		break;
	}
}

bool dc_rbf_check(dc_chain *c, const dc_tx *t, uint64_t fee, size_t vsize, dc_replace *rp,
                  dc_reject *rej)
{
	al_rbf_conflict *direct;
	al_rbf_result r;
	dc_tx *bad = spends_conflicting(c, t, rp);
	char id[65], other[65];
	uint64_t replaced;
	al_err e;

	al_txid_to_hex(id, t->txid);
	if (bad) {
		al_txid_to_hex(other, bad->txid);
		word(rej, "%s, %s spends conflicting transaction %s",
		     al_err_str(AL_E_TXV_SPENDS_CONFLICTING), id, other);
		return false;
	}
	if (rp->n_direct == 0)
		return true;
	direct = calloc(rp->n_direct, sizeof(*direct));
	if (!direct)
		exit(1);
	for (size_t i = 0; i < rp->n_direct; i++) {
		direct[i].tx = &rp->direct[i]->tx;
		direct[i].fee = al_sat_of(rp->direct[i]->fee);
		direct[i].vsize = al_tx_vsize(&rp->direct[i]->tx);
		direct[i].count_with_descendants = count_with_descendants(c, rp->direct[i]);
	}
	replaced = collect_all(c, rp);
	e = al_rbf_check(&t->tx, al_sat_of(fee), vsize, direct, rp->n_direct, al_sat_of(replaced),
	                 pool_has, c, &r);
	free(direct);
	if (e != AL_OK)
		word_rbf(rej, e, id, &r);
	return e == AL_OK;
}
