//! `redwhisk failover` against real clusters (process nodes, and containers killed with
//! `docker kill`): the cluster recovers, the window is measured, and no write WAIT 1 confirmed
//! on a replica is lost. Fails loudly when redis-server or dockerd is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "host_support/mod.rs"]
mod support;

use assert_cmd::Command;
use predicates::str::contains;
use support::*;

fn write_profile(dir: &std::path::Path, backend: &str, replicas: u16) -> std::path::PathBuf {
    let name = unique("fo");
    let extra = if backend == "docker" {
        format!(
            "image = \"{}\"\npull = false\ncontainer_name = \"redwhisk-test-{name}\"\n",
            redwhisk::redis_host::image::LOCAL_TAG
        )
    } else {
        String::new()
    };
    let p = dir.join("fo.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"{name}\"\n[redis]\nbackend = \"{backend}\"\n{extra}persistence = \"aof\"\ndata_dir = \"{}\"\n[redis.cluster]\nshards = 3\nreplicas = {replicas}\nnode_timeout_ms = 1000\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    p
}

fn cleanup_for(profile: &std::path::Path) -> Cleanup {
    Cleanup {
        profile: redwhisk::profile::Profile::load(profile).unwrap(),
    }
}

fn failover(profile: &std::path::Path, dir: &std::path::Path) -> serde_json::Value {
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .args([
            "failover",
            "--wait",
            "--kill-after",
            "1s",
            "--output",
            "json",
            "--profile",
        ])
        .arg(profile)
        .arg("--results-dir")
        .arg(dir.join("results"))
        .timeout(std::time::Duration::from_secs(240))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(r: &serde_json::Value) {
    assert_eq!(r["recovered"], true, "{r:#}");
    let promoted = r["promoted"].as_str().unwrap();
    assert_ne!(promoted, r["killed"].as_str().unwrap(), "{r:#}");
    // The kill is seen: writes to the dead master's slots failed, then came back.
    assert!(r["failed"].as_u64().unwrap() > 0, "{r:#}");
    let back = r["unavailable_ms"].as_f64().unwrap();
    let promoted_ms = r["promoted_ms"].as_f64().unwrap();
    assert!(back > 0.0 && promoted_ms > 0.0, "{r:#}");
    // No write a replica had confirmed may be lost; every acknowledged write was checked.
    assert!(r["replicated"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(r["lost_replicated"], 0, "{r:#}");
    assert!(r["lost_acknowledged"].as_u64().unwrap() <= r["acknowledged"].as_u64().unwrap());
    let dir = std::path::PathBuf::from(r["results_dir"].as_str().unwrap());
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("failover.json")).unwrap()).unwrap();
    assert_eq!(&saved, r);
}

fn all_stopped(profile: &std::path::Path) {
    let s = Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["redis", "status", "--output", "json", "--profile"])
        .arg(profile)
        .output()
        .unwrap();
    let s: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(s["state"], "stopped", "{s:#}");
}

#[test]
fn a_killed_master_of_a_process_cluster_is_replaced_and_no_confirmed_write_is_lost() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), "process", 1);
    let _cleanup = cleanup_for(&p);
    let r = failover(&p, dir.path());
    check(&r);
    all_stopped(&p);
    // Again on the same cluster, restarted from its files: the master serving slot 0 is now
    // the promoted node, and it is the one killed.
    let again = failover(&p, dir.path());
    check(&again);
    assert_eq!(again["killed"], r["promoted"], "{again:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_master_container_is_replaced() {
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), "docker", 1);
    let _cleanup = cleanup_for(&p);
    let r = tokio::task::spawn_blocking({
        let p = p.clone();
        let d = dir.path().to_path_buf();
        move || failover(&p, &d)
    })
    .await
    .unwrap();
    check(&r);
    assert_eq!(r["backend"], "docker");
}

#[test]
fn a_cluster_without_replicas_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), "process", 0);
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["failover", "--profile"])
        .arg(&p)
        .arg("--results-dir")
        .arg(dir.path().join("results"))
        .assert()
        .code(1)
        .stderr(contains("set replicas = 1"));
    assert!(
        !dir.path().join("data").join("node-0").exists(),
        "nothing started"
    );
}

/// SIGTERM while the writes run (before the kill): the experiment stops, every node is saved
/// and stopped, and the exit code says which signal (143).
#[test]
fn sigterm_mid_experiment_stops_the_cluster_and_exits_143() {
    use std::io::BufRead;
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), "process", 1);
    let _cleanup = cleanup_for(&p);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .args(["failover", "--kill-after", "120s", "--profile"])
        .arg(&p)
        .arg("--results-dir")
        .arg(dir.path().join("results"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stderr closed before the cluster was up: {seen}"
        );
        seen.push_str(&line);
        if line.starts_with("info: failover: cluster:") {
            break;
        }
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{seen}{rest}");
    all_stopped(&p);
}
