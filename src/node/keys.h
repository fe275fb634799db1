/* Every secret of a user's node, from its BIP 39 seed, in one place.
 *
 *   mnemonic    the entropy's words (BIP 39): what the user keeps
 *   seed        PBKDF2 of the mnemonic, empty passphrase (BIP 39)
 *   node key    m/1017'/coin'/6'/0/0 of the seed, LND's KeyFamilyNodeKey
 *               (lnd keychain/derivation.go), so a seed shows the same node id in LND
 *   channels    LND's other key families of the same account m/1017'/coin' (ln/signer.h)
 *   wallet      the BIP 84 account m/84'/coin'/0' (wallet/wallet.h), from the seed
 *   storage     the record keys (store/seal.h: HKDF of the seed)
 *   credential  the user's TLS client key: P-256 from HKDF(salt = AL_NODE_CRED_LABEL,
 *               ikm = seed) (crypto/p256.h). The user's device derives it from the same
 *               words and presents it; the enclave derives it too and admits a channel
 *               only when the pins agree (node/ctl.h). No token, nothing the host made.
 *
 * Secrets live in the al_node_keys until al_node_keys_clear wipes them. */
#ifndef ALIGHT_NODE_KEYS_H
#define ALIGHT_NODE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "btc/bip39.h"
#include "crypto/secp.h"
#include "ln/signer.h"
#include "util/err.h"

struct evp_pkey_st;

#define AL_NODE_CRED_LABEL "alight/user-credential/p256/v1"

typedef struct al_node_keys {
	uint8_t entropy[AL_BIP39_ENTROPY_MAX];
	size_t entropy_len;
	uint8_t seed[AL_BIP39_SEED_LEN];
	al_signer_root root; /* m/1017'/coin': every channel's keys and the node key */
	al_privkey node_key;
	uint8_t node_id[AL_PUBKEY_LEN];
	uint8_t credential[32]; /* pin (crypto/p256.h al_pkey_pin) of the credential key */
} al_node_keys;

/* Derive everything from the entropy (16, 20, 24, 28 or 32 bytes). Errors:
 * AL_E_BIP39_ENTROPY, derivation errors (the keys are wiped then). */
AL_WARN_UNUSED al_err al_node_keys_derive(const al_secp *secp, al_node_keys *k,
                                          const uint8_t *entropy, size_t len, uint32_t coin);
void al_node_keys_clear(al_node_keys *k);

/* The user's side: the credential key of a mnemonic (len bytes, words separated by single
 * spaces), for the client certificate. al_bip39_to_seed's errors. */
AL_WARN_UNUSED al_err al_node_credential_key(struct evp_pkey_st **out, const char *mnemonic,
                                             size_t len);

#endif
