/* The host event loop (src/host/loop.h) and the seed file (src/host/seed.h).
 *
 * The loop is driven with real pipes, timers on the monotonic clock and a real
 * signal. The node key oracle is Electrum 4.3.4 (BIP 39 seed, then BIP 32 along
 * m/1017'/coin'/6'/0/0) for BIP 39's 24-word vector of 32 zero bytes. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btc/bip39.h"
#include "crypto/secp.h"
#include "host/loop.h"
#include "host/seed.h"
#include "node/keys.h"
#include "test.h"
#include "util/hex.h"

#define SLOTS 8

static _Alignas(16) unsigned char loop_mem[4096];

struct hit {
	int calls;
	unsigned events;
	int remove_slot; /* slot to remove from inside the callback, -1 for none */
};

static void on_fd(al_loop *l, void *arg, int slot, unsigned events)
{
	struct hit *h = arg;

	h->calls++;
	h->events |= events;
	if (h->remove_slot >= 0) {
		al_loop_remove(l, h->remove_slot);
		h->remove_slot = -1;
	}
}

/* Take the one byte a test wrote (the pipes block). */
static void drain(int fd)
{
	char c;

	CHECK(read(fd, &c, 1) == 1);
}

static void test_fds(void)
{
	al_loop *l;
	struct hit a = {.remove_slot = -1}, b = {.remove_slot = -1};
	int pa[2], pb[2], sa, sb, s;

	CHECK(al_loop_size(SLOTS) <= sizeof(loop_mem));
	CHECK_ERR(al_loop_init(&l, loop_mem, 16, SLOTS), AL_E_BUFSIZE);
	CHECK_ERR(al_loop_init(&l, loop_mem, sizeof(loop_mem), 0), AL_E_ARG);
	CHECK_OK(al_loop_init(&l, loop_mem, sizeof(loop_mem), SLOTS));
	CHECK(pipe(pa) == 0 && pipe(pb) == 0);
	CHECK_OK(al_loop_add(l, &sa, pa[0], AL_LOOP_READ, on_fd, &a));
	CHECK_OK(al_loop_add(l, &sb, pb[0], AL_LOOP_READ, on_fd, &b));
	CHECK(sa == 0 && sb == 1 && al_loop_count(l) == 2);

	/* Nothing ready: a bounded wait returns with no callback. */
	CHECK_OK(al_loop_run_once(l, 10));
	CHECK(a.calls == 0 && b.calls == 0);

	CHECK(write(pa[1], "x", 1) == 1);
	CHECK_OK(al_loop_run_once(l, 1000));
	CHECK(a.calls == 1 && (a.events & AL_LOOP_READ) && b.calls == 0);
	drain(pa[0]);

	/* Both ready; a's callback removes b's slot: b gets no stale event. */
	a = (struct hit){.remove_slot = sb};
	CHECK(write(pa[1], "x", 1) == 1 && write(pb[1], "y", 1) == 1);
	CHECK_OK(al_loop_run_once(l, 1000));
	CHECK(a.calls == 1 && b.calls == 0 && al_loop_count(l) == 1);
	drain(pa[0]);

	/* The freed slot is reused, lowest first. */
	CHECK_OK(al_loop_add(l, &s, pb[0], AL_LOOP_READ, on_fd, &b));
	CHECK(s == sb);
	CHECK_OK(al_loop_run_once(l, 1000)); /* "y" is still unread */
	CHECK(b.calls == 1);
	drain(pb[0]);

	/* Interest 0 leaves the descriptor out of poll, hang-up included. */
	b = (struct hit){.remove_slot = -1};
	close(pb[1]);
	al_loop_set_events(l, sb, 0);
	CHECK(al_loop_events(l, sb) == 0);
	CHECK_OK(al_loop_run_once(l, 20));
	CHECK(b.calls == 0);
	al_loop_set_events(l, sb, AL_LOOP_READ);
	CHECK_OK(al_loop_run_once(l, 1000));
	CHECK(b.calls == 1 && (b.events & AL_LOOP_ERROR));
	al_loop_remove(l, sb);
	al_loop_remove(l, sb); /* twice is harmless */
	CHECK(al_loop_count(l) == 1);

	/* A full table refuses. */
	for (int i = 1; i < SLOTS; i++)
		CHECK_OK(al_loop_add(l, &s, pa[0], 0, on_fd, &b));
	CHECK_ERR(al_loop_add(l, &s, pa[0], 0, on_fd, &b), AL_E_NOMEM);
	CHECK(s == -1);
	CHECK_ERR(al_loop_add(l, &s, -1, 0, on_fd, &b), AL_E_ARG);
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
}

