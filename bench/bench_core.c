/* alight-bench [group...]: figures printed as one JSON object (see bench.h).
 *
 * Without arguments every group runs. Groups that measure a service (a storage
 * server, a chain server) read its address from the environment; scripts/bench starts
 * the services and sets it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench.h"
#include "bench_attest.h"
#include "bench_commit.h"
#include "bench_devchain.h"
#include "bench_noise.h"
#include "bench_mega.h"
#include "bench_onchain.h"
#include "bench_pay.h"
#include "bench_quote.h"
#include "bench_store.h"
#include "bench_sync.h"
#include "crypto/aead.h"
#include "crypto/hash.h"

static json_t *results;

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_rate(int (*op)(void *arg), void *arg, long batch)
{
	double best = 0;
	int round;

	for (round = 0; round < BENCH_ROUNDS; round++) {
		double start = bench_now(), elapsed;
		long done = 0, i;
		do {
			for (i = 0; i < batch; i++)
				if (op(arg) != 0)
					bench_fail("operation failed", NULL);
			done += batch;
			elapsed = bench_now() - start;
		} while (elapsed < BENCH_MIN_SECONDS);
		if (done / elapsed > best)
			best = done / elapsed;
	}
	return best;
}

void bench_put(const char *key, double value)
{
	/* Three decimals are plenty for a rate or a latency. */
	double r = round(value * 1000) / 1000;

	if (r == floor(r) && fabs(r) < 1e15)
		json_object_set_new(results, key, json_integer((json_int_t)r));
	else
		json_object_set_new(results, key, json_real(r));
}

void bench_put_str(const char *key, const char *value)
{
	json_object_set_new(results, key, json_string(value));
}

void bench_fail(const char *what, const char *detail)
{
	fprintf(stderr, "alight-bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *samples, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(samples, n, sizeof(*samples), cmp_double);
	/* Nearest rank. */
	i = (size_t)ceil(p / 100.0 * (double)n);
	return samples[i ? i - 1 : 0];
}

const al_secp *bench_secp(void)
{
	static _Alignas(16) uint8_t mem[1 << 12];
	static const uint8_t seed[32] = {42};
	static al_secp *secp;

	if (!secp && (al_secp_size() > sizeof(mem) ||
	              al_secp_create(&secp, mem, sizeof(mem), seed) != AL_OK))
		bench_fail("cannot create a secp256k1 context", NULL);
	return secp;
}

/* ---- group "crypto": the primitives everything else stands on ---- */

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
	return bench_rate(op_aead, &len, len < 4096 ? 4096 : 64) * (double)len / 1e6;
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

static void group_crypto(void)
{
	struct sig_ctx s;

	memset(buf, 0x5a, sizeof(buf));
	bench_put("sha256_mb_per_s", bench_rate(op_sha256, NULL, 64) * sizeof(buf) / 1e6);
	bench_put("chacha20poly1305_mb_per_s", aead_mb_per_s(sizeof(buf)));
	bench_put("aead_message_bytes", sizeof(buf));
	memset(&s, 0, sizeof(s));
	s.secp = bench_secp();
	memset(s.key.k, 0x11, 32);
	if (al_pubkey_from_privkey(s.secp, &s.pub, &s.key) != AL_OK || op_sign(&s))
		bench_fail("ECDSA set-up failed", NULL);
	bench_put("ecdsa_sign_per_s", bench_rate(op_sign, &s, 256));
	bench_put("ecdsa_verify_per_s", bench_rate(op_verify, &s, 256));
}

/* ---- group "ln": BOLT 3 and BOLT 8 ---- */

static void group_ln(void)
{
	const al_secp *secp = bench_secp();
	double commit, hs, raw_small, raw_large, small, large;

	commit = bench_commitment_rate(secp, bench_rate);
	if (commit < 0)
		bench_fail("commitment build failed", NULL);
	bench_put("bolt3_commitment_build_sign_per_s", commit);
	/* BOLT 8: encrypted transport next to raw ChaCha20-Poly1305 at the same sizes,
	 * measured in this run (goal: >= 90% of raw for the largest messages). */
	hs = bench_noise_handshakes(secp, bench_rate);
	raw_small = aead_mb_per_s(64);
	raw_large = aead_mb_per_s(65535);
	if (hs < 0 || bench_noise_throughput(secp, 64, &small) != 0 ||
	    bench_noise_throughput(secp, 65535, &large) != 0)
		bench_fail("BOLT 8 benchmark failed", NULL);
	bench_put("bolt8_handshakes_per_s", hs);
	bench_put("bolt8_64b_mb_per_s", small);
	bench_put("raw_aead_64b_mb_per_s", raw_small);
	bench_put("bolt8_65535b_mb_per_s", large);
	bench_put("raw_aead_65535b_mb_per_s", raw_large);
	bench_put("bolt8_65535b_percent_of_raw", 100.0 * large / raw_large);
}

/* ---- group "chain": alight-devchain's transaction validation ---- */

static void group_chain(void)
{
	double r = bench_devchain_validation_rate(bench_secp(), bench_rate);

	if (r < 0)
		bench_fail("devchain validation failed", NULL);
	bench_put("devchain_p2wpkh_validate_tx_per_s", r);
}

static const struct group {
	const char *name;
	void (*run)(void);
} groups[] = {
    {"crypto", group_crypto}, {"ln", group_ln},         {"store", bench_store},
    {"chain", group_chain},   {"attest", bench_attest}, {"sync", bench_sync},
    {"quote", bench_quote},   {"mega", bench_mega},     {"onchain", bench_onchain},
    {"pay", bench_pay},
};

#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

static const struct group *find_group(const char *name)
{
	size_t i;

	for (i = 0; i < N_GROUPS; i++)
		if (strcmp(groups[i].name, name) == 0)
			return &groups[i];
	return NULL;
}

int main(int argc, char **argv)
{
	char note[128];
	size_t i;
	int a;

	results = json_object();
	bench_put_str("benchmark", "alight");
	snprintf(note, sizeof(note),
	         "MB = 10^6 bytes; rates per second, best of %d rounds of >= %.1f s; "
	         "latencies in ms",
	         BENCH_ROUNDS, BENCH_MIN_SECONDS);
	bench_put_str("unit_note", note);
	for (a = 1; a < argc; a++)
		if (!find_group(argv[a]))
			bench_fail("unknown group", argv[a]);
	for (i = 0; i < N_GROUPS; i++) {
		bool chosen = argc == 1;
		for (a = 1; a < argc; a++)
			chosen |= strcmp(argv[a], groups[i].name) == 0;
		if (chosen)
			groups[i].run();
	}
	json_dumpf(results, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	putchar('\n');
	json_decref(results);
	return 0;
}
