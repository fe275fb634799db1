/* BOLT #8 transport engine: handshakes between two engines fed in every chunking,
 * each way a peer's bytes can be wrong (truncated, garbage, bad version, bad key, bad
 * MAC in each act and after the handshake), refused and sticky errors, the 65535-byte
 * limit, and 2,500 messages each way across several key rotations. */
#include <string.h>

#include "ln/noise.h"
#include "test.h"

static al_noise ini, res;
static al_privkey ls_i, ls_r, e_i, e_r;
static al_pubkey pub_i, pub_r;

static void keys(void)
{
	memset(ls_i.k, 0x11, 32);
	memset(ls_r.k, 0x21, 32);
	memset(e_i.k, 0x12, 32);
	memset(e_r.k, 0x22, 32);
	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pub_i, &ls_i));
	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pub_r, &ls_r));
}

static void start(void)
{
	CHECK_OK(al_noise_init_initiator(&ini, al_t_secp(), &ls_i, &pub_r, &e_i));
	CHECK_OK(al_noise_init_responder(&res, al_t_secp(), &ls_r, &e_r));
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* Move up to `chunk` bytes from a's sendrec into b's recvrec; bytes moved. */
static size_t move(al_noise *a, al_noise *b, size_t chunk)
{
	size_t have, room, n;
	const uint8_t *src = al_noise_sendrec_buf(a, &have);
	uint8_t *dst = al_noise_recvrec_buf(b, &room);

	if (!src || !dst)
		return 0;
	n = have < room ? have : room;
	n = n < chunk ? n : chunk;
	memcpy(dst, src, n);
	CHECK_OK(al_noise_sendrec_ack(a, n));
	/* A failure stays in b, for the caller to check. */
	if (al_noise_recvrec_ack(b, n) != AL_OK)
		return 0;
	return n;
}

static void pump(size_t chunk)
{
	while (move(&ini, &res, chunk) + move(&res, &ini, chunk))
		;
}

static void check_established(void)
{
	al_pubkey got;

	CHECK_OK(al_noise_error(&ini, NULL));
	CHECK_OK(al_noise_error(&res, NULL));
	CHECK(al_noise_current_phase(&ini) == AL_NOISE_TRANSPORT);
	CHECK(al_noise_current_phase(&res) == AL_NOISE_TRANSPORT);
	CHECK(al_noise_state(&ini) == (AL_NOISE_SENDAPP | AL_NOISE_RECVREC));
	CHECK(al_noise_state(&res) == (AL_NOISE_SENDAPP | AL_NOISE_RECVREC));
	CHECK_MEM(ini.sk, res.rk, 32);
	CHECK_MEM(ini.rk, res.sk, 32);
	CHECK_OK(al_noise_remote_pubkey(&res, &got));
	CHECK(al_pubkey_eq(al_t_secp(), &got, &pub_i));
	CHECK_OK(al_noise_remote_pubkey(&ini, &got));
	CHECK(al_pubkey_eq(al_t_secp(), &got, &pub_r));
	/* Handshake secrets are gone once the session keys exist. */
	CHECK(all_zero(&ini.e, sizeof(ini.e)) && all_zero(&ini.ls, sizeof(ini.ls)));
	CHECK(all_zero(&res.e, sizeof(res.e)) && all_zero(&res.ls, sizeof(res.ls)));
	CHECK(all_zero(ini.temp_k, 32) && all_zero(res.temp_k, 32));
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* Send one message of `len` bytes from a to b in `chunk`-sized pieces. */
static void roundtrip(al_noise *a, al_noise *b, size_t len, unsigned seed, size_t chunk)
{
	static uint8_t want[AL_NOISE_MAX_MSG];
	size_t room, got;
	uint8_t *m = al_noise_sendapp_buf(a, &room);
	const uint8_t *p;

	CHECK(m && room == AL_NOISE_MAX_MSG);
	if (!m)
		return;
	fill(want, len, seed);
	memcpy(m, want, len);
	CHECK_OK(al_noise_sendapp_ack(a, len));
	CHECK(al_noise_state(a) & AL_NOISE_SENDREC);
	while (move(a, b, chunk))
		;
	p = al_noise_recvapp_buf(b, &got);
	CHECK(p && got == len);
	if (p && got == len)
		CHECK(memcmp(p, want, len) == 0);
	CHECK_OK(al_noise_recvapp_ack(b));
}

static void test_handshake_chunks(void)
{
	static const size_t chunks[] = {1, 2, 7, 13, 17, 49, 50, 51, 65, 66, 67, 4096};
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		start();
		CHECK(al_noise_state(&ini) == AL_NOISE_SENDREC);
		CHECK(al_noise_state(&res) == AL_NOISE_RECVREC);
		pump(chunks[i]);
		check_established();
		roundtrip(&ini, &res, 5, (unsigned)i, chunks[i]);
		roundtrip(&res, &ini, 0, (unsigned)i, chunks[i]);
		roundtrip(&res, &ini, 1000 + i * 33, (unsigned)i, chunks[i]);
	}
	al_noise_clear(&ini);
	al_noise_clear(&res);
	CHECK(al_noise_state(&ini) == AL_NOISE_CLOSED);
	CHECK(all_zero(ini.sk, 32) && all_zero(ini.sck, 32));
}

/* The engine failed with `want` in `act`, is closed and has wiped its keys. */
static void check_failed(al_noise *c, al_err want, al_noise_phase act)
{
	al_noise_phase where;
	size_t len;

	CHECK_ERR(al_noise_error(c, &where), want);
	CHECK(where == act);
	CHECK(al_noise_state(c) == AL_NOISE_CLOSED);
	CHECK(al_noise_recvrec_buf(c, &len) == NULL && len == 0);
	CHECK(al_noise_sendrec_buf(c, &len) == NULL && len == 0);
	CHECK(al_noise_sendapp_buf(c, &len) == NULL);
	CHECK(all_zero(c->ck, 32) && all_zero(c->sk, 32) && all_zero(c->rk, 32));
	CHECK(all_zero(&c->e, sizeof(c->e)) && all_zero(&c->ls, sizeof(c->ls)));
	/* Sticky: every later call answers the same, and the phase stays recorded. */
	CHECK_ERR(al_noise_recvrec_ack(c, 1), want);
	CHECK_ERR(al_noise_sendrec_ack(c, 1), want);
	CHECK_ERR(al_noise_sendapp_ack(c, 1), want);
	CHECK_ERR(al_noise_recvapp_ack(c), want);
	CHECK_ERR(al_noise_recvrec_eof(c), want);
	CHECK_ERR(al_noise_error(c, &where), want);
	CHECK(where == act);
}

/* Deliver `len` bytes to c as they arrive; the engine's answer to the last ack. */
static al_err deliver(al_noise *c, const uint8_t *b, size_t len)
{
	al_err e = AL_OK;

	while (len && e == AL_OK) {
		size_t room, n;
		uint8_t *dst = al_noise_recvrec_buf(c, &room);

		if (!dst)
			return al_noise_error(c, NULL) != AL_OK ? al_noise_error(c, NULL)
			                                        : AL_E_NOISE_STATE;
		n = len < room ? len : room;
		memcpy(dst, b, n);
		e = al_noise_recvrec_ack(c, n);
		b += n;
		len -= n;
	}
	return e;
}

/* Take the act the engine has ready. */
static size_t take(al_noise *c, uint8_t out[AL_NOISE_ACT3_LEN])
{
	size_t len;
	const uint8_t *p = al_noise_sendrec_buf(c, &len);

	CHECK(p && len <= AL_NOISE_ACT3_LEN);
	if (!p || len > AL_NOISE_ACT3_LEN)
		return 0;
	memcpy(out, p, len);
	CHECK_OK(al_noise_sendrec_ack(c, len));
	return len;
}

/* Run the handshake with byte `at` of act `act` (1..3) xored with `xor` and its last
 * `cut` bytes dropped (the stream then ends), and check the receiver fails in that act
 * with `want`. */
static void bad_act(int act, size_t at, uint8_t xor, size_t cut, al_err want)
{
	uint8_t m[AL_NOISE_ACT3_LEN];
	al_noise *from = &ini, *to = &res;
	int i;

	start();
	for (i = 1; i <= act; i++) {
		size_t n = take(from, m);
		al_noise *t = from;

		if (i == act) {
			m[at] ^= xor;
			n -= cut;
		}
		(void)deliver(to, m, n);
		from = to;
		to = t;
	}
	/* The receiver of the bad act is now `from`. */
	if (cut)
		CHECK_ERR(al_noise_recvrec_eof(from), want);
	check_failed(from, want, (al_noise_phase)act);
}

static void test_bad_acts(void)
{
	int act;

	for (act = 1; act <= 3; act++) {
		size_t len = act == 3 ? AL_NOISE_ACT3_LEN : AL_NOISE_ACT1_LEN;

		/* "If v is an unrecognized handshake version" */
		bad_act(act, 0, 0x01, 0, AL_E_NOISE_VERSION);
		bad_act(act, 0, 0x80, 0, AL_E_NOISE_VERSION);
		/* the last tag ("If the MAC check in this operation fails") */
		bad_act(act, len - 1, 0x01, 0, AL_E_NOISE_MAC);
		bad_act(act, len - 16, 0x80, 0, AL_E_NOISE_MAC);
		/* "Read _exactly_ 50 bytes": one short, or nothing, then the end */
		bad_act(act, 0, 0, 1, AL_E_TRUNCATED);
		bad_act(act, 0, 0, len, AL_E_TRUNCATED);
	}
	/* A key byte changed: Acts One and Two carry e in clear (an invalid prefix, or a
	 * different point and so a different ECDH and a bad MAC); Act Three's is under
	 * the AEAD. */
	bad_act(1, 1, 0x06, 0, AL_E_NOISE_PUBKEY);
	bad_act(2, 1, 0x07, 0, AL_E_NOISE_PUBKEY);
	bad_act(1, 1, 0x01, 0, AL_E_NOISE_MAC);
	bad_act(2, 1, 0x01, 0, AL_E_NOISE_MAC);
	bad_act(3, 5, 0x01, 0, AL_E_NOISE_MAC);
}

static void test_garbage(void)
{
	static const char http[] =
	    "GET / HTTP/1.1\r\nHost: example.com\r\n\r\nmore bytes after that...";
	uint8_t zeros[AL_NOISE_ACT1_LEN] = {0};

	start();
	CHECK_ERR(deliver(&res, (const uint8_t *)http, sizeof(http) - 1), AL_E_NOISE_VERSION);
	check_failed(&res, AL_E_NOISE_VERSION, AL_NOISE_ACT1);
	/* Version 0 and then a key that is no point. */
	start();
	CHECK_ERR(deliver(&res, zeros, sizeof(zeros)), AL_E_NOISE_PUBKEY);
	check_failed(&res, AL_E_NOISE_PUBKEY, AL_NOISE_ACT1);
	/* The initiator gets bytes before Act One has gone out: not taken. */
	start();
	{
		size_t room;
		CHECK(al_noise_recvrec_buf(&ini, &room) == NULL && room == 0);
		CHECK_ERR(al_noise_recvrec_ack(&ini, 1), AL_E_NOISE_STATE);
		check_failed(&ini, AL_E_NOISE_STATE, AL_NOISE_ACT2);
	}
}

static void established(void)
{
	start();
	pump(4096);
	check_established();
}

/* A frame from ini to res with one byte flipped at `at`. */
static void bad_frame(size_t len, size_t at)
{
	uint8_t frame[AL_NOISE_HDR_LEN + 64 + AL_NOISE_MAC_LEN];
	size_t room, n;
	uint8_t *m;
	const uint8_t *p;

	established();
	roundtrip(&ini, &res, 10, 1, 3);
	m = al_noise_sendapp_buf(&ini, &room);
	fill(m, len, 2);
	CHECK_OK(al_noise_sendapp_ack(&ini, len));
	p = al_noise_sendrec_buf(&ini, &n);
	CHECK(n == AL_NOISE_HDR_LEN + len + AL_NOISE_MAC_LEN && n <= sizeof(frame));
	memcpy(frame, p, n);
	CHECK_OK(al_noise_sendrec_ack(&ini, n));
	frame[at] ^= 0x20;
	CHECK_ERR(deliver(&res, frame, n), AL_E_NOISE_MAC);
	check_failed(&res, AL_E_NOISE_MAC, AL_NOISE_TRANSPORT);
	CHECK(al_noise_recvapp_buf(&res, &room) == NULL);
}

static void test_transport_errors(void)
{
	size_t room, n;
	uint8_t frame[AL_NOISE_HDR_LEN + 8 + AL_NOISE_MAC_LEN];
	const uint8_t *p;
	uint8_t *m;

	bad_frame(40, 0);                     /* encrypted length */
	bad_frame(40, 17);                    /* its MAC */
	bad_frame(40, AL_NOISE_HDR_LEN + 3);  /* body */
	bad_frame(40, AL_NOISE_HDR_LEN + 45); /* body MAC */

	/* The stream ends inside a header, inside a body, or right after a header. */
	for (n = 1; n < sizeof(frame); n += 9) {
		established();
		m = al_noise_sendapp_buf(&ini, &room);
		memset(m, 0xab, 8);
		CHECK_OK(al_noise_sendapp_ack(&ini, 8));
		p = al_noise_sendrec_buf(&ini, &room);
		memcpy(frame, p, sizeof(frame));
		CHECK_OK(deliver(&res, frame, n));
		CHECK_ERR(al_noise_recvrec_eof(&res), AL_E_TRUNCATED);
		check_failed(&res, AL_E_TRUNCATED, AL_NOISE_TRANSPORT);
	}
	established();
	CHECK_OK(deliver(&res, frame, AL_NOISE_HDR_LEN));
	CHECK_ERR(al_noise_recvrec_eof(&res), AL_E_TRUNCATED);

	/* Between frames the end is clean; a message already received stays readable. */
	established();
	roundtrip(&ini, &res, 3, 3, 1);
	CHECK_OK(al_noise_recvrec_eof(&res));
	CHECK(al_noise_state(&res) == AL_NOISE_CLOSED);
	CHECK_OK(al_noise_error(&res, NULL));
	CHECK(all_zero(res.rk, 32) && all_zero(res.sk, 32));
	established();
	m = al_noise_sendapp_buf(&ini, &room);
	memset(m, 0x5c, 8);
	CHECK_OK(al_noise_sendapp_ack(&ini, 8));
	while (move(&ini, &res, 100))
		;
	CHECK_OK(al_noise_recvrec_eof(&res));
	CHECK(al_noise_state(&res) == (AL_NOISE_CLOSED | AL_NOISE_RECVAPP));
	p = al_noise_recvapp_buf(&res, &room);
	CHECK(p && room == 8 && p[7] == 0x5c);
	CHECK_OK(al_noise_recvapp_ack(&res));
	CHECK(al_noise_state(&res) == AL_NOISE_CLOSED);
}

static void test_limits_and_misuse(void)
{
	size_t room, n;
	uint8_t *m;
	const uint8_t *p;
	al_privkey zero = {{0}};
	al_pubkey other;

	/* Sending before the handshake is done is refused, and changes nothing. */
	start();
	CHECK(al_noise_sendapp_buf(&ini, &room) == NULL && room == 0);
	CHECK_ERR(al_noise_sendapp_ack(&ini, 5), AL_E_NOISE_STATE);
	CHECK_ERR(al_noise_recvapp_ack(&res), AL_E_NOISE_STATE);
	CHECK_ERR(al_noise_remote_pubkey(&res, &other), AL_E_NOISE_STATE);
	CHECK_OK(al_noise_recvrec_ack(&res, 0));
	CHECK_OK(al_noise_sendrec_ack(&res, 0));
	pump(50);
	check_established();

	/* BOLT #8: "The *maximum* size of _any_ Lightning message MUST NOT exceed `65535`
	 * bytes.": a longer one is refused; the session goes on. */
	m = al_noise_sendapp_buf(&ini, &room);
	CHECK(m && room == AL_NOISE_MAX_MSG);
	CHECK_ERR(al_noise_sendapp_ack(&ini, AL_NOISE_MAX_MSG + 1), AL_E_NOISE_LENGTH);
	CHECK_ERR(al_noise_sendapp_ack(&ini, (size_t)-1), AL_E_NOISE_LENGTH);
	CHECK_OK(al_noise_error(&ini, NULL));
	CHECK(al_noise_state(&ini) == (AL_NOISE_SENDAPP | AL_NOISE_RECVREC));
	roundtrip(&ini, &res, AL_NOISE_MAX_MSG, 9, 1000);
	roundtrip(&res, &ini, AL_NOISE_MAX_MSG, 8, AL_NOISE_MAX_FRAME);

	/* One frame at a time: no sendapp until the previous frame left. */
	CHECK(al_noise_sendapp_buf(&ini, &room) != NULL);
	CHECK_OK(al_noise_sendapp_ack(&ini, 1));
	CHECK(al_noise_sendapp_buf(&ini, &room) == NULL);
	CHECK_ERR(al_noise_sendapp_ack(&ini, 1), AL_E_NOISE_STATE);
	p = al_noise_sendrec_buf(&ini, &n);
	CHECK(p && n == AL_NOISE_HDR_LEN + 1 + AL_NOISE_MAC_LEN);
	/* Acknowledging more than offered loses the stream: sticky. */
	CHECK_ERR(al_noise_sendrec_ack(&ini, n + 1), AL_E_NOISE_STATE);
	check_failed(&ini, AL_E_NOISE_STATE, AL_NOISE_TRANSPORT);
	CHECK(al_noise_recvrec_buf(&res, &room) != NULL && room == AL_NOISE_HDR_LEN);
	CHECK_ERR(al_noise_recvrec_ack(&res, room + 1), AL_E_NOISE_STATE);
	check_failed(&res, AL_E_NOISE_STATE, AL_NOISE_TRANSPORT);

	/* Invalid keys. */
	CHECK_ERR(al_noise_init_initiator(&ini, al_t_secp(), &zero, &pub_r, &e_i), AL_E_PRIVKEY);
	check_failed(&ini, AL_E_PRIVKEY, AL_NOISE_ACT1);
	CHECK_ERR(al_noise_init_initiator(&ini, al_t_secp(), &ls_i, &pub_r, &zero), AL_E_PRIVKEY);
	CHECK_ERR(al_noise_init_responder(&res, al_t_secp(), &zero, &e_r), AL_E_PRIVKEY);
	CHECK_ERR(al_noise_init_responder(&res, al_t_secp(), &ls_r, &zero), AL_E_PRIVKEY);
	check_failed(&res, AL_E_PRIVKEY, AL_NOISE_ACT1);

	/* The wrong responder key: the responder cannot check Act One's MAC. */
	CHECK_OK(al_noise_init_initiator(&ini, al_t_secp(), &ls_i, &pub_i, &e_i));
	CHECK_OK(al_noise_init_responder(&res, al_t_secp(), &ls_r, &e_r));
	pump(7);
	check_failed(&res, AL_E_NOISE_MAC, AL_NOISE_ACT1);
}

/* BOLT #8: "A key is to be rotated after a party sends or decrypts 1000 messages
 * with it.": 2,500 messages each way use 5,000 nonces per key, five rotations. */
static void test_many_messages(void)
{
	uint8_t sk0[32], rk0[32];
	unsigned i;

	established();
	memcpy(sk0, ini.sk, 32);
	memcpy(rk0, ini.rk, 32);
	for (i = 0; i < 2500; i++) {
		roundtrip(&ini, &res, (i * 37) % 300, i, 4096);
		roundtrip(&res, &ini, (i * 53) % 700, i + 1, i % 3 ? 4096 : 19);
		if (i == 499 || i == 999) {
			CHECK(ini.sn == 0 && ini.rn == 0 && res.sn == 0 && res.rn == 0);
		}
	}
	CHECK(ini.sn == 0 && res.rn == 0);
	CHECK(memcmp(ini.sk, sk0, 32) != 0 && memcmp(ini.rk, rk0, 32) != 0);
	CHECK_MEM(ini.sk, res.rk, 32);
	CHECK_MEM(ini.sck, res.rck, 32);
	CHECK_MEM(ini.rk, res.sk, 32);
	CHECK_OK(al_noise_error(&ini, NULL));
	CHECK_OK(al_noise_error(&res, NULL));
}

int main(void)
{
	keys();
	test_handshake_chunks();
	test_bad_acts();
	test_garbage();
	test_transport_errors();
	test_limits_and_misuse();
	test_many_messages();
	al_noise_clear(&ini);
	al_noise_clear(&res);
	return al_t_finish();
}
