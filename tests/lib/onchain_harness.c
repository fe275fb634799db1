#include "onchain_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "ln/htlc_tx.h"
#include "ln/scripts.h"
#include "test.h"

static void *xcalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

/* --- the chain --------------------------------------------------------------------- */

void oh_chain_init(oh_chain *c, uint32_t height)
{
	memset(c, 0, sizeof(*c));
	c->height = height;
	c->min_feerate = 253;
}

void oh_chain_free(oh_chain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->tx[i].raw);
		free(c->tx[i].mem);
	}
	memset(c, 0, sizeof(*c));
}

void oh_chain_base(oh_chain *c, const uint8_t txid[32], uint32_t vout, al_sat amount,
                   const uint8_t *spk, size_t spk_len, uint32_t height)
{
	oh_base *b;

	CHECK(c->n_base < OH_MAX_BASE && spk_len <= 34);
	if (c->n_base == OH_MAX_BASE)
		return;
	b = &c->base[c->n_base++];
	memcpy(b->txid, txid, 32);
	b->vout = vout;
	b->amount = amount;
	memcpy(b->spk, spk, spk_len);
	b->spk_len = spk_len;
	b->height = height;
}

int oh_find(const oh_chain *c, const uint8_t txid[32])
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->tx[i].in_chain && memcmp(c->tx[i].txid, txid, 32) == 0)
			return (int)i;
	return -1;
}

bool oh_prevout(const oh_chain *c, const uint8_t txid[32], uint32_t vout, al_sat *amount,
                const uint8_t **spk, size_t *spk_len, uint32_t *height)
{
	size_t i;
	int t;

	for (i = 0; i < c->n_base; i++)
		if (c->base[i].vout == vout && memcmp(c->base[i].txid, txid, 32) == 0) {
			*amount = c->base[i].amount;
			*spk = c->base[i].spk;
			*spk_len = c->base[i].spk_len;
			*height = c->base[i].height;
			return true;
		}
	t = oh_find(c, txid);
	if (t < 0 || vout >= c->tx[t].tx.n_out)
		return false;
	*amount = c->tx[t].tx.out[vout].amount;
	*spk = c->tx[t].tx.out[vout].script.p;
	*spk_len = c->tx[t].tx.out[vout].script.len;
	*height = c->tx[t].height;
	return true;
}

int oh_spender(const oh_chain *c, const uint8_t txid[32], uint32_t vout)
{
	size_t i, j;

	for (i = 0; i < c->n; i++) {
		const oh_tx *t = &c->tx[i];

		if (!t->in_chain)
			continue;
		for (j = 0; j < t->tx.n_in; j++)
			if (t->tx.in[j].vout == vout && memcmp(t->tx.in[j].txid, txid, 32) == 0)
				return (int)i;
	}
	return -1;
}

static bool spends_tx(const oh_tx *t, const uint8_t parent[32])
{
	size_t j;

	for (j = 0; j < t->tx.n_in; j++)
		if (memcmp(t->tx.in[j].txid, parent, 32) == 0)
			return true;
	return false;
}

void oh_drop(oh_chain *c, int idx)
{
	size_t i;

	if (idx < 0 || !c->tx[idx].in_chain || c->tx[idx].height)
		return;
	c->tx[idx].in_chain = false;
	for (i = 0; i < c->n; i++)
		if (c->tx[i].in_chain && spends_tx(&c->tx[i], c->tx[idx].txid))
			oh_drop(c, (int)i);
}

