/* BOLT #1 messages: the generated codecs (wire/bolt.csv and the generator's own test
 * schema wire/test.csv) and the message-level rules of ln/wire.h.
 *
 * Every generated message is written, decoded and written again; every proper
 * prefix of it is decoded and must fail as truncated (or, inside a TLV extension,
 * either end at a record boundary or fail as a cut record). Extensions, ping/pong,
 * unknown types and the init checks follow. */
#include <string.h>

#include "ln/wire.h"
#include "ln/wire_test_gen.h"
#include "test.h"

/* The test schema is not part of the core library: compile it here. */
#include "ln/wire_test_gen.c"

static uint8_t buf[AL_WIRE_MAX_MSG + 64];
static const uint8_t zeros[AL_WIRE_MAX_MSG];

static const uint8_t chain_a[32] = {0x6f, 0xe2, 0x8c, 0x0a, 0xb6, 0xf1, 0xb3, 0x72, 0xc1, 0xa6, 1};
static const uint8_t chain_b[32] = {0x43, 0x49, 0x7f, 0xd7, 0xf8, 0x26, 0x95, 0x71, 0x08, 0xf4, 2};

static size_t write_msg(union al_wire_any *u, uint16_t type)
{
	al_wb w;

	al_wb_init(&w, buf, sizeof(buf));
	al_wire_write_any(&w, type, u);
	CHECK_OK(w.err);
	return w.len;
}

/* Either schema's messages, told apart by the type (the test schema's are custom). */
union any {
	union al_wire_any bolt;
	union al_wtest_any test;
};

static al_err decode(union any *u, const uint8_t *msg, size_t len, uint16_t type)
{
	if (type >= 0x8000)
		return al_wtest_decode_any(&u->test, msg, len);
	return al_wire_decode_any(&u->bolt, msg, len);
}

static void write_back(al_wb *w, const union any *u, uint16_t type)
{
	if (type >= 0x8000)
		al_wtest_write_any(w, type, &u->test);
	else
		al_wire_write_any(w, type, &u->bolt);
}

/* Decode msg, write it again: the same bytes. Every shorter prefix fails: with
 * AL_E_TRUNCATED inside the known fields (`fixed` bytes); inside a TLV extension a
 * prefix either ends on a record boundary (and decodes) or cuts a record. */
static void round_trip(const uint8_t *msg, size_t len, size_t fixed)
{
	uint16_t type = (uint16_t)(msg[0] << 8 | msg[1]);
	uint8_t again[512];
	union any u;
	size_t cut;
	al_err e;
	al_wb w;

	CHECK_OK(decode(&u, msg, len, type));
	al_wb_init(&w, again, sizeof(again));
	write_back(&w, &u, type);
	CHECK(al_wb_ok(&w) && w.len == len && memcmp(again, msg, len) == 0);
	for (cut = 0; cut < len; cut++) {
		e = decode(&u, msg, cut, type);
		if (cut < fixed)
			CHECK_ERR(e, AL_E_TRUNCATED);
		else
			CHECK(e == AL_OK || e == AL_E_TRUNCATED || e == AL_E_TLV_LENGTH);
	}
}

