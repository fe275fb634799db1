#include "attest/snp.h"

#include <string.h>

#include "attest/roots.h"
#include "attest/x509.h"
#include "util/cursor.h"

/* 1.3.6.1.4.1.3704.1: AMD's VCEK extension arc. */
static const uint8_t oid_amd[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01};

/* ABI 56860 table 23: R and S are 72-byte little-endian fields; P-384 uses 48. */
static al_err sig_component(uint8_t out[48], const uint8_t *field)
{
	for (size_t i = 48; i < 72; i++)
		if (field[i] != 0)
			return AL_E_ATT_FORMAT;
	for (size_t i = 0; i < 48; i++)
		out[i] = field[47 - i];
	return AL_OK;
}

al_err al_snp_report_parse(al_snp_report *r, const uint8_t *d, size_t len)
{
	memset(r, 0, sizeof(*r));
	if (len != AL_SNP_REPORT_LEN)
		return len < AL_SNP_REPORT_LEN ? AL_E_TRUNCATED : AL_E_TRAILING;
	r->version = al_read_le32(d);
	r->guest_svn = al_read_le32(d + 0x04);
	r->policy = al_read_le64(d + 0x08);
	r->vmpl = al_read_le32(d + 0x30);
	r->sig_algo = al_read_le32(d + 0x34);
	memcpy(r->current_tcb, d + 0x38, 8);
	r->signer_info = al_read_le32(d + 0x48);
	memcpy(r->report_data, d + 0x50, 64);
	memcpy(r->measurement, d + 0x90, 48);
	memcpy(r->host_data, d + 0xc0, 32);
	memcpy(r->id_key_digest, d + 0xe0, 48);
	memcpy(r->author_key_digest, d + 0x110, 48);
	memcpy(r->reported_tcb, d + 0x180, 8);
	memcpy(r->chip_id, d + 0x1a0, 64);
	/* go-sev-guest supports versions 2 to 5; algorithm 1 is ECDSA P-384 SHA-384. */
	if (r->version < 2 || r->version > 5 || r->sig_algo != 1)
		return AL_E_ATT_UNSUPPORTED;
	AL_TRY(sig_component(r->sig_r, d + 0x2a0));
	AL_TRY(sig_component(r->sig_s, d + 0x2e8));
	for (size_t i = 0x330; i < AL_SNP_REPORT_LEN; i++)
		if (d[i] != 0)
			return AL_E_ATT_FORMAT;
	return AL_OK;
}

static al_err spl(uint8_t *out, al_att_blob v)
{
	al_att_blob in = v, val;
	uint8_t tag;
	uint64_t n;

	AL_TRY(al_der_next(&in, &tag, &val));
	if (tag != 0x02 || in.len)
		return AL_E_ATT_EXTENSION;
	AL_TRY(al_der_uint(val, &n));
	if (n > 255)
		return AL_E_ATT_EXTENSION;
	*out = (uint8_t)n;
	return AL_OK;
}

static al_err amd_ext(X509 *x, const uint8_t *suffix, size_t slen, al_att_blob *v)
{
	uint8_t oid[sizeof(oid_amd) + 2];

	memcpy(oid, oid_amd, sizeof(oid_amd));
	memcpy(oid + sizeof(oid_amd), suffix, slen);
	return al_att_x509_ext(x, oid, sizeof(oid_amd) + slen, v);
}

