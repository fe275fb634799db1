/* BOLT #11 examples (bolts/bolt11/invoices.json, lightning/bolts a3772650), suite
 * `bolt11`: 16 valid and 10 invalid invoices, one vector each.
 *
 * A valid invoice must decode to what the vector's decoded fields say (taken from
 * the spec's breakdown bullets and cross-checked against them by the vector file's
 * tool): amount, timestamp, every tagged field the reader keeps, the signing hash, the
 * signature and recovery id, and the payee: the key of the spec's `priv_key`,
 * derived here from that key. It must then encode back: signed with that key, the
 * result decodes to the same fields, and where the example writes its fields in this
 * writer's order (s p d h n x c f r m 9, nothing skipped) the string is the
 * example's, character for character (RFC 6979 signatures are deterministic).
 *
 * The high-S example ("Public-key recovery with high-S signature") has no `n` field,
 * so the payee is what public-key recovery of (r, s, recid) as transmitted gives:
 * 02d0139c..., not the spec key 03e7156a.... The example is the donation invoice with
 * s replaced by n - s and the recovery id kept; negating s means the nonce point was
 * -R, which the other recovery id names, so the transmitted triple is a valid
 * signature by a different key. BOLT 11 says "MUST perform ECDSA public-key recovery
 * and accept both high-S and low-S signatures", i.e. recover from what was sent; it
 * does not say to normalise s (that would change the key recovered) or to guess the
 * recovery id (that would make any of two keys the payee). The vector asserts both
 * halves: the raw recovery gives 02d0..., and the low-S twin with the same id gives
 * the spec key.
 *
 * An invalid invoice must be refused with the error its description names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secp.h"
#include "ln/invoice.h"
#include "test.h"
#include "util/cursor.h"
#include "util/hex.h"
#include "vectors.h"

static al_secp *secp;
static uint8_t spec_key_pub[AL_PUBKEY_LEN];
static al_privkey spec_key;

/* The fields this writer emits, in its order. */
static const char writer_order[] = "spdhnxcfrm9";

static const struct {
	const char *description;
	al_err err;
} invalid_outcomes[] = {
    {"Same, but adding invalid unknown feature 100", AL_E_INV_FEATURES},
    {"Bech32 checksum is invalid.", AL_E_B32_CHECKSUM},
    {"Malformed bech32 string (no 1)", AL_E_B32_NO_SEP},
    {"Malformed bech32 string (mixed case)", AL_E_B32_CASE},
    {"Signature is not recoverable.", AL_E_INV_SIGNATURE},
    {"String is too short.", AL_E_INV_TOO_SHORT},
    {"Invalid multiplier", AL_E_INV_AMOUNT},
    {"Invalid sub-millisatoshi precision.", AL_E_INV_PRECISION},
    {"Missing required `s` field.", AL_E_INV_NO_SECRET},
    {"Non canonical signature (high-S) with 'n' field defined", AL_E_INV_HIGH_S},
};

static bool hex_eq(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[1024];
	size_t n;

	return strlen(hex) == 2 * len && len <= sizeof(want) &&
	       al_hex_decode(want, sizeof(want), &n, hex, strlen(hex)) == AL_OK && n == len &&
	       memcmp(got, want, len) == 0;
}

/* A field's data as the vector gives it: data_hex holds data_length 5-bit values
 * packed big-endian and zero-padded. Returns the value at 5-bit index i. */
static unsigned value_at(const uint8_t *packed, size_t i)
{
	size_t bit = i * 5;
	unsigned two =
	    (unsigned)packed[bit / 8] << 8 | (bit / 8 + 1 < 1024 ? packed[bit / 8 + 1] : 0);

	return two >> (11 - bit % 8) & 31;
}

