/* One user's node (node/node.h) driven directly, with no enclave image loaded: its
 * records on real directory stores (host/store_dir.h), its peers wired to another node
 * in the same process, its requests from the operator and from the user.
 *
 * What is proven here:
 *   - the node id is LND's m/1017'/1'/6'/0/0 of the seed (the oracle: Electrum's BIP 32,
 *     values computed with python3-electrum 4.3.4: see the constants);
 *   - the operator cannot reach the user's routes (wallet, trust anchors, seed export);
 *   - persist before you speak: an answer to a state-changing request is not released
 *     until every replica reported the write durable, however late the reports come,
 *     and never when the write is lost;
 *   - a store rolled back behind another, or behind the node's sealed last_seen, is
 *     caught when the node loads: it drops out, or the node refuses to serve;
 *   - two nodes connect (BOLT #8 + init) through the effects alone;
 *   - nodes share one header chain (al_node_shared): the second node's sync fetches no
 *     header, steps of two nodes interleave request by request, a reorganisation under
 *     one node's step makes it run again and then fail with its server's precise error;
 *     a fee estimate is asked once per server and trust, again once it is older than
 *     AL_NODE_FEE_MAX_AGE; a wallet that receives more transactions than it holds grows
 *     and reports them all; no call leaves shared scratch held;
 *   - answers the driver makes up (unknown request ids, stale completions) change
 *     nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btc/address.h"
#include "btc/tx.h"
#include "crypto/rng.h"
#include "esplora_sim.h"
#include "host/store_dir.h"
#include "attest/der.h"
#include "crypto/hash.h"
#include "ln/invoice.h"
#include "node/node.h"
#include "test.h"
#include "util/hex.h"

/* Electrum 4.3.4: bip32.BIP32Node.from_rootseed(bip39_to_seed(words, ""))
 * .subkey_at_private_derivation("m/1017'/1'/6'/0/0") for the BIP 39 mnemonics of 32
 * zero bytes ("abandon" x23 "art") and 32 0xff bytes ("zoo" x23 "vote"). */
#define ID_ZERO "02ec9fbbf851543e26104aae824788147c15bfb23e5b51a64493a3550355c5ec08"
#define ID_FF   "0375fe1c5feac19f8bfcb96e5471ff3e943c7010f278b79f469c25df2ce892c8d6"

static char base[64];
static al_rng rng;
static al_rng_chacha rng_state;

static void *t_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return calloc(1, n);
}
static void t_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static const al_alloc heap = {t_alloc, t_free, NULL};

/* A node under test, its stores and what it said. */
typedef struct tnode {
	al_node *n;
	al_arena arena;
	uint8_t *mem;
	al_store_dir *dirs[AL_RS_MAX_REPLICAS];
	size_t n_stores;
	bool hold_puts;   /* keep PUT answers back */
	bool lose_puts;   /* the operator loses every write */
	uint64_t held[8]; /* PUT requests not answered yet */
	size_t n_held;
	/* the last answer */
	uint64_t token;
	int status;
	char body[65536];
	size_t answers;
	int64_t durable;
	/* a dial asked for, and a fetch */
	bool dialed;
	uint64_t dial_req, fetch_req;
	char fetch_url[1024];
	size_t fetches;
	struct tnode *peer; /* where NET_SEND bytes go (conn ids: 1 on each side) */
	bool closed;
	/* a chain server answering the node's FETCHes (base: the URL it was given) */
	esim *srv;
	const char *base;
	bool hold_fetch; /* answer only when the test says (fetch_answer) */
	bool fetch_pending;
	char fetch_method[8];
	uint8_t fetch_body[8192];
	size_t fetch_len;
	unsigned header_reqs;
} tnode;

static uint64_t now = 1000, wall = 1700000000;
/* The node's NODE_MAX_INVOICES (node_int.h), as the user meets it. */
#define NODE_MAX_INVOICES_TEST 64
static al_node_shared *shared; /* what every node here shares (a regtest chain) */
static uint8_t *shared_mem;
static al_peer_pool *pool;
static al_arena pool_arena;
static uint8_t *pool_mem;
static al_secp *secp;

static void store_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", base, name);
}

static void tn_open(tnode *t, const uint8_t *entropy, size_t entlen, const char *const *stores,
                    size_t n_stores, int64_t last_seen)
{
	al_node_config cfg;
	al_node_env env = {secp, &rng, &heap, pool, shared};
	char path[160];

	memset(t, 0, sizeof(*t));
	al_node_config_default(&cfg);
	cfg.n_stores = n_stores;
	cfg.last_seen = last_seen;
	cfg.max_peers = 4;
	cfg.max_handshakes = 2;
	size_t need = al_node_mem_size(&cfg);
	CHECK(need > 0 && need < (1u << 20));
	t->mem = calloc(1, need);
	al_arena_init(&t->arena, t->mem, need);
	for (size_t i = 0; i < n_stores; i++) {
		store_path(path, sizeof(path), stores[i]);
		CHECK_OK(al_store_dir_open(&t->dirs[i], path));
	}
	t->n_stores = n_stores;
	CHECK_OK(al_node_init(&t->n, &t->arena, &cfg, &env, entropy, entlen, now, 1700000000));
}

static void tn_close(tnode *t)
{
	al_node_clear(t->n);
	for (size_t i = 0; i < t->n_stores; i++)
		al_store_dir_close(t->dirs[i]);
	free(t->mem);
	memset(t, 0, sizeof(*t));
}

static void put_answer(tnode *t, uint64_t req, al_err e)
{
	al_node_store_done(t->n, req, e, NULL, 0, 0, now);
}

/* The chain server answers the node's pending FETCH: GETs from the esim, POST /tx with
 * the txid of the transaction sent (as Esplora does). */
