/* The enclave image as the host loads it (host/enclave_host.h, enclave/abi.h):
 *  - every allocation made inside goes to the enclave heap: OpenSSL's memory functions
 *    are ours (read back from OpenSSL), and a request doing OpenSSL and jansson work
 *    leaves the host's malloc arena exactly as it was;
 *  - a small heap driven to exhaustion with user nodes: AL_E_NOMEM, nothing broken,
 *    the high-water mark reported, the enclave still serving, room again after an
 *    unload;
 *  - sealed node keys: reopened by the same image on the same platform (same node id),
 *    refused by another image (AL_E_SEAL_MEASUREMENT) and by the same image on another
 *    platform (AL_E_SEAL_AUTH). */
#define _DEFAULT_SOURCE 1
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/enclave_host.h"
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

static char state[] = "/tmp/alight-enclave-test-XXXXXX";
static uint8_t secret[32] = {0x5e, 0xc2, 0xe7};

static al_err open_host(al_enclave_host **h, const char *image, size_t heap, const uint8_t *sec)
{
	al_enclave_host_config cfg = {
	    .image = image,
	    .heap_size = heap,
	    .state = state,
	    .platform_secret = sec,
	    .max_nodes = 64,
	    .max_conns = 64,
	    .node_max_peers = 4,
	    .node_max_handshakes = 2,
	    .quiet = true,
	};
	return al_enclave_host_open(h, &cfg);
}

static al_err request(al_enclave_host *h, const char *req, char *out, size_t cap)
{
	size_t n = 0;
	al_err e = h->ec->request((const uint8_t *)req, strlen(req), (uint8_t *)out, cap - 1, &n);
	out[e == AL_OK ? n : 0] = 0;
	return e;
}

/* Create a node and let its key reach storage; the node's status after that. */
static al_err create_node(al_enclave_host *h, uint32_t *node)
{
	al_enclave_node_info ni;
	AL_TRY(h->ec->node_create(node));
	al_enclave_host_complete(h);
	AL_TRY(h->ec->node_info(*node, &ni));
	return ni.status;
}

static al_err open_node(al_enclave_host *h, uint32_t index, al_enclave_node_info *ni)
{
	AL_TRY(h->ec->node_open(index));
	al_enclave_host_complete(h);
	AL_TRY(h->ec->node_info(index, ni));
	return ni->status;
}

static void test_routing(al_enclave_host *h)
{
	al_enclave_stats a, b;
	char out[4096];
	const char *req = "{\"method\":\"seal\",\"label\":\"t\",\"hex\":\"00112233445566778899\"}";
	/* The first use fetches and caches OpenSSL's algorithms (kept, in the heap). */
	CHECK_OK(request(h, req, out, sizeof(out)));
	h->ec->stats(&a);
	CHECK(a.crypto_routed == 1 && a.heap_used > 0 && a.crypto_allocs > 0);
#if HOST_MALLINFO
	struct mallinfo2 before = mallinfo2();
#endif
	al_err e = request(h, req, out, sizeof(out));
#if HOST_MALLINFO
	struct mallinfo2 after = mallinfo2();
	/* Nothing the enclave did touched the host's allocator. */
	CHECK(after.uordblks == before.uordblks);
#endif
	CHECK_OK(e);
	CHECK(strncmp(out, "{\"blob\":\"41534c31", 17) == 0); /* "ASL1" */
	h->ec->stats(&b);
	CHECK(b.crypto_allocs > a.crypto_allocs); /* HKDF and AEAD contexts came from the heap */
	CHECK(b.heap_used == a.heap_used);        /* and all went back to it */
	printf(
	    "routing: OpenSSL allocations through the enclave heap %llu, host heap unchanged%s\n",
	    (unsigned long long)b.crypto_allocs, HOST_MALLINFO ? "" : " (not checked under ASan)");
}

