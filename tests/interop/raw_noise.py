"""A blocking BOLT 8 initiator over a raw socket, built from Electrum's own transport primitives.

The hostile-peer tests need to stop a handshake half-way, corrupt a MAC or send a frame that a
well-behaved transport never would, so they cannot use lntransport.LNTransport as a whole. This
module performs the same steps as LNTransport.handshake (electrum/lntransport.py, 4.3.4), one act
at a time, with Electrum's HandshakeState, act1_initiator_message, get_bolt8_hkdf, get_ecdh and
aead_encrypt/aead_decrypt, and keeps the transport keys in an LNTransportBase so that frames are
encrypted by Electrum's send_bytes (nonces and key rotation included).
"""

import socket
import time

from electrum import ecc
from electrum.lntransport import (HandshakeState, LNTransportBase, act1_initiator_message,
                                  aead_decrypt, aead_encrypt, create_ephemeral_key,
                                  get_bolt8_hkdf)
from electrum.lnutil import get_ecdh, privkey_to_pubkey

ACT1_LEN = 50
ACT2_LEN = 50
ACT3_LEN = 66


class _SocketWriter:
    def __init__(self, sock):
        self.sock = sock

    def write(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


class RawInitiator(LNTransportBase):
    """One connection to a BOLT 8 responder; every step is a separate call."""

    def __init__(self, remote_pub, host, port, privkey=None, timeout=10.0):
        LNTransportBase.__init__(self)
        self.privkey = privkey or ecc.ECPrivkey.generate_random_key().get_secret_bytes()
        self.pubkey = privkey_to_pubkey(self.privkey)
        self.remote_pub = remote_pub
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.writer = _SocketWriter(self.sock)
        self.hs = HandshakeState(remote_pub)
        self.epriv, self.epub = create_ephemeral_key()
        self._temp_k2 = None

    def act1(self):
        """Act one, 50 bytes: version 0, our ephemeral key, MAC under the responder's key."""
        msg, _ = act1_initiator_message(self.hs, self.epriv, self.epub)
        return msg

    def read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def process_act2(self, act2):
        """Checks act two (raises on a bad version or MAC) and keeps its keys for act three."""
        if len(act2) != ACT2_LEN or act2[0] != 0:
            raise ValueError("bad act two %s" % act2.hex())
        re, tag = act2[1:34], act2[34:]
        self.hs.update(re)
        ck, temp_k2 = get_bolt8_hkdf(self.hs.ck, get_ecdh(self.epriv, re))
        self.hs.ck = ck
        aead_decrypt(temp_k2, 0, self.hs.h, tag)
        self.hs.update(tag)
        self._temp_k2 = temp_k2
        self._re = re

    def act3(self):
        """Act three, 66 bytes, and the transport keys (Electrum's LNTransport.handshake)."""
        c = aead_encrypt(self._temp_k2, 1, self.hs.h, self.pubkey)
        self.hs.update(c)
        ck, temp_k3 = get_bolt8_hkdf(self.hs.ck, get_ecdh(self.privkey, self._re))
        self.hs.ck = ck
        t = aead_encrypt(temp_k3, 0, self.hs.h, b"")
        self.sk, self.rk = get_bolt8_hkdf(ck, b"")
        self.init_counters(ck)
        return b"\x00" + c + t

    def handshake(self):
        self.sock.sendall(self.act1())
        self.process_act2(self.read_exact(ACT2_LEN))
        self.sock.sendall(self.act3())

    def frame(self, msg):
        """The encrypted frame of msg, consuming two sending nonces."""
        sent = []
        saved = self.writer
        self.writer = type("W", (), {"write": lambda _s, d: sent.append(d)})()
        try:
            self.send_bytes(msg)
        finally:
            self.writer = saved
        return sent[0]

    def recv_msg(self):
        """One decrypted message; raises ConnectionError on EOF, socket.timeout on silence."""
        rn_l, rk_l = self.rn()
        length = int.from_bytes(aead_decrypt(rk_l, rn_l, b"", self.read_exact(18)), "big")
        rn_m, rk_m = self.rn()
        return aead_decrypt(rk_m, rn_m, b"", self.read_exact(length + 16))

    def recv_until(self, msg_type, limit=50):
        """Messages up to and including the first of msg_type (others are skipped)."""
        for _ in range(limit):
            m = self.recv_msg()
            if int.from_bytes(m[:2], "big") == msg_type:
                return m
        raise AssertionError("no message of type %d in %d messages" % (msg_type, limit))

    def wait_closed(self, timeout):
        """Seconds until the remote closed the connection (EOF or reset), reading and dropping
        whatever it sends meanwhile; raises TimeoutError if it is still open after timeout."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("remote still connected after %.1fs" % timeout)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - t0
            if not data:
                return time.monotonic() - t0

    def close(self):
        self.sock.close()
