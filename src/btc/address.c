#include "btc/address.h"

#include <string.h>

#include "btc/bech32.h"

const char *al_net_hrp(al_net net)
{
	switch (net) {
	case AL_NET_MAINNET:
		return "bc";
	case AL_NET_TESTNET:
		return "tb";
	case AL_NET_REGTEST:
		return "bcrt";
	}
	return NULL;
}

static al_err check_program(unsigned witver, size_t proglen)
{
	if (witver > AL_WITVER_MAX)
		return AL_E_ADDR_WITVER;
	if (proglen < AL_WITPROG_MIN || proglen > AL_WITPROG_MAX)
		return AL_E_ADDR_PROGLEN;
	/* BIP 141: "If the version byte is 0, but the witness program is neither 20 nor
	 * 32 bytes, the script must fail." */
	if (witver == 0 && proglen != 20 && proglen != 32)
		return AL_E_ADDR_PROGLEN;
	return AL_OK;
}

/* BIP 350: "Version 0 outputs [...] use Bech32", "version 1 through 16 [...] use
 * Bech32m". */
static al_b32_variant variant_for(unsigned witver)
{
	return witver == 0 ? AL_B32_BECH32 : AL_B32_BECH32M;
}

al_err al_segwit_addr_encode(char *out, size_t outcap, al_net net, unsigned witver,
                             const uint8_t *prog, size_t proglen)
{
	uint8_t data[1 + (AL_WITPROG_MAX * 8 + 4) / 5];
	const char *hrp = al_net_hrp(net);
	size_t n = 0;

	if (outcap)
		out[0] = '\0';
	if (!hrp)
		return AL_E_ARG;
	AL_TRY(check_program(witver, proglen));
	data[0] = (uint8_t)witver;
	AL_TRY(al_b32_convert_bits(data + 1, sizeof(data) - 1, &n, 5, prog, proglen, 8, true));
	return al_b32_encode(out, outcap, hrp, data, 1 + n, variant_for(witver));
}

al_err al_segwit_addr_decode(unsigned *witver, uint8_t prog[AL_WITPROG_MAX], size_t *proglen,
                             al_net net, const char *addr, size_t len)
{
	char hrp[AL_B32_HRP_MAXLEN + 1];
	uint8_t data[AL_B32_MAXLEN], bytes[AL_B32_MAXLEN];
	const char *want = al_net_hrp(net);
	al_b32_variant variant;
	size_t ndata = 0, nbytes = 0;

	*witver = 0;
	*proglen = 0;
	if (!want)
		return AL_E_ARG;
	AL_TRY(al_b32_decode(hrp, sizeof(hrp), data, sizeof(data), &ndata, &variant, addr, len));
	/* BIP 173: "MUST verify that the human-readable part is "bc" for mainnet and
	 * "tb" for testnet." */
	if (strcmp(hrp, want) != 0)
		return AL_E_ADDR_HRP;
	if (ndata == 0)
		return AL_E_ADDR_EMPTY;
	/* "MUST verify that the first decoded data value (the witness version) is
	 * between 0 and 16, inclusive." */
	if (data[0] > AL_WITVER_MAX)
		return AL_E_ADDR_WITVER;
	AL_TRY(
	    al_b32_convert_bits(bytes, sizeof(bytes), &nbytes, 8, data + 1, ndata - 1, 5, false));
	AL_TRY(check_program(data[0], nbytes));
	/* Checked last, as BIP 350's reference decoder does, so that an address wrong
	 * in any other way keeps the reason BIP 173 gives for it. */
	if (variant != variant_for(data[0]))
		return AL_E_ADDR_VARIANT;
	memcpy(prog, bytes, nbytes);
	*witver = data[0];
	*proglen = nbytes;
	return AL_OK;
}

al_err al_segwit_script(uint8_t *out, size_t outcap, size_t *outlen, unsigned witver,
                        const uint8_t *prog, size_t proglen)
{
	*outlen = 0;
	AL_TRY(check_program(witver, proglen));
	if (outcap < 2 + proglen)
		return AL_E_BUFSIZE;
	/* BIP 173: "witness version n is stored as OP_n. OP_0 is encoded as 0x00, but
	 * OP_1 through OP_16 are encoded as 0x51 though 0x60". */
	out[0] = (uint8_t)(witver == 0 ? 0x00 : 0x50 + witver);
	out[1] = (uint8_t)proglen;
	memcpy(out + 2, prog, proglen);
	*outlen = 2 + proglen;
	return AL_OK;
}
