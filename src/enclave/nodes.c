/* The enclave's node slots (the meganode) and the one loop that turns node effects
 * into ocalls.
 *
 * A slot holds a user's node (node/node.h) in memory carved from the enclave heap. What
 * the enclave keeps of a node across restarts is its anchor: the seed's entropy and the
 * global version its records last reached, sealed (seal_sim.h: bound to this image and
 * platform) under a label naming the slot, stored by the host in its state store. The
 * node's own records are sealed with keys from its seed and live on the configured
 * stores (store/rstore.h). The seed enters only through provisioning on the user's
 * channel (ctl.c) and leaves only through that channel.
 *
 * Request ids the host sees name their node: (slot + 1) << 48 | the node's own id
 * (below 2^48), or AL_ENC_STATE_REQ | slot << 16 | a sequence number for anchors. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "btc/bip39.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "enclave/enclave_int.h"
#include "enclave/roots.h"
#include "node/keys.h"
#include "util/cursor.h"
#include "util/hex.h"

#define ANCHOR_FORMAT 1
#define ANCHOR_PT     (1 + 1 + 32 + 8)
#define ANCHOR_BLOB   (ANCHOR_PT + AL_SEALSIM_OVERHEAD)
#define REQ_MASK      (((uint64_t)1 << 48) - 1)

static al_enode *slot_at(uint32_t i)
{
	return i < al_enc.cfg.max_nodes ? &al_enc.nodes[i] : NULL;
}

static uint32_t slot_index(const al_enode *e)
{
	return (uint32_t)(e - al_enc.nodes);
}

static al_node *running(uint32_t i)
{
	al_enode *e = slot_at(i);
	return e && e->slot == ES_RUN ? e->node : NULL;
}

al_err al_enc_nodes_init(void)
{
	al_node_config *c = &al_enc.node_cfg;

	al_node_config_default(c);
	memcpy(c->chain_hash, al_enc.cfg.chain_hash, 32);
	memcpy(c->network, al_enc.cfg.network, sizeof(c->network));
	c->net = !strcmp(c->network, "mainnet")   ? AL_NET_MAINNET
	         : !strcmp(c->network, "regtest") ? AL_NET_REGTEST
	                                          : AL_NET_TESTNET;
	c->coin = al_enc.cfg.coin;
	c->max_peers = al_enc.cfg.node_max_peers;
	c->max_handshakes = al_enc.cfg.node_max_handshakes;
	c->handshake_timeout_ms = al_enc.cfg.handshake_timeout_ms;
	c->ping_interval_ms = al_enc.cfg.ping_interval_ms;
	c->pong_timeout_ms = al_enc.cfg.pong_timeout_ms;
	c->idle_timeout_ms = al_enc.cfg.idle_timeout_ms;
	c->n_stores = al_enc.cfg.n_stores;
	c->quorum = al_enc.cfg.quorum;
	if (al_enc.cfg.chain_poll_ms)
		c->chain_poll_ms = al_enc.cfg.chain_poll_ms;
	c->image_roots = al_enc_roots_desc;
	al_enc.node_bytes = al_node_mem_size(c);
	if (!al_enc.node_bytes)
		return AL_E_ARG;
	return al_enc_chain_init();
}

/* --- anchors ------------------------------------------------------------------------ */

/* The anchor's storage name: public, derived from the slot. */
static void anchor_name(uint8_t name[32], uint32_t i)
{
	uint8_t in[23] = "alight/node-anchor/";
	al_write_le32(in + 19, i);
	al_sha256(name, in, sizeof(in));
}

/* The sealing label names the slot: an anchor moved to another slot does not open. */
static void anchor_label(char label[32], uint32_t i)
{
	static const char digits[] = "0123456789abcdef";
	memcpy(label, "node-anchor/", 12);
	for (int k = 0; k < 8; k++)
		label[12 + k] = digits[(i >> (28 - 4 * k)) & 15];
	label[20] = 0;
}

