//! Comparing two runs (or a run and the paper): per phase and per command, both sides' mean,
//! p50 and p99, the ratio B/A with a 95% confidence interval, and a verdict.
//!
//! Method. Phases: every invocation's phase time is one observation; the ratio of means gets
//! a percentile bootstrap interval (each side resampled independently, [`ci::RESAMPLES`]
//! resamples, fixed seed [`ci::SEED`]). Commands: an invocation's commands are not
//! independent of each other, so whole invocations are resampled (a cluster bootstrap of the
//! pooled per-command mean). Against the paper, which published only mean ± std over 100
//! invocations, the interval is the delta method's normal approximation. The verdict is
//! "slower" or "faster" when the interval excludes 1, "no significant difference" otherwise.
//! Pure: reading the runs is the caller's business.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::paper;
use crate::results::RunRecord;
use crate::stats::ci::{self, Cluster, Interval};
use crate::stats::{CommandLatency, PhaseName};
use redwhisk_actions::BenchResult;

/// The phases compared, in table order.
pub const PHASES: [PhaseName; 5] = PhaseName::ALL;
/// The commands compared and the phase whose buckets hold them.
pub const COMMANDS: [(&str, PhaseName); 3] = [
    ("SET", PhaseName::Write),
    ("GET", PhaseName::Read),
    ("DEL", PhaseName::Delete),
];

/// One side's per-invocation data.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub label: String,
    /// Per phase, every successful invocation's time (ms).
    phases: [Vec<f64>; 5],
    /// Per command, every invocation's (Σ latency µs, count).
    commands: [Vec<Cluster>; 3],
    /// Per command, the merged histogram (for p50/p99).
    hists: [CommandLatency; 3],
    /// Published mean ± std and n instead of samples (the paper).
    published: Option<Published>,
    /// An open-loop run's target rate (`None`: a closed loop, as the paper's).
    pub open_rate: Option<f64>,
    /// Open loop: every invocation's corrected and uncorrected latency (ms).
    open: [Vec<f64>; 2],
}

#[derive(Debug, Clone, Copy)]
struct Published {
    which: PaperTable,
    n: u64,
}

/// Which of the paper's tables stands in for a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PaperTable {
    /// Table 2: OpenWhisk + a Redis container.
    Openwhisk,
    /// Table 3: AWS Lambda + ElastiCache.
    Lambda,
}

impl PaperTable {
    fn figure(self, p: PhaseName) -> Option<paper::PaperFigure> {
        match self {
            PaperTable::Openwhisk => paper::openwhisk_redis(p),
            PaperTable::Lambda => paper::lambda_elasticache(p),
        }
    }

    fn label(self) -> &'static str {
        match self {
            PaperTable::Openwhisk => "paper Table 2 (OpenWhisk + Redis)",
            PaperTable::Lambda => "paper Table 3 (Lambda + ElastiCache)",
        }
    }
}

impl Side {
    /// A recorded run: every activation whose bench result parsed.
    pub fn from_run(label: impl Into<String>, run: &RunRecord) -> Self {
        let mut side = Side {
            label: label.into(),
            ..Side::default()
        };
        side.open_rate = run.summary.workload.open_loop.map(|o| o.rate);
        for a in &run.activations {
            if let Some(t) = &a.open {
                side.open[0].push(t.corrected_ms);
                side.open[1].push(t.uncorrected_ms);
            }
            let Some(r) = a.bench_result() else {
                continue;
            };
            side.push(&r);
        }
        side
    }

    fn loop_label(&self) -> String {
        match self.open_rate {
            Some(r) => format!("an open loop at {r}/s"),
            None => "a closed loop".into(),
        }
    }

    fn sample_stat(xs: &[f64]) -> Option<Stat> {
        if xs.is_empty() {
            return None;
        }
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Some(Stat {
            n: xs.len() as u64,
            mean: xs.iter().sum::<f64>() / xs.len() as f64,
            std: None,
            p50: Some(q(0.5)),
            p99: Some(q(0.99)),
        })
    }

