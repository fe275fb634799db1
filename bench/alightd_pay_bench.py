#!/usr/bin/python3
"""Payments between two alightd on loopback, each with its own enclave and durable store;
prints one JSON object.

Two alightd processes (simulated TEE platform, their records sealed to their directory
stores, fsync'd before any node speaks) on a fresh alight-devchain, a channel of 1,000,000
sat from A to B. B's invoices are made as they are needed (not timed); A's user pays them with alight-cli
payinvoice (LND's SendPaymentSync over the user channel: a process, an RA-TLS handshake
with the enclave, the request, the answer once the payment ended):

  payments_per_s_sequential   one payment after another
  p50_ms, p99_ms              one payment's time as its user sees it (alight-cli's run)
  payments_per_s_8_clients    eight users' alight-cli at once
  user_channel_p50_ms         alight-cli getinfo over the user channel: what a payment's
                              time holds besides the payment itself
  commitment_updates_per_s_sequential  each payment is two commitment updates (the HTLC
                              added, then fulfilled: commitment_signed and revoke_and_ack
                              both ways, durable on both sides before each message)
  channel_memory_bytes_a, _b  what each node holds more once the channel is open (the
                              enclave's per-node accounting, alight-cli enclave)

Usage: bench/alightd_pay_bench.py [BUILD_DIR] [N]   (make bench runs it through scripts/bench)
"""
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build").resolve()
N = int(sys.argv[2]) if len(sys.argv) > 2 else 100
os.environ.setdefault("ALIGHT_BIN", str(BUILD / "bin"))
os.environ.setdefault("ALIGHT_SOURCE_DIR", str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "py"))

from daemon_util import start_daemon  # noqa: E402
from devchain_util import Devchain  # noqa: E402

MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def wait(what, fn, timeout=120):
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out waiting for " + what)
        time.sleep(0.2)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main():
    tmp = Path(tempfile.mkdtemp(prefix="alight-paybench-"))
    procs = []
    chain = Devchain(tmp / "chain").start()
    try:
        chain.mine(101, MINER)
        A, B = (start_daemon(procs, tmp / n, "--chain-poll-ms", "200") for n in ("a", "b"))
        for d in (A, B):
            d.user("setchain", chain.url)
        chain.faucet(A.user("newaddress")["address"], 2_000_000)
        chain.mine(1, MINER)
        wait("A's coins", lambda: A.user("walletbalance")["confirmed_balance"] == 2_000_000)
        A.cli("connect", B.target)
        A.wait_peer(B.node_id)

        def memory(d):
            return d.cli("enclave")["slots"][0]["memory"]
        mem0 = (memory(A), memory(B))
        opened = A.user("openchannel", B.node_id, 1_000_000)
        chain.mine(3, MINER)

        def active():
            for c in A.user("listchannels")["channels"]:
                if c["channel_point"].startswith(opened["funding_txid_str"]):
                    return c["active"]
            return False
        wait("the channel", active)
        mem1 = (memory(A), memory(B))
        def invoice(i):
            return B.user("addinvoice", "100", "--memo", "bench %d" % i)["payment_request"]
        # B's book keeps 64 open invoices: each is made just before it is paid (untimed).
        lat = []
        for i in range(N):
            pr = invoice(i)
            t = time.monotonic()
            res = A.user("payinvoice", pr)
            lat.append(time.monotonic() - t)
            assert res["payment_error"] == "", res
        seq = sum(lat)
        errors, par, lock = [], 0.0, threading.Lock()
        for start in range(0, N, 40):
            rest = [invoice(N + i) for i in range(start, min(N, start + 40))]

            def client():
                while True:
                    with lock:
                        if not rest:
                            return
                        pr = rest.pop()
                    res = A.user("payinvoice", pr)
                    if res["payment_error"]:
                        errors.append(res)
            t0 = time.monotonic()
            threads = [threading.Thread(target=client) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            par += time.monotonic() - t0
        assert not errors, errors[:2]
        probe = []
        for _ in range(20):
            t = time.monotonic()
            A.user("getinfo")
            probe.append(time.monotonic() - t)
        paid = int(B.user("channelbalance")["local_balance"]["sat"])
        assert paid == 2 * N * 100, paid
        print(json.dumps({"alightd_pay": {
            "payments": 2 * N,
            "payments_per_s_sequential": round(N / seq, 1),
            "p50_ms": round(1000 * statistics.median(lat), 1),
            "p99_ms": round(1000 * pct(lat, 0.99), 1),
            "payments_per_s_8_clients": round(N / par, 1),
            "commitment_updates_per_s_sequential": round(2 * N / seq, 1),
            "channel_memory_bytes_a": mem1[0] - mem0[0],
            "channel_memory_bytes_b": mem1[1] - mem0[1],
            "user_channel_p50_ms": round(1000 * statistics.median(probe), 1)}}))
    finally:
        for p in procs:
            p.stop()
        chain.stop()


if __name__ == "__main__":
    main()
