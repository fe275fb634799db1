#!/usr/bin/python3
"""A live Lightning peer for alight's interop tests: Electrum 4.3.4 (Debian's python3-electrum).

Electrum's own, unmodified BOLT 8 transport (lntransport.LNTransport / LNResponderTransport) and
BOLT 1 peer (lnpeer.Peer: init, feature negotiation, ping/pong) run against a remote node over
real TCP. Only what the peer reaches outside itself is replaced, by the small doubles below
(MockNetwork, MockLNWallet), as in electrum/tests/test_lnpeer.py: no Electrum server, no wallet.

Usage (Debian's interpreter only: /usr/bin/python3 tests/interop/electrum_peer.py ...):
  listen [--host H] [--port P]   print {"event":"listening","node_id":..,"host":..,"port":..},
                                 accept ONE connection and run the exchange below
  dial NODE_ID@HOST:PORT         connect and run the exchange below
Common options:
  --privkey HEX        our node secret (default: random)
  --wait-ping SECS     after our ping was answered, wait this long for the remote's ping
                       (default 0: do not wait; a ping that came earlier is still reported)
  --hold               after the report, keep the connection and obey stdin lines:
                       "ping" -> {"event":"pong",...}, "wait-ping SECS" -> {"event":"ping",...},
                       "quit" or EOF -> close and exit
  --timeout SECS       bound on each step (handshake+init, pong) (default 20)

The exchange: BOLT 8 handshake, init both ways (Electrum's feature checks and its networks check
on regtest), then a ping from Electrum that the remote must answer with a pong. Electrum answers
any ping of the remote (lnpeer.Peer.on_ping). Output is one JSON object per line on stdout; the
report line has "event":"report". Exit status 0 when the exchange completed, 1 otherwise (the
report then carries "ok": false and "error").
"""

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time

from electrum import constants, ecc, simple_config
from electrum.lnmsg import decode_msg
from electrum.lnpeer import Peer
from electrum.lntransport import LNResponderTransport, LNTransport
from electrum.lnutil import LnFeatures, LNPeerAddr, privkey_to_pubkey
from electrum.lnworker import LNWALLET_FEATURES

# Regtest: chain hash 06226e46...910f in init's networks TLV, regtest HRPs.
constants.set_regtest()


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def feature_bits(value):
    return [i for i in range(value.bit_length()) if value >> i & 1]


class MockNetwork:
    """network.Network as far as lnpeer.Peer reaches it for transport, init and ping."""

    def __init__(self, loop):
        self.asyncio_loop = loop
        self._dir = tempfile.TemporaryDirectory(prefix="alight-electrum-")
        self.config = simple_config.SimpleConfig(
            {}, read_user_dir_function=lambda: self._dir.name)
        self.channel_db = None
        self.lngossip = None
        self.proxy = None

    def get_local_height(self):
        return 0


class MockLNWallet:
    """lnworker.LNWallet reduced to what a channel-less peer needs: its features and keys."""

    def __init__(self, network, privkey):
        self.network = network
        self.config = network.config
        self.features = LnFeatures(LNWALLET_FEATURES)
        self.privkey = privkey
        self.node_id = privkey_to_pubkey(privkey)

    def channels_for_peer(self, node_id):
        return {}

    def get_channel_by_id(self, channel_id):
        return None

    def uses_trampoline(self):
        return True

    def on_peer_successfully_established(self, peer):
        pass

    def save_channel(self, chan):
        pass


