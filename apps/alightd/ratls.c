/* The RA-TLS identity of the control API (--rpc-listen): a TLS key made at start-up,
 * a certificate carrying a quote that binds it (enclave/ratls.h), and the TLS server
 * context rpc.c serves TCP control clients with.
 *
 * Platform `sim`: the quote comes from the simulated quoting enclave of the build's
 * simulation root (host/sim_platform.h). Its MRENCLAVE is the SHA-256 of the image
 * holding the TLS key. The node itself runs in the enclave (libalight_enclave.so,
 * announced as "measurement"), but this TLS endpoint still terminates here, in the
 * host, so the image holding its key is this program (/proc/self/exe): alightd
 * announces it as "rpc_measurement", which clients pin (and can recompute from the
 * binary). Behind the TLS the requests go to the enclave's control API like the Unix
 * socket's (api.c). Moving the TLS engine into the enclave is the next step.
 *
 * Clients authenticate with a bearer token: DIR/rpc.token (64 hex digits, mode 0600,
 * made on first use), sent as "Authorization: Bearer <token>" inside the channel, so
 * only an attested server ever sees it. Whoever can read the data directory may
 * control the node, as with the Unix socket (mode 0600). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alightd.h"
#include "crypto/mem.h"
#include "enclave/ratls.h"
#include "host/enclave_host.h"
#include "host/sim_platform.h"
#include "util/hex.h"

#define TOKEN_HEX 64

struct rpc_ratls {
	al_sim_platform plat;
	al_sim_enclave enc;
	al_ratls_identity id;
	al_tls_ctx ctx;
	bool ctx_ready;
	char token[TOKEN_HEX + 1];
	uint8_t scratch[2 * AL_RATLS_QUOTE_MAX + 4096];
};

static al_err quote_cb(void *arg, uint8_t *q, size_t cap, size_t *len, const uint8_t rd[64])
{
	struct rpc_ratls *r = arg;

	return al_sim_quote(&r->plat.qe, q, cap, len, &r->enc, rd);
}

static al_err setup(struct rpc_ratls *r, const char *sim_dir, char *msg, size_t cap)
{
	al_tls_config cfg = {0};
	uint8_t measurement[32];
	al_arena a;
	al_err e;

	e = al_sim_platform_load(&r->plat, sim_dir);
	if (e != AL_OK) {
		snprintf(msg, cap, "cannot load the simulated platform %s: %s",
		         sim_dir ? sim_dir : "(no --sim-dir)", al_err_str(e));
		return e;
	}
	e = al_enclave_measure_file(measurement, "/proc/self/exe");
	if (e != AL_OK) {
		snprintf(msg, cap, "cannot measure /proc/self/exe: %s", al_err_str(e));
		return e;
	}
	al_sim_platform_enclave(&r->plat, &r->enc, measurement);
	al_arena_init(&a, r->scratch, sizeof(r->scratch));
	e = al_ratls_identity_make(&r->id, &a, quote_cb, r, (int64_t)time(NULL));
	if (e == AL_OK) {
		al_ratls_server_config(&cfg, &r->id);
		e = al_tls_ctx_init(&r->ctx, true, &cfg);
		r->ctx_ready = e == AL_OK;
	}
	if (e != AL_OK)
		snprintf(msg, cap, "cannot make the RA-TLS identity: %s", al_err_str(e));
	return e;
}

/* DIR/rpc.token: read it, or create it (O_EXCL, 0600) with fresh randomness. */
static al_err load_token(alightd *d, struct rpc_ratls *r, char *msg, size_t cap)
{
	char path[PATH_MAX], line[TOKEN_HEX + 2];
	uint8_t raw[TOKEN_HEX / 2];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/rpc.token", d->datadir) >= (int)sizeof(path)) {
		snprintf(msg, cap, "data directory path too long");
		return AL_E_ARG;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		bool ok = al_rng_fill(&d->rng, raw, sizeof(raw)) == AL_OK &&
		          al_hex_encode(line, sizeof(line), raw, sizeof(raw)) == AL_OK;

		al_memzero(raw, sizeof(raw));
		line[TOKEN_HEX] = '\n';
		ok = ok && write(fd, line, TOKEN_HEX + 1) == TOKEN_HEX + 1 && fsync(fd) == 0;
		close(fd);
		if (!ok) {
			unlink(path);
			snprintf(msg, cap, "cannot write %s", path);
			return AL_E_HOST_IO;
		}
	} else if (errno != EEXIST) {
		snprintf(msg, cap, "cannot create %s: %s", path, strerror(errno));
		return AL_E_HOST_IO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, line, sizeof(line)) : -1;
	if (fd >= 0)
		close(fd);
	if (n >= TOKEN_HEX)
		line[TOKEN_HEX] = '\0';
	if (n < TOKEN_HEX || al_hex_decode_exact(raw, sizeof(raw), line) != AL_OK) {
		al_memzero(line, sizeof(line));
		snprintf(msg, cap, "%s is not a token (64 hex digits)", path);
		return AL_E_HOST_IO;
	}
	memcpy(r->token, line, TOKEN_HEX);
	r->token[TOKEN_HEX] = '\0';
	al_memzero(line, sizeof(line));
	al_memzero(raw, sizeof(raw));
	return AL_OK;
}

bool ratls_authorized(const alightd *d, const char *authorization)
{
	static const char bearer[] = "Bearer ";
	const struct rpc_ratls *r = d->ratls;

	if (r == NULL || authorization == NULL ||
	    strlen(authorization) != sizeof(bearer) - 1 + TOKEN_HEX ||
	    strncmp(authorization, bearer, sizeof(bearer) - 1) != 0)
		return false;
	return al_memeq_ct(authorization + sizeof(bearer) - 1, r->token, TOKEN_HEX);
}

al_err ratls_init(alightd *d, const char *sim_dir, char *msg, size_t cap)
{
	struct rpc_ratls *r = calloc(1, sizeof(*r));
	al_err e;

	if (r == NULL) {
		snprintf(msg, cap, "out of memory");
		return AL_E_NOMEM;
	}
	d->ratls = r;
	e = load_token(d, r, msg, cap);
	if (e == AL_OK)
		e = setup(r, sim_dir, msg, cap);
	if (e == AL_OK)
		logf_("rpc RA-TLS identity ready (platform sim, quote %zu bytes)",
		      al_sim_quote_len(&r->plat.qe));
	return e;
}

const al_tls_ctx *ratls_ctx(const alightd *d)
{
	return d->ratls != NULL && d->ratls->ctx_ready ? &d->ratls->ctx : NULL;
}

const uint8_t *ratls_measurement(const alightd *d)
{
	return d->ratls != NULL ? d->ratls->enc.mrenclave : NULL;
}

void ratls_shutdown(alightd *d)
{
	struct rpc_ratls *r = d->ratls;

	if (r == NULL)
		return;
	if (r->ctx_ready)
		al_tls_ctx_clear(&r->ctx);
	al_ratls_identity_clear(&r->id);
	al_sim_platform_free(&r->plat);
	al_memzero(r->token, sizeof(r->token));
	free(r);
	d->ratls = NULL;
}
