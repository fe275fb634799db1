"""alight-audit attest verify: the real samples at their stated times (oracle:
../shared/attest/README.md and EXPECTED.json), exit codes, usage errors, policies,
simulated evidence and RA-TLS certificates (generated in attest_util)."""
import json
import os

import pytest

from attest_util import (SIM_AT, SimPlatform, attest_dir, binding, ratls_cert, ratls_key,
                         run_audit)


@pytest.fixture(scope="module")
def samples():
    return attest_dir()


def p(samples, rel):
    return os.path.join(samples, rel)


@pytest.fixture(scope="module")
def sim():
    return SimPlatform()


@pytest.fixture
def write(tmp_path):
    def w(name, data):
        path = tmp_path / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return str(path)
    return w


def steps(out):
    return [f["step"] for f in out["failures"]]


def test_expected_dcap_samples(samples):
    expected = json.load(open(p(samples, "EXPECTED.json")))
    for e in expected:
        rc, out, _ = run_audit("--evidence", p(samples, e["file"]), "--collateral",
                               p(samples, e["collateral"]), "--at", e["verify_time_utc"])
        want = e["expected_platform_tcb_status"]
        assert out["tcb_status"] == want and out["platform_tcb_status"] == want
        assert sorted(out["advisory_ids"]) == sorted(e["expected_advisory_ids"])
        assert out["report_data"] == e["report_data"]
        assert out["failures"] == [] and not out["debug"] and not out["simulated"]
        if want == "UpToDate":
            assert rc == 0 and out["status"] == "affirming"
        else:
            assert rc == 1 and out["status"] == "warning"
        if "mrenclave" in e:
            assert out["measurement"] == e["mrenclave"] and out["signer"] == e["mrsigner"]
            assert out["qe_tcb_status"] == e["expected_qe_tcb_status"]
            assert out["sgx"]["attributes"] == e["attributes"]
            assert out["evidence_type"] == "sgx-dcap-quote-v3"
        else:
            assert out["measurement"] == e["mrtd"]
            assert out["tdx"]["rtmr"][0] == e["rtmr0"]
            assert out["tdx"]["tee_tcb_svn"] == e["tee_tcb_svn"]
            assert out["evidence_type"] == "tdx-dcap-quote-v4"
        assert out["submods"][out["evidence_type"]]["ear.status"] == out["status"]


def test_dcap_sample_outside_its_window(samples):
    rc, out, _ = run_audit("--evidence", p(samples, "sgx/dcapqvl_sgx_quote.bin"),
                           "--collateral", p(samples, "sgx/dcapqvl_sgx_quote_collateral.json"))
    assert rc == 2 and out["status"] == "contraindicated"
    assert steps(out)[0] == "pck_chain"


def snp_args(samples):
    return ["--evidence", p(samples, "snp/gosev_attestation.bin"), "--vcek",
            p(samples, "snp/gosev_vcek.der"), "--ask-ark", p(samples, "snp/amd_ask_ark_milan.pem")]


def test_snp_default_policy_rejects_debug(samples):
    rc, out, _ = run_audit(*snp_args(samples))
    assert rc == 2 and out["status"] == "contraindicated" and out["debug"]
    assert steps(out) == ["policy_debug"]
    assert out["snp"]["policy"] == "0xb0000" and out["snp"]["version"] == 2
    assert out["snp"]["reported_tcb"] == {"bl": 2, "tee": 0, "snp": 5, "ucode": 68}
    assert out["measurement"] == ("b07af9620f3b839b47996422ddec6058338951d984e312115131ea8270"
                                  "5eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01")
    assert out["report_data"] == "0102030405" + "00" * 59


def test_snp_policy_allowing_debug(samples, write):
    pol = write("p.json", '{"allow_debug": true}')
    rc, out, _ = run_audit(*snp_args(samples), "--policy", pol)
    assert rc == 1 and out["status"] == "warning" and out["failures"] == []
    # ... but not a TCB below the policy's minimum.
    pol = write("q.json", '{"allow_debug": true, "min_snp_tcb": '
                          '{"bl": 2, "tee": 0, "snp": 6, "ucode": 68}}')
    rc, out, _ = run_audit(*snp_args(samples), "--policy", pol)
    assert rc == 2 and steps(out) == ["policy_tcb"]


