/* The on-chain engine's record: everything a restart needs (the channel's data, our
 * commitment, the revealed secrets, the preimages, the funding spend, rows, claims,
 * wallet inputs, transactions of ours). Delivered-flags of effects are not in it:
 * after a load every row is watched and every claim rebroadcast again.
 *
 * Version 1, big-endian: "ALOC" 01, then the sections in the order save() writes
 * them. Slot indices are kept, so references between rows, claims and wallet inputs
 * stay what they were. A record loads only if it is canonical (booleans 0 or 1,
 * absent values zero, slots increasing), so a loaded record saves to the same
 * bytes. */
#include <string.h>

#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/onchain_int.h"

#define REC_VERSION 1

#define HTLC_LEN  (1 + 8 + 32 + 4)
#define ROW_LEN   (2 + 4 + 32 + 4 + 8 + 4 + 4 + 4 + 2 + 32 + 4)
#define CLAIM_LEN (2 + 6 + 32 + 32 + 4 + 8 + 8 + 4 + 4 + 4)
#define WIN_LEN   (2 + 4 + 32 + 4 + 8 + 22 + 2 + 73 + 33)
#define TX_LEN    (2 + 1 + 32 + 4 + 5 * 8)

size_t al_onchain__record_max(const al_onchain_config *cfg)
{
	size_t h = cfg->max_htlcs ? cfg->max_htlcs : 1, n = 2 * (size_t)cfg->max_htlcs + 4;

	return 5 + 2 + /* static */ 32 + 2 + 32 + 4 + 8 + 2 * 33 + 8 * 33 + 4 + 16 +
	       2 * (1 + AL_SIGNER_DEST_MAX) +
	       /* holder */ 8 + 8 + 8 + 4 + 1 + 64 + 4 + h * (HTLC_LEN + 64 + 1) +
	       /* secrets */ 16 + 24 + AL_SHACHAIN_SLOTS * 40 +
	       /* preimages */ 2 + h * 33 +
	       /* spend */ 3 + 32 + 4 + 8 + 16 + 4 + 1 + 33 + 8 + 2 + h * (HTLC_LEN + 1) +
	       /* chain */ 4 + 4 + 4 + 2 +
	       /* tables */ 8 + n * ROW_LEN + (n + 2) * CLAIM_LEN +
	       (cfg->max_wallet_inputs ? cfg->max_wallet_inputs : 1) * WIN_LEN + (n + 2) * TX_LEN;
}

/* --- writing ----------------------------------------------------------------------------- */

static void w_pk(const al_onchain *o, al_wb *w, const al_pubkey *p)
{
	uint8_t b[33];

	al_pubkey_serialize(o->env->secp, b, p);
	al_wb_bytes(w, b, 33);
}

static void w_bp(const al_onchain *o, al_wb *w, const al_ln_basepoints *bp)
{
	w_pk(o, w, &bp->revocation);
	w_pk(o, w, &bp->payment);
	w_pk(o, w, &bp->delayed_payment);
	w_pk(o, w, &bp->htlc);
}

static void w_htlc(al_wb *w, const al_ln_htlc *h)
{
	al_wb_u8(w, h->offered);
	al_wb_be64(w, h->amount.msat);
	al_wb_bytes(w, h->payment_hash, 32);
	al_wb_be32(w, h->cltv_expiry);
}

static void w_script(al_wb *w, const uint8_t *s, size_t len)
{
	al_wb_u8(w, (uint8_t)len);
	al_wb_bytes(w, s, len);
}

