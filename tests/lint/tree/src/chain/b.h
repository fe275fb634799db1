#include "chain/a.h"
