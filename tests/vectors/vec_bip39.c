/* BIP 39 vectors from trezor/python-mnemonic (bips/bip39-trezor-vectors-english.json),
 * suite `bip39`: the 24 English entries, one vector each, with the file's passphrase
 * ("TREZOR"). An entry passes when its entropy gives exactly its mnemonic, the
 * mnemonic gives back the entropy, mnemonic and passphrase give the stated seed, and
 * the seed gives the stated BIP 32 master xprv. */
#include <string.h>

#include "btc/bip32.h"
#include "btc/bip39.h"
#include "test.h"
#include "vectors.h"

static bool check_entry(const json_t *e, const char *pass)
{
	size_t entlen, seedlen, n = 0;
	const uint8_t *entropy = al_t_unhex(json_string_value(json_array_get(e, 0)), &entlen);
	const char *mnemonic = json_string_value(json_array_get(e, 1));
	const uint8_t *want_seed = al_t_unhex(json_string_value(json_array_get(e, 2)), &seedlen);
	const char *want_xprv = json_string_value(json_array_get(e, 3));
	char words[AL_BIP39_MNEMONIC_BUFLEN], xprv[AL_BIP32_STR_BUFLEN];
	uint8_t ent[AL_BIP39_ENTROPY_MAX], seed[AL_BIP39_SEED_LEN];
	al_xkey master;
	bool ok;

	ok = al_bip39_from_entropy(words, sizeof(words), entropy, entlen) == AL_OK &&
	     strcmp(words, mnemonic) == 0;
	ok = ok && al_bip39_to_entropy(ent, sizeof(ent), &n, mnemonic, strlen(mnemonic)) == AL_OK &&
	     n == entlen && memcmp(ent, entropy, n) == 0;
	ok = ok && seedlen == sizeof(seed) &&
	     al_bip39_to_seed(seed, mnemonic, strlen(mnemonic), pass, strlen(pass)) == AL_OK &&
	     memcmp(seed, want_seed, sizeof(seed)) == 0;
	ok =
	    ok && al_bip32_master(al_t_secp(), &master, seed, sizeof(seed)) == AL_OK &&
	    al_bip32_to_base58(al_t_secp(), xprv, sizeof(xprv), &master, AL_NET_MAINNET) == AL_OK &&
	    strcmp(xprv, want_xprv) == 0;
	al_xkey_clear(&master);
	return ok;
}

int main(void)
{
	json_t *root = al_v_load_json("bips/bip39-trezor-vectors-english.json");
	const char *pass = al_v_str(root, "passphrase");
	const json_t *e;
	al_v_suite s;
	size_t i;

	al_v_begin(&s, "bip39");
	json_array_foreach(json_object_get(root, "english"), i, e)
	{
		bool ok = json_array_size(e) == 4 && check_entry(e, pass);
		al_v_result(&s, ok, "entry %zu: %s", i, json_string_value(json_array_get(e, 1)));
	}
	al_v_end(&s);
	json_decref(root);
	return al_t_finish();
}
