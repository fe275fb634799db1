#include "ln/signer.h"

#include <string.h>

#include "btc/sighash.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "ln/scripts.h"
#include "ln/shachain.h"
#include "ln/signer_int.h"

#define STATE_MAGIC 0x51
/* Flags of the saved state. */
#define ST_HOLDER_ACCEPTED  0x01u
#define ST_HOLDER_BROADCAST 0x02u
#define ST_CLOSING          0x04u
#define ST_CP_POINT0        0x08u
#define ST_CP_POINT1        0x10u
#define ST_ALL_FLAGS        0x1fu

static const char seed_tag[] = "alight/ln/per-commitment-seed/v1";

/* --- keys ------------------------------------------------------------------ */

al_err al_signer_root_init(al_signer_root *r, const al_secp *ctx, const uint8_t *seed,
                           size_t seed_len, uint32_t coin)
{
	const uint32_t path[] = {1017 | AL_BIP32_HARDENED, coin | AL_BIP32_HARDENED};
	al_xkey master;
	al_err e;

	memset(r, 0, sizeof(*r));
	memset(&master, 0, sizeof(master));
	e = al_bip32_master(ctx, &master, seed, seed_len);
	if (e == AL_OK)
		e = al_bip32_derive(ctx, &r->account, &master, path, 2);
	al_xkey_clear(&master);
	if (e != AL_OK)
		al_signer_root_clear(r);
	return e;
}

void al_signer_root_clear(al_signer_root *r)
{
	al_xkey_clear(&r->account);
}

al_err al_signer_root_key(const al_signer_root *r, const al_secp *ctx, al_privkey *out,
                          uint32_t family, uint32_t index)
{
	const uint32_t path[] = {family | AL_BIP32_HARDENED, 0, index};
	al_xkey k;
	al_err e;

	memset(&k, 0, sizeof(k));
	if (index & AL_BIP32_HARDENED || family & AL_BIP32_HARDENED)
		return AL_E_RANGE;
	e = al_bip32_derive(ctx, &k, &r->account, path, 3);
	if (e == AL_OK && !k.has_priv)
		e = AL_E_BIP32_KEY;
	if (e == AL_OK)
		*out = k.priv;
	else
		al_privkey_clear(out);
	al_xkey_clear(&k);
	return e;
}

size_t al_signer_size(void)
{
	return sizeof(struct al_signer);
}

static al_err derive_all(al_signer *s, const al_signer_root *r)
{
	al_privkey root5;
	al_sha256_ctx h;

	AL_TRY(al_signer_root_key(r, s->ctx, &s->funding, AL_SIGNER_FAMILY_MULTISIG, s->index));
	AL_TRY(al_signer_root_key(r, s->ctx, &s->revocation, AL_SIGNER_FAMILY_REVOCATION_BASE,
	                          s->index));
	AL_TRY(al_signer_root_key(r, s->ctx, &s->htlc, AL_SIGNER_FAMILY_HTLC_BASE, s->index));
	AL_TRY(al_signer_root_key(r, s->ctx, &s->payment, AL_SIGNER_FAMILY_PAYMENT_BASE, s->index));
	AL_TRY(al_signer_root_key(r, s->ctx, &s->delayed, AL_SIGNER_FAMILY_DELAY_BASE, s->index));
	AL_TRY(al_signer_root_key(r, s->ctx, &root5, AL_SIGNER_FAMILY_REVOCATION_ROOT, s->index));
	al_sha256_init(&h);
	al_sha256_update(&h, seed_tag, sizeof(seed_tag) - 1);
	al_sha256_update(&h, root5.k, sizeof(root5.k));
	al_sha256_final(&h, s->seed);
	al_privkey_clear(&root5);
	AL_TRY(al_pubkey_from_privkey(s->ctx, &s->funding_pub, &s->funding));
	AL_TRY(al_pubkey_from_privkey(s->ctx, &s->bp.revocation, &s->revocation));
	AL_TRY(al_pubkey_from_privkey(s->ctx, &s->bp.htlc, &s->htlc));
	AL_TRY(al_pubkey_from_privkey(s->ctx, &s->bp.payment, &s->payment));
	return al_pubkey_from_privkey(s->ctx, &s->bp.delayed_payment, &s->delayed);
}

