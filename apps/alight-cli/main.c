/* alight-cli: the user's and the operator's command line for alightd.
 *
 * The user, over the user channel (RA-TLS terminated inside the enclave; the request is
 * sent only once the server's evidence passed the policy, and the client presents the
 * credential derived from the user's seed, node/keys.h):
 *
 *   alight-cli --rpc-connect HOST:PORT --measurement HEX [--policy FILE]
 *              [--allow-simulated] [--sim-dir DIR | --collateral FILE --root PEM]
 *              --seed-file FILE COMMAND [ARGS]
 *
 *   provision                         the node of FILE's seed; without FILE, a new
 *                                     seed made inside the enclave, written to FILE once
 *   getinfo | listpeers | connect <node_id>@<host>:<port> | disconnect <node_id>
 *   setchain <url> [--ca PEM | --pin SPKI_SHA256_HEX]...   the user's chain server (an
 *                                     https URL with neither: the roots in the image)
 *   getchain
 *   newaddress | walletbalance | listfunds | sync
 *   sendtoaddress <address> <sat> | bumpfee <txid> <sat_per_vbyte>
 *   openchannel <node_id> <sat> [--push SAT] [--type anchors|static]
 *   listchannels [--pending | --closed]
 *   closechannel <funding_txid> <output_index> [--force]
 *   decodepayreq <bolt11_invoice>
 *   addinvoice <sat> [--memo TEXT] [--expiry SECS] [--private]
 *   listinvoices
 *   channelbalance
 *   lookupinvoice <r_hash_hex>
 *   payinvoice <bolt11_invoice> [--amt SAT]
 *   sendkeysend <node_id> <sat>
 *   listpayments
 *   addholdinvoice <hash_hex> <sat> [--memo TEXT] [--expiry SECS] [--private]
 *   settleinvoice <preimage_hex> | cancelinvoice <hash_hex>
 *   updatechanpolicy --base_fee_msat N --fee_rate_ppm N --time_lock_delta N [...]
 *   feereport
 *   fwdinghistory [--start_time S] [--end_time S] [--index_offset N] [--max_events N]
 *   exportseed
 *
 * The operator, over the control socket (HTTP/1.1 on DIR/rpc.sock; the enclave answers
 * it with the operator's authority only):
 *
 *   alight-cli --datadir DIR [--node N] getinfo | listpeers | connect ... | disconnect ...
 *   alight-cli --datadir DIR enclave
 *
 * Prints the answer's JSON on stdout and exits 0; any failure prints
 * {"error":{"message":...}} on stdout and exits non-zero (1 for a failed request, 2
 * for bad usage). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attest/ratls_server.h"
#include "cli_ratls.h"
#include "util/hex.h"
#include "util/mem.h"
#include "crypto/p256.h"
#include "host/loop.h"
#include "host/seed.h"
#include "node/keys.h"
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
	fprintf(
	    f,
	    "usage: alight-cli --rpc-connect HOST:PORT --measurement HEX [--policy FILE]\n"
	    "                  [--allow-simulated] [--sim-dir DIR | --collateral FILE\n"
	    "                  --root PEM] --seed-file FILE COMMAND [ARGS]      (the user)\n"
	    "       alight-cli --datadir DIR [--node N] COMMAND [ARGS]     (the operator)\n"
	    "the user's commands:\n"
	    "  provision                        the node of the seed in FILE (or, without\n"
	    "                                   FILE, a new seed made inside, saved there)\n"
	    "  getinfo | listpeers              node id, network, storage, peers\n"
	    "  connect <node_id>@<host>:<port>  connect and exchange init\n"
	    "  disconnect <node_id>\n"
	    "  setchain <url> [--ca PEM] [--pin HEX]...  the chain server to trust (https\n"
	    "      with neither: the Mozilla roots compiled into the image)\n"
	    "  getchain\n"
	    "  newaddress | walletbalance | listfunds | sync\n"
	    "  sendtoaddress <address> <sat>    pay an address\n"
	    "  bumpfee <txid> <sat_per_vbyte>   replace a transaction (BIP125)\n"
	    "  openchannel <node_id> <sat> [--push SAT] [--type anchors|static]\n"
	    "                                   open to a connected peer, funded by the\n"
	    "                                   wallet; answers once funding_signed is kept\n"
	    "  listchannels [--pending | --closed]\n"
	    "  closechannel <funding_txid> <output_index> [--force]\n"
	    "  decodepayreq <bolt11_invoice>\n"
	    "  addinvoice <sat> [--memo TEXT] [--expiry SECS] [--private]\n"
	    "  listinvoices\n"
	    "  channelbalance\n"
	    "  lookupinvoice <r_hash_hex>\n"
	    "  payinvoice <bolt11_invoice> [--amt SAT]\n"
	    "  sendkeysend <node_id> <sat>       a spontaneous payment to a channel peer (the\n"
	    "                                   preimage made here)\n"
	    "  listpayments\n"
	    "  updatechanpolicy --base_fee_msat N --fee_rate_ppm N --time_lock_delta N\n"
	    "                   [--min_htlc_msat N] [--max_htlc_msat N] [--chan_point TXID:VOUT]\n"
	    "  feereport\n"
	    "  fwdinghistory [--start_time S] [--end_time S] [--index_offset N] [--max_events N]\n"
	    "  exportseed                       the seed's words\n"
	    "the operator's commands: getinfo, listpeers, connect, disconnect, enclave\n");
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

/* --rpc-connect: the user channel instead of the control socket. */
static cli_ratls_opts ratls;
/* The path for messages: the control socket or the user channel's address. */
static char where[4096];
/* The operator's node slot (--node). */
static long node_slot = -1;

