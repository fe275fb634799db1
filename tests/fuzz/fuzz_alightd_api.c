/* alightd's control API (apps/alightd/api.c, and the node's handler inside the enclave,
 * src/enclave/api.c, with its body parsers src/enclave/api_parse.c): what a local client sends over
 * the control socket.
 *
 * Input: a first line "METHOD TARGET", then the body. The handler runs on a daemon built
 * here without sockets: the real enclave image (<build>/lib/libalight_enclave.so, the
 * path alightd uses relative to its binary) holding a node seeded from a fixed mnemonic,
 * no wallet. peers.c is replaced by the enclave's network ocalls answered here: a dial
 * keeps alightd's rules (address parsed, port 0 refused) but never connects, and every
 * dialed connection is closed after the input, so the pending connect is answered (a
 * failure) through api_done. Every answer must be a JSON object ({"error":{"message":...}}
 * for 4xx/5xx) that fits the daemon's response buffer, and a request may stay pending
 * only if it asked to connect with a body the parsers accept. The body also goes to both
 * body parsers directly. */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alightd.h"
#include "enclave/api_parse.h"
#include "host/loop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_DIALS 4

static alightd daemon_;
static uint8_t out_buf[RPC_OUT_BASE + 4 * RPC_OUT_PER_PEER + RPC_OUT_WALLET];
static al_enc_conn dials[N_DIALS];
static size_t n_dials;
static uint64_t next_conn = 1;
static bool dialed, completed;

static void check_answer(int status, const uint8_t *body, size_t len);

/* --- what api.c needs from peers.c, rpc.c and main.c (no sockets) ----------------- */

void logf_(const char *fmt, ...)
{
	(void)fmt;
}

void rpc_complete(alightd *d, rpc_token t, int status, const uint8_t *body, size_t len)
{
	(void)d, (void)t;
	check_answer(status, body, len);
	completed = true;
}

void peers_settle(alightd *d)
{
	(void)al_enclave_host_complete(d->enc);
}

static int32_t net_send(void *arg, al_enc_conn c, const uint8_t *buf, size_t len, size_t *taken)
{
	(void)arg, (void)c, (void)buf;
	*taken = len;
	return AL_OK;
}

static int32_t net_close(void *arg, al_enc_conn c)
{
	(void)arg, (void)c;
	return AL_OK;
}

static void net_read_ctl(void *arg, al_enc_conn c, int32_t want)
{
	(void)arg, (void)c, (void)want;
}

static void timer_arm(void *arg, uint64_t deadline)
{
	(void)arg, (void)deadline;
}

static int32_t net_dial(void *arg, uint32_t node, const char *addr, size_t addrlen, al_enc_conn *id,
                        char *why, size_t whycap)
{
	char text[256];
	sock_addr a;

	(void)arg, (void)node;
	if (addrlen >= sizeof(text) || n_dials == N_DIALS)
		abort(); /* the enclave bounds the address; one dial per input */
	memcpy(text, addr, addrlen);
	text[addrlen] = '\0';
	if (!sock_parse(&a, text)) {
		snprintf(why, whycap, "invalid address \"%s\"", text);
		return AL_E_ARG;
	}
	if (sock_port(&a) == 0) {
		snprintf(why, whycap, "port 0");
		return AL_E_ARG;
	}
	*id = next_conn++;
	dials[n_dials++] = *id;
	dialed = true;
	return AL_OK;
}

/* --- the daemon ------------------------------------------------------------------ */

static void api_done(void *arg, uint64_t token, int32_t status, const uint8_t *body, size_t len);

