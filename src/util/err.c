#include "util/err.h"

static const char *const err_text[] = {
#define AL_ERR_TEXT(name, text) [name] = text,
    AL_ERR_LIST(AL_ERR_TEXT)
#undef AL_ERR_TEXT
};

static const char *const err_name[] = {
#define AL_ERR_NAME(name, text) [name] = #name,
    AL_ERR_LIST(AL_ERR_NAME)
#undef AL_ERR_NAME
};

const char *al_err_str(al_err e)
{
	if ((unsigned)e >= AL_E_COUNT_)
		return "unknown error";
	return err_text[e];
}

const char *al_err_name(al_err e)
{
	if ((unsigned)e >= AL_E_COUNT_)
		return "AL_E_UNKNOWN";
	return err_name[e];
}
