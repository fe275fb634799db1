"""alightd and alight-cli: the command-line contract.

- alightd's first stdout line is JSON {"measurement", "rpc_listen", "nodes", ...} with the real
  bound ports; it serves until SIGTERM (or SIGINT) and exits 0.
- The host holds no seed: the user provisions node 0 over the user channel, with the seed in
  the user's own file (--seed-file, mode 0600, outside the data directory) or one made inside
  the enclave and written there once. The node key is LND's m/1017'/coin'/6'/0/0 of that seed:
  Electrum derives the same key independently. Restarting on the same directory reopens the
  node from its sealed anchor: the same node id, no user needed.
- alight-cli getinfo / listpeers / connect over the operator's control socket DIR/rpc.sock
  (mode 0600), between real alightd processes over IPv4 and IPv6.
- Every failure is {"error":{"message":...}} with a non-zero exit: bad arguments, a closed port,
  the wrong node id, a daemon that is not running.
"""

import os
import signal
import socket
import stat
import time

import pytest

from conftest import refused_port, scaled
from daemon_util import (ZERO_MNEMONIC, cli, daemon_fails, electrum_chain_hash, electrum_node_id,
                         error_message, rest, start_daemon)

SEED_WORDS = 24


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def files_under(path):
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            if os.path.isfile(p):
                yield p


def contains(path, needle):
    with open(path, "rb") as f:
        return needle in f.read()


# --- start-up, provisioning, node key -----------------------------------------------------------

def test_first_line_provision_and_getinfo(procs, tmp_path, electrum_available):
    d = start_daemon(procs, tmp_path / "a", provision=False)
    assert set(d.info) >= {"measurement", "rpc_listen", "rpc", "nodes"}, d.info
    assert d.info["nodes"] == [] and d.node_id is None
    # The user channel's port printed is the real one: something listens there.
    host, port = d.rpc_listen.rsplit(":", 1)
    socket.create_connection((host, int(port)), timeout=scaled(5)).close()
    # The operator reaches no node before a user provisions one.
    rc, out = cli("getinfo", datadir=d.datadir)
    assert rc == 1 and "no node" in error_message(out)

    # The user provisions: a seed made inside the enclave, its words written once, to the
    # user's file (never into the host's directory).
    out = d.provision(mnemonic=None)
    assert out["node"] == 0 and "mnemonic" not in out and out["seed_file"] == str(d.seed_file)
    info = d.await_node()
    assert mode_of(d.seed_file) == 0o600
    words = d.seed_file.read_text().split()
    assert len(words) == SEED_WORDS
    # The oracle: Electrum's BIP 39 + BIP 32 along LND's node key path (coin 1 on regtest).
    assert d.node_id == out["node_id"] == electrum_node_id(" ".join(words), 1)
    assert info["node_id"] == info["identity_pubkey"] == d.node_id
    assert info["network"] == "regtest"
    assert info["num_peers"] == info["peers"] == 0
    assert info["chain_hash"] == electrum_chain_hash("regtest")
    assert info["storage"]["rollback_protection"] == "off"  # one store: said plainly
    # The peer port printed is the real one.
    socket.create_connection((d.host, d.port), timeout=scaled(5)).close()
    assert mode_of(tmp_path / "a" / "rpc.sock") == 0o600
    # The host's directory holds no seed and no token: no file carries the words, nothing
    # is named after a seed or a token.
    assert not (tmp_path / "a" / "seed").exists() and not (tmp_path / "a" / "rpc.token").exists()
    # A leak is looked for as any three consecutive words of the seed: single words are
    # common English ("quote", "key", "inside" are BIP 39 words this log uses), and a
    # random seed shares one with the log or a binary file now and then, a trigram never.
    trigrams = [" ".join(words[i:i + 3]) for i in range(len(words) - 2)]
    for f in files_under(tmp_path / "a"):
        if not f.endswith("rpc.sock"):
            assert not any(contains(f, t.encode()) for t in trigrams), f
    # Never a secret in the log.
    log = " ".join(d.stderr(limit=1 << 20).split())
    assert not any(t in log for t in trigrams), "seed words were logged"
    # Exported once more to the user, over the user channel only.
    assert d.user("exportseed")["mnemonic"] == " ".join(words)
    rc, out = cli("exportseed", datadir=d.datadir)
    assert rc != 0


