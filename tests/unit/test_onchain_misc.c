/* The rest of BOLT #5 and the signer's policy: a mutual close (nothing to claim, done
 * at depth, what it paid us reported); a counterparty commitment we hold no data of
 * (our to_remote salvaged by its script, the user warned); the signer refusing
 * every on-chain spend outside its policy (another destination, our commitment not
 * signed for broadcast or revoked, a direct HTLC spend of a counterparty commitment it
 * does not hold, a revocation spend of an unrevoked one, an HTLC transaction not as
 * BOLT #3 makes it); the engine refusing what is not for it. */
#include <stdlib.h>
#include <string.h>

#include "btc/script.h"
#include "ln/channel_onchain.h"
#include "onchain_world.h"
#include "test.h"

static const uint8_t shut_a[22] = {0x00, 0x14, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
                                   0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1,
                                   0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1};

static void mutual(al_ln_chan_type type)
{
	world *w = ow_open_plain(type, 31);
	const hbcast *b;
	al_onchain_info info;
	const al_onchain_fx *e;
	size_t i;
	uint64_t ours = 0;

	CHECK_OK(al_chan_shutdown(w->p.a.ch, shut_a, sizeof(shut_a), 1000));
	h_pump(&w->p);
	CHECK(al_chan_state(w->p.a.ch) & AL_CHAN_ST_CLOSED);
	b = w->p.a.n_bc ? &w->p.a.bc[w->p.a.n_bc - 1] : NULL;
	CHECK(b && b->kind == AL_CHAN_TX_CLOSING);
	if (!b) {
		ow_free(w);
		return;
	}
	ow_engine(w, true, NULL);
	CHECK(oh_submit(&w->chain, b->p, b->len) >= 0);
	ow_mine(w, 5);
	al_onchain_get_info(w->na.o, &info);
	CHECK(info.spend == AL_ONCHAIN_SPEND_MUTUAL);
	CHECK(!(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_DONE));
	ow_mine(w, 1);
	CHECK(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_DONE);
	CHECK(oh_count(&w->na, AL_ONCHAIN_EV_DONE) == 1);
	for (i = 0; i < w->chain.tx[0].tx.n_out; i++)
		if (!memcmp(w->chain.tx[0].tx.out[i].script.p, shut_a, 22))
			ours = w->chain.tx[0].tx.out[i].amount.sat;
	e = oh_event(&w->na, AL_ONCHAIN_EV_SPEND, 0);
	CHECK(e && e->spend == AL_ONCHAIN_SPEND_MUTUAL && e->amount.sat == ours && ours > 500000);
	CHECK(w->na.broadcasts == 0);
	ow_free(w);
}

/* B's commitment, but A lost its monitor entries (data loss): A salvages its
 * to_remote, warns, and is done with it. */
static void unknown_commitment(al_ln_chan_type type)
{
	world *w = ow_open(type, 32);
	al_chan_info ci;
	uint64_t a_main;
	size_t i, u;

	al_chan_get_info(w->p.b.ch, &ci);
	u = ow_untrimmed(w, false, ci.local_feerate);
	a_main = ow_main_output(w, false, false, ci.local_to_local.msat, ci.local_to_remote.msat,
	                        ci.local_feerate, u);
	h_disconnect(&w->p);
	CHECK_OK(al_chan_force_close(w->p.b.ch));
	h_pump(&w->p);
	ow_engine(w, true, NULL);
	for (i = 0; i < OH_MAX_MON; i++) {
		free(w->na.mon[i]);
		w->na.mon[i] = NULL;
	}
	ow_engine(w, false, NULL);
	oh_wallet_coin(&w->nb, &w->chain, 100000, 3);
	oh_wallet_coin(&w->nb, &w->chain, 100000, 4);
	ow_mine(w, 3);
	CHECK(oh_event(&w->na, AL_ONCHAIN_EV_SPEND, 0) &&
	      oh_event(&w->na, AL_ONCHAIN_EV_SPEND, 0)->spend == AL_ONCHAIN_SPEND_UNKNOWN_CP);
	CHECK(oh_count(&w->na, AL_ONCHAIN_EV_WARNING) == 1);
	for (i = 0; i < 60 && !(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_DONE); i++)
		ow_mine(w, 1);
	CHECK(al_onchain_state(w->na.o) & AL_ONCHAIN_ST_DONE);
	CHECK(ow_net(w, &w->na) == (int64_t)a_main);
	CHECK(ow_claimed(&w->na) == (int64_t)a_main);
	ow_free(w);
}

/* The peer's commitment 0, broadcast before any update: the entry kept when its
 * signature went out (funding_created from the funder, funding_signed from the
 * fundee) names it, so it is the counterparty's commitment, not an unknown one.
 * Found against Electrum, which force-closed a channel it had opened and never used. */
