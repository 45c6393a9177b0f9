// redwhisk reader action, Node.js flavour (case study 2, data sharing): the twin of the native
// `reader` (actions/native/src/share.rs). It reads the keys a writer stored and compares them
// with the values regenerated from `seed` and/or with the writer's `expected_digest`.
// Deploy by hand: wsk action update redwhisk-reader reader.js --kind nodejs:20
//
// Params (as ReaderParams): host, port, password?, keys=1000, value_size=32,
//   key_prefix="rw-share", seed?, expected_digest? (at least one of the last two),
//   cluster=false (true: a Redis Cluster seeded from host:port), nodes=[] (its other nodes, seeds too).
//   tls=false (true: TLS, as for rediss://), tls_ca? (PEM text of the CA to trust instead of Node.s roots).
// Reads go in pipelines of 1000 (round_trips = ceil(keys / 1000)); values are read as bytes.
// Result (as ReaderResult): action, keys, found, missing, mismatches (null without seed),
//   digest (of what was found), expected_digest, matches, connect_ms, read_ms, round_trips, errors,
//   and with cluster=true cluster: {moved, ask, retries, nodes}.

// ---- shared helpers: identical in bench.js, writer.js and reader.js (a test checks) ----
const { createClient, createCluster, commandOptions } = require('redis'); // eslint-disable-line no-unused-vars
const { performance } = require('perf_hooks');

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const M64 = (1n << 64n) - 1n;

function splitmix64(x) {
  x = (x + 0x9e3779b97f4a7c15n) & M64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64;
  return x ^ (x >> 31n);
}

// Value `index` under `seed`: xorshift64* seeded by splitmix64, 8 characters per 64 bits.
function valueOf(seed, index, size) {
  let s = splitmix64(BigInt(seed) ^ splitmix64(BigInt(index)));
  if (s === 0n) s = 0x2545f4914f6cdd1dn;
  const out = Buffer.alloc(size);
  let pos = 0;
  while (pos < size) {
    s ^= s >> 12n;
    s = (s ^ (s << 25n)) & M64;
    s ^= s >> 27n;
    let bits = (s * 0x2545f4914f6cdd1dn) & M64;
    for (let k = Math.min(8, size - pos); k > 0; k--) {
      out[pos++] = ALPHANUMERIC.charCodeAt(Number(bits & 0xffn) % ALPHANUMERIC.length);
      bits >>= 8n;
    }
  }
  return out.toString('latin1');
}

function freshSeed() {
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
}

function checkParams(p, known) {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    throw new Error('bad parameters: expected a JSON object');
  }
  for (const k of Object.keys(p)) {
    if (!known.includes(k)) {
      throw new Error(`bad parameters: unknown field \`${k}\`, expected one of ${known.map((n) => `\`${n}\``).join(', ')}`);
    }
  }
  const int = (name, dflt, min, max) => {
    const v = p[name] === undefined || p[name] === null ? dflt : p[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`bad parameters: \`${name}\` must be an integer from ${min} to ${max}`);
    }
    return v;
  };
  if (typeof p.host !== 'string' || p.host.trim() === '') {
    throw new Error('bad parameters: `host` is empty; give the Redis IP address, e.g. "127.0.0.1"');
  }
  if (p.cluster !== undefined && p.cluster !== null && typeof p.cluster !== 'boolean') {
    throw new Error('bad parameters: `cluster` must be true (a Redis Cluster seeded from `host`:`port`) or false');
  }
  if (p.tls !== undefined && p.tls !== null && typeof p.tls !== 'boolean') {
    throw new Error('bad parameters: `tls` must be true (speak TLS, as for rediss://) or false');
  }
  if (p.tls_ca !== undefined && p.tls_ca !== null && (typeof p.tls_ca !== 'string' || !p.tls_ca.includes('-----BEGIN CERTIFICATE-----'))) {
    throw new Error('bad parameters: `tls_ca` must be the PEM text of CA certificates (-----BEGIN CERTIFICATE-----)');
  }
  const nodesOk = (n) => Array.isArray(n) && n.every((a) => typeof a === 'string' && a !== '');
  if (p.nodes !== undefined && p.nodes !== null && !nodesOk(p.nodes)) {
    throw new Error('bad parameters: `nodes` must be a list of "host:port" strings (the cluster\'s other nodes)');
  }
  const keyPrefix = p.key_prefix === undefined ? undefined : String(p.key_prefix);
  if (keyPrefix === '') throw new Error('bad parameters: `key_prefix` is empty; use e.g. "rw"');
  return {
    host: p.host,
    port: int('port', undefined, 1, 65535),
    password: typeof p.password === 'string' && p.password !== '' ? p.password : undefined,
    valueSize: int('value_size', 32, 1, 1 << 30),
    keyPrefix,
    cluster: p.cluster === true,
    nodes: nodesOk(p.nodes) ? p.nodes : [],
    tls: p.tls === true,
    tlsCa: p.tls === true && typeof p.tls_ca === 'string' ? p.tls_ca : undefined,
    seed: p.seed === undefined || p.seed === null ? undefined : int('seed', 0, 0, Number.MAX_SAFE_INTEGER),
    int,
  };
}

