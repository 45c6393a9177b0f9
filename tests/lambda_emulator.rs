//! The local Lambda: real AWS Lambda Runtime Interface Emulator containers (Docker, host
//! network), the real `bootstrap` on the `lambda_runtime` crate, invoked through the AWS SDK
//! for Rust, against a real redis-server. Needs Docker, `aws-lambda-rie` (scripts/ci-setup.sh)
//! and the static actions (`RUSTFLAGS="-C target-feature=+crt-static" cargo build --profile
//! dist -p redwhisk-actions --target x86_64-unknown-linux-gnu`); fails loudly without them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../actions/native/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::TestRedis;
use redwhisk::event::EventSink;
use redwhisk::platform::{ActivationStatus, BuiltinAction, LambdaPlatform, PlatformError};
use redwhisk::profile::Profile;
use serde_json::{Value, json};

fn profile(timeout_s: u32, concurrency: u32) -> Profile {
    profile_of("provided.al2023", timeout_s, concurrency)
}

fn profile_of(runtime: &str, timeout_s: u32, concurrency: u32) -> Profile {
    let text = format!(
        r#"
[redis]
backend = "process"
[platform]
kind = "lambda"
emulator = "local"
runtime = "{runtime}"
memory_mb = 256
timeout = {timeout_s}
[workload]
concurrency = {concurrency}
"#
    );
    Profile::parse(&text, "lambda-test.toml", "lambda-test", None).unwrap()
}

fn params(port: u16, records: u32) -> Value {
    json!({"host": "127.0.0.1", "port": port, "records": records, "value_size": 16, "key_prefix": "lt"})
}

async fn deployed(timeout_s: u32, concurrency: u32, name: &str) -> LambdaPlatform {
    let p = LambdaPlatform::new(&profile(timeout_s, concurrency)).unwrap();
    p.deploy(BuiltinAction::Bench, name, &EventSink::discard())
        .await
        .unwrap_or_else(|e| panic!("deploy on the local emulator failed: {e}"));
    p
}

/// Containers of this test process for `function`, as Docker lists them.
fn docker_containers(function: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label=redwhisk.lambda.function={function}"),
            "--filter",
            &format!("label=redwhisk.lambda.pid={}", std::process::id()),
            "--format",
            "{{.Names}}",
        ])
        .output()
        .expect("docker CLI");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A "Redis" that accepts connections and never answers.
fn silent_listener() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[tokio::test]
async fn cold_then_warm_with_report_figures_and_containers_removed() {
    let redis = TestRedis::start(None);
    let p = deployed(30, 1, "lt-coldwarm").await;
    assert_eq!(docker_containers("lt-coldwarm").len(), 1);
    let mut records = Vec::new();
    for _ in 0..3 {
        records.push(
            p.invoke("lt-coldwarm", params(redis.port, 50))
                .await
                .unwrap(),
        );
    }
    for a in &records {
        assert_eq!(a.response.status, ActivationStatus::Success, "{a:?}");
        let b = a.bench_result().expect("a bench result");
        assert_eq!(b.records, 50);
        assert_eq!(a.annotation("memorySize"), Some(&json!(256)));
        assert!(a.annotation("billedDuration").unwrap().as_u64().unwrap() >= 1);
        assert_eq!(a.kind.as_deref(), Some("provided.al2023"));
        assert_eq!(a.activation_id.len(), 36, "the REPORT line's RequestId");
    }
    assert!(
        records[0].is_cold(),
        "the container's first invocation is cold"
    );
    assert!(!records[1].is_cold() && !records[2].is_cold(), "then warm");
    let cost = p.cost(Duration::from_secs(1));
    assert_eq!(cost.bill.requests, 3);
    assert!(cost.bill.gb_seconds > 0.0 && cost.lambda_usd > 0.0);
    assert_eq!(redis.dbsize(), 0, "the bench deletes its keys");
    p.close().await;
    assert!(
        docker_containers("lt-coldwarm").is_empty(),
        "close removes the containers"
    );
}

