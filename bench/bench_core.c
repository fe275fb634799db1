/* alight-bench: throughput of the core primitives, printed as one JSON object.
 *
 * Each figure is the best of a few timed rounds of at least BENCH_MIN_SECONDS each,
 * measured with CLOCK_MONOTONIC. This is a benchmark, not a test: it asserts nothing
 * about speed; it fails only if an operation returns an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_commit.h"
#include "bench_noise.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/secp.h"

#define BENCH_MIN_SECONDS 0.3
#define BENCH_ROUNDS      3

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run `op` in batches until BENCH_MIN_SECONDS pass; return operations per second,
 * best of BENCH_ROUNDS. `op` returns 0 on success. */
static double rate(int (*op)(void *arg), void *arg, long batch)
{
	double best = 0;
	int round;

	for (round = 0; round < BENCH_ROUNDS; round++) {
		double start = now(), elapsed;
		long done = 0, i;
		do {
			for (i = 0; i < batch; i++) {
				if (op(arg) != 0) {
					fprintf(stderr, "alight-bench: operation failed\n");
					exit(1);
				}
			}
			done += batch;
			elapsed = now() - start;
		} while (elapsed < BENCH_MIN_SECONDS);
		if (done / elapsed > best)
			best = done / elapsed;
	}
	return best;
}

static uint8_t buf[1 << 16];
static uint8_t out[(1 << 16) + AL_AEAD_TAG_LEN];

static int op_sha256(void *arg)
{
	uint8_t h[32];

	(void)arg;
	al_sha256(h, buf, sizeof(buf));
	buf[0] = h[0];
	return 0;
}

/* Raw ChaCha20-Poly1305 over *(size_t *)arg bytes. */
static int op_aead(void *arg)
{
	static const uint8_t key[32] = {7};
	uint8_t nonce[AL_AEAD_NONCE_LEN];

	al_aead_bolt8_nonce(nonce, 1);
	return al_aead_seal(out, key, nonce, NULL, 0, buf, *(size_t *)arg) != AL_OK;
}

static double aead_mb_per_s(size_t len)
{
	return rate(op_aead, &len, len < 4096 ? 4096 : 64) * (double)len / 1e6;
}

struct sig_ctx {
	const al_secp *secp;
	al_privkey key;
	al_pubkey pub;
	al_ecdsa_sig sig;
	uint8_t msg[32];
};

static int op_sign(void *arg)
{
	struct sig_ctx *s = arg;

	s->msg[0]++;
	return al_ecdsa_sign(s->secp, &s->sig, s->msg, &s->key) != AL_OK;
}

static int op_verify(void *arg)
{
	struct sig_ctx *s = arg;

	return al_ecdsa_verify(s->secp, &s->sig, s->msg, &s->pub) != AL_OK;
}

int main(void)
{
	static _Alignas(16) uint8_t secp_mem[1 << 12];
	struct sig_ctx s;
	al_secp *secp;
	static const uint8_t seed[32] = {42};
	double sha, aead, sign, verify, commit, hs, raw_small, raw_large, bolt8_small, bolt8_large;

	if (al_secp_size() > sizeof(secp_mem) ||
	    al_secp_create(&secp, secp_mem, sizeof(secp_mem), seed) != AL_OK) {
		fprintf(stderr, "alight-bench: cannot create secp256k1 context\n");
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	sha = rate(op_sha256, NULL, 64) * sizeof(buf) / 1e6;
	aead = aead_mb_per_s(sizeof(buf));

	memset(&s, 0, sizeof(s));
	s.secp = secp;
	memset(s.key.k, 0x11, 32);
	if (al_pubkey_from_privkey(secp, &s.pub, &s.key) != AL_OK || op_sign(&s))
		return 1;
	sign = rate(op_sign, &s, 256);
	verify = rate(op_verify, &s, 256);
	commit = bench_commitment_rate(secp, rate);
	if (commit < 0) {
		fprintf(stderr, "alight-bench: commitment build failed\n");
		return 1;
	}
	/* BOLT 8: encrypted transport next to raw ChaCha20-Poly1305 at the same sizes,
	 * measured in this run (goal: >= 90% of raw for the largest messages). */
	hs = bench_noise_handshakes(secp, rate);
	raw_small = aead_mb_per_s(64);
	raw_large = aead_mb_per_s(65535);
	if (hs < 0 || bench_noise_throughput(secp, 64, &bolt8_small) != 0 ||
	    bench_noise_throughput(secp, 65535, &bolt8_large) != 0) {
		fprintf(stderr, "alight-bench: BOLT 8 benchmark failed\n");
		return 1;
	}

	printf("{\"benchmark\":\"alight-core\",\"unit_note\":\"MB = 10^6 bytes; rates per second, "
	       "best of %d rounds of >= %.1f s\",\n",
	       BENCH_ROUNDS, BENCH_MIN_SECONDS);
	printf(" \"sha256_mb_per_s\":%.1f,\n", sha);
	printf(" \"chacha20poly1305_mb_per_s\":%.1f,\n", aead);
	printf(" \"aead_message_bytes\":%zu,\n", sizeof(buf));
	printf(" \"ecdsa_sign_per_s\":%.0f,\n", sign);
	printf(" \"ecdsa_verify_per_s\":%.0f,\n", verify);
	printf(" \"bolt3_commitment_build_sign_per_s\":%.0f,\n", commit);
	printf(" \"bolt8_handshakes_per_s\":%.0f,\n", hs);
	printf(" \"bolt8_64b_mb_per_s\":%.1f, \"raw_aead_64b_mb_per_s\":%.1f,\n", bolt8_small,
	       raw_small);
	printf(" \"bolt8_65535b_mb_per_s\":%.1f, \"raw_aead_65535b_mb_per_s\":%.1f,\n", bolt8_large,
	       raw_large);
	printf(" \"bolt8_65535b_percent_of_raw\":%.1f}\n", 100.0 * bolt8_large / raw_large);
	al_secp_destroy(secp);
	return 0;
}
