/* BOLT #1 Appendix A (BigSize) and Appendix B (TLV) test vectors.
 *
 * Suites:
 *   bolt01-bigsize  bigsize-decoding.json + bigsize-encoding.json
 *   bolt01-tlv      tlv.json, decoded in the namespaces each vector's scope names
 *
 * Every failing vector must fail for the reason the spec states, mapped to one al_err
 * (see tlv_reason_err); every succeeding one is checked against its "Values:" line
 * and re-encoded, which must give back the stream (n1 streams are canonical). */
#include <stdlib.h>
#include <string.h>

#include "bolt01_ns.h"
#include "test.h"
#include "util/bigsize.h"
#include "util/hex.h"
#include "util/tlv.h"
#include "vectors.h"

/* lnd's error texts in the BigSize vectors; "EOF" alone is the empty input. */
static bool bigsize_reason_err(const char *reason, al_err *out)
{
	if (strcmp(reason, "decoded bigsize is not canonical") == 0)
		*out = AL_E_BIGSIZE_NONCANONICAL;
	else if (strcmp(reason, "unexpected EOF") == 0 || strcmp(reason, "EOF") == 0)
		*out = AL_E_TRUNCATED;
	else
		return false;
	return true;
}

static bool bigsize_decode_one(const json_t *t, const char **why)
{
	const json_t *exp = json_object_get(t, "exp_error");
	size_t len;
	uint8_t *b = al_t_unhex(al_v_str(t, "bytes"), &len);
	uint64_t want = strtoull(al_v_str(t, "value_str"), NULL, 10), got;
	al_err want_err = AL_OK;
	al_cur c;

	if (exp && !bigsize_reason_err(json_string_value(exp), &want_err)) {
		*why = "unmapped exp_error";
		return false;
	}
	al_cur_init(&c, b, len);
	got = al_cur_bigsize(&c);
	if (al_cur_done(&c) != want_err) {
		*why = al_err_name(al_cur_done(&c));
		return false;
	}
	if (want_err == AL_OK && (got != want || al_bigsize_len(got) != len)) {
		*why = "wrong value";
		return false;
	}
	if (want_err != AL_OK && got != 0) {
		*why = "failed read yielded a value";
		return false;
	}
	return true;
}

static bool bigsize_encode_one(const json_t *t, const char **why)
{
	size_t len;
	uint8_t *want = al_t_unhex(al_v_str(t, "bytes"), &len);
	uint64_t v = strtoull(al_v_str(t, "value_str"), NULL, 10);
	uint8_t buf[9];
	al_wb w, dry;

	al_wb_init(&w, buf, sizeof(buf));
	al_wb_bigsize(&w, v);
	al_wb_init(&dry, NULL, 0);
	al_wb_bigsize(&dry, v);
	if (!al_wb_ok(&w) || w.len != len || memcmp(buf, want, len) != 0) {
		*why = "wrong bytes";
		return false;
	}
	if (dry.len != len || al_bigsize_len(v) != len) {
		*why = "wrong length";
		return false;
	}
	return true;
}

/* The BigSize files hold 18446744073709551615 in "value", beyond jansson's int64
 * integers (al_v_load_json rejects the file), so integers are read as reals here and
 * the exact value comes from "value_str". */
static json_t *load_json_bigint(const char *path)
{
	size_t len;
	char *text = al_v_load_text(path, &len);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &jerr);

	free(text);
	if (!root) {
		fprintf(stderr, "FAIL: %s: invalid JSON at line %d: %s\n", path, jerr.line,
		        jerr.text);
		exit(1);
	}
	return root;
}

static void bigsize_file(al_v_suite *s, const char *path, bool decode)
{
	json_t *root = load_json_bigint(path);
	const json_t *tests = json_object_get(root, "tests");
	size_t i;

	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);
		const char *why = "";
		bool ok = decode ? bigsize_decode_one(t, &why) : bigsize_encode_one(t, &why);

		al_v_result(s, ok, "%s %s: %s", path, al_v_str(t, "name"), why);
	}
	json_decref(root);
}

