/* Group "mega" (bench_mega.h). */
#include "bench_mega.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fake_host.h"
#include "host/httpc.h"

/* Blocks the devchain holds before the wallets open: their header chain is what the
 * first sync brings (the enclave's one copy), and what each later one would have
 * brought for itself without it. */
#define DEVCHAIN_BLOCKS 300
#define MINER           "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

static fake_host host;

/* POST /mine on the devchain until it holds at least `blocks` blocks. */
static void devchain_height(const char *url, unsigned blocks)
{
	char u[512], body[160];
	al_httpc_response res;
	al_httpc *http = NULL;
	unsigned height;

	if (al_httpc_new(&http, &(al_httpc_config){0}) != AL_OK)
		bench_fail("mega: no HTTP client", NULL);
	snprintf(u, sizeof(u), "%s/blocks/tip/height", url);
	if (al_httpc_get(http, &res, u) != AL_OK || res.status != 200)
		bench_fail("mega: the devchain does not answer", url);
	height = (unsigned)strtoul((const char *)res.body, NULL, 10);
	al_httpc_response_free(&res);
	if (height < blocks) {
		int len = snprintf(body, sizeof(body), "{\"blocks\":%u,\"address\":\"%s\"}",
		                   blocks - height, MINER);
		snprintf(u, sizeof(u), "%s/mine", url);
		if (al_httpc_post(http, &res, u, "application/json", (const uint8_t *)body,
		                  (size_t)len) != AL_OK ||
		    res.status != 200)
			bench_fail("mega: POST /mine failed", url);
		al_httpc_response_free(&res);
	}
	al_httpc_free(http);
}

static uint64_t nodes_memory(uint32_t n)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < n; i++) {
		al_enclave_node_info ni;
		if (host.ec->node_info(i, &ni) == AL_OK)
			sum += ni.memory;
	}
	return sum;
}

/* Every node opens its wallet on the devchain (POST /v1/chain, then a sync). */
static void wallets(uint32_t n, char (*words)[300], const char *url)
{
	char key[96], out[8192], body[600], why[256];
	al_enclave_stats st0, st1;
	double *ms = calloc(n, sizeof(double));
	uint64_t mem0 = nodes_memory(n);

	if (!ms)
		bench_fail("out of memory", NULL);
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	host.ec->stats(&st0);
	for (uint32_t i = 0; i < n; i++) {
		double t = bench_now();
		int status = fh_user(&host, words[i], "POST", "/v1/chain", body, out, sizeof(out),
		                     why, sizeof(why));
		fh_settle(&host);
		if (status != 200)
			bench_fail("mega: POST /v1/chain failed", status ? out : why);
		status = fh_user(&host, words[i], "POST", "/v1/wallet/sync", NULL, out, sizeof(out),
		                 why, sizeof(why));
		fh_settle(&host);
		if (status != 200 || !strstr(out, "\"tip_height\""))
			bench_fail("mega: a wallet sync failed", status ? out : why);
		ms[i] = 1e3 * (bench_now() - t);
	}
	host.ec->stats(&st1);
	snprintf(key, sizeof(key), "mega_%u_wallets_heap_used_bytes", n);
	bench_put(key, (double)st1.heap_used);
	snprintf(key, sizeof(key), "mega_%u_wallets_bytes_per_wallet", n);
	bench_put(key, (double)(st1.heap_used - st0.heap_used) / n);
	snprintf(key, sizeof(key), "mega_%u_wallets_node_own_bytes_per_wallet", n);
	bench_put(key, (double)(nodes_memory(n) - mem0) / n);
	snprintf(key, sizeof(key), "mega_%u_wallets_shared_bytes", n);
	bench_put(key, (double)st1.shared_bytes);
	snprintf(key, sizeof(key), "mega_%u_wallets_chain_height", n);
	bench_put(key, (double)st1.chain_height);
	snprintf(key, sizeof(key), "mega_%u_wallets_open_and_sync_ms_p50", n);
	bench_put(key, bench_percentile(ms, n, 50));
	free(ms);
}

