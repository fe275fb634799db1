/* Fuzz target: block headers, BIP 37 merkleblocks and whole blocks from untrusted
 * bytes (what a chain source or a peer hands the node).
 *
 * The first byte selects the parser. Accepted inputs must reserialize to themselves
 * (headers, merkleblocks rebuilt from their matches) and the checks must run without
 * fault; a broken promise traps. */
#include <stdint.h>
#include <string.h>

#include "chain/block.h"

static uint8_t mem[1 << 20];

static void fuzz_header(const uint8_t *data, size_t size)
{
	al_block_header h;
	uint8_t out[AL_BLOCK_HEADER_LEN];
	al_u256 work;

	if (al_block_header_parse(&h, data, size) != AL_OK)
		return;
	al_block_header_write(out, &h);
	if (size != AL_BLOCK_HEADER_LEN || memcmp(out, data, size) != 0)
		__builtin_trap();
	if (al_block_header_check_pow(&h, AL_NET_REGTEST) == AL_OK) {
		/* Core accepts non-canonical bits (0x2200007f is 0x7f << 248, under regtest's
		 * limit): what must hold is that the target is within the limit and that its
		 * canonical encoding names the same target. */
		al_u256 target, again, limit;

		if (al_bits_to_target(&target, h.bits) != AL_OK)
			__builtin_trap();
		al_pow_limit(&limit, AL_NET_REGTEST);
		if (al_u256_cmp(&target, &limit) > 0)
			__builtin_trap();
		if (al_bits_to_target(&again, al_target_to_bits(&target)) != AL_OK ||
		    al_u256_cmp(&again, &target) != 0)
			__builtin_trap();
	}
	al_block_work(&work, h.bits);
}

static void fuzz_merkleblock(const uint8_t *data, size_t size)
{
	static uint8_t matched[64][32];
	static uint32_t pos[64];
	al_merkleblock mb;
	size_t n;

	if (al_merkleblock_parse(&mb, data, size) != AL_OK)
		return;
	if (mb.n_hashes > mb.n_tx || mb.n_flag_bytes * 8 < mb.n_hashes)
		__builtin_trap();
	if (al_merkleblock_extract(&mb, matched, pos, 64, &n) != AL_OK)
		return;
	for (size_t i = 1; i < n; i++) {
		if (pos[i] <= pos[i - 1] || pos[i] >= mb.n_tx)
			__builtin_trap();
	}
}

static void fuzz_full_block(const uint8_t *data, size_t size)
{
	al_arena a;
	al_block b;

	al_arena_init(&a, mem, sizeof(mem));
	if (al_block_parse(&b, &a, data, size) != AL_OK) {
		if (al_arena_used(&a) != 0)
			__builtin_trap();
		return;
	}
	if (b.n_tx == 0)
		__builtin_trap();
	if (al_block_check(&b, AL_NET_REGTEST, 1, &a) == AL_OK && !al_tx_is_coinbase(&b.tx[0]))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_header(data + 1, size - 1);
		break;
	case 1:
		fuzz_merkleblock(data + 1, size - 1);
		break;
	default:
		fuzz_full_block(data + 1, size - 1);
		break;
	}
	return 0;
}
