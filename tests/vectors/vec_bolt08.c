/* BOLT #8 Appendix A: transport test vectors (bolts/bolt08/transport.json).
 *
 * Suite `bolt08`, one vector per initiator case, per responder case and per listed
 * message-encryption output (5 + 10 + 6 in the file).
 *
 * Each handshake case drives a real engine through the file's acts in order: an
 * "output" act must equal the bytes the engine offers on sendrec, an "input" act is
 * fed through recvrec, and an error act must find the engine failed in that act for
 * the reason the spec names, mapped to an al_err (see reason_err). A short read is
 * the stream ending: the input is fed, then al_noise_recvrec_eof. Successful cases
 * must end in the transport phase with exactly the listed sk and rk.
 *
 * The message test ("the initiator sends length 5 messages containing "hello" 1001
 * times") sends through the engine left by the successful initiator case, whose keys
 * are checked against the test's ck, sk and rk first; every frame must also decrypt
 * to "hello" in the engine of the successful responder case. */
#include <stdlib.h>
#include <string.h>

#include "ln/noise.h"
#include "test.h"
#include "vectors.h"

#define MSG_COUNT_MAX 2000

static al_noise eng, resp;

static bool reason_err(const char *s, al_noise_phase *act, al_err *err)
{
	static const struct {
		const char *reason;
		al_err err;
	} map[] = {
	    /* "Read _exactly_ 50 bytes from the network buffer." */
	    {"READ_FAILED", AL_E_TRUNCATED},
	    /* "If v is an unrecognized handshake version ... MUST abort" */
	    {"BAD_VERSION", AL_E_NOISE_VERSION},
	    /* re or rs does not deserialize "into a point on the curve" */
	    {"BAD_PUBKEY", AL_E_NOISE_PUBKEY},
	    /* "If the MAC check in this operation fails" (Act Three: on c or on t) */
	    {"BAD_TAG", AL_E_NOISE_MAC},
	    {"BAD_CIPHERTEXT", AL_E_NOISE_MAC},
	};
	const char *p = strstr(s, "(ACT");
	size_t i;

	if (!p || p[4] < '1' || p[4] > '3' || p[5] != '_')
		return false;
	*act = (al_noise_phase)(p[4] - '0');
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strncmp(p + 6, map[i].reason, strlen(map[i].reason)) == 0) {
			*err = map[i].err;
			return true;
		}
	}
	return false;
}

static al_noise_phase act_of(const char *name)
{
	if (strcmp(name, "Act One") == 0)
		return AL_NOISE_ACT1;
	if (strcmp(name, "Act Two") == 0)
		return AL_NOISE_ACT2;
	if (strcmp(name, "Act Three") == 0)
		return AL_NOISE_ACT3;
	return (al_noise_phase)0;
}

/* Feed bytes through recvrec as a socket would; false if the engine stops taking
 * them before the end. */
static bool feed(al_noise *c, const uint8_t *b, size_t len)
{
	while (len) {
		size_t room, n;
		uint8_t *dst = al_noise_recvrec_buf(c, &room);

		if (!dst)
			return false;
		n = len < room ? len : room;
		memcpy(dst, b, n);
		if (al_noise_recvrec_ack(c, n) != AL_OK)
			return false;
		b += n;
		len -= n;
	}
	return true;
}

/* Take everything sendrec offers (at most cap bytes). */
static size_t drain(al_noise *c, uint8_t *out, size_t cap)
{
	size_t len;
	const uint8_t *p = al_noise_sendrec_buf(c, &len);

	if (!p || len > cap || al_noise_sendrec_ack(c, len) != AL_OK)
		return 0;
	memcpy(out, p, len);
	return len;
}

static bool privkey(const json_t *in, const char *key, al_privkey *k)
{
	size_t len;
	uint8_t *b = al_t_unhex(al_v_str(in, key), &len);

	if (len != 32)
		return false;
	memcpy(k->k, b, 32);
	return true;
}

