/* Every real attestation sample in ../shared/attest verified at its stated time
 * against its stated result (README.md and EXPECTED.json there are the oracle). */
#include <jansson.h>
#include <openssl/x509.h>
#include <string.h>

#include "attest/attest.h"
#include "attest/roots.h"
#include "attest/snp.h"
#include "attest/x509.h"
#include "attest_files.h"
#include "crypto/hash.h"
#include "test.h"
#include "util/hex.h"
#include "vectors.h"

static bool hex_eq(const uint8_t *p, size_t len, const char *hex)
{
	uint8_t buf[128];
	size_t n;

	return al_hex_decode(buf, sizeof(buf), &n, hex, strlen(hex)) == AL_OK && n == len &&
	       memcmp(buf, p, len) == 0;
}

static bool advisories_are(const al_att_result *r, json_t *want)
{
	size_t i;
	json_t *v;

	if (r->n_advisories != json_array_size(want))
		return false;
	json_array_foreach(want, i, v)
	{
		size_t j;

		for (j = 0; j < r->n_advisories; j++)
			if (strcmp(r->advisories[j], json_string_value(v)) == 0)
				break;
		if (j == r->n_advisories)
			return false;
	}
	return true;
}

static bool dcap_vector(json_t *e, bool tdx)
{
	size_t ql, cl;
	uint8_t *q = attest_load(json_string_value(json_object_get(e, "file")), &ql);
	uint8_t *c = attest_load(json_string_value(json_object_get(e, "collateral")), &cl);
	al_att_input in = {0};
	al_att_result r;
	bool ok;
	const char *want = json_string_value(json_object_get(e, "expected_platform_tcb_status"));
	uint8_t h[32];

	in.evidence = q;
	in.evidence_len = ql;
	in.collateral = c;
	in.collateral_len = cl;
	in.now = attest_time(json_string_value(json_object_get(e, "verify_time_utc")));
	al_sha256(h, q, ql);
	ok = hex_eq(h, 32, json_string_value(json_object_get(e, "sha256")));
	ok = ok && attest_run(&r, &in) == AL_OK && r.n_failures == 0;
	ok = ok && strcmp(al_att_tcb_name(r.platform_tcb_status), want) == 0 &&
	     strcmp(al_att_tcb_name(r.tcb_status), want) == 0;
	ok = ok && advisories_are(&r, json_object_get(e, "expected_advisory_ids"));
	ok = ok && hex_eq(r.report_data, 64, json_string_value(json_object_get(e, "report_data")));
	/* UpToDate is affirming; anything else verified is a warning. */
	ok = ok && r.status == (strcmp(want, "UpToDate") == 0 ? AL_ATT_AFFIRMING : AL_ATT_WARNING);
	if (!tdx) {
		ok =
		    ok && r.type == AL_ATT_SGX &&
		    r.qe_tcb_status == al_att_tcb_from_name(json_string_value(
		                           json_object_get(e, "expected_qe_tcb_status"))) &&
		    hex_eq(r.measurement, 32, json_string_value(json_object_get(e, "mrenclave"))) &&
		    hex_eq(r.signer, 32, json_string_value(json_object_get(e, "mrsigner"))) &&
		    hex_eq(r.attributes, 16, json_string_value(json_object_get(e, "attributes"))) &&
		    r.isvprodid == json_integer_value(json_object_get(e, "isvprodid")) &&
		    r.isvsvn == json_integer_value(json_object_get(e, "isvsvn")) && !r.debug;
	} else {
		ok =
		    ok && r.type == AL_ATT_TDX &&
		    hex_eq(r.measurement, 48, json_string_value(json_object_get(e, "mrtd"))) &&
		    hex_eq(r.rtmr[0], 48, json_string_value(json_object_get(e, "rtmr0"))) &&
		    hex_eq(r.tee_tcb_svn, 16, json_string_value(json_object_get(e, "tee_tcb_svn")));
	}
	free(q);
	free(c);
	return ok;
}

static bool snp_vector(bool allow_debug)
{
	size_t rl, vl, al;
	uint8_t *rep = attest_load("snp/gosev_attestation.bin", &rl);
	uint8_t *vcek = attest_load("snp/gosev_vcek.der", &vl);
	uint8_t *ak = attest_load("snp/amd_ask_ark_milan.pem", &al);
	al_att_input in = {0};
	al_att_policy p;
	al_att_result r;
	al_snp_vcek_ext ext;
	static const uint8_t rd[5] = {1, 2, 3, 4, 5};
	static const uint8_t zero[64];
	bool ok;

	al_att_policy_default(&p);
	p.allow_debug = allow_debug;
	in.evidence = rep;
	in.evidence_len = rl;
	in.vcek = vcek;
	in.vcek_len = vl;
	in.ask_ark = ak;
	in.ask_ark_len = al;
	in.policy = &p;
	in.now = attest_time("2025-06-19T00:00:00Z"); /* inside the VCEK's 2022..2029 */
	ok = attest_run(&r, &in) == AL_OK && r.type == AL_ATT_SNP && r.version == 2 &&
	     r.snp_policy == 0xb0000 && r.debug &&
	     hex_eq(r.measurement, 48,
	            "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b"
	            "6bdf8a9ece31a5a608eb0cf2e4872b01") &&
	     memcmp(r.report_data, rd, 5) == 0 && memcmp(r.report_data + 5, zero, 59) == 0 &&
	     r.snp_tcb[0] == 2 && r.snp_tcb[1] == 0 && r.snp_tcb[2] == 5 && r.snp_tcb[3] == 68;
	ok = ok && al_snp_vcek_ext_parse(&ext, vcek, vl) == AL_OK &&
	     memcmp(ext.hwid, r.chip_id, 64) == 0 && strcmp(ext.product, "Milan-B0") == 0;
	if (allow_debug)
		ok = ok && r.status == AL_ATT_WARNING && r.n_failures == 0;
	else
		ok = ok && r.status == AL_ATT_CONTRAINDICATED && r.n_failures == 1 &&
		     strcmp(r.failures[0].step, "policy_debug") == 0 &&
		     r.failures[0].err == AL_E_ATT_DEBUG;
	free(rep);
	free(vcek);
	free(ak);
	return ok;
}

