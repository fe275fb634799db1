/* The attestation samples in ../shared/attest (next to the vectors), for the attest
 * tests: located from this file's path or $ALIGHT_ATTEST. A missing directory skips
 * the test (exit 77) on a developer machine and fails it under CI=true. */
#ifndef ALIGHT_TESTS_ATTEST_FILES_H
#define ALIGHT_TESTS_ATTEST_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attest/attest.h"
#include "attest/der.h"

static inline const char *attest_dir(void)
{
	static char path[4096];
	const char *env = getenv("ALIGHT_ATTEST"), *ci = getenv("CI");
	struct stat st;

	if (path[0])
		return path;
	if (env && env[0]) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		/* __FILE__ is <repo>/tests/.../attest_files.h */
		const char *f = __FILE__, *cut = strstr(f, "/tests/");
		int n = cut ? (int)(cut - f) + 1 : 0;

		snprintf(path, sizeof(path), "%.*s../shared/attest", n, f);
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return path;
	if (ci && strcmp(ci, "true") == 0) {
		fprintf(stderr, "FAIL: %s is missing (CI=true: a missing oracle is a failure)\n",
		        path);
		exit(1);
	}
	fprintf(stderr, "SKIP: %s is missing (set ALIGHT_ATTEST)\n", path);
	exit(77);
}

/* Read <attest_dir>/<rel>; exits the test on failure. Caller frees. */
static inline uint8_t *attest_load(const char *rel, size_t *len)
{
	char path[4608];
	FILE *f;
	long size;
	uint8_t *buf;

	snprintf(path, sizeof(path), "%s/%s", attest_dir(), rel);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "FAIL: cannot read %s\n", path);
		exit(1);
	}
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "FAIL: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	buf[size] = 0;
	*len = (size_t)size;
	return buf;
}

/* Verify with a heap scratch arena; returns the al_att_verify result. */
static inline al_err attest_run(al_att_result *res, const al_att_input *in)
{
	static uint8_t *mem;
	al_arena a;

	if (!mem && !(mem = malloc(AL_ATT_SCRATCH_SIZE)))
		exit(2);
	al_arena_init(&a, mem, AL_ATT_SCRATCH_SIZE);
	return al_att_verify(&a, res, in);
}

static inline int64_t attest_time(const char *s)
{
	int64_t t = 0;

	if (al_att_parse_time(&t, s, strlen(s)) != AL_OK) {
		fprintf(stderr, "FAIL: bad time %s\n", s);
		exit(1);
	}
	return t;
}

#endif
