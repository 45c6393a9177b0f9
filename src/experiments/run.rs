//! Case study 1: start Redis → deploy → invoke N times with concurrency C → collect → stop.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio_util::sync::CancellationToken;

use super::EngineError;
use super::job::{Job, Preflight, redis_lost};
use super::params::{action_redis_host, bench_params};
use super::{Context, EngineResult};
use crate::event::{EngineEvent, EventSink, Level, Phase};
use crate::platform::{BuiltinAction, Platform};
use crate::profile::{PlatformConfig, Profile};
use crate::redis_host::{RedisHost, StopMode, StopReport};
use crate::results::ResultsWriter;
use crate::stats::RunStats;

use crate::results::build_summary;

/// Per-run settings that are not part of the profile.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Root of the results directories; `None` means `results/`.
    pub results_root: Option<PathBuf>,
    /// Cancelled on a second Ctrl-C / SIGTERM during cancellation: stop waiting for Redis to
    /// stop, write what there is and say what was left running.
    pub force: CancellationToken,
}

/// What a run produced, also when it was cancelled.
#[derive(Debug)]
pub struct RunOutcome {
    pub outcome: Phase,
    pub stats: RunStats,
    pub results_dir: PathBuf,
    /// The summary written to run.json (everything but the activations).
    pub summary: crate::results::RunSummary,
    /// Why Redis did not stop cleanly (also in run.json as `redis.stop_error`).
    pub stop_error: Option<String>,
}

/// The name the bench action is deployed under.
pub fn action_name(profile: &Profile) -> String {
    match &profile.platform {
        PlatformConfig::OpenWhisk(ow) => ow.action_name.clone(),
        PlatformConfig::Local(_) => "redwhisk-bench".into(),
        PlatformConfig::Lambda(l) => l.function_name.clone(),
    }
}

