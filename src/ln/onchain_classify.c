/* BOLT #5 classification: which commitment spent the funding output, which of its
 * outputs are ours to claim or to punish, and what every later transaction spending
 * them means (our claim, the counterparty's spend, a second-stage transaction, a
 * preimage revealed). */
#include <string.h>

#include "btc/script.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/onchain_int.h"
#include "ln/scripts.h"

/* --- commitments --------------------------------------------------------------------- */

al_err al_onchain__params(const al_onchain *o, bool holder, uint64_t n, const al_pubkey *point,
                          al_msat to_local, al_msat to_remote, uint32_t feerate,
                          const al_ln_htlc *h, size_t nh, al_ln_commit_params *p)
{
	memset(p, 0, sizeof(*p));
	p->type = o->type;
	memcpy(p->funding_txid, o->funding_txid, 32);
	p->funding_vout = o->funding_vout;
	p->funding_amount = o->funding;
	p->local_funding = holder ? o->holder_funding : o->cp_funding;
	p->remote_funding = holder ? o->cp_funding : o->holder_funding;
	p->commitment_number = n;
	p->obscurer = o->obscurer;
	p->local_is_funder = holder == o->holder_is_funder;
	p->to_local = to_local;
	p->to_remote = to_remote;
	p->feerate_per_kw = feerate;
	/* The owner's dust limit; the delay the other side imposed on the owner. */
	p->dust_limit = holder ? o->hdust : o->cdust;
	p->to_self_delay = holder ? o->cdelay : o->hdelay;
	p->htlcs = h;
	p->n_htlcs = nh;
	return al_ln_keyset_derive(o->env->secp, &p->keys, holder ? &o->hbp : &o->cbp,
	                           holder ? &o->cbp : &o->hbp, point);
}

al_err al_onchain__holder_commit(const al_onchain *o, al_arena *a, al_ln_commit *c)
{
	al_ln_commit_params p;
	al_pubkey point;

	AL_TRY(al_signer_holder_point(o->signer, o->hold.number, &point));
	AL_TRY(al_onchain__params(o, true, o->hold.number, &point, o->hold.to_local,
	                          o->hold.to_remote, o->hold.feerate, o->hold_htlcs,
	                          o->hold.n_htlcs, &p));
	return al_ln_commit_build(o->env->secp, c, a, &p);
}

al_err al_onchain__holder_derive(al_onchain *o)
{
	al_arena *a = o->env->scratch;
	size_t mark = al_arena_mark(a), i;
	al_ln_commit c;
	al_sat stake = al_sat_of(0);
	al_err e;

	e = al_onchain__holder_commit(o, a, &c);
	if (e == AL_OK && c.n_untrimmed_htlcs != o->hold.n_sigs)
		e = AL_E_ARG;
	if (e == AL_OK) {
		al_tx_txid(&c.tx, o->hold.txid);
		o->hold.fee = c.fee;
		/* BOLT #3 Appendix A expected weight, the one its fee pays for. */
		o->hold.weight = (uint32_t)((o->type == AL_LN_CHAN_ANCHORS ? 1124 : 724) +
		                            172 * c.n_untrimmed_htlcs);
		for (i = 0; i < c.tx.n_out; i++)
			if (c.outs[i].kind == AL_LN_OUT_TO_LOCAL ||
			    c.outs[i].kind == AL_LN_OUT_HTLC)
				if (!al_sat_add(&stake, stake, c.tx.out[i].amount))
					e = AL_E_OVERFLOW;
		o->hold.stake = stake;
	}
	al_arena_release(a, mark);
	return e;
}

/* --- rows ------------------------------------------------------------------------------- */

static uint32_t add_row(al_onchain *o, uint8_t kind, const uint8_t txid[32], uint32_t vout,
                        al_sat amount, uint32_t height, uint32_t htlc)
{
	size_t i;

	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];

		if (r->used)
			continue;
		memset(r, 0, sizeof(*r));
		r->used = true;
		r->kind = kind;
		memcpy(r->txid, txid, 32);
		r->vout = vout;
		r->amount = amount;
		r->height = height;
		r->htlc = htlc;
		r->claim = OC_NONE;
		o->dirty = true;
		return (uint32_t)i;
	}
	return OC_NONE;
}

static struct oc_out *find_row(al_onchain *o, const uint8_t txid[32], uint32_t vout)
{
	size_t i;

	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used && o->outs[i].vout == vout &&
		    memcmp(o->outs[i].txid, txid, 32) == 0)
			return &o->outs[i];
	return NULL;
}

