/* TLS engine: two engines (client and server) talking in memory. Handshake and data
 * both ways, close_notify; every refusal with its precise error: unknown CA, expired
 * certificate, host name and IP mismatch, pin mismatch, verify-hook rejection, missing
 * client certificate; garbage and truncated ciphertext; TLS 1.2 only when allowed;
 * configuration errors. Certificates are generated here (tls_testcerts.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "crypto/tls.h"
#include "test.h"
#include "tls_testcerts.h"

static tcert ca, ca2, leaf, self, client;
static int64_t now;

/* Move every pending ciphertext byte between the two engines. */
static void pump(al_tls *a, al_tls *b)
{
	uint8_t buf[4096];
	size_t n;
	while ((n = al_tls_take(a, buf, sizeof(buf))) > 0)
		CHECK_OK(al_tls_feed(b, buf, n));
	while ((n = al_tls_take(b, buf, sizeof(buf))) > 0)
		CHECK_OK(al_tls_feed(a, buf, n));
}

/* Run both handshakes until neither wants more; return each side's result. */
static void handshake(al_tls *c, al_tls *s, al_err *ce, al_err *se)
{
	for (int i = 0; i < 20; i++) {
		*ce = al_tls_handshake(c);
		pump(c, s);
		*se = al_tls_handshake(s);
		pump(c, s);
		if (*ce != AL_E_TLS_WANT && *se != AL_E_TLS_WANT)
			return;
	}
}

static al_tls_config server_cfg(const tcert *c)
{
	al_tls_config cfg = {0};
	cfg.cert_pem = (const uint8_t *)c->cert_pem;
	cfg.cert_pem_len = c->cert_len;
	cfg.key_pem = (const uint8_t *)c->key_pem;
	cfg.key_pem_len = c->key_len;
	return cfg;
}

static al_tls_config client_ca_cfg(const tcert *root)
{
	al_tls_config cfg = {0};
	cfg.ca_pem = (const uint8_t *)root->cert_pem;
	cfg.ca_pem_len = root->cert_len;
	return cfg;
}

/* One connection attempt: returns the client's and server's handshake results. */
static void attempt(const al_tls_config *scfg, const al_tls_config *ccfg, const char *name,
                    int64_t t, al_err *ce, al_err *se, al_tls *c, al_tls *s, al_tls_ctx *cc,
                    al_tls_ctx *sc)
{
	CHECK_OK(al_tls_ctx_init(sc, true, scfg));
	CHECK_OK(al_tls_ctx_init(cc, false, ccfg));
	CHECK_OK(al_tls_client_init(c, cc, name, t));
	CHECK_OK(al_tls_server_init(s, sc, t));
	handshake(c, s, ce, se);
}

static void done(al_tls *c, al_tls *s, al_tls_ctx *cc, al_tls_ctx *sc)
{
	al_tls_clear(c);
	al_tls_clear(s);
	al_tls_ctx_clear(cc);
	al_tls_ctx_clear(sc);
}

static void expect_refusal(const al_tls_config *ccfg, const char *name, int64_t t, al_err want,
                           const char *detail)
{
	al_tls_config scfg = server_cfg(&leaf);
	al_tls c, s;
	al_tls_ctx cc, sc;
	al_err ce = AL_OK, se = AL_OK;

	attempt(&scfg, ccfg, name, t, &ce, &se, &c, &s, &cc, &sc);
	CHECK_ERR(ce, want);
	CHECK_ERR(al_tls_handshake(&c), want); /* sticky */
	/* The client told the server why with an alert. */
	CHECK_ERR(se, AL_E_TLS_ALERT);
	if (detail && !strstr(al_tls_error_detail(&c), detail)) {
		fprintf(stderr, "detail: %s (want %s)\n", al_tls_error_detail(&c), detail);
		CHECK(false);
	}
	CHECK(!al_tls_established(&c));
	done(&c, &s, &cc, &sc);
}

