/* alight-devchain's Esplora API (apps/alight-devchain/esplora.c through devchain.h's
 * dc_http_handler): request routing, path parameters (/tx/:txid/outspend/:vout,
 * /block-height/:height, /block/:hash/txs/:start, /address/:addr/txs/chain/:last_seen)
 * and the JSON bodies of POST /mine, /faucet and /reorg, plus POST /tx hex.
 *
 * Input: "METHOD TARGET\n" then the body. The chain lives in a scratch directory for
 * the whole run, starts with 110 blocks (so the faucet has mature coins) and a fixed
 * extranonce, so its coinbase transactions have the same ids on every run. To keep
 * runs short, /mine and /reorg asking for more than 6 blocks are skipped, and so is
 * any /mine once this run has mined 1,000 blocks.
 *
 * Every request gets an answer, never a 5xx (the devchain's own failures), and every
 * JSON answer parses. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app_server.h"
#include "devchain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEP  6
#define MAX_MINED 1000

static app_server server;
static dc_chain chain;
static bool ready;
static long mined;

static void cleanup(void)
{
	app_server_stop(&server);
	dc_close(&chain);
}

static void setup(void)
{
	uint8_t(*hashes)[32];

	if (ready)
		return;
	app_server_mkdir(&server);
	if (dc_open(&chain, server.dir) != 0)
		abort();
	chain.extranonce = 1;
	hashes = malloc(110 * sizeof(*hashes));
	if (hashes == NULL ||
	    !dc_mine(&chain, 110, chain.faucet_script, sizeof(chain.faucet_script), hashes))
		abort();
	free(hashes);
	app_server_start(&server, dc_http_handler, &chain, 1u << 20);
	atexit(cleanup);
	ready = true;
}

/* Whether a /mine or /reorg body stays within this run's budget (bodies that are not
 * JSON objects go through: the handler refuses them). */
static bool within_budget(const char *target, const uint8_t *body, size_t len)
{
	bool mine = strstr(target, "/mine") != NULL, reorg = strstr(target, "/reorg") != NULL;
	json_t *j;
	json_int_t n;

	if (!mine && !reorg)
		return true;
	j = json_loadb((const char *)body, len, 0, NULL);
	n = json_integer_value(json_object_get(j, mine ? "blocks" : "depth"));
	json_decref(j);
	if (n > MAX_STEP || (mine && mined >= MAX_MINED))
		return false;
	mined += n > 0 ? n + reorg : 0;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[32], target[512];
	const uint8_t *body;
	size_t body_len;
	al_httpc_response res;
	const char *type;

	setup();
	if (!app_server_line(data, size, method, target, &body, &body_len) ||
	    strcmp(method, "HEAD") == 0 || !within_budget(target, body, body_len))
		return 0;
	if (app_server_request(&server, &res, method, target, NULL, 0, body, body_len) != AL_OK)
		return 0;
	if (res.status >= 500)
		abort();
	type = al_httpc_header(&res, "Content-Type");
	if (type != NULL && strcmp(type, "application/json") == 0) {
		json_t *j = json_loadb((const char *)res.body, res.body_len, 0, NULL);

		if (j == NULL)
			abort();
		json_decref(j);
	}
	al_httpc_response_free(&res);
	return 0;
}
