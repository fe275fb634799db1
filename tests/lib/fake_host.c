/* A host for tests (fake_host.h). */
#define _DEFAULT_SOURCE 1
#include "fake_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/ratls_client.h"
#include "attest/ratls_server.h"
#include "crypto/tls.h"
#include "host/enclave_host.h"
#include "host/netconn.h"
#include "host/os_rng.h"
#include "host/sim_platform.h"
#include "host/store_dir.h"
#include "node/keys.h"
#include "util/http.h"

#ifndef ALIGHT_ENCLAVE_SO
#define ALIGHT_ENCLAVE_SO "lib/libalight_enclave.so"
#endif

struct fh_done {
	struct fh_done *next;
	uint64_t req;
	int32_t status;
	int64_t version;
	size_t len;
	uint8_t blob[];
};

struct fh_store {
	struct fh_store *next;
	uint32_t node, replica;
	struct al_store_dir *dir;
};

/* A stream: a real socket, or a test's made-up answer being read. */
struct fh_stream {
	al_conn sock;
	bool real;
	uint8_t *reply;
	size_t reply_len, reply_off;
};

/* --- storage ------------------------------------------------------------------- */

static struct al_store_dir *store_of(fake_host *h, uint32_t node, uint32_t replica)
{
	char path[600];
	struct fh_store *s;

	if (node == AL_ENC_STATE_NODE)
		return h->state_dir;
	if (replica >= h->n_stores)
		return NULL;
	for (s = h->open; s; s = s->next)
		if (s->node == node && s->replica == replica)
			return s->dir;
	snprintf(path, sizeof(path), "%s/node-%u", h->stores[replica], node);
	if ((mkdir(path, 0700) != 0 && errno != EEXIST) || !(s = calloc(1, sizeof(*s))))
		return NULL;
	if (al_store_dir_open(&s->dir, path) != AL_OK) {
		free(s);
		return NULL;
	}
	s->node = node;
	s->replica = replica;
	s->next = h->open;
	h->open = s;
	return s->dir;
}

static int32_t queue(fake_host *h, uint64_t req, al_err status, const uint8_t *blob, size_t len,
                     int64_t version)
{
	struct fh_done *d = malloc(sizeof(*d) + len);
	if (!d)
		return AL_E_HOST_IO;
	d->next = NULL;
	d->req = req;
	d->status = status;
	d->version = version;
	d->len = len;
	if (len)
		memcpy(d->blob, blob, len);
	if (h->done_tail)
		h->done_tail->next = d;
	else
		h->done_head = d;
	h->done_tail = d;
	return AL_OK;
}

static int32_t oc_store_get(void *host, uint64_t req, uint32_t node, uint32_t replica,
                            const uint8_t name[32])
{
	fake_host *h = host;
	static uint8_t buf[1 << 22];
	struct al_store_dir *d = store_of(h, node, replica);
	size_t len = 0;
	int64_t ver = 0;
	al_err e = d ? al_store_dir_backend.get(d, name, buf, sizeof(buf), &len, &ver)
	             : AL_E_STORE_BACKEND;
	h->gets++;
	return queue(h, req, e, buf, e == AL_OK ? len : 0, ver);
}

static int32_t oc_store_put(void *host, uint64_t req, uint32_t node, uint32_t replica,
                            const al_enc_kv_item *items, size_t n, int64_t g)
{
	fake_host *h = host;
	struct al_store_dir *d = store_of(h, node, replica);
	al_kv_bitem it[AL_KV_BATCH_MAX + 1];
	al_err e = d ? AL_OK : AL_E_STORE_BACKEND;

	h->puts++;
	if (n > sizeof(it) / sizeof(it[0]))
		e = AL_E_ARG;
	for (size_t i = 0; e == AL_OK && i < n; i++) {
		memcpy(it[i].name, items[i].name, 32);
		it[i].value = items[i].value;
		it[i].len = (size_t)items[i].len;
		it[i].version = items[i].version;
	}
	if (e == AL_OK && node == AL_ENC_STATE_NODE)
		e = al_store_dir_backend.global_version(d, &g);
	if (e == AL_OK && h->refuse_puts)
		e = AL_E_STORE_BACKEND;
	if (e == AL_OK)
		e = al_store_dir_backend.put_batch(d, it, n, g);
	return queue(h, req, e, NULL, 0, 0);
}