static void initial_commitment(al_ln_chan_type type, bool a_closes, uint64_t seed)
{
	world *w = ow_open_plain(type, seed);
	hnode *closer = a_closes ? &w->p.a : &w->p.b;
	oh_node *other = a_closes ? &w->nb : &w->na;
	const al_onchain_fx *e;
	al_chan_info ci;
	size_t i;

	al_chan_get_info(closer->ch, &ci);
	CHECK(ci.local_number == 0 && ci.remote_number == 0);
	CHECK(other->mon[0] != NULL);
	h_disconnect(&w->p);
	CHECK_OK(al_chan_force_close(closer->ch));
	h_pump(&w->p);
	ow_both_engines(w);
	ow_mine(w, 3);
	e = oh_event(other, AL_ONCHAIN_EV_SPEND, 0);
	CHECK(e && e->spend == AL_ONCHAIN_SPEND_COUNTERPARTY);
	CHECK(oh_count(other, AL_ONCHAIN_EV_WARNING) == 0);
	for (i = 0; i < 400 && !(al_onchain_state(other->o) & AL_ONCHAIN_ST_DONE); i++)
		ow_mine(w, 1);
	CHECK(al_onchain_state(other->o) & AL_ONCHAIN_ST_DONE);
	CHECK(!oh_has_event(other, AL_ONCHAIN_EV_FAILED, NULL));
	ow_free(w);
}

static void tiny_tx(al_tx *tx, al_arena *a, const uint8_t *spk, size_t len, uint32_t seq)
{
	uint8_t prev[32];

	memset(prev, 0x77, sizeof(prev));
	CHECK_OK(al_tx_init(tx, a, 2, 0, 1, 1));
	CHECK_OK(al_tx_add_input(tx, prev, 0, seq));
	CHECK_OK(al_tx_add_output(tx, al_sat_of(10000), spk, len));
}

static void signer_policy(al_ln_chan_type type)
{
	static uint8_t am[4 << 20];
	world *w = ow_open(type, 33);
	al_signer *sa = w->p.a.signer, *sb = w->p.b.signer;
	al_signer_status st;
	al_signer_spend d;
	al_ecdsa_sig sig;
	al_ln_htlc h;
	al_pubkey pt;
	al_arena a;
	al_tx tx;
	uint8_t other[22];
	size_t i;

	al_arena_init(&a, am, sizeof(am));
	memcpy(other, shut_a, sizeof(other));
	other[5] ^= 1;
	h_disconnect(&w->p);
	CHECK_OK(al_chan_force_close(w->p.a.ch));
	h_pump(&w->p);
	ow_engine(w, true, NULL);
	ow_engine(w, false, NULL);
	/* The destination is set once. */
	CHECK_ERR(al_signer_set_destination(sa, other, sizeof(other)), AL_E_ONCHAIN_SIGN_DEST);
	CHECK_OK(al_signer_set_destination(sa, w->na.wspk, 22));
	al_signer_get_status(sa, &st);
	memset(&d, 0, sizeof(d));
	d.amount = al_sat_of(20000);
	/* Our latest commitment, signed for broadcast: a spend to the wallet is fine,
	 * anywhere else is not. */
	d.kind = AL_SIGNER_SPEND_HOLDER_DELAYED;
	d.commitment_number = st.holder_latest;
	tiny_tx(&tx, &a, w->na.wspk, 22, 25);
	CHECK_OK(al_signer_sign_spend(sa, &a, &tx, &d, &sig));
	tiny_tx(&tx, &a, other, sizeof(other), 25);
	CHECK_ERR(al_signer_sign_spend(sa, &a, &tx, &d, &sig), AL_E_ONCHAIN_SIGN_DEST);
	/* A revoked commitment of ours: never. */
	tiny_tx(&tx, &a, w->na.wspk, 22, 25);
	d.commitment_number = st.holder_latest - 1;
	CHECK(st.holder_revoked == st.holder_latest);
	CHECK_ERR(al_signer_sign_spend(sa, &a, &tx, &d, &sig), AL_E_ONCHAIN_SIGN_REVOKED);
	/* B never signed its commitment for broadcast. */
	al_signer_get_status(sb, &st);
	d.commitment_number = st.holder_latest;
	tiny_tx(&tx, &a, w->nb.wspk, 22, 25);
	CHECK_ERR(al_signer_sign_spend(sb, &a, &tx, &d, &sig), AL_E_ONCHAIN_SIGN_REVOKED);
	/* A direct HTLC spend of a counterparty commitment the signer does not hold (a
	 * point it never signed for), and a revocation spend of an unrevoked one. */
	al_signer_get_status(sa, &st);
	memset(&h, 0, sizeof(h));
	h.amount = al_msat_of(20000000);
	h.cltv_expiry = 600;
	d.kind = AL_SIGNER_SPEND_CP_HTLC;
	d.htlc = &h;
	d.commitment_number = st.counterparty_next - 1;
	CHECK_OK(al_signer_holder_point(sa, 7, &pt));
	d.point = pt;
	tiny_tx(&tx, &a, w->na.wspk, 22, 1);
	CHECK_ERR(al_signer_sign_spend(sa, &a, &tx, &d, &sig), AL_E_ONCHAIN_SIGN_COMMITMENT);
	d.kind = AL_SIGNER_SPEND_REVOKED;
	d.commitment_number = st.counterparty_revoked;
	memset(d.secret, 0x11, 32);
	CHECK_ERR(al_signer_sign_spend(sa, &a, &tx, &d, &sig), AL_E_ONCHAIN_SIGN_UNREVOKED);
	/* An HTLC transaction of our commitment whose output is not BOLT #3's. */
	{
		const al_ecdsa_sig *their_htlc;
		al_ecdsa_sig their;
		al_ln_commit c;
		al_ln_htlc_tx ht;

		CHECK_OK(al_chan_holder_commitment(w->p.a.ch, &a, &c, &their, &their_htlc));
		for (i = 0; i < c.tx.n_out && c.outs[i].kind != AL_LN_OUT_HTLC; i++)
			;
		CHECK(i < c.tx.n_out);
		CHECK_OK(al_ln_htlc_tx_build(al_t_secp(), &ht, &a, &c, i));
		memset(&d, 0, sizeof(d));
		d.kind = AL_SIGNER_SPEND_HOLDER_HTLC;
		d.holder = &c;
		d.commit_out = i;
		d.amount = ht.input_amount;
		if (type == AL_LN_CHAN_STATIC_REMOTEKEY)
			CHECK_OK(al_signer_sign_spend(sa, &a, &ht.tx, &d, &sig));
		ht.tx.out[0].amount.sat -= 1;
		CHECK_ERR(al_signer_sign_spend(sa, &a, &ht.tx, &d, &sig), AL_E_ONCHAIN_SIGN_TX);
	}
	ow_free(w);
}

