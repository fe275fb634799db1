/* TLS engine over OpenSSL memory BIOs (crypto/tls.h). */
#include "crypto/tls.h"

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/hash.h"
#include "util/mem.h"

/* Largest SubjectPublicKeyInfo we pin (RSA-8192 is about 1.1 KB). */
#define SPKI_MAX 2048

/* --- PEM and pins ---------------------------------------------------------------------- */

static BIO *mem_bio(const uint8_t *p, size_t n)
{
	if (!p || n == 0 || n > INT_MAX)
		return NULL;
	return BIO_new_mem_buf(p, (int)n);
}

static al_err pin_of(X509 *x, uint8_t out[AL_TLS_PIN_LEN])
{
	uint8_t der[SPKI_MAX], *q = der;
	X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
	int n = pk ? i2d_X509_PUBKEY(pk, NULL) : -1;

	if (n <= 0 || n > SPKI_MAX)
		return AL_E_TLS_PEM;
	if (i2d_X509_PUBKEY(pk, &q) != n)
		return AL_E_CRYPTO;
	al_sha256(out, der, (size_t)n);
	return AL_OK;
}

al_err al_tls_pin_from_pem(uint8_t out[AL_TLS_PIN_LEN], const uint8_t *pem, size_t pem_len)
{
	BIO *b = mem_bio(pem, pem_len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	al_err e = x ? pin_of(x, out) : AL_E_TLS_PEM;

	X509_free(x);
	BIO_free(b);
	ERR_clear_error();
	return e;
}

/* Our certificate chain (leaf first) and key. */
static al_err load_own_pem(SSL_CTX *c, const al_tls_config *cfg)
{
	BIO *b = mem_bio(cfg->cert_pem, cfg->cert_pem_len);
	BIO *kb = mem_bio(cfg->key_pem, cfg->key_pem_len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	al_err e = AL_E_TLS_PEM;

	if (!x || !k)
		goto out;
	e = AL_E_TLS_CONFIG;
	if (SSL_CTX_use_certificate(c, x) != 1 || SSL_CTX_use_PrivateKey(c, k) != 1)
		goto out;
	for (X509 *ch; (ch = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL;) {
		if (SSL_CTX_add0_chain_cert(c, ch) != 1) {
			X509_free(ch);
			goto out;
		}
	}
	e = AL_OK;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(b);
	BIO_free(kb);
	return e;
}

static al_err load_own(SSL_CTX *c, const al_tls_config *cfg, bool server)
{
	bool have_obj = cfg->cert && cfg->key;
	bool have_pem = cfg->cert_pem && cfg->key_pem;

	if (!have_obj && !have_pem)
		return server ? AL_E_TLS_CONFIG : AL_OK;
	if (have_obj) {
		if (SSL_CTX_use_certificate(c, cfg->cert) != 1 ||
		    SSL_CTX_use_PrivateKey(c, cfg->key) != 1)
			return AL_E_TLS_CONFIG;
	} else {
		AL_TRY(load_own_pem(c, cfg));
	}
	return SSL_CTX_check_private_key(c) == 1 ? AL_OK : AL_E_TLS_CONFIG;
}

/* The roots of a CA bundle into `st`: every certificate in it, at least one. */
static al_err add_roots(X509_STORE *st, const uint8_t *pem, size_t len, size_t *count)
{
	BIO *b = mem_bio(pem, len);
	size_t n = 0;
	X509 *x;

	if (!b)
		return AL_E_TLS_PEM;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		int ok = X509_STORE_add_cert(st, x);
		X509_free(x);
		if (ok != 1) {
			BIO_free(b);
			return AL_E_TLS_PEM;
		}
		n++;
	}
	BIO_free(b);
	if (count)
		*count = n;
	return n ? AL_OK : AL_E_TLS_PEM;
}

/* An al_tls_roots is an X509_STORE: OpenSSL counts its references. */
al_err al_tls_roots_new(al_tls_roots **out, const uint8_t *pem, size_t len, size_t *count)
{
	X509_STORE *st = X509_STORE_new();
	al_err e;

	*out = NULL;
	if (!st)
		return AL_E_NOMEM;
	e = add_roots(st, pem, len, count);
	ERR_clear_error();
	if (e != AL_OK) {
		X509_STORE_free(st);
		return e;
	}
	*out = (al_tls_roots *)st;
	return AL_OK;
}

void al_tls_roots_free(al_tls_roots *r)
{
	X509_STORE_free((X509_STORE *)r);
}

/* --- verification during the handshake -------------------------------------------------- */

static int reject(X509_STORE_CTX *xs, al_tls *t, al_err e, const char *detail)
{
	t->err = e;
	t->detail = detail;
	X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

static int run_hook(X509_STORE_CTX *xs, al_tls *t, X509 *leaf)
{
	unsigned char *der = NULL;
	int n = i2d_X509(leaf, &der);
	al_err e;

	if (n <= 0)
		return reject(xs, t, AL_E_CRYPTO, "cannot encode the peer certificate");
	e = t->ctx->verify(t->ctx->verify_arg, leaf, der, (size_t)n);
	OPENSSL_free(der);
	if (e != AL_OK) {
		t->hook_err = e;
		return reject(xs, t, AL_E_TLS_PEER_REJECTED, al_err_str(e));
	}
	return 1;
}

static bool pin_matches(const al_tls_ctx *c, const uint8_t pin[AL_TLS_PIN_LEN])
{
	bool any = false;
	for (size_t i = 0; i < c->n_pins; i++)
		any |= al_memeq_ct(c->pins[i], pin, AL_TLS_PIN_LEN);
	return any;
}

/* Replaces OpenSSL's chain verification (SSL_CTX_set_cert_verify_callback): the chain
 * against the roots at the caller's time, then the pin, then the hook. */
static int cert_verify_cb(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	al_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	uint8_t pin[AL_TLS_PIN_LEN];

	(void)arg;
	if (!t)
		return 0;
	if (!leaf)
		return reject(xs, t, AL_E_TLS_NO_PEER_CERT, "no peer certificate");
	if (t->ctx->has_ca) {
		X509_STORE_CTX_set_time(xs, 0, (time_t)t->now);
		if (X509_verify_cert(xs) != 1) {
			int code = X509_STORE_CTX_get_error(xs);
			bool name = code == X509_V_ERR_HOSTNAME_MISMATCH ||
			            code == X509_V_ERR_IP_ADDRESS_MISMATCH;
			t->err = name ? AL_E_TLS_HOSTNAME : AL_E_TLS_VERIFY;
			t->detail = X509_verify_cert_error_string(code);
			return 0;
		}
	}
	if (t->ctx->n_pins) {
		if (pin_of(leaf, pin) != AL_OK || !pin_matches(t->ctx, pin))
			return reject(xs, t, AL_E_TLS_PIN, "public key does not match the pin");
	}
	if (t->ctx->verify)
		return run_hook(xs, t, leaf);
	return 1;
}

/* --- contexts ---------------------------------------------------------------------------- */

static al_err ctx_setup(al_tls_ctx *ctx, SSL_CTX *c, bool server, const al_tls_config *cfg)
{
	bool has_trust = cfg->ca_pem || cfg->roots || cfg->n_pins || cfg->verify;
	bool check_peer = !server || cfg->verify_peer;
	int min = (!server && cfg->allow_tls12) ? TLS1_2_VERSION : TLS1_3_VERSION;

	if (check_peer && !has_trust)
		return AL_E_TLS_CONFIG;
	if (cfg->n_pins && !cfg->pins)
		return AL_E_ARG;
	if (cfg->ca_pem && cfg->roots)
		return AL_E_TLS_CONFIG;
	if (SSL_CTX_set_min_proto_version(c, min) != 1)
		return AL_E_CRYPTO;
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                           SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(c, SSL_MODE_AUTO_RETRY);
	if (server)
		SSL_CTX_set_num_tickets(c, 0);
	AL_TRY(load_own(c, cfg, server));
	if (cfg->ca_pem) {
		AL_TRY(add_roots(SSL_CTX_get_cert_store(c), cfg->ca_pem, cfg->ca_pem_len, NULL));
		ctx->has_ca = true;
	}
	if (cfg->roots) {
		/* The set is shared, not copied: set1 takes a reference. */
		SSL_CTX_set1_cert_store(c, (X509_STORE *)cfg->roots);
		ctx->has_ca = true;
	}
	if (cfg->n_pins) {
		ctx->pins = OPENSSL_malloc(cfg->n_pins * AL_TLS_PIN_LEN);
		if (!ctx->pins)
			return AL_E_NOMEM;
		memcpy(ctx->pins, cfg->pins, cfg->n_pins * AL_TLS_PIN_LEN);
		ctx->n_pins = cfg->n_pins;
	}
	ctx->verify = cfg->verify;
	ctx->verify_arg = cfg->verify_arg;
	if (check_peer) {
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_cert_verify_callback(c, cert_verify_cb, NULL);
	} else {
		SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	}
	return AL_OK;
}

al_err al_tls_ctx_init(al_tls_ctx *ctx, bool server, const al_tls_config *cfg)
{
	SSL_CTX *c;
	al_err e;

	memset(ctx, 0, sizeof(*ctx));
	if (!cfg)
		return AL_E_ARG;
	c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c)
		return AL_E_CRYPTO;
	ctx->ssl_ctx = c;
	ctx->server = server;
	e = ctx_setup(ctx, c, server, cfg);
	ERR_clear_error();
	if (e != AL_OK)
		al_tls_ctx_clear(ctx);
	return e;
}

void al_tls_ctx_clear(al_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	OPENSSL_free(ctx->pins);
	memset(ctx, 0, sizeof(*ctx));
}

/* --- connections ------------------------------------------------------------------------- */

static al_err conn_init(al_tls *t, const al_tls_ctx *ctx, int64_t now)
{
	memset(t, 0, sizeof(*t));
	if (!ctx || !ctx->ssl_ctx)
		return AL_E_ARG;
	t->ctx = ctx;
	t->now = now;
	t->ssl = SSL_new(ctx->ssl_ctx);
	t->net_in = BIO_new(BIO_s_mem());
	t->net_out = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->net_in || !t->net_out) {
		SSL_free(t->ssl);
		BIO_free(t->net_in);
		BIO_free(t->net_out);
		memset(t, 0, sizeof(*t));
		return AL_E_NOMEM;
	}
	/* An empty input BIO means "retry later", until al_tls_feed_eof. */
	BIO_set_mem_eof_return(t->net_in, -1);
	SSL_set_bio(t->ssl, t->net_in, t->net_out);
	SSL_set_app_data(t->ssl, t);
	return AL_OK;
}

static bool is_ip_literal(const char *name)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
	ASN1_OCTET_STRING_free(ip);
	ERR_clear_error();
	return ip != NULL;
}