void fh_release(fake_host *h, bool all)
{
	do {
		struct fh_done *d = h->done_head;
		if (!d)
			return;
		h->done_head = d->next;
		if (!h->done_head)
			h->done_tail = NULL;
		h->ec->store_done(d->req, d->status, d->blob, d->len, d->version);
		free(d);
	} while (all);
}

void fh_settle(fake_host *h)
{
	for (int i = 0; i < 1000 && h->done_head && !h->hold_completions; i++)
		fh_release(h, false);
}

/* --- the other ocalls -------------------------------------------------------------- */

static fh_conn *conn_of(fake_host *h, al_enc_conn id)
{
	for (size_t i = 0; i < FH_MAX_CONNS; i++)
		if (h->conns[i].used && h->conns[i].id == id)
			return &h->conns[i];
	return NULL;
}

static fh_conn *conn_new(fake_host *h)
{
	for (size_t i = 0; i < FH_MAX_CONNS; i++) {
		if (!h->conns[i].used) {
			memset(&h->conns[i], 0, sizeof(h->conns[i]));
			h->conns[i].used = true;
			h->conns[i].id = ++h->next_conn;
			return &h->conns[i];
		}
	}
	return NULL;
}

static int32_t oc_net_send(void *host, al_enc_conn id, const uint8_t *buf, size_t len,
                           size_t *taken)
{
	fh_conn *c = conn_of(host, id);
	size_t room;
	*taken = 0;
	if (!c || c->closed)
		return AL_E_HOST_IO;
	room = sizeof(c->out) - c->out_len;
	*taken = len < room ? len : room;
	memcpy(c->out + c->out_len, buf, *taken);
	c->out_len += *taken;
	return AL_OK;
}

static int32_t oc_net_close(void *host, al_enc_conn id)
{
	fh_conn *c = conn_of(host, id);
	if (c)
		c->closed = true;
	return c ? AL_OK : AL_E_HOST_IO;
}

static void oc_net_read_ctl(void *host, al_enc_conn id, int32_t want)
{
	fh_conn *c = conn_of(host, id);
	if (c)
		c->read = want != 0;
}

static int32_t oc_net_dial(void *host, uint32_t node, const char *addr, size_t len,
                           al_enc_conn *conn, char *why, size_t whycap)
{
	fh_conn *c = conn_new(host);
	if (!c) {
		snprintf(why, whycap, "no slot");
		return AL_E_HOST_FULL;
	}
	*conn = c->id; /* a connection that never connects: the test decides */
	return AL_OK;
}

static void oc_time_now(void *host, uint64_t *mono, uint64_t *wall)
{
	fake_host *h = host;
	*mono = h->mono_ms;
	*wall = h->wall_s ? h->wall_s : (uint64_t)time(NULL);
}

static void oc_timer_arm(void *host, uint64_t deadline)
{
	((fake_host *)host)->timer = deadline;
}

static int32_t oc_random(void *host, uint8_t *out, size_t len)
{
	fake_host *h = host;
	al_rng rng;
	if (h->constant_random) {
		memset(out, 0, len); /* the host's "entropy": always the same */
		return AL_OK;
	}
	al_os_rng(&rng);
	return al_rng_fill(&rng, out, len);
}

static void oc_log(void *host, int32_t level, const char *line, size_t len)
{
	fake_host *h = host;
	if (len > 255)
		len = 255;
	if (h->n_log == FH_MAX_LOG) {
		memmove(h->log[0], h->log[1], sizeof(h->log[0]) * (FH_MAX_LOG - 1));
		h->n_log--;
	}
	memcpy(h->log[h->n_log], line, len);
	h->log[h->n_log++][len] = 0;
	if (getenv("FH_VERBOSE"))
		fprintf(stderr, "[enclave] %.*s\n", (int)len, line);
}

