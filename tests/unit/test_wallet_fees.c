/* The wallet's fee caps (wallet/wallet.h): a chain server that claims 1,000,000 sat/vB
 * cannot make the wallet pay more than the caps; the user's explicit override can; every
 * refusal leaves the wallet exactly as it was and nothing broadcastable behind.
 *
 * The wallet is funded the way it is in production: a real transaction paying two of its
 * addresses, confirmed in a block of the scripted Esplora server (tests/lib/esplora_sim.h)
 * and found by chain sync. What the wallet then builds is checked independently: the fee
 * is recomputed from the transaction's own outputs and the UTXOs it spends, the rate from
 * its serialized virtual size. */
#include <stdio.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/tx.h"
#include "chain/esplora.h"
#include "chain/sync.h"
#include "esplora_sim.h"
#include "test.h"
#include "wallet/wallet.h"

#define BIG   20000000u /* sat, to receive index 0 */
#define SMALL 2000000u  /* sat, to receive index 1 */

static uint8_t sync_mem[16u << 20], wallet_mem[1u << 20], tx_mem[1u << 16];
static uint8_t *scratch_mem;
static uint8_t funding[256], out[1u << 16];
static size_t funding_len;
static esim chain;

typedef struct fixture {
	al_headers headers;
	al_sync sync;
	al_wallet w;
	al_arena scratch;
	uint8_t dest[22]; /* somebody else's P2WPKH */
} fixture;

/* A transaction from somebody else paying BIG and SMALL to receive indices 0 and 1. */
static void make_funding(const al_wallet *w)
{
	uint8_t s0[22], s1[22], prev[32];
	al_arena a;
	al_tx tx;
	al_wb wb;

	memset(prev, 0x77, sizeof(prev));
	CHECK_OK(al_wallet_script(w, s0, AL_WALLET_RECEIVE, 0));
	CHECK_OK(al_wallet_script(w, s1, AL_WALLET_RECEIVE, 1));
	al_arena_init(&a, tx_mem, sizeof(tx_mem));
	CHECK_OK(al_tx_init(&tx, &a, 2, 0, 1, 2));
	CHECK_OK(al_tx_add_input(&tx, prev, 0, 0xfffffffe));
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(BIG), s0, sizeof(s0)));
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(SMALL), s1, sizeof(s1)));
	al_wb_init(&wb, funding, sizeof(funding));
	al_tx_write(&wb, &tx, false);
	CHECK(al_wb_ok(&wb));
	funding_len = wb.len;
}

/* A fresh wallet that has synced the funding block: 22,000,000 sat confirmed. */
static void setup(fixture *f)
{
	static const uint8_t seed[32] = {0x42, 0x42, 0x42};
	const uint8_t *raw[1] = {funding};
	size_t len[1];
	al_sync_config cfg = {.headers = &f->headers,
	                      .max_new_headers = 16,
	                      .max_txs = 32,
	                      .max_outputs = 4,
	                      .max_scripts = 128,
	                      .raw_cap = 1u << 16};
	al_arena a, wa;
	bool more = true;

	al_arena_init(&a, sync_mem, sizeof(sync_mem));
	CHECK_OK(esim_headers(&f->headers, &a, 16));
	CHECK_OK(al_sync_init(&f->sync, &a, &cfg));
	al_arena_init(&wa, wallet_mem, sizeof(wallet_mem));
	al_arena_init(&f->scratch, scratch_mem, al_interp_scratch_size() + (1u << 20));
	CHECK_OK(al_wallet_init(&f->w, al_t_secp(), &wa, &f->scratch, &f->sync, AL_NET_REGTEST,
	                        seed, sizeof(seed)));
	make_funding(&f->w);
	len[0] = funding_len;
	esim_init(&chain, 0);
	esim_mine_txs(&chain, 1, raw, len, 1);
	for (int i = 0; more && i < 4; i++) {
		CHECK_OK(esim_step(&f->sync, &chain));
		CHECK_OK(al_wallet_update(&f->w, &more));
	}
	CHECK(al_wallet_get_balance(&f->w)->confirmed.sat == BIG + SMALL);
	memset(f->dest, 0, sizeof(f->dest));
	f->dest[1] = 20;
	memset(f->dest + 2, 0x5e, 20);
}

