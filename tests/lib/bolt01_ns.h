/* The two TLV namespaces of BOLT #1 Appendix B, n1 and n2, as codecs for the
 * vector test (tests/vectors/vec_bolt01.c) and the TLV fuzz target.
 *
 * Header-only (static inline) because fuzz targets link only the core library. */
#ifndef ALIGHT_TESTS_BOLT01_NS_H
#define ALIGHT_TESTS_BOLT01_NS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "crypto/secp.h"
#include "util/bigsize.h"
#include "util/tlv.h"

/* 1. `tlv_stream`: `n1`
 * 2. types:
 *    1. type: 1 (`tlv1`)    data: [`tu64`:`amount_msat`]
 *    1. type: 2 (`tlv2`)    data: [`short_channel_id`:`scid`]
 *    1. type: 3 (`tlv3`)    data: [`point`:`node_id`] [`u64`:`amount_msat_1`]
 *                                 [`u64`:`amount_msat_2`]
 *    1. type: 254 (`tlv4`)  data: [`u16`:`cltv_delta`] */
struct al_t_n1 {
	const al_secp *secp; /* set by the caller before decoding or encoding */
	bool has_tlv1, has_tlv2, has_tlv3, has_tlv4;
	uint64_t amount_msat;
	uint64_t scid;
	al_pubkey node_id;
	uint64_t amount_msat_1, amount_msat_2;
	uint16_t cltv_delta;
};

/* 1. `tlv_stream`: `n2`
 * 2. types:
 *    1. type: 0 (`tlv1`)    data: [`tu64`:`amount_msat`]
 *    1. type: 11 (`tlv2`)   data: [`tu32`:`cltv_expiry`] */
struct al_t_n2 {
	bool has_tlv1, has_tlv2;
	uint64_t amount_msat;
	uint32_t cltv_expiry;
};

static inline al_err al_t_n1_tlv1_dec(void *ctx, al_cur *c)
{
	struct al_t_n1 *m = ctx;

	m->amount_msat = al_cur_tu64(c);
	m->has_tlv1 = true;
	return AL_OK;
}

static inline bool al_t_n1_tlv1_enc(const void *ctx, al_wb *w)
{
	const struct al_t_n1 *m = ctx;

	if (!m->has_tlv1)
		return false;
	al_wb_tu64(w, m->amount_msat);
	return true;
}

static inline al_err al_t_n1_tlv2_dec(void *ctx, al_cur *c)
{
	struct al_t_n1 *m = ctx;

	m->scid = al_cur_be64(c);
	m->has_tlv2 = true;
	return AL_OK;
}

static inline bool al_t_n1_tlv2_enc(const void *ctx, al_wb *w)
{
	const struct al_t_n1 *m = ctx;

	if (!m->has_tlv2)
		return false;
	al_wb_be64(w, m->scid);
	return true;
}

static inline al_err al_t_n1_tlv3_dec(void *ctx, al_cur *c)
{
	struct al_t_n1 *m = ctx;
	const uint8_t *p = al_cur_ptr(c, AL_PUBKEY_LEN);

	m->amount_msat_1 = al_cur_be64(c);
	m->amount_msat_2 = al_cur_be64(c);
	if (!al_cur_ok(c))
		return c->err;
	/* BOLT #1: `point`: "a 33-byte Elliptic Curve point (compressed encoding as per
	 * SEC 1 standard)". */
	AL_TRY(al_pubkey_parse(m->secp, &m->node_id, p, AL_PUBKEY_LEN));
	m->has_tlv3 = true;
	return AL_OK;
}

static inline bool al_t_n1_tlv3_enc(const void *ctx, al_wb *w)
{
	const struct al_t_n1 *m = ctx;
	uint8_t pk[AL_PUBKEY_LEN];

	if (!m->has_tlv3)
		return false;
	al_pubkey_serialize(m->secp, pk, &m->node_id);
	al_wb_bytes(w, pk, sizeof(pk));
	al_wb_be64(w, m->amount_msat_1);
	al_wb_be64(w, m->amount_msat_2);
	return true;
}

