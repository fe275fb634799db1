/* alight-cli's user channel (--rpc-connect): TCP to alightd's user channel, a TLS 1.3
 * handshake in which the server's certificate evidence is appraised against the policy
 * (attest/ratls_client.h) and the client presents its credential (a certificate for the
 * key derived from the user's seed, node/keys.h), and only then the request. A server
 * whose evidence the policy refuses never sees the request. */
#ifndef ALIGHT_CLI_RATLS_H
#define ALIGHT_CLI_RATLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli_ratls_opts {
	const char *connect;         /* HOST:PORT ([v6]:PORT) */
	const char *policy_file;     /* attest.h policy JSON */
	const char *measurement;     /* hex MRENCLAVE to pin (added to the policy's list) */
	bool allow_simulated;        /* accept platform `sim` evidence */
	const char *sim_dir;         /* collateral.json and root.pem of the simulation */
	const char *collateral_file; /* or these two */
	const char *root_file;
	/* The client's credential: its key and a certificate for it (borrowed). */
	struct evp_pkey_st *client_key;
	struct x509_st *client_cert;
} cli_ratls_opts;

typedef struct cli_ratls cli_ratls;

/* Connect and complete the handshake. NULL on failure with the reason in msg and the
 * exit code in *code (2: bad options, 1: the connection or the evidence failed). */
cli_ratls *cli_ratls_open(const cli_ratls_opts *o, char *msg, size_t cap, int *code);
bool cli_ratls_send(cli_ratls *r, const uint8_t *p, size_t n);
/* Bytes received (> 0), 0 at the end of the stream, -1 on an error. */
long cli_ratls_recv(cli_ratls *r, uint8_t *buf, size_t cap);
void cli_ratls_close(cli_ratls *r);

#endif