static void fetch_answer(tnode *t)
{
	static char txid_hex[65];
	const char *path = t->fetch_url + strlen(t->base);
	size_t len = 0;
	int status;

	CHECK(t->fetch_pending && !strncmp(t->fetch_url, t->base, strlen(t->base)));
	t->fetch_pending = false;
	if (!strcmp(t->fetch_method, "POST")) {
		static uint8_t raw[4096], txid[32], arena_mem[1 << 16];
		al_arena a;
		al_tx tx;

		CHECK_OK(al_hex_decode(raw, sizeof(raw), &len, (const char *)t->fetch_body,
		                       t->fetch_len));
		al_arena_init(&a, arena_mem, sizeof(arena_mem));
		CHECK_OK(al_tx_parse(&tx, &a, raw, len));
		al_tx_txid(&tx, txid);
		al_txid_to_hex(txid_hex, txid);
		al_node_fetch_done(t->n, t->fetch_req, AL_OK, 200, (const uint8_t *)txid_hex, 64,
		                   now, wall);
		return;
	}
	t->header_reqs += strstr(path, "/header") != NULL;
	status = esim_answer(t->srv, path, &len);
	al_node_fetch_done(t->n, t->fetch_req, AL_OK, status, (const uint8_t *)t->srv->body, len,
	                   now, wall);
}

/* Perform every effect the node releases (peers' bytes go to the other node). */
static void drive(tnode *t)
{
	static uint8_t blob[1 << 20];
	al_node_fx fx;

	for (int guard = 0; guard < 100000 && al_node_next_fx(t->n, &fx, now); guard++) {
		size_t len = 0;
		int64_t ver = 0;
		al_err e;
		switch (fx.kind) {
		case AL_NODE_FX_STORE_GET:
			e = al_store_dir_backend.get(t->dirs[fx.replica], fx.name, blob,
			                             sizeof(blob), &len, &ver);
			al_node_store_done(t->n, fx.req, e, blob, len, ver, now);
			break;
		case AL_NODE_FX_STORE_PUT:
			if (t->hold_puts) {
				/* The write happens now; its report comes when the test says. */
				e = al_store_dir_backend.put_batch(t->dirs[fx.replica], fx.items,
				                                   fx.n_items, fx.global_version);
				CHECK_OK(e);
				t->held[t->n_held++] = fx.req;
				break;
			}
			e = t->lose_puts
			        ? AL_E_STORE_BACKEND
			        : al_store_dir_backend.put_batch(t->dirs[fx.replica], fx.items,
			                                         fx.n_items, fx.global_version);
			put_answer(t, fx.req, e);
			break;
		case AL_NODE_FX_ANSWER:
			t->token = fx.token;
			t->status = fx.status;
			CHECK(fx.len < sizeof(t->body));
			memcpy(t->body, fx.data, fx.len < sizeof(t->body) ? fx.len : 0);
			t->body[fx.len < sizeof(t->body) ? fx.len : 0] = 0;
			t->answers++;
			break;
		case AL_NODE_FX_DURABLE:
			t->durable = fx.global_version;
			break;
		case AL_NODE_FX_DIAL:
			t->dialed = true;
			t->dial_req = fx.req;
			break;
		case AL_NODE_FX_FETCH:
			t->fetch_req = fx.req;
			snprintf(t->fetch_url, sizeof(t->fetch_url), "%s", fx.text);
			t->fetches++;
			if (!t->srv)
				break;
			CHECK(fx.len <= sizeof(t->fetch_body));
			t->fetch_pending = true;
			snprintf(t->fetch_method, sizeof(t->fetch_method), "%s", fx.method);
			t->fetch_len = fx.len <= sizeof(t->fetch_body) ? fx.len : 0;
			if (t->fetch_len)
				memcpy(t->fetch_body, fx.data, t->fetch_len);
			if (!t->hold_fetch)
				fetch_answer(t);
			break;
		case AL_NODE_FX_NET_SEND: {
			size_t used = 0;
			CHECK(t->peer != NULL);
			if (!t->peer)
				break;
			CHECK_OK(al_node_net_recv(t->peer->n, 1, fx.data, fx.len, &used, now));
			al_node_net_sent(t->n, fx.conn, used, now);
			if (used < fx.len)
				al_node_net_writable(t->n, fx.conn, now);
			break;
		}
		case AL_NODE_FX_NET_CLOSE:
			t->closed = true;
			break;
		default:
			break;
		}
	}
	/* Nothing holds the nodes' shared scratch between calls. */
	CHECK(al_node_shared_scratch_used(shared) == 0);
}

static void request(tnode *t, al_node_auth auth, const char *method, const char *target,
                    const char *body)
{
	static uint64_t token = 100;
	t->answers = 0;
	al_node_request(t->n, auth, ++token, method, target, (const uint8_t *)body,
	                body ? strlen(body) : 0, now, wall);
	drive(t);
}

