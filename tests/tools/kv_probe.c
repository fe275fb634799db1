/* kv_probe: the node's encrypted key-value layer over one or more VSS servers, one
 * operation per run, for tests/py/test_store_node.py.
 *
 *   kv_probe AUTH_HEX SEED_HEX STORE_ID QUORUM LAST_SEEN URL[,URL...] CMD ARGS...
 *     put NS KEY VALUE VERSION     write (VERSION as VSS: 0 first write, -1 any)
 *     get NS KEY MIN_VERSION       read
 *     name NS KEY                  the opaque VSS key the object is stored under
 *
 * Prints one JSON line: {"error": "AL_E_..." | null, "value", "version",
 * "global_version", "replicas": ["AL_OK" | "AL_E_...", ...]}. Exit 0 whatever the
 * store said (the test reads the JSON); 2 for usage errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/os_rng.h"
#include "host/store_vss.h"
#include "store/replica.h"
#include "util/hex.h"

static _Alignas(16) uint8_t scratch_mem[1 << 20];

static void usage(void)
{
	fprintf(stderr, "usage: kv_probe AUTH_HEX SEED_HEX STORE_ID QUORUM LAST_SEEN URLS "
	                "put NS KEY VALUE VERSION | get NS KEY MIN_VERSION | name NS KEY\n");
	exit(2);
}

static void print_json_string(const uint8_t *s, size_t len)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			printf("\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			printf("\\u%04x", s[i]);
		else
			putchar(s[i]);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	al_store_vss *vss[AL_KVR_MAX] = {0};
	al_kvr_replica reps[AL_KVR_MAX];
	uint8_t seed[32], out[4096], name[32];
	char urls[4096], *url, *save = NULL, hex[65];
	al_store_vss_config cfg = {0};
	size_t n = 0, i, len = 0;
	int64_t version = 0;
	al_privkey key;
	al_arena scratch;
	al_rng rng;
	al_kvr r;
	al_err err;

	if (argc < 10 || al_hex_decode_exact(key.k, 32, argv[1]) != AL_OK ||
	    al_hex_decode_exact(seed, 32, argv[2]) != AL_OK || strlen(argv[6]) >= sizeof(urls))
		usage();
	al_os_rng(&rng);
	strcpy(urls, argv[6]);
	cfg.store_id = argv[3];
	cfg.auth_key = &key;
	for (url = strtok_r(urls, ",", &save); url && n < AL_KVR_MAX;
	     url = strtok_r(NULL, ",", &save)) {
		cfg.url = url;
		if (al_store_vss_open(&vss[n], &cfg) != AL_OK)
			usage();
		reps[n] = (al_kvr_replica){&al_store_vss_backend, vss[n]};
		n++;
	}
	al_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
	memset(&r, 0, sizeof(r));
	err = al_kvr_init(&r, reps, n, (size_t)atoi(argv[4]), &scratch, &rng, seed, sizeof(seed),
	                  atoll(argv[5]));
	printf("{");
	if (err == AL_OK && strcmp(argv[7], "put") == 0 && argc == 12) {
		err = al_kvr_put(&r, argv[8], argv[9], (const uint8_t *)argv[10], strlen(argv[10]),
		                 atoll(argv[11]));
	} else if (err == AL_OK && strcmp(argv[7], "get") == 0 && argc == 11) {
		err = al_kvr_get(&r, out, sizeof(out), &len, &version, argv[8], argv[9],
		                 atoll(argv[10]));
		if (err == AL_OK) {
			printf("\"value\":");
			print_json_string(out, len);
			printf(",\"version\":%lld,", (long long)version);
		}
	} else if (err == AL_OK && strcmp(argv[7], "name") == 0 && argc == 10) {
		err = al_seal_name(&r.kv[0].keys, name, argv[8], argv[9]);
		if (err == AL_OK && al_hex_encode(hex, sizeof(hex), name, 32) == AL_OK)
			printf("\"name\":\"%s\",", hex);
	} else if (err == AL_OK) {
		usage();
	}
	printf("\"error\":");
	if (err == AL_OK)
		printf("null");
	else
		printf("\"%s\"", al_err_name(err));
	printf(",\"global_version\":%lld,\"replicas\":[", (long long)al_kvr_global_version(&r));
	for (i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", al_err_name(al_kvr_state(&r, i)));
	printf("],\"detail\":");
	print_json_string((const uint8_t *)al_store_vss_detail(vss[0]),
	                  strlen(al_store_vss_detail(vss[0])));
	printf("}\n");
	al_kvr_clear(&r);
	for (i = 0; i < n; i++)
		al_store_vss_close(vss[i]);
	al_privkey_clear(&key);
	return 0;
}
