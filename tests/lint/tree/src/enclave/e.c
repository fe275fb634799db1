/* Fixture: the enclave includes node and itself (allowed) and host (refused). */
#include "enclave/abi.h"
#include "enclave/e.h"
#include "host/h.h"
#include "node/n.h"
