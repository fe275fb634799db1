/* Fuzz the on-chain engine with random chain events: node A of the fixture
 * (tests/lib/onchain_world.c: a channel with HTLCs both ways, A forced closed) runs its
 * engine on the toy chain (tests/lib/onchain_harness.c: every transaction checked by
 * the script interpreter, locktimes, BIP 68, BIP 125), restored for every input, while
 * the input's operations mine, reorganise, drop, put B's current or revoked
 * commitment and their HTLC transactions in, reveal preimages, move feerates (the
 * node's and the miner's), dry the wallet and restart the node from its record.
 *
 * Byte 0 picks the channel type (bit 0); then each operation is one byte (op % 16)
 * and its operand byte:
 *    0  mine one block        1  mine 1 + x % 8 blocks   2  reorganise 1 + x % 5 blocks
 *    3  B's current commitment in                        4  B's revoked commitment in
 *    5  B's revoked HTLC transaction x in                6  B's current one x in
 *    7  drop unconfirmed transaction x                   8  preimage of HTLC x to A
 *    9  A's feerate 253 * (1 + x)                        10 miner's feerate 253 * x
 *   11  restart A from its record                        12 sync A
 *   13  the wallet dry / not                             14 A's commitment in
 *   15  mine without syncing A (1 + x % 4 blocks)
 * At the end the chain settles (20 blocks, any feerate). Invariants (abort otherwise):
 * the engine never fails; no transaction it broadcasts is refused as invalid (races
 * with what the chain already has are allowed); every commitment of ours it
 * broadcasts is the latest; once the funding spend is confirmed and seen, every output
 * of it the engine must handle is one of its rows, at the right amount; every record
 * loads and saves back byte for byte; and when the engine is done, what it claimed
 * equals what the chain paid its wallet. */
#include <stdlib.h>
#include <string.h>

#include "btc/script.h"
#include "ln/scripts.h"
#include "onchain_world.h"
#include "test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 48

static world *worlds[2];
static uint8_t a_txid[2][32];

static void setup(void)
{
	int t;

	for (t = 0; t < 2; t++) {
		al_arena a;
		al_tx tx;

		worlds[t] = ow_fixture(t ? AL_LN_CHAN_ANCHORS : AL_LN_CHAN_STATIC_REMOTEKEY,
		                       5000 + (uint64_t)t);
		al_arena_init(&a, worlds[t]->arena_mem + (512 << 10), 512 << 10);
		if (al_tx_parse(&tx, &a, worlds[t]->a_raw, worlds[t]->a_len) != AL_OK)
			abort();
		al_tx_txid(&tx, a_txid[t]);
	}
	if (al_t_failures)
		abort();
}

/* The highest tip the chain of this input reached. */
static uint32_t top;

static uint32_t peak(const oh_chain *c)
{
	if (c->height > top)
		top = c->height;
	return top;
}

static void submit(oh_chain *c, const uint8_t *raw, size_t len)
{
	if (raw)
		(void)oh_submit(c, raw, len);
}

static void chain_base(world *w, oh_node *n)
{
	ow_chain_reset(w, &w->a_setup);
	oh_wallet_coin(n, &w->chain, 80000, 1);
	oh_wallet_coin(n, &w->chain, 80000, 2);
	oh_wallet_coin(n, &w->chain, 80000, 3);
}

/* Broadcasts refused for a reason a correct engine never gives the chain (a race
 * with the chain, like spending what was just dropped, is not one). */
static bool invalid(const char *why)
{
	return why &&
	       (!strcmp(why, "script verification failed") || !strcmp(why, "unparsable") ||
	        !strcmp(why, "outputs exceed inputs") || !strcmp(why, "over the standard weight"));
}

static void p2wsh_of(uint8_t spk[34], void (*make)(al_wb *, const al_secp *, const al_pubkey *),
                     const al_pubkey *k)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb w, s;

	al_wb_init(&w, ws, sizeof(ws));
	make(&w, al_t_secp(), k);
	al_wb_init(&s, spk, 34);
	al_script_p2wsh(&s, ws, w.len);
}

static bool is_script(const al_tx_out *o, const uint8_t *spk, size_t len)
{
	return o->script.len == len && memcmp(o->script.p, spk, len) == 0;
}

