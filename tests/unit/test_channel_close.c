/* Closing: shutdown and closing_signed with fee_range (BOLT #2's modern negotiation,
 * what Electrum 4.3.4 sends), the legacy negotiation without it, a close started by
 * either side with HTLCs still in flight, a reconnection in the middle, and force
 * close. Every closing and commitment transaction broadcast spends the 2-of-2 funding
 * output under the script interpreter. */
#include <string.h>

#include "chan_harness.h"
#include "ln/wire.h"
#include "test.h"

static const uint8_t script_a[22] = {0x00, 0x14, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
                                     0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
                                     0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1};

/* The closing transactions of both sides: the same, and valid. */
static void check_closed(hpair *p)
{
	const hbcast *ba, *bb;
	const hevent *ea, *eb;

	CHECK(al_chan_state(p->a.ch) & AL_CHAN_ST_CLOSED);
	CHECK(al_chan_state(p->b.ch) & AL_CHAN_ST_CLOSED);
	CHECK(!(al_chan_state(p->a.ch) & AL_CHAN_ST_FAILED));
	CHECK(!(al_chan_state(p->b.ch) & AL_CHAN_ST_FAILED));
	ba = p->a.n_bc ? &p->a.bc[p->a.n_bc - 1] : NULL;
	bb = p->b.n_bc ? &p->b.bc[p->b.n_bc - 1] : NULL;
	CHECK(ba && bb && ba->kind == AL_CHAN_TX_CLOSING && bb->kind == AL_CHAN_TX_CLOSING);
	if (!ba || !bb)
		return;
	CHECK(ba->len == bb->len && memcmp(ba->p, bb->p, ba->len) == 0);
	CHECK(h_verify_funding_spend(p, &p->a, ba));
	ea = h_find_event(&p->a, AL_CHAN_EV_CLOSED, 0);
	eb = h_find_event(&p->b, AL_CHAN_EV_CLOSED, 0);
	CHECK(ea && eb);
}

static void test_close(al_ln_chan_type type, bool a_starts, bool legacy, uint64_t seed)
{
	al_chan_config cb;
	al_chan_info a;
	hpair p;

	al_chan_config_default(&cb);
	cb.max_htlcs = 12;
	/* For the legacy exchange B (not the funder) wants more than A offers. */
	if (legacy)
		cb.min_feerate = 3000;
	h_init(&p, seed, NULL, &cb);
	CHECK(h_open(&p, type, 1000000, 300000000, 3000));
	p.a.strip_fee_range = p.b.strip_fee_range = legacy;
	if (a_starts)
		CHECK_OK(al_chan_shutdown(p.a.ch, script_a, sizeof(script_a), 1000));
	else
		CHECK_OK(al_chan_shutdown(p.b.ch,
		                          (const uint8_t *)"\x00\x14"
		                                           "bbbbbbbbbbbbbbbbbbbb",
		                          22, 2000));
	h_pump(&p);
	CHECK(h_find_event(&p.a, AL_CHAN_EV_SHUTDOWN, 0) ||
	      h_find_event(&p.b, AL_CHAN_EV_SHUTDOWN, 0));
	check_closed(&p);
	/* Legacy: B proposed between the two fees, A took it: three messages. */
	if (legacy)
		CHECK(p.a.sent_by_type[AL_WIRE_CLOSING_SIGNED] == 2 &&
		      p.b.sent_by_type[AL_WIRE_CLOSING_SIGNED] == 1);
	else
		CHECK(p.a.sent_by_type[AL_WIRE_CLOSING_SIGNED] == 1 &&
		      p.b.sent_by_type[AL_WIRE_CLOSING_SIGNED] == 1);
	/* Nothing more is possible; the funding spend is reported. */
	CHECK_ERR(al_chan_shutdown(p.a.ch, script_a, sizeof(script_a), 1000), AL_E_CHAN_STATE);
	CHECK_ERR(al_chan_force_close(p.a.ch), AL_E_CHAN_STATE);
	CHECK_OK(al_chan_funding_spent(p.a.ch, p.a.bc[p.a.n_bc - 1].txid));
	h_drain(&p, &p.a);
	al_chan_get_info(p.a.ch, &a);
	CHECK(a.htlcs_in == 0);
	h_free(&p);
}

/* Shutdown while HTLCs are in flight: no new HTLCs, the old ones settle, then the
 * negotiation; a reconnection in the middle restarts it. */
