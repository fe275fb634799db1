/* Platform `sim` quotes and RA-TLS, with the simulation platform scripts/sim-root made
 * in <build>/sim (OpenSSL's CLI, independent of the code under test).
 *
 * Quotes: the SGX v3 layout field by field (parsed back with attest/sgx_quote.h),
 * verified by the verifier (attest.h): simulated, accepted only when simulation is
 * allowed, refused at the right step after byte flips in each signed part; argument
 * and key errors of the generator.
 * RA-TLS: two TLS engines in memory, the server with the enclave identity
 * (attest/ratls_server.h), the client with the RA-TLS hook (attest/ratls_client.h): pinned
 * to the enclave's measurement it connects and exchanges data; pinned to another
 * measurement, refused (policy_measurement); a certificate whose key is not the one
 * the report data binds, refused (ratls_binding, both ways of getting it wrong);
 * simulated evidence without permission (simulated); a debug enclave (policy_debug);
 * a certificate without evidence (cert_extension); no simulation root (pck_chain). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "attest/ratls_client.h"
#include "attest/sgx_quote.h"
#include "crypto/tls.h"
#include "attest/ratls_server.h"
#include "host/sim_quote.h"
#include "test.h"

typedef struct blob {
	uint8_t *p;
	size_t len;
} blob;

static blob att_key, pck_key, chain, collateral, root, root_key;
static al_sim_qe qe;
static al_sim_enclave enclave;
static int64_t now;
static _Alignas(16) uint8_t scratch[AL_ATT_SCRATCH_SIZE];
static _Alignas(16) uint8_t id_scratch[2 * AL_RATLS_QUOTE_MAX + 4096];
static uint8_t quote[AL_RATLS_QUOTE_MAX];

static blob slurp(const char *name)
{
	char path[4096];
	blob b = {NULL, 0};
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", ALIGHT_SIM_DIR, name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "test_ratls: cannot read %s (scripts/sim-root)\n", path);
		exit(1);
	}
	b.p = malloc((size_t)n + 1);
	if (!b.p || fread(b.p, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	b.len = (size_t)n;
	return b;
}

/* ---- quotes ---- */

static void verify_quote(al_att_result *res, const uint8_t *q, size_t len, bool allow)
{
	al_att_input in = {0};
	al_arena a;

	in.evidence = q;
	in.evidence_len = len;
	in.collateral = collateral.p;
	in.collateral_len = collateral.len;
	in.extra_root = root.p;
	in.extra_root_len = root.len;
	in.now = now;
	in.allow_simulated = allow;
	al_arena_init(&a, scratch, sizeof(scratch));
	CHECK_OK(al_att_verify(&a, res, &in));
}

static const char *first_step(const al_att_result *res)
{
	return res->n_failures ? res->failures[0].step : "";
}

static void test_quote_layout(void)
{
	uint8_t rd[64];
	al_sgx_quote q;
	al_sgx_report r;
	size_t len;

	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(0xa0 + i);
	CHECK_OK(al_sim_quote(&qe, quote, sizeof(quote), &len, &enclave, rd));
	CHECK(len == al_sim_quote_len(&qe));
	CHECK(len == AL_SIM_QUOTE_FIXED_LEN + chain.len + 1);
	CHECK_OK(al_sgx_quote_parse(&q, quote, len));
	CHECK(q.version == 3 && q.tee_type == AL_SGX_TEE_SGX && q.len == len);
	/* sgx_quote_3.h offsets: body at 48, signature_data_len at 432, cert data at 1052. */
	CHECK(q.body.p == quote + 48 && q.signature == quote + 0x1b4);
	CHECK(q.att_key == quote + 0x1f4 && q.qe_report == quote + 0x234);
	CHECK(q.qe_auth.len == 32 && q.qe_auth.p[0] == 0 && q.qe_auth.p[31] == 31);
	CHECK(q.cert_type == 5 && q.cert.p == quote + 1052 && q.cert.len == chain.len + 1);
	CHECK(q.cert.p[q.cert.len - 1] == 0 && memcmp(q.cert.p, chain.p, chain.len) == 0);
	CHECK(memcmp(quote + 0x1c, AL_SIM_QE_ID, strlen(AL_SIM_QE_ID)) == 0);
	al_sgx_report_parse(&r, q.body.p);
	CHECK_MEM(r.mrenclave, enclave.mrenclave, 32);
	CHECK_MEM(r.mrsigner, enclave.mrsigner, 32);
	CHECK(r.isvprodid == enclave.isvprodid && r.isvsvn == enclave.isvsvn);
	CHECK_MEM(r.report_data, rd, 64);
	CHECK(r.attributes[0] == 0x05); /* INIT | MODE64BIT, not DEBUG */
	CHECK(al_sim_quote(&qe, quote, len - 1, &len, &enclave, rd) == AL_E_BUFSIZE && len == 0);
}

