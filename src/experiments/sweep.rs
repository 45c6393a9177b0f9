//! `redwhisk sweep`: case study 1 at a series of concurrencies, one full run per step (Redis
//! started and stopped as in any run, results written under one sweep directory), and the
//! throughput and latency of each step side by side, with the knee named.
//!
//! Throughput is measured over the invocation window only: from the moment the engine starts
//! invoking to the last activation's arrival, so Redis start/stop and the deploy are not in it.

use std::time::Instant;

use super::{Context, EngineResult};
use tokio_util::sync::CancellationToken;

use super::job::{Job, write_json};
use super::{EngineError, RunOptions, run_experiment};
use crate::event::{EngineEvent, EventSink, Phase};
pub use crate::model::sweep::{CONSOLE_CONCURRENCIES, KNEE_SHARE, SweepReport, SweepStep, knee};
use crate::profile::Profile;

/// Whether a sweep step's run finished (`Ok(true)`) or was cancelled (`Ok(false)`: the sweep
/// stops and keeps the steps before it); any other ending is an error naming the step (`what`)
/// and its results. One rule for the concurrency, rate and RTT sweeps.
pub(super) fn step_done(outcome: &super::RunOutcome, what: &str) -> EngineResult<bool> {
    let ended = || {
        format!(
            "{what} ended {}: see {}",
            outcome.outcome.label(),
            outcome.results_dir.display()
        )
    };
    match outcome.outcome {
        Phase::Done => Ok(true),
        Phase::Cancelled => Ok(false),
        Phase::RedisLost => Err(EngineError::RedisLost(ended())),
        _ => Err(EngineError::Failed(ended())),
    }
}

