/* The on-chain engine (see onchain.h): memory, inputs, and the effects derived from
 * the state. Classification is in onchain_classify.c, claims in onchain_claim.c, the
 * record in onchain_rec.c. */
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/onchain_int.h"
#include "ln/scripts.h"

/* The largest wallet-funded transaction: an HTLC or anchor input, the wallet's
 * inputs, two outputs. */
#define SBUF_CAP 2048

void al_onchain_config_default(al_onchain_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_htlcs = AL_LN_MAX_HTLCS;
	cfg->max_wallet_inputs = 16;
	cfg->final_depth = AL_ONCHAIN_FINAL_DEPTH;
	cfg->min_feerate = AL_ONCHAIN_MIN_FEERATE;
	cfg->max_feerate = 250000;
	cfg->max_fee_permille = 500;
}

al_err al_onchain_config_check(const al_onchain_config *cfg)
{
	if (cfg->max_htlcs > AL_LN_MAX_HTLCS || cfg->final_depth == 0 || cfg->final_depth > 1000 ||
	    cfg->min_feerate < AL_ONCHAIN_MIN_FEERATE || cfg->max_feerate < cfg->min_feerate ||
	    cfg->max_feerate > 100000000 || cfg->max_fee_permille == 0 ||
	    cfg->max_fee_permille > 1000)
		return AL_E_ARG;
	return AL_OK;
}

/* --- memory ---------------------------------------------------------------------------- */