static void test_quote_verifies(void)
{
	static const size_t flips[] = {0x10,  0x30,  0x70,  0x170, 0x1b4,
	                               0x1f4, 0x240, 0x3b4, 0x3f6, 1100};
	static const char *const steps[] = {
	    "quote_format",    "quote_signature", "quote_signature",     "quote_signature",
	    "quote_signature", "qe_report_data",  "qe_report_signature", "qe_report_signature",
	    "qe_report_data",  "pck_chain"};
	static uint8_t flipped[AL_RATLS_QUOTE_MAX];
	uint8_t rd[64] = {1, 2, 3};
	al_att_result res;
	size_t len;

	CHECK_OK(al_sim_quote(&qe, quote, sizeof(quote), &len, &enclave, rd));
	verify_quote(&res, quote, len, true);
	CHECK(res.status == AL_ATT_WARNING && res.simulated && res.n_failures == 0);
	CHECK(res.type == AL_ATT_SGX && res.tcb_status == AL_TCB_UP_TO_DATE);
	CHECK_MEM(res.measurement, enclave.mrenclave, 32);
	verify_quote(&res, quote, len, false);
	CHECK(res.status == AL_ATT_CONTRAINDICATED && res.simulated);
	CHECK(strcmp(first_step(&res), "simulated") == 0);
	CHECK_ERR(res.failures[0].err, AL_E_ATT_SIMULATED);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(flipped, quote, len);
		flipped[flips[i]] ^= 0x01;
		verify_quote(&res, flipped, len, true);
		CHECK(res.status == AL_ATT_CONTRAINDICATED);
		if (strcmp(first_step(&res), steps[i]) != 0) {
			fprintf(stderr, "flip at %zu: step %s, want %s\n", flips[i],
			        first_step(&res), steps[i]);
			CHECK(false);
		}
	}
}

static void test_qe_errors(void)
{
	static const uint8_t junk[] =
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	al_sim_qe bad;

	CHECK_ERR(
	    al_sim_qe_init(&bad, junk, sizeof(junk), pck_key.p, pck_key.len, chain.p, chain.len),
	    AL_E_PRIVKEY);
	CHECK_ERR(
	    al_sim_qe_init(&bad, att_key.p, att_key.len, junk, sizeof(junk), chain.p, chain.len),
	    AL_E_PRIVKEY);
	/* The root's key does not belong to the PCK leaf. */
	CHECK_ERR(al_sim_qe_init(&bad, att_key.p, att_key.len, root_key.p, root_key.len, chain.p,
	                         chain.len),
	          AL_E_ATT_CERT);
	CHECK_ERR(al_sim_qe_init(&bad, att_key.p, att_key.len, pck_key.p, pck_key.len, chain.p, 0),
	          AL_E_ARG);
	CHECK(bad.att_key == NULL);
}

