"""A node's records on several stores at once (issue 11): alightd --store takes directories and
alight-store URLs mixed; the host is the adversary.

The node is provisioned and driven by its user over the user channel (alight-cli), funded on
alight-devchain; the stores are real: directories, alight-store on SQLite and on PostgreSQL (a
private cluster on a Unix socket). What the tests check:
  - a node on a directory and an alight-store, and one on alight-store with PostgreSQL alone,
    keep their wallet (balance, address index) across a restart of alightd;
  - the host deletes the directory replica: at quorum 1 the node comes back from the alight-store
    replica with its state (the emptied directory stays out of the set, AL_E_STORE_ROLLBACK); at
    quorum 2 it refuses to load (AL_E_STORE_REPLICAS);
  - the host swaps the directory, or the alight-store's database, for an older consistent copy:
    the stale replica is refused with AL_E_STORE_ROLLBACK and the node serves the newer state
    (the next address is a new one), or refuses to load at quorum 2;
  - the alight-store stops while the node runs: writes to it fail with AL_E_NET_CONNECT (logged
    with the replica's index and URL); at quorum 1 the node keeps working, at quorum 2 it answers
    an error and fails rather than claim durability; a database error behind the store comes back
    as AL_E_VSS_SERVER, a store that does not answer as AL_E_NET_TIMEOUT;
  - a store that holds a write does not hold the loop: while the write waits at a gate the test
    controls, the operator's getinfo is answered and a peer completes its BOLT 8 handshake and
    gets the node's init (ordering only: the write cannot have finished while the gate is shut);
  - https stores with --store-ca and --store-pin; a wrong pin is AL_E_TLS_PIN;
  - bad --store arguments are refused at start with a precise message.
"""
import base64
import hashlib
import re
import shutil
import stat
import subprocess

from conftest import scaled
from daemon_util import daemon_fails, error_message
from devchain_util import devchain  # noqa: F401  (fixture)
from raw_noise import RawInitiator
from replica_util import (GateProxy, TcpFront, reasons, refused_url, restart, slot0, start,
                          storage, stores)
from store_util import Postgres, Store, User, make_cert

MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
MSG_INIT = 16


def fund(d, chain, amount=1_000_000):
    """The user chooses the chain server, takes an address and is paid there (confirmed)."""
    d.user("setchain", chain.url)
    addr = d.user("newaddress")["address"]
    chain.mine(101, MINER)
    chain.faucet(addr, amount)
    chain.mine(1, MINER)
    assert d.user("walletbalance")["confirmed_balance"] == amount
    return addr


def store(procs, path, **kw):
    s = Store(path, **kw)
    procs.append(s)
    return s


def account(d):
    """The host's account with its remote stores: the key file alightd made (0600)."""
    key = d.datadir / "store-auth-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    return User(bytes.fromhex(key.read_text().strip()))


def test_directory_and_sqlite_store_survive_restart(procs, tmp_path, devchain):  # noqa: F811
    s = store(procs, tmp_path / "store")
    where = stores(tmp_path / "dir", s.url)
    d = start(procs, tmp_path / "d", *where)
    st = storage(d)
    assert (st["stores"], st["in_set"], st["rollback_protection"]) == (2, 2, "on"), st
    addr = fund(d, devchain)
    # alight-store holds node 0's records under the host's own account, as the directory does.
    keys, gv, _ = s.client(account(d), "node-0").list_all()
    assert gv >= 2 and len(keys) >= 3, (keys, gv)
    assert len(list((tmp_path / "dir" / "node-0" / "objects").iterdir())) >= 1

    d = restart(procs, d, *where)
    st = storage(d)
    assert st["in_set"] == 2 and st["global_version"] >= gv, st
    assert d.user("walletbalance")["confirmed_balance"] == 1_000_000
    assert d.user("newaddress")["address"] != addr


