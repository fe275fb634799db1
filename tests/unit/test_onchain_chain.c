/* The chain moving under the on-chain engines: (e) reorganisations up to five blocks
 * deep at every stage of a unilateral close (nothing is reported final before six
 * confirmations, claims are rebroadcast, the end is exact), and one that swaps A's
 * confirmed commitment for B's (both engines start over on B's); (f) fee bumping:
 * a sweep replaced every block at +25% (BIP 125 rules checked by the chain) up to the
 * feerate cap and the half-of-the-value cap, an anchor child (CPFP from the wallet)
 * replaced until the package is mined; (g) the channel and its signer reloaded from
 * the channel record in the middle, the engine from its record. */
#include <string.h>

#include "onchain_world.h"
#include "test.h"

static bool ours(const oh_node *n, const uint8_t txid[32])
{
	size_t i;

	for (i = 0; i < n->n_bcast; i++)
		if (memcmp(n->bcast[i], txid, 32) == 0)
			return true;
	return false;
}

static const oh_tx *confirmed_spender(const world *w, const uint8_t txid[32], uint32_t vout)
{
	int i = oh_spender(&w->chain, txid, vout);

	return i >= 0 && w->chain.tx[i].height ? &w->chain.tx[i] : NULL;
}

/* Every RESOLVED event still holds: its output's spender is at least six deep, and
 * ours if it says so (an output left as dust or expired may be spent by the other
 * side, never by us). */
static void check_resolved(const world *w, const oh_node *n)
{
	size_t i;

	for (i = 0; i < n->n_ev; i++) {
		const al_onchain_fx *e = &n->ev[i];
		const oh_tx *t;

		if (e->event != AL_ONCHAIN_EV_RESOLVED)
			continue;
		t = confirmed_spender(w, e->txid, e->vout);
		if (e->how == AL_ONCHAIN_HOW_OURS || e->how == AL_ONCHAIN_HOW_THEIRS)
			CHECK(t && w->chain.height - t->height + 1 >= AL_ONCHAIN_FINAL_DEPTH);
		if (t)
			CHECK(ours(n, t->txid) == (e->how == AL_ONCHAIN_HOW_OURS));
	}
}

static void main_outputs(world *w, bool a_closes, uint64_t *a_main, uint64_t *b_main)
{
	al_chan_info ci;
	size_t u;

	al_chan_get_info(a_closes ? w->p.a.ch : w->p.b.ch, &ci);
	u = ow_untrimmed(w, a_closes, ci.local_feerate);
	*(a_closes ? a_main : b_main) =
	    ow_main_output(w, a_closes, true, ci.local_to_local.msat, ci.local_to_remote.msat,
	                   ci.local_feerate, u);
	*(a_closes ? b_main : a_main) =
	    ow_main_output(w, a_closes, false, ci.local_to_local.msat, ci.local_to_remote.msat,
	                   ci.local_feerate, u);
}

static void close_now(world *w, bool a)
{
	h_disconnect(&w->p);
	CHECK_OK(al_chan_force_close(a ? w->p.a.ch : w->p.b.ch));
	h_pump(&w->p);
}

/* (e) reorgs of 1..5 blocks every few blocks, with the channel reloaded midway. */
static void reorgs(al_ln_chan_type type, uint64_t seed)
{
	world *w = ow_open(type, seed);
	uint64_t a_main, b_main;
	size_t step, depth = 1, reorged = 0;

	main_outputs(w, true, &a_main, &b_main);
	close_now(w, true);
	ow_both_engines(w);
	for (step = 0; step < 400; step++) {
		bool a = al_onchain_state(w->na.o) & AL_ONCHAIN_ST_DONE;
		bool b = al_onchain_state(w->nb.o) & AL_ONCHAIN_ST_DONE;

		if (a && b)
			break;
		ow_mine(w, 1);
		check_resolved(w, &w->na);
		check_resolved(w, &w->nb);
		if (step == 60) {
			/* (g) A's node crashes: its channel and signer come back from the
			 * channel record, the engine from its own. */
			h_restart(&w->p, &w->p.a);
			CHECK(w->p.a.ch != NULL);
			w->na.signer = w->p.a.signer;
			oh_restart(&w->na);
		}
		if (step % 7 == 6 && step < 300) {
			oh_reorg(&w->chain, depth);
			ow_mine(w, 0);
			oh_sync(&w->na, &w->chain);
			oh_sync(&w->nb, &w->chain);
			depth = depth % 5 + 1;
			reorged++;
		}
	}
	CHECK(step < 400);
	CHECK(reorged > 20);
	CHECK(ow_net(w, &w->na) == (int64_t)(a_main + 15000 + 18000));
	CHECK(ow_net(w, &w->nb) == (int64_t)(b_main + 20000 + 12000));
	CHECK(ow_claimed(&w->na) == ow_net(w, &w->na));
	CHECK(ow_claimed(&w->nb) == ow_net(w, &w->nb));
	check_resolved(w, &w->na);
	check_resolved(w, &w->nb);
	fprintf(stderr, "reorgs %s: %zu reorganisations, %zu rebroadcasts by A, %zu restarts\n",
	        type == AL_LN_CHAN_ANCHORS ? "anchors" : "static_remotekey", reorged,
	        w->na.broadcasts, w->na.restarts);
	ow_free(w);
}

