/* Fuzz the BOLT #2 channel state machine: two engines with an open channel (the test
 * harness, tests/lib/chan_harness.c), restored from a snapshot for every input, then
 * driven by the input's operations: honest deliveries, commands on either side, raw
 * and corrupted messages, disconnections, crashes and restarts from the durable
 * record, persists held or lost, block heights, closes.
 *
 * Byte 0 picks the channel type (bit 0); then each operation is one byte (op % 16)
 * and its operands:
 *    0/1  deliver one message from A / B          2  pump until quiet
 *    3    add an HTLC (side, 3 amount bytes, cltv) 4  resolve an incoming HTLC (side,
 *         event index, how)                        5  commit (side)
 *    6    update_fee (side, 2 bytes)               7/8  disconnect / reconnect
 *    9    inject a message (side, type index, length, body) with the channel's id
 *   10    flip a byte of the next message a side sends (side, offset)
 *   11    persist policy (side, delay, stuck)
 *   12    restart a side from its disk (side bit 1: the disk rolled back to the open)
 *   13    block height (2 bytes)                   14/15 shutdown / force close (side)
 * The channels must never crash; every SEND must wait for the PERSIST before it (the
 * harness checks it against the durable record); at the end each channel's books
 * add up in both commitments and its record round-trips byte for byte. And when the
 * input injected or corrupted nothing (both sides honest, however disconnected,
 * crashed or delayed), a channel may only have failed for a reason honest parties
 * cause: a force close, an HTLC expiry, and the peer's error that follows them (once
 * a node's storage was rolled back: any protocol reason, none internal); and
 * neither side has broadcast a commitment the other holds a revocation for (unless
 * it broadcast it before its storage was rolled back, or was rolled back and then
 * itself told to force close or shown a block height: a stale node cannot know
 * before its peer tells it).
 * Anything else aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_harness.h"
#include "ln/wire.h"
#include "test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 64

struct snap {
	hpair p;
	uint8_t *mem[2], *smem[2], *disk[2];
};

static hpair pairs[2];
static struct snap snaps[2];
static bool ready;
static bool hostile;     /* the input injected or corrupted a message */
static bool rolled_back; /* a node came back from its record as it was at the open */
/* Per side: rolled back, then told to force close or shown a block height. Such a
 * node may broadcast its stale commitment before the peer can tell it otherwise;
 * only the peer's answers are excused, not what it does on its own. */
static bool rolled[2], excused[2];
/* Per side: the broadcasts made before its storage was rolled back. The node no longer
 * knows it made them and may revoke their commitments later: what the operator's
 * rollback costs (the node layer detects it, ARCHITECTURE.md), not the channel's fault. */
static size_t forgotten[2];
static int cur;    /* the channel type of this input */
static bool trace; /* FUZZ_TRACE set: each delivery and each operation's outcome to stderr */

/* Abort, saying which check failed (a crash report names the line). */
#define DIE() die(__LINE__)
static void die(int line)
{
	fprintf(stderr, "fuzz_channel: check at line %d failed\n", line);
	abort();
}

static uint8_t *dup(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	if (!q)
		DIE();
	memcpy(q, p, n);
	return q;
}

static void setup(void)
{
	int t;

	for (t = 0; t < 2; t++) {
		hpair *p = &pairs[t];
		hnode *n[2] = {&p->a, &p->b};
		int k;

		h_init(p, 7000 + (uint64_t)t, NULL, NULL);
		p->a.fast_restart = p->b.fast_restart = true;
		if (!h_open(p, t ? AL_LN_CHAN_ANCHORS : AL_LN_CHAN_STATIC_REMOTEKEY, 1000000,
		            400000000, 1000) ||
		    al_t_failures)
			DIE();
		snaps[t].p = *p;
		for (k = 0; k < 2; k++) {
			snaps[t].mem[k] = dup(n[k]->mem, n[k]->mem_len);
			snaps[t].smem[k] = dup(n[k]->signer_mem, al_signer_size());
			snaps[t].disk[k] = dup(n[k]->disk, n[k]->disk_len);
		}
	}
	trace = getenv("FUZZ_TRACE") != NULL;
	ready = true;
}

static void drop_queue(hnode *n)
{
	while (n->n_out) {
		free(n->out[n->out_head].p);
		n->out_head = (n->out_head + 1) % H_MAX_MSGS;
		n->n_out--;
	}
}

