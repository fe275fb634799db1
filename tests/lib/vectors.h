/* Access to the shared conformance vectors (../shared/vectors or $ALIGHT_VECTORS).
 *
 * A missing vector directory skips the test (exit 77) on a developer machine and
 * fails it under CI=true: a missing oracle is never a silent pass.
 *
 * Each suite prints exactly one line, `VECTORS <suite> <passed>/<total>`, where total
 * is the number of vectors in the file: a vector the code cannot handle counts as
 * failed, never as absent. */
#ifndef ALIGHT_TESTS_VECTORS_H
#define ALIGHT_TESTS_VECTORS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Load a JSON file relative to the vectors directory; exits as described above if
 * the directory is missing, and fails the test if the file is absent or invalid. */
json_t *al_v_load_json(const char *relpath);
/* Load a JSON file kept in the repository's tests/data; fails the test (exit 1) if it
 * is absent or invalid. */
json_t *al_v_load_data(const char *name);
/* Load a text file (NUL-terminated, caller frees with free()). */
char *al_v_load_text(const char *relpath, size_t *len);

typedef struct al_v_suite {
	const char *name;
	int passed;
	int total;
} al_v_suite;

void al_v_begin(al_v_suite *s, const char *name);
/* Record one vector's outcome; on failure the printf-style description goes to stderr. */
void al_v_result(al_v_suite *s, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print the VECTORS line; returns true when every vector passed and total > 0. */
bool al_v_end(al_v_suite *s);

/* Convenience accessors that fail the test on a missing or mistyped field. */
const char *al_v_str(const json_t *obj, const char *key);
long long al_v_int(const json_t *obj, const char *key);

#endif