static al_err vcek_ext(al_snp_vcek_ext *e, X509 *x)
{
	static const uint8_t s_product[] = {2}, s_hwid[] = {4};
	static const uint8_t s_bl[] = {3, 1}, s_tee[] = {3, 2}, s_snp[] = {3, 3},
	                     s_ucode[] = {3, 8};
	al_att_blob v, in, val;
	uint8_t tag;

	memset(e, 0, sizeof(*e));
	AL_TRY(amd_ext(x, s_product, 1, &v));
	in = v;
	AL_TRY(al_der_next(&in, &tag, &val));
	/* kds.go: productName is an IA5String. */
	if (tag != 0x16 || in.len || val.len == 0 || val.len >= sizeof(e->product))
		return AL_E_ATT_EXTENSION;
	memcpy(e->product, val.p, val.len);
	AL_TRY(amd_ext(x, s_bl, 2, &v));
	AL_TRY(spl(&e->bl, v));
	AL_TRY(amd_ext(x, s_tee, 2, &v));
	AL_TRY(spl(&e->tee, v));
	AL_TRY(amd_ext(x, s_snp, 2, &v));
	AL_TRY(spl(&e->snp, v));
	AL_TRY(amd_ext(x, s_ucode, 2, &v));
	AL_TRY(spl(&e->ucode, v));
	/* hwID: the 64 raw bytes (no DER wrapper), as KDS issues it. */
	AL_TRY(amd_ext(x, s_hwid, 1, &v));
	if (v.len != 64)
		return AL_E_ATT_EXTENSION;
	memcpy(e->hwid, v.p, 64);
	return AL_OK;
}

al_err al_snp_vcek_ext_parse(al_snp_vcek_ext *e, const uint8_t *der, size_t len)
{
	X509 *x;
	al_err err;

	AL_TRY(al_att_x509_parse(&x, der, len));
	err = vcek_ext(e, x);
	X509_free(x);
	return err;
}

typedef struct snp_ctx {
	al_arena *a;
	al_att_result *res;
	const al_att_input *in;
	al_snp_report r;
	al_snp_vcek_ext ext;
	X509 *vcek, *ask, *ark;
} snp_ctx;

static bool fail(snp_ctx *c, const char *step, al_err err, const char *reason)
{
	al_att_fail(c->res, step, err, reason);
	return false;
}

/* "ARK-Milan" goes with "Milan-B0": the family before the stepping. */
static bool same_family(X509 *ark, const char *product)
{
	char cn[24] = "ARK-";
	size_t n = strcspn(product, "-");

	if (n == 0 || n + 4 >= sizeof(cn))
		return false;
	memcpy(cn + 4, product, n);
	return al_att_x509_cn_is(ark, cn, false);
}

static bool chain(snp_ctx *c)
{
	al_att_blob vcek, pem[AL_ATT_MAX_CHAIN];
	const char *detail;
	size_t n, i;
	al_err err;

	err = al_att_cert_der(c->a, &vcek, c->in->vcek, c->in->vcek_len);
	if (!err)
		err = al_att_x509_parse(&c->vcek, vcek.p, vcek.len);
	if (err)
		return fail(c, "vcek_chain", err, "VCEK certificate cannot be parsed");
	err = al_att_pem_decode(c->a, pem, AL_ATT_MAX_CHAIN, &n, "CERTIFICATE", c->in->ask_ark,
	                        c->in->ask_ark_len);
	if (err || n != 2)
		return fail(c, "vcek_chain", err ? err : AL_E_ATT_CHAIN,
		            "ASK/ARK file is not a PEM chain of exactly two certificates");
	for (i = 1; i < AL_ATT_N_ROOTS; i++)
		if (al_att_blob_eq(pem[1], al_att_roots[i].der, al_att_roots[i].len))
			break;
	if (i == AL_ATT_N_ROOTS)
		return fail(c, "vcek_chain", AL_E_ATT_ROOT, "the ARK is not a pinned AMD root");
	if (al_att_x509_parse(&c->ask, pem[0].p, pem[0].len) ||
	    al_att_x509_parse(&c->ark, pem[1].p, pem[1].len))
		return fail(c, "vcek_chain", AL_E_ATT_CERT, "ASK or ARK cannot be parsed");
	if (al_att_chain_verify(c->vcek, &c->ask, 1, c->ark, NULL, 0, c->in->now, &detail))
		return fail(c, "vcek_chain", AL_E_ATT_CHAIN, detail);
	err = vcek_ext(&c->ext, c->vcek);
	if (err)
		return fail(c, "vcek_chain", err, "VCEK extensions missing or invalid");
	memcpy(c->res->snp_product, c->ext.product, sizeof(c->ext.product));
	if (!same_family(c->ark, c->ext.product))
		return fail(c, "vcek_chain", AL_E_ATT_MISMATCH,
		            "VCEK product does not match the ARK's product line");
	if (strncmp(c->ext.product, "Turin", 5) == 0)
		return fail(c, "tcb_version", AL_E_ATT_UNSUPPORTED,
		            "Turin TCB_VERSION layout is not supported");
	return true;
}

