"""alight-devchain's Electrum server (protocol 1.4) method by method, checked against
independent recomputation: headers chained and proven with hashlib, merkle branches folded
back to the header's root, status hashes recomputed from the protocol text, histories and
balances against devchain's own Esplora API, Core's reject texts against POST /tx. Then the
notifications (mempool, block, reorganisation; only what a connection subscribed), JSON-RPC
batches and named parameters, many clients at once, and hostile clients (garbage, an over-long
line, a client that never reads, too many subscriptions) cut off while the others carry on.
"""
import json
import socket
import threading
import time

import pytest

from devchain_util import (REGTEST_GENESIS, Devchain, Key, check_header, devchain,  # noqa: F401
                           find_output, fund, merkle_root, p2wsh_address, p2wsh_script,
                           push, sha256d, sign_tx)
from electrum_util import ElectrumClient, RPCError, scripthash, status_of

MINER = Key("electrum test miner")
ALICE = Key("electrum test alice")
BOB = Key("electrum test bob")
OP_CHECKSIG = b"\xac"


def client(dc, **kw):
    return ElectrumClient(dc.electrum, **kw)


def fold(leaf, branch, pos):
    """The root a merkle branch (display-order hex, deepest first) leads to."""
    cur = leaf
    for sib in branch:
        s = bytes.fromhex(sib)[::-1]
        cur = sha256d(s + cur) if pos & 1 else sha256d(cur + s)
        pos >>= 1
    return cur


def tx_fee(dc, txid):
    return dc.get_json("/tx/" + txid)["fee"]


