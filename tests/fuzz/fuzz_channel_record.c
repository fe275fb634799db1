/* Fuzz the channel record loader (al_chan_load): any bytes, with the signer of the
 * key index they name (the test harness's two nodes). A record that loads must be
 * written back byte for byte, must reconnect (its channel_reestablish and
 * retransmissions made), and if it can it must go on-chain (its commitment built and
 * signed); nothing may crash. Seeds: records of channels in several states
 * (tests/tools/chan_corpus.c). */
#include <stdlib.h>
#include <string.h>

#include "chan_harness.h"
#include "test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hpair p;
static uint8_t *smem_snap[2];
static bool ready;

static void setup(void)
{
	hnode *n[2] = {&p.a, &p.b};
	int k;

	h_init(&p, 4242, NULL, NULL);
	for (k = 0; k < 2; k++) {
		smem_snap[k] = malloc(al_signer_size());
		if (!smem_snap[k])
			abort();
		memcpy(smem_snap[k], n[k]->signer_mem, al_signer_size());
	}
	ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1 << 20];
	uint32_t index;
	al_chan_fx fx;
	al_chan *ch;
	size_t len;
	hnode *n;
	al_err e;
	int k, guard;

	if (!ready)
		setup();
	if (al_chan_record_key_index(data, size, &index) != AL_OK || (index != 1 && index != 2))
		index = 1;
	k = (int)index - 1;
	n = k ? &p.b : &p.a;
	/* A signer as it is after al_signer_init for that index. */
	memcpy(n->signer_mem, smem_snap[k], al_signer_size());
	al_arena_init(&n->scratch, n->scratch_mem, n->scratch_len);
	n->env.out_held = false;
	e = al_chan_load(&ch, n->mem, n->mem_len, &n->env, &n->cfg, n->signer, data, size);
	if (e != AL_OK) {
		if (e != AL_E_CHAN_RECORD && e != AL_E_CHAN_RECORD_VERSION && e != AL_E_TRUNCATED)
			abort();
		return 0;
	}
	if (al_chan_save(ch, out, sizeof(out), &len) != AL_OK || len != size ||
	    memcmp(out, data, size) != 0)
		abort();
	/* Deliver what a restart announces, then reconnect and go on-chain. */
	for (guard = 0; guard < 4096 && al_chan_next_effect(ch, &fx); guard++)
		if (fx.kind == AL_CHAN_FX_PERSIST && al_chan_persisted(ch, fx.id) != AL_OK)
			abort();
	if (al_chan_peer_connected(ch) == AL_OK)
		for (guard = 0; guard < 4096 && al_chan_next_effect(ch, &fx); guard++)
			if (fx.kind == AL_CHAN_FX_PERSIST && al_chan_persisted(ch, fx.id) != AL_OK)
				abort();
	if (al_chan_force_close(ch) == AL_OK)
		for (guard = 0; guard < 4096 && al_chan_next_effect(ch, &fx); guard++)
			if (fx.kind == AL_CHAN_FX_PERSIST && al_chan_persisted(ch, fx.id) != AL_OK)
				abort();
	al_chan_clear(ch);
	return 0;
}
