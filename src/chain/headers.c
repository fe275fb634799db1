/* The shared header chain (see headers.h).
 *
 * Kept: hdrs[0..n) at heights base.., the tip last. A branch holds headers newest first,
 * nh[0] at tip_height and nh[n - 1] at fork + 1 once connected. */
#include "chain/headers.h"

#include <string.h>

#define RETARGET_INTERVAL 2016
#define SAVE_VERSION      1

size_t al_headers_mem_size(const al_headers_config *cfg)
{
	return (cfg->max_headers + cfg->max_stage) * sizeof(al_hdr) + 2 * 16;
}

al_err al_headers_init(al_headers *h, al_arena *a, const al_headers_config *cfg)
{
	if (cfg->max_headers < 2 || !cfg->max_stage || cfg->checkpoint_height > AL_BLOCK_MAX_HEIGHT)
		return AL_E_ARG;
	memset(h, 0, sizeof(*h));
	h->cfg = *cfg;
	AL_TRY(al_arena_alloc(a, cfg->max_headers * sizeof(al_hdr), 16, (void **)&h->hdrs));
	AL_TRY(al_arena_alloc(a, cfg->max_stage * sizeof(al_hdr), 16, (void **)&h->stage));
	h->hdrs[0].h = cfg->checkpoint;
	al_block_header_hash(h->hdrs[0].hash, &cfg->checkpoint);
	al_block_work(&h->hdrs[0].work, cfg->checkpoint.bits);
	h->n = 1;
	h->base = cfg->checkpoint_height;
	return AL_OK;
}

uint64_t al_headers_gen(const al_headers *h)
{
	return h->gen;
}

uint32_t al_headers_tip_height(const al_headers *h)
{
	return h->base + (uint32_t)h->n - 1;
}

uint32_t al_headers_base_height(const al_headers *h)
{
	return h->base;
}

const al_hdr *al_headers_tip(const al_headers *h)
{
	return &h->hdrs[h->n - 1];
}

const al_hdr *al_headers_at(const al_headers *h, uint32_t height)
{
	if (height < h->base || height > al_headers_tip_height(h))
		return NULL;
	return &h->hdrs[height - h->base];
}

bool al_headers_find(const al_headers *h, const uint8_t hash[32], uint32_t *height)
{
	/* From the tip down: what a server asks about is nearly always recent. */
	for (size_t i = h->n; i-- > 0;) {
		if (!memcmp(h->hdrs[i].hash, hash, 32)) {
			*height = h->base + (uint32_t)i;
			return true;
		}
	}
	return false;
}

const al_headers_stats *al_headers_get_stats(const al_headers *h)
{
	return &h->stats;
}

/* ---- rules --------------------------------------------------------------------------- */

/* The network's target rule for a header whose parent is `parent` at `height` - 1. */
static al_err check_target(al_net net, const al_block_header *hd, const al_block_header *parent,
                           uint32_t height)
{
	al_u256 old_t, new_t, lim;

	if (net == AL_NET_REGTEST)
		/* Regtest: fPowNoRetargeting, every block keeps the genesis target. */
		return hd->bits == parent->bits ? AL_OK : AL_E_SYNC_TARGET;
	if (net != AL_NET_MAINNET)
		return AL_OK; /* testnet's 20-minute rule allows minimum-difficulty blocks */
	if (height % RETARGET_INTERVAL != 0)
		return hd->bits == parent->bits ? AL_OK : AL_E_SYNC_TARGET;
	/* Core's CalculateNextWorkRequired clamps the timespan to [1/4, 4] times the
	 * target spacing, so the target moves by at most a factor of 4. */
	AL_TRY(al_bits_to_target(&old_t, parent->bits));
	AL_TRY(al_bits_to_target(&new_t, hd->bits));
	lim = old_t;
	for (int i = 0; i < 2; i++) {
		if (!al_u256_add(&lim, &lim, &lim))
			return AL_OK; /* beyond 2^256: the pow limit check already applies */
	}
	if (al_u256_cmp(&new_t, &lim) > 0)
		return AL_E_SYNC_TARGET;
	lim = new_t;
	for (int i = 0; i < 2; i++) {
		if (!al_u256_add(&lim, &lim, &lim))
			return AL_OK;
	}
	return al_u256_cmp(&old_t, &lim) > 0 ? AL_E_SYNC_TARGET : AL_OK;
}

