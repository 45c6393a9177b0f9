//! `redwhisk run`: case study 1, headless. Progress on stderr, the report on stdout.

use std::path::PathBuf;

use anyhow::Context;

use super::args::{OutputFormat, load_profile};
use super::exit::{Ending, Exit};
use super::headless::Headless;
use super::printer::Show;
use crate::engine::{EngineError, RunOptions, run_experiment};
use crate::event::Phase;
use crate::profile::{ArrivalKind, Mode, Overrides, Profile};
use crate::report::text_report;

/// Arguments of `redwhisk run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Profile name (searched in ./profiles and the config directory) or path to a .toml file.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Number of invocations (the paper: 100).
    #[arg(long, short = 'n', conflicts_with = "duration")]
    pub invocations: Option<u32>,
    /// Open loop: invocations arrive at R per second whether or not earlier ones finished;
    /// latency is reported from the intended start (corrected) and from the send.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Open loop: arrivals at a constant spacing or as a Poisson process (seeded by
    /// workload.seed).
    #[arg(long, value_enum)]
    pub arrivals: Option<ArrivalsArg>,
    /// Open loop: run for D (e.g. 30s, 2m) — rate × D invocations — instead of -n.
    #[arg(long, value_name = "D", value_parser = super::args::up_to_an_hour)]
    pub duration: Option<std::time::Duration>,
    /// Open loop: at most M invocations in flight; later arrivals wait (late starts).
    #[arg(long, value_name = "M")]
    pub max_in_flight: Option<u32>,
    /// Invocations in flight at once.
    #[arg(long, short)]
    pub concurrency: Option<u32>,
    /// Records written, read and deleted by each invocation (the paper: 1000).
    #[arg(long, short)]
    pub records: Option<u32>,
    /// Bytes per value.
    #[arg(long)]
    pub value_size: Option<u32>,
    /// sequential (one round trip per command, as the paper) or pipelined.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Where results directories go.
    #[arg(long, default_value = crate::results::DEFAULT_ROOT)]
    pub results_dir: PathBuf,
    /// Case study 3: actions connect to a scale-to-zero gateway (the profile's [gateway]) instead
    /// of Redis; the report tells, per invocation, whether it woke Redis and what that cost.
    #[arg(long)]
    pub via_gateway: bool,
    /// With --via-gateway: pause between invocations, e.g. 2s. Longer than gateway.idle_ms, every
    /// invocation wakes Redis inside its connect phase.
    #[arg(long, value_parser = super::args::up_to_an_hour, requires = "via_gateway")]
    pub think_time: Option<std::time::Duration>,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ArrivalsArg {
    Constant,
    Poisson,
}

impl ArrivalsArg {
    pub fn kind(self) -> ArrivalKind {
        match self {
            ArrivalsArg::Constant => ArrivalKind::Constant,
            ArrivalsArg::Poisson => ArrivalKind::Poisson,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
    Sequential,
    Pipelined,
}

impl ModeArg {
    pub fn mode(self) -> Mode {
        match self {
            ModeArg::Sequential => Mode::Sequential,
            ModeArg::Pipelined => Mode::Pipelined,
        }
    }
}

/// What a signal prints while a run is cancelled.
const CANCELLING: &str = "cancelling: stopping invocations, saving and stopping Redis…";

/// Exit codes: 0 all invocations succeeded; 2 some failed (results still written);
/// 3 Redis died or froze mid-run (partial results written); 4 the run finished but Redis did
/// not stop cleanly (run.json says why); 130 / 143 / 129 cancelled by SIGINT / SIGTERM /
/// SIGHUP (partial results written); 1 an error stopped the run.
pub async fn run(args: RunArgs) -> anyhow::Result<Exit> {
    let overrides = Overrides {
        invocations: args.invocations,
        concurrency: args.concurrency,
        records: args.records,
        value_size: args.value_size,
        mode: args.mode.map(ModeArg::mode),
        rate: args.rate,
        arrivals: args.arrivals.map(ArrivalsArg::kind),
        max_in_flight: args.max_in_flight,
        duration: args.duration,
        persistence: None,
        platform: None,
    };
    let profile = load_profile(args.profile.as_deref(), &overrides)?;
    if args.via_gateway {
        if profile.workload.open.is_some() {
            anyhow::bail!(
                "--via-gateway runs a closed loop with --think-time; drop --rate (or workload.rate) to run it"
            );
        }
        return via_gateway(&args, &profile).await;
    }
    let job = Headless::job(Show::run(profile.workload.invocations), CANCELLING)
        .context("cannot watch for signals")?;
    let opts = RunOptions {
        results_root: Some(args.results_dir.clone()),
        force: job.force.clone(),
    };
    let result = run_experiment(&profile, &opts, &job.sink, job.cancel.clone()).await;
    let end = job.finish().await;
    let outcome = match result {
        Ok(o) => o,
        // Cancelled before there were results (e.g. while Redis was starting), or failed after
        // a signal: still the signal's exit code.
        Err(e) if matches!(e, EngineError::Cancelled(_)) || end.signal.is_some() => {
            eprintln!("error: {}", e.chain());
            return Ok(Exit::Cancelled(end.signal));
        }
        Err(e) => return Err(e.into()),
    };
    let dir = outcome.results_dir.display().to_string();
    args.output
        .print(&outcome.summary, || text_report(&outcome.summary, &dir))?;
    Ok(Exit::of(Ending {
        cancelled: outcome.outcome == Phase::Cancelled,
        signal: end.signal,
        redis_lost: outcome.outcome == Phase::RedisLost,
        stop_failed: outcome.stop_error.is_some(),
        failures: outcome.summary.summary.failed > 0,
    }))
}

/// Case study 3: the same progress on stderr, the study's report on stdout.
async fn via_gateway(args: &RunArgs, profile: &Profile) -> anyhow::Result<Exit> {
    let job = Headless::job(Show::run(profile.workload.invocations), CANCELLING)
        .context("cannot watch for signals")?;
    let think = args.think_time.unwrap_or_default();
    let result = crate::experiments::gateway_study::run_via_gateway(
        profile,
        think,
        &args.results_dir,
        &job.sink,
        job.cancel.clone(),
    )
    .await;
    let end = job.finish().await;
    let report = result?;
    args.output.print(&report, || {
        crate::experiments::gateway_study::study_text(&report)
    })?;
    Ok(Exit::of(Ending {
        cancelled: report.cancelled,
        signal: end.signal,
        failures: report.failed > 0,
        ..Ending::default()
    }))
}
