/* The chain server's stream in the hands of the host: the real enclave image loaded by
 * a host (tests/lib/fake_host.h) that carries every byte between a node and its chain
 * server, and lies about the time. Like test_hostile_host, each attack prints one line,
 * "ATTACK <name>: <what happened>", and is a test.
 *
 * The chain server is played by the test, in the stream ocalls: a regtest chain with
 * real proof of work (tests/lib/esplora_sim.h) answered over plain HTTP, and over TLS by
 * a server whose certificates the test makes (OpenSSL), valid only in 2019 and 2020.
 *
 *   clock   the host's wall clock says June 2020, when the server's certificate was
 *           valid. The control: a node of an enclave that has verified no chain yet
 *           connects with the lie. Once the enclave holds that verified chain (one
 *           header chain shared by its nodes), whose median time past is November 2023,
 *           another node's TLS connection refuses the now-expired certificate.
 *   roots   the user names an https server with no CA or pin of their own: the node
 *           trusts only the roots compiled into the image (the Mozilla roots of Debian's
 *           ca-certificates, named and counted in GET /v1/chain, checked here against
 *           the package's own files), so a certificate from a CA the host made is
 *           refused, though the same server is reached with the user's CA. */
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "crypto/tls.h"
#include "esplora_sim.h"
#include "fake_host.h"
#include "host/sock.h"
#include "test.h"
#include "tls_testcerts.h"
#include "util/hex.h"

#define T_2019_01_01 1546300800
#define T_2020_06_01 1590969600
#define T_2021_01_01 1609459200

static char base[] = "/tmp/alight-hostile-fetch-XXXXXX";
static const uint8_t secret[32] = {0xfe, 0x7c};
static int attacks;

static void report(const char *name, bool held, const char *what)
{
	attacks++;
	CHECK(held);
	printf("ATTACK %-14s %s: %s\n", name, held ? "REFUSED" : "SUCCEEDED", what);
	fflush(stdout);
}

/* --- the chain server, played in the stream ocalls ------------------------------------ */

static struct server {
	esim sim;
	al_tls_ctx ctx;
	al_tls tls; /* OpenSSL keeps a pointer to it: never moved */
	bool tls_on;
	char req[4096];
	size_t req_len;
	unsigned tls_requests; /* HTTP requests answered inside TLS */
} srv;

