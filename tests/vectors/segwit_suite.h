/* The runner shared by vec_bip173.c and vec_bip350.c: both files have the same four
 * sections (valid strings, invalid strings with a reason, valid segwit addresses
 * with their scriptPubKey, invalid addresses with a reason). Each entry counts as
 * one vector. Strings are taken from `string_hex` (the files say it is
 * authoritative: some cases carry raw bytes 0x20, 0x7F, 0x80 or 0xFF).
 *
 * Included by exactly one .c file per executable. */
#ifndef ALIGHT_TESTS_SEGWIT_SUITE_H
#define ALIGHT_TESTS_SEGWIT_SUITE_H

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "btc/address.h"
#include "btc/bech32.h"
#include "test.h"
#include "vectors.h"

/* Each reason the two BIPs give, and the error that names it. */
static const struct {
	const char *reason;
	al_err err;
} reasons[] = {
    {"HRP character out of range", AL_E_B32_CHAR},
    {"overall max length exceeded", AL_E_B32_LENGTH},
    {"No separator character", AL_E_B32_NO_SEP},
    {"Empty HRP", AL_E_B32_HRP},
    {"Invalid data character", AL_E_B32_CHAR},
    {"Too short checksum", AL_E_B32_LENGTH},
    {"Invalid character in checksum", AL_E_B32_CHAR},
    {"checksum calculated with uppercase form of HRP", AL_E_B32_CHECKSUM},
    {"Invalid human-readable part", AL_E_ADDR_HRP},
    {"Invalid checksum", AL_E_B32_CHECKSUM},
    {"Invalid checksum (Bech32 instead of Bech32m)", AL_E_ADDR_VARIANT},
    {"Invalid checksum (Bech32m instead of Bech32)", AL_E_ADDR_VARIANT},
    {"Invalid witness version", AL_E_ADDR_WITVER},
    {"Invalid program length", AL_E_ADDR_PROGLEN},
    {"Invalid program length (1 byte)", AL_E_ADDR_PROGLEN},
    {"Invalid program length (41 bytes)", AL_E_ADDR_PROGLEN},
    {"Invalid program length for witness version 0 (per BIP141)", AL_E_ADDR_PROGLEN},
    {"Mixed case", AL_E_B32_CASE},
    {"zero padding of more than 4 bits", AL_E_B32_PADDING},
    {"Non-zero padding in 8-to-5 conversion", AL_E_B32_PADDING},
    {"Empty data section", AL_E_ADDR_EMPTY},
};

/* AL_OK (never a failure code) for a reason the table does not know, so that an
 * unmapped reason fails its vector. */
static al_err reason_err(const char *reason)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcasecmp(reasons[i].reason, reason) == 0)
			return reasons[i].err;
	return AL_OK;
}

static const char *vec_bytes(const json_t *v, size_t *len)
{
	return (const char *)al_t_unhex(al_v_str(v, "string_hex"), len);
}

static void lower_copy(char *out, const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	out[len] = '\0';
}

/* Decode a valid string: it must decode with `want`, and encoding the result must
 * give back the string in lower case. */
static bool valid_string(const char *s, size_t len, al_b32_variant want)
{
	char hrp[AL_B32_HRP_MAXLEN + 1], enc[AL_B32_MAXLEN + 1], low[AL_B32_MAXLEN + 1];
	uint8_t data[AL_B32_MAXLEN];
	al_b32_variant got = 0;
	size_t n = 0;

	if (len > AL_B32_MAXLEN)
		return false;
	if (al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &got, s, len) != AL_OK)
		return false;
	if (got != want)
		return false;
	if (al_b32_encode(enc, sizeof(enc), hrp, data, n, got) != AL_OK)
		return false;
	lower_copy(low, s, len);
	return strcmp(enc, low) == 0;
}

static void run_strings(al_v_suite *s, const json_t *root, const char *valid_key,
                        const char *invalid_key, al_b32_variant variant)
{
	const json_t *v;
	size_t i, len;

	json_array_foreach(json_object_get(root, valid_key), i, v)
	{
		const char *str = vec_bytes(v, &len);
		al_v_result(s, valid_string(str, len, variant), "%s %s", valid_key,
		            al_v_str(v, "string"));
	}
	json_array_foreach(json_object_get(root, invalid_key), i, v)
	{
		char hrp[AL_B32_HRP_MAXLEN + 1];
		uint8_t data[AL_B32_MAXLEN];
		al_b32_variant got;
		size_t n;
		const char *str = vec_bytes(v, &len);
		al_err want = reason_err(al_v_str(v, "reason"));
		al_err e = al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &got, str, len);
		al_v_result(s, want != AL_OK && e == want, "%s %s (%s): got %s, want %s",
		            invalid_key, al_v_str(v, "string"), al_v_str(v, "reason"),
		            al_err_name(e), al_err_name(want));
	}
}

/* The network an address names by its prefix; `*known` false if none. */
static al_net addr_net(const char *s, size_t len, bool *known)
{
	char low[AL_B32_MAXLEN + 1];

	*known = true;
	if (len > AL_B32_MAXLEN)
		len = AL_B32_MAXLEN;
	lower_copy(low, s, len);
	if (strncmp(low, "bcrt1", 5) == 0)
		return AL_NET_REGTEST;
	if (strncmp(low, "bc1", 3) == 0)
		return AL_NET_MAINNET;
	if (strncmp(low, "tb1", 3) == 0)
		return AL_NET_TESTNET;
	*known = false;
	return AL_NET_MAINNET;
}

