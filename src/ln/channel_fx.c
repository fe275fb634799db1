/* Effects are queued as small descriptors and turned into bytes only when delivered,
 * from state that cannot change before then: an HTLC slot lives until its messages
 * and events are out, a commitment_signed's signatures until the peer answers. */
#include "ln/channel_int.h"

#include <string.h>

#include "btc/script.h"
#include "crypto/hash.h"
#include "util/mem.h"

struct chan_htlc *al_chan__slot(al_chan *ch, bool out, uint64_t id)
{
	struct chan_htlc *s = out ? ch->out : ch->in;
	size_t i;

	for (i = 0; i < ch->cfg.max_htlcs; i++)
		if (s[i].used && s[i].id == id)
			return &s[i];
	return NULL;
}

static void sig64(const al_chan *ch, uint8_t out[64], const al_ecdsa_sig *sig)
{
	al_ecdsa_sig_serialize_compact(ch->env->secp, out, sig);
}

static al_err write_htlc_msg(al_chan *ch, al_wb *w, uint8_t msg, uint64_t id)
{
	struct chan_htlc *h = al_chan__slot(ch, msg == FXM_ADD, id);
	union al_wire_any u;

	if (!h)
		return AL_E_CHAN_UNKNOWN_HTLC;
	memset(&u, 0, sizeof(u));
	switch (msg) {
	case FXM_ADD:
		memcpy(u.update_add_htlc.channel_id, ch->channel_id, 32);
		u.update_add_htlc.id = h->id;
		u.update_add_htlc.amount_msat = h->amount.msat;
		memcpy(u.update_add_htlc.payment_hash, h->hash, 32);
		u.update_add_htlc.cltv_expiry = h->cltv;
		memcpy(u.update_add_htlc.onion_routing_packet, h->blob, AL_CHAN_ONION_LEN);
		al_wire_update_add_htlc_write(w, &u.update_add_htlc);
		break;
	case FXM_FULFILL:
		memcpy(u.update_fulfill_htlc.channel_id, ch->channel_id, 32);
		u.update_fulfill_htlc.id = h->id;
		memcpy(u.update_fulfill_htlc.payment_preimage, h->preimage, 32);
		al_wire_update_fulfill_htlc_write(w, &u.update_fulfill_htlc);
		break;
	case FXM_FAIL:
		memcpy(u.update_fail_htlc.channel_id, ch->channel_id, 32);
		u.update_fail_htlc.id = h->id;
		u.update_fail_htlc.len = h->blob_len;
		u.update_fail_htlc.reason = h->blob;
		al_wire_update_fail_htlc_write(w, &u.update_fail_htlc);
		break;
	default:
		memcpy(u.update_fail_malformed_htlc.channel_id, ch->channel_id, 32);
		u.update_fail_malformed_htlc.id = h->id;
		memcpy(u.update_fail_malformed_htlc.sha256_of_onion, h->sha_onion, 32);
		u.update_fail_malformed_htlc.failure_code = h->failure_code;
		al_wire_update_fail_malformed_htlc_write(w, &u.update_fail_malformed_htlc);
		break;
	}
	return AL_OK;
}

static al_err write_commit(al_chan *ch, al_wb *w)
{
	struct al_wire_commitment_signed m;
	uint8_t *sigs = NULL;
	size_t i;

	memset(&m, 0, sizeof(m));
	memcpy(m.channel_id, ch->channel_id, 32);
	sig64(ch, m.signature, &ch->cs_sig);
	m.num_htlcs = (uint16_t)ch->n_cs_htlc_sigs;
	if (m.num_htlcs) {
		AL_TRY(
		    al_arena_alloc(ch->env->scratch, 64 * (size_t)m.num_htlcs, 1, (void **)&sigs));
		for (i = 0; i < m.num_htlcs; i++)
			sig64(ch, sigs + 64 * i, &ch->cs_htlc_sigs[i]);
	}
	m.htlc_signature = sigs;
	al_wire_commitment_signed_write(w, &m);
	return AL_OK;
}

static al_err write_revoke(al_chan *ch, al_wb *w, uint64_t n)
{
	struct al_wire_revoke_and_ack m;
	al_pubkey p;

	/* BOLT #2: "MUST set `per_commitment_secret` to the secret used to generate keys
	 * for the previous commitment transaction. MUST set `next_per_commitment_point`
	 * to the values for its next commitment transaction." */
	memset(&m, 0, sizeof(m));
	memcpy(m.channel_id, ch->channel_id, 32);
	memcpy(m.per_commitment_secret, ch->raa_secret, 32);
	AL_TRY(al_signer_holder_point(ch->signer, n + 2, &p));
	al_pubkey_serialize(ch->env->secp, m.next_per_commitment_point, &p);
	al_wire_revoke_and_ack_write(w, &m);
	return AL_OK;
}

