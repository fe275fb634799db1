#include "ln/invoice.h"

#include <string.h>

#include "btc/bech32.h"
#include "crypto/hash.h"
#include "util/cursor.h"
#include "util/mem.h"

/* BOLT #11: "`timestamp`: seconds-since-1970 (35 bits, big-endian)", "`signature`:
 * ... (520 bits: 64-byte R||S + 1-byte recovery id)". */
#define TS_VALUES  7
#define SIG_VALUES 104
/* Packed signing data: every value but the signature, 5 bits each, rounded up. */
#define PACKED_MAX ((AL_INVOICE_MAX_CHARS * 5 + 7) / 8)

#define MSAT_PER_BTC 100000000000ULL
#define MAX_MSAT     (21000000ULL * MSAT_PER_BTC)

/* Tagged field types: the value of the field's Bech32 character. */
enum {
	T_P = 1,  /* p: payment_hash */
	T_R = 3,  /* r: route hint */
	T_9 = 5,  /* 9: features */
	T_X = 6,  /* x: expiry */
	T_F = 9,  /* f: fallback address */
	T_D = 13, /* d: description */
	T_S = 16, /* s: payment_secret */
	T_N = 19, /* n: payee */
	T_H = 23, /* h: description hash */
	T_C = 24, /* c: min_final_cltv_expiry_delta */
	T_M = 27, /* m: payment_metadata */
};

/* A 51-byte `r` entry: pubkey, short_channel_id, two u32 fees, u16 cltv delta. */
#define HOP_LEN 51

static const struct {
	const char *prefix;
	al_invoice_currency c;
} currencies[] = {
    /* Longest first: "lnbcrt" must not read as "lnbc" and an amount. */
    {"bcrt", AL_INVOICE_BCRT},
    {"bc", AL_INVOICE_BC},
    {"tbs", AL_INVOICE_TBS},
    {"tb", AL_INVOICE_TB},
};

/* BOLT #11 multipliers, in millisatoshi per unit of `amount`; `p` is handled apart. */
static const struct {
	char letter;
	uint64_t msat;
} multipliers[] = {
    {0, MSAT_PER_BTC},
    {'m', 100000000},
    {'u', 100000},
    {'n', 100},
};

/* The invoice features this node knows (BOLT #9 context 9): var_onion_optin,
 * payment_secret, basic_mpp, option_payment_metadata. Route blinding and attribution
 * data are not implemented, so their even bits are unknown here. */
static const unsigned known_features[] = {
    AL_FEATURE_VAR_ONION_OPTIN,
    AL_FEATURE_PAYMENT_SECRET,
    AL_FEATURE_BASIC_MPP,
    AL_FEATURE_PAYMENT_METADATA,
};

const char *al_invoice_prefix(al_invoice_currency c)
{
	static const char *const names[] = {NULL, "lnbc", "lntb", "lnbcrt", "lntbs"};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : NULL;
}

static bool known_feature(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(known_features) / sizeof(known_features[0]); i++)
		if (AL_FEATURE_REQ(bit) == known_features[i])
			return true;
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits [s, s + n) as a number: no leading zero, not zero, no overflow. */
static al_err parse_digits(uint64_t *out, const char *s, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || s[0] == '0')
		return AL_E_INV_AMOUNT;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]) || v > (UINT64_MAX - 9) / 10)
			return AL_E_INV_AMOUNT;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return AL_OK;
}

/* BOLT #11: "if `amount` contains a non-digit OR is followed by anything except a
 * `multiplier` (see table above): MUST fail the payment." */
