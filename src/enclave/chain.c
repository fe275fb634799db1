/* What the enclave's nodes share (node/node.h, al_node_shared): made once at init from
 * the enclave heap and handed to every node; its header chain kept across restarts.
 *
 * The chain is sealed (bound to this image and platform, like the node anchors) into
 * the state store under a name of its own after it changes: at once the first time,
 * then at most once per SAVE_INTERVAL_MS, the newest SAVE_MAX headers. At start it is
 * read back and every header checked again (al_headers_load: links, proof of work,
 * targets, the checkpoint). The host can only withhold it or replay an older one: the
 * nodes then sync the headers again from their servers, and no node trusts a
 * confirmation the chain does not hold (chain/sync.h). A record that arrives after a
 * node's sync already moved the chain is not used. */
#include <string.h>

#include "crypto/hash.h"
#include "enclave/enclave_int.h"
#include "util/mem.h"

/* Request ids: the state store's, under a slot number no node has. */
#define CHAIN_SLOT  ((uint64_t)0xffffffffu)
#define CHAIN_REQ   (AL_ENC_STATE_REQ | CHAIN_SLOT << 16)
#define CHAIN_LABEL "shared-chain"
/* 8,192 headers: 640 KiB, under what the hosts read back in one piece (1 MiB). */
#define SAVE_MAX         8192
#define SAVE_INTERVAL_MS (60u * 1000u)

static void chain_name(uint8_t name[32])
{
	static const char tag[] = "alight/shared-chain";
	al_sha256(name, tag, sizeof(tag) - 1);
}

al_err al_enc_chain_init(void)
{
	al_node_shared_config c = {.net = al_enc.node_cfg.net};
	al_arena a;

	al_enc.shared_len = al_node_shared_mem_size(&c);
	AL_TRY(al_heap_alloc(al_enc.heap, al_enc.shared_len, &al_enc.shared_mem));
	al_arena_init(&a, al_enc.shared_mem, al_enc.shared_len);
	return al_node_shared_init(&al_enc.shared, &a, &c);
}

void al_enc_chain_start(void)
{
	uint8_t name[32];

	if (!al_node_shared_headers(al_enc.shared))
		return;
	chain_name(name);
	al_enc.chain_busy = true;
	if (al_enc.oc.store_get(al_enc.oc.host, CHAIN_REQ | ++al_enc.chain_seq, AL_ENC_STATE_NODE,
	                        0, name) != AL_OK)
		al_enc.chain_busy = false;
}

bool al_enc_chain_req(uint64_t req)
{
	return (req & ~(uint64_t)0xffff) == CHAIN_REQ;
}

/* The saved chain came back (or not). */
static void loaded(al_err status, const uint8_t *blob, size_t len)
{
	al_headers *h = al_node_shared_headers(al_enc.shared);
	uint8_t *copy = NULL, *pt = NULL;
	size_t plen = 0;
	al_err e = status;

	if (e == AL_E_STORE_NOT_FOUND)
		return;
	if (e == AL_OK && len <= AL_SEALSIM_OVERHEAD)
		e = AL_E_SEAL_FORMAT;
	if (e == AL_OK)
		e = al_heap_alloc(al_enc.heap, len, (void **)&copy);
	if (e == AL_OK)
		e = al_heap_alloc(al_enc.heap, len, (void **)&pt);
	if (e == AL_OK) {
		memcpy(copy, blob, len); /* copy first: the host may change its buffer */
		e = al_sealsim_unseal(&al_enc.seal, pt, len, &plen, CHAIN_LABEL, copy, len);
	}
	if (e == AL_OK)
		e = al_headers_load(h, pt, plen);
	al_heap_free(al_enc.heap, copy);
	al_heap_free(al_enc.heap, pt);
	if (e == AL_OK) {
		al_enc.chain_saved_gen = al_headers_gen(h);
		al_enc.chain_loaded = true;
		al_enc_log(AL_ENC_LOG_INFO, "enclave: shared header chain loaded", NULL, NULL);
	} else {
		al_enc_log(AL_ENC_LOG_WARN, "enclave: saved header chain not used: ", al_err_str(e),
		           NULL);
	}
}