/* An HTTP/1.1 response to GET `path` from the simulated chain. */
static size_t http_answer(const char *head, uint8_t *out, size_t cap)
{
	char path[256] = "";
	size_t len = 0;
	int status;

	if (sscanf(head, "GET %255s HTTP/1.1", path) != 1)
		return (size_t)snprintf((char *)out, cap,
		                        "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n");
	status = esim_answer(&srv.sim, path, &len);
	int n =
	    snprintf((char *)out, cap, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n\r\n", status, len);
	CHECK(n > 0 && (size_t)n + len <= cap);
	memcpy(out + n, srv.sim.body, len);
	return (size_t)n + len;
}

static bool hook(void *arg, const uint8_t *in, size_t len, uint8_t **reply, size_t *reply_len)
{
	static uint8_t buf[32768];
	size_t n = 0;

	(void)arg;
	/* A ClientHello (handshake record, message type 1) starts a new TLS session. */
	if (len > 5 && in[0] == 0x16 && in[5] == 0x01) {
		if (srv.tls_on)
			al_tls_clear(&srv.tls);
		CHECK_OK(al_tls_server_init(&srv.tls, &srv.ctx, T_2020_06_01));
		srv.tls_on = true;
		srv.req_len = 0;
	}
	if (srv.tls_on) {
		if (al_tls_feed(&srv.tls, in, len) == AL_OK &&
		    al_tls_handshake(&srv.tls) == AL_OK) {
			size_t got = 0;
			while (al_tls_read(&srv.tls, srv.req + srv.req_len,
			                   sizeof(srv.req) - 1 - srv.req_len, &got) == AL_OK &&
			       got > 0)
				srv.req_len += got;
			srv.req[srv.req_len] = 0;
			if (strstr(srv.req, "\r\n\r\n")) {
				n = http_answer(srv.req, buf, sizeof(buf));
				CHECK_OK(al_tls_write(&srv.tls, buf, n));
				srv.req_len = 0;
				srv.tls_requests++;
			}
		}
		n = al_tls_take(&srv.tls, buf, sizeof(buf));
	} else {
		char head[512];
		size_t k = len < sizeof(head) - 1 ? len : sizeof(head) - 1;
		memcpy(head, in, k);
		head[k] = 0;
		n = http_answer(head, buf, sizeof(buf));
	}
	*reply = malloc(n ? n : 1);
	memcpy(*reply, buf, n);
	*reply_len = n;
	return true;
}

/* --- the user's side ------------------------------------------------------------------- */

static int user(fake_host *h, const char *words, const char *method, const char *target,
                const char *body, char *out, size_t cap)
{
	char why[128];
	return fh_user(h, words, method, target, body, out, cap, why, sizeof(why));
}

/* POST /v1/chain {"url", "ca_pem"?}: the status. */
static int set_chain(fake_host *h, const char *words, const char *url, const char *ca)
{
	json_t *o = json_pack("{s:s}", "url", url);
	char out[8192], *body;
	int st;

	if (ca)
		json_object_set_new(o, "ca_pem", json_string(ca));
	body = json_dumps(o, JSON_COMPACT);
	st = user(h, words, "POST", "/v1/chain", body, out, sizeof(out));
	free(body);
	json_decref(o);
	return st;
}

/* POST /v1/wallet/sync: the error code's name, or "" when it synced. */
static const char *sync_error(fake_host *h, const char *words, char *out, size_t cap)
{
	int st = user(h, words, "POST", "/v1/wallet/sync", "{\"args\":[]}", out, cap);
	const char *code = strstr(out, "\"code\":\"");
	static char name[64];

	if (st == 200)
		return "";
	snprintf(name, sizeof(name), "%s", code ? code + 8 : "?");
	if (strchr(name, '"'))
		*strchr(name, '"') = 0;
	return name;
}

static al_err open_host(fake_host *h, const char *dir, uint64_t wall)
{
	char path[256];
	fh_config c = {
	    .heap = 96u << 20, .n_stores = 1, .max_nodes = 4, .max_conns = 8, .wall_s = wall};

	snprintf(path, sizeof(path), "%s/%s", base, dir);
	c.state = path;
	memcpy(c.platform_secret, secret, 32);
	AL_TRY(fh_open(h, &c));
	h->stream_hook = hook;
	return fh_ctl_setup(h);
}

/* --- the roots the image should carry --------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "N roots of ..., sha256 H" as gen-roots describes Debian's Mozilla roots, computed
 * here from the package's files: each certificate's PEM, trimmed, one newline after it. */
static void expected_roots(unsigned *count, char hex[65])
{
	const char *dir = "/usr/share/ca-certificates/mozilla";
	char *names[512];
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *ent;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t digest[32];

	CHECK(d != NULL && md != NULL);
	while (d && (ent = readdir(d)) != NULL && n < 512)
		if (strlen(ent->d_name) > 4 &&
		    !strcmp(ent->d_name + strlen(ent->d_name) - 4, ".crt"))
			names[n++] = strdup(ent->d_name);
	if (d)
		closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		char path[512], *text;
		FILE *f;
		long len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "rb");
		CHECK(f != NULL);
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		text = malloc((size_t)len + 1);
		CHECK(fread(text, 1, (size_t)len, f) == (size_t)len);
		fclose(f);
		while (len > 0 && strchr(" \t\r\n", text[len - 1]))
			len--;
		EVP_DigestUpdate(md, text, (size_t)len);
		EVP_DigestUpdate(md, "\n", 1);
		free(text);
		free(names[i]);
	}
	EVP_DigestFinal_ex(md, digest, NULL);
	EVP_MD_CTX_free(md);
	CHECK_OK(al_hex_encode(hex, 65, digest, 32));
	*count = (unsigned)n;
}

/* --- attacks ---------------------------------------------------------------------------- */

