//! The Node.js actions, deployed by `OpenWhiskPlatform::deploy` to the test server and run
//! with `node` against a real, password-protected redis-server. Needs node, redis-server and
//! `npm ci --prefix actions/nodejs`; fails loudly without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use redwhisk::event::{EngineEvent, EventSink};
use redwhisk::platform::BuiltinAction;
use redwhisk::platform::openwhisk::config::resolve;
use redwhisk::platform::openwhisk::{OpenWhiskPlatform, package};
use redwhisk::profile::{ActionKind, OpenWhiskConfig};
use redwhisk::secret::Secret;
use redwhisk_actions::{BenchResult, Mode};
use serde_json::json;
use support::RedisProc;
use support::openwhisk_server::{ServerConfig, ServerHandle, start_server};

async fn node_platform(server: &ServerHandle) -> OpenWhiskPlatform {
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
    };
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(60)).unwrap()
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
        assert_eq!(r.round_trips.connect, 2, "AUTH + PING");
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

#[tokio::test]
async fn nodejs_writer_then_reader_share_data() {
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
        "records": 100, "value_size": 24, "seed": 9, "key_prefix": "share-test"});
    let w = p.invoke("w", params.clone()).await.unwrap();
    assert!(w.success(), "{w:?}");
    assert_eq!(w.response.result["written"], 100);
    let r = p.invoke("r", params.clone()).await.unwrap();
    assert!(r.success(), "{r:?}");
    assert_eq!(r.response.result["found"], 100);
    assert_eq!(r.response.result["mismatches"], 0);
    // A different seed means different values: the reader really checks them.
    let mut other = params;
    other["seed"] = json!(10);
    let r = p.invoke("r", other).await.unwrap();
    assert_eq!(r.response.result["found"], 0);
    assert_eq!(r.response.result["mismatches"], 100);
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
