//! `redwhisk share`: case study 2, headless.

use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::OutputFormat;
use crate::event::{EngineEvent, EventSink, Level};
use crate::profile::{default_profile, find_profile};
use crate::share::{PersistenceChoice, ShareOptions, StopChoice, run_share, share_text_report};

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
    pub persistence: Option<PersistenceChoice>,
    /// One stop mode; both when absent.
    #[arg(long, value_enum)]
    pub stop: Option<StopChoice>,
    /// Keys the writer stores per cycle.
    #[arg(long, default_value_t = 100)]
    pub keys: u32,
    /// Bytes per value.
    #[arg(long, default_value_t = 32)]
    pub value_size: u32,
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Exit codes: 0 every cell behaved as expected; 2 a cell did not (the table says which);
/// 130 cancelled; 1 an error stopped the experiment.
pub async fn run(args: ShareArgs) -> anyhow::Result<ExitCode> {
    if args.runs == 0 || args.keys == 0 {
        anyhow::bail!("--runs and --keys must be at least 1");
    }
    crate::profile::VALUE_SIZE.check_flag(args.value_size)?;
    let profile = match &args.profile {
        Some(p) => find_profile(p)?,
        None => default_profile()?,
    };
    let (sink, mut events) = EventSink::new();
    let cancel = CancellationToken::new();
    let force = CancellationToken::new();
    let signals = super::signals::watch(&cancel, &force, "cancelling after the current cycle…")?;
    let printer = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if let EngineEvent::Log { level, message } = ev {
                let tag = match level {
                    Level::Info => "info",
                    Level::Warn => "warn",
                    Level::Error => "error",
                };
                eprintln!("{tag}: {message}");
            }
        }
    });
    let opts = ShareOptions {
        runs: args.runs,
        persistence: args.persistence,
        stop: args.stop,
        keys: args.keys,
        value_size: args.value_size,
        results_root: args.results_dir.clone(),
    };
    let result = run_share(&profile, &opts, &sink, cancel).await;
    drop(sink);
    signals.stop();
    let _ = printer.await;
    let outcome = result?;
    match args.output {
        OutputFormat::Text => print!(
            "{}",
            share_text_report(&outcome.cells, &outcome.results_dir.display().to_string())
        ),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome.document)?),
    }
    let unexpected = outcome.cells.iter().any(|c| !c.verdict.is_as_expected());
    Ok(if outcome.cancelled {
        ExitCode::from(signals.exit_code())
    } else if unexpected {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
