/* A force-closed channel's outputs, resolved on-chain (BOLT #5) by an al_onchain
 * engine (ln/onchain.h) per channel, behind the trust boundary.
 *
 * The engine starts when the chain shows a commitment (ours or the peer's, revoked or
 * not) spending the funding output. Its claims pay the channel's shutdown script, a
 * wallet address the node handed out at the channel's creation: the wallet's own sync
 * sees the swept coins.
 *
 * Records. The engine's record is kept as ("onc", slot), beside the channel's. A
 * PERSIST is written into the node's copy at once and heard by the engine
 * (al_onchain_persisted) only when the batch carrying it is durable: the engine
 * releases no broadcast before ("persist before broadcast"). Its events change the
 * channel's record (what reached the wallet); both records are rewritten together, in
 * one batch, so that an event counted is never counted again after a restart.
 *
 * The chain. Before every sync step the node watches the funding output and every
 * output the engine follows (their spenders, its claims among them, are fetched with
 * them); after the step commits, it reports each spender with its confirmation height
 * (0 unconfirmed), each of its own transactions the server forgot
 * (al_onchain_tx_gone), then the tip and the feerate (the server's estimate, fetched
 * by "chansync" when none is fresh). An output the engine starts to follow needs one
 * more step before it is claimed: the node asks for one ("chansync").
 *
 * Fees of anchor channels (a CPFP of our commitment, zero-fee HTLC transactions): FUND
 * is answered with one confirmed wallet UTXO worth what the engine asks, SIGN by the
 * wallet signing its inputs (al_wallet_sign_inputs). A UTXO an engine holds is given
 * to no other engine and spent by no payment of the user's (node_onc_holds, the
 * wallet's al_wallet_send_opts.held): the chain would refuse one of the two. */
#include <string.h>

#include "btc/tx.h"
#include "ln/channel_onchain.h"
#include "node/node_int.h"
#include "util/cursor.h"
#include "wallet/wallet.h"

static void onc_config(const al_node *n, al_onchain_config *cfg)
{
	al_chan_config cc;

	node_chan_config(n, &cc);
	al_onchain_config_default(cfg);
	/* Both directions' HTLCs of one commitment. */
	cfg->max_htlcs = (uint16_t)(2 * cc.max_htlcs);
}

/* The scratch arena the node's engines share, one call at a time. */
static al_err env_ready(al_node *n)
{
	al_onchain_config cfg;

	if (n->onc_scratch)
		return AL_OK;
	onc_config(n, &cfg);
	n->onc_scratch_len = al_onchain_scratch_size(&cfg);
	if (!(n->onc_scratch = node_alloc(n, n->onc_scratch_len)))
		return AL_E_NOMEM;
	al_arena_init(&n->onc_arena, n->onc_scratch, n->onc_scratch_len);
	n->onc_env.secp = n->env.secp;
	n->onc_env.scratch = &n->onc_arena;
	return AL_OK;
}

void node_onc_release(al_node *n, node_chan *c)
{
	if (c->oc)
		al_onchain_clear(c->oc);
	c->oc = NULL;
	node_free(n, c->omem, c->omem_len);
	node_free(n, c->orec, c->orec_cap);
	c->omem = c->orec = NULL;
	c->omem_len = c->orec_cap = c->orec_used = 0;
	c->orec_dirty = c->owaiting = false;
	c->owait_id = c->owait_batch = 0;
}

void node_onc_clear(al_node *n)
{
	node_free(n, n->onc_scratch, n->onc_scratch_len);
	n->onc_scratch = NULL;
	n->onc_scratch_len = 0;
}

bool node_onc_live(const node_chan *c)
{
	return c->oc && !(al_onchain_state(c->oc) & (AL_ONCHAIN_ST_DONE | AL_ONCHAIN_ST_FAILED));
}

bool node_onc_any(const al_node *n)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++)
		if (node_onc_live(&n->chans[i]))
			return true;
	return false;
}

