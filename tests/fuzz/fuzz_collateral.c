/* Collateral JSON: the first byte picks QuoteCollateralV3 (then the TCB Info and
 * QE Identity it carries), a bare TCB Info, a bare QE Identity, or a policy file. */
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "attest/collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[AL_ATT_SCRATCH_SIZE];
	al_arena a;
	al_att_collateral c;
	al_att_tcb_info t;
	al_att_qe_identity q;
	al_att_policy p;
	al_err e = AL_OK;

	if (size < 1)
		return 0;
	al_arena_init(&a, mem, sizeof(mem));
	switch (data[0] % 4) {
	case 0:
		if (al_att_collateral_parse(&a, &c, data + 1, size - 1) == AL_OK) {
			e = al_att_tcb_info_parse(&a, &t, c.tcb_info.p, c.tcb_info.len);
			e = al_att_qe_identity_parse(&a, &q, c.qe_identity.p, c.qe_identity.len);
		}
		break;
	case 1:
		e = al_att_tcb_info_parse(&a, &t, data + 1, size - 1);
		break;
	case 2:
		e = al_att_qe_identity_parse(&a, &q, data + 1, size - 1);
		break;
	default:
		e = al_att_policy_parse(&p, data + 1, size - 1);
	}
	(void)e;
	return 0;
}
