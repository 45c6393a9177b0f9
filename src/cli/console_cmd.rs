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

/// The headless mode used when stdout is not a terminal.
///
/// LEAD: point this at `cli::run_cmd::run(...)` with the same profile and results root once the
/// `run` command lands; until then it says what to do instead of guessing.
async fn headless(profile: Option<String>, _results: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "stdout is not a terminal, so the console cannot open; run `redwhisk run{}` for the headless mode",
        profile
            .map(|p| format!(" --profile {p}"))
            .unwrap_or_default()
    )
}
