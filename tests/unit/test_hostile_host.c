/* The operator as the adversary (ARCHITECTURE.md, "The trust boundary"): the real
 * enclave image loaded by a host that lies (tests/lib/fake_host.h). Each attack prints one
 * line, "ATTACK <name>: <what happened>", and is a test: the line says "refused" or
 * "detected" only when the checks behind it hold.
 *
 * What the host tries:
 *   spend            the operator's socket asks for the wallet, the seed, the trust anchors
 *   token            the host's api token names a user channel's pending request
 *   random           the random ocall answers constant bytes: do keys repeat?
 *   seed_at_rest     the host reads every file it stores: is the seed (or its entropy) there?
 *   no_credential    a user channel with another seed's key, or a seed not its own
 *   quote            the host's quote names another measurement: the user's client refuses
 *   replay           completions the host makes up, repeats or sends late
 *   rollback         an older copy of a store put back, or a store deleted
 *   lost_write       the host loses the write a user's request depends on
 *   hostile_args     every ecall with out-of-range, oversized or unknown arguments */
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btc/bip39.h"
#include "fake_host.h"
#include "test.h"

static char base[] = "/tmp/alight-hostile-XXXXXX";
static const uint8_t secret[32] = {0xa1, 0x1e};
static int attacks;

static void report(const char *name, bool held, const char *what)
{
	attacks++;
	CHECK(held);
	printf("ATTACK %-14s %s: %s\n", name, held ? "REFUSED" : "SUCCEEDED", what);
	fflush(stdout);
}

static al_err open_at(fake_host *h, const char *dir, size_t n_stores, uint32_t quorum,
                      bool constant_random)
{
	char path[256];
	fh_config c = {.heap = 64u << 20,
	               .n_stores = n_stores,
	               .quorum = quorum,
	               .max_nodes = 4,
	               .max_conns = 8,
	               .constant_random = constant_random};

	snprintf(path, sizeof(path), "%s/%s", base, dir);
	c.state = path;
	memcpy(c.platform_secret, secret, 32);
	AL_TRY(fh_open(h, &c));
	return fh_ctl_setup(h);
}

/* Load node 0 from its anchor (after a restart). */
static al_enclave_node_info load0(fake_host *h)
{
	al_enclave_node_info ni;
	memset(&ni, 0, sizeof(ni));
	CHECK_OK(h->ec->node_load(0));
	fh_settle(h);
	CHECK_OK(h->ec->node_info(0, &ni));
	return ni;
}

static void attack_spend(void)
{
	static fake_host h;
	char out[8192];
	al_err e;
	bool held = true;

	CHECK_OK(open_at(&h, "spend", 1, 0, false));
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	const char *routes[][3] = {
	    {"POST", "/v1/wallet/sendtoaddress", "{\"args\":[\"bcrt1qxyz\",\"100000\"]}"},
	    {"POST", "/v1/wallet/newaddress", NULL},
	    {"POST", "/v1/wallet/walletbalance", NULL},
	    {"POST", "/v1/seed/export", NULL},
	    {"POST", "/v1/chain", "{\"url\":\"http://attacker.example:80\"}"},
	    {"POST", "/v1/invoices", "{\"value\":1000}"},
	    {"GET", "/v1/invoices", NULL},
	    {"GET", "/v1/balance/channels", NULL},
	    {"POST", "/v1/channels/transactions", "{\"payment_request\":\"lnbcrt1\"}"},
	    {"GET", "/v1/payments", NULL},
	    /* the user's fees: the operator may neither set nor read them */
	    {"POST", "/v1/chanpolicy",
	     "{\"global\":true,\"base_fee_msat\":0,\"fee_rate_ppm\":0,\"time_lock_delta\":18}"},
	    {"GET", "/v1/fees", NULL},
	    {"POST", "/v1/switch", "{}"},
	    /* a hold invoice's preimage is the user's: the operator cannot settle or cancel */
	    {"POST", "/v2/invoices/settle",
	     "{\"preimage\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}"},
	    {"POST", "/v2/invoices/cancel",
	     "{\"payment_hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}"},
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int st = fh_operator(&h, 0, routes[i][0], routes[i][1], routes[i][2], out,
		                     sizeof(out), &e);
		held = held && st == 403 && !strstr(out, "abandon") && !strstr(out, "r_preimage");
	}
	/* The user may (the same routes over the user channel). */
	char why[128];
	int st = fh_user(&h, ZERO_WORDS, "POST", "/v1/seed/export", NULL, out, sizeof(out), why,
	                 sizeof(why));
	held = held && st == 200 && strstr(out, ZERO_WORDS);
	/* An invoice made for the user; the operator still cannot list it (its preimage). */
	st = fh_user(&h, ZERO_WORDS, "POST", "/v1/invoices", "{\"value\":1000}", out, sizeof(out),
	             why, sizeof(why));
	held = held && st == 200 && strstr(out, "\"payment_request\":\"lnbcrt10u1");
	st = fh_operator(&h, 0, "GET", "/v1/invoices", NULL, out, sizeof(out), &e);
	held = held && st == 403 && !strstr(out, "r_preimage");
	report("spend", held,
	       "the operator's socket gets 403 for the wallet, seed export, trust anchors, "
	       "invoices, payments, channel balances, hold invoices' settling and forwarding fees "
	       "and history; the user's "
	       "channel gets them");
	fh_close(&h);
}

