/* The shared header chain (chain/headers.h) on real regtest headers with proof of work
 * (tests/lib/esplora_sim.h mines them), and the compiled-in checkpoints
 * (chain/checkpoint.h) against the block hashes Bitcoin Core's chainparams name.
 *
 * What is proven here:
 *   - a branch grows the chain, a branch with more work replaces kept blocks, one with
 *     no more work is refused, and a refused branch changes nothing;
 *   - every forged header fails with its own error (hash, work, target, height, link);
 *   - branches staged at the same time by different steps: the part another step
 *     committed is dropped, a branch whose fork was reorganised away, or that another
 *     step's commit out-worked, is refused at commit, and the chain is untouched;
 *   - the shared stage: a step that outgrows its own buffer borrows it, a second step
 *     takes it and the first fails with AL_E_SYNC_BUSY at its next use;
 *   - the window slides; a save loads back identical, and every corruption of a saved
 *     chain (truncation, bytes flipped, another network, a window missing the
 *     checkpoint) is refused and changes nothing. */
#include <string.h>

#include "chain/checkpoint.h"
#include "chain/headers.h"
#include "esplora_sim.h"
#include "test.h"
#include "util/hex.h"

static uint8_t mem[8u << 20];

/* A regtest chain of max_headers (and as many staged) in the arena. */
static void new_chain(al_headers *h, al_arena *a, size_t max_headers, size_t max_stage)
{
	al_headers_config c = {
	    .net = AL_NET_REGTEST, .max_headers = max_headers, .max_stage = max_stage};

	al_genesis_header(&c.checkpoint, AL_NET_REGTEST);
	CHECK_OK(al_headers_init(h, a, &c));
}

/* Stage the server's chain from its tip down to a kept block (own buffer of own_cap). */
static al_err stage(al_headers *h, al_headers_branch *b, al_hdr *own, size_t own_cap, const esim *s)
{
	uint32_t k;

	al_headers_branch_init(b, own, own_cap);
	if (al_headers_find(h, s->hash[s->n - 1], &k))
		return AL_OK; /* nothing to stage: the server's tip is kept */
	AL_TRY(al_headers_branch_begin(h, b, s->hash[s->n - 1], (uint32_t)(s->n - 1)));
	while (!b->connected) {
		size_t i;

		for (i = 0; i < s->n && memcmp(s->hash[i], b->want, 32); i++)
			;
		CHECK(i < s->n);
		AL_TRY(al_headers_branch_add(h, b, &s->h[i]));
	}
	return AL_OK;
}

/* Stage and commit in one go. */
static al_err sync_to(al_headers *h, const esim *s, al_headers_change *ch)
{
	al_hdr own[4];
	al_headers_branch b;
	al_err e = stage(h, &b, own, 4, s);

	memset(ch, 0, sizeof(*ch));
	if (e == AL_OK && b.connected)
		e = al_headers_commit(h, &b, ch);
	al_headers_branch_drop(h, &b);
	return e;
}

static size_t save(const al_headers *h, uint8_t *buf, size_t cap, size_t max)
{
	al_wb w;

	al_wb_init(&w, buf, cap);
	al_headers_save(h, &w, max);
	CHECK(al_wb_ok(&w));
	return w.len;
}

static void test_checkpoints(void)
{
	/* Core's src/kernel/chainparams.cpp, m_assumeutxo_data (mainnet, height 840,000):
	 * blockhash 0000000000000000000320283a032748cef8227873ff4872689bf23f1cda83a5. */
	static const char core_840000[] =
	    "0000000000000000000320283a032748cef8227873ff4872689bf23f1cda83a5";
	/* Core's regtest genesis (CreateGenesisBlock(1296688602, 2, 0x207fffff, ...)). */
	static const char core_regtest[] =
	    "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
	al_block_header h;
	uint8_t hash[32];
	char hex[65];
	uint32_t height;

	CHECK_OK(al_checkpoint(AL_NET_MAINNET, &h, &height));
	CHECK(height == 840000);
	al_block_header_hash(hash, &h);
	al_txid_to_hex(hex, hash);
	CHECK(!strcmp(hex, core_840000));
	CHECK_OK(al_block_header_check_pow(&h, AL_NET_MAINNET));
	CHECK(h.bits == 0x17034219 && h.time == 1713571767);
	CHECK_OK(al_checkpoint(AL_NET_REGTEST, &h, &height));
	al_block_header_hash(hash, &h);
	al_txid_to_hex(hex, hash);
	CHECK(height == 0 && !strcmp(hex, core_regtest));
	CHECK_ERR(al_checkpoint(AL_NET_TESTNET, &h, &height), AL_E_SYNC_NO_CHECKPOINT);
}