bool node_onc_holds(void *arg, const uint8_t txid[32], uint32_t vout)
{
	const al_node *n = arg;

	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++)
		if (n->chans[i].oc && al_onchain_holds_input(n->chans[i].oc, txid, vout))
			return true;
	return false;
}

/* Memory for an engine and its record. */
static al_err onc_alloc(al_node *n, node_chan *c, al_onchain_config *cfg)
{
	onc_config(n, cfg);
	AL_TRY(env_ready(n));
	c->omem_len = al_onchain_size(cfg);
	c->orec_cap = al_onchain_record_max(cfg);
	c->omem = node_alloc(n, c->omem_len);
	c->orec = node_alloc(n, c->orec_cap);
	return c->omem && c->orec ? AL_OK : AL_E_NOMEM;
}

/* The engine's state into the node's copy of its record (dirty). */
static al_err onc_save(node_chan *c)
{
	AL_TRY(al_onchain_save(c->oc, c->orec, c->orec_cap, &c->orec_used));
	c->orec_dirty = true;
	return AL_OK;
}

al_err node_onc_start(al_node *n, node_chan *c, uint32_t height)
{
	al_onchain_config cfg;
	al_onchain_setup setup;
	size_t mark;
	al_err e;

	if (!c->ch || !c->signer)
		return AL_E_NODE_CHAN_UNKNOWN;
	e = onc_alloc(n, c, &cfg);
	mark = al_arena_mark(&n->chan_arena);
	/* The destination stays the channel's shutdown script: a wallet address (the
	 * engine makes it the signer's sweep destination). */
	if (e == AL_OK)
		e = al_chan_onchain_setup(c->ch, &n->chan_arena, &setup);
	if (e == AL_OK)
		e = al_onchain_init(&c->oc, c->omem, c->omem_len, &n->onc_env, &cfg, c->signer,
		                    &setup, height);
	al_arena_release(&n->chan_arena, mark);
	if (e == AL_OK)
		e = onc_save(c);
	if (e != AL_OK) {
		node_onc_release(n, c);
		return e;
	}
	node_chan_log(n, c, "on-chain resolution started", NULL);
	node_onc_pump(n, c);
	return AL_OK;
}

al_err node_onc_load(al_node *n, node_chan *c, const uint8_t *rec, size_t len)
{
	al_onchain_config cfg;
	al_err e;

	if (!c->ch || !c->signer)
		return AL_E_NODE_RECORD; /* an engine of no channel */
	e = onc_alloc(n, c, &cfg);
	if (e == AL_OK && len > c->orec_cap)
		e = AL_E_NODE_RECORD;
	if (e == AL_OK)
		e = al_onchain_load(&c->oc, c->omem, c->omem_len, &n->onc_env, &cfg, c->signer, rec,
		                    len);
	if (e != AL_OK) {
		node_onc_release(n, c);
		return e;
	}
	/* The record stays as it was loaded until the engine asks for another. */
	memcpy(c->orec, rec, len);
	c->orec_used = len;
	return AL_OK;
}

void node_onc_durable(al_node *n, node_chan *c, uint64_t batch)
{
	if (!c->oc || !c->owaiting || !c->owait_batch || c->owait_batch > batch)
		return;
	c->owaiting = false;
	c->owait_batch = 0;
	/* One PERSIST is outstanding at a time and owait_id is its: never refused. */
	if (al_onchain_persisted(c->oc, c->owait_id) != AL_OK)
		node_chan_log(n, c, "on-chain: a persist the engine did not ask for", NULL);
}

/* --- effects ------------------------------------------------------------------------ */

static void onc_log_hex(al_node *n, const node_chan *c, const char *what, const uint8_t txid[32])
{
	node_line l = {.n = 0};
	uint8_t be[32];

	for (size_t i = 0; i < 32; i++)
		be[i] = txid[31 - i];
	node_line_s(&l, "channel ");
	node_line_u(&l, (uint64_t)(c - n->chans));
	node_line_s(&l, ": ");
	node_line_s(&l, what);
	node_line_s(&l, " ");
	node_line_hex(&l, be, 32);
	node_line_log(n, &l, 2);
}

