/* The on-chain wallet (see wallet.h): keys, scripts and UTXOs. Spending is in
 * wallet_spend.c. */
#include "wallet/wallet.h"

#include <string.h>

#include "btc/address.h"
#include "btc/script.h"
#include "chain/block.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "wallet/wallet_int.h"

size_t al_wallet_mem_size(void)
{
	return AL_WALLET_MAX_UTXOS * sizeof(al_wallet_utxo) + 16;
}

/* Derive and register scripts of `chain` up to index `upto` (exclusive). */
static al_err extend(al_wallet *w, uint8_t chain, uint32_t upto, bool *added)
{
	uint8_t ser[AL_PUBKEY_LEN], script[22];
	al_xkey k;

	if (upto > AL_WALLET_MAX_INDEX)
		upto = AL_WALLET_MAX_INDEX;
	while (w->derived[chain] < upto) {
		uint32_t i = w->derived[chain];

		AL_TRY(al_bip32_ckd(w->secp, &k, &w->chain_key[chain], i));
		al_pubkey_serialize(w->secp, ser, &k.pub);
		al_xkey_clear(&k);
		al_hash160(w->h160[chain][i], ser, sizeof(ser));
		al_wallet_p2wpkh(script, w->h160[chain][i]);
		AL_TRY(al_sync_watch_script(w->sync, script, sizeof(script)));
		w->derived[chain]++;
		if (added)
			*added = true;
	}
	return AL_OK;
}

static al_err keep_gap(al_wallet *w, bool *added)
{
	AL_TRY(extend(w, AL_WALLET_RECEIVE, w->next[0] + AL_WALLET_GAP, added));
	return extend(w, AL_WALLET_CHANGE, w->next[1] + AL_WALLET_GAP, added);
}

al_err al_wallet_init(al_wallet *w, const al_secp *secp, al_arena *a, al_arena *scratch,
                      al_sync *sync, al_net net, const uint8_t *seed, size_t seed_len)
{
	/* BIP 84: m / 84' / coin_type' / account' / change / address_index. */
	uint32_t path[3] = {AL_WALLET_PURPOSE | AL_BIP32_HARDENED,
	                    (net == AL_NET_MAINNET ? 0u : 1u) | AL_BIP32_HARDENED,
	                    0 | AL_BIP32_HARDENED};
	al_xkey master, account;
	al_err e;

	memset(w, 0, sizeof(*w));
	w->secp = secp;
	w->net = net;
	w->sync = sync;
	w->scratch = scratch;
	al_wallet_fee_caps_default(&w->caps);
	AL_TRY(
	    al_arena_alloc(a, AL_WALLET_MAX_UTXOS * sizeof(al_wallet_utxo), 8, (void **)&w->utxos));
	e = al_bip32_master(secp, &master, seed, seed_len);
	if (e == AL_OK)
		e = al_bip32_derive(secp, &account, &master, path, 3);
	if (e == AL_OK)
		e = al_bip32_ckd(secp, &w->chain_key[0], &account, 0);
	if (e == AL_OK)
		e = al_bip32_ckd(secp, &w->chain_key[1], &account, 1);
	al_xkey_clear(&master);
	al_xkey_clear(&account);
	if (e == AL_OK)
		e = keep_gap(w, NULL);
	if (e != AL_OK)
		al_wallet_clear(w);
	return e;
}

void al_wallet_clear(al_wallet *w)
{
	al_xkey_clear(&w->chain_key[0]);
	al_xkey_clear(&w->chain_key[1]);
}

al_err al_wallet_script(const al_wallet *w, uint8_t script[22], uint8_t chain, uint32_t index)
{
	if (chain > 1 || index >= w->derived[chain])
		return AL_E_RANGE;
	al_wallet_p2wpkh(script, w->h160[chain][index]);
	return AL_OK;
}

void al_wallet_p2wpkh(uint8_t script[22], const uint8_t h160[20])
{
	al_wb wb;

	al_wb_init(&wb, script, 22);
	al_script_p2wpkh(&wb, h160);
}

al_err al_wallet_address(const al_wallet *w, char *out, size_t cap, uint8_t chain, uint32_t index)
{
	if (chain > 1 || index >= w->derived[chain])
		return AL_E_RANGE;
	return al_segwit_addr_encode(out, cap, w->net, 0, w->h160[chain][index], 20);
}

al_err al_wallet_new_address(al_wallet *w, char *out, size_t cap)
{
	uint32_t i = w->next[AL_WALLET_RECEIVE];

	if (i + AL_WALLET_GAP >= AL_WALLET_MAX_INDEX)
		return AL_E_WALLET_FULL;
	AL_TRY(al_wallet_address(w, out, cap, AL_WALLET_RECEIVE, i));
	w->next[AL_WALLET_RECEIVE] = i + 1;
	return keep_gap(w, NULL);
}

