//! The text report of a run, shaped like the paper's Tables 2 and 3 with percentiles added
//! and the paper's figures beside ours.

use std::fmt::Write as _;

use crate::paper::PaperFigure;
use crate::results::{PlatformSide, RunSummary};
use crate::stats::ci::Interval;
use crate::stats::{PhaseName, Summary};

fn paper_cell(f: Option<PaperFigure>) -> String {
    f.map(|f| format!("{:.2} ± {:.2}", f.mean, f.std))
        .unwrap_or_else(|| "—".into())
}

fn phase_label(p: PhaseName, records: u32) -> String {
    match p {
        PhaseName::Connect => "connect".into(),
        PhaseName::Write => format!("write ({records} SET)"),
        PhaseName::Read => format!("read ({records} GET)"),
        PhaseName::Delete => format!("delete ({records} DEL)"),
        PhaseName::Total => "total".into(),
    }
}

fn row(label: &str, s: &Summary) -> String {
    format!(
        "{label:<20}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}",
        s.mean, s.std, s.min, s.p50, s.p95, s.p99, s.max
    )
}

fn side(out: &mut String, name: &str, p: &PlatformSide) {
    if p.count == 0 {
        return;
    }
    let _ = writeln!(out, "{}", row(&format!("{name} duration"), &p.duration_ms));
    let _ = writeln!(
        out,
        "{}",
        row(&format!("{name} client"), &p.client_latency_ms)
    );
    if p.wait_time_ms.n > 0 {
        let _ = writeln!(out, "{}", row(&format!("{name} waitTime"), &p.wait_time_ms));
    }
    if p.init_time_ms.n > 0 {
        let _ = writeln!(out, "{}", row(&format!("{name} initTime"), &p.init_time_ms));
    }
}

/// Render the report from the run's summary, as printed at the end of `redwhisk run` and
/// re-rendered from a `run.json` read back.
pub fn text_report(run: &RunSummary, results_dir: &str) -> String {
    let w = &run.workload;
    let stats = &run.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "redwhisk run · profile {} · {} Redis ({}) · {} platform",
        run.profile.name, run.redis.backend, run.redis.persistence, run.platform
    );
    let _ = writeln!(
        out,
        "workload: {} invocations × {} records, {}, {}-byte values, concurrency {}",
        w.planned,
        w.records,
        w.mode.as_str(),
        w.value_size,
        w.concurrency
    );
    let _ = writeln!(
        out,
        "outcome: {}{} — {} completed, {} ok, {} failed, {} value mismatches, {} throttled, {} platform errors; elapsed {:.1} s",
        run.outcome.as_str(),
        if run.partial { " (partial)" } else { "" },
        stats.completed,
        stats.succeeded,
        stats.failed,
        stats.mismatches,
        stats.throttled,
        stats.platform_errors,
        run.elapsed_ms / 1000.0
    );
    if let Some(cs) = &run.redis.cold_start {
        let _ = writeln!(
            out,
            "Redis cold start: {:.1} ms (image {:.1} + create {:.1} + start {:.1} + ready {:.1}), {} keys restored; the paper: ~{:.0} ms",
            cs.total_ms,
            cs.image_ms,
            cs.create_ms,
            cs.start_ms,
            cs.ready_ms,
            cs.keys_restored,
            run.paper.container_start_ms
        );
    }
    if let Some(stop) = &run.redis.stop {
        let _ = writeln!(out, "Redis stop: {:.1} ms", stop.total_ms);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Per-invocation phase time (ms), n = {} (Tables 2 and 3 of the paper, with percentiles)",
        stats.succeeded
    );
    let _ = writeln!(
        out,
        "{:<20}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}   {:<17}paper Lambda+EC",
        "phase", "mean", "std", "min", "p50", "p95", "p99", "max", "paper OW+Redis",
    );
    for p in PhaseName::ALL {
        let _ = writeln!(
            out,
            "{}   {:<17}{}",
            row(&phase_label(p, w.records), stats.phases_ms.get(p)),
            paper_cell(run.paper.openwhisk_redis_ms.get(p)),
            paper_cell(run.paper.lambda_elasticache_ms.get(p))
        );
    }
    if let Some(ci) = &stats.phase_ci_ms {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Mean phase time with {:.0}% confidence intervals (ms): Student t, and percentile bootstrap ({} resamples, seed {:#x}); CV = std / mean",
            ci.level * 100.0,
            ci.resamples,
            ci.seed
        );
        let _ = writeln!(
            out,
            "{:<20}{:>9}{:>21}{:>21}{:>8}",
            "phase", "mean", "t interval", "bootstrap interval", "CV"
        );
        let iv = |i: Option<Interval>| {
            i.map_or_else(|| "—".to_string(), |i| format!("{:.2} – {:.2}", i.lo, i.hi))
        };
        for p in PhaseName::ALL {
            let c = ci.get(p);
            let _ = writeln!(
                out,
                "{:<20}{:>9.2}{:>21}{:>21}{:>8}",
                phase_label(p, w.records),
                c.mean,
                iv(c.t_ci),
                iv(c.bootstrap_ci),
                c.cv.map_or_else(|| "—".to_string(), |v| format!("{:.1}%", v * 100.0))
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Per-command latency (µs), merged over all invocations");
    let _ = writeln!(
        out,
        "{:<8}{:>10}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "command", "n", "mean", "p50", "p95", "p99", "p99.9", "max"
    );
    let cmds = &stats.per_command_us;
    for (c, name) in [
        (&cmds.write, "SET"),
        (&cmds.read, "GET"),
        (&cmds.delete, "DEL"),
    ] {
        let _ = writeln!(
            out,
            "{name:<8}{:>10}{:>9.1}{:>9.0}{:>9.0}{:>9.0}{:>9.0}{:>9.0}",
            c.n, c.mean_us, c.p50_us, c.p95_us, c.p99_us, c.p999_us, c.max_us
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Platform (ms): {} cold, {} warm invocations",
        stats.platform.cold.count, stats.platform.warm.count
    );
    side(&mut out, "cold", &stats.platform.cold);
    side(&mut out, "warm", &stats.platform.warm);
    let _ = writeln!(out, "{}", row("engine overhead", &stats.engine_overhead_ms));
    let _ = writeln!(
        out,
        "  (engine overhead = client-side latency − the action's own total, per invocation)"
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "results: {results_dir} (run.json, invocations.csv)");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run.json written by the first release renders exactly the report that run printed.
    #[test]
    fn a_run_read_back_renders_the_report_it_printed() {
        let run = RunSummary::from_json(include_str!("../tests/fixtures/run-v1.json")).unwrap();
        let printed = include_str!("../tests/fixtures/run-v1.txt");
        let dir = printed
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("results: "))
            .and_then(|l| l.strip_suffix(" (run.json, invocations.csv)"))
            .unwrap();
        assert_eq!(text_report(&run, dir), printed);
    }
}
