//! Case study 2: state shared between functions across Redis restarts, with crashes.
//!
//! Per cycle: (Redis up) → writer → stop (graceful or crash) → start → reader → compare.
//! The restart that serves the reader also serves the next cycle's writer, so each cycle is
//! exactly one stop and one start. Swept over persistence modes × stop modes.

use crate::share::{
    Cell, CellStats, CellSummary, CycleRecord, Judgement, PersistenceChoice, SHARE_SCHEMA,
    ShareOptionsRecord, ShareSummary, StopChoice, cells_with, judge,
};

use std::path::PathBuf;
use std::time::Instant;

use super::{Context, EngineResult, bail};
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::job::{Job, Preflight, write_json};
use crate::event::{EngineEvent, EventSink, Phase};
use crate::platform::{BuiltinAction, Platform};
use crate::profile::{Backend, Persistence, Profile};
use crate::redis_host::{Endpoint, HostError, RedisHost, StopMode};
use crate::results::{csv_field, csv_ms};
use crate::stats::ms;
use redwhisk_actions::protocol::{ReaderParams, ReaderResult, WriterParams, WriterResult};

/// Settings of one share experiment.
#[derive(Debug, Clone)]
pub struct ShareOptions {
    pub runs: u32,
    pub persistence: Option<PersistenceChoice>,
    pub stop: Option<StopChoice>,
    pub keys: u32,
    pub value_size: u32,
    pub results_root: PathBuf,
}

#[derive(Debug)]
pub struct ShareOutcome {
    pub cells: Vec<CellSummary>,
    pub results_dir: PathBuf,
    pub cancelled: bool,
    /// What was written to share.json.
    pub document: ShareSummary,
}

pub(crate) const WRITER: &str = "redwhisk-writer";
pub(crate) const READER: &str = "redwhisk-reader";
/// What case study 2 deploys.
pub(crate) const SHARE_ACTIONS: [(BuiltinAction, &str); 2] = [
    (BuiltinAction::Writer, WRITER),
    (BuiltinAction::Reader, READER),
];

/// Where a cycle's writer and reader connect (as the actions address Redis) and which keys
/// they write and read back.
pub(crate) struct SharedKeys {
    pub host: String,
    pub port: u16,
    pub password: Option<String>,
    pub tls: bool,
    pub tls_ca: Option<String>,
    pub keys: u32,
    pub value_size: u32,
    pub key_prefix: String,
}

impl SharedKeys {
    pub(crate) fn new(
        profile: &Profile,
        endpoint: &Endpoint,
        keys: u32,
        value_size: u32,
        key_prefix: String,
    ) -> Self {
        Self {
            host: super::action_redis_host(profile, endpoint),
            port: endpoint.port,
            password: endpoint.password.as_ref().map(|p| p.expose().to_string()),
            tls: endpoint.tls,
            tls_ca: endpoint.tls_ca.as_ref().map(|c| c.pem.clone()),
            keys,
            value_size,
            key_prefix,
        }
    }

    /// Invoke the writer: the keys, values from a fresh seed.
    pub(crate) async fn write(&self, platform: &Platform) -> EngineResult<WriterResult> {
        let wp = WriterParams {
            host: self.host.clone(),
            port: self.port,
            password: self.password.clone(),
            tls: self.tls,
            tls_ca: self.tls_ca.clone(),
            cluster: false,
            nodes: Vec::new(),
            keys: self.keys,
            value_size: self.value_size,
            key_prefix: self.key_prefix.clone(),
            seed: None,
        };
        invoke_typed(platform, WRITER, &wp, "writer").await
    }

    /// Invoke the reader against what `written` stored.
    pub(crate) async fn read(
        &self,
        platform: &Platform,
        written: &WriterResult,
    ) -> EngineResult<ReaderResult> {
        let rp = ReaderParams {
            host: self.host.clone(),
            port: self.port,
            password: self.password.clone(),
            tls: self.tls,
            tls_ca: self.tls_ca.clone(),
            cluster: false,
            nodes: Vec::new(),
            keys: self.keys,
            value_size: self.value_size,
            key_prefix: self.key_prefix.clone(),
            seed: Some(written.seed),
            expected_digest: Some(written.digest.clone()),
        };
        invoke_typed(platform, READER, &rp, "reader").await
    }
}

