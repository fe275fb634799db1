"""alight-devchain: BIP 125 replace-by-fee as Bitcoin Core v25 applies it (the conflict
loop of PreChecks, ReplacementChecks, Finalize's evictions), with Core's reject messages
worded exactly; and the Esplora history and block-list endpoints a wallet pages through.

Every transaction is signed with Electrum's code (devchain_util.sign_tx), every signature
ground to one length (devchain_util.SIG_LEN), so that two spends of the same shape have the
same virtual size whatever amounts they sign. Fees, virtual sizes, feerates and Core's
money/feerate formatting are recomputed here from the bytes."""
import hashlib
import json

from devchain_util import (SIG_LEN, Devchain, Key, devchain, fund, ser_tx,  # noqa: F401
                           sign_tx, txid_of)

MINER = Key("rbf test miner")
ALICE = Key("rbf test alice")
BOB = Key("rbf test bob")
CAROL = Key("rbf test carol")

SIGNAL = 0xfffffffd      # BIP 125: nSequence <= 0xfffffffd signals
NO_SIGNAL = 0xfffffffe
PREFIX = "sendrawtransaction RPC error: "


def p2wpkh_vsize(n_in, out_scripts):
    """BIP 141 virtual size of a P2WPKH spend whose signatures are SIG_LEN bytes."""
    base = 4 + 1 + 41 * n_in + 1 + sum(8 + 1 + len(s) for s in out_scripts) + 4
    witness = 2 + n_in * (1 + 1 + SIG_LEN + 1 + 33)
    return (4 * base + witness + 3) // 4


class Tx:
    """A signed P2WPKH spend: raw bytes, txid, virtual size, fee (recomputed here)."""

    def __init__(self, key, coins, outs, seq=SIGNAL):
        ins = [{"txid": t, "vout": v, "seq": seq, "value": val, "key": key}
               for t, v, val in coins]
        self.raw = sign_tx(2, ins, outs, 0)
        base = ser_tx(2, ins, outs, 0, witness=False)
        self.txid = txid_of(base)
        weight = 3 * len(base) + len(self.raw)
        self.vsize = (weight + 3) // 4
        assert self.vsize == p2wpkh_vsize(len(coins), [s for _, s in outs])
        self.fee = sum(c[2] for c in coins) - sum(v for v, _ in outs)
        self.outs = outs

    def coin(self, n=0):
        return (self.txid, n, self.outs[n][0])


def send(dc, tx):
    ok, text = dc.broadcast(tx.raw)
    assert ok, text
    assert text == tx.txid
    return tx


def reject(dc, tx):
    ok, text = dc.broadcast(tx.raw)
    assert not ok, text
    assert text.startswith(PREFIX), text
    return json.loads(text[len(PREFIX):])


def format_money(sat):
    """Core's FormatMoney: 8 decimals, trailing zeros trimmed down to two."""
    s = "%d.%08d" % (sat // 10**8, sat % 10**8)
    while s.endswith("0") and not s[-3] == ".":
        s = s[:-1]
    return s


def feerate(fee, vsize):
    """Core's CFeeRate(fee, vsize).ToString(): sat per kvB rounded down, in BTC/kvB."""
    per_kvb = fee * 1000 // vsize
    return "%d.%08d BTC/kvB" % (per_kvb // 10**8, per_kvb % 10**8)


def gone(dc, txid):
    """An evicted transaction is unknown to every endpoint, as in electrs."""
    assert txid not in dc.get_json("/mempool/txids")
    for sub in ("", "/status", "/hex", "/outspends"):
        st, body = dc.request("GET", "/tx/%s%s" % (txid, sub))
        assert (st, body.strip()) == (404, b"Transaction not found"), (sub, st, body)


def present(dc, txid):
    assert txid in dc.get_json("/mempool/txids")
    assert dc.get_json("/tx/%s/status" % txid) == {"confirmed": False}


def coin_for(dc, key, amount):
    """A confirmed coin of `amount` paying key."""
    return fund(dc, key.address, key.script, amount, MINER.address)


def test_replacement_evicts_original_and_is_mined(devchain):
    dc = devchain
    coin = coin_for(dc, ALICE, 1000000)
    orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000, BOB.script)]))
    assert dc.get_json("/tx/%s/outspend/%d" % coin[:2])["txid"] == orig.txid
    # Rule 4's minimum: the additional fee pays exactly 1 sat/vB over the replacement
    # (its size does not depend on the amounts: every signature has SIG_LEN bytes).
    vsize = p2wpkh_vsize(1, [CAROL.script])
    repl = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000 - vsize, CAROL.script)]))
    assert repl.vsize == vsize and repl.fee - orig.fee == repl.vsize
    gone(dc, orig.txid)
    present(dc, repl.txid)
    assert dc.get_json("/tx/%s/outspend/%d" % coin[:2])["txid"] == repl.txid
    assert dc.get_json("/tx/" + repl.txid)["fee"] == repl.fee
    assert dc.get_json("/mempool")["count"] == 1
    assert dc.get_json("/address/%s/txs/mempool" % BOB.address) == []
    assert [t["txid"] for t in dc.get_json("/address/%s/txs/mempool" % CAROL.address)] \
        == [repl.txid]
    [h] = dc.mine(1, MINER.address)
    assert dc.get_json("/tx/%s/status" % repl.txid)["block_hash"] == h
    assert repl.txid in dc.get_json("/block/%s/txids" % h)
    gone(dc, orig.txid)
    # The original can never come back: its input is spent in the chain now.
    assert reject(dc, orig) == {"code": -25, "message": "bad-txns-inputs-missingorspent"}


