/* The shared header chain in the real enclave image (tests/lib/fake_host.h plays the
 * host; a chain server answers from esplora_sim.h through the host's stream hook).
 *
 * What is proven here:
 *   - the enclave holds one header chain for its nodes: a second node's sync fetches
 *     no header the first one brought;
 *   - the chain is kept sealed in the state store and loaded at start, every header
 *     checked again: a restarted enclave knows the chain without asking a server;
 *   - ATTACK chain_rollback: the host puts back an older sealed chain. The node's own
 *     records say a payment is confirmed in a block the old chain does not have: the
 *     balance counts it unconfirmed until a sync shows the block again;
 *   - ATTACK chain_forged: one byte of the sealed chain changed: it is not used, the
 *     enclave starts from the checkpoint, the node trusts no confirmation above it. */
#define _DEFAULT_SOURCE 1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "btc/address.h"
#include "crypto/hash.h"
#include "esplora_sim.h"
#include "fake_host.h"
#include "test.h"
#include "util/hex.h"

static char base[] = "/tmp/alight-enclave-chain-XXXXXX";
static const uint8_t secret[32] = {0xc4, 0xa1};
static esim srv;
static bool srv_down;
static char url[64];
static char words[2][300];

/* The chain server, as the host's answer to each request the enclave sends. */
static bool hook(void *arg, const uint8_t *req, size_t len, uint8_t **reply, size_t *reply_len)
{
	char path[512] = "";
	size_t n = 0, body_len = 0;
	const uint8_t *p = memchr(req, ' ', len);
	int status;

	(void)arg;
	for (p = p ? p + 1 : req + len; p < req + len && *p != ' ' && n + 1 < sizeof(path); p++)
		path[n++] = (char)*p;
	status = srv_down ? 503 : esim_answer(&srv, path, &body_len);
	if (srv_down)
		body_len = 0;
	*reply = malloc(body_len + 128);
	CHECK(*reply != NULL);
	*reply_len = (size_t)sprintf((char *)*reply,
	                             "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
	                             "Content-Length: %zu\r\n\r\n",
	                             status, body_len);
	memcpy(*reply + *reply_len, srv.body, body_len);
	*reply_len += body_len;
	return true;
}

/* A socket the enclave's streams connect to (the hook answers for the server). */
static int listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 64) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void open_enclave(fake_host *h)
{
	fh_config c = {
	    .heap = 64u << 20, .state = base, .n_stores = 1, .max_nodes = 4, .max_conns = 8};

	memcpy(c.platform_secret, secret, 32);
	CHECK_OK(fh_open(h, &c));
	CHECK_OK(fh_ctl_setup(h));
	h->stream_hook = hook;
	fh_settle(h); /* the sealed chain, if any, comes back */
}

static int user(fake_host *h, int node, const char *method, const char *target, const char *body,
                char *out, size_t cap)
{
	char why[256] = "";
	int st = fh_user(h, words[node], method, target, body, out, cap, why, sizeof(why));

	if (st == 0)
		printf("user: %s\n", why);
	fh_settle(h);
	return st;
}

static al_enclave_stats stats(fake_host *h)
{
	al_enclave_stats st;

	h->ec->stats(&st);
	return st;
}

/* The node's next receive address, as a script. */
static void receive_script(fake_host *h, int node, uint8_t script[22])
{
	uint8_t prog[AL_WITPROG_MAX];
	char out[4096], addr[AL_SEGWIT_ADDR_BUFLEN] = "";
	const char *p;
	size_t plen, slen, k = 0;
	unsigned ver;

	CHECK(user(h, node, "POST", "/v1/wallet/newaddress", NULL, out, sizeof(out)) == 200);
	CHECK((p = strstr(out, "\"address\":\"")) != NULL);
	for (p = p ? p + 11 : ""; *p && *p != '"' && k + 1 < sizeof(addr); p++)
		addr[k++] = *p;
	CHECK_OK(al_segwit_addr_decode(&ver, prog, &plen, AL_NET_REGTEST, addr, k));
	CHECK_OK(al_segwit_script(script, 22, &slen, ver, prog, plen));
}

/* The sealed chain's file in the state store. */
static void record_path(char *out, size_t cap)
{
	static const char tag[] = "alight/shared-chain";
	uint8_t name[32];
	char hex[65];

	al_sha256(name, tag, sizeof(tag) - 1);
	CHECK_OK(al_hex_encode(hex, sizeof(hex), name, 32));
	snprintf(out, cap, "%s/objects/%s", base, hex);
}

static int copy_file(const char *from, const char *to)
{
	char cmd[1300];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	return system(cmd);
}

/* Byte `at` of a file changed. */
static void flip(const char *path, long at)
{
	FILE *f = fopen(path, "r+b");
	int c;

	CHECK(f != NULL && fseek(f, at, SEEK_SET) == 0 && (c = fgetc(f)) != EOF);
	CHECK(fseek(f, at, SEEK_SET) == 0 && fputc(c ^ 1, f) != EOF && fclose(f) == 0);
}

