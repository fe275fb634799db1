#include "bench_attest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "attest/der.h"
#include "bench.h"

struct attest_ctx {
	al_att_input in;
	al_att_status want;
	al_arena arena;
	uint8_t *mem;
};

static uint8_t *load(const char *rel, size_t *len)
{
	char path[4096];
	const char *dir = getenv("ALIGHT_ATTEST");
	FILE *f;
	long n;
	uint8_t *buf;

	/* Default: <repo>/../shared/attest, found from this file's path. */
	if (dir && dir[0]) {
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
	} else {
		const char *cut = strstr(__FILE__, "/bench/");
		int k = cut ? (int)(cut - __FILE__) + 1 : 0;

		snprintf(path, sizeof(path), "%.*s../shared/attest/%s", k, __FILE__, rel);
	}
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		bench_fail("cannot read attestation sample", path);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		bench_fail("cannot read attestation sample", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int op_verify(void *arg)
{
	struct attest_ctx *c = arg;
	al_att_result r;

	al_arena_init(&c->arena, c->mem, AL_ATT_SCRATCH_SIZE);
	if (al_att_verify(&c->arena, &r, &c->in) != AL_OK)
		return -1;
	return r.status == c->want ? 0 : -1;
}

static double rate(struct attest_ctx *c)
{
	double r;

	c->mem = malloc(AL_ATT_SCRATCH_SIZE);
	if (!c->mem)
		bench_fail("out of memory", NULL);
	r = bench_rate(op_verify, c, 16);
	free(c->mem);
	return r;
}

static double dcap(const char *quote, const char *col, const char *at, al_att_status want)
{
	struct attest_ctx c;
	uint8_t *q, *j;
	double r;

	memset(&c, 0, sizeof(c));
	q = load(quote, &c.in.evidence_len);
	j = load(col, &c.in.collateral_len);
	c.in.evidence = q;
	c.in.collateral = j;
	if (al_att_parse_time(&c.in.now, at, strlen(at)) != AL_OK)
		bench_fail("bad time", at);
	c.want = want;
	r = rate(&c);
	free(q);
	free(j);
	return r;
}

static double snp(void)
{
	struct attest_ctx c;
	al_att_policy p;
	uint8_t *a, *b, *d;
	double r;

	memset(&c, 0, sizeof(c));
	al_att_policy_default(&p);
	p.allow_debug = true;
	c.in.evidence = a = load("snp/gosev_attestation.bin", &c.in.evidence_len);
	c.in.vcek = b = load("snp/gosev_vcek.der", &c.in.vcek_len);
	c.in.ask_ark = d = load("snp/amd_ask_ark_milan.pem", &c.in.ask_ark_len);
	c.in.policy = &p;
	c.in.now = 1750291200; /* 2025-06-19 */
	c.want = AL_ATT_WARNING;
	r = rate(&c);
	free(a);
	free(b);
	free(d);
	return r;
}

static double psa(void)
{
	struct attest_ctx c;
	uint8_t *a, *b;
	double r;

	memset(&c, 0, sizeof(c));
	c.in.evidence = a = load("psa/tfm_psa-2_0_0_sign1.bin", &c.in.evidence_len);
	c.in.key = b = load("psa/tfm_public.pem", &c.in.key_len);
	c.want = AL_ATT_AFFIRMING;
	r = rate(&c);
	free(a);
	free(b);
	return r;
}

void bench_attest(void)
{
	bench_put("attest_sgx_dcap_verify_with_collateral_per_s",
	          dcap("sgx/dcapqvl_sgx_quote.bin", "sgx/dcapqvl_sgx_quote_collateral.json",
	               "2025-06-19T10:56:12Z", AL_ATT_WARNING));
	bench_put("attest_tdx_dcap_verify_with_collateral_per_s",
	          dcap("tdx/dcapqvl_tdx_quote.bin", "tdx/dcapqvl_tdx_quote_collateral.json",
	               "2025-06-19T10:32:28Z", AL_ATT_AFFIRMING));
	bench_put("attest_snp_verify_per_s", snp());
	bench_put("attest_psa_verify_per_s", psa());
}
