/* Chain sync step machine (see sync.h).
 *
 * Committed state: hdrs[0..n_hdrs) at heights base_height.., txs[0..n_txs) with their
 * `st`, outs with `spent`, raw[0..raw_used). A step stages into nh (new headers,
 * newest first, connecting above fork_height), txs[n_txs..n_txs+n_new), each entry's
 * `next`/`n_*` fields (touched) and raw[raw_used..raw_stage). commit() applies all of
 * it; drop_stage() forgets it. */
#include "chain/sync.h"

#include <string.h>

enum {
	PH_IDLE,
	PH_TIP_HASH,
	PH_TIP_HEIGHT,
	PH_HEADERS,
	PH_SCRIPTS,
	PH_OUTPUTS_INIT,
	PH_OUTPUTS,
	PH_TXS_INIT,
	PH_TXS,
	PH_COMMIT,
};

/* Sub-steps for one transaction. */
enum { TX_RAW, TX_STATUS, TX_BLOCK, TX_PROOF, TX_DONE };

#define RETARGET_INTERVAL 2016

size_t al_sync_mem_size(const al_sync_config *cfg)
{
	return cfg->max_headers * sizeof(al_sync_hdr) + cfg->max_new_headers * sizeof(al_sync_hdr) +
	       cfg->max_txs * sizeof(al_sync_tx) + cfg->max_outputs * sizeof(al_sync_out) +
	       cfg->max_scripts * sizeof(al_sync_script) + cfg->max_txs * sizeof(al_sync_blk) +
	       cfg->raw_cap + AL_SYNC_SCRATCH + AL_SYNC_PAGE_MAX * 32 + 9 * 64;
}

static al_err alloc(al_arena *a, size_t n, size_t size, void **out)
{
	return al_arena_alloc(a, n * size, 16, out);
}

al_err al_sync_init(al_sync *s, al_arena *a, const al_sync_config *cfg)
{
	void *scratch;

	if (cfg->max_headers < 2 || !cfg->max_new_headers || !cfg->max_txs || !cfg->max_outputs ||
	    !cfg->max_scripts || !cfg->raw_cap)
		return AL_E_ARG;
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	AL_TRY(alloc(a, cfg->max_headers, sizeof(al_sync_hdr), (void **)&s->hdrs));
	AL_TRY(alloc(a, cfg->max_new_headers, sizeof(al_sync_hdr), (void **)&s->nh));
	AL_TRY(alloc(a, cfg->max_txs, sizeof(al_sync_tx), (void **)&s->txs));
	AL_TRY(alloc(a, cfg->max_outputs, sizeof(al_sync_out), (void **)&s->outs));
	AL_TRY(alloc(a, cfg->max_scripts, sizeof(al_sync_script), (void **)&s->scripts));
	AL_TRY(alloc(a, cfg->raw_cap, 1, (void **)&s->raw));
	AL_TRY(alloc(a, AL_SYNC_PAGE_MAX, 32, (void **)&s->ids));
	AL_TRY(alloc(a, cfg->max_txs, sizeof(al_sync_blk), (void **)&s->blks));
	AL_TRY(alloc(a, AL_SYNC_SCRATCH, 1, &scratch));
	al_arena_init(&s->scratch, scratch, AL_SYNC_SCRATCH);
	s->hdrs[0].h = cfg->checkpoint;
	al_block_header_hash(s->hdrs[0].hash, &cfg->checkpoint);
	al_block_work(&s->hdrs[0].work, cfg->checkpoint.bits);
	s->n_hdrs = 1;
	s->base_height = cfg->checkpoint_height;
	return AL_OK;
}

/* ---- committed view --------------------------------------------------------------- */

uint32_t al_sync_tip_height(const al_sync *s)
{
	return s->base_height + (uint32_t)s->n_hdrs - 1;
}

void al_sync_tip_hash(const al_sync *s, uint8_t hash[32])
{
	memcpy(hash, s->hdrs[s->n_hdrs - 1].hash, 32);
}

const al_sync_hdr *al_sync_header_at(const al_sync *s, uint32_t height)
{
	if (height < s->base_height || height > al_sync_tip_height(s))
		return NULL;
	return &s->hdrs[height - s->base_height];
}

static al_sync_tx *find_tx(const al_sync *s, const uint8_t txid[32], bool staged)
{
	size_t n = s->n_txs + (staged ? s->n_new : 0);

	for (size_t i = 0; i < n; i++) {
		if (!memcmp(s->txs[i].txid, txid, 32))
			return &s->txs[i];
	}
	return NULL;
}

const al_sync_tx *al_sync_find_tx(const al_sync *s, const uint8_t txid[32])
{
	return find_tx(s, txid, false);
}

size_t al_sync_tx_count(const al_sync *s)
{
	return s->n_txs;
}

const al_sync_tx *al_sync_tx_at(const al_sync *s, size_t i)
{
	return i < s->n_txs ? &s->txs[i] : NULL;
}

const uint8_t *al_sync_tx_raw(const al_sync *s, const al_sync_tx *t, size_t *len)
{
	*len = t->raw_len;
	return t->raw_len ? s->raw + t->raw_off : NULL;
}