static void save_static(const al_onchain *o, al_wb *w)
{
	size_t i;
	uint8_t sig[64];

	al_wb_bytes(w, o->channel_id, 32);
	al_wb_u8(w, (uint8_t)o->type);
	al_wb_u8(w, o->holder_is_funder);
	al_wb_bytes(w, o->funding_txid, 32);
	al_wb_be32(w, o->funding_vout);
	al_wb_be64(w, o->funding.sat);
	w_pk(o, w, &o->holder_funding);
	w_pk(o, w, &o->cp_funding);
	w_bp(o, w, &o->hbp);
	w_bp(o, w, &o->cbp);
	al_wb_be16(w, o->hdelay);
	al_wb_be16(w, o->cdelay);
	al_wb_be64(w, o->hdust.sat);
	al_wb_be64(w, o->cdust.sat);
	w_script(w, o->dest, o->dest_len);
	w_script(w, o->shut, o->shut_len);
	/* Our commitment. */
	al_wb_be64(w, o->hold.number);
	al_wb_be64(w, o->hold.to_local.msat);
	al_wb_be64(w, o->hold.to_remote.msat);
	al_wb_be32(w, o->hold.feerate);
	al_wb_u8(w, o->hold.broadcast);
	al_ecdsa_sig_serialize_compact(o->env->secp, sig, &o->hold.sig);
	al_wb_bytes(w, sig, 64);
	al_wb_be16(w, (uint16_t)o->hold.n_htlcs);
	al_wb_be16(w, (uint16_t)o->hold.n_sigs);
	for (i = 0; i < o->hold.n_htlcs; i++) {
		w_htlc(w, &o->hold_htlcs[i]);
		al_wb_u8(w, o->hold_hflags[i]);
	}
	for (i = 0; i < o->hold.n_sigs; i++) {
		al_ecdsa_sig_serialize_compact(o->env->secp, sig, &o->hold_sigs[i]);
		al_wb_bytes(w, sig, 64);
	}
	/* The counterparty's secrets (the compact store, as the channel keeps it). */
	al_wb_be64(w, o->cp_revoked);
	al_wb_be64(w, o->cp_next);
	al_wb_be64(w, o->secrets.valid);
	al_wb_be64(w, o->secrets.next_index);
	al_wb_be64(w, o->secrets.count);
	for (i = 0; i < AL_SHACHAIN_SLOTS; i++) {
		if (!((o->secrets.valid >> i) & 1))
			continue;
		al_wb_be64(w, o->secrets.known[i].index);
		al_wb_bytes(w, o->secrets.known[i].secret, 32);
	}
	al_wb_be16(w, (uint16_t)o->n_pre);
	for (i = 0; i < o->n_pre; i++) {
		al_wb_bytes(w, o->pre[i].preimage, 32);
		al_wb_u8(w, o->pre[i].from_chain);
	}
}

static void save_spend(const al_onchain *o, al_wb *w)
{
	static const uint8_t zero[33];
	size_t i;

	al_wb_u8(w, o->sp.kind);
	al_wb_u8(w, o->sp.reported);
	al_wb_u8(w, o->sp.fee_reported);
	al_wb_bytes(w, o->sp.txid, 32);
	al_wb_be32(w, o->sp.height);
	al_wb_be64(w, o->sp.number);
	al_wb_be64(w, o->sp.to_local.msat);
	al_wb_be64(w, o->sp.to_remote.msat);
	al_wb_be32(w, o->sp.feerate);
	al_wb_u8(w, o->sp.has_point);
	if (o->sp.has_point)
		w_pk(o, w, &o->sp.point);
	else
		al_wb_bytes(w, zero, 33);
	al_wb_be64(w, o->sp.ours.sat);
	al_wb_be16(w, (uint16_t)o->sp.n_htlcs);
	for (i = 0; i < o->sp.n_htlcs; i++) {
		w_htlc(w, &o->sp_htlcs[i]);
		al_wb_u8(w, o->sp_hflags[i]);
	}
	al_wb_be32(w, o->height);
	al_wb_be32(w, o->feerate);
	al_wb_u8(w, o->warn_pending);
	al_wb_u8(w, o->done_reported);
	al_wb_be16(w, (uint16_t)o->warn_err);
}

static size_t count_used_rows(const al_onchain *o)
{
	size_t i, n = 0;

	for (i = 0; i < o->outs_cap; i++)
		n += o->outs[i].used;
	return n;
}