/// Run case study 1 for `profile`. Redis is stopped (saved) on every path once started;
/// cancellation keeps the partial results, marked as such.
pub async fn run_experiment(
    profile: &Profile,
    opts: &RunOptions,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<RunOutcome> {
    let job = Job::announce(
        profile,
        sink,
        cancel.clone(),
        "case study 1: sequential SET/GET/DEL",
        profile.workload.invocations,
    );
    let started_at = job.started_at;
    // Before Redis starts: a wrong key or Redis address costs a second, not a run.
    let platform = job.platform(Preflight::Check).await?;
    let mut host = RedisHost::new(profile)
        .context("cannot set up the Redis host")?
        .with_interrupt(cancel.clone());

    sink.send(EngineEvent::Phase(Phase::StartingRedis));
    let started = match start_redis(&mut host, sink, &cancel, &opts.force).await {
        Some(r) => r.context("Redis did not start")?,
        None => {
            // Whatever the start got to (a spawned server, a container) is stopped again.
            sink.send(EngineEvent::Phase(Phase::StoppingRedis));
            let stopped = tokio::select! {
                r = host.down(StopMode::Graceful, sink) => r.map(|_| ()).map_err(|e| e.to_string()),
                () = opts.force.cancelled() => Err("forced exit: the stop was abandoned".into()),
            };
            sink.send(EngineEvent::Phase(Phase::Cancelled));
            return Err(EngineError::Cancelled(match stopped {
                Ok(()) => {
                    "cancelled while Redis was starting; nothing was run (Redis stopped again)"
                        .to_string()
                }
                Err(e) => format!(
                    "cancelled while Redis was starting, and it may be left running ({e}); check with `redwhisk redis status --profile {}`",
                    profile.name
                ),
            }));
        }
    };
    if let Some(c) = &started.cold_start {
        sink.send(EngineEvent::ColdStart(c.clone()));
    }
    let network = started.network.clone();
    let functions = started.for_functions().clone();
    let (endpoint, cold_start) = (started.endpoint, started.cold_start);
    let prefix = format!("{}:", profile.workload.key_prefix);
    let at_start = leftover_keys(&host, &endpoint, &prefix, cold_start.as_ref(), sink).await;
    keys_at_start(&host, cold_start.as_ref(), sink).await;

    let root = opts
        .results_root
        .clone()
        .unwrap_or_else(crate::results::default_root);
    // A run killed earlier (kill -9) left a journal: finalise it before starting a new one.
    for r in crate::results::repair_all(&root) {
        match r {
            Ok(done) => sink.warn(done.to_string()),
            Err(e) => sink.warn(format!("cannot finalise an interrupted run: {e}")),
        }
    }
    let network_record = network.as_ref().map(|n| n.record.clone());
    let mut head = build_summary(
        profile,
        &RunStats::new(),
        Phase::Invoking,
        started_at,
        Duration::ZERO,
        cold_start.as_ref(),
        None,
    )
    .context("cannot record the profile in the results")?;
    head.redis.network_emulation.clone_from(&network_record);
    let paths = Paths {
        control: &endpoint,
        functions: &functions,
    };
    let body = invoke_all(&job, &platform, &host, paths, &root, &head).await;
    // The local Lambda's containers go now, also after a cancel (SIGTERM) or a failure.
    platform.close().await;

    // A cancelled run's invocations were cut short with their keys written: delete them
    // before the final save, so the data set is what it was before the run.
    let deleted = match &body {
        Ok((_, _, Phase::Cancelled)) if !opts.force.is_cancelled() => {
            tokio::select! {
                d = delete_own_keys(&host, &endpoint, &prefix, sink) => d,
                () = opts.force.cancelled() => None,
            }
        }
        _ => None,
    };
    sink.send(EngineEvent::Phase(Phase::StoppingRedis));
    let stop = tokio::select! {
        r = host.down(StopMode::Graceful, sink) => r.map_err(|e| e.to_string()),
        () = opts.force.cancelled() => Err(format!(
            "forced exit: the stop of Redis was abandoned and it may be left running; stop it with `redwhisk redis down --profile {}`",
            profile.name
        )),
    };
    if !opts.force.is_cancelled()
        && let Ok(st) = host.status().await
    {
        sink.send(EngineEvent::RedisStatus(st));
    }
    let (writer, stats, outcome) = match body {
        Ok(v) => v,
        Err(e) => {
            sink.send(EngineEvent::Phase(Phase::Failed));
            if let Err(stop_err) = &stop {
                sink.log(
                    Level::Error,
                    format!("also, Redis did not stop cleanly: {stop_err}"),
                );
            }
            return Err(e);
        }
    };
    let (stop, stop_error): (Option<StopReport>, Option<String>) = match stop {
        Ok(r) => (Some(r), None),
        Err(e) => {
            sink.log(Level::Error, format!("Redis did not stop cleanly: {e}"));
            (None, Some(e))
        }
    };
    sink.send(EngineEvent::Phase(Phase::Collecting));
    let mut summary = build_summary(
        profile,
        &stats,
        outcome,
        started_at,
        job.elapsed(),
        cold_start.as_ref(),
        stop.as_ref(),
    )
    .context("cannot record the profile in the results")?;
    summary.redis.stop_error.clone_from(&stop_error);
    summary.cost = platform.cost(job.elapsed());
    // The console shows it in its log; the headless report prints it with the table.
    if let Some(c) = &summary.cost {
        sink.info(c.line());
    }
    summary.redis.network_emulation = network_record;
    summary.redis.prefix_keys_at_start = at_start;
    summary.redis.prefix_keys_deleted = deleted;
    let results_dir = writer
        .finish(&summary)
        .context("cannot write the results")?;
    sink.send(EngineEvent::Phase(outcome));
    Ok(RunOutcome {
        outcome,
        stats,
        results_dir,
        summary,
        stop_error,
    })
}

/// How many keys the run starts with, said when there are any that no snapshot restore put
/// there (a Redis already up, or loaded from local data): the run measures on top of them. The
/// status goes to the console too, so its Redis pane shows them before the first invocation.
async fn keys_at_start(
    host: &RedisHost,
    cold_start: Option<&crate::redis_host::ColdStart>,
    sink: &EventSink,
) {
    let Ok(st) = host.status().await else { return };
    let keys = st.keys;
    sink.send(EngineEvent::RedisStatus(st));
    let restored = cold_start.is_some_and(|c| c.restore.is_some());
    match keys {
        Some(n) if n > 0 && !restored => {
            let from = match cold_start {
                Some(_) => "loaded from local data",
                None => "already in the running Redis",
            };
            sink.warn(format!(
                "the run starts with {n} keys {from}, none from a snapshot restore; its figures are taken on top of them (`redwhisk redis down` then delete the data directory, or FLUSHALL, for an empty start)"
            ));
        }
        _ => {}
    }
}

/// Keys of the run's own prefix already in Redis (only looked for when Redis holds keys): said
/// in one line, since the run's numbers are then taken on a data set it did not expect.
async fn leftover_keys(
    host: &RedisHost,
    endpoint: &crate::redis_host::Endpoint,
    prefix: &str,
    cold_start: Option<&crate::redis_host::ColdStart>,
    sink: &EventSink,
) -> Option<u64> {
    if cold_start.is_some_and(|c| c.keys_restored == 0) {
        return None;
    }
    match host.count_prefix(endpoint, prefix).await {
        Ok(Some(n)) if n > 0 => {
            sink.warn(format!(
                "Redis already holds {n} keys with this run's prefix `{prefix}` (left by an earlier run that was cancelled or killed mid-invocation); a cancelled run deletes its own, these are left as they are"
            ));
            Some(n)
        }
        Ok(Some(_)) => Some(0),
        Ok(None) => None,
        Err(e) => {
            sink.warn(format!(
                "could not look for keys with this run's prefix `{prefix}`: {e}"
            ));
            None
        }
    }
}

/// Delete a cancelled run's keys (its prefix) before the final save, and say how many.
async fn delete_own_keys(
    host: &RedisHost,
    endpoint: &crate::redis_host::Endpoint,
    prefix: &str,
    sink: &EventSink,
) -> Option<u64> {
    match host.delete_prefix(endpoint, prefix).await {
        Ok(Some(n)) => {
            sink.info(format!(
                "cancelled: deleted {n} keys of this run (prefix `{prefix}`) before the final save"
            ));
            Some(n)
        }
        Ok(None) => {
            sink.warn(format!(
                "cancelled: the keys of this run (prefix `{prefix}`) were not deleted: a cluster's keys live on several nodes"
            ));
            None
        }
        Err(e) => {
            sink.warn(format!(
                "cancelled: could not delete this run's keys (prefix `{prefix}`): {e}"
            ));
            None
        }
    }
}

/// Start Redis; `None` when cancelled. A cancel does not drop the start half-way (a spawned
/// server not yet in the state file would be lost): the start runs to its end, bounded by
/// `ready_timeout_ms`, unless `force` abandons it.
async fn start_redis(
    host: &mut RedisHost,
    events: &EventSink,
    cancel: &CancellationToken,
    force: &CancellationToken,
) -> Option<Result<crate::redis_host::Started, crate::redis_host::HostError>> {
    let mut up = Box::pin(host.up(events));
    let first = tokio::select! {
        r = &mut up => Some(r),
        () = cancel.cancelled() => None,
    };
    match first {
        Some(r) => Some(r),
        None => {
            tokio::select! {
                _ = &mut up => {}
                () = force.cancelled() => {}
            }
            None
        }
    }
}

/// Where redwhisk itself reaches Redis (direct) and where the functions do (through the
/// shaping proxy under `[redis.network_emulation]`, else the same).
#[derive(Clone, Copy)]
struct Paths<'a> {
    control: &'a crate::redis_host::Endpoint,
    functions: &'a crate::redis_host::Endpoint,
}