/* Is input i final for a block at `height` (BIP 65 locktime, BIP 68 sequence)? */
static bool final_at(const oh_chain *c, const al_tx *tx, uint32_t height, const char **why)
{
	size_t i;
	bool locked = false;

	for (i = 0; i < tx->n_in; i++)
		locked |= tx->in[i].sequence != 0xFFFFFFFFu;
	/* A locktime of 500,000,000 and above is a time (BOLT #3 commitments use
	 * 0x20xxxxxx, dates in 1987): always past on this chain. */
	if (locked && tx->locktime && tx->locktime < AL_LN_LOCKTIME_THRESHOLD &&
	    tx->locktime >= height) {
		*why = "locktime not reached";
		return false;
	}
	for (i = 0; tx->version >= 2 && i < tx->n_in; i++) {
		uint32_t s = tx->in[i].sequence, ph;
		const uint8_t *spk;
		size_t sl;
		al_sat amt;

		if (s & (1u << 31))
			continue;
		if ((s & (1u << 22)) ||
		    !oh_prevout(c, tx->in[i].txid, tx->in[i].vout, &amt, &spk, &sl, &ph)) {
			*why = "bad relative lock";
			return false;
		}
		if ((s & 0xFFFF) && (ph == 0 || height < ph + (s & 0xFFFF))) {
			*why = "relative lock not reached";
			return false;
		}
	}
	return true;
}

static bool verify_inputs(oh_chain *c, const al_tx *tx, al_sat *fee, const char **why)
{
	static uint8_t mem[512 * 1024];
	al_sat in = al_sat_of(0), out;
	al_interp_fail f;
	al_arena a;
	size_t i;

	for (i = 0; i < tx->n_in; i++) {
		const uint8_t *spk;
		size_t sl;
		uint32_t h;
		al_sat amt;
		al_err e;

		if (!oh_prevout(c, tx->in[i].txid, tx->in[i].vout, &amt, &spk, &sl, &h)) {
			*why = "input spends an unknown output";
			return false;
		}
		al_arena_init(&a, mem, sizeof(mem));
		e = al_interp_verify_input(al_t_secp(), tx, i, spk, sl, amt, AL_INTERP_STANDARD, &a,
		                           &f);
		if (e != AL_OK) {
			fprintf(stderr, "oh: input %zu: %s (opcode %d at %zu)\n", i, al_err_name(e),
			        f.opcode, f.offset);
			*why = "script verification failed";
			return false;
		}
		c->verified++;
		if (!al_sat_add(&in, in, amt))
			return false;
	}
	if (al_tx_output_total(tx, &out) != AL_OK || !al_sat_sub(fee, in, out)) {
		*why = "outputs exceed inputs";
		return false;
	}
	return true;
}

/* Fees of a transaction and everything unconfirmed spending it. */
static uint64_t family_fee(const oh_chain *c, size_t idx, uint8_t *seen)
{
	uint64_t f;
	size_t i;

	if (seen[idx])
		return 0;
	seen[idx] = 1;
	f = c->tx[idx].fee.sat;
	for (i = 0; i < c->n; i++)
		if (c->tx[i].in_chain && spends_tx(&c->tx[i], c->tx[idx].txid))
			f += family_fee(c, i, seen);
	return f;
}

