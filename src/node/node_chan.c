/* The node's channels (ln/channel.h engines, one al_signer each), behind the trust
 * boundary: the node opens and accepts them, carries their messages over its peer
 * manager, makes their records durable before anything that depends on them leaves,
 * funds and broadcasts through its wallet, and tells them what the chain did.
 *
 * Records. Channel `slot` (0 .. NODE_MAX_CHANNELS - 1) is kept as ("chan", slot): a
 * node header (peer, key index, what the user sees of a close) and the engine's own
 * record; its monitor entries (the counterparty commitments it signed, for the on-chain
 * resolution of a revoked one) as ("mon", slot), appended and rewritten whole.
 *
 * Persist before you speak. A PERSIST effect of a channel is saved at once into the
 * node's copy of the record and marked dirty; the node's next write batch takes it, and
 * only when that batch is durable does the channel hear al_chan_persisted: until then
 * the engine itself holds back every message queued after the PERSIST.
 *
 * The user's routes for channels are in node_chan_api.c. */
#include <string.h>

#include "btc/address.h"
#include "btc/tx.h"
#include "node/node_int.h"
#include "util/cursor.h"
#include "util/hex.h"
#include "util/mem.h"
#include "wallet/wallet.h"

/* Version 2 adds the forwarding policies (node_policy.c); 1 still loads. */
#define CHAN_HEADER_VERSION 2
/* Room for the node's header before the engine's record. */
#define CHAN_HEADER_V1_LEN                                                                         \
	(1 + AL_PUBKEY_LEN + 4 + 1 + 1 + 32 + 8 + 32 + 4 + 32 + 32 + 1 + AL_CHAN_MAX_SCRIPT)
#define CHAN_HEADER_LEN (CHAN_HEADER_V1_LEN + NODE_POLICY_REC_LEN)
/* Monitor entries kept per channel (bytes). */
#define CHAN_MON_MAX (4u << 20)

const char *const node_close_names[] = {"", "COOPERATIVE_CLOSE", "LOCAL_FORCE_CLOSE",
                                        "REMOTE_FORCE_CLOSE", "ABANDONED"};

/* --- memory and set-up ---------------------------------------------------------------- */

void node_chan_config(const al_node *n, al_chan_config *c)
{
	al_chan_config_default(c);
	memcpy(c->chain_hash, n->cfg.chain_hash, 32);
}

/* The scratch arena every channel of the node shares, one call at a time. */
static al_err env_ready(al_node *n)
{
	al_chan_config cfg;

	if (n->chan_scratch)
		return AL_OK;
	node_chan_config(n, &cfg);
	n->chan_scratch_len = al_chan_scratch_size(&cfg);
	if (!(n->chan_scratch = node_alloc(n, n->chan_scratch_len)))
		return AL_E_NOMEM;
	al_arena_init(&n->chan_arena, n->chan_scratch, n->chan_scratch_len);
	memset(&n->chan_env, 0, sizeof(n->chan_env));
	n->chan_env.secp = n->env.secp;
	n->chan_env.scratch = &n->chan_arena;
	return AL_OK;
}

void node_chan_release(al_node *n, node_chan *c)
{
	node_onc_release(n, c);
	if (c->ch)
		al_chan_clear(c->ch);
	if (c->signer)
		al_signer_clear(c->signer);
	node_free(n, c->mem, c->mem_len);
	node_free(n, c->smem, al_signer_size());
	node_free(n, c->rec, c->rec_len);
	node_free(n, c->mon, c->mon_cap);
	for (size_t i = 0; i < c->n_out; i++)
		node_free(n, c->out[i].p, c->out[i].len);
	memset(c, 0, sizeof(*c));
}

void node_chan_clear(al_node *n)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++)
		node_chan_release(n, &n->chans[i]);
	node_onc_clear(n);
	node_free(n, n->chan_scratch, n->chan_scratch_len);
	n->chan_scratch = NULL;
	n->chan_scratch_len = 0;
}

/* Memory for an engine and its signer (key index `index`). */
al_err node_chan_alloc(al_node *n, node_chan *c, uint32_t index)
{
	al_chan_config cfg;

	node_chan_config(n, &cfg);
	AL_TRY(env_ready(n));
	c->mem_len = al_chan_size(&cfg);
	c->mem = node_alloc(n, c->mem_len);
	c->smem = node_alloc(n, al_signer_size());
	if (!c->mem || !c->smem)
		return AL_E_NOMEM;
	c->key_index = index;
	return al_signer_init(&c->signer, c->smem, al_signer_size(), n->env.secp, &n->keys.root,
	                      index);
}

/* A slot for a new channel: a free one, else the oldest closed one. */
node_chan *node_chan_slot_new(al_node *n)
{
	node_chan *slot = NULL, *closed = NULL;

	for (size_t i = 0; i < NODE_MAX_CHANNELS && !slot; i++) {
		node_chan *c = &n->chans[i];
		if (!c->used)
			slot = c;
		else if ((c->flags & (CF_CLOSED | CF_FAILED)) && !c->ch && !closed)
			closed = c;
	}
	if (!slot && closed) {
		node_chan_release(n, closed);
		slot = closed;
	}
	if (slot)
		node_policy_init(slot);
	return slot;
}

