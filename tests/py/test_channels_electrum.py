"""alightd's channels against a whole, unmodified Electrum 4.3.4 wallet (its own Lightning
node, watcher and wallet) on alight-devchain, driven as their users would: alight-cli over
the user channel on one side, Electrum's own commands on the other.

alight opens a channel to Electrum (pushing part of it), Electrum opens one to alight; both
reach the usable state on both sides; Electrum's update_fee (45001 sat/kw, sent as soon as
the channel it funded is usable) is applied by alight. Then each side closes one channel
cooperatively, and every amount is checked against the transactions on devchain, after fees,
on both wallets. Then, with two new channels (each pushing part to the other side), alight
force-closes one and Electrum the other: each side's immediate output reaches its wallet
(alight's node sweeps its to_remote), each delayed output is swept after the delay the
other side asked for (alight's node and Electrum's watcher), every balance to the satoshi."""
import time

from conftest import scaled
from daemon_util import start_daemon
from devchain_util import devchain  # noqa: F401  (fixture)
from electrum_util import btc, chain_tx, electrum_daemon, fee_of  # noqa: F401

MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def wait(what, fn, timeout=90):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = fn()
        if v:
            return v
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.2)


def alight_channel(d, point, which=""):
    key = "pending_open_channels" if which == "--pending" else "channels"
    for c in d.user("listchannels", *([which] if which else []))[key]:
        if c["channel_point"] == point:
            return c
    return None


def on_chain(dc, txid):
    return dc.request("GET", "/tx/" + txid)[0] == 200


