/* alightd: the alight node daemon (host side).
 *
 *   alightd --datadir DIR [--network regtest] [--listen HOST:PORT]
 *           [--rpc-listen HOST:PORT] [--sim-dir DIR]
 *           [--store DIR|URL]... [--store-quorum N] [--store-key FILE]
 *           [--store-ca PEM] [--store-pin HEX]... [--store-timeout-ms MS]
 *           [--max-nodes N] [--max-conns N] [--max-peers N] [--max-pending-handshakes N]
 *           [--enclave PATH] [--enclave-heap SIZE]
 *           [--handshake-timeout-ms MS] [--ping-interval-ms MS] [--pong-timeout-ms MS]
 *           [--idle-timeout-ms MS] [--chain-poll-ms MS] [--test-kill-at K:P]
 *
 * The nodes run inside the enclave (libalight_enclave.so, default
 * <dir of alightd>/../lib/, with a fixed heap, default 512M, reserved with
 * MAP_NORESERVE). The host holds no seed, key or token. A user provisions a node over
 * the user channel (--rpc-listen, default 127.0.0.1:0: RA-TLS terminated inside the
 * enclave, the certificate carrying a quote of the image's measurement from the
 * simulated platform in --sim-dir, default $ALIGHT_SIM_DIR or the build's sim/), and
 * from then on controls it there with a key derived from the user's seed. The operator
 * controls what the operator may over DIR/rpc.sock: status, peers, connect/disconnect.
 *
 * Nodes persist their sealed anchor in DIR/enclave and their sealed records on every
 * --store (default DIR/enclave/store0): a directory, or an alight-store (any VSS
 * server) by its URL, http(s)://HOST:PORT/vss, where node k's records are store_id
 * "node-<k>" of the host's own account, the secp256k1 key in --store-key (default
 * DIR/store-auth-key, made from the OS RNG on first use, mode 0600). Remote stores are
 * served by worker threads (host/store_remote.h): the loop never waits on them. With
 * several stores, one rolled back or deleted is detected. Node i serves peers on
 * --listen's host and port + i (each its own free port when the port is 0).
 *
 * The first stdout line is JSON: {"network","platform":"sim","measurement","rpc",
 * "rpc_listen","nodes":[{"node","node_id","listen"}]} once it serves (or
 * {"error":{"message":...}} and a non-zero exit). It serves until SIGTERM or SIGINT
 * (exit 0). Logs go to stderr, one line per event; secrets never do. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alightd.h"
#include "api.h"
#include "host/sim_platform.h"
#include "host/store_remote.h"
#include "jsonw.h"
#include "relay.h"
#include "rpc.h"
#include "util/hex.h"

#define DEFAULT_MAX_PEERS 256
/* Counts above this would make the tables absurd; the operator can still choose. */
#define MAX_COUNT 100000

typedef struct options {
	const char *network;
	const char *datadir;
	const char *listen;
	const char *rpc_listen;
	const char *sim_dir;
	const char *enclave;
	const char *stores[AL_ENCLAVE_HOST_STORES];
	size_t n_stores;
	unsigned long quorum;
	/* Remote stores: the account key's file, TLS trust, the timeout of each wait. */
	const char *store_key, *store_ca;
	uint8_t store_pins[4][AL_TLS_PIN_LEN];
	size_t n_store_pins;
	long long store_timeout_ms;
	size_t enclave_heap;
	sock_addr listen_addr, rpc_listen_addr;
	unsigned long max_nodes, max_conns, max_peers, max_pending;
	/* Peer manager timers in ms; -1 keeps the manager's default, 0 disables. */
	long long handshake_timeout_ms, ping_interval_ms, pong_timeout_ms, idle_timeout_ms;
	long long chain_poll_ms;
	unsigned long long kill_at; /* --test-kill-at K:P */
	int kill_phase;
} options;

