/* Fuzz target: the Esplora response parsers (chain/esplora.h), fed what a hostile chain
 * source may send. The first byte selects the parser; accepted values must be in the
 * ranges the parsers promise, and a sync step fed the same bytes as every answer must
 * end in an error or a commit, never a fault. */
#include <stdint.h>
#include <string.h>

#include "chain/esplora.h"
#include "chain/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t mem[8u << 20];

static void check_parsers(unsigned sel, const uint8_t *d, size_t n)
{
	al_esplora_status st;
	al_esplora_proof p;
	al_esplora_outspend o;
	al_esplora_block b;
	al_block_header h;
	uint8_t hash[32], ids[AL_SYNC_PAGE_MAX][32];
	uint32_t height;
	uint64_t rate;
	size_t cnt, conf;

	switch (sel % 8) {
	case 0:
		if (al_esplora_parse_height(&height, d, n) == AL_OK && height > AL_BLOCK_MAX_HEIGHT)
			__builtin_trap();
		break;
	case 1:
		if (al_esplora_parse_hash(hash, d, n) == AL_OK && n != 64 && n != 65)
			__builtin_trap();
		if (al_esplora_parse_header(&h, d, n) == AL_OK && n != 160 && n != 161)
			__builtin_trap();
		break;
	case 2:
		if (al_esplora_parse_status(&st, d, n) == AL_OK && st.confirmed &&
		    st.height > AL_BLOCK_MAX_HEIGHT)
			__builtin_trap();
		if (al_esplora_parse_block(&b, d, n) == AL_OK &&
		    (b.tx_count == 0 || b.tx_count > AL_BLOCK_MAX_TX ||
		     b.height > AL_BLOCK_MAX_HEIGHT))
			__builtin_trap();
		break;
	case 3:
		if (al_esplora_parse_proof(&p, d, n) == AL_OK && p.n_branch > AL_ESPLORA_MAX_BRANCH)
			__builtin_trap();
		break;
	case 4:
		if (al_esplora_parse_outspend(&o, d, n) != AL_OK)
			break;
		break;
	case 5:
		if (al_esplora_parse_txids(ids, AL_SYNC_PAGE_MAX, &cnt, &conf, d, n) == AL_OK &&
		    (cnt > AL_SYNC_PAGE_MAX || conf > cnt))
			__builtin_trap();
		break;
	case 6:
		if (al_esplora_parse_fee(&rate, 6, d, n) != AL_OK)
			break;
		break;
	default: {
		al_arena a;
		const uint8_t *raw;
		size_t len;
		al_tx tx;

		al_arena_init(&a, mem, sizeof(mem));
		memset(hash, 0, sizeof(hash));
		if (al_esplora_parse_tx_hex(&tx, &raw, &len, &a, hash, d, n) != AL_OK)
			break;
		break;
	}
	}
}

/* A sync step that gets these bytes for every request. */
static void check_sync(const uint8_t *d, size_t n)
{
	al_headers_config hc = {.net = AL_NET_REGTEST, .max_headers = 8, .max_stage = 8};
	al_sync_config cfg = {.max_new_headers = 4,
	                      .max_txs = 8,
	                      .max_outputs = 2,
	                      .max_scripts = 2,
	                      .raw_cap = 4096};
	static const uint8_t script[22] = {0x00, 0x14};
	uint8_t txid[32] = {1};
	al_headers h;
	al_arena a;
	al_sync s;

	al_genesis_header(&hc.checkpoint, AL_NET_REGTEST);
	al_arena_init(&a, mem, sizeof(mem));
	cfg.headers = &h;
	if (al_headers_init(&h, &a, &hc) != AL_OK || al_sync_init(&s, &a, &cfg) != AL_OK ||
	    al_sync_watch_script(&s, script, 22) != AL_OK ||
	    al_sync_watch_tx(&s, txid, false) != AL_OK ||
	    al_sync_watch_output(&s, txid, 0) != AL_OK)
		__builtin_trap();
	al_sync_begin(&s);
	for (int i = 0; i < 64; i++) {
		const al_sync_request *rq;

		if (al_sync_next(&s, &rq) != AL_OK || !rq)
			break;
		if (al_sync_on_response(&s, 200, d, n) != AL_OK)
			break;
	}
	al_sync_abort(&s);
	if (al_sync_tip_height(&s) > 8)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	check_parsers(data[0], data + 1, size - 1);
	if (data[0] == 0xff)
		check_sync(data + 1, size - 1);
	return 0;
}
