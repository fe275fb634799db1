/* alightd: the alight node daemon (host side).
 *
 *   alightd --network regtest --datadir DIR --listen HOST:PORT [--seed-file FILE]
 *           [--enclave PATH] [--enclave-heap SIZE]
 *           (the enclave image, default <dir of alightd>/../lib/libalight_enclave.so,
 *           and its fixed heap, default 512M, reserved with MAP_NORESERVE: the node,
 *           its key and its peers run in there; see alightd.h)
 *           [--esplora URL [--esplora-ca PEM | --esplora-pin SPKI_SHA256_HEX]]
 *           (the on-chain wallet, inside the enclave, synced from that Esplora server
 *           over TLS terminated inside; https trusts the system roots unless a CA file
 *           or a public-key pin is given: the host reads the file and hands the bytes
 *           in, and keeps the wallet's sealed records in DIR/wallet)
 *           [--max-peers N] [--max-pending-handshakes N]
 *           [--rpc-listen HOST:PORT [--sim-dir DIR]]
 *           (the control API over RA-TLS too, terminated inside the enclave: TLS 1.3
 *           with a key made there and a certificate carrying a quote of the image's
 *           measurement from the simulated platform in DIR, default $ALIGHT_SIM_DIR
 *           or the build's sim/; clients present DIR/rpc.token as a bearer token,
 *           checked inside the enclave. The host relays ciphertext only: peers.c)
 *
 * Its first stdout line is JSON: {"node_id":...,"listen":...,"platform":"sim",
 * "measurement":<SHA-256 of the enclave image as loaded, what RA-TLS clients pin>,
 * "rpc_listen":... with --rpc-listen} once it serves (or
 * {"error":{"message":...}} and a non-zero exit). It then serves peers on the listen
 * address and the control API on DIR/rpc.sock until SIGTERM or SIGINT (exit 0).
 * Logs go to stderr, one line per event; secrets never do. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alightd.h"
#include "crypto/mem.h"
#include "host/enclave_host.h"
#include "host/httpc.h"
#include "host/netconn.h"
#include "host/os_rng.h"
#include "host/seed.h"
#include "host/sim_platform.h"
#include "jsonw.h"
#include "ln/peer.h"
#include "util/hex.h"

#define DEFAULT_MAX_PEERS 256
/* Counts above this would make the arena absurd; the operator can still choose. */
#define MAX_MAX_PEERS 100000

typedef struct options {
	const char *network;
	const char *datadir;
	const char *listen;
	const char *seed_file;
	const char *esplora;     /* the wallet's chain server; no wallet without it */
	const char *esplora_ca;  /* trust for an https Esplora: a CA file ... */
	const char *esplora_pin; /* ... or the SHA-256 of its public key (hex) */
	const char *rpc_listen;  /* the control API over RA-TLS on TCP */
	const char *sim_dir;     /* the simulated platform quoting for it */
	const char *enclave;     /* the enclave image (NULL: the default path) */
	size_t enclave_heap;
	sock_addr listen_addr, rpc_listen_addr;
	unsigned long max_peers;
	unsigned long max_pending;
	/* Peer manager timers in ms; -1 keeps the manager's default, 0 disables. */
	long long handshake_timeout_ms, ping_interval_ms, pong_timeout_ms, idle_timeout_ms;
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
	           "               [--listen HOST:PORT] [--seed-file FILE]\n"
	           "               [--enclave PATH] [--enclave-heap SIZE (K/M/G, default 512M)]\n"
	           "               [--esplora URL [--esplora-ca PEM | --esplora-pin SPKI_SHA256]]\n"
	           "               [--max-peers N] [--max-pending-handshakes N]\n"
	           "               [--rpc-listen HOST:PORT [--sim-dir DIR]]\n"
	           "               [--handshake-timeout-ms MS] [--ping-interval-ms MS]\n"
	           "               [--pong-timeout-ms MS] [--idle-timeout-ms MS]\n"
	           "HOST is an IPv4 literal, [IPv6] or localhost; PORT 0 picks a free port.\n"
	           "The default network is regtest, --max-peers 256; timers default to the\n"
	           "peer manager's (0 disables one).\n");
}