    /// One invocation's bench result.
    pub fn push(&mut self, r: &BenchResult) {
        let values = [r.connect_ms, r.write_ms, r.read_ms, r.delete_ms, r.total_ms];
        for (samples, v) in self.phases.iter_mut().zip(values) {
            if v.is_finite() && v >= 0.0 {
                samples.push(v);
            }
        }
        let buckets = [
            &r.latency_us.write,
            &r.latency_us.read,
            &r.latency_us.delete,
        ];
        for (i, b) in buckets.into_iter().enumerate() {
            let (sum, count) = b.iter().fold((0.0, 0.0), |(s, c), [v, n]| {
                (s + *v as f64 * *n as f64, c + *n as f64)
            });
            if count > 0.0 {
                self.commands[i].push(Cluster { sum, count });
                self.hists[i].merge_buckets(b);
            }
        }
    }

    /// The paper's table: published means and standard deviations over its 100 invocations.
    pub fn paper(which: PaperTable) -> Self {
        Side {
            label: which.label().into(),
            published: Some(Published {
                which,
                n: u64::from(paper::INVOCATIONS),
            }),
            ..Side::default()
        }
    }

    fn phase_stat(&self, p: PhaseName) -> Option<Stat> {
        if let Some(pb) = self.published {
            let f = pb.which.figure(p)?;
            return Some(Stat {
                n: pb.n,
                mean: f.mean,
                std: Some(f.std),
                p50: None,
                p99: None,
            });
        }
        Self::sample_stat(&self.phases[p as usize])
    }
}

impl Side {
    fn command_stat(&self, i: usize) -> Option<Stat> {
        if self.published.is_some() || self.commands[i].is_empty() {
            return None;
        }
        let s = self.hists[i].summary();
        Some(Stat {
            n: s.n,
            mean: s.mean_us,
            std: None,
            p50: Some(s.p50_us),
            p99: Some(s.p99_us),
        })
    }
}

/// An open-loop run measures latency from intended starts; a closed loop cannot (coordinated
/// omission): their figures are not the same quantity. `Err` says so unless `allow_mixed`;
/// `Ok(Some(note))` is the warning printed when it is allowed.
pub fn check_loops(a: &Side, b: &Side, allow_mixed: bool) -> Result<Option<String>, String> {
    if a.open_rate.is_some() == b.open_rate.is_some() {
        return Ok(None);
    }
    let what = format!(
        "A is {} and B is {}: an open loop's latency includes queueing a closed loop never sees (coordinated omission), so the phases are not comparable like for like",
        a.loop_label(),
        b.loop_label()
    );
    if allow_mixed {
        Ok(Some(format!(
            "note: {what}; compared anyway (--allow-mixed-loops)"
        )))
    } else {
        Err(format!(
            "{what}. Compare two runs of the same kind, or pass --allow-mixed-loops to compare them anyway"
        ))
    }
}

/// One side's figures in a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub n: u64,
    pub mean: f64,
    /// Only for a published side (the paper gives mean ± std).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

/// What the interval says about B against A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// B's mean is lower and the interval lies below 1.
    Faster,
    /// B's mean is higher and the interval lies above 1.
    Slower,
    /// The interval contains 1.
    NoSignificantDifference,
    /// No interval (a side has fewer than two observations, or no figure).
    Unknown,
}

impl Change {
    pub fn of(ci: Option<Interval>) -> Change {
        match ci {
            Some(i) if i.hi < 1.0 => Change::Faster,
            Some(i) if i.lo > 1.0 => Change::Slower,
            Some(_) => Change::NoSignificantDifference,
            None => Change::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Change::Faster => "faster",
            Change::Slower => "slower",
            Change::NoSignificantDifference => "no significant difference",
            Change::Unknown => "unknown",
        }
    }
}

