/* Fixture: host includes the ABI (allowed) and enclave internals (refused). */
#include "enclave/abi.h"
#include "enclave/e.h"