static void test_mrsigner(void)
{
	blob signer = slurp("enclave_signer.pem");
	uint8_t a[32], b[32];

	CHECK_OK(al_sim_mrsigner(a, signer.p, signer.len));
	CHECK_OK(al_sim_mrsigner(b, signer.p, signer.len));
	CHECK_MEM(a, b, 32);
	/* A private key, or no key at all, is not a signer's public key. */
	CHECK_ERR(al_sim_mrsigner(b, att_key.p, att_key.len), AL_E_PUBKEY);
	CHECK_ERR(al_sim_mrsigner(b, signer.p, 10), AL_E_PUBKEY);
	CHECK_ERR(al_sim_mrsigner(b, NULL, 0), AL_E_PUBKEY);
	free(signer.p);
}

/* ---- RA-TLS ---- */

typedef struct quoter {
	const al_sim_qe *qe;
	al_sim_enclave enc;
} quoter;

static al_err quote_cb(void *arg, uint8_t *q, size_t cap, size_t *len, const uint8_t rd[64])
{
	const quoter *s = arg;

	return al_sim_quote(s->qe, q, cap, len, &s->enc, rd);
}

static void pump(al_tls *a, al_tls *b)
{
	uint8_t buf[4096];
	size_t n;

	while ((n = al_tls_take(a, buf, sizeof(buf))) > 0)
		CHECK_OK(al_tls_feed(b, buf, n));
	while ((n = al_tls_take(b, buf, sizeof(buf))) > 0)
		CHECK_OK(al_tls_feed(a, buf, n));
}

/* One connection from a client with `policy` to a server with `id`: the client's
 * handshake result; on success a message goes both ways. */
static al_err ratls_connect(const al_ratls_identity *id, const al_att_policy *policy,
                            const uint8_t *anchor, size_t anchor_len, const uint8_t *col,
                            size_t col_len, al_ratls_client *rc)
{
	al_tls_config scfg = {0}, ccfg = {0};
	al_tls_ctx sc, cc;
	al_tls s, c;
	al_err ce = AL_E_TLS_WANT, se = AL_E_TLS_WANT;
	uint8_t buf[16];
	size_t n;

	CHECK_OK(al_ratls_client_init(rc, scratch, sizeof(scratch), policy, col, col_len, anchor,
	                              anchor_len, now));
	al_ratls_server_config(&scfg, id);
	al_ratls_client_tls_config(&ccfg, rc);
	CHECK_OK(al_tls_ctx_init(&sc, true, &scfg));
	CHECK_OK(al_tls_ctx_init(&cc, false, &ccfg));
	CHECK_OK(al_tls_client_init(&c, &cc, NULL, now));
	CHECK_OK(al_tls_server_init(&s, &sc, now));
	for (int i = 0; i < 20 && (ce == AL_E_TLS_WANT || se == AL_E_TLS_WANT); i++) {
		ce = al_tls_handshake(&c);
		pump(&c, &s);
		se = al_tls_handshake(&s);
		pump(&c, &s);
	}
	if (ce == AL_OK) {
		CHECK_OK(se);
		CHECK_OK(al_tls_write(&c, "ping", 4));
		pump(&c, &s);
		CHECK_OK(al_tls_read(&s, buf, sizeof(buf), &n));
		CHECK(n == 4 && memcmp(buf, "ping", 4) == 0);
	} else {
		CHECK(!al_tls_established(&c));
		CHECK(se != AL_OK);
	}
	al_tls_clear(&c);
	al_tls_clear(&s);
	al_tls_ctx_clear(&cc);
	al_tls_ctx_clear(&sc);
	return ce;
}

static void pinned(al_att_policy *p, const uint8_t m[32], bool allow_sim)
{
	al_att_policy_default(p);
	p->allow_simulated = allow_sim;
	p->n_measurements = 1;
	p->measurement_len[0] = 32;
	memcpy(p->measurements[0], m, 32);
}

static void expect_refused(const al_ratls_identity *id, const al_att_policy *p,
                           const uint8_t *anchor, size_t anchor_len, const char *step, al_err err)
{
	al_ratls_client rc;
	al_err ce = ratls_connect(id, p, anchor, anchor_len, collateral.p, collateral.len, &rc);
	const char *got = al_ratls_client_step(&rc);

	CHECK_ERR(ce, AL_E_TLS_PEER_REJECTED);
	if (!got || strcmp(got, step) != 0) {
		fprintf(stderr, "refused at step %s, want %s\n", got ? got : "(none)", step);
		CHECK(false);
	}
	CHECK_ERR(al_ratls_client_result(&rc)->failures[0].err, err);
}

