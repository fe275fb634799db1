"""The user channel, terminated inside the enclave: alightd --rpc-listen relays ciphertext to
the TLS 1.3 server in libalight_enclave.so, whose key was made there and whose certificate
carries a simulated quote of the image's measurement (SHA-256 of the .so as loaded, announced as
"measurement"). The client must present a certificate for the credential derived from the
user's seed; the enclave binds the channel to the node whose seed gives that credential.
alight-cli --rpc-connect checks the server's evidence against its policy during the handshake
and sends the request only if it passes.

Oracles: the measurement is recomputed from the image file with hashlib; the server's
certificate is fetched with Python's ssl module and appraised by alight-audit and by an
independent check of the DICE claims binding; the credential is derived again in Python
(Electrum's BIP 39 seed, HKDF and P-256 from python3-cryptography) and accepted by the enclave
from Python's own TLS client; the node id comes back equal to the one provisioned."""
import hashlib
import json
import os
import socket
import ssl
import subprocess

import pytest

from attest_util import HAVE_CRYPTO, cbor, need, run_audit
from conftest import BIN, ZERO_MNEMONIC, refused_port, scaled, sim_dir
from daemon_util import cli as daemon_cli
from daemon_util import daemon_fails, start_daemon

if HAVE_CRYPTO:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.x509.oid import NameOID

CRED_LABEL = b"alight/user-credential/p256/v1"
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture(scope="module")
def sim():
    d = str(sim_dir())
    need(os.path.exists(os.path.join(d, "collateral.json")), f"simulation platform ({d})")
    return d


@pytest.fixture
def node(procs, tmp_path, sim):
    d = start_daemon(procs, tmp_path / "node", "--rpc-listen", "127.0.0.1:0", "--sim-dir", sim,
                     mnemonic=ZERO_MNEMONIC)
    assert d.info["platform"] == "sim"
    return d


def cli(node, sim, *args, pin=None, allow=True, seed=True):
    argv = [str(BIN / "alight-cli"), "--rpc-connect", node.rpc_listen, "--sim-dir", sim]
    if pin is not None:
        argv += ["--measurement", pin]
    if allow:
        argv.append("--allow-simulated")
    if seed:
        argv += ["--seed-file", str(node.seed_file)]
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
    # One measurement: the enclave image's, which the TLS endpoint lives in.
    assert node.measurement == image_measurement()


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
    # No seed: no credential to present.
    rc, out = cli(node, sim, "getinfo", pin=m, seed=False)
    assert rc == 2 and "--seed-file" in out["error"]["message"]
    # The Unix socket still answers (the operator's status).
    assert node.cli("getinfo")["node_id"] == node.node_id


def credential(words):
    """The user's credential, derived again in Python: P-256 from HKDF-SHA256(salt = label,
    ikm = the BIP 39 seed, info = "p256" || counter), the first scalar in range."""
    from electrum import keystore
    seed = keystore.bip39_to_seed(words, "")
    for counter in range(256):
        d = int.from_bytes(HKDF(algorithm=hashes.SHA256(), length=32, salt=CRED_LABEL,
                                info=b"p256" + bytes([counter])).derive(seed), "big")
        if 0 < d < P256_N:
            return ec.derive_private_key(d, ec.SECP256R1())
    raise AssertionError("no scalar")


def client_files(tmp_path, key):
    """A self-signed certificate for key, as files Python's ssl loads."""
    import datetime
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "python user")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    c, k = tmp_path / "client.pem", tmp_path / "client.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return str(c), str(k)


def fetch(node, request=None, client=None):
    """Python's TLS client (no evidence check: the server certificate is returned for the
    tests to appraise); client: (cert file, key file) presented, or none."""
    host, _, port = node.rpc_listen.rpartition(":")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if client:
        ctx.load_cert_chain(*client)
    with socket.create_connection((host, int(port)), timeout=scaled(10)) as s:
        with ctx.wrap_socket(s) as t:
            assert t.version() == "TLSv1.3"
            der = t.getpeercert(binary_form=True)
            data = b""
            if request is not None:
                t.sendall(request)
                while True:
                    try:
                        chunk = t.recv(65536)
                    except (ssl.SSLError, ConnectionResetError):
                        break
                    if not chunk:
                        break
                    data += chunk
            return der, data


