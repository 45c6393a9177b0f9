//! The experiment engine: owns the Redis host and the platform, runs experiments and emits
//! [`EngineEvent`]s. It knows nothing of the UI: the TUI and the headless CLI both drive it
//! through [`EngineHandle`] and consume the same event stream.

mod export;
pub mod library;
pub mod procs;

pub use crate::experiments::{
    BoxError, Context, EngineError, EngineResult, RunOptions, RunOutcome, action_name,
    action_redis_host, bench_params, chain, failover, rtt_sweep, run_experiment, sweep,
};
pub use crate::results::{SCHEMA_ID, build_summary, profile_record, stats_summary};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::event::{EngineCommand, EngineEvent, EventSink, Level};
use crate::profile::{Overrides, Profile, ProfileError, find_profile};
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

/// A task the loop started and can cancel: a Redis up/down.
type Job = (CancellationToken, JoinHandle<()>);

/// A run, share experiment or sweep: its token, its task (which returns the `RunFinished`
/// the loop sends once it has let go of the job, so a consumer that starts the next run on
/// that event is never refused as "already active"), and when it started.
struct RunJob {
    token: CancellationToken,
    task: JoinHandle<EngineEvent>,
    clock: std::time::Instant,
}

/// The end of the current run; never, when there is none.
async fn run_ended(job: &mut Option<RunJob>) -> Result<EngineEvent, tokio::task::JoinError> {
    match job {
        Some(j) => (&mut j.task).await,
        None => std::future::pending().await,
    }
}

/// The `RunFinished` of a run task that ended without returning one (it panicked).
fn ended_abnormally(
    sink: &EventSink,
    e: &tokio::task::JoinError,
    clock: std::time::Instant,
) -> EngineEvent {
    sink.log(Level::Error, format!("the run task ended abnormally: {e}"));
    EngineEvent::RunFinished {
        outcome: crate::event::Phase::Failed,
        results_dir: None,
        elapsed: clock.elapsed(),
    }
}

fn active(job: &mut Option<Job>) -> bool {
    if job.as_ref().is_some_and(|(_, task)| task.is_finished()) {
        *job = None;
    }
    job.is_some()
}

/// The gateway the console serves: its profile, and the task to cancel.
type GatewayJob = (String, CancellationToken, JoinHandle<()>);

/// Open connections get this long to finish when the console stops its gateway.
const GATEWAY_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Profiles whose Redis this console started with `u` (and has not stopped since): quitting
/// saves and stops them, as the console owns them.
type Started = Arc<Mutex<BTreeMap<String, Profile>>>;

/// What is going on when a command arrives.
struct Busy<'a> {
    /// A run, share or sweep is active.
    running: bool,
    /// A Redis up/down is in progress.
    redis: bool,
    /// The profile the console's gateway serves.
    gateway: Option<&'a str>,
    started: &'a Started,
}

/// Why a command cannot be carried out now (told to the user as a warning), if it cannot.
fn refusal(cmd: &EngineCommand, b: &Busy<'_>) -> Option<String> {
    use EngineCommand::{
        GatewayStart, RateSweep, RedisDown, RedisUp, RttSweep, Run, RunLoop, Share, Sweep,
    };
    match cmd {
        Run { profile }
        | RunLoop { profile, .. }
        | Share { profile }
        | Sweep { profile }
        | RateSweep { profile }
        | RttSweep { profile }
        | RedisUp { profile }
        | RedisDown { profile }
            if b.gateway == Some(profile.as_str()) =>
        {
            Some(format!(
                "the gateway owns the Redis of `{profile}` (it starts and stops it); press g to stop the gateway first (runs through it: `redwhisk run --via-gateway`)"
            ))
        }
        GatewayStart { profile } => {
            if let Some(serving) = b.gateway {
                Some(format!(
                    "a gateway already serves `{serving}`; press g to stop it before starting one for `{profile}`"
                ))
            } else if b.running || b.redis {
                Some(format!(
                    "a run or a Redis operation is active; start the gateway for `{profile}` once it ends"
                ))
            } else if b.started.lock().is_ok_and(|g| g.contains_key(profile)) {
                Some(format!(
                    "the Redis of `{profile}` was started with u; press d to save and stop it, then g"
                ))
            } else {
                None
            }
        }
        Run { profile }
        | RunLoop { profile, .. }
        | Share { profile }
        | Sweep { profile }
        | RateSweep { profile }
        | RttSweep { profile }
            if b.running =>
        {
            Some(format!(
                "a run is already active; not starting another for `{profile}`"
            ))
        }
        Run { profile }
        | RunLoop { profile, .. }
        | Share { profile }
        | Sweep { profile }
        | RateSweep { profile }
        | RttSweep { profile }
            if b.redis =>
        {
            Some(format!(
                "Redis is being started or stopped; not starting a run for `{profile}` yet"
            ))
        }
        RedisUp { .. } | RedisDown { .. } if b.running => {
            Some("a run owns Redis right now; wait for it to finish or cancel it with `x`".into())
        }
        RedisUp { .. } | RedisDown { .. } if b.redis => {
            Some("a Redis operation is in progress; wait for it or cancel it with `x`".into())
        }
        _ => None,
    }
}