static void exchange(al_tls *c, al_tls *s, size_t len)
{
	uint8_t *msg = malloc(len), *got = malloc(len);
	size_t have = 0, n;
	for (size_t i = 0; i < len; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	CHECK_OK(al_tls_write(c, msg, len));
	pump(c, s);
	while (have < len) {
		al_err e = al_tls_read(s, got + have, len - have, &n);
		if (e != AL_OK) {
			CHECK_OK(e);
			break;
		}
		have += n;
	}
	CHECK(have == len);
	CHECK(memcmp(msg, got, len) == 0);
	CHECK_ERR(al_tls_read(s, got, len, &n), AL_E_TLS_WANT);
	free(msg);
	free(got);
}

static void test_ok_and_data(void)
{
	al_tls_config scfg = server_cfg(&leaf), ccfg = client_ca_cfg(&ca);
	al_tls c, s;
	al_tls_ctx cc, sc;
	al_err ce, se;
	uint8_t pin[32], pin2[32], buf[64];
	size_t n;

	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(ce);
	CHECK_OK(se);
	CHECK(al_tls_established(&c) && al_tls_established(&s));
	CHECK(strcmp(al_tls_version(&c), "TLSv1.3") == 0);
	CHECK_OK(al_tls_peer_pin(&c, pin));
	CHECK_OK(al_tls_pin_from_pem(pin2, (const uint8_t *)leaf.cert_pem, leaf.cert_len));
	CHECK_MEM(pin, pin2, 32);
	CHECK(al_tls_peer_cert(&s) == NULL);
	CHECK_ERR(al_tls_peer_pin(&s, pin), AL_E_TLS_NO_PEER_CERT);
	exchange(&c, &s, 5);
	exchange(&s, &c, 100000);
	exchange(&c, &s, 70000);
	/* close_notify: the reader sees AL_E_TLS_CLOSED, a clean end. */
	CHECK_OK(al_tls_close(&c));
	CHECK_ERR(al_tls_write(&c, "x", 1), AL_E_TLS_STATE);
	pump(&c, &s);
	CHECK_ERR(al_tls_read(&s, buf, sizeof(buf), &n), AL_E_TLS_CLOSED);
	CHECK_ERR(al_tls_read(&s, buf, sizeof(buf), &n), AL_E_TLS_CLOSED);
	done(&c, &s, &cc, &sc);

	/* An IP address SAN matches an IP literal name (no SNI is sent for it). */
	attempt(&scfg, &ccfg, "127.0.0.1", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(ce);
	CHECK_OK(se);
	done(&c, &s, &cc, &sc);
}

static void test_refusals(void)
{
	al_tls_config ccfg = client_ca_cfg(&ca2);
	uint8_t bad_pin[1][32];

	expect_refusal(&ccfg, "localhost", now, AL_E_TLS_VERIFY, "local issuer");
	ccfg = client_ca_cfg(&ca);
	expect_refusal(&ccfg, "example.com", now, AL_E_TLS_HOSTNAME, "mismatch");
	expect_refusal(&ccfg, "10.0.0.1", now, AL_E_TLS_HOSTNAME, "mismatch");
	expect_refusal(&ccfg, "localhost", now + 40L * 86400, AL_E_TLS_VERIFY, "expired");
	expect_refusal(&ccfg, "localhost", now - 2L * 86400, AL_E_TLS_VERIFY, "not yet valid");
	/* A right CA plus a wrong pin: both must hold. */
	memset(bad_pin, 0xab, sizeof(bad_pin));
	ccfg.pins = (const uint8_t(*)[32])bad_pin;
	ccfg.n_pins = 1;
	expect_refusal(&ccfg, "localhost", now, AL_E_TLS_PIN, "pin");
}

static void test_pins(void)
{
	al_tls_config scfg = server_cfg(&self), ccfg = {0};
	uint8_t pins[2][32];
	al_tls c, s;
	al_tls_ctx cc, sc;
	al_err ce, se;

	memset(pins[0], 0x11, 32);
	CHECK_OK(al_tls_pin_from_pem(pins[1], (const uint8_t *)self.cert_pem, self.cert_len));
	ccfg.pins = (const uint8_t(*)[32])pins;
	ccfg.n_pins = 2;
	/* A pin alone trusts a self-signed certificate, whatever the name. */
	attempt(&scfg, &ccfg, "any.name", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(ce);
	CHECK_OK(se);
	done(&c, &s, &cc, &sc);
	ccfg.n_pins = 1;
	attempt(&scfg, &ccfg, "any.name", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_ERR(ce, AL_E_TLS_PIN);
	CHECK_ERR(se, AL_E_TLS_ALERT);
	done(&c, &s, &cc, &sc);
}

static int hook_calls;

static al_err hook(void *arg, struct x509_st *x, const uint8_t *der, size_t der_len)
{
	const tcert *want = arg;
	unsigned char *d = NULL;
	int n = i2d_X509(want->x, &d);
	bool same = n > 0 && (size_t)n == der_len && memcmp(d, der, der_len) == 0;
	OPENSSL_free(d);
	hook_calls++;
	return same && X509_cmp(x, want->x) == 0 ? AL_OK : AL_E_SIG_INVALID;
}

static void test_hook_and_mutual(void)
{
	al_tls_config scfg = server_cfg(&self), ccfg = {0};
	al_tls c, s;
	al_tls_ctx cc, sc;
	al_err ce, se;

	/* The hook alone decides (RA-TLS style). */
	ccfg.verify = hook;
	ccfg.verify_arg = &self;
	attempt(&scfg, &ccfg, NULL, now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(ce);
	CHECK(hook_calls == 1);
	done(&c, &s, &cc, &sc);
	ccfg.verify_arg = &leaf;
	attempt(&scfg, &ccfg, NULL, now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_ERR(ce, AL_E_TLS_PEER_REJECTED);
	CHECK_ERR(al_tls_hook_error(&c), AL_E_SIG_INVALID);
	done(&c, &s, &cc, &sc);

	/* Mutual TLS: the server requires a client certificate from `ca`. */
	scfg = server_cfg(&leaf);
	scfg.ca_pem = (const uint8_t *)ca.cert_pem;
	scfg.ca_pem_len = ca.cert_len;
	scfg.verify_peer = true;
	ccfg = client_ca_cfg(&ca);
	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_ERR(se, AL_E_TLS_NO_PEER_CERT);
	done(&c, &s, &cc, &sc);
	ccfg.cert = client.x;
	ccfg.key = client.k; /* OpenSSL objects, as an enclave-made certificate */
	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(ce);
	CHECK_OK(se);
	exchange(&c, &s, 1000);
	CHECK(al_tls_peer_cert(&s) != NULL && X509_cmp(al_tls_peer_cert(&s), client.x) == 0);
	done(&c, &s, &cc, &sc);
	/* A client certificate from an unknown CA is refused by the server. */
	ccfg.cert = self.x;
	ccfg.key = self.k;
	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_ERR(se, AL_E_TLS_VERIFY);
	done(&c, &s, &cc, &sc);
}

static void test_bad_bytes(void)
{
	al_tls_config scfg = server_cfg(&leaf), ccfg = client_ca_cfg(&ca);
	al_tls c, s;
	al_tls_ctx cc, sc;
	al_err ce, se;
	uint8_t buf[256], junk[64];
	size_t n;

	memset(junk, 0x5a, sizeof(junk));
	/* Garbage instead of a ClientHello. */
	CHECK_OK(al_tls_ctx_init(&sc, true, &scfg));
	CHECK_OK(al_tls_server_init(&s, &sc, now));
	CHECK_OK(al_tls_feed(&s, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18));
	CHECK_ERR(al_tls_handshake(&s), AL_E_TLS_PROTOCOL);
	al_tls_clear(&s);
	/* A ClientHello cut short, then end of stream. */
	CHECK_OK(al_tls_ctx_init(&cc, false, &ccfg));
	CHECK_OK(al_tls_client_init(&c, &cc, "localhost", now));
	CHECK_OK(al_tls_server_init(&s, &sc, now));
	CHECK_ERR(al_tls_handshake(&c), AL_E_TLS_WANT);
	n = al_tls_take(&c, buf, 40);
	CHECK(n == 40);
	CHECK_OK(al_tls_feed(&s, buf, n));
	CHECK_ERR(al_tls_handshake(&s), AL_E_TLS_WANT);
	al_tls_feed_eof(&s);
	CHECK_ERR(al_tls_handshake(&s), AL_E_TLS_TRUNCATED);
	CHECK_ERR(al_tls_feed(&s, buf, 1), AL_E_TLS_STATE);
	done(&c, &s, &cc, &sc);

	/* After the handshake: a corrupted record fails authentication. */
	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(ce);
	CHECK_OK(se);
	CHECK_OK(al_tls_write(&c, "hello", 5));
	n = al_tls_take(&c, buf, sizeof(buf));
	CHECK(n > 10);
	buf[n - 1] ^= 1;
	CHECK_OK(al_tls_feed(&s, buf, n));
	CHECK_ERR(al_tls_read(&s, buf, sizeof(buf), &n), AL_E_TLS_PROTOCOL);
	CHECK_ERR(al_tls_read(&s, buf, sizeof(buf), &n), AL_E_TLS_PROTOCOL);
	CHECK_ERR(al_tls_write(&s, "x", 1), AL_E_TLS_PROTOCOL);
	done(&c, &s, &cc, &sc);

	/* A record cut short by end of stream (no close_notify): truncation. */
	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(al_tls_write(&c, "hello", 5));
	n = al_tls_take(&c, buf, sizeof(buf));
	CHECK_OK(al_tls_feed(&s, buf, n - 3));
	CHECK_ERR(al_tls_read(&s, buf, sizeof(buf), &n), AL_E_TLS_WANT);
	al_tls_feed_eof(&s);
	CHECK_ERR(al_tls_read(&s, buf, sizeof(buf), &n), AL_E_TLS_TRUNCATED);
	done(&c, &s, &cc, &sc);
	/* Random bytes in place of a record after the handshake. */
	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	CHECK_OK(al_tls_feed(&s, junk, sizeof(junk)));
	CHECK_ERR(al_tls_read(&s, buf, sizeof(buf), &n), AL_E_TLS_PROTOCOL);
	done(&c, &s, &cc, &sc);
}

static void test_tls12(void)
{
	al_tls_config scfg = server_cfg(&leaf), ccfg = client_ca_cfg(&ca);
	al_tls c, s;
	al_tls_ctx cc, sc;
	al_err ce = AL_OK, se = AL_OK;

	/* A TLS 1.2-only server (capped through the context's SSL_CTX). */
	CHECK_OK(al_tls_ctx_init(&sc, true, &scfg));
	SSL_CTX_set_min_proto_version(sc.ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(sc.ssl_ctx, TLS1_2_VERSION);
	CHECK_OK(al_tls_ctx_init(&cc, false, &ccfg));
	CHECK_OK(al_tls_client_init(&c, &cc, "localhost", now));
	CHECK_OK(al_tls_server_init(&s, &sc, now));
	handshake(&c, &s, &ce, &se);
	CHECK_ERR(ce, AL_E_TLS_ALERT);
	CHECK_ERR(se, AL_E_TLS_HANDSHAKE);
	al_tls_clear(&c);
	al_tls_clear(&s);
	al_tls_ctx_clear(&cc);
	ccfg.allow_tls12 = true;
	CHECK_OK(al_tls_ctx_init(&cc, false, &ccfg));
	CHECK_OK(al_tls_client_init(&c, &cc, "localhost", now));
	CHECK_OK(al_tls_server_init(&s, &sc, now));
	handshake(&c, &s, &ce, &se);
	CHECK_OK(ce);
	CHECK_OK(se);
	CHECK(strcmp(al_tls_version(&c), "TLSv1.2") == 0);
	exchange(&c, &s, 3000);
	exchange(&s, &c, 3000);
	done(&c, &s, &cc, &sc);
}

/* A shared set of roots: the same verdicts as ca_pem; the set outlives our reference
 * while a context holds it; it cannot be combined with ca_pem; garbage is refused. */
static void test_roots(void)
{
	al_tls_roots *r = NULL, *r2 = NULL;
	al_tls_config scfg = server_cfg(&leaf), ccfg = {0};
	al_tls c, s;
	al_tls_ctx cc, sc, cc2;
	al_err ce, se;
	size_t count = 0;
	char two[8192];

	/* Two certificates, text around them as in a bundle: both count. */
	snprintf(two, sizeof(two), "# bundle\n%s\nsome text\n%s", ca2.cert_pem, ca.cert_pem);
	CHECK_OK(al_tls_roots_new(&r, (const uint8_t *)two, strlen(two), &count));
	CHECK(count == 2);
	ccfg.roots = r;
	CHECK_OK(al_tls_ctx_init(&cc2, false, &ccfg)); /* a second holder of the set */
	attempt(&scfg, &ccfg, "localhost", now, &ce, &se, &c, &s, &cc, &sc);
	al_tls_roots_free(r); /* the contexts keep the set alive */
	CHECK_OK(ce);
	CHECK_OK(se);
	done(&c, &s, &cc, &sc);
	/* The second holder still verifies with it. */
	CHECK_OK(al_tls_ctx_init(&sc, true, &scfg));
	CHECK_OK(al_tls_client_init(&c, &cc2, "localhost", now));
	CHECK_OK(al_tls_server_init(&s, &sc, now));
	handshake(&c, &s, &ce, &se);
	CHECK_OK(ce);
	CHECK_OK(se);
	done(&c, &s, &cc2, &sc);

	/* Only the other CA in the set: the leaf's issuer is unknown. */
	CHECK_OK(al_tls_roots_new(&r2, (const uint8_t *)ca2.cert_pem, ca2.cert_len, &count));
	CHECK(count == 1);
	ccfg.roots = r2;
	expect_refusal(&ccfg, "localhost", now, AL_E_TLS_VERIFY, "local issuer");
	expect_refusal(&ccfg, "example.com", now, AL_E_TLS_VERIFY, "local issuer");
	ccfg.ca_pem = (const uint8_t *)ca.cert_pem;
	ccfg.ca_pem_len = ca.cert_len;
	CHECK_ERR(al_tls_ctx_init(&cc, false, &ccfg), AL_E_TLS_CONFIG);
	al_tls_roots_free(r2);

	CHECK_ERR(al_tls_roots_new(&r, (const uint8_t *)"no certificate", 14, &count),
	          AL_E_TLS_PEM);
	CHECK(r == NULL);
}

static void test_config_errors(void)
{
	al_tls_config cfg = {0};
	al_tls_ctx ctx;
	uint8_t pin[32];

	CHECK_ERR(al_tls_ctx_init(&ctx, false, &cfg), AL_E_TLS_CONFIG); /* no trust */
	CHECK_ERR(al_tls_ctx_init(&ctx, true, &cfg), AL_E_TLS_CONFIG);  /* no cert */
	cfg = server_cfg(&leaf);
	cfg.key_pem = (const uint8_t *)self.key_pem; /* key of another certificate */
	cfg.key_pem_len = self.key_len;
	CHECK_ERR(al_tls_ctx_init(&ctx, true, &cfg), AL_E_TLS_CONFIG);
	cfg = server_cfg(&leaf);
	cfg.cert_pem_len = 40; /* cut PEM */
	CHECK_ERR(al_tls_ctx_init(&ctx, true, &cfg), AL_E_TLS_PEM);
	cfg = client_ca_cfg(&ca);
	cfg.ca_pem = (const uint8_t *)"not a certificate";
	cfg.ca_pem_len = 17;
	CHECK_ERR(al_tls_ctx_init(&ctx, false, &cfg), AL_E_TLS_PEM);
	CHECK_ERR(al_tls_pin_from_pem(pin, (const uint8_t *)"x", 1), AL_E_TLS_PEM);
	/* A chain in PEM (leaf then CA) is accepted for the server. */
	{
		size_t n = leaf.cert_len + ca.cert_len;
		char *chain = malloc(n);
		memcpy(chain, leaf.cert_pem, leaf.cert_len);
		memcpy(chain + leaf.cert_len, ca.cert_pem, ca.cert_len);
		cfg = server_cfg(&leaf);
		cfg.cert_pem = (const uint8_t *)chain;
		cfg.cert_pem_len = n;
		CHECK_OK(al_tls_ctx_init(&ctx, true, &cfg));
		al_tls_ctx_clear(&ctx);
		free(chain);
	}
}

int main(void)
{
	now = (int64_t)time(NULL);
	if (!tc_make(&ca, "alight test CA", NULL, NULL, true, -3600, 365L * 86400) ||
	    !tc_make(&ca2, "other CA", NULL, NULL, true, -3600, 365L * 86400) ||
	    !tc_make(&leaf, "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", &ca, false, -86400,
	             30L * 86400) ||
	    !tc_make(&self, "self", "DNS:self.example", NULL, false, -3600, 86400) ||
	    !tc_make(&client, "client", NULL, &ca, false, -3600, 86400)) {
		fprintf(stderr, "certificate generation failed\n");
		return 1;
	}
	test_ok_and_data();
	test_refusals();
	test_pins();
	test_hook_and_mutual();
	test_bad_bytes();
	test_tls12();
	test_roots();
	test_config_errors();
	tc_free(&ca);
	tc_free(&ca2);
	tc_free(&leaf);
	tc_free(&self);
	tc_free(&client);
	return al_t_finish();
}
