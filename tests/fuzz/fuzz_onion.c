/* Fuzz BOLT 4 onion peeling and failure attribution.
 *
 * First byte, mode 0: the rest is a packet (zero-padded to 1366 bytes) peeled by a
 * fixed node key, as an upstream peer hands it over. Mode 1: the same, but the target
 * seals the packet's HMAC with the shared secret its ephemeral key gives, so the
 * decrypted hop payload and its length are reached. Mode 2: the rest is a failure
 * packet the sender attributes over a fixed three-hop route. Mode 3: the rest is a
 * failure message created at the hop the next byte names and obfuscated on the way
 * back; the sender must attribute it to that hop and read the same message.
 *
 * Whatever peels must be consistent: a payload within the packet, the next packet of
 * version 0 with a valid key, a final hop only with an all-zero next HMAC. */
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/secp.h"
#include "ln/onion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static al_secp *secp;
static const al_privkey node_key = {{0x21, 0x22, 0x23}};
static const uint8_t assoc[32] = {0x42};
static const uint8_t route[3][32] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};

static void setup(void)
{
	static _Alignas(16) uint8_t mem[1 << 16];

	if (!secp && (al_secp_size() > sizeof(mem) ||
	              al_secp_create(&secp, mem, sizeof(mem), NULL) != AL_OK))
		abort();
}

static void reseal(uint8_t *packet)
{
	uint8_t ss[32], mu[32], buf[1300 + 32];
	al_pubkey epk;

	if (al_pubkey_parse(secp, &epk, packet + 1, 33) != AL_OK ||
	    al_ecdh(secp, ss, &epk, &node_key) != AL_OK ||
	    al_hmac_sha256(mu, "mu", 2, ss, 32) != AL_OK)
		return;
	memcpy(buf, packet + 34, 1300);
	memcpy(buf + 1300, assoc, 32);
	if (al_hmac_sha256(packet + 1334, mu, 32, buf, sizeof(buf)) != AL_OK)
		abort();
}

static void peel(const uint8_t *data, size_t size, int seal)
{
	static uint8_t packet[AL_ONION_LEN];
	static al_onion_peeled p;
	static const uint8_t zeros[32];
	al_pubkey next;
	al_err err;

	memset(packet, 0, sizeof(packet));
	memcpy(packet, data, size < sizeof(packet) ? size : sizeof(packet));
	if (seal)
		reseal(packet);
	err = al_onion_peel(&p, secp, &node_key, packet, assoc, sizeof(assoc));
	if (err != AL_OK) {
		if (p.payload_len || p.final)
			abort();
		return;
	}
	if (p.payload_len < 2 || p.payload_len > 1300 - 32 - 1)
		abort();
	if (!p.final && (p.next[0] != 0 || al_pubkey_parse(secp, &next, p.next + 1, 33) != AL_OK ||
	                 memcmp(p.next + 1334, zeros, 32) == 0))
		abort();
}

static void attribute(const uint8_t *data, size_t size)
{
	static uint8_t msg[AL_ONION_FAILURE_MAX];
	size_t origin, len;
	al_err err;

	err = al_onion_failure_decode(&origin, msg, sizeof(msg), &len, route, 3, data, size);
	if (err == AL_OK && (origin >= 3 || len < 2 || len > size - 36))
		abort();
}

static void round_trip(const uint8_t *data, size_t size)
{
	static uint8_t pkt[AL_ONION_FAILURE_MAX], msg[AL_ONION_FAILURE_MAX];
	size_t at, len, origin, mlen, i;

	if (size < 1)
		return;
	at = data[0] % 3;
	if (al_onion_failure_create(pkt, sizeof(pkt), &len, route[at], data + 1, size - 1) != AL_OK)
		return;
	for (i = at; i-- > 0;)
		if (al_onion_failure_wrap(pkt, len, route[i]) != AL_OK)
			abort();
	if (al_onion_failure_decode(&origin, msg, sizeof(msg), &mlen, route, 3, pkt, len) !=
	        AL_OK ||
	    origin != at || mlen != size - 1 || memcmp(msg, data + 1, mlen) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
	case 1:
		peel(data + 1, size - 1, data[0] % 4);
		break;
	case 2:
		attribute(data + 1, size - 1);
		break;
	default:
		round_trip(data + 1, size - 1);
		break;
	}
	return 0;
}