/* Bytes of values [from, from + n) regrouped as 8 bits, dropping the padding. */
static size_t regroup(uint8_t *out, const uint8_t *packed, size_t from, size_t n)
{
	size_t i, len = 0;
	unsigned acc = 0, bits = 0;

	for (i = from; i < from + n; i++) {
		acc = acc << 5 | value_at(packed, i);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return len;
}

/* Every field of the vector against the decoded invoice; the first mismatch is named
 * in *why. */
static bool fields_match(const al_invoice *inv, const json_t *dec, const char **why)
{
	const json_t *fields = json_object_get(dec, "tagged_fields"), *amount, *f;
	bool p = false, s = false, d = false, h = false, x = false, c = false, m = false;
	size_t i, nf = 0, nr = 0, nh = 0;
	al_features want;

	al_features_clear(&want);
	*why = "amount";
	amount = json_object_get(dec, "amount_msat");
	if (json_is_null(amount)
	        ? inv->has_amount
	        : !inv->has_amount || inv->amount_msat != (uint64_t)json_integer_value(amount))
		return false;
	*why = "timestamp";
	if (inv->timestamp != (uint64_t)al_v_int(dec, "timestamp"))
		return false;
	json_array_foreach(fields, i, f)
	{
		const char *tag = al_v_str(f, "tag"), *hex = al_v_str(f, "data_hex");
		size_t dl = (size_t)al_v_int(f, "data_length"), plen, blen;
		uint8_t packed[1024], b[1024];

		if (al_hex_decode(packed, sizeof(packed) - 1, &plen, hex, strlen(hex)) != AL_OK)
			return (*why = "data_hex"), false;
		packed[plen] = 0;
		blen = regroup(b, packed, 0, dl);
		*why = tag;
		switch (tag[0]) {
		case 'p':
		case 's':
		case 'h':
			if (dl != 52)
				break;
			if (tag[0] == 'p' && !p && (p = true) && memcmp(inv->payment_hash, b, 32))
				return false;
			if (tag[0] == 's' && !s && (s = true) && memcmp(inv->payment_secret, b, 32))
				return false;
			if (tag[0] == 'h' && !h &&
			    ((h = true),
			     !inv->has_description_hash || memcmp(inv->description_hash, b, 32)))
				return false;
			break;
		case 'd':
			if (!d &&
			    ((d = true), !inv->has_description ||
			                     inv->description_len != strlen(al_v_str(f, "text")) ||
			                     memcmp(inv->description, al_v_str(f, "text"),
			                            inv->description_len)))
				return false;
			break;
		case 'x':
		case 'c':
			if (tag[0] == 'x' && !x &&
			    ((x = true), inv->expiry != (uint64_t)al_v_int(f, "value")))
				return false;
			if (tag[0] == 'c' && !c &&
			    ((c = true),
			     inv->min_final_cltv_expiry_delta != (uint64_t)al_v_int(f, "value")))
				return false;
			break;
		case 'm':
			if (!m && ((m = true),
			           inv->metadata_len != blen || memcmp(inv->metadata, b, blen)))
				return false;
			break;
		case 'f': {
			unsigned ver = value_at(packed, 0);

			if (ver > 18)
				break;
			blen = regroup(b, packed, 1, dl - 1);
			if (nf >= inv->n_fallbacks || inv->fallbacks[nf].version != ver ||
			    inv->fallbacks[nf].len != blen ||
			    memcmp(inv->fallbacks[nf].program, b, blen))
				return false;
			nf++;
			break;
		}
		case 'r': {
			const al_invoice_route *r = &inv->routes[nr];
			size_t k;

			if (nr >= inv->n_routes || r->count * 51u != blen || r->first != nh)
				return false;
			for (k = 0; k < r->count; k++, nh++) {
				const al_invoice_hop *hop = &inv->hops[nh];
				const uint8_t *e = b + k * 51;

				if (memcmp(hop->pubkey, e, 33) ||
				    hop->scid != al_read_be64(e + 33) ||
				    hop->fee_base_msat != al_read_be32(e + 41) ||
				    hop->fee_proportional_millionths != al_read_be32(e + 45) ||
				    hop->cltv_expiry_delta != (e[49] << 8 | e[50]))
					return false;
			}
			nr++;
			break;
		}
		case '9': {
			const json_t *bits = json_object_get(f, "feature_bits"), *bit;
			size_t k;

			json_array_foreach(bits, k, bit)
			{
				unsigned b9 = (unsigned)json_integer_value(bit);

				/* This reader knows var_onion_optin, payment_secret, basic_mpp
				 * and option_payment_metadata; other bits are odd here (the
				 * example is valid) and dropped: "MUST ignore the bit". */
				if (b9 / 2 == 4 || b9 / 2 == 7 || b9 / 2 == 8 || b9 / 2 == 24)
					CHECK_OK(al_features_set(&want, b9));
			}
			break;
		}
		default:
			break;
		}
	}
	*why = "absent fields and defaults";
	if (!x && (inv->has_expiry || inv->expiry != AL_INVOICE_DEFAULT_EXPIRY))
		return false;
	if (!c && (inv->has_min_final_cltv || inv->min_final_cltv_expiry_delta != 18))
		return false;
	if (d == inv->has_description_hash || !p || !s || m != inv->has_metadata ||
	    nf != inv->n_fallbacks || nr != inv->n_routes || nh != inv->n_hops)
		return false;
	*why = "features";
	return memcmp(&want, &inv->features, sizeof(want)) == 0;
}

/* The tags of the example in order, and whether every one is a field this writer
 * emits, once, in its own order. */
static bool in_writer_order(const json_t *dec)
{
	const json_t *fields = json_object_get(dec, "tagged_fields"), *f;
	const char *at = writer_order, *pos;
	size_t i;

	json_array_foreach(fields, i, f)
	{
		const char *tag = al_v_str(f, "tag");

		pos = strchr(at, tag[0]);
		if (!pos || tag[1] || (strchr("psh", tag[0]) && al_v_int(f, "data_length") != 52))
			return false;
		at = pos + (tag[0] != 'f' && tag[0] != 'r');
	}
	return true;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static bool run_valid(const json_t *v, const char **why)
{
	const json_t *dec = json_object_get(v, "decoded");
	const char *str = al_v_str(v, "invoice");
	static al_invoice inv, back;
	static char enc[AL_INVOICE_MAX_CHARS + 1], want[AL_INVOICE_MAX_CHARS + 1];
	bool high_s = json_is_true(json_object_get(dec, "high_s"));
	const json_t *ts = json_object_get(v, "expected_timestamp");
	size_t len;
	al_err err;

	*why = "decode";
	if ((err = al_invoice_decode(&inv, secp, str, strlen(str))) != AL_OK) {
		fprintf(stderr, "  %s\n", al_err_str(err));
		return false;
	}
	if (!fields_match(&inv, dec, why))
		return false;
	*why = "expected_timestamp";
	if (ts && inv.timestamp != (uint64_t)json_integer_value(ts))
		return false;
	*why = "sighash";
	if (!hex_eq(inv.sighash, 32, al_v_str(dec, "sighash")) ||
	    (json_object_get(v, "expected_sighash") &&
	     !hex_eq(inv.sighash, 32, al_v_str(v, "expected_sighash"))))
		return false;
	*why = "signature";
	if (!hex_eq(inv.signature, 64, al_v_str(dec, "signature_rs")) ||
	    inv.recid != al_v_int(dec, "recovery_id") ||
	    (json_object_get(v, "expected_recovery_flag") &&
	     inv.recid != al_v_int(v, "expected_recovery_flag")))
		return false;
	*why = "payee";
	if (inv.payee_explicit || !hex_eq(inv.payee, 33, al_v_str(dec, "recovered_pubkey_raw")))
		return false;
	if (high_s) {
		/* The low-S twin with the same recovery id is the spec key's signature. */
		al_ecdsa_sig raw, low;
		uint8_t sig[64], twin[33];
		al_pubkey pk;

		if (memcmp(inv.payee, spec_key_pub, 33) == 0 ||
		    al_ecdsa_sig_parse_compact(secp, &raw, inv.signature) != AL_OK ||
		    !al_ecdsa_sig_normalize(secp, &low, &raw))
			return false;
		al_ecdsa_sig_serialize_compact(secp, sig, &low);
		if (al_ecdsa_recover(secp, &pk, sig, inv.recid, inv.sighash) != AL_OK)
			return false;
		al_pubkey_serialize(secp, twin, &pk);
		if (memcmp(twin, spec_key_pub, 33) != 0 ||
		    !hex_eq(twin, 33, al_v_str(dec, "recovered_pubkey_after_low_s_normalization")))
			return false;
	} else if (memcmp(inv.payee, spec_key_pub, 33) != 0) {
		return false;
	}

	*why = "encode";
	if ((err = al_invoice_encode(enc, sizeof(enc), &len, secp, &inv, &spec_key)) != AL_OK) {
		fprintf(stderr, "  %s\n", al_err_str(err));
		return false;
	}
	*why = "encode: decode back";
	if (al_invoice_decode(&back, secp, enc, len) != AL_OK ||
	    memcmp(back.payee, spec_key_pub, 33) != 0)
		return false;
	memcpy(back.sighash, inv.sighash, 32);
	memcpy(back.signature, inv.signature, 64);
	memcpy(back.payee, inv.payee, 33);
	back.recid = inv.recid;
	if (memcmp(&back, &inv, sizeof(inv)) != 0)
		return false;
	*why = "encode: the example's string";
	if (in_writer_order(dec) && !high_s) {
		snprintf(want, sizeof(want), "%s", str);
		lower(want);
		if (strcmp(enc, want) != 0) {
			fprintf(stderr, "  got  %s\n  want %s\n", enc, want);
			return false;
		}
		return true;
	}
	return true;
}

int main(void)
{
	static _Alignas(16) uint8_t mem[1 << 16];
	json_t *root = al_v_load_json("bolts/bolt11/invoices.json"), *v;
	al_v_suite s;
	al_pubkey pk;
	size_t i, k, exact = 0, n;
	const char *why;

	CHECK(al_secp_size() <= sizeof(mem));
	CHECK_OK(al_secp_create(&secp, mem, sizeof(mem), NULL));
	CHECK_OK(al_hex_decode(spec_key.k, 32, &n, al_v_str(root, "signing_privkey"), 64));
	CHECK_OK(al_pubkey_from_privkey(secp, &pk, &spec_key));
	al_pubkey_serialize(secp, spec_key_pub, &pk);

	al_v_begin(&s, "bolt11");
	json_array_foreach(json_object_get(root, "valid"), i, v)
	{
		bool ok = run_valid(v, &why);

		al_v_result(&s, ok, "valid #%zu (%s): %s", i, al_v_str(v, "description"), why);
		exact += ok && in_writer_order(json_object_get(v, "decoded")) &&
		         !json_is_true(json_object_get(json_object_get(v, "decoded"), "high_s"));
	}
	json_array_foreach(json_object_get(root, "invalid"), i, v)
	{
		const char *desc = al_v_str(v, "description"), *str = al_v_str(v, "invoice");
		static al_invoice inv;
		al_err want = AL_OK, got;

		for (k = 0; k < sizeof(invalid_outcomes) / sizeof(invalid_outcomes[0]); k++)
			if (strcmp(desc, invalid_outcomes[k].description) == 0)
				want = invalid_outcomes[k].err;
		got = al_invoice_decode(&inv, secp, str, strlen(str));
		if (want == AL_E_INV_FEATURES && inv.unknown_feature != 100)
			got = AL_OK;
		al_v_result(&s, want != AL_OK && got == want, "invalid #%zu (%s): %s, want %s", i,
		            desc, al_err_str(got), want ? al_err_str(want) : "(no outcome listed)");
	}
	/* The examples written in this writer's field order must all come out exact. */
	CHECK(exact >= 6);
	printf("bolt11: %zu examples re-encoded character for character\n", exact);
	al_v_end(&s);
	json_decref(root);
	al_secp_destroy(secp);
	return al_t_finish();
}