void logf_(const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "%lld.%03ld alightd: ", (long long)ts.tv_sec,
	             ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

/* The first stdout line when start-up fails; the same text goes to the log. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
fail(int code, const char *fmt, ...);

static int fail(int code, const char *fmt, ...)
{
	char msg[512], out[1024];
	va_list ap;
	al_wb w;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	al_wb_init(&w, out, sizeof(out) - 1);
	jw_raw(&w, "{\"error\":{\"message\":");
	jw_str(&w, msg);
	jw_raw(&w, "}}");
	out[w.len < sizeof(out) ? w.len : sizeof(out) - 1] = '\0';
	printf("%s\n", out);
	fflush(stdout);
	logf_("error: %s", msg);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: alightd --datadir DIR [--network mainnet|testnet|signet|regtest]\n"
	           "               [--listen HOST:PORT] [--rpc-listen HOST:PORT] [--sim-dir DIR]\n"
	           "               [--store DIR|URL]... [--store-quorum N] [--store-key FILE]\n"
	           "               [--store-ca PEM] [--store-pin HEX]... [--store-timeout-ms MS]\n"
	           "               [--max-nodes N] [--max-conns N] [--max-peers N]\n"
	           "               [--max-pending-handshakes N]\n"
	           "               [--enclave PATH] [--enclave-heap SIZE (K/M/G, default 512M)]\n"
	           "               [--handshake-timeout-ms MS] [--ping-interval-ms MS]\n"
	           "               [--pong-timeout-ms MS] [--idle-timeout-ms MS]\n"
	           "               [--chain-poll-ms MS (while channels live; default 30000)]\n"
	           "               [--test-kill-at K:P (crash tests: SIGKILL at the K-th node\n"
	           "                write, before it (P 0) or once durable (P 1))]\n"
	           "HOST is an IPv4 literal, [IPv6] or localhost; PORT 0 picks a free port.\n"
	           "Defaults: regtest, --rpc-listen 127.0.0.1:0, one store (DIR/enclave/store0),\n"
	           "--max-nodes 1, --max-peers 256; timers default to the peer manager's.\n"
	           "--store (up to 4, every node's records on each; a write counts once\n"
	           "--store-quorum of them took it, default all) is a directory or an\n"
	           "alight-store URL, http(s)://HOST:PORT/vss; there node k's records are\n"
	           "store_id node-<k> of this host's account: the key in --store-key FILE\n"
	           "(64 hex digits, mode 0600; default DIR/store-auth-key, made from the OS\n"
	           "RNG on first use). https trusts --store-ca PEM and/or --store-pin (SHA-256\n"
	           "of the server's SubjectPublicKeyInfo, hex), else the system roots.\n"
	           "--store-timeout-ms bounds each connect and each wait (default 10000).\n"
	           "Users provision and control their nodes with alight-cli over the user\n"
	           "channel; DIR/rpc.sock serves the operator's status and peer commands.\n");
}

static bool parse_count(const char *s, unsigned long *out, unsigned long max)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *s >= '0' && *s <= '9' && *end == '\0' && *out >= 1 && *out <= max;
}

static bool parse_ms(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	/* At most a day: a timer is a liveness bound, not a calendar. */
	return errno == 0 && *s >= '0' && *s <= '9' && *end == '\0' && *out <= 86400000;
}

/* A --store: a directory, or a remote store's URL checked now, before anything runs. */
static int store_option(options *o, const char *arg)
{
	char why[160];

	if (o->n_stores == AL_ENCLAVE_HOST_STORES)
		return fail(2, "at most %d --store", AL_ENCLAVE_HOST_STORES);
	if (!arg[0])
		return fail(2, "--store wants a directory or an alight-store URL, not \"\"");
	if (al_store_is_url(arg) && al_store_remote_url(arg, why, sizeof(why)) != AL_OK)
		return fail(2, "--store \"%s\": %s", arg, why);
	if (!al_store_is_url(arg) && strstr(arg, "://"))
		return fail(2, "--store \"%s\": a remote store's URL is http:// or https://", arg);
	o->stores[o->n_stores++] = arg;
	return 0;
}

