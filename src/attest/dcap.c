#include "attest/dcap.h"

#include <string.h>

#include <openssl/x509.h>

#include "attest/collateral.h"
#include "attest/roots.h"
#include "attest/sgx_quote.h"
#include "attest/x509.h"
#include "crypto/hash.h"

/* 1.2.840.113741.1.13.1: the SGX extension of PCK certificates. */
static const uint8_t oid_sgx_ext[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

typedef struct dcap_ctx {
	al_arena *a;
	al_att_result *res;
	const al_att_input *in;
	al_sgx_quote q;
	al_att_collateral col;
	al_att_blob anchor_der;
	X509 *anchor;
	X509 *pck[AL_ATT_MAX_CHAIN];
	size_t n_pck;
	X509_CRL *crl[2]; /* root CA CRL, PCK CRL */
	al_sgx_pck_ext ext;
	al_att_tcb_info tcb;
	al_att_qe_identity qe;
	al_sgx_report qe_report;
	al_tdx_report td;
	al_sgx_report sgx;
} dcap_ctx;

static bool fail(dcap_ctx *c, const char *step, al_err err, const char *reason)
{
	al_att_fail(c->res, step, err, reason);
	return false;
}

/* ---- the PCK certificate's SGX extension ---- */

/* The sub-OID of an SGX extension entry: its content after the 9-byte prefix. */
static bool sub_oid(al_att_blob oid, const uint8_t **rest, size_t *rlen)
{
	if (oid.len <= sizeof(oid_sgx_ext) || memcmp(oid.p, oid_sgx_ext, sizeof(oid_sgx_ext)) != 0)
		return false;
	*rest = oid.p + sizeof(oid_sgx_ext);
	*rlen = oid.len - sizeof(oid_sgx_ext);
	return true;
}

static al_err entry(al_att_blob *seq, uint8_t *tag, al_att_blob *oid, al_att_blob *val)
{
	al_att_blob e;
	uint8_t t;

	AL_TRY(al_der_next(seq, &t, &e));
	if (t != 0x30)
		return AL_E_ATT_DER;
	AL_TRY(al_der_next(&e, &t, oid));
	if (t != 0x06)
		return AL_E_ATT_DER;
	AL_TRY(al_der_next(&e, tag, val));
	return e.len == 0 ? AL_OK : AL_E_ATT_DER;
}

static al_err octets(uint8_t *out, size_t n, uint8_t tag, al_att_blob v)
{
	if (tag != 0x04 || v.len != n)
		return AL_E_ATT_EXTENSION;
	memcpy(out, v.p, n);
	return AL_OK;
}

static al_err pck_tcb(al_sgx_pck_ext *e, al_att_blob seq)
{
	uint32_t seen = 0;

	while (seq.len) {
		al_att_blob oid, val;
		const uint8_t *r;
		size_t rl;
		uint8_t tag;
		uint64_t v;

		AL_TRY(entry(&seq, &tag, &oid, &val));
		/* .2.N: N = 1..16 component SVNs, 17 PCESVN, 18 CPUSVN. */
		if (!sub_oid(oid, &r, &rl) || rl != 2 || r[0] != 2 || r[1] < 1 || r[1] > 18)
			return AL_E_ATT_EXTENSION;
		if (seen & (1u << r[1]))
			return AL_E_ATT_EXTENSION;
		seen |= 1u << r[1];
		if (r[1] == 18) {
			AL_TRY(octets(e->cpusvn, 16, tag, val));
			continue;
		}
		if (tag != 0x02)
			return AL_E_ATT_EXTENSION;
		AL_TRY(al_der_uint(val, &v));
		if (v > (r[1] == 17 ? 65535u : 255u))
			return AL_E_ATT_EXTENSION;
		if (r[1] == 17)
			e->pcesvn = (uint16_t)v;
		else
			e->comp_svn[r[1] - 1] = (uint8_t)v;
	}
	return seen == 0x7fffe ? AL_OK : AL_E_ATT_EXTENSION;
}

al_err al_sgx_pck_ext_parse(al_sgx_pck_ext *e, const uint8_t *der, size_t len)
{
	al_att_blob in = {der, len}, seq;
	uint32_t seen = 0;
	uint8_t tag;

	memset(e, 0, sizeof(*e));
	AL_TRY(al_der_next(&in, &tag, &seq));
	if (tag != 0x30 || in.len != 0)
		return AL_E_ATT_DER;
	while (seq.len) {
		al_att_blob oid, val;
		const uint8_t *r;
		size_t rl;

		AL_TRY(entry(&seq, &tag, &oid, &val));
		if (!sub_oid(oid, &r, &rl) || rl != 1 || r[0] < 1 || r[0] > 7 ||
		    (seen & (1u << r[0])))
			return AL_E_ATT_EXTENSION;
		seen |= 1u << r[0];
		switch (r[0]) {
		case 1:
			AL_TRY(octets(e->ppid, 16, tag, val));
			break;
		case 2:
			if (tag != 0x30)
				return AL_E_ATT_EXTENSION;
			AL_TRY(pck_tcb(e, val));
			break;
		case 3:
			AL_TRY(octets(e->pce_id, 2, tag, val));
			break;
		case 4:
			AL_TRY(octets(e->fmspc, 6, tag, val));
			break;
		case 5:
			if (tag != 0x0a)
				return AL_E_ATT_EXTENSION;
			AL_TRY(al_der_uint(val, &e->sgx_type));
			break;
		default: /* .6 PlatformInstanceID, .7 Configuration: not used */
			break;
		}
	}
	/* PPID, TCB, PCE-ID, FMSPC and SGX Type are mandatory. */
	return (seen & 0x3e) == 0x3e ? AL_OK : AL_E_ATT_EXTENSION;
}

/* ---- TCB status arithmetic ---- */

al_att_tcb al_dcap_converge(al_att_tcb platform, al_att_tcb qe)
{
	if (qe == AL_TCB_REVOKED)
		return AL_TCB_REVOKED;
	if (qe != AL_TCB_OUT_OF_DATE)
		return platform;
	switch (platform) {
	case AL_TCB_UP_TO_DATE:
	case AL_TCB_SW_HARDENING_NEEDED:
		return AL_TCB_OUT_OF_DATE;
	case AL_TCB_CONFIGURATION_NEEDED:
	case AL_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
		return AL_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	default:
		return platform;
	}
}

static void add_advisories(al_att_result *res, const al_att_tcb_level *l)
{
	for (size_t i = 0; i < l->n_adv; i++) {
		size_t j, n = strlen(l->adv[i]);

		for (j = 0; j < res->n_advisories; j++)
			if (strcmp(res->advisories[j], l->adv[i]) == 0)
				break;
		if (j < res->n_advisories || res->n_advisories == AL_ATT_MAX_ADVISORIES ||
		    n >= AL_ATT_ADVISORY_LEN)
			continue;
		memcpy(res->advisories[res->n_advisories++], l->adv[i], n + 1);
	}
}

/* First identity level whose isvsvn <= svn (QVL: levels are sorted, best first). */
static const al_att_tcb_level *isv_level(const al_att_tcb_level *lv, size_t n, uint16_t svn)
{
	for (size_t i = 0; i < n; i++)
		if (lv[i].isvsvn <= svn)
			return &lv[i];
	return NULL;
}

/* ---- trust anchors and chains ---- */

static void free_chain(X509 **x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		X509_free(x[i]);
}

/* Pick the anchor the PCK chain ends at (the rule in attest.h). */
static bool choose_anchor(dcap_ctx *c, al_att_blob last)
{
	const al_att_root *intel = &al_att_roots[0];
	al_att_blob extra = {NULL, 0};
	X509 *x = NULL;

	if (c->in->extra_root) {
		if (al_att_cert_der(c->a, &extra, c->in->extra_root, c->in->extra_root_len) ||
		    al_att_x509_parse(&x, extra.p, extra.len))
			return fail(c, "trust_anchor", AL_E_ATT_CERT,
			            "the --root certificate cannot be parsed");
		if (!al_att_blob_eq(extra, intel->der, intel->len) &&
		    !al_att_x509_cn_is(x, AL_ATT_SIM_ROOT_CN, false)) {
			X509_free(x);
			return fail(c, "trust_anchor", AL_E_ATT_ROOT,
			            "the --root certificate is neither the Intel SGX Root CA nor "
			            "the alight simulation root CA");
		}
		X509_free(x);
	}
	if (al_att_blob_eq(last, intel->der, intel->len)) {
		c->anchor_der.p = intel->der;
		c->anchor_der.len = intel->len;
	} else if (extra.p && al_att_blob_eq(last, extra.p, extra.len)) {
		c->anchor_der = extra;
		c->res->simulated = true;
	} else {
		return fail(c, "pck_chain", AL_E_ATT_ROOT,
		            "the PCK chain does not end at the pinned Intel SGX Root CA");
	}
	if (al_att_x509_parse(&c->anchor, c->anchor_der.p, c->anchor_der.len))
		return fail(c, "pck_chain", AL_E_ATT_CERT, "root certificate cannot be parsed");
	if (c->res->simulated && !c->in->allow_simulated &&
	    !(c->in->policy && c->in->policy->allow_simulated))
		fail(c, "simulated", AL_E_ATT_SIMULATED,
		     "the quote chains to the alight simulation root CA (not Intel); "
		     "pass --allow-simulated to accept it");
	return true;
}

/* Decode a PEM chain ending at the anchor and verify it (root CA CRL applied).
 * On success x[0] is the leaf; the caller frees x[0..*n). */
static bool issuer_chain(dcap_ctx *c, const char *step, al_att_blob pem, X509 **x, size_t *n,
                         const char *leaf_cn)
{
	al_att_blob der[AL_ATT_MAX_CHAIN];
	const char *detail;
	al_err err;

	*n = 0;
	err = al_att_pem_decode(c->a, der, AL_ATT_MAX_CHAIN, n, "CERTIFICATE", pem.p, pem.len);
	if (err)
		return fail(c, step, err, "issuer chain is not a valid PEM certificate chain");
	if (*n < 2 || !al_att_blob_eq(der[*n - 1], c->anchor_der.p, c->anchor_der.len)) {
		*n = 0;
		return fail(c, step, AL_E_ATT_ROOT,
		            "issuer chain does not end at the trust anchor");
	}
	for (size_t i = 0; i < *n - 1; i++) {
		if (al_att_x509_parse(&x[i], der[i].p, der[i].len)) {
			free_chain(x, i);
			*n = 0;
			return fail(c, step, AL_E_ATT_CERT, "issuer certificate cannot be parsed");
		}
	}
	(*n)--; /* the root copy is the anchor itself */
	if (al_att_chain_verify(x[0], x + 1, *n - 1, c->anchor, c->crl, 1, c->in->now, &detail))
		return fail(c, step, AL_E_ATT_CHAIN, detail);
	if (leaf_cn && !al_att_x509_cn_is(x[0], leaf_cn, true))
		return fail(c, step, AL_E_ATT_CHAIN, "signing certificate has the wrong name");
	return true;
}

static bool parse_crls(dcap_ctx *c)
{
	if (al_att_crl_parse(&c->crl[0], c->col.root_ca_crl.p, c->col.root_ca_crl.len))
		return fail(c, "collateral_format", AL_E_ATT_CERT, "root CA CRL cannot be parsed");
	if (al_att_crl_parse(&c->crl[1], c->col.pck_crl.p, c->col.pck_crl.len))
		return fail(c, "collateral_format", AL_E_ATT_CERT, "PCK CRL cannot be parsed");
	return true;
}

static bool pck_chain(dcap_ctx *c)
{
	al_att_blob der[AL_ATT_MAX_CHAIN], data = c->q.cert;
	const char *detail;
	al_err err;
	size_t n;

	if (c->q.cert_type != AL_SGX_CERT_PCK_CHAIN)
		return fail(c, "quote_format", AL_E_ATT_UNSUPPORTED,
		            "certification data is not a PCK certificate chain (type 5)");
	/* The PEM chain is NUL-terminated (the size counts the NUL, for mbedTLS). */
	if (data.len && data.p[data.len - 1] == 0)
		data.len--;
	err = al_att_pem_decode(c->a, der, AL_ATT_MAX_CHAIN, &n, "CERTIFICATE", data.p, data.len);
	if (err)
		return fail(c, "pck_chain", err, "PCK chain is not a valid PEM certificate chain");
	if (n < 2)
		return fail(c, "pck_chain", AL_E_ATT_CHAIN,
		            "PCK chain has fewer than two certificates");
	if (!choose_anchor(c, der[n - 1]))
		return false;
	for (c->n_pck = 0; c->n_pck < n - 1; c->n_pck++)
		if (al_att_x509_parse(&c->pck[c->n_pck], der[c->n_pck].p, der[c->n_pck].len))
			return fail(c, "pck_chain", AL_E_ATT_CERT,
			            "PCK certificate cannot be parsed");
	if (!parse_crls(c))
		return false;
	if (al_att_chain_verify(c->pck[0], c->pck + 1, c->n_pck - 1, c->anchor, c->crl, 2,
	                        c->in->now, &detail))
		return fail(c, "pck_chain", AL_E_ATT_CHAIN, detail);
	if (!al_att_x509_cn_is(c->pck[0], "SGX PCK Certificate", true))
		return fail(c, "pck_chain", AL_E_ATT_CHAIN, "leaf is not an SGX PCK Certificate");
	return true;
}

static bool pck_crl_chain(dcap_ctx *c)
{
	X509 *x[AL_ATT_MAX_CHAIN];
	size_t n;
	bool ok;

	ok = issuer_chain(c, "pck_crl_chain", c->col.pck_crl_issuer_chain, x, &n, NULL);
	/* QVL: the PCK CRL is issued by the PCK leaf's issuer (raw name compare). */
	if (ok && (X509_NAME_cmp(X509_CRL_get_issuer(c->crl[1]), X509_get_subject_name(x[0])) ||
	           X509_NAME_cmp(X509_CRL_get_issuer(c->crl[1]), X509_get_issuer_name(c->pck[0]))))
		ok = fail(c, "pck_crl_chain", AL_E_ATT_MISMATCH,
		          "PCK CRL issuer is not the PCK certificate's issuer");
	free_chain(x, n);
	return ok;
}

static bool pck_extension(dcap_ctx *c)
{
	al_att_blob v;
	al_err err = al_att_x509_ext(c->pck[0], oid_sgx_ext, sizeof(oid_sgx_ext), &v);

	if (!err)
		err = al_sgx_pck_ext_parse(&c->ext, v.p, v.len);
	if (err)
		return fail(c, "pck_extension", err,
		            "PCK certificate SGX extension missing or invalid");
	memcpy(c->res->fmspc, c->ext.fmspc, 6);
	return true;
}

static bool qe_report(dcap_ctx *c)
{
	EVP_PKEY *pck = X509_get0_pubkey(c->pck[0]), *ak = NULL;
	uint8_t h[32];
	al_sha256_ctx s;
	static const uint8_t zero[32];

	/* QVL 4.1.2.4.12: the QE report is signed by the PCK leaf key. */
	if (!pck || EVP_PKEY_get_bits(pck) != 256 ||
	    al_att_ecdsa_verify(pck, c->q.qe_report_sig, c->q.qe_report_sig + 32, 32,
	                        c->q.qe_report, AL_SGX_REPORT_LEN))
		return fail(c, "qe_report_signature", AL_E_SIG_INVALID,
		            "QE report signature does not verify with the PCK key");
	al_sgx_report_parse(&c->qe_report, c->q.qe_report);
	/* 4.1.2.4.13: REPORTDATA = SHA-256(attestation key || QE auth data) || 32 zeros. */
	al_sha256_init(&s);
	al_sha256_update(&s, c->q.att_key, 64);
	al_sha256_update(&s, c->q.qe_auth.p, c->q.qe_auth.len);
	al_sha256_final(&s, h);
	if (memcmp(h, c->qe_report.report_data, 32) != 0 ||
	    memcmp(zero, c->qe_report.report_data + 32, 32) != 0)
		return fail(c, "qe_report_data", AL_E_ATT_BINDING,
		            "QE report data does not bind the attestation key");
	/* 4.1.2.4.16: the quote is signed by the attestation key. */
	if (al_att_ec_pubkey(&ak, c->q.att_key, 32))
		return fail(c, "quote_signature", AL_E_PUBKEY, "attestation key is not on P-256");
	if (al_att_ecdsa_verify(ak, c->q.signature, c->q.signature + 32, 32, c->q.signed_region.p,
	                        c->q.signed_region.len)) {
		EVP_PKEY_free(ak);
		return fail(c, "quote_signature", AL_E_SIG_INVALID,
		            "quote signature does not verify with the attestation key");
	}
	EVP_PKEY_free(ak);
	return true;
}

/* Chain, signature and window of a signed collateral document. */
static bool signed_doc(dcap_ctx *c, const char *what, al_att_blob chain, al_att_blob body,
                       const uint8_t sig[64])
{
	X509 *x[AL_ATT_MAX_CHAIN];
	size_t n;
	bool ok;

	ok = issuer_chain(c, what[0] == 't' ? "tcb_info_chain" : "qe_identity_chain", chain, x, &n,
	                  "TCB Signing");
	if (ok && al_att_ecdsa_verify(X509_get0_pubkey(x[0]), sig, sig + 32, 32, body.p, body.len))
		ok = fail(c, what[0] == 't' ? "tcb_info_signature" : "qe_identity_signature",
		          AL_E_SIG_INVALID, "signature over the collateral JSON does not verify");
	free_chain(x, n);
	return ok;
}

static bool tcb_info(dcap_ctx *c)
{
	bool tdx = c->q.tee_type == AL_SGX_TEE_TDX;
	al_err err;

	if (!signed_doc(c, "tcb", c->col.tcb_info_issuer_chain, c->col.tcb_info,
	                c->col.tcb_info_sig))
		return false;
	err = al_att_tcb_info_parse(c->a, &c->tcb, c->col.tcb_info.p, c->col.tcb_info.len);
	if (err)
		return fail(c, "collateral_format", err, "TCB Info cannot be parsed");
	if (c->in->now < c->tcb.issue_date || c->in->now > c->tcb.next_update)
		return fail(c, "tcb_info_window", AL_E_ATT_WINDOW,
		            "TCB Info is not valid at the given time (issueDate..nextUpdate)");
	/* QVL 4.1.2.4.9/10: TCB Info for this TEE, FMSPC and PCE-ID of the PCK cert. */
	if (c->tcb.tdx != tdx || (tdx && c->tcb.version < 3))
		return fail(c, "tcb_info_match", AL_E_ATT_MISMATCH, "TCB Info is for another TEE");
	if (memcmp(c->tcb.fmspc, c->ext.fmspc, 6) != 0 || memcmp(c->tcb.pce_id, c->ext.pce_id, 2))
		return fail(c, "tcb_info_match", AL_E_ATT_MISMATCH,
		            "FMSPC or PCE-ID of the PCK certificate differs from the TCB Info");
	return true;
}

static bool masked_eq(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((a[i] & mask[i]) != (b[i] & mask[i]))
			return false;
	return true;
}

static bool qe_identity(dcap_ctx *c)
{
	const al_att_qe_identity *q = &c->qe;
	const al_sgx_report *r = &c->qe_report;
	const al_att_tcb_level *l;
	al_err err;

	if (!signed_doc(c, "qe", c->col.qe_identity_issuer_chain, c->col.qe_identity,
	                c->col.qe_identity_sig))
		return false;
	err = al_att_qe_identity_parse(c->a, &c->qe, c->col.qe_identity.p, c->col.qe_identity.len);
	if (err)
		return fail(c, "collateral_format", err, "QE Identity cannot be parsed");
	if (c->in->now < q->issue_date || c->in->now > q->next_update)
		return fail(c, "qe_identity_window", AL_E_ATT_WINDOW,
		            "QE Identity is not valid at the given time (issueDate..nextUpdate)");
	if (q->td_qe != (c->q.tee_type == AL_SGX_TEE_TDX))
		return fail(c, "qe_identity_match", AL_E_ATT_MISMATCH,
		            "QE Identity is for another TEE");
	/* QVL 4.1.2.4.14: the QE is the one Intel's identity describes. */
	if (memcmp(r->mrsigner, q->mrsigner, 32) != 0 || r->isvprodid != q->isvprodid ||
	    (r->miscselect & q->miscselect_mask) != (q->miscselect & q->miscselect_mask) ||
	    !masked_eq(r->attributes, q->attributes, q->attributes_mask, 16))
		return fail(c, "qe_identity_match", AL_E_ATT_MISMATCH,
		            "QE report does not match the QE Identity");
	if (r->attributes[0] & 0x02)
		return fail(c, "qe_identity_match", AL_E_ATT_DEBUG, "the QE is a debug enclave");
	l = isv_level(q->levels, q->n_levels, r->isvsvn);
	if (!l)
		return fail(c, "tcb_level", AL_E_ATT_TCB,
		            "QE ISVSVN below every QE Identity level");
	c->res->qe_tcb_status = l->status;
	add_advisories(c->res, l);
	return true;
}

static bool level_matches(const dcap_ctx *c, const al_att_tcb_level *l, size_t tdx_from)
{
	for (size_t i = 0; i < 16; i++)
		if (c->ext.comp_svn[i] < l->sgx_svn[i])
			return false;
	if (c->ext.pcesvn < l->pcesvn)
		return false;
	if (c->q.tee_type != AL_SGX_TEE_TDX)
		return true;
	for (size_t i = tdx_from; i < 16; i++)
		if (c->td.tee_tcb_svn[i] < l->tdx_svn[i])
			return false;
	return true;
}

/* TDX 4.1.2.4.11: the SEAM module and its identity. Sets *tdx_from for levels. */
static bool tdx_module(dcap_ctx *c, size_t *tdx_from)
{
	const al_att_tcb_info *t = &c->tcb;
	const al_att_tdx_module *m = NULL;
	const al_att_tcb_level *l;
	char id[8] = "TDX_00";
	static const char hexd[] = "0123456789ABCDEF";

	*tdx_from = 0;
	if (memcmp(c->td.mrsignerseam, t->module_mrsigner, 48) != 0 ||
	    (c->td.seam_attributes & t->module_attributes_mask) != t->module_attributes)
		return fail(c, "tdx_module", AL_E_ATT_MISMATCH,
		            "TDX module signer or attributes differ from the TCB Info");
	id[4] = hexd[c->td.tee_tcb_svn[1] >> 4];
	id[5] = hexd[c->td.tee_tcb_svn[1] & 15];
	for (size_t i = 0; i < t->n_modules; i++)
		if (strcmp(t->modules[i].id, id) == 0)
			m = &t->modules[i];
	if (!m) {
		if (t->n_modules && c->td.tee_tcb_svn[1] != 0)
			return fail(c, "tdx_module", AL_E_ATT_MISMATCH,
			            "no TDX module identity for this module version");
		return true;
	}
	if (memcmp(c->td.mrsignerseam, m->mrsigner, 48) != 0 ||
	    (c->td.seam_attributes & m->attributes_mask) != m->attributes)
		return fail(c, "tdx_module", AL_E_ATT_MISMATCH,
		            "TDX module does not match its module identity");
	l = isv_level(m->levels, m->n_levels, c->td.tee_tcb_svn[0]);
	if (!l)
		return fail(c, "tdx_module", AL_E_ATT_TCB, "TDX module SVN below every level");
	c->res->module_tcb_status = l->status;
	add_advisories(c->res, l);
	*tdx_from = 2;
	return true;
}

static bool tcb_level(dcap_ctx *c)
{
	size_t tdx_from = 0;
	al_att_tcb st;

	if (c->q.tee_type == AL_SGX_TEE_TDX && !tdx_module(c, &tdx_from))
		return false;
	/* QVL 4.1.2.4.17: the first level the platform meets, in the given order. */
	for (size_t i = 0; i < c->tcb.n_levels; i++) {
		const al_att_tcb_level *l = &c->tcb.levels[i];

		if (!level_matches(c, l, tdx_from))
			continue;
		c->res->platform_tcb_status = l->status;
		add_advisories(c->res, l);
		st = al_dcap_converge(l->status, c->res->qe_tcb_status);
		if (c->res->module_tcb_status)
			st = al_dcap_converge(st, c->res->module_tcb_status);
		c->res->tcb_status = st;
		if (st == AL_TCB_REVOKED)
			return fail(c, "tcb_level", AL_E_ATT_TCB, "the platform TCB is revoked");
		return true;
	}
	return fail(c, "tcb_level", AL_E_ATT_TCB,
	            "no TCB level matches the platform (TCB_NOT_SUPPORTED)");
}

static void body_to_result(dcap_ctx *c)
{
	al_att_result *res = c->res;

	res->version = c->q.version;
	if (c->q.tee_type == AL_SGX_TEE_TDX) {
		res->type = AL_ATT_TDX;
		al_tdx_report_parse(&c->td, c->q.body.p);
		memcpy(res->measurement, c->td.mrtd, 48);
		res->measurement_len = 48;
		memcpy(res->report_data, c->td.report_data, 64);
		memcpy(res->tee_tcb_svn, c->td.tee_tcb_svn, 16);
		memcpy(res->rtmr, c->td.rtmr, sizeof(res->rtmr));
		/* TDATTRIBUTES bit 0: TUD.DEBUG. */
		res->debug = c->td.td_attributes & 1;
	} else {
		res->type = AL_ATT_SGX;
		al_sgx_report_parse(&c->sgx, c->q.body.p);
		memcpy(res->measurement, c->sgx.mrenclave, 32);
		res->measurement_len = 32;
		memcpy(res->signer, c->sgx.mrsigner, 32);
		res->signer_len = 32;
		memcpy(res->report_data, c->sgx.report_data, 64);
		memcpy(res->attributes, c->sgx.attributes, 16);
		res->isvprodid = c->sgx.isvprodid;
		res->isvsvn = c->sgx.isvsvn;
		/* ATTRIBUTES.FLAGS bit 1: DEBUG. */
		res->debug = c->sgx.attributes[0] & 0x02;
	}
	res->report_data_len = 64;
}

static bool run(dcap_ctx *c)
{
	al_err err;

	err = al_att_collateral_parse(c->a, &c->col, c->in->collateral, c->in->collateral_len);
	if (err)
		return fail(c, "collateral_format", err,
		            "collateral is not QuoteCollateralV3 JSON");
	return pck_chain(c) && pck_crl_chain(c) && pck_extension(c) && qe_report(c) &&
	       tcb_info(c) && qe_identity(c) && tcb_level(c);
}

al_err al_dcap_verify(al_arena *a, al_att_result *res, const al_att_input *in, const uint8_t *quote,
                      size_t len)
{
	dcap_ctx *c;
	al_err err;

	AL_TRY(AL_ARENA_NEW(a, dcap_ctx, &c));
	c->a = a;
	c->res = res;
	c->in = in;
	err = al_sgx_quote_parse(&c->q, quote, len);
	if (err) {
		al_att_fail(res, "quote_format", err, "not a well-formed DCAP ECDSA quote");
		return AL_OK;
	}
	body_to_result(c);
	if (!in->collateral) {
		al_att_fail(res, "collateral_format", AL_E_ATT_MISSING,
		            "a DCAP quote needs its collateral (--collateral)");
		return AL_E_ATT_MISSING;
	}
	run(c);
	free_chain(c->pck, c->n_pck);
	X509_free(c->anchor);
	X509_CRL_free(c->crl[0]);
	X509_CRL_free(c->crl[1]);
	return AL_OK;
}
