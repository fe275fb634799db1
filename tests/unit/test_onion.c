/* BOLT #4 onion packets and failure messages beyond the spec vectors (vec_bolt04):
 * every refusal of construction and peeling, routes of every length up to the limit,
 * payloads filling the packet exactly, and failures attributed at every position. */
#include <string.h>

#include "crypto/hash.h"
#include "ln/onion.h"
#include "test.h"

#define N AL_ONION_MAX_HOPS

static al_privkey keys[N + 1];
static al_onion_hop hops[N + 1];
static uint8_t payloads[N + 1][1300];
static const uint8_t assoc[32] = {0x42};
static const al_privkey session = {{0x41, 0x41, 0x41}};

static void setup(void)
{
	size_t i;

	for (i = 0; i <= N; i++) {
		al_pubkey pk;

		memset(keys[i].k, (int)(i + 1), 32);
		CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &pk, &keys[i]));
		hops[i].node = pk;
		memset(payloads[i], (int)(0x10 + i), sizeof(payloads[i]));
		hops[i].payload = payloads[i];
		hops[i].payload_len = 20;
	}
}

/* Peel a packet through all n hops, checking each payload and the final mark. */
static bool walk(const uint8_t *packet, size_t n, const uint8_t (*secrets)[32])
{
	static al_onion_peeled p;
	static uint8_t cur[AL_ONION_LEN];
	size_t i;

	memcpy(cur, packet, AL_ONION_LEN);
	for (i = 0; i < n; i++) {
		if (al_onion_peel(&p, al_t_secp(), &keys[i], cur, assoc, 32) != AL_OK ||
		    p.payload_len != hops[i].payload_len ||
		    memcmp(p.payload, hops[i].payload, p.payload_len) != 0 ||
		    memcmp(p.shared_secret, secrets[i], 32) != 0 || p.final != (i == n - 1))
			return false;
		memcpy(cur, p.next, AL_ONION_LEN);
	}
	return true;
}

static void test_routes(void)
{
	static uint8_t packet[AL_ONION_LEN], secrets[N + 1][32];
	size_t n, i;

	/* Every length from 1 to 20 hops, payload sizes varying (1-, 3- and 5-byte
	 * bigsize lengths among them). */
	for (n = 1; n <= N; n++) {
		for (i = 0; i < n; i++)
			hops[i].payload_len = 2 + (i * 7 + n) % 40;
		if (n == 3)
			hops[1].payload_len = 300; /* a 3-byte length */
		CHECK_OK(
		    al_onion_create(packet, secrets, al_t_secp(), &session, hops, n, assoc, 32));
		CHECK(walk(packet, n, (const uint8_t(*)[32])secrets));
	}
	/* Payloads filling the 1300 bytes exactly: one hop of 1265 (3-byte length). */
	hops[0].payload_len = 1300 - 32 - 3;
	CHECK_OK(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 1, assoc, 32));
	CHECK(walk(packet, 1, (const uint8_t(*)[32])secrets));
	hops[0].payload_len++;
	CHECK_ERR(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 1, assoc, 32),
	          AL_E_ONION_TOO_LONG);
	/* Two hops summing to 1300. */
	hops[0].payload_len = 600 - 32 - 3;
	hops[1].payload_len = 700 - 32 - 3;
	CHECK_OK(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 2, assoc, 32));
	CHECK(walk(packet, 2, (const uint8_t(*)[32])secrets));
	hops[1].payload_len++;
	CHECK_ERR(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 2, assoc, 32),
	          AL_E_ONION_TOO_LONG);
	for (i = 0; i <= N; i++)
		hops[i].payload_len = 20;
	/* Refusals: no hops, too many, reserved lengths, long associated data, a bad
	 * session key; the packet is left zeroed. */
	CHECK_ERR(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 0, assoc, 32),
	          AL_E_ONION_HOPS);
	CHECK_ERR(al_onion_create(packet, secrets, al_t_secp(), &session, hops, N + 1, assoc, 32),
	          AL_E_ONION_HOPS);
	hops[2].payload_len = 1;
	CHECK_ERR(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 3, assoc, 32),
	          AL_E_ONION_PAYLOAD);
	hops[2].payload_len = 20;
	CHECK_ERR(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 3, assoc,
	                          AL_ONION_ASSOC_MAX + 1),
	          AL_E_ARG);
	{
		al_privkey zero = {{0}};
		static const uint8_t zeros[AL_ONION_LEN];

		CHECK(al_onion_create(packet, secrets, al_t_secp(), &zero, hops, 3, assoc, 32) !=
		      AL_OK);
		CHECK_MEM(packet, zeros, AL_ONION_LEN);
	}
}

