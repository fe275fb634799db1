"""alightd against a live, independently written Lightning peer: Electrum 4.3.4 (Debian).

Electrum's real BOLT 8 transport and BOLT 1 peer (tests/interop/electrum_peer.py) dial alightd
and are dialled by it (alight-cli connect). Each direction checks: the handshake (Electrum
authenticates alightd's node id), init both ways (Electrum's own checks: data_loss_protect,
gossip_queries, static_remotekey and the regtest chain in networks, else it hangs up), a ping
from Electrum answered with the right pong, a ping from alightd answered by Electrum, and that
alightd's listpeers shows Electrum with the features Electrum sent.
"""

import time

from conftest import refused_port, scaled
from interop_util import (ELECTRUM_BITS, check_listed, check_saw_alightd, check_session,
                          ping_again, ping_setup)

# The secp256k1 generator as a node id: a valid key whose secret (1) no test peer uses.
G_PUBKEY = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def check_alight_pinged(report):
    """alightd pinged Electrum, and Electrum answered (lnpeer.Peer.on_ping sends the pong; a
    missing pong would have made alightd close the connection, which check_session sees)."""
    assert report["ping_received"], "alightd never pinged Electrum"
    assert report["pings_received"][0]["num_pong_bytes"] < 65532


def test_electrum_dials_alightd(alightd, electrum_peer):
    extra, ping_wait = ping_setup()
    d = alightd(*extra)
    e = electrum_peer("dial", d.target, hold=True, wait_ping=ping_wait)
    r = e.report(timeout=ping_wait + scaled(20))
    check_session(r, d.node_id, electrum=True)
    check_saw_alightd(r, d)
    assert r["role"] == "initiator"
    check_alight_pinged(r)
    check_listed(d, r["our_node_id"], ELECTRUM_BITS)
    # The connection outlives the listpeers calls and alightd's pings.
    ping_again(e)
    e.quit()
    d.wait_peer(r["our_node_id"], connected=False)


def test_alightd_dials_electrum(alightd, electrum_peer):
    extra, ping_wait = ping_setup()
    d = alightd(*extra)
    e = electrum_peer("listen", hold=True, wait_ping=ping_wait)
    out = d.cli("connect", e.target)
    assert isinstance(out, dict), out
    r = e.report(timeout=ping_wait + scaled(20))
    check_session(r, d.node_id, electrum=True)
    check_saw_alightd(r, d)
    # As responder Electrum learnt alightd's node id from act three: alightd proved its key.
    assert r["role"] == "responder"
    check_alight_pinged(r)
    check_listed(d, e.node_id, ELECTRUM_BITS, address="127.0.0.1:%d" % e.listening["port"])
    ping_again(e)
    e.quit()
    d.wait_peer(e.node_id, connected=False)


def test_alightd_connect_wrong_node_id(alightd, electrum_peer):
    """Act one made for another key fails Electrum's MAC check: connect reports an error."""
    d = alightd()
    e = electrum_peer("listen")
    t0 = time.monotonic()
    code, err = d.cli_fails("connect", "%s@127.0.0.1:%d" % (G_PUBKEY, e.listening["port"]))
    assert code != 0 and err, err
    assert time.monotonic() - t0 < scaled(25)
    r = e.report()
    assert not r["ok"] and not r["handshake"], r
    assert d.peer(G_PUBKEY) is None or not d.peer(G_PUBKEY)["connected"]


def test_alightd_connect_refused(alightd):
    """Nothing listens there: an error JSON and a non-zero exit, no peer listed."""
    d = alightd()
    with refused_port() as port:
        code, err = d.cli_fails("connect", "%s@127.0.0.1:%d" % (G_PUBKEY, port))
    assert code != 0 and err
    assert d.peer(G_PUBKEY) is None or not d.peer(G_PUBKEY)["connected"]
