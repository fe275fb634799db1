#include "attest/attest.h"

#include <string.h>

#include "attest/dcap.h"
#include "attest/psa.h"
#include "attest/ratls.h"
#include "attest/sgx_quote.h"
#include "attest/snp.h"
#include "attest/x509.h"
#include "util/cursor.h"

static const char *const tcb_names[] = {
    NULL,
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
};

const char *al_att_tcb_name(al_att_tcb t)
{
	return (size_t)t < sizeof(tcb_names) / sizeof(tcb_names[0]) ? tcb_names[t] : NULL;
}

al_att_tcb al_att_tcb_from_name(const char *s)
{
	for (size_t i = 1; i < sizeof(tcb_names) / sizeof(tcb_names[0]); i++)
		if (strcmp(s, tcb_names[i]) == 0)
			return (al_att_tcb)i;
	return AL_TCB_NONE;
}

const char *al_att_status_name(al_att_status s)
{
	switch (s) {
	case AL_ATT_AFFIRMING:
		return "affirming";
	case AL_ATT_WARNING:
		return "warning";
	default:
		return "contraindicated";
	}
}

const char *al_att_type_name(al_att_type t, uint16_t version)
{
	switch (t) {
	case AL_ATT_SGX:
		return version == 4 ? "sgx-dcap-quote-v4" : "sgx-dcap-quote-v3";
	case AL_ATT_TDX:
		return version == 5 ? "tdx-dcap-quote-v5" : "tdx-dcap-quote-v4";
	case AL_ATT_SNP:
		return "sev-snp-report";
	case AL_ATT_PSA:
		return "psa-token";
	default:
		return "unknown";
	}
}

const char *al_att_container_name(al_att_container c)
{
	switch (c) {
	case AL_RATLS_DICE:
		return "x509-tcg-dice-tagged-evidence";
	case AL_RATLS_GRAMINE:
		return "x509-gramine-legacy";
	case AL_RATLS_INTEL:
		return "x509-intel-sgx-quote";
	case AL_RATLS_OPENENCLAVE:
		return "x509-open-enclave";
	default:
		return NULL;
	}
}

void al_att_fail(al_att_result *res, const char *step, al_err err, const char *reason)
{
	res->status = AL_ATT_CONTRAINDICATED;
	if (res->n_failures == AL_ATT_MAX_FAILURES)
		return;
	res->failures[res->n_failures].step = step;
	res->failures[res->n_failures].reason = reason ? reason : al_err_str(err);
	res->failures[res->n_failures].err = err;
	res->n_failures++;
}

void al_att_policy_default(al_att_policy *p)
{
	memset(p, 0, sizeof(*p));
}

static bool allowed(const uint8_t *v, size_t len, const uint8_t (*list)[48], const size_t *lens,
                    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lens[i] == len && memcmp(list[i], v, len) == 0)
			return true;
	return false;
}

static void appraise_tcb(al_att_result *res, const al_att_policy *p, bool *warn)
{
	if (res->tcb_status != AL_TCB_NONE) {
		if (p->min_tcb != AL_TCB_NONE && res->tcb_status > p->min_tcb)
			al_att_fail(res, "policy_tcb", AL_E_ATT_POLICY,
			            "TCB status is worse than the policy's min_tcb_status");
		else if (res->tcb_status != AL_TCB_UP_TO_DATE)
			*warn = true;
	}
	if (p->have_min_snp_tcb && res->type == AL_ATT_SNP) {
		for (size_t i = 0; i < 4; i++)
			if (res->snp_tcb[i] < p->min_snp_tcb[i]) {
				al_att_fail(res, "policy_tcb", AL_E_ATT_POLICY,
				            "reported TCB is below the policy's min_snp_tcb");
				break;
			}
	}
	if (p->have_min_isvsvn && res->type == AL_ATT_SGX && res->isvsvn < p->min_isvsvn)
		al_att_fail(res, "policy_isvsvn", AL_E_ATT_POLICY,
		            "ISVSVN below the policy minimum");
}

