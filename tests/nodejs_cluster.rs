//! The Node.js actions with `cluster: true`, deployed to the OpenWhisk test server and run with
//! `node` against a REAL three-master Redis Cluster: three password-protected `redis-server`
//! processes with `--cluster-enabled yes`, joined by `redis-cli --cluster create`. Needs node,
//! redis-server, redis-cli and `npm ci --prefix actions/nodejs`; fails loudly without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Seek, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redwhisk::event::EventSink;
use redwhisk::platform::openwhisk::config::resolve;
use redwhisk::platform::openwhisk::{OpenWhiskPlatform, package};
use redwhisk::platform::{ActivationStatus, BuiltinAction};
use redwhisk::profile::{ActionKind, OpenWhiskConfig};
use redwhisk::secret::Secret;
use redwhisk_actions::BenchResult;
use redwhisk_actions::protocol::{ReaderResult, WriterResult};
use serde::Deserialize;
use serde_json::{Value, json};
use support::RedisProc;
use support::openwhisk_server::{ServerConfig, ServerHandle, start_server};

/// The `cluster` field the actions add with `cluster: true`.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterCounters {
    moved: Option<u64>,
    ask: Option<u64>,
    retries: Option<u64>,
    nodes: u64,
}

fn counters(result: &Value) -> ClusterCounters {
    serde_json::from_value(result["cluster"].clone())
        .unwrap_or_else(|e| panic!("no valid `cluster` field ({e}) in {result}"))
}

/// Runs `cmd` with stdin from `input` (if any) and stdout + stderr to a file, killing it at
/// `limit`; returns (success, output). Files, not pipes: nothing can block on a full pipe.
fn run(mut cmd: Command, what: &str, input: Option<&str>, limit: Duration) -> (bool, String) {
    let mut out = tempfile::tempfile().unwrap();
    let stdin = match input {
        Some(text) => {
            let mut f = tempfile::tempfile().unwrap();
            f.write_all(text.as_bytes()).unwrap();
            f.rewind().unwrap();
            Stdio::from(f)
        }
        None => Stdio::null(),
    };
    let mut child = cmd
        .stdin(stdin)
        .stdout(out.try_clone().unwrap())
        .stderr(out.try_clone().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start ({e}); is redis-cli installed?"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: no exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    out.rewind().unwrap();
    out.read_to_string(&mut text).unwrap();
    (status.success(), text)
}

/// `redis-cli -p <port> <args>` with the password in REDISCLI_AUTH (never on a command line).
fn cli(port: u16, password: &str, args: &[&str], input: Option<&str>) -> String {
    let mut cmd = Command::new("redis-cli");
    cmd.env("REDISCLI_AUTH", password)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args);
    let what = format!("redis-cli -p {port} {}", args.join(" "));
    let (ok, out) = run(cmd, &what, input, Duration::from_secs(30));
    assert!(ok, "{what} failed: {out}");
    out
}

fn dbsize(port: u16, password: &str) -> u64 {
    let out = cli(port, password, &["DBSIZE"], None);
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("DBSIZE: {out}"))
}

