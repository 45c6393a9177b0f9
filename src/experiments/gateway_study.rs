//! Case study 3: functions against a sleeping Redis. The bench action connects to the gateway
//! instead of Redis; with a think time longer than the gateway's idle time every invocation
//! pays a Redis wake inside its connect phase. Invocations run one at a time so each can be
//! told "woke Redis" or "warm" from the gateway's wake counter.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Context, EngineResult, bail};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::job::{Job, Preflight, write_json};
use super::{action_name, action_redis_host};
use crate::event::{EngineEvent, EventSink, Phase};
use crate::gateway::{Gateway, GatewayOptions, GatewayProbe, GatewayReport};
use crate::platform::BuiltinAction;
use crate::profile::Profile;
use crate::redis_host::{Endpoint, password};
use crate::results::csv_ms;
use crate::stats::quantile;

/// One invocation seen through the gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StudyRow {
    pub index: u32,
    /// The gateway started Redis while this invocation ran.
    pub woken: bool,
    pub success: bool,
    /// The action's connect phase (TCP connect + AUTH + PING): a wake happens inside it.
    pub connect_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub client_latency_ms: f64,
    pub error: Option<String>,
}

/// The case study's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StudyReport {
    pub profile: String,
    pub backend: String,
    pub think_ms: u64,
    pub idle_ms: u64,
    pub invocations: u32,
    pub woken: u32,
    pub warm: u32,
    pub failed: u32,
    pub cancelled: bool,
    pub connect_p50_woken_ms: Option<f64>,
    pub connect_p99_woken_ms: Option<f64>,
    pub connect_p50_warm_ms: Option<f64>,
    /// p50 connect of woken invocations minus p50 of warm ones (when both exist).
    pub wake_cost_p50_ms: Option<f64>,
    pub gateway_wakes: u64,
    /// The gateway's own measure: first connection → PING answered.
    pub gateway_wake_p50_ms: Option<f64>,
    pub rows: Vec<StudyRow>,
    pub results_dir: PathBuf,
}

/// Run it: gateway up (asleep), deploy, invoke N times with `think` between invocations.
pub async fn run_via_gateway(
    profile: &Profile,
    think: Duration,
    results_root: &Path,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<StudyReport> {
    let w = &profile.workload;
    if w.concurrency != 1 {
        bail!(
            "--via-gateway runs one invocation at a time (so each can be told woken or warm); set workload.concurrency = 1 or pass -c 1"
        );
    }
    let job = Job::announce(
        profile,
        sink,
        cancel,
        "case study 3: functions against a sleeping Redis",
        w.invocations,
    );
    let gw = StudyGateway::start(profile, sink).await?;
    let body = invoke(&job, &gw.endpoint, think, &gw.probe).await;
    let report = gw.stop().await?;
    let (rows, cancelled) = body?;
    let pick = |woken: bool| -> Vec<f64> {
        rows.iter()
            .filter(|r| r.woken == woken)
            .filter_map(|r| r.connect_ms)
            .collect()
    };
    let (woken_ms, warm_ms) = (pick(true), pick(false));
    let p50w = quantile(&woken_ms, 0.5);
    let p50c = quantile(&warm_ms, 0.5);
    let dir = job.results_dir(results_root, "via-gateway")?;
    let mut out = StudyReport {
        profile: profile.name.clone(),
        backend: profile.redis.backend.label().into(),
        think_ms: whole_ms(think),
        idle_ms: whole_ms(profile.gateway.idle),
        invocations: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        woken: count(&rows, |r| r.woken),
        warm: count(&rows, |r| !r.woken),
        failed: count(&rows, |r| !r.success),
        cancelled,
        connect_p50_woken_ms: p50w,
        connect_p99_woken_ms: quantile(&woken_ms, 0.99),
        connect_p50_warm_ms: p50c,
        wake_cost_p50_ms: p50w.zip(p50c).map(|(a, b)| a - b),
        gateway_wakes: report.last.wakes,
        gateway_wake_p50_ms: quantile(&report.wake_ms, 0.5),
        rows,
        results_dir: dir.clone(),
    };
    write_results(&dir, &out)
        .with_context(|| format!("cannot write the results to {}", dir.display()))?;
    out.results_dir = dir;
    job.finish(cancelled);
    Ok(out)
}

/// A gateway of the study's own, serving the profile's Redis (asleep until a client connects)
/// until [`StudyGateway::stop`].
pub(crate) struct StudyGateway {
    /// Where the functions connect: the gateway, with the profile's password.
    pub endpoint: Endpoint,
    pub probe: GatewayProbe,
    cancel: CancellationToken,
    serving: tokio::task::JoinHandle<GatewayReport>,
}

impl StudyGateway {
    pub(crate) async fn start(profile: &Profile, sink: &EventSink) -> EngineResult<Self> {
        password::ensure_data_dir(&profile.redis.data_dir).await?;
        let secret = password::resolve(profile).await?;
        let gw = Gateway::bind(profile, GatewayOptions::from_profile(profile), sink).await?;
        let addr = gw.local_addr();
        let probe = gw.probe();
        let cancel = CancellationToken::new();
        let serving = tokio::spawn(gw.serve(sink.clone(), cancel.clone()));
        let endpoint = Endpoint {
            host: connect_host(addr.ip()),
            port: addr.port(),
            password: Some(secret),
            tls: false,
            tls_ca: None,
            db: 0,
        };
        Ok(Self {
            endpoint,
            probe,
            cancel,
            serving,
        })
    }

    /// Stop serving (Redis is saved and stopped) and return what the gateway counted.
    pub(crate) async fn stop(self) -> EngineResult<GatewayReport> {
        self.cancel.cancel();
        self.serving.await.context("the gateway task failed")
    }
}

/// Where a client on this machine reaches a listener bound to `ip` ("any" → loopback).
pub(crate) fn connect_host(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => "::1".into(),
        ip => ip.to_string(),
    }
}