bool al_wallet_find_script(const al_wallet *w, const uint8_t *script, size_t len, uint8_t *chain,
                           uint32_t *index)
{
	uint8_t h[20];

	if (!al_script_is_p2wpkh(script, len, h))
		return false;
	for (uint8_t c = 0; c < 2; c++) {
		for (uint32_t i = 0; i < w->derived[c]; i++) {
			if (!memcmp(w->h160[c][i], h, 20)) {
				*chain = c;
				*index = i;
				return true;
			}
		}
	}
	return false;
}

/* ---- UTXOs from the sync ------------------------------------------------------------ */

/* An input of a live transaction. */
typedef struct spend {
	uint8_t txid[32];
	uint32_t vout;
	size_t by; /* the spender's index in the sync */
	bool confirmed;
} spend;

typedef struct view {
	spend *sp;
	size_t n_sp, cap_sp;
	bool *dead; /* per sync transaction: dropped, or conflicting with a confirmed one */
	size_t n_tx;
} view;

al_err al_wallet_parse_tx(const al_wallet *w, const al_sync_tx *t, al_tx *tx)
{
	size_t len;
	const uint8_t *raw = al_sync_tx_raw(w->sync, t, &len);

	if (!raw)
		return AL_E_WALLET_UNKNOWN_TX;
	return al_tx_parse(tx, w->scratch, raw, len);
}

static al_err collect_spends(al_wallet *w, view *v)
{
	for (size_t i = 0; i < v->n_tx; i++) {
		const al_sync_tx *t = al_sync_tx_at(w->sync, i);
		size_t mark = al_arena_mark(w->scratch);
		al_tx tx;

		if (t->st.dropped || !t->raw_len)
			continue;
		AL_TRY(al_wallet_parse_tx(w, t, &tx));
		for (size_t k = 0; k < tx.n_in && !al_tx_is_coinbase(&tx); k++) {
			spend *s;

			if (v->n_sp == v->cap_sp)
				return AL_E_WALLET_FULL;
			s = &v->sp[v->n_sp++];
			memcpy(s->txid, tx.in[k].txid, 32);
			s->vout = tx.in[k].vout;
			s->by = i;
			s->confirmed = al_sync_confirmations(w->sync, t) > 0;
		}
		al_arena_release(w->scratch, mark);
	}
	return AL_OK;
}

/* Dropped transactions, and unconfirmed ones double-spent by a confirmed one. */
static void mark_dead(al_wallet *w, view *v)
{
	for (size_t i = 0; i < v->n_tx; i++)
		v->dead[i] = al_sync_tx_at(w->sync, i)->st.dropped;
	for (size_t a = 0; a < v->n_sp; a++) {
		for (size_t b = 0; b < v->n_sp; b++) {
			const spend *x = &v->sp[a], *y = &v->sp[b];

			if (x->by != y->by && y->confirmed && !x->confirmed && x->vout == y->vout &&
			    !memcmp(x->txid, y->txid, 32))
				v->dead[x->by] = true;
		}
	}
}

static bool is_spent(const view *v, const uint8_t txid[32], uint32_t vout)
{
	for (size_t i = 0; i < v->n_sp; i++) {
		if (!v->dead[v->sp[i].by] && v->sp[i].vout == vout &&
		    !memcmp(v->sp[i].txid, txid, 32))
			return true;
	}
	return false;
}

static bool ours_spends(const al_wallet *w, const al_tx *tx)
{
	for (size_t k = 0; k < tx->n_in; k++) {
		const al_sync_tx *p = al_sync_find_tx(w->sync, tx->in[k].txid);
		size_t mark = al_arena_mark(w->scratch);
		uint8_t c;
		uint32_t idx;
		al_tx ptx;
		bool mine = false;

		if (p && al_wallet_parse_tx(w, p, &ptx) == AL_OK && tx->in[k].vout < ptx.n_out)
			mine = al_wallet_find_script(w, ptx.out[tx->in[k].vout].script.p,
			                             ptx.out[tx->in[k].vout].script.len, &c, &idx);
		al_arena_release(w->scratch, mark);
		if (mine)
			return true;
	}
	return false;
}