static size_t slot_of(const al_node *n, const node_chan *c)
{
	return (size_t)(c - n->chans);
}

static node_chan *find_id(al_node *n, const uint8_t id[32], const uint8_t peer[AL_PUBKEY_LEN])
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		uint8_t cid[32], derived[32];
		bool funded;
		if (!c->used || !c->ch || memcmp(c->peer_id, peer, AL_PUBKEY_LEN))
			continue;
		al_chan_channel_id(c->ch, cid);
		funded = (al_chan_state(c->ch) & AL_CHAN_ST_FUNDED) != 0;
		/* BOLT #2: the temporary id names the channel until funding_signed; the
		 * funder's funding_signed already names it by its outpoint. */
		if (c->funding_known)
			al_chan_derive_channel_id(derived, c->funding_txid,
			                          (uint16_t)c->funding_vout);
		if (!memcmp(cid, id, 32) || (!funded && !memcmp(c->temp_id, id, 32)) ||
		    (c->funding_known && !memcmp(derived, id, 32)))
			return c;
	}
	return NULL;
}

node_chan *node_chan_find_point(al_node *n, const uint8_t txid[32], uint32_t vout)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		if (c->used && c->funding_known && !memcmp(c->funding_txid, txid, 32) &&
		    c->funding_vout == vout)
			return c;
	}
	return NULL;
}

/* --- records ------------------------------------------------------------------------- */

/* The node's header, then the engine's record (when there is an engine). */
static al_err rec_build(al_node *n, node_chan *c)
{
	al_chan_config cfg;
	size_t cap, len = 0;
	uint8_t *buf;
	al_wb w;
	al_err e = AL_OK;

	node_chan_config(n, &cfg);
	cap = CHAN_HEADER_LEN + (c->ch ? al_chan_record_max(&cfg) : 0);
	if (!(buf = node_alloc(n, cap)))
		return AL_E_NOMEM;
	al_wb_init(&w, buf, cap);
	al_wb_u8(&w, CHAN_HEADER_VERSION);
	al_wb_bytes(&w, c->peer_id, AL_PUBKEY_LEN);
	al_wb_be32(&w, c->key_index);
	al_wb_u8(&w, c->flags);
	al_wb_u8(&w, c->close_type);
	al_wb_bytes(&w, c->closing_txid, 32);
	al_wb_be64(&w, c->settled_sat);
	al_wb_bytes(&w, c->funding_txid, 32);
	al_wb_be32(&w, c->funding_known ? c->funding_vout : UINT32_MAX);
	al_wb_bytes(&w, c->commit_txid, 32);
	al_wb_bytes(&w, c->closing_sent, 32);
	al_wb_u8(&w, (uint8_t)c->shutdown_len);
	al_wb_bytes(&w, c->shutdown, AL_CHAN_MAX_SCRIPT);
	if (al_wb_ok(&w) && w.len + NODE_POLICY_REC_LEN <= cap) {
		node_policy_save(c, buf + w.len);
		w.len += NODE_POLICY_REC_LEN;
	}
	if (c->ch && c->has_record) {
		e = al_chan_save(c->ch, buf + w.len, cap - w.len, &len);
		if (e == AL_E_CHAN_STATE)
			e = AL_OK, len = 0; /* nothing of the engine's to keep yet */
	}
	if (e != AL_OK || !al_wb_ok(&w)) {
		node_free(n, buf, cap);
		return e != AL_OK ? e : AL_E_BUFSIZE;
	}
	node_free(n, c->rec, c->rec_len);
	c->rec = buf;
	c->rec_len = cap;
	c->rec_used = w.len + len;
	c->rec_dirty = true;
	return AL_OK;
}

al_err node_chan_rec_build(al_node *n, node_chan *c)
{
	return rec_build(n, c);
}

static al_err mon_append(al_node *n, node_chan *c, uint64_t number, const uint8_t *p, size_t len)
{
	size_t need = c->mon_len + 12 + len;
	al_wb w;

	if (need > CHAN_MON_MAX)
		return AL_E_TOO_LARGE;
	if (need > c->mon_cap) {
		size_t cap = c->mon_cap ? c->mon_cap : 4096;
		uint8_t *b;
		while (cap < need)
			cap *= 2;
		if (!(b = node_alloc(n, cap)))
			return AL_E_NOMEM;
		if (c->mon_len)
			memcpy(b, c->mon, c->mon_len);
		node_free(n, c->mon, c->mon_cap);
		c->mon = b;
		c->mon_cap = cap;
	}
	al_wb_init(&w, c->mon + c->mon_len, c->mon_cap - c->mon_len);
	al_wb_be64(&w, number);
	al_wb_be32(&w, (uint32_t)len);
	al_wb_bytes(&w, p, len);
	c->mon_len += w.len;
	c->mon_dirty = true;
	return AL_OK;
}

