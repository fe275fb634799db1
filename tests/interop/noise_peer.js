#!/usr/bin/env node
/*
 * A second independent Lightning transport for alight's interop tests: @node-dlc/noise (BOLT 8)
 * with @node-dlc/wire's init/ping/pong codecs (BOLT 1).
 *
 * Usage:
 *   node noise_peer.js listen [--host H] [--port P]   prints {"event":"listening","node_id",..,"port"}
 *                                                      and serves ONE connection
 *   node noise_peer.js dial NODE_ID@HOST:PORT
 * Options:
 *   --privkey HEX     our node secret (default random)
 *   --features LIST   comma-separated feature bits for our init (default 1,7,9,13,15: the optional
 *                     data_loss_protect, gossip_queries, var_onion_optin, static_remotekey and
 *                     payment_secret, enough for Electrum's requirements)
 *   --wait-ping SECS  after our ping was answered, wait this long for the remote's ping (default 0)
 *   --hold            after the report keep the connection and obey stdin lines:
 *                     "ping", "wait-ping SECS", "status", "quit" (EOF = quit)
 *   --timeout SECS    bound on each step (default 20)
 *
 * The exchange: BOLT 8 handshake, our init (features + networks TLV with the regtest chain hash),
 * the remote's init, our ping (num_pong_bytes 4) which must be answered by a pong of 4 bytes; any
 * ping of the remote is answered per BOLT 1. One JSON object per stdout line; the report line has
 * "event":"report". Exit status 0 when the exchange completed.
 */
'use strict';

const noise = require('@node-dlc/noise');
const crypto = require('@node-dlc/crypto');
const { BitField } = require('@node-dlc/common');
const { InitMessage, PingMessage, PongMessage } = require('@node-dlc/wire');
const readline = require('readline');

/* Bitcoin regtest genesis hash in internal byte order, as BOLT 1's networks TLV carries it. */
const REGTEST_CHAIN = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f';
const MSG_INIT = 16;
const MSG_ERROR = 17;
const MSG_PING = 18;
const MSG_PONG = 19;
const MSG_WARNING = 1;
/* BOLT 1: num_pong_bytes >= 65532 asks for no pong. */
const PONG_THRESHOLD = 65532;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function parseArgs(argv) {
  const a = { host: '127.0.0.1', port: 0, timeout: 20, waitPing: 0, hold: false,
    features: [1, 7, 9, 13, 15] };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--host') a.host = argv[++i];
    else if (k === '--port') a.port = Number(argv[++i]);
    else if (k === '--privkey') a.privkey = argv[++i];
    else if (k === '--timeout') a.timeout = Number(argv[++i]);
    else if (k === '--wait-ping') a.waitPing = Number(argv[++i]);
    else if (k === '--hold') a.hold = true;
    else if (k === '--features') a.features = argv[++i].split(',').filter((x) => x !== '').map(Number);
    else rest.push(k);
  }
  a.mode = rest[0];
  a.target = rest[1];
  if (a.mode !== 'listen' && !(a.mode === 'dial' && a.target)) {
    process.stderr.write('usage: noise_peer.js listen|dial NODE_ID@HOST:PORT [options]\n');
    process.exit(2);
  }
  return a;
}

function featureBits(buf) {
  const v = BitField.fromBuffer(buf).toBigInt();
  const bits = [];
  for (let i = 0; v >> BigInt(i); i++) if ((v >> BigInt(i)) & 1n) bits.push(i);
  return bits;
}