static void anchor_write(al_enode *e)
{
	uint8_t pt[ANCHOR_PT], blob[ANCHOR_BLOB], nonce[AL_SEALSIM_NONCE_LEN];
	uint32_t i = slot_index(e);
	al_enc_kv_item it;
	char label[32];
	size_t blen = 0;
	al_err err;
	al_wb w;

	if (e->anchor_busy) {
		e->anchor_dirty = true;
		return;
	}
	anchor_label(label, i);
	al_wb_init(&w, pt, sizeof(pt));
	al_wb_u8(&w, ANCHOR_FORMAT);
	al_wb_u8(&w, (uint8_t)e->entropy_len);
	al_wb_bytes(&w, e->entropy, 32);
	al_wb_be64(&w, (uint64_t)e->last_seen);
	err = al_rng_fill(&al_enc.rng, nonce, sizeof(nonce));
	if (err == AL_OK)
		err = al_sealsim_seal(&al_enc.seal, blob, sizeof(blob), &blen, label, nonce, pt,
		                      sizeof(pt));
	al_memzero(pt, sizeof(pt));
	if (err == AL_OK) {
		anchor_name(it.name, i);
		it.value = blob;
		it.len = blen;
		it.version = -1; /* AL_KV_ANY: the anchor is rewritten whole */
		e->anchor_busy = true;
		e->anchor_dirty = false;
		err = (al_err)al_enc.oc.store_put(
		    al_enc.oc.host, AL_ENC_STATE_REQ | (uint64_t)i << 16 | ++e->anchor_seq,
		    AL_ENC_STATE_NODE, 0, &it, 1, 0);
	}
	if (err != AL_OK) {
		e->anchor_busy = false;
		al_enc_log(AL_ENC_LOG_ERROR,
		           "enclave: cannot write a node anchor: ", al_err_str(err), NULL);
	}
}

/* --- starting a node ---------------------------------------------------------------- */

static void slot_release(al_enode *e)
{
	al_enc_fetch_clear(e);
	if (e->node)
		al_node_clear(e->node);
	if (e->mem) {
		al_memzero(e->mem, e->mem_len);
		al_heap_free(al_enc.heap, e->mem);
	}
	al_memzero(e, sizeof(*e));
}

/* A node from its entropy, loading its records: the slot runs. */
static al_err start_node(al_enode *e, const uint8_t *entropy, size_t len, int64_t last_seen)
{
	al_node_env env = {al_enc.secp, &al_enc.rng, &al_enc.mem, al_enc.pool, al_enc.shared};
	al_node_config cfg = al_enc.node_cfg;
	al_err err;

	if (len > sizeof(e->entropy))
		return AL_E_BIP39_ENTROPY;
	cfg.last_seen = last_seen;
	memcpy(cfg.listen, e->listen, sizeof(cfg.listen));
	e->mem_len = al_enc.node_bytes;
	AL_TRY(al_heap_alloc(al_enc.heap, e->mem_len, &e->mem));
	al_arena_init(&e->arena, e->mem, e->mem_len);
	err = al_node_init(&e->node, &e->arena, &cfg, &env, entropy, len, al_enc.now_ms,
	                   al_enc.wall_s);
	if (err != AL_OK) {
		al_heap_free(al_enc.heap, e->mem);
		e->mem = NULL;
		return err;
	}
	memcpy(e->entropy, entropy, len);
	e->entropy_len = len;
	e->last_seen = last_seen;
	e->slot = ES_RUN;
	return AL_OK;
}

static void slot_failed(al_enode *e, al_err why)
{
	uint32_t i = slot_index(e);
	slot_release(e);
	e->slot = ES_FAILED;
	e->status = why;
	al_enc_log(AL_ENC_LOG_ERROR, "enclave: node failed to load: ", al_err_name(why), NULL);
	al_enc.oc.node_event(al_enc.oc.host, i, AL_ENC_NODE_FAILED, why);
}