al_err al_signer_init(al_signer **out, void *mem, size_t len, const al_secp *ctx,
                      const al_signer_root *root, uint32_t index)
{
	al_signer *s = mem;
	al_err e;

	*out = NULL;
	if (!mem || len < sizeof(*s) || ((uintptr_t)mem % _Alignof(al_signer)) != 0)
		return AL_E_ARG;
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->index = index;
	e = derive_all(s, root);
	if (e != AL_OK) {
		al_signer_clear(s);
		return e;
	}
	*out = s;
	return AL_OK;
}

void al_signer_clear(al_signer *s)
{
	al_memzero(s, sizeof(*s));
}

uint32_t al_signer_index(const al_signer *s)
{
	return s->index;
}

void al_signer_basepoints(const al_signer *s, al_ln_basepoints *bp, al_pubkey *funding)
{
	*bp = s->bp;
	*funding = s->funding_pub;
}

static al_err holder_secret(const al_signer *s, uint64_t n, uint8_t out[32])
{
	if (n > AL_SHACHAIN_FIRST_INDEX) {
		memset(out, 0, 32);
		return AL_E_RANGE;
	}
	return al_shachain_from_seed(out, s->seed, al_shachain_index_of(n));
}

al_err al_signer_holder_point(const al_signer *s, uint64_t n, al_pubkey *out)
{
	uint8_t secret[32];
	al_err e;

	/* BOLT #3: per_commitment_point = per_commitment_secret * G */
	e = holder_secret(s, n, secret);
	if (e == AL_OK)
		e = al_ln_per_commitment_point(s->ctx, out, secret);
	al_memzero(secret, sizeof(secret));
	return e;
}

static bool same_basepoints(const al_secp *ctx, const al_ln_basepoints *a,
                            const al_ln_basepoints *b)
{
	return al_pubkey_eq(ctx, &a->revocation, &b->revocation) &&
	       al_pubkey_eq(ctx, &a->payment, &b->payment) &&
	       al_pubkey_eq(ctx, &a->delayed_payment, &b->delayed_payment) &&
	       al_pubkey_eq(ctx, &a->htlc, &b->htlc);
}

static bool same_channel(const al_secp *ctx, const al_signer_channel *a, const al_signer_channel *b)
{
	return a->type == b->type && a->holder_is_funder == b->holder_is_funder &&
	       memcmp(a->funding_txid, b->funding_txid, 32) == 0 &&
	       a->funding_vout == b->funding_vout &&
	       a->funding_amount.sat == b->funding_amount.sat &&
	       al_pubkey_eq(ctx, &a->counterparty_funding, &b->counterparty_funding) &&
	       same_basepoints(ctx, &a->counterparty, &b->counterparty) &&
	       a->holder_selected_delay == b->holder_selected_delay &&
	       a->counterparty_selected_delay == b->counterparty_selected_delay;
}

al_err al_signer_ready(al_signer *s, const al_signer_channel *ch)
{
	const al_pubkey *opener, *accepter;

	if (s->ready)
		return same_channel(s->ctx, &s->ch, ch) ? AL_OK : AL_E_SIGNER_TX;
	if (ch->type != AL_LN_CHAN_STATIC_REMOTEKEY && ch->type != AL_LN_CHAN_ANCHORS)
		return AL_E_SIGNER_TX;
	if (ch->holder_selected_delay == 0 || ch->counterparty_selected_delay == 0 ||
	    !al_sat_is_valid_money(ch->funding_amount))
		return AL_E_SIGNER_TX;
	s->ch = *ch;
	opener = ch->holder_is_funder ? &s->bp.payment : &ch->counterparty.payment;
	accepter = ch->holder_is_funder ? &ch->counterparty.payment : &s->bp.payment;
	s->obscurer = al_ln_commitment_obscurer(s->ctx, opener, accepter);
	s->ready = true;
	return AL_OK;
}

/* --- transaction checks ------------------------------------------------------- */

static bool same_keyset(const al_secp *ctx, const al_ln_keyset *a, const al_ln_keyset *b)
{
	return al_pubkey_eq(ctx, &a->revocation, &b->revocation) &&
	       al_pubkey_eq(ctx, &a->local_delayed, &b->local_delayed) &&
	       al_pubkey_eq(ctx, &a->local_htlc, &b->local_htlc) &&
	       al_pubkey_eq(ctx, &a->remote_htlc, &b->remote_htlc) &&
	       al_pubkey_eq(ctx, &a->remote, &b->remote);
}

/* Is `c` a commitment of this channel, owned by us (holder) or the counterparty, at
 * `point`, and is its transaction the one its parameters describe? The signer
 * derives the keys itself and rebuilds the transaction. */
