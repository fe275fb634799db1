/* BOLT #11 reader and writer rules beyond the spec's examples (vec_bolt11 has those).
 *
 * Invoices here are assembled by hand: 5-bit values, signed with libsecp256k1's
 * recoverable signing over the BOLT 11 preimage and wrapped by the Bech32 encoder, so
 * each case states exactly the fields it is about, in any order or shape, including
 * those the writer under test refuses to produce. */
#include <string.h>

#include "btc/bech32.h"
#include "crypto/hash.h"
#include "ln/invoice.h"
#include "test.h"

static al_privkey payee_key = {{0x41, 0x42, 0x43}};
static al_privkey other_key = {{0x51, 0x52, 0x53}};
static uint8_t payee_pub[33];

/* An invoice under construction: its values before the signature. */
struct raw {
	uint8_t v[AL_INVOICE_MAX_CHARS];
	size_t n;
};

static void values(struct raw *r, const uint8_t *v, size_t n)
{
	if (n)
		memcpy(r->v + r->n, v, n);
	r->n += n;
}

static void number(struct raw *r, uint64_t x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		r->v[r->n++] = (uint8_t)(x >> 5 * (n - 1 - i) & 31);
}

static void start(struct raw *r)
{
	r->n = 0;
	number(r, 1700000000, 7);
}

/* A field from bytes, zero-padded to whole values. */
static void field(struct raw *r, unsigned type, const uint8_t *b, size_t len)
{
	uint8_t v[1100];
	size_t n;

	CHECK_OK(al_b32_convert_bits(v, sizeof(v), &n, 5, b, len, 8, true));
	number(r, type, 1);
	number(r, n, 2);
	values(r, v, n);
}

static void field_values(struct raw *r, unsigned type, const uint8_t *v, size_t n)
{
	number(r, type, 1);
	number(r, n, 2);
	values(r, v, n);
}

static const uint8_t hash32[32] = {1, 2, 3}, secret32[32] = {9, 9, 9};

/* The fields every valid invoice needs: p, s and d. */
static void basics(struct raw *r)
{
	field(r, 1, hash32, 32);
	field(r, 16, secret32, 32);
	field(r, 13, (const uint8_t *)"coffee", 6);
}

/* Sign and encode; `recid_add` perturbs the recovery id. */
static void finish_with(char *out, size_t cap, const char *hrp, const struct raw *r,
                        const al_privkey *key, int recid_add, al_b32_variant variant)
{
	uint8_t packed[AL_INVOICE_MAX_CHARS], sig[65], hash[32], v[AL_INVOICE_MAX_CHARS + 110];
	size_t len, n;
	int recid;
	al_sha256_ctx ctx;

	CHECK_OK(al_b32_convert_bits(packed, sizeof(packed), &len, 8, r->v, r->n, 5, true));
	al_sha256_init(&ctx);
	al_sha256_update(&ctx, hrp, strlen(hrp));
	al_sha256_update(&ctx, packed, len);
	al_sha256_final(&ctx, hash);
	CHECK_OK(al_ecdsa_sign_recoverable(al_t_secp(), sig, &recid, hash, key));
	sig[64] = (uint8_t)(recid + recid_add);
	memcpy(v, r->v, r->n);
	CHECK_OK(al_b32_convert_bits(v + r->n, sizeof(v) - r->n, &n, 5, sig, 65, 8, true));
	CHECK_OK(al_b32_encode_long(out, cap, hrp, v, r->n + n, variant, 9000));
}

static char str[9100];
static al_invoice inv;

static al_err decode_raw(const char *hrp, const struct raw *r)
{
	finish_with(str, sizeof(str), hrp, r, &payee_key, 0, AL_B32_BECH32);
	return al_invoice_decode(&inv, al_t_secp(), str, strlen(str));
}