static void test_bolt1_round_trips(void)
{
	static const uint8_t gf[] = {0x02}, f[] = {0x08, 0x22, 0xaa},
	                     addr[] = {1, 127, 0, 0, 1, 0x26, 7};
	static const uint8_t data[] = "bad signature", ign[] = {0, 0, 0};
	uint8_t chains[64];
	union al_wire_any u;
	size_t len;

	memcpy(chains, chain_a, 32);
	memcpy(chains + 32, chain_b, 32);
	memset(&u, 0, sizeof(u));
	u.init = (struct al_wire_init){.gflen = 1, .globalfeatures = gf, .flen = 3, .features = f};
	u.init.tlvs.has_networks = u.init.tlvs.has_remote_addr = true;
	u.init.tlvs.networks.chains = chains;
	u.init.tlvs.networks.num_chains = 2;
	u.init.tlvs.remote_addr.data = addr;
	u.init.tlvs.remote_addr.data_len = sizeof(addr);
	len = write_msg(&u, AL_WIRE_INIT);
	CHECK(len == 2 + 2 + 1 + 2 + 3 + (2 + 64) + (2 + 7));
	CHECK(buf[10] == 1 && buf[11] == 64 && buf[76] == 3 && buf[77] == 7);
	round_trip(buf, len, 10);
	CHECK_OK(al_wire_init_decode(&u.init, buf, len));
	CHECK(u.init.flen == 3 && u.init.features == buf + 7 &&
	      u.init.tlvs.networks.num_chains == 2);
	CHECK(u.init.tlvs.networks.chains == buf + 12 && u.init.tlvs.remote_addr.data_len == 7);

	memset(&u, 0, sizeof(u));
	memset(u.error.channel_id, 0xcd, 32);
	u.error.len = sizeof(data) - 1;
	u.error.data = data;
	len = write_msg(&u, AL_WIRE_ERROR);
	CHECK(len == 2 + 32 + 2 + 13 && buf[1] == 17);
	round_trip(buf, len, len);

	memset(&u, 0, sizeof(u));
	u.warning.len = 0; /* "MAY send an empty `data` field" */
	len = write_msg(&u, AL_WIRE_WARNING);
	CHECK(len == 36 && buf[1] == 1);
	round_trip(buf, len, len);

	u.ping = (struct al_wire_ping){.num_pong_bytes = 4, .byteslen = 3, .ignored = ign};
	len = write_msg(&u, AL_WIRE_PING);
	CHECK(len == 9);
	round_trip(buf, len, len);

	u.pong = (struct al_wire_pong){.byteslen = 3, .ignored = ign};
	len = write_msg(&u, AL_WIRE_PONG);
	round_trip(buf, len, len);
}

static void test_schema_round_trips(void)
{
	static uint8_t keys[2 * 33], sigs[3 * 64], hashes[2 * 32], rest[5];
	struct al_wtest_all_types a, a2;
	struct al_wtest_with_tlvs t, t2;
	uint8_t msg[512];
	size_t len;
	al_wb w;

	memset(keys, 0x02, sizeof(keys));
	memset(sigs, 0x5a, sizeof(sigs));
	memset(&a, 0, sizeof(a));
	a.b = 0xab;
	a.v16 = 0x1234;
	a.v32 = 0x89abcdef;
	a.v64 = 0x0102030405060708;
	a.big = 0x10000; /* 5-byte bigsize */
	memset(a.chain, 1, 32);
	memset(a.cid, 2, 32);
	memset(a.hash, 3, 32);
	memset(a.key, 4, 33);
	memset(a.sig, 5, 64);
	a.scid = 0x0000010000020003;
	memcpy(a.fixed, "xyz", 3);
	a.num_keys = 2;
	a.keys = keys;
	a.num_sigs = 3;
	a.sigs = sigs;
	al_wb_init(&w, msg, sizeof(msg));
	al_wtest_all_types_write(&w, &a);
	len = 2 + 1 + 2 + 4 + 8 + 5 + 3 * 32 + 33 + 64 + 8 + 3 + 2 + 66 + 1 + 192;
	CHECK(al_wb_ok(&w) && w.len == len && msg[0] == 0x80 && msg[1] == 0x01);
	CHECK_OK(al_wtest_all_types_decode(&a2, msg, w.len));
	CHECK(a2.b == a.b && a2.v16 == a.v16 && a2.v32 == a.v32 && a2.v64 == a.v64);
	CHECK(a2.big == a.big && a2.scid == a.scid && memcmp(a2.fixed, "xyz", 3) == 0);
	CHECK(memcmp(a2.key, a.key, 33) == 0 && memcmp(a2.sig, a.sig, 64) == 0);
	CHECK(a2.num_keys == 2 && memcmp(a2.keys, keys, 66) == 0 && a2.num_sigs == 3);
	round_trip(msg, w.len, w.len);

	memset(hashes, 0x33, sizeof(hashes));
	memset(&t, 0, sizeof(t));
	t.tlvs.has_amount = t.tlvs.has_small = t.tlvs.has_mid = true;
	t.tlvs.amount.amount_msat = 0; /* tu64 zero: an empty value */
	t.tlvs.small.v = 0x00ff;
	t.tlvs.mid.v = 0x10000;
	t.tlvs.has_pair = t.tlvs.has_counted = t.tlvs.has_big_type = true;
	t.tlvs.pair.scid = 7;
	t.tlvs.pair.big = 0xfd;
	memset(t.tlvs.pair.key, 3, 33);
	t.tlvs.counted.n = 2;
	t.tlvs.counted.hashes = hashes;
	t.tlvs.counted.rest = rest;
	t.tlvs.counted.rest_len = sizeof(rest);
	t.tlvs.big_type.sigs = sigs;
	t.tlvs.big_type.num_sigs = 3;
	al_wb_init(&w, msg, sizeof(msg));
	al_wtest_with_tlvs_write(&w, &t);
	CHECK(al_wb_ok(&w));
	/* type 0, length 0; type 2, length 1, 0xff; type 4, length 3, 010000 */
	CHECK(memcmp(msg + 34, "\x00\x00\x02\x01\xff\x04\x03\x01\x00\x00", 10) == 0);
	CHECK_OK(al_wtest_with_tlvs_decode(&t2, msg, w.len));
	CHECK(t2.tlvs.has_amount && t2.tlvs.amount.amount_msat == 0 && t2.tlvs.small.v == 0xff);
	CHECK(t2.tlvs.mid.v == 0x10000 && t2.tlvs.pair.big == 0xfd && t2.tlvs.counted.n == 2);
	CHECK(t2.tlvs.counted.rest_len == 5 && t2.tlvs.big_type.num_sigs == 3);
	round_trip(msg, w.len, 34);
}

