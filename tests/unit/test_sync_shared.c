/* Many chain syncs (chain/sync.h) on one shared header chain (chain/headers.h), against
 * scripted Esplora servers (esplora_sim.h) that disagree: one behind, one on a stale
 * fork, one lying, one reorganising. Steps are driven request by request and
 * interleaved in the orders that matter.
 *
 * What is proven here:
 *   - a server behind the shared tip is not an error, and its sync counts confirmations
 *     against the shared tip (its transactions' nLockTime against its own);
 *   - a server on a branch with less work, or one that lies, gets its precise error and
 *     neither its sync nor the shared chain changes;
 *   - a confirmation another node's reorganisation removed stops counting at once
 *     (al_sync_confirmations reads the shared chain), before its own sync steps again;
 *   - interleaved: two steps bringing the same blocks both commit, one of them adds
 *     them; a step whose confirmation was reorganised away under it, or whose fork
 *     vanished, fails with AL_E_SYNC_CHAIN_MOVED and changes nothing; a step whose
 *     shared stage was taken fails with AL_E_SYNC_BUSY and succeeds when run again;
 *   - a sync's saved state trusts nothing the shared chain it is loaded against does
 *     not hold (a chain rolled back, or saved on another branch);
 *   - one scratch arena serves every sync: none holds it between calls. */
#include <string.h>

#include "chain/sync.h"
#include "esplora_sim.h"
#include "test.h"

#define N_MANY 8

static uint8_t mem[64u << 20];
static uint8_t scratch_mem[1u << 20];
static al_arena scratch; /* shared by every sync below */
static al_arena arena;
static const uint8_t script[22] = {0x00, 0x14, 1};

/* A sync and its server, stepped one request at a time. */
typedef struct stepper {
	al_sync sy;
	esim *srv;
	bool done;
	al_err err;
	unsigned header_reqs;
} stepper;

static void open_sync(stepper *p, al_headers *h, esim *srv, size_t own_headers)
{
	al_sync_config cfg = {.headers = h,
	                      .scratch = &scratch,
	                      .max_new_headers = own_headers,
	                      .max_txs = 16,
	                      .max_outputs = 4,
	                      .max_scripts = 4,
	                      .raw_cap = 4096};

	memset(p, 0, sizeof(*p));
	p->srv = srv;
	CHECK_OK(al_sync_init(&p->sy, &arena, &cfg));
	CHECK_OK(al_sync_watch_script(&p->sy, script, sizeof(script)));
}

static void begin(stepper *p)
{
	al_sync_begin(&p->sy);
	p->done = false;
	p->err = AL_OK;
}

/* One request asked and answered (or the step's end); false once the step is over. */
static bool one(stepper *p)
{
	const al_sync_request *rq;
	size_t len = 0;
	int status;

	if (p->done)
		return false;
	p->err = al_sync_next(&p->sy, &rq);
	CHECK(al_arena_used(&scratch) == 0);
	if (p->err != AL_OK || !rq) {
		p->done = true;
		return false;
	}
	p->header_reqs += strstr(rq->path, "/header") != NULL;
	status = esim_answer(p->srv, rq->path, &len);
	p->err = al_sync_on_response(&p->sy, status, (const uint8_t *)p->srv->body, len);
	CHECK(al_arena_used(&scratch) == 0);
	if (p->err != AL_OK)
		p->done = true;
	return !p->done;
}

/* One request of each, interleaved (never one step run ahead): false once both ended. */
static bool both(stepper *a, stepper *b)
{
	bool more_a = one(a), more_b = one(b);

	return more_a || more_b;
}

static al_err step(stepper *p)
{
	begin(p);
	while (one(p))
		;
	return p->err;
}

/* Step until the request about to be answered contains `what`. */
static void step_until(stepper *p, const char *what)
{
	const al_sync_request *rq;

	for (int guard = 0; guard < 200; guard++) {
		CHECK_OK(al_sync_next(&p->sy, &rq));
		CHECK(rq != NULL);
		if (!rq || strstr(rq->path, what))
			return;
		CHECK(one(p));
	}
	CHECK(false);
}

static void fresh(al_headers *h, size_t max_stage)
{
	al_headers_config c = {.net = AL_NET_REGTEST, .max_headers = 64, .max_stage = max_stage};

	al_arena_init(&arena, mem, sizeof(mem));
	al_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
	al_genesis_header(&c.checkpoint, AL_NET_REGTEST);
	CHECK_OK(al_headers_init(h, &arena, &c));
}

/* A fresh chain, two servers that agree on `blocks` blocks, and A's sync of them. */
static void two(al_headers *h, esim *sa, esim *sb, stepper *a, stepper *b, size_t blocks)
{
	fresh(h, 64);
	esim_init(sa, blocks);
	*sb = *sa;
	open_sync(a, h, sa, 4);
	open_sync(b, h, sb, 4);
	CHECK_OK(step(a));
}

