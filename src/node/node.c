/* One user's node (node/node.h): life cycle, its records, and the ordered effect queue
 * that makes "persist before you speak" a property of the node rather than of its
 * driver. Connections are in node_peers.c, the REST routes in node_api.c, the on-chain
 * wallet in node_wallet.c. */
#include <string.h>

#include "attest/der.h"
#include "util/mem.h"
#include "node/node_int.h"
#include "util/hex.h"

/* Every object the node may have: read at start (absent ones cost one request each). */
static const al_rs_key records[NODE_MAX_OBJECTS] = {
    {"node", "config"}, {"wallet", "state"}, {"chan", "0"},   {"chan", "1"},  {"chan", "2"},
    {"chan", "3"},      {"chan", "4"},       {"chan", "5"},   {"chan", "6"},  {"chan", "7"},
    {"mon", "0"},       {"mon", "1"},        {"mon", "2"},    {"mon", "3"},   {"mon", "4"},
    {"mon", "5"},       {"mon", "6"},        {"mon", "7"},    {"onc", "0"},   {"onc", "1"},
    {"onc", "2"},       {"onc", "3"},        {"onc", "4"},    {"onc", "5"},   {"onc", "6"},
    {"onc", "7"},       {"inv", "book"},     {"pay", "book"}, {"fwd", "book"}};
_Static_assert(NODE_MAX_CHANNELS == 8, "records[] names every channel slot");

void al_node_config_default(al_node_config *c)
{
	al_peer_config pc;

	memset(c, 0, sizeof(*c));
	al_peer_config_default(&pc);
	c->net = AL_NET_REGTEST;
	memcpy(c->network, "regtest", 8);
	c->coin = 1;
	c->max_peers = pc.max_peers;
	c->max_handshakes = pc.max_pending_handshakes;
	c->handshake_timeout_ms = c->ping_interval_ms = UINT64_MAX;
	c->pong_timeout_ms = c->idle_timeout_ms = UINT64_MAX;
	memcpy(c->platform, "sim", 4);
	c->n_stores = 1;
	c->chain_poll_ms = 30000;
}

static bool config_ok(const al_node_config *c)
{
	return c->max_peers >= 1 && c->max_peers <= 100000 && c->max_handshakes >= 1 &&
	       c->max_handshakes <= 100000 && c->n_stores >= 1 &&
	       c->n_stores <= AL_RS_MAX_REPLICAS && c->quorum <= c->n_stores && c->last_seen >= 0 &&
	       memchr(c->listen, 0, sizeof(c->listen)) &&
	       memchr(c->network, 0, sizeof(c->network)) &&
	       memchr(c->platform, 0, sizeof(c->platform));
}

/* BOLT #2's messages go to the node's channels (node_chan.c). */
static bool handles_type(void *arg, uint16_t type)
{
	(void)arg;
	/* BOLT #2's, and BOLT #7's announcements and updates (node_policy.c reads the
	 * channel_updates of our own channels; the rest waits for the gossip issue). */
	return (type >= 32 && type <= 39) || (type >= 128 && type <= 136) ||
	       (type >= 256 && type <= 258);
}

/* The peer manager's configuration for this node (key left to the caller). */
static void peer_config(al_peer_config *pc, const al_node_config *c, al_peer_pool *pool)
{
	al_peer_config_default(pc);
	memcpy(pc->chains[0], c->chain_hash, 32);
	pc->n_chains = 1;
	pc->max_peers = c->max_peers;
	pc->max_pending_handshakes = c->max_handshakes;
	if (c->handshake_timeout_ms != UINT64_MAX)
		pc->handshake_timeout_ms = c->handshake_timeout_ms;
	if (c->ping_interval_ms != UINT64_MAX)
		pc->ping_interval_ms = c->ping_interval_ms;
	if (c->pong_timeout_ms != UINT64_MAX)
		pc->pong_timeout_ms = c->pong_timeout_ms;
	if (c->idle_timeout_ms != UINT64_MAX)
		pc->idle_timeout_ms = c->idle_timeout_ms;
	pc->pool = pool;
	pc->handles_type = handles_type;
}

static al_rs_config rs_config(const al_node_config *c)
{
	al_rs_config r = {.n_replicas = c->n_stores,
	                  .quorum = c->quorum ? c->quorum : c->n_stores,
	                  .max_objects = NODE_MAX_OBJECTS,
	                  .last_seen = c->last_seen};
	return r;
}

