/* Seeds for tests/fuzz/corpus/fuzz_onchain_record (records of the fixture's engine,
 * static_remotekey seed 4242, in several states) and tests/fuzz/corpus/fuzz_onchain
 * (operation sequences: see tests/fuzz/fuzz_onchain.c).
 * Usage: onchain_corpus RECORD_DIR OPS_DIR */
#include <stdio.h>
#include <string.h>

#include "onchain_world.h"
#include "test.h"

static int n_files;

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len) {
		perror(path);
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	n_files++;
}

static void save(const char *dir, oh_node *n, const char *name)
{
	static uint8_t rec[1 << 20];
	size_t len;

	if (al_onchain_save(n->o, rec, sizeof(rec), &len) == AL_OK)
		write_file(dir, name, rec, len);
}

/* Fresh node A of the fixture on a fresh chain. */
static void start(world *w, oh_node *n)
{
	al_onchain_config cfg;

	ow_fixture_config(&cfg);
	memcpy(w->p.a.signer_mem, w->a_signer, al_signer_size());
	memcpy(n->mon, w->na.mon, sizeof(n->mon));
	memcpy(n->mon_len, w->na.mon_len, sizeof(n->mon_len));
	ow_chain_reset(w, &w->a_setup);
	oh_node_init(n, &w->chain, w->p.a.signer, &w->a_setup, &cfg, 0xA1);
	oh_drain(n, &w->chain);
}

static void stop(world *w, oh_node *n)
{
	memset(n->mon, 0, sizeof(n->mon));
	oh_node_free(n);
	oh_chain_free(&w->chain);
}

static void mine(world *w, oh_node *n, size_t blocks)
{
	size_t i;

	for (i = 0; i < blocks; i++) {
		oh_mine(&w->chain, 1);
		oh_sync(n, &w->chain);
	}
}

int main(int argc, char **argv)
{
	static const uint8_t ops_ours[] = {0, 0, 0, 8, 3,  1, 7, 1, 7, 1, 7, 1, 7, 2, 3,
	                                   1, 7, 1, 7, 11, 0, 1, 7, 1, 7, 1, 7, 1, 7};
	static const uint8_t ops_revoked[] = {0, 7,  0, 4, 0, 15, 0, 5, 0, 0,
	                                      0, 12, 0, 1, 7, 2,  2, 1, 7};
	static const uint8_t ops_current[] = {1, 7,  0, 3, 0, 0, 0, 8, 3, 9,  3, 10, 8, 1,
	                                      7, 10, 0, 1, 7, 7, 0, 1, 7, 11, 0, 1,  7};
	static const uint8_t ops_race[] = {1, 14, 0, 3, 0, 0, 0, 2, 1, 7, 1, 3, 0, 0, 0, 1, 7};
	static const uint8_t ops_anchor_cpfp[] = {1, 9, 20, 10, 30, 0, 0, 0, 0, 13, 0,
	                                          0, 0, 10, 0,  1,  7, 8, 3, 1, 7};
	static oh_node n;
	world *w;
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: onchain_corpus RECORD_DIR OPS_DIR\n");
		return 2;
	}
	w = ow_fixture(AL_LN_CHAN_STATIC_REMOTEKEY, 4242);
	/* Our commitment. */
	start(w, &n);
	save(argv[1], &n, "ours-pending");
	mine(w, &n, 1);
	save(argv[1], &n, "ours-confirmed");
	CHECK_OK(al_onchain_preimage(n.o, w->h[3].preimage));
	oh_drain(&n, &w->chain);
	mine(w, &n, 30);
	save(argv[1], &n, "ours-sweeping");
	for (i = 0; i < 300 && !(al_onchain_state(n.o) & AL_ONCHAIN_ST_DONE); i++)
		mine(w, &n, 1);
	save(argv[1], &n, "ours-done");
	stop(w, &n);
	/* B's revoked commitment (A's leaves the mempool) and one of its HTLC
	 * transactions. */
	start(w, &n);
	oh_drop(&w->chain, 0);
	CHECK(oh_submit(&w->chain, w->old.raw, w->old.len) >= 0);
	mine(w, &n, 1);
	for (i = 0; i < w->old.n_htlc && !w->old.htlc_success[i]; i++)
		;
	CHECK(i < w->old.n_htlc &&
	      oh_submit(&w->chain, w->old.htlc_raw[i], w->old.htlc_len[i]) >= 0);
	mine(w, &n, 1);
	save(argv[1], &n, "revoked-justice");
	mine(w, &n, 3);
	save(argv[1], &n, "revoked-second");
	stop(w, &n);
	/* B's current commitment. */
	start(w, &n);
	oh_drop(&w->chain, 0);
	CHECK(oh_submit(&w->chain, w->cur.raw, w->cur.len) >= 0);
	mine(w, &n, 2);
	CHECK_OK(al_onchain_preimage(n.o, w->h[3].preimage));
	oh_drain(&n, &w->chain);
	mine(w, &n, 2);
	save(argv[1], &n, "current-claims");
	stop(w, &n);
	write_file(argv[2], "ours", ops_ours, sizeof(ops_ours));
	write_file(argv[2], "revoked", ops_revoked, sizeof(ops_revoked));
	write_file(argv[2], "current", ops_current, sizeof(ops_current));
	write_file(argv[2], "race", ops_race, sizeof(ops_race));
	write_file(argv[2], "anchor-cpfp", ops_anchor_cpfp, sizeof(ops_anchor_cpfp));
	ow_free(w);
	printf("onchain_corpus: %d files\n", n_files);
	return al_t_finish();
}
