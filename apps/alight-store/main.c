/* alight-store: a storage service speaking the VSS API (store/vss.h).
 *
 *   alight-store --datadir DIR --listen HOST:PORT [--postgres CONNINFO]
 *                [--tls-cert PEM --tls-key PEM] [--max-body BYTES]
 *
 * Objects live in DIR/vss.sqlite3, or in PostgreSQL with --postgres. With a certificate
 * and key it serves HTTPS (TLS 1.3); without, plain HTTP, and then only on a loopback
 * address (development). The first line on stdout is {"url":"http(s)://HOST:PORT/vss"},
 * the base URL a VSS client takes. SIGINT or SIGTERM stops it cleanly. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "host/httpd.h"
#include "service.h"

/* A sealed record of the largest value (store/seal.h: 16 MiB) plus framing. */
#define DEFAULT_MAX_BODY ((16u << 20) + (64u << 10))

typedef struct opts {
	const char *datadir, *listen, *postgres, *cert, *key;
	size_t max_body;
} opts;

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "alight-store: %s\n", why);
	fprintf(stderr,
	        "usage: alight-store --datadir DIR --listen HOST:PORT [--postgres CONNINFO]\n"
	        "                    [--tls-cert PEM --tls-key PEM] [--max-body BYTES]\n");
	return 2;
}

static int parse(opts *o, int argc, char **argv)
{
	int i;

	o->max_body = DEFAULT_MAX_BODY;
	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return usage(NULL);
		if (!v)
			return usage("missing value after an option");
		if (!strcmp(a, "--datadir"))
			o->datadir = v;
		else if (!strcmp(a, "--listen"))
			o->listen = v;
		else if (!strcmp(a, "--postgres"))
			o->postgres = v;
		else if (!strcmp(a, "--tls-cert"))
			o->cert = v;
		else if (!strcmp(a, "--tls-key"))
			o->key = v;
		else if (!strcmp(a, "--max-body")) {
			errno = 0;
			o->max_body = (size_t)strtoull(v, &end, 10);
			if (errno || *end || !o->max_body)
				return usage("--max-body takes a positive number of bytes");
		} else
			return usage("unknown option");
	}
	if (!o->datadir || !o->listen)
		return usage("--datadir and --listen are required");
	if (!o->cert != !o->key)
		return usage("--tls-cert and --tls-key go together");
	return 0;
}

/* Plain HTTP carries the Authorization header in the clear: loopback only. */
static int loopback(const char *listen)
{
	return !strncmp(listen, "127.", 4) || !strncmp(listen, "[::1]:", 6) ||
	       !strncmp(listen, "localhost:", 10) || !strncmp(listen, "unix:", 5);
}

static int open_db(st_db *db, const opts *o)
{
	char why[512] = "";
	al_err e;

	if (mkdir(o->datadir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "alight-store: %s: %s\n", o->datadir, strerror(errno));
		return 1;
	}
	e = o->postgres ? st_db_open_pg(db, o->postgres, why, sizeof(why))
	                : st_db_open_sqlite(db, o->datadir, why, sizeof(why));
	if (e != AL_OK) {
		fprintf(stderr, "alight-store: %s\n", why[0] ? why : al_err_str(e));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	opts o = {0};
	st_service svc = {0};
	al_httpd_config cfg = {0};
	al_httpd *httpd = NULL;
	al_secp *secp = NULL;
	void *secp_mem;
	int rc;
	al_err e;

	if ((rc = parse(&o, argc, argv)) != 0)
		return rc;
	if (!o.cert && !loopback(o.listen))
		return usage("plain HTTP only on a loopback address; give --tls-cert/--tls-key");
	/* Verification only: no secrets, so no blinding seed. */
	secp_mem = aligned_alloc(16, (al_secp_size() + 15) / 16 * 16);
	if (!secp_mem || al_secp_create(&secp, secp_mem, al_secp_size(), NULL) != AL_OK) {
		fprintf(stderr, "alight-store: secp256k1 context\n");
		return 1;
	}
	if (open_db(&svc.db, &o) != 0)
		return 1;
	svc.secp = secp;
	svc.max_body = o.max_body;
	cfg.listen = o.listen;
	cfg.tls_cert_file = o.cert;
	cfg.tls_key_file = o.key;
	cfg.handler = st_service_handle;
	cfg.handler_arg = &svc;
	cfg.serialize = true; /* one database connection */
	cfg.max_body = o.max_body;
	cfg.max_response = o.max_body + 4096;
	e = al_httpd_start(&httpd, &cfg);
	if (e != AL_OK) {
		fprintf(stderr, "alight-store: listen on %s: %s\n", o.listen, al_err_str(e));
		svc.db.ops->close(svc.db.ctx);
		return 1;
	}
	printf("{\"url\":\"%s://%s/vss\"}\n", o.cert ? "https" : "http", al_httpd_address(httpd));
	fflush(stdout);
	fprintf(stderr, "alight-store: serving on %s, %s storage\n", al_httpd_address(httpd),
	        svc.db.name);
	al_httpd_wait_for_signal();
	al_httpd_stop(httpd);
	svc.db.ops->close(svc.db.ctx);
	al_secp_destroy(secp);
	free(secp_mem);
	return 0;
}