def test_restart_keeps_node_id(procs, tmp_path):
    d = start_daemon(procs, tmp_path / "a")
    assert d.stop(signal.SIGTERM) == 0
    assert not os.path.exists(tmp_path / "a" / "rpc.sock")
    d2 = start_daemon(procs, tmp_path / "a", provision=False)
    assert d2.info["nodes"][0]["node_id"] == d.node_id
    assert d2.await_node()["identity_pubkey"] == d.node_id


def test_provision_a_given_seed(procs, tmp_path, electrum_available):
    d = start_daemon(procs, tmp_path / "a", provision=False)
    # Surrounding blanks, CRLF and doubled spaces are tolerated; the words are what count.
    d.seed_file.write_text("  " + ZERO_MNEMONIC.replace(" ", "  ", 3) + "\r\n")
    out = d.user("provision")
    assert out["node_id"] == electrum_node_id(ZERO_MNEMONIC, 1)
    # The same seed twice is one node.
    rc, out = d.user_fails("provision")
    assert rc == 1 and "already" in error_message(out)
    d.stop()
    # Mainnet uses coin type 0, and its own chain hash.
    m = start_daemon(procs, tmp_path / "m", "--network", "mainnet", mnemonic=ZERO_MNEMONIC)
    assert m.node_id == electrum_node_id(ZERO_MNEMONIC, 0) != out.get("node_id")
    info = m.cli("getinfo")
    assert info["network"] == "mainnet"
    assert info["chain_hash"] == electrum_chain_hash("mainnet")


@pytest.mark.parametrize("network", ["testnet", "signet"])
def test_test_networks(procs, tmp_path, network, electrum_available):
    d = start_daemon(procs, tmp_path / network, "--network", network, mnemonic=ZERO_MNEMONIC)
    assert d.node_id == electrum_node_id(ZERO_MNEMONIC, 1)
    info = d.cli("getinfo")
    assert info["network"] == network
    assert info["chain_hash"] == electrum_chain_hash(network)


def test_bad_seeds(procs, tmp_path):
    d = start_daemon(procs, tmp_path / "a", provision=False)
    bad = tmp_path / "bad.txt"
    bad.write_text(" ".join(["abandon"] * 24) + "\n")  # checksum wrong
    rc, out = d.user_fails("provision", seed_file=bad)
    assert rc == 2 and "checksum" in error_message(out)
    bad.write_text(" ".join(["abandon"] * 11 + ["about", "zebra"]) + "\n")  # 13 words
    rc, out = d.user_fails("provision", seed_file=bad)
    assert rc == 2 and "word count" in error_message(out)
    # The user's seed file exists and is kept: a bad one is never replaced.
    assert bad.read_text().startswith("abandon")
    # Commands other than provision need the seed.
    rc, out = d.user_fails("getinfo", seed_file=tmp_path / "missing")
    assert rc == 2 and "provision first" in error_message(out)
    # A credential that opens no node: refused by the enclave.
    other = tmp_path / "other.txt"
    other.write_text(" ".join(["zoo"] * 23 + ["vote"]) + "\n")
    rc, out = d.user_fails("getinfo", seed_file=other)
    assert rc == 1 and "no node here has this credential" in error_message(out)


def test_bad_arguments(tmp_path):
    cases = [
        (["--listen", "127.0.0.1:0"], "--datadir"),
        (["--datadir", tmp_path / "a", "--seed-file", tmp_path / "s"], "option"),
        (["--datadir", tmp_path / "a", "--rpc-listen", "nowhere"], "--rpc-listen"),
        (["--datadir", tmp_path / "a", "--max-nodes", "0"], "--max-nodes"),
        (["--datadir", tmp_path / "a", "--store-quorum", "2"], "--store-quorum"),
        (["--datadir", tmp_path / "a", "--network", "bitcoin-cash"], "network"),
        (["--datadir", tmp_path / "a", "--listen", "127.0.0.1"], "--listen"),
        (["--datadir", tmp_path / "a", "--listen", "example.com:9735"], "--listen"),
        (["--datadir", tmp_path / "a", "--listen", "[::1:9735"], "--listen"),
        (["--datadir", tmp_path / "a", "--max-peers", "0"], "--max-peers"),
        (["--datadir", tmp_path / "a", "--no-such-option"], "option"),
        (["--datadir", tmp_path / "a", "stray"], "argument"),
    ]
    for argv, word in cases:
        rc, err = daemon_fails(*argv)
        assert word in error_message(err), (argv, err)
        assert rc == 2, (argv, rc)
        # Arguments are checked before the data directory (and a seed) is touched.
        assert not (tmp_path / "a").exists(), argv


