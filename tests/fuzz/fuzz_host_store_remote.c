/* What alightd reads for its remote stores (host/store_remote.h): a --store URL
 * (al_store_remote_url) and the account key file's contents (al_store_remote_key_parse).
 *
 * The first byte picks the parser. A URL is accepted only if it is http(s), names a host
 * and its path ends in "/vss" with neither query nor fragment, and is at most 1024
 * bytes; any refusal carries a reason. A key is accepted only as exactly 64 hex digits
 * (one newline after them allowed) whose hex encoding, lowercased, is what was given;
 * a refused key leaves the output wiped. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/store_remote.h"
#include "util/hex.h"
#include "util/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), why[160];
	al_url u;

	if (!url)
		return;
	memcpy(url, data, size);
	url[size] = 0;
	al_err e = al_store_remote_url(url, why, sizeof(why));
	size_t len = strlen(url);
	if (e == AL_OK) {
		if (al_url_parse(&u, url, len) != AL_OK || !u.host[0] || len > 1024 || len < 4 ||
		    memcmp(url + len - 4, "/vss", 4) != 0 || strchr(url, '?') || strchr(url, '#') ||
		    !al_store_is_url(url))
			abort();
	} else if ((e != AL_E_HTTP_URL && e != AL_E_HTTP_URL_SCHEME) || !why[0]) {
		abort();
	}
	free(url);
}

static void check_key(const uint8_t *data, size_t size)
{
	static const uint8_t zero[32];
	char hex[65];
	al_privkey k;
	size_t n = size;

	al_err e = al_store_remote_key_parse(&k, data, size);
	if (e != AL_OK) {
		if ((e != AL_E_HEX && e != AL_E_PRIVKEY) || memcmp(k.k, zero, 32) != 0)
			abort();
		return;
	}
	if (n > 0 && data[n - 1] == '\n')
		n--;
	if (n != 64 || al_hex_encode(hex, sizeof(hex), k.k, 32) != AL_OK)
		abort();
	for (size_t i = 0; i < 64; i++)
		if (hex[i] != tolower(data[i]))
			abort();
	al_privkey_clear(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		check_url(data + 1, size - 1);
	else
		check_key(data + 1, size - 1);
	return 0;
}
