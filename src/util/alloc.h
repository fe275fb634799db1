/* Memory as an input: an allocator the caller hands in.
 *
 * The core never calls malloc. Fixed structures come from an arena (util/arena.h);
 * memory whose need comes and goes (a node's wallet while it is open, a record being
 * written) comes from an al_alloc the caller provides: the enclave's fixed heap in the
 * image, malloc in tests. Running out is AL_E_NOMEM, never a crash. */
#ifndef ALIGHT_UTIL_ALLOC_H
#define ALIGHT_UTIL_ALLOC_H

#include <stddef.h>

#include "util/err.h"

typedef struct al_alloc {
	/* n bytes, 16-byte aligned and zeroed, or NULL. */
	void *(*alloc)(void *ctx, size_t n);
	/* Give back a block (NULL is ignored). The caller wipes secrets first. */
	void (*release)(void *ctx, void *p);
	void *ctx;
} al_alloc;

/* *out = n zeroed bytes from a, or AL_E_NOMEM (n == 0 is AL_E_ARG). */
static inline al_err al_alloc_get(const al_alloc *a, size_t n, void **out)
{
	*out = n ? a->alloc(a->ctx, n) : NULL;
	return *out ? AL_OK : n ? AL_E_NOMEM : AL_E_ARG;
}

static inline void al_alloc_put(const al_alloc *a, void *p)
{
	if (p)
		a->release(a->ctx, p);
}

#endif