/* Back to the snapshot: the same buffers, their contents restored. */
static void restore(int t)
{
	hpair *p = &pairs[t];
	struct snap *s = &snaps[t];
	hnode *n[2] = {&p->a, &p->b}, *sn[2] = {&s->p.a, &s->p.b};
	size_t i;
	int k;

	for (k = 0; k < 2; k++) {
		drop_queue(n[k]);
		for (i = sn[k]->n_bc; i < n[k]->n_bc; i++)
			free(n[k]->bc[i].p);
	}
	*p = s->p;
	for (k = 0; k < 2; k++) {
		memcpy(n[k]->mem, s->mem[k], n[k]->mem_len);
		memcpy(n[k]->signer_mem, s->smem[k], al_signer_size());
		memcpy(n[k]->disk, s->disk[k], n[k]->disk_len);
		al_arena_init(&n[k]->scratch, n[k]->scratch_mem, n[k]->scratch_len);
	}
}

/* Any answer is fine for a command or message here: state is checked at the end. */
static void any(al_err e)
{
	(void)e;
}

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct in *in)
{
	uint8_t b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

/* Two bytes, big-endian (each next() in its own statement: a defined order). */
static uint32_t next16(struct in *in)
{
	uint32_t hi = next(in);

	return hi << 8 | next(in);
}

static void deliver(hpair *p, hnode *from)
{
	hnode *to = from == &p->a ? &p->b : &p->a;
	hmsg m;

	h_drain(p, from);
	if (!from->n_out)
		return;
	m = from->out[from->out_head];
	from->out_head = (from->out_head + 1) % H_MAX_MSGS;
	from->n_out--;
	/* Any answer is fine here (a corrupted message fails to decode, a full queue is
	 * refused): the engine's state is checked at the end. */
	if (to->ch) {
		al_err e = al_chan_recv(to->ch, m.p, m.len);

		if (trace)
			fprintf(stderr, "%s -> %s: type %u: %s (state 0x%x)\n", from->name,
			        to->name, m.len >= 2 ? (unsigned)(m.p[0] << 8 | m.p[1]) : 0u,
			        al_err_name(e), (unsigned)al_chan_state(to->ch));
	}
	free(m.p);
	h_drain(p, to);
}

static void pump(hpair *p)
{
	int i;

	for (i = 0; i < 200 && (p->a.n_out || p->b.n_out || p->a.pending || p->b.pending); i++) {
		deliver(p, &p->a);
		deliver(p, &p->b);
		if (!p->a.persist_stuck)
			h_complete(&p->a);
		if (!p->b.persist_stuck)
			h_complete(&p->b);
		h_drain(p, &p->a);
		h_drain(p, &p->b);
	}
}

static const uint16_t types[16] = {AL_WIRE_UPDATE_ADD_HTLC,
                                   AL_WIRE_UPDATE_FULFILL_HTLC,
                                   AL_WIRE_UPDATE_FAIL_HTLC,
                                   AL_WIRE_UPDATE_FAIL_MALFORMED_HTLC,
                                   AL_WIRE_COMMITMENT_SIGNED,
                                   AL_WIRE_REVOKE_AND_ACK,
                                   AL_WIRE_UPDATE_FEE,
                                   AL_WIRE_CHANNEL_REESTABLISH,
                                   AL_WIRE_SHUTDOWN,
                                   AL_WIRE_CLOSING_SIGNED,
                                   AL_WIRE_CHANNEL_READY,
                                   AL_WIRE_FUNDING_SIGNED,
                                   AL_WIRE_ERROR,
                                   AL_WIRE_WARNING,
                                   AL_WIRE_OPEN_CHANNEL,
                                   AL_WIRE_STFU};

static void inject(hpair *p, hnode *n, struct in *in)
{
	static uint8_t msg[2 + 32 + 256];
	uint16_t type = types[next(in) % 16];
	size_t len = next(in), i;

	msg[0] = (uint8_t)(type >> 8);
	msg[1] = (uint8_t)type;
	if (n->ch)
		al_chan_channel_id(n->ch, msg + 2);
	for (i = 0; i < len; i++)
		msg[2 + 32 + i] = next(in);
	if (n->ch)
		any(al_chan_recv(n->ch, msg, 2 + 32 + len));
	h_drain(p, n);
}

static void resolve(hpair *p, hnode *n, struct in *in)
{
	size_t k = next(in), how = next(in) % 3;
	const hevent *e;
	uint8_t pre[32];

	if (!n->ch || !n->n_ev)
		return;
	e = &n->ev[k % n->n_ev];
	if (e->kind != AL_CHAN_EV_HTLC_RECEIVED)
		return;
	if (how == 0 && h_preimage_of(p, e->hash, pre))
		any(al_chan_fulfill_htlc(n->ch, e->htlc_id, pre));
	else if (how == 1)
		any(al_chan_fail_htlc(n->ch, e->htlc_id, (const uint8_t *)"fuzz", 4));
	else
		any(al_chan_fail_malformed_htlc(n->ch, e->htlc_id, e->hash, 0x8000 | 4));
	h_drain(p, n);
}

/* Each channel on its own: books that add up, a record that round-trips (loaded with
 * a copy of the node's signer as it was after the open). */
static void check_node(hnode *n, const uint8_t *signer_snap)
{
	static uint8_t rec[1 << 20], rec2[1 << 20];
	uint8_t *smem, *cmem;
	al_chan_info i;
	al_signer *s;
	al_chan *c;
	size_t len, len2;

	if (!n->ch || !(al_chan_state(n->ch) & AL_CHAN_ST_FUNDED))
		return;
	al_chan_get_info(n->ch, &i);
	if (i.local_to_local.msat + i.local_to_remote.msat + i.local_htlcs.msat !=
	        i.funding.sat * 1000 ||
	    i.remote_to_local.msat + i.remote_to_remote.msat + i.remote_htlcs.msat !=
	        i.funding.sat * 1000)
		DIE();
	if (al_chan_save(n->ch, rec, sizeof(rec), &len) != AL_OK)
		DIE();
	smem = malloc(al_signer_size());
	cmem = malloc(n->mem_len);
	if (!smem || !cmem)
		DIE();
	memcpy(smem, signer_snap, al_signer_size());
	s = (al_signer *)smem;
	if (al_chan_load(&c, cmem, n->mem_len, &n->env, &n->cfg, s, rec, len) != AL_OK ||
	    al_chan_save(c, rec2, sizeof(rec2), &len2) != AL_OK || len2 != len ||
	    memcmp(rec, rec2, len) != 0)
		DIE();
	al_chan_clear(c);
	free(smem);
	free(cmem);
}

static void op(hpair *p, struct in *in)
{
	uint8_t o = next(in) % 16, side = next(in);
	hnode *n = side & 1 ? &p->b : &p->a;
	uint8_t h[32];
	uint64_t id;

	switch (o) {
	case 0:
	case 1:
		deliver(p, o ? &p->b : &p->a);
		break;
	case 2:
		pump(p);
		break;
	case 3:
		if (n->ch) {
			uint64_t amt = (uint64_t)next16(in) << 8;
			uint32_t cltv;

			amt = (amt | next(in)) * 10;
			cltv = 100 + next(in);
			any(h_add(p, n, 1000 + amt, cltv, &id, h));
		}
		break;
	case 4:
		resolve(p, n, in);
		break;
	case 5:
		if (n->ch)
			any(al_chan_commit(n->ch));
		break;
	case 6:
		if (n->ch)
			any(al_chan_update_fee(n->ch, 250 + next16(in) * 3));
		break;
	case 7:
		if (p->connected)
			h_disconnect(p);
		break;
	case 8:
		if (!p->connected) {
			p->connected = true;
			if (p->a.ch)
				any(al_chan_peer_connected(p->a.ch));
			if (p->b.ch)
				any(al_chan_peer_connected(p->b.ch));
		}
		break;
	case 9:
		hostile = true;
		inject(p, n, in);
		break;
	case 10:
		hostile = true;
		n->corrupt_type = types[next(in) % 8];
		n->corrupt_at = next(in);
		break;
	case 11:
		n->persist_delay = next(in) % 4;
		n->persist_stuck = next(in) % 4 == 0;
		break;
	case 12:
		n->persist_stuck = false;
		/* Side bit 1: the operator rolls its storage back to the open. */
		if (side & 2) {
			memcpy(n->disk, snaps[cur].disk[n == &p->b], snaps[cur].p.a.disk_len);
			n->disk_len =
			    n == &p->b ? snaps[cur].p.b.disk_len : snaps[cur].p.a.disk_len;
			rolled_back = rolled[side & 1] = true;
			forgotten[side & 1] = n->n_bc;
		}
		h_restart(p, n);
		break;
	case 13:
		excused[side & 1] |= rolled[side & 1];
		if (n->ch)
			any(al_chan_block_height(n->ch, next16(in)));
		break;
	case 14:
		if (n->ch)
			any(al_chan_shutdown(n->ch,
			                     (const uint8_t *)"\x00\x14"
			                                      "ffffffffffffffffffff",
			                     22, 1000));
		break;
	default:
		excused[side & 1] |= rolled[side & 1];
		if (n->ch)
			any(al_chan_force_close(n->ch));
		break;
	}
	h_drain(p, &p->a);
	h_drain(p, &p->b);
}

/* Every commitment either side broadcast (from broadcast `from` on) is one the other
 * holds no revocation for. */
static void check_unrevoked(const hnode *n, const hnode *peer, size_t from)
{
	al_signer_status st;
	size_t k;

	if (!peer->ch)
		return;
	al_signer_get_status(peer->signer, &st);
	for (k = from; k < n->n_bc; k++)
		if (n->bc[k].kind == AL_CHAN_TX_COMMITMENT &&
		    n->bc[k].number < st.counterparty_revoked) {
			fprintf(stderr,
			        "%s broadcast commitment %llu, %s holds revocations below %llu\n",
			        n->name, (unsigned long long)n->bc[k].number, peer->name,
			        (unsigned long long)st.counterparty_revoked);
			DIE();
		}
}

/* The reasons two honest nodes fail a channel for. A node whose storage was rolled
 * back is no longer honest: it forgot what it said (a shutdown, a closing fee, a
 * close already agreed, a commitment already revoked) and either side may then fail
 * the channel for any protocol reason, or its signer refuse an old state; what must
 * hold then is safety (the revocation check, the books, the records), and that no
 * failure is an internal one (memory, buffers, records). */
static void check_honest(const hnode *n)
{
	const char *name;
	al_err e;

	if (!n->ch || !(al_chan_state(n->ch) & AL_CHAN_ST_FAILED))
		return;
	e = al_chan_error(n->ch);
	name = al_err_name(e);
	if (rolled_back && e != AL_E_CHAN_RECORD && e != AL_E_CHAN_RECORD_VERSION &&
	    (!strncmp(name, "AL_E_CHAN_", 10) || !strncmp(name, "AL_E_SIGNER_", 12)))
		return;
	if (e != AL_E_CHAN_FORCE_CLOSE && e != AL_E_CHAN_HTLC_TIMEOUT &&
	    e != AL_E_CHAN_PEER_ERROR) {
		fprintf(stderr, "honest failure %s: %s\n", n->name, al_err_name(e));
		DIE();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	hpair *p;
	int t, k;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	t = data[0] & 1;
	in.p++;
	in.n--;
	restore(t);
	p = &pairs[t];
	hostile = false;
	rolled_back = false;
	memset(rolled, 0, sizeof(rolled));
	memset(excused, 0, sizeof(excused));
	memset(forgotten, 0, sizeof(forgotten));
	cur = t;
	for (k = 0; k < MAX_OPS && in.n; k++) {
		op(p, &in);
		if (trace)
			fprintf(stderr, "op %d: A 0x%x %s, B 0x%x %s\n", k,
			        p->a.ch ? (unsigned)al_chan_state(p->a.ch) : 0u,
			        p->a.ch ? al_err_name(al_chan_error(p->a.ch)) : "-",
			        p->b.ch ? (unsigned)al_chan_state(p->b.ch) : 0u,
			        p->b.ch ? al_err_name(al_chan_error(p->b.ch)) : "-");
	}
	p->a.persist_stuck = p->b.persist_stuck = false;
	pump(p);
	check_node(&p->a, snaps[t].smem[0]);
	check_node(&p->b, snaps[t].smem[1]);
	if (!hostile) {
		check_honest(&p->a);
		check_honest(&p->b);
		if (!excused[0])
			check_unrevoked(&p->a, &p->b, forgotten[0]);
		if (!excused[1])
			check_unrevoked(&p->b, &p->a, forgotten[1]);
	}
	/* Every check of the harness (persist before speak, durable records) held. */
	if (al_t_failures)
		DIE();
	return 0;
}
