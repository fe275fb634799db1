/* BIP 32 hierarchical deterministic keys: master key from a seed, child key
 * derivation (private and public, hardened and normal), fingerprints, paths such as
 * "m/0'/1/2h", and the 78-byte serialization with its Base58Check form (xprv/xpub,
 * tprv/tpub).
 *
 * An al_xkey holds a chain code and a private key: al_xkey_clear it when done. */
#ifndef ALIGHT_BTC_BIP32_H
#define ALIGHT_BTC_BIP32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "crypto/secp.h"
#include "util/err.h"

/* "The hardened child keys use indices 2^31 through 2^32-1." */
#define AL_BIP32_HARDENED   0x80000000u
#define AL_BIP32_SERIAL_LEN 78
/* "a Base58-encoded string of up to 112 characters", plus NUL. */
#define AL_BIP32_STR_BUFLEN 113
/* "Generate a seed byte sequence S of a chosen length (between 128 and 512 bits". */
#define AL_BIP32_SEED_MIN 16
#define AL_BIP32_SEED_MAX 64
/* The depth is one byte. */
#define AL_BIP32_MAX_DEPTH 255

/* Version bytes (BIP 32 "Serialization format"). */
#define AL_BIP32_XPRV 0x0488ADE4u
#define AL_BIP32_XPUB 0x0488B21Eu
#define AL_BIP32_TPRV 0x04358394u
#define AL_BIP32_TPUB 0x043587CFu

typedef struct al_xkey {
	uint8_t depth;
	uint8_t parent_fpr[4];
	uint32_t child; /* index this key was derived with (0 for a master key) */
	uint8_t chaincode[32];
	bool has_priv; /* priv is valid; pub is always valid */
	al_privkey priv;
	al_pubkey pub;
} al_xkey;

/* Wipe everything, private key and chain code included. */
void al_xkey_clear(al_xkey *k);

/* Master key generation: I = HMAC-SHA512(Key = "Bitcoin seed", Data = S).
 * AL_E_RANGE for a seed outside 16..64 bytes, AL_E_PRIVKEY if I_L is 0 or >= n
 * ("the master key is invalid"). */
AL_WARN_UNUSED al_err al_bip32_master(const al_secp *ctx, al_xkey *out, const uint8_t *seed,
                                      size_t seedlen);
/* CKDpriv for a private parent, CKDpub for a public one. `out` may be `parent`.
 * AL_E_BIP32_HARDENED for a hardened index from a public parent,
 * AL_E_BIP32_DEPTH below depth 255, AL_E_TWEAK if I_L >= n or the child key is
 * zero / infinity (BIP 32: "one should proceed with the next value for i"). */
AL_WARN_UNUSED al_err al_bip32_ckd(const al_secp *ctx, al_xkey *out, const al_xkey *parent,
                                   uint32_t index);
/* Apply al_bip32_ckd along `path` (n indices). */
AL_WARN_UNUSED al_err al_bip32_derive(const al_secp *ctx, al_xkey *out, const al_xkey *root,
                                      const uint32_t *path, size_t n);
/* N((k, c)) -> (K, c): the public extended key. `out` may be `in`. */
void al_bip32_neuter(al_xkey *out, const al_xkey *in);
/* "The first 32 bits of the identifier", Hash160(serP(K)). */
void al_bip32_fingerprint(const al_secp *ctx, uint8_t fpr[4], const al_xkey *k);

/* Parse "m", "m/0'/1/2h", "m/2147483647H" (hardened by ', h or H; decimal indices
 * below 2^31 without leading zeros) into `out` (`cap` entries, *n set).
 * AL_E_BIP32_PATH for anything else or more than 255 levels, AL_E_BUFSIZE when
 * `cap` is too small. */
AL_WARN_UNUSED al_err al_bip32_path_parse(uint32_t *out, size_t cap, size_t *n, const char *path,
                                          size_t len);

/* The 78-byte serialization: private (xprv/tprv) if k->has_priv, else public
 * (xpub/tpub); neuter first to export the public key of a private one. Testnet and
 * regtest share the testnet versions. */
AL_WARN_UNUSED al_err al_bip32_serialize(const al_secp *ctx, uint8_t out[AL_BIP32_SERIAL_LEN],
                                         const al_xkey *k, al_net net);
/* Parse and fully validate 78 bytes; *net is AL_NET_MAINNET or AL_NET_TESTNET.
 * Errors, each a BIP 32 test vector 5 reason:
 *   AL_E_BIP32_LENGTH    not 78 bytes
 *   AL_E_BIP32_VERSION   "unknown extended key version"
 *   AL_E_BIP32_MISMATCH  "pubkey version / prvkey mismatch" and the reverse
 *   AL_E_BIP32_KEY       "invalid pubkey prefix 04", "invalid prvkey prefix 01"...
 *   AL_E_BIP32_DEPTH     "zero depth with non-zero parent fingerprint" / "index"
 *   AL_E_PRIVKEY         "private key 0 not in 1..n-1", "private key n ..."
 *   AL_E_PUBKEY          "invalid pubkey 02...07" (X not on the curve) */
AL_WARN_UNUSED al_err al_bip32_parse(const al_secp *ctx, al_xkey *out, al_net *net,
                                     const uint8_t *in, size_t len);

/* Base58Check form of al_bip32_serialize plus NUL (AL_BIP32_STR_BUFLEN bytes). */
AL_WARN_UNUSED al_err al_bip32_to_base58(const al_secp *ctx, char *out, size_t outcap,
                                         const al_xkey *k, al_net net);
/* Decode and validate: base58 errors (AL_E_B58_CHAR, AL_E_B58_CHECKSUM "invalid
 * checksum", AL_E_TOO_LARGE), then al_bip32_parse's. */
AL_WARN_UNUSED al_err al_bip32_from_base58(const al_secp *ctx, al_xkey *out, al_net *net,
                                           const char *str, size_t len);

#endif
