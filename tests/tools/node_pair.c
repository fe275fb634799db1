/* Two alight nodes (src/node, no enclave) in one process, on a real alight-devchain:
 * the tool plays their host (directory stores, FETCH over HTTP to the devchain, the
 * peers' bytes handed from one node to the other) and drives a channel's life through
 * the nodes' own interfaces (REST routes, and the HTLC calls that stand in for
 * payments). tests/py/test_node_channels.py runs it and checks what it prints against
 * the chain.
 *
 * Usage: node_pair ESPLORA_URL DIR SCENARIO [anchors|static]
 *   basic     A funds its wallet, opens to B, pays B with an HTLC (fulfilled) and
 *             has one failed, restarts both nodes mid-channel, closes cooperatively
 *   force     as basic up to the payment, then A force-closes; the nodes resolve
 *             the commitment on-chain (B's to_remote, A's to_local after its delay),
 *             both restarting twice on the way
 *   htlc      as force, with an HTLC of 50,000 sat from A to B in flight at the close:
 *             A's node takes it back by its HTLC-timeout transaction after the expiry
 *             (with anchors: zero-fee, its fee from A's wallet), then sweeps its output
 *   success   as htlc, but B learns the preimage after the close (al_node_htlc_fulfill on
 *             a channel gone on-chain): B's node claims the HTLC output of A's
 *             commitment with it, and A's caller hears the HTLC fulfilled, preimage and all
 *   justice   as basic up to the payment, with B's store copied after the fulfilled
 *             HTLC; B is then rolled back to that copy (its store has no other replica
 *             to tell) and force-closes: it broadcasts a revoked commitment, and A's
 *             node takes every output
 *   bench N   (scripts/bench, group "channel") once the channel is usable, N payments
 *             A -> B, each an HTLC added and fulfilled: two commitment updates, each
 *             durable on both nodes' directory stores (fsync) before either node
 *             speaks on; prints {"event":"bench", ...} with the rate, the p50/p99 of
 *             one update and the heap each node holds for the channel
 * Output: JSON lines, {"event": ..., ...}; the last is {"event":"done"}. Exit status 0
 * only when every check here held. */
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "btc/address.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "crypto/rng.h"
#include "crypto/secp.h"
#include "host/httpc.h"
#include "host/store_dir.h"
#include "node/node.h"
#include "test.h"
#include "util/hex.h"

typedef struct pnode {
	const char *name;
	al_node *n;
	al_arena arena;
	uint8_t *mem;
	uint8_t entropy[32];
	char dir[512];
	al_store_dir *store;
	struct pnode *peer;
	bool connected_conn;
	/* the last answer */
	int status;
	char body[1 << 16];
	size_t answers;
	uint64_t fetches;
	size_t heap_live; /* bytes the node holds from its allocator */
	al_alloc heap;
} pnode;

static const char *url;
static al_httpc *http;
static al_peer_pool *pool;
static al_secp *secp;
static al_node_shared *shared; /* both nodes share one header chain, as in an enclave */
static al_rng rng;
static al_rng_chacha rng_state;
static uint64_t now_ms = 1000;

/* Live heap bytes of each node (ctx: its pnode's counter), for the bench. */
static void *p_alloc(void *ctx, size_t n)
{
	size_t *live = ctx, *p = calloc(1, n + 16);

	if (!p)
		return NULL;
	*p = n;
	*live += n;
	return (uint8_t *)p + 16;
}

static void p_free(void *ctx, void *ptr)
{
	size_t *live = ctx;
	uint8_t *p = ptr;

	if (!p)
		return;
	*live -= *(size_t *)(p - 16);
	free(p - 16);
}

static uint64_t wall(void)
{
	return (uint64_t)time(NULL);
}

static void fail(const char *what, const char *detail)
{
	printf("{\"event\":\"fail\",\"what\":\"%s\",\"detail\":\"%s\"}\n", what,
	       detail ? detail : "");
	fflush(stdout);
	exit(1);
}

