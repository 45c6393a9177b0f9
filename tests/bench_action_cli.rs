//! `redwhisk bench action` and the REDWHISK_ACTION entry point, through the real binary.
//! Needs redis-server and redis-benchmark on PATH; fails loudly without them.

// Test helpers outside #[test] fns: a failed setup must panic loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn bench_action_reports_medians_and_ratios_as_json() {
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .args([
            "bench",
            "action",
            "--records",
            "200",
            "--runs",
            "1",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench action failed: {stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"], 200);
    for mode in ["sequential", "pipelined"] {
        let c = &v[mode];
        assert_eq!(c["action_ms"].as_array().unwrap().len(), 1, "{c}");
        let (a, b) = (
            c["action_median_ms"].as_f64().unwrap(),
            c["baseline_median_ms"].as_f64().unwrap(),
        );
        assert!(a > 0.0 && b > 0.0, "{c}");
        assert!((c["ratio"].as_f64().unwrap() - a / b).abs() < 1e-9);
    }
    assert!(
        v["sequential"]["baseline"]
            .as_str()
            .unwrap()
            .contains("-P 1")
    );
}

#[test]
fn bench_action_rejects_zero_records() {
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["bench", "action", "--records", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--records"));
}

#[test]
fn redwhisk_action_env_runs_an_action_instead_of_the_cli() {
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .env("REDWHISK_ACTION", "bench")
        .arg(r#"{"port": 1}"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"], "bad parameters: missing field `host`");

    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .env("REDWHISK_ACTION", "nosuch")
        .write_stdin("{}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("unknown action `nosuch`")
    );
}