uint32_t al_sync_confirmations(const al_sync *s, const al_sync_tx *t)
{
	if (!t->st.confirmed || t->st.height > al_sync_tip_height(s))
		return 0;
	return al_sync_tip_height(s) - t->st.height + 1;
}

const al_sync_out *al_sync_find_output(const al_sync *s, const uint8_t txid[32], uint32_t vout)
{
	for (size_t i = 0; i < s->n_outs; i++) {
		if (s->outs[i].vout == vout && !memcmp(s->outs[i].txid, txid, 32))
			return &s->outs[i];
	}
	return NULL;
}

bool al_sync_active(const al_sync *s)
{
	return s->active;
}

al_err al_sync_last_error(const al_sync *s)
{
	return s->last_err;
}

const al_sync_result *al_sync_last_result(const al_sync *s)
{
	return &s->res;
}

const al_sync_stats *al_sync_get_stats(const al_sync *s)
{
	return &s->stats;
}

/* ---- registration ------------------------------------------------------------------ */

/* Append a transaction: committed (between steps) or staged (during one). */
static al_err add_tx(al_sync *s, const uint8_t txid[32], bool want_raw, bool listed,
                     al_sync_tx **out)
{
	al_sync_tx *t = find_tx(s, txid, true);

	if (t) {
		t->want_raw |= want_raw;
		t->listed |= listed;
		*out = t;
		return AL_OK;
	}
	if (s->n_txs + s->n_new >= s->cfg.max_txs)
		return AL_E_SYNC_FULL;
	t = &s->txs[s->n_txs + s->n_new];
	memset(t, 0, sizeof(*t));
	memcpy(t->txid, txid, 32);
	t->want_raw = want_raw;
	t->listed = listed;
	t->fresh = true;
	if (s->active)
		s->n_new++;
	else
		s->n_txs++;
	*out = t;
	return AL_OK;
}

al_err al_sync_watch_tx(al_sync *s, const uint8_t txid[32], bool want_raw)
{
	al_sync_tx *t;

	if (s->active)
		return AL_E_SYNC_STATE;
	return add_tx(s, txid, want_raw, false, &t);
}

al_err al_sync_add_tx(al_sync *s, const uint8_t *raw, size_t len)
{
	size_t mark = al_arena_mark(&s->scratch);
	uint8_t txid[32];
	al_sync_tx *t;
	al_tx tx;
	al_err e;

	if (s->active)
		return AL_E_SYNC_STATE;
	e = al_tx_parse(&tx, &s->scratch, raw, len);
	if (e == AL_OK)
		al_tx_txid(&tx, txid);
	al_arena_release(&s->scratch, mark);
	AL_TRY(e);
	if (!find_tx(s, txid, false) && s->raw_used + len > s->cfg.raw_cap)
		return AL_E_SYNC_FULL;
	AL_TRY(add_tx(s, txid, true, false, &t));
	if (t->raw_len == 0) {
		if (s->raw_used + len > s->cfg.raw_cap)
			return AL_E_SYNC_FULL;
		memcpy(s->raw + s->raw_used, raw, len);
		t->raw_off = s->raw_used;
		t->raw_len = len;
		s->raw_used += len;
		s->raw_stage = s->raw_used;
	}
	/* A transaction we are about to broadcast is ours again even if an older attempt
	 * was dropped. */
	t->st.dropped = false;
	return AL_OK;
}

al_err al_sync_watch_output(al_sync *s, const uint8_t txid[32], uint32_t vout)
{
	al_sync_out *o;

	if (s->active)
		return AL_E_SYNC_STATE;
	if (al_sync_find_output(s, txid, vout))
		return AL_OK;
	if (s->n_outs >= s->cfg.max_outputs)
		return AL_E_SYNC_FULL;
	o = &s->outs[s->n_outs++];
	memset(o, 0, sizeof(*o));
	memcpy(o->txid, txid, 32);
	o->vout = vout;
	o->fresh = true;
	return AL_OK;
}

al_err al_sync_watch_script(al_sync *s, const uint8_t *script, size_t len)
{
	al_sync_script *sc;

	if (s->active)
		return AL_E_SYNC_STATE;
	if (len == 0 || len > AL_SYNC_SCRIPT_MAX)
		return AL_E_RANGE;
	for (size_t i = 0; i < s->n_scripts; i++) {
		if (s->scripts[i].len == len && !memcmp(s->scripts[i].script, script, len))
			return AL_OK;
	}
	if (s->n_scripts >= s->cfg.max_scripts)
		return AL_E_SYNC_FULL;
	sc = &s->scripts[s->n_scripts++];
	memset(sc, 0, sizeof(*sc));
	memcpy(sc->script, script, len);
	sc->len = len;
	return AL_OK;
}

/* ---- the staged chain -------------------------------------------------------------- */

static uint32_t view_tip(const al_sync *s)
{
	return s->tip_same ? al_sync_tip_height(s) : s->srv_height;
}

/* The header at `height` in the chain as this step sees it. */
static const al_sync_hdr *view_at(const al_sync *s, uint32_t height)
{
	if (!s->tip_same && height > s->fork_height) {
		size_t i = height - s->fork_height - 1;

		return i < s->n_nh ? &s->nh[s->n_nh - 1 - i] : NULL;
	}
	return al_sync_header_at(s, height);
}

