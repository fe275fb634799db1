/* The asynchronous replicated store (store/rstore.h) against real directory stores
 * (host/store_dir.h), with the synchronous reader al_kv (store/kv.h) as a second,
 * independent reader of what it wrote: the same records, the same versions.
 *
 * The operator's moves: an older copy of a whole store put back, a store deleted and
 * started afresh, a record replaced by garbage, a write lost, answers replayed, late or
 * in any order. Each is either ignored (stale answers) or ends in the replica dropping
 * out with the precise reason, and below quorum the engine refuses to act. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/rng.h"
#include "host/store_dir.h"
#include "store/kv.h"
#include "store/rstore.h"
#include "test.h"

#define V(s) ((const uint8_t *)(s))

static const uint8_t seed[32] = {0x5e, 0xed, 0x01};
static al_rng rng;
static al_rng_chacha rng_state;
static char base[64];

static void *t_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return calloc(1, n);
}
static void t_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static const al_alloc heap = {t_alloc, t_free, NULL};

/* A replica: a directory store, and whether the operator makes its writes fail. */
struct replica {
	char path[160];
	al_store_dir *dir;
	bool lose_writes;
};

static struct replica reps[AL_RS_MAX_REPLICAS];

static void rep_open(struct replica *r, const char *name)
{
	snprintf(r->path, sizeof(r->path), "%s/%s", base, name);
	r->dir = NULL;
	r->lose_writes = false;
	CHECK_OK(al_store_dir_open(&r->dir, r->path));
}

static void rep_close(struct replica *r)
{
	if (r->dir)
		al_store_dir_close(r->dir);
	r->dir = NULL;
}

