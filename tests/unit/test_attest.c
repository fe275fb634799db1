/* Unit tests for src/attest: encodings (PEM, base64, DER, CBOR, time), parsers on
 * truncated and oversized input, pinned roots, policy files, and verdicts that
 * depend on the inputs (time, missing inputs, wrong keys, wrong roots). */
#include <string.h>

#include "attest/attest.h"
#include "attest/cbor.h"
#include "attest/collateral.h"
#include "attest/dcap.h"
#include "attest/psa.h"
#include "attest/roots.h"
#include "attest/sgx_quote.h"
#include "attest/snp.h"
#include "crypto/hash.h"
#include "test.h"
#include "util/hex.h"

#include "../vectors/attest_files.h"

static uint8_t arena_mem[1 << 16];

static void test_base64(void)
{
	uint8_t out[16];
	size_t n;
	char enc[16];

	CHECK_OK(al_att_base64_decode(out, sizeof(out), &n, (const uint8_t *)"aGk=", 4));
	CHECK(n == 2 && memcmp(out, "hi", 2) == 0);
	/* RFC 4648 3.5: "aGl=" has non-zero pad bits. */
	CHECK_ERR(al_att_base64_decode(out, sizeof(out), &n, (const uint8_t *)"aGl=", 4),
	          AL_E_ATT_PEM);
	CHECK_ERR(al_att_base64_decode(out, sizeof(out), &n, (const uint8_t *)"a=Gk", 4),
	          AL_E_ATT_PEM);
	CHECK_ERR(al_att_base64_decode(out, sizeof(out), &n, (const uint8_t *)"aGk", 3),
	          AL_E_ATT_PEM);
	CHECK_ERR(al_att_base64_decode(out, 1, &n, (const uint8_t *)"aGk=", 4), AL_E_BUFSIZE);
	CHECK(al_att_base64_encode(enc, sizeof(enc), (const uint8_t *)"hi", 2) == 4 &&
	      memcmp(enc, "aGk=", 4) == 0);
}

