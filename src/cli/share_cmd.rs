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
    #[arg(long, value_enum, conflicts_with = "via_gateway")]
    pub stop: Option<StopChoice>,
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
    if args.via_gateway {
        return via_gateway(&args, profile).await;
    }
    let (sink, events) = EventSink::new();
    let cancel = CancellationToken::new();
    let force = CancellationToken::new();
    let signals = super::signals::watch(&cancel, &force, "cancelling after the current cycle…")?;
    let printer = tokio::spawn(print_logs(events));
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

/// Log events to stderr, one line each.
async fn print_logs(mut events: tokio::sync::mpsc::UnboundedReceiver<EngineEvent>) {
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
}

/// `share --via-gateway`. Exit codes as for the matrix.
async fn via_gateway(
    args: &ShareArgs,
    mut profile: crate::profile::Profile,
) -> anyhow::Result<ExitCode> {
    use crate::gateway::share_study::{ShareGatewayOptions, share_gateway_text, share_via_gateway};
    if let Some(p) = args.persistence {
        profile.redis.persistence = p.persistence();
        if profile.redis.persistence == crate::profile::Persistence::None {
            // Nothing to snapshot (the profile check refuses this pairing too).
            profile.snapshots = None;
        }
    }
    let (sink, events) = EventSink::new();
    let cancel = CancellationToken::new();
    let force = CancellationToken::new();
    let signals = super::signals::watch(&cancel, &force, "cancelling after the current cycle…")?;
    let printer = tokio::spawn(print_logs(events));
    let opts = ShareGatewayOptions {
        runs: args.runs,
        keys: args.keys,
        value_size: args.value_size,
        results_root: args.results_dir.clone(),
    };
    let result = share_via_gateway(&profile, &opts, &sink, cancel).await;
    drop(sink);
    signals.stop();
    let _ = printer.await;
    let report = result?;
    match args.output {
        OutputFormat::Text => print!("{}", share_gateway_text(&report)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.cancelled {
        ExitCode::from(signals.exit_code())
    } else if !report.as_expected {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
