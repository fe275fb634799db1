/* RA-TLS server identity (attest/ratls_server.h). */
#include "attest/ratls_server.h"

#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "attest/cbor.h"
#include "crypto/hash.h"
#include "util/cursor.h"

/* TCG DICE Attestation Architecture: tagged evidence, CBOR tag 60000 (TEE quote). */
#define DICE_OID     "2.23.133.5.4.9"
#define DICE_TAG_TEE 60000
/* IANA named information hash algorithm registry: 1 = sha-256. */
#define HASH_ALG_SHA256 1

#define SPKI_MAX 160

void al_ratls_claims(uint8_t out[AL_RATLS_CLAIMS_LEN], const uint8_t *spki, size_t spki_len)
{
	static const char key[] = "pubkey-hash";
	size_t n = 0;

	/* map(1), tstr(11) "pubkey-hash", array(2), uint 1, bstr(32) head, the hash. */
	_Static_assert(1 + 1 + sizeof(key) - 1 + 1 + 1 + 2 + 32 == AL_RATLS_CLAIMS_LEN,
	               "claims length");

	/* {"pubkey-hash": [1, h'<SHA-256(SPKI)>']} */
	n += al_cbor_put_head(out + n, AL_CBOR_MAP, 1);
	n += al_cbor_put_head(out + n, AL_CBOR_TSTR, sizeof(key) - 1);
	memcpy(out + n, key, sizeof(key) - 1);
	n += sizeof(key) - 1;
	n += al_cbor_put_head(out + n, AL_CBOR_ARRAY, 2);
	n += al_cbor_put_head(out + n, AL_CBOR_UINT, HASH_ALG_SHA256);
	n += al_cbor_put_head(out + n, AL_CBOR_BSTR, 32);
	al_sha256(out + n, spki, spki_len);
}

void al_ratls_report_data(uint8_t out[64], const uint8_t *claims, size_t len)
{
	/* Intel sgx_ttls / Gramine: REPORTDATA[0:32] = SHA-256(claims), the rest zero. */
	memset(out, 0, 64);
	al_sha256(out, claims, len);
}

al_err al_ratls_evidence(uint8_t *out, size_t cap, size_t *len, const uint8_t *quote,
                         size_t quote_len, const uint8_t *claims, size_t claims_len)
{
	uint8_t head[9];
	al_wb w;

	*len = 0;
	al_wb_init(&w, out, cap);
	al_wb_bytes(&w, head, al_cbor_put_head(head, AL_CBOR_TAG, DICE_TAG_TEE));
	al_wb_bytes(&w, head, al_cbor_put_head(head, AL_CBOR_ARRAY, 2));
	al_wb_bytes(&w, head, al_cbor_put_head(head, AL_CBOR_BSTR, quote_len));
	al_wb_bytes(&w, quote, quote_len);
	al_wb_bytes(&w, head, al_cbor_put_head(head, AL_CBOR_BSTR, claims_len));
	al_wb_bytes(&w, claims, claims_len);
	if (!al_wb_ok(&w))
		return AL_E_BUFSIZE;
	*len = w.len;
	return AL_OK;
}

static bool set_name(X509 *x, const char *cn)
{
	X509_NAME *n = X509_get_subject_name(x);

	return X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                                  0) &&
	       X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"alight",
	                                  -1, -1, 0) &&
	       X509_set_issuer_name(x, n);
}

static bool set_validity(X509 *x, int64_t now)
{
	ASN1_TIME *nb = ASN1_TIME_set(NULL, (time_t)now);
	ASN1_TIME *na = ASN1_TIME_set(NULL, (time_t)(now + AL_RATLS_CERT_LIFETIME));
	bool ok = nb && na && X509_set1_notBefore(x, nb) && X509_set1_notAfter(x, na);

	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return ok;
}

/* The serial number: the first 16 bytes of SHA-256(SPKI), made positive (RFC 5280
 * 4.1.2.2: unique per issuer; every key is its own issuer here). */
