"""Platform `sim`: quotes and RA-TLS certificates from the C generator
(src/enclave/sim_quote.c, ratls.c, driven by tests/tools/sim_quote_tool) with the
simulation platform scripts/sim-root made in <build>/sim, checked three ways:

- alight-audit: simulated evidence is labelled simulated, contraindicated at step
  `simulated` without --allow-simulated, a warning with it (or with a policy that
  allows it), and contraindicated after byte flips, under the wrong root, with a
  debug enclave or another measurement pinned;
- independently in Python (`cryptography`): the SGX v3 layout field by field, the
  quote signature, the QE report signature by the PCK leaf, the QE report binding,
  and the DICE extension / claims / report data of the RA-TLS certificate, byte for
  byte against attest_util's own CBOR encoder;
- structurally against attest_util.SimPlatform's independent quote generator."""
import hashlib
import json
import os
import struct
import subprocess

import pytest

from attest_util import (HAVE_CRYPTO, SimPlatform, cbor, need, run_audit)

if HAVE_CRYPTO:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

DICE_OID = "2.23.133.5.4.9"
MRENCLAVE = "5a" * 32
MRSIGNER = "a5" * 32


@pytest.fixture(scope="module")
def sim():
    bindir = os.environ.get("ALIGHT_BIN", "")
    d = os.path.join(os.path.dirname(bindir.rstrip("/")), "sim")
    need(os.path.exists(os.path.join(d, "collateral.json")), f"simulation platform ({d})")
    need(HAVE_CRYPTO, "python3-cryptography")
    return d


def tool():
    t = os.path.join(os.environ.get("ALIGHT_TEST_TOOLS", ""), "sim_quote_tool")
    need(os.path.exists(t), "sim_quote_tool (ALIGHT_TEST_TOOLS)")
    return t


def make(sim, tmp_path, kind, *opts, name=None):
    out = tmp_path / (name or f"{kind}.out")
    subprocess.run([tool(), kind, sim, str(out), *opts], check=True, timeout=60)
    return str(out)


def audit(sim, path, *extra, root=True):
    args = ["--evidence", path, "--collateral", os.path.join(sim, "collateral.json")]
    if root:
        args += ["--root", os.path.join(sim, "root.pem")]
    return run_audit(*args, *extra)


def steps(out):
    return [f["step"] for f in out["failures"]]


@pytest.fixture(scope="module")
def quote_file(sim, tmp_path_factory):
    d = tmp_path_factory.mktemp("q")
    return make(sim, d, "quote", "--mrenclave", MRENCLAVE, "--mrsigner", MRSIGNER,
                "--prodid", "3", "--svn", "2", "--report-data", "c0ffee")


def test_simulated_needs_permission(sim, quote_file):
    rc, out, _ = audit(sim, quote_file)
    assert rc == 2 and out["status"] == "contraindicated"
    assert out["simulated"] is True and steps(out) == ["simulated"]
    rc, out, _ = audit(sim, quote_file, "--allow-simulated")
    assert rc == 1 and out["status"] == "warning" and out["simulated"] is True
    assert out["failures"] == [] and out["evidence_type"] == "sgx-dcap-quote-v3"
    assert out["tcb_status"] == "UpToDate" and out["qe_tcb_status"] == "UpToDate"
    assert out["measurement"] == MRENCLAVE and out["signer"] == MRSIGNER
    assert out["sgx"]["isvprodid"] == 3 and out["sgx"]["isvsvn"] == 2
    assert out["report_data"] == "c0ffee" + "00" * 61
    assert out["debug"] is False


def test_policy(sim, quote_file, tmp_path):
    pol = tmp_path / "p.json"
    pol.write_text(json.dumps({"allow_simulated": True, "allowed_measurements": [MRENCLAVE]}))
    rc, out, _ = audit(sim, quote_file, "--policy", str(pol))
    assert rc == 1 and out["status"] == "warning" and out["simulated"]
    pol.write_text(json.dumps({"allow_simulated": True, "allowed_measurements": ["5b" * 32]}))
    rc, out, _ = audit(sim, quote_file, "--policy", str(pol))
    assert rc == 2 and steps(out) == ["policy_measurement"]


def test_debug_enclave(sim, tmp_path):
    q = make(sim, tmp_path, "quote", "--debug")
    rc, out, _ = audit(sim, q, "--allow-simulated")
    assert rc == 2 and out["debug"] is True and steps(out) == ["policy_debug"]


