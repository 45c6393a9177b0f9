//! The typed `run.json`: what a run of case study 1 produced, written by the engine and read
//! back by the text report, `--output json` and anything that later opens `run.json`.
//!
//! The writer serialises [`RunSummary`]; every reader deserialises the same struct, so a field
//! renamed here without updating its readers does not compile:
//!
//! ```
//! # fn main() -> Result<(), redwhisk::results::ReadError> {
//! let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run-v1.json")).map_err(redwhisk::results::ReadError::from)?;
//! let run = redwhisk::results::RunSummary::from_json(&text)?;
//! let write_mean: f64 = run.summary.phases_ms.write.mean;
//! assert!(write_mean > 0.0);
//! # Ok(()) }
//! ```
//!
//! The same reader with a field name the type does not have (as after a rename) is refused by
//! the compiler (this doctest passes only because it fails to compile):
//!
//! ```compile_fail,E0609
//! # fn main() -> Result<(), redwhisk::results::ReadError> {
//! let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run-v1.json")).map_err(redwhisk::results::ReadError::from)?;
//! let run = redwhisk::results::RunSummary::from_json(&text)?;
//! let write_mean: f64 = run.summary.phases.write.mean;
//! assert!(write_mean > 0.0);
//! # Ok(()) }
//! ```

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::phase::Phase;
use super::redis::{ColdStart, StopReport};
use super::workload::Mode;
use crate::paper::PaperFigure;
use crate::stats::{ArrivalKind, CommandSummary, MeanCi, PhaseName, Summary};

/// The layout of `run.json` this build writes and reads (see `schema/run.schema.json`).
pub const RUN_SCHEMA: &str = "redwhisk.run/1";

/// Why a results file could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the results file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the results file is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the results file has no `schema` field: it was not written by redwhisk")]
    NoSchema,
    #[error(
        "unsupported results format `{found}`: this redwhisk reads `{supported}` (re-run the experiment with this version, or use the redwhisk that wrote it)"
    )]
    UnsupportedSchema {
        found: String,
        supported: &'static str,
    },
}

/// Check a document's `schema` field before reading it as a whole, so an older or newer file
/// gets a clear message rather than "missing field".
pub(crate) fn check_schema(text: &str, supported: &'static str) -> Result<(), ReadError> {
    #[derive(Deserialize)]
    struct Head {
        schema: Option<String>,
    }
    let head: Head = serde_json::from_str(text)?;
    match head.schema {
        None => Err(ReadError::NoSchema),
        Some(s) if s == supported => Ok(()),
        Some(found) => Err(ReadError::UnsupportedSchema { found, supported }),
    }
}

/// Everything in `run.json` except the activations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Always [`RUN_SCHEMA`] when written by this build.
    pub schema: String,
    pub redwhisk_version: String,
    /// `case-study-1`.
    pub experiment: String,
    /// `done` or `cancelled`.
    pub outcome: Phase,
    /// The run did not complete every planned invocation.
    pub partial: bool,
    /// redwhisk was killed mid-run and `results repair` finalised what it had streamed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub elapsed_ms: f64,
    pub host: HostInfo,
    pub profile: ProfileRecord,
    pub workload: WorkloadRecord,
    pub redis: RedisRecord,
    /// `local` or `openwhisk`.
    pub platform: String,
    pub summary: RunStatsSummary,
    pub paper: PaperRecord,
    /// Lambda runs: the bill priced from the profile, beside the VM's cost for the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<super::cost::CostRecord>,
}

/// The machine the run happened on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub kernel: String,
    pub cpus: usize,
}

impl HostInfo {
    /// Facts about this machine (empty strings where /proc does not tell).
    pub fn current() -> Self {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        Self {
            hostname: read("/proc/sys/kernel/hostname"),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            kernel: read("/proc/sys/kernel/osrelease"),
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

/// The profile the run used, as it was written (secrets redacted).
///
/// Only the name is typed: the rest is an echo of the profile for the record. A `Profile`
/// cannot be rebuilt from it (its secrets are `<redacted>`), and the figures a reader needs
/// are typed in [`WorkloadRecord`] and [`RedisRecord`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub name: String,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// The workload as run (after command-line overrides).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadRecord {
    pub action: String,
    /// Invocations planned.
    pub planned: u32,
    pub concurrency: u32,
    pub records: u32,
    pub value_size: u32,
    pub mode: Mode,
    /// Open loop: the schedule (absent for a closed loop of `concurrency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoopRecord>,
}

/// An open-loop workload as run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopRecord {
    /// Target arrivals per second.
    pub rate: f64,
    pub arrivals: ArrivalKind,
    pub max_in_flight: u32,
    /// The Poisson schedule's seed (recorded for constant arrivals too).
    pub seed: u64,
    /// A start later than this after its intended time counts as late (ms).
    pub late_tolerance_ms: f64,
}

/// What an open-loop run measured: rates, late starts, corrected and uncorrected latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopSummary {
    pub target_rate: f64,
    /// The schedule's own rate over its span (differs from the target by chance when Poisson).
    pub scheduled_rate: f64,
    /// (n − 1) starts over the span from the first intended start to the last actual start.
    pub achieved_rate: f64,
    /// Invocations with a recorded schedule (completed, with or without a bench result).
    pub invocations: u64,
    /// Starts more than `late_tolerance_ms` after their intended time, and their delays.
    pub late_starts: u64,
    pub late_delay_ms: Summary,
    /// Every start's delay (sent − intended, plus 429 waits).
    pub start_delay_ms: Summary,
    /// The whole invocation: from the intended start (corrected) and from the send.
    pub corrected_ms: Summary,
    pub uncorrected_ms: Summary,
    /// Per phase, the phase time plus the start delay (the uncorrected per-phase figures are
    /// `phases_ms`).
    pub phases_corrected_ms: Phases,
    /// Completions in each second after the first intended start.
    pub throughput_per_s: Vec<u64>,
}