static void free_row(al_onchain *o, struct oc_out *r)
{
	uint32_t k = r->claim;

	memset(r, 0, sizeof(*r));
	r->claim = OC_NONE;
	if (k != OC_NONE && o->claims[k].used)
		o->claims[k].stale = true;
	o->dirty = true;
}

void al_onchain__clear_spend(al_onchain *o)
{
	size_t i;

	for (i = 0; i < o->outs_cap; i++)
		if (o->outs[i].used)
			free_row(o, &o->outs[i]);
	for (i = 0; i < o->claims_cap; i++)
		if (o->claims[i].used && i != OC_CLAIM_COMMIT)
			al_onchain__free_claim(o, (uint32_t)i);
	for (i = 0; i < o->txs_cap; i++)
		memset(&o->txs[i], 0, sizeof(o->txs[i]));
	memset(&o->sp, 0, sizeof(o->sp));
	o->sp.kind = AL_ONCHAIN_SPEND_NONE;
	memset(o->sp_hflags, 0, o->cfg.max_htlcs);
	o->done_reported = false;
	o->dirty = true;
}

/* The commitment's rows, from its rebuilt outputs. */
static al_err rows_from_commit(al_onchain *o, const al_ln_commit *c, bool holder, bool revoked)
{
	size_t i;

	for (i = 0; i < c->tx.n_out; i++) {
		const al_ln_commit_out *co = &c->outs[i];
		uint32_t htlc = OC_NONE;
		uint8_t kind = 0;

		switch (co->kind) {
		case AL_LN_OUT_TO_LOCAL:
			/* Ours after to_self_delay; theirs is ours only if revoked. */
			kind = holder ? AL_ONCHAIN_OUT_TO_LOCAL
			              : (revoked ? AL_ONCHAIN_OUT_REVOKED_TO_LOCAL : 0);
			break;
		case AL_LN_OUT_TO_REMOTE:
			/* BOLT #5: "MAY ignore the `to_remote` output" of ours (it is theirs);
			 * on theirs it is ours, to sweep to the wallet. */
			kind = holder ? 0 : AL_ONCHAIN_OUT_TO_REMOTE;
			break;
		case AL_LN_OUT_LOCAL_ANCHOR:
			kind = holder ? AL_ONCHAIN_OUT_ANCHOR : 0;
			break;
		case AL_LN_OUT_REMOTE_ANCHOR:
			break;
		case AL_LN_OUT_HTLC:
			htlc = (uint32_t)co->htlc;
			o->sp_hflags[htlc] |= HF_OUTPUT;
			if (holder)
				kind = o->sp_htlcs[htlc].offered ? AL_ONCHAIN_OUT_HTLC_TIMEOUT
				                                 : AL_ONCHAIN_OUT_HTLC_SUCCESS;
			else if (revoked)
				kind = AL_ONCHAIN_OUT_REVOKED_HTLC;
			else
				kind = o->sp_htlcs[htlc].offered ? AL_ONCHAIN_OUT_CP_SUCCESS
				                                 : AL_ONCHAIN_OUT_CP_TIMEOUT;
			break;
		}
		if (kind && add_row(o, kind, o->sp.txid, (uint32_t)i, c->tx.out[i].amount,
		                    o->sp.height, htlc) == OC_NONE)
			return AL_E_ONCHAIN_FULL;
	}
	return AL_OK;
}

static void set_spend(al_onchain *o, uint8_t kind, const uint8_t txid[32], uint32_t height,
                      uint64_t n)
{
	al_onchain__clear_spend(o);
	o->sp.kind = kind;
	memcpy(o->sp.txid, txid, 32);
	o->sp.height = height;
	o->sp.number = n;
}

al_err al_onchain__set_holder_pending(al_onchain *o)
{
	al_arena *a = o->env->scratch;
	size_t mark = al_arena_mark(a);
	al_ln_commit c;
	al_err e;

	set_spend(o, AL_ONCHAIN_SPEND_HOLDER, o->hold.txid, 0, o->hold.number);
	o->sp.to_local = o->hold.to_local;
	o->sp.to_remote = o->hold.to_remote;
	o->sp.feerate = o->hold.feerate;
	o->sp.n_htlcs = o->hold.n_htlcs;
	memcpy(o->sp_htlcs, o->hold_htlcs, o->hold.n_htlcs * sizeof(al_ln_htlc));
	e = al_signer_holder_point(o->signer, o->hold.number, &o->sp.point);
	o->sp.has_point = e == AL_OK;
	if (e == AL_OK)
		e = al_onchain__holder_commit(o, a, &c);
	if (e == AL_OK) {
		o->sp.keys = c.p.keys;
		e = rows_from_commit(o, &c, true, false);
	}
	al_arena_release(a, mark);
	return e;
}

