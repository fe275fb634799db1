/* SEV-SNP report parser, and full verification without the VCEK inputs (which
 * stops after parsing) to cover detection and result filling. */
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[AL_ATT_SCRATCH_SIZE];
	al_snp_report r;
	al_att_result res;
	al_att_input in = {0};
	al_arena a;
	al_err e;

	e = al_snp_report_parse(&r, data, size);
	if (size == 0)
		return (int)(e & 0);
	al_arena_init(&a, mem, sizeof(mem));
	in.evidence = data;
	in.evidence_len = size;
	e = al_att_verify(&a, &res, &in);
	(void)e;
	return 0;
}
