/* The channel record: everything a channel needs to resume after a restart, and
 * everything a later on-chain module needs (keys' derivation index, every
 * per-commitment secret the peer revealed, the HTLCs). Versioned, bounded, written
 * byte-exactly again after a load; the loader checks every field and the whole
 * (counters, slots, balances, the signer's own state) before anything is used. */
#include "ln/channel_int.h"

#include <string.h>

#include "util/mem.h"

#define REC_MAGIC   "ALCH"
#define REC_VERSION 1

/* The state bits a record keeps (the connection's are not). */
#define PERSISTED_STATE                                                                            \
	(AL_CHAN_ST_OUTBOUND | AL_CHAN_ST_FUNDED | AL_CHAN_ST_READY_SENT | AL_CHAN_ST_READY_RECV | \
	 AL_CHAN_ST_NORMAL | AL_CHAN_ST_SHUTDOWN_SENT | AL_CHAN_ST_SHUTDOWN_RECV |                 \
	 AL_CHAN_ST_NEGOTIATING | AL_CHAN_ST_CLOSED | AL_CHAN_ST_FAILED | AL_CHAN_ST_DATA_LOSS |   \
	 AL_CHAN_ST_FORCE_CLOSED | AL_CHAN_ST_AWAIT_REVOKE)

/* Slot flags. */
#define SF_PREIMAGE  0x04u
#define SF_ANNOUNCED 0x08u
#define SF_ZOMBIE    0x10u
#define SF_MUST_FAIL 0x20u
#define SF_REMOVAL   0x03u

/* Bytes of one slot without its blob. */
#define SLOT_FIXED (8 + 8 + 4 + 32 + 4 * 8 + 2 * 8 + 1 + 32 + 2 + 32 + 2)
#define SIDE_LEN   (4 * 8 + 2 + 2 + 5 * 33)

size_t al_chan_record_max(const al_chan_config *cfg)
{
	size_t n = cfg->max_htlcs;

	return 4 + 2 + 2 + 4 + 4 + 4 + 2 + sizeof(al_features) + 32 + 32 + 32 /* head */ + 8 + 8 +
	       32 + 2 + 4 + 4 + 8 + 4 + 2 + AL_CHAN_MAX_FUNDING_TX /* funding */ + 2 * SIDE_LEN +
	       4 * 8 + 3 * (1 + 8 + 33) + 8 + 8 + 4 + 1 + MAX_FEE_UPDATES * (4 + 1 + 16 + 8) +
	       5 * 8 /* counters */ + 2 * (64 + 2 + 2 * n * 64) + 32 /* signatures */ + 3 * 8 +
	       AL_SHACHAIN_SLOTS * (8 + 32) /* secrets */ + 2 * (1 + AL_CHAN_MAX_SCRIPT) + 1 + 4 +
	       1 + 8 + 1 + 3 * 64 + 64 + 32 + 32 /* close */ + 2 + 2 +
	       2 * n * (SLOT_FIXED + AL_CHAN_ONION_LEN) + AL_SIGNER_STATE_LEN;
}

/* --- writing ------------------------------------------------------------------------- */

static void w_point(const al_chan *ch, al_wb *w, const al_pubkey *p)
{
	uint8_t b[33];

	al_pubkey_serialize(ch->env->secp, b, p);
	al_wb_bytes(w, b, 33);
}

static void w_sig(const al_chan *ch, al_wb *w, const al_ecdsa_sig *s)
{
	uint8_t b[64];

	al_ecdsa_sig_serialize_compact(ch->env->secp, b, s);
	al_wb_bytes(w, b, 64);
}

static void w_side(const al_chan *ch, al_wb *w, const struct chan_side *s)
{
	al_wb_be64(w, s->dust_limit.sat);
	al_wb_be64(w, s->max_in_flight.msat);
	al_wb_be64(w, s->reserve.sat);
	al_wb_be64(w, s->htlc_minimum.msat);
	al_wb_be16(w, s->to_self_delay);
	al_wb_be16(w, s->max_accepted);
	w_point(ch, w, &s->funding);
	w_point(ch, w, &s->bp.revocation);
	w_point(ch, w, &s->bp.payment);
	w_point(ch, w, &s->bp.delayed_payment);
	w_point(ch, w, &s->bp.htlc);
}

