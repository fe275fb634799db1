#include "onchain_world.h"

#include <stdlib.h>
#include <string.h>

#include "btc/script.h"
#include "ln/channel_onchain.h"
#include "ln/scripts.h"
#include "test.h"

static void cfgs(al_chan_config *a, al_chan_config *b)
{
	al_chan_config_default(a);
	al_chan_config_default(b);
	a->max_htlcs = b->max_htlcs = 12;
	a->to_self_delay = 15; /* on B's outputs */
	b->to_self_delay = 25; /* on A's outputs */
	/* The chain of these tests stops before expiries the channel would act on. */
	a->htlc_grace_blocks = b->htlc_grace_blocks = 1000;
}

void ow_add(world *w, bool a, uint64_t msat, uint32_t cltv)
{
	ow_htlc *h = &w->h[w->n];
	uint64_t id;

	CHECK(w->n < OW_MAX_HTLC);
	CHECK_OK(h_add(&w->p, a ? &w->p.a : &w->p.b, msat, cltv, &id, h->hash));
	CHECK(h_preimage_of(&w->p, h->hash, h->preimage));
	h->msat = msat;
	h->cltv = cltv;
	h->by_a = a;
	w->n++;
	CHECK_OK(al_chan_commit(a ? w->p.a.ch : w->p.b.ch));
	h_pump(&w->p);
}

static world *open_world(al_ln_chan_type type, uint64_t seed, bool htlcs);

world *ow_open(al_ln_chan_type type, uint64_t seed)
{
	return open_world(type, seed, true);
}

world *ow_open_plain(al_ln_chan_type type, uint64_t seed)
{
	return open_world(type, seed, false);
}

static world *open_world(al_ln_chan_type type, uint64_t seed, bool htlcs)
{
	world *w = calloc(1, sizeof(*w));
	al_chan_config ca, cb;

	if (!w)
		abort();
	w->type = type;
	w->nodes[0] = &w->na;
	w->nodes[1] = &w->nb;
	cfgs(&ca, &cb);
	h_init(&w->p, seed, &ca, &cb);
	w->p.on_monitor = oh_keep_monitor;
	w->p.on_monitor_arg = w->nodes;
	CHECK(h_open(&w->p, type, 1000000, 400000000, 2500));
	if (htlcs) {
		ow_add(w, true, 20000000, 600);
		ow_add(w, true, 15000000, 650);
		ow_add(w, true, 400000, 610);
		ow_add(w, false, 18000000, 620);
		ow_add(w, false, 12000000, 640);
		ow_add(w, false, 300000, 630);
	}
	h_check_balances(&w->p);
	ow_chain_reset(w, NULL);
	return w;
}

void ow_chain_reset(world *w, const al_onchain_setup *s)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT], spk[34];
	al_onchain_setup own;
	al_arena a;
	al_wb ww, sw;

	if (!s) {
		al_arena_init(&a, w->arena_mem, sizeof(w->arena_mem));
		CHECK_OK(al_chan_onchain_setup(w->p.a.ch, &a, &own));
		s = &own;
	}
	oh_chain_init(&w->chain, OW_START);
	/* The funding output, confirmed. */
	al_wb_init(&ww, ws, sizeof(ws));
	al_ln_funding_script(&ww, al_t_secp(), &s->holder_funding, &s->counterparty_funding);
	al_wb_init(&sw, spk, sizeof(spk));
	al_script_p2wsh(&sw, ws, ww.len);
	oh_chain_base(&w->chain, s->funding_txid, s->funding_vout, s->funding, spk, sw.len,
	              OW_START - 10);
}

void ow_fixture_config(al_onchain_config *cfg)
{
	al_onchain_config_default(cfg);
	cfg->max_htlcs = 12;
	cfg->max_wallet_inputs = 4;
}

world *ow_fixture(al_ln_chan_type type, uint64_t seed)
{
	world *w = ow_open(type, seed);
	const hbcast *b;

	oh_capture(&w->p, &w->p.b, &w->old);
	CHECK_OK(al_chan_fail_htlc(w->p.b.ch, 2, (const uint8_t *)"x", 1));
	CHECK_OK(al_chan_commit(w->p.b.ch));
	h_pump(&w->p);
	oh_capture(&w->p, &w->p.b, &w->cur);
	h_disconnect(&w->p);
	CHECK_OK(al_chan_force_close(w->p.a.ch));
	h_pump(&w->p);
	b = w->p.a.n_bc ? &w->p.a.bc[w->p.a.n_bc - 1] : NULL;
	CHECK(b && b->kind == AL_CHAN_TX_COMMITMENT);
	if (b) {
		w->a_raw = malloc(b->len);
		if (!w->a_raw)
			abort();
		memcpy(w->a_raw, b->p, b->len);
		w->a_len = b->len;
	}
	{
		al_arena a;

		al_arena_init(&a, w->arena_mem, sizeof(w->arena_mem));
		CHECK_OK(al_chan_onchain_setup(w->p.a.ch, &a, &w->a_setup));
	}
	w->a_signer = malloc(al_signer_size());
	if (!w->a_signer)
		abort();
	memcpy(w->a_signer, w->p.a.signer_mem, al_signer_size());
	return w;
}

void ow_free(world *w)
{
	oh_commit_free(&w->old);
	oh_commit_free(&w->cur);
	free(w->a_raw);
	free(w->a_signer);
	size_t i;

	/* A node whose engine never started still holds its monitor entries. */
	for (i = 0; i < OH_MAX_MON; i++) {
		if (!w->a_on)
			free(w->na.mon[i]);
		if (!w->b_on)
			free(w->nb.mon[i]);
	}
	if (w->a_on)
		oh_node_free(&w->na);
	if (w->b_on)
		oh_node_free(&w->nb);
	oh_chain_free(&w->chain);
	h_free(&w->p);
	free(w);
}

