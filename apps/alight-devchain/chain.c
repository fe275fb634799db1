/* alight-devchain chain state: blocks, transaction and spend indexes, mempool,
 * mining, reorganisations, SQLite persistence (see devchain.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "btc/address.h"
#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "devchain.h"

#define SCRATCH_LEN (8u << 20)
/* Room left in a block for the coinbase and header. */
#define BLOCK_TX_WEIGHT_MAX (AL_BLOCK_MAX_WEIGHT - 8000)

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "alight-devchain: out of memory\n");
		exit(1);
	}
	return p;
}

static void push_ptr(void ***arr, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*arr = realloc(*arr, *cap * sizeof(void *));
		if (!*arr) {
			fprintf(stderr, "alight-devchain: out of memory\n");
			exit(1);
		}
	}
	(*arr)[(*n)++] = p;
}

uint64_t dc_subsidy(uint32_t height)
{
	uint32_t halvings = height / DC_HALVING_INTERVAL;

	return halvings >= 64 ? 0 : 5000000000ULL >> halvings;
}

/* ---- transactions ------------------------------------------------------------------ */

static void tx_free(dc_tx *t)
{
	if (!t)
		return;
	free(t->raw);
	free(t->mem);
	free(t->shs);
	free(t);
}

/* Parse a copy of raw; NULL with *err set on failure. */
static dc_tx *tx_new(const uint8_t *raw, size_t len, al_err *err)
{
	dc_tx *t = xmalloc(sizeof(*t));
	size_t memlen = 16 * len + 4096;
	al_arena a;

	t->raw = xmalloc(len);
	memcpy(t->raw, raw, len);
	t->len = len;
	t->mem = xmalloc(memlen);
	al_arena_init(&a, t->mem, memlen);
	*err = al_tx_parse(&t->tx, &a, t->raw, len);
	if (*err != AL_OK) {
		tx_free(t);
		return NULL;
	}
	al_tx_txid(&t->tx, t->txid);
	t->coinbase = al_tx_is_coinbase(&t->tx);
	return t;
}

dc_tx *dc_tx_by_id(const dc_chain *c, const uint8_t txid[32])
{
	uint8_t k[36];

	dc_key_txid(k, txid);
	return dc_map_get(&c->txs, k);
}

dc_spend *dc_spender(const dc_chain *c, const uint8_t txid[32], uint32_t vout)
{
	uint8_t k[36];

	dc_key_outpoint(k, txid, vout);
	return dc_map_get(&c->spends, k);
}

/* Add to the indexes: the transaction and what it spends. */
static void index_tx(dc_chain *c, dc_tx *t)
{
	uint8_t k[36];

	dc_key_txid(k, t->txid);
	dc_map_put(&c->txs, k, t);
	dc_index_add(c, t);
	if (t->coinbase)
		return;
	for (size_t i = 0; i < t->tx.n_in; i++) {
		dc_spend *s = xmalloc(sizeof(*s));

		s->tx = t;
		s->vin = (uint32_t)i;
		dc_key_outpoint(k, t->tx.in[i].txid, t->tx.in[i].vout);
		free(dc_map_get(&c->spends, k));
		dc_map_put(&c->spends, k, s);
	}
}

static void unindex_tx(dc_chain *c, dc_tx *t)
{
	uint8_t k[36];

	dc_index_del(c, t);
	dc_key_txid(k, t->txid);
	if (dc_map_get(&c->txs, k) == t)
		dc_map_del(&c->txs, k);
	if (t->coinbase)
		return;
	for (size_t i = 0; i < t->tx.n_in; i++) {
		dc_spend *s;

		dc_key_outpoint(k, t->tx.in[i].txid, t->tx.in[i].vout);
		s = dc_map_get(&c->spends, k);
		if (s && s->tx == t) {
			free(s);
			dc_map_del(&c->spends, k);
		}
	}
}

/* ---- blocks ------------------------------------------------------------------------ */

dc_block *dc_tip(const dc_chain *c)
{
	return c->n_blocks ? c->blocks[c->n_blocks - 1] : NULL;
}

