"""The on-chain wallet end to end on alight-devchain: fund from the faucet, mine and see
the balance; send to an address (checked in devchain's own /address/:addr/utxo); a
reorganisation removes a confirmation and the wallet shows it; a restarted devchain
keeps its chain and the wallet its state; a fee bump of an unconfirmed send."""
import base64
import hashlib
import subprocess

from devchain_util import Devchain, devchain  # noqa: F401  (fixture)
from wallet_util import Wallet, _stop_wallets, check_signed_as_electrum  # noqa: F401

MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def test_fund_send_reorg_restart(tmp_path, devchain):  # noqa: F811
    w = Wallet(tmp_path / "w", devchain.url)
    devchain.mine(101, MINER)
    addr = w.new_address()
    assert addr.startswith("bcrt1q")
    assert w.balance()["total_balance"] == 0

    txid = devchain.faucet(addr, 1_000_000)
    b = w.balance()
    assert (b["confirmed_balance"], b["unconfirmed_balance"]) == (0, 1_000_000)
    devchain.mine(1, MINER)
    b = w.balance()
    assert (b["confirmed_balance"], b["unconfirmed_balance"]) == (1_000_000, 0)
    assert b["tip_height"] == devchain.height()
    funds = w.run("listfunds")["outputs"]
    assert [(o["txid"], o["amount_sat"], o["confirmations"]) for o in funds] == \
        [(txid, 1_000_000, 1)]

    # Send to a fresh address of another wallet and find it in devchain's UTXO set.
    other = Wallet(tmp_path / "other", devchain.url)
    dest = other.new_address()
    sent = w.run("sendtoaddress", dest, 250_000)
    tx = devchain.get_json("/tx/" + sent["txid"])
    assert tx["fee"] == sent["fee_sat"] and 100 <= sent["fee_sat"] < 1000
    assert all(i["sequence"] < 0xfffffffe for i in tx["vin"])  # BIP 125 signal
    # Signed as Electrum (and Core) sign: low R, so at most 70 DER bytes.
    assert all(n <= 70 for n in check_signed_as_electrum(w, devchain, sent["txid"]))
    b = w.balance()
    assert b["total_balance"] == 1_000_000 - 250_000 - sent["fee_sat"]
    assert b["confirmed_balance"] == 0
    devchain.mine(1, MINER)
    utxo = devchain.get_json("/address/%s/utxo" % dest)
    assert [(u["txid"], u["value"], u["status"]["confirmed"]) for u in utxo] == \
        [(sent["txid"], 250_000, True)]
    assert other.balance()["confirmed_balance"] == 250_000
    b = w.balance()
    assert b["confirmed_balance"] == 750_000 - sent["fee_sat"]

    # A reorganisation disconnects the block with the send: it is unconfirmed again.
    assert w.run("listfunds")["outputs"][0]["confirmations"] == 1
    devchain.post_json("/reorg", {"depth": 1})
    b = w.balance()
    assert b["confirmed_balance"] == 0
    assert b["unconfirmed_balance"] == 750_000 - sent["fee_sat"]
    assert all(o["confirmations"] == 0 for o in w.run("listfunds")["outputs"])
    assert other.balance()["confirmed_balance"] == 0
    devchain.mine(1, MINER)
    assert w.balance()["confirmed_balance"] == 750_000 - sent["fee_sat"]

    # devchain restarted keeps its chain; the wallet keeps its state.
    tip = devchain.get_text("/blocks/tip/hash")
    height = devchain.height()
    devchain.stop()
    devchain.start()
    w.url = devchain.url
    assert devchain.get_text("/blocks/tip/hash") == tip and devchain.height() == height
    b = w.balance()
    assert b["confirmed_balance"] == 750_000 - sent["fee_sat"] and b["tip_height"] == height


def test_bumpfee(tmp_path, devchain):  # noqa: F811
    w = Wallet(tmp_path / "w", devchain.url)
    devchain.mine(101, MINER)
    devchain.faucet(w.new_address(), 500_000)
    devchain.mine(1, MINER)
    assert w.balance()["confirmed_balance"] == 500_000
    sent = w.run("sendtoaddress", MINER, 100_000)
    assert all(n <= 70 for n in check_signed_as_electrum(w, devchain, sent["txid"]))
    bumped = w.run("bumpfee", sent["txid"], 5)
    assert bumped["replaces"] == sent["txid"] and bumped["fee_sat"] > sent["fee_sat"]
    assert all(n <= 70 for n in check_signed_as_electrum(w, devchain, bumped["txid"]))
    devchain.mine(1, MINER)
    assert devchain.get_json("/tx/%s/status" % bumped["txid"])["confirmed"]
    st, _ = devchain.request("GET", "/tx/%s/status" % sent["txid"])
    assert st == 404
    b = w.balance()
    assert b["confirmed_balance"] == 500_000 - 100_000 - bumped["fee_sat"]
    assert b["unconfirmed_balance"] == 0


def test_https_esplora_ca_and_pin(tmp_path):
    """The wallet syncs over TLS (terminating in the core's engine) from a devchain that
    trusts only its own certificate: by CA file, by public-key pin; a wrong pin is refused
    with a precise error and the wallet keeps its state."""
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    spki = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                          check=True, capture_output=True, text=True).stdout
    der = base64.b64decode("".join(l for l in spki.splitlines() if "-----" not in l))
    pin = hashlib.sha256(der).hexdigest()
    d = Devchain(tmp_path / "chain", tls=(cert, key)).start()
    try:
        d.mine(101, MINER)
        w = Wallet(tmp_path / "w", d.url, trust=("--ca", cert))
        addr = w.new_address()
        d.faucet(addr, 40_000)
        d.mine(1, MINER)
        assert w.balance()["confirmed_balance"] == 40_000
        w.stop()
        w.trust = ("--pin", pin)
        d.mine(1, MINER)
        b = w.balance()
        assert b["confirmed_balance"] == 40_000 and b["tip_height"] == d.height(), b
        w.stop()
        w.trust = ("--pin", "00" * 32)
        d.mine(1, MINER)
        b = w.balance()
        assert b["sync_error"]["code"] == "AL_E_TLS_PIN", b
        assert b["confirmed_balance"] == 40_000
    finally:
        d.stop()
