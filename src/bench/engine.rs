//! `bench engine`: the engine's own cost. Runs a profile twice in one process (N/10, then N
//! invocations) and measures the engine overhead per invocation (client latency minus the
//! action's own total) and the peak resident memory after each run, so a memory that grows
//! with N shows as a growing peak.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Result;
use crate::engine::{RunOptions, run_experiment};
use crate::event::EventSink;
use crate::profile::{Overrides, Profile};

/// Peak resident set size of this process in KiB (VmHWM), if the kernel tells.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What to run.
#[derive(Debug, Clone)]
pub struct EngineBenchOptions {
    /// Invocations of the larger run (the first run does a tenth of them).
    pub invocations: u32,
    pub records: u32,
    pub concurrency: u32,
    pub results_dir: PathBuf,
}

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct EngineBenchRow {
    pub invocations: u32,
    pub failed: u64,
    pub overhead_p50_ms: f64,
    pub overhead_p99_ms: f64,
    pub invocations_per_s: f64,
    pub peak_rss_mib: f64,
}

/// The invocation counts of the two runs: N/10 (at least 1), then N.
pub fn sizes(invocations: u32) -> [u32; 2] {
    [(invocations / 10).max(1), invocations]
}

/// Run `base` with `invocations` invocations and measure it.
pub async fn run_once(
    base: &Profile,
    o: &EngineBenchOptions,
    invocations: u32,
) -> Result<EngineBenchRow> {
    let p = Overrides {
        invocations: Some(invocations),
        records: Some(o.records),
        concurrency: Some(o.concurrency),
        ..Default::default()
    }
    .applied_to(base)?;
    let opts = RunOptions {
        results_root: Some(o.results_dir.clone()),
        ..Default::default()
    };
    let started = Instant::now();
    let out = run_experiment(&p, &opts, &EventSink::discard(), CancellationToken::new()).await?;
    let secs = started.elapsed().as_secs_f64();
    let ov = out.stats.overhead.summary();
    Ok(EngineBenchRow {
        invocations,
        failed: out.stats.failed,
        overhead_p50_ms: ov.p50,
        overhead_p99_ms: ov.p99,
        invocations_per_s: f64::from(invocations) / secs,
        peak_rss_mib: peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
    })
}
