//! `redwhisk sweep`: case study 1 at each of a list of concurrencies, one table.

use std::path::PathBuf;

use super::args::{OutputFormat, load_profile};
use super::exit::{Ending, Exit};
use super::headless::Headless;
use super::printer::Show;
use crate::engine::sweep::{run_sweep, sweep_text};
use crate::profile::Overrides;

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
        ..Default::default()
    };
    let profile = load_profile(args.profile.as_deref(), &overrides)?;
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
