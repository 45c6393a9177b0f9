//! `bench lifecycle`: our cold start and stop next to baselines measured in the same run.
//!
//! What is inside each timer:
//! - ours, start: `RedisHost::up` from call to return (docker: connect + version negotiation,
//!   orphan check, image inspect, port check, config file, create, start, PONG, INFO).
//! - ours, stop: `RedisHost::down(Graceful)` (SHUTDOWN NOSAVE, wait for exit, remove).
//! - process baseline: spawn `redis-server --port P` → first PONG; stop: SHUTDOWN NOSAVE → exit.
//! - docker baseline: `docker run -d --network host IMAGE --bind 127.0.0.1 --port P` (the CLI)
//!   → first PONG; stop: `docker stop` + `docker rm` (the CLI).

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Context, Result, docker_cli, free_port, median, ms, plain_endpoint};
use crate::event::EventSink;
use crate::profile::Persistence;
use crate::redis_host::image::LOCAL_TAG;
use crate::redis_host::{RedisHost, StopMode, shutdown, wait_for_pong};

/// One backend's medians, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct LifecycleRow {
    pub backend: String,
    pub baseline: String,
    pub runs: u32,
    pub start_ms: f64,
    pub baseline_start_ms: f64,
    pub start_ratio: f64,
    pub stop_ms: f64,
    pub baseline_stop_ms: f64,
    pub stop_ratio: f64,
    pub target: String,
    pub target_met: bool,
}

const TIMEOUT: Duration = Duration::from_secs(30);

/// Alternate baseline and ours run by run, so drift on a noisy machine hits both alike.
pub async fn bench_backend(runs: u32, docker: bool) -> Result<LifecycleRow> {
    let dir = tempfile::tempdir()?;
    let profile = super::throwaway_profile("bench", docker, dir.path())?;
    let events = EventSink::discard();
    if docker {
        super::ensure_local_image(&events).await?;
    }
    let (mut ours_up, mut ours_down, mut base_up, mut base_down) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let (u, d) = if docker {
            docker_baseline().await?
        } else {
            process_baseline(dir.path()).await?
        };
        base_up.push(u);
        base_down.push(d);
        let mut host = RedisHost::new(&profile)?;
        let t = Instant::now();
        host.up(&events).await.ctx("bench: start")?;
        ours_up.push(ms(t.elapsed()));
        let t = Instant::now();
        host.down(StopMode::Graceful, &events)
            .await
            .ctx("bench: stop")?;
        ours_down.push(ms(t.elapsed()));
    }
    let (start_ms, baseline_start_ms) = (median(&ours_up), median(&base_up));
    let (stop_ms, baseline_stop_ms) = (median(&ours_down), median(&base_down));
    let start_ratio = start_ms / baseline_start_ms;
    let (target, target_met) = if docker {
        (
            "start within 1.1x of docker run".to_string(),
            start_ratio <= 1.1,
        )
    } else {
        ("start under 25 ms".to_string(), start_ms < 25.0)
    };
    Ok(LifecycleRow {
        backend: if docker { "docker" } else { "process" }.into(),
        baseline: if docker {
            format!(
                "`docker run -d --network host {LOCAL_TAG} --bind 127.0.0.1 --port P` → PONG; `docker stop` + `docker rm`"
            )
        } else {
            "`redis-server --port P` → PONG; SHUTDOWN NOSAVE → exit".into()
        },
        runs,
        start_ms,
        baseline_start_ms,
        start_ratio,
        stop_ms,
        baseline_stop_ms,
        stop_ratio: stop_ms / baseline_stop_ms,
        target,
        target_met,
    })
}

/// `redis-server --port P` → first PONG, then SHUTDOWN NOSAVE → exit; (start ms, stop ms).
pub async fn process_baseline(dir: &std::path::Path) -> Result<(f64, f64)> {
    let port = free_port()?;
    let ep = plain_endpoint(port);
    let t = Instant::now();
    let mut child = tokio::process::Command::new("redis-server")
        .args(["--port", &port.to_string()])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ctx("baseline: cannot run redis-server (apt-get install redis-server)")?;
    wait_for_pong(&ep, TIMEOUT).await?;
    let up = ms(t.elapsed());
    let t = Instant::now();
    shutdown(&ep, &Persistence::None).await?;
    child.wait().await?;
    Ok((up, ms(t.elapsed())))
}

/// `docker run -d --network host` of the local image → first PONG, then `docker stop` +
/// `docker rm` (the CLI); (start ms, stop ms).
pub async fn docker_baseline() -> Result<(f64, f64)> {
    let port = free_port()?;
    let ep = plain_endpoint(port);
    let port = port.to_string();
    let t = Instant::now();
    let id = docker_cli(&[
        "run",
        "-d",
        "--network",
        "host",
        LOCAL_TAG,
        "--bind",
        "127.0.0.1",
        "--port",
        &port,
    ])
    .await?;
    let ready = wait_for_pong(&ep, TIMEOUT).await;
    let up = ms(t.elapsed());
    let t = Instant::now();
    let stopped = docker_cli(&["stop", &id]).await;
    let removed = docker_cli(&["rm", "-f", &id]).await;
    ready?;
    stopped?;
    removed?;
    Ok((up, ms(t.elapsed())))
}