static bool parse_count(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *s >= '0' && *s <= '9' && *end == '\0' && *out >= 1 &&
	       *out <= MAX_MAX_PEERS;
}

static bool parse_ms(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	/* At most a day: a timer is a liveness bound, not a calendar. */
	return errno == 0 && *s >= '0' && *s <= '9' && *end == '\0' && *out <= 86400000;
}

/* 0 on success, else the exit code (after printing the error line). */
static int parse_args(options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"network", required_argument, NULL, 'n'},
	    {"datadir", required_argument, NULL, 'd'},
	    {"listen", required_argument, NULL, 'l'},
	    {"seed-file", required_argument, NULL, 's'},
	    {"esplora", required_argument, NULL, 'e'},
	    {"esplora-ca", required_argument, NULL, 'C'},
	    {"esplora-pin", required_argument, NULL, 'K'},
	    {"max-peers", required_argument, NULL, 'p'},
	    {"max-pending-handshakes", required_argument, NULL, 'q'},
	    {"handshake-timeout-ms", required_argument, NULL, 'H'},
	    {"ping-interval-ms", required_argument, NULL, 'P'},
	    {"pong-timeout-ms", required_argument, NULL, 'O'},
	    {"idle-timeout-ms", required_argument, NULL, 'I'},
	    {"rpc-listen", required_argument, NULL, 'R'},
	    {"sim-dir", required_argument, NULL, 'S'},
	    {"enclave", required_argument, NULL, 'E'},
	    {"enclave-heap", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	*o = (options){.network = "regtest",
	               .max_peers = DEFAULT_MAX_PEERS,
	               .enclave_heap = AL_ENCLAVE_HEAP_DEFAULT,
	               .handshake_timeout_ms = -1,
	               .ping_interval_ms = -1,
	               .pong_timeout_ms = -1,
	               .idle_timeout_ms = -1};
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->network = optarg;
			break;
		case 'd':
			o->datadir = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 's':
			o->seed_file = optarg;
			break;
		case 'e':
			o->esplora = optarg;
			break;
		case 'C':
			o->esplora_ca = optarg;
			break;
		case 'K':
			o->esplora_pin = optarg;
			break;
		case 'R':
			o->rpc_listen = optarg;
			break;
		case 'S':
			o->sim_dir = optarg;
			break;
		case 'E':
			o->enclave = optarg;
			break;
		case 'M':
			if (al_enclave_parse_size(&o->enclave_heap, optarg) != AL_OK ||
			    o->enclave_heap < AL_ENCLAVE_HEAP_MIN)
				return fail(
				    2, "--enclave-heap wants a size of at least 1M, not \"%s\"",
				    optarg);
			break;
		case 'p':
			if (!parse_count(optarg, &o->max_peers))
				return fail(2, "--max-peers wants a number from 1 to %d",
				            MAX_MAX_PEERS);
			break;
		case 'q':
			if (!parse_count(optarg, &o->max_pending))
				return fail(2,
				            "--max-pending-handshakes wants a number from 1 to %d",
				            MAX_MAX_PEERS);
			break;
		case 'H':
		case 'P':
		case 'O':
		case 'I':
			if (!parse_ms(optarg, ch == 'H'   ? &o->handshake_timeout_ms
			                      : ch == 'P' ? &o->ping_interval_ms
			                      : ch == 'O' ? &o->pong_timeout_ms
			                                  : &o->idle_timeout_ms))
				return fail(2,
				            "timers want 0 to 86400000 ms (0 disables), not \"%s\"",
				            optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return fail(2, "unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(2, "unexpected argument \"%s\"", argv[optind]);
	if (o->datadir == NULL)
		return fail(2, "--datadir is required");
	/* Checked before anything touches the data directory. */
	if (o->listen != NULL && !sock_parse(&o->listen_addr, o->listen))
		return fail(2, "--listen \"%s\": want IPv4:PORT, [IPv6]:PORT or localhost:PORT",
		            o->listen);
	if (o->rpc_listen != NULL && !sock_parse(&o->rpc_listen_addr, o->rpc_listen))
		return fail(2, "--rpc-listen \"%s\": want IPv4:PORT, [IPv6]:PORT or localhost:PORT",
		            o->rpc_listen);
	return 0;
}

/* The data directory (created 0700 if missing) and its lock: one daemon per
 * directory, or two would fight over the seed and the control socket. */
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

/* The node's parameters for the enclave: limits, timers, public facts. */
static void node_params(const alightd *d, const options *o, al_enclave_node_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->coin = d->np->coin;
	p->max_peers = d->max_peers;
	p->max_handshakes = d->max_pending;
	p->handshake_timeout_ms =
	    o->handshake_timeout_ms >= 0 ? (uint64_t)o->handshake_timeout_ms : UINT64_MAX;
	p->ping_interval_ms = o->ping_interval_ms >= 0 ? (uint64_t)o->ping_interval_ms : UINT64_MAX;
	p->pong_timeout_ms = o->pong_timeout_ms >= 0 ? (uint64_t)o->pong_timeout_ms : UINT64_MAX;
	p->idle_timeout_ms = o->idle_timeout_ms >= 0 ? (uint64_t)o->idle_timeout_ms : UINT64_MAX;
	snprintf(p->network, sizeof(p->network), "%s", d->np->name);
	snprintf(p->listen, sizeof(p->listen), "%s", d->listen_addr);
}

/* The on-chain wallet inside the enclave (--esplora): its keys come from the seed the
 * node already took; the host hands in the URL and the trust for https as bytes (the
 * CA file, else the system roots, and/or a pin). */
static al_err open_wallet(alightd *d, const options *o)
{
	uint8_t pin[AL_TLS_PIN_LEN], *ca = NULL;
	size_t ca_len = 0, n_pins = 0;
	al_err e;

	if (o->esplora_pin != NULL) {
		if (strlen(o->esplora_pin) != 2 * AL_TLS_PIN_LEN ||
		    al_hex_decode_exact(pin, sizeof(pin), o->esplora_pin) != AL_OK) {
			logf_("wallet: --esplora-pin wants 64 hex digits (SHA-256 of the SPKI)");
			return AL_E_ARG;
		}
		n_pins = 1;
	}
	if (o->esplora_ca != NULL) {
		if ((ca = al_net_read_file(o->esplora_ca, &ca_len)) == NULL) {
			logf_("wallet: cannot read --esplora-ca %s", o->esplora_ca);
			return AL_E_NET_FILE;
		}
	} else if (n_pins == 0 && strncmp(o->esplora, "https:", 6) == 0) {
		ca = al_net_read_file(AL_HTTPC_SYSTEM_CA, &ca_len);
	}
	e = (al_err)d->enc->ec->wallet_open(d->node, o->esplora, strlen(o->esplora), ca, ca_len,
	                                    pin, n_pins);
	free(ca);
	peers_settle(d);
	if (e != AL_OK)
		logf_("wallet: cannot open (esplora %s): %s", o->esplora, al_err_str(e));
	else
		logf_("wallet open esplora=%s (inside the enclave)", o->esplora);
	return e;
}

/* The seed's words go into the enclave once, which derives the node key there (and
 * keeps the seed for the wallet); the host's copy is wiped. */
static int load_key(alightd *d, const options *o)
{
	char words[AL_BIP39_MNEMONIC_BUFLEN], path[PATH_MAX];
	al_enclave_node_params p;
	al_enclave_node_info ni;
	bool created = false;
	al_err e;

	if (o->seed_file != NULL) {
		snprintf(path, sizeof(path), "%s", o->seed_file);
		e = al_seed_read(words, path);
	} else {
		if (snprintf(path, sizeof(path), "%s/seed", o->datadir) >= (int)sizeof(path))
			return fail(1, "data directory path too long");
		e = al_seed_load_or_create(words, &created, path, &d->rng);
	}
	node_params(d, o, &p);
	if (e == AL_OK)
		e = (al_err)d->enc->ec->node_seed(&p, words, strlen(words), &d->node);
	if (e == AL_OK)
		e = (al_err)d->enc->ec->node_info(d->node, &ni);
	if (e == AL_OK)
		memcpy(d->node_id, ni.node_id, 33);
	al_memzero(words, sizeof(words));
	if (e == AL_OK && o->esplora != NULL && open_wallet(d, o) != AL_OK)
		return fail(1, "cannot open the wallet (esplora %s)", o->esplora);
	if (e == AL_E_HOST_IO)
		return fail(1, "seed file %s: %s", path, strerror(errno));
	if (e != AL_OK)
		return fail(1, "seed file %s: %s", path, al_err_str(e));
	logf_("seed %s path=%s (24-word BIP39, not shown)", created ? "created" : "loaded", path);
	return 0;
}

static size_t loop_slots(const alightd *d)
{
	/* connections, control clients (Unix and RA-TLS), listener, control listeners,
	 * signal pipe */
	return d->n_conns + 2 * RPC_CLIENTS + 4;
}

/* Everything the host side will ever allocate, in one figure (the node's memory is
 * the enclave's heap). */
static size_t arena_bytes(const alightd *d)
{
	return al_secp_size() + 64 + peers_table_size(d->n_conns) + 64 +
	       al_loop_size(loop_slots(d)) + 64 + rpc_table_size(d->rpc_out_cap) + d->rpc_out_cap +
	       RPC_SCRATCH + 4096;
}

static int make_secp(alightd *d)
{
	uint8_t seed[32];
	al_secp *secp = NULL;
	void *mem;
	al_err e = al_arena_alloc(&d->arena, al_secp_size(), 16, &mem);

	if (e == AL_OK)
		e = al_rng_fill(&d->rng, seed, sizeof(seed));
	if (e == AL_OK)
		e = al_secp_create(&secp, mem, al_secp_size(), seed);
	al_memzero(seed, sizeof(seed));
	if (e != AL_OK)
		return fail(1, "cannot create the secp256k1 context: %s", al_err_str(e));
	d->secp = secp;
	return 0;
}

/* Load the enclave: measured, its heap reserved, initialised. */
static int setup_enclave(alightd *d, const options *o)
{
	char state[PATH_MAX], kv[PATH_MAX];
	al_enclave_host_config hc = {0};
	al_err e;

	if (snprintf(state, sizeof(state), "%s/enclave", o->datadir) >= (int)sizeof(state))
		return fail(1, "data directory path too long");
	hc.image = o->enclave;
	hc.heap_size = o->enclave_heap;
	hc.state = state;
	if (o->esplora != NULL) {
		if (snprintf(kv, sizeof(kv), "%s/wallet", o->datadir) >= (int)sizeof(kv))
			return fail(1, "data directory path too long");
		hc.kv_dir = kv;
	}
	memcpy(hc.chain_hash, d->np->chain_hash, 32);
	hc.max_nodes = 1;
	hc.max_conns = (uint32_t)d->n_conns;
	hc.node_max_peers = d->max_peers;
	hc.node_max_handshakes = d->max_pending;
	peers_enclave_net(d, &hc.net);
	e = al_enclave_host_open(&d->enc, &hc);
	if (e != AL_OK)
		return fail(1, "cannot load the enclave %s: %s",
		            o->enclave ? o->enclave : "(default)", al_err_str(e));
	return 0;
}

static int setup_core(alightd *d, const options *o)
{
	al_peer_config cfg;
	void *mem;
	al_err e;
	int rc;

	/* The peer manager runs in the enclave; its defaults are the limits' defaults. */
	al_peer_config_default(&cfg);
	d->max_peers = (uint32_t)o->max_peers;
	d->max_pending =
	    o->max_pending != 0 ? (uint32_t)o->max_pending : cfg.max_pending_handshakes;
	d->n_conns = (size_t)d->max_peers + d->max_pending;
	d->rpc_out_cap = RPC_OUT_BASE + (size_t)d->max_peers * RPC_OUT_PER_PEER + RPC_OUT_WALLET;

	/* ONE allocation for the host side's lifetime: every table. */
	d->arena_len = arena_bytes(d);
	d->arena_mem = d->arena_len ? malloc(d->arena_len) : NULL;
	if (d->arena_mem == NULL)
		return fail(1, "cannot allocate the %zu-byte arena", d->arena_len);
	al_arena_init(&d->arena, d->arena_mem, d->arena_len);

	rc = make_secp(d);
	if (rc != 0)
		return rc;
	e = al_arena_alloc(&d->arena, al_loop_size(loop_slots(d)), 16, &mem);
	if (e == AL_OK)
		e = al_loop_init(&d->loop, mem, al_loop_size(loop_slots(d)), loop_slots(d));
	if (e == AL_OK)
		e = peers_init(d);
	if (e != AL_OK)
		return fail(1, "cannot set up the connection table: %s", al_err_str(e));
	return setup_enclave(d, o);
}

/* DIR/rpc.token (64 hex digits, mode 0600, made on first use): read it, or create it
 * (O_EXCL) with fresh randomness. Whoever can read the data directory may control the
 * node, as with the Unix socket. */
static al_err load_token(alightd *d, char token[AL_ENCLAVE_CTL_TOKEN_LEN], char *msg, size_t cap)
{
	char path[PATH_MAX], line[AL_ENCLAVE_CTL_TOKEN_LEN + 2];
	uint8_t raw[AL_ENCLAVE_CTL_TOKEN_LEN / 2];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/rpc.token", d->datadir) >= (int)sizeof(path)) {
		snprintf(msg, cap, "data directory path too long");
		return AL_E_ARG;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		bool ok = al_rng_fill(&d->rng, raw, sizeof(raw)) == AL_OK &&
		          al_hex_encode(line, sizeof(line), raw, sizeof(raw)) == AL_OK;

		line[AL_ENCLAVE_CTL_TOKEN_LEN] = '\n';
		ok =
		    ok &&
		    write(fd, line, AL_ENCLAVE_CTL_TOKEN_LEN + 1) == AL_ENCLAVE_CTL_TOKEN_LEN + 1 &&
		    fsync(fd) == 0;
		close(fd);
		if (!ok) {
			unlink(path);
			snprintf(msg, cap, "cannot write %s", path);
			return AL_E_HOST_IO;
		}
	} else if (errno != EEXIST) {
		snprintf(msg, cap, "cannot create %s: %s", path, strerror(errno));
		return AL_E_HOST_IO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, line, sizeof(line)) : -1;
	if (fd >= 0)
		close(fd);
	if (n >= AL_ENCLAVE_CTL_TOKEN_LEN)
		line[AL_ENCLAVE_CTL_TOKEN_LEN] = '\0';
	bool ok =
	    n >= AL_ENCLAVE_CTL_TOKEN_LEN && al_hex_decode_exact(raw, sizeof(raw), line) == AL_OK;
	if (ok)
		memcpy(token, line, AL_ENCLAVE_CTL_TOKEN_LEN);
	else
		snprintf(msg, cap, "%s is not a token (64 hex digits)", path);
	al_memzero(line, sizeof(line));
	al_memzero(raw, sizeof(raw));
	return ok ? AL_OK : AL_E_HOST_IO;
}