static void test_grow_and_reorg(void)
{
	static esim s, f;
	al_headers h;
	al_headers_change ch;
	al_arena a;
	uint64_t gen;

	al_arena_init(&a, mem, sizeof(mem));
	new_chain(&h, &a, 64, 64);
	esim_init(&s, 5);
	CHECK_OK(sync_to(&h, &s, &ch));
	CHECK(ch.changed && ch.fork == 0 && ch.connected == 5 && ch.disconnected == 0);
	CHECK(al_headers_tip_height(&h) == 5 && !memcmp(al_headers_tip(&h)->hash, s.hash[5], 32));
	CHECK(al_headers_gen(&h) == 1);
	/* The same tip again: nothing to do. */
	CHECK_OK(sync_to(&h, &s, &ch));
	CHECK(!ch.changed && al_headers_gen(&h) == 1);

	/* A sibling of block 5: no more work, refused; the chain as it was. */
	f = s;
	esim_mine(&f, 5, 0xb5, 0x207fffff);
	gen = al_headers_gen(&h);
	CHECK_ERR(sync_to(&h, &f, &ch), AL_E_SYNC_LESS_WORK);
	CHECK(al_headers_gen(&h) == gen && !memcmp(al_headers_tip(&h)->hash, s.hash[5], 32));
	/* One more block on it: more work, blocks 4 and 5 replaced. */
	esim_mine(&f, 4, 0xb4, 0x207fffff);
	esim_mine(&f, 5, 0xb5, 0x207fffff);
	esim_mine(&f, 6, 0xb6, 0x207fffff);
	CHECK_OK(sync_to(&h, &f, &ch));
	CHECK(ch.changed && ch.fork == 3 && ch.disconnected == 2 && ch.connected == 3);
	CHECK(al_headers_tip_height(&h) == 6);
	CHECK(!memcmp(al_headers_at(&h, 4)->hash, f.hash[4], 32));
	CHECK(al_headers_get_stats(&h)->reorgs == 1);
	/* The old chain, now shorter: less work. */
	CHECK_ERR(sync_to(&h, &s, &ch), AL_E_SYNC_LESS_WORK);
	CHECK(!memcmp(al_headers_tip(&h)->hash, f.hash[6], 32));
}