static al_err write_reestablish(al_chan *ch, al_wb *w)
{
	struct al_wire_channel_reestablish m;
	al_pubkey p;

	memset(&m, 0, sizeof(m));
	memcpy(m.channel_id, ch->channel_id, 32);
	m.next_commitment_number = ch->rs_next_commitment;
	m.next_revocation_number = ch->rs_next_revocation;
	/* BOLT #2: "if `next_revocation_number` equals 0: MUST set
	 * `your_last_per_commitment_secret` to all zeroes; otherwise: MUST set
	 * `your_last_per_commitment_secret` to the last `per_commitment_secret` it
	 * received" */
	if (m.next_revocation_number > 0)
		AL_TRY(al_shachain_get(&ch->secrets,
		                       al_shachain_index_of(m.next_revocation_number - 1),
		                       m.your_last_per_commitment_secret));
	/* "MUST set `my_current_per_commitment_point` to a valid point": that of the
	 * commitment we would broadcast. */
	AL_TRY(al_signer_holder_point(ch->signer, ch->rs_next_commitment - 1, &p));
	al_pubkey_serialize(ch->env->secp, m.my_current_per_commitment_point, &p);
	al_wire_channel_reestablish_write(w, &m);
	al_memzero(&m, sizeof(m));
	return AL_OK;
}

static void write_closing(al_chan *ch, al_wb *w, uint64_t fee)
{
	struct al_wire_closing_signed m;

	memset(&m, 0, sizeof(m));
	memcpy(m.channel_id, ch->channel_id, 32);
	m.fee_satoshis = fee;
	sig64(ch, m.signature, &ch->close.our_sig);
	/* BOLT #2: "SHOULD set `fee_range` according to the minimum and maximum fees
	 * it is prepared to pay for a close transaction." */
	m.tlvs.has_fee_range = true;
	m.tlvs.fee_range.min_fee_satoshis = ch->close.our_min.sat;
	m.tlvs.fee_range.max_fee_satoshis = ch->close.our_max.sat;
	al_wire_closing_signed_write(w, &m);
}

static void write_error(al_chan *ch, al_wb *w, bool warning, al_err why)
{
	const char *text = al_err_str(why ? why : ch->err ? ch->err : AL_E_CHAN_FAILED);
	struct al_wire_error m;

	memset(&m, 0, sizeof(m));
	al_chan_channel_id(ch, m.channel_id);
	m.len = (uint16_t)strlen(text);
	m.data = (const uint8_t *)text;
	if (warning) {
		struct al_wire_warning wm;

		memcpy(wm.channel_id, m.channel_id, 32);
		wm.len = m.len;
		wm.data = m.data;
		al_wire_warning_write(w, &wm);
	} else {
		al_wire_error_write(w, &m);
	}
}

static al_err write_send(al_chan *ch, const struct chan_fx *e, al_wb *w)
{
	struct al_wire_channel_ready r;
	union al_wire_any u;
	al_pubkey p;

	memset(&u, 0, sizeof(u));
	switch (e->sub) {
	case FXM_OPEN:
	case FXM_ACCEPT:
		al_chan__write_open(ch, w, e->sub);
		return AL_OK;
	case FXM_FUNDING_CREATED:
		memcpy(u.funding_created.temporary_channel_id, ch->temp_id, 32);
		memcpy(u.funding_created.funding_txid, ch->funding_txid, 32);
		u.funding_created.funding_output_index = ch->funding_vout;
		sig64(ch, u.funding_created.signature, &ch->cs_sig);
		al_wire_funding_created_write(w, &u.funding_created);
		return AL_OK;
	case FXM_FUNDING_SIGNED:
		memcpy(u.funding_signed.channel_id, ch->channel_id, 32);
		sig64(ch, u.funding_signed.signature, &ch->cs_sig);
		al_wire_funding_signed_write(w, &u.funding_signed);
		return AL_OK;
	case FXM_CHANNEL_READY:
		/* BOLT #2: "MUST set `second_per_commitment_point` to the per-commitment
		 * point to be used for commitment transaction #1". */
		memset(&r, 0, sizeof(r));
		memcpy(r.channel_id, ch->channel_id, 32);
		AL_TRY(al_signer_holder_point(ch->signer, 1, &p));
		al_pubkey_serialize(ch->env->secp, r.second_per_commitment_point, &p);
		al_wire_channel_ready_write(w, &r);
		return AL_OK;
	case FXM_ADD:
	case FXM_FULFILL:
	case FXM_FAIL:
	case FXM_FAIL_MALFORMED:
		return write_htlc_msg(ch, w, e->sub, e->arg);
	case FXM_FEE:
		memcpy(u.update_fee.channel_id, ch->channel_id, 32);
		u.update_fee.feerate_per_kw = (uint32_t)e->arg;
		al_wire_update_fee_write(w, &u.update_fee);
		return AL_OK;
	case FXM_COMMIT:
		return write_commit(ch, w);
	case FXM_REVOKE:
		return write_revoke(ch, w, e->arg);
	case FXM_REESTABLISH:
		return write_reestablish(ch, w);
	case FXM_SHUTDOWN:
		memcpy(u.shutdown.channel_id, ch->channel_id, 32);
		u.shutdown.len = (uint16_t)ch->shut_local_len;
		u.shutdown.scriptpubkey = ch->shut_local;
		al_wire_shutdown_write(w, &u.shutdown);
		return AL_OK;
	case FXM_CLOSING_SIGNED:
		write_closing(ch, w, e->arg);
		return AL_OK;
	case FXM_ERROR:
	case FXM_WARNING:
		write_error(ch, w, e->sub == FXM_WARNING, e->err);
		return AL_OK;
	default:
		return AL_E_ARG;
	}
}

