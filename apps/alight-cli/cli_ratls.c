/* alight-cli over RA-TLS (cli_ratls.h). */
#include "cli_ratls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/ratls_client.h"
#include "crypto/tls.h"
#include "host/netconn.h"
#include "host/sim_platform.h"
#include "util/hex.h"

#define CLI_RATLS_TIMEOUT_MS 120000

struct cli_ratls {
	al_conn conn; /* must not move (its TLS engine): the struct is heap-allocated */
	al_tls_ctx ctx;
	bool ctx_ready, conn_ready;
	al_ratls_client rc;
	al_att_policy policy;
	uint8_t *collateral, *root;
	size_t collateral_len, root_len;
	void *scratch;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool
failf(char *msg, size_t cap, const char *fmt, ...);

static bool failf(char *msg, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
	return false;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* The policy: the file's, plus the pin and the simulation flag of the options. A
 * connection that pins no measurement would trust any enclave: refused. */
static bool load_policy(cli_ratls *r, const cli_ratls_opts *o, char *msg, size_t cap)
{
	al_att_policy *p = &r->policy;
	uint8_t *json;
	size_t len = 0, n;

	al_att_policy_default(p);
	if (o->policy_file != NULL) {
		json = read_file(o->policy_file, &len);
		if (json == NULL)
			return failf(msg, cap, "cannot read --policy %s", o->policy_file);
		if (al_att_policy_parse(p, json, len) != AL_OK) {
			free(json);
			return failf(msg, cap, "--policy %s is not a valid policy", o->policy_file);
		}
		free(json);
	}
	if (o->measurement != NULL) {
		if (p->n_measurements == AL_ATT_POLICY_MAX ||
		    al_hex_decode(p->measurements[p->n_measurements], 48, &n, o->measurement,
		                  strlen(o->measurement)) != AL_OK ||
		    (n != 32 && n != 48))
			return failf(msg, cap, "--measurement wants 32 or 48 bytes of hex");
		p->measurement_len[p->n_measurements++] = n;
	}
	if (o->allow_simulated)
		p->allow_simulated = true;
	if (p->n_measurements == 0)
		return failf(msg, cap,
		             "--rpc-connect needs a measurement to pin (--measurement HEX or "
		             "allowed_measurements in --policy)");
	return true;
}

/* Collateral and root: explicit files, or the simulation directory's. */
static bool load_trust(cli_ratls *r, const cli_ratls_opts *o, char *msg, size_t cap)
{
	char col[4096], root[4096];
	const char *dir = o->sim_dir != NULL ? o->sim_dir : al_sim_platform_dir(NULL);

#ifdef ALIGHT_SIM_DIR
	if (dir == NULL)
		dir = ALIGHT_SIM_DIR;
#endif
	snprintf(col, sizeof(col), "%s/collateral.json", dir ? dir : ".");
	snprintf(root, sizeof(root), "%s/root.pem", dir ? dir : ".");
	if (o->collateral_file != NULL)
		snprintf(col, sizeof(col), "%s", o->collateral_file);
	r->collateral = read_file(col, &r->collateral_len);
	if (r->collateral == NULL)
		return failf(msg, cap, "cannot read the collateral %s", col);
	/* With the simulation root, simulated evidence is recognised as such (and
	 * refused at step `simulated` unless allowed); without it, it ends nowhere. */
	if (o->root_file != NULL)
		snprintf(root, sizeof(root), "%s", o->root_file);
	r->root = read_file(root, &r->root_len);
	if (r->root == NULL && (r->policy.allow_simulated || o->root_file != NULL))
		return failf(msg, cap, "cannot read the root %s", root);
	return true;
}

static bool split_addr(char *host, size_t cap, uint16_t *port, const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;
	size_t hl;

	if (colon == NULL || colon == s)
		return false;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p == 0 || p > 65535)
		return false;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= cap)
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return true;
}