static void test_amounts(void)
{
	static const struct {
		const char *hrp;
		al_err err;
		al_invoice_currency cur;
		uint64_t msat; /* 0: no amount */
	} cases[] = {
	    {"lnbc", AL_OK, AL_INVOICE_BC, 0},
	    {"lnbc25m", AL_OK, AL_INVOICE_BC, 2500000000},
	    {"lnbc2500u", AL_OK, AL_INVOICE_BC, 250000000},
	    {"lnbc20n", AL_OK, AL_INVOICE_BC, 2000},
	    {"lnbc10p", AL_OK, AL_INVOICE_BC, 1},
	    {"lnbc1", AL_OK, AL_INVOICE_BC, 100000000000},
	    {"lnbc21000000", AL_OK, AL_INVOICE_BC, 2100000000000000000},
	    {"lnbc21000000000000000000p", AL_OK, AL_INVOICE_BC, 2100000000000000000},
	    {"lnbc21000001", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc21000000000000000010p", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc99999999999999999999m", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc11p", AL_E_INV_PRECISION, 0, 0},
	    {"lnbc0p", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc0", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc01m", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc1x", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc1mm", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbc1m5", AL_E_INV_AMOUNT, 0, 0},
	    {"lnbcrt5u", AL_OK, AL_INVOICE_BCRT, 500000},
	    {"lnbcrt", AL_OK, AL_INVOICE_BCRT, 0},
	    {"lntbs3m", AL_OK, AL_INVOICE_TBS, 300000000},
	    {"lntb3m", AL_OK, AL_INVOICE_TB, 300000000},
	    {"lnbcm", AL_E_INV_PREFIX, 0, 0},
	    {"lnxy", AL_E_INV_PREFIX, 0, 0},
	    {"bc", AL_E_INV_PREFIX, 0, 0},
	    {"lntbx1m", AL_E_INV_PREFIX, 0, 0},
	};
	struct raw r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		start(&r);
		basics(&r);
		CHECK_ERR(decode_raw(cases[i].hrp, &r), cases[i].err);
		if (cases[i].err != AL_OK)
			continue;
		CHECK(inv.currency == cases[i].cur);
		CHECK(inv.has_amount == (cases[i].msat != 0));
		CHECK(inv.amount_msat == cases[i].msat);
		CHECK_MEM(inv.payee, payee_pub, 33);
	}
}

/* Skipped fields, repeats, and the required ones. */
static void test_fields(void)
{
	static const uint8_t other32[32] = {7};
	static const struct {
		uint8_t b[4];
		size_t len;
	} bad_utf8[] = {
	    {{0xC0, 0x80}, 2},             /* an overlong NUL */
	    {{0xED, 0xA0, 0x80}, 3},       /* a surrogate */
	    {{0xF4, 0x90, 0x80, 0x80}, 4}, /* U+110000, above U+10FFFF */
	    {{0xF5, 0x80, 0x80, 0x80}, 4}, /* a lead byte no code point has */
	    {{0xE3, 0x81}, 2},             /* cut short */
	    {{0x80}, 1},                   /* a lone continuation byte */
	};
	uint8_t v[64];
	struct raw r;
	size_t i;

	/* "MUST skip over ... `p` ... fields that do NOT have `data_length`s of 52": a
	 * 53-value p first does not hide the 52-value one after it. */
	start(&r);
	CHECK_OK(al_b32_convert_bits(v, sizeof(v), &i, 5, other32, 32, 8, true));
	v[52] = 0;
	field_values(&r, 1, v, 53);
	basics(&r);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK_MEM(inv.payment_hash, hash32, 32);
	/* The first p counts. */
	start(&r);
	basics(&r);
	field(&r, 1, other32, 32);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK_MEM(inv.payment_hash, hash32, 32);
	/* Only wrong-length p, or none; no s. */
	start(&r);
	field_values(&r, 1, v, 53);
	field(&r, 16, secret32, 32);
	field(&r, 13, (const uint8_t *)"x", 1);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_NO_HASH);
	start(&r);
	field(&r, 1, hash32, 32);
	field(&r, 13, (const uint8_t *)"x", 1);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_NO_SECRET);
	/* Exactly one of d and h. */
	start(&r);
	basics(&r);
	field(&r, 23, other32, 32);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_DESCRIPTION);
	start(&r);
	basics(&r);
	field(&r, 13, (const uint8_t *)"tea", 3);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_DESCRIPTION);
	start(&r);
	field(&r, 1, hash32, 32);
	field(&r, 16, secret32, 32);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_DESCRIPTION);
	start(&r);
	field(&r, 1, hash32, 32);
	field(&r, 16, secret32, 32);
	field(&r, 23, other32, 32);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(inv.has_description_hash && !inv.has_description);
	/* UTF-8: the ninth character below is two bytes, the whole string valid. */
	start(&r);
	field(&r, 1, hash32, 32);
	field(&r, 16, secret32, 32);
	field(&r, 13, (const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80", 13);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(inv.description_len == 13);
	for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		start(&r);
		field(&r, 1, hash32, 32);
		field(&r, 16, secret32, 32);
		field(&r, 13, bad_utf8[i].b, bad_utf8[i].len);
		CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_UTF8);
	}
	/* Unknown field types are skipped, whatever they hold. */
	start(&r);
	basics(&r);
	field_values(&r, 0, (const uint8_t[]){31, 31, 31}, 3);
	CHECK_OK(decode_raw("lnbc", &r));
	/* Non-zero padding bits: p's 52 values carry 4 spare bits. */
	start(&r);
	CHECK_OK(al_b32_convert_bits(v, sizeof(v), &i, 5, hash32, 32, 8, true));
	v[51] |= 1;
	field_values(&r, 1, v, 52);
	field(&r, 16, secret32, 32);
	field(&r, 13, (const uint8_t *)"x", 1);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_PADDING);
	/* A field longer than what is left before the signature. */
	start(&r);
	basics(&r);
	number(&r, 13, 1);
	number(&r, 200, 2);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_FIELD);
	start(&r);
	basics(&r);
	number(&r, 13, 1);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_FIELD);
}