static void run(uint32_t n, char *base, const char *url)
{
	char path[256], key[96], out[8192];
	al_enclave_stats st0, st1;
	double *prov = calloc(n, sizeof(double)), *start = calloc(n, sizeof(double));
	char(*words)[300] = calloc(n, 300);
	/* alightd's defaults per node: 64 peers, 16 handshakes (their tables are the node's;
	 * the connection slots are the enclave's pool, shared). */
	fh_config c = {.heap = (size_t)3 << 30,
	               .n_stores = 1,
	               .max_nodes = n,
	               .max_conns = 4,
	               .node_max_peers = 64,
	               .node_max_handshakes = 16};

	if (!prov || !start || !words)
		bench_fail("out of memory", NULL);
	snprintf(path, sizeof(path), "%s/n%u", base, n);
	c.state = path;
	c.platform_secret[0] = 1;
	if (fh_open(&host, &c) != AL_OK || fh_ctl_setup(&host) != AL_OK)
		bench_fail("mega: cannot load the enclave image", NULL);
	host.ec->stats(&st0);
	for (uint32_t i = 0; i < n; i++) {
		double t = bench_now();
		if (fh_provision(&host, NULL, words[i], out, sizeof(out)) != 200)
			bench_fail("mega: provisioning failed", out);
		prov[i] = 1e3 * (bench_now() - t);
	}
	host.ec->stats(&st1);
	snprintf(key, sizeof(key), "mega_%u_nodes_heap_used_bytes", n);
	bench_put(key, (double)st1.heap_used);
	snprintf(key, sizeof(key), "mega_%u_nodes_heap_high_bytes", n);
	bench_put(key, (double)st1.heap_high);
	snprintf(key, sizeof(key), "mega_%u_nodes_bytes_per_idle_node", n);
	bench_put(key, (double)(st1.heap_used - st0.heap_used) / n);
	snprintf(key, sizeof(key), "mega_%u_nodes_node_own_bytes", n);
	bench_put(key, (double)nodes_memory(n) / n);
	snprintf(key, sizeof(key), "mega_%u_nodes_provision_ms_p50", n);
	bench_put(key, bench_percentile(prov, n, 50));
	/* Start time: each node reopened from its anchor and records. */
	for (uint32_t i = 0; i < n; i++) {
		al_enclave_node_info ni;
		if (host.ec->node_unload(i) != AL_OK)
			bench_fail("mega: unload failed", NULL);
		double t = bench_now();
		if (host.ec->node_load(i) != AL_OK)
			bench_fail("mega: load failed", NULL);
		fh_settle(&host);
		start[i] = 1e3 * (bench_now() - t);
		if (host.ec->node_info(i, &ni) != AL_OK || ni.state != 2)
			bench_fail("mega: a reopened node is not ready", NULL);
	}
	snprintf(key, sizeof(key), "mega_%u_nodes_start_ms_p50", n);
	bench_put(key, bench_percentile(start, n, 50));
	snprintf(key, sizeof(key), "mega_%u_nodes_start_ms_p99", n);
	bench_put(key, bench_percentile(start, n, 99));
	if (url)
		wallets(n, words, url);
	fh_close(&host);
	memset(words, 0, (size_t)n * 300);
	free(words);
	free(prov);
	free(start);
}

void bench_mega(void)
{
	char base[] = "/tmp/alight-bench-mega-XXXXXX", cmd[128];
	static const uint32_t counts[] = {1, 100, 1000};
	const char *url = getenv("ALIGHT_BENCH_ESPLORA");

	if (!mkdtemp(base))
		bench_fail("mega: no temporary directory", NULL);
	if (url && url[0]) {
		devchain_height(url, DEVCHAIN_BLOCKS);
		bench_put("mega_wallets_devchain_blocks", DEVCHAIN_BLOCKS);
	} else {
		url = NULL;
		bench_put_str("mega_wallets",
		              "not measured: run scripts/bench to start alight-devchain");
	}
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		run(counts[i], base, url);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		bench_fail("mega: cannot clean up", base);
}