/* An answer: status, and the whole response buffer (body inside). */
typedef struct answer {
	int status;
	uint8_t *buf;
	const uint8_t *body;
	size_t body_len;
} answer;

/* Read until a whole response parsed (from the socket, or the user channel when tls
 * is set). 0 with *a filled, else the exit code (the error printed). */
static int read_answer(int fd, cli_ratls *tls, answer *a)
{
	static const al_http_limits lim = {.max_body = CLI_MAX_RESP - 65536};
	size_t cap = 65536, len = 0;
	uint8_t *buf = malloc(cap);
	al_http_response res;
	unsigned flags = 0;
	al_err e = AL_E_HTTP_INCOMPLETE;

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
		if (n < 0) {
			free(buf);
			return fail(1, "no answer from alightd at %s%s%s", where, tls ? "" : ": ",
			            tls               ? " over the user channel"
			            : errno == EAGAIN ? "timed out"
			                              : strerror(errno));
		}
		if (n == 0)
			flags |= AL_HTTP_RES_EOF;
		len += (size_t)n;
	}
	if (buf == NULL || e != AL_OK) {
		free(buf);
		return fail(1, "bad answer from alightd at %s: %s", where,
		            buf == NULL ? "out of memory" : al_err_str(e));
	}
	a->status = res.status;
	a->buf = buf;
	a->body = res.body != NULL ? res.body : (const uint8_t *)"";
	a->body_len = res.body_len;
	return 0;
}

/* One request, its answer in *a (free a->buf). 0, or the exit code. */
static int exchange(const char *method, const char *target, const char *body, answer *a)
{
	static const al_http_field fields[] = {{"Content-Type", "application/json"},
	                                       {"Accept", "application/json"}};
	size_t blen = body != NULL ? strlen(body) : 0, cap;
	static char scoped[8192 + 64];
	uint8_t *out;
	al_wb w;
	int fd = -1, rc;
	cli_ratls *t = NULL;

	if (node_slot >= 0 && ratls.connect == NULL) {
		snprintf(scoped, sizeof(scoped), "/node/%ld%s", node_slot, target);
		target = scoped;
	}
	cap = 1024 + blen + strlen(target);
	out = malloc(cap);
	if (out == NULL)
		return fail(1, "out of memory");
	al_wb_init(&w, out, cap);
	if (al_http_write_request(&w, method, target, "localhost", fields, body ? 2 : 1,
	                          (const uint8_t *)body, blen) != AL_OK) {
		free(out);
		return fail(1, "cannot encode the request");
	}
	if (ratls.connect != NULL) {
		char msg[768];
		int code;
		t = cli_ratls_open(&ratls, msg, sizeof(msg), &code);
		if (t == NULL) {
			free(out);
			return fail(code, "%s", msg);
		}
		rc = cli_ratls_send(t, out, w.len)
		         ? read_answer(-1, t, a)
		         : fail(1, "cannot send to alightd at %s over the user channel", where);
		cli_ratls_close(t);
	} else if ((fd = dial(where)) < 0) {
		rc = fail(1, "cannot reach alightd at %s: %s", where, strerror(errno));
	} else {
		rc = send_all(fd, out, w.len)
		         ? read_answer(fd, NULL, a)
		         : fail(1, "cannot send to alightd at %s: %s", where, strerror(errno));
		close(fd);
	}
	if (body != NULL)
		al_memzero((void *)out, w.len); /* it may have carried a seed */
	free(out);
	return rc;
}

