/* The enclave image as a host loads it (tests/lib/fake_host.h over enclave/abi.h):
 *  - every allocation made inside goes to the enclave heap: OpenSSL's memory functions
 *    are ours (read back from OpenSSL), and a request doing OpenSSL and jansson work
 *    leaves the host's malloc arena exactly as it was;
 *  - a small heap driven to exhaustion by users provisioning nodes: a clean refusal,
 *    nothing broken, the high-water mark reported, the enclave still serving, room
 *    again after an unload;
 *  - sealed anchors (a node's seed at rest): reopened by the same image on the same
 *    platform (same node id), refused by another image (AL_E_SEAL_MEASUREMENT) and by
 *    the same image on another platform (AL_E_SEAL_AUTH). */
#define _DEFAULT_SOURCE 1
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_host.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define HOST_MALLINFO 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOST_MALLINFO 0
#endif
#endif
#ifndef HOST_MALLINFO
#define HOST_MALLINFO 1
#endif

static char base[] = "/tmp/alight-enclave-test-XXXXXX";
/* What the enclave's nodes share (header chain, scratch: al_node_shared) comes off the
 * heap first; the heaps below are what is left for the nodes. */
static size_t shared_bytes;
static const uint8_t secret[32] = {0x5e, 0xc2, 0xe7};

static al_err open_host(fake_host *h, const char *image, size_t heap, const uint8_t *sec,
                        uint32_t max_nodes)
{
	fh_config c = {
	    .image = image, .heap = heap, .state = base, .max_nodes = max_nodes, .max_conns = 4};
	memcpy(c.platform_secret, sec, 32);
	al_err e = fh_open(h, &c);
	if (e == AL_OK)
		e = fh_ctl_setup(h);
	return e;
}