class Observer:
    """Wraps the real Peer's handlers to record what the remote sent, then calls them."""

    def __init__(self, peer):
        self.peer = peer
        self.received = []
        self.pings = []
        self.pongs = []
        self.errors = []
        self.ping_event = asyncio.Event()
        self.pong_event = asyncio.Event()
        self.init_payload = None
        process, on_ping, on_pong = peer.process_message, peer.on_ping, peer.on_pong
        on_error, on_warning, on_init = peer.on_error, peer.on_warning, peer.on_init

        def process_message(message):
            try:
                self.received.append(decode_msg(message)[0])
            except Exception:  # let the real peer judge it
                self.received.append("type %d" % int.from_bytes(message[:2], "big"))
            return process(message)

        def ping(payload):
            self.pings.append({"num_pong_bytes": payload["num_pong_bytes"],
                               "byteslen": len(payload.get("ignored", b""))})
            on_ping(payload)  # the real answer: a pong of num_pong_bytes
            self.ping_event.set()

        def pong(payload):
            self.pongs.append({"byteslen": len(payload.get("ignored", b""))})
            self.pong_event.set()
            on_pong(payload)

        def init(payload):
            self.init_payload = payload
            on_init(payload)

        def error(payload):
            self.errors.append({"type": "error", "data": payload.get("data", b"").hex()})
            on_error(payload)

        def warning(payload):
            self.errors.append({"type": "warning", "data": payload.get("data", b"").hex()})
            on_warning(payload)

        peer.process_message = process_message
        peer.on_ping, peer.on_pong, peer.on_init = ping, pong, init
        peer.on_error, peer.on_warning = error, warning

    async def ping(self, timeout, num_pong_bytes=4):
        self.pong_event.clear()
        before = len(self.pongs)
        t0 = time.monotonic()
        self.peer.send_message("ping", num_pong_bytes=num_pong_bytes, byteslen=4)
        await asyncio.wait_for(self.pong_event.wait(), timeout)
        pong = self.pongs[before]
        return {"event": "pong", "byteslen": pong["byteslen"],
                "expected": num_pong_bytes, "ms": round((time.monotonic() - t0) * 1000, 1)}

    def report(self):
        p = self.peer
        out = {
            "remote_node_id": p.pubkey.hex(),
            "received": self.received,
            "pings_received": self.pings,
            "pongs_received": self.pongs,
            "errors_received": self.errors,
            "initialized": p.is_initialized(),
        }
        if self.init_payload is not None:
            theirs = int.from_bytes(self.init_payload["features"], "big") | int.from_bytes(
                self.init_payload["globalfeatures"], "big")
            nets = self.init_payload.get("init_tlvs", {}).get("networks")
            chains = nets["chains"] if nets else b""
            out.update({
                "their_features": theirs.to_bytes((theirs.bit_length() + 7) // 8, "big").hex(),
                "their_feature_bits": feature_bits(theirs),
                "their_globalfeatures": self.init_payload["globalfeatures"].hex(),
                "their_networks": [chains[i:i + 32].hex() for i in range(0, len(chains), 32)],
                "negotiated_feature_bits": feature_bits(int(p.features)) if p.is_initialized()
                else None,
            })
        return out


async def run_session(peer, obs, args, role):
    """Drive one connected peer: init both ways, our ping, the remote's ping, then stdin."""
    loop_task = asyncio.ensure_future(peer._message_loop())
    report = {"event": "report", "driver": "electrum", "role": role,
              "our_node_id": privkey_to_pubkey(peer.privkey).hex(),
              "our_feature_bits": feature_bits(int(LNWALLET_FEATURES)),
              "chain": constants.net.rev_genesis_bytes().hex(), "ok": False}
    try:
        done, _ = await asyncio.wait({loop_task, peer.initialized}, timeout=args.timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if not peer.is_initialized():
            raise RuntimeError("init not completed: " + describe_end(loop_task, peer))
        report["handshake"] = True
        pong = await wait_or_end(obs.ping(args.timeout), loop_task, peer)
        report["pong_received"] = True
        report["pong"] = pong
        if args.wait_ping > 0 and not obs.pings:
            try:
                await wait_or_end(asyncio.wait_for(obs.ping_event.wait(), args.wait_ping),
                                  loop_task, peer)
            except asyncio.TimeoutError:
                pass
        report["ok"] = True
    except Exception as e:  # reported, not raised: the test reads the JSON
        report["error"] = "%s: %s" % (type(e).__name__, e)
    report.update(obs.report())
    report["ping_received"] = bool(obs.pings)
    report["connected"] = not loop_task.done()
    emit(report)
    if args.hold and report["ok"]:
        await hold(peer, obs, args, loop_task)
    peer.transport.close()
    loop_task.cancel()
    return report["ok"]


def describe_end(loop_task, peer):
    if loop_task.done():
        exc = None if loop_task.cancelled() else loop_task.exception()
        return "connection ended (%r)" % (exc,) if exc else "connection closed by remote"
    return "timed out"


async def wait_or_end(coro, loop_task, peer):
    """Await coro, failing early when the message loop ends (remote closed)."""
    task = asyncio.ensure_future(coro)
    await asyncio.wait({task, loop_task}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        return task.result()
    task.cancel()
    raise RuntimeError(describe_end(loop_task, peer))


async def hold(peer, obs, args, loop_task):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            return
        try:
            if cmd[0] == "ping":
                emit(await wait_or_end(obs.ping(args.timeout), loop_task, peer))
            elif cmd[0] == "wait-ping":
                n = len(obs.pings)
                obs.ping_event.clear()
                if len(obs.pings) == n:
                    await wait_or_end(asyncio.wait_for(obs.ping_event.wait(), float(cmd[1])),
                                      loop_task, peer)
                emit({"event": "ping", "ping": obs.pings[-1]})
            elif cmd[0] == "status":
                emit({"event": "status", "connected": not loop_task.done(), **obs.report()})
            else:
                emit({"event": "error", "error": "unknown command %r" % cmd[0]})
        except Exception as e:
            emit({"event": "error", "error": "%s: %s" % (type(e).__name__, e),
                  "connected": not loop_task.done()})


async def dial(args, privkey):
    node_id, _, hostport = args.target.partition("@")
    host, _, port = hostport.rpartition(":")
    loop = asyncio.get_running_loop()
    wallet = MockLNWallet(MockNetwork(loop), privkey)
    addr = LNPeerAddr(host, int(port), bytes.fromhex(node_id))
    transport = LNTransport(privkey, addr, proxy=None)
    peer = Peer(wallet, addr.pubkey, transport)
    return await run_session(peer, Observer(peer), args, "initiator")


async def listen(args, privkey):
    loop = asyncio.get_running_loop()
    wallet = MockLNWallet(MockNetwork(loop), privkey)
    result = loop.create_future()

    async def on_connect(reader, writer):
        if result.done():  # one peer per run
            writer.close()
            return
        transport = LNResponderTransport(privkey, reader, writer)
        try:
            remote = await asyncio.wait_for(transport.handshake(), args.timeout)
        except Exception as e:
            emit({"event": "report", "driver": "electrum", "role": "responder", "ok": False,
                  "handshake": False, "error": "%s: %s" % (type(e).__name__, e)})
            writer.close()
            result.set_result(False)
            return
        peer = Peer(wallet, remote, transport)
        result.set_result(await run_session(peer, Observer(peer), args, "responder"))

    server = await asyncio.start_server(on_connect, args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    emit({"event": "listening", "driver": "electrum", "node_id": wallet.node_id.hex(),
          "host": args.host, "port": port})
    try:
        return await result
    finally:
        server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["listen", "dial"])
    ap.add_argument("target", nargs="?", help="NODE_ID@HOST:PORT (dial)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--privkey")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--wait-ping", type=float, default=0.0)
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_intermixed_args()
    if args.mode == "dial" and not args.target:
        ap.error("dial needs NODE_ID@HOST:PORT")
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.WARNING)
    privkey = bytes.fromhex(args.privkey) if args.privkey else \
        ecc.ECPrivkey.generate_random_key().get_secret_bytes()
    run = dial if args.mode == "dial" else listen
    ok = asyncio.run(run(args, privkey))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
