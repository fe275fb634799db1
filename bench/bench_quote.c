#include "bench_quote.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/ratls_client.h"
#include "bench.h"
#include "crypto/tls.h"
#include "attest/ratls_server.h"
#include "host/sim_quote.h"
#include "host/sim_platform.h"

typedef struct quote_ctx {
	al_sim_platform plat;
	al_sim_enclave enc;
	uint8_t quote[AL_RATLS_QUOTE_MAX];
	uint8_t scratch[2 * AL_RATLS_QUOTE_MAX + 4096];
	al_ratls_identity id;
	al_tls_ctx server, client;
	al_ratls_client rc;
	uint8_t *verify_scratch;
	int64_t now;
} quote_ctx;

static al_err quote_cb(void *arg, uint8_t *q, size_t cap, size_t *len, const uint8_t rd[64])
{
	quote_ctx *c = arg;

	return al_sim_quote(&c->plat.qe, q, cap, len, &c->enc, rd);
}

static int op_quote(void *arg)
{
	quote_ctx *c = arg;
	uint8_t rd[64] = {1};
	size_t len;

	return al_sim_quote(&c->plat.qe, c->quote, sizeof(c->quote), &len, &c->enc, rd) == AL_OK
	           ? 0
	           : -1;
}

static int op_identity(void *arg)
{
	quote_ctx *c = arg;
	al_ratls_identity id;
	al_arena a;

	al_arena_init(&a, c->scratch, sizeof(c->scratch));
	if (al_ratls_identity_make(&id, &a, quote_cb, c, c->now) != AL_OK)
		return -1;
	al_ratls_identity_clear(&id);
	return 0;
}

static void pump(al_tls *a, al_tls *b)
{
	uint8_t buf[8192];
	size_t n;

	while ((n = al_tls_take(a, buf, sizeof(buf))) > 0)
		if (al_tls_feed(b, buf, n) != AL_OK)
			return;
	while ((n = al_tls_take(b, buf, sizeof(buf))) > 0)
		if (al_tls_feed(a, buf, n) != AL_OK)
			return;
}

static int op_handshake(void *arg)
{
	quote_ctx *c = arg;
	al_err ce = AL_E_TLS_WANT, se = AL_E_TLS_WANT;
	al_tls s, t;
	int rc = -1;

	if (al_tls_client_init(&t, &c->client, NULL, c->now) != AL_OK)
		return -1;
	if (al_tls_server_init(&s, &c->server, c->now) != AL_OK) {
		al_tls_clear(&t);
		return -1;
	}
	for (int i = 0; i < 20 && (ce == AL_E_TLS_WANT || se == AL_E_TLS_WANT); i++) {
		ce = al_tls_handshake(&t);
		pump(&t, &s);
		se = al_tls_handshake(&s);
		pump(&t, &s);
	}
	if (ce == AL_OK && se == AL_OK && al_ratls_client_result(&c->rc)->simulated)
		rc = 0;
	al_tls_clear(&t);
	al_tls_clear(&s);
	return rc;
}

static void setup_tls(quote_ctx *c)
{
	al_tls_config scfg = {0}, ccfg = {0};
	al_att_policy p;
	al_arena a;

	al_arena_init(&a, c->scratch, sizeof(c->scratch));
	if (al_ratls_identity_make(&c->id, &a, quote_cb, c, c->now) != AL_OK)
		bench_fail("RA-TLS identity failed", NULL);
	/* The client pins the enclave's measurement and accepts simulation. */
	al_att_policy_default(&p);
	p.allow_simulated = true;
	p.n_measurements = 1;
	p.measurement_len[0] = 32;
	memcpy(p.measurements[0], c->enc.mrenclave, 32);
	c->verify_scratch = malloc(AL_ATT_SCRATCH_SIZE);
	if (!c->verify_scratch ||
	    al_ratls_client_init(&c->rc, c->verify_scratch, AL_ATT_SCRATCH_SIZE, &p,
	                         c->plat.collateral, c->plat.collateral_len, c->plat.root,
	                         c->plat.root_len, c->now) != AL_OK)
		bench_fail("RA-TLS client setup failed", NULL);
	al_ratls_server_config(&scfg, &c->id);
	al_ratls_client_tls_config(&ccfg, &c->rc);
	if (al_tls_ctx_init(&c->server, true, &scfg) != AL_OK ||
	    al_tls_ctx_init(&c->client, false, &ccfg) != AL_OK)
		bench_fail("TLS context setup failed", NULL);
}

void bench_quote(void)
{
	const char *dir = al_sim_platform_dir(NULL);
	quote_ctx *c = calloc(1, sizeof(*c));

	if (!c || al_sim_platform_load(&c->plat, dir ? dir : ALIGHT_SIM_DIR) != AL_OK)
		bench_fail("cannot load the simulated platform (scripts/sim-root)",
		           dir ? dir : ALIGHT_SIM_DIR);
	memset(c->enc.mrenclave, 0x5a, 32);
	memset(c->enc.mrsigner, 0xa5, 32);
	c->now = (int64_t)time(NULL);
	bench_put("sim_quotes_per_s", bench_rate(op_quote, c, 64));
	bench_put("ratls_identities_per_s", bench_rate(op_identity, c, 16));
	setup_tls(c);
	bench_put("ratls_handshakes_per_s", bench_rate(op_handshake, c, 8));
	al_tls_ctx_clear(&c->client);
	al_tls_ctx_clear(&c->server);
	al_ratls_identity_clear(&c->id);
	al_sim_platform_free(&c->plat);
	free(c->verify_scratch);
	free(c);
}