int32_t al_enc_node_load(uint32_t i)
{
	al_enode *e = slot_at(i);
	uint8_t name[32];

	al_enc_tick();
	if (!e)
		return AL_E_ENC_FULL;
	if (e->slot != ES_FREE && e->slot != ES_FAILED)
		return AL_E_ENC_STATE;
	memset(e, 0, sizeof(*e));
	e->slot = ES_ANCHOR;
	e->anchor_seq = 1;
	anchor_name(name, i);
	al_err err = (al_err)al_enc.oc.store_get(
	    al_enc.oc.host, AL_ENC_STATE_REQ | (uint64_t)i << 16 | 1, AL_ENC_STATE_NODE, 0, name);
	if (err != AL_OK)
		e->slot = ES_FREE;
	return err;
}

/* The anchor of slot i came back. */
static void anchor_loaded(al_enode *e, al_err status, const uint8_t *blob, size_t len)
{
	uint8_t copy[ANCHOR_BLOB], pt[ANCHOR_PT];
	uint32_t i = slot_index(e);
	char label[32];
	size_t plen = 0;
	al_err err = status;
	al_cur c;

	if (err == AL_E_STORE_NOT_FOUND) {
		e->slot = ES_FREE;
		al_enc.oc.node_event(al_enc.oc.host, i, AL_ENC_NODE_EMPTY, AL_OK);
		return;
	}
	if (err == AL_OK && len != sizeof(copy))
		err = AL_E_SEAL_FORMAT;
	if (err == AL_OK) {
		memcpy(copy, blob, len); /* copy first: the host may change its buffer */
		anchor_label(label, i);
		err = al_sealsim_unseal(&al_enc.seal, pt, sizeof(pt), &plen, label, copy, len);
	}
	if (err == AL_OK) {
		al_cur_init(&c, pt, plen);
		uint8_t fmt = al_cur_u8(&c), elen = al_cur_u8(&c);
		const uint8_t *ent = al_cur_ptr(&c, 32);
		int64_t last = (int64_t)al_cur_be64(&c);
		if (al_cur_done(&c) != AL_OK || fmt != ANCHOR_FORMAT || elen > 32 || last < 0)
			err = AL_E_SEAL_FORMAT;
		else
			err = start_node(e, ent, elen, last);
	}
	al_memzero(pt, sizeof(pt));
	if (err != AL_OK)
		slot_failed(e, err);
}

static void anchor_done(uint64_t req, al_err status, const uint8_t *blob, size_t len)
{
	uint32_t i = (uint32_t)((req >> 16) & 0xffffffffu);
	al_enode *e = slot_at(i);

	if (!e || (req & 0xffff) != e->anchor_seq) {
		al_enc.stale++;
		return;
	}
	e->anchor_seq++; /* an answer counts once */
	if (e->slot == ES_ANCHOR) {
		anchor_loaded(e, status, blob, len);
		return;
	}
	if (e->slot != ES_RUN || !e->anchor_busy) {
		al_enc.stale++;
		return;
	}
	e->anchor_busy = false;
	if (e->provision_token) {
		/* Provisioning: the node exists once its anchor is durable. */
		uint64_t token = e->provision_token;
		e->provision_token = 0;
		if (status != AL_OK) {
			al_enc_post_answer(
			    token, 503,
			    (const uint8_t *)"{\"error\":{\"message\":\"the host could not "
			                     "store the node's anchor\"}}",
			    64);
			slot_release(e);
			return;
		}
		char words[AL_BIP39_MNEMONIC_BUFLEN], id[67];
		uint8_t nid[33];
		al_node_id(e->node, nid);
		if (al_hex_encode(id, sizeof(id), nid, 33) != AL_OK)
			id[0] = 0;
		json_t *ans = json_pack("{s:i,s:s}", "node", (int)i, "node_id", id);
		if (e->created && al_node_mnemonic(e->node, words, sizeof(words)) == AL_OK)
			json_object_set_new(ans, "mnemonic", json_string(words));
		al_memzero(words, sizeof(words));
		char *s = ans ? json_dumps(ans, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s) {
			al_enc_post_answer(token, 200, (const uint8_t *)s, strlen(s));
			al_memzero(s, strlen(s)); /* it held the mnemonic */
			free(s);
		} else {
			al_enc_post_answer(token, 500, (const uint8_t *)"{}", 2);
		}
		json_decref(ans);
		al_enc.oc.node_event(al_enc.oc.host, i, AL_ENC_NODE_PROVISIONED, AL_OK);
	} else if (status != AL_OK) {
		al_enc_log(AL_ENC_LOG_WARN,
		           "enclave: a node anchor was not stored: ", al_err_str(status), NULL);
	}
	if (e->anchor_dirty)
		anchor_write(e);
}

