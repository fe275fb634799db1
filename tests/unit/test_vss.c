/* VSS codec and signature authorization (store/vss.h).
 *
 * Oracles: byte strings a proto3 encoder produces for vss.proto messages (the
 * putObjects bytes are those an independent TypeScript VSS client asserts for the
 * same request), and the auth scheme of vss-server's signature.rs re-derived here
 * with SHA-256 and ECDSA directly. */
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "store/vss.h"
#include "test.h"
#include "util/hex.h"

static uint8_t arena_mem[1 << 20];
static al_arena arena;

static void test_put_bytes(void)
{
	/* field1 "s" | field3 { field1 "k", field2 varint(-1), field3 [1,2] } */
	static const uint8_t want[] = {0x0a, 1,    0x73, 0x1a, 18,   0x0a, 1,    0x6b,
	                               0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                               0xff, 0xff, 0x01, 0x1a, 2,    1,    2};
	static const uint8_t v[] = {1, 2};
	al_vss_kv kv = {"k", 0, -1, v, 2};
	al_vss_put_req r = {"s", false, 0, &kv, 1, NULL, 0}, d;
	uint8_t out[64];
	size_t n;

	CHECK_OK(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &r));
	CHECK(n == sizeof(want));
	CHECK_MEM(out, want, sizeof(want));
	CHECK_ERR(al_vss_encode_put_req(&arena, out, 5, &n, &r), AL_E_BUFSIZE);
	CHECK(n == sizeof(want));
	CHECK_OK(al_vss_decode_put_req(&arena, &d, want, sizeof(want)));
	CHECK(strcmp(d.store_id, "s") == 0 && d.nputs == 1 && d.ndels == 0);
	CHECK(!d.has_global_version);
	CHECK(d.puts[0].keylen == 1 && d.puts[0].version == -1 && d.puts[0].len == 2);
	CHECK(memcmp(d.puts[0].value, v, 2) == 0);
	/* Every strict prefix is malformed, or a shorter valid message: never a crash. */
	for (n = 0; n < sizeof(want); n++) {
		al_err e = al_vss_decode_put_req(&arena, &d, want, n);

		CHECK(e == AL_OK || e == AL_E_VSS_DECODE);
	}
	CHECK_ERR(al_vss_decode_put_req(&arena, &d, want, 4), AL_E_VSS_DECODE);
	al_arena_release(&arena, 0);
}

static void test_get_resp_bytes(void)
{
	/* GetObjectResponse { value = 2: KeyValue { value = 3: [9, 8] } } */
	static const uint8_t body[] = {0x12, 4, 0x1a, 2, 9, 8};
	static const uint8_t none[] = {0x08, 1}; /* an unknown field only */
	al_vss_kv kv;
	uint8_t out[64];
	size_t n;

	CHECK_OK(al_vss_decode_get_resp(&arena, &kv, body, sizeof(body), NULL));
	CHECK(kv.len == 2 && kv.value[0] == 9 && kv.value[1] == 8 && kv.version == 0);
	CHECK_ERR(al_vss_decode_get_resp(&arena, &kv, none, sizeof(none), NULL), AL_E_VSS_RESPONSE);
	kv = (al_vss_kv){"key", 3, 7, (const uint8_t *)"val", 3};
	CHECK_OK(al_vss_encode_get_resp(&arena, out, sizeof(out), &n, &kv));
	CHECK_MEM(out, "\x12\x0c\x0a\x03key\x10\x07\x1a\x03val", 14);
	CHECK(n == 14);
	CHECK_OK(al_vss_decode_get_resp(&arena, &kv, out, n, "key"));
	CHECK(kv.version == 7 && kv.len == 3 && memcmp(kv.value, "val", 3) == 0);
	CHECK_ERR(al_vss_decode_get_resp(&arena, &kv, out, n, "other"), AL_E_VSS_RESPONSE);
	al_arena_release(&arena, 0);
}

