/* A scripted Esplora server for unit tests (see esplora_sim.h). */
#include "esplora_sim.h"

#include <stdio.h>
#include <string.h>

#include "btc/tx.h"
#include "crypto/hash.h"
#include "test.h"
#include "util/hex.h"

static uint8_t scratch[1u << 20];

void esim_mine_leaves(esim *s, size_t height, const uint8_t (*leaves)[32], size_t n, uint32_t bits)
{
	al_block_header *h = &s->h[height];

	CHECK(height >= 1 && height < ESIM_MAXB && n >= 1 && n <= ESIM_MAXL);
	memcpy(s->leaf[height], leaves, n * 32);
	s->n_leaf[height] = n;
	memset(s->raw[height], 0, sizeof(s->raw[height]));
	memset(h, 0, sizeof(*h));
	h->version = 0x20000000;
	memcpy(h->prev_hash, s->hash[height - 1], 32);
	CHECK_OK(al_merkle_root(h->merkle_root, NULL, leaves, n));
	h->time = 1700000000 + (uint32_t)height;
	h->bits = bits;
	while (al_block_header_check_pow(h, AL_NET_REGTEST) != AL_OK)
		h->nonce++;
	al_block_header_hash(s->hash[height], h);
	s->n = height + 1;
}

void esim_mine(esim *s, size_t height, uint8_t tag, uint32_t bits)
{
	uint8_t l[2][32] = {{0xcb, (uint8_t)height}, {tag, (uint8_t)height}};

	esim_mine_leaves(s, height, (const uint8_t(*)[32])l, 2, bits);
}

void esim_mine_txs(esim *s, size_t height, const uint8_t *const *raw, const size_t *len, size_t n)
{
	uint8_t l[ESIM_MAXL][32] = {{0xcb, (uint8_t)height}};
	al_arena a;
	al_tx tx;

	CHECK(n + 1 <= ESIM_MAXL);
	for (size_t i = 0; i < n; i++) {
		al_arena_init(&a, scratch, sizeof(scratch));
		CHECK_OK(al_tx_parse(&tx, &a, raw[i], len[i]));
		al_tx_txid(&tx, l[i + 1]);
	}
	esim_mine_leaves(s, height, (const uint8_t(*)[32])l, n + 1, 0x207fffff);
	for (size_t i = 0; i < n; i++) {
		s->raw[height][i + 1] = raw[i];
		s->raw_len[height][i + 1] = len[i];
	}
}

void esim_init(esim *s, size_t blocks)
{
	memset(s, 0, sizeof(*s));
	al_genesis_header(&s->h[0], AL_NET_REGTEST);
	al_block_header_hash(s->hash[0], &s->h[0]);
	s->n = 1;
	for (size_t i = 1; i <= blocks; i++)
		esim_mine(s, i, 0xa0, 0x207fffff);
}

static int done(esim *s, size_t *len)
{
	*len = strlen(s->body);
	return 200;
}

/* /block/:hash and /block/:hash/header of block i. */
static int answer_block(esim *s, size_t i, const char *sub, size_t *len)
{
	uint8_t raw[80];
	char id[65], root[65];

	if (!strcmp(sub, "/header")) {
		al_block_header_write(raw, &s->h[i]);
		if (s->lie == ESIM_LIE_HEADER_HASH && i == s->n - 1)
			raw[70] ^= 1;
		CHECK_OK(al_hex_encode(s->body, sizeof(s->body), raw, 80));
		return done(s, len);
	}
	if (*sub)
		return 404;
	s->block_requests++;
	al_txid_to_hex(id, s->hash[s->lie == ESIM_LIE_BLOCK_ID && i ? i - 1 : i]);
	memcpy(raw, s->h[i].merkle_root, 32);
	raw[0] ^= s->lie == ESIM_LIE_BLOCK_ROOT;
	al_txid_to_hex(root, raw);
	sprintf(s->body,
	        "{\"id\":\"%s\",\"height\":%zu,\"version\":536870912,\"tx_count\":%zu,"
	        "\"size\":300,\"weight\":1200,\"merkle_root\":\"%s\"}",
	        id, i + (s->lie == ESIM_LIE_BLOCK_HEIGHT),
	        s->tx_count ? s->tx_count : s->n_leaf[i] + (s->lie == ESIM_LIE_TX_COUNT), root);
	return done(s, len);
}