def test_credential_required(node, tmp_path, electrum_available):
    need(HAVE_CRYPTO, "python3-cryptography")
    req = b"GET /v1/getinfo HTTP/1.1\r\nHost: x\r\n\r\n"
    # No client certificate: the enclave ends the handshake; no answer.
    _, data = fetch(node, req)
    assert not data.startswith(b"HTTP/1.1 200")
    # A key that is no node's credential: 401.
    other = client_files(tmp_path, ec.generate_private_key(ec.SECP256R1()))
    _, data = fetch(node, req, client=other)
    assert data.startswith(b"HTTP/1.1 401"), data
    # The seed's credential, derived here independently: the user's node answers.
    mine = client_files(tmp_path, credential(ZERO_MNEMONIC))
    _, data = fetch(node, req, client=mine)
    assert data.startswith(b"HTTP/1.1 200"), data
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["identity_pubkey"] == node.node_id
    # Malformed HTTP inside the channel: refused by the enclave's parser.
    _, data = fetch(node, b"GET /v1/getinfo HTTP/1.1\nHost: x\n\n", client=mine)
    assert data.startswith(b"HTTP/1.1 400")


def test_connect_answered_later(node, tmp_path, electrum_available):
    # POST /v1/peers is answered once the dial fails: the pending answer is made and
    # encrypted inside the enclave, never crossing the boundary in plaintext.
    need(HAVE_CRYPTO, "python3-cryptography")
    mine = client_files(tmp_path, credential(ZERO_MNEMONIC))
    with refused_port() as port:
        body = json.dumps({"addr": {
            "pubkey": "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
            "host": f"127.0.0.1:{port}"}}).encode()
        _, data = fetch(node, b"POST /v1/peers HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                        str(len(body)).encode() + b"\r\n\r\n" + body, client=mine)
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
    assert out["measurement"] == image_measurement() == node.measurement
    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    ev = cert.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("2.23.133.5.4.9")).value.value
    claims = cbor({"pubkey-hash": [1, hashlib.sha256(spki).digest()]})
    assert ev.endswith(bytes([0x58, len(claims)]) + claims)
    assert out["report_data"] == hashlib.sha256(claims).hexdigest() + "00" * 32