/* One connected peer: the message pump, the remote's init, pings and pongs. */
class Session {
  constructor(sock, args, role) {
    this.sock = sock;
    this.args = args;
    this.role = role;
    this.received = [];
    this.pings = [];
    this.pongs = [];
    this.errors = [];
    this.waiters = [];
    this.closed = false;
    this.closeReason = null;
    this.theirInit = null;
    sock.on('data', (m) => this.onMessage(m));
    sock.on('error', (e) => { this.closeReason = this.closeReason || String(e && e.message); });
    sock.on('close', () => { this.closed = true; this.wake(); });
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /* Resolves when pred() holds; rejects on close or after secs. */
  until(pred, secs, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for ' + what)), secs * 1000);
      const check = () => {
        if (pred()) { clearTimeout(timer); resolve(); return; }
        if (this.closed) {
          clearTimeout(timer);
          reject(new Error('connection closed by remote while waiting for ' + what +
            (this.closeReason ? ' (' + this.closeReason + ')' : '')));
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  onMessage(m) {
    const type = m.readUInt16BE(0);
    this.received.push(type);
    try {
      if (type === MSG_INIT) {
        if (!this.theirInit) this.theirInit = InitMessage.deserialize(m);
      } else if (type === MSG_PING) {
        const ping = PingMessage.deserialize(m);
        this.pings.push({ num_pong_bytes: ping.numPongBytes, byteslen: ping.ignored.length });
        if (ping.numPongBytes < PONG_THRESHOLD) this.sock.write(new PongMessage(ping.numPongBytes).serialize());
      } else if (type === MSG_PONG) {
        this.pongs.push({ byteslen: PongMessage.deserialize(m).ignored.length });
      } else if (type === MSG_ERROR || type === MSG_WARNING) {
        this.errors.push({ type: type === MSG_ERROR ? 'error' : 'warning', data: m.slice(36).toString('hex') });
      }
    } catch (e) {
      this.closeReason = 'unparsable message type ' + type + ': ' + e.message;
      this.sock.destroy();
    }
    this.wake();
  }

  sendInit() {
    const init = new InitMessage();
    for (const b of this.args.features) init.features.set(b);
    init.chainHashes = [Buffer.from(REGTEST_CHAIN, 'hex')];
    this.sock.write(init.serialize());
  }

  async ping(numPongBytes = 4) {
    const before = this.pongs.length;
    const t0 = process.hrtime.bigint();
    const ping = new PingMessage();
    ping.numPongBytes = numPongBytes;
    ping.ignored = Buffer.alloc(4);
    this.sock.write(ping.serialize());
    await this.until(() => this.pongs.length > before, this.args.timeout, 'pong');
    return { event: 'pong', byteslen: this.pongs[before].byteslen, expected: numPongBytes,
      ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  }

  report() {
    const out = {
      remote_node_id: this.sock.rpk ? this.sock.rpk.toString('hex') : null,
      received: this.received,
      pings_received: this.pings,
      pongs_received: this.pongs,
      errors_received: this.errors,
      connected: !this.closed,
    };
    if (this.theirInit) {
      const f = this.theirInit.features.toBuffer();
      out.their_features = f.toString('hex');
      out.their_feature_bits = featureBits(f);
      out.their_networks = this.theirInit.chainHashes.map((c) => c.toString('hex'));
    }
    return out;
  }

  async run() {
    const a = this.args;
    const rep = { event: 'report', driver: 'node-dlc', role: this.role, ok: false,
      our_node_id: crypto.getPublicKey(a.ls, true).toString('hex'), our_feature_bits: a.features,
      chain: REGTEST_CHAIN, handshake: true };
    try {
      this.sendInit();
      await this.until(() => this.theirInit, a.timeout, 'init');
      rep.pong = await this.ping();
      rep.pong_received = true;
      if (a.waitPing > 0 && !this.pings.length) {
        await this.until(() => this.pings.length, a.waitPing, 'ping').catch((e) => {
          if (this.closed) throw e;
        });
      }
      rep.ok = true;
    } catch (e) {
      rep.error = e.message;
    }
    Object.assign(rep, this.report());
    rep.ping_received = this.pings.length > 0;
    emit(rep);
    if (a.hold && rep.ok) await this.hold();
    this.sock.destroy();
    return rep.ok;
  }

  async hold() {
    const rl = readline.createInterface({ input: process.stdin });
    for await (const line of rl) {
      const cmd = line.trim().split(/\s+/);
      if (cmd[0] === 'quit') break;
      try {
        if (cmd[0] === 'ping') emit(await this.ping());
        else if (cmd[0] === 'wait-ping') {
          const n = this.pings.length;
          await this.until(() => this.pings.length > n, Number(cmd[1]), 'ping');
          emit({ event: 'ping', ping: this.pings[n] });
        } else if (cmd[0] === 'status') emit(Object.assign({ event: 'status' }, this.report()));
        else emit({ event: 'error', error: 'unknown command ' + cmd[0] });
      } catch (e) {
        emit({ event: 'error', error: e.message, connected: !this.closed });
      }
    }
    rl.close();
  }
}

/* Resolves when the handshake completes; rejects when the socket ends first or time runs out. */
function handshake(sock, secs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('handshake timed out')); }, secs * 1000);
    let why = null;
    sock.once('ready', () => { clearTimeout(timer); resolve(); });
    sock.on('error', (e) => { why = e.message; });
    sock.once('close', () => { clearTimeout(timer); reject(new Error('closed during handshake' + (why ? ': ' + why : ''))); });
  });
}

async function dial(a) {
  const [nodeId, hostport] = a.target.split('@');
  const i = hostport.lastIndexOf(':');
  const sock = noise.connect({ ls: a.ls, rpk: Buffer.from(nodeId, 'hex'),
    host: hostport.slice(0, i), port: Number(hostport.slice(i + 1)) });
  const s = new Session(sock, a, 'initiator');
  try {
    await handshake(sock, a.timeout);
  } catch (e) {
    emit({ event: 'report', driver: 'node-dlc', role: 'initiator', ok: false, handshake: false, error: e.message });
    return false;
  }
  return s.run();
}

function listen(a) {
  return new Promise((resolve) => {
    let taken = false;
    const server = noise.createServer({ ls: a.ls }, (sock) => {
      if (taken) { sock.destroy(); return; }
      taken = true;
      const s = new Session(sock, a, 'responder');
      handshake(sock, a.timeout).then(() => s.run(), (e) => {
        emit({ event: 'report', driver: 'node-dlc', role: 'responder', ok: false, handshake: false, error: e.message });
        return false;
      }).then((ok) => { server.close(); resolve(ok); });
    });
    server.listen({ host: a.host, port: a.port }, () => {
      emit({ event: 'listening', driver: 'node-dlc', node_id: crypto.getPublicKey(a.ls, true).toString('hex'),
        host: a.host, port: server.address().port });
    });
  });
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  a.ls = a.privkey ? Buffer.from(a.privkey, 'hex') : crypto.createPrivateKey();
  const ok = await (a.mode === 'dial' ? dial(a) : listen(a));
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { emit({ event: 'report', ok: false, error: String(e && e.stack) }); process.exit(1); });