static size_t up(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static size_t n_htlc(const al_onchain_config *cfg)
{
	return cfg->max_htlcs ? cfg->max_htlcs : 1;
}

static size_t n_outs(const al_onchain_config *cfg)
{
	/* Every output of a commitment we may claim, and a second stage per HTLC. */
	return 2 * (size_t)cfg->max_htlcs + 4;
}

static size_t n_win(const al_onchain_config *cfg)
{
	return cfg->max_wallet_inputs ? cfg->max_wallet_inputs : 1;
}

size_t al_onchain__mem_size(const al_onchain_config *cfg)
{
	size_t h = n_htlc(cfg), o = n_outs(cfg);

	return up(sizeof(al_onchain)) + 2 * up(h * sizeof(al_ln_htlc)) +
	       up(h * sizeof(al_ecdsa_sig)) + 2 * up(h) + up(h * sizeof(struct oc_pre)) +
	       up(o * sizeof(struct oc_out)) + up((o + 2) * sizeof(struct oc_claim)) +
	       up(n_win(cfg) * sizeof(struct oc_win)) + up((o + 2) * sizeof(struct oc_tx)) +
	       SBUF_CAP;
}

size_t al_onchain_size(const al_onchain_config *cfg)
{
	if (al_onchain_config_check(cfg) != AL_OK)
		return 0;
	return al_onchain__mem_size(cfg);
}

size_t al_onchain_scratch_size(const al_onchain_config *cfg)
{
	size_t o = n_outs(cfg);

	/* A commitment rebuilt (its outputs and scripts), a justice transaction over every
	 * row with witnesses and its serialization, the interpreter. */
	return 64 * 1024 + o * 1536 + al_interp_scratch_size();
}

size_t al_onchain_record_max(const al_onchain_config *cfg)
{
	if (al_onchain_config_check(cfg) != AL_OK)
		return 0;
	return al_onchain__record_max(cfg);
}

void al_onchain__layout(al_onchain *o, void *mem, size_t len, const al_onchain_config *cfg)
{
	uint8_t *p = mem;
	size_t h = n_htlc(cfg), n = n_outs(cfg);

	memset(mem, 0, len);
	p += up(sizeof(al_onchain));
	o->hold_htlcs = (al_ln_htlc *)p;
	p += up(h * sizeof(al_ln_htlc));
	o->sp_htlcs = (al_ln_htlc *)p;
	p += up(h * sizeof(al_ln_htlc));
	o->hold_sigs = (al_ecdsa_sig *)p;
	p += up(h * sizeof(al_ecdsa_sig));
	o->hold_hflags = p;
	p += up(h);
	o->sp_hflags = p;
	p += up(h);
	o->pre = (struct oc_pre *)p;
	p += up(h * sizeof(struct oc_pre));
	o->outs = (struct oc_out *)p;
	o->outs_cap = n;
	p += up(n * sizeof(struct oc_out));
	o->claims = (struct oc_claim *)p;
	o->claims_cap = n + 2;
	p += up((n + 2) * sizeof(struct oc_claim));
	o->win = (struct oc_win *)p;
	o->win_cap = n_win(cfg);
	p += up(n_win(cfg) * sizeof(struct oc_win));
	o->txs = (struct oc_tx *)p;
	o->txs_cap = n + 2;
	p += up((n + 2) * sizeof(struct oc_tx));
	o->sbuf = p;
	o->sbuf_cap = SBUF_CAP;
	o->cfg = *cfg;
	o->sp.kind = AL_ONCHAIN_SPEND_NONE;
	for (size_t i = 0; i < n; i++)
		o->outs[i].claim = OC_NONE;
}

void al_onchain_clear(al_onchain *o)
{
	size_t len = al_onchain__mem_size(&o->cfg);

	al_memzero(o, len);
}

/* --- small shared helpers ------------------------------------------------------------- */

void al_onchain__fail(al_onchain *o, al_err e)
{
	if (o->state & AL_ONCHAIN_ST_FAILED)
		return;
	o->state |= AL_ONCHAIN_ST_FAILED;
	o->err = e;
	o->dirty = true;
}

uint32_t al_onchain__depth(const al_onchain *o, uint32_t height)
{
	if (height == 0 || height > o->height)
		return 0;
	return o->height - height + 1;
}

bool al_onchain__final(const al_onchain *o, uint32_t height)
{
	return al_onchain__depth(o, height) >= o->cfg.final_depth;
}

const struct oc_pre *al_onchain__find_pre(const al_onchain *o, const uint8_t hash[32])
{
	size_t i;

	for (i = 0; i < o->n_pre; i++)
		if (memcmp(o->pre[i].hash, hash, 32) == 0)
			return &o->pre[i];
	return NULL;
}

al_err al_onchain__add_pre(al_onchain *o, const uint8_t preimage[32], bool from_chain)
{
	uint8_t h[32];

	al_sha256(h, preimage, 32);
	if (al_onchain__find_pre(o, h))
		return AL_OK;
	if (o->n_pre >= n_htlc(&o->cfg))
		return AL_E_ONCHAIN_FULL;
	memcpy(o->pre[o->n_pre].hash, h, 32);
	memcpy(o->pre[o->n_pre].preimage, preimage, 32);
	o->pre[o->n_pre].from_chain = from_chain;
	o->n_pre++;
	o->dirty = true;
	return AL_OK;
}

bool al_onchain__is_dest(const al_onchain *o, const al_bytes *script)
{
	return script->len == o->dest_len && memcmp(script->p, o->dest, o->dest_len) == 0;
}

/* --- init ------------------------------------------------------------------------------ */

static al_err check_setup(const al_onchain_config *cfg, const al_onchain_setup *s)
{
	if (s->type != AL_LN_CHAN_STATIC_REMOTEKEY && s->type != AL_LN_CHAN_ANCHORS)
		return AL_E_ARG;
	if (!s->dest || s->dest_len == 0 || s->dest_len > AL_SIGNER_DEST_MAX ||
	    s->shutdown_len > AL_SIGNER_DEST_MAX || (s->shutdown_len && !s->shutdown))
		return AL_E_ARG;
	if (s->holder_selected_delay == 0 || s->counterparty_selected_delay == 0 ||
	    !al_sat_is_valid_money(s->funding) || s->counterparty_revoked > s->counterparty_next)
		return AL_E_ARG;
	if (s->n_holder_htlcs > cfg->max_htlcs || s->n_holder_htlc_sigs > s->n_holder_htlcs ||
	    s->n_preimages > n_htlc(cfg))
		return AL_E_ONCHAIN_FULL;
	if ((s->n_holder_htlcs && !s->holder_htlcs) ||
	    (s->n_holder_htlc_sigs && !s->holder_htlc_sigs) || (s->n_preimages && !s->preimages))
		return AL_E_ARG;
	if (s->secrets && !al_shachain_valid(s->secrets))
		return AL_E_ARG;
	return AL_OK;
}

static void copy_setup(al_onchain *o, const al_onchain_setup *s)
{
	const al_pubkey *opener, *accepter;

	memcpy(o->channel_id, s->channel_id, 32);
	o->type = s->type;
	o->holder_is_funder = s->holder_is_funder;
	memcpy(o->funding_txid, s->funding_txid, 32);
	o->funding_vout = s->funding_vout;
	o->funding = s->funding;
	o->holder_funding = s->holder_funding;
	o->cp_funding = s->counterparty_funding;
	o->hbp = s->holder_bp;
	o->cbp = s->counterparty_bp;
	o->hdelay = s->holder_selected_delay;
	o->cdelay = s->counterparty_selected_delay;
	o->hdust = s->holder_dust;
	o->cdust = s->counterparty_dust;
	/* BOLT #3: "SHA256(payment_basepoint from open_channel || payment_basepoint from
	 * accept_channel)" */
	opener = s->holder_is_funder ? &s->holder_bp.payment : &s->counterparty_bp.payment;
	accepter = s->holder_is_funder ? &s->counterparty_bp.payment : &s->holder_bp.payment;
	o->obscurer = al_ln_commitment_obscurer(o->env->secp, opener, accepter);
	memcpy(o->dest, s->dest, s->dest_len);
	o->dest_len = s->dest_len;
	if (s->shutdown_len)
		memcpy(o->shut, s->shutdown, s->shutdown_len);
	o->shut_len = s->shutdown_len;
	o->hold.number = s->holder_number;
	o->hold.to_local = s->holder_to_local;
	o->hold.to_remote = s->holder_to_remote;
	o->hold.feerate = s->holder_feerate;
	o->hold.n_htlcs = s->n_holder_htlcs;
	if (s->n_holder_htlcs)
		memcpy(o->hold_htlcs, s->holder_htlcs, s->n_holder_htlcs * sizeof(al_ln_htlc));
	o->hold.sig = s->holder_sig;
	o->hold.n_sigs = s->n_holder_htlc_sigs;
	if (s->n_holder_htlc_sigs)
		memcpy(o->hold_sigs, s->holder_htlc_sigs,
		       s->n_holder_htlc_sigs * sizeof(al_ecdsa_sig));
	o->hold.broadcast = s->holder_broadcast;
	o->cp_revoked = s->counterparty_revoked;
	o->cp_next = s->counterparty_next;
	if (s->secrets)
		o->secrets = *s->secrets;
	else
		al_shachain_init(&o->secrets);
}

al_err al_onchain_init(al_onchain **out, void *mem, size_t len, al_onchain_env *env,
                       const al_onchain_config *cfg, al_signer *signer,
                       const al_onchain_setup *setup, uint32_t height)
{
	al_onchain *o = mem;
	size_t i;
	al_err e;

	*out = NULL;
	AL_TRY(al_onchain_config_check(cfg));
	if (!mem || len < al_onchain__mem_size(cfg) || ((uintptr_t)mem % 16) != 0 || !env ||
	    !signer || !setup)
		return AL_E_ARG;
	AL_TRY(check_setup(cfg, setup));
	al_onchain__layout(o, mem, len, cfg);
	o->env = env;
	o->signer = signer;
	copy_setup(o, setup);
	e = al_signer_set_destination(signer, o->dest, o->dest_len);
	for (i = 0; e == AL_OK && i < setup->n_preimages; i++)
		e = al_onchain__add_pre(o, setup->preimages[i].preimage, false);
	if (e == AL_OK)
		e = al_onchain__holder_derive(o);
	o->height = height;
	o->feerate = cfg->min_feerate;
	if (e == AL_OK && o->hold.broadcast)
		e = al_onchain__set_holder_pending(o);
	if (e != AL_OK) {
		al_onchain_clear(o);
		return e;
	}
	o->dirty = true;
	al_onchain__plan(o);
	*out = o;
	return AL_OK;
}

/* --- inputs ----------------------------------------------------------------------------- */

static void release_out(al_onchain *o)
{
	if (o->out_held) {
		al_arena_release(o->env->scratch, o->out_mark);
		o->out_held = false;
	}
}

static al_err begin(al_onchain *o)
{
	release_out(o);
	if (o->state & AL_ONCHAIN_ST_FAILED)
		return AL_E_ONCHAIN_FAILED;
	return AL_OK;
}

/* A transaction the engine knows (the funding spend, a spender of a row, a parent of
 * rows, one of ours): its height changed. */
static bool known_tx(al_onchain *o, const uint8_t txid[32], uint32_t height)
{
	bool found = false;
	size_t i;

	if (o->sp.kind != AL_ONCHAIN_SPEND_NONE && memcmp(o->sp.txid, txid, 32) == 0) {
		found = true;
		if (o->sp.height != height)
			o->dirty = true;
		o->sp.height = height;
	}
	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];

		if (!r->used)
			continue;
		if (memcmp(r->txid, txid, 32) == 0) {
			found = true;
			o->dirty |= r->height != height;
			r->height = height;
		}
		if (r->spent && memcmp(r->spender, txid, 32) == 0) {
			found = true;
			o->dirty |= r->spend_height != height;
			r->spend_height = height;
		}
	}
	for (i = 0; i < o->txs_cap; i++)
		if (o->txs[i].used && memcmp(o->txs[i].txid, txid, 32) == 0) {
			found = true;
			o->dirty |= o->txs[i].height != height;
			o->txs[i].height = height;
		}
	return found;
}