static bool report(snp_ctx *c)
{
	EVP_PKEY *k = X509_get0_pubkey(c->vcek);
	const uint8_t *t = c->r.reported_tcb;

	if (!k || EVP_PKEY_get_bits(k) != 384 ||
	    al_att_ecdsa_verify(k, c->r.sig_r, c->r.sig_s, 48, c->in->evidence, AL_SNP_SIGNED_LEN))
		return fail(c, "report_signature", AL_E_SIG_INVALID,
		            "report signature does not verify with the VCEK");
	if (c->r.signer_info & 2)
		return fail(c, "chip_id", AL_E_ATT_MISMATCH, "CHIP_ID is masked (MASK_CHIP_KEY)");
	if (memcmp(c->r.chip_id, c->ext.hwid, 64) != 0)
		return fail(c, "chip_id", AL_E_ATT_MISMATCH, "CHIP_ID differs from the VCEK hwID");
	/* The VCEK was issued for a TCB; the report must not claim an older one. */
	if (t[0] < c->ext.bl || t[1] < c->ext.tee || t[6] < c->ext.snp || t[7] < c->ext.ucode)
		return fail(c, "tcb_version", AL_E_ATT_TCB,
		            "REPORTED_TCB is below the VCEK's TCB (SPLs)");
	return true;
}

static void to_result(snp_ctx *c)
{
	al_att_result *res = c->res;
	const uint8_t *t = c->r.reported_tcb;

	res->type = AL_ATT_SNP;
	res->version = (uint16_t)c->r.version;
	memcpy(res->measurement, c->r.measurement, 48);
	res->measurement_len = 48;
	memcpy(res->signer, c->r.id_key_digest, 48);
	res->signer_len = 48;
	memcpy(res->report_data, c->r.report_data, 64);
	res->report_data_len = 64;
	res->snp_policy = c->r.policy;
	res->debug = (c->r.policy >> 19) & 1;
	res->snp_tcb[0] = t[0];
	res->snp_tcb[1] = t[1];
	res->snp_tcb[2] = t[6];
	res->snp_tcb[3] = t[7];
	memcpy(res->chip_id, c->r.chip_id, 64);
}

al_err al_snp_verify(al_arena *a, al_att_result *res, const al_att_input *in)
{
	snp_ctx *c;
	al_err err;

	AL_TRY(AL_ARENA_NEW(a, snp_ctx, &c));
	c->a = a;
	c->res = res;
	c->in = in;
	res->type = AL_ATT_SNP;
	err = al_snp_report_parse(&c->r, in->evidence, in->evidence_len);
	if (err) {
		al_att_fail(res, "report_format", err, "not a well-formed SEV-SNP report");
		return AL_OK;
	}
	to_result(c);
	if (!in->vcek || !in->ask_ark) {
		al_att_fail(res, "vcek_chain", AL_E_ATT_MISSING,
		            "an SEV-SNP report needs --vcek DER and --ask-ark PEM");
		return AL_E_ATT_MISSING;
	}
	/* SIGNING_KEY 0 is the VCEK; VLEK (1) needs the ASVK chain. */
	if (((c->r.signer_info >> 2) & 7) != 0)
		al_att_fail(res, "vcek_chain", AL_E_ATT_UNSUPPORTED, "report is not VCEK-signed");
	else if (chain(c))
		report(c);
	X509_free(c->vcek);
	X509_free(c->ask);
	X509_free(c->ark);
	return AL_OK;
}