def test_listen_in_use_and_datadir_lock(procs, tmp_path):
    d = start_daemon(procs, tmp_path / "a")
    rc, err = daemon_fails("--datadir", tmp_path / "b", "--rpc-listen", d.rpc_listen)
    assert "cannot listen" in error_message(err) and rc == 1
    # A node that serves at start and cannot listen for its peers fails the start.
    d.stop()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    taken = "127.0.0.1:%d" % blocker.getsockname()[1]
    rc, err = daemon_fails("--datadir", tmp_path / "a", "--listen", taken)
    blocker.close()
    assert "cannot listen" in error_message(err) and rc == 1
    d = start_daemon(procs, tmp_path / "a", provision=False)
    d.await_node()
    rc, err = daemon_fails("--datadir", tmp_path / "a", "--listen", "127.0.0.1:0")
    assert "in use" in error_message(err) and rc == 1
    assert d.running() and d.cli("getinfo")["node_id"] == d.node_id


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_cleanly(procs, tmp_path, sig):
    d = start_daemon(procs, tmp_path / "a")
    d.cli("getinfo")
    assert d.stop(sig) == 0
    assert "stopping (signal %d)" % sig in d.stderr()


# --- peers -------------------------------------------------------------------------------------

def check_peer(entry, node_id, connected=True):
    assert entry["node_id"] == entry["pub_key"] == node_id
    assert entry["connected"] is connected
    bits = int(entry["features"], 16)
    # Our default init offers data_loss_protect, gossip_queries and static_remotekey (odd bits).
    for b in (1, 7, 13):
        assert bits >> b & 1, (b, entry["features"])
    assert "option_static_remotekey" in entry["feature_names"]


def peers_of(d):
    return d.cli("listpeers")["peers"]


def test_connect_ipv4_and_ipv6(procs, tmp_path):
    a = start_daemon(procs, tmp_path / "a")                  # IPv4
    b = start_daemon(procs, tmp_path / "b", listen="[::1]:0")  # IPv6
    c = start_daemon(procs, tmp_path / "c")
    assert b.address.startswith("[::1]:")

    r = c.cli("connect", a.target)
    check_peer(r["peer"], a.node_id)
    assert r["peer"]["address"] == a.address and r["peer"]["inbound"] is False
    r = c.cli("connect", "%s@%s" % (b.node_id, b.address))
    check_peer(r["peer"], b.node_id)
    assert r["peer"]["address"] == b.address

    listed = {p["node_id"]: p for p in peers_of(c)}
    assert set(listed) == {a.node_id, b.node_id}
    for p in listed.values():
        check_peer(p, p["node_id"])
    assert c.cli("getinfo")["num_peers"] == 2

    # The other sides see c as an inbound peer, from the right address family.
    pa = a.wait_peer(c.node_id)
    check_peer(pa, c.node_id)
    assert pa["inbound"] is True and pa["address"].startswith("127.0.0.1:")
    pb = b.wait_peer(c.node_id)
    assert pb["inbound"] is True and pb["address"].startswith("[::1]:")
    assert a.cli("getinfo")["num_peers"] == 1

    # A second connect is idempotent.
    assert c.cli("connect", a.target)["status"] == "already connected"

    # When a peer stops, the other side notices and forgets it.
    assert a.stop() == 0
    deadline = time.monotonic() + scaled(10)
    while a.node_id in {p["node_id"] for p in peers_of(c)}:
        assert time.monotonic() < deadline, peers_of(c)
        time.sleep(0.05)
    assert c.cli("getinfo")["num_peers"] == 1
    assert "disconnected" in c.stderr()


