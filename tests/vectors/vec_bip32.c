/* BIP 32 test vectors (bips/bip32-vectors.json), suite `bip32`: every chain of test
 * vectors 1 to 4 (17) and every invalid key of test vector 5 (16), one vector each.
 *
 * A chain passes when its path parses, CKDpriv from the master gives exactly the
 * stated ext prv and its neutered key the stated ext pub; both strings parse back to
 * the same key; and, when the chain's last step is a normal index, CKDpub from the
 * previous chain's ext pub gives the same ext pub. An invalid key passes when
 * parsing fails with the error that names its stated reason. */
#include <string.h>

#include "btc/bip32.h"
#include "test.h"
#include "util/hex.h"
#include "vectors.h"

#define MAX_PATH 16

static const al_secp *secp;

/* Serialize to Base58Check and compare. */
static bool key_is(const al_xkey *k, const char *want)
{
	char buf[AL_BIP32_STR_BUFLEN];

	return al_bip32_to_base58(secp, buf, sizeof(buf), k, AL_NET_MAINNET) == AL_OK &&
	       strcmp(buf, want) == 0;
}

/* Parse a stated key and serialize it again. */
static bool roundtrip(const char *str, bool priv)
{
	al_xkey k;
	al_net net;
	bool ok = al_bip32_from_base58(secp, &k, &net, str, strlen(str)) == AL_OK &&
	          net == AL_NET_MAINNET && k.has_priv == priv && key_is(&k, str);

	al_xkey_clear(&k);
	return ok;
}

static bool check_chain(const al_xkey *master, al_xkey *prev, const json_t *chain, bool first)
{
	const char *path = al_v_str(chain, "path"), *xprv = al_v_str(chain, "ext_prv");
	const char *xpub = al_v_str(chain, "ext_pub");
	uint32_t idx[MAX_PATH];
	size_t n = 0;
	al_xkey k, pub, child;
	bool ok;

	if (al_bip32_path_parse(idx, MAX_PATH, &n, path, strlen(path)) != AL_OK)
		return false;
	ok = al_bip32_derive(secp, &k, master, idx, n) == AL_OK && key_is(&k, xprv);
	al_bip32_neuter(&pub, &k);
	ok = ok && key_is(&pub, xpub) && roundtrip(xprv, true) && roundtrip(xpub, false);
	/* N(CKDpriv(k, i)) == CKDpub(N(k), i) for a normal index. */
	if (!first && n > 0 && !(idx[n - 1] & AL_BIP32_HARDENED)) {
		al_bip32_neuter(prev, prev);
		ok = ok && al_bip32_ckd(secp, &child, prev, idx[n - 1]) == AL_OK &&
		     !child.has_priv && key_is(&child, xpub);
		al_xkey_clear(&child);
	}
	*prev = k;
	al_xkey_clear(&k);
	al_xkey_clear(&pub);
	return ok;
}

static void run_vector(al_v_suite *s, const json_t *vec)
{
	size_t seedlen, i;
	const uint8_t *seed = al_t_unhex(al_v_str(vec, "seed"), &seedlen);
	al_xkey master, prev;
	al_err e = al_bip32_master(secp, &master, seed, seedlen);
	const json_t *chain;

	memset(&prev, 0, sizeof(prev));
	json_array_foreach(json_object_get(vec, "chains"), i, chain)
	{
		bool ok = e == AL_OK && check_chain(&master, &prev, chain, i == 0);
		al_v_result(s, ok, "vector %lld chain %s", al_v_int(vec, "vector"),
		            al_v_str(chain, "path"));
	}
	al_xkey_clear(&master);
	al_xkey_clear(&prev);
}

/* Test vector 5's reasons and the errors that name them. */
static al_err reason_err(const char *reason)
{
	static const struct {
		const char *prefix;
		al_err err;
	} map[] = {
	    {"pubkey version / prvkey mismatch", AL_E_BIP32_MISMATCH},
	    {"prvkey version / pubkey mismatch", AL_E_BIP32_MISMATCH},
	    {"invalid pubkey prefix ", AL_E_BIP32_KEY},
	    {"invalid prvkey prefix ", AL_E_BIP32_KEY},
	    {"zero depth with non-zero parent fingerprint", AL_E_BIP32_DEPTH},
	    {"zero depth with non-zero index", AL_E_BIP32_DEPTH},
	    {"unknown extended key version", AL_E_BIP32_VERSION},
	    {"private key 0 not in 1..n-1", AL_E_PRIVKEY},
	    {"private key n not in 1..n-1", AL_E_PRIVKEY},
	    /* "invalid pubkey 0200...07": an X coordinate not on the curve. */
	    {"invalid pubkey 0", AL_E_PUBKEY},
	    {"invalid checksum", AL_E_B58_CHECKSUM},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(reason, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].err;
	return AL_OK;
}

static void run_invalid(al_v_suite *s, const json_t *vec)
{
	const json_t *inv;
	size_t i;

	json_array_foreach(json_object_get(vec, "invalid_keys"), i, inv)
	{
		const char *key = al_v_str(inv, "key"), *reason = al_v_str(inv, "reason");
		al_err want = reason_err(reason);
		al_xkey k;
		al_net net;
		al_err e = al_bip32_from_base58(secp, &k, &net, key, strlen(key));

		al_v_result(s, want != AL_OK && e == want, "vector 5 key %zu (%s): got %s, want %s",
		            i, reason, al_err_name(e), al_err_name(want));
		al_xkey_clear(&k);
	}
}

int main(void)
{
	json_t *root = al_v_load_json("bips/bip32-vectors.json");
	const json_t *vec;
	al_v_suite s;
	size_t i;

	secp = al_t_secp();
	al_v_begin(&s, "bip32");
	json_array_foreach(json_object_get(root, "vectors"), i, vec)
	{
		if (json_object_get(vec, "invalid_keys"))
			run_invalid(&s, vec);
		else
			run_vector(&s, vec);
	}
	al_v_end(&s);
	json_decref(root);
	return al_t_finish();
}
