#!/usr/bin/env node
// The fan-out benchmark's load generator: N subscriber sockets split evenly across the
// server ports, one publisher socket, one Node.js process. bench/run.py drives it:
//
//   node loadgen.js '<config JSON>'
//
// It reports JSON lines on stdout ({"event": ...}) and reads one command a line on stdin:
//   warmup | full | rate | quit
// so the runner can read the servers' CPU counters between phases. Every published body is
//   "#B<seq>:<send time, ms>#xxxx..."   (padded to `payload_bytes`)
// and the subscribers find that marker in whatever frame carries it (a livesupport event, the
// thin baseline's raw text, a Socket.IO event), so one receive path serves all three servers.
// Times are performance.timeOrigin + performance.now() (ms), one clock for sender and receivers.
'use strict';

const WebSocket = require('ws');
const readline = require('readline');
const { performance, monitorEventLoopDelay } = require('perf_hooks');

const cfg = JSON.parse(process.argv[2] || '{}');
const KIND = cfg.kind; // livesupport | thin | socketio
const MODE = cfg.mode || 'fanout'; // fanout | idle
const PORTS = cfg.ports;
const N = cfg.subscribers;
const HOST = '127.0.0.1'; // never anything else
const WARMUP = cfg.warmup ?? 20;
const M = cfg.messages ?? 2000;
const RATE = cfg.rate ?? 50;
const DURATION = cfg.duration ?? 10;
const R = Math.round(RATE * DURATION);
const WINDOW = cfg.window ?? 50;
const RATE_MAX_INFLIGHT = cfg.rate_max_inflight ?? 5000;
const PAYLOAD = cfg.payload_bytes ?? 100;
const GRACE_MS = cfg.grace_ms ?? 10000;
const SEND_LIMIT_MS = cfg.send_limit_ms ?? 180000;
const CONNECT_CONCURRENCY = cfg.connect_concurrency ?? 100;
const CONNECT_LIMIT_MS = cfg.connect_limit_ms ?? 600000;
const CHECK_EVERY = cfg.check_every ?? 97; // fully parse and check every k-th delivered frame
const PUBLISHERS = cfg.publishers ?? 1; // publisher sockets (on the first port), used in turn

const now = () => performance.timeOrigin + performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = (message) => {
  out({ event: 'error', message });
  process.exit(2);
};
if (!['livesupport', 'thin', 'socketio'].includes(KIND)) fail(`unknown kind ${KIND}`);
if (!Array.isArray(PORTS) || PORTS.length < 1) fail('ports missing');

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

// ---------------------------------------------------------------------------------------------
// Sequence numbers: 1..WARMUP warm-up, then M at full speed, then R at a fixed rate.
const PHASES = {
  warmup: { first: 1, count: WARMUP },
  full: { first: WARMUP + 1, count: M },
  rate: { first: WARMUP + M + 1, count: R },
};
const TOTAL = WARMUP + M + R;
const phaseOf = new Uint8Array(TOTAL + 1); // 0 warmup, 1 full, 2 rate
for (let s = PHASES.full.first; s < PHASES.full.first + M; s++) phaseOf[s] = 1;
for (let s = PHASES.rate.first; s < PHASES.rate.first + R; s++) phaseOf[s] = 2;
const PHASE_INDEX = { warmup: 0, full: 1, rate: 2 };

function body(seq) {
  const head = `#B${seq}:${now().toFixed(3)}#`;
  return head + 'x'.repeat(Math.max(0, PAYLOAD - head.length));
}

const MARK = Buffer.from('#B');
// -> [seq, sentMs] or null
function findMark(buf) {
  const i = buf.indexOf(MARK);
  if (i < 0) return null;
  let j = i + 2;
  let seq = 0;
  while (j < buf.length) {
    const c = buf[j];
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
    j++;
  }
  if (buf[j] !== 58) return null; // ':'
  const k = buf.indexOf(35, j + 1); // '#'
  if (k < 0) return null;
  return [seq, parseFloat(buf.toString('latin1', j + 1, k))];
}

