#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `redwhisk compare` on real runs: a known difference (1000 vs 2000 records per invocation)
//! and no difference (a run against itself, and the two halves of one recorded run).

use std::path::{Path, PathBuf};
use std::process::Command;

use redwhisk::compare::{Change, Comparison, Side, compare};
use redwhisk::results::RunRecord;

fn redwhisk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
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

/// One real run of the embedded default profile; returns its results directory.
fn real_run(data: &Path, root: &Path, records: &str) -> PathBuf {
    let results = root.join(records);
    let out = redwhisk()
        .env("REDWHISK_DATA_DIR", data)
        .args(["run", "-n", "40", "-r", records, "--results-dir"])
        .arg(&results)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dirs: Vec<_> = std::fs::read_dir(&results)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1);
    dirs[0].clone()
}

fn compare_json(args: &[&Path], extra: &[&str]) -> (Comparison, i32) {
    let out = redwhisk()
        .arg("compare")
        .args(args)
        .args(["--output", "json"])
        .args(extra)
        .output()
        .unwrap();
    let c: Comparison = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (c, out.status.code().unwrap())
}

fn row<'a>(c: &'a Comparison, name: &str) -> &'a redwhisk::compare::Row {
    c.phases
        .iter()
        .chain(&c.commands)
        .find(|r| r.name == name)
        .unwrap()
}

#[test]
fn twice_the_records_is_about_twice_the_write_time() {
    require_redis_server();
    let data = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let a = real_run(data.path(), root.path(), "1000");
    let b = real_run(data.path(), root.path(), "2000");

    let (c, code) = compare_json(&[&a, &b], &[]);
    assert_eq!(code, 0, "no gate, no failure");
    let write = row(&c, "write");
    let ci = write.ratio_ci.unwrap();
    eprintln!("write B/A = {:?}, 95% CI {ci:?}", write.ratio);
    assert!(ci.lo > 1.0, "the interval excludes 1: {ci:?}");
    // Twice the commands: about twice the time, but not an assertion. The two runs are
    // measured at different moments, and while the rest of the suite runs beside them one is
    // skewed against the other (measured: 1.06–1.99, 1.08–1.46, 1.21–1.71, 2.61–5.15). What
    // the test holds compare to is that a doubled workload is found slower with an interval
    // that excludes 1; the ratio itself is printed above.
    assert!(ci.hi > ci.lo, "a real interval: {ci:?}");
    assert_eq!(write.change, Change::Slower);
    assert_eq!(write.a.unwrap().n, 40);
    assert_eq!(c.resamples, 2000);

    // The gate: B is slower by more than 10% → exit 3; the other way round it is faster.
    let (_, code) = compare_json(&[&a, &b], &["--fail-if-slower", "10"]);
    assert_eq!(code, 3);
    // The other way round the write phase is faster. (No exit-code check here: the gate looks
    // at every row, and on a loaded machine an unrelated row such as connect can drift.)
    let (back, _) = compare_json(&[&b, &a], &[]);
    assert_eq!(row(&back, "write").change, Change::Faster);

    // The text output names the method and the verdict.
    let out = redwhisk().arg("compare").arg(&a).arg(&b).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("percentile bootstrap") && text.contains("2000 resamples"),
        "{text}"
    );
    assert!(text.contains("slower"), "{text}");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/console")
        .join(name)
}

#[test]
fn a_run_against_itself_shows_no_difference() {
    let a = fixture("r1000-local");
    let (c, code) = compare_json(&[&a, &a], &["--fail-if-slower", "0"]);
    assert_eq!(code, 0);
    for r in c.phases.iter().chain(&c.commands) {
        assert_eq!(r.ratio, Some(1.0), "{}", r.name);
        assert_eq!(r.change, Change::NoSignificantDifference, "{}", r.name);
    }
}

/// Two samples of the same run (even and odd invocations, interleaved in time so that load
/// drift hits both alike): the intervals contain 1. The seed is fixed and the data recorded,
/// so this is deterministic; `stats::ci` tests the method's false-positive rate.
#[test]
fn the_two_halves_of_one_recorded_run_show_no_difference() {
    let run = RunRecord::read(&fixture("r1000-local")).unwrap();
    let half = |parity: u32| {
        let mut r = run.clone();
        r.activations.retain(|a| a.index % 2 == parity);
        Side::from_run(format!("parity {parity}"), &r)
    };
    let c = compare(&half(0), &half(1));
    for name in ["write", "read", "delete", "total"] {
        let r = row(&c, name);
        assert_eq!(r.a.unwrap().n, 15);
        assert_eq!(r.change, Change::NoSignificantDifference, "{name}: {r:?}");
    }
}

#[test]
fn bad_input_says_what_to_fix() {
    let out = redwhisk()
        .args(["compare", "/nonexistent/run", "/nonexistent/other"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read the run at /nonexistent/run"),
        "{err}"
    );

    let a = fixture("r1000-local");
    let out = redwhisk()
        .arg("compare")
        .arg("--paper")
        .arg(&a)
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("with --paper give one run"));

    let out = redwhisk()
        .arg("compare")
        .arg(&a)
        .arg(&a)
        .arg("--fail-if-slower=-5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("percentage ≥ 0"));
}

#[test]
fn the_paper_as_a() {
    let b = fixture("r1000-local");
    let (c, code) = compare_json(&[&b], &["--paper"]);
    assert_eq!(code, 0);
    assert!(c.a.contains("Table 2"), "{}", c.a);
    assert!(c.method.contains("delta-method"));
    assert_eq!(row(&c, "write").a.unwrap().mean, 178.56);
    let (c, _) = compare_json(&[&b], &["--paper", "--paper-table", "lambda"]);
    assert_eq!(row(&c, "write").a.unwrap().mean, 3136.24);
}
