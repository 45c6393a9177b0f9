//! End to end: a full `redwhisk run --profile <file>` against the OpenWhisk-compatible test
//! server, for the native (static binary in a zip) and the Node.js bench action. Redis is the
//! profile's own process backend. Needs redis-server, node + `npm ci --prefix actions/nodejs`,
//! and the static native actions built; fails loudly without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use support::openwhisk_server::{GUEST_AUTH, ServerConfig, start_server};

fn profile_text(apihost: &str, kind: &str) -> String {
    format!(
        r#"description = "e2e against the test server"
[redis]
backend = "process"
persistence = "none"
[platform]
kind = "openwhisk"
apihost = "{apihost}"
auth = "{GUEST_AUTH}"
action_kind = "{kind}"
action_name = "rw-e2e-{kind}"
poll_deadline_ms = 60000
[workload]
invocations = 5
concurrency = 2
records = 100
"#
    )
}

async fn run_against_server(
    kind: &str,
    blocking_wait: Duration,
    throttle_first: u32,
) -> (serde_json::Value, u32, u32) {
    let server = start_server(ServerConfig {
        blocking_wait,
        throttle_first,
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join(format!("ow-{kind}.toml"));
    std::fs::write(&profile, profile_text(&server.apihost(), kind)).unwrap();
    let results = dir.path().join("results");
    let data = dir.path().join("data");
    let out = tokio::task::spawn_blocking({
        let profile = profile.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_redwhisk"))
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env("REDWHISK_DATA_DIR", &data)
                .arg("run")
                .arg("--profile")
                .arg(&profile)
                .args(["--output", "json", "--results-dir"])
                .arg(&results)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    assert!(
        !stderr.contains(GUEST_AUTH.split(':').nth(1).unwrap()),
        "the key leaked: {stderr}"
    );
    let stats = server.stats();
    server.shutdown().await;
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        stats.puts,
        stats.throttled,
    )
}

fn check(doc: &serde_json::Value) {
    assert_eq!(doc["platform"], "openwhisk");
    let s = &doc["summary"];
    assert_eq!(s["completed"], 5, "{s}");
    assert_eq!(s["succeeded"], 5, "{s}");
    assert_eq!(s["mismatches"], 0);
    assert_eq!(s["per_command_us"]["write"]["n"], 500);
    let cold = s["platform"]["cold"]["count"].as_u64().unwrap();
    let warm = s["platform"]["warm"]["count"].as_u64().unwrap();
    assert_eq!(cold + warm, 5);
    assert!(
        cold >= 1,
        "the first activation of a fresh action has an initTime: {s}"
    );
    assert!(
        s["platform"]["warm"]["wait_time_ms"]["n"].as_u64().unwrap()
            + s["platform"]["cold"]["wait_time_ms"]["n"].as_u64().unwrap()
            == 5
    );
    assert!(
        !doc.to_string()
            .contains(GUEST_AUTH.split(':').nth(1).unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_action_full_run() {
    let (doc, puts, _) = run_against_server("native", Duration::from_secs(60), 0).await;
    check(&doc);
    assert_eq!(puts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodejs_action_full_run() {
    support::require_node();
    let (doc, puts, _) = run_against_server("nodejs", Duration::from_secs(60), 0).await;
    check(&doc);
    assert_eq!(puts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_run_survives_202_polling_and_throttling() {
    // blocking calls turn into 202 at once and the first 3 invokes are throttled
    let (doc, _, throttled) = run_against_server("native", Duration::from_millis(0), 3).await;
    check(&doc);
    assert_eq!(throttled, 3);
    assert_eq!(doc["summary"]["throttled"], 3);
}
