"""Many half-open TCP connections against one listener, in batches, with epoll.

Each connection is opened, sends nothing or the first bytes of a BOLT 8 act one, and then either
half-closes (FIN) and waits for the listener to close its side, or resets (SO_LINGER 0). The
listener must end every connection (EOF or reset) without sending a byte: there is no key to
send anything with before act two, and act two needs the whole act one.
"""

import errno
import os
import resource
import select
import socket
import struct
import time
from collections import Counter

# What each connection does, by index modulo 4.
SILENT_FIN = 0   # connect, send nothing, half-close
HALF_ACT_FIN = 1  # connect, send 25 of act one's 50 bytes, half-close
SILENT_HOLD = 2  # connect, send nothing; the listener closes it (refused or timed out) or we do
HALF_ACT_RST = 3  # connect, send 25 bytes, reset


def raise_nofile(want):
    """Raise RLIMIT_NOFILE's soft limit towards `want` (up to the hard limit); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def flood(host, port, total, batch, half_act, close_wait, hold_wait=0.0):
    """Opens `total` connections, `batch` at a time; returns a Counter of outcomes:
    connected, connect_error, closed_by_peer (EOF or reset seen by us), reset_by_us,
    closed_by_us (SILENT_HOLD still open after hold_wait), still_open (a FIN'ed
    connection the listener did not close within close_wait), unexpected_bytes."""
    stats = Counter()
    for start in range(0, total, batch):
        _one_batch(host, port, range(start, min(total, start + batch)), half_act, close_wait,
                   hold_wait, stats)
    return stats


def _one_batch(host, port, indices, half_act, close_wait, hold_wait, stats):
    ep = select.epoll()
    conns = {}
    try:
        for i in indices:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                stats["connect_error"] += 1
                s.close()
                continue
            conns[s.fileno()] = (i, s)
            ep.register(s.fileno(), select.EPOLLOUT)
        _await_connected(ep, conns, half_act, stats, close_wait)
        _await_closed(ep, conns, close_wait, hold_wait, stats)
    finally:
        for _, s in conns.values():
            s.close()
        ep.close()


def _await_connected(ep, conns, half_act, stats, timeout):
    waiting = set(conns)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for fd, _ in ep.poll(0.05):
            if fd not in waiting:
                continue
            waiting.discard(fd)
            i, s = conns[fd]
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                stats["connect_error"] += 1
                ep.unregister(fd)
                s.close()
                del conns[fd]
                continue
            stats["connected"] += 1
            mode = i % 4
            try:
                if mode in (HALF_ACT_FIN, HALF_ACT_RST):
                    s.send(half_act)
                if mode == HALF_ACT_RST:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    stats["reset_by_us"] += 1
                    ep.unregister(fd)
                    s.close()
                    del conns[fd]
                    continue
                if mode in (SILENT_FIN, HALF_ACT_FIN):
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                # The listener refused it already (reset): that is its clean end.
                stats["closed_by_peer"] += 1
                ep.unregister(fd)
                s.close()
                del conns[fd]
                continue
            ep.modify(fd, select.EPOLLIN | select.EPOLLRDHUP)
    for fd in waiting:
        if fd in conns:
            stats["connect_timeout"] += 1
            ep.unregister(fd)
            conns.pop(fd)[1].close()


def _await_closed(ep, conns, close_wait, hold_wait, stats):
    start = time.monotonic()
    while conns:
        now = time.monotonic()
        holding = [fd for fd, (i, _) in conns.items() if i % 4 == SILENT_HOLD]
        if holding and len(holding) == len(conns) and now - start >= hold_wait:
            for fd in holding:
                stats["closed_by_us"] += 1
                ep.unregister(fd)
                conns.pop(fd)[1].close()
            break
        if now - start >= max(close_wait, hold_wait):
            break
        for fd, _ in ep.poll(0.05):
            if fd not in conns:
                continue
            i, s = conns[fd]
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                stats["unexpected_bytes"] += len(data)
                continue
            stats["closed_by_peer"] += 1
            ep.unregister(fd)
            s.close()
            del conns[fd]
    for fd, (i, s) in list(conns.items()):
        stats["closed_by_us" if i % 4 == SILENT_HOLD else "still_open"] += 1
        ep.unregister(fd)
        s.close()
        del conns[fd]


if __name__ == "__main__":  # a quick look by hand: flood.py HOST PORT [TOTAL]
    import sys
    raise_nofile(4096)
    t0 = time.monotonic()
    r = flood(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1000,
              500, os.urandom(25), 5.0)
    print(dict(r), "%.2fs" % (time.monotonic() - t0))
