#include "host/os_rng.h"

#include <errno.h>
#include <sys/random.h>

static al_err os_fill(void *state, uint8_t *out, size_t len)
{
	(void)state;
	while (len) {
		ssize_t got = getrandom(out, len, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return AL_E_CRYPTO;
		}
		out += got;
		len -= (size_t)got;
	}
	return AL_OK;
}

void al_os_rng(al_rng *rng)
{
	rng->fill = os_fill;
	rng->state = NULL;
}