/* A valid address: decodes for its network to the stated scriptPubKey, and encodes
 * back to itself in lower case. */
static bool valid_address(const char *s, size_t len, const uint8_t *spk, size_t spklen)
{
	uint8_t prog[AL_WITPROG_MAX], script[AL_SEGWIT_SCRIPT_MAXLEN];
	char enc[AL_SEGWIT_ADDR_BUFLEN], low[AL_B32_MAXLEN + 1];
	size_t proglen = 0, scriptlen = 0;
	unsigned ver = 0;
	bool known;
	al_net net = addr_net(s, len, &known);

	if (!known || len > AL_B32_MAXLEN)
		return false;
	if (al_segwit_addr_decode(&ver, prog, &proglen, net, s, len) != AL_OK)
		return false;
	if (al_segwit_script(script, sizeof(script), &scriptlen, ver, prog, proglen) != AL_OK)
		return false;
	if (scriptlen != spklen || memcmp(script, spk, spklen) != 0)
		return false;
	if (al_segwit_addr_encode(enc, sizeof(enc), net, ver, prog, proglen) != AL_OK)
		return false;
	lower_copy(low, s, len);
	return strcmp(enc, low) == 0;
}

/* An invalid address fails with `want` for the network its prefix names, or for
 * every network when the prefix names none. */
static bool invalid_address(const char *s, size_t len, al_err want, al_err *got)
{
	uint8_t prog[AL_WITPROG_MAX];
	size_t proglen;
	unsigned ver;
	bool known, ok = true;
	al_net net = addr_net(s, len, &known);
	int n;

	*got = AL_OK;
	for (n = AL_NET_MAINNET; n <= AL_NET_REGTEST; n++) {
		if (known && n != (int)net)
			continue;
		*got = al_segwit_addr_decode(&ver, prog, &proglen, (al_net)n, s, len);
		ok = ok && want != AL_OK && *got == want;
	}
	return ok;
}

/* BIP 173's own v1+ example addresses: valid Bech32 strings whose payload is the
 * stated program, but BIP 350 outcome: rejected as an address, for the checksum
 * variant alone. */
static bool bip173_v1plus(const char *s, size_t len, const uint8_t *spk, size_t spklen)
{
	char hrp[AL_B32_HRP_MAXLEN + 1];
	uint8_t data[AL_B32_MAXLEN], prog[AL_B32_MAXLEN];
	uint8_t progbuf[AL_WITPROG_MAX];
	al_b32_variant variant = 0;
	size_t n = 0, proglen = 0, plen2;
	unsigned ver;
	bool known;
	al_net net = addr_net(s, len, &known);

	if (!known || spklen < 2 || spk[0] < 0x51 || spk[0] > 0x60)
		return false;
	if (al_segwit_addr_decode(&ver, progbuf, &plen2, net, s, len) != AL_E_ADDR_VARIANT)
		return false;
	if (al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, &variant, s, len) != AL_OK ||
	    variant != AL_B32_BECH32 || n < 1 || data[0] != spk[0] - 0x50)
		return false;
	if (al_b32_convert_bits(prog, sizeof(prog), &proglen, 8, data + 1, n - 1, 5, false) !=
	    AL_OK)
		return false;
	return proglen == spklen - 2 && spk[1] == proglen && memcmp(prog, spk + 2, proglen) == 0;
}

/* `bip173`: true when v1+ example addresses are to be held to BIP 350. */
static void run_addresses(al_v_suite *s, const json_t *root, bool bip173)
{
	const json_t *v;
	size_t i, len, spklen;

	json_array_foreach(json_object_get(root, "valid_segwit_addresses"), i, v)
	{
		const char *str = vec_bytes(v, &len);
		const uint8_t *spk = al_t_unhex(al_v_str(v, "scriptpubkey"), &spklen);
		bool ok;

		/* BIP 350 changes the outcome for BIP 173's v1+ examples (scriptPubKey
		 * starting OP_1..OP_16): they are Bech32, which BIP 350 allows only for
		 * version 0, so the address must be rejected (AL_E_ADDR_VARIANT); what BIP
		 * 173 states about them (valid checksum, that program) is still checked at
		 * the Bech32 layer. */
		if (bip173 && spklen > 0 && spk[0] != 0x00)
			ok = bip173_v1plus(str, len, spk, spklen);
		else
			ok = valid_address(str, len, spk, spklen);
		al_v_result(s, ok, "valid address %s", al_v_str(v, "string"));
	}
	/* BIP 350 leaves the outcome of BIP 173's invalid addresses unchanged: the
	 * variant is checked last, so each keeps the reason BIP 173 gives (for example
	 * the v2 "zero padding of more than 4 bits" case is also Bech32 for v2, but
	 * fails on its padding first). */
	json_array_foreach(json_object_get(root, "invalid_segwit_addresses"), i, v)
	{
		const char *str = vec_bytes(v, &len);
		al_err want = reason_err(al_v_str(v, "reason")), got;
		bool ok = invalid_address(str, len, want, &got);
		al_v_result(s, ok, "invalid address %s (%s): got %s, want %s",
		            al_v_str(v, "string"), al_v_str(v, "reason"), al_err_name(got),
		            al_err_name(want));
	}
}

#endif