// ---------------------------------------------------------------------------------------------
// Protocols. Each one: url(port, role), onOpen(conn), onFrame(conn, buf) for non-data frames.
const TOPIC = cfg.topic; // livesupport: ticket:<id>; socketio: the room name
const protocols = {
  livesupport: {
    url: (port, role) => `ws://${HOST}:${port}/ws?token=${encodeURIComponent(role === 'pub' ? cfg.token_pub : cfg.token_sub)}`,
    onOpen(conn) {
      if (conn.role === 'sub') {
        const join = { type: 'join', topic: TOPIC, ref: 'j' };
        if (typeof cfg.since === 'number') join.since = cfg.since; // a reconnect that resumes where it was
        conn.ws.send(JSON.stringify(join));
      }
      else conn.ready();
    },
    publish(conn, seq) {
      conn.ws.send(JSON.stringify({ type: 'chat', topic: TOPIC, body: body(seq), ref: String(seq) }));
    },
    onFrame(conn, buf) {
      const f = JSON.parse(buf.toString());
      if (f.type === 'joined' && f.ref === 'j') return conn.ready();
      if (f.type === 'reply') {
        if (f.ref === 'j') return conn.failed(`join refused: ${JSON.stringify(f.error)}`);
        if (conn.role === 'pub') return onAck(Number(f.ref), f.ok === true, f.ok ? null : f.error && f.error.code);
      }
      if (f.type === 'error') stats.errorFrames++;
      // presence, typing, events without our marker...: ignored, as protocol.md says
    },
    check(buf, seq) {
      const f = JSON.parse(buf.toString());
      return f.type === 'event' && f.kind === 'chat' && f.topic === TOPIC && typeof f.seq === 'number' &&
        f.data && typeof f.data.body === 'string' && f.data.body.startsWith(`#B${seq}:`);
    },
  },
  thin: {
    url: (port) => `ws://${HOST}:${port}/ws`,
    onOpen(conn) { conn.ready(); },
    publish(conn, seq) { conn.ws.send(body(seq)); },
    // The thin server sends the publisher its own frames back: that is its acknowledgement.
    onData(conn, seq) { if (conn.role === 'pub') onAck(seq, true, null); },
    onFrame() { stats.otherFrames++; },
    check(buf, seq) { return buf.toString().startsWith(`#B${seq}:`); },
  },
  socketio: {
    // Engine.IO v4 over a raw WebSocket: 0 open, 2 ping -> 3 pong, 4 message; Socket.IO packets
    // inside a message: 0 connect, 2 event, 3 ack, 4 connect error; acks carry an id after the type.
    url: (port) => `ws://${HOST}:${port}/socket.io/?EIO=4&transport=websocket`,
    onOpen() { /* wait for the Engine.IO open packet */ },
    publish(conn, seq) { conn.ws.send(`42${seq}` + JSON.stringify(['chat', { room: TOPIC, body: body(seq) }])); },
    onFrame(conn, buf) {
      const s = buf.toString();
      const t = s[0];
      if (t === '2') return conn.ws.send('3' + s.slice(1));
      if (t === '0') return conn.ws.send('40'); // open -> connect the default namespace
      if (t === '1') return; // Engine.IO close: the socket close follows
      if (t !== '4') { stats.otherFrames++; return; }
      const p = s[1];
      if (p === '0') { // namespace connected
        if (conn.role === 'sub') conn.ws.send('420' + JSON.stringify(['join', TOPIC]));
        else conn.ready();
        return;
      }
      if (p === '4') return conn.failed(`namespace connect refused: ${s}`);
      if (p === '3') { // ack: 43<id>[...]
        let j = 2;
        let id = 0;
        while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) id = id * 10 + s.charCodeAt(j++) - 48;
        const args = JSON.parse(s.slice(j));
        if (conn.role === 'sub') return args[0] === 'ok' ? conn.ready() : conn.failed(`join refused: ${s}`);
        return onAck(id, args[0] === 'ok', args[0] === 'ok' ? null : String(args[0]));
      }
      stats.otherFrames++;
    },
    check(buf, seq) {
      const s = buf.toString();
      if (!s.startsWith('42')) return false;
      const a = JSON.parse(s.slice(2));
      return a[0] === 'chat' && typeof a[1] === 'string' && a[1].startsWith(`#B${seq}:`);
    },
  },
};
const proto = protocols[KIND];

// ---------------------------------------------------------------------------------------------
// Connections.
const stats = { errorFrames: 0, otherFrames: 0, checked: 0, checkFailed: 0, closes: {}, unexpectedCloses: 0 };
let closing = false;
let current = null; // the running phase's record