static void w_slot(al_wb *w, const struct chan_htlc *h)
{
	uint8_t flags = h->removal & SF_REMOVAL;

	flags |= h->preimage_known ? SF_PREIMAGE : 0;
	flags |= h->announced ? SF_ANNOUNCED : 0;
	flags |= h->zombie ? SF_ZOMBIE : 0;
	flags |= h->must_fail ? SF_MUST_FAIL : 0;
	al_wb_be64(w, h->id);
	al_wb_be64(w, h->amount.msat);
	al_wb_be32(w, h->cltv);
	al_wb_bytes(w, h->hash, 32);
	al_wb_be64(w, h->add[SIDE_L]);
	al_wb_be64(w, h->add[SIDE_R]);
	al_wb_be64(w, h->rem[SIDE_L]);
	al_wb_be64(w, h->rem[SIDE_R]);
	al_wb_be64(w, h->seq_add);
	al_wb_be64(w, h->seq_rem);
	al_wb_u8(w, flags);
	al_wb_bytes(w, h->preimage, 32);
	al_wb_be16(w, h->failure_code);
	al_wb_bytes(w, h->sha_onion, 32);
	al_wb_be16(w, h->blob_len);
	al_wb_bytes(w, h->blob, h->blob_len);
}

static void w_slots(const al_chan *ch, al_wb *w, const struct chan_htlc *s)
{
	size_t i, n = 0;

	for (i = 0; i < ch->cfg.max_htlcs; i++)
		n += s[i].used;
	al_wb_be16(w, (uint16_t)n);
	for (i = 0; i < ch->cfg.max_htlcs; i++)
		if (s[i].used)
			w_slot(w, &s[i]);
}

static void w_head(const al_chan *ch, al_wb *w)
{
	al_wb_bytes(w, REC_MAGIC, 4);
	al_wb_be16(w, REC_VERSION);
	al_wb_be16(w, ch->cfg.max_htlcs);
	al_wb_be32(w, al_signer_index(ch->signer));
	al_wb_be32(w, ch->state & PERSISTED_STATE);
	al_wb_be32(w, (uint32_t)ch->err);
	al_wb_u8(w, (uint8_t)ch->type);
	al_wb_u8(w, ch->announce);
	al_wb_bytes(w, ch->peer_features.bits, sizeof(ch->peer_features.bits));
	al_wb_bytes(w, ch->cfg.chain_hash, 32);
	al_wb_bytes(w, ch->temp_id, 32);
	al_wb_bytes(w, ch->channel_id, 32);
	al_wb_be64(w, ch->funding.sat);
	al_wb_be64(w, ch->push.msat);
	al_wb_bytes(w, ch->funding_txid, 32);
	al_wb_be16(w, ch->funding_vout);
	al_wb_be32(w, ch->minimum_depth);
	al_wb_be32(w, ch->depth);
	al_wb_be64(w, ch->scid);
	al_wb_be32(w, ch->height);
	al_wb_be16(w, (uint16_t)ch->funding_tx_len);
	al_wb_bytes(w, ch->funding_tx, ch->funding_tx_len);
}

