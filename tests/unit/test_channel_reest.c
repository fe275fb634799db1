/* channel_reestablish: a disconnection after every message of an update cycle, a
 * crash (memory dropped, reloaded from the last durable record) of either side at
 * every point with persists in flight or held, the retransmissions each needs; data
 * loss protection (a node restored from an old record never broadcasts it); and
 * persist completions arriving late and out of order across channels. After each
 * recovery both sides must agree, every transaction must verify under the script
 * interpreter, and the money must add up to what was paid. */
#include <string.h>

#include "chan_harness.h"
#include "test.h"

#define FUND   2000000
#define PUSH   600000000
#define A_PAYS 5000000
#define B_PAYS 3000000

/* One message from one side or the other (seeded), persists ticking. */
static bool step(hpair *p)
{
	hnode *first = h_rand(p) & 1 ? &p->a : &p->b;
	hnode *second = first == &p->a ? &p->b : &p->a;
	bool moved;

	h_drain(p, &p->a);
	h_drain(p, &p->b);
	moved = h_deliver_one(p, first) || h_deliver_one(p, second);
	if (!moved && (p->a.pending || p->b.pending)) {
		if (!p->a.persist_stuck)
			h_complete(&p->a);
		if (!p->b.persist_stuck)
			h_complete(&p->b);
		moved = p->a.pending || p->b.pending ? false : true;
	}
	h_drain(p, &p->a);
	h_drain(p, &p->b);
	return moved;
}

/* The cycle cut into. Scenario 0: both offer an HTLC and commit, a full cycle in both
 * directions at once. Scenario 1: with those two locked in beforehand (prepare), B
 * fulfils A's, A fails B's and raises the fee, and both commit: removals and
 * update_fee in flight. */
struct cycle {
	uint8_t ha[32], hb[32];
	uint64_t ia, ib;
};

static void offer_both(hpair *p, struct cycle *c)
{
	CHECK_OK(h_add(p, &p->a, A_PAYS, 200, &c->ia, c->ha));
	CHECK_OK(h_add(p, &p->b, B_PAYS, 210, &c->ib, c->hb));
	CHECK_OK(al_chan_commit(p->a.ch));
	CHECK_OK(al_chan_commit(p->b.ch));
}

static void prepare(hpair *p, int scen, struct cycle *c)
{
	if (scen == 1) {
		offer_both(p, c);
		h_pump(p);
	}
}

static void start(hpair *p, int scen, struct cycle *c)
{
	uint8_t pre[32];

	if (scen == 0) {
		offer_both(p, c);
		return;
	}
	CHECK(h_preimage_of(p, c->ha, pre));
	CHECK_OK(al_chan_fulfill_htlc(p->b.ch, c->ia, pre));
	CHECK_OK(al_chan_fail_htlc(p->a.ch, c->ib, (const uint8_t *)"later", 5));
	CHECK_OK(al_chan_update_fee(p->a.ch, 1800));
	CHECK_OK(al_chan_commit(p->a.ch));
	CHECK_OK(al_chan_commit(p->b.ch));
}

/* Sign whatever is pending until nothing moves. */
static void finish(hpair *p)
{
	int i;

	for (i = 0; i < 6; i++) {
		h_pump(p);
		if (al_chan_commit(p->a.ch) == AL_OK || al_chan_commit(p->b.ch) == AL_OK)
			continue;
		h_pump(p);
	}
}

/* Resolve every irrevocable incoming HTLC still open (fulfil), then check the books:
 * each side's balance moved by exactly the HTLCs it saw fulfilled. */
