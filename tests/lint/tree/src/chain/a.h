/* Fixture: a cycle inside one folder. */
#include "chain/b.h"
