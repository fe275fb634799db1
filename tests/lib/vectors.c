#include "vectors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"

static const char *vectors_dir(void)
{
	static char path[4096];
	const char *env = getenv("ALIGHT_VECTORS");
	const char *ci = getenv("CI");
	struct stat st;

	if (path[0])
		return path;
	if (env && env[0])
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/../shared/vectors", ALIGHT_SOURCE_DIR);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return path;
	if (ci && strcmp(ci, "true") == 0) {
		fprintf(stderr,
		        "FAIL: vector directory %s is missing (CI=true: a missing oracle "
		        "is a failure)\n",
		        path);
		exit(1);
	}
	fprintf(stderr, "SKIP: vector directory %s is missing (set ALIGHT_VECTORS)\n", path);
	exit(77);
}

char *al_v_load_text(const char *relpath, size_t *len)
{
	char path[4608];
	FILE *f;
	long size;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", vectors_dir(), relpath);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "FAIL: cannot open vector file %s\n", path);
		exit(1);
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "FAIL: cannot size %s\n", path);
		exit(1);
	}
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "FAIL: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	buf[size] = '\0';
	if (len)
		*len = (size_t)size;
	return buf;
}

json_t *al_v_load_json(const char *relpath)
{
	size_t len;
	char *text = al_v_load_text(relpath, &len);
	json_error_t jerr;
	/* JSON_DECODE_INT_AS_REAL is not used: integers above 2^53 must stay exact. */
	json_t *root = json_loadb(text, len, 0, &jerr);

	free(text);
	if (!root) {
		fprintf(stderr, "FAIL: %s: invalid JSON at line %d: %s\n", relpath, jerr.line,
		        jerr.text);
		exit(1);
	}
	return root;
}

json_t *al_v_load_data(const char *name)
{
	char path[4200];
	json_error_t jerr;
	json_t *root;

	snprintf(path, sizeof(path), "%s/tests/data/%s", ALIGHT_SOURCE_DIR, name);
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		fprintf(stderr, "FAIL: %s: %s\n", path, jerr.text);
		exit(1);
	}
	return root;
}

void al_v_begin(al_v_suite *s, const char *name)
{
	s->name = name;
	s->passed = 0;
	s->total = 0;
}

void al_v_result(al_v_suite *s, bool ok, const char *fmt, ...)
{
	va_list ap;

	s->total++;
	if (ok) {
		s->passed++;
		return;
	}
	fprintf(stderr, "%s vector %d FAILED: ", s->name, s->total);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

bool al_v_end(al_v_suite *s)
{
	bool ok = s->total > 0 && s->passed == s->total;

	printf("VECTORS %s %d/%d\n", s->name, s->passed, s->total);
	fflush(stdout);
	al_t_checks++;
	if (!ok)
		al_t_failures++;
	return ok;
}

const char *al_v_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v)) {
		fprintf(stderr, "FAIL: vector field '%s' missing or not a string\n", key);
		exit(1);
	}
	return json_string_value(v);
}

long long al_v_int(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v)) {
		fprintf(stderr, "FAIL: vector field '%s' missing or not an integer\n", key);
		exit(1);
	}
	return json_integer_value(v);
}