static al_err write_tx(al_chan *ch, const al_tx *tx, al_chan_fx *fx)
{
	size_t n = al_tx_len(tx, true);
	uint8_t *buf;
	al_wb w;

	AL_TRY(al_arena_alloc(ch->env->scratch, n, 1, (void **)&buf));
	al_wb_init(&w, buf, n);
	al_tx_write(&w, tx, true);
	if (!al_wb_ok(&w))
		return w.err;
	fx->data = buf;
	fx->len = w.len;
	al_tx_txid(tx, fx->txid);
	return AL_OK;
}

static al_err make_broadcast(al_chan *ch, const struct chan_fx *e, al_chan_fx *fx)
{
	al_arena *a = ch->env->scratch;
	al_ln_commit c;
	al_tx tx;

	fx->tx = (al_chan_broadcast_kind)e->sub;
	switch (e->sub) {
	case AL_CHAN_TX_FUNDING:
		fx->data = ch->funding_tx;
		fx->len = ch->funding_tx_len;
		memcpy(fx->txid, ch->funding_txid, 32);
		return AL_OK;
	case AL_CHAN_TX_COMMITMENT:
		AL_TRY(al_chan__build(ch, a, SIDE_L, ch->local_next - 1, &c));
		AL_TRY(al_ln_commit_finalize(ch->env->secp, &c, a, &ch->force_sig, &ch->local_sig));
		return write_tx(ch, &c.tx, fx);
	default:
		AL_TRY(al_chan__closing_signed_tx(ch, a, &tx));
		return write_tx(ch, &tx, fx);
	}
}

static al_err make_event(al_chan *ch, const struct chan_fx *e, al_chan_fx *fx)
{
	struct chan_htlc *h;
	uint8_t *spk;
	al_wb w;

	fx->event = (al_chan_event_kind)e->sub;
	switch (e->sub) {
	case AL_CHAN_EV_FUNDING_NEEDED:
		AL_TRY(al_arena_alloc(ch->env->scratch, 34, 1, (void **)&spk));
		al_wb_init(&w, spk, 34);
		al_chan__funding_spk(ch, &w);
		fx->data = spk;
		fx->len = w.len;
		fx->amount_sat = ch->funding;
		return w.err;
	case AL_CHAN_EV_PENDING:
		memcpy(fx->txid, ch->funding_txid, 32);
		return AL_OK;
	case AL_CHAN_EV_READY:
		fx->scid = ch->scid;
		return AL_OK;
	case AL_CHAN_EV_HTLC_RECEIVED:
	case AL_CHAN_EV_HTLC_FULFILLED:
	case AL_CHAN_EV_HTLC_FAILED:
		h = al_chan__slot(ch, e->sub != AL_CHAN_EV_HTLC_RECEIVED, e->arg);
		if (!h)
			return AL_E_CHAN_UNKNOWN_HTLC;
		fx->htlc_id = h->id;
		fx->amount_msat = h->amount;
		memcpy(fx->hash, h->hash, 32);
		fx->cltv_expiry = h->cltv;
		if (e->sub == AL_CHAN_EV_HTLC_RECEIVED) {
			fx->data = h->blob;
			fx->len = h->blob_len;
			fx->must_fail = h->must_fail;
		} else if (e->sub == AL_CHAN_EV_HTLC_FULFILLED) {
			memcpy(fx->preimage, h->preimage, 32);
		} else if (h->removal == RM_MALFORMED) {
			fx->failure_code = h->failure_code;
			memcpy(fx->hash, h->sha_onion, 32);
		} else if (h->blob_len) {
			/* A copy: the slot of a failed HTLC goes as soon as this event is made
			 * (al_chan__unpin), and the reason must outlive it. */
			uint8_t *reason;
			AL_TRY(al_arena_alloc(ch->env->scratch, h->blob_len, 1, (void **)&reason));
			memcpy(reason, h->blob, h->blob_len);
			fx->data = reason;
			fx->len = h->blob_len;
		}
		return AL_OK;
	case AL_CHAN_EV_CLOSED:
		if (e->arg == 1)
			memcpy(fx->txid, ch->spent_txid, 32);
		else if (e->arg == 2)
			memcpy(fx->txid, ch->closing_txid, 32);
		return AL_OK;
	case AL_CHAN_EV_FAILED:
		fx->err = ch->err;
		return AL_OK;
	default:
		return AL_OK;
	}
}