/* --- the devchain ---------------------------------------------------------------------- */

static json_t *chain_post(const char *path, json_t *body)
{
	char u[600], *b = json_dumps(body, JSON_COMPACT);
	static const al_http_field ct = {"Content-Type", "application/json"};
	al_httpc_response res;
	json_t *out;

	snprintf(u, sizeof(u), "%s%s", url, path);
	if (al_httpc_request(http, &res, "POST", u, &ct, 1, (const uint8_t *)b, strlen(b)) !=
	        AL_OK ||
	    res.status != 200)
		fail("devchain POST", path);
	out = json_loadb((const char *)res.body, res.body_len, 0, NULL);
	al_httpc_response_free(&res);
	free(b);
	json_decref(body);
	return out;
}

/* P2WSH of OP_TRUE: the miner's coins go where neither node looks. */
static const char *miner_address(void)
{
	static char addr[100];
	uint8_t op_true = 0x51, prog[32];

	if (!addr[0]) {
		al_sha256(prog, &op_true, 1);
		if (al_segwit_addr_encode(addr, sizeof(addr), AL_NET_REGTEST, 0, prog, 32) != AL_OK)
			fail("miner address", NULL);
	}
	return addr;
}

static void mine(int blocks)
{
	json_decref(chain_post(
	    "/mine", json_pack("{s:i,s:s}", "blocks", blocks, "address", miner_address())));
}

/* --- the host of both nodes ------------------------------------------------------------ */

static void do_fetch(pnode *p, const al_node_fx *fx)
{
	al_httpc_response res;
	static const al_http_field text = {"Content-Type", "text/plain"};
	bool post = fx->method && !strcmp(fx->method, "POST");
	al_err e = al_httpc_request(http, &res, post ? "POST" : "GET", fx->text,
	                            post ? &text : NULL, post ? 1 : 0, fx->data, fx->len);

	p->fetches++;
	if (e == AL_OK && res.status != 200)
		fprintf(stderr, "%s: %s %s -> %d %.*s\n", p->name, post ? "POST" : "GET", fx->text,
		        res.status, (int)(res.body_len < 300 ? res.body_len : 300),
		        (const char *)res.body);
	al_node_fetch_done(p->n, fx->req, e, e == AL_OK ? res.status : 0,
	                   e == AL_OK ? res.body : NULL, e == AL_OK ? res.body_len : 0, now_ms,
	                   wall());
	if (e == AL_OK)
		al_httpc_response_free(&res);
}

/* Perform what one node asks; true when it asked anything. */
static bool step(pnode *p)
{
	static uint8_t blob[1 << 22];
	al_node_fx fx;
	bool any = false;

	for (int guard = 0; guard < 100000 && al_node_next_fx(p->n, &fx, now_ms); guard++) {
		size_t len = 0, used = 0;
		int64_t ver = 0;
		al_err e;

		any = true;
		switch (fx.kind) {
		case AL_NODE_FX_STORE_GET:
			e = al_store_dir_backend.get(p->store, fx.name, blob, sizeof(blob), &len,
			                             &ver);
			al_node_store_done(p->n, fx.req, e, blob, len, ver, now_ms);
			break;
		case AL_NODE_FX_STORE_PUT:
			e = al_store_dir_backend.put_batch(p->store, fx.items, fx.n_items,
			                                   fx.global_version);
			al_node_store_done(p->n, fx.req, e, NULL, 0, 0, now_ms);
			break;
		case AL_NODE_FX_ANSWER:
			p->status = fx.status;
			len = fx.len < sizeof(p->body) - 1 ? fx.len : sizeof(p->body) - 1;
			memcpy(p->body, fx.data, len);
			p->body[len] = 0;
			p->answers++;
			break;
		case AL_NODE_FX_FETCH:
			do_fetch(p, &fx);
			break;
		case AL_NODE_FX_DIAL:
			/* Straight to the other node: conn 1 on both sides. */
			if (al_node_net_accept(p->peer->n, 1, "127.0.0.1:1", now_ms) != AL_OK)
				fail("accept", p->name);
			al_node_dialed(p->n, fx.req, AL_OK, 1, NULL, now_ms);
			break;
		case AL_NODE_FX_NET_SEND:
			if (al_node_net_recv(p->peer->n, 1, fx.data, fx.len, &used, now_ms) !=
			    AL_OK)
				used = 0;
			al_node_net_sent(p->n, fx.conn, used, now_ms);
			if (used < fx.len)
				al_node_net_writable(p->n, fx.conn, now_ms);
			break;
		case AL_NODE_FX_NET_CLOSE:
			al_node_net_closed(p->n, fx.conn, "closed", now_ms);
			if (p->peer->n)
				al_node_net_closed(p->peer->n, 1, "peer closed", now_ms);
			break;
		case AL_NODE_FX_LOG:
			fprintf(stderr, "%s: %s\n", p->name, fx.text);
			break;
		default:
			break;
		}
	}
	return any;
}

