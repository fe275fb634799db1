"""Shared fixtures of alight's integration tests: alightd, alight-cli and the live peer drivers.

Every process a test starts is registered with the test and killed when it ends; its stderr is
kept in a temporary file and attached to the report of a failing test. Timeouts are multiplied
by ALIGHT_SANITIZE_FACTOR (4) when the programs were built with ASan/UBSan (ALIGHT_SANITIZE=1).
Under CI (CI=true) a missing oracle (Electrum, the npm packages, node) or program is a failure,
never a skip.

Other helpers add their own fixtures in tests/py/<topic>_util.py, not here.
"""

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("ALIGHT_SOURCE_DIR") or Path(__file__).resolve().parents[2])
INTEROP = ROOT / "tests" / "interop"
BIN = Path(os.environ.get("ALIGHT_BIN") or ROOT / "build" / "bin")
SANITIZE = os.environ.get("ALIGHT_SANITIZE", "0").lower() in ("1", "on", "true", "yes")
CI = os.environ.get("CI", "").lower() == "true"
ALIGHT_SANITIZE_FACTOR = 4
SLOW = ALIGHT_SANITIZE_FACTOR if SANITIZE else 1
# Debian's interpreter: Electrum is installed for it only.
PYTHON = "/usr/bin/python3"
# Bitcoin regtest genesis hash, internal byte order (BOLT 1 networks TLV, chain_hash fields).
REGTEST_CHAIN = "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f"

sys.path.insert(0, str(INTEROP))


def sim_dir():
    """The build's simulated SGX platform (collateral and root of the quotes)."""
    return Path(os.environ.get("ALIGHT_SIM_DIR") or BIN.parent / "sim")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Each pytest process gets a base temporary directory of its own, not a numbered one
    in pytest's /tmp/pytest-of-<user>, which every pytest process on the machine (other
    CTest tests, other checkouts) shares and prunes to the last three when it exits. It
    is removed when every test passed and kept, with its path printed, when one failed."""
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix="alight-pytest-")
        config.alight_basetemp = config.option.basetemp


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    path = getattr(config, "alight_basetemp", None)
    if path is not None and exitstatus != 0:
        terminalreporter.write_line("the tests' files are kept in %s" % path)


def pytest_sessionfinish(session, exitstatus):
    path = getattr(session.config, "alight_basetemp", None)
    if path is not None and exitstatus == 0:
        shutil.rmtree(path, ignore_errors=True)


def scaled(seconds):
    """A timeout, stretched for sanitizer builds."""
    return seconds * SLOW


def missing(what):
    """A tool or oracle the test needs is not installed: fail under CI, skip elsewhere."""
    msg = "%s is missing (run scripts/install-deps)" % what
    if CI:
        pytest.fail(msg + "; under CI a missing oracle is a failure", pytrace=False)
    pytest.skip(msg)


@contextlib.contextmanager
def refused_port():
    """A 127.0.0.1 port where every connection is refused, for as long as the block runs:
    a socket bound to a port of the OS's choice and held without listening. (A port
    bound and released could be taken by another test's server before it is dialled.)"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


