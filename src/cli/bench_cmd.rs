//! `redwhisk bench …`: arguments and printing; the measurements live in `crate::bench`.
//! `bench lifecycle`: our cold start and stop next to baselines measured in the same run,
//! printed as ratios (absolute times on a shared VM mean little on their own).

use std::process::ExitCode;

use anyhow::bail;

use super::OutputFormat;
use crate::bench::lifecycle::{LifecycleRow, bench_backend};

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
    for r in rows {
        out.push_str(&r.breakdown_text());
    }
    out
}
