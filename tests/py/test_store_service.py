"""alight-store against VSS semantics, authorization, bad input, HTTPS and restarts.

Every test runs twice, once on SQLite and once on a real PostgreSQL (initdb/pg_ctl in a
temporary directory). The client (store_util.py) speaks vss-server's protocol through
Google's protobuf runtime and Electrum's libsecp256k1, none of alight's own code.
Expected behaviour is vss-server's: proto/vss.proto and its KvStore test suite.
"""

import threading
import time

import pytest

from store_util import (AUTH, CONFLICT, INVALID, NO_SUCH_KEY, PB, Client, Postgres, Store, User,
                        kv, make_cert)

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="module")
def pg():
    cluster = Postgres()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory):
    """(name, a function starting an alight-store on a fresh database with extra args)."""
    started = []
    cluster = request.getfixturevalue("pg") if request.param == "postgres" else None

    def start(datadir=None, db=None, **kw):
        datadir = datadir or tmp_path_factory.mktemp("store")
        if cluster:
            db = db or cluster.new_db()
            kw["postgres"] = cluster.conninfo(db)
        s = Store(datadir, **kw)
        s.db = db
        started.append(s)
        return s

    start.cluster = cluster
    start.name = request.param
    yield start
    for s in reversed(started):
        s.stop()


@pytest.fixture(scope="module")
def store(backend):
    return backend()


@pytest.fixture
def c(store):
    """A client with a fresh user and store_id: tests share the server, not the data."""
    return store.client(User(), store_id="wallet")


def ok(r):
    assert r.status == 200, (r, r.error() if r.body else None)
    assert r.headers.get("vss-protocol-version") == "0.1.0"
    return r


def fails(r, status, code):
    assert r.status == status, r
    e = r.error()
    assert e.error_code == code, (e, r)
    assert r.headers.get("vss-protocol-version") == "0.1.0"
    return e.message


def value_of(c, key):
    v = c.get_kv(key)
    return v.version, v.value


# ---- versions (vss.proto PutObjectRequest, KeyValue) ----


def test_first_write_is_version_zero_and_increments(c):
    ok(c.put([kv("k1", 0, b"a")]))
    assert value_of(c, "k1") == (1, b"a")
    ok(c.put([kv("k1", 1, b"b")]))
    assert value_of(c, "k1") == (2, b"b")
    # Writing as new what exists, or from an old version: conflict, nothing changes.
    assert "conflict" in fails(c.put([kv("k1", 0, b"x")]), 409, CONFLICT)
    fails(c.put([kv("k1", 1, b"x")]), 409, CONFLICT)
    fails(c.put([kv("absent", 5, b"x")]), 409, CONFLICT)
    assert value_of(c, "k1") == (2, b"b")
    fails(c.get("absent"), 404, NO_SUCH_KEY)


def test_unconditional_write_resets_to_one(c):
    ok(c.put([kv("k", -1, b"1")]))
    assert value_of(c, "k") == (1, b"1")
    ok(c.put([kv("k", 1, b"2")]))
    ok(c.put([kv("k", 2, b"3")]))
    assert value_of(c, "k") == (3, b"3")
    ok(c.put([kv("k", -1, b"4")]))
    assert value_of(c, "k") == (1, b"4")
    # The empty value is a value.
    ok(c.put([kv("e", 0, b"")]))
    assert value_of(c, "e") == (1, b"")


def test_multi_put_is_atomic(c):
    ok(c.put([kv("a", 0, b"a1"), kv("b", 0, b"b1")]))
    # One stale item among good ones: the whole batch is refused.
    fails(c.put([kv("a", 1, b"a2"), kv("b", 7, b"b2"), kv("c", 0, b"c1")]), 409, CONFLICT)
    assert value_of(c, "a") == (1, b"a1")
    assert value_of(c, "b") == (1, b"b1")
    fails(c.get("c"), 404, NO_SUCH_KEY)
    ok(c.put([kv("a", 1, b"a2"), kv("b", 1, b"b2"), kv("c", 0, b"c1")]))
    assert [value_of(c, k) for k in "abc"] == [(2, b"a2"), (2, b"b2"), (1, b"c1")]
    # Puts and deletes together (vss-server put_and_delete_should_succeed_as_atomic_transaction).
    ok(c.put([kv("d", 0, b"d1")], deletes=[kv("c", 1)]))
    fails(c.get("c"), 404, NO_SUCH_KEY)
    fails(c.put([kv("e", 0, b"e1")], deletes=[kv("d", 3)]), 409, CONFLICT)
    fails(c.put([kv("e", 0, b"e1")], deletes=[kv("gone", -1)]), 409, CONFLICT)
    fails(c.get("e"), 404, NO_SUCH_KEY)
    assert value_of(c, "d") == (1, b"d1")
    ok(c.put(deletes=[kv("d", -1)]))
    fails(c.get("d"), 404, NO_SUCH_KEY)


