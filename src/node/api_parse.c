#include "node/api_parse.h"

#include <string.h>

#include "util/hex.h"

const char *al_node_connect_args(const al_secp *secp, json_t *req, uint8_t id[33],
                                 const char **host)
{
	json_t *addr = json_object_get(req, "addr");
	const char *pk = json_string_value(json_object_get(addr, "pubkey"));
	al_pubkey pub;
	*host = json_string_value(json_object_get(addr, "host"));
	if (!req)
		return "invalid JSON body";
	if (!json_is_object(req) || !json_is_object(addr) || !pk || !*host)
		return "body must be {\"addr\":{\"pubkey\":...,\"host\":...}}";
	if (strlen(pk) != 66 || al_hex_decode_exact(id, 33, pk) != AL_OK ||
	    al_pubkey_parse(secp, &pub, id, 33) != AL_OK)
		return "invalid node id (want 33-byte compressed public key hex)";
	if (!**host || strlen(*host) >= 64)
		return "invalid address: want IPv4:port or [IPv6]:port";
	return NULL;
}

bool al_node_wallet_args(json_t **root, const char *args[AL_NODE_WALLET_MAX_ARGS], size_t *n,
                         const uint8_t *body, size_t blen)
{
	json_t *a;

	*root = NULL;
	*n = 0;
	if (blen == 0)
		return true;
	*root = json_loadb((const char *)body, blen, JSON_REJECT_DUPLICATES, NULL);
	a = json_object_get(*root, "args");
	if (!json_is_object(*root) || (a && !json_is_array(a)) ||
	    json_array_size(a) > AL_NODE_WALLET_MAX_ARGS)
		return false;
	for (size_t i = 0; i < json_array_size(a); i++) {
		args[i] = json_string_value(json_array_get(a, i));
		if (!args[i] || strlen(args[i]) != json_string_length(json_array_get(a, i)))
			return false;
	}
	*n = json_array_size(a);
	return true;
}

bool al_node_json_u64(const json_t *v, uint64_t *out)
{
	const char *s = json_string_value(v);
	uint64_t x = 0;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*out = x;
	return true;
}
