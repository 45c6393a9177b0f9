#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad input from the command line and the profile directory: one clear error naming the
//! culprit, non-zero exit, nothing started or written.

use std::process::Command;

fn redwhisk(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
    c.current_dir(dir)
        .env("REDWHISK_DATA_DIR", dir.join("data"))
        .env("REDWHISK_CONFIG_DIR", dir.join("config"));
    c
}

fn fails_with(dir: &std::path::Path, args: &[&str], want: &[&str]) {
    let out = redwhisk(dir).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: want `{w}` in:\n{err}");
    }
    assert!(!err.contains("Some("), "{err}");
    assert!(
        !dir.join("data").exists(),
        "{args:?} created the data directory"
    );
    assert!(!dir.join("results").exists(), "{args:?} created results");
}

#[test]
fn command_line_values_are_checked_like_profile_values_and_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fails_with(
        d,
        &["run", "--value-size", "0"],
        &[
            "--value-size: 0 is out of range; use a value from 1 to 536870912",
            "workload.value_size",
        ],
    );
    fails_with(
        d,
        &["run", "-c", "5000"],
        &["--concurrency/-c: 5000 is out of range", "1024"],
    );
    fails_with(
        d,
        &["run", "-n", "10000001"],
        &["--invocations/-n: 10000001 is out of range"],
    );
    fails_with(
        d,
        &["run", "-n", "0"],
        &["--invocations/-n: 0 is out of range"],
    );
    fails_with(d, &["run", "-r", "0"], &["--records/-r: 0 is out of range"]);
    fails_with(
        d,
        &["share", "--value-size", "0"],
        &["--value-size: 0 is out of range"],
    );
}

#[test]
fn two_profiles_with_one_name_are_an_error_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("profiles")).unwrap();
    for f in ["a.toml", "b.toml"] {
        std::fs::write(d.join("profiles").join(f), "name = \"twin\"\n").unwrap();
    }
    for sel in ["twin", "a", "profiles/b.toml"] {
        fails_with(
            d,
            &["run", "-n", "1", "-p", sel],
            &["two profiles are named `twin`", "a.toml", "b.toml"],
        );
    }
    fails_with(
        d,
        &["redis", "up", "-p", "twin"],
        &["two profiles are named `twin`"],
    );
}

#[test]
fn a_server_binary_that_exits_is_named_with_its_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let profile = d.join("f.toml");
    std::fs::write(
        &profile,
        "[redis]\nbackend = \"process\"\nserver_bin = \"/bin/false\"\n",
    )
    .unwrap();
    let out = redwhisk(d)
        .args(["redis", "up", "-p"])
        .arg(&profile)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("/bin/false"), "{err}");
    assert!(err.contains("exit status: 1"), "{err}");
    assert!(err.contains("redis.server_bin"), "{err}");
    assert!(!err.contains("Some("), "{err}");
}

/// `redwhisk profiles` lists a profile by its name (the `name` field, not the file name) and
/// flags two files with one name, both of them, with the error `--profile` gives; exit 2.
#[test]
fn profiles_lists_names_and_flags_duplicate_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("profiles")).unwrap();
    std::fs::write(d.join("profiles/fast.toml"), "name = \"speedy\"\n").unwrap();
    for f in ["a.toml", "b.toml"] {
        std::fs::write(d.join("profiles").join(f), "name = \"twin\"\n").unwrap();
    }
    let out = redwhisk(d).args(["profiles"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("speedy ") && l.contains("fast.toml")),
        "{text}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("fast ")), "{text}");
    let twins = text.matches("two profiles are named `twin`").count();
    assert_eq!(twins, 2, "{text}");
    let out = redwhisk(d)
        .args(["profiles", "--output", "json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"speedy") && !names.contains(&"fast"),
        "{names:?}"
    );
}

/// A data directory on a read-only file system: the error names `redis.data_dir` (the setting
/// to fix), not the lock file redwhisk tried to create in it. Needs root (mount), as CI is.
#[test]
fn a_read_only_data_dir_is_named_as_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ro = d.join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=1m,mode=0700", "tmpfs"])
        .arg(&ro)
        .status()
        .unwrap();
    assert!(
        mounted.success(),
        "this test mounts a read-only tmpfs and needs root (CI runs as root)"
    );
    std::fs::write(
        d.join("p.toml"),
        format!(
            "[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n[platform]\nkind = \"local\"\n",
            ro.display()
        ),
    )
    .unwrap();
    let out = redwhisk(d)
        .args(["redis", "up", "-p", "p.toml"])
        .output()
        .unwrap();
    let _ = Command::new("umount").arg(&ro).status();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "redis.data_dir {}: cannot write in it",
            ro.display()
        )) && err.contains("Read-only file system"),
        "{err}"
    );
}

/// `redis status` on a recorded server that does not answer (a listener that accepts and never
/// replies, named by the state file as the profile's detached Redis) reports the problem and
/// exits 2, not 0.
#[test]
fn redis_status_exits_2_when_it_reports_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::fs::write(
        d.join("p.toml"),
        "[redis]\nbackend = \"external\"\nready_timeout_ms = 1000\n".to_string()
            + &format!("url = \"redis://127.0.0.1:{port}/0\"\n[platform]\nkind = \"local\"\n"),
    )
    .unwrap();
    let out = redwhisk(d)
        .args(["redis", "status", "-p", "p.toml"])
        .output()
        .unwrap();
    drop(silent);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("failed"), "{text}");
}
