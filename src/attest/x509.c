#include "attest/x509.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/x509_vfy.h>

al_err al_att_x509_parse(X509 **out, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (len == 0 || len > 65536)
		return AL_E_ATT_CERT;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x)
		return AL_E_ATT_CERT;
	if (p != der + len) {
		X509_free(x);
		return AL_E_ATT_CERT;
	}
	*out = x;
	return AL_OK;
}

al_err al_att_crl_parse(X509_CRL **out, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *c;

	*out = NULL;
	if (len == 0 || len > 1 << 20)
		return AL_E_ATT_CERT;
	c = d2i_X509_CRL(NULL, &p, (long)len);
	if (!c)
		return AL_E_ATT_CERT;
	if (p != der + len) {
		X509_CRL_free(c);
		return AL_E_ATT_CERT;
	}
	*out = c;
	return AL_OK;
}

al_err al_att_chain_verify(X509 *leaf, X509 *const *inter, size_t n_inter, X509 *anchor,
                           X509_CRL *const *crls, size_t n_crls, int64_t now, const char **detail)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_VERIFY_PARAM *param;
	al_err err = AL_E_CRYPTO;
	unsigned long flags = X509_V_FLAG_USE_CHECK_TIME;
	size_t i;

	*detail = "out of memory";
	if (!store || !ctx || !untrusted || !X509_STORE_add_cert(store, anchor))
		goto out;
	for (i = 0; i < n_inter; i++)
		if (!sk_X509_push(untrusted, inter[i]))
			goto out;
	for (i = 0; i < n_crls; i++)
		if (!X509_STORE_add_crl(store, crls[i]))
			goto out;
	if (n_crls)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted))
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, flags);
	X509_VERIFY_PARAM_set_time(param, (time_t)now);
	err = AL_E_ATT_CHAIN;
	if (X509_verify_cert(ctx) == 1) {
		err = AL_OK;
		*detail = NULL;
	} else {
		*detail = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
	}
out:
	/* The stack holds borrowed pointers: free the stack only. */
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return err;
}

al_err al_att_ecdsa_verify(EVP_PKEY *key, const uint8_t *r, const uint8_t *s, size_t n,
                           const uint8_t *msg, size_t len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, (int)n, NULL), *bs = BN_bin2bn(s, (int)n, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[160], *dp = der;
	int dlen;
	al_err err = AL_E_CRYPTO;

	if (!sig || !br || !bs || !md || (n != 32 && n != 48))
		goto out;
	if (!ECDSA_SIG_set0(sig, br, bs))
		goto out;
	br = bs = NULL;
	dlen = i2d_ECDSA_SIG(sig, NULL);
	if (dlen <= 0 || dlen > (int)sizeof(der) || i2d_ECDSA_SIG(sig, &dp) != dlen)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, n == 32 ? EVP_sha256() : EVP_sha384(), NULL, key) != 1)
		goto out;
	err = EVP_DigestVerify(md, der, (size_t)dlen, msg, len) == 1 ? AL_OK : AL_E_SIG_INVALID;
out:
	EVP_MD_CTX_free(md);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return err;
}

al_err al_att_ec_pubkey(EVP_PKEY **out, const uint8_t *xy, size_t n)
{
	uint8_t sec1[97];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	al_err err = AL_E_PUBKEY;

	*out = NULL;
	if (n != 32 && n != 48)
		return AL_E_ARG;
	sec1[0] = 0x04;
	memcpy(sec1 + 1, xy, 2 * n);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	                                             n == 32 ? "P-256" : "P-384", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, sec1, 1 + 2 * n);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
		err = AL_OK;
	EVP_PKEY_CTX_free(ctx);
	return err;
}

al_err al_att_x509_ext(X509 *x, const uint8_t *oid, size_t oidlen, al_att_blob *val)
{
	int i, n = X509_get_ext_count(x);
	bool found = false;

	for (i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(e);
		const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(e);
		size_t olen = OBJ_length(obj);
		const unsigned char *od = OBJ_get0_data(obj);

		if (olen != oidlen || !od || memcmp(od, oid, oidlen) != 0)
			continue;
		if (found)
			return AL_E_ATT_CERT; /* RFC 5280 4.2: at most one instance */
		found = true;
		val->p = ASN1_STRING_get0_data(os);
		val->len = (size_t)ASN1_STRING_length(os);
	}
	return found ? AL_OK : AL_E_ATT_EXTENSION;
}

bool al_att_x509_cn_is(X509 *x, const char *cn, bool substring)
{
	X509_NAME *name = X509_get_subject_name(x);
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1), last = -1;
	const ASN1_STRING *s;
	size_t len, cl = strlen(cn);
	const unsigned char *d;

	while (idx >= 0) {
		last = idx;
		idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx);
	}
	if (last < 0)
		return false;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
	d = ASN1_STRING_get0_data(s);
	len = (size_t)ASN1_STRING_length(s);
	if (!substring)
		return len == cl && memcmp(d, cn, cl) == 0;
	for (size_t i = 0; i + cl <= len; i++)
		if (memcmp(d + i, cn, cl) == 0)
			return true;
	return false;
}

al_err al_att_x509_spki(al_arena *a, al_att_blob *out, X509 *x)
{
	X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
	int len = pk ? i2d_X509_PUBKEY(pk, NULL) : -1;
	unsigned char *buf, *p;

	if (len <= 0)
		return AL_E_ATT_CERT;
	AL_TRY(al_arena_alloc(a, (size_t)len, 1, (void **)&buf));
	p = buf;
	if (i2d_X509_PUBKEY(pk, &p) != len)
		return AL_E_CRYPTO;
	out->p = buf;
	out->len = (size_t)len;
	return AL_OK;
}

al_err al_att_cert_der(al_arena *a, al_att_blob *der, const uint8_t *data, size_t len)
{
	size_t n;

	if (len > 11 && memcmp(data, "-----BEGIN ", 11) == 0) {
		AL_TRY(al_att_pem_decode(a, der, 1, &n, "CERTIFICATE", data, len));
		return AL_OK;
	}
	der->p = data;
	der->len = len;
	return len ? AL_OK : AL_E_ATT_CERT;
}
