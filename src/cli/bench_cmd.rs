//! `redwhisk bench lifecycle`: our cold start and stop next to baselines measured in the same
//! run, printed as ratios (absolute times on a shared VM mean little on their own).
//!
//! What is inside each timer:
//! - ours, start: `RedisHost::up` from call to return (docker: connect + version negotiation,
//!   orphan check, image inspect, port check, config file, create, start, PONG, INFO).
//! - ours, stop: `RedisHost::down(Graceful)` (SHUTDOWN NOSAVE, wait for exit, remove).
//! - process baseline: spawn `redis-server --port P` → first PONG; stop: SHUTDOWN NOSAVE → exit.
//! - docker baseline: `docker run -d --network host IMAGE --bind 127.0.0.1 --port P` (the CLI)
//!   → first PONG; stop: `docker stop` + `docker rm` (the CLI).

use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use super::OutputFormat;
use crate::event::EventSink;
use crate::profile::{Backend, DockerNetwork, Persistence, Profile};
use crate::redis_host::image::LOCAL_TAG;
use crate::redis_host::{Endpoint, RedisHost, StopMode, image, shutdown, wait_for_pong};

/// Benchmarks.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchAction {
    /// Median cold start (start → PONG) and stop of each backend next to a same-run baseline.
    Lifecycle {
        /// Start/stop cycles per backend and per baseline.
        #[arg(long, default_value_t = 10)]
        runs: u32,
        #[arg(long, value_enum, default_value_t = BackendChoice::All)]
        backend: BackendChoice,
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// The native action's write phase against redis-benchmark (-c 1 -P 1, and -P N).
    Action(super::bench_action_cmd::BenchActionArgs),
    /// The engine's own overhead per invocation and its peak memory at N and 10×N invocations.
    Engine(super::bench_engine_cmd::EngineBenchArgs),
    /// The scale-to-zero gateway: added round trip, pipelined throughput, wake latency against
    /// the backend's cold start, and keys kept over sleep/wake cycles.
    Gateway(super::bench_gateway_cmd::GatewayBenchArgs),
    /// Snapshots per dataset size: save, upload, download and restore-to-ready, upload and
    /// download next to `aws s3 cp` of the same file to the same S3 server (moto by default).
    Snapshots(super::bench_snapshots_cmd::SnapshotsBenchArgs),
}

/// Which backends to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    Process,
    Docker,
    All,
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
}

const TIMEOUT: Duration = Duration::from_secs(30);

/// Dispatch one `bench` subcommand.
pub async fn run(action: BenchAction) -> anyhow::Result<ExitCode> {
    let (runs, backend, output) = match action {
        BenchAction::Lifecycle {
            runs,
            backend,
            output,
        } => (runs, backend, output),
        BenchAction::Action(args) => return super::bench_action_cmd::run(args).await,
        BenchAction::Engine(args) => return super::bench_engine_cmd::run(args).await,
        BenchAction::Gateway(args) => return super::bench_gateway_cmd::run(args).await,
        BenchAction::Snapshots(args) => return super::bench_snapshots_cmd::run(args).await,
    };
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut rows = Vec::new();
    if backend != BackendChoice::Docker {
        rows.push(bench_backend(runs, false).await?);
    }
    if backend != BackendChoice::Process {
        rows.push(bench_backend(runs, true).await?);
    }
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        OutputFormat::Text => print!("{}", table(&rows)),
    }
    Ok(ExitCode::SUCCESS)
}

fn table(rows: &[LifecycleRow]) -> String {
    let mut out = format!(
        "{:<8} {:>5} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7}  target\n",
        "backend", "runs", "start ms", "base ms", "ratio", "stop ms", "base ms", "ratio"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<8} {:>5} {:>10.1} {:>10.1} {:>6.2}x {:>10.1} {:>10.1} {:>6.2}x  {} ({})\n",
            r.backend,
            r.runs,
            r.start_ms,
            r.baseline_start_ms,
            r.start_ratio,
            r.stop_ms,
            r.baseline_stop_ms,
            r.stop_ratio,
            r.target,
            if r.target_met { "met" } else { "NOT met" }
        ));
    }
    for r in rows {
        out.push_str(&format!("baseline {}: {}\n", r.backend, r.baseline));
    }
    out
}

fn bench_profile(docker: bool, dir: &std::path::Path) -> anyhow::Result<Profile> {
    let mut p = Profile::embedded_default()?;
    p.name = format!("bench-{}", std::process::id());
    p.redis.persistence = Persistence::None;
    p.redis.port = 0;
    p.redis.data_dir = dir.join("data");
    if docker {
        p.redis.backend = Backend::Docker {
            image: LOCAL_TAG.into(),
            network: DockerNetwork::Host,
            keep_container: false,
            container_name: format!("redwhisk-bench-{}", std::process::id()),
            pull: false,
        };
    }
    Ok(p)
}

/// Alternate baseline and ours run by run, so drift on a noisy machine hits both alike.
async fn bench_backend(runs: u32, docker: bool) -> anyhow::Result<LifecycleRow> {
    let dir = tempfile::tempdir()?;
    let profile = bench_profile(docker, dir.path())?;
    let events = EventSink::discard();
    if docker {
        // Not timed: the image must exist for both sides.
        let d = crate::redis_host::docker_connect().await?;
        if d.inspect_image(LOCAL_TAG).await.is_err() {
            image::build_local(LOCAL_TAG, &events).await?;
        }
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
        host.up(&events).await.context("bench: start")?;
        ours_up.push(ms(t.elapsed()));
        let t = Instant::now();
        host.down(StopMode::Graceful, &events)
            .await
            .context("bench: stop")?;
        ours_down.push(ms(t.elapsed()));
    }
    let (start_ms, baseline_start_ms) = (median(&mut ours_up), median(&mut base_up));
    let (stop_ms, baseline_stop_ms) = (median(&mut ours_down), median(&mut base_down));
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

async fn free_port() -> anyhow::Result<u16> {
    Ok(tokio::net::TcpListener::bind("127.0.0.1:0")
        .await?
        .local_addr()?
        .port())
}

fn plain(port: u16) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        password: None,
        tls: false,
        db: 0,
    }
}

async fn process_baseline(dir: &std::path::Path) -> anyhow::Result<(f64, f64)> {
    let port = free_port().await?;
    let ep = plain(port);
    let t = Instant::now();
    let mut child = tokio::process::Command::new("redis-server")
        .args(["--port", &port.to_string()])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("baseline: cannot run redis-server (apt-get install redis-server)")?;
    wait_for_pong(&ep, TIMEOUT).await?;
    let up = ms(t.elapsed());
    let t = Instant::now();
    shutdown(&ep, &Persistence::None).await?;
    child.wait().await?;
    Ok((up, ms(t.elapsed())))
}

async fn docker_cli(args: &[&str]) -> anyhow::Result<String> {
    let out = tokio::process::Command::new("docker")
        .args(args)
        .output()
        .await
        .context("baseline: cannot run the docker CLI")?;
    if !out.status.success() {
        bail!(
            "baseline: docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

async fn docker_baseline() -> anyhow::Result<(f64, f64)> {
    let port = free_port().await?.to_string();
    let ep = plain(port.parse()?);
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