static void resolve_and_check(hpair *p, uint64_t a0)
{
	al_chan_info a, b;
	uint8_t pre[32];
	size_t i, k;
	uint64_t paid_ab = 0, paid_ba = 0;
	hnode *nodes[2] = {&p->a, &p->b};
	al_err e2;

	CHECK(!(al_chan_state(p->a.ch) & AL_CHAN_ST_FAILED));
	CHECK(!(al_chan_state(p->b.ch) & AL_CHAN_ST_FAILED));
	CHECK(h_verify(p, &p->a) > 0 && h_verify(p, &p->b) > 0);
	h_check_balances(p);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < nodes[k]->n_ev; i++) {
			const hevent *e = &nodes[k]->ev[i];

			if (e->kind != AL_CHAN_EV_HTLC_RECEIVED)
				continue;
			if (!h_preimage_of(p, e->hash, pre))
				continue;
			/* Events come at least once: a second fulfil is refused. */
			e2 = al_chan_fulfill_htlc(nodes[k]->ch, e->htlc_id, pre);
			CHECK(e2 == AL_OK || e2 == AL_E_CHAN_HTLC_STATE ||
			      e2 == AL_E_CHAN_UNKNOWN_HTLC);
		}
	}
	finish(p);
	al_chan_get_info(p->a.ch, &a);
	al_chan_get_info(p->b.ch, &b);
	CHECK(a.htlcs_in == 0 && a.htlcs_out == 0 && b.htlcs_in == 0 && b.htlcs_out == 0);
	/* What was paid: the payer heard its HTLC fulfilled (one HTLC each way). */
	if (h_find_event(&p->a, AL_CHAN_EV_HTLC_FULFILLED, 0))
		paid_ab = A_PAYS;
	if (h_find_event(&p->b, AL_CHAN_EV_HTLC_FULFILLED, 0))
		paid_ba = B_PAYS;
	CHECK(paid_ab || h_find_event(&p->a, AL_CHAN_EV_HTLC_FAILED, 0) ||
	      !h_find_event(&p->b, AL_CHAN_EV_HTLC_RECEIVED, 0));
	CHECK(a.local_to_local.msat == a0 - paid_ab + paid_ba);
	CHECK(b.local_to_local.msat == (uint64_t)FUND * 1000 - a0 + paid_ab - paid_ba);
	h_check_balances(p);
	CHECK(h_verify(p, &p->a) == 1 && h_verify(p, &p->b) == 1);
	/* Nothing went on-chain. */
	CHECK(p->a.n_bc == 1 && p->b.n_bc == 0);
}

static uint64_t open_pair(hpair *p, uint64_t seed, al_ln_chan_type type)
{
	al_chan_info a;

	h_init(p, seed, NULL, NULL);
	CHECK(h_open(p, type, FUND, PUSH, 1200));
	al_chan_get_info(p->a.ch, &a);
	return a.local_to_local.msat;
}

/* Neither side's latest commitment (what it would broadcast) is one the other holds a
 * revocation secret for. */
static void check_unrevoked(hpair *p)
{
	al_signer_status sa, sb;
	al_chan_info a, b;

	al_chan_get_info(p->a.ch, &a);
	al_chan_get_info(p->b.ch, &b);
	al_signer_get_status(p->a.signer, &sa);
	al_signer_get_status(p->b.signer, &sb);
	CHECK(a.local_number >= sb.counterparty_revoked);
	CHECK(b.local_number >= sa.counterparty_revoked);
}

/* A disconnection after `cut` messages of the cycle. */
static void disconnect_at(al_ln_chan_type type, int scen, int cut, uint64_t seed)
{
	struct cycle c;
	uint64_t a0;
	hpair p;
	int i;

	a0 = open_pair(&p, seed, type);
	prepare(&p, scen, &c);
	start(&p, scen, &c);
	for (i = 0; i < cut && step(&p); i++)
		;
	h_disconnect(&p);
	h_reconnect(&p);
	finish(&p);
	resolve_and_check(&p, a0);
	h_free(&p);
}

/* A crash of `who` after `cut` messages; its persists complete late (delay) or are
 * still in flight when it dies (stuck). */
static void crash_at(al_ln_chan_type type, int scen, int cut, bool crash_a, unsigned delay,
                     bool stuck, uint64_t seed)
{
	struct cycle c;
	hnode *victim;
	uint64_t a0;
	hpair p;
	int i;

	a0 = open_pair(&p, seed, type);
	victim = crash_a ? &p.a : &p.b;
	prepare(&p, scen, &c);
	victim->persist_delay = delay;
	victim->persist_stuck = stuck;
	start(&p, scen, &c);
	for (i = 0; i < cut && step(&p); i++)
		;
	victim->persist_stuck = false;
	victim->persist_delay = 0;
	h_restart(&p, victim);
	/* What the crashed side would broadcast now is not revoked. */
	check_unrevoked(&p);
	h_reconnect(&p);
	check_unrevoked(&p);
	finish(&p);
	check_unrevoked(&p);
	resolve_and_check(&p, a0);
	h_free(&p);
}

