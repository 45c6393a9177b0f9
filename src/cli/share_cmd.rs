//! `redwhisk share`: case study 2, headless.

use std::path::PathBuf;

use super::args::{OutputFormat, load_profile};
use super::exit::{Ending, Exit};
use super::headless::Headless;
use super::printer::Show;
use crate::experiments::share::{ShareOptions, run_share};
use crate::profile::Overrides;
use crate::share::{PersistenceChoice, StopChoice, share_text_report};

/// Arguments of `redwhisk share`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShareArgs {
    /// Profile name or path (process or docker backend).
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Cycles per cell (the paper: 20).
    #[arg(long, default_value_t = 20)]
    pub runs: u32,
    /// One persistence mode; all four when absent.
    #[arg(long, value_enum)]
    pub persistence: Option<PersistenceArg>,
    /// One stop mode; both when absent.
    #[arg(long, value_enum, conflicts_with = "via_gateway")]
    pub stop: Option<StopArg>,
    /// Through the scale-to-zero gateway: per cycle the writer writes, the gateway saves and
    /// stops Redis after gateway.idle_ms without clients, and the reader's connection wakes it.
    /// Uses the profile's persistence, or --persistence.
    #[arg(long)]
    pub via_gateway: bool,
    /// Keys the writer stores per cycle.
    #[arg(long, default_value_t = 100)]
    pub keys: u32,
    /// Bytes per value.
    #[arg(long, default_value_t = 32)]
    pub value_size: u32,
    #[arg(long, default_value = crate::results::DEFAULT_ROOT)]
    pub results_dir: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `--persistence` (maps to [`PersistenceChoice`]; the library does not know clap).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PersistenceArg {
    None,
    Rdb,
    AofEverysec,
    AofAlways,
}

impl From<PersistenceArg> for PersistenceChoice {
    fn from(a: PersistenceArg) -> Self {
        match a {
            PersistenceArg::None => PersistenceChoice::None,
            PersistenceArg::Rdb => PersistenceChoice::Rdb,
            PersistenceArg::AofEverysec => PersistenceChoice::AofEverysec,
            PersistenceArg::AofAlways => PersistenceChoice::AofAlways,
        }
    }
}

/// `--stop` (maps to [`StopChoice`]).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StopArg {
    Graceful,
    Crash,
    /// The machine is lost: SIGKILL, then the data directory's persistence files are wiped, as
    /// on a new VM. Only with `--stop vm-loss` (not part of the default matrix).
    VmLoss,
}

impl From<StopArg> for StopChoice {
    fn from(a: StopArg) -> Self {
        match a {
            StopArg::Graceful => StopChoice::Graceful,
            StopArg::Crash => StopChoice::Crash,
            StopArg::VmLoss => StopChoice::VmLoss,
        }
    }
}

/// What a signal prints while the experiment is cancelled.
const CANCELLING: &str = "cancelling after the current cycle…";

/// Exit codes: 0 every cell behaved as expected; 2 a cell did not (the table says which);
/// 130 cancelled; 1 an error stopped the experiment.
pub async fn run(args: ShareArgs) -> anyhow::Result<Exit> {
    if args.runs == 0 || args.keys == 0 {
        anyhow::bail!("--runs and --keys must be at least 1");
    }
    crate::profile::VALUE_SIZE.check_flag(args.value_size)?;
    let profile = load_profile(args.profile.as_deref(), &Overrides::default())?;
    if args.via_gateway {
        return via_gateway(&args, profile).await;
    }
    let job = Headless::job(Show::logs(""), CANCELLING)?;
    let opts = ShareOptions {
        runs: args.runs,
        persistence: args.persistence.map(Into::into),
        stop: args.stop.map(Into::into),
        keys: args.keys,
        value_size: args.value_size,
        results_root: args.results_dir.clone(),
    };
    let result = run_share(&profile, &opts, &job.sink, job.cancel.clone()).await;
    let end = job.finish().await;
    let outcome = result?;
    match args.output {
        OutputFormat::Text => print!(
            "{}",
            share_text_report(&outcome.cells, &outcome.results_dir.display().to_string())
        ),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome.document)?),
    }
    Ok(Exit::of(Ending {
        cancelled: outcome.cancelled,
        signal: end.signal,
        failures: outcome.cells.iter().any(|c| !c.verdict.is_as_expected()),
        ..Ending::default()
    }))
}

/// `share --via-gateway`. Exit codes as for the matrix.
async fn via_gateway(
    args: &ShareArgs,
    mut profile: crate::profile::Profile,
) -> anyhow::Result<Exit> {
    use crate::experiments::gateway_share::{
        ShareGatewayOptions, share_gateway_text, share_via_gateway,
    };
    if let Some(p) = args.persistence {
        profile = profile.with_persistence(crate::profile::Persistence::from(
            PersistenceChoice::from(p),
        ));
    }
    let job = Headless::job(Show::logs(""), CANCELLING)?;
    let opts = ShareGatewayOptions {
        runs: args.runs,
        keys: args.keys,
        value_size: args.value_size,
        results_root: args.results_dir.clone(),
    };
    let result = share_via_gateway(&profile, &opts, &job.sink, job.cancel.clone()).await;
    let end = job.finish().await;
    let report = result?;
    args.output.print(&report, || share_gateway_text(&report))?;
    Ok(Exit::of(Ending {
        cancelled: report.cancelled,
        signal: end.signal,
        failures: !report.as_expected,
        ..Ending::default()
    }))
}

#[cfg(test)]
mod arg_tests {
    use super::*;
    use clap::ValueEnum;

    /// The flag values are the names the library uses in share.json (kebab-case).
    #[test]
    fn flag_values_map_to_the_same_names() {
        for a in PersistenceArg::value_variants() {
            let name = a.to_possible_value().unwrap().get_name().to_string();
            let choice = PersistenceChoice::from(*a);
            assert_eq!(name, choice.label());
            assert_eq!(serde_json::to_value(choice).unwrap(), name.as_str());
        }
        for a in StopArg::value_variants() {
            let name = a.to_possible_value().unwrap().get_name().to_string();
            let choice = StopChoice::from(*a);
            assert_eq!(serde_json::to_value(choice).unwrap(), name.as_str());
        }
        assert_eq!(
            PersistenceArg::value_variants().len(),
            PersistenceChoice::ALL.len()
        );
    }
}
