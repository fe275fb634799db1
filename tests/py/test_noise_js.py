"""alightd against a second independent BOLT 8 implementation: the npm package @node-dlc/noise
(with @node-dlc/wire's init/ping/pong), driven by tests/interop/noise_peer.js.

The first tests check the two oracles against each other (node-dlc <-> Electrum, both ways), so
a failure against alightd is never a broken driver, and that Electrum's feature checks are live
(a peer without gossip_queries is refused): these need no alightd. Then node-dlc dials alightd
and alightd dials node-dlc, with the same checks as test_electrum.py.
"""

from conftest import REGTEST_CHAIN, scaled
from interop_util import (ELECTRUM_BITS, NODE_DLC_BITS, check_listed, check_saw_alightd,
                          check_session, ping_again, ping_setup)

# Between the two drivers each pings at once after init.
DRIVER_PING_WAIT = scaled(5)


def check_pair(a, b, a_bits, b_bits):
    """Reports of two drivers that talked to each other: each saw the other's key and init,
    and each one's ping was answered."""
    for mine, theirs, their_bits in ((a, b, b_bits), (b, a, a_bits)):
        assert mine["ok"], mine
        assert mine["remote_node_id"] == theirs["our_node_id"]
        assert mine["their_feature_bits"] == their_bits
        assert mine["their_networks"] == [REGTEST_CHAIN]
        assert mine["pong_received"] and mine["pong"]["byteslen"] == 4
        assert mine["ping_received"], "the other driver's ping never arrived"


def test_oracles_node_dlc_dials_electrum(electrum_peer, noise_peer):
    e = electrum_peer("listen", wait_ping=DRIVER_PING_WAIT)
    n = noise_peer("dial", e.target, wait_ping=DRIVER_PING_WAIT)
    check_pair(n.report(), e.report(), NODE_DLC_BITS, ELECTRUM_BITS)


def test_oracles_electrum_dials_node_dlc(electrum_peer, noise_peer):
    n = noise_peer("listen", wait_ping=DRIVER_PING_WAIT)
    e = electrum_peer("dial", n.target, wait_ping=DRIVER_PING_WAIT)
    check_pair(n.report(), e.report(), NODE_DLC_BITS, ELECTRUM_BITS)


def test_oracle_electrum_refuses_missing_gossip_queries(electrum_peer, noise_peer):
    """Without gossip_queries (6/7) in init, Electrum 4.3.4 hangs up: the Electrum tests can
    fail on alightd's features."""
    e = electrum_peer("listen", timeout=5)
    n = noise_peer("dial", e.target, timeout=5, extra=["--features", "1,9,13,15"])
    er, nr = e.report(), n.report()
    assert not er["ok"] and not er["initialized"], er
    assert not nr["ok"] and not nr["connected"], nr


def test_node_dlc_dials_alightd(alightd, noise_peer):
    extra, ping_wait = ping_setup()
    d = alightd(*extra)
    n = noise_peer("dial", d.target, hold=True, wait_ping=ping_wait)
    r = n.report(timeout=ping_wait + scaled(20))
    check_session(r, d.node_id, electrum=False)
    check_saw_alightd(r, d)
    assert r["role"] == "initiator"
    assert r["ping_received"], "alightd never pinged node-dlc"
    check_listed(d, r["our_node_id"], NODE_DLC_BITS)
    ping_again(n)
    n.quit()
    d.wait_peer(r["our_node_id"], connected=False)


def test_alightd_dials_node_dlc(alightd, noise_peer):
    extra, ping_wait = ping_setup()
    d = alightd(*extra)
    n = noise_peer("listen", hold=True, wait_ping=ping_wait)
    out = d.cli("connect", n.target)
    assert isinstance(out, dict), out
    r = n.report(timeout=ping_wait + scaled(20))
    check_session(r, d.node_id, electrum=False)
    check_saw_alightd(r, d)
    assert r["role"] == "responder"
    assert r["ping_received"], "alightd never pinged node-dlc"
    check_listed(d, n.node_id, NODE_DLC_BITS, address="127.0.0.1:%d" % n.listening["port"])
    ping_again(n)
    n.quit()
    d.wait_peer(n.node_id, connected=False)