static void test_forged(void)
{
	static esim s, f;
	al_headers h;
	al_headers_branch b;
	al_hdr own[8];
	al_arena a;
	al_block_header x;

	al_arena_init(&a, mem, sizeof(mem));
	new_chain(&h, &a, 64, 64);
	esim_init(&s, 2);
	CHECK_OK(sync_to(&h, &s, &(al_headers_change){0}));
	esim_mine(&s, 3, 0xa3, 0x207fffff);
	esim_mine(&s, 4, 0xa4, 0x207fffff);

	/* Another header than the one asked for. */
	al_headers_branch_init(&b, own, 8);
	CHECK_OK(al_headers_branch_begin(&h, &b, s.hash[4], 4));
	CHECK_ERR(al_headers_branch_add(&h, &b, &s.h[3]), AL_E_SYNC_HEADER_HASH);
	/* A hash that misses its target (the hash asked for is the forged one's). */
	x = s.h[4];
	while (al_block_header_check_pow(&x, AL_NET_REGTEST) == AL_OK)
		x.nonce++;
	al_block_header_hash(b.want, &x);
	CHECK_ERR(al_headers_branch_add(&h, &b, &x), AL_E_CHAIN_POW);
	/* A harder target than regtest's (real work, the wrong rule). */
	f = s;
	esim_mine(&f, 3, 0xa3, 0x1f7fffff);
	CHECK_ERR(stage(&h, &b, own, 8, &f), AL_E_SYNC_TARGET);
	/* The server's height one too high: the branch lands one block off. */
	al_headers_branch_init(&b, own, 8);
	CHECK_OK(al_headers_branch_begin(&h, &b, s.hash[4], 5));
	CHECK_OK(al_headers_branch_add(&h, &b, &s.h[4]));
	CHECK_ERR(al_headers_branch_add(&h, &b, &s.h[3]), AL_E_SYNC_HEIGHT);
	/* ... too low: a kept block served where it cannot be. */
	al_headers_branch_init(&b, own, 8);
	CHECK_OK(al_headers_branch_begin(&h, &b, s.hash[4], 3));
	CHECK_OK(al_headers_branch_add(&h, &b, &s.h[4]));
	CHECK_ERR(al_headers_branch_add(&h, &b, &s.h[3]), AL_E_SYNC_HEIGHT);
	/* A chain that never meets ours: a different genesis. */
	f = s;
	memset(&f.h[0], 0, sizeof(f.h[0]));
	f.h[0].bits = 0x207fffff;
	while (al_block_header_check_pow(&f.h[0], AL_NET_REGTEST) != AL_OK)
		f.h[0].nonce++;
	al_block_header_hash(f.hash[0], &f.h[0]);
	for (size_t i = 1; i <= 4; i++)
		esim_mine(&f, i, 0xc0, 0x207fffff);
	CHECK_ERR(stage(&h, &b, own, 8, &f), AL_E_SYNC_NOT_CONNECTED);
	/* None of it changed the chain. */
	CHECK(al_headers_gen(&h) == 1 && al_headers_tip_height(&h) == 2);
	CHECK_OK(sync_to(&h, &s, &(al_headers_change){0}));
	CHECK(al_headers_tip_height(&h) == 4);
}

/* Two steps stage at the same time; either may commit first. */
static void test_interleaved_branches(void)
{
	static esim s, longer, other;
	al_headers h;
	al_headers_branch a1, b1;
	al_headers_change ch;
	al_hdr own_a[8], own_b[8];
	al_arena a;

	al_arena_init(&a, mem, sizeof(mem));
	new_chain(&h, &a, 64, 64);
	esim_init(&s, 3);
	CHECK_OK(sync_to(&h, &s, &ch));
	esim_mine(&s, 4, 0xa4, 0x207fffff);
	esim_mine(&s, 5, 0xa5, 0x207fffff);
	longer = s;
	esim_mine(&longer, 6, 0xa6, 0x207fffff);

	/* The same blocks: the second commit adds nothing. */
	CHECK_OK(stage(&h, &a1, own_a, 8, &s));
	CHECK_OK(stage(&h, &b1, own_b, 8, &s));
	CHECK_OK(al_headers_commit(&h, &a1, &ch));
	CHECK(ch.connected == 2);
	CHECK_OK(al_headers_commit(&h, &b1, &ch));
	CHECK(!ch.changed && al_headers_tip_height(&h) == 5 && al_headers_gen(&h) == 2);

	/* B staged 6 on the same chain when A committed 4 and 5: B adds 6 alone. */
	esim_init(&s, 3);
	new_chain(&h, &a, 64, 64);
	CHECK_OK(sync_to(&h, &s, &ch));
	esim_mine(&s, 4, 0xa4, 0x207fffff);
	esim_mine(&s, 5, 0xa5, 0x207fffff);
	CHECK_OK(stage(&h, &b1, own_b, 8, &longer));
	CHECK_OK(stage(&h, &a1, own_a, 8, &s));
	CHECK_OK(al_headers_commit(&h, &a1, &ch));
	CHECK_OK(al_headers_commit(&h, &b1, &ch));
	CHECK(ch.changed && ch.fork == 5 && ch.connected == 1 && ch.disconnected == 0);
	CHECK(!memcmp(al_headers_tip(&h)->hash, longer.hash[6], 32));

	/* B staged a sibling branch of equal length; A's commit won: B now has no more work
	 * than the chain it would replace. */
	esim_init(&s, 3);
	new_chain(&h, &a, 64, 64);
	CHECK_OK(sync_to(&h, &s, &ch));
	other = s;
	esim_mine(&s, 4, 0xa4, 0x207fffff);
	esim_mine(&other, 4, 0xd4, 0x207fffff);
	CHECK_OK(stage(&h, &a1, own_a, 8, &s));
	CHECK_OK(stage(&h, &b1, own_b, 8, &other));
	CHECK_OK(al_headers_commit(&h, &a1, &ch));
	CHECK_ERR(al_headers_commit(&h, &b1, &ch), AL_E_SYNC_LESS_WORK);
	CHECK(!memcmp(al_headers_tip(&h)->hash, s.hash[4], 32) && al_headers_gen(&h) == 2);
	al_headers_branch_drop(&h, &b1);

	/* B grows from block 3; A's reorganisation replaced block 3: B's fork is gone. */
	esim_init(&s, 3);
	new_chain(&h, &a, 64, 64);
	CHECK_OK(sync_to(&h, &s, &ch));
	other = s;
	esim_mine(&other, 4, 0xd4, 0x207fffff);
	esim_mine(&s, 3, 0xe3, 0x207fffff);
	esim_mine(&s, 4, 0xe4, 0x207fffff);
	esim_mine(&s, 5, 0xe5, 0x207fffff);
	CHECK_OK(stage(&h, &b1, own_b, 8, &other));
	CHECK_OK(stage(&h, &a1, own_a, 8, &s));
	CHECK_OK(al_headers_commit(&h, &a1, &ch));
	CHECK(ch.fork == 2 && ch.disconnected == 1);
	CHECK_ERR(al_headers_branch_fit(&h, &b1), AL_E_SYNC_CHAIN_MOVED);
	CHECK_ERR(al_headers_commit(&h, &b1, &ch), AL_E_SYNC_CHAIN_MOVED);
	CHECK(!memcmp(al_headers_tip(&h)->hash, s.hash[5], 32));
	CHECK(al_headers_get_stats(&h)->moved == 2);
	al_headers_branch_drop(&h, &b1);
}

