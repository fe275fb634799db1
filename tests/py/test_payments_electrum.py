"""Payments between alightd and a whole, unmodified Electrum 4.3.4 wallet on alight-devchain.

Electrum opens a channel to alight; the user makes invoices in alight's enclave
(alight-cli addinvoice over the user channel) and Electrum pays them with its own `lnpay`:
Electrum builds the onion, alight's node peels it, checks the final hop's payload against
its invoice book (BOLT #4), settles the book and only then releases the preimage. Then
alight pays an Electrum invoice (alight-cli payinvoice: the node builds the onion and keeps
the payment's record), is refused a second payment of it, and pays an invoice whose
request Electrum deleted: Electrum's incorrect_or_unknown_payment_details comes back,
attributed to hop 0, and nothing moves. Then Electrum pays an invoice larger than either
of its two channels to alight can carry, in parts over both (basic_mpp), and alight pays
Electrum back more than either channel holds, split by alight's node over both. Checked on
both sides: results and preimages, the
invoices and payments with what was paid, the channel's balances on both sides to the
millisatoshi, LND's ChannelBalance; after a restart of alightd the same (the books and the
channel are durable); then Electrum closes both channels cooperatively and alight's
wallet receives exactly its balances on-chain."""
import base64
import hashlib

from daemon_util import start_daemon
from devchain_util import devchain  # noqa: F401  (fixture)
from electrum_util import btc, chain_tx, electrum_daemon  # noqa: F401
from test_channels_electrum import MINER, alight_channel, on_chain, wait


def b64hex(s):
    return base64.b64decode(s).hex()


