//! Case study 2 through the gateway (`redwhisk share --via-gateway`): the writer's data
//! survives the gateway putting Redis to sleep, and the reader wakes it.
//!
//! Per cycle: the writer connects to the gateway (waking Redis if it sleeps) and writes its
//! keys → nobody uses Redis for `gateway.idle_ms`, so the gateway saves and stops it (the
//! cycle waits until it has) → the reader connects to the gateway, which starts Redis again
//! from the saved data → the reader's keys are compared with the writer's. No one but the
//! gateway starts or stops Redis.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Context, EngineResult, bail};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::gateway_study::StudyGateway;
use super::job::{Job, Preflight, write_json};
use super::share::{SHARE_ACTIONS, SharedKeys};
use crate::event::{EngineEvent, EventSink, Phase};
use crate::gateway::GatewayProbe;
use crate::platform::Platform;
use crate::profile::{Persistence, Profile};
use crate::redis_host::Endpoint;
use crate::results::{csv_field, csv_ms};
use crate::share::judge;
use crate::stats::quantile;

/// Longest wait for the gateway to put Redis to sleep after the writer, beyond `idle_ms`:
/// a `SHUTDOWN SAVE` of a large dataset, or a docker stop.
const SLEEP_SLACK: Duration = Duration::from_secs(60);

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct ShareGatewayOptions {
    pub runs: u32,
    pub keys: u32,
    pub value_size: u32,
    pub results_root: PathBuf,
}

/// One write → sleep → wake → read cycle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GatewayCycle {
    pub cycle: u32,
    pub written: u64,
    pub found: u64,
    pub missing: u64,
    pub mismatches: u64,
    /// Every key read back with its value.
    pub correct: bool,
    /// The gateway saved and stopped Redis between the writer and the reader.
    pub slept: bool,
    /// The reader's connection woke Redis.
    pub reader_woke: bool,
    /// Writer returned → the gateway reported Redis saved and stopped.
    pub sleep_wait_ms: Option<f64>,
    /// The reader's connect phase (a wake happens inside it).
    pub reader_connect_ms: Option<f64>,
    pub error: Option<String>,
}

/// The run's result, written to `share-gateway.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShareGatewayReport {
    pub experiment: String,
    pub profile: String,
    pub backend: String,
    pub persistence: String,
    pub idle_ms: u64,
    pub keys: u32,
    pub value_size: u32,
    pub cycles: u32,
    pub correct: u32,
    pub keys_lost: u64,
    /// With persistence the keys must survive every sleep; without, every sleep loses them.
    pub expect_survival: bool,
    pub as_expected: bool,
    pub cancelled: bool,
    pub gateway_wakes: u64,
    pub gateway_wake_p50_ms: Option<f64>,
    pub reader_connect_p50_ms: Option<f64>,
    pub reader_connect_p99_ms: Option<f64>,
    pub rows: Vec<GatewayCycle>,
    pub results_dir: PathBuf,
}