/* --- provisioning (from ctl.c) ------------------------------------------------------- */

static json_t *err_body(const char *msg)
{
	return json_pack("{s:{s:s}}", "error", "message", msg);
}

static void answer_json(uint64_t token, int status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s)
		al_enc_post_answer(token, status, (const uint8_t *)s, strlen(s));
	else
		al_enc_post_answer(token, 500, (const uint8_t *)"{}", 2);
	free(s);
	json_decref(o);
}

/* Whether a running node already has this credential (a seed provisioned twice). */
static bool credential_taken(const uint8_t pin[32])
{
	uint8_t cred[32];
	bool any = false;
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_node *n = running(i);
		if (!n)
			continue;
		al_node_credential(n, cred);
		any |= al_memeq_ct(cred, pin, 32);
	}
	return any;
}

void al_enc_provision(uint64_t token, const uint8_t pin[32], const uint8_t *body, size_t blen)
{
	uint8_t entropy[32], cred[32];
	size_t elen = 0;
	al_enode *e = NULL;
	al_node_keys keys;
	json_t *req = json_loadb((const char *)body, blen, JSON_REJECT_DUPLICATES, NULL);
	const char *words = json_string_value(json_object_get(req, "mnemonic"));
	bool create = json_is_true(json_object_get(req, "create"));
	al_err err = AL_OK;

	if (!json_is_object(req) || (!words == !create)) {
		answer_json(
		    token, 400,
		    err_body("body must be {\"mnemonic\":\"<words>\"} or {\"create\":true}"));
		goto out;
	}
	if (words)
		err = al_bip39_to_entropy(entropy, sizeof(entropy), &elen, words, strlen(words));
	else
		err = al_rng_fill(&al_enc.rng, entropy, elen = 32);
	if (err == AL_OK)
		err = al_node_keys_derive(al_enc.secp, &keys, entropy, elen, al_enc.cfg.coin);
	if (err != AL_OK) {
		answer_json(token, 400, err_body(al_err_str(err)));
		goto out;
	}
	memcpy(cred, keys.credential, 32);
	al_node_keys_clear(&keys);
	/* Whoever provisions a seed must hold it: the client key is its credential. */
	if (words && !al_memeq_ct(cred, pin, 32)) {
		answer_json(token, 403,
		            err_body("the client certificate is not this seed's credential"));
		goto out;
	}
	if (credential_taken(cred)) {
		answer_json(token, 409, err_body("this seed already has a node here"));
		goto out;
	}
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes && !e; i++)
		if (al_enc.nodes[i].slot == ES_FREE)
			e = &al_enc.nodes[i];
	/* Then a slot whose anchor this enclave cannot open (sealed by another image or
	 * platform): nothing there is readable. A node that failed for any other reason
	 * (its stores rolled back) keeps its anchor: provisioning over it would forget the
	 * global version that caught the rollback. */
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes && !e; i++)
		if (al_enc.nodes[i].slot == ES_FAILED &&
		    (al_enc.nodes[i].status == AL_E_SEAL_MEASUREMENT ||
		     al_enc.nodes[i].status == AL_E_SEAL_AUTH ||
		     al_enc.nodes[i].status == AL_E_SEAL_FORMAT))
			e = &al_enc.nodes[i];
	if (!e) {
		answer_json(token, 503, err_body("no free node slot in this enclave"));
		goto out;
	}
	memset(e, 0, sizeof(*e));
	err = start_node(e, entropy, elen, 0);
	if (err != AL_OK) {
		answer_json(token, 503, err_body(al_err_str(err)));
		goto out;
	}
	e->created = create;
	e->provision_token = token;
	anchor_write(e);
	if (!e->anchor_busy) {
		e->provision_token = 0;
		answer_json(token, 503, err_body("the host refused the node's anchor"));
		slot_release(e);
	}
