//! `redwhisk bench engine`: arguments and printing; the measurement is `crate::bench::engine`
//! (engine overhead per invocation and peak memory at N/10 and N invocations).

use std::path::PathBuf;

use super::args::load_profile;
use super::exit::Exit;
use crate::bench::engine::{EngineBenchOptions, breakdown, open_run, run_once, scheduler, sizes};
use crate::profile::{LocalConfig, Overrides, PlatformConfig};

/// Issue 28's target for the engine's overhead per invocation (p50) on the embedded platform.
const ENGINE_TARGET_MS: f64 = 1.0;

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
    /// The open-loop scheduler alone (no-op invocations): arrivals per second…
    #[arg(long, default_value_t = 1000.0)]
    pub scheduler_rate: f64,
    /// …and how many arrivals.
    #[arg(long, default_value_t = 10_000)]
    pub scheduler_arrivals: u32,
    /// The open-loop run of the profile (the whole path): arrivals per second…
    #[arg(long, default_value_t = 50.0)]
    pub open_rate: f64,
    /// …and how many invocations (0 skips it).
    #[arg(long, default_value_t = 1000)]
    pub open_invocations: u32,
    /// Sequential invocations timed step by step for the overhead breakdown (local
    /// platform; 0 skips it).
    #[arg(long, default_value_t = 2000)]
    pub breakdown_invocations: u32,
    /// The redis-server the breakdown's invocations talk to.
    #[arg(long, default_value = "redis-server")]
    pub server_bin: String,
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
    // On the local platform: a process per activation, then warm processes (ActionLoop), as
    // two rows of the same run, so what keeping processes warm saves is measured, not claimed.
    let variants: Vec<(&str, crate::profile::Profile)> = match &base.platform {
        PlatformConfig::Local(_) => [false, true]
            .into_iter()
            .map(|warm| {
                let mut p = base.clone();
                p.platform = PlatformConfig::Local(LocalConfig { keep_warm: warm });
                let label = if warm {
                    "warm processes (platform.keep_warm = true)"
                } else {
                    "a process per activation (platform.keep_warm = false)"
                };
                (label, p)
            })
            .collect(),
        _ => vec![("", base.clone())],
    };
    let mut warm_p50 = Vec::new();
    for (label, profile) in &variants {
        if !label.is_empty() {
            println!("{label}:");
        }
        println!(
            "{:>12} {:>10} {:>14} {:>14} {:>14} {:>14}",
            "invocations", "failed", "overhead p50", "overhead p99", "inv/s", "peak RSS MiB"
        );
        let mut peaks = Vec::new();
        for n in sizes(args.invocations) {
            let r = run_once(profile, &opts, n).await?;
            peaks.push(r.peak_rss_mib);
            println!(
                "{n:>12} {:>10} {:>11.3} ms {:>11.3} ms {:>14.1} {:>14.1}",
                r.failed, r.overhead_p50_ms, r.overhead_p99_ms, r.invocations_per_s, r.peak_rss_mib
            );
            if n == args.invocations {
                warm_p50.push(r.overhead_p50_ms);
            }
        }
        if let [a, b] = peaks.as_slice() {
            println!(
                "peak memory after {}× more invocations: {:.2}× ({:+.1} MiB)",
                args.invocations / small,
                b / a.max(1.0),
                b - a
            );
        }
    }
    if let [cold, warm] = warm_p50.as_slice() {
        println!(
            "overhead p50, warm processes next to a process per activation: {:.3} ms vs {:.3} ms ({:.2}×); target p50 ≤ {ENGINE_TARGET_MS} ms: {}",
            warm,
            cold,
            warm / cold.max(f64::MIN_POSITIVE),
            if *warm <= ENGINE_TARGET_MS {
                "met"
            } else {
                "not met"
            }
        );
    }
    if matches!(base.platform, PlatformConfig::Local(_)) && args.breakdown_invocations > 0 {
        print_breakdown(&args, &base).await?;
    }
    open_loop(&args, &base, &opts).await?;
    Ok(Exit::Success)
}

/// Where the overhead goes, step by step, for both kinds of local process.
async fn print_breakdown(
    args: &EngineBenchArgs,
    base: &crate::profile::Profile,
) -> anyhow::Result<()> {
    println!(
        "\nwhere the overhead goes: {} sequential invocations straight on the local platform, {} records each, a throwaway redis-server (medians need not add up to the overhead's)",
        args.breakdown_invocations, args.records
    );
    let n = args.breakdown_invocations;
    let cold = breakdown(base, false, n, args.records, &args.server_bin).await?;
    let warm = breakdown(base, true, n, args.records, &args.server_bin).await?;
    println!(
        "{:<50} {:>24} {:>24}",
        "step (µs)", "process per activation", "warm processes"
    );
    println!(
        "{:<50} {:>11} {:>12} {:>11} {:>12}",
        "", "p50", "p99", "p50", "p99"
    );
    for (c, w) in cold.steps.iter().zip(&warm.steps) {
        println!(
            "{:<50} {:>11.1} {:>12.1} {:>11.1} {:>12.1}",
            c.step, c.p50_us, c.p99_us, w.p50_us, w.p99_us
        );
    }
    Ok(())
}

/// The open-loop scheduler's overhead per arrival against a bare interval, and how closely
/// it and a real open-loop run keep the target rate.
async fn open_loop(
    args: &EngineBenchArgs,
    base: &crate::profile::Profile,
    opts: &EngineBenchOptions,
) -> anyhow::Result<()> {
    crate::profile::check_rate(args.scheduler_rate)
        .and_then(|_| crate::profile::check_rate(args.open_rate))
        .map_err(|m| anyhow::anyhow!("--scheduler-rate/--open-rate: {m}"))?;
    if args.scheduler_arrivals < 2 {
        anyhow::bail!("--scheduler-arrivals needs at least 2");
    }
    let s = scheduler(args.scheduler_rate, args.scheduler_arrivals).await;
    println!(
        "\nopen-loop scheduler, no-op invocations: {} arrivals at {}/s",
        s.arrivals, s.rate
    );
    println!(
        "  CPU per arrival: {:.2} µs (baseline, a bare tokio interval at the same rate: {:.2} µs per tick; {:.2}×)",
        s.cpu_us_per_arrival,
        s.baseline_cpu_us_per_tick,
        s.cpu_us_per_arrival / s.baseline_cpu_us_per_tick.max(f64::MIN_POSITIVE)
    );
    println!(
        "  start delay after the intended time: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        s.start_delay_p50_ms, s.start_delay_p99_ms, s.start_delay_max_ms
    );
    println!(
        "  achieved {:.2}/s = {:.3}% of the target (baseline interval: {:.3}%)",
        s.achieved_rate,
        s.accuracy * 100.0,
        s.baseline_accuracy * 100.0
    );
    if args.open_invocations >= 2 {
        match open_run(base, opts, args.open_rate, args.open_invocations).await? {
            Some(o) => println!(
                "open-loop run of the profile: {} invocations at {}/s: achieved {:.2}/s = {:.3}% of the target, {} late starts, corrected p99 {:.2} ms, uncorrected p99 {:.2} ms",
                args.open_invocations,
                args.open_rate,
                o.achieved_rate,
                o.accuracy() * 100.0,
                o.late_starts,
                o.corrected_ms.p99,
                o.uncorrected_ms.p99
            ),
            None => println!("open-loop run of the profile: no open-loop figures recorded"),
        }
    }
    Ok(())
}