static void test_routing(fake_host *h)
{
	al_enclave_stats a, b;
	char out[8192];
	al_err e;

	CHECK(fh_provision(h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	/* The first use fetches and caches OpenSSL's algorithms (kept, in the heap). */
	CHECK(fh_operator(h, 0, "GET", "/v1/getinfo", NULL, out, sizeof(out), &e) == 200);
	h->ec->stats(&a);
	CHECK(a.crypto_routed == 1 && a.heap_used > 0 && a.crypto_allocs > 0);
#if HOST_MALLINFO
	struct mallinfo2 before = mallinfo2();
#endif
	int st = fh_operator(h, 0, "GET", "/v1/getinfo", NULL, out, sizeof(out), &e);
#if HOST_MALLINFO
	struct mallinfo2 after = mallinfo2();
	/* Nothing the enclave did touched the host's allocator. */
	CHECK(after.uordblks == before.uordblks);
#endif
	CHECK(st == 200 && strstr(out, "\"identity_pubkey\":\"02ec9fbb") != NULL);
	h->ec->stats(&b);
	CHECK(b.heap_used == a.heap_used); /* jansson's and the answer's memory went back */
	printf("routing: OpenSSL allocations through the enclave heap %llu, host heap "
	       "unchanged%s\n",
	       (unsigned long long)b.crypto_allocs,
	       HOST_MALLINFO ? "" : " (not checked under ASan)");
}

static void test_exhaustion(fake_host *h, char words0[300])
{
	al_enclave_stats st;
	char out[8192];
	uint32_t n = 1; /* node 0 is already there */
	int status;
	al_err e;

	while ((status = fh_provision(h, NULL, NULL, out, sizeof(out))) == 200)
		n++;
	h->ec->stats(&st);
	printf("exhaustion: %u nodes of %llu bytes in a %llu-byte heap; used %llu, high water "
	       "%llu, refused %llu; the refusal: %d %s\n",
	       n, (unsigned long long)st.node_bytes, (unsigned long long)st.heap_size,
	       (unsigned long long)st.heap_used, (unsigned long long)st.heap_high,
	       (unsigned long long)st.heap_failed, status, out);
	CHECK(status == 503 || status == 0);
	CHECK(n >= 3 && st.nodes == n && st.nodes_ready == n);
	CHECK(st.heap_failed >= 1 || status == 503);
	/* Still serving: node 0 answers its operator, the user channel works. */
	CHECK(fh_operator(h, 0, "GET", "/v1/getinfo", NULL, out, sizeof(out), &e) == 200);
	CHECK(fh_provision(h, ZERO_WORDS, NULL, out, sizeof(out)) == 409); /* already here */
	/* Unloading nodes gives their memory back: there is room for a new one. (Two: the
	 * user channel's TLS session takes its memory first, from the same holes.) */
	uint64_t used = st.heap_used;
	CHECK_OK(h->ec->node_unload(n - 1));
	CHECK_OK(h->ec->node_unload(n - 2));
	h->ec->stats(&st);
	CHECK(st.heap_used + 2 * st.node_bytes <= used + 64);
	status = fh_provision(h, NULL, words0, out, sizeof(out));
	if (status != 200)
		printf("after unload: %d %s\n", status, out);
	CHECK(status == 200);
	CHECK(strlen(words0) > 100);
	h->ec->stats(&st);
	CHECK(st.heap_foreign == 0);
}

static void test_sealed_anchors(fake_host *h, const char *image)
{
	al_enclave_node_info ni, again;
	char copy[] = "/tmp/alight-enclave-copy-XXXXXX", other[] = "/tmp/alight-enclave-mod-XXXXXX";
	char cmd[512];
	static fake_host h2;

	/* The same enclave reloads node 0 from its anchor: the same identity. */
	CHECK_OK(h->ec->node_info(0, &ni));
	CHECK(ni.state == 2);
	CHECK_OK(h->ec->node_unload(0));
	CHECK_OK(h->ec->node_load(0));
	fh_settle(h);
	CHECK_OK(h->ec->node_info(0, &again));
	CHECK(again.state == 2);
	CHECK_MEM(again.node_id, ni.node_id, 33);
	fh_close(h);

	/* Another image (one byte appended: another measurement) cannot unseal it. */
	int fd1 = mkstemp(other), fd2 = mkstemp(copy);
	CHECK(fd1 >= 0 && fd2 >= 0);
	close(fd1);
	close(fd2);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && printf x >> '%s' && cp '%s' '%s'", image, other,
	         other, image, copy);
	CHECK(system(cmd) == 0);
	CHECK_OK(open_host(&h2, other, shared_bytes + (16u << 20), secret, 4));
	CHECK_OK(h2.ec->node_load(0));
	fh_settle(&h2);
	CHECK_OK(h2.ec->node_info(0, &again));
	CHECK(again.state == 3 && again.status == AL_E_SEAL_MEASUREMENT);
	fh_close(&h2);
	/* The same image (a byte-identical copy) on another platform cannot either. */
	uint8_t other_secret[32] = {1};
	CHECK_OK(open_host(&h2, copy, shared_bytes + (16u << 20), other_secret, 4));
	CHECK_MEM(h2.measurement, h->measurement, 32);
	CHECK_OK(h2.ec->node_load(0));
	fh_settle(&h2);
	CHECK_OK(h2.ec->node_info(0, &again));
	CHECK(again.state == 3 && again.status == AL_E_SEAL_AUTH);
	fh_close(&h2);
	unlink(other);
	unlink(copy);
}

int main(void)
{
	static fake_host h;
	char words[300], cmd[256];

	CHECK(mkdtemp(base) != NULL);
	CHECK_ERR(open_host(&h, "/nonexistent/libalight_enclave.so", 4u << 20, secret, 4),
	          AL_E_ENC_LOAD);
	fh_close(&h); /* what the failed open had opened (the state store) */
	CHECK_ERR(open_host(&h, ALIGHT_ENCLAVE_SO, 64 * 1024, secret, 4), AL_E_ARG);
	fh_close(&h);
	CHECK_OK(open_host(&h, ALIGHT_ENCLAVE_SO, 64u << 20, secret, 4));
	if (h.ec) {
		al_enclave_stats st;

		h.ec->stats(&st);
		shared_bytes = st.shared_bytes;
		printf("shared: %zu bytes (regtest header chain, scratch)\n", shared_bytes);
		CHECK(shared_bytes > 0);
	}
	fh_close(&h);
	CHECK_OK(open_host(&h, ALIGHT_ENCLAVE_SO, shared_bytes + (3u << 20), secret, 64));
	if (!h.ec)
		return al_t_finish();
	test_routing(&h);
	test_exhaustion(&h, words);
	test_sealed_anchors(&h, ALIGHT_ENCLAVE_SO);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	CHECK(system(cmd) == 0);
	return al_t_finish();
}
