//! End to end: a full `redwhisk run --profile <file>` against the OpenWhisk-compatible test
//! server, for the native (static binary in a zip) and the Node.js bench action. Redis is the
//! profile's own process backend. Needs redis-server, node + `npm ci --prefix actions/nodejs`,
//! and the static native actions built; fails loudly without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use support::openwhisk_server::{GUEST_AUTH, ServerConfig, start_server};

/// The profile, with `platform_extra` lines added to `[platform]`.
fn profile_text_with(apihost: &str, kind: &str, platform_extra: &str) -> String {
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
{platform_extra}
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
    let cfg = ServerConfig {
        blocking_wait,
        throttle_first,
        ..ServerConfig::default()
    };
    let r = run_full(kind, cfg, "", 0).await;
    (r.doc, r.stats.puts, r.stats.throttled)
}

/// What one `redwhisk run` left behind.
struct Ran {
    /// `--output json` (the statistics).
    doc: serde_json::Value,
    /// run.json
    run: serde_json::Value,
    csv: String,
    stats: support::openwhisk_server::Stats,
}

/// `redwhisk run` against a fresh test server whose first `whisk_errors` invokes end as
/// whisk internal errors.
async fn run_full(kind: &str, cfg: ServerConfig, platform_extra: &str, whisk_errors: u32) -> Ran {
    run_full_with(kind, cfg, platform_extra, whisk_errors, |t| t).await
}

/// [`run_full`] with the profile text passed through `edit` first.
async fn run_full_with(
    kind: &str,
    cfg: ServerConfig,
    platform_extra: &str,
    whisk_errors: u32,
    edit: impl Fn(String) -> String,
) -> Ran {
    let server = start_server(cfg).await.unwrap();
    server.whisk_error_next(whisk_errors);
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join(format!("ow-{kind}.toml"));
    std::fs::write(
        &profile,
        edit(profile_text_with(&server.apihost(), kind, platform_extra)),
    )
    .unwrap();
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
    // 0 when every invocation succeeded, 2 when some failed (results written either way).
    let expected = if whisk_errors == 0 { 0 } else { 2 };
    assert_eq!(out.status.code(), Some(expected), "{stderr}");
    assert!(
        !stderr.contains(GUEST_AUTH.split(':').nth(1).unwrap()),
        "the key leaked: {stderr}"
    );
    let stats = server.stats();
    server.shutdown().await;
    let run_dir = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    Ran {
        doc: serde_json::from_slice(&out.stdout).unwrap(),
        run: serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap())
            .unwrap(),
        csv: std::fs::read_to_string(run_dir.join("invocations.csv")).unwrap(),
        stats,
    }
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
    // The 429 wait and the 202 polling are reported apart from the latency.
    let client = &doc["summary"]["client"];
    assert!(
        client["throttle_wait_ms"]["n"].as_u64().unwrap() >= 1,
        "{client}"
    );
    assert_eq!(
        client["poll_overhead_ms"]["n"], 5,
        "every invoke was a 202: {client}"
    );
}

/// Issue 11 (2) and (3) end to end: two whisk internal errors (HTTP 500 with a record) are
/// activations in the counts, in invocations.csv and in run.json with their ids; with
/// `fetch_logs`, the activations in run.json carry the logs the blocking answers lacked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whisk_errors_are_counted_and_exported_and_logs_are_fetched() {
    support::require_node();
    let r = run_full("nodejs", ServerConfig::default(), "fetch_logs = true", 2).await;
    let s = &r.doc["summary"];
    assert_eq!(s["completed"], 5, "{s}");
    assert_eq!(s["succeeded"], 3, "{s}");
    assert_eq!(s["failed"], 2, "{s}");
    assert_eq!(
        s["platform_errors"], 0,
        "a 500 with a record is an activation: {s}"
    );
    assert_eq!(s["client"]["whisk_errors"], 2, "{s}");
    assert_eq!(s["client"]["log_fetch_ms"]["n"], 5, "{s}");
    assert_eq!(r.run["summary"], *s, "run.json holds the same summary");
    let acts = r.run["activations"].as_array().unwrap();
    assert_eq!(acts.len(), 5);
    let whisk: Vec<&serde_json::Value> = acts
        .iter()
        .filter(|a| a["response"]["status"] == "whisk internal error")
        .collect();
    assert_eq!(whisk.len(), 2, "{acts:?}");
    assert_eq!(r.csv.lines().count(), 6, "{}", r.csv);
    for a in &whisk {
        let id = a["activationId"].as_str().unwrap();
        let row = r.csv.lines().find(|l| l.contains(id)).unwrap();
        assert!(row.contains("whisk internal error"), "{row}");
        assert!(row.contains("Failed to provision resources"), "{row}");
    }
    // The successful Node.js activations logged to stderr ("bench: …"), fetched afterwards.
    for a in acts.iter().filter(|a| a["response"]["success"] == true) {
        let logs = a["logs"].as_array().unwrap();
        assert!(
            logs.iter()
                .any(|l| l.as_str().unwrap().contains("stderr: bench:")),
            "{a}"
        );
        assert!(a["log_fetch_ms"].as_f64().is_some(), "{a}");
    }
    assert_eq!(
        r.stats.log_fetches, 5,
        "every blocking answer: {:?}",
        r.stats
    );
    let header = r.csv.lines().next().unwrap();
    for col in [
        "throttle_wait_ms",
        "polls",
        "poll_overhead_ms",
        "log_fetch_ms",
    ] {
        assert!(header.split(',').any(|c| c == col), "{header}");
    }
}

