/* BOLT #5 revoked transaction close, both channel types: B broadcasts a commitment it
 * has revoked (its HTLCs both ways, dust and not). (c) A's engine takes every
 * revocable output in one justice transaction (to_local by the revocation key, each
 * HTLC by the revocation path) and sweeps its to_remote; A's wallet gets every
 * output of the commitment but the anchors, less the fees, exactly. (d) B gets an
 * HTLC-success transaction of the revoked commitment in first (revealing a preimage):
 * A's justice leaves that output, takes the second-stage output instead (a second
 * justice transaction or a replacement of the first), and reports the preimage. B's own
 * engine classifies the broadcast as a revoked commitment of its own and warns. */
#include <string.h>

#include "onchain_world.h"
#include "test.h"

static int tx_of(const oh_chain *c, const uint8_t txid[32])
{
	return oh_find(c, txid);
}

/* The confirmed transaction of A's spending output vout of txid. */
static const oh_tx *spender(const world *w, const uint8_t txid[32], uint32_t vout)
{
	int i = oh_spender(&w->chain, txid, vout);

	return i >= 0 && w->chain.tx[i].height ? &w->chain.tx[i] : NULL;
}

/* second_stage: 0 none; 1 B's HTLC-success confirmed before A sees anything (A was
 * offline); 2 it is in the mempool when A first looks (a race A's justice may lose or,
 * against a zero-fee anchor HTLC transaction, win by replacement). */