class Proc:
    """A child process with stdout read line by line (JSON lines) and stderr kept in a file."""

    def __init__(self, name, argv, *, cwd=None, stdin=False, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self._err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(self.argv, cwd=cwd, env=env, bufsize=1, text=True,
                                  stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=self._err,
                                  start_new_session=True)
        self.pid = self.p.pid
        self.out = []  # every stdout line, for failure messages
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.p.stdout:
            self.out.append(line.rstrip("\n"))
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def stderr(self, limit=6000):
        self._err.flush()
        self._err.seek(0)
        data = self._err.read().decode(errors="replace")
        return data[-limit:]

    def describe(self):
        return "%s (pid %d, %s)\n  argv: %s\n  stdout:\n%s\n  stderr:\n%s" % (
            self.name, self.pid,
            "running" if self.p.poll() is None else "exit %s" % self.p.returncode,
            " ".join(self.argv), "\n".join("    " + x for x in self.out[-20:]),
            "\n".join("    " + x for x in self.stderr().splitlines()))

    def line(self, timeout):
        """The next stdout line; fails the test on timeout or end of output."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("%s printed nothing in %.1fs\n%s" %
                                 (self.name, timeout, self.describe())) from None
        if line is None:
            self._lines.put(None)
            self.p.wait(timeout=5)
            raise AssertionError("%s ended its output\n%s" % (self.name, self.describe()))
        return line

    def json(self, timeout, event=None):
        """The next JSON object printed (with "event" == event, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(max(0.01, deadline - time.monotonic()))
            try:
                obj = json.loads(line)
            except ValueError:
                raise AssertionError("%s printed a line that is not JSON: %r\n%s" %
                                     (self.name, line, self.describe())) from None
            if event is None or obj.get("event") == event:
                return obj

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def running(self):
        return self.p.poll() is None

    def wait(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s still running after %.1fs\n%s" %
                                 (self.name, timeout, self.describe())) from None

    def stop(self, sig=signal.SIGTERM, grace=5.0):
        """Signal the process (its own process group), then kill it if it lingers."""
        if self.p.poll() is None:
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.p.wait(timeout=5)
        if self.p.stdin:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        return self.p.returncode


def proc_status(pid):
    """/proc/<pid>/status memory fields in KiB (VmRSS, VmHWM, VmSize, VmData)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM", "VmSize", "VmData", "RssAnon"):
                out[key] = int(val.split()[0])
    return out


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class CliError(AssertionError):
    pass


# The BIP 39 mnemonic of 32 zero bytes (a valid checksum): tests that need a fixed node id
# provision it, and Electrum's key derivation checks the node key.
ZERO_MNEMONIC = " ".join(["abandon"] * 23 + ["art"])


class Daemon(Proc):
    """alightd on regtest with its own datadir (the operator's), listening on 127.0.0.1 with
    ports of the OS, and its user: a seed file outside the datadir (the user's device) and
    alight-cli over the user channel (RA-TLS terminated inside the enclave, the client's key
    derived from that seed)."""

    def __init__(self, datadir, extra=()):
        self.datadir = Path(datadir)
        self.seed_file = self.datadir.parent / (self.datadir.name + ".user.seed")
        argv = [BIN / "alightd", "--network", "regtest", "--datadir", self.datadir,
                "--listen", "127.0.0.1:0", *extra]
        super().__init__("alightd", argv)
        self.info = None
        self.node_id = None

    def await_ready(self, provision=True, mnemonic=ZERO_MNEMONIC):
        """Reads the first line ({"measurement", "rpc_listen", "nodes": [...]}), then, unless
        node 0 is already there, the user provisions it with `mnemonic` (None: a seed made
        inside the enclave) and its peer listener is read back from getinfo."""
        first = self.line(scaled(15))
        try:
            info = json.loads(first)
        except ValueError:
            raise AssertionError("alightd's first line is not JSON: %r\n%s" %
                                 (first, self.describe())) from None
        self.info = info
        self.measurement = info["measurement"]
        self.rpc_listen = info["rpc_listen"]
        assert len(bytes.fromhex(self.measurement)) == 32, first
        if not info["nodes"] and provision:
            self.provision(mnemonic)
        if info["nodes"] or provision:
            self.await_node()
        return self

    def provision(self, mnemonic=ZERO_MNEMONIC):
        """The user provisions node 0 (with `mnemonic` in the seed file, or a new seed)."""
        if mnemonic is not None and not self.seed_file.exists():
            self.seed_file.write_text(mnemonic + "\n")
            os.chmod(self.seed_file, 0o600)
        return self.user("provision")

    def await_node(self, timeout=None):
        """Node 0's id and peer address, once it serves and listens."""
        deadline = time.monotonic() + (timeout or scaled(15))
        while True:
            info = self.cli("getinfo")
            if info.get("listen"):
                break
            if time.monotonic() > deadline:
                raise AssertionError("node 0 never listened: %r\n%s" % (info, self.describe()))
            time.sleep(0.05)
        self.node_id = info["identity_pubkey"]
        host, _, port = info["listen"].rpartition(":")
        self.host, self.port = host, int(port)
        assert len(bytes.fromhex(self.node_id)) == 33 and self.port > 0, info
        return info

    def user_argv(self, *args, seed_file=None):
        return [str(BIN / "alight-cli"), "--rpc-connect", self.rpc_listen, "--measurement",
                self.measurement, "--allow-simulated", "--sim-dir", str(sim_dir()),
                "--seed-file", str(seed_file or self.seed_file)] + [str(a) for a in args]

    def user(self, *args, timeout=None, seed_file=None):
        """The user's alight-cli over the user channel: its JSON answer (CliError on failure)."""
        r = subprocess.run(self.user_argv(*args, seed_file=seed_file), capture_output=True,
                           text=True, timeout=timeout or scaled(60))
        try:
            out = json.loads(r.stdout) if r.stdout.strip() else None
        except ValueError:
            raise AssertionError("alight-cli (user) %s printed non-JSON: %r (stderr %r)" %
                                 (" ".join(map(str, args)), r.stdout, r.stderr)) from None
        if r.returncode != 0:
            raise CliError("alight-cli (user) %s exited %d: %s %s\n%s" % (
                " ".join(map(str, args)), r.returncode, r.stdout.strip(), r.stderr.strip(),
                self.describe()))
        return out

    def user_fails(self, *args, seed_file=None):
        """The user's alight-cli expecting an error: (exit code, its JSON)."""
        r = subprocess.run(self.user_argv(*args, seed_file=seed_file), capture_output=True,
                           text=True, timeout=scaled(60))
        assert r.returncode != 0, "alight-cli (user) %s succeeded: %s" % (args, r.stdout)
        return r.returncode, json.loads(r.stdout or r.stderr)

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def target(self):
        return "%s@%s" % (self.node_id, self.address)

    def cli(self, *args, timeout=None):
        """alight-cli's JSON answer; CliError (with both programs' stderr) on a non-zero exit."""
        argv = [str(BIN / "alight-cli"), "--datadir", str(self.datadir)] + [str(a) for a in args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout or scaled(20))
        try:
            out = json.loads(r.stdout) if r.stdout.strip() else None
        except ValueError:
            raise AssertionError("alight-cli %s printed non-JSON: %r (stderr %r)" %
                                 (" ".join(map(str, args)), r.stdout, r.stderr)) from None
        if r.returncode != 0:
            raise CliError("alight-cli %s exited %d: %s %s\n%s" % (
                " ".join(map(str, args)), r.returncode, r.stdout.strip(), r.stderr.strip(),
                self.describe()))
        return out

    def cli_fails(self, *args):
        """Runs alight-cli expecting an error: returns (exit code, its JSON error)."""
        argv = [str(BIN / "alight-cli"), "--datadir", str(self.datadir)] + [str(a) for a in args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=scaled(20))
        assert r.returncode != 0, "alight-cli %s succeeded: %s" % (args, r.stdout)
        return r.returncode, json.loads(r.stdout or r.stderr)

    def peer(self, node_id):
        """The listpeers entry of node_id, or None."""
        peers = self.cli("listpeers")
        peers = peers.get("peers", peers) if isinstance(peers, dict) else peers
        for p in peers:
            if p.get("node_id") == node_id:
                return p
        return None

    def wait_peer(self, node_id, connected=True, timeout=None):
        """Polls listpeers until node_id is listed with that connected state."""
        deadline = time.monotonic() + (timeout or scaled(10))
        while True:
            p = self.peer(node_id)
            if p is not None and bool(p.get("connected")) == connected:
                return p
            if not connected and p is None:
                return None
            if time.monotonic() > deadline:
                raise AssertionError("listpeers never showed %s connected=%s; last: %r\n%s" %
                                     (node_id, connected, p, self.describe()))
            time.sleep(0.05)

    def disconnect_reason(self, local_port, timeout=None):
        """The reason alightd logged for closing the connection from our 127.0.0.1:local_port
        (its stderr line `... disconnected conn=N addr=HOST:PORT ... reason="..."`)."""
        pat = re.compile(r'disconnected .*addr=127\.0\.0\.1:%d .*reason="([^"]*)"' % local_port)
        deadline = time.monotonic() + (timeout or scaled(5))
        while True:
            m = pat.search(self.stderr(limit=1 << 22))
            if m:
                return m.group(1)
            if time.monotonic() > deadline:
                raise AssertionError("alightd logged no disconnect of port %d\n%s" %
                                     (local_port, self.describe()))
            time.sleep(0.02)

    def memory(self):
        return proc_status(self.pid)

    def fds(self):
        return fd_count(self.pid)


class Driver(Proc):
    """A peer driver (tests/interop/electrum_peer.py or noise_peer.js) in listen or dial mode."""

    def __init__(self, name, argv, mode):
        super().__init__(name, argv, cwd=INTEROP, stdin=True)
        self.mode = mode
        self.listening = None

    def await_listening(self):
        self.listening = self.json(scaled(15), "listening")
        return self

    @property
    def node_id(self):
        return self.listening["node_id"]

    @property
    def target(self):
        return "%s@%s:%d" % (self.listening["node_id"], self.listening["host"],
                             self.listening["port"])

    def report(self, timeout=None):
        return self.json(timeout or scaled(30), "report")

    def command(self, cmd, timeout=None):
        """A --hold driver's answer to one stdin command."""
        self.send(cmd)
        return self.json(timeout or scaled(30))

    def quit(self):
        if self.running():
            try:
                self.send("quit")
            except OSError:
                pass
        try:
            self.p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        return self.stop()


def driver_args(mode, target, hold, wait_ping, timeout, extra):
    argv = [mode] + ([target] if mode == "dial" else [])
    argv += ["--timeout", str(scaled(timeout)), "--wait-ping", str(wait_ping)]
    if hold:
        argv.append("--hold")
    return argv + list(extra)


@pytest.fixture
def procs(request):
    """Every process a test starts; all are stopped when it ends."""
    started = []
    request.node.alight_procs = started
    yield started
    bad = []
    for p in reversed(started):
        if isinstance(p, Driver):
            p.quit()
        elif p.stop() != 0 and isinstance(p, Daemon):
            # alightd "serves until SIGTERM": then it must exit 0 (under ASan, also leak-free).
            bad.append(p.describe())
    if bad:
        pytest.fail("alightd did not exit cleanly on SIGTERM:\n" + "\n".join(bad),
                    pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.when == "call":
        for p in getattr(item, "alight_procs", []):
            rep.sections.append(("process " + p.name, p.describe()))


@pytest.fixture(scope="session")
def alight_bin():
    for prog in ("alightd", "alight-cli"):
        if not os.access(BIN / prog, os.X_OK):
            missing("%s (ALIGHT_BIN=%s; build the tree first)" % (prog, BIN))
    return BIN


_help_cache = {}


def alightd_offers(option):
    """Whether alightd's --help lists `option` (e.g. "--handshake-timeout-ms")."""
    if "text" not in _help_cache:
        try:
            r = subprocess.run([str(BIN / "alightd"), "--help"], capture_output=True, text=True,
                               timeout=scaled(10))
            _help_cache["text"] = r.stdout + r.stderr
        except OSError:
            _help_cache["text"] = ""
    text = _help_cache["text"]
    return any(tok.strip("[]=,") == option for tok in text.split())


@pytest.fixture
def alightd(alight_bin, procs, tmp_path):
    """Factory: alightd(*extra_args) starts a daemon in a fresh datadir and returns a Daemon."""
    count = [0]

    def start(*extra, mnemonic=None, provision=True):
        """mnemonic None: a seed made inside the enclave (a different node each time)."""
        count[0] += 1
        datadir = tmp_path / ("alightd%d" % count[0])
        datadir.mkdir()
        d = Daemon(datadir, extra)
        procs.append(d)  # before the first line is read: stopped even if start-up fails
        return d.await_ready(provision=provision, mnemonic=mnemonic)

    return start


@pytest.fixture(scope="session")
def electrum_available():
    try:
        import electrum.lnpeer  # noqa: F401
        from electrum import version
    except ImportError as e:
        missing("python3-electrum (%s)" % e)
    if not version.ELECTRUM_VERSION.startswith("4.3."):
        missing("python3-electrum 4.3.x (found %s)" % version.ELECTRUM_VERSION)
    return version.ELECTRUM_VERSION


@pytest.fixture(scope="session")
def node_available():
    import shutil
    if shutil.which("node") is None:
        missing("node (Debian's nodejs)")
    for pkg in ("noise", "wire", "crypto", "common"):
        if not (INTEROP / "node_modules" / "@node-dlc" / pkg / "package.json").exists():
            missing("npm package @node-dlc/%s in tests/interop/node_modules" % pkg)
    return True


@pytest.fixture
def electrum_peer(electrum_available, procs):
    """Factory: electrum_peer("listen"|"dial", target=None, hold=False, wait_ping=0, extra=())."""

    def start(mode, target=None, hold=False, wait_ping=0, timeout=20, extra=()):
        argv = [PYTHON, INTEROP / "electrum_peer.py"] + driver_args(
            mode, target, hold, wait_ping, timeout, extra)
        d = Driver("electrum-" + mode, argv, mode)
        procs.append(d)
        return d.await_listening() if mode == "listen" else d

    return start


@pytest.fixture
def noise_peer(node_available, procs):
    """Factory: noise_peer("listen"|"dial", target=None, hold=False, wait_ping=0, extra=())."""

    def start(mode, target=None, hold=False, wait_ping=0, timeout=20, extra=()):
        argv = ["node", INTEROP / "noise_peer.js"] + driver_args(
            mode, target, hold, wait_ping, timeout, extra)
        d = Driver("node-dlc-" + mode, argv, mode)
        procs.append(d)
        return d.await_listening() if mode == "listen" else d

    return start
