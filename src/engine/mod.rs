//! The experiment engine: owns the Redis host and the platform, runs experiments and emits
//! [`EngineEvent`]s. It knows nothing of the UI: the TUI and the headless CLI both drive it
//! through [`EngineHandle`] and consume the same event stream.

mod experiment;
mod export;
mod params;
mod summary;

pub use experiment::{RunOptions, RunOutcome, action_name, run_experiment};
pub use params::action_redis_host;
pub use summary::{SCHEMA_ID, build_summary, profile_record, stats_summary};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::event::{EngineCommand, EngineEvent, EventSink, Level};
use crate::profile::{Overrides, find_profile};
use crate::redis_host::{RedisHost, StopMode};

/// Where commands go. Dropping every handle stops the engine (like `Shutdown`).
#[derive(Debug, Clone)]
pub struct EngineHandle {
    tx: mpsc::UnboundedSender<EngineCommand>,
}

impl EngineHandle {
    /// Queue a command; a stopped engine ignores it.
    pub fn send(&self, cmd: EngineCommand) {
        let _ignored_when_engine_stopped = self.tx.send(cmd);
    }
}

/// Settings shared by every run the engine starts.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub overrides: Overrides,
    /// Root of the results directories (default `results/`).
    pub results_root: Option<PathBuf>,
}

/// Start the engine task. Returns the command handle, the event stream and the task, which
/// ends after `Shutdown` once any run was cancelled and its Redis stopped.
pub fn spawn_engine(
    opts: EngineOptions,
) -> (
    EngineHandle,
    mpsc::UnboundedReceiver<EngineEvent>,
    JoinHandle<()>,
) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (sink, events) = EventSink::new();
    let task = tokio::spawn(engine_loop(opts, cmd_rx, sink));
    (EngineHandle { tx: cmd_tx }, events, task)
}

async fn engine_loop(
    opts: EngineOptions,
    mut commands: mpsc::UnboundedReceiver<EngineCommand>,
    sink: EventSink,
) {
    let mut current: Option<(CancellationToken, JoinHandle<()>)> = None;
    let last_results: LastResults = Arc::default();
    while let Some(cmd) = commands.recv().await {
        if current.as_ref().is_some_and(|(_, task)| task.is_finished()) {
            current = None;
        }
        match cmd {
            EngineCommand::Run { profile } | EngineCommand::Share { profile }
                if current.is_some() =>
            {
                sink.warn(format!(
                    "a run is already active; not starting another for `{profile}`"
                ));
            }
            EngineCommand::Run { profile } => {
                let token = CancellationToken::new();
                let task = run_task(
                    profile,
                    opts.clone(),
                    sink.clone(),
                    token.clone(),
                    last_results.clone(),
                );
                current = Some((token, tokio::spawn(task)));
            }
            EngineCommand::Share { profile } => {
                let token = CancellationToken::new();
                let task = share_task(
                    profile,
                    opts.clone(),
                    sink.clone(),
                    token.clone(),
                    last_results.clone(),
                );
                current = Some((token, tokio::spawn(task)));
            }
            EngineCommand::Cancel => match &current {
                Some((token, _)) => {
                    sink.info("cancelling: stopping invocations, then saving and stopping Redis");
                    token.cancel();
                }
                None => sink.info("nothing to cancel"),
            },
            EngineCommand::RedisUp { profile } => {
                if current.is_some() {
                    sink.warn("a run owns Redis right now; wait for it to finish");
                } else {
                    redis_op(&profile, true, &sink).await;
                }
            }
            EngineCommand::RedisDown { profile } => {
                if current.is_some() {
                    sink.warn("a run owns Redis right now; cancel it with `x` first");
                } else {
                    redis_op(&profile, false, &sink).await;
                }
            }
            EngineCommand::RedisStatus { profile } => {
                if let Ok(p) = find_profile(&profile)
                    && let Ok(host) = RedisHost::new(&p)
                    && let Ok(st) = host.status().await
                {
                    sink.send(EngineEvent::RedisStatus(st));
                }
            }
            EngineCommand::Export => {
                let last = last_results.lock().ok().and_then(|g| g.clone());
                match last {
                    Some(dir) => {
                        match tokio::task::spawn_blocking(move || export::zip_dir(&dir)).await {
                            Ok(Ok(zip)) => {
                                sink.info(format!("exported the last run to {}", zip.display()))
                            }
                            Ok(Err(e)) => sink.log(Level::Error, format!("export failed: {e}")),
                            Err(e) => sink.log(Level::Error, format!("export failed: {e}")),
                        }
                    }
                    None => sink.warn("no finished run to export yet: press r to run first"),
                }
            }
            EngineCommand::Shutdown => break,
        }
    }
    if let Some((token, task)) = current {
        token.cancel();
        if let Err(e) = task.await {
            sink.log(Level::Error, format!("the run task ended abnormally: {e}"));
        }
    }
}