static bool spends_funding(const al_onchain *o, const al_tx *tx)
{
	size_t i;

	for (i = 0; i < tx->n_in; i++)
		if (tx->in[i].vout == o->funding_vout &&
		    memcmp(tx->in[i].txid, o->funding_txid, 32) == 0)
			return true;
	return false;
}

/* Refusals leave the engine as it was; anything else failing midway is sticky. */
static bool refusal(al_err e)
{
	return e == AL_E_ONCHAIN_UNRELATED || e == AL_E_ONCHAIN_MONITOR ||
	       e == AL_E_ONCHAIN_CONFLICT || e == AL_E_SHACHAIN_UNKNOWN;
}

al_err al_onchain_tx(al_onchain *o, const uint8_t *raw, size_t len, uint32_t height,
                     const uint8_t *monitor, size_t monitor_len)
{
	al_arena *a = o->env->scratch;
	size_t mark;
	uint8_t txid[32];
	al_tx tx;
	al_err e;

	AL_TRY(begin(o));
	mark = al_arena_mark(a);
	e = al_tx_parse(&tx, a, raw, len);
	if (e != AL_OK)
		return e;
	al_tx_txid(&tx, txid);
	if (known_tx(o, txid, height)) {
		e = AL_OK;
	} else if (spends_funding(o, &tx)) {
		/* A confirmed spend is replaced only once the chain has unconfirmed it. */
		if (o->sp.kind != AL_ONCHAIN_SPEND_NONE && o->sp.height && !height)
			e = AL_E_ONCHAIN_CONFLICT;
		else
			e = al_onchain__funding_spend(o, &tx, txid, height, monitor, monitor_len);
		if (e == AL_E_SHACHAIN_UNKNOWN)
			e = AL_E_ONCHAIN_MONITOR;
	} else {
		e = al_onchain__row_spend(o, &tx, txid, height);
	}
	al_arena_release(a, mark);
	if (e != AL_OK && !refusal(e))
		al_onchain__fail(o, e);
	if (e == AL_OK)
		al_onchain__plan(o);
	return e;
}

