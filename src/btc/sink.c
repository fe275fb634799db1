#include "btc/sink.h"

void al_sink_bytes(al_sink *s, const void *p, size_t n)
{
	if (s->w)
		al_wb_bytes(s->w, p, n);
	else if (n)
		al_sha256_update(s->h, p, n);
}

void al_sink_le32(al_sink *s, uint32_t v)
{
	uint8_t b[4];

	al_write_le32(b, v);
	al_sink_bytes(s, b, sizeof(b));
}

void al_sink_le64(al_sink *s, uint64_t v)
{
	uint8_t b[8];

	al_write_le64(b, v);
	al_sink_bytes(s, b, sizeof(b));
}

void al_sink_compactsize(al_sink *s, uint64_t v)
{
	uint8_t b[9];
	al_wb w;

	al_wb_init(&w, b, sizeof(b));
	al_wb_compactsize(&w, v);
	al_sink_bytes(s, b, w.len);
}

void al_sink_varbytes(al_sink *s, const uint8_t *p, size_t n)
{
	al_sink_compactsize(s, n);
	al_sink_bytes(s, p, n);
}