out:
	al_memzero(entropy, sizeof(entropy));
	if (words) /* jansson's copy of the words */
		al_memzero((char *)words, strlen(words));
	json_decref(req);
}

/* --- node inputs ---------------------------------------------------------------------- */

int32_t al_enc_node_unload(uint32_t i)
{
	al_enode *e = slot_at(i);

	if (!e || e->slot == ES_FREE)
		return AL_E_ENC_UNKNOWN;
	for (size_t k = 0; k < al_enc.n_conns; k++) {
		al_econn *c = &al_enc.conns[k];
		if (c->used && !c->ctl && c->node == i && !c->closing) {
			c->closing = true;
			(void)al_enc.oc.net_close(al_enc.oc.host, c->conn);
		}
	}
	slot_release(e);
	al_enc_pump();
	return AL_OK;
}

int32_t al_enc_node_info(uint32_t i, al_enclave_node_info *out)
{
	al_enode *e = slot_at(i);
	al_enclave_node_info ni;
	al_node_stats st;

	if (!e)
		return AL_E_ENC_UNKNOWN;
	memset(&ni, 0, sizeof(ni));
	ni.node = i;
	if (e->slot == ES_RUN) {
		al_node_state s = al_node_get_state(e->node);
		ni.state = s == AL_NODE_READY ? 2 : s == AL_NODE_LOADING ? 1 : 3;
		ni.status = s == AL_NODE_LOADING ? AL_E_ENC_NOT_READY : al_node_status(e->node);
		al_node_id(e->node, ni.node_id);
		al_node_get_stats(e->node, &st);
		ni.peers_pending = (uint32_t)st.peers_pending;
		ni.peers_connected = (uint32_t)st.peers_connected;
		ni.memory = al_node_memory(e->node);
	} else {
		ni.state = e->slot == ES_ANCHOR ? 1 : e->slot == ES_FAILED ? 3 : 0;
		ni.status = e->slot == ES_FAILED ? e->status : AL_E_ENC_NOT_READY;
	}
	memcpy(out, &ni, sizeof(ni));
	return AL_OK;
}

int32_t al_enc_node_listen(uint32_t i, const char *addr, size_t len)
{
	al_enode *e = slot_at(i);

	if (!e)
		return AL_E_ENC_UNKNOWN;
	if (len >= sizeof(e->listen))
		return AL_E_ARG;
	memset(e->listen, 0, sizeof(e->listen));
	memcpy(e->listen, addr, len);
	for (size_t k = 0; k < len; k++) /* public text: printable only */
		if (e->listen[k] < 0x20 || e->listen[k] > 0x7e)
			e->listen[k] = '?';
	if (e->slot == ES_RUN)
		al_node_set_listen(e->node, e->listen);
	return AL_OK;
}

int32_t al_enc_net_accept(uint32_t i, al_enc_conn conn, const char *addr, size_t len)
{
	al_node *n = running(i);
	char copy[64];
	al_econn *c;
	al_err err;

	al_enc_tick();
	if (!n)
		return AL_E_ENC_UNKNOWN;
	if (len >= sizeof(copy))
		len = sizeof(copy) - 1;
	memcpy(copy, addr, len);
	copy[len] = 0;
	if (!(c = al_enc_conn_new(conn)))
		return al_enc_conn_find(conn) ? AL_E_PEER_CONN_EXISTS : AL_E_ENC_FULL;
	err = al_node_net_accept(n, conn, copy, al_enc.now_ms);
	if (err != AL_OK) {
		c->used = false;
		return err;
	}
	c->node = i;
	al_enc_pump();
	return AL_OK;
}

static al_node *conn_node(al_enc_conn conn, al_econn **out)
{
	al_econn *c = al_enc_conn_find(conn);
	*out = c;
	return c && !c->ctl ? running(c->node) : NULL;
}

