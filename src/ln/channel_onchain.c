/* What the on-chain engine needs of a channel (ln/channel_onchain.h). */
#include "ln/channel_onchain.h"

#include <string.h>

#include "ln/channel_int.h"

static al_err preimages(const al_chan *ch, al_arena *a, al_onchain_setup *s)
{
	al_onchain_preimage_entry *p;
	size_t i, n = 0, k = 0;

	/* Incoming HTLCs we fulfilled, outgoing ones the peer fulfilled. */
	for (i = 0; i < ch->cfg.max_htlcs; i++)
		n += (ch->in[i].used && ch->in[i].removal == RM_FULFILL) +
		     (ch->out[i].used && ch->out[i].preimage_known);
	AL_TRY(al_arena_alloc(a, (n ? n : 1) * sizeof(*p), _Alignof(al_onchain_preimage_entry),
	                      (void **)&p));
	for (i = 0; i < ch->cfg.max_htlcs; i++) {
		if (ch->in[i].used && ch->in[i].removal == RM_FULFILL)
			memcpy(p[k++].preimage, ch->in[i].preimage, 32);
		if (ch->out[i].used && ch->out[i].preimage_known)
			memcpy(p[k++].preimage, ch->out[i].preimage, 32);
	}
	s->preimages = p;
	s->n_preimages = k;
	return AL_OK;
}

al_err al_chan_onchain_setup(const al_chan *ch, al_arena *a, al_onchain_setup *s)
{
	al_ln_commit c;

	memset(s, 0, sizeof(*s));
	if (!(ch->state & AL_CHAN_ST_FUNDED))
		return AL_E_CHAN_STATE;
	AL_TRY(al_chan__build(ch, a, SIDE_L, ch->local_next - 1, &c));
	memcpy(s->channel_id, ch->channel_id, 32);
	s->type = ch->type;
	s->holder_is_funder = ch->state & AL_CHAN_ST_OUTBOUND;
	memcpy(s->funding_txid, ch->funding_txid, 32);
	s->funding_vout = ch->funding_vout;
	s->funding = ch->funding;
	s->holder_funding = ch->local.funding;
	s->counterparty_funding = ch->remote.funding;
	s->holder_bp = ch->local.bp;
	s->counterparty_bp = ch->remote.bp;
	/* Each side's to_self_delay applies to the other side's commitment. */
	s->holder_selected_delay = ch->local.to_self_delay;
	s->counterparty_selected_delay = ch->remote.to_self_delay;
	s->holder_dust = ch->local.dust_limit;
	s->counterparty_dust = ch->remote.dust_limit;
	s->holder_number = c.p.commitment_number;
	s->holder_to_local = c.p.to_local;
	s->holder_to_remote = c.p.to_remote;
	s->holder_feerate = c.p.feerate_per_kw;
	s->holder_htlcs = c.p.htlcs;
	s->n_holder_htlcs = c.p.n_htlcs;
	s->holder_sig = ch->local_sig;
	s->holder_htlc_sigs = ch->local_htlc_sigs;
	s->n_holder_htlc_sigs = ch->n_local_htlc_sigs;
	s->holder_broadcast = ch->state & AL_CHAN_ST_FORCE_CLOSED;
	s->counterparty_revoked = ch->remote_revoked;
	s->counterparty_next = ch->remote_next;
	s->secrets = &ch->secrets;
	s->dest = ch->shut_local;
	s->dest_len = ch->shut_local_len;
	s->shutdown = ch->shut_local;
	s->shutdown_len = ch->shut_local_len;
	return preimages(ch, a, s);
}
