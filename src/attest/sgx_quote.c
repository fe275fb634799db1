#include "attest/sgx_quote.h"

#include <string.h>

#include "util/cursor.h"

/* sgx_quote_3.h: the Intel QE vendor ID (939A7233-F79C-4CA9-940A-0DB3957F0607). */
static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

bool al_sgx_quote_sniff(const uint8_t *data, size_t len)
{
	uint16_t v;

	if (len < AL_SGX_HEADER_LEN)
		return false;
	v = (uint16_t)(data[0] | data[1] << 8);
	return v >= 3 && v <= 5 && data[2] == 2 && data[3] == 0;
}

static al_err parse_header(al_sgx_quote *q, al_cur *c)
{
	uint16_t key_type;
	const uint8_t *vendor;

	q->version = al_cur_le16(c);
	key_type = al_cur_le16(c);
	q->tee_type = al_cur_le32(c);
	al_cur_skip(c, 4); /* qe_svn/pce_svn (v3) or reserved: not relied upon */
	vendor = al_cur_ptr(c, 16);
	al_cur_skip(c, 20); /* user_data */
	AL_TRY(al_cur_done(c));
	if (q->version < 3 || q->version > 5)
		return AL_E_ATT_UNSUPPORTED;
	/* QVL ALLOWED_ATTESTATION_KEY_TYPES: only ECDSA-256-with-P-256 (2). */
	if (key_type != 2)
		return AL_E_ATT_UNSUPPORTED;
	if (q->tee_type != AL_SGX_TEE_SGX && q->tee_type != AL_SGX_TEE_TDX)
		return AL_E_ATT_UNSUPPORTED;
	if (q->version == 3 && q->tee_type != AL_SGX_TEE_SGX)
		return AL_E_ATT_UNSUPPORTED;
	if (memcmp(vendor, intel_qe_vendor, 16) != 0)
		return AL_E_ATT_UNSUPPORTED;
	return AL_OK;
}

static al_err body_len(al_sgx_quote *q, al_cur *c, size_t *blen)
{
	uint16_t type;
	uint32_t size;

	if (q->version == 3) {
		*blen = AL_SGX_REPORT_LEN;
		return AL_OK;
	}
	if (q->version == 4) {
		*blen = q->tee_type == AL_SGX_TEE_TDX ? AL_TDX_REPORT10_LEN : AL_SGX_REPORT_LEN;
		return AL_OK;
	}
	/* sgx_quote_5.h: body type u16 (1 SGX, 2 TD 1.0, 3 TD 1.5) and size u32. */
	type = al_cur_le16(c);
	size = al_cur_le32(c);
	if (!al_cur_ok(c))
		return AL_E_TRUNCATED;
	if ((type == 1 && size == AL_SGX_REPORT_LEN && q->tee_type == AL_SGX_TEE_SGX) ||
	    (type == 2 && size == AL_TDX_REPORT10_LEN && q->tee_type == AL_SGX_TEE_TDX) ||
	    (type == 3 && size == AL_TDX_REPORT15_LEN && q->tee_type == AL_SGX_TEE_TDX)) {
		*blen = size;
		return AL_OK;
	}
	return AL_E_ATT_FORMAT;
}

/* QE report, its signature, QE auth data and the certification data: the tail of
 * v3 signature data and the body of v4/v5's type-6 certification data. */
static al_err parse_qe_part(al_sgx_quote *q, al_cur *c)
{
	uint32_t size;

	q->qe_report = al_cur_ptr(c, AL_SGX_REPORT_LEN);
	q->qe_report_sig = al_cur_ptr(c, 64);
	q->qe_auth.len = al_cur_le16(c);
	q->qe_auth.p = al_cur_ptr(c, q->qe_auth.len);
	q->cert_type = al_cur_le16(c);
	size = al_cur_le32(c);
	if (!al_cur_ok(c))
		return AL_E_TRUNCATED;
	if (size != al_cur_remaining(c))
		return size > al_cur_remaining(c) ? AL_E_TRUNCATED : AL_E_ATT_FORMAT;
	q->cert.len = size;
	q->cert.p = al_cur_ptr(c, size);
	/* QVL Quote::validate: certification data types 1..5 (7 = manifest not here). */
	if (q->cert_type < 1 || q->cert_type > 5)
		return AL_E_ATT_FORMAT;
	return AL_OK;
}