/* A PERSIST now waits for the batch that will carry its record. */
static al_err wait_add(node_chan *c, uint64_t id)
{
	if (c->n_waits == NODE_CHAN_WAITS)
		return AL_E_NODE_BUSY;
	c->waits[c->n_waits].id = id;
	c->waits[c->n_waits].batch = 0; /* tagged when a batch takes the record */
	c->n_waits++;
	return AL_OK;
}

size_t node_chan_items(al_node *n, al_rs_item *items, size_t room, uint64_t batch)
{
	static const char *const keys[NODE_MAX_CHANNELS] = {"0", "1", "2", "3", "4", "5", "6", "7"};
	size_t k = 0;

	for (size_t i = 0; i < NODE_MAX_CHANNELS && k < room; i++) {
		node_chan *c = &n->chans[i];
		/* A channel's records go in one batch: what its engines' events changed in
		 * each (a force close's settled amount, what the engine reported) stays in
		 * step. */
		size_t need = (size_t)c->rec_dirty + c->mon_dirty + c->orec_dirty;
		if (!c->used || !need || k + need > room)
			continue;
		if (c->orec_dirty) {
			items[k++] = (al_rs_item){"onc", keys[i], c->orec, c->orec_used};
			c->orec_dirty = false;
			if (c->owaiting && !c->owait_batch)
				c->owait_batch = batch;
		}
		if (c->mon_dirty) {
			items[k++] = (al_rs_item){"mon", keys[i], c->mon, c->mon_len};
			c->mon_dirty = false;
		}
		if (c->rec_dirty) {
			items[k++] = (al_rs_item){"chan", keys[i], c->rec, c->rec_used};
			c->rec_dirty = false;
		}
		for (size_t j = 0; j < c->n_waits; j++)
			if (!c->waits[j].batch)
				c->waits[j].batch = batch;
	}
	return k;
}

bool node_chan_dirty(const al_node *n)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++)
		if (n->chans[i].used &&
		    (n->chans[i].rec_dirty || n->chans[i].mon_dirty || n->chans[i].orec_dirty))
			return true;
	return false;
}

/* A force close whose on-chain engine has not started: the chain pass that saw the
 * commitment could not start it, the close being heard only once its record was durable
 * (the event waits behind the persist). The next pass starts it. */
static bool engine_due(const node_chan *c)
{
	return c->ch && !c->oc && (c->flags & CF_CLOSED) && !(c->flags & CF_RESOLVED) &&
	       (c->close_type == CLOSE_LOCAL_FORCE || c->close_type == CLOSE_REMOTE_FORCE);
}

bool node_chan_live(const al_node *n)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		const node_chan *c = &n->chans[i];
		if (node_onc_live(c) || engine_due(c) ||
		    (c->ch && (!(c->flags & CF_CLOSED) ||
		               (c->close_type == CLOSE_COOPERATIVE && !(c->flags & CF_SETTLED)))))
			return true;
	}
	return false;
}

void node_chan_durable(al_node *n, uint64_t batch)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		size_t j = 0;
		for (size_t k = 0; k < c->n_waits; k++) {
			if (c->waits[k].batch && c->waits[k].batch <= batch) {
				if (c->ch && al_chan_persisted(c->ch, c->waits[k].id) != AL_OK)
					node_log(n, 0, "channel: ", "a persist nobody waited for");
			} else {
				c->waits[j++] = c->waits[k];
			}
		}
		c->n_waits = j;
		node_onc_durable(n, c, batch);
	}
	node_chan_pump(n);
}

al_err node_chan_load(al_node *n, size_t slot, const uint8_t *rec, size_t len, const uint8_t *mon,
                      size_t mon_len)
{
	node_chan *c = &n->chans[slot];
	al_chan_config cfg;
	uint32_t vout, index;
	size_t body, header;
	const uint8_t *pol;
	uint8_t version;
	al_cur cur;
	al_err e;

	node_chan_config(n, &cfg);
	memset(c, 0, sizeof(*c));
	al_cur_init(&cur, rec, len);
	version = al_cur_u8(&cur);
	if (version != 1 && version != CHAN_HEADER_VERSION)
		return AL_E_NODE_RECORD;
	header = version == 1 ? CHAN_HEADER_V1_LEN : CHAN_HEADER_LEN;
	al_cur_bytes(&cur, c->peer_id, AL_PUBKEY_LEN);
	c->key_index = al_cur_be32(&cur);
	c->flags = al_cur_u8(&cur);
	c->close_type = al_cur_u8(&cur);
	al_cur_bytes(&cur, c->closing_txid, 32);
	c->settled_sat = al_cur_be64(&cur);
	al_cur_bytes(&cur, c->funding_txid, 32);
	vout = al_cur_be32(&cur);
	al_cur_bytes(&cur, c->commit_txid, 32);
	al_cur_bytes(&cur, c->closing_sent, 32);
	c->shutdown_len = al_cur_u8(&cur);
	al_cur_bytes(&cur, c->shutdown, AL_CHAN_MAX_SCRIPT);
	if (version == 1)
		node_policy_init(c);
	else if ((pol = al_cur_ptr(&cur, NODE_POLICY_REC_LEN)) != NULL)
		node_policy_load(c, pol);
	if (!al_cur_ok(&cur) || c->close_type > CLOSE_ABANDONED ||
	    c->shutdown_len > AL_CHAN_MAX_SCRIPT)
		return AL_E_NODE_RECORD;
	c->used = true;
	c->funding_known = vout != UINT32_MAX;
	c->funding_vout = c->funding_known ? vout : 0;
	if (c->key_index >= n->next_key_index)
		n->next_key_index = c->key_index + 1;
	body = len - header;
	if (mon_len) {
		if (!(c->mon = node_alloc(n, mon_len)))
			return AL_E_NOMEM;
		memcpy(c->mon, mon, mon_len);
		c->mon_len = c->mon_cap = mon_len;
	}
	if (body == 0)
		return AL_OK; /* closed and forgotten by its engine, or never funded */
	e = al_chan_record_key_index(rec + header, body, &index);
	if (e == AL_OK && index != c->key_index)
		e = AL_E_NODE_RECORD;
	if (e == AL_OK)
		e = node_chan_alloc(n, c, index);
	if (e == AL_OK)
		e = al_chan_load(&c->ch, c->mem, c->mem_len, &n->chan_env, &cfg, c->signer,
		                 rec + header, body);
	if (e != AL_OK)
		return e;
	c->has_record = true;
	/* The record stays as it was loaded until the engine asks for another. */
	if (!(c->rec = node_alloc(n, len)))
		return AL_E_NOMEM;
	memcpy(c->rec, rec, len);
	c->rec_len = c->rec_used = len;
	return AL_OK;
}

