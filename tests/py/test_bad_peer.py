"""Hostile peers against alightd over raw TCP sockets.

Every case ends in a clean disconnect by alightd, and alightd goes on serving: after each one a
fresh legitimate peer completes the handshake, the init exchange and a ping/pong. The valid acts
and frames come from Electrum's own BOLT 8 code (tests/interop/raw_noise.py), so only the byte
that a case breaks is wrong.

BOLT #8 on a failed handshake: "If v is an unrecognized handshake version, then the responder
MUST abort the connection attempt." and "If the MAC check ever fails during the handshake
process, then the connection is to be immediately terminated." Until act three is accepted there
is no transport key to encrypt a warning with, so alightd must close without sending a byte; after
it, alightd may send a warning or error (BOLT 1) before closing, never anything else.
"""

import hashlib
import os
import re
import socket
import time

import pytest

from conftest import REGTEST_CHAIN, SANITIZE, scaled
from flood import flood, raise_nofile
from raw_noise import ACT1_LEN, ACT2_LEN, ACT3_LEN, RawInitiator

# How long a test waits for alightd to close a connection it has a reason to close. Its
# poll loop reacts at once; this only tells a hang from a close, so it is long enough for a
# loaded 2-core machine running tests in parallel with a build (how fast is a benchmark's
# question, not a test's).
CLOSE_WITHIN = scaled(20)
# Handshake timeout asked of alightd for the slow-peer case (its default is 10 s).
HANDSHAKE_TIMEOUT_MS = 1500

# The secp256k1 generator: a valid public key.
G_PUBKEY = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"

MSG_WARNING, MSG_INIT, MSG_ERROR, MSG_PING, MSG_PONG = 1, 16, 17, 18, 19


def junk(n):
    """n fixed bytes that look random (SHA-256 in counter mode): the same every run."""
    out = b""
    while len(out) < n:
        out += hashlib.sha256(b"alight bad peer %d" % len(out)).digest()
    return out[:n]


