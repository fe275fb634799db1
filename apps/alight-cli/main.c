/* alight-cli: talk to alightd over its control socket (HTTP/1.1 on DIR/rpc.sock).
 *
 *   alight-cli --datadir DIR getinfo
 *   alight-cli --datadir DIR listpeers
 *   alight-cli --datadir DIR connect <node_id>@<host>:<port>
 *   alight-cli --datadir DIR newaddress | walletbalance | listfunds
 *   alight-cli --datadir DIR sendtoaddress <address> <sat>
 *   alight-cli --datadir DIR bumpfee <txid> <sat_per_vbyte>
 *     (the on-chain wallet: alightd runs with --esplora URL)
 *   alight-cli --rpc-connect HOST:PORT --measurement HEX [--policy FILE]
 *              [--allow-simulated] [--sim-dir DIR | --collateral FILE --root PEM]
 *              (--datadir DIR | --rpc-token-file FILE) COMMAND
 *     (RA-TLS to alightd --rpc-listen: the server's certificate evidence must satisfy
 *     the policy and pin the measurement, or the request is never sent; cli_ratls.h)
 *
 * Prints the daemon's JSON answer on stdout and exits 0; any failure prints
 * {"error":{"message":...}} on stdout and exits non-zero (1 for a failed request,
 * 2 for bad usage). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/loop.h"
#include "cli_ratls.h"
#include "util/http.h"

/* The longest wait for an answer: a connect lasts at most the daemon's handshake
 * timeout, so this only catches a daemon that hangs. */
#define CLI_TIMEOUT_S 120
#define CLI_MAX_RESP  (16u * 1024u * 1024u)

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
fail(int code, const char *fmt, ...);

static int fail(int code, const char *fmt, ...)
{
	char msg[512];
	json_t *j;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:{s:s}}", "error", "message", msg);
	s = j != NULL ? json_dumps(j, JSON_INDENT(2)) : NULL;
	printf("%s\n", s != NULL ? s : "{\"error\":{\"message\":\"out of memory\"}}");
	free(s);
	json_decref(j);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: alight-cli (--datadir DIR | --rpc-socket PATH) COMMAND [ARGS]\n"
	           "       alight-cli --rpc-connect HOST:PORT --measurement HEX [--policy FILE]\n"
	           "                  [--allow-simulated] [--sim-dir DIR | --collateral FILE\n"
	           "                  --root PEM] (--datadir DIR | --rpc-token-file FILE)\n"
	           "                  COMMAND [ARGS]   (RA-TLS; the token is DIR/rpc.token)\n"
	           "commands:\n"
	           "  getinfo                          node id, network, peer count\n"
	           "  listpeers                        connected peers\n"
	           "  connect <node_id>@<host>:<port>  connect and exchange init\n"
	           "  newaddress                       a fresh receive address (BIP84)\n"
	           "  walletbalance                    on-chain balance\n"
	           "  listfunds                        on-chain outputs\n"
	           "  sendtoaddress <address> <sat>    pay an address\n"
	           "  bumpfee <txid> <sat_per_vbyte>   replace a transaction (BIP125)\n");
}

static int dial(const char *path)
{
	struct sockaddr_un un;
	struct timeval tv = {.tv_sec = CLI_TIMEOUT_S};
	int fd, dirfd, saved;

	if (al_unix_addr(&un, &dirfd, path) != AL_OK)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
			saved = errno;
			close(fd);
			errno = saved;
			fd = -1;
		}
	}
	saved = errno;
	if (dirfd >= 0)
		close(dirfd);
	errno = saved;
	return fd;
}

static bool send_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Print the body: pretty JSON if it parses, else as received. */
static void print_body(const uint8_t *body, size_t len)
{
	json_t *j = json_loadb((const char *)body, len, 0, NULL);
	char *s = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (s != NULL)
		printf("%s\n", s);
	else
		printf("%.*s\n", (int)len, (const char *)body);
	free(s);
	json_decref(j);
}

/* --rpc-connect: the control API over RA-TLS instead of the Unix socket. */
static cli_ratls_opts ratls;

/* Read until a whole response parsed (from the socket, or the RA-TLS session when
 * tls is set); print it; exit code by status. */