/* Inputs that are not for the engine change nothing. */
static void refusals(void)
{
	world *w = ow_open(AL_LN_CHAN_STATIC_REMOTEKEY, 34);
	uint8_t rec1[1 << 16], rec2[1 << 16], zero[32];
	size_t l1, l2;
	al_arena a;
	al_tx tx;
	uint8_t raw[256];
	al_wb wb;

	h_disconnect(&w->p);
	ow_engine(w, true, NULL);
	oh_drain(&w->na, &w->chain);
	CHECK_OK(al_onchain_save(w->na.o, rec1, sizeof(rec1), &l1));
	al_arena_init(&a, w->arena_mem, sizeof(w->arena_mem));
	tiny_tx(&tx, &a, w->na.wspk, 22, 0);
	al_wb_init(&wb, raw, sizeof(raw));
	al_tx_write(&wb, &tx, false);
	CHECK_ERR(al_onchain_tx(w->na.o, raw, wb.len, 501, NULL, 0), AL_E_ONCHAIN_UNRELATED);
	CHECK_ERR(al_onchain_tx(w->na.o, raw, wb.len - 1, 501, NULL, 0), AL_E_TRUNCATED);
	memset(zero, 0, sizeof(zero));
	CHECK_ERR(al_onchain_tx_gone(w->na.o, zero), AL_E_ONCHAIN_UNRELATED);
	CHECK_ERR(al_onchain_wallet_inputs(w->na.o, 5, NULL, 0), AL_E_ONCHAIN_CLAIM);
	CHECK_ERR(al_onchain_wallet_signed(w->na.o, 0, raw, wb.len), AL_E_ONCHAIN_CLAIM);
	CHECK_ERR(al_onchain_persisted(w->na.o, 999), AL_E_ARG);
	CHECK_OK(al_onchain_save(w->na.o, rec2, sizeof(rec2), &l2));
	CHECK(l1 == l2 && memcmp(rec1, rec2, l1) == 0);
	CHECK_ERR(al_onchain_save(w->na.o, rec2, 10, &l2), AL_E_BUFSIZE);
	CHECK(l2 == l1);
	ow_free(w);
}

int main(void)
{
	mutual(AL_LN_CHAN_STATIC_REMOTEKEY);
	mutual(AL_LN_CHAN_ANCHORS);
	unknown_commitment(AL_LN_CHAN_STATIC_REMOTEKEY);
	unknown_commitment(AL_LN_CHAN_ANCHORS);
	initial_commitment(AL_LN_CHAN_STATIC_REMOTEKEY, true, 34);
	initial_commitment(AL_LN_CHAN_ANCHORS, true, 35);
	initial_commitment(AL_LN_CHAN_STATIC_REMOTEKEY, false, 36);
	initial_commitment(AL_LN_CHAN_ANCHORS, false, 37);
	signer_policy(AL_LN_CHAN_STATIC_REMOTEKEY);
	signer_policy(AL_LN_CHAN_ANCHORS);
	refusals();
	return al_t_finish();
}