static al_err parse_amount(al_invoice *inv, const char *a)
{
	size_t n = strlen(a), i;
	uint64_t v;
	char last;

	if (n == 0)
		return AL_OK;
	last = a[n - 1];
	if (last == 'p') {
		/* "if multiplier is `p` and the last decimal of `amount` is not 0: MUST
		 * fail the payment"; the digits before it count millisatoshi. */
		if (n < 2 || !is_digit(a[n - 2]))
			return AL_E_INV_AMOUNT;
		if (a[n - 2] != '0')
			return AL_E_INV_PRECISION;
		if (n == 2)
			return AL_E_INV_AMOUNT; /* "0p": not positive */
		AL_TRY(parse_digits(&v, a, n - 2));
	} else {
		uint64_t unit = 0;

		for (i = 0; i < sizeof(multipliers) / sizeof(multipliers[0]); i++)
			if (multipliers[i].letter == (is_digit(last) ? 0 : last))
				unit = multipliers[i].msat;
		if (unit == 0)
			return AL_E_INV_AMOUNT;
		AL_TRY(parse_digits(&v, a, is_digit(last) ? n : n - 1));
		if (v > MAX_MSAT / unit)
			return AL_E_INV_AMOUNT;
		v *= unit;
	}
	if (v > MAX_MSAT)
		return AL_E_INV_AMOUNT;
	inv->has_amount = true;
	inv->amount_msat = v;
	return AL_OK;
}

static al_err parse_hrp(al_invoice *inv, const char *hrp)
{
	size_t i, n;

	if (strncmp(hrp, "ln", 2) != 0)
		return AL_E_INV_PREFIX;
	for (i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
		n = strlen(currencies[i].prefix);
		if (strncmp(hrp + 2, currencies[i].prefix, n) == 0 &&
		    (hrp[2 + n] == '\0' || is_digit(hrp[2 + n]))) {
			inv->currency = currencies[i].c;
			return parse_amount(inv, hrp + 2 + n);
		}
	}
	/* BOLT #11: "if it does NOT understand the `prefix`: MUST fail the payment." */
	return AL_E_INV_PREFIX;
}

/* A big-endian number of at most 12 values (60 bits). */
static uint64_t be_value(const uint8_t *v, size_t n)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n; i++)
		x = x << 5 | v[i];
	return x;
}

/* A field's values as bytes. BIP 173's padding rule ("Any incomplete group at the
 * end MUST be 4 bits or less, MUST be all zeroes"), which a writer padding bytes to
 * 5-bit groups with zeros always meets. */
static al_err field_bytes(uint8_t *out, size_t cap, size_t *outlen, const uint8_t *v, size_t n)
{
	al_err err = al_b32_convert_bits(out, cap, outlen, 8, v, n, 5, false);

	return err == AL_E_B32_PADDING ? AL_E_INV_PADDING : err;
}

/* x and c: "if a `c`, `x`, or `9` field is provided which has a non-minimal
 * `data_length` (i.e. begins with 0 field elements): SHOULD treat the invoice as
 * invalid." Values above 60 bits mean nothing as seconds or blocks. */
static al_err field_number(uint64_t *out, const uint8_t *v, size_t n)
{
	if (n > 0 && v[0] == 0)
		return AL_E_INV_NONMINIMAL;
	if (n > 12)
		return AL_E_INV_VALUE;
	*out = be_value(v, n);
	return AL_OK;
}

/* BOLT #11: "The field is big-endian. The least-significant bit is numbered 0".
 * "if the `9` field contains unknown _odd_ bits that are non-zero: MUST ignore the
 * bit. if the `9` field contains unknown _even_ bits that are non-zero: MUST fail the
 * payment." */
static al_err field_features(al_invoice *inv, const uint8_t *v, size_t n)
{
	size_t j;
	unsigned k, bit;

	if (n > 0 && v[0] == 0)
		return AL_E_INV_NONMINIMAL;
	for (j = 0; j < n; j++) {
		for (k = 0; k < 5; k++) {
			if (!(v[j] >> k & 1))
				continue;
			bit = (unsigned)(5 * (n - 1 - j)) + k;
			if (known_feature(bit)) {
				AL_TRY(al_features_set(&inv->features, bit));
			} else if (bit % 2 == 0) {
				inv->unknown_feature = bit;
				return AL_E_INV_FEATURES;
			}
		}
	}
	return AL_OK;
}

/* BOLT #11: "for Bitcoin payments: MUST set an `f` field to a valid witness version
 * and program, OR to `17` followed by a public key hash, OR to `18` followed by a
 * script hash." Readers "MUST skip over ... an `f` field with unknown `version`". */