def test_replacement_survives_restart(tmp_path):
    dc = Devchain(tmp_path / "chain").start()
    try:
        coin = coin_for(dc, ALICE, 1000000)
        orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000, BOB.script)]))
        repl = send(dc, Tx(ALICE, [coin], [(coin[2] - 5000, CAROL.script)]))
    finally:
        dc.stop()
    dc = Devchain(tmp_path / "chain").start()
    try:
        assert dc.get_json("/mempool/txids") == [repl.txid]
        gone(dc, orig.txid)
    finally:
        dc.stop()


def test_non_signalling_original_is_kept(devchain):
    dc = devchain
    coin = coin_for(dc, ALICE, 1000000)
    orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000, BOB.script)], seq=NO_SIGNAL))
    better = Tx(ALICE, [coin], [(coin[2] - 50000, CAROL.script)])
    assert reject(dc, better) == {"code": -26, "message": "txn-mempool-conflict"}
    present(dc, orig.txid)

    # No inherited signalling (CVE-2021-31876): a child that does not signal itself is
    # not replaceable even though its unconfirmed parent signals.
    coin = coin_for(dc, ALICE, 1000000)
    parent = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000, BOB.script)]))
    child = send(dc, Tx(BOB, [parent.coin()], [(parent.outs[0][0] - 1000, CAROL.script)],
                        seq=NO_SIGNAL))
    rival = Tx(BOB, [parent.coin()], [(parent.outs[0][0] - 20000, ALICE.script)])
    assert reject(dc, rival) == {"code": -26, "message": "txn-mempool-conflict"}
    present(dc, child.txid)
    # The signalling parent itself can be replaced, and its child goes with it.
    repl = send(dc, Tx(ALICE, [coin], [(coin[2] - 10000, CAROL.script)]))
    gone(dc, parent.txid)
    gone(dc, child.txid)
    present(dc, repl.txid)


def test_rule6_feerate_must_rise(devchain):
    dc = devchain
    coin = coin_for(dc, ALICE, 1000000)
    orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 2000, BOB.script)]))
    # Same fee and size: same feerate, refused ("<=").
    same = Tx(ALICE, [coin], [(coin[2] - 2000, CAROL.script)])
    assert same.vsize == orig.vsize
    e = reject(dc, same)
    assert e == {"code": -26, "message":
                 "insufficient fee, rejecting replacement %s; new feerate %s <= old feerate %s"
                 % (same.txid, feerate(same.fee, same.vsize), feerate(orig.fee, orig.vsize))}
    # More absolute fee, but a lower feerate (one more output).
    wide = Tx(ALICE, [coin], [(coin[2] - 2100 - 100000, CAROL.script), (100000, BOB.script)])
    assert wide.fee > orig.fee and wide.fee * 1000 // wide.vsize < orig.fee * 1000 // orig.vsize
    e = reject(dc, wide)
    assert e["message"] == ("insufficient fee, rejecting replacement %s; new feerate %s <= "
                            "old feerate %s" % (wide.txid, feerate(wide.fee, wide.vsize),
                                                feerate(orig.fee, orig.vsize)))
    present(dc, orig.txid)