static pnode A = {.name = "A"}, B = {.name = "B"};

static void settle(void)
{
	for (int i = 0; i < 200; i++) {
		bool a = A.n && step(&A), b = B.n && step(&B);
		now_ms += 10;
		if (A.n)
			al_node_timer(A.n, now_ms, wall());
		if (B.n)
			al_node_timer(B.n, now_ms, wall());
		if (!a && !b)
			return;
	}
}

static void node_open(pnode *p)
{
	al_node_config cfg;
	al_node_env env = {secp, &rng, &p->heap, pool, shared};
	size_t need;

	p->heap = (al_alloc){p_alloc, p_free, &p->heap_live};
	al_node_config_default(&cfg);
	cfg.max_peers = 4;
	cfg.max_handshakes = 2;
	cfg.chain_poll_ms = 0; /* the tool syncs when it mined */
	need = al_node_mem_size(&cfg);
	p->mem = calloc(1, need);
	al_arena_init(&p->arena, p->mem, need);
	if (al_store_dir_open(&p->store, p->dir) != AL_OK)
		fail("store", p->dir);
	if (al_node_init(&p->n, &p->arena, &cfg, &env, p->entropy, 32, now_ms, wall()) != AL_OK)
		fail("node init", p->name);
	settle();
	if (al_node_get_state(p->n) != AL_NODE_READY)
		fail("node not ready", p->name);
}

static void node_close(pnode *p)
{
	al_node_clear(p->n);
	p->n = NULL;
	al_store_dir_close(p->store);
	free(p->mem);
}

/* One request; the answer's JSON (or NULL when none came). */
static json_t *req(pnode *p, const char *method, const char *target, const char *body)
{
	static uint64_t token = 100;
	size_t before = p->answers;

	al_node_request(p->n, AL_NODE_USER, ++token, method, target, (const uint8_t *)body,
	                body ? strlen(body) : 0, now_ms, wall());
	for (int i = 0; i < 50 && p->answers == before; i++)
		settle();
	if (p->answers == before)
		fail("no answer", target);
	return json_loads(p->body, 0, NULL);
}

static json_t *req_ok(pnode *p, const char *method, const char *target, const char *body)
{
	json_t *r = req(p, method, target, body);
	if (p->status != 200 || !r)
		fail(target, p->body);
	return r;
}

static void sync_both(void)
{
	json_decref(req_ok(&A, "POST", "/v1/wallet/sync", NULL));
	json_decref(req_ok(&B, "POST", "/v1/wallet/sync", NULL));
	settle();
}

