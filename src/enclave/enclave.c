/* The enclave's entry point and life cycle: the one exported symbol, the ecall table,
 * init (the heap, the libraries routed to it, the entropy, the secp256k1 context, the
 * shared connection pool), shutdown and stats. Every ecall copies its arguments in
 * before anything looks at them; the nodes are in nodes.c, the user channels in
 * ctl.c. */
#include <jansson.h>
#include <openssl/crypto.h>
#include <string.h>

#include "util/mem.h"
#include "enclave/enclave_int.h"
#include "enclave/rt.h"

al_enclave al_enc;

/* --- services the other files use ---------------------------------------------- */

void al_enc_tick(void)
{
	uint64_t mono = 0, wall = 0;
	al_enc.oc.time_now(al_enc.oc.host, &mono, &wall);
	/* The host's clock is a hint: never let it run backwards for the core. */
	if (mono > al_enc.now_ms)
		al_enc.now_ms = mono;
	if (wall > al_enc.wall_s)
		al_enc.wall_s = wall;
}

/* One log line "<a><b><c>" without any formatting library. */
void al_enc_log(int32_t level, const char *a, const char *b, const char *c)
{
	char line[256];
	size_t n = 0;
	const char *parts[3] = {a, b, c};
	for (size_t i = 0; i < 3; i++)
		for (const char *p = parts[i]; p && *p && n < sizeof(line); p++)
			line[n++] = *p;
	al_enc.oc.log(al_enc.oc.host, level, line, n);
}

al_econn *al_enc_conn_find(al_enc_conn conn)
{
	for (size_t i = 0; i < al_enc.n_conns; i++)
		if (al_enc.conns[i].used && al_enc.conns[i].conn == conn)
			return &al_enc.conns[i];
	return NULL;
}

al_econn *al_enc_conn_new(al_enc_conn conn)
{
	if (al_enc_conn_find(conn))
		return NULL;
	for (size_t i = 0; i < al_enc.n_conns; i++) {
		if (!al_enc.conns[i].used) {
			memset(&al_enc.conns[i], 0, sizeof(al_enc.conns[i]));
			al_enc.conns[i].used = true;
			al_enc.conns[i].conn = conn;
			return &al_enc.conns[i];
		}
	}
	return NULL;
}

void al_enc_post_answer(uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	uint8_t *copy = NULL;

	if (al_enc.n_mail == AL_ENCLAVE_CTL_MAX)
		return; /* at most one answer per channel can be owed */
	if (len && al_heap_alloc(al_enc.heap, len, (void **)&copy) != AL_OK) {
		static const char nomem[] = "{\"error\":{\"message\":\"out of memory\"}}";
		body = (const uint8_t *)nomem;
		len = sizeof(nomem) - 1;
		status = 500;
		if (al_heap_alloc(al_enc.heap, len, (void **)&copy) != AL_OK)
			return;
	}
	if (len)
		memcpy(copy, body, len);
	al_enc.mail[al_enc.n_mail].token = token;
	al_enc.mail[al_enc.n_mail].status = status;
	al_enc.mail[al_enc.n_mail].body = copy;
	al_enc.mail[al_enc.n_mail].len = len;
	al_enc.n_mail++;
}

bool al_enc_take_answer(uint64_t *token, int32_t *status, uint8_t **body, size_t *len)
{
	if (al_enc.n_mail == 0)
		return false;
	*token = al_enc.mail[0].token;
	*status = al_enc.mail[0].status;
	*body = al_enc.mail[0].body;
	*len = al_enc.mail[0].len;
	memmove(&al_enc.mail[0], &al_enc.mail[1], (al_enc.n_mail - 1) * sizeof(al_enc.mail[0]));
	al_enc.n_mail--;
	return true;
}

/* The heap as an al_alloc (node memory that comes and goes). */
static void *heap_get(void *ctx, size_t n)
{
	void *p = NULL;
	return al_heap_calloc(al_enc.heap, 1, n, &p) == AL_OK ? p : NULL;
}