static void test_requests(void)
{
	al_vss_get_req g = {"store", "a/b", 0}, g2;
	al_vss_list_req l = {"store", "", 0, NULL}, l2;
	al_vss_delete_req dr = {"", {"k1", 0, 4, NULL, 0}}, dr2;
	al_vss_kv kvs[3] = {{"x", 0, 0, NULL, 0}, {"y", 0, 5, NULL, 0}, {"x", 0, 1, NULL, 0}};
	al_vss_put_req p = {"st", true, 0, kvs, 2, NULL, 0}, p2;
	uint8_t out[256];
	size_t n;

	CHECK_OK(al_vss_encode_get_req(&arena, out, sizeof(out), &n, &g));
	CHECK_MEM(out,
	          "\x0a\x05store\x12\x03"
	          "a/b",
	          12);
	CHECK_OK(al_vss_decode_get_req(&arena, &g2, out, n));
	CHECK(strcmp(g2.store_id, "store") == 0 && strcmp(g2.key, "a/b") == 0 && g2.keylen == 3);
	/* An empty body is a valid message with every field at its default. */
	CHECK_ERR(al_vss_decode_get_req(&arena, &g2, out, 0), AL_E_VSS_KEY);

	/* Present-but-empty prefix is sent (proto3 optional), page_size 0 is not. */
	CHECK_OK(al_vss_encode_list_req(&arena, out, sizeof(out), &n, &l));
	CHECK(n == 9 && memcmp(out, "\x0a\x05store\x12\x00", 9) == 0);
	CHECK_OK(al_vss_decode_list_req(&arena, &l2, out, n));
	CHECK(l2.key_prefix && !l2.key_prefix[0] && !l2.page_token && l2.page_size == 0);
	l.page_size = -1;
	CHECK_ERR(al_vss_encode_list_req(&arena, out, sizeof(out), &n, &l), AL_E_VSS_PAGE);
	CHECK_ERR(al_vss_decode_list_req(&arena, &l2, (const uint8_t *)"\x18\x7f", 2), AL_OK);
	CHECK(l2.page_size == 127 && l2.store_id && !l2.store_id[0]);

	CHECK_OK(al_vss_encode_delete_req(&arena, out, sizeof(out), &n, &dr));
	CHECK(n == 8 && memcmp(out, "\x12\x06\x0a\x02k1\x10\x04", 8) == 0);
	CHECK_OK(al_vss_decode_delete_req(&arena, &dr2, out, n));
	CHECK(strcmp(dr2.item.key, "k1") == 0 && dr2.item.version == 4);
	CHECK_ERR(al_vss_decode_delete_req(&arena, &dr2, out, 0), AL_E_VSS_INVALID);

	CHECK_OK(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p));
	CHECK_OK(al_vss_decode_put_req(&arena, &p2, out, n));
	CHECK(p2.has_global_version && p2.global_version == 0 && p2.nputs == 2);
	p.nputs = 3; /* "x" twice */
	CHECK_ERR(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p), AL_E_VSS_DUPLICATE);
	p.nputs = 2, p.dels = &kvs[2], p.ndels = 1; /* also across puts and deletes */
	CHECK_ERR(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p), AL_E_VSS_DUPLICATE);
	p.ndels = 0, kvs[1].version = -2;
	CHECK_ERR(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p), AL_E_VSS_VERSION);
	kvs[1].version = 0, kvs[1].key = AL_VSS_GLOBAL_VERSION_KEY;
	CHECK_ERR(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p), AL_E_VSS_KEY);
	kvs[1].key = "";
	CHECK_ERR(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p), AL_E_VSS_KEY);
	kvs[1].key = "\xc0\x80"; /* overlong NUL */
	CHECK_ERR(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p), AL_E_VSS_STRING);
	kvs[1].key = "\xed\xa0\x80"; /* surrogate */
	CHECK_ERR(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p), AL_E_VSS_STRING);
	kvs[1].key = "\xf0\x9f\x94\x91"; /* U+1F511 */
	CHECK_OK(al_vss_encode_put_req(&arena, out, sizeof(out), &n, &p));
	/* A key with a NUL inside: the wire allows it, we refuse it. */
	CHECK_ERR(al_vss_decode_get_req(&arena, &g2,
	                                (const uint8_t *)"\x12\x03"
	                                                 "a\x00"
	                                                 "b",
	                                5),
	          AL_E_VSS_STRING);
	al_arena_release(&arena, 0);
}