/// A port p with p and its cluster bus port p + 10000 both free on 127.0.0.1.
fn free_cluster_port(taken: &[u16]) -> u16 {
    for _ in 0..200 {
        let p = support::free_port();
        if p > 55535 || taken.contains(&p) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
    panic!("no free port pair (p, p + 10000) on 127.0.0.1 after 200 tries");
}

/// Three cluster-enabled masters on 127.0.0.1, each with its own data directory; every
/// redis-server is killed on drop (also when the test panics).
struct Cluster {
    ports: Vec<u16>,
    password: String,
    children: Vec<Child>,
    _dirs: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Cluster {
    fn start() -> Cluster {
        let dirs = tempfile::tempdir().unwrap();
        let password = format!("pw-{:016x}", rand::random::<u64>());
        let mut cluster = Cluster {
            ports: Vec::new(),
            password,
            children: Vec::new(),
            _dirs: dirs,
        };
        for _ in 0..3 {
            let port = free_cluster_port(&cluster.ports);
            let dir = cluster._dirs.path().join(port.to_string());
            std::fs::create_dir(&dir).unwrap();
            let log = std::fs::File::create(dir.join("redis.log")).unwrap();
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", "nodes.conf"])
                .args(["--requirepass", &cluster.password])
                .args(["--masterauth", &cluster.password])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&dir)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("redis-server is required for this test (apt-get install redis-server)");
            cluster.children.push(child);
            cluster.ports.push(port);
        }
        for (i, &port) in cluster.ports.iter().enumerate() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Some(status) = cluster.children[i].try_wait().unwrap() {
                    panic!(
                        "redis-server on {port} exited ({status}): {}",
                        cluster.log(port)
                    );
                }
                assert!(
                    Instant::now() < deadline,
                    "redis-server did not listen on {port} within 10 s"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let mut create = Command::new("redis-cli");
        create
            .env("REDISCLI_AUTH", &cluster.password)
            .arg("--cluster")
            .arg("create")
            .args(cluster.ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .arg("--cluster-yes");
        let (ok, out) = run(
            create,
            "redis-cli --cluster create",
            None,
            Duration::from_secs(60),
        );
        assert!(ok && out.contains("All 16384 slots covered"), "{out}");
        cluster.wait_until_ok(Duration::from_secs(30));
        cluster
    }

    fn log(&self, port: u16) -> String {
        std::fs::read_to_string(self._dirs.path().join(port.to_string()).join("redis.log"))
            .unwrap_or_default()
    }

    /// Every node answers CLUSTER INFO with cluster_state:ok and knows 3 masters with slots.
    fn wait_until_ok(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        for &port in &self.ports {
            loop {
                let info = cli(port, &self.password, &["CLUSTER", "INFO"], None);
                if info.contains("cluster_state:ok") && info.contains("cluster_size:3") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {port}: no cluster_state:ok within {limit:?}: {info}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    fn cli(&self, port: u16, args: &[&str]) -> String {
        cli(port, &self.password, args, None)
    }

    fn dbsizes(&self) -> Vec<u64> {
        self.ports
            .iter()
            .map(|&p| dbsize(p, &self.password))
            .collect()
    }

    /// The slot range `port` serves, from its own CLUSTER NODES line (one range per master
    /// after `--cluster create`).
    fn slots_of(&self, port: u16) -> (u16, u16) {
        let nodes = self.cli(port, &["CLUSTER", "NODES"]);
        let me = nodes
            .lines()
            .find(|l| l.contains("myself"))
            .unwrap_or_else(|| panic!("no myself line: {nodes}"));
        let range = me.split(' ').nth(8).unwrap();
        let (from, to) = range.split_once('-').unwrap();
        (from.parse().unwrap(), to.parse().unwrap())
    }
}

/// Redis Cluster's key slot: CRC16/XMODEM of the key mod 16384 (keys here have no `{`).
fn key_slot(key: &str) -> u16 {
    let mut crc: u16 = 0;
    for &b in key.as_bytes() {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

/// A Node.js client whose deployed actions have `time_limit` as OpenWhisk's `limits.timeout`.
async fn node_platform(server: &ServerHandle, time_limit: Duration) -> OpenWhiskPlatform {
    let ow = OpenWhiskConfig {
        apihost: Some(server.apihost()),
        auth: Some(Secret::new(server.auth())),
        namespace: "_".into(),
        insecure: false,
        action_name: "redwhisk-bench".into(),
        action_kind: ActionKind::Nodejs,
        nodejs_kind: "nodejs:20".into(),
        memory_mb: 256,
        redis_host_for_actions: None,
        poll_deadline: Duration::from_secs(60),
        fetch_logs: false,
    };
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    OpenWhiskPlatform::from_resolved(&ow, resolved, time_limit).unwrap()
}

async fn deployed(server: &ServerHandle, time_limit: Duration) -> OpenWhiskPlatform {
    let p = node_platform(server, time_limit).await;
    for (action, name) in [
        (BuiltinAction::Bench, "b"),
        (BuiltinAction::Writer, "w"),
        (BuiltinAction::Reader, "r"),
    ] {
        p.deploy(action, name, &EventSink::discard()).await.unwrap();
    }
    p
}

fn field_names(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn bench_through_a_real_cluster_has_the_plain_shape_plus_the_counters() {
    support::require_node();
    let cluster = Cluster::start();
    let plain = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = deployed(&server, Duration::from_secs(60)).await;

    for (i, mode) in ["sequential", "pipelined"].into_iter().enumerate() {
        let seed_port = cluster.ports[i + 1]; // any node will do as the seed
        let params = json!({"host": "127.0.0.1", "port": seed_port, "password": cluster.password,
            "records": 300, "value_size": 16, "mode": mode, "seed": 7, "cluster": true});
        let a = p.invoke("b", params).await.unwrap();
        assert!(a.success(), "{mode}: {:?}", a.response);
        let result = &a.response.result;
        let r: BenchResult = serde_json::from_value(result.clone()).unwrap();
        assert_eq!((r.mismatches, r.errors), (0, 0), "{mode}: {result}");
        assert_eq!(r.records, 300);
        let rt = if mode == "sequential" { 300 } else { 1 };
        assert_eq!(
            (
                r.round_trips.write,
                r.round_trips.read,
                r.round_trips.delete
            ),
            (rt, rt, rt)
        );
        assert_eq!(
            r.round_trips.connect, 6,
            "seed TCP + AUTH + CLUSTER NODES, masters' TCP + AUTH, PING"
        );
        assert!(r.total_ms >= r.connect_ms + r.write_ms + r.read_ms + r.delete_ms - 0.001);
        // A settled cluster: the client's slot map is right, nothing is redirected.
        assert_eq!(
            counters(result),
            ClusterCounters {
                moved: Some(0),
                ask: Some(0),
                retries: Some(0),
                nodes: 3
            },
            "{mode}"
        );

        // The same shape as without `cluster`, plus the `cluster` field.
        let params = json!({"host": "127.0.0.1", "port": plain.port, "password": plain.password,
            "records": 300, "value_size": 16, "mode": mode, "seed": 7});
        let a = p.invoke("b", params).await.unwrap();
        assert!(a.success(), "{:?}", a.response);
        let plain_fields = field_names(&a.response.result);
        assert!(!plain_fields.contains("cluster"));
        let mut expected = plain_fields;
        expected.insert("cluster".into());
        assert_eq!(field_names(result), expected);
    }
    // Every key was deleted from every master (DEL is routed by key, see bench.js).
    assert_eq!(cluster.dbsizes(), vec![0, 0, 0]);
}

#[tokio::test]
async fn writer_spreads_keys_over_every_master_and_the_reader_reads_them_back() {
    support::require_node();
    let cluster = Cluster::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = deployed(&server, Duration::from_secs(60)).await;
    let params = json!({"host": "127.0.0.1", "port": cluster.ports[0], "password": cluster.password,
        "keys": 1500, "value_size": 24, "seed": 9, "key_prefix": "share", "cluster": true});
    let w = p.invoke("w", params.clone()).await.unwrap();
    assert!(w.success(), "{:?}", w.response);
    let written: WriterResult = serde_json::from_value(w.response.result.clone()).unwrap();
    assert_eq!((written.keys_written, written.errors), (1500, 0));
    assert_eq!(counters(&w.response.result).nodes, 3);

    let sizes = cluster.dbsizes();
    assert!(
        sizes.iter().all(|&n| n > 0),
        "one master got no key: {sizes:?}"
    );
    assert_eq!(sizes.iter().sum::<u64>(), 1500, "{sizes:?}");

    // Read back through another seed node: every value, the writer's digest.
    let mut through_other = params.clone();
    through_other["port"] = json!(cluster.ports[2]);
    let r = p.invoke("r", through_other.clone()).await.unwrap();
    assert!(r.success(), "{:?}", r.response);
    let read: ReaderResult = serde_json::from_value(r.response.result.clone()).unwrap();
    assert_eq!(
        (read.found, read.missing, read.mismatches, read.errors),
        (1500, 0, Some(0), 0)
    );
    assert!(read.matches);
    assert_eq!(read.digest, written.digest);
    assert_eq!(
        counters(&r.response.result),
        ClusterCounters {
            moved: Some(0),
            ask: Some(0),
            retries: Some(0),
            nodes: 3
        }
    );

    // A wrong password is refused by the seed, as without a cluster.
    let wrong = "definitely-wrong-password";
    through_other["password"] = json!(wrong);
    let r = p.invoke("r", through_other).await.unwrap();
    assert_eq!(r.response.status, ActivationStatus::ApplicationError);
    let e = r.response.result["error"].as_str().unwrap();
    assert!(
        e.contains("rejected the password") && e.contains("WRONGPASS") && !e.contains(wrong),
        "{e}"
    );
}

/// Slots of master A half-migrated to master B (A: MIGRATING, B: IMPORTING), as during a
/// resharding: A answers ASK for every key it does not hold, and the client must send ASKING
/// then the command to B. The counters must see exactly those redirections.
#[tokio::test]
async fn ask_redirections_of_a_migrating_slot_range_are_counted() {
    support::require_node();
    let cluster = Cluster::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = deployed(&server, Duration::from_secs(60)).await;
    let (a, b) = (cluster.ports[0], cluster.ports[1]);
    let (from, to) = cluster.slots_of(a);
    let a_id = cluster.cli(a, &["CLUSTER", "MYID"]).trim().to_string();
    let b_id = cluster.cli(b, &["CLUSTER", "MYID"]).trim().to_string();
    let commands = |state: &str, id: &str| {
        (from..=to)
            .map(|s| format!("CLUSTER SETSLOT {s} {state} {id}\n"))
            .collect::<String>()
    };
    let ok = |out: String| {
        assert_eq!(
            out.lines().filter(|l| *l == "OK").count(),
            usize::from(to - from) + 1,
            "{out}"
        )
    };
    ok(cli(
        b,
        &cluster.password,
        &[],
        Some(&commands("IMPORTING", &a_id)),
    ));
    ok(cli(
        a,
        &cluster.password,
        &[],
        Some(&commands("MIGRATING", &b_id)),
    ));

    let records = 120u32;
    let params = json!({"host": "127.0.0.1", "port": cluster.ports[2], "password": cluster.password,
        "records": records, "value_size": 16, "mode": "sequential", "key_prefix": "mig",
        "cluster": true});
    let act = p.invoke("b", params.clone()).await.unwrap();
    assert!(act.success(), "{:?}", act.response);
    let result = &act.response.result;
    let r: BenchResult = serde_json::from_value(result.clone()).unwrap();
    assert_eq!((r.mismatches, r.errors), (0, 0), "{result}");

    // The keys are <prefix>:<activation id>:<i>; those in A's slots are ASKed once per phase.
    let keys: Vec<String> = (0..records)
        .map(|i| format!("mig:{}:{i}", act.activation_id))
        .collect();
    let slot = cluster.cli(a, &["CLUSTER", "KEYSLOT", &keys[0]]);
    assert_eq!(slot.trim(), key_slot(&keys[0]).to_string(), "CRC16 check");
    let in_a = keys
        .iter()
        .filter(|k| (from..=to).contains(&key_slot(k)))
        .count() as u64;
    assert!(
        in_a > 0 && in_a < u64::from(records),
        "{in_a} of {records} in A's slots"
    );
    assert_eq!(
        counters(result),
        ClusterCounters {
            moved: Some(0),
            ask: Some(3 * in_a),
            retries: Some(3 * in_a),
            nodes: 3
        },
        "SET, GET and DEL of each of the {in_a} keys in A's slots: one ASK and one retry each"
    );
    assert_eq!(cluster.dbsizes(), vec![0, 0, 0], "every key was deleted");

    // Pipelined, node-redis 4.0.4 sends many ASKING + command pairs on one connection without
    // keeping each pair together, so B answers some commands with MOVED (back to A) and some
    // give up after maxCommandRedirections. The counters stay consistent: a retry follows a
    // redirection, never the other way round.
    let mut pipelined = params;
    pipelined["mode"] = json!("pipelined");
    let act = p.invoke("b", pipelined).await.unwrap();
    assert!(act.success(), "{:?}", act.response);
    let c = counters(&act.response.result);
    let (moved, ask, retries) = (c.moved.unwrap(), c.ask.unwrap(), c.retries.unwrap());
    assert!(ask > 0 && retries > 0 && retries <= moved + ask, "{c:?}");
}

/// A TCP server that accepts connections and never answers.
async fn blackhole() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            held.push(c);
        }
    });
    (port, task)
}

/// `cluster: true` against a plain redis-server, a refused port or a silent one: an
/// application error that says what is wrong, inside a 5 s time limit (never a hang).
#[tokio::test]
async fn cluster_true_without_a_cluster_is_an_application_error_within_5_s() {
    support::require_node();
    let plain = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = deployed(&server, Duration::from_secs(5)).await;
    let (_reserved, refused) = support::refusing_port();
    let (silent, task) = blackhole().await;

    let bad = p
        .invoke(
            "b",
            json!({"host": "127.0.0.1", "port": plain.port, "cluster": "yes"}),
        )
        .await
        .unwrap();
    assert_eq!(bad.response.status, ActivationStatus::ApplicationError);
    let e = bad.response.result["error"].as_str().unwrap();
    assert!(e.contains("`cluster` must be true"), "{e}");

    for (name, extra) in [
        ("b", json!({"records": 1})),
        ("w", json!({"keys": 1, "seed": 1})),
        ("r", json!({"keys": 1, "seed": 1})),
    ] {
        for (port, password) in [
            (plain.port, plain.password.as_str()),
            (refused, "pw-x"),
            (silent, "pw-x"),
        ] {
            let mut params =
                json!({"host": "127.0.0.1", "port": port, "password": password, "cluster": true});
            params
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let a = p.invoke(name, params).await.unwrap();
            assert_eq!(
                a.response.status,
                ActivationStatus::ApplicationError,
                "{name} against {port}: {:?}",
                a.response
            );
            assert_eq!(a.annotation("timeout"), Some(&json!(false)));
            let e = a.response.result["error"].as_str().unwrap();
            assert!(!e.contains(password), "{e}");
            if port == plain.port {
                assert!(
                    e.contains(&format!("Redis at 127.0.0.1:{port} is not a cluster node"))
                        && e.contains("cluster support disabled")
                        && e.contains("set `cluster` to false"),
                    "{name}: {e}"
                );
            } else {
                assert!(
                    e.contains(&format!("cannot connect to Redis at 127.0.0.1:{port}")),
                    "{name}: {e}"
                );
            }
            if port == refused {
                assert!(e.contains("ECONNREFUSED"), "the cause is kept: {e}");
            }
        }
    }
    task.abort();
}

/// bench.js, writer.js and reader.js carry the same helper block (parameters, connect, the
/// cluster counters, digest); they must not drift apart.
#[test]
fn the_shared_helpers_are_identical_in_the_three_actions() {
    let block = |src: &'static str| {
        let start = src.find("// ---- shared helpers").unwrap();
        let end = src.find("// ---- end of shared helpers ----").unwrap();
        &src[start..end]
    };
    let bench = block(package::NODE_BENCH);
    assert!(bench.contains("createCluster") && bench.contains("function countRedirections"));
    assert_eq!(bench, block(package::NODE_WRITER), "writer.js");
    assert_eq!(bench, block(package::NODE_READER), "reader.js");
}
