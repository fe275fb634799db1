/* alight-audit attest verify --evidence FILE [--collateral FILE] [--at RFC3339]
 *     [--root PEM] [--vcek DER --ask-ark PEM] [--key PEM] [--policy FILE]
 *     [--allow-simulated]
 *
 * Host side of the verifier: reads the files, takes the time (--at, else the
 * clock), calls al_att_verify, prints the JSON verdict and exits 0 affirming,
 * 1 warning, 2 contraindicated, 3 usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "attest/der.h"

#define MAX_FILE (16u << 20)

typedef struct file_buf {
	uint8_t *p;
	size_t len;
} file_buf;

typedef struct opts {
	const char *evidence, *collateral, *at, *root, *vcek, *ask_ark, *key, *policy;
	int allow_simulated;
} opts;

static void usage(FILE *f)
{
	fprintf(f, "usage: alight-audit attest verify --evidence FILE [--collateral FILE]\n"
	           "         [--at RFC3339] [--root PEM] [--vcek DER --ask-ark PEM] [--key PEM]\n"
	           "         [--policy FILE] [--allow-simulated]\n"
	           "exit: 0 affirming, 1 warning, 2 contraindicated, 3 usage error\n");
}

static int read_file(file_buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;

	b->p = NULL;
	b->len = 0;
	if (!f) {
		fprintf(stderr, "alight-audit: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || (size_t)size > MAX_FILE ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "alight-audit: %s: cannot size or too large\n", path);
		fclose(f);
		return -1;
	}
	b->p = malloc((size_t)size + 1);
	if (!b->p || fread(b->p, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "alight-audit: %s: read failed\n", path);
		free(b->p);
		b->p = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	b->len = (size_t)size;
	return 0;
}

static int parse_args(opts *o, int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t off;
	} value_opts[] = {
	    {"--evidence", offsetof(opts, evidence)},
	    {"--collateral", offsetof(opts, collateral)},
	    {"--at", offsetof(opts, at)},
	    {"--root", offsetof(opts, root)},
	    {"--vcek", offsetof(opts, vcek)},
	    {"--ask-ark", offsetof(opts, ask_ark)},
	    {"--key", offsetof(opts, key)},
	    {"--policy", offsetof(opts, policy)},
	};

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		size_t k;

		if (strcmp(argv[i], "--allow-simulated") == 0) {
			o->allow_simulated = 1;
			continue;
		}
		for (k = 0; k < sizeof(value_opts) / sizeof(value_opts[0]); k++)
			if (strcmp(argv[i], value_opts[k].name) == 0)
				break;
		if (k == sizeof(value_opts) / sizeof(value_opts[0])) {
			fprintf(stderr, "alight-audit: unknown argument '%s'\n", argv[i]);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "alight-audit: %s needs a value\n", argv[i]);
			return -1;
		}
		*(const char **)((char *)o + value_opts[k].off) = argv[++i];
	}
	if (!o->evidence) {
		fprintf(stderr, "alight-audit: --evidence is required\n");
		return -1;
	}
	if (!o->vcek != !o->ask_ark) {
		fprintf(stderr, "alight-audit: --vcek and --ask-ark go together\n");
		return -1;
	}
	return 0;
}

/* Load every named file; all or nothing. */
static int load_inputs(const opts *o, file_buf f[7])
{
	const char *paths[7] = {o->evidence, o->collateral, o->root,  o->vcek,
	                        o->ask_ark,  o->key,        o->policy};

	for (int i = 0; i < 7; i++)
		if (paths[i] && read_file(&f[i], paths[i]) != 0)
			return -1;
	return 0;
}

static int verify(const opts *o, file_buf f[7])
{
	al_att_input in;
	al_att_policy policy;
	al_att_result res;
	al_arena arena;
	void *mem;
	al_err err;

	memset(&in, 0, sizeof(in));
	if (o->at) {
		if (al_att_parse_time(&in.now, o->at, strlen(o->at)) != AL_OK) {
			fprintf(stderr, "alight-audit: --at wants RFC 3339 UTC, e.g. "
			                "2025-06-19T10:56:12Z\n");
			return AUDIT_USAGE;
		}
	} else {
		in.now = (int64_t)time(NULL);
	}
	al_att_policy_default(&policy);
	if (f[6].p && (err = al_att_policy_parse(&policy, f[6].p, f[6].len)) != AL_OK) {
		fprintf(stderr, "alight-audit: %s: %s\n", o->policy, al_err_str(err));
		return AUDIT_USAGE;
	}
	in.evidence = f[0].p;
	in.evidence_len = f[0].len;
	in.collateral = f[1].p;
	in.collateral_len = f[1].len;
	in.extra_root = f[2].p;
	in.extra_root_len = f[2].len;
	in.vcek = f[3].p;
	in.vcek_len = f[3].len;
	in.ask_ark = f[4].p;
	in.ask_ark_len = f[4].len;
	in.key = f[5].p;
	in.key_len = f[5].len;
	in.policy = &policy;
	in.allow_simulated = o->allow_simulated;
	mem = malloc(AL_ATT_SCRATCH_SIZE);
	if (!mem)
		return AUDIT_USAGE;
	al_arena_init(&arena, mem, AL_ATT_SCRATCH_SIZE);
	err = al_att_verify(&arena, &res, &in);
	free(mem);
	if (err == AL_E_ATT_MISSING) {
		fprintf(stderr, "alight-audit: %s\n",
		        res.n_failures ? res.failures[0].reason : al_err_str(err));
		return AUDIT_USAGE;
	}
	if (err != AL_OK) {
		fprintf(stderr, "alight-audit: %s\n", al_err_str(err));
		return AUDIT_USAGE;
	}
	audit_print_result(&res, in.now);
	return res.status == AL_ATT_AFFIRMING ? AUDIT_AFFIRMING
	       : res.status == AL_ATT_WARNING ? AUDIT_WARNING
	                                      : AUDIT_CONTRAINDICATED;
}

int main(int argc, char **argv)
{
	file_buf f[7] = {{0}};
	opts o;
	int rc = AUDIT_USAGE;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "attest") != 0 || strcmp(argv[2], "verify") != 0) {
		usage(stderr);
		return AUDIT_USAGE;
	}
	if (parse_args(&o, argc - 3, argv + 3) != 0) {
		usage(stderr);
		return AUDIT_USAGE;
	}
	if (load_inputs(&o, f) == 0)
		rc = verify(&o, f);
	for (int i = 0; i < 7; i++)
		free(f[i].p);
	return rc;
}
