"""A chain source that lies never moves the wallet's confirmed balance, and the wallet
names the lie. A proxy in front of alight-devchain rewrites one kind of answer per case
after a new block confirms a second payment; the wallet's sync must fail with the
precise error, keep the confirmed balance it had, and count the payment once the proxy
tells the truth again. A lying fee estimate cannot make the wallet overpay."""
import json
import os

import pytest

from devchain_util import devchain  # noqa: F401  (fixture)
from wallet_util import (LyingProxy, Wallet, _stop_wallets,  # noqa: F401  (fixture)
                         grind, header_hash_hex)

MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def bad_merkle(ctx):
    def lie(path, status, body):
        if path == "/tx/%s/merkle-proof" % ctx["txid"]:
            p = json.loads(body)
            p["merkle"][0] = "00" * 32
            return status, json.dumps(p).encode()
        return status, body
    return lie, "AL_E_CHAIN_MERKLE"


def forked_header(ctx):
    # A sibling of the block the wallet already has, with valid proof of work, served as
    # the tip at the same height: a branch with no more work than the wallet's chain.
    dc = ctx["dc"]
    old = bytes.fromhex(dc.get_text("/block/%s/header" % ctx["old_tip"]))
    sib = grind(0x20000000, old[4:36], os.urandom(32), 1_700_000_000, 0x207fffff)
    sib_hash = header_hash_hex(sib)

    def lie(path, status, body):
        if path == "/blocks/tip/hash":
            return 200, sib_hash.encode()
        if path == "/blocks/tip/height":
            return 200, str(ctx["old_height"]).encode()
        if path == "/block/%s/header" % sib_hash:
            return 200, sib.hex().encode()
        return status, body
    return lie, "AL_E_SYNC_LESS_WORK"


def low_work(ctx):
    # The new tip with its nonce changed until the hash misses the target.
    dc = ctx["dc"]
    real = bytes.fromhex(dc.get_text("/block/%s/header" % ctx["new_tip"]))
    bad = grind(int.from_bytes(real[0:4], "little"), real[4:36], real[36:68],
                int.from_bytes(real[68:72], "little"), 0x207fffff, good=False)
    bad_hash = header_hash_hex(bad)

    def lie(path, status, body):
        if path == "/blocks/tip/hash":
            return 200, bad_hash.encode()
        if path == "/block/%s/header" % bad_hash:
            return 200, bad.hex().encode()
        return status, body
    return lie, "AL_E_CHAIN_POW"


def missing_tx(ctx):
    def lie(path, status, body):
        if path == "/tx/%s/merkle-proof" % ctx["txid"]:
            return 404, b"Transaction not found"
        return status, body
    return lie, "AL_E_SYNC_TX_MISSING"


def wrong_height(ctx):
    def lie(path, status, body):
        if path == "/blocks/tip/height":
            return 200, str(int(body) + 1).encode()
        return status, body
    return lie, "AL_E_SYNC_HEIGHT"


def wrong_status_height(ctx):
    def lie(path, status, body):
        if path == "/tx/%s/status" % ctx["txid"]:
            st = json.loads(body)
            st["block_height"] -= 1
            return status, json.dumps(st).encode()
        return status, body
    return lie, "AL_E_SYNC_HEIGHT"


def wrong_tx_count(ctx):
    # Twice the block's transactions: its tree is one level deeper than the proof.
    def lie(path, status, body):
        if path == "/block/%s" % ctx["new_tip"]:
            b = json.loads(body)
            b["tx_count"] *= 2
            return status, json.dumps(b).encode()
        return status, body
    return lie, "AL_E_CHAIN_MERKLE_DEPTH"


def proof_pos_outside(ctx):
    # A position past the block's last transaction.
    n = ctx["dc"].get_json("/block/%s" % ctx["new_tip"])["tx_count"]

    def lie(path, status, body):
        if path == "/tx/%s/merkle-proof" % ctx["txid"]:
            p = json.loads(body)
            p["pos"] = n
            return status, json.dumps(p).encode()
        return status, body
    return lie, "AL_E_CHAIN_MERKLE_POS"


def block_summary_root(ctx):
    # A block summary whose merkle root is not the header's.
    def lie(path, status, body):
        if path == "/block/%s" % ctx["new_tip"]:
            b = json.loads(body)
            b["merkle_root"] = "00" * 32
            return status, json.dumps(b).encode()
        return status, body
    return lie, "AL_E_SYNC_BLOCK_INFO"


@pytest.mark.parametrize("case", [bad_merkle, forked_header, low_work, missing_tx,
                                  wrong_height, wrong_status_height, wrong_tx_count,
                                  proof_pos_outside, block_summary_root])
def test_lie(tmp_path, devchain, case):  # noqa: F811
    proxy = LyingProxy(devchain.url)
    try:
        w = Wallet(tmp_path / "w", proxy.url)
        devchain.mine(101, MINER)
        addr = w.new_address()
        devchain.faucet(addr, 300_000)
        devchain.mine(1, MINER)
        assert w.balance()["confirmed_balance"] == 300_000
        ctx = {"dc": devchain, "old_tip": devchain.get_text("/blocks/tip/hash"),
               "old_height": devchain.height()}

        ctx["txid"] = devchain.faucet(addr, 200_000)
        devchain.mine(1, MINER)
        ctx["new_tip"] = devchain.get_text("/blocks/tip/hash")
        proxy.lie, code = case(ctx)
        b = w.balance()
        assert b.get("sync_error", {}).get("code") == code, b
        assert b["confirmed_balance"] == 300_000
        assert b["tip_height"] == ctx["old_height"]
        # Still refused on a second try; nothing was half-applied.
        b = w.balance()
        assert b.get("sync_error", {}).get("code") == code, b
        assert b["confirmed_balance"] == 300_000

        proxy.lie = None
        b = w.balance()
        assert "sync_error" not in b, b
        assert b["confirmed_balance"] == 500_000
        assert b["tip_height"] == devchain.height()
    finally:
        proxy.stop()


def test_fee_estimate_lie(tmp_path, devchain):  # noqa: F811
    """A chain server claiming 1,000,000 sat/vB for every target cannot make the wallet
    overpay: the estimate is clamped (1,500 sat/vB) and what that would cost a 100,000 sat
    payment (about 210,000 sat) is over the cap of a tenth of it. Nothing is sent, and the
    truth afterwards pays an ordinary fee."""
    proxy = LyingProxy(devchain.url)
    try:
        w = Wallet(tmp_path / "w", proxy.url)
        devchain.mine(101, MINER)
        devchain.faucet(w.new_address(), 1_000_000)
        devchain.mine(1, MINER)
        assert w.balance()["confirmed_balance"] == 1_000_000

        def lie(path, status, body):
            if path == "/fee-estimates":
                return 200, json.dumps({str(t): 1_000_000 for t in (1, 2, 6, 144)}).encode()
            return status, body
        proxy.lie = lie
        r = w.run("sendtoaddress", MINER, 100_000, check=False)
        assert r["error"]["code"] == "AL_E_WALLET_FEE_SHARE_CAP", r
        b = w.balance()
        assert (b["confirmed_balance"], b["unconfirmed_balance"]) == (1_000_000, 0)
        assert devchain.get_json("/mempool")["count"] == 0

        proxy.lie = None
        sent = w.run("sendtoaddress", MINER, 100_000)
        assert 100 <= sent["fee_sat"] < 1000
    finally:
        proxy.stop()
