/* Crash test for the directory backend: a child process writes batches through the
 * encrypted store and reports each acknowledged batch on a pipe; the parent kills it
 * with SIGKILL at a random moment, reopens the store and checks that every
 * acknowledged write is there, that no batch is half applied and that nothing is
 * corrupt. Several rounds, on the same store. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/os_rng.h"
#include "host/store_dir.h"
#include "store/kv.h"
#include "test.h"
#include "util/cursor.h"

#define SLOTS     8
#define ROUNDS    10
#define MAX_SEQ   1000000
#define VALUE_MAX 700

static const uint8_t node_seed[32] = {0xc4, 0x5a};
static char path[64];
static al_rng rng;

/* Acknowledgement on the pipe: the batch's sequence number and global version. */
struct ack {
	uint64_t seq;
	int64_t global_version;
};

/* The value written for `seq`: the number, then filler that depends on it. */
static size_t make_value(uint8_t *out, uint64_t seq)
{
	size_t len = 8 + (size_t)(seq * 37 % (VALUE_MAX - 8)), i;

	al_write_be64(out, seq);
	for (i = 8; i < len; i++)
		out[i] = (uint8_t)(seq * 131 + i);
	return len;
}

static bool value_ok(const uint8_t *v, size_t len, uint64_t *seq)
{
	uint8_t want[VALUE_MAX];

	if (len < 8)
		return false;
	*seq = al_read_be64(v);
	return make_value(want, *seq) == len && memcmp(want, v, len) == 0;
}

static void slot_keys(char *a, char *b, size_t cap, uint64_t slot)
{
	snprintf(a, cap, "a%llu", (unsigned long long)slot);
	snprintf(b, cap, "b%llu", (unsigned long long)slot);
}

static al_err open_kv(al_store_dir **d, al_kv *kv, al_arena *arena, int64_t last_seen)
{
	static uint8_t mem[1 << 14];

	al_arena_init(arena, mem, sizeof(mem));
	AL_TRY(al_store_dir_open(d, path));
	return al_kv_init(kv, &al_store_dir_backend, *d, arena, &rng, node_seed, sizeof(node_seed),
	                  last_seen);
}

/* The child: batches of two objects (a<slot>, b<slot>) with the same value. */
static void child(int fd, uint64_t first_seq)
{
	uint8_t value[VALUE_MAX];
	char ka[16], kb[16];
	al_store_dir *d;
	al_arena arena;
	uint64_t seq;
	al_kv kv;

	if (open_kv(&d, &kv, &arena, 0) != AL_OK)
		_exit(3);
	for (seq = first_seq; seq < MAX_SEQ; seq++) {
		size_t len = make_value(value, seq);
		struct ack ack;
		slot_keys(ka, kb, sizeof(ka), seq % SLOTS);
		{
			al_kv_write w[2] = {{"crash", ka, value, len, AL_KV_ANY},
			                    {"crash", kb, value, len, AL_KV_ANY}};
			if (al_kv_write_batch(&kv, w, 2) != AL_OK)
				_exit(4);
		}
		ack.seq = seq;
		ack.global_version = al_kv_global_version(&kv);
		if (write(fd, &ack, sizeof(ack)) != (ssize_t)sizeof(ack))
			_exit(5);
	}
	_exit(0);
}

struct state {
	uint64_t acked[SLOTS]; /* last acknowledged seq per slot, 0: none */
	uint64_t last_seq;     /* highest acknowledged seq */
	int64_t global_version;
	long acks;
};

static void record(struct state *st, const struct ack *a)
{
	st->acked[a->seq % SLOTS] = a->seq;
	st->last_seq = a->seq;
	st->global_version = a->global_version;
	st->acks++;
}

/* Run one child, kill it after `want` acknowledgements plus a random delay. */
static void round_once(struct state *st, long want)
{
	struct ack a;
	int fds[2], status;
	long got = 0;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], st->last_seq + 1);
	}
	close(fds[1]);
	while (got < want && read(fds[0], &a, sizeof(a)) == (ssize_t)sizeof(a)) {
		record(st, &a);
		got++;
	}
	{
		struct timespec ts = {0, (long)(rand() % 3000) * 1000};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	/* Whatever reached the pipe before the kill was acknowledged. */
	while (read(fds[0], &a, sizeof(a)) == (ssize_t)sizeof(a))
		record(st, &a);
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* Reopen and check every slot against the acknowledgements. */
static void verify(const struct state *st)
{
	uint8_t va[VALUE_MAX], vb[VALUE_MAX];
	char ka[16], kb[16];
	al_store_dir *d = NULL;
	al_arena arena;
	al_kv kv;
	int slot;

	CHECK_OK(open_kv(&d, &kv, &arena, st->global_version));
	/* At most the one batch in flight was applied without an acknowledgement. */
	CHECK(al_kv_global_version(&kv) - st->global_version <= 1);
	for (slot = 0; slot < SLOTS; slot++) {
		uint64_t sa = 0, sb = 0;
		size_t la = 0, lb = 0;
		int64_t ver;
		al_err ea, eb;

		slot_keys(ka, kb, sizeof(ka), (uint64_t)slot);
		ea = al_kv_get(&kv, va, sizeof(va), &la, &ver, "crash", ka, 0);
		eb = al_kv_get(&kv, vb, sizeof(vb), &lb, &ver, "crash", kb, 0);
		if (st->acked[slot] == 0 && ea == AL_E_STORE_NOT_FOUND)
			continue;
		CHECK_OK(ea);
		CHECK_OK(eb);
		CHECK(value_ok(va, la, &sa) && value_ok(vb, lb, &sb));
		/* All or nothing: both objects of a batch carry the same value. */
		CHECK(sa == sb);
		/* Acknowledged, or the one batch in flight. */
		CHECK(sa >= st->acked[slot] && sa <= st->last_seq + 1);
	}
	al_kv_clear(&kv);
	al_store_dir_close(d);
}

int main(void)
{
	struct state st;
	int r, replays = 0;
	char cmd[128];

	al_os_rng(&rng);
	srand((unsigned)time(NULL));
	strcpy(path, "/tmp/alight-test-crash-XXXXXX");
	if (!mkdtemp(path)) {
		perror("mkdtemp");
		return 1;
	}
	memset(&st, 0, sizeof(st));
	for (r = 0; r < ROUNDS; r++) {
		round_once(&st, 150 + rand() % 400);
		snprintf(cmd, sizeof(cmd), "%s/journal", path);
		/* A journal left behind: the kill came between commit and cleanup. */
		if (access(cmd, F_OK) == 0)
			replays++;
		verify(&st);
	}
	fprintf(stderr,
	        "crash: %d rounds, %ld acknowledged batches, global version %lld, "
	        "%d journal replays\n",
	        ROUNDS, st.acks, (long long)st.global_version, replays);
	CHECK(st.acks >= 1000);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	return al_t_finish();
}