/// `u` / `d`: read the profile and start the operation as a task that can be cancelled.
fn start_redis_op(profile: String, up: bool, sink: &EventSink, started: &Started) -> Option<Job> {
    match load(&profile, None) {
        Ok(p) => {
            let token = CancellationToken::new();
            let task = redis_op(profile, p, up, sink.clone(), token.clone(), started.clone());
            Some((token, tokio::spawn(task)))
        }
        Err(e) => {
            sink.log(Level::Error, EngineError::from(e).chain());
            None
        }
    }
}

/// The one place the engine reads a command's profile: found by name or path, validated,
/// and (for runs and sweeps) with the engine's command-line overrides applied. Every task
/// gets the validated value; nothing re-reads it.
/// The command line's overrides with the console's edit of the profile's workload on top.
fn edited(base: &Overrides, edit: Option<&crate::model::workload::WorkloadEdit>) -> Overrides {
    let mut o = base.clone();
    if let Some(e) = edit {
        o.invocations = e.invocations.or(o.invocations);
        o.concurrency = e.concurrency.or(o.concurrency);
        o.records = e.records.or(o.records);
        o.mode = e.mode.or(o.mode);
        o.persistence = e.persistence.or(o.persistence);
        o.platform = e.platform.or(o.platform);
    }
    o
}

fn load(name: &str, overrides: Option<&Overrides>) -> Result<Profile, ProfileError> {
    let p = find_profile(name)?;
    match overrides {
        Some(o) => o.applied_to(&p),
        None => Ok(p),
    }
}