static void w_commitments(const al_chan *ch, al_wb *w)
{
	size_t i;

	w_side(ch, w, &ch->local);
	w_side(ch, w, &ch->remote);
	al_wb_be64(w, ch->local_next);
	al_wb_be64(w, ch->local_revoked);
	al_wb_be64(w, ch->remote_next);
	al_wb_be64(w, ch->remote_revoked);
	for (i = 0; i < 3; i++) {
		al_wb_u8(w, ch->rpoint[i].valid);
		al_wb_be64(w, ch->rpoint[i].valid ? ch->rpoint[i].n : 0);
		if (ch->rpoint[i].valid)
			w_point(ch, w, &ch->rpoint[i].p);
		else
			al_wb_bytes(w, (const uint8_t[33]){0}, 33);
	}
	al_wb_be64(w, ch->base_local.msat);
	al_wb_be64(w, ch->base_remote.msat);
	al_wb_be32(w, ch->base_feerate);
	al_wb_u8(w, (uint8_t)ch->n_fees);
	for (i = 0; i < ch->n_fees; i++) {
		al_wb_be32(w, ch->fees[i].rate);
		al_wb_u8(w, ch->fees[i].ours);
		al_wb_be64(w, ch->fees[i].at[SIDE_L]);
		al_wb_be64(w, ch->fees[i].at[SIDE_R]);
		al_wb_be64(w, ch->fees[i].seq);
	}
	al_wb_be64(w, ch->next_out_id);
	al_wb_be64(w, ch->next_in_id);
	al_wb_be64(w, ch->seq);
	al_wb_be64(w, ch->cs_seq);
	al_wb_be64(w, ch->raa_seq);
	w_sig(ch, w, &ch->local_sig);
	al_wb_be16(w, (uint16_t)ch->n_local_htlc_sigs);
	for (i = 0; i < ch->n_local_htlc_sigs; i++)
		w_sig(ch, w, &ch->local_htlc_sigs[i]);
	w_sig(ch, w, &ch->cs_sig);
	al_wb_be16(w, (uint16_t)ch->n_cs_htlc_sigs);
	for (i = 0; i < ch->n_cs_htlc_sigs; i++)
		w_sig(ch, w, &ch->cs_htlc_sigs[i]);
	al_wb_bytes(w, ch->raa_secret, 32);
	/* The peer's revealed secrets: the compact store (at most 49). */
	al_wb_be64(w, ch->secrets.valid);
	al_wb_be64(w, ch->secrets.next_index);
	al_wb_be64(w, ch->secrets.count);
	for (i = 0; i < AL_SHACHAIN_SLOTS; i++) {
		if (!((ch->secrets.valid >> i) & 1))
			continue;
		al_wb_be64(w, ch->secrets.known[i].index);
		al_wb_bytes(w, ch->secrets.known[i].secret, 32);
	}
}

static void w_close(const al_chan *ch, al_wb *w)
{
	al_wb_u8(w, (uint8_t)ch->shut_local_len);
	al_wb_bytes(w, ch->shut_local, ch->shut_local_len);
	al_wb_u8(w, (uint8_t)ch->shut_remote_len);
	al_wb_bytes(w, ch->shut_remote, ch->shut_remote_len);
	al_wb_u8(w, ch->shutdown_wanted);
	al_wb_be32(w, ch->close.feerate);
	/* A finished negotiation is kept (to broadcast again); an unfinished one
	 * restarts on reconnection. */
	al_wb_u8(w, ch->close.done);
	if (ch->close.done) {
		al_wb_be64(w, ch->close.our_fee);
		al_wb_u8(w, ch->close.variant);
		w_sig(ch, w, &ch->close.our_sig);
		w_sig(ch, w, &ch->close.their_sig);
	}
	if (ch->state & AL_CHAN_ST_FORCE_CLOSED)
		w_sig(ch, w, &ch->force_sig);
	al_wb_bytes(w, ch->closing_txid, 32);
	al_wb_bytes(w, ch->spent_txid, 32);
}

al_err al_chan_save(const al_chan *ch, uint8_t *buf, size_t cap, size_t *len)
{
	al_wb w;

	*len = 0;
	if (!(ch->state & AL_CHAN_ST_FUNDED))
		return AL_E_CHAN_STATE;
	al_wb_init(&w, buf, cap);
	w_head(ch, &w);
	w_commitments(ch, &w);
	w_close(ch, &w);
	w_slots(ch, &w, ch->out);
	w_slots(ch, &w, ch->in);
	al_signer_save(ch->signer, &w);
	*len = w.len;
	return w.err;
}

al_err al_chan_record_key_index(const uint8_t *rec, size_t len, uint32_t *index)
{
	al_cur c;
	uint8_t magic[4];

	al_cur_init(&c, rec, len);
	al_cur_bytes(&c, magic, 4);
	if (al_cur_ok(&c) && memcmp(magic, REC_MAGIC, 4) != 0)
		return AL_E_CHAN_RECORD;
	if (al_cur_be16(&c) != REC_VERSION && al_cur_ok(&c))
		return AL_E_CHAN_RECORD_VERSION;
	(void)al_cur_be16(&c);
	*index = al_cur_be32(&c);
	return c.err;
}

/* --- reading ----------------------------------------------------------------------------- */

/* A failure found while reading: the first one is kept. */
static void bad(al_err *e, al_err why)
{
	if (*e == AL_OK)
		*e = why;
}