static void heap_put(void *ctx, void *p)
{
	al_heap_free(al_enc.heap, p);
}

/* --- life cycle ------------------------------------------------------------------ */

static bool config_ok(const al_enclave_config *c)
{
	return c->size == sizeof(*c) && c->heap && c->heap_len >= AL_ENCLAVE_HEAP_MIN &&
	       c->heap_len <= SIZE_MAX && c->max_nodes >= 1 && c->max_nodes < 0xffff &&
	       c->max_conns >= 1 && c->max_conns <= 1000000 && c->node_max_peers >= 1 &&
	       c->node_max_handshakes >= 1 && c->n_stores >= 1 &&
	       c->n_stores <= AL_RS_MAX_REPLICAS && c->quorum <= c->n_stores &&
	       (c->chain_poll_ms == 0 || (c->chain_poll_ms >= AL_ENCLAVE_POLL_MIN_MS &&
	                                  c->chain_poll_ms <= AL_ENCLAVE_POLL_MAX_MS)) &&
	       memchr(c->network, 0, sizeof(c->network));
}

static al_err init_libraries(void)
{
	uint32_t seed;

	AL_TRY(al_rt_bind(al_enc.heap));
	/* No configuration file, no atexit handler: the enclave reads no files and its
	 * life ends with the shutdown ecall, not with the host process. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL))
		return AL_E_CRYPTO;
	AL_TRY(al_enc_entropy_init(al_enc.cfg.measurement));
	/* jansson's hash seed (it would read /dev/urandom). */
	AL_TRY(al_rng_fill(&al_enc.rng, &seed, sizeof(seed)));
	json_object_seed(seed ? seed : 1);
	return AL_OK;
}

static al_err init_state(void)
{
	const al_enclave_config *c = &al_enc.cfg;
	uint8_t seed[32];
	size_t pool_len;
	al_arena a;
	void *p;
	al_err e;

	AL_TRY(al_heap_calloc(al_enc.heap, c->max_nodes, sizeof(al_enode), &p));
	al_enc.nodes = p;
	al_enc.n_conns = (size_t)c->max_conns + AL_ENCLAVE_CTL_MAX;
	AL_TRY(al_heap_calloc(al_enc.heap, al_enc.n_conns, sizeof(al_econn), &p));
	al_enc.conns = p;
	AL_TRY(al_heap_alloc(al_enc.heap, AL_ENC_RXBUF, &p));
	al_enc.rxbuf = p;
	/* Connection slots for every node, up front: the memory budget is fixed. */
	pool_len = al_peer_pool_size(c->max_conns, c->max_conns, 65536);
	if (!pool_len)
		return AL_E_ARG;
	AL_TRY(al_heap_alloc(al_enc.heap, pool_len, &al_enc.pool_mem));
	al_arena_init(&a, al_enc.pool_mem, pool_len);
	AL_TRY(al_peer_pool_init(&al_enc.pool, &a, c->max_conns, c->max_conns, 65536));
	AL_TRY(al_heap_alloc(al_enc.heap, al_secp_size(), &p));
	AL_TRY(al_rng_fill(&al_enc.rng, seed, sizeof(seed)));
	e = al_secp_create(&al_enc.secp, p, al_secp_size(), seed);
	al_memzero(seed, sizeof(seed));
	AL_TRY(e);
	return al_enc_nodes_init();
}

static int32_t ec_init(const al_enclave_config *cfg)
{
	al_enclave_config c;
	al_err e;

	if (al_enc.inited || al_enc.down)
		return AL_E_ENC_STATE;
	memcpy(&c, cfg, sizeof(c)); /* copy first: the host could change it under us */
	if (!config_ok(&c))
		return AL_E_ARG;
	al_enc.cfg = c;
	al_enc.cfg.heap = NULL;
	AL_TRY(al_heap_init(&al_enc.heap, c.heap, (size_t)c.heap_len));
	al_enc.mem = (al_alloc){heap_get, heap_put, NULL};
	e = init_libraries();
	if (e == AL_OK)
		e = init_state();
	if (e != AL_OK) {
		al_enc_entropy_clear();
		al_rt_unbind();
		al_enc.heap = NULL;
		return e;
	}
	al_sealsim_init(&al_enc.seal, c.platform_secret, c.measurement);
	al_memzero(al_enc.cfg.platform_secret, sizeof(al_enc.cfg.platform_secret));
	al_enc.timer_armed = UINT64_MAX;
	al_enc.inited = true;
	al_enc_tick();
	al_enc_log(AL_ENC_LOG_INFO, "enclave: initialised", NULL, NULL);
	al_enc_chain_start();
	return AL_OK;
}

