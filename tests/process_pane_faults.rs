//! The console's process sample when the Docker daemon it asks for container rows is gone or
//! frozen: the sample still comes, in bounded time, with redwhisk's own rows and without the
//! container rows. The daemon is chosen with `DOCKER_HOST`, so each case runs this binary again
//! as a child with its own environment (the `sample_child` test, ignored on its own).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use redwhisk::engine::{EngineOptions, spawn_engine};
use redwhisk::event::{EngineCommand, EngineEvent};

#[test]
fn a_dead_or_frozen_docker_daemon_leaves_the_container_rows_out_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    // Frozen: a socket that accepts and never answers (a SIGSTOPped dockerd looks the same
    // to a client). Dead: a path nothing listens on.
    let frozen = dir.path().join("frozen.sock");
    let listener = std::os::unix::net::UnixListener::bind(&frozen).unwrap();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().flatten() {
            open.push(s);
        }
    });
    let dead = dir.path().join("dead.sock");
    for (what, socket) in [("frozen", &frozen), ("dead", &dead)] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "sample_child", "--nocapture"])
            .env("DOCKER_HOST", format!("unix://{}", socket.display()))
            .env("RW_SAMPLE_CASE", what)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{what}: {text}");
        assert!(text.contains("1 passed"), "{what}: the child ran: {text}");
    }
}

/// One case, in a process whose `DOCKER_HOST` the parent set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_dead_or_frozen_docker_daemon_… with DOCKER_HOST set"]
async fn sample_child() {
    let what = std::env::var("RW_SAMPLE_CASE").expect("run by the parent test");
    let (engine, mut rx, task) = spawn_engine(EngineOptions::default());
    let asked = Instant::now();
    engine.send(EngineCommand::SampleProcesses {
        redis_pid: None,
        containers: vec!["redwhisk-some-redis".into()],
        functions: true,
    });
    let snap = loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{what}: no process sample within 30 s"))
            .expect("the engine stopped")
        {
            EngineEvent::Processes(snap) => break snap,
            _ => continue,
        }
    };
    let took = asked.elapsed();
    assert!(
        snap.processes.iter().any(|p| p.role == "self"),
        "{what}: redwhisk's own row: {snap:?}"
    );
    assert!(
        snap.processes
            .iter()
            .all(|p| p.role != "docker" && p.role != "lambda"),
        "{what}: {snap:?}"
    );
    // Bounded by the sample's deadline to reach the daemon (2 s), not bollard's 120 s.
    assert!(took < Duration::from_secs(20), "{what}: {took:?}");
    engine.send(EngineCommand::Shutdown);
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("the engine ends")
        .unwrap();
}