class Conn {
  constructor(role, port, index) {
    this.role = role;
    this.port = port;
    this.index = index;
    this.isReady = false;
    this.closed = false;
    this.seen = role === 'sub' ? new Uint8Array(TOTAL + 1) : null;
    this.got = [0, 0, 0];
    this.dup = [0, 0, 0];
    this.delivered = 0;
    this._resolve = null;
    this._reject = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
      const ws = new WebSocket(proto.url(this.port, this.role), {
        perMessageDeflate: false, // compression off on the client side too
        skipUTF8Validation: true,
        handshakeTimeout: 30000,
      });
      this.ws = ws;
      ws.on('open', () => proto.onOpen(this));
      ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
      ws.on('error', (err) => {
        if (!this.isReady) this.failed(`${this.role} ${this.index} on port ${this.port}: ${err.message}`);
      });
      ws.on('close', (code) => {
        this.closed = true;
        stats.closes[code] = (stats.closes[code] || 0) + 1;
        if (!closing) {
          stats.unexpectedCloses++;
          if (!this.isReady) this.failed(`${this.role} ${this.index} closed with ${code} before it was ready`);
          else if (this.role === 'pub') fail(`the publisher's socket closed with ${code}`);
        }
      });
    });
  }

  ready() {
    if (this.isReady) return;
    this.isReady = true;
    if (this._resolve) this._resolve();
  }

  failed(why) {
    if (this._reject) this._reject(new Error(why));
    this._resolve = this._reject = null;
  }

  onMessage(buf, isBinary) {
    const t = now();
    const mark = isBinary ? null : findMark(buf);
    if (mark === null) {
      try {
        proto.onFrame(this, buf);
      } catch (err) {
        stats.errorFrames++;
      }
      return;
    }
    const [seq, sentAt] = mark;
    if (proto.onData) proto.onData(this, seq);
    if (this.role !== 'sub' || seq < 1 || seq > TOTAL) return;
    const ph = phaseOf[seq];
    if (this.seen[seq]) {
      this.dup[ph]++;
      return;
    }
    this.seen[seq] = 1;
    this.got[ph]++;
    if (current !== null && current.index === ph) {
      current.delivered++;
      current.lastReceive = t;
      if (current.lat !== null) {
        if (current.nLat < current.lat.length) current.lat[current.nLat++] = t - sentAt;
        else current.latDropped++;
      }
    }
    if (++this.delivered % CHECK_EVERY === 0) {
      stats.checked++;
      try {
        if (!proto.check(buf, seq)) stats.checkFailed++;
      } catch (err) {
        stats.checkFailed++;
      }
    }
  }
}

const subs = [];
const pubs = [];

async function connectAll() {
  const started = now();
  for (let i = 0; i < N; i++) subs.push(new Conn('sub', PORTS[i % PORTS.length], i));
  let next = 0;
  let done = 0;
  const deadline = setTimeout(() => fail(`connecting took over ${CONNECT_LIMIT_MS} ms (${done}/${N} ready)`), CONNECT_LIMIT_MS);
  async function worker() {
    while (next < subs.length) {
      const c = subs[next++];
      await c.open();
      done++;
    }
  }
  const workers = [];
  for (let w = 0; w < Math.min(CONNECT_CONCURRENCY, N); w++) workers.push(worker());
  try {
    await Promise.all(workers);
    if (MODE === 'fanout') {
      for (let i = 0; i < PUBLISHERS; i++) {
        const p = new Conn('pub', PORTS[0], -1 - i);
        pubs.push(p);
        await p.open();
      }
    }
  } catch (err) {
    fail(err.message);
  }
  clearTimeout(deadline);
  return now() - started;
}

// ---------------------------------------------------------------------------------------------
// Publishing.
let nextSeq = 1;
let inflight = 0;
const pending = new Map(); // seq -> true (sent, not answered)
const sentAt = new Float64Array(TOTAL + 1);
let ackWaiter = null;

function onAck(seq, ok, code) {
  if (!pending.delete(seq)) return; // a duplicate echo (thin) or an unknown ref
  inflight--;
  const ph = current;
  if (ph !== null && phaseOf[seq] === ph.index) {
    ph.lastAck = now();
    if (ph.nAck < ph.ackLat.length) ph.ackLat[ph.nAck++] = ph.lastAck - sentAt[seq];
    if (ok) ph.acked++;
    else {
      ph.pubErrors++;
      ph.failedSeqs.push(seq);
      ph.pubErrorCodes[code] = (ph.pubErrorCodes[code] || 0) + 1;
    }
  }
  if (ackWaiter) ackWaiter();
}

