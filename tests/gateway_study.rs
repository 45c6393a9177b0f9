//! Case study 3 end to end: `redwhisk run --via-gateway` with the native bench action on the
//! embedded local platform, against a real redis-server behind the gateway.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "host_support/mod.rs"]
mod support;

use support::*;

fn run_via_gateway(
    profile: &std::path::Path,
    results: &std::path::Path,
    think: &str,
) -> serde_json::Value {
    let out = assert_cmd::Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["run", "--profile"])
        .arg(profile)
        .args([
            "--via-gateway",
            "--think-time",
            think,
            "-n",
            "3",
            "-r",
            "50",
            "--output",
            "json",
        ])
        .arg("--results-dir")
        .arg(results)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_invocation_pays_a_wake_when_think_time_exceeds_idle() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = write_profile_file(dir.path(), "study", &data, "[gateway]\nidle_ms = 50");
    let r = run_via_gateway(&profile, &dir.path().join("results"), "400ms");
    assert_eq!(
        (
            r["invocations"].as_u64(),
            r["woken"].as_u64(),
            r["failed"].as_u64()
        ),
        (Some(3), Some(3), Some(0)),
        "{r:#}"
    );
    assert_eq!(r["gateway_wakes"], 3);
    for row in r["rows"].as_array().unwrap() {
        assert_eq!(row["woken"], true, "{row}");
        assert!(row["connect_ms"].as_f64().unwrap() > 0.0, "{row}");
    }
    let dir_out = std::path::PathBuf::from(r["results_dir"].as_str().unwrap());
    let csv = std::fs::read_to_string(dir_out.join("invocations.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    // Redis is asleep (stopped) once the run is over.
    assert!(!data.join("redwhisk.state.json").exists());
}

#[test]
fn without_think_time_only_the_first_invocation_wakes_redis() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = write_profile_file(dir.path(), "study", &data, "[gateway]\nidle_ms = 60000");
    let r = run_via_gateway(&profile, &dir.path().join("results"), "0ms");
    assert_eq!(
        (r["woken"].as_u64(), r["warm"].as_u64()),
        (Some(1), Some(2)),
        "{r:#}"
    );
    assert_eq!(r["rows"][0]["woken"], true);
    assert!(r["wake_cost_p50_ms"].as_f64().is_some(), "{r:#}");
}

fn share_via_gateway(
    profile: &std::path::Path,
    results: &std::path::Path,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let out = assert_cmd::Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["share", "--profile"])
        .arg(profile)
        .args([
            "--via-gateway",
            "--runs",
            "3",
            "--keys",
            "200",
            "--output",
            "json",
        ])
        .args(extra)
        .arg("--results-dir")
        .arg(results)
        .timeout(std::time::Duration::from_secs(180))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr:\n{stderr}"));
    (out.status.code(), json, stderr)
}

#[test]
fn share_via_gateway_keeps_the_writers_data_across_each_sleep_and_wake() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = write_profile_file(dir.path(), "sharegw", &data, "[gateway]\nidle_ms = 100");
    let (code, r, stderr) = share_via_gateway(&profile, &dir.path().join("results"), &[]);
    assert_eq!(code, Some(0), "{stderr}\n{r:#}");
    assert_eq!(
        (
            r["cycles"].as_u64(),
            r["correct"].as_u64(),
            r["keys_lost"].as_u64()
        ),
        (Some(3), Some(3), Some(0)),
        "{r:#}"
    );
    assert_eq!(r["as_expected"], true);
    assert_eq!(r["persistence"], "rdb");
    for row in r["rows"].as_array().unwrap() {
        assert_eq!(
            (&row["slept"], &row["reader_woke"], &row["found"]),
            (
                &serde_json::json!(true),
                &serde_json::json!(true),
                &serde_json::json!(200)
            ),
            "{row}"
        );
    }
    // The writer of cycle 0 woke Redis, then each reader: one wake per cycle plus the first.
    assert_eq!(r["gateway_wakes"], 4, "{r:#}");
    let out = std::path::PathBuf::from(r["results_dir"].as_str().unwrap());
    let csv = std::fs::read_to_string(out.join("cycles.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(out.join("share-gateway.json").is_file());
    // The experiment ran on a data directory of its own, and Redis sleeps once it is over.
    assert!(data.join("share/via-gateway").is_dir());
    assert!(!data.join("share/via-gateway/redwhisk.state.json").exists());
}

#[test]
fn share_via_gateway_without_persistence_loses_every_key_and_says_that_is_expected() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = write_profile_file(dir.path(), "sharegw0", &data, "[gateway]\nidle_ms = 100");
    let (code, r, stderr) = share_via_gateway(
        &profile,
        &dir.path().join("results"),
        &["--persistence", "none"],
    );
    assert_eq!(code, Some(0), "{stderr}\n{r:#}");
    assert_eq!(r["persistence"], "none");
    assert_eq!(r["correct"], 0, "{r:#}");
    assert_eq!(r["keys_lost"], 600, "{r:#}");
    assert_eq!(r["expect_survival"], false);
    assert_eq!(r["as_expected"], true);
}

#[test]
fn share_via_gateway_refuses_a_stop_mode() {
    let out = assert_cmd::Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["share", "--via-gateway", "--stop", "crash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
}