/* One request, its answer printed; the exit code by status. */
static int request(const char *method, const char *target, const char *body)
{
	answer a;
	int rc = exchange(method, target, body, &a);

	if (rc != 0)
		return rc;
	print_body(a.body, a.body_len);
	rc = a.status >= 200 && a.status < 300 ? 0 : 1;
	free(a.buf);
	return rc;
}

/* A body from a json_t (consumed). */
static int request_json(const char *method, const char *target, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	int rc;

	json_decref(j);
	if (s == NULL)
		return fail(2, "arguments must be UTF-8");
	rc = request(method, target, s);
	free(s);
	return rc;
}

/* The wallet's commands and how many arguments each takes. */
static const struct {
	const char *name;
	int nargs;
} wallet_cmds[] = {
    {"newaddress", 0},    {"walletbalance", 0}, {"listfunds", 0},
    {"sendtoaddress", 2}, {"bumpfee", 2},       {"sync", 0},
};

/* POST /v1/wallet/<cmd> {"args":[...]} */
static int cmd_wallet(const char *cmd, char **args, int nargs)
{
	char target[64];
	json_t *body = json_pack("{s:[]}", "args");

	for (int i = 0; body != NULL && i < nargs; i++)
		json_array_append_new(json_object_get(body, "args"), json_string(args[i]));
	snprintf(target, sizeof(target), "/v1/wallet/%s", cmd);
	return request_json("POST", target, body);
}

static int cmd_connect(const char *arg)
{
	const char *at = strchr(arg, '@');
	char pubkey[67];

	if (at == NULL || at - arg != 66 || at[1] == '\0')
		return fail(2, "connect wants <node_id>@<host>:<port> with a 66-hex-digit node id");
	memcpy(pubkey, arg, 66);
	pubkey[66] = '\0';
	/* LND's POST /v1/peers body. */
	return request_json("POST", "/v1/peers",
	                    json_pack("{s:{s:s,s:s}}", "addr", "pubkey", pubkey, "host", at + 1));
}

/* A whole number of satoshis, as JSON. */
static json_t *sat_arg(const char *s)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return NULL;
	errno = 0;
	v = strtoull(s, &end, 10);
	return *end || errno ? NULL : json_integer((json_int_t)v);
}

/* openchannel <node_id> <sat> [--push SAT] [--type anchors|static]: LND's POST
 * /v1/channels body. */
static int cmd_openchannel(char **args, int nargs)
{
	json_t *amount = sat_arg(args[1]), *j;

	if (strlen(args[0]) != 66 || !amount)
		return json_decref(amount),
		       fail(2, "openchannel <node_id> <sat> [--push SAT] [--type anchors|static]");
	j = json_pack("{s:s,s:o}", "node_pubkey", args[0], "local_funding_amount", amount);
	for (int i = 2; i < nargs; i += 2) {
		json_t *v = NULL;
		if (i + 1 < nargs && !strcmp(args[i], "--push") && (v = sat_arg(args[i + 1])))
			json_object_set_new(j, "push_sat", v);
		else if (i + 1 < nargs && !strcmp(args[i], "--type") &&
		         (!strcmp(args[i + 1], "anchors") || !strcmp(args[i + 1], "static")))
			json_object_set_new(j, "channel_type",
			                    json_string(!strcmp(args[i + 1], "anchors")
			                                    ? "anchors"
			                                    : "static_remote_key"));
		else
			return json_decref(j), fail(2, "openchannel <node_id> <sat> [--push SAT] "
			                               "[--type anchors|static]");
	}
	return request_json("POST", "/v1/channels", j);
}