/* The control API over RA-TLS (--rpc-listen): the host loads the quoting platform, the
 * enclave makes its TLS key and certificate and takes the token (our copy is wiped),
 * then the listener relays ciphertext to it. */
static int setup_ratls(alightd *d, const options *o)
{
	const char *dir = o->sim_dir != NULL ? o->sim_dir : al_sim_platform_dir(NULL);
	char msg[PATH_MAX + 128], token[AL_ENCLAVE_CTL_TOKEN_LEN];
	al_err e;

#ifdef ALIGHT_SIM_DIR
	if (dir == NULL)
		dir = ALIGHT_SIM_DIR;
#endif
	e = al_enclave_host_platform(d->enc, dir);
	if (e != AL_OK)
		return fail(1, "--rpc-listen: cannot load the simulated platform %s: %s",
		            dir ? dir : "(no --sim-dir)", al_err_str(e));
	if (load_token(d, token, msg, sizeof(msg)) != AL_OK)
		return fail(1, "--rpc-listen: %s", msg);
	e = (al_err)d->enc->ec->ctl_setup(token, sizeof(token));
	al_memzero(token, sizeof(token));
	peers_settle(d);
	if (e != AL_OK)
		return fail(1, "--rpc-listen: the enclave cannot make its RA-TLS identity: %s",
		            al_err_str(e));
	if (peers_listen_ctl(d, &o->rpc_listen_addr) != AL_OK)
		return fail(1, "cannot listen on %s: %s", o->rpc_listen, strerror(errno));
	logf_("rpc RA-TLS on %s: TLS terminates inside the enclave (platform sim)",
	      d->rpc_tls_addr);
	return 0;
}

