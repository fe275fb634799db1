/* The appraisal policy file (format in attest.h, al_att_policy_parse). */
#include "attest/attest.h"

#include <string.h>

#include <jansson.h>

#include "util/hex.h"

static al_err hex_list(uint8_t (*out)[48], size_t *lens, size_t *n, json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) > AL_ATT_POLICY_MAX)
		return AL_E_ATT_JSON;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) ||
		    al_hex_decode(out[i], 48, &lens[i], json_string_value(v),
		                  json_string_length(v)) ||
		    lens[i] == 0)
			return AL_E_ATT_JSON;
	}
	*n = json_array_size(arr);
	return AL_OK;
}

static al_err snp_tcb(al_att_policy *p, json_t *obj)
{
	static const char *const keys[4] = {"bl", "tee", "snp", "ucode"};

	if (!json_is_object(obj) || json_object_size(obj) != 4)
		return AL_E_ATT_JSON;
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(obj, keys[i]);

		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return AL_E_ATT_JSON;
		p->min_snp_tcb[i] = (uint8_t)json_integer_value(v);
	}
	p->have_min_snp_tcb = true;
	return AL_OK;
}

static al_err member(al_att_policy *p, const char *key, json_t *v)
{
	if (strcmp(key, "allow_debug") == 0 || strcmp(key, "allow_simulated") == 0) {
		if (!json_is_boolean(v))
			return AL_E_ATT_JSON;
		*(key[6] == 'd' ? &p->allow_debug : &p->allow_simulated) = json_is_true(v);
		return AL_OK;
	}
	if (strcmp(key, "allowed_measurements") == 0)
		return hex_list(p->measurements, p->measurement_len, &p->n_measurements, v);
	if (strcmp(key, "allowed_signers") == 0)
		return hex_list(p->signers, p->signer_len, &p->n_signers, v);
	if (strcmp(key, "min_tcb_status") == 0) {
		if (!json_is_string(v))
			return AL_E_ATT_JSON;
		p->min_tcb = al_att_tcb_from_name(json_string_value(v));
		return p->min_tcb == AL_TCB_NONE ? AL_E_ATT_JSON : AL_OK;
	}
	if (strcmp(key, "min_isvsvn") == 0) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535)
			return AL_E_ATT_JSON;
		p->have_min_isvsvn = true;
		p->min_isvsvn = (uint16_t)json_integer_value(v);
		return AL_OK;
	}
	if (strcmp(key, "min_snp_tcb") == 0)
		return snp_tcb(p, v);
	if (strcmp(key, "report_data") == 0) {
		if (!json_is_string(v) ||
		    al_hex_decode(p->report_data, 64, &p->report_data_len, json_string_value(v),
		                  json_string_length(v)))
			return AL_E_ATT_JSON;
		return AL_OK;
	}
	return AL_E_ATT_JSON; /* unknown keys are mistakes, not extensions */
}

al_err al_att_policy_parse(al_att_policy *p, const uint8_t *json, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *key;
	al_err err = AL_OK;

	al_att_policy_default(p);
	if (!json_is_object(root)) {
		json_decref(root);
		return AL_E_ATT_JSON;
	}
	json_object_foreach(root, key, v)
	{
		err = member(p, key, v);
		if (err)
			break;
	}
	json_decref(root);
	return err;
}