static void r_point(const al_chan *ch, al_cur *c, al_pubkey *p, al_err *e)
{
	uint8_t b[33];

	al_cur_bytes(c, b, 33);
	if (al_cur_ok(c) && al_pubkey_parse(ch->env->secp, p, b, 33) != AL_OK)
		bad(e, AL_E_CHAN_RECORD);
}

static void r_sig(const al_chan *ch, al_cur *c, al_ecdsa_sig *s, al_err *e)
{
	uint8_t b[64];

	al_cur_bytes(c, b, 64);
	if (al_cur_ok(c) && al_ecdsa_sig_parse_compact(ch->env->secp, s, b) != AL_OK)
		bad(e, AL_E_CHAN_RECORD);
}

static void r_side(const al_chan *ch, al_cur *c, struct chan_side *s, al_err *e)
{
	s->dust_limit = al_sat_of(al_cur_be64(c));
	s->max_in_flight = al_msat_of(al_cur_be64(c));
	s->reserve = al_sat_of(al_cur_be64(c));
	s->htlc_minimum = al_msat_of(al_cur_be64(c));
	s->to_self_delay = al_cur_be16(c);
	s->max_accepted = al_cur_be16(c);
	r_point(ch, c, &s->funding, e);
	r_point(ch, c, &s->bp.revocation, e);
	r_point(ch, c, &s->bp.payment, e);
	r_point(ch, c, &s->bp.delayed_payment, e);
	r_point(ch, c, &s->bp.htlc, e);
	if (s->dust_limit.sat < AL_LN_MIN_DUST_LIMIT || s->to_self_delay == 0 ||
	    s->max_accepted > AL_CHAN_MAX_HTLCS)
		bad(e, AL_E_CHAN_RECORD);
}

/* A commitment number of side s, or NEVER. */
static bool number_ok(uint64_t at, uint64_t next)
{
	return at == NEVER || at < next;
}

static void r_slot(al_chan *ch, al_cur *c, struct chan_htlc *h, bool out, al_err *e)
{
	uint8_t flags;

	memset(h, 0, sizeof(*h));
	h->used = true;
	h->id = al_cur_be64(c);
	h->amount = al_msat_of(al_cur_be64(c));
	h->cltv = al_cur_be32(c);
	al_cur_bytes(c, h->hash, 32);
	h->add[SIDE_L] = al_cur_be64(c);
	h->add[SIDE_R] = al_cur_be64(c);
	h->rem[SIDE_L] = al_cur_be64(c);
	h->rem[SIDE_R] = al_cur_be64(c);
	h->seq_add = al_cur_be64(c);
	h->seq_rem = al_cur_be64(c);
	flags = al_cur_u8(c);
	al_cur_bytes(c, h->preimage, 32);
	h->failure_code = al_cur_be16(c);
	al_cur_bytes(c, h->sha_onion, 32);
	h->blob_len = al_cur_be16(c);
	if (h->blob_len > AL_CHAN_ONION_LEN) {
		bad(e, AL_E_CHAN_RECORD);
		h->blob_len = 0;
	}
	al_cur_bytes(c, h->blob, h->blob_len);
	h->removal = flags & SF_REMOVAL;
	h->preimage_known = flags & SF_PREIMAGE;
	h->announced = flags & SF_ANNOUNCED;
	h->zombie = flags & SF_ZOMBIE;
	h->must_fail = flags & SF_MUST_FAIL;
	if (!al_cur_ok(c))
		return;
	/* The slot must describe a reachable state. */
	if ((flags & ~(SF_REMOVAL | SF_PREIMAGE | SF_ANNOUNCED | SF_ZOMBIE | SF_MUST_FAIL)) ||
	    h->amount.msat == 0 || h->cltv >= AL_LN_LOCKTIME_THRESHOLD ||
	    h->id >= (out ? ch->next_out_id : ch->next_in_id) ||
	    !number_ok(h->add[SIDE_L], ch->local_next) ||
	    !number_ok(h->add[SIDE_R], ch->remote_next) ||
	    !number_ok(h->rem[SIDE_L], ch->local_next) ||
	    !number_ok(h->rem[SIDE_R], ch->remote_next) ||
	    (h->removal == RM_NONE && (h->rem[SIDE_L] != NEVER || h->rem[SIDE_R] != NEVER)) ||
	    (h->rem[SIDE_L] != NEVER && h->add[SIDE_L] >= h->rem[SIDE_L]) ||
	    (h->rem[SIDE_R] != NEVER && h->add[SIDE_R] >= h->rem[SIDE_R]) ||
	    (h->removal != RM_NONE && (h->add[SIDE_L] == NEVER || h->add[SIDE_R] == NEVER)) ||
	    (h->zombie &&
	     (!out || h->removal == RM_NONE || (h->removal == RM_FULFILL && !h->preimage_known))) ||
	    (h->preimage_known && !out) || (h->must_fail && out) || h->seq_add > ch->seq ||
	    h->seq_rem > ch->seq)
		bad(e, AL_E_CHAN_RECORD);
}