function send() {
  const seq = nextSeq++;
  pending.set(seq, true);
  inflight++;
  current.sent++;
  sentAt[seq] = now();
  if (current.firstSend === 0) current.firstSend = sentAt[seq];
  proto.publish(pubs[seq % pubs.length], seq);
  if (inflight > current.maxInflight) current.maxInflight = inflight;
}

function newPhase(name, withLatency) {
  const p = PHASES[name];
  const size = withLatency ? Math.min(p.count * N, cfg.max_latency_samples ?? 30_000_000) : 0;
  return {
    name, index: PHASE_INDEX[name], first: p.first, count: p.count, sent: 0, acked: 0, pubErrors: 0,
    pubErrorCodes: {}, failedSeqs: [], maxInflight: 0, delivered: 0, firstSend: 0, lastSend: 0, lastAck: 0,
    lastReceive: 0, ackLat: new Float64Array(p.count), nAck: 0, lat: withLatency ? new Float64Array(size) : null, nLat: 0, latDropped: 0,
  };
}

function waitAcks(limitAt) {
  return new Promise((resolve) => {
    let done = false;
    let timer = null;
    const check = () => {
      if (done) return;
      if (inflight === 0 || now() > limitAt) {
        done = true;
        ackWaiter = null;
        if (timer) clearInterval(timer);
        resolve();
      }
    };
    ackWaiter = check;
    timer = setInterval(check, 50);
    check();
  });
}

async function sendWindowed(ph) {
  const end = ph.first + ph.count;
  const limitAt = now() + SEND_LIMIT_MS;
  await new Promise((resolve) => {
    let done = false;
    let timer = null;
    const pump = () => {
      if (done) return;
      while (inflight < WINDOW && nextSeq < end) send();
      if (nextSeq >= end || now() > limitAt) {
        done = true;
        ackWaiter = null;
        if (timer) clearInterval(timer);
        resolve();
      }
    };
    ackWaiter = pump;
    timer = setInterval(pump, 100);
    pump();
  });
  ph.lastSend = now();
  await waitAcks(limitAt);
}

async function sendAtRate(ph) {
  const end = ph.first + ph.count;
  const t0 = now();
  const period = 1000 / RATE;
  const limitAt = t0 + ph.count * period + SEND_LIMIT_MS;
  let skippedWhileFull = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(end, ph.first + Math.floor((now() - t0) / period) + 1);
      while (nextSeq < due) {
        if (inflight >= RATE_MAX_INFLIGHT) { skippedWhileFull++; break; }
        send();
      }
      if (nextSeq >= end || now() > limitAt) { resolve(); return; }
      const wait = t0 + (nextSeq - ph.first) * period - now();
      setTimeout(tick, Math.max(0, wait));
    };
    tick();
  });
  ph.lastSend = now();
  ph.rateStalls = skippedWhileFull;
  await waitAcks(limitAt + GRACE_MS);
}

// After the last answer: wait until every subscriber has every accepted message, or the grace period ends.
function waitDelivered(ph) {
  const expectEach = ph.acked;
  return new Promise((resolve) => {
    const until = now() + GRACE_MS;
    const t = setInterval(() => {
      if (ph.delivered >= expectEach * N || now() > until) { clearInterval(t); resolve(); }
    }, 10);
  });
}

function percentile(sorted, n, q) {
  if (n === 0) return null;
  const i = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return Math.round(sorted[i] * 1000) / 1000;
}

