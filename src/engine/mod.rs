//! The experiment engine: owns the Redis host and the platform, runs experiments and emits
//! [`EngineEvent`]s. It knows nothing of the UI: the TUI and the headless CLI both drive it
//! through [`EngineHandle`] and consume the same event stream.

mod experiment;
mod params;
mod summary;

pub use experiment::{RunOptions, RunOutcome, action_name, run_experiment};
pub use params::action_redis_host;
pub use summary::{SCHEMA_ID, host_json, stats_json};

use std::path::PathBuf;

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
                let task =
                    tokio::spawn(run_task(profile, opts.clone(), sink.clone(), token.clone()));
                current = Some((token, task));
            }
            EngineCommand::Share { profile } => {
                sink.warn(format!(
                    "the data-sharing experiment is not available yet (profile `{profile}`)"
                ));
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
                sink.info("results are written to results/ at the end of every run")
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

async fn run_task(profile: String, opts: EngineOptions, sink: EventSink, token: CancellationToken) {
    let loaded = find_profile(&profile).and_then(|mut p| opts.overrides.apply(&mut p).map(|()| p));
    let p = match loaded {
        Ok(p) => p,
        Err(e) => {
            sink.log(Level::Error, e.to_string());
            return;
        }
    };
    let run_opts = RunOptions {
        results_root: opts.results_root.clone(),
    };
    let clock = std::time::Instant::now();
    if let Err(e) = run_experiment(&p, &run_opts, &sink, token.clone()).await {
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