/* /tx/:txid/status and /merkle-proof of leaf pos in block i, with the proof given. */
static int answer_tx(esim *s, const char *path, size_t i, uint32_t pos, const uint8_t (*br)[32],
                     size_t nb, size_t *len)
{
	char h[65];
	int n;

	al_txid_to_hex(h, s->hash[i]);
	if (strstr(path, "/status")) {
		sprintf(s->body,
		        "{\"confirmed\":true,\"block_height\":%zu,\"block_hash\":\"%s\","
		        "\"block_time\":1}",
		        i - (s->lie == ESIM_LIE_STATUS_HEIGHT), h);
		return done(s, len);
	}
	if (!strstr(path, "/merkle-proof") || s->lie == ESIM_LIE_MISSING)
		return 404;
	n = sprintf(s->body, "{\"block_height\":%zu,\"merkle\":[", i);
	for (size_t k = 0; k < nb; k++) {
		uint8_t b[32];

		memcpy(b, br[k], 32);
		if (s->lie == ESIM_LIE_MERKLE && k == 0)
			b[5] ^= 1;
		al_txid_to_hex(h, b);
		n += sprintf(s->body + n, "%s\"%s\"", k ? "," : "", h);
	}
	sprintf(s->body + n, "],\"pos\":%zu}", s->lie == ESIM_LIE_POS ? s->n_leaf[i] : (size_t)pos);
	return done(s, len);
}

static int answer_hex(esim *s, const uint8_t *raw, size_t raw_len, size_t *len)
{
	if (!raw)
		return 404;
	CHECK_OK(al_hex_encode(s->body, sizeof(s->body), raw, raw_len));
	return done(s, len);
}

/* Does this transaction pay the script whose SHA-256 is `sh`? */
static bool pays(const uint8_t *raw, size_t raw_len, const uint8_t sh[32])
{
	uint8_t h[32];
	al_arena a;
	al_tx tx;

	al_arena_init(&a, scratch, sizeof(scratch));
	CHECK_OK(al_tx_parse(&tx, &a, raw, raw_len));
	for (size_t k = 0; k < tx.n_out; k++) {
		al_sha256(h, tx.out[k].script.p, tx.out[k].script.len);
		if (!memcmp(h, sh, 32))
			return true;
	}
	return false;
}

/* /scripthash/:h/txs: every transaction with bytes that pays the script, confirmed
 * (fewer than a page: /txs/chain/:last is never needed, and is empty). */
static int answer_script(esim *s, const char *path, size_t *len)
{
	uint8_t sh[32];
	size_t n = 1, got;
	char id[65], bh[65];

	if (strlen(path) < 12 + 64 || strcmp(path + 12 + 64, "/txs")) {
		strcpy(s->body, "[]");
		return done(s, len);
	}
	CHECK_OK(al_hex_decode(sh, 32, &got, path + 12, 64));
	strcpy(s->body, "[");
	for (size_t i = s->n; i-- > 1;) {
		for (size_t p = 1; p < s->n_leaf[i]; p++) {
			if (!s->raw[i][p] || !pays(s->raw[i][p], s->raw_len[i][p], sh))
				continue;
			al_txid_to_hex(id, s->leaf[i][p]);
			al_txid_to_hex(bh, s->hash[i]);
			n += (size_t)sprintf(s->body + n,
			                     "%s{\"txid\":\"%s\",\"status\":{\"confirmed\":true,"
			                     "\"block_height\":%zu,\"block_hash\":\"%s\"}}",
			                     n > 1 ? "," : "", id, i, bh);
		}
	}
	strcpy(s->body + n, "]");
	return done(s, len);
}

