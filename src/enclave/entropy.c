/* The enclave's randomness: drawn from the CPU inside the enclave, the host's bytes only
 * mixed in.
 *
 * ARCHITECTURE.md, "The trust boundary": "Randomness: CPU entropy drawn inside the
 * enclave (RDSEED/RDRAND), host bytes only mixed in." RDSEED and RDRAND execute inside
 * an SGX enclave and their results never pass the host. A host that answers the random
 * ocall with constant (or chosen) bytes therefore chooses nothing: node keys, TLS keys,
 * BOLT #8 ephemerals and AEAD nonces all come from this generator.
 *
 * The generator keeps a 32-byte key K (fast key erasure):
 *   init:    K = HKDF-SHA256(salt = "alight/enclave-entropy/v1",
 *                            ikm = CPU(64) || host(32) || measurement, info = "init")
 *   output:  out = HKDF-SHA256(salt = K, ikm = CPU(32) || counter, info = "out"),
 *            then K = HKDF-SHA256(salt = K, ikm = counter, info = "next")
 * with CPU(n) n bytes of RDSEED (RDRAND where the CPU lacks RDSEED), every request
 * taking fresh CPU bytes, and the host's bytes mixed in again every 4096 requests.
 * The primitives are OpenSSL's (HKDF over HMAC-SHA256); OpenSSL's own RAND methods are
 * pointed here too. */
/* RAND_set_rand_method is deprecated in OpenSSL 3 but still consulted first by every
 * RAND_bytes_ex and RAND_priv_bytes_ex; a provider would do the same in far more code. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/rand.h>
#include <string.h>

#include "crypto/hash.h"
#include "util/mem.h"
#include "enclave/enclave_int.h"

#define RESEED_HOST 4096

static struct {
	uint8_t key[32];
	uint64_t counter;
	uint64_t cpu_bytes;
	bool seed; /* RDSEED available (else RDRAND) */
	bool ready;
} ent;

#if defined(__x86_64__)
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(sub));
}

static bool rdseed64(uint64_t *v)
{
	unsigned char ok;
	/* Early clobber: %0 is written before setc uses %1, whose address may otherwise
	 * share its register (clang -O0 did, and setc then wrote through the random value). */
	__asm__ volatile("rdseed %0; setc %1" : "=&r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

static bool rdrand64(uint64_t *v)
{
	unsigned char ok;
	__asm__ volatile("rdrand %0; setc %1" : "=&r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

/* Which instruction the CPU has: 2 RDSEED, 1 RDRAND, 0 neither. */
static int cpu_source(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	uint32_t max = r[0];
	if (max >= 7) {
		cpuid(7, 0, r);
		if (r[1] & (1u << 18))
			return 2;
	}
	cpuid(1, 0, r);
	return (r[2] & (1u << 30)) ? 1 : 0;
}

/* n bytes from the CPU; both instructions may fail transiently (Intel's guidance: retry). */
static al_err cpu_bytes(uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = 0;
		bool ok = false;
		for (int tries = 0; tries < 1000 && !ok; tries++)
			ok = ent.seed ? rdseed64(&v) : rdrand64(&v);
		if (!ok)
			return AL_E_ENC_ENTROPY;
		memcpy(out + i, &v, n - i < 8 ? n - i : 8);
		al_memzero(&v, sizeof(v));
	}
	ent.cpu_bytes += n;
	return AL_OK;
}
#else
static int cpu_source(void)
{
	return 0;
}

static al_err cpu_bytes(uint8_t *out, size_t n)
{
	(void)out;
	(void)n;
	return AL_E_ENC_ENTROPY;
}
#endif

static al_err mix_host(void)
{
	uint8_t in[64], host[32];
	al_err e;

	/* Whatever the host answers (or if it fails) only adds to the key. */
	if (al_enc.oc.random(al_enc.oc.host, host, sizeof(host)) != AL_OK)
		memset(host, 0, sizeof(host));
	memcpy(in, ent.key, 32);
	memcpy(in + 32, host, 32);
	e = al_hkdf_sha256(ent.key, 32, "alight/host-mix", 15, in, sizeof(in), "mix", 3);
	al_memzero(in, sizeof(in));
	return e;
}

static al_err fill(void *state, uint8_t *out, size_t len)
{
	uint8_t ikm[40], next[32];
	al_err e = AL_OK;

	(void)state;
	if (!ent.ready)
		return AL_E_ENC_ENTROPY;
	while (len > 0 && e == AL_OK) {
		size_t n = len < 255 * 32 ? len : 255 * 32;
		if (++ent.counter % RESEED_HOST == 0)
			e = mix_host();
		if (e == AL_OK)
			e = cpu_bytes(ikm, 32);
		memcpy(ikm + 32, &ent.counter, 8);
		if (e == AL_OK)
			e = al_hkdf_sha256(out, n, ent.key, 32, ikm, sizeof(ikm), "out", 3);
		if (e == AL_OK)
			e = al_hkdf_sha256(next, 32, ent.key, 32, &ent.counter, 8, "next", 4);
		if (e == AL_OK)
			memcpy(ent.key, next, 32);
		out += n;
		len -= n;
	}
	al_memzero(ikm, sizeof(ikm));
	al_memzero(next, sizeof(next));
	return e;
}

/* OpenSSL's randomness (TLS randoms and keys, ECDSA nonces): the same generator. */
static int rand_bytes(unsigned char *buf, int num)
{
	return num >= 0 && fill(NULL, buf, (size_t)num) == AL_OK;
}

static int rand_status(void)
{
	return ent.ready;
}

static const RAND_METHOD rand_enclave = {
    .bytes = rand_bytes,
    .pseudorand = rand_bytes,
    .status = rand_status,
};

al_err al_enc_entropy_init(const uint8_t measurement[32])
{
	uint8_t ikm[64 + 32 + 32];
	int src = cpu_source();
	al_err e;

	memset(&ent, 0, sizeof(ent));
	if (src == 0)
		return AL_E_ENC_ENTROPY;
	ent.seed = src == 2;
	e = cpu_bytes(ikm, 64);
	if (e == AL_OK && al_enc.oc.random(al_enc.oc.host, ikm + 64, 32) != AL_OK)
		memset(ikm + 64, 0, 32);
	memcpy(ikm + 96, measurement, 32);
	if (e == AL_OK)
		e = al_hkdf_sha256(ent.key, 32, "alight/enclave-entropy/v1", 25, ikm, sizeof(ikm),
		                   "init", 4);
	al_memzero(ikm, sizeof(ikm));
	if (e != AL_OK)
		return e;
	ent.ready = true;
	if (!RAND_set_rand_method(&rand_enclave))
		return AL_E_CRYPTO;
	al_enc.rng.fill = fill;
	al_enc.rng.state = NULL;
	return AL_OK;
}

void al_enc_entropy_clear(void)
{
	al_memzero(&ent, sizeof(ent));
}

uint64_t al_enc_entropy_cpu_bytes(void)
{
	return ent.cpu_bytes;
}
