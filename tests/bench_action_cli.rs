//! `redwhisk bench action`, `bench engine`'s breakdown and the REDWHISK_ACTION entry point, through the
//! real binary. Needs redis-server and redis-benchmark on PATH; fails loudly without them.

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
    for mode in ["sequential", "pipelined", "pipelined_back_to_back"] {
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

/// `bench engine` prints where the overhead goes: every step, for both kinds of local
/// process, with figures, and the bench action left no key behind in its own server.
#[test]
fn bench_engine_prints_where_the_overhead_goes() {
    let results = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .args([
            "bench",
            "engine",
            "-n",
            "10",
            "--breakdown-invocations",
            "5",
            "--scheduler-arrivals",
            "10",
            "--open-invocations",
            "0",
            "--results-dir",
        ])
        .arg(results.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench engine failed: {stderr}\n{stdout}"
    );
    assert!(
        stdout.contains("where the overhead goes: 5 sequential invocations"),
        "{stdout}"
    );
    for step in [
        "prepare (",
        "start (fork + exec, or take a warm process)",
        "params to the action",
        "action process around its own work",
        "after the result",
        "record (result JSON parse",
        "= overhead (client latency - action total)",
        "outside it: fold into the run's statistics",
        "outside it: event to a consumer",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(step))
            .unwrap_or_else(|| panic!("no row {step:?} in:\n{stdout}"));
        let figures: Vec<f64> = line[50..]
            .split_whitespace()
            .map(|f| f.parse().unwrap())
            .collect();
        assert_eq!(figures.len(), 4, "p50/p99 for both kinds: {line}");
        assert!(figures.iter().all(|f| f.is_finite() && *f >= 0.0), "{line}");
    }
}
