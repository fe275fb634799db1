/* Tamper evidence: flipping any single byte of a quote's signed region, its
 * signature data (QE report, keys, certification data), the certificates or the
 * collateral must turn the verdict into contraindicated, naming a verification
 * step (never a policy step). Positions are spread over every region; the flip
 * value alternates between 0x01, 0x80 and 0xff. */
#include <string.h>

#include "attest/attest.h"
#include "test.h"

#include "../vectors/attest_files.h"

typedef struct flip_stats {
	int flips;
	int caught;
} flip_stats;

static const uint8_t flip_values[3] = {0x01, 0x80, 0xff};

static bool step_in(const char *step, const char *const *allowed)
{
	if (!allowed)
		return strncmp(step, "policy_", 7) != 0;
	for (; *allowed; allowed++)
		if (strcmp(step, *allowed) == 0)
			return true;
	return false;
}

/* Flip buf[from..to) at every `stride`-th byte, verify, restore. */
static void flip_region(const char *name, uint8_t *buf, size_t from, size_t to, size_t stride,
                        const al_att_input *in, const char *const *allowed)
{
	flip_stats st = {0, 0};
	al_att_result r;

	for (size_t i = from; i < to; i += stride) {
		uint8_t v = flip_values[(i / stride) % 3];
		al_err err;

		buf[i] ^= v;
		err = attest_run(&r, in);
		buf[i] ^= v;
		st.flips++;
		if ((err == AL_OK || err == AL_E_ATT_MISSING) &&
		    r.status == AL_ATT_CONTRAINDICATED && r.n_failures > 0 &&
		    step_in(r.failures[0].step, allowed)) {
			st.caught++;
			continue;
		}
		fprintf(stderr, "%s: flip 0x%02x at %zu not caught (status %s, step %s)\n", name, v,
		        i, al_att_status_name(r.status),
		        r.n_failures ? r.failures[0].step : "(none)");
	}
	CHECK(st.flips > 0 && st.caught == st.flips);
	fprintf(stderr, "flip %-28s %4d/%d caught\n", name, st.caught, st.flips);
}

static void baseline(const al_att_input *in, al_att_status want)
{
	al_att_result r;

	CHECK_OK(attest_run(&r, in));
	CHECK(r.status == want && r.n_failures == 0);
}

static const char *const quote_steps[] = {"detect", "quote_format", "quote_signature", NULL};

static void dcap(const char *quote, const char *col, const char *at, al_att_status want)
{
	size_t ql, cl;
	uint8_t *q = attest_load(quote, &ql), *c = attest_load(col, &cl);
	al_att_input in = {0};
	size_t signed_len = (q[0] == 3) ? 432 : 632;
	char name[64];

	in.evidence = q;
	in.evidence_len = ql;
	in.collateral = c;
	in.collateral_len = cl;
	in.now = attest_time(at);
	baseline(&in, want);
	snprintf(name, sizeof(name), "%.4s signed region", quote);
	flip_region(name, q, 0, signed_len, 3, &in, quote_steps);
	snprintf(name, sizeof(name), "%.4s signature data", quote);
	flip_region(name, q, signed_len, ql, 7, &in, NULL);
	snprintf(name, sizeof(name), "%.4s collateral", quote);
	flip_region(name, c, 0, cl, 11, &in, NULL);
	free(q);
	free(c);
}

static void snp(void)
{
	size_t rl, vl, al;
	uint8_t *rep = attest_load("snp/gosev_attestation.bin", &rl);
	uint8_t *vcek = attest_load("snp/gosev_vcek.der", &vl);
	uint8_t *ak = attest_load("snp/amd_ask_ark_milan.pem", &al);
	static const char *const report_steps[] = {"detect", "report_format", "report_signature",
	                                           NULL};
	al_att_input in = {0};
	al_att_policy p;

	al_att_policy_default(&p);
	p.allow_debug = true;
	in.evidence = rep;
	in.evidence_len = rl;
	in.vcek = vcek;
	in.vcek_len = vl;
	in.ask_ark = ak;
	in.ask_ark_len = al;
	in.policy = &p;
	in.now = attest_time("2025-06-19T00:00:00Z");
	baseline(&in, AL_ATT_WARNING);
	flip_region("snp report", rep, 0, rl, 3, &in, report_steps);
	flip_region("snp vcek", vcek, 0, vl, 5, &in, NULL);
	flip_region("snp ask+ark", ak, 0, al, 7, &in, NULL);
	free(rep);
	free(vcek);
	free(ak);
}

static void psa(const char *file)
{
	size_t tl, kl;
	uint8_t *tok = attest_load(file, &tl), *key = attest_load("psa/tfm_public.pem", &kl);
	al_att_input in = {0};

	in.evidence = tok;
	in.evidence_len = tl;
	in.key = key;
	in.key_len = kl;
	baseline(&in, AL_ATT_AFFIRMING);
	flip_region(file, tok, 0, tl, 2, &in, NULL);
	free(tok);
	free(key);
}

int main(void)
{
	dcap("sgx/dcapqvl_sgx_quote.bin", "sgx/dcapqvl_sgx_quote_collateral.json",
	     "2025-06-19T10:56:12Z", AL_ATT_WARNING);
	dcap("tdx/dcapqvl_tdx_quote.bin", "tdx/dcapqvl_tdx_quote_collateral.json",
	     "2025-06-19T10:32:28Z", AL_ATT_AFFIRMING);
	snp();
	psa("psa/tfm_psa-2_0_0_sign1.bin");
	psa("psa/tfm_psa-iot-1_sign1.bin");
	return al_t_finish();
}
