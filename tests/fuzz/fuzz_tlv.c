/* TLV streams in the BOLT #1 Appendix B namespaces n1 and n2.
 *
 * Whatever the input, decoding must not crash and must fail with one of the TLV
 * errors. A stream that decodes is re-encoded from the decoded values: decoding that
 * again must give the same values, and when the input held only known records (no
 * skipped odd ones) the re-encoding must be the input itself, since decoding accepts
 * only canonical encodings. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/bolt01_ns.h"
#include "crypto/secp.h"
#include "util/tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const al_secp *secp(void)
{
	static al_secp *ctx;
	static void *mem;

	if (!ctx) {
		size_t len = (al_secp_size() + 15) & ~(size_t)15;
		mem = aligned_alloc(16, len);
		if (!mem || al_secp_create(&ctx, mem, len, NULL) != AL_OK)
			abort();
	}
	return ctx;
}

static bool expected_err(al_err e)
{
	switch (e) {
	case AL_E_TRUNCATED:
	case AL_E_BIGSIZE_NONCANONICAL:
	case AL_E_TLV_ORDER:
	case AL_E_TLV_LENGTH:
	case AL_E_TLV_UNKNOWN_EVEN:
	case AL_E_TLV_VALUE_LENGTH:
	case AL_E_TLV_NONMINIMAL:
	case AL_E_PUBKEY:
		return true;
	default:
		return false;
	}
}

/* Number of records in a stream already known to be well formed. */
static size_t count_records(const uint8_t *data, size_t size)
{
	al_tlv_iter it;
	al_tlv_rec r;
	size_t n = 0;

	al_tlv_iter_init(&it, data, size);
	while (al_tlv_next(&it, &r))
		n++;
	if (al_tlv_iter_err(&it) != AL_OK)
		abort();
	return n;
}

static void check_n1(const uint8_t *data, size_t size)
{
	struct al_t_n1 m, back;
	uint8_t buf[128];
	al_wb w;
	al_err e = al_t_n1_decode(&m, secp(), data, size);
	size_t known;

	if (e != AL_OK) {
		if (!expected_err(e))
			abort();
		return;
	}
	al_wb_init(&w, buf, sizeof(buf));
	al_t_n1_encode(&w, &m);
	if (!al_wb_ok(&w) || al_t_n1_decode(&back, secp(), buf, w.len) != AL_OK)
		abort();
	if (back.has_tlv1 != m.has_tlv1 || back.amount_msat != m.amount_msat ||
	    back.has_tlv2 != m.has_tlv2 || back.scid != m.scid || back.has_tlv3 != m.has_tlv3 ||
	    back.amount_msat_1 != m.amount_msat_1 || back.amount_msat_2 != m.amount_msat_2 ||
	    (m.has_tlv3 && !al_pubkey_eq(secp(), &back.node_id, &m.node_id)) ||
	    back.has_tlv4 != m.has_tlv4 || back.cltv_delta != m.cltv_delta)
		abort();
	known = (size_t)m.has_tlv1 + m.has_tlv2 + m.has_tlv3 + m.has_tlv4;
	if (count_records(data, size) == known && (w.len != size || memcmp(buf, data, size) != 0))
		abort();
}

static void check_n2(const uint8_t *data, size_t size)
{
	struct al_t_n2 m, back;
	uint8_t buf[32];
	al_wb w;
	al_err e = al_t_n2_decode(&m, data, size);
	size_t known;

	if (e != AL_OK) {
		if (!expected_err(e) || e == AL_E_PUBKEY)
			abort();
		return;
	}
	al_wb_init(&w, buf, sizeof(buf));
	al_t_n2_encode(&w, &m);
	if (!al_wb_ok(&w) || al_t_n2_decode(&back, buf, w.len) != AL_OK)
		abort();
	if (back.has_tlv1 != m.has_tlv1 || back.amount_msat != m.amount_msat ||
	    back.has_tlv2 != m.has_tlv2 || back.cltv_expiry != m.cltv_expiry)
		abort();
	known = (size_t)m.has_tlv1 + m.has_tlv2;
	if (count_records(data, size) == known && (w.len != size || memcmp(buf, data, size) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_n1(data, size);
	check_n2(data, size);
	return 0;
}