static void ec_shutdown(void)
{
	if (!al_enc.inited)
		return;
	al_enc_nodes_clear();
	al_enc_ctl_clear();
	for (size_t i = 0; i < al_enc.n_mail; i++) {
		al_memzero(al_enc.mail[i].body, al_enc.mail[i].len);
		al_heap_free(al_enc.heap, al_enc.mail[i].body);
	}
	al_secp_destroy(al_enc.secp);
	al_sealsim_clear(&al_enc.seal);
	al_enc_entropy_clear();
	/* OpenSSL keeps per-thread state in heap memory: release it for this thread
	 * while the heap is still ours. */
	OPENSSL_thread_stop();
	al_rt_unbind();
	al_ocalls oc = al_enc.oc;
	memset(&al_enc, 0, sizeof(al_enc));
	al_enc.oc = oc;
	al_enc.down = true;
}

static void ec_stats(al_enclave_stats *out)
{
	al_enclave_stats s;
	al_heap_stats hs;
	uint32_t used = 0, queues = 0;

	memset(&s, 0, sizeof(s));
	if (al_enc.inited) {
		al_heap_stats_get(al_enc.heap, &hs);
		s.heap_size = hs.size;
		s.heap_used = hs.used;
		s.heap_high = hs.high;
		s.heap_allocs = hs.allocs;
		s.heap_failed = hs.failed;
		s.heap_foreign = hs.foreign;
		s.crypto_allocs = al_rt_crypto_allocs();
		s.crypto_routed = al_rt_crypto_routed();
		al_enc_count(&s.nodes, &s.nodes_ready, &s.conns);
		al_peer_pool_usage(al_enc.pool, &used, &queues);
		s.pool_slots = al_enc.cfg.max_conns;
		s.pool_slots_used = used;
		s.node_bytes = al_enc.node_bytes;
		s.shared_bytes = al_enc.shared_len;
		if (al_node_shared_headers(al_enc.shared)) {
			const al_headers *hc = al_node_shared_headers(al_enc.shared);
			s.chain_height = al_headers_tip_height(hc);
			s.chain_loaded = al_enc.chain_loaded;
			s.chain_saved = al_enc.chain_saved_gen == al_headers_gen(hc);
		}
		s.stale = al_enc.stale;
		s.entropy_cpu = al_enc_entropy_cpu_bytes();
	}
	memcpy(out, &s, sizeof(s));
}

/* --- the ecall table and the entry point --------------------------------------------- */

/* Every ecall ends by handing the user channels what their nodes answered. */
static int32_t after(int32_t r)
{
	if (al_enc.inited)
		al_enc_ctl_deliver();
	return r;
}

#define GUARD(expr) after(al_enc.inited ? (expr) : AL_E_ENC_STATE)