/* A step that outgrows its own buffer borrows the chain's stage; another takes it. */
static void test_shared_stage(void)
{
	static esim s;
	al_headers h;
	al_headers_branch a1, b1;
	al_headers_change ch;
	al_hdr own_a[2], own_b[2];
	al_arena a;

	al_arena_init(&a, mem, sizeof(mem));
	new_chain(&h, &a, 64, 6);
	esim_init(&s, 6);
	/* A: 6 headers, 2 of its own, then the stage. */
	CHECK_OK(stage(&h, &a1, own_a, 2, &s));
	CHECK(a1.lease != 0 && al_headers_get_stats(&h)->borrowed == 1);
	/* B takes the stage: A finds out at its next use. */
	CHECK_OK(stage(&h, &b1, own_b, 2, &s));
	CHECK(al_headers_get_stats(&h)->taken == 1);
	CHECK_ERR(al_headers_branch_check(&h, &a1), AL_E_SYNC_BUSY);
	CHECK_ERR(al_headers_commit(&h, &a1, &ch), AL_E_SYNC_BUSY);
	CHECK(al_headers_gen(&h) == 0);
	al_headers_branch_drop(&h, &a1); /* not B's lease: B keeps the stage */
	CHECK_OK(al_headers_branch_check(&h, &b1));
	CHECK_OK(al_headers_commit(&h, &b1, &ch));
	CHECK(ch.connected == 6 && h.lease == 0);
	/* More than the stage holds. */
	esim_init(&s, 14);
	new_chain(&h, &a, 64, 6);
	CHECK_ERR(stage(&h, &a1, own_a, 2, &s), AL_E_SYNC_FULL);
	al_headers_branch_drop(&h, &a1);
	CHECK(h.lease == 0);
}