/* s64, a counted array of a subtype, a flag record. */
static void test_subtypes_and_flags(void)
{
	/* type 8005, s64 -2, two items (tag 7, "ab"; tag 9, empty), flag, value -1 */
	static const char hex[] = "8005"
	                          "fffffffffffffffe"
	                          "0002"
	                          "0700026162"
	                          "090000"
	                          "0200"
	                          "0308ffffffffffffffff";
	struct al_wtest_with_subtype m, m2;
	struct al_wtest_item it;
	const uint8_t *msg;
	uint8_t out[64];
	size_t len;
	al_cur c;
	al_wb w;

	msg = al_t_unhex(hex, &len);
	CHECK_OK(al_wtest_with_subtype_decode(&m, msg, len));
	CHECK(m.delta == -2 && m.num_items == 2 && m.items_size == 8);
	CHECK(m.tlvs.has_flag && m.tlvs.has_value && m.tlvs.value.v == -1);
	al_cur_init(&c, m.items, m.items_size);
	al_wtest_item_read(&c, &it);
	CHECK(al_cur_ok(&c) && it.tag == 7 && it.n == 2 && memcmp(it.data, "ab", 2) == 0);
	al_wtest_item_read(&c, &it);
	CHECK(al_cur_done(&c) == AL_OK && it.tag == 9 && it.n == 0);
	round_trip(msg, len, 20);
	CHECK(al_wtest_fields_len(AL_WTEST_WITH_SUBTYPE, (const union al_wtest_any *)&m) == 20);
	CHECK(al_wtest_tlv_known(AL_WTEST_WITH_SUBTYPE, 2) && !al_wtest_tlv_known(0x8005, 4));

	/* A flag carries no value; an item array that lies about its count. */
	memcpy(out, msg, len);
	out[21] = 1;
	CHECK_ERR(al_wtest_with_subtype_decode(&m2, out, len), AL_E_TLV_VALUE_LENGTH);
	memcpy(out, msg, len);
	out[11] = 3; /* the third item eats the TLV stream and leaves a cut record */
	CHECK_ERR(al_wtest_with_subtype_decode(&m2, out, len), AL_E_TRUNCATED);
	out[11] = 0x50;
	CHECK_ERR(al_wtest_with_subtype_decode(&m2, out, len), AL_E_TRUNCATED);

	/* The writer checks that the span holds exactly num_items elements. */
	m.num_items = 1;
	al_wb_init(&w, out, sizeof(out));
	al_wtest_with_subtype_write(&w, &m);
	CHECK_ERR(w.err, AL_E_ARG);
	m.num_items = 3;
	al_wb_init(&w, out, sizeof(out));
	al_wtest_with_subtype_write(&w, &m);
	CHECK_ERR(w.err, AL_E_ARG);
}

/* Decode hex as the generator's with_tlvs message (channel_id of zeros first). */
static al_err with_tlvs(const char *stream_hex)
{
	static uint8_t msg[256];
	struct al_wtest_with_tlvs t;
	size_t n;
	const uint8_t *s = al_t_unhex(stream_hex, &n);

	memset(msg, 0, 34);
	msg[0] = 0x80;
	msg[1] = 0x03;
	memcpy(msg + 34, s, n);
	return al_wtest_with_tlvs_decode(&t, msg, 34 + n);
}