static int parse_option(options *o, int ch)
{
	unsigned long *count = NULL, max = MAX_COUNT;
	const char *name = NULL;

	switch (ch) {
	case 'n':
		o->network = optarg;
		return 0;
	case 'd':
		o->datadir = optarg;
		return 0;
	case 'l':
		o->listen = optarg;
		return 0;
	case 'R':
		o->rpc_listen = optarg;
		return 0;
	case 'S':
		o->sim_dir = optarg;
		return 0;
	case 'E':
		o->enclave = optarg;
		return 0;
	case 's':
		return store_option(o, optarg);
	case 'K':
		o->store_key = optarg;
		return 0;
	case 'A':
		o->store_ca = optarg;
		return 0;
	case 'X':
		if (o->n_store_pins == 4)
			return fail(2, "at most 4 --store-pin");
		if (al_hex_decode_exact(o->store_pins[o->n_store_pins], AL_TLS_PIN_LEN, optarg) !=
		    AL_OK)
			return fail(2,
			            "--store-pin wants 64 hex digits (SHA-256 of the server's "
			            "SubjectPublicKeyInfo), not \"%s\"",
			            optarg);
		o->n_store_pins++;
		return 0;
	case 'T':
		if (!parse_ms(optarg, &o->store_timeout_ms) || o->store_timeout_ms == 0)
			return fail(2,
			            "--store-timeout-ms wants milliseconds from 1 to 86400000, "
			            "not \"%s\"",
			            optarg);
		return 0;
	case 'M':
		if (al_enclave_parse_size(&o->enclave_heap, optarg) != AL_OK ||
		    o->enclave_heap < AL_ENCLAVE_HEAP_MIN)
			return fail(2, "--enclave-heap wants a size of at least 1M, not \"%s\"",
			            optarg);
		return 0;
	case 'H':
	case 'P':
	case 'O':
	case 'I':
		if (!parse_ms(optarg, ch == 'H'   ? &o->handshake_timeout_ms
		                      : ch == 'P' ? &o->ping_interval_ms
		                      : ch == 'O' ? &o->pong_timeout_ms
		                                  : &o->idle_timeout_ms))
			return fail(2, "timers want milliseconds from 0 to 86400000, not \"%s\"",
			            optarg);
		return 0;
	case 'G':
		if (!parse_ms(optarg, &o->chain_poll_ms) ||
		    o->chain_poll_ms < AL_ENCLAVE_POLL_MIN_MS ||
		    o->chain_poll_ms > AL_ENCLAVE_POLL_MAX_MS)
			return fail(2, "--chain-poll-ms wants %u to %u, not \"%s\"",
			            AL_ENCLAVE_POLL_MIN_MS, AL_ENCLAVE_POLL_MAX_MS, optarg);
		return 0;
	case 'Z': {
		char *end;
		errno = 0;
		o->kill_at = strtoull(optarg, &end, 10);
		if (errno || end == optarg || *end != ':' || o->kill_at == 0 ||
		    (strcmp(end, ":0") && strcmp(end, ":1")))
			return fail(2, "--test-kill-at wants K:P (K from 1, P 0 or 1), not \"%s\"",
			            optarg);
		o->kill_phase = end[1] - '0';
		return 0;
	}
	case 'N':
		count = &o->max_nodes, name = "--max-nodes", max = MAX_NODES - 1;
		break;
	case 'C':
		count = &o->max_conns, name = "--max-conns";
		break;
	case 'p':
		count = &o->max_peers, name = "--max-peers";
		break;
	case 'q':
		count = &o->max_pending, name = "--max-pending-handshakes";
		break;
	case 'Q':
		count = &o->quorum, name = "--store-quorum", max = AL_ENCLAVE_HOST_STORES;
		break;
	case 'h':
		usage(stdout);
		exit(0);
	default:
		usage(stderr);
		return fail(2, "unknown option (see --help)");
	}
	if (!parse_count(optarg, count, max))
		return fail(2, "%s wants a number from 1 to %lu", name, max);
	return 0;
}

