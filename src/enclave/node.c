/* User nodes inside the enclave: each has its own identity key (sealed, stored by the
 * host), its own arena carved from the enclave heap and a BOLT #1/#8 peer manager
 * (ln/peer.h) in it. Connections are the host's sockets, named by the host's ids;
 * bytes cross the boundary by copy, and everything a node wants done (send, close,
 * read or not, wake up later) leaves as an ocall from al_enc_pump. */
#include <string.h>

#include "btc/bip32.h"
#include "btc/bip39.h"
#include "crypto/hash.h"
#include "crypto/mem.h"
#include "enclave/enclave_int.h"
#include "util/hex.h"

#define ORPHAN       UINT32_MAX /* a connection whose node was unloaded */
#define KEY_LABEL    "node-key"
#define MAX_KEY_BLOB (32 + AL_SEALSIM_OVERHEAD)

/* --- lookups ------------------------------------------------------------------------ */

static al_enode *node_at(uint32_t i)
{
	return i < al_enc.cfg.max_nodes ? &al_enc.nodes[i] : NULL;
}

al_enode *al_enc_node_at(uint32_t i)
{
	return node_at(i);
}

static al_econn *conn_find(al_enc_conn conn)
{
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++)
		if (al_enc.conns[i].used && al_enc.conns[i].conn == conn)
			return &al_enc.conns[i];
	return NULL;
}

static al_econn *conn_free_slot(void)
{
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++)
		if (!al_enc.conns[i].used)
			return &al_enc.conns[i];
	return NULL;
}

static al_peer_mgr *conn_mgr(const al_econn *c)
{
	al_enode *n = c->node == ORPHAN ? NULL : node_at(c->node);
	return n && n->state == AL_ENODE_READY ? n->mgr : NULL;
}

void al_enc_count_nodes(uint32_t *loaded, uint32_t *ready, uint32_t *conns)
{
	*loaded = *ready = *conns = 0;
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		*loaded += al_enc.nodes[i].state != AL_ENODE_FREE;
		*ready += al_enc.nodes[i].state == AL_ENODE_READY;
	}
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++)
		*conns += al_enc.conns[i].used;
}

/* --- node life cycle -------------------------------------------------------------------- */

static void peer_config(al_peer_config *pc, const al_privkey *key)
{
	al_peer_config_default(pc);
	pc->node_key = *key;
	memcpy(pc->chains[0], al_enc.cfg.chain_hash, 32);
	pc->n_chains = 1;
	pc->max_peers = al_enc.cfg.node_max_peers;
	pc->max_pending_handshakes = al_enc.cfg.node_max_handshakes;
}

/* A seeded node's configuration: its own limits and timers. */
static void node_config(al_peer_config *pc, const al_enode *n, const al_privkey *key)
{
	const al_enclave_node_params *p = &n->params;
	peer_config(pc, key);
	if (!n->seeded)
		return;
	pc->max_peers = p->max_peers;
	pc->max_pending_handshakes = p->max_handshakes;
	if (p->handshake_timeout_ms != UINT64_MAX)
		pc->handshake_timeout_ms = p->handshake_timeout_ms;
	if (p->ping_interval_ms != UINT64_MAX)
		pc->ping_interval_ms = p->ping_interval_ms;
	if (p->pong_timeout_ms != UINT64_MAX)
		pc->pong_timeout_ms = p->pong_timeout_ms;
	if (p->idle_timeout_ms != UINT64_MAX)
		pc->idle_timeout_ms = p->idle_timeout_ms;
}

static size_t node_arena_size(void)
{
	al_peer_config pc;
	al_privkey zero = {{0}};
	peer_config(&pc, &zero);
	return al_peer_arena_size(&pc);
}

/* The storage name of node i's sealed key: public, derived from the index. */
static void key_name(uint8_t name[32], uint32_t i)
{
	uint8_t in[20] = "alight/node-key/";
	in[16] = (uint8_t)i;
	in[17] = (uint8_t)(i >> 8);
	in[18] = (uint8_t)(i >> 16);
	in[19] = (uint8_t)(i >> 24);
	al_sha256(name, in, sizeof(in));
}

