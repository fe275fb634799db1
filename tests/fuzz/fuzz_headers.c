/* Fuzz target: a saved header chain (chain/headers.h al_headers_load: the enclave's
 * sealed copy, which a host can only replay, but whose every header is checked again)
 * and a sync's saved state (chain/sync.h al_sync_load) on top of it.
 *
 * The first byte selects the loader. A chain that loads saves back to the same bytes
 * and keeps its rules (links, work); one that does not leaves the chain as it was. A
 * sync state that loads saves and loads back to the same state. A broken promise traps. */
#include <stdint.h>
#include <string.h>

#include "chain/headers.h"
#include "chain/sync.h"

static uint8_t mem[4u << 20], out[1u << 16], again[1u << 16];

static void chain(al_headers *h, al_arena *a)
{
	al_headers_config c = {.net = AL_NET_REGTEST, .max_headers = 64, .max_stage = 8};

	al_arena_init(a, mem, sizeof(mem));
	al_genesis_header(&c.checkpoint, AL_NET_REGTEST);
	if (al_headers_init(h, a, &c) != AL_OK)
		__builtin_trap();
}

static void fuzz_chain(const uint8_t *data, size_t size)
{
	al_headers h;
	al_arena a;
	al_wb w;

	chain(&h, &a);
	if (al_headers_load(&h, data, size) != AL_OK) {
		if (al_headers_gen(&h) != 0 || al_headers_tip_height(&h) != 0)
			__builtin_trap();
		return;
	}
	al_wb_init(&w, out, sizeof(out));
	al_headers_save(&h, &w, 0);
	if (!al_wb_ok(&w) || w.len != size || memcmp(out, data, size))
		__builtin_trap();
	if (al_headers_tip_height(&h) > AL_BLOCK_MAX_HEIGHT)
		__builtin_trap();
	for (uint32_t k = al_headers_base_height(&h) + 1; k <= al_headers_tip_height(&h); k++) {
		const al_hdr *p = al_headers_at(&h, k - 1), *c = al_headers_at(&h, k);

		if (memcmp(c->h.prev_hash, p->hash, 32) || al_u256_cmp(&c->work, &p->work) <= 0)
			__builtin_trap();
	}
}

static void fuzz_sync_state(const uint8_t *data, size_t size)
{
	al_sync_config cfg = {.max_new_headers = 2,
	                      .max_txs = 16,
	                      .max_outputs = 4,
	                      .max_scripts = 8,
	                      .raw_cap = 4096};
	al_headers h;
	al_arena a;
	al_sync s;
	al_wb w;
	size_t n;

	chain(&h, &a);
	cfg.headers = &h;
	if (al_sync_init(&s, &a, &cfg) != AL_OK)
		__builtin_trap();
	if (al_sync_load(&s, data, size) != AL_OK)
		return;
	for (size_t i = 0; i < al_sync_tx_count(&s); i++) {
		/* Nothing the chain does not hold counts: it is the genesis block alone. */
		const al_sync_tx *t = al_sync_tx_at(&s, i);

		if (al_sync_confirmations(&s, t) > 1)
			__builtin_trap();
	}
	al_wb_init(&w, out, sizeof(out));
	al_sync_save(&s, &w);
	if (!al_wb_ok(&w))
		__builtin_trap();
	n = w.len;
	if (al_sync_init(&s, &a, &cfg) != AL_OK || al_sync_load(&s, out, n) != AL_OK)
		__builtin_trap();
	al_wb_init(&w, again, sizeof(again));
	al_sync_save(&s, &w);
	if (!al_wb_ok(&w) || w.len != n || memcmp(out, again, n))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_sync_state(data + 1, size - 1);
	else
		fuzz_chain(data + 1, size - 1);
	return 0;
}