static bool pubkey(const json_t *in, const char *key, al_pubkey *pk)
{
	size_t len;
	uint8_t *b = al_t_unhex(al_v_str(in, key), &len);

	return al_pubkey_parse(al_t_secp(), pk, b, len) == AL_OK;
}

static bool start(al_noise *c, const json_t *in, bool initiator)
{
	const al_secp *secp = al_t_secp();
	al_privkey ls, e;
	al_pubkey rs, ls_pub;

	if (!privkey(in, "ls.priv", &ls) || !privkey(in, "e.priv", &e) ||
	    !pubkey(in, "ls.pub", &ls_pub))
		return false;
	if (initiator) {
		if (!pubkey(in, "rs.pub", &rs) ||
		    al_noise_init_initiator(c, secp, &ls, &rs, &e) != AL_OK)
			return false;
	} else if (al_noise_init_responder(c, secp, &ls, &e) != AL_OK) {
		return false;
	}
	/* The file's ls.pub must be what the engine derived from ls.priv. */
	return al_pubkey_eq(secp, &ls_pub, &c->ls_pub);
}

static bool step(al_noise *c, const json_t *act, const char **why)
{
	const json_t *hex = json_object_get(act, "hex"), *error = json_object_get(act, "error");
	al_noise_phase want_act, got_act;
	al_err want, got;
	uint8_t out[AL_NOISE_ACT3_LEN];
	size_t len, n;
	uint8_t *b;

	if (error) {
		if (!reason_err(json_string_value(error), &want_act, &want)) {
			*why = "unmapped error reason";
			return false;
		}
		/* Nothing failed on the bytes fed: the stream ends here. */
		if (al_noise_error(c, NULL) == AL_OK)
			(void)al_noise_recvrec_eof(c);
		got = al_noise_error(c, &got_act);
		if (got != want || got_act != want_act ||
		    want_act != act_of(al_v_str(act, "act"))) {
			*why = al_err_name(got);
			return false;
		}
		return al_noise_state(c) == AL_NOISE_CLOSED;
	}
	b = al_t_unhex(json_string_value(hex), &len);
	if (strcmp(al_v_str(act, "direction"), "input") == 0) {
		(void)feed(c, b, len);
		return true;
	}
	n = drain(c, out, sizeof(out));
	if (n != len || memcmp(out, b, len) != 0) {
		*why = "act bytes differ";
		return false;
	}
	return true;
}

static bool key_is(const json_t *result, const char *key, const uint8_t k[32])
{
	size_t len;
	uint8_t *b = al_t_unhex(al_v_str(result, key), &len);

	return len == 32 && memcmp(b, k, 32) == 0;
}

static bool run_case(al_noise *c, const json_t *t, bool initiator, const char **why)
{
	const json_t *acts = json_object_get(t, "acts"), *result = json_object_get(t, "result");
	size_t i;

	*why = "setup";
	if (!start(c, json_object_get(t, "inputs"), initiator))
		return false;
	for (i = 0; i < json_array_size(acts); i++) {
		if (!step(c, json_array_get(acts, i), why))
			return false;
	}
	if (json_object_get(result, "error"))
		return true;
	*why = "final keys";
	return al_noise_error(c, NULL) == AL_OK &&
	       al_noise_current_phase(c) == AL_NOISE_TRANSPORT &&
	       (al_noise_state(c) & AL_NOISE_SENDAPP) && key_is(result, "sk", c->sk) &&
	       key_is(result, "rk", c->rk);
}

static void run_handshakes(al_v_suite *s, const json_t *tests, bool initiator)
{
	size_t i;
	const char *why;

	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);
		bool ok = run_case(&eng, t, initiator, &why);

		al_v_result(s, ok, "%s: %s", al_v_str(t, "name"), why);
		al_noise_clear(&eng);
	}
}

