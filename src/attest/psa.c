#include "attest/psa.h"

#include <string.h>

#include <openssl/x509.h>

#include "attest/cbor.h"
#include "attest/x509.h"

/* RFC 9052 table 2 / RFC 9053: alg -7 = ES256; COSE tags 18 Sign1, 17 Mac0. */
#define COSE_ALG_ES256 (-7)

static al_err protected_alg(int64_t *alg, al_att_blob prot)
{
	al_cbor c;
	uint64_t n;
	bool found = false;

	al_cbor_init(&c, prot.p, prot.len);
	if (!al_cbor_expect(&c, AL_CBOR_MAP, &n))
		return AL_E_ATT_CBOR;
	for (uint64_t i = 0; i < n; i++) {
		int64_t key;

		if (al_cbor_peek(&c) != AL_CBOR_UINT && al_cbor_peek(&c) != AL_CBOR_NEGINT) {
			if (!al_cbor_skip(&c) || !al_cbor_skip(&c))
				return AL_E_ATT_CBOR;
			continue;
		}
		if (!al_cbor_int(&c, &key))
			return AL_E_ATT_CBOR;
		if (key == 1) {
			if (found || !al_cbor_int(&c, alg))
				return AL_E_ATT_CBOR;
			found = true;
		} else if (!al_cbor_skip(&c)) {
			return AL_E_ATT_CBOR;
		}
	}
	return found && al_cbor_at_end(&c) ? AL_OK : AL_E_ATT_CBOR;
}

al_err al_cose_parse(al_cose_sign1 *s, const uint8_t *data, size_t len)
{
	al_cbor c;
	uint64_t v;

	memset(s, 0, sizeof(*s));
	al_cbor_init(&c, data, len);
	if (al_cbor_peek(&c) == AL_CBOR_TAG) {
		if (!al_cbor_expect(&c, AL_CBOR_TAG, &v))
			return AL_E_ATT_CBOR;
		if (v != 18 && v != 17)
			return AL_E_ATT_UNSUPPORTED;
		s->mac0 = v == 17;
	}
	if (!al_cbor_expect(&c, AL_CBOR_ARRAY, &v) || v != 4 || !al_cbor_bstr(&c, &s->protected))
		return AL_E_ATT_CBOR;
	if (al_cbor_peek(&c) != AL_CBOR_MAP || !al_cbor_skip(&c)) /* unprotected */
		return AL_E_ATT_CBOR;
	if (!al_cbor_bstr(&c, &s->payload) || !al_cbor_bstr(&c, &s->signature) ||
	    !al_cbor_at_end(&c))
		return al_cbor_err(&c) ? al_cbor_err(&c) : AL_E_ATT_CBOR;
	return protected_alg(&s->alg, s->protected);
}

static void copy_text(char *out, size_t cap, al_att_blob t)
{
	size_t n = t.len < cap - 1 ? t.len : cap - 1;

	memcpy(out, t.p, n);
	out[n] = '\0';
}

static bool copy_bytes(uint8_t *out, size_t cap, size_t *len, al_att_blob b)
{
	if (b.len > cap)
		return false;
	memcpy(out, b.p, b.len);
	*len = b.len;
	return true;
}

/* One software component map {1 type, 2 value, 4 version, 5 signer-id, ...}. */
static al_err component(al_att_psa_component *pc, al_cbor *c)
{
	uint64_t n;

	if (!al_cbor_expect(c, AL_CBOR_MAP, &n))
		return AL_E_ATT_CBOR;
	for (uint64_t i = 0; i < n; i++) {
		int64_t k;
		al_att_blob b;

		if (!al_cbor_int(c, &k))
			return AL_E_ATT_CBOR;
		if ((k == 1 || k == 4) && al_cbor_tstr(c, &b))
			copy_text(k == 1 ? pc->type : pc->version, sizeof(pc->type), b);
		else if (k == 2 && al_cbor_bstr(c, &b)) {
			if (!copy_bytes(pc->measurement, 64, &pc->measurement_len, b))
				return AL_E_ATT_CBOR;
		} else if (k == 5 && al_cbor_bstr(c, &b)) {
			if (!copy_bytes(pc->signer, 64, &pc->signer_len, b))
				return AL_E_ATT_CBOR;
		} else if (k != 1 && k != 2 && k != 4 && k != 5 && !al_cbor_skip(c))
			return AL_E_ATT_CBOR;
		if (al_cbor_err(c))
			return AL_E_ATT_CBOR;
	}
	return AL_OK;
}

