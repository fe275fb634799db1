/* The enclave's fixed heap: one region handed in at load, never grown.
 *
 * ARCHITECTURE.md, "Memory: fixed and accounted". Every allocation inside the enclave
 * comes from this region: OpenSSL (CRYPTO_set_mem_functions), jansson
 * (json_set_alloc_funcs), protobuf-c, the C library's malloc family as the static
 * libraries reference it (link-time wrapped, see enclave_rt.c) and the per-node
 * arenas. Exhaustion is AL_E_NOMEM (or NULL through the malloc-shaped hooks), never a
 * crash; the high-water mark says how much the region ever had to hold.
 *
 * The allocator is first fit over a free list (LIFO) with boundary tags:
 * blocks carry their size and their predecessor's, so a freed block merges with free
 * neighbours on both sides at once and the region never fragments into adjacent free
 * blocks. Every block and every pointer handed out is 16-byte aligned. A spinlock
 * (a C11 atomic flag, no library call) makes it safe to use from several threads;
 * the enclave itself runs one ecall at a time. */
#ifndef ALIGHT_ENCLAVE_HEAP_H
#define ALIGHT_ENCLAVE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define AL_HEAP_ALIGN 16

typedef struct al_heap al_heap;

typedef struct al_heap_stats {
	size_t size;    /* bytes managed (the region minus the heap's own header) */
	size_t used;    /* bytes in live blocks, their 16-byte headers included */
	size_t high;    /* high-water mark of used */
	size_t allocs;  /* live allocations */
	size_t total;   /* allocations ever made */
	size_t failed;  /* allocations refused for lack of space */
	size_t foreign; /* frees of pointers outside the region (ignored) */
	size_t largest; /* largest free block's payload: the biggest allocation possible */
} al_heap_stats;

/* Take `len` bytes at `mem` (any alignment; the heap aligns inside). AL_E_ARG when
 * the region is too small to hold the heap's header and one block. */
AL_WARN_UNUSED al_err al_heap_init(al_heap **out, void *mem, size_t len);

/* `size` bytes (0 is allowed and gives a unique pointer), 16-byte aligned, not
 * zeroed. AL_E_NOMEM with *out NULL when no free block is large enough. */
AL_WARN_UNUSED al_err al_heap_alloc(al_heap *h, size_t size, void **out);
/* n * size bytes, zeroed; AL_E_OVERFLOW if the product overflows. */
AL_WARN_UNUSED al_err al_heap_calloc(al_heap *h, size_t n, size_t size, void **out);
/* Resize *p (NULL allocates) keeping its contents; on AL_E_NOMEM *p is unchanged
 * and still valid. */
AL_WARN_UNUSED al_err al_heap_realloc(al_heap *h, void **p, size_t size);
/* Give a block back (NULL is a no-op). A pointer outside the region is counted in
 * `foreign` and otherwise ignored. */
void al_heap_free(al_heap *h, void *p);

/* Usable bytes of an allocated block (at least what was asked for). */
size_t al_heap_block_size(const al_heap *h, const void *p);
bool al_heap_owns(const al_heap *h, const void *p);
void al_heap_stats_get(al_heap *h, al_heap_stats *out);
/* Walk every block and check the boundary tags, the free list and the counters;
 * false on any inconsistency (for tests). */
bool al_heap_check(al_heap *h);

#endif