static void node_release(al_enode *n)
{
	al_enc_wallet_release(n);
	if (n->mgr)
		al_peer_mgr_clear(n->mgr);
	al_privkey_clear(&n->key);
	al_heap_free(al_enc.heap, n->mem);
	memset(n, 0, sizeof(*n));
}

/* Take a free slot and its arena (`size` bytes; 0: the enclave's default node): AL_E_NOMEM
 * leaves everything as it was. */
static al_err node_alloc(al_enode *n, size_t size)
{
	if (!al_enc.node_arena)
		al_enc.node_arena = node_arena_size();
	if (!size)
		size = al_enc.node_arena;
	if (!size)
		return AL_E_ARG;
	AL_TRY(al_heap_alloc(al_enc.heap, size, &n->mem));
	al_arena_init(&n->arena, n->mem, size);
	n->arena_len = size;
	n->state = AL_ENODE_LOADING;
	n->store_req = ++al_enc.next_req;
	return AL_OK;
}

/* The key is durable (or was loaded): the node starts serving peers. */
static al_err node_start(al_enode *n)
{
	al_peer_config pc;
	node_config(&pc, n, &n->key);
	al_err e = al_peer_mgr_init(&n->mgr, &n->arena, al_enc.secp, &pc, al_enc.now_ms);
	n->features = pc.features;
	n->started_ms = al_enc.now_ms;
	al_privkey_clear(&pc.node_key);
	al_privkey_clear(&n->key);
	if (e != AL_OK)
		return e;
	al_peer_node_id(n->mgr, n->node_id);
	n->state = AL_ENODE_READY;
	n->creating = false;
	return AL_OK;
}

int32_t al_enc_node_create(uint32_t *node)
{
	uint8_t blob[MAX_KEY_BLOB], nonce[AL_SEALSIM_NONCE_LEN], name[32];
	size_t blen;
	uint32_t i;

	al_enc_tick();
	for (i = 0; i < al_enc.cfg.max_nodes && al_enc.nodes[i].state != AL_ENODE_FREE; i++)
		;
	if (i == al_enc.cfg.max_nodes)
		return AL_E_ENC_FULL;
	al_enode *n = &al_enc.nodes[i];
	AL_TRY(node_alloc(n, 0));
	n->creating = true;
	al_err e;
	do {
		e = al_enc_random(n->key.k, sizeof(n->key.k));
	} while (e == AL_OK && !al_privkey_valid(al_enc.secp, &n->key));
	if (e == AL_OK)
		e = al_enc_random(nonce, sizeof(nonce));
	if (e == AL_OK)
		e = al_sealsim_seal(&al_enc.seal, blob, sizeof(blob), &blen, KEY_LABEL, nonce,
		                    n->key.k, sizeof(n->key.k));
	if (e == AL_OK) {
		key_name(name, i);
		/* Persist before you speak: the node serves no peer until this completes. */
		e = al_enc.oc.store_put(al_enc.oc.host, n->store_req, name, blob, blen);
	}
	if (e != AL_OK) {
		node_release(n);
		return e;
	}
	*node = i;
	return AL_OK;
}

static bool params_ok(const al_enclave_node_params *p)
{
	return p->size == sizeof(*p) && p->max_peers >= 1 && p->max_peers <= 100000 &&
	       p->max_handshakes >= 1 && p->max_handshakes <= 100000 &&
	       memchr(p->network, 0, sizeof(p->network)) && memchr(p->listen, 0, sizeof(p->listen));
}

/* LND's node key: m/1017'/coin'/6'/0/0 of the BIP 39 seed (empty passphrase). */
/* The BIP 39 seed stays in `seed` for the on-chain wallet (wallet_open), which takes
 * it from there: the words cross the boundary once. */
