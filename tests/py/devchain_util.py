"""Fixtures and helpers for alight-devchain tests.

Transactions are built here in Python and signed with Electrum's own BIP 143 preimage
code and its libsecp256k1 binding, so that signatures come from an implementation
independent of alight's. Every signature has one size (see sign_digest), so a test can
say what a transaction's size is. Block checks (proof of work, merkle roots, merkle
proofs, witness commitments) are recomputed with hashlib.
"""
import hashlib
import json
import os
import signal
import ssl
import struct
import subprocess
import urllib.error
import urllib.request
from ctypes import create_string_buffer

import pytest

from electrum import bitcoin, constants, ecc
from electrum import transaction as etx
from electrum.ecc_fast import _libsecp256k1 as secp

constants.set_regtest()

REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def bin_dir():
    d = os.environ.get("ALIGHT_BIN")
    if not d:
        pytest.fail("ALIGHT_BIN not set")
    return d


class Devchain:
    """alight-devchain on ports of the OS's choosing: `url` is its Esplora API, `electrum`
    its Electrum server as (host, port). `extra` are more command-line arguments;
    `stderr_file` (a path) keeps its stderr (the Electrum server logs cut-off clients)."""

    def __init__(self, datadir, tls=None, extra=(), stderr_file=None):
        self.datadir = datadir
        self.tls = tls
        self.extra = tuple(extra)
        self.stderr_file = stderr_file
        self.proc = None
        self.url = None
        self.electrum = None
        self.first_line = None

    def start(self):
        cmd = [os.path.join(bin_dir(), "alight-devchain"), "--datadir", str(self.datadir),
               "--listen", "127.0.0.1:0"]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        cmd += list(self.extra)
        err = open(self.stderr_file, "ab") if self.stderr_file else None
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        if err:
            err.close()
        line = self.proc.stdout.readline().decode()
        if not line:
            self.proc.wait(5)
            pytest.fail("alight-devchain exited with %s" % self.proc.returncode)
        self.first_line = line
        first = json.loads(line)
        self.url = first["esplora"]
        if "electrum" in first:
            host, _, port = first["electrum"][len("tcp://"):].rpartition(":")
            self.electrum = (host, int(port))
        return self

    def stderr(self):
        if not self.stderr_file:
            return ""
        with open(self.stderr_file, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # --- HTTP ---
    def _ctx(self):
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=self.tls[0])

    def request(self, method, path, body=None):
        data = body if body is None or isinstance(body, bytes) else body.encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60, context=self._ctx()) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get(self, path):
        st, body = self.request("GET", path)
        assert st == 200, (path, st, body)
        return body

    def get_text(self, path):
        return self.get(path).decode()

    def get_json(self, path):
        return json.loads(self.get(path))

    def post_json(self, path, obj):
        st, body = self.request("POST", path, json.dumps(obj))
        assert st == 200, (path, st, body)
        return json.loads(body) if body[:1] in (b"[", b"{") else body.decode()

    def mine(self, n, address):
        return self.post_json("/mine", {"blocks": n, "address": address})

    def faucet(self, address, amount):
        return self.post_json("/faucet", {"address": address, "amount_sat": amount})

    def broadcast(self, raw):
        """POST /tx; returns (ok, text)."""
        st, body = self.request("POST", "/tx", raw.hex())
        return st == 200, body.decode()

    def height(self):
        return int(self.get_text("/blocks/tip/height"))


@pytest.fixture
def devchain(tmp_path):
    d = Devchain(tmp_path / "chain").start()
    yield d
    d.stop()


# --- keys and scripts -------------------------------------------------------------------

class Key:
    def __init__(self, seed):
        self.priv = hashlib.sha256(seed.encode()).digest()
        self.pub = ecc.ECPrivkey(self.priv).get_public_key_bytes(compressed=True)
        self.h160 = bitcoin.hash_160(self.pub)
        self.script = b"\x00\x14" + self.h160
        self.address = bitcoin.pubkey_to_address("p2wpkh", self.pub.hex())


def push(b):
    assert len(b) < 76
    return bytes([len(b)]) + b


def script_num(n):
    if n == 0:
        return b"\x00"
    if 1 <= n <= 16:
        return bytes([0x50 + n])
    out = bytearray()
    while n:
        out.append(n & 0xff)
        n >>= 8
    if out[-1] & 0x80:
        out.append(0)
    return push(bytes(out))


def p2wsh_script(witness_script):
    return b"\x00\x20" + hashlib.sha256(witness_script).digest()


def p2wsh_address(witness_script):
    return bitcoin.script_to_address(p2wsh_script(witness_script).hex())


# --- transactions -----------------------------------------------------------------------

def varint(n):
    if n < 0xfd:
        return bytes([n])
    if n <= 0xffff:
        return b"\xfd" + struct.pack("<H", n)
    return b"\xfe" + struct.pack("<I", n)


def ser_tx(version, ins, outs, locktime, witness=True):
    """ins: dicts with txid (display hex), vout, seq, scriptsig, witness (list of bytes);
    outs: (value, script) with value a signed 64-bit integer."""
    has_wit = witness and any(i.get("witness") for i in ins)
    b = struct.pack("<I", version)
    if has_wit:
        b += b"\x00\x01"
    b += varint(len(ins))
    for i in ins:
        ss = i.get("scriptsig", b"")
        b += bytes.fromhex(i["txid"])[::-1] + struct.pack("<I", i["vout"]) + varint(len(ss)) + ss
        b += struct.pack("<I", i["seq"])
    b += varint(len(outs))
    for v, s in outs:
        b += struct.pack("<q", v) + varint(len(s)) + s
    if has_wit:
        for i in ins:
            w = i.get("witness", [])
            b += varint(len(w)) + b"".join(varint(len(x)) + x for x in w)
    b += struct.pack("<I", locktime)
    return b