int main(void)
{
	static fake_host h;
	static uint8_t raw[256];
	const uint8_t *txs[1] = {raw};
	char out[8192], body[128], rec[512], old[600];
	uint8_t script[22];
	size_t len[1];
	uint16_t port;
	int lfd;

	CHECK(mkdtemp(base) != NULL);
	lfd = listener(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	esim_init(&srv, 4);
	open_enclave(&h);
	CHECK(stats(&h).shared_bytes > 0 && stats(&h).chain_height == 0);
	CHECK(fh_provision(&h, NULL, words[0], out, sizeof(out)) == 200);
	CHECK(fh_provision(&h, NULL, words[1], out, sizeof(out)) == 200);
	fh_settle(&h);
	CHECK(user(&h, 0, "POST", "/v1/chain", body, out, sizeof(out)) == 200);
	CHECK(user(&h, 1, "POST", "/v1/chain", body, out, sizeof(out)) == 200);

	/* Node 0 brings the headers; node 1's sync asks for none. */
	srv.block_requests = 0;
	receive_script(&h, 0, script);
	CHECK(stats(&h).chain_height == 4);
	CHECK(user(&h, 1, "POST", "/v1/wallet/sync", NULL, out, sizeof(out)) == 200);
	/* The tip (kept), then one page for each of the gap's 40 scripts: no header. */
	CHECK(strstr(out, "\"tip_height\":4") && strstr(out, "\"requests\":41,"));

	/* A payment to node 0 in block 5; block 6 on top. Saved, sealed. */
	len[0] = esim_payment(raw, sizeof(raw), script, 250000, 0x44);
	esim_mine_txs(&srv, 5, txs, len, 1);
	esim_mine(&srv, 6, 0xa6, 0x207fffff);
	record_path(rec, sizeof(rec));
	snprintf(old, sizeof(old), "%s.old", rec);
	CHECK(copy_file(rec, old) == 0); /* the chain at 4, for the rollback */
	CHECK(user(&h, 0, "POST", "/v1/wallet/walletbalance", NULL, out, sizeof(out)) == 200);
	CHECK(strstr(out, "\"confirmed_balance\":250000") && strstr(out, "\"tip_height\":6"));
	fh_settle(&h);
	CHECK(stats(&h).chain_height == 6 && !stats(&h).chain_saved);
	h.ec->timer(); /* not yet */
	fh_settle(&h);
	CHECK(!stats(&h).chain_saved);
	/* Saved at most once a minute (the enclave armed its timer for it). */
	CHECK(h.timer == h.mono_ms + 60000);
	h.mono_ms = h.timer;
	h.ec->timer();
	fh_settle(&h);
	CHECK(stats(&h).chain_saved);
	fh_close(&h);

	/* Restarted: the chain comes back from its sealed copy, checked again. */
	open_enclave(&h);
	CHECK(stats(&h).chain_loaded && stats(&h).chain_height == 6);
	CHECK_OK(h.ec->node_load(0));
	CHECK_OK(h.ec->node_load(1));
	fh_settle(&h);
	srv_down = true; /* no server: what the node knows, as the chain shows it */
	CHECK(user(&h, 0, "POST", "/v1/wallet/walletbalance", NULL, out, sizeof(out)) == 200);
	CHECK(strstr(out, "\"confirmed_balance\":250000") && strstr(out, "sync_error"));
	fh_close(&h);

	/* ATTACK chain_rollback: the chain as it was at 4 put back. */
	CHECK(copy_file(old, rec) == 0);
	open_enclave(&h);
	CHECK(stats(&h).chain_loaded && stats(&h).chain_height == 4);
	CHECK_OK(h.ec->node_load(0));
	fh_settle(&h);
	CHECK(user(&h, 0, "POST", "/v1/wallet/walletbalance", NULL, out, sizeof(out)) == 200);
	bool held = strstr(out, "\"confirmed_balance\":0") &&
	            strstr(out, "\"unconfirmed_balance\":250000") && strstr(out, "sync_error");
	srv_down = false;
	CHECK(user(&h, 0, "POST", "/v1/wallet/walletbalance", NULL, out, sizeof(out)) == 200);
	held = held && strstr(out, "\"confirmed_balance\":250000") && stats(&h).chain_height == 6;
	CHECK(held);
	printf("ATTACK %-14s %s: an older sealed header chain put back: the payment in block 5 "
	       "counted unconfirmed until a sync showed the block again\n",
	       "chain_rollback", held ? "REFUSED" : "SUCCEEDED");
	fh_settle(&h);
	fh_close(&h);

	/* ATTACK chain_forged: one byte of the sealed record changed. */
	flip(rec, 200);
	open_enclave(&h);
	held = !stats(&h).chain_loaded && stats(&h).chain_height == 0;
	CHECK_OK(h.ec->node_load(0));
	fh_settle(&h);
	srv_down = true;
	CHECK(user(&h, 0, "POST", "/v1/wallet/walletbalance", NULL, out, sizeof(out)) == 200);
	held = held && strstr(out, "\"confirmed_balance\":0") && strstr(out, "\"tip_height\":0");
	CHECK(held);
	printf("ATTACK %-14s %s: one byte of the sealed header chain changed: not used, the "
	       "enclave started from the checkpoint\n",
	       "chain_forged", held ? "REFUSED" : "SUCCEEDED");
	srv_down = false;
	CHECK(user(&h, 0, "POST", "/v1/wallet/walletbalance", NULL, out, sizeof(out)) == 200);
	CHECK(strstr(out, "\"confirmed_balance\":250000"));
	fh_close(&h);

	close(lfd);
	snprintf(old, sizeof(old), "rm -rf '%s'", base);
	CHECK(system(old) == 0);
	return al_t_finish();
}