static al_err seed_key(al_privkey *key, uint8_t seed[AL_BIP39_SEED_LEN], const char *words,
                       size_t len, uint32_t coin)
{
	const uint32_t path[] = {1017 | AL_BIP32_HARDENED, coin | AL_BIP32_HARDENED,
	                         6 | AL_BIP32_HARDENED, 0, 0};
	al_xkey master, child;
	memset(&master, 0, sizeof(master));
	memset(&child, 0, sizeof(child));
	al_err e = al_bip39_to_seed(seed, words, len, "", 0);
	if (e == AL_OK)
		e = al_bip32_master(al_enc.secp, &master, seed, AL_BIP39_SEED_LEN);
	if (e == AL_OK)
		e = al_bip32_derive(al_enc.secp, &child, &master, path,
		                    sizeof(path) / sizeof(path[0]));
	if (e == AL_OK)
		*key = child.priv;
	else
		al_memzero(seed, AL_BIP39_SEED_LEN);
	al_xkey_clear(&master);
	al_xkey_clear(&child);
	return e;
}

int32_t al_enc_node_seed(const al_enclave_node_params *params, const char *words, size_t len,
                         uint32_t *node)
{
	al_enclave_node_params p;
	al_peer_config pc;
	char *copy = NULL;
	uint32_t i;
	al_err e;

	al_enc_tick();
	memcpy(&p, params, sizeof(p)); /* copy first: the host may change its buffer */
	if (!params_ok(&p) || len == 0 || len > 1024)
		return AL_E_ARG;
	for (i = 0; i < al_enc.cfg.max_nodes && al_enc.nodes[i].state != AL_ENODE_FREE; i++)
		;
	if (i == al_enc.cfg.max_nodes)
		return AL_E_ENC_FULL;
	al_enode *n = &al_enc.nodes[i];
	n->seeded = true;
	n->params = p;
	node_config(&pc, n, &n->key);
	e = al_heap_alloc(al_enc.heap, len, (void **)&copy);
	if (e == AL_OK) {
		memcpy(copy, words, len);
		e = seed_key(&n->key, n->wallet_seed, copy, len, p.coin);
		n->has_seed = e == AL_OK;
		al_memzero(copy, len);
		al_heap_free(al_enc.heap, copy);
	}
	if (e == AL_OK)
		e = node_alloc(n, al_peer_arena_size(&pc));
	if (e == AL_OK)
		e = node_start(n);
	if (e != AL_OK) {
		node_release(n);
		return e;
	}
	*node = i;
	al_enc_pump();
	return AL_OK;
}

int32_t al_enc_node_open(uint32_t index)
{
	uint8_t name[32];
	al_enode *n = node_at(index);
	al_enc_tick();
	if (!n)
		return AL_E_ENC_FULL;
	if (n->state != AL_ENODE_FREE)
		return AL_E_ENC_STATE;
	AL_TRY(node_alloc(n, 0));
	key_name(name, index);
	al_err e = al_enc.oc.store_get(al_enc.oc.host, n->store_req, name);
	if (e != AL_OK)
		node_release(n);
	return e;
}

static void node_failed(al_enode *n, al_err why)
{
	al_peer_mgr *mgr = n->mgr;
	n->mgr = NULL;
	if (mgr)
		al_peer_mgr_clear(mgr);
	al_privkey_clear(&n->key);
	al_heap_free(al_enc.heap, n->mem);
	n->mem = NULL;
	n->state = AL_ENODE_FAILED;
	n->status = why;
	al_enc_log(AL_ENC_LOG_ERROR, "enclave: node failed to load: ", al_err_name(why), NULL);
}

static void key_loaded(al_enode *n, int32_t status, const uint8_t *blob, size_t len)
{
	uint8_t copy[MAX_KEY_BLOB];
	size_t klen = 0;
	al_err e = (al_err)status;
	if (e == AL_OK && len != sizeof(copy))
		e = AL_E_SEAL_FORMAT;
	if (e == AL_OK) {
		memcpy(copy, blob, len);
		e = al_sealsim_unseal(&al_enc.seal, n->key.k, sizeof(n->key.k), &klen, KEY_LABEL,
		                      copy, len);
	}
	if (e == AL_OK && !al_privkey_valid(al_enc.secp, &n->key))
		e = AL_E_PRIVKEY;
	if (e == AL_OK)
		e = node_start(n);
	if (e != AL_OK)
		node_failed(n, e);
}