/* B's record as it was, kept aside for the operator to roll B's storage back to. */
struct old_disk {
	uint8_t b[1 << 18];
	size_t len;
};

static void keep_b(const hpair *p, struct old_disk *o)
{
	CHECK(p->b.disk_len < sizeof(o->b));
	memcpy(o->b, p->b.disk, p->b.disk_len);
	o->len = p->b.disk_len;
}

/* The operator rolls B's storage back; B restarts from it and reconnects. */
static void roll_back_b(hpair *p, const struct old_disk *o)
{
	memcpy(p->b.disk, o->b, o->len);
	p->b.disk_len = o->len;
	h_restart(p, &p->b);
	h_reconnect(p);
}

/* n full update cycles. */
static void cycles(hpair *p, int n)
{
	struct cycle c;

	for (int i = 0; i < n; i++) {
		start(p, 0, &c);
		h_pump(p);
		finish(p);
	}
}

/* B comes back from an old record: A proves it, B never broadcasts its commitment and
 * asks A to close; A's latest commitment spends the funding output. */
static void test_data_loss(al_ln_chan_type type)
{
	static struct old_disk old;
	hpair p;

	open_pair(&p, 99, type);
	keep_b(&p, &old);
	cycles(&p, 3);
	roll_back_b(&p, &old);
	CHECK(al_chan_state(p.b.ch) & AL_CHAN_ST_DATA_LOSS);
	CHECK(al_chan_error(p.b.ch) == AL_E_CHAN_DATA_LOSS);
	CHECK(h_find_event(&p.b, AL_CHAN_EV_FAILED, 0) != NULL);
	/* B broadcast nothing: its commitment is revoked. */
	CHECK(p.b.n_bc == 0);
	CHECK_ERR(al_chan_force_close(p.b.ch), AL_E_CHAN_DATA_LOSS);
	/* A was asked to fail the channel: it broadcasts its own latest commitment. */
	CHECK(al_chan_state(p.a.ch) & AL_CHAN_ST_FAILED);
	/* A failed on B's numbers or on B's error: either way it goes on-chain. */
	CHECK(al_chan_error(p.a.ch) == AL_E_CHAN_PEER_ERROR ||
	      al_chan_error(p.a.ch) == AL_E_CHAN_REESTABLISH);
	CHECK(p.a.n_bc == 2 && p.a.bc[1].kind == AL_CHAN_TX_COMMITMENT);
	CHECK(h_verify_funding_spend(&p, &p.a, &p.a.bc[1]));
	h_free(&p);
}

/* The same loss found after A already failed the channel: on the reconnection A sends
 * its channel_reestablish before the error, so B learns it is behind before the error
 * would make it broadcast; B's revoked commitment never goes out. */
static void test_data_loss_after_close(al_ln_chan_type type)
{
	static struct old_disk old;
	hpair p;

	open_pair(&p, 98, type);
	keep_b(&p, &old);
	cycles(&p, 1);
	CHECK_OK(al_chan_force_close(p.a.ch));
	h_pump(&p);
	CHECK(p.a.n_bc == 2 && p.a.bc[1].kind == AL_CHAN_TX_COMMITMENT);
	/* B failed on A's error and broadcast its latest commitment. */
	CHECK(al_chan_error(p.b.ch) == AL_E_CHAN_PEER_ERROR);
	CHECK(p.b.n_bc == 1);
	/* B's storage rolled back to the open, B restarted: it sees A's numbers first
	 * and broadcasts nothing more (its commitment 0 is revoked). */
	roll_back_b(&p, &old);
	CHECK(al_chan_error(p.b.ch) == AL_E_CHAN_DATA_LOSS);
	CHECK(p.b.n_bc == 1);
	/* A still holds its one commitment broadcast. */
	CHECK(p.a.n_bc == 2);
	h_free(&p);
}