def test_decodepayreq(node, sim, electrum_available):
    """decodepayreq through the user channel: an invoice made by Electrum's own BOLT 11
    encoder (lnaddr.lnencode, regtest) comes back in LND's PayReq shape with every field
    Electrum's decoder reads from it; a mainnet invoice and a corrupted one are refused with
    the decoder's errors; the operator's socket is refused. The invoice (1,000+ characters
    with a route hint) also exercises request targets longer than the enclave used to take."""
    import base64
    from decimal import Decimal

    from electrum import bitcoin, constants, ecc
    from electrum.lnaddr import LnAddr, lndecode, lnencode

    priv = bytes(range(1, 33))
    pub = ecc.ECPrivkey(priv).get_public_key_bytes()
    phash, secret = bytes([7]) * 32, bytes([0xfb]) * 32
    hop = bytes.fromhex("029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255")
    features = (1 << 8) | (1 << 14) | (1 << 17)

    def invoice(net, fallback, desc):
        tags = [("d", desc), ("x", 600), ("c", 40),
                ("r", [(hop, bytes.fromhex("0102030405060708"), 1000, 200, 144)] * 4),
                ("9", features)]
        if fallback:
            tags.append(("f", fallback))
        return lnencode(LnAddr(paymenthash=phash, amount=Decimal("0.00123456"), net=net,
                               tags=tags, date=1700000000, payment_secret=secret), priv)

    m = image_measurement()
    net = constants.BitcoinRegtest
    fallback = bitcoin.pubkey_to_address("p2wpkh", pub.hex(), net=net)
    inv = invoice(net, fallback, "coffee \u2615 " * 30)
    assert len(inv) > 1000
    ref = lndecode(inv, net=net)
    rc, out = cli(node, sim, "decodepayreq", inv, pin=m)
    assert rc == 0, out
    assert out["destination"] == ref.pubkey.serialize().hex() == pub.hex()
    assert out["payment_hash"] == ref.paymenthash.hex()
    assert out["num_satoshis"] == "123456" and out["num_msat"] == "123456000"
    assert int(out["num_msat"]) == ref.get_amount_msat()
    assert out["timestamp"] == str(ref.date) and out["expiry"] == str(ref.get_expiry())
    assert out["cltv_expiry"] == str(ref.get_min_final_cltv_expiry()) == "40"
    assert out["description"] == ref.get_description()
    assert out["fallback_addr"] == ref.get_fallback_address() == fallback
    assert base64.b64decode(out["payment_addr"]) == ref.payment_secret
    hints = [h for k, h in ref.tags if k == "r"][0]
    assert [[(x["node_id"], int(x["chan_id"]), x["fee_base_msat"],
              x["fee_proportional_millionths"], x["cltv_expiry_delta"])
             for x in r["hop_hints"]] for r in out["route_hints"]] == \
        [[(p.hex(), int.from_bytes(c, "big"), fb, fr, cl) for p, c, fb, fr, cl in hints]]
    assert {int(b) for b in out["features"]} == {8, 14, 17}
    assert out["features"]["17"] == {"name": "basic_mpp", "is_required": False,
                                     "is_known": True}

    # Mainnet (Electrum's constants are global: only the encoder's net changes).
    rc, out = cli(node, sim, "decodepayreq", invoice(constants.BitcoinMainnet, None, "x"),
                  pin=m)
    assert rc == 1 and out["error"]["code"] == "AL_E_INV_PREFIX", out
    bad = inv[:50] + ("q" if inv[50] != "q" else "p") + inv[51:]
    rc, out = cli(node, sim, "decodepayreq", bad, pin=m)
    assert rc == 1 and out["error"]["code"] == "AL_E_B32_CHECKSUM", out
    # The operator's socket does not serve the user's routes.
    rc, out = daemon_cli("decodepayreq", inv, datadir=node.datadir)
    assert rc == 1 and "only the user" in out["error"]["message"], out


def test_invoices_read_by_electrum(node, sim, electrum_available):
    """addinvoice through the user channel: the payment request the enclave signed is read by
    Electrum's own BOLT 11 decoder (lnaddr.lndecode, signature recovered) as an invoice of this
    node for the amount, memo and expiry asked, with the payment secret the node reports; the
    preimage the user is shown hashes to its payment hash; listinvoices and lookupinvoice find
    it; the operator's socket may not make one."""
    import base64
    import hashlib

    from electrum import constants
    from electrum.lnaddr import lndecode

    m = image_measurement()
    rc, out = cli(node, sim, "addinvoice", "1234", "--memo", "tea \u2615", "--expiry", "900",
                  pin=m)
    assert rc == 0, out
    req = out["payment_request"]
    assert req.startswith("lnbcrt12340n1")
    addr = lndecode(req, net=constants.BitcoinRegtest)
    assert addr.pubkey.serialize().hex() == node.node_id
    assert addr.get_amount_sat() == 1234 and addr.get_description() == "tea \u2615"
    assert addr.get_expiry() == 900 and addr.get_min_final_cltv_expiry() == 40
    assert addr.payment_secret == base64.b64decode(out["payment_addr"])
    assert addr.paymenthash == base64.b64decode(out["r_hash"])
    rc, inv = cli(node, sim, "lookupinvoice", addr.paymenthash.hex(), pin=m)
    assert rc == 0 and inv["payment_request"] == req and inv["state"] == "OPEN", inv
    assert hashlib.sha256(base64.b64decode(inv["r_preimage"])).digest() == addr.paymenthash
    rc, lst = cli(node, sim, "listinvoices", pin=m)
    assert rc == 0 and [i["payment_request"] for i in lst["invoices"]] == [req]
    rc, out = daemon_cli("addinvoice", "1", datadir=node.datadir)
    assert rc == 1 and "only the user" in out["error"]["message"], out