struct tick {
	int fired;
	uint64_t at;
};

static void on_tick(al_loop *l, void *arg, uint64_t now)
{
	struct tick *t = arg;

	t->fired++;
	t->at = now;
}

static void test_timer(void)
{
	al_loop *l;
	struct tick t = {0};
	uint64_t start;

	CHECK_OK(al_loop_init(&l, loop_mem, sizeof(loop_mem), SLOTS));
	start = al_loop_now_ms();
	al_loop_set_timer(l, start + 30, on_tick, &t);
	/* -1: wait for the timer itself. */
	CHECK_OK(al_loop_run_once(l, -1));
	CHECK(t.fired == 1 && t.at >= start + 30);
	CHECK(al_loop_now_ms() - start < 5000);
	/* Fired once per arming. */
	CHECK_OK(al_loop_run_once(l, 10));
	CHECK(t.fired == 1);
	/* Re-armed, then disarmed: nothing. */
	al_loop_set_timer(l, al_loop_now_ms() + 5, on_tick, &t);
	al_loop_set_timer(l, AL_LOOP_NO_TIMER, NULL, NULL);
	CHECK_OK(al_loop_run_once(l, 30));
	CHECK(t.fired == 1);
	/* A deadline already passed fires at once. */
	al_loop_set_timer(l, start, on_tick, &t);
	CHECK_OK(al_loop_run_once(l, -1));
	CHECK(t.fired == 2);
}

static void test_signal(void)
{
	static const int sigs[] = {SIGUSR1};
	al_loop *l;
	uint64_t lim = 0;

	CHECK_OK(al_loop_init(&l, loop_mem, sizeof(loop_mem), SLOTS));
	CHECK_OK(al_loop_stop_on_signals(l, sigs, 1));
	CHECK_ERR(al_loop_stop_on_signals(l, sigs, 1), AL_E_ARG); /* once per process */
	CHECK(!al_loop_stopped(l) && al_loop_stop_signal(l) == 0);
	CHECK(raise(SIGUSR1) == 0);
	CHECK_OK(al_loop_run(l)); /* returns because the signal stopped it */
	CHECK(al_loop_stopped(l) && al_loop_stop_signal(l) == SIGUSR1);
	/* SIGPIPE is ignored: writing to a closed pipe is an error, not death. */
	{
		int p[2];

		CHECK(pipe(p) == 0);
		close(p[0]);
		CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
		close(p[1]);
	}
	CHECK_OK(al_loop_raise_nofile(&lim));
	CHECK(lim >= 64);
}

/* BIP 39's vector for 32 zero bytes, and its node keys computed by Electrum 4.3.4. */
static const char zero_words[] =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
    "abandon art";
static const char node_id_coin0[] =
    "0273abd54c6a43a1b62f6f1706333288289914b72c728722e93b55a7321de1b42d";
static const char node_id_coin1[] =
    "02ec9fbbf851543e26104aae824788147c15bfb23e5b51a64493a3550355c5ec08";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* The node key of the seed read from the file (node/keys.h, LND's path). */
static void check_node_key(uint32_t coin, const char *want)
{
	uint8_t entropy[32], ser[AL_PUBKEY_LEN];
	char hex[2 * AL_PUBKEY_LEN + 1];
	al_node_keys k;
	al_pubkey pub;
	size_t n = 0;

	CHECK_OK(al_bip39_to_entropy(entropy, sizeof(entropy), &n, zero_words, strlen(zero_words)));
	CHECK_OK(al_node_keys_derive(al_t_secp(), &k, entropy, n, coin));
	CHECK_OK(al_hex_encode(hex, sizeof(hex), k.node_id, sizeof(k.node_id)));
	CHECK(strcmp(hex, want) == 0);
	/* The private key is the one behind the node id. */
	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pub, &k.node_key));
	al_node_keys_clear(&k);
	al_pubkey_serialize(al_t_secp(), ser, &pub);
	CHECK_OK(al_hex_encode(hex, sizeof(hex), ser, sizeof(ser)));
	CHECK(strcmp(hex, want) == 0);
}