static al_err add_utxo(al_wallet *w, const al_sync_tx *t, const al_tx *tx, uint32_t vout,
                       uint8_t chain, uint32_t index)
{
	al_wallet_utxo *u;
	uint32_t conf = al_sync_confirmations(w->sync, t);
	al_sat *bucket;

	if (w->n_utxos == AL_WALLET_MAX_UTXOS)
		return AL_E_WALLET_FULL;
	u = &w->utxos[w->n_utxos++];
	memset(u, 0, sizeof(*u));
	memcpy(u->txid, t->txid, 32);
	u->vout = vout;
	u->value = tx->out[vout].amount;
	u->chain = chain;
	u->index = index;
	u->confirmations = conf;
	u->height = conf ? t->st.height : 0;
	u->coinbase = al_tx_is_coinbase(tx);
	u->ours_unconfirmed = conf == 0 && ours_spends(w, tx);
	if (u->coinbase && conf < AL_WALLET_MATURITY)
		bucket = &w->bal.immature;
	else
		bucket = conf ? &w->bal.confirmed : &w->bal.unconfirmed;
	if (!al_sat_add(bucket, *bucket, u->value))
		return AL_E_OVERFLOW;
	return AL_OK;
}

static al_err collect_utxos(al_wallet *w, const view *v)
{
	for (size_t i = 0; i < v->n_tx; i++) {
		const al_sync_tx *t = al_sync_tx_at(w->sync, i);
		size_t mark = al_arena_mark(w->scratch);
		al_err e = AL_OK;
		al_tx tx;

		if (v->dead[i] || !t->raw_len)
			continue;
		AL_TRY(al_wallet_parse_tx(w, t, &tx));
		for (uint32_t k = 0; k < tx.n_out && e == AL_OK; k++) {
			uint8_t c;
			uint32_t idx;

			if (!al_wallet_find_script(w, tx.out[k].script.p, tx.out[k].script.len, &c,
			                           &idx))
				continue;
			if (idx + 1 > w->next[c])
				w->next[c] = idx + 1;
			if (!is_spent(v, t->txid, k))
				e = add_utxo(w, t, &tx, k, c, idx);
		}
		al_arena_release(w->scratch, mark);
		AL_TRY(e);
	}
	return AL_OK;
}

al_err al_wallet_update(al_wallet *w, bool *more)
{
	size_t mark = al_arena_mark(w->scratch);
	view v = {0};
	al_err e;

	*more = false;
	w->n_utxos = 0;
	memset(&w->bal, 0, sizeof(w->bal));
	v.n_tx = al_sync_tx_count(w->sync);
	v.cap_sp = 8 * v.n_tx + 16;
	e = al_arena_alloc(w->scratch, v.cap_sp * sizeof(spend), 8, (void **)&v.sp);
	if (e == AL_OK)
		e = al_arena_alloc(w->scratch, v.n_tx + 1, 1, (void **)&v.dead);
	if (e == AL_OK)
		e = collect_spends(w, &v);
	if (e == AL_OK) {
		mark_dead(w, &v);
		e = collect_utxos(w, &v);
	}
	al_arena_release(w->scratch, mark);
	AL_TRY(e);
	return keep_gap(w, more);
}

const al_wallet_balance *al_wallet_get_balance(const al_wallet *w)
{
	return &w->bal;
}

size_t al_wallet_utxo_count(const al_wallet *w)
{
	return w->n_utxos;
}

const al_wallet_utxo *al_wallet_utxo_at(const al_wallet *w, size_t i)
{
	return i < w->n_utxos ? &w->utxos[i] : NULL;
}

al_err al_wallet_commit_tx(al_wallet *w, const uint8_t *raw, size_t len)
{
	bool more;

	AL_TRY(al_sync_add_tx(w->sync, raw, len));
	return al_wallet_update(w, &more);
}

/* ---- persistence --------------------------------------------------------------------- */

#define WALLET_SAVE_VERSION 1

void al_wallet_save(const al_wallet *w, al_wb *out)
{
	al_wb_u8(out, WALLET_SAVE_VERSION);
	al_wb_le32(out, w->next[0]);
	al_wb_le32(out, w->next[1]);
	al_sync_save(w->sync, out);
}

al_err al_wallet_load(al_wallet *w, const uint8_t *data, size_t len)
{
	al_cur c;
	uint32_t n0, n1;
	bool more;

	al_cur_init(&c, data, len);
	if (al_cur_u8(&c) != WALLET_SAVE_VERSION)
		return al_cur_ok(&c) ? AL_E_RANGE : AL_E_TRUNCATED;
	n0 = al_cur_le32(&c);
	n1 = al_cur_le32(&c);
	if (!al_cur_ok(&c))
		return al_cur_done(&c);
	if (n0 >= AL_WALLET_MAX_INDEX || n1 >= AL_WALLET_MAX_INDEX)
		return AL_E_RANGE;
	AL_TRY(al_sync_load(w->sync, data + 9, len - 9));
	/* The sync's script list was replaced: register ours again (no-op when present). */
	w->derived[0] = w->derived[1] = 0;
	w->next[0] = n0;
	w->next[1] = n1;
	AL_TRY(keep_gap(w, NULL));
	return al_wallet_update(w, &more);
}
