"""Two alight nodes (tests/tools/node_pair, scenario "crash") on a real alight-devchain,
one of them killed at every persistence point of the update cycle in turn: before each
store write and after it (durable, not yet acknowledged), either node, over a thousand
payments both ways, with a second kill among the writes of the restart and reestablish
that follow every third time. The killed node's memory is dropped, as a SIGKILL of its
process would; it starts again from its store while its peer keeps running.

The tool checks what only it sees: every restart reestablishes the channel, no node
broadcasts a commitment, each sender hears every result its receiver gave, and the two
nodes agree on the balances. Checked here against the chain: after all the kills the
cooperative close is the funding output's only spend, and pays B exactly what the
results say moved, to the satoshi.

The stores live in /dev/shm when there is one: the kills are of the process, not of the
machine, so what a write leaves in the page cache survives them as it would a SIGKILL
(fsync against power loss is alight-store's and the directory store's own test,
test_store_crash); on disk the run takes minutes of fsync."""
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import SANITIZE
from devchain_util import devchain  # noqa: F401  (fixture)
from test_node_channels import FUNDING, check_open, fee_of, run_pair

CYCLES = 400 if SANITIZE else 1000
PAY = 1_000


@pytest.mark.parametrize("chan_type", ["static", "anchors"])
def test_kill_at_every_persistence_point(tmp_path, devchain, chan_type):  # noqa: F811
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="alight-crash-", dir=shm)) if shm.is_dir() else tmp_path
    try:
        ev = run_pair(devchain, tmp_path, "crash", chan_type, CYCLES, nodes=base / "nodes")
    finally:
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)
    funding = check_open(devchain, ev)
    c = ev["crashes"]
    # Every cycle armed a kill; one in nine aimed past the cycle's last write.
    assert c["cycles"] == CYCLES + 2 and c["kills"] >= CYCLES, c
    assert c["writes_per_cycle_a"] >= 4 and c["writes_per_cycle_b"] >= 4, c
    ab, ba = c["fulfilled_a_to_b"], c["fulfilled_b_to_a"]
    assert ab + ba + c["failed"] + c["forgotten"] == c["cycles"], c
    # Forgotten: offered by a sender killed before the HTLC was durable (so never sent).
    assert c["forgotten"] < c["cycles"] // 10 and ba > 0, c
    moved = (ab - ba) * PAY
    assert c["moved_sat"] == moved
    a, b = c["a"], c["b"]
    assert (a["local_balance"], a["remote_balance"]) == (FUNDING - moved, moved)
    assert (b["local_balance"], b["remote_balance"]) == (moved, FUNDING - moved)

    # The chain: the cooperative close spent the funding output, nothing else did, and it
    # pays what the results say (BOLT #2: the funder, A, pays the closing fee).
    closing_txid = ev["closing"]["closing_txid"]
    spend = devchain.get_json("/tx/%s/outspend/%d" % (funding["txid"],
                                                     ev["opened"]["output_index"]))
    assert spend["spent"] and spend["txid"] == closing_txid
    closing = devchain.get_json("/tx/%s" % closing_txid)
    fee = fee_of(devchain, closing)
    assert sorted(o["value"] for o in closing["vout"]) == sorted([moved, FUNDING - moved - fee])
    assert 0 < fee < 5_000
    ca, cb = ev["closed"]["a"], ev["closed"]["b"]
    assert ca["close_type"] == cb["close_type"] == "COOPERATIVE_CLOSE"
    assert (ca["settled_balance"], cb["settled_balance"]) == (FUNDING - moved - fee, moved)
