/* alight-devchain's script-hash index for the Electrum protocol (see devchain.h).
 *
 * Electrum protocol, "Script Hashes": "A script hash is the hash of the binary bytes of
 * the locking script (ScriptPubKey)" (SHA-256). Every output script is indexed, P2WSH
 * included; the genesis coinbase is not ("uniquely unspendable and therefore not
 * indexed"). chain.c calls dc_index_add / dc_index_del wherever a transaction enters or
 * leaves its transaction map, so the index always describes the same chain and mempool
 * as the Esplora API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btc/tx.h"
#include "crypto/hash.h"
#include "devchain.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "alight-devchain: out of memory\n");
		exit(1);
	}
	return p;
}

void dc_index_init(dc_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	dc_map_init(&ix->map, 1 << 12);
}

static void key_of(uint8_t k[36], const uint8_t sh[32])
{
	memcpy(k, sh, 32);
	memset(k + 32, 0x5a, 4);
}

dc_sh *dc_index_get(const dc_chain *c, const uint8_t sh[32])
{
	uint8_t k[36];

	key_of(k, sh);
	return dc_map_get(&c->index.map, k);
}

static void mark(dc_chain *c, dc_sh *e)
{
	dc_index *ix = &c->index;

	e->have_status = false;
	c->gen++;
	if (e->dirty)
		return;
	e->dirty = true;
	if (ix->n_dirty == ix->cap_dirty) {
		ix->cap_dirty = ix->cap_dirty ? 2 * ix->cap_dirty : 256;
		ix->dirty = xrealloc(ix->dirty, ix->cap_dirty * sizeof(*ix->dirty));
	}
	ix->dirty[ix->n_dirty++] = e;
}

static dc_sh *entry(dc_chain *c, const uint8_t sh[32])
{
	dc_sh *e = dc_index_get(c, sh);
	uint8_t k[36];

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e) {
		fprintf(stderr, "alight-devchain: out of memory\n");
		exit(1);
	}
	memcpy(e->sh, sh, 32);
	key_of(k, sh);
	dc_map_put(&c->index.map, k, e);
	return e;
}

static bool seen(const uint8_t (*h)[32], size_t n, const uint8_t x[32])
{
	for (size_t k = 0; k < n; k++) {
		if (memcmp(h[k], x, 32) == 0)
			return true;
	}
	return false;
}

/* The distinct script hashes t touches: its outputs' scripts and its inputs' prevouts'. */
static size_t touched(const dc_chain *c, const dc_tx *t, uint8_t (**out)[32])
{
	size_t n = 0, max = t->tx.n_out + (t->coinbase ? 0 : t->tx.n_in);
	uint8_t(*h)[32] = xrealloc(NULL, max * 32), tmp[32];

	for (size_t i = 0; i < max; i++) {
		const al_bytes *script;

		if (i < t->tx.n_out) {
			script = &t->tx.out[i].script;
		} else {
			const al_tx_in *in = &t->tx.in[i - t->tx.n_out];
			const dc_tx *p = dc_tx_by_id(c, in->txid);

			if (!p || in->vout >= p->tx.n_out)
				continue;
			script = &p->tx.out[in->vout].script;
		}
		al_sha256(tmp, script->p, script->len);
		if (!seen((const uint8_t(*)[32])h, n, tmp))
			memcpy(h[n++], tmp, 32);
	}
	*out = h;
	return n;
}

void dc_index_add(dc_chain *c, dc_tx *t)
{
	uint8_t(*h)[32];
	size_t n;

	if (t->block && t->block->height == 0)
		return;
	n = touched(c, t, &h);
	free(t->shs);
	t->shs = xrealloc(NULL, n * sizeof(*t->shs));
	t->n_shs = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		dc_sh *e = entry(c, h[i]);

		if (e->n == e->cap) {
			e->cap = e->cap ? 2 * e->cap : 4;
			e->txs = xrealloc(e->txs, e->cap * sizeof(*e->txs));
		}
		e->txs[e->n++] = t;
		t->shs[i] = e;
		mark(c, e);
	}
	free(h);
}