static uint64_t jint(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void print_json(const char *event, json_t *o)
{
	json_object_set_new(o, "event", json_string(event));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static json_t *the_channel(pnode *p, const char *list)
{
	char target[64];
	json_t *r, *c;

	snprintf(target, sizeof(target), "/v1/channels%s", list);
	r = req_ok(p, "GET", target, NULL);
	c = json_array_get(json_object_get(r, list[0] ? "pending_open_channels" : "channels"), 0);
	if (!c && !strcmp(list, "/closed"))
		c = json_array_get(json_object_get(r, "channels"), 0);
	json_incref(c);
	json_decref(r);
	return c;
}

static void channel_id(const char *point, uint8_t out[32])
{
	uint8_t txid[32];
	char hex[65];
	unsigned vout = (unsigned)atoi(strchr(point, ':') + 1);

	memcpy(hex, point, 64);
	hex[64] = 0;
	if (al_txid_from_hex(txid, hex) != AL_OK)
		fail("channel point", point);
	/* BOLT #2: funding_txid (internal order) XOR the output index in the last bytes. */
	memcpy(out, txid, 32);
	out[30] ^= (uint8_t)(vout >> 8);
	out[31] ^= (uint8_t)vout;
}

/* An HTLC event of `kind` at p, within a few rounds. */
static bool await_htlc(pnode *p, al_node_htlc_kind kind, al_node_htlc_event *ev)
{
	for (int i = 0; i < 50; i++) {
		if (al_node_next_htlc_event(p->n, ev)) {
			if (ev->kind == kind)
				return true;
			continue;
		}
		settle();
	}
	return false;
}

static double mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* n payments A -> B of 1,000 sat, one at a time: an update adds the HTLC, another
 * settles it; each is a commitment_signed/revoke_and_ack round both ways. */
static void bench(const uint8_t cid[32], uint32_t expiry, int n, size_t chan_a, size_t chan_b)
{
	double *lat = calloc((size_t)n * 2, sizeof(double)), start = mono_ms(), total;
	al_node_stats sa0, sb0, sa, sb;
	al_node_htlc_event ev;
	uint8_t pre[32], hash[32];
	uint64_t hid;

	al_node_get_stats(A.n, &sa0);
	al_node_get_stats(B.n, &sb0);
	for (int i = 0; i < n; i++) {
		double t0 = mono_ms(), t1;

		memset(pre, 0, 32);
		memcpy(pre, &i, sizeof(i));
		pre[31] = 0xbe;
		al_sha256(hash, pre, 32);
		if (al_node_htlc_add(A.n, cid, al_msat_of(1000000), hash, expiry, &hid) != AL_OK)
			fail("bench: htlc add", NULL);
		settle();
		if (!await_htlc(&B, AL_NODE_HTLC_RECEIVED, &ev))
			fail("bench: B did not receive", NULL);
		t1 = mono_ms();
		if (al_node_htlc_fulfill(B.n, cid, ev.htlc_id, pre) != AL_OK)
			fail("bench: fulfill", NULL);
		settle();
		if (!await_htlc(&A, AL_NODE_HTLC_FULFILLED, &ev))
			fail("bench: A did not see the preimage", NULL);
		lat[2 * i] = t1 - t0;
		lat[2 * i + 1] = mono_ms() - t1;
	}
	total = mono_ms() - start;
	al_node_get_stats(A.n, &sa);
	al_node_get_stats(B.n, &sb);
	qsort(lat, (size_t)n * 2, sizeof(double), by_value);
	print_json("bench",
	           json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:I,s:I}", "updates", 2 * n, "seconds",
	                     total / 1e3, "updates_per_s", 2 * n / (total / 1e3), "update_p50_ms",
	                     lat[n], "update_p99_ms", lat[(size_t)(n * 2 * 99 / 100)],
	                     "durable_writes_per_update",
	                     (double)(sa.persists_durable - sa0.persists_durable +
	                              sb.persists_durable - sb0.persists_durable) /
	                         (2.0 * n),
	                     "channel_heap_bytes_a", (json_int_t)chan_a, "channel_heap_bytes_b",
	                     (json_int_t)chan_b));
	free(lat);
}

/* --- B's store, copied and rolled back (the justice scenario) ------------------------ */

static void copy_file(const char *from, const char *to)
{
	static char buf[1 << 16];
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	size_t k;

	if (!in || !out)
		fail("copy", from);
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, k, out) != k)
			fail("copy", to);
	fclose(in);
	if (fclose(out) != 0)
		fail("copy", to);
}