static const uint8_t zero[32],
    ff[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void test_identity_and_authority(void)
{
	const char *stores[] = {"id"};
	uint8_t id[33];
	char hex[67];
	tnode t;

	tn_open(&t, zero, sizeof(zero), stores, 1, 0);
	CHECK(al_node_get_state(t.n) == AL_NODE_LOADING);
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/getinfo", NULL);
	CHECK(al_node_get_state(t.n) == AL_NODE_READY);
	al_node_id(t.n, id);
	CHECK_OK(al_hex_encode(hex, sizeof(hex), id, 33));
	CHECK(!strcmp(hex, ID_ZERO));
	/* The request that came while loading was refused; a new one is answered. */
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/getinfo", NULL);
	CHECK(t.status == 200 && strstr(t.body, ID_ZERO));
	CHECK(strstr(t.body, "\"rollback_protection\":\"off\""));
	/* The operator may not touch the user's routes; nothing happens. */
	const char *user_only[][2] = {{"POST", "/v1/wallet/sendtoaddress"},
	                              {"POST", "/v1/wallet/newaddress"},
	                              {"POST", "/v1/chain"},
	                              {"POST", "/v1/seed/export"}};
	for (size_t i = 0; i < 4; i++) {
		request(&t, AL_NODE_OPERATOR, user_only[i][0], user_only[i][1],
		        "{\"url\":\"http://127.0.0.1:1\"}");
		CHECK(t.answers == 1 && t.status == 403);
		CHECK(strstr(t.body, "mnemonic") == NULL);
	}
	CHECK(strstr(t.body, "only the user"));
	/* The user may; the seed's words come back once asked. */
	request(&t, AL_NODE_USER, "POST", "/v1/seed/export", NULL);
	CHECK(t.status == 200 && strstr(t.body, "\"mnemonic\":\"abandon abandon"));
	request(&t, AL_NODE_USER, "GET", "/v1/nothing", NULL);
	CHECK(t.status == 404);
	request(&t, AL_NODE_USER, "PUT", "/v1/getinfo", NULL);
	CHECK(t.status == 405);
	request(&t, (al_node_auth)7, "GET", "/v1/getinfo", NULL);
	CHECK(t.status == 403);
	/* Without a chain server the wallet is not there. */
	request(&t, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	CHECK(t.status == 503 && strstr(t.body, "AL_E_NODE_CHAIN"));
	tn_close(&t);
}

/* The user's choice of chain server is answered only once it is durable on every
 * replica; a write the stores lose is never confirmed. */
static void test_persist_before_speak(void)
{
	const char *stores[] = {"p1", "p2"};
	tnode t;

	tn_open(&t, ff, sizeof(ff), stores, 2, 0);
	drive(&t);
	CHECK(al_node_get_state(t.n) == AL_NODE_READY);
	t.hold_puts = true;
	request(&t, AL_NODE_USER, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:9\"}");
	CHECK(t.answers == 0); /* written to both stores, neither report is in */
	CHECK(t.n_held == 2);
	put_answer(&t, t.held[1], AL_OK);
	drive(&t);
	CHECK(t.answers == 0); /* one of two: not durable */
	al_node_stats st;
	al_node_get_stats(t.n, &st);
	CHECK(st.fx_held == 1);
	/* A report made up by the host for a request that does not exist changes nothing. */
	put_answer(&t, t.held[0] ^ 0x5555, AL_OK);
	put_answer(&t, t.held[1], AL_OK);
	drive(&t);
	CHECK(t.answers == 0);
	put_answer(&t, t.held[0], AL_OK);
	drive(&t);
	CHECK(t.answers == 1 && t.status == 200 && strstr(t.body, "http://127.0.0.1:9"));
	CHECK(t.durable == 1);
	t.n_held = 0;
	t.hold_puts = false;

	/* A chain server over https needs trust the user chose. */
	request(&t, AL_NODE_USER, "POST", "/v1/chain", "{\"url\":\"https://example.org\"}");
	CHECK(t.status == 400 && strstr(t.body, "AL_E_TLS_CONFIG"));
	request(&t, AL_NODE_USER, "POST", "/v1/chain", "{\"url\":\"ftp://x\"}");
	CHECK(t.status == 400);

	/* Lost: the answer becomes an error, and the node stops. */
	t.lose_puts = true;
	request(&t, AL_NODE_USER, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:10\"}");
	CHECK(t.answers == 1 && t.status == 503 && strstr(t.body, "nothing was done"));
	CHECK(al_node_get_state(t.n) == AL_NODE_FAILED);
	CHECK_ERR(al_node_status(t.n), AL_E_STORE_BACKEND);
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/getinfo", NULL);
	CHECK(t.status == 503);
	tn_close(&t);

	/* What was confirmed is what a restart finds. */
	tn_open(&t, ff, sizeof(ff), stores, 2, 1);
	drive(&t);
	CHECK(al_node_get_state(t.n) == AL_NODE_READY);
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/chain", NULL);
	CHECK(t.status == 200 && strstr(t.body, "http://127.0.0.1:9"));
	CHECK(strstr(t.body, ":10") == NULL);
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/getinfo", NULL);
	CHECK(strstr(t.body, "\"rollback_protection\":\"on\""));
	CHECK(strstr(t.body, "\"wallet\":{\"open\":true"));
	tn_close(&t);
}

static int sh(const char *cmd)
{
	char buf[512];
	size_t n = 0;
	for (const char *p = cmd; *p && n + sizeof(base) < sizeof(buf); p++) {
		if (p[0] == '%' && p[1] == 's') {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", base);
			p++;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = 0;
	return system(buf);
}

/* The operator puts back an old copy of one store, or deletes it. */
static void test_rollback(void)
{
	const char *stores[] = {"r1", "r2"};
	tnode t;

	tn_open(&t, ff, sizeof(ff), stores, 2, 0);
	drive(&t);
	request(&t, AL_NODE_USER, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:1\"}");
	CHECK(t.status == 200);
	tn_close(&t);
	CHECK(sh("cp -a %s/r1 %s/r1-old") == 0);
	tn_open(&t, ff, sizeof(ff), stores, 2, 1);
	drive(&t);
	request(&t, AL_NODE_USER, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:2\"}");
	CHECK(t.status == 200);
	CHECK(t.durable == 2);
	tn_close(&t);

	/* r1 swapped for its older copy: it drops out, the newer state wins. */
	CHECK(sh("rm -rf %s/r1 && mv %s/r1-old %s/r1") == 0);
	const char *one_store[] = {"r1"};
	tn_open(&t, ff, sizeof(ff), stores, 2, 0);
	drive(&t);
	/* quorum is every store by default: the node refuses to act */
	CHECK(al_node_get_state(t.n) == AL_NODE_FAILED);
	CHECK_ERR(al_node_status(t.n), AL_E_STORE_REPLICAS);
	tn_close(&t);
	/* Alone, only the sealed last_seen tells: it does. */
	tn_open(&t, ff, sizeof(ff), one_store, 1, 2);
	drive(&t);
	CHECK(al_node_get_state(t.n) == AL_NODE_FAILED);
	CHECK_ERR(al_node_status(t.n), AL_E_STORE_ROLLBACK);
	tn_close(&t);
	/* Deleted: an empty store where the node had written. */
	CHECK(sh("rm -rf %s/r1") == 0);
	tn_open(&t, ff, sizeof(ff), one_store, 1, 2);
	drive(&t);
	CHECK_ERR(al_node_status(t.n), AL_E_STORE_ROLLBACK);
	tn_close(&t);
}

/* Two nodes connect through effects only. */
static void test_two_nodes_connect(void)
{
	const char *sa[] = {"ca"}, *sb[] = {"cb"};
	char body[200];
	tnode a, b;

	tn_open(&a, zero, sizeof(zero), sa, 1, 0);
	tn_open(&b, ff, sizeof(ff), sb, 1, 0);
	drive(&a);
	drive(&b);
	a.peer = &b;
	b.peer = &a;
	snprintf(body, sizeof(body), "{\"addr\":{\"pubkey\":\"%s\",\"host\":\"127.0.0.1:9735\"}}",
	         ID_FF);
	request(&a, AL_NODE_OPERATOR, "POST", "/v1/peers", body);
	CHECK(a.dialed && a.answers == 0);
	/* A dial answer for a request that is not pending: ignored. */
	al_node_dialed(a.n, a.dial_req + 1, AL_OK, 77, NULL, now);
	CHECK_OK(al_node_net_accept(b.n, 1, "127.0.0.1:5", now));
	al_node_dialed(a.n, a.dial_req, AL_OK, 1, NULL, now);
	for (int i = 0; i < 10; i++) {
		drive(&a);
		drive(&b);
	}
	CHECK(a.answers == 1 && a.status == 200 && strstr(a.body, "\"status\":\"connected\""));
	request(&b, AL_NODE_OPERATOR, "GET", "/v1/peers", NULL);
	CHECK(strstr(b.body, ID_ZERO) != NULL);
	/* Connecting again answers at once. */
	request(&a, AL_NODE_OPERATOR, "POST", "/v1/peers", body);
	CHECK(a.status == 200 && strstr(a.body, "already connected"));
	/* Bytes for a connection the node does not know are refused. */
	size_t used = 9;
	CHECK_ERR(al_node_net_recv(a.n, 99, (const uint8_t *)"x", 1, &used, now),
	          AL_E_PEER_UNKNOWN_CONN);
	CHECK(used == 0);
	request(&a, AL_NODE_OPERATOR, "DELETE", "/v1/peers/" ID_FF, NULL);
	CHECK(a.status == 200);
	for (int i = 0; i < 10 && !a.closed; i++) {
		drive(&a);
		drive(&b);
	}
	CHECK(a.closed);
	al_node_net_closed(a.n, 1, "closed", now);
	request(&a, AL_NODE_OPERATOR, "GET", "/v1/peers", NULL);
	CHECK(strstr(a.body, ID_FF) == NULL);
	tn_close(&a);
	tn_close(&b);
}

/* Chain requests go to the user's server; a failed sync still answers reads. */
static void test_wallet_requests(void)
{
	const char *stores[] = {"w"};
	tnode t;

	tn_open(&t, zero, sizeof(zero), stores, 1, 0);
	drive(&t);
	request(&t, AL_NODE_USER, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:3002/api\"}");
	CHECK(t.status == 200);
	request(&t, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	CHECK(t.answers == 0 && t.fetches == 1);
	CHECK(!strcmp(t.fetch_url, "http://127.0.0.1:3002/api/blocks/tip/hash"));
	/* A response to another request: ignored. */
	al_node_fetch_done(t.n, t.fetch_req + 7, AL_OK, 200, (const uint8_t *)"x", 1, now, 0);
	drive(&t);
	CHECK(t.answers == 0);
	al_node_fetch_done(t.n, t.fetch_req, AL_E_NET_CONNECT, 0, NULL, 0, now, 0);
	drive(&t);
	CHECK(t.answers == 1 && t.status == 200 && strstr(t.body, "\"sync_error\""));
	CHECK(strstr(t.body, "\"total_balance\":0"));
	request(&t, AL_NODE_USER, "POST", "/v1/wallet/newaddress", NULL);
	al_node_fetch_done(t.n, t.fetch_req, AL_E_NET_CONNECT, 0, NULL, 0, now, 0);
	drive(&t);
	CHECK(t.status == 502 && strstr(t.body, "AL_E_NET_CONNECT"));
	request(&t, AL_NODE_USER, "POST", "/v1/wallet/sendtoaddress", "{\"args\":[\"x\"]}");
	CHECK(t.status == 400);
	request(&t, AL_NODE_USER, "POST", "/v1/wallet/nonsense", NULL);
	CHECK(t.status == 400);
	tn_close(&t);
}

/* --- nodes sharing one chain ------------------------------------------------------- */

#define BASE  "http://127.0.0.1:3002/api"
#define BASE2 "http://127.0.0.1:3003/api"
#define MINER "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

/* A fresh shared part: each test below starts from the genesis chain. */
static void shared_reset(void)
{
	al_node_shared_config sc = {.net = AL_NET_REGTEST};
	al_arena sa;

	free(shared_mem);
	shared_mem = calloc(1, al_node_shared_mem_size(&sc));
	al_arena_init(&sa, shared_mem, al_node_shared_mem_size(&sc));
	CHECK_OK(al_node_shared_init(&shared, &sa, &sc));
}

/* A ready node with a wallet on `srv` at `base`. */
static void chain_open(tnode *t, const uint8_t entropy[32], const char *store, esim *srv,
                       const char *url)
{
	const char *stores[] = {store};
	char body[128];

	tn_open(t, entropy, 32, stores, 1, 0);
	drive(t);
	t->srv = srv;
	t->base = url;
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	request(t, AL_NODE_USER, "POST", "/v1/chain", body);
	CHECK(t->status == 200);
}

/* The script of the node's next receive address. */
static void receive_script(tnode *t, uint8_t script[22])
{
	uint8_t prog[AL_WITPROG_MAX];
	char addr[AL_SEGWIT_ADDR_BUFLEN] = "";
	const char *p;
	size_t plen, slen, k = 0;
	unsigned ver;

	request(t, AL_NODE_USER, "POST", "/v1/wallet/newaddress", NULL);
	p = t->status == 200 ? strstr(t->body, "\"address\":\"") : NULL;
	CHECK(p != NULL);
	if (!p)
		return;
	for (p += 11; *p && *p != '"' && k + 1 < sizeof(addr); p++)
		addr[k++] = *p;
	CHECK_OK(al_segwit_addr_decode(&ver, prog, &plen, AL_NET_REGTEST, addr, k));
	CHECK_OK(al_segwit_script(script, 22, &slen, ver, prog, plen));
	CHECK(slen == 22);
}

/* Answer both nodes' chain requests in turn until neither waits. */
static void answer_alternately(tnode *a, tnode *b)
{
	for (int guard = 0; guard < 1000 && (a->fetch_pending || b->fetch_pending); guard++) {
		if (a->fetch_pending) {
			fetch_answer(a);
			drive(a);
		}
		if (b->fetch_pending) {
			fetch_answer(b);
			drive(b);
		}
	}
}

static void test_shared_chain(void)
{
	static esim srv, srv_b;
	static uint8_t raw[3][128];
	static const uint8_t e3[32] = {3};
	uint8_t sa[22], sb[22];
	const uint8_t *txs[2];
	size_t len[3];
	tnode a, b, c;

	shared_reset();
	esim_init(&srv, 3);
	srv.fee_sat_vb = 2;
	chain_open(&a, zero, "sh-a", &srv, BASE);
	chain_open(&b, ff, "sh-b", &srv, BASE);
	/* The first sync brings the headers; the second node's finds them kept. */
	receive_script(&a, sa);
	CHECK(a.header_reqs == 3);
	receive_script(&b, sb);
	CHECK(b.header_reqs == 0);
	len[0] = esim_payment(raw[0], sizeof(raw[0]), sa, 1000000, 1);
	len[1] = esim_payment(raw[1], sizeof(raw[1]), sb, 1000000, 2);
	txs[0] = raw[0];
	txs[1] = raw[1];
	esim_mine_txs(&srv, 4, txs, len, 2);

	/* Both sync at once, request by request. */
	a.hold_fetch = b.hold_fetch = true;
	request(&a, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	request(&b, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	answer_alternately(&a, &b);
	CHECK(a.answers == 1 && strstr(a.body, "\"confirmed_balance\":1000000"));
	CHECK(b.answers == 1 && strstr(b.body, "\"confirmed_balance\":1000000"));
	CHECK(strstr(a.body, "\"tip_height\":4") && !strstr(b.body, "sync_error"));
	a.hold_fetch = b.hold_fetch = false;

	/* One fee estimate for both (same server, same trust); asked again once too old. */
	request(&a, AL_NODE_USER, "POST", "/v1/wallet/sendtoaddress",
	        "{\"args\":[\"" MINER "\",\"100000\"]}");
	CHECK(a.status == 200 && strstr(a.body, "\"fee_sat\""));
	CHECK(srv.fee_requests == 1);
	request(&b, AL_NODE_USER, "POST", "/v1/wallet/sendtoaddress",
	        "{\"args\":[\"" MINER "\",\"100000\"]}");
	CHECK(b.status == 200 && srv.fee_requests == 1);
	/* Another URL for the same server is another key. */
	chain_open(&c, e3, "sh-c", &srv, BASE2);
	request(&c, AL_NODE_USER, "POST", "/v1/wallet/sendtoaddress",
	        "{\"args\":[\"" MINER "\",\"1000\"]}");
	CHECK(c.status == 502 && strstr(c.body, "AL_E_WALLET_FUNDS") && srv.fee_requests == 2);
	/* (The estimate's time is A's trusted clock: the host's, or the chain's median time
	 * past if that is later: a few seconds here.) */
	wall += AL_NODE_FEE_MAX_AGE + 60;
	request(&b, AL_NODE_USER, "POST", "/v1/wallet/sendtoaddress",
	        "{\"args\":[\"" MINER "\",\"100000\"]}");
	CHECK(b.status == 200 && srv.fee_requests == 3);
	tn_close(&c);

	/* B's step checks a payment in block 5 (which A's sync brought to the shared chain)
	 * when A's next sync carries a reorganisation of block 5 away: B's step runs again,
	 * and its server (still on the old branch) now has less work. B answers from what
	 * the shared chain holds, with that error. */
	len[2] = esim_payment(raw[2], sizeof(raw[2]), sb, 500000, 3);
	txs[0] = raw[2];
	esim_mine_txs(&srv, 5, txs, len + 2, 1);
	request(&a, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	CHECK(a.status == 200 && strstr(a.body, "\"tip_height\":5"));
	srv_b = srv;
	b.srv = &srv_b;
	b.hold_fetch = true;
	request(&b, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	for (int guard = 0; guard < 100 && !strstr(b.fetch_url, "/merkle-proof"); guard++) {
		fetch_answer(&b);
		drive(&b);
	}
	CHECK(b.fetch_pending && strstr(b.fetch_url, "/merkle-proof"));
	esim_mine(&srv, 5, 0xe5, 0x207fffff);
	esim_mine(&srv, 6, 0xe6, 0x207fffff);
	request(&a, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	CHECK(a.status == 200 && strstr(a.body, "\"tip_height\":6"));
	b.header_reqs = 0;
	for (int guard = 0; guard < 100 && b.fetch_pending; guard++) {
		fetch_answer(&b);
		drive(&b);
	}
	CHECK(b.answers == 1 && strstr(b.body, "AL_E_SYNC_LESS_WORK"));
	CHECK(b.header_reqs == 1); /* the run again: the old block 5, then its parent is kept */
	CHECK(strstr(b.body, "\"tip_height\":6"));
	/* Its server catches up: B agrees, the payment in the old block 5 never counted. */
	srv_b = srv;
	b.hold_fetch = false;
	request(&b, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	CHECK(b.status == 200 && !strstr(b.body, "sync_error"));
	CHECK(strstr(b.body, "\"total_balance\":") && !strstr(b.body, "1400000"));
	tn_close(&a);
	tn_close(&b);
}

/* A wallet that receives more transactions than its table holds grows, keeps them. */
static void test_wallet_grows(void)
{
	static esim srv;
	static uint8_t raw[70][128];
	const uint8_t *txs[7];
	size_t len[7], before, after;
	uint8_t s[22];
	char want[64];
	tnode t;

	shared_reset();
	esim_init(&srv, 1);
	chain_open(&t, zero, "grow", &srv, BASE);
	receive_script(&t, s);
	before = al_node_memory(t.n);
	for (size_t b = 0; b < 10; b++) {
		for (size_t i = 0; i < 7; i++) {
			len[i] = esim_payment(raw[b * 7 + i], sizeof(raw[0]), s, 1000,
			                      (uint32_t)(b * 7 + i));
			txs[i] = raw[b * 7 + i];
		}
		esim_mine_txs(&srv, 2 + b, txs, len, 7);
	}
	request(&t, AL_NODE_USER, "POST", "/v1/wallet/walletbalance", NULL);
	snprintf(want, sizeof(want), "\"confirmed_balance\":%u", 70 * 1000);
	CHECK(t.status == 200 && strstr(t.body, want) && !strstr(t.body, "sync_error"));
	after = al_node_memory(t.n);
	printf("wallet: %zu bytes, %zu after 70 transactions\n", before, after);
	CHECK(after > before);
	tn_close(&t);
}

/* GET /v1/payreq/<pay_req>: LND's PayReq for an invoice of the node's network, to the
 * user only; anything else refused with the decoder's precise error. */
static void test_payreq(void)
{
	static const al_privkey payee = {{0x77, 0x66}};
	static al_invoice inv;
	static char str[AL_INVOICE_MAX_CHARS + 1], target[AL_NODE_TARGET_MAX], want[256];
	const char *stores[] = {"payreq"};
	uint8_t pub[33], prog[20] = {0xab, 0xcd};
	char hex[67];
	uint8_t back[AL_WITPROG_MAX];
	unsigned ver;
	size_t len, plen;
	al_pubkey pk;
	tnode t;

	tn_open(&t, zero, sizeof(zero), stores, 1, 0);
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/getinfo", NULL);
	CHECK_OK(al_pubkey_from_privkey(secp, &pk, &payee));
	al_pubkey_serialize(secp, pub, &pk);
	memset(&inv, 0, sizeof(inv));
	inv.currency = AL_INVOICE_BCRT;
	inv.has_amount = true;
	inv.amount_msat = 123456;
	inv.timestamp = 1700000000;
	memset(inv.payment_hash, 0x01, 32);
	memset(inv.payment_secret, 0xfb, 32);
	inv.has_description = true;
	inv.description_len = 6;
	memcpy(inv.description, "coffee", 6);
	inv.has_expiry = true;
	inv.expiry = 600;
	inv.n_fallbacks = 1;
	inv.fallbacks[0].version = 0;
	inv.fallbacks[0].len = 20;
	memcpy(inv.fallbacks[0].program, prog, 20);
	inv.n_routes = 1;
	inv.routes[0].count = 1;
	inv.n_hops = 1;
	memcpy(inv.hops[0].pubkey, pub, 33);
	inv.hops[0].scid = 0x0102030405060708;
	inv.hops[0].fee_base_msat = 1000;
	inv.hops[0].fee_proportional_millionths = 200;
	inv.hops[0].cltv_expiry_delta = 144;
	CHECK_OK(al_features_set(&inv.features, 8));
	CHECK_OK(al_features_set(&inv.features, 14));
	CHECK_OK(al_features_set(&inv.features, 17));
	CHECK_OK(al_invoice_encode(str, sizeof(str), &len, secp, &inv, &payee));
	snprintf(target, sizeof(target), "/v1/payreq/%s", str);

	request(&t, AL_NODE_OPERATOR, "GET", target, NULL);
	CHECK(t.status == 403 && !strstr(t.body, "coffee"));
	request(&t, AL_NODE_USER, "POST", target, NULL);
	CHECK(t.status == 405);
	request(&t, AL_NODE_USER, "GET", target, NULL);
	CHECK(t.status == 200);
	CHECK_OK(al_hex_encode(hex, sizeof(hex), pub, 33));
	snprintf(want, sizeof(want), "\"destination\":\"%s\"", hex);
	CHECK(strstr(t.body, want));
	CHECK(strstr(t.body,
	             "\"payment_hash\":"
	             "\"0101010101010101010101010101010101010101010101010101010101010101\""));
	CHECK(strstr(t.body, "\"num_satoshis\":\"123\"") &&
	      strstr(t.body, "\"num_msat\":\"123456\""));
	CHECK(strstr(t.body, "\"timestamp\":\"1700000000\"") &&
	      strstr(t.body, "\"expiry\":\"600\""));
	CHECK(strstr(t.body, "\"description\":\"coffee\"") &&
	      strstr(t.body, "\"cltv_expiry\":\"18\""));
	/* 32 bytes of 0xfb in base64. */
	CHECK(strstr(t.body, "\"payment_addr\":\"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s=\""));
	CHECK(strstr(t.body, "\"chan_id\":\"72623859790382856\"") &&
	      strstr(t.body, "\"fee_base_msat\":1000") &&
	      strstr(t.body, "\"fee_proportional_millionths\":200") &&
	      strstr(t.body, "\"cltv_expiry_delta\":144"));
	CHECK(strstr(t.body,
	             "\"17\":{\"name\":\"basic_mpp\",\"is_required\":false,\"is_known\":true}"));
	CHECK(strstr(t.body, "\"14\":{\"name\":\"payment_secret\",\"is_required\":true"));
	{
		const char *f = strstr(t.body, "\"fallback_addr\":\"");
		char got[AL_SEGWIT_ADDR_BUFLEN] = "";

		CHECK(f && sscanf(f + 17, "%76[^\"]", got) == 1);
		CHECK_OK(
		    al_segwit_addr_decode(&ver, back, &plen, AL_NET_REGTEST, got, strlen(got)));
		CHECK(ver == 0 && plen == 20 && memcmp(back, prog, 20) == 0);
	}
	/* Another network's invoice; a broken one; a changed character. */
	inv.currency = AL_INVOICE_BC;
	CHECK_OK(al_invoice_encode(str, sizeof(str), &len, secp, &inv, &payee));
	snprintf(target, sizeof(target), "/v1/payreq/%s", str);
	request(&t, AL_NODE_USER, "GET", target, NULL);
	CHECK(t.status == 400 && strstr(t.body, "AL_E_INV_PREFIX") && strstr(t.body, "network"));
	request(&t, AL_NODE_USER, "GET", "/v1/payreq/lnbcrt1xyz", NULL);
	CHECK(t.status == 400 && strstr(t.body, "AL_E_B32_"));
	target[40] = target[40] == 'q' ? 'p' : 'q';
	request(&t, AL_NODE_USER, "GET", target, NULL);
	CHECK(t.status == 400 && strstr(t.body, "AL_E_B32_CHECKSUM"));
	tn_close(&t);
}

/* The invoice book: an invoice is answered only once durable; its payment request is
 * signed by the node key, pays the preimage's hash with the payment secret the node
 * chose, and decodes to what was asked; a restart finds it; the book refuses when
 * full of open invoices and reuses an expired one's place. */
static void test_invoices(void)
{
	const char *stores[] = {"inv"};
	static al_invoice dec;
	static char req[AL_INVOICE_MAX_CHARS + 1], path[128];
	uint8_t id[33], hash[32], pre[32], secret[32];
	const char *p;
	size_t i;
	tnode t;

	tn_open(&t, zero, sizeof(zero), stores, 1, 0);
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/getinfo", NULL);
	al_node_id(t.n, id);
	request(&t, AL_NODE_OPERATOR, "POST", "/v1/invoices", "{}");
	CHECK(t.status == 403);
	request(&t, AL_NODE_USER, "GET", "/v1/invoices", NULL);
	CHECK(t.status == 200 && strstr(t.body, "\"invoices\":[]"));
	/* No channels: LND's ChannelBalance, every amount zero; the user's only. */
	request(&t, AL_NODE_OPERATOR, "GET", "/v1/balance/channels", NULL);
	CHECK(t.status == 403);
	request(&t, AL_NODE_USER, "GET", "/v1/balance/channels", NULL);
	CHECK(t.status == 200 &&
	      strstr(t.body, "\"unsettled_remote_balance\":{\"sat\":\"0\",\"msat\":\"0\"}") &&
	      strstr(t.body, "\"pending_open_local_balance\":{\"sat\":\"0\",\"msat\":\"0\"}"));
	t.hold_puts = true;
	request(&t, AL_NODE_USER, "POST", "/v1/invoices",
	        "{\"memo\":\"tea for two\",\"value\":\"1500\",\"expiry\":600}");
	CHECK(t.answers == 0 && t.n_held == 1); /* not durable: not answered */
	put_answer(&t, t.held[0], AL_OK);
	drive(&t);
	t.n_held = 0;
	t.hold_puts = false;
	CHECK(t.answers == 1 && t.status == 200 && strstr(t.body, "\"add_index\":\"1\""));
	p = strstr(t.body, "\"payment_request\":\"");
	CHECK(p && sscanf(p + 19, "%7089[^\"]", req) == 1);
	CHECK_OK(al_invoice_decode(&dec, secp, req, strlen(req)));
	CHECK(dec.currency == AL_INVOICE_BCRT && dec.amount_msat == 1500000 && dec.expiry == 600 &&
	      dec.min_final_cltv_expiry_delta == 40 && dec.description_len == 11 &&
	      memcmp(dec.description, "tea for two", 11) == 0);
	CHECK_MEM(dec.payee, id, 33);
	CHECK(al_features_has(&dec.features, 14) && al_features_has(&dec.features, 17));
	/* The preimage (only to the user) hashes to the invoice's payment hash. */
	memcpy(path, "/v1/invoice/", 12);
	CHECK_OK(al_hex_encode(path + 12, sizeof(path) - 12, dec.payment_hash, 32));
	request(&t, AL_NODE_USER, "GET", path, NULL);
	CHECK(t.status == 200 && strstr(t.body, "\"state\":\"OPEN\"") &&
	      strstr(t.body, "\"value_msat\":\"1500000\""));
	{
		char b64s[45] = "";
		size_t n;

		p = strstr(t.body, "\"r_preimage\":\"");
		CHECK(p && sscanf(p + 14, "%44[^\"]", b64s) == 1);
		CHECK_OK(al_att_base64_decode(pre, sizeof(pre), &n, (const uint8_t *)b64s,
		                              strlen(b64s)));
		al_sha256(hash, pre, 32);
		CHECK_MEM(hash, dec.payment_hash, 32);
		p = strstr(t.body, "\"payment_addr\":\"");
		CHECK(p && sscanf(p + 16, "%44[^\"]", b64s) == 1);
		CHECK_OK(al_att_base64_decode(secret, sizeof(secret), &n, (const uint8_t *)b64s,
		                              strlen(b64s)));
		CHECK_MEM(secret, dec.payment_secret, 32);
	}
	/* The same request string every time it is asked for. */
	CHECK(strstr(t.body, req) != NULL);
	request(&t, AL_NODE_USER, "GET", "/v1/invoice/00", NULL);
	CHECK(t.status == 400);
	path[20] = path[20] == '0' ? '1' : '0';
	request(&t, AL_NODE_USER, "GET", path, NULL);
	CHECK(t.status == 404);
	/* Refusals: bad values and bodies. */
	request(&t, AL_NODE_USER, "POST", "/v1/invoices", "{\"value\":-1}");
	CHECK(t.status == 400);
	request(&t, AL_NODE_USER, "POST", "/v1/invoices", "{\"value\":1,\"value_msat\":2}");
	CHECK(t.status == 400 && strstr(t.body, "disagree"));
	request(&t, AL_NODE_USER, "POST", "/v1/invoices", "{\"cltv_expiry\":5}");
	CHECK(t.status == 400);
	request(&t, AL_NODE_USER, "POST", "/v1/invoices", "[1]");
	CHECK(t.status == 400);
	request(&t, AL_NODE_USER, "PUT", "/v1/invoices", "{}");
	CHECK(t.status == 405);
	/* Fill the book: 63 more, the sixth expiring after a second. */
	for (i = 1; i < NODE_MAX_INVOICES_TEST; i++) {
		request(&t, AL_NODE_USER, "POST", "/v1/invoices",
		        i == 5 ? "{\"expiry\":1}" : "{\"value_msat\":1}");
		CHECK(t.status == 200);
	}
	request(&t, AL_NODE_USER, "POST", "/v1/invoices", "{}");
	CHECK(t.status == 503 && strstr(t.body, "AL_E_NODE_INVOICES"));
	wall += 2; /* the sixth has expired: its place is taken */
	request(&t, AL_NODE_USER, "POST", "/v1/invoices", "{\"memo\":\"last\"}");
	CHECK(t.status == 200 && strstr(t.body, "\"add_index\":\"65\""));
	tn_close(&t);

	/* A restart finds every invoice, the first one unchanged, the sixth gone. */
	tn_open(&t, zero, sizeof(zero), stores, 1, 0);
	drive(&t);
	request(&t, AL_NODE_USER, "GET", "/v1/invoices", NULL);
	CHECK(t.status == 200 && strstr(t.body, req) && strstr(t.body, "\"memo\":\"last\"") &&
	      strstr(t.body, "\"last_index_offset\":\"65\""));
	CHECK(strstr(t.body, "\"add_index\":\"6\"") == NULL);
	request(&t, AL_NODE_USER, "POST", "/v1/invoices", "{}");
	CHECK(t.status == 503); /* full of open invoices again */
	tn_close(&t);
}

int main(void)
{
	uint8_t rseed[32] = {9};
	static uint8_t secp_mem[1 << 16];

	al_rng_chacha_init(&rng_state, &rng, rseed);
	CHECK_OK(al_secp_create(&secp, secp_mem, sizeof(secp_mem), rseed));
	pool_mem = calloc(1, al_peer_pool_size(8, 4, 65536));
	al_arena_init(&pool_arena, pool_mem, al_peer_pool_size(8, 4, 65536));
	CHECK_OK(al_peer_pool_init(&pool, &pool_arena, 8, 4, 65536));
	{
		al_node_shared_config sc = {.net = AL_NET_REGTEST};
		al_arena sa;

		shared_mem = calloc(1, al_node_shared_mem_size(&sc));
		al_arena_init(&sa, shared_mem, al_node_shared_mem_size(&sc));
		CHECK_OK(al_node_shared_init(&shared, &sa, &sc));
	}
	snprintf(base, sizeof(base), "/tmp/alight-node-%d", (int)getpid());
	CHECK(sh("rm -rf %s && mkdir -p %s") == 0);
	test_identity_and_authority();
	test_persist_before_speak();
	test_rollback();
	test_two_nodes_connect();
	test_wallet_requests();
	test_shared_chain();
	test_wallet_grows();
	test_payreq();
	test_invoices();
	uint32_t slots, queues;
	al_peer_pool_usage(pool, &slots, &queues);
	CHECK(slots == 0 && queues == 0); /* every connection gave its slot back */
	CHECK(sh("rm -rf %s") == 0);
	al_secp_destroy(secp);
	free(pool_mem);
	free(shared_mem);
	return al_t_finish();
}
