"""The node's encrypted key-value layer on alight-store, with the operator as the adversary.

The node side is tests/tools/kv_probe (al_kv / al_kvr over the VSS backend,
src/host/store_vss.c); the operator edits the database behind alight-store directly
(store_util.Tamper), on SQLite and on a real PostgreSQL. Every edit must come back as a
precise error from the node, never as data:
  - a flipped byte in a stored record: AL_E_STORE_TAMPERED;
  - two records swapped: AL_E_STORE_SWAPPED;
  - an older record served again: AL_E_STORE_ROLLBACK (the node states the version it
    last wrote, as it does for every object it tracks);
and with two replicas, one rolled back to an old copy of its database, the node reports
that replica and keeps serving the newer state from the other.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CI, scaled
from store_util import Postgres, Store, Tamper, User

TOOLS = Path(os.environ.get("ALIGHT_TEST_TOOLS") or
             Path(__file__).resolve().parents[2] / "build" / "tests" / "tools")
SEED = "5e" * 32
STORE_ID = "node"


def probe_path():
    p = TOOLS / "kv_probe"
    if not os.access(p, os.X_OK):
        if CI:
            pytest.fail("kv_probe missing (%s)" % p)
        pytest.skip("kv_probe not built")
    return p


class Node:
    """One node identity (VSS auth key and seed) talking to a list of stores."""

    def __init__(self, urls, user, quorum=None, last_seen=0):
        self.urls, self.user = list(urls), user
        self.quorum = quorum or len(self.urls)
        self.last_seen = last_seen

    def run(self, *args):
        argv = [probe_path(), self.user.secret.hex(), SEED, STORE_ID, str(self.quorum),
                str(self.last_seen), ",".join(self.urls)] + [str(a) for a in args]
        r = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                           timeout=scaled(60))
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
        return json.loads(r.stdout)

    def put(self, ns, key, value, version):
        out = self.run("put", ns, key, value, version)
        assert out["error"] is None, out
        return out

    def get(self, ns, key, min_version=0):
        return self.run("get", ns, key, min_version)

    def name(self, ns, key):
        return self.run("name", ns, key)["name"]


@pytest.fixture(scope="module")
def pg():
    cluster = Postgres()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def served(request, tmp_path):
    """(alight-store, Tamper for its database)."""
    cluster = request.getfixturevalue("pg") if request.param == "postgres" else None
    db = cluster.new_db() if cluster else None
    store = Store(tmp_path / "store", postgres=cluster.conninfo(db) if cluster else None)
    store.db = db
    yield store, Tamper(store, cluster)
    store.stop()


def test_round_trip_and_opaque_names(served):
    store, tamper = served
    node = Node([store.url], User())
    node.put("chan", "state", "commitment-7", 0)
    out = node.get("chan", "state")
    assert out["error"] is None and out["value"] == "commitment-7" and out["version"] == 1
    # The operator sees an opaque name and ciphertext only.
    name = node.name("chan", "state")
    version, blob = tamper.row(node.user, STORE_ID, name)
    assert version == 1 and b"commitment-7" not in blob and b"state" not in blob


def test_flipped_byte_is_tampered(served):
    store, tamper = served
    node = Node([store.url], User())
    node.put("chan", "state", "balance=1000", 0)
    name = node.name("chan", "state")
    _, blob = tamper.row(node.user, STORE_ID, name)
    # The format byte, the length, both versions, the name, the nonce, the ciphertext, the tag.
    for offset in (0, 2, 8, 16, 30, 49, 60, len(blob) // 2 + 40, len(blob) - 1):
        tamper.flip(node.user, STORE_ID, name, offset)
        out = node.get("chan", "state")
        want = "AL_E_STORE_FORMAT" if offset == 0 else "AL_E_STORE_TAMPERED"
        if 1 <= offset < 5:  # the stated length: a longer claim reads as truncation
            b = bytearray(blob)
            b[offset] ^= 1
            if int.from_bytes(b[1:5], "big") > len(blob):
                want = "AL_E_STORE_TRUNCATED"
        assert out["error"] == want, (offset, out)
        assert "value" not in out
        tamper.flip(node.user, STORE_ID, name, offset)
    assert node.get("chan", "state")["value"] == "balance=1000"


def test_swapped_records(served):
    store, tamper = served
    node = Node([store.url], User())
    node.put("chan", "a", "to-alice", 0)
    node.put("chan", "b", "to-bob", 0)
    tamper.swap(node.user, STORE_ID, node.name("chan", "a"), node.name("chan", "b"))
    for key in ("a", "b"):
        out = node.get("chan", key)
        assert out["error"] == "AL_E_STORE_SWAPPED", out


def test_older_version_served_again(served):
    store, tamper = served
    node = Node([store.url], User())
    node.put("chan", "state", "old", 0)
    name = node.name("chan", "state")
    old = tamper.row(node.user, STORE_ID, name)
    node.put("chan", "state", "new", 1)
    tamper.set_row(node.user, STORE_ID, name, *old)
    out = node.get("chan", "state", min_version=2)
    assert out["error"] == "AL_E_STORE_ROLLBACK", out
    # Relabelled with the current version, the record itself still says it is older.
    tamper.set_row(node.user, STORE_ID, name, 2, old[1])
    out = node.get("chan", "state", min_version=2)
    assert out["error"] == "AL_E_STORE_ROLLBACK", out


def test_replica_rolled_back(tmp_path):
    """Two alight-store replicas; the operator of B restores an old copy of its database."""
    a = Store(tmp_path / "a")
    bdir = tmp_path / "b"
    b = Store(bdir)
    try:
        user = User()
        Node([a.url, b.url], user).put("chan", "state", "v1", 0)
        b.stop()
        shutil.copytree(bdir, tmp_path / "b.old")
        b = Store(bdir)
        node = Node([a.url, b.url], user)
        node.put("chan", "state", "v2", 1)
        node.put("chan", "state", "v3", 2)
        b.stop()
        shutil.rmtree(bdir)
        shutil.copytree(tmp_path / "b.old", bdir)
        b = Store(bdir)

        # A node that lost its own counter still sees B is behind A, and keeps A's state.
        out = Node([a.url, b.url], user, quorum=1).get("chan", "state")
        assert out["error"] is None and out["value"] == "v3", out
        assert out["replicas"] == ["AL_OK", "AL_E_STORE_ROLLBACK"], out
        # Requiring both, it refuses to act at all.
        out = Node([a.url, b.url], user, quorum=2).get("chan", "state")
        assert out["error"] == "AL_E_STORE_REPLICAS", out
        assert out["replicas"][1] == "AL_E_STORE_ROLLBACK", out
        # B alone, against the version the node persisted, is a rollback too.
        out = Node([b.url], user, last_seen=out["global_version"]).get("chan", "state")
        assert out["error"] == "AL_E_STORE_REPLICAS", out
        assert out["replicas"] == ["AL_E_STORE_ROLLBACK"], out
    finally:
        a.stop()
        b.stop()
