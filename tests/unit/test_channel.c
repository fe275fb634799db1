/* The channel engine end to end, two engines wired in-process (tests/lib/chan_harness):
 * opening both ways and both channel types, HTLCs added, fulfilled and failed from both
 * sides at once, update_fee; every commitment and HTLC transaction checked by the
 * script interpreter, balances checked at every step. */
#include <string.h>

#include "chan_harness.h"
#include "ln/wire.h"
#include "test.h"

#define CLTV 600000 - 500000 /* a block height well below 500000000 */

static void test_open(al_ln_chan_type type)
{
	hpair p;
	al_chan_info a, b;

	h_init(&p, 1 + type, NULL, NULL);
	CHECK(h_open(&p, type, 1000000, 200000000, 1000));
	al_chan_get_info(p.a.ch, &a);
	al_chan_get_info(p.b.ch, &b);
	CHECK(memcmp(a.channel_id, b.channel_id, 32) == 0);
	CHECK(a.local_to_remote.msat == 200000000 && b.local_to_local.msat == 200000000);
	CHECK(a.scid == (500ULL << 40 | 7ULL << 16));
	/* The funding transaction went out after funding_signed, once. */
	CHECK(p.a.n_bc == 1 && p.a.bc[0].kind == AL_CHAN_TX_FUNDING && p.b.n_bc == 0);
	CHECK(p.a.watches == 1 && p.b.watches == 1);
	CHECK(p.b.protected_checked >= 1); /* funding_signed was covered by B's disk */
	h_check_balances(&p);
	CHECK(h_verify(&p, &p.a) == 1);
	CHECK(h_verify(&p, &p.b) == 1);
	h_free(&p);
}

/* Offer an HTLC from `from` and run the dance until `to` reports it irrevocable. */
static uint64_t lock_in(hpair *p, hnode *from, hnode *to, uint64_t msat, uint8_t hash[32])
{
	size_t before = h_count_events(to, AL_CHAN_EV_HTLC_RECEIVED);
	const hevent *e;
	uint64_t id;

	CHECK_OK(h_add(p, from, msat, 100 + (uint32_t)(h_rand(p) % 50), &id, hash));
	CHECK_OK(al_chan_commit(from->ch));
	h_pump(p);
	CHECK(h_count_events(to, AL_CHAN_EV_HTLC_RECEIVED) == before + 1);
	e = h_find_event(to, AL_CHAN_EV_HTLC_RECEIVED, 0);
	CHECK(e && e->htlc_id == id && e->amount.msat == msat && memcmp(e->hash, hash, 32) == 0);
	return id;
}

static void settle(hpair *p, hnode *to, uint64_t id, const uint8_t hash[32], bool fulfill)
{
	uint8_t pre[32];

	if (fulfill) {
		CHECK(h_preimage_of(p, hash, pre));
		CHECK_OK(al_chan_fulfill_htlc(to->ch, id, pre));
	} else {
		CHECK_OK(al_chan_fail_htlc(to->ch, id, (const uint8_t *)"reason", 6));
	}
	CHECK_OK(al_chan_commit(to->ch));
	h_pump(p);
}

static void check_both(hpair *p, int want_txs)
{
	int a = h_verify(p, &p->a), b = h_verify(p, &p->b);

	h_check_balances(p);
	if (want_txs >= 0)
		CHECK(a == want_txs && b == want_txs);
	else
		CHECK(a > 0 && b > 0);
}