static int read_response(int fd, cli_ratls *tls, const char *path)
{
	static const al_http_limits lim = {.max_body = CLI_MAX_RESP - 65536};
	size_t cap = 65536, len = 0;
	uint8_t *buf = malloc(cap);
	al_http_response res;
	unsigned flags = 0;
	al_err e = AL_E_HTTP_INCOMPLETE;
	int rc;

	while (buf != NULL) {
		ssize_t n;

		e = al_http_parse_response(&res, &lim, buf, len, flags);
		if (e != AL_E_HTTP_INCOMPLETE || (flags & AL_HTTP_RES_EOF))
			break;
		if (len == cap) {
			uint8_t *nb = cap < CLI_MAX_RESP ? realloc(buf, cap * 2) : NULL;

			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		n = tls != NULL ? cli_ratls_recv(tls, buf + len, cap - len)
		                : recv(fd, buf + len, cap - len, 0);
		if (n < 0 && tls == NULL && errno == EINTR)
			continue;
		if (n < 0 && tls != NULL) {
			free(buf);
			return fail(1, "no answer from alightd at %s over RA-TLS", path);
		}
		if (n < 0) {
			free(buf);
			return fail(1, "no answer from alightd at %s: %s", path,
			            errno == EAGAIN ? "timed out" : strerror(errno));
		}
		if (n == 0)
			flags |= AL_HTTP_RES_EOF;
		len += (size_t)n;
	}
	if (buf == NULL || e != AL_OK) {
		free(buf);
		return fail(1, "bad answer from alightd at %s: %s", path,
		            buf == NULL ? "out of memory" : al_err_str(e));
	}
	print_body(res.body != NULL ? res.body : (const uint8_t *)"", res.body_len);
	rc = res.status >= 200 && res.status < 300 ? 0 : 1;
	free(buf);
	return rc;
}

static int request(const char *path, const char *method, const char *target, const char *body);

/* The wallet's commands and how many arguments each takes. */
static const struct {
	const char *name;
	int nargs;
} wallet_cmds[] = {
    {"newaddress", 0}, {"walletbalance", 0}, {"listfunds", 0}, {"sendtoaddress", 2}, {"bumpfee", 2},
};

/* POST /v1/wallet/<cmd> {"args":[...]} */
static int cmd_wallet(const char *path, const char *cmd, char **args, int nargs)
{
	char target[64];
	json_t *body = json_pack("{s:[]}", "args");
	char *s;
	int i, rc;

	for (i = 0; body != NULL && i < nargs; i++)
		json_array_append_new(json_object_get(body, "args"), json_string(args[i]));
	s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (s == NULL)
		return fail(2, "arguments must be UTF-8");
	snprintf(target, sizeof(target), "/v1/wallet/%s", cmd);
	rc = request(path, "POST", target, s);
	free(s);
	return rc;
}

/* The request over RA-TLS: sent only once the server's evidence passed the policy. */
static int request_ratls(const uint8_t *req, size_t len)
{
	char msg[768];
	int code, rc;
	cli_ratls *t = cli_ratls_open(&ratls, msg, sizeof(msg), &code);

	if (t == NULL)
		return fail(code, "%s", msg);
	if (!cli_ratls_send(t, req, len))
		rc = fail(1, "cannot send to alightd at %s over RA-TLS", ratls.connect);
	else
		rc = read_response(-1, t, ratls.connect);
	cli_ratls_close(t);
	return rc;
}

static int request(const char *path, const char *method, const char *target, const char *body)
{
	static const al_http_field fields[] = {{"Content-Type", "application/json"},
	                                       {"Accept", "application/json"}};
	size_t blen = body != NULL ? strlen(body) : 0;
	size_t cap = 1024 + blen;
	uint8_t *out;
	al_http_field f[3] = {fields[0], fields[1]};
	size_t nf = body ? 2 : 1;
	char auth[80], msg[256];
	al_wb w;
	int fd, rc;

	if (ratls.connect != NULL) {
		/* The token goes only into the attested channel. */
		if (!cli_ratls_authorization(&ratls, auth, msg, sizeof(msg)))
			return fail(2, "%s", msg);
		f[nf].name = "Authorization";
		f[nf++].value = auth;
	}
	out = malloc(cap);
	if (out == NULL)
		return fail(1, "out of memory");
	al_wb_init(&w, out, cap);
	if (al_http_write_request(&w, method, target, "localhost", f, nf, (const uint8_t *)body,
	                          blen) != AL_OK) {
		free(out);
		return fail(1, "cannot encode the request");
	}
	if (ratls.connect != NULL) {
		rc = request_ratls(out, w.len);
		free(out);
		return rc;
	}
	fd = dial(path);
	if (fd < 0) {
		free(out);
		return fail(1, "cannot reach alightd at %s: %s", path, strerror(errno));
	}
	if (!send_all(fd, out, w.len))
		rc = fail(1, "cannot send to alightd at %s: %s", path, strerror(errno));
	else
		rc = read_response(fd, NULL, path);
	free(out);
	close(fd);
	return rc;
}

static int cmd_connect(const char *path, const char *arg)
{
	const char *at = strchr(arg, '@');
	char pubkey[67];
	json_t *j;
	char *body;
	int rc;

	if (at == NULL || at - arg != 66 || at[1] == '\0')
		return fail(2, "connect wants <node_id>@<host>:<port> with a 66-hex-digit node id");
	memcpy(pubkey, arg, 66);
	pubkey[66] = '\0';
	/* LND's POST /v1/peers body. */
	j = json_pack("{s:{s:s,s:s}}", "addr", "pubkey", pubkey, "host", at + 1);
	body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (body == NULL)
		return fail(1, "out of memory");
	rc = request(path, "POST", "/v1/peers", body);
	free(body);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"datadir", required_argument, NULL, 'd'},
	    {"rpc-socket", required_argument, NULL, 'r'},
	    {"rpc-connect", required_argument, NULL, 'c'},
	    {"policy", required_argument, NULL, 'p'},
	    {"measurement", required_argument, NULL, 'm'},
	    {"allow-simulated", no_argument, NULL, 'a'},
	    {"sim-dir", required_argument, NULL, 's'},
	    {"collateral", required_argument, NULL, 'C'},
	    {"root", required_argument, NULL, 'R'},
	    {"rpc-token-file", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *datadir = NULL, *sock = NULL, *cmd;
	char path[4096], token[4096];
	int ch, nargs;
	size_t i;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			datadir = optarg;
			break;
		case 'r':
			sock = optarg;
			break;
		case 'c':
			ratls.connect = optarg;
			break;
		case 'p':
			ratls.policy_file = optarg;
			break;
		case 'm':
			ratls.measurement = optarg;
			break;
		case 'a':
			ratls.allow_simulated = true;
			break;
		case 's':
			ratls.sim_dir = optarg;
			break;
		case 'C':
			ratls.collateral_file = optarg;
			break;
		case 'R':
			ratls.root_file = optarg;
			break;
		case 'T':
			ratls.token_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return fail(2, "unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (datadir == NULL && sock == NULL && ratls.connect == NULL)
		return fail(2,
		            "--datadir DIR (or --rpc-socket PATH, or --rpc-connect) is required");
	if (optind >= argc)
		return fail(2, "no command (want getinfo, listpeers or connect)");
	if (ratls.connect != NULL && ratls.token_file == NULL && datadir != NULL) {
		snprintf(token, sizeof(token), "%s/rpc.token", datadir);
		ratls.token_file = token;
	}
	if (sock != NULL)
		snprintf(path, sizeof(path), "%s", sock);
	else if (datadir != NULL && ratls.connect == NULL)
		snprintf(path, sizeof(path), "%s/rpc.sock", datadir);
	else
		snprintf(path, sizeof(path), "%s", ratls.connect);
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (strcmp(cmd, "getinfo") == 0 && nargs == 0)
		return request(path, "GET", "/v1/getinfo", NULL);
	if (strcmp(cmd, "listpeers") == 0 && nargs == 0)
		return request(path, "GET", "/v1/peers", NULL);
	if (strcmp(cmd, "connect") == 0 && nargs == 1)
		return cmd_connect(path, argv[optind + 1]);
	for (i = 0; i < sizeof(wallet_cmds) / sizeof(wallet_cmds[0]); i++)
		if (strcmp(cmd, wallet_cmds[i].name) == 0 && nargs == wallet_cmds[i].nargs)
			return cmd_wallet(path, cmd, argv + optind + 1, nargs);
	if (strcmp(cmd, "getinfo") == 0 || strcmp(cmd, "listpeers") == 0 ||
	    strcmp(cmd, "connect") == 0)
		return fail(2, "wrong number of arguments for %s", cmd);
	for (i = 0; i < sizeof(wallet_cmds) / sizeof(wallet_cmds[0]); i++)
		if (strcmp(cmd, wallet_cmds[i].name) == 0)
			return fail(2, "wrong number of arguments for %s", cmd);
	return fail(2, "unknown command \"%s\" (see --help)", cmd);
}