int32_t al_enc_net_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed)
{
	al_econn *c;
	al_node *n = conn_node(conn, &c);
	al_err err = AL_OK;

	al_enc_tick();
	if (!c || c->ctl)
		return AL_E_ENC_UNKNOWN;
	if (!n || c->closing) {
		*consumed = len; /* nobody listens any more: drop */
		return AL_OK;
	}
	size_t k = len < AL_ENC_RXBUF ? len : AL_ENC_RXBUF;
	memcpy(al_enc.rxbuf, buf, k); /* copy first: the host may change its buffer */
	err = al_node_net_recv(n, conn, al_enc.rxbuf, k, consumed, al_enc.now_ms);
	if (*consumed > k)
		*consumed = k;
	al_enc_pump();
	return err == AL_E_PEER_UNKNOWN_CONN ? err : AL_OK;
}

int32_t al_enc_net_eof(al_enc_conn conn)
{
	al_econn *c;
	al_node *n = conn_node(conn, &c);

	al_enc_tick();
	if (!c || c->ctl)
		return AL_E_ENC_UNKNOWN;
	if (n)
		al_node_net_eof(n, conn, al_enc.now_ms);
	al_enc_pump();
	return AL_OK;
}

int32_t al_enc_net_writable(al_enc_conn conn)
{
	al_econn *c;
	al_node *n = conn_node(conn, &c);

	al_enc_tick();
	if (!c || c->ctl)
		return AL_E_ENC_UNKNOWN;
	if (n)
		al_node_net_writable(n, conn, al_enc.now_ms);
	al_enc_pump();
	return AL_OK;
}

int32_t al_enc_net_closed(al_enc_conn conn, const char *why, size_t len)
{
	char text[96];
	al_econn *c;
	al_node *n = conn_node(conn, &c);

	al_enc_tick();
	if (!c || c->ctl)
		return AL_E_ENC_UNKNOWN;
	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	if (len)
		memcpy(text, why, len);
	text[len] = 0;
	if (n)
		al_node_net_closed(n, conn, text, al_enc.now_ms);
	memset(c, 0, sizeof(*c));
	al_enc_pump();
	return AL_OK;
}

void al_enc_timer(void)
{
	al_enc_tick();
	al_enc.timer_armed = UINT64_MAX;
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_node *n = running(i);
		if (n)
			al_node_timer(n, al_enc.now_ms, al_enc.wall_s);
	}
	al_enc_pump();
}

void al_enc_store_done(uint64_t req, int32_t status, const uint8_t *blob, size_t len,
                       int64_t version)
{
	uint64_t top = req >> 48;
	al_node *n;

	al_enc_tick();
	if (top == 0xffff && al_enc_chain_req(req)) {
		al_enc_chain_done(req, (al_err)status, blob, len);
	} else if (top == 0xffff) {
		anchor_done(req, (al_err)status, blob, len);
	} else if (top >= 1 && (n = running((uint32_t)(top - 1))) != NULL) {
		/* The node copies what it keeps and checks the rest. */
		al_node_store_done(n, req & REQ_MASK, (al_err)status, blob, len, version,
		                   al_enc.now_ms);
	} else {
		al_enc.stale++;
	}
	al_enc_pump();
}

/* Method, target and body copied in, for the node. */
static bool copy_request(char m[8], char t[AL_NODE_TARGET_MAX], uint8_t **b, const char *method,
                         size_t mlen, const char *target, size_t tlen, const uint8_t *body,
                         size_t blen)
{
	if (mlen >= 8 || tlen >= AL_NODE_TARGET_MAX || blen > AL_NODE_BODY_MAX)
		return false;
	memcpy(m, method, mlen);
	m[mlen] = 0;
	memcpy(t, target, tlen);
	t[tlen] = 0;
	if (strlen(m) != mlen || strlen(t) != tlen)
		return false;
	*b = NULL;
	if (blen && al_heap_alloc(al_enc.heap, blen, (void **)b) != AL_OK)
		return false;
	if (blen)
		memcpy(*b, body, blen);
	return true;
}