static size_t resolved_kind(const oh_node *n, al_onchain_out_kind k)
{
	size_t i, m = 0;

	for (i = 0; i < n->n_ev; i++)
		m += n->ev[i].event == AL_ONCHAIN_EV_RESOLVED && n->ev[i].out == k;
	return m;
}

/* (e) A's to_local sweep five deep (not yet final): five blocks undone, the sweep is
 * broadcast again and nothing was reported resolved; after six confirmations it is. */
static void reorg_rebroadcast(uint64_t seed)
{
	world *w = ow_open(AL_LN_CHAN_STATIC_REMOTEKEY, seed);
	al_onchain_output o;
	const oh_tx *t = NULL;
	size_t i, before, guard;
	uint32_t vout = 0;
	uint8_t txid[32];

	close_now(w, true);
	ow_engine(w, true, NULL);
	for (i = 0; i < al_onchain_output_count(w->na.o); i++)
		if (al_onchain_output_at(w->na.o, i, &o) && o.kind == AL_ONCHAIN_OUT_TO_LOCAL) {
			memcpy(txid, o.txid, 32);
			vout = o.vout;
		}
	for (guard = 0; guard < 100 && !t; guard++) {
		ow_mine(w, 1);
		t = confirmed_spender(w, txid, vout);
	}
	CHECK(t != NULL);
	ow_mine(w, 4);
	CHECK(resolved_kind(&w->na, AL_ONCHAIN_OUT_TO_LOCAL) == 0);
	before = w->na.broadcasts;
	oh_reorg(&w->chain, 5);
	oh_sync(&w->na, &w->chain);
	CHECK(w->na.broadcasts > before);
	CHECK(resolved_kind(&w->na, AL_ONCHAIN_OUT_TO_LOCAL) == 0);
	ow_mine(w, 5);
	CHECK(resolved_kind(&w->na, AL_ONCHAIN_OUT_TO_LOCAL) == 0);
	ow_mine(w, 1);
	CHECK(resolved_kind(&w->na, AL_ONCHAIN_OUT_TO_LOCAL) == 1);
	ow_free(w);
}

/* (e) A's commitment confirmed, then reorganised out and B's mined instead. */
static void swap_commitments(al_ln_chan_type type, uint64_t seed)
{
	world *w = ow_open(type, seed);
	uint64_t a_main, b_main;
	const hbcast *bb;
	int ia, ib;

	close_now(w, true);
	ow_engine(w, true, NULL);
	oh_wallet_coin(&w->na, &w->chain, 100000, 1);
	ow_mine(w, 3);
	CHECK(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_CONFIRMED);
	/* B goes on-chain too (its commitment cannot confirm yet). */
	main_outputs(w, false, &a_main, &b_main);
	CHECK_OK(al_chan_force_close(w->p.b.ch));
	h_drain(&w->p, &w->p.b);
	bb = w->p.b.n_bc ? &w->p.b.bc[w->p.b.n_bc - 1] : NULL;
	CHECK(bb && bb->kind == AL_CHAN_TX_COMMITMENT);
	ow_engine(w, false, NULL);
	oh_wallet_coin(&w->nb, &w->chain, 100000, 3);
	oh_wallet_coin(&w->nb, &w->chain, 100000, 4);
	ow_mine(w, 2);
	/* Five blocks undone; A's commitment leaves the mempool, B's gets in. */
	oh_reorg(&w->chain, 5);
	ia = oh_spender(&w->chain, w->chain.base[0].txid, w->chain.base[0].vout);
	CHECK(ia >= 0 && w->chain.tx[ia].height == 0);
	oh_drop(&w->chain, ia);
	ib = oh_submit(&w->chain, bb->p, bb->len);
	CHECK(ib >= 0);
	oh_sync(&w->na, &w->chain);
	oh_sync(&w->nb, &w->chain);
	ow_reveal(w, true, 3);
	ow_reveal(w, false, 0);
	CHECK(ow_until_done(w, 400));
	CHECK(oh_event(&w->na, AL_ONCHAIN_EV_DONE, 0));
	CHECK(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_DONE);
	{
		al_onchain_info ia_info, ib_info;

		al_onchain_get_info(w->na.o, &ia_info);
		al_onchain_get_info(w->nb.o, &ib_info);
		CHECK(ia_info.spend == AL_ONCHAIN_SPEND_COUNTERPARTY);
		CHECK(ib_info.spend == AL_ONCHAIN_SPEND_HOLDER);
	}
	CHECK(ow_net(w, &w->na) == (int64_t)(a_main + 15000 + 18000));
	CHECK(ow_net(w, &w->nb) == (int64_t)(b_main + 20000 + 12000));
	CHECK(ow_claimed(&w->na) == ow_net(w, &w->na));
	CHECK(ow_claimed(&w->nb) == ow_net(w, &w->nb));
	ow_free(w);
}

