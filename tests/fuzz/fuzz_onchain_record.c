/* Fuzz the on-chain engine's record loader (al_onchain_load): any bytes, with the
 * signer of the fixture's node A (tests/lib/onchain_world.c, as al_signer_init and the
 * channel left it). A record that loads must save back byte for byte, and the engine
 * it gives must run: its effects delivered (every PERSIST loading and saving back the
 * same), blocks and feerates given, and never a broadcast of a commitment of ours but
 * the latest. Anything else aborts. Seeds: records of the fixture's engine in several
 * states (tests/tools/onchain_corpus.c). */
#include <stdlib.h>
#include <string.h>

#include "onchain_world.h"
#include "test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static world *w;
static uint8_t a_txid[32];

static void setup(void)
{
	al_arena a;
	al_tx tx;

	w = ow_fixture(AL_LN_CHAN_STATIC_REMOTEKEY, 4242);
	al_arena_init(&a, w->arena_mem + (512 << 10), 512 << 10);
	if (al_tx_parse(&tx, &a, w->a_raw, w->a_len) != AL_OK)
		abort();
	al_tx_txid(&tx, a_txid);
	if (al_t_failures)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static oh_node n;
	static bool made;
	static uint8_t *rec2;
	al_onchain_config cfg;
	al_onchain_fx fx;
	al_onchain *o;
	size_t len;
	al_err e;
	int k, guard;

	if (!w)
		setup();
	ow_fixture_config(&cfg);
	if (!made) {
		/* The node's memory and disk, once. */
		memcpy(w->p.a.signer_mem, w->a_signer, al_signer_size());
		oh_chain_init(&w->chain, OW_START);
		oh_node_init(&n, &w->chain, w->p.a.signer, &w->a_setup, &cfg, 0xA1);
		rec2 = malloc(n.disk_cap);
		if (!rec2)
			abort();
		made = true;
	}
	memcpy(w->p.a.signer_mem, w->a_signer, al_signer_size());
	al_arena_init(&n.scratch, n.scratch_mem, n.scratch_len);
	e = al_onchain_load(&o, n.mem, n.mem_len, &n.env, &cfg, w->p.a.signer, data, size);
	if (e != AL_OK) {
		if (e != AL_E_ONCHAIN_RECORD && e != AL_E_ONCHAIN_RECORD_VERSION &&
		    e != AL_E_TRUNCATED)
			abort();
		n.o = NULL;
		return 0;
	}
	if (al_onchain_save(o, rec2, n.disk_cap, &len) != AL_OK || len != size ||
	    memcmp(rec2, data, size) != 0)
		abort();
	/* It runs. */
	for (k = 0; k < 3; k++) {
		uint32_t h = 0;
		al_onchain_info info;

		al_onchain_get_info(o, &info);
		h = info.height + (uint32_t)k;
		e = al_onchain_block(o, h, 1000 + 5000 * (uint32_t)k);
		if (e != AL_OK && e != AL_E_ONCHAIN_FAILED)
			abort();
		for (guard = 0; guard < 10000 && al_onchain_next_effect(o, &fx); guard++) {
			if (fx.kind == AL_ONCHAIN_FX_PERSIST) {
				if (al_onchain_save(o, rec2, n.disk_cap, &len) != AL_OK ||
				    al_onchain_persisted(o, fx.id) != AL_OK)
					abort();
			} else if (fx.kind == AL_ONCHAIN_FX_BROADCAST) {
				al_arena a;
				al_tx tx;
				size_t i;

				al_arena_init(&a, w->arena_mem + (512 << 10), 512 << 10);
				if (al_tx_parse(&tx, &a, fx.data, fx.len) != AL_OK)
					abort();
				for (i = 0; i < tx.n_in; i++)
					if (!memcmp(tx.in[i].txid, w->a_setup.funding_txid, 32) &&
					    tx.in[i].vout == w->a_setup.funding_vout &&
					    memcmp(fx.txid, a_txid, 32) != 0)
						abort(); /* a commitment of ours but the latest */
			}
		}
		if (guard == 10000)
			abort();
	}
	al_onchain_clear(o);
	if (al_t_failures)
		abort();
	return 0;
}