static void test_numbers_and_features(void)
{
	struct raw r;

	/* x and c: defaults, values, minimal length. */
	start(&r);
	basics(&r);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(inv.expiry == 3600 && !inv.has_expiry);
	CHECK(inv.min_final_cltv_expiry_delta == 18 && !inv.has_min_final_cltv);
	start(&r);
	basics(&r);
	field_values(&r, 6, (const uint8_t[]){1, 28}, 2);
	field_values(&r, 24, (const uint8_t[]){4, 0}, 2);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(inv.expiry == 60 && inv.has_expiry);
	CHECK(inv.min_final_cltv_expiry_delta == 128 && inv.has_min_final_cltv);
	start(&r);
	basics(&r);
	field_values(&r, 6, (const uint8_t[]){0, 1, 28}, 3);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_NONMINIMAL);
	start(&r);
	basics(&r);
	field_values(&r, 24, (const uint8_t[]){0}, 1);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_NONMINIMAL);
	start(&r);
	basics(&r);
	field_values(&r, 6, (const uint8_t[]){1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 13);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_VALUE);
	/* Zero values: an x of no data is an expiry of 0. */
	start(&r);
	basics(&r);
	field_values(&r, 6, NULL, 0);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(inv.has_expiry && inv.expiry == 0);

	/* Features: 9 = bits 8 and 14 (the examples' "qrsgq": values 16, 8, 0). */
	start(&r);
	basics(&r);
	field_values(&r, 5, (const uint8_t[]){16, 8, 0}, 3);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(al_features_has(&inv.features, 8) && al_features_has(&inv.features, 14));
	/* basic_mpp (17) without payment_secret. */
	start(&r);
	basics(&r);
	field_values(&r, 5, (const uint8_t[]){2, 0, 0, 0}, 4);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_FEATURE_DEPS);
	/* Route blinding required (24): not implemented here, so unknown; optional (25)
	 * is ignored. */
	start(&r);
	basics(&r);
	field_values(&r, 5, (const uint8_t[]){16, 0, 0, 0, 0}, 5);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_FEATURES);
	CHECK(inv.unknown_feature == 24);
	start(&r);
	basics(&r);
	field_values(&r, 5, (const uint8_t[]){1, 0, 0, 0, 0, 0}, 6);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(!al_features_offered(&inv.features, 24));
	/* An unknown even bit far above the feature set's range (bit 1000). */
	start(&r);
	basics(&r);
	{
		uint8_t v[201] = {1};

		field_values(&r, 5, v, 201);
	}
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_FEATURES);
	CHECK(inv.unknown_feature == 1000);
	start(&r);
	basics(&r);
	field_values(&r, 5, (const uint8_t[]){0, 16, 8, 0}, 4);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_NONMINIMAL);
}

