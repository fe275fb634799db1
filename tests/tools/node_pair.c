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
 *             A -> B as the user makes them (B's invoice, A's SendPaymentSync), one at a
 *             time: the HTLC added and fulfilled, two commitment rounds, every write
 *             durable on both nodes' directory stores (fsync) before either node speaks
 *             on; then 20 at once; prints {"event":"bench", ...} with the rates, the
 *             p50/p99 of one payment and the heap each node holds for the channel
 *   crash N   once the channel is usable, N payments A -> B of 1,000 sat (one in
 *             four failed by B), each with a node killed at one of its persistence
 *             points (every write of the update cycle in turn, either node, before the
 *             write or once it is durable but unacknowledged; every third cycle a second
 *             kill in the restart and reestablish that follow): its memory dropped, as a
 *             SIGKILL would, and the node started again from its store while the other
 *             keeps running. Every restart must reestablish, nothing may spend the
 *             funding output, A must hear every result B gave, and both nodes' balances
 *             must agree with them; then a cooperative close
 *   sigkill N [START CLTV]
 *             the crash scenario's payments with the tool itself killed (SIGKILL, both
 *             nodes at once, as an enclave process holding many nodes dies) at the
 *             K-th store write of either node after ALIGHT_KILL_AT=K:P (P 0 before it, 1
 *             once it is durable); run again with START (the next payment) and CLTV (the
 *             expiry the first life printed) it restarts both nodes from their stores,
 *             reestablishes and goes on. Every payment offered and every result heard is
 *             printed: tests/py/test_node_crash.py keeps them across lives
 *   refusals  once the channel is usable, B's node as the final hop (BOLT #4) against
 *             onions A's caller gets wrong on purpose: every refusal's code, hop and
 *             data decoded by the sender; a two-part payment; a second payment refused
 *             (tests/tools/node_pair/refusals.c)
 *   paycrash N  N payments A -> B as the user makes them (B's invoice, A's POST
 *             /v1/channels/transactions), a node killed at one of its persistence
 *             points in each: every payment ends SUCCEEDED or FAILED, exactly once, and
 *             B's invoices and both balances agree (tests/tools/node_pair/paycrash.c)
 *   fwdcrash N  N payments A -> B -> A, B forwarding, a node killed at one of its
 *             persistence points in each (tests/tools/node_pair/fwdcrash.c)
 *   paysigkill N [START]
 *             paycrash's payments with the tool itself killed (SIGKILL) at the K-th
 *             store write of either node after ALIGHT_KILL_AT=K:P, as in sigkill; run
 *             again with START it restarts both nodes from their stores and goes on;
 *             the life that gets through prints both books for the test to judge
 * Output: JSON lines, {"event": ..., ...}; the last is {"event":"done"}. Exit status 0
 * only when every check here held. */
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <signal.h>
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
#include "ln/onion.h"
#include "ln/route.h"
#include "node/node.h"
#include "test.h"
#include "util/hex.h"
#include "node_pair/pair.h"

static const char *url;
static al_httpc *http;
static al_peer_pool *pool;
al_secp *secp;
static al_node_shared *shared; /* both nodes share one header chain, as in an enclave */
al_rng rng;
static al_rng_chacha rng_state;
uint64_t now_ms = 1000;
int64_t wall_offset;
#define POLL_MS 3600000
/* The channel's funding output (crash scenario) and the broadcasts that spent it. */
static uint8_t funding_txid[32];
static uint32_t funding_vout;
static bool funding_known;
static uint64_t funding_spends;

/* The crash scenario's next kill: `victim` dies at its `at`-th store write from the
 * arming, before the batch is written (phase 0) or after it is durable but before the
 * node hears so (phase 1). In-process the node's memory is simply dropped, as a SIGKILL
 * of its process would; with `sigkill` the whole tool is killed (both nodes, as an
 * enclave process holding many nodes dies). */
static struct {
	struct pnode *victim;
	uint64_t at, seen;
	int phase;
	bool sigkill; /* kill the tool itself (the sigkill scenario) */
	bool any;     /* count the writes of both nodes, not the victim's */
	uint64_t kills;
	/* armed at the restart that follows, before the node reconnects */
	struct pnode *then_victim;
	uint64_t then_at;
	int then_phase;
} crash;
/* Requests of the tool's own (reconnects after a kill) whose answers nobody waits for. */
#define QUIET_TOKEN (1ull << 40)
static char a_id[67], b_id[67];

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

uint64_t wall(void)
{
	return (uint64_t)((int64_t)time(NULL) + wall_offset);
}

_Noreturn void fail(const char *what, const char *detail)
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