struct chan_htlc *al_chan__pinned_slot(al_chan *ch, const struct chan_fx *e)
{
	bool names = (e->kind == AL_CHAN_FX_SEND && e->sub == FXM_ADD) ||
	             (e->kind == AL_CHAN_FX_EVENT &&
	              (e->sub == AL_CHAN_EV_HTLC_FULFILLED || e->sub == AL_CHAN_EV_HTLC_FAILED));

	return names ? al_chan__slot(ch, true, e->arg) : NULL;
}

void al_chan__unpin(al_chan *ch, const struct chan_fx *e)
{
	struct chan_htlc *h = al_chan__pinned_slot(ch, e);

	if (!h || h->pins == 0)
		return;
	if (--h->pins == 0 && h->zombie)
		al_memzero(h, sizeof(*h));
}

bool al_chan__materialize(al_chan *ch, const struct chan_fx *e, al_chan_fx *fx)
{
	al_arena *a = ch->env->scratch;
	uint8_t *buf;
	al_err err = AL_OK;
	al_wb w;

	fx->kind = (al_chan_fx_kind)e->kind;
	switch (e->kind) {
	case AL_CHAN_FX_PERSIST:
		fx->id = e->id;
		fx->persist = (al_chan_persist_kind)e->sub;
		fx->number = e->arg;
		if (e->sub != AL_CHAN_PERSIST_MONITOR)
			break;
		err = al_arena_alloc(a, AL_WIRE_MAX_MSG, 1, (void **)&buf);
		if (err != AL_OK)
			break;
		al_wb_init(&w, buf, AL_WIRE_MAX_MSG);
		err = al_chan__monitor(ch, a, e->arg, &w);
		if (err == AL_OK && !al_wb_ok(&w))
			err = w.err;
		fx->data = buf;
		fx->len = w.len;
		break;
	case AL_CHAN_FX_SEND:
		err = al_arena_alloc(a, AL_WIRE_MAX_MSG, 1, (void **)&buf);
		if (err != AL_OK)
			break;
		al_wb_init(&w, buf, AL_WIRE_MAX_MSG);
		err = write_send(ch, e, &w);
		if (err == AL_OK && !al_wb_ok(&w))
			err = w.err;
		fx->data = buf;
		fx->len = w.len;
		break;
	case AL_CHAN_FX_BROADCAST:
		err = make_broadcast(ch, e, fx);
		break;
	case AL_CHAN_FX_WATCH:
		err = al_arena_alloc(a, 34, 1, (void **)&buf);
		if (err != AL_OK)
			break;
		al_wb_init(&w, buf, 34);
		al_chan__funding_spk(ch, &w);
		fx->data = buf;
		fx->len = w.len;
		memcpy(fx->txid, ch->funding_txid, 32);
		fx->vout = ch->funding_vout;
		fx->amount_sat = ch->funding;
		err = w.err;
		break;
	default:
		/* An incoming HTLC resolved before its event went out (the node knew it
		 * from before a restart): nothing to say. */
		if (e->sub == AL_CHAN_EV_HTLC_RECEIVED && !al_chan__slot(ch, false, e->arg))
			return false;
		err = make_event(ch, e, fx);
		break;
	}
	if (err == AL_OK)
		return true;
	/* The bytes could not be made: an arena smaller than al_chan_scratch_size, or
	 * a broken invariant. The channel stops here, loudly. */
	memset(fx, 0, sizeof(*fx));
	fx->kind = AL_CHAN_FX_EVENT;
	fx->event = AL_CHAN_EV_FAILED;
	fx->err = err;
	if (!(ch->state & AL_CHAN_ST_FAILED)) {
		ch->state |= AL_CHAN_ST_FAILED;
		ch->err = err;
	}
	return true;
}
