//! End to end: `redwhisk share` on the process backend (the whole matrix) and on the docker
//! backend (the crash cells), with real servers and real writer/reader action processes.
//! Needs redis-server and dockerd; fails loudly without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn share(args: &[&str]) -> (std::process::Output, serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("REDWHISK_DATA_DIR", dir.path().join("data"))
        .arg("share")
        .args(args)
        .args(["--output", "json", "--results-dir"])
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, doc, dir)
}

fn cell<'a>(doc: &'a serde_json::Value, persistence: &str, stop: &str) -> &'a serde_json::Value {
    doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["persistence"] == persistence && c["stop"] == stop)
        .unwrap_or_else(|| panic!("no cell {persistence} × {stop} in {doc}"))
}

#[test]
fn full_matrix_on_the_process_backend_reports_what_happened() {
    let (out, doc, dir) = share(&["--runs", "2", "--keys", "40"]);
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(doc["cells"].as_array().unwrap().len(), 8);
    for (p, s, survives) in [
        ("none", "graceful", false),
        ("none", "crash", false),
        ("rdb", "graceful", true),
        ("rdb", "crash", false),
        ("aof-everysec", "graceful", true),
        ("aof-everysec", "crash", true),
        ("aof-always", "graceful", true),
        ("aof-always", "crash", true),
    ] {
        let c = cell(&doc, p, s);
        assert_eq!(c["cycles"], 2, "{c}");
        assert_eq!(c["correct"], if survives { 2 } else { 0 }, "{c}");
        assert_eq!(c["keys_lost"], if survives { 0 } else { 80 }, "{c}");
        assert!(
            c["verdict"].as_str().unwrap().starts_with("as expected"),
            "{c}"
        );
        assert!(c["start_ms"]["n"] == 2 && c["cycle_ms"]["mean"].as_f64().unwrap() > 0.0);
        // restore is measured only when the data came back
        assert_eq!(c["restore_ms"]["n"], if survives { 2 } else { 0 }, "{c}");
    }
    let results: Vec<_> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(results.len(), 1);
    let csv = std::fs::read_to_string(results[0].path().join("cycles.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 8 * 2);
    // share.json reads back into the typed summary, the same as what was printed
    let written = redwhisk::results::ShareSummary::read(&results[0].path()).unwrap();
    assert_eq!(serde_json::to_value(&written).unwrap(), doc);
    assert!(written.cells.iter().all(|c| c.verdict.is_as_expected()));
}

#[test]
fn crash_cells_on_the_docker_backend() {
    let (out, doc, _dir) = share(&[
        "--profile",
        "docker",
        "--runs",
        "2",
        "--keys",
        "40",
        "--stop",
        "crash",
        "--persistence",
        "aof-always",
    ]);
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let c = cell(&doc, "aof-always", "crash");
    assert_eq!(
        (c["correct"].as_u64(), c["keys_lost"].as_u64()),
        (Some(2), Some(0)),
        "{c}"
    );
    let (out, doc, _dir) = share(&[
        "--profile",
        "docker",
        "--runs",
        "2",
        "--keys",
        "40",
        "--stop",
        "crash",
        "--persistence",
        "rdb",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = cell(&doc, "rdb", "crash");
    assert_eq!(
        (c["correct"].as_u64(), c["keys_lost"].as_u64()),
        (Some(0), Some(80)),
        "{c}"
    );
}

#[test]
fn external_backend_is_refused_with_a_reason() {
    let (out, _, _dir) = share(&["--profile", "external", "--runs", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot do to an external Redis"), "{err}");
}
