/* Feed one open_channel (hex, argv[1]) to an inbound channel of the test harness's
 * node B and print what it answers, as JSON: {"sent": ["hex", ...], "error": "AL_..."}
 * ("error" is AL_OK when the channel stands). For tests/py/test_channel_electrum.py,
 * which builds the open_channel with Electrum's own code. Usage: chan_accept HEX */
#include <stdio.h>
#include <string.h>

#include "chan_harness.h"
#include "test.h"

static void print_msg(void *arg, const hnode *from, const uint8_t *msg, size_t len)
{
	size_t i;
	bool *first = arg;

	(void)from;
	printf("%s\"", *first ? "" : ", ");
	for (i = 0; i < len; i++)
		printf("%02x", msg[i]);
	printf("\"");
	*first = false;
}

int main(int argc, char **argv)
{
	static uint8_t msg[65536];
	al_chan_accept_params ap;
	size_t len, i;
	bool first = true;
	hpair p;
	al_err e;

	if (argc != 2 || strlen(argv[1]) % 2 || strlen(argv[1]) / 2 > sizeof(msg)) {
		fprintf(stderr, "usage: chan_accept HEX\n");
		return 2;
	}
	len = strlen(argv[1]) / 2;
	for (i = 0; i < len; i++)
		if (sscanf(argv[1] + 2 * i, "%2hhx", &msg[i]) != 1)
			return 2;
	h_init(&p, 77, NULL, NULL);
	p.connected = true;
	p.on_send = print_msg;
	p.on_send_arg = &first;
	/* What Electrum 4.3.4 offers in init: static_remotekey, channel_type, ... */
	memset(&ap, 0, sizeof(ap));
	CHECK_OK(al_features_set(&ap.peer_features, AL_FEATURE_OPT(AL_FEATURE_DATA_LOSS_PROTECT)));
	CHECK_OK(al_features_set(&ap.peer_features, AL_FEATURE_OPT(AL_FEATURE_STATIC_REMOTEKEY)));
	CHECK_OK(al_features_set(&ap.peer_features, AL_FEATURE_OPT(AL_FEATURE_CHANNEL_TYPE)));
	CHECK_OK(al_features_set(&ap.peer_features, AL_FEATURE_OPT(AL_FEATURE_SHUTDOWN_ANYSEGWIT)));
	CHECK_OK(al_chan_init_inbound(&p.b.ch, p.b.mem, p.b.mem_len, &p.b.env, &p.b.cfg, p.b.signer,
	                              &ap));
	printf("{\"sent\": [");
	e = al_chan_recv(p.b.ch, msg, len);
	h_drain(&p, &p.b);
	if (e == AL_OK)
		e = al_chan_error(p.b.ch);
	printf("], \"error\": \"%s\"}\n", al_err_name(e));
	h_free(&p);
	return 0;
}