dc_block *dc_block_by_hash(const dc_chain *c, const uint8_t hash[32])
{
	uint8_t k[36];

	dc_key_txid(k, hash);
	return dc_map_get(&c->bhash, k);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* BIP 113: the median of the last 11 block times, this block included. */
static uint32_t median_time(const dc_chain *c, uint32_t time)
{
	uint32_t t[11];
	size_t n = 0;

	t[n++] = time;
	for (size_t i = c->n_blocks; i > 0 && n < 11; i--)
		t[n++] = c->blocks[i - 1]->hdr.time;
	qsort(t, n, sizeof(t[0]), cmp_u32);
	return t[n / 2];
}

/* Parse and check a serialized block that extends the tip; build its record. The
 * mempool's transaction objects are reused for the transactions it holds. */
static dc_block *block_new(dc_chain *c, const uint8_t *raw, size_t len, al_err *err)
{
	dc_block *b = xmalloc(sizeof(*b));
	uint32_t height = (uint32_t)c->n_blocks;
	size_t mark = al_arena_mark(&c->scratch);
	al_block pb;
	al_cur cur;

	*err = al_block_parse(&pb, &c->scratch, raw, len);
	if (*err == AL_OK && height > 0)
		*err = al_block_check(&pb, AL_NET_REGTEST, height, &c->scratch);
	if (*err == AL_OK && height > 0 && memcmp(pb.header.prev_hash, dc_tip(c)->hash, 32) != 0)
		*err = AL_E_ARG;
	if (*err != AL_OK) {
		al_arena_release(&c->scratch, mark);
		free(b);
		return NULL;
	}
	b->hdr = pb.header;
	al_block_header_hash(b->hash, &b->hdr);
	b->height = height;
	b->raw = xmalloc(len);
	memcpy(b->raw, raw, len);
	b->len = len;
	b->n_tx = pb.n_tx;
	b->txs = xmalloc(pb.n_tx * sizeof(dc_tx *));
	b->weight = 4 * (AL_BLOCK_HEADER_LEN + al_compactsize_len(pb.n_tx));
	al_cur_init(&cur, raw + AL_BLOCK_HEADER_LEN, len - AL_BLOCK_HEADER_LEN);
	(void)al_cur_compactsize(&cur);
	for (size_t i = 0; i < pb.n_tx; i++) {
		size_t tl = al_tx_span(cur.p, cur.len, NULL);
		uint8_t id[32];
		dc_tx *t;

		al_tx_txid(&pb.tx[i], id);
		t = dc_tx_by_id(c, id);
		if (!t || t->block)
			t = tx_new(cur.p, tl, err);
		al_cur_skip(&cur, tl);
		t->block = b;
		t->pos = (uint32_t)i;
		b->txs[i] = t;
		b->weight += al_tx_weight(&t->tx);
	}
	b->mtp = median_time(c, b->hdr.time);
	b->active = true;
	al_arena_release(&c->scratch, mark);
	return b;
}

static void mempool_remove(dc_chain *c, dc_tx *t)
{
	for (size_t i = 0; i < c->n_mempool; i++) {
		if (c->mempool[i] == t) {
			memmove(&c->mempool[i], &c->mempool[i + 1],
			        (c->n_mempool - i - 1) * sizeof(dc_tx *));
			c->n_mempool--;
			return;
		}
	}
}

static void db_exec(dc_chain *c, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "alight-devchain: sqlite: %s\n", msg ? msg : "?");
		exit(1);
	}
}

static void db_step(sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "alight-devchain: sqlite: %s\n",
		        sqlite3_errmsg(sqlite3_db_handle(st)));
		exit(1);
	}
	sqlite3_finalize(st);
}

static sqlite3_stmt *db_prep(dc_chain *c, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "alight-devchain: sqlite: %s\n", sqlite3_errmsg(c->db));
		exit(1);
	}
	return st;
}

static void db_put_block(dc_chain *c, const dc_block *b)
{
	sqlite3_stmt *st = db_prep(c, "INSERT OR REPLACE INTO blocks(hash, height, active, raw) "
	                              "VALUES (?, ?, 1, ?)");

	sqlite3_bind_blob(st, 1, b->hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, b->height);
	sqlite3_bind_blob(st, 3, b->raw, (int)b->len, SQLITE_TRANSIENT);
	db_step(st);
}

static void db_mempool_del(dc_chain *c, const dc_tx *t)
{
	sqlite3_stmt *st = db_prep(c, "DELETE FROM mempool WHERE txid = ?");

	sqlite3_bind_blob(st, 1, t->txid, 32, SQLITE_TRANSIENT);
	db_step(st);
}

/* Make b the new tip: index its transactions, take them out of the mempool. */
static void connect_block(dc_chain *c, dc_block *b, bool persist)
{
	uint8_t k[36];

	for (size_t i = 0; i < b->n_tx; i++) {
		dc_tx *t = b->txs[i];

		if (dc_tx_by_id(c, t->txid) == t) {
			mempool_remove(c, t);
			dc_index_touch(c, t);
			if (persist)
				db_mempool_del(c, t);
		} else {
			index_tx(c, t);
		}
	}
	push_ptr((void ***)&c->blocks, &c->n_blocks, &c->cap_blocks, b);
	dc_key_txid(k, b->hash);
	dc_map_put(&c->bhash, k, b);
	dc_index_touch_mempool(c);
	c->gen++;
	if (persist)
		db_put_block(c, b);
}