def test_rules_3_and_4_absolute_fees(devchain):
    dc = devchain
    coin = coin_for(dc, ALICE, 1000000)
    # Two outputs: a larger original, so that a smaller replacement can have a higher
    # feerate with less absolute fee.
    orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 3000 - 200000, BOB.script),
                                       (200000, CAROL.script)]))
    small = Tx(ALICE, [coin], [(coin[2] - 2900, CAROL.script)])
    assert small.fee * 1000 // small.vsize > orig.fee * 1000 // orig.vsize
    e = reject(dc, small)
    assert e == {"code": -26, "message":
                 "insufficient fee, rejecting replacement %s, less fees than conflicting txs; "
                 "%s < %s" % (small.txid, format_money(2900), format_money(3000))}
    assert format_money(2900) == "0.000029" and format_money(3000) == "0.00003"
    # Rule 4: 50 sat more is not enough to pay for the replacement's own relay.
    more = Tx(ALICE, [coin], [(coin[2] - 3050, CAROL.script)])
    e = reject(dc, more)
    assert e["message"] == ("insufficient fee, rejecting replacement %s, not enough additional "
                            "fees to relay; %s < %s" % (more.txid, format_money(50),
                                                        format_money(more.vsize)))
    # One sat short of the incremental relay fee, then exactly it.
    short = Tx(ALICE, [coin], [(coin[2] - 3000 - more.vsize + 1, CAROL.script)])
    assert short.vsize == more.vsize
    assert reject(dc, short)["message"].endswith(
        "; %s < %s" % (format_money(more.vsize - 1), format_money(more.vsize)))
    enough = send(dc, Tx(ALICE, [coin], [(coin[2] - 3000 - more.vsize, CAROL.script)]))
    gone(dc, orig.txid)
    present(dc, enough.txid)


def test_rule2_no_new_unconfirmed_inputs(devchain):
    dc = devchain
    coin = coin_for(dc, ALICE, 1000000)
    extra = coin_for(dc, ALICE, 500000)
    spare = coin_for(dc, ALICE, 300000)
    orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000, BOB.script)]))
    # An unconfirmed coin of Alice's from elsewhere in the mempool.
    other = send(dc, Tx(ALICE, [extra], [(extra[2] - 1000, ALICE.script)]))
    repl = Tx(ALICE, [coin, other.coin()], [(coin[2] + other.outs[0][0] - 30000,
                                            CAROL.script)])
    e = reject(dc, repl)
    assert e == {"code": -26, "message": "replacement-adds-unconfirmed, replacement %s adds "
                 "unconfirmed input, idx 1" % repl.txid}
    # A confirmed extra input is fine.
    ok = send(dc, Tx(ALICE, [coin, spare], [(coin[2] + spare[2] - 30000, CAROL.script)]))
    gone(dc, orig.txid)
    present(dc, ok.txid)


def test_spends_conflicting_tx(devchain):
    dc = devchain
    coin = coin_for(dc, ALICE, 1000000)
    orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000, BOB.script)]))
    child = send(dc, Tx(BOB, [orig.coin()], [(orig.outs[0][0] - 1000, CAROL.script)]))
    # Alice's coin again (conflicting with orig) plus the child's output: the replacement
    # would depend on the transaction it replaces.
    both = _two_key_tx(coin, child)
    e = reject(dc, both)
    assert e == {"code": -26, "message": "bad-txns-spends-conflicting-tx, %s spends conflicting "
                 "transaction %s" % (both.txid, orig.txid)}
    present(dc, orig.txid)
    present(dc, child.txid)


def _two_key_tx(coin, child):
    ins = [{"txid": coin[0], "vout": coin[1], "seq": SIGNAL, "value": coin[2], "key": ALICE},
           {"txid": child.txid, "vout": 0, "seq": SIGNAL, "value": child.outs[0][0],
            "key": CAROL}]
    outs = [(coin[2] + child.outs[0][0] - 50000, MINER.script)]
    t = Tx.__new__(Tx)
    t.raw = sign_tx(2, ins, outs, 0)
    t.txid = txid_of(ser_tx(2, ins, outs, 0, witness=False))
    return t


def test_descendants_are_evicted(devchain):
    dc = devchain
    coin = coin_for(dc, ALICE, 1000000)
    orig = send(dc, Tx(ALICE, [coin], [(coin[2] - 1000, BOB.script)]))
    child = send(dc, Tx(BOB, [orig.coin()], [(orig.outs[0][0] - 2000, CAROL.script)]))
    grand = send(dc, Tx(CAROL, [child.coin()], [(child.outs[0][0] - 3000, BOB.script)]))
    total = orig.fee + child.fee + grand.fee
    # Rule 3 counts the descendants' fees too.
    low = Tx(ALICE, [coin], [(coin[2] - total + 1, MINER.script)])
    e = reject(dc, low)
    assert e["message"] == ("insufficient fee, rejecting replacement %s, less fees than "
                            "conflicting txs; %s < %s" % (low.txid, format_money(total - 1),
                                                          format_money(total)))
    for t in (orig, child, grand):
        present(dc, t.txid)
    repl = send(dc, Tx(ALICE, [coin], [(coin[2] - total - 500, MINER.script)]))
    for t in (orig, child, grand):
        gone(dc, t.txid)
    assert dc.get_json("/mempool/txids") == [repl.txid]
    assert dc.get_json("/tx/%s/outspend/%d" % coin[:2])["txid"] == repl.txid
    [h] = dc.mine(1, MINER.address)
    assert dc.get_json("/block/%s/txids" % h)[1:] == [repl.txid]