static void test_ratls(void)
{
	quoter qr = {&qe, enclave};
	al_ratls_identity id;
	al_ratls_client rc;
	al_att_policy p;
	al_arena a;
	uint8_t other[32];
	const al_att_result *res;

	al_arena_init(&a, id_scratch, sizeof(id_scratch));
	CHECK_OK(al_ratls_identity_make(&id, &a, quote_cb, &qr, now));
	CHECK(al_arena_used(&a) == 0);

	pinned(&p, enclave.mrenclave, true);
	CHECK_OK(ratls_connect(&id, &p, root.p, root.len, collateral.p, collateral.len, &rc));
	res = al_ratls_client_result(&rc);
	CHECK(res && res->status == AL_ATT_WARNING && res->simulated && res->bound);
	CHECK(res->container == AL_RATLS_DICE && al_ratls_client_step(&rc) == NULL);
	CHECK_MEM(res->report_data, id.report_data, 64);

	memcpy(other, enclave.mrenclave, 32);
	other[31] ^= 1;
	pinned(&p, other, true);
	expect_refused(&id, &p, root.p, root.len, "policy_measurement", AL_E_ATT_POLICY);

	pinned(&p, enclave.mrenclave, false);
	expect_refused(&id, &p, root.p, root.len, "simulated", AL_E_ATT_SIMULATED);
	/* No simulation root given: the chain ends at an unknown root. */
	pinned(&p, enclave.mrenclave, true);
	expect_refused(&id, &p, NULL, 0, "pck_chain", AL_E_ATT_ROOT);
	CHECK_ERR(ratls_connect(&id, &p, root.p, root.len, NULL, 0, &rc), AL_E_TLS_PEER_REJECTED);
	CHECK(strcmp(al_ratls_client_step(&rc), "collateral_format") == 0);
	al_ratls_identity_clear(&id);

	qr.enc.debug = true;
	CHECK_OK(al_ratls_identity_make(&id, &a, quote_cb, &qr, now));
	expect_refused(&id, &p, root.p, root.len, "policy_debug", AL_E_ATT_DEBUG);
	al_ratls_identity_clear(&id);
}

/* A server whose certificate's key is not what the evidence binds. */
static void test_binding_mismatch(void)
{
	quoter qr = {&qe, enclave};
	al_ratls_identity a_id, b_id;
	al_ratls_identity forged = {0};
	static uint8_t ev[AL_RATLS_QUOTE_MAX + 64];
	uint8_t claims[AL_RATLS_CLAIMS_LEN], spki[160], *p = spki, rd[64];
	size_t qlen, evlen;
	al_att_policy pol;
	al_arena a;
	int n;

	al_arena_init(&a, id_scratch, sizeof(id_scratch));
	CHECK_OK(al_ratls_identity_make(&a_id, &a, quote_cb, &qr, now));
	CHECK_OK(al_ratls_identity_make(&b_id, &a, quote_cb, &qr, now));
	pinned(&pol, enclave.mrenclave, true);
	forged.key = b_id.key;

	/* 1. B's key with A's evidence (claims name A's key; the quote binds them). */
	n = i2d_PUBKEY(a_id.key, &p);
	CHECK(n > 0);
	al_ratls_claims(claims, spki, (size_t)n);
	al_ratls_report_data(rd, claims, sizeof(claims));
	CHECK_MEM(rd, a_id.report_data, 64);
	CHECK_OK(al_sim_quote(&qe, quote, sizeof(quote), &qlen, &enclave, rd));
	CHECK_OK(al_ratls_evidence(ev, sizeof(ev), &evlen, quote, qlen, claims, sizeof(claims)));
	CHECK_OK(al_ratls_cert_build(&forged.cert, b_id.key, AL_RATLS_CN, ev, evlen, now));
	expect_refused(&forged, &pol, root.p, root.len, "ratls_binding", AL_E_ATT_BINDING);
	X509_free(forged.cert);

	/* 2. B's own claims, with a quote whose report data binds A's claims. */
	p = spki;
	n = i2d_PUBKEY(b_id.key, &p);
	CHECK(n > 0);
	al_ratls_claims(claims, spki, (size_t)n);
	CHECK_OK(al_sim_quote(&qe, quote, sizeof(quote), &qlen, &enclave, a_id.report_data));
	CHECK_OK(al_ratls_evidence(ev, sizeof(ev), &evlen, quote, qlen, claims, sizeof(claims)));
	CHECK_OK(al_ratls_cert_build(&forged.cert, b_id.key, AL_RATLS_CN, ev, evlen, now));
	expect_refused(&forged, &pol, root.p, root.len, "ratls_binding", AL_E_ATT_BINDING);
	X509_free(forged.cert);

	/* 3. No evidence at all: a self-signed certificate with garbage in the extension. */
	CHECK_OK(al_ratls_cert_build(&forged.cert, b_id.key, AL_RATLS_CN, (const uint8_t *)"\x01",
	                             1, now));
	expect_refused(&forged, &pol, root.p, root.len, "cert_extension", AL_E_ATT_CBOR);
	X509_free(forged.cert);

	al_ratls_identity_clear(&a_id);
	al_ratls_identity_clear(&b_id);
}

