"""The control API over RA-TLS, terminated inside the enclave: alightd --rpc-listen
relays ciphertext to the TLS 1.3 server in libalight_enclave.so, whose key was made
there and whose certificate carries a simulated quote of the image's measurement
(SHA-256 of the .so as loaded, announced as "measurement"); the bearer token is checked
inside too. alight-cli --rpc-connect checks that evidence against its policy during the
handshake and sends the request (with the daemon's token) only if it passes.

Oracles: the measurement is recomputed from the image file with hashlib; the server's
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
from conftest import BIN, refused_port, scaled
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


def image_measurement():
    with open(BIN.parent / "lib" / "libalight_enclave.so", "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_measurement_is_the_image(node):
    # One measurement: the enclave image's, which the TLS endpoint now lives in.
    assert node.info["measurement"] == image_measurement()
    assert "rpc_measurement" not in node.info


def test_pinned_client_connects(node, sim):
    m = image_measurement()
    rc, out = cli(node, sim, "getinfo", pin=m)
    assert rc == 0, out
    assert out["node_id"] == node.node_id
    rc, out = cli(node, sim, "listpeers", pin=m)
    assert rc == 0 and out["peers"] == []


def test_binary_measurement_refused(node, sim):
    # The alightd binary no longer holds the TLS key: pinning it is refused.
    with open(BIN / "alightd", "rb") as f:
        m = hashlib.sha256(f.read()).hexdigest()
    rc, out = cli(node, sim, "getinfo", pin=m)
    assert rc == 1 and "step policy_measurement" in out["error"]["message"]


def test_refusals(node, sim):
    m = image_measurement()
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
    assert data.startswith(b"HTTP/1.1 401") and b"rpc.token" in data
    token = (node.datadir / "rpc.token").read_text().strip()
    assert oct((node.datadir / "rpc.token").stat().st_mode & 0o777) == "0o600"
    _, data = fetch(node, b"GET /v1/getinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    ("0" * 64).encode() + b"\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 401")
    _, data = fetch(node, b"GET /v1/getinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    token.encode() + b"\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200") and node.node_id.encode() in data
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["identity_pubkey"] == node.node_id
    # Malformed HTTP inside the channel: refused by the enclave's parser.
    _, data = fetch(node, b"GET /v1/getinfo HTTP/1.1\nHost: x\n\n")
    assert data.startswith(b"HTTP/1.1 400")


def test_connect_answered_later(node):
    # POST /v1/peers is answered once the dial fails: the pending answer is made and
    # encrypted inside the enclave, never crossing the boundary in plaintext.
    token = (node.datadir / "rpc.token").read_text().strip()
    with refused_port() as port:
        body = json.dumps({"addr": {
            "pubkey": "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
            "host": f"127.0.0.1:{port}"}}).encode()
        _, data = fetch(node, b"POST /v1/peers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                        token.encode() + b"\r\nContent-Length: " + str(len(body)).encode() +
                        b"\r\n\r\n" + body)
    assert data.startswith(b"HTTP/1.1 502"), data
    msg = json.loads(data.split(b"\r\n\r\n", 1)[1])["error"]["message"]
    assert "failed" in msg


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
    assert out["measurement"] == image_measurement() == node.info["measurement"]
    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    ev = cert.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("2.23.133.5.4.9")).value.value
    claims = cbor({"pubkey-hash": [1, hashlib.sha256(spki).digest()]})
    assert ev.endswith(bytes([0x58, len(claims)]) + claims)
    assert out["report_data"] == hashlib.sha256(claims).hexdigest() + "00" * 32
