#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "host/enclave_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "util/mem.h"
#include "crypto/rng.h"
#include "host/netconn.h"
#include "host/os_rng.h"
#include "host/sim_platform.h"
#include "host/store_dir.h"
#include "host/store_remote.h"

/* A storage completion waiting for its store_done ecall. */
struct al_enc_done {
	struct al_enc_done *next;
	uint64_t req;
	int32_t status;
	int64_t version;
	size_t len;
	uint8_t blob[];
};

/* The completions, queued by the loop thread (directory stores) and by the remote
 * stores' workers; taken by al_enclave_host_complete on the loop thread. */
struct al_enc_doneq {
	pthread_mutex_t mu;
	struct al_enc_done *head, *tail;
	int wake; /* eventfd: readable once a worker queued something */
};

#define SECRET_FILE "sim-platform-secret"
#define MAX_BLOB    (1u << 20)

/* --- ocalls ------------------------------------------------------------------------ */

static int32_t oc_net_send(void *host, al_enc_conn conn, const uint8_t *buf, size_t len,
                           size_t *taken)
{
	al_enclave_host *h = host;
	h->ocalls++;
	*taken = 0;
	return h->net.send ? h->net.send(h->net.arg, conn, buf, len, taken) : AL_E_HOST_IO;
}

static int32_t oc_net_close(void *host, al_enc_conn conn)
{
	al_enclave_host *h = host;
	h->ocalls++;
	return h->net.close ? h->net.close(h->net.arg, conn) : AL_E_HOST_IO;
}

static void oc_net_read_ctl(void *host, al_enc_conn conn, int32_t want)
{
	al_enclave_host *h = host;
	h->ocalls++;
	if (h->net.read_ctl)
		h->net.read_ctl(h->net.arg, conn, want);
}

/* Queue a completion (from any thread); AL_E_HOST_IO without memory. */
static al_err doneq_push(struct al_enc_doneq *q, uint64_t req, al_err status, const uint8_t *blob,
                         size_t len, int64_t version)
{
	struct al_enc_done *d = malloc(sizeof(*d) + len);
	if (!d)
		return AL_E_HOST_IO;
	d->next = NULL;
	d->req = req;
	d->status = status;
	d->version = version;
	d->len = len;
	if (len)
		memcpy(d->blob, blob, len);
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = d;
	else
		q->head = d;
	q->tail = d;
	pthread_mutex_unlock(&q->mu);
	return AL_OK;
}

/* Queue a completion on the loop thread; AL_E_HOST_IO without memory (the ocall then
 * fails at once). */
static al_err queue_done(al_enclave_host *h, uint64_t req, al_err status, const uint8_t *blob,
                         size_t len, int64_t version)
{
	return doneq_push(h->done, req, status, blob, len, version);
}

/* A remote store's result, on its worker thread: queued, and the loop woken. Without
 * memory for the record, the enclave still hears of the request (AL_E_NOMEM): a
 * request never answered would hold its node's storage forever. */
static void remote_done(void *arg, uint64_t req, al_err status, const uint8_t *blob, size_t len,
                        int64_t version)
{
	struct al_enc_doneq *q = arg;
	uint64_t one = 1;

	if (doneq_push(q, req, status, blob, len, version) != AL_OK &&
	    doneq_push(q, req, AL_E_NOMEM, NULL, 0, 0) != AL_OK)
		fprintf(stderr, "enclave host: out of memory: a storage completion is lost\n");
	if (write(q->wake, &one, sizeof(one)) != (ssize_t)sizeof(one) && errno != EAGAIN)
		fprintf(stderr, "enclave host: cannot wake the loop: %s\n", strerror(errno));
}

/* A node's records on one replica: <root>/node-<k>, opened on first use. */
struct al_host_store {
	struct al_host_store *next;
	uint32_t node, replica;
	struct al_store_dir *dir;
};

static struct al_store_dir *store_of(al_enclave_host *h, uint32_t node, uint32_t replica)
{
	char path[PATH_MAX];
	struct al_host_store *s;

