"""Test fixtures for alight-audit: the real samples in ../shared/attest, and a
generator of *simulated* SGX DCAP evidence (quote v3 + QuoteCollateralV3 JSON)
chained to an "alight simulation root CA — NOT INTEL", plus RA-TLS certificates
carrying such quotes in each convention the verifier knows.

The generator follows the layouts in ../shared/docs/ATTESTATION.md (sgx_quote_3.h,
Intel PCS TCB Info v3 / QE Identity v2, Gramine / Intel / Open Enclave RA-TLS). It
uses the Python `cryptography` package (Debian python3-cryptography)."""
import datetime
import hashlib
import json
import os
import struct
import subprocess

import pytest

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.x509.oid import NameOID
    HAVE_CRYPTO = True
except ImportError:  # pragma: no cover
    HAVE_CRYPTO = False

SIM_ROOT_CN = "alight simulation root CA \u2014 NOT INTEL"
QE_VENDOR = bytes.fromhex("939A7233F79C4CA9940A0DB3957F0607")
QE_MRSIGNER = bytes.fromhex("8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF")
FMSPC = bytes.fromhex("00A067110000")
SIM_TIME = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
SIM_AT = "2030-01-02T03:04:05Z"


def ci():
    return os.environ.get("CI") == "true"


def need(cond, what):
    """A missing oracle or tool fails under CI and skips elsewhere."""
    if cond:
        return
    if ci():
        pytest.fail(f"{what} is missing (CI=true)")
    pytest.skip(f"{what} is missing")


def attest_dir():
    d = os.environ.get("ALIGHT_ATTEST")
    if not d:
        src = os.environ.get("ALIGHT_SOURCE_DIR",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
        d = os.path.join(src, "..", "shared", "attest")
    need(os.path.isdir(d), f"attestation samples ({d})")
    return d


def audit_bin():
    b = os.path.join(os.environ.get("ALIGHT_BIN", ""), "alight-audit")
    need(os.path.exists(b), "alight-audit binary (ALIGHT_BIN)")
    return b


def run_audit(*args, timeout=60):
    """Run `alight-audit attest verify ARGS`; returns (exit code, parsed JSON or None, stderr)."""
    p = subprocess.run([audit_bin(), "attest", "verify", *args], capture_output=True,
                       timeout=timeout)
    out = None
    if p.stdout.strip():
        out = json.loads(p.stdout)
    return p.returncode, out, p.stderr.decode(errors="replace")


# ---- DER helpers for the PCK SGX extension ----

def _der(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + ln + body


def _oid(content):
    return _der(0x06, content)


def _int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return _der(0x02, b)


SGX_OID = bytes.fromhex("2a864886f84d010d01")


def sgx_extension(comp_svn, pcesvn, cpusvn, fmspc=FMSPC, pce_id=b"\x00\x00"):
    tcb = b"".join(_der(0x30, _oid(SGX_OID + bytes([2, i + 1])) + _int(s))
                   for i, s in enumerate(comp_svn))
    tcb += _der(0x30, _oid(SGX_OID + bytes([2, 17])) + _int(pcesvn))
    tcb += _der(0x30, _oid(SGX_OID + bytes([2, 18])) + _der(0x04, cpusvn))
    body = _der(0x30, _oid(SGX_OID + b"\x01") + _der(0x04, bytes(16)))
    body += _der(0x30, _oid(SGX_OID + b"\x02") + _der(0x30, tcb))
    body += _der(0x30, _oid(SGX_OID + b"\x03") + _der(0x04, pce_id))
    body += _der(0x30, _oid(SGX_OID + b"\x04") + _der(0x04, fmspc))
    body += _der(0x30, _oid(SGX_OID + b"\x05") + _der(0x0a, b"\x00"))
    return _der(0x30, body)


# ---- minimal CBOR encoder (definite lengths) ----

def _cbor_head(major, arg):
    if arg < 24:
        return bytes([major << 5 | arg])
    for ai, n in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * n):
            return bytes([major << 5 | ai]) + arg.to_bytes(n, "big")
    raise ValueError(arg)


def cbor(v):
    if isinstance(v, bool):
        return bytes([0xf5 if v else 0xf4])
    if isinstance(v, int):
        return _cbor_head(0, v) if v >= 0 else _cbor_head(1, -1 - v)
    if isinstance(v, bytes):
        return _cbor_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _cbor_head(3, len(b)) + b
    if isinstance(v, list):
        return _cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return _cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


def cbor_tag(tag, v):
    return _cbor_head(6, tag) + cbor(v)


# ---- the simulated platform ----

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "alight simulation")])


