/* Seed records for tests/fuzz/corpus/fuzz_channel_record: channels of the test
 * harness's seed 4242 (the fuzz target's signers) saved in several states.
 * Usage: chan_corpus DIR */
#include <stdio.h>
#include <string.h>

#include "chan_harness.h"
#include "test.h"

static const char *dir;
static int n_files;

static void save(hnode *n, const char *name)
{
	static uint8_t rec[1 << 20];
	char path[4096];
	size_t len;
	FILE *f;

	if (al_chan_save(n->ch, rec, sizeof(rec), &len) != AL_OK)
		return;
	snprintf(path, sizeof(path), "%s/%s-%s", dir, name, n->name);
	f = fopen(path, "wb");
	if (!f || fwrite(rec, 1, len, f) != len) {
		perror(path);
		return;
	}
	fclose(f);
	n_files++;
}

int main(int argc, char **argv)
{
	uint8_t h[32];
	uint64_t id;
	hpair p;
	int t;

	if (argc != 2) {
		fprintf(stderr, "usage: chan_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	for (t = 0; t < 2; t++) {
		char name[64];

		/* The fuzz target's pair: seed 4242, the default harness config. */
		h_init(&p, 4242, NULL, NULL);
		if (!h_open(&p, t ? AL_LN_CHAN_ANCHORS : AL_LN_CHAN_STATIC_REMOTEKEY, 1000000,
		            300000000, 1500))
			return 1;
		snprintf(name, sizeof(name), "t%d-open", t);
		save(&p.a, name);
		save(&p.b, name);
		CHECK_OK(h_add(&p, &p.a, 20000000, 300, &id, h));
		CHECK_OK(h_add(&p, &p.b, 300000, 301, &id, h));
		CHECK_OK(al_chan_update_fee(p.a.ch, 1700));
		CHECK_OK(al_chan_commit(p.a.ch));
		h_drain(&p, &p.a);
		snprintf(name, sizeof(name), "t%d-await", t);
		save(&p.a, name);
		h_pump(&p);
		snprintf(name, sizeof(name), "t%d-htlcs", t);
		save(&p.a, name);
		save(&p.b, name);
		CHECK_OK(al_chan_shutdown(p.b.ch,
		                          (const uint8_t *)"\x00\x14"
		                                           "bbbbbbbbbbbbbbbbbbbb",
		                          22, 1000));
		h_pump(&p);
		snprintf(name, sizeof(name), "t%d-shutdown", t);
		save(&p.a, name);
		CHECK_OK(al_chan_force_close(p.a.ch));
		h_pump(&p);
		snprintf(name, sizeof(name), "t%d-failed", t);
		save(&p.a, name);
		save(&p.b, name);
		h_free(&p);
	}
	printf("%d records\n", n_files);
	return al_t_failures ? 1 : 0;
}