static al_err field_fallback(al_invoice *inv, const uint8_t *v, size_t n)
{
	al_invoice_fallback fb = {0};
	uint8_t prog[AL_INVOICE_FIELD_MAX];
	size_t len;

	if (n == 0)
		return AL_E_INV_FALLBACK;
	if (v[0] > 18)
		return AL_OK;
	AL_TRY(field_bytes(prog, sizeof(prog), &len, v + 1, n - 1));
	if (v[0] >= 17 ? len != 20 : v[0] == 0 ? len != 20 && len != 32 : len < 2 || len > 40)
		return AL_E_INV_FALLBACK;
	if (inv->n_fallbacks == AL_INVOICE_MAX_FALLBACKS)
		return AL_E_INV_TOO_MANY;
	fb.version = v[0];
	fb.len = (uint8_t)len;
	memcpy(fb.program, prog, len);
	inv->fallbacks[inv->n_fallbacks++] = fb;
	return AL_OK;
}

/* BOLT #11: "`r` field MUST contain one or more ordered entries, indicating the
 * forward route from a public node to the final destination." */
static al_err field_route(al_invoice *inv, const al_secp *secp, const uint8_t *v, size_t n)
{
	uint8_t b[AL_INVOICE_FIELD_MAX];
	size_t len, k, hops;
	al_pubkey pk;

	AL_TRY(field_bytes(b, sizeof(b), &len, v, n));
	if (len == 0 || len % HOP_LEN != 0)
		return AL_E_INV_HINT;
	hops = len / HOP_LEN;
	if (inv->n_routes == AL_INVOICE_MAX_ROUTES || hops > AL_INVOICE_MAX_HOPS - inv->n_hops)
		return AL_E_INV_TOO_MANY;
	inv->routes[inv->n_routes].first = (uint8_t)inv->n_hops;
	inv->routes[inv->n_routes].count = (uint8_t)hops;
	inv->n_routes++;
	for (k = 0; k < hops; k++) {
		const uint8_t *e = b + k * HOP_LEN;
		al_invoice_hop *h = &inv->hops[inv->n_hops++];

		if (al_pubkey_parse(secp, &pk, e, AL_PUBKEY_LEN) != AL_OK)
			return AL_E_INV_HINT;
		memcpy(h->pubkey, e, AL_PUBKEY_LEN);
		h->scid = al_read_be64(e + 33);
		h->fee_base_msat = al_read_be32(e + 41);
		h->fee_proportional_millionths = al_read_be32(e + 45);
		h->cltv_expiry_delta = (uint16_t)(e[49] << 8 | e[50]);
	}
	return AL_OK;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F, min = 0x80;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F, min = 0x800;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (len > n - i)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/* What the parse of the tagged fields has seen, for the rules on absence and
 * repetition. */
struct seen {
	bool p, s, n, x, c, m, f9;
	unsigned d, h;
};

static al_err field(al_invoice *inv, struct seen *seen, const al_secp *secp, uint8_t type,
                    const uint8_t *v, size_t n)
{
	uint8_t b[AL_INVOICE_FIELD_MAX];
	size_t len;
	al_pubkey pk;

	/* BOLT #11: "MUST skip over unknown fields, OR an `f` field with unknown
	 * `version`, OR `p`, `h`, `s` or `n` fields that do NOT have `data_length`s of
	 * 52, 52, 52 or 53, respectively." Of a repeated field the first counts ("SHOULD
	 * use the first `p` field that it did NOT skip"), but for f and r, which
	 * accumulate, and d and h, of which there must be exactly one. */
	switch (type) {
	case T_P:
	case T_S:
	case T_H:
		if (n != 52 || (type == T_P && seen->p) || (type == T_S && seen->s))
			return AL_OK;
		AL_TRY(field_bytes(b, sizeof(b), &len, v, n));
		if (type == T_P) {
			memcpy(inv->payment_hash, b, 32);
			seen->p = true;
		} else if (type == T_S) {
			memcpy(inv->payment_secret, b, 32);
			seen->s = true;
		} else if (seen->h++ == 0) {
			memcpy(inv->description_hash, b, 32);
			inv->has_description_hash = true;
		}
		return AL_OK;
	case T_N:
		if (n != 53 || seen->n)
			return AL_OK;
		AL_TRY(field_bytes(b, sizeof(b), &len, v, n));
		if (al_pubkey_parse(secp, &pk, b, AL_PUBKEY_LEN) != AL_OK)
			return AL_E_INV_PAYEE;
		memcpy(inv->payee, b, AL_PUBKEY_LEN);
		inv->payee_explicit = seen->n = true;
		return AL_OK;
	case T_D:
		AL_TRY(field_bytes(b, sizeof(b), &len, v, n));
		/* BOLT #11: "MUST set `d` to a valid UTF-8 string." */
		if (!utf8_valid(b, len))
			return AL_E_INV_UTF8;
		if (seen->d++ == 0) {
			memcpy(inv->description, b, len);
			inv->description_len = (uint16_t)len;
			inv->has_description = true;
		}
		return AL_OK;
	case T_M:
		if (seen->m)
			return AL_OK;
		AL_TRY(field_bytes(b, sizeof(b), &len, v, n));
		memcpy(inv->metadata, b, len);
		inv->metadata_len = (uint16_t)len;
		inv->has_metadata = seen->m = true;
		return AL_OK;
	case T_X:
		if (seen->x)
			return AL_OK;
		AL_TRY(field_number(&inv->expiry, v, n));
		inv->has_expiry = seen->x = true;
		return AL_OK;
	case T_C:
		if (seen->c)
			return AL_OK;
		AL_TRY(field_number(&inv->min_final_cltv_expiry_delta, v, n));
		inv->has_min_final_cltv = seen->c = true;
		return AL_OK;
	case T_9:
		if (seen->f9)
			return AL_OK;
		seen->f9 = true;
		return field_features(inv, v, n);
	case T_F:
		return field_fallback(inv, v, n);
	case T_R:
		return field_route(inv, secp, v, n);
	default:
		return AL_OK;
	}
}

/* BOLT #11: "the SHA2 256-bit hash of the human-readable part, represented as UTF-8
 * bytes, concatenated with the data part (excluding the signature) with 0 bits
 * appended to pad the data to the next byte boundary". */
static al_err signing_hash(uint8_t out[32], const char *hrp, const uint8_t *v, size_t n)
{
	uint8_t packed[PACKED_MAX];
	size_t len;
	al_sha256_ctx ctx;

	AL_TRY(al_b32_convert_bits(packed, sizeof(packed), &len, 8, v, n, 5, true));
	al_sha256_init(&ctx);
	al_sha256_update(&ctx, hrp, strlen(hrp));
	al_sha256_update(&ctx, packed, len);
	al_sha256_final(&ctx, out);
	return AL_OK;
}

static al_err check_signature(al_invoice *inv, const al_secp *secp)
{
	al_ecdsa_sig sig;
	al_pubkey pk;
	al_err err;

	if (inv->payee_explicit) {
		/* "if a valid `n` field is provided: MUST use the `n` field to validate the
		 * signature instead of performing public-key recovery. If the signature is
		 * not compliant with the low-S standard rule: MUST fail the payment" */
		if (al_ecdsa_sig_parse_compact(secp, &sig, inv->signature) != AL_OK ||
		    al_pubkey_parse(secp, &pk, inv->payee, AL_PUBKEY_LEN) != AL_OK)
			return AL_E_INV_SIGNATURE;
		err = al_ecdsa_verify(secp, &sig, inv->sighash, &pk);
		if (err == AL_E_SIG_HIGH_S)
			return AL_E_INV_HIGH_S;
		return err == AL_OK ? AL_OK : AL_E_INV_SIGNATURE;
	}
	/* "otherwise: MUST perform ECDSA public-key recovery and accept both high-S and
	 * low-S signatures." */
	if (al_ecdsa_recover(secp, &pk, inv->signature, inv->recid, inv->sighash) != AL_OK)
		return AL_E_INV_SIGNATURE;
	al_pubkey_serialize(secp, inv->payee, &pk);
	return AL_OK;
}

static al_err decode(al_invoice *inv, const al_secp *secp, const char *str, size_t len)
{
	char hrp[AL_B32_HRP_MAXLEN + 1];
	uint8_t v[AL_INVOICE_MAX_CHARS], sig[65];
	size_t n, i, end, dlen, siglen;
	al_b32_variant variant;
	struct seen seen = {0};
	unsigned feat, dep;

	if (len > AL_INVOICE_MAX_CHARS)
		return AL_E_INV_LENGTH;
	/* BOLT #11: "MUST parse the address as Bech32, as specified in BIP-0173 (also
	 * without the character limit)." */
	AL_TRY(al_b32_decode_long(hrp, sizeof(hrp), v, sizeof(v), &n, &variant, str, len,
	                          AL_INVOICE_MAX_CHARS));
	if (variant != AL_B32_BECH32)
		return AL_E_INV_VARIANT;
	AL_TRY(parse_hrp(inv, hrp));
	if (n < TS_VALUES + SIG_VALUES)
		return AL_E_INV_TOO_SHORT;
	end = n - SIG_VALUES;
	inv->timestamp = be_value(v, TS_VALUES);
	inv->expiry = AL_INVOICE_DEFAULT_EXPIRY;
	inv->min_final_cltv_expiry_delta = AL_INVOICE_DEFAULT_CLTV;

	/* "Each Tagged Field is of the form: `type` (5 bits), `data_length` (10 bits,
	 * big-endian), `data` (`data_length` x 5 bits)". */
	for (i = TS_VALUES; i < end; i += dlen) {
		uint8_t type = v[i];

		if (end - i < 3)
			return AL_E_INV_FIELD;
		dlen = (size_t)v[i + 1] << 5 | v[i + 2];
		i += 3;
		if (dlen > end - i)
			return AL_E_INV_FIELD;
		AL_TRY(field(inv, &seen, secp, type, v + i, dlen));
	}

	if (!seen.p)
		return AL_E_INV_NO_HASH;
	/* "if a valid `s` field is not provided: MUST fail the payment." */
	if (!seen.s)
		return AL_E_INV_NO_SECRET;
	/* "MUST include either exactly one `d` or exactly one `h` field." */
	if (seen.d + seen.h != 1)
		return AL_E_INV_DESCRIPTION;
	/* BOLT #11: "if the feature vector does not set all known, transitive feature
	 * dependencies: MUST NOT attempt the payment." */
	if (al_features_check_deps(&feat, &dep, &inv->features) != AL_OK)
		return AL_E_INV_FEATURE_DEPS;

	AL_TRY(field_bytes(sig, sizeof(sig), &siglen, v + end, SIG_VALUES));
	memcpy(inv->signature, sig, 64);
	inv->recid = sig[64];
	AL_TRY(signing_hash(inv->sighash, hrp, v, end));
	return check_signature(inv, secp);
}

al_err al_invoice_decode(al_invoice *out, const al_secp *secp, const char *str, size_t len)
{
	al_err err;
	unsigned unknown;

	memset(out, 0, sizeof(*out));
	err = decode(out, secp, str, len);
	if (err != AL_OK) {
		unknown = out->unknown_feature;
		memset(out, 0, sizeof(*out));
		out->unknown_feature = unknown;
	}
	return err;
}

/* The encoder's 5-bit value buffer. */
struct writer {
	uint8_t v[AL_INVOICE_MAX_CHARS];
	size_t n;
	al_err err;
};

static void put(struct writer *w, uint64_t value, size_t nvalues)
{
	size_t i;

	if (w->err != AL_OK)
		return;
	if (nvalues > sizeof(w->v) - w->n) {
		w->err = AL_E_INV_LENGTH;
		return;
	}
	for (i = 0; i < nvalues; i++)
		w->v[w->n++] = (uint8_t)(value >> 5 * (nvalues - 1 - i) & 31);
}

static void put_field_values(struct writer *w, unsigned type, const uint8_t *v, size_t n)
{
	if (w->err == AL_OK && n > 1023)
		w->err = AL_E_RANGE;
	put(w, type, 1);
	put(w, n, 2);
	if (w->err != AL_OK || n > sizeof(w->v) - w->n) {
		w->err = w->err != AL_OK ? w->err : AL_E_INV_LENGTH;
		return;
	}
	memcpy(w->v + w->n, v, n);
	w->n += n;
}

/* A field of bytes, optionally after one leading value (the f field's version). */
static void put_field_bytes(struct writer *w, unsigned type, int lead, const uint8_t *b, size_t len)
{
	uint8_t v[1 + (AL_INVOICE_FIELD_MAX * 8 + 4) / 5];
	size_t n = 0, off = lead >= 0;

	if (w->err != AL_OK)
		return;
	if (len > AL_INVOICE_FIELD_MAX) {
		w->err = AL_E_RANGE;
		return;
	}
	v[0] = (uint8_t)lead;
	w->err = al_b32_convert_bits(v + off, sizeof(v) - off, &n, 5, b, len, 8, true);
	put_field_values(w, type, v, n + off);
}

/* A number in the fewest values: "SHOULD use the minimum `data_length` possible". */
static void put_field_number(struct writer *w, unsigned type, uint64_t x)
{
	uint8_t v[13];
	size_t n = 0, i;
	uint64_t t;

	for (t = x; t != 0; t >>= 5)
		n++;
	for (i = 0; i < n; i++)
		v[i] = (uint8_t)(x >> 5 * (n - 1 - i) & 31);
	put_field_values(w, type, v, n);
}

static void format_amount(char *out, size_t cap, const al_invoice *inv)
{
	char digits[24];
	uint64_t a = inv->amount_msat, unit = 0;
	char letter = 'p';
	size_t i, n = 0;

	for (i = 0; i < sizeof(multipliers) / sizeof(multipliers[0]) && unit == 0; i++) {
		if (a % multipliers[i].msat == 0) {
			unit = multipliers[i].msat;
			letter = multipliers[i].letter;
		}
	}
	/* The `p` form is the amount in millisatoshi with one 0 appended. */
	a = unit ? a / unit : a;
	do
		digits[n++] = (char)('0' + a % 10);
	while ((a /= 10) != 0);
	if (cap < n + 3)
		return;
	for (i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	if (unit == 0)
		out[i++] = '0';
	if (letter)
		out[i++] = letter;
	out[i] = '\0';
}

al_err al_invoice_encode(char *out, size_t cap, size_t *outlen, const al_secp *secp,
                         const al_invoice *inv, const al_privkey *key)
{
	struct writer w;
	char hrp[AL_B32_HRP_MAXLEN + 1];
	uint8_t sig[65], hash[32], hop[AL_INVOICE_FIELD_MAX], feat[AL_FEATURES_MAX_BITS / 5 + 1];
	size_t i, k, nfeat = 0;
	al_pubkey pk;
	al_invoice check;
	int recid;
	al_err err;

	*outlen = 0;
	w.n = 0;
	w.err = AL_OK;
	if (cap > 0)
		out[0] = '\0';
	if (!al_invoice_prefix(inv->currency))
		return AL_E_INV_PREFIX;
	if (inv->timestamp >> 35)
		return AL_E_RANGE;
	if (inv->has_description && inv->description_len > AL_INVOICE_FIELD_MAX)
		return AL_E_RANGE;
	strcpy(hrp, al_invoice_prefix(inv->currency));
	if (inv->has_amount) {
		if (inv->amount_msat == 0 || inv->amount_msat > MAX_MSAT)
			return AL_E_INV_AMOUNT;
		format_amount(hrp + strlen(hrp), sizeof(hrp) - strlen(hrp), inv);
	}

	put(&w, inv->timestamp, TS_VALUES);
	put_field_bytes(&w, T_S, -1, inv->payment_secret, 32);
	put_field_bytes(&w, T_P, -1, inv->payment_hash, 32);
	if (inv->has_description)
		put_field_bytes(&w, T_D, -1, inv->description, inv->description_len);
	if (inv->has_description_hash)
		put_field_bytes(&w, T_H, -1, inv->description_hash, 32);
	if (inv->payee_explicit) {
		uint8_t payee[AL_PUBKEY_LEN];

		AL_TRY(al_pubkey_from_privkey(secp, &pk, key));
		al_pubkey_serialize(secp, payee, &pk);
		put_field_bytes(&w, T_N, -1, payee, AL_PUBKEY_LEN);
	}
	if (inv->has_expiry)
		put_field_number(&w, T_X, inv->expiry);
	if (inv->has_min_final_cltv)
		put_field_number(&w, T_C, inv->min_final_cltv_expiry_delta);
	for (i = 0; i < inv->n_fallbacks && i < AL_INVOICE_MAX_FALLBACKS; i++) {
		const al_invoice_fallback *f = &inv->fallbacks[i];

		put_field_bytes(&w, T_F, f->version & 31, f->program,
		                f->len <= sizeof(f->program) ? f->len : 0);
	}
	for (i = 0; i < inv->n_routes && i < AL_INVOICE_MAX_ROUTES; i++) {
		const al_invoice_route *r = &inv->routes[i];
		size_t len = 0;

		if (r->count == 0 || inv->n_hops > AL_INVOICE_MAX_HOPS ||
		    r->first + r->count > inv->n_hops || r->count > AL_INVOICE_FIELD_MAX / HOP_LEN)
			return AL_E_INV_HINT;
		for (k = r->first; k < (size_t)r->first + r->count; k++, len += HOP_LEN) {
			const al_invoice_hop *h = &inv->hops[k];

			memcpy(hop + len, h->pubkey, AL_PUBKEY_LEN);
			al_write_be64(hop + len + 33, h->scid);
			al_write_be32(hop + len + 41, h->fee_base_msat);
			al_write_be32(hop + len + 45, h->fee_proportional_millionths);
			hop[len + 49] = (uint8_t)(h->cltv_expiry_delta >> 8);
			hop[len + 50] = (uint8_t)h->cltv_expiry_delta;
		}
		put_field_bytes(&w, T_R, -1, hop, len);
	}
	if (inv->has_metadata)
		put_field_bytes(&w, T_M, -1, inv->metadata, inv->metadata_len);
	/* "if `9` contains non-zero bits: SHOULD use the minimum `data_length` possible.
	 * otherwise: MUST omit the `9` field altogether." */
	for (i = AL_FEATURES_MAX_BITS; i-- > 0;) {
		if (!al_features_has(&inv->features, (unsigned)i))
			continue;
		if (nfeat == 0) {
			nfeat = i / 5 + 1;
			memset(feat, 0, nfeat);
		}
		feat[nfeat - 1 - i / 5] |= (uint8_t)(1u << i % 5);
	}
	if (nfeat)
		put_field_values(&w, T_9, feat, nfeat);
	if (w.err != AL_OK)
		return w.err;

	AL_TRY(signing_hash(hash, hrp, w.v, w.n));
	AL_TRY(al_ecdsa_sign_recoverable(secp, sig, &recid, hash, key));
	sig[64] = (uint8_t)recid;
	{
		size_t n;

		if (SIG_VALUES > sizeof(w.v) - w.n)
			return AL_E_INV_LENGTH;
		AL_TRY(al_b32_convert_bits(w.v + w.n, sizeof(w.v) - w.n, &n, 5, sig, 65, 8, true));
		w.n += n;
	}
	err = al_b32_encode_long(out, cap, hrp, w.v, w.n, AL_B32_BECH32, AL_INVOICE_MAX_CHARS);
	if (err == AL_E_B32_LENGTH)
		err = AL_E_INV_LENGTH;
	/* Never emit what a reader (this one) would refuse. */
	if (err == AL_OK)
		err = al_invoice_decode(&check, secp, out, strlen(out));
	if (err != AL_OK) {
		if (cap > 0)
			memset(out, 0, cap);
		return err;
	}
	*outlen = strlen(out);
	return AL_OK;
}
