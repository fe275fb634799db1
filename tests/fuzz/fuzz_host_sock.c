/* Peer addresses: alightd's "HOST:PORT" / "[v6]:PORT" parser (src/host/sock.c) and
 * alight-cli's "connect <node_id>@<host>:<port>" argument as it travels.
 *
 * The input is one argument (up to its first NUL). Any address sock_parse accepts must
 * print with sock_format and parse back to the same socket address and port; anything
 * it refuses leaves the address zeroed with errno EINVAL. An argument with an '@' is
 * also taken the way alight-cli takes it (66 characters before the '@', something
 * after), packed into the POST /v1/peers body it sends, and parsed by the daemon's body
 * parser and then its address parser, which must agree with parsing the host alone. */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/api_parse.h"
#include "host/sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool parse_checked(sock_addr *a, const char *s)
{
	static const sock_addr zero;
	char text[SOCK_ADDR_STRLEN];
	sock_addr b;

	errno = 0;
	if (!sock_parse(a, s)) {
		if (errno != EINVAL || memcmp(a, &zero, sizeof(zero)) != 0)
			abort();
		return false;
	}
	if (!(a->ss.ss_family == AF_INET && a->len == sizeof(struct sockaddr_in)) &&
	    !(a->ss.ss_family == AF_INET6 && a->len == sizeof(struct sockaddr_in6)))
		abort();
	sock_format(text, (const struct sockaddr *)&a->ss);
	if (!sock_parse(&b, text) || b.len != a->len || memcmp(&b.ss, &a->ss, a->len) != 0 ||
	    sock_port(&b) != sock_port(a))
		abort();
	return true;
}

/* alight-cli's cmd_connect, then the daemon's connect_req up to the dial. */
static void cli_connect(const al_secp *secp, const char *arg)
{
	const char *at = strchr(arg, '@');
	char pubkey[67], host[SOCK_ADDR_STRLEN + 64];
	const char *parsed;
	json_t *req;
	uint8_t id[33];
	sock_addr a, b;
	json_t *j;
	char *body;
	bool ok;

	if (at == NULL || at - arg != 66 || at[1] == '\0')
		return;
	memcpy(pubkey, arg, 66);
	pubkey[66] = '\0';
	j = json_pack("{s:{s:s,s:s}}", "addr", "pubkey", pubkey, "host", at + 1);
	body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (body == NULL)
		return; /* not UTF-8: alight-cli refuses it before sending */
	req = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
	free(body);
	ok = al_node_connect_args(secp, req, id, &parsed) == NULL && strlen(parsed) < sizeof(host);
	if (ok)
		strcpy(host, parsed);
	json_decref(req);
	if (ok &&
	    (strcmp(host, at + 1) != 0 || parse_checked(&a, host) != parse_checked(&b, at + 1)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t secp_mem[1 << 16] __attribute__((aligned(16)));
	static al_secp *secp;
	char s[512];
	const uint8_t *nul = memchr(data, 0, size);
	size_t n = nul ? (size_t)(nul - data) : size;
	sock_addr a;

	if (secp == NULL && (al_secp_size() > sizeof(secp_mem) ||
	                     al_secp_create(&secp, secp_mem, sizeof(secp_mem), NULL) != AL_OK))
		abort();
	if (n >= sizeof(s))
		return 0;
	memcpy(s, data, n);
	s[n] = '\0';
	parse_checked(&a, s);
	cli_connect(secp, s);
	return 0;
}
