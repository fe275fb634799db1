"""Two alight nodes (tests/tools/node_pair) on a real alight-devchain, killed at every
persistence point of the update cycle, two ways.

Scenario "crash": one node killed at every persistence point of the update cycle in turn:
before each store write and after it (durable, not yet acknowledged), either node, over a
thousand payments both ways, with a second kill among the writes of the restart and reestablish
that follow every third time. The killed node's memory is dropped, as a SIGKILL of its
process would; it starts again from its store while its peer keeps running.

The tool checks what only it sees: every restart reestablishes the channel, no node
broadcasts a commitment, each sender hears every result its receiver gave, and the two
nodes agree on the balances. Checked here against the chain: after all the kills the
cooperative close is the funding output's only spend, and pays B exactly what the
results say moved, to the satoshi.

The stores live in /dev/shm when there is one: the kills are of the process, not of the
machine, so what a write leaves in the page cache survives them as it would a SIGKILL
(fsync against power loss is alight-store's and the directory store's own test,
test_store_crash); on disk the run takes minutes of fsync.

Scenario "sigkill": the tool itself (both nodes, as an enclave process holding many nodes)
dies by SIGKILL at the K-th store write after it starts, K from 1 to 40 in turn (a restart,
its reestablish and two cycles), before the write or once it is durable, and is run again
on the same stores until every payment has been made. The test keeps what each life
printed (the payments offered, the results heard) and checks the same things across lives:
results as the receiver was told to give them, never changed when told again, none lost
but a payment whose sender died before it was durable, and the chain paying what the
results moved."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import SANITIZE
from devchain_util import devchain  # noqa: F401  (fixture)
from test_node_channels import FUNDING, TOOLS, check_coop_close, check_open, run_pair

CYCLES = 400 if SANITIZE else 1000
SIGKILL_CYCLES = 50 if SANITIZE else 150
PAY_CYCLES = 30 if SANITIZE else 60
KILL_POINTS = 40
PAY = 1_000


def store_dir(tmp_path):
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="alight-crash-", dir=shm)) if shm.is_dir() else tmp_path


def run_in_store(devchain, tmp_path, scenario, chan_type, n):
    """node_pair's scenario with the nodes' stores in store_dir (removed after)."""
    base = store_dir(tmp_path)
    try:
        return run_pair(devchain, tmp_path, scenario, chan_type, n, nodes=base / "nodes")
    finally:
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)


def test_payment_kills(tmp_path, devchain):  # noqa: F811
    """Payments as the user makes them (B's invoice, A's SendPaymentSync), each with A or B
    killed at one of its persistence points in turn: every payment SUCCEEDED or FAILED
    exactly once, never left in flight, A's success exactly when B's invoice settled, and
    the balances moved by exactly the successes (node_pair's paycrash checks each; the
    counts here)."""
    ev = run_in_store(devchain, tmp_path, "paycrash", "anchors", PAY_CYCLES)
    p = ev["paycrash"]
    print("paycrash: %d payments, %d kills: %d succeeded, %d failed, %d never durable" %
          (p["payments"], p["kills"], p["succeeded"], p["failed"], p["absent"]))
    assert p["payments"] == PAY_CYCLES
    assert p["succeeded"] + p["failed"] + p["absent"] == PAY_CYCLES, p
    # Every payment but the two that count the writes had a kill armed; some aim past
    # the cycle's last write.
    assert p["kills"] >= PAY_CYCLES // 2 and p["succeeded"] >= PAY_CYCLES // 2, p
    a, b = p["a"], p["b"]
    moved = p["succeeded"] * PAY
    assert (a["local_balance"], b["local_balance"]) == (FUNDING - moved, moved), p


def sender_is_b(i):
    return i % 4 == 1 and i >= 40


@pytest.mark.parametrize("chan_type", ["static", "anchors"])
def test_kill_at_every_persistence_point(tmp_path, devchain, chan_type):  # noqa: F811
    ev = run_in_store(devchain, tmp_path, "crash", chan_type, CYCLES)
    funding = check_open(devchain, ev)
    c = ev["crashes"]
    # Every cycle armed a kill; one in nine aimed past the cycle's last write.
    assert c["cycles"] == CYCLES + 2 and c["kills"] >= CYCLES, c
    assert c["writes_per_cycle_a"] >= 4 and c["writes_per_cycle_b"] >= 4, c
    ab, ba = c["fulfilled_a_to_b"], c["fulfilled_b_to_a"]
    assert ab + ba + c["failed"] + c["forgotten"] == c["cycles"], c
    # Forgotten: offered by a sender killed before the HTLC was durable (so never sent).
    assert c["forgotten"] < c["cycles"] // 10 and ba > 0, c
    moved = (ab - ba) * PAY
    assert c["moved_sat"] == moved
    a, b = c["a"], c["b"]
    assert (a["local_balance"], a["remote_balance"]) == (FUNDING - moved, moved)
    assert (b["local_balance"], b["remote_balance"]) == (moved, FUNDING - moved)

    check_coop_close(devchain, ev, funding, moved)


# One channel type: each life costs a process start, two node loads, a chain sync and a
# handshake; the kill points are the node's, the same for both (the test above has both).
@pytest.mark.parametrize("chan_type", ["anchors"])
def test_sigkill_at_every_persistence_point(tmp_path, devchain, chan_type):  # noqa: F811
    tool = TOOLS / "node_pair"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build the tests")
    base = store_dir(tmp_path)
    nodes = base / "nodes"
    nodes.mkdir()
    events, results, killed_adding = {}, {}, set()
    next_i, kills, cltv = 0, 0, None
    try:
        while True:
            args = [str(tool), devchain.url, str(nodes), "sigkill", chan_type,
                    str(SIGKILL_CYCLES)]
            if cltv is not None:
                args += [str(next_i), str(cltv)]
            env = dict(os.environ)
            env["ALIGHT_KILL_AT"] = "%d:%d" % (1 + kills % KILL_POINTS,
                                               kills // KILL_POINTS % 2)
            out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
            last_adding = None
            for line in out.stdout.splitlines():
                ev = json.loads(line) if line.startswith("{") else {}
                kind = ev.get("event")
                events[kind] = ev
                if kind == "expiry":
                    cltv = ev["cltv"]
                elif kind == "adding":
                    last_adding = ev["i"]
                    next_i = max(next_i, ev["i"] + 1)
                elif kind == "result":
                    # Told again after a restart, never changed.
                    assert results.setdefault(ev["i"], ev["r"]) == ev["r"], ev
            if out.returncode == -9:
                kills += 1
                if last_adding is not None:
                    killed_adding.add(last_adding)
                assert cltv is not None and "done" not in events, out.stdout[-2000:]
                continue
            assert out.returncode == 0 and "done" in events, \
                out.stdout[-3000:] + out.stderr[-3000:]
            break
    finally:
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)
    cycles = SIGKILL_CYCLES + 2
    print("sigkill: %d kills over %d payments" % (kills, cycles))
    assert next_i == cycles and kills >= SIGKILL_CYCLES // 2, (next_i, kills)
    for i, r in results.items():
        assert r == ("failed" if i % 4 == 3 else "fulfilled"), (i, r)
    lost = set(range(cycles)) - set(results)
    # A payment with no result was offered by a life that died before it was durable.
    assert lost <= killed_adding and len(lost) < cycles // 5, (sorted(lost), kills)
    moved = PAY * sum((-1 if sender_is_b(i) else 1) for i, r in results.items()
                      if r == "fulfilled")
    a, b = events["final"]["a"], events["final"]["b"]
    assert (a["local_balance"], a["remote_balance"]) == (FUNDING - moved, moved)
    assert (b["local_balance"], b["remote_balance"]) == (moved, FUNDING - moved)
    check_coop_close(devchain, events, check_open(devchain, events), moved)


PAYKILL_PAYMENTS = 12 if SANITIZE else 30
PAYKILL_POINTS = 24


def test_payment_sigkill(tmp_path, devchain):  # noqa: F811
    """Payments as the user makes them (B's invoice, A's POST /v1/channels/transactions)
    with the tool itself killed by SIGKILL at the K-th store write of a life, K from 1 to
    24 in turn (a restart, its reestablish and a payment or two), before the write or once
    it is durable; every life starts both nodes from their stores and goes on with the next
    payment, leaving the one in flight to the nodes. At the end each invoice printed is
    judged against both books: A's payment SUCCEEDED exactly when B's invoice SETTLED,
    otherwise FAILED or never durable; never IN_FLIGHT, never twice; the balances moved by
    exactly the invoices settled."""
    tool = TOOLS / "node_pair"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build the tests")
    base = store_dir(tmp_path)
    nodes = base / "nodes"
    nodes.mkdir()
    invoices, kills, next_i, books, first = {}, 0, 0, None, None
    try:
        while books is None:
            args = [str(tool), devchain.url, str(nodes), "paysigkill", "anchors",
                    str(PAYKILL_PAYMENTS)]
            if first is not None:
                args.append(str(next_i))
            env = dict(os.environ)
            env["ALIGHT_KILL_AT"] = "%d:%d" % (1 + kills % PAYKILL_POINTS,
                                               kills // PAYKILL_POINTS % 2)
            out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
            for line in out.stdout.splitlines():
                ev = json.loads(line) if line.startswith("{") else {}
                if ev.get("event") == "active" and first is None:
                    first = ev
                elif ev.get("event") == "invoice":
                    assert ev["hash"] not in invoices.values(), ev
                    invoices[ev["i"]] = ev["hash"]
                    next_i = ev["i"] + 1
                elif ev.get("event") == "books":
                    books = ev
            if out.returncode == -9:
                kills += 1
                assert books is None, out.stdout[-2000:]
                continue
            assert out.returncode == 0 and books is not None, \
                out.stdout[-3000:] + out.stderr[-3000:]
    finally:
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)
    assert first is not None and next_i == PAYKILL_PAYMENTS, (next_i, kills)
    pays = {}
    for p in books["payments"]:
        assert p["payment_hash"] not in pays, p  # one payment per hash, across every life
        pays[p["payment_hash"]] = p["status"]
    states = {}
    for v in books["invoices"]:
        states[base64.b64decode(v["r_hash"]).hex()] = v["state"]
    settled = failed = absent = 0
    for i, h in invoices.items():
        st = pays.get(h, "")
        assert st != "IN_FLIGHT", (i, h)
        assert (states.get(h) == "SETTLED") == (st == "SUCCEEDED"), (i, h, st, states.get(h))
        settled += st == "SUCCEEDED"
        failed += st == "FAILED"
        absent += st == ""
    print("paysigkill: %d kills over %d invoices: %d succeeded, %d failed, %d never durable"
          % (kills, len(invoices), settled, failed, absent))
    assert kills >= PAYKILL_PAYMENTS // 2 and settled >= len(invoices) // 2, (kills, settled)
    a0, b0 = first["a"]["local_balance"], first["b"]["local_balance"]
    moved = settled * PAY
    assert (books["a"]["local_balance"], books["b"]["local_balance"]) == (a0 - moved,
                                                                          b0 + moved), books


FWD_CYCLES = 24 if SANITIZE else 40


def test_forward_kills(tmp_path, devchain):  # noqa: F811
    """B forwarding through kills (tests/tools/node_pair/fwdcrash.c): A's user pays A's own
    private invoice (allow_self_payment), whose route hint names B, so every payment goes
    A -> B -> A and B's node forwards it for its fee (1,001 msat). B and A in turn are killed
    at every write of the cycle, before it or once it is durable; each payment SUCCEEDED
    exactly when A's invoice SETTLED, never twice, and the balances moved by exactly B's
    fee for each success (the tool checks them to the msat; checked here again)."""
    ev = run_in_store(devchain, tmp_path, "fwdcrash", "anchors", FWD_CYCLES)
    f = ev["fwdcrash"]
    print("fwdcrash: %d payments, %d kills: %d succeeded, %d failed, %d never durable" %
          (f["payments"], f["kills"], f["succeeded"], f["failed"], f["absent"]))
    assert f["succeeded"] + f["failed"] + f["absent"] == FWD_CYCLES, f
    assert f["kills"] >= FWD_CYCLES // 2 and f["succeeded"] >= FWD_CYCLES // 2, f
    fee = 1001 * f["succeeded"]
    assert (f["a_msat"], f["b_msat"]) == (f["a0_msat"] - fee, f["b0_msat"] + fee), f
    # B's history: the forwards it settled, each 1,000 sat out for 1,001 msat (its book keeps
    # 32 forwards, settled or failed: the latest ones).
    most = min(32, f["succeeded"])
    assert most - f["failed"] - f["absent"] <= len(f["history"]) <= most, f
    for e in f["history"]:
        assert (e["amt_out_msat"], e["fee_msat"], e["chan_id_in"]) == \
            ("1000000", "1001", e["chan_id_out"]), e
