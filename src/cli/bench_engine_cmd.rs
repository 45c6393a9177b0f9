//! `redwhisk bench engine`: arguments and printing; the measurement is `crate::bench::engine`
//! (engine overhead per invocation and peak memory at N/10 and N invocations).

use std::path::PathBuf;

use super::args::load_profile;
use super::exit::Exit;
use crate::bench::engine::{EngineBenchOptions, run_once, sizes};
use crate::profile::Overrides;

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
    /// Root of the results directories (default: results/bench-engine).
    #[arg(long, default_value_os_t = crate::results::default_root().join("bench-engine"))]
    pub results_dir: PathBuf,
}

pub async fn run(args: EngineBenchArgs) -> anyhow::Result<Exit> {
    let base = load_profile(args.profile.as_deref(), &Overrides::default())?;
    let opts = EngineBenchOptions {
        invocations: args.invocations,
        records: args.records,
        concurrency: args.concurrency,
        results_dir: args.results_dir.clone(),
    };
    let [small, _] = sizes(args.invocations);
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
    for n in sizes(args.invocations) {
        let r = run_once(&base, &opts, n).await?;
        peaks.push(r.peak_rss_mib);
        println!(
            "{n:>12} {:>10} {:>11.3} ms {:>11.3} ms {:>14.1} {:>14.1}",
            r.failed, r.overhead_p50_ms, r.overhead_p99_ms, r.invocations_per_s, r.peak_rss_mib
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
    Ok(Exit::Success)
}
