/* BOLT #2 Message Retransmission: channel_reestablish with data_loss_protect, the
 * retransmission of commitment_signed, revoke_and_ack and our updates, and what a
 * disconnection takes back. */
#include "ln/channel_int.h"

#include <string.h>

#include "util/mem.h"

void al_chan__send_reestablish(al_chan *ch)
{
	/* BOLT #2: "MUST set `next_commitment_number` to the commitment number of the
	 * next `commitment_signed` it expects to receive. MUST set
	 * `next_revocation_number` to the commitment number of the next `revoke_and_ack`
	 * message it expects to receive." */
	ch->rs_next_commitment = ch->local_next;
	ch->rs_next_revocation = ch->remote_revoked;
	al_chan__send(ch, FXM_REESTABLISH, 0);
}

void al_chan__revert_remote_unsigned(al_chan *ch)
{
	uint64_t lowest = ch->next_in_id;
	size_t i, j = 0;

	/* BOLT #2: "upon disconnection: MUST reverse any uncommitted updates sent by the
	 * other side (i.e. all messages beginning with `update_` for which no
	 * `commitment_signed` has been received)." "Note: a node MAY have already used
	 * the `payment_preimage` value from the `update_fulfill_htlc`": the preimage
	 * stays known. */
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		struct chan_htlc *in = &ch->in[i], *o = &ch->out[i];

		if (in->used && in->add[SIDE_L] == NEVER) {
			if (in->id < lowest)
				lowest = in->id;
			al_memzero(in, sizeof(*in));
		}
		if (o->used && !o->zombie && o->removal != RM_NONE && o->rem[SIDE_L] == NEVER) {
			o->removal = RM_NONE;
			o->blob_len = 0;
		}
	}
	ch->next_in_id = lowest;
	for (i = 0; i < ch->n_fees; i++)
		if (ch->fees[i].ours || ch->fees[i].at[SIDE_L] != NEVER)
			ch->fees[j++] = ch->fees[i];
	ch->n_fees = j;
}

/* One of our messages to send again, in its original place. */
struct resend {
	uint64_t seq;
	uint8_t msg;
	uint64_t arg;
};

static uint8_t removal_msg(const struct chan_htlc *h)
{
	return h->removal == RM_FULFILL ? FXM_FULFILL
	       : h->removal == RM_FAIL  ? FXM_FAIL
	                                : FXM_FAIL_MALFORMED;
}

/* Our updates that took effect in the peer's commitment `at` (NEVER: unsigned), in
 * the order we first sent them. */
static size_t collect(const al_chan *ch, uint64_t at, struct resend *r)
{
	size_t i, n = 0, k;

	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		const struct chan_htlc *o = &ch->out[i], *in = &ch->in[i];

		if (o->used && !o->zombie && o->add[SIDE_R] == at)
			r[n++] = (struct resend){o->seq_add, FXM_ADD, o->id};
		if (in->used && in->removal != RM_NONE && in->rem[SIDE_R] == at)
			r[n++] = (struct resend){in->seq_rem, removal_msg(in), in->id};
	}
	for (i = 0; i < ch->n_fees; i++)
		if (ch->fees[i].ours && ch->fees[i].at[SIDE_R] == at)
			r[n++] = (struct resend){ch->fees[i].seq, FXM_FEE, ch->fees[i].rate};
	/* Insertion sort by sequence: a few hundred entries at most. */
	for (i = 1; i < n; i++) {
		struct resend t = r[i];

		for (k = i; k > 0 && r[k - 1].seq > t.seq; k--)
			r[k] = r[k - 1];
		r[k] = t;
	}
	return n;
}

static al_err resend_updates(al_chan *ch, uint64_t at)
{
	al_arena *a = ch->env->scratch;
	size_t mark = al_arena_mark(a), n, i;
	struct resend *r;

	AL_TRY(al_arena_alloc(a, (2 * (size_t)ch->cfg.max_htlcs + MAX_FEE_UPDATES) * sizeof(*r),
	                      _Alignof(struct resend), (void **)&r));
	n = collect(ch, at, r);
	for (i = 0; i < n; i++)
		al_chan__send(ch, r[i].msg, r[i].arg);
	al_arena_release(a, mark);
	return AL_OK;
}