size_t al_node_mem_size(const al_node_config *c)
{
	al_peer_config pc;
	al_rs_config rc;
	size_t conns, peers, rs;

	if (!c || !config_ok(c))
		return 0;
	peer_config(&pc, c, (al_peer_pool *)1); /* the tables only: slots are the pool's */
	rc = rs_config(c);
	conns = ((size_t)c->max_peers + c->max_handshakes) * sizeof(node_conn);
	peers = al_peer_arena_size(&pc);
	rs = al_rs_mem_size(&rc);
	if (!peers || !rs)
		return 0;
	return sizeof(al_node) + conns + peers + rs + 4 * 64;
}

/* --- memory -------------------------------------------------------------------- */

void *node_alloc(al_node *n, size_t len)
{
	void *p = NULL;
	if (al_alloc_get(n->env.mem, len, &p) != AL_OK)
		return NULL;
	n->alloc_bytes += len;
	return p;
}

void node_free(al_node *n, void *p, size_t len)
{
	if (!p)
		return;
	al_memzero(p, len);
	al_alloc_put(n->env.mem, p);
	n->alloc_bytes -= len <= n->alloc_bytes ? len : n->alloc_bytes;
}

size_t al_node_memory(const al_node *n)
{
	return n->arena_bytes + n->alloc_bytes;
}

/* --- life cycle ------------------------------------------------------------------ */

al_err al_node_init(al_node **out, al_arena *a, const al_node_config *cfg, const al_node_env *env,
                    const uint8_t *entropy, size_t entlen, uint64_t now, uint64_t wall)
{
	size_t mark = al_arena_mark(a), need = al_node_mem_size(cfg);
	al_peer_config pc;
	al_rs_config rc;
	al_node *n = NULL;
	al_err e;

	*out = NULL;
	if (!need || !env || !env->secp || !env->rng || !env->mem || !env->pool)
		return AL_E_ARG;
	AL_TRY(AL_ARENA_NEW(a, al_node, &n));
	n->cfg = *cfg;
	n->env = *env;
	n->now = n->started = now;
	n->wall = wall;
	n->arena_bytes = need;
	n->state = AL_NODE_LOADING;
	n->batch_next = 1;
	n->max_conns = (size_t)cfg->max_peers + cfg->max_handshakes;
	e = al_arena_alloc(a, n->max_conns * sizeof(node_conn), _Alignof(node_conn),
	                   (void **)&n->conns);
	if (e == AL_OK)
		e = al_node_keys_derive(env->secp, &n->keys, entropy, entlen, cfg->coin);
	if (e == AL_OK) {
		peer_config(&pc, cfg, env->pool);
		pc.node_key = n->keys.node_key;
		e = al_peer_mgr_init(&n->mgr, a, env->secp, &pc, now);
		n->features = pc.features;
		al_privkey_clear(&pc.node_key);
	}
	rc = rs_config(cfg);
	if (e == AL_OK)
		e = al_rs_init(&n->rs, a, &rc, env->mem, env->rng, n->keys.seed,
		               sizeof(n->keys.seed));
	if (e == AL_OK)
		e = al_rs_load(&n->rs, records, NODE_MAX_OBJECTS);
	if (e != AL_OK) {
		al_node_keys_clear(&n->keys);
		al_arena_release(a, mark);
		return e;
	}
	*out = n;
	return AL_OK;
}

static void fx_free(al_node *n, node_fx *q)
{
	node_free(n, q->data, q->fx.len);
	if (q->text)
		node_free(n, q->text, strlen(q->text) + 1);
	memset(q, 0, sizeof(*q));
}

void al_node_clear(al_node *n)
{
	if (!n)
		return;
	node_chan_clear(n);
	node_wallet_close(n);
	node_inv_free(n);
	node_recv_free(n);
	node_send_free(n);
	node_fwd_free(n);
	for (size_t i = 0; i < n->nq; i++)
		fx_free(n, &n->q[i]);
	fx_free(n, &n->cur);
	n->nq = 0;
	if (n->chain.ca)
		node_free(n, n->chain.ca, n->chain.ca_len + 1);
	al_rs_clear(&n->rs);
	if (n->mgr)
		al_peer_mgr_clear(n->mgr);
	al_node_keys_clear(&n->keys);
	n->state = AL_NODE_FAILED;
	n->status = AL_E_NODE_STATE;
}

al_node_state al_node_get_state(const al_node *n)
{
	return n->state;
}

al_err al_node_status(const al_node *n)
{
	return n->state == AL_NODE_FAILED    ? n->status
	       : n->state == AL_NODE_LOADING ? AL_E_NODE_STATE
	                                     : AL_OK;
}

