#include "ln/wire.h"

#include <string.h>

#include "util/tlv.h"

void al_wire_cur_type(al_cur *c, uint16_t type)
{
	uint16_t got = al_cur_be16(c);

	if (al_cur_ok(c) && got != type)
		al_cur_fail(c, AL_E_WIRE_TYPE);
}

const uint8_t *al_wire_cur_array(al_cur *c, uint64_t n, size_t size)
{
	if (al_cur_ok(c) && n > al_cur_remaining(c) / size) {
		al_cur_fail(c, AL_E_TRUNCATED);
		return NULL;
	}
	return al_cur_ptr(c, (size_t)n * size);
}

const uint8_t *al_wire_cur_rest(al_cur *c, size_t size, size_t *n)
{
	size_t len = al_cur_remaining(c);

	*n = 0;
	if (len % size != 0) {
		al_cur_fail(c, AL_E_TLV_VALUE_LENGTH);
		return NULL;
	}
	*n = len / size;
	return al_cur_ptr(c, len);
}

int64_t al_wire_cur_s64(al_cur *c)
{
	uint64_t u = al_cur_be64(c);
	int64_t v;

	/* Two's complement without relying on an implementation-defined conversion. */
	memcpy(&v, &u, sizeof(v));
	return v;
}

void al_wire_wb_s64(al_wb *w, int64_t v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	al_wb_be64(w, u);
}

void al_wire_wb_array(al_wb *w, const uint8_t *p, uint64_t n, size_t size)
{
	if (n == 0)
		return;
	if (!p || n > SIZE_MAX / size) {
		al_wb_fail(w, AL_E_ARG);
		return;
	}
	al_wb_bytes(w, p, (size_t)n * size);
}

void al_wire_wb_end(al_wb *w, size_t start)
{
	if (w->len - start > AL_WIRE_MAX_MSG)
		al_wb_fail(w, AL_E_TOO_LARGE);
}

al_err al_wire_check_extension(const uint8_t *p, size_t len)
{
	/* No known records: odd ones are skipped, even ones refused. */
	return al_tlv_decode(NULL, 0, NULL, p, len);
}

al_err al_wire_peek_type(uint16_t *type, const uint8_t *msg, size_t len)
{
	*type = 0;
	if (len < 2)
		return AL_E_WIRE_TOO_SHORT;
	*type = (uint16_t)(msg[0] << 8 | msg[1]);
	return AL_OK;
}

al_err al_wire_read(al_wire_msg *m, const uint8_t *msg, size_t len)
{
	memset(m, 0, sizeof(*m));
	AL_TRY(al_wire_peek_type(&m->type, msg, len));
	if (al_wire_msgtype_name(m->type) == NULL) {
		if (m->type % 2 == 0)
			return AL_E_WIRE_UNKNOWN_EVEN;
		m->ignored = true;
		return AL_OK;
	}
	return al_wire_decode_any(&m->u, msg, len);
}

al_err al_wire_ping_reply(al_wb *w, bool *reply, const struct al_wire_ping *ping)
{
	static const uint8_t zeros[64];
	size_t left = ping->num_pong_bytes, start = w->len, n;

	*reply = false;
	if (ping->num_pong_bytes >= AL_WIRE_PONG_NO_REPLY)
		return AL_OK;
	/* A pong whose `ignored` is written in pieces, so no buffer of zeros is needed:
	 * the same bytes al_wire_pong_write would give. */
	al_wb_be16(w, AL_WIRE_PONG);
	al_wb_be16(w, ping->num_pong_bytes);
	while (left > 0) {
		n = left < sizeof(zeros) ? left : sizeof(zeros);
		al_wb_bytes(w, zeros, n);
		left -= n;
	}
	al_wire_wb_end(w, start);
	*reply = al_wb_ok(w);
	return w->err;
}

bool al_wire_pong_answers(const struct al_wire_pong *pong, uint16_t num_pong_bytes)
{
	return num_pong_bytes < AL_WIRE_PONG_NO_REPLY && pong->byteslen == num_pong_bytes;
}

al_err al_wire_init_features(al_features *f, unsigned *bad, const struct al_wire_init *m)
{
	al_features_clear(f);
	AL_TRY(al_features_merge_wire(f, bad, m->globalfeatures, m->gflen));
	return al_features_merge_wire(f, bad, m->features, m->flen);
}

al_err al_wire_init_check_chain(const struct al_wire_init *m, const uint8_t chain[32])
{
	const struct al_wire_init_tlvs_networks *nw = &m->tlvs.networks;
	size_t i;

	if (!m->tlvs.has_networks)
		return AL_OK;
	for (i = 0; i < nw->num_chains; i++)
		if (memcmp(nw->chains + 32 * i, chain, 32) == 0)
			return AL_OK;
	return AL_E_WIRE_CHAIN;
}

al_err al_wire_init_accept(al_features *negotiated, unsigned *bad, const al_features *local,
                           const uint8_t chain[32], const struct al_wire_init *m)
{
	al_features remote;

	al_features_clear(negotiated);
	AL_TRY(al_wire_init_features(&remote, bad, m));
	AL_TRY(al_features_negotiate(negotiated, bad, local, &remote));
	return al_wire_init_check_chain(m, chain);
}

al_err al_wire_init_set_features(struct al_wire_init *m, uint8_t *buf, size_t cap,
                                 const al_features *local)
{
	size_t n = al_features_wire_len(local);

	if (n > cap)
		return AL_E_BUFSIZE;
	AL_TRY(al_features_to_wire(buf, n, local));
	m->gflen = 0;
	m->globalfeatures = NULL;
	m->flen = (uint16_t)n;
	m->features = buf;
	return AL_OK;
}