/* Is a committed confirmation still in the chain this step sees? */
static bool still_in_chain(const al_sync *s, const al_sync_txstate *st)
{
	const al_sync_hdr *h;

	if (!st->confirmed)
		return false;
	h = view_at(s, st->height);
	return h && !memcmp(h->hash, st->block_hash, 32);
}

/* Find a kept header by hash; its height into *height. */
static bool kept_height(const al_sync *s, const uint8_t hash[32], uint32_t *height)
{
	for (size_t i = s->n_hdrs; i-- > 0;) {
		if (!memcmp(s->hdrs[i].hash, hash, 32)) {
			*height = s->base_height + (uint32_t)i;
			return true;
		}
	}
	return false;
}

/* The transaction count this step fetched for a block. */
static const al_sync_blk *find_blk(const al_sync *s, const uint8_t hash[32])
{
	for (size_t i = 0; i < s->n_blks; i++) {
		if (!memcmp(s->blks[i].hash, hash, 32))
			return &s->blks[i];
	}
	return NULL;
}

/* ---- stage / commit ---------------------------------------------------------------- */

static void drop_stage(al_sync *s)
{
	for (size_t i = 0; i < s->n_txs; i++) {
		s->txs[i].touched = s->txs[i].check = s->txs[i].listed = false;
		s->txs[i].n_raw_len = 0;
	}
	for (size_t i = 0; i < s->n_outs; i++)
		s->outs[i].touched = s->outs[i].check = false;
	for (size_t i = 0; i < s->n_scripts; i++)
		s->scripts[i].n_next = 0;
	s->n_new = 0;
	s->n_nh = 0;
	s->n_blks = 0;
	s->raw_stage = s->raw_used;
	s->active = s->pending = false;
	s->phase = PH_IDLE;
	al_arena_release(&s->scratch, 0);
}

static void commit_headers(al_sync *s)
{
	size_t keep = s->fork_height - s->base_height + 1;

	s->res.tip_changed = true;
	s->res.fork_height = s->fork_height;
	s->res.disconnected = s->n_hdrs - keep;
	s->res.connected = s->n_nh;
	s->n_hdrs = keep;
	for (size_t i = s->n_nh; i-- > 0;) {
		if (s->n_hdrs == s->cfg.max_headers) {
			memmove(s->hdrs, s->hdrs + 1, (s->n_hdrs - 1) * sizeof(al_sync_hdr));
			s->n_hdrs--;
			s->base_height++;
		}
		s->hdrs[s->n_hdrs++] = s->nh[i];
	}
}

static void commit_tx(al_sync *s, al_sync_tx *t)
{
	if (t->touched) {
		if (t->next.confirmed && !t->st.confirmed)
			s->res.confirmed++;
		if (t->st.confirmed && !t->next.confirmed)
			s->res.unconfirmed++;
		t->st = t->next;
	}
	if (t->n_raw_len) {
		t->raw_off = t->n_raw_off;
		t->raw_len = t->n_raw_len;
	}
	t->fresh = t->touched = t->check = t->listed = false;
	t->n_raw_len = 0;
}

static void commit(al_sync *s)
{
	memset(&s->res, 0, sizeof(s->res));
	if (!s->tip_same)
		commit_headers(s);
	s->res.new_txs = s->n_new;
	s->n_txs += s->n_new;
	s->n_new = 0;
	for (size_t i = 0; i < s->n_txs; i++)
		commit_tx(s, &s->txs[i]);
	for (size_t i = 0; i < s->n_outs; i++) {
		al_sync_out *o = &s->outs[i];

		if (o->touched) {
			o->spent = o->n_spent;
			memcpy(o->spender, o->n_spender, 32);
			o->vin = o->n_vin;
		}
		o->fresh = o->touched = o->check = false;
	}
	for (size_t i = 0; i < s->n_scripts; i++) {
		s->scripts[i].n_listed = s->scripts[i].n_next;
		s->scripts[i].n_next = 0;
	}
	s->raw_used = s->raw_stage;
	s->n_nh = 0;
	s->n_blks = 0;
	s->active = s->pending = false;
	s->phase = PH_IDLE;
	s->last_err = AL_OK;
	s->stats.steps_ok++;
	al_arena_release(&s->scratch, 0);
}

void al_sync_abort(al_sync *s)
{
	if (s->active)
		s->stats.steps_failed++;
	drop_stage(s);
}

void al_sync_begin(al_sync *s)
{
	al_sync_abort(s);
	s->active = true;
	s->phase = PH_TIP_HASH;
	s->idx = 0;
	s->sub = 0;
	s->tip_same = true;
	s->page = false;
}

/* ---- requests ---------------------------------------------------------------------- */

static bool needs_raw(const al_sync_tx *t)
{
	return t->want_raw && !t->raw_len && !t->n_raw_len;
}

static void mark_outputs(al_sync *s)
{
	for (size_t i = 0; i < s->n_outs; i++) {
		al_sync_out *o = &s->outs[i];
		const al_sync_tx *sp = o->spent ? find_tx(s, o->spender, false) : NULL;

		o->check = o->fresh || (!s->tip_same && !(sp && still_in_chain(s, &sp->st)));
	}
}