static al_err parse_sig_data(al_sgx_quote *q, const uint8_t *p, size_t len)
{
	al_cur c;
	uint16_t type;
	uint32_t size;

	al_cur_init(&c, p, len);
	q->signature = al_cur_ptr(&c, 64);
	q->att_key = al_cur_ptr(&c, 64);
	if (q->version == 3)
		return parse_qe_part(q, &c);
	/* v4/v5: the QE part is wrapped as certification data type 6. */
	type = al_cur_le16(&c);
	size = al_cur_le32(&c);
	if (!al_cur_ok(&c))
		return AL_E_TRUNCATED;
	if (type != AL_SGX_CERT_QE_REPORT || size != al_cur_remaining(&c))
		return AL_E_ATT_FORMAT;
	return parse_qe_part(q, &c);
}

al_err al_sgx_quote_parse(al_sgx_quote *q, const uint8_t *data, size_t len)
{
	al_cur c;
	size_t blen, signed_len, i;
	uint32_t sig_len;

	memset(q, 0, sizeof(*q));
	if (len < AL_SGX_HEADER_LEN)
		return AL_E_TRUNCATED;
	al_cur_init(&c, data, AL_SGX_HEADER_LEN);
	AL_TRY(parse_header(q, &c));
	al_cur_init(&c, data + AL_SGX_HEADER_LEN, len - AL_SGX_HEADER_LEN);
	AL_TRY(body_len(q, &c, &blen));
	q->body.p = al_cur_ptr(&c, blen);
	q->body.len = blen;
	sig_len = al_cur_le32(&c);
	if (!al_cur_ok(&c))
		return AL_E_TRUNCATED;
	signed_len = (size_t)(q->body.p - data) + blen;
	q->signed_region.p = data;
	q->signed_region.len = signed_len;
	if (sig_len > al_cur_remaining(&c))
		return AL_E_TRUNCATED;
	AL_TRY(parse_sig_data(q, data + signed_len + 4, sig_len));
	q->len = signed_len + 4 + sig_len;
	for (i = q->len; i < len; i++)
		if (data[i] != 0)
			return AL_E_TRAILING;
	return AL_OK;
}

void al_sgx_report_parse(al_sgx_report *r, const uint8_t body[AL_SGX_REPORT_LEN])
{
	memcpy(r->cpusvn, body, 16);
	r->miscselect = al_read_le32(body + 16);
	memcpy(r->attributes, body + 48, 16);
	memcpy(r->mrenclave, body + 64, 32);
	memcpy(r->mrsigner, body + 128, 32);
	r->isvprodid = (uint16_t)(body[256] | body[257] << 8);
	r->isvsvn = (uint16_t)(body[258] | body[259] << 8);
	memcpy(r->report_data, body + 320, 64);
}

void al_tdx_report_parse(al_tdx_report *r, const uint8_t *b)
{
	memcpy(r->tee_tcb_svn, b, 16);
	memcpy(r->mrseam, b + 16, 48);
	memcpy(r->mrsignerseam, b + 64, 48);
	r->seam_attributes = al_read_le64(b + 112);
	r->td_attributes = al_read_le64(b + 120);
	r->xfam = al_read_le64(b + 128);
	memcpy(r->mrtd, b + 136, 48);
	memcpy(r->mrconfigid, b + 184, 48);
	memcpy(r->mrowner, b + 232, 48);
	memcpy(r->mrownerconfig, b + 280, 48);
	memcpy(r->rtmr, b + 328, 4 * 48);
	memcpy(r->report_data, b + 520, 64);
}
