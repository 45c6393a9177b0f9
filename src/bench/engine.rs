//! `bench engine`: the engine's own cost. Runs a profile twice in one process (N/10, then N
//! invocations) and measures the engine overhead per invocation (client latency minus the
//! action's own total) and the peak resident memory after each run, so a memory that grows
//! with N shows as a growing peak.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Context, Result};
use crate::engine::{RunOptions, run_experiment};
use crate::event::EventSink;
use crate::profile::{Overrides, Profile};

/// Peak resident set size of this process in KiB (VmHWM), if the kernel tells.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What to run.
#[derive(Debug, Clone)]
pub struct EngineBenchOptions {
    /// Invocations of the larger run (the first run does a tenth of them).
    pub invocations: u32,
    pub records: u32,
    pub concurrency: u32,
    pub results_dir: PathBuf,
}

/// One run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct EngineBenchRow {
    pub invocations: u32,
    pub failed: u64,
    pub overhead_p50_ms: f64,
    pub overhead_p99_ms: f64,
    pub invocations_per_s: f64,
    pub peak_rss_mib: f64,
}

/// The invocation counts of the two runs: N/10 (at least 1), then N.
pub fn sizes(invocations: u32) -> [u32; 2] {
    [(invocations / 10).max(1), invocations]
}

/// Run `base` with `invocations` invocations and measure it.
pub async fn run_once(
    base: &Profile,
    o: &EngineBenchOptions,
    invocations: u32,
) -> Result<EngineBenchRow> {
    let p = Overrides {
        invocations: Some(invocations),
        records: Some(o.records),
        concurrency: Some(o.concurrency),
        ..Default::default()
    }
    .applied_to(base)?;
    let opts = RunOptions {
        results_root: Some(o.results_dir.clone()),
        ..Default::default()
    };
    let started = Instant::now();
    let out = run_experiment(&p, &opts, &EventSink::discard(), CancellationToken::new()).await?;
    let secs = started.elapsed().as_secs_f64();
    let ov = out.stats.overhead.summary();
    Ok(EngineBenchRow {
        invocations,
        failed: out.stats.failed,
        overhead_p50_ms: ov.p50,
        overhead_p99_ms: ov.p99,
        invocations_per_s: f64::from(invocations) / secs,
        peak_rss_mib: peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
    })
}

/// The open-loop scheduler's own cost and accuracy, with nothing behind it: `arrivals`
/// arrivals at `rate` per second, each "invocation" a future that completes at once, paced
/// by the run's [`Pacer`] in the run's loop shape (`sleep_until` the next intended start,
/// take what is due, push into a `FuturesUnordered`). Against a baseline measured in the same
/// process just before: a bare `tokio::time::interval` at the same rate doing the same no-op.
#[derive(Debug, Clone, Serialize)]
pub struct SchedulerBench {
    pub rate: f64,
    pub arrivals: u32,
    /// Process CPU time per arrival (µs): the scheduler, and the bare interval.
    pub cpu_us_per_arrival: f64,
    pub baseline_cpu_us_per_tick: f64,
    /// How late the no-op starts were after their intended time (ms).
    pub start_delay_p50_ms: f64,
    pub start_delay_p99_ms: f64,
    pub start_delay_max_ms: f64,
    /// Starts over the span from the first intended start to the last actual one, as a share
    /// of the target rate (1.0 = exact).
    pub achieved_rate: f64,
    pub accuracy: f64,
    pub baseline_accuracy: f64,
}

fn cpu_time() -> f64 {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map_or(0.0, |t| t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
}

/// Measure the scheduler at `rate` for `arrivals` (constant arrivals).
pub async fn scheduler(rate: f64, arrivals: u32) -> SchedulerBench {
    use futures::stream::{FuturesUnordered, StreamExt};
    use tokio::time::{Instant, MissedTickBehavior, sleep_until};

    use crate::experiments::open_loop::Pacer;
    use crate::profile::{ArrivalKind, OpenLoop};
    use crate::stats::Metric;

    // Baseline: a bare interval.
    let cpu0 = cpu_time();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let t0 = Instant::now();
    let mut last = t0;
    for _ in 0..arrivals {
        last = tick.tick().await;
        std::hint::black_box(last);
    }
    let last = Instant::now().max(last);
    let baseline_cpu = cpu_time() - cpu0;
    let baseline_rate = f64::from(arrivals - 1) / last.duration_since(t0).as_secs_f64();

    // The scheduler.
    let o = OpenLoop {
        rate,
        arrivals: ArrivalKind::Constant,
        max_in_flight: 64,
        seed: 0,
    };
    let cpu0 = cpu_time();
    let mut pacer = Pacer::new(&o, arrivals, Instant::now());
    let mut in_flight = FuturesUnordered::new();
    let mut delays = Vec::with_capacity(arrivals as usize);
    let mut last_start = 0.0_f64;
    loop {
        let now = Instant::now();
        while in_flight.len() < 64 {
            let Some(a) = pacer.take_due(now) else { break };
            in_flight.push(async move { (a, Instant::now()) });
        }
        if in_flight.is_empty() && pacer.finished() {
            break;
        }
        let wake = pacer.next_due().filter(|_| in_flight.len() < 64);
        tokio::select! {
            Some((a, sent)) = in_flight.next() => {
                let t = pacer.timing(&a, sent, Instant::now(), 0.0);
                delays.push(t.start_delay_ms);
                last_start = last_start.max(t.intended_ms + t.start_delay_ms);
            }
            () = sleep_until(wake.unwrap_or(now)), if wake.is_some() => {}
        }
    }
    let cpu = cpu_time() - cpu0;
    let mut m = Metric::new();
    for &v in &delays {
        m.record_ms(v);
    }
    let d = m.summary();
    let achieved = f64::from(arrivals - 1) * 1000.0 / last_start.max(f64::MIN_POSITIVE);
    SchedulerBench {
        rate,
        arrivals,
        cpu_us_per_arrival: cpu * 1e6 / f64::from(arrivals),
        baseline_cpu_us_per_tick: baseline_cpu * 1e6 / f64::from(arrivals),
        start_delay_p50_ms: d.p50,
        start_delay_p99_ms: d.p99,
        start_delay_max_ms: d.max,
        achieved_rate: achieved,
        accuracy: achieved / rate,
        baseline_accuracy: baseline_rate / rate,
    }
}

/// An open-loop run of the profile at `rate` for `invocations`: does the whole path (platform,
/// Redis, results) keep the schedule when the system keeps up?
pub async fn open_run(
    base: &Profile,
    o: &EngineBenchOptions,
    rate: f64,
    invocations: u32,
) -> Result<Option<crate::model::run::OpenLoopSummary>> {
    let p = Overrides {
        invocations: Some(invocations),
        records: Some(o.records),
        rate: Some(rate),
        ..Default::default()
    }
    .applied_to(base)?;
    let opts = RunOptions {
        results_root: Some(o.results_dir.clone()),
        ..Default::default()
    };
    let out = run_experiment(&p, &opts, &EventSink::discard(), CancellationToken::new()).await?;
    Ok(out.summary.summary.open_loop)
}

/// One step of the overhead breakdown: its median and p99 over the invocations (µs).
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub step: &'static str,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// Where the engine overhead of a local invocation goes: `invocations` sequential
/// invocations of the bench action straight on a [`LocalPlatform`] (no scheduler around
/// them) against a throwaway redis-server, each step timed where the platform passes it.
/// The overhead is the client latency minus the action's own total, as in a run; the
/// engine's per-invocation work outside that latency (folding the record into the run's
/// statistics, sending its event to a consumer) is timed on the same records.
#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    pub keep_warm: bool,
    pub invocations: u32,
    pub records: u32,
    /// The steps inside the overhead, then the overhead itself, then the work outside it.
    pub steps: Vec<StepRow>,
}

