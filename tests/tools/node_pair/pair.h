/* What node_pair.c (the two nodes, their host, the devchain) lends its scenarios in
 * other files of the tool (tests/tools/node_pair/). */
#ifndef ALIGHT_TESTS_NODE_PAIR_H
#define ALIGHT_TESTS_NODE_PAIR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/rng.h"
#include "crypto/secp.h"
#include "host/store_dir.h"
#include "node/node.h"
#include "util/arena.h"

typedef struct pnode {
	const char *name;
	al_node *n;
	al_arena arena;
	uint8_t *mem;
	uint8_t entropy[32];
	char dir[512];
	al_store_dir *store;
	struct pnode *peer;
	bool connected_conn;
	/* the last answer */
	int status;
	char body[1 << 16];
	size_t answers;
	uint64_t fetches;
	size_t heap_live; /* bytes the node holds from its allocator */
	al_alloc heap;
	bool crashed;   /* killed at a persistence point (crash scenario): not yet restarted */
	uint64_t puts;  /* store writes asked */
	uint64_t posts; /* transactions broadcast */
} pnode;

extern pnode A, B;
extern al_secp *secp;
extern al_rng rng;
/* The nodes' monotonic clock (ms), and what their wall clock is moved by (s). */
extern uint64_t now_ms;
extern int64_t wall_offset;

uint64_t wall(void);
/* Print {"event":"fail",...} and exit 1. */
_Noreturn void fail(const char *what, const char *detail);
/* Both nodes perform what they ask until neither asks anything. */
void settle(void);
/* One request of the user's, answered (json, NULL when none); req_ok fails unless 200. */
json_t *req(pnode *p, const char *method, const char *target, const char *body);
json_t *req_ok(pnode *p, const char *method, const char *target, const char *body);
uint64_t jint(json_t *o, const char *k);
/* Print o with "event": event, and take it. */
void print_json(const char *event, json_t *o);
/* An HTLC event of `kind` at p, within a few rounds (others are dropped). */
bool await_htlc(pnode *p, al_node_htlc_kind kind, al_node_htlc_event *ev);

/* A second passes on both nodes' clocks (a reestablish waits on no timer, but a ping may). */
void tick(void);
/* Both nodes up, the channel reestablished on both sides, nothing in flight (the
 * channels' JSON, to be taken). */
bool crash_quiet(json_t **ca, json_t **cb);
/* `victim` dies at its `at`-th store write from now, before the write (phase 0) or once
 * it is durable but unacknowledged (1); revived from its store by settle(). NULL: none. */
void crash_arm(pnode *victim, uint64_t at, int phase);
uint64_t crash_kills(void);
/* No kill armed any more (either kind). */
void crash_disarm(void);

/* refusals.c: the "refusals" scenario, on channel cid (A -> B, usable). */
void refusals(const uint8_t cid[32]);
/* paycrash.c: n payments A -> B through kills. */
void paycrash(int n);
/* Settle (the kill armed, if any, only through the first round with `disarm`) until both
 * nodes are quiet; fail with `what` after 100 rounds. */
void until_quiet(const char *what, bool disarm);
/* The status of the payment of hash_hex in A's GET /v1/payments list ("" when none), and
 * how many entries name it. */
const char *payment_status(json_t *payments, const char *hash_hex, int *count);
/* fwdcrash.c: n payments A -> B -> A (B forwarding) through kills. */
void fwdcrash(int n);
/* One life of the paysigkill scenario: payments `start` .. n-1 (resumed: both nodes
 * just started from their stores). */
void paysigkill_life(int n, int start, bool resumed);
/* node_pair.c: dial again and answer the handshake; both wallets synced; ALIGHT_KILL_AT
 * read (the tool dies by SIGKILL at that store write). */
void reconnect(void);
void sync_both(void);
void sigkill_arm(void);

#endif