/* 0 on success, else the exit code (after printing the error line). */
static int parse_args(options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"network", required_argument, NULL, 'n'},
	    {"datadir", required_argument, NULL, 'd'},
	    {"listen", required_argument, NULL, 'l'},
	    {"rpc-listen", required_argument, NULL, 'R'},
	    {"sim-dir", required_argument, NULL, 'S'},
	    {"store", required_argument, NULL, 's'},
	    {"store-quorum", required_argument, NULL, 'Q'},
	    {"store-key", required_argument, NULL, 'K'},
	    {"store-ca", required_argument, NULL, 'A'},
	    {"store-pin", required_argument, NULL, 'X'},
	    {"store-timeout-ms", required_argument, NULL, 'T'},
	    {"max-nodes", required_argument, NULL, 'N'},
	    {"max-conns", required_argument, NULL, 'C'},
	    {"max-peers", required_argument, NULL, 'p'},
	    {"max-pending-handshakes", required_argument, NULL, 'q'},
	    {"handshake-timeout-ms", required_argument, NULL, 'H'},
	    {"ping-interval-ms", required_argument, NULL, 'P'},
	    {"pong-timeout-ms", required_argument, NULL, 'O'},
	    {"idle-timeout-ms", required_argument, NULL, 'I'},
	    {"chain-poll-ms", required_argument, NULL, 'G'},
	    {"test-kill-at", required_argument, NULL, 'Z'},
	    {"enclave", required_argument, NULL, 'E'},
	    {"enclave-heap", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch, rc;

	*o = (options){.network = "regtest",
	               .rpc_listen = "127.0.0.1:0",
	               .max_nodes = 1,
	               .max_peers = DEFAULT_MAX_PEERS,
	               .max_pending = 16,
	               .enclave_heap = AL_ENCLAVE_HEAP_DEFAULT,
	               .store_timeout_ms = 10000,
	               .handshake_timeout_ms = -1,
	               .ping_interval_ms = -1,
	               .pong_timeout_ms = -1,
	               .idle_timeout_ms = -1,
	               .chain_poll_ms = -1};
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		if ((rc = parse_option(o, ch)) != 0)
			return rc;
	if (optind < argc)
		return fail(2, "unexpected argument \"%s\"", argv[optind]);
	if (o->datadir == NULL)
		return fail(2, "--datadir is required");
	if (o->quorum > (o->n_stores ? o->n_stores : 1))
		return fail(2, "--store-quorum is at most the number of --store");
	/* Checked before anything touches the data directory. */
	if (o->listen != NULL && !sock_parse(&o->listen_addr, o->listen))
		return fail(2, "--listen \"%s\": want IPv4:PORT, [IPv6]:PORT or localhost:PORT",
		            o->listen);
	if (!sock_parse(&o->rpc_listen_addr, o->rpc_listen))
		return fail(2, "--rpc-listen \"%s\": want IPv4:PORT, [IPv6]:PORT or localhost:PORT",
		            o->rpc_listen);
	if (o->max_conns == 0)
		o->max_conns = o->max_nodes * (o->max_peers + o->max_pending);
	if (o->max_conns > MAX_COUNT)
		o->max_conns = MAX_COUNT;
	return 0;
}

/* The data directory (created 0700 if missing) and its lock: one daemon per
 * directory, or two would fight over the stores and the control socket. */