def test_snp_wrong_product_chain(samples):
    rc, out, _ = run_audit("--evidence", p(samples, "snp/gosev_attestation.bin"), "--vcek",
                           p(samples, "snp/gosev_vcek.der"), "--ask-ark",
                           p(samples, "snp/amd_ask_ark_genoa.pem"))
    assert rc == 2 and steps(out)[0] == "vcek_chain"


@pytest.mark.parametrize("token,profile", [("tfm_psa-2_0_0_sign1.bin", "http://arm.com/psa/2.0.0"),
                                           ("tfm_psa-iot-1_sign1.bin", "PSA_IOT_PROFILE_1")])
def test_psa_tokens(samples, token, profile):
    rc, out, _ = run_audit("--evidence", p(samples, "psa/" + token), "--key",
                           p(samples, "psa/tfm_public.pem"))
    assert rc == 0 and out["status"] == "affirming" and out["psa"]["profile"] == profile
    assert out["psa"]["security_lifecycle"] == 0x3000
    assert out["evidence_type"] == "psa-token"


def test_psa_mac0_refused(samples):
    rc, out, _ = run_audit("--evidence", p(samples, "psa/tfm_psa-2_0_0_mac0.bin"), "--key",
                           p(samples, "psa/tfm_public.pem"))
    assert rc == 2 and steps(out) == ["cose_format"]


def test_policy_measurement_and_signer(samples, write):
    args = ["--evidence", p(samples, "sgx/dcapqvl_sgx_quote.bin"), "--collateral",
            p(samples, "sgx/dcapqvl_sgx_quote_collateral.json"), "--at", "2025-06-19T10:56:12Z"]
    mre = "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
    ok = write("ok.json", json.dumps({"allowed_measurements": [mre]}))
    rc, out, _ = run_audit(*args, "--policy", ok)
    assert rc == 1 and out["failures"] == []
    bad = write("bad.json", json.dumps({"allowed_measurements": ["00" * 32],
                                        "allowed_signers": ["11" * 32]}))
    rc, out, _ = run_audit(*args, "--policy", bad)
    assert rc == 2 and steps(out) == ["policy_measurement", "policy_signer"]
    strict = write("strict.json", '{"min_tcb_status": "UpToDate"}')
    rc, out, _ = run_audit(*args, "--policy", strict)
    assert rc == 2 and steps(out) == ["policy_tcb"]


def test_usage_errors(samples, write):
    q = p(samples, "sgx/dcapqvl_sgx_quote.bin")
    bad_policy = write("bad.json", '{"allow_debug": "yes"}')
    cases = [
        [],
        ["--evidence"],
        ["--collateral", q],
        ["--evidence", q, "--bogus"],
        ["--evidence", "/nonexistent/quote.bin"],
        ["--evidence", q, "--at", "yesterday"],
        ["--evidence", q, "--at", "2025-06-19T10:56:12+01:00"],
        ["--evidence", q],  # a quote needs its collateral
        ["--evidence", q, "--collateral", p(samples, "sgx/dcapqvl_sgx_quote_collateral.json"),
         "--policy", bad_policy],
        ["--evidence", p(samples, "snp/gosev_attestation.bin")],  # no VCEK
        ["--evidence", p(samples, "snp/gosev_attestation.bin"), "--vcek",
         p(samples, "snp/gosev_vcek.der")],  # --vcek without --ask-ark
        ["--evidence", p(samples, "psa/tfm_psa-2_0_0_sign1.bin")],  # no key
    ]
    for args in cases:
        rc, out, err = run_audit(*args)
        assert rc == 3, (args, rc, err)
        assert out is None and err
    import subprocess
    from attest_util import audit_bin
    assert subprocess.run([audit_bin()], capture_output=True).returncode == 3
    assert subprocess.run([audit_bin(), "attest", "check"], capture_output=True).returncode == 3