def test_put_limits(c):
    ok(c.put([kv("k%d" % i, 0, b"v") for i in range(1000)]))
    assert value_of(c, "k999") == (1, b"v")
    msg = fails(c.put([kv("x%d" % i, 0) for i in range(1001)]), 400, INVALID)
    assert "1000" in msg
    msg = fails(c.put([kv("x%d" % i, 0) for i in range(600)],
                      deletes=[kv("k%d" % i, 1) for i in range(401)]), 400, INVALID)
    fails(c.get("x0"), 404, NO_SUCH_KEY)
    assert value_of(c, "k0") == (1, b"v")
    assert "distinct" in fails(c.put([kv("d", 0), kv("d", -1)]), 400, INVALID)
    fails(c.put([kv("d", 0)], deletes=[kv("d", 1)]), 400, INVALID)
    fails(c.put([kv("", 0, b"v")]), 400, INVALID)
    fails(c.put([kv("v", -2, b"v")]), 400, INVALID)
    fails(c.put([kv("global_version", 0, b"v")]), 400, INVALID)
    fails(c.get("d"), 404, NO_SUCH_KEY)


def test_global_version(c):
    gv = c.get_kv("global_version")
    assert (gv.version, gv.value) == (0, b"")
    ok(c.put([kv("k1", 0, b"v")], global_version=0))
    fails(c.put([kv("k2", 0, b"v")], global_version=0), 409, CONFLICT)
    fails(c.get("k2"), 404, NO_SUCH_KEY)
    ok(c.put([kv("k2", 0, b"v")], global_version=1))
    ok(c.put(deletes=[kv("k2", 1)], global_version=2))
    assert c.get_kv("global_version").version == 3
    # A put without global_version leaves it alone (vss-server
    # put_should_succeed_when_no_global_version_is_given).
    ok(c.put([kv("k3", 0, b"v")]))
    assert c.get_kv("global_version").version == 3
    # A key conflict fails the batch and the global version stays.
    fails(c.put([kv("k1", 0, b"v")], global_version=3), 409, CONFLICT)
    assert c.get_kv("global_version").version == 3
    keys, gv, _ = c.list_all()
    assert gv == 3 and "global_version" not in dict(keys)
    # Global versions are per store_id.
    other = Client(c.url, c.user, store_id="other")
    assert other.get_kv("global_version").version == 0


def test_delete_object(c):
    ok(c.put([kv("k", 0, b"v")]))
    ok(c.put([kv("k", 1, b"w")]))
    # Another version: nothing is deleted, and the call still succeeds (idempotent).
    ok(c.delete("k", 1))
    assert value_of(c, "k") == (2, b"w")
    ok(c.delete("k", 2))
    fails(c.get("k"), 404, NO_SUCH_KEY)
    ok(c.delete("k", 2))
    ok(c.delete("never", 0))
    ok(c.put([kv("k", 0, b"again")]))
    ok(c.delete("k", -1))
    fails(c.get("k"), 404, NO_SUCH_KEY)
    # A request without key_value is invalid (vss-server: "key_value missing").
    fails(c.call("deleteObject", PB["DeleteObjectRequest"](store_id="wallet")), 400, INVALID)


def test_list_prefix_and_pagination(c):
    for i in range(25):
        ok(c.put([kv("%s/%02d" % ("p" if i % 2 else "q", i), 0, b"v")]))
    ok(c.put([kv("p/01", 1, b"w")]))  # an update keeps the creation order
    keys, gv, pages = c.list_all(prefix="p/", page_size=5)
    assert gv == 0 and pages == 3
    # Newest first (vss-server list_should_return_results_ordered_by_creation_time).
    assert [k for k, _ in keys] == ["p/%02d" % i for i in range(23, 0, -2)]
    assert dict(keys)["p/01"] == 2 and dict(keys)["p/03"] == 1
    page = c.list(prefix="p/", page_size=5)
    assert len(page.key_versions) == 5 and page.next_page_token
    # No prefix, no page size: the server's page (at most 100).
    keys, _, pages = c.list_all()
    assert len(keys) == 25 and pages == 1
    keys, _, _ = c.list_all(prefix="")
    assert len(keys) == 25
    assert c.list_all(prefix="p/2")[0] == [("p/23", 1), ("p/21", 1)]
    assert c.list_all(prefix="zz")[0] == []
    # A deleted and re-created key is new.
    ok(c.delete("q/00", 1))
    ok(c.put([kv("q/00", 0, b"v")]))
    assert c.list_all(page_size=1)[0][0] == ("q/00", 1)