/* Payments both ways, one at a time and several in flight. */
static void test_payments(al_ln_chan_type type, uint64_t seed)
{
	uint8_t h1[32], h2[32], hs[6][32];
	uint64_t id1, id2, ids[6];
	al_chan_info a0, a1;
	const hevent *e;
	hpair p;
	size_t i;

	h_init(&p, seed, NULL, NULL);
	CHECK(h_open(&p, type, 2000000, 500000000, 2000));
	al_chan_get_info(p.a.ch, &a0);

	/* A pays B 100000 sat: an untrimmed HTLC in both commitments. */
	id1 = lock_in(&p, &p.a, &p.b, 100000000, h1);
	check_both(&p, 2); /* the commitment and one HTLC transaction each */
	settle(&p, &p.b, id1, h1, true);
	e = h_find_event(&p.a, AL_CHAN_EV_HTLC_FULFILLED, 0);
	CHECK(e && e->htlc_id == id1);
	check_both(&p, 1);
	al_chan_get_info(p.a.ch, &a1);
	CHECK(a1.local_to_local.msat + 100000000 == a0.local_to_local.msat);
	CHECK(a1.htlcs_out == 0 && a1.htlcs_in == 0);

	/* B pays A, and A fails one of B's HTLCs back. */
	id2 = lock_in(&p, &p.b, &p.a, 30000000, h2);
	check_both(&p, 2);
	settle(&p, &p.a, id2, h2, false);
	e = h_find_event(&p.b, AL_CHAN_EV_HTLC_FAILED, 0);
	CHECK(e && e->htlc_id == id2);
	/* The reason as sent, though the slot is gone once the event is made. */
	CHECK(e && e->reason_len == 6 && !memcmp(e->reason, "reason", 6));
	check_both(&p, 1);

	/* Six in flight, three each way, some of them dust (trimmed). */
	for (i = 0; i < 6; i++) {
		hnode *from = i % 2 ? &p.b : &p.a;
		uint64_t msat = i < 2 ? 400000 : 5000000 + i * 1000000;

		CHECK_OK(h_add(&p, from, msat, 120 + (uint32_t)i, &ids[i], hs[i]));
	}
	CHECK_OK(al_chan_commit(p.a.ch));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	CHECK(h_count_events(&p.b, AL_CHAN_EV_HTLC_RECEIVED) == 1 + 3);
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_RECEIVED) == 1 + 3);
	check_both(&p, 1 + 4); /* two of the six are dust */
	for (i = 0; i < 6; i++) {
		hnode *to = i % 2 ? &p.a : &p.b;
		uint8_t pre[32];

		if (i == 3) {
			CHECK_OK(al_chan_fail_malformed_htlc(to->ch, ids[i], hs[i], 0x8000 | 5));
			continue;
		}
		CHECK(h_preimage_of(&p, hs[i], pre));
		CHECK_OK(al_chan_fulfill_htlc(to->ch, ids[i], pre));
	}
	CHECK_OK(al_chan_commit(p.a.ch));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	check_both(&p, 1);
	al_chan_get_info(p.a.ch, &a1);
	CHECK(a1.htlcs_out == 0 && a1.htlcs_in == 0);
	CHECK(p.verified_txs > 20);
	h_free(&p);
}

/* Both sides add and commit before seeing the other's messages. */
static void test_simultaneous(al_ln_chan_type type, uint64_t seed)
{
	uint8_t ha[32], hb[32], pre[32];
	uint64_t ia, ib;
	hpair p;
	int round;

	h_init(&p, seed, NULL, NULL);
	CHECK(h_open(&p, type, 3000000, 1000000000, 1500));
	for (round = 0; round < 12; round++) {
		CHECK_OK(h_add(&p, &p.a, 1000000 + (uint64_t)round * 7000, 150, &ia, ha));
		CHECK_OK(h_add(&p, &p.b, 2000000 + (uint64_t)round * 3000, 160, &ib, hb));
		CHECK_OK(al_chan_commit(p.a.ch));
		CHECK_OK(al_chan_commit(p.b.ch));
		/* Interleave deliveries as the seed says. */
		h_pump(&p);
		check_both(&p, -1);
		CHECK(h_preimage_of(&p, hb, pre));
		CHECK_OK(al_chan_fulfill_htlc(p.a.ch, ib, pre));
		if (round % 3 == 0) {
			CHECK_OK(al_chan_fail_htlc(p.b.ch, ia, (const uint8_t *)"x", 1));
		} else {
			CHECK(h_preimage_of(&p, ha, pre));
			CHECK_OK(al_chan_fulfill_htlc(p.b.ch, ia, pre));
		}
		CHECK_OK(al_chan_commit(p.b.ch));
		CHECK_OK(al_chan_commit(p.a.ch));
		h_pump(&p);
		check_both(&p, 1);
	}
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_FULFILLED) == 8);
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_FAILED) == 4);
	CHECK(h_count_events(&p.b, AL_CHAN_EV_HTLC_FULFILLED) == 12);
	h_free(&p);
}

/* update_fee from the funder, as Electrum sends 45001 right after the open. */
static void test_update_fee(al_ln_chan_type type)
{
	al_chan_info a, b;
	uint8_t h[32];
	uint64_t id;
	hpair p;

	h_init(&p, 77, NULL, NULL);
	CHECK(h_open(&p, type, 1000000, 0, 45000));
	CHECK_ERR(al_chan_update_fee(p.b.ch, 46000), AL_E_CHAN_NOT_FUNDER);
	CHECK_OK(al_chan_update_fee(p.a.ch, 45001));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	al_chan_get_info(p.a.ch, &a);
	al_chan_get_info(p.b.ch, &b);
	CHECK(a.local_feerate == 45001 && a.remote_feerate == 45001);
	CHECK(b.local_feerate == 45001 && b.remote_feerate == 45001);
	check_both(&p, 1);
	/* A fee update in flight together with an HTLC. */
	CHECK_OK(h_add(&p, &p.a, 50000000, 140, &id, h));
	CHECK_OK(al_chan_update_fee(p.a.ch, 30000));
	CHECK_OK(al_chan_update_fee(p.a.ch, 20000)); /* replaces the unsigned one */
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	al_chan_get_info(p.b.ch, &b);
	CHECK(b.local_feerate == 20000 && b.remote_feerate == 20000);
	check_both(&p, 2);
	h_free(&p);
}