/* A packet whose hop payloads were changed under the right HMAC: what the sender
 * could make, so the payload checks are reached. */
static void reseal(uint8_t *packet, const uint8_t secret[32])
{
	uint8_t mu[32], buf[1300 + 32];

	CHECK_OK(al_hmac_sha256(mu, "mu", 2, secret, 32));
	memcpy(buf, packet + 34, 1300);
	memcpy(buf + 1300, assoc, 32);
	CHECK_OK(al_hmac_sha256(packet + 34 + 1300, mu, 32, buf, sizeof(buf)));
}

static void test_peel_refusals(void)
{
	static uint8_t packet[AL_ONION_LEN], bad[AL_ONION_LEN], secrets[N][32];
	static al_onion_peeled p;
	uint8_t other[32] = {0x42, 1};

	CHECK_OK(al_onion_create(packet, secrets, al_t_secp(), &session, hops, 3, assoc, 32));
	memcpy(bad, packet, AL_ONION_LEN);
	bad[0] = 1;
	CHECK_ERR(al_onion_peel(&p, al_t_secp(), &keys[0], bad, assoc, 32), AL_E_ONION_VERSION);
	CHECK(al_onion_malformed_code(AL_E_ONION_VERSION) == 0xC004);
	memcpy(bad, packet, AL_ONION_LEN);
	bad[1] = 5;
	CHECK_ERR(al_onion_peel(&p, al_t_secp(), &keys[0], bad, assoc, 32), AL_E_ONION_KEY);
	CHECK(al_onion_malformed_code(AL_E_ONION_KEY) == 0xC006);
	/* Any changed byte of the routing data or HMAC, other associated data, the wrong
	 * node: invalid_onion_hmac. */
	memcpy(bad, packet, AL_ONION_LEN);
	bad[34 + 700] ^= 1;
	CHECK_ERR(al_onion_peel(&p, al_t_secp(), &keys[0], bad, assoc, 32), AL_E_ONION_HMAC);
	memcpy(bad, packet, AL_ONION_LEN);
	bad[AL_ONION_LEN - 1] ^= 0x80;
	CHECK_ERR(al_onion_peel(&p, al_t_secp(), &keys[0], bad, assoc, 32), AL_E_ONION_HMAC);
	CHECK_ERR(al_onion_peel(&p, al_t_secp(), &keys[0], packet, other, 32), AL_E_ONION_HMAC);
	CHECK_ERR(al_onion_peel(&p, al_t_secp(), &keys[1], packet, assoc, 32), AL_E_ONION_HMAC);
	CHECK(al_onion_malformed_code(AL_E_ONION_HMAC) == 0xC005);
	CHECK(al_onion_malformed_code(AL_E_ONION_PAYLOAD) == 0);
	CHECK(p.payload_len == 0 && !p.final);

	/* The first hop's length byte is 20 (0x14) in the clear; XOR changes it under a
	 * valid HMAC: 0 and 1 are reserved, 0xfd 0x00 0x10 is not canonical, 0xfe 0x...
	 * runs past the packet. */
	{
		static const uint8_t lens[][3] = {{0x00}, {0x01}, {0xfd, 0x00, 0x10}, {0xfe, 0, 1}};
		size_t i, k;

		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			memcpy(bad, packet, AL_ONION_LEN);
			bad[34] ^= 0x14 ^ lens[i][0];
			for (k = 1; k < 3 && lens[i][0] >= 0xfd; k++)
				bad[34 + k] ^= payloads[0][k - 1] ^ lens[i][k];
			reseal(bad, secrets[0]);
			CHECK_ERR(al_onion_peel(&p, al_t_secp(), &keys[0], bad, assoc, 32),
			          AL_E_ONION_PAYLOAD);
		}
	}
}

