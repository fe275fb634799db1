/* Chain sync step machine (see sync.h).
 *
 * Committed state: txs[0..n_txs) with their `st`, outs with `spent`, raw[0..raw_used),
 * and what the last committed step saw (seen_*: the shared chain's generation and the
 * server's tip). A step stages into br (its branch of headers: chain/headers.h),
 * txs[n_txs..n_txs+n_new), each entry's `next`/`n_*` fields (touched) and
 * raw[raw_used..raw_stage). commit() checks that all of it still holds against the
 * shared chain and applies it; drop_stage() forgets it. view_gen is the shared chain's
 * generation when the step fixed its view (the server's tip found or connected). */
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

size_t al_sync_mem_size(const al_sync_config *cfg)
{
	return cfg->max_new_headers * sizeof(al_hdr) + cfg->max_txs * sizeof(al_sync_tx) +
	       cfg->max_outputs * sizeof(al_sync_out) + cfg->max_scripts * sizeof(al_sync_script) +
	       cfg->max_txs * sizeof(al_sync_blk) + cfg->raw_cap +
	       (cfg->scratch ? 0 : AL_SYNC_SCRATCH) + AL_SYNC_PAGE_MAX * 32 + 8 * 16;
}

static al_err alloc(al_arena *a, size_t n, size_t size, void **out)
{
	return al_arena_alloc(a, n * size, 16, out);
}

al_err al_sync_init(al_sync *s, al_arena *a, const al_sync_config *cfg)
{
	al_hdr *nh;

	if (!cfg->headers || !cfg->max_new_headers || !cfg->max_txs || !cfg->max_outputs ||
	    !cfg->max_scripts || !cfg->raw_cap)
		return AL_E_ARG;
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->hc = cfg->headers;
	AL_TRY(alloc(a, cfg->max_new_headers, sizeof(al_hdr), (void **)&nh));
	AL_TRY(alloc(a, cfg->max_txs, sizeof(al_sync_tx), (void **)&s->txs));
	AL_TRY(alloc(a, cfg->max_outputs, sizeof(al_sync_out), (void **)&s->outs));
	AL_TRY(alloc(a, cfg->max_scripts, sizeof(al_sync_script), (void **)&s->scripts));
	AL_TRY(alloc(a, cfg->raw_cap, 1, (void **)&s->raw));
	AL_TRY(alloc(a, AL_SYNC_PAGE_MAX, 32, (void **)&s->ids));
	AL_TRY(alloc(a, cfg->max_txs, sizeof(al_sync_blk), (void **)&s->blks));
	if (cfg->scratch) {
		s->scratch = cfg->scratch;
	} else {
		void *mem;

		AL_TRY(alloc(a, AL_SYNC_SCRATCH, 1, &mem));
		al_arena_init(&s->own_scratch, mem, AL_SYNC_SCRATCH);
		s->scratch = &s->own_scratch;
	}
	al_headers_branch_init(&s->br, nh, cfg->max_new_headers);
	return AL_OK;
}

/* ---- committed view --------------------------------------------------------------- */

uint32_t al_sync_tip_height(const al_sync *s)
{
	return al_headers_tip_height(s->hc);
}

void al_sync_tip_hash(const al_sync *s, uint8_t hash[32])
{
	memcpy(hash, al_headers_tip(s->hc)->hash, 32);
}

uint32_t al_sync_server_height(const al_sync *s)
{
	uint32_t tip = al_sync_tip_height(s);

	return s->seen && s->seen_height < tip ? s->seen_height : tip;
}

