/* Chain sync (chain/sync.h) against the scripted Esplora server of esplora_sim.h: real
 * regtest headers with proof of work, real merkle trees. A good chain syncs and confirms;
 * a reorganisation unconfirms; every lie and forged proof fails with its precise error and
 * leaves the committed state exactly as it was. Also the Esplora parsers' edges and coin
 * selection. */
#include <string.h>

#include "chain/esplora.h"
#include "chain/sync.h"
#include "crypto/hash.h"
#include "esplora_sim.h"
#include "test.h"
#include "wallet/coinsel.h"

static uint8_t mem[64u << 20];
static al_headers chain; /* each test's own header chain */

/* A fresh header chain, and a sync on it. */
static void new_sync(al_sync *sy, al_arena *a)
{
	al_sync_config cfg = {.headers = &chain,
	                      .max_new_headers = 4,
	                      .max_txs = 16,
	                      .max_outputs = 4,
	                      .max_scripts = 4,
	                      .raw_cap = 4096};
	static const uint8_t script[22] = {0x00, 0x14, 1};

	al_arena_init(a, mem, sizeof(mem));
	CHECK_OK(esim_headers(&chain, a, 64));
	CHECK_OK(al_sync_init(sy, a, &cfg));
	CHECK_OK(al_sync_watch_script(sy, script, sizeof(script)));
}

static void test_good_chain_and_reorg(void)
{
	static esim s;
	static uint8_t before[1 << 16], after[1 << 16];
	al_sync sy;
	al_arena a;
	const al_sync_tx *t;
	size_t n1, n2;

	esim_init(&s, 3);
	new_sync(&sy, &a);
	CHECK_OK(al_sync_watch_tx(&sy, s.leaf[2][1], false));
	CHECK_OK(al_sync_watch_output(&sy, s.leaf[2][1], 0));
	CHECK_OK(esim_step(&sy, &s));
	CHECK(al_sync_tip_height(&sy) == 3);
	t = al_sync_find_tx(&sy, s.leaf[2][1]);
	CHECK(t && t->st.confirmed && t->st.height == 2 && t->st.pos == 1);
	CHECK(al_sync_confirmations(&sy, t) == 2);
	CHECK(al_sync_last_result(&sy)->connected == 3);

	/* Idle: one request, nothing changes. */
	n1 = esim_snapshot(&sy, before, sizeof(before));
	CHECK_OK(esim_step(&sy, &s));
	n2 = esim_snapshot(&sy, after, sizeof(after));
	CHECK(n1 == n2 && !memcmp(before, after, n1));
	CHECK(!al_sync_last_result(&sy)->tip_changed);

	/* A sibling of block 3 at the same height: no more work. */
	{
		esim f = s;

		esim_mine(&f, 3, 0xb3, 0x207fffff);
		CHECK_ERR(esim_step(&sy, &f), AL_E_SYNC_LESS_WORK);
		n2 = esim_snapshot(&sy, after, sizeof(after));
		CHECK(n1 == n2 && !memcmp(before, after, n1));
	}

	/* Reorganise blocks 2 and 3 away with a longer branch: the transaction in block 2
	 * is unconfirmed, and dropped since the esim no longer knows it. */
	esim_mine(&s, 2, 0xc2, 0x207fffff);
	esim_mine(&s, 3, 0xc3, 0x207fffff);
	esim_mine(&s, 4, 0xc4, 0x207fffff);
	CHECK_OK(esim_step(&sy, &s));
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
	    {ESIM_LIE_MERKLE, AL_E_CHAIN_MERKLE},
	    {ESIM_LIE_TIP_HEIGHT, AL_E_SYNC_HEIGHT},
	    {ESIM_LIE_HEADER_HASH, AL_E_SYNC_HEADER_HASH},
	    {ESIM_LIE_MISSING, AL_E_SYNC_TX_MISSING},
	    {ESIM_LIE_STATUS_HEIGHT, AL_E_SYNC_HEIGHT},
	    {ESIM_LIE_TX_COUNT, AL_E_CHAIN_MERKLE_DEPTH},
	    {ESIM_LIE_POS, AL_E_CHAIN_MERKLE_POS},
	    {ESIM_LIE_BLOCK_ID, AL_E_SYNC_BLOCK_INFO},
	    {ESIM_LIE_BLOCK_ROOT, AL_E_SYNC_BLOCK_INFO},
	    {ESIM_LIE_BLOCK_HEIGHT, AL_E_SYNC_BLOCK_INFO},
	};
	static esim s;
	static uint8_t before[1 << 16], after[1 << 16];
	al_sync sy;
	al_arena a;

	esim_init(&s, 3);
	new_sync(&sy, &a);
	CHECK_OK(esim_step(&sy, &s));
	esim_mine(&s, 4, 0xa0, 0x207fffff);
	CHECK_OK(al_sync_watch_tx(&sy, s.leaf[4][1], false));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n1 = esim_snapshot(&sy, before, sizeof(before)), n2;

		s.lie = cases[i].lie;
		CHECK_ERR(esim_step(&sy, &s), cases[i].want);
		CHECK(al_sync_last_error(&sy) == cases[i].want);
		n2 = esim_snapshot(&sy, after, sizeof(after));
		CHECK(n1 == n2 && !memcmp(before, after, n1));
		CHECK(al_sync_tip_height(&sy) == 3);
	}
	/* Too little work: block 5 whose hash misses its target. */
	s.lie = ESIM_LIE_NONE;
	{
		esim f = s;

		esim_mine(&f, 5, 0xa0, 0x207fffff);
		while (al_block_header_check_pow(&f.h[5], AL_NET_REGTEST) == AL_OK)
			f.h[5].nonce++;
		al_block_header_hash(f.hash[5], &f.h[5]);
		CHECK_ERR(esim_step(&sy, &f), AL_E_CHAIN_POW);
		/* A harder target than regtest's: valid work, wrong network rule. */
		esim_mine(&f, 5, 0xa0, 0x1f7fffff);
		CHECK_ERR(esim_step(&sy, &f), AL_E_SYNC_TARGET);
	}
	CHECK(al_sync_tip_height(&sy) == 3);
	CHECK_OK(esim_step(&sy, &s));
	CHECK(al_sync_tip_height(&sy) == 4);
	CHECK(al_sync_find_tx(&sy, s.leaf[4][1])->st.confirmed);
}

