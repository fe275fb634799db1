/* Chain sync (chain/sync.h) against a scripted Esplora server built here: real regtest
 * headers with proof of work, real merkle trees. A good chain syncs and confirms; a
 * reorganisation unconfirms; every lie fails with its precise error and leaves the
 * committed state exactly as it was. Also the Esplora parsers' edges and coin
 * selection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/esplora.h"
#include "chain/sync.h"
#include "test.h"
#include "util/hex.h"
#include "wallet/coinsel.h"

#define MAXB 16

/* The server's chain: headers by height, two leaves per block (a coinbase stand-in and
 * one transaction id). */
typedef struct server {
	al_block_header h[MAXB];
	uint8_t hash[MAXB][32];
	uint8_t leaf[MAXB][2][32];
	size_t n;
	int lie;
} server;

enum { LIE_NONE, LIE_MERKLE, LIE_TIP_HEIGHT, LIE_HEADER_HASH, LIE_MISSING, LIE_STATUS_HEIGHT };

static uint8_t mem[64u << 20];
static char body[8192];

static void mine(server *s, size_t height, uint8_t tag, uint32_t bits)
{
	al_block_header *h = &s->h[height];
	bool mutated;

	memset(s->leaf[height], 0, sizeof(s->leaf[height]));
	s->leaf[height][0][0] = 0xcb;
	s->leaf[height][0][1] = (uint8_t)height;
	s->leaf[height][1][0] = tag;
	s->leaf[height][1][1] = (uint8_t)height;
	memset(h, 0, sizeof(*h));
	h->version = 0x20000000;
	memcpy(h->prev_hash, s->hash[height - 1], 32);
	CHECK_OK(
	    al_merkle_root(h->merkle_root, &mutated, (const uint8_t(*)[32])s->leaf[height], 2));
	h->time = 1700000000 + (uint32_t)height;
	h->bits = bits;
	while (al_block_header_check_pow(h, AL_NET_REGTEST) != AL_OK)
		h->nonce++;
	al_block_header_hash(s->hash[height], h);
	s->n = height + 1;
}

static void server_init(server *s, size_t blocks)
{
	memset(s, 0, sizeof(*s));
	al_genesis_header(&s->h[0], AL_NET_REGTEST);
	al_block_header_hash(s->hash[0], &s->h[0]);
	for (size_t i = 1; i <= blocks; i++)
		mine(s, i, 0xa0, 0x207fffff);
}

static void hexrev(char *out, const uint8_t h[32])
{
	al_txid_to_hex(out, h);
}

/* Answer a request path like an Esplora server would (with the configured lie). */
static int answer(server *s, const char *path, size_t *len)
{
	char id[65];
	uint8_t want[32];

	body[0] = 0;
	if (!strcmp(path, "/blocks/tip/hash")) {
		hexrev(body, s->hash[s->n - 1]);
	} else if (!strcmp(path, "/blocks/tip/height")) {
		sprintf(body, "%zu", s->n - 1 + (s->lie == LIE_TIP_HEIGHT));
	} else if (!strncmp(path, "/block/", 7)) {
		memcpy(id, path + 7, 64);
		id[64] = 0;
		CHECK_OK(al_txid_from_hex(want, id));
		for (size_t i = 0; i < s->n; i++) {
			uint8_t raw[80];

			if (memcmp(s->hash[i], want, 32))
				continue;
			al_block_header_write(raw, &s->h[i]);
			if (s->lie == LIE_HEADER_HASH && i == s->n - 1)
				raw[70] ^= 1;
			CHECK_OK(al_hex_encode(body, sizeof(body), raw, 80));
			*len = strlen(body);
			return 200;
		}
		return 404;
	} else if (!strncmp(path, "/scripthash/", 12)) {
		strcpy(body, "[]");
	} else if (!strncmp(path, "/tx/", 4)) {
		memcpy(id, path + 4, 64);
		id[64] = 0;
		CHECK_OK(al_txid_from_hex(want, id));
		if (strstr(path, "/outspend/")) {
			strcpy(body, "{\"spent\":false}");
			*len = strlen(body);
			return 200;
		}
		for (size_t i = 1; i < s->n; i++) {
			uint8_t br[16][32];
			size_t nb;
			char bh[65];

			if (memcmp(s->leaf[i][1], want, 32))
				continue;
			hexrev(bh, s->hash[i]);
			if (strstr(path, "/status")) {
				sprintf(body,
				        "{\"confirmed\":true,\"block_height\":%zu,\"block_hash\":"
				        "\"%s\","
				        "\"block_time\":1}",
				        i - (s->lie == LIE_STATUS_HEIGHT), bh);
			} else {
				if (s->lie == LIE_MISSING)
					return 404;
				CHECK_OK(al_merkle_branch(br, 16, &nb,
				                          (const uint8_t(*)[32])s->leaf[i], 2, 1));
				if (s->lie == LIE_MERKLE)
					br[0][5] ^= 1;
				hexrev(bh, br[0]);
				sprintf(body,
				        "{\"block_height\":%zu,\"merkle\":[\"%s\"],\"pos\":1}", i,
				        bh);
			}
			*len = strlen(body);
			return 200;
		}
		return 404;
	} else {
		return 404;
	}
	*len = strlen(body);
	return 200;
}