/* --- effects of the engines ------------------------------------------------------------- */

void node_chan_log(al_node *n, const node_chan *c, const char *what, const char *detail)
{
	node_line l = {.n = 0};
	node_line_s(&l, "channel ");
	node_line_u(&l, slot_of(n, c));
	node_line_s(&l, ": ");
	node_line_s(&l, what);
	if (detail) {
		node_line_s(&l, " ");
		node_line_s(&l, detail);
	}
	node_line_log(n, &l, 2);
}

static void answer_open(al_node *n, node_chan *c, al_err e)
{
	char hex[65];

	if (!c->open_token)
		return;
	if (e == AL_OK) {
		al_txid_to_hex(hex, c->funding_txid);
		node_answer(n, c->open_token, 200,
		            json_pack("{s:s,s:i}", "funding_txid_str", hex, "output_index",
		                      (int)c->funding_vout),
		            0);
	} else {
		node_answer(n, c->open_token, 502,
		            json_pack("{s:o}", "error", node_err_obj(e, NULL)), 0);
	}
	c->open_token = 0;
}

/* What the user saw of the channel when it closed, from its last state. */
static void closed(al_node *n, node_chan *c, int type, const uint8_t *txid)
{
	if (c->flags & CF_CLOSED)
		return;
	c->flags |= CF_CLOSED;
	c->close_type = (uint8_t)type;
	if (txid)
		memcpy(c->closing_txid, txid, 32);
	c->settled_sat = 0; /* known from the closing transaction (settle_from) */
	if (c->close_token) {
		char hex[65];
		al_txid_to_hex(hex, c->closing_txid);
		node_answer(n, c->close_token, 200, json_pack("{s:s}", "closing_txid", hex),
		            node_persist_config(n));
		c->close_token = 0;
	}
	node_chan_log(n, c, "closed", node_close_names[c->close_type]);
}

/* Queue a transaction for the wallet to broadcast (it watches it from then on). */
void node_chan_outbox(al_node *n, node_chan *c, const uint8_t *tx, size_t len)
{
	uint8_t *p;

	if (c->n_out == NODE_CHAN_OUTBOX) {
		node_chan_log(n, c, "too many broadcasts waiting: dropped one", NULL);
		return;
	}
	if (!(p = node_alloc(n, len))) {
		node_chan_log(n, c, "out of memory for a broadcast", NULL);
		return;
	}
	memcpy(p, tx, len);
	c->out[c->n_out].p = p;
	c->out[c->n_out].len = len;
	c->n_out++;
	node_wallet_internal(n, "chanbcast");
}