/* `next` on top of `prev` (at height - 1): targets, and the cumulative work into *work. */
static al_err extend(al_net net, const al_block_header *next, const al_block_header *prev,
                     uint32_t height, al_u256 *work)
{
	al_u256 w;

	AL_TRY(check_target(net, next, prev, height));
	al_block_work(&w, next->bits);
	return al_u256_add(work, work, &w) ? AL_OK : AL_E_OVERFLOW;
}

/* The branch's headers on top of the kept block at its fork: targets, work, heights,
 * and more work than what it replaces. */
static al_err join(al_headers *h, al_headers_branch *b)
{
	const al_hdr *base = al_headers_at(h, b->fork);
	const al_block_header *parent;
	al_u256 work;

	if (!base)
		return AL_E_SYNC_CHAIN_MOVED;
	if (b->fork + b->n != b->tip_height)
		return AL_E_SYNC_HEIGHT;
	parent = &base->h;
	work = base->work;
	for (size_t i = b->n; i-- > 0;) {
		AL_TRY(
		    extend(h->cfg.net, &b->nh[i].h, parent, b->fork + (uint32_t)(b->n - i), &work));
		b->nh[i].work = work;
		parent = &b->nh[i].h;
	}
	if (b->n && b->fork < al_headers_tip_height(h) &&
	    al_u256_cmp(&work, &al_headers_tip(h)->work) <= 0)
		return AL_E_SYNC_LESS_WORK;
	return AL_OK;
}

/* ---- branches ------------------------------------------------------------------------ */

void al_headers_branch_init(al_headers_branch *b, al_hdr *own, size_t own_cap)
{
	memset(b, 0, sizeof(*b));
	b->own = b->nh = own;
	b->own_cap = b->cap = own_cap;
}

void al_headers_branch_drop(al_headers *h, al_headers_branch *b)
{
	if (b->lease && h->lease == b->lease)
		h->lease = 0;
	b->lease = 0;
	b->nh = b->own;
	b->cap = b->own_cap;
	b->n = 0;
	b->connected = false;
}

al_err al_headers_branch_begin(al_headers *h, al_headers_branch *b, const uint8_t tip[32],
                               uint32_t tip_height)
{
	al_headers_branch_drop(h, b);
	b->tip_height = tip_height;
	memcpy(b->want, tip, 32);
	return tip_height < h->base ? AL_E_SYNC_NOT_CONNECTED : AL_OK;
}

al_err al_headers_branch_check(const al_headers *h, const al_headers_branch *b)
{
	return b->lease && h->lease != b->lease ? AL_E_SYNC_BUSY : AL_OK;
}

/* Room for one more header: the step's own buffer, then the shared stage (taken from
 * whichever step held it). */
static al_err room(al_headers *h, al_headers_branch *b)
{
	if (b->n < b->cap)
		return AL_OK;
	if (b->lease || b->n >= h->cfg.max_stage)
		return AL_E_SYNC_FULL;
	if (h->lease)
		h->stats.taken++;
	h->stats.borrowed++;
	b->lease = h->lease = ++h->next_lease;
	memcpy(h->stage, b->nh, b->n * sizeof(al_hdr));
	b->nh = h->stage;
	b->cap = h->cfg.max_stage;
	return AL_OK;
}