static al_err run_step(al_sync *sy, server *s)
{
	al_sync_begin(sy);
	for (int guard = 0; guard < 1000; guard++) {
		const al_sync_request *rq;
		size_t len = 0;
		int st;

		AL_TRY(al_sync_next(sy, &rq));
		if (!rq)
			return AL_OK;
		st = answer(s, rq->path, &len);
		AL_TRY(al_sync_on_response(sy, st, (const uint8_t *)body, len));
	}
	return AL_E_ARG;
}

static void new_sync(al_sync *sy, al_arena *a)
{
	al_sync_config cfg = {.net = AL_NET_REGTEST,
	                      .max_headers = 64,
	                      .max_new_headers = 64,
	                      .max_txs = 16,
	                      .max_outputs = 4,
	                      .max_scripts = 4,
	                      .raw_cap = 4096};
	static const uint8_t script[22] = {0x00, 0x14, 1};

	al_genesis_header(&cfg.checkpoint, AL_NET_REGTEST);
	al_arena_init(a, mem, sizeof(mem));
	CHECK_OK(al_sync_init(sy, a, &cfg));
	CHECK_OK(al_sync_watch_script(sy, script, sizeof(script)));
}

/* A committed snapshot to compare after a failed step. */
static size_t snapshot(const al_sync *sy, uint8_t *buf, size_t cap)
{
	al_wb w;

	al_wb_init(&w, buf, cap);
	al_sync_save(sy, &w);
	CHECK(al_wb_ok(&w));
	return w.len;
}

static void test_good_chain_and_reorg(void)
{
	static server s;
	static uint8_t before[1 << 16], after[1 << 16];
	al_sync sy;
	al_arena a;
	const al_sync_tx *t;
	size_t n1, n2;

	server_init(&s, 3);
	new_sync(&sy, &a);
	CHECK_OK(al_sync_watch_tx(&sy, s.leaf[2][1], false));
	CHECK_OK(al_sync_watch_output(&sy, s.leaf[2][1], 0));
	CHECK_OK(run_step(&sy, &s));
	CHECK(al_sync_tip_height(&sy) == 3);
	t = al_sync_find_tx(&sy, s.leaf[2][1]);
	CHECK(t && t->st.confirmed && t->st.height == 2 && t->st.pos == 1);
	CHECK(al_sync_confirmations(&sy, t) == 2);
	CHECK(al_sync_last_result(&sy)->connected == 3);

	/* Idle: one request, nothing changes. */
	n1 = snapshot(&sy, before, sizeof(before));
	CHECK_OK(run_step(&sy, &s));
	n2 = snapshot(&sy, after, sizeof(after));
	CHECK(n1 == n2 && !memcmp(before, after, n1));
	CHECK(!al_sync_last_result(&sy)->tip_changed);

	/* A sibling of block 3 at the same height: no more work. */
	{
		server f = s;

		mine(&f, 3, 0xb3, 0x207fffff);
		CHECK_ERR(run_step(&sy, &f), AL_E_SYNC_LESS_WORK);
		n2 = snapshot(&sy, after, sizeof(after));
		CHECK(n1 == n2 && !memcmp(before, after, n1));
	}

	/* Reorganise blocks 2 and 3 away with a longer branch: the transaction in block 2
	 * is unconfirmed, and dropped since the server no longer knows it. */
	mine(&s, 2, 0xc2, 0x207fffff);
	mine(&s, 3, 0xc3, 0x207fffff);
	mine(&s, 4, 0xc4, 0x207fffff);
	CHECK_OK(run_step(&sy, &s));
	CHECK(al_sync_tip_height(&sy) == 4);
	CHECK(al_sync_last_result(&sy)->disconnected == 2);
	CHECK(al_sync_last_result(&sy)->fork_height == 1);
	t = al_sync_find_tx(&sy, (const uint8_t[32]){0xa0, 2});
	CHECK(t && !t->st.confirmed && t->st.dropped);
	CHECK(al_sync_last_result(&sy)->unconfirmed == 1);
}

