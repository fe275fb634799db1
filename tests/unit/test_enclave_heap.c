/* The enclave's fixed heap (src/enclave/heap.h): alignment, coalescing, realloc,
 * exhaustion as a clean error, the high-water mark, foreign frees, and a long random
 * workload checked against a shadow copy of every block's contents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rng.h"
#include "enclave/heap.h"
#include "test.h"

static _Alignas(16) uint8_t region[1 << 20];

static void test_basics(void)
{
	al_heap *h;
	al_heap_stats st;
	void *a, *b, *c;

	CHECK_ERR(al_heap_init(&h, region, 64), AL_E_ARG);
	CHECK_OK(al_heap_init(&h, region + 3, sizeof(region) - 3)); /* any alignment in */
	al_heap_stats_get(h, &st);
	CHECK(st.used == 0 && st.high == 0 && st.size > sizeof(region) - 256);
	CHECK_OK(al_heap_alloc(h, 1, &a));
	CHECK_OK(al_heap_alloc(h, 0, &b));
	CHECK_OK(al_heap_alloc(h, 100, &c));
	CHECK(((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) % 16 == 0);
	CHECK(a != b && b != c && al_heap_block_size(h, c) >= 100);
	CHECK(al_heap_owns(h, a) && !al_heap_owns(h, region + sizeof(region)));
	memset(c, 0xAB, 100);
	al_heap_free(h, b);
	al_heap_free(h, a);
	al_heap_free(h, c);
	CHECK(al_heap_check(h));
	al_heap_stats_get(h, &st);
	/* Everything merged back into one free block: the whole heap is allocatable. */
	CHECK(st.used == 0 && st.allocs == 0 && st.high >= 16 + 16 + 112);
	CHECK(st.largest == st.size - 16);
	CHECK_OK(al_heap_alloc(h, st.largest, &a));
	CHECK_ERR(al_heap_alloc(h, 1, &b), AL_E_NOMEM);
	CHECK(b == NULL);
	al_heap_free(h, a);
	/* Freed memory is wiped (it may have held secrets). */
	CHECK_OK(al_heap_alloc(h, 100, &c));
	CHECK(((uint8_t *)c)[50] == 0);
	al_heap_free(h, c);
	/* calloc overflow, realloc keeps contents, foreign pointers are ignored. */
	CHECK_ERR(al_heap_calloc(h, SIZE_MAX / 2, 4, &a), AL_E_OVERFLOW);
	CHECK_OK(al_heap_calloc(h, 10, 10, &a));
	memcpy(a, "0123456789", 10);
	CHECK_OK(al_heap_realloc(h, &a, 5000));
	CHECK(memcmp(a, "0123456789", 10) == 0);
	CHECK_OK(al_heap_realloc(h, &a, 8));
	CHECK(memcmp(a, "01234567", 8) == 0);
	al_heap_free(h, (uint8_t *)a + 16); /* not a block start */
	al_heap_free(h, &st);               /* not in the region */
	al_heap_stats_get(h, &st);
	CHECK(st.foreign == 2 && st.allocs == 1);
	al_heap_free(h, a);
	al_heap_free(h, a); /* double free: refused, counted */
	al_heap_stats_get(h, &st);
	CHECK(st.foreign == 3 && st.allocs == 0 && st.used == 0);
	CHECK(al_heap_check(h));
}

/* Fill the heap with 1 KiB blocks until AL_E_NOMEM; nothing is corrupted, the
 * failure is counted, the high-water mark is the whole heap, and freeing any block
 * makes room again. */
static void test_exhaustion(void)
{
	static void *blocks[2048];
	al_heap *h;
	al_heap_stats st;
	size_t n = 0;
	al_err e;

	CHECK_OK(al_heap_init(&h, region, 256 * 1024));
	while ((e = al_heap_alloc(h, 1024, &blocks[n])) == AL_OK && n < 2047) {
		memset(blocks[n], (int)n, 1024);
		n++;
	}
	CHECK_ERR(e, AL_E_NOMEM);
	al_heap_stats_get(h, &st);
	printf("heap exhaustion: %zu blocks of 1 KiB in %zu bytes, high water %zu, failed %zu\n", n,
	       st.size, st.high, st.failed);
	CHECK(n > 200 && n < 256 && st.failed == 1 && st.high == st.used);
	CHECK(st.size - st.high < 1024 + 16 + 32);
	CHECK(al_heap_check(h));
	for (size_t i = 0; i < n; i++)
		CHECK(((uint8_t *)blocks[i])[1023] == (uint8_t)i);
	al_heap_free(h, blocks[n / 2]);
	CHECK_OK(al_heap_alloc(h, 1024, &blocks[n / 2]));
	CHECK_ERR(al_heap_realloc(h, &blocks[0], 4096), AL_E_NOMEM);
	CHECK(((uint8_t *)blocks[0])[1023] == 0); /* unchanged by the failed realloc */
	for (size_t i = 0; i < n; i++)
		al_heap_free(h, blocks[i]);
	al_heap_stats_get(h, &st);
	CHECK(st.used == 0 && st.high > st.size - 1100 && st.failed == 2);
	CHECK(al_heap_check(h));
}

/* Random allocations, frees and reallocs; each block holds a pattern derived from
 * its slot, checked before every change. */
static void test_random(void)
{
	enum { SLOTS = 257, ROUNDS = 20000 };
	static uint8_t *p[SLOTS];
	static size_t len[SLOTS];
	al_heap *h;
	al_rng rng;
	al_rng_chacha cs;
	uint8_t seed[32] = {7};
	bool ok = true;

	al_rng_chacha_init(&cs, &rng, seed);
	CHECK_OK(al_heap_init(&h, region, sizeof(region)));
	for (int r = 0; r < ROUNDS && ok; r++) {
		uint32_t x;
		CHECK_OK(al_rng_fill(&rng, &x, sizeof(x)));
		size_t i = x % SLOTS, want = (x >> 9) % ((x & 1) ? 9000 : 200);
		for (size_t k = 0; k < len[i]; k++)
			ok = ok && p[i][k] == (uint8_t)(i + k);
		if (p[i] && (x >> 30) == 0) {
			al_heap_free(h, p[i]);
			p[i] = NULL;
			len[i] = 0;
			continue;
		}
		void *q = p[i];
		if (al_heap_realloc(h, &q, want) != AL_OK)
			continue;
		p[i] = q;
		for (size_t k = len[i]; k < want; k++)
			p[i][k] = (uint8_t)(i + k);
		len[i] = want;
		if (r % 1000 == 0)
			ok = ok && al_heap_check(h);
	}
	CHECK(ok);
	CHECK(al_heap_check(h));
	for (size_t i = 0; i < SLOTS; i++)
		al_heap_free(h, p[i]);
	al_heap_stats st;
	al_heap_stats_get(h, &st);
	CHECK(st.used == 0 && st.largest == st.size - 16 && st.foreign == 0);
}

int main(void)
{
	test_basics();
	test_exhaustion();
	test_random();
	return al_t_finish();
}