int main(void)
{
	static fake_host h;
	sock_addr any, bound;
	char url_http[64], url_https[64], out[16384];
	const char *ca_pem;
	long now = (long)time(NULL);
	tcert ca, leaf;
	al_tls_config tc = {0};
	int lfd;

	CHECK(mkdtemp(base) != NULL);
	/* The streams the host opens reach a socket that listens (and is never read): what
	 * the node gets back is what the hook says. */
	CHECK(sock_parse(&any, "127.0.0.1:0"));
	lfd = sock_listen_tcp(&any, &bound);
	CHECK(lfd >= 0);
	snprintf(url_http, sizeof(url_http), "http://127.0.0.1:%u", sock_port(&bound));
	snprintf(url_https, sizeof(url_https), "https://127.0.0.1:%u", sock_port(&bound));

	esim_init(&srv.sim, 14); /* block times 1700000000 + height: November 2023 */
	CHECK(
	    tc_make(&ca, "host-made CA", NULL, NULL, true, T_2019_01_01 - now, T_2021_01_01 - now));
	CHECK(tc_make(&leaf, "127.0.0.1", "IP:127.0.0.1", &ca, false, T_2019_01_01 - now,
	              T_2021_01_01 - now));
	ca_pem = ca.cert_pem;
	tc.cert = leaf.x;
	tc.key = leaf.k;
	CHECK_OK(al_tls_ctx_init(&srv.ctx, true, &tc));

	/* clock: the host says June 2020 throughout. */
	CHECK_OK(open_host(&h, "clock", T_2020_06_01));
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	CHECK(fh_provision(&h, FF_WORDS, NULL, out, sizeof(out)) == 200);
	/* Control: FF's node, in an enclave that has verified no chain yet, names the TLS
	 * server with its CA and is fooled by the lie (the certificate looks in date). */
	CHECK(set_chain(&h, FF_WORDS, url_https, ca_pem) == 200);
	unsigned before = srv.tls_requests;
	char zero_err[64], ff_err[64];
	snprintf(ff_err, sizeof(ff_err), "%s", sync_error(&h, FF_WORDS, out, sizeof(out)));
	bool fooled = !strcmp(ff_err, "") && srv.tls_requests > before;
	CHECK(user(&h, FF_WORDS, "POST", "/v1/wallet/walletbalance", "{\"args\":[]}", out,
	           sizeof(out)) == 200);
	CHECK(strstr(out, "\"tip_height\":14") != NULL);
	/* The enclave now holds a verified chain (shared by its nodes) whose median time
	 * past is November 2023: ZERO's node, with the same CA and the same lie, refuses
	 * the certificate before a request crosses. */
	CHECK(set_chain(&h, ZERO_WORDS, url_https, ca_pem) == 200);
	before = srv.tls_requests;
	snprintf(zero_err, sizeof(zero_err), "%s", sync_error(&h, ZERO_WORDS, out, sizeof(out)));
	bool held = fooled && !strcmp(zero_err, "AL_E_TLS_VERIFY") && srv.tls_requests == before;
	report("clock", held,
	       "a host clock set back to when an expired certificate was valid is "
	       "overruled by the verified chain's median time past, shared by the "
	       "enclave's nodes (before any chain, the control, it is believed)");
	fh_close(&h);

	/* roots: the same server, the user naming no CA. */
	unsigned count;
	char hex[65], want[256];
	expected_roots(&count, hex);
	snprintf(want, sizeof(want), "\"image_roots\":\"%u roots of Debian ca-certificates", count);
	CHECK_OK(open_host(&h, "roots", T_2020_06_01)); /* the certificate in date */
	CHECK(fh_provision(&h, LEGAL_WORDS, NULL, out, sizeof(out)) == 200);
	CHECK(set_chain(&h, LEGAL_WORDS, url_https, NULL) == 200);
	CHECK(user(&h, LEGAL_WORDS, "GET", "/v1/chain", NULL, out, sizeof(out)) == 200);
	bool named = strstr(out, want) != NULL && strstr(out, hex) != NULL;
	before = srv.tls_requests;
	char roots_err[64];
	snprintf(roots_err, sizeof(roots_err), "%s", sync_error(&h, LEGAL_WORDS, out, sizeof(out)));
	held = named && !strcmp(roots_err, "AL_E_TLS_VERIFY") && srv.tls_requests == before;
	/* Control: the user's own CA for the same server. */
	CHECK(set_chain(&h, LEGAL_WORDS, url_https, ca_pem) == 200);
	CHECK(user(&h, LEGAL_WORDS, "GET", "/v1/chain", NULL, out, sizeof(out)) == 200);
	held = held && strstr(out, "\"image_roots\":null") != NULL;
	held = held && !strcmp(sync_error(&h, LEGAL_WORDS, out, sizeof(out)), "");
	report("roots", held,
	       "with no CA of the user's, only the image's roots (Debian's Mozilla "
	       "set, as counted and hashed from the package) are trusted: the host's "
	       "own CA is refused");
	fh_close(&h);

	printf("hostile fetch: %d attacks\n", attacks);
	if (srv.tls_on)
		al_tls_clear(&srv.tls);
	al_tls_ctx_clear(&srv.ctx);
	tc_free(&ca);
	tc_free(&leaf);
	close(lfd);
	snprintf(out, sizeof(out), "rm -rf '%s'", base);
	CHECK(system(out) == 0);
	return al_t_finish();
}
