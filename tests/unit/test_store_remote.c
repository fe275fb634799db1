/* The remote replica's worker (src/host/store_remote.h), against a real socket that
 * refuses connections (bound to a port of the OS, never listening): every accepted
 * request gets exactly one result, in the order the requests were queued; the requests
 * queued behind one that found the server unreachable fail with it; a full queue
 * refuses (AL_E_HOST_STORE_BUSY), a closed one too; close fails what is still queued
 * (AL_E_HOST_STORE_CLOSED). Plus the URL check and the account key file.
 * (The store served for real, with alight-store, is tests/py/test_store_replicas.py.) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/store_remote.h"
#include "test.h"

#define MAXREQ 64

/* What the done callback saw, filled on the worker thread. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t req[MAXREQ];
	al_err status[MAXREQ];
	size_t n;
	bool hold;    /* block the worker inside its first result */
	bool holding; /* it is blocked there */
} seen = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void on_done(void *arg, uint64_t req, al_err status, const uint8_t *blob, size_t len,
                    int64_t version)
{
	(void)arg, (void)blob, (void)len, (void)version;
	pthread_mutex_lock(&seen.mu);
	if (seen.n < MAXREQ) {
		seen.req[seen.n] = req;
		seen.status[seen.n] = status;
	}
	seen.n++;
	pthread_cond_broadcast(&seen.cv);
	while (seen.hold) {
		seen.holding = true;
		pthread_cond_broadcast(&seen.cv);
		pthread_cond_wait(&seen.cv, &seen.mu);
	}
	seen.holding = false;
	pthread_mutex_unlock(&seen.mu);
}

static void reset(bool hold)
{
	pthread_mutex_lock(&seen.mu);
	seen.n = 0;
	seen.hold = hold;
	seen.holding = false;
	pthread_mutex_unlock(&seen.mu);
}

/* Until n results came (or the worker is held), at most a minute. */
static void wait_for(size_t n, bool holding)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&seen.mu);
	while (seen.n < n || (holding && !seen.holding))
		if (pthread_cond_timedwait(&seen.cv, &seen.mu, &until) != 0)
			break;
	pthread_mutex_unlock(&seen.mu);
}

static void release(void)
{
	pthread_mutex_lock(&seen.mu);
	seen.hold = false;
	pthread_cond_broadcast(&seen.cv);
	pthread_mutex_unlock(&seen.mu);
}