def test_postgres_store_alone_survives_restart(procs, tmp_path, devchain):  # noqa: F811
    pg = Postgres()
    try:
        db = pg.new_db()
        s = Store(tmp_path / "store", postgres=pg.conninfo(db))
        try:
            d = start(procs, tmp_path / "d", *stores(s.url))
            st = storage(d)
            assert (st["stores"], st["in_set"], st["rollback_protection"]) == (1, 1, "off")
            addr = fund(d, devchain)
            rows = pg.sql("SELECT count(*) FROM vss_objects WHERE store_id = '\\x%s'" %
                          b"node-0".hex(), db)
            assert int(rows) >= 3, rows
            d = restart(procs, d, *stores(s.url))
            assert d.user("walletbalance")["confirmed_balance"] == 1_000_000
            assert d.user("newaddress")["address"] != addr
            # A database error behind the server reaches the node as the server's error.
            d = restart(procs, d, *stores(s.url, tmp_path / "dir"), "--store-quorum", "1")
            assert reasons(d) == ["", "AL_E_STORE_ROLLBACK"]  # the new directory is empty
            pg.sql("ALTER TABLE vss_objects RENAME TO gone", db)
            rc, out = d.user_fails("newaddress")
            assert "storage failed" in error_message(out), out
            assert slot0(d) == ("failed", "AL_E_STORE_REPLICAS")
            assert "store 0 (%s): node 0 put failed: AL_E_VSS_SERVER" % s.url in d.stderr(1 << 20)
            d.stop()
        finally:
            s.stop()
    finally:
        pg.stop()


def test_directory_deleted(procs, tmp_path, devchain):  # noqa: F811
    s = store(procs, tmp_path / "store")
    where = stores(tmp_path / "dir", s.url)
    d = start(procs, tmp_path / "d", *where)
    addr = fund(d, devchain)
    d.stop()
    shutil.rmtree(tmp_path / "dir")

    # Every replica required: the node refuses to load rather than guess.
    d = start(procs, tmp_path / "d", *where, provision=False)
    assert d.info["nodes"] == []
    assert slot0(d) == ("failed", "AL_E_STORE_REPLICAS")
    # One is enough: the node comes back from alight-store with its state; the emptied
    # directory is behind the proven version and stays out of the set.
    d = restart(procs, d, *where, "--store-quorum", "1")
    assert reasons(d) == ["AL_E_STORE_ROLLBACK", ""]
    assert d.user("walletbalance")["confirmed_balance"] == 1_000_000
    assert d.user("newaddress")["address"] != addr
    assert reasons(d) == ["AL_E_STORE_ROLLBACK", ""]


def test_directory_swapped_for_older_copy(procs, tmp_path, devchain):  # noqa: F811
    s = store(procs, tmp_path / "store")
    where = stores(tmp_path / "dir", s.url)
    d = start(procs, tmp_path / "d", *where)
    d.user("setchain", devchain.url)
    first = d.user("newaddress")["address"]
    d.stop()
    shutil.copytree(tmp_path / "dir", tmp_path / "dir.old")
    d = start(procs, tmp_path / "d", *where, provision=False)
    second = d.user("newaddress")["address"]
    g = storage(d)["global_version"]
    d.stop()
    shutil.rmtree(tmp_path / "dir")
    shutil.copytree(tmp_path / "dir.old", tmp_path / "dir")

    d = start(procs, tmp_path / "d", *where, provision=False)
    assert slot0(d) == ("failed", "AL_E_STORE_REPLICAS")
    d = restart(procs, d, *where, "--store-quorum", "1")
    assert reasons(d) == ["AL_E_STORE_ROLLBACK", ""]
    assert storage(d)["global_version"] >= g
    # The old copy would hand out `second` again.
    assert d.user("newaddress")["address"] not in (first, second)


