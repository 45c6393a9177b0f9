//! `redwhisk console` and `redwhisk` with no arguments: the TUI on a terminal, headless otherwise.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::engine::EngineOptions;
use crate::tui::{ConsoleOptions, run_console};

/// Open the console; without a terminal on stdout, fall back to the headless run.
pub async fn run(
    profile: Option<String>,
    results: Option<PathBuf>,
    fps: u32,
) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() {
        return headless(profile, results).await;
    }
    let opts = ConsoleOptions {
        profile,
        engine: EngineOptions {
            results_root: results,
            ..EngineOptions::default()
        },
        fps,
    };
    let last = run_console(opts).await?;
    if let Some(dir) = last {
        println!("last run's results: {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The headless mode used when stdout is not a terminal: `redwhisk run` on the same profile.
async fn headless(profile: Option<String>, results: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    eprintln!("stdout is not a terminal: running headless (`redwhisk run`)");
    super::run_cmd::run(super::run_cmd::RunArgs {
        profile,
        invocations: None,
        concurrency: None,
        records: None,
        value_size: None,
        mode: None,
        results_dir: results.unwrap_or_else(crate::results::default_root),
        output: super::OutputFormat::Text,
        via_gateway: false,
        think_time: None,
    })
    .await
}
