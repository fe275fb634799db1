/* For fuzz targets that drive a program's HTTP handler: the handler behind a real
 * host/httpd.h server on 127.0.0.1 in this process, a kept-alive host/httpc.h client,
 * a scratch directory for the program's database, and the input format
 *
 *   METHOD TARGET\n
 *   rest (headers or body, as the target defines)
 *
 * Included by one target each (static functions, all used). */
#ifndef ALIGHT_FUZZ_APP_SERVER_H
#define ALIGHT_FUZZ_APP_SERVER_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/httpc.h"
#include "host/httpd.h"

typedef struct app_server {
	al_httpd *srv;
	al_httpc *cli;
	char base[64];
	char dir[64];
} app_server;

/* A fresh directory under /dev/shm (memory; fsyncs are free) or /tmp. */
static void app_server_mkdir(app_server *s)
{
	strcpy(s->dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/alight-fuzz-XXXXXX"
	                                             : "/tmp/alight-fuzz-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		abort();
}

static void app_server_start(app_server *s, al_httpd_handler handler, void *arg, size_t max_body)
{
	al_httpd_config cfg = {0};
	al_httpc_config ccfg = {0};

	cfg.listen = "127.0.0.1:0";
	cfg.handler = handler;
	cfg.handler_arg = arg;
	cfg.serialize = true;
	cfg.max_body = max_body;
	cfg.max_response = max_body + 4096;
	if (al_httpd_start(&s->srv, &cfg) != AL_OK || al_httpc_new(&s->cli, &ccfg) != AL_OK)
		abort();
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", (unsigned)al_httpd_port(s->srv));
}

/* Stop the server and remove the directory with everything in it. */
static void app_server_stop(app_server *s)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	al_httpc_free(s->cli);
	al_httpd_stop(s->srv);
	d = opendir(s->dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(s->dir);
}

/* Split "METHOD TARGET\n" off the input; false if the input does not start that way. */
static bool app_server_line(const uint8_t *data, size_t size, char method[32], char target[512],
                            const uint8_t **rest, size_t *rest_len)
{
	const uint8_t *nl = memchr(data, '\n', size), *sp;
	size_t n = nl ? (size_t)(nl - data) : size;

	sp = memchr(data, ' ', n);
	if (sp == NULL || memchr(data, 0, n) != NULL || (size_t)(sp - data) >= 32 ||
	    n - (size_t)(sp - data) - 1 >= 512 - 64)
		return false;
	memcpy(method, data, (size_t)(sp - data));
	method[sp - data] = '\0';
	memcpy(target, sp + 1, n - (size_t)(sp - data) - 1);
	target[n - (size_t)(sp - data) - 1] = '\0';
	*rest = nl ? nl + 1 : data + size;
	*rest_len = (size_t)(data + size - *rest);
	return true;
}

/* Send one request; a request the client refuses to write (bad method or target) is
 * AL_E_ARG or an HTTP/URL error, which the caller skips. The server must answer
 * everything else: a kept-alive connection it closed in between is retried once. */
static al_err app_server_request(app_server *s, al_httpc_response *res, const char *method,
                                 const char *target, const al_http_field *fields, size_t n,
                                 const uint8_t *body, size_t len)
{
	char url[600];
	al_err e;

	if (target[0] != '/')
		return AL_E_ARG;
	snprintf(url, sizeof(url), "%s%s", s->base, target);
	e = al_httpc_request(s->cli, res, method, url, fields, n, body, len);
	if (e == AL_E_NET_CLOSED || e == AL_E_NET_IO || e == AL_E_TRUNCATED)
		e = al_httpc_request(s->cli, res, method, url, fields, n, body, len);
	return e;
}

#endif