static al_err check_commit(const al_signer *s, const al_ln_commit *c, bool holder,
                           const al_pubkey *point, al_arena *a)
{
	const al_ln_commit_params *p = &c->p;
	const al_signer_channel *ch = &s->ch;
	uint8_t t1[32], t2[32];
	size_t mark = al_arena_mark(a);
	al_ln_commit rebuilt;
	al_ln_keyset k;
	al_err e;

	if (!s->ready)
		return AL_E_SIGNER_NOT_READY;
	if (p->type != ch->type || memcmp(p->funding_txid, ch->funding_txid, 32) != 0 ||
	    p->funding_vout != ch->funding_vout ||
	    p->funding_amount.sat != ch->funding_amount.sat || p->obscurer != s->obscurer)
		return AL_E_SIGNER_TX;
	if (holder) {
		if (!al_pubkey_eq(s->ctx, &p->local_funding, &s->funding_pub) ||
		    !al_pubkey_eq(s->ctx, &p->remote_funding, &ch->counterparty_funding) ||
		    p->local_is_funder != ch->holder_is_funder ||
		    p->to_self_delay != ch->counterparty_selected_delay)
			return AL_E_SIGNER_TX;
		AL_TRY(al_ln_keyset_derive(s->ctx, &k, &s->bp, &ch->counterparty, point));
	} else {
		if (!al_pubkey_eq(s->ctx, &p->local_funding, &ch->counterparty_funding) ||
		    !al_pubkey_eq(s->ctx, &p->remote_funding, &s->funding_pub) ||
		    p->local_is_funder == ch->holder_is_funder ||
		    p->to_self_delay != ch->holder_selected_delay)
			return AL_E_SIGNER_TX;
		/* The to_remote output pays our payment_basepoint (static_remotekey). */
		AL_TRY(al_ln_keyset_derive(s->ctx, &k, &ch->counterparty, &s->bp, point));
	}
	if (!same_keyset(s->ctx, &k, &p->keys))
		return AL_E_SIGNER_TX;
	e = al_ln_commit_build(s->ctx, &rebuilt, a, p);
	if (e == AL_OK) {
		al_tx_txid(&rebuilt.tx, t1);
		al_tx_txid(&c->tx, t2);
		if (memcmp(t1, t2, 32) != 0 || rebuilt.n_untrimmed_htlcs != c->n_untrimmed_htlcs)
			e = AL_E_SIGNER_TX;
	}
	al_arena_release(a, mark);
	return e;
}

/* --- counterparty commitments ------------------------------------------------ */

static al_err sign_htlcs(const al_signer *s, const al_ln_commit *c, const al_pubkey *point,
                         al_arena *a, al_ecdsa_sig *htlc_sigs)
{
	size_t mark = al_arena_mark(a), i;
	al_ln_htlc_tx *txs;
	al_privkey k;
	al_err e;

	/* BOLT #3: the HTLC transactions of the counterparty's commitment are signed with
	 * our htlc key for its point: remote_htlcpubkey from our htlc_basepoint. */
	e = al_ln_htlc_txs_build(s->ctx, &txs, a, c);
	if (e == AL_OK)
		e = al_ln_derive_privkey(s->ctx, &k, &s->htlc, point);
	for (i = 0; e == AL_OK && i < c->n_untrimmed_htlcs; i++)
		e = al_ln_htlc_tx_sign(s->ctx, &htlc_sigs[i], &txs[i], &k,
		                       al_ln_htlc_tx_remote_sighash_type(&txs[i]));
	al_privkey_clear(&k);
	al_arena_release(a, mark);
	return e;
}

