//! The `docker` backend against the real daemon, with the image from `image build-local`
//! (built here when missing). Fails loudly when dockerd is unreachable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "host_support/mod.rs"]
mod support;

use assert_cmd::Command;
use redwhisk::event::{EngineEvent, EventSink};
use redwhisk::profile::{Backend, Persistence};
use redwhisk::redis_host::{Owner, RedisHost, RedisState, StopMode};
use support::*;

fn container_name(p: &redwhisk::profile::Profile) -> String {
    match &p.redis.backend {
        Backend::Docker { container_name, .. } => container_name.clone(),
        _ => unreachable!(),
    }
}

fn docker_ps(profile: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label=redwhisk.profile={profile}"),
            "--format",
            "{{.Names}}",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

async fn restart_keeps(persistence: Persistence, stop: StopMode) -> Option<String> {
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = docker_profile(dir.path(), persistence);
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut host = RedisHost::new(&profile).unwrap();
    let ep = host.up(&events).await.unwrap().endpoint;
    write(&ep, &[("k1", "v1"), ("k2", "v2")]).await;
    assert!(host.down(stop, &events).await.unwrap().was_running);
    assert!(docker_ps(&profile.name).is_empty(), "container removed");
    let ep = host.up(&events).await.unwrap().endpoint;
    let got = read(&ep, "k2").await;
    host.down(StopMode::Graceful, &events).await.unwrap();
    got
}

#[tokio::test]
async fn rdb_data_survives_the_container() {
    assert_eq!(
        restart_keeps(rdb(), StopMode::Graceful).await.as_deref(),
        Some("v2")
    );
}

#[tokio::test]
async fn aof_data_survives_the_container() {
    assert_eq!(
        restart_keeps(aof(), StopMode::Graceful).await.as_deref(),
        Some("v2")
    );
}

#[tokio::test]
async fn docker_kill_with_aof_keeps_acknowledged_writes() {
    assert_eq!(
        restart_keeps(aof_always(), StopMode::Crash)
            .await
            .as_deref(),
        Some("v2")
    );
}

#[tokio::test]
async fn persistence_none_keeps_nothing() {
    assert_eq!(
        restart_keeps(Persistence::None, StopMode::Graceful).await,
        None
    );
}

#[tokio::test]
async fn start_and_stop_are_safe_to_repeat() {
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = docker_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let (events, mut rx) = EventSink::new();
    let mut host = RedisHost::new(&profile).unwrap();
    let started = host.up(&events).await.unwrap();
    let first = started.endpoint;
    let cold = started.cold_start.expect("a cold start breakdown");
    assert!(
        !drain(&mut rx)
            .iter()
            .any(|e| matches!(e, EngineEvent::ColdStart(_))),
        "the caller reports the cold start, not the host"
    );
    assert_eq!(cold.backend, "docker");
    assert!(cold.create_ms > 0.0 && cold.start_ms > 0.0 && cold.ready_ms > 0.0);
    let second = host.up(&events).await.unwrap();
    assert_eq!(first.port, second.endpoint.port);
    assert!(second.cold_start.is_none(), "adopting is not a cold start");
    assert_eq!(docker_ps(&profile.name), vec![container_name(&profile)]);
    let status = host.status().await.unwrap();
    assert_eq!(status.state, RedisState::Running);
    assert_eq!(
        status.container.as_deref(),
        Some(container_name(&profile).as_str())
    );
    assert!(
        host.down(StopMode::Graceful, &events)
            .await
            .unwrap()
            .was_running
    );
    assert!(
        !host
            .down(StopMode::Graceful, &events)
            .await
            .unwrap()
            .was_running
    );
    assert!(
        !host
            .down(StopMode::Crash, &events)
            .await
            .unwrap()
            .was_running
    );
    assert_eq!(host.status().await.unwrap().state, RedisState::Stopped);
    for _ in 0..2 {
        host.up(&events).await.unwrap();
        host.down(StopMode::Graceful, &events).await.unwrap();
    }
    assert!(docker_ps(&profile.name).is_empty());
}

#[tokio::test]
async fn an_orphan_container_is_reaped_with_its_data_kept() {
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = docker_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut dead = RedisHost::new(&profile)
        .unwrap()
        .with_owner(Owner::Console { pid: dead_pid() });
    let ep = dead.up(&events).await.unwrap().endpoint;
    write(&ep, &[("orphan", "kept")]).await;
    drop(dead);

    let (events, mut rx) = EventSink::new();
    let mut host = RedisHost::new(&profile).unwrap();
    let ep = host.up(&events).await.unwrap().endpoint;
    let msgs = messages(&drain(&mut rx));
    assert!(
        msgs.iter()
            .any(|m| m.contains("reaped orphan container") && m.contains("data saved")),
        "{msgs:?}"
    );
    assert_eq!(read(&ep, "orphan").await.as_deref(), Some("kept"));
    host.down(StopMode::Graceful, &events).await.unwrap();
}

#[tokio::test]
async fn keep_container_leaves_it_stopped_and_the_next_start_replaces_it() {
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let mut profile = docker_profile(dir.path(), rdb());
    if let Backend::Docker { keep_container, .. } = &mut profile.redis.backend {
        *keep_container = true;
    }
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut host = RedisHost::new(&profile).unwrap();
    let ep = host.up(&events).await.unwrap().endpoint;
    write(&ep, &[("a", "1")]).await;
    host.down(StopMode::Graceful, &events).await.unwrap();
    assert_eq!(docker_ps(&profile.name), vec![container_name(&profile)]);
    let ep = host.up(&events).await.unwrap().endpoint;
    assert_eq!(read(&ep, "a").await.as_deref(), Some("1"));
    host.down(StopMode::Graceful, &events).await.unwrap();
}

#[tokio::test]
async fn a_port_in_use_is_reported_before_creating_a_container() {
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let mut profile = docker_profile(dir.path(), rdb());
    profile.redis.port = port;
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let err = RedisHost::new(&profile)
        .unwrap()
        .up(&EventSink::discard())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("port {port} on 127.0.0.1 is already in use")),
        "{err}"
    );
    assert!(err.contains("set `redis.port`"), "{err}");
    assert!(docker_ps(&profile.name).is_empty());
}