static void r_slots(al_chan *ch, al_cur *c, struct chan_htlc *s, bool out, al_err *e)
{
	size_t n = al_cur_be16(c), i, k;

	if (n > ch->cfg.max_htlcs) {
		bad(e, AL_E_CHAN_RECORD);
		return;
	}
	for (i = 0; i < n && al_cur_ok(c) && *e == AL_OK; i++) {
		r_slot(ch, c, &s[i], out, e);
		for (k = 0; k < i; k++)
			if (s[k].id == s[i].id)
				bad(e, AL_E_CHAN_RECORD);
	}
}

static void r_head(al_chan *ch, al_cur *c, al_err *e)
{
	uint8_t magic[4], chain[32], announce;
	uint16_t version;

	al_cur_bytes(c, magic, 4);
	version = al_cur_be16(c);
	if (al_cur_ok(c) && memcmp(magic, REC_MAGIC, 4) != 0)
		bad(e, AL_E_CHAN_RECORD);
	else if (al_cur_ok(c) && version != REC_VERSION)
		bad(e, AL_E_CHAN_RECORD_VERSION);
	/* The slot count it was made with (its max_accepted_htlcs): a config must keep
	 * it. */
	if (al_cur_be16(c) != ch->cfg.max_htlcs && al_cur_ok(c))
		bad(e, AL_E_CHAN_RECORD);
	if (al_cur_be32(c) != al_signer_index(ch->signer) && al_cur_ok(c))
		bad(e, AL_E_CHAN_RECORD);
	ch->state = al_cur_be32(c);
	ch->err = (al_err)al_cur_be32(c);
	ch->type = (al_ln_chan_type)al_cur_u8(c);
	announce = al_cur_u8(c);
	ch->announce = announce == 1;
	al_cur_bytes(c, ch->peer_features.bits, sizeof(ch->peer_features.bits));
	al_cur_bytes(c, chain, 32);
	al_cur_bytes(c, ch->temp_id, 32);
	al_cur_bytes(c, ch->channel_id, 32);
	ch->funding = al_sat_of(al_cur_be64(c));
	ch->push = al_msat_of(al_cur_be64(c));
	al_cur_bytes(c, ch->funding_txid, 32);
	ch->funding_vout = al_cur_be16(c);
	ch->minimum_depth = al_cur_be32(c);
	ch->depth = al_cur_be32(c);
	ch->scid = al_cur_be64(c);
	ch->height = al_cur_be32(c);
	ch->funding_tx_len = al_cur_be16(c);
	if (ch->funding_tx_len > AL_CHAN_MAX_FUNDING_TX) {
		bad(e, AL_E_CHAN_RECORD);
		ch->funding_tx_len = 0;
	}
	al_cur_bytes(c, ch->funding_tx, ch->funding_tx_len);
	if (!al_cur_ok(c))
		return;
	if ((ch->state & ~PERSISTED_STATE) || !(ch->state & AL_CHAN_ST_FUNDED) ||
	    (unsigned)ch->err >= AL_E_COUNT_ ||
	    ((ch->state & AL_CHAN_ST_FAILED) != 0) != (ch->err != 0) ||
	    (ch->type != AL_LN_CHAN_STATIC_REMOTEKEY && ch->type != AL_LN_CHAN_ANCHORS) ||
	    announce > 1 || memcmp(chain, ch->cfg.chain_hash, 32) != 0 ||
	    !al_sat_is_valid_money(ch->funding) || ch->push.msat / 1000 > ch->funding.sat)
		bad(e, AL_E_CHAN_RECORD);
}