static void test_items_limit(void)
{
	static uint8_t body[AL_VSS_MAX_ITEMS * 5 + 16];
	al_vss_put_req p;
	size_t i, n = 0;

	/* 1001 delete items { key "k" }: refused before unpacking, for what it is. */
	for (i = 0; i <= AL_VSS_MAX_ITEMS; i++) {
		memcpy(body + n, "\x22\x03\x0a\x01k", 5);
		n += 5;
	}
	CHECK_ERR(al_vss_decode_put_req(&arena, &p, body, n), AL_E_VSS_ITEMS);
	/* 1000 of them are fine as far as counting goes; they are duplicates. */
	CHECK_ERR(al_vss_decode_put_req(&arena, &p, body, n - 5), AL_E_VSS_DUPLICATE);
	CHECK(al_arena_used(&arena) == 0);
	/* A tiny arena: the failure is AL_E_NOMEM, not a malformed message. */
	{
		static uint8_t small_mem[512];
		al_arena small;

		al_arena_init(&small, small_mem, sizeof(small_mem));
		CHECK_ERR(al_vss_decode_put_req(&small, &p, body, 200), AL_E_NOMEM);
	}
}

static void test_status(void)
{
	uint8_t out[128];
	char msg[16];
	size_t n;
	int st;
	al_vss_code code;

	CHECK_OK(al_vss_encode_error(&arena, out, sizeof(out), &n, AL_VSS_CONFLICT, "version"));
	CHECK(n == 11 && memcmp(out, "\x08\x01\x12\x07version", 11) == 0);
	CHECK_ERR(al_vss_response_status(&arena, 409, out, n, msg, sizeof(msg)), AL_E_VSS_CONFLICT);
	CHECK(strcmp(msg, "version") == 0);
	/* The code decides, whatever the status says. */
	CHECK_ERR(al_vss_response_status(&arena, 400, out, n, NULL, 0), AL_E_VSS_CONFLICT);
	CHECK_ERR(al_vss_response_status(&arena, 200, out, n, NULL, 0), AL_OK);
	/* vss-server's plain-text answers: the status decides. */
	CHECK_ERR(al_vss_response_status(&arena, 400, (const uint8_t *)"Error parsing request", 21,
	                                 msg, sizeof(msg)),
	          AL_E_VSS_INVALID);
	CHECK_ERR(al_vss_response_status(&arena, 413, NULL, 0, NULL, 0), AL_E_VSS_TOO_LARGE);
	CHECK_ERR(al_vss_response_status(&arena, 503, NULL, 0, NULL, 0), AL_E_VSS_SERVER);
	CHECK_ERR(al_vss_response_status(&arena, 302, NULL, 0, NULL, 0), AL_E_VSS_HTTP);
	CHECK_OK(al_vss_encode_error(&arena, out, sizeof(out), &n, AL_VSS_AUTH_EXCEPTION, "a"));
	CHECK_ERR(al_vss_response_status(&arena, 401, out, n, msg, 1), AL_E_VSS_AUTH);
	CHECK(msg[0] == 0);
	CHECK(al_arena_used(&arena) == 0);

	al_vss_error_status(AL_E_VSS_AUTH_TIME, &st, &code);
	CHECK(st == 401 && code == AL_VSS_AUTH_EXCEPTION);
	al_vss_error_status(AL_E_VSS_DECODE, &st, &code);
	CHECK(st == 400 && code == AL_VSS_INVALID_REQUEST);
	al_vss_error_status(AL_E_STORE_BACKEND, &st, &code);
	CHECK(st == 500 && code == AL_VSS_INTERNAL_SERVER);
}

static void test_paths(void)
{
	al_vss_op op = AL_VSS_GET;

	CHECK(al_vss_op_from_path(&op, "/vss/putObjects", 15) && op == AL_VSS_PUT);
	CHECK(al_vss_op_from_path(&op, "/vss/listKeyVersions?x", 22) && op == AL_VSS_LIST);
	CHECK(!al_vss_op_from_path(&op, "/vss/getObjects", 15));
	CHECK(!al_vss_op_from_path(&op, "/getObject", 10));
	CHECK(!al_vss_op_from_path(&op, "/vss", 4));
	CHECK(strcmp(al_vss_op_path(AL_VSS_DELETE), "/deleteObject") == 0);
}