/* --- the monitor entry -------------------------------------------------------------- */

struct monitor {
	uint64_t number;
	al_pubkey point;
	uint8_t txid[32];
	uint32_t feerate;
	al_msat to_local, to_remote;
	size_t n;
	al_ln_htlc *htlcs;
};

/* The channel's monitor entry (ln/channel_commit.c al_chan__monitor, version 1):
 * "ALMN" 01, channel_id, commitment number, the peer's per-commitment point, its
 * txid, feerate, to_local and to_remote (the peer's view) in msat, u16 n and per HTLC
 * offered-by-the-peer byte, amount_msat, payment_hash, cltv_expiry. */
static al_err parse_monitor(const al_onchain *o, const uint8_t *m, size_t len, al_arena *a,
                            struct monitor *out)
{
	uint8_t magic[5], cid[32], pk[33];
	size_t i;
	al_cur c;

	memset(out, 0, sizeof(*out));
	al_cur_init(&c, m, len);
	al_cur_bytes(&c, magic, 5);
	al_cur_bytes(&c, cid, 32);
	out->number = al_cur_be64(&c);
	al_cur_bytes(&c, pk, 33);
	al_cur_bytes(&c, out->txid, 32);
	out->feerate = al_cur_be32(&c);
	out->to_local = al_msat_of(al_cur_be64(&c));
	out->to_remote = al_msat_of(al_cur_be64(&c));
	out->n = al_cur_be16(&c);
	if (!al_cur_ok(&c))
		return AL_E_ONCHAIN_MONITOR;
	if (memcmp(magic, "ALMN\x01", 5) != 0 || memcmp(cid, o->channel_id, 32) != 0 ||
	    out->n > o->cfg.max_htlcs ||
	    al_pubkey_parse(o->env->secp, &out->point, pk, 33) != AL_OK)
		return AL_E_ONCHAIN_MONITOR;
	if (al_arena_alloc(a, (out->n ? out->n : 1) * sizeof(al_ln_htlc), _Alignof(al_ln_htlc),
	                   (void **)&out->htlcs) != AL_OK)
		return AL_E_NOMEM;
	for (i = 0; i < out->n; i++) {
		uint8_t off = al_cur_u8(&c);

		out->htlcs[i].offered = off == 1;
		out->htlcs[i].amount = al_msat_of(al_cur_be64(&c));
		al_cur_bytes(&c, out->htlcs[i].payment_hash, 32);
		out->htlcs[i].cltv_expiry = al_cur_be32(&c);
		if (off > 1)
			return AL_E_ONCHAIN_MONITOR;
	}
	if (al_cur_done(&c) != AL_OK)
		return AL_E_ONCHAIN_MONITOR;
	return AL_OK;
}

/* --- the funding spend --------------------------------------------------------------- */

bool al_onchain_commitment_number(const al_onchain *o, const uint8_t *raw, size_t len,
                                  uint64_t *number)
{
	al_arena *a = o->env->scratch;
	size_t mark = al_arena_mark(a);
	bool ok = false;
	al_tx tx;

	*number = 0;
	if (al_tx_parse(&tx, a, raw, len) == AL_OK && tx.n_in == 1 &&
	    memcmp(tx.in[0].txid, o->funding_txid, 32) == 0 && tx.in[0].vout == o->funding_vout &&
	    (tx.locktime >> 24) == 0x20 && (tx.in[0].sequence >> 24) == 0x80) {
		/* BOLT #3: "locktime: upper 8 bits are 0x20, lower 24 bits are the lower 24
		 * bits of the obscured commitment number"; "sequence: upper 8 bits are 0x80,
		 * lower 24 bits are upper 24 bits of the obscured commitment number". */
		*number =
		    ((((uint64_t)tx.in[0].sequence & 0xFFFFFF) << 24) | (tx.locktime & 0xFFFFFF)) ^
		    o->obscurer;
		ok = true;
	}
	al_arena_release(a, mark);
	return ok;
}