/* Check the peer's numbers; say what to retransmit. */
static al_err check_numbers(al_chan *ch, const struct al_wire_channel_reestablish *m, bool *cs,
                            bool *raa)
{
	static const uint8_t zeros[32];
	uint64_t nc = m->next_commitment_number, nr = m->next_revocation_number;

	*cs = *raa = false;
	/* " - if `next_revocation_number` is greater than expected above, AND
	 *     `your_last_per_commitment_secret` is correct for that
	 *     `next_revocation_number` minus 1: MUST NOT broadcast its commitment
	 *     transaction. SHOULD send an `error` to request the peer to fail the
	 *     channel." */
	if (nr > ch->local_revoked) {
		if (nr - 1 <= AL_SHACHAIN_FIRST_INDEX &&
		    al_signer_check_holder_secret(ch->signer, nr - 1,
		                                  m->your_last_per_commitment_secret))
			return AL_E_CHAN_DATA_LOSS;
		return AL_E_CHAN_REESTABLISH;
	}
	/* "otherwise: if `your_last_per_commitment_secret` does not match the expected
	 * values: SHOULD send an `error` and fail the channel." */
	if (nr == 0 ? memcmp(m->your_last_per_commitment_secret, zeros, 32) != 0
	            : !al_signer_check_holder_secret(ch->signer, nr - 1,
	                                             m->your_last_per_commitment_secret))
		return AL_E_CHAN_REESTABLISH;
	/* "if `next_commitment_number` is zero: MUST immediately fail the channel and
	 * broadcast any relevant latest commitment transaction." */
	if (nc == 0)
		return AL_E_CHAN_REESTABLISH;
	/* "if `next_commitment_number` is equal to the commitment number of the last
	 * `commitment_signed` message the receiving node has sent: MUST reuse the same
	 * commitment number for its next `commitment_signed`" (retransmit it);
	 * "otherwise: if `next_commitment_number` is not equal to the commitment number
	 * of the next `commitment_signed` that the receiving node would send: SHOULD
	 * send an `error` and fail the channel." */
	if (ch->remote_next >= 2 && nc == ch->remote_next - 1 &&
	    ch->remote_revoked + 2 == ch->remote_next)
		*cs = true;
	else if (nc != ch->remote_next)
		return AL_E_CHAN_REESTABLISH;
	/* "if `next_revocation_number` is equal to the commitment number of the last
	 * `revoke_and_ack` the receiving node sent... MUST re-send the
	 * `revoke_and_ack`"; "otherwise: if `next_revocation_number` is not equal to 1
	 * greater than the commitment number of the last `revoke_and_ack` the receiving
	 * node has sent: SHOULD send an `error`". */
	if (ch->local_revoked >= 1 && nr == ch->local_revoked - 1)
		*raa = true;
	else if (nr != ch->local_revoked)
		return AL_E_CHAN_REESTABLISH;
	return AL_OK;
}

static al_err resend_commit(al_chan *ch)
{
	uint64_t m = ch->remote_next - 1;

	AL_TRY(resend_updates(ch, m));
	al_chan__send(ch, FXM_COMMIT, m);
	return AL_OK;
}

al_err al_chan__recv_reestablish(al_chan *ch, const struct al_wire_channel_reestablish *m)
{
	bool cs, raa;
	al_pubkey p;

	if (!(ch->state & AL_CHAN_ST_FUNDED) || (ch->state & AL_CHAN_ST_REESTABLISHED))
		return AL_E_CHAN_UNEXPECTED;
	/* "MUST ignore `my_current_per_commitment_point`, but MAY require it to be a
	 * valid point." */
	if (al_pubkey_parse(ch->env->secp, &p, m->my_current_per_commitment_point, 33) != AL_OK)
		return AL_E_PUBKEY;
	AL_TRY(check_numbers(ch, m, &cs, &raa));
	ch->state |= AL_CHAN_ST_REESTABLISHED;
	/* "if `next_commitment_number` is 1 in both the `channel_reestablish` it sent and
	 * received... MUST retransmit `channel_ready`." */
	if (ch->rs_next_commitment == 1 && m->next_commitment_number == 1 &&
	    (ch->state & AL_CHAN_ST_READY_SENT))
		al_chan__send(ch, FXM_CHANNEL_READY, 0);
	/* "MUST retransmit `revoke_and_ack` and `commitment_signed` in the same relative
	 * order as initially transmitted." */
	if (raa && (!cs || ch->raa_seq < ch->cs_seq))
		al_chan__send(ch, FXM_REVOKE, ch->local_revoked - 1);
	if (cs)
		AL_TRY(resend_commit(ch));
	if (raa && cs && ch->raa_seq > ch->cs_seq)
		al_chan__send(ch, FXM_REVOKE, ch->local_revoked - 1);
	/* "upon reconnection: if it has sent a previous `shutdown`: MUST retransmit
	 * `shutdown`." (It went when our updates were all signed.) */
	if (ch->state & AL_CHAN_ST_SHUTDOWN_SENT)
		al_chan__send(ch, FXM_SHUTDOWN, 0);
	/* "`closing_signed` also has no acknowledgment so must be retransmitted upon
	 * reconnection": a funder whose close is final offers the final fee again. */
	if (ch->close.done && (ch->state & AL_CHAN_ST_OUTBOUND)) {
		al_chan__send(ch, FXM_CLOSING_SIGNED, ch->close.our_fee);
		ch->close.final_resent = true;
	}
	/* Our updates the peer never signed were reversed by it: send them again. */
	return resend_updates(ch, NEVER);
}
