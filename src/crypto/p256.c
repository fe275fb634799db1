#include "crypto/p256.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "crypto/hash.h"
#include "util/mem.h"

#define SPKI_MAX 160

/* The uncompressed public point d*G. */
static al_err public_point(uint8_t pub[65], const BIGNUM *d)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *p = g ? EC_POINT_new(g) : NULL;
	bool ok = p && EC_POINT_mul(g, p, d, NULL, NULL, NULL) == 1 &&
	          EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub, 65, NULL) == 65;

	EC_POINT_clear_free(p);
	EC_GROUP_free(g);
	return ok ? AL_OK : AL_E_CRYPTO;
}

static bool in_range(const BIGNUM *d)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	const BIGNUM *n = g ? EC_GROUP_get0_order(g) : NULL;
	bool ok = n && !BN_is_zero(d) && BN_cmp(d, n) < 0;

	EC_GROUP_free(g);
	return ok;
}

al_err al_p256_from_scalar(EVP_PKEY **out, const uint8_t scalar[32])
{
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *d = BN_secure_new();
	uint8_t pub[65];
	al_err e = AL_E_CRYPTO;

	*out = NULL;
	if (!d || !BN_bin2bn(scalar, 32, d))
		goto out;
	if (!in_range(d)) {
		e = AL_E_PRIVKEY;
		goto out;
	}
	if (public_point(pub, d) != AL_OK)
		goto out;
	b = OSSL_PARAM_BLD_new();
	if (!b ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
		goto out;
	params = OSSL_PARAM_BLD_to_param(b);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) == 1)
		e = AL_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params); /* OpenSSL 3 clears secure BN params on free */
	OSSL_PARAM_BLD_free(b);
	BN_clear_free(d);
	ERR_clear_error();
	return e;
}

al_err al_p256_derive(EVP_PKEY **out, const uint8_t *ikm, size_t len, const char *label)
{
	uint8_t d[32], info[5] = {'p', '2', '5', '6', 0};
	al_err e = AL_E_PRIVKEY;

	*out = NULL;
	for (unsigned counter = 0; counter < 256 && e == AL_E_PRIVKEY; counter++) {
		info[4] = (uint8_t)counter;
		e = al_hkdf_sha256(d, sizeof(d), label, strlen(label), ikm, len, info,
		                   sizeof(info));
		if (e == AL_OK)
			e = al_p256_from_scalar(out, d);
	}
	al_memzero(d, sizeof(d));
	return e;
}

al_err al_pkey_pin(uint8_t out[32], EVP_PKEY *key)
{
	uint8_t spki[SPKI_MAX], *p = spki;
	int n = key ? i2d_PUBKEY(key, NULL) : -1;

	if (n <= 0 || n > SPKI_MAX || i2d_PUBKEY(key, &p) != n)
		return AL_E_CRYPTO;
	al_sha256(out, spki, (size_t)n);
	return AL_OK;
}