al_err al_signer_sign_counterparty(al_signer *s, const al_ln_commit *c, const al_pubkey *point,
                                   al_arena *a, al_ecdsa_sig *sig, al_ecdsa_sig *htlc_sigs)
{
	uint64_t n = c->p.commitment_number;
	uint8_t txid[32];
	bool again;

	if (s->closing)
		return AL_E_SIGNER_CLOSED;
	/* In sequence: the next one, or the last one again (a retransmission). */
	again = s->cp_next > 0 && n == s->cp_next - 1;
	if (!again && n != s->cp_next)
		return AL_E_SIGNER_SEQUENCE;
	/* BOLT #2: the counterparty holds at most two unrevoked commitments: signing n
	 * needs n - 2 revoked. */
	if (!again && n >= 2 && s->cp_revoked < n - 1)
		return AL_E_SIGNER_UNREVOKED;
	AL_TRY(check_commit(s, c, false, point, a));
	al_tx_txid(&c->tx, txid);
	if (again &&
	    (memcmp(txid, s->cp_txid, 32) != 0 || !al_pubkey_eq(s->ctx, point, &s->cp_point[0])))
		return AL_E_SIGNER_CONFLICT;
	AL_TRY(al_ln_commit_sign(s->ctx, sig, c, &s->funding));
	AL_TRY(sign_htlcs(s, c, point, a, htlc_sigs));
	if (!again) {
		s->cp_point[1] = s->cp_point[0];
		s->cp_has_point[1] = s->cp_has_point[0];
		s->cp_point[0] = *point;
		s->cp_has_point[0] = true;
		memcpy(s->cp_txid, txid, 32);
		s->cp_next = n + 1;
	}
	return AL_OK;
}

al_err al_signer_counterparty_revoked(al_signer *s, uint64_t n, const uint8_t secret[32])
{
	al_pubkey p;

	/* Revoking n needs n + 1 signed: n + 1 <= cp_next - 1. */
	if (n != s->cp_revoked || s->cp_next < 2 || n > s->cp_next - 2 || !s->cp_has_point[1])
		return AL_E_SIGNER_SEQUENCE;
	if (al_ln_per_commitment_point(s->ctx, &p, secret) != AL_OK ||
	    !al_pubkey_eq(s->ctx, &p, &s->cp_point[1]))
		return AL_E_SIGNER_SECRET;
	s->cp_revoked = n + 1;
	return AL_OK;
}

/* --- our commitments ---------------------------------------------------------- */

static al_err verify_htlcs(const al_signer *s, const al_ln_commit *c, al_arena *a,
                           const al_ecdsa_sig *htlc_sigs)
{
	size_t mark = al_arena_mark(a), i;
	al_ln_htlc_tx *txs;
	al_err e;

	/* BOLT #2: "if any `htlc_signature` is not valid for the corresponding HTLC
	 * transaction OR non-compliant with LOW-S-standard rule". The peer signs with
	 * its htlc key for our point: remote_htlcpubkey of our commitment. */
	e = al_ln_htlc_txs_build(s->ctx, &txs, a, c);
	for (i = 0; e == AL_OK && i < c->n_untrimmed_htlcs; i++)
		if (al_ln_htlc_tx_verify(s->ctx, &htlc_sigs[i], &txs[i], &c->p.keys.remote_htlc,
		                         al_ln_htlc_tx_remote_sighash_type(&txs[i])) != AL_OK)
			e = AL_E_CHAN_HTLC_SIG;
	al_arena_release(a, mark);
	return e;
}

al_err al_signer_validate_holder(al_signer *s, const al_ln_commit *c, al_arena *a,
                                 const al_ecdsa_sig *sig, const al_ecdsa_sig *htlc_sigs,
                                 size_t n_htlc_sigs)
{
	uint64_t n = c->p.commitment_number;
	al_pubkey point;

	if (s->holder_accepted ? n != s->holder_latest + 1 : n != 0)
		return AL_E_SIGNER_SEQUENCE;
	if (s->holder_broadcast)
		return AL_E_SIGNER_BROADCAST;
	AL_TRY(al_signer_holder_point(s, n, &point));
	AL_TRY(check_commit(s, c, true, &point, a));
	/* BOLT #2: "if `signature` is not valid for its local commitment transaction OR
	 * non-compliant with LOW-S-standard rule" */
	if (al_ln_commit_verify(s->ctx, sig, c, &s->ch.counterparty_funding) != AL_OK)
		return AL_E_CHAN_COMMIT_SIG;
	/* "if `num_htlcs` is not equal to the number of HTLC outputs in the local
	 * commitment transaction" */
	if (n_htlc_sigs != c->n_untrimmed_htlcs)
		return AL_E_CHAN_HTLC_SIG_COUNT;
	AL_TRY(verify_htlcs(s, c, a, htlc_sigs));
	s->holder_accepted = true;
	s->holder_latest = n;
	al_tx_txid(&c->tx, s->holder_txid);
	return AL_OK;
}