/* A TCP port on 127.0.0.1 that refuses connections for as long as fd stays open. */
static int refusing_port(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static al_store_remote *open_remote(const char *url, size_t queue_max, const al_privkey *key)
{
	al_store_remote_config c = {
	    .url = url, .index = 3, .auth_key = key, .queue_max = queue_max, .done = on_done};
	al_store_remote *r = NULL;
	CHECK_OK(al_store_remote_open(&r, &c));
	return r;
}

static void *closer_main(void *r)
{
	al_store_remote_close(r);
	return NULL;
}

static void test_worker(void)
{
	uint8_t name[AL_KV_NAME_LEN] = {1}, value[40];
	al_kv_bitem item = {{2}, value, sizeof(value), 0};
	al_privkey key;
	char url[64];
	uint16_t port = 0;
	int fd = refusing_port(&port);
	al_store_remote *r;

	CHECK(fd >= 0);
	memset(&key, 0x11, sizeof(key));
	memset(value, 0x5a, sizeof(value));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/vss", port);

	/* Order and exactly once; unreachable: everything fails with the cause. */
	reset(true);
	r = open_remote(url, 32, &key);
	CHECK_OK(al_store_remote_get(r, 1, 0, name));
	wait_for(1, true); /* the worker is inside its first result: the rest queue */
	for (uint64_t i = 2; i <= 20; i++) {
		if (i % 2)
			CHECK_OK(al_store_remote_get(r, i, (uint32_t)i, name));
		else
			CHECK_OK(al_store_remote_put(r, i, (uint32_t)i, &item, 1, 7));
	}
	memset(value, 0, sizeof(value)); /* the put was copied */
	release();
	wait_for(20, false);
	CHECK(seen.n == 20);
	for (size_t i = 0; i < 20 && i < seen.n; i++) {
		CHECK(seen.req[i] == i + 1);
		CHECK(seen.status[i] == AL_E_NET_CONNECT);
	}

	/* A full queue refuses, and refused requests get no result. */
	reset(true);
	CHECK_OK(al_store_remote_get(r, 30, 0, name));
	wait_for(1, true);
	for (uint64_t i = 31; i < 31 + 32; i++)
		CHECK_OK(al_store_remote_get(r, i, 0, name));
	CHECK_ERR(al_store_remote_get(r, 99, 0, name), AL_E_HOST_STORE_BUSY);
	CHECK_ERR(al_store_remote_put(r, 99, 0, &item, 1, 7), AL_E_HOST_STORE_BUSY);
	CHECK_ERR(al_store_remote_put(r, 99, 0, &item, AL_KV_BATCH_MAX + 2, 7), AL_E_ARG);

	/* Close while the worker is held: the queued ones fail as closed, in order. */
	pthread_t closer;
	CHECK(pthread_create(&closer, NULL, closer_main, r) == 0);
	release();
	pthread_join(closer, NULL);
	CHECK(seen.n == 33);
	for (size_t i = 0; i < 33 && i < seen.n; i++) {
		CHECK(seen.req[i] == 30 + i);
		/* the first is the connect's; the rest either failed with it or as closed */
		CHECK(seen.status[i] == AL_E_NET_CONNECT ||
		      (i > 0 && seen.status[i] == AL_E_HOST_STORE_CLOSED));
	}
	close(fd);
}

static void test_url(void)
{
	char why[160];
	static const char *const good[] = {"http://127.0.0.1:8080/vss", "https://store.example/vss",
	                                   "HTTPS://[::1]:443/a/vss", "http://localhost/x/y/vss"};
	static const char *const bad[] = {"http://127.0.0.1:8080/",
	                                  "http://127.0.0.1/vss?x=1",
	                                  "http://h/vss#f",
	                                  "ftp://h/vss",
	                                  "http://user@h/vss",
	                                  "http:///vss",
	                                  "https://h/vssx",
	                                  "",
	                                  "h/vss"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_OK(al_store_remote_url(good[i], why, sizeof(why)));
		CHECK(al_store_is_url(good[i]));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(al_store_remote_url(bad[i], why, sizeof(why)) != AL_OK);
		CHECK(why[0] != 0);
	}
	CHECK(!al_store_is_url("/var/lib/alight/store"));
	CHECK(!al_store_is_url("ftp://h/vss"));
}

static void test_key(void)
{
	char dir[] = "/tmp/alight-test-store-remote-XXXXXX", path[128], why[256];
	al_privkey a, b;
	struct stat st;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/key", dir);
	CHECK_ERR(al_store_remote_key(&a, path, false, why, sizeof(why)), AL_E_HOST_IO);
	CHECK_OK(al_store_remote_key(&a, path, true, why, sizeof(why)));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 65);
	CHECK_OK(al_store_remote_key(&b, path, true, why, sizeof(why))); /* read, not remade */
	CHECK_MEM(a.k, b.k, 32);
	chmod(path, 0640);
	CHECK_ERR(al_store_remote_key(&b, path, false, why, sizeof(why)), AL_E_HOST_IO);
	CHECK(strstr(why, "0600") != NULL);
	chmod(path, 0600);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("zz\n", f);
		fclose(f);
	}
	CHECK_ERR(al_store_remote_key(&b, path, true, why, sizeof(why)), AL_E_HEX);
	/* The group order n is not a valid key; n - 1 is. */
	CHECK_ERR(
	    al_store_remote_key_parse(
	        &b,
	        (const uint8_t *)"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
	        64),
	    AL_E_PRIVKEY);
	CHECK_OK(al_store_remote_key_parse(
	    &b,
	    (const uint8_t *)"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140\n",
	    65));
	unlink(path);
	CHECK(rmdir(dir) == 0);
	al_privkey_clear(&a);
	al_privkey_clear(&b);
}

int main(void)
{
	test_url();
	test_key();
	test_worker();
	return al_t_finish();
}
