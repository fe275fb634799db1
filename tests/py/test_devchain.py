"""alight-devchain: the command-line contract, Esplora endpoints checked against
independent recomputation (hashlib), and Bitcoin Core's reject reasons for invalid
transactions signed by Electrum."""
import hashlib
import json
import os
import struct
import subprocess

from devchain_util import (REGTEST_GENESIS, Devchain, Key, check_header, devchain,  # noqa: F401
                           find_output, fund, merkle_root, p2wsh_address, p2wsh_script,
                           script_num, push, sha256d, ser_tx, sign_tx, txid_of, vsize)

MINER = Key("devchain test miner")
ALICE = Key("devchain test alice")
BOB = Key("devchain test bob")


def test_first_line_and_genesis(devchain):
    first = json.loads(devchain.first_line)
    assert set(first) == {"esplora", "electrum", "network"} and first["network"] == "regtest"
    assert first["esplora"].startswith("http://127.0.0.1:")
    assert first["electrum"].startswith("tcp://127.0.0.1:")
    assert first["electrum"] != first["esplora"].replace("http", "tcp")
    assert devchain.get_text("/blocks/tip/height") == "0"
    assert devchain.get_text("/blocks/tip/hash") == REGTEST_GENESIS
    assert devchain.get_text("/block-height/0") == REGTEST_GENESIS
    hdr = bytes.fromhex(devchain.get_text("/block/%s/header" % REGTEST_GENESIS))
    fields = check_header(hdr, REGTEST_GENESIS)
    blk = devchain.get_json("/block/" + REGTEST_GENESIS)
    assert blk["id"] == REGTEST_GENESIS and blk["height"] == 0 and blk["tx_count"] == 1
    assert blk["previousblockhash"] is None and blk["bits"] == 0x207fffff
    assert blk["merkle_root"] == fields["root"][::-1].hex()
    raw = devchain.get("/block/%s/raw" % REGTEST_GENESIS)
    assert raw[:80] == hdr and len(raw) == 285
    assert devchain.get_json("/block/%s/status" % REGTEST_GENESIS)["in_best_chain"] is True
    st, _ = devchain.request("GET", "/block-height/1")
    assert st == 404


