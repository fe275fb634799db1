/* Fuzz the BOLT 11 decoder, and the writer against it.
 *
 * First byte even: the rest is an invoice string, as a wallet or user hands it over.
 * First byte odd: the second picks a human-readable part, the rest are the data
 * values (5 bits of each byte) before the signature; the target signs them with a
 * fixed key and adds the checksum, so the field parser sees well-formed envelopes
 * rather than checksum failures.
 *
 * Whatever decodes must satisfy the header's promises (limits, UTF-8, consistent
 * route hints), must encode again (the writer accepts every decoded invoice), and the
 * re-encoded string must decode to the same fields. */
#include <stdlib.h>
#include <string.h>

#include "btc/bech32.h"
#include "crypto/hash.h"
#include "crypto/secp.h"
#include "ln/invoice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static al_secp *secp;
static const al_privkey key = {{0x11, 0x22, 0x33}};

static const char *const hrps[] = {"lnbc", "lnbc25m", "lntb1u", "lnbcrt10p", "lntbs", "lnbc1n"};

static void setup(void)
{
	static _Alignas(16) uint8_t mem[1 << 16];

	if (!secp && (al_secp_size() > sizeof(mem) ||
	              al_secp_create(&secp, mem, sizeof(mem), NULL) != AL_OK))
		abort();
}

/* Build a signed, checksummed invoice from an HRP and raw data values. */
static size_t envelope(char *out, size_t cap, const char *hrp, const uint8_t *in, size_t n)
{
	static uint8_t v[AL_INVOICE_MAX_CHARS + 120], packed[AL_INVOICE_MAX_CHARS];
	uint8_t sig[65], hash[32];
	size_t i, len, ns;
	int recid;
	al_sha256_ctx ctx;

	if (n > AL_INVOICE_MAX_CHARS - 200)
		n = AL_INVOICE_MAX_CHARS - 200;
	for (i = 0; i < n; i++)
		v[i] = in[i] & 31;
	if (al_b32_convert_bits(packed, sizeof(packed), &len, 8, v, n, 5, true) != AL_OK)
		abort();
	al_sha256_init(&ctx);
	al_sha256_update(&ctx, hrp, strlen(hrp));
	al_sha256_update(&ctx, packed, len);
	al_sha256_final(&ctx, hash);
	if (al_ecdsa_sign_recoverable(secp, sig, &recid, hash, &key) != AL_OK)
		abort();
	sig[64] = (uint8_t)recid;
	if (al_b32_convert_bits(v + n, sizeof(v) - n, &ns, 5, sig, 65, 8, true) != AL_OK ||
	    al_b32_encode_long(out, cap, hrp, v, n + ns, AL_B32_BECH32, AL_INVOICE_MAX_CHARS) !=
	        AL_OK)
		return 0;
	return strlen(out);
}

static void check(const al_invoice *inv)
{
	static al_invoice back;
	static char enc[AL_INVOICE_MAX_CHARS + 1];
	size_t i, len;

	if (inv->description_len > AL_INVOICE_FIELD_MAX ||
	    inv->metadata_len > AL_INVOICE_FIELD_MAX ||
	    inv->n_fallbacks > AL_INVOICE_MAX_FALLBACKS || inv->n_routes > AL_INVOICE_MAX_ROUTES ||
	    inv->n_hops > AL_INVOICE_MAX_HOPS ||
	    inv->has_description == inv->has_description_hash || inv->timestamp >> 35 ||
	    inv->recid < 0 || inv->recid > 3)
		abort();
	for (i = 0, len = 0; i < inv->n_routes; i++) {
		if (inv->routes[i].first != len || inv->routes[i].count == 0)
			abort();
		len += inv->routes[i].count;
	}
	if (len != inv->n_hops)
		abort();
	if (al_invoice_encode(enc, sizeof(enc), &len, secp, inv, &key) != AL_OK ||
	    al_invoice_decode(&back, secp, enc, len) != AL_OK)
		abort();
	memcpy(back.sighash, inv->sighash, 32);
	memcpy(back.signature, inv->signature, 64);
	memcpy(back.payee, inv->payee, AL_PUBKEY_LEN);
	back.recid = inv->recid;
	if (memcmp(&back, inv, sizeof(back)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static al_invoice inv;
	static char str[AL_INVOICE_MAX_CHARS + 1];
	const char *s = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;

	setup();
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (size < 2)
			return 0;
		len = envelope(str, sizeof(str), hrps[data[1] % (sizeof(hrps) / sizeof(hrps[0]))],
		               data + 2, size - 2);
		s = str;
	}
	if (al_invoice_decode(&inv, secp, s, len) == AL_OK)
		check(&inv);
	return 0;
}
