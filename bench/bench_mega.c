/* Group "mega" (bench_mega.h). */
#include "bench_mega.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fake_host.h"

static fake_host host;

static void run(uint32_t n, char *base)
{
	char path[256], key[96], out[8192];
	al_enclave_stats st0, st1;
	double *prov = calloc(n, sizeof(double)), *start = calloc(n, sizeof(double));
	/* alightd's defaults per node: 64 peers, 16 handshakes (their tables are the node's;
	 * the connection slots are the enclave's pool, shared). */
	fh_config c = {.heap = (size_t)3 << 30,
	               .n_stores = 1,
	               .max_nodes = n,
	               .max_conns = 4,
	               .node_max_peers = 64,
	               .node_max_handshakes = 16};
	uint64_t node_mem = 0;

	if (!prov || !start)
		bench_fail("out of memory", NULL);
	snprintf(path, sizeof(path), "%s/n%u", base, n);
	c.state = path;
	c.platform_secret[0] = 1;
	if (fh_open(&host, &c) != AL_OK || fh_ctl_setup(&host) != AL_OK)
		bench_fail("mega: cannot load the enclave image", NULL);
	host.ec->stats(&st0);
	for (uint32_t i = 0; i < n; i++) {
		double t = bench_now();
		if (fh_provision(&host, NULL, NULL, out, sizeof(out)) != 200)
			bench_fail("mega: provisioning failed", out);
		prov[i] = 1e3 * (bench_now() - t);
	}
	host.ec->stats(&st1);
	for (uint32_t i = 0; i < n; i++) {
		al_enclave_node_info ni;
		if (host.ec->node_info(i, &ni) == AL_OK)
			node_mem += ni.memory;
	}
	snprintf(key, sizeof(key), "mega_%u_nodes_heap_used_bytes", n);
	bench_put(key, (double)st1.heap_used);
	snprintf(key, sizeof(key), "mega_%u_nodes_heap_high_bytes", n);
	bench_put(key, (double)st1.heap_high);
	snprintf(key, sizeof(key), "mega_%u_nodes_bytes_per_idle_node", n);
	bench_put(key, (double)(st1.heap_used - st0.heap_used) / n);
	snprintf(key, sizeof(key), "mega_%u_nodes_node_own_bytes", n);
	bench_put(key, (double)node_mem / n);
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
	fh_close(&host);
	free(prov);
	free(start);
}

void bench_mega(void)
{
	char base[] = "/tmp/alight-bench-mega-XXXXXX", cmd[128];
	static const uint32_t counts[] = {1, 100, 1000};

	if (!mkdtemp(base))
		bench_fail("mega: no temporary directory", NULL);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		run(counts[i], base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		bench_fail("mega: cannot clean up", base);
}