static void r_commitments(al_chan *ch, al_cur *c, al_err *e)
{
	size_t i;
	uint8_t v;

	r_side(ch, c, &ch->local, e);
	r_side(ch, c, &ch->remote, e);
	ch->local_next = al_cur_be64(c);
	ch->local_revoked = al_cur_be64(c);
	ch->remote_next = al_cur_be64(c);
	ch->remote_revoked = al_cur_be64(c);
	for (i = 0; i < 3; i++) {
		uint8_t zeros[33];

		v = al_cur_u8(c);
		ch->rpoint[i].n = al_cur_be64(c);
		ch->rpoint[i].valid = v == 1;
		if (v == 1) {
			r_point(ch, c, &ch->rpoint[i].p, e);
		} else {
			/* An empty entry is all zeros. */
			al_cur_bytes(c, zeros, sizeof(zeros));
			if (al_cur_ok(c) && (v > 1 || ch->rpoint[i].n != 0 || zeros[0] ||
			                     memcmp(zeros, zeros + 1, 32) != 0))
				bad(e, AL_E_CHAN_RECORD);
		}
	}
	ch->base_local = al_msat_of(al_cur_be64(c));
	ch->base_remote = al_msat_of(al_cur_be64(c));
	ch->base_feerate = al_cur_be32(c);
	ch->n_fees = al_cur_u8(c);
	if (ch->n_fees > MAX_FEE_UPDATES) {
		bad(e, AL_E_CHAN_RECORD);
		ch->n_fees = 0;
	}
	for (i = 0; i < ch->n_fees; i++) {
		ch->fees[i].rate = al_cur_be32(c);
		v = al_cur_u8(c);
		ch->fees[i].ours = v == 1;
		ch->fees[i].at[SIDE_L] = al_cur_be64(c);
		ch->fees[i].at[SIDE_R] = al_cur_be64(c);
		ch->fees[i].seq = al_cur_be64(c);
		if (v > 1)
			bad(e, AL_E_CHAN_RECORD);
	}
	ch->next_out_id = al_cur_be64(c);
	ch->next_in_id = al_cur_be64(c);
	ch->seq = al_cur_be64(c);
	ch->cs_seq = al_cur_be64(c);
	ch->raa_seq = al_cur_be64(c);
	r_sig(ch, c, &ch->local_sig, e);
	ch->n_local_htlc_sigs = al_cur_be16(c);
	if (ch->n_local_htlc_sigs > 2 * (size_t)ch->cfg.max_htlcs) {
		bad(e, AL_E_CHAN_RECORD);
		ch->n_local_htlc_sigs = 0;
	}
	for (i = 0; i < ch->n_local_htlc_sigs; i++)
		r_sig(ch, c, &ch->local_htlc_sigs[i], e);
	r_sig(ch, c, &ch->cs_sig, e);
	ch->n_cs_htlc_sigs = al_cur_be16(c);
	if (ch->n_cs_htlc_sigs > 2 * (size_t)ch->cfg.max_htlcs) {
		bad(e, AL_E_CHAN_RECORD);
		ch->n_cs_htlc_sigs = 0;
	}
	for (i = 0; i < ch->n_cs_htlc_sigs; i++)
		r_sig(ch, c, &ch->cs_htlc_sigs[i], e);
	al_cur_bytes(c, ch->raa_secret, 32);
	ch->secrets.valid = al_cur_be64(c);
	ch->secrets.next_index = al_cur_be64(c);
	ch->secrets.count = al_cur_be64(c);
	for (i = 0; i < AL_SHACHAIN_SLOTS; i++) {
		if (!((ch->secrets.valid >> i) & 1))
			continue;
		ch->secrets.known[i].index = al_cur_be64(c);
		al_cur_bytes(c, ch->secrets.known[i].secret, 32);
	}
}

