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


def _electrum_open_channel(push_msat=0, funding_sat=500_000, feerate=45000, **override):
    """An open_channel as Electrum 4.3.4's lnpeer.channel_establishment_flow makes it:
    its LocalConfig.from_seed keys and defaults (make_local_config), its encoder."""
    from electrum import bitcoin, constants, ecc
    from electrum.lnmsg import encode_msg
    from electrum.lnutil import (ChannelType, LocalConfig, RevocationStore,
                                 get_per_commitment_secret_from_seed, secret_to_pubkey)
    constants.set_regtest()
    dust = bitcoin.DUST_LIMIT_P2PKH
    local = LocalConfig.from_seed(
        channel_seed=bytes(range(32)),
        static_remotekey=ecc.ECPrivkey(b"\x11" * 32).get_public_key_bytes(),
        upfront_shutdown_script=b"",
        to_self_delay=7 * 144,
        dust_limit_sat=dust,
        max_htlc_value_in_flight_msat=funding_sat * 1000,
        max_accepted_htlcs=30,
        initial_msat=funding_sat * 1000 - push_msat,
        reserve_sat=max(funding_sat // 100, dust),
        funding_locked_received=False,
        was_announced=False,
        current_commitment_signature=None,
        current_htlc_signatures=b"",
        htlc_minimum_msat=1,
    )
    local.validate_params(funding_sat=funding_sat)
    first = secret_to_pubkey(int.from_bytes(get_per_commitment_secret_from_seed(
        local.per_commitment_secret_seed, RevocationStore.START_INDEX), "big"))
    fields = dict(
        temporary_channel_id=b"\x77" * 32,
        chain_hash=constants.net.rev_genesis_bytes(),
        funding_satoshis=funding_sat,
        push_msat=push_msat,
        dust_limit_satoshis=local.dust_limit_sat,
        feerate_per_kw=feerate,
        max_accepted_htlcs=local.max_accepted_htlcs,
        funding_pubkey=local.multisig_key.pubkey,
        revocation_basepoint=local.revocation_basepoint.pubkey,
        htlc_basepoint=local.htlc_basepoint.pubkey,
        payment_basepoint=local.payment_basepoint.pubkey,
        delayed_payment_basepoint=local.delayed_basepoint.pubkey,
        first_per_commitment_point=first,
        to_self_delay=local.to_self_delay,
        max_htlc_value_in_flight_msat=local.max_htlc_value_in_flight_msat,
        channel_flags=0x00,
        channel_reserve_satoshis=local.reserve_sat,
        htlc_minimum_msat=local.htlc_minimum_msat,
        open_channel_tlvs={
            "channel_type": {"type": ChannelType(ChannelType.OPTION_STATIC_REMOTEKEY)
                             .to_bytes_minimal()},
            "upfront_shutdown_script": {"shutdown_scriptpubkey": b""},
        },
    )
    fields.update(override)
    return encode_msg("open_channel", **fields), funding_sat, push_msat


def _accept(raw):
    tool = TOOLS / "chan_accept"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build the tests")
    out = subprocess.run([str(tool), raw.hex()], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_we_accept_electrums_open_channel(electrum_available):
    from electrum.lnmsg import decode_msg
    for push in (0, 100_000_000):
        raw, funding, push_msat = _electrum_open_channel(push_msat=push)
        res = _accept(raw)
        assert res["error"] == "AL_OK", res
        assert len(res["sent"]) == 1
        name, payload = decode_msg(bytes.fromhex(res["sent"][0]))
        assert name == "accept_channel"
        # What Electrum checks of the answer (lnpeer.channel_establishment_flow).
        assert payload["temporary_channel_id"] == b"\x77" * 32
        assert 1 <= payload["minimum_depth"] <= 30
        assert payload["accept_channel_tlvs"]["channel_type"]["type"] == bytes.fromhex("1000")
        _remote_config(payload, push_msat).validate_params(funding_sat=funding)


def test_we_refuse_what_electrum_would_not_send(electrum_available):
    # to_self_delay over 2016 blocks (BOLT #2 "unreasonably large")
    raw, _, _ = _electrum_open_channel(to_self_delay=3000)
    res = _accept(raw)
    assert res["error"] == "AL_E_CHAN_TO_SELF_DELAY"
    assert [decode_name(s) for s in res["sent"]] == ["error"]
    # a chain we do not serve
    raw, _, _ = _electrum_open_channel(chain_hash=b"\x01" * 32)
    assert _accept(raw)["error"] == "AL_E_CHAN_CHAIN"


def decode_name(hexmsg):
    from electrum.lnmsg import decode_msg
    return decode_msg(bytes.fromhex(hexmsg))[0]