/* The responder learned the initiator's node id in Act Three. */
static bool responder_knows_initiator(const json_t *root)
{
	const json_t *it = json_array_get(json_object_get(root, "initiator_tests"), 0);
	al_pubkey want, got;

	return pubkey(json_object_get(it, "inputs"), "ls.pub", &want) &&
	       al_noise_remote_pubkey(&resp, &got) == AL_OK &&
	       al_pubkey_eq(al_t_secp(), &want, &got);
}

static bool send_hello(uint8_t frame[64], size_t *len, const uint8_t *hello, size_t hlen)
{
	size_t room, got;
	uint8_t *m = al_noise_sendapp_buf(&eng, &room);
	const uint8_t *p;

	if (!m || room < hlen)
		return false;
	memcpy(m, hello, hlen);
	if (al_noise_sendapp_ack(&eng, hlen) != AL_OK)
		return false;
	*len = drain(&eng, frame, 64);
	if (*len != AL_NOISE_HDR_LEN + hlen + AL_NOISE_MAC_LEN || !feed(&resp, frame, *len))
		return false;
	p = al_noise_recvapp_buf(&resp, &got);
	return p && got == hlen && memcmp(p, hello, hlen) == 0 &&
	       al_noise_recvapp_ack(&resp) == AL_OK;
}

static void run_messages(al_v_suite *s, const json_t *root)
{
	static uint8_t frames[MSG_COUNT_MAX][64];
	static size_t lens[MSG_COUNT_MAX];
	const json_t *mt = json_object_get(root, "message_encryption_test");
	const json_t *outputs = json_object_get(mt, "outputs"), *want;
	const json_t *it = json_array_get(json_object_get(root, "initiator_tests"), 0);
	const json_t *rt = json_array_get(json_object_get(root, "responder_tests"), 0);
	const char *why, *key;
	size_t hlen, wlen;
	uint8_t *hello = al_t_unhex(al_v_str(mt, "plaintext_each_message"), &hlen), *w;
	bool keys_ok, sent_ok = true;
	long i, max = -1, good = -1;

	/* "ck=0x9192...", "sk=0x969a...", "rk=0xbb90...": the end of the successful
	 * handshake, whose rotation chaining key starts at ck in both directions. */
	keys_ok = run_case(&eng, it, true, &why) && run_case(&resp, rt, false, &why) &&
	          key_is(mt, "ck", eng.sck) && key_is(mt, "ck", eng.rck) &&
	          key_is(mt, "sk", eng.sk) && key_is(mt, "rk", eng.rk) &&
	          responder_knows_initiator(root);
	json_object_foreach((json_t *)outputs, key, want)
	{
		i = strtol(key, NULL, 10);
		max = i > max ? i : max;
	}
	for (i = 0; keys_ok && sent_ok && i <= max && i < MSG_COUNT_MAX; i++) {
		sent_ok = send_hello(frames[i], &lens[i], hello, hlen);
		good = sent_ok ? i : good;
	}
	json_object_foreach((json_t *)outputs, key, want)
	{
		i = strtol(key, NULL, 10);
		w = al_t_unhex(json_string_value(want), &wlen);
		al_v_result(s,
		            keys_ok && i >= 0 && i <= good && lens[i] == wlen &&
		                memcmp(frames[i], w, wlen) == 0,
		            "transport-message output %s (keys %s)", key, keys_ok ? "ok" : "wrong");
	}
	al_noise_clear(&eng);
	al_noise_clear(&resp);
}

int main(void)
{
	json_t *root = al_v_load_json("bolts/bolt08/transport.json");
	al_v_suite s;

	al_v_begin(&s, "bolt08");
	run_handshakes(&s, json_object_get(root, "initiator_tests"), true);
	run_handshakes(&s, json_object_get(root, "responder_tests"), false);
	run_messages(&s, root);
	al_v_end(&s);
	json_decref(root);
	return al_t_finish();
}