int oh_submit(oh_chain *c, const uint8_t *raw, size_t len)
{
	static uint8_t seen[OH_MAX_TX];
	uint8_t txid[32];
	uint64_t conflict_fee = 0;
	size_t mlen = 8 * len + 65536, i, j;
	oh_tx *t;
	int idx;

	if (c->n == OH_MAX_TX) {
		c->why = "chain full";
		return -1;
	}
	t = &c->tx[c->n];
	memset(t, 0, sizeof(*t));
	t->mem = xcalloc(mlen);
	t->raw = xcalloc(len);
	memcpy(t->raw, raw, len);
	t->len = len;
	{
		al_arena a;

		al_arena_init(&a, t->mem, mlen);
		if (al_tx_parse(&t->tx, &a, t->raw, len) != AL_OK) {
			c->why = "unparsable";
			goto reject;
		}
	}
	al_tx_txid(&t->tx, txid);
	idx = oh_find(c, txid);
	if (idx >= 0) {
		free(t->raw);
		free(t->mem);
		return idx; /* known: a rebroadcast */
	}
	memcpy(t->txid, txid, 32);
	if (!verify_inputs(c, &t->tx, &t->fee, &c->why) ||
	    !final_at(c, &t->tx, c->height + 1, &c->why))
		goto reject;
	t->weight = al_tx_weight(&t->tx);
	/* Bitcoin Core MAX_STANDARD_TX_WEIGHT. */
	if (t->weight > 400000) {
		c->why = "over the standard weight";
		goto reject;
	}
	/* Conflicts: confirmed ones refuse it, unconfirmed ones are replaced (BIP 125
	 * rule 3: at least their fees; rule 4: plus 1 sat/vB of its own size). */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < c->n; i++) {
		const oh_tx *o = &c->tx[i];

		if (!o->in_chain)
			continue;
		for (j = 0; j < t->tx.n_in; j++) {
			int s = oh_spender(c, t->tx.in[j].txid, t->tx.in[j].vout);

			if (s != (int)i)
				continue;
			if (o->height) {
				c->why = "conflicts with a confirmed transaction";
				goto reject;
			}
			conflict_fee += family_fee(c, i, seen);
			break;
		}
	}
	if (conflict_fee && t->fee.sat < conflict_fee + (t->weight + 3) / 4) {
		c->why = "replacement pays too little (BIP 125)";
		goto reject;
	}
	for (i = 0; i < c->n; i++)
		if (seen[i])
			c->tx[i].in_chain = false;
	t->in_chain = true;
	return (int)c->n++;
reject:
	free(t->raw);
	free(t->mem);
	memset(t, 0, sizeof(*t));
	c->rejected++;
	return -1;
}

static bool inputs_confirmed(const oh_chain *c, const al_tx *tx, uint32_t before)
{
	size_t i;

	for (i = 0; i < tx->n_in; i++) {
		const uint8_t *spk;
		size_t sl;
		uint32_t h;
		al_sat a;

		if (!oh_prevout(c, tx->in[i].txid, tx->in[i].vout, &a, &spk, &sl, &h) || h == 0 ||
		    h > before)
			return false;
	}
	return true;
}

static uint64_t rate(uint64_t fee, uint64_t weight)
{
	return weight ? fee * 1000 / weight : 0;
}

/* Worth mining at the miner's rate, alone or with a child (one level of CPFP). */
static bool worth(const oh_chain *c, size_t idx)
{
	const oh_tx *t = &c->tx[idx];
	size_t i;

	if (rate(t->fee.sat, t->weight) >= c->min_feerate)
		return true;
	for (i = 0; i < c->n; i++) {
		const oh_tx *k = &c->tx[i];

		if (k->in_chain && !k->height && spends_tx(k, t->txid) &&
		    rate(t->fee.sat + k->fee.sat, t->weight + k->weight) >= c->min_feerate)
			return true;
	}
	return false;
}

void oh_mine(oh_chain *c, size_t blocks)
{
	const char *why;
	size_t b, i;
	bool more;

	for (b = 0; b < blocks; b++) {
		c->height++;
		do {
			more = false;
			for (i = 0; i < c->n; i++) {
				oh_tx *t = &c->tx[i];

				if (!t->in_chain || t->height ||
				    !inputs_confirmed(c, &t->tx, c->height) ||
				    !final_at(c, &t->tx, c->height, &why) || !worth(c, i))
					continue;
				/* A child is taken with (after) its parent: its parent must be
				 * confirmed in an earlier round of this block. */
				t->height = c->height;
				more = true;
			}
		} while (more);
	}
}

void oh_reorg(oh_chain *c, size_t blocks)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->tx[i].in_chain && c->tx[i].height > c->height - blocks)
			c->tx[i].height = 0;
	c->height -= (uint32_t)blocks;
}

/* --- the node ------------------------------------------------------------------------ */