/// Invoke `action` with `params` and read its result as `R`; a failed activation is an error
/// carrying what the action returned.
async fn invoke_typed<R: serde::de::DeserializeOwned>(
    platform: &Platform,
    action: &str,
    params: &impl serde::Serialize,
    who: &str,
) -> EngineResult<R> {
    let a = platform
        .invoke(action, serde_json::to_value(params)?)
        .await?;
    if !a.success() {
        bail!("the {who} failed: {}", a.response.result);
    }
    serde_json::from_value(a.response.result.clone())
        .with_context(|| format!("the {who}'s result has an unexpected shape"))
}

/// Run the matrix (or one cell) for `profile`.
pub async fn run_share(
    profile: &Profile,
    opts: &ShareOptions,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<ShareOutcome> {
    if profile.redis.is_cluster() {
        bail!(
            "profile `{}` is a Redis Cluster: the data-sharing experiment runs on one Redis for now (it flushes and counts keys on one server); use a profile without [redis.cluster]",
            profile.name
        );
    }
    if let Backend::External { .. } = profile.redis.backend {
        bail!(
            "the data-sharing experiment stops and restarts Redis, which redwhisk cannot do to an external Redis; use a profile with backend = \"process\" or \"docker\""
        );
    }
    // A profile with [snapshots] tags its cells: a vm-loss cell then expects a restore.
    let snapshots = profile.snapshots.is_some();
    let cells = cells_with(opts.persistence, opts.stop, snapshots);
    let job = Job::announce(
        profile,
        sink,
        cancel.clone(),
        "case study 2: data shared across Redis restarts",
        opts.runs * cells.len() as u32,
    );
    let started_at = job.started_at;
    sink.send(EngineEvent::ShareStarted {
        cells: cells.clone(),
        runs: opts.runs,
    });
    // As for a run: a wrong key or Redis address costs a second, not a matrix.
    let platform = job.platform(Preflight::Check).await?;
    job.deploy(&platform, &SHARE_ACTIONS).await?;

    let mut summaries = Vec::new();
    let mut records = Vec::new();
    let mut cancelled = false;
    for cell in cells {
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        let (stats, cell_records, was_cancelled) =
            run_cell(profile, &platform, cell, opts, sink, &cancel).await?;
        let summary = stats.summary(cell);
        sink.info(format!(
            "{}: {}/{} correct, {} keys lost — {}",
            cell.label(),
            summary.correct,
            summary.cycles,
            summary.keys_lost,
            summary.verdict
        ));
        summaries.push(summary);
        records.extend(cell_records);
        if was_cancelled {
            cancelled = true;
            break;
        }
    }
    let document = ShareSummary {
        schema: SHARE_SCHEMA.into(),
        redwhisk_version: env!("CARGO_PKG_VERSION").into(),
        experiment: "case-study-2".into(),
        partial: cancelled,
        started_at,
        finished_at: Utc::now(),
        host: crate::results::HostInfo::current(),
        profile: crate::results::profile_record(profile)?,
        options: ShareOptionsRecord {
            runs: opts.runs,
            keys: opts.keys,
            value_size: opts.value_size,
        },
        cells: summaries.clone(),
        cycles: records,
    };
    let results_dir = job.results_dir(&opts.results_root, "share")?;
    write_results(&results_dir, &document, &document.cycles)?;
    job.finish(cancelled);
    Ok(ShareOutcome {
        cells: summaries,
        results_dir,
        cancelled,
        document,
    })
}

/// A cell's profile: the cell's persistence on a data directory of its own
/// (`<data_dir>/share/<persistence>-<stop>`) and, with `[snapshots]`, a snapshot prefix of its
/// own, so no cell restores another's data.
fn cell_profile(base: &Profile, cell: Cell) -> Profile {
    let slug = format!("{}-{}", cell.persistence.label(), cell.stop.label());
    let profile = base
        .with_persistence(Persistence::from(cell.persistence))
        .with_data_dir(base.redis.data_dir.join("share").join(&slug));
    if profile.snapshots.is_some() {
        profile.renamed(format!("{}-share-{slug}", base.name))
    } else {
        profile
    }
}

/// One cell, on a fresh data directory of its own.
async fn run_cell(
    base: &Profile,
    platform: &Platform,
    cell: Cell,
    opts: &ShareOptions,
    sink: &EventSink,
    cancel: &CancellationToken,
) -> EngineResult<(CellStats, Vec<CycleRecord>, bool)> {
    let profile = cell_profile(base, cell);
    if profile.redis.data_dir.exists() {
        std::fs::remove_dir_all(&profile.redis.data_dir)
            .with_context(|| format!("cannot clear {}", profile.redis.data_dir.display()))?;
    }
    let mut host = RedisHost::new(&profile)?;
    sink.send(EngineEvent::Phase(Phase::StartingRedis));
    let mut endpoint = up(&mut host, sink)
        .await
        .with_context(|| format!("{}: Redis did not start", cell.label()))?;
    sink.send(EngineEvent::Phase(Phase::Invoking));
    let mut stats = CellStats::default();
    let mut records = Vec::new();
    let mut cancelled = false;
    for cycle in 0..opts.runs {
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        let rec = run_cycle(
            &mut host,
            &mut endpoint,
            platform,
            &profile,
            cell,
            cycle,
            opts,
            sink,
        )
        .await;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let failed = CycleRecord {
                    cell: cell.label(),
                    cycle,
                    written: 0,
                    found: 0,
                    missing: 0,
                    mismatches: 0,
                    correct: false,
                    stop_ms: 0.0,
                    start_ms: 0.0,
                    restore_ms: None,
                    cycle_ms: 0.0,
                    error: Some(e.chain()),
                };
                sink.warn(format!("{} cycle {cycle}: {}", cell.label(), e.chain()));
                // Make sure Redis is up for the next cycle.
                if let Ok(ep) = up(&mut host, sink).await {
                    endpoint = ep;
                }
                failed
            }
        };
        stats.record(&rec);
        sink.send(EngineEvent::ShareCycle {
            cell,
            record: Box::new(rec.clone()),
        });
        records.push(rec);
    }
    sink.send(EngineEvent::Phase(Phase::StoppingRedis));
    host.down(StopMode::Graceful, sink).await?;
    Ok((stats, records, cancelled))
}