void al_enc_chain_done(uint64_t req, al_err status, const uint8_t *blob, size_t len)
{
	if (!al_enc.chain_busy || (req & 0xffff) != al_enc.chain_seq) {
		al_enc.stale++;
		return;
	}
	al_enc.chain_busy = false;
	if (!al_enc.chain_writing) {
		loaded(status, blob, len);
		return;
	}
	al_enc.chain_writing = false;
	if (status == AL_OK)
		al_enc.chain_saved_gen = al_enc.chain_writing_gen;
	else
		al_enc_log(AL_ENC_LOG_WARN, "enclave: header chain not saved: ", al_err_str(status),
		           NULL);
}

/* The chain, sealed, to the state store. */
static void save(al_headers *h)
{
	uint8_t *pt = NULL, *blob = NULL, nonce[AL_SEALSIM_NONCE_LEN];
	al_enc_kv_item it;
	size_t cap, blen = 0;
	al_err e;
	al_wb w;

	al_wb_init(&w, NULL, 0);
	al_headers_save(h, &w, SAVE_MAX);
	cap = w.len;
	e = al_heap_alloc(al_enc.heap, cap, (void **)&pt);
	if (e == AL_OK)
		e = al_heap_alloc(al_enc.heap, cap + AL_SEALSIM_OVERHEAD, (void **)&blob);
	if (e == AL_OK) {
		al_wb_init(&w, pt, cap);
		al_headers_save(h, &w, SAVE_MAX);
		e = al_wb_ok(&w) ? al_rng_fill(&al_enc.rng, nonce, sizeof(nonce)) : AL_E_BUFSIZE;
	}
	if (e == AL_OK)
		e = al_sealsim_seal(&al_enc.seal, blob, cap + AL_SEALSIM_OVERHEAD, &blen,
		                    CHAIN_LABEL, nonce, pt, w.len);
	if (e == AL_OK) {
		chain_name(it.name);
		it.value = blob;
		it.len = blen;
		it.version = -1; /* AL_KV_ANY: rewritten whole */
		al_enc.chain_busy = al_enc.chain_writing = true;
		al_enc.chain_writing_gen = al_headers_gen(h);
		al_enc.chain_saved_ms = al_enc.now_ms;
		e = (al_err)al_enc.oc.store_put(al_enc.oc.host, CHAIN_REQ | ++al_enc.chain_seq,
		                                AL_ENC_STATE_NODE, 0, &it, 1, 0);
		if (e != AL_OK)
			al_enc.chain_busy = al_enc.chain_writing = false;
	}
	al_heap_free(al_enc.heap, pt);
	al_heap_free(al_enc.heap, blob);
	if (e != AL_OK)
		al_enc_log(AL_ENC_LOG_WARN, "enclave: header chain not saved: ", al_err_str(e),
		           NULL);
}

uint64_t al_enc_chain_next(void)
{
	al_headers *h = al_node_shared_headers(al_enc.shared);

	if (!h || al_enc.chain_busy || al_headers_gen(h) == al_enc.chain_saved_gen)
		return UINT64_MAX;
	return al_enc.chain_saved_ms ? al_enc.chain_saved_ms + SAVE_INTERVAL_MS : 0;
}

void al_enc_chain_tick(void)
{
	if (al_enc_chain_next() <= al_enc.now_ms)
		save(al_node_shared_headers(al_enc.shared));
}

void al_enc_chain_clear(void)
{
	if (al_enc.shared_mem) {
		al_memzero(al_enc.shared_mem, al_enc.shared_len);
		al_heap_free(al_enc.heap, al_enc.shared_mem);
	}
	al_enc.shared = NULL;
	al_enc.shared_mem = NULL;
}
