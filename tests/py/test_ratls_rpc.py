"""The control API over RA-TLS: alightd --rpc-listen serves it over TLS 1.3 with a
certificate carrying a simulated quote of its measurement (SHA-256 of the alightd
binary, announced as "rpc_measurement": the TLS endpoint still terminates in the host,
while the node answering behind it runs in the enclave image, "measurement"); alight-cli --rpc-connect checks that evidence against its policy during the
handshake and sends the request (with the daemon's token) only if it passes.

Oracles: the measurement is recomputed from the binary with hashlib; the server's
certificate is fetched with Python's ssl module and appraised by alight-audit and by
an independent check of the DICE claims binding; the node id comes back equal to the
one alightd announced."""
import hashlib
import json
import os
import socket
import ssl
import subprocess

import pytest

from attest_util import HAVE_CRYPTO, cbor, need, run_audit
from conftest import BIN, scaled
from daemon_util import daemon_fails, start_daemon

if HAVE_CRYPTO:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization


@pytest.fixture(scope="module")
def sim():
    d = os.path.join(os.path.dirname(str(BIN).rstrip("/")), "sim")
    need(os.path.exists(os.path.join(d, "collateral.json")), f"simulation platform ({d})")
    return d


@pytest.fixture
def node(procs, tmp_path, sim):
    d = start_daemon(procs, tmp_path / "node", "--rpc-listen", "127.0.0.1:0", "--sim-dir", sim)
    assert d.info["platform"] == "sim"
    return d


def cli(node, sim, *args, pin=None, allow=True, datadir=True):
    argv = [str(BIN / "alight-cli"), "--rpc-connect", node.info["rpc_listen"], "--sim-dir", sim]
    if pin is not None:
        argv += ["--measurement", pin]
    if allow:
        argv.append("--allow-simulated")
    if datadir:
        argv += ["--datadir", str(node.datadir)]
    r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=scaled(30))
    return r.returncode, json.loads(r.stdout)


def test_needs_the_platform(tmp_path):
    rc, out = daemon_fails("--datadir", tmp_path / "n", "--rpc-listen", "127.0.0.1:0",
                           "--sim-dir", tmp_path / "missing")
    assert rc == 1 and "simulated platform" in out["error"]["message"]
    rc, out = daemon_fails("--datadir", tmp_path / "n", "--rpc-listen", "nowhere")
    assert rc == 2 and "--rpc-listen" in out["error"]["message"]


def test_measurement_is_the_binary(node):
    with open(BIN / "alightd", "rb") as f:
        assert node.info["rpc_measurement"] == hashlib.sha256(f.read()).hexdigest()


def test_pinned_client_connects(node, sim):
    rc, out = cli(node, sim, "getinfo", pin=node.info["rpc_measurement"])
    assert rc == 0, out
    assert out["node_id"] == node.node_id
    rc, out = cli(node, sim, "listpeers", pin=node.info["rpc_measurement"])
    assert rc == 0 and out["peers"] == []


def test_refusals(node, sim):
    m = node.info["rpc_measurement"]
    other = ("0" if m[0] != "0" else "1") + m[1:]
    rc, out = cli(node, sim, "getinfo", pin=other)
    assert rc == 1 and "step policy_measurement" in out["error"]["message"]
    rc, out = cli(node, sim, "getinfo", pin=m, allow=False)
    assert rc == 1 and "step simulated" in out["error"]["message"]
    # No pin: a client that would trust any enclave is a usage error.
    rc, out = cli(node, sim, "getinfo")
    assert rc == 2 and "measurement" in out["error"]["message"]
    # No token: nothing to authorise the request with.
    rc, out = cli(node, sim, "getinfo", pin=m, datadir=False)
    assert rc == 2 and "token" in out["error"]["message"]
    # The Unix socket still answers.
    assert node.cli("getinfo")["node_id"] == node.node_id


def fetch(node, request=None):
    host, _, port = node.info["rpc_listen"].rpartition(":")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, int(port)), timeout=scaled(10)) as s:
        with ctx.wrap_socket(s) as t:
            assert t.version() == "TLSv1.3"
            der = t.getpeercert(binary_form=True)
            data = b""
            if request is not None:
                t.sendall(request)
                while True:
                    chunk = t.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            return der, data


def test_token_required(node):
    _, data = fetch(node, b"GET /v1/getinfo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 401")
    token = (node.datadir / "rpc.token").read_text().strip()
    assert oct((node.datadir / "rpc.token").stat().st_mode & 0o777) == "0o600"
    _, data = fetch(node, b"GET /v1/getinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    ("0" * 64).encode() + b"\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 401")
    _, data = fetch(node, b"GET /v1/getinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    token.encode() + b"\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200") and node.node_id.encode() in data


def test_server_certificate(node, sim, tmp_path):
    need(HAVE_CRYPTO, "python3-cryptography")
    der, _ = fetch(node)
    path = tmp_path / "server.der"
    path.write_bytes(der)
    rc, out, _ = run_audit("--evidence", str(path), "--collateral",
                           os.path.join(sim, "collateral.json"), "--root",
                           os.path.join(sim, "root.pem"), "--allow-simulated")
    assert rc == 1 and out["status"] == "warning" and out["simulated"] and out["bound"]
    assert out["container"] == "x509-tcg-dice-tagged-evidence"
    assert out["measurement"] == node.info["rpc_measurement"]
    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    ev = cert.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("2.23.133.5.4.9")).value.value
    claims = cbor({"pubkey-hash": [1, hashlib.sha256(spki).digest()]})
    assert ev.endswith(bytes([0x58, len(claims)]) + claims)
    assert out["report_data"] == hashlib.sha256(claims).hexdigest() + "00" * 32