// node-redis 4.0.4 never rejects `connect()` on a refused connection with its default reconnect
// strategy: it reconnects forever and hands each cause to the 'error' listener, so an
// unreachable Redis would hang the action until its time limit (a developer error). Instead: a
// TCP connect timeout per attempt, a bounded number of attempts, and one deadline over connect
// + AUTH + PING (a server that accepts and never answers), ending in an application error that
// names host, port and the cause. The cluster client gets the same socket options for every
// node (`defaults`) and the same single deadline over discovery and every master's connect.
const CONNECT_TIMEOUT_MS = 1000;
const CONNECT_ATTEMPTS = 3;
const CONNECT_DEADLINE_MS = 2500;

// With `tls`: Node's TLS socket, which checks the certificate against the host it connects to
// (a name or an IP) and the Mozilla roots Node ships, or `tls_ca` alone when given. The connect
// timeout covers the handshake ('secureConnect'), so a plain port that never answers the
// ClientHello fails within the same deadline.
function socketOptions(p) {
  return {
    ...(p.tls ? { tls: true, ...(p.tlsCa ? { ca: p.tlsCa } : {}) } : {}),
    noDelay: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: (retries) => (retries + 1 >= CONNECT_ATTEMPTS
      ? new Error(`gave up after ${retries + 1} attempts`)
      : 100 * (retries + 1)),
  };
}

// node-redis 4.0.4 follows MOVED and ASK inside RedisCluster's private #execute loop and
// neither counts nor emits them. What it does expose: every attempt of a command is a call of
// the public `sendCommand(args)` of a node client, with the same `args` array each time. So the
// cluster's `sendCommand` is wrapped to mark each command's `args`, and the node clients'
// `sendCommand` -- on this cluster's own client class, which the cluster creates for itself
// with RedisClient.extend -- counts the attempts after the first (`retries`) and the MOVED /
// ASK error replies that caused them. Discovery (CLUSTER NODES), ASKING and PING do not go
// through the public `sendCommand`, so they are not counted.
function countRedirections(cluster) {
  const counters = { moved: 0, ask: 0, retries: 0 };
  const nodes = () => cluster.getMasters().length;
  const proto = Object.getPrototypeOf(cluster.getMasters()[0].client);
  if (Object.prototype.hasOwnProperty.call(proto, 'sendCommand')) {
    // The shared RedisClient class itself: patching it would count for every client in the
    // process (and stack up in a warm container). Say "unknown" rather than guess.
    return () => ({ moved: null, ask: null, retries: null, nodes: nodes() });
  }
  const attempts = new Map(); // args of the commands in flight -> attempts so far
  const clusterSend = cluster.sendCommand;
  cluster.sendCommand = function sendCommand(firstKey, isReadonly, args, options) {
    attempts.set(args, 0);
    return clusterSend.call(this, firstKey, isReadonly, args, options)
      .finally(() => attempts.delete(args));
  };
  const nodeSend = proto.sendCommand;
  proto.sendCommand = function sendCommand(args, options) {
    const n = attempts.get(args);
    if (n === undefined) return nodeSend.call(this, args, options);
    attempts.set(args, n + 1);
    if (n > 0) counters.retries++;
    return nodeSend.call(this, args, options).catch((e) => {
      const m = String((e && e.message) || '');
      if (m.startsWith('MOVED ')) counters.moved++;
      else if (m.startsWith('ASK ')) counters.ask++;
      throw e;
    });
  };
  return () => ({ ...counters, nodes: nodes() });
}