static void r_close(al_chan *ch, al_cur *c, al_err *e)
{
	uint8_t v, done;

	ch->shut_local_len = al_cur_u8(c);
	if (ch->shut_local_len > AL_CHAN_MAX_SCRIPT)
		ch->shut_local_len = 0, bad(e, AL_E_CHAN_RECORD);
	al_cur_bytes(c, ch->shut_local, ch->shut_local_len);
	ch->shut_remote_len = al_cur_u8(c);
	if (ch->shut_remote_len > AL_CHAN_MAX_SCRIPT)
		ch->shut_remote_len = 0, bad(e, AL_E_CHAN_RECORD);
	al_cur_bytes(c, ch->shut_remote, ch->shut_remote_len);
	v = al_cur_u8(c);
	ch->shutdown_wanted = v == 1;
	ch->close.feerate = al_cur_be32(c);
	done = al_cur_u8(c);
	ch->close.done = done == 1;
	if (v > 1 || done > 1 || (ch->close.feerate < 253 && al_cur_ok(c)))
		bad(e, AL_E_CHAN_RECORD);
	if (ch->close.done) {
		ch->close.our_fee = al_cur_be64(c);
		ch->close.variant = al_cur_u8(c);
		r_sig(ch, c, &ch->close.our_sig, e);
		r_sig(ch, c, &ch->close.their_sig, e);
		if (ch->close.variant > CLOSE_V_NO_THEIRS)
			bad(e, AL_E_CHAN_RECORD);
	}
	if (ch->state & AL_CHAN_ST_FORCE_CLOSED)
		r_sig(ch, c, &ch->force_sig, e);
	al_cur_bytes(c, ch->closing_txid, 32);
	al_cur_bytes(c, ch->spent_txid, 32);
}

/* The whole must agree: counters, points, fees, balances, the signer's state. */
static al_err check_whole(al_chan *ch)
{
	al_signer_status st;
	struct chan_view v;
	al_msat funding, sum;
	al_pubkey p;
	size_t i;

	if (ch->local_next == 0 || ch->local_revoked + 1 != ch->local_next ||
	    ch->remote_next == 0 || ch->remote_revoked >= ch->remote_next ||
	    ch->remote_next - ch->remote_revoked > 2 ||
	    ((ch->state & AL_CHAN_ST_AWAIT_REVOKE) != 0) !=
	        (ch->remote_next - ch->remote_revoked == 2) ||
	    ch->local_next > AL_SHACHAIN_FIRST_INDEX || ch->remote_next > AL_SHACHAIN_FIRST_INDEX)
		return AL_E_CHAN_RECORD;
	/* The points of the peer's unrevoked commitments are known. */
	for (i = ch->remote_revoked; i < ch->remote_next; i++)
		if (al_chan__remote_point(ch, i, &p) != AL_OK)
			return AL_E_CHAN_RECORD;
	if (!al_shachain_valid(&ch->secrets) || ch->secrets.count != ch->remote_revoked)
		return AL_E_CHAN_RECORD;
	for (i = 0; i < ch->n_fees; i++)
		if (!number_ok(ch->fees[i].at[SIDE_L], ch->local_next) ||
		    !number_ok(ch->fees[i].at[SIDE_R], ch->remote_next) || ch->fees[i].rate < 253 ||
		    ch->fees[i].seq > ch->seq)
			return AL_E_CHAN_RECORD;
	if (ch->base_feerate < 253 || ch->cs_seq > ch->seq || ch->raa_seq > ch->seq)
		return AL_E_CHAN_RECORD;
	if (!al_sat_to_msat(&funding, ch->funding) ||
	    !al_msat_add(&sum, ch->base_local, ch->base_remote) || sum.msat != funding.msat)
		return AL_E_CHAN_RECORD;
	if (al_chan__view(ch, SIDE_L, ch->local_next - 1, &v) != AL_OK ||
	    al_chan__view(ch, SIDE_R, ch->remote_next - 1, &v) != AL_OK)
		return AL_E_CHAN_RECORD;
	if (ch->shut_local_len && !al_chan__script_ok(ch, ch->shut_local, ch->shut_local_len))
		return AL_E_CHAN_RECORD;
	if (ch->shut_remote_len && !al_chan__script_ok(ch, ch->shut_remote, ch->shut_remote_len))
		return AL_E_CHAN_RECORD;
	/* The signer agrees on every counter. */
	al_signer_get_status(ch->signer, &st);
	if (!st.holder_accepted || st.holder_latest != ch->local_next - 1 ||
	    st.holder_revoked != ch->local_revoked || st.counterparty_next != ch->remote_next ||
	    st.counterparty_revoked != ch->remote_revoked)
		return AL_E_CHAN_RECORD;
	return AL_OK;
}