/// Issue 11 (8): a wrong key or Redis address fails in the preflight, before Redis starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_profile_fails_before_redis_starts() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (extra, expect) in [
        (
            "redis_host_for_actions = \"192.0.2.1\"",
            "platform.redis_host_for_actions",
        ),
        (
            "redis_host_for_actions = \"127.0.0.1\"\nnamespace = \"x\"",
            "x",
        ),
    ] {
        let profile = dir.path().join("bad.toml");
        let text = profile_text_with(&server.apihost(), "nodejs", extra).replace(
            GUEST_AUTH,
            "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong0123456789",
        );
        let text = if expect == "x" {
            text
        } else {
            profile_text_with(&server.apihost(), "nodejs", extra)
        };
        std::fs::write(&profile, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_redwhisk"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("REDWHISK_DATA_DIR", dir.path().join("data"))
            .arg("run")
            .arg("--profile")
            .arg(&profile)
            .arg("--results-dir")
            .arg(dir.path().join("results"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("preflight"), "{stderr}");
        assert!(
            !stderr.contains("starting redis"),
            "Redis was started: {stderr}"
        );
        if expect == "x" {
            assert!(stderr.contains("rejected the key"), "{stderr}");
        } else {
            assert!(stderr.contains(expect), "{stderr}");
        }
    }
    assert_eq!(server.stats().invokes, 0);
}

/// Issue 11 (8): `share` runs the same preflight: a wrong key or Redis address fails before
/// any action is deployed or Redis started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_fails_in_the_preflight_before_deploying() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (text, expect) in [
        (
            profile_text_with(
                &server.apihost(),
                "nodejs",
                "redis_host_for_actions = \"192.0.2.1\"",
            ),
            "platform.redis_host_for_actions",
        ),
        (
            profile_text_with(
                &server.apihost(),
                "nodejs",
                "redis_host_for_actions = \"127.0.0.1\"",
            )
            .replace(
                GUEST_AUTH,
                "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong0123456789",
            ),
            "rejected the key",
        ),
    ] {
        let profile = dir.path().join("bad-share.toml");
        std::fs::write(&profile, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_redwhisk"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("REDWHISK_DATA_DIR", dir.path().join("data"))
            .args([
                "share",
                "--runs",
                "1",
                "--persistence",
                "rdb",
                "--stop",
                "graceful",
            ])
            .arg("--profile")
            .arg(&profile)
            .arg("--results-dir")
            .arg(dir.path().join("results"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("preflight"), "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
        assert!(!stderr.contains("deployed"), "{stderr}");
    }
    let stats = server.stats();
    assert_eq!((stats.puts, stats.invokes), (0, 0), "{stats:?}");
}

/// Case study 1 on a 3-shard Redis Cluster through the test server, with the native action
/// (static binary in a zip) and the Node.js one (`createCluster`): every invocation routes its
/// keys over the three masters, and the summary says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_nodejs_actions_run_on_a_three_shard_cluster() {
    support::require_node();
    for kind in ["native", "nodejs"] {
        let ran = run_full_with(kind, ServerConfig::default(), "", 0, |text| {
            text.replace("[platform]", "[redis.cluster]\nshards = 3\n[platform]")
        })
        .await;
        let doc = ran.doc;
        check(&doc);
        let cl = &doc["summary"]["cluster"];
        assert_eq!(cl["nodes"], 3, "{kind}: {doc:#}");
        assert_eq!(
            cl["moved"], 0,
            "{kind}: a stable cluster needs no redirection: {cl}"
        );
        assert_eq!(doc["redis"]["cold_start"]["cluster"]["shards"], 3, "{kind}");
    }
}

/// Issue 26 on OpenWhisk: an open-loop run whose first 3 invokes are throttled (429). A
/// throttled invocation counts as a late start, with its 429 wait in the start delay and in
/// the corrected latency, not in the uncorrected one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_throttled_invocations_start_late_with_their_429_wait() {
    let cfg = ServerConfig {
        throttle_first: 3,
        ..ServerConfig::default()
    };
    let r = run_full_with("native", cfg, "", 0, |t| {
        t.replace("concurrency = 2\n", "rate = 20\nmax_in_flight = 8\n")
    })
    .await;
    check(&r.doc);
    assert_eq!(r.stats.throttled, 3);
    assert_eq!(r.run["workload"]["open_loop"]["rate"], 20.0);
    let throttled: Vec<&serde_json::Value> = r.run["activations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["throttled"].as_u64().unwrap_or(0) > 0)
        .collect();
    assert!(!throttled.is_empty(), "{}", r.run);
    for a in &throttled {
        let wait = a["throttle_wait_ms"].as_f64().unwrap();
        let o = &a["open"];
        assert!(wait > 0.0, "{a}");
        assert_eq!(o["late"], true, "a throttled start is late: {a}");
        assert!(o["start_delay_ms"].as_f64().unwrap() >= wait, "{a}");
        let (c, u) = (
            o["corrected_ms"].as_f64().unwrap(),
            o["uncorrected_ms"].as_f64().unwrap(),
        );
        assert!(
            c >= u + wait - 1.0,
            "corrected {c} holds the wait, uncorrected {u} not: {a}"
        );
    }
    let late = r.doc["summary"]["open_loop"]["late_starts"]
        .as_u64()
        .unwrap();
    assert!(
        late >= throttled.len() as u64,
        "{}",
        r.doc["summary"]["open_loop"]
    );
}
