#include "util/amount.h"

bool al_msat_add(al_msat *out, al_msat a, al_msat b)
{
	if (a.msat > UINT64_MAX - b.msat)
		return false;
	out->msat = a.msat + b.msat;
	return true;
}

bool al_msat_sub(al_msat *out, al_msat a, al_msat b)
{
	if (a.msat < b.msat)
		return false;
	out->msat = a.msat - b.msat;
	return true;
}

bool al_sat_add(al_sat *out, al_sat a, al_sat b)
{
	if (a.sat > UINT64_MAX - b.sat)
		return false;
	out->sat = a.sat + b.sat;
	return true;
}

bool al_sat_sub(al_sat *out, al_sat a, al_sat b)
{
	if (a.sat < b.sat)
		return false;
	out->sat = a.sat - b.sat;
	return true;
}

bool al_sat_mul(al_sat *out, al_sat a, uint64_t b)
{
	if (b != 0 && a.sat > UINT64_MAX / b)
		return false;
	out->sat = a.sat * b;
	return true;
}

bool al_sat_to_msat(al_msat *out, al_sat s)
{
	if (s.sat > UINT64_MAX / 1000)
		return false;
	out->msat = s.sat * 1000;
	return true;
}

bool al_msat_to_sat_exact(al_sat *out, al_msat m)
{
	if (m.msat % 1000)
		return false;
	out->sat = m.msat / 1000;
	return true;
}

al_sat al_msat_to_sat_floor(al_msat m)
{
	return (al_sat){m.msat / 1000};
}

bool al_sat_is_valid_money(al_sat s)
{
	return s.sat <= AL_MAX_MONEY_SAT;
}

bool al_msat_less(al_msat a, al_msat b)
{
	return a.msat < b.msat;
}

bool al_sat_less(al_sat a, al_sat b)
{
	return a.sat < b.sat;
}