int32_t al_enc_api(uint32_t i, uint64_t token, const char *method, size_t mlen, const char *target,
                   size_t tlen, const uint8_t *body, size_t blen)
{
	al_node *n = running(i);
	char m[8], t[AL_NODE_TARGET_MAX];
	uint8_t *b = NULL;

	al_enc_tick();
	/* The host's tokens never address a user channel's pending request. */
	if (token == 0 || (token & AL_ENC_CTL_TOKEN))
		return AL_E_ARG;
	if (!n)
		return AL_E_ENC_UNKNOWN;
	if (!copy_request(m, t, &b, method, mlen, target, tlen, body, blen))
		return AL_E_ARG;
	al_node_request(n, AL_NODE_OPERATOR, token, m, t, b, blen, al_enc.now_ms, al_enc.wall_s);
	al_heap_free(al_enc.heap, b);
	al_enc_pump();
	return AL_OK;
}

bool al_enc_user_request(uint64_t token, const uint8_t pin[32], const char *method,
                         const char *target, const uint8_t *body, size_t blen)
{
	uint8_t cred[32];
	al_node *match = NULL;

	/* Constant time over the credentials: which node a key opens is not a secret,
	 * but nothing here should depend on more than the outcome. */
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_node *n = running(i);
		if (!n)
			continue;
		al_node_credential(n, cred);
		if (al_memeq_ct(cred, pin, 32))
			match = n;
	}
	if (!match)
		return false;
	al_node_request(match, AL_NODE_USER, token, method, target, body, blen, al_enc.now_ms,
	                al_enc.wall_s);
	return true;
}

/* --- the loop: node effects into ocalls ------------------------------------------------ */

