//! Pure statistics: running aggregates per phase, HDR histograms for percentiles, bounded
//! series for sparklines. Fed one [`Sample`] at a time (an activation, as the records layer
//! converts it); nothing rescans samples. This module imports nothing else of the crate.

pub mod arrivals;
pub mod ci;
pub mod open;
mod series;
mod summary;

pub use arrivals::{ArrivalKind, Arrivals};
pub use ci::MeanCi;
pub use open::{LATE_TOLERANCE_MS, OpenStats, Timing};
pub use series::Series;
pub use summary::{CommandLatency, CommandSummary, Metric, Summary};

use serde::Serialize;

use redwhisk_actions::BenchResult;

/// One invocation as the statistics see it: the platform's and the client's figures, and the
/// bench action's parsed result when it succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// 429 answers retried before the invocation was accepted, and the time they took (ms).
    pub throttled: u32,
    pub throttle_wait_ms: f64,
    /// Polls after a 202 and at most how much their granularity added (ms).
    pub polls: u32,
    pub poll_overhead_ms: f64,
    pub log_fetch_ms: Option<f64>,
    /// The platform ended it as an internal error (OpenWhisk: HTTP 500 with a record).
    pub internal_error: bool,
    pub cold: bool,
    /// The platform's duration, the client's request-to-response latency, `waitTime` and
    /// `initTime` (ms).
    pub duration_ms: f64,
    pub client_latency_ms: f64,
    pub wait_time_ms: Option<f64>,
    pub init_time_ms: Option<f64>,
    /// The bench action's result: `None` when the invocation failed or returned something else.
    pub bench: Option<BenchResult>,
    /// Open loop: the invocation's intended, sent and done times (`None` in a closed loop).
    pub open: Option<Timing>,
}

/// The bench action's phases, plus the platform-side figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseName {
    Connect,
    Write,
    Read,
    Delete,
    Total,
}

