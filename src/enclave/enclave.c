/* The enclave's entry point and life cycle: the one exported symbol, init (the heap,
 * the libraries routed to it, the secp256k1 context), shutdown, stats and the JSON
 * request API. Nodes and connections are in node.c, the control API in api.c, its
 * RA-TLS connections in ctl.c. */
/* RAND_set_rand_method is deprecated in OpenSSL 3 but still consulted first by every
 * RAND_bytes_ex and RAND_priv_bytes_ex; a provider would do the same in far more code. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/mem.h"
#include "enclave/enclave_int.h"
#include "enclave/rt.h"
#include "util/hex.h"

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
	for (size_t i = 0; i < 3; i++) {
		for (const char *p = parts[i]; p && *p && n < sizeof(line); p++)
			line[n++] = *p;
	}
	al_enc.oc.log(al_enc.oc.host, level, line, n);
}

al_err al_enc_random(void *out, size_t len)
{
	int32_t e = al_enc.oc.random(al_enc.oc.host, out, len);
	return e == AL_OK ? AL_OK : AL_E_CRYPTO;
}

/* --- OpenSSL's randomness: the random ocall ------------------------------------ */

/* Entropy reaches the enclave only as an ocall (in SGX this would be RDRAND): every
 * RAND_bytes OpenSSL makes (TLS randoms, key generation) is served by it. */
static int rand_bytes(unsigned char *buf, int num)
{
	return num >= 0 && al_enc_random(buf, (size_t)num) == AL_OK;
}

static int rand_status(void)
{
	return 1;
}

static const RAND_METHOD rand_ocall = {
    .bytes = rand_bytes,
    .pseudorand = rand_bytes,
    .status = rand_status,
};

/* --- life cycle ------------------------------------------------------------------ */

static bool config_ok(const al_enclave_config *c)
{
	return c->size == sizeof(*c) && c->heap && c->heap_len >= AL_ENCLAVE_HEAP_MIN &&
	       c->heap_len <= SIZE_MAX && c->max_nodes >= 1 && c->max_nodes <= 100000 &&
	       c->max_conns >= 1 && c->max_conns <= 1000000 && c->node_max_peers >= 1 &&
	       c->node_max_handshakes >= 1;
}

static al_err init_libraries(void)
{
	AL_TRY(al_rt_bind(al_enc.heap));
	/* No configuration file, no atexit handler: the enclave reads no files and its
	 * life ends with the shutdown ecall, not with the host process. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL))
		return AL_E_CRYPTO;
	if (!RAND_set_rand_method(&rand_ocall))
		return AL_E_CRYPTO;
	/* jansson's hash seed from the entropy ocall (it would read /dev/urandom). */
	uint32_t seed;
	AL_TRY(al_enc_random(&seed, sizeof(seed)));
	json_object_seed(seed ? seed : 1);
	return AL_OK;
}

static al_err init_state(void)
{
	const al_enclave_config *c = &al_enc.cfg;
	void *p;
	uint8_t seed[32];

	AL_TRY(al_heap_calloc(al_enc.heap, c->max_nodes, sizeof(al_enode), &p));
	al_enc.nodes = p;
	AL_TRY(al_heap_calloc(al_enc.heap, c->max_conns, sizeof(al_econn), &p));
	al_enc.conns = p;
	AL_TRY(al_heap_alloc(al_enc.heap, AL_ENC_RXBUF, &p));
	al_enc.rxbuf = p;
	AL_TRY(al_heap_alloc(al_enc.heap, al_secp_size(), &p));
	AL_TRY(al_enc_random(seed, sizeof(seed)));
	al_err e = al_secp_create(&al_enc.secp, p, al_secp_size(), seed);
	al_memzero(seed, sizeof(seed));
	return e;
}

static int32_t ec_init(const al_enclave_config *cfg)
{
	if (al_enc.inited || al_enc.down)
		return AL_E_ENC_STATE;
	/* Copy the config before looking at it: the host could change it under us. */
	al_enclave_config c;
	memcpy(&c, cfg, sizeof(c));
	if (!config_ok(&c))
		return AL_E_ARG;
	al_enc.cfg = c;
	al_enc.cfg.heap = NULL;
	AL_TRY(al_heap_init(&al_enc.heap, c.heap, (size_t)c.heap_len));
	al_err e = init_libraries();
	if (e == AL_OK)
		e = init_state();
	if (e != AL_OK) {
		al_rt_unbind();
		al_enc.heap = NULL;
		return e;
	}
	al_sealsim_init(&al_enc.seal, c.platform_secret, c.measurement);
	al_enc.timer_armed = UINT64_MAX;
	al_enc.inited = true;
	al_enc_tick();
	al_enc_log(AL_ENC_LOG_INFO, "enclave: initialised", NULL, NULL);
	return AL_OK;
}