static al_err set_server_name(al_tls *t, const char *name)
{
	size_t n = strlen(name);
	bool ip;

	if (n == 0 || n > AL_TLS_MAX_NAME)
		return AL_E_ARG;
	memcpy(t->name, name, n + 1);
	ip = is_ip_literal(name);
	/* RFC 6066 3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"." */
	if (!ip && SSL_set_tlsext_host_name(t->ssl, name) != 1)
		return AL_E_CRYPTO;
	if (!t->ctx->has_ca)
		return AL_OK;
	if (ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) == 1 ? AL_OK
		                                                                        : AL_E_ARG;
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(t->ssl, name) == 1 ? AL_OK : AL_E_ARG;
}

al_err al_tls_client_init(al_tls *t, const al_tls_ctx *ctx, const char *server_name, int64_t now)
{
	al_err e;

	if (ctx && ctx->server)
		return AL_E_ARG;
	AL_TRY(conn_init(t, ctx, now));
	SSL_set_connect_state(t->ssl);
	e = server_name ? set_server_name(t, server_name) : AL_OK;
	ERR_clear_error();
	if (e != AL_OK)
		al_tls_clear(t);
	return e;
}

al_err al_tls_server_init(al_tls *t, const al_tls_ctx *ctx, int64_t now)
{
	if (ctx && !ctx->server)
		return AL_E_ARG;
	AL_TRY(conn_init(t, ctx, now));
	SSL_set_accept_state(t->ssl);
	return AL_OK;
}