/* A shell command on the test's directories: every %s in it is the base directory. */
static void sh(const char *cmd)
{
	char buf[512];
	size_t n = 0;
	for (const char *p = cmd; *p && n + sizeof(base) < sizeof(buf); p++) {
		if (p[0] == '%' && p[1] == 's') {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", base);
			p++;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = 0;
	CHECK(system(buf) == 0);
}

/* One request performed against its replica: the answer it would give. */
struct answer {
	al_rs_req_kind kind;
	uint64_t id;
	al_err status;
	uint8_t blob[4096];
	size_t len;
	int64_t version;
};

static void perform(const al_rs_req *q, struct answer *a)
{
	struct replica *r = &reps[q->replica];
	a->kind = q->kind;
	a->id = q->id;
	a->len = 0;
	a->version = 0;
	if (q->kind == AL_RS_GET)
		a->status = al_store_dir_backend.get(r->dir, q->name, a->blob, sizeof(a->blob),
		                                     &a->len, &a->version);
	else
		a->status = r->lose_writes ? AL_E_STORE_BACKEND
		                           : al_store_dir_backend.put_batch(
		                                 r->dir, q->items, q->n_items, q->global_version);
}

static al_rs_done deliver(al_rs *rs, const struct answer *a)
{
	if (a->kind == AL_RS_GET)
		return al_rs_get_done(rs, a->id, a->status, a->blob, a->len, a->version);
	return al_rs_put_done(rs, a->id, a->status);
}

/* Perform every request; deliver the answers in order, or reversed. */
static al_rs_done drive(al_rs *rs, bool reversed)
{
	static struct answer ans[64];
	al_rs_req q;
	size_t n = 0;
	al_rs_done last = AL_RS_MORE;

	while (al_rs_next(rs, &q) && n < 64)
		perform(&q, &ans[n++]);
	for (size_t i = 0; i < n; i++) {
		al_rs_done d = deliver(rs, &ans[reversed ? n - 1 - i : i]);
		if (d != AL_RS_MORE)
			last = d;
	}
	return last;
}

static const al_rs_key objs[] = {{"wallet", "state"}, {"node", "config"}};

static al_arena arena;
static uint8_t mem[1 << 16];

static al_err engine(al_rs *rs, size_t n, size_t quorum, int64_t last_seen)
{
	al_rs_config c = {
	    .n_replicas = n, .quorum = quorum, .max_objects = 8, .last_seen = last_seen};
	al_arena_init(&arena, mem, sizeof(mem));
	CHECK(al_rs_mem_size(&c) <= sizeof(mem));
	return al_rs_init(rs, &arena, &c, &heap, &rng, seed, sizeof(seed));
}

static al_rs_done load(al_rs *rs, bool reversed)
{
	CHECK_OK(al_rs_load(rs, objs, 2));
	return drive(rs, reversed);
}

static bool value_is(al_rs *rs, const char *ns, const char *key, const char *want)
{
	const uint8_t *v;
	size_t len;
	int64_t ver;
	if (al_rs_value(rs, ns, key, &v, &len, &ver) != AL_OK)
		return false;
	if (!want)
		return v == NULL && len == 0;
	return v && len == strlen(want) && memcmp(v, want, len) == 0;
}

static void write1(al_rs *rs, const char *ns, const char *key, const char *val, al_rs_done want)
{
	al_rs_item it = {ns, key, V(val), strlen(val)};
	CHECK_OK(al_rs_write(rs, &it, 1));
	CHECK(drive(rs, false) == want);
}

/* The synchronous reader sees what the engine wrote. */
static void kv_reads(struct replica *r, const char *ns, const char *key, const char *want,
                     int64_t g)
{
	static uint8_t scratch_mem[1 << 16];
	al_arena scratch;
	uint8_t out[256];
	size_t len;
	int64_t ver;
	al_kv kv;

	al_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
	CHECK_OK(
	    al_kv_init(&kv, &al_store_dir_backend, r->dir, &scratch, &rng, seed, sizeof(seed), g));
	CHECK(al_kv_global_version(&kv) == g);
	CHECK_OK(al_kv_get(&kv, out, sizeof(out), &len, &ver, ns, key, 0));
	CHECK(len == strlen(want) && memcmp(out, want, len) == 0);
	al_kv_clear(&kv);
}

static void test_new_node_and_writes(void)
{
	al_rs rs;

	rep_open(&reps[0], "a");
	rep_open(&reps[1], "b");
	CHECK_OK(engine(&rs, 2, 2, 0));
	CHECK(al_rs_get_state(&rs) == AL_RS_IDLE);
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_READY);
	CHECK(value_is(&rs, "wallet", "state", NULL));
	CHECK(al_rs_global_version(&rs) == 0);
	write1(&rs, "wallet", "state", "v1", AL_RS_DURABLE);
	CHECK(al_rs_global_version(&rs) == 1);
	/* Only one batch at a time: the caller queues. */
	al_rs_item it = {"node", "config", V("c1"), 2};
	CHECK_OK(al_rs_write(&rs, &it, 1));
	CHECK_ERR(al_rs_write(&rs, &it, 1), AL_E_STORE_STATE);
	CHECK(drive(&rs, true) == AL_RS_DURABLE);
	CHECK(al_rs_global_version(&rs) == 2);
	kv_reads(&reps[0], "wallet", "state", "v1", 2);
	kv_reads(&reps[1], "node", "config", "c1", 2);
	al_rs_clear(&rs);
	/* Reloaded, answers reversed: the same values. */
	CHECK_OK(engine(&rs, 2, 2, 2));
	CHECK(load(&rs, true) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_READY);
	CHECK(value_is(&rs, "wallet", "state", "v1"));
	CHECK(value_is(&rs, "node", "config", "c1"));
	CHECK(al_rs_replicas_in_set(&rs) == 2);
	al_rs_clear(&rs);
}

/* The operator puts back an older copy of store a. */
static void test_rollback_detected(void)
{
	al_rs rs;

	rep_close(&reps[0]);
	rep_close(&reps[1]);
	sh("rm -rf %s/a-old && cp -a %s/a %s/a-old");
	rep_open(&reps[0], "a");
	rep_open(&reps[1], "b");
	CHECK_OK(engine(&rs, 2, 2, 2));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	write1(&rs, "wallet", "state", "v2", AL_RS_DURABLE);
	CHECK(al_rs_global_version(&rs) == 3);
	al_rs_clear(&rs);
	rep_close(&reps[0]);
	rep_close(&reps[1]);

	/* a is now the old copy, b the newest; the node's sealed state says 3. */
	rep_open(&reps[0], "a-old");
	rep_open(&reps[1], "b");
	CHECK_OK(engine(&rs, 2, 1, 0));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_READY);
	CHECK_ERR(al_rs_replica(&rs, 0), AL_E_STORE_ROLLBACK);
	CHECK_OK(al_rs_replica(&rs, 1));
	CHECK(value_is(&rs, "wallet", "state", "v2"));
	/* Writes go to b only from now on. */
	write1(&rs, "wallet", "state", "v3", AL_RS_DURABLE);
	al_rs_clear(&rs);

	/* With both replicas required, the node refuses to act. */
	CHECK_OK(engine(&rs, 2, 2, 0));
	CHECK(load(&rs, true) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_FAILED);
	CHECK_ERR(al_rs_error(&rs), AL_E_STORE_REPLICAS);
	CHECK(value_is(&rs, "wallet", "state", NULL));
	CHECK_ERR(al_rs_write(&rs, &(al_rs_item){"wallet", "state", V("x"), 1}, 1),
	          AL_E_STORE_STATE);
	al_rs_clear(&rs);
	rep_close(&reps[1]);

	/* One store, the old copy: only the sealed state can tell, and it does. */
	CHECK_OK(engine(&rs, 1, 1, 3));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_FAILED);
	CHECK_ERR(al_rs_error(&rs), AL_E_STORE_ROLLBACK);
	al_rs_clear(&rs);
	rep_close(&reps[0]);
}