static void event(al_node *n, node_chan *c, const al_chan_fx *fx)
{
	switch (fx->event) {
	case AL_CHAN_EV_FUNDING_NEEDED:
		node_chan_fund(n, c, fx->data, fx->len, fx->amount_sat);
		break;
	case AL_CHAN_EV_PENDING:
		memcpy(c->funding_txid, fx->txid, 32);
		c->funding_known = true;
		node_chan_log(n, c, "pending", NULL);
		if (rec_build(n, c) == AL_OK)
			answer_open(n, c, AL_OK);
		break;
	case AL_CHAN_EV_READY: /* told again at every load */
		if (!(c->flags & CF_READY))
			node_chan_log(n, c, "ready", NULL);
		c->flags |= CF_READY;
		break;
	case AL_CHAN_EV_HTLC_RECEIVED:
		node_recv_htlc(n, c, fx);
		break;
	case AL_CHAN_EV_HTLC_FULFILLED:
	case AL_CHAN_EV_HTLC_FAILED:
		node_htlc_event(n, c, fx);
		break;
	case AL_CHAN_EV_SHUTDOWN:
		node_chan_log(n, c, "shutdown", NULL);
		break;
	case AL_CHAN_EV_CLOSED: {
		static const uint8_t zero[32];
		/* Which transaction spent the funding output says how it closed. */
		int how = !memcmp(fx->txid, zero, 32)                       ? CLOSE_ABANDONED
		          : !memcmp(fx->txid, c->commit_txid, 32)           ? CLOSE_LOCAL_FORCE
		          : !memcmp(fx->txid, c->closing_sent, 32)          ? CLOSE_COOPERATIVE
		          : (al_chan_state(c->ch) & AL_CHAN_ST_NEGOTIATING) ? CLOSE_COOPERATIVE
		                                                            : CLOSE_REMOTE_FORCE;
		if (c->flags & CF_CLOSED)
			break; /* told again at a load */
		closed(n, c, how, fx->txid);
		rec_build(n, c);
		break;
	}
	case AL_CHAN_EV_FAILED:
		if (fx->err == AL_E_CHAN_FORCE_CLOSE) {
			node_chan_log(n, c, "force-closed", NULL);
			break; /* as asked: the commitment is on its way */
		}
		c->flags |= CF_FAILED;
		c->err = fx->err;
		node_chan_log(n, c, "failed:", al_err_str(fx->err));
		answer_open(n, c, fx->err);
		if (c->close_token) {
			node_answer(n, c->close_token, 502,
			            json_pack("{s:o}", "error", node_err_obj(fx->err, NULL)), 0);
			c->close_token = 0;
		}
		break;
	case AL_CHAN_EV_WARNING:
		node_chan_log(n, c, "peer warning", NULL);
		break;
	}
}

static void to_peer(al_node *n, node_chan *c, const uint8_t *msg, size_t len)
{
	al_err e = al_peer_send_to(n->mgr, c->peer_id, msg, len, n->now);

	if (e == AL_E_PEER_QUEUE_FULL) {
		/* The message cannot wait: end the connection; channel_reestablish
		 * retransmits what the peer missed. */
		node_conn *pc = node_conn_of_peer(n, c->peer_id);
		node_chan_log(n, c, "peer's queue full: disconnecting", NULL);
		if (pc && al_peer_disconnect(n->mgr, pc->conn, n->now) != AL_OK)
			node_chan_log(n, c, "disconnect failed", NULL);
	}
	/* Not connected: dropped; the engine retransmits after reestablish. */
}

void node_chan_pump(al_node *n)
{
	al_chan_fx fx;

	if (n->state != AL_NODE_READY)
		return;
	n->chan_again = false;
	/* Once more when a channel was touched in another's turn (a forward's outgoing HTLC,
	 * the incoming one's fulfilment), a few times at most. */
	for (size_t i = 0, round = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		for (int guard = 0;
		     c->ch && guard < 4096 && node_fx_room(n) && al_chan_next_effect(c->ch, &fx);
		     guard++) {
			switch (fx.kind) {
			case AL_CHAN_FX_PERSIST:
				c->has_record = true;
				if (fx.persist == AL_CHAN_PERSIST_MONITOR &&
				    mon_append(n, c, fx.number, fx.data, fx.len) != AL_OK)
					node_chan_log(n, c, "monitor entry not kept", NULL);
				if (rec_build(n, c) != AL_OK || wait_add(c, fx.id) != AL_OK)
					node_chan_log(n, c, "record not kept: the channel waits",
					              NULL);
				break;
			case AL_CHAN_FX_SEND:
				to_peer(n, c, fx.data, fx.len);
				break;
			case AL_CHAN_FX_BROADCAST:
				node_chan_outbox(n, c, fx.data, fx.len);
				if (fx.tx == AL_CHAN_TX_COMMITMENT)
					memcpy(c->commit_txid, fx.txid, 32);
				else if (fx.tx == AL_CHAN_TX_CLOSING)
					memcpy(c->closing_sent, fx.txid, 32);
				if (fx.tx == AL_CHAN_TX_COMMITMENT && c->close_token) {
					/* A force close on request: answered with what went out. */
					char hex[65];
					al_txid_to_hex(hex, fx.txid);
					node_answer(n, c->close_token, 200,
					            json_pack("{s:s}", "closing_txid", hex), 0);
					c->close_token = 0;
				}
				break;
			case AL_CHAN_FX_WATCH:
				memcpy(c->funding_txid, fx.txid, 32);
				c->funding_vout = fx.vout;
				c->funding_known = true;
				break;
			case AL_CHAN_FX_EVENT:
				event(n, c, &fx);
				break;
			default:
				break;
			}
		}
		if (c->oc)
			node_onc_pump(n, c);
		if (c->ch && c->want_commit) {
			al_err e = al_chan_commit(c->ch);
			if (e == AL_OK)
				i--; /* take the commitment_signed it queued */
			else if (e != AL_E_CHAN_AWAIT_REVOKE && e != AL_E_CHAN_NOT_CONNECTED)
				c->want_commit = false;
		}
		if (i + 1 == NODE_MAX_CHANNELS && n->chan_again && ++round < 4) {
			n->chan_again = false;
			i = (size_t)-1;
		}
	}
	node_policy_tell(n);
}

