// redwhisk bench action, Node.js flavour: the Node.js twin of the native `bench` action
// (actions/native), following the paper's OpenWhisk function. It uses the `redis` 4.x client
// that the OpenWhisk Node.js images preinstall, and perf_hooks timers.
//
// Deploy: wsk action update redwhisk-bench bench.js --kind nodejs:20
// Params (as the native action): host, port, password?, records=1000, value_size=32,
//   mode="sequential"|"pipelined", key_prefix="rw", seed?
// Phases, each timed with performance.now() (ms):
//   connect_ms  TCP connect + AUTH (when a password is set) + one PING
//   write_ms    `records` SETs    read_ms  `records` GETs, each reply compared with what was written
//   delete_ms   `records` DELs    total_ms from before connect to after the last DEL reply
// Sequential mode awaits every reply before the next command (one round trip each).
// Pipelined mode issues a phase's commands in one tick; node-redis writes them as one pipeline
// (one round trip) and the phase has one latency sample.
// Keys are `<key_prefix>:bench:<random token>:<i>` so concurrent invocations never collide.
// This file is deployed as plain source: the runtime looks up the top-level `main` function.

const { createClient } = require('redis');
const { performance } = require('perf_hooks');
const crypto = require('crypto');

const KNOWN = ['host', 'port', 'password', 'records', 'value_size', 'mode', 'key_prefix', 'seed'];

function checkParams(p) {
  for (const k of Object.keys(p)) {
    if (!KNOWN.includes(k)) throw new Error(`unknown parameter "${k}"; known: ${KNOWN.join(', ')}`);
  }
  const int = (name, dflt, min, max) => {
    const v = p[name] === undefined ? dflt : p[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`parameter "${name}" must be an integer from ${min} to ${max}`);
    }
    return v;
  };
  if (typeof p.host !== 'string' || p.host === '') throw new Error('parameter "host" is required');
  const mode = p.mode === undefined ? 'sequential' : p.mode;
  if (mode !== 'sequential' && mode !== 'pipelined') {
    throw new Error('parameter "mode" must be "sequential" or "pipelined"');
  }
  return {
    host: p.host,
    port: int('port', undefined, 1, 65535),
    password: typeof p.password === 'string' && p.password !== '' ? p.password : undefined,
    records: int('records', 1000, 1, 10000000),
    valueSize: int('value_size', 32, 1, 512 * 1024 * 1024),
    mode,
    keyPrefix: typeof p.key_prefix === 'string' ? p.key_prefix : 'rw',
    seed: p.seed === undefined ? undefined : int('seed', 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

// mulberry32: a small seeded generator, so a seed gives the same values on every run.
function generator(seed) {
  if (seed === undefined) return Math.random;
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomValue(rand, size) {
  let s = '';
  for (let i = 0; i < size; i++) s += ALPHANUM[Math.floor(rand() * ALPHANUM.length)];
  return s;
}

// [value_us rounded to 3 significant digits, count], sorted by value (HdrHistogram precision).
class Buckets {
  constructor() { this.counts = new Map(); }
  add(ms) {
    let us = Math.max(0, Math.round(ms * 1000));
    if (us >= 1000) {
      const f = Math.pow(10, Math.floor(Math.log10(us)) + 1 - 3);
      us = Math.round(us / f) * f;
    }
    this.counts.set(us, (this.counts.get(us) || 0) + 1);
  }
  toJSON() { return [...this.counts.entries()].sort((a, b) => a[0] - b[0]); }
}

// Run one phase: `op(i)` returns the command's promise; `check(i, reply)` inspects the reply.
async function phase(mode, n, op, check, buckets, counters) {
  const t0 = performance.now();
  if (mode === 'sequential') {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      try {
        check(i, await op(i));
      } catch (e) {
        counters.errors++;
      }
      buckets.add(performance.now() - t);
    }
  } else {
    const replies = await Promise.allSettled(Array.from({ length: n }, (_, i) => op(i)));
    replies.forEach((r, i) => (r.status === 'fulfilled' ? check(i, r.value) : counters.errors++));
    buckets.add(performance.now() - t0);
  }
  return performance.now() - t0;
}

async function main(params) {
  let p;
  try {
    p = checkParams(params || {});
  } catch (e) {
    return { error: e.message };
  }
  const rand = generator(p.seed);
  const token = crypto.randomBytes(6).toString('hex');
  const keys = Array.from({ length: p.records }, (_, i) => `${p.keyPrefix}:bench:${token}:${i}`);
  const values = keys.map(() => randomValue(rand, p.valueSize));
  const auth = p.password ? `:${encodeURIComponent(p.password)}@` : '';
  const counters = { errors: 0, mismatches: 0 };
  const lat = { write: new Buckets(), read: new Buckets(), delete: new Buckets() };
  const perPhase = p.mode === 'sequential' ? p.records : 1;

  const tStart = performance.now();
  const client = createClient({ url: `redis://${auth}${p.host}:${p.port}` });
  client.on('error', () => {}); // reported through the failing command instead
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    await client.disconnect().catch(() => {});
    // Never echo the password back in the result.
    return { error: `cannot connect to Redis at ${p.host}:${p.port}: ${String(e.message).split(p.password || '\u0000').join('<redacted>')}` };
  }
  const connectMs = performance.now() - tStart;
  try {
    const writeMs = await phase(p.mode, p.records, (i) => client.set(keys[i], values[i]), () => {}, lat.write, counters);
    const readMs = await phase(p.mode, p.records, (i) => client.get(keys[i]),
      (i, v) => { if (v !== values[i]) counters.mismatches++; }, lat.read, counters);
    const deleteMs = await phase(p.mode, p.records, (i) => client.del(keys[i]), () => {}, lat.delete, counters);
    const totalMs = performance.now() - tStart;
    return {
      action: 'bench',
      mode: p.mode,
      records: p.records,
      value_size: p.valueSize,
      connect_ms: connectMs,
      write_ms: writeMs,
      read_ms: readMs,
      delete_ms: deleteMs,
      total_ms: totalMs,
      mismatches: counters.mismatches,
      errors: counters.errors,
      round_trips: { connect: p.password ? 2 : 1, write: perPhase, read: perPhase, delete: perPhase },
      latency_us: lat,
    };
  } finally {
    await client.quit().catch(() => {});
  }
}