static void test_tlv_values(void)
{
	CHECK_OK(with_tlvs(""));
	CHECK_OK(with_tlvs("000101"));
	/* BOLT #1: "Leading zeros in truncated integers MUST be omitted" */
	CHECK_ERR(with_tlvs("00020001"), AL_E_TLV_NONMINIMAL);
	CHECK_ERR(with_tlvs("0203010000"), AL_E_TLV_VALUE_LENGTH);
	/* a record shorter or longer than its fields */
	CHECK_ERR(with_tlvs("0703"
	                    "000000"),
	          AL_E_TLV_VALUE_LENGTH);
	CHECK_ERR(with_tlvs("09020002"), AL_E_TLV_VALUE_LENGTH);
	CHECK_OK(with_tlvs("09020000"));
	CHECK_ERR(with_tlvs("fe0001000101ff"), AL_E_TLV_VALUE_LENGTH); /* 1 byte, not x64 */
	CHECK_OK(with_tlvs("fe0001000100"));
	/* bigsize inside a record must be minimal */
	CHECK_ERR(with_tlvs("072c0000000000000007fd00fc"
	                    "030303030303030303030303030303030303030303030303030303030303030303"),
	          AL_E_BIGSIZE_NONCANONICAL);
	CHECK_OK(with_tlvs("0200"));
	CHECK_ERR(with_tlvs("0401010201"), AL_E_TLV_ORDER);
	CHECK_ERR(with_tlvs("0600"), AL_E_TLV_UNKNOWN_EVEN);
	CHECK_OK(with_tlvs("0500"));
}

/* BOLT #1 "Message Extension", for messages that define no TLV stream. */
static void test_extension(void)
{
	uint8_t msg[32] = {0x00, 0x12, 0x00, 0x04, 0x00, 0x00};
	struct al_wire_ping p;
	uint8_t out[32];
	al_wb w;

	CHECK_OK(al_wire_ping_decode(&p, msg, 6));
	memcpy(msg + 6, "\xc9\x01\x2a\xcb\x01\x04", 6);
	CHECK_OK(al_wire_ping_decode(&p, msg, 12));
	CHECK(p.num_pong_bytes == 4 && p.byteslen == 0);
	/* The extension is checked, not kept: writing gives the known fields. */
	al_wb_init(&w, out, sizeof(out));
	al_wire_ping_write(&w, &p);
	CHECK(al_wb_ok(&w) && w.len == 6 && memcmp(out, msg, 6) == 0);
	msg[6] = 0xca;
	CHECK_ERR(al_wire_ping_decode(&p, msg, 9), AL_E_TLV_UNKNOWN_EVEN);
	CHECK_ERR(al_wire_ping_decode(&p, msg, 7), AL_E_TRUNCATED);
	memcpy(msg + 6, "\xc9\x05\x00", 3);
	CHECK_ERR(al_wire_ping_decode(&p, msg, 9), AL_E_TLV_LENGTH);
	memcpy(msg + 6, "\xc9\x01\x00\xc9\x01\x00", 6);
	CHECK_ERR(al_wire_ping_decode(&p, msg, 12), AL_E_TLV_ORDER);
	memcpy(msg + 6, "\xfd\x00\xc9\x00", 4);
	CHECK_ERR(al_wire_ping_decode(&p, msg, 10), AL_E_BIGSIZE_NONCANONICAL);
	/* A message's own length field that overruns it is a truncation. */
	msg[5] = 7;
	CHECK_ERR(al_wire_ping_decode(&p, msg, 10), AL_E_TRUNCATED);
}

static void check_ping(uint16_t num, bool want_reply)
{
	struct al_wire_ping ping = {.num_pong_bytes = num};
	struct al_wire_pong pong;
	bool reply = !want_reply;
	size_t i;
	al_wb w;

	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_wire_ping_reply(&w, &reply, &ping));
	CHECK(reply == want_reply);
	if (!want_reply) {
		CHECK(w.len == 0);
		return;
	}
	CHECK(w.len == 4u + num && w.len <= AL_WIRE_MAX_MSG);
	CHECK_OK(al_wire_pong_decode(&pong, buf, w.len));
	CHECK(pong.byteslen == num && al_wire_pong_answers(&pong, num));
	CHECK(!al_wire_pong_answers(&pong, (uint16_t)(num + 1)));
	for (i = 0; i < num; i++)
		if (pong.ignored[i] != 0)
			break;
	CHECK(i == num);
}

