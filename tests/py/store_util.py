"""Fixtures and a VSS client for the alight-store tests (test_store_service.py).

The client is built on independent implementations: Google's protobuf runtime (messages
described at run time from vss-server's vss.proto, proto3 with its `optional` fields),
Electrum's libsecp256k1 bindings for the signature Authorization header of vss-server's
SignatureValidatingAuthorizer, and Python's http.client / ssl. A real PostgreSQL is started
with initdb/pg_ctl in a temporary directory (as the postgres user when run as root),
listening only on a Unix socket in that directory.
"""

import hashlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from conftest import BIN, Proc, missing, scaled

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SALT = b"VSS Signature Authorizer Signing Salt Constant.................."
assert len(SALT) == 64

# ---- protobuf: vss.proto described at run time (proto3, as vss-server has it) ----


def _vss_classes():
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        missing("python3-protobuf")
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="alight_test_vss.proto", package="vss",
                                             syntax="proto3")
    T = {"string": F.TYPE_STRING, "bytes": F.TYPE_BYTES, "int64": F.TYPE_INT64,
         "int32": F.TYPE_INT32}

    def message(name, *fields):
        m = fdp.message_type.add(name=name)
        for spec in fields:
            label, typ, fname, num = spec
            f = m.field.add(name=fname, number=num,
                            label=F.LABEL_REPEATED if label == "repeated" else F.LABEL_OPTIONAL)
            if typ in T:
                f.type = T[typ]
            elif typ == "ErrorCode":
                f.type, f.type_name = F.TYPE_ENUM, ".vss.ErrorCode"
            else:
                f.type, f.type_name = F.TYPE_MESSAGE, ".vss." + typ
            if label == "optional":
                f.proto3_optional = True
                f.oneof_index = len(m.oneof_decl)
                m.oneof_decl.add(name="_" + fname)

    message("KeyValue", ("", "string", "key", 1), ("", "int64", "version", 2),
            ("", "bytes", "value", 3))
    message("GetObjectRequest", ("", "string", "store_id", 1), ("", "string", "key", 2))
    message("GetObjectResponse", ("", "KeyValue", "value", 2))
    message("PutObjectRequest", ("", "string", "store_id", 1),
            ("optional", "int64", "global_version", 2),
            ("repeated", "KeyValue", "transaction_items", 3),
            ("repeated", "KeyValue", "delete_items", 4))
    message("PutObjectResponse")
    message("DeleteObjectRequest", ("", "string", "store_id", 1), ("", "KeyValue", "key_value", 2))
    message("DeleteObjectResponse")
    message("ListKeyVersionsRequest", ("", "string", "store_id", 1),
            ("optional", "string", "key_prefix", 2), ("optional", "int32", "page_size", 3),
            ("optional", "string", "page_token", 4))
    message("ListKeyVersionsResponse", ("repeated", "KeyValue", "key_versions", 1),
            ("optional", "string", "next_page_token", 2), ("optional", "int64", "global_version", 3))
    message("ErrorResponse", ("", "ErrorCode", "error_code", 1), ("", "string", "message", 2))
    e = fdp.enum_type.add(name="ErrorCode")
    for i, n in enumerate(["UNKNOWN", "CONFLICT_EXCEPTION", "INVALID_REQUEST_EXCEPTION",
                           "INTERNAL_SERVER_EXCEPTION", "NO_SUCH_KEY_EXCEPTION",
                           "AUTH_EXCEPTION"]):
        e.value.add(name=n, number=i)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    out = {}
    for m in fdp.message_type:
        d = pool.FindMessageTypeByName("vss." + m.name)
        if hasattr(message_factory, "GetMessageClass"):
            out[m.name] = message_factory.GetMessageClass(d)
        else:
            out[m.name] = message_factory.MessageFactory(pool).GetPrototype(d)
    return out


PB = _vss_classes()
CONFLICT, INVALID, INTERNAL, NO_SUCH_KEY, AUTH = 1, 2, 3, 4, 5


def kv(key, version=0, value=b""):
    return PB["KeyValue"](key=key, version=version, value=value)


# ---- the signature Authorization header (vss-server auth-impls/src/signature.rs) ----


