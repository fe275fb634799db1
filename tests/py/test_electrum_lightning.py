"""Two whole, unmodified Electrum 4.3.4 wallets on alight-devchain: their own Lightning nodes,
their own chain watchers, their own sweeps, and nothing between them and devchain but its
Electrum server. This shows devchain is a faithful chain for Lightning before our channels
rely on it.

Alice opens a channel to Bob (Electrum's funding transaction, broadcast through devchain),
devchain mines the confirmations Bob asks for, both pay each other over it, and Alice closes it
cooperatively. Alice opens a second channel, pays Bob over it and force-closes it: Bob's output
reaches his wallet at once, Alice's waits for the CSV delay Bob imposed (mined here), after which
Alice's watcher sweeps it; devchain's consensus checks (BIP 68/112) would refuse it a block early.
Every amount is checked against the transactions on devchain.
"""
from devchain_util import Devchain, devchain  # noqa: F401  (fixture)
from electrum_util import btc, chain_tx as tx, electrum_daemon, fee_of  # noqa: F401

MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def wait_on_devchain(e, dc, txid):
    """Waits until devchain knows txid (Electrum broadcast it)."""
    e.wait_for("%s on devchain" % txid, lambda: dc.request("GET", "/tx/" + txid)[0] == 200)


def open_channel(alice, bob, dc, amount):
    point = alice.call("open_channel", connection_string=bob.uri, amount=btc(amount))
    funding_txid, vout = point.split(":")
    wait_on_devchain(alice, dc, funding_txid)
    assert tx(dc, funding_txid).outputs()[int(vout)].value == amount
    # Bob (the acceptor) asks for 3 confirmations.
    dc.mine(3, MINER)
    alice.wait_channel(point, "OPEN")
    bob.wait_channel(point, "OPEN")
    return point


def pay(payer, payee, amount, memo):
    inv = payee.call("add_request", amount=btc(amount), memo=memo)["lightning_invoice"]
    res = payer.call("lnpay", invoice=inv)
    assert res["success"], res
    return res


def settled(alice, bob, point, alice_sat, bob_sat):
    """Waits until both sides' committed balances are these (a payment's success reaches the
    payer before the last commitment_signed/revoke_and_ack round has settled it)."""
    def at(e, local, remote):
        c = e.channel(point)
        return c and (c["local_balance"], c["remote_balance"]) == (local, remote) and \
            c["local_unsettled_sent"] == c["remote_unsettled_sent"] == 0
    alice.wait_for("%s at %d/%d" % (point, alice_sat, bob_sat),
                   lambda: at(alice, alice_sat, bob_sat))
    bob.wait_for("%s at %d/%d" % (point, bob_sat, alice_sat),
                 lambda: at(bob, bob_sat, alice_sat))


def test_electrum_channels_on_devchain(devchain, electrum_daemon):  # noqa: F811
    devchain.mine(101, MINER)
    alice = electrum_daemon("alice", devchain)
    bob = electrum_daemon("bob", devchain, listen=True)
    devchain.faucet(alice.call("getunusedaddress"), 5_000_000)
    devchain.mine(1, MINER)
    alice.wait_balance(confirmed=5_000_000, unconfirmed=0)
    bob.wait_synced()

    # --- a channel, payments both ways, a cooperative close -----------------------------
    point = open_channel(alice, bob, devchain, 2_000_000)
    funding = point.split(":")[0]
    fee_open = fee_of(devchain, funding)
    settled(alice, bob, point, 2_000_000, 0)
    pay(alice, bob, 100_000, "alice to bob")
    settled(alice, bob, point, 1_900_000, 100_000)
    pay(bob, alice, 30_000, "bob to alice")
    settled(alice, bob, point, 1_930_000, 70_000)

    closing = alice.call("close_channel", channel_point=point)
    wait_on_devchain(alice, devchain, closing)
    closing_tx = tx(devchain, closing)
    assert [(i.prevout.txid.hex(), i.prevout.out_idx) for i in closing_tx.inputs()] == \
        [(funding, int(point.split(":")[1]))]
    # The opener pays the closing fee: Bob gets exactly his balance.
    assert bob.received(devchain, closing) == 70_000
    to_alice = alice.received(devchain, closing)
    assert to_alice == 1_930_000 - fee_of(devchain, closing)
    devchain.mine(1, MINER)
    alice.wait_channel(point, "CLOSED")
    bob.wait_channel(point, "CLOSED")
    bob.wait_balance(confirmed=70_000, unconfirmed=0)
    alice_onchain = 5_000_000 - fee_open - 2_000_000 + to_alice
    alice.wait_balance(confirmed=alice_onchain, unconfirmed=0)

    # --- a second channel, force-closed by Alice ----------------------------------------
    point2 = open_channel(alice, bob, devchain, 1_000_000)
    funding2 = point2.split(":")[0]
    fee_open2 = fee_of(devchain, funding2)
    pay(alice, bob, 200_000, "before the force close")
    settled(alice, bob, point2, 800_000, 200_000)
    ctx = alice.call("close_channel", channel_point=point2, force=True)
    wait_on_devchain(alice, devchain, ctx)
    ctx_tx = tx(devchain, ctx)
    assert ctx_tx.inputs()[0].prevout.txid.hex() == funding2
    # static_remotekey: Bob's output pays his wallet directly, spendable at once.
    assert bob.received(devchain, ctx) == 200_000
    devchain.mine(1, MINER)
    bob.wait_balance(confirmed=70_000 + 200_000, unconfirmed=0)
    alice.wait_channel(point2, "CLOSED")  # the commitment is mined

    # Alice's output is the P2WSH one, locked by Bob's to_self_delay (OP_CSV).
    to_local = [n for n, o in enumerate(ctx_tx.outputs())
                if o.scriptpubkey[:2] == b"\x00\x20"]
    assert len(to_local) == 1
    local_value = ctx_tx.outputs()[to_local[0]].value
    # No anchors: the opener pays the commitment's fee from her side.
    assert local_value == 800_000 - fee_of(devchain, ctx)
    delay = 144 * 7  # Electrum's lightning_to_self_delay default, asked by Bob
    devchain.mine(delay - 2, MINER)
    alice.wait_synced()
    # One block short of the delay (the ctx has delay - 1 confirmations): nothing moves.
    assert devchain.get_json("/tx/%s/outspend/%d" % (ctx, to_local[0])) == {"spent": False}
    devchain.mine(1, MINER)
    sweep = alice.wait_for(
        "the sweep of %s:%d" % (ctx, to_local[0]),
        lambda: devchain.get_json("/tx/%s/outspend/%d" % (ctx, to_local[0])).get("txid"),
        timeout=120)
    sweep_tx = tx(devchain, sweep)
    assert sweep_tx.inputs()[0].nsequence == delay
    swept = alice.received(devchain, sweep)
    assert swept == local_value - fee_of(devchain, sweep)
    devchain.mine(1, MINER)
    alice_final = alice_onchain - 1_000_000 - fee_open2 + swept
    alice.wait_balance(confirmed=alice_final, unconfirmed=0)
    # Electrum's watcher lets go of a channel once every spend is over 100 blocks deep.
    devchain.mine(101, MINER)
    alice.wait_channel(point2, "REDEEMED")
    alice.wait_channel(point, "REDEEMED")
