//! A rate sweep's records: one open-loop run per arrival rate, and the saturation point (the
//! open-loop counterpart of a concurrency sweep's knee).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A step keeps up when its achieved rate is at least this share of the schedule's rate (and
/// at most 1/this: never far above it either).
pub const KEEPS_UP_SHARE: f64 = 0.95;

/// The rates a rate sweep started from the console runs (`w` with an open loop chosen).
pub const CONSOLE_RATES: [f64; 5] = [5.0, 10.0, 20.0, 40.0, 80.0];
/// The corrected p99 bound of a console rate sweep (ms).
pub const CONSOLE_P99_BOUND_MS: f64 = 250.0;

/// One rate's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RateStep {
    /// Target arrivals per second.
    pub rate: f64,
    pub invocations: u64,
    pub failed: u64,
    /// The schedule's own rate (the target for constant arrivals; by chance off it for
    /// Poisson) and the rate invocations actually started at.
    pub scheduled_rate: f64,
    pub achieved_rate: f64,
    pub late_starts: u64,
    pub corrected_p50_ms: f64,
    pub corrected_p99_ms: f64,
    pub uncorrected_p50_ms: f64,
    pub uncorrected_p99_ms: f64,
    /// Achieved within 5% of the schedule and corrected p99 under the bound.
    pub sustained: bool,
    pub results_dir: PathBuf,
}

/// The whole rate sweep (`rate-sweep.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateSweepReport {
    pub profile: String,
    pub backend: String,
    pub platform: String,
    pub records: u32,
    pub arrivals: String,
    pub max_in_flight: u32,
    pub cpus: usize,
    /// The corrected p99 a sustained rate must stay under (ms).
    pub p99_bound_ms: f64,
    pub steps: Vec<RateStep>,
    /// The highest sustained rate.
    pub saturation: Option<f64>,
    pub cancelled: bool,
    pub results_dir: PathBuf,
}

/// Whether a step with these figures sustains its rate under `p99_bound_ms`.
pub fn sustained(scheduled: f64, achieved: f64, corrected_p99_ms: f64, bound_ms: f64) -> bool {
    scheduled > 0.0
        && achieved >= KEEPS_UP_SHARE * scheduled
        && achieved <= scheduled / KEEPS_UP_SHARE
        && corrected_p99_ms < bound_ms
}

/// The highest rate among the sustained steps.
pub fn saturation(steps: &[RateStep]) -> Option<f64> {
    steps
        .iter()
        .filter(|s| s.sustained)
        .map(|s| s.rate)
        .fold(None, |m, r| Some(m.map_or(r, |m: f64| m.max(r))))
}
