"""alightd's channels against a whole, unmodified Electrum 4.3.4 wallet (its own Lightning
node, watcher and wallet) on alight-devchain, driven as their users would: alight-cli over
the user channel on one side, Electrum's own commands on the other.

alight opens a channel to Electrum (pushing part of it), Electrum opens one to alight; both
reach the usable state on both sides; Electrum's update_fee (45001 sat/kw, sent as soon as
the channel it funded is usable) is applied by alight. Then each side closes one channel
cooperatively, and every amount is checked against the transactions on devchain, after fees,
on both wallets."""
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


def test_channels_with_electrum(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    devchain.mine(101, MINER)
    el = electrum_daemon("alice", devchain, listen=True, config={"use_gossip": True})
    d = start_daemon(procs, tmp_path / "alightd", "--chain-poll-ms", "200")
    d.user("setchain", devchain.url)
    devchain.faucet(d.user("newaddress")["address"], 2_000_000)
    devchain.faucet(el.call("getunusedaddress"), 2_000_000)
    devchain.mine(1, MINER)
    assert d.user("walletbalance")["confirmed_balance"] == 2_000_000
    el.wait_balance(confirmed=2_000_000, unconfirmed=0)

    # --- alight opens to Electrum, pushing 50,000 sat -----------------------------------
    d.cli("connect", el.uri)
    d.wait_peer(el.node_id)
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