static void setup(void)
{
	static const char words[] = "abandon abandon abandon abandon abandon abandon abandon "
	                            "abandon abandon abandon abandon about";
	static const uint8_t secret[32] = {1};
	alightd *d = &daemon_;
	al_enclave_host_config hc = {0};
	al_enclave_node_params p = {.size = sizeof(p)};

	static uint8_t secp_mem[1 << 16] __attribute__((aligned(16)));
	al_secp *secp;

	if (d->np != NULL)
		return;
	if (al_secp_size() > sizeof(secp_mem) ||
	    al_secp_create(&secp, secp_mem, sizeof(secp_mem), NULL) != AL_OK)
		abort();
	d->secp = secp;
	d->np = netparams_find("regtest");
	memcpy(hc.chain_hash, d->np->chain_hash, 32);
	hc.heap_size = (size_t)256 << 20;
	hc.platform_secret = secret;
	hc.max_nodes = 1;
	hc.max_conns = 8;
	hc.node_max_peers = 2;
	hc.node_max_handshakes = 2;
	hc.quiet = true;
	hc.net = (al_enclave_net){.arg = d,
	                          .send = net_send,
	                          .close = net_close,
	                          .read_ctl = net_read_ctl,
	                          .timer_arm = timer_arm,
	                          .dial = net_dial,
	                          .api_done = api_done};
	p.coin = d->np->coin;
	p.max_peers = 2;
	p.max_handshakes = 2;
	p.handshake_timeout_ms = p.ping_interval_ms = p.pong_timeout_ms = p.idle_timeout_ms =
	    UINT64_MAX;
	strcpy(p.network, d->np->name);
	strcpy(p.listen, "127.0.0.1:9735");
	if (al_enclave_host_open(&d->enc, &hc) != AL_OK ||
	    d->enc->ec->node_seed(&p, words, strlen(words), &d->node) != AL_OK)
		abort();
	d->rpc_out_cap = sizeof(out_buf);
	d->rpc_body = out_buf;
}

static void api_done(void *arg, uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	rpc_complete(arg, token, status, body, len);
}

static void check_answer(int status, const uint8_t *body, size_t len)
{
	json_t *j = json_loadb((const char *)body, len, 0, NULL);
	json_t *msg = json_object_get(json_object_get(j, "error"), "message");

	if (!json_is_object(j) || status < 200 || status > 599 ||
	    (status >= 400 && !json_is_string(msg)))
		abort();
	json_decref(j);
}

/* The body parsers the enclave's handlers use (src/enclave/api_parse.h), on their own:
 * the wallet's is reached through the handler only when a wallet is open. */
static void parsers(const uint8_t *body, size_t len, bool *connect_ok)
{
	const char *args[AL_ENC_WALLET_MAX_ARGS], *host = NULL;
	json_t *req = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL), *root;
	uint8_t id[33];
	al_pubkey pub;
	size_t n;

	*connect_ok = al_enc_connect_args(daemon_.secp, req, id, &host) == NULL;
	if (*connect_ok && (host == NULL || strlen(host) == 0 || strlen(host) >= 64 ||
	                    al_pubkey_parse(daemon_.secp, &pub, id, 33) != AL_OK))
		abort();
	json_decref(req);
	if (al_enc_wallet_args(&root, args, &n, body, len)) {
		if (n > AL_ENC_WALLET_MAX_ARGS || (len == 0 && root != NULL))
			abort();
		for (size_t i = 0; i < n; i++)
			if (args[i] == NULL)
				abort();
	}
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size), *body;
	char line[512], *sp;
	size_t n, body_len;
	bool connect_ok;
	int status = 0;
	api_result r;
	al_wb w;

	setup();
	n = nl ? (size_t)(nl - data) : size;
	if (n >= sizeof(line) || memchr(data, 0, n))
		return 0;
	memcpy(line, data, n);
	line[n] = '\0';
	sp = strchr(line, ' ');
	if (sp == NULL)
		return 0;
	*sp = '\0';
	body = nl ? nl + 1 : data + size;
	body_len = (size_t)(data + size - body);
	parsers(body, body_len, &connect_ok);

	dialed = completed = false;
	al_wb_init(&w, out_buf, sizeof(out_buf));
	r = api_handle(&daemon_, line, sp + 1, body, body_len, 1, &status, &w);
	if (r == API_PENDING) {
		if (!dialed || !connect_ok || strcmp(line, "POST") != 0)
			abort();
		/* The connection goes: the pending request is answered (a failure). */
		for (size_t i = 0; i < n_dials; i++)
			(void)daemon_.enc->ec->net_closed(dials[i]);
		n_dials = 0;
		if (!completed)
			abort();
		return 0;
	}
	n_dials = 0;
	if (!al_wb_ok(&w))
		abort();
	check_answer(status, out_buf, w.len);
	return 0;
}