static al_err components(al_att_result *res, al_cbor *c)
{
	uint64_t n;

	if (!al_cbor_expect(c, AL_CBOR_ARRAY, &n) || n == 0 || n > AL_ATT_MAX_COMPONENTS)
		return AL_E_ATT_CBOR;
	for (uint64_t i = 0; i < n; i++)
		AL_TRY(component(&res->psa_components[i], c));
	res->psa_n_components = (size_t)n;
	return AL_OK;
}

/* One claim: RFC 9783 keys, or the PSA profile 1 keys (-75000 - k). */
static al_err claim(al_att_result *res, int64_t key, al_cbor *c, uint32_t *seen)
{
	al_att_blob b;

	switch (key) {
	case 265:
	case -75000: /* eat_profile / psa-profile */
		if (!al_cbor_tstr(c, &b))
			return AL_E_ATT_CBOR;
		copy_text(res->psa_profile, sizeof(res->psa_profile), b);
		*seen |= 1;
		return AL_OK;
	case 2395:
	case -75002: /* security lifecycle */
		*seen |= 2;
		return al_cbor_int(c, &res->psa_lifecycle) ? AL_OK : AL_E_ATT_CBOR;
	case 2396:
	case -75003: /* implementation id */
		*seen |= 4;
		return al_cbor_bstr(c, &b) && copy_bytes(res->psa_implementation_id, 32,
		                                         &res->psa_implementation_id_len, b)
		           ? AL_OK
		           : AL_E_ATT_CBOR;
	case 10:
	case -75008: /* nonce: 32, 48 or 64 bytes */
		*seen |= 8;
		return al_cbor_bstr(c, &b) && (b.len == 32 || b.len == 48 || b.len == 64) &&
		               copy_bytes(res->report_data, 64, &res->report_data_len, b)
		           ? AL_OK
		           : AL_E_ATT_CBOR;
	case 256:
	case -75009: /* instance id (UEID) */
		*seen |= 16;
		return al_cbor_bstr(c, &b) &&
		               copy_bytes(res->psa_instance_id, 33, &res->psa_instance_id_len, b)
		           ? AL_OK
		           : AL_E_ATT_CBOR;
	case 2399:
	case -75006:
		*seen |= 32;
		return components(res, c);
	default:
		return al_cbor_skip(c) ? AL_OK : AL_E_ATT_CBOR;
	}
}

al_err al_psa_claims_parse(al_att_result *res, const uint8_t *claims, size_t len)
{
	al_cbor c;
	uint64_t n;
	uint32_t seen = 0;

	al_cbor_init(&c, claims, len);
	if (!al_cbor_expect(&c, AL_CBOR_MAP, &n) || n > 64)
		return AL_E_ATT_CBOR;
	for (uint64_t i = 0; i < n; i++) {
		int64_t key;

		if (!al_cbor_int(&c, &key))
			return AL_E_ATT_CBOR;
		AL_TRY(claim(res, key, &c, &seen));
	}
	if (!al_cbor_at_end(&c))
		return AL_E_ATT_CBOR;
	/* RFC 9783 section 4: profile, lifecycle, implementation id, nonce, instance id
	 * and software components are mandatory. */
	return seen == 63 ? AL_OK : AL_E_ATT_CBOR;
}

static al_err load_key(EVP_PKEY **out, al_arena *a, const uint8_t *data, size_t len)
{
	al_att_blob der = {data, len};
	const unsigned char *p;
	size_t n;

	if (len > 11 && memcmp(data, "-----BEGIN ", 11) == 0)
		AL_TRY(al_att_pem_decode(a, &der, 1, &n, "PUBLIC KEY", data, len));
	p = der.p;
	*out = d2i_PUBKEY(NULL, &p, (long)der.len);
	if (!*out || p != der.p + der.len || EVP_PKEY_get_bits(*out) != 256 ||
	    !EVP_PKEY_is_a(*out, "EC")) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return AL_E_PUBKEY;
	}
	return AL_OK;
}

