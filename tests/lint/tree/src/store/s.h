/* Fixture: store and attest are siblings of one rank. */
#include "attest/t.h"