static void revoked(al_ln_chan_type type, int second_stage, bool restart, uint64_t seed)
{
	world *w = ow_open(type, seed);
	const al_onchain_fx *e;
	al_chan_info bi;
	oh_commit old;
	uint64_t total = 0, a_exp, stage_fee = 0;
	const oh_tx *j;
	size_t untrimmed, i, k = 0;
	int idx;

	/* B's commitment now: every HTLC in it. */
	al_chan_get_info(w->p.b.ch, &bi);
	untrimmed = ow_untrimmed(w, false, bi.local_feerate);
	CHECK(untrimmed == 4);
	oh_capture(&w->p, &w->p.b, &old);
	CHECK(old.n_htlc == 4);
	total = ow_main_output(w, false, true, bi.local_to_local.msat, bi.local_to_remote.msat,
	                       bi.local_feerate, untrimmed) +
	        ow_main_output(w, false, false, bi.local_to_local.msat, bi.local_to_remote.msat,
	                       bi.local_feerate, untrimmed);
	for (i = 0; i < old.n_htlc; i++)
		total += old.htlc_amount[i].sat;
	/* The channel moves on: A's 400 sat HTLC fails, B's commitment is revoked. */
	CHECK_OK(al_chan_fail_htlc(w->p.b.ch, 2, (const uint8_t *)"x", 1));
	CHECK_OK(al_chan_commit(w->p.b.ch));
	h_pump(&w->p);
	h_disconnect(&w->p);
	ow_engine(w, true, NULL);
	ow_engine(w, false, NULL);
	w->na.restart_each_step = w->nb.restart_each_step = restart;
	/* B cheats. */
	idx = oh_submit(&w->chain, old.raw, old.len);
	CHECK(idx >= 0);
	if (second_stage)
		w->chain.min_feerate = 0; /* zero-fee HTLC transactions of anchor channels too */
	oh_mine(&w->chain, 1);
	if (second_stage) {
		/* Before A acts: B's HTLC-success for A's 20,000 sat HTLC (its preimage). */
		for (k = 0; k < old.n_htlc; k++)
			if (old.htlc_success[k] && old.htlc_amount[k].sat == 20000)
				break;
		CHECK(k < old.n_htlc);
		CHECK(oh_submit(&w->chain, old.htlc_raw[k], old.htlc_len[k]) >= 0);
		if (second_stage == 1)
			oh_mine(&w->chain, 1);
	}
	oh_sync(&w->na, &w->chain);
	oh_sync(&w->nb, &w->chain);
	CHECK(ow_until_done(w, 200));
	/* In the race, A's first justice may conflict with B's transaction. */
	CHECK(w->na.bcast_rejected == 0 || second_stage == 2);
	CHECK(oh_event(&w->na, AL_ONCHAIN_EV_SPEND, 0) &&
	      oh_event(&w->na, AL_ONCHAIN_EV_SPEND, 0)->spend == AL_ONCHAIN_SPEND_REVOKED);
	e = oh_event(&w->nb, AL_ONCHAIN_EV_SPEND, 0);
	CHECK(e && e->spend == AL_ONCHAIN_SPEND_HOLDER_REVOKED);
	CHECK(oh_count(&w->nb, AL_ONCHAIN_EV_WARNING) == 1);
	/* B's engine claims nothing. */
	CHECK(w->nb.broadcasts == 0);
	if (second_stage) {
		int s = tx_of(&w->chain, old.txid);
		const oh_tx *st;

		CHECK(s >= 0);
		st = spender(w, old.txid, old.htlc_vout[k]);
		CHECK(st != NULL);
		if (st && memcmp(st->raw, old.htlc_raw[k], old.htlc_len[k]) != 0) {
			/* A's justice replaced B's zero-fee transaction. */
			CHECK(second_stage == 2 && type == AL_LN_CHAN_ANCHORS);
			st = NULL;
		}
		if (st) {
			stage_fee = st->fee.sat;
			/* Its output went to A by revocation. */
			j = spender(w, st->txid, 0);
			CHECK(j && j->tx.n_out == 1 && j->tx.out[0].script.len == 22 &&
			      memcmp(j->tx.out[0].script.p, w->na.wspk, 22) == 0);
		}
		CHECK(oh_has_event(&w->na, AL_ONCHAIN_EV_PREIMAGE, w->h[0].hash));
	} else {
		/* One justice transaction took the to_local and every HTLC output. */
		j = NULL;
		for (i = 0; i < old.n_htlc; i++) {
			const oh_tx *t = spender(w, old.txid, old.htlc_vout[i]);

			CHECK(t && (!j || t == j));
			j = t;
		}
		CHECK(j && j->tx.n_in == 5 && j->tx.n_out == 1);
		/* Every HTLC A offered (not fulfilled) fails for good. */
		CHECK(oh_has_event(&w->na, AL_ONCHAIN_EV_HTLC_FAILED, w->h[0].hash));
		CHECK(oh_has_event(&w->na, AL_ONCHAIN_EV_HTLC_FAILED, w->h[1].hash));
	}
	a_exp = total - stage_fee;
	CHECK(ow_net(w, &w->na) == (int64_t)a_exp);
	CHECK(ow_claimed(&w->na) == (int64_t)a_exp);
	if (ow_net(w, &w->na) != (int64_t)a_exp)
		fprintf(stderr, "A %lld want %llu\n", (long long)ow_net(w, &w->na),
		        (unsigned long long)a_exp);
	fprintf(stderr, "revoked %s%s%s: A %llu sat (B's second stage paid %llu), %zu inputs\n",
	        type == AL_LN_CHAN_ANCHORS ? "anchors" : "static_remotekey",
	        second_stage == 1 ? " + second stage"
	        : second_stage    ? " + second stage race"
	                          : "",
	        restart ? " (restarts)" : "", (unsigned long long)a_exp,
	        (unsigned long long)stage_fee, w->chain.verified);
	oh_commit_free(&old);
	ow_free(w);
}

int main(void)
{
	revoked(AL_LN_CHAN_STATIC_REMOTEKEY, 0, false, 11);
	revoked(AL_LN_CHAN_ANCHORS, 0, false, 12);
	revoked(AL_LN_CHAN_STATIC_REMOTEKEY, 1, false, 13);
	revoked(AL_LN_CHAN_ANCHORS, 1, false, 14);
	revoked(AL_LN_CHAN_STATIC_REMOTEKEY, 2, false, 16);
	revoked(AL_LN_CHAN_ANCHORS, 2, false, 17);
	revoked(AL_LN_CHAN_ANCHORS, 1, true, 15);
	revoked(AL_LN_CHAN_STATIC_REMOTEKEY, 0, true, 18);
	return al_t_finish();
}
