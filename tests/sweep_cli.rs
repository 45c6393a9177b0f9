//! `redwhisk sweep` end to end on the embedded platform with a real redis-server: one run per
//! concurrency, the table's figures come from those runs, and bad concurrencies are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use predicates::str::contains;

fn profile(dir: &std::path::Path) -> std::path::PathBuf {
    assert!(
        std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "redis-server is required (apt-get install redis-server)"
    );
    let p = dir.join("sweep.toml");
    std::fs::write(
        &p,
        format!(
            "[redis]\nbackend = \"process\"\npersistence = \"none\"\ndata_dir = \"{}\"\n[workload]\ninvocations = 6\nrecords = 20\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    p
}

#[test]
fn one_run_per_concurrency_and_a_knee() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path());
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["sweep", "--profile"])
        .arg(&p)
        .args(["-c", "1,3", "--output", "json", "--results-dir"])
        .arg(dir.path().join("results"))
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{r:#}");
    for (step, c) in steps.iter().zip([1, 3]) {
        assert_eq!(step["concurrency"], c);
        assert_eq!(step["invocations"], 6);
        assert_eq!(step["failed"], 0);
        assert!(step["invocations_per_s"].as_f64().unwrap() > 0.0, "{step}");
        // 20 records × SET/GET/DEL × 6 invocations over the window.
        let cmds = step["commands_per_s"].as_f64().unwrap();
        let ips = step["invocations_per_s"].as_f64().unwrap();
        assert!((cmds / ips - 60.0).abs() < 1e-6, "{step}");
        // Each step is a complete run with its own run.json, concurrency recorded.
        let run_dir = std::path::PathBuf::from(step["results_dir"].as_str().unwrap());
        let run: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run_dir.join("run.json")).unwrap()).unwrap();
        assert_eq!(run["workload"]["concurrency"], c, "{run:#}");
    }
    let knee = r["knee"].as_u64().unwrap();
    assert!(knee == 1 || knee == 3, "{r:#}");
    let sweep_dir = std::path::PathBuf::from(r["results_dir"].as_str().unwrap());
    let csv = std::fs::read_to_string(sweep_dir.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(sweep_dir.join("sweep.json").is_file());
}

#[test]
fn a_concurrency_outside_the_limits_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path());
    for bad in ["0", "1,5000"] {
        Command::cargo_bin("redwhisk")
            .unwrap()
            .args(["sweep", "--profile"])
            .arg(&p)
            .args(["-c", bad, "--results-dir"])
            .arg(dir.path().join("results"))
            .assert()
            .code(1)
            .stderr(contains("--concurrency"));
    }
    assert!(!dir.path().join("results").exists(), "nothing ran");
}
