"""alight-store killed with SIGKILL at random moments while a client writes (after a random
number of acknowledged writes, with the next one in flight): after every restart each write
the server acknowledged is there, at its version, with its value, and nothing else is
corrupt. On SQLite and on a real PostgreSQL.

Persist before you speak: a 200 for putObjects means the transaction committed. A write
in flight when the process died may or may not have landed (the client never heard), so
for the conditional counter the version is either the acknowledged count or one more.
"""
import http.client
import random
import threading
import time

import pytest

from conftest import scaled
from store_util import Postgres, Store, User, kv

MIN_KILLS = 6       # kills per backend, at least
MIN_WRITES = 1500   # acknowledged writes per backend, at least
MAX_ROUNDS = 40


@pytest.fixture(scope="module")
def pg():
    cluster = Postgres()
    yield cluster
    cluster.stop()


def value_for(i):
    return ("record-%06d-" % i).encode() * 8


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_keeps_every_acknowledged_write(backend, tmp_path, request):
    cluster = request.getfixturevalue("pg") if backend == "postgres" else None
    conninfo = cluster.conninfo(cluster.new_db()) if cluster else None
    user = User()
    acked = {}          # key -> (version, value) the server acknowledged
    counter = [0]       # acknowledged conditional updates of "counter"
    in_flight = [None]  # the counter update whose answer never came
    refused = []        # answers other than 200 (there must be none)
    rng = random.Random(0x5eed)
    datadir = tmp_path / "store"
    i = 0

    def writer(store, stop, target, reached):
        """Writes until stopped; `reached` is set at `target` acknowledged writes (or when
        the writer gives up)."""
        try:
            write(store, stop, target, reached)
        finally:
            reached.set()

    def write(store, stop, target, reached):
        nonlocal i
        c = store.client(user, store_id="crash")
        while not stop.is_set():
            key = "k%06d" % i
            items = [kv(key, 0, value_for(i)), kv("counter", counter[0], b"%d" % i)]
            in_flight[0] = counter[0] + 1
            try:
                r = c.put(items)
            except (OSError, http.client.HTTPException):
                return  # the server died mid-request: no answer, no acknowledgement
            if r.status != 200:
                refused.append(r)
                return
            acked[key] = (1, value_for(i))
            counter[0] += 1
            in_flight[0] = None
            i += 1
            if len(acked) >= target:
                reached.set()

    kills = 0
    for round_ in range(MAX_ROUNDS):
        store = Store(datadir, postgres=conninfo)
        c = store.client(user, store_id="crash")
        # Everything acknowledged so far survived the last kill.
        keys, _, _ = c.list_all(prefix="k")
        assert len(keys) >= len(acked), (round_, len(keys), len(acked))
        got = dict(keys)
        for key, (version, _) in acked.items():
            assert got.get(key) == version, (round_, key)
        for key in rng.sample(sorted(acked), min(50, len(acked))):
            v = c.get_kv(key)
            assert (v.version, v.value) == acked[key], key
        cv = c.get_kv("counter").version if acked else 0
        assert cv in (counter[0], counter[0] + (1 if in_flight[0] else 0)), (cv, counter)
        if cv == counter[0] + 1:
            # The unacknowledged write landed whole (both items or neither).
            key = "k%06d" % i
            assert c.get_kv(key).value == value_for(i)
            acked[key] = (1, value_for(i))
            counter[0] += 1
            i += 1
        in_flight[0] = None
        if kills >= MIN_KILLS and len(acked) >= MIN_WRITES:
            store.stop()
            break
        # The kill comes after a random number of acknowledged writes (not after a random
        # time: how many writes a second a loaded machine makes is no part of the test),
        # while the writer's next request is in flight.
        target = len(acked) + rng.randint(150, 400)
        stop, reached = threading.Event(), threading.Event()
        t = threading.Thread(target=writer, args=(store, stop, target, reached))
        t.start()
        assert reached.wait(scaled(300)), "no progress: %d of %d writes" % (len(acked), target)
        time.sleep(rng.uniform(0, 0.01))
        store.stop(sig=9)  # SIGKILL, mid-write
        kills += 1
        stop.set()
        t.join(timeout=30)
        assert not t.is_alive()
        assert not refused, refused
    assert kills >= MIN_KILLS and len(acked) >= MIN_WRITES, (kills, len(acked))
