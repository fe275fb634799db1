/* Certificate-extension parsers. The first byte picks one: 0 the PCK certificate's
 * SGX extension (DER), 1 TCG DICE tagged evidence (CBOR), 2 DICE claims, 3 the Open
 * Enclave header, 4 a whole certificate (VCEK extensions, then RA-TLS appraisal),
 * 5 a PSA token (COSE and claims). */
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/dcap.h"
#include "attest/psa.h"
#include "attest/ratls.h"
#include "attest/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cert(const uint8_t *p, size_t n)
{
	static uint8_t mem[AL_ATT_SCRATCH_SIZE];
	al_snp_vcek_ext ext;
	al_att_result res = {0};
	al_att_input in = {0};
	al_arena a;
	al_err e;

	e = al_snp_vcek_ext_parse(&ext, p, n);
	if (n == 0) {
		(void)e;
		return;
	}
	al_arena_init(&a, mem, sizeof(mem));
	in.evidence = p;
	in.evidence_len = n;
	e = al_ratls_verify(&a, &res, &in);
	(void)e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	al_sgx_pck_ext pck;
	al_att_blob q, c, h;
	int64_t alg;
	al_cose_sign1 s;
	al_att_result res;
	al_err e = AL_OK;

	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0:
		e = al_sgx_pck_ext_parse(&pck, data + 1, size - 1);
		break;
	case 1:
		if (al_dice_evidence_parse(&q, &c, data + 1, size - 1) == AL_OK)
			e = al_dice_pubkey_hash(&alg, &h, c.p, c.len);
		break;
	case 2:
		e = al_dice_pubkey_hash(&alg, &h, data + 1, size - 1);
		break;
	case 3:
		e = al_oe_evidence_parse(&q, data + 1, size - 1);
		break;
	case 4:
		cert(data + 1, size - 1);
		break;
	default:
		if (al_cose_parse(&s, data + 1, size - 1) == AL_OK)
			e = al_psa_claims_parse(&res, s.payload.p, s.payload.len);
	}
	(void)e;
	return 0;
}