/* The operator deletes store a: an empty store where a written one was. */
static void test_deleted_store(void)
{
	al_rs rs;

	sh("rm -rf %s/a-empty");
	rep_open(&reps[0], "a-empty");
	rep_open(&reps[1], "b");
	CHECK_OK(engine(&rs, 2, 1, 0));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_READY);
	CHECK_ERR(al_rs_replica(&rs, 0), AL_E_STORE_ROLLBACK);
	CHECK(value_is(&rs, "wallet", "state", "v3"));
	al_rs_clear(&rs);
	/* Alone and without sealed state it looks like a new node; with it, a rollback. */
	rep_close(&reps[1]);
	CHECK_OK(engine(&rs, 1, 1, 4));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK_ERR(al_rs_error(&rs), AL_E_STORE_ROLLBACK);
	al_rs_clear(&rs);
	rep_close(&reps[0]);
}

/* Garbage where a record was; a record moved to another name. */
static void test_tampered_record(void)
{
	uint8_t junk[120];
	al_kv_bitem it;
	al_rs_req q;
	al_rs rs;
	int64_t g = 0;

	sh("rm -rf %s/c && cp -a %s/b %s/c");
	rep_open(&reps[0], "c");
	rep_open(&reps[1], "b");
	/* Overwrite wallet/state in c with bytes that are no record of ours. */
	CHECK_OK(engine(&rs, 2, 1, 0));
	CHECK_OK(al_rs_load(&rs, objs, 2));
	CHECK(al_rs_next(&rs, &q)); /* replica 0, global-version record */
	CHECK(al_rs_next(&rs, &q)); /* replica 0, wallet/state */
	CHECK(q.kind == AL_RS_GET && q.replica == 0);
	memset(junk, 0x01, sizeof(junk));
	memcpy(it.name, q.name, 32);
	it.value = junk;
	it.len = sizeof(junk);
	it.version = AL_KV_ANY;
	CHECK_OK(al_store_dir_backend.global_version(reps[0].dir, &g));
	CHECK_OK(al_store_dir_backend.put_batch(reps[0].dir, &it, 1, g));
	al_rs_clear(&rs);
	CHECK_OK(engine(&rs, 2, 1, 0));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_READY);
	CHECK(al_rs_replica(&rs, 0) != AL_OK);
	CHECK_OK(al_rs_replica(&rs, 1));
	CHECK(value_is(&rs, "wallet", "state", "v3"));
	al_rs_clear(&rs);
	rep_close(&reps[0]);
	rep_close(&reps[1]);
}

/* Stale, replayed and unknown answers change nothing. */
static void test_stale_answers(void)
{
	static struct answer a0, a1, dup;
	al_rs_req q;
	al_rs rs;

	rep_open(&reps[0], "b");
	CHECK_OK(engine(&rs, 1, 1, 0));
	CHECK_OK(al_rs_load(&rs, objs, 2));
	CHECK(al_rs_next(&rs, &q));
	perform(&q, &a0);
	CHECK(al_rs_get_done(&rs, a0.id ^ (1ull << 40), a0.status, a0.blob, a0.len, a0.version) ==
	      AL_RS_MORE);
	CHECK(al_rs_put_done(&rs, a0.id, AL_OK) == AL_RS_MORE); /* wrong kind */
	CHECK(deliver(&rs, &a0) == AL_RS_MORE);
	CHECK(deliver(&rs, &a0) == AL_RS_MORE); /* answered twice */
	CHECK(al_rs_stale_answers(&rs) == 3);
	/* An answer for a request not handed out yet is not accepted either. */
	CHECK(al_rs_get_done(&rs, a0.id + 2, AL_E_STORE_NOT_FOUND, NULL, 0, 0) == AL_RS_MORE);
	CHECK(al_rs_stale_answers(&rs) == 4);
	CHECK(drive(&rs, false) == AL_RS_LOADED);
	CHECK(value_is(&rs, "wallet", "state", "v3"));
	/* The first write's answer, replayed during the second, is ignored. */
	al_rs_item it = {"wallet", "state", V("v4"), 2};
	CHECK_OK(al_rs_write(&rs, &it, 1));
	CHECK(al_rs_next(&rs, &q));
	perform(&q, &a1);
	dup = a1;
	CHECK(deliver(&rs, &a1) == AL_RS_DURABLE);
	it.value = V("v5");
	CHECK_OK(al_rs_write(&rs, &it, 1));
	CHECK(deliver(&rs, &dup) == AL_RS_MORE);
	CHECK(al_rs_get_state(&rs) == AL_RS_WRITING);
	CHECK(drive(&rs, false) == AL_RS_DURABLE);
	al_rs_clear(&rs);
	rep_close(&reps[0]);
}

