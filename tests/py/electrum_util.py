"""Whole, unmodified Electrum 4.3.4 wallets (Debian's python3-electrum) on alight-devchain.

`electrum_daemon(name, devchain, listen=False)` (a pytest fixture, a factory) starts one Electrum
daemon in its own data directory, connected only to devchain's Electrum server (--oneserver), with
the wallet restored from a fixed seed per name (so its keys and Lightning node id are the same on
every run), and returns an ElectrumDaemon whose `call(command, **params)` runs any of Electrum's
commands (getbalance, payto, broadcast, open_channel, lnpay, close_channel, ...) over the daemon's
own JSON-RPC socket, exactly what `electrum <command>` does, without starting a Python process per
command. Every daemon is stopped when the test ends (also on failure), and its log is attached to
a failing test's report.

Lightning port: Electrum's lightning_listen cannot be port 0 (aiorpcx refuses it) and Electrum
does not report what it bound, so a port is taken from the OS (bind 127.0.0.1:0, close), given to
Electrum, and then checked in /proc: the listening socket on that port must belong to this daemon
(its inode among /proc/PID/fd). If another process took the port in between, or Electrum logged
"cannot listen", the daemon is restarted on a fresh port (a few attempts), never assumed.

Nothing waits on a fixed sleep: `wait_for` polls a state (synchronized, a balance, a channel
state) until it holds, with generous timeouts (scaled for sanitizer builds).

ALIGHT_KEEP_ELECTRUM=1 keeps each daemon's directory (its log is electrum.log there).
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from decimal import Decimal

import pytest

from conftest import PYTHON, scaled
from daemon_util import _UnixHTTPConnection

ELECTRUM = [PYTHON, "-P", "/usr/lib/python3/dist-packages/electrum/electrum"]

# Electrum "segwit" seeds, made once with electrum.mnemonic.Mnemonic("en").make_seed(
# seed_type="segwit"); fixed so that each name has the same keys and node id on every run.
SEEDS = {
    "alice": "glimpse lawsuit filter barely entire saddle thing adjust segment affair lunar enforce",
    "bob": "grace network true assist drift artefact gaze grace empower unlock cradle frost",
    "carol": "unaware bench lend escape loan recall farm chimney under unfair liar capital",
    "dave": "wool hard shell reunion answer blanket jazz wink couch fall bless muffin",
}

COIN = 100_000_000


def sat(btc):
    """Electrum's BTC strings ("0.0125") as integer satoshis."""
    return int(Decimal(str(btc)) * COIN)


def btc(sats):
    """Integer satoshis as the BTC string Electrum's commands take."""
    return str(Decimal(sats) / COIN)


class ElectrumError(AssertionError):
    pass


# --- transactions on devchain, read with Electrum's own parser ------------------------------

def chain_tx(dc, txid):
    from electrum import transaction as etx
    return etx.Transaction(dc.get_text("/tx/%s/hex" % txid))


def fee_of(dc, txid):
    """Inputs minus outputs, from the raw transaction and its parents' raw outputs."""
    t = chain_tx(dc, txid)
    spent = sum(chain_tx(dc, i.prevout.txid.hex()).outputs()[i.prevout.out_idx].value
                for i in t.inputs())
    return spent - sum(o.value for o in t.outputs())


def paid_to(dc, txid, address):
    return sum(o.value for o in chain_tx(dc, txid).outputs() if o.address == address)


class RPCError(AssertionError):
    """An error response from an Electrum server: .code, .message."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class ElectrumClient:
    """A plain Electrum-protocol client (newline-delimited JSON-RPC 2.0 over TCP) for talking
    to devchain's server directly. Notifications that arrive while waiting for a response
    are kept in `notes`, in order."""

    def __init__(self, addr, timeout=30, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(scaled(timeout))
        self.sock.connect(addr)
        self.buf = b""
        self.notes = []
        self._id = 0

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def line(self):
        """The next line from the server; b"" at the end of the stream."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def message(self):
        line = self.line()
        assert line.endswith(b"\n"), "connection ended: %r" % line
        return json.loads(line)

    def send(self, method, params=None, id_=None):
        """Sends one request (no params member when params is None); returns its id."""
        if id_ is None:
            self._id += 1
            id_ = self._id
        req = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            req["params"] = params
        self.send_raw(json.dumps(req).encode() + b"\n")
        return id_

    def response(self, id_):
        """The response to request id_, keeping notifications that come first."""
        while True:
            m = self.message()
            assert m.get("jsonrpc") == "2.0", m
            if "method" in m and "id" not in m:
                self.notes.append(m)
                continue
            assert m["id"] == id_, (m, id_)
            return m

    def call(self, method, *params):
        m = self.response(self.send(method, list(params) if params else None))
        if "error" in m:
            raise RPCError(m["error"]["code"], m["error"]["message"])
        return m["result"]

    def note(self, method):
        """The next notification of `method` (from `notes`, else read from the server)."""
        while True:
            for i, n in enumerate(self.notes):
                if n["method"] == method:
                    return self.notes.pop(i)
            m = self.message()
            assert "method" in m and "id" not in m, "expected a notification: %r" % m
            self.notes.append(m)