/// Deploy and invoke; returns the writer, the stats and Done or Cancelled.
async fn invoke_all(
    job: &Job<'_>,
    platform: &Platform,
    host: &RedisHost,
    paths: Paths<'_>,
    root: &std::path::Path,
    head: &crate::results::RunSummary,
) -> EngineResult<(ResultsWriter, RunStats, Phase)> {
    let (endpoint, functions) = (paths.control, paths.functions);
    let (profile, sink, cancel) = (job.profile, job.sink, &job.cancel);
    let w = &profile.workload;
    let name = action_name(profile);
    job.deploy(platform, &[(BuiltinAction::Bench, &name)])
        .await?;
    let mut writer = ResultsWriter::create(root, &profile.name, Utc::now())
        .with_context(|| format!("cannot create a results directory under {}", root.display()))?;
    writer
        .write_head(head)
        .context("cannot write the results")?;

    sink.send(EngineEvent::Phase(Phase::Invoking));
    let action_host = action_redis_host(profile, functions);
    let nodes = host.cluster_addrs().await;
    if let Some(open) = &w.open {
        let (stats, outcome) = super::open_loop::invoke_open(
            job,
            open,
            platform,
            host,
            endpoint,
            functions,
            &action_host,
            &nodes,
            &name,
            &mut writer,
        )
        .await?;
        return Ok((writer, stats, outcome));
    }
    let mut stats = RunStats::new();
    let mut next = 0u32;
    let mut in_flight = FuturesUnordered::new();
    let mut status_tick = tokio::time::interval(Duration::from_secs(1));
    let mut cancelled = false;
    let mut lost: Option<String> = None;
    // The health check (and the status it sends) runs beside the invocations, one at a time:
    // a Redis that stops answering makes a check take its reply deadline, and awaiting it in
    // the loop would hold every finished invocation unseen (their durations inflated) meanwhile.
    // It carries the invocation index it is about (the next one for a periodic check).
    type Check<'c> = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = (u32, bool, Result<(), crate::redis_host::HostError>)>
                + Send
                + 'c,
        >,
    >;
    let start_check = |at: u32, with_status: bool| -> Check<'_> {
        Box::pin(async move {
            let alive = host.check_alive(endpoint).await;
            if alive.is_ok()
                && with_status
                && let Ok(st) = host.status().await
            {
                sink.send(EngineEvent::RedisStatus(st));
            }
            (at, with_status, alive)
        })
    };
    let mut checking: Option<Check<'_>> = None;
    loop {
        if lost.is_some() {
            break;
        }
        while !cancelled && next < w.invocations && in_flight.len() < w.concurrency as usize {
            let params =
                serde_json::to_value(bench_params(profile, functions, &action_host, next, &nodes))?;
            let index = next;
            let name = name.clone();
            in_flight.push(async move { (index, platform.invoke(&name, params).await) });
            next += 1;
        }
        if in_flight.is_empty() {
            // A check under way may be about the last invocation's failure: hear it out.
            if let Some(check) = checking.take()
                && let (at, _, Err(e)) = check.await
            {
                lost = Some(redis_lost(sink, at, &e, &mut in_flight));
            }
            break;
        }
        tokio::select! {
            Some((index, result)) = in_flight.next() => {
                let mut a = match result {
                    Ok(a) => a,
                    Err(e) if e.is_per_invocation() => {
                        stats.record_platform_error();
                        sink.warn(format!("invocation {index}: {e}"));
                        continue;
                    }
                    Err(e) => return Err(e).context(format!("invocation {index} failed at the platform")),
                };
                a.index = index;
                let parsed = stats.record(&a);
                writer.append(&a, parsed.as_ref()).context("cannot write the results")?;
                let failed = !a.success();
                if failed {
                    let why = a.error_text().unwrap_or_default();
                    sink.warn(format!("invocation {index} failed: {} {why}", a.response.status.as_str()));
                }
                sink.send(EngineEvent::Activation(Box::new(a)));
                // A failed invocation may mean Redis is gone: ask it (with a deadline).
                if failed && checking.is_none() {
                    checking = Some(start_check(index, false));
                }
            }
            (at, _, alive) = async { match checking.as_mut() { Some(c) => c.await, None => std::future::pending().await } }, if checking.is_some() => {
                checking = None;
                if let Err(e) = alive {
                    lost = Some(redis_lost(sink, at, &e, &mut in_flight));
                }
            }
            _ = status_tick.tick(), if checking.is_none() => {
                checking = Some(start_check(next, true));
            }
            () = cancel.cancelled(), if !cancelled => {
                cancelled = true;
                sink.warn(format!("cancelled after {} of {} invocations; {} in flight stopped", stats.completed, w.invocations, in_flight.len()));
                // Dropping the futures stops the in-flight invocations (local actions are killed).
                in_flight.clear();
            }
        }
    }
    let outcome = if lost.is_some() {
        Phase::RedisLost
    } else if cancelled {
        Phase::Cancelled
    } else {
        Phase::Done
    };
    Ok((writer, stats, outcome))
}
