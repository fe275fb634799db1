/* Sealed records (store/seal.h): names, round trips and every way to fail opening. */
#include <string.h>

#include "crypto/rng.h"
#include "store/seal.h"
#include "test.h"

static const uint8_t seed_a[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t seed_b[32] = {9, 9, 9};

static al_rng rng;
static al_rng_chacha chacha;

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static void test_keys_and_names(void)
{
	uint8_t n1[32], n2[32], tag[16];
	al_seal_keys a, b;

	CHECK_ERR(al_seal_keys_derive(&a, seed_a, AL_SEAL_MIN_SEED - 1), AL_E_ARG);
	CHECK_OK(al_seal_keys_derive(&a, seed_a, sizeof(seed_a)));
	CHECK_OK(al_seal_keys_derive(&b, seed_b, sizeof(seed_b)));
	/* Distinct labels give distinct keys. */
	CHECK(memcmp(a.enc, a.name, 32) != 0);
	CHECK(memcmp(a.enc, b.enc, 32) != 0);

	/* Deterministic, and the namespace tag is the name's prefix. */
	CHECK_OK(al_seal_name(&a, n1, "chan", "abc"));
	CHECK_OK(al_seal_name(&a, n2, "chan", "abc"));
	CHECK_MEM(n1, n2, 32);
	CHECK_OK(al_seal_ns_tag(&a, tag, "chan"));
	CHECK_MEM(n1, tag, 16);
	/* Length-prefixed: ("chan", "abc") and ("cha", "nabc") differ. */
	CHECK_OK(al_seal_name(&a, n2, "cha", "nabc"));
	CHECK(memcmp(n1, n2, 32) != 0);
	CHECK(memcmp(n1, n2, 16) != 0);
	/* Another seed, another name. */
	CHECK_OK(al_seal_name(&b, n2, "chan", "abc"));
	CHECK(memcmp(n1, n2, 32) != 0);
	CHECK_ERR(al_seal_name(&a, n1, "chan", ""), AL_E_ARG);
	CHECK_OK(al_seal_name(&a, n1, "", "meta"));
	al_seal_keys_clear(&a);
	al_seal_keys_clear(&b);
}

static void test_round_trip(void)
{
	uint8_t rec[256], name[32], big[AL_SEAL_NAME_MAX + 2];
	al_seal_view v;
	al_seal_keys k;
	size_t len;

	CHECK_OK(al_seal_keys_derive(&k, seed_a, sizeof(seed_a)));
	CHECK_OK(al_seal_name(&k, name, "ns", "key"));
	CHECK_OK(al_seal_record(&k, &rng, rec, sizeof(rec), &len, "ns", "key", 3, 7,
	                        (const uint8_t *)"value", 5));
	CHECK(len == al_seal_record_len(3, 5));
	CHECK(!contains(rec, len, "value"));
	CHECK_OK(al_seal_open(&k, &v, rec, len, "ns", name, 3));
	CHECK(v.len == 5 && memcmp(v.value, "value", 5) == 0);
	CHECK(v.keylen == 3 && memcmp(v.key, "key", 3) == 0);
	CHECK(v.version == 3 && v.global_version == 7);

	/* Empty value. */
	CHECK_OK(al_seal_record(&k, &rng, rec, sizeof(rec), &len, "ns", "key", 1, 1, NULL, 0));
	CHECK_OK(al_seal_open(&k, &v, rec, len, "ns", name, 1));
	CHECK(v.len == 0);

	/* Bad arguments and short buffers. */
	CHECK_ERR(al_seal_record(&k, &rng, rec, len - 1, &len, "ns", "key", 1, 1, NULL, 0),
	          AL_E_BUFSIZE);
	CHECK_ERR(al_seal_record(&k, &rng, rec, sizeof(rec), &len, "ns", "key", 0, 1, NULL, 0),
	          AL_E_ARG);
	CHECK_ERR(al_seal_record(&k, &rng, rec, sizeof(rec), &len, "ns", "key", 1, 0, NULL, 0),
	          AL_E_ARG);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 0;
	CHECK_ERR(
	    al_seal_record(&k, &rng, rec, sizeof(rec), &len, "ns", (char *)big, 1, 1, NULL, 0),
	    AL_E_ARG);
	al_seal_keys_clear(&k);
}

/* Seal ("ns", "key") at version 2 into rec and return its length. */
static size_t fresh(const al_seal_keys *k, uint8_t *rec, size_t cap)
{
	size_t len = 0;

	CHECK_OK(al_seal_record(k, &rng, rec, cap, &len, "ns", "key", 2, 5,
	                        (const uint8_t *)"secret value", 12));
	return len;
}

static void test_open_failures(void)
{
	uint8_t rec[256], copy[256], name[32], other[32];
	al_seal_keys k, k2;
	al_seal_view v;
	size_t len, i;

	CHECK_OK(al_seal_keys_derive(&k, seed_a, sizeof(seed_a)));
	CHECK_OK(al_seal_keys_derive(&k2, seed_b, sizeof(seed_b)));
	CHECK_OK(al_seal_name(&k, name, "ns", "key"));
	CHECK_OK(al_seal_name(&k, other, "ns", "other"));
	len = fresh(&k, rec, sizeof(rec));

	/* Every single-bit flip of any byte is refused. */
	for (i = 0; i < len; i++) {
		memcpy(copy, rec, len);
		copy[i] ^= 0x01;
		CHECK(al_seal_open(&k, &v, copy, len, "ns", name, 2) != AL_OK);
	}
	memcpy(copy, rec, len);
	copy[0] = 0x02;
	CHECK_ERR(al_seal_open(&k, &v, copy, len, "ns", name, 2), AL_E_STORE_FORMAT);
	memcpy(copy, rec, len);
	copy[len - 1] ^= 0x80;
	CHECK_ERR(al_seal_open(&k, &v, copy, len, "ns", name, 2), AL_E_STORE_TAMPERED);
	CHECK(v.value == NULL && v.len == 0);
	memcpy(copy, rec, len);
	copy[AL_SEAL_HEADER_LEN + 3] ^= 0x80;
	CHECK_ERR(al_seal_open(&k, &v, copy, len, "ns", name, 2), AL_E_STORE_TAMPERED);

	/* Truncation at every length. */
	for (i = 0; i < len; i++) {
		memcpy(copy, rec, len);
		CHECK_ERR(al_seal_open(&k, &v, copy, i, "ns", name, 2), AL_E_STORE_TRUNCATED);
	}
	/* Oversized: trailing bytes. */
	memcpy(copy, rec, len);
	copy[len] = 0;
	CHECK_ERR(al_seal_open(&k, &v, copy, len + 1, "ns", name, 2), AL_E_STORE_TAMPERED);

	/* Found under another object: swapped. */
	memcpy(copy, rec, len);
	CHECK_ERR(al_seal_open(&k, &v, copy, len, "ns", other, 2), AL_E_STORE_SWAPPED);
	/* Served as another version: older record under a newer version is a rollback. */
	memcpy(copy, rec, len);
	CHECK_ERR(al_seal_open(&k, &v, copy, len, "ns", name, 3), AL_E_STORE_ROLLBACK);
	memcpy(copy, rec, len);
	CHECK_ERR(al_seal_open(&k, &v, copy, len, "ns", name, 1), AL_E_STORE_TAMPERED);
	/* Another namespace (associated data) or another node's keys. */
	memcpy(copy, rec, len);
	CHECK_ERR(al_seal_open(&k, &v, copy, len, "nt", name, 2), AL_E_STORE_TAMPERED);
	memcpy(copy, rec, len);
	CHECK_ERR(al_seal_open(&k2, &v, copy, len, "ns", name, 2), AL_E_STORE_TAMPERED);

	/* The pristine record still opens. */
	CHECK_OK(al_seal_open(&k, &v, rec, len, "ns", name, 2));
	CHECK(v.len == 12 && memcmp(v.value, "secret value", 12) == 0);
	al_seal_keys_clear(&k);
	al_seal_keys_clear(&k2);
}

int main(void)
{
	static const uint8_t rng_seed[32] = {42};

	al_rng_chacha_init(&chacha, &rng, rng_seed);
	test_keys_and_names();
	test_round_trip();
	test_open_failures();
	return al_t_finish();
}