static bool same_txid(const al_ln_commit *c, const uint8_t txid[32])
{
	uint8_t t[32];

	al_tx_txid(&c->tx, t);
	return memcmp(t, txid, 32) == 0;
}

/* Rows by script alone, for a counterparty commitment we hold no entry of: our
 * to_remote (BOLT #5: "It can derive its own `remotepubkey` for the transaction, in
 * order to salvage its own funds") and, if revoked, its to_local. */
static al_err rows_by_script(al_onchain *o, const al_tx *tx, bool revoked)
{
	const al_secp *ctx = o->env->secp;
	uint8_t ws[AL_LN_MAX_WSCRIPT], remote[34], local[34];
	size_t rl, ll = 0, i;
	al_wb w, s;

	al_wb_init(&s, remote, sizeof(remote));
	if (o->type == AL_LN_CHAN_ANCHORS) {
		al_wb_init(&w, ws, sizeof(ws));
		al_ln_to_remote_anchors_script(&w, ctx, &o->hbp.payment);
		al_script_p2wsh(&s, ws, w.len);
	} else {
		al_script_p2wpkh_pubkey(&s, ctx, &o->hbp.payment);
	}
	rl = s.len;
	if (revoked) {
		al_wb_init(&w, ws, sizeof(ws));
		al_ln_to_local_script(&w, ctx, &o->sp.keys.revocation, o->hdelay,
		                      &o->sp.keys.local_delayed);
		al_wb_init(&s, local, sizeof(local));
		al_script_p2wsh(&s, ws, w.len);
		ll = s.len;
	}
	for (i = 0; i < tx->n_out; i++) {
		const al_bytes *sc = &tx->out[i].script;
		uint8_t kind = 0;

		if (sc->len == rl && memcmp(sc->p, remote, rl) == 0)
			kind = AL_ONCHAIN_OUT_TO_REMOTE;
		else if (ll && sc->len == ll && memcmp(sc->p, local, ll) == 0)
			kind = AL_ONCHAIN_OUT_REVOKED_TO_LOCAL;
		if (kind && add_row(o, kind, o->sp.txid, (uint32_t)i, tx->out[i].amount,
		                    o->sp.height, OC_NONE) == OC_NONE)
			return AL_E_ONCHAIN_FULL;
	}
	return AL_OK;
}

/* Is it a revoked commitment of ours (a to_local at our point n)? */
static bool holder_revoked(const al_onchain *o, const al_tx *tx, uint64_t n)
{
	const al_secp *ctx = o->env->secp;
	uint8_t ws[AL_LN_MAX_WSCRIPT], spk[34];
	al_pubkey point;
	al_ln_keyset k;
	size_t i;
	al_wb w, s;

	if (n >= o->hold.number || al_signer_holder_point(o->signer, n, &point) != AL_OK ||
	    al_ln_keyset_derive(ctx, &k, &o->hbp, &o->cbp, &point) != AL_OK)
		return false;
	al_wb_init(&w, ws, sizeof(ws));
	al_ln_to_local_script(&w, ctx, &k.revocation, o->cdelay, &k.local_delayed);
	al_wb_init(&s, spk, sizeof(spk));
	al_script_p2wsh(&s, ws, w.len);
	for (i = 0; i < tx->n_out; i++)
		if (tx->out[i].script.len == s.len && memcmp(tx->out[i].script.p, spk, s.len) == 0)
			return true;
	return false;
}

/* A counterparty commitment with its entry: rebuilt exactly, or refused. */
static al_err counterparty(al_onchain *o, const uint8_t txid[32], uint32_t height, uint64_t n,
                           const struct monitor *m)
{
	al_arena *a = o->env->scratch;
	bool revoked = n < o->cp_revoked;
	uint8_t secret[32];
	al_ln_commit_params p;
	al_pubkey point;
	al_ln_commit c;
	al_err e;

	if (revoked) {
		/* The point must be the one the revealed secret makes. */
		AL_TRY(al_shachain_get(&o->secrets, al_shachain_index_of(n), secret));
		e = al_ln_per_commitment_point(o->env->secp, &point, secret);
		al_memzero(secret, sizeof(secret));
		AL_TRY(e);
		if (!al_pubkey_eq(o->env->secp, &point, &m->point))
			return AL_E_ONCHAIN_MONITOR;
	}
	AL_TRY(al_onchain__params(o, false, n, &m->point, m->to_local, m->to_remote, m->feerate,
	                          m->htlcs, m->n, &p));
	if (al_ln_commit_build(o->env->secp, &c, a, &p) != AL_OK || !same_txid(&c, txid))
		return AL_E_ONCHAIN_MONITOR;
	set_spend(o, revoked ? AL_ONCHAIN_SPEND_REVOKED : AL_ONCHAIN_SPEND_COUNTERPARTY, txid,
	          height, n);
	o->sp.to_local = m->to_local;
	o->sp.to_remote = m->to_remote;
	o->sp.feerate = m->feerate;
	o->sp.n_htlcs = m->n;
	memcpy(o->sp_htlcs, m->htlcs, m->n * sizeof(al_ln_htlc));
	o->sp.point = m->point;
	o->sp.has_point = true;
	o->sp.keys = p.keys;
	return rows_from_commit(o, &c, false, revoked);
}