async fn engine_loop(
    opts: EngineOptions,
    mut commands: mpsc::UnboundedReceiver<EngineCommand>,
    sink: EventSink,
) {
    let mut current: Option<RunJob> = None;
    let mut redis: Option<Job> = None;
    let mut gateway: Option<GatewayJob> = None;
    let started: Started = Arc::default();
    let last_results: LastResults = Arc::default();
    // The console's workload edits, per profile, over the command line's overrides.
    let mut edits: std::collections::HashMap<String, crate::model::workload::WorkloadEdit> =
        std::collections::HashMap::new();
    loop {
        let cmd = tokio::select! {
            // A finished run first: its slot is free before its end is announced.
            biased;
            ended = run_ended(&mut current) => {
                let clock = current.take().map_or_else(std::time::Instant::now, |j| j.clock);
                sink.send(ended.unwrap_or_else(|e| ended_abnormally(&sink, &e, clock)));
                continue;
            }
            cmd = commands.recv() => match cmd {
                Some(cmd) => cmd,
                None => break,
            },
        };
        if gateway.as_ref().is_some_and(|(_, _, t)| t.is_finished()) {
            gateway = None;
        }
        let busy = Busy {
            running: current.is_some(),
            redis: active(&mut redis),
            gateway: gateway.as_ref().map(|(g, _, _)| g.as_str()),
            started: &started,
        };
        if let Some(why) = refusal(&cmd, &busy) {
            sink.warn(why);
            continue;
        }
        match cmd {
            EngineCommand::GatewayStart { profile } => match load(&profile, None) {
                Ok(p) => {
                    let token = CancellationToken::new();
                    let task = tokio::spawn(gateway_task(p, sink.clone(), token.clone()));
                    gateway = Some((profile, token, task));
                }
                Err(e) => sink.log(
                    Level::Error,
                    format!("gateway for `{profile}`: {}", EngineError::from(e).chain()),
                ),
            },
            EngineCommand::GatewayStop => match &gateway {
                Some((profile, token, _)) => {
                    sink.info(format!(
                        "stopping the gateway of `{profile}`: open connections get {} s, then Redis is saved and stopped",
                        GATEWAY_GRACE.as_secs()
                    ));
                    token.cancel();
                }
                None => sink
                    .info("no gateway is running; press g to start one for the selected profile"),
            },
            EngineCommand::Run { profile } => {
                let p = load(
                    &profile,
                    Some(&edited(&opts.overrides, edits.get(&profile))),
                );
                current = Some(start_job(run_task, p, &opts, &sink, &last_results));
            }
            EngineCommand::RunLoop { profile, rate } => {
                let p = load(
                    &profile,
                    Some(&edited(&opts.overrides, edits.get(&profile))),
                )
                .map(|p| match rate {
                    Some(r) => p.with_rate(f64::from(r)),
                    None => p.closed_loop(),
                });
                current = Some(start_job(run_task, p, &opts, &sink, &last_results));
            }
            EngineCommand::Sweep { profile } => {
                let p = load(
                    &profile,
                    Some(&edited(&opts.overrides, edits.get(&profile))),
                );
                current = Some(start_job(sweep_task, p, &opts, &sink, &last_results));
            }
            EngineCommand::RttSweep { profile } => {
                let p = load(
                    &profile,
                    Some(&edited(&opts.overrides, edits.get(&profile))),
                );
                current = Some(start_job(rtt_sweep_task, p, &opts, &sink, &last_results));
            }
            EngineCommand::RateSweep { profile } => {
                let p = load(
                    &profile,
                    Some(&edited(&opts.overrides, edits.get(&profile))),
                );
                current = Some(start_job(rate_sweep_task, p, &opts, &sink, &last_results));
            }
            EngineCommand::Share { profile } => {
                let p = load(&profile, None);
                current = Some(start_job(share_task, p, &opts, &sink, &last_results));
            }
            EngineCommand::Cancel => match (&current, &redis) {
                (Some(RunJob { token, .. }), _) => {
                    sink.info("cancelling: stopping invocations, then saving and stopping Redis");
                    token.cancel();
                }
                (None, Some((token, _))) => {
                    sink.info("cancelling the Redis operation");
                    token.cancel();
                }
                (None, None) => sink.info("nothing to cancel"),
            },
            EngineCommand::RedisUp { profile } => {
                redis = start_redis_op(profile, true, &sink, &started);
            }
            EngineCommand::RedisDown { profile } => {
                redis = start_redis_op(profile, false, &sink, &started);
            }
            EngineCommand::RedisStatus { profile } => {
                // Spawned: a status query never holds up the next command. A profile that
                // cannot be read has no status to show (its run or `u` says why).
                if let Ok(p) = load(&profile, None) {
                    tokio::spawn(redis_status(p, sink.clone()));
                }
            }
            EngineCommand::EditWorkload { profile, edit } => {
                if edit == crate::model::workload::WorkloadEdit::default() {
                    edits.remove(&profile);
                } else {
                    edits.insert(profile, edit);
                }
            }
            EngineCommand::SaveWorkload { profile, mut edit } => {
                let loaded = load(&profile, None);
                // A switch to or from a remote platform cannot be written without dropping
                // or inventing its settings: it stays an edit of the next runs.
                let kept = match (&loaded, edit.platform) {
                    (Ok(p), Some(c)) if !c.is_local() || !p.platform.choice().is_local() => {
                        edit.platform = None;
                        Some(crate::model::workload::WorkloadEdit {
                            platform: Some(c),
                            ..Default::default()
                        })
                    }
                    _ => None,
                };
                match loaded.map(|p| p.source) {
                    Ok(Some(path)) => match crate::profile::save_workload(&path, &edit) {
                        Ok(()) => {
                            // The file holds the values now: nothing left to lay over it but
                            // a platform it cannot hold.
                            match kept {
                                Some(k) => {
                                    sink.warn(format!(
                                        "the platform {} is used for the next runs of `{profile}` but not saved: the file's [platform] keeps its own kind and settings (edit it to switch for good)",
                                        k.platform.map_or("", |c| c.as_str())
                                    ));
                                    edits.insert(profile.clone(), k);
                                }
                                None => {
                                    edits.remove(&profile);
                                }
                            }
                            sink.info(format!(
                                "saved the workload of `{profile}` into {} (comments and other settings kept)",
                                path.display()
                            ));
                        }
                        Err(e) => sink.log(
                            crate::event::Level::Error,
                            format!("the workload was not saved (the file is unchanged): {e}"),
                        ),
                    },
                    Ok(None) => {
                        edit.platform = edit.platform.or(kept.and_then(|k| k.platform));
                        edits.insert(profile.clone(), edit);
                        sink.warn(format!(
                            "`{profile}` is the embedded default and has no file to save into: copy profiles/local.toml into your profiles directory and edit that (the values are used for the next runs)"
                        ));
                    }
                    Err(e) => sink.log(
                        crate::event::Level::Error,
                        format!("the workload was not saved: {e}"),
                    ),
                }
            }
            EngineCommand::SampleProcesses {
                redis_pid,
                containers,
                functions,
            } => {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let Ok(mut snap) =
                        tokio::task::spawn_blocking(move || procs::sample(redis_pid)).await
                    else {
                        return;
                    };
                    // A daemon that is gone or does not answer leaves the rows out, not the
                    // pane: reaching it is bounded like one sample, and so is each row.
                    let deadline = crate::redis_host::stats::STATS_DEADLINE;
                    if (!containers.is_empty() || functions)
                        && let Ok(Ok(docker)) =
                            tokio::time::timeout(deadline, crate::redis_host::docker_connect())
                                .await
                    {
                        let mut wanted: Vec<(String, String, &'static str)> = containers
                            .into_iter()
                            .map(|c| (c.clone(), c, "docker"))
                            .collect();
                        if functions {
                            // Bounded like a sample: a frozen daemon costs one deadline.
                            let listed = tokio::time::timeout(
                                crate::redis_host::stats::STATS_DEADLINE,
                                crate::platform::lambda::emulator::function_containers(&docker),
                            )
                            .await
                            .unwrap_or_default();
                            wanted.extend(
                                listed.into_iter().map(|(id, shown)| (id, shown, "lambda")),
                            );
                        }
                        // All rows at once: a run with eight function containers costs
                        // one stats round trip of time, not eight (and one deadline at most).
                        let rows =
                            futures::future::join_all(wanted.iter().map(|(id, shown, role)| {
                                crate::redis_host::stats::container_sample(
                                    &docker,
                                    id,
                                    shown,
                                    role,
                                    snap.ticks_per_s,
                                )
                            }))
                            .await;
                        snap.processes.extend(rows.into_iter().flatten());
                    }
                    sink.send(EngineEvent::Processes(Box::new(snap)));
                });
            }
            EngineCommand::Export => {
                let last = last_results.lock().ok().and_then(|g| g.clone());
                match last {
                    Some(dir) => {
                        tokio::spawn(export_task(dir, sink.clone()));
                    }
                    None => sink.warn("no finished run to export yet: press r to run first"),
                }
            }
            EngineCommand::ListResults => {
                let root = opts
                    .results_root
                    .clone()
                    .unwrap_or_else(crate::results::default_root);
                tokio::spawn(library::list_task(root, sink.clone()));
            }
            EngineCommand::OpenResult { dir } => {
                tokio::spawn(library::open_task(dir, sink.clone()));
            }
            EngineCommand::CompareResults { a, b } => {
                tokio::spawn(library::compare_task(a, b, sink.clone()));
            }
            EngineCommand::Shutdown => break,
        }
    }
    if let Some(job) = current {
        job.token.cancel();
        let ended = job.task.await;
        sink.send(ended.unwrap_or_else(|e| ended_abnormally(&sink, &e, job.clock)));
    }
    let gateway = gateway.map(|(_, token, task)| (token, task));
    for (what, job) in [("Redis operation", redis), ("gateway", gateway)] {
        if let Some((token, task)) = job {
            token.cancel();
            if let Err(e) = task.await {
                sink.log(
                    Level::Error,
                    format!("the {what} task ended abnormally: {e}"),
                );
            }
        }
    }
    stop_started(&started, &sink).await;
}

