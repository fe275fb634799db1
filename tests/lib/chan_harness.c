#include "chan_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "ln/htlc_tx.h"
#include "ln/scripts.h"
#include "ln/wire.h"
#include "test.h"

/* Regtest's genesis block hash, as BOLT #2 chain_hash carries it. */
static const uint8_t regtest[32] = {
    0x06, 0x22, 0x6e, 0x46, 0x11, 0x1a, 0x0b, 0x59, 0xca, 0xaf, 0x12, 0x60, 0x43, 0xeb, 0x5b, 0xbf,
    0x28, 0xc3, 0x4f, 0x3a, 0x5e, 0x33, 0x2a, 0x1f, 0xc7, 0xb2, 0xb7, 0x3c, 0xf1, 0x88, 0x91, 0x0f};

static uint8_t *xmalloc(size_t n)
{
	uint8_t *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

uint64_t h_rand(hpair *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 2685821657736338717ULL;
}

static void node_init(hnode *n, const char *name, uint64_t seed, uint32_t index,
                      const al_chan_config *cfg)
{
	uint8_t s[32];
	size_t i;

	memset(n, 0, sizeof(*n));
	n->name = name;
	for (i = 0; i < 32; i++)
		s[i] = (uint8_t)(seed >> (8 * (i % 8))) ^ (uint8_t)(i * 17) ^ (uint8_t)name[0];
	CHECK_OK(al_signer_root_init(&n->root, al_t_secp(), s, sizeof(s), 1));
	n->index = index;
	n->signer_mem = xmalloc(al_signer_size());
	CHECK_OK(al_signer_init(&n->signer, n->signer_mem, al_signer_size(), al_t_secp(), &n->root,
	                        index));
	n->signer_fresh = xmalloc(al_signer_size());
	memcpy(n->signer_fresh, n->signer_mem, al_signer_size());
	if (cfg) {
		n->cfg = *cfg;
	} else {
		al_chan_config_default(&n->cfg);
		n->cfg.max_htlcs = 12;
	}
	memcpy(n->cfg.chain_hash, regtest, 32);
	n->mem_len = al_chan_size(&n->cfg);
	CHECK(n->mem_len > 0);
	n->mem = xmalloc(n->mem_len);
	n->scratch_len = al_chan_scratch_size(&n->cfg);
	n->scratch_mem = xmalloc(n->scratch_len);
	al_arena_init(&n->scratch, n->scratch_mem, n->scratch_len);
	n->env.secp = al_t_secp();
	n->env.scratch = &n->scratch;
	n->disk = xmalloc(al_chan_record_max(&n->cfg));
	n->pending_rec = xmalloc(al_chan_record_max(&n->cfg));
	n->check_durable = true;
}

void h_init(hpair *p, uint64_t seed, const al_chan_config *cfg_a, const al_chan_config *cfg_b)
{
	memset(p, 0, sizeof(*p));
	p->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	node_init(&p->a, "A", seed, 1, cfg_a);
	node_init(&p->b, "B", seed, 2, cfg_b);
}

static void node_free(hnode *n)
{
	size_t i;

	for (i = 0; i < n->n_out; i++)
		free(n->out[(n->out_head + i) % H_MAX_MSGS].p);
	for (i = 0; i < n->n_bc; i++)
		free(n->bc[i].p);
	if (n->ch)
		al_chan_clear(n->ch);
	if (n->signer)
		al_signer_clear(n->signer);
	al_signer_root_clear(&n->root);
	free(n->signer_mem);
	free(n->signer_fresh);
	free(n->mem);
	free(n->scratch_mem);
	free(n->disk);
	free(n->pending_rec);
}

void h_free(hpair *p)
{
	node_free(&p->a);
	node_free(&p->b);
}

static hnode *peer_of(hpair *p, hnode *n)
{
	return n == &p->a ? &p->b : &p->a;
}

/* --- durability checks -------------------------------------------------------------- */

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
	size_t i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

/* Load n's disk into a throwaway channel and report its info. */
static bool disk_info(hnode *n, al_chan_info *info)
{
	uint8_t *smem, *cmem;
	al_signer *s;
	al_chan *c;
	bool ok = false;

	if (!n->has_disk)
		return false;
	smem = xmalloc(al_signer_size());
	cmem = xmalloc(n->mem_len);
	if (al_signer_init(&s, smem, al_signer_size(), al_t_secp(), &n->root, n->index) == AL_OK &&
	    al_chan_load(&c, cmem, n->mem_len, &n->env, &n->cfg, s, n->disk, n->disk_len) ==
	        AL_OK) {
		al_chan_get_info(c, info);
		ok = true;
		al_chan_clear(c);
	}
	al_signer_clear(s);
	free(smem);
	free(cmem);
	return ok;
}

/* A message the peer may rely on leaves only with a record that covers it. */
static void check_protected(hnode *n, const uint8_t *msg, size_t len)
{
	uint16_t type = (uint16_t)(msg[0] << 8 | msg[1]);
	al_chan_info live, disk;
	union al_wire_any u;
	uint64_t k, lo;
	bool found = false;

	if (!n->check_durable)
		return;
	if (type != AL_WIRE_FUNDING_SIGNED && type != AL_WIRE_COMMITMENT_SIGNED &&
	    type != AL_WIRE_REVOKE_AND_ACK && type != AL_WIRE_UPDATE_FULFILL_HTLC)
		return;
	n->protected_checked++;
	CHECK(disk_info(n, &disk));
	al_chan_get_info(n->ch, &live);
	if (type == AL_WIRE_REVOKE_AND_ACK) {
		/* Which commitment does it revoke? The secret tells. */
		CHECK_OK(al_wire_decode_any(&u, msg, len));
		lo = live.local_number > 3 ? live.local_number - 3 : 0;
		for (k = lo; k <= live.local_number && !found; k++)
			if (al_signer_check_holder_secret(n->signer, k,
			                                  u.revoke_and_ack.per_commitment_secret)) {
				found = true;
				CHECK(disk.local_number >= k + 1);
			}
		CHECK(found);
	} else if (type == AL_WIRE_COMMITMENT_SIGNED) {
		/* The commitment it signs is the peer's latest (a new one cannot be signed
		 * before this one is answered): the signature must be on it, and the disk
		 * must hold it. */
		static uint8_t am[4 << 20];
		al_ecdsa_sig sig;
		al_ln_basepoints bp;
		al_pubkey fund;
		al_ln_commit c;
		al_arena a;

		al_arena_init(&a, am, sizeof(am));
		CHECK_OK(al_wire_decode_any(&u, msg, len));
		CHECK_OK(al_chan_counterparty_commitment(n->ch, &a, &c));
		al_signer_basepoints(n->signer, &bp, &fund);
		CHECK_OK(
		    al_ecdsa_sig_parse_compact(al_t_secp(), &sig, u.commitment_signed.signature));
		CHECK_OK(al_ln_commit_verify(al_t_secp(), &sig, &c, &fund));
		CHECK(disk.remote_number >= c.p.commitment_number);
	} else if (type == AL_WIRE_UPDATE_FULFILL_HTLC) {
		/* The preimage is on disk before it leaves. */
		CHECK_OK(al_wire_decode_any(&u, msg, len));
		CHECK(contains(n->disk, n->disk_len, u.update_fulfill_htlc.payment_preimage, 32));
	} else if (type == AL_WIRE_FUNDING_SIGNED) {
		CHECK(disk.local_number == 0);
	}
}

/* --- effects ------------------------------------------------------------------------ */

void h_complete(hnode *n)
{
	if (!n->pending)
		return;
	if (n->pending_kind == AL_CHAN_PERSIST_RECORD) {
		memcpy(n->disk, n->pending_rec, n->pending_len);
		n->disk_len = n->pending_len;
		n->has_disk = true;
	} else {
		n->monitors++;
	}
	n->pending = false;
	CHECK_OK(al_chan_persisted(n->ch, n->pending_id));
	n->held_rounds = 0;
}

static void on_event(hnode *n, const al_chan_fx *fx)
{
	hevent *e;

	if (fx->event == AL_CHAN_EV_FUNDING_NEEDED) {
		n->funding_needed = true;
		CHECK(fx->len == 34);
		memcpy(n->funding_spk, fx->data, fx->len < 34 ? fx->len : 34);
		n->funding_amount = fx->amount_sat;
	}
	if (n->n_ev == H_MAX_EVENTS)
		return;
	e = &n->ev[n->n_ev++];
	memset(e, 0, sizeof(*e));
	e->kind = fx->event;
	e->htlc_id = fx->htlc_id;
	e->amount = fx->amount_msat;
	memcpy(e->hash, fx->hash, 32);
	memcpy(e->preimage, fx->preimage, 32);
	e->err = fx->err;
	e->must_fail = fx->must_fail;
	if (fx->event == AL_CHAN_EV_HTLC_FAILED && fx->data) {
		e->reason_len = fx->len;
		memcpy(e->reason, fx->data,
		       fx->len < sizeof(e->reason) ? fx->len : sizeof(e->reason));
	}
	if (fx->event == AL_CHAN_EV_HTLC_RECEIVED)
		CHECK(fx->len == AL_CHAN_ONION_LEN && fx->data);
}

static void queue_msg(hpair *p, hnode *n, const uint8_t *msg, size_t len)
{
	static uint8_t buf[AL_WIRE_MAX_MSG];
	uint16_t type = (uint16_t)(msg[0] << 8 | msg[1]);
	union al_wire_any u;
	hmsg *m;
	al_wb w;

	n->sent_by_type[msg[1]]++;
	if (n->strip_fee_range && type == AL_WIRE_CLOSING_SIGNED &&
	    al_wire_decode_any(&u, msg, len) == AL_OK) {
		u.closing_signed.tlvs.has_fee_range = false;
		al_wb_init(&w, buf, sizeof(buf));
		al_wire_closing_signed_write(&w, &u.closing_signed);
		CHECK(al_wb_ok(&w));
		msg = buf;
		len = w.len;
	}
	if (n->corrupt_type && n->corrupt_type == type && n->corrupt_at < len) {
		if (msg != buf) {
			memcpy(buf, msg, len);
			msg = buf;
		}
		buf[n->corrupt_at] ^= 0x01;
		n->corrupt_type = 0;
	}
	if (p->on_send)
		p->on_send(p->on_send_arg, n, msg, len);
	if (!p->connected)
		return;
	CHECK(n->n_out < H_MAX_MSGS);
	if (n->n_out == H_MAX_MSGS)
		return;
	m = &n->out[(n->out_head + n->n_out++) % H_MAX_MSGS];
	m->p = xmalloc(len);
	memcpy(m->p, msg, len);
	m->len = len;
}

void h_drain(hpair *p, hnode *n)
{
	al_chan_info info;
	al_chan_fx fx;
	hbcast *b;

	if (!n->ch)
		return;
	while (al_chan_next_effect(n->ch, &fx)) {
		/* Nothing may come out behind a PERSIST not yet reported. */
		CHECK(!n->pending);
		switch (fx.kind) {
		case AL_CHAN_FX_PERSIST:
			n->pending = true;
			n->pending_id = fx.id;
			n->pending_kind = fx.persist;
			if (fx.persist == AL_CHAN_PERSIST_RECORD)
				CHECK_OK(al_chan_save(n->ch, n->pending_rec,
				                      al_chan_record_max(&n->cfg),
				                      &n->pending_len));
			else
				CHECK(fx.len > 0 && memcmp(fx.data, "ALMN", 4) == 0);
			if (fx.persist == AL_CHAN_PERSIST_MONITOR && p->on_monitor)
				p->on_monitor(p->on_monitor_arg, n, fx.number, fx.data, fx.len);
			if (n->persist_delay == 0 && !n->persist_stuck)
				h_complete(n);
			break;
		case AL_CHAN_FX_SEND:
			/* Persist before you speak. */
			CHECK(!n->pending);
			CHECK(fx.len >= 2);
			check_protected(n, fx.data, fx.len);
			queue_msg(p, n, fx.data, fx.len);
			break;
		case AL_CHAN_FX_BROADCAST:
			CHECK(!n->pending);
			if (n->n_bc == H_MAX_BCAST)
				break;
			b = &n->bc[n->n_bc++];
			b->kind = fx.tx;
			al_chan_get_info(n->ch, &info);
			b->number = info.local_number;
			b->p = xmalloc(fx.len);
			memcpy(b->p, fx.data, fx.len);
			b->len = fx.len;
			memcpy(b->txid, fx.txid, 32);
			break;
		case AL_CHAN_FX_WATCH:
			CHECK(fx.len == 34 && fx.amount_sat.sat > 0);
			n->watches++;
			break;
		case AL_CHAN_FX_EVENT:
			on_event(n, &fx);
			break;
		default:
			CHECK(!"unknown effect");
		}
	}
}

bool h_deliver_one(hpair *p, hnode *from)
{
	hnode *to = peer_of(p, from);
	hmsg m;
	al_err e;

	if (from->n_out == 0)
		return false;
	m = from->out[from->out_head];
	from->out_head = (from->out_head + 1) % H_MAX_MSGS;
	from->n_out--;
	if (to->ch) {
		e = al_chan_recv(to->ch, m.p, m.len);
		CHECK(e == AL_OK || e == AL_E_CHAN_CHANNEL_ID);
		h_drain(p, to);
	}
	free(m.p);
	return true;
}

/* Persists held by the policy complete after their rounds. */
static bool tick_persist(hnode *n)
{
	if (!n->pending || n->persist_stuck)
		return false;
	if (++n->held_rounds < n->persist_delay)
		return true; /* still moving */
	h_complete(n);
	return true;
}

void h_pump(hpair *p)
{
	bool moved;
	int guard = 0;

	do {
		moved = false;
		h_drain(p, &p->a);
		h_drain(p, &p->b);
		/* Alternate which side speaks first, seeded. */
		if (h_rand(p) & 1) {
			moved |= h_deliver_one(p, &p->a);
			moved |= h_deliver_one(p, &p->b);
		} else {
			moved |= h_deliver_one(p, &p->b);
			moved |= h_deliver_one(p, &p->a);
		}
		moved |= tick_persist(&p->a);
		moved |= tick_persist(&p->b);
		h_drain(p, &p->a);
		h_drain(p, &p->b);
	} while (moved && ++guard < 100000);
	CHECK(guard < 100000);
}

/* --- connections ---------------------------------------------------------------- */

static void drop_out(hnode *n)
{
	while (n->n_out) {
		free(n->out[n->out_head].p);
		n->out_head = (n->out_head + 1) % H_MAX_MSGS;
		n->n_out--;
	}
}

void h_disconnect(hpair *p)
{
	p->connected = false;
	drop_out(&p->a);
	drop_out(&p->b);
	if (p->a.ch)
		al_chan_peer_disconnected(p->a.ch);
	if (p->b.ch)
		al_chan_peer_disconnected(p->b.ch);
	h_drain(p, &p->a);
	h_drain(p, &p->b);
}

void h_reconnect(hpair *p)
{
	p->connected = true;
	if (p->a.ch)
		CHECK_OK(al_chan_peer_connected(p->a.ch));
	if (p->b.ch)
		CHECK_OK(al_chan_peer_connected(p->b.ch));
	h_pump(p);
}

void h_restart(hpair *p, hnode *n)
{
	if (p->connected)
		h_disconnect(p);
	/* Everything volatile is gone: the channel, the signer's memory, the persist in
	 * flight. */
	if (n->ch)
		al_chan_clear(n->ch);
	n->ch = NULL;
	memset(n->mem, 0xA5, n->mem_len);
	al_signer_clear(n->signer);
	n->pending = false;
	n->held_rounds = 0;
	al_arena_init(&n->scratch, n->scratch_mem, n->scratch_len);
	n->env.out_held = false;
	if (n->fast_restart)
		memcpy(n->signer_mem, n->signer_fresh, al_signer_size());
	else
		CHECK_OK(al_signer_init(&n->signer, n->signer_mem, al_signer_size(), al_t_secp(),
		                        &n->root, n->index));
	if (!n->has_disk)
		return;
	CHECK_OK(al_chan_load(&n->ch, n->mem, n->mem_len, &n->env, &n->cfg, n->signer, n->disk,
	                      n->disk_len));
	h_drain(p, n);
}

/* --- opening ------------------------------------------------------------------------ */

static void features(al_features *f)
{
	al_features_clear(f);
	CHECK_OK(al_features_set(f, AL_FEATURE_OPT(AL_FEATURE_DATA_LOSS_PROTECT)));
	CHECK_OK(al_features_set(f, AL_FEATURE_OPT(AL_FEATURE_STATIC_REMOTEKEY)));
	CHECK_OK(al_features_set(f, AL_FEATURE_OPT(AL_FEATURE_CHANNEL_TYPE)));
	CHECK_OK(al_features_set(f, AL_FEATURE_OPT(AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX)));
	CHECK_OK(al_features_set(f, AL_FEATURE_OPT(AL_FEATURE_SHUTDOWN_ANYSEGWIT)));
	CHECK_OK(al_features_set(f, AL_FEATURE_OPT(AL_FEATURE_LARGE_CHANNEL)));
}

static void p2wpkh(uint8_t out[22], uint8_t byte)
{
	out[0] = 0;
	out[1] = 20;
	memset(out + 2, byte, 20);
}

/* A funding transaction the way a wallet would make it: one segwit input (never
 * checked: the chain is not part of this test), the funding output and change. */
static size_t funding_tx(hpair *p, const hnode *n, uint8_t *buf, size_t cap, uint16_t *vout)
{
	uint8_t prev[32], change[22], w1[72], w2[33];
	al_bytes items[2];
	uint8_t am[4096];
	al_arena a;
	al_tx tx;
	al_wb w;
	size_t i;

	al_arena_init(&a, am, sizeof(am));
	for (i = 0; i < 32; i++)
		prev[i] = (uint8_t)h_rand(p);
	memset(w1, 0x30, sizeof(w1));
	memset(w2, 0x02, sizeof(w2));
	p2wpkh(change, 0xcc);
	*vout = (uint16_t)(h_rand(p) & 1);
	CHECK_OK(al_tx_init(&tx, &a, 2, 0, 1, 2));
	CHECK_OK(al_tx_add_input(&tx, prev, 0, 0xfffffffd));
	if (*vout == 1)
		CHECK_OK(al_tx_add_output(&tx, al_sat_of(123456), change, sizeof(change)));
	CHECK_OK(al_tx_add_output(&tx, n->funding_amount, n->funding_spk, 34));
	if (*vout == 0)
		CHECK_OK(al_tx_add_output(&tx, al_sat_of(123456), change, sizeof(change)));
	items[0] = (al_bytes){w1, sizeof(w1)};
	items[1] = (al_bytes){w2, sizeof(w2)};
	CHECK_OK(al_tx_set_witness(&tx, &a, 0, items, 2));
	al_wb_init(&w, buf, cap);
	al_tx_write(&w, &tx, true);
	CHECK(al_wb_ok(&w));
	return w.len;
}

bool h_open_unconfirmed(hpair *p, al_ln_chan_type type, uint64_t funding, uint64_t push,
                        uint32_t feerate)
{
	al_chan_open_params op;
	al_chan_accept_params ap;
	uint8_t raw[1024];
	uint16_t vout;
	size_t len, i;

	memset(&op, 0, sizeof(op));
	for (i = 0; i < 32; i++)
		op.temporary_channel_id[i] = (uint8_t)h_rand(p);
	op.funding = al_sat_of(funding);
	op.push = al_msat_of(push);
	op.feerate_per_kw = feerate;
	op.type = type;
	features(&op.peer_features);
	p2wpkh(op.shutdown_script, 0xaa);
	op.shutdown_script_len = 22;
	memset(&ap, 0, sizeof(ap));
	features(&ap.peer_features);
	p2wpkh(ap.shutdown_script, 0xbb);
	ap.shutdown_script_len = 22;
	p->connected = true;
	CHECK_OK(al_chan_init_inbound(&p->b.ch, p->b.mem, p->b.mem_len, &p->b.env, &p->b.cfg,
	                              p->b.signer, &ap));
	CHECK_OK(
	    al_chan_open(&p->a.ch, p->a.mem, p->a.mem_len, &p->a.env, &p->a.cfg, p->a.signer, &op));
	if (!p->a.ch || !p->b.ch)
		return false;
	h_pump(p);
	CHECK(p->a.funding_needed);
	if (!p->a.funding_needed)
		return false;
	len = funding_tx(p, &p->a, raw, sizeof(raw), &vout);
	CHECK_OK(al_chan_funding_tx(p->a.ch, raw, len, vout));
	h_pump(p);
	return h_find_event(&p->a, AL_CHAN_EV_PENDING, 0) &&
	       h_find_event(&p->b, AL_CHAN_EV_PENDING, 0) &&
	       (al_chan_state(p->a.ch) & AL_CHAN_ST_FUNDED) &&
	       (al_chan_state(p->b.ch) & AL_CHAN_ST_FUNDED);
}

void h_confirm(hpair *p, uint32_t depth)
{
	/* block 500, transaction 7, output: the short_channel_id */
	uint64_t scid = (500ULL << 40) | (7ULL << 16);

	CHECK_OK(al_chan_funding_depth(p->a.ch, depth, scid));
	CHECK_OK(al_chan_funding_depth(p->b.ch, depth, scid));
	h_pump(p);
}

bool h_open(hpair *p, al_ln_chan_type type, uint64_t funding, uint64_t push, uint32_t feerate)
{
	if (!h_open_unconfirmed(p, type, funding, push, feerate))
		return false;
	h_confirm(p, 6);
	CHECK(h_find_event(&p->a, AL_CHAN_EV_READY, 0) && h_find_event(&p->b, AL_CHAN_EV_READY, 0));
	return (al_chan_state(p->a.ch) & AL_CHAN_ST_NORMAL) &&
	       (al_chan_state(p->b.ch) & AL_CHAN_ST_NORMAL);
}

/* --- payments ------------------------------------------------------------------------ */

void h_new_payment(hpair *p, uint8_t hash[32], uint8_t preimage[32])
{
	size_t i;

	for (i = 0; i < 32; i++)
		preimage[i] = (uint8_t)h_rand(p);
	al_sha256(hash, preimage, 32);
	if (p->n_pre < H_MAX_PREIMAGES) {
		memcpy(p->pre[p->n_pre], preimage, 32);
		memcpy(p->hash[p->n_pre++], hash, 32);
	}
}

bool h_preimage_of(const hpair *p, const uint8_t hash[32], uint8_t out[32])
{
	size_t i;

	for (i = 0; i < p->n_pre; i++)
		if (memcmp(p->hash[i], hash, 32) == 0) {
			memcpy(out, p->pre[i], 32);
			return true;
		}
	return false;
}

al_err h_add(hpair *p, hnode *n, uint64_t msat, uint32_t cltv, uint64_t *id, uint8_t hash[32])
{
	static uint8_t onion[AL_CHAN_ONION_LEN];
	uint8_t pre[32];

	h_new_payment(p, hash, pre);
	memset(onion, 0, sizeof(onion));
	onion[0] = 0; /* BOLT #4 version 0 */
	memcpy(onion + 1, hash, 32);
	return al_chan_add_htlc(n->ch, al_msat_of(msat), hash, cltv, onion, id);
}

const hevent *h_find_event(const hnode *n, al_chan_event_kind kind, size_t from)
{
	size_t i;

	for (i = n->n_ev; i > from; i--)
		if (n->ev[i - 1].kind == kind)
			return &n->ev[i - 1];
	return NULL;
}

size_t h_count_events(const hnode *n, al_chan_event_kind kind)
{
	size_t i, k = 0;

	for (i = 0; i < n->n_ev; i++)
		k += n->ev[i].kind == kind;
	return k;
}

/* --- checks ---------------------------------------------------------------------------- */

static uint64_t sum3(al_msat a, al_msat b, al_msat c)
{
	return a.msat + b.msat + c.msat;
}

void h_check_balances(hpair *p)
{
	al_chan_info a, b;
	uint64_t total;

	al_chan_get_info(p->a.ch, &a);
	al_chan_get_info(p->b.ch, &b);
	total = a.funding.sat * 1000;
	CHECK(sum3(a.local_to_local, a.local_to_remote, a.local_htlcs) == total);
	CHECK(sum3(a.remote_to_local, a.remote_to_remote, a.remote_htlcs) == total);
	CHECK(sum3(b.local_to_local, b.local_to_remote, b.local_htlcs) == total);
	CHECK(sum3(b.remote_to_local, b.remote_to_remote, b.remote_htlcs) == total);
	/* A's commitment as A holds it and as B signed it. */
	if (a.local_number == b.remote_number)
		CHECK(a.local_to_local.msat == b.remote_to_local.msat &&
		      a.local_htlcs.msat == b.remote_htlcs.msat &&
		      a.local_feerate == b.remote_feerate);
	if (b.local_number == a.remote_number)
		CHECK(b.local_to_local.msat == a.remote_to_local.msat &&
		      b.local_htlcs.msat == a.remote_htlcs.msat &&
		      b.local_feerate == a.remote_feerate);
}

static uint8_t verify_mem[8 << 20];

static bool run_interp(const al_tx *tx, size_t index, const uint8_t *spk, size_t spk_len,
                       al_sat amount)
{
	uint8_t mem[256 * 1024];
	al_interp_fail why;
	al_arena a;
	al_err e;

	al_arena_init(&a, mem, sizeof(mem));
	e = al_interp_verify_input(al_t_secp(), tx, index, spk, spk_len, amount, AL_INTERP_STANDARD,
	                           &a, &why);
	if (e != AL_OK)
		fprintf(stderr, "interp: %s (opcode %d at %zu)\n", al_err_name(e), why.opcode,
		        why.offset);
	return e == AL_OK;
}

int h_verify(hpair *p, hnode *n)
{
	const al_secp *ctx = al_t_secp();
	al_ecdsa_sig their, mine, hmine;
	const al_ecdsa_sig *their_htlc;
	al_privkey fkey, hbase, hkey;
	uint8_t spk[34], pre[32];
	al_ln_htlc_tx *txs;
	al_pubkey point;
	al_ln_commit c;
	al_arena a;
	al_wb w;
	size_t i;
	int count = 0;

	al_arena_init(&a, verify_mem, sizeof(verify_mem));
	CHECK_OK(al_chan_holder_commitment(n->ch, &a, &c, &their, &their_htlc));
	/* Our keys, derived here from the seed (not through the signer). */
	CHECK_OK(al_signer_root_key(&n->root, ctx, &fkey, AL_SIGNER_FAMILY_MULTISIG, n->index));
	CHECK_OK(al_signer_root_key(&n->root, ctx, &hbase, AL_SIGNER_FAMILY_HTLC_BASE, n->index));
	CHECK_OK(al_ln_commit_sign(ctx, &mine, &c, &fkey));
	CHECK_OK(al_ln_commit_finalize(ctx, &c, &a, &mine, &their));
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, c.funding_wscript.p, c.funding_wscript.len);
	if (!run_interp(&c.tx, 0, spk, w.len, c.p.funding_amount)) {
		CHECK(!"commitment does not spend the funding output");
		return -1;
	}
	count++;
	CHECK_OK(al_ln_htlc_txs_build(ctx, &txs, &a, &c));
	CHECK_OK(al_signer_holder_point(n->signer, c.p.commitment_number, &point));
	CHECK_OK(al_ln_derive_privkey(ctx, &hkey, &hbase, &point));
	for (i = 0; i < c.n_untrimmed_htlcs; i++) {
		al_ln_htlc_tx *h = &txs[i];
		const al_tx_out *spent = &c.tx.out[h->commit_out];

		CHECK_OK(al_ln_htlc_tx_sign(ctx, &hmine, h, &hkey, AL_SIGHASH_ALL));
		memset(pre, 0, sizeof(pre));
		if (h->success)
			CHECK(h_preimage_of(p, h->htlc->payment_hash, pre));
		CHECK_OK(al_ln_htlc_tx_finalize(ctx, h, &a, &their_htlc[i], &hmine, pre));
		if (!run_interp(&h->tx, 0, spent->script.p, spent->script.len, spent->amount)) {
			CHECK(!"HTLC transaction does not spend its output");
			return -1;
		}
		count++;
	}
	al_privkey_clear(&fkey);
	al_privkey_clear(&hbase);
	al_privkey_clear(&hkey);
	p->verified_txs += (size_t)count;
	return count;
}

bool h_verify_funding_spend(hpair *p, hnode *n, const hbcast *b)
{
	uint8_t ws[AL_LN_MAX_WSCRIPT], spk[34], am[65536];
	al_ln_basepoints bp;
	al_pubkey mine, theirs;
	al_chan_info info;
	al_arena a;
	al_wb w, w2;
	al_tx tx;
	bool ok;

	al_arena_init(&a, am, sizeof(am));
	if (al_tx_parse(&tx, &a, b->p, b->len) != AL_OK || tx.n_in != 1)
		return false;
	/* The funding script from both funding keys: the harness has both signers. */
	al_signer_basepoints(n->signer, &bp, &mine);
	al_signer_basepoints(peer_of(p, n)->signer, &bp, &theirs);
	al_wb_init(&w, ws, sizeof(ws));
	al_ln_funding_script(&w, al_t_secp(), &mine, &theirs);
	al_wb_init(&w2, spk, sizeof(spk));
	al_script_p2wsh(&w2, ws, w.len);
	al_chan_get_info(n->ch, &info);
	ok = run_interp(&tx, 0, spk, w2.len, info.funding);
	if (ok)
		p->verified_txs++;
	return ok;
}
