/* HTTP server and client over real loopback sockets, plain and TLS.
 *
 * Our client against our server (GET/POST, keep-alive reuse, HEAD, large bodies, size
 * limits, pins, CA, host name checks, Unix socket), raw sockets against the server
 * (malformed -> 400 with the reason, 413, 431, pipelining, 100-continue, slow client ->
 * 408), and independent oracles: OpenSSL's `openssl s_client` and Python's http.client
 * (with ssl) against our HTTPS server, `openssl s_server -www` and a Python server that
 * answers chunked against our client. Certificates are generated into a temp dir. */
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/tls.h"
#include "host/httpc.h"
#include "host/httpd.h"
#include "host/netconn.h"
#include "test.h"
#include "tls_testcerts.h"

static char dir[] = "/tmp/alight-httpd-XXXXXX";
static tcert ca, leaf, other;
static char *ca_path, *cert_path, *key_path, *other_cert_path, *other_key_path;
static atomic_int calls;

static void handler(void *arg, const al_httpd_req *r, al_httpd_res *res)
{
	const char *x = al_http_request_header(r->http, "x-test");
	(void)arg;
	atomic_fetch_add(&calls, 1);
	if (!strcmp(r->path, "/big")) {
		size_t n = strtoul(r->query, NULL, 10);
		for (size_t i = 0; i < n; i++) {
			uint8_t b = (uint8_t)('a' + i % 26);
			if (al_httpd_res_body(res, &b, 1) != AL_OK)
				return;
		}
		return;
	}
	if (!strcmp(r->path, "/status")) {
		al_httpd_res_text(res, atoi(r->query), "as asked");
		return;
	}
	if (!strcmp(r->path, "/sleep")) {
		struct timespec ts = {0, 300 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	CHECK(al_httpd_res_header(res, "X-Peer", r->peer) == AL_OK);
	CHECK(al_httpd_res_header(res, "Content-Length", "1") == AL_E_ARG);
	CHECK(al_httpd_res_header(res, "X-Bad", "a\r\nb: c") == AL_E_HTTP_HEADER_VALUE);
	CHECK(al_httpd_res_printf(res, "%s %s ?%s len=%zu x=%s tls=%d\n", r->method, r->path,
	                          r->query, r->body_len, x ? x : "-", r->tls != NULL) == AL_OK);
	CHECK(al_httpd_res_body(res, r->body, r->body_len) == AL_OK);
}

static al_httpd *start(const char *listen, bool tls, size_t max_body, unsigned io_ms)
{
	al_httpd_config cfg = {0};
	al_httpd *s = NULL;
	cfg.listen = listen;
	cfg.handler = handler;
	cfg.max_body = max_body;
	cfg.max_head = 2048;
	cfg.io_timeout_ms = io_ms;
	cfg.max_response = 4u << 20;
	if (tls) {
		cfg.tls_cert_file = cert_path;
		cfg.tls_key_file = key_path;
	}
	CHECK_OK(al_httpd_start(&s, &cfg));
	return s;
}

/* Send raw bytes, read until the server closes (or 3 s), return the text. */
static char *raw(uint16_t port, const char *data, size_t len)
{
	static char out[65536];
	size_t have = 0, n;
	int fd;
	al_conn c;
	out[0] = 0;
	if (al_net_connect(&fd, "127.0.0.1", port, 2000) != AL_OK)
		return out;
	al_conn_init(&c, fd, 3000);
	if (al_conn_write(&c, data, len) == AL_OK)
		while (have < sizeof(out) - 1 &&
		       al_conn_read(&c, out + have, sizeof(out) - 1 - have, &n, 3000) == AL_OK)
			have += n;
	out[have] = 0;
	al_conn_close(&c);
	return out;
}

static char *raw_s(uint16_t port, const char *s)
{
	return raw(port, s, strlen(s));
}

static void test_plain(void)
{
	al_httpd *s = start("127.0.0.1:0", false, 100000, 1000);
	al_httpc *c;
	al_httpc_response r;
	al_http_field f[] = {{"X-Test", "yes"}};
	char url[128], peer1[128] = "";
	uint16_t port = al_httpd_port(s);

	CHECK(port != 0);
	CHECK(strncmp(al_httpd_address(s), "127.0.0.1:", 10) == 0);
	CHECK_OK(al_httpc_new(&c, NULL));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo?a=1", port);
	CHECK_OK(al_httpc_request(c, &r, "GET", url, f, 1, NULL, 0));
	CHECK(r.status == 200);
	CHECK(strcmp((const char *)r.body, "GET /echo ?a=1 len=0 x=yes tls=0\n") == 0);
	if (al_httpc_header(&r, "x-peer"))
		snprintf(peer1, sizeof(peer1), "%s", al_httpc_header(&r, "x-peer"));
	al_httpc_response_free(&r);
	/* Keep-alive: the second request comes from the same client port. */
	CHECK_OK(al_httpc_post(c, &r, url, "text/plain", (const uint8_t *)"hello", 5));
	CHECK(r.status == 200);
	CHECK(strcmp((const char *)r.body, "POST /echo ?a=1 len=5 x=- tls=0\nhello") == 0);
	CHECK(al_httpc_header(&r, "X-Peer") && !strcmp(al_httpc_header(&r, "X-Peer"), peer1));
	al_httpc_response_free(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/big?300000", port);
	CHECK_OK(al_httpc_get(c, &r, url));
	CHECK(r.status == 200 && r.body_len == 300000 && r.body[299999] == 'a' + 299999 % 26);
	al_httpc_response_free(&r);
	CHECK_OK(al_httpc_request(c, &r, "HEAD", url, NULL, 0, NULL, 0));
	CHECK(r.status == 200 && r.body_len == 0);
	CHECK(!strcmp(al_httpc_header(&r, "content-length"), "300000"));
	al_httpc_response_free(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/status?404", port);
	CHECK_OK(al_httpc_get(c, &r, url));
	CHECK(r.status == 404 && !strcmp((const char *)r.body, "as asked\n"));
	al_httpc_response_free(&r);
	/* Response over the client's limit. */
	al_httpc_free(c);
	{
		al_httpc_config cc = {0};
		cc.max_body = 1000;
		CHECK_OK(al_httpc_new(&c, &cc));
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/big?1001", port);
		CHECK_ERR(al_httpc_get(c, &r, url), AL_E_HTTP_BODY_TOO_LARGE);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/big?1000", port);
		CHECK_OK(al_httpc_get(c, &r, url));
		al_httpc_response_free(&r);
		al_httpc_free(c);
	}
	/* Request over the server's limit: 413 from the client's point of view. */
	CHECK_OK(al_httpc_new(&c, NULL));
	{
		uint8_t *big = calloc(1, 100001);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo", port);
		CHECK_OK(al_httpc_post(c, &r, url, NULL, big, 100001));
		CHECK(r.status == 413);
		al_httpc_response_free(&r);
		free(big);
	}
	CHECK_ERR(al_httpc_get(c, &r, "http://127.0.0.1:1/"), AL_E_NET_CONNECT);
	CHECK_ERR(al_httpc_get(c, &r, "ftp://127.0.0.1/"), AL_E_HTTP_URL_SCHEME);
	CHECK_ERR(al_httpc_get(c, &r, "http://no-such-host.invalid/"), AL_E_NET_RESOLVE);
	al_httpc_free(c);
	al_httpd_stop(s);
}

static void test_raw(void)
{
	al_httpd *s = start("127.0.0.1:0", false, 1000, 500);
	uint16_t port = al_httpd_port(s);
	char *o, big[4000];

	o = raw_s(port, "GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n");
	CHECK(strstr(o, "HTTP/1.1 400 Bad Request\r\n") == o);
	CHECK(strstr(o, "Connection: close") && strstr(o, "exactly one valid Host"));
	o = raw_s(port, "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
	                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	CHECK(strstr(o, "HTTP/1.1 400 ") == o && strstr(o, "smuggling"));
	o = raw_s(port, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n");
	CHECK(strstr(o, "HTTP/1.1 413 Content Too Large\r\n") == o);
	o = raw_s(port, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n");
	CHECK(strstr(o, "HTTP/1.1 501 ") == o);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	o = raw(port, big, sizeof(big));
	CHECK(strstr(o, "HTTP/1.1 431 ") == o);
	/* Pipelining with a chunked body; the last request closes. */
	o = raw_s(port, "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	                "3\r\nabc\r\n0\r\n\r\n"
	                "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	CHECK(strstr(o, "POST /a ? len=3 x=- tls=0\nabc") != NULL);
	CHECK(strstr(o, "GET /b ? len=0") != NULL);
	/* HTTP/1.0 closes after one response. */
	o = raw_s(port, "GET /c HTTP/1.0\r\n\r\n");
	CHECK(strstr(o, "HTTP/1.1 200 OK\r\n") == o && strstr(o, "Connection: close"));
	/* Expect: 100-continue gets its interim response before the body is sent. */
	{
		int fd;
		al_conn c;
		char buf[512];
		size_t n = 0;
		const char *h = "PUT /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
		                "Content-Length: 2\r\nConnection: close\r\n\r\n";
		CHECK_OK(al_net_connect(&fd, "127.0.0.1", port, 1000));
		al_conn_init(&c, fd, 2000);
		CHECK_OK(al_conn_write(&c, h, strlen(h)));
		CHECK_OK(al_conn_read(&c, buf, sizeof(buf) - 1, &n, 2000));
		buf[n] = 0;
		CHECK(strcmp(buf, "HTTP/1.1 100 Continue\r\n\r\n") == 0);
		CHECK_OK(al_conn_write(&c, "ok", 2));
		CHECK_OK(al_conn_read(&c, buf, sizeof(buf) - 1, &n, 2000));
		buf[n] = 0;
		CHECK(strstr(buf, "HTTP/1.1 200 OK") == buf);
		al_conn_close(&c);
	}
	/* A slow client: half a request, then silence -> 408 after the I/O timeout. */
	{
		int fd;
		al_conn c;
		char buf[512];
		size_t n = 0;
		CHECK_OK(al_net_connect(&fd, "127.0.0.1", port, 1000));
		al_conn_init(&c, fd, 3000);
		CHECK_OK(al_conn_write(&c, "GET / HTTP/1.1\r\nHo", 18));
		CHECK_OK(al_conn_read(&c, buf, sizeof(buf) - 1, &n, 3000));
		buf[n] = 0;
		CHECK(strstr(buf, "HTTP/1.1 408 ") == buf);
		al_conn_close(&c);
	}
	al_httpd_stop(s);
}

static void test_unix(void)
{
	char path[256], spec[300];
	al_httpd *s;
	al_conn c;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[512];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	s = start(spec, false, 1000, 1000);
	CHECK(s && al_httpd_port(s) == 0 && !strcmp(al_httpd_address(s), spec));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	al_conn_init(&c, fd, 2000);
	{
		const char *q = "GET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		CHECK_OK(al_conn_write(&c, q, strlen(q)));
	}
	CHECK_OK(al_conn_read(&c, buf, sizeof(buf) - 1, &n, 2000));
	buf[n] = 0;
	CHECK(strstr(buf, "X-Peer: unix") != NULL);
	al_conn_close(&c);
	al_httpd_stop(s);
	CHECK(access(path, F_OK) != 0);
}

static void test_tls(void)
{
	al_httpd *s = start("127.0.0.1:0", true, 200000, 2000);
	uint16_t port = al_httpd_port(s);
	al_httpc_config cc = {0};
	al_httpc *c;
	al_httpc_response r;
	char url[128];
	uint8_t pins[1][32];

	cc.ca_file = ca_path;
	CHECK_OK(al_httpc_new(&c, &cc));
	snprintf(url, sizeof(url), "https://localhost:%u/echo", port);
	CHECK_OK(al_httpc_post(c, &r, url, "a/b", (const uint8_t *)"secret", 6));
	CHECK(r.status == 200 && strstr((const char *)r.body, "len=6 x=- tls=1\nsecret"));
	al_httpc_response_free(&r);
	snprintf(url, sizeof(url), "https://localhost:%u/big?150000", port);
	CHECK_OK(al_httpc_get(c, &r, url));
	CHECK(r.status == 200 && r.body_len == 150000);
	al_httpc_response_free(&r);
	al_httpc_free(c);
	/* A server whose certificate names localhost only: 127.0.0.1 does not match. */
	{
		al_httpd_config sc = {0};
		al_httpd *s2 = NULL;
		sc.listen = "127.0.0.1:0";
		sc.handler = handler;
		sc.tls_cert_file = other_cert_path;
		sc.tls_key_file = other_key_path;
		CHECK_OK(al_httpd_start(&s2, &sc));
		cc.ca_file = other_cert_path;
		CHECK_OK(al_httpc_new(&c, &cc));
		snprintf(url, sizeof(url), "https://127.0.0.1:%u/", s2 ? al_httpd_port(s2) : 1);
		CHECK_ERR(al_httpc_get(c, &r, url), AL_E_TLS_HOSTNAME);
		CHECK(strstr(al_httpc_error_detail(c), "mismatch") != NULL);
		snprintf(url, sizeof(url), "https://localhost:%u/", s2 ? al_httpd_port(s2) : 1);
		CHECK_OK(al_httpc_get(c, &r, url));
		al_httpc_response_free(&r);
		al_httpc_free(c);
		al_httpd_stop(s2);
	}
	/* Wrong CA. */
	cc.ca_file = other_cert_path;
	CHECK_OK(al_httpc_new(&c, &cc));
	snprintf(url, sizeof(url), "https://localhost:%u/", port);
	CHECK_ERR(al_httpc_get(c, &r, url), AL_E_TLS_VERIFY);
	al_httpc_free(c);
	/* Pins. */
	cc.ca_file = NULL;
	CHECK_OK(al_tls_pin_from_pem(pins[0], (const uint8_t *)leaf.cert_pem, leaf.cert_len));
	cc.pins = (const uint8_t(*)[32])pins;
	cc.n_pins = 1;
	CHECK_OK(al_httpc_new(&c, &cc));
	CHECK_OK(al_httpc_get(c, &r, url));
	CHECK(r.status == 200);
	al_httpc_response_free(&r);
	al_httpc_free(c);
	pins[0][0] ^= 1;
	CHECK_OK(al_httpc_new(&c, &cc));
	CHECK_ERR(al_httpc_get(c, &r, url), AL_E_TLS_PIN);
	al_httpc_free(c);
	/* Plain HTTP to the TLS port: the server sees garbage and closes. */
	{
		CHECK_OK(al_httpc_new(&c, NULL));
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
		al_err e = al_httpc_get(c, &r, url);
		CHECK(e == AL_E_TRUNCATED || e == AL_E_NET_CLOSED || e == AL_E_HTTP_STATUS_LINE ||
		      e == AL_E_HTTP_VERSION);
		al_httpc_free(c);
	}
	al_httpd_stop(s);
}

/* --- independent oracles ---------------------------------------------------------------- */

static char *run_capture(const char *cmd)
{
	static char out[65536];
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	out[0] = 0;
	if (!p)
		return out;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	return out;
}

static void test_oracle_clients(void)
{
	al_httpd *s = start("127.0.0.1:0", true, 300000, 3000);
	uint16_t port = al_httpd_port(s);
	char cmd[2048], *o;

	/* openssl s_client, verifying our chain and name, TLS 1.3. */
	snprintf(cmd, sizeof(cmd),
	         "printf 'GET /from-openssl?q HTTP/1.1\\r\\nHost: localhost\\r\\n"
	         "Connection: close\\r\\n\\r\\n' | timeout 10 openssl s_client -quiet -ign_eof "
	         "-tls1_3 -connect 127.0.0.1:%u -servername localhost -verify_hostname localhost "
	         "-CAfile %s -verify_return_error 2>/dev/null",
	         port, ca_path);
	o = run_capture(cmd);
	CHECK(strstr(o, "HTTP/1.1 200 OK\r\n") == o);
	CHECK(strstr(o, "GET /from-openssl ?q len=0 x=- tls=1") != NULL);
	/* Python's http.client over ssl with its own verification, keep-alive, a POST. */
	snprintf(cmd, sizeof(cmd),
	         "timeout 20 /usr/bin/python3 -c \"\n"
	         "import http.client, ssl\n"
	         "ctx = ssl.create_default_context(cafile='%s')\n"
	         "c = http.client.HTTPSConnection('localhost', %u, context=ctx)\n"
	         "c.request('POST', '/py', body=b'z'*250000, headers={'X-Test': 'py'})\n"
	         "r = c.getresponse(); b = r.read()\n"
	         "print(r.status, len(b), b.split(b'\\\\n')[0].decode())\n"
	         "c.request('GET', '/big?70000')\n"
	         "r = c.getresponse(); b = r.read()\n"
	         "print(r.status, len(b), b[-1:].decode(), c.sock.version())\n"
	         "\" 2>&1",
	         ca_path, port);
	o = run_capture(cmd);
	CHECK(strstr(o, "200 250033 POST /py ? len=250000 x=py tls=1\n") == o);
	CHECK(strstr(o, "200 70000 h TLSv1.3") != NULL);
	if (strstr(o, "200 70000 h") == NULL)
		fprintf(stderr, "python said: %s\n", o);
	al_httpd_stop(s);
}

static void kill_wait(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* An oracle server started by `cmd` binds port 0 and prints the port it got, after
 * `prefix`, on a line of its own, once it listens: nothing picks a port that another
 * program could take first, and nothing waits for the server by retrying. *out is the
 * read end of its stdout, kept open until it is stopped (closed, its next write would
 * kill it); read a byte at a time, so no line sits in a buffer poll(2) cannot see.
 * 0 if it printed no such line (60 s without a byte count as none). */
static uint16_t spawn_listening(const char *cmd, const char *prefix, pid_t *pid, int *out)
{
	int fds[2];
	char line[256];
	size_t n = 0;

	*pid = -1;
	*out = -1;
	if (pipe(fds) != 0)
		return 0;
	*pid = fork();
	if (*pid == 0) {
		setpgid(0, 0);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out = fds[0];
	if (*pid < 0)
		return 0;
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		char ch;

		if (poll(&p, 1, 60000) != 1 || read(fds[0], &ch, 1) != 1)
			return 0;
		if (ch != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = ch;
			continue;
		}
		line[n] = '\0';
		n = 0;
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			const char *at = strrchr(line, ':');

			return (uint16_t)atoi(at ? at + 1 : line + strlen(prefix));
		}
	}
}

static void stop_listening(pid_t pid, int out)
{
	kill_wait(pid);
	if (out >= 0)
		close(out);
}

static void test_oracle_servers(void)
{
	char cmd[1024], url[128];
	al_httpc_config cc = {0};
	al_httpc *c;
	al_httpc_response r;
	uint16_t port;
	pid_t pid;
	al_err e;
	int out;

	/* openssl s_server -www answers GET / with a status page over TLS 1.3; it prints
	 * "ACCEPT 127.0.0.1:<port>" once it listens. */
	snprintf(cmd, sizeof(cmd),
	         "exec openssl s_server -tls1_3 -accept 127.0.0.1:0 -cert %s -key %s -www "
	         "2>/dev/null",
	         cert_path, key_path);
	port = spawn_listening(cmd, "ACCEPT ", &pid, &out);
	CHECK(port != 0);
	cc.ca_file = ca_path;
	CHECK_OK(al_httpc_new(&c, &cc));
	snprintf(url, sizeof(url), "https://localhost:%u/", port);
	e = port != 0 ? al_httpc_get(c, &r, url) : AL_E_NET_CONNECT;
	CHECK_OK(e);
	if (e == AL_OK) {
		CHECK(r.status == 200 && strstr((const char *)r.body, "s_server") != NULL);
		CHECK(strstr((const char *)r.body, "TLSv1.3") != NULL);
		al_httpc_response_free(&r);
	}
	al_httpc_free(c);
	stop_listening(pid, out);

	/* A Python HTTP/1.1 server answering with a chunked body and keep-alive. */
	snprintf(
	    cmd, sizeof(cmd),
	    "exec /usr/bin/python3 -c \"\n"
	    "import http.server\n"
	    "class H(http.server.BaseHTTPRequestHandler):\n"
	    "    protocol_version = 'HTTP/1.1'\n"
	    "    def log_message(self, *a): pass\n"
	    "    def do_GET(self):\n"
	    "        self.send_response(200)\n"
	    "        self.send_header('Transfer-Encoding', 'chunked')\n"
	    "        self.end_headers()\n"
	    "        for part in (b'chunk-one ', b'x' * 5000, b' end'):\n"
	    "            self.wfile.write(b'%%x\\\\r\\\\n%%s\\\\r\\\\n' %% (len(part), part))\n"
	    "        self.wfile.write(b'0\\\\r\\\\n\\\\r\\\\n')\n"
	    "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	    "print('PORT', s.server_address[1], flush=True)\n"
	    "s.serve_forever()\n"
	    "\" 2>/dev/null");
	port = spawn_listening(cmd, "PORT ", &pid, &out);
	CHECK(port != 0);
	CHECK_OK(al_httpc_new(&c, NULL));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", port);
	e = port != 0 ? al_httpc_get(c, &r, url) : AL_E_NET_CONNECT;
	CHECK_OK(e);
	if (e == AL_OK) {
		CHECK(r.status == 200 && r.body_len == 10 + 5000 + 4);
		CHECK(r.body_len > 10 && memcmp(r.body, "chunk-one x", 11) == 0);
		CHECK(r.body_len > 4 && !strcmp((const char *)r.body + r.body_len - 4, " end"));
		al_httpc_response_free(&r);
		/* Again on the kept-alive connection. */
		e = al_httpc_get(c, &r, url);
		CHECK_OK(e);
		if (e == AL_OK) {
			CHECK(r.status == 200 && r.body_len == 5014);
			al_httpc_response_free(&r);
		}
	}
	al_httpc_free(c);
	stop_listening(pid, out);
}

static bool setup(void)
{
	if (!mkdtemp(dir))
		return false;
	if (!tc_make(&ca, "alight httpd test CA", NULL, NULL, true, -3600, 86400) ||
	    !tc_make(&leaf, "localhost", "DNS:localhost,IP:127.0.0.1", &ca, false, -3600, 86400) ||
	    !tc_make(&other, "other", "DNS:localhost", NULL, false, -3600, 86400))
		return false;
	ca_path = tc_write(dir, "ca.pem", ca.cert_pem, ca.cert_len);
	cert_path = tc_write(dir, "cert.pem", leaf.cert_pem, leaf.cert_len);
	key_path = tc_write(dir, "key.pem", leaf.key_pem, leaf.key_len);
	other_cert_path = tc_write(dir, "other.pem", other.cert_pem, other.cert_len);
	other_key_path = tc_write(dir, "other.key", other.key_pem, other.key_len);
	return ca_path && cert_path && key_path && other_cert_path && other_key_path;
}

static void teardown(void)
{
	char *paths[] = {ca_path, cert_path, key_path, other_cert_path, other_key_path};
	for (size_t i = 0; i < 5; i++) {
		if (paths[i])
			unlink(paths[i]);
		free(paths[i]);
	}
	rmdir(dir);
	tc_free(&ca);
	tc_free(&leaf);
	tc_free(&other);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!setup()) {
		fprintf(stderr, "test setup failed\n");
		return 1;
	}
	test_plain();
	test_raw();
	test_unix();
	test_tls();
	test_oracle_clients();
	test_oracle_servers();
	teardown();
	return al_t_finish();
}