def _raw_sig(key, data):
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class SimPlatform:
    """A simulated SGX platform: sim root, PCK CA and leaf, TCB signing cert, CRLs."""

    def __init__(self):
        need(HAVE_CRYPTO, "python3-cryptography")
        nb = SIM_TIME - datetime.timedelta(days=365)
        na = SIM_TIME + datetime.timedelta(days=365)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._cert(_name(SIM_ROOT_CN), self.root_key, None, None, True, nb, na)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = self._cert(_name("alight sim SGX PCK Processor CA"), self.ca_key,
                             self.root, self.root_key, True, nb, na)
        self.tcb_key = ec.generate_private_key(ec.SECP256R1())
        self.tcb = self._cert(_name("alight sim SGX TCB Signing"), self.tcb_key, self.root,
                              self.root_key, False, nb, na)
        self.pck_key = ec.generate_private_key(ec.SECP256R1())
        self.comp_svn = [11, 11, 2, 2, 255, 1, 12] + [0] * 9
        ext = sgx_extension(self.comp_svn, 13, bytes(16))
        self.pck = self._cert(_name("alight sim SGX PCK Certificate"), self.pck_key, self.ca,
                              self.ca_key, False, nb, na,
                              [x509.UnrecognizedExtension(
                                  x509.ObjectIdentifier("1.2.840.113741.1.13.1"), ext)])
        self.root_crl = self._crl(self.root, self.root_key)
        self.pck_crl = self._crl(self.ca, self.ca_key)

    @staticmethod
    def _cert(name, key, issuer, issuer_key, ca, nb, na, exts=()):
        b = (x509.CertificateBuilder().subject_name(name)
             .issuer_name(issuer.subject if issuer else name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(nb).not_valid_after(na)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                              False, False), critical=True)
        for e in exts:
            b = b.add_extension(e, critical=False)
        return b.sign(issuer_key or key, hashes.SHA256())

    @staticmethod
    def _crl(issuer, key):
        return (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
                .last_update(SIM_TIME - datetime.timedelta(days=1))
                .next_update(SIM_TIME + datetime.timedelta(days=30))
                .sign(key, hashes.SHA256()))

    def root_pem(self):
        return _pem(self.root).encode()

    def quote(self, report_data=b"", mrenclave=b"\x11" * 32, mrsigner=b"\x22" * 32, debug=False):
        """An SGX v3 quote with the given REPORTDATA (zero padded to 64)."""
        header = struct.pack("<HHIHH", 3, 2, 0, 10, 15) + QE_VENDOR + bytes(20)
        attrs = struct.pack("<QQ", 0x05 | (0x02 if debug else 0), 0xe7)
        body = (bytes(16) + bytes(4) + bytes(28) + attrs + mrenclave + bytes(32) + mrsigner +
                bytes(96) + struct.pack("<HH", 0, 0) + bytes(60) + report_data.ljust(64, b"\0"))
        assert len(body) == 384
        ak = ec.generate_private_key(ec.SECP256R1())
        nums = ak.public_key().public_numbers()
        ak_raw = nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
        auth = bytes(range(32))
        qe_rd = hashlib.sha256(ak_raw + auth).digest() + bytes(32)
        qe_attrs = bytes.fromhex("11000000000000000000000000000000")
        qe = (bytes(16) + bytes(4) + bytes(28) + qe_attrs + b"\x33" * 32 + bytes(32) +
              QE_MRSIGNER + bytes(96) + struct.pack("<HH", 1, 8) + bytes(60) + qe_rd)
        assert len(qe) == 384
        chain = (_pem(self.pck) + _pem(self.ca) + _pem(self.root)).encode() + b"\0"
        sig_data = (_raw_sig(ak, header + body) + ak_raw + qe + _raw_sig(self.pck_key, qe) +
                    struct.pack("<H", 32) + auth + struct.pack("<HI", 5, len(chain)) + chain)
        return header + body + struct.pack("<I", len(sig_data)) + sig_data

    def collateral(self):
        iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
        issue, nxt = SIM_TIME - datetime.timedelta(days=1), SIM_TIME + datetime.timedelta(days=30)
        tcb = {"id": "SGX", "version": 3, "issueDate": iso(issue), "nextUpdate": iso(nxt),
               "fmspc": FMSPC.hex().upper(), "pceId": "0000", "tcbType": 0,
               "tcbEvaluationDataNumber": 17,
               "tcbLevels": [{"tcb": {"sgxtcbcomponents": [{"svn": s} for s in self.comp_svn],
                                      "pcesvn": 13},
                              "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "UpToDate"}]}
        qe = {"id": "QE", "version": 2, "issueDate": iso(issue), "nextUpdate": iso(nxt),
              "tcbEvaluationDataNumber": 17, "miscselect": "00000000",
              "miscselectMask": "FFFFFFFF", "attributes": "11000000000000000000000000000000",
              "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
              "mrsigner": QE_MRSIGNER.hex().upper(), "isvprodid": 1,
              "tcbLevels": [{"tcb": {"isvsvn": 8}, "tcbDate": "2024-03-13T00:00:00Z",
                             "tcbStatus": "UpToDate"}]}
        tcb_s = json.dumps(tcb, separators=(",", ":"))
        qe_s = json.dumps(qe, separators=(",", ":"))
        issuer = _pem(self.tcb) + _pem(self.root)
        der = serialization.Encoding.DER
        return json.dumps({
            "pck_crl_issuer_chain": _pem(self.ca) + _pem(self.root),
            "root_ca_crl": self.root_crl.public_bytes(der).hex(),
            "pck_crl": self.pck_crl.public_bytes(der).hex(),
            "tcb_info_issuer_chain": issuer,
            "tcb_info": tcb_s,
            "tcb_info_signature": _raw_sig(self.tcb_key, tcb_s.encode()).hex(),
            "qe_identity_issuer_chain": issuer,
            "qe_identity": qe_s,
            "qe_identity_signature": _raw_sig(self.tcb_key, qe_s.encode()).hex(),
        }, indent=2).encode()


# ---- RA-TLS certificates ----

DICE_OID = "2.23.133.5.4.9"
GRAMINE_LEGACY_OID = "0.6.9.42.840.113741.1337.6"  # encodes to 06 09 2A 86 48 86 F8 4D 8A 39 06
INTEL_OID = "1.2.840.113741.1.13.1"
OE_OID = "1.3.6.1.4.1.311.105.1"


def ratls_key():
    return ec.generate_private_key(ec.SECP384R1())


def spki_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def dice_claims(key):
    return cbor({"pubkey-hash": [1, hashlib.sha256(spki_der(key)).digest()]})


def binding(convention, key):
    """The REPORTDATA a quote needs to bind `key` in `convention`."""
    if convention == "dice":
        return hashlib.sha256(dice_claims(key)).digest()
    if convention == "oe":
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(pem + b"\0").digest()
    return hashlib.sha256(spki_der(key)).digest()


def ratls_cert(convention, key, quote):
    """A self-signed certificate carrying `quote` the way `convention` does."""
    if convention == "dice":
        exts = [(DICE_OID, cbor_tag(60000, [quote, dice_claims(key)]))]
    elif convention == "gramine":
        exts = [(GRAMINE_LEGACY_OID, quote)]
    elif convention == "intel":
        exts = [(INTEL_OID, quote)]
    else:
        exts = [(OE_OID, struct.pack("<IIQ", 1, 2, len(quote)) + quote)]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RATLS")])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(1)
         .not_valid_before(datetime.datetime(2001, 1, 1))
         .not_valid_after(datetime.datetime(2030, 12, 31, 23, 59, 59)))
    for oid, val in exts:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), val),
                            critical=False)
    return b.sign(key, hashes.SHA384()).public_bytes(serialization.Encoding.PEM)