/* The store directory's version and objects (not its lock), from `from` to `to`; what
 * `to` held is removed first. */
static void copy_store(const char *from, const char *to)
{
	char a[700], b[700];
	struct dirent *d;
	DIR *dir;

	snprintf(b, sizeof(b), "%s/objects", to);
	if ((dir = opendir(b))) {
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.') {
				snprintf(b, sizeof(b), "%s/objects/%s", to, d->d_name);
				remove(b);
			}
		closedir(dir);
	}
	snprintf(b, sizeof(b), "mkdir -p '%s/objects'", to);
	if (system(b) != 0)
		fail("mkdir", to);
	snprintf(a, sizeof(a), "%s/global", from);
	snprintf(b, sizeof(b), "%s/global", to);
	copy_file(a, b);
	snprintf(a, sizeof(a), "%s/objects", from);
	if (!(dir = opendir(a)))
		fail("objects", from);
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.') {
			snprintf(a, sizeof(a), "%s/objects/%s", from, d->d_name);
			snprintf(b, sizeof(b), "%s/objects/%s", to, d->d_name);
			copy_file(a, b);
		}
	closedir(dir);
}

static bool resolved(pnode *p)
{
	json_t *c = the_channel(p, "/closed");
	bool r = c && json_is_true(json_object_get(c, "resolved"));

	json_decref(c);
	return r;
}

/* A force close, resolved on-chain: B's to_remote is swept at once, A's to_local once
 * to_self_delay (144 blocks, al_chan_config_default) has passed; each node's engine is
 * done at final depth (6). The tool only mines and syncs: the nodes broadcast. */
/* The HTLC in flight at the close (htlc and success scenarios), and what A heard of it. */
static const char *scenario_name;
static bool inflight, inflight_failed, inflight_fulfilled;
static uint64_t inflight_b_id; /* B's id of it */
static uint8_t inflight_hash[32], inflight_pre[32];

static void take_htlc_events(void)
{
	al_node_htlc_event ev;

	while (al_node_next_htlc_event(A.n, &ev))
		if (inflight && ev.htlc_id == UINT64_MAX && ev.amount.msat == 50000000 &&
		    !memcmp(ev.hash, inflight_hash, 32)) {
			inflight_failed |= ev.kind == AL_NODE_HTLC_FAILED;
			inflight_fulfilled |= ev.kind == AL_NODE_HTLC_FULFILLED &&
			                      !memcmp(ev.preimage, inflight_pre, 32);
		}
}

static void restart_both(void)
{
	node_close(&A);
	node_close(&B);
	node_open(&A);
	node_open(&B);
}

/* Mine and sync until both engines are done (the force, htlc and justice scenarios). */
static void resolve(void)
{
	int round;

	for (round = 0; round < 50 && !(resolved(&A) && resolved(&B)); round++) {
		/* Each engine from its record: after B's sweep went out, and after A's delay
		 * passed. */
		if (round == 2 || round == 11)
			restart_both();
		/* Past to_self_delay (and an HTLC's expiry), then past the delay of the
		 * HTLC-timeout's output. */
		mine(round == 10 || round == 20 ? 144 : 1);
		sync_both();
		sync_both();
		take_htlc_events();
	}
	json_t *ca = the_channel(&A, "/closed"), *cb = the_channel(&B, "/closed");
	json_t *wa = req_ok(&A, "POST", "/v1/wallet/walletbalance", NULL);
	json_t *wb = req_ok(&B, "POST", "/v1/wallet/walletbalance", NULL);
	print_json("resolved", json_pack("{s:o,s:o,s:o,s:o,s:i}", "a", ca, "b", cb, "wallet_a", wa,
	                                 "wallet_b", wb, "rounds", round));
	if (!resolved(&A) || !resolved(&B))
		fail("not resolved", NULL);
	if (inflight && !strcmp(scenario_name, "htlc") && !inflight_failed)
		fail("A did not hear its HTLC failed on-chain", NULL);
	if (inflight && !strcmp(scenario_name, "success") && !inflight_fulfilled)
		fail("A did not hear its HTLC fulfilled on-chain", NULL);
}

