/* sim_quote_tool: simulated SGX evidence from the C generator (host/sim_quote.h,
 * attest/ratls_server.h) for tests/py/test_sim_quote.py, which checks it with alight-audit
 * and against attest_util.py's independent generator.
 *
 *   sim_quote_tool quote SIMDIR OUT [options]   a DCAP v3 quote (binary)
 *   sim_quote_tool cert SIMDIR OUT [options]    an RA-TLS certificate (PEM)
 * options: --mrenclave HEX --mrsigner HEX --prodid N --svn N --report-data HEX
 *          --debug --now UNIX --mismatch (cert: the evidence binds another key)
 * Defaults: MRENCLAVE 11..11, the platform's MRSIGNER (enclave_signer.pem) and the
 * build's product id and security version (host/sim_platform.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/ratls_server.h"
#include "host/sim_quote.h"
#include "host/sim_platform.h"
#include "util/hex.h"

typedef struct opts {
	al_sim_enclave enc;
	bool have_signer, have_prodid, have_svn;
	uint8_t report_data[64];
	int64_t now;
	int mismatch;
} opts;

static void hex_arg(uint8_t *out, size_t cap, const char *hex)
{
	size_t n;

	memset(out, 0, cap);
	if (al_hex_decode(out, cap, &n, hex, strlen(hex)) != AL_OK) {
		fprintf(stderr, "sim_quote_tool: bad hex '%s'\n", hex);
		exit(2);
	}
}

static void parse(opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	memset(o->enc.mrenclave, 0x11, 32);
	o->now = (int64_t)time(NULL);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--debug") == 0) {
			o->enc.debug = true;
			continue;
		}
		if (strcmp(a, "--mismatch") == 0) {
			o->mismatch = 1;
			continue;
		}
		if (!v)
			exit(2);
		i++;
		if (strcmp(a, "--mrenclave") == 0) {
			hex_arg(o->enc.mrenclave, 32, v);
		} else if (strcmp(a, "--mrsigner") == 0) {
			hex_arg(o->enc.mrsigner, 32, v);
			o->have_signer = true;
		} else if (strcmp(a, "--report-data") == 0) {
			hex_arg(o->report_data, 64, v);
		} else if (strcmp(a, "--prodid") == 0) {
			o->enc.isvprodid = (uint16_t)atoi(v);
			o->have_prodid = true;
		} else if (strcmp(a, "--svn") == 0) {
			o->enc.isvsvn = (uint16_t)atoi(v);
			o->have_svn = true;
		} else if (strcmp(a, "--now") == 0) {
			o->now = atoll(v);
		} else {
			exit(2);
		}
	}
}

/* What was not given comes from the platform and the build metadata. */
static void defaults(opts *o, const al_sim_platform *plat)
{
	al_sim_enclave d;

	al_sim_platform_enclave(plat, &d, o->enc.mrenclave);
	if (!o->have_signer)
		memcpy(o->enc.mrsigner, d.mrsigner, 32);
	if (!o->have_prodid)
		o->enc.isvprodid = d.isvprodid;
	if (!o->have_svn)
		o->enc.isvsvn = d.isvsvn;
}

typedef struct quoter {
	const al_sim_qe *qe;
	const al_sim_enclave *enc;
} quoter;

static al_err quote_cb(void *arg, uint8_t *q, size_t cap, size_t *len, const uint8_t rd[64])
{
	const quoter *s = arg;

	return al_sim_quote(s->qe, q, cap, len, s->enc, rd);
}

static int write_cert(const char *out, X509 *x)
{
	FILE *f = fopen(out, "wb");
	int ok = f && PEM_write_X509(f, x);

	if (f)
		fclose(f);
	return ok ? 0 : 2;
}

/* A certificate whose key is not the one its evidence binds: another identity's
 * evidence (quote and claims) under a fresh key. */
static int mismatch_cert(const char *out, const quoter *s, al_arena *a, int64_t now)
{
	al_ratls_identity id, other;
	static uint8_t ev[AL_RATLS_QUOTE_MAX + 64];
	uint8_t claims[AL_RATLS_CLAIMS_LEN], spki[160], *p = spki, *q;
	size_t qlen, evlen;
	int n, rc = 2;
	X509 *x = NULL;

	if (al_ratls_identity_make(&id, a, quote_cb, (void *)s, now) ||
	    al_ratls_identity_make(&other, a, quote_cb, (void *)s, now))
		return 2;
	n = i2d_PUBKEY(other.key, &p);
	q = malloc(AL_RATLS_QUOTE_MAX);
	if (n > 0 && q) {
		al_ratls_claims(claims, spki, (size_t)n);
		if (!al_sim_quote(s->qe, q, AL_RATLS_QUOTE_MAX, &qlen, s->enc, other.report_data) &&
		    !al_ratls_evidence(ev, sizeof(ev), &evlen, q, qlen, claims, sizeof(claims)) &&
		    !al_ratls_cert_build(&x, id.key, AL_RATLS_CN, ev, evlen, now))
			rc = write_cert(out, x);
	}
	free(q);
	X509_free(x);
	al_ratls_identity_clear(&id);
	al_ratls_identity_clear(&other);
	return rc;
}

int main(int argc, char **argv)
{
	static uint8_t scratch[2 * AL_RATLS_QUOTE_MAX + 4096], quote[AL_RATLS_QUOTE_MAX];
	al_sim_platform plat;
	size_t qlen;
	al_arena a;
	opts o;
	int rc = 2;

	if (argc < 4 || (strcmp(argv[1], "quote") && strcmp(argv[1], "cert"))) {
		fprintf(stderr, "usage: sim_quote_tool quote|cert SIMDIR OUT [options]\n");
		return 2;
	}
	parse(&o, argc - 4, argv + 4);
	if (al_sim_platform_load(&plat, argv[2]) != AL_OK) {
		fprintf(stderr, "sim_quote_tool: cannot load the simulated platform %s\n", argv[2]);
		return 2;
	}
	defaults(&o, &plat);
	al_arena_init(&a, scratch, sizeof(scratch));
	if (strcmp(argv[1], "quote") == 0) {
		FILE *f = fopen(argv[3], "wb");

		if (f &&
		    !al_sim_quote(&plat.qe, quote, sizeof(quote), &qlen, &o.enc, o.report_data) &&
		    fwrite(quote, 1, qlen, f) == qlen)
			rc = 0;
		if (f)
			fclose(f);
	} else {
		quoter s = {&plat.qe, &o.enc};
		al_ratls_identity id;

		if (o.mismatch) {
			rc = mismatch_cert(argv[3], &s, &a, o.now);
		} else if (!al_ratls_identity_make(&id, &a, quote_cb, &s, o.now)) {
			rc = write_cert(argv[3], id.cert);
			al_ratls_identity_clear(&id);
		}
	}
	al_sim_platform_free(&plat);
	return rc;
}
