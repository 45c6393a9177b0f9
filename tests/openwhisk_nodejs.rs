//! The Node.js actions, deployed by `OpenWhiskPlatform::deploy` to the test server and run
//! with `node` against a real, password-protected redis-server. Needs node, redis-server and
//! `npm ci --prefix actions/nodejs`; fails loudly without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use redwhisk::event::{EngineEvent, EventSink};
use redwhisk::platform::openwhisk::config::resolve;
use redwhisk::platform::openwhisk::{OpenWhiskPlatform, package};
use redwhisk::platform::{ActivationStatus, BuiltinAction};
use redwhisk::profile::{ActionKind, OpenWhiskConfig};
use redwhisk::secret::Secret;
use redwhisk_actions::protocol::{ReaderResult, WriterResult};
use redwhisk_actions::{BenchResult, Mode};
use serde_json::json;
use support::RedisProc;
use support::openwhisk_server::{ServerConfig, ServerHandle, start_server};

async fn node_platform(server: &ServerHandle) -> OpenWhiskPlatform {
    node_platform_limited(server, Duration::from_secs(60)).await
}

/// A Node.js client whose deployed actions have `time_limit` as OpenWhisk's `limits.timeout`.
async fn node_platform_limited(server: &ServerHandle, time_limit: Duration) -> OpenWhiskPlatform {
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

fn bucket_total(b: &[[u64; 2]]) -> u64 {
    b.iter().map(|[_, c]| c).sum()
}

#[tokio::test]
async fn nodejs_bench_matches_the_native_result_type() {
    support::require_node();
    let redis = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = node_platform(&server).await;
    let (events, mut rx) = EventSink::new();
    p.deploy(BuiltinAction::Bench, "redwhisk-bench", &events)
        .await
        .unwrap();
    let Ok(EngineEvent::Log { message, .. }) = rx.try_recv() else {
        panic!("deploy should report what it deployed");
    };
    assert!(message.contains("nodejs:20") && !message.contains(server.auth()));

    for (mode, rt) in [("sequential", 200u64), ("pipelined", 1)] {
        let params = json!({"host": "127.0.0.1", "port": redis.port, "password": redis.password,
            "records": 200, "value_size": 16, "mode": mode, "seed": 42});
        let a = p.invoke("redwhisk-bench", params).await.unwrap();
        assert!(a.success(), "{a:?}");
        assert_eq!(a.kind.as_deref(), Some("nodejs:20"));
        // The same result type the native action produces.
        let r: BenchResult = serde_json::from_value(a.response.result.clone()).unwrap();
        assert_eq!(r.action, "bench");
        assert_eq!((r.records, r.value_size), (200, 16));
        assert_eq!(r.mismatches, 0);
        assert_eq!(r.errors, 0);
        assert_eq!(
            r.round_trips.connect, 3,
            "TCP + AUTH + PING, as the native action counts"
        );
        assert_eq!(
            (
                r.round_trips.write,
                r.round_trips.read,
                r.round_trips.delete
            ),
            (rt, rt, rt)
        );
        let samples = if mode == "sequential" { 200 } else { 1 };
        assert_eq!(bucket_total(&r.latency_us.write), samples);
        assert_eq!(bucket_total(&r.latency_us.read), samples);
        assert_eq!(bucket_total(&r.latency_us.delete), samples);
        assert!(r.total_ms >= r.connect_ms + r.write_ms + r.read_ms + r.delete_ms - 0.001);
        assert_eq!(
            r.mode,
            if mode == "sequential" {
                Mode::Sequential
            } else {
                Mode::Pipelined
            }
        );
        // Every value bucket is rounded to 3 significant digits.
        for [v, _] in r.latency_us.write.iter().chain(&r.latency_us.read) {
            let digits = v.to_string().trim_end_matches('0').len();
            assert!(
                *v < 1000 || digits <= 3,
                "{v} has more than 3 significant digits"
            );
        }
    }
    // The keys were deleted: nothing left behind in Redis.
    let out = std::process::Command::new("redis-cli")
        .args([
            "-p",
            &redis.port.to_string(),
            "--no-auth-warning",
            "-a",
            &redis.password,
            "DBSIZE",
        ])
        .output()
        .expect("redis-cli is required");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
}

#[tokio::test]
async fn nodejs_bench_reports_bad_params_and_wrong_password_as_application_errors() {
    support::require_node();
    let redis = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = node_platform(&server).await;
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .await
        .unwrap();
    let a = p
        .invoke(
            "b",
            json!({"host": "127.0.0.1", "port": redis.port, "recordz": 1}),
        )
        .await
        .unwrap();
    assert!(!a.success());
    assert!(
        a.response.result["error"]
            .as_str()
            .unwrap()
            .contains("recordz")
    );
    let wrong = "definitely-wrong-password";
    let a = p
        .invoke(
            "b",
            json!({"host": "127.0.0.1", "port": redis.port, "password": wrong}),
        )
        .await
        .unwrap();
    assert!(!a.success());
    let err = a.response.result["error"].as_str().unwrap();
    assert!(err.contains("WRONGPASS") && !err.contains(wrong), "{err}");
}

/// Run a native action in-process (the same code the static binary runs).
async fn native(action: &'static str, params: serde_json::Value) -> serde_json::Value {
    tokio::task::spawn_blocking(move || redwhisk_actions::execute(action, params).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn nodejs_writer_and_reader_share_data_with_each_other_and_the_native_twins() {
    support::require_node();
    let redis = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = node_platform(&server).await;
    p.deploy(BuiltinAction::Writer, "w", &EventSink::discard())
        .await
        .unwrap();
    p.deploy(BuiltinAction::Reader, "r", &EventSink::discard())
        .await
        .unwrap();
    let params = json!({"host": "127.0.0.1", "port": redis.port, "password": redis.password,
        "keys": 1500, "value_size": 24, "seed": 9, "key_prefix": "share-test"});
    let w = p.invoke("w", params.clone()).await.unwrap();
    assert!(w.success(), "{w:?}");
    let written: WriterResult = serde_json::from_value(w.response.result.clone()).unwrap();
    assert_eq!(
        (written.keys_written, written.errors, written.seed),
        (1500, 0, 9)
    );
    assert_eq!(written.round_trips, 2, "pipelines of 1000");

    let r = p.invoke("r", params.clone()).await.unwrap();
    let read: ReaderResult = serde_json::from_value(r.response.result.clone()).unwrap();
    assert_eq!(
        (read.found, read.missing, read.mismatches),
        (1500, 0, Some(0))
    );
    assert!(read.matches);
    assert_eq!(read.digest, written.digest);

    // The native reader agrees with what the Node.js writer stored, value for value.
    let native_read: ReaderResult =
        serde_json::from_value(native("reader", params.clone()).await).unwrap();
    assert!(native_read.matches, "{native_read:?}");
    assert_eq!(native_read.digest, written.digest);

    // A native writer with another seed, then the Node.js reader: its digest check follows.
    let mut other = params.clone();
    other["seed"] = json!(10);
    let native_written: WriterResult =
        serde_json::from_value(native("writer", other.clone()).await).unwrap();
    assert_ne!(native_written.digest, written.digest);
    let r = p.invoke("r", other).await.unwrap();
    let read: ReaderResult = serde_json::from_value(r.response.result.clone()).unwrap();
    assert!(read.matches && read.mismatches == Some(0), "{read:?}");
    assert_eq!(read.digest, native_written.digest);

    // Reading with the old seed now finds every value changed; by digest alone, no match.
    let r = p.invoke("r", params.clone()).await.unwrap();
    let read: ReaderResult = serde_json::from_value(r.response.result.clone()).unwrap();
    assert_eq!(read.mismatches, Some(1500));
    assert!(!read.matches);
    let mut by_digest = params;
    by_digest.as_object_mut().unwrap().remove("seed");
    by_digest["expected_digest"] = json!(written.digest.to_uppercase());
    let r = p.invoke("r", by_digest).await.unwrap();
    let read: ReaderResult = serde_json::from_value(r.response.result.clone()).unwrap();
    assert_eq!(read.mismatches, None);
    assert!(!read.matches);
    assert_eq!(read.expected_digest, written.digest);
}

#[test]
fn the_deployed_sources_are_the_files_in_actions_nodejs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("actions/nodejs");
    for (file, src) in [
        ("bench.js", package::NODE_BENCH),
        ("writer.js", package::NODE_WRITER),
        ("reader.js", package::NODE_READER),
    ] {
        assert_eq!(std::fs::read_to_string(dir.join(file)).unwrap(), src);
        assert!(
            src.contains("async function main(params)"),
            "{file} needs a top-level main"
        );
    }
}

/// The engine's call path: a profile file → `Platform::new` → deploy → invoke.
#[tokio::test]
async fn an_openwhisk_profile_drives_the_platform_enum() {
    support::require_node();
    let redis = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let toml = format!(
        "[platform]\nkind = \"openwhisk\"\napihost = \"{}\"\nauth = \"{}\"\n\
         action_kind = \"nodejs\"\nmemory_mb = 128\n[workload]\ntimeout_ms = 20000\n",
        server.apihost(),
        server.auth()
    );
    let profile = redwhisk::profile::Profile::parse(&toml, "test.toml", "ow-test", None).unwrap();
    let platform = redwhisk::platform::Platform::new(&profile).unwrap();
    assert_eq!(platform.label(), "openwhisk");
    assert!(!format!("{platform:?}").contains(server.auth().split_once(':').unwrap().1));
    platform
        .deploy(
            BuiltinAction::Bench,
            "redwhisk-bench",
            &EventSink::discard(),
        )
        .await
        .unwrap();
    let params = json!({"host": "127.0.0.1", "port": redis.port, "password": redis.password,
        "records": 20});
    let a = platform.invoke("redwhisk-bench", params).await.unwrap();
    assert!(a.success(), "{a:?}");
    assert_eq!(a.annotation("limits").unwrap()["memory"], 128);
    // As in OpenWhisk, the record is stored just after the blocking answer: 404 until then.
    let mut again = None;
    for _ in 0..100 {
        again = platform.activation(&a.activation_id).await.unwrap();
        if again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(again.unwrap().activation_id, a.activation_id);
}

/// A TCP server that accepts connections and never answers (what a wrong `host` that happens to
/// reach something else, or a frozen Redis, looks like).
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

/// Issue 11 (1): with the runtime's own redis 4.0.4, an unreachable Redis used to hang every
/// invocation until the action time limit (a developer error). Now each action gives the
/// application error "cannot connect to Redis at host:port" inside a 5 s time limit, which
/// the test server enforces like OpenWhisk (a hang would be a developer error with
/// `timeout: true`).
#[tokio::test]
async fn nodejs_actions_report_an_unreachable_redis_within_a_5_s_time_limit() {
    support::require_node();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = node_platform_limited(&server, Duration::from_secs(5)).await;
    for (action, name) in [
        (BuiltinAction::Bench, "b"),
        (BuiltinAction::Writer, "w"),
        (BuiltinAction::Reader, "r"),
    ] {
        p.deploy(action, name, &EventSink::discard()).await.unwrap();
    }
    let (_reserved, refused) = support::refusing_port();
    let (silent, task) = blackhole().await;
    let mut calls = Vec::new();
    for (name, extra) in [
        ("b", json!({"records": 1})),
        ("w", json!({"keys": 1, "seed": 1})),
        ("r", json!({"keys": 1, "seed": 1})),
    ] {
        for port in [refused, silent] {
            let mut params = json!({"host": "127.0.0.1", "port": port, "password": "pw-x"});
            params
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            calls.push((name, port, params));
        }
    }
    for (name, port, params) in calls {
        let sent = std::time::Instant::now();
        let a = p.invoke(name, params).await.unwrap();
        assert_eq!(
            a.response.status,
            ActivationStatus::ApplicationError,
            "{name} against 127.0.0.1:{port} ({} after {:?}): {:?}",
            if port == refused { "refused" } else { "silent" },
            sent.elapsed(),
            a.response
        );
        assert_eq!(a.annotation("timeout"), Some(&json!(false)));
        let e = a.response.result["error"].as_str().unwrap();
        assert!(
            e.contains(&format!("cannot connect to Redis at 127.0.0.1:{port}")),
            "{name}: {e}"
        );
        assert!(!e.contains("pw-x"), "{e}");
        if port == refused {
            assert!(e.contains("ECONNREFUSED"), "the cause is kept: {e}");
        }
    }
    task.abort();
}