static void disconnect_tip(dc_chain *c, dc_tx ***out, size_t *n_out, size_t *cap_out)
{
	dc_block *b = dc_tip(c);
	sqlite3_stmt *st;

	for (size_t i = b->n_tx; i-- > 0;)
		unindex_tx(c, b->txs[i]);
	for (size_t i = 0; i < b->n_tx; i++) {
		if (!b->txs[i]->coinbase)
			push_ptr((void ***)out, n_out, cap_out, b->txs[i]);
	}
	b->active = false;
	c->n_blocks--;
	dc_index_touch_mempool(c);
	c->gen++;
	push_ptr((void ***)&c->stale, &c->n_stale, &c->cap_stale, b);
	st = db_prep(c, "UPDATE blocks SET active = 0 WHERE hash = ?");
	sqlite3_bind_blob(st, 1, b->hash, 32, SQLITE_TRANSIENT);
	db_step(st);
}

/* ---- validation -------------------------------------------------------------------- */

static bool view_coin(void *arg, const uint8_t txid[32], uint32_t vout, al_coin *out)
{
	dc_chain *c = arg;
	dc_tx *t = dc_tx_by_id(c, txid);

	dc_spend *s = dc_spender(c, txid, vout);

	/* Like Core's CCoinsViewMemPool, spends by mempool transactions are not seen here:
	 * the conflict checks before (pre_checks, BIP 125) have dealt with them. */
	if (!t || vout >= t->tx.n_out || (s && s->tx->block))
		return false;
	/* Core never adds the genesis coinbase to the UTXO set. */
	if (t->block && t->block->height == 0)
		return false;
	out->out = t->tx.out[vout];
	out->height = t->block ? t->block->height : dc_tip(c)->height + 1;
	out->coinbase = t->coinbase;
	return true;
}

static uint32_t view_mtp(void *arg, uint32_t height)
{
	dc_chain *c = arg;

	return height < c->n_blocks ? c->blocks[height]->mtp : dc_tip(c)->mtp;
}

void dc_fmt_btc(char *out, size_t cap, uint64_t sat)
{
	size_t n;

	snprintf(out, cap, "%llu.%08llu", (unsigned long long)(sat / 100000000),
	         (unsigned long long)(sat % 100000000));
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0' && out[n - 3] != '.')
		out[--n] = 0;
}

/* Word the rejection as Core's TxValidationState::ToString() does. */
static void word_reject(dc_reject *rej, al_err e, const al_txcheck_result *r)
{
	const char *reason = al_err_str(e);
	char a[40], b[40];
	const char *script;

	rej->code = e == AL_E_TXV_MISSING_INPUTS ? -25 : -26;
	switch (e) {
	case AL_E_TXV_PREMATURE_COINBASE:
		snprintf(rej->msg, sizeof(rej->msg), "%s, tried to spend coinbase at depth %u",
		         reason, r->coinbase_depth);
		break;
	case AL_E_TXV_MIN_RELAY_FEE:
		snprintf(rej->msg, sizeof(rej->msg), "%s, %llu < %llu", reason,
		         (unsigned long long)r->fee.sat, (unsigned long long)r->min_fee);
		break;
	case AL_E_TXV_IN_BELOWOUT:
		dc_fmt_btc(a, sizeof(a), r->in_total.sat);
		dc_fmt_btc(b, sizeof(b), r->out_total.sat);
		snprintf(rej->msg, sizeof(rej->msg), "%s, value in (%s) < value out (%s)", reason,
		         a, b);
		break;
	case AL_E_TXV_SCRIPT_POLICY:
	case AL_E_TXV_SCRIPT_CONSENSUS:
		/* Core reports OP_CHECKSEQUENCEVERIFY failures as SCRIPT_ERR_UNSATISFIED_LOCKTIME.
		 */
		script = r->script_err == AL_E_SCRIPT_SEQUENCE ? al_err_str(AL_E_SCRIPT_LOCKTIME)
		                                               : al_err_str(r->script_err);
		snprintf(rej->msg, sizeof(rej->msg), "%s (%s)", reason, script);
		break;
	default:
		snprintf(rej->msg, sizeof(rej->msg), "%s", reason);
		break;
	}
}

static void db_mempool_put(dc_chain *c, const dc_tx *t)
{
	sqlite3_stmt *st = db_prep(c, "INSERT OR REPLACE INTO mempool(seq, txid, raw) "
	                              "VALUES (?, ?, ?)");

	sqlite3_bind_int64(st, 1, (sqlite3_int64)t->seq);
	sqlite3_bind_blob(st, 2, t->txid, 32, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, t->raw, (int)t->len, SQLITE_TRANSIENT);
	db_step(st);
}