/* An event: true when it changed what the channel's record says. */
static bool onc_event(al_node *n, node_chan *c, const al_onchain_fx *fx)
{
	static const char *const spends[] = {"",
	                                     "our commitment",
	                                     "their commitment",
	                                     "their revoked commitment",
	                                     "a closing transaction",
	                                     "their commitment (unknown)",
	                                     "our revoked commitment"};

	switch (fx->event) {
	case AL_ONCHAIN_EV_SPEND:
		node_chan_log(n, c, "funding spent by",
		              fx->spend <= AL_ONCHAIN_SPEND_HOLDER_REVOKED ? spends[fx->spend]
		                                                           : "?");
		return false;
	case AL_ONCHAIN_EV_CLAIMED:
		/* What this claim added to the wallet, less the wallet's inputs: a CPFP or a
		 * zero-fee HTLC transaction costs the wallet its fee. Modulo 2^64: a sum
		 * below zero so far (such a claim final before the sweeps) reads as 0
		 * (node_chan_api.c) until the sweeps are counted. */
		onc_log_hex(n, c, "claim final:", fx->txid);
		c->settled_sat += fx->to_wallet.sat;
		c->settled_sat -= fx->wallet_in.sat;
		return true;
	case AL_ONCHAIN_EV_RESOLVED:
		return false;
	case AL_ONCHAIN_EV_PREIMAGE:
	case AL_ONCHAIN_EV_HTLC_FAILED: {
		/* BOLT #5: the incoming HTLC it came from is fulfilled or failed upstream:
		 * the caller hears it as it hears the channel's own. */
		al_chan_fx hx;
		memset(&hx, 0, sizeof(hx));
		hx.kind = AL_CHAN_FX_EVENT;
		hx.event = fx->event == AL_ONCHAIN_EV_PREIMAGE ? AL_CHAN_EV_HTLC_FULFILLED
		                                               : AL_CHAN_EV_HTLC_FAILED;
		hx.htlc_id = UINT64_MAX;
		hx.amount_msat = fx->amount_msat;
		memcpy(hx.hash, fx->hash, 32);
		memcpy(hx.preimage, fx->preimage, 32);
		hx.cltv_expiry = fx->cltv_expiry;
		node_htlc_event(n, c, &hx);
		node_chan_log(n, c,
		              fx->event == AL_ONCHAIN_EV_PREIMAGE ? "an HTLC fulfilled on-chain"
		                                                  : "an HTLC failed on-chain",
		              NULL);
		return true; /* the engine's record, saying it was reported */
	}
	case AL_ONCHAIN_EV_DONE:
		node_chan_log(n, c, "resolved on-chain", NULL);
		c->flags |= CF_RESOLVED;
		return true;
	case AL_ONCHAIN_EV_WARNING:
		/* BOLT #5: "MUST warn the user". */
		node_chan_log(n, c, "on-chain: funds may be lost:", al_err_str(fx->err));
		return false;
	case AL_ONCHAIN_EV_FAILED:
		node_chan_log(n, c, "on-chain engine failed:", al_err_str(fx->err));
		return false;
	}
	return false;
}

/* FUND: one confirmed wallet UTXO worth at least fx->amount, the smallest that the
 * engine takes (it refuses one it holds already); none when there is none (it asks
 * again next block). */