al_err al_onchain_tx_gone(al_onchain *o, const uint8_t txid[32])
{
	size_t i;
	bool known = false, confirmed = false;

	AL_TRY(begin(o));
	if (o->sp.kind != AL_ONCHAIN_SPEND_NONE && memcmp(o->sp.txid, txid, 32) == 0) {
		known = true;
		confirmed = o->sp.height != 0;
	}
	for (i = 0; i < o->outs_cap; i++) {
		const struct oc_out *r = &o->outs[i];

		if (!r->used)
			continue;
		if (r->spent && memcmp(r->spender, txid, 32) == 0) {
			known = true;
			confirmed |= r->spend_height != 0;
		}
		if (memcmp(r->txid, txid, 32) == 0) {
			known = true;
			confirmed |= r->height != 0;
		}
	}
	if (!known)
		return AL_E_ONCHAIN_UNRELATED;
	if (confirmed)
		return AL_E_ONCHAIN_STATE;
	al_onchain__forget(o, txid);
	/* Our commitment is pending again if we broadcast it. */
	if (o->sp.kind == AL_ONCHAIN_SPEND_NONE && o->hold.broadcast) {
		al_err e = al_onchain__set_holder_pending(o);

		if (e != AL_OK)
			al_onchain__fail(o, e);
	}
	al_onchain__plan(o);
	return AL_OK;
}

al_err al_onchain_block(al_onchain *o, uint32_t height, uint32_t feerate_per_kw)
{
	size_t i;

	AL_TRY(begin(o));
	/* A sync step ran: what it was asked to watch has been looked up. */
	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].watched && !o->outs[i].checked) {
			o->outs[i].checked = true;
			o->dirty = true;
		}
	if (feerate_per_kw < o->cfg.min_feerate)
		feerate_per_kw = o->cfg.min_feerate;
	if (feerate_per_kw > o->cfg.max_feerate)
		feerate_per_kw = o->cfg.max_feerate;
	o->feerate = feerate_per_kw;
	if (height != o->height) {
		o->height = height;
		al_onchain__bump(o);
	} else {
		al_onchain__plan(o);
	}
	return AL_OK;
}

al_err al_onchain_preimage(al_onchain *o, const uint8_t preimage[32])
{
	AL_TRY(begin(o));
	AL_TRY(al_onchain__add_pre(o, preimage, false));
	al_onchain__plan(o);
	return AL_OK;
}

al_err al_onchain_persisted(al_onchain *o, uint64_t id)
{
	release_out(o);
	if (!o->persisting || id != o->persist_id)
		return AL_E_ARG;
	o->persisting = false;
	return AL_OK;
}

al_err al_onchain_wallet_inputs(al_onchain *o, uint32_t claim, const al_onchain_utxo *u, size_t n)
{
	struct oc_claim *c;
	size_t i, j, free_slots = 0, held;

	AL_TRY(begin(o));
	if (claim >= o->claims_cap || !o->claims[claim].used || !o->claims[claim].need_fund)
		return AL_E_ONCHAIN_CLAIM;
	c = &o->claims[claim];
	held = 0;
	for (i = 0; i < o->win_cap; i++) {
		/* Orphans (of claims gone) are free again. */
		free_slots += !o->win[i].used || o->win[i].claim == OC_NONE;
		held += o->win[i].used && o->win[i].claim == claim;
	}
	if (n > free_slots || held + n > AL_ONCHAIN_MAX_CLAIM_INPUTS)
		return AL_E_ONCHAIN_INPUT;
	for (i = 0; i < n; i++) {
		if (u[i].script[0] != 0 || u[i].script[1] != 20 || u[i].amount.sat == 0 ||
		    !al_sat_is_valid_money(u[i].amount))
			return AL_E_ONCHAIN_INPUT;
		for (j = 0; j < o->win_cap; j++)
			if (o->win[j].used && o->win[j].claim != OC_NONE &&
			    o->win[j].vout == u[i].vout &&
			    memcmp(o->win[j].txid, u[i].txid, 32) == 0)
				return AL_E_ONCHAIN_INPUT;
		for (j = 0; j < i; j++)
			if (u[j].vout == u[i].vout && memcmp(u[j].txid, u[i].txid, 32) == 0)
				return AL_E_ONCHAIN_INPUT;
	}
	for (i = 0; i < n; i++) {
		/* The orphan of the same outpoint if any, else a free slot, else an orphan. */
		size_t k = o->win_cap;

		for (j = 0; j < o->win_cap && k == o->win_cap; j++)
			if (o->win[j].used && o->win[j].vout == u[i].vout &&
			    memcmp(o->win[j].txid, u[i].txid, 32) == 0)
				k = j;
		for (j = 0; j < o->win_cap && k == o->win_cap; j++)
			if (!o->win[j].used)
				k = j;
		for (j = 0; j < o->win_cap && k == o->win_cap; j++)
			if (o->win[j].claim == OC_NONE)
				k = j;
		memset(&o->win[k], 0, sizeof(o->win[k]));
		o->win[k].used = true;
		o->win[k].claim = claim;
		memcpy(o->win[k].txid, u[i].txid, 32);
		o->win[k].vout = u[i].vout;
		o->win[k].amount = u[i].amount;
		memcpy(o->win[k].script, u[i].script, 22);
	}
	c->fund_asked = n == 0; /* none: asked again next block */
	if (n) {
		c->stale = true;
		o->dirty = true;
	}
	al_onchain__plan(o);
	return AL_OK;
}

