#include "attest/ratls.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/cbor.h"
#include "attest/dcap.h"
#include "attest/sgx_quote.h"
#include "attest/x509.h"
#include "crypto/hash.h"
#include "util/cursor.h"

/* 2.23.133.5.4.9 */
static const uint8_t oid_dice[] = {0x67, 0x81, 0x05, 0x05, 0x04, 0x09};
/* Gramine's legacy OID: OID-encoded bytes used as OID content (see ratls.h). */
static const uint8_t oid_gramine[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                      0xf8, 0x4d, 0x8a, 0x39, 0x06};
/* 1.2.840.113741.1.13.1 */
static const uint8_t oid_intel[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
/* 1.3.6.1.4.1.311.105.1 */
static const uint8_t oid_oe[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x69, 0x01};

/* TCG DICE Attestation Architecture: CBOR tag 60000 marks a TEE evidence pair. */
#define DICE_TAG_TEE 60000

al_err al_dice_evidence_parse(al_att_blob *quote, al_att_blob *claims, const uint8_t *value,
                              size_t len)
{
	al_cbor c;
	uint64_t v;

	al_cbor_init(&c, value, len);
	if (!al_cbor_expect(&c, AL_CBOR_TAG, &v) || v != DICE_TAG_TEE ||
	    !al_cbor_expect(&c, AL_CBOR_ARRAY, &v) || v != 2 || !al_cbor_bstr(&c, quote) ||
	    !al_cbor_bstr(&c, claims) || !al_cbor_at_end(&c))
		return al_cbor_err(&c) ? al_cbor_err(&c) : AL_E_ATT_CBOR;
	return AL_OK;
}

static al_err hash_pair(int64_t *alg, al_att_blob *hash, al_cbor *c, int depth)
{
	uint64_t n;
	al_att_blob inner;

	if (al_cbor_peek(c) == AL_CBOR_BSTR && depth == 0) {
		al_cbor ic;

		if (!al_cbor_bstr(c, &inner))
			return AL_E_ATT_CBOR;
		al_cbor_init(&ic, inner.p, inner.len);
		AL_TRY(hash_pair(alg, hash, &ic, 1));
		return al_cbor_at_end(&ic) ? AL_OK : AL_E_ATT_CBOR;
	}
	if (!al_cbor_expect(c, AL_CBOR_ARRAY, &n) || n != 2 || !al_cbor_int(c, alg) ||
	    !al_cbor_bstr(c, hash))
		return AL_E_ATT_CBOR;
	return AL_OK;
}

al_err al_dice_pubkey_hash(int64_t *alg, al_att_blob *hash, const uint8_t *claims, size_t len)
{
	al_cbor c;
	uint64_t n;
	bool found = false;

	al_cbor_init(&c, claims, len);
	if (!al_cbor_expect(&c, AL_CBOR_MAP, &n))
		return AL_E_ATT_CBOR;
	for (uint64_t i = 0; i < n; i++) {
		al_att_blob key;

		if (!al_cbor_tstr(&c, &key))
			return AL_E_ATT_CBOR;
		if (al_cbor_tstr_is(key, "pubkey-hash")) {
			if (found)
				return AL_E_ATT_CBOR;
			AL_TRY(hash_pair(alg, hash, &c, 0));
			found = true;
		} else if (!al_cbor_skip(&c)) {
			return AL_E_ATT_CBOR;
		}
	}
	return found && al_cbor_at_end(&c) ? AL_OK : AL_E_ATT_CBOR;
}

al_err al_oe_evidence_parse(al_att_blob *quote, const uint8_t *value, size_t len)
{
	uint64_t size;

	/* oe_report_header_t: version u32, report_type u32, report_size u64. */
	if (len < 16)
		return AL_E_TRUNCATED;
	size = al_read_le64(value + 8);
	if (al_read_le32(value) != 1 || size != len - 16)
		return AL_E_ATT_FORMAT;
	quote->p = value + 16;
	quote->len = len - 16;
	return AL_OK;
}

static const EVP_MD *hash_alg(int64_t id)
{
	switch (id) {
	case 1:
		return EVP_sha256();
	case 7:
		return EVP_sha384();
	case 8:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static bool digest(uint8_t out[64], unsigned *olen, const EVP_MD *md, const uint8_t *p, size_t n)
{
	return EVP_Digest(p, n, out, olen, md, NULL) == 1;
}

/* REPORTDATA = h || zeros. */
static bool report_data_is(const al_att_result *res, const uint8_t *h, size_t n)
{
	for (size_t i = n; i < 64; i++)
		if (res->report_data[i] != 0)
			return false;
	return memcmp(res->report_data, h, n) == 0;
}

static bool dice_bound(al_att_result *res, al_att_blob claims, al_att_blob spki)
{
	uint8_t h[64];
	unsigned hl;
	int64_t alg;
	al_att_blob ph;
	const EVP_MD *md;

	if (al_dice_pubkey_hash(&alg, &ph, claims.p, claims.len) || !(md = hash_alg(alg)) ||
	    !digest(h, &hl, md, spki.p, spki.len) || ph.len != hl || memcmp(h, ph.p, hl) != 0)
		return false;
	/* SGX binds SHA-256(claims); TDX SHA-384(claims) (Intel sgx_ttls). */
	md = res->type == AL_ATT_TDX ? EVP_sha384() : EVP_sha256();
	return digest(h, &hl, md, claims.p, claims.len) && report_data_is(res, h, hl);
}

/* OE hashes the PEM form of the public key, NUL terminator included. */
static bool oe_bound(al_arena *a, al_att_result *res, al_att_blob spki)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----\n",
	                  end[] = "-----END PUBLIC KEY-----\n";
	size_t b64len = (spki.len + 2) / 3 * 4, cap = b64len + b64len / 64 + 80, n = 0;
	char *pem, *b64;
	uint8_t h[32];

	if (al_arena_alloc(a, cap, 1, (void **)&pem) || al_arena_alloc(a, b64len, 1, (void **)&b64))
		return false;
	if (al_att_base64_encode(b64, b64len, spki.p, spki.len) != b64len)
		return false;
	memcpy(pem, begin, sizeof(begin) - 1);
	n = sizeof(begin) - 1;
	for (size_t i = 0; i < b64len; i += 64) {
		size_t l = b64len - i < 64 ? b64len - i : 64;

		memcpy(pem + n, b64 + i, l);
		n += l;
		pem[n++] = '\n';
	}
	memcpy(pem + n, end, sizeof(end)); /* with the NUL */
	n += sizeof(end);
	al_sha256(h, pem, n);
	return report_data_is(res, h, 32);
}

typedef struct cert_ev {
	al_att_container kind;
	al_att_blob quote;
	al_att_blob claims;
} cert_ev;

static al_err find_evidence(cert_ev *ev, X509 *x)
{
	al_att_blob v;
	al_err err;

	if ((err = al_att_x509_ext(x, oid_dice, sizeof(oid_dice), &v)) == AL_OK) {
		ev->kind = AL_RATLS_DICE;
		return al_dice_evidence_parse(&ev->quote, &ev->claims, v.p, v.len);
	}
	if (err != AL_E_ATT_EXTENSION)
		return err;
	if ((err = al_att_x509_ext(x, oid_gramine, sizeof(oid_gramine), &v)) == AL_OK) {
		ev->kind = AL_RATLS_GRAMINE;
		ev->quote = v;
		return AL_OK;
	}
	if (err != AL_E_ATT_EXTENSION)
		return err;
	if ((err = al_att_x509_ext(x, oid_intel, sizeof(oid_intel), &v)) == AL_OK) {
		ev->kind = AL_RATLS_INTEL;
		ev->quote = v;
		return AL_OK;
	}
	if (err != AL_E_ATT_EXTENSION)
		return err;
	if ((err = al_att_x509_ext(x, oid_oe, sizeof(oid_oe), &v)) == AL_OK) {
		ev->kind = AL_RATLS_OPENENCLAVE;
		return al_oe_evidence_parse(&ev->quote, v.p, v.len);
	}
	return err;
}

static void check_binding(al_arena *a, al_att_result *res, const cert_ev *ev, al_att_blob spki)
{
	uint8_t h[32];
	bool ok;

	switch (ev->kind) {
	case AL_RATLS_DICE:
		ok = dice_bound(res, ev->claims, spki);
		break;
	case AL_RATLS_OPENENCLAVE:
		ok = oe_bound(a, res, spki);
		break;
	default:
		al_sha256(h, spki.p, spki.len);
		ok = report_data_is(res, h, 32);
	}
	res->bound = ok;
	if (!ok)
		al_att_fail(res, "ratls_binding", AL_E_ATT_BINDING,
		            "the quote's report data does not bind the certificate's public key");
}

al_err al_ratls_verify(al_arena *a, al_att_result *res, const al_att_input *in)
{
	al_att_blob der, spki;
	cert_ev ev = {0};
	X509 *x = NULL;
	al_err err;

	err = al_att_cert_der(a, &der, in->evidence, in->evidence_len);
	if (!err)
		err = al_att_x509_parse(&x, der.p, der.len);
	if (!err)
		err = al_att_x509_spki(a, &spki, x);
	if (err) {
		al_att_fail(res, "cert_format", err, "certificate cannot be parsed");
		goto out;
	}
	if (X509_verify(x, X509_get0_pubkey(x)) != 1) {
		al_att_fail(res, "cert_signature", AL_E_SIG_INVALID,
		            "the certificate is not signed by its own key");
		goto out;
	}
	err = find_evidence(&ev, x);
	res->container = ev.kind;
	if (err) {
		al_att_fail(res, "cert_extension", err, "no usable evidence extension");
		err = AL_OK;
		goto out;
	}
	if (!al_sgx_quote_sniff(ev.quote.p, ev.quote.len)) {
		al_att_fail(res, "cert_extension", AL_E_ATT_UNSUPPORTED,
		            "the extension does not carry a DCAP quote");
		goto out;
	}
	err = al_dcap_verify(a, res, in, ev.quote.p, ev.quote.len);
	res->container = ev.kind;
	if (res->type != AL_ATT_UNKNOWN && res->report_data_len)
		check_binding(a, res, &ev, spki);
out:
	X509_free(x);
	return err;
}