static void test_fallbacks_and_routes(void)
{
	uint8_t prog[41] = {0}, hop[51 * 13];
	struct raw r;
	size_t i;

	/* Version 17 with 20 bytes, version 19 (skipped), version 0 with 21 (wrong). */
	start(&r);
	basics(&r);
	prog[0] = 17;
	{
		uint8_t v[40];
		size_t n;

		CHECK_OK(al_b32_convert_bits(v + 1, sizeof(v) - 1, &n, 5, prog + 1, 20, 8, true));
		v[0] = 17;
		field_values(&r, 9, v, n + 1);
		v[0] = 19;
		field_values(&r, 9, v, n + 1);
		CHECK_OK(decode_raw("lnbc", &r));
		CHECK(inv.n_fallbacks == 1 && inv.fallbacks[0].version == 17 &&
		      inv.fallbacks[0].len == 20);
		CHECK_OK(al_b32_convert_bits(v + 1, sizeof(v) - 1, &n, 5, prog + 1, 21, 8, true));
		v[0] = 0;
		field_values(&r, 9, v, n + 1);
		CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_FALLBACK);
	}
	start(&r);
	basics(&r);
	for (i = 0; i < 5; i++) {
		prog[0] = 18;
		uint8_t v[40];
		size_t n;

		CHECK_OK(al_b32_convert_bits(v + 1, sizeof(v) - 1, &n, 5, prog + 1, 20, 8, true));
		v[0] = 18;
		field_values(&r, 9, v, n + 1);
	}
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_TOO_MANY);

	/* Route hints: whole 51-byte hops with valid keys. */
	memset(hop, 0, sizeof(hop));
	for (i = 0; i < 13; i++) {
		memcpy(hop + 51 * i, payee_pub, 33);
		hop[51 * i + 40] = (uint8_t)i;
		hop[51 * i + 50] = 40;
	}
	start(&r);
	basics(&r);
	field(&r, 3, hop, 51 * 2);
	field(&r, 3, hop + 51 * 2, 51);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(inv.n_routes == 2 && inv.n_hops == 3 && inv.routes[1].first == 2 &&
	      inv.routes[1].count == 1 && inv.hops[2].scid == 2 &&
	      inv.hops[2].cltv_expiry_delta == 40);
	start(&r);
	basics(&r);
	field(&r, 3, hop, 50);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_HINT);
	start(&r);
	basics(&r);
	hop[0] = 5; /* not a point encoding */
	field(&r, 3, hop, 51);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_HINT);
	hop[0] = payee_pub[0];
	start(&r);
	basics(&r);
	for (i = 0; i < AL_INVOICE_MAX_ROUTES + 1; i++)
		field(&r, 3, hop, 51);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_TOO_MANY);
	start(&r);
	basics(&r);
	for (i = 0; i < 4; i++)
		field(&r, 3, hop, 51 * 12); /* 48 hops: the most kept */
	CHECK_OK(decode_raw("lnbc", &r));
	field(&r, 3, hop, 51);
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_TOO_MANY);
}

static void test_signatures(void)
{
	uint8_t other_pub[33];
	al_pubkey pk;
	struct raw r;

	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pk, &other_key));
	al_pubkey_serialize(al_t_secp(), other_pub, &pk);
	/* Recovery names whoever signed; n must match the signer. */
	start(&r);
	basics(&r);
	finish_with(str, sizeof(str), "lnbc", &r, &other_key, 0, AL_B32_BECH32);
	CHECK_OK(al_invoice_decode(&inv, al_t_secp(), str, strlen(str)));
	CHECK_MEM(inv.payee, other_pub, 33);
	CHECK(!inv.payee_explicit);
	field(&r, 19, payee_pub, 33);
	CHECK_OK(decode_raw("lnbc", &r));
	CHECK(inv.payee_explicit);
	CHECK_MEM(inv.payee, payee_pub, 33);
	finish_with(str, sizeof(str), "lnbc", &r, &other_key, 0, AL_B32_BECH32);
	CHECK_ERR(al_invoice_decode(&inv, al_t_secp(), str, strlen(str)), AL_E_INV_SIGNATURE);
	/* An n that is no point. */
	start(&r);
	basics(&r);
	{
		uint8_t bad[33] = {4};

		field(&r, 19, bad, 33);
	}
	CHECK_ERR(decode_raw("lnbc", &r), AL_E_INV_PAYEE);
	/* The other recovery id gives another key (or none); ids above 3 are refused. */
	start(&r);
	basics(&r);
	finish_with(str, sizeof(str), "lnbc", &r, &payee_key, 1, AL_B32_BECH32);
	if (al_invoice_decode(&inv, al_t_secp(), str, strlen(str)) == AL_OK)
		CHECK(memcmp(inv.payee, payee_pub, 33) != 0);
	finish_with(str, sizeof(str), "lnbc", &r, &payee_key, 4, AL_B32_BECH32);
	CHECK_ERR(al_invoice_decode(&inv, al_t_secp(), str, strlen(str)), AL_E_INV_SIGNATURE);
	/* Bech32m is not an invoice; nor is a string too long for a QR code. */
	finish_with(str, sizeof(str), "lnbc", &r, &payee_key, 0, AL_B32_BECH32M);
	CHECK_ERR(al_invoice_decode(&inv, al_t_secp(), str, strlen(str)), AL_E_INV_VARIANT);
	CHECK_ERR(al_invoice_decode(&inv, al_t_secp(), str, AL_INVOICE_MAX_CHARS + 1),
	          AL_E_INV_LENGTH);
	/* Too short for a timestamp and a signature: 7 + 103 values. */
	{
		uint8_t v[110] = {0};

		CHECK_OK(al_b32_encode_long(str, sizeof(str), "lnbc", v, sizeof(v), AL_B32_BECH32,
		                            9000));
		CHECK_ERR(al_invoice_decode(&inv, al_t_secp(), str, strlen(str)),
		          AL_E_INV_TOO_SHORT);
	}
}

