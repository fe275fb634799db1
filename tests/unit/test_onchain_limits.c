/* The bounds: B broadcasts a revoked commitment of an anchor channel holding 483
 * HTLCs each way (BOLT #2's maximum). A's engine takes all 967 revocable outputs by
 * revocation in justice transactions that each stay under the standard weight
 * (400,000: with anchors all of them do not fit one), and its wallet gets every
 * output of the commitment but the anchors, less the fees, exactly. The scratch arena
 * never needs more than al_onchain_scratch_size, the record never more than
 * al_onchain_record_max; the memory figures are printed for the report. */
#include <stdio.h>
#include <string.h>

#include "ln/channel_onchain.h"
#include "onchain_world.h"
#include "test.h"

int main(void)
{
	static uint8_t hs[2 * 483][32], rec[4 << 20];
	static uint64_t ids[2 * 483];
	static oh_commit old;
	static world w0;
	world *w = &w0;
	al_onchain_config ocfg;
	al_chan_config cfg;
	al_chan_info bi;
	uint8_t pre[32];
	uint64_t total;
	size_t i, j, justice = 0, taken = 0, len;

	al_onchain_config_default(&ocfg);
	printf("on-chain engine memory: %zu bytes at max_htlcs 966, ", al_onchain_size(&ocfg));
	ocfg.max_htlcs = 60;
	printf("%zu at 60 (30 each way); scratch %zu / %zu; record at most %zu / %zu\n",
	       al_onchain_size(&ocfg), al_onchain_scratch_size(&ocfg),
	       al_onchain_scratch_size(&(al_onchain_config){.max_htlcs = 966}),
	       al_onchain_record_max(&ocfg),
	       al_onchain_record_max(&(al_onchain_config){
	           .max_htlcs = 966,
	           .max_wallet_inputs = 16,
	           .final_depth = 6,
	           .min_feerate = 253,
	           .max_feerate = 250000,
	           .max_fee_permille = 500,
	       }));
	al_chan_config_default(&cfg);
	cfg.max_htlcs = AL_CHAN_MAX_HTLCS;
	cfg.htlc_grace_blocks = 10000;
	w->type = AL_LN_CHAN_ANCHORS;
	w->nodes[0] = &w->na;
	w->nodes[1] = &w->nb;
	h_init(&w->p, 4831, &cfg, &cfg);
	w->p.on_monitor = oh_keep_monitor;
	w->p.on_monitor_arg = w->nodes;
	CHECK(h_open(&w->p, AL_LN_CHAN_ANCHORS, 16000000, 8000000000, 253));
	for (i = 0; i < 2 * 483; i++)
		CHECK_OK(h_add(&w->p, i % 2 ? &w->p.b : &w->p.a, 10000000 + i, 1000 + (uint32_t)i,
		               &ids[i], hs[i]));
	CHECK_OK(al_chan_commit(w->p.a.ch));
	CHECK_OK(al_chan_commit(w->p.b.ch));
	h_pump(&w->p);
	al_chan_get_info(w->p.b.ch, &bi);
	CHECK(bi.htlcs_in == 483 && bi.htlcs_out == 483);
	oh_capture(&w->p, &w->p.b, &old);
	CHECK(old.n_htlc == 966);
	total = 0;
	{
		al_arena a;
		al_tx tx;

		al_arena_init(&a, w->arena_mem, sizeof(w->arena_mem));
		CHECK_OK(al_tx_parse(&tx, &a, old.raw, old.len));
		for (i = 0; i < tx.n_out; i++)
			if (tx.out[i].amount.sat != AL_LN_ANCHOR_SAT)
				total += tx.out[i].amount.sat;
		CHECK(tx.n_out == 966 + 4);
	}
	/* B settles one HTLC: the commitment captured is revoked. */
	CHECK(h_preimage_of(&w->p, hs[0], pre));
	CHECK_OK(al_chan_fulfill_htlc(w->p.b.ch, ids[0], pre));
	CHECK_OK(al_chan_commit(w->p.b.ch));
	h_pump(&w->p);
	h_disconnect(&w->p);
	/* The chain, A's engine (its default config: 966 HTLCs). */
	ow_chain_reset(w, NULL);
	al_onchain_config_default(&ocfg);
	ow_engine(w, true, &ocfg);
	CHECK(oh_submit(&w->chain, old.raw, old.len) >= 0);
	CHECK(ow_until_done(w, 50));
	CHECK(w->na.bcast_rejected == 0);
	/* Every output but the anchors went to A by revocation, in few transactions. */
	for (i = 0; i < w->chain.n; i++) {
		const oh_tx *t = &w->chain.tx[i];
		size_t from_old = 0;

		if (!t->in_chain || !t->height)
			continue;
		for (j = 0; j < t->tx.n_in; j++)
			from_old += memcmp(t->tx.in[j].txid, old.txid, 32) == 0;
		if (from_old > 1) {
			justice++;
			taken += from_old;
			CHECK(t->weight <= 400000);
			printf("justice transaction: %zu inputs, %zu weight units, fee %llu sat\n",
			       from_old, t->weight, (unsigned long long)t->fee.sat);
		} else {
			taken += from_old;
		}
	}
	CHECK(justice == 2);
	CHECK(taken == 966 + 2);
	CHECK(ow_net(w, &w->na) == (int64_t)total);
	CHECK(ow_claimed(&w->na) == (int64_t)total);
	CHECK_OK(al_onchain_save(w->na.o, rec, sizeof(rec), &len));
	CHECK(len <= al_onchain_record_max(&ocfg));
	printf("record with 966 HTLCs resolved: %zu bytes (bound %zu); scratch high water %zu of "
	       "%zu\n",
	       len, al_onchain_record_max(&ocfg), al_arena_high_water(&w->na.scratch),
	       w->na.scratch_len);
	CHECK(al_arena_high_water(&w->na.scratch) <= w->na.scratch_len);
	CHECK(w->na.scratch.failed == 0);
	oh_commit_free(&old);
	oh_node_free(&w->na);
	oh_chain_free(&w->chain);
	h_free(&w->p);
	return al_t_finish();
}
