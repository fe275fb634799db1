/* A remote replica served by a worker thread (host/store_remote.h). */
#include "host/store_remote.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/rng.h"
#include "host/os_rng.h"
#include "host/store_vss.h"
#include "store/seal.h"
#include "store/vss.h"
#include "util/hex.h"
#include "util/http.h"
#include "util/mem.h"

/* A get first asks for this much; a larger record is fetched again at its size. */
#define GET_FIRST (64u << 10)
/* The largest record a node writes (store/seal.h), plus its key. */
#define RECORD_MAX (AL_SEAL_VALUE_MAX + AL_SEAL_OVERHEAD + 2 * AL_SEAL_NAME_MAX)
/* A response carrying the largest record, with the protocol's framing. */
#define BODY_MAX ((16u << 20) + (64u << 10))

/* One queued request. A put's items and their values live in the same block. */
typedef struct rreq {
	struct rreq *next;
	bool put;
	uint64_t req;
	uint32_t node;
	uint8_t name[AL_KV_NAME_LEN];
	int64_t global_version;
	size_t n;
	al_kv_bitem items[];
} rreq;

struct al_store_remote {
	char *url;
	uint32_t index;
	al_store_vss *vss; /* the worker's only */
	al_store_remote_done_fn *done;
	void *arg;
	size_t queue_max;
	pthread_t thread;
	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	rreq *head, *tail;
	size_t queued;
	bool stop;
};

bool al_store_is_url(const char *s)
{
	/* RFC 3986 3.1: schemes are case-insensitive. */
	return s && (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8));
}

al_err al_store_remote_url(const char *url, char *why, size_t cap)
{
	size_t len = url ? strlen(url) : 0;
	al_url u;
	al_err e;

	if (cap)
		why[0] = 0;
	e = len ? al_url_parse(&u, url, len) : AL_E_HTTP_URL;
	if (e == AL_E_HTTP_URL_SCHEME) {
		snprintf(why, cap, "want http:// or https://");
		return e;
	}
	if (e != AL_OK || !u.host[0]) {
		snprintf(why, cap, "not a valid URL");
		return AL_E_HTTP_URL;
	}
	if (memchr(url, '?', len) || memchr(url, '#', len) || u.path_len < 4 ||
	    memcmp(u.path + u.path_len - 4, "/vss", 4) != 0) {
		snprintf(why, cap,
		         "the path must end in /vss (a VSS server's base URL), "
		         "without query or fragment");
		return AL_E_HTTP_URL;
	}
	if (len > 1024) {
		snprintf(why, cap, "longer than 1024 bytes");
		return AL_E_HTTP_URL;
	}
	return AL_OK;
}

/* --- the account key -------------------------------------------------------------- */

static bool key_valid(const al_privkey *k)
{
	void *mem = malloc(al_secp_size());
	al_secp *secp = NULL;
	bool ok = mem && al_secp_create(&secp, mem, al_secp_size(), NULL) == AL_OK &&
	          al_privkey_valid(secp, k);
	if (secp)
		al_secp_destroy(secp);
	free(mem);
	return ok;
}

static al_err key_create(al_privkey *out, const char *path, char *why, size_t cap)
{
	char hex[2 * 32 + 2];
	al_rng rng;
	al_err e;
	int fd;

	al_os_rng(&rng);
	do {
		e = al_rng_fill(&rng, out->k, sizeof(out->k));
	} while (e == AL_OK && !key_valid(out));
	if (e == AL_OK)
		e = al_hex_encode(hex, sizeof(hex), out->k, sizeof(out->k));
	if (e != AL_OK) {
		snprintf(why, cap, "cannot make a key: %s", al_err_str(e));
		return e;
	}
	hex[64] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0 && write(fd, hex, 65) == 65 && fsync(fd) == 0;
	int err = errno;
	if (fd >= 0)
		close(fd);
	al_memzero(hex, sizeof(hex));
	if (!ok) {
		if (fd >= 0)
			unlink(path);
		snprintf(why, cap, "cannot write %s: %s", path, strerror(err));
		return AL_E_HOST_IO;
	}
	return AL_OK;
}

al_err al_store_remote_key_parse(al_privkey *out, const uint8_t *buf, size_t len)
{
	char hex[2 * 32 + 1];
	al_err e;

	memset(out, 0, sizeof(*out));
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len != 64 || memchr(buf, 0, len))
		return AL_E_HEX;
	memcpy(hex, buf, 64);
	hex[64] = 0;
	e = al_hex_decode_exact(out->k, sizeof(out->k), hex);
	al_memzero(hex, sizeof(hex));
	if (e == AL_OK && !key_valid(out))
		e = AL_E_PRIVKEY;
	if (e != AL_OK)
		al_privkey_clear(out);
	return e;
}