static uint32_t conf(const stepper *p, const uint8_t txid[32])
{
	const al_sync_tx *t = al_sync_find_tx(&p->sy, txid);

	return t ? al_sync_confirmations(&p->sy, t) : 0;
}

static void test_disagreeing_servers(void)
{
	static esim main_srv, behind, stale, lying;
	static uint8_t before[1 << 14], after[1 << 14];
	static stepper a, b, c, d;
	static al_headers h;
	size_t n1, n2;
	uint64_t gen;

	fresh(&h, 64);
	esim_init(&main_srv, 8);
	behind = main_srv;
	behind.n = 6; /* tip 5 */
	stale = main_srv;
	esim_mine(&stale, 6, 0x56, 0x207fffff);
	esim_mine(&stale, 7, 0x57, 0x207fffff); /* tip 7: less work than 8 */
	lying = main_srv;
	esim_mine(&lying, 9, 0xa9, 0x207fffff);
	lying.lie = ESIM_LIE_HEADER_HASH;
	open_sync(&a, &h, &main_srv, 4);
	open_sync(&b, &h, &behind, 4);
	open_sync(&c, &h, &stale, 4);
	open_sync(&d, &h, &lying, 4);
	CHECK_OK(al_sync_watch_tx(&a.sy, main_srv.leaf[3][1], false));
	CHECK_OK(al_sync_watch_tx(&b.sy, main_srv.leaf[3][1], false));
	CHECK_OK(al_sync_watch_tx(&c.sy, main_srv.leaf[3][1], false));

	CHECK_OK(step(&a));
	CHECK(al_headers_tip_height(&h) == 8 && a.header_reqs == 8);
	CHECK(conf(&a, main_srv.leaf[3][1]) == 6);
	/* Behind: its tip is a kept block. No header fetched, confirmations from the shared
	 * tip, nLockTime from its own. */
	CHECK_OK(step(&b));
	CHECK(b.header_reqs == 0 && al_sync_last_result(&b.sy)->connected == 0);
	CHECK(conf(&b, main_srv.leaf[3][1]) == 6);
	CHECK(al_sync_server_height(&b.sy) == 5 && al_sync_server_height(&a.sy) == 8);
	/* A stale fork with less work, and a liar: their errors; nothing changes. */
	gen = al_headers_gen(&h);
	n1 = esim_snapshot(&c.sy, before, sizeof(before));
	CHECK_ERR(step(&c), AL_E_SYNC_LESS_WORK);
	n2 = esim_snapshot(&c.sy, after, sizeof(after));
	CHECK(n1 == n2 && !memcmp(before, after, n1));
	CHECK(al_sync_last_error(&c.sy) == AL_E_SYNC_LESS_WORK);
	CHECK_ERR(step(&d), AL_E_SYNC_HEADER_HASH);
	CHECK(al_headers_gen(&h) == gen && al_headers_tip_height(&h) == 8);
	CHECK(h.lease == 0);

	/* The main server reorganises blocks 3.. away with more work. A's sync carries it to
	 * the shared chain: B's confirmation no longer counts, before B steps again. */
	for (size_t i = 3; i <= 9; i++)
		esim_mine(&main_srv, i, 0xe0, 0x207fffff);
	CHECK_OK(step(&a));
	CHECK(al_sync_last_result(&a.sy)->disconnected == 6 &&
	      al_sync_last_result(&a.sy)->fork_height == 2);
	CHECK(conf(&b, behind.leaf[3][1]) == 0);
	CHECK(al_sync_find_tx(&b.sy, behind.leaf[3][1])->st.confirmed); /* its record, unused */
	/* B's server is still on the old branch: less work now, a precise error. */
	CHECK_ERR(step(&b), AL_E_SYNC_LESS_WORK);
	/* Its server catches up: B's transaction is gone (dropped), and B agrees. */
	b.srv = &main_srv;
	b.header_reqs = 0;
	CHECK_OK(step(&b));
	CHECK(b.header_reqs == 0);
	CHECK(al_sync_find_tx(&b.sy, behind.leaf[3][1])->st.dropped);
	CHECK(al_sync_tip_height(&b.sy) == 9 && al_sync_server_height(&b.sy) == 9);
}

