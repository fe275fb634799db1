/* JSON writer (see jsonw.h). */
#include "jsonw.h"

#include <stdio.h>
#include <string.h>

void jw_raw(al_wb *w, const char *s)
{
	al_wb_bytes(w, s, strlen(s));
}

void jw_strn(al_wb *w, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";

	al_wb_u8(w, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			al_wb_u8(w, '\\');
			al_wb_u8(w, c);
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};

			al_wb_bytes(w, esc, sizeof(esc));
		} else {
			al_wb_u8(w, c);
		}
	}
	al_wb_u8(w, '"');
}

void jw_str(al_wb *w, const char *s)
{
	jw_strn(w, s, strlen(s));
}

void jw_hex(al_wb *w, const uint8_t *p, size_t n)
{
	static const char hexd[] = "0123456789abcdef";

	al_wb_u8(w, '"');
	for (size_t i = 0; i < n; i++) {
		al_wb_u8(w, (uint8_t)hexd[p[i] >> 4]);
		al_wb_u8(w, (uint8_t)hexd[p[i] & 15]);
	}
	al_wb_u8(w, '"');
}

void jw_u64(al_wb *w, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

	al_wb_bytes(w, buf, (size_t)n);
}

void jw_key(al_wb *w, const char *key, int first)
{
	if (!first)
		al_wb_u8(w, ',');
	jw_str(w, key);
	al_wb_u8(w, ':');
}
