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

/// The docker profile with RDB persistence: its stop is a `SHUTDOWN SAVE`, which
/// [`Env::slow_save`] can make last seconds (an AOF stop only flushes the file).
fn docker_env_rdb() -> Env {
    let profile = include_str!("../profiles/docker.toml")
        .replace("pull = true", "pull = false")
        .replace("ready_timeout_ms = 15000", "ready_timeout_ms = 3000")
        .replace("persistence = \"aof\"", "persistence = \"rdb\"")
        .replace("appendfsync = \"everysec\"", "");
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

/// `docker kill` while the final `SHUTDOWN SAVE` runs (made slow: about 2 s): the connection
/// closes just as after a clean SHUTDOWN, but the container's exit code (137) says the save
/// did not complete. The run says so (exit 4, `stop_error` names the exit code) and removes
/// the container, as the process backend does for a redis-server killed mid-save.
#[test]
fn docker_kill_during_the_final_save_is_not_a_clean_stop() {
    let env = docker_env_rdb();
    let mut run = env.run(&["-n", "300", "-r", "100"]);
    run.reach(Point::MidRun);
    env.slow_save(100);
    let id = container(&env);
    run.reach(Point::Stop);
    // SHUTDOWN SAVE is sent right after the stop begins; give it a moment to start saving.
    std::thread::sleep(std::time::Duration::from_millis(300));
    docker(&["kill", &id]);
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    let left = containers_left(&env);
    if !left.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f", &left]).status();
    }
    assert_eq!(out.code, 4, "{ctx}");
    let doc = env.only_run_json();
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    assert!(
        stop_error.contains("ended during SHUTDOWN (exit code 137")
            && stop_error.contains("before its final save completed"),
        "{doc:#}"
    );
    assert!(left.is_empty(), "container {left} left behind");
}

/// `docker pause` in the middle of the final save: the stop names the freeze after
/// `redis.stop_timeout_ms` without progress (exit 4, bounded time) and leaves the container
/// as it is, since its data is only in memory. Unpaused, it finishes its own save and the next
/// `redis down` waits for that save instead of failing.
#[test]
fn docker_pause_during_the_final_save_is_named_and_left_as_it_is() {
    let env = docker_env_rdb();
    env.set_redis("stop_timeout_ms = 1500");
    let mut run = env.run(&["-n", "300", "-r", "100"]);
    run.reach(Point::MidRun);
    env.slow_save(100);
    let id = container(&env);
    run.reach(Point::Stop);
    std::thread::sleep(std::time::Duration::from_millis(300));
    docker(&["pause", &id]);
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    let still_there = container(&env);
    docker(&["unpause", &id]);
    let down = wait_output(
        env.redwhisk(&["redis", "down", "-p"])
            .arg(env.profile())
            .spawn_piped(),
        HANG,
    );
    let down_text = String::from_utf8_lossy(&down.stderr).to_string();
    let left = containers_left(&env);
    if !left.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f", &left]).status();
    }
    assert_eq!(out.code, 4, "{ctx}");
    assert_eq!(
        still_there, id,
        "the paused container was not left as it was"
    );
    let doc = env.only_run_json();
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    assert!(
        stop_error.contains("stopped making progress during its final save")
            && stop_error.contains("paused"),
        "{doc:#}"
    );
    assert!(down.status.success(), "{down_text}");
    assert!(left.is_empty(), "container {left} left behind: {down_text}");
    assert!(
        env.data().join("dump.rdb").exists(),
        "not saved: {down_text}"
    );
}

/// redwhisk killed -9 while its container runs the final `SHUTDOWN SAVE` (made slow): the next
/// run finds the orphan container still saving, waits for that save instead of failing on a
/// server that cannot answer, removes the exited container and runs (exit 0).
#[test]
fn an_orphan_container_still_saving_is_waited_for_by_the_next_run() {
    let env = docker_env_rdb();
    let mut run = env.run(&["-n", "300", "-r", "100"]);
    run.reach(Point::MidRun);
    env.slow_save(150);
    let id = container(&env);
    run.reach(Point::Stop);
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(run.pid(), 9);
    assert_eq!(run.finish(HANG).code, 137);
    let out = env.run(&["-n", "2", "-r", "10"]).finish(HANG);
    let ctx = out.stderr.clone();
    let left = containers_left(&env);
    if !left.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f", &left]).status();
    }
    assert_eq!(out.code, 0, "{ctx}");
    assert!(
        ctx.contains(&format!(
            "orphan container {} (started by",
            &id[..12.min(id.len())]
        )) && ctx.contains("is still saving: waiting for it to finish"),
        "{ctx}"
    );
    assert!(left.is_empty(), "container {left} left behind");
}

