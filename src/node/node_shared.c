/* What the nodes of an enclave share (see node.h, "what the nodes of an enclave share"):
 * the header chain, one-call scratch, and fee estimates. */
#include <string.h>

#include "btc/interp.h"
#include "chain/checkpoint.h"
#include "node/node_int.h"

#define MAX_HEADERS       20000
#define MAX_STAGE         20000
#define MAX_STAGE_MAINNET 131072
/* The wallet's work in one call: the script interpreter, and transactions of up to
 * 400,000 bytes parsed (al_tx's parts are about 4 times the bytes) or built. The sync's
 * own parsing (AL_SYNC_SCRATCH) never runs while the wallet holds scratch. */
#define SCRATCH_EXTRA (4u << 20)

static void config_of(const al_node_shared_config *in, al_headers_config *hc, bool *chain)
{
	memset(hc, 0, sizeof(*hc));
	hc->net = in->net;
	hc->max_headers = in->max_headers ? in->max_headers : MAX_HEADERS;
	hc->max_stage = in->max_stage               ? in->max_stage
	                : in->net == AL_NET_MAINNET ? MAX_STAGE_MAINNET
	                                            : MAX_STAGE;
	*chain = al_checkpoint(in->net, &hc->checkpoint, &hc->checkpoint_height) == AL_OK;
}

static size_t scratch_size(void)
{
	return al_interp_scratch_size() + SCRATCH_EXTRA;
}

size_t al_node_shared_mem_size(const al_node_shared_config *cfg)
{
	al_headers_config hc;
	bool chain;

	config_of(cfg, &hc, &chain);
	/* Without a header chain no wallet opens: no scratch either. */
	return sizeof(al_node_shared) + 16 +
	       (chain ? scratch_size() + 16 + al_headers_mem_size(&hc) : 0);
}

al_err al_node_shared_init(al_node_shared **out, al_arena *a, const al_node_shared_config *cfg)
{
	size_t mark = al_arena_mark(a);
	al_headers_config hc;
	al_node_shared *s;
	void *mem;
	bool chain;
	al_err e;

	*out = NULL;
	config_of(cfg, &hc, &chain);
	AL_TRY(AL_ARENA_NEW(a, al_node_shared, &s));
	if (!chain) {
		*out = s;
		return AL_OK;
	}
	e = al_arena_alloc(a, scratch_size(), 16, &mem);
	if (e == AL_OK)
		e = al_headers_init(&s->headers, a, &hc);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		return e;
	}
	s->has_headers = true;
	al_arena_init(&s->scratch, mem, scratch_size());
	*out = s;
	return AL_OK;
}

al_headers *al_node_shared_headers(al_node_shared *s)
{
	return s && s->has_headers ? &s->headers : NULL;
}

size_t al_node_shared_scratch_used(const al_node_shared *s)
{
	return al_arena_used(&s->scratch);
}

void al_node_shared_get_stats(const al_node_shared *s, al_node_shared_stats *out)
{
	*out = s->stats;
	out->scratch_high = al_arena_high_water(&s->scratch);
}

/* --- fee estimates -------------------------------------------------------------------- */

bool node_fee_get(al_node_shared *s, const uint8_t key[32], uint64_t now, uint64_t *rate)
{
	for (size_t i = 0; i < AL_NODE_FEE_CACHE; i++) {
		const node_fee *f = &s->fees[i];

		/* A time ahead of the asker's clock is not fresh: the host moved the clock. */
		if (f->used && !memcmp(f->key, key, 32) && now >= f->at &&
		    now - f->at <= AL_NODE_FEE_MAX_AGE) {
			*rate = f->rate;
			s->stats.fee_hits++;
			return true;
		}
	}
	s->stats.fee_misses++;
	return false;
}

void node_fee_drop(al_node_shared *s, const uint8_t key[32])
{
	for (size_t i = 0; i < AL_NODE_FEE_CACHE; i++) {
		if (s->fees[i].used && !memcmp(s->fees[i].key, key, 32))
			memset(&s->fees[i], 0, sizeof(s->fees[i]));
	}
}

void node_fee_put(al_node_shared *s, const uint8_t key[32], uint64_t now, uint64_t rate)
{
	node_fee *slot = &s->fees[0];

	for (size_t i = 0; i < AL_NODE_FEE_CACHE; i++) {
		node_fee *f = &s->fees[i];

		if (f->used && !memcmp(f->key, key, 32)) {
			slot = f;
			break;
		}
		if (!f->used || f->at < slot->at)
			slot = f; /* a free one, else the oldest */
	}
	memcpy(slot->key, key, 32);
	slot->at = now;
	slot->rate = rate;
	slot->used = true;
}