static void oc_api_done(void *host, uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	fake_host *h = host;
	h->api_token = token;
	h->api_status = status;
	if (len >= sizeof(h->api_body))
		len = sizeof(h->api_body) - 1;
	memcpy(h->api_body, body, len);
	h->api_body[len] = 0;
	h->api_answers++;
}

static int32_t oc_quote(void *host, const uint8_t rd[64], uint8_t *out, size_t cap, size_t *len)
{
	fake_host *h = host;
	al_sim_enclave enc;
	*len = 0;
	if (!h->plat)
		return AL_E_HOST_IO;
	al_sim_platform_enclave(h->plat, &enc, h->measurement);
	return al_sim_quote(&h->plat->qe, out, cap, len, &enc, rd);
}

static int32_t oc_stream_open(void *host, const char *name, size_t len, uint16_t port,
                              uint32_t timeout_ms, uint64_t *stream)
{
	fake_host *h = host;
	char hostname[256];
	size_t i;
	int fd;

	if (len >= sizeof(hostname))
		return AL_E_ARG;
	memcpy(hostname, name, len);
	hostname[len] = 0;
	for (i = 0; i < FH_MAX_STREAMS && h->streams[i]; i++)
		;
	if (i == FH_MAX_STREAMS)
		return AL_E_ENC_FULL;
	struct fh_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return AL_E_HOST_IO;
	al_err e = al_net_connect(&fd, hostname, port, timeout_ms);
	if (e != AL_OK) {
		free(s);
		return e;
	}
	al_conn_init(&s->sock, fd, timeout_ms);
	s->real = true;
	h->streams[i] = s;
	*stream = i + 1;
	return AL_OK;
}

static struct fh_stream *stream_at(fake_host *h, uint64_t s)
{
	return s >= 1 && s <= FH_MAX_STREAMS ? h->streams[s - 1] : NULL;
}

static int32_t oc_stream_send(void *host, uint64_t stream, const uint8_t *buf, size_t len)
{
	fake_host *h = host;
	struct fh_stream *s = stream_at(h, stream);
	if (!s)
		return AL_E_ARG;
	free(s->reply);
	s->reply = NULL;
	s->reply_len = s->reply_off = 0;
	if (h->stream_hook && h->stream_hook(h->stream_arg, buf, len, &s->reply, &s->reply_len))
		return AL_OK; /* the host answers this one itself */
	return al_conn_write(&s->sock, buf, len);
}

static int32_t oc_stream_recv(void *host, uint64_t stream, uint8_t *buf, size_t cap, size_t *n,
                              uint32_t timeout_ms)
{
	fake_host *h = host;
	struct fh_stream *s = stream_at(h, stream);
	*n = 0;
	if (!s)
		return AL_E_ARG;
	if (s->reply) {
		size_t k = s->reply_len - s->reply_off < cap ? s->reply_len - s->reply_off : cap;
		memcpy(buf, s->reply + s->reply_off, k);
		s->reply_off += k;
		*n = k;
		return AL_OK;
	}
	al_err e = al_conn_read(&s->sock, buf, cap, n, timeout_ms);
	return e == AL_E_NET_CLOSED ? AL_OK : e;
}

static void oc_stream_close(void *host, uint64_t stream)
{
	fake_host *h = host;
	struct fh_stream *s = stream_at(h, stream);
	if (!s)
		return;
	if (s->real)
		al_conn_close(&s->sock);
	free(s->reply);
	free(s);
	h->streams[stream - 1] = NULL;
}

static void oc_node_event(void *host, uint32_t node, int32_t event, int32_t status)
{
	fake_host *h = host;
	h->last_event = event;
	h->last_event_node = (int)node;
	h->last_event_status = status;
}

static const al_ocalls ocalls_template = {
    .abi = AL_ENCLAVE_ABI_VERSION,
    .size = sizeof(al_ocalls),
    .net_send = oc_net_send,
    .net_close = oc_net_close,
    .net_read_ctl = oc_net_read_ctl,
    .net_dial = oc_net_dial,
    .store_get = oc_store_get,
    .store_put = oc_store_put,
    .time_now = oc_time_now,
    .timer_arm = oc_timer_arm,
    .random = oc_random,
    .log = oc_log,
    .api_done = oc_api_done,
    .quote = oc_quote,
    .stream_open = oc_stream_open,
    .stream_send = oc_stream_send,
    .stream_recv = oc_stream_recv,
    .stream_close = oc_stream_close,
    .node_event = oc_node_event,
};

