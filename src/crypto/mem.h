/* Secret hygiene: wiping and constant-time comparison (OpenSSL's implementations). */
#ifndef ALIGHT_CRYPTO_MEM_H
#define ALIGHT_CRYPTO_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Overwrite with zeroes in a way the compiler may not elide. */
void al_memzero(void *p, size_t len);
/* Constant-time equality of two equal-length buffers. */
bool al_memeq_ct(const void *a, const void *b, size_t len);

#endif