def test_server_methods(devchain):  # noqa: F811
    c = client(devchain)
    assert c.call("server.version", "alight-test", "1.4") == ["alight-devchain 0.1", "1.4"]
    assert c.call("server.version", "alight-test", ["1.2", "1.4.2"])[1] == "1.4"
    with pytest.raises(RPCError) as e:
        c.call("server.version", "alight-test", "1.5")
    assert e.value.code == 1 and "unsupported protocol version" in e.value.message
    assert isinstance(c.call("server.banner"), str)
    assert c.call("server.donation_address") == ""
    assert c.call("server.peers.subscribe") == []
    assert c.call("server.ping") is None
    f = c.call("server.features")
    assert f["genesis_hash"] == REGTEST_GENESIS and f["hash_function"] == "sha256"
    assert f["protocol_min"] == f["protocol_max"] == "1.4" and f["pruning"] is None
    assert f["hosts"] == {"127.0.0.1": {"tcp_port": devchain.electrum[1], "ssl_port": None}}
    # Fees never fail: Core's relay floor, and the floor for an empty mempool.
    assert c.call("blockchain.relayfee") == 0.00001
    for n in (0, 1, 2, 5, 10, 25, 1008, 4294967295):
        assert c.call("blockchain.estimatefee", n) == 0.00001
    assert c.call("mempool.get_fee_histogram") == []
    # A transaction paying 10 sat/vB moves the short targets and the histogram.
    txid = devchain.faucet(ALICE.address, 100_000)
    tx = devchain.get_json("/tx/" + txid)
    vsize = (tx["weight"] + 3) // 4
    rate = tx["fee"] / vsize
    assert c.call("blockchain.estimatefee", 2) == int(rate * 1000 + 0.5) / 1e8
    assert c.call("blockchain.estimatefee", 25) == 0.00001
    assert c.call("mempool.get_fee_histogram") == [[tx["fee"] // vsize, vsize]]


def test_headers_and_checkpoints(devchain):  # noqa: F811
    devchain.mine(30, MINER.address)
    c = client(devchain)
    tip = c.call("blockchain.headers.subscribe")
    assert tip["height"] == 30
    assert tip["hex"] == devchain.get_text("/block/%s/header" % devchain.get_text(
        "/blocks/tip/hash"))
    r = c.call("blockchain.block.headers", 0, 2016)
    assert r["count"] == 31 and r["max"] == 2016 and len(r["hex"]) == 31 * 160
    hashes, prev = [], "00" * 32
    for i in range(31):
        h = check_header(bytes.fromhex(r["hex"][160 * i:160 * (i + 1)]))
        assert h["prev"] == prev
        prev = h["hash"]
        hashes.append(h["hash"])
        assert c.call("blockchain.block.header", i) == r["hex"][160 * i:160 * (i + 1)]
    assert hashes[0] == REGTEST_GENESIS and hashes[30] == devchain.get_text("/blocks/tip/hash")
    assert c.call("blockchain.block.headers", 25, 100) == {
        "count": 6, "hex": r["hex"][160 * 25:], "max": 2016}
    assert c.call("blockchain.block.headers", 31, 10) == {"count": 0, "hex": "", "max": 2016}
    with pytest.raises(RPCError) as e:
        c.call("blockchain.block.header", 31)
    assert e.value.code == 1
    # cp_height: a merkle proof of a header under the root of all headers up to cp_height.
    leaves = [bytes.fromhex(h)[::-1] for h in hashes[:21]]
    p = c.call("blockchain.block.header", 5, 20)
    assert p["header"] == r["hex"][160 * 5:160 * 6]
    assert p["root"] == merkle_root(leaves)[::-1].hex()
    assert fold(leaves[5], p["branch"], 5) == merkle_root(leaves)
    q = c.call("blockchain.block.headers", 3, 7, 20)
    assert q["count"] == 7 and q["root"] == p["root"]
    assert fold(leaves[9], q["branch"], 9) == merkle_root(leaves)
    for bad in ((21, 20), (5, 31)):
        with pytest.raises(RPCError):
            c.call("blockchain.block.header", *bad)


def test_scripthash_index(devchain):  # noqa: F811
    dc = devchain
    dc.mine(101, MINER.address)
    c = client(dc)
    sh_alice = scripthash(ALICE.script)
    assert c.call("blockchain.scripthash.subscribe", sh_alice) is None
    assert c.call("blockchain.scripthash.get_history", sh_alice) == []
    assert c.call("blockchain.scripthash.get_balance", sh_alice) == {"confirmed": 0,
                                                                     "unconfirmed": 0}

    # In the mempool: height 0 (its inputs are confirmed), with its fee.
    txid = dc.faucet(ALICE.address, 500_000)
    vout, value = find_output(dc, txid, ALICE.script)
    hist = c.call("blockchain.scripthash.get_history", sh_alice)
    assert hist == [{"tx_hash": txid, "height": 0, "fee": tx_fee(dc, txid)}]
    assert c.call("blockchain.scripthash.get_mempool", sh_alice) == hist
    assert c.call("blockchain.scripthash.subscribe", sh_alice) == status_of([(txid, 0)])
    assert c.call("blockchain.scripthash.listunspent", sh_alice) == [
        {"tx_hash": txid, "tx_pos": vout, "height": 0, "value": 500_000}]
    assert c.call("blockchain.scripthash.get_balance", sh_alice) == {"confirmed": 0,
                                                                     "unconfirmed": 500_000}
    dc.mine(1, MINER.address)
    h1 = dc.height()
    assert c.call("blockchain.scripthash.get_history", sh_alice) == [
        {"tx_hash": txid, "height": h1}]
    assert c.call("blockchain.scripthash.get_mempool", sh_alice) == []
    assert c.call("blockchain.scripthash.get_balance", sh_alice) == {"confirmed": 500_000,
                                                                     "unconfirmed": 0}

    # Alice pays a P2WSH script (<Bob> OP_CHECKSIG) and change; a child spends the P2WSH
    # output while its parent is unconfirmed: height -1.
    ws = push(BOB.pub) + OP_CHECKSIG
    spend = sign_tx(2, [{"txid": txid, "vout": vout, "seq": 0xfffffffd, "value": value,
                         "key": ALICE}], [(200_000, p2wsh_script(ws)),
                                          (value - 200_000 - 1000, ALICE.script)], 0)
    ok, parent = dc.broadcast(spend)
    assert ok, parent
    child_raw = sign_tx(2, [{"txid": parent, "vout": 0, "seq": 0xfffffffd, "value": 200_000,
                             "key": BOB, "witness_script": ws,
                             "make_witness": lambda s: [s, ws]}],
                        [(199_000, BOB.script)], 0)
    assert c.call("blockchain.transaction.broadcast", child_raw.hex()) == \
        dc.get_json("/mempool/txids")[-1]
    child = dc.get_json("/mempool/txids")[-1]
    sh_wsh = scripthash(p2wsh_script(ws))
    assert c.call("blockchain.scripthash.get_history", sh_wsh) == [
        {"tx_hash": parent, "height": 0, "fee": 1000},
        {"tx_hash": child, "height": -1, "fee": 1000}]
    assert c.call("blockchain.scripthash.subscribe", sh_wsh) == \
        status_of([(parent, 0), (child, -1)])
    assert c.call("blockchain.scripthash.listunspent", sh_wsh) == []
    assert c.call("blockchain.scripthash.get_balance", sh_wsh) == {"confirmed": 0,
                                                                   "unconfirmed": 0}
    assert c.call("blockchain.scripthash.get_history", sh_alice) == [
        {"tx_hash": txid, "height": h1}, {"tx_hash": parent, "height": 0, "fee": 1000}]
    assert c.call("blockchain.scripthash.get_balance", sh_alice) == {
        "confirmed": 500_000, "unconfirmed": value - 200_000 - 1000 - 500_000}
    assert c.call("blockchain.scripthash.listunspent", sh_alice) == [
        {"tx_hash": parent, "tx_pos": 1, "height": 0, "value": value - 201_000}]

    # Mined together: confirmed history by height, then by position in the block.
    [blk] = dc.mine(1, MINER.address)
    order = dc.get_json("/block/%s/txids" % blk)
    assert order.index(parent) < order.index(child)
    h2 = dc.height()
    assert c.call("blockchain.scripthash.get_history", sh_wsh) == [
        {"tx_hash": parent, "height": h2}, {"tx_hash": child, "height": h2}]
    assert c.call("blockchain.scripthash.subscribe", sh_wsh) == \
        status_of([(parent, h2), (child, h2)])
    sh_bob = scripthash(BOB.script)
    assert c.call("blockchain.scripthash.listunspent", sh_bob) == [
        {"tx_hash": child, "tx_pos": 0, "height": h2, "value": 199_000}]
    # Every output script is indexed, coinbases' too: Miner's 101 + 2 blocks.
    hist = c.call("blockchain.scripthash.get_history", scripthash(MINER.script))
    assert len(hist) == 103 and hist[-1] == {"tx_hash": order[0], "height": h2}
    assert [x["height"] for x in hist] == sorted({x["height"] for x in hist})


def test_transactions(devchain):  # noqa: F811
    dc = devchain
    dc.mine(101, MINER.address)
    c = client(dc)
    txid, vout, value = fund(dc, ALICE.address, ALICE.script, 300_000, MINER.address)
    height = dc.height()
    raw = dc.get_text("/tx/%s/hex" % txid)
    assert c.call("blockchain.transaction.get", txid) == raw
    assert c.call("blockchain.transaction.get", txid, False) == raw
    v = c.call("blockchain.transaction.get", txid, True)
    esplora = dc.get_json("/tx/" + txid)
    assert v["txid"] == txid and v["hex"] == raw and v["confirmations"] == 1
    assert v["hash"] == sha256d(bytes.fromhex(raw))[::-1].hex()
    assert v["blockhash"] == esplora["status"]["block_hash"]
    assert v["size"] == esplora["size"] and v["weight"] == esplora["weight"]
    assert [(o["value"], o["scriptPubKey"]["hex"], o["scriptPubKey"].get("address"))
            for o in v["vout"]] == [(o["value"] / 1e8, o["scriptpubkey"],
                                     o.get("scriptpubkey_address")) for o in esplora["vout"]]
    assert v["vout"][vout]["scriptPubKey"]["type"] == "witness_v0_keyhash"
    # The merkle proof folds back to the root in the header.
    m = c.call("blockchain.transaction.get_merkle", txid, height)
    assert m["block_height"] == height
    hdr = check_header(bytes.fromhex(c.call("blockchain.block.header", height)))
    assert fold(bytes.fromhex(txid)[::-1], m["merkle"], m["pos"]) == hdr["root"]
    assert c.call("blockchain.transaction.id_from_pos", height, m["pos"]) == txid
    p = c.call("blockchain.transaction.id_from_pos", height, m["pos"], True)
    assert p == {"tx_hash": txid, "merkle": m["merkle"]}
    for bad in (("blockchain.transaction.get_merkle", txid, height - 1),
                ("blockchain.transaction.id_from_pos", height, 99),
                ("blockchain.transaction.id_from_pos", height + 1, 0)):
        with pytest.raises(RPCError) as e:
            c.call(*bad)
        assert e.value.code == 1
    with pytest.raises(RPCError) as e:
        c.call("blockchain.transaction.get", "ab" * 32)
    assert e.value.code == 2 and "No such mempool or blockchain transaction" in e.value.message

    # Broadcast: accepted (also again), refused with Core's words as POST /tx gives them.
    good = sign_tx(2, [{"txid": txid, "vout": vout, "seq": 0xfffffffd, "value": value,
                        "key": ALICE}], [(value - 1000, BOB.script)], 0)
    low = sign_tx(2, [{"txid": txid, "vout": vout, "seq": 0xfffffffd, "value": value,
                       "key": ALICE}], [(value - 50, BOB.script)], 0)
    missing = sign_tx(2, [{"txid": "11" * 32, "vout": 0, "seq": 0xfffffffd, "value": value,
                           "key": ALICE}], [(value - 1000, BOB.script)], 0)
    for bad in (low, missing, b"\x01\x02garbage"):
        ok, text = dc.broadcast(bad)
        core = json.loads(text.split("error: ", 1)[1])["message"]
        with pytest.raises(RPCError) as e:
            c.call("blockchain.transaction.broadcast", bad.hex())
        assert e.value.code == 1
        assert e.value.message == "the transaction was rejected by network rules.\n\n" + core
    with pytest.raises(RPCError) as e:
        c.call("blockchain.transaction.broadcast", "zz")
    assert e.value.message.endswith("TX decode failed")
    sent = c.call("blockchain.transaction.broadcast", good.hex())
    assert c.call("blockchain.transaction.broadcast", good.hex()) == sent
    assert dc.get_json("/tx/%s/status" % sent) == {"confirmed": False}
    with pytest.raises(RPCError) as e:
        c.call("blockchain.transaction.get_merkle", sent)
    dc.mine(1, MINER.address)
    with pytest.raises(RPCError) as e:
        c.call("blockchain.transaction.broadcast", good.hex())
    assert e.value.message.endswith("Transaction already in block chain")
    assert c.call("blockchain.transaction.get_merkle", sent)["block_height"] == height + 1


def test_notifications(devchain):  # noqa: F811
    dc = devchain
    dc.post_json("/mine", {"blocks": 101})  # to the faucet: it pays without mining
    a, b = client(dc), client(dc)
    sh_alice, sh_bob = scripthash(ALICE.script), scripthash(BOB.script)
    tip = a.call("blockchain.headers.subscribe")
    a.call("blockchain.scripthash.subscribe", sh_alice)
    b.call("blockchain.scripthash.subscribe", sh_bob)

    # A mempool change: Alice's status, no header.
    txid = dc.faucet(ALICE.address, 50_000)
    n = a.note("blockchain.scripthash.subscribe")
    assert n["params"] == [sh_alice, status_of([(txid, 0)])]
    # The faucet's own script (its input and change) is the control: a subscription to it
    # is notified in the same round as Alice's, and nothing came for Bob then.
    faucet_sh = scripthash(bytes.fromhex(dc.get_json("/tx/" + txid)["vin"][0]["prevout"][
        "scriptpubkey"]))
    b.call("blockchain.scripthash.subscribe", faucet_sh)
    # A block: the tip, and Alice's status with the height.
    dc.mine(1, MINER.address)
    h = a.note("blockchain.headers.subscribe")["params"][0]
    assert h["height"] == tip["height"] + 1 and h["hex"] == a.call("blockchain.block.header",
                                                                   h["height"])
    n = a.note("blockchain.scripthash.subscribe")
    assert n["params"] == [sh_alice, status_of([(txid, h["height"])])]
    n = b.note("blockchain.scripthash.subscribe")
    assert n["params"][0] == faucet_sh
    b.call("server.ping")
    assert [x["params"][0] for x in b.notes] == []

    # A reorganisation: a new tip at height + 1 on another branch; Alice's payment is
    # back in the mempool.
    dc.post_json("/reorg", {"depth": 1})
    h2 = a.note("blockchain.headers.subscribe")["params"][0]
    assert h2["height"] == h["height"] + 1
    assert check_header(bytes.fromhex(h2["hex"]))["hash"] == dc.get_text("/blocks/tip/hash")
    assert a.call("blockchain.block.header", h["height"]) != h["hex"]
    n = a.note("blockchain.scripthash.subscribe")
    assert n["params"] == [sh_alice, status_of([(txid, 0)])]

    # Unsubscribed: no more notifications for it (the faucet control again).
    assert a.call("blockchain.scripthash.unsubscribe", sh_alice) is True
    assert a.call("blockchain.scripthash.unsubscribe", sh_alice) is False
    a.call("blockchain.scripthash.subscribe", faucet_sh)
    dc.faucet(ALICE.address, 60_000)
    assert a.note("blockchain.scripthash.subscribe")["params"][0] == faucet_sh
    a.call("server.ping")
    assert [x for x in a.notes if x["params"][0] == sh_alice] == []


def test_batches_named_params_errors(devchain):  # noqa: F811
    c = client(devchain)
    c.send_raw(json.dumps([
        {"jsonrpc": "2.0", "id": "v", "method": "server.version", "params": ["t", "1.4"]},
        {"jsonrpc": "2.0", "method": "server.ping"},  # a notification: no response
        {"jsonrpc": "2.0", "id": 7, "method": "blockchain.block.header",
         "params": {"height": 0}},
        {"id": 8, "method": "server.ping"},  # JSON-RPC 1.0 style
        5,
    ]).encode() + b"\n")
    r = c.message()
    assert [x.get("id") for x in r] == ["v", 7, 8, None]
    assert r[0]["result"][1] == "1.4" and r[2]["result"] is None
    assert r[1]["result"] == c.call("blockchain.block.header", 0)
    assert r[3]["error"]["code"] == -32600
    cases = [
        ({"jsonrpc": "2.0", "id": 1, "method": "no.such.method"}, -32601),
        ({"jsonrpc": "2.0", "id": 2, "method": "blockchain.block.header",
          "params": [-1]}, -32602),
        ({"jsonrpc": "2.0", "id": 3, "method": "blockchain.block.header",
          "params": [1.5]}, -32602),
        ({"jsonrpc": "2.0", "id": 4, "method": "blockchain.scripthash.get_history",
          "params": ["ab"]}, -32602),
        ({"jsonrpc": "2.0", "id": 5, "method": "blockchain.block.header",
          "params": {"hieght": 1}}, -32602),
        ({"jsonrpc": "2.0", "id": 6, "method": "server.ping", "params": [1]}, -32602),
        ({"jsonrpc": "2.0", "id": 7, "method": "blockchain.transaction.get"}, -32602),
        ({"jsonrpc": "1.0", "id": 8, "method": "server.ping"}, -32600),
        ({"jsonrpc": "2.0", "id": [9], "method": "server.ping"}, -32600),
        ({"jsonrpc": "2.0", "id": 10, "method": "server.ping", "params": "x"}, -32600),
        ([], -32600),
    ]
    for req, code in cases:
        c.send_raw(json.dumps(req).encode() + b"\n")
        m = c.message()
        assert m["error"]["code"] == code, (req, m)
    c.send_raw(json.dumps([{"id": i, "method": "server.ping"} for i in range(101)]).encode() +
               b"\n")
    assert c.message()["error"] == {"code": -32600, "message": "batch too large"}
    c.send_raw(json.dumps([{"id": i, "method": "server.ping"} for i in range(100)]).encode() +
               b"\n")
    assert [m["id"] for m in c.message()] == list(range(100))
    # A notification with an unknown method gets nothing; the connection carries on.
    c.send_raw(b'{"jsonrpc":"2.0","method":"no.such"}\n\r\n')
    assert c.call("server.ping") is None
    c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"server.ping"}\r\n')
    assert c.message() == {"jsonrpc": "2.0", "id": 1, "result": None}


def test_many_clients(devchain):  # noqa: F811
    dc = devchain
    dc.mine(101, MINER.address)
    keys = [Key("electrum many %d" % i) for i in range(40)]
    clients = [client(dc) for _ in keys]
    for c, k in zip(clients, keys):
        c.call("server.version", "t", "1.4")
        c.call("blockchain.headers.subscribe")
        assert c.call("blockchain.scripthash.subscribe", scripthash(k.script)) is None
    errors = []

    def pay(k):
        try:
            dc.faucet(k.address, 10_000)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=pay, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    dc.mine(1, MINER.address)
    height = dc.height()
    for c, k in zip(clients, keys):
        sh = scripthash(k.script)
        hist = c.call("blockchain.scripthash.get_history", sh)
        assert len(hist) == 1 and hist[0]["height"] == height
        while True:
            n = c.note("blockchain.scripthash.subscribe")
            if n["params"][1] == status_of([(hist[0]["tx_hash"], height)]):
                break
        while c.note("blockchain.headers.subscribe")["params"][0]["height"] != height:
            pass
        c.close()


def test_pipelined_requests(devchain):  # noqa: F811
    """A client that sends thousands of requests at once and reads as it goes gets every
    answer, in order, while the server holds back (its queue full) and resumes."""
    devchain.mine(60, MINER.address)
    c = client(devchain)
    reqs = [{"jsonrpc": "2.0", "id": i, "method": "blockchain.block.headers",
             "params": [0, 50]} if i % 2 else
            {"jsonrpc": "2.0", "id": i, "method": "server.ping"} for i in range(8000)]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in reqs)
    sender = threading.Thread(target=c.send_raw, args=(data,))
    sender.start()
    for i in range(len(reqs)):
        m = c.message()
        assert m["id"] == i and ("result" in m), m
        if i % 2:
            assert m["result"]["count"] == 50
    sender.join()