def test_store_database_rolled_back(procs, tmp_path, devchain):  # noqa: F811
    sdir = tmp_path / "store"
    s = store(procs, sdir)
    d = start(procs, tmp_path / "d", *stores(tmp_path / "dir", s.url))
    d.user("setchain", devchain.url)
    first = d.user("newaddress")["address"]
    d.stop()
    s.stop()
    shutil.copytree(sdir, tmp_path / "store.old")
    s = store(procs, sdir)
    d = start(procs, tmp_path / "d", *stores(tmp_path / "dir", s.url), provision=False)
    second = d.user("newaddress")["address"]
    d.stop()
    s.stop()
    shutil.rmtree(sdir)
    shutil.copytree(tmp_path / "store.old", sdir)
    s = store(procs, sdir)

    where = stores(tmp_path / "dir", s.url)
    d = start(procs, tmp_path / "d", *where, provision=False)
    assert slot0(d) == ("failed", "AL_E_STORE_REPLICAS")
    d = restart(procs, d, *where, "--store-quorum", "1")
    assert reasons(d) == ["", "AL_E_STORE_ROLLBACK"]
    assert d.user("newaddress")["address"] not in (first, second)


def test_store_stops_quorum_1_keeps_working(procs, tmp_path, devchain):  # noqa: F811
    s = store(procs, tmp_path / "store")
    front = TcpFront(s.url)
    procs.append(front)
    d = start(procs, tmp_path / "d", *stores(tmp_path / "dir", front.url), "--store-quorum",
                     "1")
    d.user("setchain", devchain.url)
    first = d.user("newaddress")["address"]
    front.down()  # the store is gone; its port stays held, so nothing else answers there
    second = d.user("newaddress")["address"]
    assert second != first
    st = storage(d)
    assert (st["in_set"], st["rollback_protection"]) == (1, "off"), st
    why = reasons(d)
    assert why[0] == "" and why[1].startswith("AL_E_NET_"), why
    assert "store 1 (%s): node 0 put failed: %s" % (front.url, why[1]) in d.stderr(1 << 20)
    # Still serving on the directory alone.
    assert d.user("newaddress")["address"] not in (first, second)


def test_store_stops_quorum_2_refuses(procs, tmp_path, devchain):  # noqa: F811
    s = store(procs, tmp_path / "store")
    front = TcpFront(s.url)
    procs.append(front)
    d = start(procs, tmp_path / "d", *stores(tmp_path / "dir", front.url))
    d.user("setchain", devchain.url)
    d.user("newaddress")
    front.down()
    rc, out = d.user_fails("newaddress")
    assert "storage failed" in error_message(out), out
    assert slot0(d) == ("failed", "AL_E_STORE_REPLICAS")
    assert re.search(r"store 1 \(%s\): node 0 put failed: AL_E_NET_" % re.escape(front.url),
                     d.stderr(1 << 20))
    # Restarted with nothing listening where the store was: the node does not load.
    url, held = refused_url()
    try:
        d = restart(procs, d, *stores(tmp_path / "dir", url))
        assert slot0(d) == ("failed", "AL_E_STORE_REPLICAS")
        assert "store 1 (%s): node 0 get failed: AL_E_NET_CONNECT" % url in d.stderr(1 << 20)
    finally:
        held.close()