void oh_keep_monitor(void *arg, const hnode *from, uint64_t number, const uint8_t *e, size_t len)
{
	oh_node *n = ((oh_node **)arg)[from->name[0] == 'B'];

	if (!n || number >= OH_MAX_MON)
		return;
	free(n->mon[number]);
	n->mon[number] = xcalloc(len);
	memcpy(n->mon[number], e, len);
	n->mon_len[number] = len;
}

static void wallet_key(oh_node *n, uint8_t tag)
{
	uint8_t seed[32];
	al_pubkey pk;
	al_wb w;

	memset(seed, tag, sizeof(seed));
	memcpy(n->wkey.k, seed, 32);
	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pk, &n->wkey));
	al_wb_init(&w, n->wspk, sizeof(n->wspk));
	al_script_p2wpkh_pubkey(&w, al_t_secp(), &pk);
	CHECK(w.len == 22);
}

void oh_node_init(oh_node *n, oh_chain *c, al_signer *signer, al_onchain_setup *setup,
                  const al_onchain_config *cfg, uint8_t wallet)
{
	size_t keep_mon_len[OH_MAX_MON];
	uint8_t *keep_mon[OH_MAX_MON];

	/* Monitor entries may have been collected before. */
	memcpy(keep_mon, n->mon, sizeof(keep_mon));
	memcpy(keep_mon_len, n->mon_len, sizeof(keep_mon_len));
	memset(n, 0, sizeof(*n));
	memcpy(n->mon, keep_mon, sizeof(keep_mon));
	memcpy(n->mon_len, keep_mon_len, sizeof(keep_mon_len));
	memset(n->rep, 0xff, sizeof(n->rep));
	if (cfg) {
		n->cfg = *cfg;
	} else {
		al_onchain_config_default(&n->cfg);
		n->cfg.max_htlcs = 24;
	}
	n->mem_len = al_onchain_size(&n->cfg);
	CHECK(n->mem_len > 0);
	n->mem = xcalloc(n->mem_len);
	n->mem2 = xcalloc(n->mem_len);
	n->scratch_len = al_onchain_scratch_size(&n->cfg);
	n->scratch_mem = xcalloc(n->scratch_len);
	al_arena_init(&n->scratch, n->scratch_mem, n->scratch_len);
	n->env.secp = al_t_secp();
	n->env.scratch = &n->scratch;
	n->disk_cap = al_onchain_record_max(&n->cfg);
	n->disk = xcalloc(n->disk_cap);
	n->disk2 = xcalloc(n->disk_cap);
	n->signer = signer;
	n->feerate = 253;
	wallet_key(n, wallet ? wallet : 0x5a);
	setup->dest = n->wspk;
	setup->dest_len = sizeof(n->wspk);
	CHECK_OK(
	    al_onchain_init(&n->o, n->mem, n->mem_len, &n->env, &n->cfg, signer, setup, c->height));
}

void oh_node_free(oh_node *n)
{
	size_t i;

	if (n->o)
		al_onchain_clear(n->o);
	for (i = 0; i < OH_MAX_MON; i++)
		free(n->mon[i]);
	free(n->mem);
	free(n->mem2);
	free(n->scratch_mem);
	free(n->disk);
	free(n->disk2);
	memset(n, 0, sizeof(*n));
}

void oh_wallet_coin(oh_node *n, oh_chain *c, uint64_t sat, uint8_t tag)
{
	uint8_t txid[32];

	memset(txid, tag, sizeof(txid));
	txid[0] = 0xc0;
	oh_chain_base(c, txid, 0, al_sat_of(sat), n->wspk, sizeof(n->wspk), c->height);
}

void oh_restart(oh_node *n)
{
	CHECK(n->disk_len > 0);
	al_onchain_clear(n->o);
	memset(n->mem, 0xA5, n->mem_len);
	n->o = NULL;
	n->pending = false;
	al_arena_init(&n->scratch, n->scratch_mem, n->scratch_len);
	CHECK_OK(al_onchain_load(&n->o, n->mem, n->mem_len, &n->env, &n->cfg, n->signer, n->disk,
	                         n->disk_len));
	n->restarts++;
}