void ow_engine(world *w, bool a, const al_onchain_config *cfg)
{
	hnode *hn = a ? &w->p.a : &w->p.b;
	oh_node *n = a ? &w->na : &w->nb;
	al_onchain_setup s;
	al_arena ar;

	al_arena_init(&ar, w->arena_mem, sizeof(w->arena_mem));
	CHECK_OK(al_chan_onchain_setup(hn->ch, &ar, &s));
	oh_node_init(n, &w->chain, hn->signer, &s, cfg, a ? 0xA1 : 0xB2);
	if (a)
		w->a_on = true;
	else
		w->b_on = true;
	oh_drain(n, &w->chain);
}

void ow_both_engines(world *w)
{
	ow_engine(w, true, NULL);
	ow_engine(w, false, NULL);
	oh_wallet_coin(&w->na, &w->chain, 100000, 1);
	oh_wallet_coin(&w->na, &w->chain, 100000, 2);
	oh_wallet_coin(&w->nb, &w->chain, 100000, 3);
	oh_wallet_coin(&w->nb, &w->chain, 100000, 4);
	ow_reveal(w, true, 3);
	ow_reveal(w, false, 0);
}

void ow_mine(world *w, size_t blocks)
{
	size_t i;

	for (i = 0; i < blocks; i++) {
		oh_mine(&w->chain, 1);
		if (w->a_on)
			oh_sync(&w->na, &w->chain);
		if (w->b_on)
			oh_sync(&w->nb, &w->chain);
	}
}

bool ow_until_done(world *w, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++) {
		bool a = !w->a_on || (al_onchain_state(w->na.o) & AL_ONCHAIN_ST_DONE);
		bool b = !w->b_on || (al_onchain_state(w->nb.o) & AL_ONCHAIN_ST_DONE);

		if (a && b)
			return true;
		ow_mine(w, 1);
	}
	return false;
}

static bool is_ours(const oh_node *n, const uint8_t txid[32])
{
	size_t i;

	for (i = 0; i < n->n_bcast; i++)
		if (memcmp(n->bcast[i], txid, 32) == 0)
			return true;
	return false;
}

int64_t ow_net(const world *w, const oh_node *n)
{
	const oh_chain *c = &w->chain;
	int64_t net = 0;
	size_t i, j;

	for (i = 0; i < c->n; i++) {
		const oh_tx *t = &c->tx[i];
		bool funding_spend = false;

		if (!t->in_chain || !t->height)
			continue;
		for (j = 0; j < t->tx.n_out; j++)
			if (t->tx.out[j].script.len == 22 &&
			    memcmp(t->tx.out[j].script.p, n->wspk, 22) == 0)
				net += (int64_t)t->tx.out[j].amount.sat;
		if (!is_ours(n, t->txid))
			continue;
		for (j = 0; j < t->tx.n_in; j++) {
			const uint8_t *spk;
			size_t sl;
			uint32_t h;
			al_sat amt;

			if (t->tx.in[j].vout == c->base[0].vout &&
			    memcmp(t->tx.in[j].txid, c->base[0].txid, 32) == 0)
				funding_spend = true;
			if (oh_prevout(c, t->tx.in[j].txid, t->tx.in[j].vout, &amt, &spk, &sl,
			               &h) &&
			    sl == 22 && memcmp(spk, n->wspk, 22) == 0)
				net -= (int64_t)amt.sat;
		}
		if (!funding_spend)
			net += (int64_t)t->fee.sat;
	}
	return net;
}

int64_t ow_claimed(const oh_node *n)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < n->n_ev; i++) {
		const al_onchain_fx *e = &n->ev[i];

		if (e->event != AL_ONCHAIN_EV_CLAIMED || e->amount.sat == 0)
			continue;
		sum += (int64_t)e->to_wallet.sat + (int64_t)e->fee.sat - (int64_t)e->wallet_in.sat;
	}
	return sum;
}

size_t ow_untrimmed(const world *w, bool owner_a, uint32_t feerate)
{
	size_t i, n = 0;

	for (i = 0; i < w->n; i++) {
		al_ln_htlc h;

		h.offered = w->h[i].by_a == owner_a;
		h.amount = al_msat_of(w->h[i].msat);
		h.cltv_expiry = w->h[i].cltv;
		n += !al_ln_htlc_is_trimmed(w->type, feerate, al_sat_of(546), &h);
	}
	return n;
}

uint64_t ow_main_output(const world *w, bool owner_a, bool of_owner, uint64_t owner_msat,
                        uint64_t other_msat, uint32_t feerate, size_t untrimmed)
{
	/* A is the funder: its output pays the fee and, with anchors, 2 * 330. */
	bool funder = of_owner == owner_a;
	uint64_t sat = (of_owner ? owner_msat : other_msat) / 1000;
	al_sat fee;

	if (!funder)
		return sat;
	CHECK_OK(al_ln_commit_base_fee(&fee, w->type, feerate, untrimmed));
	sat -= fee.sat;
	if (w->type == AL_LN_CHAN_ANCHORS)
		sat -= 2 * AL_LN_ANCHOR_SAT;
	return sat;
}

void ow_reveal(world *w, bool to_a, size_t i)
{
	CHECK_OK(al_onchain_preimage(to_a ? w->na.o : w->nb.o, w->h[i].preimage));
	oh_drain(to_a ? &w->na : &w->nb, &w->chain);
}