/* The versions of claim k broadcast: each a BIP 125 replacement, at least 25% more
 * per weight, within the caps. Returns the last feerate. */
static uint32_t check_versions(const oh_node *n, uint32_t k, uint64_t max_fee, uint32_t max_rate,
                               size_t *versions)
{
	uint32_t last = 0;
	uint64_t last_fee = 0;
	size_t i;

	*versions = 0;
	for (i = 0; i < n->n_bc; i++) {
		if (n->bc[i].claim != k || n->bc[i].fee.sat == last_fee)
			continue;
		CHECK(n->bc[i].fee.sat <= max_fee);
		if (last) {
			/* LDK: previous_feerate + previous_feerate / 4 (integer division). */
			if ((uint64_t)n->bc[i].feerate < (uint64_t)last + last / 4)
				fprintf(stderr,
				        "claim %u kind %d: %u after %u, fee %llu (max %llu)\n", k,
				        n->bc[i].kind, n->bc[i].feerate, last,
				        (unsigned long long)n->bc[i].fee.sat,
				        (unsigned long long)max_fee);
			CHECK(n->bc[i].replaces);
			CHECK(n->bc[i].fee.sat > last_fee);
			CHECK((uint64_t)n->bc[i].feerate >= (uint64_t)last + last / 4 ||
			      n->bc[i].feerate >= max_rate - 1 || n->bc[i].fee.sat == max_fee ||
			      n->bc[i].fee.sat + 1 >= max_fee);
		}
		last = n->bc[i].feerate;
		last_fee = n->bc[i].fee.sat;
		(*versions)++;
	}
	return last;
}

static uint32_t claim_of(const oh_node *n, al_onchain_out_kind kind)
{
	size_t i;
	al_onchain_output o;

	for (i = 0; i < al_onchain_output_count(n->o); i++)
		if (al_onchain_output_at(n->o, i, &o) && o.kind == kind && o.in_claim)
			return o.claim;
	return UINT32_MAX;
}

/* (f) B's commitment: A's to_remote sweep and its HTLC timeout, bumped every block while
 * the miner wants more than the caps allow, then mined when it wants less. */
static void bump_sweeps(uint64_t seed)
{
	world *w = ow_open(AL_LN_CHAN_STATIC_REMOTEKEY, seed);
	al_onchain_config cfg;
	uint64_t a_main, b_main;
	uint32_t k_remote, k_timeout, last;
	size_t versions, i;
	al_onchain_output o;
	uint64_t value = 0;

	main_outputs(w, false, &a_main, &b_main);
	close_now(w, false);
	al_onchain_config_default(&cfg);
	cfg.max_htlcs = 24;
	cfg.max_feerate = 20000;
	ow_engine(w, true, &cfg);
	ow_engine(w, false, NULL);
	ow_reveal(w, true, 3);
	ow_reveal(w, false, 0);
	w->na.feerate = 1000;
	ow_mine(w, 1); /* B's commitment */
	w->chain.min_feerate = 1000000;
	ow_mine(w, 20);
	k_remote = claim_of(&w->na, AL_ONCHAIN_OUT_TO_REMOTE);
	CHECK(k_remote != UINT32_MAX);
	/* The to_remote: feerates 1000, 1250, ... up to the 20,000 cap, then only
	 * rebroadcast. */
	for (i = 0; i < al_onchain_output_count(w->na.o); i++)
		if (al_onchain_output_at(w->na.o, i, &o) && o.kind == AL_ONCHAIN_OUT_TO_REMOTE)
			value = o.amount.sat;
	last = check_versions(&w->na, k_remote, value / 2, 20000, &versions);
	CHECK(versions >= 10 && versions <= 16);
	CHECK(last >= 19000 && last <= 20500);
	CHECK(w->na.bcast_rejected == 0);
	/* The HTLC timeout (15,000 sat, cltv 650): half its value caps the fee. */
	w->chain.min_feerate = 1000000;
	while (w->chain.height < 650)
		ow_mine(w, 1);
	w->na.feerate = 50000;
	ow_mine(w, 12);
	k_timeout = claim_of(&w->na, AL_ONCHAIN_OUT_CP_TIMEOUT);
	CHECK(k_timeout != UINT32_MAX);
	last = check_versions(&w->na, k_timeout, 7500, 20000, &versions);
	CHECK(versions >= 1);
	{
		al_onchain_claim c;

		CHECK(al_onchain_claim_at(w->na.o, k_timeout, &c));
		CHECK(c.fee.sat <= 7500 && c.fee.sat > 6000);
	}
	CHECK(w->na.bcast_rejected == 0);
	w->chain.min_feerate = 253;
	CHECK(ow_until_done(w, 300));
	CHECK(ow_net(w, &w->na) == (int64_t)(a_main + 15000 + 18000));
	CHECK(ow_claimed(&w->na) == ow_net(w, &w->na));
	CHECK(ow_net(w, &w->nb) == (int64_t)(b_main + 20000 + 12000));
	fprintf(stderr, "bump: %zu broadcasts by A, last to_remote feerate %u\n", w->na.broadcasts,
	        last);
	ow_free(w);
}

