//! `bench lifecycle`: our cold start and stop next to baselines measured in the same run.
//!
//! What is inside each timer:
//! - ours, start: `RedisHost::up` from call to return (docker: connect + version negotiation,
//!   orphan check, image inspect, port check, config file, create, start, PONG, INFO).
//!   For the process backend the start's own steps are timed too, and their medians printed
//!   as the breakdown (`StartStep`s: lock, data directory and password, state file check,
//!   untracked-server scan, port check, config file, log file, spawn, first PONG, INFO).
//! - ours, stop: `RedisHost::down(Graceful)` (SHUTDOWN NOSAVE, wait for exit, remove).
//! - process baseline: spawn `redis-server --port P` → first PONG (polled the way redwhisk
//!   polls: 100 µs apart for the first 100 ms); stop: SHUTDOWN NOSAVE → exit. A second
//!   baseline polls every 1 ms on tokio's timer, as a script's loop would.
//! - docker baseline: `docker run -d --network host IMAGE --bind 127.0.0.1 --port P` (the CLI)
//!   → first PONG; stop: `docker stop` + `docker rm` (the CLI).

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Context, Result, docker_cli, free_port, median, ms, plain_endpoint};
use crate::event::EventSink;
use crate::profile::Persistence;
use crate::redis_host::image::LOCAL_TAG;
use crate::redis_host::{RedisHost, StartStep, StopMode, shutdown, wait_for_pong};

/// The process backend's start target: within this factor of a bare `redis-server` → PONG.
pub const PROCESS_TARGET_RATIO: f64 = 1.1;

/// One step of our start, its median over the runs.
#[derive(Debug, Clone, Serialize)]
pub struct StepMedian {
    pub step: String,
    pub median_ms: f64,
}

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
    /// Where our start's time went (process backend; empty for docker).
    pub breakdown: Vec<StepMedian>,
    /// Process backend: the bare `redis-server` again, its PONG polled every 1 ms with tokio's
    /// timer, as a script's `until redis-cli ping; do sleep 0.001; done` loop would (the
    /// `baseline_start_ms` one is polled the way redwhisk polls, so only the server differs).
    pub script_poll_start_ms: Option<f64>,
}

impl LifecycleRow {
    /// The breakdown as text lines, one step each, or nothing when there is none.
    pub fn breakdown_text(&self) -> String {
        let mut out = String::new();
        if self.breakdown.is_empty() {
            return out;
        }
        let sum: f64 = self.breakdown.iter().map(|s| s.median_ms).sum();
        out.push_str(&format!(
            "{} start, median per step ({} runs; medians do not add up to the start's median):\n",
            self.backend, self.runs
        ));
        for s in &self.breakdown {
            out.push_str(&format!("  {:<44} {:>7.3} ms\n", s.step, s.median_ms));
        }
        out.push_str(&format!("  {:<44} {:>7.3} ms\n", "sum of the medians", sum));
        out
    }
}

/// The median of each step over the runs, in the order the steps ran.
fn step_medians(runs: &[Vec<StartStep>]) -> Vec<StepMedian> {
    let mut names: Vec<&'static str> = Vec::new();
    for s in runs.iter().flatten() {
        if !names.contains(&s.step) {
            names.push(s.step);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let v: Vec<f64> = runs
                .iter()
                .flatten()
                .filter(|s| s.step == name)
                .map(|s| s.ms)
                .collect();
            StepMedian {
                step: name.to_string(),
                median_ms: median(&v),
            }
        })
        .collect()
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
    let mut steps = Vec::new();
    let mut script_up = Vec::new();
    for _ in 0..runs {
        if !docker {
            script_up.push(script_poll_baseline(dir.path()).await?);
        }
        let (u, d) = if docker {
            docker_baseline().await?
        } else {
            process_baseline(dir.path()).await?
        };
        base_up.push(u);
        base_down.push(d);
        let mut host = RedisHost::new(&profile)?;
        let t = Instant::now();
        let started = host.up(&events).await.ctx("bench: start")?;
        ours_up.push(ms(t.elapsed()));
        steps.push(started.steps);
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
        (
            format!("start within {PROCESS_TARGET_RATIO}x of redis-server"),
            start_ratio <= PROCESS_TARGET_RATIO,
        )
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
        breakdown: step_medians(&steps),
        script_poll_start_ms: (!docker).then(|| median(&script_up)),
    })
}

/// `redis-server --port P` → first PONG, polled every 1 ms on tokio's timer (whose 1 ms sleeps
/// often last 2): the loop a script would write. Stopped at once (start ms only).
pub async fn script_poll_baseline(dir: &std::path::Path) -> Result<f64> {
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
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if crate::redis_host::ping_once(&ep).await {
            break;
        }
        if Instant::now() > deadline {
            return Err(super::BenchError::msg(format!(
                "baseline: redis-server on port {port} never answered PING"
            )));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let up = ms(t.elapsed());
    shutdown(&ep, &Persistence::None).await?;
    child.wait().await?;
    Ok(up)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_medians_keep_the_order_and_take_each_steps_median() {
        let run = |a: f64, b: f64| {
            vec![
                StartStep {
                    step: "lock",
                    ms: a,
                },
                StartStep {
                    step: "spawn",
                    ms: b,
                },
            ]
        };
        let m = step_medians(&[run(1.0, 9.0), run(3.0, 5.0), run(2.0, 7.0)]);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].step.as_str(), m[0].median_ms), ("lock", 2.0));
        assert_eq!((m[1].step.as_str(), m[1].median_ms), ("spawn", 7.0));
        assert!(step_medians(&[]).is_empty());
    }
}
