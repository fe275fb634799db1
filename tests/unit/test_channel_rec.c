/* The channel record: written again byte for byte after a load, in every state a
 * channel can be persisted in; every single-byte change and every truncation either
 * refused with a precise error or loaded into a channel that writes exactly those
 * bytes back (never a crash, never a half-loaded channel); versions, key index and
 * chain checked. The shachain store check (al_shachain_valid) on its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_harness.h"
#include "ln/shachain.h"
#include "test.h"

static uint8_t rec[1 << 20], rec2[1 << 20];

/* One signer for many loads (a load replaces its whole policy state). */
static uint8_t smem[4096];
static al_signer *signer;
static const hnode *signer_of;

/* Load `r` into a channel of n's kind: the error, and if loaded, the record written
 * back into rec2. */
static al_err load(hnode *n, const uint8_t *r, size_t len, size_t *len2)
{
	uint8_t *cmem = malloc(n->mem_len);
	al_chan *c;
	al_err e;

	*len2 = 0;
	if (signer_of != n) {
		CHECK_OK(
		    al_signer_init(&signer, smem, sizeof(smem), al_t_secp(), &n->root, n->index));
		signer_of = n;
	}
	e = al_chan_load(&c, cmem, n->mem_len, &n->env, &n->cfg, signer, r, len);
	if (e == AL_OK) {
		CHECK_OK(al_chan_save(c, rec2, sizeof(rec2), len2));
		al_chan_clear(c);
	}
	free(cmem);
	return e;
}

static void round_trip(hnode *n, const char *what)
{
	size_t len, len2;

	CHECK_OK(al_chan_save(n->ch, rec, sizeof(rec), &len));
	CHECK(len <= al_chan_record_max(&n->cfg));
	CHECK_OK(load(n, rec, len, &len2));
	CHECK(len2 == len && memcmp(rec, rec2, len) == 0);
	if (len2 != len || memcmp(rec, rec2, len) != 0)
		fprintf(stderr, "round trip differs: %s\n", what);
}

static void test_round_trips(al_ln_chan_type type)
{
	uint8_t h[4][32];
	uint64_t id[4];
	hpair p;

	signer_of = NULL;
	h_init(&p, 41 + type, NULL, NULL);
	CHECK(h_open(&p, type, 1000000, 300000000, 1500));
	round_trip(&p.a, "open a");
	round_trip(&p.b, "open b");
	/* HTLCs both ways, a fee update, a commitment awaiting its revocation. */
	CHECK_OK(h_add(&p, &p.a, 20000000, 300, &id[0], h[0]));
	CHECK_OK(h_add(&p, &p.b, 10000000, 301, &id[1], h[1]));
	CHECK_OK(al_chan_update_fee(p.a.ch, 2500));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_drain(&p, &p.a);
	round_trip(&p.a, "awaiting revoke");
	h_pump(&p); /* B signs its own HTLC with its answer */
	round_trip(&p.a, "htlcs a");
	round_trip(&p.b, "htlcs b");
	CHECK_OK(al_chan_fail_htlc(p.b.ch, id[0], (const uint8_t *)"why", 3));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_pump(&p);
	round_trip(&p.a, "failed a");
	round_trip(&p.b, "failed b");
	/* A shutdown with an HTLC still in flight. */
	CHECK_OK(al_chan_shutdown(p.a.ch,
	                          (const uint8_t *)"\x00\x14"
	                                           "aaaaaaaaaaaaaaaaaaaa",
	                          22, 1000));
	h_pump(&p);
	round_trip(&p.a, "shutdown a");
	round_trip(&p.b, "shutdown b");
	/* Forced close. */
	CHECK_OK(al_chan_force_close(p.b.ch));
	h_pump(&p);
	round_trip(&p.a, "failed");
	round_trip(&p.b, "force closed");
	h_free(&p);
}

