#include "attest/collateral.h"

#include <string.h>

#include <jansson.h>

#include "util/hex.h"

static const char *const collateral_keys[] = {
    "pck_crl_issuer_chain",     "root_ca_crl", "pck_crl",
    "tcb_info_issuer_chain",    "tcb_info",    "tcb_info_signature",
    "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature",
};

static json_t *load(const uint8_t *json, size_t len)
{
	json_error_t jerr;

	/* Duplicate keys would let two readers see different values. */
	return json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
}

static al_err copy_string(al_arena *a, al_att_blob *out, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	uint8_t *buf;
	size_t n;

	if (!json_is_string(v))
		return AL_E_ATT_JSON;
	n = json_string_length(v);
	if (n == 0)
		return AL_E_ATT_JSON;
	AL_TRY(al_arena_alloc(a, n + 1, 1, (void **)&buf));
	memcpy(buf, json_string_value(v), n);
	out->p = buf;
	out->len = n;
	return AL_OK;
}

static al_err hex_member(uint8_t *out, size_t cap, size_t *outlen, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return AL_E_ATT_JSON;
	return al_hex_decode(out, cap, outlen, json_string_value(v), json_string_length(v));
}

static al_err hex_exact(uint8_t *out, size_t n, json_t *obj, const char *key)
{
	size_t got;

	AL_TRY(hex_member(out, n, &got, obj, key));
	return got == n ? AL_OK : AL_E_ATT_JSON;
}

static al_err hex_der(al_arena *a, al_att_blob *out, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	uint8_t *buf;
	size_t n;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return AL_E_ATT_JSON;
	n = json_string_length(v) / 2;
	AL_TRY(al_arena_alloc(a, n + 1, 1, (void **)&buf));
	AL_TRY(hex_member(buf, n, &out->len, obj, key));
	out->p = buf;
	return AL_OK;
}

al_err al_att_signed_json_split(al_att_blob *value, uint8_t sig[64], const uint8_t *text,
                                size_t len, const char *member)
{
	static const char tail[] = ",\"signature\":\"";
	size_t ml = strlen(member), tl = sizeof(tail) - 1, start = ml + 4, end, got;

	/* {"<member>":VALUE,"signature":"<128 hex>"} with nothing else around it. */
	if (len < start + tl + 128 + 2 + 2 || text[0] != '{' || text[1] != '"' ||
	    memcmp(text + 2, member, ml) != 0 || text[ml + 2] != '"' || text[ml + 3] != ':')
		return AL_E_ATT_JSON;
	end = len - 2 - 128 - tl;
	if (memcmp(text + end, tail, tl) != 0 || text[len - 2] != '"' || text[len - 1] != '}')
		return AL_E_ATT_JSON;
	AL_TRY(al_hex_decode(sig, 64, &got, (const char *)text + len - 2 - 128, 128));
	value->p = text + start;
	value->len = end - start;
	return AL_OK;
}

static al_err signed_member(al_arena *a, al_att_blob *val, uint8_t sig[64], json_t *root,
                            const char *key, const char *sigkey, const char *pcs_member)
{
	uint8_t outer[64];

	AL_TRY(copy_string(a, val, root, key));
	AL_TRY(hex_exact(sig, 64, root, sigkey));
	if (val->len > 2 + strlen(pcs_member) && val->p[0] == '{' && val->p[1] == '"' &&
	    memcmp(val->p + 2, pcs_member, strlen(pcs_member)) == 0) {
		AL_TRY(al_att_signed_json_split(val, outer, val->p, val->len, pcs_member));
		if (memcmp(outer, sig, 64) != 0)
			return AL_E_ATT_JSON;
	}
	return AL_OK;
}

al_err al_att_collateral_parse(al_arena *a, al_att_collateral *c, const uint8_t *json, size_t len)
{
	json_t *root = load(json, len);
	al_err err = AL_E_ATT_JSON;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(root) || json_object_size(root) != 9)
		goto out;
	for (size_t i = 0; i < 9; i++)
		if (!json_object_get(root, collateral_keys[i]))
			goto out;
	if ((err = copy_string(a, &c->pck_crl_issuer_chain, root, "pck_crl_issuer_chain")) ||
	    (err = copy_string(a, &c->tcb_info_issuer_chain, root, "tcb_info_issuer_chain")) ||
	    (err =
	         copy_string(a, &c->qe_identity_issuer_chain, root, "qe_identity_issuer_chain")) ||
	    (err = hex_der(a, &c->root_ca_crl, root, "root_ca_crl")) ||
	    (err = hex_der(a, &c->pck_crl, root, "pck_crl")) ||
	    (err = signed_member(a, &c->tcb_info, c->tcb_info_sig, root, "tcb_info",
	                         "tcb_info_signature", "tcbInfo")) ||
	    (err = signed_member(a, &c->qe_identity, c->qe_identity_sig, root, "qe_identity",
	                         "qe_identity_signature", "enclaveIdentity")))
		goto out;
	err = AL_OK;
