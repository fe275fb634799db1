#include "util/mem.h"

#include <openssl/crypto.h>

void al_memzero(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

bool al_memeq_ct(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