def txid_of(raw_no_witness):
    return sha256d(raw_no_witness)[::-1].hex()


# A DER signature whose r and s both take 32 bytes: 70 bytes, 71 with the sighash byte.
SIG_LEN = 71


def _ecdsa(priv, digest, counter):
    """libsecp256k1's RFC 6979 signature (low S) with Core's extra entropy: none for
    counter 0, else the counter as 32 little-endian bytes (CKey::Sign, WriteLE32)."""
    sig, compact = create_string_buffer(64), create_string_buffer(64)
    extra = counter.to_bytes(32, "little") if counter else None
    assert secp.secp256k1_ecdsa_sign(secp.ctx, sig, digest, priv, None, extra) == 1
    secp.secp256k1_ecdsa_signature_serialize_compact(secp.ctx, compact, sig)
    return int.from_bytes(compact.raw[:32], "big"), int.from_bytes(compact.raw[32:], "big")


def sign_digest(priv, digest):
    """A DER signature of exactly SIG_LEN - 1 bytes.

    Electrum (like Core) grinds the nonce until r < 2^255, so r needs no 0x00 pad; but r
    or s below 2^248 still encodes one byte shorter (about 1 signature in 64), and a test
    assuming two signed transactions have equal sizes then fails by chance. The grinding
    goes on, counter by counter, until r and s both take exactly 32 bytes. The first low-R
    candidate is checked to be the signature Electrum itself makes."""
    key = ecc.ECPrivkey(priv)
    counter, first = 0, None
    while True:
        r, s = _ecdsa(priv, digest, counter)
        if r < 2**255 and first is None:
            first = ecc.der_sig_from_r_and_s(r, s)
            assert first == key.sign_transaction(digest), "not Electrum's nonce convention"
        if 2**248 <= r < 2**255 and s >= 2**248:
            break
        counter += 1
    assert key.verify_message_hash(ecc.sig_string_from_r_and_s(r, s), digest)
    der = ecc.der_sig_from_r_and_s(r, s)
    assert len(der) == SIG_LEN - 1, der.hex()
    return der


def sign_tx(version, ins, outs, locktime):
    """Sign every input: Electrum's BIP 143 preimage, signed by sign_digest (SIGHASH_ALL).
    An input names its key and either 'p2wpkh' or a witness script plus a function
    building the witness from the signature."""
    e_ins = []
    for i in ins:
        t = etx.PartialTxInput(prevout=etx.TxOutpoint(txid=bytes.fromhex(i["txid"]),
                                                      out_idx=i["vout"]), nsequence=i["seq"])
        t._trusted_value_sats = i["value"]
        if "witness_script" in i:
            t.script_type = "p2wsh"
            t.witness_script = i["witness_script"]
        else:
            t.script_type = "p2wpkh"
            t.pubkeys = [i["key"].pub]
            t.num_sig = 1
        e_ins.append(t)
    e_outs = [etx.PartialTxOutput(scriptpubkey=s, value=v) for v, s in outs]
    # Keep our input and output order (Electrum sorts by BIP 69 unless told not to).
    tx = etx.PartialTransaction.from_io(e_ins, e_outs, locktime=locktime, version=version,
                                        BIP69_sort=False)
    for n, i in enumerate(ins):
        assert tx.inputs()[n].sighash is None  # SIGHASH_ALL
        digest = sha256d(bytes.fromhex(tx.serialize_preimage(n)))
        sig = sign_digest(i["key"].priv, digest) + bytes([etx.Sighash.ALL])
        if "witness_script" in i:
            i["witness"] = i.get("make_witness", lambda s: [s, i["witness_script"]])(sig)
        else:
            i["witness"] = [sig, i["key"].pub]
    raw = ser_tx(version, ins, outs, locktime)
    # Electrum parses what we built to the same txid.
    assert etx.Transaction(raw.hex()).txid() == txid_of(ser_tx(version, ins, outs, locktime,
                                                               witness=False))
    return raw


def vsize(raw):
    tx = etx.Transaction(raw.hex())
    return tx.estimated_size()


def find_output(dc, txid, script):
    tx = dc.get_json("/tx/" + txid)
    for n, o in enumerate(tx["vout"]):
        if bytes.fromhex(o["scriptpubkey"]) == script:
            return n, o["value"]
    raise AssertionError("output not found")


def fund(dc, script_address, script, amount, miner_address, confirm=True):
    """Faucet `amount` to an address and mine a block; returns (txid, vout, value)."""
    txid = dc.faucet(script_address, amount)
    if confirm:
        dc.mine(1, miner_address)
    vout, value = find_output(dc, txid, script)
    return txid, vout, value


# --- block checks -----------------------------------------------------------------------

def bits_to_target(bits):
    size, word = bits >> 24, bits & 0x7fffff
    return word >> (8 * (3 - size)) if size <= 3 else word << (8 * (size - 3))


def merkle_root(leaves):
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def check_header(header, expect_hash=None):
    """Header bytes: hash, regtest proof of work; returns the parsed fields."""
    assert len(header) == 80
    version, = struct.unpack_from("<I", header, 0)
    prev = header[4:36][::-1].hex()
    root = header[36:68]
    t, bits, nonce = struct.unpack_from("<III", header, 68)
    h = sha256d(header)
    assert bits == 0x207fffff
    assert int.from_bytes(h, "little") <= bits_to_target(bits), "proof of work"
    if expect_hash:
        assert h[::-1].hex() == expect_hash
    return {"version": version, "prev": prev, "root": root, "time": t, "bits": bits,
            "hash": h[::-1].hex()}