#[allow(clippy::too_many_arguments)]
async fn run_cycle(
    host: &mut RedisHost,
    endpoint: &mut Endpoint,
    platform: &Platform,
    profile: &Profile,
    cell: Cell,
    cycle: u32,
    opts: &ShareOptions,
    sink: &EventSink,
) -> EngineResult<CycleRecord> {
    let t0 = Instant::now();
    flush(endpoint)
        .await
        .context("cannot FLUSHALL before the cycle")?;
    let prefix = format!("share:{}:{cycle}", cell.persistence.label());
    let target = |endpoint: &Endpoint| {
        SharedKeys::new(
            profile,
            endpoint,
            opts.keys,
            opts.value_size,
            prefix.clone(),
        )
    };
    let written = target(endpoint).write(platform).await?;

    if cell.stop == StopChoice::VmLoss && profile.snapshots.is_some() {
        // The snapshot point: a graceful stop uploads the writes, then Redis starts again.
        // Whatever is written after the last snapshot would be lost with the machine.
        let report = host.down(StopMode::Graceful, sink).await?;
        if let Some(crate::snapshots::UploadOutcome::Pending { error }) = report.snapshot {
            bail!("the snapshot before the VM loss did not upload: {error}");
        }
        *endpoint = up(host, sink).await?;
    }
    let t_stop = Instant::now();
    host.down(cell.stop.mode(), sink).await?;
    if cell.stop == StopChoice::VmLoss {
        wipe_data(&profile.redis.data_dir).await?;
    }
    let stop_ms = ms(t_stop.elapsed());
    let t_start = Instant::now();
    *endpoint = up(host, sink).await?;
    let start_ms = ms(t_start.elapsed());
    let restore_ms = probe_first_key(endpoint, &format!("{prefix}:0"))
        .await?
        .then(|| ms(t_start.elapsed()));

    // Redis was started again: its endpoint (a port 0 profile's port) may have changed.
    let read = target(endpoint).read(platform, &written).await?;
    let Judgement {
        missing,
        mismatches,
        correct,
    } = judge(&written, &read);
    if opts.runs <= 50 {
        sink.info(format!(
            "{} cycle {cycle}: {}/{} keys read back{}",
            cell.label(),
            read.found - mismatches.min(read.found),
            written.keys_written,
            if correct { "" } else { " — data lost" }
        ));
    }
    Ok(CycleRecord {
        cell: cell.label(),
        cycle,
        written: written.keys_written,
        found: read.found,
        missing,
        mismatches,
        correct,
        stop_ms,
        start_ms,
        restore_ms,
        cycle_ms: ms(t0.elapsed()),
        error: None,
    })
}