static void test_close_with_htlcs(al_ln_chan_type type)
{
	uint8_t h1[32], h2[32], pre[32];
	uint64_t i1, i2, id;
	const hevent *e;
	hpair p;

	h_init(&p, 808, NULL, NULL);
	CHECK(h_open(&p, type, 1000000, 300000000, 2000));
	CHECK_OK(h_add(&p, &p.a, 20000000, 300, &i1, h1));
	CHECK_OK(h_add(&p, &p.b, 10000000, 300, &i2, h2));
	CHECK_OK(al_chan_commit(p.a.ch));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	CHECK_OK(al_chan_shutdown(p.b.ch,
	                          (const uint8_t *)"\x00\x20"
	                                           "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	                          34, 1500));
	h_pump(&p);
	CHECK(al_chan_state(p.a.ch) & AL_CHAN_ST_SHUTDOWN_RECV);
	CHECK(al_chan_state(p.a.ch) & AL_CHAN_ST_SHUTDOWN_SENT);
	CHECK_ERR(h_add(&p, &p.a, 1000000, 300, &id, h1), AL_E_CHAN_SHUTDOWN);
	CHECK_ERR(h_add(&p, &p.b, 1000000, 300, &id, h1), AL_E_CHAN_SHUTDOWN);
	CHECK(!(al_chan_state(p.a.ch) & AL_CHAN_ST_NEGOTIATING));
	CHECK(h_verify(&p, &p.a) == 3 && h_verify(&p, &p.b) == 3);
	/* Settle both; a disconnection while the negotiation starts. */
	e = h_find_event(&p.b, AL_CHAN_EV_HTLC_RECEIVED, 0);
	CHECK(e && h_preimage_of(&p, e->hash, pre));
	CHECK_OK(al_chan_fulfill_htlc(p.b.ch, e->htlc_id, pre));
	e = h_find_event(&p.a, AL_CHAN_EV_HTLC_RECEIVED, 0);
	CHECK(e);
	CHECK_OK(al_chan_fail_htlc(p.a.ch, e->htlc_id, (const uint8_t *)"no", 2));
	CHECK_OK(al_chan_commit(p.b.ch));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	CHECK(al_chan_state(p.a.ch) & AL_CHAN_ST_CLOSED);
	/* Again, with a disconnection after the first closing_signed. */
	h_free(&p);
	h_init(&p, 809, NULL, NULL);
	CHECK(h_open(&p, type, 1000000, 300000000, 2000));
	CHECK_OK(al_chan_shutdown(p.a.ch, script_a, sizeof(script_a), 1000));
	for (;;) {
		h_drain(&p, &p.a);
		h_drain(&p, &p.b);
		if (p.a.sent_by_type[AL_WIRE_CLOSING_SIGNED] ||
		    !(h_deliver_one(&p, &p.a) || h_deliver_one(&p, &p.b)))
			break;
	}
	CHECK(p.a.sent_by_type[AL_WIRE_CLOSING_SIGNED] == 1);
	h_disconnect(&p);
	h_reconnect(&p);
	check_closed(&p);
	CHECK(p.a.sent_by_type[AL_WIRE_CLOSING_SIGNED] == 2);
	h_free(&p);
}

/* The last closing_signed is lost: the side that missed it completes after the
 * reconnection (BOLT #2: "`closing_signed` also has no acknowledgment so must be
 * retransmitted upon reconnection"), whichever side is the funder. */
static void test_lost_final(bool lose_from_a)
{
	hnode *from;
	hpair p;

	h_init(&p, 950 + (uint64_t)lose_from_a, NULL, NULL);
	CHECK(h_open(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, 300000000, 2000));
	CHECK_OK(al_chan_shutdown(p.a.ch, script_a, sizeof(script_a), 1000));
	/* Run until one side is done, then drop what it sent last. */
	for (;;) {
		h_drain(&p, &p.a);
		h_drain(&p, &p.b);
		if ((al_chan_state(p.a.ch) | al_chan_state(p.b.ch)) & AL_CHAN_ST_CLOSED)
			break;
		if (!(h_deliver_one(&p, &p.a) || h_deliver_one(&p, &p.b)))
			break;
	}
	from = (al_chan_state(p.a.ch) & AL_CHAN_ST_CLOSED) ? &p.a : &p.b;
	CHECK(from == (lose_from_a ? &p.a : &p.b) || from->n_out > 0);
	h_disconnect(&p); /* its closing_signed, in flight, is lost */
	CHECK(!(al_chan_state((from == &p.a ? &p.b : &p.a)->ch) & AL_CHAN_ST_CLOSED));
	h_reconnect(&p);
	check_closed(&p);
	h_free(&p);
}

/* Force close on request: our latest commitment is broadcast and spends the funding
 * output; the peer hears an error, fails and broadcasts its own. */
static void test_force_close(al_ln_chan_type type)
{
	uint8_t h[32];
	uint64_t id;
	hpair p;

	h_init(&p, 909, NULL, NULL);
	CHECK(h_open(&p, type, 1000000, 300000000, 2000));
	CHECK_OK(h_add(&p, &p.a, 20000000, 300, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	CHECK(h_verify(&p, &p.a) == 2);
	CHECK_OK(al_chan_force_close(p.a.ch));
	h_pump(&p);
	CHECK(al_chan_state(p.a.ch) & AL_CHAN_ST_FORCE_CLOSED);
	CHECK(al_chan_error(p.a.ch) == AL_E_CHAN_FORCE_CLOSE);
	CHECK(p.a.n_bc == 2 && p.a.bc[1].kind == AL_CHAN_TX_COMMITMENT);
	CHECK(h_verify_funding_spend(&p, &p.a, &p.a.bc[1]));
	CHECK(p.a.sent_by_type[AL_WIRE_ERROR] == 1);
	CHECK(al_chan_error(p.b.ch) == AL_E_CHAN_PEER_ERROR);
	CHECK(p.b.n_bc == 1 && p.b.bc[0].kind == AL_CHAN_TX_COMMITMENT);
	CHECK(h_verify_funding_spend(&p, &p.b, &p.b.bc[0]));
	CHECK_ERR(al_chan_force_close(p.a.ch), AL_E_CHAN_STATE);
	CHECK_ERR(h_add(&p, &p.a, 1000000, 300, &id, h), AL_E_CHAN_FAILED);
	/* After a restart the commitment is broadcast again. */
	h_restart(&p, &p.a);
	CHECK(p.a.n_bc == 3 && p.a.bc[2].kind == AL_CHAN_TX_COMMITMENT);
	CHECK(p.a.bc[2].len == p.a.bc[1].len &&
	      memcmp(p.a.bc[2].p, p.a.bc[1].p, p.a.bc[1].len) == 0);
	h_free(&p);
}

/* Block height is the clock: an outgoing HTLC past its expiry (plus the grace) goes
 * on-chain; so does an incoming one we hold the preimage of, before its expiry. */
static void test_htlc_timeouts(void)
{
	uint8_t h[32], pre[32];
	const hevent *e;
	uint64_t id;
	hpair p;

	h_init(&p, 970, NULL, NULL);
	CHECK(h_open(&p, AL_LN_CHAN_ANCHORS, 1000000, 300000000, 2000));
	CHECK_OK(h_add(&p, &p.a, 20000000, 300, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	CHECK_OK(al_chan_block_height(p.a.ch, 302));
	CHECK(!(al_chan_state(p.a.ch) & AL_CHAN_ST_FAILED));
	CHECK_OK(al_chan_block_height(p.a.ch, 303));
	h_drain(&p, &p.a);
	CHECK(al_chan_error(p.a.ch) == AL_E_CHAN_HTLC_TIMEOUT);
	CHECK(p.a.n_bc == 2 && h_verify_funding_spend(&p, &p.a, &p.a.bc[1]));
	h_free(&p);

	/* B fulfils; A never answers (gone); B goes on-chain before the expiry. */
	h_init(&p, 971, NULL, NULL);
	CHECK(h_open(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, 300000000, 2000));
	CHECK_OK(h_add(&p, &p.a, 20000000, 400, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	e = h_find_event(&p.b, AL_CHAN_EV_HTLC_RECEIVED, 0);
	CHECK(e && h_preimage_of(&p, e->hash, pre));
	h_disconnect(&p);
	CHECK_OK(al_chan_fulfill_htlc(p.b.ch, id, pre));
	CHECK_OK(al_chan_block_height(p.b.ch, 396));
	CHECK(!(al_chan_state(p.b.ch) & AL_CHAN_ST_FAILED));
	CHECK_OK(al_chan_block_height(p.b.ch, 397));
	h_drain(&p, &p.b);
	CHECK(al_chan_error(p.b.ch) == AL_E_CHAN_HTLC_TIMEOUT);
	CHECK(p.b.n_bc == 1 && h_verify_funding_spend(&p, &p.b, &p.b.bc[0]));
	h_free(&p);
}

int main(void)
{
	int t;

	for (t = 0; t < 2; t++) {
		al_ln_chan_type type = t ? AL_LN_CHAN_ANCHORS : AL_LN_CHAN_STATIC_REMOTEKEY;

		test_close(type, true, false, 10 + (uint64_t)t);
		test_close(type, false, false, 20 + (uint64_t)t);
		test_close(type, true, true, 30 + (uint64_t)t);
		test_close_with_htlcs(type);
		test_lost_final(t == 0);
		test_force_close(type);
	}
	test_htlc_timeouts();
	return al_t_finish();
}
