/* Fixed-capacity bump allocator.
 *
 * The core never calls malloc: memory is handed in by the caller once, and every
 * allocation is carved from it. Exhaustion is an error the caller sees (AL_E_NOMEM),
 * never a crash. mark/release frees everything allocated after a mark in one step,
 * which is how a request-scoped computation returns its scratch space. */
#ifndef ALIGHT_UTIL_ARENA_H
#define ALIGHT_UTIL_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct al_arena {
	uint8_t *base;
	size_t cap;
	size_t used;
	size_t high;   /* high-water mark of `used` */
	size_t failed; /* allocations refused for lack of space */
} al_arena;

/* Give the arena `len` bytes at `mem`. The arena never touches memory outside it. */
void al_arena_init(al_arena *a, void *mem, size_t len);

/* Allocate `size` bytes aligned to `align` (a power of two, at most 4096), zeroed.
 * On exhaustion *out is NULL, nothing changes but the failure count, and AL_E_NOMEM
 * is returned. */
AL_WARN_UNUSED al_err al_arena_alloc(al_arena *a, size_t size, size_t align, void **out);

/* The position to return to with al_arena_release. */
size_t al_arena_mark(const al_arena *a);
/* Drop every allocation made after `mark`; the memory is wiped because it may have
 * held secrets. */
void al_arena_release(al_arena *a, size_t mark);

size_t al_arena_used(const al_arena *a);
size_t al_arena_available(const al_arena *a);
size_t al_arena_high_water(const al_arena *a);

/* Typed helper: AL_ARENA_NEW(a, struct foo, &ptr). */
#define AL_ARENA_NEW(a, type, outp)                                                                \
	al_arena_alloc((a), sizeof(type), _Alignof(type), (void **)(outp))

#endif