// One node: connect, AUTH (node-redis sends it from the URL) and PING. A cluster (`cluster`):
// connect + AUTH to the seed and CLUSTER NODES, connect + AUTH to every master (in parallel),
// PING every master. Errors never hold the password.
async function connect(p) {
  let cause; // the last socket or discovery error node-redis reported
  let client;
  if (p.cluster) {
    client = createCluster({
      // Every node given: node-redis tries them in turn, so a first node that is down (a
      // killed master) does not make the cluster unreachable.
      rootNodes: [`${p.host}:${p.port}`, ...(p.nodes || [])].map((a) => ({ url: `redis://${a}` })),
      defaults: { password: p.password, socket: socketOptions(p) },
    });
  } else {
    const auth = p.password ? `:${encodeURIComponent(p.password)}@` : '';
    client = createClient({ url: `redis://${auth}${p.host}:${p.port}`, socket: socketOptions(p) });
  }
  client.on('error', (e) => { cause = e; });
  let timer;
  let clusterCounters = null;
  const attempt = (async () => {
    await client.connect();
    if (p.cluster) {
      const masters = client.getMasters();
      if (masters.length === 0) throw new Error('CLUSTER NODES listed no master');
      await Promise.all(masters.map((m) => m.client.ping()));
      clusterCounters = countRedirections(client);
    } else {
      await client.ping();
    }
  })();
  attempt.catch(() => {}); // it may settle after the deadline; never an unhandled rejection
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_DEADLINE_MS} ms`)), CONNECT_DEADLINE_MS);
  });
  try {
    await Promise.race([attempt, deadline]);
  } catch (e) {
    try { await client.disconnect(); } catch (_) { /* already closed, or between attempts */ }
    const socketError = (e && e.socketError) || cause;
    let msg = String((e && e.message) || e);
    if (socketError && socketError !== e) msg = `${socketError.message || socketError} (${msg})`;
    if (p.password) msg = msg.split(p.password).join('<redacted>');
    if (/WRONGPASS|invalid password/i.test(msg)) {
      throw new Error(`Redis at ${p.host}:${p.port} rejected the password: check the \`password\` parameter (redwhisk: redis.password or the password in redis.url) (${msg})`);
    }
    if (p.tls && /certificate|self[- ]signed|CERT_|unable to (get|verify)/i.test(msg)) {
      throw new Error(`cannot connect to Redis at ${p.host}:${p.port} over TLS: the server's certificate is not trusted (${msg}): give the CA's PEM text in \`tls_ca\` (redwhisk: set redis.tls_ca_file or REDWHISK_REDIS_CA_FILE)`);
    }
    if (p.tls && /timeout|no answer/i.test(msg)) {
      msg += '; no TLS answer: if that is a plain Redis port, set `tls` false (redwhisk: use redis://)';
    }
    if (!p.tls && /ECONNRESET|closed unexpectedly|socket hang up/i.test(msg)) {
      msg += '; the server dropped the connection: if that port speaks TLS, set `tls` true (redwhisk: use rediss://)';
    }
    if (p.cluster && /cluster support disabled/i.test(msg)) {
      throw new Error(`Redis at ${p.host}:${p.port} is not a cluster node (${msg}): set \`cluster\` to false, or give the address of a node of the Redis Cluster`);
    }
    const where = p.cluster ? ' (the cluster seed) or at a master it announced' : '';
    throw new Error(`cannot connect to Redis at ${p.host}:${p.port}${where}: ${msg}. Check that Redis is running there and that \`host\` and \`port\` are right`);
  } finally {
    clearTimeout(timer);
  }
  const auth = p.password ? 1 : 0;
  const tls = p.tls ? 1 : 0; // the TLS handshake (1 round trip with TLS 1.3)
  return {
    client,
    clusterCounters,
    // Seed: TCP (+ TLS) + AUTH + CLUSTER NODES; masters in parallel: TCP (+ TLS) + AUTH; PING (in parallel).
    roundTrips: p.cluster ? (1 + tls + auth + 1) + (1 + tls + auth) + 1 : 1 + tls + auth + 1,
  };
}

