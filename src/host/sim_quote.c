/* Simulated SGX DCAP v3 quotes (host/sim_quote.h). */
#include "host/sim_quote.h"

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/dcap.h"
#include "attest/sgx_quote.h"
#include "attest/x509.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "util/cursor.h"

/* sgx_quote_3.h: the quote signature covers header || report body. */
#define SIGNED_LEN   (AL_SGX_HEADER_LEN + AL_SGX_REPORT_LEN)
#define SIG_DATA_OFF (SIGNED_LEN + 4)

/* Intel's QE vendor id (the only one DCAP verifiers accept). */
static const uint8_t qe_vendor_intel[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
/* 1.2.840.113741.1.13.1: the PCK certificate's SGX extension. */
static const uint8_t oid_sgx[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

/* SGX ATTRIBUTES.FLAGS bits (SDK arch.h). */
#define SGX_FLAGS_INITTED      0x01u
#define SGX_FLAGS_DEBUG        0x02u
#define SGX_FLAGS_MODE64BIT    0x04u
#define SGX_FLAGS_PROVISIONKEY 0x10u
#define SGX_XFRM_LEGACY        0x03u /* x87 and SSE state */

al_err al_sim_sign(uint8_t sig[64], EVP_PKEY *key, const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *s = NULL;
	const BIGNUM *r, *sv;
	al_err err = AL_E_CRYPTO;

	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, der, &dlen, msg, len) != 1)
		goto out;
	s = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!s)
		goto out;
	ECDSA_SIG_get0(s, &r, &sv);
	if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(sv, sig + 32, 32) == 32)
		err = AL_OK;
out:
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return err;
}

/* A P-256 private key from PEM. */
static al_err read_key(EVP_PKEY **out, const uint8_t *pem, size_t len)
{
	BIO *b = (pem && len && len <= INT_MAX) ? BIO_new_mem_buf(pem, (int)len) : NULL;
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	char group[16];
	size_t glen;

	BIO_free(b);
	ERR_clear_error();
	*out = NULL;
	if (!k || !EVP_PKEY_is_a(k, "EC") ||
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		EVP_PKEY_free(k);
		return AL_E_PRIVKEY;
	}
	*out = k;
	return AL_OK;
}

al_err al_sim_mrsigner(uint8_t out[32], const uint8_t *pub_pem, size_t len)
{
	BIO *b = (pub_pem && len && len <= INT_MAX) ? BIO_new_mem_buf(pub_pem, (int)len) : NULL;
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	uint8_t spki[1024], *p = spki;
	int n = k ? i2d_PUBKEY(k, NULL) : -1;
	al_err err = AL_E_PUBKEY;

	if (n > 0 && n <= (int)sizeof(spki) && i2d_PUBKEY(k, &p) == n) {
		al_sha256(out, spki, (size_t)n);
		err = AL_OK;
	}
	EVP_PKEY_free(k);
	BIO_free(b);
	ERR_clear_error();
	return err;
}

/* The uncompressed public point without its 0x04 prefix: X || Y. */
static al_err raw_pub(uint8_t xy[64], EVP_PKEY *k)
{
	uint8_t sec1[65];
	size_t n = 0;

	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, sec1,
	                                    sizeof(sec1), &n) != 1 ||
	    n != 65 || sec1[0] != 0x04)
		return AL_E_CRYPTO;
	memcpy(xy, sec1 + 1, 64);
	return AL_OK;
}

/* The PCK leaf (first certificate of the chain): it must belong to the PCK key;
 * its SGX extension gives this platform's CPUSVN and PCESVN. */
static al_err read_pck(al_sim_qe *qe, EVP_PKEY *pck_key)
{
	BIO *b = qe->chain_len <= INT_MAX ? BIO_new_mem_buf(qe->chain, (int)qe->chain_len) : NULL;
	X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	al_sgx_pck_ext ext;
	al_att_blob v;
	al_err err = AL_E_ATT_CERT;

	if (!leaf || X509_check_private_key(leaf, pck_key) != 1)
		goto out;
	err = al_att_x509_ext(leaf, oid_sgx, sizeof(oid_sgx), &v);
	if (!err)
		err = al_sgx_pck_ext_parse(&ext, v.p, v.len);
	if (err)
		goto out;
	memcpy(qe->cpusvn, ext.cpusvn, 16);
	qe->pcesvn = ext.pcesvn;
out:
	X509_free(leaf);
	BIO_free(b);
	ERR_clear_error();
	return err;
}

/* An SGX REPORT body (ATTESTATION.md 1.3); reserved fields zero. */
static void report_body(uint8_t body[AL_SGX_REPORT_LEN], const uint8_t cpusvn[16], uint64_t flags,
                        const uint8_t mrenclave[32], const uint8_t mrsigner[32], uint16_t isvprodid,
                        uint16_t isvsvn, const uint8_t report_data[64])
{
	memset(body, 0, AL_SGX_REPORT_LEN);
	memcpy(body, cpusvn, 16);
	al_write_le64(body + 48, flags);
	al_write_le64(body + 56, SGX_XFRM_LEGACY);
	memcpy(body + 64, mrenclave, 32);
	memcpy(body + 128, mrsigner, 32);
	body[256] = (uint8_t)isvprodid;
	body[257] = (uint8_t)(isvprodid >> 8);
	body[258] = (uint8_t)isvsvn;
	body[259] = (uint8_t)(isvsvn >> 8);
	memcpy(body + 320, report_data, 64);
}

static void qe_auth_data(uint8_t auth[AL_SIM_AUTH_LEN])
{
	for (size_t i = 0; i < AL_SIM_AUTH_LEN; i++)
		auth[i] = (uint8_t)i;
}