static void test_failures(void)
{
	static uint8_t packet[AL_ONION_LEN], secrets[N][32], err[AL_ONION_FAILURE_MAX];
	uint8_t msg[AL_ONION_FAILURE_MAX], out[AL_ONION_FAILURE_MAX];
	size_t n = 6, at, k, len, origin, mlen;

	CHECK_OK(al_onion_create(packet, secrets, al_t_secp(), &session, hops, n, assoc, 32));
	for (k = 0; k < sizeof(msg); k++)
		msg[k] = (uint8_t)(k * 13);
	/* Every origin, short and long messages. */
	for (at = 0; at < n; at++) {
		size_t mlens[] = {2, 10, 256, 300, AL_ONION_FAILURE_MAX - 36};

		for (k = 0; k < sizeof(mlens) / sizeof(mlens[0]); k++) {
			size_t i;

			CHECK_OK(al_onion_failure_create(err, sizeof(err), &len, secrets[at], msg,
			                                 mlens[k]));
			CHECK(len == 36 + (mlens[k] > 256 ? mlens[k] : 256));
			for (i = at; i-- > 0;)
				CHECK_OK(al_onion_failure_wrap(err, len, secrets[i]));
			CHECK_OK(al_onion_failure_decode(&origin, out, sizeof(out), &mlen,
			                                 (const uint8_t(*)[32])secrets, n, err,
			                                 len));
			CHECK(origin == at && mlen == mlens[k] && memcmp(out, msg, mlen) == 0);
		}
	}
	/* A route that garbled it, or lost a hop's obfuscation: unattributable. */
	CHECK_OK(al_onion_failure_create(err, sizeof(err), &len, secrets[3], msg, 2));
	for (k = 3; k-- > 0;)
		CHECK_OK(al_onion_failure_wrap(err, len, secrets[k]));
	err[100] ^= 1;
	CHECK_ERR(al_onion_failure_decode(&origin, out, sizeof(out), &mlen,
	                                  (const uint8_t(*)[32])secrets, n, err, len),
	          AL_E_ONION_FAILURE_UNKNOWN);
	CHECK_OK(al_onion_failure_create(err, sizeof(err), &len, secrets[3], msg, 2));
	CHECK_OK(al_onion_failure_wrap(err, len, secrets[1]));
	CHECK_ERR(al_onion_failure_decode(&origin, out, sizeof(out), &mlen,
	                                  (const uint8_t(*)[32])secrets, n, err, len),
	          AL_E_ONION_FAILURE_UNKNOWN);
	/* A failing hop whose pad_len disagrees with the packet, or whose failure_len
	 * runs past it: attributed (the HMAC is its own) but malformed. */
	{
		static const uint16_t fl[] = {2, 2, 1, 300};
		static const uint16_t pl[] = {10, 255, 255, 0};
		uint8_t um[32];
		size_t i;

		for (i = 0; i < 4; i++) {
			len = 32 + 2 + 2 + 2 + 254;
			memset(err, 0, len);
			err[32] = (uint8_t)(fl[i] >> 8);
			err[33] = (uint8_t)fl[i];
			err[34] = 0x20;
			err[35] = 0x02;
			if (fl[i] == 2) {
				err[36] = (uint8_t)(pl[i] >> 8);
				err[37] = (uint8_t)pl[i];
			}
			CHECK_OK(al_hmac_sha256(um, "um", 2, secrets[2], 32));
			CHECK_OK(al_hmac_sha256(err, um, 32, err + 32, len - 32));
			CHECK_OK(al_onion_failure_wrap(err, len, secrets[2]));
			CHECK_OK(al_onion_failure_wrap(err, len, secrets[1]));
			CHECK_OK(al_onion_failure_wrap(err, len, secrets[0]));
			CHECK_ERR(al_onion_failure_decode(&origin, out, sizeof(out), &mlen,
			                                  (const uint8_t(*)[32])secrets, n, err,
			                                  len),
			          AL_E_ONION_FAILURE_MALFORMED);
		}
	}
	/* Lengths. */
	CHECK_ERR(al_onion_failure_decode(&origin, out, sizeof(out), &mlen,
	                                  (const uint8_t(*)[32])secrets, n, err, 35),
	          AL_E_ONION_FAILURE_LEN);
	CHECK_ERR(al_onion_failure_decode(&origin, out, sizeof(out), &mlen,
	                                  (const uint8_t(*)[32])secrets, n, err,
	                                  AL_ONION_FAILURE_MAX + 1),
	          AL_E_ONION_FAILURE_LEN);
	CHECK_ERR(al_onion_failure_create(err, sizeof(err), &len, secrets[0], msg, 1), AL_E_ARG);
	CHECK_ERR(al_onion_failure_create(err, sizeof(err), &len, secrets[0], msg,
	                                  AL_ONION_FAILURE_MAX - 35),
	          AL_E_ONION_FAILURE_LEN);
	CHECK_ERR(al_onion_failure_create(err, 291, &len, secrets[0], msg, 2), AL_E_BUFSIZE);
	/* A message too big for the caller's buffer. */
	CHECK_OK(al_onion_failure_create(err, sizeof(err), &len, secrets[0], msg, 300));
	CHECK_ERR(al_onion_failure_decode(&origin, out, 299, &mlen, (const uint8_t(*)[32])secrets,
	                                  n, err, len),
	          AL_E_BUFSIZE);
}

int main(void)
{
	setup();
	test_routes();
	test_peel_refusals();
	test_failures();
	return al_t_finish();
}
