//! `redwhisk sweep`: case study 1 at each of a list of concurrencies, one table.

use std::path::PathBuf;
use std::process::ExitCode;

use super::OutputFormat;
use crate::engine::sweep::{run_sweep, sweep_text};
use crate::profile::{Overrides, default_profile, find_profile};

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
pub async fn run(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let profile = match &args.profile {
        Some(p) => find_profile(p)?,
        None => default_profile()?,
    };
    if args.concurrency.is_empty() {
        anyhow::bail!("--concurrency needs at least one value, e.g. --concurrency 1,2,4");
    }
    let profile = Overrides {
        invocations: args.invocations,
        records: args.records,
        ..Default::default()
    }
    .applied_to(&profile)?;
    // Each concurrency is checked against the same limits as workload.concurrency.
    for &c in &args.concurrency {
        Overrides {
            concurrency: Some(c),
            ..Default::default()
        }
        .applied_to(&profile)?;
    }
    let job = super::Headless::start(
        "cancelling the sweep after saving and stopping Redis…",
        "sweep:",
    )?;
    let result = run_sweep(
        &profile,
        &args.concurrency,
        &args.results_dir,
        &job.sink,
        job.cancel.clone(),
    )
    .await;
    let cancelled = job.finish().await;
    let report = result?;
    match args.output {
        OutputFormat::Text => print!("{}", sweep_text(&report)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.cancelled {
        ExitCode::from(cancelled.unwrap_or(130))
    } else {
        ExitCode::SUCCESS
    })
}