static bool same_event(const al_onchain_fx *a, const al_onchain_fx *b)
{
	if (a->event != b->event)
		return false;
	switch (a->event) {
	case AL_ONCHAIN_EV_RESOLVED:
		return a->vout == b->vout && memcmp(a->txid, b->txid, 32) == 0;
	case AL_ONCHAIN_EV_PREIMAGE:
	case AL_ONCHAIN_EV_HTLC_FAILED:
		return memcmp(a->hash, b->hash, 32) == 0 &&
		       a->amount_msat.msat == b->amount_msat.msat;
	case AL_ONCHAIN_EV_DONE:
	case AL_ONCHAIN_EV_WARNING:
		return true;
	default:
		return memcmp(a->txid, b->txid, 32) == 0;
	}
}

static void record_event(oh_node *n, const al_onchain_fx *fx)
{
	size_t i;

	for (i = 0; i < n->n_ev; i++)
		if (same_event(&n->ev[i], fx)) {
			/* At least once: a repeat must say the same. */
			CHECK(n->ev[i].amount.sat == fx->amount.sat &&
			      n->ev[i].fee.sat == fx->fee.sat && n->ev[i].how == fx->how);
			if (n->ev[i].amount.sat != fx->amount.sat ||
			    n->ev[i].fee.sat != fx->fee.sat || n->ev[i].how != fx->how)
				fprintf(stderr,
				        "oh: event %d repeated as %llu/%llu/%d, was %llu/%llu/%d\n",
				        fx->event, (unsigned long long)fx->amount.sat,
				        (unsigned long long)fx->fee.sat, fx->how,
				        (unsigned long long)n->ev[i].amount.sat,
				        (unsigned long long)n->ev[i].fee.sat, n->ev[i].how);
			return;
		}
	CHECK(n->n_ev < OH_MAX_EV);
	if (n->n_ev < OH_MAX_EV)
		n->ev[n->n_ev++] = *fx;
}

static void persist(oh_node *n, uint64_t id)
{
	al_onchain *o2;
	size_t len2;
	al_err e;

	e = al_onchain_save(n->o, n->disk, n->disk_cap, &n->disk_len);
	CHECK_OK(e);
	/* The record loads and saves back to the same bytes. */
	e = al_onchain_load(&o2, n->mem2, n->mem_len, &n->env, &n->cfg, n->signer, n->disk,
	                    n->disk_len);
	CHECK_OK(e);

	if (e == AL_OK) {
		CHECK_OK(al_onchain_save(o2, n->disk2, n->disk_cap, &len2));
		CHECK(len2 == n->disk_len && memcmp(n->disk, n->disk2, len2) == 0);
		al_onchain_clear(o2);
	}
	n->persists++;
	CHECK_OK(al_onchain_persisted(n->o, id));
}

static void fund(oh_node *n, oh_chain *c, const al_onchain_fx *fx)
{
	al_onchain_utxo u;
	size_t i;

	n->funds++;
	for (i = 0; !n->wallet_dry && i < c->n_base; i++) {
		const oh_base *b = &c->base[i];

		if (n->given[i] || b->spk_len != 22 || memcmp(b->spk, n->wspk, 22) != 0 ||
		    b->amount.sat < fx->amount.sat || oh_spender(c, b->txid, b->vout) >= 0)
			continue;
		memcpy(u.txid, b->txid, 32);
		u.vout = b->vout;
		u.amount = b->amount;
		memcpy(u.script, b->spk, 22);
		n->given[i] = 1;
		CHECK(!al_onchain_holds_input(n->o, u.txid, u.vout));
		CHECK_OK(al_onchain_wallet_inputs(n->o, fx->claim, &u, 1));
		/* Held from now on: the node keeps it from payments and other engines. */
		CHECK(al_onchain_holds_input(n->o, u.txid, u.vout));
		CHECK(!al_onchain_holds_input(n->o, u.txid, u.vout + 1));
		return;
	}
	CHECK_OK(al_onchain_wallet_inputs(n->o, fx->claim, NULL, 0));
}