void al_enc_store_done(uint64_t req, int32_t status, const uint8_t *blob, size_t len)
{
	al_enc_tick();
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_enode *n = &al_enc.nodes[i];
		if (n->state != AL_ENODE_LOADING || n->store_req != req)
			continue;
		if (!n->creating) {
			key_loaded(n, status, blob, len); /* a node_open */
		} else if (status != AL_OK) {
			node_failed(n, (al_err)status); /* a node_create whose put failed */
		} else {
			al_err e = node_start(n);
			if (e != AL_OK)
				node_failed(n, e);
		}
		break;
	}
	al_enc_pump();
}

int32_t al_enc_node_unload(uint32_t node)
{
	al_enode *n = node_at(node);
	if (!n || n->state == AL_ENODE_FREE)
		return AL_E_ENC_UNKNOWN;
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++) {
		al_econn *c = &al_enc.conns[i];
		if (!c->used || c->node != node)
			continue;
		c->node = ORPHAN;
		if (!c->closing) {
			c->closing = true;
			(void)al_enc.oc.net_close(al_enc.oc.host, c->conn);
		}
	}
	node_release(n);
	al_enc_pump();
	return AL_OK;
}

int32_t al_enc_node_info(uint32_t node, al_enclave_node_info *out)
{
	al_enode *n = node_at(node);
	al_enclave_node_info ni;
	if (!n || n->state == AL_ENODE_FREE)
		return AL_E_ENC_UNKNOWN;
	memset(&ni, 0, sizeof(ni));
	ni.node = node;
	ni.ready = n->state == AL_ENODE_READY;
	ni.status = n->state == AL_ENODE_READY     ? AL_OK
	            : n->state == AL_ENODE_LOADING ? AL_E_ENC_NOT_READY
	                                           : n->status;
	if (ni.ready) {
		size_t pending, established;
		memcpy(ni.node_id, n->node_id, sizeof(ni.node_id));
		al_peer_counts(n->mgr, &pending, &established);
		ni.peers_pending = (uint32_t)pending;
		ni.peers_connected = (uint32_t)established;
	}
	memcpy(out, &ni, sizeof(ni));
	return AL_OK;
}

void al_enc_nodes_clear(void)
{
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++)
		if (al_enc.nodes[i].state != AL_ENODE_FREE)
			node_release(&al_enc.nodes[i]);
}

/* --- connections ------------------------------------------------------------------------- */

static al_err new_conn(uint32_t node, al_enc_conn conn, const uint8_t *their_id, const char *addr,
                       size_t addrlen, uint64_t waiter)
{
	al_privkey eph;
	al_enode *n = node_at(node);
	al_econn *c;
	al_err e;

	al_enc_tick();
	if (!n || n->state == AL_ENODE_FREE)
		return AL_E_ENC_UNKNOWN;
	if (n->state != AL_ENODE_READY)
		return AL_E_ENC_NOT_READY;
	if (conn_find(conn))
		return AL_E_PEER_CONN_EXISTS;
	if (!(c = conn_free_slot()))
		return AL_E_ENC_FULL;
	/* BOLT #8: "a node MUST generate a new ephemeral key with strong cryptographic
	 * randomness" (from the entropy ocall). */
	do {
		e = al_enc_random(eph.k, sizeof(eph.k));
	} while (e == AL_OK && !al_privkey_valid(al_enc.secp, &eph));
	if (e == AL_OK)
		e = their_id ? al_peer_new_outbound(n->mgr, conn, their_id, &eph, al_enc.now_ms)
		             : al_peer_new_inbound(n->mgr, conn, &eph, al_enc.now_ms);
	al_privkey_clear(&eph);
	if (e != AL_OK)
		return e;
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->node = node;
	c->conn = conn;
	c->reading = -1;
	c->inbound = their_id == NULL;
	c->waiter = waiter;
	if (addrlen >= sizeof(c->addr))
		addrlen = sizeof(c->addr) - 1;
	if (addrlen)
		memcpy(c->addr, addr, addrlen);
	if (c->inbound) {
		al_enc_line l = {.n = 0};
		al_enc_line_s(&l, "accepted conn=");
		al_enc_line_u(&l, conn & 0xffffffffu);
		al_enc_line_s(&l, " addr=");
		al_enc_line_s(&l, c->addr);
		al_enc_line_log(&l, AL_ENC_LOG_INFO);
	}
	al_enc_pump();
	return AL_OK;
}