static int32_t ec_ctl_setup(void)
{
	return GUARD(al_enc_ctl_setup());
}
static int32_t ec_node_load(uint32_t node)
{
	return GUARD(al_enc_node_load(node));
}
static int32_t ec_node_unload(uint32_t node)
{
	return GUARD(al_enc_node_unload(node));
}
static int32_t ec_node_info(uint32_t node, al_enclave_node_info *out)
{
	return GUARD(al_enc_node_info(node, out));
}
static int32_t ec_node_listen(uint32_t node, const char *addr, size_t len)
{
	return GUARD(al_enc_node_listen(node, addr, len));
}
static int32_t ec_net_accept(uint32_t node, al_enc_conn conn, const char *addr, size_t len)
{
	return GUARD(al_enc_net_accept(node, conn, addr, len));
}
static int32_t ec_net_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed)
{
	*consumed = 0;
	return GUARD(al_enc_net_recv(conn, buf, len, consumed));
}
static int32_t ec_net_eof(al_enc_conn conn)
{
	return GUARD(al_enc_net_eof(conn));
}
static int32_t ec_net_writable(al_enc_conn conn)
{
	return GUARD(al_enc_net_writable(conn));
}
static int32_t ec_net_closed(al_enc_conn conn, const char *why, size_t len)
{
	return GUARD(al_enc_net_closed(conn, why, len));
}
static void ec_timer(void)
{
	if (al_enc.inited)
		al_enc_timer();
	(void)after(AL_OK);
}
static void ec_store_done(uint64_t req, int32_t status, const uint8_t *blob, size_t len,
                          int64_t version)
{
	if (al_enc.inited)
		al_enc_store_done(req, status, blob, len, version);
	(void)after(AL_OK);
}
static int32_t ec_api(uint32_t node, uint64_t token, const char *method, size_t mlen,
                      const char *target, size_t tlen, const uint8_t *body, size_t blen)
{
	return GUARD(al_enc_api(node, token, method, mlen, target, tlen, body, blen));
}
static int32_t ec_ctl_accept(al_enc_conn conn)
{
	return GUARD(al_enc_ctl_accept(conn));
}
static int32_t ec_ctl_recv(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed)
{
	*consumed = 0;
	return GUARD(al_enc_ctl_recv(conn, buf, len, consumed));
}
static int32_t ec_ctl_eof(al_enc_conn conn)
{
	return GUARD(al_enc_ctl_eof(conn));
}
static int32_t ec_ctl_writable(al_enc_conn conn)
{
	return GUARD(al_enc_ctl_writable(conn));
}
static int32_t ec_ctl_closed(al_enc_conn conn)
{
	return GUARD(al_enc_ctl_closed(conn));
}

static const al_ecalls ecalls = {
    .abi = AL_ENCLAVE_ABI_VERSION,
    .size = sizeof(al_ecalls),
    .init = ec_init,
    .shutdown = ec_shutdown,
    .stats = ec_stats,
    .ctl_setup = ec_ctl_setup,
    .node_load = ec_node_load,
    .node_unload = ec_node_unload,
    .node_info = ec_node_info,
    .node_listen = ec_node_listen,
    .net_accept = ec_net_accept,
    .net_recv = ec_net_recv,
    .net_eof = ec_net_eof,
    .net_writable = ec_net_writable,
    .net_closed = ec_net_closed,
    .timer = ec_timer,
    .store_done = ec_store_done,
    .api = ec_api,
    .ctl_accept = ec_ctl_accept,
    .ctl_recv = ec_ctl_recv,
    .ctl_eof = ec_ctl_eof,
    .ctl_writable = ec_ctl_writable,
    .ctl_closed = ec_ctl_closed,
};

const al_ecalls *alight_enclave_entry(const al_ocalls *ocalls);

__attribute__((visibility("default"))) const al_ecalls *alight_enclave_entry(const al_ocalls *oc)
{
	if (!oc || oc->abi != AL_ENCLAVE_ABI_VERSION || oc->size != sizeof(al_ocalls) ||
	    !oc->net_send || !oc->net_close || !oc->net_read_ctl || !oc->net_dial ||
	    !oc->store_get || !oc->store_put || !oc->time_now || !oc->timer_arm || !oc->random ||
	    !oc->log || !oc->api_done || !oc->quote || !oc->stream_open || !oc->stream_send ||
	    !oc->stream_recv || !oc->stream_close || !oc->node_event)
		return NULL;
	if (al_enc.inited)
		return al_enc.oc.host == oc->host ? &ecalls : NULL;
	memcpy(&al_enc.oc, oc, sizeof(al_enc.oc));
	return &ecalls;
}