bool al_onchain_holds_input(const al_onchain *o, const uint8_t txid[32], uint32_t vout)
{
	for (size_t i = 0; i < o->win_cap; i++)
		if (o->win[i].used && o->win[i].claim != OC_NONE && o->win[i].vout == vout &&
		    memcmp(o->win[i].txid, txid, 32) == 0)
			return true;
	return false;
}

static al_err verify_input(al_onchain *o, const al_tx *tx, size_t i, const uint8_t *spk,
                           size_t spk_len, al_sat amount)
{
	al_arena *a = o->env->scratch;
	size_t mark = al_arena_mark(a);
	al_interp_fail why;
	al_err e;

	e = al_interp_verify_input(o->env->secp, tx, i, spk, spk_len, amount, AL_INTERP_STANDARD, a,
	                           &why);
	al_arena_release(a, mark);
	return e;
}

al_err al_onchain_wallet_signed(al_onchain *o, uint32_t claim, const uint8_t *raw, size_t len)
{
	al_arena *a = o->env->scratch;
	size_t mark, i, j;
	uint8_t txid[32];
	struct oc_claim *c;
	al_tx tx;
	al_err e = AL_OK;

	AL_TRY(begin(o));
	if (claim >= o->claims_cap || !o->claims[claim].used || !o->claims[claim].need_sign ||
	    !o->claims[claim].sign_asked)
		return AL_E_ONCHAIN_CLAIM;
	c = &o->claims[claim];
	if (len > o->sbuf_cap)
		return AL_E_ONCHAIN_WITNESS;
	mark = al_arena_mark(a);
	e = al_tx_parse(&tx, a, raw, len);
	if (e == AL_OK) {
		al_tx_txid(&tx, txid);
		if (memcmp(txid, c->txid, 32) != 0)
			e = AL_E_ONCHAIN_WITNESS;
	}
	/* Every wallet input: a P2WPKH witness that verifies. */
	for (i = 0; e == AL_OK && i < tx.n_in; i++) {
		for (j = 0; j < o->win_cap; j++)
			if (o->win[j].used && o->win[j].claim == claim &&
			    o->win[j].vout == tx.in[i].vout &&
			    memcmp(o->win[j].txid, tx.in[i].txid, 32) == 0)
				break;
		if (j == o->win_cap)
			continue;
		if (tx.in[i].n_witness != 2 || tx.in[i].witness[0].len > 73 ||
		    tx.in[i].witness[0].len < 9 || tx.in[i].witness[1].len != 33 ||
		    verify_input(o, &tx, i, o->win[j].script, 22, o->win[j].amount) != AL_OK)
			e = AL_E_ONCHAIN_WITNESS;
	}
	if (e == AL_OK) {
		for (i = 0; i < tx.n_in; i++)
			for (j = 0; j < o->win_cap; j++) {
				struct oc_win *w = &o->win[j];

				if (!w->used || w->claim != claim || w->vout != tx.in[i].vout ||
				    memcmp(w->txid, tx.in[i].txid, 32) != 0)
					continue;
				w->sig_len = (uint8_t)tx.in[i].witness[0].len;
				memcpy(w->sig, tx.in[i].witness[0].p, w->sig_len);
				memcpy(w->pk, tx.in[i].witness[1].p, 33);
				w->has_wit = true;
			}
		c->need_sign = false;
		c->sign_asked = false;
		c->bcast = true;
		o->dirty = true;
	}
	al_arena_release(a, mark);
	if (e == AL_OK)
		al_onchain__plan(o);
	return e;
}

/* --- effects ----------------------------------------------------------------------------- */

/* The spent output's script for the self-check of a broadcast. */
static al_err spent_spk(al_onchain *o, const al_tx_in *in, uint8_t spk[34], size_t *len,
                        al_sat *amount)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	const struct oc_out *r = NULL;
	al_wb w, s;
	size_t i;

	al_wb_init(&s, spk, 34);
	if (in->vout == o->funding_vout && memcmp(in->txid, o->funding_txid, 32) == 0) {
		al_wb_init(&w, ws, sizeof(ws));
		al_ln_funding_script(&w, o->env->secp, &o->holder_funding, &o->cp_funding);
		al_script_p2wsh(&s, ws, w.len);
		*amount = o->funding;
		*len = s.len;
		return al_wb_ok(&s) ? AL_OK : AL_E_ARG;
	}
	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].vout == in->vout &&
		    memcmp(o->outs[i].txid, in->txid, 32) == 0)
			r = &o->outs[i];
	if (!r)
		return AL_E_ONCHAIN_UNRELATED; /* a wallet input: checked when signed */
	*amount = r->amount;
	if (r->kind == AL_ONCHAIN_OUT_TO_REMOTE && o->type != AL_LN_CHAN_ANCHORS) {
		al_script_p2wpkh_pubkey(&s, o->env->secp, &o->hbp.payment);
	} else {
		al_wb_init(&w, ws, sizeof(ws));
		AL_TRY(al_onchain__row_script(o, r, &w));
		al_script_p2wsh(&s, ws, w.len);
	}
	*len = s.len;
	return al_wb_ok(&s) ? AL_OK : AL_E_ARG;
}