void dc_index_del(dc_chain *c, dc_tx *t)
{
	for (uint32_t i = 0; i < t->n_shs; i++) {
		dc_sh *e = t->shs[i];

		for (uint32_t k = 0; k < e->n; k++) {
			if (e->txs[k] == t) {
				e->txs[k] = e->txs[--e->n];
				break;
			}
		}
		mark(c, e);
	}
	free(t->shs);
	t->shs = NULL;
	t->n_shs = 0;
}

void dc_index_touch(dc_chain *c, dc_tx *t)
{
	for (uint32_t i = 0; i < t->n_shs; i++)
		mark(c, t->shs[i]);
}

void dc_index_touch_mempool(dc_chain *c)
{
	for (size_t i = 0; i < c->n_mempool; i++)
		dc_index_touch(c, c->mempool[i]);
}

dc_sh **dc_index_take_dirty(dc_chain *c, size_t *n)
{
	dc_index *ix = &c->index;

	for (size_t i = 0; i < ix->n_dirty; i++)
		ix->dirty[i]->dirty = false;
	*n = ix->n_dirty;
	ix->n_dirty = 0;
	return ix->dirty;
}

int64_t dc_mempool_height(const dc_chain *c, const dc_tx *t)
{
	for (size_t i = 0; i < t->tx.n_in; i++) {
		const dc_tx *p = dc_tx_by_id(c, t->tx.in[i].txid);

		if (p && !p->block)
			return -1;
	}
	return 0;
}

/* Electrum protocol, "Status": "Order confirmed transactions by increasing height (and
 * position in the block ...)"; mempool transactions by "(-height, tx_hash)", "0 height
 * txs come before -1 height txs, and secondarily the txid (in network byteorder)". */
static int cmp_hist(const void *a, const void *b)
{
	const dc_hist *x = a, *y = b;
	bool cx = x->tx->block != NULL, cy = y->tx->block != NULL;

	if (cx != cy)
		return cx ? -1 : 1;
	if (cx) {
		if (x->height != y->height)
			return x->height < y->height ? -1 : 1;
		return x->tx->pos < y->tx->pos ? -1 : x->tx->pos > y->tx->pos;
	}
	if (x->height != y->height)
		return x->height > y->height ? -1 : 1;
	return memcmp(x->tx->txid, y->tx->txid, 32);
}

size_t dc_index_history(const dc_chain *c, const dc_sh *e, dc_hist **out)
{
	dc_hist *h = xrealloc(NULL, e->n * sizeof(*h));

	for (uint32_t i = 0; i < e->n; i++) {
		h[i].tx = e->txs[i];
		h[i].height = e->txs[i]->block ? (int64_t)e->txs[i]->block->height
		                               : dc_mempool_height(c, e->txs[i]);
	}
	qsort(h, e->n, sizeof(*h), cmp_hist);
	*out = h;
	return e->n;
}

bool dc_index_status(const dc_chain *c, dc_sh *e, uint8_t status[32])
{
	dc_hist *h;
	size_t n;
	al_sha256_ctx ctx;

	if (e->have_status) {
		memcpy(status, e->status, 32);
		return !e->empty;
	}
	/* Protocol 1.4 ("Old Status"): the SHA-256 of the concatenated "tx_hash:height:"
	 * strings, or null when there are no transactions. */
	n = dc_index_history(c, e, &h);
	al_sha256_init(&ctx);
	for (size_t i = 0; i < n; i++) {
		char id[65], part[100];
		int len;

		al_txid_to_hex(id, h[i].tx->txid);
		len = snprintf(part, sizeof(part), "%s:%lld:", id, (long long)h[i].height);
		al_sha256_update(&ctx, part, (size_t)len);
	}
	al_sha256_final(&ctx, e->status);
	free(h);
	e->empty = n == 0;
	e->have_status = true;
	memcpy(status, e->status, 32);
	return !e->empty;
}