static void fund(al_node *n, node_chan *c, const al_onchain_fx *fx)
{
	al_wallet *w = node_wallet_of(n);
	const al_wallet_utxo *prev = NULL;
	al_err e = AL_E_WALLET_FUNDS;

	for (int tries = 0; w && tries < AL_ONCHAIN_MAX_CLAIM_INPUTS * 4; tries++) {
		const al_wallet_utxo *best = NULL;
		al_onchain_utxo u;
		for (size_t i = 0; i < al_wallet_utxo_count(w); i++) {
			const al_wallet_utxo *x = al_wallet_utxo_at(w, i);
			/* Ascending (value, position), after the one refused last. */
			if (!x->confirmations || x->coinbase || x->value.sat < fx->amount.sat ||
			    node_onc_holds(n, x->txid, x->vout) ||
			    (prev && (x->value.sat < prev->value.sat ||
			              (x->value.sat == prev->value.sat && x <= prev))))
				continue;
			if (!best || x->value.sat < best->value.sat)
				best = x;
		}
		if (!best)
			break;
		memset(&u, 0, sizeof(u));
		memcpy(u.txid, best->txid, 32);
		u.vout = best->vout;
		u.amount = best->value;
		if (al_wallet_script(w, u.script, best->chain, best->index) != AL_OK)
			break;
		e = al_onchain_wallet_inputs(c->oc, fx->claim, &u, 1);
		if (e != AL_E_ONCHAIN_INPUT)
			break;
		prev = best;
	}
	if (e == AL_OK)
		return;
	node_chan_log(n, c, "on-chain: no wallet input for a claim's fee:", al_err_str(e));
	if (al_onchain_wallet_inputs(c->oc, fx->claim, NULL, 0) != AL_OK)
		node_chan_log(n, c, "on-chain: a funding request refused", NULL);
}

/* SIGN: the wallet signs its inputs of the claim. */
static void sign(al_node *n, node_chan *c, const al_onchain_fx *fx)
{
	/* Each wallet input's witness: a signature and a key, under 110 bytes. */
	size_t cap = fx->len + AL_ONCHAIN_MAX_CLAIM_INPUTS * 110 + 64, len = 0;
	al_wallet *w = node_wallet_of(n);
	uint8_t *buf = node_alloc(n, cap);
	al_err e = !w ? AL_E_NODE_CHAIN : !buf ? AL_E_NOMEM : AL_OK;

	if (e == AL_OK)
		e = al_wallet_sign_inputs(w, fx->data, fx->len, buf, cap, &len);
	if (e == AL_OK)
		e = al_onchain_wallet_signed(c->oc, fx->claim, buf, len);
	node_free(n, buf, cap);
	if (e != AL_OK)
		node_chan_log(n, c, "on-chain: a claim's wallet inputs not signed:", al_err_str(e));
}

void node_onc_pump(al_node *n, node_chan *c)
{
	al_onchain_fx fx;
	bool changed = false, watch = false;

	if (!c->oc || n->state != AL_NODE_READY)
		return;
	for (int guard = 0; guard < 4096 && node_fx_room(n) && al_onchain_next_effect(c->oc, &fx);
	     guard++) {
		switch (fx.kind) {
		case AL_ONCHAIN_FX_PERSIST:
			if (onc_save(c) != AL_OK) {
				node_chan_log(n, c, "on-chain record not kept: the engine waits",
				              NULL);
				break;
			}
			c->owaiting = true;
			c->owait_id = fx.id;
			c->owait_batch = 0; /* tagged when a batch takes the record */
			break;
		case AL_ONCHAIN_FX_WATCH:
			watch = true; /* node_onc_watch registers it before the next step */
			break;
		case AL_ONCHAIN_FX_BROADCAST:
			onc_log_hex(n, c, "on-chain broadcast", fx.txid);
			node_chan_outbox(n, c, fx.data, fx.len);
			break;
		case AL_ONCHAIN_FX_FUND:
			fund(n, c, &fx);
			break;
		case AL_ONCHAIN_FX_SIGN:
			sign(n, c, &fx);
			break;
		case AL_ONCHAIN_FX_EVENT:
			changed |= onc_event(n, c, &fx);
			break;
		default:
			break;
		}
	}
	if (changed && (node_chan_rec_build(n, c) != AL_OK || onc_save(c) != AL_OK))
		node_chan_log(n, c, "on-chain: a record not rewritten", NULL);
	if (watch && node_wallet_internal(n, "chansync") != AL_OK)
		node_chan_log(n, c, "on-chain: the chain sync waits: the job queue is full", NULL);
}

/* --- the chain ------------------------------------------------------------------------ */