/// Run it: a gateway of its own on a fresh data directory (`<data_dir>/share/via-gateway`).
pub async fn share_via_gateway(
    base: &Profile,
    opts: &ShareGatewayOptions,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<ShareGatewayReport> {
    let mut profile = base.with_data_dir(base.redis.data_dir.join("share").join("via-gateway"));
    // Each run starts from nothing, so a key found was written by this run.
    if profile.redis.data_dir.exists() {
        std::fs::remove_dir_all(&profile.redis.data_dir)
            .with_context(|| format!("cannot clear {}", profile.redis.data_dir.display()))?;
    }
    if profile.snapshots.is_some() {
        // The gateway's stops would upload to (and its wakes restore from) the profile's own
        // snapshot prefix: keep this experiment's data out of it.
        profile = profile.renamed(format!("{}-share-via-gateway", base.name));
    }
    let expect_survival = profile.redis.persistence != Persistence::None;
    let job = Job::announce(
        &profile,
        sink,
        cancel,
        "case study 2 through the gateway: data across Redis sleeping and waking",
        opts.runs,
    );
    let gw = StudyGateway::start(&profile, sink).await?;
    let body = cycles(&job, &gw.endpoint, opts, &gw.probe).await;
    let gateway = gw.stop().await?;
    let (rows, cancelled) = body?;

    let connects: Vec<f64> = rows.iter().filter_map(|r| r.reader_connect_ms).collect();
    let correct = count(&rows, |r| r.correct);
    let matched = rows.iter().all(|r| {
        r.error.is_none()
            && r.slept
            && r.reader_woke
            && if expect_survival {
                r.correct
            } else {
                r.found == 0
            }
    });
    // Named after the profile the user chose, not the renamed one.
    let dir = Job::quiet(base, sink, job.cancel.clone())
        .results_dir(&opts.results_root, "share-via-gateway")?;
    let mut out = ShareGatewayReport {
        experiment: "case-study-2-via-gateway".into(),
        profile: base.name.clone(),
        backend: profile.redis.backend.label().into(),
        persistence: profile.redis.persistence.label(),
        idle_ms: u64::try_from(profile.gateway.idle.as_millis()).unwrap_or(u64::MAX),
        keys: opts.keys,
        value_size: opts.value_size,
        cycles: count(&rows, |_| true),
        correct,
        keys_lost: rows.iter().map(|r| r.missing + r.mismatches).sum(),
        expect_survival,
        as_expected: matched && !rows.is_empty(),
        cancelled,
        gateway_wakes: gateway.last.wakes,
        gateway_wake_p50_ms: quantile(&gateway.wake_ms, 0.5),
        reader_connect_p50_ms: quantile(&connects, 0.5),
        reader_connect_p99_ms: quantile(&connects, 0.99),
        rows,
        results_dir: dir.clone(),
    };
    write_results(&dir, &out)
        .with_context(|| format!("cannot write the results to {}", dir.display()))?;
    out.results_dir = dir;
    job.finish(cancelled);
    Ok(out)
}

fn count(rows: &[GatewayCycle], f: impl Fn(&GatewayCycle) -> bool) -> u32 {
    u32::try_from(rows.iter().filter(|r| f(r)).count()).unwrap_or(u32::MAX)
}

async fn cycles(
    job: &Job<'_>,
    endpoint: &Endpoint,
    opts: &ShareGatewayOptions,
    probe: &GatewayProbe,
) -> EngineResult<(Vec<GatewayCycle>, bool)> {
    let (profile, sink, cancel) = (job.profile, job.sink, &job.cancel);
    let platform = job.platform(Preflight::Skip).await?;
    job.deploy(&platform, &SHARE_ACTIONS).await?;
    sink.send(EngineEvent::Phase(Phase::Invoking));
    let mut rows = Vec::new();
    for cycle in 0..opts.runs {
        let row = tokio::select! {
            r = one_cycle(profile, &platform, endpoint, opts, probe, cycle) => r,
            () = cancel.cancelled() => return Ok((rows, true)),
        };
        let row = row.unwrap_or_else(|e| {
            sink.warn(format!("cycle {cycle}: {}", e.chain()));
            GatewayCycle {
                cycle,
                written: 0,
                found: 0,
                missing: 0,
                mismatches: 0,
                correct: false,
                slept: false,
                reader_woke: false,
                sleep_wait_ms: None,
                reader_connect_ms: None,
                error: Some(e.chain()),
            }
        });
        if row.error.is_none() && opts.runs <= 50 {
            sink.info(format!(
                "cycle {cycle}: Redis slept after {}, the reader woke it: {}/{} keys read back",
                row.sleep_wait_ms
                    .map(|v| format!("{v:.0} ms"))
                    .unwrap_or_else(|| "—".into()),
                row.found - row.mismatches.min(row.found),
                row.written
            ));
        }
        rows.push(row);
    }
    Ok((rows, false))
}

async fn one_cycle(
    profile: &Profile,
    platform: &Platform,
    endpoint: &Endpoint,
    opts: &ShareGatewayOptions,
    probe: &GatewayProbe,
    cycle: u32,
) -> EngineResult<GatewayCycle> {
    let target = SharedKeys::new(
        profile,
        endpoint,
        opts.keys,
        opts.value_size,
        format!("share:gateway:{cycle}"),
    );
    let written = target.write(platform).await?;

    // The writer's connection is closed: after idle_ms the gateway saves and stops Redis.
    let sleeps = probe.sleeps();
    let t_wait = Instant::now();
    let limit = profile.gateway.idle + SLEEP_SLACK;
    let slept = tokio::time::timeout(limit, async {
        while probe.sleeps() == sleeps {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .is_ok();
    if !slept {
        bail!(
            "the gateway did not put Redis to sleep within {} ms of the writer finishing (gateway.idle_ms + {} s); is another client holding a connection open?",
            limit.as_millis(),
            SLEEP_SLACK.as_secs()
        );
    }
    let sleep_wait_ms = crate::stats::ms(t_wait.elapsed());

    let wakes = probe.wakes();
    let read = target.read(platform, &written).await?;
    let reader_woke = probe.wakes() > wakes;
    let j = judge(&written, &read);
    Ok(GatewayCycle {
        cycle,
        written: written.keys_written,
        found: read.found,
        missing: j.missing,
        mismatches: j.mismatches,
        correct: j.correct,
        slept,
        reader_woke,
        sleep_wait_ms: Some(sleep_wait_ms),
        reader_connect_ms: Some(read.connect_ms),
        error: None,
    })
}

fn write_results(dir: &Path, r: &ShareGatewayReport) -> EngineResult<()> {
    write_json(&dir.join("share-gateway.json"), r)?;
    crate::results::write_csv(
        &dir.join("cycles.csv"),
        "cycle,written,found,missing,mismatches,correct,slept,reader_woke,sleep_wait_ms,reader_connect_ms,error",
        r.rows.iter().map(|row| {
            format!(
                "{},{},{},{},{},{},{},{},{},{},{}",
                row.cycle,
                row.written,
                row.found,
                row.missing,
                row.mismatches,
                row.correct,
                row.slept,
                row.reader_woke,
                csv_ms(row.sleep_wait_ms),
                csv_ms(row.reader_connect_ms),
                csv_field(row.error.as_deref().unwrap_or_default())
            )
        }),
    )?;
    Ok(())
}

/// The report as text.
pub fn share_gateway_text(r: &ShareGatewayReport) -> String {
    let f = |v: Option<f64>| {
        v.map(|v| format!("{v:.2} ms"))
            .unwrap_or_else(|| "—".into())
    };
    let verdict = match (r.as_expected, r.expect_survival) {
        (true, true) => "as expected: every key survived every sleep",
        (true, false) => "as expected: without persistence every sleep lost the keys",
        (false, true) => "NOT as expected: keys were lost or a cycle failed",
        (false, false) => "NOT as expected: a cycle failed or keys survived without persistence",
    };
    let mut out = format!(
        "case study 2 through the gateway (profile {}, {} backend, persistence {})\n\
         write → gateway idle {} ms → saved and stopped → reader wakes Redis → read\n\
         {} cycles of {} keys × {} B: {} correct, {} keys lost{}\n\
         reader connect (a wake inside it): p50 {}  p99 {}\n\
         gateway: {} wakes, wake p50 {}\n\
         verdict: {verdict}\n",
        r.profile,
        r.backend,
        r.persistence,
        r.idle_ms,
        r.cycles,
        r.keys,
        r.value_size,
        r.correct,
        r.keys_lost,
        if r.cancelled { " (cancelled)" } else { "" },
        f(r.reader_connect_p50_ms),
        f(r.reader_connect_p99_ms),
        r.gateway_wakes,
        f(r.gateway_wake_p50_ms),
    );
    for row in r.rows.iter().filter(|row| row.error.is_some()) {
        out.push_str(&format!(
            "  cycle {}: {}\n",
            row.cycle,
            row.error.as_deref().unwrap_or_default()
        ));
    }
    out.push_str(&format!("results: {}\n", r.results_dir.display()));
    out
}