/* addinvoice <sat> [--memo TEXT] [--expiry SECS] [--private]: LND's POST /v1/invoices
 * (0 sat: any amount; --private: route hints through the node's channel peers); with
 * hold_hash (base64) a hold invoice's. */
static int cmd_addinvoice(char **args, int nargs, const char *hold_hash)
{
	static const char use[] = "addinvoice <sat> [--memo TEXT] [--expiry SECS] [--private]";
	json_t *amount = sat_arg(args[0]), *j, *e;

	if (!amount)
		return fail(2, use);
	j = json_pack("{s:o}", "value", amount);
	for (int i = 1; i < nargs; i += 2) {
		if (!strcmp(args[i], "--private"))
			json_object_set_new(j, "private", json_true()), i--;
		else if (i + 1 < nargs && !strcmp(args[i], "--memo"))
			json_object_set_new(j, "memo", json_string(args[i + 1]));
		else if (i + 1 < nargs && !strcmp(args[i], "--expiry") &&
		         (e = sat_arg(args[i + 1])))
			json_object_set_new(j, "expiry", e);
		else
			return json_decref(j), fail(2, use);
	}
	if (hold_hash) {
		json_object_set_new(j, "hash", json_string(hold_hash));
		return request_json("POST", "/v2/invoices/hodl", j);
	}
	return request_json("POST", "/v1/invoices", j);
}

/* updatechanpolicy --base_fee_msat N --fee_rate_ppm N --time_lock_delta N
 * [--min_htlc_msat N] [--max_htlc_msat N] [--chan_point TXID:VOUT]: LND's POST
 * /v1/chanpolicy (every channel unless one is named). */
static int cmd_updatechanpolicy(char **args, int nargs)
{
	static const char *const keys[] = {"base_fee_msat", "fee_rate_ppm", "time_lock_delta",
	                                   "min_htlc_msat", "max_htlc_msat"};
	static const char use[] = "updatechanpolicy --base_fee_msat N --fee_rate_ppm N "
	                          "--time_lock_delta N [--min_htlc_msat N] [--max_htlc_msat N] "
	                          "[--chan_point TXID:VOUT]";
	json_t *j = json_object(), *v;
	const char *colon;
	size_t k;

	for (int i = 0; i < nargs; i += 2) {
		if (i + 1 >= nargs || strncmp(args[i], "--", 2) != 0)
			return json_decref(j), fail(2, use);
		if (!strcmp(args[i], "--chan_point") && (colon = strchr(args[i + 1], ':')) &&
		    colon - args[i + 1] == 64) {
			json_object_set_new(j, "chan_point",
			                    json_pack("{s:s%,s:i}", "funding_txid_str", args[i + 1],
			                              (size_t)64, "output_index", atoi(colon + 1)));
			continue;
		}
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(args[i] + 2, keys[k]))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]) || !(v = sat_arg(args[i + 1])))
			return json_decref(j), fail(2, use);
		json_object_set_new(j, keys[k], v);
	}
	if (!json_object_get(j, "chan_point"))
		json_object_set_new(j, "global", json_true());
	return request_json("POST", "/v1/chanpolicy", j);
}

/* fwdinghistory [--start_time S] [--end_time S] [--index_offset N] [--max_events N]: LND's
 * ForwardingHistory (POST /v1/switch). */