/* Two steps bring the same blocks at the same time. */
static void test_same_blocks_interleaved(void)
{
	static esim sa, sb;
	static stepper a, b;
	static al_headers h;

	two(&h, &sa, &sb, &a, &b, 3);
	esim_mine(&sa, 4, 0xa4, 0x207fffff);
	esim_mine(&sa, 5, 0xa5, 0x207fffff);
	sb = sa;
	CHECK_OK(al_sync_watch_tx(&a.sy, sa.leaf[4][1], false));
	CHECK_OK(al_sync_watch_tx(&b.sy, sa.leaf[4][1], false));
	begin(&a);
	begin(&b);
	while (both(&a, &b))
		;
	CHECK_OK(a.err);
	CHECK_OK(b.err);
	CHECK(al_headers_tip_height(&h) == 5);
	CHECK(al_sync_last_result(&a.sy)->connected + al_sync_last_result(&b.sy)->connected == 2);
	CHECK(conf(&a, sa.leaf[4][1]) == 2 && conf(&b, sa.leaf[4][1]) == 2);
	CHECK(al_sync_last_result(&b.sy)->tip_changed);
	/* Both saw the chain move under them or made it move: the next step checks again,
	 * and then one request is an idle step's whole cost. */
	CHECK_OK(step(&a));
	CHECK_OK(step(&a));
	CHECK(!al_sync_last_result(&a.sy)->tip_changed);
}

/* B checked a confirmation against block 3; A's reorganisation replaced block 3 before
 * B committed. */
static void test_reorg_under_a_step(void)
{
	static esim sa, sb;
	static stepper a, b;
	static al_headers h;
	static uint8_t before[1 << 14], after[1 << 14];
	size_t n1, n2;

	two(&h, &sa, &sb, &a, &b, 4);
	CHECK_OK(al_sync_watch_tx(&b.sy, sb.leaf[3][1], false));
	n1 = esim_snapshot(&b.sy, before, sizeof(before));
	begin(&b);
	step_until(&b, "/merkle-proof");
	CHECK(one(&b)); /* B's proof checked against block 3: staged */
	for (size_t i = 3; i <= 5; i++)
		esim_mine(&sa, i, 0xe0, 0x207fffff);
	CHECK_OK(step(&a));
	while (one(&b))
		;
	CHECK_ERR(b.err, AL_E_SYNC_CHAIN_MOVED);
	n2 = esim_snapshot(&b.sy, after, sizeof(after));
	CHECK(n1 == n2 && !memcmp(before, after, n1));
	CHECK(al_sync_find_tx(&b.sy, sb.leaf[3][1])->st.confirmed == false);
	/* Run again: B's server is on the branch with less work now. */
	CHECK_ERR(step(&b), AL_E_SYNC_LESS_WORK);
	CHECK(al_headers_tip_height(&h) == 5);

	/* The same, with B's proof still on its way when block 3 is replaced: the proof is
	 * not checked against the new block 3 (its server did not lie), the step stops. */
	two(&h, &sa, &sb, &a, &b, 4);
	CHECK_OK(al_sync_watch_tx(&b.sy, sb.leaf[3][1], false));
	begin(&b);
	step_until(&b, "/merkle-proof");
	for (size_t i = 3; i <= 5; i++)
		esim_mine(&sa, i, 0xe0, 0x207fffff);
	CHECK_OK(step(&a));
	CHECK(!one(&b));
	CHECK_ERR(b.err, AL_E_SYNC_CHAIN_MOVED);

	/* B staged a branch (blocks 5, 6) on block 4; A's reorganisation replaced block 4
	 * with more work before B committed: B's fork is gone. */
	two(&h, &sa, &sb, &a, &b, 4);
	esim_mine(&sb, 5, 0xb5, 0x207fffff);
	esim_mine(&sb, 6, 0xb6, 0x207fffff);
	begin(&b);
	step_until(&b, "/scripthash/"); /* B's branch connected on block 4 */
	for (size_t i = 4; i <= 7; i++)
		esim_mine(&sa, i, 0xe0, 0x207fffff);
	CHECK_OK(step(&a));
	while (one(&b))
		;
	CHECK_ERR(b.err, AL_E_SYNC_CHAIN_MOVED);
	CHECK(!memcmp(al_headers_tip(&h)->hash, sa.hash[7], 32));
}

/* A bulk step borrows the shared stage; another takes it; both end well. */
static void test_stage_taken(void)
{
	static esim s;
	static stepper a, b;
	static al_headers h;

	fresh(&h, 16);
	esim_init(&s, 8);
	open_sync(&a, &h, &s, 2);
	open_sync(&b, &h, &s, 2);
	begin(&a);
	for (int i = 0; i < 5; i++)
		CHECK(one(&a)); /* tip, height, 3 headers: A borrowed the stage */
	CHECK(a.sy.br.lease != 0);
	begin(&b);
	for (int i = 0; i < 5; i++)
		CHECK(one(&b)); /* B took it */
	CHECK(!one(&a));
	CHECK_ERR(a.err, AL_E_SYNC_BUSY);
	while (one(&b))
		;
	CHECK_OK(b.err);
	CHECK(al_headers_tip_height(&h) == 8);
	a.header_reqs = 0;
	CHECK_OK(step(&a));
	CHECK(a.header_reqs == 0 && h.lease == 0);
}