/* The race BOLT #2 describes: "the recipient can add new HTLCs before it receives the
 * `update_fee`". A (the funder, 100,000 sat) raises the fee to 50,000 sat/kw, which
 * it can pay on an empty commitment; B meanwhile offers seven 60,000 sat HTLCs, with
 * which it could not. Neither side fails the channel: B judges the update_fee without
 * the HTLCs A had not seen, and the commitments pay what the funder has (BOLT #3). */
static void test_fee_race(al_ln_chan_type type)
{
	uint8_t h[7][32];
	uint64_t id;
	hpair p;
	int i;

	h_init(&p, 78, NULL, NULL);
	CHECK(h_open(&p, type, 1000000, 900000000, 1200));
	for (i = 0; i < 7; i++)
		CHECK_OK(h_add(&p, &p.b, 60000000, 150, &id, h[i]));
	CHECK_OK(al_chan_update_fee(p.a.ch, 50000));
	/* A's update_fee reaches B before B's HTLCs reach A. */
	h_drain(&p, &p.a);
	h_drain(&p, &p.b);
	CHECK(p.b.n_out == 7);
	CHECK(h_deliver_one(&p, &p.a));
	CHECK(!(al_chan_state(p.b.ch) & AL_CHAN_ST_FAILED));
	/* B signs at once (the peer's update), A when told; then whatever is left. */
	CHECK_OK(al_chan_commit(p.a.ch));
	for (i = 0; i < 4; i++) {
		h_pump(&p);
		if (al_chan_commit(p.a.ch) != AL_OK && al_chan_commit(p.b.ch) != AL_OK)
			break;
	}
	h_pump(&p);
	CHECK(!(al_chan_state(p.a.ch) & AL_CHAN_ST_FAILED));
	CHECK(!(al_chan_state(p.b.ch) & AL_CHAN_ST_FAILED));
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_RECEIVED) == 7);
	check_both(&p, -1);
	h_free(&p);
}

/* After a restart the node hears again of every incoming HTLC still unresolved (at
 * least once), and of every outgoing one whose preimage the channel knows. */
static void test_replay(void)
{
	uint8_t h1[32], h2[32], pre[32];
	uint64_t i1, i2;
	hpair p;

	h_init(&p, 31, NULL, NULL);
	CHECK(h_open(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, 300000000, 2000));
	i1 = lock_in(&p, &p.a, &p.b, 20000000, h1);
	i2 = lock_in(&p, &p.a, &p.b, 10000000, h2);
	CHECK(h_preimage_of(&p, h2, pre));
	CHECK_OK(al_chan_fulfill_htlc(p.b.ch, i2, pre));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	CHECK(h_count_events(&p.b, AL_CHAN_EV_HTLC_RECEIVED) == 2);
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_FULFILLED) == 1);
	h_restart(&p, &p.b);
	h_restart(&p, &p.a);
	/* B: i1 again (i2 is resolved); A: nothing pending has a preimage left (i2 is
	 * settled and gone). */
	CHECK(h_count_events(&p.b, AL_CHAN_EV_HTLC_RECEIVED) == 3);
	CHECK(h_find_event(&p.b, AL_CHAN_EV_HTLC_RECEIVED, 0)->htlc_id == i1);
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_FULFILLED) == 1);
	h_reconnect(&p);
	settle(&p, &p.b, i1, h1, true);
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_FULFILLED) == 2);
	check_both(&p, 1);
	h_free(&p);
}

int main(void)
{
	test_open(AL_LN_CHAN_STATIC_REMOTEKEY);
	test_open(AL_LN_CHAN_ANCHORS);
	test_payments(AL_LN_CHAN_STATIC_REMOTEKEY, 11);
	test_payments(AL_LN_CHAN_ANCHORS, 12);
	test_simultaneous(AL_LN_CHAN_STATIC_REMOTEKEY, 21);
	test_simultaneous(AL_LN_CHAN_ANCHORS, 22);
	test_update_fee(AL_LN_CHAN_STATIC_REMOTEKEY);
	test_update_fee(AL_LN_CHAN_ANCHORS);
	test_fee_race(AL_LN_CHAN_STATIC_REMOTEKEY);
	test_fee_race(AL_LN_CHAN_ANCHORS);
	test_replay();
	return al_t_finish();
}
