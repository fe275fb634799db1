/* An Electrum protocol session: requests answered from the chain, subscriptions and
 * their notifications (see electrum.h). Called with the chain's lock held; no I/O.
 * Shapes and errors as ElectrumX gives them (spesmilo/electrumx docs/protocol-methods.rst,
 * protocol 1.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btc/script.h"
#include "btc/tx.h"
#include "chain/block.h"
#include "crypto/hash.h"
#include "electrum.h"
#include "util/hex.h"

/* Reals go out with 16 significant digits: 1e-05 stays "1e-05", not 1.0000000000000001e-05. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))

void el_limits_default(el_limits *l)
{
	l->max_line = 1u << 20;
	l->max_queue = 4u << 20;
	l->max_subs = 20000;
	l->max_conns = 256;
	l->idle_ms = 600000; /* ElectrumX's default session timeout */
}

/* ---- byte queue -------------------------------------------------------------------------- */

void el_buf_put(el_buf *b, const void *data, size_t n)
{
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		if (b->off > 0) {
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		if (b->len + n > b->cap) {
			size_t cap = b->cap ? b->cap : 4096;

			while (cap < b->len + n)
				cap *= 2;
			b->p = realloc(b->p, cap);
			if (!b->p) {
				fprintf(stderr, "alight-devchain: out of memory\n");
				exit(1);
			}
			b->cap = cap;
		}
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

size_t el_buf_pending(const el_buf *b)
{
	return b->len - b->off;
}

void el_buf_consume(el_buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void el_buf_free(el_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- output -------------------------------------------------------------------------------- */

static char *dump(json_t *j, size_t *n)
{
	char *s = json_dumps(j, DUMP_FLAGS);

	if (!s) {
		fprintf(stderr, "alight-devchain: out of memory\n");
		exit(1);
	}
	*n = strlen(s);
	return s;
}

static void put_json(el_session *s, json_t *j)
{
	size_t n;
	char *txt = dump(j, &n);

	el_buf_put(&s->out, txt, n);
	el_buf_put(&s->out, "\n", 1);
	free(txt);
	json_decref(j);
}

static json_t *envelope(json_t *id)
{
	json_t *j = json_object();

	json_object_set_new(j, "jsonrpc", json_string("2.0"));
	json_object_set(j, "id", id ? id : json_null());
	return j;
}

/* A message as a JSON string. It may quote what a client sent, cut short in the middle of
 * a UTF-8 sequence: then every byte outside ASCII becomes '?'. */
static json_t *message(const char *msg)
{
	json_t *j = json_string(msg);
	char ascii[sizeof(((el_error *)0)->msg)];
	size_t i = 0;

	if (j)
		return j;
	for (; msg[i] && i + 1 < sizeof(ascii); i++)
		ascii[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
	ascii[i] = 0;
	return json_string(ascii);
}

static json_t *error_obj(json_t *id, int code, const char *msg)
{
	json_t *j = envelope(id), *e = json_object();

	json_object_set_new(e, "code", json_integer(code));
	json_object_set_new(e, "message", message(msg));
	json_object_set_new(j, "error", e);
	return j;
}

void el_reply_error(el_session *s, json_t *id, int code, const char *msg)
{
	put_json(s, error_obj(id, code, msg));
}

static json_t *header_hex(const dc_block *b)
{
	uint8_t hdr[AL_BLOCK_HEADER_LEN];

	al_block_header_write(hdr, &b->hdr);
	return dc_json_hex(hdr, sizeof(hdr));
}

static json_t *tip_json(const dc_chain *c)
{
	json_t *j = json_object();

	json_object_set_new(j, "height", json_integer(dc_tip(c)->height));
	json_object_set_new(j, "hex", header_hex(dc_tip(c)));
	return j;
}

/* An error for the request: no result. */
#define fail(err, ...) (el_error_set(err, __VA_ARGS__), (json_t *)NULL)

/* ---- sessions ------------------------------------------------------------------------------ */

typedef struct el_sub {
	bool empty;
	uint8_t status[32];
} el_sub;

static void sub_key(uint8_t k[36], const uint8_t sh[32])
{
	memcpy(k, sh, 32);
	memset(k + 32, 0, 4);
}

void el_session_init(el_session *s, const el_limits *lim, uint16_t tcp_port)
{
	memset(s, 0, sizeof(*s));
	s->lim = lim;
	s->tcp_port = tcp_port;
	dc_map_init(&s->subs, 16);
}

void el_session_free(el_session *s)
{
	for (size_t i = 0; i < s->subs.nb; i++) {
		for (dc_map_node *n = s->subs.b[i]; n; n = n->next)
			free(n->val);
	}
	dc_map_free(&s->subs);
	el_buf_free(&s->out);
}

/* ---- server.* -------------------------------------------------------------------------- */

/* Dotted version numbers compared numerically, component by component. */
static int cmp_version(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = strtoul(a, (char **)&a, 10), y = strtoul(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		a += *a == '.';
		b += *b == '.';
	}
	return 0;
}

static json_t *server_version(const el_req *r, el_error *err)
{
	json_t *a;

	/* "protocol_version ... The default is "1.4"": the client's range must hold ours. */
	if (r->p[1].present && (cmp_version(r->p[1].pmin, EL_PROTOCOL) > 0 ||
	                        cmp_version(r->p[1].pmax, EL_PROTOCOL) < 0))
		return fail(err, EL_ERR_BAD_REQUEST, "unsupported protocol version: %s",
		            r->p[1].pmin);
	a = json_array();
	json_array_append_new(a, json_string(EL_SERVER_NAME));
	json_array_append_new(a, json_string(EL_PROTOCOL));
	return a;
}

static json_t *server_features(const el_session *s, const dc_chain *c)
{
	json_t *j = json_object(), *hosts = json_object(), *h = json_object();

	json_object_set_new(h, "tcp_port", json_integer(s->tcp_port));
	json_object_set_new(h, "ssl_port", json_null());
	json_object_set_new(hosts, "127.0.0.1", h);
	json_object_set_new(j, "hosts", hosts);
	json_object_set_new(j, "genesis_hash", dc_json_hash(c->blocks[0]->hash));
	json_object_set_new(j, "hash_function", json_string("sha256"));
	json_object_set_new(j, "server_version", json_string(EL_SERVER_NAME));
	json_object_set_new(j, "protocol_min", json_string(EL_PROTOCOL));
	json_object_set_new(j, "protocol_max", json_string(EL_PROTOCOL));
	json_object_set_new(j, "pruning", json_null());
	return j;
}

/* ---- blockchain.block.* ------------------------------------------------------------------ */

/* "root: The merkle root of all blockchain headers up to and including cp_height";
 * "branch: The merkle branch of header up to root, deepest pairing first". */
static void checkpoint(const dc_chain *c, json_t *j, uint64_t height, uint64_t cp)
{
	size_t n = (size_t)cp + 1, nb;
	uint8_t(*leaves)[32] = malloc(n * 32), root[32], branch[32][32];
	json_t *a = json_array();

	if (!leaves)
		exit(1);
	for (size_t i = 0; i < n; i++)
		memcpy(leaves[i], c->blocks[i]->hash, 32);
	if (al_merkle_root(root, NULL, (const uint8_t(*)[32])leaves, n) != AL_OK ||
	    al_merkle_branch(branch, 32, &nb, (const uint8_t(*)[32])leaves, n, (size_t)height) !=
	        AL_OK)
		exit(1);
	free(leaves);
	for (size_t i = 0; i < nb; i++)
		json_array_append_new(a, dc_json_hash(branch[i]));
	json_object_set_new(j, "branch", a);
	json_object_set_new(j, "root", dc_json_hash(root));
}

static json_t *block_header(const dc_chain *c, const el_req *r, el_error *err)
{
	uint64_t h = r->p[0].u, cp = r->p[1].present ? r->p[1].u : 0;
	json_t *j;

	if (h >= c->n_blocks)
		return fail(err, EL_ERR_BAD_REQUEST, "height %llu out of range",
		            (unsigned long long)h);
	if (cp == 0)
		return header_hex(c->blocks[h]);
	if (h > cp || cp >= c->n_blocks)
		return fail(err, EL_ERR_BAD_REQUEST,
		            "header height %llu must be <= cp_height %llu "
		            "<= chain height %u",
		            (unsigned long long)h, (unsigned long long)cp, dc_tip(c)->height);
	j = json_object();
	json_object_set_new(j, "header", header_hex(c->blocks[h]));
	checkpoint(c, j, h, cp);
	return j;
}

static json_t *block_headers(const dc_chain *c, const el_req *r, el_error *err)
{
	uint64_t start = r->p[0].u, want = r->p[1].u, cp = r->p[2].present ? r->p[2].u : 0;
	size_t n = 0;
	char *hex;
	json_t *j;

	/* "If the chain has not extended sufficiently far, only the available headers will
	 * be returned. If more headers than max were requested at most max will be returned." */
	if (want > EL_MAX_HEADERS)
		want = EL_MAX_HEADERS;
	if (start < c->n_blocks)
		n = (size_t)(want < c->n_blocks - start ? want : c->n_blocks - start);
	if (cp != 0 && n > 0 && (start + n - 1 > cp || cp >= c->n_blocks))
		return fail(err, EL_ERR_BAD_REQUEST,
		            "header range must end <= cp_height %llu "
		            "<= chain height %u",
		            (unsigned long long)cp, dc_tip(c)->height);
	hex = malloc(n * 2 * AL_BLOCK_HEADER_LEN + 1);
	if (!hex)
		exit(1);
	hex[0] = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t hdr[AL_BLOCK_HEADER_LEN];

		al_block_header_write(hdr, &c->blocks[start + i]->hdr);
		if (al_hex_encode(hex + i * 2 * AL_BLOCK_HEADER_LEN, 2 * AL_BLOCK_HEADER_LEN + 1,
		                  hdr, sizeof(hdr)) != AL_OK)
			exit(1);
	}
	j = json_object();
	json_object_set_new(j, "count", json_integer((json_int_t)n));
	json_object_set_new(j, "hex", json_stringn(hex, n * 2 * AL_BLOCK_HEADER_LEN));
	json_object_set_new(j, "max", json_integer(EL_MAX_HEADERS));
	free(hex);
	if (cp != 0 && n > 0)
		checkpoint(c, j, start + n - 1, cp);
	return j;
}

/* ---- fees ------------------------------------------------------------------------------------ */

/* BTC per kvB from sat/vB, rounded to the satoshi per kvB. */
static json_t *btc_per_kvb(double sat_per_vb)
{
	return json_real((double)(uint64_t)(sat_per_vb * 1000.0 + 0.5) / 1e8);
}

typedef struct rate_bin {
	uint64_t rate; /* sat/vB, rounded down */
	uint64_t vsize;
} rate_bin;

static int cmp_bin(const void *a, const void *b)
{
	const rate_bin *x = a, *y = b;

	return x->rate > y->rate ? -1 : x->rate < y->rate;
}

/* "an array of [fee, vsize] pairs, where vsize_n is the cumulative virtual size of
 * mempool transactions with a fee rate in the interval [fee_n1, fee_n], and fee_n1 >
 * fee_n": one bin per whole sat/vB, highest first. */
static json_t *fee_histogram(const dc_chain *c)
{
	rate_bin *bins = malloc((c->n_mempool + 1) * sizeof(*bins));
	size_t n = 0;
	json_t *a = json_array();

	if (!bins)
		exit(1);
	for (size_t i = 0; i < c->n_mempool; i++) {
		size_t vs = al_tx_vsize(&c->mempool[i]->tx);

		bins[i] = (rate_bin){c->mempool[i]->fee / (vs ? vs : 1), vs};
	}
	qsort(bins, c->n_mempool, sizeof(*bins), cmp_bin);
	for (size_t i = 0; i < c->n_mempool; i++) {
		if (n > 0 && bins[n - 1].rate == bins[i].rate)
			bins[n - 1].vsize += bins[i].vsize;
		else
			bins[n++] = bins[i];
	}
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array();

		json_array_append_new(p, json_integer((json_int_t)bins[i].rate));
		json_array_append_new(p, json_integer((json_int_t)bins[i].vsize));
		json_array_append_new(a, p);
	}
	free(bins);
	return a;
}

/* ---- blockchain.scripthash.* ----------------------------------------------------------- */

static json_t *status_json(const dc_chain *c, const uint8_t sh[32], el_sub *keep)
{
	dc_sh *e = dc_index_get(c, sh);
	uint8_t st[32] = {0};
	bool have = e && dc_index_status(c, e, st);

	if (keep) {
		keep->empty = !have;
		memcpy(keep->status, st, 32);
	}
	return have ? dc_json_hex(st, 32) : json_null();
}

static json_t *sh_subscribe(el_session *s, const dc_chain *c, const el_req *r, el_error *err)
{
	uint8_t k[36];
	el_sub *sub;

	sub_key(k, r->p[0].h);
	sub = dc_map_get(&s->subs, k);
	if (!sub) {
		if (s->subs.count >= s->lim->max_subs)
			return fail(err, EL_ERR_BAD_REQUEST, "too many subscriptions (at most %zu)",
			            s->lim->max_subs);
		sub = calloc(1, sizeof(*sub));
		if (!sub)
			exit(1);
		dc_map_put(&s->subs, k, sub);
	}
	return status_json(c, r->p[0].h, sub);
}

static json_t *sh_unsubscribe(el_session *s, const el_req *r)
{
	uint8_t k[36];
	el_sub *sub;

	sub_key(k, r->p[0].h);
	sub = dc_map_get(&s->subs, k);
	if (!sub)
		return json_false();
	free(sub);
	dc_map_del(&s->subs, k);
	return json_true();
}

/* The history of a script hash in the protocol's order; none for an unknown one. */
static size_t history(const dc_chain *c, const uint8_t sh[32], dc_hist **h)
{
	dc_sh *e = dc_index_get(c, sh);

	*h = NULL;
	return e ? dc_index_history(c, e, h) : 0;
}

static json_t *sh_history(const dc_chain *c, const el_req *r, bool mempool_only)
{
	json_t *a = json_array();
	dc_hist *h;
	size_t n = history(c, r->p[0].h, &h);

	for (size_t i = 0; i < n; i++) {
		json_t *item;

		if (mempool_only && h[i].tx->block)
			continue;
		item = json_object();
		json_object_set_new(item, "tx_hash", dc_json_hash(h[i].tx->txid));
		json_object_set_new(item, "height", json_integer((json_int_t)h[i].height));
		if (!h[i].tx->block)
			json_object_set_new(item, "fee", json_integer((json_int_t)h[i].tx->fee));
		json_array_append_new(a, item);
	}
	free(h);
	return a;
}

static bool pays(const al_tx_out *o, const uint8_t sh[32])
{
	uint8_t h[32];

	al_sha256(h, o->script.p, o->script.len);
	return memcmp(h, sh, 32) == 0;
}

/* "A list of unspent outputs in blockchain order ... Mempool transactions paying to the
 * address are included at the end ... Any output that is spent in the mempool does not
 * appear." */
static json_t *sh_listunspent(const dc_chain *c, const el_req *r)
{
	json_t *a = json_array();
	dc_hist *h;
	size_t n = history(c, r->p[0].h, &h);

	for (size_t i = 0; i < n; i++) {
		const dc_tx *t = h[i].tx;

		for (uint32_t v = 0; v < t->tx.n_out; v++) {
			json_t *u;

			if (!pays(&t->tx.out[v], r->p[0].h) || dc_spender(c, t->txid, v))
				continue;
			u = json_object();
			json_object_set_new(u, "tx_hash", dc_json_hash(t->txid));
			json_object_set_new(u, "tx_pos", json_integer(v));
			json_object_set_new(
			    u, "height", json_integer(t->block ? (json_int_t)t->block->height : 0));
			json_object_set_new(u, "value",
			                    json_integer((json_int_t)t->tx.out[v].amount.sat));
			json_array_append_new(a, u);
		}
	}
	free(h);
	return a;
}

/* "confirmed": what the chain alone leaves unspent; "unconfirmed": what the mempool adds
 * (its outputs) and takes (the outputs it spends), which may be negative. */
static json_t *sh_balance(const dc_chain *c, const el_req *r)
{
	dc_sh *e = dc_index_get(c, r->p[0].h);
	int64_t confirmed = 0, unconfirmed = 0;
	json_t *j = json_object();

	for (uint32_t i = 0; e && i < e->n; i++) {
		const dc_tx *t = e->txs[i];

		for (uint32_t v = 0; v < t->tx.n_out; v++) {
			const dc_spend *sp;

			if (!pays(&t->tx.out[v], r->p[0].h))
				continue;
			sp = dc_spender(c, t->txid, v);
			if (!t->block)
				unconfirmed += (int64_t)t->tx.out[v].amount.sat;
			else if (!sp || !sp->tx->block)
				confirmed += (int64_t)t->tx.out[v].amount.sat;
		}
		for (size_t k = 0; !t->block && !t->coinbase && k < t->tx.n_in; k++) {
			const dc_tx *p = dc_tx_by_id(c, t->tx.in[k].txid);
			uint32_t v = t->tx.in[k].vout;

			if (p && v < p->tx.n_out && pays(&p->tx.out[v], r->p[0].h))
				unconfirmed -= (int64_t)p->tx.out[v].amount.sat;
		}
	}
	json_object_set_new(j, "confirmed", json_integer(confirmed));
	json_object_set_new(j, "unconfirmed", json_integer(unconfirmed));
	return j;
}

/* ---- blockchain.transaction.* ------------------------------------------------------------ */

static json_t *no_tx(el_error *err)
{
	/* What bitcoind says, as ElectrumX passes it on (DAEMON_ERROR). */
	return fail(err, EL_ERR_DAEMON,
	            "daemon error: No such mempool or blockchain "
	            "transaction. Use gettransaction for wallet transactions.");
}

static json_t *tx_get(const dc_chain *c, const el_req *r, el_error *err)
{
	const dc_tx *t = dc_tx_by_id(c, r->p[0].h);

	if (!t)
		return no_tx(err);
	if (r->p[1].present && r->p[1].b)
		return el_tx_verbose(c, t);
	return dc_json_hex(t->raw, t->len);
}

static json_t *branch_json(const dc_block *b, size_t pos)
{
	uint8_t(*ids)[32] = malloc(b->n_tx * 32), branch[32][32];
	json_t *a = json_array();
	size_t nb;

	if (!ids)
		exit(1);
	for (size_t i = 0; i < b->n_tx; i++)
		memcpy(ids[i], b->txs[i]->txid, 32);
	if (al_merkle_branch(branch, 32, &nb, (const uint8_t(*)[32])ids, b->n_tx, pos) != AL_OK)
		exit(1);
	free(ids);
	for (size_t i = 0; i < nb; i++)
		json_array_append_new(a, dc_json_hash(branch[i]));
	return a;
}

static json_t *tx_merkle(const dc_chain *c, const el_req *r, el_error *err)
{
	const dc_tx *t = dc_tx_by_id(c, r->p[0].h);
	char id[65];
	json_t *j;

	al_txid_to_hex(id, r->p[0].h);
	/* ElectrumX looks in the block at the height given: a proof from another block
	 * would name a header the client may not have yet. */
	if (!t || !t->block ||
	    (r->p[1].present && (r->p[1].u >= c->n_blocks || c->blocks[r->p[1].u] != t->block)))
		return r->p[1].present
		           ? fail(err, EL_ERR_BAD_REQUEST, "tx %s not in block at height %llu", id,
		                  (unsigned long long)r->p[1].u)
		           : fail(err, EL_ERR_BAD_REQUEST, "tx %s not in a block", id);
	j = json_object();
	json_object_set_new(j, "block_height", json_integer(t->block->height));
	json_object_set_new(j, "merkle", branch_json(t->block, t->pos));
	json_object_set_new(j, "pos", json_integer(t->pos));
	return j;
}

static json_t *tx_id_from_pos(const dc_chain *c, const el_req *r, el_error *err)
{
	const dc_block *b;
	json_t *j;

	if (r->p[0].u >= c->n_blocks)
		return fail(err, EL_ERR_BAD_REQUEST, "db height %llu out of range",
		            (unsigned long long)r->p[0].u);
	b = c->blocks[r->p[0].u];
	if (r->p[1].u >= b->n_tx)
		return fail(err, EL_ERR_BAD_REQUEST, "no tx at position %llu in block at height %u",
		            (unsigned long long)r->p[1].u, b->height);
	if (!(r->p[2].present && r->p[2].b))
		return dc_json_hash(b->txs[r->p[1].u]->txid);
	j = json_object();
	json_object_set_new(j, "tx_hash", dc_json_hash(b->txs[r->p[1].u]->txid));
	json_object_set_new(j, "merkle", branch_json(b, (size_t)r->p[1].u));
	return j;
}

static json_t *tx_broadcast(dc_chain *c, const el_req *r, el_error *err)
{
	uint8_t *raw = malloc(r->p[0].s_len / 2 + 1), txid[32];
	dc_reject rej = {0};
	size_t len;
	json_t *j = NULL;

	if (!raw)
		exit(1);
	if (al_hex_decode(raw, r->p[0].s_len / 2 + 1, &len, r->p[0].s, r->p[0].s_len) != AL_OK)
		snprintf(rej.msg, sizeof(rej.msg), "TX decode failed");
	else if (dc_submit(c, raw, len, txid, &rej))
		j = dc_json_hash(txid);
	/* ElectrumX: RPCError(BAD_REQUEST, "the transaction was rejected by network
	 * rules.\n\n" + bitcoind's message + ...); the raw transaction it appends is left out. */
	if (!j)
		el_error_set(err, EL_ERR_BAD_REQUEST,
		             "the transaction was rejected by network rules.\n\n%s", rej.msg);
	free(raw);
	return j;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static json_t *result(el_session *s, dc_chain *c, const el_req *r, el_error *err)
{
	switch (r->method) {
	case EL_SERVER_VERSION:
		return server_version(r, err);
	case EL_SERVER_BANNER:
		return json_string("alight-devchain: a regtest chain for development and tests");
	case EL_SERVER_DONATION_ADDRESS:
		return json_string("");
	case EL_SERVER_PEERS_SUBSCRIBE:
		return json_array();
	case EL_SERVER_PING:
		return json_null();
	case EL_SERVER_FEATURES:
		return server_features(s, c);
	case EL_HEADERS_SUBSCRIBE:
		s->headers = true;
		memcpy(s->tip_sent, dc_tip(c)->hash, 32);
		return tip_json(c);
	case EL_BLOCK_HEADER:
		return block_header(c, r, err);
	case EL_BLOCK_HEADERS:
		return block_headers(c, r, err);
	case EL_ESTIMATEFEE:
		/* Never an error: Electrum silently stops asking after one. */
		return btc_per_kvb(dc_fee_rate(c, (unsigned)r->p[0].u));
	case EL_RELAYFEE:
		return btc_per_kvb(1.0); /* Core's -minrelaytxfee, 0.00001 BTC/kvB */
	case EL_FEE_HISTOGRAM:
		return fee_histogram(c);
	case EL_SH_SUBSCRIBE:
		return sh_subscribe(s, c, r, err);
	case EL_SH_UNSUBSCRIBE:
		return sh_unsubscribe(s, r);
	case EL_SH_GET_HISTORY:
		return sh_history(c, r, false);
	case EL_SH_GET_MEMPOOL:
		return sh_history(c, r, true);
	case EL_SH_LISTUNSPENT:
		return sh_listunspent(c, r);
	case EL_SH_GET_BALANCE:
		return sh_balance(c, r);
	case EL_TX_GET:
		return tx_get(c, r, err);
	case EL_TX_GET_MERKLE:
		return tx_merkle(c, r, err);
	case EL_TX_BROADCAST:
		return tx_broadcast(c, r, err);
	case EL_TX_ID_FROM_POS:
		return tx_id_from_pos(c, r, err);
	case EL_N_METHODS:
		break;
	}
	return fail(err, EL_ERR_METHOD, "unknown method");
}

/* The response to one request object; NULL for a notification (no "id"). */
static json_t *respond(el_session *s, dc_chain *c, json_t *obj)
{
	el_req r;
	el_error err;
	json_t *res, *j;

	if (!el_parse_request(obj, &r, &err))
		return json_is_object(obj) && !json_object_get(obj, "id") &&
		               err.code != EL_ERR_INVALID
		           ? NULL
		           : error_obj(r.id, err.code, err.msg);
	res = result(s, c, &r, &err);
	if (!r.id) {
		json_decref(res);
		return NULL;
	}
	if (!res)
		return error_obj(r.id, err.code, err.msg);
	j = envelope(r.id);
	json_object_set_new(j, "result", res);
	return j;
}

/* One response as text, NULL for a notification. A response over `budget` bytes is
 * replaced by aiorpcx's EXCESSIVE_RESOURCE_USAGE error, as ElectrumX answers what it will
 * not send; after the budget is spent, every request gets that error unanswered. */
static char *answer(el_session *s, dc_chain *c, json_t *obj, size_t budget, size_t *n)
{
	json_t *j, *id = json_object_get(obj, "id");
	char *txt;

	if (budget == 0) {
		if (!json_is_object(obj) || !id)
			return NULL;
		j = error_obj(id, EL_ERR_RESOURCE, "response too large");
	} else if (!(j = respond(s, c, obj))) {
		return NULL;
	}
	txt = dump(j, n);
	if (*n > budget) {
		json_t *e =
		    error_obj(json_object_get(j, "id"), EL_ERR_RESOURCE, "response too large");

		free(txt);
		txt = dump(e, n);
		json_decref(e);
	}
	json_decref(j);
	return txt;
}

void el_session_line(el_session *s, dc_chain *c, const char *line, size_t len)
{
	el_error err;
	json_t *doc = el_parse_line(line, len, &err);
	size_t budget = s->lim->max_queue, n, total = 0;
	char *txt;

	if (!doc) {
		/* Not JSON at all: the client does not speak the protocol. */
		el_reply_error(s, NULL, err.code, err.msg);
		if (err.code == EL_ERR_PARSE) {
			s->cut = true;
			snprintf(s->why, sizeof(s->why), "sent a line that is not JSON");
		}
		return;
	}
	if (json_is_object(doc)) {
		if ((txt = answer(s, c, doc, budget, &n)) != NULL) {
			el_buf_put(&s->out, txt, n);
			el_buf_put(&s->out, "\n", 1);
			free(txt);
		}
	} else if (json_array_size(doc) > EL_MAX_BATCH) {
		el_reply_error(s, NULL, EL_ERR_INVALID, "batch too large");
	} else {
		/* A batch: "an Array containing the corresponding Response objects", none for
		 * notifications, nothing at all when every request was one. Its responses
		 * together stay within the budget of one. */
		for (size_t i = 0; i < json_array_size(doc); i++) {
			txt = answer(s, c, json_array_get(doc, i), budget - total, &n);
			if (!txt)
				continue;
			el_buf_put(&s->out, total ? "," : "[", 1);
			el_buf_put(&s->out, txt, n);
			free(txt);
			total = n + 1 < budget - total ? total + n + 1 : budget;
		}
		if (total)
			el_buf_put(&s->out, "]\n", 2);
	}
	json_decref(doc);
}

/* ---- notifications ---------------------------------------------------------------------- */

static bool notify(el_session *s, const char *method, json_t *params)
{
	json_t *j = json_object();
	size_t n;
	char *txt;

	json_object_set_new(j, "jsonrpc", json_string("2.0"));
	json_object_set_new(j, "method", json_string(method));
	json_object_set_new(j, "params", params);
	txt = dump(j, &n);
	json_decref(j);
	if (el_buf_pending(&s->out) + n + 1 > s->lim->max_queue) {
		free(txt);
		s->overflow = true;
		snprintf(s->why, sizeof(s->why), "does not read: over %zu bytes wait to be sent",
		         s->lim->max_queue);
		return false;
	}
	el_buf_put(&s->out, txt, n);
	el_buf_put(&s->out, "\n", 1);
	free(txt);
	return true;
}

static bool notify_sh(el_session *s, dc_chain *c, dc_sh *e, el_sub *sub)
{
	uint8_t st[32] = {0};
	bool have = dc_index_status(c, e, st);
	json_t *p;

	if (have == !sub->empty && memcmp(st, sub->status, 32) == 0)
		return true;
	sub->empty = !have;
	memcpy(sub->status, st, 32);
	p = json_array();
	json_array_append_new(p, dc_json_hash(e->sh));
	json_array_append_new(p, have ? dc_json_hex(st, 32) : json_null());
	/* "blockchain.scripthash.subscribe(scripthash, status)" */
	return notify(s, "blockchain.scripthash.subscribe", p);
}

void el_session_notify(el_session *s, dc_chain *c, dc_sh *const *dirty, size_t n_dirty)
{
	if (s->headers && memcmp(s->tip_sent, dc_tip(c)->hash, 32) != 0) {
		json_t *p = json_array();

		memcpy(s->tip_sent, dc_tip(c)->hash, 32);
		/* "blockchain.headers.subscribe(header)": only the newest tip. */
		json_array_append_new(p, tip_json(c));
		if (!notify(s, "blockchain.headers.subscribe", p))
			return;
	}
	if (s->subs.count < n_dirty) {
		/* Fewer subscriptions than changes: look each one up. */
		for (size_t i = 0; i < s->subs.nb; i++) {
			for (dc_map_node *n = s->subs.b[i]; n; n = n->next) {
				dc_sh *e = dc_index_get(c, n->key);

				if (e && e->dirty && !notify_sh(s, c, e, n->val))
					return;
			}
		}
		return;
	}
	for (size_t i = 0; i < n_dirty; i++) {
		uint8_t k[36];
		el_sub *sub;

		sub_key(k, dirty[i]->sh);
		sub = dc_map_get(&s->subs, k);
		if (sub && !notify_sh(s, c, dirty[i], sub))
			return;
	}
}