static void test_lies(void)
{
	static const struct {
		int lie;
		al_err want;
	} cases[] = {
	    {LIE_MERKLE, AL_E_CHAIN_MERKLE},          {LIE_TIP_HEIGHT, AL_E_SYNC_HEIGHT},
	    {LIE_HEADER_HASH, AL_E_SYNC_HEADER_HASH}, {LIE_MISSING, AL_E_SYNC_TX_MISSING},
	    {LIE_STATUS_HEIGHT, AL_E_SYNC_HEIGHT},
	};
	static server s;
	static uint8_t before[1 << 16], after[1 << 16];
	al_sync sy;
	al_arena a;

	server_init(&s, 3);
	new_sync(&sy, &a);
	CHECK_OK(run_step(&sy, &s));
	mine(&s, 4, 0xa0, 0x207fffff);
	CHECK_OK(al_sync_watch_tx(&sy, s.leaf[4][1], false));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n1 = snapshot(&sy, before, sizeof(before)), n2;

		s.lie = cases[i].lie;
		CHECK_ERR(run_step(&sy, &s), cases[i].want);
		CHECK(al_sync_last_error(&sy) == cases[i].want);
		n2 = snapshot(&sy, after, sizeof(after));
		CHECK(n1 == n2 && !memcmp(before, after, n1));
		CHECK(al_sync_tip_height(&sy) == 3);
	}
	/* Too little work: block 5 whose hash misses its target. */
	s.lie = LIE_NONE;
	{
		server f = s;

		mine(&f, 5, 0xa0, 0x207fffff);
		while (al_block_header_check_pow(&f.h[5], AL_NET_REGTEST) == AL_OK)
			f.h[5].nonce++;
		al_block_header_hash(f.hash[5], &f.h[5]);
		CHECK_ERR(run_step(&sy, &f), AL_E_CHAIN_POW);
		/* A harder target than regtest's: valid work, wrong network rule. */
		mine(&f, 5, 0xa0, 0x1f7fffff);
		CHECK_ERR(run_step(&sy, &f), AL_E_SYNC_TARGET);
	}
	CHECK(al_sync_tip_height(&sy) == 3);
	CHECK_OK(run_step(&sy, &s));
	CHECK(al_sync_tip_height(&sy) == 4);
	CHECK(al_sync_find_tx(&sy, s.leaf[4][1])->st.confirmed);
}

static void test_persistence(void)
{
	static server s;
	static uint8_t buf[1 << 16], buf2[1 << 16];
	static uint8_t mem2[4u << 20];
	al_sync sy, sy2;
	al_arena a, a2;
	size_t n, n2;

	server_init(&s, 5);
	new_sync(&sy, &a);
	CHECK_OK(al_sync_watch_tx(&sy, s.leaf[3][1], false));
	CHECK_OK(run_step(&sy, &s));
	n = snapshot(&sy, buf, sizeof(buf));
	al_arena_init(&a2, mem2, sizeof(mem2));
	CHECK_OK(al_sync_init(&sy2, &a2, &sy.cfg));
	CHECK_OK(al_sync_load(&sy2, buf, n));
	n2 = snapshot(&sy2, buf2, sizeof(buf2));
	CHECK(n == n2 && !memcmp(buf, buf2, n));
	CHECK(al_sync_tip_height(&sy2) == 5);
	CHECK_ERR(al_sync_load(&sy2, buf, n - 1), AL_E_TRUNCATED);
	buf[1 + 8 + 80 + 4] ^= 1; /* break the second header's link */
	CHECK_ERR(al_sync_load(&sy2, buf, n), AL_E_SYNC_NOT_CONNECTED);
}