out:
	json_decref(root);
	return err;
}

static al_err get_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return AL_E_ATT_JSON;
	*out = json_integer_value(v);
	return AL_OK;
}

static al_err get_time(json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return AL_E_ATT_JSON;
	return al_att_parse_time(out, json_string_value(v), json_string_length(v)) == AL_OK
	           ? AL_OK
	           : AL_E_ATT_JSON;
}

static bool id_is(json_t *obj, const char *id)
{
	json_t *v = json_object_get(obj, "id");

	return json_is_string(v) && strcmp(json_string_value(v), id) == 0;
}

static al_err svn_array(uint8_t out[16], json_t *arr)
{
	if (!json_is_array(arr) || json_array_size(arr) != 16)
		return AL_E_ATT_JSON;
	for (size_t i = 0; i < 16; i++) {
		int64_t v;

		AL_TRY(get_int(json_array_get(arr, i), "svn", 0, 255, &v));
		out[i] = (uint8_t)v;
	}
	return AL_OK;
}

static al_err level_status(al_arena *a, al_att_tcb_level *l, json_t *lv)
{
	json_t *st = json_object_get(lv, "tcbStatus"), *adv = json_object_get(lv, "advisoryIDs");
	int64_t date;

	if (!json_is_string(st))
		return AL_E_ATT_JSON;
	l->status = al_att_tcb_from_name(json_string_value(st));
	if (l->status == AL_TCB_NONE)
		return AL_E_ATT_JSON;
	AL_TRY(get_time(lv, "tcbDate", &date));
	if (!adv)
		return AL_OK;
	if (!json_is_array(adv) || json_array_size(adv) > AL_ATT_MAX_LEVEL_ADV)
		return AL_E_ATT_JSON;
	for (size_t i = 0; i < json_array_size(adv); i++) {
		json_t *s = json_array_get(adv, i);
		char *copy;

		if (!json_is_string(s) || json_string_length(s) == 0 ||
		    json_string_length(s) >= AL_ATT_ADVISORY_LEN)
			return AL_E_ATT_JSON;
		AL_TRY(al_arena_alloc(a, json_string_length(s) + 1, 1, (void **)&copy));
		memcpy(copy, json_string_value(s), json_string_length(s));
		l->adv[l->n_adv++] = copy;
	}
	return AL_OK;
}

/* tcbLevels of TCB Info (platform levels) or of QE/module identities (isvsvn). */
static al_err levels(al_arena *a, al_att_tcb_level **out, size_t *n, json_t *arr, bool platform,
                     bool tdx)
{
	al_att_tcb_level *lv;
	size_t count;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > AL_ATT_MAX_TCB_LEVELS)
		return AL_E_ATT_JSON;
	count = json_array_size(arr);
	AL_TRY(al_arena_alloc(a, count * sizeof(*lv), _Alignof(al_att_tcb_level), (void **)&lv));
	for (size_t i = 0; i < count; i++) {
		json_t *l = json_array_get(arr, i), *tcb = json_object_get(l, "tcb");
		int64_t v;

		if (!json_is_object(tcb))
			return AL_E_ATT_JSON;
		if (platform) {
			AL_TRY(svn_array(lv[i].sgx_svn, json_object_get(tcb, "sgxtcbcomponents")));
			AL_TRY(get_int(tcb, "pcesvn", 0, 65535, &v));
			lv[i].pcesvn = (uint16_t)v;
			if (tdx) {
				AL_TRY(svn_array(lv[i].tdx_svn,
				                 json_object_get(tcb, "tdxtcbcomponents")));
				lv[i].has_tdx = true;
			}
		} else {
			AL_TRY(get_int(tcb, "isvsvn", 0, 65535, &v));
			lv[i].isvsvn = (uint16_t)v;
		}
		AL_TRY(level_status(a, &lv[i], l));
	}
	*out = lv;
	*n = count;
	return AL_OK;
}

static al_err u64_hex(uint64_t *out, json_t *obj, const char *key)
{
	uint8_t b[8];

	AL_TRY(hex_exact(b, 8, obj, key));
	*out = 0;
	for (int i = 7; i >= 0; i--)
		*out = *out << 8 | b[i]; /* the bytes as they sit in the report (LE) */
	return AL_OK;
}

