/* Fuzz target: the script interpreter on arbitrary witness scripts and stacks.
 *
 * Input: flags (2 bytes, little-endian, masked to the first 12 flags, plus
 * AL_INTERP_WITNESS), tx version,
 * locktime and input sequence (4 bytes each), an item count, then each stack item as
 * a 2-byte length (mod 601) and its bytes; the rest is the witness script. It runs
 * twice: directly as a witness script and as a full P2WSH spend of that script,
 * which must agree exactly. The arena must come back empty; a too small arena must
 * fail cleanly with AL_E_NOMEM. A broken promise traps. */
#include <stdint.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/tx.h"

#define MAX_ITEMS 1002
#define ALL_FLAGS 0x0fffu

static const al_secp *fuzz_secp(void)
{
	static _Alignas(16) uint8_t mem[1 << 16];
	static al_secp *ctx;

	if (!ctx &&
	    (al_secp_size() > sizeof(mem) || al_secp_create(&ctx, mem, sizeof(mem), NULL) != AL_OK))
		__builtin_trap();
	return ctx;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
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
		n = MAX_ITEMS - 1; /* many one-byte items, to reach the stack limit */
	for (i = 0; i < n; i++) {
		if (*left < 2)
			break;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static al_bytes items[MAX_ITEMS];
	static _Alignas(16) uint8_t scratch[1 << 17], txmem[1 << 15], tiny[512];
	static const uint8_t prev[32] = {1};
	uint8_t spk[34];
	al_interp_fail why1, why2;
	al_arena a, ta;
	al_err e1, e2;
	uint32_t flags;
	size_t n, left;
	const uint8_t *p;
	al_tx tx;
	al_wb w;

	if (size < 14)
		return 0;
	/* Witness programs are always validated here, so both runs are segwit v0. */
	flags = (((uint32_t)data[0] | (uint32_t)data[1] << 8) & ALL_FLAGS) | AL_INTERP_WITNESS;
	al_arena_init(&ta, txmem, sizeof(txmem));
	if (al_tx_init(&tx, &ta, le32(data + 2), le32(data + 6), 1, 1) != AL_OK ||
	    al_tx_add_input(&tx, prev, 0, le32(data + 10)) != AL_OK ||
	    al_tx_add_output(&tx, al_sat_of(1), prev, 1) != AL_OK)
		__builtin_trap();
	p = data + 14;
	left = size - 14;
	n = parse_items(items, &p, &left);

	al_arena_init(&a, scratch, sizeof(scratch));
	e1 = al_interp_exec_witness_script(fuzz_secp(), &tx, 0, p, left, items, n, al_sat_of(1000),
	                                   flags, &a, &why1);
	if (e1 != why1.err || al_arena_used(&a) != 0 || e1 == AL_E_NOMEM)
		__builtin_trap();

	/* The same as a P2WSH spend: witness = items, then the script. */
	items[n].p = p;
	items[n].len = left;
	if (al_tx_set_witness(&tx, &ta, 0, items, n + 1) != AL_OK)
		return 0; /* tx arena too small for this many items */
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, p, left);
	e2 = al_interp_verify_input(fuzz_secp(), &tx, 0, spk, sizeof(spk), al_sat_of(1000), flags,
	                            &a, &why2);
	if (e2 != e1 || why2.opcode != why1.opcode || why2.offset != why1.offset ||
	    al_arena_used(&a) != 0)
		__builtin_trap();

	/* Too little memory fails cleanly and gives everything back. */
	al_arena_init(&a, tiny, sizeof(tiny));
	if (al_interp_exec_witness_script(fuzz_secp(), &tx, 0, p, left, items, n, al_sat_of(1000),
	                                  flags, &a, NULL) != AL_E_NOMEM ||
	    al_arena_used(&a) != 0)
		__builtin_trap();
	return 0;
}
