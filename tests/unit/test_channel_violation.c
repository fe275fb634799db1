/* A peer that breaks BOLT #2: every violation is a sticky channel error on the
 * receiving side, an `error` sent back, the latest commitment broadcast (and valid)
 * once the funding exists, nothing changed by the offending message, and every later
 * message ignored and command refused. Opening violations fail the channel before any
 * money is at stake. */
#include <stdlib.h>
#include <string.h>

#include "chan_harness.h"
#include "crypto/hash.h"
#include "ln/wire.h"
#include "test.h"

static uint8_t buf[AL_WIRE_MAX_MSG];
static union al_wire_any u;

/* Deliver until the head of `from`'s queue is a message of `type`; take it off. */
static size_t take(hpair *p, hnode *from, uint16_t type, uint8_t *out)
{
	hmsg *m;
	size_t len;

	for (;;) {
		h_drain(p, &p->a);
		h_drain(p, &p->b);
		if (from->n_out) {
			m = &from->out[from->out_head];
			if ((uint16_t)(m->p[0] << 8 | m->p[1]) == type) {
				len = m->len;
				memcpy(out, m->p, len);
				free(m->p);
				from->out_head = (from->out_head + 1) % H_MAX_MSGS;
				from->n_out--;
				return len;
			}
		}
		if (!h_deliver_one(p, from) && !h_deliver_one(p, from == &p->a ? &p->b : &p->a)) {
			CHECK(!"message never sent");
			return 0;
		}
	}
}

static size_t encode(uint16_t type)
{
	al_wb w;

	al_wb_init(&w, buf, sizeof(buf));
	al_wire_write_any(&w, type, &u);
	CHECK(al_wb_ok(&w));
	return w.len;
}

/* `n` got a violation: sticky error `want`, an error sent, the latest commitment
 * broadcast and valid (if funded), nothing more accepted. */
static void expect_failed(hpair *p, hnode *n, al_err want, bool funded)
{
	uint64_t id;
	uint8_t h[32];

	h_drain(p, n);
	CHECK(al_chan_state(n->ch) & AL_CHAN_ST_FAILED);
	CHECK_ERR(al_chan_error(n->ch), want);
	/* An `error` goes back, unless the peer's error was the reason. */
	CHECK(want == AL_E_CHAN_PEER_ERROR || n->sent_by_type[AL_WIRE_ERROR] >= 1);
	CHECK(h_find_event(n, AL_CHAN_EV_FAILED, 0) &&
	      h_find_event(n, AL_CHAN_EV_FAILED, 0)->err == want);
	if (funded) {
		CHECK(n->n_bc >= 1 && n->bc[n->n_bc - 1].kind == AL_CHAN_TX_COMMITMENT);
		if (n->n_bc)
			CHECK(h_verify_funding_spend(p, n, &n->bc[n->n_bc - 1]));
		CHECK_ERR(h_add(p, n, 1000000, 200, &id, h), AL_E_CHAN_FAILED);
		CHECK_ERR(al_chan_commit(n->ch), AL_E_CHAN_FAILED);
	} else {
		CHECK(n->n_bc == 0 || n->bc[n->n_bc - 1].kind == AL_CHAN_TX_FUNDING);
	}
}

static void open(hpair *p, uint64_t seed)
{
	h_init(p, seed, NULL, NULL);
	CHECK(h_open(p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, 300000000, 2000));
}

static void channel_id(hpair *p, uint8_t out[32])
{
	al_chan_channel_id(p->a.ch, out);
}

/* --- updates ------------------------------------------------------------------------ */

static void add_msg(hpair *p, uint64_t id, uint64_t msat, uint32_t cltv)
{
	memset(&u, 0, sizeof(u));
	channel_id(p, u.update_add_htlc.channel_id);
	u.update_add_htlc.id = id;
	u.update_add_htlc.amount_msat = msat;
	u.update_add_htlc.cltv_expiry = cltv;
	memset(u.update_add_htlc.payment_hash, 7, 32);
}