static void attack_token(void)
{
	static fake_host h;
	char out[8192];
	al_err e;

	CHECK_OK(open_at(&h, "token", 1, 0, false));
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	/* Every token with the top bit names a user channel's request: refused at the door. */
	e = (al_err)h.ec->api(0, ((uint64_t)1 << 63) | 0x100, "GET", 3, "/v1/getinfo", 11, NULL, 0);
	bool held = e == AL_E_ARG && h.api_answers == 0;
	e = (al_err)h.ec->api(0, 0, "GET", 3, "/v1/getinfo", 11, NULL, 0);
	held = held && e == AL_E_ARG;
	report("token", held,
	       "api tokens with the user-channel bit (or zero) are refused: "
	       "the host cannot address a user's pending request");
	fh_close(&h);
}

/* Words of a node made inside, by an enclave whose host gives constant "entropy". */
static void make_inside(const char *dir, char words[300], char pin_out[64])
{
	static fake_host h;
	char out[8192];

	CHECK_OK(open_at(&h, dir, 1, 0, true));
	CHECK(fh_provision(&h, NULL, words, out, sizeof(out)) == 200);
	snprintf(pin_out, 64, "%s",
	         strstr(out, "\"node_id\"") ? strstr(out, "\"node_id\"") + 11 : "");
	fh_close(&h);
}

static void attack_random(void)
{
	char w1[300], w2[300], id1[64], id2[64];

	make_inside("random1", w1, id1);
	make_inside("random2", w2, id2);
	bool held = strlen(w1) > 100 && strlen(w2) > 100 && strcmp(w1, w2) != 0 && strcmp(id1, id2);
	report("random", held,
	       "with the host's random ocall answering zeros, two enclaves still "
	       "make different seeds and node keys (CPU entropy inside)");
}