static void test_evidence_encoding(void)
{
	static const uint8_t spki[] = "not really an SPKI";
	uint8_t claims[AL_RATLS_CLAIMS_LEN], ev[80], small[57];
	size_t len;

	al_ratls_claims(claims, spki, sizeof(spki));
	/* {"pubkey-hash": [1, h'..32..']} */
	CHECK(claims[0] == 0xa1 && claims[1] == 0x6b && memcmp(claims + 2, "pubkey-hash", 11) == 0);
	CHECK(claims[13] == 0x82 && claims[14] == 0x01 && claims[15] == 0x58 && claims[16] == 32);
	CHECK_OK(al_ratls_evidence(ev, sizeof(ev), &len, (const uint8_t *)"QQ", 2, claims,
	                           sizeof(claims)));
	/* #6.60000([h'5151', claims]) */
	CHECK(len == 3 + 1 + 3 + 2 + AL_RATLS_CLAIMS_LEN);
	CHECK(ev[0] == 0xd9 && ev[1] == 0xea && ev[2] == 0x60 && ev[3] == 0x82 && ev[4] == 0x42);
	CHECK(ev[7] == 0x58 && ev[8] == AL_RATLS_CLAIMS_LEN);
	CHECK_ERR(al_ratls_evidence(small, sizeof(small), &len, (const uint8_t *)"QQ", 2, claims,
	                            sizeof(claims)),
	          AL_E_BUFSIZE);
}

int main(void)
{
	now = (int64_t)time(NULL);
	att_key = slurp("attest_key.pem");
	pck_key = slurp("pck.key");
	chain = slurp("pck_chain.pem");
	collateral = slurp("collateral.json");
	root = slurp("root.pem");
	root_key = slurp("root.key");
	CHECK_OK(al_sim_qe_init(&qe, att_key.p, att_key.len, pck_key.p, pck_key.len, chain.p,
	                        chain.len));
	memset(enclave.mrenclave, 0x5a, 32);
	memset(enclave.mrsigner, 0xa5, 32);
	enclave.isvprodid = 3;
	enclave.isvsvn = 2;

	test_quote_layout();
	test_quote_verifies();
	test_qe_errors();
	test_mrsigner();
	test_evidence_encoding();
	test_ratls();
	test_binding_mismatch();

	al_sim_qe_clear(&qe);
	free(att_key.p);
	free(pck_key.p);
	free(chain.p);
	free(collateral.p);
	free(root.p);
	free(root_key.p);
	return al_t_finish();
}
