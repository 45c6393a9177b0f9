//! `redwhisk sweep`: case study 1 at each of a list of concurrencies, one table.

use std::path::PathBuf;

use super::args::{OutputFormat, load_profile};
use super::exit::{Ending, Exit};
use super::headless::Headless;
use super::printer::Show;
use crate::engine::sweep::{run_sweep, sweep_text};
use crate::experiments::rate_sweep::{rate_sweep_text, run_rate_sweep};
use crate::profile::{Overrides, Profile};

/// Arguments of `redwhisk sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Profile name or path.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Concurrencies to run, in order, e.g. 1,2,4,8,16,32.
    #[arg(long, short, value_delimiter = ',', default_value = "1,2,4,8,16,32")]
    pub concurrency: Vec<u32>,
    /// Invocations per step (default: the profile's; never fewer than the step's concurrency).
    #[arg(long, short = 'n')]
    pub invocations: Option<u32>,
    /// Records per invocation (default: the profile's).
    #[arg(long, short)]
    pub records: Option<u32>,
    /// Open-loop rate sweep instead: arrival rates to run, in order, e.g. 5,10,20,40 (one run
    /// per rate); the saturation point is named. Needs --p99-bound-ms; -c does not apply.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "R,…",
        requires = "p99_bound_ms"
    )]
    pub rates: Vec<f64>,
    /// With --rates: the corrected p99 (ms) a rate must stay under to count as sustained.
    #[arg(long, value_name = "MS", requires = "rates")]
    pub p99_bound_ms: Option<f64>,
    /// With --rates: constant or Poisson arrivals (default: the profile's, else constant).
    #[arg(long, value_enum, requires = "rates")]
    pub arrivals: Option<super::run_cmd::ArrivalsArg>,
    /// With --rates: at most M invocations in flight (default: the profile's, else 64).
    #[arg(long, value_name = "M", requires = "rates")]
    pub max_in_flight: Option<u32>,
    /// With --rates: each step runs for D (rate × D invocations) instead of -n.
    #[arg(long, value_name = "D", value_parser = super::args::up_to_an_hour, requires = "rates", conflicts_with = "invocations")]
    pub duration: Option<std::time::Duration>,
    /// Emulated round-trip times between the functions and Redis, in ms, one run each, e.g.
    /// 0,0.1,0.25,0.5,1,2,5 (at the profile's concurrency; see docs/network-emulation.md).
    #[arg(long, value_delimiter = ',', conflicts_with = "concurrency", value_parser = super::rtt_sweep_cmd::rtt_ms)]
    pub rtt: Vec<f64>,
    /// With --rtt: name the RTT at which the function time crosses this many ms.
    #[arg(long, requires = "rtt", value_parser = super::rtt_sweep_cmd::budget_ms)]
    pub budget_ms: Option<f64>,
    /// sequential (one round trip per command, as the paper) or pipelined (default: the profile's).
    #[arg(long, value_enum)]
    pub mode: Option<super::run_cmd::ModeArg>,
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Exit codes: 0 every step ran; 130/143 cancelled (the finished steps are written); 1 an error.
pub async fn run(args: SweepArgs) -> anyhow::Result<Exit> {
    let overrides = Overrides {
        invocations: args.invocations,
        records: args.records,
        mode: args.mode.map(super::run_cmd::ModeArg::mode),
        ..Default::default()
    };
    let profile = load_profile(args.profile.as_deref(), &overrides)?;
    if !args.rates.is_empty() {
        if !args.rtt.is_empty() {
            anyhow::bail!("--rates and --rtt each run a sweep of their own: give one of them");
        }
        return rate_sweep(&args, &profile).await;
    }
    if !args.rtt.is_empty() {
        let rtt = super::rtt_sweep_cmd::RttSweepArgs {
            rtt: &args.rtt,
            budget_ms: args.budget_ms,
            results_dir: &args.results_dir,
            output: args.output,
        };
        return super::rtt_sweep_cmd::run(rtt, &profile).await;
    }
    if args.concurrency.is_empty() {
        anyhow::bail!("--concurrency needs at least one value, e.g. --concurrency 1,2,4");
    }
    // Each concurrency is checked against the same limits as workload.concurrency.
    for &c in &args.concurrency {
        Overrides {
            concurrency: Some(c),
            ..Default::default()
        }
        .applied_to(&profile)?;
    }
    let job = Headless::job(
        Show::logs("sweep:"),
        "cancelling the sweep after saving and stopping Redis…",
    )?;
    let result = run_sweep(
        &profile,
        &args.concurrency,
        &args.results_dir,
        &job.sink,
        job.cancel.clone(),
    )
    .await;
    let end = job.finish().await;
    let report = result?;
    args.output.print(&report, || sweep_text(&report))?;
    Ok(Exit::of(Ending {
        cancelled: report.cancelled,
        signal: end.signal,
        ..Ending::default()
    }))
}

/// `--rates`: one open-loop run per rate, each checked like `run --rate` before any starts.
async fn rate_sweep(args: &SweepArgs, profile: &Profile) -> anyhow::Result<Exit> {
    let bound = args.p99_bound_ms.unwrap_or_default();
    if !(bound.is_finite() && bound > 0.0) {
        anyhow::bail!("--p99-bound-ms takes milliseconds above 0, e.g. 250");
    }
    let steps = args
        .rates
        .iter()
        .map(|&rate| {
            Overrides {
                rate: Some(rate),
                arrivals: args.arrivals.map(super::run_cmd::ArrivalsArg::kind),
                max_in_flight: args.max_in_flight,
                duration: args.duration,
                ..Default::default()
            }
            .applied_to(profile)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let job = Headless::job(
        Show::logs("rate sweep:"),
        "cancelling the rate sweep after saving and stopping Redis…",
    )?;
    let result = run_rate_sweep(
        profile,
        &steps,
        bound,
        &args.results_dir,
        &job.sink,
        job.cancel.clone(),
    )
    .await;
    let end = job.finish().await;
    let report = result?;
    args.output.print(&report, || rate_sweep_text(&report))?;
    Ok(Exit::of(Ending {
        cancelled: report.cancelled,
        signal: end.signal,
        ..Ending::default()
    }))
}
