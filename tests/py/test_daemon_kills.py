"""alightd itself killed by SIGKILL in the middle of payments: the whole daemon, its enclave
image and its sealed directory store, as a machine losing power or an operator's kill -9
would stop it (issues 13 and 14: "SIGKILL alightd at every persistence point", "crash in the
middle of sending").

Two alightd, A and B, a channel A -> B on alight-devchain. For each payment one of them (A
and B in turn) is restarted with `--test-kill-at K:P`: its host dies by SIGKILL at the K-th
write of its node's records (K from 1 to 14 in turn: the restart's own writes, the
reestablish, B's invoice, the payment's update cycle), before the write (P 0) or once it is
durable but not yet told to the enclave (P 1). B makes an invoice, A's user pays it; when the
armed daemon dies it is started again (unarmed) from its directory, A dials B again, and the
nodes finish what was in flight on their own (A's user's request died with A, if A died).

Judged at the end against both books, for every invoice B answered: A's payment SUCCEEDED
exactly when B's invoice SETTLED, otherwise FAILED or never durable (A died before its
record was); none IN_FLIGHT, none twice; the channel's balances moved by exactly the invoices
settled; and nothing ever spent the funding output."""
import base64
import subprocess
import threading
import time

from conftest import SANITIZE, CliError, Daemon, scaled
from devchain_util import devchain  # noqa: F401  (fixture)
from test_channels_electrum import MINER, alight_channel, on_chain, wait

PAYMENTS = 28 if SANITIZE else 56  # both books keep 64 entries
KILL_POINTS = 14
PAY_SAT = 1_000


def test_alightd_killed_mid_payment(tmp_path, procs, devchain):  # noqa: F811
    devchain.mine(101, MINER)
    nodes = {}

    kills = 0

    def start(name, *extra):
        # As daemon_util.start_daemon, with the daemon known before it is ready: an armed
        # one may die in its own start-up.
        d = nodes[name] = Daemon(tmp_path / name, ["--listen", "127.0.0.1:0",
                                                   "--chain-poll-ms", "200", *extra])
        procs.append(d)
        return d.await_ready(provision=True, mnemonic=None)

    def dead(name, failed=False):
        """The armed daemon died by SIGKILL (nothing else may stop it): counted, forgotten
        by the fixture (which wants a clean exit from the daemons it stops), started again
        unarmed from its store. False while it runs. `failed`: a request to it just failed,
        so it may be dying (the kill reaches the client before the process is reaped)."""
        nonlocal kills
        d = nodes[name]
        if failed:
            try:
                d.p.wait(timeout=scaled(5))
            except subprocess.TimeoutExpired:
                pass
        if d.running():
            return False
        assert d.p.returncode == -9, d.describe()
        procs.remove(d)
        kills += 1
        start(name)
        return True

    def start_armed(name, arm):
        try:
            start(name, "--test-kill-at", arm)
        except (CliError, AssertionError):
            assert dead(name, True), nodes[name].describe()  # died in its own start-up
            return True
        return False

    A, B = start("a"), start("b")
    for d in (A, B):
        d.user("setchain", devchain.url)
    devchain.faucet(A.user("newaddress")["address"], 1_000_000)
    devchain.mine(1, MINER)
    wait("A's coins", lambda: A.user("walletbalance")["confirmed_balance"] == 1_000_000)
    A.cli("connect", B.target)
    A.wait_peer(B.node_id)
    opened = A.user("openchannel", B.node_id, 500_000)
    point = "%s:%d" % (opened["funding_txid_str"], opened["output_index"])
    wait("funding on devchain", lambda: on_chain(devchain, opened["funding_txid_str"]))
    devchain.mine(3, MINER)

    def quiet():
        ca, cb = alight_channel(nodes["a"], point), alight_channel(nodes["b"], point)
        return (ca and cb and ca["active"] and cb["active"] and ca["pending_htlcs"] == 0 and
                cb["pending_htlcs"] == 0 and (ca, cb))

    def reconnect():
        try:
            nodes["a"].cli("connect", nodes["b"].target)
        except CliError:
            pass  # already connected (the other one restarted and dialled first)
        wait("the channel reestablished", quiet, timeout=120)

    wait("the channel active", quiet)
    invoices = {}
    for i in range(PAYMENTS):
        victim = "a" if i % 2 == 0 else "b"
        k = i // 2
        arm = "%d:%d" % (1 + k % KILL_POINTS, k // KILL_POINTS % 2)
        assert nodes[victim].stop() == 0
        died = [start_armed(victim, arm)]

        def guarded(fn):
            """fn(), through the armed daemon's one death wherever it lands."""
            while True:
                try:
                    return fn()
                except (CliError, AssertionError):
                    if died[0] or not dead(victim, True):
                        raise
                    died[0] = True

        guarded(reconnect)
        inv = guarded(lambda: nodes["b"].user("addinvoice", str(PAY_SAT), "--memo",
                                              "kill %d" % i))
        r_hash = base64.b64decode(inv["r_hash"]).hex()
        assert r_hash not in invoices.values()
        invoices[i] = r_hash
        out = {}

        def pay():
            try:
                out["res"] = nodes["a"].user("payinvoice", inv["payment_request"],
                                             timeout=scaled(120))
            except CliError as e:
                out["err"] = str(e)  # A died under its user's request
        payer = threading.Thread(target=pay)
        payer.start()
        deadline = time.monotonic() + scaled(180)
        while payer.is_alive():
            assert time.monotonic() < deadline, "payment %d did not end" % i
            if not died[0] and dead(victim):
                died[0] = True
                guarded(reconnect)
            payer.join(0.2)
        if not died[0]:
            # Its K-th write did not come in this payment: disarmed (restarted) so that it
            # cannot die in the next, where the other one is armed; unless it comes now,
            # among the writes of its shutdown.
            rc = nodes[victim].stop()
            assert rc in (0, -9), nodes[victim].describe()
            if rc == -9:
                procs.remove(nodes[victim])
                kills += 1
            start(victim)
        guarded(reconnect)
        if "res" in out:
            assert out["res"]["payment"]["status"] in ("SUCCEEDED", "FAILED"), out

    # --- the books, against every invoice ---------------------------------------------------
    pays = {}
    for p in nodes["a"].user("listpayments")["payments"]:
        assert p["payment_hash"] not in pays, p
        pays[p["payment_hash"]] = p["status"]
    settled = 0
    for i, h in invoices.items():
        got = nodes["b"].user("lookupinvoice", h)
        st = pays.get(h, "")
        assert st != "IN_FLIGHT", (i, st)
        assert (got["state"] == "SETTLED") == (st == "SUCCEEDED"), (i, got["state"], st)
        assert st != "" or i % 2 == 0, (i, "a payment vanished without A dying")
        settled += st == "SUCCEEDED"
    print("alightd kills: %d over %d payments, %d settled" % (kills, PAYMENTS, settled))
    assert kills >= PAYMENTS // 2 and settled >= PAYMENTS // 2, (kills, settled)
    ca, cb = quiet()
    assert (ca["local_balance"], cb["local_balance"]) == (500_000 - settled * PAY_SAT,
                                                          settled * PAY_SAT), (ca, cb)
    # Nothing broadcast a commitment: the funding output is unspent.
    txid, vout = point.split(":")
    assert devchain.get_json("/tx/%s/outspend/%s" % (txid, vout))["spent"] is False