async function runPhase(name) {
  const ph = newPhase(name, name !== 'warmup');
  nextSeq = ph.first;
  current = ph;
  loopDelay.reset();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  if (name === 'rate') await sendAtRate(ph);
  else await sendWindowed(ph);
  await waitDelivered(ph);
  const t1 = now();
  const cpu = process.cpuUsage(cpu0);
  current = null;
  const idx = ph.index;
  const failed = new Set(ph.failedSeqs);
  let lost = 0;
  let dup = 0;
  let subsWithLoss = 0;
  let closedSubs = 0;
  for (const c of subs) {
    dup += c.dup[idx];
    if (c.closed) closedSubs++;
    let missing = 0;
    for (let s = ph.first; s < ph.first + ph.sent; s++) {
      if (!c.seen[s] && !failed.has(s)) missing++;
    }
    lost += missing;
    if (missing) subsWithLoss++;
  }
  const lat = ph.lat ? ph.lat.subarray(0, ph.nLat).sort() : new Float64Array(0);
  let sum = 0;
  for (let i = 0; i < lat.length; i++) sum += lat[i];
  const activeMs = (ph.lastReceive || t1) - ph.firstSend;
  const res = {
    event: 'phase', phase: name, subscribers: N, sent: ph.sent, accepted: ph.acked, unanswered: pending.size,
    publish_errors: ph.pubErrors, publish_error_codes: ph.pubErrorCodes, max_inflight: ph.maxInflight,
    delivered: ph.delivered, expected: ph.acked * N, lost, duplicated: dup, subscribers_with_loss: subsWithLoss,
    closed_subscribers: closedSubs,
    send_ms: Math.round((ph.lastSend - ph.firstSend) * 1000) / 1000,
    active_ms: Math.round(activeMs * 1000) / 1000,
    wall_ms: Math.round((t1 - t0) * 1000) / 1000,
    accepted_per_s: ph.lastAck > ph.firstSend ? Math.round(ph.acked / ((ph.lastAck - ph.firstSend) / 1000)) : null,
    delivered_per_s: activeMs > 0 ? Math.round(ph.delivered / (activeMs / 1000)) : null,
    latency_ms: ph.lat ? {
      count: lat.length, dropped: ph.latDropped, p50: percentile(lat, lat.length, 0.5), p95: percentile(lat, lat.length, 0.95),
      p99: percentile(lat, lat.length, 0.99), max: percentile(lat, lat.length, 1),
      mean: lat.length ? Math.round((sum / lat.length) * 1000) / 1000 : null,
    } : null,
    // publish -> the server's answer (livesupport: reply ok, i.e. stored; socketio: ack; thin: own echo)
    ack_ms: (() => {
      const a = ph.ackLat.subarray(0, ph.nAck).sort();
      return { count: a.length, p50: percentile(a, a.length, 0.5), p95: percentile(a, a.length, 0.95), p99: percentile(a, a.length, 0.99) };
    })(),
    rate_stalls: ph.rateStalls ?? 0,
    loadgen_cpu_us: cpu.user + cpu.system,
    loadgen_loop_delay_ms: { p99: Math.round(loopDelay.percentile(99) / 1e4) / 100, max: Math.round(loopDelay.max / 1e4) / 100 },
  };
  pending.clear();
  inflight = 0;
  return res;
}

async function closeAll() {
  closing = true;
  const all = [...subs, ...pubs];
  for (const c of all) {
    if (c.ws && c.ws.readyState === WebSocket.OPEN) c.ws.close(1000);
    else if (c.ws) c.ws.terminate();
  }
  const until = now() + 10000;
  while (now() < until && all.some((c) => c.ws && c.ws.readyState !== WebSocket.CLOSED)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const c of all) if (c.ws && c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const cpuStart = process.cpuUsage();
  const connectMs = await connectAll();
  out({ event: 'connected', subscribers: subs.length, publishers: pubs.length, ports: PORTS, connect_ms: Math.round(connectMs), pid: process.pid,
        loadgen_rss_kb: Math.round(process.memoryUsage().rss / 1024) });
  // Commands run one after another; "quit" (or the end of stdin) stops at once, even mid-phase.
  const rl = readline.createInterface({ input: process.stdin });
  const queued = [];
  let wake = null;
  let quitting = false;
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'quit') quitting = true;
    else queued.push(cmd);
    if (wake) wake();
  });
  rl.on('close', () => { quitting = true; if (wake) wake(); });
  const stopped = new Promise((resolve) => {
    const check = () => { if (quitting) resolve(); };
    const t = setInterval(() => { check(); if (quitting) clearInterval(t); }, 20);
  });
  const work = (async () => {
    while (!quitting) {
      if (queued.length === 0) {
        await new Promise((r) => { wake = r; });
        wake = null;
        continue;
      }
      const cmd = queued.shift();
      if (MODE !== 'fanout' || !['warmup', 'full', 'rate'].includes(cmd)) {
        out({ event: 'error', message: `unknown command ${cmd}` });
        continue;
      }
      const res = await runPhase(cmd);
      if (!quitting) out(res);
    }
  })();
  await Promise.race([stopped, work]);
  await closeAll();
  const cpu = process.cpuUsage(cpuStart);
  out({ event: 'done', loadgen_cpu_us: cpu.user + cpu.system, frames: stats });
  process.exit(0);
}

process.on('SIGTERM', () => process.exit(3));
main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