static void test_exhaustion(al_enclave_host *h, uint8_t id1[33])
{
	al_enclave_stats st;
	al_enclave_node_info ni;
	char out[4096];
	uint32_t node, n = 0;
	al_err e;

	while ((e = create_node(h, &node)) == AL_OK)
		n++;
	CHECK_ERR(e, AL_E_NOMEM);
	h->ec->stats(&st);
	printf("exhaustion: %u nodes of %llu bytes in a %llu-byte heap; used %llu, high water "
	       "%llu, refused %llu\n",
	       n, (unsigned long long)st.node_arena, (unsigned long long)st.heap_size,
	       (unsigned long long)st.heap_used, (unsigned long long)st.heap_high,
	       (unsigned long long)st.heap_failed);
	CHECK(n >= 3 && st.nodes == n && st.nodes_ready == n && st.heap_failed >= 1);
	CHECK(st.heap_high >= st.heap_size - st.node_arena - 64 * 1024);
	/* Still serving: the API, sealing (OpenSSL) and node queries all work. */
	CHECK_OK(request(h, "{\"method\":\"stats\"}", out, sizeof(out)));
	CHECK(strstr(out, "\"crypto_routed\":true") != NULL);
	CHECK_OK(
	    request(h, "{\"method\":\"seal\",\"label\":\"t\",\"hex\":\"aa\"}", out, sizeof(out)));
	CHECK_OK(h->ec->node_info(1, &ni));
	CHECK(ni.ready && ni.status == AL_OK);
	memcpy(id1, ni.node_id, 33);
	/* A request larger than what is left is refused cleanly too. */
	size_t big = 2 * (size_t)st.node_arena;
	char *req = malloc(big + 64);
	CHECK(req != NULL);
	strcpy(req, "{\"method\":\"seal\",\"label\":\"t\",\"hex\":\"");
	memset(req + strlen(req), 'a', big);
	strcpy(req + 37 + big, "\"}");
	CHECK_ERR(request(h, req, out, sizeof(out)), AL_E_NOMEM);
	free(req);
	/* Unloading a node gives its arena back: there is room for a new one. */
	CHECK_OK(h->ec->node_unload(0));
	CHECK_OK(create_node(h, &node));
	CHECK(node == 0);
	CHECK_ERR(create_node(h, &node), AL_E_NOMEM);
	h->ec->stats(&st);
	CHECK(st.heap_foreign == 0);
}

static void test_sealed_keys(al_enclave_host *h, const char *image, const uint8_t id1[33])
{
	al_enclave_node_info ni;
	char copy[] = "/tmp/alight-enclave-copy-XXXXXX", other[] = "/tmp/alight-enclave-mod-XXXXXX";
	char cmd[512];
	al_enclave_host *h2 = NULL, *h3 = NULL;

	/* The same enclave reloads node 1 from its sealed key: the same identity. */
	CHECK_OK(h->ec->node_unload(1));
	CHECK_OK(open_node(h, 1, &ni));
	CHECK_MEM(ni.node_id, id1, 33);

	/* Another image (one byte appended: another measurement) cannot unseal it. */
	int fd1 = mkstemp(other), fd2 = mkstemp(copy);
	CHECK(fd1 >= 0 && fd2 >= 0);
	close(fd1);
	close(fd2);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && printf x >> '%s' && cp '%s' '%s'", image, other,
	         other, image, copy);
	CHECK(system(cmd) == 0);
	CHECK_OK(open_host(&h2, other, 4u << 20, secret));
	if (h2) {
		CHECK(memcmp(h2->measurement, h->measurement, 32) != 0);
		CHECK_ERR(open_node(h2, 1, &ni), AL_E_SEAL_MEASUREMENT);
	}
	/* The same image (a byte-identical copy) on another platform cannot either. */
	uint8_t other_secret[32] = {1};
	CHECK_OK(open_host(&h3, copy, 4u << 20, other_secret));
	if (h3) {
		CHECK_MEM(h3->measurement, h->measurement, 32);
		CHECK_ERR(open_node(h3, 1, &ni), AL_E_SEAL_AUTH);
	}
	al_enclave_host_close(h2);
	al_enclave_host_close(h3);
	unlink(other);
	unlink(copy);
}

int main(void)
{
	al_enclave_host *h = NULL;
	uint8_t id1[33] = {0};
	char cmd[256];

	CHECK(mkdtemp(state) != NULL);
	CHECK_ERR(open_host(&h, "/nonexistent/libalight_enclave.so", 4u << 20, secret),
	          AL_E_ENC_LOAD);
	CHECK_ERR(open_host(&h, ALIGHT_ENCLAVE_SO, 64 * 1024, secret), AL_E_ARG);
	CHECK_OK(open_host(&h, ALIGHT_ENCLAVE_SO, 8u << 20, secret));
	if (!h)
		return al_t_finish();
	test_routing(h);
	test_exhaustion(h, id1);
	test_sealed_keys(h, ALIGHT_ENCLAVE_SO, id1);
	al_enclave_host_close(h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	CHECK(system(cmd) == 0);
	return al_t_finish();
}
