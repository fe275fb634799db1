"""Helpers for the on-chain wallet tests: run the wallet's commands and an Esplora proxy
that can lie.

The wallet is a node's inside alightd's enclave (src/node/node_wallet.c, behind
POST /v1/wallet/<command>), driven through alight-cli over the user channel exactly as a user
would: the user provisions the node, chooses the chain server and whom to trust for it
(setchain), then uses the wallet. The host has no say in any of it.
"""
import hashlib
import http.server
import json
import os
import socket
import struct
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import Daemon


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def datadir_state(path):
    """What a data directory holds, for failure messages."""
    try:
        return "%s: %s" % (path, sorted(os.listdir(path)))
    except OSError as e:
        return "%s: %s" % (path, e)


class Wallet:
    """A node's wallet on `url` in an alightd of its own, provisioned on first use; told of a
    new chain server (or trust) when the test changes w.url or w.trust (the user's setchain).
    trust: ("--ca", PEM file) and/or ("--pin", SPKI SHA-256 hex) pairs. Every Wallet's daemon
    is stopped when the test ends (stop_all)."""

    live = []

    def __init__(self, datadir, url, trust=()):
        self.datadir = Path(datadir)
        self.url = url
        self.trust = tuple(trust)
        self.daemon = None
        self.told = None  # the (url, trust) the node was told

    def _ensure_daemon(self):
        if self.daemon is None or not self.daemon.running():
            self.stop()
            self.datadir.mkdir(parents=True, exist_ok=True)
            self.daemon = Daemon(self.datadir)
            self.daemon.await_ready(provision=True, mnemonic=None)
            Wallet.live.append(self)
        if self.told != (self.url, self.trust):
            self.daemon.user("setchain", self.url, *self.trust)
            self.told = (self.url, self.trust)

    def stop(self):
        if self.daemon is not None:
            rc = self.daemon.stop()
            assert rc == 0, "alightd exit %s\n%s" % (rc, self.daemon.describe())
            self.daemon = None

    @classmethod
    def stop_all(cls):
        while cls.live:
            cls.live.pop().stop()

    def run(self, *args, check=True):
        self._ensure_daemon()
        p = subprocess.run(self.daemon.user_argv(*args), capture_output=True, timeout=300)
        out = json.loads(p.stdout.decode())
        if check:
            assert p.returncode == 0 and "error" not in out, (
                args, out, p.stderr.decode(), self.daemon.describe(), datadir_state(self.datadir))
        return out

    def balance(self):
        return self.run("walletbalance")

    def new_address(self):
        return self.run("newaddress")["address"]


@pytest.fixture(autouse=True)
def _stop_wallets():
    yield
    Wallet.stop_all()


def check_signed_as_electrum(w, dc, txid):
    """Every input of the wallet's transaction `txid` (fetched from devchain) carries the
    signature Electrum makes for it: the key of the input's address derived by Electrum
    from the wallet's seed words (BIP 84: m/84'/1'/0'/change/index), the BIP 143 digest
    from Electrum's preimage code, signed by Electrum (RFC 6979, ground to a low R as
    Bitcoin Core's wallet does). Returns the DER lengths seen."""
    from electrum import bip32, ecc, keystore
    from electrum import transaction as etx
    words = " ".join(w.daemon.seed_file.read_text().split())
    root = bip32.BIP32Node.from_rootseed(keystore.bip39_to_seed(words, ""), xtype="standard")
    keys = {}
    for chain in (0, 1):
        for index in range(40):
            node = root.subkey_at_private_derivation("m/84'/1'/0'/%d/%d" % (chain, index))
            keys[node.eckey.get_public_key_bytes(compressed=True)] = node.eckey
    raw = dc.get_text("/tx/%s/hex" % txid)
    info = dc.get_json("/tx/" + txid)
    tx = etx.PartialTransaction.from_tx(etx.Transaction(raw))
    lengths = []
    for n, txin in enumerate(tx.inputs()):
        sig, pub = (bytes.fromhex(x) for x in info["vin"][n]["witness"])
        assert pub in keys, "input %d: not a key of the wallet's first 40 per chain" % n
        txin.script_type, txin.pubkeys, txin.num_sig = "p2wpkh", [pub], 1
        txin._trusted_value_sats = info["vin"][n]["prevout"]["value"]
        digest = sha256d(bytes.fromhex(tx.serialize_preimage(n)))
        assert sig == keys[pub].sign_transaction(digest) + b"\x01", "input %d" % n
        lengths.append(len(sig) - 1)
    assert tx.txid() == txid
    return lengths


class LyingProxy:
    """An HTTP proxy in front of devchain. `lie(path, status, body)` may rewrite each
    answer (return (status, body)); the default passes everything through."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lie = None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Head and body go out in two writes: without this, Nagle's algorithm
                # and the client's delayed ACK add ~40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *a):
                pass

            def _forward(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                status, data = proxy.fetch(method, self.path, body)
                if proxy.lie:
                    status, data = proxy.lie(self.path, status, data)
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._forward("GET")

            def do_POST(self):
                self._forward("POST")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fetch(self, method, path, body=None):
        req = urllib.request.Request(self.upstream + path, data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- forging headers --------------------------------------------------------------------

REGTEST_BITS = 0x207fffff
REGTEST_TARGET = 0x7fffff << (8 * (0x20 - 3))


def header_hash_hex(h):
    return sha256d(h)[::-1].hex()


def grind(version, prev, root, t, bits, good=True):
    """An 80-byte header whose hash meets (good) or misses (not good) the regtest target."""
    for nonce in range(1 << 20):
        h = struct.pack("<I", version) + prev + root + struct.pack("<III", t, bits, nonce)
        ok = int.from_bytes(sha256d(h), "little") <= REGTEST_TARGET
        if ok == good:
            return h
    raise AssertionError("grinding failed")