void al_node_id(const al_node *n, uint8_t out[AL_PUBKEY_LEN])
{
	memcpy(out, n->keys.node_id, AL_PUBKEY_LEN);
}

void al_node_credential(const al_node *n, uint8_t out[32])
{
	memcpy(out, n->keys.credential, 32);
}

void al_node_set_listen(al_node *n, const char *addr)
{
	size_t len = strlen(addr);
	if (len >= sizeof(n->cfg.listen))
		len = sizeof(n->cfg.listen) - 1;
	memset(n->cfg.listen, 0, sizeof(n->cfg.listen));
	memcpy(n->cfg.listen, addr, len);
}

al_err al_node_mnemonic(const al_node *n, char *out, size_t cap)
{
	return al_bip39_from_entropy(out, cap, n->keys.entropy, n->keys.entropy_len);
}

void al_node_get_stats(const al_node *n, al_node_stats *out)
{
	*out = n->stats;
	if (n->mgr)
		al_peer_counts(n->mgr, &out->peers_pending, &out->peers_connected);
	out->fx_queued = n->nq;
	out->fx_held = 0;
	for (size_t i = 0; i < n->nq; i++)
		out->fx_held += n->q[i].gate > n->batch_durable;
	out->wallet_open = n->wallet != NULL;
	out->stores = n->cfg.n_stores;
	out->stores_in_set = al_rs_replicas_in_set(&n->rs);
	out->global_version = al_rs_global_version(&n->rs);
}

/* --- the effect queue --------------------------------------------------------------- */

uint64_t node_new_req(al_node *n)
{
	return ++n->next_req;
}

bool node_fx_room(const al_node *n)
{
	return n->nq + 4 <= NODE_FXQ;
}

al_err node_fx_push(al_node *n, const al_node_fx *fx, const void *data, size_t len,
                    const char *text, uint64_t gate)
{
	node_fx *q;

	if (n->nq == NODE_FXQ)
		return AL_E_NODE_BUSY;
	q = &n->q[n->nq];
	memset(q, 0, sizeof(*q));
	q->fx = *fx;
	q->gate = gate;
	if (len) {
		if (!(q->data = node_alloc(n, len)))
			return AL_E_NOMEM;
		memcpy(q->data, data, len);
	}
	q->fx.data = q->data;
	q->fx.len = len;
	if (text) {
		size_t tl = strlen(text) + 1;
		if (!(q->text = node_alloc(n, tl))) {
			node_free(n, q->data, len);
			return AL_E_NOMEM;
		}
		memcpy(q->text, text, tl);
	}
	q->fx.text = q->text;
	n->nq++;
	return AL_OK;
}

void node_log(al_node *n, int level, const char *a, const char *b)
{
	char line[400];
	size_t i = 0;

	for (const char *p = a; p && *p && i + 1 < sizeof(line); p++)
		line[i++] = *p;
	for (const char *p = b; p && *p && i + 1 < sizeof(line); p++)
		line[i++] = *p;
	line[i] = 0;
	al_node_fx fx = {.kind = AL_NODE_FX_LOG, .level = level};
	/* Logs never take the last places: answers need them. */
	if (!node_fx_room(n) || node_fx_push(n, &fx, NULL, 0, line, 0) != AL_OK)
		n->logs_dropped++;
}

void node_line_s(node_line *l, const char *s)
{
	while (s && *s && l->n + 1 < sizeof(l->b))
		l->b[l->n++] = *s++;
	l->b[l->n] = 0;
}

void node_line_u(node_line *l, uint64_t v)
{
	char d[21];
	size_t i = sizeof(d) - 1;
	d[i] = 0;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	node_line_s(l, d + i);
}

void node_line_hex(node_line *l, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n && l->n + 3 <= sizeof(l->b); i++) {
		l->b[l->n++] = digits[p[i] >> 4];
		l->b[l->n++] = digits[p[i] & 15];
	}
	l->b[l->n] = 0;
}

void node_line_log(al_node *n, node_line *l, int level)
{
	node_log(n, level, l->b, NULL);
}

json_t *node_hex_json(const uint8_t *p, size_t len)
{
	char buf[2 * 64 + 1];
	if (2 * len + 1 > sizeof(buf) || al_hex_encode(buf, sizeof(buf), p, len) != AL_OK)
		return json_string("");
	return json_string(buf);
}

json_t *node_u64_json(uint64_t v)
{
	node_line l = {.n = 0};
	node_line_u(&l, v);
	return json_string(l.b);
}

