/* Script building (BIP 62 minimal pushes and numbers) and output templates. */
#include "btc/script.h"

#include <string.h>

#include "crypto/hash.h"

void al_script_op(al_wb *w, uint8_t op)
{
	al_wb_u8(w, op);
}

void al_script_push(al_wb *w, const void *data, size_t len)
{
	const uint8_t *d = data;

	/* BIP 62, push operators:
	 *   "Pushing an empty byte sequence must use OP_0.
	 *    Pushing a 1-byte sequence of byte 0x01 through 0x10 must use OP_n.
	 *    Pushing the byte 0x81 must use OP_1NEGATE.
	 *    Pushing any other byte sequence up to 75 bytes must use the normal data push
	 *    ... Pushing 76 to 255 bytes must use OP_PUSHDATA1.
	 *    Pushing 256 to 520 bytes must use OP_PUSHDATA2."
	 * Longer data (never a valid stack element) still gets the only encoding that
	 * fits it, so scripts that merely carry data can be built too. */
	if (len == 0) {
		al_wb_u8(w, AL_OP_0);
		return;
	}
	if (len == 1 && d[0] >= 1 && d[0] <= 16) {
		al_wb_u8(w, (uint8_t)(AL_OP_1 + d[0] - 1));
		return;
	}
	if (len == 1 && d[0] == 0x81) {
		al_wb_u8(w, AL_OP_1NEGATE);
		return;
	}
	if (len < AL_OP_PUSHDATA1) {
		al_wb_u8(w, (uint8_t)len);
	} else if (len <= 0xff) {
		al_wb_u8(w, AL_OP_PUSHDATA1);
		al_wb_u8(w, (uint8_t)len);
	} else if (len <= 0xffff) {
		al_wb_u8(w, AL_OP_PUSHDATA2);
		al_wb_le16(w, (uint16_t)len);
	} else if ((uint64_t)len <= 0xffffffffULL) {
		al_wb_u8(w, AL_OP_PUSHDATA4);
		al_wb_le32(w, (uint32_t)len);
	} else {
		al_wb_fail(w, AL_E_SCRIPT_SIZE);
		return;
	}
	al_wb_bytes(w, d, len);
}

void al_script_push_num(al_wb *w, int64_t n)
{
	uint8_t buf[9];
	size_t len = 0;
	uint64_t mag;
	bool neg = n < 0;

	/* BIP 62, numbers: "0: OP_0", "1..16: OP_1..OP_16", "-1: OP_1NEGATE", anything
	 * else a normal data push of its shortest encoding. */
	if (n == 0) {
		al_wb_u8(w, AL_OP_0);
		return;
	}
	if (n == -1) {
		al_wb_u8(w, AL_OP_1NEGATE);
		return;
	}
	if (n >= 1 && n <= 16) {
		al_wb_u8(w, (uint8_t)(AL_OP_1 + n - 1));
		return;
	}
	/* BIP 62: "The used encoding is little endian with an explicit sign bit (the
	 * highest bit of the last byte)." The shortest form adds a byte only when the
	 * magnitude already uses that bit. */
	mag = neg ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	while (mag) {
		buf[len++] = (uint8_t)(mag & 0xff);
		mag >>= 8;
	}
	if (buf[len - 1] & 0x80)
		buf[len++] = neg ? 0x80 : 0x00;
	else if (neg)
		buf[len - 1] |= 0x80;
	al_wb_u8(w, (uint8_t)len);
	al_wb_bytes(w, buf, len);
}

void al_script_push_pubkey(al_wb *w, const al_secp *ctx, const al_pubkey *pk)
{
	uint8_t ser[AL_PUBKEY_LEN];

	al_pubkey_serialize(ctx, ser, pk);
	al_script_push(w, ser, sizeof(ser));
}

void al_script_p2wpkh(al_wb *w, const uint8_t hash160[20])
{
	al_wb_u8(w, AL_OP_0);
	al_script_push(w, hash160, 20);
}

void al_script_p2wpkh_pubkey(al_wb *w, const al_secp *ctx, const al_pubkey *pk)
{
	uint8_t ser[AL_PUBKEY_LEN], h[20];

	al_pubkey_serialize(ctx, ser, pk);
	al_hash160(h, ser, sizeof(ser));
	al_script_p2wpkh(w, h);
}

