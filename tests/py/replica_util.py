"""Helpers for the replica tests (test_store_replicas.py): alightd with several --store,
restarted on the same data directory, and an HTTP proxy that holds requests at a gate.

The stores are the real ones: directories written by alightd and alight-store (SQLite or
PostgreSQL) reached over HTTP; the proxy only forwards (or holds) the bytes, so that a test
decides when the store answers without any timing.
"""
import http.client
import http.server
import socket
import threading
import time

from conftest import scaled
from daemon_util import start_daemon


def storage(d):
    """The node's storage status as the operator's getinfo tells it."""
    return d.cli("getinfo")["storage"]


def reasons(d):
    """Per replica: "" while in the set, else the reason it dropped out."""
    return [r["reason"] for r in storage(d)["replicas"]]


def slot0(d):
    """Node slot 0 as the host sees it (GET /v1/enclave): state and status."""
    slots = d.cli("enclave")["slots"]
    assert slots and slots[0]["node"] == 0, slots
    return slots[0]["state"], slots[0]["status"]


def start(procs, datadir, *extra, provision=True):
    """alightd in `datadir` with `extra`; unless node 0 is there (or provision is False), its
    user provisions it. A node provisioned on remote stores loads its records from them after
    the provision answer: until then it answers AL_E_NODE_STATE, so the slot is awaited."""
    d = start_daemon(procs, datadir, *extra, provision=False)
    if d.info["nodes"] or not provision:
        return d
    d.provision(None)
    deadline = time.monotonic() + scaled(30)
    while slot0(d)[0] == "loading":
        assert time.monotonic() < deadline, "node 0 still loading\n" + d.describe()
        time.sleep(0.05)
    d.await_node()
    return d


def restart(procs, d, *extra):
    """Stop alightd (it must exit 0) and start it again on the same data directory with
    `extra`; the node is not provisioned again (its user and seed stay the same)."""
    rc = d.stop()
    assert rc == 0, "alightd exit %s\n%s" % (rc, d.describe())
    return start(procs, d.datadir, *extra, provision=False)


def stores(*where):
    """--store arguments."""
    out = []
    for w in where:
        out += ["--store", str(w)]
    return out


class GateProxy:
    """An HTTP/1.1 forwarder in front of an alight-store (bound to port 0). While the gate
    is closed, each request is read in full, counted, and held until the gate opens; then it
    goes to the store and its answer comes back unchanged."""

    def __init__(self, upstream):
        # upstream: the store's base URL, http://HOST:PORT/vss
        hostport = upstream.split("://", 1)[1].rsplit("/vss", 1)[0]
        self.up_host, _, port = hostport.rpartition(":")
        self.up_port = int(port)
        self.gate = threading.Event()
        self.gate.set()
        self.cv = threading.Condition()
        self.held = 0  # requests that arrived while the gate was closed
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if not proxy.gate.is_set():
                    with proxy.cv:
                        proxy.held += 1
                        proxy.cv.notify_all()
                    proxy.gate.wait()
                status, data = proxy.forward(self.path, body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/vss" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, path, body, headers):
        c = http.client.HTTPConnection(self.up_host, self.up_port, timeout=scaled(30))
        try:
            h = {k: v for k, v in headers.items()
                 if k.lower() in ("authorization", "content-type")}
            c.request("POST", path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def close_gate(self):
        with self.cv:
            self.held = 0
        self.gate.clear()

    def open_gate(self):
        self.gate.set()

    def wait_held(self, n=1, timeout=None):
        """Until n requests are held at the closed gate."""
        with self.cv:
            ok = self.cv.wait_for(lambda: self.held >= n, timeout=timeout or scaled(30))
        assert ok, "the store got no request while the gate was closed"

    def stop(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


class TcpFront:
    """A TCP forwarder on a port of the OS's choosing in front of a store (`upstream`, its
    http://HOST:PORT/vss URL). `down()` makes the store look stopped without giving the port
    back: connections in flight are cut and every new one is reset at once (never forwarded),
    so no other program can take the port and answer in the store's place."""

    name = "tcp-front"

    def __init__(self, upstream):
        hostport = upstream.split("://", 1)[1].rsplit("/vss", 1)[0]
        host, _, port = hostport.rpartition(":")
        self.up = (host, int(port))
        self.is_down = threading.Event()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.url = "http://127.0.0.1:%d/vss" % self.lsock.getsockname()[1]
        self.live = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _reset(s):
        # SO_LINGER 0: close sends RST, as a dead server's host would refuse.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _serve(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            if self.is_down.is_set():
                self._reset(c)
                continue
            try:
                u = socket.create_connection(self.up, timeout=scaled(30))
            except OSError:
                self._reset(c)
                continue
            with self.lock:
                self.live += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def down(self):
        self.is_down.set()
        with self.lock:
            for s in self.live:
                try:
                    self._reset(s)
                except OSError:
                    pass
            self.live = []

    def describe(self):
        return "forwarding %s to %s:%d%s" % (self.url, self.up[0], self.up[1],
                                            " (down)" if self.is_down.is_set() else "")

    def stop(self):
        self.down()
        self.lsock.close()
        return 0


def refused_url():
    """A store URL where nothing listens, held so for the caller's lifetime: a socket bound
    to a port of the OS's choosing without listening (connections are refused; the port
    cannot be taken). Returns (url, socket); keep the socket open while it is dialled."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return "http://127.0.0.1:%d/vss" % s.getsockname()[1], s
