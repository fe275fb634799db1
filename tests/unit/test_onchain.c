/* BOLT #5 unilateral closes, both channel types, with one on-chain engine per node on
 * one chain: (a) A's commitment confirmed: A sweeps to_local after B's to_self_delay,
 * times out its HTLC and claims B's with the preimage through second-stage
 * transactions, then their outputs after the delay; B sweeps its to_remote, claims A's
 * HTLC directly with the preimage and times out its own directly. (b) the same with B's
 * commitment. Each node's wallet gets exactly its balance in the commitment less the
 * fees its own transactions paid, measured on the chain (every transaction of which
 * passed the script interpreter); the engines' own accounting says the same; every
 * HTLC ends fulfilled (preimage event) or failed, trimmed ones failed too. With
 * `restart`, both engines are reloaded from their last record after every step. */
#include <string.h>

#include "onchain_world.h"
#include "test.h"

static void check_spend(const oh_node *n, al_onchain_spend_kind k)
{
	const al_onchain_fx *e = oh_event(n, AL_ONCHAIN_EV_SPEND, 0);

	CHECK(e && e->spend == k);
	if (e && e->spend != k)
		fprintf(stderr, "spend %d, want %d\n", e->spend, k);
}

/* (a) and (b): `a_closes` says whose commitment goes on-chain. */
static void unilateral(al_ln_chan_type type, bool a_closes, bool restart, uint64_t seed)
{
	world *w = ow_open(type, seed);
	hnode *closer = a_closes ? &w->p.a : &w->p.b;
	al_chan_info ci;
	uint64_t a_exp, b_exp, main_closer, main_other;
	size_t untrimmed;

	/* The closer's commitment, as it is now. */
	al_chan_get_info(closer->ch, &ci);
	untrimmed = ow_untrimmed(w, a_closes, ci.local_feerate);
	CHECK(untrimmed == 4);
	main_closer = ow_main_output(w, a_closes, true, ci.local_to_local.msat,
	                             ci.local_to_remote.msat, ci.local_feerate, untrimmed);
	main_other = ow_main_output(w, a_closes, false, ci.local_to_local.msat,
	                            ci.local_to_remote.msat, ci.local_feerate, untrimmed);
	/* Disconnected first: the other side does not hear the error (and does not go
	 * on-chain with its own commitment). */
	h_disconnect(&w->p);
	CHECK_OK(al_chan_force_close(closer->ch));
	h_pump(&w->p);
	/* A learns the preimage of B's 18,000 sat HTLC, B that of A's 20,000. */
	ow_both_engines(w);
	w->na.restart_each_step = w->nb.restart_each_step = restart;
	CHECK(ow_until_done(w, 400));
	CHECK(w->na.bcast_rejected == 0 && w->nb.bcast_rejected == 0);
	/* Every HTLC: A's 20,000 to B by preimage, 15,000 back to A after expiry; B's 18,000
	 * to A by preimage, 12,000 back to B. Dust ones went to fees. */
	a_exp = (a_closes ? main_closer : main_other) + 15000 + 18000;
	b_exp = (a_closes ? main_other : main_closer) + 20000 + 12000;
	CHECK(ow_net(w, &w->na) == (int64_t)a_exp);
	CHECK(ow_net(w, &w->nb) == (int64_t)b_exp);
	CHECK(ow_claimed(&w->na) == (int64_t)a_exp);
	CHECK(ow_claimed(&w->nb) == (int64_t)b_exp);
	if (ow_net(w, &w->na) != (int64_t)a_exp || ow_net(w, &w->nb) != (int64_t)b_exp)
		fprintf(stderr, "A %lld/%llu B %lld/%llu\n", (long long)ow_net(w, &w->na),
		        (unsigned long long)a_exp, (long long)ow_net(w, &w->nb),
		        (unsigned long long)b_exp);
	check_spend(&w->na, a_closes ? AL_ONCHAIN_SPEND_HOLDER : AL_ONCHAIN_SPEND_COUNTERPARTY);
	check_spend(&w->nb, a_closes ? AL_ONCHAIN_SPEND_COUNTERPARTY : AL_ONCHAIN_SPEND_HOLDER);
	/* HTLC outcomes, for the node to settle upstream. */
	CHECK(oh_has_event(&w->na, AL_ONCHAIN_EV_PREIMAGE, w->h[0].hash));
	CHECK(oh_has_event(&w->na, AL_ONCHAIN_EV_HTLC_FAILED, w->h[1].hash));
	CHECK(oh_has_event(&w->na, AL_ONCHAIN_EV_HTLC_FAILED, w->h[2].hash));
	CHECK(!oh_has_event(&w->na, AL_ONCHAIN_EV_HTLC_FAILED, w->h[0].hash));
	CHECK(oh_has_event(&w->nb, AL_ONCHAIN_EV_PREIMAGE, w->h[3].hash));
	CHECK(oh_has_event(&w->nb, AL_ONCHAIN_EV_HTLC_FAILED, w->h[4].hash));
	CHECK(oh_has_event(&w->nb, AL_ONCHAIN_EV_HTLC_FAILED, w->h[5].hash));
	CHECK(oh_has_event(&w->na, AL_ONCHAIN_EV_DONE, NULL) &&
	      oh_has_event(&w->nb, AL_ONCHAIN_EV_DONE, NULL));
	CHECK(!oh_has_event(&w->na, AL_ONCHAIN_EV_FAILED, NULL) &&
	      !oh_has_event(&w->nb, AL_ONCHAIN_EV_FAILED, NULL));
	CHECK(!restart || (w->na.restarts > 10 && w->nb.restarts > 10));
	fprintf(stderr, "unilateral %s %s%s: A %llu B %llu sat, %zu inputs verified\n",
	        type == AL_LN_CHAN_ANCHORS ? "anchors" : "static_remotekey",
	        a_closes ? "A's commitment" : "B's commitment", restart ? " (restarts)" : "",
	        (unsigned long long)a_exp, (unsigned long long)b_exp, w->chain.verified);
	ow_free(w);
}

int main(void)
{
	unilateral(AL_LN_CHAN_STATIC_REMOTEKEY, true, false, 1);
	unilateral(AL_LN_CHAN_ANCHORS, true, false, 2);
	unilateral(AL_LN_CHAN_STATIC_REMOTEKEY, false, false, 3);
	unilateral(AL_LN_CHAN_ANCHORS, false, false, 4);
	unilateral(AL_LN_CHAN_STATIC_REMOTEKEY, true, true, 5);
	unilateral(AL_LN_CHAN_ANCHORS, false, true, 6);
	return al_t_finish();
}
