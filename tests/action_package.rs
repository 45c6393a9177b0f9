//! `redwhisk action package`: the artifacts a user deploys by hand are the ones redwhisk deploys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;
use redwhisk::platform::openwhisk::package;

/// A minimal static x86-64 ELF header (no PT_INTERP), followed by a marker.
fn fake_static_elf(marker: &str) -> Vec<u8> {
    let mut b = vec![0u8; 64 + 56];
    b[0..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[0x12..0x14].copy_from_slice(&62u16.to_le_bytes());
    b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
    b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
    b[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
    b[64..68].copy_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(marker.as_bytes());
    b
}

fn zip_exec(path: &Path) -> (Vec<String>, Vec<u8>, Option<u32>) {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let names = z.file_names().map(|n| n.unwrap().to_string()).collect();
    let mut f = z.by_name("exec").unwrap();
    let mode = f.unix_mode();
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).unwrap();
    (names, bytes, mode)
}

#[test]
fn nodejs_only_writes_the_three_sources() {
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["action", "package", "--nodejs-only", "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(contains("--kind nodejs:20"));
    for (file, src) in [
        ("bench.js", package::NODE_BENCH),
        ("writer.js", package::NODE_WRITER),
        ("reader.js", package::NODE_READER),
    ] {
        assert_eq!(std::fs::read_to_string(out.path().join(file)).unwrap(), src);
    }
}

#[test]
fn native_zips_hold_the_binary_as_exec_at_the_root() {
    let bins = tempfile::tempdir().unwrap();
    for a in ["bench", "writer", "reader"] {
        std::fs::write(bins.path().join(a), fake_static_elf(a)).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["action", "package", "--out"])
        .arg(out.path())
        .arg("--bin-dir")
        .arg(bins.path())
        .assert()
        .success()
        .stdout(contains("bench.zip --native"));
    for a in ["bench", "writer", "reader"] {
        let (names, bytes, mode) = zip_exec(&out.path().join(format!("{a}.zip")));
        assert_eq!(names, vec!["exec".to_string()]);
        assert_eq!(bytes, fake_static_elf(a));
        assert_eq!(mode.map(|m| m & 0o777), Some(0o755));
        assert!(out.path().join(format!("{a}.js")).exists());
    }
}

#[test]
fn a_dynamic_binary_is_refused_with_the_build_command_and_nothing_written() {
    let bins = tempfile::tempdir().unwrap();
    for a in ["bench", "writer", "reader"] {
        std::fs::copy("/bin/sh", bins.path().join(a)).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("artifacts");
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["action", "package", "--out"])
        .arg(&target)
        .arg("--bin-dir")
        .arg(bins.path())
        .assert()
        .failure()
        .stderr(contains("dynamically linked"))
        .stderr(contains("+crt-static"))
        .stderr(contains("--target x86_64-unknown-linux-gnu"));
    assert!(
        !target.exists(),
        "nothing is written when a binary is unusable"
    );
}

/// One command from a checkout: `--build` compiles the static actions with cargo in the source
/// tree, packages them, and the `exec` in each zip is a static executable that speaks the
/// action protocol (argv[1] JSON in, one JSON line out).
#[test]
fn build_compiles_the_static_actions_and_packages_runnable_execs() {
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["action", "package", "--build", "--out"])
        .arg(out.path())
        .timeout(std::time::Duration::from_secs(900))
        .assert()
        .success()
        .stderr(contains("building the static actions"))
        .stdout(contains("writer.zip --native"));
    for a in ["bench", "writer", "reader"] {
        let (names, bytes, _mode) = zip_exec(&out.path().join(format!("{a}.zip")));
        assert_eq!(names, vec!["exec".to_string()]);
        package::check_static_elf(&bytes).unwrap_or_else(|why| panic!("{a}: {why}"));
    }
    let (_, bytes, _) = zip_exec(&out.path().join("writer.zip"));
    let exec = out.path().join("exec");
    std::fs::write(&exec, bytes).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exec, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // Port 1 on loopback refuses: the action answers with its application error, one line.
    let run = std::process::Command::new(&exec)
        .arg(r#"{"host":"127.0.0.1","port":1,"keys":1}"#)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1:1"),
        "{v}"
    );
}

#[test]
fn build_and_bin_dir_are_refused_together() {
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["action", "package", "--build", "--bin-dir", "/tmp"])
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
}