static int cmd_fwdinghistory(char **args, int nargs)
{
	static const char *const flags[][2] = {{"--start_time", "start_time"},
	                                       {"--end_time", "end_time"},
	                                       {"--index_offset", "index_offset"},
	                                       {"--max_events", "num_max_events"}};
	json_t *j = json_object(), *v;
	size_t k;

	for (int i = 0; i < nargs; i += 2) {
		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (!strcmp(args[i], flags[k][0]))
				break;
		if (k == sizeof(flags) / sizeof(flags[0]) || i + 1 >= nargs ||
		    !(v = sat_arg(args[i + 1])))
			return json_decref(j),
			       fail(2, "fwdinghistory [--start_time S] [--end_time S] "
			               "[--index_offset N] [--max_events N]");
		json_object_set_new(j, flags[k][1], v);
	}
	return request_json("POST", "/v1/switch", j);
}

/* payinvoice <bolt11_invoice> [--amt SAT]: LND's SendPaymentSync (POST
 * /v1/channels/transactions), answered once the payment succeeded or failed. */
static int cmd_payinvoice(char **args, int nargs)
{
	json_t *j = json_pack("{s:s}", "payment_request", args[0]), *amt;

	if (nargs == 3 && !strcmp(args[1], "--amt") && (amt = sat_arg(args[2])))
		json_object_set_new(j, "amt", amt);
	else if (nargs != 1)
		return json_decref(j), fail(2, "payinvoice <bolt11_invoice> [--amt SAT]");
	return request_json("POST", "/v1/channels/transactions", j);
}

