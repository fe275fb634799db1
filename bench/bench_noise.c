/* BOLT #8 transport benchmarks (see bench_noise.h). */
#include "bench_noise.h"

#include <string.h>
#include <time.h>

#include "ln/noise.h"

#define NOISE_MIN_SECONDS 0.3
#define NOISE_ROUNDS      3

static al_noise ini, res;

struct hs_ctx {
	const al_secp *secp;
	al_privkey ls_i, ls_r, e_i, e_r;
	al_pubkey pub_r;
};

static int move(al_noise *a, al_noise *b)
{
	size_t have, room, n;
	const uint8_t *src = al_noise_sendrec_buf(a, &have);
	uint8_t *dst = al_noise_recvrec_buf(b, &room);

	if (!src || !dst)
		return 0;
	n = have < room ? have : room;
	memcpy(dst, src, n);
	if (al_noise_sendrec_ack(a, n) != AL_OK || al_noise_recvrec_ack(b, n) != AL_OK)
		return -1;
	return 1;
}

static int op_handshake(void *arg)
{
	struct hs_ctx *h = arg;
	int a, b;

	if (al_noise_init_initiator(&ini, h->secp, &h->ls_i, &h->pub_r, &h->e_i) != AL_OK ||
	    al_noise_init_responder(&res, h->secp, &h->ls_r, &h->e_r) != AL_OK)
		return 1;
	do {
		a = move(&ini, &res);
		b = move(&res, &ini);
		if (a < 0 || b < 0)
			return 1;
	} while (a || b);
	return al_noise_current_phase(&ini) != AL_NOISE_TRANSPORT ||
	       al_noise_current_phase(&res) != AL_NOISE_TRANSPORT;
}

static void hs_keys(struct hs_ctx *h, const al_secp *secp)
{
	memset(h, 0, sizeof(*h));
	h->secp = secp;
	memset(h->ls_i.k, 0x11, 32);
	memset(h->ls_r.k, 0x21, 32);
	memset(h->e_i.k, 0x12, 32);
	memset(h->e_r.k, 0x22, 32);
}

double bench_noise_handshakes(const al_secp *secp, double (*rate)(int (*op)(void *), void *, long))
{
	struct hs_ctx h;
	double r;

	hs_keys(&h, secp);
	if (al_pubkey_from_privkey(secp, &h.pub_r, &h.ls_r) != AL_OK || op_handshake(&h))
		return -1;
	r = rate(op_handshake, &h, 16);
	al_noise_clear(&ini);
	al_noise_clear(&res);
	return r;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seal one message of `len` bytes and hand the frame to the "wire". The plaintext is
 * whatever the buffer holds, as an application writes its message there in place. */
static int send_one(size_t len)
{
	size_t room, n;

	if (!al_noise_sendapp_buf(&ini, &room) || al_noise_sendapp_ack(&ini, len) != AL_OK ||
	    !al_noise_sendrec_buf(&ini, &n) || al_noise_sendrec_ack(&ini, n) != AL_OK)
		return 1;
	return 0;
}

int bench_noise_throughput(const al_secp *secp, size_t msglen, double *mb_per_s)
{
	struct hs_ctx h;
	double best = 0;
	int round;

	*mb_per_s = 0;
	hs_keys(&h, secp);
	if (msglen > AL_NOISE_MAX_MSG || al_pubkey_from_privkey(secp, &h.pub_r, &h.ls_r) != AL_OK ||
	    op_handshake(&h))
		return -1;
	for (round = 0; round < NOISE_ROUNDS; round++) {
		double start = now(), elapsed;
		long done = 0, i;

		do {
			for (i = 0; i < 64; i++)
				if (send_one(msglen))
					return -1;
			done += 64;
			elapsed = now() - start;
		} while (elapsed < NOISE_MIN_SECONDS);
		if ((double)done * (double)msglen / elapsed > best)
			best = (double)done * (double)msglen / elapsed;
	}
	*mb_per_s = best / 1e6;
	al_noise_clear(&ini);
	al_noise_clear(&res);
	return 0;
}