/// Measure the breakdown (see [`Breakdown`]).
pub async fn breakdown(
    base: &Profile,
    keep_warm: bool,
    invocations: u32,
    records: u32,
    server_bin: &str,
) -> Result<Breakdown> {
    use crate::event::EngineEvent;
    use crate::platform::{BuiltinAction, LocalPlatform};
    use crate::profile::{LocalConfig, PlatformConfig};
    use crate::stats::{Metric, RunStats};

    let mut profile = base.clone();
    profile.platform = PlatformConfig::Local(LocalConfig { keep_warm });
    let server = super::action::Server::start(server_bin).await?;
    let platform = LocalPlatform::from_profile(&profile).ctx("the local platform")?;
    let name = "redwhisk-bench-breakdown";
    platform
        .deploy(BuiltinAction::Bench, name, &EventSink::discard())
        .ctx("deploying the bench action")?;
    let (sink, mut events) = EventSink::new();
    let mut stats = RunStats::new();
    let names = [
        "prepare (action lookup, params, command)",
        "start (fork + exec, or take a warm process)",
        "params to the action (pipe write)",
        "action process around its own work",
        "after the result (exit + reap, or output guards)",
        "record (result JSON parse, record build)",
        "= overhead (client latency - action total)",
        "outside it: fold into the run's statistics",
        "outside it: event to a consumer",
    ];
    let mut m: Vec<Metric> = names.iter().map(|_| Metric::new()).collect();
    let us = |v: u64| v as f64 / 1e3;
    for i in 0..invocations {
        let params = serde_json::to_value(redwhisk_actions::BenchParams {
            host: "127.0.0.1".into(),
            port: server.port,
            password: None,
            tls: false,
            tls_ca: None,
            cluster: false,
            nodes: Vec::new(),
            records,
            value_size: 32,
            mode: redwhisk_actions::Mode::Sequential,
            key_prefix: format!("rw-bench-engine:{i}"),
            seed: None,
        })
        .map_err(|e| super::BenchError::msg(format!("bench params: {e}")))?;
        let (a, s) = platform
            .invoke_timed(name, params)
            .await
            .with_ctx(|| format!("invocation {i}"))?;
        let t = Instant::now();
        let parsed = stats.record(&a);
        let fold = t.elapsed();
        let Some(r) = parsed else {
            return Err(super::BenchError::msg(format!(
                "invocation {i} of the bench action failed: {}",
                a.error_text().unwrap_or_default()
            )));
        };
        let t = Instant::now();
        sink.send(EngineEvent::Activation(Box::new(a.clone())));
        let _ = events.recv().await;
        let fanout = t.elapsed();
        let around = (s.result_us as f64 / 1e3 - r.total_ms).max(0.0);
        m[0].record_ms(us(s.prepare_us));
        m[1].record_ms(us(s.start_us));
        m[2].record_ms(us(s.params_us));
        m[3].record_ms(around);
        m[4].record_ms(us(s.after_us));
        m[5].record_ms(us(s.record_us));
        m[6].record_ms((a.client_latency_ms - r.total_ms).max(0.0));
        m[7].record_ms(crate::stats::ms(fold));
        m[8].record_ms(crate::stats::ms(fanout));
    }
    server.stop().await;
    let steps = names
        .iter()
        .zip(&m)
        .map(|(step, metric)| {
            let s = metric.summary();
            StepRow {
                step,
                p50_us: s.p50 * 1e3,
                p99_us: s.p99 * 1e3,
            }
        })
        .collect();
    Ok(Breakdown {
        keep_warm,
        invocations,
        records,
        steps,
    })
}