/* Many syncs, one server, their requests interleaved round robin. */
static void test_many(void)
{
	static esim s;
	static stepper p[N_MANY];
	static al_headers h;
	size_t connected = 0;
	bool any;

	fresh(&h, 64);
	esim_init(&s, 6);
	for (size_t i = 0; i < N_MANY; i++) {
		open_sync(&p[i], &h, &s, 8); /* each stages the 6 blocks itself */
		CHECK_OK(al_sync_watch_tx(&p[i].sy, s.leaf[1 + i % 6][1], false));
		begin(&p[i]);
	}
	do {
		any = false;
		for (size_t i = 0; i < N_MANY; i++)
			any |= one(&p[i]);
	} while (any);
	for (size_t i = 0; i < N_MANY; i++) {
		CHECK_OK(p[i].err);
		connected += al_sync_last_result(&p[i].sy)->connected;
		CHECK(conf(&p[i], s.leaf[1 + i % 6][1]) == 6 - (1 + i % 6) + 1);
	}
	CHECK(connected == 6 && al_headers_tip_height(&h) == 6);
}

/* A sync's saved state against a shared chain that was rolled back, or saved on
 * another branch: it trusts only what that chain holds, and syncs back. */
static void test_saved_state_and_rolled_back_chain(void)
{
	static esim s, side;
	static stepper a, a2;
	static al_headers h, h2;
	static uint8_t state[1 << 14], old[1 << 14];
	al_headers_config c = {.net = AL_NET_REGTEST, .max_headers = 64, .max_stage = 64};
	size_t n, n_old;
	al_wb w;

	fresh(&h, 64);
	al_genesis_header(&c.checkpoint, AL_NET_REGTEST);
	esim_init(&s, 4);
	open_sync(&a, &h, &s, 4);
	CHECK_OK(step(&a));
	al_wb_init(&w, old, sizeof(old));
	al_headers_save(&h, &w, 0); /* the chain at 4 */
	n_old = w.len;
	esim_mine(&s, 5, 0xa5, 0x207fffff);
	esim_mine(&s, 6, 0xa6, 0x207fffff);
	CHECK_OK(al_sync_watch_tx(&a.sy, s.leaf[6][1], false));
	CHECK_OK(step(&a));
	CHECK(conf(&a, s.leaf[6][1]) == 1);
	n = esim_snapshot(&a.sy, state, sizeof(state));

	/* Restart on the chain as saved at 4: the confirmation in block 6 does not count. */
	CHECK_OK(al_headers_init(&h2, &arena, &c));
	CHECK_OK(al_headers_load(&h2, old, n_old));
	open_sync(&a2, &h2, &s, 4);
	CHECK_OK(al_sync_load(&a2.sy, state, n));
	CHECK(al_sync_find_tx(&a2.sy, s.leaf[6][1])->st.confirmed);
	CHECK(conf(&a2, s.leaf[6][1]) == 0);
	CHECK_OK(step(&a2));
	CHECK(conf(&a2, s.leaf[6][1]) == 1 && al_headers_tip_height(&h2) == 6);

	/* ... on a chain saved on another branch at the same height (5', 6'): neither. */
	side = s;
	esim_mine(&side, 5, 0xc5, 0x207fffff);
	esim_mine(&side, 6, 0xc6, 0x207fffff);
	CHECK_OK(al_headers_init(&h2, &arena, &c));
	open_sync(&a2, &h2, &side, 4);
	CHECK_OK(step(&a2));
	al_wb_init(&w, old, sizeof(old));
	al_headers_save(&h2, &w, 0);
	n_old = w.len;
	CHECK_OK(al_headers_init(&h2, &arena, &c));
	CHECK_OK(al_headers_load(&h2, old, n_old));
	open_sync(&a2, &h2, &s, 4);
	CHECK_OK(al_sync_load(&a2.sy, state, n));
	CHECK(conf(&a2, s.leaf[6][1]) == 0);
	/* The server's branch has no more work than the saved one: refused, still 0. */
	CHECK_ERR(step(&a2), AL_E_SYNC_LESS_WORK);
	CHECK(conf(&a2, s.leaf[6][1]) == 0);
	/* One block more and it wins: the confirmation is back, checked again. */
	esim_mine(&s, 7, 0xa7, 0x207fffff);
	CHECK_OK(step(&a2));
	CHECK(conf(&a2, s.leaf[6][1]) == 2);
	CHECK(al_sync_last_result(&a2.sy)->disconnected == 2);
}

int main(void)
{
	test_disagreeing_servers();
	test_same_blocks_interleaved();
	test_reorg_under_a_step();
	test_stage_taken();
	test_many();
	test_saved_state_and_rolled_back_chain();
	return al_t_finish();
}