// The `cluster` field of a result: present only when the action ran with `cluster: true`.
function clusterField(conn) {
  return conn.clusterCounters ? { cluster: conn.clusterCounters() } : {};
}

// 64-bit FNV-1a over (key, value) pairs sorted by key, each field preceded by its length as a
// u64 little endian: the same digest as the native actions (actions/native/src/values.rs).
function digest(pairs) {
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  let h = 0xcbf29ce484222325n;
  const write = (buf) => {
    for (const b of buf) h = ((h ^ BigInt(b)) * 0x100000001b3n) & M64;
  };
  const len = Buffer.alloc(8);
  for (const [k, v] of pairs) {
    len.writeBigUInt64LE(BigInt(k.length));
    write(len);
    write(k);
    len.writeBigUInt64LE(BigInt(v.length));
    write(len);
    write(v);
  }
  return h.toString(16).padStart(16, '0');
}

// Commands in pipelines of at most SHARE_BATCH (1000), one round trip each.
const SHARE_BATCH = 1000;
async function batches(n, op) {
  const replies = new Array(n);
  let errors = 0;
  let roundTrips = 0;
  const t0 = performance.now();
  for (let first = 0; first < n; first += SHARE_BATCH) {
    const last = Math.min(first + SHARE_BATCH, n);
    const settled = await Promise.allSettled(Array.from({ length: last - first }, (_, j) => op(first + j)));
    roundTrips++;
    settled.forEach((r, j) => {
      if (r.status === 'fulfilled') replies[first + j] = r.value;
      else { errors++; replies[first + j] = null; }
    });
  }
  return { ms: performance.now() - t0, roundTrips, errors, replies };
}
// ---- end of shared helpers ----

async function main(params) {
  let p;
  try {
    p = checkParams(params || {}, ['host', 'port', 'password', 'keys', 'value_size', 'key_prefix', 'seed', 'expected_digest', 'cluster', 'nodes', 'tls', 'tls_ca']);
    p.keys = p.int('keys', 1000, 1, 10000000);
    if (p.seed === undefined && (params.expected_digest === undefined || params.expected_digest === null)) {
      throw new Error('bad parameters: give `seed` (to regenerate the expected values) or `expected_digest` (the writer\'s digest), or both');
    }
  } catch (e) {
    return { error: e.message };
  }
  const n = p.keys;
  const prefix = p.keyPrefix === undefined ? 'rw-share' : p.keyPrefix;
  const keys = Array.from({ length: n }, (_, i) => `${prefix}:${i}`);
  const regenerated = p.seed === undefined ? null : keys.map((_, i) => valueOf(p.seed, i, p.valueSize));
  console.error(`reader: ${n} keys ${prefix}:0..${n - 1}`);
  const start = performance.now();
  let conn;
  try {
    conn = await connect(p);
  } catch (e) {
    return { error: e.message };
  }
  const connectMs = performance.now() - start;
  try {
    const asBuffers = commandOptions({ returnBuffers: true });
    const r = await batches(n, (i) => conn.client.get(asBuffers, keys[i]));
    const found = [];
    let mismatches = 0;
    r.replies.forEach((v, i) => {
      if (v === null || v === undefined) return;
      found.push([Buffer.from(keys[i], 'utf8'), v]);
      if (regenerated && !v.equals(Buffer.from(regenerated[i], 'latin1'))) mismatches++;
    });
    const got = digest(found.slice());
    let expected = '';
    if (typeof params.expected_digest === 'string') {
      expected = params.expected_digest.trim().toLowerCase();
    } else if (regenerated) {
      expected = digest(keys.map((k, i) => [Buffer.from(k, 'utf8'), Buffer.from(regenerated[i], 'latin1')]));
    }
    return {
      action: 'reader',
      keys: n,
      found: found.length,
      missing: n - found.length,
      mismatches: regenerated ? mismatches : null,
      digest: got,
      expected_digest: expected,
      matches: got === expected,
      connect_ms: connectMs,
      read_ms: r.ms,
      round_trips: r.roundTrips,
      errors: r.errors,
      ...clusterField(conn),
    };
  } catch (e) {
    return { error: `connection to Redis lost during the read phase: ${e.message}` };
  } finally {
    await conn.client.quit().catch(() => {});
  }
}
