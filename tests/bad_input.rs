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