/* Whether any file under dir holds `needle`. */
static bool found_in(const char *dir, const uint8_t *needle, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	bool found = false;

	while (d && !found && (ent = readdir(d)) != NULL) {
		char path[1024];
		struct stat st;
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = found_in(path, needle, len);
			continue;
		}
		FILE *f = fopen(path, "rb");
		uint8_t *buf = malloc((size_t)st.st_size + 1);
		size_t n = f && buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
		for (size_t i = 0; i + len <= n && !found; i++)
			found = memcmp(buf + i, needle, len) == 0;
		free(buf);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

static void attack_seed_at_rest(void)
{
	static fake_host h;
	uint8_t entropy[32];
	size_t elen = 0;
	char out[8192], dir[256];

	CHECK_OK(open_at(&h, "atrest", 2, 0, false));
	CHECK(fh_provision(&h, FF_WORDS, NULL, out, sizeof(out)) == 200);
	char why[128];
	CHECK(fh_user(&h, FF_WORDS, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:9\"}", out,
	              sizeof(out), why, sizeof(why)) == 200);
	fh_close(&h);
	CHECK_OK(al_bip39_to_entropy(entropy, sizeof(entropy), &elen, FF_WORDS, strlen(FF_WORDS)));
	snprintf(dir, sizeof(dir), "%s/atrest", base);
	bool held = !found_in(dir, (const uint8_t *)"zoo zoo", 7) && !found_in(dir, entropy, elen);
	report("seed_at_rest", held,
	       "no file the host stores holds the seed's words or entropy "
	       "(anchors and records are sealed)");
}

static void attack_no_credential(void)
{
	static fake_host h;
	char out[8192], why[128];

	CHECK_OK(open_at(&h, "cred", 1, 0, false));
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	/* Another seed's credential opens nothing; a fresh key neither. */
	int a = fh_user(&h, FF_WORDS, "POST", "/v1/wallet/walletbalance", NULL, out, sizeof(out),
	                why, sizeof(why));
	int b = fh_user(&h, NULL, "GET", "/v1/getinfo", NULL, out, sizeof(out), why, sizeof(why));
	/* Provisioning a seed with a key that is not its credential: refused. */
	char body[400];
	snprintf(body, sizeof(body), "{\"mnemonic\":\"%s\"}", FF_WORDS);
	int c = fh_user(&h, ZERO_WORDS, "POST", "/v1/provision", body, out, sizeof(out), why,
	                sizeof(why));
	bool held = a == 401 && b == 401 && c == 403;
	report("no_credential", held,
	       "a key that is no node's credential gets 401; provisioning "
	       "a seed without its credential gets 403");
	fh_close(&h);
}

static void attack_quote(void)
{
	static fake_host h;
	char out[8192], why[128], path[256];
	fh_config c = {.heap = 64u << 20, .n_stores = 1, .max_nodes = 4, .max_conns = 8};
	uint8_t truth[32];

	snprintf(path, sizeof(path), "%s/quote", base);
	c.state = path;
	memcpy(c.platform_secret, secret, 32);
	CHECK_OK(fh_open(&h, &c));
	memcpy(truth, h.measurement, 32);
	h.measurement[5] ^= 0x40; /* what the host's QE writes into the quote */
	CHECK_OK(fh_ctl_setup(&h));
	memcpy(h.measurement, truth, 32); /* what the user pins: the image's */
	int st =
	    fh_user(&h, ZERO_WORDS, "GET", "/v1/getinfo", NULL, out, sizeof(out), why, sizeof(why));
	bool held = st == 0 && strstr(why, "policy_measurement") != NULL;
	report("quote", held,
	       "a certificate whose quote names another measurement is refused by "
	       "the user's client before any request is sent");
	fh_close(&h);
}

static void attack_replay(void)
{
	static fake_host h;
	al_enclave_stats st0, st1;
	char out[8192], why[128];

	CHECK_OK(open_at(&h, "replay", 1, 0, false));
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	h.ec->stats(&st0);
	/* Made-up completions: unknown ids, ids of other nodes, of the state store. */
	static const uint8_t junk[64] = {1};
	h.ec->store_done(12345, 0, junk, sizeof(junk), 1);
	h.ec->store_done((uint64_t)1 << 48 | 7, 0, junk, sizeof(junk), 1);
	h.ec->store_done((uint64_t)3 << 48 | 7, 0, NULL, 0, 0);
	h.ec->store_done(((uint64_t)0xffff << 48) | 0x10001, 0, junk, sizeof(junk), 1);
	h.ec->stats(&st1);
	bool held = st1.stale >= st0.stale + 3;
	/* A held write, answered twice: the second answer is ignored, the state is sound. */
	h.hold_completions = true;
	al_err e;
	(void)e;
	int status =
	    fh_user(&h, ZERO_WORDS, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:9\"}", out,
	            sizeof(out), why, sizeof(why));
	/* The answer waits for the write: the user channel got nothing yet. */
	held = held && status == 0;
	h.hold_completions = false;
	fh_release(&h, true);
	status =
	    fh_user(&h, ZERO_WORDS, "GET", "/v1/chain", NULL, out, sizeof(out), why, sizeof(why));
	held = held && status == 200 && strstr(out, "127.0.0.1:9");
	report("replay", held,
	       "completions with unknown, foreign or repeated ids are ignored; "
	       "an answer that depends on a write waits for it");
	fh_close(&h);
}

/* A shell command on the test's directory: "@" stands for it. */
static int sh(const char *cmd)
{
	char buf[1024];
	size_t n = 0;
	for (const char *p = cmd; *p && n + sizeof(base) < sizeof(buf); p++) {
		if (*p == '@') {
			memcpy(buf + n, base, strlen(base));
			n += strlen(base);
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = 0;
	return system(buf);
}

static void attack_rollback(void)
{
	static fake_host h;
	al_enclave_node_info ni;
	char out[8192], why[128];

	/* Two stores, every write on both. */
	CHECK_OK(open_at(&h, "rb", 2, 0, false));
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	CHECK(fh_user(&h, ZERO_WORDS, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:1\"}", out,
	              sizeof(out), why, sizeof(why)) == 200);
	fh_close(&h);
	CHECK(sh("cp -a @/rb/store0 @/rb/store0-old") == 0);
	CHECK_OK(open_at(&h, "rb", 2, 0, false));
	ni = load0(&h);
	CHECK(ni.state == 2);
	CHECK(fh_user(&h, ZERO_WORDS, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:2\"}", out,
	              sizeof(out), why, sizeof(why)) == 200);
	fh_close(&h);

	/* The host puts back the old copy of store 0 (consistent in itself). */
	CHECK(sh("rm -rf @/rb/store0 && mv @/rb/store0-old @/rb/store0") == 0);
	CHECK_OK(open_at(&h, "rb", 2, 0, false));
	ni = load0(&h);
	bool held = ni.state == 3 && ni.status == AL_E_STORE_REPLICAS;
	fh_close(&h);
	/* With one store required, the node serves the newer state and reports the old one. */
	CHECK_OK(open_at(&h, "rb", 2, 1, false));
	ni = load0(&h);
	int st =
	    fh_user(&h, ZERO_WORDS, "GET", "/v1/getinfo", NULL, out, sizeof(out), why, sizeof(why));
	held = held && ni.state == 2 && st == 200 &&
	       strstr(out, "\"reason\":\"AL_E_STORE_ROLLBACK\"") != NULL;
	st = fh_user(&h, ZERO_WORDS, "GET", "/v1/chain", NULL, out, sizeof(out), why, sizeof(why));
	held = held && strstr(out, "127.0.0.1:2") != NULL;
	fh_close(&h);
	report("rollback", held,
	       "an older copy of one of two stores is detected: the node "
	       "refuses to serve (quorum 2) or serves the newer state and "
	       "reports the store (quorum 1)");

	/* One store deleted: the sealed anchor remembers that the node had written. */
	CHECK_OK(open_at(&h, "del", 1, 0, false));
	CHECK(fh_provision(&h, FF_WORDS, NULL, out, sizeof(out)) == 200);
	CHECK(fh_user(&h, FF_WORDS, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:1\"}", out,
	              sizeof(out), why, sizeof(why)) == 200);
	fh_close(&h);
	CHECK(sh("rm -rf @/del/store0/*") == 0);
	CHECK_OK(open_at(&h, "del", 1, 0, false));
	ni = load0(&h);
	held = ni.state == 3 && ni.status == AL_E_STORE_ROLLBACK;
	fh_close(&h);
	report("store_deleted", held,
	       "a deleted store is caught by the global version in the "
	       "node's sealed anchor, even with one store");
}

static void attack_lost_write(void)
{
	static fake_host h;
	char out[8192], why[128];

	CHECK_OK(open_at(&h, "lost", 1, 0, false));
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	h.refuse_puts = true;
	int st = fh_user(&h, ZERO_WORDS, "POST", "/v1/chain", "{\"url\":\"http://127.0.0.1:1\"}",
	                 out, sizeof(out), why, sizeof(why));
	bool held = st == 503 && strstr(out, "nothing was done");
	al_enclave_node_info ni;
	CHECK_OK(h.ec->node_info(0, &ni));
	held = held && ni.state == 3;
	report("lost_write", held,
	       "a write the host loses is never confirmed to the user; the "
	       "node stops instead of acting on state it could not keep");
	fh_close(&h);
}

static void attack_hostile_args(void)
{
	static fake_host h;
	al_enclave_node_info ni;
	uint8_t big[70000];
	size_t used = 0;
	bool held = true;

	memset(big, 'A', sizeof(big));
	CHECK_OK(open_at(&h, "args", 1, 0, false));
	held = held && h.ec->node_load(9999) != AL_OK;
	held = held && h.ec->node_info(9999, &ni) != AL_OK;
	held = held && h.ec->net_accept(3, 77, "x", 1) != AL_OK; /* no node there */
	held = held && h.ec->net_recv(12345, big, sizeof(big), &used) != AL_OK;
	held = held && h.ec->ctl_recv(12345, big, sizeof(big), &used) != AL_OK;
	held = held && h.ec->api(0, 5, "GET", 3, "/v1/getinfo", 11, NULL, 0) == AL_E_ENC_UNKNOWN;
	held = held && h.ec->api(0, 5, (const char *)big, sizeof(big), "/", 1, NULL, 0) != AL_OK;
	held = held && h.ec->node_listen(0, (const char *)big, sizeof(big)) == AL_E_ARG;
	held = held && h.ec->ctl_setup() == AL_E_ENC_STATE; /* once only */
	held = held && h.ec->init(NULL) == AL_E_ENC_STATE;
	/* Garbage on a user channel: the channel fails, the enclave serves on. */
	char out[8192], why[128];
	CHECK(fh_provision(&h, ZERO_WORDS, NULL, out, sizeof(out)) == 200);
	CHECK_OK(h.ec->ctl_accept(900));
	CHECK_OK(h.ec->ctl_recv(900, big, 4096, &used));
	CHECK_OK(h.ec->ctl_closed(900));
	held = held && fh_user(&h, ZERO_WORDS, "GET", "/v1/getinfo", NULL, out, sizeof(out), why,
	                       sizeof(why)) == 200;
	report("hostile_args", held,
	       "out-of-range slots, unknown connections, oversized "
	       "buffers and repeated set-up calls are refused; garbage on "
	       "a user channel ends that channel only");
	fh_close(&h);
}

int main(void)
{
	char cmd[256];

	CHECK(mkdtemp(base) != NULL);
	attack_spend();
	attack_token();
	attack_random();
	attack_seed_at_rest();
	attack_no_credential();
	attack_quote();
	attack_replay();
	attack_rollback();
	attack_lost_write();
	attack_hostile_args();
	printf("hostile host: %d attacks\n", attacks);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	CHECK(system(cmd) == 0);
	return al_t_finish();
}
