"""BOLT #4 forwarding through an alight node, against a whole, unmodified Electrum 4.3.4 wallet
on alight-devchain.

Three alightd (A, B, C, each its own daemon, datadir and wallet) and Electrum E (its own
Lightning node, path finder and watcher). Channels: A -> B (500,000 sat), B -> C (300,000),
E -> B (400,000, Electrum's open_channel) and B -> E (300,000), so that B has liquidity both
ways with Electrum. B is the only node that forwards; every payment crosses it:

 1. E pays C's private invoice (its route hint: B, the B -> C channel and B's policy as B told
    C in a channel_update): Electrum's own path finder builds E -> B -> C from the hint and
    its own channel, B forwards, C settles and the preimage goes back to Electrum.
 2. A pays an Electrum invoice (add_request: its route hints are built from the channel_update
    B sent Electrum): A -> B -> E, fee 1,005 msat to B.
 3. B restarts: its forwarding history survives, every channel comes back (Electrum's peer
    state GOOD), B's fee report names its policy on each channel.
 4. A pays C more than B can send over B -> C (within B's balance, beyond its reserve): B's
    temporary_channel_failure (BOLT #4 UPDATE|7) comes back to A attributed to B (hop 0 of the
    route), and nothing moves anywhere.
 5. B changes its policy (updatechanpolicy); C learns it (its next invoice's hint shows it),
    A pays C at the new fee; Electrum learns it too (its next invoice's hint shows it) and A
    pays E at the new fee.
 6. On-chain with a payment in flight: Electrum holds A's HTLC (enable_htlc_settle false), B
    force-closes the channel it went over; Electrum claims the HTLC output of B's commitment
    with the preimage (lnsweep: it has accepted the payment), B's on-chain engine reads the
    preimage from that spend (BOLT #5) and fulfils A's HTLC upstream: A's payment succeeds,
    B earns its fee.
 7. The same over the channel Electrum funded, at its 45,001 sat/kw: the held HTLC is below
    the dust limit of B's commitment plus its HTLC-timeout fee, so it has no output (BOLT
    #3 trimming); once B's commitment is final, B fails A's HTLC back (BOLT #5: "MUST fail
    the corresponding incoming HTLC"), long before A's expiry: A's payment fails with B's
    permanent_channel_failure and A's balance is what it was.
 8. Hold invoices (LND's /v2/invoices/hodl: the preimage stays with C's user): one is held
    (ACCEPTED) and settled by the user, and A's payment through B succeeds; then a real
    timeout: C holds A's HTLC and its user never settles; blocks pass until B's outgoing
    HTLC expires; B force-closes B -> C, takes the HTLC back by its HTLC-timeout
    transaction, and once that is final fails A's HTLC back, in time: A's channel stays
    open, A's balance is what it was, A's payment FAILED with B's
    permanent_channel_failure; C's user cancels the invoice.

B's policy: fee = base_fee_msat + amt_out_msat * fee_rate_ppm // 1,000,000 (BOLT #7), by
default base 1,000 msat, 1 ppm, time_lock_delta 80. Every amount is checked to the
millisatoshi where an API gives millisatoshi: the payer's fee, B's forwarding events (LND's
ForwardingEvent: amounts as uint64 strings, sat fields truncated from msat), B's ChannelBalance
(its local balance over all channels grows by exactly the fee of each forward), C's invoice,
Electrum's lightning history.
"""
import base64
import hashlib
import threading
import time

from conftest import scaled
from daemon_util import start_daemon
from devchain_util import devchain  # noqa: F401  (fixture)
from electrum_util import btc, chain_tx, electrum_daemon  # noqa: F401  (fixture)
from test_channels_electrum import MINER, alight_channel, on_chain, wait

# B's default forwarding policy (LND's defaults: 1,000 msat, 1 ppm, 80 blocks).
BASE_MSAT, PPM, DELTA = 1000, 1, 80


def fee_msat(amt_out_msat, base=BASE_MSAT, ppm=PPM):
    """BOLT #7: fee_base_msat + amount_to_forward * fee_proportional_millionths / 1,000,000."""
    return base + amt_out_msat * ppm // 1_000_000


def b64hex(s):
    return base64.b64decode(s).hex()