/* Serialize claim k (signed) into scratch; every input of ours verified by the
 * script interpreter first (a transaction the chain would refuse is a bug, stopped
 * here). */
static al_err claim_bytes(al_onchain *o, uint32_t k, al_onchain_fx *fx)
{
	al_arena *a = o->env->scratch;
	uint8_t spk[34], txid[32], *buf;
	al_sat amount;
	size_t i, n, spk_len;
	al_tx tx;
	al_wb w;
	al_err e;

	AL_TRY(al_onchain__claim_tx(o, k, a, true, &tx));
	al_tx_txid(&tx, txid);
	if (o->claims[k].kind != AL_ONCHAIN_CLAIM_COMMIT && memcmp(txid, o->claims[k].txid, 32))
		return AL_E_ONCHAIN_STATE;
	for (i = 0; i < tx.n_in; i++) {
		e = spent_spk(o, &tx.in[i], spk, &spk_len, &amount);
		if (e == AL_E_ONCHAIN_UNRELATED)
			continue;
		AL_TRY(e);
		AL_TRY(verify_input(o, &tx, i, spk, spk_len, amount));
	}
	n = al_tx_len(&tx, true);
	AL_TRY(al_arena_alloc(a, n, 1, (void **)&buf));
	al_wb_init(&w, buf, n);
	al_tx_write(&w, &tx, true);
	if (!al_wb_ok(&w))
		return w.err;
	fx->data = buf;
	fx->len = w.len;
	memcpy(fx->txid, txid, 32);
	return AL_OK;
}

static bool claim_wallet_complete(const al_onchain *o, uint32_t k)
{
	size_t i;

	for (i = 0; i < o->win_cap; i++)
		if (o->win[i].used && o->win[i].claim == k && !o->win[i].has_wit)
			return false;
	return true;
}

static bool claim_effect(al_onchain *o, uint32_t k, al_onchain_fx *fx, al_err *err)
{
	struct oc_claim *c = &o->claims[k];

	*err = AL_OK;
	fx->claim = k;
	fx->claim_kind = (al_onchain_claim_kind)c->kind;
	if (k == OC_CLAIM_COMMIT) {
		if (!c->bcast || o->sp.kind != AL_ONCHAIN_SPEND_HOLDER || o->sp.height)
			return false;
		c->bcast = false;
		fx->kind = AL_ONCHAIN_FX_BROADCAST;
		*err = claim_bytes(o, k, fx);
		return true;
	}
	if (c->need_fund && !c->fund_asked) {
		c->fund_asked = true;
		fx->kind = AL_ONCHAIN_FX_FUND;
		fx->amount = c->want;
		fx->feerate = c->want_feerate;
		return true;
	}
	if (!c->built)
		return false;
	if (c->need_sign && !c->sign_asked) {
		c->sign_asked = true;
		fx->kind = AL_ONCHAIN_FX_SIGN;
		fx->feerate = c->feerate;
		*err = claim_bytes(o, k, fx);
		return true;
	}
	if (c->bcast && !c->need_sign && claim_wallet_complete(o, k)) {
		c->bcast = false;
		fx->kind = AL_ONCHAIN_FX_BROADCAST;
		fx->feerate = c->feerate;
		fx->fee = c->fee;
		fx->replaces = c->has_prev;
		memcpy(fx->prev_txid, c->prev_txid, 32);
		*err = claim_bytes(o, k, fx);
		return true;
	}
	return false;
}

static bool offered_by_us(const al_onchain *o, const al_ln_htlc *h)
{
	return o->sp.kind == AL_ONCHAIN_SPEND_HOLDER ? h->offered : !h->offered;
}

/* Is HTLC i of the spend failed for good? */
static bool htlc_failed(const al_onchain *o, size_t i)
{
	size_t j;

	if (!(o->sp_hflags[i] & HF_OUTPUT))
		return al_onchain__final(o, o->sp.height);
	for (j = 0; j < o->outs_cap; j++) {
		const struct oc_out *r = &o->outs[j];

		if (r->used && r->htlc == i &&
		    (r->kind == AL_ONCHAIN_OUT_HTLC_TIMEOUT ||
		     r->kind == AL_ONCHAIN_OUT_CP_TIMEOUT ||
		     r->kind == AL_ONCHAIN_OUT_REVOKED_HTLC))
			return r->how == AL_ONCHAIN_HOW_OURS;
	}
	return false;
}

static bool htlc_fx(al_onchain_fx *fx, al_onchain_event_kind ev, const al_ln_htlc *h)
{
	fx->kind = AL_ONCHAIN_FX_EVENT;
	fx->event = ev;
	memcpy(fx->hash, h->payment_hash, 32);
	fx->amount_msat = h->amount;
	fx->cltv_expiry = h->cltv_expiry;
	return true;
}