void node_chan_touch(al_node *n, node_chan *c)
{
	c->want_commit = true;
	n->chan_again = true;
}

/* --- funding and broadcasts (with the wallet) --------------------------------------------- */

void node_chan_fund(al_node *n, node_chan *c, const uint8_t *script, size_t slen, al_sat amount)
{
	uint8_t txid[32];
	size_t len = 0;
	al_sat fee;
	al_tx tx;
	al_err e = n->wallet ? AL_OK : AL_E_NODE_CHAIN;
	uint8_t *raw = node_alloc(n, AL_CHAN_MAX_FUNDING_TX);
	size_t mark = al_arena_mark(&n->chan_arena);
	uint16_t vout = 0;

	if (!raw)
		e = AL_E_NOMEM;
	if (e == AL_OK)
		e = node_wallet_build(n, raw, AL_CHAN_MAX_FUNDING_TX, &len, txid, &fee, script,
		                      slen, amount, c->fee_rate);
	if (e == AL_OK)
		e = al_tx_parse(&tx, &n->chan_arena, raw, len);
	if (e == AL_OK) {
		while (vout < tx.n_out && !(tx.out[vout].script.len == slen &&
		                            !memcmp(tx.out[vout].script.p, script, slen)))
			vout++;
		if (vout == tx.n_out)
			e = AL_E_CHAN_FUNDING_TX;
	}
	al_arena_release(&n->chan_arena, mark);
	if (e == AL_OK)
		e = al_chan_funding_tx(c->ch, raw, len, vout);
	if (e == AL_OK) {
		memcpy(c->funding_txid, txid, 32);
		c->funding_vout = vout;
		c->funding_known = true;
	}
	node_free(n, raw, AL_CHAN_MAX_FUNDING_TX);
	if (e != AL_OK) {
		node_chan_log(n, c, "funding failed:", al_err_str(e));
		answer_open(n, c, e);
		c->flags |= CF_FAILED;
		c->err = e;
		closed(n, c, CLOSE_ABANDONED, NULL);
		al_chan_clear(c->ch);
		c->ch = NULL;
		c->has_record = false;
		rec_build(n, c);
	}
}

/* The next transaction a channel wants broadcast, or false. */
bool node_chan_next_tx(al_node *n, const uint8_t **tx, size_t *len)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		if (c->n_out) {
			*tx = c->out[0].p;
			*len = c->out[0].len;
			return true;
		}
	}
	return false;
}

void node_chan_tx_done(al_node *n, al_err e, const char *why)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		if (!c->n_out)
			continue;
		if (e != AL_OK)
			node_chan_log(n, c,
			              "broadcast refused:", why && *why ? why : al_err_str(e));
		node_free(n, c->out[0].p, c->out[0].len);
		memmove(&c->out[0], &c->out[1], (c->n_out - 1) * sizeof(c->out[0]));
		c->n_out--;
		if (c->n_out)
			node_wallet_internal(n, "chanbcast");
		return;
	}
}

/* --- the chain ------------------------------------------------------------------------- */

void node_chan_watch(al_node *n, al_sync *s)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		if (!c->ch || !c->funding_known)
			continue;
		node_onc_watch(n, c, s);
		if (al_sync_watch_tx(s, c->funding_txid, false) != AL_OK ||
		    al_sync_watch_output(s, c->funding_txid, c->funding_vout) != AL_OK)
			node_chan_log(n, c, "the chain sync cannot watch the funding output", NULL);
		/* settle_from reads the cooperative close's outputs: its bytes are needed even
		 * when the wallet's own history has not reached it yet. */
		if ((c->flags & CF_CLOSED) && c->close_type == CLOSE_COOPERATIVE &&
		    al_sync_watch_tx(s, c->closing_txid, true) != AL_OK)
			node_chan_log(n, c, "the chain sync cannot watch the closing transaction",
			              NULL);
	}
}

/* What a cooperative close paid us: its outputs to our shutdown script. (A force
 * close's outputs come back through their sweeps.) */
static void settle_from(al_node *n, node_chan *c, const al_sync *s, const uint8_t txid[32])
{
	const al_sync_tx *t = al_sync_find_tx(s, txid);
	size_t mark = al_arena_mark(&n->chan_arena), len = 0;
	const uint8_t *raw = t ? al_sync_tx_raw(s, t, &len) : NULL;
	uint64_t sum = 0;
	al_tx tx;

	if (!(c->flags & CF_CLOSED) || c->close_type != CLOSE_COOPERATIVE || !raw ||
	    env_ready(n) != AL_OK || al_tx_parse(&tx, &n->chan_arena, raw, len) != AL_OK) {
		al_arena_release(&n->chan_arena, mark);
		return;
	}
	for (size_t i = 0; i < tx.n_out; i++)
		if (tx.out[i].script.len == c->shutdown_len &&
		    !memcmp(tx.out[i].script.p, c->shutdown, c->shutdown_len))
			sum += tx.out[i].amount.sat;
	al_arena_release(&n->chan_arena, mark);
	if (sum != c->settled_sat || (t->st.confirmed && !(c->flags & CF_SETTLED))) {
		c->settled_sat = sum;
		if (t->st.confirmed)
			c->flags |= CF_SETTLED;
		rec_build(n, c);
	}
}

