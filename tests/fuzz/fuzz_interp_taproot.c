/* Fuzz target: tapscript and legacy execution of arbitrary scripts and stacks.
 *
 * Input: flags (3 bytes, little-endian, masked to the defined flags), the input
 * sequence (4 bytes), an item count, then each stack item as a 2-byte length (mod
 * 601) and its bytes; the rest is the script. The script runs as the single leaf
 * (version 0xc0) of a taproot output whose commitment is computed here, so that the
 * control block always matches and tapscript itself is exercised; then as a bare
 * legacy scriptPubKey, and wrapped in P2SH with the items pushed by the scriptSig.
 * The arena must come back empty and match `why`; a too small arena must fail
 * cleanly with AL_E_NOMEM. A broken promise traps. */
#include <stdint.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "crypto/hash.h"

#define MAX_ITEMS 1004
#define ALL_FLAGS 0xfffffu

static const al_secp *fuzz_secp(void)
{
	static _Alignas(16) uint8_t mem[1 << 16];
	static al_secp *ctx;

	if (!ctx &&
	    (al_secp_size() > sizeof(mem) || al_secp_create(&ctx, mem, sizeof(mem), NULL) != AL_OK))
		__builtin_trap();
	return ctx;
}

/* P2TR output and control block for the single leaf `script`, internal key G. */
static void commit(uint8_t spk[34], uint8_t control[33], const uint8_t *script, size_t len)
{
	static const uint8_t g_x[32] = {0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac,
	                                0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b, 0x07,
	                                0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9,
	                                0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98};
	uint8_t pre[10], leaf[32], buf[64], tweak[32], q[33];
	al_sha256_ctx h;
	al_pubkey p;
	al_wb w;

	al_wb_init(&w, pre, sizeof(pre));
	al_wb_u8(&w, 0xc0);
	al_wb_compactsize(&w, len);
	al_tagged_hash_init(&h, "TapLeaf");
	al_sha256_update(&h, pre, w.len);
	al_sha256_update(&h, script, len);
	al_sha256_final(&h, leaf);
	memcpy(buf, g_x, 32);
	memcpy(buf + 32, leaf, 32);
	al_tagged_hash(tweak, "TapTweak", buf, 64);
	q[0] = 2;
	memcpy(q + 1, g_x, 32);
	if (al_pubkey_parse(fuzz_secp(), &p, q, 33) != AL_OK ||
	    al_pubkey_tweak_add(fuzz_secp(), &p, tweak) != AL_OK)
		__builtin_trap();
	al_pubkey_serialize(fuzz_secp(), q, &p);
	al_wb_init(&w, spk, 34);
	al_script_p2tr(&w, q + 1);
	control[0] = (uint8_t)(0xc0 | (q[0] & 1));
	memcpy(control + 1, g_x, 32);
}

static size_t parse_items(al_bytes *items, const uint8_t **p, size_t *left)
{
	size_t n, i, len;

	if (*left < 1)
		return 0;
	n = **p;
	(*p)++;
	(*left)--;
	if (n == 255)
		n = MAX_ITEMS - 3; /* many one-byte items, to reach the stack limit */
	for (i = 0; i < n && *left >= 2; i++) {
		len = ((size_t)(*p)[0] | (size_t)(*p)[1] << 8) % 601;
		*p += 2;
		*left -= 2;
		if (len > *left)
			len = *left;
		items[i].p = *p;
		items[i].len = len;
		*p += len;
		*left -= len;
	}
	return i;
}

static void check(al_err err, const al_interp_fail *why, const al_arena *a)
{
	if (err != why->err || al_arena_used(a) != 0 || err == AL_E_NOMEM)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static al_bytes items[MAX_ITEMS];
	static _Alignas(16) uint8_t scratch[1 << 17], txmem[1 << 15], tiny[512], sig[1 << 15];
	static const uint8_t prev[32] = {2};
	uint8_t spk[34], control[33], h[20];
	al_tx_out spent[1];
	al_interp_fail why;
	al_arena a, ta;
	uint32_t flags;
	size_t n, left, i;
	const uint8_t *p;
	al_err err;
	al_tx tx;
	al_wb w;

	if (size < 8)
		return 0;
	flags = ((uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16) & ALL_FLAGS;
	al_arena_init(&ta, txmem, sizeof(txmem));
	if (al_tx_init(&tx, &ta, 2, 0, 1, 1) != AL_OK ||
	    al_tx_add_input(&tx, prev, 0,
	                    (uint32_t)data[3] | (uint32_t)data[4] << 8 | (uint32_t)data[5] << 16 |
	                        (uint32_t)data[6] << 24) != AL_OK ||
	    al_tx_add_output(&tx, al_sat_of(1), prev, 1) != AL_OK)
		__builtin_trap();
	p = data + 7;
	left = size - 7;
	n = parse_items(items, &p, &left);

	/* Tapscript: witness = items, script, control block. */
	commit(spk, control, p, left);
	items[n] = (al_bytes){p, left};
	items[n + 1] = (al_bytes){control, sizeof(control)};
	if (al_tx_set_witness(&tx, &ta, 0, items, n + 2) != AL_OK)
		return 0; /* tx arena too small for this many items */
	spent[0] = (al_tx_out){al_sat_of(1000), {spk, sizeof(spk)}};
	al_arena_init(&a, scratch, sizeof(scratch));
	err = al_interp_verify_tx_input(fuzz_secp(), &tx, 0, spent, flags, &a, &why);
	check(err, &why, &a);

	/* Legacy: the script as a bare scriptPubKey, no scriptSig, no witness. */
	if (al_tx_set_witness(&tx, &ta, 0, NULL, 0) != AL_OK)
		__builtin_trap();
	spent[0] = (al_tx_out){al_sat_of(1000), {p, left}};
	err = al_interp_verify_tx_input(fuzz_secp(), &tx, 0, spent, flags, &a, &why);
	check(err, &why, &a);

	/* P2SH: the scriptSig pushes the items, then the script as redeemScript. */
	al_wb_init(&w, sig, sizeof(sig));
	for (i = 0; i < n; i++)
		al_script_push(&w, items[i].p, items[i].len);
	al_script_push(&w, p, left);
	if (w.len <= sizeof(sig)) {
		tx.in[0].script_sig = (al_bytes){sig, w.len};
		al_hash160(h, p, left);
		al_wb_init(&w, spk, sizeof(spk));
		al_script_p2sh(&w, h);
		spent[0] = (al_tx_out){al_sat_of(1000), {spk, w.len}};
		err = al_interp_verify_tx_input(fuzz_secp(), &tx, 0, spent, flags, &a, &why);
		check(err, &why, &a);
	}

	/* Too little memory fails cleanly and gives everything back. */
	al_arena_init(&a, tiny, sizeof(tiny));
	if (al_interp_verify_tx_input(fuzz_secp(), &tx, 0, spent, flags, &a, NULL) != AL_E_NOMEM ||
	    al_arena_used(&a) != 0)
		__builtin_trap();
	return 0;
}