/* The checks before the inputs, in PreChecks' order. */
static bool pre_checks(dc_chain *c, const dc_tx *t, dc_replace *rp, dc_reject *rej)
{
	al_err e = al_tx_check_sanity(&t->tx);

	if (e == AL_OK && t->coinbase)
		e = AL_E_TXV_COINBASE;
	if (e == AL_OK)
		e = al_tx_check_standard(&t->tx);
	if (e == AL_OK && !al_tx_is_final(&t->tx, dc_tip(c)->height + 1, dc_tip(c)->mtp))
		e = AL_E_TXV_NON_FINAL;
	if (e != AL_OK) {
		rej->code = -26;
		snprintf(rej->msg, sizeof(rej->msg), "%s", al_err_str(e));
		return false;
	}
	return dc_rbf_conflicts(c, t, rp, rej);
}

/* Take a replaced transaction out of the mempool and forget it (Core's Finalize: "Remove
 * conflicting transactions from the mempool"). */
static void evict(dc_chain *c, dc_tx *t, bool persist)
{
	mempool_remove(c, t);
	unindex_tx(c, t);
	if (persist)
		db_mempool_del(c, t);
	tx_free(t);
}

static bool reject_decode(const uint8_t *raw, size_t len, al_err e, dc_reject *rej)
{
	al_err why = e == AL_E_TX_AMOUNT ? al_tx_bad_amount(raw, len) : AL_OK;

	if (why != AL_OK) {
		rej->code = -26;
		snprintf(rej->msg, sizeof(rej->msg), "%s", al_err_str(why));
	} else {
		rej->code = -22;
		snprintf(rej->msg, sizeof(rej->msg), "TX decode failed");
	}
	return false;
}

/* Core's MemPoolAccept for one transaction: PreChecks, ReplacementChecks, the scripts,
 * then Finalize (evictions first). */
static bool validate(dc_chain *c, dc_tx *t, dc_replace *rp, dc_reject *rej)
{
	al_txcheck_view v = {view_coin, view_mtp, c, dc_tip(c)->height};
	al_txcheck_result r;
	al_err e;

	if (!pre_checks(c, t, rp, rej))
		return false;
	e = al_tx_check_prevouts(&t->tx, &v, &c->scratch, &r);
	if (e == AL_E_TXV_MISSING_INPUTS) {
		/* Core: outputs of this very transaction already exist. */
		dc_tx *have = dc_tx_by_id(c, t->txid);

		if (have && have->block) {
			rej->code = -27;
			snprintf(rej->msg, sizeof(rej->msg), "Transaction already in block chain");
			return false;
		}
	}
	if (e == AL_OK && !dc_rbf_check(c, t, r.fee.sat, r.vsize, rp, rej))
		return false;
	if (e == AL_OK)
		e = al_tx_check_scripts(c->secp, &t->tx, &v, &c->scratch, &r);
	if (e != AL_OK) {
		word_reject(rej, e, &r);
		return false;
	}
	t->fee = r.fee.sat;
	return true;
}

static bool accept(dc_chain *c, dc_tx *t, dc_reject *rej, bool persist)
{
	dc_replace rp = {0};
	bool ok = validate(c, t, &rp, rej);

	for (size_t i = 0; ok && i < rp.n_all; i++)
		evict(c, rp.all[i], persist);
	dc_replace_free(&rp);
	if (!ok)
		return false;
	t->seq = c->next_seq++;
	index_tx(c, t);
	push_ptr((void ***)&c->mempool, &c->n_mempool, &c->cap_mempool, t);
	if (persist)
		db_mempool_put(c, t);
	return true;
}