static void test_persistence(void)
{
	static esim s;
	static uint8_t buf[1 << 16], buf2[1 << 16];
	static uint8_t mem2[4u << 20];
	al_sync sy, sy2;
	al_arena a, a2;
	size_t n, n2;

	esim_init(&s, 5);
	new_sync(&sy, &a);
	CHECK_OK(al_sync_watch_tx(&sy, s.leaf[3][1], false));
	CHECK_OK(esim_step(&sy, &s));
	n = esim_snapshot(&sy, buf, sizeof(buf));
	al_arena_init(&a2, mem2, sizeof(mem2));
	CHECK_OK(al_sync_init(&sy2, &a2, &sy.cfg));
	CHECK_OK(al_sync_load(&sy2, buf, n));
	n2 = esim_snapshot(&sy2, buf2, sizeof(buf2));
	CHECK(n == n2 && !memcmp(buf, buf2, n));
	CHECK(al_sync_tip_height(&sy2) == 5);
	CHECK(al_sync_confirmations(&sy2, al_sync_find_tx(&sy2, s.leaf[3][1])) == 3);
	CHECK_ERR(al_sync_load(&sy2, buf, n - 1), AL_E_TRUNCATED);
	buf[0] = 3;
	CHECK_ERR(al_sync_load(&sy2, buf, n), AL_E_RANGE);
	/* Format 1 carried the sync's own headers: read past, the rest loads the same. */
	{
		static uint8_t v1[1 << 16];
		size_t k = 0;

		v1[k++] = 1;
		al_write_le32(v1 + k, 0), k += 4;
		al_write_le32(v1 + k, 2), k += 4;
		memset(v1 + k, 0x5a, 160), k += 160; /* not even headers: never looked at */
		memcpy(v1 + k, buf + 1, n - 1), k += n - 1;
		CHECK_OK(al_sync_load(&sy2, v1, k));
		n2 = esim_snapshot(&sy2, buf2, sizeof(buf2));
		CHECK(n == n2 && !memcmp(buf + 1, buf2 + 1, n - 1));
		CHECK_ERR(al_sync_load(&sy2, v1, 1 + 8 + 100), AL_E_TRUNCATED);
	}
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

/* A step the server's answers must make fail with `want`, changing nothing. */
static void refused(al_sync *sy, esim *s, al_err want)
{
	static uint8_t before[1 << 16], after[1 << 16];
	size_t n1 = esim_snapshot(sy, before, sizeof(before)), n2;

	CHECK_ERR(esim_step(sy, s), want);
	n2 = esim_snapshot(sy, after, sizeof(after));
	CHECK(n1 == n2 && !memcmp(before, after, n1));
}

static void hash_pair(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
	uint8_t b[64];

	memcpy(b, l, 32);
	memcpy(b + 32, r, 32);
	al_sha256d(out, b, 64);
}

/* A transaction of exactly 64 bytes without witness: one input with a 4-byte scriptSig,
 * one output with an empty script (what CVE-2017-12842 needs; non-standard, valid). */
static void make_tx64(uint8_t t[64])
{
	al_tx tx;
	al_arena a;
	size_t n = 0;

	memset(t, 0, 64);
	t[n] = 2, n += 4;                             /* version 2 */
	t[n++] = 1;                                   /* one input */
	memset(t + n, 0x11, 32), n += 36;             /* prevout 1111..11:0 */
	t[n++] = 4;                                   /* scriptSig length */
	memcpy(t + n, "\x03\x01\x02\x03", 4), n += 4; /* push 3 bytes */
	memset(t + n, 0xff, 4), n += 4;               /* sequence */
	t[n++] = 1;                                   /* one output */
	t[n] = 0xe8, t[n + 1] = 0x03, n += 8;         /* 1000 sat */
	t[n++] = 0;                                   /* empty script */
	n += 4;                                       /* nLockTime 0 */
	CHECK(n == 64);
	al_arena_init(&a, mem, 1 << 20);
	CHECK_OK(al_tx_parse(&tx, &a, t, 64));
	CHECK(al_tx_len(&tx, false) == 64);
}

/* A transaction known without its bytes, registered again for them: fetched at the next
 * step though nothing about it changed (the node does this for a closing transaction). */
static void test_raw_later(void)
{
	static esim s;
	uint8_t t[65], id[32];
	const uint8_t *raw[1] = {t};
	size_t len[1] = {sizeof(t)}, got = 0;
	const al_sync_tx *tx;
	al_sync sy;
	al_arena a;

	make_tx64(t);
	t[41] = 5; /* the scriptSig one byte longer: 65 bytes, no CVE-2017-12842 shape */
	memmove(t + 47, t + 46, 18);
	t[46] = 4;
	al_sha256d(id, t, sizeof(t));
	esim_init(&s, 1);
	esim_mine_txs(&s, 2, raw, len, 1);
	new_sync(&sy, &a);
	CHECK_OK(al_sync_watch_tx(&sy, id, false));
	CHECK_OK(esim_step(&sy, &s));
	tx = al_sync_find_tx(&sy, id);
	CHECK(tx && tx->st.confirmed && tx->st.height == 2 && !al_sync_tx_raw(&sy, tx, &got));
	CHECK_OK(esim_step(&sy, &s));
	CHECK(!al_sync_tx_raw(&sy, al_sync_find_tx(&sy, id), &got));
	CHECK_OK(al_sync_watch_tx(&sy, id, true));
	CHECK_OK(esim_step(&sy, &s));
	tx = al_sync_find_tx(&sy, id);
	CHECK(tx && tx->st.confirmed && al_sync_tx_raw(&sy, tx, &got) && got == sizeof(t));
	CHECK(!memcmp(al_sync_tx_raw(&sy, tx, &got), t, sizeof(t)));
}

/* The leaf-node weakness both ways, the branch depth against the block's transaction
 * count, the duplicated-last-node rule, and one /block/:hash per block. */
static void test_forged_proofs(void)
{
	static esim s;
	static esim_forge fg;
	uint8_t t64[64], id64[32], l[4][32] = {{0xcb, 1}, {0xa1}, {0}, {0}};
	const al_sync_tx *t;
	al_sync sy;
	al_arena a;

	make_tx64(t64);
	al_sha256d(id64, t64, 64);

	/* An inner node served as the transaction it hashes to: block 1 holds leaves
	 * cb, a1 and the two halves of t64, so H(halves) = txid(t64) is an inner node. */
	memcpy(l[2], t64, 32);
	memcpy(l[3], t64 + 32, 32);
	esim_init(&s, 0);
	esim_mine_leaves(&s, 1, (const uint8_t(*)[32])l, 4, 0x207fffff);
	memset(&fg, 0, sizeof(fg));
	memcpy(fg.txid, id64, 32);
	fg.height = 1;
	fg.pos = 1;
	hash_pair(fg.branch[0], l[0], l[1]);
	fg.n_branch = 1;
	fg.raw = t64;
	fg.raw_len = 64;
	s.fg = &fg;
	new_sync(&sy, &a);
	CHECK_OK(al_sync_watch_tx(&sy, id64, true));
	/* The branch reaches the root, but the block has 4 transactions: depth 2, not 1. */
	refused(&sy, &s, AL_E_CHAIN_MERKLE_DEPTH);
	/* A esim that lies about the count too: the 64-byte leaf gives it away. */
	s.tx_count = 2;
	refused(&sy, &s, AL_E_CHAIN_TX64);
	CHECK(al_sync_tip_height(&sy) == 0);

	/* A "transaction" below a real 64-byte one: block 1 holds cb and txid(t64); the
	 * right half of t64 is claimed at position 3 of a 4-transaction block. */
	memcpy(l[1], id64, 32);
	esim_init(&s, 0);
	esim_mine_leaves(&s, 1, (const uint8_t(*)[32])l, 2, 0x207fffff);
	memset(&fg, 0, sizeof(fg));
	memcpy(fg.txid, t64 + 32, 32);
	fg.height = 1;
	fg.pos = 3;
	memcpy(fg.branch[0], t64, 32);
	memcpy(fg.branch[1], l[0], 32);
	fg.n_branch = 2;
	s.fg = &fg;
	new_sync(&sy, &a);
	CHECK_OK(al_sync_watch_tx(&sy, fg.txid, false));
	refused(&sy, &s, AL_E_CHAIN_MERKLE_DEPTH);
	s.tx_count = 4;
	refused(&sy, &s, AL_E_CHAIN_MERKLE_INNER_TX);
	CHECK(al_sync_tip_height(&sy) == 0);

	/* A count that moves a transaction: c at position 2 of a, b, c, d claimed in a block
	 * of 3, where position 2 is the last of its level and its sibling must be itself. */
	{
		uint8_t q[4][32] = {{0xcb, 1}, {0xb1}, {0xc1}, {0xd1}};

		esim_init(&s, 0);
		esim_mine_leaves(&s, 1, (const uint8_t(*)[32])q, 4, 0x207fffff);
		new_sync(&sy, &a);
		CHECK_OK(al_sync_watch_tx(&sy, q[2], false));
		s.tx_count = 3;
		refused(&sy, &s, AL_E_CHAIN_MERKLE_PADDING);
		s.tx_count = 0;
		CHECK_OK(esim_step(&sy, &s));
		t = al_sync_find_tx(&sy, q[2]);
		CHECK(t && t->st.confirmed && t->st.pos == 2);
		/* CVE-2012-2459: a block whose last two leaves are equal (a, b, c, c) is invalid.
		 */
		q[2][1] = 2;
		memcpy(q[3], q[2], 32);
		esim_mine_leaves(&s, 2, (const uint8_t(*)[32])q, 4, 0x207fffff);
		CHECK_OK(al_sync_watch_tx(&sy, q[2], false));
		refused(&sy, &s, AL_E_CHAIN_MERKLE_PADDING);
	}

	/* Two watched transactions in one block of 3 (the last one's sibling is itself):
	 * both confirm, and the block's transaction count is asked once. */
	{
		uint8_t q[3][32] = {{0xcb, 1}, {0xe1}, {0xe2}};

		esim_init(&s, 0);
		esim_mine_leaves(&s, 1, (const uint8_t(*)[32])q, 3, 0x207fffff);
		new_sync(&sy, &a);
		CHECK_OK(al_sync_watch_tx(&sy, q[1], false));
		CHECK_OK(al_sync_watch_tx(&sy, q[2], false));
		CHECK_OK(esim_step(&sy, &s));
		CHECK(s.block_requests == 1);
		t = al_sync_find_tx(&sy, q[1]);
		CHECK(t && t->st.confirmed && t->st.pos == 1);
		t = al_sync_find_tx(&sy, q[2]);
		CHECK(t && t->st.confirmed && t->st.pos == 2);
	}
}

int main(void)
{
	test_esplora_parsers();
	test_coinsel();
	test_good_chain_and_reorg();
	test_lies();
	test_forged_proofs();
	test_raw_later();
	test_persistence();
	return al_t_finish();
}