static void test_ping_pong(void)
{
	struct al_wire_ping ping = {.num_pong_bytes = 100};
	struct al_wire_pong big = {.byteslen = 65532, .ignored = zeros};
	bool reply = true;
	uint8_t small[50];
	al_wb w;

	check_ping(0, true);
	check_ping(1, true);
	check_ping(1000, true);
	/* "if `num_pong_bytes` is less than 65532: MUST respond" */
	check_ping(65531, true);
	/* "otherwise (`num_pong_bytes` is **not** less than 65532): MUST ignore the `ping`" */
	check_ping(65532, false);
	check_ping(65535, false);
	CHECK(!al_wire_pong_answers(&big, 65532));

	al_wb_init(&w, small, sizeof(small));
	CHECK_ERR(al_wire_ping_reply(&w, &reply, &ping), AL_E_BUFSIZE);
	CHECK(!reply);

	/* A message cannot exceed 65535 bytes: 6 + 65530 is one too many. */
	al_wb_init(&w, buf, sizeof(buf));
	ping = (struct al_wire_ping){.byteslen = 65530, .ignored = zeros};
	al_wire_ping_write(&w, &ping);
	CHECK_ERR(w.err, AL_E_TOO_LARGE);
	ping.byteslen = 65529;
	al_wb_init(&w, buf, sizeof(buf));
	al_wire_ping_write(&w, &ping);
	CHECK_OK(w.err);
	CHECK(w.len == AL_WIRE_MAX_MSG);
}

static void test_dispatch(void)
{
	static const uint8_t odd[] = {0x80, 0x01, 1, 2, 3}, even[] = {0x80, 0x00};
	static const uint8_t odd_low[] = {0x00, 0x63}, even_low[] = {0x00, 0x62, 0};
	static const uint8_t init_short[] = {0x00, 0x10, 0x00};
	static const uint8_t ping[] = {0x00, 0x12, 0x00, 0x01, 0x00, 0x00};
	union al_wire_any u;
	al_wire_msg m;
	uint16_t type;
	al_wb w;

	/* "upon receiving a message of _odd_, unknown type: MUST ignore" */
	CHECK_OK(al_wire_read(&m, odd, sizeof(odd)));
	CHECK(m.ignored && m.type == 0x8001);
	CHECK_OK(al_wire_read(&m, odd_low, sizeof(odd_low)));
	CHECK(m.ignored);
	/* "upon receiving a message of _even_, unknown type: MUST close the connection" */
	CHECK_ERR(al_wire_read(&m, even, sizeof(even)), AL_E_WIRE_UNKNOWN_EVEN);
	CHECK_ERR(al_wire_read(&m, even_low, sizeof(even_low)), AL_E_WIRE_UNKNOWN_EVEN);
	/* "upon receiving a known message with insufficient length for the contents" */
	CHECK_ERR(al_wire_read(&m, init_short, sizeof(init_short)), AL_E_TRUNCATED);
	CHECK_ERR(al_wire_read(&m, ping, 0), AL_E_WIRE_TOO_SHORT);
	CHECK_ERR(al_wire_read(&m, ping, 1), AL_E_WIRE_TOO_SHORT);
	CHECK_ERR(al_wire_peek_type(&type, ping, 1), AL_E_WIRE_TOO_SHORT);
	CHECK_OK(al_wire_read(&m, ping, sizeof(ping)));
	CHECK(!m.ignored && m.type == AL_WIRE_PING && m.u.ping.num_pong_bytes == 1);

	/* A decoder given another message's bytes */
	CHECK_ERR(al_wire_pong_decode(&u.pong, ping, sizeof(ping)), AL_E_WIRE_TYPE);
	CHECK_ERR(al_wire_decode_any(&u, odd, sizeof(odd)), AL_E_WIRE_TYPE);
	CHECK_ERR(al_wire_decode_any(&u, odd, 1), AL_E_TRUNCATED);
	CHECK(strcmp(al_wire_msgtype_name(AL_WIRE_WARNING), "warning") == 0);
	CHECK(al_wire_msgtype_name(0x8001) == NULL);

	/* Writers refuse a missing array and an unknown type. */
	memset(&u, 0, sizeof(u));
	u.error.len = 1;
	al_wb_init(&w, buf, sizeof(buf));
	al_wire_error_write(&w, &u.error);
	CHECK_ERR(w.err, AL_E_ARG);
	al_wb_init(&w, buf, sizeof(buf));
	al_wire_write_any(&w, 0x8001, &u);
	CHECK_ERR(w.err, AL_E_WIRE_TYPE);
	/* A dry run sizes a message. */
	u.error.len = 0;
	al_wb_init(&w, NULL, 0);
	al_wire_error_write(&w, &u.error);
	CHECK(w.len == 36);
}