def test_list_pages_of_hundred(c):
    ok(c.put([kv("k%03d" % i, 0) for i in range(250)]))
    ok(c.put([kv("x", 0)], global_version=0))
    keys, gv, pages = c.list_all()
    assert len(keys) == 251 and len(set(keys)) == 251 and gv == 1 and pages == 3
    assert len(c.list(page_size=1000).key_versions) == 100
    fails(c.call("listKeyVersions", PB["ListKeyVersionsRequest"](page_size=-1)), 400, INVALID)
    fails(c.call("listKeyVersions", PB["ListKeyVersionsRequest"](page_token="x1")), 400, INVALID)


# ---- authorization and isolation ----


def test_auth_refusals(c):
    ok(c.put([kv("secret", 0, b"s")]))
    body = PB["GetObjectRequest"](store_id="wallet", key="secret").SerializeToString()
    now = int(time.time())
    fails(c.raw("/vss/getObject", body, auth=False), 401, AUTH)
    for hdr in ["", "00", c.user.header()[:194], c.user.header() + "x",
                "zz" + c.user.header()[2:], c.user.header()[:194] + "+" + str(now)]:
        fails(c.raw("/vss/getObject", body, headers={"Authorization": hdr}), 401, AUTH)
    # Stale, and too far in the future: more than 24 hours from the server's clock.
    for t in (now - 24 * 3600 - 120, now + 24 * 3600 + 120):
        msg = fails(c.raw("/vss/getObject", body, headers={"Authorization": c.user.header(t)}),
                    401, AUTH)
        assert "24 h" in msg
    # A good signature under another key's name, and a corrupted signature.
    other = User()
    swapped = other.pub.hex() + c.user.header()[66:]
    assert "signature" in fails(c.raw("/vss/getObject", body,
                                      headers={"Authorization": swapped}), 401, AUTH)
    h = c.user.header()
    bad = h[:100] + ("0" if h[100] != "0" else "1") + h[101:]
    fails(c.raw("/vss/getObject", body, headers={"Authorization": bad}), 401, AUTH)
    # Auth is checked before the body: a garbage body with no auth is still 401.
    fails(c.raw("/vss/putObjects", b"\xff\xff", auth=False), 401, AUTH)
    assert value_of(c, "secret") == (1, b"s")


def test_users_are_isolated(c):
    ok(c.put([kv("shared-name", 0, b"alice")], global_version=0))
    bob = Client(c.url, User(), store_id=c.store_id)
    fails(bob.get("shared-name"), 404, NO_SUCH_KEY)
    assert bob.list_all() == ([], 0, 1)
    assert bob.get_kv("global_version").version == 0
    # Bob's writes under the same store_id and key are his own.
    ok(bob.put([kv("shared-name", 0, b"bob")], global_version=0))
    fails(bob.put([kv("shared-name", 0, b"bob")]), 409, CONFLICT)
    ok(bob.delete("shared-name", -1))
    ok(bob.put(deletes=[], global_version=1))
    assert value_of(c, "shared-name") == (1, b"alice")
    assert c.get_kv("global_version").version == 1
    assert c.list_all()[0] == [("shared-name", 1)]
    # The same key in upper-case hex is the same user.
    upper = c.user.header()
    upper = upper[:194].upper() + upper[194:]
    body = PB["GetObjectRequest"](store_id=c.store_id, key="shared-name").SerializeToString()
    ok(c.raw("/vss/getObject", body, headers={"Authorization": upper}))


# ---- bad input: clear HTTP errors, nothing changed ----


def test_bad_requests(c):
    ok(c.put([kv("k", 0, b"v")], global_version=0))
    for body in [b"\xff", b"\x0a\x05ab", b"\x1a\x03\x0a\x05abc", b"\x0b\x00"]:
        assert "protobuf" in fails(c.raw("/vss/putObjects", body), 400, INVALID)
    # A key that is not UTF-8, or holds a NUL (proto3 strings are UTF-8).
    fails(c.raw("/vss/putObjects", b"\x1a\x05\x0a\x03\xff\xfe\xfd"), 400, INVALID)
    fails(c.raw("/vss/getObject", b"\x12\x03a\x00b"), 400, INVALID)
    fails(c.raw("/vss/getObject", b""), 400, INVALID)
    assert "unknown path" in fails(c.raw("/vss/getObjects", b""), 404, INVALID)
    fails(c.raw("/getObject", b""), 404, INVALID)
    r = c.raw("/vss/getObject", None, method="GET")
    fails(r, 405, INVALID)
    assert r.headers.get("allow") == "POST"
    assert value_of(c, "k") == (1, b"v")
    assert c.get_kv("global_version").version == 1
    assert c.list_all()[0] == [("k", 1)]


