#include "util/arena.h"

#include <string.h>

#include "util/mem.h"

void al_arena_init(al_arena *a, void *mem, size_t len)
{
	a->base = mem;
	a->cap = mem ? len : 0;
	a->used = 0;
	a->high = 0;
	a->failed = 0;
}

al_err al_arena_alloc(al_arena *a, size_t size, size_t align, void **out)
{
	uintptr_t start, aligned;
	size_t pad;

	*out = NULL;
	if (align == 0 || align > 4096 || (align & (align - 1)) != 0)
		return AL_E_ARG;
	/* An arena without memory has nothing to give, not even a zero-size block. */
	if (!a->base) {
		a->failed++;
		return AL_E_NOMEM;
	}
	start = (uintptr_t)a->base + a->used;
	aligned = (start + (align - 1)) & ~(uintptr_t)(align - 1);
	pad = (size_t)(aligned - start);
	/* Written so that neither sum can wrap. */
	if (pad > a->cap - a->used || size > a->cap - a->used - pad) {
		a->failed++;
		return AL_E_NOMEM;
	}
	a->used += pad + size;
	if (a->used > a->high)
		a->high = a->used;
	*out = (void *)aligned;
	if (size)
		memset(*out, 0, size);
	return AL_OK;
}

size_t al_arena_mark(const al_arena *a)
{
	return a->used;
}

void al_arena_release(al_arena *a, size_t mark)
{
	if (mark >= a->used)
		return;
	al_memzero(a->base + mark, a->used - mark);
	a->used = mark;
}

size_t al_arena_used(const al_arena *a)
{
	return a->used;
}

size_t al_arena_available(const al_arena *a)
{
	return a->cap - a->used;
}

size_t al_arena_high_water(const al_arena *a)
{
	return a->high;
}
