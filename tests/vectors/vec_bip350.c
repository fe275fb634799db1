/* BIP 350 test vectors (bips/bip350-vectors.json), suite `bip350`: 7 valid and 14
 * invalid Bech32m strings, 8 valid and 15 invalid segwit addresses, one vector each.
 * Valid strings must decode as Bech32m and re-encode to themselves in lower case;
 * valid addresses must give the stated scriptPubKey; each invalid entry must fail
 * with the error that names its stated reason (segwit_suite.h). */
#include "segwit_suite.h"

int main(void)
{
	json_t *root = al_v_load_json("bips/bip350-vectors.json");
	al_v_suite s;

	al_v_begin(&s, "bip350");
	run_strings(&s, root, "valid_bech32m", "invalid_bech32m", AL_B32_BECH32M);
	run_addresses(&s, root, false);
	al_v_end(&s);
	json_decref(root);
	return al_t_finish();
}