def poll(what, fn, timeout=90, every=0.2):
    """fn() -> (done, value): polls until done, returns value; on timeout the last value is
    in the failure."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        done, value = fn()
        if done:
            return value
        assert time.monotonic() < deadline, "timed out waiting for %s; last: %r" % (what, value)
        time.sleep(every)


def local_msat(d):
    """LND's ChannelBalance: the node's local balance over all its channels, in msat."""
    bal = d.user("channelbalance")
    assert bal["unsettled_local_balance"] == {"sat": "0", "msat": "0"}, bal
    return int(bal["local_balance"]["msat"])


def quiet(d, points):
    """Every channel of `points` open and active at d with no HTLC in flight."""
    chans = [alight_channel(d, p) for p in points]
    return all(c and c["active"] and c["pending_htlcs"] == 0 for c in chans), chans


def events(d):
    return d.user("fwdinghistory")["forwarding_events"]


def open_from_alight(d, peer_id, sat, push=0):
    opened = d.user("openchannel", peer_id, sat, "--push", push)
    return "%s:%d" % (opened["funding_txid_str"], opened["output_index"])


def hint_of(B, scid, base=BASE_MSAT, ppm=PPM, delta=DELTA):
    return {"node_id": B.node_id, "chan_id": scid, "fee_base_msat": base,
            "fee_proportional_millionths": ppm, "cltv_expiry_delta": delta}


def private_invoice(C, sat, memo, want_hints):
    """A private invoice of C's, once its route hints are `want_hints` (they carry B's policy
    as B's channel_update told C: until C has it, or has the new one, make another)."""
    def once():
        inv = C.user("addinvoice", str(sat), "--memo", memo, "--private")
        dec = C.user("decodepayreq", inv["payment_request"])
        return dec["route_hints"] == want_hints, (inv, dec)
    inv, dec = poll("C's invoice with route hints %r" % want_hints, once, every=2.0)
    assert dec["destination"] == C.node_id and dec["num_msat"] == str(sat * 1000), dec
    assert dec["payment_hash"] == b64hex(inv["r_hash"]), (dec, inv)
    return inv


def electrum_request(el, A, B, sat, memo, scids, base=BASE_MSAT, ppm=PPM, delta=DELTA):
    """An Electrum request whose every route hint is one hop from B over one of `scids` with
    B's policy (Electrum fills a hint from the channel_update its peer sent it; without one,
    fee 0 and cltv_expiry_delta 1: lnworker.calc_routing_hints_for_invoice). A request made
    too early is deleted and made again."""
    def once():
        req = el.call("add_request", amount=btc(sat), memo=memo, expiration=3600)
        dec = A.user("decodepayreq", req["lightning_invoice"])
        hops = [r["hop_hints"] for r in dec["route_hints"]]
        ok = bool(hops) and all(
            len(h) == 1 and h[0]["chan_id"] in scids and
            h[0] == hint_of(B, h[0]["chan_id"], base, ppm, delta) for h in hops)
        if not ok:
            el.call("delete_request", request_id=req["request_id"])
        return ok, (req, dec)
    req, dec = poll("Electrum's request with B's policy in its hints", once, every=1.0)
    assert dec["destination"] == el.node_id and dec["num_msat"] == str(sat * 1000), dec
    return req, dec


def electrum_history(el, payment_hash):
    for item in el.call("lightning_history"):
        if item.get("payment_hash") == payment_hash:
            return item
    return None