/* What the node must hear again after a restart (at least once). */
static void replay(al_chan *ch)
{
	size_t i;

	if (!(ch->state & AL_CHAN_ST_CLOSED))
		al_chan__push(ch, AL_CHAN_FX_WATCH, 0, 0);
	/* A funding transaction that may never have left. */
	if ((ch->state & AL_CHAN_ST_OUTBOUND) && ch->funding_tx_len)
		al_chan__push(ch, AL_CHAN_FX_BROADCAST, AL_CHAN_TX_FUNDING, 0);
	if (ch->state & AL_CHAN_ST_FORCE_CLOSED)
		al_chan__push(ch, AL_CHAN_FX_BROADCAST, AL_CHAN_TX_COMMITMENT, 0);
	if (ch->close.done)
		al_chan__push(ch, AL_CHAN_FX_BROADCAST, AL_CHAN_TX_CLOSING, 0);
	/* Events are told at least once: what the caller keeps of one is written with a
	 * record after the one that made it durable, so a caller killed in between has
	 * not kept it. */
	if (ch->state & AL_CHAN_ST_NORMAL)
		al_chan__event(ch, AL_CHAN_EV_READY, 0);
	if (ch->state & AL_CHAN_ST_FAILED)
		al_chan__event(ch, AL_CHAN_EV_FAILED, 0);
	if (ch->state & AL_CHAN_ST_CLOSED) {
		static const uint8_t zero[32];

		al_chan__event(ch, AL_CHAN_EV_CLOSED,
		               memcmp(ch->spent_txid, zero, 32) ? 1
		               : ch->close.done                 ? 2
		                                                : 0);
	}
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *in = &ch->in[i], *o = &ch->out[i];

		if (in->used && in->announced && in->removal == RM_NONE)
			al_chan__event(ch, AL_CHAN_EV_HTLC_RECEIVED, in->id);
		if (o->used && o->preimage_known)
			al_chan__event(ch, AL_CHAN_EV_HTLC_FULFILLED, o->id);
		else if (o->used && o->zombie)
			al_chan__event(ch, AL_CHAN_EV_HTLC_FAILED, o->id);
	}
}

al_err al_chan_load(al_chan **out, void *mem, size_t len, al_chan_env *env,
                    const al_chan_config *cfg, al_signer *signer, const uint8_t *rec,
                    size_t rec_len)
{
	al_chan *ch = mem;
	al_err e = AL_OK;
	al_cur c;

	*out = NULL;
	AL_TRY(al_chan_config_check(cfg));
	if (!mem || len < al_chan__mem_size(cfg) || ((uintptr_t)mem % 8) != 0 || !env ||
	    !env->secp || !env->scratch || !signer || !rec)
		return AL_E_ARG;
	memset(mem, 0, al_chan__mem_size(cfg));
	ch->env = env;
	ch->cfg = *cfg;
	ch->signer = signer;
	al_chan__layout(ch, mem, len);
	al_cur_init(&c, rec, rec_len);
	r_head(ch, &c, &e);
	if (e == AL_OK)
		r_commitments(ch, &c, &e);
	if (e == AL_OK)
		r_close(ch, &c, &e);
	if (e == AL_OK)
		r_slots(ch, &c, ch->out, true, &e);
	if (e == AL_OK)
		r_slots(ch, &c, ch->in, false, &e);
	if (e == AL_OK && al_cur_ok(&c))
		e = al_signer_load(signer, &c);
	if (e == AL_OK)
		e = al_cur_done(&c);
	if (e == AL_OK && al_chan__signer_ready(ch) != AL_OK)
		e = AL_E_CHAN_RECORD;
	if (e == AL_OK)
		e = check_whole(ch);
	if (e != AL_OK) {
		al_memzero(mem, al_chan__mem_size(cfg));
		return e == AL_E_TRAILING ? AL_E_CHAN_RECORD : e;
	}
	ch->open_step = OPEN_DONE;
	ch->fx_n = ch->stage = 0;
	replay(ch);
	ch->stage = ch->fx_n;
	*out = ch;
	return AL_OK;
}