/// One compared quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `write` or `SET`.
    pub name: String,
    /// Milliseconds for phases, microseconds for commands.
    pub unit: String,
    pub a: Option<Stat>,
    pub b: Option<Stat>,
    /// mean(B) / mean(A).
    pub ratio: Option<f64>,
    pub ratio_ci: Option<Interval>,
    pub change: Change,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub level: f64,
    pub resamples: usize,
    pub seed: u64,
    /// How the intervals were computed.
    pub method: String,
    pub phases: Vec<Row>,
    pub commands: Vec<Row>,
    /// Both open loops: the invocation latency corrected and uncorrected (ms).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_loop: Vec<Row>,
    /// Why the two may not measure the same thing: a different workload or platform, or a run
    /// that did not finish (see [`workload_mismatches`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What differs between two runs beyond chance: concurrency, records, mode, platform, or an
/// outcome other than done. A ratio across such a difference measures the difference.
pub fn workload_mismatches(
    a: &crate::results::RunSummary,
    b: &crate::results::RunSummary,
) -> Vec<String> {
    let (wa, wb) = (&a.workload, &b.workload);
    let mut out = Vec::new();
    if wa.concurrency != wb.concurrency {
        out.push(format!(
            "concurrency differs: A {} against B {}",
            wa.concurrency, wb.concurrency
        ));
    }
    if wa.records != wb.records {
        out.push(format!(
            "records differ: A {} against B {}",
            wa.records, wb.records
        ));
    }
    if wa.mode != wb.mode {
        out.push(format!(
            "mode differs: A {} against B {}",
            wa.mode.as_str(),
            wb.mode.as_str()
        ));
    }
    if a.platform != b.platform {
        out.push(format!(
            "platform differs: A {} against B {}",
            a.platform, b.platform
        ));
    }
    for (side, s) in [("A", a), ("B", b)] {
        if s.outcome != crate::model::Phase::Done {
            out.push(format!(
                "{side} was {} after {} invocations: its figures are partial",
                s.outcome.as_str(),
                s.summary.completed
            ));
        }
    }
    out
}

/// The delta method's interval for mB/mA from published mean ± std (normal approximation).
fn delta_ratio(a: Stat, b: Stat, a_std: f64, b_std: f64) -> Option<Interval> {
    if a.mean <= 0.0 || b.mean <= 0.0 || a.n < 2 || b.n < 2 {
        return None;
    }
    let r = b.mean / a.mean;
    let rel = (a_std * a_std / a.n as f64) / (a.mean * a.mean)
        + (b_std * b_std / b.n as f64) / (b.mean * b.mean);
    let half = 1.959_963_984_540_054 * r * rel.sqrt();
    Some(Interval {
        lo: r - half,
        hi: r + half,
    })
}