static void test_init_checks(void)
{
	static uint8_t msg[256], fbuf[8], tiny[1];
	al_features local, neg;
	struct al_wire_init m;
	unsigned bad = 0;
	uint8_t chains[64];
	al_wb w;

	al_features_clear(&local);
	CHECK_OK(al_features_set(&local, AL_FEATURE_OPT(AL_FEATURE_VAR_ONION_OPTIN)));
	CHECK_OK(al_features_set(&local, AL_FEATURE_REQ(AL_FEATURE_STATIC_REMOTEKEY)));
	CHECK_OK(al_features_set(&local, AL_FEATURE_OPT(AL_FEATURE_PAYMENT_SECRET)));
	memset(&m, 0, sizeof(m));
	CHECK_ERR(al_wire_init_set_features(&m, tiny, sizeof(tiny), &local), AL_E_BUFSIZE);
	CHECK_OK(al_wire_init_set_features(&m, fbuf, sizeof(fbuf), &local));
	CHECK(m.gflen == 0 && m.flen == 2 && fbuf[0] == 0x92 && fbuf[1] == 0x00);
	memcpy(chains, chain_b, 32);
	memcpy(chains + 32, chain_a, 32);
	m.tlvs.has_networks = true;
	m.tlvs.networks.chains = chains;
	m.tlvs.networks.num_chains = 2;
	al_wb_init(&w, msg, sizeof(msg));
	al_wire_init_write(&w, &m);
	CHECK_OK(w.err);

	/* Our own init, received back: everything we offered is negotiated. */
	CHECK_OK(al_wire_init_decode(&m, msg, w.len));
	CHECK_OK(al_wire_init_accept(&neg, &bad, &local, chain_a, &m));
	CHECK(al_features_offered(&neg, AL_FEATURE_PAYMENT_SECRET));
	CHECK(al_features_required(&neg, AL_FEATURE_STATIC_REMOTEKEY));
	m.tlvs.networks.num_chains = 1;
	CHECK_ERR(al_wire_init_check_chain(&m, chain_a), AL_E_WIRE_CHAIN);
	CHECK_OK(al_wire_init_check_chain(&m, chain_b));
	m.tlvs.networks.num_chains = 0;
	CHECK_ERR(al_wire_init_accept(&neg, &bad, &local, chain_a, &m), AL_E_WIRE_CHAIN);
	m.tlvs.has_networks = false;
	CHECK_OK(al_wire_init_check_chain(&m, chain_a));

	/* globalfeatures and features are ORed: bit 12 from the first, 9 from the other. */
	m.gflen = 2;
	m.globalfeatures = (const uint8_t *)"\x10\x00";
	m.flen = 2;
	m.features = (const uint8_t *)"\x02\x00";
	CHECK_OK(al_wire_init_accept(&neg, &bad, &local, chain_a, &m));
	CHECK(al_features_required(&neg, AL_FEATURE_STATIC_REMOTEKEY));
	CHECK(al_features_offered(&neg, AL_FEATURE_VAR_ONION_OPTIN));
	CHECK(!al_features_offered(&neg, AL_FEATURE_PAYMENT_SECRET));
	/* An even bit we do not know (bit 10 via globalfeatures) */
	m.gflen = 2;
	m.globalfeatures = (const uint8_t *)"\x04\x00";
	CHECK_ERR(al_wire_init_accept(&neg, &bad, &local, chain_a, &m), AL_E_WIRE_FEATURES);
	CHECK(bad == 10);

	/* networks: a length not a multiple of 32 */
	memcpy(msg, "\x00\x10\x00\x00\x00\x00\x01\x21", 8);
	memset(msg + 8, 0, 33);
	CHECK_ERR(al_wire_init_decode(&m, msg, 8 + 33), AL_E_TLV_VALUE_LENGTH);
	msg[7] = 0x20;
	CHECK_OK(al_wire_init_decode(&m, msg, 8 + 32));
	CHECK(m.tlvs.has_networks && m.tlvs.networks.num_chains == 1);
}

int main(void)
{
	test_bolt1_round_trips();
	test_schema_round_trips();
	test_tlv_values();
	test_subtypes_and_flags();
	test_extension();
	test_ping_pong();
	test_dispatch();
	test_init_checks();
	return al_t_finish();
}