/* RFC 9052 4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload]. */
static al_err sig_structure(al_arena *a, al_att_blob *out, const al_cose_sign1 *s)
{
	static const char ctx[] = "Signature1";
	size_t cap = 9 * 4 + sizeof(ctx) + s->protected.len + s->payload.len, n = 0;
	uint8_t *buf;

	AL_TRY(al_arena_alloc(a, cap, 1, (void **)&buf));
	n += al_cbor_put_head(buf + n, AL_CBOR_ARRAY, 4);
	n += al_cbor_put_head(buf + n, AL_CBOR_TSTR, sizeof(ctx) - 1);
	memcpy(buf + n, ctx, sizeof(ctx) - 1);
	n += sizeof(ctx) - 1;
	n += al_cbor_put_head(buf + n, AL_CBOR_BSTR, s->protected.len);
	memcpy(buf + n, s->protected.p, s->protected.len);
	n += s->protected.len;
	n += al_cbor_put_head(buf + n, AL_CBOR_BSTR, 0);
	n += al_cbor_put_head(buf + n, AL_CBOR_BSTR, s->payload.len);
	memcpy(buf + n, s->payload.p, s->payload.len);
	n += s->payload.len;
	out->p = buf;
	out->len = n;
	return AL_OK;
}

static void lifecycle(al_att_result *res)
{
	int64_t lc = res->psa_lifecycle;

	/* PSA security lifecycle: 0x3000-0x30ff secured; 0x4000-0x5fff debug states. */
	if (lc >= 0x4000 && lc <= 0x5fff)
		res->debug = true;
	else if (lc < 0x3000 || lc > 0x30ff)
		al_att_fail(res, "psa_lifecycle", AL_E_ATT_POLICY,
		            "security lifecycle is not secured (or a debug state)");
}

al_err al_psa_verify(al_arena *a, al_att_result *res, const al_att_input *in)
{
	al_cose_sign1 s;
	al_att_blob tbs;
	EVP_PKEY *key = NULL;
	al_err err;

	res->type = AL_ATT_PSA;
	err = al_cose_parse(&s, in->evidence, in->evidence_len);
	if (err) {
		al_att_fail(res, "cose_format", err, "not a COSE_Sign1 token");
		return AL_OK;
	}
	if (s.mac0) {
		al_att_fail(res, "cose_format", AL_E_ATT_UNSUPPORTED,
		            "COSE_Mac0 token: needs the symmetric key (not supported)");
		return AL_OK;
	}
	if (s.alg != COSE_ALG_ES256 || s.signature.len != 64) {
		al_att_fail(res, "cose_format", AL_E_ATT_UNSUPPORTED, "algorithm is not ES256");
		return AL_OK;
	}
	if (!in->key) {
		al_att_fail(res, "key", AL_E_ATT_MISSING, "a PSA token needs --key PEM");
		return AL_E_ATT_MISSING;
	}
	if ((err = load_key(&key, a, in->key, in->key_len))) {
		al_att_fail(res, "key", err, "the key is not a P-256 public key");
		return AL_OK;
	}
	err = sig_structure(a, &tbs, &s);
	if (!err)
		err =
		    al_att_ecdsa_verify(key, s.signature.p, s.signature.p + 32, 32, tbs.p, tbs.len);
	EVP_PKEY_free(key);
	if (err) {
		al_att_fail(res, "cose_signature", err, "ES256 signature does not verify");
		return AL_OK;
	}
	if ((err = al_psa_claims_parse(res, s.payload.p, s.payload.len))) {
		al_att_fail(res, "psa_claims", err, "PSA claims are malformed or incomplete");
		return AL_OK;
	}
	if (res->psa_n_components) {
		al_att_psa_component *pc = &res->psa_components[0];

		memcpy(res->measurement, pc->measurement, pc->measurement_len);
		res->measurement_len = pc->measurement_len;
		memcpy(res->signer, pc->signer, pc->signer_len);
		res->signer_len = pc->signer_len;
	}
	lifecycle(res);
	return AL_OK;
}