def check_event(ev, chan_in, chan_out, amt_out_msat, fee, t0):
    """One of LND's ForwardingEvents: uint64 fields as strings, sat fields msat // 1000."""
    amt_in_msat = amt_out_msat + fee
    assert ev["chan_id_in"] in chan_in and ev["chan_id_out"] in chan_out, (ev, chan_in,
                                                                          chan_out)
    assert (ev["amt_in_msat"], ev["amt_out_msat"], ev["fee_msat"]) == \
        (str(amt_in_msat), str(amt_out_msat), str(fee)), ev
    assert (ev["amt_in"], ev["amt_out"], ev["fee"]) == \
        (str(amt_in_msat // 1000), str(amt_out_msat // 1000), str(fee // 1000)), ev
    ts, ts_ns = int(ev["timestamp"]), int(ev["timestamp_ns"])
    assert ts_ns // 1_000_000_000 == ts and t0 - 60 <= ts <= time.time() + 60, (ev, t0)


def test_forward_through_alight(tmp_path, procs, devchain, electrum_daemon):  # noqa: F811
    t0 = int(time.time())
    devchain.mine(101, MINER)
    el = electrum_daemon("alice", devchain, listen=True, config={"use_gossip": True})
    A, B, C = (start_daemon(procs, tmp_path / name, "--chain-poll-ms", "200")
               for name in ("a", "b", "c"))
    for d in (A, B, C):
        d.user("setchain", devchain.url)
    # B funds two channels: two coins, so the second open need not wait for the first's
    # change to confirm.
    devchain.faucet(A.user("newaddress")["address"], 1_000_000)
    devchain.faucet(B.user("newaddress")["address"], 600_000)
    devchain.faucet(B.user("newaddress")["address"], 600_000)
    devchain.faucet(el.call("getunusedaddress"), 2_000_000)
    devchain.mine(1, MINER)
    wait("A's wallet", lambda: A.user("walletbalance")["confirmed_balance"] == 1_000_000)
    wait("B's wallet", lambda: B.user("walletbalance")["confirmed_balance"] == 1_200_000)
    el.wait_balance(confirmed=2_000_000, unconfirmed=0)

    A.cli("connect", B.target)
    A.wait_peer(B.node_id)
    B.cli("connect", C.target)
    B.wait_peer(C.node_id)
    B.cli("connect", el.uri)
    B.wait_peer(el.node_id)

    # --- the four channels ------------------------------------------------------------------
    ab = open_from_alight(A, B.node_id, 500_000)
    bc = open_from_alight(B, C.node_id, 300_000)
    be = open_from_alight(B, el.node_id, 300_000)
    eb = el.call("open_channel", connection_string=B.target, amount=btc(400_000))
    for p in (ab, bc, be, eb):
        wait("funding %s on devchain" % p, lambda: on_chain(devchain, p.split(":")[0]))
    devchain.mine(3, MINER)  # alight and Electrum both ask for 3 confirmations
    for p in (be, eb):
        el.wait_channel(p, "OPEN")
    poll("A's channel active", lambda: quiet(A, [ab]))
    poll("C's channel active", lambda: quiet(C, [bc]))
    poll("B's four channels active", lambda: quiet(B, [ab, bc, be, eb]))
    # Electrum raises the feerate of the channel it funded once it is usable.
    wait("update_fee applied", lambda: alight_channel(B, eb).get("fee_per_kw") == 45001)
    scid = {p: alight_channel(B, p)["chan_id"] for p in (ab, bc, be, eb)}
    assert alight_channel(A, ab)["chan_id"] == scid[ab]
    assert alight_channel(C, bc)["chan_id"] == scid[bc]
    assert (alight_channel(B, bc)["local_balance"], alight_channel(B, be)["local_balance"],
            alight_channel(B, eb)["local_balance"], alight_channel(B, ab)["local_balance"]) \
        == (300_000, 300_000, 0, 0)
    assert B.user("fwdinghistory")["forwarding_events"] == []
    fees_total = 0

    # --- 1. Electrum pays C's private invoice through B ---------------------------------------
    amt = 20_000_000
    fee1 = fee_msat(amt)
    assert fee1 == 1020
    inv = private_invoice(C, amt // 1000, "E via B", [{"hop_hints": [hint_of(B, scid[bc])]}])
    r_hash = b64hex(inv["r_hash"])
    b_before, c_before = local_msat(B), local_msat(C)
    res = el.call("lnpay", invoice=inv["payment_request"], timeout=scaled(180))
    assert res["success"] is True, res
    assert res["payment_hash"] == r_hash
    assert hashlib.sha256(bytes.fromhex(res["preimage"])).hexdigest() == r_hash
    got = C.user("lookupinvoice", r_hash)
    assert got["state"] == "SETTLED" and got["amt_paid_msat"] == str(amt), got
    assert b64hex(got["r_preimage"]) == res["preimage"]
    poll("all settled after 1", lambda: quiet(B, [ab, bc, be, eb]))
    poll("C's balance", lambda: (local_msat(C) == c_before + amt, local_msat(C)))
    assert alight_channel(C, bc)["local_balance"] == amt // 1000
    # B keeps exactly the fee: +amt+fee from Electrum's channel, -amt to C.
    assert local_msat(B) == b_before + fee1
    assert alight_channel(B, bc)["local_balance"] == 280_000
    assert alight_channel(B, eb)["local_balance"] == (amt + fee1) // 1000
    # Electrum saw it as a payment of amt with fee1 on top (lnworker.get_payment_value).
    h = electrum_history(el, r_hash)
    assert h and (h["amount_msat"], h["fee_msat"]) == (-(amt + fee1), fee1), h
    evs = events(B)
    assert len(evs) == 1, evs
    # Electrum's only channel that can send is the one it funded.
    check_event(evs[0], [scid[eb]], [scid[bc]], amt, fee1, t0)
    fees_total += fee1

    # --- 2. A pays an Electrum invoice through B ------------------------------------------------
    amt = 5_000_000
    fee2 = fee_msat(amt)
    assert fee2 == 1005
    req, dec = electrum_request(el, A, B, amt // 1000, "A via B", [scid[be], scid[eb]])
    a_before, b_before = local_msat(A), local_msat(B)
    res = A.user("payinvoice", req["lightning_invoice"])
    assert res["payment_error"] == "", res
    assert res["payment"]["status"] == "SUCCEEDED", res
    assert res["payment"]["fee_msat"] == str(fee2), res
    assert hashlib.sha256(base64.b64decode(res["payment_preimage"])).hexdigest() == \
        dec["payment_hash"]
    wait("Electrum's request paid",
         lambda: el.call("get_request", request_id=req["request_id"])["status"] == 3)
    poll("all settled after 2", lambda: quiet(B, [ab, bc, be, eb]))
    poll("A's channel settled", lambda: quiet(A, [ab]))
    assert local_msat(A) == a_before - amt - fee2
    assert local_msat(B) == b_before + fee2
    h = electrum_history(el, dec["payment_hash"])
    assert h and h["amount_msat"] == amt, h
    pays = A.user("listpayments")["payments"]
    assert [(p["value_msat"], p["fee_msat"], p["status"]) for p in pays] == \
        [(str(amt), str(fee2), "SUCCEEDED")], pays
    evs = events(B)
    assert len(evs) == 2, evs
    check_event(evs[1], [scid[ab]], [scid[be], scid[eb]], amt, fee2, t0)
    fees_total += fee2

    # --- 3. B restarts: its history and channels are durable ------------------------------------
    history = B.user("fwdinghistory")
    b_before = local_msat(B)
    assert B.stop() == 0
    B = start_daemon(procs, tmp_path / "b", "--chain-poll-ms", "200")
    # B listens on a new port: it dials its peers again.
    for peer in (A.target, C.target, el.uri):
        B.cli("connect", peer)
    for peer in (A.node_id, C.node_id, el.node_id):
        B.wait_peer(peer)
    poll("B's channels active again", lambda: quiet(B, [ab, bc, be, eb]))
    poll("A's channel active again", lambda: quiet(A, [ab]))
    poll("C's channel active again", lambda: quiet(C, [bc]))
    for p in (be, eb):
        wait("Electrum reestablished %s" % p, lambda: el.channel(p)["peer_state"] == "GOOD")
    assert B.user("fwdinghistory") == history
    assert local_msat(B) == b_before
    report = B.user("feereport")
    fees = {f["channel_point"]: f for f in report["channel_fees"]}
    assert set(fees) == {ab, bc, be, eb}, report
    for p, f in fees.items():
        assert f["chan_id"] == scid[p], report
        assert (f["base_fee_msat"], f["fee_per_mil"]) == (str(BASE_MSAT), str(PPM)), report
        assert abs(float(f["fee_rate"]) - PPM / 1e6) < 1e-12, report
    for k in ("day_fee_sum", "week_fee_sum", "month_fee_sum"):
        assert report[k] == str(fees_total // 1000), report

    # --- 4. more than B can send to C: B's temporary_channel_failure, nothing moves -------------
    # B -> C holds 280,000 sat of B's: C could receive 279,000 (so C's hint selection, if it
    # looks at inbound capacity, keeps the channel), but B must keep its channel reserve
    # (1% of 300,000: 3,000 sat) and pay the commitment fee, so it cannot add the HTLC.
    amt = 279_000_000
    inv = private_invoice(C, amt // 1000, "too much", [{"hop_hints": [hint_of(B, scid[bc])]}])
    before = (local_msat(A), local_msat(B), local_msat(C))
    res = A.user("payinvoice", inv["payment_request"])
    # The failure's origin is the onion hop that made it: B is the route's first hop (0),
    # C the second (1) (as in test_payments_electrum, where the payee is hop 0).
    assert res["payment_error"] == "temporary_channel_failure at hop 0", res
    assert res["payment"]["status"] == "FAILED", res
    assert res["payment"]["failure"] == {"code": 0x1007, "name": "temporary_channel_failure",
                                         "hop": 0}, res
    poll("nothing in flight at A", lambda: quiet(A, [ab]))
    poll("nothing in flight at B", lambda: quiet(B, [ab, bc, be, eb]))
    poll("nothing in flight at C", lambda: quiet(C, [bc]))
    assert (local_msat(A), local_msat(B), local_msat(C)) == before
    assert C.user("lookupinvoice", b64hex(inv["r_hash"]))["state"] == "OPEN"
    assert B.user("fwdinghistory") == history

    # --- 5. a new policy at B: C and Electrum learn it, A pays both at the new fee --------------
    base, ppm, delta = 2000, 10, 100
    upd = B.user("updatechanpolicy", "--base_fee_msat", base, "--fee_rate_ppm", ppm,
                 "--time_lock_delta", delta)
    assert not (upd or {}).get("failed_updates"), upd
    report = B.user("feereport")
    assert sorted(f["channel_point"] for f in report["channel_fees"]) == sorted([ab, bc, be, eb])
    for f in report["channel_fees"]:
        assert (f["base_fee_msat"], f["fee_per_mil"]) == (str(base), str(ppm)), report
        assert abs(float(f["fee_rate"]) - ppm / 1e6) < 1e-12, report

    amt = 10_000_000
    fee4 = fee_msat(amt, base, ppm)
    assert fee4 == 2100
    inv = private_invoice(C, amt // 1000, "new policy",
                          [{"hop_hints": [hint_of(B, scid[bc], base, ppm, delta)]}])
    r_hash = b64hex(inv["r_hash"])
    a_before, b_before, c_before = local_msat(A), local_msat(B), local_msat(C)
    res = A.user("payinvoice", inv["payment_request"])
    assert res["payment_error"] == "", res
    assert res["payment"]["status"] == "SUCCEEDED" and res["payment"]["fee_msat"] == str(fee4)
    assert b64hex(res["payment_preimage"]) == b64hex(
        C.user("lookupinvoice", r_hash)["r_preimage"])
    assert C.user("lookupinvoice", r_hash)["amt_paid_msat"] == str(amt)
    poll("all settled after 5a", lambda: quiet(B, [ab, bc, be, eb]))
    poll("C settled after 5a", lambda: quiet(C, [bc]))
    assert local_msat(A) == a_before - amt - fee4
    assert local_msat(B) == b_before + fee4
    assert local_msat(C) == c_before + amt
    evs = events(B)
    assert len(evs) == 3, evs
    check_event(evs[2], [scid[ab]], [scid[bc]], amt, fee4, t0)
    fees_total += fee4

    amt = 3_000_000
    fee5 = fee_msat(amt, base, ppm)
    assert fee5 == 2030
    req, dec = electrum_request(el, A, B, amt // 1000, "new policy", [scid[be], scid[eb]],
                                base, ppm, delta)
    a_before, b_before = local_msat(A), local_msat(B)
    res = A.user("payinvoice", req["lightning_invoice"])
    assert res["payment_error"] == "", res
    assert res["payment"]["status"] == "SUCCEEDED" and res["payment"]["fee_msat"] == str(fee5)
    wait("Electrum's request paid",
         lambda: el.call("get_request", request_id=req["request_id"])["status"] == 3)
    poll("all settled after 5b", lambda: quiet(B, [ab, bc, be, eb]))
    assert local_msat(A) == a_before - amt - fee5
    assert local_msat(B) == b_before + fee5
    evs = events(B)
    assert len(evs) == 4, evs
    check_event(evs[3], [scid[ab]], [scid[be], scid[eb]], amt, fee5, t0)
    fees_total += fee5
    assert int(B.user("fwdinghistory")["last_offset_index"]) == 4
    # LND's paging: two events after the first, by index.
    page = B.user("fwdinghistory", "--index_offset", 1, "--max_events", 2)
    assert page["forwarding_events"] == evs[1:3] and page["last_offset_index"] == 3, page
    assert B.user("fwdinghistory", "--start_time", int(time.time()) + 3600) == \
        {"forwarding_events": [], "last_offset_index": 0}
    report = B.user("feereport")
    for k in ("day_fee_sum", "week_fee_sum", "month_fee_sum"):
        assert report[k] == str(fees_total // 1000), report

    # --- 6. Electrum holds the HTLC; B force-closes downstream and claims upstream -------------
    # 50,000 sat: an output of its own in B's commitment of the channel B funded (at
    # Electrum's 45,001 sat/kw on the other one an HTLC below about 30,000 sat is trimmed:
    # lost to fees on-chain, and rightly failed upstream), and more than Electrum can
    # receive over the channel it funded, so that its hint names B's.
    el.call("enable_htlc_settle", b=False)
    amt = 50_000_000
    fee6 = fee_msat(amt, base, ppm)
    req, dec = electrum_request(el, A, B, amt // 1000, "held", [scid[be]], base, ppm, delta)
    a_before = local_msat(A)
    out = {}
    payer = threading.Thread(
        target=lambda: out.update(res=A.user("payinvoice", req["lightning_invoice"])))
    payer.start()

    def held():
        busy = [p for p in (be, eb) if alight_channel(B, p)["pending_htlcs"] == 1]
        return len(busy) == 1, busy
    held_point = poll("the HTLC forwarded to Electrum", held)[0]
    # Electrum marks a request paid once it accepts the HTLC, before it would settle.
    wait("Electrum accepted the HTLC",
         lambda: el.call("get_request", request_id=req["request_id"])["status"] == 3)
    assert payer.is_alive() and alight_channel(A, ab)["pending_htlcs"] == 1
    ctx = B.user("closechannel", *held_point.split(":"), "--force")["closing_txid"]
    wait("B's commitment on devchain", lambda: on_chain(devchain, ctx))

    def paid():
        if payer.is_alive():
            devchain.mine(1, MINER)  # Electrum's claim confirms; B's engine reads it
            payer.join(scaled(3))
        return not payer.is_alive(), out.get("res")
    res = poll("A's payment to end", paid, timeout=180)
    assert res["payment_error"] == "", res
    assert res["payment"]["status"] == "SUCCEEDED", res
    assert res["payment"]["fee_msat"] == str(fee6), res
    assert hashlib.sha256(base64.b64decode(res["payment_preimage"])).hexdigest() == \
        dec["payment_hash"]
    poll("A's channel settled", lambda: quiet(A, [ab]))
    assert local_msat(A) == a_before - amt - fee6
    evs = events(B)
    assert len(evs) == 5, evs
    check_event(evs[4], [scid[ab]], [scid[held_point]], amt, fee6, t0)
    closed = [c for c in B.user("listchannels", "--closed")["channels"]
              if c["channel_point"] == held_point]
    assert closed and closed[0]["close_type"] == "LOCAL_FORCE_CLOSE", closed

    # --- 7. a held HTLC trimmed from B's commitment: failed back once it is final -------------
    # Electrum hangs up on the error that came with the force close: B dials it again.
    B.cli("connect", el.uri)
    B.wait_peer(el.node_id)
    wait("Electrum reestablished %s" % eb, lambda: el.channel(eb)["peer_state"] == "GOOD")
    poll("B's channel with Electrum active", lambda: quiet(B, [eb]))
    # 2,000 sat: what B can still send over it (its balance there less its reserve).
    amt = 2_000_000
    req, dec = electrum_request(el, A, B, amt // 1000, "trimmed", [scid[eb]], base, ppm, delta)
    a_before = local_msat(A)
    out = {}
    payer = threading.Thread(
        target=lambda: out.update(res=A.user("payinvoice", req["lightning_invoice"])))
    payer.start()
    poll("the HTLC forwarded to Electrum",
         lambda: (alight_channel(B, eb)["pending_htlcs"] == 1, alight_channel(B, eb)))
    wait("Electrum accepted the HTLC",
         lambda: el.call("get_request", request_id=req["request_id"])["status"] == 3)
    assert payer.is_alive()
    ctx = B.user("closechannel", *eb.split(":"), "--force")["closing_txid"]
    wait("B's commitment on devchain", lambda: on_chain(devchain, ctx))
    # No output of B's commitment is the HTLC's: at most to_local and to_remote.
    outs = chain_tx(devchain, ctx).outputs()
    assert len(outs) <= 2 and all(o.value != amt // 1000 for o in outs), outs
    start = devchain.height()
    res = poll("A's payment to end", paid, timeout=180)
    assert res["payment_error"] == "permanent_channel_failure at hop 0", res
    assert res["payment"]["failure"] == {"code": 0x4008, "name": "permanent_channel_failure",
                                         "hop": 0}, res
    # Failed back within a few blocks of the close: A's HTLC had DELTA + 147 of them.
    assert devchain.height() - start < delta, (start, devchain.height())
    poll("A's channel settled", lambda: quiet(A, [ab]))
    assert local_msat(A) == a_before
    assert len(events(B)) == 5
    el.call("enable_htlc_settle", b=True)

    # --- 8. hold invoices at C: one settled by its user, one held past its expiry -----------
    preimage = hashlib.sha256(b"alight settle %d" % t0).digest()
    phash = hashlib.sha256(preimage).hexdigest()
    hold = C.user("addholdinvoice", phash, "30000", "--memo", "settled by C", "--private")
    a_before, c_before = local_msat(A), local_msat(C)
    out = {}
    payer = threading.Thread(
        target=lambda: out.update(res=A.user("payinvoice", hold["payment_request"])))
    payer.start()
    wait("C's hold invoice ACCEPTED",
         lambda: C.user("lookupinvoice", phash)["state"] == "ACCEPTED")
    assert payer.is_alive()
    C.user("settleinvoice", preimage.hex())
    payer.join(scaled(60))
    res = out["res"]
    assert res["payment_error"] == "" and b64hex(res["payment_preimage"]) == preimage.hex(), res
    got = C.user("lookupinvoice", phash)
    assert got["state"] == "SETTLED" and got["amt_paid_msat"] == "30000000", got
    poll("A's channel settled", lambda: quiet(A, [ab]))
    poll("C's channel settled", lambda: quiet(C, [bc]))
    assert local_msat(A) == a_before - 30_000_000 - fee_msat(30_000_000, base, ppm)
    assert local_msat(C) == c_before + 30_000_000

    preimage = hashlib.sha256(b"alight hold %d" % t0).digest()  # C's user keeps it
    phash = hashlib.sha256(preimage).hexdigest()
    hold = C.user("addholdinvoice", phash, "40000", "--memo", "held by C", "--private")
    dec = C.user("decodepayreq", hold["payment_request"])
    assert dec["payment_hash"] == phash and dec["route_hints"], dec
    a_before = local_msat(A)
    out = {}
    payer = threading.Thread(target=lambda: out.update(
        res=A.user("payinvoice", hold["payment_request"], timeout=scaled(600))))
    payer.start()
    wait("C's hold invoice ACCEPTED",
         lambda: C.user("lookupinvoice", phash)["state"] == "ACCEPTED")
    htlc_cltv = int(dec["cltv_expiry"])
    start = devchain.height()
    # To the HTLC's expiry (B -> C: the invoice's final delta from A's tip) and B's 3 blocks
    # of grace at once; then a block at a time while B goes on-chain.
    devchain.mine(htlc_cltv + 3, MINER)
    res = poll("A's payment to end", paid, timeout=300)
    assert res["payment_error"] == "permanent_channel_failure at hop 0", res
    # B closed B -> C at the HTLC's expiry (+3 blocks' grace) and failed A's HTLC once its
    # timeout transaction was final: within B's delta of A's HTLC, which never expired.
    assert devchain.height() - start < htlc_cltv + delta, (start, devchain.height())
    closed = [c for c in B.user("listchannels", "--closed")["channels"]
              if c["channel_point"] == bc]
    assert closed and closed[0]["close_type"] == "LOCAL_FORCE_CLOSE", closed
    poll("A's channel settled", lambda: quiet(A, [ab]))
    assert local_msat(A) == a_before
    assert C.user("lookupinvoice", phash)["state"] == "ACCEPTED"
    C.user("cancelinvoice", phash)
    assert C.user("lookupinvoice", phash)["state"] == "CANCELED"