/* Why the handshake failed, with the step the evidence failed at if it did. */
static void explain(cli_ratls *r, al_err e, const char *addr, char *msg, size_t cap)
{
	const al_att_result *res = al_ratls_client_result(&r->rc);
	const char *step = al_ratls_client_step(&r->rc);

	if (e == AL_E_TLS_PEER_REJECTED && res != NULL && step != NULL)
		failf(msg, cap, "RA-TLS: %s refused: its evidence failed at step %s: %s", addr,
		      step, res->failures[0].reason);
	else
		failf(msg, cap, "RA-TLS handshake with %s failed: %s (%s)", addr, al_err_str(e),
		      al_tls_error_detail(&r->conn.tls));
}

static bool connect_and_verify(cli_ratls *r, const cli_ratls_opts *o, char *msg, size_t cap)
{
	al_tls_config cfg = {0};
	int64_t now = (int64_t)time(NULL);
	char host[256];
	uint16_t port;
	int fd;
	al_err e;

	if (al_ratls_client_init(&r->rc, r->scratch, AL_ATT_SCRATCH_SIZE, &r->policy, r->collateral,
	                         r->collateral_len, r->root, r->root_len, now) != AL_OK)
		return failf(msg, cap, "cannot set up the RA-TLS client");
	al_ratls_client_tls_config(&cfg, &r->rc);
	cfg.key = o->client_key;
	cfg.cert = o->client_cert;
	if (al_tls_ctx_init(&r->ctx, false, &cfg) != AL_OK)
		return failf(msg, cap, "cannot set up TLS");
	r->ctx_ready = true;
	if (!split_addr(host, sizeof(host), &port, o->connect))
		return failf(msg, cap, "--rpc-connect \"%s\": want HOST:PORT", o->connect);
	e = al_net_connect(&fd, host, port, 10000);
	if (e != AL_OK)
		return failf(msg, cap, "cannot reach alightd at %s: %s", o->connect, al_err_str(e));
	al_conn_init(&r->conn, fd, CLI_RATLS_TIMEOUT_MS);
	r->conn_ready = true;
	e = al_tls_client_init(&r->conn.tls, &r->ctx, NULL, now);
	if (e == AL_OK)
		e = al_conn_tls_handshake(&r->conn);
	if (e != AL_OK) {
		explain(r, e, o->connect, msg, cap);
		return false;
	}
	return true;
}

cli_ratls *cli_ratls_open(const cli_ratls_opts *o, char *msg, size_t cap, int *code)
{
	cli_ratls *r = calloc(1, sizeof(*r));

	*code = 2;
	if (r == NULL || (r->scratch = malloc(AL_ATT_SCRATCH_SIZE)) == NULL) {
		failf(msg, cap, "out of memory");
		cli_ratls_close(r);
		return NULL;
	}
	if (!load_policy(r, o, msg, cap) || !load_trust(r, o, msg, cap)) {
		cli_ratls_close(r);
		return NULL;
	}
	*code = 1;
	if (!connect_and_verify(r, o, msg, cap)) {
		cli_ratls_close(r);
		return NULL;
	}
	return r;
}

bool cli_ratls_send(cli_ratls *r, const uint8_t *p, size_t n)
{
	return al_conn_write(&r->conn, p, n) == AL_OK;
}

long cli_ratls_recv(cli_ratls *r, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	al_err e = al_conn_read(&r->conn, buf, cap, &n, CLI_RATLS_TIMEOUT_MS);

	if (e == AL_E_NET_CLOSED)
		return 0;
	return e == AL_OK ? (long)n : -1;
}

void cli_ratls_close(cli_ratls *r)
{
	if (r == NULL)
		return;
	if (r->conn_ready)
		al_conn_close(&r->conn);
	if (r->ctx_ready)
		al_tls_ctx_clear(&r->ctx);
	free(r->collateral);
	free(r->root);
	free(r->scratch);
	free(r);
}