void node_chan_chain(al_node *n, const al_sync *s)
{
	uint32_t tip = al_sync_tip_height(s);

	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		const al_sync_tx *t;
		const al_sync_out *o;
		al_err e = AL_OK;

		if (!c->ch || !c->funding_known)
			continue;
		t = al_sync_find_tx(s, c->funding_txid);
		o = al_sync_find_output(s, c->funding_txid, c->funding_vout);
		if (t && !(c->flags & CF_CLOSED)) {
			uint32_t depth = al_sync_confirmations(s, t);
			/* BOLT #7 short_channel_id: block height, transaction index, output. */
			uint64_t scid = depth ? (uint64_t)t->st.height << 40 |
			                            (uint64_t)t->st.pos << 16 | c->funding_vout
			                      : 0;
			e = al_chan_funding_depth(c->ch, depth, scid);
		}
		if (e == AL_OK && o && o->spent) {
			e = al_chan_funding_spent(c->ch, o->spender);
			node_chan_pump(n);
			settle_from(n, c, s, o->spender);
			/* BOLT #5: a commitment's outputs are the node's to resolve. */
			if (!c->oc && (c->flags & CF_CLOSED) &&
			    (c->close_type == CLOSE_LOCAL_FORCE ||
			     c->close_type == CLOSE_REMOTE_FORCE)) {
				al_err oe = node_onc_start(n, c, tip);
				if (oe != AL_OK)
					node_chan_log(n, c,
					              "no on-chain resolution:", al_err_str(oe));
			}
		}
		if (c->oc)
			node_onc_chain(n, c, s);
		if (e == AL_OK)
			e = al_chan_block_height(c->ch, tip);
		if (e != AL_OK && e != AL_E_CHAN_STATE)
			node_chan_log(n, c, "chain update refused:", al_err_str(e));
	}
	node_chan_pump(n);
}

/* --- peers ------------------------------------------------------------------------------ */

void node_chan_peer_connected(al_node *n, const uint8_t peer[AL_PUBKEY_LEN])
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		if (!memcmp(c->peer_id, peer, AL_PUBKEY_LEN))
			c->update_told = false; /* told again on this connection */
		if (c->ch && !memcmp(c->peer_id, peer, AL_PUBKEY_LEN) &&
		    al_chan_peer_connected(c->ch) != AL_OK)
			node_chan_log(n, c, "reconnection refused", NULL);
	}
	node_chan_pump(n);
}

void node_chan_peer_gone(al_node *n, const uint8_t peer[AL_PUBKEY_LEN])
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		if (c->ch && !memcmp(c->peer_id, peer, AL_PUBKEY_LEN))
			al_chan_peer_disconnected(c->ch);
	}
	node_chan_pump(n);
}

/* BOLT #1 error with the channel_id a message named. */
static void send_error(al_node *n, const uint8_t peer[AL_PUBKEY_LEN], const uint8_t id[32],
                       const char *text)
{
	uint8_t msg[2 + 32 + 2 + 128];
	size_t tl = strlen(text) < 128 ? strlen(text) : 128;

	msg[0] = 0;
	msg[1] = 17;
	memcpy(msg + 2, id, 32);
	msg[34] = (uint8_t)(tl >> 8);
	msg[35] = (uint8_t)tl;
	memcpy(msg + 36, text, tl);
	if (al_peer_send_to(n->mgr, peer, msg, 36 + tl, n->now) != AL_OK)
		node_log(n, 3, "channel: an error for the peer was not sent: ", text);
}

/* A peer's open_channel for a channel we do not have: accept within the policy. */
static void inbound(al_node *n, const node_conn *pc, const uint8_t *msg, size_t len)
{
	al_chan_accept_params p;
	al_chan_config cfg;
	node_chan *c;
	al_err e;

	if (!n->wallet) {
		send_error(n, pc->node_id, msg + 34, "no chain server: not accepting channels");
		return;
	}
	if (!(c = node_chan_slot_new(n))) {
		send_error(n, pc->node_id, msg + 34, "no channel slot free");
		return;
	}
	node_chan_config(n, &cfg);
	memset(&p, 0, sizeof(p));
	p.peer_features = pc->features;
	e = node_wallet_script(n, p.shutdown_script, &p.shutdown_script_len);
	memcpy(c->shutdown, p.shutdown_script, p.shutdown_script_len);
	c->shutdown_len = p.shutdown_script_len;
	if (e == AL_OK)
		e = node_chan_alloc(n, c, n->next_key_index);
	if (e == AL_OK)
		e = al_chan_init_inbound(&c->ch, c->mem, c->mem_len, &n->chan_env, &cfg, c->signer,
		                         &p);
	if (e != AL_OK) {
		node_chan_release(n, c);
		send_error(n, pc->node_id, msg + 34, al_err_str(e));
		return;
	}
	c->used = true;
	n->next_key_index++;
	memcpy(c->peer_id, pc->node_id, AL_PUBKEY_LEN);
	memcpy(c->temp_id, msg + 34, 32);
	node_persist_config(n); /* the key index is spent */
	(void)len;
	node_chan_log(n, c, "inbound open", NULL);
}