al_err al_headers_branch_add(al_headers *h, al_headers_branch *b, const al_block_header *hdr)
{
	uint8_t hash[32];
	uint32_t k, at;

	AL_TRY(al_headers_branch_check(h, b));
	if (b->connected)
		return AL_E_SYNC_STATE;
	al_block_header_hash(hash, hdr);
	if (memcmp(hash, b->want, 32))
		return AL_E_SYNC_HEADER_HASH;
	AL_TRY(al_block_header_check_pow(hdr, h->cfg.net));
	if (b->tip_height < b->n)
		return AL_E_SYNC_HEIGHT;
	at = b->tip_height - (uint32_t)b->n; /* where this header must sit */
	/* Kept already: another step committed it since we asked. Where it belongs, the
	 * branch grows from it; anywhere else the heights do not add up. */
	if (al_headers_find(h, hash, &k)) {
		if (k != at)
			return AL_E_SYNC_HEIGHT;
		b->fork = k;
		b->connected = true;
		return join(h, b);
	}
	AL_TRY(room(h, b));
	b->nh[b->n].h = *hdr;
	memcpy(b->nh[b->n].hash, hash, 32);
	b->n++;
	if (al_headers_find(h, hdr->prev_hash, &k)) {
		b->fork = k;
		b->connected = true;
		return join(h, b);
	}
	if (at == 0 || at - 1 <= h->base)
		return AL_E_SYNC_NOT_CONNECTED; /* its parent would have to be kept */
	memcpy(b->want, hdr->prev_hash, 32);
	return AL_OK;
}

const al_hdr *al_headers_branch_at(const al_headers *h, const al_headers_branch *b, uint32_t height)
{
	if (b->connected && height > b->fork) {
		size_t i = height - b->fork - 1;

		return i < b->n ? &b->nh[b->n - 1 - i] : NULL;
	}
	return al_headers_at(h, height);
}

bool al_headers_branch_has(const al_headers_branch *b, const uint8_t hash[32])
{
	for (size_t i = 0; i < b->n; i++) {
		if (!memcmp(b->nh[i].hash, hash, 32))
			return true;
	}
	return false;
}

al_err al_headers_branch_fit(al_headers *h, al_headers_branch *b)
{
	const al_hdr *p;

	AL_TRY(al_headers_branch_check(h, b));
	if (!b->connected)
		return AL_E_SYNC_STATE;
	/* What another step committed meanwhile is not ours to add again. */
	while (b->n > 0) {
		const al_hdr *k = al_headers_at(h, b->fork + 1);

		if (!k || memcmp(k->hash, b->nh[b->n - 1].hash, 32))
			break;
		b->n--;
		b->fork++;
	}
	p = al_headers_at(h, b->fork);
	if (!p || (b->n && memcmp(p->hash, b->nh[b->n - 1].h.prev_hash, 32))) {
		h->stats.moved++;
		return AL_E_SYNC_CHAIN_MOVED;
	}
	return join(h, b);
}

al_err al_headers_commit(al_headers *h, al_headers_branch *b, al_headers_change *out)
{
	size_t keep;

	memset(out, 0, sizeof(*out));
	AL_TRY(al_headers_branch_fit(h, b));
	if (b->n == 0) {
		al_headers_branch_drop(h, b);
		return AL_OK;
	}
	keep = b->fork - h->base + 1;
	out->changed = true;
	out->fork = b->fork;
	out->disconnected = h->n - keep;
	out->connected = b->n;
	h->n = keep;
	/* The window slides: the oldest kept headers go. */
	if (h->n + b->n > h->cfg.max_headers) {
		size_t drop = h->n + b->n - h->cfg.max_headers;

		if (drop >= h->n) {
			h->base += (uint32_t)h->n;
			drop -= h->n;
			h->n = 0;
		} else {
			memmove(h->hdrs, h->hdrs + drop, (h->n - drop) * sizeof(al_hdr));
			h->n -= drop;
			h->base += (uint32_t)drop;
			drop = 0;
		}
		b->n -= drop; /* the oldest staged go too (nh is newest first) */
		h->base += (uint32_t)drop;
	}
	for (size_t i = b->n; i-- > 0;)
		h->hdrs[h->n++] = b->nh[i];
	h->gen++;
	h->stats.commits++;
	h->stats.reorgs += out->disconnected > 0;
	al_headers_branch_drop(h, b);
	return AL_OK;
}