static void bad_add(uint64_t id, uint64_t msat, uint32_t cltv, al_err want)
{
	al_chan_info before, after;
	hpair p;
	size_t len;

	open(&p, 100 + id + msat % 97);
	al_chan_get_info(p.b.ch, &before);
	add_msg(&p, id, msat, cltv);
	len = encode(AL_WIRE_UPDATE_ADD_HTLC);
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	expect_failed(&p, &p.b, want, true);
	al_chan_get_info(p.b.ch, &after);
	CHECK(after.htlcs_in == 0 && after.local_number == before.local_number);
	/* Ignored from now on. */
	add_msg(&p, 0, 1000000, 200);
	len = encode(AL_WIRE_UPDATE_ADD_HTLC);
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	al_chan_get_info(p.b.ch, &after);
	CHECK(after.htlcs_in == 0);
	h_free(&p);
}

static void test_bad_adds(void)
{
	/* "receiving an `amount_msat` equal to 0, OR less than its own
	 * `htlc_minimum_msat`" */
	bad_add(0, 0, 200, AL_E_CHAN_HTLC_AMOUNT);
	/* "if sending node sets `cltv_expiry` to greater or equal to 500000000" */
	bad_add(0, 1000000, 500000000, AL_E_CHAN_HTLC_CLTV);
	/* ids start at 0 and go up by one */
	bad_add(5, 1000000, 200, AL_E_CHAN_HTLC_ID);
	/* A's balance is 700000 sat and its reserve 10000: more than it has. */
	bad_add(0, 695000000, 200, AL_E_CHAN_RESERVE);
}

/* One more HTLC than max_accepted_htlcs (B's is 12). */
static void test_too_many(void)
{
	size_t len;
	uint64_t i;
	hpair p;

	open(&p, 200);
	for (i = 0; i < 12; i++) {
		add_msg(&p, i, 1000000, 200);
		len = encode(AL_WIRE_UPDATE_ADD_HTLC);
		CHECK_OK(al_chan_recv(p.b.ch, buf, len));
		CHECK(!(al_chan_state(p.b.ch) & AL_CHAN_ST_FAILED));
	}
	add_msg(&p, 12, 1000000, 200);
	len = encode(AL_WIRE_UPDATE_ADD_HTLC);
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	expect_failed(&p, &p.b, AL_E_CHAN_HTLC_COUNT, true);
	h_free(&p);
}

/* A commitment_signed with a flipped byte in its signature, or in an HTLC signature,
 * or without one of its HTLC signatures. */