static void ec_shutdown(void)
{
	if (!al_enc.inited)
		return;
	al_enc_nodes_clear();
	al_enc_ctl_clear();
	al_secp_destroy(al_enc.secp);
	al_sealsim_clear(&al_enc.seal);
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
	al_heap_stats hs;
	al_enclave_stats s;
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
		al_enc_count_nodes(&s.nodes, &s.nodes_ready, &s.conns);
		s.handshakes = al_enc.handshakes;
		s.messages_in = al_enc.messages_in;
		s.node_arena = al_enc.node_arena;
	}
	memcpy(out, &s, sizeof(s));
}

/* --- the JSON request API ---------------------------------------------------------- */

static json_t *stats_json(void)
{
	al_enclave_stats s;
	ec_stats(&s);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:i,s:i,s:i,s:I,s:I,s:I}", "heap_size",
	                 (json_int_t)s.heap_size, "heap_used", (json_int_t)s.heap_used, "heap_high",
	                 (json_int_t)s.heap_high, "heap_allocs", (json_int_t)s.heap_allocs,
	                 "heap_failed", (json_int_t)s.heap_failed, "heap_foreign",
	                 (json_int_t)s.heap_foreign, "crypto_allocs", (json_int_t)s.crypto_allocs,
	                 "crypto_routed", (int)s.crypto_routed, "nodes", (int)s.nodes,
	                 "nodes_ready", (int)s.nodes_ready, "conns", (int)s.conns, "handshakes",
	                 (json_int_t)s.handshakes, "messages_in", (json_int_t)s.messages_in,
	                 "node_arena", (json_int_t)s.node_arena);
}

static json_t *node_json(uint32_t node, al_err *e)
{
	al_enclave_node_info ni;
	char id[2 * AL_PUBKEY_LEN + 1];
	*e = al_enc_node_info(node, &ni);
	if (*e != AL_OK)
		return NULL;
	if ((*e = al_hex_encode(id, sizeof(id), ni.node_id, sizeof(ni.node_id))) != AL_OK)
		return NULL;
	return json_pack("{s:i,s:b,s:s,s:s,s:i,s:i}", "node", (int)node, "ready", (int)ni.ready,
	                 "status", al_err_name((al_err)ni.status), "node_id", id, "pending",
	                 (int)ni.peers_pending, "connected", (int)ni.peers_connected);
}

/* {"method":"seal","label":L,"hex":H} -> {"blob":hex}; {"method":"unseal",...} ->
 * {"hex":plaintext}: sealing exercised through the API (tests, provisioning). */
static json_t *seal_json(const char *method, json_t *req, al_err *e)
{
	const char *label = json_string_value(json_object_get(req, "label"));
	const char *hex = json_string_value(json_object_get(req, "hex"));
	bool seal = strcmp(method, "seal") == 0;
	uint8_t *in = NULL, *out = NULL;
	char *txt = NULL;
	json_t *ans = NULL;
	size_t inlen = hex ? strlen(hex) / 2 : 0, outlen = 0, cap = inlen + AL_SEALSIM_OVERHEAD;
	uint8_t nonce[AL_SEALSIM_NONCE_LEN];

	*e = AL_E_ENC_REQUEST;
	if (!label || !hex || strlen(hex) % 2)
		return NULL;
	if ((*e = al_heap_alloc(al_enc.heap, inlen + 1, (void **)&in)) != AL_OK ||
	    (*e = al_heap_alloc(al_enc.heap, cap, (void **)&out)) != AL_OK)
		goto out;
	if ((*e = al_hex_decode(in, inlen + 1, &inlen, hex, strlen(hex))) != AL_OK)
		goto out;
	if (seal) {
		if ((*e = al_enc_random(nonce, sizeof(nonce))) != AL_OK)
			goto out;
		*e = al_sealsim_seal(&al_enc.seal, out, cap, &outlen, label, nonce, in, inlen);
	} else {
		*e = al_sealsim_unseal(&al_enc.seal, out, cap, &outlen, label, in, inlen);
	}
	if (*e != AL_OK)
		goto out;
	if ((*e = al_heap_alloc(al_enc.heap, 2 * outlen + 1, (void **)&txt)) != AL_OK)
		goto out;
	if ((*e = al_hex_encode(txt, 2 * outlen + 1, out, outlen)) != AL_OK)
		goto out;
	ans = json_pack("{s:s}", seal ? "blob" : "hex", txt);
	*e = ans ? AL_OK : AL_E_NOMEM;
out:
	al_heap_free(al_enc.heap, in);
	al_heap_free(al_enc.heap, out);
	al_heap_free(al_enc.heap, txt);
	return ans;
}