static void test_seed(void)
{
	char dir[] = "/tmp/alight-test-seed-XXXXXX";
	char path[256], other[256], words[AL_BIP39_MNEMONIC_BUFLEN],
	    again[AL_BIP39_MNEMONIC_BUFLEN];
	char expect[AL_BIP39_MNEMONIC_BUFLEN];
	uint8_t seed32[32] = {7}, entropy[32];
	al_rng_chacha st, st2;
	al_rng rng, rng2;
	struct stat sb;
	bool created = false;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/seed", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	al_rng_chacha_init(&st, &rng, seed32);
	al_rng_chacha_init(&st2, &rng2, seed32);

	/* Missing: ENOENT. Then created from the rng's first 32 bytes, mode 0600. */
	CHECK_ERR(al_seed_read(words, path), AL_E_HOST_IO);
	CHECK(errno == ENOENT);
	CHECK_OK(al_seed_load_or_create(words, &created, path, &rng));
	CHECK(created);
	CHECK_OK(al_rng_fill(&rng2, entropy, sizeof(entropy)));
	CHECK_OK(al_bip39_from_entropy(expect, sizeof(expect), entropy, sizeof(entropy)));
	CHECK(strcmp(words, expect) == 0);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	{
		char text[AL_SEED_FILE_MAX];
		size_t n;

		f = fopen(path, "r");
		n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		if (f)
			fclose(f);
		text[n] = '\0';
		CHECK(n == strlen(expect) + 1 && text[n - 1] == '\n');
		CHECK(strncmp(text, expect, strlen(expect)) == 0);
	}

	/* Existing: read back, never replaced. */
	CHECK_OK(al_seed_load_or_create(again, &created, path, &rng));
	CHECK(!created && strcmp(again, words) == 0);
	CHECK_ERR(al_seed_create(again, path, &rng), AL_E_HOST_IO);
	CHECK(errno == EEXIST && again[0] == '\0');
	CHECK_OK(al_seed_read(again, path));
	CHECK(strcmp(again, words) == 0);

	/* Whitespace is tolerated, words are not. */
	write_file(other, "\r\n  abandon abandon abandon abandon abandon abandon\tabandon abandon "
	                  "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
	                  "abandon abandon abandon abandon abandon abandon   art \r\n\r\n");
	CHECK_OK(al_seed_read(words, other));
	CHECK(strcmp(words, zero_words) == 0);
	write_file(other, "abandon abandon abandon abandon abandon abandon abandon abandon "
	                  "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
	                  "abandon abandon abandon abandon abandon abandon abandon\n");
	CHECK_ERR(al_seed_read(words, other), AL_E_BIP39_CHECKSUM);
	CHECK(words[0] == '\0');
	write_file(other, "abandon abandon abandon\n");
	CHECK_ERR(al_seed_read(words, other), AL_E_BIP39_WORDS);
	write_file(other, "");
	CHECK_ERR(al_seed_read(words, other), AL_E_BIP39_WORDS);
	/* Oversized: a file bigger than any seed, and words that overflow the buffer. */
	f = fopen(other, "w");
	for (int i = 0; f != NULL && i < AL_SEED_FILE_MAX + 10; i++)
		fputc(' ', f);
	if (f)
		fclose(f);
	CHECK_ERR(al_seed_read(words, other), AL_E_TOO_LARGE);
	f = fopen(other, "w");
	for (int i = 0; f != NULL && i < 40; i++)
		fputs("abandon ", f);
	if (f)
		fclose(f);
	CHECK_ERR(al_seed_read(words, other), AL_E_TOO_LARGE);
	/* A directory where a file should be. */
	CHECK_ERR(al_seed_read(words, dir), AL_E_HOST_IO);

	check_node_key(0, node_id_coin0);
	check_node_key(1, node_id_coin1);

	unlink(other);
	unlink(path);
	CHECK(rmdir(dir) == 0); /* no temporary file left behind */
}

int main(void)
{
	test_fds();
	test_timer();
	test_signal();
	test_seed();
	return al_t_finish();
}