def test_connect_failures(procs, tmp_path):
    a = start_daemon(procs, tmp_path / "a")
    b = start_daemon(procs, tmp_path / "b")

    # Nothing listens there.
    with refused_port() as port:
        rc, out = cli("connect", "%s@127.0.0.1:%d" % (b.node_id, port), datadir=a.datadir)
    assert rc == 1 and "refused" in error_message(out)
    # Someone listens, but it is not that node: BOLT 8 act one cannot be read there.
    wrong = a.node_id  # any valid key that is not b's
    c = start_daemon(procs, tmp_path / "c")
    rc, out = cli("connect", "%s@%s" % (wrong, b.address), datadir=c.datadir)
    assert rc == 1 and "failed" in error_message(out)
    # Malformed requests.
    for arg in ("nonsense", "%s@" % b.node_id, "%s@%s" % (b.node_id[:-2], b.address)):
        rc, out = cli("connect", arg, datadir=a.datadir)
        assert rc != 0, arg
        error_message(out)
    bad_key = "02" + "00" * 32  # not on the curve
    rc, out = cli("connect", "%s@%s" % (bad_key, b.address), datadir=a.datadir)
    assert rc == 1 and "node id" in error_message(out)
    rc, out = cli("connect", "%s@example.com:9735" % b.node_id, datadir=a.datadir)
    assert rc == 1 and "address" in error_message(out)
    rc, out = cli("connect", "%s@%s" % (a.node_id, b.address), datadir=a.datadir)
    assert rc == 1 and "ourselves" in error_message(out)
    # Both daemons serve on, with no peer left behind.
    assert peers_of(a) == [] and peers_of(b) == []
    assert a.running() and b.running() and c.running()


def test_cli_errors(procs, tmp_path):
    rc, out = cli("getinfo")
    assert rc == 2 and "--datadir" in error_message(out)
    rc, out = cli("provision", datadir=tmp_path)
    assert rc == 2 and "user channel" in error_message(out)
    rc, out = cli("getinfo", datadir=tmp_path / "nobody")
    assert rc == 1 and "cannot reach alightd" in error_message(out)
    d = start_daemon(procs, tmp_path / "a")
    for args in (["frobnicate"], [], ["getinfo", "extra"], ["connect"]):
        rc, out = cli(*args, datadir=d.datadir)
        assert rc == 2, args
        error_message(out)


# --- the REST API itself, with Python's HTTP client ------------------------------------------

def test_rest_api(procs, tmp_path):
    a = start_daemon(procs, tmp_path / "a")
    b = start_daemon(procs, tmp_path / "b")
    status, info = rest(a.datadir, "GET", "/v1/getinfo")
    assert status == 200 and info["identity_pubkey"] == a.node_id and info["num_peers"] == 0
    status, body = rest(a.datadir, "GET", "/v1/peers")
    assert status == 200 and body == {"peers": []}
    status, body = rest(a.datadir, "GET", "/v1/nothing")
    assert status == 404 and error_message(body)
    status, body = rest(a.datadir, "DELETE", "/v1/getinfo")
    assert status == 405 and error_message(body)
    status, body = rest(a.datadir, "POST", "/v1/peers", body=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert status == 400 and "JSON" in error_message(body)
    status, body = rest(a.datadir, "POST", "/v1/peers", body=b'{"addr":{"pubkey":"02"}}')
    assert status == 400 and error_message(body)
    # LND's ConnectPeer body.
    req = '{"addr":{"pubkey":"%s","host":"%s"},"perm":false}' % (b.node_id, b.address)
    status, body = rest(a.datadir, "POST", "/v1/peers", body=req.encode())
    assert status == 200 and body["peer"]["node_id"] == b.node_id
    status, info = rest(a.datadir, "GET", "/v1/getinfo?verbose=1")
    assert status == 200 and info["num_peers"] == 1


def test_rest_rejects_malformed_http(procs, tmp_path):
    """Raw bytes on the control socket: a smuggling-shaped request gets a 400 and the daemon
    serves on."""
    d = start_daemon(procs, tmp_path / "a")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(scaled(10))
    s.connect(str(d.datadir / "rpc.sock"))
    s.sendall(b"POST /v1/peers HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 400 "), data
    assert d.cli("getinfo")["node_id"] == d.node_id


def test_long_datadir(procs, tmp_path):
    """A control socket path longer than sun_path's 108 bytes still works (reached through the
    directory's descriptor)."""
    deep = tmp_path / ("d" * 100) / "node"
    assert len(str(deep / "rpc.sock")) > 108
    d = start_daemon(procs, deep)
    assert d.cli("getinfo")["node_id"] == d.node_id
    assert mode_of(deep / "rpc.sock") == 0o600
    assert d.stop() == 0