/* Every byte changed, every length cut: refused or written back as given. */
static void test_corruptions(void)
{
	size_t len, len2, i;
	uint8_t h[32];
	uint64_t id;
	size_t refused = 0, loaded = 0;
	hpair p;
	al_err e;

	signer_of = NULL;
	h_init(&p, 77, NULL, NULL);
	CHECK(h_open(&p, AL_LN_CHAN_ANCHORS, 1000000, 300000000, 1500));
	/* A fresh channel's record (empty entries must read back as written)... */
	CHECK_OK(al_chan_save(p.b.ch, rec, sizeof(rec), &len));
	for (i = 0; i < len; i++) {
		rec[i] ^= (uint8_t)(0x80u >> (i % 8));
		e = load(&p.b, rec, len, &len2);
		CHECK(e != AL_OK || (len2 == len && memcmp(rec, rec2, len) == 0));
		rec[i] ^= (uint8_t)(0x80u >> (i % 8));
	}
	/* ...and one with HTLCs both ways and a commitment awaiting its revocation. */
	CHECK_OK(h_add(&p, &p.a, 20000000, 300, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	h_pump(&p);
	CHECK_OK(h_add(&p, &p.b, 10000000, 301, &id, h));
	CHECK_OK(al_chan_commit(p.b.ch));
	h_drain(&p, &p.b);
	CHECK_OK(al_chan_save(p.b.ch, rec, sizeof(rec), &len));
	for (i = 0; i < len; i++) {
		rec[i] ^= (uint8_t)(1u << (i % 8));
		e = load(&p.b, rec, len, &len2);
		if (e == AL_OK) {
			loaded++;
			CHECK(len2 == len && memcmp(rec, rec2, len) == 0);
		} else {
			refused++;
			CHECK(e == AL_E_CHAN_RECORD || e == AL_E_CHAN_RECORD_VERSION ||
			      e == AL_E_TRUNCATED);
		}
		rec[i] ^= (uint8_t)(1u << (i % 8));
	}
	/* Onions, signatures, hashes and the funding transaction are opaque here (the
	 * store authenticates the whole record); the rest is checked. */
	CHECK(refused > 500);
	for (i = 0; i < len; i++) {
		e = load(&p.b, rec, i, &len2);
		CHECK(e == AL_E_TRUNCATED || e == AL_E_CHAN_RECORD);
	}
	rec[len] = 0;
	CHECK_ERR(load(&p.b, rec, len + 1, &len2), AL_E_CHAN_RECORD);
	CHECK_OK(load(&p.b, rec, len, &len2));
	/* Version, magic, key index. */
	rec[5] = 2;
	CHECK_ERR(load(&p.b, rec, len, &len2), AL_E_CHAN_RECORD_VERSION);
	rec[5] = 1;
	rec[0] = 'X';
	CHECK_ERR(load(&p.b, rec, len, &len2), AL_E_CHAN_RECORD);
	rec[0] = 'A';
	{
		uint32_t index;

		CHECK_OK(al_chan_record_key_index(rec, len, &index));
		CHECK(index == p.b.index);
	}
	signer_of = NULL;
	CHECK_ERR(load(&p.a, rec, len, &len2), AL_E_CHAN_RECORD); /* A's signer */
	signer_of = NULL;
	fprintf(stderr, "record %zu bytes: %zu byte changes refused, %zu loaded as written\n", len,
	        refused, loaded);
	h_free(&p);
}

static void test_shachain_valid(void)
{
	uint8_t seed[32], secret[32];
	al_shachain s, t;
	uint64_t i;

	memset(seed, 0x5e, sizeof(seed));
	al_shachain_init(&s);
	CHECK(al_shachain_valid(&s));
	for (i = 0; i < 1500; i++) {
		CHECK_OK(al_shachain_from_seed(secret, seed, AL_SHACHAIN_FIRST_INDEX - i));
		CHECK_OK(al_shachain_insert(&s, AL_SHACHAIN_FIRST_INDEX - i, secret));
		CHECK(al_shachain_valid(&s));
	}
	t = s;
	t.count++;
	CHECK(!al_shachain_valid(&t));
	t = s;
	t.valid ^= 1;
	CHECK(!al_shachain_valid(&t));
	t = s;
	t.known[0].secret[3] ^= 1; /* bucket 0 is derived from a higher one */
	CHECK(!al_shachain_valid(&t));
	t = s;
	t.known[2].index ^= 8;
	CHECK(!al_shachain_valid(&t));
}

int main(void)
{
	test_round_trips(AL_LN_CHAN_STATIC_REMOTEKEY);
	test_round_trips(AL_LN_CHAN_ANCHORS);
	test_corruptions();
	test_shachain_valid();
	return al_t_finish();
}
