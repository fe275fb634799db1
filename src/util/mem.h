/* Secret hygiene: wiping and constant-time comparison (OpenSSL's implementations, so
 * util may use them without reaching up into crypto). */
#ifndef ALIGHT_UTIL_MEM_H
#define ALIGHT_UTIL_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Overwrite with zeroes in a way the compiler may not elide. */
void al_memzero(void *p, size_t len);
/* Constant-time equality of two equal-length buffers. */
bool al_memeq_ct(const void *a, const void *b, size_t len);

/* Mark a value computed from secrets as public by design (a success flag, a
 * signature, a public key) before code branches on it. A no-op in normal builds; in
 * the constant-time test build (ALIGHT_CTIME, tests/ctime) it tells valgrind the
 * value may be branched on, exactly as libsecp256k1's secp256k1_declassify does. */
#ifdef ALIGHT_CTIME
#include <valgrind/memcheck.h>
#define al_declassify(p, len) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (len)))
#else
#define al_declassify(p, len) ((void)(p), (void)(len))
#endif

#endif
