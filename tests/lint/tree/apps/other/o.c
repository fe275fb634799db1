/* Fixture: a program reaching into another program's folder. */
#include "../prog/prog.h"