static void line(int32_t level, uint32_t i, const char *text)
{
	char l[300], num[11];
	size_t n = 0, k = sizeof(num) - 1;
	num[k] = 0;
	do {
		num[--k] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	const char *parts[] = {"node ", num + k, ": ", text};
	for (size_t p = 0; p < 4; p++)
		for (const char *s = parts[p]; *s && n < sizeof(l); s++)
			l[n++] = *s;
	al_enc.oc.log(al_enc.oc.host, level, l, n);
}

static void do_dial(al_enode *e, al_node *n, const al_node_fx *fx)
{
	char why[160] = "";
	al_enc_conn conn = 0;
	uint32_t i = slot_index(e);
	al_econn *c;
	al_err err = (al_err)al_enc.oc.net_dial(al_enc.oc.host, i, fx->text, strlen(fx->text),
	                                        &conn, why, sizeof(why));
	why[sizeof(why) - 1] = 0;
	if (err == AL_OK && !(c = al_enc_conn_new(conn))) {
		(void)al_enc.oc.net_close(al_enc.oc.host, conn);
		err = AL_E_ENC_FULL;
	} else if (err == AL_OK) {
		c->node = i;
	}
	/* A connection the node then refuses is closed by its own NET_CLOSE effect. */
	al_node_dialed(n, fx->req, err, conn, why, al_enc.now_ms);
}

static void do_store_put(uint32_t i, const al_node_fx *fx)
{
	al_enc_kv_item items[AL_RS_BATCH_MAX + 1];
	size_t k = fx->n_items < AL_RS_BATCH_MAX + 1 ? fx->n_items : 0;

	for (size_t j = 0; j < k; j++) {
		memcpy(items[j].name, fx->items[j].name, 32);
		items[j].value = fx->items[j].value;
		items[j].len = fx->items[j].len;
		items[j].version = fx->items[j].version;
	}
	(void)al_enc.oc.store_put(al_enc.oc.host, (uint64_t)(i + 1) << 48 | fx->req, i, fx->replica,
	                          items, k, fx->global_version);
}

static void perform(al_enode *e, al_node *n, const al_node_fx *fx)
{
	uint32_t i = slot_index(e);
	size_t taken = 0;

	switch (fx->kind) {
	case AL_NODE_FX_NET_SEND:
		if (al_enc.oc.net_send(al_enc.oc.host, fx->conn, fx->data, fx->len, &taken) !=
		        AL_OK ||
		    taken > fx->len)
			taken = 0;
		al_node_net_sent(n, fx->conn, taken, al_enc.now_ms);
		break;
	case AL_NODE_FX_NET_READ:
		al_enc.oc.net_read_ctl(al_enc.oc.host, fx->conn, fx->want);
		break;
	case AL_NODE_FX_NET_CLOSE: {
		al_econn *c = al_enc_conn_find(fx->conn);
		if (c && !c->closing) {
			c->closing = true;
			(void)al_enc.oc.net_close(al_enc.oc.host, fx->conn);
		}
		break;
	}
	case AL_NODE_FX_DIAL:
		do_dial(e, n, fx);
		break;
	case AL_NODE_FX_STORE_GET:
		(void)al_enc.oc.store_get(al_enc.oc.host, (uint64_t)(i + 1) << 48 | fx->req, i,
		                          fx->replica, fx->name);
		break;
	case AL_NODE_FX_STORE_PUT:
		do_store_put(i, fx);
		break;
	case AL_NODE_FX_FETCH:
		al_enc_fetch(e, fx);
		break;
	case AL_NODE_FX_ANSWER:
		if (fx->token & AL_ENC_CTL_TOKEN)
			al_enc_post_answer(fx->token, fx->status, fx->data, fx->len);
		else
			al_enc.oc.api_done(al_enc.oc.host, fx->token, fx->status, fx->data,
			                   fx->len);
		break;
	case AL_NODE_FX_DURABLE:
		e->last_seen = fx->global_version;
		anchor_write(e);
		break;
	case AL_NODE_FX_LOG:
		line(fx->level, i, fx->text);
		break;
	default:
		break;
	}
}

static void tell_state(al_enode *e)
{
	uint32_t i = slot_index(e);
	al_node_state s = al_node_get_state(e->node);

	if (s == AL_NODE_READY && !e->ready_told) {
		e->ready_told = true;
		al_enc.oc.node_event(al_enc.oc.host, i, AL_ENC_NODE_READY, AL_OK);
	} else if (s == AL_NODE_FAILED && !e->failed_told) {
		e->failed_told = true;
		e->status = al_node_status(e->node);
		al_enc.oc.node_event(al_enc.oc.host, i, AL_ENC_NODE_FAILED, e->status);
	}
}

static void update_interest(void)
{
	uint64_t next = al_enc_chain_next();
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_node *n = running(i);
		uint64_t t = n ? al_node_next_timer(n) : UINT64_MAX;
		next = t < next ? t : next;
	}
	if (next != al_enc.timer_armed) {
		al_enc.timer_armed = next;
		al_enc.oc.timer_arm(al_enc.oc.host, next);
	}
}

void al_enc_pump(void)
{
	al_node_fx fx;

	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_enode *e = &al_enc.nodes[i];
		/* Bounded: a node releases what it has and then waits for answers. */
		for (int k = 0; k < 100000 && e->slot == ES_RUN &&
		                al_node_next_fx(e->node, &fx, al_enc.now_ms);
		     k++)
			perform(e, e->node, &fx);
		if (e->slot == ES_RUN)
			tell_state(e);
	}
	al_enc_chain_tick();
	update_interest();
}

void al_enc_count(uint32_t *nodes, uint32_t *ready, uint32_t *conns)
{
	*nodes = *ready = *conns = 0;
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_node *n = running(i);
		*nodes += al_enc.nodes[i].slot != ES_FREE;
		*ready += n && al_node_get_state(n) == AL_NODE_READY;
	}
	for (size_t k = 0; k < al_enc.n_conns; k++)
		*conns += al_enc.conns[k].used;
}

void al_enc_nodes_clear(void)
{
	for (uint32_t i = 0; al_enc.nodes && i < al_enc.cfg.max_nodes; i++)
		if (al_enc.nodes[i].slot != ES_FREE)
			slot_release(&al_enc.nodes[i]);
	al_enc_chain_clear();
}
