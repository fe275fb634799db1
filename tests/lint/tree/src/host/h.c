#include "host/h.h"
#include "store/s.h"