/// Whole milliseconds for the report's settings (`think_ms`, `idle_ms`), saturating.
fn whole_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn count(rows: &[StudyRow], f: impl Fn(&StudyRow) -> bool) -> u32 {
    u32::try_from(rows.iter().filter(|r| f(r)).count()).unwrap_or(u32::MAX)
}

async fn invoke(
    job: &Job<'_>,
    endpoint: &Endpoint,
    think: Duration,
    probe: &GatewayProbe,
) -> EngineResult<(Vec<StudyRow>, bool)> {
    let (profile, sink, cancel) = (job.profile, job.sink, &job.cancel);
    let platform = job.platform(Preflight::Skip).await?;
    let name = action_name(profile);
    job.deploy(&platform, &[(BuiltinAction::Bench, &name)])
        .await?;
    sink.send(EngineEvent::Phase(Phase::Invoking));
    let host = action_redis_host(profile, endpoint);
    let mut rows = Vec::new();
    for index in 0..profile.workload.invocations {
        if index > 0 {
            tokio::select! {
                () = tokio::time::sleep(think) => {}
                () = cancel.cancelled() => return Ok((rows, true)),
            }
        }
        let params =
            serde_json::to_value(super::bench_params(profile, endpoint, &host, index, &[]))?;
        let before = probe.wakes();
        let result = tokio::select! {
            r = platform.invoke(&name, params) => r,
            () = cancel.cancelled() => return Ok((rows, true)),
        };
        let woken = probe.wakes() > before;
        let mut a = match result {
            Ok(a) => a,
            Err(e) if e.is_per_invocation() => {
                sink.warn(format!("invocation {index}: {e}"));
                rows.push(StudyRow {
                    index,
                    woken,
                    success: false,
                    connect_ms: None,
                    total_ms: None,
                    client_latency_ms: 0.0,
                    error: Some(e.to_string()),
                });
                continue;
            }
            Err(e) => {
                return Err(e).context(format!("invocation {index} failed at the platform"));
            }
        };
        a.index = index;
        let parsed = a.bench_result();
        let error = match &parsed {
            Some(r) if r.errors == 0 && r.mismatches == 0 => None,
            Some(r) => Some(format!("{} errors, {} mismatches", r.errors, r.mismatches)),
            None => Some(
                a.error_text()
                    .unwrap_or_else(|| a.response.status.as_str().into()),
            ),
        };
        if let Some(e) = &error {
            sink.warn(format!("invocation {index} failed: {e}"));
        }
        rows.push(StudyRow {
            index,
            woken,
            success: error.is_none(),
            connect_ms: parsed.as_ref().map(|r| r.connect_ms),
            total_ms: parsed.as_ref().map(|r| r.total_ms),
            client_latency_ms: a.client_latency_ms,
            error,
        });
        sink.send(EngineEvent::Activation(Box::new(a)));
    }
    Ok((rows, false))
}

fn write_results(dir: &Path, r: &StudyReport) -> EngineResult<()> {
    write_json(&dir.join("study.json"), r)?;
    crate::results::write_csv(
        &dir.join("invocations.csv"),
        "index,woken,success,connect_ms,total_ms,client_latency_ms",
        r.rows.iter().map(|row| {
            format!(
                "{},{},{},{},{},{:.3}",
                row.index,
                row.woken,
                row.success,
                csv_ms(row.connect_ms),
                csv_ms(row.total_ms),
                row.client_latency_ms
            )
        }),
    )?;
    Ok(())
}

/// The report as text: the summary, then one line per invocation.
pub fn study_text(r: &StudyReport) -> String {
    let f = |v: Option<f64>| {
        v.map(|v| format!("{v:.2} ms"))
            .unwrap_or_else(|| "—".into())
    };
    let mut out = format!(
        "case study 3: functions against a sleeping Redis (profile {}, {} backend)\n\
         think time {} ms, gateway idle {} ms: {} invocations, {} woke Redis, {} warm, {} failed{}\n\
         connect phase (TCP connect + AUTH + PING, inside the function):\n\
         \x20 woken  p50 {}  p99 {}  (n = {})\n\
         \x20 warm   p50 {}  (n = {})\n\
         \x20 wake cost inside the connect phase (p50 woken − p50 warm): {}\n\
         gateway: {} wakes, wake p50 {} (first connection → PING answered)\n\n\
         {:>5}  {:<5}  {:>11}  {:>11}  {:>11}\n",
        r.profile,
        r.backend,
        r.think_ms,
        r.idle_ms,
        r.invocations,
        r.woken,
        r.warm,
        r.failed,
        if r.cancelled { " (cancelled)" } else { "" },
        f(r.connect_p50_woken_ms),
        f(r.connect_p99_woken_ms),
        r.woken,
        f(r.connect_p50_warm_ms),
        r.warm,
        f(r.wake_cost_p50_ms),
        r.gateway_wakes,
        f(r.gateway_wake_p50_ms),
        "index",
        "woken",
        "connect",
        "total",
        "client"
    );
    for row in &r.rows {
        out.push_str(&format!(
            "{:>5}  {:<5}  {:>11}  {:>11}  {:>8.2} ms{}\n",
            row.index,
            if row.woken { "yes" } else { "no" },
            f(row.connect_ms),
            f(row.total_ms),
            row.client_latency_ms,
            row.error
                .as_ref()
                .map(|e| format!("  error: {e}"))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!("\nresults: {}\n", r.results_dir.display()));
    out
}