/* --- life cycle ------------------------------------------------------------------------ */

al_err fh_open(fake_host *h, const fh_config *cfg)
{
	static al_ocalls oc;
	al_enclave_config ec;
	char fdpath[128];
	const char *image = cfg->image ? cfg->image : ALIGHT_ENCLAVE_SO;
	al_enclave_entry_fn *entry;
	al_err e;
	int fd;

	memset(h, 0, sizeof(*h));
	h->constant_random = cfg->constant_random;
	h->mono_ms = 1000;
	h->wall_s = cfg->wall_s;
	snprintf(h->state, sizeof(h->state), "%s", cfg->state);
	if (mkdir(h->state, 0700) != 0 && errno != EEXIST)
		return AL_E_HOST_IO;
	AL_TRY(al_store_dir_open(&h->state_dir, h->state));
	h->n_stores = cfg->n_stores ? cfg->n_stores : 1;
	for (size_t i = 0; i < h->n_stores; i++) {
		snprintf(h->stores[i], sizeof(h->stores[i]), "%s/store%zu", h->state, i);
		if (mkdir(h->stores[i], 0700) != 0 && errno != EEXIST)
			return AL_E_HOST_IO;
	}
	fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AL_E_ENC_LOAD;
	close(fd);
	AL_TRY(al_enclave_measure_file(h->measurement, image));
	/* A fresh copy for every host: dlopen of a path already loaded would give back the
	 * enclave that was shut down (an SGX enclave is created anew each time too). The
	 * bytes, and so the measurement, are the same. */
	static unsigned copies;
	char cmd[1200];
	snprintf(fdpath, sizeof(fdpath), "/tmp/alight-fh-%d-%u.so", (int)getpid(), ++copies);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", image, fdpath);
	if (system(cmd) != 0)
		return AL_E_ENC_LOAD;
	h->dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	unlink(fdpath);
	if (!h->dl)
		return AL_E_ENC_LOAD;
	*(void **)&entry = dlsym(h->dl, AL_ENCLAVE_ENTRY_SYMBOL);
	oc = ocalls_template;
	oc.host = h;
	if (!entry || !(h->ec = entry(&oc)))
		return AL_E_ENC_ABI;
	h->plat = calloc(1, sizeof(*h->plat));
	if (!h->plat || al_sim_platform_load(h->plat, ALIGHT_SIM_DIR) != AL_OK) {
		free(h->plat);
		h->plat = NULL;
	}
	h->heap_len = cfg->heap ? cfg->heap : (64u << 20);
	h->heap = mmap(NULL, h->heap_len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->heap == MAP_FAILED)
		return AL_E_HOST_IO;
	memset(&ec, 0, sizeof(ec));
	ec.size = sizeof(ec);
	ec.heap = h->heap;
	ec.heap_len = h->heap_len;
	memcpy(ec.measurement, h->measurement, 32);
	memcpy(ec.platform_secret, cfg->platform_secret, 32);
	/* regtest: 0f9188f1...2206 in internal order */
	static const uint8_t regtest[32] = {0x06, 0x22, 0x6e, 0x46, 0x11, 0x1a, 0x0b, 0x59,
	                                    0xca, 0xaf, 0x12, 0x60, 0x43, 0xeb, 0x5b, 0xbf,
	                                    0x28, 0xc3, 0x4f, 0x3a, 0x5e, 0x33, 0x2a, 0x1f,
	                                    0xc7, 0xb2, 0xb7, 0x3c, 0xf1, 0x88, 0x91, 0x0f};
	memcpy(ec.chain_hash, regtest, 32);
	memcpy(ec.network, "regtest", 8);
	ec.coin = 1;
	ec.max_nodes = cfg->max_nodes ? cfg->max_nodes : 4;
	ec.max_conns = cfg->max_conns ? cfg->max_conns : 8;
	ec.node_max_peers = cfg->node_max_peers ? cfg->node_max_peers : 4;
	ec.node_max_handshakes = cfg->node_max_handshakes ? cfg->node_max_handshakes : 2;
	ec.handshake_timeout_ms = ec.ping_interval_ms = UINT64_MAX;
	ec.pong_timeout_ms = ec.idle_timeout_ms = UINT64_MAX;
	ec.n_stores = (uint32_t)h->n_stores;
	ec.quorum = cfg->quorum;
	e = (al_err)h->ec->init(&ec);
	return e;
}