impl PhaseName {
    pub const ALL: [PhaseName; 5] = [
        PhaseName::Connect,
        PhaseName::Write,
        PhaseName::Read,
        PhaseName::Delete,
        PhaseName::Total,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PhaseName::Connect => "connect",
            PhaseName::Write => "write",
            PhaseName::Read => "read",
            PhaseName::Delete => "delete",
            PhaseName::Total => "total",
        }
    }

    fn of(self, r: &BenchResult) -> f64 {
        match self {
            PhaseName::Connect => r.connect_ms,
            PhaseName::Write => r.write_ms,
            PhaseName::Read => r.read_ms,
            PhaseName::Delete => r.delete_ms,
            PhaseName::Total => r.total_ms,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Platform-side timings, split cold and warm.
#[derive(Debug, Clone, Default)]
pub struct PlatformStats {
    pub duration: Metric,
    pub client_latency: Metric,
    pub wait_time: Metric,
    pub init_time: Metric,
}

/// Everything a run has seen so far.
#[derive(Debug, Clone)]
pub struct RunStats {
    phases: [Metric; 5],
    commands: [CommandLatency; 3],
    pub cold: PlatformStats,
    pub warm: PlatformStats,
    /// Engine overhead per invocation: client latency minus the action's own total.
    pub overhead: Metric,
    /// Per invocation that met at least one 429: the time spent waiting them out (ms), kept
    /// out of the client latency.
    pub throttle_wait: Metric,
    /// Per invocation answered 202: at most how much the polling granularity added to its
    /// client latency (ms).
    pub poll_overhead: Metric,
    /// Per invocation whose logs were fetched: the extra request's time (ms).
    pub log_fetch: Metric,
    /// Activations that ended as a whisk internal error (HTTP 500 with a record).
    pub whisk_errors: u64,
    pub completed: u64,
    pub failed: u64,
    pub mismatches: u64,
    pub command_errors: u64,
    pub throttled: u64,
    /// Invocations the platform could not complete (no activation record).
    pub platform_errors: u64,
    /// Redirections and retries the actions met on a cluster, summed (`None`: not a cluster).
    pub cluster: Option<redwhisk_actions::ClusterCounters>,
    /// Open loop only: latency from the intended start beside the uncorrected one, late starts.
    pub open: Option<OpenStats>,
    recent: [Series; 5],
    /// Every phase value, in completion order: the bootstrap intervals at the end of a run
    /// need the samples (8 bytes per phase and invocation).
    samples: [Vec<f64>; 5],
}

/// How many recent invocations the sparklines keep.
pub const RECENT: usize = 240;

impl Default for RunStats {
    fn default() -> Self {
        Self {
            phases: Default::default(),
            commands: Default::default(),
            cold: PlatformStats::default(),
            warm: PlatformStats::default(),
            overhead: Metric::new(),
            throttle_wait: Metric::new(),
            poll_overhead: Metric::new(),
            log_fetch: Metric::new(),
            whisk_errors: 0,
            completed: 0,
            failed: 0,
            mismatches: 0,
            command_errors: 0,
            throttled: 0,
            platform_errors: 0,
            cluster: None,
            open: None,
            recent: std::array::from_fn(|_| Series::new(RECENT)),
            samples: Default::default(),
        }
    }
}

impl RunStats {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fold one invocation in. Returns the parsed bench result when there was one.
    pub fn record(&mut self, sample: impl Into<Sample>) -> Option<BenchResult> {
        let a: Sample = sample.into();
        self.completed += 1;
        self.throttled += u64::from(a.throttled);
        if a.throttled > 0 {
            self.throttle_wait.record_ms(a.throttle_wait_ms);
        }
        if a.polls > 0 {
            self.poll_overhead.record_ms(a.poll_overhead_ms);
        }
        if let Some(ms) = a.log_fetch_ms {
            self.log_fetch.record_ms(ms);
        }
        if a.internal_error {
            self.whisk_errors += 1;
        }
        let side = if a.cold {
            &mut self.cold
        } else {
            &mut self.warm
        };
        side.duration.record_ms(a.duration_ms);
        side.client_latency.record_ms(a.client_latency_ms);
        if let Some(w) = a.wait_time_ms {
            side.wait_time.record_ms(w);
        }
        if let Some(i) = a.init_time_ms {
            side.init_time.record_ms(i);
        }
        if let Some(t) = &a.open {
            let phases = a.bench.as_ref().map(|r| PhaseName::ALL.map(|p| p.of(r)));
            self.open.get_or_insert_default().record(t, phases);
        }
        let Some(r) = a.bench else {
            self.failed += 1;
            return None;
        };
        for p in PhaseName::ALL {
            let v = p.of(&r);
            self.phases[p.index()].record_ms(v);
            self.recent[p.index()].push(v);
            if v.is_finite() && v >= 0.0 {
                self.samples[p.index()].push(v);
            }
        }
        self.commands[0].merge_buckets(&r.latency_us.write);
        self.commands[1].merge_buckets(&r.latency_us.read);
        self.commands[2].merge_buckets(&r.latency_us.delete);
        if let Some(c) = r.cluster {
            let t = self.cluster.get_or_insert_default();
            t.moved += c.moved;
            t.ask += c.ask;
            t.retries += c.retries;
            t.nodes = t.nodes.max(c.nodes);
        }
        self.mismatches += r.mismatches;
        self.command_errors += r.errors;
        if r.mismatches > 0 || r.errors > 0 {
            self.failed += 1;
        }
        self.overhead
            .record_ms((a.client_latency_ms - r.total_ms).max(0.0));
        Some(r)
    }

    /// Count an invocation the platform could not complete.
    pub fn record_platform_error(&mut self) {
        self.platform_errors += 1;
        self.failed += 1;
    }

    /// n, mean, std, min, p50, p95, p99, max of a phase across invocations (ms).
    pub fn phase(&self, p: PhaseName) -> Summary {
        self.phases[p.index()].summary()
    }

    /// Mean, coefficient of variation and both 95% intervals of a phase (ms). Resamples
    /// every value: call it once at the end of a run, not per frame.
    pub fn phase_ci(&self, p: PhaseName) -> MeanCi {
        MeanCi::of(&self.samples[p.index()])
    }

    /// Per-command latency of write, read or delete merged across invocations (µs).
    pub fn command(&self, p: PhaseName) -> Option<CommandSummary> {
        match p {
            PhaseName::Write => Some(self.commands[0].summary()),
            PhaseName::Read => Some(self.commands[1].summary()),
            PhaseName::Delete => Some(self.commands[2].summary()),
            _ => None,
        }
    }

    /// Commands of write, read and delete recorded so far (no percentile is computed).
    pub fn commands_recorded(&self) -> u64 {
        self.commands.iter().map(CommandLatency::count).sum()
    }

    /// Per-command counts per latency bin (see [`CommandLatency::bins`]) for write, read or
    /// delete.
    pub fn command_bins(&self, p: PhaseName, edges: &[u64]) -> Vec<u64> {
        match p {
            PhaseName::Write => self.commands[0].bins(edges),
            PhaseName::Read => self.commands[1].bins(edges),
            PhaseName::Delete => self.commands[2].bins(edges),
            _ => vec![0; edges.len()],
        }
    }

    /// The last [`RECENT`] values of a phase, oldest first (for sparklines).
    pub fn recent(&self, p: PhaseName) -> &Series {
        &self.recent[p.index()]
    }

    /// Invocations whose bench result parsed (the n of the phase tables).
    pub fn succeeded(&self) -> u64 {
        self.phases[PhaseName::Total.index()].count()
    }

    pub fn cold_count(&self) -> u64 {
        self.cold.duration.count()
    }

    pub fn warm_count(&self) -> u64 {
        self.warm.duration.count()
    }
}

/// A duration in (fractional) milliseconds: the unit of every timing in results and benches.
pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median of `samples` (the mean of the two middle values for an even count); NaN when
/// empty.
pub fn median(samples: &[f64]) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The `q`-quantile (0..=1) of `samples` (nearest rank), for reports.
pub fn quantile(samples: &[f64], q: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (q * v.len() as f64).ceil() as usize;
    v.get(rank.clamp(1, v.len()) - 1).copied()
}

#[cfg(test)]
mod tests;
