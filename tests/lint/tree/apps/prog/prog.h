/* Fixture: a program includes its own header, host and the core (allowed). */
#include "host/h.h"