/* A counterparty commitment without an entry: what scripts alone tell. */
static al_err counterparty_unknown(al_onchain *o, const al_tx *tx, const uint8_t txid[32],
                                   uint32_t height, uint64_t n)
{
	bool revoked = n < o->cp_revoked;
	uint8_t secret[32];
	al_pubkey point;
	al_err e = AL_OK;

	if (revoked) {
		AL_TRY(al_shachain_get(&o->secrets, al_shachain_index_of(n), secret));
		e = al_ln_per_commitment_point(o->env->secp, &point, secret);
		al_memzero(secret, sizeof(secret));
		AL_TRY(e);
	}
	set_spend(o, revoked ? AL_ONCHAIN_SPEND_REVOKED : AL_ONCHAIN_SPEND_UNKNOWN_CP, txid, height,
	          n);
	if (revoked) {
		o->sp.point = point;
		o->sp.has_point = true;
		AL_TRY(al_ln_keyset_derive(o->env->secp, &o->sp.keys, &o->cbp, &o->hbp, &point));
	}
	AL_TRY(rows_by_script(o, tx, revoked));
	/* Its HTLC outputs (if any) cannot be identified. */
	o->warn_pending = true;
	o->warn_err = AL_E_ONCHAIN_MONITOR;
	return AL_OK;
}

static void mutual(al_onchain *o, const al_tx *tx, const uint8_t txid[32], uint32_t height)
{
	al_sat ours = al_sat_of(0);
	size_t i;

	set_spend(o, AL_ONCHAIN_SPEND_MUTUAL, txid, height, 0);
	for (i = 0; i < tx->n_out; i++)
		if (o->shut_len && tx->out[i].script.len == o->shut_len &&
		    memcmp(tx->out[i].script.p, o->shut, o->shut_len) == 0 &&
		    !al_sat_add(&ours, ours, tx->out[i].amount))
			ours = al_sat_of(0);
	o->sp.ours = ours;
}

al_err al_onchain__funding_spend(al_onchain *o, const al_tx *tx, const uint8_t txid[32],
                                 uint32_t height, const uint8_t *monitor, size_t mlen)
{
	al_arena *a = o->env->scratch;
	size_t mark = al_arena_mark(a);
	struct monitor m;
	uint64_t n = 0;
	bool shaped;
	al_err e;

	if (memcmp(txid, o->hold.txid, 32) == 0) {
		/* Ours, seen: its rows as when it was pending, now at a height. */
		e = al_onchain__set_holder_pending(o);
		if (e == AL_OK)
			o->sp.height = height;
		for (size_t i = 0; e == AL_OK && i < o->outs_cap; i++)
			if (o->outs[i].used)
				o->outs[i].height = height;
		return e;
	}
	shaped =
	    tx->n_in == 1 && (tx->locktime >> 24) == 0x20 && (tx->in[0].sequence >> 24) == 0x80;
	if (shaped)
		n = ((((uint64_t)tx->in[0].sequence & 0xFFFFFF) << 24) |
		     (tx->locktime & 0xFFFFFF)) ^
		    o->obscurer;
	if (monitor) {
		/* Commitment numbers of both sides collide: an entry of another transaction
		 * (ours of the same number) is not this one's. */
		e = parse_monitor(o, monitor, mlen, a, &m);
		if (e == AL_OK && (!shaped || m.number != n || n >= o->cp_next))
			e = AL_E_ONCHAIN_MONITOR;
		if (e == AL_OK && memcmp(m.txid, txid, 32) == 0) {
			e = counterparty(o, txid, height, n, &m);
			al_arena_release(a, mark);
			return e;
		}
		al_arena_release(a, mark);
		AL_TRY(e);
	}
	if (!shaped) {
		/* BOLT #3 closing transaction: "locktime: 0", "txin[0] sequence: 0xFFFFFFFF"
		 * (any other spend of the 2-of-2 needs our signature too). */
		mutual(o, tx, txid, height);
		return AL_OK;
	}
	if (holder_revoked(o, tx, n)) {
		/* BOLT #5: its outputs are the counterparty's to punish; nothing to do. */
		set_spend(o, AL_ONCHAIN_SPEND_HOLDER_REVOKED, txid, height, n);
		o->warn_pending = true;
		o->warn_err = AL_E_ONCHAIN_SIGN_REVOKED;
		return AL_OK;
	}
	return counterparty_unknown(o, tx, txid, height, n);
}

