/* Fixture: util includes chain (upward), which includes util back (a cycle). */
#include "chain/c.h"