/// On quit: save and stop every Redis this console started with `u`.
async fn stop_started(started: &Started, sink: &EventSink) {
    let profiles: Vec<(String, Profile)> = match started.lock() {
        Ok(mut g) => std::mem::take(&mut *g).into_iter().collect(),
        Err(_) => return,
    };
    for (name, p) in profiles {
        sink.info(format!(
            "quitting: saving and stopping the Redis of `{name}` started with u"
        ));
        let result = async {
            RedisHost::new(&p)?.down(StopMode::Graceful, sink).await?;
            Ok::<(), EngineError>(())
        }
        .await;
        if let Err(e) = result {
            sink.log(Level::Error, e.chain());
        }
    }
}

/// `g`: serve the profile's Redis through the gateway until cancelled (then save and stop it).
async fn gateway_task(p: Profile, sink: EventSink, token: CancellationToken) {
    let profile = p.name.clone();
    let result = async {
        let mut opts = crate::gateway::GatewayOptions::from_profile(&p);
        opts.grace = GATEWAY_GRACE;
        let gw = crate::gateway::Gateway::bind(&p, opts, &sink).await?;
        sink.info(format!(
            "gateway for `{profile}` listening on {}: Redis starts on the first connection",
            gw.local_addr()
        ));
        let report = gw.serve(sink.clone(), token).await;
        sink.info(format!(
            "gateway for `{profile}` stopped: {} wakes, {} connections, {} refused",
            report.last.wakes, report.last.total, report.last.refused
        ));
        Ok::<(), EngineError>(())
    }
    .await;
    if let Err(e) = result {
        sink.log(
            Level::Error,
            format!("gateway for `{profile}`: {}", e.chain()),
        );
    }
}

