/* The host's randomness: the kernel's CSPRNG behind the core's al_rng interface. */
#ifndef ALIGHT_HOST_OS_RNG_H
#define ALIGHT_HOST_OS_RNG_H

#include "crypto/rng.h"

/* An al_rng backed by getrandom(2). */
void al_os_rng(al_rng *rng);

#endif