void fh_close(fake_host *h)
{
	if (h->ec)
		h->ec->shutdown();
	while (h->done_head) {
		struct fh_done *d = h->done_head;
		h->done_head = d->next;
		free(d);
	}
	h->done_tail = NULL;
	while (h->open) {
		struct fh_store *s = h->open;
		h->open = s->next;
		al_store_dir_close(s->dir);
		free(s);
	}
	for (int i = 0; i < FH_MAX_STREAMS; i++)
		if (h->streams[i])
			oc_stream_close(h, (uint64_t)i + 1);
	if (h->state_dir)
		al_store_dir_close(h->state_dir);
	if (h->plat) {
		al_sim_platform_free(h->plat);
		free(h->plat);
	}
	if (h->heap && h->heap != MAP_FAILED)
		munmap(h->heap, h->heap_len);
	/* The image stays mapped: its static OpenSSL keeps process-wide state. */
	h->ec = NULL;
}

al_err fh_ctl_setup(fake_host *h)
{
	al_err e = (al_err)h->ec->ctl_setup();
	fh_settle(h);
	return e;
}

/* --- the operator ----------------------------------------------------------------------- */

int fh_operator(fake_host *h, uint32_t node, const char *method, const char *target,
                const char *body, char *out, size_t cap, al_err *err)
{
	static uint64_t token = 1;
	size_t before = h->api_answers;

	*err = (al_err)h->ec->api(node, ++token, method, strlen(method), target, strlen(target),
	                          (const uint8_t *)body, body ? strlen(body) : 0);
	fh_settle(h);
	if (*err != AL_OK || h->api_answers == before || h->api_token != token)
		return 0;
	snprintf(out, cap, "%s", h->api_body);
	return h->api_status;
}

/* --- the user ----------------------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Move the enclave's bytes for conn to the client. */
static void to_client(fake_host *h, al_enc_conn id, al_tls *tls)
{
	fh_conn *c = conn_of(h, id);
	if (c && c->out_len) {
		if (al_tls_feed(tls, c->out, c->out_len) != AL_OK)
			c->closed = true;
		c->out_len = 0;
		h->ec->ctl_writable(id);
	}
}

static void to_enclave(fake_host *h, al_enc_conn id, al_tls *tls)
{
	uint8_t buf[16384];
	size_t n;
	while ((n = al_tls_take(tls, buf, sizeof(buf))) > 0) {
		size_t off = 0;
		while (off < n) {
			size_t used = 0;
			if (h->ec->ctl_recv(id, buf + off, n - off, &used) != AL_OK || used == 0)
				return;
			off += used;
		}
	}
	fh_settle(h);
}