def funded_pair(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    """Electrum and alightd on devchain, 2,000,000 sat confirmed in each wallet, alight
    connected to Electrum."""
    devchain.mine(101, MINER)
    el = electrum_daemon("alice", devchain, listen=True, config={"use_gossip": True})
    d = start_daemon(procs, tmp_path / "alightd", "--chain-poll-ms", "200")
    d.user("setchain", devchain.url)
    devchain.faucet(d.user("newaddress")["address"], 2_000_000)
    devchain.faucet(el.call("getunusedaddress"), 2_000_000)
    devchain.mine(1, MINER)
    assert d.user("walletbalance")["confirmed_balance"] == 2_000_000
    el.wait_balance(confirmed=2_000_000, unconfirmed=0)
    d.cli("connect", el.uri)
    d.wait_peer(el.node_id)
    return el, d


def test_channels_with_electrum(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    el, d = funded_pair(tmp_path, procs, devchain, electrum_daemon)

    # --- alight opens to Electrum, pushing 50,000 sat -----------------------------------
    opened = d.user("openchannel", el.node_id, 600_000, "--push", 50_000)
    point1 = "%s:%d" % (opened["funding_txid_str"], opened["output_index"])
    wait("funding 1 on devchain", lambda: on_chain(devchain, opened["funding_txid_str"]))
    funding1 = chain_tx(devchain, opened["funding_txid_str"])
    assert funding1.outputs()[opened["output_index"]].value == 600_000
    devchain.mine(3, MINER)  # Electrum asks for 3 confirmations
    ours = wait("channel 1 active at alight", lambda: alight_channel(d, point1))
    el.wait_channel(point1, "OPEN")
    assert ours["channel_type"] == "STATIC_REMOTE_KEY"  # all Electrum 4.3.4 speaks
    assert (ours["local_balance"], ours["remote_balance"]) == (550_000, 50_000)
    c = el.channel(point1)
    assert (c["local_balance"], c["remote_balance"]) == (50_000, 550_000)

    # --- Electrum opens to alight --------------------------------------------------------
    point2 = el.call("open_channel", connection_string=d.target, amount=btc(400_000))
    funding2_txid = point2.split(":")[0]
    wait("funding 2 on devchain", lambda: on_chain(devchain, funding2_txid))
    devchain.mine(3, MINER)
    el.wait_channel(point2, "OPEN")
    theirs = wait("channel 2 active at alight", lambda: alight_channel(d, point2))
    assert (theirs["local_balance"], theirs["remote_balance"]) == (0, 400_000)
    assert theirs["initiator"] is False
    # Electrum raises its commitment feerate to 45001 once the channel is usable.
    wait("update_fee applied", lambda: (alight_channel(d, point2) or {}).get("fee_per_kw")
         == 45001)
    # LND's ChannelBalance over both: what each side put in and pushed, nothing in flight.
    bal = d.user("channelbalance")
    assert bal["local_balance"] == {"sat": "550000", "msat": "550000000"}, bal
    assert bal["remote_balance"] == {"sat": "450000", "msat": "450000000"}, bal
    assert int(bal["remote_balance"]["sat"]) == \
        el.channel(point1)["local_balance"] + el.channel(point2)["local_balance"]
    for k in ("unsettled_local_balance", "unsettled_remote_balance",
              "pending_open_local_balance", "pending_open_remote_balance"):
        assert bal[k] == {"sat": "0", "msat": "0"}, bal

    # --- alight closes channel 1 cooperatively --------------------------------------------
    closing1 = d.user("closechannel", *point1.split(":"))["closing_txid"]
    wait("closing 1 on devchain", lambda: on_chain(devchain, closing1))
    tx1 = chain_tx(devchain, closing1)
    assert [(i.prevout.txid.hex(), i.prevout.out_idx) for i in tx1.inputs()] == \
        [(opened["funding_txid_str"], opened["output_index"])]
    fee1 = fee_of(devchain, closing1)
    # BOLT #3: the funder (alight) pays the closing fee; Electrum gets its 50,000 exactly.
    assert el.received(devchain, closing1) == 50_000
    assert sorted(o.value for o in tx1.outputs()) == sorted([50_000, 550_000 - fee1])

    # --- Electrum closes channel 2 cooperatively ------------------------------------------
    closing2 = el.call("close_channel", channel_point=point2)
    wait("closing 2 on devchain", lambda: on_chain(devchain, closing2))
    fee2 = fee_of(devchain, closing2)
    # alight had nothing in it: one output, Electrum's, less the fee it pays as funder.
    assert [o.value for o in chain_tx(devchain, closing2).outputs()] == [400_000 - fee2]
    devchain.mine(1, MINER)
    el.wait_channel(point1, "CLOSED")
    el.wait_channel(point2, "CLOSED")

    # --- both wallets, to the satoshi --------------------------------------------------------
    def settled():
        # A close is listed once its spend is seen; what it paid us once its bytes are read.
        cs = {c["channel_point"]: c for c in d.user("listchannels", "--closed")["channels"]}
        return len(cs) == 2 and cs.get(point1, {}).get("settled_balance") and cs
    closed = wait("both closed and settled at alight", settled)
    assert closed[point1]["close_type"] == closed[point2]["close_type"] == "COOPERATIVE_CLOSE"
    assert closed[point1]["settled_balance"] == 550_000 - fee1
    assert closed[point2]["settled_balance"] == 0
    fund1_fee = fee_of(devchain, opened["funding_txid_str"])
    want = 2_000_000 - fund1_fee - 600_000 + (550_000 - fee1)
    wait("alight's wallet", lambda: d.user("walletbalance")["confirmed_balance"] == want)
    fund2_fee = fee_of(devchain, funding2_txid)
    el.wait_balance(confirmed=2_000_000 - fund2_fee - 400_000 + (400_000 - fee2) + 50_000,
                    unconfirmed=0)


def outspend(dc, txid, vout, confirmed=False):
    s = dc.get_json("/tx/%s/outspend/%d" % (txid, vout))
    return s.get("txid") if s.get("spent") and (s["status"]["confirmed"] or not confirmed) \
        else None


def mine_until(devchain, what, fn, most):
    """Mine one block at a time (at most `most`) until fn() is true, giving the nodes a
    moment after each; returns fn()'s value."""
    for _ in range(most):
        v = fn()
        if v:
            return v
        devchain.mine(1, MINER)
        time.sleep(0.05)
    return wait(what, fn, timeout=60)


def confirmed_spend(devchain, what, txid, vout):
    """The spender of txid:vout once a block confirms it (one is mined when it is not):
    the node bumps a claim's fee (BIP 125) every block it stays unconfirmed, so the
    version first seen in the mempool need not be the one that confirms."""
    def mined():
        v = outspend(devchain, txid, vout, confirmed=True)
        if not v:
            devchain.mine(1, MINER)
        return v
    return wait(what + " confirmed", mined, timeout=30)


def test_force_closes_with_electrum(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    """A force close from each side: each side's own output comes back to its wallet, the
    delayed one after the delay its peer asked for, every amount after fees."""
    el, d = funded_pair(tmp_path, procs, devchain, electrum_daemon)

    # Channel 1, alight -> Electrum, 600,000 pushing 50,000; channel 2, Electrum -> alight,
    # 400,000 pushing 30,000 (so that each side has an output on the other's commitment).
    opened = d.user("openchannel", el.node_id, 600_000, "--push", 50_000)
    point1 = "%s:%d" % (opened["funding_txid_str"], opened["output_index"])
    wait("funding 1 on devchain", lambda: on_chain(devchain, opened["funding_txid_str"]))
    point2 = el.call("open_channel", connection_string=d.target, amount=btc(400_000),
                     push_amount=btc(30_000))
    wait("funding 2 on devchain", lambda: on_chain(devchain, point2.split(":")[0]))
    devchain.mine(3, MINER)
    for p in (point1, point2):
        el.wait_channel(p, "OPEN")
        wait("channel %s active at alight" % p, lambda: alight_channel(d, p))
    assert (alight_channel(d, point2)["local_balance"], el.channel(point2)["local_balance"]) \
        == (30_000, 370_000)
    fund1 = fee_of(devchain, point1.split(":")[0])
    fund2 = fee_of(devchain, point2.split(":")[0])

    # --- alight force-closes channel 1 ------------------------------------------------------
    ctx1 = d.user("closechannel", *point1.split(":"), "--force")["closing_txid"]
    wait("commitment 1 on devchain", lambda: on_chain(devchain, ctx1))
    t1 = chain_tx(devchain, ctx1)
    assert [(i.prevout.txid.hex(), i.prevout.out_idx) for i in t1.inputs()] == \
        [tuple([point1.split(":")[0], int(point1.split(":")[1])])]
    # static_remotekey: Electrum's 50,000 pays its wallet directly.
    assert el.received(devchain, ctx1) == 50_000
    local1 = [n for n, o in enumerate(t1.outputs()) if o.scriptpubkey[:2] == b"\x00\x20"]
    assert len(local1) == 1
    # alight funded the channel: the commitment's fee comes out of its side.
    assert t1.outputs()[local1[0]].value == 550_000 - fee_of(devchain, ctx1)
    devchain.mine(1, MINER)
    # Electrum asked for its to_self_delay (144 * 7 blocks); alight's node sweeps after it.
    mine_until(devchain, "alight's sweep of its to_local",
               lambda: outspend(devchain, ctx1, local1[0]), 144 * 7 + 10)
    sweep1 = confirmed_spend(devchain, "alight's sweep of its to_local", ctx1, local1[0])
    s1 = chain_tx(devchain, sweep1)
    assert s1.inputs()[0].nsequence == 144 * 7
    got1 = t1.outputs()[local1[0]].value - fee_of(devchain, sweep1)
    assert [o.value for o in s1.outputs()] == [got1]

    # --- Electrum force-closes channel 2 ----------------------------------------------------
    ctx2 = el.call("close_channel", channel_point=point2, force=True)
    wait("commitment 2 on devchain", lambda: on_chain(devchain, ctx2))
    t2 = chain_tx(devchain, ctx2)
    # alight's 30,000 is the P2WPKH output to its payment basepoint (static_remotekey):
    # the node sweeps it to its wallet once it sees the commitment.
    remote2 = [n for n, o in enumerate(t2.outputs()) if o.value == 30_000]
    assert len(remote2) == 1
    devchain.mine(1, MINER)
    mine_until(devchain, "alight's sweep of its to_remote",
               lambda: outspend(devchain, ctx2, remote2[0]), 20)
    sweep2 = confirmed_spend(devchain, "alight's sweep of its to_remote", ctx2, remote2[0])
    got2 = 30_000 - fee_of(devchain, sweep2)
    assert [o.value for o in chain_tx(devchain, sweep2).outputs()] == [got2]
    # The node knew Electrum's commitment by its monitor entry, not only by its scripts.
    log = d.stderr(limit=1 << 24)
    assert "funding spent by their commitment" in log and "(unknown)" not in log, log[-3000:]
    # Electrum's own output waits for the delay alight asked; its watcher sweeps it then.
    local2 = [n for n, o in enumerate(t2.outputs()) if o.scriptpubkey[:2] == b"\x00\x20"]
    assert len(local2) == 1 and t2.outputs()[local2[0]].value == 370_000 - fee_of(devchain, ctx2)
    mine_until(devchain, "Electrum's sweep of its to_local",
               lambda: outspend(devchain, ctx2, local2[0]), 2100)
    sweep3 = confirmed_spend(devchain, "Electrum's sweep of its to_local", ctx2, local2[0])
    got3 = el.received(devchain, sweep3)
    assert got3 == t2.outputs()[local2[0]].value - fee_of(devchain, sweep3)
    devchain.mine(1, MINER)

    # --- both wallets, to the satoshi ------------------------------------------------------
    want_alight = 2_000_000 - 600_000 - fund1 + got1 + got2
    wait("alight's wallet", lambda: d.user("walletbalance")["confirmed_balance"] == want_alight)
    el.wait_balance(confirmed=2_000_000 - 400_000 - fund2 + 50_000 + got3, unconfirmed=0,
                    timeout=120)
    closed = {c["channel_point"]: c for c in d.user("listchannels", "--closed")["channels"]}
    assert closed[point1]["close_type"] == "LOCAL_FORCE_CLOSE"
    assert closed[point2]["close_type"] == "REMOTE_FORCE_CLOSE"