static bool htlc_event(al_onchain *o, al_onchain_fx *fx)
{
	const struct oc_pre *p;
	size_t i;

	if (o->sp.kind == AL_ONCHAIN_SPEND_MUTUAL || o->sp.kind == AL_ONCHAIN_SPEND_NONE)
		return false;
	for (i = 0; i < o->sp.n_htlcs; i++) {
		const al_ln_htlc *h = &o->sp_htlcs[i];
		bool fail;

		if (!offered_by_us(o, h) || (o->sp_hflags[i] & (HF_PRE_REP | HF_FAIL_REP)))
			continue;
		p = al_onchain__find_pre(o, h->payment_hash);
		/* BOLT #5: "MUST extract the payment preimage from the transaction input
		 * witness" -- and hand it to the node at once. */
		if (p && p->from_chain) {
			o->sp_hflags[i] |= HF_PRE_REP;
			fx->event = AL_ONCHAIN_EV_PREIMAGE;
			memcpy(fx->preimage, p->preimage, 32);
		} else {
			fail = !p && htlc_failed(o, i);
			if (!fail)
				continue;
			o->sp_hflags[i] |= HF_FAIL_REP;
			fx->event = AL_ONCHAIN_EV_HTLC_FAILED;
		}
		return htlc_fx(fx, fx->event, h);
	}
	/* An HTLC we offered in our commitment that the counterparty's (final) lacks
	 * (BOLT #5: "once the commitment transaction has reached reasonable depth: MUST
	 * fail the corresponding incoming HTLC"). Not for a commitment we hold no data of:
	 * it may have the HTLC. */
	if ((o->sp.kind != AL_ONCHAIN_SPEND_COUNTERPARTY &&
	     o->sp.kind != AL_ONCHAIN_SPEND_REVOKED) ||
	    !al_onchain__final(o, o->sp.height))
		return false;
	for (i = 0; i < o->hold.n_htlcs; i++) {
		const al_ln_htlc *h = &o->hold_htlcs[i];
		size_t j;

		if (!h->offered || (o->hold_hflags[i] & HF_FAIL_REP) ||
		    al_onchain__find_pre(o, h->payment_hash))
			continue;
		for (j = 0; j < o->sp.n_htlcs; j++)
			if (!o->sp_htlcs[j].offered &&
			    memcmp(o->sp_htlcs[j].payment_hash, h->payment_hash, 32) == 0 &&
			    o->sp_htlcs[j].amount.msat == h->amount.msat &&
			    o->sp_htlcs[j].cltv_expiry == h->cltv_expiry)
				break;
		if (j < o->sp.n_htlcs)
			continue;
		o->hold_hflags[i] |= HF_FAIL_REP;
		return htlc_fx(fx, AL_ONCHAIN_EV_HTLC_FAILED, h);
	}
	return false;
}

static bool event_effect(al_onchain *o, al_onchain_fx *fx)
{
	size_t i;

	fx->kind = AL_ONCHAIN_FX_EVENT;
	if (o->sp.kind != AL_ONCHAIN_SPEND_NONE && !o->sp.reported &&
	    (o->sp.kind != AL_ONCHAIN_SPEND_HOLDER || o->sp.height)) {
		o->sp.reported = true;
		fx->event = AL_ONCHAIN_EV_SPEND;
		fx->spend = (al_onchain_spend_kind)o->sp.kind;
		memcpy(fx->txid, o->sp.txid, 32);
		fx->number = o->sp.number;
		fx->amount = o->sp.ours;
		return true;
	}
	if (o->warn_pending) {
		o->warn_pending = false;
		fx->event = AL_ONCHAIN_EV_WARNING;
		fx->spend = (al_onchain_spend_kind)o->sp.kind;
		memcpy(fx->txid, o->sp.txid, 32);
		fx->err = o->warn_err;
		return true;
	}
	if (htlc_event(o, fx))
		return true;
	for (i = 0; i < o->txs_cap; i++) {
		struct oc_tx *t = &o->txs[i];

		if (!t->used || t->reported || !al_onchain__final(o, t->height))
			continue;
		t->reported = true;
		fx->event = AL_ONCHAIN_EV_CLAIMED;
		memcpy(fx->txid, t->txid, 32);
		fx->amount = t->value_in;
		fx->wallet_in = t->wallet_in;
		fx->to_wallet = t->to_wallet;
		fx->fee = t->fee;
		return true;
	}
	if (o->sp.kind == AL_ONCHAIN_SPEND_HOLDER && o->hold.broadcast && !o->sp.fee_reported &&
	    al_onchain__final(o, o->sp.height)) {
		/* Our commitment's own fee, paid from the funder's balance. */
		o->sp.fee_reported = true;
		fx->event = AL_ONCHAIN_EV_CLAIMED;
		memcpy(fx->txid, o->sp.txid, 32);
		fx->fee = o->holder_is_funder ? o->hold.fee : al_sat_of(0);
		return true;
	}
	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];

		if (!r->used || r->reported || r->how == AL_ONCHAIN_HOW_OPEN)
			continue;
		r->reported = true;
		fx->event = AL_ONCHAIN_EV_RESOLVED;
		memcpy(fx->txid, r->txid, 32);
		fx->vout = r->vout;
		fx->out = (al_onchain_out_kind)r->kind;
		fx->how = (al_onchain_how)r->how;
		fx->amount = r->amount;
		return true;
	}
	if ((o->state & AL_ONCHAIN_ST_DONE) && !o->done_reported) {
		o->done_reported = true;
		fx->event = AL_ONCHAIN_EV_DONE;
		memcpy(fx->txid, o->sp.txid, 32);
		return true;
	}
	return false;
}