#[tokio::test]
async fn concurrency_two_is_two_containers_each_cold_once() {
    let redis = TestRedis::start(None);
    let p = deployed(30, 2, "lt-conc").await;
    assert_eq!(docker_containers("lt-conc").len(), 2);
    let calls = (0..6).map(|_| p.invoke("lt-conc", params(redis.port, 20)));
    let all = futures::future::join_all(calls).await;
    let cold = all
        .iter()
        .map(|r| r.as_ref().unwrap())
        .filter(|a| a.is_cold())
        .count();
    assert!(all.iter().all(|r| r.as_ref().unwrap().success()));
    assert_eq!(cold, 2, "one cold start per container");
    // The console's process pane: both function containers, from the Docker stats API.
    let (engine, mut rx, task) = redwhisk::engine::spawn_engine(Default::default());
    engine.send(redwhisk::event::EngineCommand::SampleProcesses {
        redis_pid: None,
        containers: vec![],
        functions: true,
    });
    let snap = loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("no process sample within 30 s")
            .expect("the engine stopped")
        {
            redwhisk::event::EngineEvent::Processes(snap) => break snap,
            _ => continue,
        }
    };
    let rows: Vec<_> = snap
        .processes
        .iter()
        .filter(|r| r.role == "lambda")
        .collect();
    assert_eq!(rows.len(), 2, "{snap:?}");
    assert!(
        rows.iter()
            .all(|r| r.name.starts_with("lt-conc#") && r.rss_bytes > 0 && r.pid > 0),
        "{rows:?}"
    );
    engine.send(redwhisk::event::EngineCommand::Shutdown);
    let _ = tokio::time::timeout(Duration::from_secs(60), task).await;
    p.close().await;
}

#[tokio::test]
async fn an_action_error_is_an_unhandled_function_error_with_its_payload() {
    let p = deployed(30, 1, "lt-error").await;
    let a = p.invoke("lt-error", json!({"records": 5})).await.unwrap();
    assert_eq!(a.response.status, ActivationStatus::ApplicationError);
    assert!(!a.success());
    assert_eq!(a.response.result["functionError"], "Unhandled");
    assert_eq!(a.response.result["errorType"], "ActionError");
    assert!(
        a.error_text().unwrap().contains("missing field `host`"),
        "{:?}",
        a.response.result
    );
    assert!(
        a.annotation("billedDuration").is_some(),
        "errors are billed too"
    );
    p.close().await;
}

