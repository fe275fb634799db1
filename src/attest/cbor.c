#include "attest/cbor.h"

#include <string.h>

#define CBOR_MAX_DEPTH 16

void al_cbor_init(al_cbor *c, const uint8_t *data, size_t len)
{
	c->p = data;
	c->end = data + len;
	c->err = AL_OK;
}

al_err al_cbor_err(const al_cbor *c)
{
	return c->err;
}

bool al_cbor_at_end(const al_cbor *c)
{
	return c->err == AL_OK && c->p == c->end;
}

static bool fail(al_cbor *c, al_err e)
{
	if (c->err == AL_OK)
		c->err = e;
	return false;
}

int al_cbor_peek(const al_cbor *c)
{
	if (c->err != AL_OK || c->p >= c->end)
		return -1;
	return c->p[0] >> 5;
}

bool al_cbor_head(al_cbor *c, uint8_t *major, uint64_t *arg)
{
	uint8_t ib, ai;
	size_t n, i;
	uint64_t v = 0;

	if (c->err != AL_OK)
		return false;
	if (c->p >= c->end)
		return fail(c, AL_E_TRUNCATED);
	ib = *c->p++;
	*major = ib >> 5;
	ai = ib & 0x1f;
	if (ai < 24) {
		*arg = ai;
		return true;
	}
	/* RFC 8949 3: 28..30 are reserved, 31 is the indefinite-length marker. */
	if (ai > 27)
		return fail(c, AL_E_ATT_CBOR);
	n = (size_t)1 << (ai - 24);
	if ((size_t)(c->end - c->p) < n)
		return fail(c, AL_E_TRUNCATED);
	for (i = 0; i < n; i++)
		v = v << 8 | c->p[i];
	c->p += n;
	*arg = v;
	return true;
}

bool al_cbor_expect(al_cbor *c, uint8_t major, uint64_t *arg)
{
	uint8_t m;

	if (!al_cbor_head(c, &m, arg))
		return false;
	return m == major ? true : fail(c, AL_E_ATT_CBOR);
}

static bool string(al_cbor *c, uint8_t major, al_att_blob *out)
{
	uint64_t len;

	if (!al_cbor_expect(c, major, &len))
		return false;
	if (len > (uint64_t)(c->end - c->p))
		return fail(c, AL_E_TRUNCATED);
	out->p = c->p;
	out->len = (size_t)len;
	c->p += len;
	return true;
}

bool al_cbor_bstr(al_cbor *c, al_att_blob *out)
{
	return string(c, AL_CBOR_BSTR, out);
}

bool al_cbor_tstr(al_cbor *c, al_att_blob *out)
{
	return string(c, AL_CBOR_TSTR, out);
}

bool al_cbor_int(al_cbor *c, int64_t *out)
{
	uint8_t m;
	uint64_t v;

	if (!al_cbor_head(c, &m, &v))
		return false;
	if ((m != AL_CBOR_UINT && m != AL_CBOR_NEGINT) || v > (uint64_t)INT64_MAX)
		return fail(c, AL_E_ATT_CBOR);
	/* RFC 8949 3.1: major type 1 encodes -1 - arg. */
	*out = m == AL_CBOR_UINT ? (int64_t)v : -1 - (int64_t)v;
	return true;
}

static bool skip(al_cbor *c, int depth)
{
	uint8_t m;
	uint64_t arg, i;

	if (depth > CBOR_MAX_DEPTH)
		return fail(c, AL_E_ATT_CBOR);
	if (!al_cbor_head(c, &m, &arg))
		return false;
	switch (m) {
	case AL_CBOR_BSTR:
	case AL_CBOR_TSTR:
		if (arg > (uint64_t)(c->end - c->p))
			return fail(c, AL_E_TRUNCATED);
		c->p += arg;
		return true;
	case AL_CBOR_ARRAY:
	case AL_CBOR_MAP:
		/* Every item takes at least one byte: bound the count by what is left. */
		if (arg > (uint64_t)(c->end - c->p))
			return fail(c, AL_E_TRUNCATED);
		for (i = 0; i < (m == AL_CBOR_MAP ? 2 * arg : arg); i++)
			if (!skip(c, depth + 1))
				return false;
		return true;
	case AL_CBOR_TAG:
		return skip(c, depth + 1);
	default:
		return true;
	}
}

bool al_cbor_skip(al_cbor *c)
{
	return skip(c, 0);
}

bool al_cbor_tstr_is(al_att_blob t, const char *s)
{
	size_t n = strlen(s);

	return t.len == n && memcmp(t.p, s, n) == 0;
}

size_t al_cbor_put_head(uint8_t *out, uint8_t major, uint64_t arg)
{
	uint8_t mt = (uint8_t)(major << 5);
	size_t n, i;

	if (arg < 24) {
		out[0] = mt | (uint8_t)arg;
		return 1;
	}
	if (arg <= 0xff)
		n = 1;
	else if (arg <= 0xffff)
		n = 2;
	else if (arg <= 0xffffffff)
		n = 4;
	else
		n = 8;
	out[0] = mt | (uint8_t)(n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
	return 1 + n;
}