static int setup_io(alightd *d, const options *o)
{
	static const int sigs[] = {SIGTERM, SIGINT};

	if (al_loop_stop_on_signals(d->loop, sigs, 2) != AL_OK)
		return fail(1, "cannot install signal handlers");
	if (o->listen != NULL && peers_listen(d, &o->listen_addr) != AL_OK)
		return fail(1, "cannot listen on %s: %s", o->listen, strerror(errno));
	if (snprintf(d->rpc_path, sizeof(d->rpc_path), "%s/rpc.sock", o->datadir) >=
	    (int)sizeof(d->rpc_path))
		return fail(1, "data directory path too long for the control socket");
	if (rpc_init(d) != AL_OK)
		return fail(1, "cannot serve the control socket %s: %s", d->rpc_path,
		            strerror(errno));
	if (o->rpc_listen != NULL && setup_ratls(d, o) != 0)
		return 1;
	/* Last: the node learns its listen address, and serves once the loop runs. */
	return load_key(d, o);
}

/* The first stdout line: what a supervisor or a test needs to reach the node. */
static void announce(const alightd *d)
{
	char out[sizeof(d->rpc_path) + 1024];
	al_wb w;

	al_wb_init(&w, out, sizeof(out) - 1);
	jw_raw(&w, "{\"node_id\":");
	jw_hex(&w, d->node_id, 33);
	jw_raw(&w, ",\"listen\":");
	if (d->listen_addr[0])
		jw_str(&w, d->listen_addr);
	else
		jw_raw(&w, "null");
	jw_raw(&w, ",\"network\":");
	jw_str(&w, d->np->name);
	jw_raw(&w, ",\"rpc\":");
	jw_str(&w, d->rpc_path);
	jw_raw(&w, ",\"platform\":\"sim\",\"measurement\":");
	jw_hex(&w, d->enc->measurement, 32);
	if (d->rpc_tls_addr[0]) {
		jw_raw(&w, ",\"rpc_listen\":");
		jw_str(&w, d->rpc_tls_addr);
	}
	jw_raw(&w, "}");
	out[w.len < sizeof(out) ? w.len : sizeof(out) - 1] = '\0';
	printf("%s\n", out);
	fflush(stdout);
}

