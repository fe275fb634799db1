/* BOLT #1 Appendix C (Message Extension) vectors: an `init` message with and without
 * an extension TLV stream.
 *
 * Suite bolt01-init over bolts/bolt01/init-extension.json. Every case is decoded with
 * the generated init decoder and through al_wire_read's dispatch. A valid one must
 * decode, give back base_init's fields and re-encode to base_init plus the known
 * records (none here: unknown odd records are dropped). An invalid one must fail with
 * the al_err its description names (see reason_err). */
#include <string.h>

#include "ln/wire.h"
#include "test.h"
#include "vectors.h"

/* The reasons the spec gives for the invalid cases. */
static bool reason_err(const char *desc, al_err *out)
{
	if (strstr(desc, "truncated"))
		*out = AL_E_TRUNCATED;
	else if (strstr(desc, "unknown _even_ TLV"))
		*out = AL_E_TLV_UNKNOWN_EVEN;
	else if (strstr(desc, "duplicate TLV record type"))
		*out = AL_E_TLV_ORDER;
	else
		return false;
	return true;
}

static bool same_init(const struct al_wire_init *a, const struct al_wire_init *b)
{
	return a->gflen == b->gflen && a->flen == b->flen &&
	       memcmp(a->globalfeatures, b->globalfeatures, a->gflen) == 0 &&
	       memcmp(a->features, b->features, a->flen) == 0 &&
	       a->tlvs.has_networks == b->tlvs.has_networks &&
	       a->tlvs.has_remote_addr == b->tlvs.has_remote_addr;
}

static bool check_valid(const uint8_t *msg, size_t len, const uint8_t *base, size_t base_len,
                        const char **why)
{
	struct al_wire_init m, b;
	uint8_t out[64];
	al_wb w;

	if (al_wire_init_decode(&m, msg, len) != AL_OK ||
	    al_wire_init_decode(&b, base, base_len) != AL_OK) {
		*why = "did not decode";
		return false;
	}
	if (!same_init(&m, &b)) {
		*why = "fields differ from base_init";
		return false;
	}
	al_wb_init(&w, out, sizeof(out));
	al_wire_init_write(&w, &m);
	if (!al_wb_ok(&w) || w.len != base_len || memcmp(out, base, base_len) != 0) {
		*why = "re-encoding is not base_init";
		return false;
	}
	return true;
}

static bool check_one(const json_t *t, const uint8_t *base, size_t base_len, const char **why)
{
	size_t len;
	const uint8_t *msg = al_t_unhex(al_v_str(t, "msg_hex"), &len);
	bool valid = json_is_true(json_object_get(t, "valid"));
	al_err want = AL_OK, got;
	struct al_wire_init m;
	al_wire_msg any;

	if (!valid && !reason_err(al_v_str(t, "description"), &want)) {
		*why = "unmapped reason";
		return false;
	}
	got = al_wire_init_decode(&m, msg, len);
	if (got != want) {
		*why = al_err_name(got);
		return false;
	}
	/* The same outcome through the message-type dispatch. */
	if (al_wire_read(&any, msg, len) != want || any.type != AL_WIRE_INIT || any.ignored) {
		*why = "dispatch disagrees";
		return false;
	}
	return valid ? check_valid(msg, len, base, base_len, why) : true;
}

int main(void)
{
	json_t *root = al_v_load_json("bolts/bolt01/init-extension.json");
	const json_t *tests = json_object_get(root, "tests");
	size_t base_len, i;
	const uint8_t *base = al_t_unhex(al_v_str(root, "base_init"), &base_len);
	al_v_suite s;
	bool ok;

	al_v_begin(&s, "bolt01-init");
	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);
		const char *why = "";

		ok = check_one(t, base, base_len, &why);
		al_v_result(&s, ok, "%s: %s", al_v_str(t, "description"), why);
	}
	ok = al_v_end(&s);
	json_decref(root);
	return ok ? 0 : 1;
}
