#include "node/keys.h"

#include <string.h>

#include <openssl/evp.h>

#include "btc/bip32.h"
#include "util/mem.h"
#include "crypto/p256.h"

static al_err credential(struct evp_pkey_st **out, const uint8_t seed[AL_BIP39_SEED_LEN])
{
	return al_p256_derive(out, seed, AL_BIP39_SEED_LEN, AL_NODE_CRED_LABEL);
}

static al_err node_key(const al_secp *secp, al_node_keys *k, uint32_t coin)
{
	const uint32_t path[] = {AL_NODE_KEY_PURPOSE | AL_BIP32_HARDENED, coin | AL_BIP32_HARDENED,
	                         AL_NODE_FAMILY_NODE_KEY | AL_BIP32_HARDENED, 0, 0};
	al_xkey master, child;
	al_err e;

	memset(&master, 0, sizeof(master));
	memset(&child, 0, sizeof(child));
	e = al_bip32_master(secp, &master, k->seed, sizeof(k->seed));
	if (e == AL_OK)
		e = al_bip32_derive(secp, &child, &master, path, sizeof(path) / sizeof(path[0]));
	if (e == AL_OK) {
		k->node_key = child.priv;
		al_pubkey_serialize(secp, k->node_id, &child.pub);
	}
	al_xkey_clear(&master);
	al_xkey_clear(&child);
	return e;
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