/* The QE report: QVL 4.1.2.4.13, REPORTDATA = SHA-256(attestation key || QE auth
 * data) || 32 zeros; signed by the PCK key (4.1.2.4.12). */
static al_err make_qe_report(al_sim_qe *qe, EVP_PKEY *pck_key)
{
	uint8_t auth[AL_SIM_AUTH_LEN], rd[64] = {0}, mrenclave[32], mrsigner[32];
	al_sha256_ctx s;

	qe_auth_data(auth);
	al_sha256_init(&s);
	al_sha256_update(&s, qe->att_pub, 64);
	al_sha256_update(&s, auth, sizeof(auth));
	al_sha256_final(&s, rd);
	al_sha256(mrenclave, AL_SIM_QE_ID, strlen(AL_SIM_QE_ID));
	al_sha256(mrsigner, AL_SIM_QE_SIGNER_TEXT, strlen(AL_SIM_QE_SIGNER_TEXT));
	report_body(qe->qe_report, qe->cpusvn, SGX_FLAGS_INITTED | SGX_FLAGS_PROVISIONKEY,
	            mrenclave, mrsigner, AL_SIM_QE_ISVPRODID, AL_SIM_QE_ISVSVN, rd);
	return al_sim_sign(qe->qe_report_sig, pck_key, qe->qe_report, AL_SGX_REPORT_LEN);
}

al_err al_sim_qe_init(al_sim_qe *qe, const uint8_t *att_key_pem, size_t att_key_len,
                      const uint8_t *pck_key_pem, size_t pck_key_len, const uint8_t *chain_pem,
                      size_t chain_len)
{
	EVP_PKEY *pck = NULL;
	al_err err;

	memset(qe, 0, sizeof(*qe));
	if (!chain_pem || !chain_len)
		return AL_E_ARG;
	/* The NUL the quote needs is added when quoting. */
	if (chain_pem[chain_len - 1] == 0)
		chain_len--;
	qe->chain = chain_pem;
	qe->chain_len = chain_len;
	err = read_key(&qe->att_key, att_key_pem, att_key_len);
	if (!err)
		err = read_key(&pck, pck_key_pem, pck_key_len);
	if (!err)
		err = raw_pub(qe->att_pub, qe->att_key);
	if (!err)
		err = read_pck(qe, pck);
	if (!err)
		err = make_qe_report(qe, pck);
	EVP_PKEY_free(pck);
	if (err)
		al_sim_qe_clear(qe);
	return err;
}

void al_sim_qe_clear(al_sim_qe *qe)
{
	EVP_PKEY_free(qe->att_key);
	al_memzero(qe, sizeof(*qe));
}

size_t al_sim_quote_len(const al_sim_qe *qe)
{
	return AL_SIM_QUOTE_FIXED_LEN + qe->chain_len + 1;
}

static void header(al_wb *w, const al_sim_qe *qe)
{
	uint8_t user_data[20] = {0};

	memcpy(user_data, AL_SIM_QE_ID, strlen(AL_SIM_QE_ID));
	al_wb_le16(w, 3); /* version */
	al_wb_le16(w, 2); /* att_key_type: ECDSA-256-with-P-256 */
	al_wb_le32(w, 0); /* tee_type (att_key_data_0 in v3): SGX */
	al_wb_le16(w, AL_SIM_QE_ISVSVN);
	al_wb_le16(w, qe->pcesvn);
	al_wb_bytes(w, qe_vendor_intel, sizeof(qe_vendor_intel));
	al_wb_bytes(w, user_data, sizeof(user_data));
}

al_err al_sim_quote(const al_sim_qe *qe, uint8_t *out, size_t cap, size_t *len,
                    const al_sim_enclave *enc, const uint8_t report_data[64])
{
	uint8_t body[AL_SGX_REPORT_LEN], auth[AL_SIM_AUTH_LEN], zero_sig[64] = {0};
	size_t total = al_sim_quote_len(qe);
	uint64_t flags = SGX_FLAGS_INITTED | SGX_FLAGS_MODE64BIT;
	al_wb w;

	*len = 0;
	if (!qe->att_key)
		return AL_E_ARG;
	if (cap < total)
		return AL_E_BUFSIZE;
	if (enc->debug)
		flags |= SGX_FLAGS_DEBUG;
	report_body(body, qe->cpusvn, flags, enc->mrenclave, enc->mrsigner, enc->isvprodid,
	            enc->isvsvn, report_data);
	qe_auth_data(auth);
	al_wb_init(&w, out, cap);
	header(&w, qe);
	al_wb_bytes(&w, body, sizeof(body));
	al_wb_le32(&w, (uint32_t)(total - SIG_DATA_OFF));
	al_wb_bytes(&w, zero_sig, sizeof(zero_sig)); /* the quote signature, below */
	al_wb_bytes(&w, qe->att_pub, 64);
	al_wb_bytes(&w, qe->qe_report, AL_SGX_REPORT_LEN);
	al_wb_bytes(&w, qe->qe_report_sig, 64);
	al_wb_le16(&w, AL_SIM_AUTH_LEN);
	al_wb_bytes(&w, auth, sizeof(auth));
	/* Certification data type 5: the PCK chain as PEM, NUL-terminated. */
	al_wb_le16(&w, AL_SGX_CERT_PCK_CHAIN);
	al_wb_le32(&w, (uint32_t)(qe->chain_len + 1));
	al_wb_bytes(&w, qe->chain, qe->chain_len);
	al_wb_u8(&w, 0);
	if (!al_wb_ok(&w) || w.len != total)
		return AL_E_BUFSIZE;
	AL_TRY(al_sim_sign(out + SIG_DATA_OFF, qe->att_key, out, SIGNED_LEN));
	*len = total;
	return AL_OK;
}