/* The spec's stated reason for a failing TLV stream, as one al_err. */
static bool tlv_reason_err(const char *r, al_err *out)
{
	static const struct {
		const char *text;
		al_err err;
	} map[] = {
	    {"type truncated", AL_E_TRUNCATED},
	    {"missing length", AL_E_TRUNCATED},
	    {"(length truncated)", AL_E_TRUNCATED},
	    {"not minimally encoded type", AL_E_BIGSIZE_NONCANONICAL},
	    {"not minimally encoded length", AL_E_BIGSIZE_NONCANONICAL},
	    {"missing value", AL_E_TLV_LENGTH},
	    {"value truncated", AL_E_TLV_LENGTH},
	    {"unknown even", AL_E_TLV_UNKNOWN_EVEN},
	    {"greater than encoding length", AL_E_TLV_VALUE_LENGTH},
	    {"less than encoding length", AL_E_TLV_VALUE_LENGTH},
	    {"is not minimal", AL_E_TLV_NONMINIMAL},
	    {"is not a valid point", AL_E_PUBKEY},
	    {"invalid ordering", AL_E_TLV_ORDER},
	    {"duplicate TLV type", AL_E_TLV_ORDER},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strstr(r, map[i].text)) {
			*out = map[i].err;
			return true;
		}
	}
	return false;
}

/* Which namespaces a vector applies to, from its scope paragraph. */
static void tlv_scope(const char *scope, bool *n1, bool *n2)
{
	*n1 = strstr(scope, "`n1`") != NULL;
	*n2 = strstr(scope, "`n2`") != NULL;
	if (!*n1 && !*n2)
		*n1 = *n2 = true; /* "in any namespace", "in either namespace" */
}

static uint64_t scid_of(const char *s, bool *ok)
{
	unsigned long long block, tx, out;

	*ok = sscanf(s, "%llux%llux%llu", &block, &tx, &out) == 3 && block < (1ULL << 24) &&
	      tx < (1ULL << 24) && out < (1ULL << 16);
	/* BOLT #7: block height (3 bytes), transaction index (3 bytes), output index
	 * (2 bytes), big-endian. */
	return (block << 40) | (tx << 16) | out;
}

static bool field_matches(const struct al_t_n1 *m, const char *name, const char *val)
{
	uint8_t pk[AL_PUBKEY_LEN], want[AL_PUBKEY_LEN];
	uint64_t u = strtoull(val, NULL, 10);
	bool ok;

	if (strcmp(name, "amount_msat") == 0)
		return m->has_tlv1 && m->amount_msat == u;
	if (strcmp(name, "scid") == 0)
		return m->has_tlv2 && m->scid == scid_of(val, &ok) && ok;
	if (strcmp(name, "node_id") == 0) {
		if (!m->has_tlv3 || al_hex_decode_exact(want, sizeof(want), val) != AL_OK)
			return false;
		al_pubkey_serialize(m->secp, pk, &m->node_id);
		return memcmp(pk, want, sizeof(pk)) == 0;
	}
	if (strcmp(name, "amount_msat_1") == 0)
		return m->has_tlv3 && m->amount_msat_1 == u;
	if (strcmp(name, "amount_msat_2") == 0)
		return m->has_tlv3 && m->amount_msat_2 == u;
	if (strcmp(name, "cltv_delta") == 0)
		return m->has_tlv4 && m->cltv_delta == u;
	return false;
}

/* Check a "Values:" line such as "`tlv3` `node_id`=02.. `amount_msat_1`=1": every
 * named record is present, no other one is, and every field has the stated value. */
static bool values_match(const struct al_t_n1 *m, const char *text)
{
	char buf[512], *tok, *save = NULL, *eq;
	int records = 0, present = m->has_tlv1 + m->has_tlv2 + m->has_tlv3 + m->has_tlv4;

	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		eq = strchr(tok, '=');
		if (!eq) {
			records++;
			continue;
		}
		/* `name`=value */
		if (tok[0] != '`' || eq[-1] != '`')
			return false;
		eq[-1] = '\0';
		if (!field_matches(m, tok + 1, eq + 1))
			return false;
	}
	return records == present && records > 0;
}

static bool tlv_fail_one(const json_t *t, const uint8_t *s, size_t len, const char **why)
{
	al_err want, got;
	bool n1, n2;
	struct al_t_n1 m1;
	struct al_t_n2 m2;

	if (!tlv_reason_err(al_v_str(t, "reason"), &want)) {
		*why = "unmapped reason";
		return false;
	}
	tlv_scope(al_v_str(t, "scope"), &n1, &n2);
	if (n1 && (got = al_t_n1_decode(&m1, al_t_secp(), s, len)) != want) {
		*why = al_err_name(got);
		return false;
	}
	if (n2 && (got = al_t_n2_decode(&m2, s, len)) != want) {
		*why = al_err_name(got);
		return false;
	}
	return true;
}

static bool reencodes_to(const struct al_t_n1 *m, const uint8_t *s, size_t len)
{
	uint8_t buf[1024];
	al_wb w, dry;

	al_wb_init(&w, buf, sizeof(buf));
	al_t_n1_encode(&w, m);
	al_wb_init(&dry, NULL, 0);
	al_t_n1_encode(&dry, m);
	return al_wb_ok(&w) && w.len == len && dry.len == len && memcmp(buf, s, len) == 0;
}