/// Run the steps in order. `invocations` per step (at least the step's concurrency).
pub async fn run_sweep(
    base: &Profile,
    concurrencies: &[u32],
    results_root: &std::path::Path,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<SweepReport> {
    let job = Job::quiet(base, sink, cancel.clone());
    let dir = job.results_dir(results_root, "sweep")?;
    let mut steps = Vec::new();
    let mut cancelled = false;
    sink.send(EngineEvent::SweepStarted {
        profile: base.name.clone(),
        concurrencies: concurrencies.to_vec(),
    });
    for &c in concurrencies {
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        let profile = base.with_concurrency(c);
        sink.info(format!(
            "sweep: concurrency {c}, {} invocations",
            profile.workload.invocations
        ));
        let (step_sink, mut step_events) = EventSink::new();
        let outer = sink.clone();
        // Forward everything, and note when invoking starts and the last activation arrives.
        let watcher = tokio::spawn(async move {
            let mut first: Option<Instant> = None;
            let mut last: Option<Instant> = None;
            while let Some(ev) = step_events.recv().await {
                match &ev {
                    EngineEvent::Phase(Phase::Invoking) if first.is_none() => {
                        first = Some(Instant::now());
                    }
                    EngineEvent::Activation(_) => last = Some(Instant::now()),
                    _ => {}
                }
                outer.send(ev);
            }
            first.zip(last).map(|(a, b)| b.duration_since(a))
        });
        let opts = RunOptions {
            results_root: Some(dir.join(format!("c{c:03}"))),
            force: CancellationToken::new(),
        };
        let outcome = run_experiment(&profile, &opts, &step_sink, cancel.clone()).await;
        drop(step_sink);
        let window = watcher.await.context("the sweep's event watcher failed")?;
        let outcome = outcome.with_context(|| format!("sweep step at concurrency {c}"))?;
        if !step_done(&outcome, &format!("sweep step at concurrency {c}"))? {
            cancelled = true;
            break;
        }
        let s = &outcome.summary.summary;
        let window_ms = window.map_or(0.0, crate::stats::ms);
        let per_s = |n: f64| {
            if window_ms > 0.0 {
                n * 1000.0 / window_ms
            } else {
                0.0
            }
        };
        let cmds = s.succeeded as f64 * f64::from(profile.workload.records) * 3.0;
        let total = &s.phases_ms.total;
        steps.push(SweepStep {
            concurrency: c,
            invocations: s.completed,
            failed: s.failed,
            window_ms,
            invocations_per_s: per_s(s.completed as f64),
            commands_per_s: per_s(cmds),
            total_p50_ms: total.p50,
            total_p95_ms: total.p95,
            total_p99_ms: total.p99,
            set_p50_us: s.per_command_us.write.p50_us,
            set_p99_us: s.per_command_us.write.p99_us,
            get_p50_us: s.per_command_us.read.p50_us,
            get_p99_us: s.per_command_us.read.p99_us,
            results_dir: outcome.results_dir,
        });
        if let Some(step) = steps.last() {
            sink.send(EngineEvent::SweepStep(Box::new(step.clone())));
        }
    }
    let (knee, peak) = knee(&steps);
    let report = SweepReport {
        profile: base.name.clone(),
        backend: base.redis.backend.label().into(),
        platform: base.platform.label().into(),
        records: base.workload.records,
        cpus: crate::results::HostInfo::current().cpus,
        steps,
        knee,
        peak_invocations_per_s: peak,
        cancelled,
        results_dir: dir.clone(),
    };
    write(&dir, &report).with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(report)
}

fn write(dir: &std::path::Path, r: &SweepReport) -> EngineResult<()> {
    write_json(&dir.join("sweep.json"), r)?;
    crate::results::write_csv(
        &dir.join("sweep.csv"),
        "concurrency,invocations,failed,window_ms,invocations_per_s,commands_per_s,total_p50_ms,total_p95_ms,total_p99_ms,set_p50_us,set_p99_us,get_p50_us,get_p99_us",
        r.steps.iter().map(|s| {
            format!(
                "{},{},{},{:.3},{:.3},{:.1},{:.3},{:.3},{:.3},{:.1},{:.1},{:.1},{:.1}",
                s.concurrency,
                s.invocations,
                s.failed,
                s.window_ms,
                s.invocations_per_s,
                s.commands_per_s,
                s.total_p50_ms,
                s.total_p95_ms,
                s.total_p99_ms,
                s.set_p50_us,
                s.set_p99_us,
                s.get_p50_us,
                s.get_p99_us
            )
        }),
    )?;
    Ok(())
}

/// The table the CLI prints.
pub fn sweep_text(r: &SweepReport) -> String {
    let mut out = format!(
        "sweep of `{}` ({} redis, {} platform, {} records per invocation, {} CPUs)\n\n\
         {:>5} {:>6} {:>6} {:>9} {:>10} {:>9} {:>9} {:>9} {:>8} {:>8}\n",
        r.profile,
        r.backend,
        r.platform,
        r.records,
        r.cpus,
        "conc",
        "inv",
        "failed",
        "inv/s",
        "cmds/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "SET p50",
        "GET p50",
    );
    for s in &r.steps {
        let mark = if Some(s.concurrency) == r.knee {
            "  ← knee"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:>5} {:>6} {:>6} {:>9.1} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>6.0}µs {:>6.0}µs{mark}\n",
            s.concurrency,
            s.invocations,
            s.failed,
            s.invocations_per_s,
            s.commands_per_s,
            s.total_p50_ms,
            s.total_p95_ms,
            s.total_p99_ms,
            s.set_p50_us,
            s.get_p50_us,
        ));
    }
    match r.knee {
        Some(k) => out.push_str(&format!(
            "\nknee: concurrency {k}, the smallest step reaching {:.0}% of the peak {:.1} invocations/s; beyond it more concurrency adds latency, not throughput\n",
            KNEE_SHARE * 100.0,
            r.peak_invocations_per_s
        )),
        None => out.push_str("\nknee: none (no step completed)\n"),
    }
    if r.cancelled {
        out.push_str("cancelled: the steps above are those that finished\n");
    }
    out.push_str(&format!("results: {}\n", r.results_dir.display()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn step(c: u32, ips: f64) -> SweepStep {
        SweepStep {
            concurrency: c,
            invocations: 10,
            failed: 0,
            window_ms: 1.0,
            invocations_per_s: ips,
            commands_per_s: 0.0,
            total_p50_ms: 0.0,
            total_p95_ms: 0.0,
            total_p99_ms: 0.0,
            set_p50_us: 0.0,
            set_p99_us: 0.0,
            get_p50_us: 0.0,
            get_p99_us: 0.0,
            results_dir: PathBuf::new(),
        }
    }

    #[test]
    fn the_knee_is_the_first_step_near_the_peak() {
        let steps = [
            step(1, 10.0),
            step(2, 19.0),
            step(4, 30.0),
            step(8, 31.0),
            step(16, 29.0),
        ];
        assert_eq!(knee(&steps), (Some(4), 31.0));
        assert_eq!(knee(&[]), (None, 0.0));
        assert_eq!(knee(&[step(1, 0.0)]), (None, 0.0));
    }
}