static al_err tdx_modules(al_arena *a, al_att_tcb_info *t, json_t *root)
{
	json_t *mod = json_object_get(root, "tdxModule"), *ids;

	if (!json_is_object(mod))
		return AL_E_ATT_JSON;
	t->has_module = true;
	AL_TRY(hex_exact(t->module_mrsigner, 48, mod, "mrsigner"));
	AL_TRY(u64_hex(&t->module_attributes, mod, "attributes"));
	AL_TRY(u64_hex(&t->module_attributes_mask, mod, "attributesMask"));
	ids = json_object_get(root, "tdxModuleIdentities");
	if (!ids)
		return AL_OK;
	if (!json_is_array(ids) || json_array_size(ids) > AL_ATT_MAX_MODULE_IDS)
		return AL_E_ATT_JSON;
	for (size_t i = 0; i < json_array_size(ids); i++) {
		json_t *m = json_array_get(ids, i), *id = json_object_get(m, "id");
		al_att_tdx_module *tm = &t->modules[i];

		if (!json_is_string(id) || json_string_length(id) >= sizeof(tm->id))
			return AL_E_ATT_JSON;
		memcpy(tm->id, json_string_value(id), json_string_length(id) + 1);
		AL_TRY(hex_exact(tm->mrsigner, 48, m, "mrsigner"));
		AL_TRY(u64_hex(&tm->attributes, m, "attributes"));
		AL_TRY(u64_hex(&tm->attributes_mask, m, "attributesMask"));
		AL_TRY(levels(a, &tm->levels, &tm->n_levels, json_object_get(m, "tcbLevels"), false,
		              false));
		t->n_modules++;
	}
	return AL_OK;
}

static al_err tcb_info(al_arena *a, al_att_tcb_info *t, json_t *root)
{
	int64_t v;

	if (!json_is_object(root))
		return AL_E_ATT_JSON;
	if (id_is(root, "TDX"))
		t->tdx = true;
	else if (json_object_get(root, "id") && !id_is(root, "SGX"))
		return AL_E_ATT_JSON;
	AL_TRY(get_int(root, "version", 2, 3, &v));
	t->version = (int)v;
	if (t->version == 2 && t->tdx)
		return AL_E_ATT_JSON;
	AL_TRY(get_time(root, "issueDate", &t->issue_date));
	AL_TRY(get_time(root, "nextUpdate", &t->next_update));
	AL_TRY(hex_exact(t->fmspc, 6, root, "fmspc"));
	AL_TRY(hex_exact(t->pce_id, 2, root, "pceId"));
	if (t->tdx)
		AL_TRY(tdx_modules(a, t, root));
	return levels(a, &t->levels, &t->n_levels, json_object_get(root, "tcbLevels"), true,
	              t->tdx);
}

al_err al_att_tcb_info_parse(al_arena *a, al_att_tcb_info *t, const uint8_t *json, size_t len)
{
	json_t *root = load(json, len);
	al_err err;

	memset(t, 0, sizeof(*t));
	err = root ? tcb_info(a, t, root) : AL_E_ATT_JSON;
	json_decref(root);
	return err;
}

static al_err qe_identity(al_arena *a, al_att_qe_identity *q, json_t *root)
{
	uint8_t b[4];
	int64_t v;

	if (!json_is_object(root))
		return AL_E_ATT_JSON;
	if (id_is(root, "TD_QE"))
		q->td_qe = true;
	else if (!id_is(root, "QE"))
		return AL_E_ATT_JSON;
	AL_TRY(get_int(root, "version", 2, 3, &v));
	q->version = (int)v;
	AL_TRY(get_time(root, "issueDate", &q->issue_date));
	AL_TRY(get_time(root, "nextUpdate", &q->next_update));
	/* dcap-qvl reads miscselect and its mask as little-endian u32. */
	AL_TRY(hex_exact(b, 4, root, "miscselect"));
	q->miscselect =
	    (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	AL_TRY(hex_exact(b, 4, root, "miscselectMask"));
	q->miscselect_mask =
	    (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	AL_TRY(hex_exact(q->attributes, 16, root, "attributes"));
	AL_TRY(hex_exact(q->attributes_mask, 16, root, "attributesMask"));
	AL_TRY(hex_exact(q->mrsigner, 32, root, "mrsigner"));
	AL_TRY(get_int(root, "isvprodid", 0, 65535, &v));
	q->isvprodid = (uint16_t)v;
	return levels(a, &q->levels, &q->n_levels, json_object_get(root, "tcbLevels"), false,
	              false);
}

al_err al_att_qe_identity_parse(al_arena *a, al_att_qe_identity *q, const uint8_t *json, size_t len)
{
	json_t *root = load(json, len);
	al_err err;

	memset(q, 0, sizeof(*q));
	err = root ? qe_identity(a, q, root) : AL_E_ATT_JSON;
	json_decref(root);
	return err;
}