def init_msg(bits=(1, 7, 9, 13, 15), chain=REGTEST_CHAIN):
    """BOLT 1 init: gflen 0, features (minimal big-endian), networks TLV (type 1)."""
    v = sum(1 << b for b in bits)
    f = v.to_bytes((v.bit_length() + 7) // 8, "big")
    tlv = bytes([1, 32]) + bytes.fromhex(chain)
    return MSG_INIT.to_bytes(2, "big") + b"\0\0" + len(f).to_bytes(2, "big") + f + tlv


def ping_msg(num_pong_bytes=4, ignored=4):
    return (MSG_PING.to_bytes(2, "big") + num_pong_bytes.to_bytes(2, "big") +
            ignored.to_bytes(2, "big") + bytes(ignored))


def msg_type(m):
    return int.from_bytes(m[:2], "big")


def local_port(r):
    return r.sock.getsockname()[1]


def dial(d):
    return RawInitiator(bytes.fromhex(d.node_id), d.host, d.port, timeout=scaled(10))


def established(d):
    """A raw peer past the handshake and the init exchange."""
    r = dial(d)
    r.handshake()
    first = r.recv_msg()
    assert msg_type(first) == MSG_INIT, "alightd's first message is type %d" % msg_type(first)
    r.sock.sendall(r.frame(init_msg()))
    return r


def ping_pong(r):
    """Our ping, alightd's pong of the asked size (its own pings, if any, are answered)."""
    r.sock.sendall(r.frame(ping_msg(num_pong_bytes=7)))
    for _ in range(20):
        m = r.recv_msg()
        if msg_type(m) == MSG_PING:
            n = int.from_bytes(m[2:4], "big")
            r.sock.sendall(r.frame(MSG_PONG.to_bytes(2, "big") + n.to_bytes(2, "big") + bytes(n)))
            continue
        assert msg_type(m) == MSG_PONG, "expected pong, got type %d" % msg_type(m)
        assert int.from_bytes(m[2:4], "big") == 7
        return
    raise AssertionError("no pong")


def assert_serves(d):
    """alightd still accepts a legitimate peer: handshake, init both ways, ping/pong."""
    assert d.running(), "alightd died\n" + d.describe()
    r = established(d)
    try:
        ping_pong(r)
        d.wait_peer(r.pubkey.hex(), connected=True)
    finally:
        r.close()


def closed_silently(sock, within=CLOSE_WITHIN):
    """alightd closes the connection (EOF or reset) within `within` s without sending a byte."""
    sock.settimeout(within)
    t0 = time.monotonic()
    got = b""
    while True:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            raise AssertionError("alightd kept the connection open %.1fs (received %r)" %
                                 (within, got)) from None
        except ConnectionResetError:
            break
        if not data:
            break
        got += data
    assert got == b"", "alightd sent %d bytes before closing: %s" % (len(got), got[:64].hex())
    return time.monotonic() - t0


def closed_after_warning(r, within=CLOSE_WITHIN):
    """After the handshake: alightd closes the connection, having sent at most its init (it
    sends init at once), pings, and a warning or error (BOLT 1). Returns the message types."""
    r.sock.settimeout(within)
    seen = []
    while True:
        try:
            m = r.recv_msg()
        except (ConnectionError, OSError) as e:
            if isinstance(e, socket.timeout):
                raise AssertionError("alightd kept the connection open; saw %r" % seen) from None
            return seen
        seen.append(msg_type(m))
        assert msg_type(m) in (MSG_WARNING, MSG_ERROR, MSG_PING, MSG_INIT), seen


# --- before and during the handshake ---------------------------------------------------------

@pytest.mark.parametrize("garbage,reason", [
    # version byte 'G'
    (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + bytes(15), "unknown handshake version"),
    # version 0, then 33 bytes that are no public key (prefix 5)
    (b"\x00\x05" + junk(48), "invalid public key"),
    # all zero: the zero "point" is invalid
    (bytes(ACT1_LEN), "invalid public key"),
    # version 0, a valid key, a MAC that is not one
    (b"\x00" + bytes.fromhex(G_PUBKEY) + junk(16), "MAC check failed"),
], ids=["http", "badkey", "zeros", "badmac"])
def test_garbage_before_handshake(alightd, garbage, reason):
    assert len(garbage) == ACT1_LEN  # the responder judges act one once it has all of it
    d = alightd()
    s = socket.create_connection((d.host, d.port))
    s.sendall(garbage)
    closed_silently(s)
    port = s.getsockname()[1]
    s.close()
    assert re.search(reason, d.disconnect_reason(port))
    assert_serves(d)


def test_wrong_version_act1(alightd):
    d = alightd()
    r = dial(d)
    act1 = r.act1()
    r.sock.sendall(b"\x01" + act1[1:])
    closed_silently(r.sock)
    assert "unknown handshake version" in d.disconnect_reason(local_port(r))
    assert_serves(d)


def test_bad_mac_act1(alightd):
    d = alightd()
    r = dial(d)
    act1 = bytearray(r.act1())
    act1[-1] ^= 1
    r.sock.sendall(act1)
    closed_silently(r.sock)
    assert "MAC check failed" in d.disconnect_reason(local_port(r))
    assert_serves(d)


def test_truncated_act1_then_close(alightd):
    d = alightd()
    r = dial(d)
    r.sock.sendall(r.act1()[:ACT1_LEN // 2])
    r.sock.shutdown(socket.SHUT_WR)
    closed_silently(r.sock)
    assert "truncated" in d.disconnect_reason(local_port(r))
    assert_serves(d)


def test_truncated_act3_then_close(alightd):
    d = alightd()
    r = dial(d)
    r.sock.sendall(r.act1())
    r.process_act2(r.read_exact(ACT2_LEN))  # act two is valid: alightd did its part
    r.sock.sendall(r.act3()[:ACT3_LEN // 2])
    r.sock.shutdown(socket.SHUT_WR)
    closed_silently(r.sock)
    assert "truncated" in d.disconnect_reason(local_port(r))
    assert d.peer(r.pubkey.hex()) is None or not d.peer(r.pubkey.hex())["connected"]
    assert_serves(d)


@pytest.mark.parametrize("where", ["version", "mac"])
def test_bad_act3(alightd, where):
    d = alightd()
    r = dial(d)
    r.sock.sendall(r.act1())
    r.process_act2(r.read_exact(ACT2_LEN))
    act3 = bytearray(r.act3())
    if where == "version":
        act3[0] = 1
    else:
        act3[-1] ^= 0x80
    r.sock.sendall(act3)
    closed_silently(r.sock)
    assert ("unknown handshake version" if where == "version" else "MAC check failed") in \
        d.disconnect_reason(local_port(r))
    assert d.peer(r.pubkey.hex()) is None or not d.peer(r.pubkey.hex())["connected"]
    assert_serves(d)


# --- after the handshake ---------------------------------------------------------------------

def test_garbage_after_handshake(alightd):
    """A frame whose length MAC is wrong: the engine closes and has nothing to say."""
    d = alightd()
    r = dial(d)
    r.handshake()
    r.sock.sendall(junk(18 + 16 + 10))
    assert closed_after_warning(r) in ([], [MSG_INIT])  # no key agreed for a warning
    assert "MAC check failed" in d.disconnect_reason(local_port(r))
    assert_serves(d)


def test_bad_mac_after_init(alightd):
    """A valid frame of a ping with one bit of its body flipped, after init both ways."""
    d = alightd()
    r = established(d)
    ping_pong(r)
    frame = bytearray(r.frame(ping_msg()))
    frame[20] ^= 1
    r.sock.sendall(frame)
    closed_after_warning(r)
    assert "MAC check failed" in d.disconnect_reason(local_port(r))
    d.wait_peer(r.pubkey.hex(), connected=False)
    assert_serves(d)


def test_oversize_length_then_close(alightd):
    """A length prefix of 65535 (the BOLT 8 maximum) with only part of the body, then FIN:
    the stream ends inside a frame."""
    d = alightd()
    r = established(d)
    frame = r.frame(MSG_PING.to_bytes(2, "big") + junk(65533))
    r.sock.sendall(frame[:18 + 1000])
    r.sock.shutdown(socket.SHUT_WR)
    closed_after_warning(r)
    assert "truncated" in d.disconnect_reason(local_port(r))
    assert_serves(d)


def test_max_size_unknown_odd_message(alightd):
    """A full 65535-byte message of an unknown odd type is ignored (BOLT 1: "upon receiving a
    message of _odd_, unknown type: MUST ignore the received message"); the peer stays."""
    d = alightd()
    r = established(d)
    odd = (0x8001).to_bytes(2, "big") + bytes(65533)
    r.sock.sendall(r.frame(odd) + r.frame(odd))
    ping_pong(r)
    assert d.peer(r.pubkey.hex())["connected"]
    r.close()


def test_init_length_past_end(alightd):
    """init whose flen claims more bytes than the message has: malformed, the connection fails
    (with a warning) and the peer is never listed as connected."""
    d = alightd()
    r = dial(d)
    r.handshake()
    assert msg_type(r.recv_msg()) == MSG_INIT
    r.sock.sendall(r.frame(MSG_INIT.to_bytes(2, "big") + b"\0\0" + b"\xff\xf0" + bytes(8)))
    seen = closed_after_warning(r)
    assert MSG_WARNING in seen or MSG_ERROR in seen, seen
    assert "truncated" in d.disconnect_reason(local_port(r))
    assert d.peer(r.pubkey.hex()) is None or not d.peer(r.pubkey.hex())["connected"]
    assert_serves(d)


def test_init_wrong_chain(alightd):
    """BOLT 1: "upon receiving `networks` containing no common chains - MAY close the
    connection." alightd does, with an error."""
    d = alightd()
    r = dial(d)
    r.handshake()
    assert msg_type(r.recv_msg()) == MSG_INIT
    mainnet = "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000"
    r.sock.sendall(r.frame(init_msg(chain=mainnet)))
    seen = closed_after_warning(r)
    assert MSG_ERROR in seen, seen
    assert "no chain" in d.disconnect_reason(local_port(r))
    assert_serves(d)


# --- slow and half-open peers ----------------------------------------------------------------

def test_slow_handshake_times_out(alightd):
    """One byte per second of a valid act one: alightd's handshake timeout ends it, long before
    the 50 bytes are in."""
    d = alightd("--handshake-timeout-ms", str(HANDSHAKE_TIMEOUT_MS))
    # alightd's timer starts when it accepts, so the clock starts before we dial: started
    # after, it would lose however long a loaded machine took to dial and make act one.
    t0 = time.monotonic()
    r = dial(d)
    act1 = r.act1()
    r.sock.settimeout(1.0)
    closed = False
    for i in range(ACT1_LEN):
        try:
            r.sock.sendall(act1[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        try:
            data = r.sock.recv(1)
        except socket.timeout:
            continue
        except ConnectionResetError:
            closed = True
            break
        assert data == b"", "alightd answered an incomplete act one: %r" % data
        closed = True
        break
    elapsed = time.monotonic() - t0
    assert closed, "alightd let a 1 byte/s peer finish act one"
    # (Its clock counts whole milliseconds: it may fire up to 1 ms before the real time.)
    assert elapsed >= HANDSHAKE_TIMEOUT_MS / 1000 - 0.002, "closed early: %.3fs" % elapsed
    # Late only as a loaded machine is late: well before the 50 s act one takes at 1 byte/s.
    assert elapsed < HANDSHAKE_TIMEOUT_MS / 1000 + scaled(10), "closed late: %.2fs" % elapsed
    assert "handshake timed out" in d.disconnect_reason(local_port(r))
    assert_serves(d)


FLOOD_TOTAL = 10_000
FLOOD_BATCH = 1000
# Handshake timeout for the flood's alightd: connections that hold a pending-handshake slot and
# send nothing more are closed by alightd after this.
FLOOD_HANDSHAKE_MS = 1000


def test_half_open_flood(alightd, electrum_peer, noise_peer):
    """Two rounds of 10,000 half-open connections (silent or half an act one; then FIN, reset
    or left open) while an Electrum peer stays connected. Every one ends in a clean
    disconnect and nothing is sent to any of them; alightd's descriptors come back to where
    they were; the Electrum peer keeps working (ping/pong after each round) and a new node-dlc
    peer can connect; memory stays within the arena allocated at start and does not grow."""
    raise_nofile(2 * FLOOD_BATCH + 256)
    d = alightd("--handshake-timeout-ms", str(FLOOD_HANDSHAKE_MS))
    mem_start = d.memory()
    arena_kib = arena_size(d) // 1024
    e = electrum_peer("dial", d.target, hold=True)
    er = e.report()
    assert er["ok"], er
    d.wait_peer(er["our_node_id"], connected=True)
    fds0 = d.fds()
    half_act = dial_act1_prefix(d)

    # First, connections that each get a pending-handshake slot (batches below alightd's 16),
    # so every one is judged by the handshake code itself: EOF inside act one, a reset, or
    # silence until the handshake timeout. All must be closed by alightd, none by us.
    st = flood(d.host, d.port, 48, 12, half_act, close_wait=scaled(5),
               hold_wait=FLOOD_HANDSHAKE_MS / 1000 + scaled(2))
    assert st["connected"] == 48 and st["reset_by_us"] == 12, dict(st)
    assert st["closed_by_peer"] == 36 and not st["closed_by_us"], dict(st)
    assert not st["unexpected_bytes"] and not st["still_open"], dict(st)
    wait_fds(d, fds0)
    mem0 = d.memory()

    rounds = []
    for _ in range(2):
        t0 = time.monotonic()
        st = flood(d.host, d.port, FLOOD_TOTAL, FLOOD_BATCH, half_act, close_wait=scaled(5))
        secs = time.monotonic() - t0
        assert st["connected"] == FLOOD_TOTAL and not st["connect_error"], dict(st)
        assert not st["connect_timeout"], dict(st)
        assert not st["unexpected_bytes"], "alightd sent bytes to a half-open peer: %r" % dict(st)
        assert not st["still_open"], "alightd left %d half-closed connections open: %r" % (
            st["still_open"], dict(st))
        wait_fds(d, fds0)
        rounds.append((secs, dict(st), d.memory()))

        # The peer connected before the abuse still works, and a new one can connect.
        r = e.command("ping", timeout=scaled(15))
        assert r.get("event") == "pong", r
        n = noise_peer("dial", d.target)
        nr = n.report()
        assert nr["ok"] and nr["remote_node_id"] == d.node_id, nr
        n.wait(scaled(10))
        d.wait_peer(nr["our_node_id"], connected=False)

    assert d.wait_peer(er["our_node_id"], connected=True)
    print("flood: arena %d KiB, memory at start %r, before %r, rounds %r" % (
        arena_kib, mem_start, mem0, rounds))
    check_memory(arena_kib, mem0, [m for _, _, m in rounds])


def arena_size(d):
    """The arena alightd allocated at start, from its start-up log line (`... arena=N`)."""
    m = re.search(r"started .*arena=(\d+)", d.stderr(limit=1 << 20))
    assert m, "alightd did not log its arena size\n" + d.describe()
    return int(m.group(1))


def dial_act1_prefix(d):
    """The first half of a valid act one for d's key (a real initiator's first bytes)."""
    r = dial(d)
    a = r.act1()
    r.sock.close()
    return a[:ACT1_LEN // 2]


def wait_fds(d, fds0):
    """alightd's descriptors come back to what they were: every connection was closed."""
    deadline = time.monotonic() + scaled(10)
    while d.fds() > fds0:
        if time.monotonic() > deadline:
            raise AssertionError("alightd holds %d descriptors, %d before the flood" %
                                 (d.fds(), fds0))
        time.sleep(0.05)


# What alightd's resident set may hold besides its arena: the program, libc, libsecp256k1,
# OpenSSL, SQLite, libpq, jansson and the stack, about 6 MiB measured; socket buffers are
# kernel memory and not counted. Under ASan the runtime, shadow memory and quarantine add more.
NON_ARENA_KIB = 64 * 1024 if SANITIZE else 16 * 1024
# Growth allowed from one flood round to the next: allocator noise, a few pages. Nothing in
# alightd allocates per connection, so a leak of even 32 bytes per connection (320 KiB per
# round) is caught.
ROUND_SLACK_KIB = 256


def check_memory(arena_kib, mem0, rounds):
    """Memory is bounded by what alightd allocates at start.

    alightd allocates one arena at start-up (apps/alightd/alightd.h, "ONE allocation for the
    daemon's lifetime") and nothing per connection: connection slots with their BOLT 8 engines
    (~128 KiB each), the out-queues and the poll table are carved from it, and a handshake
    beyond max_pending_handshakes is refused at once. So the high-water mark after 10,000
    half-open connections is at most the arena plus the fixed rest (NON_ARENA_KIB), and a
    second round of 10,000, which reuses the same slots, grows neither the resident set nor
    its high-water mark beyond ROUND_SLACK_KIB."""
    m1, m2 = rounds
    for m in (m1, m2):
        assert m["VmHWM"] <= arena_kib + NON_ARENA_KIB, (arena_kib, m)
    assert m1["VmRSS"] - mem0["VmRSS"] <= 16 * 132 + ROUND_SLACK_KIB, (mem0, m1)
    assert m2["VmRSS"] - m1["VmRSS"] <= ROUND_SLACK_KIB, (m1, m2)
    assert m2["VmHWM"] - m1["VmHWM"] <= ROUND_SLACK_KIB, (m1, m2)