static bool tlv_ok_one(const json_t *t, const uint8_t *s, size_t len, const char **why)
{
	const json_t *values = json_object_get(t, "values_text");
	struct al_t_n1 m1;
	struct al_t_n2 m2;
	bool n1, n2;
	uint8_t buf[16];
	al_wb w;

	tlv_scope(al_v_str(t, "scope"), &n1, &n2);
	if (n1 && al_t_n1_decode(&m1, al_t_secp(), s, len) != AL_OK) {
		*why = al_err_name(al_t_n1_decode(&m1, al_t_secp(), s, len));
		return false;
	}
	if (n2 && al_t_n2_decode(&m2, s, len) != AL_OK) {
		*why = al_err_name(al_t_n2_decode(&m2, s, len));
		return false;
	}
	if (values) {
		/* Only n1 streams carry values. */
		if (!n1 || n2 || !values_match(&m1, json_string_value(values))) {
			*why = "decoded values differ";
			return false;
		}
		if (!reencodes_to(&m1, s, len)) {
			*why = "re-encoding differs";
			return false;
		}
		return true;
	}
	/* "should correctly decode, and be ignored": nothing decoded, nothing to write. */
	al_wb_init(&w, buf, sizeof(buf));
	al_t_n2_encode(&w, &m2);
	if (m1.has_tlv1 || m1.has_tlv2 || m1.has_tlv3 || m1.has_tlv4 || m2.has_tlv1 ||
	    m2.has_tlv2 || !reencodes_to(&m1, s, 0) || w.len != 0) {
		*why = "ignored stream produced a record";
		return false;
	}
	return true;
}

/* BOLT #1: "Any appending of an invalid stream to a valid stream should trigger a
 * decoding failure. Any appending of a higher-numbered valid stream to a
 * lower-numbered valid stream should not trigger a decoding failure." Checked in n1
 * for every pair (valid n1 stream with values, any n1 vector). */
static void tlv_appending(const json_t *tests)
{
	size_t i, j, la, lb;
	struct al_t_n1 m;

	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *a = json_array_get(tests, i);
		const uint8_t *sa;
		uint64_t amax;
		al_tlv_iter it;
		al_tlv_rec r;

		if (!json_object_get(a, "values_text"))
			continue;
		sa = al_t_unhex(al_v_str(a, "stream_hex"), &la);
		al_tlv_iter_init(&it, sa, la);
		for (amax = 0; al_tlv_next(&it, &r);)
			amax = r.type;
		for (j = 0; j < json_array_size(tests); j++) {
			const json_t *b = json_array_get(tests, j);
			const uint8_t *sb = al_t_unhex(al_v_str(b, "stream_hex"), &lb);
			bool n1, n2, valid = json_is_true(json_object_get(b, "valid"));
			uint8_t *ab = malloc(la + lb + 1);
			al_err err;

			tlv_scope(al_v_str(b, "scope"), &n1, &n2);
			memcpy(ab, sa, la);
			memcpy(ab + la, sb, lb);
			err = al_t_n1_decode(&m, al_t_secp(), ab, la + lb);
			if (n1 && !valid)
				CHECK(err != AL_OK);
			al_tlv_iter_init(&it, sb, lb);
			if (n1 && valid && al_tlv_next(&it, &r) && r.type > amax)
				CHECK_OK(err);
			free(ab);
		}
	}
}

static void tlv_file(al_v_suite *s)
{
	json_t *root = al_v_load_json("bolts/bolt01/tlv.json");
	const json_t *tests = json_object_get(root, "tests");
	size_t i, len;

	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);
		const uint8_t *st = al_t_unhex(al_v_str(t, "stream_hex"), &len);
		const char *why = "";
		bool ok = json_is_true(json_object_get(t, "valid"))
		              ? tlv_ok_one(t, st, len, &why)
		              : tlv_fail_one(t, st, len, &why);

		al_v_result(s, ok, "stream %s: %s", al_v_str(t, "stream"), why);
	}
	tlv_appending(tests);
	json_decref(root);
}

int main(void)
{
	al_v_suite s;

	al_v_begin(&s, "bolt01-bigsize");
	bigsize_file(&s, "bolts/bolt01/bigsize-decoding.json", true);
	bigsize_file(&s, "bolts/bolt01/bigsize-encoding.json", false);
	al_v_end(&s);

	al_v_begin(&s, "bolt01-tlv");
	tlv_file(&s);
	al_v_end(&s);
	return al_t_finish();
}