static void save_tables(const al_onchain *o, al_wb *w)
{
	size_t i, n;

	al_wb_be16(w, (uint16_t)count_used_rows(o));
	for (i = 0; i < o->outs_cap; i++) {
		const struct oc_out *r = &o->outs[i];

		if (!r->used)
			continue;
		al_wb_be16(w, (uint16_t)i);
		al_wb_u8(w, r->kind);
		al_wb_u8(w, r->how);
		al_wb_u8(w, (uint8_t)(r->reported | r->dust << 1 | r->spent << 2 |
		                      r->spent_ours << 3 | r->checked << 4));
		al_wb_u8(w, 0);
		al_wb_bytes(w, r->txid, 32);
		al_wb_be32(w, r->vout);
		al_wb_be64(w, r->amount.sat);
		al_wb_be32(w, r->height);
		al_wb_be32(w, r->htlc);
		al_wb_be32(w, r->claim);
		al_wb_be16(w, 0);
		al_wb_bytes(w, r->spender, 32);
		al_wb_be32(w, r->spend_height);
	}
	for (i = 0, n = 0; i < o->claims_cap; i++)
		n += o->claims[i].used;
	al_wb_be16(w, (uint16_t)n);
	for (i = 0; i < o->claims_cap; i++) {
		const struct oc_claim *c = &o->claims[i];

		if (!c->used)
			continue;
		al_wb_be16(w, (uint16_t)i);
		al_wb_u8(w, c->kind);
		al_wb_u8(w, c->built);
		al_wb_u8(w, c->stale);
		al_wb_u8(w, c->need_fund);
		al_wb_u8(w, c->need_sign);
		al_wb_u8(w, c->has_prev);
		al_wb_bytes(w, c->prev_txid, 32);
		al_wb_bytes(w, c->txid, 32);
		al_wb_be32(w, c->feerate);
		al_wb_be64(w, c->fee.sat);
		al_wb_be64(w, c->want.sat);
		al_wb_be32(w, c->want_feerate);
		al_wb_be32(w, c->made_at);
		al_wb_be32(w, c->weight);
	}
	for (i = 0, n = 0; i < o->win_cap; i++)
		n += o->win[i].used;
	al_wb_be16(w, (uint16_t)n);
	for (i = 0; i < o->win_cap; i++) {
		const struct oc_win *x = &o->win[i];

		if (!x->used)
			continue;
		al_wb_be16(w, (uint16_t)i);
		al_wb_be32(w, x->claim);
		al_wb_bytes(w, x->txid, 32);
		al_wb_be32(w, x->vout);
		al_wb_be64(w, x->amount.sat);
		al_wb_bytes(w, x->script, 22);
		al_wb_u8(w, x->has_wit);
		al_wb_u8(w, x->sig_len);
		al_wb_bytes(w, x->sig, 73);
		al_wb_bytes(w, x->pk, 33);
	}
	for (i = 0, n = 0; i < o->txs_cap; i++)
		n += o->txs[i].used;
	al_wb_be16(w, (uint16_t)n);
	for (i = 0; i < o->txs_cap; i++) {
		const struct oc_tx *t = &o->txs[i];

		if (!t->used)
			continue;
		al_wb_be16(w, (uint16_t)i);
		al_wb_u8(w, t->reported);
		al_wb_bytes(w, t->txid, 32);
		al_wb_be32(w, t->height);
		al_wb_be64(w, t->value_in.sat);
		al_wb_be64(w, t->wallet_in.sat);
		al_wb_be64(w, t->to_wallet.sat);
		al_wb_be64(w, t->carried.sat);
		al_wb_be64(w, t->fee.sat);
	}
}

al_err al_onchain_save(const al_onchain *o, uint8_t *buf, size_t cap, size_t *len)
{
	al_wb w;

	al_wb_init(&w, buf, cap);
	al_wb_bytes(&w, "ALOC", 4);
	al_wb_u8(&w, REC_VERSION);
	al_wb_be16(&w, o->cfg.max_htlcs);
	save_static(o, &w);
	save_spend(o, &w);
	save_tables(o, &w);
	*len = w.len;
	if (!al_wb_ok(&w)) {
		al_wb_init(&w, NULL, 0);
		al_wb_bytes(&w, "ALOC", 4);
		al_wb_u8(&w, REC_VERSION);
		al_wb_be16(&w, o->cfg.max_htlcs);
		save_static(o, &w);
		save_spend(o, &w);
		save_tables(o, &w);
		*len = w.len;
		return AL_E_BUFSIZE;
	}
	return AL_OK;
}