/* (f) anchors: A's commitment (2,500 per kw) pushed by a child paying from the wallet,
 * replaced until the miner takes the package. */
static void cpfp(uint64_t seed)
{
	world *w = ow_open(AL_LN_CHAN_ANCHORS, seed);
	uint64_t a_main, b_main;
	size_t versions, i;
	const oh_tx *child;
	int ic;

	main_outputs(w, true, &a_main, &b_main);
	close_now(w, true);
	ow_engine(w, true, NULL);
	ow_engine(w, false, NULL);
	oh_wallet_coin(&w->na, &w->chain, 60000, 1);
	oh_wallet_coin(&w->na, &w->chain, 60000, 2);
	oh_wallet_coin(&w->na, &w->chain, 60000, 5);
	oh_wallet_coin(&w->nb, &w->chain, 60000, 3);
	oh_wallet_coin(&w->nb, &w->chain, 60000, 4);
	w->na.feerate = 5000;
	w->chain.min_feerate = 9000;
	ow_mine(w, 1);
	CHECK(w->na.funds >= 1 && w->na.signs >= 1);
	for (i = 0; i < 8 && !(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_CONFIRMED); i++)
		ow_mine(w, 1);
	CHECK(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_CONFIRMED);
	check_versions(&w->na, 1, 60000, 250000, &versions);
	CHECK(versions >= 3);
	/* The child that got in spends the anchor and a wallet coin. */
	ic = -1;
	for (i = 0; i < w->chain.n; i++) {
		const oh_tx *t = &w->chain.tx[i];

		if (t->in_chain && t->height && t->tx.n_in == 2 && t->tx.n_out == 1 &&
		    !memcmp(t->tx.out[0].script.p, w->na.wspk, 22) &&
		    oh_find(&w->chain, t->tx.in[0].txid) >= 0 &&
		    w->chain.tx[oh_find(&w->chain, t->tx.in[0].txid)].tx.n_in == 1)
			ic = (int)i;
	}
	CHECK(ic >= 0);
	child = ic >= 0 ? &w->chain.tx[ic] : NULL;
	CHECK(child &&
	      child->height == w->chain.tx[oh_find(&w->chain, child->tx.in[0].txid)].height);
	w->chain.min_feerate = 253;
	w->na.feerate = 253;
	ow_reveal(w, true, 3);
	ow_reveal(w, false, 0);
	CHECK(ow_until_done(w, 400));
	CHECK(w->na.bcast_rejected == 0 && w->nb.bcast_rejected == 0);
	/* The anchor's 330 sat are A's too. */
	CHECK(ow_net(w, &w->na) == (int64_t)(a_main + 330 + 15000 + 18000));
	CHECK(ow_claimed(&w->na) == ow_net(w, &w->na));
	CHECK(ow_net(w, &w->nb) == (int64_t)(b_main + 20000 + 12000));
	fprintf(stderr, "cpfp: %zu child versions, child fee %llu sat\n", versions,
	        child ? (unsigned long long)child->fee.sat : 0ULL);
	ow_free(w);
}

int main(void)
{
	reorgs(AL_LN_CHAN_STATIC_REMOTEKEY, 21);
	reorgs(AL_LN_CHAN_ANCHORS, 22);
	reorg_rebroadcast(27);
	swap_commitments(AL_LN_CHAN_STATIC_REMOTEKEY, 23);
	swap_commitments(AL_LN_CHAN_ANCHORS, 24);
	bump_sweeps(25);
	cpfp(26);
	return al_t_finish();
}
