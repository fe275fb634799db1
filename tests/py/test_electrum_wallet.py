"""A whole, unmodified Electrum 4.3.4 wallet on alight-devchain's Electrum server, beside
alightd's own wallet on devchain's Esplora API: both see the same chain.

Electrum syncs from devchain (headers from genesis, its addresses' histories, merkle proofs it
checks against the headers), receives from the faucet, sees the coin confirmed, pays an alightd
address, receives from alightd, and follows a reorganisation that takes a confirmation away.
Every balance is checked to the satoshi on both wallets, with the fees read from the
transactions themselves (inputs minus outputs, recomputed from their raw bytes here).
"""
from decimal import Decimal

from devchain_util import Devchain, devchain  # noqa: F401  (fixture)
from electrum import transaction as etx
from electrum_util import btc, electrum_daemon, fee_of, paid_to  # noqa: F401  (fixture)
from wallet_util import Wallet, _stop_wallets  # noqa: F401  (fixture)

MINER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def confirmations(e, txid, n):
    """Waits until Electrum counts n confirmations of txid (it counts one only once the
    merkle proof was checked against its header)."""
    e.wait_for("%s with %d confirmations" % (txid, n),
               lambda: e.call("get_tx_status", txid=txid)["confirmations"] == n)


def alightd_balance(w, confirmed, unconfirmed):
    b = w.balance()
    assert (b["confirmed_balance"], b["unconfirmed_balance"]) == (confirmed, unconfirmed), b


def test_electrum_wallet_with_alightd(tmp_path, devchain, electrum_daemon):  # noqa: F811
    devchain.mine(101, MINER)
    e = electrum_daemon("alice", devchain)
    e.wait_synced()
    assert e.balance() == {"confirmed": 0, "unconfirmed": 0, "unmatured": 0, "lightning": 0}

    # Faucet -> Electrum: seen in the mempool, then confirmed.
    addr = e.call("getunusedaddress")
    funding = devchain.faucet(addr, 1_000_000)
    e.wait_balance(confirmed=0, unconfirmed=1_000_000)
    devchain.mine(1, MINER)
    e.wait_balance(confirmed=1_000_000, unconfirmed=0)
    hist = e.call("onchain_history")["transactions"]
    assert [(h["txid"], h["height"], h["incoming"]) for h in hist] == \
        [(funding, devchain.height(), True)]

    # Electrum -> alightd: Electrum signs, broadcasts through devchain's Electrum server.
    w = Wallet(tmp_path / "alightd", devchain.url)
    dest = w.new_address()
    raw = e.call("payto", destination=dest, amount=btc(250_000))
    sent = e.call("broadcast", tx=raw)
    assert sent == etx.Transaction(raw).txid()
    fee1 = fee_of(devchain, sent)
    assert fee1 > 0 and devchain.get_json("/tx/" + sent)["fee"] == fee1
    assert paid_to(devchain, sent, dest) == 250_000
    # Electrum counts the change of its own transaction spending confirmed coins as
    # confirmed (AddressSynchronizer.get_balance): the balance moves at once; the
    # transaction's confirmations tell when it is mined.
    e.wait_balance(confirmed=750_000 - fee1, unconfirmed=0)
    confirmations(e, sent, 0)
    alightd_balance(w, 0, 250_000)
    devchain.mine(1, MINER)
    confirmations(e, sent, 1)
    e.wait_balance(confirmed=750_000 - fee1, unconfirmed=0)
    alightd_balance(w, 250_000, 0)

    # alightd -> Electrum.
    back = e.call("getunusedaddress")
    r = w.run("sendtoaddress", back, 100_000)
    fee2 = fee_of(devchain, r["txid"])
    assert fee2 == r["fee_sat"] and paid_to(devchain, r["txid"], back) == 100_000
    e.wait_balance(confirmed=750_000 - fee1, unconfirmed=100_000)
    alightd_balance(w, 0, 150_000 - fee2)
    devchain.mine(1, MINER)
    height = devchain.height()
    e.wait_balance(confirmed=850_000 - fee1, unconfirmed=0)
    alightd_balance(w, 150_000 - fee2, 0)
    confirmations(e, r["txid"], 1)

    # A reorganisation removes the block with alightd's payment: both wallets see it
    # unconfirmed again (devchain puts it back in the mempool), then confirmed anew.
    devchain.post_json("/reorg", {"depth": 1})
    assert devchain.height() == height + 1
    e.wait_balance(confirmed=750_000 - fee1, unconfirmed=100_000)
    confirmations(e, r["txid"], 0)
    alightd_balance(w, 0, 150_000 - fee2)
    devchain.mine(1, MINER)
    e.wait_balance(confirmed=850_000 - fee1, unconfirmed=0)
    alightd_balance(w, 150_000 - fee2, 0)

    # Electrum's coins are exactly what devchain's Esplora API lists for its addresses.
    coins = e.call("listunspent")
    assert sum(Decimal(c["value"]) for c in coins) * 100_000_000 == 850_000 - fee1
    for c in coins:
        utxo = devchain.get_json("/address/%s/utxo" % c["address"])
        assert {(u["txid"], u["vout"], u["value"]) for u in utxo} >= \
            {(c["prevout_hash"], c["prevout_n"], int(Decimal(c["value"]) * 100_000_000))}