int32_t al_enc_net_accept(uint32_t node, al_enc_conn conn)
{
	return new_conn(node, conn, NULL, "", 0, 0);
}

int32_t al_enc_net_accept_from(uint32_t node, al_enc_conn conn, const char *addr, size_t len)
{
	char copy[64];
	if (len >= sizeof(copy))
		len = sizeof(copy) - 1;
	if (len)
		memcpy(copy, addr, len);
	copy[len] = 0;
	return new_conn(node, conn, NULL, copy, strlen(copy), 0);
}

int32_t al_enc_net_connect(uint32_t node, al_enc_conn conn, const uint8_t their_id[33])
{
	uint8_t id[AL_PUBKEY_LEN];
	memcpy(id, their_id, sizeof(id));
	return new_conn(node, conn, id, "", 0, 0);
}

al_err al_enc_net_dialed(uint32_t node, al_enc_conn conn, const uint8_t their_id[33],
                         const char *addr, uint64_t waiter)
{
	return new_conn(node, conn, their_id, addr, strlen(addr), waiter);
}

int32_t al_enc_net_error(al_enc_conn conn, const char *why, size_t len)
{
	al_econn *c = conn_find(conn);
	if (!c)
		return AL_E_ENC_UNKNOWN;
	if (len >= sizeof(c->why))
		len = sizeof(c->why) - 1;
	if (len)
		memcpy(c->why, why, len);
	c->why[len] = 0;
	for (size_t i = 0; i < len; i++) /* the host's text: printable only in our logs */
		if (c->why[i] < 0x20 || c->why[i] > 0x7e || c->why[i] == '"')
			c->why[i] = '?';
	return AL_OK;
}

int32_t al_enc_net_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed)
{
	al_econn *c = conn_find(conn);
	al_peer_mgr *mgr;
	al_enc_tick();
	if (!c)
		return AL_E_ENC_UNKNOWN;
	if (!(mgr = conn_mgr(c)) || c->closing) {
		*consumed = len; /* nobody listens any more: drop */
		return AL_OK;
	}
	size_t n = len < AL_ENC_RXBUF ? len : AL_ENC_RXBUF;
	memcpy(al_enc.rxbuf, buf, n); /* copy first: the host may change its buffer */
	al_err e = al_peer_read(mgr, conn, al_enc.rxbuf, n, consumed, al_enc.now_ms);
	al_enc_pump();
	return e == AL_E_PEER_UNKNOWN_CONN ? e : AL_OK;
}

int32_t al_enc_net_eof(al_enc_conn conn)
{
	al_econn *c = conn_find(conn);
	al_peer_mgr *mgr;
	al_enc_tick();
	if (!c)
		return AL_E_ENC_UNKNOWN;
	/* The reason comes out with the connection's close event. */
	if ((mgr = conn_mgr(c)) != NULL && al_peer_read_eof(mgr, conn, al_enc.now_ms) != AL_OK)
		al_enc_log(AL_ENC_LOG_DEBUG, "enclave: peer ended its stream", NULL, NULL);
	al_enc_pump();
	return AL_OK;
}

int32_t al_enc_net_writable(al_enc_conn conn)
{
	al_enc_tick();
	if (!conn_find(conn))
		return AL_E_ENC_UNKNOWN;
	al_enc_pump();
	return AL_OK;
}

