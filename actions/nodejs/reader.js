// redwhisk reader action, Node.js flavour (case study 2, data sharing): reads the keys the
// writer action wrote (same params) and checks every value. Twin of the native `reader`.
//
// Deploy: wsk action update redwhisk-reader reader.js --kind nodejs:20
// Params: host, port, password?, records=1000, value_size=32, key_prefix="rw", seed=0
// Result: action, records, value_size, found, missing, mismatches, errors, connect_ms, read_ms,
//   total_ms, round_trips. `found` counts keys whose value is exactly what the writer wrote.

const { createClient } = require('redis');
const { performance } = require('perf_hooks');

const KNOWN = ['host', 'port', 'password', 'records', 'value_size', 'key_prefix', 'seed'];
const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

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
  return {
    host: p.host,
    port: int('port', undefined, 1, 65535),
    password: typeof p.password === 'string' && p.password !== '' ? p.password : undefined,
    records: int('records', 1000, 1, 10000000),
    valueSize: int('value_size', 32, 1, 512 * 1024 * 1024),
    keyPrefix: typeof p.key_prefix === 'string' ? p.key_prefix : 'rw',
    seed: int('seed', 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

// Must stay identical to writer.js.
function sharedValue(seed, i, size) {
  let a = (seed + Math.imul(i, 0x9e3779b9)) >>> 0;
  let s = '';
  for (let n = 0; n < size; n++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    s += ALPHANUM[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * ALPHANUM.length)];
  }
  return s;
}

async function main(params) {
  let p;
  try {
    p = checkParams(params || {});
  } catch (e) {
    return { error: e.message };
  }
  const auth = p.password ? `:${encodeURIComponent(p.password)}@` : '';
  const tStart = performance.now();
  const client = createClient({ url: `redis://${auth}${p.host}:${p.port}` });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    await client.disconnect().catch(() => {});
    return { error: `cannot connect to Redis at ${p.host}:${p.port}: ${e.message}` };
  }
  const connectMs = performance.now() - tStart;
  let found = 0;
  let missing = 0;
  let mismatches = 0;
  let errors = 0;
  try {
    const t0 = performance.now();
    for (let i = 0; i < p.records; i++) {
      try {
        const v = await client.get(`${p.keyPrefix}:share:${i}`);
        if (v === null) missing++;
        else if (v === sharedValue(p.seed, i, p.valueSize)) found++;
        else mismatches++;
      } catch (e) {
        errors++;
      }
    }
    const readMs = performance.now() - t0;
    return {
      action: 'reader',
      records: p.records,
      value_size: p.valueSize,
      found,
      missing,
      mismatches,
      errors,
      connect_ms: connectMs,
      read_ms: readMs,
      total_ms: performance.now() - tStart,
      round_trips: { connect: p.password ? 2 : 1, read: p.records },
    };
  } finally {
    await client.quit().catch(() => {});
  }
}