static inline al_err al_t_n1_tlv4_dec(void *ctx, al_cur *c)
{
	struct al_t_n1 *m = ctx;

	m->cltv_delta = al_cur_be16(c);
	m->has_tlv4 = true;
	return AL_OK;
}

static inline bool al_t_n1_tlv4_enc(const void *ctx, al_wb *w)
{
	const struct al_t_n1 *m = ctx;

	if (!m->has_tlv4)
		return false;
	al_wb_be16(w, m->cltv_delta);
	return true;
}

static inline al_err al_t_n2_tlv1_dec(void *ctx, al_cur *c)
{
	struct al_t_n2 *m = ctx;

	m->amount_msat = al_cur_tu64(c);
	m->has_tlv1 = true;
	return AL_OK;
}

static inline bool al_t_n2_tlv1_enc(const void *ctx, al_wb *w)
{
	const struct al_t_n2 *m = ctx;

	if (!m->has_tlv1)
		return false;
	al_wb_tu64(w, m->amount_msat);
	return true;
}

static inline al_err al_t_n2_tlv2_dec(void *ctx, al_cur *c)
{
	struct al_t_n2 *m = ctx;

	m->cltv_expiry = al_cur_tu32(c);
	m->has_tlv2 = true;
	return AL_OK;
}

static inline bool al_t_n2_tlv2_enc(const void *ctx, al_wb *w)
{
	const struct al_t_n2 *m = ctx;

	if (!m->has_tlv2)
		return false;
	al_wb_tu32(w, m->cltv_expiry);
	return true;
}

/* The tables live inside functions so that a file using only one of them compiles
 * without unused-variable warnings. */
static inline const al_tlv_type *al_t_n1_types(size_t *n)
{
	static const al_tlv_type types[] = {
	    {1, al_t_n1_tlv1_dec, al_t_n1_tlv1_enc},
	    {2, al_t_n1_tlv2_dec, al_t_n1_tlv2_enc},
	    {3, al_t_n1_tlv3_dec, al_t_n1_tlv3_enc},
	    {254, al_t_n1_tlv4_dec, al_t_n1_tlv4_enc},
	};
	*n = sizeof(types) / sizeof(types[0]);
	return types;
}

static inline const al_tlv_type *al_t_n2_types(size_t *n)
{
	static const al_tlv_type types[] = {
	    {0, al_t_n2_tlv1_dec, al_t_n2_tlv1_enc},
	    {11, al_t_n2_tlv2_dec, al_t_n2_tlv2_enc},
	};
	*n = sizeof(types) / sizeof(types[0]);
	return types;
}

static inline al_err al_t_n1_decode(struct al_t_n1 *m, const al_secp *secp, const uint8_t *s,
                                    size_t len)
{
	size_t n;
	const al_tlv_type *t = al_t_n1_types(&n);

	memset(m, 0, sizeof(*m));
	m->secp = secp;
	return al_tlv_decode(t, n, m, s, len);
}

static inline al_err al_t_n2_decode(struct al_t_n2 *m, const uint8_t *s, size_t len)
{
	size_t n;
	const al_tlv_type *t = al_t_n2_types(&n);

	memset(m, 0, sizeof(*m));
	return al_tlv_decode(t, n, m, s, len);
}

static inline void al_t_n1_encode(al_wb *w, const struct al_t_n1 *m)
{
	size_t n;
	const al_tlv_type *t = al_t_n1_types(&n);

	al_tlv_encode(w, t, n, m);
}

static inline void al_t_n2_encode(al_wb *w, const struct al_t_n2 *m)
{
	size_t n;
	const al_tlv_type *t = al_t_n2_types(&n);

	al_tlv_encode(w, t, n, m);
}

#endif
