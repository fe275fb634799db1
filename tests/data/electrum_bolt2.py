#!/usr/bin/python3 -P
"""Encode BOLT #2 messages with Electrum 4.3.4's own codec (electrum/lnmsg.py over its
lnwire/peer_wire.csv) and print them as JSON: tests/data/bolt2_electrum.json.

Run with Debian's interpreter: /usr/bin/python3 -P tests/data/electrum_bolt2.py > ...
Field values are arbitrary but distinct, so a field read from the wrong offset shows.
"""
import json
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from electrum.lnmsg import encode_msg  # noqa: E402


def b(n, byte):
    return bytes([byte]) * n


def pt(byte):
    return bytes([2]) + b(32, byte)


MSGS = [
    ("open_channel", dict(
        chain_hash=bytes.fromhex("06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f"),
        temporary_channel_id=b(32, 0x11), funding_satoshis=1000000, push_msat=2000,
        dust_limit_satoshis=546, max_htlc_value_in_flight_msat=990000000,
        channel_reserve_satoshis=10000, htlc_minimum_msat=1, feerate_per_kw=2500,
        to_self_delay=144, max_accepted_htlcs=30, funding_pubkey=pt(0x21),
        revocation_basepoint=pt(0x22), payment_basepoint=pt(0x23),
        delayed_payment_basepoint=pt(0x24), htlc_basepoint=pt(0x25),
        first_per_commitment_point=pt(0x26), channel_flags=1,
        open_channel_tlvs={"upfront_shutdown_script": {"shutdown_scriptpubkey": b""},
                           "channel_type": {"type": bytes.fromhex("1000")}})),
    ("accept_channel", dict(
        temporary_channel_id=b(32, 0x11), dust_limit_satoshis=546,
        max_htlc_value_in_flight_msat=990000000, channel_reserve_satoshis=10000,
        htlc_minimum_msat=1, minimum_depth=3, to_self_delay=1008, max_accepted_htlcs=483,
        funding_pubkey=pt(0x31), revocation_basepoint=pt(0x32), payment_basepoint=pt(0x33),
        delayed_payment_basepoint=pt(0x34), htlc_basepoint=pt(0x35),
        first_per_commitment_point=pt(0x36),
        accept_channel_tlvs={"upfront_shutdown_script": {"shutdown_scriptpubkey": b""},
                             "channel_type": {"type": bytes.fromhex("1000")}})),
    ("funding_created", dict(temporary_channel_id=b(32, 0x11), funding_txid=b(32, 0x41),
                             funding_output_index=1, signature=b(64, 0x42))),
    ("funding_signed", dict(channel_id=b(32, 0x51), signature=b(64, 0x52))),
    ("funding_locked", dict(channel_id=b(32, 0x51), next_per_commitment_point=pt(0x53))),
    ("shutdown", dict(channel_id=b(32, 0x51), len=22,
                      scriptpubkey=bytes.fromhex("0014") + b(20, 0x54))),
    ("closing_signed", dict(channel_id=b(32, 0x51), fee_satoshis=1234, signature=b(64, 0x55),
                            closing_signed_tlvs={"fee_range": {"min_fee_satoshis": 617,
                                                               "max_fee_satoshis": 2468}})),
    ("update_add_htlc", dict(channel_id=b(32, 0x51), id=7, amount_msat=100000,
                             payment_hash=b(32, 0x61), cltv_expiry=500144,
                             onion_routing_packet=bytes(range(256)) * 5 + b(86, 0x62))),
    ("update_fulfill_htlc", dict(channel_id=b(32, 0x51), id=7, payment_preimage=b(32, 0x63))),
    ("update_fail_htlc", dict(channel_id=b(32, 0x51), id=8, len=3, reason=b"\x01\x02\x03")),
    ("update_fail_malformed_htlc", dict(channel_id=b(32, 0x51), id=9,
                                        sha256_of_onion=b(32, 0x64), failure_code=0x8000 | 5)),
    ("commitment_signed", dict(channel_id=b(32, 0x51), signature=b(64, 0x71), num_htlcs=2,
                               htlc_signature=b(64, 0x72) + b(64, 0x73))),
    ("revoke_and_ack", dict(channel_id=b(32, 0x51), per_commitment_secret=b(32, 0x74),
                            next_per_commitment_point=pt(0x75))),
    ("update_fee", dict(channel_id=b(32, 0x51), feerate_per_kw=45001)),
    ("channel_reestablish", dict(channel_id=b(32, 0x51), next_commitment_number=5,
                                 next_revocation_number=4,
                                 your_last_per_commitment_secret=b(32, 0x76),
                                 my_current_per_commitment_point=pt(0x77))),
]


def main():
    out = []
    for name, fields in MSGS:
        out.append({"name": name, "hex": encode_msg(name, **fields).hex()})
    json.dump({"source": "electrum 4.3.4 lnmsg.encode_msg (tests/data/electrum_bolt2.py)",
               "messages": out}, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
