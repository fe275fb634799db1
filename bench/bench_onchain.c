/* Memory per resolving channel (ln/onchain.h): an engine for our broadcast commitment
 * holding 30 or 483 HTLCs each way (a synthetic channel: our keys from a seed, the
 * counterparty's from another), its fixed size, its scratch arena and the record it
 * writes. */
#include "bench_onchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "ln/onchain.h"
#include "ln/signer.h"

struct oc_bench {
	al_signer_root root, root2;
	al_signer *s, *s2;
	uint8_t *smem, *smem2, *mem, *scratch_mem, *rec;
	al_arena scratch;
	al_onchain_env env;
	al_onchain_config cfg;
	al_onchain *o;
	al_ln_htlc *htlcs;
	al_ecdsa_sig *sigs;
	uint32_t height;
};

static void *xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		bench_fail("out of memory", NULL);
	return p;
}

static void fail(const char *what, al_err e)
{
	bench_fail(what, al_err_name(e));
}

/* Signers for both sides, the channel as the counterparty's signer sees it. */
static void signers(struct oc_bench *b, const al_secp *secp, al_ln_chan_type type)
{
	uint8_t seed[32];
	al_signer_channel ch;
	al_ln_basepoints bp;
	al_pubkey fund;
	al_err e;

	memset(seed, 0x42, sizeof(seed));
	if ((e = al_signer_root_init(&b->root, secp, seed, 32, 1)) != AL_OK)
		fail("signer root", e);
	memset(seed, 0x43, sizeof(seed));
	if ((e = al_signer_root_init(&b->root2, secp, seed, 32, 1)) != AL_OK)
		fail("signer root", e);
	b->smem = xalloc(al_signer_size());
	b->smem2 = xalloc(al_signer_size());
	if ((e = al_signer_init(&b->s, b->smem, al_signer_size(), secp, &b->root, 1)) != AL_OK ||
	    (e = al_signer_init(&b->s2, b->smem2, al_signer_size(), secp, &b->root2, 2)) != AL_OK)
		fail("signer", e);
	memset(&ch, 0, sizeof(ch));
	ch.type = type;
	ch.holder_is_funder = true;
	memset(ch.funding_txid, 0xf0, 32);
	ch.funding_amount = al_sat_of(16000000);
	al_signer_basepoints(b->s2, &bp, &fund);
	ch.counterparty_funding = fund;
	ch.counterparty = bp;
	ch.holder_selected_delay = 144;
	ch.counterparty_selected_delay = 144;
	if ((e = al_signer_ready(b->s, &ch)) != AL_OK)
		fail("signer ready", e);
}

/* An engine for our commitment 0 with n HTLCs each way, broadcast. */
static size_t engine(struct oc_bench *b, const al_secp *secp, size_t n)
{
	al_onchain_setup st;
	al_ln_basepoints bp2;
	al_pubkey fund2;
	uint8_t dest[22] = {0x00, 0x14};
	size_t i, len;
	al_err e;

	memset(&st, 0, sizeof(st));
	al_onchain_config_default(&b->cfg);
	b->cfg.max_htlcs = (uint16_t)(2 * n);
	b->mem = xalloc(al_onchain_size(&b->cfg));
	b->scratch_mem = xalloc(al_onchain_scratch_size(&b->cfg));
	b->rec = xalloc(al_onchain_record_max(&b->cfg));
	al_arena_init(&b->scratch, b->scratch_mem, al_onchain_scratch_size(&b->cfg));
	b->env.secp = secp;
	b->env.scratch = &b->scratch;
	b->htlcs = xalloc(2 * n * sizeof(al_ln_htlc));
	b->sigs = xalloc(2 * n * sizeof(al_ecdsa_sig));
	for (i = 0; i < 2 * n; i++) {
		b->htlcs[i].offered = i % 2;
		b->htlcs[i].amount = al_msat_of(10000000 + i);
		al_sha256(b->htlcs[i].payment_hash, &i, sizeof(i));
		b->htlcs[i].cltv_expiry = 1000 + (uint32_t)i;
	}
	st.type = AL_LN_CHAN_ANCHORS;
	st.holder_is_funder = true;
	memset(st.funding_txid, 0xf0, 32);
	st.funding = al_sat_of(16000000);
	al_signer_basepoints(b->s, &st.holder_bp, &st.holder_funding);
	al_signer_basepoints(b->s2, &bp2, &fund2);
	st.counterparty_bp = bp2;
	st.counterparty_funding = fund2;
	st.holder_selected_delay = st.counterparty_selected_delay = 144;
	st.holder_dust = st.counterparty_dust = al_sat_of(546);
	st.holder_to_local = al_msat_of(16000000000ULL - 2 * n * 10000000ULL - n * (2 * n - 1));
	st.holder_to_remote = al_msat_of(0);
	st.holder_feerate = 253;
	st.holder_htlcs = b->htlcs;
	st.n_holder_htlcs = 2 * n;
	st.holder_htlc_sigs = b->sigs;
	st.n_holder_htlc_sigs = 2 * n;
	st.holder_broadcast = true;
	st.counterparty_next = 1;
	dest[2] = 0x99;
	st.dest = dest;
	st.dest_len = sizeof(dest);
	e = al_onchain_init(&b->o, b->mem, al_onchain_size(&b->cfg), &b->env, &b->cfg, b->s, &st,
	                    b->height = 900);
	if (e != AL_OK)
		fail("onchain init", e);
	if ((e = al_onchain_save(b->o, b->rec, al_onchain_record_max(&b->cfg), &len)) != AL_OK)
		fail("onchain save", e);
	return len;
}

static void release(struct oc_bench *b)
{
	al_onchain_clear(b->o);
	al_signer_clear(b->s);
	al_signer_clear(b->s2);
	al_signer_root_clear(&b->root);
	al_signer_root_clear(&b->root2);
	free(b->smem);
	free(b->smem2);
	free(b->mem);
	free(b->scratch_mem);
	free(b->rec);
	free(b->htlcs);
	free(b->sigs);
}

void bench_onchain(void)
{
	const al_secp *secp = bench_secp();
	static const size_t each[2] = {30, 483};
	char key[96];
	size_t k;

	for (k = 0; k < 2; k++) {
		struct oc_bench b;
		size_t rec;

		memset(&b, 0, sizeof(b));
		signers(&b, secp, AL_LN_CHAN_ANCHORS);
		rec = engine(&b, secp, each[k]);
		snprintf(key, sizeof(key), "onchain_engine_bytes_%zux2_htlcs", each[k]);
		bench_put(key, (double)al_onchain_size(&b.cfg));
		snprintf(key, sizeof(key), "onchain_scratch_bytes_%zux2_htlcs", each[k]);
		bench_put(key, (double)al_onchain_scratch_size(&b.cfg));
		snprintf(key, sizeof(key), "onchain_record_bytes_%zux2_htlcs_broadcast", each[k]);
		bench_put(key, (double)rec);
		snprintf(key, sizeof(key), "onchain_record_bound_bytes_%zux2_htlcs", each[k]);
		bench_put(key, (double)al_onchain_record_max(&b.cfg));
		release(&b);
	}
}
