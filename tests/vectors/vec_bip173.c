/* BIP 173 test vectors (bips/bip173-vectors.json), suite `bip173`: 7 valid and 12
 * invalid Bech32 strings, 6 valid and 10 invalid segwit addresses, one vector each.
 *
 * BIP 350 supersedes BIP 173 for witness versions 1 to 16. The three v1+ example
 * addresses BIP 173 calls valid (bc1pw508..., BC1SW50QA3JX3S, bc1zw508...) are
 * Bech32, so under BIP 350 they are invalid addresses: those vectors assert the
 * BIP 350 outcome (AL_E_ADDR_VARIANT) and, at the Bech32 layer, what BIP 173 says
 * about them (valid Bech32, the stated program). Every other entry has the same
 * outcome under both BIPs and is checked as BIP 173 states it. */
#include "segwit_suite.h"

int main(void)
{
	json_t *root = al_v_load_json("bips/bip173-vectors.json");
	al_v_suite s;

	al_v_begin(&s, "bip173");
	run_strings(&s, root, "valid_bech32", "invalid_bech32", AL_B32_BECH32);
	run_addresses(&s, root, true);
	al_v_end(&s);
	json_decref(root);
	return al_t_finish();
}