void node_onc_watch(al_node *n, node_chan *c, al_sync *s)
{
	al_onchain_output o;
	al_onchain_info info;
	al_err e = AL_OK;

	if (!node_onc_live(c))
		return;
	al_onchain_get_info(c->oc, &info);
	if (info.spend != AL_ONCHAIN_SPEND_NONE)
		e = al_sync_watch_tx(s, info.spend_txid, true);
	/* Every transaction the engine knows spends the funding output or an output it
	 * follows: the sync fetches each spender it finds (our claims too, once the server
	 * has them), and marks dropped one the server forgot. */
	for (size_t i = 0; e == AL_OK && i < al_onchain_output_count(c->oc); i++)
		if (al_onchain_output_at(c->oc, i, &o) && o.how == AL_ONCHAIN_HOW_OPEN)
			e = al_sync_watch_output(s, o.txid, o.vout);
	if (e != AL_OK)
		node_chan_log(
		    n, c, "the chain sync cannot watch the on-chain resolution:", al_err_str(e));
}

/* The monitor entry of the counterparty's commitment `number`, the latest kept. */
static const uint8_t *mon_entry(const node_chan *c, uint64_t number, size_t *len)
{
	const uint8_t *found = NULL;
	al_cur cur;

	*len = 0;
	al_cur_init(&cur, c->mon, c->mon_len);
	while (al_cur_ok(&cur) && al_cur_remaining(&cur)) {
		uint64_t num = al_cur_be64(&cur);
		uint32_t l = al_cur_be32(&cur);
		const uint8_t *p = al_cur_ptr(&cur, l);
		if (p && num == number) {
			found = p;
			*len = l;
		}
	}
	return found;
}

/* Tell the engine what the chain says of transaction `txid`. */
static void report(al_node *n, node_chan *c, const al_sync *s, const uint8_t txid[32])
{
	const al_sync_tx *t = al_sync_find_tx(s, txid);
	const uint8_t *raw, *mon = NULL;
	size_t len = 0, mlen = 0;
	uint64_t number;
	uint32_t height;
	al_err e;

	if (!t)
		return;
	if (t->st.dropped) {
		e = al_onchain_tx_gone(c->oc, txid);
	} else {
		if (!(raw = al_sync_tx_raw(s, t, &len)))
			return;
		height = al_sync_confirmations(s, t) ? t->st.height : 0;
		if (al_onchain_commitment_number(c->oc, raw, len, &number))
			mon = mon_entry(c, number, &mlen);
		e = al_onchain_tx(c->oc, raw, len, height, mon, mlen);
	}
	if (e != AL_OK && e != AL_E_ONCHAIN_UNRELATED && e != AL_E_ONCHAIN_STATE)
		node_chan_log(n, c, "on-chain: a transaction refused:", al_err_str(e));
}

void node_onc_chain(al_node *n, node_chan *c, const al_sync *s)
{
	const al_sync_out *so;
	al_onchain_output o;
	al_onchain_claim k;
	al_err e;

	if (!node_onc_live(c))
		return;
	so = al_sync_find_output(s, c->funding_txid, c->funding_vout);
	if (so && so->spent)
		report(n, c, s, so->spender);
	/* Outputs the engine follows; the table grows as their spenders come in. */
	for (size_t i = 0; i < al_onchain_output_count(c->oc); i++) {
		if (!al_onchain_output_at(c->oc, i, &o))
			continue;
		report(n, c, s, o.txid);
		so = al_sync_find_output(s, o.txid, o.vout);
		if (so && so->spent)
			report(n, c, s, so->spender);
	}
	for (size_t i = 0; i < al_onchain_claim_count(c->oc); i++)
		if (al_onchain_claim_at(c->oc, i, &k))
			report(n, c, s, k.txid);
	e = al_onchain_block(c->oc, al_sync_tip_height(s), node_wallet_feerate_kw(n));
	if (e != AL_OK)
		node_chan_log(n, c, "on-chain: the tip refused:", al_err_str(e));
	node_onc_pump(n, c);
}
