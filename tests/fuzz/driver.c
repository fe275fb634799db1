/* Replay driver for fuzz targets in ordinary (non-libFuzzer) builds.
 *
 * Runs the target on every file of its corpus directory, then on deterministic
 * mutations of each (bit flips, truncations, extensions, byte splices) and on
 * pseudo-random inputs. The target itself must never crash, leak or trip a
 * sanitizer; in the sanitizer build any of those fails the test. The run count is
 * fixed (ALIGHT_FUZZ_RUNS, default 3000) so the test is reproducible. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 65536

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	/* xorshift64*: a test-input generator, not a cryptographic one. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static void run(const uint8_t *data, size_t len)
{
	/* A private copy of exactly `len` bytes, so ASan catches any overread. */
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		exit(2);
	if (len)
		memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static void mutate_and_run(const uint8_t *seed, size_t len, int rounds)
{
	static uint8_t buf[MAX_INPUT];
	int r;

	for (r = 0; r < rounds; r++) {
		size_t n = len > MAX_INPUT ? MAX_INPUT : len, i, k;
		memcpy(buf, seed, n);
		switch (next() % 5) {
		case 0: /* flip bits */
			for (k = 0; n && k < 1 + next() % 4; k++)
				buf[next() % n] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1: /* truncate */
			n = n ? next() % n : 0;
			break;
		case 2: /* extend with random bytes */
			k = next() % 64;
			for (i = 0; i < k && n < MAX_INPUT; i++)
				buf[n++] = (uint8_t)next();
			break;
		case 3: /* overwrite a byte with an interesting value */
			if (n) {
				static const uint8_t vals[] = {0,    1,    0x7f, 0x80,
				                               0xfc, 0xfd, 0xfe, 0xff};
				buf[next() % n] = vals[next() % sizeof(vals)];
			}
			break;
		default: /* duplicate a span */
			if (n > 1) {
				size_t from = next() % n, span = 1 + next() % (n - from);
				if (n + span <= MAX_INPUT) {
					memmove(buf + from + span, buf + from, n - from);
					n += span;
				}
			}
			break;
		}
		run(buf, n);
	}
}

int main(int argc, char **argv)
{
	const char *env = getenv("ALIGHT_FUZZ_RUNS");
	long runs = env ? strtol(env, NULL, 10) : 3000;
	static uint8_t buf[MAX_INPUT];
	int files = 0;
	long i;

	if (argc > 1) {
		DIR *d = opendir(argv[1]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char path[4096];
			FILE *f;
			size_t n;
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
			f = fopen(path, "rb");
			if (!f)
				continue;
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			run(buf, n);
			mutate_and_run(buf, n, (int)(runs / 20 + 1));
			files++;
		}
		if (d)
			closedir(d);
	}
	for (i = 0; i < runs; i++) {
		size_t n = next() % 600, k;
		for (k = 0; k < n; k++)
			buf[k] = (uint8_t)next();
		run(buf, n);
	}
	printf("fuzz replay: %d corpus files, %ld random inputs, no crash\n", files, runs);
	return 0;
}