/* A replica loses a write: it drops out; below quorum the batch is lost for good. */
static void test_lost_write(void)
{
	al_rs rs;

	sh("rm -rf %s/d %s/e");
	rep_open(&reps[0], "d");
	rep_open(&reps[1], "e");
	CHECK_OK(engine(&rs, 2, 1, 0));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	reps[1].lose_writes = true;
	write1(&rs, "wallet", "state", "w1", AL_RS_DURABLE);
	CHECK_ERR(al_rs_replica(&rs, 1), AL_E_STORE_BACKEND);
	CHECK(al_rs_replicas_in_set(&rs) == 1);
	al_rs_clear(&rs);
	reps[1].lose_writes = false;
	CHECK_OK(engine(&rs, 2, 2, 1));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK_ERR(al_rs_error(&rs), AL_E_STORE_REPLICAS); /* e is behind: rolled back */
	CHECK_ERR(al_rs_replica(&rs, 1), AL_E_STORE_ROLLBACK);
	al_rs_clear(&rs);
	sh("rm -rf %s/e && cp -a %s/d %s/e");
	rep_close(&reps[1]);
	rep_open(&reps[1], "e");
	CHECK_OK(engine(&rs, 2, 2, 1));
	CHECK(load(&rs, false) == AL_RS_LOADED);
	CHECK(al_rs_get_state(&rs) == AL_RS_READY);
	reps[0].lose_writes = true;
	write1(&rs, "wallet", "state", "w2", AL_RS_LOST);
	CHECK(al_rs_get_state(&rs) == AL_RS_FAILED);
	CHECK_ERR(al_rs_error(&rs), AL_E_STORE_REPLICAS);
	al_rs_clear(&rs);
	rep_close(&reps[0]);
	rep_close(&reps[1]);
}

static void test_refusals(void)
{
	al_rs_config c = {.n_replicas = 5, .quorum = 1, .max_objects = 1};
	al_rs rs;

	CHECK(al_rs_mem_size(&c) == 0);
	c.n_replicas = 2;
	c.quorum = 3;
	CHECK(al_rs_mem_size(&c) == 0);
	rep_open(&reps[0], "f");
	CHECK_OK(engine(&rs, 1, 1, 0));
	al_rs_item it = {"wallet", "state", V("x"), 1};
	CHECK_ERR(al_rs_write(&rs, &it, 1), AL_E_STORE_STATE); /* not loaded */
	al_rs_key dup[2] = {{"a", "b"}, {"a", "b"}};
	CHECK_ERR(al_rs_load(&rs, dup, 2), AL_E_ARG);
	CHECK(load(&rs, false) == AL_RS_LOADED);
	al_rs_item two[2] = {{"a", "b", V("1"), 1}, {"a", "b", V("2"), 1}};
	CHECK_ERR(al_rs_write(&rs, two, 2), AL_E_ARG);
	al_rs_item del = {"a", "nothing", NULL, 0};
	CHECK_ERR(al_rs_write(&rs, &del, 1), AL_E_STORE_NOT_FOUND);
	CHECK(al_rs_get_state(&rs) == AL_RS_READY);
	/* A deletion after a write: the object is gone for the next reader. */
	write1(&rs, "a", "b", "1", AL_RS_DURABLE);
	al_rs_item rm = {"a", "b", NULL, 0};
	CHECK_OK(al_rs_write(&rs, &rm, 1));
	CHECK(drive(&rs, false) == AL_RS_DURABLE);
	al_rs_clear(&rs);
	rep_close(&reps[0]);
}

int main(void)
{
	uint8_t rseed[32] = {7};
	al_rng_chacha_init(&rng_state, &rng, rseed);
	snprintf(base, sizeof(base), "/tmp/alight-rstore-%d", (int)getpid());
	sh("rm -rf %s && mkdir -p %s");
	test_new_node_and_writes();
	test_rollback_detected();
	test_deleted_store();
	test_tampered_record();
	test_stale_answers();
	test_lost_write();
	test_refusals();
	sh("rm -rf %s");
	return al_t_finish();
}