def tcp_state(sock):
    """tcpi_state of a socket (1 established, 7 closed, 8 close-wait)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_hostile_clients(tmp_path):
    log = tmp_path / "devchain.err"
    dc = Devchain(tmp_path / "chain", extra=("--electrum-max-queue", "65536",
                                             "--electrum-max-subs", "5"),
                  stderr_file=str(log)).start()
    try:
        dc.mine(200, MINER.address)
        good = client(dc)
        good.call("blockchain.headers.subscribe")
        # The good client reads all the time (a thread), as a wallet does.
        heard = []

        def listen():
            try:
                while True:
                    heard.append(good.message())
            except (AssertionError, OSError, ValueError):
                pass
        reader = threading.Thread(target=listen, daemon=True)
        reader.start()

        # Garbage: an error, then the connection ends.
        g = client(dc)
        g.send_raw(b"\x00\xffnot json at all\n")
        m = g.message()
        assert m["id"] is None and m["error"]["code"] == -32700
        assert g.line() == b""

        # A line over 1 MiB: an error, then the connection ends.
        big = client(dc)
        big.send_raw(b"[" * (1 << 20) + b"[")
        m = big.message()
        assert m["error"] == {"code": -32600, "message": "request line too long"}
        assert big.line() == b""

        # Too many subscriptions.
        s = client(dc)
        for i in range(5):
            s.call("blockchain.scripthash.subscribe", "%064x" % i)
        with pytest.raises(RPCError) as e:
            s.call("blockchain.scripthash.subscribe", "%064x" % 5)
        assert e.value.code == 1 and "too many subscriptions" in e.value.message
        assert s.call("blockchain.scripthash.subscribe", "%064x" % 4) is None

        # A client pipelining requests without reading is not served further: its
        # responses (32 KB each, hundreds of MB for what it sends) never pile up in the
        # server; it stays connected, stalled.
        rss = rss_kib(dc.proc.pid)
        pipe = client(dc)
        pipe.sock.setblocking(False)
        req = b'{"jsonrpc":"2.0","id":1,"method":"blockchain.block.headers","params":[0,2016]}\n'
        sent = 0
        try:
            while sent < 20000:
                pipe.sock.send(req)
                sent += 1
        except BlockingIOError:
            pass
        assert client(dc).call("server.ping") is None
        assert rss_kib(dc.proc.pid) - rss < 16 * 1024

        # A client that subscribed and never reads: cut off once its notifications pass
        # the queue's cap, while the good client keeps up.
        deaf = client(dc, rcvbuf=4096)
        deaf.call("blockchain.headers.subscribe")
        deaf.call("blockchain.scripthash.subscribe", scripthash(MINER.script))
        for n in range(5000):
            if tcp_state(deaf.sock) != 1:
                break
            dc.mine(1, MINER.address)
        assert tcp_state(deaf.sock) == 7, "never cut off"
        assert n > 50  # it took a pile of notifications, not the first one
        # The good client heard every tip up to the last (notifications may skip tips
        # mined in quick succession, never the newest).
        height = dc.height()
        good.send("server.ping", id_="last")
        deadline = time.monotonic() + 30
        while not any(m.get("id") == "last" for m in heard):
            assert time.monotonic() < deadline and reader.is_alive()
            time.sleep(0.01)
        tips = [m["params"][0]["height"] for m in heard if m.get("method")]
        assert tips[-1] == height and tips == sorted(tips)

        # What does not fit in the queue's cap is an error (aiorpcx's excessive resource
        # usage), never a bigger queue: a single response, and a batch's sum.
        r = client(dc)
        assert r.call("blockchain.block.headers", 0, 100)["count"] == 100
        with pytest.raises(RPCError) as e:
            r.call("blockchain.block.headers", 0, 2016)
        assert e.value.code == -101 and e.value.message == "response too large"
        r.send_raw(json.dumps([{"id": i, "method": "blockchain.block.headers",
                                "params": [0, 100]} for i in range(5)] +
                              [{"id": 5, "method": "server.ping"}]).encode() + b"\n")
        batch = r.message()
        assert [m["id"] for m in batch] == list(range(6))
        kinds = ["result" if "result" in m else m["error"]["code"] for m in batch[:5]]
        k = kinds.count("result")
        assert 1 <= k < 5 and kinds == ["result"] * k + [-101] * (5 - k)
        assert sum(len(json.dumps(m)) for m in batch[:k]) <= 65536
        assert batch[5]["result"] is None  # a small one still fits

        err = log.read_text()
        assert "cut off: sent a line that is not JSON" in err
        assert "cut off: request line too long" in err
        assert "cut off: does not read: over 65536 bytes wait to be sent" in err
        assert err.count("cut off") == 3, err
        for c in (g, big, s, pipe, deaf, good):
            c.close()
    finally:
        dc.stop()


def test_idle_client_cut(tmp_path):
    """A client that starts a request and never finishes it (or goes quiet) is cut off after
    --electrum-idle-ms without a complete request; it gets the reason first."""
    log = tmp_path / "devchain.err"
    dc = Devchain(tmp_path / "chain", extra=("--electrum-idle-ms", "300"),
                  stderr_file=str(log)).start()
    try:
        slow = client(dc)
        slow.send_raw(b'{"jsonrpc": "2.0", "id": 1, "meth')
        m = slow.message()
        assert m == {"jsonrpc": "2.0", "id": None,
                     "error": {"code": -32600, "message": "idle too long"}}
        assert slow.line() == b""
        assert "cut off: idle too long" in log.read_text()
        slow.close()
    finally:
        dc.stop()


def test_electrum_off(tmp_path):
    """--electrum none: no server, no "electrum" in the first line; Esplora as before."""
    dc = Devchain(tmp_path / "chain", extra=("--electrum", "none")).start()
    try:
        assert set(json.loads(dc.first_line)) == {"esplora", "network"} and dc.electrum is None
        dc.mine(1, MINER.address)
        assert dc.height() == 1
    finally:
        dc.stop()