static void sign(oh_node *n, oh_chain *c, const al_onchain_fx *fx)
{
	static uint8_t am[1 << 20], out[8192];
	uint8_t h[32], h160[20], ser[33], der[80], code[25];
	al_bytes it[2];
	al_pubkey pk;
	al_ecdsa_sig sig;
	size_t i, dl;
	al_arena a;
	al_tx tx;
	al_wb w;

	n->signs++;
	al_arena_init(&a, am, sizeof(am));
	CHECK_OK(al_tx_parse(&tx, &a, fx->data, fx->len));
	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pk, &n->wkey));
	al_pubkey_serialize(al_t_secp(), ser, &pk);
	al_hash160(h160, ser, 33);
	for (i = 0; i < tx.n_in; i++) {
		const uint8_t *spk;
		size_t sl;
		uint32_t ht;
		al_sat amt;

		if (!oh_prevout(c, tx.in[i].txid, tx.in[i].vout, &amt, &spk, &sl, &ht) ||
		    sl != 22 || memcmp(spk, n->wspk, 22) != 0)
			continue;
		al_wb_init(&w, code, sizeof(code));
		al_script_p2wpkh_scriptcode(&w, h160);
		CHECK_OK(al_sighash_segwit_v0(h, &tx, i, code, w.len, amt, AL_SIGHASH_ALL));
		CHECK_OK(al_ecdsa_sign(al_t_secp(), &sig, h, &n->wkey));
		dl = sizeof(der);
		CHECK_OK(al_ecdsa_sig_serialize_der(al_t_secp(), der, &dl, &sig));
		der[dl++] = AL_SIGHASH_ALL;
		it[0] = (al_bytes){der, dl};
		it[1] = (al_bytes){ser, 33};
		CHECK_OK(al_bytes_dup(&it[0], &a, der, dl));
		CHECK_OK(al_bytes_dup(&it[1], &a, ser, 33));
		CHECK_OK(al_tx_set_witness(&tx, &a, i, it, 2));
	}
	al_wb_init(&w, out, sizeof(out));
	al_tx_write(&w, &tx, true);
	CHECK(al_wb_ok(&w));
	CHECK_OK(al_onchain_wallet_signed(n->o, fx->claim, out, w.len));
}

void oh_drain(oh_node *n, oh_chain *c)
{
	al_onchain_fx fx;
	int guard = 0, idx;

	while (al_onchain_next_effect(n->o, &fx) && ++guard < 100000) {
		switch (fx.kind) {
		case AL_ONCHAIN_FX_PERSIST:
			persist(n, fx.id);
			break;
		case AL_ONCHAIN_FX_WATCH:
			if (n->n_watch < OH_MAX_WATCH) {
				memcpy(n->watch[n->n_watch].txid, fx.txid, 32);
				n->watch[n->n_watch++].vout = fx.vout;
			}
			break;
		case AL_ONCHAIN_FX_BROADCAST:
			n->broadcasts++;
			if (n->n_bc < OH_MAX_TX) {
				n->bc[n->n_bc].claim = fx.claim;
				n->bc[n->n_bc].kind = fx.claim_kind;
				n->bc[n->n_bc].feerate = fx.feerate;
				n->bc[n->n_bc].fee = fx.fee;
				n->bc[n->n_bc].replaces = fx.replaces;
				n->bc[n->n_bc++].height = c->height;
			}
			idx = oh_submit(c, fx.data, fx.len);
			if (idx < 0) {
				n->bcast_rejected++;
				n->reject_why = c->why;
				fprintf(
				    stderr,
				    "oh: %02x: broadcast of claim %u (kind %d) at %u refused: %s\n",
				    n->wspk[2], fx.claim, fx.claim_kind, c->height, c->why);
			} else if (n->n_bcast < OH_MAX_TX) {
				memcpy(n->bcast[n->n_bcast++], fx.txid, 32);
			}
			break;
		case AL_ONCHAIN_FX_FUND:
			fund(n, c, &fx);
			break;
		case AL_ONCHAIN_FX_SIGN:
			sign(n, c, &fx);
			break;
		case AL_ONCHAIN_FX_EVENT:
			if (fx.event == AL_ONCHAIN_EV_FAILED)
				fprintf(stderr, "oh: engine failed: %s\n", al_err_name(fx.err));
			record_event(n, &fx);
			break;
		default:
			CHECK(!"unknown effect");
		}
	}
	CHECK(guard < 100000);
}

