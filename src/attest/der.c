#include "attest/der.h"

#include <string.h>

static int b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

al_err al_att_base64_decode(uint8_t *out, size_t cap, size_t *outlen, const uint8_t *b64,
                            size_t len)
{
	size_t i, o = 0;

	if (len == 0 || len % 4 != 0)
		return AL_E_ATT_PEM;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;
		uint32_t w;

		for (k = 0; k < 4; k++) {
			if (b64[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			/* '=' followed by data is not padding. */
			if (pad)
				return AL_E_ATT_PEM;
			v[k] = b64_value(b64[i + k]);
			if (v[k] < 0)
				return AL_E_ATT_PEM;
		}
		/* RFC 4648 3.5: pad bits must be zero, or two encodings decode alike. */
		if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf)))
			return AL_E_ATT_PEM;
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		    (uint32_t)v[3];
		if (o + 3 - (size_t)pad > cap)
			return AL_E_BUFSIZE;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return AL_OK;
}

size_t al_att_base64_encode(char *out, size_t cap, const uint8_t *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, i;

	if ((len + 2) / 3 * 4 > cap)
		return 0;
	for (i = 0; i < len; i += 3) {
		uint32_t w = (uint32_t)data[i] << 16;

		if (i + 1 < len)
			w |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			w |= data[i + 2];
		out[o++] = tab[w >> 18 & 63];
		out[o++] = tab[w >> 12 & 63];
		out[o++] = i + 1 < len ? tab[w >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? tab[w & 63] : '=';
	}
	return o;
}

/* One line starting at text[*pos]: its content length and the offset after its
 * LF or CRLF. A missing final line ending is accepted at the end of the input. */
static al_err next_line(const uint8_t *text, size_t len, size_t *pos, al_att_blob *line)
{
	size_t s = *pos, e = s;

	while (e < len && text[e] != '\n' && text[e] != '\r')
		e++;
	line->p = text + s;
	line->len = e - s;
	if (e == len) {
		*pos = e;
		return AL_OK;
	}
	if (text[e] == '\r') {
		if (e + 1 >= len || text[e + 1] != '\n')
			return AL_E_ATT_PEM;
		e++;
	}
	*pos = e + 1;
	return AL_OK;
}

static bool is_boundary(al_att_blob line, const char *kind, const char *label)
{
	size_t kl = strlen(kind), ll = strlen(label);

	if (line.len != 5 + kl + 1 + ll + 5)
		return false;
	return memcmp(line.p, "-----", 5) == 0 && memcmp(line.p + 5, kind, kl) == 0 &&
	       line.p[5 + kl] == ' ' && memcmp(line.p + 6 + kl, label, ll) == 0 &&
	       memcmp(line.p + 6 + kl + ll, "-----", 5) == 0;
}

/* Decode the base64 lines of one block (the BEGIN line already read) into `der`. */
static al_err pem_block(const uint8_t *text, size_t len, size_t *pos, const char *label,
                        uint8_t *der, size_t cap, size_t *derlen)
{
	al_att_blob line;
	size_t n = 0, got;
	bool last_short = false;

	for (;;) {
		if (*pos >= len)
			return AL_E_ATT_PEM;
		AL_TRY(next_line(text, len, pos, &line));
		if (is_boundary(line, "END", label))
			break;
		/* RFC 7468 strict form: full 64-character lines, one shorter or padded
		 * line last. */
		if (line.len == 0 || line.len > 64 || line.len % 4 != 0 || last_short)
			return AL_E_ATT_PEM;
		AL_TRY(al_att_base64_decode(der + n, cap - n, &got, line.p, line.len));
		n += got;
		last_short = line.len < 64 || got < line.len / 4 * 3;
	}
	if (n == 0)
		return AL_E_ATT_PEM;
	*derlen = n;
	return AL_OK;
}

al_err al_att_pem_decode(al_arena *a, al_att_blob *out, size_t max, size_t *n, const char *label,
                         const uint8_t *text, size_t len)
{
	size_t pos = 0, count = 0;

	while (pos < len) {
		al_att_blob line;
		uint8_t *der;
		size_t derlen, cap;

		AL_TRY(next_line(text, len, &pos, &line));
		if (line.len == 0)
			continue; /* blank lines between and after blocks */
		if (!is_boundary(line, "BEGIN", label))
			return AL_E_ATT_PEM;
		if (count == max)
			return AL_E_TOO_LARGE;
		/* The decoded block is at most 3/4 of what is left. */
		cap = (len - pos) / 4 * 3 + 3;
		AL_TRY(al_arena_alloc(a, cap, 1, (void **)&der));
		AL_TRY(pem_block(text, len, &pos, label, der, cap, &derlen));
		out[count].p = der;
		out[count].len = derlen;
		count++;
	}
	if (count == 0)
		return AL_E_ATT_PEM;
	*n = count;
	return AL_OK;
}

al_err al_der_next(al_att_blob *in, uint8_t *tag, al_att_blob *val)
{
	const uint8_t *p = in->p;
	size_t left = in->len, len, nlen, i;

	if (left < 2)
		return AL_E_ATT_DER;
	/* Multi-byte tags (low bits 11111) never occur in the structures read here. */
	if ((p[0] & 0x1f) == 0x1f)
		return AL_E_ATT_DER;
	*tag = p[0];
	len = p[1];
	p += 2;
	left -= 2;
	if (len & 0x80) {
		nlen = len & 0x7f;
		/* X.690 10.1: definite form, minimal number of length octets. */
		if (nlen == 0 || nlen > 4 || nlen > left || p[0] == 0)
			return AL_E_ATT_DER;
		len = 0;
		for (i = 0; i < nlen; i++)
			len = len << 8 | p[i];
		if (len < 0x80)
			return AL_E_ATT_DER;
		p += nlen;
		left -= nlen;
	}
	if (len > left)
		return AL_E_ATT_DER;
	val->p = p;
	val->len = len;
	in->p = p + len;
	in->len = left - len;
	return AL_OK;
}

al_err al_der_uint(al_att_blob val, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (val.len == 0 || (val.p[0] & 0x80))
		return AL_E_ATT_DER;
	/* X.690 8.3.2: no superfluous leading zero. */
	if (val.len > 1 && val.p[0] == 0 && !(val.p[1] & 0x80))
		return AL_E_ATT_DER;
	if (val.len > 9 || (val.len == 9 && val.p[0] != 0))
		return AL_E_RANGE;
	for (i = 0; i < val.len; i++)
		v = v << 8 | val.p[i];
	*out = v;
	return AL_OK;
}

bool al_att_blob_eq(al_att_blob a, const uint8_t *p, size_t len)
{
	return a.len == len && (len == 0 || memcmp(a.p, p, len) == 0);
}

static bool digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

al_err al_att_parse_time(int64_t *out, const char *s, size_t len)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se;
	size_t end = 19;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return AL_E_ARG;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return AL_E_ARG;
	if (s[end] == '.') {
		end++;
		while (end < len && s[end] >= '0' && s[end] <= '9')
			end++;
		if (end == 20)
			return AL_E_ARG;
	}
	if (end + 1 != len || (s[end] != 'Z' && s[end] != 'z'))
		return AL_E_ARG;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return AL_E_ARG;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return AL_E_ARG;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
	return AL_OK;
}