/* --- reading ----------------------------------------------------------------------------- */

struct rd {
	al_onchain *o;
	al_cur c;
	al_err e;
};

static void bad(struct rd *r)
{
	if (r->e == AL_OK)
		r->e = AL_E_ONCHAIN_RECORD;
}

static bool r_bool(struct rd *r)
{
	uint8_t v = al_cur_u8(&r->c);

	if (v > 1)
		bad(r);
	return v == 1;
}

static void r_pk(struct rd *r, al_pubkey *p)
{
	uint8_t b[33];

	al_cur_bytes(&r->c, b, 33);
	if (al_cur_ok(&r->c) && (b[0] != 2 && b[0] != 3))
		bad(r);
	else if (al_cur_ok(&r->c) && al_pubkey_parse(r->o->env->secp, p, b, 33) != AL_OK)
		bad(r);
}

static void r_bp(struct rd *r, al_ln_basepoints *bp)
{
	r_pk(r, &bp->revocation);
	r_pk(r, &bp->payment);
	r_pk(r, &bp->delayed_payment);
	r_pk(r, &bp->htlc);
}

static void r_sig(struct rd *r, al_ecdsa_sig *s)
{
	uint8_t b[64];

	al_cur_bytes(&r->c, b, 64);
	if (al_cur_ok(&r->c) && al_ecdsa_sig_parse_compact(r->o->env->secp, s, b) != AL_OK)
		bad(r);
}

static void r_htlc(struct rd *r, al_ln_htlc *h)
{
	h->offered = r_bool(r);
	h->amount = al_msat_of(al_cur_be64(&r->c));
	al_cur_bytes(&r->c, h->payment_hash, 32);
	h->cltv_expiry = al_cur_be32(&r->c);
	if (h->cltv_expiry >= AL_LN_LOCKTIME_THRESHOLD || h->amount.msat > AL_MAX_MONEY_SAT * 1000)
		bad(r);
}