/* The wallet's committed state and its view, to compare around a refusal. */
typedef struct state {
	uint8_t saved[1u << 16];
	size_t len;
	al_wallet_balance bal;
	size_t n_utxos;
} state;

static void take(const fixture *f, state *st)
{
	al_wb wb;

	al_wb_init(&wb, st->saved, sizeof(st->saved));
	al_wallet_save(&f->w, &wb);
	CHECK(al_wb_ok(&wb));
	st->len = wb.len;
	st->bal = *al_wallet_get_balance(&f->w);
	st->n_utxos = al_wallet_utxo_count(&f->w);
}

static bool same(const fixture *f, const state *before)
{
	static state now;

	take(f, &now);
	return now.len == before->len && !memcmp(now.saved, before->saved, now.len) &&
	       !memcmp(&now.bal, &before->bal, sizeof(now.bal)) && now.n_utxos == before->n_utxos;
}

/* A send the caps must refuse with `want`: nothing changes, nothing is left to
 * broadcast. */
static void send_refused(fixture *f, al_sat amount, uint64_t rate, const al_wallet_send_opts *o,
                         al_err want)
{
	static state before;
	uint8_t txid[32];
	size_t len = 1;
	al_sat fee;
	bool clean = true;

	take(f, &before);
	memset(out, 0, sizeof(out));
	CHECK_ERR(al_wallet_send(&f->w, out, sizeof(out), &len, txid, &fee, f->dest,
	                         sizeof(f->dest), amount, rate, o),
	          want);
	CHECK(len == 0);
	for (size_t i = 0; i < sizeof(out); i++)
		clean &= out[i] == 0;
	CHECK(clean);
	CHECK(same(f, &before));
}

/* The fee a transaction of ours pays, from the funding outputs it spends (every coin
 * the wallet has comes from there) and its own outputs; its virtual size. */
static uint64_t fee_of(const uint8_t *raw, size_t len, size_t *vsize)
{
	uint64_t in = 0, outs = 0;
	uint8_t fund_id[32];
	al_arena a;
	al_tx tx, fund;

	al_arena_init(&a, tx_mem, sizeof(tx_mem));
	CHECK_OK(al_tx_parse(&fund, &a, funding, funding_len));
	al_tx_txid(&fund, fund_id);
	CHECK_OK(al_tx_parse(&tx, &a, raw, len));
	for (size_t i = 0; i < tx.n_in; i++) {
		CHECK(!memcmp(tx.in[i].txid, fund_id, 32) && tx.in[i].vout < fund.n_out);
		if (tx.in[i].vout < fund.n_out)
			in += fund.out[tx.in[i].vout].amount.sat;
	}
	for (size_t k = 0; k < tx.n_out; k++)
		outs += tx.out[k].amount.sat;
	*vsize = al_tx_vsize(&tx);
	CHECK(in >= outs);
	return in - outs;
}

/* A successful send: its real fee and rate (recomputed) within `max_fee` and `max_rate`
 * (sat per 1000 vB; the wallet rounds its size estimate up, so a little above the rate
 * asked). */
static void send_ok(fixture *f, al_sat amount, uint64_t rate, const al_wallet_send_opts *o,
                    uint64_t max_fee, uint64_t max_rate, uint8_t txid[32], size_t *len)
{
	size_t vsize;
	uint64_t real;
	al_sat fee;

	CHECK_OK(al_wallet_send(&f->w, out, sizeof(out), len, txid, &fee, f->dest, sizeof(f->dest),
	                        amount, rate, o));
	real = fee_of(out, *len, &vsize);
	CHECK(real == fee.sat);
	CHECK(real <= max_fee);
	CHECK(real * 1000 <= max_rate * vsize);
}