#[test]
fn a_missing_daemon_names_docker_host_and_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique("nodaemon");
    let file = write_profile_file(
        dir.path(),
        &name,
        &dir.path().join("data"),
        "backend = \"docker\"\nimage = \"redwhisk/redis:local\"",
    );
    Command::cargo_bin("redwhisk")
        .unwrap()
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .args(["redis", "up", "--profile", file.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "cannot reach the Docker daemon at /nonexistent.sock (DOCKER_HOST=unix:///nonexistent.sock)",
        ));
}

#[test]
fn a_missing_image_that_cannot_be_pulled_names_build_local() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique("noimage");
    let file = write_profile_file(
        dir.path(),
        &name,
        &dir.path().join("data"),
        // A registry on a closed loopback port: the pull fails without leaving the machine.
        &format!(
            "backend = \"docker\"\nimage = \"127.0.0.1:1/redwhisk/not-there:{name}\"\npull = true"
        ),
    );
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["redis", "up", "--profile", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("image `127.0.0.1:1/redwhisk/not-there:{name}` is not available locally and could not be pulled")),
        "{err}"
    );
    assert!(err.contains("`redwhisk image build-local`"), "{err}");
}

/// The console's process pane for a Docker Redis: the engine adds the container's row from
/// the Docker stats API (its init's host pid, its cgroup's CPU time and memory); a container
/// that is gone leaves its row out and the rest of the sample as it is.
#[tokio::test]
async fn the_process_sample_has_a_row_per_named_container_from_docker_stats() {
    use redwhisk::engine::{EngineOptions, spawn_engine};
    use redwhisk::event::EngineCommand;
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = docker_profile(dir.path(), Persistence::None);
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut host = RedisHost::new(&profile).unwrap();
    host.up(&events).await.unwrap();
    let name = container_name(&profile);
    let (engine, mut rx, task) = spawn_engine(EngineOptions::default());
    let mut sample = async |containers: Vec<String>| {
        engine.send(EngineCommand::SampleProcesses {
            redis_pid: None,
            containers,
            functions: false,
        });
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv())
                .await
                .expect("no process sample within 30 s")
                .expect("the engine stopped")
            {
                EngineEvent::Processes(snap) => return snap,
                _ => continue,
            }
        }
    };
    let first = sample(vec![name.clone()]).await;
    let row = first
        .processes
        .iter()
        .find(|p| p.role == "docker")
        .unwrap_or_else(|| panic!("no container row: {first:?}"));
    assert_eq!(row.name, name);
    assert!(row.rss_bytes > 0, "{row:?}");
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", row.pid)).unwrap();
    assert_eq!(
        comm.trim(),
        "redis-server",
        "the container's init, seen from the host"
    );
    assert!(
        first.processes.iter().any(|p| p.role == "self"),
        "redwhisk's own row is still there: {first:?}"
    );
    let again = sample(vec![name.clone()]).await;
    let later = again.processes.iter().find(|p| p.role == "docker").unwrap();
    assert!(later.cpu_ticks >= row.cpu_ticks, "{row:?} then {later:?}");
    let gone = sample(vec!["redwhisk-no-such-container".into()]).await;
    assert!(
        gone.processes.iter().all(|p| p.role != "docker"),
        "{gone:?}"
    );
    assert!(gone.processes.iter().any(|p| p.role == "self"), "{gone:?}");
    // Rows are sampled together: one gone beside one running leaves just the running one.
    let mixed = sample(vec!["redwhisk-no-such-container".into(), name.clone()]).await;
    let rows: Vec<_> = mixed
        .processes
        .iter()
        .filter(|p| p.role == "docker")
        .collect();
    assert!(rows.len() == 1 && rows[0].name == name, "{mixed:?}");
    engine.send(EngineCommand::Shutdown);
    task.await.unwrap();
    host.down(StopMode::Graceful, &events).await.unwrap();
}