/* The window keeps the newest headers; a save loads back the same. */
static void test_window_and_persistence(void)
{
	static esim s;
	static uint8_t buf[1 << 14], buf2[1 << 14];
	al_headers h, h2;
	al_headers_change ch;
	al_arena a;
	size_t n, n2;

	al_arena_init(&a, mem, sizeof(mem));
	new_chain(&h, &a, 4, 16);
	esim_init(&s, 9);
	CHECK_OK(sync_to(&h, &s, &ch));
	CHECK(al_headers_base_height(&h) == 6 && al_headers_tip_height(&h) == 9);
	CHECK(al_headers_at(&h, 5) == NULL && !memcmp(al_headers_at(&h, 6)->hash, s.hash[6], 32));
	/* A branch that forks below the window cannot connect. */
	{
		static esim f;

		f = s;
		for (size_t i = 5; i <= 12; i++)
			esim_mine(&f, i, 0xf0, 0x207fffff);
		CHECK_ERR(sync_to(&h, &f, &ch), AL_E_SYNC_NOT_CONNECTED);
	}

	n = save(&h, buf, sizeof(buf), 0);
	CHECK(n == 1 + 1 + 4 + 4 + 4 + 4 * 80);
	new_chain(&h2, &a, 4, 16);
	CHECK_OK(al_headers_load(&h2, buf, n));
	n2 = save(&h2, buf2, sizeof(buf2), 0);
	CHECK(n == n2 && !memcmp(buf, buf2, n));
	CHECK(al_headers_tip_height(&h2) == 9 && al_headers_gen(&h2) == 1);
	/* Loaded once: the chain has moved, it is not replaced again. */
	CHECK_ERR(al_headers_load(&h2, buf, n), AL_E_SYNC_STATE);
	/* It syncs on from there. */
	esim_mine(&s, 10, 0xa0, 0x207fffff);
	CHECK_OK(sync_to(&h2, &s, &ch));
	CHECK(ch.connected == 1 && al_headers_tip_height(&h2) == 10);
	/* The newest two only. */
	n = save(&h2, buf, sizeof(buf), 2);
	new_chain(&h, &a, 4, 16);
	CHECK_OK(al_headers_load(&h, buf, n));
	CHECK(al_headers_base_height(&h) == 9 && al_headers_tip_height(&h) == 10);
}

