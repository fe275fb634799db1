"""The channel engine's messages against Electrum 4.3.4's own code (the live interop
peer, unmodified): every BOLT #2 message two alight engines send over a channel's
life (tests/tools/chan_msgs: opening, update_fee 45001, payments both ways, a
reconnection with channel_reestablish, the cooperative close) must decode with
Electrum's codec (electrum.lnmsg over its lnwire/peer_wire.csv) into the same
message names, and our open_channel / accept_channel parameters must pass the
checks Electrum applies to a peer's (lnutil.ChannelConfig.validate_params, as
lnpeer.py calls it for a RemoteConfig): to_self_delay <= 2016, dust 354..1000,
reserve <= 1% of the funding, htlc_minimum_msat <= 1000, max_accepted_htlcs 5..483,
max_htlc_value_in_flight_msat large enough, valid keys."""
import json
import os
import subprocess
from pathlib import Path

import pytest

TOOLS = Path(os.environ.get("ALIGHT_TEST_TOOLS") or
             Path(__file__).resolve().parents[2] / "build" / "tests" / "tools")

# Electrum 4.3.4 calls type 36 funding_locked.
NAMES = {36: "funding_locked"}


@pytest.fixture(scope="module")
def messages(electrum_available):
    tool = TOOLS / "chan_msgs"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build the tests")
    out = subprocess.run([str(tool)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    flows = {l["flow"]: l for l in lines if "funding" in l}
    msgs = [l for l in lines if "hex" in l]
    return flows, msgs


def test_electrum_decodes_every_message(messages):
    from electrum.lnmsg import decode_msg
    _, msgs = messages
    seen = set()
    for m in msgs:
        raw = bytes.fromhex(m["hex"])
        typ = int.from_bytes(raw[:2], "big")
        name, payload = decode_msg(raw)
        assert name == NAMES.get(typ, name)
        seen.add(name)
        if name == "closing_signed":
            # fee_range, as Electrum's modern negotiation expects
            r = payload["closing_signed_tlvs"]["fee_range"]
            assert r["min_fee_satoshis"] <= payload["fee_satoshis"] <= r["max_fee_satoshis"] or \
                m["from"] != m["funder"]
        if name == "channel_reestablish":
            assert len(payload["your_last_per_commitment_secret"]) == 32
            assert len(payload["my_current_per_commitment_point"]) == 33
        if name == "update_fee":
            assert payload["feerate_per_kw"] == 45001
    assert seen >= {"open_channel", "accept_channel", "funding_created", "funding_signed",
                    "funding_locked", "update_add_htlc", "update_fulfill_htlc",
                    "update_fail_htlc", "commitment_signed", "revoke_and_ack", "update_fee",
                    "channel_reestablish", "shutdown", "closing_signed"}, seen


def _remote_config(payload, initial_msat):
    from electrum.lnutil import OnlyPubkeyKeypair, RemoteConfig
    return RemoteConfig(
        payment_basepoint=OnlyPubkeyKeypair(payload["payment_basepoint"]),
        multisig_key=OnlyPubkeyKeypair(payload["funding_pubkey"]),
        htlc_basepoint=OnlyPubkeyKeypair(payload["htlc_basepoint"]),
        delayed_basepoint=OnlyPubkeyKeypair(payload["delayed_payment_basepoint"]),
        revocation_basepoint=OnlyPubkeyKeypair(payload["revocation_basepoint"]),
        to_self_delay=payload["to_self_delay"],
        dust_limit_sat=payload["dust_limit_satoshis"],
        max_htlc_value_in_flight_msat=payload["max_htlc_value_in_flight_msat"],
        max_accepted_htlcs=payload["max_accepted_htlcs"],
        initial_msat=initial_msat,
        reserve_sat=payload["channel_reserve_satoshis"],
        htlc_minimum_msat=payload["htlc_minimum_msat"],
        next_per_commitment_point=payload["first_per_commitment_point"],
        current_per_commitment_point=None,
        upfront_shutdown_script=b"",
    )


def test_electrum_accepts_our_parameters(messages):
    from electrum.lnmsg import decode_msg
    flows, msgs = messages
    checked = 0
    for m in msgs:
        name, payload = decode_msg(bytes.fromhex(m["hex"]))
        f = flows[m["flow"]]
        if name == "open_channel":
            # Electrum as fundee: the opener's (our) initial balance is funding - push
            assert payload["chain_hash"].hex() == \
                "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f"
            assert payload["open_channel_tlvs"]["channel_type"]["type"] == bytes.fromhex("1000")
            assert payload["open_channel_tlvs"]["upfront_shutdown_script"][
                "shutdown_scriptpubkey"] == b""
            rc = _remote_config(payload, f["funding"] * 1000 - f["push"])
        elif name == "accept_channel":
            assert payload["accept_channel_tlvs"]["channel_type"]["type"] == bytes.fromhex("1000")
            rc = _remote_config(payload, f["push"])
        else:
            continue
        rc.validate_params(funding_sat=f["funding"])
        checked += 1
    assert checked == 4