al_err al_signer_revoke_holder(al_signer *s, uint64_t n, uint8_t secret[32])
{
	memset(secret, 0, 32);
	/* Commitment n + 1 must be held, signed by the counterparty. */
	if (!s->holder_accepted || n >= s->holder_latest)
		return AL_E_SIGNER_NOT_SIGNED;
	/* In order (an earlier secret may be given again: a retransmission). */
	if (n > s->holder_revoked)
		return AL_E_SIGNER_SEQUENCE;
	AL_TRY(holder_secret(s, n, secret));
	if (n == s->holder_revoked)
		s->holder_revoked = n + 1;
	return AL_OK;
}

bool al_signer_check_holder_secret(const al_signer *s, uint64_t n, const uint8_t secret[32])
{
	uint8_t mine[32];
	bool eq;

	if (holder_secret(s, n, mine) != AL_OK)
		return false;
	eq = al_memeq_ct(mine, secret, 32);
	al_memzero(mine, sizeof(mine));
	al_declassify(&eq, sizeof(eq));
	return eq;
}

static al_err check_latest_holder(const al_signer *s, const al_ln_commit *c)
{
	uint8_t txid[32];

	if (!s->holder_accepted || c->p.commitment_number != s->holder_latest)
		return AL_E_SIGNER_SEQUENCE;
	if (s->holder_latest < s->holder_revoked)
		return AL_E_SIGNER_REVOKED;
	al_tx_txid(&c->tx, txid);
	return memcmp(txid, s->holder_txid, 32) == 0 ? AL_OK : AL_E_SIGNER_CONFLICT;
}

al_err al_signer_sign_holder(al_signer *s, const al_ln_commit *c, al_ecdsa_sig *sig)
{
	AL_TRY(check_latest_holder(s, c));
	AL_TRY(al_ln_commit_sign(s->ctx, sig, c, &s->funding));
	/* BOLT #2: "MUST NOT broadcast old (revoked) commitment transactions": from now
	 * on this one is never revoked. */
	s->holder_broadcast = true;
	return AL_OK;
}

al_err al_signer_sign_holder_htlc(al_signer *s, const al_ln_commit *c, const al_ln_htlc_tx *h,
                                  al_ecdsa_sig *sig)
{
	uint8_t txid[32];
	al_pubkey point;
	al_privkey k;
	al_err e;

	if (!s->holder_broadcast)
		return AL_E_SIGNER_SEQUENCE;
	AL_TRY(check_latest_holder(s, c));
	al_tx_txid(&c->tx, txid);
	if (h->tx.n_in != 1 || memcmp(h->tx.in[0].txid, txid, 32) != 0)
		return AL_E_SIGNER_TX;
	AL_TRY(al_signer_holder_point(s, c->p.commitment_number, &point));
	/* BOLT #3: the owner signs its HTLC transactions with local_htlcpubkey's key,
	 * SIGHASH_ALL. */
	e = al_ln_derive_privkey(s->ctx, &k, &s->htlc, &point);
	if (e == AL_OK)
		e = al_ln_htlc_tx_sign(s->ctx, sig, h, &k, AL_SIGHASH_ALL);
	al_privkey_clear(&k);
	return e;
}

al_err al_signer_sign_closing(al_signer *s, const al_tx *tx, al_ecdsa_sig *sig)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT], h[32];
	al_wb w;

	if (!s->ready)
		return AL_E_SIGNER_NOT_READY;
	if (tx->n_in != 1 || memcmp(tx->in[0].txid, s->ch.funding_txid, 32) != 0 ||
	    tx->in[0].vout != s->ch.funding_vout || tx->n_out == 0)
		return AL_E_SIGNER_TX;
	al_wb_init(&w, ws, sizeof(ws));
	al_ln_funding_script(&w, s->ctx, &s->funding_pub, &s->ch.counterparty_funding);
	if (!al_wb_ok(&w))
		return w.err;
	AL_TRY(al_sighash_segwit_v0(h, tx, 0, ws, w.len, s->ch.funding_amount, AL_SIGHASH_ALL));
	AL_TRY(al_ecdsa_sign(s->ctx, sig, h, &s->funding));
	s->closing = true;
	return AL_OK;
}

/* --- state ---------------------------------------------------------------------- */

void al_signer_get_status(const al_signer *s, al_signer_status *st)
{
	st->holder_revoked = s->holder_revoked;
	st->holder_accepted = s->holder_accepted;
	st->holder_latest = s->holder_latest;
	st->holder_broadcast = s->holder_broadcast;
	st->counterparty_next = s->cp_next;
	st->counterparty_revoked = s->cp_revoked;
	st->closing = s->closing;
}