static size_t r_script(struct rd *r, uint8_t *out)
{
	size_t n = al_cur_u8(&r->c);

	if (n > AL_SIGNER_DEST_MAX) {
		bad(r);
		n = 0;
	}
	al_cur_bytes(&r->c, out, n);
	return n;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void load_static(struct rd *r)
{
	al_onchain *o = r->o;
	uint8_t t;
	size_t i;

	al_cur_bytes(&r->c, o->channel_id, 32);
	t = al_cur_u8(&r->c);
	if (t != AL_LN_CHAN_STATIC_REMOTEKEY && t != AL_LN_CHAN_ANCHORS)
		bad(r);
	o->type = (al_ln_chan_type)t;
	o->holder_is_funder = r_bool(r);
	al_cur_bytes(&r->c, o->funding_txid, 32);
	o->funding_vout = al_cur_be32(&r->c);
	o->funding = al_sat_of(al_cur_be64(&r->c));
	r_pk(r, &o->holder_funding);
	r_pk(r, &o->cp_funding);
	r_bp(r, &o->hbp);
	r_bp(r, &o->cbp);
	o->hdelay = al_cur_be16(&r->c);
	o->cdelay = al_cur_be16(&r->c);
	o->hdust = al_sat_of(al_cur_be64(&r->c));
	o->cdust = al_sat_of(al_cur_be64(&r->c));
	o->dest_len = r_script(r, o->dest);
	o->shut_len = r_script(r, o->shut);
	if (!al_sat_is_valid_money(o->funding) || !o->hdelay || !o->cdelay || !o->dest_len)
		bad(r);
	o->hold.number = al_cur_be64(&r->c);
	o->hold.to_local = al_msat_of(al_cur_be64(&r->c));
	o->hold.to_remote = al_msat_of(al_cur_be64(&r->c));
	o->hold.feerate = al_cur_be32(&r->c);
	o->hold.broadcast = r_bool(r);
	r_sig(r, &o->hold.sig);
	o->hold.n_htlcs = al_cur_be16(&r->c);
	o->hold.n_sigs = al_cur_be16(&r->c);
	if (o->hold.n_htlcs > o->cfg.max_htlcs || o->hold.n_sigs > o->hold.n_htlcs) {
		bad(r);
		o->hold.n_htlcs = o->hold.n_sigs = 0;
	}
	for (i = 0; i < o->hold.n_htlcs && al_cur_ok(&r->c); i++) {
		r_htlc(r, &o->hold_htlcs[i]);
		o->hold_hflags[i] = al_cur_u8(&r->c);
		if (o->hold_hflags[i] & ~HF_FAIL_REP)
			bad(r);
	}
	for (i = 0; i < o->hold.n_sigs && al_cur_ok(&r->c); i++)
		r_sig(r, &o->hold_sigs[i]);
	o->cp_revoked = al_cur_be64(&r->c);
	o->cp_next = al_cur_be64(&r->c);
	if (o->cp_revoked > o->cp_next)
		bad(r);
	al_shachain_init(&o->secrets);
	o->secrets.valid = al_cur_be64(&r->c);
	o->secrets.next_index = al_cur_be64(&r->c);
	o->secrets.count = al_cur_be64(&r->c);
	for (i = 0; i < AL_SHACHAIN_SLOTS && al_cur_ok(&r->c); i++) {
		if (!((o->secrets.valid >> i) & 1))
			continue;
		o->secrets.known[i].index = al_cur_be64(&r->c);
		al_cur_bytes(&r->c, o->secrets.known[i].secret, 32);
	}
	if (al_cur_ok(&r->c) && !al_shachain_valid(&o->secrets))
		bad(r);
	o->n_pre = al_cur_be16(&r->c);
	if (o->n_pre > (o->cfg.max_htlcs ? o->cfg.max_htlcs : 1)) {
		bad(r);
		o->n_pre = 0;
	}
	for (i = 0; i < o->n_pre && al_cur_ok(&r->c); i++) {
		size_t j;

		al_cur_bytes(&r->c, o->pre[i].preimage, 32);
		o->pre[i].from_chain = r_bool(r);
		al_sha256(o->pre[i].hash, o->pre[i].preimage, 32);
		for (j = 0; j < i; j++)
			if (memcmp(o->pre[j].hash, o->pre[i].hash, 32) == 0)
				bad(r);
	}
}

static void load_spend(struct rd *r)
{
	al_onchain *o = r->o;
	uint8_t pk[33];
	size_t i;

	o->sp.kind = al_cur_u8(&r->c);
	if (o->sp.kind > AL_ONCHAIN_SPEND_HOLDER_REVOKED)
		bad(r);
	o->sp.reported = r_bool(r);
	o->sp.fee_reported = r_bool(r);
	al_cur_bytes(&r->c, o->sp.txid, 32);
	o->sp.height = al_cur_be32(&r->c);
	o->sp.number = al_cur_be64(&r->c);
	o->sp.to_local = al_msat_of(al_cur_be64(&r->c));
	o->sp.to_remote = al_msat_of(al_cur_be64(&r->c));
	o->sp.feerate = al_cur_be32(&r->c);
	o->sp.has_point = r_bool(r);
	if (o->sp.has_point) {
		r_pk(r, &o->sp.point);
	} else {
		al_cur_bytes(&r->c, pk, 33);
		if (!is_zero(pk, 33))
			bad(r);
	}
	o->sp.ours = al_sat_of(al_cur_be64(&r->c));
	o->sp.n_htlcs = al_cur_be16(&r->c);
	if (o->sp.n_htlcs > o->cfg.max_htlcs) {
		bad(r);
		o->sp.n_htlcs = 0;
	}
	for (i = 0; i < o->sp.n_htlcs && al_cur_ok(&r->c); i++) {
		r_htlc(r, &o->sp_htlcs[i]);
		o->sp_hflags[i] = al_cur_u8(&r->c);
		if (o->sp_hflags[i] & ~(HF_OUTPUT | HF_PRE_REP | HF_FAIL_REP))
			bad(r);
	}
	o->height = al_cur_be32(&r->c);
	o->feerate = al_cur_be32(&r->c);
	o->warn_pending = r_bool(r);
	o->done_reported = r_bool(r);
	o->warn_err = (al_err)al_cur_be16(&r->c);
	if ((unsigned)o->warn_err >= (unsigned)AL_E_COUNT_)
		bad(r);
	/* A spend of nothing is all zeros. */
	if (o->sp.kind == AL_ONCHAIN_SPEND_NONE &&
	    (o->sp.reported || o->sp.fee_reported || !is_zero(o->sp.txid, 32) || o->sp.height ||
	     o->sp.number || o->sp.has_point || o->sp.n_htlcs))
		bad(r);
	/* The keys of a commitment come with its point. */
	if (o->sp.has_point !=
	    (o->sp.kind == AL_ONCHAIN_SPEND_HOLDER || o->sp.kind == AL_ONCHAIN_SPEND_COUNTERPARTY ||
	     o->sp.kind == AL_ONCHAIN_SPEND_REVOKED))
		bad(r);
	if (r->e == AL_OK && o->sp.has_point &&
	    al_ln_keyset_derive(o->env->secp, &o->sp.keys,
	                        o->sp.kind == AL_ONCHAIN_SPEND_HOLDER ? &o->hbp : &o->cbp,
	                        o->sp.kind == AL_ONCHAIN_SPEND_HOLDER ? &o->cbp : &o->hbp,
	                        &o->sp.point) != AL_OK)
		bad(r);
}

/* Slots: in range and strictly increasing. */
static size_t r_slot(struct rd *r, size_t cap, long *last)
{
	size_t s = al_cur_be16(&r->c);

	if (s >= cap || (long)s <= *last) {
		bad(r);
		return SIZE_MAX;
	}
	*last = (long)s;
	return s;
}

static void load_rows(struct rd *r)
{
	al_onchain *o = r->o;
	size_t n = al_cur_be16(&r->c), i;
	long last = -1;

	for (i = 0; i < n && al_cur_ok(&r->c) && r->e == AL_OK; i++) {
		size_t s = r_slot(r, o->outs_cap, &last);
		struct oc_out x;
		uint8_t f;

		memset(&x, 0, sizeof(x));
		x.used = true;
		x.kind = al_cur_u8(&r->c);
		x.how = al_cur_u8(&r->c);
		f = al_cur_u8(&r->c);
		if (al_cur_u8(&r->c) || (f & ~0x1fu))
			bad(r);
		x.reported = f & 1;
		x.dust = f & 2;
		x.spent = f & 4;
		x.spent_ours = f & 8;
		/* Its spends were looked up once: the node's sync keeps watching it. */
		x.checked = f & 16;
		al_cur_bytes(&r->c, x.txid, 32);
		x.vout = al_cur_be32(&r->c);
		x.amount = al_sat_of(al_cur_be64(&r->c));
		x.height = al_cur_be32(&r->c);
		x.htlc = al_cur_be32(&r->c);
		x.claim = al_cur_be32(&r->c);
		if (al_cur_be16(&r->c))
			bad(r);
		al_cur_bytes(&r->c, x.spender, 32);
		x.spend_height = al_cur_be32(&r->c);
		if (x.kind < AL_ONCHAIN_OUT_TO_LOCAL || x.kind > AL_ONCHAIN_OUT_REVOKED_SECOND ||
		    x.how > AL_ONCHAIN_HOW_EXPIRED || !al_sat_is_valid_money(x.amount) ||
		    (x.htlc != OC_NONE && x.htlc >= o->sp.n_htlcs) ||
		    (x.claim != OC_NONE && x.claim >= o->claims_cap) ||
		    (!x.spent && (x.spent_ours || x.spend_height || !is_zero(x.spender, 32))) ||
		    (x.reported && x.how == AL_ONCHAIN_HOW_OPEN) ||
		    (x.how != AL_ONCHAIN_HOW_OPEN && x.claim != OC_NONE))
			bad(r);
		if (s != SIZE_MAX && r->e == AL_OK)
			o->outs[s] = x;
	}
}

static void load_claims(struct rd *r)
{
	al_onchain *o = r->o;
	size_t n = al_cur_be16(&r->c), i;
	long last = -1;

	for (i = 0; i < n && al_cur_ok(&r->c) && r->e == AL_OK; i++) {
		size_t s = r_slot(r, o->claims_cap, &last);
		struct oc_claim x;

		memset(&x, 0, sizeof(x));
		x.used = true;
		x.kind = al_cur_u8(&r->c);
		x.built = r_bool(r);
		x.stale = r_bool(r);
		x.need_fund = r_bool(r);
		x.need_sign = r_bool(r);
		x.has_prev = r_bool(r);
		al_cur_bytes(&r->c, x.prev_txid, 32);
		al_cur_bytes(&r->c, x.txid, 32);
		x.feerate = al_cur_be32(&r->c);
		x.fee = al_sat_of(al_cur_be64(&r->c));
		x.want = al_sat_of(al_cur_be64(&r->c));
		x.want_feerate = al_cur_be32(&r->c);
		x.made_at = al_cur_be32(&r->c);
		x.weight = al_cur_be32(&r->c);
		if (x.kind < AL_ONCHAIN_CLAIM_COMMIT || x.kind > AL_ONCHAIN_CLAIM_HTLC ||
		    (s == OC_CLAIM_COMMIT) != (x.kind == AL_ONCHAIN_CLAIM_COMMIT) ||
		    (s == OC_CLAIM_CPFP) != (x.kind == AL_ONCHAIN_CLAIM_CPFP) ||
		    (!x.has_prev && !is_zero(x.prev_txid, 32)) || !al_sat_is_valid_money(x.fee) ||
		    !al_sat_is_valid_money(x.want))
			bad(r);
		if (s != SIZE_MAX && r->e == AL_OK)
			o->claims[s] = x;
	}
}

static void load_wallet(struct rd *r)
{
	al_onchain *o = r->o;
	size_t n = al_cur_be16(&r->c), i;
	long last = -1;

	for (i = 0; i < n && al_cur_ok(&r->c) && r->e == AL_OK; i++) {
		size_t s = r_slot(r, o->win_cap, &last);
		struct oc_win x;

		memset(&x, 0, sizeof(x));
		x.used = true;
		x.claim = al_cur_be32(&r->c);
		al_cur_bytes(&r->c, x.txid, 32);
		x.vout = al_cur_be32(&r->c);
		x.amount = al_sat_of(al_cur_be64(&r->c));
		al_cur_bytes(&r->c, x.script, 22);
		x.has_wit = r_bool(r);
		x.sig_len = al_cur_u8(&r->c);
		al_cur_bytes(&r->c, x.sig, 73);
		al_cur_bytes(&r->c, x.pk, 33);
		if ((x.claim != OC_NONE && x.claim >= o->claims_cap) || x.script[0] != 0 ||
		    x.script[1] != 20 || !al_sat_is_valid_money(x.amount) || x.sig_len > 73 ||
		    (!x.has_wit && (x.sig_len || !is_zero(x.sig, 73) || !is_zero(x.pk, 33))) ||
		    (x.has_wit && !is_zero(x.sig + x.sig_len, 73 - (size_t)x.sig_len)))
			bad(r);
		if (s != SIZE_MAX && r->e == AL_OK)
			o->win[s] = x;
	}
}

static void load_txs(struct rd *r)
{
	al_onchain *o = r->o;
	size_t n = al_cur_be16(&r->c), i;
	long last = -1;

	for (i = 0; i < n && al_cur_ok(&r->c) && r->e == AL_OK; i++) {
		size_t s = r_slot(r, o->txs_cap, &last);
		struct oc_tx x;

		memset(&x, 0, sizeof(x));
		x.used = true;
		x.reported = r_bool(r);
		al_cur_bytes(&r->c, x.txid, 32);
		x.height = al_cur_be32(&r->c);
		x.value_in = al_sat_of(al_cur_be64(&r->c));
		x.wallet_in = al_sat_of(al_cur_be64(&r->c));
		x.to_wallet = al_sat_of(al_cur_be64(&r->c));
		x.carried = al_sat_of(al_cur_be64(&r->c));
		x.fee = al_sat_of(al_cur_be64(&r->c));
		if (s != SIZE_MAX && r->e == AL_OK)
			o->txs[s] = x;
	}
}

/* References between tables point at used slots. */
static void check_refs(struct rd *r)
{
	al_onchain *o = r->o;
	size_t i;

	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].claim != OC_NONE &&
		    !o->claims[o->outs[i].claim].used)
			bad(r);
	for (i = 0; i < o->win_cap; i++)
		if (o->win[i].used && o->win[i].claim != OC_NONE &&
		    !o->claims[o->win[i].claim].used)
			bad(r);
}