static bool watched(const oh_node *n, const uint8_t txid[32], uint32_t vout)
{
	size_t i;

	for (i = 0; i < n->n_watch; i++)
		if (n->watch[i].vout == vout && memcmp(n->watch[i].txid, txid, 32) == 0)
			return true;
	return false;
}

static bool relevant(const oh_node *n, const oh_tx *t)
{
	size_t i;

	for (i = 0; i < n->n_bcast; i++)
		if (memcmp(n->bcast[i], t->txid, 32) == 0)
			return true;
	for (i = 0; i < t->tx.n_in; i++)
		if (watched(n, t->tx.in[i].txid, t->tx.in[i].vout))
			return true;
	return false;
}

static bool report(oh_node *n, oh_chain *c)
{
	bool any = false;
	size_t i;

	for (i = 0; i < c->n; i++) {
		const oh_tx *t = &c->tx[i];
		int32_t state = t->in_chain ? (int32_t)t->height : -2;
		const uint8_t *mon = NULL;
		size_t mlen = 0;
		uint64_t num;
		al_err e;

		if (n->rep[i] == state || (state == -2 && n->rep[i] == -1) || !relevant(n, t))
			continue;
		if (state == -2) {
			/* A sync step sees it unconfirmed (its block gone) before it is dropped. */
			if (n->rep[i] > 0) {
				e = al_onchain_tx(n->o, t->raw, t->len, 0, NULL, 0);
				CHECK(e == AL_OK || e == AL_E_ONCHAIN_UNRELATED);
			}
			e = al_onchain_tx_gone(n->o, t->txid);
			if (e != AL_OK && e != AL_E_ONCHAIN_UNRELATED)
				fprintf(stderr, "oh: al_onchain_tx_gone: %s\n", al_err_name(e));
			CHECK(e == AL_OK || e == AL_E_ONCHAIN_UNRELATED);
		} else {
			if (al_onchain_commitment_number(n->o, t->raw, t->len, &num) &&
			    num < OH_MAX_MON && n->mon[num]) {
				mon = n->mon[num];
				mlen = n->mon_len[num];
			}
			e = al_onchain_tx(n->o, t->raw, t->len, t->height, mon, mlen);
			if (e != AL_OK && e != AL_E_ONCHAIN_UNRELATED)
				fprintf(stderr, "oh: al_onchain_tx: %s\n", al_err_name(e));
			CHECK(e == AL_OK || e == AL_E_ONCHAIN_UNRELATED);
		}
		n->rep[i] = state;
		any = true;
	}
	return any;
}

void oh_sync(oh_node *n, oh_chain *c)
{
	int k;

	/* What a sync step found, then the tip, then the effects; again while the engine
	 * watches something new. */
	for (k = 0; k < 8; k++) {
		bool any = report(n, c);

		CHECK_OK(al_onchain_block(n->o, c->height, n->feerate));
		oh_drain(n, c);
		if (!any && k)
			break;
	}
	if (n->restart_each_step)
		oh_restart(n);
}

size_t oh_count(const oh_node *n, al_onchain_event_kind k)
{
	size_t i, m = 0;

	for (i = 0; i < n->n_ev; i++)
		m += n->ev[i].event == k;
	return m;
}