/* The disconnect line and a waiting connect request's failure. */
static void report_closed(al_econn *c, const al_peer_event *ev)
{
	al_enc_line l = {.n = 0};
	al_enc_line_s(&l, "disconnected conn=");
	al_enc_line_u(&l, c->conn & 0xffffffffu);
	al_enc_line_s(&l, " addr=");
	al_enc_line_s(&l, c->addr);
	al_enc_line_s(&l, c->inbound ? " in node_id=" : " out node_id=");
	if (ev->has_node_id)
		al_enc_line_hex(&l, ev->node_id, sizeof(ev->node_id));
	else
		al_enc_line_s(&l, "-");
	al_enc_line_s(&l, ev->was_connected ? " was_connected=1 reason=\""
	                                    : " was_connected=0 reason=\"");
	al_enc_line_s(&l, al_err_str(ev->reason));
	if (c->why[0]) {
		al_enc_line_s(&l, " (socket: ");
		al_enc_line_s(&l, c->why);
		al_enc_line_s(&l, ")");
	}
	al_enc_line_s(&l, "\"");
	al_enc_line_log(&l, AL_ENC_LOG_INFO);
	if (!c->waiter)
		return;
	/* An initiator with the wrong node id sees only the responder hang up: its Act One
	 * cannot be decrypted there (BOLT #8 has no error to send). */
	bool hung_up = !c->why[0] && !ev->was_connected &&
	               (ev->reason == AL_E_TRUNCATED || ev->reason == AL_E_PEER_REMOTE_CLOSED);
	l.n = 0;
	al_enc_line_s(&l, "connection to ");
	al_enc_line_s(&l, c->addr);
	al_enc_line_s(&l, " failed: ");
	al_enc_line_s(&l, c->why[0] ? c->why : al_err_str(ev->reason));
	if (hung_up)
		al_enc_line_s(&l, " (the peer hung up before init: wrong node id?)");
	l.b[l.n < sizeof(l.b) ? l.n : sizeof(l.b) - 1] = 0;
	al_enc_api_failed(c, l.b);
}

int32_t al_enc_net_closed(al_enc_conn conn)
{
	al_econn *c = conn_find(conn);
	al_peer_mgr *mgr;
	al_peer_event ev;
	al_enc_tick();
	if (!c)
		return AL_E_ENC_UNKNOWN;
	memset(&ev, 0, sizeof(ev));
	if ((mgr = conn_mgr(c)) == NULL || al_peer_closed(mgr, &ev, conn, al_enc.now_ms) != AL_OK)
		ev.reason = AL_E_PEER_REMOTE_CLOSED;
	report_closed(c, &ev);
	memset(c, 0, sizeof(*c));
	al_enc_pump();
	return AL_OK;
}

void al_enc_timer(void)
{
	al_enc_tick();
	al_enc.timer_armed = UINT64_MAX;
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++)
		if (al_enc.nodes[i].state == AL_ENODE_READY)
			al_peer_timer(al_enc.nodes[i].mgr, al_enc.now_ms);
	al_enc_pump();
}

/* --- effects out: after every ecall ------------------------------------------------------- */

static void on_connected(al_econn *c, const al_peer_event *ev)
{
	uint8_t fb[AL_FEATURES_MAX_BITS / 8];
	size_t flen = al_features_wire_len(&ev->remote_features);
	al_enc_line l = {.n = 0};

	c->connected = true;
	memcpy(c->node_id, ev->node_id, sizeof(c->node_id));
	c->remote_features = ev->remote_features;
	al_enc_line_s(&l, "connected conn=");
	al_enc_line_u(&l, c->conn & 0xffffffffu);
	al_enc_line_s(&l, " addr=");
	al_enc_line_s(&l, c->addr);
	al_enc_line_s(&l, c->inbound ? " in node_id=" : " out node_id=");
	al_enc_line_hex(&l, c->node_id, sizeof(c->node_id));
	al_enc_line_s(&l, " features=");
	if (flen && al_features_to_wire(fb, flen, &ev->remote_features) == AL_OK)
		al_enc_line_hex(&l, fb, flen);
	else
		al_enc_line_s(&l, "-");
	al_enc_line_log(&l, AL_ENC_LOG_INFO);
	if (c->waiter) {
		al_enc_api_connected(c);
		c->waiter = 0;
	}
}

/* BOLT #1 error (17) and warning (1): type, channel_id, len, data. The text is the
 * peer's: printable ASCII only, so it cannot forge a log line. */