static void teardown(alightd *d)
{
	peers_shutdown(d);
	rpc_shutdown(d);
	al_enclave_host_close(d->enc);
	d->enc = NULL;
	if (d->secp != NULL)
		al_secp_destroy((al_secp *)d->secp);
	if (d->arena_mem != NULL) {
		al_memzero(d->arena_mem, d->arena_len);
		free(d->arena_mem);
	}
}

/* The start-up line. arena= is the memory committed at start: the host's arena plus
 * what the enclave's heap holds by now (the node's arena with every connection slot,
 * the connection table, the libraries' state); the heap's reservation (MAP_NORESERVE)
 * is reported apart, it costs nothing until touched. */
static void started(const alightd *d, uint64_t nofile)
{
	al_enclave_stats st;

	d->enc->ec->stats(&st);
	logf_("started network=%s listen=%s rpc=%s max_peers=%u max_pending_handshakes=%u "
	      "arena=%zu (host %zu + enclave heap high-water %llu; in use %llu) "
	      "enclave_heap=%zu nofile=%llu",
	      d->np->name, d->listen_addr[0] ? d->listen_addr : "-", d->rpc_path, d->max_peers,
	      d->max_pending, d->arena_len + (size_t)st.heap_high, d->arena_len,
	      (unsigned long long)st.heap_high, (unsigned long long)st.heap_used, d->enc->heap_size,
	      (unsigned long long)nofile);
}

int main(int argc, char **argv)
{
	static alightd d;
	uint64_t nofile = 0;
	options o;
	int rc;

	d.listen_fd = d.rpc_fd = d.reserve_fd = d.rpc_tls_fd = -1;
	d.started_ms = al_loop_now_ms();
	al_os_rng(&d.rng);
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