/* ---- persistence --------------------------------------------------------------------- */

void al_headers_save(const al_headers *h, al_wb *w, size_t max)
{
	uint8_t raw[AL_BLOCK_HEADER_LEN];
	size_t from = max && max < h->n ? h->n - max : 0;

	al_wb_u8(w, SAVE_VERSION);
	al_wb_u8(w, (uint8_t)h->cfg.net);
	al_wb_le32(w, h->cfg.checkpoint_height);
	al_wb_le32(w, h->base + (uint32_t)from);
	al_wb_le32(w, (uint32_t)(h->n - from));
	for (size_t i = from; i < h->n; i++) {
		al_block_header_write(raw, &h->hdrs[i].h);
		al_wb_bytes(w, raw, sizeof(raw));
	}
}

/* One pass over the saved headers: checked only (out NULL), or written to out. */
static al_err load_pass(const al_headers *h, al_cur *c, uint32_t base, uint32_t n, al_hdr *out)
{
	uint8_t cp[32];
	al_hdr prev, cur;
	bool cp_seen = false;

	al_block_header_hash(cp, &h->cfg.checkpoint);
	memset(&prev, 0, sizeof(prev));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t height = base + i;

		al_block_header_read(c, &cur.h);
		if (!al_cur_ok(c))
			return al_cur_done(c);
		al_block_header_hash(cur.hash, &cur.h);
		AL_TRY(al_block_header_check_pow(&cur.h, h->cfg.net));
		if (i == 0) {
			al_block_work(&cur.work, cur.h.bits);
		} else {
			if (memcmp(cur.h.prev_hash, prev.hash, 32))
				return AL_E_SYNC_NOT_CONNECTED;
			cur.work = prev.work;
			AL_TRY(extend(h->cfg.net, &cur.h, &prev.h, height, &cur.work));
		}
		if (height == h->cfg.checkpoint_height) {
			if (memcmp(cur.hash, cp, 32))
				return AL_E_SYNC_NOT_CONNECTED;
			cp_seen = true;
		}
		if (out)
			out[i] = cur;
		prev = cur;
	}
	/* A window that reaches the checkpoint's height must hold the checkpoint; one wholly
	 * above it was slid there by this enclave's own commits (the record is sealed). */
	if (!cp_seen && base <= h->cfg.checkpoint_height)
		return AL_E_SYNC_NOT_CONNECTED;
	return AL_OK;
}

al_err al_headers_load(al_headers *h, const uint8_t *data, size_t len)
{
	uint32_t cp_height, base, n;
	uint8_t ver, net;
	al_cur c;

	if (h->gen != 0 || h->lease)
		return AL_E_SYNC_STATE;
	al_cur_init(&c, data, len);
	ver = al_cur_u8(&c);
	net = al_cur_u8(&c);
	cp_height = al_cur_le32(&c);
	base = al_cur_le32(&c);
	n = al_cur_le32(&c);
	if (!al_cur_ok(&c))
		return al_cur_done(&c);
	if (ver != SAVE_VERSION || net != (uint8_t)h->cfg.net ||
	    cp_height != h->cfg.checkpoint_height)
		return AL_E_RANGE;
	if (n == 0 || n > h->cfg.max_headers)
		return AL_E_SYNC_FULL;
	if ((uint64_t)base + n - 1 > AL_BLOCK_MAX_HEIGHT)
		return AL_E_SYNC_HEIGHT;
	if (base + n - 1 < h->cfg.checkpoint_height)
		return AL_E_SYNC_NOT_CONNECTED;
	{
		al_cur check = c;

		AL_TRY(load_pass(h, &check, base, n, NULL));
		AL_TRY(al_cur_done(&check));
	}
	AL_TRY(load_pass(h, &c, base, n, h->hdrs));
	h->base = base;
	h->n = n;
	h->gen++;
	return AL_OK;
}