/* --- spends of rows ------------------------------------------------------------------- */

al_err al_onchain__second_spk(const al_onchain *o, bool holder, uint8_t spk[34])
{
	uint8_t ws[AL_LN_MAX_WSCRIPT];
	al_wb w, s;

	/* BOLT #3 HTLC-timeout/-success output: the to_local form at the commitment's keys
	 * with the owner's delay. */
	al_wb_init(&w, ws, sizeof(ws));
	al_ln_to_local_script(&w, o->env->secp, &o->sp.keys.revocation,
	                      holder ? o->cdelay : o->hdelay, &o->sp.keys.local_delayed);
	al_wb_init(&s, spk, 34);
	al_script_p2wsh(&s, ws, w.len);
	return al_wb_ok(&s) ? AL_OK : s.err;
}

al_err al_onchain__row_script(const al_onchain *o, const struct oc_out *r, al_wb *w)
{
	const al_secp *ctx = o->env->secp;
	const al_ln_keyset *k = &o->sp.keys;
	bool anchors = o->type == AL_LN_CHAN_ANCHORS;
	const al_ln_htlc *h = r->htlc < o->sp.n_htlcs ? &o->sp_htlcs[r->htlc] : NULL;

	switch (r->kind) {
	case AL_ONCHAIN_OUT_TO_LOCAL:
	case AL_ONCHAIN_OUT_SECOND:
		al_ln_to_local_script(w, ctx, &k->revocation, o->cdelay, &k->local_delayed);
		break;
	case AL_ONCHAIN_OUT_REVOKED_TO_LOCAL:
	case AL_ONCHAIN_OUT_REVOKED_SECOND:
		al_ln_to_local_script(w, ctx, &k->revocation, o->hdelay, &k->local_delayed);
		break;
	case AL_ONCHAIN_OUT_ANCHOR:
		al_ln_anchor_script(w, ctx, &o->holder_funding);
		break;
	case AL_ONCHAIN_OUT_TO_REMOTE:
		if (anchors)
			al_ln_to_remote_anchors_script(w, ctx, &o->hbp.payment);
		break;
	case AL_ONCHAIN_OUT_HTLC_TIMEOUT:
	case AL_ONCHAIN_OUT_HTLC_SUCCESS:
	case AL_ONCHAIN_OUT_CP_TIMEOUT:
	case AL_ONCHAIN_OUT_CP_SUCCESS:
	case AL_ONCHAIN_OUT_REVOKED_HTLC:
		if (!h)
			return AL_E_ARG;
		if (h->offered)
			al_ln_offered_htlc_script(w, ctx, k, h->payment_hash, anchors);
		else
			al_ln_received_htlc_script(w, ctx, k, h->payment_hash, h->cltv_expiry,
			                           anchors);
		break;
	default:
		return AL_E_ARG;
	}
	return al_wb_ok(w) ? AL_OK : w->err;
}

/* An HTLC row's preimage, if input `in` reveals it: any 32-byte witness item hashing
 * to the payment hash (BOLT #5: "MUST extract the payment preimage from the ...
 * input witness"). */
static void extract_preimage(al_onchain *o, const struct oc_out *r, const al_tx_in *in)
{
	uint8_t h[32];
	size_t i;

	if (r->htlc >= o->sp.n_htlcs)
		return;
	for (i = 0; i + 1 < in->n_witness; i++) {
		if (in->witness[i].len != 32)
			continue;
		al_sha256(h, in->witness[i].p, 32);
		if (memcmp(h, o->sp_htlcs[r->htlc].payment_hash, 32) == 0 &&
		    !al_onchain__find_pre(o, h)) {
			if (al_onchain__add_pre(o, in->witness[i].p, true) == AL_OK)
				o->dirty = true;
			return;
		}
	}
}

