/* VSS requests and the Authorization header (store/vss.h) from an untrusted client.
 *
 * Any bytes are decoded as each of the four request messages and the client-side
 * responses, and read as an Authorization header. Decoding must never crash and must
 * fail with a VSS error or AL_E_NOMEM; a request that decodes must encode again and
 * decode to the same request (the codec agrees with itself on everything it accepts).
 * A header verifies only if it is the one seed header this target signed itself. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/vss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000u

static uint8_t mem[4 << 20];
static uint8_t out[1 << 20];
static al_arena arena;
static al_secp *secp;
static char good[AL_VSS_AUTH_MAX + 1];
static size_t good_len;

static void setup(void)
{
	static uint8_t secp_mem[1 << 16] __attribute__((aligned(16)));
	al_privkey k;

	if (secp)
		return;
	al_arena_init(&arena, mem, sizeof(mem));
	if (al_secp_size() > sizeof(secp_mem) ||
	    al_secp_create(&secp, secp_mem, sizeof(secp_mem), NULL) != AL_OK)
		abort();
	memset(k.k, 42, sizeof(k.k));
	if (al_vss_auth_sign(secp, good, sizeof(good), &good_len, &k, NOW) != AL_OK)
		abort();
}

static bool vss_error(al_err e)
{
	return e == AL_E_NOMEM || (e >= AL_E_VSS_CONFLICT && e <= AL_E_VSS_AUTH_TIME);
}

static void expect(bool ok)
{
	if (!ok)
		abort();
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_kv(const al_vss_kv *a, const al_vss_kv *b, bool values)
{
	if (strcmp(a->key, b->key) != 0 || a->keylen != b->keylen || a->version != b->version)
		return false;
	return !values ||
	       (a->len == b->len && (!a->len || memcmp(a->value, b->value, a->len) == 0));
}

static void put_roundtrip(const al_vss_put_req *r)
{
	al_vss_put_req r2;
	size_t n, i;

	expect(al_vss_encode_put_req(&arena, out, sizeof(out), &n, r) == AL_OK);
	expect(al_vss_decode_put_req(&arena, &r2, out, n) == AL_OK);
	expect(strcmp(r->store_id, r2.store_id) == 0 && r->nputs == r2.nputs &&
	       r->ndels == r2.ndels && r->has_global_version == r2.has_global_version &&
	       r->global_version == r2.global_version);
	for (i = 0; i < r->nputs; i++)
		expect(same_kv(&r->puts[i], &r2.puts[i], true));
	for (i = 0; i < r->ndels; i++)
		expect(same_kv(&r->dels[i], &r2.dels[i], false));
}

static void requests(const uint8_t *data, size_t size)
{
	al_vss_get_req g, g2;
	al_vss_put_req p;
	al_vss_delete_req d, d2;
	al_vss_list_req l, l2;
	size_t n;
	al_err e;

	e = al_vss_decode_get_req(&arena, &g, data, size);
	expect(e == AL_OK || vss_error(e));
	if (e == AL_OK) {
		expect(al_vss_encode_get_req(&arena, out, sizeof(out), &n, &g) == AL_OK);
		expect(al_vss_decode_get_req(&arena, &g2, out, n) == AL_OK);
		expect(strcmp(g.store_id, g2.store_id) == 0 && strcmp(g.key, g2.key) == 0);
	}
	e = al_vss_decode_put_req(&arena, &p, data, size);
	expect(e == AL_OK || vss_error(e));
	if (e == AL_OK)
		put_roundtrip(&p);
	e = al_vss_decode_delete_req(&arena, &d, data, size);
	expect(e == AL_OK || vss_error(e));
	if (e == AL_OK) {
		expect(al_vss_encode_delete_req(&arena, out, sizeof(out), &n, &d) == AL_OK);
		expect(al_vss_decode_delete_req(&arena, &d2, out, n) == AL_OK);
		expect(strcmp(d.store_id, d2.store_id) == 0 && same_kv(&d.item, &d2.item, false));
	}
	e = al_vss_decode_list_req(&arena, &l, data, size);
	expect(e == AL_OK || vss_error(e));
	if (e == AL_OK) {
		expect(al_vss_encode_list_req(&arena, out, sizeof(out), &n, &l) == AL_OK);
		expect(al_vss_decode_list_req(&arena, &l2, out, n) == AL_OK);
		expect(same_str(l.store_id, l2.store_id) && same_str(l.key_prefix, l2.key_prefix) &&
		       same_str(l.page_token, l2.page_token) && l.page_size == l2.page_size);
	}
}

static void responses(const uint8_t *data, size_t size)
{
	al_vss_kv kv;
	al_vss_list_resp lr;
	char msg[32];
	al_err e;

	e = al_vss_decode_get_resp(&arena, &kv, data, size, NULL);
	expect(e == AL_OK || vss_error(e));
	e = al_vss_decode_list_resp(&arena, &lr, data, size);
	expect(e == AL_OK || vss_error(e));
	e = al_vss_decode_empty_resp(&arena, data, size);
	expect(e == AL_OK || vss_error(e));
	e = al_vss_response_status(&arena, 409, data, size, msg, sizeof(msg));
	expect(vss_error(e) && strlen(msg) < sizeof(msg));
}

static void header(const uint8_t *data, size_t size)
{
	uint8_t user[AL_PUBKEY_LEN];
	al_err e = al_vss_auth_verify(secp, user, (const char *)data, size, NOW);

	expect(e == AL_OK || vss_error(e));
	/* Only the header signed in setup() (the corpus holds it) can pass; upper-case
	 * hex spells the same bytes. */
	if (e == AL_OK)
		expect(size == good_len && strncasecmp((const char *)data, good, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	requests(data, size);
	responses(data, size);
	header(data, size);
	al_arena_release(&arena, 0);
	return 0;
}