void al_signer_save(const al_signer *s, al_wb *w)
{
	static const uint8_t zeros[AL_PUBKEY_LEN];
	uint8_t pk[AL_PUBKEY_LEN], flags = 0;
	size_t start = w->len, i;

	flags |= s->holder_accepted ? ST_HOLDER_ACCEPTED : 0;
	flags |= s->holder_broadcast ? ST_HOLDER_BROADCAST : 0;
	flags |= s->closing ? ST_CLOSING : 0;
	flags |= s->cp_has_point[0] ? ST_CP_POINT0 : 0;
	flags |= s->cp_has_point[1] ? ST_CP_POINT1 : 0;
	al_wb_u8(w, STATE_MAGIC);
	al_wb_u8(w, flags);
	al_wb_be64(w, s->holder_revoked);
	al_wb_be64(w, s->holder_latest);
	al_wb_bytes(w, s->holder_txid, 32);
	al_wb_be64(w, s->cp_next);
	al_wb_bytes(w, s->cp_txid, 32);
	al_wb_be64(w, s->cp_revoked);
	for (i = 0; i < 2; i++) {
		if (s->cp_has_point[i])
			al_pubkey_serialize(s->ctx, pk, &s->cp_point[i]);
		al_wb_bytes(w, s->cp_has_point[i] ? pk : zeros, AL_PUBKEY_LEN);
	}
	while (w->len - start < AL_SIGNER_STATE_LEN)
		al_wb_u8(w, 0);
}

static bool is_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The counters must describe a reachable state. */
static bool state_consistent(const al_signer *t)
{
	if (!t->holder_accepted && (t->holder_revoked || t->holder_latest || t->holder_broadcast))
		return false;
	if (t->holder_accepted && t->holder_revoked > t->holder_latest)
		return false;
	if (t->cp_next > AL_SHACHAIN_FIRST_INDEX + 1 || t->holder_latest > AL_SHACHAIN_FIRST_INDEX)
		return false;
	if (t->cp_revoked > (t->cp_next >= 2 ? t->cp_next - 1 : 0))
		return false;
	if (t->cp_has_point[0] != (t->cp_next >= 1) || t->cp_has_point[1] != (t->cp_next >= 2))
		return false;
	return true;
}

al_err al_signer_load(al_signer *s, al_cur *c)
{
	const uint8_t *start = c->p;
	uint8_t pk[AL_PUBKEY_LEN], flags, magic;
	al_signer t = *s;
	size_t i;
	al_err e = AL_OK;

	magic = al_cur_u8(c);
	flags = al_cur_u8(c);
	t.holder_revoked = al_cur_be64(c);
	t.holder_latest = al_cur_be64(c);
	al_cur_bytes(c, t.holder_txid, 32);
	t.cp_next = al_cur_be64(c);
	al_cur_bytes(c, t.cp_txid, 32);
	t.cp_revoked = al_cur_be64(c);
	t.holder_accepted = flags & ST_HOLDER_ACCEPTED;
	t.holder_broadcast = flags & ST_HOLDER_BROADCAST;
	t.closing = flags & ST_CLOSING;
	t.cp_has_point[0] = flags & ST_CP_POINT0;
	t.cp_has_point[1] = flags & ST_CP_POINT1;
	for (i = 0; i < 2; i++) {
		al_cur_bytes(c, pk, sizeof(pk));
		if (!al_cur_ok(c))
			break;
		/* An absent point is written as zeros, and must read as them. */
		if (t.cp_has_point[i]
		        ? al_pubkey_parse(s->ctx, &t.cp_point[i], pk, sizeof(pk)) != AL_OK
		        : !is_zero(pk, sizeof(pk)))
			e = AL_E_CHAN_RECORD;
	}
	/* The padding is zeros, so that a loaded state saves to the same bytes. */
	while (al_cur_ok(c) && (size_t)(c->p - start) < AL_SIGNER_STATE_LEN)
		if (al_cur_u8(c) != 0)
			e = AL_E_CHAN_RECORD;
	if (!al_cur_ok(c))
		return c->err;
	if (e != AL_OK || magic != STATE_MAGIC || (flags & ~ST_ALL_FLAGS) ||
	    !state_consistent(&t)) {
		al_memzero(&t, sizeof(t));
		return AL_E_CHAN_RECORD;
	}
	*s = t;
	al_memzero(&t, sizeof(t));
	return AL_OK;
}
