#![allow(clippy::unwrap_used, clippy::expect_used)]
//! End to end: `redwhisk run` on the embedded default (real redis-server, real action
//! processes), its results checked against the committed JSON schema.

use std::path::Path;
use std::process::Command;

fn redwhisk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// `redwhisk run ARGS --results-dir RESULTS` with its own data directory.
fn run_with(data: &Path, results: &Path, args: &[&str]) -> Command {
    let mut c = redwhisk();
    c.env("REDWHISK_DATA_DIR", data)
        .arg("run")
        .args(args)
        .arg("--results-dir")
        .arg(results);
    c
}

fn require_redis_server() {
    let ok = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "redis-server is not installed: these tests need it (apt-get install redis-server)"
    );
}

fn only_subdir(root: &Path) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn run_on_embedded_default_writes_schema_valid_results() {
    require_redis_server();
    let data = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let out = run_with(
        data.path(),
        results.path(),
        &["-n", "6", "-c", "2", "-r", "50", "--output", "json"],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstderr:\n{stderr}",
        out.status
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["summary"]["completed"], 6);
    assert_eq!(printed["summary"]["succeeded"], 6);
    assert_eq!(printed["summary"]["mismatches"], 0);
    assert_eq!(printed["workload"]["records"], 50);

    let dir = only_subdir(results.path());
    let text = std::fs::read_to_string(dir.join("run.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schema/run.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "run.json does not match the schema:\n{}",
        errors.join("\n")
    );
    assert_eq!(doc["activations"].as_array().unwrap().len(), 6);
    // the phases were measured, and the per-command histograms hold every command
    assert!(
        doc["summary"]["phases_ms"]["write"]["mean"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(doc["summary"]["per_command_us"]["write"]["n"], 6 * 50);

    let csv = std::fs::read_to_string(dir.join("invocations.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
    assert!(!dir.join(".activations.jsonl.partial").exists());

    // the generated Redis password is nowhere in the exports or the output
    let mut passwords_checked = 0;
    for entry in walk(data.path()) {
        let content = std::fs::read_to_string(&entry).unwrap_or_default();
        for line in content.lines() {
            if let Some(pw) = line.strip_prefix("requirepass ") {
                let pw = pw.trim().trim_matches('"');
                assert!(pw.len() >= 16);
                assert!(!text.contains(pw), "the password leaked into run.json");
                assert!(!csv.contains(pw));
                assert!(!stderr.contains(pw));
                passwords_checked += 1;
            }
        }
    }
    assert!(
        passwords_checked > 0,
        "no requirepass found under the data dir"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn text_report_has_the_paper_table() {
    require_redis_server();
    let data = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let out = run_with(data.path(), results.path(), &["-n", "3", "-r", "20"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "write (20 SET)",
        "read (20 GET)",
        "delete (20 DEL)",
        "178.56 ± 13.27",
        "3136.24 ± 945.55",
        "p99",
        "Redis cold start",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // Round trip: run.json read back into the typed summary renders the report just printed.
    let dir = only_subdir(results.path());
    let run = redwhisk::results::RunSummary::read(&dir).unwrap();
    assert_eq!(run.summary.completed, 3);
    assert_eq!(
        redwhisk::report::text_report(&run, &dir.display().to_string()),
        stdout
    );
}

#[test]
fn invalid_profiles_give_exact_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_profiles");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let expected = std::fs::read_to_string(path.with_extension("err")).unwrap();
        let rel = format!(
            "tests/invalid_profiles/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let out = redwhisk()
            .args(["run", "--profile", &rel])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{rel}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim(), expected.trim(), "{rel}");
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} invalid profiles checked");
}

#[test]
fn unknown_profile_name_says_where_it_looked() {
    let out = redwhisk()
        .args(["run", "--profile", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: no profile named `nosuch`: looked in profiles"),
        "{stderr}"
    );
    assert!(stderr.contains("redwhisk profiles"), "{stderr}");
}

#[test]
fn ctrl_c_cancels_cleanly_and_keeps_partial_results() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    require_redis_server();
    let data = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let child = run_with(
        data.path(),
        results.path(),
        &["-n", "100000", "-r", "50", "--output", "json"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // Wait until invocations are being written, then press Ctrl-C.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let csv = std::fs::read_dir(results.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join(".invocations.csv.partial"))
            .find(|p| p.exists());
        if csv.is_some_and(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .count()
                > 3
        }) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started invoking"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["outcome"], "cancelled");
    assert_eq!(doc["partial"], true);
    let done = doc["summary"]["completed"].as_u64().unwrap();
    assert!(done > 0 && done < 100_000, "{done}");
    // the partial results are on disk, complete files, one row per completed invocation
    let dir = only_subdir(results.path());
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["activations"].as_array().unwrap().len() as u64, done);
    let csv = std::fs::read_to_string(dir.join("invocations.csv")).unwrap();
    assert_eq!(csv.lines().count() as u64, done + 1);
    // Redis was stopped: `redis status` on the same data dir says so
    let status = redwhisk()
        .env("REDWHISK_DATA_DIR", data.path())
        .args(["redis", "status", "--profile", "local", "--output", "json"])
        .output()
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(st["state"], "stopped", "{st}");
}