/// The results directory of the last finished run or share experiment (for Export).
type LastResults = Arc<Mutex<Option<PathBuf>>>;

fn remember(last: &LastResults, dir: PathBuf) {
    if let Ok(mut g) = last.lock() {
        *g = Some(dir);
    }
}

async fn share_task(
    profile: String,
    opts: EngineOptions,
    sink: EventSink,
    token: CancellationToken,
    last: LastResults,
) {
    let clock = std::time::Instant::now();
    let share_opts = crate::share::ShareOptions {
        runs: 20,
        persistence: None,
        stop: None,
        keys: 100,
        value_size: 32,
        results_root: opts
            .results_root
            .clone()
            .unwrap_or_else(|| PathBuf::from("results")),
    };
    let result = match find_profile(&profile) {
        Ok(p) => crate::share::run_share(&p, &share_opts, &sink, token.clone()).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(out) => {
            let outcome = if out.cancelled {
                crate::event::Phase::Cancelled
            } else {
                crate::event::Phase::Done
            };
            finished(&sink, &last, out.results_dir, outcome, clock)
        }
        Err(e) => finished_with_error(&sink, &e, &token, clock),
    }
}

/// Remember the results for Export first, then tell the consumers the run is over.
fn finished(
    sink: &EventSink,
    last: &LastResults,
    dir: PathBuf,
    outcome: crate::event::Phase,
    clock: std::time::Instant,
) {
    remember(last, dir.clone());
    sink.send(EngineEvent::RunFinished {
        outcome,
        results_dir: Some(dir),
        elapsed: clock.elapsed(),
    });
}

fn finished_with_error(
    sink: &EventSink,
    e: &anyhow::Error,
    token: &CancellationToken,
    clock: std::time::Instant,
) {
    sink.log(Level::Error, format!("{e:#}"));
    // Consumers learn that the run is over even when it ended before its results existed.
    let outcome = if token.is_cancelled() {
        crate::event::Phase::Cancelled
    } else {
        crate::event::Phase::Failed
    };
    sink.send(EngineEvent::RunFinished {
        outcome,
        results_dir: None,
        elapsed: clock.elapsed(),
    });
}

async fn run_task(
    profile: String,
    opts: EngineOptions,
    sink: EventSink,
    token: CancellationToken,
    last: LastResults,
) {
    let loaded = find_profile(&profile).and_then(|mut p| opts.overrides.apply(&mut p).map(|()| p));
    let clock = std::time::Instant::now();
    let p = match loaded {
        Ok(p) => p,
        Err(e) => return finished_with_error(&sink, &e.into(), &token, clock),
    };
    let run_opts = RunOptions {
        results_root: opts.results_root.clone(),
        ..Default::default()
    };
    match run_experiment(&p, &run_opts, &sink, token.clone()).await {
        Ok(out) => finished(&sink, &last, out.results_dir, out.outcome, clock),
        Err(e) => finished_with_error(&sink, &e, &token, clock),
    }
}

async fn redis_op(profile: &str, up: bool, sink: &EventSink) {
    let result = async {
        let p = find_profile(profile)?;
        let mut host = RedisHost::new(&p)?;
        if up {
            let ep = host.up(sink).await?;
            sink.info(format!("redis up at {}", ep.display_url()));
        } else {
            let r = host.down(StopMode::Graceful, sink).await?;
            sink.info(format!("redis down ({:.1} ms)", r.total_ms));
        }
        if let Ok(st) = host.status().await {
            sink.send(EngineEvent::RedisStatus(st));
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        sink.log(Level::Error, format!("{e:#}"));
    }
}
