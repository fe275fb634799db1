#include "node/keys.h"

#include <string.h>

#include <openssl/evp.h>

#include "util/mem.h"
#include "crypto/p256.h"

static al_err credential(struct evp_pkey_st **out, const uint8_t seed[AL_BIP39_SEED_LEN])
{
	return al_p256_derive(out, seed, AL_BIP39_SEED_LEN, AL_NODE_CRED_LABEL);
}

/* The node key is LND's: family 6, index 0 of the account every channel key comes from
 * (ln/signer.h), derived there once. */
static al_err node_key(const al_secp *secp, al_node_keys *k, uint32_t coin)
{
	al_pubkey pub;

	AL_TRY(al_signer_root_init(&k->root, secp, k->seed, sizeof(k->seed), coin));
	AL_TRY(al_signer_root_key(&k->root, secp, &k->node_key, AL_SIGNER_FAMILY_NODE_KEY, 0));
	AL_TRY(al_pubkey_from_privkey(secp, &pub, &k->node_key));
	al_pubkey_serialize(secp, k->node_id, &pub);
	return AL_OK;
}

al_err al_node_keys_derive(const al_secp *secp, al_node_keys *k, const uint8_t *entropy, size_t len,
                           uint32_t coin)
{
	char words[AL_BIP39_MNEMONIC_BUFLEN];
	struct evp_pkey_st *cred = NULL;
	al_err e;

	memset(k, 0, sizeof(*k));
	if (len > sizeof(k->entropy))
		return AL_E_BIP39_ENTROPY;
	e = al_bip39_from_entropy(words, sizeof(words), entropy, len);
	if (e == AL_OK)
		e = al_bip39_to_seed(k->seed, words, strlen(words), "", 0);
	al_memzero(words, sizeof(words));
	if (e == AL_OK)
		e = node_key(secp, k, coin);
	if (e == AL_OK)
		e = credential(&cred, k->seed);
	if (e == AL_OK)
		e = al_pkey_pin(k->credential, cred);
	EVP_PKEY_free(cred);
	if (e != AL_OK) {
		al_node_keys_clear(k);
		return e;
	}
	memcpy(k->entropy, entropy, len);
	k->entropy_len = len;
	return AL_OK;
}

void al_node_keys_clear(al_node_keys *k)
{
	al_privkey_clear(&k->node_key);
	al_signer_root_clear(&k->root);
	al_memzero(k, sizeof(*k));
}

al_err al_node_credential_key(struct evp_pkey_st **out, const char *mnemonic, size_t len)
{
	uint8_t seed[AL_BIP39_SEED_LEN];
	al_err e = al_bip39_to_seed(seed, mnemonic, len, "", 0);

	*out = NULL;
	if (e == AL_OK)
		e = credential(out, seed);
	al_memzero(seed, sizeof(seed));
	return e;
}
