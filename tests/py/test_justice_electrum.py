"""A breach by a whole, unmodified Electrum 4.3.4 wallet on alight-devchain, punished by alightd.

Electrum opens a channel to alight (400,000 sat) and pays an alight invoice of 100,000 sat:
both outputs of Electrum's commitment are then well above dust (its to_local, revocable by
alight, and its to_remote, alight's own P2WPKH under static_remotekey). That commitment is
saved with Electrum's own `get_channel_ctx` (the raw transaction it would broadcast), then
alight pays an Electrum invoice of 50,000 sat: Electrum revokes the saved commitment (BOLT #2
revoke_and_ack, its per-commitment secret now in alight's hands). The revoked commitment is
posted to devchain and mined.

alight's node must answer with its justice transaction (BOLT #5 "revoked transaction close
handling": the revoked to_local with the revocation key, at once) and sweep its own to_remote:
every output of the revoked commitment is spent by a transaction paying alight's wallet only,
alight's wallet ends with everything the commitment paid (the whole capacity less the
commitment's fee) less the fees of its own claims, and Electrum's wallet gets nothing of the
channel. The justice transaction is mined in the block after the commitment, long before
Electrum's own to_local sweep could be (144 blocks: the to_self_delay alight asked). alight
reports the channel closed by its peer (REMOTE_FORCE_CLOSE: LND's close types name no breach)
and resolved, its settled_balance what the claims paid; Electrum knows it breached (its
lnsweep says so), and its channel ends REDEEMED once alight's claims are 100 blocks deep (its
watcher stops watching then)."""
import base64
import hashlib

from electrum import transaction as etx

from devchain_util import devchain  # noqa: F401  (fixture)
from electrum_util import btc, chain_tx, electrum_daemon, fee_of  # noqa: F401
from test_payments_electrum import electrum_and_alightd
from test_channels_electrum import MINER, alight_channel, confirmed_spend, on_chain, outspend, \
    wait


def b64hex(s):
    return base64.b64decode(s).hex()


def closed_channel(d, point):
    for c in d.user("listchannels", "--closed")["channels"]:
        if c["channel_point"] == point:
            return c
    return None