static bool is_htlc_row(uint8_t kind)
{
	return kind == AL_ONCHAIN_OUT_HTLC_TIMEOUT || kind == AL_ONCHAIN_OUT_HTLC_SUCCESS ||
	       kind == AL_ONCHAIN_OUT_CP_TIMEOUT || kind == AL_ONCHAIN_OUT_CP_SUCCESS ||
	       kind == AL_ONCHAIN_OUT_REVOKED_HTLC;
}

/* Ours: every output pays the destination, or is the second-stage output of our own
 * HTLC transaction (output i of an input i spending one of our HTLC rows). */
static bool is_ours(const al_onchain *o, const al_tx *tx, const uint32_t *row_of_in,
                    const uint8_t second[34])
{
	size_t j;

	for (j = 0; j < tx->n_out; j++) {
		const al_bytes *s = &tx->out[j].script;
		uint32_t r = j < tx->n_in ? row_of_in[j] : OC_NONE;

		if (al_onchain__is_dest(o, s))
			continue;
		if (r != OC_NONE &&
		    (o->outs[r].kind == AL_ONCHAIN_OUT_HTLC_TIMEOUT ||
		     o->outs[r].kind == AL_ONCHAIN_OUT_HTLC_SUCCESS) &&
		    s->len == 34 && memcmp(s->p, second, 34) == 0)
			continue;
		return false;
	}
	return tx->n_out > 0;
}

static struct oc_tx *add_our_tx(al_onchain *o, const uint8_t txid[32])
{
	size_t i;

	for (i = 0; i < o->txs_cap; i++)
		if (!o->txs[i].used) {
			memset(&o->txs[i], 0, sizeof(o->txs[i]));
			o->txs[i].used = true;
			memcpy(o->txs[i].txid, txid, 32);
			return &o->txs[i];
		}
	return NULL;
}

static const struct oc_win *find_win(const al_onchain *o, const uint8_t txid[32], uint32_t vout)
{
	size_t i;

	for (i = 0; i < o->win_cap; i++)
		if (o->win[i].used && o->win[i].vout == vout &&
		    memcmp(o->win[i].txid, txid, 32) == 0)
			return &o->win[i];
	return NULL;
}

/* What a transaction of ours did: value of rows, wallet inputs, to the wallet,
 * passed on, fee. */
static void account(const al_onchain *o, const al_tx *tx, const uint32_t *row_of_in,
                    struct oc_tx *t)
{
	al_sat in = al_sat_of(0), out = al_sat_of(0);
	size_t i;

	for (i = 0; i < tx->n_in; i++) {
		const struct oc_win *w = find_win(o, tx->in[i].txid, tx->in[i].vout);

		if (row_of_in[i] != OC_NONE) {
			oc_add(&t->value_in, o->outs[row_of_in[i]].amount);
		} else if (w) {
			oc_add(&t->wallet_in, w->amount);
		}
	}
	for (i = 0; i < tx->n_out; i++) {
		if (al_onchain__is_dest(o, &tx->out[i].script))
			oc_add(&t->to_wallet, tx->out[i].amount);
		else
			oc_add(&t->carried, tx->out[i].amount);
	}
	oc_add(&in, t->value_in);
	oc_add(&in, t->wallet_in);
	oc_add(&out, t->to_wallet);
	oc_add(&out, t->carried);
	if (!al_sat_sub(&t->fee, in, out))
		t->fee = al_sat_of(0);
}