void al_tls_clear(al_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl); /* frees both BIOs */
	memset(t, 0, sizeof(*t));
}

al_err al_tls_feed(al_tls *t, const uint8_t *data, size_t len)
{
	if (!t->ssl || t->eof)
		return AL_E_TLS_STATE;
	while (len > 0) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;
		int n = BIO_write(t->net_in, data, chunk);
		if (n <= 0)
			return AL_E_NOMEM;
		data += n;
		len -= (size_t)n;
	}
	return AL_OK;
}

void al_tls_feed_eof(al_tls *t)
{
	if (!t->ssl)
		return;
	t->eof = true;
	BIO_set_mem_eof_return(t->net_in, 0);
}

size_t al_tls_out_pending(const al_tls *t)
{
	return t->ssl ? BIO_ctrl_pending(t->net_out) : 0;
}

size_t al_tls_take(al_tls *t, uint8_t *out, size_t cap)
{
	int n;
	if (!t->ssl || cap == 0)
		return 0;
	n = BIO_read(t->net_out, out, cap > INT_MAX ? INT_MAX : (int)cap);
	return n > 0 ? (size_t)n : 0;
}

/* --- errors ------------------------------------------------------------------------------- */

static bool record_layer_reason(int reason)
{
	switch (reason) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
	case SSL_R_BAD_RECORD_TYPE:
	case SSL_R_UNEXPECTED_RECORD:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_BAD_PACKET_LENGTH:
		return true;
	default:
		return false;
	}
}