	if (node == AL_ENC_STATE_NODE)
		return h->state;
	if (replica >= h->n_stores || h->remote[replica])
		return NULL;
	for (s = h->open; s; s = s->next)
		if (s->node == node && s->replica == replica)
			return s->dir;
	if (snprintf(path, sizeof(path), "%s/node-%u", h->store_root[replica], node) >=
	        (int)sizeof(path) ||
	    (mkdir(path, 0700) != 0 && errno != EEXIST) || !(s = calloc(1, sizeof(*s))))
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

static int32_t oc_store_get(void *host, uint64_t req, uint32_t node, uint32_t replica,
                            const uint8_t name[32])
{
	al_enclave_host *h = host;
	struct al_store_dir *d;
	size_t len = 0;
	int64_t ver = 0;
	al_err e = AL_E_STORE_BACKEND;
	uint8_t *buf;
	h->ocalls++;
	if (node != AL_ENC_STATE_NODE && replica < h->n_stores && h->remote[replica]) {
		e = al_store_remote_get(h->remote[replica], req, node, name);
		return e == AL_OK ? AL_OK : queue_done(h, req, e, NULL, 0, 0);
	}
	d = store_of(h, node, replica);
	buf = malloc(MAX_BLOB);
	if (!buf)
		return AL_E_HOST_IO;
	if (d)
		e = al_store_dir_backend.get(d, name, buf, MAX_BLOB, &len, &ver);
	e = queue_done(h, req, e, buf, e == AL_OK ? len : 0, ver);
	free(buf);
	return e;
}

static int32_t oc_store_put(void *host, uint64_t req, uint32_t node, uint32_t replica,
                            const al_enc_kv_item *items, size_t n, int64_t global_version)
{
	al_enclave_host *h = host;
	struct al_store_dir *d = store_of(h, node, replica);
	al_kv_bitem it[AL_KV_BATCH_MAX + 1];
	al_err e = AL_E_STORE_BACKEND;
	h->ocalls++;
	if (n > sizeof(it) / sizeof(it[0]))
		return queue_done(h, req, AL_E_ARG, NULL, 0, 0);
	for (size_t i = 0; i < n; i++) {
		memcpy(it[i].name, items[i].name, sizeof(it[i].name));
		it[i].value = items[i].value;
		it[i].len = (size_t)items[i].len;
		it[i].version = items[i].version;
	}
	if (node != AL_ENC_STATE_NODE && replica < h->n_stores && h->remote[replica]) {
		e = al_store_remote_put(h->remote[replica], req, node, it, n, global_version);
		return e == AL_OK ? AL_OK : queue_done(h, req, e, NULL, 0, 0);
	}
	/* The enclave's own state is rewritten whole: its global version is not checked. */
	if (d && node == AL_ENC_STATE_NODE)
		e = al_store_dir_backend.global_version(d, &global_version);
	else if (d)
		e = AL_OK;
	bool doomed = d && node != AL_ENC_STATE_NODE && h->kill_at && ++h->writes == h->kill_at;
	if (doomed && h->kill_phase == 0)
		raise(SIGKILL);
	if (e == AL_OK)
		e = al_store_dir_backend.put_batch(d, it, n, global_version);
	if (doomed)
		raise(SIGKILL);
	return queue_done(h, req, e, NULL, 0, 0);
}

static uint64_t clock_ms(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void oc_time_now(void *host, uint64_t *mono_ms, uint64_t *wall_s)
{
	al_enclave_host *h = host;
	h->ocalls++;
	*mono_ms = clock_ms(CLOCK_MONOTONIC);
	*wall_s = clock_ms(CLOCK_REALTIME) / 1000;
}

static void oc_timer_arm(void *host, uint64_t deadline_ms)
{
	al_enclave_host *h = host;
	h->ocalls++;
	if (h->net.timer_arm)
		h->net.timer_arm(h->net.arg, deadline_ms);
}

static int32_t oc_random(void *host, uint8_t *out, size_t len)
{
	al_enclave_host *h = host;
	al_rng rng;
	h->ocalls++;
	al_os_rng(&rng);
	return al_rng_fill(&rng, out, len);
}

static void oc_log(void *host, int32_t level, const char *line, size_t len)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	al_enclave_host *h = host;
	h->ocalls++;
	if (h->quiet && level >= AL_ENC_LOG_INFO)
		return;
	if (len > 1024)
		len = 1024;
	fprintf(stderr, "[enclave %s] %.*s\n", level >= 0 && level <= 3 ? names[level] : "?",
	        (int)len, line);
}

static int32_t oc_net_dial(void *host, uint32_t node, const char *addr, size_t addrlen,
                           al_enc_conn *conn, char *why, size_t whycap)
{
	al_enclave_host *h = host;
	h->ocalls++;
	if (whycap)
		why[0] = 0;
	if (!h->net.dial)
		return AL_E_HOST_IO;
	return h->net.dial(h->net.arg, node, addr, addrlen, conn, why, whycap);
}

static void oc_api_done(void *host, uint64_t token, int32_t status, const uint8_t *body, size_t len)
{
	al_enclave_host *h = host;
	h->ocalls++;
	if (h->net.api_done)
		h->net.api_done(h->net.arg, token, status, body, len);
}

/* --- ABI v4: the wallet's streams and key-value store (synchronous) ------------------ */

#define NSTREAMS (sizeof(((al_enclave_host *)0)->streams) / sizeof(struct al_conn *))

static struct al_conn *stream_at(al_enclave_host *h, uint64_t s)
{
	return s >= 1 && s <= NSTREAMS ? h->streams[s - 1] : NULL;
}

static int32_t oc_stream_open(void *host, const char *name, size_t len, uint16_t port,
                              uint32_t timeout_ms, uint64_t *stream)
{
	al_enclave_host *h = host;
	char hostname[AL_NET_ADDR_MAX];
	size_t i;
	int fd;
	h->ocalls++;
	*stream = 0;
	if (len == 0 || len >= sizeof(hostname) || memchr(name, 0, len))
		return AL_E_ARG;
	memcpy(hostname, name, len);
	hostname[len] = 0;
	for (i = 0; i < NSTREAMS && h->streams[i]; i++)
		;
	if (i == NSTREAMS)
		return AL_E_ENC_FULL;
	struct al_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return AL_E_HOST_IO;
	al_err e = al_net_connect(&fd, hostname, port, timeout_ms);
	if (e != AL_OK) {
		free(c);
		return e;
	}
	al_conn_init(c, fd, timeout_ms);
	h->streams[i] = c;
	*stream = i + 1;
	return AL_OK;
}

static int32_t oc_stream_send(void *host, uint64_t stream, const uint8_t *buf, size_t len)
{
	al_enclave_host *h = host;
	struct al_conn *c = stream_at(h, stream);
	h->ocalls++;
	return c ? al_conn_write(c, buf, len) : AL_E_ARG;
}

static int32_t oc_stream_recv(void *host, uint64_t stream, uint8_t *buf, size_t cap, size_t *n,
                              uint32_t timeout_ms)
{
	al_enclave_host *h = host;
	struct al_conn *c = stream_at(h, stream);
	h->ocalls++;
	*n = 0;
	if (!c)
		return AL_E_ARG;
	al_err e = al_conn_read(c, buf, cap, n, timeout_ms);
	return e == AL_E_NET_CLOSED ? AL_OK : e; /* *n == 0: end of stream */
}

static void oc_stream_close(void *host, uint64_t stream)
{
	al_enclave_host *h = host;
	struct al_conn *c = stream_at(h, stream);
	h->ocalls++;
	if (!c)
		return;
	al_conn_close(c);
	free(c);
	h->streams[stream - 1] = NULL;
}

static void oc_node_event(void *host, uint32_t node, int32_t event, int32_t status)
{
	al_enclave_host *h = host;
	h->ocalls++;
	if (h->net.node_event)
		h->net.node_event(h->net.arg, node, event, status);
}

/* In SGX the quoting enclave is outside the enclave too: the enclave's EREPORT goes
 * to it through the host and the quote comes back the same way. Here the simulated QE
 * quotes whatever it is asked to, with MRENCLAVE = our measurement of the image: see
 * enclave/abi.h for why that proves nothing against a malicious host. */
static int32_t oc_quote(void *host, const uint8_t report_data[64], uint8_t *out, size_t cap,
                        size_t *len)
{
	al_enclave_host *h = host;
	al_sim_enclave enc;
	h->ocalls++;
	*len = 0;
	if (!h->plat)
		return AL_E_HOST_IO;
	al_sim_platform_enclave(h->plat, &enc, h->measurement);
	return al_sim_quote(&h->plat->qe, out, cap, len, &enc, report_data);
}

al_err al_enclave_host_platform(al_enclave_host *h, const char *dir)
{
	al_sim_platform *p = calloc(1, sizeof(*p));
	if (!p)
		return AL_E_HOST_IO;
	al_err e = al_sim_platform_load(p, dir);
	if (e != AL_OK) {
		free(p);
		return e;
	}
	if (h->plat) {
		al_sim_platform_free(h->plat);
		free(h->plat);
	}
	h->plat = p;
	return AL_OK;
}

/* --- loading ------------------------------------------------------------------------- */

al_err al_enclave_default_image(char *out, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return AL_E_HOST_IO;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return AL_E_HOST_IO;
	*slash = 0;
	int w = snprintf(out, cap, "%s/../lib/libalight_enclave.so", exe);
	return w > 0 && (size_t)w < cap ? AL_OK : AL_E_BUFSIZE;
}

static al_err measure_fd(uint8_t out[32], int fd)
{
	al_sha256_ctx c;
	uint8_t buf[65536];
	ssize_t n;
	al_sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return AL_E_HOST_IO;
		al_sha256_update(&c, buf, (size_t)n);
	}
	al_sha256_final(&c, out);
	return AL_OK;
}

