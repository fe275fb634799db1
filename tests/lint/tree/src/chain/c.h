/* Fixture: chain includes util (allowed). */
#include "util/u.h"
