"""Two alight nodes (src/node, driven in one process by tests/tools/node_pair) open a
channel on a real alight-devchain, move money with HTLCs (one fulfilled, one failed),
restart from their stores and reestablish, then close it: cooperatively, or by force
(each node then sweeps its outputs of the commitment), or B broadcasts a revoked
commitment and A takes every output.
Every figure the nodes report is checked against the chain itself (devchain's
transactions, read here): the funding output, the closing transaction's outputs to the
satoshi, the fees recomputed from the inputs' values, and each wallet's balance."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from devchain_util import devchain  # noqa: F401  (fixture)

TOOLS = Path(os.environ.get("ALIGHT_TEST_TOOLS") or
             Path(__file__).resolve().parents[2] / "build" / "tests" / "tools")

FUNDING = 500_000
PAID = 100_000
FAUCET = 1_000_000


def run_pair(dc, tmp_path, scenario, chan_type, *extra, nodes=None):
    tool = TOOLS / "node_pair"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build the tests")
    nodes = nodes or tmp_path / "nodes"
    nodes.mkdir()
    out = subprocess.run([str(tool), dc.url, str(nodes), scenario, chan_type,
                          *map(str, extra)], capture_output=True, text=True, timeout=600)
    events = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            ev = json.loads(line)
            events[ev.get("event")] = ev
    assert out.returncode == 0 and "done" in events, out.stdout + out.stderr[-4000:]
    return events


def fee_of(dc, tx):
    ins = 0
    for i in tx["vin"]:
        prev = dc.get_json("/tx/%s" % i["txid"])
        ins += prev["vout"][i["vout"]]["value"]
    return ins - sum(o["value"] for o in tx["vout"])


def check_open(dc, ev):
    funding = dc.get_json("/tx/%s" % ev["opened"]["funding_txid"])
    out = funding["vout"][ev["opened"]["output_index"]]
    assert out["value"] == FUNDING
    assert out["scriptpubkey_type"] == "v0_p2wsh"
    assert funding["status"]["confirmed"]
    return funding


def check_coop_close(dc, ev, funding, paid):
    """The cooperative close as the chain has it: the funding output's spender, paying B
    exactly `paid` and A the rest less the fee (BOLT #2: the funder pays the closing fee),
    as both nodes report. Its fee."""
    closing_txid = ev["closing"]["closing_txid"]
    spend = dc.get_json("/tx/%s/outspend/%d" % (funding["txid"], ev["opened"]["output_index"]))
    assert spend["spent"] and spend["txid"] == closing_txid
    closing = dc.get_json("/tx/%s" % closing_txid)
    fee = fee_of(dc, closing)
    assert sorted(o["value"] for o in closing["vout"]) == sorted([paid, FUNDING - paid - fee])
    assert 0 < fee < 5_000
    ca, cb = ev["closed"]["a"], ev["closed"]["b"]
    assert ca["close_type"] == cb["close_type"] == "COOPERATIVE_CLOSE"
    assert ca["closing_tx_hash"] == cb["closing_tx_hash"] == closing_txid
    assert (ca["settled_balance"], cb["settled_balance"]) == (FUNDING - paid - fee, paid)
    return fee


@pytest.mark.parametrize("chan_type", ["static", "anchors"])
def test_open_pay_restart_close(tmp_path, devchain, chan_type):  # noqa: F811
    ev = run_pair(devchain, tmp_path, "basic", chan_type)
    funding = check_open(devchain, ev)
    a, b = ev["active"]["a"], ev["active"]["b"]
    want_type = "ANCHORS" if chan_type == "anchors" else "STATIC_REMOTE_KEY"
    assert a["channel_type"] == b["channel_type"] == want_type
    assert (a["local_balance"], b["local_balance"]) == (FUNDING, 0)
    assert a["chan_id"] == b["chan_id"] and int(a["chan_id"]) >> 40 == funding["status"][
        "block_height"]
    # After the payment and both restarts: 100,000 sat moved, nothing in flight.
    a, b = ev["paid"]["a"], ev["paid"]["b"]
    assert (a["local_balance"], a["remote_balance"]) == (FUNDING - PAID, PAID)
    assert (b["local_balance"], b["remote_balance"]) == (PAID, FUNDING - PAID)
    assert a["pending_htlcs"] == b["pending_htlcs"] == 0

    fee = check_coop_close(devchain, ev, funding, PAID)
    # Each wallet, to the satoshi: A paid the funding transaction's fee too.
    funding_fee = fee_of(devchain, funding)
    wa, wb = ev["closed"]["wallet_a"], ev["closed"]["wallet_b"]
    assert wa["confirmed_balance"] == FAUCET - funding_fee - PAID - fee
    assert wb["confirmed_balance"] == PAID
    assert wa["unconfirmed_balance"] == wb["unconfirmed_balance"] == 0


@pytest.mark.parametrize("chan_type", ["static", "anchors"])
def test_force_close(tmp_path, devchain, chan_type):  # noqa: F811
    ev = run_pair(devchain, tmp_path, "force", chan_type)
    funding = check_open(devchain, ev)
    commitment_txid = ev["closing"]["closing_txid"]
    spend = devchain.get_json("/tx/%s/outspend/%d" % (funding["txid"],
                                                     ev["opened"]["output_index"]))
    # A's commitment spent the funding output; B's own broadcast lost to it.
    assert spend["spent"] and spend["txid"] == commitment_txid
    commitment = devchain.get_json("/tx/%s" % commitment_txid)
    assert commitment["status"]["confirmed"]
    # BOLT #3: the obscured commitment number's upper 8 bits go in nSequence 0x80...
    assert commitment["vin"][0]["sequence"] >> 24 == 0x80
    assert commitment["locktime"] >> 24 == 0x20
    values = [o["value"] for o in commitment["vout"]]
    assert PAID in values  # B's to_remote
    if chan_type == "anchors":
        assert values.count(330) == 2
    ca, cb = ev["closed"]["a"], ev["closed"]["b"]
    assert ca["close_type"] == "LOCAL_FORCE_CLOSE"
    assert cb["close_type"] == "REMOTE_FORCE_CLOSE"
    assert ca["closing_tx_hash"] == cb["closing_tx_hash"] == commitment_txid

    # BOLT #5: the commitment's outputs reach each node's wallet. B's to_remote (its
    # payment key, not a wallet address) and A's to_local (after to_self_delay) are
    # swept by the nodes themselves; the amounts are read from the chain.
    res = ev["resolved"]
    ra, rb = res["a"], res["b"]
    assert ra["resolved"] is True and rb["resolved"] is True
    sweeps = {}
    for vout, out in enumerate(commitment["vout"]):
        if out["value"] == 330:
            continue  # anchors: anyone's after 16 blocks, not worth a sweep at this fee
        spend = devchain.get_json("/tx/%s/outspend/%d" % (commitment_txid, vout))
        assert spend["spent"], "output %d of the commitment is not swept" % vout
        sweep = devchain.get_json("/tx/%s" % spend["txid"])
        assert sweep["status"]["confirmed"]
        assert len(sweep["vin"]) == 1 and len(sweep["vout"]) == 1
        fee = fee_of(devchain, sweep)
        assert sweep["vout"][0]["value"] == out["value"] - fee
        assert 0 < fee < 2_000
        sweeps[vout] = (out["value"], sweep)
    assert len(sweeps) == 2
    to_remote = [s for v, s in sweeps.items() if s[0] == PAID]
    to_local = [s for v, s in sweeps.items() if s[0] != PAID]
    assert len(to_remote) == 1 and len(to_local) == 1
    got_b = to_remote[0][1]["vout"][0]["value"]
    got_a = to_local[0][1]["vout"][0]["value"]
    # A's to_local waited its delay: BIP 68 sequence 144 on the sweep's input.
    assert to_local[0][1]["vin"][0]["sequence"] == 144
    assert to_local[0][1]["status"]["block_height"] >= \
        commitment["status"]["block_height"] + 144
    funding_fee = fee_of(devchain, funding)
    commit_fee = fee_of(devchain, commitment)
    # A funded the channel: the commitment's fee came out of its balance.
    assert to_local[0][0] == FUNDING - PAID - commit_fee - (660 if chan_type == "anchors"
                                                             else 0)
    assert (ra["settled_balance"], rb["settled_balance"]) == (got_a, got_b)
    wa, wb = res["wallet_a"], res["wallet_b"]
    assert wa["confirmed_balance"] == FAUCET - funding_fee - FUNDING + got_a
    assert wb["confirmed_balance"] == got_b
    assert wa["unconfirmed_balance"] == wb["unconfirmed_balance"] == 0


@pytest.mark.parametrize("chan_type", ["static", "anchors"])
def test_justice(tmp_path, devchain, chan_type):  # noqa: F811
    """B, rolled back to a copy of its store from before the second HTLC, force-closes
    with a revoked commitment; A's node takes every output: B's to_local by the
    revocation path (BOLT #5 justice), its own to_remote by its payment key."""
    ev = run_pair(devchain, tmp_path, "justice", chan_type)
    funding = check_open(devchain, ev)
    revoked_txid = ev["revoked"]["txid"]
    spend = devchain.get_json("/tx/%s/outspend/%d" % (funding["txid"],
                                                     ev["opened"]["output_index"]))
    assert spend["spent"] and spend["txid"] == revoked_txid
    revoked = devchain.get_json("/tx/%s" % revoked_txid)
    assert revoked["status"]["confirmed"]
    values = [o["value"] for o in revoked["vout"]]
    assert PAID in values  # B's to_local when the copy was taken
    ra, rb = ev["resolved"]["a"], ev["resolved"]["b"]
    assert ra["close_type"] == "REMOTE_FORCE_CLOSE" and rb["close_type"] == "LOCAL_FORCE_CLOSE"
    assert ra["closing_tx_hash"] == rb["closing_tx_hash"] == revoked_txid
    assert ra["resolved"] is True and rb["resolved"] is True

    claims, swept = {}, 0
    for vout, out in enumerate(revoked["vout"]):
        if out["value"] == 330:
            continue  # anchors
        swept += out["value"]
        spend = devchain.get_json("/tx/%s/outspend/%d" % (revoked_txid, vout))
        assert spend["spent"], "output %d of the revoked commitment is not taken" % vout
        claim = devchain.get_json("/tx/%s" % spend["txid"])
        assert claim["status"]["confirmed"]
        claims[claim["txid"]] = claim
        if out["value"] == PAID:
            # BOLT #3 to_local revocation witness: <revocation_sig> 1 <script>.
            wit = claim["vin"][spend["vin"]]["witness"]
            assert len(wit) == 3 and wit[1] == "01"
            # No waiting for B's delay: taken before to_self_delay (144) could pass.
            assert claim["status"]["block_height"] < revoked["status"]["block_height"] + 144
    got = sum(o["value"] for c in claims.values() for o in c["vout"])
    fees = sum(fee_of(devchain, c) for c in claims.values())
    assert got == swept - fees and 0 < fees < 4_000
    commit_fee = fee_of(devchain, revoked)
    anchors = 660 if chan_type == "anchors" else 0
    # The whole channel but the fees: the commitment's (A funded it), the claims'.
    assert got == FUNDING - commit_fee - anchors - fees
    assert ra["settled_balance"] == got and rb["settled_balance"] == 0
    wa, wb = ev["resolved"]["wallet_a"], ev["resolved"]["wallet_b"]
    funding_fee = fee_of(devchain, funding)
    assert wa["confirmed_balance"] == FAUCET - funding_fee - FUNDING + got
    assert wb["confirmed_balance"] == 0
    assert wa["unconfirmed_balance"] == wb["unconfirmed_balance"] == 0


def claims_from(dc, txid, vouts):
    """Every transaction spending outputs `vouts` of `txid`, and those spending their
    P2WSH outputs (second stages), as {txid: tx}."""
    found = {}
    todo = [(txid, v) for v in vouts]
    while todo:
        t, v = todo.pop()
        spend = dc.get_json("/tx/%s/outspend/%d" % (t, v))
        if not spend["spent"] or spend["txid"] in found:
            continue
        tx = dc.get_json("/tx/%s" % spend["txid"])
        found[tx["txid"]] = tx
        todo += [(tx["txid"], i) for i, o in enumerate(tx["vout"])
                 if o["scriptpubkey_type"] == "v0_p2wsh"]
    return found


def unspent_p2wpkh(dc, txs):
    total = 0
    for tx in txs:
        for i, o in enumerate(tx["vout"]):
            if o["scriptpubkey_type"] == "v0_p2wpkh" and \
                    not dc.get_json("/tx/%s/outspend/%d" % (tx["txid"], i))["spent"]:
                total += o["value"]
    return total


@pytest.mark.parametrize("chan_type", ["static", "anchors"])
def test_force_close_htlc_in_flight(tmp_path, devchain, chan_type):  # noqa: F811
    """A force-closes with its HTLC of 50,000 sat to B in flight: after the expiry A's
    node broadcasts the HTLC-timeout transaction (BOLT #3; with anchors it carries no fee
    of its own and A's wallet pays it: a wallet input and change), then sweeps its
    output after to_self_delay; node_pair checks that A's caller hears the HTLC failed
    (al_node_next_htlc_event). Both wallets are checked against the chain."""
    ev = run_pair(devchain, tmp_path, "htlc", chan_type)
    funding = check_open(devchain, ev)
    expiry, amount = ev["inflight"]["cltv_expiry"], ev["inflight"]["amount_sat"]
    commitment_txid = ev["closing"]["closing_txid"]
    commitment = devchain.get_json("/tx/%s" % commitment_txid)
    outs = commitment["vout"]
    htlc = [v for v, o in enumerate(outs) if o["value"] == amount]
    to_remote = [v for v, o in enumerate(outs) if o["value"] == PAID]
    assert len(htlc) == 1 and len(to_remote) == 1
    assert outs[htlc[0]]["scriptpubkey_type"] == "v0_p2wsh"
    ra, rb = ev["resolved"]["a"], ev["resolved"]["b"]
    assert ra["resolved"] is True and rb["resolved"] is True

    # The HTLC-timeout transaction: nLockTime the expiry, mined after it.
    spend = devchain.get_json("/tx/%s/outspend/%d" % (commitment_txid, htlc[0]))
    timeout = devchain.get_json("/tx/%s" % spend["txid"])
    assert timeout["locktime"] == expiry
    assert timeout["status"]["block_height"] > expiry
    assert timeout["vout"][0]["scriptpubkey_type"] == "v0_p2wsh"
    if chan_type == "anchors":
        # Zero-fee HTLC transaction: the HTLC passes whole, the fee comes from a wallet
        # input (the funding transaction's change), its change back to the wallet.
        assert timeout["vout"][0]["value"] == amount
        assert len(timeout["vin"]) == 2 and timeout["vin"][1]["txid"] == funding["txid"]
        assert len(timeout["vout"]) == 2
    else:
        assert len(timeout["vin"]) == 1 and timeout["vout"][0]["value"] < amount
    second = devchain.get_json("/tx/%s" % devchain.get_json(
        "/tx/%s/outspend/0" % timeout["txid"])["txid"])
    assert second["vin"][0]["sequence"] == 144
    assert second["status"]["block_height"] >= timeout["status"]["block_height"] + 144

    a_vouts = [v for v, o in enumerate(outs) if v != to_remote[0] and o["value"] != 330]
    a_claims = claims_from(devchain, commitment_txid, a_vouts)
    b_claims = claims_from(devchain, commitment_txid, to_remote)
    assert len(a_claims) == 3 and len(b_claims) == 1
    assert all(c["status"]["confirmed"] for c in list(a_claims.values()) +
               list(b_claims.values()))
    # What each wallet holds, from the chain: the unspent P2WPKH outputs of what it made.
    wa, wb = ev["resolved"]["wallet_a"], ev["resolved"]["wallet_b"]
    a_holds = unspent_p2wpkh(devchain, [funding] + list(a_claims.values()))
    b_holds = unspent_p2wpkh(devchain, b_claims.values())
    assert wa["confirmed_balance"] == a_holds
    assert wb["confirmed_balance"] == b_holds
    assert wa["unconfirmed_balance"] == wb["unconfirmed_balance"] == 0
    # A's gain: its outputs of the commitment less every claim's fee (wallet-paid too).
    funding_fee = fee_of(devchain, funding)
    a_fees = sum(fee_of(devchain, c) for c in a_claims.values())
    gained = sum(outs[v]["value"] for v in a_vouts) - a_fees
    assert ra["settled_balance"] == gained
    assert a_holds == FAUCET - funding_fee - FUNDING + gained
    assert rb["settled_balance"] == b_holds == PAID - fee_of(devchain,
                                                            list(b_claims.values())[0])


@pytest.mark.parametrize("chan_type", ["static", "anchors"])
def test_force_close_htlc_success(tmp_path, devchain, chan_type):  # noqa: F811
    """A force-closes with its HTLC of 50,000 sat to B in flight; B's user learns the
    preimage only afterwards (al_node_htlc_fulfill on a channel gone on-chain). B's node
    claims the HTLC output of A's commitment with the preimage (BOLT #5: the offered HTLC
    output of the counterparty's commitment, spent directly), before the expiry; A's node
    reads the preimage from that spend and A's caller hears the HTLC fulfilled with it
    (node_pair checks). Both wallets are checked against the chain."""
    ev = run_pair(devchain, tmp_path, "success", chan_type)
    funding = check_open(devchain, ev)
    expiry, amount = ev["inflight"]["cltv_expiry"], ev["inflight"]["amount_sat"]
    commitment_txid = ev["closing"]["closing_txid"]
    outs = devchain.get_json("/tx/%s" % commitment_txid)["vout"]
    htlc = [v for v, o in enumerate(outs) if o["value"] == amount]
    to_remote = [v for v, o in enumerate(outs) if o["value"] == PAID]
    assert len(htlc) == 1 and len(to_remote) == 1
    ra, rb = ev["resolved"]["a"], ev["resolved"]["b"]
    assert ra["resolved"] is True and rb["resolved"] is True

    # B's claim of the HTLC output: the preimage in its witness, mined before the expiry.
    spend = devchain.get_json("/tx/%s/outspend/%d" % (commitment_txid, htlc[0]))
    claim = devchain.get_json("/tx/%s" % spend["txid"])
    vin = [i for i in claim["vin"] if i["txid"] == commitment_txid and i["vout"] == htlc[0]]
    assert len(vin) == 1 and ("43" * 32) in vin[0]["witness"]
    assert claim["status"]["block_height"] <= expiry

    b_claims = claims_from(devchain, commitment_txid, to_remote + htlc)
    a_vouts = [v for v, o in enumerate(outs) if v not in to_remote + htlc and
               o["value"] != 330]
    a_claims = claims_from(devchain, commitment_txid, a_vouts)
    assert claim["txid"] in b_claims and not set(a_claims) & set(b_claims)
    wa, wb = ev["resolved"]["wallet_a"], ev["resolved"]["wallet_b"]
    a_holds = unspent_p2wpkh(devchain, [funding] + list(a_claims.values()))
    b_holds = unspent_p2wpkh(devchain, b_claims.values())
    assert wa["confirmed_balance"] == a_holds and wb["confirmed_balance"] == b_holds
    # B: its 100,000 and the HTLC's 50,000, less what its claims paid.
    b_fees = sum(fee_of(devchain, c) for c in b_claims.values())
    assert rb["settled_balance"] == b_holds == PAID + amount - b_fees
    # A: its outputs of the commitment, the HTLC gone to B.
    a_fees = sum(fee_of(devchain, c) for c in a_claims.values())
    gained = sum(outs[v]["value"] for v in a_vouts) - a_fees
    assert ra["settled_balance"] == gained
    assert a_holds == FAUCET - fee_of(devchain, funding) - FUNDING + gained


def test_final_node_refusals(tmp_path, devchain):  # noqa: F811
    """B's node as BOLT #4's final hop against onions A's caller (node_pair) gets wrong
    on purpose: each refusal's failure code, as A decodes it from the onion's shared
    secrets, and from hop 0 (B); the data of each is checked by the tool. B as a
    forwarding node: its refusals of onions telling it to forward back to A, each with its
    signed channel_update. Then the invoice paid in two parts (basic_mpp) and a second
    payment of it refused; a forward B makes back to A refused by A, that failure wrapped by
    B and attributed to hop 1; a keysend
    over REST taken (B's book records it), the same again refused by A; B gained exactly
    the 12,000 sat."""
    ev = run_pair(devchain, tmp_path, "refusals", "anchors")
    got = [(a["name"], a.get("code") or a.get("malformed") or
            ("refused" if a.get("refused") else "fulfilled"))
           for a in ev["refusals"]["attempts"]]
    assert got == [
        ("after the invoice's expiry", 0x400f),
        ("unknown payment hash", 0x400f),           # incorrect_or_unknown_payment_details
        ("wrong payment secret", 0x400f),
        ("total below the invoice", 0x400f),
        ("total over twice the invoice", 0x400f),
        ("htlc below amt_to_forward", 19),           # final_incorrect_htlc_amount
        ("htlc expiry below outgoing_cltv_value", 18),  # final_incorrect_cltv_expiry
        ("expiry too close (c=40)", 0x400f),
        ("onion HMAC", 0xc005),                      # invalid_onion_hmac, malformed
        ("a packet to forward", 0x400a),             # unknown_next_peer: not our channel
        # B forwarding back to A over their channel (each with B's channel_update, checked
        # by the tool against B's node id and policy):
        ("forward without the fee", 0x100c),         # fee_insufficient
        ("forward below the minimum", 0x100b),       # amount_below_minimum
        ("forward with a short CLTV delta", 0x100d),  # incorrect_cltv_expiry
        ("forward expiring at once", 0x100e),        # expiry_too_soon
        ("forward beyond B's balance", 0x1007),      # temporary_channel_failure
        ("keysend, not the hash's preimage", 0x400f),
        ("one part of two", 23),                     # mpp_timeout
        ("two parts", "fulfilled"),
        ("paid again", 0x400f),
        ("forwarded back, refused by A", 0x400f),    # A's failure, wrapped by B
        ("keysend", "fulfilled"),
        ("keysend again", "refused"),
    ], got
    hops = {a["name"]: a.get("hop", 0) for a in ev["refusals"]["attempts"]}
    assert hops.pop("forwarded back, refused by A") == 1  # attributed to A, behind B
    assert set(hops.values()) == {0}, hops
    invs = {i["memo"]: i for i in ev["refusals"]["invoices"]}
    assert invs["late"]["state"] == "OPEN" and invs["late"]["amt_paid_msat"] == "0"
    assert invs["refusals"]["state"] == "SETTLED"
    assert invs["refusals"]["amt_paid_msat"] == "10000000"
    ks = [i for i in ev["refusals"]["invoices"] if i["is_keysend"]]
    assert [(i["state"], i["amt_paid_sat"]) for i in ks] == [("SETTLED", "2000")], ks
    a, b = ev["paid"]["a"], ev["paid"]["b"]
    assert (a["local_balance"], b["local_balance"]) == (FUNDING - 12_000, 12_000)
    assert a["pending_htlcs"] == b["pending_htlcs"] == 0
