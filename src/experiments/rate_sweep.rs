//! `redwhisk sweep --rates`: case study 1 as an open loop at each of a list of arrival rates,
//! one full run per rate (Redis started and stopped as in any run, results under one sweep
//! directory), and the saturation point named: the highest rate whose achieved rate stays
//! within 5% of the schedule and whose corrected p99 stays under the bound given.

use tokio_util::sync::CancellationToken;

use super::job::{Job, write_json};
use super::{Context, EngineResult, RunOptions, bail, run_experiment};
use crate::event::{EngineEvent, EventSink};
pub use crate::model::rate_sweep::{
    CONSOLE_P99_BOUND_MS, CONSOLE_RATES, KEEPS_UP_SHARE, RateStep, RateSweepReport, saturation,
    sustained,
};
use crate::profile::Profile;

/// Run one open-loop step per profile in `steps` (each already at its rate), in order.
pub async fn run_rate_sweep(
    base: &Profile,
    steps_profiles: &[Profile],
    p99_bound_ms: f64,
    results_root: &std::path::Path,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<RateSweepReport> {
    let job = Job::quiet(base, sink, cancel.clone());
    let dir = job.results_dir(results_root, "rate-sweep")?;
    let mut steps = Vec::new();
    let mut cancelled = false;
    sink.send(EngineEvent::RateSweepStarted {
        profile: base.name.clone(),
        rates: steps_profiles
            .iter()
            .filter_map(|p| p.workload.open.map(|o| o.rate))
            .collect(),
        p99_bound_ms,
    });
    for profile in steps_profiles {
        let Some(open) = profile.workload.open else {
            bail!("rate sweep step without a rate (internal error)");
        };
        let rate = open.rate;
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        sink.info(format!(
            "rate sweep: {rate}/s, {} invocations",
            profile.workload.invocations
        ));
        let opts = RunOptions {
            results_root: Some(dir.join(format!("r{rate}"))),
            force: CancellationToken::new(),
        };
        let outcome = run_experiment(profile, &opts, sink, cancel.clone())
            .await
            .with_context(|| format!("rate sweep step at {rate}/s"))?;
        if !super::sweep::step_done(&outcome, &format!("rate sweep step at {rate}/s"))? {
            cancelled = true;
            break;
        }
        let s = &outcome.summary.summary;
        let Some(o) = &s.open_loop else {
            bail!("rate sweep step at {rate}/s recorded no open-loop figures");
        };
        let step = RateStep {
            rate,
            invocations: s.completed,
            failed: s.failed,
            scheduled_rate: o.scheduled_rate,
            achieved_rate: o.achieved_rate,
            late_starts: o.late_starts,
            corrected_p50_ms: o.corrected_ms.p50,
            corrected_p99_ms: o.corrected_ms.p99,
            uncorrected_p50_ms: o.uncorrected_ms.p50,
            uncorrected_p99_ms: o.uncorrected_ms.p99,
            sustained: s.failed == 0
                && sustained(
                    o.scheduled_rate,
                    o.achieved_rate,
                    o.corrected_ms.p99,
                    p99_bound_ms,
                ),
            results_dir: outcome.results_dir,
        };
        sink.info(format!(
            "rate sweep: {rate}/s achieved {:.2}/s, corrected p99 {:.1} ms, {} late: {}",
            step.achieved_rate,
            step.corrected_p99_ms,
            step.late_starts,
            if step.sustained {
                "sustained"
            } else {
                "not sustained"
            }
        ));
        sink.send(EngineEvent::RateSweepStep(Box::new(step.clone())));
        steps.push(step);
    }
    let open = steps_profiles.first().and_then(|p| p.workload.open);
    let report = RateSweepReport {
        profile: base.name.clone(),
        backend: base.redis.backend.label().into(),
        platform: base.platform.label().into(),
        records: base.workload.records,
        arrivals: open.map_or("constant", |o| o.arrivals.as_str()).into(),
        max_in_flight: open.map_or(0, |o| o.max_in_flight),
        cpus: crate::results::HostInfo::current().cpus,
        p99_bound_ms,
        saturation: saturation(&steps),
        steps,
        cancelled,
        results_dir: dir.clone(),
    };
    write(&dir, &report).with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(report)
}

fn write(dir: &std::path::Path, r: &RateSweepReport) -> EngineResult<()> {
    write_json(&dir.join("rate-sweep.json"), r)?;
    crate::results::write_csv(
        &dir.join("rate-sweep.csv"),
        "rate,invocations,failed,scheduled_rate,achieved_rate,late_starts,corrected_p50_ms,corrected_p99_ms,uncorrected_p50_ms,uncorrected_p99_ms,sustained",
        r.steps.iter().map(|s| {
            format!(
                "{},{},{},{:.3},{:.3},{},{:.3},{:.3},{:.3},{:.3},{}",
                s.rate,
                s.invocations,
                s.failed,
                s.scheduled_rate,
                s.achieved_rate,
                s.late_starts,
                s.corrected_p50_ms,
                s.corrected_p99_ms,
                s.uncorrected_p50_ms,
                s.uncorrected_p99_ms,
                s.sustained
            )
        }),
    )?;
    Ok(())
}

/// The table the CLI prints.
pub fn rate_sweep_text(r: &RateSweepReport) -> String {
    let mut out = format!(
        "rate sweep of `{}` ({} redis, {} platform, {} records per invocation, {} arrivals, at most {} in flight, {} CPUs)\n\n\
         {:>8} {:>6} {:>6} {:>9} {:>7} {:>6} {:>11} {:>11} {:>11} {:>11}\n",
        r.profile,
        r.backend,
        r.platform,
        r.records,
        r.arrivals,
        r.max_in_flight,
        r.cpus,
        "rate/s",
        "inv",
        "failed",
        "achieved",
        "of sch.",
        "late",
        "corr p50",
        "corr p99",
        "uncorr p50",
        "uncorr p99",
    );
    for s in &r.steps {
        let mark = if Some(s.rate) == r.saturation {
            "  ← saturation point"
        } else if s.sustained {
            ""
        } else {
            "  (not sustained)"
        };
        let share = if s.scheduled_rate > 0.0 {
            s.achieved_rate / s.scheduled_rate * 100.0
        } else {
            0.0
        };
        out.push_str(&format!(
            "{:>8} {:>6} {:>6} {:>9.2} {:>6.1}% {:>6} {:>8.1} ms {:>8.1} ms {:>8.1} ms {:>8.1} ms{mark}\n",
            s.rate,
            s.invocations,
            s.failed,
            s.achieved_rate,
            share,
            s.late_starts,
            s.corrected_p50_ms,
            s.corrected_p99_ms,
            s.uncorrected_p50_ms,
            s.uncorrected_p99_ms,
        ));
    }
    match r.saturation {
        Some(rate) => out.push_str(&format!(
            "\nsaturation point: {rate}/s, the highest rate whose achieved rate is within {:.0}% of the schedule and whose corrected p99 stays under {} ms\n",
            (1.0 - KEEPS_UP_SHARE) * 100.0,
            r.p99_bound_ms
        )),
        None => out.push_str(&format!(
            "\nsaturation point: none (no rate was sustained within {:.0}% with a corrected p99 under {} ms)\n",
            (1.0 - KEEPS_UP_SHARE) * 100.0,
            r.p99_bound_ms
        )),
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

    fn step(rate: f64, achieved: f64, p99: f64) -> RateStep {
        RateStep {
            rate,
            invocations: 10,
            failed: 0,
            scheduled_rate: rate,
            achieved_rate: achieved,
            late_starts: 0,
            corrected_p50_ms: 0.0,
            corrected_p99_ms: p99,
            uncorrected_p50_ms: 0.0,
            uncorrected_p99_ms: 0.0,
            sustained: sustained(rate, achieved, p99, 100.0),
            results_dir: PathBuf::new(),
        }
    }

    #[test]
    fn the_saturation_point_is_the_highest_rate_kept_within_5_percent_under_the_bound() {
        let steps = [
            step(5.0, 5.0, 20.0),
            step(10.0, 9.6, 30.0),
            step(20.0, 19.5, 150.0), // kept the rate, but p99 over the bound
            step(40.0, 30.0, 50.0),  // fell behind
        ];
        assert!(steps[1].sustained && !steps[2].sustained && !steps[3].sustained);
        assert_eq!(saturation(&steps), Some(10.0));
        assert_eq!(saturation(&steps[2..]), None);
        assert!(!sustained(10.0, 9.4, 1.0, 100.0));
    }
}