al_err al_store_remote_key(al_privkey *out, const char *path, bool create, char *why, size_t cap)
{
	uint8_t buf[2 * 32 + 2];
	struct stat st;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	if (cap)
		why[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create)
		return key_create(out, path, why, cap);
	if (fd < 0) {
		snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
		return AL_E_HOST_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		snprintf(why, cap, "%s must be a regular file only its owner may read (mode 0600)",
		         path);
		return AL_E_HOST_IO;
	}
	n = read(fd, buf, sizeof(buf)); /* a longer file is refused by the parse */
	close(fd);
	if (n < 0) {
		snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
		return AL_E_HOST_IO;
	}
	al_err e = al_store_remote_key_parse(out, buf, (size_t)n);
	al_memzero(buf, sizeof(buf));
	if (e != AL_OK)
		snprintf(why, cap, "%s does not hold a secp256k1 private key as 64 hex digits",
		         path);
	return e;
}

/* --- the worker ---------------------------------------------------------------------- */

static void log_failure(const al_store_remote *r, const rreq *q, al_err e)
{
	fprintf(stderr, "store %u (%s): node %u %s failed: %s (%s)\n", r->index, r->url, q->node,
	        q->put ? "put" : "get", al_err_name(e), al_store_vss_detail(r->vss));
}

/* What the enclave is told of a backend failure: the cause, unless it is one of the
 * answers store/kv.h gives a meaning to. */
static al_err outcome(const al_store_remote *r, al_err e)
{
	if (e == AL_OK || e == AL_E_STORE_NOT_FOUND || e == AL_E_STORE_VERSION || e == AL_E_NOMEM ||
	    e == AL_E_TOO_LARGE)
		return e;
	al_err cause = al_store_vss_cause(r->vss);
	return cause != AL_OK ? cause : e;
}

static al_err run_get(al_store_remote *r, const rreq *q)
{
	size_t cap = GET_FIRST, len = 0;
	int64_t version = 0;
	uint8_t *buf = malloc(cap);
	al_err e = buf ? AL_OK : AL_E_NOMEM;

	if (e == AL_OK)
		e = al_store_vss_backend.get(r->vss, q->name, buf, cap, &len, &version);
	if (e == AL_E_BUFSIZE && len > RECORD_MAX)
		e = AL_E_TOO_LARGE; /* no node writes such a record */
	if (e == AL_E_BUFSIZE) {
		uint8_t *big = realloc(buf, len);
		e = big ? AL_OK : AL_E_NOMEM;
		if (big) {
			buf = big;
			cap = len;
			e = al_store_vss_backend.get(r->vss, q->name, buf, cap, &len, &version);
		}
	}
	e = outcome(r, e);
	if (e != AL_OK && e != AL_E_STORE_NOT_FOUND)
		log_failure(r, q, e);
	r->done(r->arg, q->req, e, e == AL_OK ? buf : NULL, e == AL_OK ? len : 0,
	        e == AL_OK ? version : 0);
	free(buf);
	return e;
}

static al_err run_put(al_store_remote *r, const rreq *q)
{
	al_err e = al_store_vss_backend.put_batch(r->vss, q->items, q->n, q->global_version);
	e = outcome(r, e);
	if (e != AL_OK)
		log_failure(r, q, e);
	r->done(r->arg, q->req, e, NULL, 0, 0);
	return e;
}

static al_err run(al_store_remote *r, rreq *q)
{
	char store_id[32];
	snprintf(store_id, sizeof(store_id), "node-%u", q->node);
	if (al_store_vss_set_store_id(r->vss, store_id) != AL_OK) {
		r->done(r->arg, q->req, AL_E_ARG, NULL, 0, 0);
		return AL_E_ARG;
	}
	return q->put ? run_put(r, q) : run_get(r, q);
}

/* Fail every request queued now with `why`, in order; returns how many. With `stop`,
 * the worker is stopped first (after the request it runs). The worker calls it when the
 * server cannot be reached or did not answer in time: the requests queued by then fail
 * with that cause at once, rather than each waiting out its own timeouts in turn (a
 * start-up with many nodes would wait for all of them); requests made later try again.
 * Failing is always safe: the node drops the replica (store/rstore.h). */
