/* Fuzz the BOLT #8 responder: a fixed static key (the spec's responder test keys, so
 * the spec's Act One, Act Three and message frames are valid seeds) fed arbitrary
 * bytes.
 *
 * Input byte 0 picks a mode:
 *  - even: raw mode. Byte 1 sets the chunk size; the rest is the wire, fed in chunks
 *    while Act Two and decrypted messages are drained; the stream then ends.
 *  - odd: session mode. A real initiator completes the handshake; then each 3-byte
 *    operation sends a message intact, corrupted at one byte, cut short, or injects
 *    raw bytes, and every outcome is predicted exactly (a flipped byte is a MAC
 *    failure, a cut a truncation).
 * In both modes the engine must never crash, report only errors a peer can cause, and
 * once failed stay failed with the same error and phase (sticky), closed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secp.h"
#include "ln/noise.h"

static al_noise res, ini;
static al_secp *secp;
static al_privkey ls_r, e_r, ls_i, e_i;
static al_pubkey pub_r;
static uint8_t msg[AL_NOISE_MAX_MSG];

static void setup(void)
{
	static _Alignas(16) uint8_t mem[1 << 12];
	static const uint8_t seed[32] = {1};

	if (secp)
		return;
	if (al_secp_size() > sizeof(mem) || al_secp_create(&secp, mem, sizeof(mem), seed) != AL_OK)
		abort();
	memset(ls_r.k, 0x21, 32);
	memset(e_r.k, 0x22, 32);
	memset(ls_i.k, 0x11, 32);
	memset(e_i.k, 0x12, 32);
	if (al_pubkey_from_privkey(secp, &pub_r, &ls_r) != AL_OK)
		abort();
}

/* Errors a peer can cause, and the stickiness of the first one seen. */
static void check(const al_noise *c, al_err *seen, al_noise_phase *seen_at)
{
	al_noise_phase at;
	al_err e = al_noise_error(c, &at);
	size_t n;

	if (*seen != AL_OK && (e != *seen || at != *seen_at))
		abort();
	if (e == AL_OK)
		return;
	if (e != AL_E_NOISE_VERSION && e != AL_E_NOISE_PUBKEY && e != AL_E_NOISE_MAC &&
	    e != AL_E_TRUNCATED)
		abort();
	if (al_noise_state(c) != AL_NOISE_CLOSED || al_noise_recvrec_buf((al_noise *)c, &n) ||
	    al_noise_sendrec_buf(c, &n) || al_noise_sendapp_buf((al_noise *)c, &n))
		abort();
	*seen = e;
	*seen_at = at;
}

/* Drain what the responder has for the wire or the application. */
static void drain(al_noise *c)
{
	size_t n;
	const uint8_t *p = al_noise_sendrec_buf(c, &n);

	if (p && al_noise_sendrec_ack(c, n) != AL_OK)
		abort();
	p = al_noise_recvapp_buf(c, &n);
	if (p && (n > AL_NOISE_MAX_MSG || al_noise_recvapp_ack(c) != AL_OK))
		abort();
}

static void raw_mode(const uint8_t *data, size_t len)
{
	size_t chunk = len ? (size_t)data[0] % 70 + 1 : 1;
	al_err seen = AL_OK;
	al_noise_phase at = 0;

	if (al_noise_init_responder(&res, secp, &ls_r, &e_r) != AL_OK)
		abort();
	data += len ? 1 : 0;
	len -= len ? 1 : 0;
	while (len) {
		size_t room, n;
		uint8_t *dst;

		drain(&res);
		dst = al_noise_recvrec_buf(&res, &room);
		if (!dst)
			break;
		n = len < room ? len : room;
		n = n < chunk ? n : chunk;
		memcpy(dst, data, n);
		if (al_noise_recvrec_ack(&res, n) != al_noise_error(&res, NULL))
			abort();
		check(&res, &seen, &at);
		data += n;
		len -= n;
	}
	if (al_noise_recvrec_eof(&res) != seen && seen != AL_OK)
		abort();
	check(&res, &seen, &at);
	if (al_noise_recvrec_ack(&res, 1) != (seen != AL_OK ? seen : AL_E_NOISE_STATE))
		abort();
	check(&res, &seen, &at);
	al_noise_clear(&res);
}

