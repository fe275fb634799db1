"""Checks shared by the live interop tests (test_electrum.py, test_noise_js.py)."""

from conftest import REGTEST_CHAIN, alightd_offers, scaled

# BOLT 9 pairs (even = required, odd = optional) a peer must see from us.
# Electrum 4.3.4 closes the connection without an error unless data_loss_protect (0/1),
# gossip_queries (6/7) and static_remotekey (12/13) are all offered.
ELECTRUM_NEEDS = {"option_data_loss_protect": 0, "gossip_queries": 6, "option_static_remotekey": 12}
# Electrum 4.3.4's init features (lnworker.LNWALLET_FEATURES).
ELECTRUM_BITS = [0, 1, 5, 6, 9, 12, 13, 15, 17, 27, 45, 151]
# noise_peer.js's default init features.
NODE_DLC_BITS = [1, 7, 9, 13, 15]


# alightd's ping interval (ln/peer.h default 30 s) and the one the tests ask for when alightd
# offers --ping-interval-ms.
DEFAULT_PING_INTERVAL_S = 30
TEST_PING_INTERVAL_MS = 500


def ping_setup():
    """(extra alightd arguments, seconds to wait for alightd's first ping to a new peer)."""
    if alightd_offers("--ping-interval-ms"):
        return ["--ping-interval-ms", str(TEST_PING_INTERVAL_MS)], scaled(5)
    return [], scaled(DEFAULT_PING_INTERVAL_S + 5)


def bits_of(value):
    """Feature bits from listpeers' "features": a hex string (BOLT 9 big-endian bytes) or a list
    of bit numbers."""
    if isinstance(value, list):
        return sorted(int(b) for b in value)
    assert isinstance(value, str), "features is neither hex nor a list: %r" % (value,)
    v = int(value, 16) if value else 0
    return [i for i in range(v.bit_length()) if v >> i & 1]


def has_pair(bits, even):
    return even in bits or even + 1 in bits


def check_session(report, alight_node_id, *, electrum):
    """What a driver saw of alightd over one session: handshake, init, our ping answered."""
    assert report.get("ok"), "exchange failed: %s" % report.get("error")
    assert report["handshake"]
    assert report["remote_node_id"] == alight_node_id
    # init both ways: the driver received alightd's init and, for Electrum, its own feature
    # negotiation (ln_compare_features) and networks check passed.
    assert report["received"][0] in ("init", 16), "first message was not init: %r" % (
        report["received"],)
    if electrum:
        assert report["initialized"], "Electrum did not accept alightd's init"
    bits = report["their_feature_bits"]
    for name, even in ELECTRUM_NEEDS.items():
        assert has_pair(bits, even), "alightd does not offer %s (bits %r)" % (name, bits)
    # BOLT 9: "The origin node: ... MUST NOT set both the optional and mandatory bits."
    for b in bits:
        assert not (b % 2 == 0 and b + 1 in bits), "both bits %d and %d set" % (b, b + 1)
    # BOLT 1: "SHOULD set networks to [the chains] it will gossip or open channels for".
    assert report["their_networks"] == [REGTEST_CHAIN], report["their_networks"]
    # BOLT 1 ping/pong: "MUST respond ... with a pong ... byteslen equal to num_pong_bytes".
    assert report["pong_received"] and report["pong"]["byteslen"] == report["pong"]["expected"]
    assert report["errors_received"] == [], report["errors_received"]
    assert report["connected"]


def check_saw_alightd(report, daemon):
    """The peer saw in init exactly the features alightd says it offers (getinfo)."""
    info = daemon.cli("getinfo")
    assert info["node_id"] == daemon.node_id == report["remote_node_id"]
    assert report["their_feature_bits"] == bits_of(info["features"]), (report, info)


def check_listed(daemon, node_id, their_bits, address=None):
    """alightd's listpeers shows the driver connected, with the features of its init."""
    p = daemon.wait_peer(node_id, connected=True)
    assert p["connected"] is True
    assert bits_of(p["features"]) == sorted(their_bits), (p["features"], their_bits)
    host, _, port = p["address"].rpartition(":")
    assert host == "127.0.0.1" and int(port) > 0, p["address"]
    if address is not None:
        assert p["address"] == address, (p["address"], address)
    return p


def ping_again(driver):
    """A --hold driver pings alightd once more and gets its pong."""
    r = driver.command("ping", timeout=scaled(15))
    assert r.get("event") == "pong", r
    assert r["byteslen"] == r["expected"]
    return r