/* B, rolled back to its copy, force-closes: its commitment is revoked. A's node must
 * take every output (justice for B's to_local, its own to_remote). */
static void justice(const char *point, const char *b_copy)
{
	char target[200];
	json_t *r;

	node_close(&A);
	node_close(&B);
	copy_store(b_copy, B.dir);
	node_open(&A);
	node_open(&B);
	/* Not connected: B's channel does not learn it is behind. */
	snprintf(target, sizeof(target), "/v1/channels/%s?force=true", point);
	r = req_ok(&B, "DELETE", target, NULL);
	print_json("revoked", json_pack("{s:O}", "txid", json_object_get(r, "closing_txid")));
	json_decref(r);
	settle();
	resolve();
}

int main(int argc, char **argv)
{
	static uint8_t secp_mem[1 << 16];
	uint8_t seed[32] = {7};
	const char *scenario, *type;
	char body[512], a_id[67], b_id[67];
	json_t *r;

	if (argc < 4) {
		fprintf(stderr,
		        "usage: node_pair ESPLORA_URL DIR basic|force|htlc|success|justice|bench "
		        "[anchors|static] "
		        "[N]\n");
		return 2;
	}
	url = argv[1];
	scenario = scenario_name = argv[3];
	type = argc > 4 ? argv[4] : "anchors";
	al_rng_chacha_init(&rng_state, &rng, seed);
	if (al_secp_create(&secp, secp_mem, sizeof(secp_mem), seed) != AL_OK ||
	    al_httpc_new(&http, NULL) != AL_OK)
		fail("set-up", NULL);
	{
		al_node_shared_config sc = {.net = AL_NET_REGTEST};
		size_t n = al_node_shared_mem_size(&sc);
		static al_arena sa;
		al_arena_init(&sa, calloc(1, n), n);
		if (al_node_shared_init(&shared, &sa, &sc) != AL_OK)
			fail("shared", NULL);
	}
	{
		size_t n = al_peer_pool_size(8, 4, 65536);
		static al_arena pa;
		al_arena_init(&pa, calloc(1, n), n);
		if (al_peer_pool_init(&pool, &pa, 8, 4, 65536) != AL_OK)
			fail("pool", NULL);
	}
	memset(A.entropy, 0, 32);
	memset(B.entropy, 0xff, 32);
	snprintf(A.dir, sizeof(A.dir), "%s/a", argv[2]);
	snprintf(B.dir, sizeof(B.dir), "%s/b", argv[2]);
	A.peer = &B;
	B.peer = &A;
	node_open(&A);
	node_open(&B);
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	json_decref(req_ok(&A, "POST", "/v1/chain", body));
	json_decref(req_ok(&B, "POST", "/v1/chain", body));

	/* A's coins. */
	r = req_ok(&A, "POST", "/v1/wallet/newaddress", NULL);
	json_decref(
	    chain_post("/faucet", json_pack("{s:s,s:i}", "address",
	                                    json_string_value(json_object_get(r, "address")),
	                                    "amount_sat", 1000000)));
	json_decref(r);
	mine(1);
	sync_both();
	r = req_ok(&A, "POST", "/v1/wallet/walletbalance", NULL);
	if (jint(r, "confirmed_balance") != 1000000)
		fail("A's coins", NULL);
	json_decref(r);

	/* Connect and open. */
	r = req_ok(&A, "GET", "/v1/getinfo", NULL);
	snprintf(a_id, sizeof(a_id), "%s", json_string_value(json_object_get(r, "node_id")));
	json_decref(r);
	r = req_ok(&B, "GET", "/v1/getinfo", NULL);
	snprintf(b_id, sizeof(b_id), "%s", json_string_value(json_object_get(r, "node_id")));
	json_decref(r);
	al_node_request(A.n, AL_NODE_OPERATOR, 1, "POST", "/v1/peers", (const uint8_t *)body,
	                (size_t)snprintf(body, sizeof(body),
	                                 "{\"addr\":{\"pubkey\":\"%s\",\"host\":\"127.0.0.1:9\"}}",
	                                 b_id),
	                now_ms, wall());
	settle();
	snprintf(body, sizeof(body),
	         "{\"node_pubkey\":\"%s\",\"local_funding_amount\":500000,\"channel_type\":\"%s\"}",
	         b_id, !strcmp(type, "static") ? "static_remote_key" : "anchors");
	size_t heap_a0 = A.heap_live, heap_b0 = B.heap_live;
	r = req_ok(&A, "POST", "/v1/channels", body);
	print_json("opened",
	           json_pack("{s:O,s:O}", "funding_txid", json_object_get(r, "funding_txid_str"),
	                     "output_index", json_object_get(r, "output_index")));
	json_decref(r);
	settle();
	mine(3);
	sync_both();
	sync_both();
	json_t *ca = the_channel(&A, ""), *cb = the_channel(&B, "");
	if (!ca || !cb)
		fail("not active", A.body);
	uint8_t cid[32];
	channel_id(json_string_value(json_object_get(ca, "channel_point")), cid);
	print_json("active", json_pack("{s:O,s:O}", "a", ca, "b", cb));
	json_decref(ca);
	json_decref(cb);
	if (!strcmp(scenario, "bench")) {
		r = req_ok(&A, "POST", "/v1/wallet/sync", NULL);
		bench(cid, (uint32_t)jint(r, "tip_height") + 40, argc > 5 ? atoi(argv[5]) : 200,
		      A.heap_live - heap_a0, B.heap_live - heap_b0);
		json_decref(r);
		printf("{\"event\":\"done\"}\n");
		node_close(&A);
		node_close(&B);
		al_httpc_free(http);
		return 0;
	}

	/* An HTLC A -> B, fulfilled: 100,000 sat move. */
	uint8_t pre[32], hash[32];
	uint64_t hid;
	al_node_htlc_event ev;
	memset(pre, 0x42, 32);
	al_sha256(hash, pre, 32);
	r = req_ok(&A, "POST", "/v1/wallet/sync", NULL);
	uint32_t tip = (uint32_t)jint(r, "tip_height");
	json_decref(r);
	if (al_node_htlc_add(A.n, cid, al_msat_of(100000000), hash, tip + 40, &hid) != AL_OK)
		fail("htlc add", NULL);
	settle();
	if (!await_htlc(&B, AL_NODE_HTLC_RECEIVED, &ev) || ev.amount.msat != 100000000)
		fail("B did not receive the HTLC", NULL);
	if (al_node_htlc_fulfill(B.n, cid, ev.htlc_id, pre) != AL_OK)
		fail("fulfill", NULL);
	settle();
	if (!await_htlc(&A, AL_NODE_HTLC_FULFILLED, &ev) || memcmp(ev.preimage, pre, 32))
		fail("A did not see the preimage", NULL);
	char b_copy[600];
	snprintf(b_copy, sizeof(b_copy), "%s.copy", B.dir);
	if (!strcmp(scenario, "justice"))
		copy_store(B.dir, b_copy); /* B's commitment with 100,000 sat to B */
	/* One more, failed by B: nothing moves. */
	hash[0] ^= 1;
	if (al_node_htlc_add(A.n, cid, al_msat_of(5000000), hash, tip + 40, &hid) != AL_OK)
		fail("htlc add 2", NULL);
	settle();
	if (!await_htlc(&B, AL_NODE_HTLC_RECEIVED, &ev) || al_node_htlc_fail(B.n, cid, ev.htlc_id))
		fail("fail htlc", NULL);
	settle();
	if (!await_htlc(&A, AL_NODE_HTLC_FAILED, &ev))
		fail("A did not see the failure", NULL);

	/* Both restart from their stores, reconnect and reestablish. */
	node_close(&A);
	node_close(&B);
	node_open(&A);
	node_open(&B);
	snprintf(body, sizeof(body), "{\"addr\":{\"pubkey\":\"%s\",\"host\":\"127.0.0.1:9\"}}",
	         b_id);
	al_node_request(A.n, AL_NODE_OPERATOR, 2, "POST", "/v1/peers", (const uint8_t *)body,
	                strlen(body), now_ms, wall());
	settle();
	ca = the_channel(&A, "");
	cb = the_channel(&B, "");
	if (!ca || !cb || !json_is_true(json_object_get(ca, "active")))
		fail("not active after restart", A.body);
	print_json("paid", json_pack("{s:O,s:O}", "a", ca, "b", cb));
	char point[80];
	snprintf(point, sizeof(point), "%s",
	         json_string_value(json_object_get(ca, "channel_point")));
	json_decref(ca);
	json_decref(cb);
	if (!strcmp(scenario, "htlc") || !strcmp(scenario, "success")) {
		/* In flight at the close: A's HTLC-timeout takes it back after its expiry. */
		r = req_ok(&A, "POST", "/v1/wallet/sync", NULL);
		uint32_t expiry = (uint32_t)jint(r, "tip_height") + 40;
		json_decref(r);
		/* success: a preimage B is given only after the close. */
		memset(inflight_pre, 0x43, 32);
		if (!strcmp(scenario, "success"))
			al_sha256(hash, inflight_pre, 32);
		else
			hash[0] ^= 2;
		if (al_node_htlc_add(A.n, cid, al_msat_of(50000000), hash, expiry, &hid) != AL_OK)
			fail("htlc add 3", NULL);
		settle();
		if (!await_htlc(&B, AL_NODE_HTLC_RECEIVED, &ev) || ev.amount.msat != 50000000)
			fail("B did not receive the HTLC in flight", NULL);
		inflight_b_id = ev.htlc_id;
		settle();
		print_json("inflight",
		           json_pack("{s:i,s:i}", "amount_sat", 50000, "cltv_expiry", (int)expiry));
		inflight = true;
		memcpy(inflight_hash, hash, 32);
		take_htlc_events();
	}

	/* Close. */
	char target[200];
	*strchr(point, ':') = '/';
	if (!strcmp(scenario, "justice")) {
		justice(point, b_copy);
		printf("{\"event\":\"done\"}\n");
		node_close(&A);
		node_close(&B);
		al_httpc_free(http);
		return al_t_finish();
	}
	snprintf(target, sizeof(target), "/v1/channels/%s%s", point,
	         strcmp(scenario, "basic") ? "?force=true" : "");
	r = req_ok(&A, "DELETE", target, NULL);
	print_json("closing",
	           json_pack("{s:O}", "closing_txid", json_object_get(r, "closing_txid")));
	json_decref(r);
	settle();
	mine(1);
	sync_both();
	ca = the_channel(&A, "/closed");
	cb = the_channel(&B, "/closed");
	if (!ca || !cb)
		fail("not closed", A.body);
	json_t *wa = req_ok(&A, "POST", "/v1/wallet/walletbalance", NULL);
	json_t *wb = req_ok(&B, "POST", "/v1/wallet/walletbalance", NULL);
	print_json("closed", json_pack("{s:o,s:o,s:o,s:o}", "a", ca, "b", cb, "wallet_a", wa,
	                               "wallet_b", wb));
	if (!strcmp(scenario, "success")) {
		/* B's user settles the HTLC now: B's node must claim it on-chain. */
		if (al_node_htlc_fulfill(B.n, cid, inflight_b_id, inflight_pre) != AL_OK)
			fail("fulfill on-chain", NULL);
		settle();
	}
	if (strcmp(scenario, "basic"))
		resolve();
	printf("{\"event\":\"done\"}\n");
	node_close(&A);
	node_close(&B);
	al_httpc_free(http);
	return al_t_finish();
}