static void on_message(const al_econn *c, const al_peer_event *ev)
{
	char text[AL_PEER_MAX_ERROR_TEXT + 1];
	size_t n = 0;
	al_enc_line l = {.n = 0};
	if ((ev->type == 1 || ev->type == 17) && ev->len >= 36) {
		size_t dlen = ((size_t)ev->msg[34] << 8) | ev->msg[35];
		for (size_t i = 0; i < dlen && 36 + i < ev->len && n < sizeof(text) - 1; i++) {
			uint8_t b = ev->msg[36 + i];
			text[n++] =
			    (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') ? (char)b : '?';
		}
	}
	text[n] = 0;
	al_enc_line_s(&l, "message conn=");
	al_enc_line_u(&l, c->conn & 0xffffffffu);
	al_enc_line_s(&l, " type=");
	al_enc_line_u(&l, ev->type);
	al_enc_line_s(&l, " len=");
	al_enc_line_u(&l, ev->len);
	if (n) {
		al_enc_line_s(&l, " text=\"");
		al_enc_line_s(&l, text);
		al_enc_line_s(&l, "\"");
	}
	al_enc_line_log(&l, AL_ENC_LOG_INFO);
}

static void on_event(const al_peer_event *ev)
{
	al_econn *c;
	switch (ev->kind) {
	case AL_PEER_EV_CONNECTED:
		al_enc.handshakes++;
		if ((c = conn_find(ev->conn)) != NULL)
			on_connected(c, ev);
		break;
	case AL_PEER_EV_MESSAGE:
		al_enc.messages_in++;
		if ((c = conn_find(ev->conn)) != NULL)
			on_message(c, ev);
		break;
	case AL_PEER_EV_CLOSE:
		c = conn_find(ev->conn);
		if (c && !c->closing) {
			c->closing = true;
			(void)al_enc.oc.net_close(al_enc.oc.host, c->conn);
		}
		break;
	default:
		break;
	}
}

/* Hand the host every byte it takes; true if any moved. */
static bool flush(al_econn *c, al_peer_mgr *mgr)
{
	bool moved = false;
	size_t len, taken;
	const uint8_t *buf;
	while ((buf = al_peer_send_buf(mgr, c->conn, &len)) != NULL && len) {
		taken = 0;
		if (al_enc.oc.net_send(al_enc.oc.host, c->conn, buf, len, &taken) != AL_OK ||
		    taken == 0 || taken > len)
			break;
		if (al_peer_send_ack(mgr, c->conn, taken, al_enc.now_ms) != AL_OK)
			break;
		moved = true;
	}
	return moved;
}

static bool pump_round(void)
{
	bool progress = false;
	al_peer_event ev;
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_enode *n = &al_enc.nodes[i];
		while (n->state == AL_ENODE_READY && al_peer_next_event(n->mgr, &ev)) {
			on_event(&ev);
			progress = true;
		}
	}
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++) {
		al_econn *c = &al_enc.conns[i];
		al_peer_mgr *mgr = c->used ? conn_mgr(c) : NULL;
		if (mgr && !c->closing && flush(c, mgr))
			progress = true;
	}
	return progress;
}

static void update_interest(void)
{
	uint64_t next = UINT64_MAX;
	for (uint32_t i = 0; i < al_enc.cfg.max_conns; i++) {
		al_econn *c = &al_enc.conns[i];
		al_peer_mgr *mgr = c->used ? conn_mgr(c) : NULL;
		if (!c->used)
			continue;
		int32_t want = mgr && !c->closing && al_peer_wants_read(mgr, c->conn);
		if (want != c->reading) {
			c->reading = want;
			al_enc.oc.net_read_ctl(al_enc.oc.host, c->conn, want);
		}
	}
	for (uint32_t i = 0; i < al_enc.cfg.max_nodes; i++) {
		al_enode *n = &al_enc.nodes[i];
		uint64_t t = n->state == AL_ENODE_READY ? al_peer_next_timer(n->mgr) : UINT64_MAX;
		next = t < next ? t : next;
	}
	if (next != al_enc.timer_armed) {
		al_enc.timer_armed = next;
		al_enc.oc.timer_arm(al_enc.oc.host, next);
	}
}

void al_enc_pump(void)
{
	/* Delivering an event can release bytes to send, and sending can complete a
	 * close: go round until nothing moves (bounded: each round drains queues). */
	for (int round = 0; round < 16 && pump_round(); round++)
		;
	update_interest();
}