static bool set_serial(X509 *x, EVP_PKEY *key)
{
	uint8_t spki[SPKI_MAX], *p = spki, h[32];
	int n = i2d_PUBKEY(key, NULL);
	BIGNUM *bn;
	bool ok;

	if (n <= 0 || n > SPKI_MAX || i2d_PUBKEY(key, &p) != n)
		return false;
	al_sha256(h, spki, (size_t)n);
	h[0] &= 0x7f;
	bn = BN_bin2bn(h, 16, NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok;
}

static bool add_evidence(X509 *x, const uint8_t *evidence, size_t len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(DICE_OID, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	bool ok = false;

	if (obj && os && len <= INT_MAX && ASN1_OCTET_STRING_set(os, evidence, (int)len))
		e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	if (e)
		ok = X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok;
}

al_err al_ratls_cert_build(X509 **out, EVP_PKEY *key, const char *cn, const uint8_t *evidence,
                           size_t len, int64_t now)
{
	X509 *x = X509_new();

	*out = NULL;
	if (!x || !X509_set_version(x, X509_VERSION_3) || !set_serial(x, key) || !set_name(x, cn) ||
	    !set_validity(x, now) || !X509_set_pubkey(x, key) ||
	    (evidence && !add_evidence(x, evidence, len)) || X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		ERR_clear_error();
		return AL_E_CRYPTO;
	}
	*out = x;
	return AL_OK;
}

/* The key's claims and the report data that binds them. */
static al_err key_claims(uint8_t claims[AL_RATLS_CLAIMS_LEN], EVP_PKEY *key)
{
	uint8_t spki[SPKI_MAX], *p = spki;
	int n = i2d_PUBKEY(key, NULL);

	if (n <= 0 || n > SPKI_MAX || i2d_PUBKEY(key, &p) != n)
		return AL_E_CRYPTO;
	al_ratls_claims(claims, spki, (size_t)n);
	return AL_OK;
}

static al_err make_cert(al_ratls_identity *id, al_arena *a, al_ratls_quote_fn quote, void *arg,
                        int64_t now)
{
	uint8_t claims[AL_RATLS_CLAIMS_LEN], *q, *ev;
	size_t qlen = 0, evlen = 0;

	AL_TRY(key_claims(claims, id->key));
	al_ratls_report_data(id->report_data, claims, sizeof(claims));
	AL_TRY(al_arena_alloc(a, AL_RATLS_QUOTE_MAX, 16, (void **)&q));
	AL_TRY(al_arena_alloc(a, AL_RATLS_QUOTE_MAX + 64, 16, (void **)&ev));
	AL_TRY(quote(arg, q, AL_RATLS_QUOTE_MAX, &qlen, id->report_data));
	if (qlen == 0 || qlen > AL_RATLS_QUOTE_MAX)
		return AL_E_ARG;
	AL_TRY(al_ratls_evidence(ev, AL_RATLS_QUOTE_MAX + 64, &evlen, q, qlen, claims,
	                         sizeof(claims)));
	return al_ratls_cert_build(&id->cert, id->key, AL_RATLS_CN, ev, evlen, now);
}

al_err al_ratls_identity_make(al_ratls_identity *id, al_arena *scratch, al_ratls_quote_fn quote,
                              void *quote_arg, int64_t now)
{
	size_t mark = al_arena_mark(scratch);
	al_err err;

	memset(id, 0, sizeof(*id));
	if (!quote)
		return AL_E_ARG;
	/* The TLS key is made here, inside the enclave, and never leaves it. */
	id->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	err = id->key ? make_cert(id, scratch, quote, quote_arg, now) : AL_E_CRYPTO;
	al_arena_release(scratch, mark);
	ERR_clear_error();
	if (err)
		al_ratls_identity_clear(id);
	return err;
}

void al_ratls_identity_clear(al_ratls_identity *id)
{
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	memset(id, 0, sizeof(*id));
}

void al_ratls_server_config(al_tls_config *cfg, const al_ratls_identity *id)
{
	cfg->cert = id->cert;
	cfg->key = id->key;
}
