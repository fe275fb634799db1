/* alight-devchain: a regtest chain with an Esplora REST API (see devchain.h).
 *
 *   alight-devchain --datadir DIR --listen 127.0.0.1:PORT [--tls-cert PEM --tls-key PEM]
 *
 * The first line on stdout is JSON: {"esplora":"http://127.0.0.1:PORT","network":"regtest"}.
 * Runs until SIGINT or SIGTERM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devchain.h"
#include "host/httpd.h"

static void usage(void)
{
	fprintf(stderr, "usage: alight-devchain --datadir DIR --listen HOST:PORT "
	                "[--tls-cert PEM --tls-key PEM]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *datadir = NULL, *listen = "127.0.0.1:0", *cert = NULL, *key = NULL;
	al_httpd_config cfg = {0};
	al_httpd *srv;
	dc_chain chain;
	al_err e;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--datadir"))
			datadir = argv[++i];
		else if (!strcmp(argv[i], "--listen"))
			listen = argv[++i];
		else if (!strcmp(argv[i], "--tls-cert"))
			cert = argv[++i];
		else if (!strcmp(argv[i], "--tls-key"))
			key = argv[++i];
		else
			usage();
	}
	if (!datadir || (!cert != !key))
		usage();
	if (mkdir(datadir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "alight-devchain: cannot create %s: %s\n", datadir,
		        strerror(errno));
		return 1;
	}
	if (dc_open(&chain, datadir) != 0)
		return 1;
	cfg.listen = listen;
	cfg.tls_cert_file = cert;
	cfg.tls_key_file = key;
	cfg.handler = dc_http_handler;
	cfg.handler_arg = &chain;
	cfg.serialize = true;
	cfg.max_body = 8u << 20;
	e = al_httpd_start(&srv, &cfg);
	if (e != AL_OK) {
		fprintf(stderr, "alight-devchain: cannot listen on %s: %s\n", listen,
		        al_err_str(e));
		return 1;
	}
	printf("{\"esplora\":\"%s://%s\",\"network\":\"regtest\"}\n", cert ? "https" : "http",
	       al_httpd_address(srv));
	fflush(stdout);
	al_httpd_wait_for_signal();
	al_httpd_stop(srv);
	dc_close(&chain);
	return 0;
}