#[tokio::test]
async fn unreachable_redis_is_an_error_in_bounded_time() {
    // A port nobody listens on: bind, note it, close.
    let port = silent_listener().1;
    let p = deployed(30, 1, "lt-unreach").await;
    let started = Instant::now();
    let a = p.invoke("lt-unreach", params(port, 10)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(a.response.status, ActivationStatus::ApplicationError);
    let e = a.error_text().unwrap();
    assert!(e.contains("cannot connect to Redis"), "{e}");
    p.close().await;
}

#[tokio::test]
async fn a_function_that_outlives_its_timeout_is_a_timeout_and_the_next_one_works() {
    let redis = TestRedis::start(None);
    let (_hold, port) = silent_listener();
    let p = deployed(1, 1, "lt-timeout").await;
    let started = Instant::now();
    let a = p.invoke("lt-timeout", params(port, 10)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "bounded");
    assert_eq!(a.response.status, ActivationStatus::DeveloperError, "{a:?}");
    assert_eq!(a.response.result["timeout"], true);
    assert_eq!(a.annotation("timeout"), Some(&json!(true)));
    assert!(
        a.error_text()
            .unwrap()
            .starts_with("Task timed out after 1.00 seconds"),
        "{:?}",
        a.error_text()
    );
    assert!(a.duration >= 1000, "billed to the limit: {}", a.duration);
    let next = p
        .invoke("lt-timeout", params(redis.port, 10))
        .await
        .unwrap();
    assert!(next.success(), "{next:?}");
    p.close().await;
}

#[tokio::test]
async fn a_container_killed_mid_invocation_is_an_error_and_is_replaced() {
    let redis = TestRedis::start(None);
    let (_hold, port) = silent_listener();
    let p = deployed(20, 1, "lt-kill").await;
    let victim = docker_containers("lt-kill");
    assert_eq!(victim.len(), 1);
    let killer = {
        let name = victim[0].clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let st = tokio::process::Command::new("docker")
                .args(["kill", &name])
                .status()
                .await
                .unwrap();
            assert!(st.success());
        })
    };
    let started = Instant::now();
    let r = p.invoke("lt-kill", params(port, 10)).await;
    killer.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "bounded");
    match r {
        Err(PlatformError::Lambda(e)) => {
            assert!(e.is_per_invocation(), "{e}");
            assert!(e.to_string().contains("ended during the invocation"), "{e}");
        }
        other => panic!("expected a per-invocation error, got {other:?}"),
    }
    let now = docker_containers("lt-kill");
    assert_eq!(now.len(), 1);
    assert_ne!(now, victim, "a new container replaced the killed one");
    let next = p.invoke("lt-kill", params(redis.port, 10)).await.unwrap();
    assert!(next.success() && next.is_cold(), "{next:?}");
    p.close().await;
    assert!(docker_containers("lt-kill").is_empty());
}

async fn deployed_node(timeout_s: u32, name: &str) -> LambdaPlatform {
    let p = LambdaPlatform::new(&profile_of("nodejs20.x", timeout_s, 1)).unwrap();
    p.deploy(BuiltinAction::Bench, name, &EventSink::discard())
        .await
        .unwrap_or_else(|e| panic!("deploy of nodejs20.x on the local emulator failed: {e}"));
    p
}

#[tokio::test]
async fn nodejs_cold_then_warm_then_errors_and_timeout() {
    let redis = TestRedis::start(None);
    let p = deployed_node(2, "lt-node").await;
    let first = p.invoke("lt-node", params(redis.port, 30)).await.unwrap();
    let second = p.invoke("lt-node", params(redis.port, 30)).await.unwrap();
    for a in [&first, &second] {
        assert!(a.success(), "{a:?}");
        assert_eq!(a.bench_result().unwrap().records, 30);
        assert_eq!(a.kind.as_deref(), Some("nodejs20.x"));
    }
    assert!(first.is_cold() && !second.is_cold());
    assert!(
        first.logs.iter().any(|l| l.contains("bench: 30 records")),
        "the function's own log lines are kept: {:?}",
        first.logs
    );

    // `{error}` from the bench is thrown by index.handler: an Unhandled function error.
    let bad = p
        .invoke("lt-node", json!({"port": redis.port}))
        .await
        .unwrap();
    assert_eq!(bad.response.status, ActivationStatus::ApplicationError);
    assert_eq!(bad.response.result["functionError"], "Unhandled");
    assert_eq!(bad.response.result["errorType"], "ActionError");
    assert!(
        bad.error_text().unwrap().contains("host"),
        "{:?}",
        bad.response.result
    );

    // node-redis waits on a silent server longer than the 2 s limit.
    let (_hold, port) = silent_listener();
    let started = Instant::now();
    let t = p.invoke("lt-node", params(port, 10)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(t.response.result["timeout"], true, "{t:?}");
    assert!(
        t.error_text()
            .unwrap()
            .starts_with("Task timed out after 2.00 seconds")
    );

    // Redis unreachable from the function: an error, in bounded time.
    let closed = silent_listener().1;
    let started = Instant::now();
    let u = p.invoke("lt-node", params(closed, 10)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        u.response.status,
        ActivationStatus::ApplicationError,
        "{u:?}"
    );
    p.close().await;
    assert!(docker_containers("lt-node").is_empty());
}