/* A chain server's 1,000,000 sat/vB, through the parser the wallet's callers use. */
static void test_absurd_estimate(void)
{
	static fixture f;
	static const char body[] = "{\"1\":1000000,\"6\":1000000,\"144\":1000000}";
	const al_wallet_fee_caps *c = &f.w.caps;
	uint64_t est, rate;
	uint8_t txid[32];
	size_t len;

	setup(&f);
	CHECK_OK(al_esplora_parse_fee(&est, 6, (const uint8_t *)body, strlen(body)));
	CHECK(est == 1000000000u);
	/* Unclamped, it is refused before anything is selected. */
	send_refused(&f, al_sat_of(100000), est, NULL, AL_E_WALLET_FEE_RATE_CAP);
	/* Clamped to 1,500 sat/vB: a small payment would pay more than a tenth of itself. */
	rate = al_wallet_fee_clamp(c, est);
	CHECK(rate == AL_WALLET_MAX_ESTIMATE);
	send_refused(&f, al_sat_of(100000), rate, NULL, AL_E_WALLET_FEE_SHARE_CAP);
	/* A large one pays the clamped rate, within every cap. */
	send_ok(&f, al_sat_of(15000000), rate, NULL, 15000000 / 10,
	        AL_WALLET_MAX_ESTIMATE * 11 / 10, txid, &len);
	/* Every amount: refused by a cap, or short of funds, or paid within the caps. */
	for (uint64_t amt = 1000; amt <= 21000000; amt = amt * 3 + 7) {
		al_sat fee;
		al_err e;
		size_t vsize;
		uint64_t real;

		e = al_wallet_send(&f.w, out, sizeof(out), &len, txid, &fee, f.dest, sizeof(f.dest),
		                   al_sat_of(amt), rate, NULL);
		if (e != AL_OK) {
			CHECK(e == AL_E_WALLET_FEE_SHARE_CAP || e == AL_E_WALLET_FUNDS ||
			      e == AL_E_WALLET_DUST);
			continue;
		}
		real = fee_of(out, len, &vsize);
		CHECK(real * 10 <= amt && real <= AL_WALLET_MAX_FEE &&
		      real * 1000 <= AL_WALLET_MAX_FEERATE * vsize);
	}
	/* Low estimates are raised to the relay floor. */
	CHECK(al_wallet_fee_clamp(c, 0) == AL_WALLET_MIN_FEERATE);
	CHECK(al_wallet_fee_clamp(c, 2250) == 2250);
	al_wallet_clear(&f.w);
}

/* Each cap refuses on its own, and the override lets the user pay above them. */
static void test_caps_and_override(void)
{
	static fixture f;
	al_wallet_fee_caps caps;
	al_wallet_send_opts o = {.fee_override = al_sat_of(3000000)};
	uint8_t txid[32];
	size_t len;

	setup(&f);
	al_wallet_fee_caps_default(&caps);
	CHECK(caps.max_feerate == 10000000u && caps.max_fee.sat == 10000000u &&
	      caps.max_fee_permille == 100 && caps.max_estimate == 1500000u);
	/* 20,000 sat/vB, twice Core's maxfeerate. */
	send_refused(&f, al_sat_of(15000000), 20000000, NULL, AL_E_WALLET_FEE_RATE_CAP);
	/* The user saw about 2.8 million sat and accepts up to 3 million. */
	send_ok(&f, al_sat_of(15000000), 20000000, &o, 3000000, 22000000, txid, &len);
	o.fee_override = al_sat_of(1000000);
	send_refused(&f, al_sat_of(15000000), 20000000, &o, AL_E_WALLET_FEE_ABS_CAP);
	/* The absolute cap, made small enough to meet: 10 sat/vB pays about 1,410 sat. */
	caps.max_fee = al_sat_of(1000);
	CHECK_OK(al_wallet_set_fee_caps(&f.w, &caps));
	send_refused(&f, al_sat_of(1000000), 10000, NULL, AL_E_WALLET_FEE_ABS_CAP);
	caps.max_fee = al_sat_of(AL_WALLET_MAX_FEE);
	CHECK_OK(al_wallet_set_fee_caps(&f.w, &caps));
	send_ok(&f, al_sat_of(1000000), 10000, NULL, 2000, 11000, txid, &len);
	/* The signed transaction's own rate: a changeless result gives the excess to the fee
	 * (BnB's window), so 10 sat/vB asked can pay more; with the rate cap at 10 sat/vB that
	 * is refused. SMALL minus what 10 sat/vB costs leaves 900 sat of excess. */
	caps.max_feerate = 10000;
	caps.max_estimate = 10000;
	caps.max_fee_permille = 1000;
	CHECK_OK(al_wallet_set_fee_caps(&f.w, &caps));
	send_refused(&f, al_sat_of(SMALL - 1100 - 900), 10000, NULL, AL_E_WALLET_FEE_RATE_CAP);
	/* Nonsense caps are refused and change nothing. */
	caps.max_estimate = caps.max_feerate + 1;
	CHECK_ERR(al_wallet_set_fee_caps(&f.w, &caps), AL_E_ARG);
	al_wallet_fee_caps_default(&caps);
	caps.max_fee_permille = 0;
	CHECK_ERR(al_wallet_set_fee_caps(&f.w, &caps), AL_E_ARG);
	caps.max_fee_permille = 1001;
	CHECK_ERR(al_wallet_set_fee_caps(&f.w, &caps), AL_E_ARG);
	caps.max_fee_permille = 100;
	caps.max_estimate = AL_WALLET_MIN_FEERATE - 1;
	CHECK_ERR(al_wallet_set_fee_caps(&f.w, &caps), AL_E_ARG);
	CHECK(f.w.caps.max_feerate == 10000);
	al_wallet_clear(&f.w);
}