/* Move every byte between the two engines. */
static void pump(al_noise *a, al_noise *b)
{
	size_t have, room, n;
	const uint8_t *src;
	uint8_t *dst;

	while ((src = al_noise_sendrec_buf(a, &have)) && (dst = al_noise_recvrec_buf(b, &room))) {
		n = have < room ? have : room;
		memcpy(dst, src, n);
		if (al_noise_sendrec_ack(a, n) != AL_OK || al_noise_recvrec_ack(b, n) != AL_OK)
			abort();
	}
}

/* Deliver a frame to the responder; the result of the last ack. */
static al_err deliver(const uint8_t *b, size_t len)
{
	al_err e = AL_OK;

	while (len && e == AL_OK) {
		size_t room, n;
		uint8_t *dst = al_noise_recvrec_buf(&res, &room);

		if (!dst)
			abort();
		n = len < room ? len : room;
		memcpy(dst, b, n);
		e = al_noise_recvrec_ack(&res, n);
		b += n;
		len -= n;
	}
	return e;
}

/* The initiator seals a message of `len` bytes; the frame stays in its sendrec. */
static uint8_t *seal(size_t len, uint8_t tag, size_t *flen)
{
	size_t room;
	uint8_t *m = al_noise_sendapp_buf(&ini, &room);

	if (!m || al_noise_sendapp_ack(&ini, AL_NOISE_MAX_MSG + 1) != AL_E_NOISE_LENGTH)
		abort();
	memset(m, tag, len);
	memset(msg, tag, len);
	if (al_noise_sendapp_ack(&ini, len) != AL_OK)
		abort();
	return (uint8_t *)al_noise_sendrec_buf(&ini, flen);
}

static void session_mode(const uint8_t *data, size_t len)
{
	al_err seen = AL_OK, e;
	al_noise_phase at = 0;
	size_t flen, n;
	uint8_t *frame;
	const uint8_t *p;

	if (al_noise_init_initiator(&ini, secp, &ls_i, &pub_r, &e_i) != AL_OK ||
	    al_noise_init_responder(&res, secp, &ls_r, &e_r) != AL_OK)
		abort();
	pump(&ini, &res);
	pump(&res, &ini);
	pump(&ini, &res);
	if (al_noise_current_phase(&res) != AL_NOISE_TRANSPORT)
		abort();
	for (; len >= 3; data += 3, len -= 3) {
		unsigned op = data[0] & 3;
		size_t mlen = data[0] & 4 ? (size_t)data[1] * 257 : data[1];

		if (op == 3) { /* raw bytes: the rest of the input */
			(void)deliver(data + 1, len - 1);
			check(&res, &seen, &at);
			break;
		}
		frame = seal(mlen, data[2], &flen);
		if (op == 1) { /* one byte flipped: BOLT #8 MAC check */
			frame[data[2] % flen] ^= (uint8_t)(1u << (data[0] >> 5));
			e = deliver(frame, flen);
			if (e != AL_E_NOISE_MAC)
				abort();
			check(&res, &seen, &at);
			break;
		}
		if (op == 2) { /* the stream ends inside the frame, or cleanly before it */
			n = (size_t)data[2] * 257 % flen;
			if (deliver(frame, n) != AL_OK ||
			    al_noise_recvrec_eof(&res) != (n ? AL_E_TRUNCATED : AL_OK))
				abort();
			check(&res, &seen, &at);
			break;
		}
		if (deliver(frame, flen) != AL_OK || al_noise_sendrec_ack(&ini, flen) != AL_OK)
			abort();
		p = al_noise_recvapp_buf(&res, &n);
		if (!p || n != mlen || memcmp(p, msg, n) != 0 ||
		    al_noise_recvapp_ack(&res) != AL_OK)
			abort();
	}
	al_noise_clear(&ini);
	al_noise_clear(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size == 0)
		return 0;
	if (data[0] & 1)
		session_mode(data + 1, size - 1);
	else
		raw_mode(data + 1, size - 1);
	return 0;
}
