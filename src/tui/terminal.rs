//! Opening the real terminal: profiles, engine, raw mode and the alternate screen, signals, and
//! restoring everything on every way out (normal, error, signal, panic).

use std::path::PathBuf;

use chrono::Utc;
use crossterm::event::EventStream;
use tokio_util::sync::CancellationToken;

use super::app::App;
use super::error::TuiError;
use super::event_loop::{EngineLink, run_loop};
use super::state::ProfileItem;
use super::theme::Theme;
use crate::engine::{EngineOptions, spawn_engine};
use crate::event::EngineCommand;
use crate::profile::{find_profile, list_profiles};

/// What `redwhisk console` was asked for.
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// The profile selected at start (a name or a path); `local` when not given.
    pub profile: Option<String>,
    pub engine: EngineOptions,
    /// Frames per second.
    pub fps: u32,
    /// Cancelled by the caller (on SIGINT, SIGTERM or SIGHUP): the console quits as if `q`
    /// had been confirmed. The console sets up no signal handling of its own.
    pub cancel: CancellationToken,
}

/// Leaves raw mode and the alternate screen when dropped, so early returns restore too. The
/// panic hook installed by `ratatui::try_init` covers panics.
///
/// The screen is cleared first: a terminal without an alternate screen (tmux with
/// `alternate-screen off`, some serial consoles, a pane resized on the way) would otherwise keep
/// the last frame, or the part of it the resize left, above the shell's prompt.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        use crossterm::{cursor::MoveTo, execute, terminal::Clear, terminal::ClearType};
        // Best effort: the terminal may be gone (a closed session); restoring still runs.
        let _ignored = execute!(std::io::stdout(), Clear(ClearType::All), MoveTo(0, 0));
        ratatui::restore();
    }
}

/// The profiles to show and which one is selected. Reads the profile files once, before the
/// terminal is taken over, so a bad `--profile` is a plain error.
fn load_profiles(wanted: Option<&str>) -> Result<(Vec<ProfileItem>, usize), TuiError> {
    let mut items: Vec<ProfileItem> = list_profiles().into_iter().map(ProfileItem::from).collect();
    let wanted = wanted.unwrap_or("local");
    if let Some(i) = items.iter().position(|p| p.name == wanted) {
        return Ok((items, i));
    }
    // A path or a name outside the listed directories: load it to fail early with its error.
    let profile = find_profile(wanted).map_err(TuiError::Profile)?;
    let entry = crate::profile::ProfileEntry {
        name: wanted.to_string(),
        path: profile.source.clone(),
        profile: Ok(profile),
    };
    items.push(ProfileItem::from(entry));
    let last = items.len() - 1;
    Ok((items, last))
}

/// Open the console on the terminal and run it until the user quits. Returns the last run's
/// results directory, if any, for the caller to print once the terminal is restored.
pub async fn run_console(opts: ConsoleOptions) -> Result<Option<PathBuf>, TuiError> {
    let (profiles, selected) = load_profiles(opts.profile.as_deref())?;
    let mut app = App::new(profiles, selected, Theme::from_env(), Utc::now());
    if let Some(root) = &opts.engine.results_root {
        app.results_root.clone_from(root);
    }
    let (engine, mut events, mut task) = spawn_engine(opts.engine.clone());
    engine.send(EngineCommand::RedisStatus {
        profile: app.selected_name().to_string(),
    });

    let result = match ratatui::try_init() {
        Ok(mut terminal) => {
            let _restore = Restore;
            run_loop(
                &mut terminal,
                &mut app,
                EventStream::new(),
                EngineLink {
                    commands: &engine,
                    events: &mut events,
                    task: &mut task,
                },
                &opts.cancel,
                opts.fps,
                Utc::now,
            )
            .await
        }
        Err(e) => {
            ratatui::restore();
            Err(TuiError::Terminal(e))
        }
    };
    if result.is_err() && !task.is_finished() {
        // The terminal is restored by now; still stop the engine so Redis is saved and stopped.
        engine.send(EngineCommand::Shutdown);
        (&mut task).await.map_err(TuiError::Engine)?;
    }
    result.map(|()| app.last_results)
}