static void test_pem(void)
{
	static const char ok[] = "-----BEGIN CERTIFICATE-----\naGk=\n-----END CERTIFICATE-----\n"
	                         "\r\n-----BEGIN CERTIFICATE-----\r\naGk=\r\n"
	                         "-----END CERTIFICATE-----";
	static const char *const bad[] = {
	    "-----BEGIN CERTIFICATE-----\naGk=\n",                             /* no END */
	    "x-----BEGIN CERTIFICATE-----\naGk=\n-----END CERTIFICATE-----\n", /* junk */
	    "-----BEGIN CERTIFICATE-----\naG k=\n-----END CERTIFICATE-----\n",
	    "-----BEGIN CERTIFICATE-----\naGk=\n-----END CERTIFICATE-----\nx",
	    "-----BEGIN CERTIFICATE-----\naGk=\naGk=\n-----END CERTIFICATE-----\n",
	    "-----BEGIN CERTIFICATE-----\naGk=\r-----END CERTIFICATE-----\n",
	    "-----BEGIN PUBLIC KEY-----\naGk=\n-----END PUBLIC KEY-----\n",
	    "",
	};
	al_att_blob out[4];
	al_arena a;
	size_t n;

	al_arena_init(&a, arena_mem, sizeof(arena_mem));
	CHECK_OK(al_att_pem_decode(&a, out, 4, &n, "CERTIFICATE", (const uint8_t *)ok, strlen(ok)));
	CHECK(n == 2 && out[1].len == 2 && memcmp(out[1].p, "hi", 2) == 0);
	CHECK_ERR(al_att_pem_decode(&a, out, 1, &n, "CERTIFICATE", (const uint8_t *)ok, strlen(ok)),
	          AL_E_TOO_LARGE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(al_att_pem_decode(&a, out, 4, &n, "CERTIFICATE", (const uint8_t *)bad[i],
		                        strlen(bad[i])) != AL_OK);
}

static void test_der_time(void)
{
	static const uint8_t seq[] = {0x30, 0x03, 0x02, 0x01, 0x05};
	static const uint8_t nonmin[] = {0x30, 0x81, 0x03, 0x02, 0x01, 0x05};
	static const uint8_t lead0[] = {0x00, 0x05};
	al_att_blob in = {seq, sizeof(seq)}, v;
	uint8_t tag;
	uint64_t u;
	int64_t t;

	CHECK_OK(al_der_next(&in, &tag, &v));
	CHECK(tag == 0x30 && v.len == 3 && in.len == 0);
	in.p = seq;
	in.len = 4;
	CHECK_ERR(al_der_next(&in, &tag, &v), AL_E_ATT_DER);
	in.p = nonmin;
	in.len = sizeof(nonmin);
	CHECK_ERR(al_der_next(&in, &tag, &v), AL_E_ATT_DER);
	CHECK_ERR(al_der_uint((al_att_blob){lead0, 2}, &u), AL_E_ATT_DER);
	CHECK_OK(al_der_uint((al_att_blob){lead0 + 1, 1}, &u));
	CHECK(u == 5);
	CHECK_OK(al_att_parse_time(&t, "2025-06-19T10:56:12Z", 20));
	CHECK(t == 1750330572);
	CHECK_OK(al_att_parse_time(&t, "2024-02-29T00:00:00.123Z", 24));
	CHECK_ERR(al_att_parse_time(&t, "2025-02-29T00:00:00Z", 20), AL_E_ARG);
	CHECK_ERR(al_att_parse_time(&t, "2025-06-19 10:56:12Z", 20), AL_E_ARG);
	CHECK_ERR(al_att_parse_time(&t, "2025-06-19T10:56:12+01:00", 25), AL_E_ARG);
}

static void test_cbor(void)
{
	/* #6.60000([h'01', h'02']) */
	static const uint8_t dice[] = {0xda, 0x00, 0x00, 0xea, 0x60, 0x82, 0x41, 0x01, 0x41, 0x02};
	static const uint8_t indef[] = {0x9f, 0x01, 0xff};
	static const uint8_t deep[20] = {0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
	                                 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
	                                 0x81, 0x81, 0x81, 0x81, 0x81, 0x00};
	static const uint8_t huge[] = {0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	al_cbor c;
	uint8_t head[9];

	al_cbor_init(&c, dice, sizeof(dice));
	CHECK(al_cbor_skip(&c) && al_cbor_at_end(&c));
	al_cbor_init(&c, dice, sizeof(dice) - 1);
	CHECK(!al_cbor_skip(&c) && al_cbor_err(&c) == AL_E_TRUNCATED);
	al_cbor_init(&c, indef, sizeof(indef));
	CHECK(!al_cbor_skip(&c) && al_cbor_err(&c) == AL_E_ATT_CBOR);
	al_cbor_init(&c, deep, sizeof(deep));
	CHECK(!al_cbor_skip(&c) && al_cbor_err(&c) == AL_E_ATT_CBOR);
	al_cbor_init(&c, huge, sizeof(huge));
	CHECK(!al_cbor_skip(&c) && al_cbor_err(&c) == AL_E_TRUNCATED);
	CHECK(al_cbor_put_head(head, AL_CBOR_TAG, 60000) == 3 &&
	      memcmp(head, "\xd9\xea\x60", 3) == 0);
}

static void test_roots(void)
{
	static const char *const fp[AL_ATT_N_ROOTS] = {
	    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
	    "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
	    "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
	    "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
	};
	uint8_t h[32];
	char hex[65];

	for (size_t i = 0; i < AL_ATT_N_ROOTS; i++) {
		al_sha256(h, al_att_roots[i].der, al_att_roots[i].len);
		CHECK_OK(al_hex_encode(hex, sizeof(hex), h, 32));
		CHECK(strcmp(hex, fp[i]) == 0);
	}
}

/* Every truncation of a real quote fails to parse; zero padding is accepted;
 * non-zero trailing bytes are refused. */
static void test_quote_parse(void)
{
	size_t ql;
	uint8_t *q = attest_load("sgx/dcapqvl_sgx_quote.bin", &ql), *big;
	al_sgx_quote p;

	CHECK_OK(al_sgx_quote_parse(&p, q, ql));
	CHECK(p.version == 3 && p.signed_region.len == 432 && p.qe_auth.len == 32 &&
	      p.cert_type == 5 && p.len == ql);
	for (size_t n = 0; n < ql; n += (n < 1100 ? 1 : 97))
		CHECK(al_sgx_quote_parse(&p, q, n) != AL_OK);
	big = calloc(1, ql + 70);
	memcpy(big, q, ql);
	CHECK_OK(al_sgx_quote_parse(&p, big, ql + 70));
	big[ql + 69] = 1;
	CHECK_ERR(al_sgx_quote_parse(&p, big, ql + 70), AL_E_TRAILING);
	free(big);
	free(q);
	q = attest_load("tdx/dcapqvl_tdx_quote.bin", &ql);
	CHECK_OK(al_sgx_quote_parse(&p, q, ql));
	CHECK(p.version == 4 && p.tee_type == AL_SGX_TEE_TDX && p.signed_region.len == 632 &&
	      p.len + 70 == ql);
	free(q);
}

static void test_snp_parse(void)
{
	size_t rl, vl;
	uint8_t *r = attest_load("snp/gosev_attestation.bin", &rl);
	uint8_t *v = attest_load("snp/gosev_vcek.der", &vl);
	al_snp_report rep;
	al_snp_vcek_ext e;

	CHECK_OK(al_snp_report_parse(&rep, r, rl));
	CHECK_ERR(al_snp_report_parse(&rep, r, rl - 1), AL_E_TRUNCATED);
	CHECK_OK(al_snp_vcek_ext_parse(&e, v, vl));
	CHECK(e.bl == 2 && e.tee == 0 && e.snp == 5 && e.ucode == 68);
	CHECK_ERR(al_snp_vcek_ext_parse(&e, v, vl - 1), AL_E_ATT_CERT);
	r[0x400] = 1; /* beyond r and s in the signature field */
	CHECK_ERR(al_snp_report_parse(&rep, r, rl), AL_E_ATT_FORMAT);
	free(r);
	free(v);
}

static void test_collateral_parse(void)
{
	size_t cl;
	uint8_t *c = attest_load("sgx/dcapqvl_sgx_quote_collateral.json", &cl);
	al_att_collateral col;
	al_att_tcb_info t;
	al_att_qe_identity q;
	al_arena a;
	static const char pcs[] =
	    "{\"tcbInfo\":{\"a\":1},\"signature\":\""
	    "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
	    "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\"}";
	al_att_blob v;
	uint8_t sig[64];

	al_arena_init(&a, arena_mem, sizeof(arena_mem));
	CHECK_OK(al_att_collateral_parse(&a, &col, c, cl));
	CHECK_OK(al_att_tcb_info_parse(&a, &t, col.tcb_info.p, col.tcb_info.len));
	CHECK(!t.tdx && t.version == 3 && t.n_levels == 11);
	CHECK_OK(al_att_qe_identity_parse(&a, &q, col.qe_identity.p, col.qe_identity.len));
	CHECK(!q.td_qe && q.isvprodid == 1);
	CHECK_ERR(al_att_collateral_parse(&a, &col, c, cl - 2), AL_E_ATT_JSON);
	CHECK_ERR(al_att_collateral_parse(&a, &col, (const uint8_t *)"{}", 2), AL_E_ATT_JSON);
	CHECK_OK(al_att_signed_json_split(&v, sig, (const uint8_t *)pcs, strlen(pcs), "tcbInfo"));
	CHECK(v.len == 7 && memcmp(v.p, "{\"a\":1}", 7) == 0 && sig[1] == 1);
	CHECK_ERR(
	    al_att_signed_json_split(&v, sig, (const uint8_t *)pcs, strlen(pcs) - 1, "tcbInfo"),
	    AL_E_ATT_JSON);
	free(c);
}

static void test_policy(void)
{
	static const char good[] =
	    "{\"allow_debug\": true, \"allowed_measurements\": [\"00ff\"], \"min_tcb_status\": "
	    "\"SWHardeningNeeded\", \"min_snp_tcb\": {\"bl\":1,\"tee\":0,\"snp\":5,\"ucode\":1}}";
	static const char *const bad[] = {"[]",
	                                  "{\"allow_debug\": 1}",
	                                  "{\"unknown\": true}",
	                                  "{\"min_tcb_status\": \"Fine\"}",
	                                  "{\"allowed_signers\": [\"zz\"]}",
	                                  "{"};
	al_att_policy p;

	CHECK_OK(al_att_policy_parse(&p, (const uint8_t *)good, strlen(good)));
	CHECK(p.allow_debug && !p.allow_simulated && p.n_measurements == 1 &&
	      p.measurement_len[0] == 2 && p.min_tcb == AL_TCB_SW_HARDENING_NEEDED &&
	      p.have_min_snp_tcb && p.min_snp_tcb[2] == 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_ERR(al_att_policy_parse(&p, (const uint8_t *)bad[i], strlen(bad[i])),
		          AL_E_ATT_JSON);
	CHECK(al_dcap_converge(AL_TCB_CONFIGURATION_NEEDED, AL_TCB_OUT_OF_DATE) ==
	      AL_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	CHECK(al_dcap_converge(AL_TCB_UP_TO_DATE, AL_TCB_REVOKED) == AL_TCB_REVOKED);
	CHECK(al_dcap_converge(AL_TCB_SW_HARDENING_NEEDED, AL_TCB_UP_TO_DATE) ==
	      AL_TCB_SW_HARDENING_NEEDED);
}

static const char *first_step(const al_att_result *r)
{
	return r->n_failures ? r->failures[0].step : "";
}

/* Verdicts that depend on the other inputs. */
static void test_dcap_inputs(void)
{
	size_t ql, cl, rl;
	uint8_t *q = attest_load("sgx/dcapqvl_sgx_quote.bin", &ql);
	uint8_t *c = attest_load("sgx/dcapqvl_sgx_quote_collateral.json", &cl);
	uint8_t *ark = attest_load("snp/amd_ask_ark_milan.pem", &rl);
	al_att_input in = {0};
	al_att_result r;
	al_att_policy p;

	in.evidence = q;
	in.evidence_len = ql;
	in.collateral = c;
	in.collateral_len = cl;
	/* Before the collateral was issued, and after it expired. */
	in.now = attest_time("2025-06-19T10:00:00Z");
	CHECK_OK(attest_run(&r, &in));
	CHECK(r.status == AL_ATT_CONTRAINDICATED && strcmp(first_step(&r), "pck_chain") == 0);
	in.now = attest_time("2026-11-21T00:00:00Z");
	CHECK_OK(attest_run(&r, &in));
	CHECK(r.status == AL_ATT_CONTRAINDICATED && strcmp(first_step(&r), "pck_chain") == 0);
	/* A policy that wants UpToDate rejects ConfigurationAndSWHardeningNeeded. */
	in.now = attest_time("2025-06-19T10:56:12Z");
	al_att_policy_default(&p);
	p.min_tcb = AL_TCB_UP_TO_DATE;
	in.policy = &p;
	CHECK_OK(attest_run(&r, &in));
	CHECK(r.status == AL_ATT_CONTRAINDICATED && strcmp(first_step(&r), "policy_tcb") == 0);
	p.min_tcb = AL_TCB_NONE;
	p.n_signers = 1;
	p.signer_len[0] = 32;
	CHECK_OK(attest_run(&r, &in));
	CHECK(strcmp(first_step(&r), "policy_signer") == 0);
	in.policy = NULL;
	/* A --root that is neither Intel's nor the simulation root is refused. */
	in.extra_root = ark;
	in.extra_root_len = rl;
	CHECK_OK(attest_run(&r, &in));
	CHECK(r.status == AL_ATT_CONTRAINDICATED && strcmp(first_step(&r), "trust_anchor") == 0);
	in.extra_root = NULL;
	/* No collateral: a usage error. */
	in.collateral = NULL;
	CHECK_ERR(attest_run(&r, &in), AL_E_ATT_MISSING);
	CHECK(r.status == AL_ATT_CONTRAINDICATED);
	/* TDX collateral for an SGX quote. */
	free(c);
	c = attest_load("tdx/dcapqvl_tdx_quote_collateral.json", &cl);
	in.collateral = c;
	in.collateral_len = cl;
	CHECK_OK(attest_run(&r, &in));
	CHECK(r.status == AL_ATT_CONTRAINDICATED);
	free(q);
	free(c);
	free(ark);
}

static void test_snp_psa_inputs(void)
{
	size_t rl, vl, al, tl, kl;
	uint8_t *rep = attest_load("snp/gosev_attestation.bin", &rl);
	uint8_t *vcek = attest_load("snp/gosev_vcek.der", &vl);
	uint8_t *genoa = attest_load("snp/amd_ask_ark_genoa.pem", &al);
	uint8_t *mac = attest_load("psa/tfm_psa-2_0_0_mac0.bin", &tl);
	uint8_t *key = attest_load("psa/tfm_key.pem", &kl);
	al_att_input in = {0};
	al_att_result r;

	in.evidence = rep;
	in.evidence_len = rl;
	in.now = attest_time("2025-06-19T00:00:00Z");
	CHECK_ERR(attest_run(&r, &in), AL_E_ATT_MISSING);
	in.vcek = vcek;
	in.vcek_len = vl;
	in.ask_ark = genoa;
	in.ask_ark_len = al;
	CHECK_OK(attest_run(&r, &in));
	CHECK(r.status == AL_ATT_CONTRAINDICATED && strcmp(first_step(&r), "vcek_chain") == 0);
	/* PSA: Mac0 is recognised and refused; a private-key PEM is not a key. */
	memset(&in, 0, sizeof(in));
	in.evidence = mac;
	in.evidence_len = tl;
	in.key = key;
	in.key_len = kl;
	CHECK_OK(attest_run(&r, &in));
	CHECK(r.type == AL_ATT_PSA && strcmp(first_step(&r), "cose_format") == 0 &&
	      r.failures[0].err == AL_E_ATT_UNSUPPORTED);
	free(mac);
	mac = attest_load("psa/tfm_psa-2_0_0_sign1.bin", &tl);
	in.evidence = mac;
	in.evidence_len = tl;
	CHECK_OK(attest_run(&r, &in));
	CHECK(strcmp(first_step(&r), "key") == 0);
	in.key = NULL;
	CHECK_ERR(attest_run(&r, &in), AL_E_ATT_MISSING);
	/* Garbage is not evidence. */
	in.evidence = (const uint8_t *)"hello";
	in.evidence_len = 5;
	CHECK_OK(attest_run(&r, &in));
	CHECK(strcmp(first_step(&r), "detect") == 0);
	free(rep);
	free(vcek);
	free(genoa);
	free(mac);
	free(key);
}

int main(void)
{
	test_base64();
	test_pem();
	test_der_time();
	test_cbor();
	test_roots();
	test_quote_parse();
	test_snp_parse();
	test_collateral_parse();
	test_policy();
	test_dcap_inputs();
	test_snp_psa_inputs();
	return al_t_finish();
}