impl OpenLoopSummary {
    /// The achieved rate as a share of the schedule's rate (1.0 = kept up).
    pub fn accuracy(&self) -> f64 {
        if self.scheduled_rate > 0.0 {
            self.achieved_rate / self.scheduled_rate
        } else {
            0.0
        }
    }
}

/// The Redis host: which backend, which persistence, how it started and stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisRecord {
    /// `process`, `docker` or `external`.
    pub backend: String,
    pub persistence: String,
    /// `None` for an external Redis, which redwhisk does not start.
    pub cold_start: Option<ColdStart>,
    /// `None` when Redis did not stop cleanly.
    pub stop: Option<StopReport>,
    /// Why Redis did not stop cleanly (`None` when it did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_error: Option<String>,
    /// `[redis.network_emulation]`: the path the functions took and the RTT measured through
    /// it before the run (also when the run adopted a running Redis and its proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_emulation: Option<super::network::NetworkRecord>,
    /// Keys with the run's own prefix (`workload.key_prefix` + `:`) already in Redis when it
    /// started: left by an earlier run cancelled or killed mid-invocation (counted only when
    /// Redis held keys; `None` otherwise, and for a cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_keys_at_start: Option<u64>,
    /// A cancelled run's own keys deleted before the final save (SCAN + UNLINK of its prefix),
    /// so they are not saved into the data set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_keys_deleted: Option<u64>,
}

/// The statistics of a run; also what `redwhisk run --output json` prints under `summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatsSummary {
    pub completed: u64,
    /// Invocations whose bench result parsed (the n of the phase table).
    pub succeeded: u64,
    pub failed: u64,
    pub mismatches: u64,
    pub command_errors: u64,
    pub throttled: u64,
    /// Invocations the platform could not complete (no activation record).
    pub platform_errors: u64,
    pub phases_ms: Phases,
    pub per_command_us: Commands,
    pub platform: PlatformTimings,
    /// Client-side latency minus the action's own total, per invocation.
    pub engine_overhead_ms: Summary,
    /// Each phase mean with its 95% intervals and coefficient of variation (absent in files
    /// written before they were added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_ci_ms: Option<PhaseIntervals>,
    /// What the OpenWhisk client spent outside the client latency, and the whisk internal
    /// errors (absent in files written before they were added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientWaits>,
    /// On a Redis Cluster: MOVED and ASK redirections and retries the actions met, summed over
    /// the invocations, and the most masters one of them knew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<redwhisk_actions::ClusterCounters>,
    /// Open-loop runs only: target vs achieved rate, late starts, corrected latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoopSummary>,
}

/// Time the client spent around the invocations that is not their latency, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClientWaits {
    /// Per invocation that met a 429: the time waiting them out (kept out of the latency).
    pub throttle_wait_ms: Summary,
    /// Per invocation answered 202: at most how much polling granularity added to its latency.
    pub poll_overhead_ms: Summary,
    /// Per invocation whose logs were fetched (`platform.fetch_logs`): the extra request.
    pub log_fetch_ms: Summary,
    /// Activations that ended as a whisk internal error (HTTP 500 with a record).
    pub whisk_errors: u64,
}

/// Each phase mean's 95% confidence intervals (parametric t and percentile bootstrap, as SeBS
/// reports them) and coefficient of variation, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhaseIntervals {
    /// The confidence level (0.95).
    pub level: f64,
    /// Bootstrap resamples per interval.
    pub resamples: usize,
    /// The bootstrap's fixed seed.
    pub seed: u64,
    pub connect: MeanCi,
    pub write: MeanCi,
    pub read: MeanCi,
    pub delete: MeanCi,
    pub total: MeanCi,
}

impl PhaseIntervals {
    pub fn get(&self, p: PhaseName) -> &MeanCi {
        match p {
            PhaseName::Connect => &self.connect,
            PhaseName::Write => &self.write,
            PhaseName::Read => &self.read,
            PhaseName::Delete => &self.delete,
            PhaseName::Total => &self.total,
        }
    }
}

/// One summary per bench phase, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    pub connect: Summary,
    pub write: Summary,
    pub read: Summary,
    pub delete: Summary,
    pub total: Summary,
}