void al_att_appraise(al_att_result *res, const al_att_policy *p, bool allow_simulated)
{
	bool warn = false;

	if (res->debug) {
		if (p->allow_debug)
			warn = true;
		else
			al_att_fail(res, "policy_debug", AL_E_ATT_DEBUG,
			            "debug mode is enabled and the policy does not allow debug");
	}
	if (res->simulated && (allow_simulated || p->allow_simulated))
		warn = true;
	if (p->n_measurements && !allowed(res->measurement, res->measurement_len, p->measurements,
	                                  p->measurement_len, p->n_measurements))
		al_att_fail(res, "policy_measurement", AL_E_ATT_POLICY,
		            "measurement is not in allowed_measurements");
	if (p->n_signers &&
	    !allowed(res->signer, res->signer_len, p->signers, p->signer_len, p->n_signers))
		al_att_fail(res, "policy_signer", AL_E_ATT_POLICY,
		            "signer is not in allowed_signers");
	appraise_tcb(res, p, &warn);
	if (p->report_data_len &&
	    (res->report_data_len < p->report_data_len ||
	     memcmp(res->report_data, p->report_data, p->report_data_len) != 0))
		al_att_fail(res, "policy_report_data", AL_E_ATT_POLICY,
		            "report data does not start with the policy's report_data");
	if (res->n_failures)
		res->status = AL_ATT_CONTRAINDICATED;
	else
		res->status = warn ? AL_ATT_WARNING : AL_ATT_AFFIRMING;
}

al_att_type al_att_detect(const uint8_t *data, size_t len)
{
	uint32_t v;

	if (al_sgx_quote_sniff(data, len))
		return al_read_le32(data + 4) == AL_SGX_TEE_TDX ? AL_ATT_TDX : AL_ATT_SGX;
	if (len == AL_SNP_REPORT_LEN) {
		v = al_read_le32(data);
		if (v >= 2 && v <= 5)
			return AL_ATT_SNP;
	}
	/* COSE_Sign1 (tag 18), COSE_Mac0 (tag 17) or an untagged 4-element array. */
	if (len > 1 && (data[0] == 0xd2 || data[0] == 0xd1 || data[0] == 0x84))
		return AL_ATT_PSA;
	return AL_ATT_UNKNOWN;
}

bool al_att_is_certificate(const uint8_t *data, size_t len)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----";

	if (len >= sizeof(pem) - 1 && memcmp(data, pem, sizeof(pem) - 1) == 0)
		return true;
	/* DER: SEQUENCE with a two-byte length spanning the input. */
	return len > 4 && data[0] == 0x30 && data[1] == 0x82 &&
	       (size_t)(data[2] << 8 | data[3]) + 4 == len;
}

al_err al_att_verify(al_arena *scratch, al_att_result *res, const al_att_input *in)
{
	al_att_policy def;
	const al_att_policy *p = in->policy;
	size_t mark = al_arena_mark(scratch);
	al_err err = AL_OK;

	memset(res, 0, sizeof(*res));
	if (!in->evidence || !in->evidence_len)
		return AL_E_ARG;
	if (!p) {
		al_att_policy_default(&def);
		p = &def;
	}
	if (al_att_is_certificate(in->evidence, in->evidence_len)) {
		err = al_ratls_verify(scratch, res, in);
	} else {
		switch (al_att_detect(in->evidence, in->evidence_len)) {
		case AL_ATT_SGX:
		case AL_ATT_TDX:
			err = al_dcap_verify(scratch, res, in, in->evidence, in->evidence_len);
			break;
		case AL_ATT_SNP:
			err = al_snp_verify(scratch, res, in);
			break;
		case AL_ATT_PSA:
			err = al_psa_verify(scratch, res, in);
			break;
		default:
			al_att_fail(
			    res, "detect", AL_E_ATT_FORMAT,
			    "not an SGX/TDX quote, SEV-SNP report, PSA token or certificate");
		}
	}
	if (err == AL_E_NOMEM)
		al_att_fail(res, "scratch", err, NULL);
	al_att_appraise(res, p, in->allow_simulated);
	al_arena_release(scratch, mark);
	return err == AL_E_ATT_MISSING ? err : AL_OK;
}