/* A transaction a node broadcasts (hex): count it if it spends the funding output. */
static void check_broadcast(const uint8_t *hex, size_t len)
{
	static uint8_t raw[1 << 17], mem[1 << 18];
	al_arena a;
	al_tx tx;
	size_t n;

	al_arena_init(&a, mem, sizeof(mem));
	if (al_hex_decode(raw, sizeof(raw), &n, (const char *)hex, len) != AL_OK ||
	    al_tx_parse(&tx, &a, raw, n) != AL_OK)
		fail("broadcast", "not a transaction");
	for (size_t i = 0; i < tx.n_in; i++)
		funding_spends +=
		    !memcmp(tx.in[i].txid, funding_txid, 32) && tx.in[i].vout == funding_vout;
}

static void do_fetch(pnode *p, const al_node_fx *fx)
{
	al_httpc_response res;
	static const al_http_field text = {"Content-Type", "text/plain"};
	bool post = fx->method && !strcmp(fx->method, "POST");
	al_err e = al_httpc_request(http, &res, post ? "POST" : "GET", fx->text,
	                            post ? &text : NULL, post ? 1 : 0, fx->data, fx->len);

	p->fetches++;
	p->posts += post;
	if (post && funding_known)
		check_broadcast(fx->data, fx->len);
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

static const uint8_t *crash_cid; /* the crash scenario's channel, once it runs */
static int crash_events_of(pnode *p, const uint8_t cid[32]);

static bool alive(const pnode *p)
{
	return p->n && !p->crashed;
}

static bool kill_node(pnode *p)
{
	crash.victim = NULL;
	crash.any = false;
	crash.kills++;
	if (crash.sigkill) {
		printf("{\"event\":\"kill\",\"node\":\"%s\",\"phase\":%d}\n", p->name, crash.phase);
		fflush(stdout);
		raise(SIGKILL);
	}
	p->crashed = true;
	return true;
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
			p->puts++;
			if ((crash.victim == p || crash.any) && ++crash.seen == crash.at &&
			    crash.phase == 0)
				return kill_node(p);
			e = al_store_dir_backend.put_batch(p->store, fx.items, fx.n_items,
			                                   fx.global_version);
			if ((crash.victim == p || crash.any) && crash.seen == crash.at)
				return kill_node(p);
			al_node_store_done(p->n, fx.req, e, NULL, 0, 0, now_ms);
			break;
		case AL_NODE_FX_ANSWER:
			if (fx.token >= QUIET_TOKEN)
				break;
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
			if (!alive(p->peer)) {
				al_node_dialed(p->n, fx.req, AL_E_ARG, 0, "peer down", now_ms);
				break;
			}
			if (al_node_net_accept(p->peer->n, 1, "127.0.0.1:1", now_ms) != AL_OK)
				fail("accept", p->name);
			al_node_dialed(p->n, fx.req, AL_OK, 1, NULL, now_ms);
			break;
		case AL_NODE_FX_NET_SEND:
			/* Bytes to a dead node are lost; its restart closes the connection. */
			if (!alive(p->peer))
				break;
			if (al_node_net_recv(p->peer->n, 1, fx.data, fx.len, &used, now_ms) !=
			    AL_OK)
				used = 0;
			al_node_net_sent(p->n, fx.conn, used, now_ms);
			if (used < fx.len)
				al_node_net_writable(p->n, fx.conn, now_ms);
			break;
		case AL_NODE_FX_NET_CLOSE:
			al_node_net_closed(p->n, fx.conn, "closed", now_ms);
			if (alive(p->peer))
				al_node_net_closed(p->peer->n, 1, "peer closed", now_ms);
			break;
		case AL_NODE_FX_LOG:
			fprintf(stderr, "%s: %s\n", p->name, fx.text);
			break;
		default:
			break;
		}
		/* The crash scenario's user takes each HTLC event as it comes: a result must
		 * be told before any write that forgets it, or a kill at that write loses it. */
		if (crash_cid)
			crash_events_of(p, crash_cid);
	}
	return any;
}

pnode A = {.name = "A"}, B = {.name = "B"};

static void node_open(pnode *p);
static void node_close(pnode *p);
static void revive(pnode *p);