fn sample_std(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Compare B against A.
pub fn compare(a: &Side, b: &Side) -> Comparison {
    let published = a.published.is_some() || b.published.is_some();
    let phases = PHASES
        .iter()
        .map(|&p| {
            let (sa, sb) = (a.phase_stat(p), b.phase_stat(p));
            let ratio = match (sa, sb) {
                (Some(x), Some(y)) if x.mean > 0.0 => Some(y.mean / x.mean),
                _ => None,
            };
            let ratio_ci = match (sa, sb) {
                (Some(x), Some(y)) if published => {
                    let std = |side: &Side, s: Stat| {
                        s.std
                            .unwrap_or_else(|| sample_std(&side.phases[p as usize]))
                    };
                    delta_ratio(x, y, std(a, x), std(b, y))
                }
                (Some(_), Some(_)) => {
                    ci::bootstrap_ratio(&a.phases[p as usize], &b.phases[p as usize])
                }
                _ => None,
            };
            Row {
                name: p.as_str().into(),
                unit: "ms".into(),
                a: sa,
                b: sb,
                ratio,
                ratio_ci,
                change: Change::of(ratio_ci),
            }
        })
        .collect();
    let commands = COMMANDS
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let (sa, sb) = (a.command_stat(i), b.command_stat(i));
            let ratio = match (sa, sb) {
                (Some(x), Some(y)) if x.mean > 0.0 => Some(y.mean / x.mean),
                _ => None,
            };
            let ratio_ci = ci::bootstrap_cluster_ratio(&a.commands[i], &b.commands[i]);
            Row {
                name: (*name).into(),
                unit: "µs".into(),
                a: sa,
                b: sb,
                ratio,
                ratio_ci,
                change: Change::of(ratio_ci),
            }
        })
        .collect();
    let open_loop = if a.open_rate.is_some() && b.open_rate.is_some() {
        ["corrected", "uncorrected"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let (sa, sb) = (Side::sample_stat(&a.open[i]), Side::sample_stat(&b.open[i]));
                let ratio = match (sa, sb) {
                    (Some(x), Some(y)) if x.mean > 0.0 => Some(y.mean / x.mean),
                    _ => None,
                };
                let ratio_ci = match (sa, sb) {
                    (Some(_), Some(_)) => ci::bootstrap_ratio(&a.open[i], &b.open[i]),
                    _ => None,
                };
                Row {
                    name: (*name).into(),
                    unit: "ms".into(),
                    a: sa,
                    b: sb,
                    ratio,
                    ratio_ci,
                    change: Change::of(ratio_ci),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let method = if published {
        "phases: delta-method normal interval of the ratio of means from mean ± std (the paper published no samples); commands: not in the paper".to_string()
    } else {
        format!(
            "phases: percentile bootstrap of mean(B)/mean(A) over invocations; commands: cluster bootstrap over invocations of the pooled per-command mean; {} resamples, seed {:#x}",
            ci::RESAMPLES,
            ci::SEED
        )
    };
    Comparison {
        a: a.label.clone(),
        b: b.label.clone(),
        level: ci::LEVEL,
        resamples: ci::RESAMPLES,
        seed: ci::SEED,
        method,
        phases,
        commands,
        open_loop,
        warnings: Vec::new(),
    }
}

impl Comparison {
    /// The rows that are significantly slower by more than `pct` percent (for CI gating).
    pub fn slower_than(&self, pct: f64) -> Vec<&Row> {
        self.phases
            .iter()
            .chain(&self.commands)
            .filter(|r| {
                r.change == Change::Slower && r.ratio.is_some_and(|x| x > 1.0 + pct / 100.0)
            })
            .collect()
    }

    /// The text table.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "A: {}\nB: {}", self.a, self.b);
        let _ = writeln!(
            out,
            "ratio = mean(B) / mean(A) with a {:.0}% confidence interval; {}",
            self.level * 100.0,
            self.method
        );
        let section = |out: &mut String, title: &str, rows: &[Row]| {
            let _ = writeln!(out, "\n{title}");
            let _ = writeln!(
                out,
                "{:<8}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>8}{:>22}  verdict",
                "", "A mean", "A p50", "A p99", "B mean", "B p50", "B p99", "B/A", "95% CI"
            );
            for r in rows {
                let num = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
                let _ = writeln!(
                    out,
                    "{:<8}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>8}{:>22}  {}",
                    r.name,
                    num(r.a.map(|s| s.mean)),
                    num(r.a.and_then(|s| s.p50)),
                    num(r.a.and_then(|s| s.p99)),
                    num(r.b.map(|s| s.mean)),
                    num(r.b.and_then(|s| s.p50)),
                    num(r.b.and_then(|s| s.p99)),
                    r.ratio.map_or_else(|| "—".into(), |v| format!("{v:.3}")),
                    r.ratio_ci
                        .map_or_else(|| "—".into(), |i| format!("{:.3} – {:.3}", i.lo, i.hi)),
                    r.change.label()
                );
            }
        };
        section(&mut out, "Per-invocation phase time (ms)", &self.phases);
        if self.commands.iter().any(|r| r.a.is_some() || r.b.is_some()) {
            section(&mut out, "Per-command latency (µs)", &self.commands);
        }
        if !self.open_loop.is_empty() {
            section(
                &mut out,
                "Open loop: invocation latency (ms), corrected = from the intended start, uncorrected = from the send",
                &self.open_loop,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redwhisk_actions::Mode;
    use redwhisk_actions::protocol::{PhaseLatency, RoundTrips};

    fn bench(write: f64, us: u64) -> BenchResult {
        BenchResult {
            action: "bench".into(),
            mode: Mode::Sequential,
            records: 10,
            value_size: 8,
            connect_ms: 0.5,
            write_ms: write,
            read_ms: 1.0,
            delete_ms: 1.0,
            total_ms: write + 2.5,
            mismatches: 0,
            errors: 0,
            round_trips: RoundTrips::default(),
            latency_us: PhaseLatency {
                write: vec![[us, 10]],
                read: vec![[20, 10]],
                delete: vec![[20, 10]],
            },
            cluster: None,
        }
    }

    fn side(label: &str, scale: f64) -> Side {
        let mut s = Side {
            label: label.into(),
            ..Side::default()
        };
        for i in 0..40 {
            let w = (10.0 + f64::from(i % 5)) * scale;
            s.push(&bench(w, (w * 10.0) as u64));
        }
        s
    }

    #[test]
    fn a_doubled_write_is_slower_and_the_rest_is_not() {
        let c = compare(&side("a", 1.0), &side("b", 2.0));
        let write = &c.phases[1];
        assert_eq!(write.name, "write");
        assert!((write.ratio.unwrap() - 2.0).abs() < 1e-9);
        assert!(write.ratio_ci.unwrap().contains(2.0));
        assert_eq!(write.change, Change::Slower);
        assert_eq!(c.phases[2].change, Change::NoSignificantDifference, "read");
        assert_eq!(c.commands[0].change, Change::Slower, "SET");
        assert_eq!(c.commands[1].change, Change::NoSignificantDifference, "GET");
        assert_eq!(c.slower_than(50.0).len(), 3, "write, total, SET");
        assert!(c.slower_than(150.0).is_empty());
        let back = compare(&side("b", 2.0), &side("a", 1.0));
        assert_eq!(back.phases[1].change, Change::Faster);
    }

    #[test]
    fn the_paper_has_no_samples_so_the_interval_is_the_delta_method() {
        let c = compare(&Side::paper(PaperTable::Openwhisk), &side("b", 1.0));
        assert!(c.method.contains("delta"));
        let write = &c.phases[1];
        assert_eq!(write.a.unwrap().mean, 178.56);
        assert_eq!(write.change, Change::Faster);
        assert_eq!(c.phases[0].change, Change::Unknown, "no connect figure");
        assert!(
            c.commands
                .iter()
                .all(|r| r.change == Change::Unknown || r.a.is_none())
        );
        assert!(c.text().contains("paper Table 2"));
    }

    #[test]
    fn delta_method_by_hand() {
        // 10 ± 2 (n 100) against 20 ± 4 (n 100): r = 2, se = 2·√(0.04/100·… ) → 2·√(0.0004 + 0.0004)
        let a = Stat {
            n: 100,
            mean: 10.0,
            std: Some(2.0),
            p50: None,
            p99: None,
        };
        let b = Stat { mean: 20.0, ..a };
        let i = delta_ratio(a, b, 2.0, 4.0).unwrap();
        let half = 1.959_963_984_540_054 * 2.0 * 0.0008f64.sqrt();
        assert!((i.lo - (2.0 - half)).abs() < 1e-12 && (i.hi - (2.0 + half)).abs() < 1e-12);
    }
}
