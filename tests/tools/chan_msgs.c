/* Every BOLT #2 message two channel engines send in a whole channel's life (the
 * opening and funding, a fee update of 45001 sat/kw, payments both ways, a
 * reconnection, the cooperative close), as JSON lines for
 * tests/py/test_channel_electrum.py:
 *   {"flow": N, "funder": "A", "from": "A", "hex": "..."}
 * after one header per flow: {"flow": N, "funding": sat, "push": msat, "feerate": kw}.
 * Usage: chan_msgs */
#include <stdio.h>
#include <string.h>

#include "chan_harness.h"
#include "test.h"

static int flow_id;

static void print_msg(void *arg, const hnode *from, const uint8_t *msg, size_t len)
{
	size_t i;

	(void)arg;
	printf("{\"flow\": %d, \"funder\": \"A\", \"from\": \"%s\", \"hex\": \"", flow_id,
	       from->name);
	for (i = 0; i < len; i++)
		printf("%02x", msg[i]);
	printf("\"}\n");
}

static void flow(int id, uint64_t push)
{
	uint8_t h[32], pre[32];
	const hevent *e;
	uint64_t hid;
	hpair p;

	flow_id = id;
	h_init(&p, 500 + (uint64_t)id, NULL, NULL);
	p.on_send = print_msg;
	printf("{\"flow\": %d, \"funding\": %d, \"push\": %llu, \"feerate\": %d}\n", id, 1000000,
	       (unsigned long long)push, 45000);
	if (!h_open(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, push, 45000))
		return;
	/* Electrum's habit as funder, here ours: update_fee 45001 right after. */
	CHECK_OK(al_chan_update_fee(p.a.ch, 45001));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	CHECK_OK(h_add(&p, &p.a, 50000000, 300, &hid, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	e = h_find_event(&p.b, AL_CHAN_EV_HTLC_RECEIVED, 0);
	CHECK(e && h_preimage_of(&p, e->hash, pre));
	if (e) {
		CHECK_OK(al_chan_fulfill_htlc(p.b.ch, e->htlc_id, pre));
		CHECK_OK(al_chan_commit(p.b.ch));
	}
	h_pump(&p);
	CHECK_OK(h_add(&p, &p.b, 20000000, 300, &hid, h));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	e = h_find_event(&p.a, AL_CHAN_EV_HTLC_RECEIVED, 0);
	CHECK(e != NULL);
	if (e) {
		CHECK_OK(al_chan_fail_htlc(p.a.ch, e->htlc_id, (const uint8_t *)"x", 1));
		CHECK_OK(al_chan_commit(p.a.ch));
	}
	h_pump(&p);
	h_disconnect(&p);
	h_reconnect(&p);
	CHECK_OK(al_chan_shutdown(p.b.ch,
	                          (const uint8_t *)"\x00\x14"
	                                           "bbbbbbbbbbbbbbbbbbbb",
	                          22, 2000));
	h_pump(&p);
	CHECK(al_chan_state(p.a.ch) & AL_CHAN_ST_CLOSED);
	h_free(&p);
}

int main(void)
{
	flow(0, 0);
	flow(1, 400000000);
	return al_t_failures ? 1 : 0;
}
