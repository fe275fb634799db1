/* Certificates made at test time with the OpenSSL API (no private key is committed):
 * P-256 keys, a CA, leaves signed by it, self-signed certificates. Shared by test_tls.c,
 * test_httpd.c and test_hostile_fetch.c. */
#ifndef ALIGHT_TESTS_TLS_TESTCERTS_H
#define ALIGHT_TESTS_TLS_TESTCERTS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

typedef struct tcert {
	X509 *x;
	EVP_PKEY *k;
	char *cert_pem;
	size_t cert_len;
	char *key_pem;
	size_t key_len;
} tcert;

static inline char *tc_bio_dup(BIO *b, size_t *len)
{
	char *p = NULL, *out;
	long n = BIO_get_mem_data(b, &p);
	out = malloc((size_t)n + 1);
	if (!out)
		return NULL;
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

static inline bool tc_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	bool ok;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return false;
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate for `cn` with subjectAltName `san` ("DNS:localhost,IP:127.0.0.1", or
 * NULL), signed by `issuer` (NULL: self-signed), valid from now+from_s to now+to_s. */
static inline bool tc_make(tcert *c, const char *cn, const char *san, const tcert *issuer, bool ca,
                           long from_s, long to_s)
{
	static long serial = 1;
	X509_NAME *name;
	BIO *b;
	bool ok = false;

	memset(c, 0, sizeof(*c));
	c->k = EVP_EC_gen("P-256");
	c->x = X509_new();
	if (!c->k || !c->x)
		return false;
	X509_set_version(c->x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(c->x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(c->x), to_s);
	X509_set_pubkey(c->x, c->k);
	name = X509_get_subject_name(c->x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x) : name);
	if (!tc_ext(c->x, issuer ? issuer->x : c->x, NID_basic_constraints,
	            ca ? "critical,CA:TRUE" : "critical,CA:FALSE"))
		return false;
	if (ca && !tc_ext(c->x, c->x, NID_key_usage, "critical,keyCertSign,cRLSign"))
		return false;
	if (san && !tc_ext(c->x, issuer ? issuer->x : c->x, NID_subject_alt_name, san))
		return false;
	if (X509_sign(c->x, issuer ? issuer->k : c->k, EVP_sha256()) <= 0)
		return false;
	b = BIO_new(BIO_s_mem());
	if (b && PEM_write_bio_X509(b, c->x) == 1)
		c->cert_pem = tc_bio_dup(b, &c->cert_len);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	if (b && PEM_write_bio_PrivateKey(b, c->k, NULL, NULL, 0, NULL, NULL) == 1)
		c->key_pem = tc_bio_dup(b, &c->key_len);
	BIO_free(b);
	ok = c->cert_pem && c->key_pem;
	return ok;
}

static inline void tc_free(tcert *c)
{
	X509_free(c->x);
	EVP_PKEY_free(c->k);
	free(c->cert_pem);
	if (c->key_pem)
		memset(c->key_pem, 0, c->key_len);
	free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

/* Write a PEM buffer to dir/name; returns a malloc'd path or NULL. */
static inline char *tc_write(const char *dir, const char *name, const char *pem, size_t len)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	FILE *f;
	if (!path)
		return NULL;
	snprintf(path, n, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(pem, 1, len, f) != len) {
		if (f)
			fclose(f);
		free(path);
		return NULL;
	}
	fclose(f);
	return path;
}

#endif