def test_roots(sim, quote_file, tmp_path):
    # No --root: the chain ends at a root that is not pinned.
    rc, out, _ = audit(sim, quote_file, "--allow-simulated", root=False)
    assert rc == 2 and steps(out)[0] == "pck_chain"
    # Another simulation root (same name, another key) is not this platform's.
    other = tmp_path / "other.pem"
    other.write_bytes(SimPlatform().root_pem())
    rc, out, _ = run_audit("--evidence", quote_file, "--collateral",
                           os.path.join(sim, "collateral.json"), "--root", str(other),
                           "--allow-simulated")
    assert rc == 2 and steps(out)[0] == "pck_chain"
    # A root that is neither Intel's nor named as the simulation root is refused.
    rc, out, _ = run_audit("--evidence", quote_file, "--collateral",
                           os.path.join(sim, "collateral.json"), "--root",
                           os.path.join(sim, "pck_ca.pem"), "--allow-simulated")
    assert rc == 2 and steps(out)[0] == "trust_anchor"


def test_byte_flips(sim, quote_file, tmp_path):
    q = open(quote_file, "rb").read()
    # Every 7th byte of the header, body, signature, attestation key, QE report, its
    # signature and auth data, and a sample of the certification data.
    positions = list(range(0, 1052, 7)) + list(range(1052, len(q) - 1, 97))
    bad = tmp_path / "flip.bin"
    for pos in positions:
        b = bytearray(q)
        b[pos] ^= 0x40
        bad.write_bytes(bytes(b))
        rc, out, _ = audit(sim, str(bad), "--allow-simulated")
        assert rc == 2, f"flip at {pos} accepted"
        assert out is None or out["status"] == "contraindicated"


def pub_xy(key):
    n = key.public_numbers()
    return n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")


def verify_raw(pub, sig, data):
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    pub.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))


def test_layout_independent(sim, quote_file):
    """sgx_quote_3.h, read with Python only (ATTESTATION.md 1.2/1.3)."""
    q = open(quote_file, "rb").read()
    version, key_type, tee, qe_svn, pce_svn = struct.unpack_from("<HHIHH", q, 0)
    assert (version, key_type, tee) == (3, 2, 0)
    assert (qe_svn, pce_svn) == (8, 13)
    assert q[12:28] == bytes.fromhex("939A7233F79C4CA9940A0DB3957F0607")
    assert q[28:48].rstrip(b"\0") == b"alight-sim-qe"
    body = q[48:432]
    assert body[64:96].hex() == MRENCLAVE and body[128:160].hex() == MRSIGNER
    assert struct.unpack_from("<HH", body, 256) == (3, 2)
    assert struct.unpack_from("<QQ", body, 48) == (0x05, 0x03)
    assert body[320:323] == bytes.fromhex("c0ffee") and body[323:] == bytes(61)
    for lo, hi in ((20, 48), (96, 128), (160, 256), (260, 320)):
        assert body[lo:hi] == bytes(hi - lo), "reserved bytes must be zero"
    (sig_len,) = struct.unpack_from("<I", q, 432)
    assert sig_len == len(q) - 436
    sig, ak, qe, qe_sig = q[436:500], q[500:564], q[564:948], q[948:1012]
    (auth_len,) = struct.unpack_from("<H", q, 1012)
    assert auth_len == 32 and q[1014:1046] == bytes(range(32))
    cert_type, cert_len = struct.unpack_from("<HI", q, 1046)
    assert cert_type == 5 and 1052 + cert_len == len(q)
    chain = q[1052:]
    assert chain[-1:] == b"\0"
    assert chain[:-1] == open(os.path.join(sim, "pck_chain.pem"), "rb").read()
    # The signatures and the QE binding.
    ak_pub = ec.EllipticCurvePublicNumbers(int.from_bytes(ak[:32], "big"),
                                           int.from_bytes(ak[32:], "big"),
                                           ec.SECP256R1()).public_key()
    verify_raw(ak_pub, sig, q[:432])
    attest_key = serialization.load_pem_private_key(
        open(os.path.join(sim, "attest_key.pem"), "rb").read(), None)
    assert pub_xy(attest_key.public_key()) == ak
    pck = x509.load_pem_x509_certificate(chain[:-1])
    verify_raw(pck.public_key(), qe_sig, qe)
    assert qe[320:352] == hashlib.sha256(ak + bytes(range(32))).digest()
    assert qe[352:384] == bytes(32)
    assert qe[128:160] == hashlib.sha256(
        "alight simulated quoting enclave \u2014 NOT INTEL".encode()).digest()
    assert struct.unpack_from("<HH", qe, 256) == (1, 8)