al_err al_enclave_measure_file(uint8_t out[32], const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AL_E_HOST_IO;
	al_err e = measure_fd(out, fd);
	close(fd);
	return e;
}

/* The simulation's platform secret: <state>/sim-platform-secret, made once. */
static al_err platform_secret(uint8_t out[32], const char *state)
{
	char path[PATH_MAX];
	al_rng rng;
	if (!state ||
	    snprintf(path, sizeof(path), "%s/%s", state, SECRET_FILE) >= (int)sizeof(path))
		return AL_E_HOST_IO;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, out, 32);
		close(fd);
		return n == 32 ? AL_OK : AL_E_HOST_IO;
	}
	al_os_rng(&rng);
	AL_TRY(al_rng_fill(&rng, out, 32));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return AL_E_HOST_IO;
	bool ok = write(fd, out, 32) == 32 && fsync(fd) == 0;
	close(fd);
	return ok ? AL_OK : AL_E_HOST_IO;
}

/* Measure the bytes of the image from one descriptor and load that same file. */
static al_err load_image(al_enclave_host *h, const char *path)
{
	char fdpath[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AL_E_ENC_LOAD;
	al_err e = measure_fd(h->measurement, fd);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	if (e == AL_OK)
		h->dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	close(fd);
	if (e != AL_OK || !h->dl) {
		fprintf(stderr, "enclave: cannot load %s: %s\n", path,
		        e ? al_err_str(e) : dlerror());
		return AL_E_ENC_LOAD;
	}
	return AL_OK;
}

static void ocall_table(al_enclave_host *h)
{
	h->oc = (al_ocalls){
	    .abi = AL_ENCLAVE_ABI_VERSION,
	    .size = sizeof(al_ocalls),
	    .host = h,
	    .net_send = oc_net_send,
	    .net_close = oc_net_close,
	    .net_read_ctl = oc_net_read_ctl,
	    .store_get = oc_store_get,
	    .store_put = oc_store_put,
	    .time_now = oc_time_now,
	    .timer_arm = oc_timer_arm,
	    .random = oc_random,
	    .log = oc_log,
	    .net_dial = oc_net_dial,
	    .api_done = oc_api_done,
	    .quote = oc_quote,
	    .stream_open = oc_stream_open,
	    .stream_send = oc_stream_send,
	    .stream_recv = oc_stream_recv,
	    .stream_close = oc_stream_close,
	    .node_event = oc_node_event,
	};
}

static al_err enter(al_enclave_host *h, const al_enclave_host_config *cfg)
{
	char image[PATH_MAX];
	if (!cfg->image)
		AL_TRY(al_enclave_default_image(image, sizeof(image)));
	AL_TRY(load_image(h, cfg->image ? cfg->image : image));
	al_enclave_entry_fn *entry;
	*(void **)&entry = dlsym(h->dl, AL_ENCLAVE_ENTRY_SYMBOL);
	if (!entry)
		return AL_E_ENC_LOAD;
	ocall_table(h);
	h->ec = entry(&h->oc);
	if (!h->ec || h->ec->abi != AL_ENCLAVE_ABI_VERSION || h->ec->size != sizeof(al_ecalls))
		return AL_E_ENC_ABI;
	return AL_OK;
}

static al_err init_enclave(al_enclave_host *h, const al_enclave_host_config *cfg)
{
	al_enclave_config ec = {.size = sizeof(ec)};
	h->heap_size = cfg->heap_size ? cfg->heap_size : AL_ENCLAVE_HEAP_DEFAULT;
	/* Reserve, do not commit: pages cost memory only once the enclave touches them. */
	h->heap = mmap(NULL, h->heap_size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->heap == MAP_FAILED) {
		h->heap = NULL;
		return AL_E_HOST_IO;
	}
	ec.heap = h->heap;
	ec.heap_len = h->heap_size;
	memcpy(ec.measurement, h->measurement, 32);
	if (cfg->platform_secret)
		memcpy(ec.platform_secret, cfg->platform_secret, 32);
	else
		AL_TRY(platform_secret(ec.platform_secret, cfg->state));
	memcpy(ec.chain_hash, cfg->chain_hash, 32);
	snprintf(ec.network, sizeof(ec.network), "%s", cfg->network[0] ? cfg->network : "regtest");
	ec.coin = cfg->coin;
	ec.max_nodes = cfg->max_nodes ? cfg->max_nodes : 16;
	ec.max_conns = cfg->max_conns ? cfg->max_conns : 256;
	ec.node_max_peers = cfg->node_max_peers ? cfg->node_max_peers : 64;
	ec.node_max_handshakes = cfg->node_max_handshakes ? cfg->node_max_handshakes : 16;
	ec.handshake_timeout_ms = cfg->handshake_timeout_ms;
	ec.ping_interval_ms = cfg->ping_interval_ms;
	ec.pong_timeout_ms = cfg->pong_timeout_ms;
	ec.idle_timeout_ms = cfg->idle_timeout_ms;
	ec.n_stores = (uint32_t)h->n_stores;
	ec.quorum = cfg->quorum;
	ec.chain_poll_ms = cfg->chain_poll_ms;
	al_err e = h->ec->init(&ec);
	al_memzero(ec.platform_secret, sizeof(ec.platform_secret));
	return e;
}

void al_enclave_host_config_default(al_enclave_host_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->handshake_timeout_ms = cfg->ping_interval_ms = UINT64_MAX;
	cfg->pong_timeout_ms = cfg->idle_timeout_ms = UINT64_MAX;
	cfg->coin = 1;
}

/* The remote stores' workers: stopped first, so that no completion is queued after. */
static void close_remotes(al_enclave_host *h)
{
	for (size_t i = 0; i < AL_ENCLAVE_HOST_STORES; i++) {
		al_store_remote_close(h->remote[i]);
		h->remote[i] = NULL;
	}
}

static void doneq_free(struct al_enc_doneq *q)
{
	if (!q)
		return;
	while (q->head) {
		struct al_enc_done *d = q->head;
		q->head = d->next;
		free(d);
	}
	if (q->wake >= 0)
		close(q->wake);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

static al_err doneq_new(struct al_enc_doneq **out)
{
	struct al_enc_doneq *q = calloc(1, sizeof(*q));
	if (!q)
		return AL_E_HOST_IO;
	q->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->wake < 0 || pthread_mutex_init(&q->mu, NULL) != 0) {
		if (q->wake >= 0)
			close(q->wake);
		free(q);
		return AL_E_HOST_IO;
	}
	*out = q;
	return AL_OK;
}

static void close_stores(al_enclave_host *h)
{
	close_remotes(h);
	while (h->open) {
		struct al_host_store *s = h->open;
		h->open = s->next;
		al_store_dir_close(s->dir);
		free(s);
	}
	for (size_t i = 0; i < h->n_stores; i++)
		free(h->store_root[i]);
	h->n_stores = 0;
	if (h->state)
		al_store_dir_close(h->state);
	h->state = NULL;
}

/* A remote replica: its worker starts now, its first request goes out later. */
static al_err open_remote(al_enclave_host *h, const al_enclave_host_config *cfg, size_t i)
{
	uint32_t max_nodes = cfg->max_nodes ? cfg->max_nodes : 16;
	al_store_remote_config rc = {
	    .url = cfg->stores[i],
	    .index = (uint32_t)i,
	    .auth_key = cfg->store_key,
	    .http = cfg->store_http,
	    .queue_max = cfg->store_queue ? cfg->store_queue
	                                  : (size_t)max_nodes * AL_STORE_REMOTE_QUEUE_PER_NODE + 64,
	    .done = remote_done,
	    .arg = h->done,
	};
	if (!cfg->store_key)
		return AL_E_ARG;
	AL_TRY(al_store_remote_open(&h->remote[i], &rc));
	if (!(h->store_root[i] = strdup(cfg->stores[i])))
		return AL_E_HOST_IO;
	h->n_stores = i + 1;
	return AL_OK;
}

/* The replicas: directories (created if needed) and remote stores. */
static al_err open_stores(al_enclave_host *h, const al_enclave_host_config *cfg)
{
	char dflt[PATH_MAX];
	size_t n = cfg->n_stores;

	if (n > AL_ENCLAVE_HOST_STORES)
		return AL_E_ARG;
	if (cfg->state && (mkdir(cfg->state, 0700) != 0 && errno != EEXIST))
		return AL_E_HOST_IO;
	if (cfg->state)
		AL_TRY(al_store_dir_open(&h->state, cfg->state));
	for (size_t i = 0; i < (n ? n : 1); i++) {
		const char *root = n ? cfg->stores[i] : dflt;
		if (n && al_store_is_url(root)) {
			AL_TRY(open_remote(h, cfg, i));
			continue;
		}
		if (!n && (!cfg->state || snprintf(dflt, sizeof(dflt), "%s/store0", cfg->state) >=
		                              (int)sizeof(dflt)))
			return AL_E_HOST_IO;
		if (!root || (mkdir(root, 0700) != 0 && errno != EEXIST) ||
		    !(h->store_root[i] = strdup(root)))
			return AL_E_HOST_IO;
		h->n_stores = i + 1;
	}
	return AL_OK;
}

al_err al_enclave_host_open(al_enclave_host **out, const al_enclave_host_config *cfg)
{
	al_enclave_host *h = calloc(1, sizeof(*h));
	*out = NULL;
	if (!h)
		return AL_E_HOST_IO;
	h->net = cfg->net;
	h->quiet = cfg->quiet;
	h->kill_at = cfg->kill_at;
	h->kill_phase = cfg->kill_phase;
	al_err e = doneq_new(&h->done);
	if (e == AL_OK)
		e = open_stores(h, cfg);
	if (e == AL_OK)
		e = enter(h, cfg);
	if (e == AL_OK)
		e = init_enclave(h, cfg);
	if (e != AL_OK) {
		if (h->heap)
			munmap(h->heap, h->heap_size);
		close_stores(h);
		doneq_free(h->done);
		free(h);
		return e;
	}
	*out = h;
	return AL_OK;
}

size_t al_enclave_host_complete(al_enclave_host *h)
{
	struct al_enc_doneq *q = h->done;
	struct al_enc_done *d;
	uint64_t woken;
	size_t n = 0;

	/* Reset the wake-up before taking the queue: a completion queued after this is
	 * either taken below or wakes the loop again. */
	if (read(q->wake, &woken, sizeof(woken)) < 0 && errno != EAGAIN)
		fprintf(stderr, "enclave host: cannot read the wake-up: %s\n", strerror(errno));
	for (;;) {
		pthread_mutex_lock(&q->mu);
		d = q->head;
		q->head = q->tail = NULL;
		pthread_mutex_unlock(&q->mu);
		if (!d)
			return n;
		/* In order; what these ecalls queue is delivered in the next round. */
		while (d) {
			struct al_enc_done *next = d->next;
			h->ec->store_done(d->req, d->status, d->blob, d->len, d->version);
			free(d);
			d = next;
			n++;
		}
	}
}

int al_enclave_host_wake_fd(const al_enclave_host *h)
{
	return h->done->wake;
}

void al_enclave_host_close(al_enclave_host *h)
{
	if (!h)
		return;
	/* Requests still queued fail (AL_E_HOST_STORE_CLOSED), the ones running finish;
	 * their completions are dropped with the enclave, which learns nothing more. */
	close_remotes(h);
	h->ec->shutdown();
	munmap(h->heap, h->heap_size);
	close_stores(h);
	doneq_free(h->done);
	for (size_t i = 0; i < NSTREAMS; i++) {
		if (h->streams[i]) {
			al_conn_close(h->streams[i]);
			free(h->streams[i]);
		}
	}
	if (h->plat) {
		al_sim_platform_free(h->plat);
		free(h->plat);
	}
	free(h);
}

al_err al_enclave_parse_size(size_t *out, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (end == s || errno)
		return AL_E_ARG;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end || v > (SIZE_MAX >> shift))
		return AL_E_ARG;
	*out = (size_t)v << shift;
	return AL_OK;
}
