/* alightd's control API (apps/alightd/api.c, api_parse.c): what a local client sends
 * over the control socket.
 *
 * Input: a first line "METHOD TARGET", then the body. The handler runs on a daemon
 * built here without sockets: a real peer manager, a connection table with one
 * connected peer, no wallet. peers.c is replaced by the few functions api.c calls,
 * which keep its rules (address parsed, port 0 refused) but never dial. Every answer
 * must be a JSON object ({"error":{"message":...}} for 4xx/5xx) that fits the daemon's
 * response buffer, and a request may stay pending only if it asked to connect with a
 * body the parsers accept. The body also goes to both body parsers directly. */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alightd.h"
#include "api_parse.h"
#include "host/loop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_CONNS 3

static alightd daemon_;
static conn conns[N_CONNS];
static uint8_t out_buf[RPC_OUT_BASE + N_CONNS * RPC_OUT_PER_PEER + RPC_OUT_WALLET];
static bool dialed;

/* --- what api.c needs from peers.c, rpc.c and main.c (no sockets) ----------------- */

void logf_(const char *fmt, ...)
{
	(void)fmt;
}

al_err peers_connect(alightd *d, const uint8_t node_id[33], const char *addr, rpc_token waiter,
                     char *msg, size_t msgcap)
{
	sock_addr a;

	(void)d, (void)node_id, (void)waiter;
	if (!sock_parse(&a, addr)) {
		snprintf(msg, msgcap, "invalid address \"%s\"", addr);
		return AL_E_ARG;
	}
	if (sock_port(&a) == 0) {
		snprintf(msg, msgcap, "port 0");
		return AL_E_ARG;
	}
	dialed = true;
	return AL_OK;
}

const conn *peers_find_connected(const alightd *d, const uint8_t node_id[33])
{
	for (size_t i = 0; i < d->n_conns; i++)
		if (d->conns[i].used && d->conns[i].connected &&
		    memcmp(d->conns[i].node_id, node_id, 33) == 0)
			return &d->conns[i];
	return NULL;
}

size_t peers_connected_count(const alightd *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_conns; i++)
		n += d->conns[i].used && d->conns[i].connected;
	return n;
}

void rpc_complete(alightd *d, rpc_token t, int status, const uint8_t *body, size_t len)
{
	(void)d, (void)t, (void)status, (void)body, (void)len;
}

/* --- the daemon ------------------------------------------------------------------ */

static void setup(void)
{
	static uint8_t secp_mem[1 << 16] __attribute__((aligned(16)));
	static uint8_t arena_mem[1 << 22] __attribute__((aligned(16)));
	static const uint8_t peer_id[33] = {0x02, 0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac,
	                                    0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b, 0x07, 0x02,
	                                    0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2,
	                                    0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98};
	alightd *d = &daemon_;
	al_peer_config cfg;
	al_secp *secp;

	if (d->np != NULL)
		return;
	if (al_secp_size() > sizeof(secp_mem) ||
	    al_secp_create(&secp, secp_mem, sizeof(secp_mem), NULL) != AL_OK)
		abort();
	d->secp = secp;
	d->np = netparams_find("regtest");
	al_peer_config_default(&cfg);
	memset(cfg.node_key.k, 0x11, sizeof(cfg.node_key.k));
	memcpy(cfg.chains[0], d->np->chain_hash, 32);
	cfg.n_chains = 1;
	cfg.max_peers = 2;
	cfg.max_pending_handshakes = 2;
	al_arena_init(&d->arena, arena_mem, sizeof(arena_mem));
	if (d->np == NULL || al_peer_arena_size(&cfg) > sizeof(arena_mem) ||
	    al_peer_mgr_init(&d->mgr, &d->arena, secp, &cfg, al_loop_now_ms()) != AL_OK)
		abort();
	al_peer_node_id(d->mgr, d->node_id);
	d->features = cfg.features;
	d->max_peers = cfg.max_peers;
	strcpy(d->listen_addr, "127.0.0.1:9735");
	d->started_ms = al_loop_now_ms();
	/* One connected peer (the generator point's key), one in its handshake, one free. */
	conns[0] = (conn){
	    .owner = d, .used = true, .inbound = true, .connected = true, .has_node_id = true};
	memcpy(conns[0].node_id, peer_id, 33);
	strcpy(conns[0].addr, "[::1]:40000");
	conns[0].remote_features = cfg.features;
	conns[1] = (conn){.owner = d, .used = true};
	strcpy(conns[1].addr, "10.0.0.1:9735");
	d->conns = conns;
	d->n_conns = N_CONNS;
	d->rpc_out_cap = sizeof(out_buf);
	d->rpc_body = out_buf;
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

static void parsers(const uint8_t *body, size_t len, bool *connect_ok)
{
	const char *args[API_WALLET_MAX_ARGS];
	char host[SOCK_ADDR_STRLEN + 64], msg[256];
	uint8_t id[33];
	al_pubkey pub;
	json_t *root;
	size_t n;

	*connect_ok =
	    api_connect_args(daemon_.secp, id, host, sizeof(host), body, len, msg, sizeof(msg));
	if (*connect_ok &&
	    (strlen(host) >= sizeof(host) || al_pubkey_parse(daemon_.secp, &pub, id, 33) != AL_OK))
		abort();
	if (!*connect_ok && strlen(msg) == 0)
		abort();
	if (api_wallet_args(&root, args, &n, body, len)) {
		if (n > API_WALLET_MAX_ARGS || (len == 0 && root != NULL))
			abort();
		for (size_t i = 0; i < n; i++)
			if (args[i] == NULL)
				abort();
		json_decref(root);
	} else if (root != NULL) {
		abort();
	}
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

	dialed = false;
	al_wb_init(&w, out_buf, sizeof(out_buf));
	r = api_handle(&daemon_, line, sp + 1, body, body_len, 1, &status, &w);
	if (r == API_PENDING) {
		if (!dialed || !connect_ok || strcmp(line, "POST") != 0)
			abort();
		return 0;
	}
	if (!al_wb_ok(&w))
		abort();
	check_answer(status, out_buf, w.len);
	return 0;
}