def test_layout_matches_attest_util(quote_file):
    """Same structure as attest_util's independent generator: the fixed part is
    1052 bytes, the same fields at the same offsets, and both quotes split alike."""
    ours = open(quote_file, "rb").read()
    theirs = SimPlatform().quote(report_data=b"\xc0\xff\xee")
    for q in (ours, theirs):
        assert struct.unpack_from("<HHI", q, 0) == (3, 2, 0)
        assert struct.unpack_from("<I", q, 432)[0] == len(q) - 436
        assert struct.unpack_from("<H", q, 1012)[0] == 32
        assert struct.unpack_from("<H", q, 1046)[0] == 5
        assert struct.unpack_from("<I", q, 1048)[0] == len(q) - 1052
        assert q[-1:] == b"\0" and q[1052:1052 + 27] == b"-----BEGIN CERTIFICATE-----"
    assert ours[12:28] == theirs[12:28]                  # QE vendor id
    assert ours[48 + 320:432] == theirs[48 + 320:432]    # report data
    assert ours[1014:1046] == theirs[1014:1046]          # QE auth data


def dice(cert):
    return cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(DICE_OID)).value.value


def cbor_bstr_at(buf, i):
    """(bytes, next index) of the CBOR byte string at buf[i] (major type 2)."""
    ai = buf[i] & 0x1f
    assert buf[i] >> 5 == 2
    if ai < 24:
        n, i = ai, i + 1
    else:
        w = 1 << (ai - 24)
        n, i = int.from_bytes(buf[i + 1:i + 1 + w], "big"), i + 1 + w
    return buf[i:i + n], i + n


def test_ratls_certificate(sim, tmp_path):
    path = make(sim, tmp_path, "cert", "--mrenclave", MRENCLAVE, name="c.pem")
    rc, out, _ = audit(sim, path, "--allow-simulated")
    assert rc == 1 and out["status"] == "warning" and out["simulated"] and out["bound"]
    assert out["container"] == "x509-tcg-dice-tagged-evidence"
    assert out["measurement"] == MRENCLAVE
    rc, out, _ = audit(sim, path)
    assert rc == 2 and steps(out) == ["simulated"]
    # Independently: self-signed by its P-256 key; #6.60000([quote, claims]).
    cert = x509.load_pem_x509_certificate(open(path, "rb").read())
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                             ec.ECDSA(hashes.SHA256()))
    ev = dice(cert)
    assert ev[:4] == bytes.fromhex("d9ea6082")
    quote, i = cbor_bstr_at(ev, 4)
    claims, i = cbor_bstr_at(ev, i)
    assert i == len(ev)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    assert claims == cbor({"pubkey-hash": [1, hashlib.sha256(spki).digest()]})
    assert quote[48 + 320:432] == hashlib.sha256(claims).digest() + bytes(32)
    assert quote[48 + 64:48 + 96].hex() == MRENCLAVE


def test_platform_defaults(sim, tmp_path):
    """Without overrides: MRSIGNER = SHA-256(DER SPKI of enclave_signer.pem), product
    id and security version from the build metadata (1 and 1)."""
    q = make(sim, tmp_path, "quote")
    pub = serialization.load_pem_public_key(open(os.path.join(sim, "enclave_signer.pem"),
                                                 "rb").read())
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    rc, out, _ = audit(sim, q, "--allow-simulated")
    assert rc == 1 and out["signer"] == hashlib.sha256(der).hexdigest()
    assert out["sgx"]["isvprodid"] == 1 and out["sgx"]["isvsvn"] == 1


def test_ratls_wrong_key(sim, tmp_path):
    path = make(sim, tmp_path, "cert", "--mismatch", name="m.pem")
    rc, out, _ = audit(sim, path, "--allow-simulated")
    assert rc == 2 and out["bound"] is False and steps(out) == ["ratls_binding"]