static void test_esplora_parsers(void)
{
	uint32_t h;
	uint8_t hash[32];
	al_esplora_status st;
	al_esplora_proof p;
	uint64_t rate;
	const char *fees = "{\"1\":20.5,\"6\":2.25,\"144\":1}";
	const char *fees2 = "{\"6\":2.25,\"144\":1}";
	const char *big = "{\"block_height\":1,\"pos\":0,\"merkle\":[" /* 17 entries */
	                  "\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\","
	                  "\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\",\"00\"]}";

	CHECK_OK(al_esplora_parse_height(&h, (const uint8_t *)"102\n", 4));
	CHECK(h == 102);
	CHECK_ERR(al_esplora_parse_height(&h, (const uint8_t *)"0102", 4), AL_E_ESPLORA_TEXT);
	CHECK_ERR(al_esplora_parse_height(&h, (const uint8_t *)"", 0), AL_E_ESPLORA_TEXT);
	CHECK_ERR(al_esplora_parse_height(&h, (const uint8_t *)"2147483648", 10),
	          AL_E_ESPLORA_TEXT);
	CHECK_ERR(al_esplora_parse_height(&h, (const uint8_t *)"-1", 2), AL_E_ESPLORA_TEXT);
	CHECK_ERR(al_esplora_parse_hash(hash, (const uint8_t *)"00", 2), AL_E_ESPLORA_TEXT);
	CHECK_ERR(al_esplora_parse_status(&st, (const uint8_t *)"{\"confirmed\":1}", 15),
	          AL_E_ESPLORA_FIELD);
	CHECK_ERR(al_esplora_parse_status(&st, (const uint8_t *)"{\"confirmed\":", 13),
	          AL_E_ESPLORA_JSON);
	CHECK_ERR(al_esplora_parse_status(&st,
	                                  (const uint8_t *)"{\"confirmed\":true,"
	                                                   "\"block_height\":-1}",
	                                  36),
	          AL_E_ESPLORA_FIELD);
	CHECK_ERR(al_esplora_parse_proof(&p, (const uint8_t *)big, strlen(big)),
	          AL_E_ESPLORA_FIELD);
	CHECK_OK(al_esplora_parse_fee(&rate, 6, (const uint8_t *)fees, strlen(fees)));
	CHECK(rate == 2250);
	CHECK_OK(al_esplora_parse_fee(&rate, 3, (const uint8_t *)fees2, strlen(fees2)));
	CHECK(rate == 2250);
	CHECK_ERR(al_esplora_parse_fee(&rate, 6, (const uint8_t *)"{\"6\":-1}", 8),
	          AL_E_ESPLORA_FIELD);
	CHECK_ERR(al_esplora_parse_fee(&rate, 6, (const uint8_t *)"{}", 2), AL_E_RANGE);
}

static void test_coinsel(void)
{
	/* Known cases (the shape of Core's coinselector_tests): 1..4 BTC-like units. */
	const uint64_t v[] = {100000, 200000, 300000, 400000};
	bool sel[4];
	uint64_t total;

	/* Exact matches exist: 300000 = 100000 + 200000 or 300000 alone. */
	CHECK_OK(al_coinsel_bnb(sel, &total, v, 4, 300000, 0));
	CHECK(total == 300000);
	CHECK_OK(al_coinsel_bnb(sel, &total, v, 4, 1000000, 0));
	CHECK(total == 1000000 && sel[0] && sel[1] && sel[2] && sel[3]);
	/* 350000 with a cost of change of 50000: every way to 400000 is in the window. */
	CHECK_OK(al_coinsel_bnb(sel, &total, v, 4, 350000, 50000));
	CHECK(total == 400000);
	CHECK_ERR(al_coinsel_bnb(sel, &total, v, 4, 350000, 49999), AL_E_WALLET_FUNDS);
	/* No subset within [150001, 150001 + 10]: fall back. */
	CHECK_ERR(al_coinsel_bnb(sel, &total, v, 4, 150001, 10), AL_E_WALLET_FUNDS);
	CHECK_OK(al_coinsel_largest_first(sel, &total, v, 4, 150001));
	CHECK(total == 400000 && sel[3]);
	CHECK_ERR(al_coinsel_largest_first(sel, &total, v, 4, 1000001), AL_E_WALLET_FUNDS);
	CHECK_ERR(al_coinsel_bnb(sel, &total, v, 4, 1000001, 100), AL_E_WALLET_FUNDS);
}

int main(void)
{
	test_esplora_parsers();
	test_coinsel();
	test_good_chain_and_reorg();
	test_lies();
	test_persistence();
	return al_t_finish();
}
