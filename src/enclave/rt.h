/* The enclave runtime: where the libraries inside the image get their memory.
 *
 * Inside the image nothing may allocate from the host's heap. Three mechanisms, from
 * the most specific to the catch-all:
 *   - OpenSSL: CRYPTO_set_mem_functions, set by the first ecall before any other
 *     OpenSSL call (OpenSSL refuses it after its first allocation, so success is the
 *     proof that nothing was allocated before), checked with CRYPTO_get_mem_functions;
 *   - jansson: json_set_alloc_funcs; protobuf-c: the core passes its own allocator
 *     to every unpack, and the library's default one ends in malloc (below);
 *   - the C library's malloc, calloc, realloc and free as the static libraries
 *     reference them are renamed at link time (ld --wrap) to the __wrap_ functions
 *     here, so the image's symbol table has no reference to the host's allocator at
 *     all (scripts/enclave-allowlist does not list them; the enclave_symbols test
 *     fails if one appears).
 * libsecp256k1 allocates nothing: the core uses its preallocated-context API. */
#ifndef ALIGHT_ENCLAVE_RT_H
#define ALIGHT_ENCLAVE_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/heap.h"
#include "util/err.h"

/* Bind the heap and route OpenSSL and jansson to it. AL_E_CRYPTO if OpenSSL refused
 * the memory functions (it had allocated before). */
AL_WARN_UNUSED al_err al_rt_bind(al_heap *h);
/* Unbind: from now on allocation fails and frees are ignored (the heap's memory is
 * the host's again). */
void al_rt_unbind(void);
al_heap *al_rt_heap(void);
/* Whether OpenSSL's memory functions are ours (read back from OpenSSL). */
bool al_rt_crypto_routed(void);
/* Allocations OpenSSL made through our functions. */
uint64_t al_rt_crypto_allocs(void);

/* The link-time wrappers (ld --wrap=malloc etc.); not for direct use. */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

#endif