al_err al_onchain_load(al_onchain **out, void *mem, size_t len, al_onchain_env *env,
                       const al_onchain_config *cfg, al_signer *signer, const uint8_t *rec,
                       size_t rec_len)
{
	al_onchain *o = mem;
	uint8_t magic[5];
	struct rd r;
	size_t i;

	*out = NULL;
	AL_TRY(al_onchain_config_check(cfg));
	if (!mem || len < al_onchain__mem_size(cfg) || ((uintptr_t)mem % 16) != 0 || !env ||
	    !signer || !rec)
		return AL_E_ARG;
	al_onchain__layout(o, mem, len, cfg);
	o->env = env;
	o->signer = signer;
	memset(&r, 0, sizeof(r));
	r.o = o;
	al_cur_init(&r.c, rec, rec_len);
	al_cur_bytes(&r.c, magic, 5);
	if (al_cur_ok(&r.c) && memcmp(magic, "ALOC", 4) != 0)
		r.e = AL_E_ONCHAIN_RECORD;
	else if (al_cur_ok(&r.c) && magic[4] != REC_VERSION)
		r.e = AL_E_ONCHAIN_RECORD_VERSION;
	if (al_cur_ok(&r.c) && r.e == AL_OK && al_cur_be16(&r.c) != cfg->max_htlcs)
		r.e = AL_E_ONCHAIN_RECORD;
	if (r.e == AL_OK)
		load_static(&r);
	if (r.e == AL_OK)
		load_spend(&r);
	if (r.e == AL_OK)
		load_rows(&r);
	if (r.e == AL_OK)
		load_claims(&r);
	if (r.e == AL_OK)
		load_wallet(&r);
	if (r.e == AL_OK)
		load_txs(&r);
	if (r.e == AL_OK)
		check_refs(&r);
	if (r.e == AL_OK && !al_cur_ok(&r.c))
		r.e = r.c.err;
	if (r.e == AL_OK && al_cur_remaining(&r.c))
		r.e = AL_E_ONCHAIN_RECORD;
	if (r.e == AL_OK) {
		/* The channel's secrets again: the signer's destination, our commitment. */
		const al_pubkey *opener = o->holder_is_funder ? &o->hbp.payment : &o->cbp.payment;
		const al_pubkey *accepter = o->holder_is_funder ? &o->cbp.payment : &o->hbp.payment;

		o->obscurer = al_ln_commitment_obscurer(env->secp, opener, accepter);
		if (al_signer_set_destination(signer, o->dest, o->dest_len) != AL_OK ||
		    al_onchain__holder_derive(o) != AL_OK)
			r.e = AL_E_ONCHAIN_RECORD;
	}
	if (r.e != AL_OK) {
		al_onchain_clear(o);
		return r.e == AL_E_TRUNCATED ? AL_E_TRUNCATED : r.e;
	}
	/* Volatile flags: watch and rebroadcast everything again. */
	for (i = 0; i < o->claims_cap; i++)
		o->claims[i].bcast =
		    o->claims[i].used && (o->claims[i].built || i == OC_CLAIM_COMMIT);
	if (o->sp.kind != AL_ONCHAIN_SPEND_NONE || o->hold.broadcast) {
		/* settle's DONE is derived. */
		bool open = false;

		for (i = 0; i < o->outs_cap; i++)
			open |= o->outs[i].used && o->outs[i].how == AL_ONCHAIN_HOW_OPEN;
		if (!open && o->sp.kind != AL_ONCHAIN_SPEND_NONE &&
		    al_onchain__final(o, o->sp.height))
			o->state |= AL_ONCHAIN_ST_DONE;
	}
	*out = o;
	return AL_OK;
}