int fh_user(fake_host *h, const char *mnemonic, const char *method, const char *target,
            const char *body, char *out, size_t cap, char *why, size_t whycap)
{
	static const al_http_field fields[] = {{"Content-Type", "application/json"}};
	static uint8_t scratch[AL_ATT_SCRATCH_SIZE];
	uint8_t *col = NULL, *root = NULL, req[1 << 16], resp[1 << 17];
	size_t col_len = 0, root_len = 0, resp_len = 0;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	al_ratls_client rc;
	al_att_policy pol;
	al_tls_config tc;
	al_tls_ctx ctx;
	al_tls tls;
	al_wb w;
	bool ctx_ok = false, tls_ok = false, sent = false;
	int status = 0;
	fh_conn *c = NULL;
	int64_t now = (int64_t)time(NULL);

	snprintf(why, whycap, "no answer");
	out[0] = 0;
	col = read_file(ALIGHT_SIM_DIR "/collateral.json", &col_len);
	root = read_file(ALIGHT_SIM_DIR "/root.pem", &root_len);
	al_att_policy_default(&pol);
	pol.allow_simulated = true;
	memcpy(pol.measurements[0], h->measurement, 32);
	pol.measurement_len[0] = 32;
	pol.n_measurements = 1;
	if (!col || !root ||
	    al_ratls_client_init(&rc, scratch, sizeof(scratch), &pol, col, col_len, root, root_len,
	                         now) != AL_OK) {
		snprintf(why, whycap, "no simulation platform");
		goto out;
	}
	if (mnemonic ? al_node_credential_key(&key, mnemonic, strlen(mnemonic)) != AL_OK
	             : !(key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")))
		goto out;
	if (al_ratls_cert_build(&cert, key, "alight user", NULL, 0, now - 60) != AL_OK)
		goto out;
	memset(&tc, 0, sizeof(tc));
	al_ratls_client_tls_config(&tc, &rc);
	tc.key = key;
	tc.cert = cert;
	if (al_tls_ctx_init(&ctx, false, &tc) != AL_OK)
		goto out;
	ctx_ok = true;
	al_wb_init(&w, req, sizeof(req));
	if (al_http_write_request(&w, method, target, "enclave", fields, 1, (const uint8_t *)body,
	                          body ? strlen(body) : 0) != AL_OK)
		goto out;
	if (!(c = conn_new(h)) || h->ec->ctl_accept(c->id) != AL_OK) {
		snprintf(why, whycap, "ctl_accept refused");
		goto out;
	}
	if (al_tls_client_init(&tls, &ctx, NULL, now) != AL_OK)
		goto out;
	tls_ok = true;
	for (int round = 0; round < 2000; round++) {
		al_err e = al_tls_handshake(&tls);
		if (e != AL_OK && e != AL_E_TLS_WANT) {
			const char *step = al_ratls_client_step(&rc);
			snprintf(why, whycap, "handshake: %s%s%s", al_err_name(e),
			         step ? " step " : "", step ? step : "");
			break;
		}
		if (e == AL_OK && !sent) {
			if (al_tls_write(&tls, req, w.len) != AL_OK)
				break;
			sent = true;
		}
		to_enclave(h, c->id, &tls);
		to_client(h, c->id, &tls);
		if (c->closed && c->out_len == 0)
			al_tls_feed_eof(&tls);
		if (sent) {
			size_t n = 0;
			e = al_tls_read(&tls, resp + resp_len, sizeof(resp) - resp_len, &n);
			if (e == AL_OK)
				resp_len += n;
			al_http_response res;
			if (al_http_parse_response(&res, &(al_http_limits){0}, resp, resp_len, 0) ==
			    AL_OK) {
				status = res.status;
				snprintf(out, cap, "%.*s", (int)res.body_len,
				         (const char *)res.body);
				snprintf(why, whycap, "answered");
				break;
			}
			if (e != AL_OK && e != AL_E_TLS_WANT) {
				snprintf(why, whycap, "read: %s", al_err_name(e));
				break;
			}
		}
	}
out:
	if (c && c->used) {
		h->ec->ctl_closed(c->id);
		c->used = false;
	}
	if (tls_ok)
		al_tls_clear(&tls);
	if (ctx_ok)
		al_tls_ctx_clear(&ctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(col);
	free(root);
	return status;
}

int fh_provision(fake_host *h, const char *mnemonic, char *words_out, char *out, size_t cap)
{
	char body[400], why[128];
	int st;

	if (mnemonic)
		snprintf(body, sizeof(body), "{\"mnemonic\":\"%s\"}", mnemonic);
	else
		snprintf(body, sizeof(body), "{\"create\":true}");
	st = fh_user(h, mnemonic, "POST", "/v1/provision", body, out, cap, why, sizeof(why));
	if (words_out) {
		const char *m = strstr(out, "\"mnemonic\":\"");
		words_out[0] = 0;
		if (m) {
			m += 12;
			size_t n = strcspn(m, "\"");
			snprintf(words_out, 300, "%.*s", (int)n, m);
		}
	}
	return st;
}
