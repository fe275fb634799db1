#include "enclave/rt.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>

static al_heap *heap;
static uint64_t crypto_allocs;

void *__wrap_malloc(size_t n)
{
	void *p = NULL;
	if (!heap || al_heap_alloc(heap, n, &p) != AL_OK) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p = NULL;
	if (!heap || al_heap_calloc(heap, n, size, &p) != AL_OK) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	if (!heap) {
		errno = ENOMEM;
		return NULL;
	}
	if (p && n == 0) {
		al_heap_free(heap, p);
		return NULL;
	}
	if (al_heap_realloc(heap, &p, n) != AL_OK) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void __wrap_free(void *p)
{
	if (heap)
		al_heap_free(heap, p);
}

static void *crypto_malloc(size_t n, const char *file, int line)
{
	crypto_allocs++;
	return __wrap_malloc(n);
}

static void *crypto_realloc(void *p, size_t n, const char *file, int line)
{
	crypto_allocs += p == NULL;
	return __wrap_realloc(p, n);
}

static void crypto_free(void *p, const char *file, int line)
{
	__wrap_free(p);
}

al_err al_rt_bind(al_heap *h)
{
	heap = h;
	/* OpenSSL accepts this only before its first allocation: success proves that
	 * everything OpenSSL ever holds comes from the heap. */
	if (!al_rt_crypto_routed() &&
	    !CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free))
		return AL_E_CRYPTO;
	if (!al_rt_crypto_routed())
		return AL_E_CRYPTO;
	json_set_alloc_funcs(__wrap_malloc, __wrap_free);
	return AL_OK;
}

void al_rt_unbind(void)
{
	heap = NULL;
}

al_heap *al_rt_heap(void)
{
	return heap;
}

bool al_rt_crypto_routed(void)
{
	CRYPTO_malloc_fn m;
	CRYPTO_realloc_fn r;
	CRYPTO_free_fn f;
	CRYPTO_get_mem_functions(&m, &r, &f);
	return m == crypto_malloc && r == crypto_realloc && f == crypto_free;
}

uint64_t al_rt_crypto_allocs(void)
{
	return crypto_allocs;
}
