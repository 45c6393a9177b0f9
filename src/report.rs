//! The text report of a run, shaped like the paper's Tables 2 and 3 with percentiles added
//! and the paper's figures beside ours.

use std::fmt::Write as _;

use crate::paper::{self, PaperFigure};
use crate::profile::Profile;
use crate::stats::{PhaseName, PlatformStats, RunStats, Summary};

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

fn side(out: &mut String, name: &str, p: &PlatformStats) {
    if p.duration.count() == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "{}",
        row(&format!("{name} duration"), &p.duration.summary())
    );
    let _ = writeln!(
        out,
        "{}",
        row(&format!("{name} client"), &p.client_latency.summary())
    );
    if p.wait_time.count() > 0 {
        let _ = writeln!(
            out,
            "{}",
            row(&format!("{name} waitTime"), &p.wait_time.summary())
        );
    }
    if p.init_time.count() > 0 {
        let _ = writeln!(
            out,
            "{}",
            row(&format!("{name} initTime"), &p.init_time.summary())
        );
    }
}

/// Render the report; `summary` is the run.json summary (for the cold start and outcome).
pub fn text_report(
    profile: &Profile,
    stats: &RunStats,
    summary: &serde_json::Value,
    results_dir: &str,
) -> String {
    let w = &profile.workload;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "redwhisk run · profile {} · {} Redis ({}) · {} platform",
        profile.name,
        profile.redis.backend.label(),
        profile.redis.persistence.label(),
        profile.platform.label()
    );
    let _ = writeln!(
        out,
        "workload: {} invocations × {} records, {}, {}-byte values, concurrency {}",
        w.invocations,
        w.records,
        w.mode.as_str(),
        w.value_size,
        w.concurrency
    );
    let outcome = summary["outcome"].as_str().unwrap_or("?");
    let _ = writeln!(
        out,
        "outcome: {outcome}{} — {} completed, {} ok, {} failed, {} value mismatches, {} throttled, {} platform errors; elapsed {:.1} s",
        if summary["partial"].as_bool() == Some(true) {
            " (partial)"
        } else {
            ""
        },
        stats.completed,
        stats.succeeded(),
        stats.failed,
        stats.mismatches,
        stats.throttled,
        stats.platform_errors,
        summary["elapsed_ms"].as_f64().unwrap_or(0.0) / 1000.0
    );
    let cs = &summary["redis"]["cold_start"];
    if cs.is_object() {
        let f = |k: &str| cs[k].as_f64().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "Redis cold start: {:.1} ms (image {:.1} + create {:.1} + start {:.1} + ready {:.1}), {} keys restored; the paper: ~{:.0} ms",
            f("total_ms"),
            f("image_ms"),
            f("create_ms"),
            f("start_ms"),
            f("ready_ms"),
            cs["keys_restored"].as_u64().unwrap_or(0),
            paper::CONTAINER_START_MS
        );
    }
    if let Some(stop) = summary["redis"]["stop"].as_object() {
        let _ = writeln!(
            out,
            "Redis stop: {:.1} ms",
            stop.get("total_ms").and_then(|v| v.as_f64()).unwrap_or(0.0)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Per-invocation phase time (ms), n = {} (Tables 2 and 3 of the paper, with percentiles)",
        stats.succeeded()
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
            row(&phase_label(p, w.records), &stats.phase(p)),
            paper_cell(paper::openwhisk_redis(p)),
            paper_cell(paper::lambda_elasticache(p))
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Per-command latency (µs), merged over all invocations");
    let _ = writeln!(
        out,
        "{:<8}{:>10}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "command", "n", "mean", "p50", "p95", "p99", "p99.9", "max"
    );
    for (p, name) in [
        (PhaseName::Write, "SET"),
        (PhaseName::Read, "GET"),
        (PhaseName::Delete, "DEL"),
    ] {
        if let Some(c) = stats.command(p) {
            let _ = writeln!(
                out,
                "{name:<8}{:>10}{:>9.1}{:>9.0}{:>9.0}{:>9.0}{:>9.0}{:>9.0}",
                c.n, c.mean_us, c.p50_us, c.p95_us, c.p99_us, c.p999_us, c.max_us
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Platform (ms): {} cold, {} warm invocations",
        stats.cold_count(),
        stats.warm_count()
    );
    side(&mut out, "cold", &stats.cold);
    side(&mut out, "warm", &stats.warm);
    let _ = writeln!(out, "{}", row("engine overhead", &stats.overhead.summary()));
    let _ = writeln!(
        out,
        "  (engine overhead = client-side latency − the action's own total, per invocation)"
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "results: {results_dir} (run.json, invocations.csv)");
    out
}