json_t *node_b64_json(const uint8_t *p, size_t len)
{
	char buf[4 * 64 / 3 + 4];
	if (len > 64)
		return json_string("");
	buf[al_att_base64_encode(buf, sizeof(buf) - 1, p, len)] = 0;
	return json_string(buf);
}

bool node_b64_member(const json_t *req, const char *key, uint8_t *out, size_t len)
{
	const json_t *j = json_object_get(req, key);
	size_t got = 0;

	return json_is_string(j) &&
	       al_att_base64_decode(out, len, &got, (const uint8_t *)json_string_value(j),
	                            json_string_length(j)) == AL_OK &&
	       got == len;
}

json_t *node_error_json(const char *msg)
{
	return json_pack("{s:{s:s}}", "error", "message", msg);
}

json_t *node_err_obj(al_err e, const char *detail)
{
	char msg[512];
	size_t n = 0;

	for (const char *p = al_err_str(e); *p && n + 1 < sizeof(msg); p++)
		msg[n++] = *p;
	if (detail && *detail) {
		for (const char *p = ": "; *p && n + 1 < sizeof(msg); p++)
			msg[n++] = *p;
		for (const char *p = detail; *p && n + 1 < sizeof(msg); p++)
			msg[n++] = *p;
	}
	msg[n] = 0;
	return json_pack("{s:s,s:s}", "code", al_err_name(e), "message", msg);
}

void node_answer(al_node *n, uint64_t token, int status, json_t *ans, uint64_t gate)
{
	static const char nomem[] = "{\"error\":{\"message\":\"out of memory\"}}";
	al_node_fx fx = {.kind = AL_NODE_FX_ANSWER, .token = token, .status = status};
	size_t need = ans ? json_dumpb(ans, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER) : 0;
	uint8_t *buf = need ? node_alloc(n, need) : NULL;
	al_err e;

	if (buf && json_dumpb(ans, (char *)buf, need, JSON_COMPACT | JSON_PRESERVE_ORDER) == need) {
		e = node_fx_push(n, &fx, buf, need, NULL, gate);
	} else {
		fx.status = 500;
		e = node_fx_push(n, &fx, nomem, sizeof(nomem) - 1, NULL, gate);
	}
	node_free(n, buf, need);
	json_decref(ans);
	if (e != AL_OK)
		n->stats.requests_refused++; /* admission kept room: only out of memory */
}

/* --- records ------------------------------------------------------------------------ */

uint64_t node_persist_config(al_node *n)
{
	n->cfg_dirty = true;
	return n->batch_next;
}

uint64_t node_persist_wallet(al_node *n)
{
	n->wallet_dirty = true;
	return n->batch_next;
}

static void fail(al_node *n, al_err why)
{
	n->state = AL_NODE_FAILED;
	n->status = why;
	node_log(n, 0, "node: failed: ", al_err_str(why));
}

/* Nothing held behind a persist that can no longer become durable may ever leave: a
 * held answer becomes an error, every other held effect is dropped. */
static void lost(al_node *n)
{
	size_t j = 0;

	for (size_t i = 0; i < n->nq; i++) {
		node_fx *q = &n->q[i];
		if (q->gate == 0) {
			n->q[j++] = *q;
			continue;
		}
		if (q->fx.kind == AL_NODE_FX_ANSWER) {
			static const char msg[] = "{\"error\":{\"message\":\"the node's storage "
			                          "failed: nothing was done\"}}";
			node_free(n, q->data, q->fx.len);
			q->data = node_alloc(n, sizeof(msg) - 1);
			if (q->data)
				memcpy(q->data, msg, sizeof(msg) - 1);
			q->fx.data = q->data;
			q->fx.len = q->data ? sizeof(msg) - 1 : 0;
			q->fx.status = 503;
			q->gate = 0;
			n->q[j++] = *q;
		} else {
			fx_free(n, q);
		}
	}
	n->nq = j;
}