def test_oversized_body(backend, tmp_path):
    s = backend(tmp_path / "small", extra=["--max-body", "65536"])
    c = s.client(User(), "w")
    ok(c.put([kv("k", 0, b"x" * 60000)]))
    r = c.put([kv("big", 0, b"x" * 70000)])
    assert r.status == 413, r
    fails(c.get("big"), 404, NO_SUCH_KEY)
    assert value_of(c, "k") == (1, b"x" * 60000)


# ---- transport and durability ----


def test_https_tls13(backend, tmp_path):
    cert, key = make_cert(tmp_path)
    s = backend(tmp_path / "tls", tls=(cert, key))
    assert s.url.startswith("https://127.0.0.1:")
    c = s.client(User(), "w", cafile=cert)
    ok(c.put([kv("k", 0, b"over tls")]))
    assert value_of(c, "k") == (1, b"over tls")
    assert c.tls_version == "TLSv1.3"
    # Plain HTTP to the TLS port gets no VSS answer.
    plain = Client(s.url.replace("https://", "http://"), c.user, "w")
    with pytest.raises(Exception):
        r = plain.get("k")
        assert r.status != 200
        raise ConnectionError(r)


def test_plain_http_only_on_loopback(tmp_path):
    from conftest import BIN
    import subprocess
    r = subprocess.run([str(BIN / "alight-store"), "--datadir", str(tmp_path),
                        "--listen", "0.0.0.0:0"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "loopback" in r.stderr
    r = subprocess.run([str(BIN / "alight-store"), "--datadir", str(tmp_path)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "--listen" in r.stderr


def test_restart_keeps_data(backend, tmp_path):
    s = backend(tmp_path / "r")
    user = User()
    c = s.client(user, "w")
    ok(c.put([kv("k", 0, b"durable"), kv("j", -1, b"j")], global_version=0))
    s.stop()
    s2 = backend(tmp_path / "r", db=s.db)
    c2 = s2.client(user, "w")
    assert value_of(c2, "k") == (1, b"durable")
    assert c2.get_kv("global_version").version == 1
    ok(c2.put([kv("k", 1, b"again")], global_version=1))
    assert value_of(c2, "k") == (2, b"again")


def test_concurrent_conflicting_puts_one_wins(backend, tmp_path):
    """Two alight-store processes on one database race on the same versions."""
    if backend.name == "sqlite":
        s1 = backend(tmp_path / "c")
        s2 = backend(tmp_path / "c")
    else:
        s1 = backend(tmp_path / "c1")
        s2 = backend(tmp_path / "c2", db=s1.db)
    user = User()
    a, b = s1.client(user, "w"), s2.client(user, "w")
    for rnd in range(15):
        results = []

        def go(cl, tag):
            results.append((tag, cl.put([kv("race", 0 if rnd == 0 else rnd, tag),
                                         kv("r%d" % rnd, 0, tag)], global_version=rnd).status))

        ts = [threading.Thread(target=go, args=(cl, t)) for cl, t in ((a, b"a"), (b, b"b"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        statuses = sorted(st for _, st in results)
        assert statuses == [200, 409], (rnd, results)
        winner = [tag for tag, st in results if st == 200][0]
        assert value_of(a, "race") == (rnd + 1, winner)
        assert value_of(b, "r%d" % rnd) == (1, winner)
    assert a.get_kv("global_version").version == 15


def test_operator_tampering_is_served_as_is(backend, store, c):
    """The harness the node-side tamper tests use: edits in the database reach the client
    unchanged (alight-store neither hides nor repairs them; the node's al_kv detects them)."""
    from store_util import Tamper
    t = Tamper(store, backend.cluster)
    ok(c.put([kv("a", 0, b"\x00record-a"), kv("b", 0, b"record-b")]))
    ok(c.put([kv("a", 1, b"\x00record-a2")]))
    old = t.row(c.user, "wallet", "a")
    assert old == (2, b"\x00record-a2")
    t.flip(c.user, "wallet", "a", 0)
    assert value_of(c, "a") == (2, b"\x01record-a2")
    t.swap(c.user, "wallet", "a", "b")
    assert value_of(c, "a") == (2, b"record-b") and value_of(c, "b") == (1, b"\x01record-a2")
    t.set_row(c.user, "wallet", "a", 1, b"\x00record-a")  # an older version served again
    assert value_of(c, "a") == (1, b"\x00record-a")