def check_block(dc, h, height):
    """Every consensus field of a mined block, recomputed."""
    raw = dc.get("/block/%s/raw" % h)
    hdr = check_header(raw[:80], h)
    assert hdr["prev"] == dc.get_text("/block-height/%d" % (height - 1))
    txids = dc.get_json("/block/%s/txids" % h)
    assert merkle_root([bytes.fromhex(t)[::-1] for t in txids]) == hdr["root"]
    # BIP 34: the coinbase scriptSig starts with the height.
    cb = dc.get_json("/tx/" + txids[0])
    assert cb["vin"][0]["is_coinbase"]
    assert bytes.fromhex(cb["vin"][0]["scriptsig"]).startswith(script_num(height))
    # BIP 141 commitment over the wtxids (the coinbase's is zero).
    wtxids = [bytes(32)] + [sha256d(bytes.fromhex(dc.get_text("/tx/%s/hex" % t)))
                            for t in txids[1:]]
    reserved = bytes.fromhex(cb["vin"][0]["witness"][0])
    commit = sha256d(merkle_root(wtxids) + reserved)
    scripts = [bytes.fromhex(o["scriptpubkey"]) for o in cb["vout"]]
    assert b"\x6a\x24\xaa\x21\xa9\xed" + commit in scripts
    # Subsidy 50 BTC, halving every 150 blocks, plus fees.
    fees = sum(dc.get_json("/tx/" + t)["fee"] for t in txids[1:])
    assert sum(o["value"] for o in cb["vout"]) == (5000000000 >> (height // 150)) + fees
    return hdr


def test_mine_to_address_then_utxo(devchain):
    hashes = devchain.mine(3, ALICE.address)
    assert len(hashes) == 3 and devchain.height() == 3
    for n, h in enumerate(hashes):
        check_block(devchain, h, n + 1)
        assert devchain.get_text("/block-height/%d" % (n + 1)) == h
    utxo = devchain.get_json("/address/%s/utxo" % ALICE.address)
    assert len(utxo) == 3
    assert all(u["value"] == 5000000000 and u["status"]["confirmed"] for u in utxo)
    assert {u["status"]["block_hash"] for u in utxo} == set(hashes)
    info = devchain.get_json("/address/" + ALICE.address)
    assert info["chain_stats"]["funded_txo_sum"] == 15000000000
    assert info["chain_stats"]["tx_count"] == 3
    sh = hashlib.sha256(ALICE.script).hexdigest()
    assert len(devchain.get_json("/scripthash/%s/utxo" % sh)) == 3
    assert len(devchain.get_json("/address/%s/txs" % ALICE.address)) == 3
    st = devchain.get_json("/block/%s/status" % hashes[0])
    assert st["in_best_chain"] and st["next_best"] == hashes[1]


def test_faucet_mine_confirmations_and_proofs(devchain):
    txid = devchain.faucet(BOB.address, 1234567)
    assert devchain.get_json("/tx/%s/status" % txid) == {"confirmed": False}
    assert txid in devchain.get_json("/mempool/txids")
    assert devchain.get_json("/mempool")["count"] == 1
    assert devchain.get_json("/address/" + BOB.address)["mempool_stats"]["funded_txo_sum"] \
        == 1234567
    [h] = devchain.mine(1, MINER.address)
    height = devchain.height()
    st = devchain.get_json("/tx/%s/status" % txid)
    assert st["confirmed"] and st["block_hash"] == h and st["block_height"] == height
    hdr = check_block(devchain, h, height)
    # Esplora merkle-proof, verified here against the header's merkle root.
    proof = devchain.get_json("/tx/%s/merkle-proof" % txid)
    assert proof["block_height"] == height
    cur, pos = bytes.fromhex(txid)[::-1], proof["pos"]
    for sib in proof["merkle"]:
        s = bytes.fromhex(sib)[::-1]
        cur = sha256d(s + cur) if pos & 1 else sha256d(cur + s)
        pos >>= 1
    assert cur == hdr["root"]
    # BIP 37 merkleblock: our header, our txid among the hashes.
    mb = bytes.fromhex(devchain.get_text("/tx/%s/merkleblock-proof" % txid))
    assert mb[:80] == devchain.get("/block/%s/raw" % h)[:80]
    assert struct.unpack_from("<I", mb, 80)[0] == len(devchain.get_json("/block/%s/txids" % h))
    assert bytes.fromhex(txid)[::-1] in mb[85:]
    tx = devchain.get_json("/tx/" + txid)
    vout, value = find_output(devchain, txid, BOB.script)
    assert value == 1234567 and tx["vout"][vout]["scriptpubkey_address"] == BOB.address
    assert tx["vout"][vout]["scriptpubkey_type"] == "v0_p2wpkh"
    assert tx["fee"] > 0 and tx["vin"][0]["prevout"]["value"] > 0
    assert devchain.get_json("/tx/%s/outspend/%d" % (txid, vout)) == {"spent": False}
    assert devchain.get_text("/tx/%s/hex" % txid) == devchain.get("/tx/%s/raw" % txid).hex()
    fees = devchain.get_json("/fee-estimates")
    assert all(fees[k] >= 1.0 for k in ("1", "6", "144", "1008"))


def spend_p2wpkh(key, txid, vout, value, outs, seq=0xfffffffd, locktime=0, version=2):
    ins = [{"txid": txid, "vout": vout, "seq": seq, "value": value, "key": key}]
    return sign_tx(version, ins, outs, locktime)


def reject(dc, raw):
    ok, text = dc.broadcast(raw)
    assert not ok, text
    prefix = "sendrawtransaction RPC error: "
    assert text.startswith(prefix), text
    return json.loads(text[len(prefix):])


def test_spend_and_reject(devchain):
    dc = devchain
    txid, vout, value = fund(dc, ALICE.address, ALICE.script, 1000000, MINER.address)

    # A valid P2WPKH spend is accepted and mined; outspend then points at it. It does not
    # signal BIP 125, so a conflicting spend is refused (test_devchain_rbf.py replaces).
    good = spend_p2wpkh(ALICE, txid, vout, value, [(value - 1000, BOB.script)], seq=0xfffffffe)
    # Bad signature: signed by another key, presented with Alice's public key.
    ins = [{"txid": txid, "vout": vout, "seq": 0xfffffffd, "value": value, "key": BOB}]
    sign_tx(2, ins, [(value - 1000, BOB.script)], 0)
    ins[0]["witness"][1] = ALICE.pub
    e = reject(dc, ser_tx(2, ins, [(value - 1000, BOB.script)], 0))
    assert e["message"] == ("mandatory-script-verify-flag-failed (Script evaluated without "
                            "error but finished with a false/empty top stack element)")
    assert e["code"] == -26

    # Dust, fee floor, inputs below outputs, negative and oversized amounts.
    e = reject(dc, spend_p2wpkh(ALICE, txid, vout, value, [(100, BOB.script),
                                                           (value - 2000, BOB.script)]))
    assert e["message"] == "dust"
    low = spend_p2wpkh(ALICE, txid, vout, value, [(value - 50, BOB.script)])
    e = reject(dc, low)
    assert e["message"] == "min relay fee not met, 50 < %d" % vsize(low)
    e = reject(dc, spend_p2wpkh(ALICE, txid, vout, value, [(value + 1000000, BOB.script)]))
    assert e["message"] == "bad-txns-in-belowout, value in (0.01) < value out (0.02)"
    unsigned = [{"txid": txid, "vout": vout, "seq": 0xfffffffd, "witness": [b"\x01"]}]
    e = reject(dc, ser_tx(2, unsigned, [(-1, BOB.script)], 0))
    assert e["message"] == "bad-txns-vout-negative"
    e = reject(dc, ser_tx(2, unsigned, [(21000000 * 10**8 + 1, BOB.script)], 0))
    assert e["message"] == "bad-txns-vout-toolarge"
    e = reject(dc, ser_tx(2, unsigned, [(21000000 * 10**8, BOB.script)] * 2, 0))
    assert e["message"] == "bad-txns-txouttotal-toolarge"
    # Missing input.
    e = reject(dc, spend_p2wpkh(ALICE, "11" * 32, 0, value, [(value - 1000, BOB.script)]))
    assert e == {"code": -25, "message": "bad-txns-inputs-missingorspent"}

    ok, got = dc.broadcast(good)
    assert ok and got == txid_of(ser_tx(2, [{"txid": txid, "vout": vout, "seq": 0xfffffffe}],
                                        [(value - 1000, BOB.script)], 0, witness=False))
    # Double spend against the mempool, then against the chain.
    other = spend_p2wpkh(ALICE, txid, vout, value, [(value - 5000, ALICE.script)])
    assert reject(dc, other)["message"] == "txn-mempool-conflict"
    dc.mine(1, MINER.address)
    assert dc.get_json("/tx/%s/outspend/%d" % (txid, vout))["txid"] == got
    assert reject(dc, other) == {"code": -25, "message": "bad-txns-inputs-missingorspent"}


def test_immature_coinbase(devchain):
    [h] = devchain.mine(1, ALICE.address)
    cb = devchain.get_json("/block/%s/txids" % h)[0]
    vout, value = find_output(devchain, cb, ALICE.script)
    raw = spend_p2wpkh(ALICE, cb, vout, value, [(value - 1000, BOB.script)])
    e = reject(devchain, raw)
    assert e["message"] == ("bad-txns-premature-spend-of-coinbase, "
                            "tried to spend coinbase at depth 1")
    devchain.mine(98, MINER.address)
    e = reject(devchain, raw)
    assert e["message"].endswith("at depth 99")
    devchain.mine(1, MINER.address)
    ok, text = devchain.broadcast(raw)
    assert ok, text


def test_csv_and_cltv(devchain):
    dc = devchain
    # <5> OP_CSV OP_DROP <Alice> OP_CHECKSIG
    csv_ws = script_num(5) + b"\xb2\x75" + push(ALICE.pub) + b"\xac"
    txid, vout, value = fund(dc, p2wsh_address(csv_ws), p2wsh_script(csv_ws), 500000,
                             MINER.address)

    def csv_spend(seq):
        ins = [{"txid": txid, "vout": vout, "seq": seq, "value": value, "key": ALICE,
                "witness_script": csv_ws}]
        return sign_tx(2, ins, [(value - 1000, BOB.script)], 0)

    # BIP 68: nSequence 5 is not yet satisfied one block after confirmation.
    assert reject(dc, csv_spend(5))["message"] == "non-BIP68-final"
    # BIP 112: nSequence 1 passes BIP 68 but not the script's 5.
    assert reject(dc, csv_spend(1))["message"] == \
        "mandatory-script-verify-flag-failed (Locktime requirement not satisfied)"
    dc.mine(4, MINER.address)
    ok, text = dc.broadcast(csv_spend(5))
    assert ok, text

    # <tip+20> OP_CLTV OP_DROP <Alice> OP_CHECKSIG
    lock = dc.height() + 20
    cltv_ws = script_num(lock) + b"\xb1\x75" + push(ALICE.pub) + b"\xac"
    txid, vout, value = fund(dc, p2wsh_address(cltv_ws), p2wsh_script(cltv_ws), 500000,
                             MINER.address)

    def cltv_spend(locktime):
        ins = [{"txid": txid, "vout": vout, "seq": 0xfffffffe, "value": value, "key": ALICE,
                "witness_script": cltv_ws}]
        return sign_tx(2, ins, [(value - 1000, BOB.script)], locktime)

    assert reject(dc, cltv_spend(dc.height()))["message"] == \
        "mandatory-script-verify-flag-failed (Locktime requirement not satisfied)"
    assert reject(dc, cltv_spend(lock))["message"] == "non-final"
    dc.mine(lock - dc.height(), MINER.address)
    ok, text = dc.broadcast(cltv_spend(lock))
    assert ok, text


def test_restart_keeps_chain(tmp_path):
    d = Devchain(tmp_path / "chain").start()
    try:
        d.mine(5, ALICE.address)
        txid = d.faucet(BOB.address, 50000)
        tip = d.get_text("/blocks/tip/hash")
        height = d.height()
    finally:
        d.stop()
    d = Devchain(tmp_path / "chain").start()
    try:
        assert d.get_text("/blocks/tip/hash") == tip and d.height() == height
        assert txid in d.get_json("/mempool/txids")
        d.mine(1, MINER.address)
        assert d.get_json("/tx/%s/status" % txid)["confirmed"]
        for h in range(1, d.height() + 1):
            check_header(d.get("/block/%s/raw" % d.get_text("/block-height/%d" % h))[:80])
    finally:
        d.stop()


def test_reorg_changes_tip_and_unconfirms(devchain):
    dc = devchain
    txid = dc.faucet(BOB.address, 70000)
    [h] = dc.mine(1, MINER.address)
    height = dc.height()
    assert dc.get_json("/tx/%s/status" % txid)["block_hash"] == h
    out = dc.post_json("/reorg", {"depth": 1})
    assert out["old_tip"] == h and out["height"] == height + 1
    assert dc.height() == height + 1 and dc.get_text("/blocks/tip/hash") != h
    assert dc.get_json("/block/%s/status" % h) == {"in_best_chain": False}
    assert dc.get_json("/tx/%s/status" % txid) == {"confirmed": False}
    assert txid in dc.get_json("/mempool/txids")
    for n in (height, height + 1):
        check_block(dc, dc.get_text("/block-height/%d" % n), n)
    dc.mine(1, MINER.address)
    assert dc.get_json("/tx/%s/status" % txid)["block_height"] == height + 2


def test_https(tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    d = Devchain(tmp_path / "chain", tls=(cert, key)).start()
    try:
        assert d.url.startswith("https://127.0.0.1:")
        assert d.get_text("/blocks/tip/hash") == REGTEST_GENESIS
    finally:
        d.stop()


def test_path_numbers_are_strict(devchain):
    """Esplora's path numbers are plain decimal: signs, spaces, hex or empty are refused."""
    devchain.mine(2, MINER.address)
    tip = devchain.get_text("/blocks/tip/hash")
    cb = devchain.get_json("/block/%s/txids" % tip)[0]
    assert devchain.request("GET", "/block-height/1")[0] == 200
    assert devchain.request("GET", "/tx/%s/outspend/0" % cb)[0] == 200
    assert devchain.request("GET", "/block/%s/txid/0" % tip)[0] == 200
    assert devchain.request("GET", "/block/%s/txs/0" % tip)[0] == 200
    for bad in ("+1", "-0", "%201", "0x1", "", "1a", "9999999999"):
        assert devchain.request("GET", "/block-height/%s" % bad)[0] in (400, 404), bad
        assert devchain.request("GET", "/tx/%s/outspend/%s" % (cb, bad))[0] in (400, 404), bad
        assert devchain.request("GET", "/block/%s/txid/%s" % (tip, bad))[0] in (400, 404), bad
        if bad:
            assert devchain.request("GET", "/block/%s/txs/%s" % (tip, bad))[0] == 400, bad


def test_bad_requests(devchain):
    assert devchain.request("GET", "/tx/zz")[0] == 400
    assert devchain.request("GET", "/tx/" + "00" * 32)[0] == 404
    assert devchain.request("GET", "/address/bc1qnotregtest/utxo")[0] == 400
    st, body = devchain.request("POST", "/tx", "00")
    assert st == 400 and b"TX decode failed" in body
    assert devchain.request("POST", "/mine", "{}")[0] == 400
    assert os.environ.get("ALIGHT_BIN")