bool oh_has_event(const oh_node *n, al_onchain_event_kind k, const uint8_t hash[32])
{
	size_t i;

	for (i = 0; i < n->n_ev; i++)
		if (n->ev[i].event == k && (!hash || memcmp(n->ev[i].hash, hash, 32) == 0))
			return true;
	return false;
}

const al_onchain_fx *oh_event(const oh_node *n, al_onchain_event_kind k, size_t nth)
{
	size_t i;

	for (i = 0; i < n->n_ev; i++)
		if (n->ev[i].event == k && nth-- == 0)
			return &n->ev[i];
	return NULL;
}

/* --- a node's own commitment, fully signed ----------------------------------------------- */

static uint8_t *ser_tx(const al_tx *tx, size_t *len)
{
	size_t n = al_tx_len(tx, true);
	uint8_t *b = xcalloc(n);
	al_wb w;

	al_wb_init(&w, b, n);
	al_tx_write(&w, tx, true);
	CHECK(al_wb_ok(&w));
	*len = w.len;
	return b;
}

void oh_capture(hpair *p, hnode *n, oh_commit *out)
{
	static uint8_t am[8 << 20];
	const al_secp *ctx = al_t_secp();
	const al_ecdsa_sig *their_htlc;
	al_ecdsa_sig their, mine, hmine;
	al_privkey fkey, hbase, hkey;
	uint8_t pre[32];
	al_ln_htlc_tx *txs;
	al_pubkey point;
	al_ln_commit c;
	al_arena a;
	size_t i;

	memset(out, 0, sizeof(*out));
	al_arena_init(&a, am, sizeof(am));
	CHECK_OK(al_chan_holder_commitment(n->ch, &a, &c, &their, &their_htlc));
	CHECK_OK(al_signer_root_key(&n->root, ctx, &fkey, AL_SIGNER_FAMILY_MULTISIG, n->index));
	CHECK_OK(al_signer_root_key(&n->root, ctx, &hbase, AL_SIGNER_FAMILY_HTLC_BASE, n->index));
	CHECK_OK(al_ln_commit_sign(ctx, &mine, &c, &fkey));
	CHECK_OK(al_ln_htlc_txs_build(ctx, &txs, &a, &c));
	CHECK_OK(al_ln_commit_finalize(ctx, &c, &a, &mine, &their));
	out->raw = ser_tx(&c.tx, &out->len);
	al_tx_txid(&c.tx, out->txid);
	CHECK_OK(al_signer_holder_point(n->signer, c.p.commitment_number, &point));
	CHECK_OK(al_ln_derive_privkey(ctx, &hkey, &hbase, &point));
	for (i = 0; i < c.n_untrimmed_htlcs; i++) {
		al_ln_htlc_tx *h = &txs[i];

		CHECK_OK(al_ln_htlc_tx_sign(ctx, &hmine, h, &hkey, AL_SIGHASH_ALL));
		memset(pre, 0, sizeof(pre));
		if (h->success)
			CHECK(h_preimage_of(p, h->htlc->payment_hash, pre));
		CHECK_OK(al_ln_htlc_tx_finalize(ctx, h, &a, &their_htlc[i], &hmine, pre));
		out->htlc_raw[i] = ser_tx(&h->tx, &out->htlc_len[i]);
		out->htlc_success[i] = h->success;
		out->htlc_vout[i] = (uint32_t)h->commit_out;
		out->htlc_amount[i] = h->input_amount;
	}
	out->n_htlc = c.n_untrimmed_htlcs;
	al_privkey_clear(&fkey);
	al_privkey_clear(&hbase);
	al_privkey_clear(&hkey);
}

void oh_commit_free(oh_commit *c)
{
	size_t i;

	free(c->raw);
	for (i = 0; i < c->n_htlc; i++)
		free(c->htlc_raw[i]);
	memset(c, 0, sizeof(*c));
}