static json_t *dispatch(json_t *req, al_err *e)
{
	const char *m = json_string_value(json_object_get(req, "method"));
	json_t *node = json_object_get(req, "node");
	*e = AL_OK;
	if (!m) {
		*e = AL_E_ENC_REQUEST;
		return NULL;
	}
	if (strcmp(m, "stats") == 0)
		return stats_json();
	if (strcmp(m, "node") == 0 && json_is_integer(node) && json_integer_value(node) >= 0 &&
	    json_integer_value(node) <= UINT32_MAX)
		return node_json((uint32_t)json_integer_value(node), e);
	if (strcmp(m, "seal") == 0 || strcmp(m, "unseal") == 0)
		return seal_json(m, req, e);
	*e = AL_E_ENC_REQUEST;
	return NULL;
}

/* jansson 2.14 does not survive an allocation failure while it lexes a long string
 * (it crashes in json_loadb), so a request is parsed only when the heap has room for
 * the worst case: the copy, jansson's doubling string buffer and the final string. */
static bool room_to_parse(size_t inlen)
{
	al_heap_stats hs;
	al_heap_stats_get(al_enc.heap, &hs);
	return inlen <= hs.largest / 4 && hs.largest - 4 * inlen >= 64 * 1024;
}

static int32_t ec_request(const uint8_t *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen)
{
	json_error_t jerr;
	al_err e = AL_OK;
	char *copy = NULL;
	*outlen = 0;
	if (!al_enc.inited)
		return AL_E_ENC_STATE;
	al_enc_tick();
	/* Parse our own copy: jansson reads as it goes, and the host's buffer could change
	 * under it. */
	if (!room_to_parse(inlen) || al_heap_alloc(al_enc.heap, inlen ? inlen : 1, (void **)&copy))
		return AL_E_NOMEM;
	memcpy(copy, in, inlen);
	json_t *req = json_loadb(copy, inlen, JSON_REJECT_DUPLICATES, &jerr);
	al_heap_free(al_enc.heap, copy);
	if (!req)
		return json_error_code(&jerr) == json_error_out_of_memory ? AL_E_NOMEM
		                                                          : AL_E_ENC_REQUEST;
	json_t *ans = dispatch(req, &e);
	json_decref(req);
	if (!ans)
		return e == AL_OK ? AL_E_NOMEM : e;
	size_t need = json_dumpb(ans, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
	if (need == 0)
		e = AL_E_NOMEM;
	else if (need > cap)
		e = AL_E_BUFSIZE;
	else
		json_dumpb(ans, (char *)out, cap, JSON_COMPACT | JSON_SORT_KEYS);
	*outlen = need;
	json_decref(ans);
	return e;
}

/* --- the ecall table and the entry point --------------------------------------------- */

#define GUARD(expr) (al_enc.inited ? (expr) : AL_E_ENC_STATE)

static int32_t ec_node_create(uint32_t *node)
{
	return GUARD(al_enc_node_create(node));
}
static int32_t ec_node_open(uint32_t index)
{
	return GUARD(al_enc_node_open(index));
}
static int32_t ec_node_unload(uint32_t node)
{
	return GUARD(al_enc_node_unload(node));
}
static int32_t ec_node_info(uint32_t node, al_enclave_node_info *out)
{
	return GUARD(al_enc_node_info(node, out));
}
static int32_t ec_net_accept(uint32_t node, al_enc_conn conn)
{
	return GUARD(al_enc_net_accept(node, conn));
}
static int32_t ec_net_connect(uint32_t node, al_enc_conn conn, const uint8_t their_id[33])
{
	return GUARD(al_enc_net_connect(node, conn, their_id));
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
static int32_t ec_net_closed(al_enc_conn conn)
{
	return GUARD(al_enc_net_closed(conn));
}
static void ec_timer(void)
{
	if (al_enc.inited)
		al_enc_timer();
}
static void ec_store_done(uint64_t req, int32_t status, const uint8_t *blob, size_t len)
{
	if (al_enc.inited)
		al_enc_store_done(req, status, blob, len);
}

static int32_t ec_node_seed(const al_enclave_node_params *p, const char *words, size_t len,
                            uint32_t *node)
{
	return GUARD(al_enc_node_seed(p, words, len, node));
}
static int32_t ec_net_accept_from(uint32_t node, al_enc_conn conn, const char *addr, size_t len)
{
	return GUARD(al_enc_net_accept_from(node, conn, addr, len));
}
static int32_t ec_net_error(al_enc_conn conn, const char *why, size_t len)
{
	return GUARD(al_enc_net_error(conn, why, len));
}
static int32_t ec_api(uint32_t node, uint64_t token, const char *method, size_t mlen,
                      const char *target, size_t tlen, const uint8_t *body, size_t blen,
                      uint8_t *out, size_t cap, size_t *outlen, int32_t *status)
{
	*outlen = 0;
	*status = 500;
	return GUARD(al_enc_api(node, token, method, mlen, target, tlen, body, blen, out, cap,
	                        outlen, status));
}

static int32_t ec_ctl_setup(const char *token, size_t len)
{
	return GUARD(al_enc_ctl_setup(token, len));
}
static int32_t ec_ctl_accept(uint32_t node, al_enc_conn conn)
{
	return GUARD(al_enc_ctl_accept(node, conn));
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

static int32_t ec_wallet_open(uint32_t node, const char *url, size_t urllen, const uint8_t *ca_pem,
                              size_t ca_len, const uint8_t *pins, size_t n_pins)
{
	int32_t e = GUARD(al_enc_wallet_open(node, url, urllen, ca_pem, ca_len, pins, n_pins));
	if (al_enc.inited)
		al_enc_pump();
	return e;
}

static const al_ecalls ecalls = {
    .abi = AL_ENCLAVE_ABI_VERSION,
    .size = sizeof(al_ecalls),
    .init = ec_init,
    .shutdown = ec_shutdown,
    .stats = ec_stats,
    .node_create = ec_node_create,
    .node_open = ec_node_open,
    .node_unload = ec_node_unload,
    .node_info = ec_node_info,
    .net_accept = ec_net_accept,
    .net_connect = ec_net_connect,
    .net_recv = ec_net_recv,
    .net_eof = ec_net_eof,
    .net_writable = ec_net_writable,
    .net_closed = ec_net_closed,
    .timer = ec_timer,
    .store_done = ec_store_done,
    .request = ec_request,
    .node_seed = ec_node_seed,
    .net_accept_from = ec_net_accept_from,
    .net_error = ec_net_error,
    .api = ec_api,
    .ctl_setup = ec_ctl_setup,
    .ctl_accept = ec_ctl_accept,
    .ctl_recv = ec_ctl_recv,
    .ctl_eof = ec_ctl_eof,
    .ctl_writable = ec_ctl_writable,
    .ctl_closed = ec_ctl_closed,
    .wallet_open = ec_wallet_open,
};

const al_ecalls *alight_enclave_entry(const al_ocalls *ocalls);

__attribute__((visibility("default"))) const al_ecalls *alight_enclave_entry(const al_ocalls *oc)
{
	if (!oc || oc->abi != AL_ENCLAVE_ABI_VERSION || oc->size != sizeof(al_ocalls) ||
	    !oc->net_send || !oc->net_close || !oc->net_read_ctl || !oc->store_get ||
	    !oc->store_put || !oc->time_now || !oc->timer_arm || !oc->random || !oc->log ||
	    !oc->net_dial || !oc->api_done || !oc->quote || !oc->stream_open || !oc->stream_send ||
	    !oc->stream_recv || !oc->stream_close || !oc->kv_get || !oc->kv_put_batch ||
	    !oc->kv_del || !oc->kv_list || !oc->kv_global_version)
		return NULL;
	if (al_enc.inited)
		return al_enc.oc.host == oc->host ? &ecalls : NULL;
	memcpy(&al_enc.oc, oc, sizeof(al_enc.oc));
	return &ecalls;
}
