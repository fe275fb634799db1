/* Fixture: attest includes util (allowed). A commented-out include is no include:
#include "host/h.h"
 */
#include "util/u.h"
