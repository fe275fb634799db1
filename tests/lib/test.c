#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

int al_t_failures;
int al_t_checks;

struct owned {
	struct owned *next;
};
static struct owned *owned_list;

static void *owned_alloc(size_t len)
{
	struct owned *o = malloc(sizeof(*o) + len + 1);

	if (!o) {
		fprintf(stderr, "test harness: out of memory\n");
		exit(2);
	}
	o->next = owned_list;
	owned_list = o;
	return o + 1;
}

bool al_t_check_mem(const char *file, int line, const char *what, const void *a, const void *b,
                    size_t len)
{
	al_t_checks++;
	if (memcmp(a, b, len) == 0)
		return true;
	al_t_failures++;
	fprintf(stderr, "%s:%d: %s differs\n", file, line, what);
	al_t_dump("  got ", a, len);
	al_t_dump("  want", b, len);
	return false;
}

uint8_t *al_t_unhex(const char *hex, size_t *len)
{
	size_t hexlen = strlen(hex), got;
	uint8_t *out = owned_alloc(hexlen / 2 + 1);

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
		hex += 2;
		hexlen -= 2;
	}
	if (al_hex_decode(out, hexlen / 2, &got, hex, hexlen) != AL_OK) {
		fprintf(stderr, "test harness: bad hex in test data: %.80s\n", hex);
		exit(2);
	}
	if (len)
		*len = got;
	return out;
}

void al_t_dump(const char *label, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	fprintf(stderr, "%s ", label);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%02x", b[i]);
	fprintf(stderr, "\n");
}

static void *secp_mem;
static al_secp *secp_ctx;

const al_secp *al_t_secp(void)
{
	if (!secp_ctx) {
		static const uint8_t seed[32] = {1};
		secp_mem = aligned_alloc(16, (al_secp_size() + 15) & ~(size_t)15);
		if (!secp_mem ||
		    al_secp_create(&secp_ctx, secp_mem, al_secp_size(), seed) != AL_OK) {
			fprintf(stderr, "test harness: cannot create secp256k1 context\n");
			exit(2);
		}
	}
	return secp_ctx;
}

int al_t_finish(void)
{
	if (secp_ctx) {
		if (al_secp_illegal_count(secp_ctx)) {
			fprintf(stderr, "libsecp256k1 reported %lu illegal-argument calls\n",
			        al_secp_illegal_count(secp_ctx));
			al_t_failures++;
		}
		al_secp_destroy(secp_ctx);
		free(secp_mem);
	}
	while (owned_list) {
		struct owned *next = owned_list->next;
		free(owned_list);
		owned_list = next;
	}
	printf("%d checks, %d failed\n", al_t_checks, al_t_failures);
	return al_t_failures ? 1 : 0;
}
