#!/usr/bin/python3
"""alight-devchain's Electrum server, measured; prints one JSON object.

  electrum_requests_per_s_1_conn   requests answered per second on one connection, sent back to
                                   back (a mix: server.ping, blockchain.block.header,
                                   blockchain.estimatefee, blockchain.scripthash.get_history of an
                                   address with 10 transactions, blockchain.transaction.get)
  electrum_requests_per_s_8_conns  the same over 8 connections at once
  electrum_wallet_sync_s           a fresh, unmodified Electrum 4.3.4 wallet (restored from a
                                   seed) on a chain of 1,000 blocks holding 1,000 transactions
                                   paying it: from launching the daemon until it is synchronized
                                   with all 1,000 in its history, each merkle-verified, and the
                                   balance to the satoshi
  electrum_wallet_sync_after_load_s  the same from load_wallet's return (daemon already up)

Usage: bench/electrum_bench.py [BUILD_DIR]   (make bench runs it through scripts/bench)
"""
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build").resolve()
os.environ.setdefault("ALIGHT_BIN", str(BUILD / "bin"))
os.environ.setdefault("ALIGHT_SOURCE_DIR", str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "py"))

from devchain_util import Devchain  # noqa: E402
from electrum import bitcoin, constants, keystore  # noqa: E402
from electrum_util import SEEDS, ElectrumDaemon, scripthash  # noqa: E402

constants.set_regtest()
MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
BLOCKS, WALLET_TXS, ADDRESSES = 1000, 1000, 100
REQUESTS = 40_000


def wallet_addresses(seed, n):
    ks = keystore.from_seed(seed, "", False)
    return [bitcoin.pubkey_to_address("p2wpkh", ks.derive_pubkey(False, i).hex())
            for i in range(n)]


def build_chain(dc, addrs):
    """BLOCKS blocks: 101 to the faucet (its coins mature), then WALLET_TXS faucet payments to
    addrs spread evenly over the rest, each block mined after its share. Returns the total."""
    dc.post_json("/mine", {"blocks": 101})
    rest, total, sent = BLOCKS - 101, 0, 0
    for i in range(rest):
        for _ in range((i + 1) * WALLET_TXS // rest - i * WALLET_TXS // rest):
            amount = 10_000 + sent
            dc.faucet(addrs[sent % len(addrs)], amount)
            total += amount
            sent += 1
        dc.mine(1, MINER)
    assert sent == WALLET_TXS and dc.height() == BLOCKS
    return total


def request_mix(dc, addrs):
    sh = scripthash(bytes.fromhex(dc.get_json("/address/" + addrs[0] + "/txs")[0]["vout"][0][
        "scriptpubkey"]))
    txs = [t["txid"] for t in dc.get_json("/address/%s/txs" % addrs[0])]
    mix = [("server.ping", None), ("blockchain.block.header", [500]),
           ("blockchain.estimatefee", [2]), ("blockchain.scripthash.get_history", [sh]),
           ("blockchain.transaction.get", [txs[0]])]
    lines = []
    for i in range(REQUESTS):
        m, p = mix[i % len(mix)]
        req = {"jsonrpc": "2.0", "id": i, "method": m}
        if p is not None:
            req["params"] = p
        lines.append(json.dumps(req).encode() + b"\n")
    return lines


def run_conn(addr, lines, out, k):
    s = socket.create_connection(addr)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sender = threading.Thread(target=s.sendall, args=(b"".join(lines),))
    sender.start()
    got, errors = 0, 0
    while got < len(lines):
        chunk = s.recv(1 << 20)
        if not chunk:
            raise SystemExit("electrum_bench: the server closed a connection")
        got += chunk.count(b"\n")
        errors += chunk.count(b'"error"')
    sender.join()
    s.close()
    out[k] = errors


def requests_per_s(addr, lines, conns):
    share = len(lines) // conns
    out = [0] * conns
    threads = [threading.Thread(target=run_conn, args=(addr, lines[k * share:(k + 1) * share],
                                                       out, k)) for k in range(conns)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    if any(out):
        raise SystemExit("electrum_bench: %d error responses" % sum(out))
    return share * conns / elapsed


def wallet_sync(dc, total):
    e = ElectrumDaemon("alice", dc)
    t0 = time.monotonic()
    try:
        e.start()
        t1 = time.monotonic()
        height = dc.height()
        while True:
            if e.synced_to(height) and e.balance()["confirmed"] == total and \
                    len(e.call("onchain_history")["transactions"]) == WALLET_TXS:
                break
            if time.monotonic() - t0 > 600:
                raise SystemExit("electrum_bench: the wallet did not sync in 10 minutes\n" +
                                 e.describe())
            time.sleep(0.05)
        t2 = time.monotonic()
    finally:
        e.stop()
    return t2 - t0, t2 - t1


def main():
    tmp = tempfile.mkdtemp(prefix="alight-electrum-bench-")
    dc = Devchain(Path(tmp) / "chain").start()
    try:
        addrs = wallet_addresses(SEEDS["alice"], ADDRESSES)
        total = build_chain(dc, addrs)
        lines = request_mix(dc, addrs)
        one = requests_per_s(dc.electrum, lines, 1)
        eight = requests_per_s(dc.electrum, lines, 8)
        sync, after_load = wallet_sync(dc, total)
    finally:
        dc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({
        "electrum_requests_per_s_1_conn": round(one),
        "electrum_requests_per_s_8_conns": round(eight),
        "electrum_wallet_sync_s": round(sync, 3),
        "electrum_wallet_sync_after_load_s": round(after_load, 3),
        "electrum_wallet_sync_blocks": BLOCKS,
        "electrum_wallet_sync_txs": WALLET_TXS,
    }))


if __name__ == "__main__":
    main()