/* A 32-byte argument in hex as LND's base64 "bytes" (b64: 45 bytes); false if not hex. */
static bool hex32_b64(const char *hex, unsigned char b64[64])
{
	unsigned char raw[32];
	bool ok = strlen(hex) == 64 && al_hex_decode_exact(raw, 32, hex) == AL_OK;

	if (ok)
		EVP_EncodeBlock(b64, raw, 32);
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

/* addholdinvoice <hash_hex> <sat> [--memo TEXT] [--expiry SECS] [--private]: LND's POST
 * /v2/invoices/hodl (the preimage stays with the user); settleinvoice <preimage_hex>,
 * cancelinvoice <hash_hex>: POST /v2/invoices/settle and /v2/invoices/cancel. */
static int cmd_hold(const char *cmd, char **args, int nargs)
{
	unsigned char b64[64];
	json_t *j;
	int rc;

	if (!hex32_b64(args[0], b64))
		return fail(2, "%s: 64 hex digits", cmd);
	if (!strcmp(cmd, "settleinvoice"))
		j = json_pack("{s:s}", "preimage", (char *)b64);
	else if (!strcmp(cmd, "cancelinvoice"))
		j = json_pack("{s:s}", "payment_hash", (char *)b64);
	else /* addinvoice's arguments after the hash */
		return cmd_addinvoice(args + 1, nargs - 1, (char *)b64);
	rc = request_json(
	    "POST", !strcmp(cmd, "settleinvoice") ? "/v2/invoices/settle" : "/v2/invoices/cancel",
	    j);
	OPENSSL_cleanse(b64, sizeof(b64));
	return rc;
}

/* sendkeysend <node_id> <sat>: LND's keysend through SendPaymentSync, the preimage made
 * on the user's device (as lncli does) and sent inside the user channel. */
static int cmd_sendkeysend(char **args)
{
	unsigned char dest[33], pre[32], hash[32], b64[3][64];
	json_t *amt = sat_arg(args[1]), *j;

	if (!amt || strlen(args[0]) != 66 || al_hex_decode_exact(dest, 33, args[0]) != AL_OK)
		return json_decref(amt), fail(2, "sendkeysend <node_id> <sat>");
	if (RAND_bytes(pre, 32) != 1 || !EVP_Digest(pre, 32, hash, NULL, EVP_sha256(), NULL))
		return json_decref(amt), fail(1, "sendkeysend: no randomness");
	EVP_EncodeBlock(b64[0], dest, 33);
	EVP_EncodeBlock(b64[1], hash, 32);
	EVP_EncodeBlock(b64[2], pre, 32);
	OPENSSL_cleanse(pre, sizeof(pre));
	j = json_pack("{s:s,s:o,s:s,s:{s:s}}", "dest", (char *)b64[0], "amt", amt, "payment_hash",
	              (char *)b64[1], "dest_custom_records", "5482373484", (char *)b64[2]);
	OPENSSL_cleanse(b64[2], sizeof(b64[2]));
	return request_json("POST", "/v1/channels/transactions", j);
}

/* closechannel <funding_txid> <output_index> [--force] */
static int cmd_closechannel(char **args, int nargs)
{
	char target[160];
	json_t *vout = sat_arg(args[1]);

	if (strlen(args[0]) != 64 || !vout || (nargs == 3 && strcmp(args[2], "--force")))
		return json_decref(vout),
		       fail(2, "closechannel <funding_txid> <output_index> [--force]");
	snprintf(target, sizeof(target), "/v1/channels/%s/%lld%s", args[0],
	         (long long)json_integer_value(vout), nargs == 3 ? "?force=true" : "");
	json_decref(vout);
	return request("DELETE", target, NULL);
}

/* setchain <url> [--ca PEM] [--pin HEX]...: the user's chain server and its trust. */
static int cmd_setchain(char **args, int nargs)
{
	json_t *j = json_pack("{s:s}", "url", args[0]), *pins = json_array();
	int rc;

	for (int i = 1; j && i < nargs; i += 2) {
		if (i + 1 >= nargs || (strcmp(args[i], "--ca") && strcmp(args[i], "--pin"))) {
			json_decref(j);
			json_decref(pins);
			return fail(2, "setchain <url> [--ca PEM] [--pin SPKI_SHA256_HEX]...");
		}
		if (!strcmp(args[i], "--pin")) {
			json_array_append_new(pins, json_string(args[i + 1]));
			continue;
		}
		uint8_t *pem;
		size_t len = 0;
		FILE *f = fopen(args[i + 1], "rb");
		if (!f || !(pem = malloc(1u << 20)) ||
		    ((len = fread(pem, 1, (1u << 20) - 1, f)), 0)) {
			if (f)
				fclose(f);
			json_decref(j);
			json_decref(pins);
			return fail(2, "cannot read --ca %s", args[i + 1]);
		}
		fclose(f);
		pem[len] = 0;
		json_object_set_new(j, "ca_pem", json_string((const char *)pem));
		free(pem);
	}
	if (json_array_size(pins))
		json_object_set(j, "pins", pins);
	json_decref(pins);
	rc = request_json("POST", "/v1/chain", j);
	return rc;
}

/* --- the user's credential ---------------------------------------------------------- */

static char seed_words[AL_BIP39_MNEMONIC_BUFLEN];
static const char *seed_file;

/* The client certificate for `key`: self-signed, valid from now. */
static int set_credential(EVP_PKEY *key)
{
	X509 *cert = NULL;

	if (al_ratls_cert_build(&cert, key, "alight user", NULL, 0, (int64_t)time(NULL) - 60) !=
	    AL_OK) {
		EVP_PKEY_free(key);
		return fail(1, "cannot make the client certificate");
	}
	ratls.client_key = key;
	ratls.client_cert = cert;
	return 0;
}

static void clear_credential(void)
{
	EVP_PKEY_free(ratls.client_key);
	X509_free(ratls.client_cert);
	ratls.client_key = NULL;
	ratls.client_cert = NULL;
	al_memzero(seed_words, sizeof(seed_words));
}

/* The seed file's credential; exists: whether the file is there. */
static int load_credential(bool *exists)
{
	EVP_PKEY *key = NULL;
	al_err e;

	*exists = false;
	if (seed_file == NULL)
		return fail(2, "the user channel needs --seed-file FILE (the user's seed)");
	e = al_seed_read(seed_words, seed_file);
	if (e == AL_E_HOST_IO && errno == ENOENT)
		return 0;
	if (e != AL_OK)
		return fail(2, "--seed-file %s: %s", seed_file,
		            e == AL_E_HOST_IO ? strerror(errno) : al_err_str(e));
	*exists = true;
	e = al_node_credential_key(&key, seed_words, strlen(seed_words));
	if (e != AL_OK)
		return fail(1, "cannot derive the credential: %s", al_err_str(e));
	return set_credential(key);
}

/* provision: the node of the seed file, or a new seed made inside (saved to it). */
static int cmd_provision(bool exists)
{
	json_t *j, *ans;
	answer a;
	int rc;

	if (exists) {
		char *s;
		j = json_pack("{s:s}", "mnemonic", seed_words);
		s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (s == NULL)
			return fail(1, "out of memory");
		rc = exchange("POST", "/v1/provision", s, &a);
		al_memzero(s, strlen(s));
		free(s);
	} else {
		/* No seed yet: a one-time key for this channel; the seed comes back once. */
		EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (key == NULL || set_credential(key) != 0)
			return fail(1, "cannot make a key");
		rc = exchange("POST", "/v1/provision", "{\"create\":true}", &a);
	}
	if (rc != 0)
		return rc;
	ans = json_loadb((const char *)a.body, a.body_len, 0, NULL);
	const char *words = json_string_value(json_object_get(ans, "mnemonic"));
	if (a.status == 200 && !exists) {
		rc = 1;
		if (words == NULL)
			rc = fail(1, "the enclave made a node but sent no seed");
		else if (al_seed_write(seed_file, words) != AL_OK)
			rc = fail(1, "cannot write %s: %s (the node exists; its seed is lost)",
			          seed_file, strerror(errno));
		else
			rc = 0;
		if (words)
			al_memzero((char *)words, strlen(words));
		json_object_del(ans, "mnemonic");
		json_object_set_new(ans, "seed_file", json_string(seed_file));
	}
	if (ans != NULL) {
		char *s = json_dumps(ans, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "{}");
		free(s);
	} else {
		print_body(a.body, a.body_len);
	}
	json_decref(ans);
	al_memzero(a.buf, a.body_len + (size_t)(a.body - a.buf));
	free(a.buf);
	if (rc == 0 && a.status != 200)
		rc = 1;
	return rc;
}

static int run(const char *cmd, char **args, int nargs, bool user)
{
	size_t i;

	if (!strcmp(cmd, "getinfo") && nargs == 0)
		return request("GET", "/v1/getinfo", NULL);
	if (!strcmp(cmd, "listpeers") && nargs == 0)
		return request("GET", "/v1/peers", NULL);
	if (!strcmp(cmd, "connect") && nargs == 1)
		return cmd_connect(args[0]);
	if (!strcmp(cmd, "disconnect") && nargs == 1) {
		char target[128];
		snprintf(target, sizeof(target), "/v1/peers/%s", args[0]);
		return request("DELETE", target, NULL);
	}
	if (!strcmp(cmd, "enclave") && nargs == 0 && !user)
		return request("GET", "/v1/enclave", NULL);
	if (!strcmp(cmd, "setchain") && nargs >= 1)
		return cmd_setchain(args, nargs);
	if (!strcmp(cmd, "getchain") && nargs == 0)
		return request("GET", "/v1/chain", NULL);
	if (!strcmp(cmd, "exportseed") && nargs == 0)
		return request("POST", "/v1/seed/export", NULL);
	if (!strcmp(cmd, "openchannel") && nargs >= 2)
		return cmd_openchannel(args, nargs);
	if (!strcmp(cmd, "listchannels") && nargs <= 1) {
		const char *t = nargs == 0                      ? "/v1/channels"
		                : !strcmp(args[0], "--pending") ? "/v1/channels/pending"
		                : !strcmp(args[0], "--closed")  ? "/v1/channels/closed"
		                                                : NULL;
		if (t)
			return request("GET", t, NULL);
	}
	if (!strcmp(cmd, "closechannel") && (nargs == 2 || nargs == 3))
		return cmd_closechannel(args, nargs);
	if (!strcmp(cmd, "addinvoice") && nargs >= 1)
		return cmd_addinvoice(args, nargs, NULL);
	if ((!strcmp(cmd, "addholdinvoice") && nargs >= 2) ||
	    ((!strcmp(cmd, "settleinvoice") || !strcmp(cmd, "cancelinvoice")) && nargs == 1))
		return cmd_hold(cmd, args, nargs);
	if (!strcmp(cmd, "channelbalance") && nargs == 0)
		return request("GET", "/v1/balance/channels", NULL);
	if (!strcmp(cmd, "listinvoices") && nargs == 0)
		return request("GET", "/v1/invoices", NULL);
	if (!strcmp(cmd, "payinvoice") && nargs >= 1)
		return cmd_payinvoice(args, nargs);
	if (!strcmp(cmd, "sendkeysend") && nargs == 2)
		return cmd_sendkeysend(args);
	if (!strcmp(cmd, "listpayments") && nargs == 0)
		return request("GET", "/v1/payments", NULL);
	if (!strcmp(cmd, "updatechanpolicy"))
		return cmd_updatechanpolicy(args, nargs);
	if (!strcmp(cmd, "feereport") && nargs == 0)
		return request("GET", "/v1/fees", NULL);
	if (!strcmp(cmd, "fwdinghistory"))
		return cmd_fwdinghistory(args, nargs);
	if (!strcmp(cmd, "lookupinvoice") && nargs == 1 && strlen(args[0]) == 64) {
		char target[96];

		snprintf(target, sizeof(target), "/v1/invoice/%s", args[0]);
		return request("GET", target, NULL);
	}
	if (!strcmp(cmd, "decodepayreq") && nargs == 1) {
		static char target[8192];

		if (strlen(args[0]) > sizeof(target) - 12)
			return fail(2,
			            "decodepayreq: the invoice is longer than any QR code holds");
		snprintf(target, sizeof(target), "/v1/payreq/%s", args[0]);
		return request("GET", target, NULL);
	}
	for (i = 0; i < sizeof(wallet_cmds) / sizeof(wallet_cmds[0]); i++)
		if (!strcmp(cmd, wallet_cmds[i].name) && nargs == wallet_cmds[i].nargs)
			return cmd_wallet(cmd, args, nargs);
	return fail(2, "unknown command or wrong arguments: \"%s\" (see --help)", cmd);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"datadir", required_argument, NULL, 'd'},
	    {"rpc-socket", required_argument, NULL, 'r'},
	    {"node", required_argument, NULL, 'n'},
	    {"rpc-connect", required_argument, NULL, 'c'},
	    {"policy", required_argument, NULL, 'p'},
	    {"measurement", required_argument, NULL, 'm'},
	    {"allow-simulated", no_argument, NULL, 'a'},
	    {"sim-dir", required_argument, NULL, 's'},
	    {"collateral", required_argument, NULL, 'C'},
	    {"root", required_argument, NULL, 'R'},
	    {"seed-file", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *datadir = NULL, *sock = NULL;
	bool exists = false;
	char *end;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			datadir = optarg;
			break;
		case 'r':
			sock = optarg;
			break;
		case 'n':
			node_slot = strtol(optarg, &end, 10);
			if (*end || node_slot < 0 || node_slot > 100000)
				return fail(2, "--node wants a slot number");
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
		case 'S':
			seed_file = optarg;
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
		            "--datadir DIR (the operator) or --rpc-connect (the user) is required");
	if (optind >= argc)
		return fail(2, "no command (see --help)");
	if (sock != NULL)
		snprintf(where, sizeof(where), "%s", sock);
	else if (ratls.connect == NULL)
		snprintf(where, sizeof(where), "%s/rpc.sock", datadir);
	else
		snprintf(where, sizeof(where), "%s", ratls.connect);
	if (ratls.connect == NULL && !strcmp(argv[optind], "provision"))
		return fail(2, "provision goes over the user channel (--rpc-connect)");
	if (ratls.connect != NULL) {
		rc = load_credential(&exists);
		if (rc != 0)
			return rc;
		if (!strcmp(argv[optind], "provision") && argc - optind == 1)
			rc = cmd_provision(exists);
		else if (!exists)
			rc = fail(2, "--seed-file %s does not exist (provision first)", seed_file);
		else
			rc = run(argv[optind], argv + optind + 1, argc - optind - 1, true);
		clear_credential();
		return rc;
	}
	return run(argv[optind], argv + optind + 1, argc - optind - 1, false);
}