static const char salt[] = "VSS Signature Authorizer Signing Salt Constant..................";

static void test_auth(void)
{
	const al_secp *ctx = al_t_secp();
	al_privkey k, k2;
	al_pubkey pk;
	uint8_t user[33], pub[33], digest[32], sig[64], ser[33];
	char hdr[AL_VSS_AUTH_MAX + 1], bad[AL_VSS_AUTH_MAX + 1];
	const uint64_t now = 1700000000;
	al_sha256_ctx c;
	al_ecdsa_sig es;
	size_t n;

	memset(k.k, 42, 32); /* the key of vss-server's own signature test */
	memset(k2.k, 43, 32);
	CHECK_OK(al_vss_auth_sign(ctx, hdr, sizeof(hdr), &n, &k, now));
	CHECK(n == 194 + 10 && strlen(hdr) == n && strcmp(hdr + 194, "1700000000") == 0);
	CHECK_ERR(al_vss_auth_sign(ctx, hdr, n, &n, &k, now), AL_E_BUFSIZE);
	CHECK_OK(al_vss_auth_sign(ctx, hdr, sizeof(hdr), &n, &k, now));

	/* Re-derive the scheme: SHA-256(salt || pubkey || "1700000000"), compact ECDSA. */
	CHECK(strlen(salt) == 64);
	CHECK_OK(al_pubkey_from_privkey(ctx, &pk, &k));
	al_pubkey_serialize(ctx, ser, &pk);
	memcpy(bad, hdr, 66);
	bad[66] = 0;
	CHECK_OK(al_hex_decode_exact(pub, 33, bad));
	CHECK_MEM(pub, ser, 33);
	memcpy(bad, hdr + 66, 128);
	bad[128] = 0;
	CHECK_OK(al_hex_decode_exact(sig, 64, bad));
	al_sha256_init(&c);
	al_sha256_update(&c, salt, 64);
	al_sha256_update(&c, pub, 33);
	al_sha256_update(&c, "1700000000", 10);
	al_sha256_final(&c, digest);
	CHECK_OK(al_ecdsa_sig_parse_compact(ctx, &es, sig));
	CHECK_OK(al_ecdsa_verify(ctx, &es, digest, &pk));

	CHECK_OK(al_vss_auth_verify(ctx, user, hdr, n, now));
	CHECK_MEM(user, ser, 33);
	/* Exactly 24 hours either side is still valid; one second more is not. */
	CHECK_OK(al_vss_auth_verify(ctx, user, hdr, n, now + AL_VSS_AUTH_WINDOW));
	CHECK_OK(al_vss_auth_verify(ctx, user, hdr, n, now - AL_VSS_AUTH_WINDOW));
	CHECK_ERR(al_vss_auth_verify(ctx, user, hdr, n, now + AL_VSS_AUTH_WINDOW + 1),
	          AL_E_VSS_AUTH_TIME);
	CHECK_ERR(al_vss_auth_verify(ctx, user, hdr, n, now - AL_VSS_AUTH_WINDOW - 1),
	          AL_E_VSS_AUTH_TIME);
	CHECK_ERR(al_vss_auth_verify(ctx, user, NULL, 0, now), AL_E_VSS_AUTH_MISSING);
	CHECK_ERR(al_vss_auth_verify(ctx, user, hdr, 194, now), AL_E_VSS_AUTH_FORMAT);
	/* One digit less is another time: ten times earlier. */
	CHECK_ERR(al_vss_auth_verify(ctx, user, hdr, n - 1, now), AL_E_VSS_AUTH_TIME);
	CHECK_ERR(al_vss_auth_verify(ctx, user, hdr, n - 1, now / 10), AL_E_VSS_AUTH_SIG);

	/* Upper-case hex names the same user. */
	memcpy(bad, hdr, n + 1);
	for (size_t i = 0; i < 194; i++)
		if (bad[i] >= 'a' && bad[i] <= 'f')
			bad[i] = (char)(bad[i] - 'a' + 'A');
	CHECK_OK(al_vss_auth_verify(ctx, user, bad, n, now));
	CHECK_MEM(user, ser, 33);
	/* A '+' or a non-digit in the time; a non-hex character. */
	memcpy(bad, hdr, n + 1);
	bad[194] = '+';
	CHECK_ERR(al_vss_auth_verify(ctx, user, bad, n, now), AL_E_VSS_AUTH_FORMAT);
	memcpy(bad, hdr, n + 1);
	bad[10] = 'g';
	CHECK_ERR(al_vss_auth_verify(ctx, user, bad, n, now), AL_E_VSS_AUTH_FORMAT);
	/* Another key's pubkey in front of this signature. */
	memcpy(bad, hdr, n + 1);
	bad[1] = bad[1] == '2' ? '3' : '2';
	CHECK_ERR(al_vss_auth_verify(ctx, user, bad, n, now), AL_E_VSS_AUTH_SIG);
	memcpy(bad, hdr, n + 1);
	bad[1] = '5'; /* 0x05..: not a compressed key */
	CHECK_ERR(al_vss_auth_verify(ctx, user, bad, n, now), AL_E_VSS_AUTH_KEY);
	/* The signature of another key. */
	CHECK_OK(al_vss_auth_sign(ctx, bad, sizeof(bad), &n, &k2, now));
	memcpy(bad, hdr, 66);
	CHECK_ERR(al_vss_auth_verify(ctx, user, bad, n, now), AL_E_VSS_AUTH_SIG);
	/* A time longer than 64 bits fits the length but not the number. */
	memcpy(bad, hdr, 194);
	memcpy(bad + 194, "99999999999999999999", 21);
	CHECK_ERR(al_vss_auth_verify(ctx, user, bad, 214, now), AL_E_VSS_AUTH_FORMAT);
	/* High-S form of a valid signature (s -> n - s) is refused, as libsecp256k1 does. */
	{
		static const uint8_t order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		                                  0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
		                                  0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
		uint8_t hs[64];
		int borrow = 0;

		memcpy(hs, sig, 32);
		for (int i = 31; i >= 0; i--) {
			int d = order[i] - sig[32 + i] - borrow;

			borrow = d < 0;
			hs[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
		}
		memcpy(bad, hdr, 214);
		CHECK_OK(al_hex_encode(bad + 66, 129, hs, 64));
		memcpy(bad + 194, "1700000000", 11);
		CHECK_ERR(al_vss_auth_verify(ctx, user, bad, 204, now), AL_E_VSS_AUTH_SIG);
	}
	CHECK(al_vss_is_auth_error(AL_E_VSS_AUTH_SIG) && !al_vss_is_auth_error(AL_E_VSS_KEY));
	al_privkey_clear(&k);
	al_privkey_clear(&k2);
}

static void test_list_resp(void)
{
	al_vss_kv items[2] = {{"b", 0, 3, NULL, 0}, {"a", 0, 1, NULL, 0}};
	al_vss_list_resp r = {items, 2, "", true, 9}, r2;
	uint8_t out[128];
	size_t n;

	CHECK_OK(al_vss_encode_list_resp(&arena, out, sizeof(out), &n, &r));
	CHECK(n == 18 && memcmp(out,
	                        "\x0a\x05\x0a\x01"
	                        "b\x10\x03\x0a\x05\x0a\x01"
	                        "a\x10\x01"
	                        "\x12\x00\x18\x09",
	                        18) == 0);
	CHECK_OK(al_vss_decode_list_resp(&arena, &r2, out, n));
	CHECK(r2.n == 2 && strcmp(r2.items[1].key, "a") == 0 && r2.items[0].version == 3);
	CHECK(r2.has_global_version && r2.global_version == 9 &&
	      strcmp(r2.next_page_token, "") == 0);
	CHECK_OK(al_vss_decode_empty_resp(&arena, NULL, 0));
	CHECK_ERR(al_vss_decode_empty_resp(&arena, (const uint8_t *)"\x0a\x05", 2),
	          AL_E_VSS_DECODE);
	al_arena_release(&arena, 0);
}

int main(void)
{
	al_arena_init(&arena, arena_mem, sizeof(arena_mem));
	test_put_bytes();
	test_get_resp_bytes();
	test_requests();
	test_items_limit();
	test_status();
	test_paths();
	test_auth();
	test_list_resp();
	return al_t_finish();
}