impl Phases {
    pub fn get(&self, p: PhaseName) -> &Summary {
        match p {
            PhaseName::Connect => &self.connect,
            PhaseName::Write => &self.write,
            PhaseName::Read => &self.read,
            PhaseName::Delete => &self.delete,
            PhaseName::Total => &self.total,
        }
    }
}

/// Per-command latency merged over all invocations, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Commands {
    pub write: CommandSummary,
    pub read: CommandSummary,
    pub delete: CommandSummary,
}

/// Platform-side timings, split cold and warm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlatformTimings {
    pub cold: PlatformSide,
    pub warm: PlatformSide,
}

/// One side (cold or warm) of the platform timings, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlatformSide {
    /// Invocations on this side.
    pub count: u64,
    pub duration_ms: Summary,
    pub client_latency_ms: Summary,
    /// OpenWhisk's `waitTime` annotation (n = 0 where the platform does not report it).
    pub wait_time_ms: Summary,
    /// OpenWhisk's `initTime` annotation (cold starts only).
    pub init_time_ms: Summary,
}

/// The paper's figures, stored beside ours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PaperRecord {
    pub openwhisk_redis_ms: PaperPhases,
    pub lambda_elasticache_ms: PaperPhases,
    pub container_start_ms: f64,
    pub records: u32,
    pub invocations: u32,
}

/// The paper's figure per phase, where it reported one.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PaperPhases {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<PaperFigure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<PaperFigure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<PaperFigure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<PaperFigure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<PaperFigure>,
}

impl PaperPhases {
    /// Build from a per-phase lookup (one of the `paper` tables).
    pub fn from_fn(f: impl Fn(PhaseName) -> Option<PaperFigure>) -> Self {
        Self {
            connect: f(PhaseName::Connect),
            write: f(PhaseName::Write),
            read: f(PhaseName::Read),
            delete: f(PhaseName::Delete),
            total: f(PhaseName::Total),
        }
    }

    pub fn get(&self, p: PhaseName) -> Option<PaperFigure> {
        match p {
            PhaseName::Connect => self.connect,
            PhaseName::Write => self.write,
            PhaseName::Read => self.read,
            PhaseName::Delete => self.delete,
            PhaseName::Total => self.total,
        }
    }
}

impl RunSummary {
    /// Parse a `run.json` (or the `--output json` document); the activations, when present,
    /// are skipped. Refuses other schema versions with [`ReadError::UnsupportedSchema`].
    pub fn from_json(text: &str) -> Result<Self, ReadError> {
        check_schema(text, RUN_SCHEMA)?;
        Ok(serde_json::from_str(text)?)
    }

    /// Read `<dir>/run.json` or a `run.json` path.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        Self::from_json(&std::fs::read_to_string(run_json_path(path))?)
    }
}

/// The whole `run.json`: the summary and every activation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub activations: Vec<Activation>,
}

impl RunRecord {
    pub fn from_json(text: &str) -> Result<Self, ReadError> {
        check_schema(text, RUN_SCHEMA)?;
        Ok(serde_json::from_str(text)?)
    }

    /// Read `<dir>/run.json` or a `run.json` path.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        Self::from_json(&std::fs::read_to_string(run_json_path(path))?)
    }
}

fn run_json_path(path: &Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join("run.json")
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = include_str!("../../tests/fixtures/run-v1.json");

    #[test]
    fn a_run_json_of_the_first_format_reads_back() {
        let run = RunRecord::from_json(V1).unwrap();
        assert_eq!(run.summary.schema, RUN_SCHEMA);
        assert_eq!(run.summary.outcome, Phase::Done);
        assert_eq!(run.summary.workload.planned, 2);
        assert_eq!(run.summary.summary.completed, 2);
        assert_eq!(run.summary.summary.per_command_us.write.n, 10);
        assert_eq!(run.activations.len(), 2);
        assert!(run.summary.redis.cold_start.is_some());
        assert_eq!(
            run.summary.paper.openwhisk_redis_ms.write.map(|f| f.mean),
            Some(178.56)
        );
        assert!(run.summary.paper.openwhisk_redis_ms.connect.is_none());
    }

    #[test]
    fn writing_what_was_read_gives_the_same_document() {
        let run = RunRecord::from_json(V1).unwrap();
        let again: serde_json::Value = serde_json::to_value(&run).unwrap();
        let original: serde_json::Value = serde_json::from_str(V1).unwrap();
        assert_eq!(again, original);
    }

    #[test]
    fn other_schema_versions_are_refused_with_a_clear_error() {
        let v2 = V1.replacen("redwhisk.run/1", "redwhisk.run/2", 1);
        let err = RunSummary::from_json(&v2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported results format `redwhisk.run/2`: this redwhisk reads `redwhisk.run/1` (re-run the experiment with this version, or use the redwhisk that wrote it)"
        );
        let err = RunSummary::from_json(r#"{"a": 1}"#).unwrap_err();
        assert!(matches!(err, ReadError::NoSchema), "{err}");
    }
}