al_err al_onchain__row_spend(al_onchain *o, const al_tx *tx, const uint8_t txid[32],
                             uint32_t height)
{
	al_arena *a = o->env->scratch;
	size_t mark = al_arena_mark(a), i, hits = 0;
	uint8_t second_h[34], second_c[34];
	uint32_t *row_of_in;
	struct oc_tx *t;
	bool ours;
	al_err e;

	AL_TRY(al_arena_alloc(a, (tx->n_in ? tx->n_in : 1) * sizeof(uint32_t), 4,
	                      (void **)&row_of_in));
	/* Stage: which rows it spends, and may it? */
	e = AL_OK;
	for (i = 0; i < tx->n_in; i++) {
		struct oc_out *r = find_row(o, tx->in[i].txid, tx->in[i].vout);

		row_of_in[i] = r ? (uint32_t)(r - o->outs) : OC_NONE;
		if (!r)
			continue;
		hits++;
		if (r->spent && memcmp(r->spender, txid, 32) != 0 && r->spend_height && !height)
			e = AL_E_ONCHAIN_CONFLICT;
	}
	if (hits == 0)
		e = AL_E_ONCHAIN_UNRELATED;
	if (e == AL_OK && o->sp.has_point)
		e = al_onchain__second_spk(o, o->sp.kind == AL_ONCHAIN_SPEND_HOLDER,
		                           o->sp.kind == AL_ONCHAIN_SPEND_HOLDER ? second_h
		                                                                 : second_c);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		return e;
	}
	if (o->sp.kind != AL_ONCHAIN_SPEND_HOLDER)
		memset(second_h, 0xff, sizeof(second_h));
	ours = is_ours(o, tx, row_of_in, second_h);
	/* Apply: a different spender of the same rows is gone (one of them at most can be
	 * in the chain). */
	for (i = 0; i < tx->n_in; i++) {
		struct oc_out *r = row_of_in[i] == OC_NONE ? NULL : &o->outs[row_of_in[i]];

		if (r && r->spent && memcmp(r->spender, txid, 32) != 0) {
			uint8_t old[32];

			memcpy(old, r->spender, 32);
			al_onchain__forget(o, old);
		}
	}
	t = ours ? add_our_tx(o, txid) : NULL;
	if (ours && !t)
		e = AL_E_ONCHAIN_FULL;
	if (t) {
		t->height = height;
		account(o, tx, row_of_in, t);
	}
	for (i = 0; e == AL_OK && i < tx->n_in; i++) {
		struct oc_out *r = row_of_in[i] == OC_NONE ? NULL : &o->outs[row_of_in[i]];
		uint8_t kind = 0;

		if (!r)
			continue;
		r->spent = true;
		r->spent_ours = ours;
		memcpy(r->spender, txid, 32);
		r->spend_height = height;
		if (is_htlc_row(r->kind))
			extract_preimage(o, r, &tx->in[i]);
		if (i >= tx->n_out)
			continue;
		/* A second-stage output: ours (after to_self_delay), or the cheater's on a
		 * revoked commitment (BOLT #5: "MUST *resolve* the _remote node's
		 * HTLC-timeout transaction by spending it using the revocation private
		 * key"). */
		if (ours && (r->kind == AL_ONCHAIN_OUT_HTLC_TIMEOUT ||
		             r->kind == AL_ONCHAIN_OUT_HTLC_SUCCESS))
			kind = AL_ONCHAIN_OUT_SECOND;
		else if (!ours && r->kind == AL_ONCHAIN_OUT_REVOKED_HTLC &&
		         tx->out[i].script.len == 34 &&
		         memcmp(tx->out[i].script.p, second_c, 34) == 0)
			kind = AL_ONCHAIN_OUT_REVOKED_SECOND;
		if (kind && !find_row(o, txid, (uint32_t)i) &&
		    add_row(o, kind, txid, (uint32_t)i, tx->out[i].amount, height, r->htlc) ==
		        OC_NONE)
			e = AL_E_ONCHAIN_FULL;
	}
	o->dirty = true;
	al_arena_release(a, mark);
	return e;
}

void al_onchain__forget(al_onchain *o, const uint8_t txid[32])
{
	uint8_t child[32];
	size_t i;

	if (o->sp.kind != AL_ONCHAIN_SPEND_NONE && memcmp(o->sp.txid, txid, 32) == 0) {
		al_onchain__clear_spend(o);
		return;
	}
	for (i = 0; i < o->txs_cap; i++)
		if (o->txs[i].used && memcmp(o->txs[i].txid, txid, 32) == 0)
			memset(&o->txs[i], 0, sizeof(o->txs[i]));
	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];

		if (!r->used)
			continue;
		if (r->spent && memcmp(r->spender, txid, 32) == 0) {
			r->spent = r->spent_ours = false;
			memset(r->spender, 0, 32);
			r->spend_height = 0;
			o->dirty = true;
		}
	}
	/* Rows it created go, and whatever spent them (depth two at most: a second
	 * stage and its sweep). */
	for (i = 0; i < o->outs_cap; i++) {
		struct oc_out *r = &o->outs[i];

		if (!r->used || memcmp(r->txid, txid, 32) != 0)
			continue;
		if (r->spent) {
			memcpy(child, r->spender, 32);
			free_row(o, r);
			al_onchain__forget(o, child);
		} else {
			free_row(o, r);
		}
	}
}