/* Once the funding spend is confirmed and the engine synced, it follows that spend, and
 * every output of it that is A's to resolve is one of its rows at the same amount:
 * all but the anchors of a revoked commitment of B; A's to_remote and the HTLCs of
 * B's current one; everything but B's to_remote and B's anchor of A's own. */
static void check_rows(world *w, oh_node *n, const uint8_t a_commit[32])
{
	int s = oh_spender(&w->chain, w->a_setup.funding_txid, w->a_setup.funding_vout);
	bool anchors = w->type == AL_LN_CHAN_ANCHORS, ours, cur, old;
	uint8_t a_anchor[34], b_anchor[34], a_remote[34], b_remote[34];
	al_onchain_info info;
	al_onchain_output o;
	const oh_tx *t;
	size_t i, j, rows = 0, want = 0;
	al_wb wb;

	if (s < 0 || !w->chain.tx[s].height)
		return;
	t = &w->chain.tx[s];
	al_onchain_get_info(n->o, &info);
	if (memcmp(info.spend_txid, t->txid, 32) != 0)
		abort();
	ours = !memcmp(t->txid, a_commit, 32);
	cur = !memcmp(t->txid, w->cur.txid, 32);
	old = !memcmp(t->txid, w->old.txid, 32);
	if (!ours && !cur && !old)
		abort();
	p2wsh_of(a_anchor, al_ln_anchor_script, &w->a_setup.holder_funding);
	p2wsh_of(b_anchor, al_ln_anchor_script, &w->a_setup.counterparty_funding);
	if (anchors) {
		p2wsh_of(a_remote, al_ln_to_remote_anchors_script, &w->a_setup.holder_bp.payment);
		p2wsh_of(b_remote, al_ln_to_remote_anchors_script,
		         &w->a_setup.counterparty_bp.payment);
	} else {
		al_wb_init(&wb, a_remote, 34);
		al_script_p2wpkh_pubkey(&wb, al_t_secp(), &w->a_setup.holder_bp.payment);
		al_wb_init(&wb, b_remote, 34);
		al_script_p2wpkh_pubkey(&wb, al_t_secp(), &w->a_setup.counterparty_bp.payment);
	}
	for (i = 0; i < t->tx.n_out; i++) {
		const al_tx_out *out = &t->tx.out[i];
		size_t rl = anchors ? 34 : 22;
		bool follow, found = false;

		if (is_script(out, b_anchor, 34) || (!ours && is_script(out, a_anchor, 34)))
			follow = false;
		else if (ours)
			follow = !is_script(out, b_remote, rl);
		else if (old || is_script(out, a_remote, rl))
			follow = true;
		else /* B's current: its HTLCs, not its to_local (the largest output) */
			follow = out->amount.sat < 100000;
		if (!follow)
			continue;
		want++;
		for (j = 0; j < al_onchain_output_count(n->o); j++)
			if (al_onchain_output_at(n->o, j, &o) && !memcmp(o.txid, t->txid, 32) &&
			    o.vout == i && o.amount.sat == out->amount.sat)
				found = true;
		if (!found)
			abort();
	}
	for (j = 0; j < al_onchain_output_count(n->o); j++)
		rows += al_onchain_output_at(n->o, j, &o) && !memcmp(o.txid, t->txid, 32);
	if (rows != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static oh_node n;
	al_onchain_config cfg;
	world *w;
	size_t i, ops = 0;
	int t, k;

	if (!worlds[0])
		setup();
	if (size < 1)
		return 0;
	t = data[0] & 1;
	w = worlds[t];
	ow_fixture_config(&cfg);
	memcpy(w->p.a.signer_mem, w->a_signer, al_signer_size());
	memset(n.mon, 0, sizeof(n.mon));
	/* A's monitor entries are the fixture node's. */
	memcpy(n.mon, w->na.mon, sizeof(n.mon));
	memcpy(n.mon_len, w->na.mon_len, sizeof(n.mon_len));
	oh_chain_init(&w->chain, OW_START);
	top = OW_START;
	oh_node_init(&n, &w->chain, w->p.a.signer, &w->a_setup, &cfg, 0xA1);
	chain_base(w, &n);
	oh_drain(&n, &w->chain);
	for (i = 1; i + 1 < size && ops < MAX_OPS; i += 2, ops++) {
		uint8_t op = data[i] % 16, x = data[i + 1];

		switch (op) {
		case 0:
			oh_mine(&w->chain, 1);
			oh_sync(&n, &w->chain);
			break;
		case 1:
			for (k = 0; k < 1 + x % 8; k++) {
				oh_mine(&w->chain, 1);
				oh_sync(&n, &w->chain);
			}
			break;
		case 2:
			/* Never a block that was ever final depth deep (reorganisations in a row
			 * add up): beyond that the engine promises nothing. */
			k = 1 + x % (AL_ONCHAIN_FINAL_DEPTH - 1);
			if (w->chain.height >= OW_START + (uint32_t)k &&
			    w->chain.height - (uint32_t)k + AL_ONCHAIN_FINAL_DEPTH >
			        peak(&w->chain))
				oh_reorg(&w->chain, (size_t)k);
			break;
		case 3:
			submit(&w->chain, w->cur.raw, w->cur.len);
			break;
		case 4:
			submit(&w->chain, w->old.raw, w->old.len);
			break;
		case 5:
			if (w->old.n_htlc)
				submit(&w->chain, w->old.htlc_raw[x % w->old.n_htlc],
				       w->old.htlc_len[x % w->old.n_htlc]);
			break;
		case 6:
			if (w->cur.n_htlc)
				submit(&w->chain, w->cur.htlc_raw[x % w->cur.n_htlc],
				       w->cur.htlc_len[x % w->cur.n_htlc]);
			break;
		case 7:
			if (w->chain.n)
				oh_drop(&w->chain, (int)(x % w->chain.n));
			break;
		case 8:
			if (w->n && al_onchain_preimage(n.o, w->h[x % w->n].preimage) != AL_OK)
				abort();
			break;
		case 9:
			n.feerate = 253u * (1u + x);
			break;
		case 10:
			w->chain.min_feerate = 253u * x;
			break;
		case 11:
			if (n.disk_len)
				oh_restart(&n);
			break;
		case 12:
			oh_sync(&n, &w->chain);
			break;
		case 13:
			n.wallet_dry = !n.wallet_dry;
			break;
		case 14:
			submit(&w->chain, w->a_raw, w->a_len);
			break;
		default:
			oh_mine(&w->chain, 1 + x % 4);
			break;
		}
		(void)peak(&w->chain);
		if (invalid(n.reject_why))
			abort();
	}
	/* Settle: any feerate, blocks until nothing moves (at most 40). */
	w->chain.min_feerate = 0;
	oh_sync(&n, &w->chain);
	for (k = 0; k < 40 && !(al_onchain_state(n.o) & AL_ONCHAIN_ST_DONE); k++) {
		oh_mine(&w->chain, 1);
		oh_sync(&n, &w->chain);
		if (invalid(n.reject_why))
			abort();
	}
	check_rows(w, &n, a_txid[t]);
	for (i = 0; i < n.n_bcast; i++) {
		int s = oh_find(&w->chain, n.bcast[i]);
		size_t j;

		/* A transaction of A's spending the funding output is its latest commitment. */
		if (s < 0)
			continue;
		for (j = 0; j < w->chain.tx[s].tx.n_in; j++)
			if (!memcmp(w->chain.tx[s].tx.in[j].txid, w->a_setup.funding_txid, 32) &&
			    memcmp(n.bcast[i], a_txid[t], 32) != 0)
				abort();
	}
	for (i = 0; i < n.n_ev; i++)
		if (n.ev[i].event == AL_ONCHAIN_EV_FAILED)
			abort();
	if ((al_onchain_state(n.o) & AL_ONCHAIN_ST_DONE) && ow_claimed(&n) != ow_net(w, &n))
		abort();
	if (al_t_failures)
		abort();
	/* Keep the fixture's monitor entries (the node frees its own). */
	memset(n.mon, 0, sizeof(n.mon));
	oh_node_free(&n);
	oh_chain_free(&w->chain);
	return 0;
}
