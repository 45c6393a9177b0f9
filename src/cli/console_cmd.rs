//! `redwhisk console` and `redwhisk` with no arguments: the TUI on a terminal, headless otherwise.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::args::OutputFormat;
use super::exit::Exit;
use super::signals::{self, OnSignal};
use crate::engine::EngineOptions;
use crate::tui::{ConsoleOptions, run_console};

/// Open the console; without a terminal on stdout, fall back to the headless run.
pub async fn run(
    profile: Option<String>,
    results: Option<PathBuf>,
    fps: u32,
) -> anyhow::Result<Exit> {
    if !std::io::stdout().is_terminal() {
        return headless(profile, results).await;
    }
    // SIGTERM, SIGHUP (the SSH session went away) or SIGINT quit the console as `q` would,
    // then exit 143 / 129 / 130 as `run` does (README, "Faults and signals").
    let cancel = CancellationToken::new();
    let signals = signals::watch(&cancel, OnSignal::Quiet).context("cannot watch for signals")?;
    let opts = ConsoleOptions {
        profile,
        engine: EngineOptions {
            results_root: results,
            ..EngineOptions::default()
        },
        fps,
        cancel,
    };
    let last = run_console(opts).await?;
    if let Some(dir) = last {
        println!("last run's results: {}", dir.display());
    }
    Ok(match signals.signal() {
        Some(sig) => Exit::Cancelled(Some(sig)),
        None => Exit::Success,
    })
}

/// The headless mode used when stdout is not a terminal: `redwhisk run` on the same profile.
async fn headless(profile: Option<String>, results: Option<PathBuf>) -> anyhow::Result<Exit> {
    eprintln!("stdout is not a terminal: running headless (`redwhisk run`)");
    super::run_cmd::run(super::run_cmd::RunArgs {
        profile,
        invocations: None,
        rate: None,
        arrivals: None,
        duration: None,
        max_in_flight: None,
        concurrency: None,
        records: None,
        value_size: None,
        mode: None,
        results_dir: results.unwrap_or_else(crate::results::default_root),
        output: OutputFormat::Text,
        via_gateway: false,
        think_time: None,
    })
    .await
}
