/* Fixture: node includes core (allowed) and the enclave (refused). */
#include "chain/c.h"
#include "enclave/e.h"