def test_revoked_commitment_punished(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    el, d = electrum_and_alightd(tmp_path, procs, devchain, electrum_daemon)
    # alight's wallet holds nothing: whatever it has at the end came from the channel.
    assert d.user("walletbalance")["confirmed_balance"] == 0

    # --- Electrum opens 400,000 sat to alight ---------------------------------------------
    point = el.call("open_channel", connection_string=d.target, amount=btc(400_000))
    funding_txid, funding_vout = point.split(":")[0], int(point.split(":")[1])
    wait("funding on devchain", lambda: on_chain(devchain, funding_txid))
    devchain.mine(3, MINER)
    el.wait_channel(point, "OPEN")
    wait("channel active at alight", lambda: alight_channel(d, point))
    # Electrum's update_fee (regtest's 45,000 sat/kw, + 1 to move alight's commitment number
    # past 0: its eclair workaround) goes out when its watcher next looks at the open
    # channel: at the next block (without one, at its next fee estimate a minute later).
    devchain.mine(1, MINER)
    wait("update_fee applied", lambda: (alight_channel(d, point) or {}).get("fee_per_kw")
         == 45001)
    fund_fee = fee_of(devchain, funding_txid)
    assert chain_tx(devchain, funding_txid).outputs()[funding_vout].value == 400_000

    # --- Electrum pays alight 100,000 sat: both sides non-dust -------------------------------
    inv = d.user("addinvoice", "100000", "--memo", "before")
    res = el.call("lnpay", invoice=inv["payment_request"], timeout=60)
    assert res["success"] is True, res
    assert hashlib.sha256(bytes.fromhex(res["preimage"])).hexdigest() == b64hex(inv["r_hash"])
    wait("alight's balance 100,000", lambda: alight_channel(d, point)["local_balance"] ==
         100_000 and alight_channel(d, point)["pending_htlcs"] == 0)
    wait("Electrum settled", lambda: el.channel(point)["local_balance"] == 300_000 and
         el.channel(point)["remote_balance"] == 100_000)

    # --- Electrum's commitment now, saved --------------------------------------------------
    old_hex = el.call("get_channel_ctx", channel_point=point, iknowwhatimdoing=True)
    old = etx.Transaction(old_hex)
    old_txid = old.txid()
    assert [(i.prevout.txid.hex(), i.prevout.out_idx) for i in old.inputs()] == \
        [(funding_txid, funding_vout)]
    outs = old.outputs()
    # No HTLC in flight: two outputs, Electrum's to_local (P2WSH, revocable) and alight's
    # 100,000 to_remote (P2WPKH to its payment basepoint, static_remotekey).
    assert len(outs) == 2, [(o.value, o.scriptpubkey.hex()) for o in outs]
    remote_n = [n for n, o in enumerate(outs) if o.scriptpubkey[:2] == b"\x00\x14"]
    local_n = [n for n, o in enumerate(outs) if o.scriptpubkey[:2] == b"\x00\x20"]
    assert len(remote_n) == len(local_n) == 1, [(o.value, o.scriptpubkey.hex()) for o in outs]
    remote_n, local_n = remote_n[0], local_n[0]
    assert outs[remote_n].value == 100_000
    ctx_fee = 400_000 - sum(o.value for o in outs)
    # Electrum, the funder, pays the commitment fee (BOLT #3) at 45,001 sat/kw: weight 724.
    assert ctx_fee == 45001 * 724 // 1000
    assert outs[local_n].value == 300_000 - ctx_fee
    before = alight_channel(d, point)["num_updates"]

    # --- alight pays Electrum 50,000 sat: the saved commitment is revoked -------------------
    req = el.call("add_request", amount=btc(50_000), memo="after", expiration=3600)
    res = d.user("payinvoice", req["lightning_invoice"])
    assert res["payment_error"] == "", res
    assert res["payment"]["status"] == "SUCCEEDED", res
    wait("Electrum's request paid",
         lambda: el.call("get_request", request_id=req["request_id"])["status"] == 3)
    wait("alight's balance 50,000", lambda: alight_channel(d, point)["local_balance"] ==
         50_000 and alight_channel(d, point)["pending_htlcs"] == 0)
    wait("Electrum settled", lambda: el.channel(point)["local_balance"] == 350_000 and
         el.channel(point)["remote_balance"] == 50_000)
    after = alight_channel(d, point)["num_updates"]
    # An HTLC added, then removed: two commitments more (3 before: the update_fee and the
    # first payment's two).
    assert (before, after) == (3, 5), (before, after)
    now_hex = el.call("get_channel_ctx", channel_point=point, iknowwhatimdoing=True)
    assert etx.Transaction(now_hex).txid() != old_txid
    el_before = el.balance()
    assert el_before["confirmed"] == 2_000_000 - 400_000 - fund_fee, el_before

    # --- the breach: the revoked commitment on devchain, mined ---------------------------------
    ok, text = devchain.broadcast(bytes.fromhex(old_hex))
    assert ok, text
    wait("revoked commitment on devchain", lambda: on_chain(devchain, old_txid))
    devchain.mine(1, MINER)
    assert devchain.get_json("/tx/" + old_txid)["status"]["confirmed"]

    # --- alight's justice: every output of the revoked commitment spent, to alight ------------
    def all_spent():
        return all(outspend(devchain, old_txid, n) for n in range(len(outs)))
    ctx_height = devchain.get_json("/tx/" + old_txid)["status"]["block_height"]
    # No block needed: alight broadcasts its claims once it sees the commitment confirmed.
    wait("alight's claims of every output in the mempool", all_spent, timeout=30)
    devchain.mine(1, MINER)
    for n in range(len(outs)):
        confirmed_spend(devchain, "claim of output %d" % n, old_txid, n)
    # The confirmed spenders: the latest replacement each (a claim's fee is bumped every
    # block it stays unconfirmed), read again now that every one is mined.
    claims = {n: outspend(devchain, old_txid, n, confirmed=True) for n in range(len(outs))}
    assert all(claims.values()), claims
    log = d.stderr(limit=1 << 24)
    assert "funding spent by their revoked commitment" in log, log[-3000:]

    got, fees = 0, 0
    for txid in sorted(set(claims.values())):
        t = chain_tx(devchain, txid)
        # Inputs of the revoked commitment only: no wallet coin pays a fee here.
        assert all(i.prevout.txid.hex() == old_txid for i in t.inputs()), txid
        # Nothing of it to Electrum's wallet.
        assert el.received(devchain, txid) == 0, txid
        got += sum(o.value for o in t.outputs())
        fees += fee_of(devchain, txid)
    justice = chain_tx(devchain, claims[local_n])
    # The revocation path needs no delay: BOLT #3 to_local witness `<sig> 1`.
    j_in = [i for i in justice.inputs() if i.prevout.out_idx == local_n][0]
    w = j_in.witness_elements()
    assert len(w) == 3 and w[1] == b"\x01", [x.hex() for x in w]
    # ... and alight did not wait: mined long before Electrum's own to_local sweep could be
    # (alight asked a to_self_delay of 144 blocks).
    j_height = devchain.get_json("/tx/" + claims[local_n])["status"]["block_height"]
    assert j_height == ctx_height + 1, (ctx_height, j_height)
    # Every satoshi the commitment paid, less the claims' own fees, is alight's.
    assert got == sum(o.value for o in outs) - fees == 400_000 - ctx_fee - fees
    assert 0 < fees < 20_000, fees

    # alight's wallet: exactly that, confirmed.
    wait("alight's wallet", lambda: d.user("walletbalance")["confirmed_balance"] == got)
    # Its coins are the claims' outputs, each one, confirmed.
    coins = sorted((u["txid"], u["output"], u["amount_sat"], u["status"])
                   for u in d.user("listfunds")["outputs"])
    assert coins == sorted((txid, k, o.value, "confirmed")
                           for txid in set(claims.values())
                           for k, o in enumerate(chain_tx(devchain, txid).outputs())), coins

    # --- alight's record of the channel -----------------------------------------------------------
    # Resolved once every claim is 6 blocks deep (its final depth): 5 blocks more.
    devchain.mine(5, MINER)
    closed = wait("channel resolved at alight",
                  lambda: (closed_channel(d, point) or {}).get("resolved") and
                  closed_channel(d, point))
    # settled_balance: what the claims paid the wallet.
    assert closed["settled_balance"] == got, closed
    assert closed["closing_tx_hash"] == old_txid, closed
    assert closed["close_type"] == "REMOTE_FORCE_CLOSE", closed
    assert alight_channel(d, point) is None

    # --- Electrum: nothing of the channel reached its wallet; its channel redeemed ----------
    # Its watcher keeps watching until the spenders are 100 blocks deep.
    devchain.mine(101, MINER)
    el.wait_channel(point, "REDEEMED", timeout=60)
    # Electrum knows its commitment for a revoked one (lnsweep's own words).
    assert "we breached." in el.log(), el.log(8000)
    el.wait_balance(confirmed=2_000_000 - 400_000 - fund_fee, unconfirmed=0, lightning=0)
    assert d.user("walletbalance")["confirmed_balance"] == got