const al_hdr *al_sync_header_at(const al_sync *s, uint32_t height)
{
	return al_headers_at(s->hc, height);
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

static const al_hdr *view_at(const al_sync *s, uint32_t height);

/* Does the chain (as the step sees it, or as committed) hold this confirmation? One
 * deeper than the window was checked when it was shallower, and no branch this chain
 * takes can reach down there. */
static bool holds(const al_sync *s, const al_sync_txstate *st, bool view)
{
	const al_hdr *h;

	if (!st->confirmed)
		return false;
	if (st->height < al_headers_base_height(s->hc))
		return true;
	h = view ? view_at(s, st->height) : al_headers_at(s->hc, st->height);
	return h && !memcmp(h->hash, st->block_hash, 32);
}

uint32_t al_sync_confirmations(const al_sync *s, const al_sync_tx *t)
{
	if (!holds(s, &t->st, false))
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

/* Transactions, their bytes or their blocks do not fit: a larger configuration would
 * have taken what failed (al_sync_short_of_room). */
static al_err short_of_room(al_sync *s)
{
	s->short_room = true;
	return AL_E_SYNC_FULL;
}

bool al_sync_short_of_room(const al_sync *s)
{
	return s->short_room;
}

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
		return short_of_room(s);
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
	size_t mark = al_arena_mark(s->scratch);
	uint8_t txid[32];
	al_sync_tx *t;
	al_tx tx;
	al_err e;

	if (s->active)
		return AL_E_SYNC_STATE;
	e = al_tx_parse(&tx, s->scratch, raw, len);
	if (e == AL_OK)
		al_tx_txid(&tx, txid);
	al_arena_release(s->scratch, mark);
	AL_TRY(e);
	s->short_room = false;
	if (!find_tx(s, txid, false) && s->raw_used + len > s->cfg.raw_cap)
		return short_of_room(s);
	AL_TRY(add_tx(s, txid, true, false, &t));
	if (t->raw_len == 0) {
		if (s->raw_used + len > s->cfg.raw_cap)
			return short_of_room(s);
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

/* The view's tip, fixed with the view: the branch's, or the shared tip as it was. */
static uint32_t view_tip(const al_sync *s)
{
	return s->view_top;
}

/* The header at `height` in the chain as this step sees it. */
static const al_hdr *view_at(const al_sync *s, uint32_t height)
{
	return height <= s->view_top ? al_headers_branch_at(s->hc, &s->br, height) : NULL;
}

/* Is the view still what the step checked against? The shared chain may move under a
 * step; the view stays the same while the block it grows from (the branch's fork, or
 * the shared tip it took) is still kept at its height. */
static al_err intact(const al_sync *s)
{
	const al_hdr *h = al_headers_at(s->hc, s->anchor);

	return h && !memcmp(h->hash, s->anchor_hash, 32) ? AL_OK : AL_E_SYNC_CHAIN_MOVED;
}

/* Is a committed confirmation still in the chain this step sees? */
static bool still_in_chain(const al_sync *s, const al_sync_txstate *st)
{
	return holds(s, st, true);
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
	s->n_blks = 0;
	s->raw_stage = s->raw_used;
	s->active = s->pending = false;
	s->phase = PH_IDLE;
	al_headers_branch_drop(s->hc, &s->br);
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

/* Everything the step checked still holds (its view is intact), and its branch joins
 * the shared chain as that is now (al_headers_commit fits it first): then, and only
 * then, the step's changes apply. */
static al_err commit(al_sync *s)
{
	bool moved = al_headers_gen(s->hc) != s->view_gen;
	al_headers_change ch = {0};
	uint32_t k;

	AL_TRY(intact(s));
	if (s->br.connected)
		AL_TRY(al_headers_commit(s->hc, &s->br, &ch));
	/* Nothing fails from here on. */
	memset(&s->res, 0, sizeof(s->res));
	s->res.tip_changed = !s->tip_same;
	if (ch.changed) {
		s->res.fork_height = ch.fork;
		s->res.disconnected = ch.disconnected;
		s->res.connected = ch.connected;
	}
	/* A step that saw the chain move under it checked what it saw against the chain
	 * as it is now, not everything: the next step is not "unchanged". */
	s->seen = !moved;
	s->seen_gen = al_headers_gen(s->hc);
	memcpy(s->seen_tip, s->srv_tip, 32);
	s->seen_height = al_headers_find(s->hc, s->srv_tip, &k) ? k : al_sync_tip_height(s);
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
	s->n_blks = 0;
	s->active = s->pending = false;
	s->phase = PH_IDLE;
	s->last_err = AL_OK;
	s->stats.steps_ok++;
	return AL_OK;
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
	s->short_room = false;
	s->view_gen = al_headers_gen(s->hc);
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
			al_esplora_path_header(s->req.path, s->br.want);
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
		case PH_COMMIT: {
			al_err e = commit(s);

			if (e != AL_OK) {
				al_sync_abort(s);
				s->last_err = e;
			}
			return e;
		}
		default:
			return AL_E_SYNC_STATE;
		}
	}
}

/* ---- responses: headers -------------------------------------------------------------- */

/* The server's tip is settled: from here on the step checks against this view, the
 * shared chain up to the branch's fork and the branch above it, or the shared chain up
 * to its tip. */
static void view_fixed(al_sync *s)
{
	bool staged = s->br.connected && s->br.n;

	s->view_gen = al_headers_gen(s->hc);
	s->anchor = staged ? s->br.fork : al_sync_tip_height(s);
	memcpy(s->anchor_hash, al_headers_at(s->hc, s->anchor)->hash, 32);
	s->view_top = staged ? s->br.tip_height : s->anchor;
	s->phase = PH_SCRIPTS;
	s->idx = 0;
}

static al_err on_tip_hash(al_sync *s, const uint8_t *body, size_t len)
{
	uint32_t height;

	AL_TRY(al_esplora_parse_hash(s->srv_tip, body, len));
	if (al_headers_find(s->hc, s->srv_tip, &height)) {
		/* The shared chain's tip or a block behind it: the view is the shared chain. */
		s->tip_same = s->seen && s->seen_gen == al_headers_gen(s->hc) &&
		              !memcmp(s->seen_tip, s->srv_tip, 32);
		s->srv_height = height;
		view_fixed(s);
		return AL_OK;
	}
	s->tip_same = false;
	s->phase = PH_TIP_HEIGHT;
	return AL_OK;
}

static al_err on_header(al_sync *s, const uint8_t *body, size_t len)
{
	al_block_header h;

	AL_TRY(al_esplora_parse_header(&h, body, len));
	AL_TRY(al_headers_branch_add(s->hc, &s->br, &h));
	if (s->br.connected)
		view_fixed(s);
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
	size_t mark = al_arena_mark(s->scratch);
	al_tx tx;
	al_err e = al_tx_parse(&tx, s->scratch, raw, len);

	if (e == AL_OK &&
	    (vin >= tx.n_in || tx.in[vin].vout != o->vout || memcmp(tx.in[vin].txid, o->txid, 32)))
		e = AL_E_SYNC_SPEND;
	al_arena_release(s->scratch, mark);
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
	size_t mark = al_arena_mark(s->scratch), raw_len;
	const uint8_t *raw;
	al_tx tx;
	al_err e;

	if (status == 404)
		return t->listed ? AL_E_SYNC_TX_MISSING : AL_OK;
	if (status != 200)
		return AL_E_ESPLORA_STATUS;
	e = al_esplora_parse_tx_hex(&tx, &raw, &raw_len, s->scratch, t->txid, body, len);
	if (e == AL_OK && s->raw_stage + raw_len > s->cfg.raw_cap)
		e = short_of_room(s);
	if (e == AL_OK) {
		memcpy(s->raw + s->raw_stage, raw, raw_len);
		t->n_raw_off = s->raw_stage;
		t->n_raw_len = raw_len;
		s->raw_stage += raw_len;
	}
	al_arena_release(s->scratch, mark);
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
	const al_hdr *h;
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
	if (!h || memcmp(h->hash, s->pst.block_hash, 32))
		return al_headers_branch_has(&s->br, s->pst.block_hash) ||
		               al_headers_find(s->hc, s->pst.block_hash, &k)
		           ? AL_E_SYNC_HEIGHT
		           : AL_E_SYNC_UNKNOWN_BLOCK;
	return AL_OK;
}

/* /block/:hash of the block the status named: it must be the header chain's block at
 * that height; its transaction count is kept for the proofs of this step. */
static al_err on_block(al_sync *s, int status, const uint8_t *body, size_t len)
{
	const al_hdr *h = view_at(s, s->pst.height);
	al_esplora_block b;
	al_sync_blk *k;

	if (status != 200)
		return AL_E_ESPLORA_STATUS;
	AL_TRY(al_esplora_parse_block(&b, body, len));
	if (!h || memcmp(b.hash, s->pst.block_hash, 32) || b.height != s->pst.height ||
	    memcmp(b.merkle_root, h->h.merkle_root, 32))
		return AL_E_SYNC_BLOCK_INFO;
	if (s->n_blks >= s->cfg.max_txs)
		return short_of_room(s);
	k = &s->blks[s->n_blks++];
	memcpy(k->hash, b.hash, 32);
	k->tx_count = b.tx_count;
	return AL_OK;
}

/* Is this transaction's serialization without witness 64 bytes long? Only when its bytes
 * are known (staged or committed). */
static al_err check_tx64(al_sync *s, const al_sync_tx *t)
{
	size_t mark = al_arena_mark(s->scratch), len = t->n_raw_len ? t->n_raw_len : t->raw_len;
	const uint8_t *raw = s->raw + (t->n_raw_len ? t->n_raw_off : t->raw_off);
	al_tx tx;
	al_err e;

	if (!len)
		return AL_OK;
	e = al_tx_parse(&tx, s->scratch, raw, len);
	if (e == AL_OK && al_tx_len(&tx, false) == AL_TX_AMBIGUOUS_LEN)
		e = AL_E_CHAIN_TX64;
	al_arena_release(s->scratch, mark);
	return e;
}

static al_err on_tx_proof(al_sync *s, al_sync_tx *t, int status, const uint8_t *body, size_t len)
{
	const al_hdr *h = view_at(s, s->pst.height);
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
		AL_TRY(al_headers_branch_begin(s->hc, &s->br, s->srv_tip, s->srv_height));
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
	e = al_headers_branch_check(s->hc, &s->br);
	if (e == AL_OK && s->phase >= PH_SCRIPTS)
		e = intact(s);
	if (e == AL_OK)
		e = dispatch(s, status, body, len);
	if (e != AL_OK) {
		al_sync_abort(s);
		s->last_err = e;
	}
	return e;
}

/* ---- persistence -------------------------------------------------------------------- */

/* Format 2; format 1 also held the sync's own headers (skipped when loaded). */
#define SAVE_VERSION 2

static void save_state(al_wb *w, const al_sync_txstate *st)
{
	al_wb_u8(w, (uint8_t)(st->confirmed | st->dropped << 1));
	al_wb_le32(w, st->height);
	al_wb_le32(w, st->pos);
	al_wb_bytes(w, st->block_hash, 32);
}

void al_sync_save(const al_sync *s, al_wb *w)
{
	al_wb_u8(w, SAVE_VERSION);
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

/* Format 1's header list: the chain is shared now, so the list is only read past. */
static al_err skip_headers(al_cur *c)
{
	uint32_t n;

	(void)al_cur_le32(c);
	n = al_cur_le32(c);
	al_cur_skip(c, (size_t)n * AL_BLOCK_HEADER_LEN);
	return al_cur_ok(c) ? AL_OK : al_cur_done(c);
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
		return short_of_room(s);
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
			return short_of_room(s);
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
	uint8_t ver;
	al_cur c;

	if (s->active)
		return AL_E_SYNC_STATE;
	al_cur_init(&c, data, len);
	ver = al_cur_u8(&c);
	if (!al_cur_ok(&c))
		return AL_E_TRUNCATED;
	if (ver != SAVE_VERSION && ver != 1)
		return AL_E_RANGE;
	if (ver == 1)
		AL_TRY(skip_headers(&c));
	s->raw_used = 0;
	s->seen = false;
	s->short_room = false;
	AL_TRY(load_txs(s, &c));
	return load_outs_scripts(s, &c);
}