static size_t fail_queued(al_store_remote *r, al_err why, bool stop)
{
	size_t n = 0;
	rreq *q;

	pthread_mutex_lock(&r->mu);
	q = r->head;
	r->head = r->tail = NULL;
	r->queued = 0;
	if (stop) {
		r->stop = true;
		pthread_cond_signal(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	if (stop)
		pthread_join(r->thread, NULL); /* the request running finishes first */
	while (q) {
		rreq *next = q->next;
		r->done(r->arg, q->req, why, NULL, 0, 0);
		free(q);
		q = next;
		n++;
	}
	return n;
}

static bool unreachable(al_err e)
{
	return e == AL_E_NET_CONNECT || e == AL_E_NET_RESOLVE || e == AL_E_NET_TIMEOUT;
}

static void *worker(void *arg)
{
	al_store_remote *r = arg;
	rreq *q;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->head && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		q = r->head;
		r->head = q->next;
		if (!r->head)
			r->tail = NULL;
		r->queued--;
		pthread_mutex_unlock(&r->mu);
		al_err e = run(r, q);
		free(q);
		size_t n = unreachable(e) ? fail_queued(r, e, false) : 0;
		if (n)
			fprintf(stderr,
			        "store %u (%s): unreachable: %zu queued requests fail with %s\n",
			        r->index, r->url, n, al_err_name(e));
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* --- the owner's side ----------------------------------------------------------------- */

al_err al_store_remote_open(al_store_remote **out, const al_store_remote_config *cfg)
{
	al_store_vss_config vc;
	al_store_remote *r;
	char why[8];
	al_err e;

	*out = NULL;
	if (!cfg || !cfg->done || !cfg->auth_key || cfg->queue_max < 1 ||
	    al_store_remote_url(cfg->url, why, sizeof(why)) != AL_OK)
		return AL_E_ARG;
	if (!(r = calloc(1, sizeof(*r))) || !(r->url = strdup(cfg->url))) {
		free(r);
		return AL_E_NOMEM;
	}
	r->index = cfg->index;
	r->done = cfg->done;
	r->arg = cfg->arg;
	r->queue_max = cfg->queue_max;
	vc = (al_store_vss_config){cfg->url, "node-0", cfg->auth_key, cfg->http};
	if (!vc.http.max_body)
		vc.http.max_body = BODY_MAX;
	e = al_store_vss_open(&r->vss, &vc);
	if (e == AL_OK && pthread_mutex_init(&r->mu, NULL) != 0)
		e = AL_E_HOST_IO;
	if (e == AL_OK && pthread_cond_init(&r->cv, NULL) != 0) {
		pthread_mutex_destroy(&r->mu);
		e = AL_E_HOST_IO;
	}
	if (e == AL_OK && pthread_create(&r->thread, NULL, worker, r) != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		e = AL_E_HOST_IO;
	}
	if (e != AL_OK) {
		al_store_vss_close(r->vss);
		free(r->url);
		free(r);
		return e;
	}
	*out = r;
	return AL_OK;
}

void al_store_remote_close(al_store_remote *r)
{
	if (!r)
		return;
	size_t n = fail_queued(r, AL_E_HOST_STORE_CLOSED, true);
	if (n)
		fprintf(stderr, "store %u (%s): shutting down: %zu queued requests fail with %s\n",
		        r->index, r->url, n, al_err_name(AL_E_HOST_STORE_CLOSED));
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	al_store_vss_close(r->vss);
	free(r->url);
	free(r);
}

static al_err enqueue(al_store_remote *r, rreq *q)
{
	al_err e = AL_OK;

	q->next = NULL;
	pthread_mutex_lock(&r->mu);
	if (r->stop)
		e = AL_E_HOST_STORE_CLOSED;
	else if (r->queued >= r->queue_max)
		e = AL_E_HOST_STORE_BUSY;
	if (e == AL_OK) {
		if (r->tail)
			r->tail->next = q;
		else
			r->head = q;
		r->tail = q;
		r->queued++;
		pthread_cond_signal(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	if (e != AL_OK) {
		fprintf(stderr, "store %u (%s): node %u request refused: %s\n", r->index, r->url,
		        q->node, al_err_name(e));
		free(q);
	}
	return e;
}

al_err al_store_remote_get(al_store_remote *r, uint64_t req, uint32_t node,
                           const uint8_t name[AL_KV_NAME_LEN])
{
	rreq *q = calloc(1, sizeof(*q));
	if (!q)
		return AL_E_NOMEM;
	q->req = req;
	q->node = node;
	memcpy(q->name, name, AL_KV_NAME_LEN);
	return enqueue(r, q);
}

al_err al_store_remote_put(al_store_remote *r, uint64_t req, uint32_t node,
                           const al_kv_bitem *items, size_t n, int64_t global_version)
{
	size_t bytes = sizeof(rreq) + n * sizeof(al_kv_bitem), off;
	uint8_t *p;
	rreq *q;

	if ((n && !items) || n > AL_KV_BATCH_MAX + 1)
		return AL_E_ARG;
	for (size_t i = 0; i < n; i++) {
		if (items[i].len > RECORD_MAX || (items[i].len && !items[i].value))
			return AL_E_ARG;
		bytes += items[i].len;
	}
	if (!(q = calloc(1, bytes)))
		return AL_E_NOMEM;
	q->put = true;
	q->req = req;
	q->node = node;
	q->global_version = global_version;
	q->n = n;
	p = (uint8_t *)q;
	off = sizeof(rreq) + n * sizeof(al_kv_bitem);
	for (size_t i = 0; i < n; i++) {
		q->items[i] = items[i];
		if (items[i].value) {
			memcpy(p + off, items[i].value, items[i].len);
			q->items[i].value = p + off;
			off += items[i].len;
		}
	}
	return enqueue(r, q);
}
