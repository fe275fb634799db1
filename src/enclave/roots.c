/* The image's trust roots, parsed on first use (enclave/roots.h). */
#include "enclave/roots.h"

static al_tls_roots *roots;

const al_tls_roots *al_enc_roots(void)
{
	size_t n;

	/* A set that parsed to another count than the generator saw is not used. */
	if (!roots &&
	    al_tls_roots_new(&roots, (const uint8_t *)al_enc_roots_pem, al_enc_roots_pem_len, &n) ==
	        AL_OK &&
	    n != al_enc_roots_count) {
		al_tls_roots_free(roots);
		roots = NULL;
	}
	return roots;
}