void settle(void)
{
	for (int i = 0; i < 200; i++) {
		bool a = alive(&A) && step(&A), b;

		revive(&A);
		b = alive(&B) && step(&B);
		revive(&B);
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
	/* The tool syncs when it mined; a node polls on its own only when the tool moves
	 * its clock by POLL_MS. */
	cfg.chain_poll_ms = POLL_MS;
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

/* A dials B, as A's operator would after a restart of either. */
void reconnect(void)
{
	static uint64_t token = QUIET_TOKEN;
	char body[200];

	if (!b_id[0]) { /* a life started from the stores */
		json_t *r = req_ok(&B, "GET", "/v1/getinfo", NULL);
		snprintf(b_id, sizeof(b_id), "%s",
		         json_string_value(json_object_get(r, "node_id")));
		json_decref(r);
	}
	snprintf(body, sizeof(body), "{\"addr\":{\"pubkey\":\"%s\",\"host\":\"127.0.0.1:9\"}}",
	         b_id);
	al_node_request(A.n, AL_NODE_OPERATOR, ++token, "POST", "/v1/peers", (const uint8_t *)body,
	                strlen(body), now_ms, wall());
}

/* A node killed at a persistence point starts again from its store: its peer sees the
 * connection drop, and A dials B once both are up. */
static void revive(pnode *p)
{
	if (!p->crashed)
		return;
	if (alive(p->peer))
		al_node_net_closed(p->peer->n, 1, "peer died", now_ms);
	node_close(p);
	p->crashed = false;
	node_open(p);
	if (crash.then_victim) {
		crash.victim = crash.then_victim;
		crash.at = crash.then_at;
		crash.phase = crash.then_phase;
		crash.seen = 0;
		crash.then_victim = NULL;
	}
	if (alive(&A) && alive(&B))
		reconnect();
}

/* One request; the answer's JSON (or NULL when none came). */
json_t *req(pnode *p, const char *method, const char *target, const char *body)
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

json_t *req_ok(pnode *p, const char *method, const char *target, const char *body)
{
	json_t *r = req(p, method, target, body);
	if (p->status != 200 || !r)
		fail(target, p->body);
	return r;
}

void sync_both(void)
{
	json_decref(req_ok(&A, "POST", "/v1/wallet/sync", NULL));
	json_decref(req_ok(&B, "POST", "/v1/wallet/sync", NULL));
	settle();
}

uint64_t jint(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

void print_json(const char *event, json_t *o)
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
bool await_htlc(pnode *p, al_node_htlc_kind kind, al_node_htlc_event *ev)
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

/* The payment secret of a hold invoice for `hash`: it follows from the hash, so a tool
 * killed and run again knows it. */
static void secret_of(uint8_t secret[32], const uint8_t hash[32])
{
	uint8_t buf[33];

	memcpy(buf, hash, 32);
	buf[32] = 's';
	al_sha256(secret, buf, sizeof(buf));
}

/* `to` holds a hold invoice for `hash` (the scenario settles or fails what arrives),
 * durable before the payment starts. */
static void hold_for(pnode *to, const uint8_t hash[32], uint64_t msat)
{
	uint8_t secret[32];
	al_err e;

	secret_of(secret, hash);
	e = al_node_hold_invoice(to->n, hash, al_msat_of(msat), 18, 86400, secret);
	if (e != AL_OK && e != AL_E_NODE_INVOICE_EXISTS)
		fail("hold invoice", al_err_str(e));
	settle();
}

/* An HTLC paying `from`'s channel peer: the one-hop onion BOLT #4 builds for it. */
static al_err pay_peer(pnode *from, const uint8_t cid[32], uint64_t msat, const uint8_t hash[32],
                       uint32_t expiry, uint64_t *id)
{
	uint8_t secret[32], onion[AL_ONION_LEN], ss[1][32];
	al_privkey session;
	al_route r;
	al_err e;

	memset(&r, 0, sizeof(r));
	r.n = 1;
	al_node_id(from->peer->n, r.hops[0].node_id);
	r.amount_msat[0] = msat;
	r.cltv_expiry[0] = expiry;
	secret_of(secret, hash);
	do {
		if (al_rng_fill(&rng, session.k, 32) != AL_OK)
			fail("rng", NULL);
	} while (!al_privkey_valid(secp, &session));
	e = al_route_onion(onion, ss, secp, &session, &r, hash, secret, msat, NULL, 0);
	al_privkey_clear(&session);
	if (e != AL_OK)
		return e;
	return al_node_htlc_add(from->n, cid, al_msat_of(msat), hash, expiry, onion, id);
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

/* One invoice of B's for 1,000 sat: the body of A's SendPaymentSync paying it. */
static void invoice_body(char *body, size_t cap)
{
	json_t *r = req_ok(&B, "POST", "/v1/invoices", "{\"value\":1000}");

	snprintf(body, cap, "{\"payment_request\":\"%s\"}",
	         json_string_value(json_object_get(r, "payment_request")));
	json_decref(r);
}

/* Payments A -> B of 1,000 sat as the user makes them (B's invoice, A's POST
 * /v1/channels/transactions): n one at a time, each timed from the request to its answer
 * (the HTLC added, fulfilled, and both commitment rounds durable on both nodes); then a
 * burst of `burst` requests at once, which the channel carries in shared commitment
 * updates and the nodes in shared writes. */
static void bench(int n, int burst, size_t chan_a, size_t chan_b)
{
	double *lat = calloc((size_t)n, sizeof(double)), total = 0, t0;
	al_node_stats sa0, sb0, sa, sb;
	char body[1200];
	json_t *ca = NULL, *cb = NULL;
	size_t before;

	al_node_get_stats(A.n, &sa0);
	al_node_get_stats(B.n, &sb0);
	for (int i = 0; i < n; i++) {
		json_t *r;

		invoice_body(body, sizeof(body));
		t0 = mono_ms();
		r = req_ok(&A, "POST", "/v1/channels/transactions", body);
		lat[i] = mono_ms() - t0;
		total += lat[i];
		if (strcmp(json_string_value(json_object_get(r, "payment_error")), "") != 0)
			fail("bench: a payment failed", A.body);
		json_decref(r);
	}
	al_node_get_stats(A.n, &sa);
	al_node_get_stats(B.n, &sb);
	char(*bodies)[1200] = calloc((size_t)burst, sizeof(*bodies));
	for (int i = 0; i < burst; i++)
		invoice_body(bodies[i], sizeof(bodies[i]));
	before = A.answers;
	t0 = mono_ms();
	for (int i = 0; i < burst; i++)
		al_node_request(A.n, AL_NODE_USER, 1000 + (uint64_t)i, "POST",
		                "/v1/channels/transactions", (const uint8_t *)bodies[i],
		                strlen(bodies[i]), now_ms, wall());
	free(bodies);
	for (int i = 0; i < 100 && A.answers < before + (size_t)burst; i++)
		settle();
	t0 = mono_ms() - t0;
	if (A.answers != before + (size_t)burst || !crash_quiet(&ca, &cb) ||
	    jint(cb, "local_balance") != (uint64_t)(n + burst) * 1000)
		fail("bench: not every payment arrived", NULL);
	json_decref(ca);
	json_decref(cb);
	qsort(lat, (size_t)n, sizeof(double), by_value);
	print_json("bench", json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:i,s:f,s:I,s:I}", "payments", n,
	                              "seconds", total / 1e3, "payments_per_s", n / (total / 1e3),
	                              "payment_p50_ms", lat[n / 2], "payment_p99_ms",
	                              lat[(size_t)(n * 99 / 100)], "durable_writes_per_payment",
	                              (double)(sa.persists_durable - sa0.persists_durable +
	                                       sb.persists_durable - sb0.persists_durable) /
	                                  n,
	                              "burst", burst, "burst_payments_per_s", burst / (t0 / 1e3),
	                              "channel_heap_bytes_a", (json_int_t)chan_a,
	                              "channel_heap_bytes_b", (json_int_t)chan_b));
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

/* A closes the channel at `point` (TXID/VOUT); one block confirms the closing
 * transaction (or commitment), and both nodes have synced it. b_polls: B learns of the
 * close from the chain alone, and must come back to it on its own. */
static void close_channel(const char *point, bool force, bool b_polls)
{
	char target[200];
	json_t *r, *ca, *cb, *wa, *wb;

	snprintf(target, sizeof(target), "/v1/channels/%s%s", point, force ? "?force=true" : "");
	r = req_ok(&A, "DELETE", target, NULL);
	print_json("closing",
	           json_pack("{s:O}", "closing_txid", json_object_get(r, "closing_txid")));
	json_decref(r);
	settle();
	mine(1);
	sync_both();
	if (b_polls) {
		/* B heard of the close once its record was durable, after the chain pass that
		 * saw the commitment: its own next poll must start its engine, which sweeps
		 * B's to_remote at once. (An alightd with nothing else to make it look at the
		 * chain again sat idle here: a CI run against Electrum caught it.) */
		uint64_t b_posts = B.posts;

		now_ms += POLL_MS;
		al_node_timer(B.n, now_ms, wall());
		settle();
		if (B.posts == b_posts)
			fail("B's node did not poll the chain to resolve the force close", NULL);
	}
	ca = the_channel(&A, "/closed");
	cb = the_channel(&B, "/closed");
	if (!ca || !cb)
		fail("not closed", A.body);
	wa = req_ok(&A, "POST", "/v1/wallet/walletbalance", NULL);
	wb = req_ok(&B, "POST", "/v1/wallet/walletbalance", NULL);
	print_json("closed", json_pack("{s:o,s:o,s:o,s:o}", "a", ca, "b", cb, "wallet_a", wa,
	                               "wallet_b", wb));
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

/* --- kills at every persistence point (the crash scenario) --------------------------- */

#define CRASH_PAY_SAT 1000

typedef struct cpay {
	uint8_t pre[32], hash[32];
	pnode *from;            /* the sender: A, or B once it has more than its reserve */
	bool fulfill;           /* the receiver's answer: fulfill, or fail */
	bool fulfilled, failed; /* what the sender heard */
	bool sender_killed;     /* the sender died during its cycle */
	bool held;              /* received while its channel was not reestablished */
	uint64_t held_id;
} cpay;

void crash_arm(pnode *victim, uint64_t at, int phase)
{
	crash.victim = victim;
	crash.at = at;
	crash.phase = phase;
	crash.seen = 0;
}

void crash_disarm(void)
{
	crash.victim = NULL;
	crash.any = false;
}

uint64_t crash_kills(void)
{
	return crash.kills;
}

static cpay *cpays;
static int n_cpays;

static cpay *pay_of(const uint8_t hash[32])
{
	for (int i = 0; i < n_cpays; i++)
		if (!memcmp(cpays[i].hash, hash, 32))
			return &cpays[i];
	return NULL;
}

/* What a node said of the HTLCs (at least once: again after each restart): what it
 * received it resolves as the payment says; the results of what it sent are checked
 * and kept. The number of events taken. */
/* The receiver's answer to an HTLC; one received before the channel is reestablished
 * (replayed at a restart) waits for it. */
static void crash_resolve(pnode *p, const uint8_t cid[32], cpay *y, uint64_t id)
{
	al_err e = y->fulfill ? al_node_htlc_fulfill(p->n, cid, id, y->pre)
	                      : al_node_htlc_fail(p->n, cid, id);

	y->held = e == AL_E_CHAN_NOT_CONNECTED;
	y->held_id = id;
	if (e != AL_OK && !y->held)
		fail("crash: could not resolve an HTLC", al_err_str(e));
}

static int crash_events_of(pnode *p, const uint8_t cid[32])
{
	al_node_htlc_event ev;
	int k = 0;

	for (int i = 0; i < n_cpays && alive(p); i++)
		if (cpays[i].held && cpays[i].from != p)
			crash_resolve(p, cid, &cpays[i], cpays[i].held_id);
	while (alive(p) && al_node_next_htlc_event(p->n, &ev)) {
		cpay *y = pay_of(ev.hash);

		k++;
		if (!y || ev.amount.msat != CRASH_PAY_SAT * 1000)
			fail("crash: an HTLC nobody sent", p->name);
		if (ev.kind == AL_NODE_HTLC_RECEIVED) {
			if (y->from == p)
				fail("crash: a node received its own HTLC", p->name);
			crash_resolve(p, cid, y, ev.htlc_id);
			continue;
		}
		if (y->from != p)
			fail("crash: a result for an HTLC the node did not send", p->name);
		if (crash.sigkill) /* the test keeps what the tool's next life will not know */
			printf("{\"event\":\"result\",\"i\":%d,\"r\":\"%s\"}\n", (int)(y - cpays),
			       ev.kind == AL_NODE_HTLC_FULFILLED ? "fulfilled" : "failed");
		if (ev.kind == AL_NODE_HTLC_FULFILLED) {
			if (!y->fulfill || memcmp(ev.preimage, y->pre, 32))
				fail("crash: a fulfill the receiver never gave", p->name);
			y->fulfilled = true;
		} else {
			if (y->fulfill)
				fail("crash: an HTLC fulfilled came back failed", p->name);
			y->failed = true;
		}
	}
	return k;
}

static int crash_events(const uint8_t cid[32])
{
	int k = crash_events_of(&A, cid);
	return k + crash_events_of(&B, cid);
}

void tick(void)
{
	now_ms += 1000;
	al_node_timer(A.n, now_ms, wall());
	al_node_timer(B.n, now_ms, wall());
}

bool crash_quiet(json_t **ca, json_t **cb)
{
	*ca = the_channel(&A, "");
	*cb = the_channel(&B, "");
	return *ca && *cb && json_is_true(json_object_get(*ca, "active")) &&
	       json_is_true(json_object_get(*cb, "active")) && jint(*ca, "pending_htlcs") == 0 &&
	       jint(*cb, "pending_htlcs") == 0;
}

/* One payment until both nodes are quiet again, through the kills armed. */
static void crash_cycle(const uint8_t cid[32], cpay *y, uint32_t expiry)
{
	uint64_t hid, kills = crash.kills;
	json_t *ca = NULL, *cb = NULL;
	al_err e;

	/* Before "adding": a kill at its write loses no payment (the next life makes it
	 * again, or finds it made). */
	hold_for(y->from->peer, y->hash, CRASH_PAY_SAT * 1000);
	if (crash.sigkill) {
		printf("{\"event\":\"adding\",\"i\":%d}\n", (int)(y - cpays));
		fflush(stdout);
	}
	e = pay_peer(y->from, cid, CRASH_PAY_SAT * 1000, y->hash, expiry, &hid);
	if (e != AL_OK)
		fail("crash: htlc add", al_err_str(e));
	for (int round = 0;; round++) {
		if (round == 100)
			fail("crash: the channel did not come back", A.body);
		settle();
		if (crash_events(cid))
			continue;
		/* Idle with a kill still armed: the cycle wrote fewer times than that. */
		crash.victim = crash.then_victim = NULL;
		json_decref(ca);
		json_decref(cb);
		if (crash_quiet(&ca, &cb) && (y->fulfilled || y->failed || crash.kills > kills))
			break;
		tick();
	}
	json_decref(ca);
	json_decref(cb);
}

/* n payments of 1,000 sat, three in four A -> B and one B -> A once B can pay (one in
 * four failed by the receiver), each cycle with a node killed at one of its
 * persistence points: every write of the cycle in turn, either node, before the write
 * or after it (durable, unacknowledged), and every third cycle a second kill among the
 * writes of the restart and reestablish that follow. Checked: every restart
 * reestablishes (no force close; nothing spends the funding output), each sender hears
 * every result its receiver gave, and both nodes' balances agree with those results. */
/* The payments of n cycles and the two that count the writes: preimages, directions and
 * answers follow from the index alone, so a tool killed and run again knows them. */
static void crash_pays(int n)
{
	cpays = calloc((size_t)n + 2, sizeof(*cpays));
	for (int i = 0; i < n + 2; i++) {
		cpay *y = &cpays[n_cpays++];

		memset(y->pre, 0x5c, 32);
		memcpy(y->pre, &i, sizeof(i));
		al_sha256(y->hash, y->pre, 32);
		y->fulfill = i % 4 != 3;
		/* B pays from cycle 40 on: by then A has paid it well above its reserve. */
		y->from = i % 4 == 1 && i >= 40 ? &B : &A;
	}
}

static void crash_run(const uint8_t cid[32], uint32_t expiry, int n)
{
	uint64_t span[2] = {0, 0}, spends0 = funding_spends;
	int fulfilled[2] = {0, 0}, failed = 0, forgotten = 0;
	json_t *ca = NULL, *cb = NULL;
	int64_t a0, b0, moved;

	crash_pays(n);
	crash_cid = cid;
	if (!crash_quiet(&ca, &cb))
		fail("crash: not quiet at the start", NULL);
	a0 = (int64_t)jint(ca, "local_balance");
	b0 = (int64_t)jint(cb, "local_balance");
	json_decref(ca);
	json_decref(cb);
	for (int i = 0; i < n_cpays; i++) {
		cpay *y = &cpays[i];

		if (i >= 2) {
			/* Each node's writes in one cycle, counted in the first two (one
			 * fulfilled, one failed), and one more: a kill past the end shows the
			 * cycle's count holds. */
			int k = i - 2;
			pnode *v = k & 1 ? &B : &A;

			crash.victim = v;
			crash.phase = (k >> 1) & 1;
			crash.at = 1 + (uint64_t)(k >> 2) % (span[v == &B] + 1);
			crash.seen = 0;
			if (k % 3 == 0) {
				crash.then_victim = k % 2 ? &A : &B;
				crash.then_at = 1 + (uint64_t)(k / 3) % 3;
				crash.then_phase = (k / 6) & 1;
			}
			y->sender_killed = v == y->from;
		}
		{
			uint64_t pa = A.puts, pb = B.puts;

			crash_cycle(cid, y, expiry);
			if (i < 2) {
				span[0] = A.puts - pa > span[0] ? A.puts - pa : span[0];
				span[1] = B.puts - pb > span[1] ? B.puts - pb : span[1];
			}
		}
	}
	crash_events(cid);
	crash_cid = NULL;
	for (int i = 0; i < n_cpays; i++) {
		const cpay *y = &cpays[i];

		fulfilled[y->from == &B] += y->fulfilled;
		failed += y->failed;
		/* Only a kill of the sender can make it forget an HTLC it offered (not yet
		 * durable, so never sent); the receiver cannot forget one it received. */
		if (!y->fulfilled && !y->failed) {
			if (!y->sender_killed)
				fail("crash: an HTLC vanished without its sender dying", NULL);
			forgotten++;
		}
	}
	if (!crash_quiet(&ca, &cb))
		fail("crash: not quiet at the end", NULL);
	moved = (int64_t)(fulfilled[0] - fulfilled[1]) * CRASH_PAY_SAT;
	print_json("crashes",
	           json_pack("{s:i,s:I,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:O,s:O}", "cycles", n_cpays,
	                     "kills", (json_int_t)crash.kills, "fulfilled_a_to_b", fulfilled[0],
	                     "fulfilled_b_to_a", fulfilled[1], "failed", failed, "forgotten",
	                     forgotten, "moved_sat", (json_int_t)moved, "writes_per_cycle_a",
	                     (json_int_t)span[0], "writes_per_cycle_b", (json_int_t)span[1], "a",
	                     ca, "b", cb));
	if ((int64_t)jint(ca, "local_balance") != a0 - moved ||
	    (int64_t)jint(cb, "local_balance") != b0 + moved ||
	    jint(ca, "remote_balance") != jint(cb, "local_balance") ||
	    jint(cb, "remote_balance") != jint(ca, "local_balance"))
		fail("crash: the balances disagree with what the senders heard", NULL);
	if (funding_spends != spends0)
		fail("crash: a node broadcast a commitment", NULL);
	json_decref(ca);
	json_decref(cb);
	free(cpays);
}

/* --- the tool itself killed (the sigkill scenario) ------------------------------------ */

/* ALIGHT_KILL_AT=K:P: this life dies by SIGKILL at the K-th store write of either node from
 * here on, before it (P 0) or once it is durable (P 1). */
void sigkill_arm(void)
{
	const char *at = getenv("ALIGHT_KILL_AT");

	crash.sigkill = true;
	if (!at || !strchr(at, ':'))
		return;
	crash.any = true;
	crash.at = strtoull(at, NULL, 10);
	crash.phase = atoi(strchr(at, ':') + 1);
	crash.seen = 0;
}

/* One life of the tool on the nodes' stores: restart (when start > 0), reconnect and
 * reestablish, then the cycles from `start` on, each payment and result printed for the
 * test, which keeps them across lives; the life that gets through all n cycles closes the
 * channel cooperatively. */
static int sigkill_life(int n, int start, uint32_t expiry, bool resumed)
{
	json_t *r, *ca = NULL, *cb = NULL;
	uint8_t cid[32];
	char point[80];

	r = req_ok(&B, "GET", "/v1/getinfo", NULL);
	snprintf(b_id, sizeof(b_id), "%s", json_string_value(json_object_get(r, "node_id")));
	json_decref(r);
	crash_pays(n);
	/* The channel as the stores have it, before anything moves: this life takes every HTLC
	 * event as it comes from the start, also during the reconnect (a node settles what its
	 * book says is paid by itself; a result told then and forgotten at a kill that follows
	 * would be lost to the test). */
	if (!(ca = the_channel(&A, "")))
		fail("sigkill: A has no channel", NULL);
	snprintf(point, sizeof(point), "%s",
	         json_string_value(json_object_get(ca, "channel_point")));
	json_decref(ca);
	ca = NULL;
	channel_id(point, cid);
	crash_cid = cid;
	/* A node started again looks at the chain (its poll would): the funding depth a write
	 * lost with the last life counts for the channel's readiness. */
	if (resumed)
		sync_both();
	reconnect();
	for (int round = 0; !ca || !json_is_true(json_object_get(ca, "active")); round++) {
		if (round == 100)
			fail("sigkill: the channel did not come back", NULL);
		json_decref(ca);
		settle();
		ca = the_channel(&A, "");
		tick();
	}
	json_decref(ca);
	for (int round = 0;; round++) {
		if (round == 100)
			fail("sigkill: not quiet after the restart", NULL);
		settle();
		crash_events(cid);
		if (crash_quiet(&ca, &cb))
			break;
		json_decref(ca);
		json_decref(cb);
		tick();
	}
	json_decref(ca);
	json_decref(cb);
	for (int i = start; i < n_cpays; i++)
		crash_cycle(cid, &cpays[i], expiry);
	crash.any = false; /* the close is not the update cycle */
	crash_events(cid);
	if (!crash_quiet(&ca, &cb))
		fail("sigkill: not quiet at the end", NULL);
	print_json("final", json_pack("{s:O,s:O}", "a", ca, "b", cb));
	json_decref(ca);
	json_decref(cb);
	crash_cid = NULL;
	*strchr(point, ':') = '/';
	close_channel(point, false, false);
	printf("{\"event\":\"done\"}\n");
	node_close(&A);
	node_close(&B);
	al_httpc_free(http);
	free(cpays);
	return al_t_finish();
}

/* Both nodes closed, the HTTP client freed: the tool's normal end. */
static int finish(void)
{
	node_close(&A);
	node_close(&B);
	al_httpc_free(http);
	return al_t_finish();
}

int main(int argc, char **argv)
{
	static uint8_t secp_mem[1 << 16];
	uint8_t seed[32] = {7};
	const char *scenario, *type;
	char body[512];
	json_t *r;

	if (argc < 4) {
		fprintf(stderr,
		        "usage: node_pair ESPLORA_URL DIR "
		        "basic|force|htlc|success|justice|bench|crash|sigkill|refusals|paycrash|"
		        "paysigkill [anchors|static] "
		        "[N [START CLTV]]\n");
		return 2;
	}
	url = argv[1];
	scenario = scenario_name = argv[3];
	type = argc > 4 ? argv[4] : "anchors";
	/* Each life of paysigkill its own randomness (invoices, session keys): a life that
	 * starts where the last one died must not make the same invoice again. */
	if (!strcmp(scenario, "paysigkill") && argc > 6) {
		const char *at = getenv("ALIGHT_KILL_AT");
		al_sha256_ctx h;
		al_sha256_init(&h);
		al_sha256_update(&h, argv[6], strlen(argv[6]));
		if (at)
			al_sha256_update(&h, at, strlen(at));
		al_sha256_final(&h, seed);
	}
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
	if (!strcmp(scenario, "sigkill") && argc > 7) {
		sigkill_arm();
		node_open(&A);
		node_open(&B);
		return sigkill_life(atoi(argv[5]), atoi(argv[6]), (uint32_t)atoi(argv[7]), true);
	}
	if (!strcmp(scenario, "paysigkill") && argc > 6) {
		sigkill_arm();
		node_open(&A);
		node_open(&B);
		paysigkill_life(atoi(argv[5]), atoi(argv[6]), true);
		return finish();
	}
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
	if (!strcmp(scenario, "refusals") || !strcmp(scenario, "paycrash") ||
	    !strcmp(scenario, "fwdcrash")) {
		if (!strcmp(scenario, "refusals"))
			refusals(cid);
		else if (!strcmp(scenario, "paycrash"))
			paycrash(argc > 5 ? atoi(argv[5]) : 60);
		else
			fwdcrash(argc > 5 ? atoi(argv[5]) : 40);
		printf("{\"event\":\"done\"}\n");
		return finish();
	}
	if (!strcmp(scenario, "crash")) {
		char point[80];

		r = req_ok(&A, "POST", "/v1/wallet/sync", NULL);
		ca = the_channel(&A, "");
		snprintf(point, sizeof(point), "%s",
		         json_string_value(json_object_get(ca, "channel_point")));
		json_decref(ca);
		*strchr(point, ':') = 0;
		if (al_txid_from_hex(funding_txid, point) != AL_OK)
			fail("channel point", point);
		funding_vout = (uint32_t)atoi(point + 65);
		funding_known = true;
		crash_run(cid, (uint32_t)jint(r, "tip_height") + 40,
		          argc > 5 ? atoi(argv[5]) : 400);
		json_decref(r);
		point[64] = '/';
		close_channel(point, false, false);
		printf("{\"event\":\"done\"}\n");
		return finish();
	}
	if (!strcmp(scenario, "sigkill")) {
		uint32_t expiry;

		r = req_ok(&A, "POST", "/v1/wallet/sync", NULL);
		expiry = (uint32_t)jint(r, "tip_height") + 40;
		json_decref(r);
		printf("{\"event\":\"expiry\",\"cltv\":%u}\n", expiry);
		sigkill_arm();
		return sigkill_life(argc > 5 ? atoi(argv[5]) : 100, 0, expiry, false);
	}
	if (!strcmp(scenario, "paysigkill")) {
		sigkill_arm();
		paysigkill_life(argc > 5 ? atoi(argv[5]) : 24, 0, false);
		return finish();
	}
	if (!strcmp(scenario, "bench")) {
		bench(argc > 5 ? atoi(argv[5]) : 200, 20, A.heap_live - heap_a0,
		      B.heap_live - heap_b0);
		printf("{\"event\":\"done\"}\n");
		return finish();
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
	hold_for(&B, hash, 100000000);
	if (pay_peer(&A, cid, 100000000, hash, tip + 40, &hid) != AL_OK)
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
	hold_for(&B, hash, 5000000);
	if (pay_peer(&A, cid, 5000000, hash, tip + 40, &hid) != AL_OK)
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
		hold_for(&B, hash, 50000000);
		if (pay_peer(&A, cid, 50000000, hash, expiry, &hid) != AL_OK)
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
	*strchr(point, ':') = '/';
	if (!strcmp(scenario, "force")) {
		/* B is gone when A closes: it learns of the close from the chain alone. */
		al_node_net_closed(A.n, 1, "peer gone", now_ms);
		al_node_net_closed(B.n, 1, "peer gone", now_ms);
		settle();
	}
	if (!strcmp(scenario, "justice")) {
		justice(point, b_copy);
		printf("{\"event\":\"done\"}\n");
		return finish();
	}
	close_channel(point, strcmp(scenario, "basic") != 0, !strcmp(scenario, "force"));
	if (!strcmp(scenario, "success")) {
		/* B's user settles the HTLC now: B's node must claim it on-chain. */
		if (al_node_htlc_fulfill(B.n, cid, inflight_b_id, inflight_pre) != AL_OK)
			fail("fulfill on-chain", NULL);
		settle();
	}
	if (strcmp(scenario, "basic"))
		resolve();
	printf("{\"event\":\"done\"}\n");
	return finish();
}
