/* The bounds: 483 HTLCs in each direction at once (BOLT #2's maximum), every one of
 * them in both commitments, signed, verified and then settled; the 484th refused. The
 * scratch arena never needs more than al_chan_scratch_size, the record never more
 * than al_chan_record_max, a commitment_signed with 966 signatures fits a message.
 * The per-channel memory is printed for the report. */
#include <stdio.h>
#include <string.h>

#include "chan_harness.h"
#include "ln/wire.h"
#include "test.h"

int main(void)
{
	static uint8_t hs[2 * 483][32];
	static uint64_t ids[2 * 483];
	al_chan_config cfg;
	al_chan_info a, b;
	uint8_t pre[32], h[32];
	size_t i, len;
	uint64_t id;
	hpair p;
	int n;

	al_chan_config_default(&cfg);
	cfg.max_htlcs = AL_CHAN_MAX_HTLCS;
	printf("channel memory: %zu bytes at max_htlcs 483, ", al_chan_size(&cfg));
	cfg.max_htlcs = 30;
	printf("%zu at 30 (default); scratch %zu / ", al_chan_size(&cfg),
	       al_chan_scratch_size(&cfg));
	printf("record at most %zu at 30\n", al_chan_record_max(&cfg));
	cfg.max_htlcs = AL_CHAN_MAX_HTLCS;
	h_init(&p, 4830, &cfg, &cfg);
	CHECK(h_open(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 16000000, 8000000000, 253));
	for (i = 0; i < 2 * 483; i++)
		CHECK_OK(h_add(&p, i % 2 ? &p.b : &p.a, 10000000 + i, 1000 + (uint32_t)i, &ids[i],
		               hs[i]));
	CHECK_ERR(h_add(&p, &p.a, 10000000, 1000, &id, h), AL_E_CHAN_HTLC_COUNT);
	CHECK_OK(al_chan_commit(p.a.ch));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	al_chan_get_info(p.a.ch, &a);
	al_chan_get_info(p.b.ch, &b);
	CHECK(a.htlcs_out == 483 && a.htlcs_in == 483 && b.htlcs_out == 483);
	CHECK(h_count_events(&p.a, AL_CHAN_EV_HTLC_RECEIVED) == 483);
	CHECK(h_count_events(&p.b, AL_CHAN_EV_HTLC_RECEIVED) == 483);
	h_check_balances(&p);
	n = h_verify(&p, &p.a);
	CHECK(n == 1 + 966);
	CHECK(h_verify(&p, &p.b) == 1 + 966);
	CHECK_OK(al_chan_save(p.a.ch, p.a.pending_rec, al_chan_record_max(&cfg), &len));
	CHECK(len <= al_chan_record_max(&cfg));
	printf("record with 966 HTLCs: %zu bytes (bound %zu)\n", len, al_chan_record_max(&cfg));
	for (i = 0; i < 2 * 483; i++) {
		hnode *to = i % 2 ? &p.a : &p.b;

		CHECK(h_preimage_of(&p, hs[i], pre));
		CHECK_OK(al_chan_fulfill_htlc(to->ch, ids[i], pre));
	}
	CHECK_OK(al_chan_commit(p.a.ch));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	al_chan_get_info(p.a.ch, &a);
	CHECK(a.htlcs_out == 0 && a.htlcs_in == 0);
	h_check_balances(&p);
	printf("scratch high water: %zu and %zu of %zu bytes\n", al_arena_high_water(&p.a.scratch),
	       al_arena_high_water(&p.b.scratch), al_chan_scratch_size(&cfg));
	CHECK(al_arena_high_water(&p.a.scratch) <= al_chan_scratch_size(&cfg));
	CHECK(p.a.scratch.failed == 0 && p.b.scratch.failed == 0);
	h_free(&p);
	return al_t_finish();
}
