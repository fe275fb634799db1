#include "prog.h"
#include "util/u.h"