void al_script_p2wsh(al_wb *w, const uint8_t *witness_script, size_t len)
{
	uint8_t h[32];

	/* BIP 141: "SHA256 of the witnessScript must match the 32-byte witness
	 * program." */
	al_sha256(h, witness_script, len);
	al_wb_u8(w, AL_OP_0);
	al_script_push(w, h, sizeof(h));
}

void al_script_p2pkh(al_wb *w, const uint8_t hash160[20])
{
	al_wb_u8(w, AL_OP_DUP);
	al_wb_u8(w, AL_OP_HASH160);
	al_script_push(w, hash160, 20);
	al_wb_u8(w, AL_OP_EQUALVERIFY);
	al_wb_u8(w, AL_OP_CHECKSIG);
}

void al_script_p2sh(al_wb *w, const uint8_t hash160[20])
{
	al_wb_u8(w, AL_OP_HASH160);
	al_script_push(w, hash160, 20);
	al_wb_u8(w, AL_OP_EQUAL);
}

void al_script_p2tr(al_wb *w, const uint8_t xonly[32])
{
	al_wb_u8(w, AL_OP_1);
	al_script_push(w, xonly, 32);
}

void al_script_p2wpkh_scriptcode(al_wb *w, const uint8_t hash160[20])
{
	/* BIP 143: "For P2WPKH witness program, the scriptCode is
	 * 0x1976a914{20-byte-pubkey-hash}88ac" (the 0x19 is the length prefix that the
	 * digest adds). */
	al_script_p2pkh(w, hash160);
}

/* ---- recognizers ---- */

static bool match(const uint8_t *s, size_t len, const uint8_t *head, size_t head_len,
                  size_t body_len, const uint8_t *tail, size_t tail_len, uint8_t *out)
{
	if (!s || len != head_len + body_len + tail_len)
		return false;
	if (memcmp(s, head, head_len) != 0)
		return false;
	if (tail_len && memcmp(s + head_len + body_len, tail, tail_len) != 0)
		return false;
	if (out)
		memcpy(out, s + head_len, body_len);
	return true;
}

bool al_script_is_p2wpkh(const uint8_t *s, size_t len, uint8_t out[20])
{
	static const uint8_t head[] = {AL_OP_0, 20};

	return match(s, len, head, sizeof(head), 20, NULL, 0, out);
}

bool al_script_is_p2wsh(const uint8_t *s, size_t len, uint8_t out[32])
{
	static const uint8_t head[] = {AL_OP_0, 32};

	return match(s, len, head, sizeof(head), 32, NULL, 0, out);
}

bool al_script_is_p2pkh(const uint8_t *s, size_t len, uint8_t out[20])
{
	static const uint8_t head[] = {AL_OP_DUP, AL_OP_HASH160, 20};
	static const uint8_t tail[] = {AL_OP_EQUALVERIFY, AL_OP_CHECKSIG};

	return match(s, len, head, sizeof(head), 20, tail, sizeof(tail), out);
}

bool al_script_is_p2sh(const uint8_t *s, size_t len, uint8_t out[20])
{
	static const uint8_t head[] = {AL_OP_HASH160, 20};
	static const uint8_t tail[] = {AL_OP_EQUAL};

	return match(s, len, head, sizeof(head), 20, tail, sizeof(tail), out);
}

bool al_script_is_p2tr(const uint8_t *s, size_t len, uint8_t out[32])
{
	static const uint8_t head[] = {AL_OP_1, 32};

	return match(s, len, head, sizeof(head), 32, NULL, 0, out);
}

bool al_script_is_witness_program(const uint8_t *s, size_t len, int *version, const uint8_t **prog,
                                  size_t *prog_len)
{
	/* BIP 141: "A scriptPubKey (or redeemScript as defined in BIP16/P2SH) that
	 * consists of a 1-byte push opcode (for 0 to 16) followed by a data push between
	 * 2 and 40 bytes gets a new special meaning." */
	if (!s || len < 4 || len > 42)
		return false;
	if (s[0] != AL_OP_0 && (s[0] < AL_OP_1 || s[0] > AL_OP_16))
		return false;
	if ((size_t)s[1] + 2 != len)
		return false;
	if (version)
		*version = s[0] == AL_OP_0 ? 0 : s[0] - AL_OP_1 + 1;
	if (prog)
		*prog = s + 2;
	if (prog_len)
		*prog_len = len - 2;
	return true;
}
