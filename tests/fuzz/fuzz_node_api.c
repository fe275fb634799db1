/* A node's REST API (node/node_api.c, node_peers.c, node_wallet.c and their body
 * parsers node/api_parse.c) driven directly, as the enclave drives it: what a user or
 * the operator sends.
 *
 * Input: a first line "METHOD TARGET", then the body. The request goes to one node
 * twice, first with the operator's authority, then with the user's. The node's stores
 * answer every get "absent" and take every put (storage is not under test here); a
 * DIAL is refused by "the host", a FETCH fails at the transport. Each request must end
 * in exactly one ANSWER, a JSON object ({"error":{...}} for 4xx and 5xx), and the
 * operator must never get a 2xx from the user's routes (/v1/wallet/, /v1/seed/,
 * POST /v1/chain, channels, invoices, payments, payment requests, balances, forwarding
 * policies and history). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rng.h"
#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static al_node *node;
static al_node_shared *shared;
static al_secp *secp;
static al_rng rng;
static al_rng_chacha rng_state;
static uint64_t now = 1000;

static void *f_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return calloc(1, n);
}
static void f_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static const al_alloc heap = {f_alloc, f_free, NULL};

/* Perform every effect; count the answers for `token`. */
static size_t drive(uint64_t token, int *status)
{
	size_t answers = 0;
	al_node_fx fx;

	for (int guard = 0; guard < 10000 && al_node_next_fx(node, &fx, now); guard++) {
		switch (fx.kind) {
		case AL_NODE_FX_STORE_GET:
			al_node_store_done(node, fx.req, AL_E_STORE_NOT_FOUND, NULL, 0, 0, now);
			break;
		case AL_NODE_FX_STORE_PUT:
			al_node_store_done(node, fx.req, AL_OK, NULL, 0, 0, now);
			break;
		case AL_NODE_FX_DIAL:
			al_node_dialed(node, fx.req, AL_E_HOST_IO, 0, "refused", now);
			break;
		case AL_NODE_FX_FETCH:
			al_node_fetch_done(node, fx.req, AL_E_NET_CONNECT, 0, NULL, 0, now, 0);
			break;
		case AL_NODE_FX_ANSWER: {
			json_t *j = json_loadb((const char *)fx.data, fx.len, 0, NULL);
			if (!json_is_object(j) || fx.status < 200 || fx.status > 599 ||
			    (fx.status >= 400 && !json_is_object(json_object_get(j, "error"))))
				abort();
			json_decref(j);
			if (fx.token == token) {
				answers++;
				*status = fx.status;
			}
			break;
		}
		default:
			break;
		}
	}
	return answers;
}

static void setup(void)
{
	static uint8_t secp_mem[1 << 16], mem[1 << 20], pool_mem[1 << 20];
	static const uint8_t seed[32] = {1}, entropy[16] = {2};
	al_node_env env;
	al_node_config cfg;
	al_peer_pool *pool;
	al_arena a, pa;
	int status;

	al_rng_chacha_init(&rng_state, &rng, seed);
	if (al_secp_create(&secp, secp_mem, sizeof(secp_mem), seed) != AL_OK)
		abort();
	al_node_config_default(&cfg);
	cfg.max_peers = 2;
	cfg.max_handshakes = 1;
	al_arena_init(&pa, pool_mem, sizeof(pool_mem));
	if (al_peer_pool_init(&pool, &pa, 3, 2, 65536) != AL_OK)
		abort();
	/* What an enclave's nodes share: a wallet opens on its regtest header chain. */
	{
		al_node_shared_config sc = {.net = AL_NET_REGTEST};
		size_t len = al_node_shared_mem_size(&sc);
		void *smem = calloc(1, len);
		al_arena sa;

		if (!smem)
			abort();
		al_arena_init(&sa, smem, len);
		if (al_node_shared_init(&shared, &sa, &sc) != AL_OK)
			abort();
	}
	env = (al_node_env){secp, &rng, &heap, pool, shared};
	al_arena_init(&a, mem, sizeof(mem));
	if (al_node_init(&node, &a, &cfg, &env, entropy, sizeof(entropy), now, 0) != AL_OK)
		abort();
	drive(0, &status);
	if (al_node_get_state(node) != AL_NODE_READY)
		abort();
}

static bool user_route(const char *method, const char *target)
{
	return !strncmp(target, "/v1/wallet/", 11) || !strncmp(target, "/v1/seed/", 9) ||
	       (!strncmp(target, "/v1/chain", 9) && strcmp(method, "GET")) ||
	       !strncmp(target, "/v1/channels", 12) || !strncmp(target, "/v1/invoice", 11) ||
	       !strncmp(target, "/v1/payments", 12) || !strncmp(target, "/v1/payreq/", 11) ||
	       !strncmp(target, "/v1/balance/", 12) || !strncmp(target, "/v1/chanpolicy", 14) ||
	       !strncmp(target, "/v1/fees", 8) || !strncmp(target, "/v1/switch", 10) ||
	       !strncmp(target, "/v2/invoices/", 13);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t token = 1;
	char method[16] = "", target[300] = "";
	const uint8_t *nl = memchr(data, '\n', size), *sp;
	size_t head = nl ? (size_t)(nl - data) : size;
	int status = 0;

	if (!node)
		setup();
	sp = memchr(data, ' ', head);
	if (!sp || (size_t)(sp - data) >= sizeof(method) ||
	    head - (size_t)(sp - data) - 1 >= sizeof(target))
		return 0;
	memcpy(method, data, (size_t)(sp - data));
	memcpy(target, sp + 1, head - (size_t)(sp - data) - 1);
	if (strlen(method) != (size_t)(sp - data) ||
	    strlen(target) != head - (size_t)(sp - data) - 1)
		return 0;
	const uint8_t *body = nl ? nl + 1 : data + size;
	size_t blen = nl ? size - head - 1 : 0;
	for (int who = 0; who < 2; who++) {
		al_node_auth auth = who ? AL_NODE_USER : AL_NODE_OPERATOR;
		token++;
		al_node_request(node, auth, token, method, target, body, blen, now, 0);
		if (drive(token, &status) != 1)
			abort();
		if (auth == AL_NODE_OPERATOR && user_route(method, target) && status < 400)
			abort();
	}
	return 0;
}
