//! The text report of a run, shaped like the paper's Tables 2 and 3 with percentiles added
//! and the paper's figures beside ours.

use std::fmt::Write as _;

use crate::model::run::OpenLoopSummary;
use crate::paper::PaperFigure;
use crate::results::{ClientWaits, PlatformSide, RunSummary};
use crate::stats::ci::Interval;
use crate::stats::{CommandSummary, PhaseName, Summary};

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

/// One table row; with n = 0 there is nothing to show, and "—" says so (0.00 would read as a
/// measurement).
fn row(label: &str, s: &Summary) -> String {
    if s.n == 0 {
        return format!("{label:<20}{}", format!("{:>9}", "—").repeat(7));
    }
    format!(
        "{label:<20}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}",
        s.mean, s.std, s.min, s.p50, s.p95, s.p99, s.max
    )
}

fn command_row(name: &str, c: &CommandSummary) -> String {
    if c.n == 0 {
        return format!("{name:<8}{:>10}{}", 0, format!("{:>9}", "—").repeat(6));
    }
    format!(
        "{name:<8}{:>10}{:>9.1}{:>9.0}{:>9.0}{:>9.0}{:>9.0}{:>9.0}",
        c.n, c.mean_us, c.p50_us, c.p95_us, c.p99_us, c.p999_us, c.max_us
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

/// The OpenWhisk client's time outside the latency, only where there was some.
fn client_waits(out: &mut String, c: &ClientWaits) {
    let rows = [
        (
            "throttle wait",
            &c.throttle_wait_ms,
            "waiting out 429s before the invoke was accepted; not in the client latency",
        ),
        (
            "poll overhead",
            &c.poll_overhead_ms,
            "after a 202: at most this much of the client latency is polling granularity",
        ),
        (
            "log fetch",
            &c.log_fetch_ms,
            "the extra request for the logs (platform.fetch_logs); not in the client latency",
        ),
    ];
    for (label, s, why) in rows {
        if s.n > 0 {
            let _ = writeln!(out, "{}", row(label, s));
            let _ = writeln!(out, "  ({label}, n = {}: {why})", s.n);
        }
    }
}

/// The open-loop section: rates, late starts, corrected beside uncorrected latency, and the
/// throughput per second.
fn open_loop(out: &mut String, o: &OpenLoopSummary, records: u32) {
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Open loop: target {:.2}/s, scheduled {:.2}/s, achieved {:.2}/s ({:.1}% of the schedule); {} of {} starts late (delay: {})",
        o.target_rate,
        o.scheduled_rate,
        o.achieved_rate,
        o.accuracy() * 100.0,
        o.late_starts,
        o.invocations,
        if o.late_delay_ms.n > 0 {
            format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                o.late_delay_ms.p50, o.late_delay_ms.p99, o.late_delay_ms.max
            )
        } else {
            "none".into()
        }
    );
    let _ = writeln!(
        out,
        "Latency (ms): corrected = from the intended start; uncorrected = from the send (phases: the phase time, + the start delay when corrected)"
    );
    let _ = writeln!(
        out,
        "{:<20}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "", "mean", "std", "min", "p50", "p95", "p99", "max"
    );
    let _ = writeln!(out, "{}", row("invocation corr.", &o.corrected_ms));
    let _ = writeln!(out, "{}", row("invocation uncorr.", &o.uncorrected_ms));
    for p in PhaseName::ALL {
        let label = phase_label(p, records);
        let short: String = label.split(' ').next().unwrap_or_default().into();
        let _ = writeln!(
            out,
            "{}",
            row(&format!("{short} corr."), o.phases_corrected_ms.get(p))
        );
    }
    let per_s: Vec<String> = o.throughput_per_s.iter().map(u64::to_string).collect();
    let _ = writeln!(
        out,
        "throughput per second (completions): {}",
        if per_s.is_empty() {
            "—".to_string()
        } else {
            per_s.join(" ")
        }
    );
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
        "workload: {} invocations × {} records, {}, {}-byte values, {}",
        w.planned,
        w.records,
        w.mode.as_str(),
        w.value_size,
        match &w.open_loop {
            Some(o) => format!("open loop at {}/s", o.rate),
            None => format!("concurrency {}", w.concurrency),
        }
    );
    if let Some(o) = &w.open_loop {
        let _ = writeln!(
            out,
            "open loop: {} arrivals at {} per second, at most {} in flight, seed {}; a start more than {} ms after its intended time is late",
            o.arrivals.as_str(),
            o.rate,
            o.max_in_flight,
            o.seed,
            o.late_tolerance_ms
        );
    }
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
    if let Some(c) = &run.cost {
        let _ = writeln!(out, "{}", c.line());
    }
    if let Some(c) = stats.client.filter(|c| c.whisk_errors > 0) {
        let _ = writeln!(
            out,
            "  of the failed, {} ended as a whisk internal error (HTTP 500 with a record)",
            c.whisk_errors
        );
    }
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
        if let Some(cl) = &cs.cluster {
            let _ = writeln!(out, "Redis {}", cl.summary());
        }
    }
    if let Some(stop) = &run.redis.stop {
        let _ = writeln!(out, "Redis stop: {:.1} ms", stop.total_ms);
    }
    if let Some(n) = &run.redis.network_emulation {
        let _ = writeln!(out, "functions → Redis: {}", n.summary());
    }
    if let Some(n) = run.redis.prefix_keys_at_start.filter(|n| *n > 0) {
        let _ = writeln!(
            out,
            "Keys with this run's prefix already in Redis at the start: {n} (left by an earlier run)"
        );
    }
    if let Some(n) = run.redis.prefix_keys_deleted {
        let _ = writeln!(
            out,
            "Cancelled: {n} keys of this run deleted before the final save"
        );
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
    if let Some(o) = &stats.open_loop {
        open_loop(&mut out, o, w.records);
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
        let _ = writeln!(out, "{}", command_row(name, c));
    }
    if let Some(cl) = &stats.cluster {
        let _ = writeln!(
            out,
            "cluster routing: {} MOVED and {} ASK redirections followed, {} retries, over all invocations ({} masters)",
            cl.moved, cl.ask, cl.retries, cl.nodes
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
    if let Some(c) = &stats.client {
        client_waits(&mut out, c);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "results: {results_dir} (run.json, invocations.csv)");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11 (7): a run where nothing succeeded prints "—", never 0.00 with n = 0.
    #[test]
    fn empty_tables_print_dashes_not_zeros() {
        let mut run = RunSummary::from_json(include_str!("../tests/fixtures/run-v1.json")).unwrap();
        let empty = Summary::default();
        for p in [
            &mut run.summary.phases_ms.connect,
            &mut run.summary.phases_ms.write,
            &mut run.summary.phases_ms.read,
            &mut run.summary.phases_ms.delete,
            &mut run.summary.phases_ms.total,
            &mut run.summary.engine_overhead_ms,
        ] {
            *p = empty;
        }
        let none = CommandSummary::default();
        run.summary.per_command_us.write = none;
        run.summary.per_command_us.read = none;
        run.summary.per_command_us.delete = none;
        run.summary.succeeded = 0;
        let text = text_report(&run, "results/x");
        let line = |start: &str| {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no `{start}` line in\n{text}"))
                .to_string()
        };
        for start in [
            "connect ",
            "write (",
            "total ",
            "engine overhead",
            "SET ",
            "DEL ",
        ] {
            let l = line(start);
            assert!(l.contains('—') && !l.contains("0.00"), "{l}");
        }
        assert!(line("SET ").split_whitespace().nth(1) == Some("0"));
    }

    /// The client's waits and the whisk errors appear when there were some.
    #[test]
    fn client_waits_and_whisk_errors_are_reported_apart() {
        let mut run = RunSummary::from_json(include_str!("../tests/fixtures/run-v1.json")).unwrap();
        let one = |ms: f64| Summary {
            n: 1,
            mean: ms,
            min: ms,
            p50: ms,
            p95: ms,
            p99: ms,
            max: ms,
            std: 0.0,
        };
        run.summary.client = Some(ClientWaits {
            throttle_wait_ms: one(1500.0),
            poll_overhead_ms: Summary::default(),
            log_fetch_ms: one(3.0),
            whisk_errors: 2,
        });
        let text = text_report(&run, "results/x");
        assert!(text.contains("2 ended as a whisk internal error"), "{text}");
        let has = |start: &str, figure: &str| {
            text.lines()
                .any(|l| l.starts_with(start) && l.contains(figure))
        };
        assert!(has("throttle wait", "1500.00"), "{text}");
        assert!(has("log fetch", "3.00"), "{text}");
        assert!(!text.contains("poll overhead"), "{text}");
    }

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