/* A fee bump is held to the same caps. */
static void test_bump(void)
{
	static fixture f;
	static state before;
	static uint8_t sent[1024];
	al_wallet_send_opts o = {.fee_override = al_sat_of(150000)};
	uint8_t txid[32], new_txid[32];
	size_t len, sent_len, vsize;
	al_sat fee;

	setup(&f);
	send_ok(&f, al_sat_of(100000), 2000, NULL, 10000, 2200, txid, &sent_len);
	memcpy(sent, out, sent_len);
	CHECK_OK(al_wallet_commit_tx(&f.w, sent, sent_len));
	take(&f, &before);
	CHECK_ERR(al_wallet_bump_fee(&f.w, out, sizeof(out), &len, new_txid, &fee, txid,
	                             1000000000u, NULL),
	          AL_E_WALLET_FEE_RATE_CAP);
	CHECK(len == 0 && same(&f, &before));
	/* 1,000 sat/vB on a 100,000 sat payment: more than a tenth of it. */
	CHECK_ERR(
	    al_wallet_bump_fee(&f.w, out, sizeof(out), &len, new_txid, &fee, txid, 1000000, NULL),
	    AL_E_WALLET_FEE_SHARE_CAP);
	CHECK(len == 0 && same(&f, &before));
	/* ... unless the user accepts it. */
	CHECK_OK(
	    al_wallet_bump_fee(&f.w, out, sizeof(out), &len, new_txid, &fee, txid, 1000000, &o));
	CHECK(fee.sat > 100000 && fee.sat <= 150000 && fee_of(out, len, &vsize) == fee.sat);
	/* 5 sat/vB stays within the caps. */
	CHECK_OK(
	    al_wallet_bump_fee(&f.w, out, sizeof(out), &len, new_txid, &fee, txid, 5000, NULL));
	CHECK(fee.sat <= 10000 && fee_of(out, len, &vsize) == fee.sat);
	CHECK(same(&f, &before));
	al_wallet_clear(&f.w);
}

/* Another's transaction with one input of the wallet's (receive index 1, SMALL) after
 * one of its own (witness already set): only the wallet's input is signed, and it
 * verifies for that UTXO's script and amount; the other input is kept byte for byte. */