/* The node's dirty records into one batch, when no batch is in flight. */
static void start_write(al_node *n)
{
	uint8_t *cfg = NULL, *wal = NULL, *inv = NULL, *pay = NULL, *fwd = NULL;
	size_t clen = 0, wlen = 0, ilen = 0, plen = 0, flen = 0, k = 0;
	al_rs_item items[AL_RS_BATCH_MAX];
	al_err e = AL_OK;

	if (n->state != AL_NODE_READY || al_rs_get_state(&n->rs) != AL_RS_READY ||
	    (!n->cfg_dirty && !n->wallet_dirty && !n->inv_dirty && !n->pay_dirty && !n->fwd_dirty &&
	     !node_chan_dirty(n)))
		return;
	if (n->cfg_dirty && (e = node_config_save(n, &cfg, &clen)) == AL_OK)
		items[k++] = (al_rs_item){"node", "config", cfg, clen};
	if (e == AL_OK && n->wallet_dirty && n->wallet &&
	    (e = node_wallet_save(n, &wal, &wlen)) == AL_OK)
		items[k++] = (al_rs_item){"wallet", "state", wal, wlen};
	if (e == AL_OK && n->inv_dirty && (e = node_inv_save(n, &inv, &ilen)) == AL_OK && inv)
		items[k++] = (al_rs_item){"inv", "book", inv, ilen};
	if (e == AL_OK && n->pay_dirty && (e = node_send_save(n, &pay, &plen)) == AL_OK && pay)
		items[k++] = (al_rs_item){"pay", "book", pay, plen};
	if (e == AL_OK && n->fwd_dirty && (e = node_fwd_save(n, &fwd, &flen)) == AL_OK && fwd)
		items[k++] = (al_rs_item){"fwd", "book", fwd, flen};
	/* Channels' records after the node's: what does not fit waits for the next batch. */
	if (e == AL_OK)
		k += node_chan_items(n, items + k, AL_RS_BATCH_MAX - k, n->batch_next);
	if (e == AL_OK && k)
		e = al_rs_write(&n->rs, items, k);
	node_free(n, cfg, clen);
	node_free(n, wal, wlen);
	node_free(n, inv, ilen);
	node_free(n, pay, plen);
	node_free(n, fwd, flen);
	if (e != AL_OK) {
		fail(n, e);
		lost(n);
		return;
	}
	n->cfg_dirty = n->wallet_dirty = n->inv_dirty = n->pay_dirty = n->fwd_dirty = false;
	if (k) {
		n->batch_flying = n->batch_next++;
		n->stats.persists++;
	}
}

static void loaded(al_node *n)
{
	const uint8_t *v;
	size_t len;
	int64_t ver;
	al_err e;

	if (al_rs_get_state(&n->rs) != AL_RS_READY) {
		fail(n, al_rs_error(&n->rs));
		return;
	}
	e = al_rs_value(&n->rs, "node", "config", &v, &len, &ver);
	if (e == AL_OK && v)
		e = node_config_load(n, v, len);
	if (e == AL_OK)
		e = al_rs_value(&n->rs, "wallet", "state", &v, &len, &ver);
	if (e == AL_OK && n->chain_set)
		e = node_wallet_open(n, v, len);
	else if (e == AL_OK && v)
		e = AL_E_NODE_RECORD; /* a wallet without the chain it was synced from */
	for (size_t i = 0; e == AL_OK && i < NODE_MAX_CHANNELS; i++) {
		const uint8_t *mv;
		size_t mlen;
		e = al_rs_value(&n->rs, "chan", records[2 + i].key, &v, &len, &ver);
		if (e == AL_OK)
			e = al_rs_value(&n->rs, "mon", records[2 + NODE_MAX_CHANNELS + i].key, &mv,
			                &mlen, &ver);
		if (e == AL_OK && v)
			e = node_chan_load(n, i, v, len, mv, mlen);
		else if (e == AL_OK && mv)
			e = AL_E_NODE_RECORD; /* monitor entries of no channel */
		if (e == AL_OK)
			e = al_rs_value(&n->rs, "onc", records[2 + 2 * NODE_MAX_CHANNELS + i].key,
			                &v, &len, &ver);
		if (e == AL_OK && v)
			e = node_onc_load(n, &n->chans[i], v, len);
	}
	if (e == AL_OK)
		e = al_rs_value(&n->rs, "inv", "book", &v, &len, &ver);
	if (e == AL_OK && v)
		e = node_inv_load(n, v, len);
	if (e == AL_OK)
		e = al_rs_value(&n->rs, "pay", "book", &v, &len, &ver);
	if (e == AL_OK && v)
		e = node_send_load(n, v, len);
	if (e == AL_OK)
		e = al_rs_value(&n->rs, "fwd", "book", &v, &len, &ver);
	if (e == AL_OK && v)
		e = node_fwd_load(n, v, len);
	if (e != AL_OK) {
		fail(n, e);
		return;
	}
	node_send_loaded(n);
	n->state = AL_NODE_READY;
	node_log(n, 2, "node: ready",
	         al_rs_replicas_in_set(&n->rs) > 1 ? ""
	                                           : " (one store: rollback protection is off)");
}