static void test_bad_commit(int how)
{
	static const al_err want[] = {AL_E_CHAN_COMMIT_SIG, AL_E_CHAN_HTLC_SIG,
	                              AL_E_CHAN_HTLC_SIG_COUNT};
	al_chan_info before, after;
	uint8_t h[32];
	uint64_t id;
	size_t len;
	hpair p;

	open(&p, 300 + (uint64_t)how);
	CHECK_OK(h_add(&p, &p.a, 20000000, 200, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	len = take(&p, &p.a, AL_WIRE_COMMITMENT_SIGNED, buf);
	al_chan_get_info(p.b.ch, &before);
	if (how == 0)
		buf[2 + 32 + 10] ^= 1;
	else if (how == 1)
		buf[2 + 32 + 64 + 2 + 10] ^= 1;
	else {
		CHECK_OK(al_wire_decode_any(&u, buf, len));
		CHECK(u.commitment_signed.num_htlcs == 1);
		u.commitment_signed.num_htlcs = 0;
		len = encode(AL_WIRE_COMMITMENT_SIGNED);
	}
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	expect_failed(&p, &p.b, want[how], true);
	al_chan_get_info(p.b.ch, &after);
	/* The bad commitment was not taken: B's broadcast is its previous one. */
	CHECK(after.local_number == before.local_number);
	/* A hears the error, fails and broadcasts its own latest commitment. */
	h_pump(&p);
	expect_failed(&p, &p.a, AL_E_CHAN_PEER_ERROR, true);
	CHECK(p.a.sent_by_type[AL_WIRE_ERROR] == 0);
	h_free(&p);
}

/* revoke_and_ack with a wrong secret, and one nobody asked for. */
static void test_bad_revoke(void)
{
	uint8_t h[32], old[256];
	size_t len, old_len;
	uint64_t id;
	hpair p;

	open(&p, 400);
	CHECK_OK(h_add(&p, &p.a, 20000000, 200, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	len = take(&p, &p.b, AL_WIRE_REVOKE_AND_ACK, buf);
	memcpy(old, buf, len);
	old_len = len;
	buf[2 + 32 + 5] ^= 1;
	CHECK_OK(al_chan_recv(p.a.ch, buf, len));
	/* "if `per_commitment_secret` ... does not generate the previous
	 * `per_commitment_point`: MUST send an `error` and fail the channel." */
	expect_failed(&p, &p.a, AL_E_CHAN_REVOCATION, true);
	h_free(&p);

	open(&p, 401);
	CHECK_OK(h_add(&p, &p.a, 20000000, 200, &id, h));
	CHECK_OK(al_chan_commit(p.a.ch));
	len = take(&p, &p.b, AL_WIRE_REVOKE_AND_ACK, buf);
	memcpy(old, buf, len);
	CHECK_OK(al_chan_recv(p.a.ch, buf, len));
	h_pump(&p);
	CHECK(!(al_chan_state(p.a.ch) & AL_CHAN_ST_FAILED));
	/* The same revoke_and_ack again: nothing is waiting for one. */
	CHECK_OK(al_chan_recv(p.a.ch, old, old_len));
	expect_failed(&p, &p.a, AL_E_CHAN_UNEXPECTED, true);
	h_free(&p);
}

/* Removals: a wrong preimage, an unknown id, malformed without BADONION. */
static void test_bad_removals(void)
{
	uint8_t h[32], cid[32];
	uint64_t id;
	size_t len;
	hpair p;
	int how;

	for (how = 0; how < 3; how++) {
		open(&p, 500 + (uint64_t)how);
		CHECK_OK(h_add(&p, &p.a, 20000000, 200, &id, h));
		CHECK_OK(al_chan_commit(p.a.ch));
		h_pump(&p);
		channel_id(&p, cid);
		memset(&u, 0, sizeof(u));
		if (how == 0) {
			memcpy(u.update_fulfill_htlc.channel_id, cid, 32);
			u.update_fulfill_htlc.id = id;
			memset(u.update_fulfill_htlc.payment_preimage, 9, 32);
			len = encode(AL_WIRE_UPDATE_FULFILL_HTLC);
		} else if (how == 1) {
			memcpy(u.update_fail_htlc.channel_id, cid, 32);
			u.update_fail_htlc.id = id + 1;
			len = encode(AL_WIRE_UPDATE_FAIL_HTLC);
		} else {
			memcpy(u.update_fail_malformed_htlc.channel_id, cid, 32);
			u.update_fail_malformed_htlc.id = id;
			u.update_fail_malformed_htlc.failure_code = 0x4000 | 5;
			len = encode(AL_WIRE_UPDATE_FAIL_MALFORMED_HTLC);
		}
		CHECK_OK(al_chan_recv(p.a.ch, buf, len));
		expect_failed(&p, &p.a,
		              how == 0   ? AL_E_CHAN_PREIMAGE
		              : how == 1 ? AL_E_CHAN_UNKNOWN_HTLC
		                         : AL_E_CHAN_BADONION,
		              true);
		/* A's commitment holds the HTLC: its HTLC-timeout is still valid. */
		CHECK(h_verify(&p, &p.a) == 2);
		h_free(&p);
	}
}

/* update_fee: from the fundee, too low, too high, unaffordable. */
static void bad_fee(uint32_t rate, bool from_fundee, uint64_t push, al_err want)
{
	hnode *victim;
	size_t len;
	hpair p;

	h_init(&p, 600 + rate, NULL, NULL);
	CHECK(h_open(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, push, 2000));
	victim = from_fundee ? &p.a : &p.b;
	memset(&u, 0, sizeof(u));
	channel_id(&p, u.update_fee.channel_id);
	u.update_fee.feerate_per_kw = rate;
	len = encode(AL_WIRE_UPDATE_FEE);
	CHECK_OK(al_chan_recv(victim->ch, buf, len));
	expect_failed(&p, victim, want, true);
	h_free(&p);
}

static void test_bad_fees(void)
{
	/* "if the sender is not responsible for paying the Bitcoin fee" */
	bad_fee(3000, true, 300000000, AL_E_CHAN_NOT_FUNDER);
	/* "if the `update_fee` is too low for timely processing, OR is unreasonably
	 * large" */
	bad_fee(200, false, 300000000, AL_E_CHAN_FEERATE);
	bad_fee(1000000, false, 300000000, AL_E_CHAN_FEERATE);
	/* "if the sender cannot afford the new fee rate": A has 15000 sat left. */
	bad_fee(100000, false, 985000000, AL_E_CHAN_RESERVE);
}

/* Disconnect and connect both sides again, delivering nothing: the test hands each
 * message over itself (take). */
static void reconnect_held(hpair *p)
{
	h_disconnect(p);
	p->connected = true;
	CHECK_OK(al_chan_peer_connected(p->a.ch));
	CHECK_OK(al_chan_peer_connected(p->b.ch));
}

/* channel_reestablish with a wrong next_commitment_number, or a message before it. */
static void test_bad_reestablish(void)
{
	uint8_t h[32];
	uint64_t id;
	size_t len;
	hpair p;

	open(&p, 700);
	reconnect_held(&p);
	len = take(&p, &p.a, AL_WIRE_CHANNEL_REESTABLISH, buf);
	CHECK_OK(al_wire_decode_any(&u, buf, len));
	u.channel_reestablish.next_commitment_number += 3;
	len = encode(AL_WIRE_CHANNEL_REESTABLISH);
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	expect_failed(&p, &p.b, AL_E_CHAN_REESTABLISH, true);
	h_free(&p);

	open(&p, 701);
	h_disconnect(&p);
	p.connected = true;
	CHECK_OK(al_chan_peer_connected(p.b.ch));
	add_msg(&p, 0, 1000000, 200);
	len = encode(AL_WIRE_UPDATE_ADD_HTLC);
	/* "MUST wait to receive the other node's `channel_reestablish`" */
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	expect_failed(&p, &p.b, AL_E_CHAN_UNEXPECTED, true);
	CHECK_ERR(h_add(&p, &p.a, 1000000, 200, &id, h), AL_E_CHAN_NOT_CONNECTED);
	h_free(&p);
}

/* A shutdown retransmitted after a reconnection that names another script: the peer
 * forgot the one it sent (rolled back) or lies; either way not the close agreed to. */
static void test_changed_shutdown(void)
{
	static const uint8_t first[22] = {0x00, 0x14, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	                                  1,    1,    1, 1, 1, 1, 1, 1, 1, 1, 1};
	uint8_t other[22];
	size_t len;
	hpair p;

	open(&p, 702);
	CHECK_OK(al_chan_shutdown(p.a.ch, first, sizeof(first), 1000));
	len = take(&p, &p.a, AL_WIRE_SHUTDOWN, buf);
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	CHECK(al_chan_state(p.b.ch) & AL_CHAN_ST_SHUTDOWN_RECV);
	reconnect_held(&p);
	len = take(&p, &p.a, AL_WIRE_SHUTDOWN, buf);
	CHECK_OK(al_wire_decode_any(&u, buf, len));
	/* The same script again is the retransmission BOLT #2 asks for. */
	CHECK(u.shutdown.len == sizeof(first) && !memcmp(u.shutdown.scriptpubkey, first, 22));
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	CHECK(!(al_chan_state(p.b.ch) & AL_CHAN_ST_FAILED));
	memcpy(other, first, sizeof(other));
	other[21] ^= 1;
	u.shutdown.scriptpubkey = other;
	len = encode(AL_WIRE_SHUTDOWN);
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	expect_failed(&p, &p.b, AL_E_CHAN_SHUTDOWN_CHANGED, true);
	h_free(&p);
}

/* --- opening -------------------------------------------------------------------------- */

enum {
	M_CHAIN,
	M_NO_TYPE,
	M_ZEROCONF_TYPE,
	M_DUST,
	M_RESERVE_DUST,
	M_RESERVE_BIG,
	M_DELAY,
	M_MAX_HTLCS,
	M_PUSH,
	M_FEERATE,
	M_FUNDING,
	M_PUBKEY,
	M_N
};

static void bad_open(int how)
{
	static const al_err want[M_N + 1] = {
	    AL_E_CHAN_CHAIN,         AL_E_CHAN_TYPE,           AL_E_CHAN_TYPE,
	    AL_E_CHAN_DUST_LIMIT,    AL_E_CHAN_RESERVE_PARAM,  AL_E_CHAN_RESERVE_PARAM,
	    AL_E_CHAN_TO_SELF_DELAY, AL_E_CHAN_MAX_HTLCS,      AL_E_CHAN_PUSH,
	    AL_E_CHAN_FEERATE,       AL_E_CHAN_FUNDING_AMOUNT, AL_E_PUBKEY};
	struct al_wire_open_channel *m = &u.open_channel;
	static const uint8_t zeroconf_type[] = {0x04, 0x00, 0x00, 0x00, 0x10, 0x00};
	al_chan_accept_params ap;
	size_t len;
	hpair p;

	h_init(&p, 800 + (uint64_t)how, NULL, NULL);
	CHECK(h_open_unconfirmed(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, 0, 2000));
	/* A's open_channel, replayed mutated to a fresh B. */
	memset(&ap, 0, sizeof(ap));
	memset(p.b.mem, 0, p.b.mem_len);
	CHECK_OK(al_signer_init(&p.b.signer, p.b.signer_mem, al_signer_size(), p.b.env.secp,
	                        &p.b.root, p.b.index + 1));
	CHECK_OK(al_chan_init_inbound(&p.b.ch, p.b.mem, p.b.mem_len, &p.b.env, &p.b.cfg, p.b.signer,
	                              &ap));
	p.b.n_bc = 0;
	p.b.sent_by_type[AL_WIRE_ERROR] = 0;
	memset(&u, 0, sizeof(u));
	m->chain_hash[0] = 0x06;
	memcpy(m->chain_hash, p.b.cfg.chain_hash, 32);
	memset(m->temporary_channel_id, 3, 32);
	m->funding_satoshis = 1000000;
	m->dust_limit_satoshis = 546;
	m->max_htlc_value_in_flight_msat = 1000000000;
	m->channel_reserve_satoshis = 10000;
	m->htlc_minimum_msat = 1;
	m->feerate_per_kw = 2500;
	m->to_self_delay = 144;
	m->max_accepted_htlcs = 30;
	{
		al_ln_basepoints bp;
		al_pubkey f, pt;

		al_signer_basepoints(p.a.signer, &bp, &f);
		al_pubkey_serialize(p.b.env.secp, m->funding_pubkey, &f);
		al_pubkey_serialize(p.b.env.secp, m->revocation_basepoint, &bp.revocation);
		al_pubkey_serialize(p.b.env.secp, m->payment_basepoint, &bp.payment);
		al_pubkey_serialize(p.b.env.secp, m->delayed_payment_basepoint,
		                    &bp.delayed_payment);
		al_pubkey_serialize(p.b.env.secp, m->htlc_basepoint, &bp.htlc);
		CHECK_OK(al_signer_holder_point(p.a.signer, 0, &pt));
		al_pubkey_serialize(p.b.env.secp, m->first_per_commitment_point, &pt);
	}
	m->tlvs.has_upfront_shutdown_script = true;
	m->tlvs.has_channel_type = true;
	m->tlvs.channel_type.type = (const uint8_t *)"\x10\x00";
	m->tlvs.channel_type.type_len = 2;
	switch (how) {
	case M_CHAIN:
		m->chain_hash[5] ^= 1;
		break;
	case M_NO_TYPE:
		m->tlvs.has_channel_type = false;
		break;
	case M_ZEROCONF_TYPE: /* bits 50 and 12 */
		m->tlvs.channel_type.type = zeroconf_type;
		m->tlvs.channel_type.type_len = sizeof(zeroconf_type);
		break;
	case M_DUST:
		m->dust_limit_satoshis = 353;
		break;
	case M_RESERVE_DUST:
		m->channel_reserve_satoshis = 500;
		break;
	case M_RESERVE_BIG: /* 3% of the funding, B accepts at most 2% */
		m->channel_reserve_satoshis = 30000;
		break;
	case M_DELAY:
		m->to_self_delay = 2017;
		break;
	case M_MAX_HTLCS:
		m->max_accepted_htlcs = 484;
		break;
	case M_PUSH:
		m->push_msat = 1000000001;
		break;
	case M_FEERATE:
		m->feerate_per_kw = 252;
		break;
	case M_FUNDING:
		m->funding_satoshis = 1ULL << 40;
		break;
	case M_PUBKEY:
		m->htlc_basepoint[0] = 4;
		break;
	default:
		break;
	}
	len = encode(AL_WIRE_OPEN_CHANNEL);
	p.connected = true;
	CHECK_OK(al_chan_recv(p.b.ch, buf, len));
	if (how == M_N) {
		/* Unmutated, the message is accepted: the test's message is sound. */
		h_drain(&p, &p.b);
		CHECK(!(al_chan_state(p.b.ch) & AL_CHAN_ST_FAILED));
		CHECK(p.b.sent_by_type[AL_WIRE_ACCEPT_CHANNEL] == 2);
	} else {
		expect_failed(&p, &p.b, want[how], false);
	}
	h_free(&p);
}

static void test_bad_funding_sigs(void)
{
	size_t len;
	hpair p;

	/* funding_created with a bad signature: B fails before it exists. */
	h_init(&p, 900, NULL, NULL);
	p.a.corrupt_type = AL_WIRE_FUNDING_CREATED;
	p.a.corrupt_at = 2 + 32 + 32 + 2 + 7;
	CHECK(!h_open_unconfirmed(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, 0, 2000));
	expect_failed(&p, &p.b, AL_E_CHAN_COMMIT_SIG, false);
	/* A never broadcast its funding transaction. */
	CHECK(p.a.n_bc == 0);
	h_free(&p);

	/* funding_signed with a bad signature: A fails, never broadcasts the funding. */
	h_init(&p, 901, NULL, NULL);
	p.b.corrupt_type = AL_WIRE_FUNDING_SIGNED;
	p.b.corrupt_at = 2 + 32 + 9;
	CHECK(!h_open_unconfirmed(&p, AL_LN_CHAN_STATIC_REMOTEKEY, 1000000, 0, 2000));
	expect_failed(&p, &p.a, AL_E_CHAN_COMMIT_SIG, false);
	CHECK(p.a.n_bc == 0);
	(void)len;
	h_free(&p);
}

int main(void)
{
	int i;

	test_bad_adds();
	test_too_many();
	for (i = 0; i < 3; i++)
		test_bad_commit(i);
	test_bad_revoke();
	test_bad_removals();
	test_bad_fees();
	test_bad_reestablish();
	test_changed_shutdown();
	for (i = 0; i <= M_N; i++)
		bad_open(i);
	test_bad_funding_sigs();
	return al_t_finish();
}