static void test_encode(void)
{
	static al_invoice in, out;
	static char s[AL_INVOICE_MAX_CHARS + 1];
	static const struct {
		uint64_t msat;
		const char *hrp;
	} amounts[] = {
	    {1, "lnbc10p"},
	    {1000, "lnbc10n"},
	    {100000, "lnbc1u"},
	    {100000000, "lnbc1m"},
	    {100000000000, "lnbc1"},
	    {123456789, "lnbc1234567890p"},
	    {2100000000000000000, "lnbc21000000"},
	    {2099999999999999999, "lnbc20999999999999999990p"},
	};
	size_t len, i;

	memset(&in, 0, sizeof(in));
	in.currency = AL_INVOICE_BC;
	in.timestamp = 1700000000;
	memcpy(in.payment_hash, hash32, 32);
	memcpy(in.payment_secret, secret32, 32);
	in.has_description = true;
	in.description_len = 3;
	memcpy(in.description, "tea", 3);
	CHECK_OK(al_features_set(&in.features, 14));
	CHECK_OK(al_features_set(&in.features, 8));
	CHECK_OK(al_features_set(&in.features, 17));
	for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
		in.has_amount = true;
		in.amount_msat = amounts[i].msat;
		CHECK_OK(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key));
		CHECK(strncmp(s, amounts[i].hrp, strlen(amounts[i].hrp)) == 0 &&
		      s[strlen(amounts[i].hrp)] == '1');
		CHECK_OK(al_invoice_decode(&out, al_t_secp(), s, len));
		CHECK(out.amount_msat == amounts[i].msat);
	}
	/* The largest fields round-trip: 639-byte description and metadata, n, x, c. */
	in.description_len = AL_INVOICE_FIELD_MAX;
	memset(in.description, 'a', AL_INVOICE_FIELD_MAX);
	in.has_metadata = true;
	in.metadata_len = AL_INVOICE_FIELD_MAX;
	memset(in.metadata, 0xfe, AL_INVOICE_FIELD_MAX);
	in.payee_explicit = true;
	in.has_expiry = true;
	in.expiry = 86400;
	in.has_min_final_cltv = true;
	in.min_final_cltv_expiry_delta = 144;
	CHECK_OK(al_features_set(&in.features, 49));
	CHECK_OK(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key));
	CHECK_OK(al_invoice_decode(&out, al_t_secp(), s, len));
	CHECK(out.payee_explicit && out.expiry == 86400 && out.min_final_cltv_expiry_delta == 144);
	CHECK(out.metadata_len == AL_INVOICE_FIELD_MAX &&
	      out.description_len == AL_INVOICE_FIELD_MAX);
	CHECK_MEM(out.payee, payee_pub, 33);
	CHECK(al_features_has(&out.features, 49));
	/* Refusals, with the output cleared. */
	CHECK_ERR(al_invoice_encode(s, 100, &len, al_t_secp(), &in, &payee_key), AL_E_BUFSIZE);
	CHECK(len == 0 && s[0] == '\0');
	in.description_len = AL_INVOICE_FIELD_MAX + 1;
	CHECK_ERR(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key), AL_E_RANGE);
	in.description_len = 3;
	in.has_description_hash = true;
	CHECK_ERR(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key),
	          AL_E_INV_DESCRIPTION);
	in.has_description_hash = false;
	in.timestamp = 1ULL << 35;
	CHECK_ERR(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key), AL_E_RANGE);
	in.timestamp = 1;
	in.amount_msat = 0;
	CHECK_ERR(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key),
	          AL_E_INV_AMOUNT);
	in.amount_msat = 2100000000000000001;
	CHECK_ERR(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key),
	          AL_E_INV_AMOUNT);
	in.amount_msat = 5;
	in.expiry = 1ULL << 61;
	CHECK_ERR(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key),
	          AL_E_INV_VALUE);
	in.expiry = 5;
	CHECK_OK(al_features_set(&in.features, 24));
	CHECK_ERR(al_invoice_encode(s, sizeof(s), &len, al_t_secp(), &in, &payee_key),
	          AL_E_INV_FEATURES);
}

int main(void)
{
	al_pubkey pk;

	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pk, &payee_key));
	al_pubkey_serialize(al_t_secp(), payee_pub, &pk);
	test_amounts();
	test_fields();
	test_numbers_and_features();
	test_fallbacks_and_routes();
	test_signatures();
	test_encode();
	return al_t_finish();
}