static void mark_txs(al_sync *s)
{
	for (size_t i = 0; i < s->n_txs + s->n_new; i++) {
		al_sync_tx *t = &s->txs[i];

		/* needs_raw: registered again, now for its bytes (al_sync_watch_tx). */
		if (t->fresh || (t->listed && t->st.dropped) || needs_raw(t)) {
			t->check = true;
			continue;
		}
		if (t->st.confirmed && !still_in_chain(s, &t->st)) {
			/* Disconnected by a reorganisation: unconfirmed until shown again. */
			memset(&t->next, 0, sizeof(t->next));
			t->touched = t->check = true;
		} else if (!s->tip_same && !t->st.confirmed && !t->st.dropped) {
			t->check = true;
		}
	}
}

static void req_set(al_sync *s, const al_sync_request **out)
{
	s->req.method = AL_ESPLORA_GET;
	s->pending = true;
	*out = &s->req;
}

al_err al_sync_next(al_sync *s, const al_sync_request **req)
{
	*req = NULL;
	if (!s->active)
		return AL_E_SYNC_STATE;
	if (s->pending) {
		*req = &s->req;
		return AL_OK;
	}
	for (;;) {
		switch (s->phase) {
		case PH_TIP_HASH:
			al_esplora_path_tip_hash(s->req.path);
			req_set(s, req);
			return AL_OK;
		case PH_TIP_HEIGHT:
			al_esplora_path_tip_height(s->req.path);
			req_set(s, req);
			return AL_OK;
		case PH_HEADERS:
			al_esplora_path_header(s->req.path, s->want);
			req_set(s, req);
			return AL_OK;
		case PH_SCRIPTS:
			if (s->idx >= s->n_scripts) {
				s->phase = PH_OUTPUTS_INIT;
				break;
			}
			al_esplora_path_script_txs(s->req.path, s->scripts[s->idx].script,
			                           s->scripts[s->idx].len,
			                           s->page ? s->page_last : NULL);
			req_set(s, req);
			return AL_OK;
		case PH_OUTPUTS_INIT:
			mark_outputs(s);
			s->idx = 0;
			s->phase = PH_OUTPUTS;
			break;
		case PH_OUTPUTS:
			while (s->idx < s->n_outs && !s->outs[s->idx].check)
				s->idx++;
			if (s->idx >= s->n_outs) {
				s->phase = PH_TXS_INIT;
				break;
			}
			al_esplora_path_outspend(s->req.path, s->outs[s->idx].txid,
			                         s->outs[s->idx].vout);
			req_set(s, req);
			return AL_OK;
		case PH_TXS_INIT:
			mark_txs(s);
			s->idx = 0;
			s->sub = TX_RAW;
			s->phase = PH_TXS;
			break;
		case PH_TXS: {
			al_sync_tx *t;

			if (s->idx >= s->n_txs + s->n_new) {
				s->phase = PH_COMMIT;
				break;
			}
			t = &s->txs[s->idx];
			if (!t->check || s->sub == TX_DONE ||
			    (s->sub >= TX_BLOCK && !s->pst.confirmed)) {
				s->idx++;
				s->sub = TX_RAW;
				break;
			}
			if (s->sub == TX_RAW && !needs_raw(t)) {
				s->sub = TX_STATUS;
				break;
			}
			if (s->sub == TX_BLOCK && find_blk(s, s->pst.block_hash)) {
				s->sub = TX_PROOF;
				break;
			}
			if (s->sub == TX_BLOCK)
				al_esplora_path_block(s->req.path, s->pst.block_hash);
			else
				al_esplora_path_tx(s->req.path, t->txid,
				                   s->sub == TX_RAW      ? "/hex"
				                   : s->sub == TX_STATUS ? "/status"
				                                         : "/merkle-proof");
			req_set(s, req);
			return AL_OK;
		}
		case PH_COMMIT:
			commit(s);
			return AL_OK;
		default:
			return AL_E_SYNC_STATE;
		}
	}
}

/* ---- responses: headers -------------------------------------------------------------- */

static al_err on_tip_hash(al_sync *s, const uint8_t *body, size_t len)
{
	uint8_t h[32], tip[32];
	uint32_t height;

	AL_TRY(al_esplora_parse_hash(h, body, len));
	al_sync_tip_hash(s, tip);
	if (!memcmp(h, tip, 32)) {
		s->phase = PH_SCRIPTS;
		s->idx = 0;
		return AL_OK;
	}
	/* A server whose tip is one of our older blocks offers a chain with less work. */
	if (kept_height(s, h, &height))
		return AL_E_SYNC_LESS_WORK;
	memcpy(s->want, h, 32);
	s->tip_same = false;
	s->phase = PH_TIP_HEIGHT;
	return AL_OK;
}