int esim_answer(esim *s, const char *path, size_t *len)
{
	char id[65];
	uint8_t want[32];

	s->body[0] = 0;
	if (!strcmp(path, "/blocks/tip/hash")) {
		al_txid_to_hex(s->body, s->hash[s->n - 1]);
		return done(s, len);
	}
	if (!strcmp(path, "/blocks/tip/height")) {
		sprintf(s->body, "%zu", s->n - 1 + (s->lie == ESIM_LIE_TIP_HEIGHT));
		return done(s, len);
	}
	if (!strncmp(path, "/scripthash/", 12))
		return answer_script(s, path, len);
	if (!strcmp(path, "/fee-estimates") && s->fee_sat_vb) {
		s->fee_requests++;
		sprintf(s->body, "{\"1\":%u,\"6\":%u,\"144\":1}", 2 * s->fee_sat_vb, s->fee_sat_vb);
		return done(s, len);
	}
	if ((strncmp(path, "/block/", 7) && strncmp(path, "/tx/", 4)) ||
	    strlen(strchr(path + 1, '/') + 1) < 64)
		return 404;
	memcpy(id, strchr(path + 1, '/') + 1, 64);
	id[64] = 0;
	CHECK_OK(al_txid_from_hex(want, id));
	if (!strncmp(path, "/block/", 7)) {
		for (size_t i = 0; i < s->n; i++) {
			if (!memcmp(s->hash[i], want, 32))
				return answer_block(s, i, path + 7 + 64, len);
		}
		return 404;
	}
	if (strstr(path, "/outspend/")) {
		strcpy(s->body, "{\"spent\":false}");
		return done(s, len);
	}
	if (s->fg && !memcmp(s->fg->txid, want, 32)) {
		if (strstr(path, "/hex"))
			return answer_hex(s, s->fg->raw, s->fg->raw_len, len);
		return answer_tx(s, path, s->fg->height, s->fg->pos,
		                 (const uint8_t(*)[32])s->fg->branch, s->fg->n_branch, len);
	}
	for (size_t i = 1; i < s->n; i++) {
		for (uint32_t p = 1; p < s->n_leaf[i]; p++) {
			uint8_t br[16][32];
			size_t nb;

			if (memcmp(s->leaf[i][p], want, 32))
				continue;
			if (strstr(path, "/hex"))
				return answer_hex(s, s->raw[i][p], s->raw_len[i][p], len);
			CHECK_OK(al_merkle_branch(br, 16, &nb, (const uint8_t(*)[32])s->leaf[i],
			                          s->n_leaf[i], p));
			return answer_tx(s, path, i, p, (const uint8_t(*)[32])br, nb, len);
		}
	}
	return 404;
}

al_err esim_headers(al_headers *h, al_arena *a, size_t max_headers)
{
	al_headers_config c = {
	    .net = AL_NET_REGTEST, .max_headers = max_headers, .max_stage = max_headers};

	al_genesis_header(&c.checkpoint, AL_NET_REGTEST);
	return al_headers_init(h, a, &c);
}

size_t esim_snapshot(const al_sync *sy, uint8_t *buf, size_t cap)
{
	al_wb w;

	al_wb_init(&w, buf, cap);
	al_sync_save(sy, &w);
	CHECK(al_wb_ok(&w));
	return w.len;
}

size_t esim_payment(uint8_t *out, size_t cap, const uint8_t script[22], uint64_t sat, uint32_t tag)
{
	uint8_t prev[32];
	al_arena a;
	al_tx tx;
	al_wb wb;

	memset(prev, 0x33, sizeof(prev));
	al_write_le32(prev, tag);
	al_arena_init(&a, scratch, sizeof(scratch));
	CHECK_OK(al_tx_init(&tx, &a, 2, 0, 1, 1));
	CHECK_OK(al_tx_add_input(&tx, prev, 0, 0xfffffffe));
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(sat), script, 22));
	al_wb_init(&wb, out, cap);
	al_tx_write(&wb, &tx, false);
	CHECK(al_wb_ok(&wb));
	return wb.len;
}

al_err esim_step(al_sync *sy, esim *s)
{
	al_sync_begin(sy);
	for (int guard = 0; guard < 1000; guard++) {
		const al_sync_request *rq;
		size_t len = 0;
		int st;

		AL_TRY(al_sync_next(sy, &rq));
		if (!rq)
			return AL_OK;
		st = esim_answer(s, rq->path, &len);
		AL_TRY(al_sync_on_response(sy, st, (const uint8_t *)s->body, len));
	}
	return AL_E_ARG;
}
