//! One metric's running aggregate (Welford) plus an HDR histogram for percentiles.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Values are recorded in microseconds; the histogram keeps 3 significant digits.
const SIGFIGS: u8 = 3;
/// Up to an hour, in microseconds.
const MAX_US: u64 = 3_600_000_000;

/// n, mean, sample std-dev, min, percentiles, max — all in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 when n < 2.
    pub std: f64,
    pub min: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// A metric being accumulated. Recording is O(1); nothing rescans samples.
#[derive(Debug, Clone)]
pub struct Metric {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    hist: Histogram<u64>,
}

impl Default for Metric {
    fn default() -> Self {
        Self::new()
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, SIGFIGS)
        .or_else(|_| Histogram::new(SIGFIGS))
        .unwrap_or_else(|_| unreachable!("3 significant figures is a valid HDR configuration"))
}

impl Metric {
    pub fn new() -> Self {
        Self {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            hist: new_hist(),
        }
    }

    /// Record one value in milliseconds.
    pub fn record_ms(&mut self, ms: f64) {
        if !ms.is_finite() || ms < 0.0 {
            return;
        }
        self.n += 1;
        let delta = ms - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (ms - self.mean);
        self.min = self.min.min(ms);
        self.max = self.max.max(ms);
        self.hist.saturating_record(to_us(ms));
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn summary(&self) -> Summary {
        if self.n == 0 {
            return Summary::default();
        }
        let std = if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Summary {
            n: self.n,
            mean: self.mean,
            std,
            min: self.min,
            // HDR reports a bucket's highest equivalent value: keep it within the exact extremes.
            p50: quantile_ms(&self.hist, 0.50).clamp(self.min, self.max),
            p95: quantile_ms(&self.hist, 0.95).clamp(self.min, self.max),
            p99: quantile_ms(&self.hist, 0.99).clamp(self.min, self.max),
            max: self.max,
        }
    }
}

fn to_us(ms: f64) -> u64 {
    ((ms * 1000.0).round() as u64).max(1)
}

fn quantile_ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Per-command latency merged from many invocations' buckets (`[value_us, count]`).
#[derive(Debug, Clone)]
pub struct CommandLatency {
    hist: Histogram<u64>,
}

impl Default for CommandLatency {
    fn default() -> Self {
        Self { hist: new_hist() }
    }
}

/// Per-command percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct CommandSummary {
    pub n: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p95_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl CommandLatency {
    /// Commands recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Merge an action's buckets: counts are added, never percentiles averaged.
    pub fn merge_buckets(&mut self, buckets: &[[u64; 2]]) {
        for [value, count] in buckets {
            if *count > 0 {
                let _ = self.hist.record_n((*value).clamp(1, MAX_US), *count);
            }
        }
    }

    /// Counts per bin of `edges` (µs, ascending): bin i holds values in
    /// `edges[i]..edges[i+1]`, the last bin everything from the last edge up.
    pub fn bins(&self, edges: &[u64]) -> Vec<u64> {
        edges
            .iter()
            .enumerate()
            .map(|(i, &lo)| {
                let hi = edges.get(i + 1).map_or(MAX_US, |h| h.saturating_sub(1));
                if self.hist.is_empty() || hi < lo {
                    0
                } else {
                    self.hist.count_between(lo, hi)
                }
            })
            .collect()
    }

    pub fn summary(&self) -> CommandSummary {
        if self.hist.is_empty() {
            return CommandSummary::default();
        }
        CommandSummary {
            n: self.hist.len(),
            mean_us: self.hist.mean(),
            p50_us: self.hist.value_at_quantile(0.5) as f64,
            p95_us: self.hist.value_at_quantile(0.95) as f64,
            p99_us: self.hist.value_at_quantile(0.99) as f64,
            p999_us: self.hist.value_at_quantile(0.999) as f64,
            max_us: self.hist.max() as f64,
        }
    }
}