/* The network's target rule for a header whose parent is `parent` at `height` - 1. */
static al_err check_target(const al_sync *s, const al_block_header *h,
                           const al_block_header *parent, uint32_t height)
{
	al_u256 old_t, new_t, lim;

	if (s->cfg.net == AL_NET_REGTEST)
		/* Regtest: fPowNoRetargeting, every block keeps the genesis target. */
		return h->bits == parent->bits ? AL_OK : AL_E_SYNC_TARGET;
	if (s->cfg.net != AL_NET_MAINNET)
		return AL_OK; /* testnet's 20-minute rule allows minimum-difficulty blocks */
	if (height % RETARGET_INTERVAL != 0)
		return h->bits == parent->bits ? AL_OK : AL_E_SYNC_TARGET;
	/* Core's CalculateNextWorkRequired clamps the timespan to [1/4, 4] times the
	 * target spacing, so the target moves by at most a factor of 4. */
	AL_TRY(al_bits_to_target(&old_t, parent->bits));
	AL_TRY(al_bits_to_target(&new_t, h->bits));
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

/* The staged headers connect above the kept header at `k`: give them work, check the
 * targets and that a reorganisation adds work. */
static al_err connect_at(al_sync *s, uint32_t k)
{
	const al_sync_hdr *base = al_sync_header_at(s, k);
	const al_block_header *parent = &base->h;
	al_u256 work = base->work, w;

	if (k + s->n_nh != s->srv_height)
		return AL_E_SYNC_HEIGHT;
	for (size_t i = s->n_nh; i-- > 0;) {
		uint32_t height = k + (uint32_t)(s->n_nh - i);

		AL_TRY(check_target(s, &s->nh[i].h, parent, height));
		al_block_work(&w, s->nh[i].h.bits);
		if (!al_u256_add(&work, &work, &w))
			return AL_E_OVERFLOW;
		s->nh[i].work = work;
		parent = &s->nh[i].h;
	}
	if (k < al_sync_tip_height(s) && al_u256_cmp(&work, &s->hdrs[s->n_hdrs - 1].work) <= 0)
		return AL_E_SYNC_LESS_WORK;
	s->fork_height = k;
	s->phase = PH_SCRIPTS;
	s->idx = 0;
	return AL_OK;
}

static al_err on_header(al_sync *s, const uint8_t *body, size_t len)
{
	al_sync_hdr *n;
	uint8_t hash[32];
	uint32_t k, parent_height;

	if (s->n_nh >= s->cfg.max_new_headers)
		return AL_E_SYNC_FULL;
	n = &s->nh[s->n_nh];
	AL_TRY(al_esplora_parse_header(&n->h, body, len));
	al_block_header_hash(hash, &n->h);
	if (memcmp(hash, s->want, 32))
		return AL_E_SYNC_HEADER_HASH;
	AL_TRY(al_block_header_check_pow(&n->h, s->cfg.net));
	memcpy(n->hash, hash, 32);
	s->n_nh++;
	/* A header we already keep, served as new: the heights do not add up. */
	if (kept_height(s, hash, &k))
		return AL_E_SYNC_HEIGHT;
	if (kept_height(s, n->h.prev_hash, &k))
		return connect_at(s, k);
	if (s->srv_height < s->n_nh)
		return AL_E_SYNC_HEIGHT;
	parent_height = s->srv_height - (uint32_t)s->n_nh;
	if (parent_height < s->base_height)
		return AL_E_SYNC_NOT_CONNECTED;
	memcpy(s->want, n->h.prev_hash, 32);
	return AL_OK;
}

/* ---- responses: scripts and outputs ----------------------------------------------- */

static al_err on_script(al_sync *s, int status, const uint8_t *body, size_t len)
{
	size_t n, n_conf;
	al_sync_tx *t;

	if (status != 200)
		return AL_E_ESPLORA_STATUS;
	AL_TRY(al_esplora_parse_txids(s->ids, AL_SYNC_PAGE_MAX, &n, &n_conf, body, len));
	for (size_t i = 0; i < n; i++)
		AL_TRY(add_tx(s, s->ids[i], true, true, &t));
	s->scripts[s->idx].n_next += (uint32_t)n;
	/* Esplora: a full page of confirmed transactions may continue at
	 * /txs/chain/:last_seen_txid. */
	if (n_conf == AL_ESPLORA_CHAIN_PAGE) {
		memcpy(s->page_last, s->ids[n - 1], 32);
		s->page = true;
	} else {
		s->page = false;
		s->idx++;
	}
	return AL_OK;
}

/* Do `raw` (a parsed transaction's bytes) spend txid:vout at input vin? */
static al_err check_spend(al_sync *s, const uint8_t *raw, size_t len, const al_sync_out *o,
                          uint32_t vin)
{
	size_t mark = al_arena_mark(&s->scratch);
	al_tx tx;
	al_err e = al_tx_parse(&tx, &s->scratch, raw, len);

	if (e == AL_OK &&
	    (vin >= tx.n_in || tx.in[vin].vout != o->vout || memcmp(tx.in[vin].txid, o->txid, 32)))
		e = AL_E_SYNC_SPEND;
	al_arena_release(&s->scratch, mark);
	return e;
}

static al_err on_outspend(al_sync *s, int status, const uint8_t *body, size_t len)
{
	al_sync_out *o = &s->outs[s->idx];
	al_esplora_outspend os;
	al_sync_tx *t;
	size_t rl;
	const uint8_t *r;

	/* Esplora answers 404 for an output of a transaction it does not know (a channel's
	 * funding before it is broadcast): not spent, as far as the server knows. A lying
	 * server could say {"spent":false} as well; what is spent shows once it is told. */
	if (status == 404) {
		memset(&os, 0, sizeof(os));
	} else if (status != 200) {
		return AL_E_ESPLORA_STATUS;
	} else {
		AL_TRY(al_esplora_parse_outspend(&os, body, len));
	}
	o->touched = true;
	o->n_spent = os.spent;
	memcpy(o->n_spender, os.txid, 32);
	o->n_vin = os.vin;
	if (os.spent) {
		AL_TRY(add_tx(s, os.txid, true, true, &t));
		r = t->raw_len ? s->raw + t->raw_off : NULL;
		rl = t->raw_len;
		if (r)
			AL_TRY(check_spend(s, r, rl, o, os.vin));
	}
	s->idx++;
	return AL_OK;
}

/* ---- responses: transactions -------------------------------------------------------- */

static al_err on_tx_hex(al_sync *s, al_sync_tx *t, int status, const uint8_t *body, size_t len)
{
	size_t mark = al_arena_mark(&s->scratch), raw_len;
	const uint8_t *raw;
	al_tx tx;
	al_err e;

	if (status == 404)
		return t->listed ? AL_E_SYNC_TX_MISSING : AL_OK;
	if (status != 200)
		return AL_E_ESPLORA_STATUS;
	e = al_esplora_parse_tx_hex(&tx, &raw, &raw_len, &s->scratch, t->txid, body, len);
	if (e == AL_OK && s->raw_stage + raw_len > s->cfg.raw_cap)
		e = AL_E_SYNC_FULL;
	if (e == AL_OK) {
		memcpy(s->raw + s->raw_stage, raw, raw_len);
		t->n_raw_off = s->raw_stage;
		t->n_raw_len = raw_len;
		s->raw_stage += raw_len;
	}
	al_arena_release(&s->scratch, mark);
	AL_TRY(e);
	/* Outputs this transaction was reported to spend. */
	for (size_t i = 0; i < s->n_outs; i++) {
		const al_sync_out *o = &s->outs[i];

		if (o->touched && o->n_spent && !memcmp(o->n_spender, t->txid, 32))
			AL_TRY(check_spend(s, s->raw + t->n_raw_off, t->n_raw_len, o, o->n_vin));
	}
	return AL_OK;
}

static al_err on_tx_status(al_sync *s, al_sync_tx *t, int status, const uint8_t *body, size_t len)
{
	const al_sync_hdr *h;
	uint32_t k;

	memset(&s->pst, 0, sizeof(s->pst));
	if (status == 404) {
		if (t->listed)
			return AL_E_SYNC_TX_MISSING;
		memset(&t->next, 0, sizeof(t->next));
		/* Known before and now forgotten: evicted or replaced. */
		t->next.dropped = !t->fresh;
		t->touched = true;
		return AL_OK;
	}
	if (status != 200)
		return AL_E_ESPLORA_STATUS;
	AL_TRY(al_esplora_parse_status(&s->pst, body, len));
	if (!s->pst.confirmed) {
		memset(&t->next, 0, sizeof(t->next));
		t->touched = true;
		return AL_OK;
	}
	if (s->pst.height > view_tip(s))
		return AL_E_SYNC_HEIGHT;
	h = view_at(s, s->pst.height);
	if (!h || memcmp(h->hash, s->pst.block_hash, 32)) {
		for (uint32_t i = 0; i < s->n_nh; i++) {
			if (!memcmp(s->nh[i].hash, s->pst.block_hash, 32))
				return AL_E_SYNC_HEIGHT;
		}
		return kept_height(s, s->pst.block_hash, &k) ? AL_E_SYNC_HEIGHT
		                                             : AL_E_SYNC_UNKNOWN_BLOCK;
	}
	return AL_OK;
}

/* /block/:hash of the block the status named: it must be the header chain's block at
 * that height; its transaction count is kept for the proofs of this step. */
static al_err on_block(al_sync *s, int status, const uint8_t *body, size_t len)
{
	const al_sync_hdr *h = view_at(s, s->pst.height);
	al_esplora_block b;
	al_sync_blk *k;

	if (status != 200)
		return AL_E_ESPLORA_STATUS;
	AL_TRY(al_esplora_parse_block(&b, body, len));
	if (!h || memcmp(b.hash, s->pst.block_hash, 32) || b.height != s->pst.height ||
	    memcmp(b.merkle_root, h->h.merkle_root, 32))
		return AL_E_SYNC_BLOCK_INFO;
	if (s->n_blks >= s->cfg.max_txs)
		return AL_E_SYNC_FULL;
	k = &s->blks[s->n_blks++];
	memcpy(k->hash, b.hash, 32);
	k->tx_count = b.tx_count;
	return AL_OK;
}

/* Is this transaction's serialization without witness 64 bytes long? Only when its bytes
 * are known (staged or committed). */
static al_err check_tx64(al_sync *s, const al_sync_tx *t)
{
	size_t mark = al_arena_mark(&s->scratch), len = t->n_raw_len ? t->n_raw_len : t->raw_len;
	const uint8_t *raw = s->raw + (t->n_raw_len ? t->n_raw_off : t->raw_off);
	al_tx tx;
	al_err e;

	if (!len)
		return AL_OK;
	e = al_tx_parse(&tx, &s->scratch, raw, len);
	if (e == AL_OK && al_tx_len(&tx, false) == AL_TX_AMBIGUOUS_LEN)
		e = AL_E_CHAIN_TX64;
	al_arena_release(&s->scratch, mark);
	return e;
}

static al_err on_tx_proof(al_sync *s, al_sync_tx *t, int status, const uint8_t *body, size_t len)
{
	const al_sync_hdr *h = view_at(s, s->pst.height);
	const al_sync_blk *b = find_blk(s, s->pst.block_hash);
	al_esplora_proof p;

	if (status == 404)
		return AL_E_SYNC_TX_MISSING;
	if (status != 200)
		return AL_E_ESPLORA_STATUS;
	AL_TRY(al_esplora_parse_proof(&p, body, len));
	if (p.height != s->pst.height || !h || !b)
		return AL_E_SYNC_HEIGHT;
	AL_TRY(al_merkle_branch_verify(h->h.merkle_root, t->txid, (const uint8_t(*)[32])p.branch,
	                               p.n_branch, p.pos, b->tx_count));
	/* The leaf-node weakness the other way round: an inner node's 64 bytes served as the
	 * transaction it hashes to. */
	AL_TRY(check_tx64(s, t));
	memset(&t->next, 0, sizeof(t->next));
	t->next.confirmed = true;
	t->next.height = p.height;
	t->next.pos = p.pos;
	memcpy(t->next.block_hash, h->hash, 32);
	t->touched = true;
	return AL_OK;
}

static al_err on_tx(al_sync *s, int status, const uint8_t *body, size_t len)
{
	al_sync_tx *t = &s->txs[s->idx];

	switch (s->sub) {
	case TX_RAW:
		AL_TRY(on_tx_hex(s, t, status, body, len));
		s->sub = TX_STATUS;
		return AL_OK;
	case TX_STATUS:
		AL_TRY(on_tx_status(s, t, status, body, len));
		s->sub = TX_BLOCK;
		return AL_OK;
	case TX_BLOCK:
		AL_TRY(on_block(s, status, body, len));
		s->sub = TX_PROOF;
		return AL_OK;
	default:
		AL_TRY(on_tx_proof(s, t, status, body, len));
		s->sub = TX_DONE;
		return AL_OK;
	}
}

static al_err dispatch(al_sync *s, int status, const uint8_t *body, size_t len)
{
	switch (s->phase) {
	case PH_TIP_HASH:
		if (status != 200)
			return AL_E_ESPLORA_STATUS;
		return on_tip_hash(s, body, len);
	case PH_TIP_HEIGHT:
		if (status != 200)
			return AL_E_ESPLORA_STATUS;
		AL_TRY(al_esplora_parse_height(&s->srv_height, body, len));
		if (s->srv_height < s->base_height)
			return AL_E_SYNC_NOT_CONNECTED;
		s->phase = PH_HEADERS;
		return AL_OK;
	case PH_HEADERS:
		if (status != 200)
			return AL_E_ESPLORA_STATUS;
		return on_header(s, body, len);
	case PH_SCRIPTS:
		return on_script(s, status, body, len);
	case PH_OUTPUTS:
		return on_outspend(s, status, body, len);
	case PH_TXS:
		return on_tx(s, status, body, len);
	default:
		return AL_E_SYNC_STATE;
	}
}

al_err al_sync_on_response(al_sync *s, int status, const uint8_t *body, size_t len)
{
	al_err e;

	if (!s->active || !s->pending)
		return AL_E_SYNC_STATE;
	s->pending = false;
	s->stats.requests++;
	s->stats.bytes += len;
	e = dispatch(s, status, body, len);
	if (e != AL_OK) {
		al_sync_abort(s);
		s->last_err = e;
	}
	return e;
}

/* ---- persistence -------------------------------------------------------------------- */

#define SAVE_VERSION 1

static void save_state(al_wb *w, const al_sync_txstate *st)
{
	al_wb_u8(w, (uint8_t)(st->confirmed | st->dropped << 1));
	al_wb_le32(w, st->height);
	al_wb_le32(w, st->pos);
	al_wb_bytes(w, st->block_hash, 32);
}

void al_sync_save(const al_sync *s, al_wb *w)
{
	uint8_t raw[AL_BLOCK_HEADER_LEN];

	al_wb_u8(w, SAVE_VERSION);
	al_wb_le32(w, s->base_height);
	al_wb_le32(w, (uint32_t)s->n_hdrs);
	for (size_t i = 0; i < s->n_hdrs; i++) {
		al_block_header_write(raw, &s->hdrs[i].h);
		al_wb_bytes(w, raw, sizeof(raw));
	}
	al_wb_le32(w, (uint32_t)s->n_txs);
	for (size_t i = 0; i < s->n_txs; i++) {
		const al_sync_tx *t = &s->txs[i];

		al_wb_bytes(w, t->txid, 32);
		save_state(w, &t->st);
		al_wb_u8(w, (uint8_t)(t->want_raw | t->fresh << 2));
		al_wb_le32(w, (uint32_t)t->raw_len);
		al_wb_bytes(w, s->raw + t->raw_off, t->raw_len);
	}
	al_wb_le32(w, (uint32_t)s->n_outs);
	for (size_t i = 0; i < s->n_outs; i++) {
		const al_sync_out *o = &s->outs[i];

		al_wb_bytes(w, o->txid, 32);
		al_wb_le32(w, o->vout);
		al_wb_u8(w, (uint8_t)(o->spent | o->fresh << 1));
		al_wb_bytes(w, o->spender, 32);
		al_wb_le32(w, o->vin);
	}
	al_wb_le32(w, (uint32_t)s->n_scripts);
	for (size_t i = 0; i < s->n_scripts; i++) {
		al_wb_u8(w, (uint8_t)s->scripts[i].len);
		al_wb_bytes(w, s->scripts[i].script, s->scripts[i].len);
	}
}

static al_err load_headers(al_sync *s, al_cur *c)
{
	uint32_t n;
	al_u256 w;

	s->base_height = al_cur_le32(c);
	n = al_cur_le32(c);
	if (!al_cur_ok(c))
		return al_cur_done(c);
	if (n == 0 || n > s->cfg.max_headers)
		return AL_E_SYNC_FULL;
	for (uint32_t i = 0; i < n; i++) {
		al_sync_hdr *h = &s->hdrs[i];

		al_block_header_read(c, &h->h);
		if (!al_cur_ok(c))
			return al_cur_done(c);
		al_block_header_hash(h->hash, &h->h);
		al_block_work(&w, h->h.bits);
		h->work = w;
		if (i > 0) {
			if (memcmp(h->h.prev_hash, s->hdrs[i - 1].hash, 32))
				return AL_E_SYNC_NOT_CONNECTED;
			if (!al_u256_add(&h->work, &s->hdrs[i - 1].work, &w))
				return AL_E_OVERFLOW;
		}
	}
	s->n_hdrs = n;
	return AL_OK;
}

static void load_state(al_cur *c, al_sync_txstate *st)
{
	uint8_t f = al_cur_u8(c);

	st->confirmed = f & 1;
	st->dropped = (f >> 1) & 1;
	st->height = al_cur_le32(c);
	st->pos = al_cur_le32(c);
	al_cur_bytes(c, st->block_hash, 32);
}

static al_err load_txs(al_sync *s, al_cur *c)
{
	uint32_t n = al_cur_le32(c);

	if (n > s->cfg.max_txs)
		return AL_E_SYNC_FULL;
	for (uint32_t i = 0; i < n && al_cur_ok(c); i++) {
		al_sync_tx *t = &s->txs[i];
		uint8_t f;

		memset(t, 0, sizeof(*t));
		al_cur_bytes(c, t->txid, 32);
		load_state(c, &t->st);
		f = al_cur_u8(c);
		t->want_raw = f & 1;
		t->fresh = (f >> 2) & 1;
		t->raw_len = al_cur_le32(c);
		if (t->raw_len > s->cfg.raw_cap - s->raw_used)
			return AL_E_SYNC_FULL;
		t->raw_off = s->raw_used;
		al_cur_bytes(c, s->raw + s->raw_used, t->raw_len);
		s->raw_used += t->raw_len;
	}
	s->n_txs = n;
	s->raw_stage = s->raw_used;
	return al_cur_ok(c) ? AL_OK : al_cur_done(c);
}

static al_err load_outs_scripts(al_sync *s, al_cur *c)
{
	uint32_t n = al_cur_le32(c);

	if (n > s->cfg.max_outputs)
		return AL_E_SYNC_FULL;
	for (uint32_t i = 0; i < n && al_cur_ok(c); i++) {
		al_sync_out *o = &s->outs[i];
		uint8_t f;

		memset(o, 0, sizeof(*o));
		al_cur_bytes(c, o->txid, 32);
		o->vout = al_cur_le32(c);
		f = al_cur_u8(c);
		o->spent = f & 1;
		o->fresh = (f >> 1) & 1;
		al_cur_bytes(c, o->spender, 32);
		o->vin = al_cur_le32(c);
	}
	s->n_outs = n;
	n = al_cur_le32(c);
	if (n > s->cfg.max_scripts)
		return AL_E_SYNC_FULL;
	for (uint32_t i = 0; i < n && al_cur_ok(c); i++) {
		al_sync_script *sc = &s->scripts[i];

		memset(sc, 0, sizeof(*sc));
		sc->len = al_cur_u8(c);
		if (sc->len == 0 || sc->len > AL_SYNC_SCRIPT_MAX)
			return AL_E_RANGE;
		al_cur_bytes(c, sc->script, sc->len);
	}
	s->n_scripts = n;
	return al_cur_done(c);
}

al_err al_sync_load(al_sync *s, const uint8_t *data, size_t len)
{
	al_cur c;

	if (s->active)
		return AL_E_SYNC_STATE;
	al_cur_init(&c, data, len);
	if (al_cur_u8(&c) != SAVE_VERSION)
		return al_cur_ok(&c) ? AL_E_RANGE : AL_E_TRUNCATED;
	s->raw_used = 0;
	AL_TRY(load_headers(s, &c));
	AL_TRY(load_txs(s, &c));
	return load_outs_scripts(s, &c);
}
