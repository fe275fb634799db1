/* Minimal test harness: CHECK records a failure and carries on, so one run reports
 * everything that is wrong. A test's main() ends with `return al_t_finish();`. */
#ifndef ALIGHT_TESTS_TEST_H
#define ALIGHT_TESTS_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/secp.h"
#include "util/err.h"

extern int al_t_failures;
extern int al_t_checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		al_t_checks++;                                                                     \
		if (!(cond)) {                                                                     \
			al_t_failures++;                                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

/* Check an al_err against the expected value, naming both on failure. */
#define CHECK_ERR(expr, want)                                                                      \
	do {                                                                                       \
		al_err got_ = (expr), want_ = (want);                                              \
		al_t_checks++;                                                                     \
		if (got_ != want_) {                                                               \
			al_t_failures++;                                                           \
			fprintf(stderr, "%s:%d: %s: got %s, want %s\n", __FILE__, __LINE__, #expr, \
			        al_err_name(got_), al_err_name(want_));                            \
		}                                                                                  \
	} while (0)

#define CHECK_OK(expr) CHECK_ERR(expr, AL_OK)

/* Compare two byte buffers, printing both in hex on mismatch. */
#define CHECK_MEM(a, b, len) al_t_check_mem(__FILE__, __LINE__, #a, (a), (b), (len))
bool al_t_check_mem(const char *file, int line, const char *what, const void *a, const void *b,
                    size_t len);

/* Decode a hex string into a fresh static-lifetime buffer owned by the harness
 * (freed at exit); aborts the test on bad hex, which is a bug in the test itself. */
uint8_t *al_t_unhex(const char *hex, size_t *len);
/* Print a buffer as hex to stderr with a label. */
void al_t_dump(const char *label, const void *p, size_t len);

/* A secp256k1 context for tests (created on first use, freed at exit). */
const al_secp *al_t_secp(void);

/* Exit status: 0 if every CHECK held, 1 otherwise. Prints a one-line summary. */
int al_t_finish(void);

#endif