def test_simulated_quote(sim, write):
    quote = write("sim.bin", sim.quote(b"sim report data"))
    col = write("sim.json", sim.collateral())
    root = write("simroot.pem", sim.root_pem())
    base = ["--evidence", quote, "--collateral", col, "--at", SIM_AT]
    rc, out, _ = run_audit(*base, "--root", root)
    assert rc == 2 and out["simulated"] and steps(out) == ["simulated"]
    rc, out, _ = run_audit(*base, "--root", root, "--allow-simulated")
    assert rc == 1 and out["status"] == "warning" and out["simulated"]
    assert out["failures"] == [] and out["tcb_status"] == "UpToDate"
    assert out["report_data"].startswith(b"sim report data".hex())
    pol = write("sim-policy.json", '{"allow_simulated": true}')
    rc, out, _ = run_audit(*base, "--root", root, "--policy", pol)
    assert rc == 1 and out["simulated"]
    # Without the pinned simulation root the chain ends at an unknown root.
    rc, out, _ = run_audit(*base, "--allow-simulated")
    assert rc == 2 and steps(out)[0] == "pck_chain" and not out["simulated"]
    # A debug enclave under the simulation root still needs allow_debug.
    dq = write("simdbg.bin", sim.quote(debug=True))
    rc, out, _ = run_audit("--evidence", dq, "--collateral", col, "--at", SIM_AT, "--root",
                           root, "--allow-simulated")
    assert rc == 2 and out["debug"] and steps(out) == ["policy_debug"]


def test_simulated_quote_other_sim_root(sim, write):
    other = SimPlatform()
    quote = write("sim.bin", sim.quote())
    col = write("sim.json", sim.collateral())
    root = write("other.pem", other.root_pem())
    rc, out, _ = run_audit("--evidence", quote, "--collateral", col, "--at", SIM_AT, "--root",
                           root, "--allow-simulated")
    assert rc == 2 and steps(out)[0] == "pck_chain"


@pytest.mark.parametrize("convention,container", [
    ("dice", "x509-tcg-dice-tagged-evidence"), ("gramine", "x509-gramine-legacy"),
    ("intel", "x509-intel-sgx-quote"), ("oe", "x509-open-enclave")])
def test_ratls_conventions(sim, write, convention, container):
    col = write("sim.json", sim.collateral())
    root = write("simroot.pem", sim.root_pem())
    key = ratls_key()
    cert = write("cert.pem", ratls_cert(convention, key, sim.quote(binding(convention, key))))
    args = ["--collateral", col, "--at", SIM_AT, "--root", root, "--allow-simulated"]
    rc, out, _ = run_audit("--evidence", cert, *args)
    assert rc == 1 and out["bound"] and out["container"] == container, out["failures"]
    assert out["simulated"] and out["failures"] == []
    # The same quote in a certificate for another key does not bind it.
    other = ratls_key()
    cert2 = write("cert2.pem", ratls_cert(convention, other, sim.quote(binding(convention, key))))
    rc, out, _ = run_audit("--evidence", cert2, *args)
    assert rc == 2 and not out["bound"] and steps(out) == ["ratls_binding"]


def test_ratls_with_real_quote(samples, write):
    """A real quote in a Gramine certificate verifies, but cannot bind the key."""
    from attest_util import HAVE_CRYPTO, need
    need(HAVE_CRYPTO, "python3-cryptography")
    quote = open(p(samples, "sgx/dcapqvl_sgx_quote.bin"), "rb").read()
    cert = write("real.pem", ratls_cert("gramine", ratls_key(), quote))
    rc, out, _ = run_audit("--evidence", cert, "--collateral",
                           p(samples, "sgx/dcapqvl_sgx_quote_collateral.json"), "--at",
                           "2025-06-19T10:56:12Z")
    assert rc == 2 and steps(out) == ["ratls_binding"]
    assert out["tcb_status"] == "ConfigurationAndSWHardeningNeeded" and not out["simulated"]