bool al_onchain_next_effect(al_onchain *o, al_onchain_fx *fx)
{
	al_arena *a = o->env->scratch;
	size_t i;
	al_err e;

	release_out(o);
	memset(fx, 0, sizeof(*fx));
	if (o->persisting)
		return false;
	if (o->dirty) {
		o->dirty = false;
		o->persisting = true;
		fx->kind = AL_ONCHAIN_FX_PERSIST;
		fx->id = ++o->persist_id;
		return true;
	}
	if ((o->state & AL_ONCHAIN_ST_FAILED) && !o->err_reported) {
		o->err_reported = true;
		fx->kind = AL_ONCHAIN_FX_EVENT;
		fx->event = AL_ONCHAIN_EV_FAILED;
		fx->err = o->err;
		return true;
	}
	if (!o->funding_watched) {
		o->funding_watched = true;
		fx->kind = AL_ONCHAIN_FX_WATCH;
		memcpy(fx->txid, o->funding_txid, 32);
		fx->vout = o->funding_vout;
		return true;
	}
	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];

		if (!r->used || r->watched || r->how != AL_ONCHAIN_HOW_OPEN)
			continue;
		r->watched = true;
		fx->kind = AL_ONCHAIN_FX_WATCH;
		memcpy(fx->txid, r->txid, 32);
		fx->vout = r->vout;
		return true;
	}
	if (o->state & AL_ONCHAIN_ST_FAILED)
		return false;
	o->out_mark = al_arena_mark(a);
	o->out_held = true;
	for (i = 0; i < o->claims_cap; i++) {
		if (!o->claims[i].used)
			continue;
		if (claim_effect(o, (uint32_t)i, fx, &e)) {
			if (e != AL_OK) {
				release_out(o);
				al_onchain__fail(o, e);
				memset(fx, 0, sizeof(*fx));
				return al_onchain_next_effect(o, fx);
			}
			return true;
		}
	}
	return event_effect(o, fx);
}

/* --- inspection ------------------------------------------------------------------------ */

uint32_t al_onchain_state(const al_onchain *o)
{
	uint32_t s = o->state & (AL_ONCHAIN_ST_DONE | AL_ONCHAIN_ST_FAILED);

	if (o->sp.kind != AL_ONCHAIN_SPEND_NONE &&
	    (o->sp.kind != AL_ONCHAIN_SPEND_HOLDER || o->sp.height || o->sp.reported))
		s |= AL_ONCHAIN_ST_SPENT;
	if (o->sp.kind != AL_ONCHAIN_SPEND_NONE && o->sp.height)
		s |= AL_ONCHAIN_ST_CONFIRMED;
	if (o->persisting)
		s |= AL_ONCHAIN_ST_PERSISTING;
	return s;
}

al_err al_onchain_error(const al_onchain *o)
{
	return o->err;
}

void al_onchain_get_info(const al_onchain *o, al_onchain_info *info)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	info->spend = (al_onchain_spend_kind)o->sp.kind;
	memcpy(info->spend_txid, o->sp.txid, 32);
	info->spend_height = o->sp.height;
	info->number = o->sp.number;
	info->height = o->height;
	info->feerate = o->feerate;
	for (i = 0; i < o->outs_cap; i++)
		info->outputs += o->outs[i].used;
	for (i = 0; i < o->claims_cap; i++)
		info->claims += o->claims[i].used;
	for (i = 0; i < o->win_cap; i++)
		info->wallet_inputs += o->win[i].used;
}

size_t al_onchain_output_count(const al_onchain *o)
{
	return o->outs_cap;
}

bool al_onchain_output_at(const al_onchain *o, size_t i, al_onchain_output *out)
{
	const struct oc_out *r;

	memset(out, 0, sizeof(*out));
	if (i >= o->outs_cap || !o->outs[i].used)
		return false;
	r = &o->outs[i];
	memcpy(out->txid, r->txid, 32);
	out->vout = r->vout;
	out->amount = r->amount;
	out->kind = (al_onchain_out_kind)r->kind;
	out->how = (al_onchain_how)r->how;
	out->spent = r->spent;
	memcpy(out->spender, r->spender, 32);
	out->spend_height = r->spend_height;
	out->in_claim = r->claim != OC_NONE;
	out->claim = r->claim;
	out->htlc = r->htlc < o->sp.n_htlcs ? &o->sp_htlcs[r->htlc] : NULL;
	return true;
}

size_t al_onchain_claim_count(const al_onchain *o)
{
	return o->claims_cap;
}

bool al_onchain_claim_at(const al_onchain *o, size_t i, al_onchain_claim *out)
{
	const struct oc_claim *c;
	size_t j;

	memset(out, 0, sizeof(*out));
	if (i >= o->claims_cap || !o->claims[i].used)
		return false;
	c = &o->claims[i];
	out->kind = (al_onchain_claim_kind)c->kind;
	out->feerate = c->feerate;
	out->fee = c->fee;
	memcpy(out->txid, c->txid, 32);
	out->made_at = c->made_at;
	for (j = 0; j < o->win_cap; j++)
		out->wallet_inputs += o->win[j].used && o->win[j].claim == i;
	return true;
}