/* B comes back from an old record while A's channel_reestablish waits behind a persist
 * of A's: A fails on B's numbers first. Its reestablish must still reach B before its
 * error (it is what tells B it is behind); else B fails on the error and broadcasts a
 * commitment A holds the revocation of. Found by fuzz_channel. */
static void test_data_loss_reestablish_held(al_ln_chan_type type)
{
	static struct old_disk old;
	uint8_t h[32];
	uint64_t id;
	hpair p;

	open_pair(&p, 97, type);
	keep_b(&p, &old);
	cycles(&p, 2);
	/* A signs a new commitment; the persist before it never completes for now. */
	p.a.persist_stuck = true;
	CHECK_OK(h_add(&p, &p.a, 1000000, 200, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_drain(&p, &p.a);
	CHECK(p.a.pending);
	roll_back_b(&p, &old);
	/* A saw B's numbers and failed; nothing of A's has left yet. */
	CHECK(al_chan_error(p.a.ch) == AL_E_CHAN_REESTABLISH);
	CHECK(!(al_chan_state(p.b.ch) & AL_CHAN_ST_FAILED));
	p.a.persist_stuck = false;
	h_complete(&p.a);
	h_pump(&p);
	CHECK(al_chan_error(p.b.ch) == AL_E_CHAN_DATA_LOSS);
	CHECK(p.b.n_bc == 0);
	CHECK(p.a.n_bc == 2 && p.a.bc[1].kind == AL_CHAN_TX_COMMITMENT);
	h_free(&p);
}

/* Two channels, each with its persists held for a while and completed in an order
 * the seed picks: nothing protected ever leaves early (the harness checks every SEND
 * against the durable record), and both channels finish. */
static void test_late_persists(void)
{
	uint8_t h[4][32];
	hpair p[2];
	uint64_t a0[2], id;
	int round, k;

	for (k = 0; k < 2; k++) {
		a0[k] = open_pair(&p[k], 300 + (uint64_t)k,
		                  k ? AL_LN_CHAN_ANCHORS : AL_LN_CHAN_STATIC_REMOTEKEY);
		p[k].a.persist_delay = 3 + (unsigned)k;
		p[k].b.persist_delay = 5 - (unsigned)k;
		CHECK_OK(h_add(&p[k], &p[k].a, A_PAYS, 200, &id, h[2 * k]));
		CHECK_OK(h_add(&p[k], &p[k].b, B_PAYS, 200, &id, h[2 * k + 1]));
		CHECK_OK(al_chan_commit(p[k].a.ch));
		CHECK_OK(al_chan_commit(p[k].b.ch));
	}
	/* Interleave the two channels step by step; completions come late. */
	for (round = 0; round < 400; round++) {
		k = (int)(h_rand(&p[0]) & 1);
		(void)step(&p[k]);
		if (h_rand(&p[1]) % 3 == 0)
			h_complete(h_rand(&p[1]) & 1 ? &p[1 - k].a : &p[1 - k].b);
	}
	for (k = 0; k < 2; k++) {
		p[k].a.persist_delay = p[k].b.persist_delay = 0;
		finish(&p[k]);
		CHECK(p[k].a.protected_checked + p[k].b.protected_checked >= 6);
		resolve_and_check(&p[k], a0[k]);
		h_free(&p[k]);
	}
}

int main(void)
{
	int cut, t, scen;

	for (t = 0; t < 2; t++) {
		al_ln_chan_type type = t ? AL_LN_CHAN_ANCHORS : AL_LN_CHAN_STATIC_REMOTEKEY;

		for (scen = 0; scen < 2; scen++)
			for (cut = 0; cut <= 14; cut++) {
				uint64_t s = (uint64_t)(100 * scen + cut);

				disconnect_at(type, scen, cut, 1000 + s);
				crash_at(type, scen, cut, true, 0, false, 2000 + s);
				crash_at(type, scen, cut, false, 0, false, 3000 + s);
				crash_at(type, scen, cut, true, 2, false, 4000 + s);
				crash_at(type, scen, cut, false, 0, true, 5000 + s);
			}
		test_data_loss(type);
		test_data_loss_after_close(type);
		test_data_loss_reestablish_held(type);
	}
	test_late_persists();
	return al_t_finish();
}