static int open_datadir(const char *dir)
{
	char path[PATH_MAX];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return fail(1, "cannot create data directory %s: %s", dir, strerror(errno));
	if (snprintf(path, sizeof(path), "%s/alightd.lock", dir) >= (int)sizeof(path))
		return fail(1, "data directory path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(1, "cannot open %s: %s", path, strerror(errno));
	if (fcntl(fd, F_SETLK, &fl) != 0)
		return fail(1, "data directory %s is in use by another alightd", dir);
	return 0; /* the descriptor stays open: the lock lasts as long as the process */
}

static size_t loop_slots(const alightd *d)
{
	/* connections, user channels, control clients, node listeners, the user-channel
	 * listener, the control listener, the signal pipe, the storage wake-up */
	return d->n_conns + CTL_CLIENTS + RPC_CLIENTS + d->max_nodes + 4;
}

/* The remote stores' account key and TLS trust, when there is a remote store. */
static int setup_remote(al_enclave_host_config *hc, al_privkey *key, const options *o)
{
	char path[PATH_MAX], why[PATH_MAX + 128];
	bool any = false;

	for (size_t i = 0; i < o->n_stores; i++) {
		any = any || al_store_is_url(o->stores[i]);
		if (!strncasecmp(o->stores[i], "http://", 7))
			logf_("store %zu %s: plain HTTP: the account's authorization travels in "
			      "the clear (records stay sealed)",
			      i, o->stores[i]);
	}
	if (!any)
		return (o->store_key || o->store_ca || o->n_store_pins)
		           ? fail(2, "--store-key, --store-ca and --store-pin are for remote "
		                     "stores (--store URL)")
		           : 0;
	if (!o->store_key &&
	    snprintf(path, sizeof(path), "%s/store-auth-key", o->datadir) >= (int)sizeof(path))
		return fail(1, "data directory path too long");
	if (al_store_remote_key(key, o->store_key ? o->store_key : path, !o->store_key, why,
	                        sizeof(why)) != AL_OK)
		return fail(1, "remote store key: %s", why);
	hc->store_key = key;
	hc->store_http.ca_file = o->store_ca;
	hc->store_http.pins =
	    o->n_store_pins ? (const uint8_t(*)[AL_TLS_PIN_LEN])o->store_pins : NULL;
	hc->store_http.n_pins = o->n_store_pins;
	hc->store_http.connect_timeout_ms = (unsigned)o->store_timeout_ms;
	hc->store_http.io_timeout_ms = (unsigned)o->store_timeout_ms;
	return 0;
}

/* A remote store's completion is queued: deliver it (and what it sets off). */
static void on_store_wake(al_loop *l, void *arg, int slot, unsigned events)
{
	(void)l, (void)slot, (void)events;
	relay_settle(arg);
}

/* Load the enclave: measured, its heap reserved, initialised. */
static int setup_enclave(alightd *d, const options *o)
{
	al_enclave_host_config hc;
	char state[PATH_MAX];
	al_privkey key = {{0}};
	int slot, rc;
	al_err e;

	al_enclave_host_config_default(&hc);
	if (snprintf(state, sizeof(state), "%s/enclave", o->datadir) >= (int)sizeof(state))
		return fail(1, "data directory path too long");
	hc.image = o->enclave;
	hc.heap_size = o->enclave_heap;
	hc.state = state;
	memcpy(hc.stores, o->stores, sizeof(hc.stores));
	hc.n_stores = o->n_stores;
	hc.quorum = (uint32_t)o->quorum;
	memcpy(hc.chain_hash, d->np->chain_hash, 32);
	snprintf(hc.network, sizeof(hc.network), "%s", d->np->name);
	hc.coin = d->np->coin;
	hc.max_nodes = d->max_nodes;
	hc.max_conns = (uint32_t)o->max_conns;
	hc.node_max_peers = d->max_peers;
	hc.node_max_handshakes = d->max_pending;
	if (o->handshake_timeout_ms >= 0)
		hc.handshake_timeout_ms = (uint64_t)o->handshake_timeout_ms;
	if (o->ping_interval_ms >= 0)
		hc.ping_interval_ms = (uint64_t)o->ping_interval_ms;
	if (o->pong_timeout_ms >= 0)
		hc.pong_timeout_ms = (uint64_t)o->pong_timeout_ms;
	if (o->idle_timeout_ms >= 0)
		hc.idle_timeout_ms = (uint64_t)o->idle_timeout_ms;
	if (o->chain_poll_ms > 0)
		hc.chain_poll_ms = (uint64_t)o->chain_poll_ms;
	hc.kill_at = o->kill_at;
	hc.kill_phase = o->kill_phase;
	relay_enclave_net(d, &hc.net);
	if ((rc = setup_remote(&hc, &key, o)) != 0)
		return rc;
	e = al_enclave_host_open(&d->enc, &hc);
	al_privkey_clear(&key);
	if (e != AL_OK)
		return fail(1, "cannot load the enclave %s: %s",
		            o->enclave ? o->enclave : "(default)", al_err_str(e));
	if (al_loop_add(d->loop, &slot, al_enclave_host_wake_fd(d->enc), AL_LOOP_READ,
	                on_store_wake, d) != AL_OK)
		return fail(1, "cannot watch the storage wake-up");
	return 0;
}

static int setup_core(alightd *d, const options *o)
{
	void *mem;
	al_err e;

	d->max_nodes = (uint32_t)o->max_nodes;
	d->max_peers = (uint32_t)o->max_peers;
	d->max_pending = (uint32_t)o->max_pending;
	d->n_conns = o->max_conns;
	d->listen_base = o->listen_addr;
	d->listening = o->listen != NULL;
	/* ONE allocation for the host side's lifetime: every table. */
	d->arena_len = relay_table_size(d->n_conns, d->max_nodes) + 64 +
	               al_loop_size(loop_slots(d)) + 64 + rpc_table_size() + 4096;
	d->arena_mem = malloc(d->arena_len);
	if (d->arena_mem == NULL)
		return fail(1, "cannot allocate the %zu-byte arena", d->arena_len);
	al_arena_init(&d->arena, d->arena_mem, d->arena_len);
	e = al_arena_alloc(&d->arena, al_loop_size(loop_slots(d)), 16, &mem);
	if (e == AL_OK)
		e = al_loop_init(&d->loop, mem, al_loop_size(loop_slots(d)), loop_slots(d));
	if (e == AL_OK)
		e = relay_init(d);
	if (e != AL_OK)
		return fail(1, "cannot set up the connection table: %s", al_err_str(e));
	return setup_enclave(d, o);
}

/* The user channel: the host loads the quoting platform, the enclave makes its TLS
 * key and certificate, then the listener relays ciphertext to it. */
static int setup_user_channel(alightd *d, const options *o)
{
	const char *dir = o->sim_dir != NULL ? o->sim_dir : al_sim_platform_dir(NULL);
	al_err e;

#ifdef ALIGHT_SIM_DIR
	if (dir == NULL)
		dir = ALIGHT_SIM_DIR;
#endif
	e = al_enclave_host_platform(d->enc, dir);
	if (e != AL_OK)
		return fail(1, "cannot load the simulated platform %s: %s",
		            dir ? dir : "(no --sim-dir)", al_err_str(e));
	e = (al_err)d->enc->ec->ctl_setup();
	relay_settle(d);
	if (e != AL_OK)
		return fail(1, "the enclave cannot make its RA-TLS identity: %s", al_err_str(e));
	if (relay_listen_ctl(d, &o->rpc_listen_addr) != AL_OK)
		return fail(1, "cannot listen on %s: %s", o->rpc_listen, strerror(errno));
	logf_("user channel on %s: RA-TLS terminates inside the enclave (platform sim)",
	      d->ctl_addr);
	return 0;
}

/* Whether a node slot is still loading its records. */
static bool loading(alightd *d)
{
	for (uint32_t i = 0; i < d->max_nodes; i++) {
		al_enclave_node_info ni;
		if (d->enc->ec->node_info(i, &ni) == AL_OK && ni.state == 1)
			return true;
	}
	return false;
}

static int setup_io(alightd *d, const options *o)
{
	static const int sigs[] = {SIGTERM, SIGINT};

	if (al_loop_stop_on_signals(d->loop, sigs, 2) != AL_OK)
		return fail(1, "cannot install signal handlers");
	if (snprintf(d->rpc_path, sizeof(d->rpc_path), "%s/rpc.sock", o->datadir) >=
	    (int)sizeof(d->rpc_path))
		return fail(1, "data directory path too long for the control socket");
	d->answer = rpc_complete;
	if (rpc_init(d) != AL_OK)
		return fail(1, "cannot serve the control socket %s: %s", d->rpc_path,
		            strerror(errno));
	if (setup_user_channel(d, o) != 0)
		return 1;
	/* The nodes provisioned before: each reads its anchor, then its records. */
	for (uint32_t i = 0; i < d->max_nodes; i++) {
		al_err e = (al_err)d->enc->ec->node_load(i);
		if (e != AL_OK)
			return fail(1, "cannot load node slot %u: %s", i, al_err_str(e));
		relay_settle(d);
	}
	/* Remote stores answer later: serve (the loop runs) until every node has loaded
	 * or failed, so that the first line tells which nodes serve. */
	while (loading(d) && !al_loop_stopped(d->loop)) {
		if (al_loop_run_once(d->loop, -1) != AL_OK)
			return fail(1, "poll failed: %s", strerror(errno));
	}
	/* A node that serves at start must be reachable, or the operator should know now. */
	for (uint32_t i = 0; d->listening && i < d->max_nodes; i++) {
		al_enclave_node_info ni;
		if (d->enc->ec->node_info(i, &ni) == AL_OK && ni.state == 2 &&
		    !d->listeners[i].open)
			return fail(1, "cannot listen on %s for node %u: %s", o->listen, i,
			            strerror(errno));
	}
	return 0;
}

/* The first stdout line: what a supervisor, a user or a test needs to reach it. */
static void announce(const alightd *d)
{
	char out[sizeof(d->rpc_path) + 8192];
	al_wb w;

	al_wb_init(&w, out, sizeof(out) - 1);
	jw_raw(&w, "{\"network\":");
	jw_str(&w, d->np->name);
	jw_raw(&w, ",\"platform\":\"sim\",\"measurement\":");
	jw_hex(&w, d->enc->measurement, 32);
	jw_raw(&w, ",\"rpc\":");
	jw_str(&w, d->rpc_path);
	jw_raw(&w, ",\"rpc_listen\":");
	jw_str(&w, d->ctl_addr);
	jw_raw(&w, ",\"max_nodes\":");
	jw_u64(&w, d->max_nodes);
	jw_raw(&w, ",\"nodes\":[");
	for (uint32_t i = 0, first = 1; i < d->max_nodes; i++) {
		al_enclave_node_info ni;
		if (d->enc->ec->node_info(i, &ni) != AL_OK || ni.state != 2)
			continue;
		jw_raw(&w, first ? "{\"node\":" : ",{\"node\":");
		first = 0;
		jw_u64(&w, i);
		jw_raw(&w, ",\"node_id\":");
		jw_hex(&w, ni.node_id, 33);
		jw_raw(&w, ",\"listen\":");
		if (d->listeners[i].open)
			jw_str(&w, d->listeners[i].addr);
		else
			jw_raw(&w, "null");
		jw_raw(&w, "}");
	}
	jw_raw(&w, "]}");
	out[w.len < sizeof(out) ? w.len : sizeof(out) - 1] = '\0';
	printf("%s\n", out);
	fflush(stdout);
}

static void teardown(alightd *d)
{
	relay_shutdown(d);
	rpc_shutdown(d);
	al_enclave_host_close(d->enc);
	d->enc = NULL;
	if (d->arena_mem != NULL)
		free(d->arena_mem);
}

/* The start-up line: the host's arena, what the enclave's heap holds by now, and the
 * heap's reservation (MAP_NORESERVE: it costs nothing until touched). */
static void started(const alightd *d, uint64_t nofile)
{
	al_enclave_stats st;

	d->enc->ec->stats(&st);
	logf_("started network=%s max_nodes=%u nodes_ready=%u max_peers=%u "
	      "arena=%llu (host %zu + enclave heap high-water %llu) enclave_heap=%zu "
	      "node_bytes=%llu pool_slots=%u nofile=%llu",
	      d->np->name, d->max_nodes, st.nodes_ready, d->max_peers,
	      (unsigned long long)(d->arena_len + st.heap_high), d->arena_len,
	      (unsigned long long)st.heap_high, d->enc->heap_size,
	      (unsigned long long)st.node_bytes, st.pool_slots, (unsigned long long)nofile);
}

int main(int argc, char **argv)
{
	static alightd d;
	uint64_t nofile = 0;
	options o;
	int rc;

	d.rpc_fd = d.reserve_fd = d.ctl_fd = -1;
	d.started_ms = al_loop_now_ms();
	rc = parse_args(&o, argc, argv);
	if (rc != 0)
		return rc;
	d.datadir = o.datadir;
	d.np = netparams_find(o.network);
	if (d.np == NULL)
		return fail(2, "unknown network \"%s\" (want %s)", o.network, netparams_names());
	if (al_loop_raise_nofile(&nofile) != AL_OK)
		logf_("cannot raise RLIMIT_NOFILE: %s", strerror(errno));
	rc = open_datadir(o.datadir);
	if (rc == 0)
		rc = setup_core(&d, &o);
	if (rc == 0)
		rc = setup_io(&d, &o);
	if (rc != 0) {
		teardown(&d);
		return rc;
	}
	/* Logged before the first stdout line, so whoever read that line finds it. */
	started(&d, nofile);
	announce(&d);
	if (al_loop_run(d.loop) != AL_OK)
		rc = fail(1, "poll failed: %s", strerror(errno));
	logf_("stopping (signal %d)", al_loop_stop_signal(d.loop));
	teardown(&d);
	return rc;
}