/// Start (or adopt) Redis and report its cold start to the consumers.
async fn up(host: &mut RedisHost, sink: &EventSink) -> EngineResult<Endpoint, HostError> {
    let started = host.up(sink).await?;
    if let Some(c) = started.cold_start.clone() {
        sink.send(EngineEvent::ColdStart(c));
    }
    // The writer and reader actions take the emulated path, if any.
    Ok(started.for_functions().clone())
}

/// What a new VM does not have: the persistence files and the pending-upload marker.
async fn wipe_data(dir: &std::path::Path) -> EngineResult<()> {
    use crate::snapshots::local::{AOF_DIR, LEGACY_AOF, PENDING_FILE, RDB_FILE};
    for name in [RDB_FILE, LEGACY_AOF, PENDING_FILE] {
        match tokio::fs::remove_file(dir.join(name)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot wipe {}", dir.join(name).display()));
            }
        }
    }
    match tokio::fs::remove_dir_all(dir.join(AOF_DIR)).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot wipe {}", dir.join(AOF_DIR).display())),
    }
}

async fn connect(ep: &Endpoint) -> EngineResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(ep.connection_info()?)?;
    Ok(client.get_multiplexed_async_connection().await?)
}

async fn flush(ep: &Endpoint) -> EngineResult<()> {
    let mut con = connect(ep).await?;
    redis::cmd("FLUSHALL").query_async::<()>(&mut con).await?;
    Ok(())
}

/// Is the first written key readable right after the restart? (Redis answers PING only once
/// the dataset is loaded, so one GET tells.)
async fn probe_first_key(ep: &Endpoint, key: &str) -> EngineResult<bool> {
    let mut con = connect(ep).await?;
    let v: Option<Vec<u8>> = redis::cmd("GET").arg(key).query_async(&mut con).await?;
    Ok(v.is_some())
}

fn write_results(
    dir: &std::path::Path,
    document: &ShareSummary,
    records: &[CycleRecord],
) -> EngineResult<()> {
    write_json(&dir.join("share.json"), document)?;
    crate::results::write_csv(
        &dir.join("cycles.csv"),
        "cell,cycle,written,found,missing,mismatches,correct,stop_ms,start_ms,restore_ms,cycle_ms,error",
        records.iter().map(|r| {
            format!(
                "{},{},{},{},{},{},{},{:.3},{:.3},{},{:.3},{}",
                r.cell,
                r.cycle,
                r.written,
                r.found,
                r.missing,
                r.mismatches,
                r.correct,
                r.stop_ms,
                r.start_ms,
                csv_ms(r.restore_ms),
                r.cycle_ms,
                csv_field(r.error.as_deref().unwrap_or_default())
            )
        }),
    )?;
    Ok(())
}
