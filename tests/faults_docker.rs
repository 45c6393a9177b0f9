#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The docker backend under the faults of tests/faults.rs: the container killed (`docker kill`)
//! or frozen (`docker pause`) mid-run. Each is named, ends the run as redis-lost (exit 3) in
//! bounded time with its results, and leaves no container behind. Needs Docker and the local
//! image (`redwhisk image build-local`); fails loudly without them.

mod fault_support;

use std::process::Command;

use fault_support::*;

/// A generous hang detector (as in faults.rs): a run that takes longer has hung.
const HANG: std::time::Duration = std::time::Duration::from_secs(90);

fn docker_env() -> Env {
    let profile = include_str!("../profiles/docker.toml")
        .replace("pull = true", "pull = false")
        .replace("ready_timeout_ms = 15000", "ready_timeout_ms = 3000");
    Env::with_profile(&profile)
}

fn container(env: &Env) -> String {
    let out = Command::new("docker")
        .args(["ps", "-q", "--filter"])
        .arg(format!("label=redwhisk.profile={}", env.name()))
        .output()
        .expect("docker is required");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!id.is_empty(), "no running container for {}", env.name());
    id
}

fn containers_left(env: &Env) -> String {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=redwhisk.profile={}", env.name()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn docker(args: &[&str]) {
    let st = Command::new("docker").args(args).status().unwrap();
    assert!(st.success(), "docker {args:?}");
}

#[test]
fn docker_kill_mid_run_is_named_and_the_run_ends() {
    let env = docker_env();
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    docker(&["kill", &container(&env)]);
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    assert_eq!(out.code, 3, "{ctx}");
    assert!(ctx.contains("Redis died at invocation"), "{ctx}");
    let doc = env.only_run_json();
    assert_eq!(doc["outcome"], "redis-lost", "{doc:#}");
    assert_eq!(doc["partial"], true);
    let left = containers_left(&env);
    if !left.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f", &left]).status();
    }
    assert!(left.is_empty(), "container {left} left behind");
}

#[test]
fn docker_pause_mid_run_is_named_and_the_run_ends() {
    let env = docker_env();
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    let id = container(&env);
    docker(&["pause", &id]);
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    let left = containers_left(&env);
    if !left.is_empty() {
        let _ = Command::new("docker").args(["unpause", &left]).status();
        let _ = Command::new("docker").args(["rm", "-f", &left]).status();
    }
    assert_eq!(out.code, 3, "{ctx}");
    assert!(ctx.contains("stopped answering"), "{ctx}");
    let doc = env.only_run_json();
    assert_eq!(doc["outcome"], "redis-lost", "{doc:#}");
    assert!(
        !doc["redis"]["stop_error"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "run.json says what happened to the frozen container: {doc:#}"
    );
    assert!(left.is_empty(), "container {left} left behind");
}
