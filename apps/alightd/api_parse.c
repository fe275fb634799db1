/* Control API request bodies (see api_parse.h). */
#include "api_parse.h"

#include <stdio.h>
#include <string.h>

#include "util/hex.h"

bool api_connect_args(const al_secp *secp, uint8_t id[33], char *host, size_t hostcap,
                      const uint8_t *body, size_t len, char *msg, size_t msgcap)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *pk = NULL, *h = NULL;
	al_pubkey pub;
	bool ok = false;

	if (root == NULL) {
		snprintf(msg, msgcap, "invalid JSON body: %s", jerr.text);
		return false;
	}
	if (json_unpack(root, "{s:{s:s,s:s}}", "addr", "pubkey", &pk, "host", &h) != 0)
		snprintf(msg, msgcap, "body must be {\"addr\":{\"pubkey\":...,\"host\":...}}");
	else if (strlen(pk) != 66 || al_hex_decode_exact(id, 33, pk) != AL_OK ||
	         al_pubkey_parse(secp, &pub, id, 33) != AL_OK)
		snprintf(msg, msgcap, "invalid node id (want 33-byte compressed public key hex)");
	else if (strlen(h) >= hostcap)
		snprintf(msg, msgcap, "host too long");
	else {
		strcpy(host, h);
		ok = true;
	}
	json_decref(root);
	return ok;
}

/* The "args" array of the body, as C strings (pointing into root). */
static bool wallet_args(json_t *root, const char **args, size_t *n)
{
	json_t *arr, *v;
	size_t i;

	*n = 0;
	if (root == NULL)
		return true;
	arr = json_object_get(root, "args");
	if (!json_is_object(root) || (arr != NULL && !json_is_array(arr)))
		return false;
	if (arr == NULL)
		return true;
	if (json_array_size(arr) > API_WALLET_MAX_ARGS)
		return false;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return false;
		args[(*n)++] = json_string_value(v);
	}
	return true;
}

bool api_wallet_args(json_t **root, const char *args[API_WALLET_MAX_ARGS], size_t *n,
                     const uint8_t *body, size_t len)
{
	json_error_t jerr;

	*root = NULL;
	*n = 0;
	if (len > 0)
		*root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if ((len > 0 && *root == NULL) || !wallet_args(*root, args, n)) {
		json_decref(*root);
		*root = NULL;
		return false;
	}
	return true;
}