def electrum_and_alightd(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    """Electrum (2,000,000 sat confirmed, gossip on so that it opens channels) and an alightd
    on devchain, connected: (el, d)."""
    devchain.mine(101, MINER)
    el = electrum_daemon("alice", devchain, listen=True, config={"use_gossip": True})
    d = start_daemon(procs, tmp_path / "alightd", "--chain-poll-ms", "200")
    d.user("setchain", devchain.url)
    devchain.faucet(el.call("getunusedaddress"), 2_000_000)
    devchain.mine(1, MINER)
    el.wait_balance(confirmed=2_000_000, unconfirmed=0)
    d.cli("connect", el.uri)
    d.wait_peer(el.node_id)
    return el, d


def test_electrum_pays_alight(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    el, d = electrum_and_alightd(tmp_path, procs, devchain, electrum_daemon)

    # --- Electrum opens 400,000 sat to alight ----------------------------------------------
    point = el.call("open_channel", connection_string=d.target, amount=btc(400_000))
    funding_txid = point.split(":")[0]
    wait("funding on devchain", lambda: on_chain(devchain, funding_txid))
    devchain.mine(3, MINER)
    el.wait_channel(point, "OPEN")
    wait("channel active at alight", lambda: alight_channel(d, point))
    wait("update_fee applied", lambda: (alight_channel(d, point) or {}).get("fee_per_kw")
         == 45001)

    # --- two invoices, paid by Electrum --------------------------------------------------
    paid = 0
    for sat, memo in ((20_000, "coffee"), (1_234, "tip")):
        inv = d.user("addinvoice", str(sat), "--memo", memo)
        r_hash = b64hex(inv["r_hash"])
        res = el.call("lnpay", invoice=inv["payment_request"], timeout=60)
        assert res["success"] is True, res
        assert res["payment_hash"] == r_hash
        # The preimage Electrum got is the one alight made and keeps for the user.
        assert hashlib.sha256(bytes.fromhex(res["preimage"])).hexdigest() == r_hash
        got = d.user("lookupinvoice", r_hash)
        assert got["state"] == "SETTLED" and got["settled"] is True, got
        assert got["amt_paid_sat"] == str(sat) and got["amt_paid_msat"] == str(sat * 1000)
        assert b64hex(got["r_preimage"]) == res["preimage"]
        paid += sat

        def moved():
            c = alight_channel(d, point)
            return c and c["local_balance"] == paid and c["unsettled_balance"] == 0 and c
        wait("alight's balance after %d sat" % sat, moved)
    # Each side's balance before the commitment fee (which Electrum, the funder, pays).
    c = alight_channel(d, point)
    assert (c["local_balance"], c["remote_balance"]) == (paid, 400_000 - paid), c
    ec = el.channel(point)
    assert (ec["local_balance"], ec["remote_balance"]) == (400_000 - paid, paid), ec
    bal = d.user("channelbalance")
    assert bal["local_balance"] == {"sat": str(paid), "msat": str(paid * 1000)}, bal
    assert bal["unsettled_local_balance"] == {"sat": "0", "msat": "0"}, bal

    # --- alight pays an Electrum invoice ----------------------------------------------------
    req = el.call("add_request", amount=btc(5_000), memo="change", expiration=3600)
    li = req["lightning_invoice"]
    decoded = d.user("decodepayreq", li)
    res = d.user("payinvoice", li)
    assert res["payment_error"] == "", res
    preimage = base64.b64decode(res["payment_preimage"])
    assert hashlib.sha256(preimage).hexdigest() == decoded["payment_hash"]
    assert res["payment"]["status"] == "SUCCEEDED" and res["payment"]["fee_msat"] == "0"
    wait("Electrum's request paid",
         lambda: el.call("get_request", request_id=req["request_id"])["status"] == 3)
    paid -= 5_000
    wait("alight's balance after paying", lambda: alight_channel(d, point)["local_balance"]
         == paid and alight_channel(d, point)["pending_htlcs"] == 0)
    ec = el.channel(point)
    assert (ec["local_balance"], ec["remote_balance"]) == (400_000 - paid, paid), ec
    # One payment per payment hash: a second one is refused before anything leaves.
    rc, err = d.user_fails("payinvoice", li)
    assert "already paid" in err["error"]["message"], err

    # --- a payment Electrum refuses: its request deleted, the hash unknown to it --------------
    gone = el.call("add_request", amount=btc(3_000), memo="withdrawn", expiration=3600)
    el.call("delete_request", request_id=gone["request_id"])
    res = d.user("payinvoice", gone["lightning_invoice"])
    # BOLT #4: the payee's incorrect_or_unknown_payment_details (PERM|15), attributed to hop 0.
    assert res["payment_error"] == "incorrect_or_unknown_payment_details at hop 0", res
    assert res["payment"]["failure"] == {"code": 0x400f, "name":
                                         "incorrect_or_unknown_payment_details", "hop": 0}
    assert res["payment"]["failure_reason"] == "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"
    wait("nothing moved", lambda: alight_channel(d, point)["pending_htlcs"] == 0)
    assert alight_channel(d, point)["local_balance"] == paid

    # --- the same after a restart of alightd ------------------------------------------------
    assert d.stop() == 0
    d = start_daemon(procs, tmp_path / "alightd", "--chain-poll-ms", "200")
    d.cli("connect", el.uri)
    d.wait_peer(el.node_id)
    # Reestablished on both sides (Electrum sends shutdown at once when asked to close,
    # even before its channel_reestablish; a peer that does that has its channel failed).
    wait("channel active again", lambda: (alight_channel(d, point) or {}).get("active"))
    wait("Electrum reestablished", lambda: el.channel(point)["peer_state"] == "GOOD")
    assert alight_channel(d, point)["local_balance"] == paid
    states = [(i["memo"], i["state"], i["amt_paid_sat"]) for i in d.user("listinvoices")["invoices"]]
    assert states == [("coffee", "SETTLED", "20000"), ("tip", "SETTLED", "1234")], states
    pays = [(p["value_sat"], p["status"], p["payment_preimage"])
            for p in d.user("listpayments")["payments"]]
    assert pays == [("5000", "SUCCEEDED", preimage.hex()), ("3000", "FAILED", "")], pays

    # --- multi-part: more than either channel can carry, over two (basic_mpp) ----------------
    point2 = el.call("open_channel", connection_string=d.target, amount=btc(300_000))
    wait("funding 2 on devchain", lambda: on_chain(devchain, point2.split(":")[0]))
    devchain.mine(3, MINER)
    el.wait_channel(point2, "OPEN")
    wait("channel 2 active at alight", lambda: (alight_channel(d, point2) or {}).get("active"))
    wait("update_fee applied", lambda: alight_channel(d, point2).get("fee_per_kw") == 45001)
    # Electrum can send about 340,000 over the first and 250,000 over the second (its
    # reserve and the commitment fee at 45,001 sat/kw come off): 400,000 needs both.
    inv = d.user("addinvoice", "400000", "--memo", "two parts")
    res = el.call("lnpay", invoice=inv["payment_request"], timeout=60)
    assert res["success"] is True, res
    got = d.user("lookupinvoice", b64hex(inv["r_hash"]))
    assert got["state"] == "SETTLED" and got["amt_paid_sat"] == "400000", got

    # Electrum splits into parts of any msat: per channel the balance is whole sat only
    # together (ChannelBalance, in msat, is exact).
    two = paid + 400_000

    def moved_both():
        c1, c2 = alight_channel(d, point), alight_channel(d, point2)
        bal = d.user("channelbalance")["local_balance"]
        return (c1["pending_htlcs"] == c2["pending_htlcs"] == 0 and
                bal == {"sat": str(two), "msat": str(two * 1000)} and (c1, c2))
    c1, c2 = wait("both channels paid", moved_both)
    assert c1["local_balance"] > paid and c2["local_balance"] > 0, (c1, c2)
    assert two - 1 <= c1["local_balance"] + c2["local_balance"] <= two, (c1, c2)

    # --- and back: alight pays Electrum more than either channel holds, in parts ---------------
    req = el.call("add_request", amount=btc(390_000), memo="back", expiration=3600)
    res = d.user("payinvoice", req["lightning_invoice"])
    assert res["payment_error"] == "", res
    assert res["payment"]["status"] == "SUCCEEDED" and res["payment"]["parts"] == 2, res
    wait("Electrum's request paid",
         lambda: el.call("get_request", request_id=req["request_id"])["status"] == 3)
    two -= 390_000

    def settled_both():
        c1, c2 = alight_channel(d, point), alight_channel(d, point2)
        bal = d.user("channelbalance")["local_balance"]
        return (c1["pending_htlcs"] == c2["pending_htlcs"] == 0 and
                bal == {"sat": str(two), "msat": str(two * 1000)} and (c1, c2))
    c1, c2 = wait("both channels paid back", settled_both)

    # --- Electrum closes both: alight's wallet gets exactly its balances ------------------------
    for pt, mine_ in ((point, c1["local_balance"]), (point2, c2["local_balance"])):
        closing = el.call("close_channel", channel_point=pt)
        wait("closing on devchain", lambda: on_chain(devchain, closing))
        devchain.mine(1, MINER)
        # Electrum funded it: it pays the closing fee (BOLT #3); alight's output is its
        # whole balance (BOLT #3 rounds msat down).
        assert mine_ in [o.value for o in chain_tx(devchain, closing).outputs()]
    wait("alight's wallet", lambda: d.user("walletbalance")["confirmed_balance"] ==
         c1["local_balance"] + c2["local_balance"])