bool node_chan_message(al_node *n, const node_conn *pc, uint16_t type, const uint8_t *msg,
                       size_t len)
{
	node_chan *c;
	const uint8_t *id;

	/* BOLT #2 messages (types 32..39, 128..136) and error/warning name their channel
	 * right after the type; open_channel's chain_hash comes first. */
	bool bolt2 = (type >= 32 && type <= 39) || (type >= 128 && type <= 136);
	if (!bolt2 && type != 1 && type != 17)
		return false;
	if (len < (type == 32 ? 66u : 34u))
		return true; /* too short to name a channel: the engine's codec would refuse */
	id = type == 32 ? msg + 34 : msg + 2;
	c = find_id(n, id, pc->node_id);
	if (!c && type == 32) {
		inbound(n, pc, msg, len);
		c = find_id(n, id, pc->node_id);
	}
	if (!c && (type == 1 || type == 17)) {
		static const uint8_t zero[32];
		if (memcmp(id, zero, 32) != 0)
			return false;
		/* BOLT #1: all-zero channel_id: "the failure applies to all channels". */
		for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
			node_chan *k = &n->chans[i];
			if (k->ch && !memcmp(k->peer_id, pc->node_id, AL_PUBKEY_LEN) &&
			    al_chan_recv(k->ch, msg, len) != AL_OK)
				node_chan_log(n, k, "error not taken", NULL);
		}
		node_chan_pump(n);
		return false;
	}
	if (!c) {
		/* BOLT #1: "if the channel_id is unknown ... SHOULD ... send an error" */
		if (type != 1 && type != 17)
			send_error(n, pc->node_id, id, "unknown channel");
		return true;
	}
	al_err e = al_chan_recv(c->ch, msg, len);
	if (e == AL_E_CHAN_BUSY)
		node_chan_log(n, c, "busy: a message was dropped", NULL);
	else if (e != AL_OK)
		node_chan_log(n, c, "message refused:", al_err_str(e));
	node_chan_pump(n);
	return type != 1 && type != 17; /* errors and warnings are logged too */
}

/* The chanopen job's fee estimate (sat per 1000 vB) is in: open what waits for it. */
void node_chan_open_fee(al_node *n, al_err fee_err, uint64_t rate)
{
	for (size_t i = 0; i < NODE_MAX_CHANNELS; i++) {
		node_chan *c = &n->chans[i];
		al_chan_open_params p;
		al_chan_config cfg;
		const node_conn *pc;
		al_err e = fee_err;

		if (!c->used || !c->pending_open)
			continue;
		c->pending_open = false;
		pc = node_conn_of_peer(n, c->peer_id);
		if (e == AL_OK && !pc)
			e = AL_E_NODE_PEER;
		memset(&p, 0, sizeof(p));
		node_chan_config(n, &cfg);
		if (e == AL_OK) {
			bool anchors =
			    al_features_offered(&pc->features, AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX);
			p.type = c->want_type == 1 || (c->want_type == 0 && !anchors)
			             ? AL_LN_CHAN_STATIC_REMOTEKEY
			             : AL_LN_CHAN_ANCHORS;
			p.funding = al_sat_of(c->funding_sat);
			p.push = al_msat_of(c->push_msat);
			/* sat per 1000 vB to sat per 1000 weight units. */
			c->fee_rate = rate;
			p.feerate_per_kw = (uint32_t)(rate / 4 < cfg.min_feerate   ? cfg.min_feerate
			                              : rate / 4 > cfg.max_feerate ? cfg.max_feerate
			                                                           : rate / 4);
			p.peer_features = pc->features;
			e = n->env.rng->fill(n->env.rng->state, p.temporary_channel_id, 32);
		}
		if (e == AL_OK)
			e = node_wallet_script(n, p.shutdown_script, &p.shutdown_script_len);
		if (e == AL_OK) {
			memcpy(c->shutdown, p.shutdown_script, p.shutdown_script_len);
			c->shutdown_len = p.shutdown_script_len;
			e = node_chan_alloc(n, c, n->next_key_index);
		}
		if (e == AL_OK)
			e = al_chan_open(&c->ch, c->mem, c->mem_len, &n->chan_env, &cfg, c->signer,
			                 &p);
		if (e != AL_OK) {
			uint64_t token = c->open_token;
			node_chan_release(n, c);
			node_answer(n, token, e == AL_E_NODE_PEER ? 409 : 400,
			            json_pack("{s:o}", "error", node_err_obj(e, NULL)), 0);
			continue;
		}
		memcpy(c->temp_id, p.temporary_channel_id, 32);
		n->next_key_index++;
		node_persist_config(n);
		node_chan_log(n, c, "opening", NULL);
	}
	node_chan_pump(n);
}