/// `redis down --force` while a run uses the profile's container, mid-run and during the
/// run's own stop (a slow final save): the two stops race on one container. Neither reports
/// Docker's `409 removal … already in progress`; the forced stop succeeds, the run ends in
/// bounded time with its results, and no container is left.
#[test]
fn a_forced_down_during_a_docker_run_does_not_race_it() {
    for point in [Point::MidRun, Point::Stop] {
        let env = docker_env_rdb();
        let mut run = env.run(&["-n", "300", "-r", "100"]);
        run.reach(Point::MidRun);
        if point == Point::Stop {
            env.slow_save(100);
            run.reach(Point::Stop);
        }
        let down = wait_output(
            env.redwhisk(&["redis", "down", "--force", "-p"])
                .arg(env.profile())
                .spawn_piped(),
            HANG,
        );
        let down_text = String::from_utf8_lossy(&down.stderr).to_string();
        let out = run.finish(HANG);
        let left = containers_left(&env);
        if !left.is_empty() {
            let _ = Command::new("docker").args(["rm", "-f", &left]).status();
        }
        let ctx = format!("{point:?}: down: {down_text}\nrun: {}", out.stderr);
        assert!(down.status.success(), "{ctx}");
        assert!(!ctx.contains("409"), "{ctx}");
        assert!(!ctx.contains("already in progress"), "{ctx}");
        assert!(left.is_empty(), "container {left} left behind: {ctx}");
        // The run wrote its results, whatever its outcome (Redis gone mid-run, or stopped).
        let doc = env.only_run_json();
        assert!(doc["outcome"].is_string(), "{doc:#}");
    }
}

/// redwhisk killed -9 while its container loads a large data set (3,000,000 keys): the next run
/// finds the orphan container still loading, waits for it (LOADING), saves and stops it, removes
/// it and runs on every key (exit 0), the reap said in one line.
#[test]
fn an_orphan_container_still_loading_is_waited_for_then_saved_and_stopped() {
    let env = docker_env_rdb();
    env.set_redis("ready_timeout_ms = 60000");
    big_dump(&env.data(), 3_000_000);
    let mut run = env.run(&["-n", "2", "-r", "10"]);
    run.reach(Point::Start);
    // Once the container runs (Redis is loading: about 2 s for 3M keys), kill redwhisk. A
    // container only created, not yet started, would be removed as a stopped one instead.
    let t0 = std::time::Instant::now();
    loop {
        let out = Command::new("docker")
            .args(["ps", "-q", "--filter"])
            .arg(format!("label=redwhisk.profile={}", env.name()))
            .output()
            .unwrap();
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            break;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(60),
            "no running container"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    signal(run.pid(), 9);
    assert_eq!(run.finish(HANG).code, 137);
    let orphan = containers_left(&env);
    let out = env.run(&["-n", "2", "-r", "10"]).finish(HANG);
    let ctx = out.stderr.clone();
    let left = containers_left(&env);
    if !left.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f", &left]).status();
    }
    assert_eq!(out.code, 0, "{ctx}");
    assert!(
        ctx.contains(&format!(
            "reaped orphan container {}",
            &orphan[..12.min(orphan.len())]
        )),
        "{ctx}"
    );
    let doc = env
        .result_dirs()
        .into_iter()
        .find(|d| d.join("run.json").exists())
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(
                &std::fs::read_to_string(d.join("run.json")).unwrap(),
            )
            .unwrap()
        })
        .unwrap();
    assert_eq!(
        doc["redis"]["cold_start"]["keys_restored"], 3_000_000,
        "{doc:#}"
    );
    assert!(left.is_empty(), "container {left} left behind");
}
