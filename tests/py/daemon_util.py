"""Helpers for tests that drive alightd and alight-cli directly (test_daemon.py and others).

conftest.py owns the shared fixtures (Proc, Daemon, the `alightd` factory); this module adds what
the command-line contract tests need on top: a daemon in a chosen data directory (restarts reuse
it), runs of alightd that must fail at start-up, alight-cli runs that return (exit code, JSON),
raw HTTP requests on the control socket, and Electrum as the independent oracle for the node key
(BIP 39 seed -> BIP 32 m/1017'/coin'/6'/0/0, LND's node key path) and for chain hashes.
"""

import http.client
import json
import os
import socket
import subprocess

from conftest import BIN, ZERO_MNEMONIC, Daemon, scaled  # noqa: F401 (ZERO_MNEMONIC re-exported)


def start_daemon(procs, datadir, *extra, listen="127.0.0.1:0", mnemonic=None, provision=True):
    """alightd on regtest in `datadir` (created if needed) with node 0 provisioned by its user
    (`mnemonic`, or None for a seed made inside the enclave), unless already there; returns the
    ready Daemon. `extra` comes after conftest's default arguments, so a later --listen or
    --network wins."""
    os.makedirs(str(datadir), exist_ok=True)
    d = Daemon(datadir, ["--listen", listen, *extra])
    procs.append(d)
    return d.await_ready(provision=provision, mnemonic=mnemonic)


def daemon_fails(*argv, timeout=None):
    """Runs alightd expecting a start-up failure: (exit code, the JSON of its first line)."""
    r = subprocess.run([str(BIN / "alightd")] + [str(a) for a in argv], capture_output=True,
                       text=True, timeout=timeout or scaled(20))
    assert r.returncode != 0, "alightd %r started: %s" % (argv, r.stdout)
    first = r.stdout.splitlines()[0] if r.stdout else ""
    try:
        return r.returncode, json.loads(first)
    except ValueError:
        raise AssertionError("alightd %r printed no JSON error: %r (stderr %r)" %
                             (argv, r.stdout, r.stderr)) from None


def cli(*args, datadir=None, timeout=None):
    """alight-cli [--datadir DIR] args: (exit code, parsed stdout JSON)."""
    argv = [str(BIN / "alight-cli")]
    if datadir is not None:
        argv += ["--datadir", str(datadir)]
    argv += [str(a) for a in args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout or scaled(30))
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise AssertionError("alight-cli %r printed non-JSON: %r (stderr %r)" %
                             (args, r.stdout, r.stderr)) from None
    return r.returncode, out


def error_message(obj):
    """The message of an {"error":{"message":...}} object (AssertionError if not that shape)."""
    assert isinstance(obj, dict) and set(obj) == {"error"}, obj
    msg = obj["error"]["message"]
    assert isinstance(msg, str) and msg, obj
    return msg


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


def rest(datadir, method, path, body=None, headers=None, timeout=None):
    """One request on DIR/rpc.sock with Python's own HTTP client: (status, JSON body)."""
    c = _UnixHTTPConnection(os.path.join(str(datadir), "rpc.sock"), timeout or scaled(30))
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        assert r.getheader("Content-Type") == "application/json", r.getheaders()
        return r.status, json.loads(data)
    finally:
        c.close()


def electrum_node_id(mnemonic, coin):
    """LND's node key for a BIP 39 mnemonic, computed by Electrum: m/1017'/coin'/6'/0/0."""
    from electrum import bip32, keystore
    seed = keystore.bip39_to_seed(mnemonic, "")
    node = bip32.BIP32Node.from_rootseed(seed, xtype="standard")
    key = node.subkey_at_private_derivation("m/1017'/%d'/6'/0/0" % coin)
    return key.eckey.get_public_key_hex(compressed=True)


def electrum_chain_hash(network):
    """BOLT 0 chain_hash (genesis hash in internal byte order) from Electrum's constants."""
    from electrum import constants
    net = {"mainnet": constants.BitcoinMainnet, "testnet": constants.BitcoinTestnet,
           "signet": constants.BitcoinSignet, "regtest": constants.BitcoinRegtest}[network]
    return bytes.fromhex(net.GENESIS)[::-1].hex()