class User:
    """A secp256k1 key; its compressed public key is the VSS user."""

    def __init__(self, secret=None):
        try:
            from electrum import ecc
        except ImportError:
            missing("python3-electrum (libsecp256k1 bindings)")
        self.secret = secret or os.urandom(32)
        self.key = ecc.ECPrivkey(self.secret)
        self.pub = self.key.get_public_key_bytes(compressed=True)

    def sign(self, digest):
        return self.key.sign(digest)  # 64-byte compact r || s, low-S

    def header(self, now=None, pub=None):
        t = str(int(time.time()) if now is None else now).encode()
        pub = pub or self.pub
        sig = self.sign(hashlib.sha256(SALT + pub + t).digest())
        return pub.hex() + sig.hex() + t.decode()


# ---- HTTP ----


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def error(self):
        e = PB["ErrorResponse"]()
        e.ParseFromString(self.body)
        return e

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:200])


class Client:
    """A VSS client for one user and store_id against a base URL ending in /vss."""

    def __init__(self, url, user=None, store_id="", cafile=None):
        assert url.endswith("/vss"), url
        self.url = url
        self.https = url.startswith("https://")
        hostport = url.split("://", 1)[1].rsplit("/vss", 1)[0]
        self.host, _, port = hostport.rpartition(":")
        self.port = int(port)
        self.user = user or User()
        self.store_id = store_id
        self.cafile = cafile
        self.tls_version = None

    def raw(self, path, body, headers=None, method="POST", auth=True):
        """One request on a fresh connection; returns a Reply."""
        if self.https:
            ctx = ssl.create_default_context(cafile=self.cafile)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            conn = http.client.HTTPSConnection(self.host, self.port, context=ctx,
                                               timeout=scaled(10))
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=scaled(10))
        h = {"Content-Type": "application/octet-stream"}
        if auth:
            h["Authorization"] = self.user.header()
        h.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            if self.https:
                self.tls_version = conn.sock.version()
            return Reply(r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read())
        finally:
            conn.close()

    def call(self, op, msg, **kw):
        return self.raw("/vss/" + op, msg.SerializeToString(), **kw)

    def put(self, items=(), deletes=(), global_version=None, **kw):
        req = PB["PutObjectRequest"](store_id=self.store_id, transaction_items=list(items),
                                     delete_items=list(deletes))
        if global_version is not None:
            req.global_version = global_version
        return self.call("putObjects", req, **kw)

    def get(self, key, **kw):
        return self.call("getObject", PB["GetObjectRequest"](store_id=self.store_id, key=key), **kw)

    def get_kv(self, key):
        r = self.get(key)
        assert r.status == 200, r
        resp = PB["GetObjectResponse"]()
        resp.ParseFromString(r.body)
        assert resp.HasField("value"), r
        return resp.value

    def delete(self, key, version, **kw):
        req = PB["DeleteObjectRequest"](store_id=self.store_id, key_value=kv(key, version))
        return self.call("deleteObject", req, **kw)

    def list(self, prefix=None, page_size=None, token=None, **kw):
        req = PB["ListKeyVersionsRequest"](store_id=self.store_id)
        if prefix is not None:
            req.key_prefix = prefix
        if page_size is not None:
            req.page_size = page_size
        if token is not None:
            req.page_token = token
        r = self.call("listKeyVersions", req, **kw)
        assert r.status == 200, r
        resp = PB["ListKeyVersionsResponse"]()
        resp.ParseFromString(r.body)
        return resp

    def list_all(self, prefix=None, page_size=None):
        """Every page: (keys with versions in order, global_version of page 1, pages)."""
        out, token, gv, pages = [], None, None, 0
        while True:
            page = self.list(prefix, page_size, token)
            if pages == 0:
                assert page.HasField("global_version"), page
                gv = page.global_version
            else:
                assert not page.HasField("global_version"), page
            pages += 1
            out.extend((x.key, x.version) for x in page.key_versions)
            assert all(not x.value for x in page.key_versions)
            if not page.next_page_token:
                return out, gv, pages
            token = page.next_page_token


# ---- processes ----