static bool psa_vector(const char *file, const char *profile)
{
	size_t tl, kl;
	uint8_t *tok = attest_load(file, &tl), *key = attest_load("psa/tfm_public.pem", &kl);
	al_att_input in = {0};
	al_att_result r;
	bool ok;

	in.evidence = tok;
	in.evidence_len = tl;
	in.key = key;
	in.key_len = kl;
	ok = attest_run(&r, &in) == AL_OK && r.type == AL_ATT_PSA && r.status == AL_ATT_AFFIRMING &&
	     strcmp(r.psa_profile, profile) == 0 && r.psa_lifecycle == 0x3000 &&
	     r.psa_n_components >= 1;
	free(tok);
	free(key);
	return ok;
}

/* The Intel root sample is the pinned root, with the README's fingerprint. */
static bool intel_root_vector(void)
{
	size_t n, dn;
	uint8_t *pem = attest_load("sgx/Intel_SGX_Provisioning_Certification_RootCA.pem", &n);
	uint8_t h[32], mem[4096];
	al_att_blob der;
	al_arena a;
	bool ok;

	al_arena_init(&a, mem, sizeof(mem));
	ok = al_att_pem_decode(&a, &der, 1, &dn, "CERTIFICATE", pem, n) == AL_OK &&
	     al_att_blob_eq(der, al_att_roots[0].der, al_att_roots[0].len);
	al_sha256(h, al_att_roots[0].der, al_att_roots[0].len);
	ok =
	    ok && hex_eq(h, 32, "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
	free(pem);
	return ok;
}

/* An AMD ASK (or ASVK) + ARK file: ARK pinned, the ASK signed by it (RSA-PSS). */
static bool amd_chain_vector(const char *file)
{
	size_t n, count;
	uint8_t *pem = attest_load(file, &n);
	static uint8_t mem[16384];
	al_att_blob der[4];
	al_arena a;
	X509 *ask = NULL, *ark = NULL;
	const char *detail;
	bool ok, pinned = false;

	al_arena_init(&a, mem, sizeof(mem));
	ok = al_att_pem_decode(&a, der, 4, &count, "CERTIFICATE", pem, n) == AL_OK && count == 2;
	for (size_t i = 1; ok && i < AL_ATT_N_ROOTS; i++)
		pinned |= al_att_blob_eq(der[1], al_att_roots[i].der, al_att_roots[i].len);
	ok = ok && pinned && al_att_x509_parse(&ask, der[0].p, der[0].len) == AL_OK &&
	     al_att_x509_parse(&ark, der[1].p, der[1].len) == AL_OK &&
	     al_att_chain_verify(ask, NULL, 0, ark, NULL, 0, attest_time("2025-06-19T00:00:00Z"),
	                         &detail) == AL_OK;
	X509_free(ask);
	X509_free(ark);
	free(pem);
	return ok;
}

int main(void)
{
	static const char *const amd[] = {
	    "snp/amd_ask_ark_milan.pem",      "snp/amd_ask_ark_milan_vlek.pem",
	    "snp/amd_ask_ark_genoa.pem",      "snp/amd_ask_ark_genoa_vlek.pem",
	    "snp/amd_ask_ark_turin_vcek.pem", "snp/amd_ask_ark_turin_vlek.pem",
	    "snp/gosev_milan_ask_ark.pem",
	};
	al_v_suite s;
	size_t len;
	uint8_t *text = attest_load("EXPECTED.json", &len);
	json_error_t jerr;
	json_t *exp = json_loadb((const char *)text, len, 0, &jerr), *e;
	size_t i;

	al_v_begin(&s, "attest");
	if (!json_is_array(exp) || json_array_size(exp) != 2) {
		fprintf(stderr, "FAIL: EXPECTED.json is not the expected array\n");
		return 1;
	}
	json_array_foreach(exp, i, e)
	{
		const char *f = json_string_value(json_object_get(e, "file"));

		al_v_result(&s, dcap_vector(e, strncmp(f, "tdx/", 4) == 0), "%s", f);
	}
	al_v_result(&s, snp_vector(false), "snp/gosev_attestation.bin (default policy: debug)");
	al_v_result(&s, snp_vector(true), "snp/gosev_attestation.bin (policy allows debug)");
	al_v_result(&s, psa_vector("psa/tfm_psa-2_0_0_sign1.bin", "http://arm.com/psa/2.0.0"),
	            "psa/tfm_psa-2_0_0_sign1.bin");
	al_v_result(&s, psa_vector("psa/tfm_psa-iot-1_sign1.bin", "PSA_IOT_PROFILE_1"),
	            "psa/tfm_psa-iot-1_sign1.bin");
	al_v_result(&s, intel_root_vector(), "sgx/Intel_SGX_Provisioning_Certification_RootCA.pem");
	for (i = 0; i < sizeof(amd) / sizeof(amd[0]); i++)
		al_v_result(&s, amd_chain_vector(amd[i]), "%s", amd[i]);
	json_decref(exp);
	free(text);
	return al_v_end(&s) ? 0 : 1;
}
