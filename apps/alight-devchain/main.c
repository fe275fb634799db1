/* alight-devchain: a regtest chain with an Esplora REST API and an Electrum server (see
 * devchain.h, electrum.h).
 *
 *   alight-devchain --datadir DIR [--listen 127.0.0.1:PORT] [--tls-cert PEM --tls-key PEM]
 *                   [--electrum HOST:PORT | --electrum none]
 *                   [--electrum-max-queue BYTES] [--electrum-max-subs N]
 *                   [--electrum-idle-ms MS]
 *
 * Both servers listen on port 0 unless told otherwise. The first line on stdout is JSON:
 * {"esplora":"http://127.0.0.1:PORT","electrum":"tcp://127.0.0.1:PORT","network":"regtest"}
 * ("electrum" absent with --electrum none). Runs until SIGINT or SIGTERM. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devchain.h"
#include "electrum.h"
#include "host/httpd.h"

/* The chain behind one lock, shared by the HTTP threads and the Electrum thread. */
typedef struct app {
	dc_chain chain;
	pthread_mutex_t lock;
	el_server *electrum;
} app;

static void usage(void)
{
	fprintf(stderr, "usage: alight-devchain --datadir DIR [--listen HOST:PORT] "
	                "[--tls-cert PEM --tls-key PEM] [--electrum HOST:PORT|none] "
	                "[--electrum-max-queue BYTES] [--electrum-max-subs N] "
	                "[--electrum-idle-ms MS]\n");
	exit(2);
}

/* A positive decimal count, at most 2^40. */
static size_t count_arg(const char *s)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		usage();
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > (1ULL << 40))
		usage();
	return (size_t)v;
}

/* Every HTTP request runs under the chain's lock; a change wakes the Electrum server. */
static void locked_handler(void *arg, const struct al_httpd_req *req, struct al_httpd_res *res)
{
	app *a = arg;
	uint64_t gen;
	bool changed;

	pthread_mutex_lock(&a->lock);
	gen = a->chain.gen;
	dc_http_handler(&a->chain, req, res);
	changed = a->chain.gen != gen;
	pthread_mutex_unlock(&a->lock);
	if (changed && a->electrum)
		el_server_wake(a->electrum);
}

int main(int argc, char **argv)
{
	const char *datadir = NULL, *listen = "127.0.0.1:0", *cert = NULL, *key = NULL;
	const char *electrum = "127.0.0.1:0";
	char el_addr[160] = "";
	al_httpd_config cfg = {0};
	el_limits lim;
	al_httpd *srv;
	static app a;
	al_err e;

	el_limits_default(&lim);
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
		else if (!strcmp(argv[i], "--electrum"))
			electrum = argv[++i];
		else if (!strcmp(argv[i], "--electrum-max-queue"))
			lim.max_queue = count_arg(argv[++i]);
		else if (!strcmp(argv[i], "--electrum-max-subs"))
			lim.max_subs = count_arg(argv[++i]);
		else if (!strcmp(argv[i], "--electrum-idle-ms"))
			lim.idle_ms = count_arg(argv[++i]);
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
	if (dc_open(&a.chain, datadir) != 0)
		return 1;
	pthread_mutex_init(&a.lock, NULL);
	if (strcmp(electrum, "none") != 0 &&
	    el_server_start(&a.electrum, &a.chain, &a.lock, electrum, &lim, el_addr,
	                    sizeof(el_addr)) != 0) {
		fprintf(stderr, "alight-devchain: cannot listen on %s for Electrum\n", electrum);
		return 1;
	}
	cfg.listen = listen;
	cfg.tls_cert_file = cert;
	cfg.tls_key_file = key;
	cfg.handler = locked_handler;
	cfg.handler_arg = &a;
	cfg.max_body = 8u << 20;
	e = al_httpd_start(&srv, &cfg);
	if (e != AL_OK) {
		fprintf(stderr, "alight-devchain: cannot listen on %s: %s\n", listen,
		        al_err_str(e));
		el_server_stop(a.electrum);
		return 1;
	}
	printf("{\"esplora\":\"%s://%s\",", cert ? "https" : "http", al_httpd_address(srv));
	if (a.electrum)
		printf("\"electrum\":\"tcp://%s\",", el_addr);
	printf("\"network\":\"regtest\"}\n");
	fflush(stdout);
	al_httpd_wait_for_signal();
	al_httpd_stop(srv);
	el_server_stop(a.electrum);
	dc_close(&a.chain);
	pthread_mutex_destroy(&a.lock);
	return 0;
}
