//! A sweep's records: one step per concurrency, and the whole sweep (`sweep.json`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A step reaching at least this share of the peak throughput counts as "there": the knee is the
/// smallest concurrency that gets there (beyond it, more concurrency buys latency, not work).
pub const KNEE_SHARE: f64 = 0.9;

/// The steps a sweep started from the console runs (`redwhisk sweep`'s default).
pub const CONSOLE_CONCURRENCIES: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// One concurrency's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepStep {
    pub concurrency: u32,
    pub invocations: u64,
    pub failed: u64,
    /// First invocation sent → last activation received, in ms.
    pub window_ms: f64,
    pub invocations_per_s: f64,
    /// SET + GET + DEL per second over the window (records × 3 per successful invocation).
    pub commands_per_s: f64,
    /// The action's own total (connect + write + read + delete), ms.
    pub total_p50_ms: f64,
    pub total_p95_ms: f64,
    pub total_p99_ms: f64,
    /// Per command, µs (merged HDR buckets).
    pub set_p50_us: f64,
    pub set_p99_us: f64,
    pub get_p50_us: f64,
    pub get_p99_us: f64,
    pub results_dir: PathBuf,
}

/// The whole sweep (sweep.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepReport {
    pub profile: String,
    pub backend: String,
    pub platform: String,
    pub records: u32,
    pub cpus: usize,
    pub steps: Vec<SweepStep>,
    /// The smallest concurrency with ≥ [`KNEE_SHARE`] of the peak invocations/s.
    pub knee: Option<u32>,
    pub peak_invocations_per_s: f64,
    pub cancelled: bool,
    pub results_dir: PathBuf,
}

/// The smallest concurrency reaching [`KNEE_SHARE`] of the peak throughput, and the peak.
pub fn knee(steps: &[SweepStep]) -> (Option<u32>, f64) {
    let peak = steps
        .iter()
        .map(|s| s.invocations_per_s)
        .fold(0.0_f64, f64::max);
    let knee = steps
        .iter()
        .filter(|s| peak > 0.0 && s.invocations_per_s >= KNEE_SHARE * peak)
        .map(|s| s.concurrency)
        .min();
    (knee, peak)
}
