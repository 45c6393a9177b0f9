//! `redwhisk bench engine`: the engine's own cost. Runs the embedded default twice in one
//! process (N small, then 10×N), and reports the engine overhead per invocation (client
//! latency minus the action's own total) and the peak resident memory after each run, so a
//! memory that grows with N shows as a growing peak.

use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::engine::{RunOptions, run_experiment};
use crate::event::EventSink;
use crate::profile::{Overrides, default_profile, find_profile};

/// Arguments of `redwhisk bench engine`.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineBenchArgs {
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Invocations of the larger run (the first run does a tenth of them).
    #[arg(long, short = 'n', default_value_t = 10_000)]
    pub invocations: u32,
    /// Records per invocation (small, so the engine is what is measured).
    #[arg(long, short, default_value_t = 10)]
    pub records: u32,
    #[arg(long, short, default_value_t = 2)]
    pub concurrency: u32,
    #[arg(long, default_value = "results/bench-engine")]
    pub results_dir: PathBuf,
}

/// Peak resident set size of this process in KiB (VmHWM), if the kernel tells.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub async fn run(args: EngineBenchArgs) -> anyhow::Result<ExitCode> {
    let base = match &args.profile {
        Some(p) => find_profile(p)?,
        None => default_profile()?,
    };
    let small = (args.invocations / 10).max(1);
    println!(
        "engine bench: profile {} ({} Redis, {} platform), {} records/invocation, concurrency {}",
        base.name,
        base.redis.backend.label(),
        base.platform.label(),
        args.records,
        args.concurrency
    );
    println!(
        "{:>12} {:>10} {:>14} {:>14} {:>14} {:>14}",
        "invocations", "failed", "overhead p50", "overhead p99", "inv/s", "peak RSS MiB"
    );
    let mut peaks = Vec::new();
    for n in [small, args.invocations] {
        let mut p = base.clone();
        Overrides {
            invocations: Some(n),
            records: Some(args.records),
            concurrency: Some(args.concurrency),
            ..Default::default()
        }
        .apply(&mut p)?;
        let opts = RunOptions {
            results_root: Some(args.results_dir.clone()),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let out =
            run_experiment(&p, &opts, &EventSink::discard(), CancellationToken::new()).await?;
        let secs = started.elapsed().as_secs_f64();
        let o = out.stats.overhead.summary();
        let peak = peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
        peaks.push(peak);
        println!(
            "{n:>12} {:>10} {:>11.3} ms {:>11.3} ms {:>14.1} {peak:>14.1}",
            out.stats.failed,
            o.p50,
            o.p99,
            f64::from(n) / secs
        );
    }
    if let [a, b] = peaks.as_slice() {
        println!(
            "peak memory after {}× more invocations: {:.2}× ({:+.1} MiB)",
            args.invocations / small,
            b / a.max(1.0),
            b - a
        );
    }
    Ok(ExitCode::SUCCESS)
}