class Postgres:
    """A throwaway PostgreSQL cluster, trust authentication, user postgres, reached only
    through a Unix socket in its own temporary directory (listen_addresses=''). No TCP
    port is picked, so none can be lost to another test or program between a probe and
    the server's bind."""

    # With a private socket directory the port only names the socket file (.s.PGSQL.5432).
    PORT = 5432

    def __init__(self, durable=False):
        """durable: fsync on (benchmarks); tests run without it, for speed."""
        if not (PG_BIN / "initdb").exists():
            missing("PostgreSQL server (initdb in %s)" % PG_BIN)
        self.dir = Path(tempfile.mkdtemp(prefix="alight-pg-"))
        self.data = self.dir / "data"
        self.root = os.geteuid() == 0
        if self.root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w", "-t", "60",
                  "-o", "-p %d -k %s -c listen_addresses='' -c fsync=%s" %
                  (self.PORT, self.dir, "on" if durable else "off"), "start")
        self.started = True
        self.dbs = 0

    def _run(self, *argv):
        argv = [str(a) for a in argv]
        if self.root:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        r = subprocess.run(argv, capture_output=True, text=True, timeout=scaled(120))
        assert r.returncode == 0, "%s failed: %s %s" % (argv, r.stdout, r.stderr)
        return r.stdout

    def sql(self, statement, db="postgres"):
        return self._run(PG_BIN / "psql", "-h", self.dir, "-p", self.PORT, "-U", "postgres",
                         "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement)

    def new_db(self):
        self.dbs += 1
        name = "vss%d" % self.dbs
        self.sql("CREATE DATABASE %s" % name)
        return name

    def conninfo(self, db):
        return "host=%s port=%d user=postgres dbname=%s" % (self.dir, self.PORT, db)

    def stop(self):
        if self.started:
            self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


class Store(Proc):
    """alight-store; the first stdout line gives its base URL."""

    def __init__(self, datadir, postgres=None, tls=None, extra=()):
        prog = BIN / "alight-store"
        if not os.access(prog, os.X_OK):
            missing("alight-store (ALIGHT_BIN=%s; build the tree first)" % BIN)
        self.datadir, self.postgres, self.tls = Path(datadir), postgres, tls
        argv = [prog, "--datadir", datadir, "--listen", "127.0.0.1:0"]
        if postgres:
            argv += ["--postgres", postgres]
        if tls:
            argv += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        super().__init__("alight-store", argv + list(extra))
        first = self.line(scaled(20))
        self.url = json.loads(first)["url"]

    def client(self, user=None, store_id="", cafile=None):
        return Client(self.url, user, store_id, cafile)


def make_cert(directory):
    """A self-signed P-256 certificate for 127.0.0.1 made by OpenSSL's own CLI."""
    directory = Path(directory)
    cert, key = directory / "cert.pem", directory / "key.pem"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=alight-store test", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(cert), str(key)


# ---- tampering behind the server (the operator's view of the database) ----


class Tamper:
    """Direct edits of one user's objects in the database behind an alight-store, as a
    malicious operator would make them: flip a byte of a stored value, swap two values,
    put back an older row. The server serves whatever the database holds; catching it is
    the node's key-value layer's job (store/kv.h, store/seal.h)."""

    def __init__(self, store, cluster=None):
        self.store, self.cluster = store, cluster

    def _where(self, user, store_id, key):
        return "user%s = X'%s' AND store_id = X'%s' AND key = X'%s'" % (
            "_key" if self.cluster else "", user.pub.hex(), store_id.encode().hex(),
            key.encode().hex())

    def _sql(self, statement):
        if self.cluster:
            statement = statement.replace("X'", "'\\x")
            return self.cluster.sql(statement, self.store.db)
        import sqlite3
        con = sqlite3.connect(str(self.store.datadir / "vss.sqlite3"), timeout=10)
        try:
            rows = con.execute(statement).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def row(self, user, store_id, key):
        """(version, value) as stored."""
        out = self._sql("SELECT version, %s FROM vss_objects WHERE %s" % (
            "encode(value, 'hex')" if self.cluster else "hex(value)",
            self._where(user, store_id, key)))
        if self.cluster:
            version, value = out.strip().split("|")
            return int(version), bytes.fromhex(value)
        return out[0][0], bytes.fromhex(out[0][1])

    def set_row(self, user, store_id, key, version, value):
        self._sql("UPDATE vss_objects SET version = %d, value = X'%s' WHERE %s" % (
            version, value.hex(), self._where(user, store_id, key)))

    def flip(self, user, store_id, key, offset, mask=0x01):
        version, value = self.row(user, store_id, key)
        b = bytearray(value)
        b[offset] ^= mask
        self.set_row(user, store_id, key, version, bytes(b))

    def swap(self, user, store_id, k1, k2):
        r1, r2 = self.row(user, store_id, k1), self.row(user, store_id, k2)
        self.set_row(user, store_id, k1, r1[0], r2[1])
        self.set_row(user, store_id, k2, r2[0], r1[1])
