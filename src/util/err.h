/* Error values: one al_err type for every layer, each layer's codes its own.
 *
 * Commands return al_err (AL_OK == 0); predicates return bool. Each failure names
 * exactly what was wrong, so that a bad peer, host, storage server or user gets a
 * precise answer and tests can check the reason a specification gives. */
#ifndef ALIGHT_UTIL_ERR_H
#define ALIGHT_UTIL_ERR_H

/* AL_ERR_LIST(X): every layer's codes, X(name, text). Each layer keeps its own list in
 * src/<layer>/errors.def; scripts/gen-errors joins them, bottom layer first, into
 * gen/util/err_list.h when the build is configured (a changed list reconfigures). */
#include "util/err_list.h"

typedef enum al_err {
#define AL_ERR_ENUM(name, text) name,
	AL_ERR_LIST(AL_ERR_ENUM)
#undef AL_ERR_ENUM
	    AL_E_COUNT_
} al_err;

/* A static, human-readable description; never NULL. */
const char *al_err_str(al_err e);
/* The symbolic name ("AL_E_TRUNCATED"); never NULL. */
const char *al_err_name(al_err e);

#if defined(__GNUC__)
#define AL_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define AL_WARN_UNUSED
#endif

/* Propagate an error from a call that returns al_err. */
#define AL_TRY(expr)                                                                               \
	do {                                                                                       \
		al_err al_try_e_ = (expr);                                                         \
		if (al_try_e_ != AL_OK)                                                            \
			return al_try_e_;                                                          \
	} while (0)

#endif