def test_rule5_at_most_100_evictions(devchain):
    dc = devchain
    coins = [coin_for(dc, ALICE, 200000) for _ in range(5)]
    chains = []
    for c in coins:
        # A direct conflict and 20 descendants: Core's count with descendants is 21.
        t = send(dc, Tx(ALICE, [c], [(c[2] - 500, ALICE.script)]))
        chain = [t]
        for _ in range(20):
            t = send(dc, Tx(ALICE, [t.coin()], [(t.outs[0][0] - 500, ALICE.script)]))
            chain.append(t)
        chains.append(chain)
    assert len(dc.get_json("/mempool/txids")) == 105
    total_in = sum(c[2] for c in coins)
    repl = Tx(ALICE, coins, [(total_in - 100000, BOB.script)])
    e = reject(dc, repl)
    assert e == {"code": -26, "message": "too many potential replacements, rejecting "
                 "replacement %s; too many potential replacements (105 > 100)\n" % repl.txid}
    assert len(dc.get_json("/mempool/txids")) == 105
    # Four of the five chains: 84 evictions, allowed.
    repl4 = send(dc, Tx(ALICE, coins[:4], [(sum(c[2] for c in coins[:4]) - 100000,
                                            BOB.script)]))
    left = dc.get_json("/mempool/txids")
    assert sorted(left) == sorted([t.txid for t in chains[4]] + [repl4.txid])
    for chain in chains[:4]:
        gone(dc, chain[0].txid)
        gone(dc, chain[-1].txid)


# ---- Esplora history paging and block lists -------------------------------------------

def test_address_txs_chain_and_mempool(devchain):
    dc = devchain
    hashes = dc.mine(30, ALICE.address)
    sh = hashlib.sha256(ALICE.script).hexdigest()
    cbs = [dc.get_json("/block/%s/txids" % h)[0] for h in hashes]
    for base in ("/address/" + ALICE.address, "/scripthash/" + sh):
        page1 = dc.get_json(base + "/txs/chain")
        assert [t["txid"] for t in page1] == cbs[::-1][:25]
        assert all(t["status"]["confirmed"] for t in page1)
        page2 = dc.get_json("%s/txs/chain/%s" % (base, page1[-1]["txid"]))
        assert [t["txid"] for t in page2] == cbs[::-1][25:]
        assert dc.get_json("%s/txs/chain/%s" % (base, page2[-1]["txid"])) == []
        assert dc.get_json(base + "/txs/mempool") == []
    # An unconfirmed payment shows in txs/mempool only, with its status.
    pay = dc.faucet(ALICE.address, 70000)
    for base in ("/address/" + ALICE.address, "/scripthash/" + sh):
        mem = dc.get_json(base + "/txs/mempool")
        assert [t["txid"] for t in mem] == [pay] and mem[0]["status"] == {"confirmed": False}
        assert pay not in [t["txid"] for t in dc.get_json(base + "/txs/chain")]
        assert dc.get_json(base + "/txs")[0]["txid"] == pay
    st, _ = dc.request("GET", "/address/%s/txs/chain/zz" % ALICE.address)
    assert st == 400
    # An unknown last-seen txid gives an empty page, as electrs does.
    assert dc.get_json("/address/%s/txs/chain/%s" % (ALICE.address, "00" * 32)) == []


def test_blocks_list(devchain):
    dc = devchain
    dc.mine(12, MINER.address)
    tip = dc.get_json("/blocks")
    assert [b["height"] for b in tip] == list(range(12, 2, -1))
    for b in tip:
        assert b == dc.get_json("/block/" + b["id"])
        assert dc.get_text("/block-height/%d" % b["height"]) == b["id"]
    assert [b["height"] for b in dc.get_json("/blocks/5")] == [5, 4, 3, 2, 1, 0]
    assert dc.get_json("/blocks/0")[0]["previousblockhash"] is None
    assert dc.get_json("/blocks/12") == tip
    st, body = dc.request("GET", "/blocks/13")
    assert (st, body.strip()) == (404, b"Block not found")
    assert dc.request("GET", "/blocks/x")[0] == 404
    assert dc.get_text("/blocks/tip/height") == "12"