async fn redis_status(p: Profile, sink: EventSink) {
    if let Ok(host) = RedisHost::new(&p)
        && let Ok(st) = host.status().await
    {
        sink.send(EngineEvent::RedisStatus(st));
    }
}

async fn export_task(dir: PathBuf, sink: EventSink) {
    match tokio::task::spawn_blocking(move || export::zip_dir(&dir)).await {
        Ok(Ok(path)) => sink.send(EngineEvent::Exported { path }),
        Ok(Err(e)) => sink.log(Level::Error, format!("export failed: {e}")),
        Err(e) => sink.log(Level::Error, format!("export failed: {e}")),
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
    profile: Result<Profile, ProfileError>,
    opts: EngineOptions,
    sink: EventSink,
    token: CancellationToken,
    last: LastResults,
) -> EngineEvent {
    let clock = std::time::Instant::now();
    let share_opts = crate::experiments::share::ShareOptions {
        runs: 20,
        persistence: None,
        stop: None,
        keys: 100,
        value_size: 32,
        results_root: opts
            .results_root
            .clone()
            .unwrap_or_else(crate::results::default_root),
    };
    let result = match profile {
        Ok(p) => crate::experiments::share::run_share(&p, &share_opts, &sink, token.clone()).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(out) => {
            let outcome = if out.cancelled {
                crate::event::Phase::Cancelled
            } else {
                crate::event::Phase::Done
            };
            finished(&last, out.results_dir, outcome, clock)
        }
        Err(e) => finished_with_error(&sink, &e, &token, clock),
    }
}

/// Spawn a run, share or sweep task with its own cancellation token.
fn start_job<F, Fut>(
    task: F,
    profile: Result<Profile, ProfileError>,
    opts: &EngineOptions,
    sink: &EventSink,
    last: &LastResults,
) -> RunJob
where
    F: FnOnce(
        Result<Profile, ProfileError>,
        EngineOptions,
        EventSink,
        CancellationToken,
        LastResults,
    ) -> Fut,
    Fut: std::future::Future<Output = EngineEvent> + Send + 'static,
{
    let token = CancellationToken::new();
    let fut = task(
        profile,
        opts.clone(),
        sink.clone(),
        token.clone(),
        last.clone(),
    );
    RunJob {
        token,
        task: tokio::spawn(fut),
        clock: std::time::Instant::now(),
    }
}

async fn sweep_task(
    profile: Result<Profile, ProfileError>,
    opts: EngineOptions,
    sink: EventSink,
    token: CancellationToken,
    last: LastResults,
) -> EngineEvent {
    let clock = std::time::Instant::now();
    let root = opts
        .results_root
        .clone()
        .unwrap_or_else(crate::results::default_root);
    let result = match profile {
        Ok(p) => {
            sweep::run_sweep(
                &p,
                &sweep::CONSOLE_CONCURRENCIES,
                &root,
                &sink,
                token.clone(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(report) => {
            sink.info(format!(
                "sweep finished: {} steps, knee at concurrency {}, peak {:.1} invocations/s; sweep.csv in {}",
                report.steps.len(),
                report
                    .knee
                    .map_or_else(|| "-".to_string(), |k| k.to_string()),
                report.peak_invocations_per_s,
                report.results_dir.display()
            ));
            let outcome = if report.cancelled {
                crate::event::Phase::Cancelled
            } else {
                crate::event::Phase::Done
            };
            finished(&last, report.results_dir, outcome, clock)
        }
        Err(e) => finished_with_error(&sink, &e, &token, clock),
    }
}

async fn rtt_sweep_task(
    profile: Result<Profile, ProfileError>,
    opts: EngineOptions,
    sink: EventSink,
    token: CancellationToken,
    last: LastResults,
) -> EngineEvent {
    let clock = std::time::Instant::now();
    let root = opts
        .results_root
        .clone()
        .unwrap_or_else(crate::results::default_root);
    let result = match profile {
        Ok(p) if p.redis.is_cluster() => Err(crate::experiments::EngineError::Failed(format!(
            "profile `{}` has [redis.cluster]: network emulation fronts one Redis",
            p.name
        ))),
        Ok(p) => {
            rtt_sweep::run_rtt_sweep(
                &p,
                &rtt_sweep::CONSOLE_RTTS,
                None,
                &root,
                &sink,
                token.clone(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(report) => {
            let fit = report.fits.map_or_else(
                || "no fit".to_string(),
                |f| format!("{:.0} round trips per invocation", f.total.slope),
            );
            sink.info(format!(
                "rtt sweep finished: {} steps, {fit}; rtt-sweep.csv in {}",
                report.steps.len(),
                report.results_dir.display()
            ));
            let outcome = if report.cancelled {
                crate::event::Phase::Cancelled
            } else {
                crate::event::Phase::Done
            };
            finished(&last, report.results_dir, outcome, clock)
        }
        Err(e) => finished_with_error(&sink, &e, &token, clock),
    }
}

async fn rate_sweep_task(
    profile: Result<Profile, ProfileError>,
    opts: EngineOptions,
    sink: EventSink,
    token: CancellationToken,
    last: LastResults,
) -> EngineEvent {
    use crate::experiments::rate_sweep::{CONSOLE_P99_BOUND_MS, CONSOLE_RATES, run_rate_sweep};
    let clock = std::time::Instant::now();
    let root = opts
        .results_root
        .clone()
        .unwrap_or_else(crate::results::default_root);
    let result = match profile {
        Ok(p) => {
            let steps: Vec<Profile> = CONSOLE_RATES.iter().map(|&r| p.with_rate(r)).collect();
            run_rate_sweep(
                &p,
                &steps,
                CONSOLE_P99_BOUND_MS,
                &root,
                &sink,
                token.clone(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(report) => {
            sink.info(format!(
                "rate sweep finished: {} steps, saturation point {}; rate-sweep.csv in {}",
                report.steps.len(),
                report
                    .saturation
                    .map_or_else(|| "none".to_string(), |r| format!("{r}/s")),
                report.results_dir.display()
            ));
            let outcome = if report.cancelled {
                crate::event::Phase::Cancelled
            } else {
                crate::event::Phase::Done
            };
            finished(&last, report.results_dir, outcome, clock)
        }
        Err(e) => finished_with_error(&sink, &e, &token, clock),
    }
}

/// Remember the results for Export first; the loop then tells the consumers the run is over.
fn finished(
    last: &LastResults,
    dir: PathBuf,
    outcome: crate::event::Phase,
    clock: std::time::Instant,
) -> EngineEvent {
    remember(last, dir.clone());
    EngineEvent::RunFinished {
        outcome,
        results_dir: Some(dir),
        elapsed: clock.elapsed(),
    }
}

fn finished_with_error(
    sink: &EventSink,
    e: &EngineError,
    token: &CancellationToken,
    clock: std::time::Instant,
) -> EngineEvent {
    sink.log(Level::Error, e.chain());
    // Consumers learn that the run is over even when it ended before its results existed.
    let outcome = if token.is_cancelled() {
        crate::event::Phase::Cancelled
    } else {
        crate::event::Phase::Failed
    };
    EngineEvent::RunFinished {
        outcome,
        results_dir: None,
        elapsed: clock.elapsed(),
    }
}

async fn run_task(
    profile: Result<Profile, ProfileError>,
    opts: EngineOptions,
    sink: EventSink,
    token: CancellationToken,
    last: LastResults,
) -> EngineEvent {
    let clock = std::time::Instant::now();
    let p = match profile {
        Ok(p) => p,
        Err(e) => return finished_with_error(&sink, &EngineError::from(e), &token, clock),
    };
    let run_opts = RunOptions {
        results_root: opts.results_root.clone(),
        ..Default::default()
    };
    match run_experiment(&p, &run_opts, &sink, token.clone()).await {
        Ok(out) => finished(&last, out.results_dir, out.outcome, clock),
        Err(e) => finished_with_error(&sink, &e, &token, clock),
    }
}

/// `u` / `d` as a task: cancelled (Cancel, Shutdown) while starting, it stops whatever
/// was started so nothing is left behind.
async fn redis_op(
    profile: String,
    p: Profile,
    up: bool,
    sink: EventSink,
    token: CancellationToken,
    started: Started,
) {
    let result = async {
        let mut host = RedisHost::new(&p)?;
        if up {
            let outcome = tokio::select! {
                r = host.up(&sink) => Some(r),
                () = token.cancelled() => None,
            };
            match outcome {
                Some(r) => {
                    let s = r?;
                    if let Some(c) = s.cold_start {
                        sink.send(EngineEvent::ColdStart(c));
                    }
                    remember_started(&started, &profile, &p, true);
                    sink.info(format!("redis up at {}", s.endpoint.display_url()));
                }
                None => {
                    host.down(StopMode::Graceful, &sink).await?;
                    sink.warn("Redis start cancelled; stopped what it had started");
                    return Ok::<(), EngineError>(());
                }
            }
        } else {
            let r = host.down(StopMode::Graceful, &sink).await?;
            remember_started(&started, &profile, &p, false);
            sink.info(format!("redis down ({:.1} ms)", r.total_ms));
        }
        if let Ok(st) = host.status().await {
            sink.send(EngineEvent::RedisStatus(st));
        }
        Ok::<(), EngineError>(())
    }
    .await;
    if let Err(e) = result {
        sink.log(Level::Error, e.chain());
    }
}

/// Keyed by the profile as the command named it (what the gateway guard compares).
fn remember_started(started: &Started, key: &str, profile: &Profile, up: bool) {
    if let Ok(mut g) = started.lock() {
        if up {
            g.insert(key.to_string(), profile.clone());
        } else {
            g.remove(key);
        }
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    fn busy<'a>(running: bool, redis: bool, gateway: Option<&'a str>, s: &'a Started) -> Busy<'a> {
        Busy {
            running,
            redis,
            gateway,
            started: s,
        }
    }

    #[test]
    fn the_gateway_owner_is_named_first_then_a_running_job() {
        let started = Started::default();
        let run = EngineCommand::Run {
            profile: "p".into(),
        };
        let why = refusal(&run, &busy(true, true, Some("p"), &started)).unwrap();
        assert!(
            why.starts_with("the gateway owns the Redis of `p`"),
            "{why}"
        );
        let why = refusal(&run, &busy(true, true, Some("q"), &started)).unwrap();
        assert!(why.starts_with("a run is already active"), "{why}");
        let why = refusal(&run, &busy(false, true, None, &started)).unwrap();
        assert!(
            why.starts_with("Redis is being started or stopped"),
            "{why}"
        );
        assert_eq!(refusal(&run, &busy(false, false, None, &started)), None);
    }

    #[test]
    fn a_gateway_is_refused_for_a_redis_started_with_u() {
        let started = Started::default();
        let start = EngineCommand::GatewayStart {
            profile: "p".into(),
        };
        assert_eq!(refusal(&start, &busy(false, false, None, &started)), None);
        let p = Profile::embedded_default().unwrap();
        started.lock().unwrap().insert("p".into(), p);
        let why = refusal(&start, &busy(false, false, None, &started)).unwrap();
        assert!(why.contains("was started with u"), "{why}");
        let why = refusal(&start, &busy(false, false, Some("q"), &started)).unwrap();
        assert!(why.starts_with("a gateway already serves `q`"), "{why}");
    }
}
