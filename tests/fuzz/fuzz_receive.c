/* Fuzz the final node's HTLC decisions (ln/receive.h) with sequences of offers and
 * clock ticks over four payment hashes. Checked: every HTLC accepted for a decision
 * gets exactly one, and one offered again while it waits is refused; a fulfilment carries the
 * invoice's preimage and a set's parts are fulfilled together, only when what they carry reaches
 * the set's total; nothing remains waiting once the clock has passed every timeout. */
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "ln/receive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IDS 512

static al_recv r;
static uint8_t decided[MAX_IDS], offered[MAX_IDS];
static uint64_t fwd[MAX_IDS], total_of[MAX_IDS];
static al_recv_invoice invs[4];

static void drain(void)
{
	al_recv_decision d;
	uint64_t sum = 0, total = 0, paid = 0, n = 0;
	uint8_t hash[32];

	while (al_recv_next(&r, &d)) {
		if (d.id >= MAX_IDS || !offered[d.id] || decided[d.id])
			abort();
		decided[d.id] = 1;
		if (d.kind == AL_RECV_FULFILL) {
			size_t k;

			for (k = 0; k < 4; k++)
				if (memcmp(d.preimage, invs[k].preimage, 32) == 0)
					break;
			al_sha256(hash, d.preimage, 32);
			if (k == 4 || memcmp(hash, d.payment_hash, 32) != 0)
				abort();
			/* A run of fulfilments of one set: the same total paid on each, and
			 * their forwards add up to it, at least what the senders promised. */
			if (n > 0 && d.total_msat != paid)
				abort();
			paid = d.total_msat;
			sum += fwd[d.id];
			total = total_of[d.id];
			n++;
			if (sum > paid)
				abort();
			if (sum == paid) {
				if (sum < total)
					abort();
				sum = 0, n = 0;
			}
		} else if (d.kind != AL_RECV_FAIL || d.failure_len < 2) {
			abort();
		}
	}
	if (n != 0)
		abort(); /* a set fulfilled in part */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 0, id = 0;
	size_t i = 0, k;

	al_recv_init(&r);
	memset(decided, 0, sizeof(decided));
	memset(offered, 0, sizeof(offered));
	for (k = 0; k < 4; k++) {
		memset(&invs[k], 0, sizeof(invs[k]));
		invs[k].known = k != 3;
		memset(invs[k].preimage, (int)(k + 1), 32);
		memset(invs[k].payment_secret, 0x30 + (int)k, 32);
		invs[k].has_amount = k != 2;
		invs[k].amount_msat = 10000 * (k + 1);
		invs[k].min_final_cltv_expiry_delta = 18;
		invs[k].expires_at = 2000;
	}
	while (i + 6 <= size && id < MAX_IDS) {
		const uint8_t *b = data + i;

		i += 6;
		if (b[0] & 0x80) {
			now += (uint64_t)b[1] * 1000;
			al_recv_tick(&r, now);
			drain();
			continue;
		}
		al_recv_htlc h;
		size_t which = b[0] & 3;

		memset(&h, 0, sizeof(h));
		/* Sometimes the same HTLC again while it waits in its set (the engine cannot
		 * know HTLCs it decided; the channel offers each once). */
		h.id = (b[0] & 0x40) && id > 0 && !decided[id - 1] ? id - 1 : id;
		al_sha256(h.payment_hash, invs[which].preimage, 32);
		h.payload.amt_to_forward = (uint64_t)b[1] * 500;
		h.amount_msat = h.payload.amt_to_forward + (b[2] & 3) - 1;
		h.payload.total_msat = (uint64_t)b[3] * 1000;
		h.payload.outgoing_cltv_value = 1000 + (b[4] & 63);
		h.cltv_expiry = h.payload.outgoing_cltv_value + (b[4] >> 6) - 1;
		h.payload.has_payment_data = !(b[5] & 1);
		memcpy(h.payload.payment_secret, invs[(b[5] >> 1) & 3].payment_secret, 32);
		al_err e = al_recv_offer(&r, &h, &invs[which], 1000, now, 1000 + (b[5] >> 3) * 50);
		if (e == AL_OK) {
			if (h.id != id || offered[h.id])
				abort(); /* a repeat accepted */
			offered[h.id] = 1;
			fwd[h.id] = h.payload.amt_to_forward;
			total_of[h.id] = h.payload.total_msat;
			id++;
		} else if (e != AL_E_ARG && e != AL_E_RECV_FULL) {
			abort();
		}
		drain();
	}
	al_recv_tick(&r, now + AL_RECV_MPP_TIMEOUT_MS);
	drain();
	if (al_recv_waiting(&r) != 0)
		abort();
	for (k = 0; k < id; k++)
		if (!decided[k])
			abort();
	return 0;
}