/* Every corruption of a saved chain is refused and changes nothing. */
static void test_corrupt_loads(void)
{
	static esim s;
	static uint8_t good[1 << 14], bad[1 << 14];
	al_headers h, fresh;
	al_headers_change ch;
	al_arena a;
	size_t n, off0 = 1 + 1 + 4 + 4 + 4; /* the first header */

	al_arena_init(&a, mem, sizeof(mem));
	new_chain(&h, &a, 16, 16);
	esim_init(&s, 5);
	CHECK_OK(sync_to(&h, &s, &ch));
	n = save(&h, good, sizeof(good), 0);
	new_chain(&fresh, &a, 16, 16);
#define REFUSED(len, want)                                                                         \
	do {                                                                                       \
		CHECK_ERR(al_headers_load(&fresh, bad, (len)), (want));                            \
		CHECK(al_headers_gen(&fresh) == 0 && al_headers_tip_height(&fresh) == 0);          \
	} while (0)
	memcpy(bad, good, n);
	REFUSED(n - 1, AL_E_TRUNCATED);
	REFUSED(5, AL_E_TRUNCATED);
	bad[n] = 0;
	REFUSED(n + 1, AL_E_TRAILING);
	bad[0] = 9; /* version */
	REFUSED(n, AL_E_RANGE);
	memcpy(bad, good, n);
	bad[1] = AL_NET_MAINNET; /* another network */
	REFUSED(n, AL_E_RANGE);
	memcpy(bad, good, n);
	bad[2] = 1; /* another checkpoint height */
	REFUSED(n, AL_E_RANGE);
	memcpy(bad, good, n);
	al_write_le32(bad + 10, 17); /* more than max_headers */
	REFUSED(n, AL_E_SYNC_FULL);
	al_write_le32(bad + 10, 0);
	REFUSED(n, AL_E_SYNC_FULL);
	/* A window wholly above the checkpoint that reaches past any height (CI's fuzz_headers
	 * found a single header placed at 2^32 - 1, whose next height wraps to 0). */
	memcpy(bad, good, n);
	al_write_le32(bad + 6, AL_BLOCK_MAX_HEIGHT - 5 + 1);
	REFUSED(n, AL_E_SYNC_HEIGHT);
	al_write_le32(bad + 6, UINT32_MAX - 5);
	REFUSED(n, AL_E_SYNC_HEIGHT);
	al_write_le32(bad + 6, AL_BLOCK_MAX_HEIGHT - 5);
	CHECK_OK(al_headers_load(&fresh, bad, n));
	CHECK(al_headers_tip_height(&fresh) == AL_BLOCK_MAX_HEIGHT);
	new_chain(&fresh, &a, 16, 16);
	/* Block 2's link broken, its nonce then searched so that its hash still meets the
	 * target (a link error), or misses it (a work error). */
	for (int miss = 0; miss < 2; miss++) {
		al_block_header x = s.h[2];

		x.prev_hash[0] ^= 1;
		while ((al_block_header_check_pow(&x, AL_NET_REGTEST) == AL_OK) == miss)
			x.nonce++;
		memcpy(bad, good, n);
		al_block_header_write(bad + off0 + 2 * 80, &x);
		REFUSED(n, miss ? AL_E_CHAIN_POW : AL_E_SYNC_NOT_CONNECTED);
	}
	/* Headers of another chain that does not hold the checkpoint at its height. (A
	 * window wholly above the checkpoint cannot be held to it: the seal vouches that this
	 * enclave slid it there.) */
	{
		static esim f;
		static uint8_t other[1 << 14];
		al_headers g;
		al_headers_config c = {.net = AL_NET_REGTEST, .max_headers = 16, .max_stage = 16};
		size_t m;

		esim_init(&f, 3);
		c.checkpoint = f.h[1]; /* a chain whose checkpoint is block 1 of f */
		c.checkpoint_height = 0;
		CHECK_OK(al_headers_init(&g, &a, &c));
		m = save(&g, other, sizeof(other), 0);
		CHECK_ERR(al_headers_load(&fresh, other, m), AL_E_SYNC_NOT_CONNECTED);
		CHECK(al_headers_gen(&fresh) == 0);
	}
	CHECK_OK(al_headers_load(&fresh, good, n));
	CHECK(al_headers_tip_height(&fresh) == 5);
#undef REFUSED
}

/* Links and targets checked on load: a forged link with valid work, a changed target. */
static void test_load_rules(void)
{
	static esim s, f;
	static uint8_t buf[1 << 14];
	al_headers h, fresh;
	al_headers_change ch;
	al_arena a;
	size_t n, off0 = 1 + 1 + 4 + 4 + 4;

	al_arena_init(&a, mem, sizeof(mem));
	new_chain(&h, &a, 16, 16);
	esim_init(&s, 4);
	CHECK_OK(sync_to(&h, &s, &ch));
	n = save(&h, buf, sizeof(buf), 0);
	/* Block 3 swapped for a block of another branch: valid work, wrong link. */
	f = s;
	esim_mine(&f, 2, 0xb2, 0x207fffff);
	esim_mine(&f, 3, 0xb3, 0x207fffff);
	al_block_header_write(buf + off0 + 3 * 80, &f.h[3]);
	new_chain(&fresh, &a, 16, 16);
	CHECK_ERR(al_headers_load(&fresh, buf, n), AL_E_SYNC_NOT_CONNECTED);
	/* Block 4 re-mined at a harder target: valid work, not regtest's rule. */
	n = save(&h, buf, sizeof(buf), 0);
	f = s;
	esim_mine(&f, 4, 0xa0, 0x1f7fffff);
	al_block_header_write(buf + off0 + 4 * 80, &f.h[4]);
	CHECK_ERR(al_headers_load(&fresh, buf, n), AL_E_SYNC_TARGET);
	CHECK(al_headers_gen(&fresh) == 0);
}

int main(void)
{
	test_checkpoints();
	test_grow_and_reorg();
	test_forged();
	test_interleaved_branches();
	test_shared_stage();
	test_window_and_persistence();
	test_corrupt_loads();
	test_load_rules();
	return al_t_finish();
}
