/* Chain sync cost per new block (see bench_sync.h).
 *
 * Both nodes sync through a relay in this process that counts the bytes on the wire in
 * each direction (HTTP heads included); the set-up (mining, broadcasting) talks to the
 * devchain directly and is not counted. The 1,000 watched outputs are real: one
 * transaction spends a mature coinbase of our own key into 1,000 P2WPKH outputs, its
 * signature checked with the script interpreter before the devchain sees it. */
#include "bench_sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"
#include "btc/address.h"
#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "chain/block.h"
#include "chain/esplora.h"
#include "chain/sync.h"
#include "crypto/hash.h"
#include "chain/client.h"
#include "host/httpc.h"
#include "util/hex.h"

#define N_WATCH    1000
#define N_BLOCKS   10 /* blocks averaged */
#define N_SPEND    10 /* watched outputs spent in the extra block */
#define OUT_SAT    20000
#define FANOUT_FEE 100000 /* about 3 sat/vB for the ~31,100 vB fan-out */
#define SPEND_FEE  5000

/* ---- a relay that counts the bytes on the wire ---- */

struct relay {
	int lfd;
	struct sockaddr_in up;
	pthread_t acceptor;
	char url[320];
	_Atomic uint64_t sent, received; /* client to server, server to client */
};

struct pump {
	struct relay *r;
	int fd[2]; /* client, server */
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* One connection, both directions, until either side closes it. */
static void *pump_main(void *arg)
{
	struct pump p = *(struct pump *)arg;
	struct pollfd fds[2] = {{p.fd[0], POLLIN, 0}, {p.fd[1], POLLIN, 0}};
	uint8_t buf[1 << 16];
	bool open = true;

	free(arg);
	while (open) {
		if (poll(fds, 2, -1) < 0) {
			open = errno == EINTR;
			continue;
		}
		for (int i = 0; i < 2 && open; i++) {
			ssize_t n;

			if (!fds[i].revents)
				continue;
			n = read(fds[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				open = false;
				break;
			}
			atomic_fetch_add(i ? &p.r->received : &p.r->sent, (uint64_t)n);
			open = write_all(fds[!i].fd, buf, (size_t)n);
		}
	}
	close(p.fd[0]);
	close(p.fd[1]);
	return NULL;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void relay_connection(struct relay *r, int c)
{
	struct pump *p = malloc(sizeof(*p));
	int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pthread_t t;

	if (p && u >= 0 && connect(u, (const struct sockaddr *)&r->up, sizeof(r->up)) == 0) {
		nodelay(c);
		nodelay(u);
		*p = (struct pump){r, {c, u}};
		if (pthread_create(&t, NULL, pump_main, p) == 0) {
			pthread_detach(t);
			return;
		}
	}
	free(p);
	close(c);
	if (u >= 0)
		close(u);
}

static void *accept_main(void *arg)
{
	struct relay *r = arg;

	for (;;) {
		int c = accept(r->lfd, NULL, NULL);

		if (c >= 0)
			relay_connection(r, c);
		else if (errno != EINTR && errno != ECONNABORTED)
			return NULL;
	}
}

static void relay_start(struct relay *r, const char *url)
{
	struct sockaddr_in a = {0};
	socklen_t alen = sizeof(a);
	al_url u;

	if (al_url_parse(&u, url, strlen(url)) != AL_OK || u.https ||
	    inet_pton(AF_INET, u.host, &r->up.sin_addr) != 1 || u.path_len > 256)
		bench_fail("ALIGHT_BENCH_ESPLORA must be http://IPv4:port[/path]", url);
	r->up.sin_family = AF_INET;
	r->up.sin_port = htons(u.port);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || bind(r->lfd, (const struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(r->lfd, 16) != 0 || getsockname(r->lfd, (struct sockaddr *)&a, &alen) != 0 ||
	    pthread_create(&r->acceptor, NULL, accept_main, r) != 0)
		bench_fail("cannot start the counting relay", strerror(errno));
	snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%u%.*s", ntohs(a.sin_port),
	         u.path_len > 1 ? (int)u.path_len : 0, u.path);
}

/* Connections still open end when their clients close them. */
static void relay_stop(struct relay *r)
{
	shutdown(r->lfd, SHUT_RDWR);
	pthread_join(r->acceptor, NULL);
	close(r->lfd);
}

/* ---- the devchain, directly: mining and broadcasting ---- */

struct ctl {
	const char *url;
	al_httpc *http;
	al_chain_client *cc;
};

static void ctl_open(struct ctl *c, const char *url)
{
	c->url = url;
	al_httpc *h = NULL;
	if (al_httpc_new(&c->http, &(al_httpc_config){0}) != AL_OK ||
	    al_httpc_new(&h, &(al_httpc_config){0}) != AL_OK ||
	    al_chain_client_new(&c->cc, url, h, &al_host_alloc) != AL_OK)
		bench_fail("cannot create an HTTP client", NULL);
}

static void ctl_close(struct ctl *c)
{
	al_chain_client_free(c->cc);
	al_httpc_free(c->http);
}

/* GET `path`; anything but 200 ends the benchmark. */
static void ctl_get(struct ctl *c, al_httpc_response *res, const char *path)
{
	char u[512];
	al_err e;

	snprintf(u, sizeof(u), "%s%s", c->url, path);
	e = al_httpc_get(c->http, res, u);
	if (e != AL_OK)
		bench_fail(path, al_err_str(e));
	if (res->status != 200)
		bench_fail(path, (const char *)res->body);
}

/* POST /mine: n blocks paying `addr`; the first one's hash. */
static void ctl_mine(struct ctl *c, unsigned n, const char *addr, uint8_t first[32])
{
	char u[512], body[160];
	int len = snprintf(body, sizeof(body), "{\"blocks\":%u,\"address\":\"%s\"}", n, addr);
	al_httpc_response res;
	const char *h;
	json_t *j;

	snprintf(u, sizeof(u), "%s/mine", c->url);
	if (al_httpc_post(c->http, &res, u, "application/json", (const uint8_t *)body,
	                  (size_t)len) != AL_OK)
		bench_fail("POST /mine", "no answer");
	j = json_loadb((const char *)res.body, res.body_len, 0, NULL);
	h = json_string_value(json_array_get(j, 0));
	if (res.status != 200 || !h || al_txid_from_hex(first, h) != AL_OK)
		bench_fail("POST /mine", (const char *)res.body);
	json_decref(j);
	al_httpc_response_free(&res);
}

/* The coinbase of block `hash`, whose output 0 must pay `spk`: its txid and amount. */
static void ctl_coinbase(struct ctl *c, al_arena *a, const uint8_t hash[32], const uint8_t *spk,
                         uint8_t txid[32], al_sat *value)
{
	size_t mark = al_arena_mark(a), len;
	char hex[65], path[128];
	al_httpc_response res;
	uint8_t raw[1024];
	al_tx tx;

	al_txid_to_hex(hex, hash);
	snprintf(path, sizeof(path), "/block/%s/txid/0", hex);
	ctl_get(c, &res, path);
	if (al_esplora_parse_hash(txid, res.body, res.body_len) != AL_OK)
		bench_fail(path, (const char *)res.body);
	al_httpc_response_free(&res);
	al_txid_to_hex(hex, txid);
	snprintf(path, sizeof(path), "/tx/%s/hex", hex);
	ctl_get(c, &res, path);
	if (al_hex_decode(raw, sizeof(raw), &len, (const char *)res.body, res.body_len) != AL_OK ||
	    al_tx_parse(&tx, a, raw, len) != AL_OK || tx.out[0].script.len != 22 ||
	    memcmp(tx.out[0].script.p, spk, 22))
		bench_fail(path, "not a coinbase paying our key");
	*value = tx.out[0].amount;
	al_httpc_response_free(&res);
	al_arena_release(a, mark);
}

/* ---- keys and transactions ---- */

struct key {
	al_privkey priv;
	uint8_t pub[33], h160[20], spk[22];
	char addr[AL_SEGWIT_ADDR_BUFLEN];
};

/* A throwaway regtest key named by `label`. */
static void key_make(struct key *k, const al_secp *secp, const char *label)
{
	al_pubkey pk;
	al_wb w;

	al_sha256(k->priv.k, label, strlen(label));
	if (al_pubkey_from_privkey(secp, &pk, &k->priv) != AL_OK)
		bench_fail("key", label);
	al_pubkey_serialize(secp, k->pub, &pk);
	al_hash160(k->h160, k->pub, 33);
	al_wb_init(&w, k->spk, sizeof(k->spk));
	al_script_p2wpkh(&w, k->h160);
	if (al_segwit_addr_encode(k->addr, sizeof(k->addr), AL_NET_REGTEST, 0, k->h160, 20) !=
	    AL_OK)
		bench_fail("address", label);
}

/* BIP 143: sign input i, a P2WPKH output of `k` holding `amount`; `der` holds the
 * signature the witness borrows. Then the interpreter must accept the spend. */
static void sign_input(const al_secp *secp, al_arena *a, al_tx *tx, size_t i, const struct key *k,
                       al_sat amount, uint8_t der[73])
{
	uint8_t code[25], digest[32];
	al_ecdsa_sig sig;
	al_bytes items[2];
	al_interp_fail why;
	size_t dl = 72, mark;
	al_wb w;
	al_err e;

	al_wb_init(&w, code, sizeof(code));
	al_script_p2wpkh_scriptcode(&w, k->h160);
	if (al_sighash_segwit_v0(digest, tx, i, code, w.len, amount, AL_SIGHASH_ALL) != AL_OK ||
	    al_ecdsa_sign(secp, &sig, digest, &k->priv) != AL_OK ||
	    al_ecdsa_sig_serialize_der(secp, der, &dl, &sig) != AL_OK)
		bench_fail("signing failed", NULL);
	der[dl] = AL_SIGHASH_ALL;
	items[0] = (al_bytes){der, dl + 1};
	items[1] = (al_bytes){k->pub, 33};
	if (al_tx_set_witness(tx, a, i, items, 2) != AL_OK)
		bench_fail("witness", NULL);
	mark = al_arena_mark(a);
	e = al_interp_verify_input(secp, tx, i, k->spk, sizeof(k->spk), amount, AL_INTERP_STANDARD,
	                           a, &why);
	al_arena_release(a, mark);
	if (e != AL_OK)
		bench_fail("our own signature does not verify", al_err_str(e));
}

static void broadcast(struct ctl *c, const al_tx *tx, uint8_t txid[32])
{
	static uint8_t raw[64 << 10];
	char msg[256];
	al_wb w;
	al_err e;

	al_wb_init(&w, raw, sizeof(raw));
	al_tx_write(&w, tx, true);
	if (!al_wb_ok(&w))
		bench_fail("transaction too large", NULL);
	e = al_chain_client_broadcast(c->cc, raw, w.len, msg, sizeof(msg));
	if (e != AL_OK)
		bench_fail("POST /tx", e == AL_E_ESPLORA_STATUS ? msg : al_err_str(e));
	al_tx_txid(tx, txid);
}

/* The coinbase into N_WATCH outputs of OUT_SAT and the change, all paying `k`. */
static void fan_out(struct ctl *c, const al_secp *secp, al_arena *a, const struct key *k,
                    const uint8_t cb[32], al_sat cb_value, uint8_t txid[32])
{
	size_t mark = al_arena_mark(a);
	uint8_t der[73];
	al_sat change;
	al_tx tx;

	if (!al_sat_sub(&change, cb_value, al_sat_of((uint64_t)N_WATCH * OUT_SAT + FANOUT_FEE)) ||
	    al_tx_init(&tx, a, 2, 0, 1, N_WATCH + 1) != AL_OK ||
	    al_tx_add_input(&tx, cb, 0, 0xfffffffd) != AL_OK)
		bench_fail("fan-out transaction", NULL);
	for (size_t i = 0; i <= N_WATCH; i++) {
		if (al_tx_add_output(&tx, i < N_WATCH ? al_sat_of(OUT_SAT) : change, k->spk,
		                     sizeof(k->spk)) != AL_OK)
			bench_fail("fan-out transaction", NULL);
	}
	sign_input(secp, a, &tx, 0, k, cb_value, der);
	broadcast(c, &tx, txid);
	al_arena_release(a, mark);
}

/* Spend watched outputs 0..N_SPEND-1 of `fan` to `to`. */
static void spend_some(struct ctl *c, const al_secp *secp, al_arena *a, const struct key *k,
                       const struct key *to, const uint8_t fan[32], uint8_t txid[32])
{
	size_t mark = al_arena_mark(a);
	uint8_t der[N_SPEND][73];
	al_tx tx;

	if (al_tx_init(&tx, a, 2, 0, N_SPEND, 1) != AL_OK ||
	    al_tx_add_output(&tx, al_sat_of(N_SPEND * OUT_SAT - SPEND_FEE), to->spk,
	                     sizeof(to->spk)) != AL_OK)
		bench_fail("spending transaction", NULL);
	for (uint32_t i = 0; i < N_SPEND; i++) {
		if (al_tx_add_input(&tx, fan, i, 0xfffffffd) != AL_OK)
			bench_fail("spending transaction", NULL);
	}
	for (size_t i = 0; i < N_SPEND; i++)
		sign_input(secp, a, &tx, i, k, al_sat_of(OUT_SAT), der[i]);
	broadcast(c, &tx, txid);
	al_arena_release(a, mark);
}

/* ---- the nodes and what their steps cost ---- */

struct node {
	const char *name;
	al_headers headers; /* each node its own: the bench measures one node's traffic */
	al_sync sync;
	al_chain_client *cc;
	void *mem;
};

struct cost {
	double requests, body, sent, received, ms;
	unsigned blocks;
};

static struct relay relay;

static void node_open(struct node *n, const char *name, size_t max_outputs)
{
	al_sync_config cfg = {0};
	al_headers_config hc = {.net = AL_NET_REGTEST, .max_headers = 4096, .max_stage = 4096};
	size_t len;
	al_arena a;

	n->name = name;
	al_genesis_header(&hc.checkpoint, AL_NET_REGTEST);
	cfg.headers = &n->headers;
	cfg.max_new_headers = 16;
	cfg.max_txs = 64;
	cfg.max_outputs = max_outputs;
	cfg.max_scripts = 1;
	cfg.raw_cap = 1u << 20;
	len = (al_sync_mem_size(&cfg) + al_headers_mem_size(&hc) + 4096 + 63) & ~(size_t)63;
	n->mem = aligned_alloc(64, len);
	if (!n->mem)
		bench_fail("out of memory", NULL);
	al_arena_init(&a, n->mem, len);
	al_httpc *h = NULL;
	if (al_headers_init(&n->headers, &a, &hc) != AL_OK ||
	    al_sync_init(&n->sync, &a, &cfg) != AL_OK ||
	    al_httpc_new(&h, &(al_httpc_config){0}) != AL_OK ||
	    al_chain_client_new(&n->cc, relay.url, h, &al_host_alloc) != AL_OK)
		bench_fail(name, "cannot set up the sync");
}

static void node_close(struct node *n)
{
	al_chain_client_free(n->cc);
	free(n->mem);
}

/* One sync step; its cost is added to *c unless c is NULL. */
static void node_step(struct node *n, struct cost *c)
{
	uint64_t r0, b0, r1, b1, s0 = atomic_load(&relay.sent), v0 = atomic_load(&relay.received);
	double t0 = bench_now(), t1;
	char why[256];
	al_err e;

	al_chain_client_counters(n->cc, &r0, &b0);
	e = al_chain_client_sync(n->cc, &n->sync);
	t1 = bench_now();
	if (e != AL_OK) {
		snprintf(why, sizeof(why), "sync step failed: %s %s", al_err_str(e),
		         al_chain_client_detail(n->cc));
		bench_fail(n->name, why);
	}
	if (!c)
		return;
	al_chain_client_counters(n->cc, &r1, &b1);
	c->requests += (double)(r1 - r0);
	c->body += (double)(b1 - b0);
	c->sent += (double)(atomic_load(&relay.sent) - s0);
	c->received += (double)(atomic_load(&relay.received) - v0);
	c->ms += (t1 - t0) * 1e3;
	c->blocks++;
}

/* A measured step must have connected exactly the one block just mined. */
static void expect_one_block(const struct node *n)
{
	const al_sync_result *r = al_sync_last_result(&n->sync);

	if (!r->tip_changed || r->connected != 1 || r->disconnected != 0)
		bench_fail(n->name, "the sync step did not connect exactly the new block");
}

static void put_cost(const char *prefix, const char *suffix, const struct cost *c)
{
	static const char *const names[] = {
	    "requests", "bytes", "request_bytes", "response_bytes", "response_body_bytes", "ms"};
	double n = c->blocks ? c->blocks : 1;
	double v[] = {c->requests, c->sent + c->received, c->sent, c->received, c->body, c->ms};
	char key[128];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(key, sizeof(key), "%s_%s%s", prefix, names[i], suffix);
		bench_put(key, v[i] / n);
	}
}

/* The spender confirmed and the first N_SPEND watched outputs spent by it. */
static void expect_spent(const struct node *n, const uint8_t fan[32], const uint8_t spender[32])
{
	const al_sync_tx *t = al_sync_find_tx(&n->sync, spender);

	if (!t || !t->st.confirmed)
		bench_fail(n->name, "the spending transaction was not seen confirmed");
	for (uint32_t i = 0; i < N_WATCH; i++) {
		const al_sync_out *o = al_sync_find_output(&n->sync, fan, i);

		if (!o || o->spent != (i < N_SPEND) ||
		    (o->spent && memcmp(o->spender, spender, 32)))
			bench_fail(n->name, "a watched output's spent state is wrong");
	}
}

/* ---- the group ---- */

struct setup {
	struct ctl ctl;
	struct key own, miner;
	al_arena arena;
	void *mem;
	uint8_t fan[32];
};

/* A mature coinbase of our own key, fanned out into N_WATCH confirmed outputs. */
static void make_outputs(struct setup *x, const al_secp *secp)
{
	uint8_t block[32], cb[32];
	al_sat cb_value;

	ctl_mine(&x->ctl, 101, x->own.addr, block);
	ctl_coinbase(&x->ctl, &x->arena, block, x->own.spk, cb, &cb_value);
	fan_out(&x->ctl, secp, &x->arena, &x->own, cb, cb_value, x->fan);
	ctl_mine(&x->ctl, 1, x->miner.addr, block);
}

static void run(struct setup *x, const al_secp *secp, struct node *idle, struct node *watch)
{
	struct cost ci = {0}, cw = {0}, first = {0}, spend = {0};
	uint8_t block[32], spender[32];

	node_step(idle, NULL);
	node_step(watch, &first);
	for (int b = 0; b < N_BLOCKS; b++) {
		ctl_mine(&x->ctl, 1, x->miner.addr, block);
		node_step(idle, &ci);
		expect_one_block(idle);
		node_step(watch, &cw);
		expect_one_block(watch);
	}
	spend_some(&x->ctl, secp, &x->arena, &x->own, &x->miner, x->fan, spender);
	ctl_mine(&x->ctl, 1, x->miner.addr, block);
	node_step(idle, NULL);
	node_step(watch, &spend);
	expect_one_block(watch);
	expect_spent(watch, x->fan, spender);
	bench_put("sync_blocks_averaged", N_BLOCKS);
	put_cost("sync_idle", "_per_block", &ci);
	put_cost("sync_watch1000", "_per_block", &cw);
	put_cost("sync_watch1000_spend10_block", "", &spend);
	put_cost("sync_watch1000_first_sync", "", &first);
	bench_put("sync_watch1000_tip_height", al_sync_tip_height(&watch->sync));
}

void bench_sync(void)
{
	const char *url = getenv("ALIGHT_BENCH_ESPLORA");
	const al_secp *secp = bench_secp();
	size_t len = al_interp_scratch_size() + (1u << 20);
	static struct node idle, watch;
	static struct setup x;

	if (!url || !url[0]) {
		bench_put_str("sync", "not measured: run scripts/bench to start alight-devchain");
		return;
	}
	bench_put_str("sync_note",
	              "one sync step (chain/sync.h over chain/client.h) per new block on "
	              "alight-devchain; bytes counted on the wire both ways (HTTP heads included) "
	              "by a relay on loopback, response_body_bytes as the client counts them; "
	              "ms include the relay");
	x.mem = malloc(len);
	if (!x.mem)
		bench_fail("out of memory", NULL);
	al_arena_init(&x.arena, x.mem, len);
	relay_start(&relay, url);
	ctl_open(&x.ctl, url);
	key_make(&x.own, secp, "alight bench sync: watched outputs");
	key_make(&x.miner, secp, "alight bench sync: miner");
	make_outputs(&x, secp);
	node_open(&idle, "sync idle node", 1);
	node_open(&watch, "sync node watching 1,000 outputs", N_WATCH);
	for (uint32_t i = 0; i < N_WATCH; i++) {
		if (al_sync_watch_output(&watch.sync, x.fan, i) != AL_OK)
			bench_fail("al_sync_watch_output", NULL);
	}
	run(&x, secp, &idle, &watch);
	node_close(&idle);
	node_close(&watch);
	ctl_close(&x.ctl);
	relay_stop(&relay);
	al_privkey_clear(&x.own.priv);
	al_privkey_clear(&x.miner.priv);
	free(x.mem);
}
