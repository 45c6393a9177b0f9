//! `redwhisk sweep --rtt`: case study 1 at a series of emulated distances between the
//! functions and Redis (`[redis.network_emulation]` at each RTT), one full run per step, each
//! phase fitted against the RTT, and where the function time crosses a budget.

use super::job::{Job, write_json};
use super::{Context, EngineResult};
use super::{RunOptions, run_experiment};
use crate::event::{EngineEvent, EventSink};
pub use crate::model::rtt_sweep::{
    CONSOLE_RTTS, Crossing, Fit, PhaseFits, RttStep, RttSweepReport, crossing, fit_phases,
};
use crate::profile::Profile;
use crate::stats::PhaseName;
use tokio_util::sync::CancellationToken;

/// The file an RTT sweep writes in its directory.
pub const RTT_SWEEP_JSON: &str = "rtt-sweep.json";

/// Run one step per RTT (ms), in order; `budget_ms`: the function time to name the crossing of.
pub async fn run_rtt_sweep(
    base: &Profile,
    rtts: &[f64],
    budget_ms: Option<f64>,
    results_root: &std::path::Path,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<RttSweepReport> {
    let job = Job::quiet(base, sink, cancel.clone());
    let dir = job.results_dir(results_root, "rtt-sweep")?;
    let mut steps = Vec::new();
    let mut cancelled = false;
    sink.send(EngineEvent::RttSweepStarted {
        profile: base.name.clone(),
        rtts: rtts.to_vec(),
    });
    for (i, &rtt) in rtts.iter().enumerate() {
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        let profile = base.with_rtt(rtt);
        sink.info(format!(
            "sweep: rtt {rtt} ms ({} of {}), {} invocations",
            i + 1,
            rtts.len(),
            profile.workload.invocations
        ));
        let opts = RunOptions {
            results_root: Some(dir.join(format!("rtt{:02}-{rtt}ms", i + 1))),
            force: CancellationToken::new(),
        };
        let outcome = run_experiment(&profile, &opts, sink, cancel.clone())
            .await
            .with_context(|| format!("sweep step at rtt {rtt} ms"))?;
        if !super::sweep::step_done(&outcome, &format!("sweep step at rtt {rtt} ms"))? {
            cancelled = true;
            break;
        }
        let s = &outcome.summary.summary;
        let mean = |p: PhaseName| s.phases_ms.get(p).mean;
        let step = RttStep {
            rtt_ms: rtt,
            measured: outcome
                .summary
                .redis
                .network_emulation
                .as_ref()
                .map(|n| n.measured),
            invocations: s.completed,
            failed: s.failed,
            connect_ms: mean(PhaseName::Connect),
            write_ms: mean(PhaseName::Write),
            read_ms: mean(PhaseName::Read),
            delete_ms: mean(PhaseName::Delete),
            total_ms: mean(PhaseName::Total),
            results_dir: outcome.results_dir,
        };
        sink.send(EngineEvent::RttSweepStep(Box::new(step.clone())));
        steps.push(step);
    }
    let fits = fit_phases(&steps);
    let total_fit = fits.as_ref().map(|f| f.total);
    let report = RttSweepReport {
        profile: base.name.clone(),
        backend: base.redis.backend.label().into(),
        platform: base.platform.label().into(),
        mode: base.workload.mode,
        records: base.workload.records,
        invocations: base.workload.invocations,
        method: "userspace".into(),
        budget: budget_ms.map(|b| crossing(&steps, total_fit.as_ref(), b)),
        paper_lambda: crate::paper::lambda_elasticache(PhaseName::Total)
            .map(|f| crossing(&steps, total_fit.as_ref(), f.mean)),
        steps,
        fits,
        cancelled,
        results_dir: dir.clone(),
    };
    write(&dir, &report).with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(report)
}

fn write(dir: &std::path::Path, r: &RttSweepReport) -> EngineResult<()> {
    write_json(&dir.join(RTT_SWEEP_JSON), r)?;
    crate::results::write_csv(
        &dir.join("rtt-sweep.csv"),
        "rtt_ms,measured_rtt_ms,invocations,failed,connect_ms,write_ms,read_ms,delete_ms,total_ms",
        r.steps.iter().map(|s| {
            format!(
                "{},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3}",
                s.rtt_ms,
                s.measured
                    .map_or_else(String::new, |m| format!("{:.4}", m.median_ms)),
                s.invocations,
                s.failed,
                s.connect_ms,
                s.write_ms,
                s.read_ms,
                s.delete_ms,
                s.total_ms
            )
        }),
    )?;
    Ok(())
}

fn crossing_text(c: &Crossing) -> String {
    match c.rtt_ms {
        Some(r) if c.within_steps => format!("at rtt {r:.3} ms (between the measured steps)"),
        Some(r) => format!("at rtt {r:.3} ms (beyond the steps: extrapolated from the fit)"),
        None => "never (the function time does not grow with the RTT)".into(),
    }
}

/// The table the CLI prints.
pub fn rtt_sweep_text(r: &RttSweepReport) -> String {
    let mut out = format!(
        "rtt sweep of `{}` ({} redis, {} platform, {} mode, {} records × {} invocations per step, {} network emulation)\n\n\
         {:>8} {:>10} {:>4} {:>10} {:>11} {:>11} {:>11} {:>11}\n",
        r.profile,
        r.backend,
        r.platform,
        r.mode.as_str(),
        r.records,
        r.invocations,
        r.method,
        "rtt ms",
        "measured",
        "inv",
        "connect",
        "write",
        "read",
        "delete",
        "function",
    );
    for s in &r.steps {
        out.push_str(&format!(
            "{:>8} {:>10} {:>4} {:>10.2} {:>11.2} {:>11.2} {:>11.2} {:>11.2}\n",
            s.rtt_ms,
            s.measured
                .map_or_else(|| "—".to_string(), |m| format!("{:.3}", m.median_ms)),
            s.invocations,
            s.connect_ms,
            s.write_ms,
            s.read_ms,
            s.delete_ms,
            s.total_ms,
        ));
    }
    out.push_str("(phase means in ms; measured: median PING round trip through the path)\n");
    match &r.fits {
        Some(f) => {
            out.push_str(
                "\nleast-squares fit of each phase's time against the RTT (slope = round trips per phase)\n",
            );
            out.push_str(&format!(
                "{:<10} {:>12} {:>14} {:>8}\n",
                "phase", "round trips", "at 0 rtt (ms)", "r²"
            ));
            for (name, fit) in [
                ("connect", f.connect),
                ("write", f.write),
                ("read", f.read),
                ("delete", f.delete),
                ("function", f.total),
            ] {
                out.push_str(&format!(
                    "{name:<10} {:>12.1} {:>14.2} {:>8.4}\n",
                    fit.slope, fit.intercept_ms, fit.r2
                ));
            }
        }
        None => out.push_str("\nfit: needs at least two steps at different RTTs\n"),
    }
    if let Some(b) = &r.budget {
        out.push_str(&format!(
            "\nbudget {} ms: the function time crosses it {}\n",
            b.time_ms,
            crossing_text(b)
        ));
    }
    if let Some(p) = &r.paper_lambda {
        out.push_str(&format!(
            "the paper's Lambda + ElastiCache mean function time ({} ms, Table 3, {} records) is reached {}\n",
            p.time_ms,
            crate::paper::RECORDS,
            crossing_text(p)
        ));
        if r.records != crate::paper::RECORDS {
            out.push_str(&format!(
                "  (this sweep ran {} records per invocation, not the paper's {}: scale before comparing)\n",
                r.records,
                crate::paper::RECORDS
            ));
        }
    }
    if r.cancelled {
        out.push_str("cancelled: the steps above are those that finished\n");
    }
    out.push_str(&format!("results: {}\n", r.results_dir.display()));
    out
}