static void test_sign_inputs(void)
{
	static uint8_t unsigned_tx[512], signed_tx[1024], mem[1u << 16];
	uint8_t ftxid[32], other[32], s1[22], item[3] = {1, 2, 3};
	al_bytes wit = {item, sizeof(item)};
	al_interp_fail why;
	size_t len = 0, ulen;
	fixture f;
	al_arena a;
	al_tx tx, got;
	al_wb wb;

	setup(&f);
	CHECK_OK(al_wallet_script(&f.w, s1, AL_WALLET_RECEIVE, 1));
	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_tx_parse(&tx, &a, funding, funding_len));
	al_tx_txid(&tx, ftxid);
	memset(other, 0x99, sizeof(other));
	CHECK_OK(al_tx_init(&tx, &a, 2, 0, 2, 1));
	CHECK_OK(al_tx_add_input(&tx, other, 3, 0xfffffffd));
	CHECK_OK(al_tx_add_input(&tx, ftxid, 1, 0xfffffffd));
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(SMALL - 1000), f.dest, sizeof(f.dest)));
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, &wit, 1));
	al_wb_init(&wb, unsigned_tx, sizeof(unsigned_tx));
	al_tx_write(&wb, &tx, true);
	CHECK(al_wb_ok(&wb));
	ulen = wb.len;

	CHECK_OK(
	    al_wallet_sign_inputs(&f.w, unsigned_tx, ulen, signed_tx, sizeof(signed_tx), &len));
	CHECK_OK(al_tx_parse(&got, &a, signed_tx, len));
	CHECK(got.in[0].n_witness == 1 && got.in[0].witness[0].len == 3 &&
	      !memcmp(got.in[0].witness[0].p, item, 3));
	CHECK(got.in[1].n_witness == 2);
	CHECK_OK(al_interp_verify_input(al_t_secp(), &got, 1, s1, sizeof(s1), al_sat_of(SMALL),
	                                AL_INTERP_STANDARD, &f.scratch, &why));
	/* Signed for SMALL: another amount does not verify (BIP 143 commits to it). */
	CHECK(al_interp_verify_input(al_t_secp(), &got, 1, s1, sizeof(s1), al_sat_of(BIG),
	                             AL_INTERP_STANDARD, &f.scratch, &why) != AL_OK);

	/* Too small a buffer, and a transaction with no input of the wallet's. */
	CHECK_ERR(al_wallet_sign_inputs(&f.w, unsigned_tx, ulen, signed_tx, ulen, &len),
	          AL_E_BUFSIZE);
	CHECK(len == 0);
	CHECK_OK(al_tx_init(&tx, &a, 2, 0, 1, 1));
	CHECK_OK(al_tx_add_input(&tx, other, 3, 0xfffffffd));
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(1000), f.dest, sizeof(f.dest)));
	al_wb_init(&wb, unsigned_tx, sizeof(unsigned_tx));
	al_tx_write(&wb, &tx, false);
	CHECK_ERR(
	    al_wallet_sign_inputs(&f.w, unsigned_tx, wb.len, signed_tx, sizeof(signed_tx), &len),
	    AL_E_WALLET_UNKNOWN_TX);
	CHECK(len == 0);
	al_wallet_clear(&f.w);
}

/* al_wallet_send_opts.held: a coin held elsewhere (a channel claim's fee input) is
 * never selected; what is left pays, or the send is refused and nothing changes. */
static bool hold_vout(void *arg, const uint8_t txid[32], uint32_t vout)
{
	(void)txid;
	return vout == *(const uint32_t *)arg;
}

/* The one output the transaction in `out` spends: its vout (-1 if it spends more). */
static int64_t only_input(size_t len)
{
	al_arena a;
	al_tx tx;

	al_arena_init(&a, tx_mem, sizeof(tx_mem));
	CHECK_OK(al_tx_parse(&tx, &a, out, len));
	return tx.n_in == 1 ? (int64_t)tx.in[0].vout : -1;
}

static void test_held(void)
{
	uint32_t big = 0, small = 1;
	al_wallet_send_opts hold_big = {.held = hold_vout, .held_arg = &big};
	al_wallet_send_opts hold_small = {.held = hold_vout, .held_arg = &small};
	uint8_t txid[32];
	fixture f;
	size_t len;

	setup(&f);
	/* More than SMALL: only BIG can pay it. */
	send_refused(&f, al_sat_of(SMALL + 100000), 2000, &hold_big, AL_E_WALLET_FUNDS);
	send_ok(&f, al_sat_of(SMALL + 100000), 2000, &hold_small, 10000, 2200, txid, &len);
	CHECK(only_input(len) == 0);
	/* Less than SMALL, which would do: still only the coin not held. */
	send_ok(&f, al_sat_of(100000), 2000, &hold_small, 10000, 2200, txid, &len);
	CHECK(only_input(len) == 0);
	send_ok(&f, al_sat_of(100000), 2000, &hold_big, 10000, 2200, txid, &len);
	CHECK(only_input(len) == 1);
	al_wallet_clear(&f.w);
}

int main(void)
{
	static uint8_t scratch[(64u << 20)];

	if (al_interp_scratch_size() + (1u << 20) > sizeof(scratch)) {
		fprintf(stderr, "interpreter scratch larger than the test's buffer\n");
		return 1;
	}
	scratch_mem = scratch;
	test_absurd_estimate();
	test_caps_and_override();
	test_bump();
	test_sign_inputs();
	test_held();
	return al_t_finish();
}