/* Map an OpenSSL error to a sticky al_err with a static detail. */
static al_err classify_ssl_error(al_tls *t)
{
	unsigned long code = ERR_peek_error();
	int reason = ERR_GET_REASON(code);

	if (t->err != AL_OK) /* set by the verify callback */
		return t->err;
	t->detail = code ? ERR_reason_error_string(code) : "unknown TLS failure";
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return AL_E_TLS_TRUNCATED;
	if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		return AL_E_TLS_NO_PEER_CERT;
	if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
		t->detail = SSL_alert_desc_string_long(reason - SSL_AD_REASON_OFFSET);
		return AL_E_TLS_ALERT;
	}
	if (record_layer_reason(reason))
		return AL_E_TLS_PROTOCOL;
	return t->established ? AL_E_TLS_PROTOCOL : AL_E_TLS_HANDSHAKE;
}

/* After an SSL_* call returned r <= 0. */
static al_err io_result(al_tls *t, int r)
{
	int se = SSL_get_error(t->ssl, r);
	al_err e;

	switch (se) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		if (!t->eof)
			return AL_E_TLS_WANT;
		e = AL_E_TLS_TRUNCATED;
		t->detail = "transport ended without close_notify";
		break;
	case SSL_ERROR_ZERO_RETURN:
		t->closed = true;
		ERR_clear_error();
		return AL_E_TLS_CLOSED;
	case SSL_ERROR_SYSCALL:
		e = t->err != AL_OK ? t->err : AL_E_TLS_TRUNCATED;
		if (!t->detail)
			t->detail = "transport ended without close_notify";
		break;
	default:
		e = classify_ssl_error(t);
		break;
	}
	ERR_clear_error();
	t->err = e;
	return e;
}

al_err al_tls_handshake(al_tls *t)
{
	int r;
	if (!t->ssl)
		return AL_E_TLS_STATE;
	if (t->err != AL_OK)
		return t->err;
	if (t->established)
		return AL_OK;
	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->established = true;
		return AL_OK;
	}
	return io_result(t, r);
}

bool al_tls_established(const al_tls *t)
{
	return t->established && t->err == AL_OK;
}

al_err al_tls_write(al_tls *t, const void *data, size_t len)
{
	size_t done = 0;
	if (!t->ssl || !t->established || (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
		return t->err != AL_OK ? t->err : AL_E_TLS_STATE;
	if (t->err != AL_OK)
		return t->err;
	if (len == 0)
		return AL_OK;
	ERR_clear_error();
	if (SSL_write_ex(t->ssl, data, len, &done) != 1)
		return io_result(t, 0);
	return done == len ? AL_OK : AL_E_CRYPTO;
}

al_err al_tls_read(al_tls *t, void *out, size_t cap, size_t *n)
{
	*n = 0;
	if (!t->ssl)
		return AL_E_TLS_STATE;
	if (t->err != AL_OK)
		return t->err;
	if (t->closed)
		return AL_E_TLS_CLOSED;
	AL_TRY(al_tls_handshake(t));
	if (cap == 0)
		return AL_E_ARG;
	ERR_clear_error();
	if (SSL_read_ex(t->ssl, out, cap, n) == 1)
		return AL_OK;
	*n = 0;
	return io_result(t, 0);
}

al_err al_tls_close(al_tls *t)
{
	if (!t->ssl || !t->established)
		return AL_E_TLS_STATE;
	ERR_clear_error();
	if (SSL_shutdown(t->ssl) < 0) {
		ERR_clear_error();
		return t->err != AL_OK ? t->err : AL_E_TLS_STATE;
	}
	return AL_OK;
}

al_err al_tls_error(const al_tls *t)
{
	return t->err;
}

const char *al_tls_error_detail(const al_tls *t)
{
	if (t->detail)
		return t->detail;
	return t->err != AL_OK ? al_err_str(t->err) : "";
}

al_err al_tls_hook_error(const al_tls *t)
{
	return t->hook_err;
}

struct x509_st *al_tls_peer_cert(const al_tls *t)
{
	return t->ssl ? SSL_get0_peer_certificate(t->ssl) : NULL;
}

al_err al_tls_peer_pin(const al_tls *t, uint8_t out[AL_TLS_PIN_LEN])
{
	X509 *x = al_tls_peer_cert(t);
	if (!x)
		return AL_E_TLS_NO_PEER_CERT;
	return pin_of(x, out);
}

const char *al_tls_version(const al_tls *t)
{
	return t->ssl ? SSL_get_version(t->ssl) : "";
}