def scripthash(script):
    """The protocol's script hash: SHA-256 of the script, hex of the reversed digest."""
    import hashlib
    return hashlib.sha256(script).digest()[::-1].hex()


def status_of(history):
    """The protocol 1.4 status of a history [(txid, height), ...]."""
    import hashlib
    if not history:
        return None
    return hashlib.sha256("".join("%s:%d:" % h for h in history).encode()).hexdigest()


def _held_port():
    """A 127.0.0.1 port held for Electrum, which cannot be told to bind port 0 (aiorpcx
    refuses it): a socket bound with SO_REUSEADDR and never listening. Electrum's
    asyncio server (reuse_address) can bind and listen beside it; nobody else can bind
    it and the OS hands it to no port-0 bind. Closed once Electrum listens there."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


def _listen_inode(port):
    """The inode of the socket listening on 127.0.0.1:port (or 0.0.0.0:port), or None."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            addr, state, inode = fields[1], fields[3], fields[9]
            host, _, p = addr.partition(":")
            if state == "0A" and int(p, 16) == port and host in ("0100007F", "00000000"):
                return inode
    return None


def _owns_socket(pid, inode):
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
                    return True
            except OSError:
                pass
    except OSError:
        pass
    return False


class ElectrumDaemon:
    """One Electrum daemon with one wallet (see the module docstring)."""

    def __init__(self, name, devchain, seed=None, listen=False, config=None):
        self.name = name
        self.devchain = devchain
        self.seed = seed or SEEDS[name]
        self.listen = listen
        self.config = dict(config or {})
        # A short directory: the RPC socket's path must fit in sun_path (108 bytes).
        self.dir = tempfile.mkdtemp(prefix="alight-el-%s-" % name)
        self.log_path = os.path.join(self.dir, "electrum.log")
        self.p = None
        self.pid = None
        self.port = None
        self.node_id = None
        self._id = 0
        self._auth = "Basic " + base64.b64encode(b"alight:test").decode()

    # --- process ----------------------------------------------------------------------------
    def start(self):
        hold = _held_port() if self.listen else None
        try:
            self.port = hold.getsockname()[1] if hold else None
            self._launch()
            if self.listen and not self._await_listening():
                self.kill()
                raise AssertionError("Electrum %s does not listen on its port %d\n%s" %
                                     (self.name, self.port, self.describe()))
        finally:
            if hold:
                hold.close()
        self.node_id = self.call("nodeid").split("@")[0]
        return self

    def _launch(self):
        conf_dir = os.path.join(self.dir, "regtest")
        os.makedirs(conf_dir, exist_ok=True)
        conf = {"rpcuser": "alight", "rpcpassword": "test", "log_to_file": False}
        conf.update(self.config)
        if self.port:
            conf["lightning_listen"] = "127.0.0.1:%d" % self.port
        with open(os.path.join(conf_dir, "config"), "w") as f:
            json.dump(conf, f)
        host, port = self.devchain.electrum
        # Network options go after the subcommand; -v logs to stderr, kept in the log file.
        argv = ELECTRUM + ["--regtest", "-D", self.dir, "daemon", "--oneserver", "--server",
                           "%s:%d:t" % (host, port), "-v"]
        with open(self.log_path, "ab") as log:
            self.p = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=log, start_new_session=True)
        self.pid = self.p.pid
        deadline = time.monotonic() + scaled(60)
        while True:
            try:
                if self._rpc("ping", {}, timeout=5) is True:
                    break
            except (OSError, http.client.HTTPException, ValueError):
                pass
            if self.p.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("Electrum %s did not start\n%s" % (self.name,
                                                                          self.describe()))
            time.sleep(0.1)
        if not os.path.exists(os.path.join(conf_dir, "wallets", "default_wallet")):
            self.call("restore", text=self.seed)
        self.call("load_wallet")

    def _await_listening(self):
        deadline = time.monotonic() + scaled(30)
        while time.monotonic() < deadline:
            inode = _listen_inode(self.port)
            if inode and _owns_socket(self.pid, inode):
                return True
            if "cannot listen for lightning p2p" in self.log():
                return False
            time.sleep(0.05)
        return False

    def kill(self):
        if self.p and self.p.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait(timeout=10)

    def stop(self):
        """Ask the daemon to stop, then make sure; the directory goes with it. Returns 0 (the
        conftest `procs` fixture's contract)."""
        if self.p and self.p.poll() is None:
            try:
                self._rpc("stop", {}, timeout=10)
                self.p.wait(timeout=scaled(15))
            except Exception:  # noqa: BLE001  (any failure: kill it)
                self.kill()
        if not os.environ.get("ALIGHT_KEEP_ELECTRUM"):
            shutil.rmtree(self.dir, ignore_errors=True)
        return 0

    def running(self):
        return self.p is not None and self.p.poll() is None

    def log(self, limit=None):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode(errors="replace")
        except OSError:
            return ""
        return data[-limit:] if limit else data

    def describe(self):
        return "Electrum %s (pid %s, %s, dir %s)\n  log tail:\n%s" % (
            self.name, self.pid, "running" if self.running() else "exited",
            self.dir, "\n".join("    " + x for x in self.log(8000).splitlines()))

    # --- commands ---------------------------------------------------------------------------
    def _rpc(self, method, params, timeout):
        self._id += 1
        conn = _UnixHTTPConnection(os.path.join(self.dir, "regtest", "daemon_rpc_socket"), timeout)
        try:
            conn.request("POST", "/", json.dumps({"jsonrpc": "2.0", "id": self._id,
                                                  "method": method, "params": params}),
                         {"Authorization": self._auth, "Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
        finally:
            conn.close()
        if r.status != 200:
            raise ElectrumError("Electrum %s %s: HTTP %d %r" % (self.name, method, r.status,
                                                                body[:300]))
        out = json.loads(body)
        if "error" in out:
            raise ElectrumError("Electrum %s %s(%r): %s" % (self.name, method, params,
                                                            out["error"].get("message")))
        return out["result"]

    def call(self, method, timeout=None, **params):
        """One Electrum command with its parameters by name; ElectrumError on failure."""
        return self._rpc(method, params, timeout or scaled(120))

    def wait_for(self, what, fn, timeout=60):
        """Polls fn() until it returns something true; returns that."""
        deadline = time.monotonic() + scaled(timeout)
        last = None
        while True:
            try:
                last = fn()
                if last:
                    return last
            except ElectrumError as e:
                last = e
            if time.monotonic() > deadline:
                raise AssertionError("Electrum %s: %s never happened (last: %r)\n%s" %
                                     (self.name, what, last, self.describe()))
            time.sleep(0.1)

    # --- state ------------------------------------------------------------------------------
    def synced_to(self, height):
        info = self.call("getinfo")
        return (info["blockchain_height"] == height and info["server_height"] == height and
                self.call("is_synchronized"))

    def wait_synced(self, height=None, timeout=60):
        h = self.devchain.height() if height is None else height
        return self.wait_for("sync to height %d" % h, lambda: self.synced_to(h), timeout)

    def balance(self):
        """getbalance in satoshis: confirmed, unconfirmed, unmatured, lightning (0 if absent)."""
        b = self.call("getbalance")
        return {k: sat(b.get(k, "0")) for k in ("confirmed", "unconfirmed", "unmatured",
                                                 "lightning")}

    def wait_balance(self, timeout=60, **want):
        """Waits (synced to devchain's tip first) until getbalance shows `want` (satoshis;
        Electrum's "unconfirmed" is the mempool's delta, negative while it spends)."""
        seen = []

        def check():
            if not self.synced_to(self.devchain.height()):
                return None
            b = self.balance()
            seen[:] = [b]
            return b if all(b[k] == v for k, v in want.items()) else None
        try:
            return self.wait_for("balance %r" % want, check, timeout)
        except AssertionError as e:
            raise AssertionError("last balance %r; %s" % (seen, e)) from None

    def channel(self, point):
        for c in self.call("list_channels"):
            if c["channel_point"] == point:
                return c
        return None

    def wait_channel(self, point, state, timeout=60):
        return self.wait_for("channel %s %s" % (point, state),
                             lambda: (self.channel(point) or {}).get("state") == state and
                             self.channel(point), timeout)

    def received(self, dc, txid):
        """What txid's outputs pay to this wallet."""
        return sum(o.value for o in chain_tx(dc, txid).outputs()
                   if o.address and self.call("ismine", address=o.address))

    @property
    def uri(self):
        return "%s@127.0.0.1:%d" % (self.node_id, self.port)


@pytest.fixture
def electrum_daemon(electrum_available, procs):
    """Factory: electrum_daemon(name, devchain, listen=False, config=None) -> a started
    ElectrumDaemon (stopped at teardown by the `procs` fixture)."""

    def start(name, devchain, listen=False, config=None, seed=None):
        d = ElectrumDaemon(name, devchain, seed=seed, listen=listen, config=config)
        procs.append(d)  # before starting: stopped even if start-up fails
        return d.start()

    return start