bool dc_submit(dc_chain *c, const uint8_t *raw, size_t len, uint8_t txid[32], dc_reject *rej)
{
	al_err e;
	dc_tx *t = tx_new(raw, len, &e), *have;

	if (!t)
		return reject_decode(raw, len, e, rej);
	memcpy(txid, t->txid, 32);
	have = dc_tx_by_id(c, t->txid);
	if (have && !have->block && have->len == len && memcmp(have->raw, raw, len) == 0) {
		/* sendrawtransaction answers the txid for a transaction it already has. */
		tx_free(t);
		return true;
	}
	if (have && have->block) {
		tx_free(t);
		rej->code = -27;
		snprintf(rej->msg, sizeof(rej->msg), "Transaction already in block chain");
		return false;
	}
	if (have) {
		/* Same txid, other witness: Core's "txn-same-nonwitness-data-in-mempool". */
		tx_free(t);
		rej->code = -26;
		snprintf(rej->msg, sizeof(rej->msg), "txn-same-nonwitness-data-in-mempool");
		return false;
	}
	if (!accept(c, t, rej, true)) {
		tx_free(t);
		return false;
	}
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double dc_fee_rate(const dc_chain *c, unsigned target)
{
	double *rates, fast;

	if (target > 6 || c->n_mempool == 0)
		return 1.0;
	rates = xmalloc(c->n_mempool * sizeof(double));
	for (size_t i = 0; i < c->n_mempool; i++)
		rates[i] = (double)c->mempool[i]->fee / (double)al_tx_vsize(&c->mempool[i]->tx);
	qsort(rates, c->n_mempool, sizeof(double), cmp_double);
	fast = rates[c->n_mempool / 2];
	free(rates);
	return fast > 1.0 ? fast : 1.0;
}

/* ---- mining ------------------------------------------------------------------------ */

typedef struct blockbuf {
	uint8_t *p;
	size_t len, cap;
} blockbuf;

static void bb_put(blockbuf *bb, const void *d, size_t n)
{
	if (bb->len + n > bb->cap) {
		bb->cap = 2 * (bb->len + n) + 1024;
		bb->p = realloc(bb->p, bb->cap);
		if (!bb->p)
			exit(1);
	}
	memcpy(bb->p + bb->len, d, n);
	bb->len += n;
}

/* The coinbase: BIP 34 height, an extra nonce, the payout and the BIP 141 commitment
 * over the wtxids of `txs`. */
static void build_coinbase(dc_chain *c, blockbuf *out, uint32_t height, uint64_t value,
                           const uint8_t *script, size_t script_len, dc_tx **txs, size_t n)
{
	static const uint8_t zero[32];
	uint8_t ss[32], commit_script[AL_WITNESS_COMMIT_SCRIPT_LEN], mem[8192], extra[4];
	uint8_t(*w)[32] = xmalloc((n + 1) * 32), root[32], commitment[32];
	al_bytes reserved = {zero, 32};
	al_arena a;
	al_tx cb;
	al_wb wb;
	size_t len;
	uint8_t *raw;

	al_wb_init(&wb, ss, sizeof(ss));
	al_bip34_height_push(&wb, height);
	al_write_le32(extra, c->extranonce++);
	al_script_push(&wb, extra, sizeof(extra));
	memset(w[0], 0, 32);
	for (size_t i = 0; i < n; i++)
		al_tx_wtxid(&txs[i]->tx, w[i + 1]);
	if (al_merkle_root(root, NULL, (const uint8_t(*)[32])w, n + 1) != AL_OK)
		exit(1);
	free(w);
	al_witness_commitment(commitment, root, zero);
	al_wb_init(&wb, commit_script, sizeof(commit_script));
	al_witness_commitment_script(&wb, commitment);
	al_arena_init(&a, mem, sizeof(mem));
	if (al_tx_init(&cb, &a, 2, 0, 1, 2) || al_tx_add_input(&cb, zero, 0xffffffff, 0xffffffff) ||
	    al_tx_add_output(&cb, al_sat_of(value), script, script_len) ||
	    al_tx_add_output(&cb, al_sat_of(0), commit_script, sizeof(commit_script)) ||
	    al_tx_set_witness(&cb, &a, 0, &reserved, 1))
		exit(1);
	al_wb_init(&wb, ss, sizeof(ss));
	al_bip34_height_push(&wb, height);
	al_script_push(&wb, extra, sizeof(extra));
	cb.in[0].script_sig = (al_bytes){ss, wb.len};
	len = al_tx_len(&cb, true);
	raw = xmalloc(len);
	al_wb_init(&wb, raw, len);
	al_tx_write(&wb, &cb, true);
	bb_put(out, raw, len);
	free(raw);
}

static uint32_t now_u32(void)
{
	return (uint32_t)time(NULL);
}

static bool mine_one(dc_chain *c, const uint8_t *script, size_t script_len, bool empty,
                     uint8_t hash_out[32])
{
	dc_block *tip = dc_tip(c), *b;
	uint32_t height = tip->height + 1;
	size_t n = 0, weight = 0;
	uint64_t fees = 0;
	dc_tx **txs = xmalloc((c->n_mempool + 1) * sizeof(dc_tx *));
	blockbuf body = {0}, blk = {0};
	al_block_header h = {0};
	uint8_t hdr[AL_BLOCK_HEADER_LEN], cs[9], hash[32];
	al_wb wb;
	al_u256 limit;
	al_err e;

	for (size_t i = 0; !empty && i < c->n_mempool; i++) {
		size_t w = al_tx_weight(&c->mempool[i]->tx);

		if (weight + w > BLOCK_TX_WEIGHT_MAX)
			break;
		weight += w;
		fees += c->mempool[i]->fee;
		txs[n++] = c->mempool[i];
	}
	build_coinbase(c, &body, height, dc_subsidy(height) + fees, script, script_len, txs, n);
	for (size_t i = 0; i < n; i++)
		bb_put(&body, txs[i]->raw, txs[i]->len);

	/* Header: the merkle root over the txids, a time past the median, regtest PoW. */
	{
		uint8_t(*ids)[32] = xmalloc((n + 1) * 32);
		al_tx cb;
		uint8_t mem[8192];
		al_arena a;

		al_arena_init(&a, mem, sizeof(mem));
		if (al_tx_parse(&cb, &a, body.p, al_tx_span(body.p, body.len, NULL)) != AL_OK)
			exit(1);
		al_tx_txid(&cb, ids[0]);
		for (size_t i = 0; i < n; i++)
			memcpy(ids[i + 1], txs[i]->txid, 32);
		if (al_merkle_root(h.merkle_root, NULL, (const uint8_t(*)[32])ids, n + 1) != AL_OK)
			exit(1);
		free(ids);
	}
	h.version = 0x20000000;
	memcpy(h.prev_hash, tip->hash, 32);
	h.time = now_u32();
	if (h.time <= tip->mtp)
		h.time = tip->mtp + 1;
	h.bits = DC_REGTEST_BITS;
	al_pow_limit(&limit, AL_NET_REGTEST);
	for (h.nonce = 0;; h.nonce++) {
		al_block_header_hash(hash, &h);
		if (al_pow_check(hash, h.bits, &limit) == AL_OK)
			break;
	}
	al_block_header_write(hdr, &h);
	bb_put(&blk, hdr, sizeof(hdr));
	al_wb_init(&wb, cs, sizeof(cs));
	al_wb_compactsize(&wb, n + 1);
	bb_put(&blk, cs, wb.len);
	bb_put(&blk, body.p, body.len);
	free(body.p);
	free(txs);

	b = block_new(c, blk.p, blk.len, &e);
	free(blk.p);
	if (!b) {
		fprintf(stderr, "alight-devchain: mined block fails its own checks: %s\n",
		        al_err_str(e));
		return false;
	}
	connect_block(c, b, true);
	memcpy(hash_out, b->hash, 32);
	return true;
}

bool dc_mine(dc_chain *c, unsigned n, const uint8_t *script, size_t script_len, uint8_t (*out)[32])
{
	bool ok = true;

	db_exec(c, "BEGIN");
	for (unsigned i = 0; ok && i < n; i++)
		ok = mine_one(c, script, script_len, false, out[i]);
	db_exec(c, "COMMIT");
	return ok;
}

/* ---- reorganisation ---------------------------------------------------------------- */

bool dc_reorg(dc_chain *c, unsigned depth)
{
	dc_tx **back = NULL, **pool = c->mempool;
	size_t n_back = 0, n_pool = c->n_mempool;
	uint8_t hash[32];
	dc_reject rej;
	bool ok = true;

	if (depth == 0 || depth >= c->n_blocks)
		return false;
	db_exec(c, "BEGIN");
	/* Take the whole mempool out; it goes back in after the new branch. */
	for (size_t i = 0; i < n_pool; i++)
		unindex_tx(c, pool[i]);
	c->mempool = NULL;
	c->n_mempool = c->cap_mempool = 0;
	db_exec(c, "DELETE FROM mempool");
	for (unsigned i = 0; i < depth; i++) {
		dc_tx **blk = NULL;
		size_t nb = 0, cb = 0;

		disconnect_tip(c, &blk, &nb, &cb);
		/* Keep chain order: earlier blocks' transactions first. */
		for (size_t j = 0; j < n_back; j++)
			push_ptr((void ***)&blk, &nb, &cb, back[j]);
		free(back);
		back = blk;
		n_back = nb;
	}
	for (unsigned i = 0; ok && i <= depth; i++)
		ok = mine_one(c, c->faucet_script, sizeof(c->faucet_script), true, hash);
	/* Disconnected transactions, then the old mempool, re-validated. The stale
	 * blocks keep their own transaction records. */
	for (size_t i = 0; ok && i < n_back; i++) {
		uint8_t id[32];

		(void)dc_submit(c, back[i]->raw, back[i]->len, id, &rej);
	}
	for (size_t i = 0; ok && i < n_pool; i++) {
		uint8_t id[32];

		(void)dc_submit(c, pool[i]->raw, pool[i]->len, id, &rej);
		tx_free(pool[i]);
	}
	free(back);
	free(pool);
	db_exec(c, "COMMIT");
	return ok;
}

/* ---- faucet ------------------------------------------------------------------------ */

typedef struct coinref {
	dc_tx *tx;
	uint32_t vout;
	uint64_t value;
} coinref;

/* Spendable outputs paying the faucet script: mature coinbases, any other. */
static size_t faucet_coins(dc_chain *c, coinref **out)
{
	size_t n = 0, cap = 0;
	uint32_t next = dc_tip(c)->height + 1;

	*out = NULL;
	for (size_t bi = 0; bi < c->txs.nb; bi++) {
		for (dc_map_node *nd = c->txs.b[bi]; nd; nd = nd->next) {
			dc_tx *t = nd->val;

			if (t->coinbase && (!t->block || t->block->height == 0 ||
			                    next - t->block->height < AL_COINBASE_MATURITY))
				continue;
			for (uint32_t v = 0; v < t->tx.n_out; v++) {
				const al_tx_out *o = &t->tx.out[v];

				if (o->script.len != sizeof(c->faucet_script) ||
				    memcmp(o->script.p, c->faucet_script, o->script.len) != 0 ||
				    dc_spender(c, t->txid, v))
					continue;
				if (n == cap) {
					cap = cap ? 2 * cap : 64;
					*out = realloc(*out, cap * sizeof(coinref));
				}
				(*out)[n++] = (coinref){t, v, o->amount.sat};
			}
		}
	}
	return n;
}

static bool sign_inputs(dc_chain *c, al_tx *tx, const coinref *coins, uint8_t (*sigs)[74],
                        uint8_t pub[33], al_arena *a)
{
	uint8_t h160[20], code[25], digest[32];
	al_pubkey pk;
	al_wb w;

	if (al_pubkey_from_privkey(c->secp, &pk, &c->faucet_key) != AL_OK)
		return false;
	al_pubkey_serialize(c->secp, pub, &pk);
	al_hash160(h160, pub, 33);
	al_wb_init(&w, code, sizeof(code));
	al_script_p2wpkh_scriptcode(&w, h160);
	for (size_t i = 0; i < tx->n_in; i++) {
		al_ecdsa_sig sig;
		size_t dl = 72;
		al_bytes items[2];

		if (al_sighash_segwit_v0(digest, tx, i, code, w.len, al_sat_of(coins[i].value),
		                         AL_SIGHASH_ALL) != AL_OK ||
		    al_ecdsa_sign(c->secp, &sig, digest, &c->faucet_key) != AL_OK ||
		    al_ecdsa_sig_serialize_der(c->secp, sigs[i], &dl, &sig) != AL_OK)
			return false;
		sigs[i][dl] = AL_SIGHASH_ALL;
		items[0] = (al_bytes){sigs[i], dl + 1};
		items[1] = (al_bytes){pub, 33};
		if (al_tx_set_witness(tx, a, i, items, 2) != AL_OK)
			return false;
	}
	return true;
}

static bool faucet_pay(dc_chain *c, const coinref *coins, size_t n, const uint8_t *script,
                       size_t script_len, uint64_t amount, uint64_t total, uint8_t txid[32],
                       dc_reject *rej)
{
	size_t memlen = 4096 + n * 256;
	uint8_t *mem = xmalloc(memlen), (*sigs)[74] = xmalloc(n * 74), pub[33], *raw;
	uint64_t fee = 2 * (11 + 68 * n + 2 * 43 + script_len);
	al_arena a;
	al_tx tx;
	al_wb w;
	bool ok = false;
	size_t len;

	al_arena_init(&a, mem, memlen);
	if (al_tx_init(&tx, &a, 2, 0, n, 2) != AL_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (al_tx_add_input(&tx, coins[i].tx->txid, coins[i].vout, 0xfffffffd) != AL_OK)
			goto out;
	}
	if (al_tx_add_output(&tx, al_sat_of(amount), script, script_len) != AL_OK)
		goto out;
	/* Change below the dust threshold is left to the miner. */
	if (total - amount - fee >= 1000 &&
	    al_tx_add_output(&tx, al_sat_of(total - amount - fee), c->faucet_script,
	                     sizeof(c->faucet_script)) != AL_OK)
		goto out;
	if (!sign_inputs(c, &tx, coins, sigs, pub, &a))
		goto out;
	len = al_tx_len(&tx, true);
	raw = xmalloc(len);
	al_wb_init(&w, raw, len);
	al_tx_write(&w, &tx, true);
	ok = dc_submit(c, raw, len, txid, rej);
	free(raw);
out:
	if (!ok && !rej->msg[0])
		snprintf(rej->msg, sizeof(rej->msg), "faucet: could not build the transaction");
	free(sigs);
	free(mem);
	return ok;
}

bool dc_faucet(dc_chain *c, const uint8_t *script, size_t script_len, uint64_t amount,
               uint8_t txid[32], dc_reject *rej)
{
	coinref *coins = NULL;
	size_t n = 0, use = 0;
	uint64_t total = 0, need;
	bool ok;

	rej->code = -4;
	rej->msg[0] = 0;
	for (int round = 0; round < 400; round++) {
		n = faucet_coins(c, &coins);
		total = 0;
		use = 0;
		need = amount + 2 * (11 + 68 * (n < 500 ? n : 500) + 2 * 43 + script_len);
		for (; use < n && use < 500 && total < need; use++)
			total += coins[use].value;
		if (total >= need)
			break;
		free(coins);
		coins = NULL;
		/* Not enough mature coins: mine to the faucet until there are. */
		{
			uint8_t h[32];

			db_exec(c, "BEGIN");
			ok = mine_one(c, c->faucet_script, sizeof(c->faucet_script), false, h);
			db_exec(c, "COMMIT");
			if (!ok)
				return false;
		}
	}
	if (total < need) {
		free(coins);
		snprintf(rej->msg, sizeof(rej->msg), "faucet: insufficient funds");
		return false;
	}
	ok = faucet_pay(c, coins, use, script, script_len, amount, total, txid, rej);
	free(coins);
	return ok;
}

/* ---- open / close ------------------------------------------------------------------ */

static void load_blocks(dc_chain *c)
{
	sqlite3_stmt *st = db_prep(c, "SELECT raw, active, height FROM blocks "
	                              "ORDER BY active DESC, height ASC");

	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *raw = sqlite3_column_blob(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		bool active = sqlite3_column_int(st, 1) != 0;
		al_err e;
		dc_block *b;

		if (!active) {
			/* A stale block: kept for lookups only, checked as far as context-free. */
			uint8_t k[36];

			b = xmalloc(sizeof(*b));
			if (al_block_header_parse(&b->hdr, raw, AL_BLOCK_HEADER_LEN) != AL_OK) {
				free(b);
				continue;
			}
			al_block_header_hash(b->hash, &b->hdr);
			b->height = (uint32_t)sqlite3_column_int64(st, 2);
			b->raw = xmalloc(len);
			memcpy(b->raw, raw, len);
			b->len = len;
			dc_key_txid(k, b->hash);
			dc_map_put(&c->bhash, k, b);
			push_ptr((void ***)&c->stale, &c->n_stale, &c->cap_stale, b);
			continue;
		}
		b = block_new(c, raw, len, &e);
		if (!b) {
			fprintf(stderr, "alight-devchain: stored block %zu invalid: %s\n",
			        c->n_blocks, al_err_str(e));
			exit(1);
		}
		connect_block(c, b, false);
	}
	sqlite3_finalize(st);
}

static void load_mempool(dc_chain *c)
{
	sqlite3_stmt *st = db_prep(c, "SELECT raw FROM mempool ORDER BY seq");
	dc_reject rej;

	while (sqlite3_step(st) == SQLITE_ROW) {
		al_err e;
		dc_tx *t =
		    tx_new(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &e);

		if (t && !accept(c, t, &rej, false))
			tx_free(t);
	}
	sqlite3_finalize(st);
}

static void setup_faucet(dc_chain *c)
{
	static const char tag[] = "alight-devchain faucet key";
	uint8_t h160[20], pub[33];
	al_pubkey pk;
	al_wb w;

	al_sha256(c->faucet_key.k, tag, sizeof(tag) - 1);
	if (al_pubkey_from_privkey(c->secp, &pk, &c->faucet_key) != AL_OK)
		exit(1);
	al_pubkey_serialize(c->secp, pub, &pk);
	al_hash160(h160, pub, 33);
	al_wb_init(&w, c->faucet_script, sizeof(c->faucet_script));
	al_script_p2wpkh(&w, h160);
	if (al_segwit_addr_encode(c->faucet_addr, sizeof(c->faucet_addr), AL_NET_REGTEST, 0, h160,
	                          20) != AL_OK)
		exit(1);
}

int dc_open(dc_chain *c, const char *datadir)
{
	char path[4096];
	void *secp_mem;
	uint8_t seed[32] = {0};
	size_t n_dirty;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/devchain.sqlite", datadir);
	if (sqlite3_open(path, &c->db) != SQLITE_OK) {
		fprintf(stderr, "alight-devchain: cannot open %s\n", path);
		return -1;
	}
	db_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	           "CREATE TABLE IF NOT EXISTS blocks(hash BLOB PRIMARY KEY, height INTEGER,"
	           " active INTEGER, raw BLOB);"
	           "CREATE TABLE IF NOT EXISTS mempool(seq INTEGER PRIMARY KEY, txid BLOB,"
	           " raw BLOB);");
	secp_mem = xmalloc(al_secp_size());
	if (al_secp_create(&c->secp, secp_mem, al_secp_size(), seed) != AL_OK)
		return -1;
	c->scratch_mem = xmalloc(SCRATCH_LEN);
	al_arena_init(&c->scratch, c->scratch_mem, SCRATCH_LEN);
	dc_map_init(&c->txs, 1 << 16);
	dc_map_init(&c->spends, 1 << 16);
	dc_map_init(&c->bhash, 1 << 12);
	dc_index_init(&c->index);
	c->extranonce = now_u32();
	setup_faucet(c);
	load_blocks(c);
	if (c->n_blocks == 0) {
		uint8_t raw[400];
		al_wb w;
		al_err e;
		dc_block *g;

		al_wb_init(&w, raw, sizeof(raw));
		al_genesis_block_write(&w, AL_NET_REGTEST);
		g = block_new(c, raw, w.len, &e);
		if (!g)
			return -1;
		connect_block(c, g, true);
	}
	load_mempool(c);
	(void)dc_index_take_dirty(c, &n_dirty);
	return 0;
}

void dc_close(dc_chain *c)
{
	if (c->db)
		sqlite3_close(c->db);
	c->db = NULL;
	al_privkey_clear(&c->faucet_key);
}
