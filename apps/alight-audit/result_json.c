/* The verdict as JSON, in the spirit of IETF RATS EAR (draft-ietf-rats-ear):
 * top-level status/evidence fields plus an EAR-shaped "submods" entry. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"
#include "util/hex.h"

static json_t *hex_or_null(const uint8_t *p, size_t len)
{
	char buf[2 * 64 + 1];

	if (len == 0 || len > 64 || al_hex_encode(buf, sizeof(buf), p, len) != AL_OK)
		return json_null();
	return json_string(buf);
}

static json_t *tcb_or_null(al_att_tcb t)
{
	const char *s = al_att_tcb_name(t);

	return s ? json_string(s) : json_null();
}

static void add_sgx(json_t *o, const al_att_result *r)
{
	json_t *s = json_object();

	json_object_set_new(s, "isvprodid", json_integer(r->isvprodid));
	json_object_set_new(s, "isvsvn", json_integer(r->isvsvn));
	json_object_set_new(s, "attributes", hex_or_null(r->attributes, 16));
	json_object_set_new(s, "fmspc", hex_or_null(r->fmspc, 6));
	json_object_set_new(o, "sgx", s);
}

static void add_tdx(json_t *o, const al_att_result *r)
{
	json_t *t = json_object(), *rt = json_array();

	json_object_set_new(t, "tee_tcb_svn", hex_or_null(r->tee_tcb_svn, 16));
	for (int i = 0; i < 4; i++)
		json_array_append_new(rt, hex_or_null(r->rtmr[i], 48));
	json_object_set_new(t, "rtmr", rt);
	json_object_set_new(t, "fmspc", hex_or_null(r->fmspc, 6));
	json_object_set_new(t, "module_tcb_status", tcb_or_null(r->module_tcb_status));
	json_object_set_new(o, "tdx", t);
}

static void add_snp(json_t *o, const al_att_result *r)
{
	json_t *s = json_object(), *t = json_object();
	char pol[24];

	snprintf(pol, sizeof(pol), "0x%llx", (unsigned long long)r->snp_policy);
	json_object_set_new(s, "version", json_integer(r->version));
	json_object_set_new(s, "policy", json_string(pol));
	json_object_set_new(t, "bl", json_integer(r->snp_tcb[0]));
	json_object_set_new(t, "tee", json_integer(r->snp_tcb[1]));
	json_object_set_new(t, "snp", json_integer(r->snp_tcb[2]));
	json_object_set_new(t, "ucode", json_integer(r->snp_tcb[3]));
	json_object_set_new(s, "reported_tcb", t);
	json_object_set_new(s, "chip_id", hex_or_null(r->chip_id, 64));
	json_object_set_new(s, "product",
	                    r->snp_product[0] ? json_string(r->snp_product) : json_null());
	json_object_set_new(o, "snp", s);
}

static void add_psa(json_t *o, const al_att_result *r)
{
	json_t *p = json_object(), *comps = json_array();

	json_object_set_new(p, "profile", json_string(r->psa_profile));
	json_object_set_new(p, "security_lifecycle", json_integer(r->psa_lifecycle));
	json_object_set_new(p, "implementation_id",
	                    hex_or_null(r->psa_implementation_id, r->psa_implementation_id_len));
	json_object_set_new(p, "instance_id",
	                    hex_or_null(r->psa_instance_id, r->psa_instance_id_len));
	for (size_t i = 0; i < r->psa_n_components; i++) {
		const al_att_psa_component *c = &r->psa_components[i];
		json_t *j = json_object();

		json_object_set_new(j, "type", json_string(c->type));
		json_object_set_new(j, "version", json_string(c->version));
		json_object_set_new(j, "measurement",
		                    hex_or_null(c->measurement, c->measurement_len));
		json_object_set_new(j, "signer", hex_or_null(c->signer, c->signer_len));
		json_array_append_new(comps, j);
	}
	json_object_set_new(p, "software_components", comps);
	json_object_set_new(o, "psa", p);
}

static json_t *failures(const al_att_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_failures; i++) {
		json_t *f = json_object();

		json_object_set_new(f, "step", json_string(r->failures[i].step));
		json_object_set_new(f, "reason", json_string(r->failures[i].reason));
		json_object_set_new(f, "error", json_string(al_err_name(r->failures[i].err)));
		json_array_append_new(a, f);
	}
	return a;
}

void audit_print_result(const al_att_result *r, int64_t now)
{
	json_t *o = json_object(), *adv = json_array(), *vid = json_object(), *sub = json_object(),
	       *mod = json_object();
	const char *type = al_att_type_name(r->type, r->version), *cont;
	char when[32];
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(o, "eat_profile", json_string("tag:github.com,2023:veraison/ear"));
	json_object_set_new(o, "iat", json_integer(now));
	json_object_set_new(o, "verified_at", json_string(when));
	json_object_set_new(vid, "developer", json_string("alight"));
	json_object_set_new(vid, "build", json_string("alight-audit"));
	json_object_set_new(o, "ear.verifier-id", vid);
	json_object_set_new(o, "status", json_string(al_att_status_name(r->status)));
	json_object_set_new(o, "evidence_type", json_string(type));
	cont = al_att_container_name(r->container);
	json_object_set_new(o, "container", cont ? json_string(cont) : json_null());
	json_object_set_new(o, "tcb_status", tcb_or_null(r->tcb_status));
	json_object_set_new(o, "platform_tcb_status", tcb_or_null(r->platform_tcb_status));
	json_object_set_new(o, "qe_tcb_status", tcb_or_null(r->qe_tcb_status));
	for (size_t i = 0; i < r->n_advisories; i++)
		json_array_append_new(adv, json_string(r->advisories[i]));
	json_object_set_new(o, "advisory_ids", adv);
	json_object_set_new(o, "measurement", hex_or_null(r->measurement, r->measurement_len));
	json_object_set_new(o, "signer", hex_or_null(r->signer, r->signer_len));
	json_object_set_new(o, "report_data", hex_or_null(r->report_data, r->report_data_len));
	json_object_set_new(o, "debug", json_boolean(r->debug));
	json_object_set_new(o, "simulated", json_boolean(r->simulated));
	if (r->container)
		json_object_set_new(o, "bound", json_boolean(r->bound));
	if (r->type == AL_ATT_SGX)
		add_sgx(o, r);
	else if (r->type == AL_ATT_TDX)
		add_tdx(o, r);
	else if (r->type == AL_ATT_SNP)
		add_snp(o, r);
	else if (r->type == AL_ATT_PSA)
		add_psa(o, r);
	json_object_set_new(o, "failures", failures(r));
	json_object_set_new(mod, "ear.status", json_string(al_att_status_name(r->status)));
	json_object_set_new(sub, type, mod);
	json_object_set_new(o, "submods", sub);
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
}