void al_node_store_done(al_node *n, uint64_t req, al_err status, const uint8_t *blob, size_t len,
                        int64_t version, uint64_t now)
{
	al_rs_done d;

	n->now = now > n->now ? now : n->now;
	if (al_rs_get_state(&n->rs) == AL_RS_LOADING)
		d = al_rs_get_done(&n->rs, req, status, blob, len, version);
	else
		d = al_rs_put_done(&n->rs, req, status);
	if (d == AL_RS_LOADED) {
		loaded(n);
	} else if (d == AL_RS_DURABLE) {
		n->batch_durable = n->batch_flying;
		n->stats.persists_durable++;
		node_chan_durable(n, n->batch_durable);
		al_node_fx fx = {.kind = AL_NODE_FX_DURABLE,
		                 .global_version = al_rs_global_version(&n->rs)};
		if (node_fx_push(n, &fx, NULL, 0, NULL, 0) != AL_OK)
			n->logs_dropped++;
	} else if (d == AL_RS_LOST) {
		fail(n, al_rs_error(&n->rs));
		lost(n);
	}
	node_wallet_run(n);
}

/* --- effects out -------------------------------------------------------------------- */

static bool store_fx(al_node *n, al_node_fx *fx)
{
	al_rs_req q;

	if (!al_rs_next(&n->rs, &q))
		return false;
	fx->kind = q.kind == AL_RS_GET ? AL_NODE_FX_STORE_GET : AL_NODE_FX_STORE_PUT;
	fx->req = q.id;
	fx->replica = q.replica;
	memcpy(fx->name, q.name, sizeof(fx->name));
	fx->items = q.items;
	fx->n_items = q.n_items;
	fx->global_version = q.global_version;
	return true;
}

bool al_node_next_fx(al_node *n, al_node_fx *fx, uint64_t now)
{
	n->now = now > n->now ? now : n->now;
	memset(fx, 0, sizeof(*fx));
	fx_free(n, &n->cur);
	node_chan_pump(n);
	start_write(n);
	if (store_fx(n, fx))
		return true;
	for (size_t i = 0; i < n->nq; i++) {
		if (n->q[i].gate > n->batch_durable)
			continue;
		n->cur = n->q[i];
		memmove(&n->q[i], &n->q[i + 1], (n->nq - i - 1) * sizeof(n->q[0]));
		n->nq--;
		*fx = n->cur.fx;
		if (fx->kind == AL_NODE_FX_FETCH) {
			/* The trust as it is now, by reference: valid until the node runs
			 * again, and only a request to the node changes it. */
			fx->ca = n->chain.ca;
			fx->ca_len = n->chain.ca_len;
			fx->pins = (const uint8_t(*)[32])n->chain.pins;
			fx->n_pins = n->chain.n_pins;
			fx->image_roots = !n->chain.ca_len && !n->chain.n_pins;
			fx->trust_gen = n->chain.generation;
		}
		return true;
	}
	return n->state != AL_NODE_LOADING && node_peers_fx(n, fx);
}

/* --- time ---------------------------------------------------------------------------- */

/* When the channels want the chain looked at again (UINT64_MAX: they do not). */
static uint64_t poll_due(const al_node *n)
{
	if (!n->wallet || !n->cfg.chain_poll_ms || !node_chan_live(n))
		return UINT64_MAX;
	return n->last_poll + n->cfg.chain_poll_ms;
}

uint64_t al_node_next_timer(const al_node *n)
{
	uint64_t t, p;

	if (n->state != AL_NODE_READY)
		return UINT64_MAX;
	t = al_peer_next_timer(n->mgr);
	p = poll_due(n);
	t = p < t ? p : t;
	p = node_recv_next_timer(n);
	return p < t ? p : t;
}

void al_node_timer(al_node *n, uint64_t now, uint64_t wall)
{
	n->now = now > n->now ? now : n->now;
	n->wall = wall > n->wall ? wall : n->wall;
	if (n->state != AL_NODE_READY)
		return;
	al_peer_timer(n->mgr, n->now);
	node_peers_pump(n);
	node_recv_timer(n);
	if (poll_due(n) <= n->now) {
		n->last_poll = n->now;
		if (node_wallet_internal(n, "chansync") != AL_OK)
			node_log(n, 3, "node: the chain poll waits: ", "the job queue is full");
		node_wallet_run(n);
	}
}
