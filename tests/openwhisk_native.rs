//! The real static native actions (`RUSTFLAGS="-C target-feature=+crt-static" cargo build
//! --profile dist -p redwhisk-actions --target x86_64-unknown-linux-gnu`), found and zipped by
//! `OpenWhiskPlatform::deploy` exactly as for a real OpenWhisk, run by the test server under the
//! native contract against a real redis-server. Fails loudly when the binaries are not built.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use redwhisk::event::EventSink;
use redwhisk::platform::BuiltinAction;
use redwhisk::platform::openwhisk::config::resolve;
use redwhisk::platform::openwhisk::{OpenWhiskPlatform, package};
use redwhisk::profile::{ActionKind, OpenWhiskConfig};
use redwhisk::secret::Secret;
use redwhisk_actions::protocol::{ReaderResult, WriterResult};
use redwhisk_actions::{BenchResult, Mode};
use serde_json::json;
use support::RedisProc;
use support::openwhisk_server::{ServerConfig, ServerHandle, start_server};

fn native_platform(server: &ServerHandle) -> OpenWhiskPlatform {
    native_platform_limited(server, Duration::from_secs(60))
}

/// Deployed actions get `time_limit` as `limits.timeout`; logs are fetched after each
/// blocking answer (which, as OpenWhisk's, has none).
fn native_platform_limited(server: &ServerHandle, time_limit: Duration) -> OpenWhiskPlatform {
    for action in [
        BuiltinAction::Bench,
        BuiltinAction::Writer,
        BuiltinAction::Reader,
    ] {
        if let Err(e) = package::locate_binary(action, None) {
            panic!("this test needs the static action binaries: {e}");
        }
    }
    let ow = OpenWhiskConfig {
        apihost: Some(server.apihost()),
        auth: Some(Secret::new(server.auth())),
        namespace: "guest".into(),
        insecure: false,
        action_name: "redwhisk-bench".into(),
        action_kind: ActionKind::Native,
        nodejs_kind: "nodejs:20".into(),
        memory_mb: 256,
        redis_host_for_actions: None,
        poll_deadline: Duration::from_secs(60),
        fetch_logs: true,
    };
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    OpenWhiskPlatform::from_resolved(&ow, resolved, time_limit).unwrap()
}

#[tokio::test]
async fn static_native_bench_runs_as_a_blackbox_action() {
    let redis = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = native_platform(&server);
    p.deploy(
        BuiltinAction::Bench,
        "redwhisk-bench",
        &EventSink::discard(),
    )
    .await
    .unwrap();
    for mode in ["sequential", "pipelined"] {
        let params = json!({"host": "127.0.0.1", "port": redis.port, "password": redis.password,
            "records": 300, "value_size": 32, "mode": mode, "key_prefix": "e2e"});
        let a = p.invoke("redwhisk-bench", params).await.unwrap();
        assert!(a.success(), "{a:?}");
        assert_eq!(a.kind.as_deref(), Some("blackbox"));
        let r: BenchResult = serde_json::from_value(a.response.result.clone()).unwrap();
        assert_eq!((r.records, r.mismatches, r.errors), (300, 0, 0));
        assert_eq!(r.round_trips.connect, 3);
        let expect_mode = if mode == "sequential" {
            Mode::Sequential
        } else {
            Mode::Pipelined
        };
        assert_eq!(r.mode, expect_mode);
        // The action logs its key space on stderr; it must reach the activation's logs.
        assert!(
            a.logs
                .iter()
                .any(|l| l.contains("stderr: bench: 300 records")),
            "{:?}",
            a.logs
        );
        assert!(!a.logs.iter().any(|l| l.contains(&redis.password)));
    }
}

#[tokio::test]
async fn static_native_writer_and_reader_share_data() {
    let redis = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = native_platform(&server);
    let events = EventSink::discard();
    p.deploy(BuiltinAction::Writer, "w", &events).await.unwrap();
    p.deploy(BuiltinAction::Reader, "r", &events).await.unwrap();
    let params = json!({"host": "127.0.0.1", "port": redis.port, "password": redis.password,
        "keys": 500, "seed": 77});
    let w: WriterResult =
        serde_json::from_value(p.invoke("w", params.clone()).await.unwrap().response.result)
            .unwrap();
    assert_eq!(w.keys_written, 500);
    let r: ReaderResult =
        serde_json::from_value(p.invoke("r", params).await.unwrap().response.result).unwrap();
    assert!(r.matches, "{r:?}");
    assert_eq!(r.digest, w.digest);
}

#[tokio::test]
async fn a_wrong_password_is_an_application_error_record() {
    let redis = RedisProc::start();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = native_platform(&server);
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .await
        .unwrap();
    let a = p
        .invoke(
            "b",
            json!({"host": "127.0.0.1", "port": redis.port, "password": "nope-wrong"}),
        )
        .await
        .unwrap();
    assert!(!a.success());
    let err = a.response.result["error"].as_str().unwrap();
    assert!(
        err.contains("rejected the password") && !err.contains("nope-wrong"),
        "{err}"
    );
}

/// Issue 11 (1), native side: the static actions already failed fast on a refused port; a
/// server that accepts and never answers is now bounded too (AUTH + PING share the connect
/// budget). Both are application errors inside a 5 s time limit.
#[tokio::test]
async fn static_actions_report_an_unreachable_redis_within_a_5_s_time_limit() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = native_platform_limited(&server, Duration::from_secs(5));
    let events = EventSink::discard();
    p.deploy(BuiltinAction::Bench, "b", &events).await.unwrap();
    p.deploy(BuiltinAction::Writer, "w", &events).await.unwrap();
    let (_reserved, refused) = support::refusing_port();
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            held.push(c);
        }
    });
    for (name, extra) in [("b", json!({"records": 1})), ("w", json!({"keys": 1}))] {
        for port in [refused, silent_port] {
            let mut params = json!({"host": "127.0.0.1", "port": port, "password": "pw-x"});
            params
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let a = p.invoke(name, params).await.unwrap();
            assert_eq!(
                a.response.status,
                redwhisk::platform::ActivationStatus::ApplicationError,
                "{name} against 127.0.0.1:{port}: {:?}",
                a.response
            );
            let e = a.response.result["error"].as_str().unwrap();
            assert!(
                e.contains(&format!("cannot connect to Redis at 127.0.0.1:{port}")),
                "{e}"
            );
            assert!(!e.contains("pw-x"));
        }
    }
    holder.abort();
}