def test_held_write_does_not_block_the_loop(procs, tmp_path, devchain):  # noqa: F811
    s = store(procs, tmp_path / "store")
    proxy = GateProxy(s.url)
    try:
        d = start(procs, tmp_path / "d", *stores(tmp_path / "dir", proxy.url))
        d.user("setchain", devchain.url)
        proxy.close_gate()
        p = subprocess.Popen(d.user_argv("newaddress"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            proxy.wait_held()
            # The write waits at the gate; the loop serves the operator and a new peer.
            assert d.cli("getinfo")["storage"]["in_set"] == 2
            peer = RawInitiator(bytes.fromhex(d.node_id), d.host, d.port, timeout=scaled(10))
            peer.handshake()
            assert int.from_bytes(peer.recv_msg()[:2], "big") == MSG_INIT
            peer.close()
            # Both replicas must take the write before the answer: it cannot have come.
            assert p.poll() is None
            proxy.open_gate()
            out, err = p.communicate(timeout=scaled(60))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0 and '"address"' in out, (out, err)
        assert reasons(d) == ["", ""]
    finally:
        proxy.stop()


def test_store_that_never_answers_times_out(procs, tmp_path, devchain):  # noqa: F811
    s = store(procs, tmp_path / "store")
    proxy = GateProxy(s.url)
    try:
        where = stores(tmp_path / "dir", proxy.url) + [
            "--store-quorum", "1", "--store-timeout-ms", str(scaled(5000))]
        d = start(procs, tmp_path / "d", *where)
        d.user("setchain", devchain.url)
        proxy.close_gate()
        d.user("newaddress")  # durable on the directory; the held store times out
        assert proxy.held == 1
        assert reasons(d) == ["", "AL_E_NET_TIMEOUT"]
        assert "store 1 (%s): node 0 put failed: AL_E_NET_TIMEOUT" % proxy.url in \
            d.stderr(1 << 20)
        # Restarted with the store still silent: the load's first request times out and
        # the ones queued behind it fail with it at once, never sent.
        proxy.close_gate()
        d = restart(procs, d, *where)
        assert proxy.held == 1
        assert reasons(d) == ["", "AL_E_NET_TIMEOUT"]
        assert re.search(r"store 1 \(%s\): unreachable: [1-9][0-9]* queued requests fail "
                         "with AL_E_NET_TIMEOUT" % re.escape(proxy.url), d.stderr(1 << 20))
    finally:
        proxy.stop()


def spki_pin(cert):
    spki = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                          check=True, capture_output=True, text=True).stdout
    der = base64.b64decode("".join(x for x in spki.splitlines() if "-----" not in x))
    return hashlib.sha256(der).hexdigest()


def test_https_store_ca_and_pin(procs, tmp_path, devchain):  # noqa: F811
    cert, key = make_cert(tmp_path)
    s = store(procs, tmp_path / "store", tls=(cert, key))
    assert s.url.startswith("https://")
    where = stores(tmp_path / "dir", s.url)
    d = start(procs, tmp_path / "d", *where, "--store-ca", cert)
    d.user("setchain", devchain.url)
    first = d.user("newaddress")["address"]
    assert reasons(d) == ["", ""]
    d = restart(procs, d, *where, "--store-pin", spki_pin(cert))
    assert reasons(d) == ["", ""]
    assert d.user("newaddress")["address"] != first
    d = restart(procs, d, *where, "--store-pin", "00" * 32, "--store-quorum", "1")
    assert reasons(d) == ["", "AL_E_TLS_PIN"]
    assert "store 1 (%s): node 0 get failed: AL_E_TLS_PIN" % s.url in d.stderr(1 << 20)


def test_bad_store_arguments(tmp_path):
    a = tmp_path / "a"
    cases = [
        (["--store", "ftp://127.0.0.1:21/vss"], "http:// or https://"),
        (["--store", "http://127.0.0.1:8080/store"], "/vss"),
        (["--store", "https://127.0.0.1:8080/vss?x=1"], "/vss"),
        (["--store", "http://:80/vss"], "not a valid URL"),
        (["--store", ""], "--store"),
        (["--store", "a", "--store", "b", "--store", "c", "--store", "d", "--store", "e"],
         "at most 4"),
        (["--store-pin", "zz"], "--store-pin"),
        (["--store-timeout-ms", "0"], "--store-timeout-ms"),
    ]
    for argv, words in cases:
        rc, err = daemon_fails("--datadir", a, *argv)
        assert words in error_message(err) and rc == 2, (argv, err)
        assert not a.exists(), argv
    # Remote-store options without a remote store, and a key file others may read.
    rc, err = daemon_fails("--datadir", a, "--store-ca", tmp_path / "ca.pem")
    assert "remote stores" in error_message(err) and rc == 2, err
    key = tmp_path / "key"
    key.write_text("11" * 32 + "\n")
    key.chmod(0o644)
    url = "http://127.0.0.1:9/vss"
    rc, err = daemon_fails("--datadir", a, "--store", url, "--store-key", key)
    assert "mode 0600" in error_message(err) and rc == 1, err
    key.chmod(0o600)
    key.write_text("not a key\n")
    rc, err = daemon_fails("--datadir", a, "--store", url, "--store-key", key)
    assert "64 hex digits" in error_message(err) and rc == 1, err
